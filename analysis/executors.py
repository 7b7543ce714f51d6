"""Executors: where the runs of an experiment execute — here, on local processes, or on Dask.

All three share one interface, `map(fn, items)`, which yields `(item, fn(item))` pairs as they
finish (in any order). A run's result depends only on its `RunSpec` (scenario and seed), never on
where or when it ran, so every executor gives the same results for the same experiment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs `fn` over `items`, yielding (item, result) pairs as they finish."""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[T, R]]: ...


class SerialExecutor:
    """In this process, one run after another (`--workers 1`)."""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[T, R]]:
        for item in items:
            yield item, fn(item)

    def __repr__(self) -> str:
        return "SerialExecutor()"


class ProcessExecutor:
    """On `workers` local processes (`--workers W`).

    At most two runs per worker are in flight, so an interrupted experiment has started little
    that it has not finished and stored.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1 (got {self.workers})")

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[T, R]]:
        pending: dict[Future[R], T] = {}
        queue = iter(items)
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            try:
                for item in queue:
                    pending[pool.submit(fn, item)] = item
                    if len(pending) >= 2 * self.workers:
                        break
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        item = pending.pop(future)
                        yield item, future.result()
                        nxt = next(queue, None)
                        if nxt is not None:
                            pending[pool.submit(fn, nxt)] = nxt
            finally:
                for future in pending:
                    future.cancel()

    def __repr__(self) -> str:
        return f"ProcessExecutor(workers={self.workers})"


class DaskExecutor:
    """On a Dask distributed cluster: a `scheduler` address (`--scheduler tcp://host:8786`), or a
    `LocalCluster` of `workers` single-threaded worker processes started for the experiment.

    Workers need onenet-lab installed (the same version) to import the run function.
    """

    def __init__(self, scheduler: str | None = None, *, workers: int = 2) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise RuntimeError("Dask executors need dask.distributed: "
                               "pip install 'onenet-lab[dask]'") from None
        self.scheduler, self.workers = scheduler, workers

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[T, R]]:
        from distributed import Client, LocalCluster, as_completed

        cluster = None
        if self.scheduler is None:
            cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(self.scheduler)
        try:
            futures = client.map(fn, list(items), pure=False)
            owner = {future.key: item for future, item in zip(futures, items, strict=True)}
            for future in as_completed(futures):
                yield owner[future.key], future.result()
                future.release()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    def __repr__(self) -> str:
        where = self.scheduler or f"LocalCluster({self.workers} workers)"
        return f"DaskExecutor({where})"


def make_executor(workers: int = 1, scheduler: str | None = None, *, dask: bool = False) -> Any:
    """The executor for `--workers W` / `--scheduler ADDRESS` (or a local Dask cluster with `dask`)."""
    if scheduler is not None or dask:
        return DaskExecutor(scheduler, workers=max(1, workers))
    if workers < 1:
        raise ValueError(f"workers must be at least 1 (got {workers})")
    return SerialExecutor() if workers == 1 else ProcessExecutor(workers)


__all__ = ["DaskExecutor", "Executor", "ProcessExecutor", "SerialExecutor", "make_executor"]
