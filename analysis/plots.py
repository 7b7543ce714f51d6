"""Figures of experiments and studies (matplotlib, Agg-safe): forest plots of effects, KPI series
over replications, equity gaps and sensitivity bars, in Chinese or English.

Every function returns a `matplotlib.figure.Figure` and never shows it. `lang` chooses the labels:
"zh" Chinese, "en" English, "both" bilingual ("网办率 Online share", the default). Chinese needs a
CJK font (`analysis.fonts`); without one the labels fall back to English with a
`CJKFontWarning` that says how to install one. `caption` adds a line under the figure (scenario,
replications, seed: `caption_line`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import matplotlib.lines
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from analysis import fonts
from simulation.kpis import GAP_KPIS, KPI_LABELS

KPI_TEXT = KPI_LABELS  # (Chinese, English) label of each KPI
LANGS = ("zh", "en", "both")
WORKING_DAYS_PER_WEEK = 5

WORDS: dict[str, tuple[str, str]] = {
    "difference": ("与基线的差异", "Difference vs baseline"),
    "day": ("工作日", "Working day"),
    "week": ("周(5个工作日)", "Week (5 working days)"),
    "gap": ("差距", "Gap (positive: rural / 60+ worse off)"),
    "mid": ("±最小重要差异", "±minimal important difference"),
    "meaningful": ("有意义的效果", "meaningful effect"),
    "not_meaningful": ("不显著或小于MID", "not significant or below MID"),
    "band": ("均值与95%区间", "mean and 95% band"),
    "mu_star": ("μ*", "Morris μ*"),
    "ST": ("总效应指数", "Sobol total index ST"),
    "S1": ("一阶指数", "Sobol first-order index S1"),
    "score": ("相对影响", "Relative influence (normalised)"),
    "ranking": ("制约因素排序", "Group ranking"),
}


def caption_line(scenario: str, replications: int, seed: int, lang: str = "en") -> str:
    """The caption of a figure: scenario, replications and seed, in `lang` ("zh" or "en")."""
    if lang == "zh":
        return f"情景 {scenario} · 重复 {replications} 次 · 种子 {seed}"
    if lang == "both":
        return f"情景 Scenario {scenario} · {replications} replications · seed {seed}"
    return f"Scenario {scenario} · {replications} replications · seed {seed}"


def figure_options(lang: str, caption: str | None) -> dict[str, Any]:
    """Keyword arguments for the figure functions: `lang` and `caption`."""
    return {"lang": lang, "caption": caption}


class _Labels:
    """Text in the asked language; English where Chinese cannot be drawn (no CJK font)."""

    def __init__(self, chinese: bool, lang: str = "both") -> None:
        self.chinese = chinese
        self.lang = lang if chinese else "en"

    def _pick(self, pair: tuple[str, str]) -> str:
        zh, en = pair
        if self.lang == "zh" and zh:
            return zh
        if self.lang == "both" and zh:
            return f"{zh} {en}"
        return en

    def kpi(self, key: str) -> str:
        return self._pick(KPI_TEXT.get(key, ("", key)))

    def word(self, key: str) -> str:
        return self._pick(WORDS.get(key, ("", key)))

    def text(self, value: str) -> str:
        """A free label such as "一窗受理 Comprehensive windows": English part without CJK."""
        if self.chinese and self.lang != "en" or value.isascii():
            return value
        ascii_words = [w for w in value.split() if w.isascii()]
        return " ".join(ascii_words) if ascii_words else value


@contextmanager
def _styled(lang: str = "both") -> Iterator[_Labels]:
    """Create figures with the CJK font when there is one (labels keep it after the context)."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {list(LANGS)} (got {lang!r})")
    choice = fonts.cjk_font_or_warn() if lang != "en" else fonts.find_cjk_font()
    rc = {"axes.unicode_minus": False}
    if choice is not None:
        # a concrete family name (not "sans-serif") is stored in each Text, so the figure keeps
        # the CJK font when it is drawn or saved after this context has closed
        rc["font.family"] = [choice.family, "DejaVu Sans"]  # DejaVu ships with matplotlib
    with mpl.rc_context(rc):
        yield _Labels(chinese=choice is not None, lang=lang)


