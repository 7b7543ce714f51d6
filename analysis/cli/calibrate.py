"""`onenet calibrate SCENARIO --targets T.toml --priors P.toml --out DIR`: ABC-PMC calibration.

Everything is checked before the first simulation: the scenario and its overlays, the target file
(strictly, with at least one `calibrate` target), the priors against the scenario's parameter
paths and ranges, the budget, `--out` (a folder, never an input) and its lock, and the store of an
earlier run in `--out` (it must be the same calibration). The engine
(`analysis.calibration.calibrate`) then runs `analysis.targets.Simulator` on the chosen executor,
recording every simulation in `DIR/calibration.sqlite`; re-running the same command resumes and
gives the posterior an uninterrupted run gives. The outputs of `analysis.calibration.outputs`
follow, and a short fit table is printed.

Calibration may shorten the measured period (`--days`; the warm-up stays the scenario's) but never
the citizen population: the simulated county is the scenario's own, so the moments it produces
are those of the county the targets describe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from analysis.cli.common import (
    MAX_DAYS,
    check_out_folder,
    check_scheduler,
    command_line,
    console,
    err_console,
    fail,
    note,
)

STORE_NAME = "calibration.sqlite"
OUTPUT_FILES = (STORE_NAME, "posterior.csv", "targets_fit.csv", "identifiability.csv",
                "posterior_correlation.csv", "history.csv", "calibrated.toml", "report.html")


class CountingExecutor:
    """An executor that reports every finished simulation to `advance` (for the progress bar)."""

    def __init__(self, inner: Any, advance: Any) -> None:
        self.inner, self.advance = inner, advance

    def __enter__(self) -> CountingExecutor:
        if hasattr(self.inner, "__enter__"):
            self.inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if hasattr(self.inner, "__exit__"):
            self.inner.__exit__(*exc)

    def map(self, fn, items):
        for item, result in self.inner.map(fn, items):
            self.advance()
            yield item, result


def target_label(row: Any) -> str:
    """A targets_fit row's name, with the countermeasures it was predicted under when they are
    not the calibration's own (held-out targets of --validate-targets)."""
    from analysis.calibration.outputs import AS_CALIBRATED

    condition = getattr(row, "condition", None)
    if not isinstance(condition, str) or condition in ("", AS_CALIBRATED):
        return str(row.target)
    return f"{row.target} ({condition})"


def _fit_table(fit, title: str):
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("target", "role", "observed", "se", "predictive mean", "90% interval", "z", "fit"):
        table.add_column(column, justify="left" if column in ("target", "role") else "right")
    for row in fit.itertuples():
        table.add_row(target_label(row), str(row.role), f"{row.observed:.4g}", f"{row.se:.3g}",
                      f"{row.pp_mean:.4g}", f"{row.pp_low:.4g} – {row.pp_high:.4g}", f"{row.z:+.2f}",
                      "[green]inside[/green]" if row.covered else "[red]outside[/red]")
    return table


def _posterior_table(result):
    from rich.table import Table

    summary = result.summary()
    table = Table(title="Posterior (last generation)", title_justify="left")
    for column in ("parameter", "prior mean", "posterior mean", "90% interval", "sd ratio"):
        table.add_column(column, justify="left" if column == "parameter" else "right")
    for name, row in summary.iterrows():
        table.add_row(str(name), f"{row['prior_mean']:.4g}", f"{row['posterior_mean']:.4g}",
                      f"{row['q05']:.4g} – {row['q95']:.4g}",
                      f"{row['posterior_sd'] / row['prior_sd']:.2f}")
    return table


