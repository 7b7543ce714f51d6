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
import re
import shutil
import signal
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


# Every wait is on a condition, bounded, and says what it waited for. The bounds are generous:
# on two busy cores (the suite's other worker, a second job) starting Solara and building the
# model with its baseline twin takes several times what it takes on an idle machine.
START_SECONDS = 240  # `onenet dashboard` printing its address and the page answering 200
WAIT_MS = 120_000  # any one thing on the page (first render, a step, the charts redrawn)
START_TRIES = 3  # a port taken between the command choosing it and Solara binding it


def _log_tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:]) or "(nothing)"


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        try:
            os.killpg(server.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)


def _start_dashboard(log: Path) -> tuple[subprocess.Popen, str | None]:
    """Start `onenet dashboard` on a port of its choosing; return it and its answering address,
    or no address when it exited first (its log says why)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with log.open("w") as out:  # a file, not a pipe: a full pipe would stall the server
        server = subprocess.Popen([sys.executable, "-m", "analysis.cli", "dashboard", "shayan_town",
                                   "--seed", "3", "--days", "60"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + START_SECONDS
    url = None
    while time.monotonic() < deadline and server.poll() is None:
        if url is None:  # the command prints its address first
            found = re.search(r"onenet dashboard: (http://127\.0\.0\.1:\d+/)", _log_tail(log, 5))
            url = found.group(1) if found else None
        else:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    if response.status == 200:
                        return server, url
            except OSError:
                pass
        time.sleep(0.5)
    if server.poll() is not None:
        return server, None
    _stop(server)
    raise AssertionError(f"`onenet dashboard` did not answer at {url or '(no address printed)'} within "
                         f"{START_SECONDS} s; its output:\n{_log_tail(log)}")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, timeout=WAIT_MS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory):
    from analysis import viz_assets

    assert not viz_assets.missing_assets(), "run `onenet dashboard --install-assets` first (.ci/run does)"
    folder = tmp_path_factory.mktemp("dashboard")
    for attempt in range(1, START_TRIES + 1):
        log = folder / f"server-{attempt}.log"
        server, url = _start_dashboard(log)
        if url is not None:
            break
        if "address already in use" not in _log_tail(log).lower() or attempt == START_TRIES:
            raise AssertionError(f"`onenet dashboard` exited with code {server.returncode} before "
                                 f"answering; its output:\n{_log_tail(log)}")
    try:
        yield url
    finally:
        _stop(server)


def _chart_sources(page) -> list[str]:
    return page.eval_on_selector_all("img", "els => els.map(e => e.src)")


def _until(what: str, wait, *args, page=None, **kwargs):
    """Run a Playwright wait; on timeout fail saying what was awaited (and, given the page,
    what its day line showed then)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        return wait(*args, **kwargs)
    except PlaywrightTimeout:
        shown = ""
        if page is not None:
            day = page.eval_on_selector_all(".onenet-day", "els => els.map(e => e.textContent)")
            shown = f"; the page showed {day or 'no day line'}"
        raise AssertionError(f"waited {WAIT_MS // 1000} s for {what}{shown}") from None


def test_levers_move_steps_run_and_charts_change_without_page_errors(browser, dashboard_url, tmp_path):
    page = browser.new_page(viewport={"width": 1500, "height": 1200})
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _until("the page to load", page.goto, dashboard_url)
    # the slider's label (the lever table below has a "Publicity" cell too)
    lever_label = page.locator("label", has_text="Publicity").first
    _until("the lever 'Publicity'", lever_label.wait_for)
    _until("nine charts", page.wait_for_function, "document.querySelectorAll('img').length >= 9")
    _until("the lever table at day 0", page.wait_for_function,
           "(document.querySelector('.onenet-day')?.textContent ?? '').startsWith('day 0 ')", page=page)
    sliders = page.locator("[role=slider]")
    assert sliders.count() >= 12  # the numeric policy levers, days and the two play controls
    for label in ("Data sharing", "Parallel approval", "Station scope", "one_window", "shayan_town/"):
        assert page.get_by_text(label).count() >= 1, label
    before = _chart_sources(page)

    publicity = page.locator(".v-input", has=page.locator("label", has_text="Publicity")).locator("[role=slider]")
    assert publicity.get_attribute("aria-valuenow") == "0"
    publicity.focus()
    page.keyboard.press("End")
    _until("the Publicity slider at 1", page.wait_for_function,
           "el => el.getAttribute('aria-valuenow') === '1'", arg=publicity.element_handle())
    row = page.locator(".onenet-table tr", has=page.get_by_text("Publicity", exact=True))
    page.get_by_role("button", name="Reset").click()
    # the reset model shows the moved lever beside the baseline before anything is stepped
    _until("the lever table to show Publicity 1 after Reset", page.wait_for_function,
           "() => [...document.querySelectorAll('.onenet-table tr')].some(tr => tr.cells[0]?.textContent"
           " === 'Publicity' && tr.cells[1].textContent.startsWith('1 ←'))", page=page)
    for day in (1, 2, 3):  # one step at a time, each awaited, so no click lands mid-update
        page.get_by_role("button", name="Step").click()
        _until(f"'day {day}' after step {day}", page.wait_for_function,
               f"(document.querySelector('.onenet-day')?.textContent ?? '').startsWith('day {day} ')",
               page=page)
    assert row.locator("td").nth(1).inner_text().startswith("1 ←")  # current beside baseline
    assert row.locator("td").nth(2).inner_text() == "0"
    _until("all nine charts redrawn after three steps", page.wait_for_function,
           "before => { const now = [...document.querySelectorAll('img')].map(e => e.src);"
           " return now.length === before.length && now.filter((s, i) => s !== before[i]).length >= 9; }",
           arg=before)
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
