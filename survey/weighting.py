"""Weighting a sample to its population: post-stratification, raking, trimming, and weighted
estimates with standard errors.

- `poststratify`: weights so that each cell (e.g. age band x urban/rural) carries its population
  total or share.
- `rake`: iterative proportional fitting (Deming & Stephan 1940) to several margins at once, as
  R's survey::rake; optional trimming of extreme weights (bounds, with the trimmed excess spread
  over the other respondents, as survey::trimWeights).
- `weighted_summary`: weighted proportions and means with linearization standard errors of a
  with-replacement design with weights only (R: svymean(~y, svydesign(ids = ~1, weights = ~w))).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.errors import SurveyAnalysisError, SurveyAnalysisWarning


class WeightingWarning(SurveyAnalysisWarning):
    """Weights that did not converge, or that had to be trimmed heavily."""


@dataclass
class WeightResult:
    """Respondent weights and how well they reproduce the population.

    Attributes:
        weights: one weight per respondent (indexed like the data; NaN for rows left out).
        achieved: per margin and level, the population target and the weighted sample total.
        iterations: raking passes (1 for post-stratification); converged: margins reached.
        design_effect: Kish's 1 + CV^2 of the weights; n_effective: n / design_effect.
    """

    weights: pd.Series
    achieved: pd.DataFrame
    iterations: int
    converged: bool
    design_effect: float
    n_effective: float

    def to_frame(self) -> pd.DataFrame:
        return self.achieved.copy()

    def summary(self) -> str:
        w = self.weights.dropna()
        return (f"{len(w)} weights, range {w.min():.3f}-{w.max():.3f}, design effect {self.design_effect:.3f}, "
                f"effective n {self.n_effective:.1f}, {self.iterations} iteration(s)"
                f"{'' if self.converged else ' (NOT converged)'}\n{self.achieved.round(3).to_string()}")


def _frame(data: object) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    inner = getattr(data, "data", None)
    if isinstance(inner, pd.DataFrame):
        return inner
    raise SurveyAnalysisError("weighting: expected a DataFrame or SurveyData")


def _base(data: pd.DataFrame, weight: str | None) -> np.ndarray:
    if weight is None:
        return np.ones(len(data))
    if weight not in data.columns:
        raise SurveyAnalysisError(f"weighting: no weight column {weight!r}")
    w = pd.to_numeric(data[weight], errors="coerce").to_numpy(float)
    if np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise SurveyAnalysisError(f"weighting: base weights {weight!r} must be positive numbers")
    return w


def _targets(name: str, target: Mapping | pd.Series, present: pd.Series, total: float) -> dict[object, float]:
    target = dict(target.items()) if isinstance(target, pd.Series) else dict(target)
    if not target:
        raise SurveyAnalysisError(f"weighting: no population figures for {name!r}")
    values = np.array(list(target.values()), float)
    if np.any(values < 0) or not np.all(np.isfinite(values)):
        raise SurveyAnalysisError(f"weighting: population figures for {name!r} must be non-negative numbers")
    levels = set(present.dropna().unique())
    missing = sorted(map(str, levels - set(target)))
    if missing:
        raise SurveyAnalysisError(f"weighting: {name!r} levels {missing} occur in the sample but have no "
                                  f"population figure; population levels: {sorted(map(str, target))}")
    empty = [k for k, v in target.items() if v > 0 and k not in levels]
    if empty:
        raise SurveyAnalysisError(f"weighting: no respondent in {name!r} = {empty}; the weights cannot reach "
                                  "that population share (merge the level with a neighbour)")
    if abs(values.sum() - 1.0) < 1e-6:  # shares
        return {k: v * total for k, v in target.items()}
    return {k: float(v) for k, v in target.items()}


def _kish(w: np.ndarray) -> float:
    return float(1 + np.var(w) / np.mean(w) ** 2)


def _result(w: np.ndarray, index: pd.Index, keep: np.ndarray, rows: list[dict], iterations: int,
            converged: bool) -> WeightResult:
    weights = pd.Series(np.nan, index=index, name="weight")
    weights[keep] = w
    deff = _kish(w)
    return WeightResult(weights, pd.DataFrame(rows), iterations, converged, deff, float(len(w) / deff))


def poststratify(data: pd.DataFrame, strata: str | Sequence[str], population: Mapping | pd.Series | pd.DataFrame,
                 *, weight: str | None = None) -> WeightResult:
    """Post-stratification weights: each cell's weights sum to its population total (or share x n).

    Args:
        strata: one column, or several whose combinations form the cells.
        population: {cell: total or share}; cells of several columns as tuples, or a DataFrame with
            the strata columns and a last column of totals (a census table).
    """
    frame = _frame(data)
    strata = [strata] if isinstance(strata, str) else list(strata)
    for s in strata:
        if s not in frame.columns:
            raise SurveyAnalysisError(f"poststratify: no column {s!r}")
    if isinstance(population, pd.DataFrame):
        cells = population[strata].itertuples(index=False, name=None)
        population = dict(zip([c[0] if len(strata) == 1 else c for c in cells],
                              population.iloc[:, -1].astype(float), strict=True))
    keep = frame[strata].notna().all(axis=1).to_numpy()
    sub = frame.loc[keep, strata]
    cell = sub[strata[0]] if len(strata) == 1 else pd.Series(list(sub.itertuples(index=False, name=None)), index=sub.index)
    d = _base(frame, weight)[keep]
    targets = _targets(" x ".join(strata), population, cell, d.sum())
    w = d.copy()
    rows = []
    codes = cell.to_numpy(dtype=object)
    for level, total in targets.items():
        mask = np.array([c == level for c in codes])
        if mask.any():
            w[mask] = d[mask] * total / d[mask].sum()
        rows.append({"margin": " x ".join(strata), "level": level, "target": total, "achieved": w[mask].sum()})
    return _result(w, frame.index, keep, rows, 1, True)


def _trim(w: np.ndarray, lower: float, upper: float, max_iter: int = 50) -> np.ndarray:
    """Trim weights to [lower, upper] and spread the change over the untrimmed ones (total kept)."""
    total = w.sum()
    for _ in range(max_iter):
        clipped = np.clip(w, lower, upper)
        free = (clipped > lower) & (clipped < upper)
        excess = total - clipped.sum()
        if abs(excess) < 1e-9 * total or not free.any():
            return clipped
        clipped[free] *= 1 + excess / clipped[free].sum()
        w = clipped
    return w


def rake(data: pd.DataFrame, margins: Mapping[str, Mapping | pd.Series], *, weight: str | None = None,
         max_iter: int = 100, tol: float = 1e-8, trim: tuple[float, float] | None = None) -> WeightResult:
    """Raking (iterative proportional fitting) to the margins {column: {level: total or share}}.

    Each pass scales the weights to every margin in turn; it stops when every weighted margin is
    within `tol` (relative) of its target. Totals of different margins must agree (shares are
    scaled to the base weights' total). `trim=(lower, upper)` bounds the final weights in weight
    units, spreading the trimmed amount over the others, then rakes again (up to 10 rounds).
    """
    frame = _frame(data)
    if not margins:
        raise SurveyAnalysisError("rake: give at least one margin")
    for name in margins:
        if name not in frame.columns:
            raise SurveyAnalysisError(f"rake: no column {name!r}")
    keep = frame[list(margins)].notna().all(axis=1).to_numpy()
    d = _base(frame, weight)[keep]
    sub = frame.loc[keep, list(margins)]
    targets = {name: _targets(name, margin, sub[name], d.sum()) for name, margin in margins.items()}
    totals = [sum(t.values()) for t in targets.values()]
    if max(totals) - min(totals) > 1e-6 * max(totals):
        raise SurveyAnalysisError(f"rake: the margins' totals disagree ({', '.join(f'{t:g}' for t in totals)}); "
                                  "give shares or consistent totals")
    masks = {name: {level: (sub[name] == level).to_numpy() for level in t} for name, t in targets.items()}
    w = d.copy()
    converged, iterations = False, 0
    for _round in range(10 if trim else 1):
        for iterations in range(1, max_iter + 1):  # noqa: B007
            for name, t in targets.items():
                for level, total in t.items():
                    mask = masks[name][level]
                    current = w[mask].sum()
                    if current > 0:
                        w[mask] *= total / current
            worst = max(abs(w[masks[n][lv]].sum() - tot) / max(tot, 1e-300)
                        for n, t in targets.items() for lv, tot in t.items() if tot > 0)
            if worst < tol:
                converged = True
                break
        if trim is None:
            break
        lower, upper = trim
        if not 0 <= lower < upper:
            raise SurveyAnalysisError(f"rake: trim bounds must satisfy 0 <= lower < upper (got {trim})")
        if w.min() >= lower - 1e-12 and w.max() <= upper + 1e-12:
            break
        w = _trim(w, lower, upper)
        converged = False
    worst = max(abs(w[masks[n][lv]].sum() - tot) / max(tot, 1e-300)
                for n, t in targets.items() for lv, tot in t.items() if tot > 0)
    converged = worst < max(tol, 1e-6)
    if trim is not None and not converged:
        warnings.warn(f"rake: with weights trimmed to {trim} the margins are met only within {worst:.2%}",
                      WeightingWarning, stacklevel=2)
    elif not converged:
        warnings.warn(f"rake: margins not reached within {max_iter} iterations (tolerance {tol}); the weights "
                      "cannot reach these margins with this sample", WeightingWarning, stacklevel=2)
    rows = [{"margin": n, "level": lv, "target": tot, "achieved": float(w[masks[n][lv]].sum())}
            for n, t in targets.items() for lv, tot in t.items()]
    return _result(w, frame.index, keep, rows, iterations, converged)


def weighted_summary(data: pd.DataFrame, variables: Sequence[str], weights: pd.Series | np.ndarray | str, *,
                     by: str | None = None, categorical: Sequence[str] | None = None) -> pd.DataFrame:
    """Weighted means (numeric variables) or proportions (categorical ones) with standard errors.

    SE of a weighted (ratio) mean under a with-replacement design with weights only:
    sqrt(n/(n-1) sum w_i^2 (y_i - ybar)^2) / sum w_i, as R's survey::svymean for
    svydesign(ids = ~1, weights = ~w). A proportion is the mean of the level's indicator.
    Rows with a missing value of a variable are left out of that variable's estimate.
    """
    frame = _frame(data)
    if isinstance(weights, str):
        if weights not in frame.columns:
            raise SurveyAnalysisError(f"weighted_summary: no weight column {weights!r}")
        w_all = pd.to_numeric(frame[weights], errors="coerce")
    else:
        w_all = pd.Series(np.asarray(weights, float), index=frame.index)
    categorical = set(categorical or [])
    groups = [(None, frame.index)] if by is None else list(frame.groupby(by, observed=True).groups.items())
    rows = []
    for group, index in groups:
        for name in variables:
            if name not in frame.columns:
                raise SurveyAnalysisError(f"weighted_summary: no column {name!r}")
            column = frame.loc[index, name]
            w = w_all.loc[index]
            ok = column.notna() & w.notna()
            is_cat = name in categorical or not pd.api.types.is_numeric_dtype(column)
            targets = [(lv, (column[ok] == lv).astype(float).to_numpy()) for lv in sorted(column[ok].unique(), key=str)] \
                if is_cat else [(None, column[ok].astype(float).to_numpy())]
            ww = w[ok].to_numpy(float)
            n = ww.size
            for level, y in targets:
                if n < 2:
                    est, se = (float(y.mean()) if n else np.nan), np.nan
                else:
                    est = float((ww * y).sum() / ww.sum())
                    se = float(np.sqrt(n / (n - 1) * np.sum(ww**2 * (y - est) ** 2)) / ww.sum())
                rows.append({**({"group": group} if by else {}), "variable": name, "level": level,
                             "statistic": "proportion" if is_cat else "mean", "estimate": est, "se": se,
                             "ci_low": est - 1.959964 * se, "ci_high": est + 1.959964 * se, "n": n})
    return pd.DataFrame(rows)


__all__ = ["WeightResult", "WeightingWarning", "poststratify", "rake", "weighted_summary"]
