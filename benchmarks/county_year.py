"""Benchmark: the full model on the baseline county for a working year at 100,000 and 1,000,000 residents.

The baseline is scaled to the population (enterprises, hall windows and back-office capacities
in proportion), run for 250 working days, and each size runs in its own process so that peak
memory (max RSS) is its own. Prints cases per second, wall time and peak memory.

Goals: at least 100,000 cases/s; the 1,000,000-resident year in under 60 s and 4 GB; a change
to the model must not lower the cases/s of the 1,000,000-resident year.

To compare versions side by side in one run, give their source trees (e.g. a `git worktree` of
the older commit): each size then runs `--repeat` times per tree, interleaved, so both see the
same machine load; CPU seconds of the run are printed beside wall seconds.

    python3 benchmarks/county_year.py [--sizes 100000 1000000] [--days 250]
    python3 benchmarks/county_year.py --sizes 1000000 --trees ../old . --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

BASE_RESIDENTS = 300_000


def scaled_updates(residents: int) -> dict:
    from simulation import load_scenario

    base = load_scenario("baseline")
    k = residents / BASE_RESIDENTS
    updates = {
        "jurisdiction.population": residents,
        "jurisdiction.enterprises": int(round(base.jurisdiction.enterprises * k)),
        "jurisdiction.townships": max(1, int(round(base.jurisdiction.townships * k ** 0.5))),
        "hall.windows": max(1, int(round(base.hall.windows * k))),
    }
    if hasattr(base.scenario, "warmup_days"):
        updates["scenario.warmup_days"] = 0  # every simulated day is timed and its cases counted
    for name, dept in base.departments.items():
        updates[f"departments.{name}.capacity_per_day"] = max(1, int(round(dept.capacity_per_day * k)))
    return updates


def run_one(residents: int, days: int) -> dict:
    from simulation import ServiceModel, load_scenario

    scenario = load_scenario("baseline", updates=scaled_updates(residents))
    t0 = time.perf_counter()
    model = ServiceModel(scenario, seed=1)
    setup = time.perf_counter() - t0
    t1, c1 = time.perf_counter(), time.process_time()
    kpis = model.run(days)
    run_seconds, run_cpu = time.perf_counter() - t1, time.process_time() - c1
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"residents": residents, "days": days, "setup_s": setup, "run_s": run_seconds, "run_cpu_s": run_cpu,
            "total_s": setup + run_seconds, "cases_opened": kpis["cases_opened"],
            "cases_completed": kpis["cases_completed"], "peak_mib": peak_kib / 1024}


def _child(size: int, days: int, tree: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, __file__, "--child", str(size), "--days", str(days)],
                         capture_output=True, text=True, check=True, env=env, cwd=tree)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--trees", type=Path, nargs="+", default=[Path(__file__).resolve().parents[1]],
                        help="source trees to compare (default: this one)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.days)))
        return
    print(f"{'tree':>24s} {'residents':>10s} {'days':>5s} {'cases':>10s} {'setup s':>8s} {'run s':>8s} "
          f"{'run cpu s':>9s} {'cases/s':>10s} {'peak MiB':>9s}")
    for size in args.sizes:
        for _ in range(args.repeat):
            for tree in args.trees:
                r = _child(size, args.days, tree.resolve())
                print(f"{str(tree)[-24:]:>24s} {r['residents']:10,d} {r['days']:5d} {r['cases_opened']:10,.0f} "
                      f"{r['setup_s']:8.2f} {r['run_s']:8.2f} {r.get('run_cpu_s', float('nan')):9.2f} "
                      f"{r['cases_opened'] / r['total_s']:10,.0f} {r['peak_mib']:9.0f}", flush=True)


if __name__ == "__main__":
    main()
