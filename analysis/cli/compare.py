"""The `onenet compare` command: an experiment of countermeasure arms against the baseline, run
with common random numbers on any executor, stored as it goes, and reported as effects with
confidence intervals, a ranking, equity effects, cost-effectiveness and figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from analysis.cli.common import (
    DAYS_HELP,
    MAX_DAYS,
    check_out_folder,
    check_scheduler,
    command_line,
    console,
    err_console,
    fail,
    note,
    resume_hint,
)

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

    from analysis import brief as brief_module
    from analysis.experiment import Experiment

OUTPUT_FILES = ("results.sqlite", "effects.csv", "ranking.csv", "equity.csv", "cost_effectiveness.csv",
                "brief.html", "brief.docx")


@dataclass(frozen=True)
class Comparison:
    """Everything a comparison produced."""

    experiment: Experiment
    runs: pd.DataFrame
    effects: pd.DataFrame
    ranking: pd.DataFrame
    equity: pd.DataFrame
    cost_effectiveness: pd.DataFrame
    daily: dict[str, pd.DataFrame]  # per-day KPIs of every replication of each arm (column replication)
    store: Path


def _cases_per_year(runs: pd.DataFrame, experiment: Experiment) -> float:
    from analysis import compare as cmp

    base = runs[runs["arm"] == cmp.BASELINE]
    scenario = experiment.resolve()[cmp.BASELINE][0]
    days = experiment.days or scenario.scenario.days
    return float(base["cases_completed"].mean()) / days * scenario.demand.working_days_per_year


def compare_arms(experiment: Experiment, out: Path, *, workers: int = 1, scheduler: str | None = None,
                 dask: bool = False, progress: bool = True) -> Comparison:
    """Run (or resume) `experiment` with its store in `out`, and compute the comparison tables.

    Ctrl-C raises KeyboardInterrupt at once, and again after the next stored run should the
    first have landed where Python ignores it (a finaliser or a callback)."""
    import signal
    import sys
    import threading

    interrupted = threading.Event()

    def on_interrupt(signum, frame):
        interrupted.set()
        raise KeyboardInterrupt

    def quiet_unraisable(unraisable) -> None:  # the interrupt comes back after the next run
        if not issubclass(unraisable.exc_type, KeyboardInterrupt):
            previous_hook(unraisable)

    previous = signal.signal(signal.SIGINT, on_interrupt) \
        if threading.current_thread() is threading.main_thread() else None
    previous_hook, sys.unraisablehook = sys.unraisablehook, quiet_unraisable
    try:
        return _compare_arms(experiment, out, workers=workers, scheduler=scheduler, dask=dask,
                             progress=progress, interrupted=interrupted)
    finally:
        sys.unraisablehook = previous_hook
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _compare_arms(experiment: Experiment, out: Path, *, workers: int, scheduler: str | None,
                  dask: bool, progress: bool, interrupted) -> Comparison:
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from analysis import compare as cmp
    from analysis.executors import make_executor
    from analysis.experiment import run_experiment
    from analysis.store import ResultStore

    store_path = Path(out) / "results.sqlite"
    executor = make_executor(workers, scheduler, dask=dask)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} runs"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, transient=True,
                  disable=not progress) as bar:
        task = bar.add_task(f"{experiment.scenario}: {len(experiment.arms)} arms x "
                            f"{experiment.replications} reps", total=None)

        def advance(done: int, total: int) -> None:
            if interrupted.is_set():
                raise KeyboardInterrupt
            bar.update(task, completed=done, total=total)

        runs = run_experiment(experiment, store_path, executor=executor, progress=advance)
    with ResultStore.open(store_path, experiment, hashes={a: [s.content_hash() for s in ss]
                                                         for a, ss in experiment.resolve().items()}) as store:
        costs = store.costs
        daily = {arm.name: store.daily_all(arm.name) for arm in experiment.arms}
    effects = cmp.effects(runs)
    effects["parameter_uncertainty"] = experiment.posterior is not None  # draws from a posterior
    cost_table = cmp.cost_effectiveness(effects, costs, cases_per_year=_cases_per_year(runs, experiment))
    return Comparison(experiment, runs, effects, cmp.ranking(effects), cmp.equity(effects), cost_table,
                      daily, store_path)


def effects_table(result: Comparison, kpis: tuple[str, ...] | None = None) -> Table:
    """Rich table: one row per arm, one column per KPI (default the headline KPIs), 'diff ± CI'
    with a mark when the effect is meaningful."""
    from rich.table import Table

    from analysis import compare as cmp
    from simulation.kpis import KPI_LABELS

    kpis = cmp.HEADLINE_KPIS if kpis is None else kpis
    reps = result.experiment.replications
    table = Table(title=f"{result.experiment.scenario}: effect vs baseline, mean paired difference "
                        f"± 95% CI half-width over {reps} replications (✓ better, ✗ worse: significant after Holm and at least the KPI's minimal important difference)"
                        + (f"; parameter uncertainty included: replication r draws its parameters from "
                           f"{result.experiment.posterior}" if result.experiment.posterior else ""))
    table.add_column("arm")
    for kpi in kpis:
        zh, en = KPI_LABELS.get(kpi, (kpi, kpi))
        table.add_column(f"{zh}\n{en}", justify="right")
    base = result.effects.drop_duplicates("kpi").set_index("kpi")["baseline_mean"]
    table.add_row("baseline (level)", *(f"{base.get(k, float('nan')):.3g}" for k in kpis))
    for arm in result.ranking["arm"]:
        cells = []
        for kpi in kpis:
            row = result.effects[(result.effects["arm"] == arm) & (result.effects["kpi"] == kpi)]
            if row.empty:
                cells.append("")
                continue
            r = row.iloc[0]
            mark = {1: " ✓", -1: " ✗"}.get(int(r["better"]), "")
            half = (r["ci_high"] - r["ci_low"]) / 2
            cells.append(f"{cmp._fmt(r['diff'])} ±{abs(half):.3g}{mark}")
        table.add_row(arm, *cells)
    return table


def write_outputs(result: Comparison, out: Path, *, protect: list[Path] = (), figures: bool = True,
                  lang: str = "en", command: str | None = None) -> list[Path]:
    """effects.csv, ranking.csv, equity.csv, cost_effectiveness.csv, PNG figures and the policy
    brief (brief.html, brief.docx) in `out`."""
    from analysis import brief

    out = Path(out)
    protected = {p.resolve() for p in protect}
    targets = [out / name for name in ("brief.html", "brief.docx")]
    clash = [p for p in targets if p.resolve() in protected]
    if clash:
        raise ValueError(f"refusing to overwrite input file {clash[0]}; choose another --out")
    written = []
    tables = {"effects.csv": result.effects, "ranking.csv": result.ranking, "equity.csv": result.equity,
              "cost_effectiveness.csv": result.cost_effectiveness}
    for name, frame in tables.items():
        path = out / name
        if path.resolve() in protected:
            raise ValueError(f"refusing to overwrite input file {path}; choose another --out")
        if name == "cost_effectiveness.csv" and frame.empty:
            continue
        frame.to_csv(path, index=False, float_format="%.10g")
        written.append(path)
    drawn = _figures(result, lang)
    if figures:
        for block in drawn.all():
            path = out / f"{block.name}.png"
            path.write_bytes(block.png)
            written.append(path)
    written += brief.write_brief(result, out, lang=lang, command=command, figures=drawn)
    return written


def _figures(result: Comparison, lang: str) -> brief_module.BriefFigures:
    import warnings

    from analysis import brief
    from analysis.fonts import CJKFontWarning
    from analysis.plots import caption_line

    experiment = result.experiment
    name = Path(experiment.scenario).stem if experiment.scenario.endswith(".toml") else experiment.scenario
    caption = caption_line(name, experiment.replications, experiment.seed, lang)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CJKFontWarning)
        drawn = brief.make_figures(result, lang, caption)
    for message in dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, CJKFontWarning)):
        note(message)
    return drawn


def compare_command(scenario: str, countermeasures: list[str], packages: list[str], *, reps: int,
                    days: int | None, seed: int, out: Path, lang: str, experiment_file: bool) -> str:
    """The `onenet compare` command line that reproduces a comparison (executor options left out:
    results are identical on every executor)."""
    from analysis.brief import command_line

    if experiment_file:
        return command_line(["compare", scenario, "--out", str(out), "--lang", lang])
    args = ["compare", scenario]
    for c in countermeasures:
        args += ["-c", c]
    for p in packages:
        args += ["--package", p]
    args += ["--reps", str(reps), "--seed", str(seed)]
    if days is not None:
        args += ["--days", str(days)]
    return command_line([*args, "--out", str(out), "--lang", lang])


def _parse_packages(packages: list[str]) -> dict[str, list[str]]:
    from analysis.experiment import ExperimentError

    parsed: dict[str, list[str]] = {}
    for text in packages:
        name, sep, members = text.partition("=")
        overlays = [m.strip() for m in members.split("+") if m.strip()]
        if not sep or not name.strip() or not overlays:
            raise ExperimentError(f"--package {text!r}: write NAME=CM1+CM2 (overlay names or paths)")
        parsed[name.strip()] = overlays
    return parsed


def _is_experiment_file(path: Path) -> bool:
    """A TOML file whose first table is [experiment] (otherwise SCENARIO names a scenario)."""
    return path.suffix == ".toml" and path.is_file() and \
        path.read_text(encoding="utf-8").lstrip().startswith("[experiment]")


def _experiment(scenario: str, countermeasure: list[str], package: list[str], reps: int | None,
                days: int | None, seed: int | None) -> tuple[Experiment, list[Path]]:
    """The experiment the options describe, and its input files (validated, nothing run)."""
    from analysis.experiment import Experiment, ExperimentError, load_experiment
    from simulation.scenario import resolve_path

    path = Path(scenario)
    if _is_experiment_file(path):
        if countermeasure or package:
            raise ExperimentError(f"{path} is an experiment file: its countermeasures and packages "
                                  "are its arms; drop -c/--package or compare a scenario instead")
        experiment = load_experiment(path, {"replications": reps, "seed": seed, "days": days})
        inputs = [path]
    else:
        experiment = Experiment.build(scenario, countermeasure, _parse_packages(package),
                                      replications=10 if reps is None else reps,
                                      seed=0 if seed is None else seed, days=days)
        inputs = [resolve_path(scenario, kind="scenario"),
                  *(resolve_path(c, kind="countermeasure") for c in countermeasure)]
    if len(experiment.arms) < 2:
        raise ExperimentError("nothing to compare: name at least one countermeasure arm with "
                              "-c NAME or --package NAME=CM1+CM2 (the baseline arm is added by itself)")
    if experiment.replications < 2:
        raise ExperimentError(f"replications must be at least 2 for confidence intervals "
                              f"(got {experiment.replications})")
    experiment.resolve()  # every arm's scenario loads (a ScenarioError names file and key)
    return experiment, inputs


def compare(
    scenario: str = typer.Argument(..., help="scenario name or TOML (or an experiment TOML with an [experiment] table)"),
    countermeasure: list[str] = typer.Option([], "--countermeasure", "-c",
                                             help="overlay TOML or shipped name; one arm each; repeatable"),
    package: list[str] = typer.Option([], "--package", help="a stacked arm: NAME=CM1+CM2; repeatable"),
    reps: int | None = typer.Option(None, "--reps", min=2,
                                    help="replications per arm (common random numbers; default 10)"),
    days: int | None = typer.Option(None, "--days", min=1, max=MAX_DAYS, help=DAYS_HELP),
    seed: int | None = typer.Option(None, "--seed", min=0, help="experiment seed, a non-negative integer (default 0)"),
    workers: int = typer.Option(1, "--workers", min=1, help="local worker processes (1 = serial)"),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786"),
    out: Path = typer.Option(..., "--out", help="folder for results.sqlite, the CSVs and the figures"),
    figures: bool = typer.Option(True, "--figures/--no-figures", help="write PNG figures"),
    posterior: Path | None = typer.Option(None, "--posterior", help="a calibration's posterior.csv: "
                                          "replication r of every arm runs with posterior draw r"),
    draws: int | None = typer.Option(None, "--draws", min=1, help="posterior draws (default: one per "
                                     "replication; replication r uses draw r mod K)"),
    lang: str = typer.Option("en", "--lang", help="language of figures and the brief: en or zh"),
) -> None:
    """Compare countermeasures with the baseline: effects with 95% CIs, ranking, equity, cost.

    Re-running the same command resumes an interrupted experiment from results.sqlite (Ctrl-C
    prints the command). With an experiment TOML, --reps, --days and --seed fill in what its
    [experiment] table leaves out; an option that disagrees with the table is an error.
    One process at a time writes a --out folder (it holds --out/.lock). Also writes the policy
    brief, brief.html and brief.docx, in --lang (English by default).
    """
    import dataclasses

    from analysis import compare as cmp
    from analysis.experiment import ExperimentError
    from analysis.folderlock import FolderBusyError, FolderLock
    from analysis.store import StoreError
    from simulation.scenario import ScenarioError

    if lang not in ("en", "zh"):
        fail(f"--lang must be en or zh (got {lang!r})")
    try:
        experiment, inputs = _experiment(scenario, countermeasure, package, reps, days, seed)
        experiment_file = _is_experiment_file(Path(scenario))
        if posterior is not None or draws is not None:
            experiment = dataclasses.replace(
                experiment, posterior=str(posterior) if posterior is not None else experiment.posterior,
                draws=draws if draws is not None else experiment.draws)
        if experiment.posterior is not None:
            inputs.append(Path(experiment.posterior))
        check_out_folder(out)
        clash = [p for p in inputs if p.resolve() in {(out / f).resolve() for f in OUTPUT_FILES}]
        if clash:
            raise ValueError(f"refusing to overwrite input file {clash[0]}; choose another --out")
        check_scheduler(scheduler)
        with FolderLock(out, command_line()):
            result = compare_arms(experiment, out, workers=workers, scheduler=scheduler)
            console.print(effects_table(result))
            for line in cmp.verdict(result.effects, result.ranking):
                console.print("• " + line)
            command = compare_command(scenario, countermeasure, package, reps=experiment.replications,
                                      days=days, seed=experiment.seed, out=out, lang=lang,
                                      experiment_file=experiment_file)
            for path in [result.store, *write_outputs(result, out, protect=inputs, figures=figures, lang=lang,
                                                      command=command)]:
                console.print(f"wrote {path}")
    except KeyboardInterrupt:
        resume_hint()
    except (ExperimentError, StoreError, ScenarioError, FolderBusyError, ValueError) as error:
        fail(error)


__all__ = ["Comparison", "compare", "compare_arms", "compare_command", "effects_table", "write_outputs"]
