"""The full model reduced to an M/M/c hall reproduces Erlang C and Little's law."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.queueing import erlang_c, erlang_c_wait
from simulation.validation import DEFAULT_SETTINGS, check_mmc, mmc_scenario


@pytest.mark.parametrize(("lam", "mu", "c"), [s for s in DEFAULT_SETTINGS if s[0] / (s[1] * s[2]) < 0.9])
def test_model_hall_matches_erlang_c_and_littles_law(lam, mu, c):
    check = check_mmc(lam, mu, c, days=30, seed=11)
    assert check.customers > 10_000
    assert abs(check.p_wait_sim - check.p_wait_theory) <= 4 * check.p_wait_se
    assert abs(check.wait_sim - check.wait_theory) <= 4 * check.wait_se
    assert abs(check.in_system_sim - check.in_system_little) <= 4 * check.in_system_se
    assert check.passed


def test_a_hall_open_around_the_clock_carries_its_queue_and_matches_erlang_c_at_heavy_load():
    """M/M/1 at rho = 0.95: Wq = rho / (mu - lambda) = 19 minutes (Erlang C with c = 1). Only a
    queue carried across midnight gets there; pooled over independent seeds."""
    checks = [check_mmc(0.95, 1.0, 1, days=150, seed=seed) for seed in (1, 2, 3, 4)]
    mean = np.mean([c.wait_sim for c in checks])
    se = np.sqrt(np.sum([c.wait_se ** 2 for c in checks])) / len(checks)
    assert erlang_c_wait(0.95, 1.0, 1) == pytest.approx(19.0)
    assert abs(mean - 19.0) <= 4 * se
    assert abs(np.mean([c.p_wait_sim for c in checks]) - 0.95) < 0.01


def test_a_hall_that_empties_every_night_misses_erlang_c_at_heavy_load():
    # closing a minute before midnight turns the queue away each night: at rho = 0.98 (Wq = 49
    # minutes) the waits fall well short
    from simulation.model import ServiceModel

    scenario = mmc_scenario(0.98, 1.0, 1).with_updates({"hall.sessions": [[0.0, 1439.0]]})
    model = ServiceModel(scenario, seed=1)
    model.hall.trace = []
    for _ in range(60):
        model.step()
    waits = np.concatenate([s - a for a, s, _ in model.hall.trace[1:]])
    assert waits.mean() < 0.8 * erlang_c_wait(0.98, 1.0, 1)


def test_the_check_can_fail_a_wrong_hall():
    # a hall that really has one window fewer than the theory assumes must be caught
    wrong = check_mmc(2.0, 1.0, 4, days=30, seed=3)
    assert abs(wrong.p_wait_sim - erlang_c(2.0, 1.0, 3)) > 4 * wrong.p_wait_se


def test_mmc_scenario_is_a_plain_queue():
    s = mmc_scenario(2.0, 1.0, 3)
    assert s.hall.windows == 3
    assert s.policy.comprehensive_window_share == 1.0
    assert s.hall.service_distribution == "exponential"
    assert list(s.matters) == ["mmc"]
    assert not s.behaviour.balking and s.hall.sessions == [[0.0, 1440.0]]
