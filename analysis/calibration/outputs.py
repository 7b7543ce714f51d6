"""What a calibration writes into its folder, next to `calibration.sqlite`.

- `posterior.csv`: one row per particle of the last generation, a column per parameter path,
  `weight` (normalised) and `distance`.
- `targets_fit.csv`: per target (role `calibrate` or held-out `validate`): observed value, se,
  the posterior-predictive mean, sd and 90% interval (`pp_low`, `pp_high`) of what would be
  observed — a simulation at a resampled particle with a fresh seed, plus the target's sampling
  error — N(0, se^2) less the part the simulations already carry (`simulator_sd`, the
  calibration's pilot estimate; the noise added is `added_sd` = sqrt(max(se^2 - simulator_sd^2,
  0)), the whole se for held-out targets under other countermeasures, whose simulator noise is not
  estimated) — kept within the target's range (a share in [0, 1]), the z score (observed -
  pp_mean) / pp_sd, and whether the interval covers it.
  Column `condition` says under what the draws ran: `as calibrated` for the calibration's own
  targets, `+ OVERLAY ...` for held-out targets observed under other countermeasures (a
  reform's after-figures, `HeldOut`): the same resampled particles and seeds run with those
  overlays added, so predicting the reform's outcome is an out-of-sample test of the calibration.
- `identifiability.csv`: per parameter, prior sd, posterior sd and their ratio (near 1: the
  targets say little about it); `posterior_correlation.csv`: the weighted posterior correlations.
- `history.csv`: epsilon, acceptance rate and ESS by generation.
- `calibrated.toml`: an overlay setting every parameter path to its posterior median, with a
  provenance note "calibrated to <targets file> with seed <s>".
- `report.html`: one self-contained page with the figures embedded as PNG.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import tomli_w

from analysis.calibration.abc import CalibrationResult, Simulate, SimulationTask, run_simulation
from analysis.calibration.priors import CalibrationError, expand_path

if TYPE_CHECKING:
    from simulation.scenario import Scenario

PREDICTIVE = 2**32 - 1  # spawn-key domain of posterior-predictive draws (never a generation index)
ROLES = ("calibrate", "validate")
INTERVAL = 0.90
AS_CALIBRATED = "as calibrated"


def condition_label(overlays: Sequence[str]) -> str:
    """How targets_fit.csv names the conditions of targets observed with `overlays` added to the
    calibration's own ("+ one_window"; "as calibrated" when there are none)."""
    return "+ " + " + ".join(overlays) if overlays else AS_CALIBRATED


@dataclass(frozen=True)
class HeldOut:
    """Held-out targets observed under other conditions than the calibration's (e.g. after a
    countermeasure): `simulate` runs the calibrated scenario with `overlays` added, `targets`
    are their (value, se, role `validate`) definitions."""

    overlays: tuple[str, ...]
    simulate: Simulate
    targets: Mapping[str, Any]

    @property
    def condition(self) -> str:
        return condition_label(self.overlays)


def target_fields(name: str, target: Any) -> tuple[float, float, str]:
    """(value, se, role) of a target given as (value, se[, role]), a mapping or an object with
    `value`, `se` and `role` attributes."""
    if isinstance(target, Mapping):
        value, se, role = target.get("value"), target.get("se"), target.get("role", "calibrate")
    elif isinstance(target, Sequence) and not isinstance(target, str) and len(target) in (2, 3):
        value, se, role = (*target, "calibrate")[:3]
    else:
        value, se = getattr(target, "value", None), getattr(target, "se", None)
        role = getattr(target, "role", "calibrate")
    try:
        value, se = float(value), float(se)
    except (TypeError, ValueError):
        raise CalibrationError(f"targets.{name}: needs a value and a standard error") from None
    if role not in ROLES:
        raise CalibrationError(f"targets.{name}.role: {role!r} is not allowed; allowed: "
                               f"{', '.join(ROLES)}")
    if not (math.isfinite(se) and se > 0):
        raise CalibrationError(f"targets.{name}.se: must be positive (got {se})")
    return value, se, str(role)


