"""Benchmark: one case-study experiment on three executors, side by side in one run.

`q_county` with 6 arms (baseline, four single countermeasures, one stacked package) x 30
replications, each run the scenario's full 250 working days, executed serially, on 2 local worker
processes, and on a 2-worker Dask LocalCluster. Each executor writes its own result store; the
script checks that the three give identical KPIs and prints wall time and speed-up.

Goal (issue #5): at least 1.8x on 2 cores for the 2 worker processes vs serial.

    python3 benchmarks/compare.py [--reps 30] [--days 250] [--executors serial processes dask]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from analysis.executors import DaskExecutor, ProcessExecutor, SerialExecutor
from analysis.experiment import Experiment, run_experiment

ARMS = ["q_county/staff_training", "q_county/integrated_network", "q_county/village_extension",
        "q_county/publicity_education"]
PACKAGE = {"package": ARMS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--days", type=int, default=None, help="default: the scenario's 250")
    parser.add_argument("--executors", nargs="+", default=["serial", "processes", "dask"],
                        choices=["serial", "processes", "dask"])
    args = parser.parse_args()
    experiment = Experiment.build("q_county", ARMS, PACKAGE, replications=args.reps, seed=2026, days=args.days)
    n_runs = len(experiment.arms) * args.reps
    print(f"q_county: {len(experiment.arms)} arms x {args.reps} replications = {n_runs} runs; "
          f"{os.cpu_count()} CPUs")
    executors = {"serial": SerialExecutor(), "processes": ProcessExecutor(2),
                 "dask": DaskExecutor(workers=2)}
    results: dict[str, pd.DataFrame] = {}
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.executors:
            start = time.perf_counter()
            runs = run_experiment(experiment, Path(folder) / f"{name}.sqlite", executor=executors[name])
            times[name] = time.perf_counter() - start
            results[name] = runs.sort_values(["arm", "replication"]).reset_index(drop=True)
            print(f"{name:>10}: {times[name]:8.1f} s  ({n_runs / times[name]:.2f} runs/s)", flush=True)
    first = next(iter(results))
    for name, frame in results.items():
        same = frame.equals(results[first])
        print(f"{name:>10}: KPIs identical to {first}: {same}")
    if "serial" in times:
        for name in times:
            if name != "serial":
                print(f"speed-up {name} vs serial: {times['serial'] / times[name]:.2f}x (goal >= 1.8x)")


if __name__ == "__main__":
    main()
