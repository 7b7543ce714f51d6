"""What every `onenet` command shares: the consoles, the error line, number formatting.

Kept free of heavy imports (numpy, pandas, scipy, mesa), so `onenet --help` starts at once.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
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


# the longest run a scenario file may ask for (`scenario.days` in simulation/scenario.py)
MAX_DAYS = 5000
DAYS_HELP = f"working days per run, 1 to {MAX_DAYS} (default: the scenario's)"
SCHEDULER_TIMEOUT_SECONDS = 10.0


def check_out_folder(out: Path | None) -> None:
    """`--out` must name a folder (new or existing), never an existing file."""
    if out is None:
        return
    for place in (out, *out.parents):
        if place.exists():
            if not place.is_dir():
                where = f"--out {out}" if place == out else f"--out {out}: {place}"
                fail(f"{where} is a file, not a folder; --out names a folder for the results "
                     "(new or existing)")
            return


def check_scheduler(address: str | None, timeout: float = SCHEDULER_TIMEOUT_SECONDS) -> None:
    """A Dask scheduler must accept a connection within `timeout` seconds, before any work."""
    if address is None:
        return
    import importlib.util
    import socket
    from urllib.parse import urlsplit

    if importlib.util.find_spec("distributed") is None:
        fail("--scheduler needs dask.distributed: pip install 'onenet-lab[dask]'")
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        port = parts.port or 8786
    except ValueError:
        fail(f"--scheduler {address}: the port must be a number, e.g. tcp://host:8786")
    if parts.scheme not in ("tcp", "tls") or not parts.hostname:
        fail(f"--scheduler {address}: write tcp://HOST:PORT (or tls://HOST:PORT), e.g. tcp://host:8786")
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as error:
        reason = "timed out" if isinstance(error, TimeoutError) else (error.strerror or str(error))
        fail(f"--scheduler {address}: no Dask scheduler reachable within {timeout:g} s ({reason}); "
             "nothing was run or written")


def command_line() -> str:
    """This command as a user would type it again (`onenet` and the same arguments)."""
    import shlex

    return shlex.join(["onenet", *sys.argv[1:]])


def resume_hint(code: int = 130, store: str = "results.sqlite") -> NoReturn:
    """After Ctrl-C: say that finished runs are kept (in `store`) and print the command that resumes."""
    note(f"interrupted; every finished run is kept in {store}. Resume with:\n  " + command_line())
    raise typer.Exit(code)
