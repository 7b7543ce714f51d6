"""The full model reduced to an M/M/c hall reproduces Erlang C and Little's law."""

from __future__ import annotations

import pytest

from simulation.validation import DEFAULT_SETTINGS, check_mmc, mmc_scenario


@pytest.mark.parametrize(("lam", "mu", "c"), DEFAULT_SETTINGS)
def test_model_hall_matches_erlang_c_and_littles_law(lam, mu, c):
    check = check_mmc(lam, mu, c, days=20, seed=11)
    assert check.customers > 10_000
    assert abs(check.p_wait_sim - check.p_wait_theory) <= 4 * check.p_wait_se
    assert abs(check.wait_sim - check.wait_theory) <= 4 * check.wait_se
    assert abs(check.in_system_sim - check.in_system_little) <= 4 * check.in_system_se
    assert check.passed


def test_the_check_can_fail_a_wrong_hall():
    # a hall that really has one window fewer than the theory assumes must be caught
    wrong = check_mmc(2.0, 1.0, 4, days=10, seed=3)
    from simulation.queueing import erlang_c

    assert abs(wrong.p_wait_sim - erlang_c(2.0, 1.0, 3)) > 4 * wrong.p_wait_se


def test_mmc_scenario_is_a_plain_queue():
    s = mmc_scenario(2.0, 1.0, 3)
    assert s.hall.windows == 3
    assert s.policy.comprehensive_window_share == 1.0
    assert s.hall.service_distribution == "exponential"
    assert list(s.matters) == ["mmc"]
