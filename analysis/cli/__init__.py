"""The `onenet` command line, one module per command group.

`run` (run, demo), `validate`, `compare`, `sweep`, `survey`, `targets`, `calibrate` and
`dashboard`. Each module imports its heavy dependencies inside the commands, so `onenet --help`
starts at once.
"""

from __future__ import annotations

import warnings

import typer

from analysis.cli.calibrate import calibrate_command
from analysis.cli.common import note
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
    rich_markup_mode=None,  # help texts are plain: [experiment] and [report] print as written
)


def _version() -> str:
    """The installed distribution's version, else the one in a source tree's pyproject.toml."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("onenet-lab")
    except PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        try:
            return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"onenet-lab {_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="print the onenet-lab version and exit"),
) -> None:
    """onenet-lab: simulate 'Internet + Government Services' reform and analyse survey data."""


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings meant for users (a missing CJK font) as one `note:` line; others as usual."""
    if category.__name__ == "CJKFontWarning":
        note(message)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning
app.command("run")(run)
app.command("demo")(demo)
app.command("compare")(compare)
app.command("sweep")(sweep)
app.command("calibrate")(calibrate_command)
app.command("dashboard")(dashboard)
app.add_typer(validate_app, name="validate")
app.add_typer(survey_app, name="survey")
app.add_typer(targets_app, name="targets")


def main() -> None:
    """Console-script entry point."""
    warnings.showwarning = _show_warning
    app()


__all__ = ["app", "main"]