def other_condition(path: Path, spec: Any, scenario: str, countermeasure: list[str],
                    days: int | None, respondents: int, flag: str) -> tuple[Any, tuple[str, ...], Any]:
    """A target file observed under further countermeasures (its [meta] countermeasures, beyond
    the calibration's -c): (its TargetSet, those overlays, a Simulator of the place under them)."""
    from analysis.calibration import CalibrationError
    from analysis.targets import Simulator, load_targets
    from simulation import load_scenario

    group = load_targets(path)
    named = group.meta.get("scenario")
    if named is not None and load_scenario(named).scenario.name != spec.scenario.name:
        raise CalibrationError(f"{path}: meta.scenario is {named!r}, but the calibration is of "
                               f"{spec.scenario.name!r}; {flag} targets must describe the same place")
    extra = tuple(c for c in group.meta.get("countermeasures", []) if c not in countermeasure)
    if not extra:
        raise CalibrationError(f"{path}: meta.countermeasures names no overlay beyond the "
                               f"calibration's; a {flag} file is observed under other conditions "
                               "(targets observed under the same ones belong in --targets)")
    simulate = Simulator(load_scenario(scenario, [*countermeasure, *extra]), group, days, respondents)
    return group, extra, simulate


def held_out_group(path: Path, spec: Any, scenario: str, countermeasure: list[str],
                   days: int | None, respondents: int) -> Any:
    """A `--validate-targets` file as a `HeldOut` group: its targets (all role `validate`) are
    simulated from the posterior with its [meta] countermeasures added to the calibration's."""
    from analysis.calibration import CalibrationError
    from analysis.calibration.outputs import HeldOut

    group, extra, simulate = other_condition(path, spec, scenario, countermeasure, days,
                                             respondents, "--validate-targets")
    calibrating = [t.name for t in group if t.role != "validate"]
    if calibrating:
        raise CalibrationError(f"{path}: targets.{calibrating[0]} has role 'calibrate'; a "
                               "--validate-targets file is held out, so every target needs role "
                               "'validate' (targets to fit under other countermeasures go in "
                               "--also-targets)")
    return HeldOut(extra, simulate, group.targets)


def prepare(scenario: str, targets: Path, priors: Path, countermeasure: list[str], days: int | None,
            respondents: int, out: Path, validate_targets: list[Path] | None = None,
            also_targets: list[Path] | None = None,
            ) -> tuple[Any, Any, Any, Any, list[Any], dict[str, str]]:
    """Load and cross-check every input (raises the loaders' errors, which name file and key).

    Returns:
        (scenario spec, the fitted target set — `targets` and every `also_targets` file —, priors,
        the simulator (a `Conditions` over the countermeasure sets when `also_targets` are
        given), held-out groups of `validate_targets`, {target: condition} for the targets of
        `also_targets`).
    """
    from analysis.calibration import CalibrationError, load_priors
    from analysis.calibration.outputs import check_held_out, condition_label
    from analysis.targets import Conditions, Simulator, TargetSet, load_targets
    from simulation import load_scenario
    from simulation.scenario import resolve_path

    validate_targets = list(validate_targets or [])
    also_targets = list(also_targets or [])
    inputs = [resolve_path(scenario, kind="scenario"),
              *(resolve_path(c, kind="countermeasure") for c in countermeasure), targets, priors,
              *validate_targets, *also_targets]
    outputs = {(out / name).resolve() for name in OUTPUT_FILES}
    clash = [p for p in inputs if Path(p).resolve() in outputs]
    if clash:
        raise CalibrationError(f"refusing to overwrite input file {clash[0]}; choose another --out")
    spec = load_scenario(scenario, countermeasure)
    target_set = load_targets(targets)
    fitted, labels = dict(target_set.targets), {}
    simulators = [Simulator(spec, target_set, days, respondents)]
    for path in also_targets:
        group, extra, simulate = other_condition(path, spec, scenario, countermeasure, days,
                                                 respondents, "--also-targets")
        for name, target in group.targets.items():
            if name in fitted:
                raise CalibrationError(f"{path}: targets.{name}: the name is used twice; targets "
                                       "observed under other countermeasures need names of their own")
            fitted[name], labels[name] = target, condition_label(extra)
        simulators.append(simulate)
    fitted_set = TargetSet(fitted, dict(target_set.meta))
    if not fitted_set.observed("calibrate"):
        raise CalibrationError(f"{targets}: no target has role 'calibrate' (all "
                               f"{len(fitted_set)} are held out); nothing to calibrate to")
    prior_set = load_priors(priors, spec)
    simulator = simulators[0] if len(simulators) == 1 else Conditions(tuple(simulators))
    groups = [held_out_group(path, spec, scenario, countermeasure, days, respondents)
              for path in validate_targets]
    check_held_out(fitted_set.targets, groups)
    return spec, fitted_set, prior_set, simulator, groups, labels


