"""Stylized facts from the reform literature, under common random numbers (same seeds per arm).

Each fact compares arms that differ in one lever only, run with the same seeds, so the
difference is the policy, not the noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import ServiceModel
from tests.simulation.conftest import small_scenario

SEEDS = (1, 2, 3)
DAYS = 60


def _runs(overlays=(), **updates):
    models = []
    for seed in SEEDS:
        model = ServiceModel(small_scenario(overlays, **updates), seed=seed)
        model.run(DAYS)
        models.append(model)
    return models


def _mean_kpi(models, key):
    return float(np.mean([m.kpis()[key] for m in models]))


def _multi_department_visits(model):
    frame = model.cases.completed_frame(model.catalogue)
    multi = {m for m, r in zip(model.catalogue.ids, model.catalogue.route, strict=True) if len(r) > 1}
    return frame.loc[frame["matter"].isin(multi), "visits"].mean()


def test_more_data_sharing_never_raises_visits_per_case():
    levels = (0.0, 0.3, 0.6, 0.9)
    visits = [_mean_kpi(_runs(policy__data_sharing=level), "visits_per_case") for level in levels]
    assert all(later <= earlier for earlier, later in zip(visits, visits[1:], strict=False)), visits
    assert visits[-1] < visits[0]


def test_more_comprehensive_windows_cut_visits_for_multi_department_matters():
    shares = (0.0, 0.5, 1.0)
    visits = [np.mean([_multi_department_visits(m) for m in _runs(policy__comprehensive_window_share=s)])
              for s in shares]
    assert visits[0] > visits[1] > visits[2], visits


def test_one_time_notification_cuts_resubmissions():
    without = _mean_kpi(_runs(), "resubmissions_per_case")
    with_notice = _mean_kpi(_runs(policy__one_time_notification=True), "resubmissions_per_case")
    assert with_notice < without


def test_publicity_raises_online_share():
    assert _mean_kpi(_runs(policy__publicity=0.8), "online_share") > _mean_kpi(_runs(), "online_share")


@pytest.fixture(scope="module")
def baseline_runs():
    return _runs()


def test_at_baseline_the_elderly_and_rural_use_online_less(baseline_runs):
    assert _mean_kpi(baseline_runs, "online_share_gap_elderly") > 0
    assert _mean_kpi(baseline_runs, "online_share_gap_rural") > 0


def test_digital_inclusion_narrows_the_elderly_online_gap(baseline_runs):
    inclusive = _runs(["digital_inclusion"])
    assert (_mean_kpi(inclusive, "online_share_gap_elderly")
            < _mean_kpi(baseline_runs, "online_share_gap_elderly"))


def test_run_at_most_once_raises_the_share_handled_with_at_most_one_visit(baseline_runs):
    reform = _runs(["run_at_most_once"])
    assert _mean_kpi(reform, "share_at_most_once") > _mean_kpi(baseline_runs, "share_at_most_once") + 0.2


def _multi_department_days(model):
    frame = model.cases.completed_frame(model.catalogue)
    multi = {m for m, r in zip(model.catalogue.ids, model.catalogue.route, strict=True) if len(r) > 1}
    return frame.loc[frame["matter"].isin(multi), "days_to_complete"].mean()


def test_joint_approval_shortens_multi_department_matters():
    """并联审批: departments review at once instead of one after another."""
    sequential = np.mean([_multi_department_days(m) for m in _runs(["one_window"])])
    joint = np.mean([_multi_department_days(m) for m in _runs(["one_window", "parallel_approval"])])
    assert joint < sequential
