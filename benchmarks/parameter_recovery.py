"""Parameter recovery: does calibration find parameters the model was run with, as often as it says?

Draws `truths` parameter vectors from the priors; at each, runs the model (seed of truth i) and
makes synthetic targets from the run (`analysis.targets.synthetic`, the machinery behind
`onenet targets simulate`); calibrates the same scenario to the `calibrate` targets by ABC-PMC
from the same priors; and records where the truth falls in the posterior. Per parameter it
reports the share of truths inside the central 50% and 90% posterior intervals (well-calibrated:
within 10 points of 50 and 90) and the shrinkage, posterior sd / prior sd (near 1: the targets say
little about that parameter).

Small by default so it runs in minutes on a laptop (a county of 10,000 residents, 8 measured
days). Usage:

    python benchmarks/parameter_recovery.py --truths 20 --particles 60 --generations 4 --workers 2
    python benchmarks/parameter_recovery.py --priors scenarios/calibration/q_county_priors.toml \
        --scenario q_county --residents 400000 --days 60 --truths 20 --workers 8

Writes recovery.csv (one row per truth and parameter) and coverage.csv into --out.

Anchor (seed 0; --truths 20 --residents 6000 --warmup-days 3 --days 5 --respondents 150
--particles 20 --generations 3 --workers 1; the engine's default pilot of 20 simulations per
calibration, which adds only the error the simulator lacks; 191 s on a two-core machine):

    parameter                        coverage_50  coverage_90  shrinkage
    behaviour.missing_material_prob        50.0         85.0       0.83
    citizens.awareness_urban               55.0         85.0       0.95

(Before the pilot, i.e. with no observation noise added: 50.0 / 90.0 / 0.82 and 55.0 / 85.0 / 0.92.
Synthetic targets carry only the sampling error the simulator reproduces, so the pilot adds
little here; it matters for official figures whose se is an assumed gap of definitions.)

Coverage is within 10 points of nominal; shrinkage is weak at this budget (three generations of
20 particles over a five-day run of a small county): more generations and longer runs narrow
the posterior further.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis.calibration import Prior, Priors, calibrate, load_priors  # noqa: E402
from analysis.calibration.priors import scenario_updates  # noqa: E402
from analysis.targets import Simulator, respondent_seed  # noqa: E402
from analysis.targets.synthetic import synthetic_targets  # noqa: E402

# two parameters with a clear footprint in the targets: resubmissions follow missing materials,
# online use follows awareness
DEFAULT_PRIORS = Priors([
    Prior("behaviour.missing_material_prob", "uniform", {"low": 0.02, "high": 0.3},
          "default catalogue: assumption — to calibrate (per citizen-supplied material)"),
    Prior("citizens.awareness_urban", "uniform", {"low": 0.2, "high": 0.9},
          "scenario provenance: assumption — to calibrate"),
], source="benchmarks/parameter_recovery.py")
TRUTH_STREAM = 0x7E57  # spawn key of the truths' draws and of their model runs


def small_scenario(name: str = "baseline", residents: int = 10_000, warmup_days: int = 5) -> Any:
    """`name` scaled to `residents` (enterprises and hall windows in proportion)."""
    from simulation import load_scenario

    base = load_scenario(name)
    scale = residents / base.jurisdiction.population
    return load_scenario(name, updates={
        "jurisdiction.population": int(residents),
        "jurisdiction.enterprises": max(1, round(base.jurisdiction.enterprises * scale)),
        "hall.windows": max(1, round(base.hall.windows * scale)),
        "scenario.warmup_days": int(warmup_days)})


def recover_one(spec: Any, priors: Priors, truth: Mapping[str, float], *, index: int, days: int,
                respondents: int, particles: int, generations: int, max_simulations: int,
                seed: int, executor: Any = None) -> list[dict[str, Any]]:
    """Synthetic targets at `truth`, a calibration to them, and the truth's place in the posterior."""
    from simulation import ServiceModel

    truth_seed = np.random.SeedSequence(seed, spawn_key=(TRUTH_STREAM, index))
    run_seed = int(truth_seed.generate_state(1)[0])
    model = ServiceModel(spec.with_updates(scenario_updates(spec, truth), source=f"<truth {index}>"),
                         seed=run_seed)
    model.run(days)
    targets, _ = synthetic_targets(model, respondents=respondents, seed=respondent_seed(run_seed))
    simulator = Simulator(spec, targets, days, respondents)
    result = calibrate(simulator, priors, targets.observed("calibrate"), population=particles,
                       generations=generations, max_simulations=max_simulations,
                       seed=seed + 1 + index, executor=executor)
    q = {level: result.quantile(level) for level in (0.05, 0.25, 0.75, 0.95)}
    mean, sd, prior_sd = result.mean(), result.sd(), dict(zip(priors.names, priors.sds(), strict=True))
    rows = []
    for name in priors.names:
        value = float(truth[name])
        rows.append({"truth_index": index, "parameter": name, "truth": value,
                     "posterior_mean": float(mean[name]), "posterior_sd": float(sd[name]),
                     "prior_sd": float(prior_sd[name]), "q05": float(q[0.05][name]),
                     "q25": float(q[0.25][name]), "q75": float(q[0.75][name]),
                     "q95": float(q[0.95][name]),
                     "covered_50": bool(q[0.25][name] <= value <= q[0.75][name]),
                     "covered_90": bool(q[0.05][name] <= value <= q[0.95][name]),
                     "generations": len(result.generations), "simulations": result.simulations,
                     "targets": len(targets.observed("calibrate"))})
    return rows


