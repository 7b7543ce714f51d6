"""Indices for policy use: importance-performance analysis and a 0-100 satisfaction index.

- `ipa`: performance = item means; importance stated (given) or derived (each item's correlation
  with an overall item, or standardized regression weights); items fall into the four quadrants
  of Martilla & James (1977) split at the grand means.
- `satisfaction_index`: per respondent 100 x sum_j w_j (x_j - low) / (high - low), with weights
  equal, from the entropy-weight method, from a one-factor solution, from a regression on an
  outcome, or given.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from survey.errors import SurveyAnalysisError, SurveyAnalysisWarning

QUADRANTS = {
    "keep": ("继续保持", "Keep up the good work"),
    "concentrate": ("重点改进", "Concentrate here"),
    "low": ("次要改进", "Low priority"),
    "overkill": ("供给过度", "Possible overkill"),
}


class IndexWeightWarning(SurveyAnalysisWarning):
    """Item weights that needed fixing (negative regression weights set to zero, constant items)."""


def _items(data: object, items: Sequence[str], where: str) -> pd.DataFrame:
    frame = data if isinstance(data, pd.DataFrame) else getattr(data, "data", None)
    if not isinstance(frame, pd.DataFrame):
        raise SurveyAnalysisError(f"{where}: expected a DataFrame or SurveyData")
    missing = [i for i in items if i not in frame.columns]
    if missing:
        raise SurveyAnalysisError(f"{where}: items {missing} are not columns of the data")
    block = frame[list(items)].apply(pd.to_numeric, errors="coerce")
    bad = block.isna() & frame[list(items)].notna()
    if bad.any().any():
        column = bad.any().idxmax()
        raise SurveyAnalysisError(f"{where}: item {column!r} holds non-numeric answers")
    return block


@dataclass
class IPAResult:
    """Importance-performance table: item, performance, importance, quadrant (key and label)."""

    table: pd.DataFrame
    performance_cut: float
    importance_cut: float
    method: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        return self.table.round(3).to_string()

    def plot(self, ax: Any = None, *, lang: Literal["zh", "en"] = "en") -> Any:
        """Scatter of items in the importance-performance plane with the quadrant lines."""
        if ax is None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=(6, 5))
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        ax.scatter(self.table["performance"], self.table["importance"], color="C0")
        for item, row in self.table.iterrows():
            ax.annotate(str(item), (row["performance"], row["importance"]), textcoords="offset points",
                        xytext=(4, 4), fontsize="small")
        ax.axvline(self.performance_cut, color="0.5", linestyle="--", linewidth=1)
        ax.axhline(self.importance_cut, color="0.5", linestyle="--", linewidth=1)
        ax.set_xlabel("表现 Performance" if lang == "zh" else "Performance (mean)")
        ax.set_ylabel("重要性 Importance" if lang == "zh" else "Importance")
        return fig


def ipa(data: pd.DataFrame, items: Sequence[str], *, importance: Mapping[str, float] | None = None,
        overall: str | None = None, method: Literal["stated", "correlation", "regression"] | None = None,
        cuts: tuple[float, float] | None = None, lang: Literal["zh", "en"] = "zh") -> IPAResult:
    """Importance-performance analysis of `items` (see the module docstring).

    Args:
        importance: stated importance per item (e.g. mean importance ratings).
        overall: the overall-satisfaction column for derived importance.
        method: "stated" (needs importance), "correlation" or "regression" (need overall);
            default: stated when importance is given, else correlation.
        cuts: (performance, importance) split points (default: the grand means).
    """
    block = _items(data, items, "ipa")
    performance = block.mean()
    method = method or ("stated" if importance is not None else "correlation")
    if method == "stated":
        if importance is None:
            raise SurveyAnalysisError("ipa: method='stated' needs importance={item: value}")
        missing = [i for i in items if i not in importance]
        if missing:
            raise SurveyAnalysisError(f"ipa: no stated importance for {missing}")
        imp = pd.Series({i: float(importance[i]) for i in items})
    else:
        if overall is None:
            raise SurveyAnalysisError(f"ipa: method={method!r} derives importance from an overall item; give overall=")
        y = _items(data, [overall], "ipa")[overall]
        if method == "correlation":
            imp = block.corrwith(y)
        elif method == "regression":
            from survey.regression import ols

            frame = pd.concat([block, y.rename("__overall__")], axis=1)
            imp = ols(frame, "__overall__", list(items)).coefficients["Beta"].reindex(list(items))
        else:
            raise SurveyAnalysisError(f"ipa: method must be stated, correlation or regression (got {method!r})")
    p_cut, i_cut = cuts if cuts is not None else (float(performance.mean()), float(imp.mean()))
    keys = np.select([(performance >= p_cut) & (imp >= i_cut), (performance < p_cut) & (imp >= i_cut),
                      (performance < p_cut) & (imp < i_cut)], ["keep", "concentrate", "low"], default="overkill")
    pick = 0 if lang == "zh" else 1
    table = pd.DataFrame({"performance": performance, "importance": imp, "quadrant": keys,
                          "label": [QUADRANTS[k][pick] for k in keys]})
    table.index.name = "item"
    return IPAResult(table, p_cut, i_cut, method)


@dataclass
class IndexResult:
    """A 0-100 index: per-respondent scores, the item weights, and the mean with its SE."""

    scores: pd.Series
    weights: pd.Series
    mean: float
    se: float
    method: str

    def to_frame(self) -> pd.DataFrame:
        return self.weights.rename("weight").to_frame()

    def summary(self) -> str:
        return (f"Satisfaction index ({self.method} weights): mean {self.mean:.2f} (SE {self.se:.2f}), "
                f"n = {int(self.scores.notna().sum())}\n{self.weights.round(4).to_string()}")


def entropy_weights(block: pd.DataFrame) -> pd.Series:
    """Entropy-weight method: min-max standardize, p_ij = x_ij / sum_i x_ij,
    e_j = -sum_i p_ij ln p_ij / ln n, d_j = 1 - e_j, w_j = d_j / sum d (constant items weigh 0)."""
    x = block.dropna()
    n = len(x)
    if n < 2:
        raise SurveyAnalysisError("satisfaction_index: entropy weights need at least 2 complete respondents")
    spread = x.max() - x.min()
    constant = spread[spread == 0].index.tolist()
    if constant:
        warnings.warn(f"satisfaction_index: constant items {constant} carry no information; weight 0",
                      IndexWeightWarning, stacklevel=3)
    z = (x - x.min()) / spread.where(spread > 0, 1.0)
    total = z.sum()
    p = z / total.where(total > 0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / np.log(n)
    e = pd.Series(e, index=block.columns).where(spread > 0, 1.0)
    d = 1 - e
    if d.sum() <= 0:
        raise SurveyAnalysisError("satisfaction_index: every item is constant; no entropy weights")
    return d / d.sum()


def satisfaction_index(data: pd.DataFrame, items: Sequence[str], *,
                       weights: Literal["equal", "entropy", "factor", "regression"] | Mapping[str, float] = "equal",
                       scale: tuple[float, float] = (1, 5), outcome: str | None = None) -> IndexResult:
    """Per-respondent index on 0-100 (see the module docstring); respondents missing an item get NaN."""
    block = _items(data, items, "satisfaction_index")
    low, high = scale
    if not low < high:
        raise SurveyAnalysisError(f"satisfaction_index: scale must be (low, high) with low < high (got {scale})")
    outside = ((block < low) | (block > high)).any()
    if outside.any():
        raise SurveyAnalysisError(f"satisfaction_index: items {outside[outside].index.tolist()} have answers outside "
                                  f"the scale {scale}; clean them first or give scale=")
    if isinstance(weights, Mapping):
        missing = [i for i in items if i not in weights]
        if missing:
            raise SurveyAnalysisError(f"satisfaction_index: no weight for {missing}")
        w = pd.Series({i: float(weights[i]) for i in items})
        method = "given"
    elif weights == "equal":
        w, method = pd.Series(1.0, index=list(items)), "equal"
    elif weights == "entropy":
        w, method = entropy_weights(block), "entropy"
    elif weights == "factor":
        from survey.factor import efa

        loadings = efa(block.dropna(), 1, method="ml", rotation="none").loadings.iloc[:, 0].abs()
        w, method = loadings, "factor"
    elif weights == "regression":
        if outcome is None:
            raise SurveyAnalysisError("satisfaction_index: weights='regression' needs outcome=")
        from survey.regression import ols

        y = _items(data, [outcome], "satisfaction_index")[outcome]
        beta = ols(pd.concat([block, y.rename("__y__")], axis=1), "__y__", list(items)).coefficients["Beta"]
        beta = beta.reindex(list(items))
        if (beta < 0).any():
            warnings.warn(f"satisfaction_index: negative regression weights for {beta[beta < 0].index.tolist()} "
                          "set to 0 (suppression or collinearity)", IndexWeightWarning, stacklevel=2)
        w, method = beta.clip(lower=0), "regression"
    else:
        raise SurveyAnalysisError(f"satisfaction_index: weights must be equal, entropy, factor, regression or a "
                                  f"dict (got {weights!r})")
    if (w < 0).any() or w.sum() <= 0:
        raise SurveyAnalysisError("satisfaction_index: weights must be non-negative and not all zero")
    w = w / w.sum()
    scores = 100 * ((block - low) / (high - low)).mul(w, axis=1).sum(axis=1, min_count=len(items))
    scores[block.isna().any(axis=1)] = np.nan
    valid = scores.dropna()
    se = float(valid.std(ddof=1) / np.sqrt(len(valid))) if len(valid) > 1 else float("nan")
    return IndexResult(scores.rename("index"), w.rename("weight"), float(valid.mean()), se, method)


__all__ = ["QUADRANTS", "IPAResult", "IndexResult", "IndexWeightWarning", "entropy_weights", "ipa",
           "satisfaction_index"]
