"""The `onenet` command line: simulation runs, validation, the demo, and the survey tools."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from analysis.cli_survey import app as survey_app
from analysis.runs import RunResult, run_scenario, write_run
from simulation import KPI_NAMES, ScenarioError, load_scenario
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

# wide enough for KPI tables when output goes to a file or pipe (rich assumes 80 columns there)
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)

KPI_LABELS = {
    "cases_completed": "办结件数 Cases completed",
    "visits_per_case": "跑动次数 Visits per case",
    "share_zero_visit": "零跑动占比 Share with zero visits",
    "share_at_most_once": "最多跑一次占比 Share with at most one visit",
    "wait_minutes_mean": "平均等候(分) Hall wait, mean (min)",
    "wait_minutes_p95": "等候P95(分) Hall wait, 95th pct (min)",
    "window_utilisation": "窗口利用率 Window utilisation",
    "days_to_complete_mean": "办结天数 Days to complete, mean",
    "overdue_share": "超期占比 Overdue share",
    "resubmissions_per_case": "重复提交 Resubmissions per case",
    "online_share": "网办率 Online share",
    "online_share_simple": "网办率(简单) Online share, simple",
    "online_share_complex": "网办率(复杂) Online share, complex",
    "satisfaction_mean": "满意度均值 Satisfaction, mean (1-5)",
    "share_satisfied": "满意占比 Share satisfied",
    "good_review_rate": "好评率 Good-review rate",
    "rating_participation": "评价参与率 Rating participation",
    "online_share_gap_rural": "城乡网办差 Online gap, rural",
    "online_share_gap_elderly": "老年网办差 Online gap, 60+",
    "satisfaction_gap_rural": "城乡满意度差 Satisfaction gap, rural",
    "visits_gap_elderly": "老年跑动差 Visits gap, 60+",
    "backlog_cases": "积压件数 Back-office backlog",
    "staff_hours_per_case": "人时/件 Staff hours per case",
}
DEMO_COUNTERMEASURES = ("one_window", "data_sharing", "run_at_most_once")


def _fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False)
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
        task = progress.add_task(label, total=n_days)
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


@validate_app.command("queueing")
def validate_queueing_command(
    days: int = typer.Option(30, "--days", min=3, help="simulated 24-hour days per setting"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Reduce the hall to M/M/c and compare with Erlang C and Little's law (exit 1 on failure)."""
    from simulation.validation import DEFAULT_SETTINGS, check_mmc

    table = Table(title=f"M/M/c hall vs Erlang C — {days} days per setting, 4-SE tolerance")
    for column in ("λ/min", "μ/min", "c", "customers", "P(wait) sim", "Erlang C", "Wq sim",
                   "Wq Erlang C", "L sim", "L=λW", "result"):
        table.add_column(column, justify="right")
    failed = 0
    for lam, mu, c in DEFAULT_SETTINGS:
        check = check_mmc(lam, mu, c, days=days, seed=seed)
        failed += not check.passed
        table.add_row(f"{lam:g}", f"{mu:g}", str(c), f"{check.customers:,}",
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
    days: int = typer.Option(120, "--days", min=1, help="working days per run"),
    seed: int = typer.Option(0, "--seed"),
    out: Path | None = typer.Option(None, "--out", help="write each run's outputs under this folder"),
) -> None:
    """Simulate the baseline county and three countermeasures; print the KPIs side by side."""
    arms: dict[str, list[str]] = {"baseline": []}
    arms.update({name: [name] for name in DEMO_COUNTERMEASURES})
    results: dict[str, RunResult] = {}
    try:
        for name, overlays in arms.items():
            results[name] = _run_with_progress(name, "baseline", overlays, days, seed)
    except (ScenarioError, ValueError) as error:
        _fail(str(error))
    console.print(_kpi_table(f"Baseline county vs countermeasures — {days} working days, seed {seed} "
                             "(same citizens and arrivals in every arm)",
                             {name: r.kpis for name, r in results.items()}))
    base = results["baseline"].kpis
    for name in DEMO_COUNTERMEASURES:
        k = results[name].kpis
        console.print(f"• {name}: visits per case {base['visits_per_case']:.2f} → "
                      f"{k['visits_per_case']:.2f}, at most one visit {base['share_at_most_once']:.0%} → "
                      f"{k['share_at_most_once']:.0%}, satisfaction {base['satisfaction_mean']:.2f} → "
                      f"{k['satisfaction_mean']:.2f}")
    if out is not None:
        for name, result in results.items():
            write_run(result, Path(out) / name)
        console.print(f"wrote outputs under {out}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