def recovery(spec: Any, priors: Priors = DEFAULT_PRIORS, *, truths: int = 20, days: int = 8,
             respondents: int = 300, particles: int = 60, generations: int = 4,
             max_simulations: int = 5_000, seed: int = 0, executor: Any = None,
             progress: Any = None) -> pd.DataFrame:
    """One row per truth and parameter (see the module docstring); truths are drawn from `priors`
    with SeedSequence(seed, spawn_key=(TRUTH_STREAM,)). `progress(done, total, rows)` is called
    after each truth with the rows so far."""
    if truths < 1:
        raise ValueError(f"truths: must be at least 1 (got {truths})")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(TRUTH_STREAM,)))
    drawn = priors.sample(rng, truths)
    rows: list[dict[str, Any]] = []
    for i, theta in enumerate(drawn):
        truth = dict(zip(priors.names, map(float, theta), strict=True))
        rows += recover_one(spec, priors, truth, index=i, days=days, respondents=respondents,
                            particles=particles, generations=generations,
                            max_simulations=max_simulations, seed=seed, executor=executor)
        if progress is not None:
            progress(i + 1, truths, pd.DataFrame(rows))
    return pd.DataFrame(rows)


def coverage(rows: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: truths, 50% and 90% interval coverage (in percent) and mean shrinkage."""
    rows = rows.assign(shrinkage=rows["posterior_sd"] / rows["prior_sd"])
    table = rows.groupby("parameter", sort=False).agg(
        truths=("truth", "size"), coverage_50=("covered_50", "mean"),
        coverage_90=("covered_90", "mean"), shrinkage=("shrinkage", "mean"))
    table[["coverage_50", "coverage_90"]] *= 100
    return table.reset_index()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--priors", type=Path, default=None,
                        help="priors TOML (default: two parameters, see DEFAULT_PRIORS)")
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--warmup-days", type=int, default=5)
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--respondents", type=int, default=300)
    parser.add_argument("--truths", type=int, default=20)
    parser.add_argument("--particles", type=int, default=60)
    parser.add_argument("--generations", type=int, default=4)
    parser.add_argument("--max-simulations", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("recovery"))
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file, not a folder")
    from analysis.executors import make_executor

    spec = small_scenario(args.scenario, args.residents, args.warmup_days)
    priors = DEFAULT_PRIORS if args.priors is None else load_priors(args.priors, spec)
    start = time.perf_counter()

    args.out.mkdir(parents=True, exist_ok=True)

    def progress(done: int, total: int, rows: pd.DataFrame) -> None:
        rows.to_csv(args.out / "recovery.csv", index=False, float_format="%.10g")
        print(f"truth {done}/{total} done after {time.perf_counter() - start:.0f} s", flush=True)

    rows = recovery(spec, priors, truths=args.truths, days=args.days, respondents=args.respondents,
                    particles=args.particles, generations=args.generations,
                    max_simulations=args.max_simulations, seed=args.seed,
                    executor=make_executor(args.workers), progress=progress)
    table = coverage(rows)
    rows.to_csv(args.out / "recovery.csv", index=False, float_format="%.10g")
    table.to_csv(args.out / "coverage.csv", index=False, float_format="%.4g")
    print(f"{args.truths} truths, {args.particles} particles, {args.generations} generations, "
          f"{args.residents:,} residents, {args.days} days; {time.perf_counter() - start:.0f} s")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
