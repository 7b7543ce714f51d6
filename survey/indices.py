"""Indices for policy use: importance-performance analysis and a 0-100 satisfaction index.

- `ipa`: performance = item means; importance stated (given, or the means of importance-rating
  columns) or derived from an overall item (correlations, or standardized regression weights);
  items fall into the four quadrants of Martilla & James (1977), split at the grand means.
- `satisfaction_index`: per respondent 100 x sum_j w_j (x_j - low) / (high - low), with weights
  equal, from the entropy-weight method, from a one-factor solution, from a regression on an
  outcome, or given; plus the weights table and the mean index with its SE.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from survey.errors import SurveyAnalysisError, SurveyAnalysisWarning
from survey.regression.design import numeric_column, require_columns

# quadrant key -> names (Martilla & James 1977; the Chinese names used in 满意度 studies)
QUADRANTS: dict[str, dict[str, str]] = {
    "keep": {"en": "Keep up the good work", "zh": "保持优势"},
    "concentrate": {"en": "Concentrate here", "zh": "重点改进"},
    "low": {"en": "Low priority", "zh": "低优先级"},
    "overkill": {"en": "Possible overkill", "zh": "过度投入"},
}


class IndexWeightWarning(SurveyAnalysisWarning):
    """Item weights that had to be set to zero (constant items, negative loadings or betas)."""


# ----------------------------------------------------------------------------- input


def _frame(data: object, where: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    inner = getattr(data, "data", None)
    if isinstance(inner, pd.DataFrame):
        return inner
    raise SurveyAnalysisError(f"{where}: expected a DataFrame or SurveyData, got {type(data).__name__}")


def _items(frame: pd.DataFrame, items: Sequence[str], where: str) -> pd.DataFrame:
    items = [items] if isinstance(items, str) else list(items)
    if not items:
        raise SurveyAnalysisError(f"{where}: give at least one item column")
    require_columns(frame, items, where)
    return pd.DataFrame({item: numeric_column(frame[item], item, where) for item in items}, index=frame.index)


def _figures(frame: pd.DataFrame, items: list[str], given: Mapping | pd.Series, what: str, where: str) -> pd.Series:
    """Per-item numbers given directly, or as names of columns whose means are used."""
    given = dict(given.items()) if isinstance(given, pd.Series) else dict(given)
    missing = [i for i in items if i not in given]
    extra = [k for k in given if k not in items]
    if missing or extra:
        raise SurveyAnalysisError(f"{where}: {what} must name every item exactly; missing {missing}, not items {extra}")
    out = {}
    for item in items:
        value = given[item]
        if isinstance(value, str):
            require_columns(frame, [value], where)
            out[item] = float(numeric_column(frame[value], value, where).mean())
        else:
            number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
            if not np.isfinite(number):
                raise SurveyAnalysisError(f"{where}: {what} of {item!r} must be a number or a column name, got {value!r}")
            out[item] = float(number)
    return pd.Series(out, dtype=float)


# ----------------------------------------------------------------------------- IPA


@dataclass(frozen=True)
class IPAResult:
    """Importance-performance analysis.

    Attributes:
        table: per item (index "item"): performance, importance, quadrant (key: keep,
            concentrate, low, overkill) and label (its name in `lang`).
        performance_cut, importance_cut: where the quadrants are split.
        method: "stated", "derived (correlation)" or "derived (regression)"; lang: "zh" or "en".
    """

    table: pd.DataFrame
    performance_cut: float
    importance_cut: float
    method: str
    lang: str = "zh"

    def to_frame(self) -> pd.DataFrame:
        """The item table."""
        return self.table.copy()

    def summary(self) -> str:
        """The item table with the cut points, as plain text."""
        return (f"Importance-performance analysis ({self.method} importance); cuts: performance "
                f"{self.performance_cut:.3f}, importance {self.importance_cut:.3f}\n{self.table.round(3).to_string()}")

    def plot(self, ax: Any = None) -> Any:
        """Scatter of the items in the performance (x) - importance (y) plane with the quadrant
        lines and names; returns the matplotlib Axes (matplotlib is imported only here)."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6, 5))
        t = self.table
        ax.scatter(t["performance"], t["importance"], color="C0", zorder=3)
        for item, row in t.iterrows():
            ax.annotate(str(item), (row["performance"], row["importance"]), textcoords="offset points",
                        xytext=(4, 4), fontsize="small")
        ax.axvline(self.performance_cut, color="0.5", linestyle="--", linewidth=1)
        ax.axhline(self.importance_cut, color="0.5", linestyle="--", linewidth=1)
        corners = {"concentrate": (0.02, 0.98, "left", "top"), "keep": (0.98, 0.98, "right", "top"),
                   "low": (0.02, 0.02, "left", "bottom"), "overkill": (0.98, 0.02, "right", "bottom")}
        for key, (x, y, ha, va) in corners.items():
            ax.text(x, y, QUADRANTS[key]["en"], transform=ax.transAxes, ha=ha, va=va, fontsize="small", color="0.4")
        ax.margins(0.15)
        ax.set_xlabel("Performance")
        ax.set_ylabel("Importance")
        return ax


