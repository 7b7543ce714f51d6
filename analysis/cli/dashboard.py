"""`onenet dashboard`: the SolaraViz page of the model (simulation/app.py), served by
`solara run`, and `--install-assets` to put Solara's front-end files in place for offline use.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import typer

from analysis.cli.common import console, fail, note

VIZ_HINT = "python3 -m pip install 'onenet-lab[viz]'"
# what the page imports (`mesa.visualization` imports Altair at import time)
VIZ_MODULES = ("solara", "ipyvuetify", "altair")


def _viz_installed() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in VIZ_MODULES)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def dashboard(
    scenario: str = typer.Argument("baseline", help="scenario name or TOML path to start with"),
    countermeasure: list[str] = typer.Option([], "--countermeasure", "-c",
                                             help="overlay switched on at the start; repeatable"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="port (default: a free one)"),
    seed: int = typer.Option(0, "--seed", help="seed of the run and of its baseline twin"),
    days: int = typer.Option(120, "--days", min=5, max=500, help="measured days to simulate"),
    lang: str = typer.Option("en", "--lang", help="labels: en or zh"),
    install_assets: bool = typer.Option(False, "--install-assets",
                                        help="fetch Solara's front-end files from the npm registry for offline use, then exit"),
) -> None:
    """Serve the live dashboard: levers, countermeasures and KPIs beside the baseline (same seed).

    Needs the viz extra (onenet-lab[viz]). Offline, run `onenet dashboard --install-assets` once.
    """
    if not _viz_installed():
        fail(f"the dashboard needs Solara, ipyvuetify<3 and Altair; install them with: {VIZ_HINT}")
    from analysis import viz_assets

    if install_assets:
        try:
            viz_assets.install_assets(log=console.print)
        except viz_assets.AssetError as error:
            fail(error, code=1)
        console.print(f"Solara's front-end files are in {viz_assets.cache_dir()}")
        return
    if lang not in ("en", "zh"):
        fail(f"--lang must be en or zh (got {lang!r})")
    from simulation.scenario import ScenarioError, load_scenario

    try:  # a bad scenario or overlay is reported here, not as a blank page
        load_scenario(scenario, countermeasure)
    except ScenarioError as error:
        fail(error)
    missing = viz_assets.missing_assets()
    if missing:
        note(f"Solara's front-end files are not installed ({', '.join(missing)}); without internet "
             f"access the page stays blank. Run once: onenet dashboard --install-assets")
    port = port or _free_port(host)
    env = dict(os.environ, ONENET_DASHBOARD_SCENARIO=scenario,
               ONENET_DASHBOARD_OVERLAYS=json.dumps(countermeasure), ONENET_DASHBOARD_SEED=str(seed),
               ONENET_DASHBOARD_DAYS=str(days), ONENET_DASHBOARD_LANG=lang,
               SOLARA_TELEMETRY_MIXPANEL_ENABLE="False")
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    command = [sys.executable, "-m", "solara", "run", "simulation.app", "--host", host, "--port", str(port),
               "--production", "--no-open"]
    console.print(f"onenet dashboard: http://{host}:{port}/  (Ctrl-C stops it)", highlight=False)
    sys.stdout.flush()
    try:
        code = subprocess.call(command, env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


__all__ = ["dashboard"]
