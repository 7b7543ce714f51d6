"""The dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
Playwright loads `onenet dashboard`, finds the levers and charts, moves a lever, resets and steps
the model, and sees the charts and the lever table change with no page error. The policy brief's
HTML renders in the same browser.

Set ONENET_DASHBOARD_SCREENSHOT=path to keep the screenshot (docs/dashboard.png comes from it).
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed "
                                "(/usr/bin/chromium); .ci/run installs it with apt-get")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def dashboard_url():
    from analysis import viz_assets

    assert not viz_assets.missing_assets(), "run `onenet dashboard --install-assets` first (.ci/run does)"
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen([sys.executable, "-m", "analysis.cli", "dashboard", "shayan_town", "--port", str(port),
                               "--seed", "3", "--days", "60"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        first = server.stdout.readline()
        assert url in first, first  # the command prints the address
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("dashboard did not start: " + server.stdout.read()) from None
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _chart_sources(page) -> list[str]:
    return page.eval_on_selector_all("img", "els => els.map(e => e.src)")


def test_levers_move_steps_run_and_charts_change_without_page_errors(browser, dashboard_url, tmp_path):
    page = browser.new_page(viewport={"width": 1500, "height": 1200})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard_url, timeout=90_000)
    page.get_by_text("Publicity", exact=True).wait_for(timeout=90_000)
    page.wait_for_function("document.querySelectorAll('img').length >= 9", timeout=90_000)
    sliders = page.locator("[role=slider]")
    assert sliders.count() >= 12  # the numeric policy levers, days and the two play controls
    for label in ("Data sharing", "Parallel approval", "Station scope", "one_window", "shayan_town/"):
        assert page.get_by_text(label).count() >= 1, label
    before = _chart_sources(page)

    publicity = page.locator(".v-input", has=page.get_by_text("Publicity", exact=True)).locator("[role=slider]")
    assert publicity.get_attribute("aria-valuenow") == "0"
    publicity.focus()
    page.keyboard.press("End")
    page.wait_for_function("el => el.getAttribute('aria-valuenow') === '1'", arg=publicity.element_handle())
    page.get_by_role("button", name="Reset").click()
    for _ in range(3):
        page.get_by_role("button", name="Step").click()
    page.get_by_text("day 3", exact=False).wait_for(timeout=60_000)
    row = page.locator(".onenet-table tr", has=page.get_by_text("Publicity", exact=True))
    assert row.locator("td").nth(1).inner_text().startswith("1 ←")  # current beside baseline
    assert row.locator("td").nth(2).inner_text() == "0"
    page.wait_for_timeout(1000)
    after = _chart_sources(page)
    assert len(after) == len(before) and sum(a != b for a, b in zip(before, after, strict=True)) >= 9
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 20_000
    if os.environ.get("ONENET_DASHBOARD_SCREENSHOT"):
        shutil.copy(shot, os.environ["ONENET_DASHBOARD_SCREENSHOT"])
    assert errors == []
    page.close()


def test_the_brief_renders_in_the_browser_with_its_figures(browser, tmp_path):
    from matplotlib.figure import Figure

    from analysis import brief

    fig = Figure(figsize=(3, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    sections = [brief.Section(key, heading[1], [brief.Paragraph(f"text of {key}")])
                for key, heading in brief.SECTIONS.items()]
    sections[3].blocks.append(brief.FigureBlock("forest_x", buffer.getvalue(), "A forest plot"))
    sections[3].blocks.append(brief.Table(["arm", "effect"], [["one_window", "-0.1 [-0.2, 0.0]"]]))
    path = tmp_path / "brief.html"
    path.write_text(brief.to_html(brief.Brief("Policy brief: test", "en", sections)), encoding="utf-8")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    headings = page.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
    assert headings == [h[1] for h in brief.SECTIONS.values()]
    widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
    assert widths == [300]  # the inlined PNG decoded (3 in x 100 dpi)
    assert page.locator("td", has_text="one_window").count() == 1
    assert errors == []
    assert base64.b64encode(buffer.getvalue()).decode()[:40] in page.content()
    page.close()