def calibrate_command(
    scenario: str = typer.Argument(..., help="scenario name or TOML file"),
    targets: Path = typer.Option(..., "--targets", help="target TOML (onenet targets ...); its "
                                 "'calibrate' targets enter the fit, 'validate' ones are held out"),
    priors: Path = typer.Option(..., "--priors", help="priors TOML ([priors.\"PATH\"] tables; "
                                "e.g. scenarios/calibration/q_county_priors.toml)"),
    countermeasure: list[str] = typer.Option([], "--countermeasure", "-c",
                                             help="overlay in force when the targets were observed; "
                                                  "repeatable"),
    also_targets: list[Path] = typer.Option(
        [], "--also-targets", help="a further target file observed under further countermeasures "
        "(its [meta] countermeasures, e.g. after a reform): its 'calibrate' targets enter the fit "
        "under them, every parameter draw simulating both conditions with the same seed; "
        "repeatable"),
    validate_targets: list[Path] = typer.Option(
        [], "--validate-targets", help="held-out target file observed under further "
        "countermeasures (its [meta] countermeasures, e.g. a reform's after-figures): predicted "
        "from the posterior with them added, never fitted; repeatable"),
    days: int | None = typer.Option(None, "--days", min=1, max=MAX_DAYS,
                                    help="measured working days per simulation, after the "
                                         "scenario's warm-up (default: the scenario's)"),
    population: int = typer.Option(200, "--population", min=2,
                                   help="ABC particles per generation (the citizen population "
                                        "is always the scenario's)"),
    generations: int = typer.Option(6, "--generations", min=1, help="at most this many "
                                    "generations (generation 0 samples the prior)"),
    max_simulations: int = typer.Option(5000, "--max-simulations", min=1,
                                        help="total simulation budget"),
    respondents: int = typer.Option(500, "--respondents", min=2,
                                    help="simulated questionnaire respondents per simulation"),
    pilot: int = typer.Option(20, "--pilot", min=0,
                              help="replicate simulations at the prior median that measure the "
                                   "simulator's own noise per target, so only the rest of each "
                                   "target's se is added (0: add none)"),
    draws: int = typer.Option(200, "--draws", min=2, help="posterior-predictive simulations "
                              "behind targets_fit.csv"),
    workers: int = typer.Option(1, "--workers", min=1, help="local worker processes (1 = serial)"),
    scheduler: str | None = typer.Option(None, "--scheduler",
                                         help="Dask scheduler address, e.g. tcp://host:8786"),
    seed: int = typer.Option(0, "--seed", min=0, help="calibration seed, a non-negative integer"),
    out: Path = typer.Option(..., "--out", help="folder for calibration.sqlite, posterior.csv, "
                             "targets_fit.csv, calibrated.toml and report.html"),
) -> None:
    """Calibrate uncertain parameters to targets by ABC-PMC; held-out targets validate the fit.

    One seed gives the same posterior on every executor. Re-running the same command resumes
    from DIR/calibration.sqlite (Ctrl-C prints the command); a different calibration in the same
    folder is refused. Then check the held-out targets: onenet validate calibration DIR; and
    carry the uncertainty into a comparison: onenet compare ... --posterior DIR/posterior.csv.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from analysis.calibration import CalibrationError, calibrate
    from analysis.calibration.outputs import write_outputs
    from analysis.executors import make_executor
    from analysis.folderlock import FolderBusyError, FolderLock
    from analysis.targets import TargetError
    from simulation.scenario import ScenarioError

    check_out_folder(out)
    if workers > 1 and scheduler is not None:
        fail("give --workers W (local processes) or --scheduler ADDRESS (Dask), not both")
    try:
        spec, target_set, prior_set, simulator, groups, labels = prepare(
            scenario, targets, priors, countermeasure, days, respondents, out, validate_targets,
            also_targets)
    except (ScenarioError, TargetError, CalibrationError) as error:
        fail(error)
    if pilot == 1:
        fail("--pilot must be 0 (no pilot) or at least 2 (a variance needs two simulations)")
    if population + pilot > max_simulations:
        fail(f"--max-simulations {max_simulations} is below --population {population} + --pilot "
             f"{pilot}: the pilot and generation 0 alone need that many simulations")
    check_scheduler(scheduler)
    observed = target_set.observed("calibrate")
    held_out = len(target_set) - len(observed) + sum(len(g.targets) for g in groups)
    n_days = days if days is not None else spec.scenario.days
    console.print(f"calibrating {len(prior_set)} parameter(s) of {spec.scenario.name} to "
                  f"{len(observed)} target(s) ({held_out} held out); {spec.jurisdiction.population:,} "
                  f"residents, {spec.scenario.warmup_days} warm-up + {n_days} measured days per "
                  f"simulation; {population} particles, at most {generations} generations and "
                  f"{max_simulations:,} simulations"
                  + (f"; {pilot} pilot simulations measure the model's own noise, the rest of "
                     "each target's se is added" if pilot else "; no observation noise added"))
    try:
        with FolderLock(out, command_line()):
            with Progress(TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.completed}/{task.total} simulations"),
                          TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                          console=err_console, transient=True) as bar:
                task = bar.add_task("calibrate", total=max_simulations,
                                    status="generation 0 (prior)")

                def advance() -> None:
                    bar.advance(task)

                def report(t: int, epsilon: float, acceptance: float, ess: float) -> None:
                    bar.update(task, status=f"generation {t} done: epsilon {epsilon:.3g}, "
                                            f"acceptance {acceptance:.1%}, ESS {ess:.0f}")
                    err_console.print(f"generation {t}: epsilon {epsilon:.4g}, acceptance "
                                      f"{acceptance:.1%}, ESS {ess:.1f}", highlight=False)

                executor = CountingExecutor(make_executor(workers, scheduler), advance)
                result = calibrate(simulator, prior_set, observed, population=population,
                                   generations=generations, max_simulations=max_simulations,
                                   seed=seed, executor=executor, store_path=out / STORE_NAME,
                                   progress=report, pilot=pilot)
                bar.update(task, description="posterior predictive", completed=0,
                           total=draws * (1 + len(groups)), status="")
                paths = write_outputs(result, out, simulate=simulator, targets=target_set.targets,
                                      targets_file=" and ".join(map(str, [targets, *also_targets])),
                                      scenario=spec, draws=draws,
                                      executor=executor, held_out=groups, conditions=labels)
    except KeyboardInterrupt:
        note(f"interrupted; every finished simulation is kept in {out / STORE_NAME}. "
             f"Resume with:\n  {command_line()}")
        raise typer.Exit(130) from None
    except (CalibrationError, FolderBusyError) as error:
        fail(error)
    import pandas as pd

    fit = pd.read_csv(paths["targets_fit.csv"])
    console.print(_posterior_table(result))
    console.print(_fit_table(fit, f"Fit: {len(result.generations)} generation(s), "
                                  f"{result.simulations:,} simulations, stopped by "
                                  f"{result.stop_reason}"))
    for name in result.noisy_targets:
        note(f"target {name}: the simulations alone vary more (sd {result.simulator_sd[name]:.3g}) "
             f"than its se ({result.observed[name][1]:.3g}), so the posterior is wider than the "
             "target allows; raise --respondents or --days")
    for path in (out / STORE_NAME, *paths.values()):
        console.print(f"wrote {path}")
    if held_out:
        console.print(f"next: onenet validate calibration {out}")


__all__ = ["CountingExecutor", "calibrate_command", "held_out_group", "prepare", "target_label"]