def _new_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _add_caption(fig: Figure, caption: str | None) -> None:
    if caption:
        fig.supxlabel(caption, fontsize="small", color="0.35", x=0.01, ha="left")


def forest_plot(effects: pd.DataFrame, kpi: str, ax: Axes | None = None, *, lang: str = "both",
                caption: str | None = None) -> Figure:
    """Effect of each arm on one KPI: difference vs baseline with its confidence interval.

    Args:
        effects: columns kpi, arm, diff, ci_low, ci_high, p_holm (one row per arm and KPI), and
            optionally mid and better (as `analysis.compare.effects` returns).
        kpi: the KPI to show.
        ax: draw into this Axes (default: a new figure).
        lang: "zh", "en" or "both".
        caption: a line under the figure (see `caption_line`).

    Filled markers mark Holm-adjusted p < 0.05. With a `mid` column the region within ±MID of
    zero is shaded, and meaningful effects (`better` ±1) are drawn as large diamonds, green when
    the KPI improves and red when it worsens.
    """
    needed = {"kpi", "arm", "diff", "ci_low", "ci_high", "p_holm"}
    missing = needed - set(effects.columns)
    if missing:
        raise ValueError(f"effects lacks columns {sorted(missing)}; needs {sorted(needed)}")
    rows = effects[effects["kpi"] == kpi].reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"no effects for KPI {kpi!r}; have {sorted(effects['kpi'].unique())}")
    with _styled(lang) as text:
        fig, ax = _new_axes(ax, (6.4, 0.5 * len(rows) + 1.9))
        y = np.arange(len(rows))[::-1]
        handles = []
        if "mid" in rows.columns and np.isfinite(rows["mid"]).any():
            mid = float(rows["mid"].max())
            ax.axvspan(-mid, mid, color="0.85", alpha=0.6, linewidth=0, zorder=0)
            handles.append(Patch(color="0.85", label=text.word("mid")))
        better = rows["better"] if "better" in rows.columns else pd.Series(0, index=rows.index)
        for yi, row, mark in zip(y, rows.itertuples(index=False), better, strict=True):
            significant = row.p_holm < 0.05
            color = {1: "C2", -1: "C3"}.get(int(mark), "C0")
            ax.errorbar(row.diff, yi, xerr=[[row.diff - row.ci_low], [row.ci_high - row.diff]],
                        fmt="D" if mark else "o", markersize=8 if mark else 6, color=color,
                        mfc=color if significant else "white", capsize=3)
        if (better != 0).any():
            handles.append(mpl.lines.Line2D([], [], marker="D", color="C2", linestyle="",
                                            label=text.word("meaningful")))
        ax.axvline(0.0, color="0.5", linestyle="--", linewidth=1)
        ax.set_yticks(y, [text.text(str(a)) for a in rows["arm"]])
        ax.set_xlabel(text.word("difference"))
        ax.set_title(text.kpi(kpi))
        if handles:
            ax.legend(handles=handles, fontsize="small", loc="best")
        _add_caption(fig, caption)
    return fig


def _replication_frames(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """One frame per replication (a frame without a `replication` column is one replication)."""
    if "replication" not in frame.columns:
        return [frame]
    return [part.drop(columns="replication") for _, part in frame.groupby("replication", sort=True)]


def series_band(frame: pd.DataFrame, kpi: str, *, aggregate: str = "week",
                confidence: float = 0.95) -> pd.DataFrame:
    """Mean of a KPI over replications per day or week, with a t confidence band.

    Args:
        frame: per-day KPIs indexed by day, with a `replication` column when it holds several
            runs (as `ResultStore.daily_all` returns).
        kpi: the column.
        aggregate: "week" (the mean of each replication's daily values over blocks of five
            working days, counted from the first measured day) or "day".
        confidence: level of the band (mean ± t_(n-1) sd / sqrt(n) over replications).

    Returns:
        index: day or week; columns mean, low, high, n (low and high are NaN when n < 2).
    """
    from scipy import stats

    if aggregate not in ("week", "day"):
        raise ValueError(f"aggregate must be 'week' or 'day' (got {aggregate!r})")
    columns = {}
    for i, part in enumerate(_replication_frames(frame)):
        if kpi not in part.columns:
            raise ValueError(f"daily frame has no column {kpi!r}")
        values = part[kpi].astype(float)
        if aggregate == "week":
            position = np.arange(len(values)) // WORKING_DAYS_PER_WEEK
            values = values.groupby(position).mean()
            values.index.name = "week"
        columns[i] = values
    wide = pd.DataFrame(columns)
    n = wide.notna().sum(axis=1)
    mean = wide.mean(axis=1)
    sd = wide.std(axis=1, ddof=1)
    t = pd.Series(np.where(n > 1, stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)), np.nan),
                  index=wide.index)
    half = t * sd / np.sqrt(n)
    return pd.DataFrame({"mean": mean, "low": mean - half, "high": mean + half, "n": n})


