"""Figures of experiments and studies (matplotlib, Agg-safe): forest plots of effects, daily KPI
series, equity gaps and sensitivity bars, with Chinese labels when a CJK font is installed.

Every function returns a `matplotlib.figure.Figure` and never shows it. Labels are bilingual
("网办率 Online share") when `analysis.fonts` finds a CJK font, and English otherwise (with a
`CJKFontWarning` that says how to install one).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis import fonts
from simulation.kpis import GAP_KPIS, KPI_LABELS

KPI_TEXT = KPI_LABELS  # (Chinese, English) label of each KPI

WORDS: dict[str, tuple[str, str]] = {
    "difference": ("差异", "Difference vs baseline"),
    "day": ("工作日", "Working day"),
    "gap": ("差距", "Gap (positive: rural / 60+ worse off)"),
    "mu_star": ("μ*", "Morris μ*"),
    "ST": ("总效应指数", "Sobol total index ST"),
    "S1": ("一阶指数", "Sobol first-order index S1"),
    "score": ("相对影响", "Relative influence (normalised)"),
    "ranking": ("制约因素排序", "Group ranking"),
}


class _Labels:
    """Bilingual text when a CJK font is available, English otherwise."""

    def __init__(self, chinese: bool) -> None:
        self.chinese = chinese

    def kpi(self, key: str) -> str:
        zh, en = KPI_TEXT.get(key, ("", key))
        return f"{zh} {en}" if self.chinese and zh else en

    def word(self, key: str) -> str:
        zh, en = WORDS.get(key, ("", key))
        return f"{zh} {en}" if self.chinese and zh else en

    def text(self, value: str) -> str:
        """A free label such as "一窗受理 Comprehensive windows": English part without CJK."""
        if self.chinese or value.isascii():
            return value
        ascii_words = [w for w in value.split() if w.isascii()]
        return " ".join(ascii_words) if ascii_words else value


@contextmanager
def _styled() -> Iterator[_Labels]:
    """Create figures with the CJK font when there is one (labels keep it after the context)."""
    choice = fonts.cjk_font_or_warn()
    rc = {"axes.unicode_minus": False}
    if choice is not None:
        # a concrete family name (not "sans-serif") is stored in each Text, so the figure keeps
        # the CJK font when it is drawn or saved after this context has closed
        rc["font.family"] = [choice.family, "DejaVu Sans"]  # DejaVu ships with matplotlib
    with mpl.rc_context(rc):
        yield _Labels(chinese=choice is not None)


def _new_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def forest_plot(effects: pd.DataFrame, kpi: str, ax: Axes | None = None) -> Figure:
    """Effect of each arm on one KPI: difference vs baseline with its confidence interval.

    Args:
        effects: columns kpi, arm, diff, ci_low, ci_high, p_holm (one row per arm and KPI).
        kpi: the KPI to show.
        ax: draw into this Axes (default: a new figure).

    Filled markers mark Holm-adjusted p < 0.05.
    """
    needed = {"kpi", "arm", "diff", "ci_low", "ci_high", "p_holm"}
    missing = needed - set(effects.columns)
    if missing:
        raise ValueError(f"effects lacks columns {sorted(missing)}; needs {sorted(needed)}")
    rows = effects[effects["kpi"] == kpi].reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"no effects for KPI {kpi!r}; have {sorted(effects['kpi'].unique())}")
    with _styled() as text:
        fig, ax = _new_axes(ax, (6.4, 0.5 * len(rows) + 1.6))
        y = np.arange(len(rows))[::-1]
        for yi, row in zip(y, rows.itertuples(index=False), strict=True):
            significant = row.p_holm < 0.05
            ax.errorbar(row.diff, yi, xerr=[[row.diff - row.ci_low], [row.ci_high - row.diff]],
                        fmt="o", color="C0", mfc="C0" if significant else "white", capsize=3)
        ax.axvline(0.0, color="0.5", linestyle="--", linewidth=1)
        ax.set_yticks(y, [text.text(str(a)) for a in rows["arm"]])
        ax.set_xlabel(text.word("difference"))
        ax.set_title(text.kpi(kpi))
    return fig


def kpi_series(daily_by_arm: Mapping[str, pd.DataFrame], kpi: str, ax: Axes | None = None,
               *, rolling: int = 1) -> Figure:
    """One KPI per working day for each arm (optionally a centred rolling mean of `rolling` days)."""
    if not daily_by_arm:
        raise ValueError("daily_by_arm is empty")
    with _styled() as text:
        fig, ax = _new_axes(ax, (7.0, 3.6))
        for arm, frame in daily_by_arm.items():
            if kpi not in frame.columns:
                raise ValueError(f"daily frame of arm {arm!r} has no column {kpi!r}")
            series = frame[kpi].astype(float)
            if rolling > 1:
                series = series.rolling(rolling, center=True, min_periods=1).mean()
            ax.plot(series.index.to_numpy(), series.to_numpy(), label=text.text(str(arm)))
        ax.set_xlabel(text.word("day"))
        ax.set_ylabel(text.kpi(kpi))
        ax.legend(fontsize="small")
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


def equity_gaps(data: pd.DataFrame | Mapping[str, Mapping[str, float]], ax: Axes | None = None) -> Figure:
    """Equity gaps (rural vs urban, 60+ vs younger) by arm, as grouped bars.

    Args:
        data: KPIs by arm ({arm: {kpi: value}} or a DataFrame with arms as rows), or an effects
            DataFrame (columns kpi, arm, diff[, ci_low, ci_high]) to show changes with CIs.
    """
    values, errors = _gap_table(data)
    if values.empty or values.shape[1] == 0:
        raise ValueError(f"no equity-gap KPIs found; expected some of {list(GAP_KPIS)}")
    with _styled() as text:
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


__all__ = ["GAP_KPIS", "KPI_TEXT", "equity_gaps", "forest_plot", "kpi_series", "sensitivity_bars"]
