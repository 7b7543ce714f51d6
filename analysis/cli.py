"""The `onenet` command line: simulation runs, validation, the demo, and the survey tools."""

from __future__ import annotations

import typer

from analysis.cli_survey import app as survey_app

app = typer.Typer(
    name="onenet",
    help="onenet-lab: simulate 'Internet + Government Services' reform and analyse survey data.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(survey_app, name="survey")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
