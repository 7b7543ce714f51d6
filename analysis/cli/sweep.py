"""The `onenet sweep STUDY.toml` command: run a sensitivity study, print the group ranking, and
write the indices (CSV) and bar charts (PNG) with `--out`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from analysis.cli.common import console, err_console, fail

if TYPE_CHECKING:
    from rich.table import Table

    from analysis.sensitivity import SensitivityResult


def _ranking_table(result: SensitivityResult, title: str) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for column in ("method", "rank", "group", "index", "score [95% CI]", "ranks (95%)", "P(first)",
                   "tied with", "strongest outcome"):
        table.add_column(column, justify="right" if column in ("rank", "P(first)") else "left")
    for row in result.ranking.itertuples(index=False):
        table.add_row(row.method, str(row.rank), row.group, row.index,
                      f"{row.score:.3f} [{row.score_low:.3f}, {row.score_high:.3f}]",
                      f"{row.rank_low}–{row.rank_high}", f"{row.p_first:.2f}", row.tied or "—",
                      row.strongest_outcome)
    return table


def separation_lines(result: SensitivityResult) -> list[str]:
    """One line per method: are the top two groups separated, or tied at this sample size?"""
    from analysis.sensitivity import top_separated

    lines = []
    for method, separated in top_separated(result.ranking).items():
        rows = result.ranking[result.ranking["method"] == method].sort_values("rank")
        if len(rows) < 2:
            continue
        first, second = rows["group"].iloc[0], rows["group"].iloc[1]
        if separated:
            lines.append(f"{method}: {first} ranks first; its score interval is clear of {second}'s.")
        else:
            size = "trajectories" if method == "morris" else "samples"
            lines.append(f"{method}: {first} and {second} are tied at the top (their score intervals "
                         f"overlap): the ranking cannot separate them at this size — raise [{method}] "
                         f"{size} to tell them apart.")
    return lines


def write_outputs(result: SensitivityResult, out: Path, *, protect: list[Path]) -> list[Path]:
    """Write indices, ranking, designs (CSV) and charts (PNG) into `out`; returns the paths.

    Refuses to write over any path in `protect` (the study's inputs).
    """
    from analysis.plots import sensitivity_bars

    tables = {"ranking.csv": result.ranking}
    if result.morris is not None:
        tables["morris_indices.csv"] = result.morris
    if result.sobol is not None:
        tables["sobol_indices.csv"] = result.sobol
    for method, design in result.designs.items():
        tables[f"design_{method}.csv"] = design
    figures = {"sensitivity_ranking.png": result.ranking}
    if result.morris is not None:
        figures["sensitivity_morris.png"] = result.morris
    if result.sobol is not None:
        figures["sensitivity_sobol.png"] = result.sobol
    targets = [out / name for name in [*tables, *figures]]
    protected = {p.resolve() for p in protect}
    clash = [t for t in targets if t.resolve() in protected]
    if clash:
        raise ValueError(f"refusing to overwrite input file {clash[0]}; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(out / name, index=name.startswith("design_"), float_format="%.10g")
    for name, data in figures.items():
        sensitivity_bars(data).savefig(out / name, dpi=120)
    return targets


def sweep(
    study: Path = typer.Argument(..., help="study TOML (e.g. scenarios/studies/restrictive_factors.toml)"),
    out: Path | None = typer.Option(None, "--out", help="write CSVs and charts into this folder; its "
                                    "sweep.sqlite keeps every finished sample, so the same command resumes"),
    workers: int = typer.Option(1, "--workers", min=1, help="processes for the model runs"),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786"),
) -> None:
    """Sensitivity study (Morris / Sobol): which group of parameters restricts the KPIs most,
    with bootstrap intervals of the ranking and the groups it cannot tell apart."""
    from contextlib import nullcontext

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from analysis.cli.common import check_out_folder, check_scheduler, command_line, resume_hint
    from analysis.folderlock import FolderBusyError, FolderLock
    from analysis.sensitivity import StudyError, load_study, run_study
    from analysis.store import StoreError

    try:
        load_study(study)  # a bad study file is refused before anything is written
        check_out_folder(out)
        check_scheduler(scheduler)
        with FolderLock(out, command_line()) if out is not None else nullcontext(), \
                Progress(TextColumn("{task.description}"), BarColumn(),
                         TextColumn("{task.completed}/{task.total} runs"), TimeElapsedColumn(),
                         console=err_console, transient=True) as progress:
            task = progress.add_task(f"sweep {study.name}", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = run_study(study, workers=workers, scheduler=scheduler, progress=advance,
                               store=out / "sweep.sqlite" if out is not None else None)
        console.print(_ranking_table(result, f"{study.name} — groups ranked by influence "
                                             "(1 = restricts outcomes most; 95% bootstrap intervals)"))
        for line in separation_lines(result):
            console.print("• " + line)
        if out is not None:
            for path in [out / "sweep.sqlite", *write_outputs(result, out, protect=[study])]:
                console.print(f"wrote {path}")
    except KeyboardInterrupt:
        if out is None:
            fail("interrupted (nothing kept: give --out DIR to keep finished samples and resume)", code=130)
        resume_hint(store="sweep.sqlite")
    except (StudyError, StoreError, FolderBusyError, ValueError) as error:
        fail(error)
