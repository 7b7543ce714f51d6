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


def test_forest_plot_shades_the_mid_region_and_marks_meaningful_effects(effects, no_cjk):
    effects = effects.assign(mid=0.05, better=[1 if a == ARMS[2] else 0 for a in effects["arm"]])
    with pytest.warns(fonts.CJKFontWarning):
        fig = plots.forest_plot(effects, "visits_per_case", caption="Scenario x · 3 replications · seed 0")
    ax = fig.axes[0]
    spans = [p for p in ax.patches if p.get_width() == pytest.approx(0.1)]
    assert len(spans) == 1 and spans[0].get_x() == pytest.approx(-0.05)  # the ±MID band
    markers = [c.lines[0].get_marker() for c in ax.containers]
    assert markers == ["o", "o", "D"]  # only the meaningful effect is a diamond
    assert "Scenario x · 3 replications · seed 0" in _texts(fig)
    assert ax.get_title() == "Visits per case"  # English labels without a CJK font


def test_labels_follow_the_language(effects, dejavu_as_cjk):
    assert plots.forest_plot(effects, "visits_per_case", lang="zh").axes[0].get_title() == "跑动次数"
    assert plots.forest_plot(effects, "visits_per_case", lang="en").axes[0].get_title() == "Visits per case"
    with pytest.raises(ValueError, match="lang must be one of"):
        plots.forest_plot(effects, "visits_per_case", lang="fr")
    assert plots.caption_line("q_county", 6, 2, "zh") == "情景 q_county · 重复 6 次 · 种子 2"


def test_series_band_is_the_t_interval_of_weekly_means_over_replications():
    """Each replication's mean over five working days, then mean ± t(0.975, n-1) sd / sqrt(n)
    across replications (the textbook t interval; scipy.stats.t for the quantile)."""
    from scipy import stats

    days = pd.RangeIndex(20, 30, name="day")
    reps = [np.arange(10.0) + r for r in (0.0, 1.0, 5.0)]
    frame = pd.concat([pd.DataFrame({"online_share": v, "replication": r}, index=days)
                       for r, v in enumerate(reps)])
    band = plots.series_band(frame, "online_share")
    assert list(band.index) == [0, 1]  # ten days, two weeks
    week0 = np.array([v[:5].mean() for v in reps])
    half = stats.t.ppf(0.975, 2) * week0.std(ddof=1) / np.sqrt(3)
    assert band.loc[0, "mean"] == pytest.approx(week0.mean())
    assert (band.loc[0, "low"], band.loc[0, "high"]) == pytest.approx((week0.mean() - half, week0.mean() + half))
    daily = plots.series_band(frame, "online_share", aggregate="day")
    assert len(daily) == 10 and daily["n"].eq(3).all()
    one = plots.series_band(frame[frame["replication"] == 0], "online_share")
    assert one["low"].isna().all()  # one replication: no band
    fig = plots.kpi_series({"baseline": frame}, "online_share", lang="en")
    assert len(fig.axes[0].collections) == 1  # the band
    with pytest.raises(ValueError, match="aggregate must be"):
        plots.series_band(frame, "online_share", aggregate="month")
