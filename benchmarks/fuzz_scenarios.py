"""Fuzz the scenario loader by hand: thousands of mutants of the shipped scenarios.

Each mutant must either load or raise `ScenarioError`; with `--run N`, the first N accepted
mutants are also run for three days on a small population (`tests.fuzz.mutants.run_small`), and
must run without an exception and without NaN in a KPI whose denominator is not zero.

    python benchmarks/fuzz_scenarios.py --mutants 5000 --run 2000 --seed 1 [--edits 1]

Prints the counts (tried, loaded, refused, unexpected at load, run, crashed at run) and the first
few unexpected exceptions.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulation import load_scenario  # noqa: E402
from simulation.scenario import ScenarioError  # noqa: E402
from tests.fuzz.mutants import (  # noqa: E402
    SHIPPED,
    mutate,
    nonfinite_kpis,
    run_small,
    shipped_data,
    write_mutant,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=2000)
    parser.add_argument("--run", type=int, default=0, help="accepted mutants to run for 3 days")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--edits", type=int, default=None, help="edits per mutant (default 1-3)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    counts: Counter[str] = Counter()
    unexpected: list[str] = []
    bases = {path: shipped_data(path) for path in SHIPPED}
    with tempfile.TemporaryDirectory() as scratch:
        for i in range(args.mutants):
            base_path = rng.choice(SHIPPED)
            mutant = mutate(bases[base_path], rng, args.edits)
            try:
                path = write_mutant(mutant, Path(scratch) / f"m{i}.toml")
            except (TypeError, ValueError):
                counts["not writable as TOML"] += 1
                continue
            counts["tried"] += 1
            try:
                scenario = load_scenario(path)
            except ScenarioError:
                counts["refused"] += 1
                continue
            except Exception:  # noqa: BLE001 - counting what escapes is the point
                counts["unexpected at load"] += 1
                unexpected.append(f"load {base_path.name}: {traceback.format_exc(limit=-2)}")
                continue
            counts["loaded"] += 1
            if counts["run"] >= args.run:
                continue
            counts["run"] += 1
            try:
                kpis = run_small(scenario)
            except ScenarioError:
                counts["refused when made small"] += 1
                continue
            except Exception:  # noqa: BLE001
                counts["crashed at run"] += 1
                unexpected.append(f"run {base_path.name}: {traceback.format_exc(limit=-2)}")
                continue
            bad = nonfinite_kpis(kpis)
            if bad:
                counts["NaN or infinite KPI"] += 1
                unexpected.append(f"run {base_path.name}: KPIs without a value: {bad}")
    for key in ("tried", "loaded", "refused", "unexpected at load", "run", "crashed at run",
                "refused when made small", "NaN or infinite KPI", "not writable as TOML"):
        print(f"{key:>26}: {counts[key]}")
    for text in list(dict.fromkeys(unexpected))[:8]:
        print("-" * 60, "\n" + text)
    return 1 if unexpected else 0


if __name__ == "__main__":
    raise SystemExit(main())
