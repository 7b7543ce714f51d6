"""`onenet run` and `onenet demo`: one scenario's KPIs, and a case-study comparison with a verdict."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from analysis.cli.common import (
    DAYS_HELP,
    MAX_DAYS,
    check_out_folder,
    command_line,
    console,
    err_console,
    fail,
    fmt,
    note,
    resume_hint,
)

if TYPE_CHECKING:
    from rich.table import Table

    from analysis.runs import RunResult
    from simulation.scenario import Scenario

# case-study demos: single countermeasures and stacked packages (overlay names)
DEMO_ARMS: dict[str, tuple[list[str], dict[str, list[str]]]] = {
    "q_county": (["q_county/staff_training", "q_county/integrated_network", "q_county/village_extension"],
                 {"package": ["q_county/staff_training", "q_county/integrated_network",
                              "q_county/village_extension", "q_county/publicity_education"]}),
    "baseline": (["one_window", "data_sharing", "run_at_most_once"],
                 {"package": ["one_window", "data_sharing", "run_at_most_once"]}),
}


def _kpi_table(title: str, columns: dict[str, dict[str, float]]) -> Table:
    from rich.table import Table

    from simulation.kpis import KPI_LABELS, KPI_NAMES

    table = Table(title=title, show_lines=False)
    table.add_column("KPI")
    for name in columns:
        table.add_column(name, justify="right")
    for key in KPI_NAMES:
        zh, en = KPI_LABELS.get(key, (key, ""))
        table.add_row(f"{zh} {en}".strip(), *(fmt(kpis[key]) for kpis in columns.values()))
    return table


def _run_with_progress(label: str, loaded: Scenario, days: int | None, seed: int) -> RunResult:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from analysis.runs import run_scenario

    n_days = days if days is not None else loaded.scenario.days
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} days"),
                  TimeElapsedColumn(), console=err_console, transient=True) as progress:
        task = progress.add_task(label, total=loaded.scenario.warmup_days + n_days)
        return run_scenario(loaded, days=n_days, seed=seed,
                            on_day=lambda _day: progress.advance(task))


def run(
    scenario: str = typer.Argument(..., help="scenario TOML file, or a shipped name (e.g. baseline)"),
    countermeasure: list[str] = typer.Option([], "--countermeasure", "-c",
                                             help="overlay TOML file or shipped name; repeatable"),
    days: int | None = typer.Option(None, "--days", min=1, max=MAX_DAYS, help=DAYS_HELP),
    seed: int = typer.Option(0, "--seed", min=0, help="random seed, a non-negative integer (same seed, same results)"),
    out: Path | None = typer.Option(None, "--out", help="write kpis.json, daily.csv, scenario.toml here"),
) -> None:
    """Simulate a scenario (with countermeasures stacked on it) and print its KPIs."""
    from contextlib import nullcontext

    from analysis.folderlock import FolderBusyError, FolderLock
    from analysis.runs import OUTPUT_FILES, write_run
    from simulation.scenario import ScenarioError, load_scenario, resolve_path

    try:
        check_out_folder(out)
        loaded = load_scenario(scenario, countermeasure)
        inputs = [resolve_path(scenario, kind="scenario"),
                  *(resolve_path(c, kind="countermeasure") for c in countermeasure)]
        if out is not None:
            clash = [p for p in inputs if p.resolve() in {(out / f).resolve() for f in OUTPUT_FILES}]
            if clash:
                raise ValueError(f"refusing to overwrite input file {clash[0]}; choose another --out")
        with FolderLock(out, command_line()) if out is not None else nullcontext():
            result = _run_with_progress(f"run {scenario}", loaded, days, seed)
            label = "+".join([result.scenario.scenario.name, *countermeasure]) or scenario
            console.print(_kpi_table(f"{label} — {result.days} days, seed {seed}", {label: result.kpis}))
            if out is not None:
                for path in write_run(result, out, protect=inputs):
                    console.print(f"wrote {path}")
    except KeyboardInterrupt:
        note("interrupted; nothing was written")
        raise typer.Exit(130) from None
    except (ScenarioError, FolderBusyError, ValueError) as error:
        fail(str(error))


def demo(
    scenario: str = typer.Option("q_county", "--scenario", help="case-study scenario to compare"),
    reps: int = typer.Option(6, "--reps", min=2, help="replications per arm"),
    days: int = typer.Option(120, "--days", min=1, max=MAX_DAYS, help=f"working days per run, 1 to {MAX_DAYS}"),
    seed: int = typer.Option(0, "--seed", min=0, help="experiment seed, a non-negative integer"),
    workers: int = typer.Option(min(2, os.cpu_count() or 1), "--workers", min=1,
                                help="local worker processes"),
    out: Path | None = typer.Option(None, "--out", help="keep results.sqlite, CSVs, figures and the brief here"),
    lang: str = typer.Option("en", "--lang", help="language of figures and the brief: en or zh"),
) -> None:
    """A case-study comparison: Q County's baseline vs its thesis's countermeasures, with a verdict.

    With --out it also writes the policy brief (brief.html, brief.docx).
    """
    from analysis import compare as cmp
    from analysis.cli.compare import compare_arms, effects_table, write_outputs
    from analysis.experiment import Experiment, ExperimentError
    from analysis.folderlock import FolderBusyError, FolderLock
    from simulation.kpis import KPI_LABELS
    from simulation.scenario import ScenarioError

    if lang not in ("en", "zh"):
        fail(f"--lang must be en or zh (got {lang!r})")
    arms = DEMO_ARMS.get(scenario)
    if arms is None:
        fail(f"no demo for scenario {scenario!r}; choose one of {sorted(DEMO_ARMS)}")
    check_out_folder(out)
    singles, packages = arms
    try:
        experiment = Experiment.build(scenario, singles, packages, replications=reps, seed=seed, days=days)
        experiment.resolve()
        with tempfile.TemporaryDirectory(prefix="onenet-demo-") as scratch, \
                FolderLock(out if out is not None else scratch, command_line()):
            folder = Path(out) if out is not None else Path(scratch)
            result = compare_arms(experiment, folder, workers=workers)
            console.print(effects_table(result))
            console.print("[bold]Verdict[/bold]")
            for line in cmp.verdict(result.effects, result.ranking):
                console.print("• " + line)
            changes: dict[str, list[str]] = {}
            for row in result.equity.itertuples():
                if row.verdict != "no clear change":
                    changes.setdefault(row.arm, []).append(
                        f"{row.verdict} the {KPI_LABELS[row.kpi][1].lower()} ({row.diff:+.3f})")
            for arm, items in changes.items():
                console.print(f"• equity, {arm}: " + "; ".join(items) + ".")
            if out is not None:
                from analysis.brief import command_line as brief_command

                command = brief_command(["demo", "--scenario", scenario, "--reps", str(reps), "--days",
                                        str(days), "--seed", str(seed), "--out", str(out), "--lang", lang])
                for path in [result.store, *write_outputs(result, folder, lang=lang, command=command)]:
                    console.print(f"wrote {path}")
                console.print(f"Policy brief: {folder / 'brief.html'} (and {folder / 'brief.docx'})")
            else:
                console.print("Policy brief: run again with --out FOLDER to write brief.html and brief.docx")
            console.print(f"Explore it live: onenet dashboard {scenario} --seed {seed}  "
                          "(install the dashboard with: python3 -m pip install 'onenet-lab\\[viz]')")
    except KeyboardInterrupt:
        if out is None:
            note("interrupted")
            raise typer.Exit(130) from None
        resume_hint()
    except (ScenarioError, ExperimentError, FolderBusyError, ValueError) as error:
        fail(str(error))
