"""The `onenet` command line: simulation runs, validation, the demo, and the survey tools."""

from __future__ import annotations

import math
import os
import sys
import tempfile
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from analysis.cli_compare import compare
from analysis.cli_survey import app as survey_app
from analysis.cli_sweep import sweep
from analysis.runs import RunResult, run_scenario, write_run
from simulation import KPI_NAMES, ScenarioError, load_scenario
from simulation.kpis import KPI_LABELS as KPI_TEXT
from simulation.scenario import resolve_path

app = typer.Typer(
    name="onenet",
    help="onenet-lab: simulate 'Internet + Government Services' reform and analyse survey data.",
    no_args_is_help=True,
    add_completion=False,
)
validate_app = typer.Typer(help="Check the model against theory.", no_args_is_help=True)
app.add_typer(validate_app, name="validate")
app.add_typer(survey_app, name="survey")
app.command("compare")(compare)
app.command("sweep")(sweep)

# wide enough for KPI tables when output goes to a file or pipe (rich assumes 80 columns there)
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)  # error lines are never wrapped

KPI_LABELS = {key: f"{zh} {en}" for key, (zh, en) in KPI_TEXT.items()}
# case-study demos: single countermeasures and stacked packages (overlay names)
DEMO_ARMS: dict[str, tuple[list[str], dict[str, list[str]]]] = {
    "q_county": (["q_county/staff_training", "q_county/integrated_network", "q_county/village_extension"],
                 {"package": ["q_county/staff_training", "q_county/integrated_network",
                              "q_county/village_extension", "q_county/publicity_education"]}),
    "baseline": (["one_window", "data_sharing", "run_at_most_once"],
                 {"package": ["one_window", "data_sharing", "run_at_most_once"]}),
}


def _fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/bold red] {escape(str(message))}", highlight=False)
    raise typer.Exit(code)


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3f}"


def _kpi_table(title: str, columns: dict[str, dict[str, float]]) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("KPI")
    for name in columns:
        table.add_column(name, justify="right")
    for key in KPI_NAMES:
        table.add_row(KPI_LABELS.get(key, key), *(_fmt(kpis[key]) for kpis in columns.values()))
    return table


def _run_with_progress(label: str, scenario: str, overlays: list[str], days: int | None,
                       seed: int) -> RunResult:
    loaded = load_scenario(scenario, overlays)
    n_days = days if days is not None else loaded.scenario.days
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} days"),
                  TimeElapsedColumn(), console=err_console, transient=True) as progress:
        task = progress.add_task(label, total=loaded.scenario.warmup_days + n_days)
        return run_scenario(loaded, days=n_days, seed=seed,
                            on_day=lambda _day: progress.advance(task))


@app.command()
def run(
    scenario: str = typer.Argument(..., help="scenario TOML file, or a shipped name (e.g. baseline)"),
    countermeasure: list[str] = typer.Option([], "--countermeasure", "-c",
                                             help="overlay TOML file or shipped name; repeatable"),
    days: int | None = typer.Option(None, "--days", min=1, help="working days to simulate"),
    seed: int = typer.Option(0, "--seed", help="random seed (same seed, same results)"),
    out: Path | None = typer.Option(None, "--out", help="write kpis.json, daily.csv, scenario.toml here"),
) -> None:
    """Simulate a scenario (with countermeasures stacked on it) and print its KPIs."""
    try:
        result = _run_with_progress(f"run {scenario}", scenario, countermeasure, days, seed)
        label = "+".join([result.scenario.scenario.name, *countermeasure]) or scenario
        console.print(_kpi_table(f"{label} — {result.days} days, seed {seed}", {label: result.kpis}))
        if out is not None:
            inputs = [resolve_path(scenario, kind="scenario"),
                      *(resolve_path(c, kind="countermeasure") for c in countermeasure)]
            for path in write_run(result, out, protect=inputs):
                console.print(f"wrote {path}")
    except (ScenarioError, ValueError) as error:
        _fail(str(error))


def _parse_setting(text: str) -> tuple[float, float, int]:
    parts = text.split(",")
    try:
        lam, mu, c = float(parts[0]), float(parts[1]), int(parts[2])
        if len(parts) != 3:
            raise ValueError
    except (ValueError, IndexError):
        raise typer.BadParameter(f"{text!r}: expected LAMBDA,MU,C (e.g. 0.95,1,1)", param_hint="--setting") from None
    if lam <= 0 or mu <= 0 or c < 1:
        raise typer.BadParameter(f"{text!r}: rates must be positive and C at least 1", param_hint="--setting")
    if lam / (mu * c) >= 1:
        raise typer.BadParameter(f"{text!r}: utilisation {lam / (mu * c):.3f} must be below 1 for M/M/c to be "
                                 "stable", param_hint="--setting")
    return lam, mu, c


