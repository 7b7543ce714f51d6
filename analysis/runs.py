"""Single simulation runs: run a scenario (with overlays) and write its outputs to a folder.

Outputs of `write_run`: `kpis.json` (the public KPI keys, sorted, byte-identical for the same
seed), `daily.csv` (the DataCollector's per-day KPIs) and `scenario.toml` (the resolved scenario,
so the run can be repeated exactly).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import tomli_w

from simulation import ServiceModel, load_scenario
from simulation.scenario import Scenario


@dataclass(frozen=True)
class RunResult:
    """What one run produced."""

    scenario: Scenario
    seed: int
    days: int
    kpis: dict[str, float]
    daily: pd.DataFrame


def run_scenario(
    scenario: Scenario | str | Path,
    overlays: Sequence[str | Path] = (),
    *,
    days: int | None = None,
    seed: int = 0,
    on_day: Callable[[int], None] | None = None,
) -> RunResult:
    """Run one scenario for `days` measured working days (default: the scenario's own), after its
    warm-up, with `seed`; `on_day` is called after every simulated day (warm-up included)."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, overlays)
    elif overlays:
        raise ValueError("overlays apply to scenario files; pass a path or name with overlays")
    n_days = days if days is not None else scenario.scenario.days
    if n_days < 1:
        raise ValueError(f"days must be at least 1 (got {n_days})")
    model = ServiceModel(scenario, seed=seed)
    for day in range(scenario.scenario.warmup_days + n_days):
        model.step()
        if on_day is not None:
            on_day(day)
    return RunResult(scenario=scenario, seed=seed, days=n_days, kpis=model.kpis(),
                     daily=model.daily())


def kpis_json(kpis: dict[str, float]) -> str:
    """Deterministic JSON text of a KPI dict (NaN written as null)."""
    clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in kpis.items()}
    return json.dumps(clean, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


OUTPUT_FILES = ("kpis.json", "daily.csv", "scenario.toml")


def write_run(result: RunResult, out_dir: str | Path, *, protect: Sequence[Path] = ()) -> list[Path]:
    """Write kpis.json, daily.csv and scenario.toml into `out_dir`; returns the paths.

    Refuses to write over any path in `protect` (the run's inputs).
    """
    out = Path(out_dir)
    targets = [out / name for name in OUTPUT_FILES]
    protected = {p.resolve() for p in protect}
    clash = [t for t in targets if t.resolve() in protected]
    if clash:
        raise ValueError(f"refusing to overwrite input file {clash[0]}; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    payload = {"kpis": kpis_json(result.kpis)}
    targets[0].write_text(payload["kpis"], encoding="utf-8")
    result.daily.to_csv(targets[1], float_format="%.10g")
    resolved = result.scenario.to_toml_dict()
    resolved.pop("countermeasures", None)
    applied = ", ".join(c["name"] for c in result.scenario.countermeasures) or "none"
    header = (f"# Resolved scenario of a onenet run: seed {result.seed}, {result.days} days.\n"
              f"# Countermeasures applied: {applied}.\n"
              f"# Content hash: {result.scenario.content_hash()}\n\n")
    targets[2].write_text(header + tomli_w.dumps(resolved), encoding="utf-8")
    return targets