def ipa(data: pd.DataFrame, items: Sequence[str], *, importance: Mapping | pd.Series | None = None,
        performance: Mapping | pd.Series | None = None, method: Literal["stated", "derived"] = "stated",
        overall: str | None = None, derived: Literal["correlation", "regression"] = "correlation",
        cuts: tuple[float, float] | None = None, lang: Literal["zh", "en"] = "zh") -> IPAResult:
    """Importance-performance analysis (Martilla & James 1977).

    Performance is each item's mean (over the respondents who answered it) unless given.
    Importance is stated — given per item, as numbers or as names of importance-rating columns
    whose means are used — or derived from an `overall` satisfaction column: Pearson's r of each
    item with it (pairwise complete cases), or the standardized coefficients (Beta) of the OLS
    regression of overall on all items (listwise; survey.regression.ols). The quadrants are split
    at the grand means (mean of the items' performance, mean of their importance) or at `cuts`;
    an item on a cut line counts as high:

    - high importance, high performance: keep up the good work (保持优势)
    - high importance, low performance: concentrate here (重点改进)
    - low importance, low performance: low priority (低优先级)
    - low importance, high performance: possible overkill (过度投入)

    Args:
        data: one row per respondent (DataFrame or SurveyData).
        items: performance (satisfaction) item columns.
        importance: stated importance {item: number or column} (method "stated").
        performance: {item: number or column} to use instead of the item means.
        method: "stated" or "derived".
        overall: the overall-satisfaction column (method "derived").
        derived: "correlation" or "regression" (method "derived").
        cuts: (performance cut, importance cut); default the grand means.
        lang: language of the `label` column.

    Returns:
        IPAResult with `table`, the cut points, `summary()` and `plot()`.
    """
    where = "ipa"
    frame = _frame(data, where)
    block = _items(frame, items, where)
    items = list(block.columns)
    if lang not in ("zh", "en"):
        raise SurveyAnalysisError(f"{where}: lang must be 'zh' or 'en' (got {lang!r})")
    perf = block.mean() if performance is None else _figures(frame, items, performance, "performance", where)
    if perf.isna().any():
        raise SurveyAnalysisError(f"{where}: items {perf[perf.isna()].index.tolist()} have no answers")
    if method == "stated":
        if importance is None:
            raise SurveyAnalysisError(f"{where}: method='stated' needs importance={{item: number or column}}; "
                                      "or use method='derived' with overall=")
        imp = _figures(frame, items, importance, "importance", where)
        label = "stated"
    elif method == "derived":
        if importance is not None:
            raise SurveyAnalysisError(f"{where}: importance= is for method='stated'; method='derived' computes it")
        if overall is None:
            raise SurveyAnalysisError(f"{where}: method='derived' derives importance from an overall item; give overall=")
        if overall in items:
            raise SurveyAnalysisError(f"{where}: overall {overall!r} is also one of the items")
        y = _items(frame, [overall], where)[overall]
        if derived == "correlation":
            imp = block.corrwith(y)
        elif derived == "regression":
            from survey.regression import ols

            model = ols(pd.concat([block, y], axis=1), overall, items)
            imp = model.coefficients["Beta"].reindex(items)
        else:
            raise SurveyAnalysisError(f"{where}: derived must be 'correlation' or 'regression' (got {derived!r})")
        if imp.isna().any():
            raise SurveyAnalysisError(f"{where}: no importance for {imp[imp.isna()].index.tolist()} (constant item?)")
        label = f"derived ({derived})"
    else:
        raise SurveyAnalysisError(f"{where}: method must be 'stated' or 'derived' (got {method!r})")
    p_cut, i_cut = (float(perf.mean()), float(imp.mean())) if cuts is None else map(float, cuts)
    high_p, high_i = perf >= p_cut, imp >= i_cut
    keys = np.select([high_i & high_p, high_i & ~high_p, ~high_i & ~high_p], ["keep", "concentrate", "low"],
                     default="overkill")
    table = pd.DataFrame({"performance": perf, "importance": imp, "quadrant": keys,
                          "label": [QUADRANTS[k][lang] for k in keys]}, index=pd.Index(items, name="item"))
    return IPAResult(table, p_cut, i_cut, label, lang)


