"""The within-day queueing engine and the Erlang C formulas it is checked against.

Every queue of a day (each window pool of the county hall, each township station) is served in
one pass of a first-come-first-served multi-server recursion: a customer starts at the later of
their arrival and the earliest moment a window of their pool is free (skipping breaks such as
lunch), on that window — or balks when that wait exceeds their patience, or is turned away when
it would start after closing. Window free times carry from one day to the next, so a hall open
around the clock is one continuous queue. No generic event scheduler is involved.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

# Pools with at most this many windows use a linear scan of free times; larger pools a heap.
_SCAN_LIMIT = 8


# what happened to a customer
SERVED, BALKED, TURNED_AWAY = 0, 1, 2


@dataclass(frozen=True)
class QueueOutcome:
    """Per-customer result of a day's queueing, aligned with the input order.

    Attributes:
        start_minutes: when service started; for a customer who balked, the arrival time; for
            one turned away, the closing time (they waited until then).
        end_minutes: when service ended (equal to `start_minutes` when not served).
        window: index of the window (within the customer's pool) that served them; -1 if none.
        status: SERVED, BALKED (left on seeing the queue) or TURNED_AWAY (still queued at closing).
        free_minutes: per pool, when each window is next free (for carrying a queue into the
            next day).
        seen_wait_minutes: the wait each customer faced on arrival (what a balker saw ahead).
    """

    start_minutes: np.ndarray
    end_minutes: np.ndarray
    window: np.ndarray
    status: np.ndarray
    free_minutes: dict[int, list[float]]
    seen_wait_minutes: np.ndarray | None = None

    def wait_minutes(self, arrival_minutes: np.ndarray) -> np.ndarray:
        """Waiting time in the queue (start, leaving or closing minus arrival)."""
        return self.start_minutes - arrival_minutes

    @property
    def served(self) -> np.ndarray:
        """Customers who were served."""
        return self.status == SERVED


def _breaks_from_sessions(sessions: list[list[float]] | list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(float(sessions[i][1]), float(sessions[i + 1][0])) for i in range(len(sessions) - 1)]


def _serve_pool(
    arrivals: list[float],
    services: list[float],
    patience: list[float] | None,
    speed: list[float],
    free: list[float],
    breaks: list[tuple[float, float]],
    close: float,
    start_out: list[float],
    window_out: list[int],
    status_out: list[int],
    seen_out: list[float],
) -> list[float]:
    """FIFO c-server recursion for one pool; appends start times, windows and statuses.

    A customer starts at the later of their arrival and the earliest free window (a start in a
    break moves to the end of the break). One who would start at or after `close` is turned
    away; one whose wait would exceed their patience balks at arrival. Neither occupies a
    window. Returns the windows' free times at the end.
    """
    c = len(speed)
    if c <= _SCAN_LIMIT:
        for i, (a, s) in enumerate(zip(arrivals, services, strict=True)):
            earliest = min(free)
            w = free.index(earliest)
            t = a if a > earliest else earliest
            for b0, b1 in breaks:
                if b0 <= t < b1:
                    t = b1
            seen_out.append(t - a)
            if t >= close:
                start_out.append(close)
                window_out.append(-1)
                status_out.append(TURNED_AWAY)
            elif patience is not None and t - a > patience[i]:
                start_out.append(a)
                window_out.append(-1)
                status_out.append(BALKED)
            else:
                free[w] = t + s * speed[w]
                start_out.append(t)
                window_out.append(w)
                status_out.append(SERVED)
        return free
    heap = [(f, w) for w, f in enumerate(free)]
    heapq.heapify(heap)
    replace = heapq.heapreplace
    for i, (a, s) in enumerate(zip(arrivals, services, strict=True)):
        earliest, w = heap[0]
        t = a if a > earliest else earliest
        for b0, b1 in breaks:
            if b0 <= t < b1:
                t = b1
        seen_out.append(t - a)
        if t >= close:
            start_out.append(close)
            window_out.append(-1)
            status_out.append(TURNED_AWAY)
        elif patience is not None and t - a > patience[i]:
            start_out.append(a)
            window_out.append(-1)
            status_out.append(BALKED)
        else:
            replace(heap, (t + s * speed[w], w))
            start_out.append(t)
            window_out.append(w)
            status_out.append(SERVED)
    out = [0.0] * c
    for f, w in heap:
        out[w] = f
    return out


def serve_fifo(
    pool: np.ndarray,
    arrival_minutes: np.ndarray,
    work_minutes: np.ndarray,
    window_speed: list[np.ndarray] | list[list[float]],
    sessions: list[list[float]] | list[tuple[float, float]] | None = None,
    *,
    patience_minutes: np.ndarray | None = None,
    free_minutes: dict[int, list[float]] | None = None,
) -> QueueOutcome:
    """Serve one day's customers of several independent pools, first come first served.

    Args:
        pool: pool index of each customer (which queue they join).
        arrival_minutes: arrival time of each customer (minutes after midnight).
        work_minutes: service work of each customer at speed 1.
        window_speed: for each pool, the time multiplier of each window (1.0 = standard; a
            less competent clerk has a larger multiplier). Its length is the pool's window count.
        sessions: opening sessions [[open, close], ...]; a service that would start during a
            break starts when the next session opens. Whoever would start at or after the last
            closing time is turned away — unless the last session closes at midnight (1440),
            when the hall runs continuously and the queue carries into the next day.
        patience_minutes: per customer, the longest wait they accept (balking); None = endless.
        free_minutes: per pool, when each window is free (from the previous day, on today's
            clock); default: all free.

    Returns:
        A `QueueOutcome` aligned with the inputs.
    """
    n = len(arrival_minutes)
    breaks = _breaks_from_sessions(sessions) if sessions else []
    close = float(sessions[-1][1]) if sessions else math.inf
    if close >= 1440.0:
        close = math.inf
    order = np.lexsort((arrival_minutes, pool))
    sorted_pool = pool[order]
    boundaries = np.flatnonzero(np.diff(sorted_pool)) + 1
    starts = np.concatenate(([0], boundaries)) if n else np.array([], dtype=np.int64)
    ends = np.concatenate((boundaries, [n])) if n else np.array([], dtype=np.int64)
    arrivals_sorted = arrival_minutes[order].tolist()
    work_sorted = work_minutes[order].tolist()
    patience_sorted = patience_minutes[order].tolist() if patience_minutes is not None else None
    start_out: list[float] = []
    window_out: list[int] = []
    status_out: list[int] = []
    seen_out: list[float] = []
    free_after: dict[int, list[float]] = {}
    for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
        p = int(sorted_pool[lo])
        speeds = window_speed[p]
        speeds = speeds.tolist() if isinstance(speeds, np.ndarray) else list(speeds)
        if not speeds:
            raise ValueError(f"pool {p} has customers but no windows")
        free = list(free_minutes[p]) if free_minutes and p in free_minutes else [-math.inf] * len(speeds)
        if len(free) != len(speeds):
            free = [-math.inf] * len(speeds)
        free_after[p] = _serve_pool(arrivals_sorted[lo:hi], work_sorted[lo:hi],
                                    patience_sorted[lo:hi] if patience_sorted is not None else None,
                                    speeds, free, breaks, close, start_out, window_out, status_out, seen_out)
    start = np.empty(n, dtype=np.float64)
    window = np.empty(n, dtype=np.int32)
    status = np.empty(n, dtype=np.int8)
    start[order] = np.asarray(start_out, dtype=np.float64)
    window[order] = np.asarray(window_out, dtype=np.int32)
    status[order] = np.asarray(status_out, dtype=np.int8)
    seen = np.empty(n, dtype=np.float64)
    seen[order] = np.asarray(seen_out, dtype=np.float64)
    speed_of = np.zeros(n, dtype=np.float64)
    served = status == SERVED
    for p in np.unique(pool[served]):
        members = served & (pool == p)
        speed_of[members] = np.asarray(window_speed[int(p)], dtype=np.float64)[window[members]]
    end = start + work_minutes * speed_of
    return QueueOutcome(start_minutes=start, end_minutes=end, window=window, status=status,
                        free_minutes=free_after, seen_wait_minutes=seen)


def serve_single_pool(arrival_minutes: np.ndarray, work_minutes: np.ndarray, windows: int) -> np.ndarray:
    """Start times for one pool of identical windows, arrivals already sorted (the bare engine).

    This is the inner loop of `serve_fifo` without pool bookkeeping; `benchmarks/queue_core.py`
    times it.
    """
    start_out: list[float] = []
    window_out: list[int] = []
    status_out: list[int] = []
    _serve_pool(arrival_minutes.tolist(), work_minutes.tolist(), None, [1.0] * windows,
                [-math.inf] * windows, [], math.inf, start_out, window_out, status_out, [])
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
