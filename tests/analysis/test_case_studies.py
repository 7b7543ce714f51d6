"""The five case studies: baseline KPIs plausible against published figures and each thesis's own
account, and each thesis's countermeasures moving the KPIs they target in the right direction.

Every arm of a case runs with the same seeds (common random numbers), so a difference between
arms is the policy, not the noise; each figure is the mean over SEEDS of a run of DAYS measured
working days after the scenario's warm-up. Sources of the bands:
- Zhejiang, end 2017 (official claim): 87.9% "run at most once" achievement rate, 94.7% satisfaction.
- Shanghai, 2019 (official): 55.32% of 24.89 million cases handled with at most one visit;
  83.97% online handling rate in 2022 (not matched: see the note in shanghai_x_district.toml).
- A Beijing district (official): mean hall waits fell from 15 to 8-10 minutes after one-window reform.
- CNNIC: rural residents were 59.8% of non-internet users (March 2020), people aged 60+ 41.9%
  (June 2023) — far above their population shares, so both groups use the online channel less.
- The theses' own accounts, quoted in each scenario's header and provenance.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from scenarios import shipped_countermeasures
from simulation import ServiceModel, load_scenario

DAYS = 120
SEEDS = (1, 2, 3)
CASES = ("shanghai_x_district", "chongqing", "shayan_town", "q_county", "restrictive_factors")
ZHEJIANG_AT_MOST_ONCE = 0.879
SHANGHAI_AT_MOST_ONCE_2019 = 0.5532
BEIJING_WAIT_BEFORE_REFORM = 15.0


@cache
def runs(case: str, overlays: tuple[str, ...] = ()) -> list[dict[str, float]]:
    """KPIs of one arm of a case, one dict per common seed."""
    scenario = load_scenario(case, list(overlays))
    return [ServiceModel(scenario, seed=seed).run(DAYS) for seed in SEEDS]


def kpis(case: str, overlays: tuple[str, ...] = ()) -> dict[str, float]:
    """Mean KPIs of one arm over the common seeds."""
    arm = runs(case, overlays)
    return {key: float(np.mean([r[key] for r in arm])) for key in arm[0]}


def overlays_of(case: str) -> list[str]:
    return [name for name in shipped_countermeasures() if name.startswith(f"{case}/")]


# ---- baselines against published figures and the theses' accounts -----------------------------

@pytest.mark.parametrize("case", ("baseline", *CASES))
def test_simple_matters_are_more_online_than_complex_ones_in_every_case(case):
    # every source thesis (Shanghai X District in particular): online handling is dominated by
    # simple matters; it holds in each seed, not only on average
    for k in runs(case):
        assert k["online_share_simple"] > k["online_share_complex"], k


@pytest.mark.parametrize("case", CASES)
def test_rural_and_elderly_use_the_online_channel_less_in_every_case(case):
    # CNNIC: rural residents 59.8% and people aged 60+ 41.9% of non-internet users
    k = kpis(case)
    assert k["online_share_gap_rural"] > 0 and k["online_share_gap_elderly"] > 0, k


def test_q_county_run_at_most_once_is_high_and_its_countermeasures_approach_zhejiang_claim():
    base = kpis("q_county")
    # the county runs "run at most once" already (thesis), but below the official 87.9%, which
    # counts only matters declared achievable
    assert 0.5 <= base["share_at_most_once"] < ZHEJIANG_AT_MOST_ONCE, base
    stacked = kpis("q_county", tuple(overlays_of("q_county")))
    assert abs(stacked["share_at_most_once"] - ZHEJIANG_AT_MOST_ONCE) <= 0.1, stacked
    # toward the official 94.7% satisfaction, from the thesis's weaker starting point
    assert base["share_satisfied"] < stacked["share_satisfied"] < 0.947 + 0.05
    # thesis: low awareness and use among citizens and firms
    assert base["online_share"] < kpis("baseline")["online_share"]


def test_q_county_ships_at_least_five_countermeasures():
    assert len(overlays_of("q_county")) >= 5


def test_shanghai_x_district_online_use_is_small_and_dominated_by_simple_matters():
    k = kpis("shanghai_x_district")
    assert k["online_share_simple"] > 1.2 * k["online_share_complex"], k
    assert k["online_share"] < 0.4, k  # "the volume handled online is small" (thesis)
    assert k["share_satisfied"] >= 0.6, k  # "staff and public fairly satisfied" (thesis)
    # a national demonstration district at or above Shanghai's 2019 citywide 55.32%
    assert SHANGHAI_AT_MOST_ONCE_2019 <= k["share_at_most_once"] <= 0.95, k
    # offline efficiency stalls but the hall is not worse than Beijing's pre-reform 15 minutes
    assert k["wait_minutes_mean"] <= BEIJING_WAIT_BEFORE_REFORM, k


def test_chongqing_has_a_clear_rural_gap_and_little_participation():
    k, base = kpis("chongqing"), kpis("baseline")
    assert k["online_share_gap_rural"] >= 0.05, k  # "urban bias and a rural gap" (thesis)
    assert k["online_share_gap_rural"] > base["online_share_gap_rural"]
    assert k["rating_participation"] < base["rating_participation"]  # "little participation"


def test_shayan_town_resubmits_materials_and_fails_online_far_more_than_the_baseline_county():
    k, base = kpis("shayan_town"), kpis("baseline")
    # thesis: data not exchanged, so citizens submit the same materials again and again
    assert k["resubmissions_per_case"] >= 1.5 * base["resubmissions_per_case"], k
    # thesis: platform functions exist but cannot really be used
    assert k["online_failure_rate"] >= base["online_failure_rate"] + 0.15, k
    # thesis: a poor service level; waits beyond Beijing's pre-reform 15 minutes
    assert k["satisfaction_mean"] < base["satisfaction_mean"]
    assert k["wait_minutes_mean"] >= BEIJING_WAIT_BEFORE_REFORM, k


def test_restrictive_factors_county_does_worse_than_the_baseline_county():
    k, base = kpis("restrictive_factors"), kpis("baseline")
    assert k["satisfaction_mean"] < base["satisfaction_mean"]
    assert k["online_share"] < base["online_share"]


# ---- countermeasures under common random numbers -------------------------------------------------

# (case/overlay, KPI, direction): each row is what the thesis says the countermeasure addresses
TARGETS = [
    ("q_county/leader_responsibility", "visits_per_case", -1),
    ("q_county/leader_responsibility", "days_to_complete_mean", -1),
    ("q_county/staff_training", "satisfaction_mean", +1),
    ("q_county/staff_training", "wait_minutes_mean", -1),
    ("q_county/evaluation_supervision", "rating_participation", +1),
    ("q_county/evaluation_supervision", "satisfaction_mean", +1),
    ("q_county/infrastructure", "online_failure_rate", -1),
    ("q_county/infrastructure", "online_share", +1),
    ("q_county/village_extension", "visits_gap_elderly", -1),
    ("q_county/village_extension", "wait_minutes_mean", -1),
    ("q_county/publicity_education", "online_share", +1),
    ("q_county/integrated_network", "resubmissions_per_case", -1),
    ("shanghai_x_district/integration_depth", "online_share_complex", +1),
    ("shanghai_x_district/integration_depth", "visits_per_case", -1),
    ("shanghai_x_district/organisational_boundaries", "days_to_complete_mean", -1),
    ("shanghai_x_district/organisational_boundaries", "resubmissions_per_case", -1),
    ("shanghai_x_district/service_reach", "visits_gap_elderly", -1),
    ("shanghai_x_district/service_reach", "wait_minutes_mean", -1),
    ("shanghai_x_district/feedback_platform", "satisfaction_mean", +1),
    ("shanghai_x_district/feedback_platform", "rating_participation", +1),
    ("chongqing/holistic_government", "wait_minutes_mean", -1),
    ("chongqing/holistic_government", "visits_per_case", -1),
    ("chongqing/data_collaboration", "resubmissions_per_case", -1),
    ("chongqing/data_collaboration", "visits_per_case", -1),
    ("chongqing/urban_rural_integration", "online_share_gap_rural", -1),
    ("chongqing/urban_rural_integration", "visits_gap_elderly", -1),
    ("chongqing/polycentric_governance", "rating_participation", +1),
    ("chongqing/polycentric_governance", "online_share", +1),
    ("shayan_town/internal_mechanisms", "resubmissions_per_case", -1),
    ("shayan_town/internal_mechanisms", "visits_per_case", -1),
    ("shayan_town/institutional_system", "resubmissions_per_case", -1),
    ("shayan_town/institutional_system", "satisfaction_mean", +1),
    ("shayan_town/people_centred_service", "online_failure_rate", -1),
    ("shayan_town/people_centred_service", "satisfaction_mean", +1),
]


@pytest.mark.parametrize(("overlay", "kpi", "direction"), TARGETS,
                         ids=[f"{o}-{k}" for o, k, _ in TARGETS])
def test_countermeasure_moves_its_target_kpi_the_right_way(overlay, kpi, direction):
    case = overlay.split("/")[0]
    before, after = kpis(case)[kpi], kpis(case, (overlay,))[kpi]
    assert direction * (after - before) > 0, (overlay, kpi, before, after)
    # paired over the common seeds, the change goes the right way in most replications
    paired = [direction * (a[kpi] - b[kpi]) for a, b in zip(runs(case, (overlay,)), runs(case), strict=True)]
    assert sum(d > 0 for d in paired) >= 2, (overlay, kpi, paired)


def test_every_case_overlay_is_tested_and_every_case_has_overlays():
    tested = {overlay for overlay, _, _ in TARGETS}
    for case in CASES:
        if case == "restrictive_factors":
            continue  # a study, not a place: see scenarios/studies/restrictive_factors.toml
        assert overlays_of(case), case
        assert set(overlays_of(case)) <= tested, set(overlays_of(case)) - tested
