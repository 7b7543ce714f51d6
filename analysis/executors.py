"""Executors: where the runs of an experiment execute — here, on local processes, or on Dask.

All three share one interface, `map(fn, items)`, which yields `(item, fn(item))` pairs as they
finish (in any order). Used as a context manager (`with executor:`), an executor keeps its worker
processes or Dask client between `map` calls (work sent in many small rounds, as calibration does,
then pays the start-up of the workers once). Entering again inside is harmless: only the outermost
`with` closes the workers, so `calibrate(..., executor=executor)` inside `with executor:` leaves
them running for what follows. A run's result depends only on its `RunSpec` (scenario and seed), never on
where or when it ran, so every executor gives the same results for the same experiment.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import nullcontext
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs `fn` over `items`, yielding (item, result) pairs as they finish."""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[T, R]]: ...


class SerialExecutor:
    """In this process, one run after another (`--workers 1`)."""

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[T, R]]:
        for item in items:
            yield item, fn(item)

    def __repr__(self) -> str:
        return "SerialExecutor()"


PARENT_WATCH_SECONDS = 0.5


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: leave Ctrl-C to the parent, and die when the parent dies.

    On Linux the kernel sends SIGKILL when the parent exits (`PR_SET_PDEATHSIG`); everywhere a
    daemon thread also watches the parent pid and exits the worker once it has changed (the
    worker was re-parented), so a parent killed with kill -9 leaves no worker behind.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before this worker started
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class ProcessExecutor:
    """On `workers` local processes (`--workers W`).

    At most two runs per worker are in flight, so an interrupted experiment has started little
    that it has not finished and stored. Workers exit when this process dies (even by kill -9)
    and ignore Ctrl-C, which this process handles: it stops the workers at once.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1 (got {self.workers})")
        self._pool: ProcessPoolExecutor | None = None
        self._depth = 0  # how many `with` blocks are open

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, initializer=_exit_with_parent,
                                   initargs=(os.getpid(),))

    def __enter__(self) -> ProcessExecutor:
        if self._pool is None:
            self._pool = self._new_pool()
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth = max(self._depth - 1, 0)
        if self._depth == 0 and self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(cancel_futures=True)

    def __getstate__(self) -> dict[str, Any]:
        return {"workers": self.workers, "_pool": None, "_depth": 0}

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[T, R]]:
        pending: dict[Future[R], T] = {}
        queue = iter(items)
        with nullcontext(self._pool) if self._pool is not None else self._new_pool() as pool:
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
            except BaseException:  # Ctrl-C or an error: stop the runs in flight, do not wait
                workers = list(getattr(pool, "_processes", {}).values())
                pool.shutdown(wait=False, cancel_futures=True)
                for process in workers:
                    process.terminate()
                if pool is self._pool:
                    self._pool = None
                raise
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
        self._open: tuple[Any, Any] | None = None
        self._depth = 0  # how many `with` blocks are open

    def _connect(self) -> tuple[Any, Any]:
        from distributed import Client, LocalCluster

        if self.scheduler is not None:
            return Client(self.scheduler), None
        cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        try:
            return Client(cluster), cluster
        except BaseException:
            cluster.close()
            raise

    @staticmethod
    def _disconnect(client: Any, cluster: Any) -> None:
        try:
            client.close()
        finally:
            if cluster is not None:
                cluster.close()

    def __enter__(self) -> DaskExecutor:
        if self._open is None:
            self._open = self._connect()
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth = max(self._depth - 1, 0)
        if self._depth == 0 and self._open is not None:
            opened, self._open = self._open, None
            self._disconnect(*opened)

    def __getstate__(self) -> dict[str, Any]:
        return {"scheduler": self.scheduler, "workers": self.workers, "_open": None, "_depth": 0}

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[T, R]]:
        from distributed import as_completed

        kept = self._open is not None
        client, cluster = self._open if kept else self._connect()
        futures: list[Any] = []
        try:
            futures = client.map(fn, list(items), pure=False)
            owner = {future.key: item for future, item in zip(futures, items, strict=True)}
            for future in as_completed(futures):
                yield owner[future.key], future.result()
                future.release()
        finally:
            if kept:  # an error or an abandoned map: stop its runs, keep the workers
                unfinished = [future for future in futures if not future.done()]
                if unfinished:
                    client.cancel(unfinished)
            else:
                self._disconnect(client, cluster)

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
