"""`onenet survey ...`: questionnaire analysis from the command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="Analyse questionnaire data (describe, clean, reliability, efa, report).",
                  no_args_is_help=True)
