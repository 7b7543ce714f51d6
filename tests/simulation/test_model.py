"""The model as a Mesa model: determinism, agents, reporters and cost of idle citizens."""

from __future__ import annotations

import json

import mesa
import numpy as np
import pytest

from analysis.runs import kpis_json
from simulation import KPI_NAMES, ServiceModel
from simulation.agents import Citizen, Department, WindowStaff
from simulation.cases import DONE
from tests.simulation.conftest import small_scenario


def test_same_seed_gives_byte_identical_kpis_and_different_seeds_differ(small):
    a = kpis_json(ServiceModel(small, seed=5).run(30))
    b = kpis_json(ServiceModel(small, seed=5).run(30))
    c = kpis_json(ServiceModel(small, seed=6).run(30))
    assert a == b
    assert a != c


def test_seed_sequence_and_int_seed_are_both_accepted(small):
    ss = np.random.SeedSequence(5)
    assert kpis_json(ServiceModel(small, seed=ss).run(10)) == kpis_json(ServiceModel(small, seed=5).run(10))


def test_every_public_kpi_is_reported(small):
    kpis = ServiceModel(small, seed=1).run(40)
    assert set(KPI_NAMES) <= set(kpis)
    for key in KPI_NAMES:
        assert np.isfinite(kpis[key]), key
    assert 0 <= kpis["share_zero_visit"] <= kpis["share_at_most_once"] <= 1
    assert kpis["wait_minutes_p95"] >= kpis["wait_minutes_mean"] >= 0
    assert 1 <= kpis["satisfaction_mean"] <= 5
    assert json.loads(kpis_json(kpis)).keys() == kpis.keys()


def test_the_model_is_a_mesa_model_with_the_three_agent_types(small):
    model = ServiceModel(small, seed=1)
    assert isinstance(model, mesa.Model)
    assert len(model.agents_by_type[WindowStaff]) == len(model.staff) > 0
    assert len(model.agents_by_type[Department]) == len(small.departments)
    model.run(5)
    warm = small.scenario.warmup_days
    assert model.day == warm + 5 and model.steps == warm + 5
    daily = model.daily()
    assert len(daily) == 5 and len(model.daily(include_warmup=True)) == warm + 5 and set(KPI_NAMES) <= set(daily.columns)
    # each day's count of completions adds up to the run's total
    assert daily["cases_completed"].sum() == model.kpis()["cases_completed"]
    citizen = model.citizen(123)
    assert isinstance(citizen, Citizen) and citizen in model.agents
    assert citizen.age_band in ("18-39", "40-59", "60+")
    assert 0 <= citizen.awareness <= 1 and 0 <= citizen.trust <= 1
    assert model.citizen(123) is citizen
    with pytest.raises(IndexError):
        model.citizen(10**9)


def test_idle_citizens_are_never_touched(small):
    model = ServiceModel(small, seed=2)
    model.run(20)
    touched = np.count_nonzero(model.population.last_update > 0)
    # only citizens with a case, and the contacts they talked to, are ever updated
    tellers = np.count_nonzero(model.cases.stage[: model.cases.size] == DONE)
    bound = model.cases.size + tellers * small.behaviour.word_of_mouth_contacts
    assert 0 < touched <= bound < model.population.size


def test_lazy_awareness_equals_the_closed_form_of_daily_publicity():
    scenario = small_scenario(policy__publicity=1.0)
    model = ServiceModel(scenario, seed=3)
    i = 17
    before = model.population.awareness[i]
    model.day = 40
    after = model.citizen(i).awareness
    h = model.population.publicity_hazard
    # a daily hazard h applied 40 times in continuous time
    assert after == pytest.approx(1 - (1 - before) * np.exp(-h * 40))


def test_staff_learn_with_training(small):
    trained = ServiceModel(small_scenario(policy__staff_training=1.0), seed=4)
    untrained = ServiceModel(small, seed=4)
    trained.run(30)
    untrained.run(30)
    mean = lambda m: np.mean([s.competence for s in m.staff])  # noqa: E731
    assert mean(trained) > mean(untrained)