def kpi_series(daily_by_arm: Mapping[str, pd.DataFrame], kpi: str, ax: Axes | None = None,
               *, rolling: int = 1, aggregate: str = "week", lang: str = "both",
               caption: str | None = None) -> Figure:
    """One KPI over time for each arm: the mean over replications with its 95% band.

    Args:
        daily_by_arm: per-day KPIs of each arm, indexed by day; with a `replication` column
            when a frame holds several runs.
        kpi: the KPI to show.
        ax: draw into this Axes (default: a new figure).
        rolling: a centred rolling mean of this many points over the aggregated series.
        aggregate: "week" (default) or "day" (see `series_band`).
        lang: "zh", "en" or "both".
        caption: a line under the figure.
    """
    if not daily_by_arm:
        raise ValueError("daily_by_arm is empty")
    with _styled(lang) as text:
        fig, ax = _new_axes(ax, (7.0, 3.8))
        banded = False
        for i, (arm, frame) in enumerate(daily_by_arm.items()):
            if kpi not in frame.columns:
                raise ValueError(f"daily frame of arm {arm!r} has no column {kpi!r}")
            band = series_band(frame, kpi, aggregate=aggregate)
            if rolling > 1:
                band = band.rolling(rolling, center=True, min_periods=1).mean()
            x = band.index.to_numpy() + (1 if aggregate == "week" else 0)
            ax.plot(x, band["mean"].to_numpy(), color=f"C{i % 10}", label=text.text(str(arm)))
            if band["low"].notna().any():
                banded = True
                ax.fill_between(x, band["low"].to_numpy(), band["high"].to_numpy(), color=f"C{i % 10}",
                                alpha=0.2, linewidth=0)
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        ax.set_xlabel(text.word("week" if aggregate == "week" else "day"))
        ax.set_ylabel(text.kpi(kpi))
        ax.legend(fontsize="small", title=text.word("band") if banded else None,
                  title_fontsize="small")
        _add_caption(fig, caption)
    return fig