# ----------------------------------------------------------------------------- satisfaction index


@dataclass(frozen=True)
class IndexResult:
    """A 0-100 index.

    Attributes:
        scores: per-respondent index (name "index"; NaN for respondents missing an item).
        weights: per item (index "item"): weight (sum 1) and the figures it came from
            (entropy/divergence, loading, Beta, or the given value).
        mean, se, ci_low, ci_high: mean index, its SE (sd / sqrt(n)) and 95% t interval.
        n: respondents with an index; method: how the weights were set.
    """

    scores: pd.Series
    weights: pd.DataFrame
    mean: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    method: str

    def to_frame(self) -> pd.DataFrame:
        """The weights table."""
        return self.weights.copy()

    def summary(self) -> str:
        """Mean index with SE and CI, and the weights table, as plain text."""
        return (f"Satisfaction index, {self.method} weights: mean {self.mean:.2f} (SE {self.se:.2f}, 95% CI "
                f"{self.ci_low:.2f}-{self.ci_high:.2f}), n = {self.n}\n{self.weights.round(4).to_string()}")


def entropy_weights(block: pd.DataFrame) -> pd.DataFrame:
    """Entropy-weight method on the complete rows of `block` (respondents x items).

    z_ij = (x_ij - min_j) / (max_j - min_j), p_ij = z_ij / sum_i z_ij,
    e_j = -1 / ln(n) sum_i p_ij ln p_ij (0 ln 0 = 0), d_j = 1 - e_j, w_j = d_j / sum_k d_k.
    A constant item has no information: e_j = 1, weight 0 (with an IndexWeightWarning).

    Returns:
        DataFrame indexed by item with columns entropy, divergence, weight.
    """
    x = block.dropna().astype(float)
    n = len(x)
    if n < 2:
        raise SurveyAnalysisError("entropy weights need at least 2 respondents who answered every item")
    spread = x.max() - x.min()
    constant = spread[spread == 0].index.tolist()
    if constant:
        warnings.warn(f"entropy weights: items {constant} have the same answer from everyone; weight 0",
                      IndexWeightWarning, stacklevel=3)
    z = (x - x.min()) / spread.where(spread > 0, 1.0)
    p = z / z.sum().where(z.sum() > 0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    entropy = pd.Series(-plogp.sum(axis=0) / np.log(n), index=x.columns).where(spread > 0, 1.0)
    divergence = 1 - entropy
    if divergence.sum() <= 0:
        raise SurveyAnalysisError("entropy weights: every item is constant; there is nothing to weight by")
    table = pd.DataFrame({"entropy": entropy, "divergence": divergence, "weight": divergence / divergence.sum()})
    table.index.name = "item"
    return table


def _factor_weights(block: pd.DataFrame, method: str) -> pd.DataFrame:
    from survey.factor import efa

    complete = block.dropna()
    if block.shape[1] < 3:
        raise SurveyAnalysisError("satisfaction_index: factor weights need at least 3 items")
    loadings = efa(complete, 1, method=method, rotation="none").loadings.iloc[:, 0]
    negative = loadings[loadings < 0].index.tolist()
    if negative:
        warnings.warn(f"satisfaction_index: items {negative} load negatively on the common factor (reverse-keyed "
                      "and not recoded?); weight 0", IndexWeightWarning, stacklevel=3)
    return pd.DataFrame({"loading": loadings, "weight": loadings.clip(lower=0)})


def _regression_weights(frame: pd.DataFrame, block: pd.DataFrame, outcome: str | None) -> pd.DataFrame:
    from survey.regression import ols

    if outcome is None:
        raise SurveyAnalysisError("satisfaction_index: weights='regression' needs outcome= (e.g. overall satisfaction)")
    if outcome in block.columns:
        raise SurveyAnalysisError(f"satisfaction_index: outcome {outcome!r} is also one of the items")
    y = _items(frame, [outcome], "satisfaction_index")[outcome]
    beta = ols(pd.concat([block, y], axis=1), outcome, list(block.columns)).coefficients["Beta"]
    beta = beta.reindex(block.columns)
    negative = beta[beta < 0].index.tolist()
    if negative:
        warnings.warn(f"satisfaction_index: negative standardized regression weights for {negative} (suppression or "
                      "collinearity); weight 0", IndexWeightWarning, stacklevel=3)
    return pd.DataFrame({"Beta": beta, "weight": beta.clip(lower=0)})


def _given_weights(items: list[str], weights: Mapping) -> pd.DataFrame:
    missing = [i for i in items if i not in weights]
    extra = [k for k in weights if k not in items]
    if missing or extra:
        raise SurveyAnalysisError(f"satisfaction_index: weights must name every item exactly; missing {missing}, "
                                  f"not items {extra}")
    given = pd.to_numeric(pd.Series({i: weights[i] for i in items}, dtype=object), errors="coerce")
    if given.isna().any() or (given < 0).any():
        raise SurveyAnalysisError("satisfaction_index: given weights must be non-negative numbers")
    return pd.DataFrame({"given": given.astype(float), "weight": given.astype(float)})


def satisfaction_index(data: pd.DataFrame, items: Sequence[str], *,
                       weights: Literal["equal", "entropy", "factor", "regression"] | Mapping[str, float] = "equal",
                       scale: tuple[float, float] = (1, 5), outcome: str | None = None,
                       factor_method: Literal["ml", "pca", "minres", "paf"] = "ml") -> IndexResult:
    """Per-respondent satisfaction index on 0-100: 100 sum_j w_j (x_j - low) / (high - low), with
    the item weights summing to 1 (a respondent at the top of every item scores 100).

    Weights:
        "equal": 1 / k each.
        "entropy": the entropy-weight method (see `entropy_weights`).
        "factor": loadings of a one-factor solution (survey.factor.efa, `factor_method`,
            unrotated), normalized to sum 1; negative loadings -> 0 with an IndexWeightWarning.
        "regression": standardized coefficients (Beta) of the OLS regression of `outcome` on the
            items, normalized; negative ones -> 0 with an IndexWeightWarning.
        a dict {item: weight}: non-negative, normalized to sum 1.
    Weights are estimated on the respondents who answered every item; respondents missing an
    item get no index. Mean index with SE = sd / sqrt(n) and a 95% t interval.

    Args:
        data: one row per respondent (DataFrame or SurveyData).
        items: item columns, all on the rating `scale`.
        weights: see above.
        scale: (lowest, highest) possible answer; answers outside it are refused.
        outcome: the outcome column for regression weights.
        factor_method: extraction for factor weights.

    Returns:
        IndexResult with `scores`, the `weights` table, `mean`, `se`, CI and `summary()`.

    Raises:
        SurveyAnalysisError: unknown or non-numeric column, answers outside the scale, bad weights.
    """
    where = "satisfaction_index"
    frame = _frame(data, where)
    block = _items(frame, items, where)
    items = list(block.columns)
    try:
        low, high = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise SurveyAnalysisError(f"{where}: scale must be (lowest, highest), got {scale!r}") from None
    if not low < high:
        raise SurveyAnalysisError(f"{where}: scale must be (lowest, highest) with lowest < highest (got {scale})")
    outside = (block < low) | (block > high)
    if outside.any().any():
        item = outside.any().idxmax()
        value = block.loc[outside[item], item].iloc[0]
        raise SurveyAnalysisError(f"{where}: item {item!r} has answer {value:g} outside the scale {scale} "
                                  f"({int(outside.sum().sum())} answers outside); recode or clean them, or give scale=")
    if isinstance(weights, Mapping):
        table, method = _given_weights(items, weights), "given"
    elif weights == "equal":
        table, method = pd.DataFrame({"weight": 1.0}, index=items), "equal"
    elif weights == "entropy":
        table, method = entropy_weights(block), "entropy"
    elif weights == "factor":
        table, method = _factor_weights(block, factor_method), f"factor ({factor_method})"
    elif weights == "regression":
        table, method = _regression_weights(frame, block, outcome), "regression"
    else:
        raise SurveyAnalysisError(f"{where}: weights must be 'equal', 'entropy', 'factor', 'regression' or a dict "
                                  f"{{item: weight}} (got {weights!r})")
    if table["weight"].sum() <= 0:
        raise SurveyAnalysisError(f"{where}: every item weight is zero; no index can be formed")
    table = table.assign(weight=table["weight"] / table["weight"].sum())
    table.index.name = "item"
    unit = (block - low) / (high - low)
    scores = 100 * unit.mul(table["weight"], axis=1).sum(axis=1)
    scores = scores.where(block.notna().all(axis=1)).rename("index")
    valid = scores.dropna()
    n = int(valid.size)
    if n == 0:
        raise SurveyAnalysisError(f"{where}: no respondent answered every item")
    mean = float(valid.mean())
    se = float(valid.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    half = float(stats.t.ppf(0.975, n - 1) * se) if n > 1 else float("nan")
    return IndexResult(scores, table, mean, se, mean - half, mean + half, n, method)


__all__ = ["QUADRANTS", "IPAResult", "IndexResult", "IndexWeightWarning", "entropy_weights", "ipa",
           "satisfaction_index"]
