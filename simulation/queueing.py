"""The within-day queueing engine and the Erlang C formulas it is checked against.

Every queue of a day (each window pool of the county hall, each township station) is served in
one pass of a first-come-first-served multi-server recursion: a customer starts at the later of
their arrival and the earliest moment a window of their pool is free (skipping breaks such as
lunch), on that window. No generic event scheduler is involved.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

# Pools with at most this many windows use a linear scan of free times; larger pools a heap.
_SCAN_LIMIT = 8


@dataclass(frozen=True)
class QueueOutcome:
    """Per-customer result of a day's queueing, aligned with the input order.

    Attributes:
        start_minutes: when service started.
        end_minutes: when service ended.
        window: index of the window (within the customer's pool) that served them.
    """

    start_minutes: np.ndarray
    end_minutes: np.ndarray
    window: np.ndarray

    def wait_minutes(self, arrival_minutes: np.ndarray) -> np.ndarray:
        """Waiting time in the queue (start minus arrival)."""
        return self.start_minutes - arrival_minutes


def _breaks_from_sessions(sessions: list[list[float]] | list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(float(sessions[i][1]), float(sessions[i + 1][0])) for i in range(len(sessions) - 1)]


def _serve_pool(
    arrivals: list[float],
    services: list[float],
    speed: list[float],
    breaks: list[tuple[float, float]],
    start_out: list[float],
    window_out: list[int],
) -> None:
    """FIFO c-server recursion for one pool; appends start times and windows to the outputs."""
    c = len(speed)
    if c <= _SCAN_LIMIT:
        free = [-math.inf] * c
        for a, s in zip(arrivals, services, strict=True):
            earliest = min(free)
            w = free.index(earliest)
            t = a if a > earliest else earliest
            for b0, b1 in breaks:
                if b0 <= t < b1:
                    t = b1
            free[w] = t + s * speed[w]
            start_out.append(t)
            window_out.append(w)
    else:
        heap = [(-math.inf, w) for w in range(c)]
        heapq.heapify(heap)
        replace = heapq.heapreplace
        for a, s in zip(arrivals, services, strict=True):
            earliest, w = heap[0]
            t = a if a > earliest else earliest
            for b0, b1 in breaks:
                if b0 <= t < b1:
                    t = b1
            replace(heap, (t + s * speed[w], w))
            start_out.append(t)
            window_out.append(w)


def serve_fifo(
    pool: np.ndarray,
    arrival_minutes: np.ndarray,
    work_minutes: np.ndarray,
    window_speed: list[np.ndarray] | list[list[float]],
    sessions: list[list[float]] | list[tuple[float, float]] | None = None,
) -> QueueOutcome:
    """Serve one day's customers of several independent pools, first come first served.

    Args:
        pool: pool index of each customer (which queue they join).
        arrival_minutes: arrival time of each customer (minutes after midnight).
        work_minutes: service work of each customer at speed 1.
        window_speed: for each pool, the time multiplier of each window (1.0 = standard; a
            less competent clerk has a larger multiplier). Its length is the pool's window count.
        sessions: opening sessions [[open, close], ...]; a service that would start during a
            break starts when the next session opens. Customers already queued are always served.

    Returns:
        A `QueueOutcome` aligned with the inputs.
    """
    n = len(arrival_minutes)
    breaks = _breaks_from_sessions(sessions) if sessions else []
    order = np.lexsort((arrival_minutes, pool))
    sorted_pool = pool[order]
    boundaries = np.flatnonzero(np.diff(sorted_pool)) + 1
    starts = np.concatenate(([0], boundaries)) if n else np.array([], dtype=np.int64)
    ends = np.concatenate((boundaries, [n])) if n else np.array([], dtype=np.int64)
    arrivals_sorted = arrival_minutes[order].tolist()
    work_sorted = work_minutes[order].tolist()
    start_out: list[float] = []
    window_out: list[int] = []
    for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
        speeds = window_speed[int(sorted_pool[lo])]
        speeds = speeds.tolist() if isinstance(speeds, np.ndarray) else list(speeds)
        if not speeds:
            raise ValueError(f"pool {int(sorted_pool[lo])} has customers but no windows")
        _serve_pool(arrivals_sorted[lo:hi], work_sorted[lo:hi], speeds, breaks,
                    start_out, window_out)
    start_sorted = np.asarray(start_out, dtype=np.float64)
    window_sorted = np.asarray(window_out, dtype=np.int32)
    start = np.empty(n, dtype=np.float64)
    window = np.empty(n, dtype=np.int32)
    start[order] = start_sorted
    window[order] = window_sorted
    speed_of = np.zeros(n, dtype=np.float64)
    for p in np.unique(pool):
        members = pool == p
        speed_of[members] = np.asarray(window_speed[int(p)], dtype=np.float64)[window[members]]
    end = start + work_minutes * speed_of
    return QueueOutcome(start_minutes=start, end_minutes=end, window=window)


def serve_single_pool(arrival_minutes: np.ndarray, work_minutes: np.ndarray, windows: int) -> np.ndarray:
    """Start times for one pool of identical windows, arrivals already sorted (the bare engine).

    This is the inner loop of `serve_fifo` without pool bookkeeping; `benchmarks/queue_core.py`
    times it.
    """
    start_out: list[float] = []
    window_out: list[int] = []
    _serve_pool(arrival_minutes.tolist(), work_minutes.tolist(), [1.0] * windows, [],
                start_out, window_out)
    return np.asarray(start_out)


# --- Erlang C (M/M/c) -----------------------------------------------------------------------


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Probability that an arriving customer waits in an M/M/c queue (Erlang C formula).

    C(c, a) = [a^c / c! * c/(c-a)] / [sum_{k<c} a^k/k! + a^c/c! * c/(c-a)],  a = lambda/mu.
    Computed with the numerically stable Erlang B recursion B(k) = a B(k-1) / (k + a B(k-1)),
    C = B / (1 - rho (1 - B)).
    """
    offered = arrival_rate / service_rate
    rho = offered / servers
    if not 0 <= rho < 1:
        raise ValueError(f"M/M/c is unstable: utilisation {rho:.3f} must be below 1")
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered * blocking / (k + offered * blocking)
    return blocking / (1.0 - rho * (1.0 - blocking))


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean waiting time in queue Wq = C / (c mu - lambda) for M/M/c."""
    return erlang_c(arrival_rate, service_rate, servers) / (servers * service_rate - arrival_rate)


def erlang_c_queue_length(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean number waiting Lq = lambda Wq (Little's law) for M/M/c."""
    return arrival_rate * erlang_c_wait(arrival_rate, service_rate, servers)
