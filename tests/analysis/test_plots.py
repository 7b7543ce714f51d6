"""Figures: the expected artists and labels, Chinese labels in a CJK font when one is installed,
and a clear warning (with English labels) when none is."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

from analysis import fonts, plots

matplotlib.use("Agg")

ARMS = ["一窗受理 one_window", "数据共享 data_sharing", "最多跑一次 run_at_most_once"]


@pytest.fixture
def effects() -> pd.DataFrame:
    rows = []
    for i, arm in enumerate(ARMS):
        for kpi in ("visits_per_case", *plots.GAP_KPIS):
            diff = -0.1 * (i + 1)
            rows.append({"kpi": kpi, "arm": arm, "diff": diff, "ci_low": diff - 0.05,
                         "ci_high": diff + 0.05, "p_holm": 0.01 if i else 0.2})
    return pd.DataFrame(rows)


@pytest.fixture
def no_cjk(monkeypatch):
    monkeypatch.setattr(fonts, "find_cjk_font", lambda *args, **kwargs: None)
    monkeypatch.setattr(fonts, "_warned", False)  # the warning comes once per process


@pytest.fixture
def dejavu_as_cjk(monkeypatch):
    """Pretend the finder found a font (DejaVu Sans, always shipped with matplotlib)."""
    path = matplotlib.font_manager.findfont("DejaVu Sans")
    choice = fonts.FontChoice(family="DejaVu Sans", path=path)
    monkeypatch.setattr(fonts, "find_cjk_font", lambda *args, **kwargs: choice)


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def test_forest_plot_has_one_interval_per_arm_and_a_zero_line(effects, dejavu_as_cjk):
    fig = plots.forest_plot(effects, "visits_per_case")
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    assert len(ax.containers) == len(ARMS)  # one errorbar container per arm
    assert [t.get_text() for t in ax.get_yticklabels()] == ARMS  # first arm on top
    assert any(np.allclose(line.get_xdata(), 0.0) for line in ax.get_lines())
    assert ax.get_title() == "跑动次数 Visits per case"
    with pytest.raises(ValueError, match="no effects for KPI"):
        plots.forest_plot(effects, "online_share")


def test_forest_plot_draws_into_a_given_axes(effects, no_cjk):
    fig = Figure()
    ax = fig.add_subplot()
    with pytest.warns(fonts.CJKFontWarning):
        assert plots.forest_plot(effects, "visits_per_case", ax=ax) is fig
    assert len(ax.containers) == len(ARMS)


def test_kpi_series_has_one_line_per_arm_with_a_legend(dejavu_as_cjk):
    days = pd.RangeIndex(30, name="day")
    daily = {arm: pd.DataFrame({"online_share": np.linspace(0.1, 0.3 + i / 10, 30)}, index=days)
             for i, arm in enumerate(ARMS)}
    fig = plots.kpi_series(daily, "online_share", rolling=5)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == len(ARMS)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ARMS
    assert ax.get_ylabel() == "网办率 Online share"


def test_equity_gaps_from_kpis_by_arm_and_from_effects(effects, dejavu_as_cjk):
    kpis = {arm: {k: 0.1 * (i + 1) for k in plots.GAP_KPIS} for i, arm in enumerate(ARMS)}
    fig = plots.equity_gaps(kpis)
    ax = fig.axes[0]
    assert len(ax.patches) == len(ARMS) * len(plots.GAP_KPIS)
    assert len(ax.get_xticklabels()) == len(plots.GAP_KPIS)
    fig = plots.equity_gaps(effects)
    assert len(fig.axes[0].patches) == len(ARMS) * len(plots.GAP_KPIS)
    errorbars = [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]
    assert len(errorbars) == len(ARMS)  # bars with CI error bars


def test_sensitivity_bars_one_panel_per_outcome_and_ranking_bars(dejavu_as_cjk):
    morris = pd.DataFrame({
        "parameter": ["a", "b", "c"] * 2, "group": ["g1", "g1", "g2"] * 2,
        "outcome": ["visits_per_case"] * 3 + ["online_share"] * 3,
        "mu_star": [1.0, 0.5, 0.2, 0.3, 0.2, 0.9], "mu_star_conf": [0.1] * 6})
    fig = plots.sensitivity_bars(morris)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2 and all(len(ax.patches) == 3 for ax in visible)
    top = [t.get_text() for t in visible[0].get_yticklabels()]
    assert top[-1] == "a"  # largest mu_star at the top
    ranking = pd.DataFrame({"method": ["morris", "morris"], "group": ["g1", "g2"],
                            "score": [1.0, 0.6], "rank": [1, 2]})
    assert len(plots.sensitivity_bars(ranking).axes[0].patches) == 2
    with pytest.raises(ValueError, match="indices need columns"):
        plots.sensitivity_bars(pd.DataFrame({"x": [1]}))


def test_without_a_cjk_font_labels_fall_back_to_english_with_a_clear_warning(effects, no_cjk):
    with pytest.warns(fonts.CJKFontWarning) as record:
        fig = plots.forest_plot(effects, "visits_per_case")
    message = str(record[0].message)
    assert "apt-get install fonts-noto-cjk" in message and "addfont" in message
    texts = _texts(fig)
    assert "Visits per case" in texts
    assert all(text.isascii() for text in texts), texts
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "one_window", "data_sharing", "run_at_most_once"]


def test_labels_are_drawn_in_the_font_the_finder_returns(effects, dejavu_as_cjk):
    fig = plots.forest_plot(effects, "visits_per_case")
    title = fig.axes[0].title
    assert title.get_fontfamily()[0] == "DejaVu Sans"


def test_an_installed_cjk_font_renders_the_chinese_labels(effects):
    choice = fonts.find_cjk_font()
    if choice is None:
        pytest.skip("no CJK font installed here (apt-get install fonts-noto-cjk); the fallback "
                    "and the font plumbing are tested with a stand-in font above")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no missing-glyph warning may appear while drawing
        fig = plots.forest_plot(effects, "visits_per_case")
        fig.canvas.draw()
    title = fig.axes[0].title
    assert title.get_text().startswith("跑动次数")
    used = matplotlib.font_manager.findfont(title.get_fontproperties())
    assert used == str(choice.path)
