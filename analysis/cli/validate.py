"""`onenet validate ...`: check the model against theory (the hall as M/M/c against Erlang C) and a
calibration against its held-out targets."""

from __future__ import annotations

import typer
from rich.table import Table

from analysis.cli.common import console, fail

app = typer.Typer(help="Check the model against theory, and a calibration against held-out targets.",
                  no_args_is_help=True, rich_markup_mode=None)


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


@app.command("queueing")
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
        fail(f"{failed} setting(s) disagree with Erlang C beyond sampling error", code=1)
    console.print("[green]The simulated hall reproduces Erlang C and Little's law.[/green]")


@app.command("calibration")
def validate_calibration_command(
    folder: str = typer.Argument(..., metavar="DIR", help="a calibration folder (with targets_fit.csv)"),
    alpha: float = typer.Option(0.05, "--alpha", min=0.0, max=1.0,
                                help="level of the binomial test against the nominal miss rate"),
) -> None:
    """Check held-out targets against their 90% posterior-predictive intervals (exit 1 on failure).

    Each held-out target misses its interval with probability 0.10 by chance; the calibration
    fails when the number of misses is improbably large (one-sided binomial test at ALPHA), or
    when one lies further from its prediction than chance allows (|z| beyond the Bonferroni
    bound at ALPHA over the held-out targets).
    Held-out targets of `onenet calibrate --validate-targets` files (a reform's after-figures)
    are listed with the countermeasures they were predicted under.
    """
    from analysis.calibration import CalibrationError
    from analysis.calibration.validation import validate_calibration
    from analysis.cli.calibrate import target_label

    try:
        verdict = validate_calibration(folder, alpha=alpha)
    except CalibrationError as error:
        fail(error, code=2)
    table = Table(title=f"Held-out targets of {folder} — 90% posterior-predictive intervals")
    for column in ("target", "observed", "se", "predictive mean", "90% interval", "z", "result"):
        table.add_column(column, justify="right")
    for row in verdict.table.itertuples():
        table.add_row(target_label(row), f"{row.observed:.4g}", f"{row.se:.4g}", f"{row.pp_mean:.4g}",
                      f"{row.pp_low:.4g} – {row.pp_high:.4g}", f"{row.z:+.2f}",
                      "[green]inside[/green]" if row.covered else "[red]outside[/red]")
    console.print(table)
    summary = (f"{verdict.misses} of {verdict.held_out} held-out target(s) outside their interval; "
               f"P(at least that many | {verdict.miss_rate:.0%} by chance) = {verdict.p_value:.3g}")
    if verdict.p_value < alpha:
        fail(f"{summary} < {alpha:g}: the calibrated model does not reproduce the held-out targets",
             code=1)
    if verdict.far:
        fail(f"{summary}, but {', '.join(verdict.far)} lie(s) beyond |z| = "
             f"{verdict.z_critical:.2f}, further than chance allows among {verdict.held_out} "
             "held-out target(s): the calibrated model does not reproduce them", code=1)
    console.print(f"[green]{summary} >= {alpha:g}, none beyond |z| = {verdict.z_critical:.2f}: "
                  "held-out targets are reproduced.[/green]")
