"""What every `onenet` command shares: the consoles, the error line, number formatting.

Kept free of heavy imports (numpy, pandas, scipy, mesa), so `onenet --help` starts at once.
"""

from __future__ import annotations

import math
import sys
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# wide enough for tables when output goes to a file or pipe (rich assumes 80 columns there)
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)  # error lines are never wrapped


def fail(message: object, code: int = 2) -> NoReturn:
    """Print `error: message` on stderr and exit with `code` (2: bad input, 1: a failed check)."""
    err_console.print(f"[bold red]error:[/bold red] {escape(str(message))}", highlight=False)
    raise typer.Exit(code)


def note(message: object) -> None:
    """Print `note: message` on stderr."""
    err_console.print(f"[yellow]note:[/yellow] {escape(str(message))}", highlight=False)


def fmt(value: float | None) -> str:
    """A KPI value for a table: thousands separators from 100 up, three decimals below, — for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3f}"