def observed_for_fit(targets: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """The (value, se) of the targets with role `calibrate` (what `calibrate` takes)."""
    fields = {name: target_fields(name, t) for name, t in targets.items()}
    return {name: (v, se) for name, (v, se, role) in fields.items() if role == "calibrate"}


def resample(result: CalibrationResult, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of `draws` particles resampled by weight."""
    return rng.choice(len(result.weights), size=draws, p=result.weights)


def posterior_predictive(result: CalibrationResult, simulate: Simulate, *, draws: int = 200,
                         executor: Any = None) -> pd.DataFrame:
    """Simulations at `draws` particles resampled by weight, each with a fresh seed
    SeedSequence(seed, spawn_key=(2**32 - 1, j)): one row per draw (particle index, parameters,
    simulated targets), the same on every executor."""
    from analysis.executors import SerialExecutor

    if draws < 2:
        raise CalibrationError(f"draws: must be at least 2 (got {draws})")
    rng = np.random.default_rng(np.random.SeedSequence(result.seed, spawn_key=(PREDICTIVE,)))
    picks = resample(result, draws, rng)
    tasks = [SimulationTask(simulate, dict(zip(result.names, map(float, result.particles[p]),
                                               strict=True)),
                            np.random.SeedSequence(result.seed, spawn_key=(PREDICTIVE, j)),
                            PREDICTIVE, 0, j) for j, p in enumerate(picks)]
    rows: dict[int, dict[str, float]] = {}
    for task, values in (executor or SerialExecutor()).map(run_simulation, tasks):
        rows[task.index] = {"draw": task.index, "particle": int(picks[task.index]), **task.params,
                            **values}
    return pd.DataFrame([rows[j] for j in range(draws)])


def _bounds(target: Any) -> tuple[float, float]:
    """A target's range (`bounds` attribute or key), unbounded when it does not say."""
    bounds = target.get("bounds") if isinstance(target, Mapping) else getattr(target, "bounds", None)
    return (-math.inf, math.inf) if bounds is None else (float(bounds[0]), float(bounds[1]))


def targets_fit(predictive: pd.DataFrame, targets: Mapping[str, Any], *, seed: int,
                simulator_sd: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Observed vs posterior-predictive value of every target (see the module docstring).
    `simulator_sd` (the calibration's pilot estimate per target) is the part of each target's
    error the simulations already carry; only the rest, sqrt(max(se^2 - sd^2, 0)), is added."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PREDICTIVE, PREDICTIVE)))
    simulator_sd = simulator_sd or {}
    rows = []
    for name, target in targets.items():
        value, se, role = target_fields(name, target)
        if name not in predictive:
            raise CalibrationError(f"targets.{name}: the model simulated no value for it")
        simulated = predictive[name].to_numpy(dtype=float)
        own = simulator_sd.get(name, math.nan)
        added = math.sqrt(max(se**2 - own**2, 0.0)) if math.isfinite(own) else se
        predicted = simulated + rng.normal(0.0, added, size=len(simulated))
        low_bound, high_bound = _bounds(target)
        predicted = np.clip(predicted, low_bound, high_bound)  # a share stays in [0, 1]
        low, high = np.quantile(predicted, [(1 - INTERVAL) / 2, (1 + INTERVAL) / 2])
        sd = float(np.std(predicted, ddof=1))
        rows.append({"target": name, "role": role, "observed": value, "se": se,
                     "pp_mean": float(simulated.mean()), "pp_sd": sd, "pp_low": float(low),
                     "pp_high": float(high), "z": (value - float(simulated.mean())) / sd,
                     "covered": bool(low <= value <= high), "simulator_sd": own,
                     "added_sd": added})
    return pd.DataFrame(rows)


def identifiability(result: CalibrationResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per parameter prior sd, posterior sd and ratio; and the posterior correlation matrix."""
    prior_sd = result.priors.sds()
    posterior_sd = result.sd().to_numpy()
    table = pd.DataFrame({"parameter": result.names, "prior_sd": prior_sd,
                          "posterior_sd": posterior_sd, "sd_ratio": posterior_sd / prior_sd})
    correlation = result.correlation()
    correlation.index.name = "parameter"
    return table, correlation


def _set(tree: dict[str, Any], path: str, value: float) -> None:
    parts = path.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def calibrated_overlay(result: CalibrationResult, *, targets_file: str,
                       scenario: Scenario | None = None) -> str:
    """An overlay TOML setting each parameter path to its posterior median (a '*' path is
    expanded against `scenario`)."""
    note = f"calibrated to {targets_file} with seed {result.seed}"
    tree: dict[str, Any] = {"countermeasure": {
        "name": "calibrated", "label": "Calibrated parameters (posterior medians)",
        "description": f"Posterior medians of {len(result.names)} parameter(s) from ABC-PMC "
                       f"({len(result.generations)} generations, {result.simulations} simulations).",
        "cost_per_year": 0.0, "provenance": note}}
    provenance: dict[str, str] = {}
    median, low, high = result.median(), result.quantile(0.05), result.quantile(0.95)
    for prior in result.priors:
        paths = [prior.path]
        if "*" in prior.path:
            if scenario is None:
                raise CalibrationError(f"priors.{prior.path!r}: a '*' path needs the scenario to "
                                       "write calibrated.toml")
            paths = expand_path(scenario, prior.path)
        for path in paths:
            _set(tree, path, float(median[prior.path]))
            provenance[path] = (f"{note}: posterior median (90% interval "
                                f"{low[prior.path]:.4g}-{high[prior.path]:.4g}; prior "
                                f"{prior.distribution}; {prior.provenance})")
    tree["provenance"] = provenance
    header = f"# Overlay of calibrated parameters: {note}.\n\n"
    return header + tomli_w.dumps(tree)


def check_held_out(targets: Mapping[str, Any], held_out: Sequence[HeldOut]) -> None:
    """Raise CalibrationError unless every held-out target is valid, has role `validate` and a
    name no other target has."""
    for name, target in targets.items():
        target_fields(name, target)
    seen = set(targets)
    for group in held_out:
        for name, target in group.targets.items():
            if target_fields(name, target)[2] != "validate":
                raise CalibrationError(f"targets.{name}: observed {group.condition} but has role "
                                       "'calibrate'; only the calibration's own targets enter the "
                                       "fit, so give it role 'validate'")
            if name in seen:
                raise CalibrationError(f"targets.{name}: the name is used twice; held-out targets "
                                       "need names of their own")
            seen.add(name)


def write_outputs(result: CalibrationResult, out_dir: str | Path, *, simulate: Simulate,
                  targets: Mapping[str, Any], targets_file: str, scenario: Scenario | None = None,
                  draws: int = 200, executor: Any = None, held_out: Sequence[HeldOut] = (),
                  conditions: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Write every output of the module docstring into `out_dir`; returns name -> path.
    `held_out` adds targets observed under other countermeasures (`HeldOut`) to targets_fit.csv;
    `conditions` labels fitted targets that `simulate` runs under other countermeasures."""
    check_held_out(targets, held_out)  # every target checked before any simulation
    out = Path(out_dir)
    # the fit's own simulator carries the pilot's noise estimate and may span several conditions;
    # held-out groups under other countermeasures have neither
    runs = [(HeldOut((), simulate, targets), result.simulator_sd, dict(conditions or {})),
            *((group, None, {}) for group in held_out)]
    fits = []
    for group, own, labels in runs:
        predictive = posterior_predictive(result, group.simulate, draws=draws, executor=executor)
        fit = targets_fit(predictive, group.targets, seed=result.seed, simulator_sd=own)
        fits.append(fit.assign(condition=[labels.get(t, group.condition) for t in fit["target"]]))
    fit = pd.concat(fits, ignore_index=True)
    overlay = calibrated_overlay(result, targets_file=targets_file, scenario=scenario)
    table, correlation = identifiability(result)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in ("posterior.csv", "targets_fit.csv", "identifiability.csv",
                                           "posterior_correlation.csv", "history.csv",
                                           "calibrated.toml", "report.html")}
    result.frame().to_csv(paths["posterior.csv"], index=False, float_format="%.17g")
    fit.to_csv(paths["targets_fit.csv"], index=False, float_format="%.10g")
    table.to_csv(paths["identifiability.csv"], index=False, float_format="%.10g")
    correlation.to_csv(paths["posterior_correlation.csv"], float_format="%.10g")
    result.history().to_csv(paths["history.csv"], index=False, float_format="%.10g")
    paths["calibrated.toml"].write_text(overlay, encoding="utf-8")
    from analysis.calibration.report import report_html

    paths["report.html"].write_text(report_html(result, fit, table, targets_file=targets_file),
                                    encoding="utf-8")
    return paths


def figure_png(figure: Any) -> str:
    """A matplotlib figure as a base64 PNG data URI (the figure is closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0,
                         classes="data", escape=True).replace("<table", '<table style="border-'
                                                              'collapse:collapse"')


__all__ = ["AS_CALIBRATED", "HeldOut", "calibrated_overlay", "check_held_out", "condition_label",
           "figure_png", "html_table", "identifiability", "observed_for_fit", "posterior_predictive", "target_fields", "targets_fit",
           "write_outputs"]