def _gap_table(data: pd.DataFrame | Mapping[str, Mapping[str, float]]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Gap values (arms x gap KPIs) and, for effects input, their CI half-widths."""
    if isinstance(data, pd.DataFrame) and {"kpi", "arm", "diff"} <= set(data.columns):
        rows = data[data["kpi"].isin(GAP_KPIS)]
        values = rows.pivot(index="arm", columns="kpi", values="diff")
        if {"ci_low", "ci_high"} <= set(rows.columns):
            low = values - rows.pivot(index="arm", columns="kpi", values="ci_low")
            high = rows.pivot(index="arm", columns="kpi", values="ci_high") - values
            return values, pd.concat({"low": low, "high": high})
        return values, None
    frame = pd.DataFrame(data).T if not isinstance(data, pd.DataFrame) else data
    return frame[[k for k in GAP_KPIS if k in frame.columns]], None


def equity_gaps(data: pd.DataFrame | Mapping[str, Mapping[str, float]], ax: Axes | None = None, *,
                lang: str = "both", caption: str | None = None) -> Figure:
    """Equity gaps (rural vs urban, 60+ vs younger) by arm, as grouped bars.

    Args:
        data: KPIs by arm ({arm: {kpi: value}} or a DataFrame with arms as rows), or an effects
            DataFrame (columns kpi, arm, diff[, ci_low, ci_high]) to show changes with CIs.
        ax: draw into this Axes (default: a new figure).
        lang: "zh", "en" or "both".
        caption: a line under the figure.
    """
    values, errors = _gap_table(data)
    if values.empty or values.shape[1] == 0:
        raise ValueError(f"no equity-gap KPIs found; expected some of {list(GAP_KPIS)}")
    with _styled(lang) as text:
        fig, ax = _new_axes(ax, (7.0, 3.8))
        arms, kpis = list(values.index), list(values.columns)
        width = 0.8 / len(arms)
        x = np.arange(len(kpis))
        for i, arm in enumerate(arms):
            err = None
            if errors is not None:
                err = np.vstack([errors.loc["low"].loc[arm, kpis], errors.loc["high"].loc[arm, kpis]])
            ax.bar(x + (i - (len(arms) - 1) / 2) * width, values.loc[arm, kpis].to_numpy(float),
                   width, yerr=err, capsize=2, label=text.text(str(arm)))
        ax.axhline(0.0, color="0.3", linewidth=0.8)
        ax.set_xticks(x, [text.kpi(k) for k in kpis], rotation=15, ha="right")
        ax.set_ylabel(text.word("gap") if errors is None else text.word("difference"))
        ax.legend(fontsize="small")
        _add_caption(fig, caption)
    return fig


def sensitivity_bars(indices: pd.DataFrame, *, outcomes: list[str] | None = None) -> Figure:
    """Sensitivity indices as horizontal bars with confidence intervals, one panel per outcome.

    Args:
        indices: Morris indices (mu_star, mu_star_conf), Sobol indices (ST, ST_conf) — tidy, with
            columns parameter and outcome — or a group ranking (group, score[, method]).
        outcomes: which outcomes to show (default: all).
    """
    if {"group", "score"} <= set(indices.columns) and "parameter" not in indices.columns:
        return _ranking_bars(indices)
    index = "mu_star" if "mu_star" in indices.columns else "ST" if "ST" in indices.columns else None
    if index is None or not {"parameter", "outcome"} <= set(indices.columns):
        raise ValueError("indices need columns parameter, outcome and mu_star or ST (or a ranking "
                         "with group and score)")
    shown = outcomes or list(dict.fromkeys(indices["outcome"]))
    with _styled() as text:
        ncols, nrows = min(len(shown), 3), (len(shown) + 2) // 3
        height = max(2.5, 0.35 * indices["parameter"].nunique() + 1.2)
        fig = Figure(figsize=(4.4 * ncols, height * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, outcome in zip(axes, shown, strict=False):
            rows = indices[indices["outcome"] == outcome].sort_values(index)
            ax.barh(np.arange(len(rows)), rows[index].to_numpy(float),
                    xerr=rows[f"{index}_conf"].to_numpy(float), capsize=2, color="C0")
            ax.set_yticks(np.arange(len(rows)), [str(p) for p in rows["parameter"]], fontsize="small")
            ax.set_title(text.kpi(outcome), fontsize="medium")
            ax.set_xlabel(text.word(index))
        for ax in axes[len(shown):]:
            ax.set_visible(False)
    return fig


def _ranking_bars(ranking: pd.DataFrame) -> Figure:
    methods = list(dict.fromkeys(ranking["method"])) if "method" in ranking.columns else [None]
    with _styled() as text:
        fig = Figure(figsize=(5.0 * len(methods), 0.4 * ranking["group"].nunique() + 1.8),
                     layout="constrained")
        axes = fig.subplots(1, len(methods), squeeze=False).ravel()
        for ax, method in zip(axes, methods, strict=True):
            rows = ranking if method is None else ranking[ranking["method"] == method]
            rows = rows.sort_values("score")
            ax.barh(np.arange(len(rows)), rows["score"].to_numpy(float), color="C1")
            ax.set_yticks(np.arange(len(rows)), [str(g) for g in rows["group"]])
            ax.set_xlabel(text.word("score"))
            ax.set_title(text.word("ranking") + (f" ({method})" if method else ""))
    return fig


__all__ = ["GAP_KPIS", "KPI_TEXT", "LANGS", "caption_line", "equity_gaps", "figure_options", "forest_plot",
           "kpi_series", "sensitivity_bars", "series_band"]
