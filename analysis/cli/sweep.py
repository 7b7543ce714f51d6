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
    for column in ("method", "rank", "group", "index", "score", "strongest outcome"):
        table.add_column(column, justify="right" if column in ("rank", "score") else "left")
    for row in result.ranking.itertuples(index=False):
        table.add_row(row.method, str(row.rank), row.group, row.index, f"{row.score:.3f}",
                      row.strongest_outcome)
    return table


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
    out: Path | None = typer.Option(None, "--out", help="write CSVs and charts into this folder"),
    workers: int = typer.Option(1, "--workers", min=1, help="processes for the model runs"),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786"),
) -> None:
    """Sensitivity study (Morris / Sobol): which group of parameters restricts the KPIs most."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from analysis.sensitivity import StudyError, run_study

    try:
        with Progress(TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total} runs"), TimeElapsedColumn(),
                      console=err_console, transient=True) as progress:
            task = progress.add_task(f"sweep {study.name}", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = run_study(study, workers=workers, scheduler=scheduler, progress=advance)
        console.print(_ranking_table(result, f"{study.name} — groups ranked by influence "
                                             "(1 = restricts outcomes most)"))
        if out is not None:
            for path in write_outputs(result, out, protect=[study]):
                console.print(f"wrote {path}")
    except (StudyError, ValueError) as error:
        fail(error)
