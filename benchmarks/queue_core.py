"""Benchmark: the hall's queue engine on pure M/M/c beside SimPy, Mesa's event scheduler and a heap loop.

The same queue (2 arrivals/min, 1 service/min, 3 windows, 400,000 customers, same random
numbers) is served by each engine in one run; the script prints customers per second and checks
that every engine agrees with Erlang C on the mean wait.

Anchors measured on the reference 2-core machine (issue #2): Mesa 3.5's event scheduler about
45,000/s, SimPy about 82,000/s, a tight heap loop about 1,900,000/s. Goal for our engine:
at least 1,000,000 customers/s.

    python3 benchmarks/queue_core.py [--customers N]
"""

from __future__ import annotations

import argparse
import heapq
import time

import numpy as np

from simulation.queueing import erlang_c_wait, serve_fifo, serve_single_pool

LAMBDA, MU, WINDOWS = 2.0, 1.0, 3


def heap_loop(arrivals: np.ndarray, services: np.ndarray, c: int) -> np.ndarray:
    """A tight heap loop: the fastest plain-Python FIFO c-server queue we know."""
    free = [0.0] * c
    starts = []
    for a, s in zip(arrivals.tolist(), services.tolist(), strict=True):
        earliest = free[0]
        t = a if a > earliest else earliest
        heapq.heapreplace(free, t + s)
        starts.append(t)
    return np.asarray(starts)


def simpy_queue(arrivals: np.ndarray, services: np.ndarray, c: int) -> np.ndarray | None:
    try:
        import simpy
    except ImportError:
        return None
    env = simpy.Environment()
    windows = simpy.Resource(env, capacity=c)
    starts = np.empty(arrivals.size)

    def customer(i: int, service: float):
        with windows.request() as request:
            yield request
            starts[i] = env.now
            yield env.timeout(service)

    def source():
        previous = 0.0
        for i, (a, s) in enumerate(zip(arrivals.tolist(), services.tolist(), strict=True)):
            yield env.timeout(a - previous)
            previous = a
            env.process(customer(i, s))

    env.process(source())
    env.run()
    return starts


def mesa_devs_queue(arrivals: np.ndarray, services: np.ndarray, c: int) -> np.ndarray | None:
    """The same queue on Mesa's discrete-event simulator (one event per arrival and departure)."""
    try:
        import mesa
        from mesa.experimental.devs.simulator import DEVSimulator
    except ImportError:
        return None
    model = mesa.Model(rng=0)
    sim = DEVSimulator()
    sim.setup(model)
    starts = np.empty(arrivals.size)
    state = {"busy": 0, "queue": []}

    def depart():
        if state["queue"]:
            begin(state["queue"].pop(0))
        else:
            state["busy"] -= 1

    def begin(i: int):
        starts[i] = sim.time
        sim.schedule_event_relative(depart, float(services[i]))

    def arrive(i: int):
        if state["busy"] < c:
            state["busy"] += 1
            begin(i)
        else:
            state["queue"].append(i)

    for i, a in enumerate(arrivals.tolist()):
        sim.schedule_event_absolute(arrive, a, function_args=[i])
    sim.run_until(float(arrivals[-1]) + 1e6)
    return starts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=400_000)
    parser.add_argument("--mesa-customers", type=int, default=100_000,
                        help="Mesa's scheduler is slow; it serves a shorter prefix of the stream")
    args = parser.parse_args()
    rng = np.random.default_rng(20261122)
    arrivals = np.cumsum(rng.exponential(1 / LAMBDA, args.customers))
    services = rng.exponential(1 / MU, args.customers)
    theory = erlang_c_wait(LAMBDA, MU, WINDOWS)
    print(f"M/M/{WINDOWS}: lambda={LAMBDA}/min, mu={MU}/min, Erlang C mean wait {theory:.4f} min")
    print(f"{'engine':40s} {'customers':>10s} {'seconds':>9s} {'customers/s':>13s} {'mean wait':>10s}")

    def report(name, fn, n):
        t0 = time.perf_counter()
        starts = fn(arrivals[:n], services[:n])
        seconds = time.perf_counter() - t0
        if starts is None:
            print(f"{name:40s} {'(not installed)':>10s}")
            return
        wait = float(np.mean(starts - arrivals[:n]))
        print(f"{name:40s} {n:10,d} {seconds:9.3f} {n / seconds:13,.0f} {wait:10.4f}")

    n = args.customers
    report("onenet serve_single_pool (bare engine)", lambda a, s: serve_single_pool(a, s, WINDOWS), n)
    report("onenet serve_fifo (as the model calls it)",
           lambda a, s: serve_fifo(np.zeros(a.size, dtype=np.int64), a, s,
                                   [np.ones(WINDOWS)]).start_minutes, n)
    report("tight heap loop", lambda a, s: heap_loop(a, s, WINDOWS), n)
    report("SimPy Resource", lambda a, s: simpy_queue(a, s, WINDOWS), n)
    report("Mesa DEVSimulator", lambda a, s: mesa_devs_queue(a, s, WINDOWS), min(n, args.mesa_customers))


if __name__ == "__main__":
    main()
