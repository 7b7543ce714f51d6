"""The `onenet` command line, one module per command group.

`run` (run, demo), `validate`, `compare`, `sweep`, `survey`, `targets` and `dashboard`. Each
module imports its heavy dependencies inside the commands, so `onenet --help` starts at once.
"""

from __future__ import annotations

import typer

from analysis.cli.compare import compare
from analysis.cli.dashboard import dashboard
from analysis.cli.run import demo, run
from analysis.cli.survey import app as survey_app
from analysis.cli.sweep import sweep
from analysis.cli.targets import app as targets_app
from analysis.cli.validate import app as validate_app

app = typer.Typer(
    name="onenet",
    help="onenet-lab: simulate 'Internet + Government Services' reform and analyse survey data.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("run")(run)
app.command("demo")(demo)
app.command("compare")(compare)
app.command("sweep")(sweep)
app.command("dashboard")(dashboard)
app.add_typer(validate_app, name="validate")
app.add_typer(survey_app, name="survey")
app.add_typer(targets_app, name="targets")


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
