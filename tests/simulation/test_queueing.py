"""The within-day queue engine against queueing theory (Erlang C) and FIFO invariants."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.queueing import (
    erlang_c,
    erlang_c_queue_length,
    erlang_c_wait,
    serve_fifo,
    serve_single_pool,
)


def test_erlang_c_closed_forms():
    # M/M/1: P(wait) = rho and Wq = rho / (mu - lambda) (any queueing textbook, e.g. Kleinrock 1975)
    assert erlang_c(0.5, 1.0, 1) == pytest.approx(0.5)
    assert erlang_c_wait(0.5, 1.0, 1) == pytest.approx(1.0)
    # M/M/3 with a = 2: C = (a^3/3! * 3/(3-a)) / (1 + a + a^2/2 + a^3/3! * 3/(3-a)) = 4/9
    assert erlang_c(2.0, 1.0, 3) == pytest.approx(4.0 / 9.0)
    assert erlang_c_wait(2.0, 1.0, 3) == pytest.approx(4.0 / 9.0)
    # Little's law Lq = lambda Wq
    assert erlang_c_queue_length(2.0, 1.0, 3) == pytest.approx(8.0 / 9.0)


def test_erlang_c_matches_the_direct_sum_for_a_larger_hall():
    from math import factorial

    lam, mu, c = 9.0, 0.5, 20  # a = 18
    a = lam / mu
    top = a**c / factorial(c) * c / (c - a)
    direct = top / (sum(a**k / factorial(k) for k in range(c)) + top)
    assert erlang_c(lam, mu, c) == pytest.approx(direct, rel=1e-12)


def test_unstable_queue_is_refused():
    with pytest.raises(ValueError, match="unstable"):
        erlang_c(3.0, 1.0, 3)


@pytest.mark.parametrize(("lam", "mu", "c"), [(2.0, 1.0, 3), (0.8, 1.0, 1), (10.0, 1.0, 12)])
def test_engine_reproduces_erlang_c_in_steady_state(lam, mu, c):
    rng = np.random.default_rng(20261122)
    n = 200_000
    arrivals = np.cumsum(rng.exponential(1 / lam, n))
    start = serve_single_pool(arrivals, rng.exponential(1 / mu, n), c)
    wait = (start - arrivals)[10_000:]  # drop the warm-up
    # batch means for a standard error that respects autocorrelation
    batches = wait[: wait.size // 50 * 50].reshape(50, -1)
    waited = (batches > 1e-12).mean(axis=1)
    means = batches.mean(axis=1)
    assert abs(waited.mean() - erlang_c(lam, mu, c)) < 4 * waited.std(ddof=1) / np.sqrt(50)
    assert abs(means.mean() - erlang_c_wait(lam, mu, c)) < 4 * means.std(ddof=1) / np.sqrt(50)


def test_windows_are_never_double_booked_and_service_is_fifo():
    rng = np.random.default_rng(7)
    n = 3000
    pool = rng.integers(0, 3, n)
    arrivals = rng.uniform(540, 1020, n)
    work = rng.exponential(8.0, n)
    speeds = [np.array([1.0, 1.5]), np.array([0.8, 1.0, 1.2, 2.0]), np.array([1.0])]
    out = serve_fifo(pool, arrivals, work, speeds)
    assert np.all(out.start_minutes >= arrivals - 1e-12)
    for p in range(3):
        members = np.flatnonzero(pool == p)
        order = members[np.argsort(arrivals[members], kind="stable")]
        # FIFO: service starts in arrival order within a pool
        assert np.all(np.diff(out.start_minutes[order]) >= -1e-9)
        for w in range(len(speeds[p])):
            mine = members[out.window[members] == w]
            mine = mine[np.argsort(out.start_minutes[mine])]
            assert np.all(out.start_minutes[mine][1:] >= out.end_minutes[mine][:-1] - 1e-9)
            # the window's speed multiplier scales the work
            np.testing.assert_allclose(out.end_minutes[mine] - out.start_minutes[mine],
                                       work[mine] * speeds[p][w])


def test_no_service_starts_during_the_lunch_break():
    rng = np.random.default_rng(3)
    n = 2000
    sessions = [[540.0, 720.0], [810.0, 1020.0]]
    arrivals = np.concatenate([rng.uniform(540, 720, n // 2), rng.uniform(810, 1020, n // 2)])
    out = serve_fifo(np.zeros(n, dtype=int), arrivals, rng.exponential(6.0, n), [np.ones(4)], sessions)
    in_break = (out.start_minutes >= 720.0) & (out.start_minutes < 810.0)
    assert not in_break.any()
    # the queue left at noon is served first thing after lunch
    assert np.isclose(out.start_minutes[out.start_minutes >= 810.0].min(), 810.0)


def _reference_fifo(arrivals, work, windows, sessions, patience):
    """A direct transcription of the rules, one customer at a time, for small inputs: start at
    the later of arrival and the first free window, moved past any break; turned away at or
    after the last closing; balk when the wait exceeds patience."""
    free = [-np.inf] * windows
    start, status = [], []
    for i in np.argsort(arrivals, kind="stable"):
        w = int(np.argmin(free))
        t = max(arrivals[i], free[w])
        for (_, end), (reopen, _) in zip(sessions[:-1], sessions[1:], strict=True):
            if end <= t < reopen:
                t = reopen
        if t >= sessions[-1][1]:
            start.append((i, sessions[-1][1])), status.append((i, 2))
        elif t - arrivals[i] > patience[i]:
            start.append((i, arrivals[i])), status.append((i, 1))
        else:
            free[w] = t + work[i]
            start.append((i, t)), status.append((i, 0))
    order = np.argsort([i for i, _ in start])
    return np.array([v for _, v in start])[order], np.array([v for _, v in status])[order]


@pytest.mark.parametrize("windows", [3, 12])  # a linear scan and a heap of free times
def test_three_sessions_balking_and_closing_follow_the_rules_one_by_one(windows):
    rng = np.random.default_rng(windows)
    n = 600
    sessions = [[540.0, 660.0], [700.0, 800.0], [830.0, 960.0]]
    arrivals = rng.uniform(540, 960, n)
    work = rng.exponential(windows * 420 / n * 1.3, n)  # overloaded: balking and a queue at closing
    patience = rng.gamma(4.0, 10.0, n)
    out = serve_fifo(np.zeros(n, dtype=int), arrivals, work, [np.ones(windows)], sessions,
                     patience_minutes=patience)
    start, status = _reference_fifo(arrivals, work, windows, sessions, patience)
    np.testing.assert_array_equal(out.status, status)
    np.testing.assert_allclose(out.start_minutes, start)
    assert {0, 1, 2} <= set(status.tolist())