@validate_app.command("queueing")
def validate_queueing_command(
    setting: list[str] = typer.Option([], "--setting", metavar="LAMBDA,MU,C",
                                      help="arrival rate /min, service rate /min, windows; repeatable "
                                           "(default: five settings up to M/M/1 at 95% load)"),
    days: int = typer.Option(100, "--days", min=22, max=5000, help="simulated 24-hour days per setting"),
    seed: int = typer.Option(0, "--seed", min=0),
    as_json: bool = typer.Option(False, "--json", help="print the checks as a JSON list"),
) -> None:
    """Reduce the hall to M/M/c and compare with Erlang C and Little's law (exit 1 on failure).

    The hall runs around the clock, so its queue carries across days; standard errors are batch
    means over ten blocks of consecutive days, and a check passes within four of them.
    """
    import json

    from simulation.validation import DEFAULT_SETTINGS, check_mmc

    settings = [_parse_setting(s) for s in setting] or list(DEFAULT_SETTINGS)
    checks = [check_mmc(lam, mu, c, days=days, seed=seed) for lam, mu, c in settings]
    failed = sum(not check.passed for check in checks)
    if as_json:
        print(json.dumps([{**check.__dict__, "passed": check.passed} for check in checks], indent=2))
        raise typer.Exit(1 if failed else 0)
    table = Table(title=f"M/M/c hall vs Erlang C — {days} days per setting, 4-SE tolerance (batch means)")
    for column in ("λ/min", "μ/min", "c", "customers", "P(wait) sim", "Erlang C", "Wq sim",
                   "Wq Erlang C", "L sim", "L=λW", "result"):
        table.add_column(column, justify="right")
    for check in checks:
        table.add_row(f"{check.arrival_rate:g}", f"{check.service_rate:g}", str(check.windows), f"{check.customers:,}",
                      f"{check.p_wait_sim:.4f} ± {check.p_wait_se:.4f}", f"{check.p_wait_theory:.4f}",
                      f"{check.wait_sim:.4f} ± {check.wait_se:.4f}", f"{check.wait_theory:.4f}",
                      f"{check.in_system_sim:.3f} ± {check.in_system_se:.3f}",
                      f"{check.in_system_little:.3f}",
                      "[green]pass[/green]" if check.passed else "[red]FAIL[/red]")
    console.print(table)
    if failed:
        _fail(f"{failed} setting(s) disagree with Erlang C beyond sampling error", code=1)
    console.print("[green]The simulated hall reproduces Erlang C and Little's law.[/green]")


@app.command()
def demo(
    scenario: str = typer.Option("q_county", "--scenario", help="case-study scenario to compare"),
    reps: int = typer.Option(6, "--reps", min=2, help="replications per arm"),
    days: int = typer.Option(120, "--days", min=1, help="working days per run"),
    seed: int = typer.Option(0, "--seed"),
    workers: int = typer.Option(min(2, os.cpu_count() or 1), "--workers", min=1,
                                help="local worker processes"),
    out: Path | None = typer.Option(None, "--out", help="keep results.sqlite, CSVs and figures here"),
) -> None:
    """A case-study comparison: Q County's baseline vs its thesis's countermeasures, with a verdict."""
    from analysis import compare as cmp
    from analysis.cli_compare import compare_arms, effects_table, write_outputs
    from analysis.experiment import Experiment, ExperimentError

    arms = DEMO_ARMS.get(scenario)
    if arms is None:
        _fail(f"no demo for scenario {scenario!r}; choose one of {sorted(DEMO_ARMS)}")
    singles, packages = arms
    try:
        experiment = Experiment.build(scenario, singles, packages, replications=reps, seed=seed, days=days)
        with tempfile.TemporaryDirectory(prefix="onenet-demo-") as scratch:
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
                        f"{row.verdict} the {KPI_TEXT[row.kpi][1].lower()} ({row.diff:+.3f})")
            for arm, items in changes.items():
                console.print(f"• equity, {arm}: " + "; ".join(items) + ".")
            if out is not None:
                for path in [result.store, *write_outputs(result, folder)]:
                    console.print(f"wrote {path}")
    except (ScenarioError, ExperimentError, ValueError) as error:
        _fail(str(error))


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