def test_ratings_change_attitude_only_when_feedback_is_on(small):
    on = ServiceModel(small_scenario(["evaluation_feedback"]), seed=4)
    off = ServiceModel(small, seed=4)
    start = np.mean([s.attitude for s in off.staff])
    on.run(40)
    off.run(40)
    assert np.mean([s.attitude for s in on.staff]) > start > np.mean([s.attitude for s in off.staff])


def test_cases_flow_to_completion_and_backlog_is_bounded(small):
    model = ServiceModel(small, seed=1)
    kpis = model.run(60)
    assert kpis["cases_completed"] > 0.8 * kpis["cases_opened"]
    assert kpis["overdue_share"] < 0.5


@pytest.mark.parametrize("overlays", [(), ("one_window", "parallel_approval")])
def test_every_case_in_the_back_office_is_queued_where_it_is_still_awaited(overlays):
    """Conservation of files: a case in the back office is in the queue of exactly the
    departments that have still to approve it (one, or all outstanding under joint approval),
    so none is lost, double-counted or left waiting on a department that already approved."""
    from simulation.cases import BACKOFFICE

    model = ServiceModel(small_scenario(overlays), seed=5)
    model.run(50)
    cases = model.cases
    in_back_office = np.flatnonzero(cases.stage[: cases.size] == BACKOFFICE)
    assert in_back_office.size > 0
    copies = np.zeros(cases.size, dtype=np.int64)
    for dept in model.departments:
        np.add.at(copies, dept.queued(), 1)
    assert np.all(copies[in_back_office] >= 1)
    joint = in_back_office[cases.route_pos[in_back_office]
                           >= model.catalogue.n_departments[cases.matter[in_back_office]]]
    if overlays:
        assert joint.size > 0
        np.testing.assert_array_equal(copies[joint], cases.pending[joint])
        assert np.all(cases.pending[joint] >= 1)
    else:
        assert joint.size == 0
        np.testing.assert_array_equal(copies[in_back_office], 1)


def test_a_finished_model_is_freed_so_replications_do_not_accumulate_memory(small):
    """mesa.Agent's class-level id counters hold every model alive; ours hold models weakly."""
    import gc
    import weakref

    model = ServiceModel(small, seed=1)
    model.run(3)
    model.citizen(0)
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_on_the_spot_matters_are_issued_at_the_window(small):
    """即办件 (no processing time, one department): a complete application at the hall is one
    visit; a matter with back-office processing needs a second trip to collect the result."""
    model = ServiceModel(small, seed=2)
    model.run(40)
    frame = model.cases.completed_frame(model.catalogue)
    clean_hall = frame[(frame["channel"] == "hall") & (frame["resubmissions"] == 0)]
    instant = {m for m, days, route in zip(model.catalogue.ids, model.catalogue.processing_days,
                                           model.catalogue.route, strict=True) if days == 0 and len(route) == 1}
    assert instant
    on_spot = clean_hall[clean_hall["matter"].isin(instant)]
    later = clean_hall[~clean_hall["matter"].isin(instant)]
    served_visits = lambda f: f["visits"] - f["unserved_visits"]  # noqa: E731 (balked or turned away)
    assert len(on_spot) > 20 and (served_visits(on_spot) == 1).all()
    assert (served_visits(later) >= 2).all()


def test_reallocation_keeps_every_department_window(small):
    """Re-splitting department windows from observed demand moves clerks, never loses one."""
    model = ServiceModel(small.with_updates({"hall.reallocate_every_days": 5}), seed=2)
    before = model.hall.dept_windows.sum()
    model.run(40)
    hall = model.hall
    assert hall.dept_windows.sum() == before
    assert sum(m.size for m in hall.pool_members) == hall.roster.size
    assert np.array_equal(np.sort(np.concatenate(hall.pool_members)), np.arange(hall.roster.size))
