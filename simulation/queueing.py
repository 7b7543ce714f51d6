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
# window codes of the recursion for customers who were not served
_TURNED, _BALKED = -1, -2


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


def _skip_breaks(t: float, breaks: list[tuple[float, float]]) -> float:
    for lo, hi in breaks:
        if lo <= t < hi:
            t = hi
    return t


def _serve_pool(
    arrivals: list[float],
    services: list[float],
    patience: list[float] | None,
    speed: list[float],
    free: list[float],
    breaks: list[tuple[float, float]],
    close: float,
    begin_out: list[float],
    code_out: list[int],
) -> list[float]:
    """FIFO c-server recursion for one pool; appends each customer's would-be start and code.

    A customer's would-be start is the later of their arrival and the earliest free window (a
    start in a break moves to the end of the break). The code is the window that serves them, or
    `_TURNED` when that start is at or after `close` (turned away), or `_BALKED` when the wait
    would exceed their patience (they leave at arrival); neither occupies a window. Because the
    earliest free time never decreases, once one customer is turned away so is everyone after
    them, and the loop stops there. Pools of more than `_SCAN_LIMIT` windows keep their free
    times in a heap. Returns the windows' free times at the end.
    """
    n = len(arrivals)
    if patience is None:
        patience = [math.inf] * n
    # breaks are checked only for starts inside the span from the first break to the last
    b0, b1 = (breaks[0][0], breaks[-1][1]) if breaks else (math.inf, math.inf)
    one_break = len(breaks) == 1
    begin, code = begin_out.append, code_out.append
    first = len(code_out)
    if len(speed) > _SCAN_LIMIT:
        heap = [(f, w) for w, f in enumerate(free)]
        heapq.heapify(heap)
        replace = heapq.heapreplace
        for a, s, limit in zip(arrivals, services, patience, strict=True):
            earliest, w = heap[0]
            t = a if a > earliest else earliest
            if b0 <= t < b1:
                t = b1 if one_break else _skip_breaks(t, breaks)
            if t >= close:
                break
            begin(t)
            if t - a > limit:
                code(_BALKED)
            else:
                replace(heap, (t + s * speed[w], w))
                code(w)
        for f, w in heap:
            free[w] = f
    else:
        for a, s, limit in zip(arrivals, services, patience, strict=True):
            earliest = min(free)
            w = free.index(earliest)
            t = a if a > earliest else earliest
            if b0 <= t < b1:
                t = b1 if one_break else _skip_breaks(t, breaks)
            if t >= close:
                break
            begin(t)
            if t - a > limit:
                code(_BALKED)
            else:
                free[w] = t + s * speed[w]
                code(w)
    done = len(code_out) - first
    if done < n:  # everyone from here on would start later still: all turned away
        earliest = min(free)
        begin_out.extend(earliest if earliest > x else x for x in arrivals[done:])
        code_out.extend([_TURNED] * (n - done))
    return free


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
    # by pool, then by arrival: one sort of a combined key (several times faster than lexsort;
    # arrivals closer than about 1e-9 minutes may swap, which FIFO cannot tell apart anyway)
    if n:
        first = float(arrival_minutes.min())
        span = float(arrival_minutes.max()) - first + 1.0
        order = np.argsort(pool * span + (arrival_minutes - first))
    else:
        order = np.empty(0, dtype=np.int64)
    sorted_pool = pool[order]
    boundaries = np.flatnonzero(np.diff(sorted_pool)) + 1
    starts = np.concatenate(([0], boundaries)) if n else np.array([], dtype=np.int64)
    ends = np.concatenate((boundaries, [n])) if n else np.array([], dtype=np.int64)
    arrivals_sorted = arrival_minutes[order].tolist()
    work_sorted = work_minutes[order].tolist()
    patience_sorted = patience_minutes[order].tolist() if patience_minutes is not None else None
    begin_out: list[float] = []
    code_out: list[int] = []
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
                                    speeds, free, breaks, close, begin_out, code_out)
    begin = np.empty(n, dtype=np.float64)
    code = np.empty(n, dtype=np.int32)
    begin[order] = np.asarray(begin_out, dtype=np.float64)
    code[order] = np.asarray(code_out, dtype=np.int32)
    seen = begin - arrival_minutes
    status = np.full(n, SERVED, dtype=np.int8)
    status[code == _TURNED] = TURNED_AWAY
    status[code == _BALKED] = BALKED
    start = np.where(code == _TURNED, close, np.where(code == _BALKED, arrival_minutes, begin))
    window = np.maximum(code, -1)
    # each served customer's window speed, from all pools' speeds laid end to end
    served = status == SERVED
    speed_of = np.zeros(n, dtype=np.float64)
    if served.any():
        sizes = np.array([len(w) for w in window_speed], dtype=np.int64)
        offsets = np.cumsum(sizes) - sizes
        flat = np.concatenate([np.asarray(w, dtype=np.float64) for w in window_speed])
        speed_of[served] = flat[offsets[pool[served]] + window[served]]
    end = start + work_minutes * speed_of
    return QueueOutcome(start_minutes=start, end_minutes=end, window=window, status=status,
                        free_minutes=free_after, seen_wait_minutes=seen)


def serve_single_pool(arrival_minutes: np.ndarray, work_minutes: np.ndarray, windows: int) -> np.ndarray:
    """Start times for one pool of identical windows, arrivals already sorted (the bare engine).

    This is the inner loop of `serve_fifo` without pool bookkeeping; `benchmarks/queue_core.py`
    times it.
    """
    begin_out: list[float] = []
    _serve_pool(arrival_minutes.tolist(), work_minutes.tolist(), None, [1.0] * windows,
                [-math.inf] * windows, [], math.inf, begin_out, [])
    return np.asarray(begin_out)


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
