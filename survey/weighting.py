"""Weighting a sample to its population: post-stratification, raking, trimming, and weighted
estimates with standard errors, as R's survey package computes them.

- `poststratify`: each cell (e.g. age band x urban/rural from a census table) carries its
  population total or share (R: survey::postStratify).
- `rake`: iterative proportional fitting to several margins (Deming & Stephan 1940) with R's
  convergence rule (survey::rake), and optional trimming (survey::trimWeights, strict = TRUE).
- `weighted_summary`: weighted means and proportions with linearization standard errors of a
  with-replacement design with weights only (R: svymean(~y, svydesign(ids = ~1, weights = ~w))).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.errors import SurveyAnalysisError, SurveyAnalysisWarning
from survey.regression.design import require_columns

Z_95 = 1.959963984540054  # qnorm(0.975): R's confint() for svymean uses the normal quantile


class WeightingWarning(SurveyAnalysisWarning):
    """Weights that could not fully reach the population figures."""


class RakingConvergenceWarning(WeightingWarning):
    """Raking stopped at max_iter before the margins settled (R: "Raking did not converge")."""


class TrimmingWarning(WeightingWarning):
    """Trimmed weights no longer reproduce the margins, or trimming could not keep its bounds."""


@dataclass(frozen=True)
class WeightResult:
    """Respondent weights and how well they reproduce the population.

    Attributes:
        weights: one weight per respondent, indexed like the data (name "weight").
        achieved: one row per margin and level: target (population total), achieved (weighted
            sample total), difference, n (respondents in the level).
        iterations: raking passes over all margins (1 for post-stratification).
        converged: whether raking met its convergence rule (always True for post-stratification).
        design_effect: Kish's design effect due to weighting, 1 + CV^2 = n sum(w^2) / sum(w)^2.
        n_effective: n / design_effect = sum(w)^2 / sum(w^2).
        method: "poststratify" or "rake"; trimmed: weights that hit a trimming bound.
    """

    weights: pd.Series
    achieved: pd.DataFrame
    iterations: int
    converged: bool
    design_effect: float
    n_effective: float
    method: str
    trimmed: int = 0

    def to_frame(self) -> pd.DataFrame:
        """The achieved-margins table."""
        return self.achieved.copy()

    def summary(self) -> str:
        """Weights range, design effect, effective n and the achieved margins as plain text."""
        w = self.weights
        status = "" if self.converged else " (NOT converged)"
        trimmed = f", {self.trimmed} trimmed" if self.trimmed else ""
        return (
            f"{self.method}: {len(w)} weights, range {w.min():.4g}-{w.max():.4g}, sum {w.sum():.6g}{trimmed}\n"
            f"design effect (Kish 1 + CV^2) {self.design_effect:.3f}, effective n {self.n_effective:.1f}, "
            f"{self.iterations} iteration(s){status}\n{self.achieved.round(4).to_string(index=False)}"
        )


# ----------------------------------------------------------------------------- input


def _frame(data: object, where: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    inner = getattr(data, "data", None)
    if isinstance(inner, pd.DataFrame):
        return inner
    raise SurveyAnalysisError(f"{where}: expected a DataFrame or SurveyData, got {type(data).__name__}")


def _base_weights(frame: pd.DataFrame, weight: str | None, where: str) -> np.ndarray:
    if weight is None:
        return np.ones(len(frame))
    require_columns(frame, [weight], where)
    w = pd.to_numeric(frame[weight], errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise SurveyAnalysisError(f"{where}: base weights {weight!r} must be positive numbers with none missing")
    return w


def _name(variables: tuple[str, ...]) -> str:
    return " x ".join(variables)


def _cells(frame: pd.DataFrame, variables: tuple[str, ...], where: str) -> dict[Hashable, np.ndarray]:
    """Row positions of each observed cell (a level, or a tuple of levels for several variables)."""
    require_columns(frame, list(variables), where)
    for v in variables:
        missing = int(frame[v].isna().sum())
        if missing:
            raise SurveyAnalysisError(
                f"{where}: {missing} respondents have no value of {v!r}; impute it or drop them before weighting "
                "(R's postStratify/rake refuse missing values too)")
    keys = list(variables)
    groups = frame.groupby(keys if len(keys) > 1 else keys[0], sort=False, observed=True).indices
    return {(_plain(k) if len(keys) == 1 else tuple(_plain(x) for x in k)): np.asarray(pos) for k, pos in groups.items()}


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _population(population: object, variables: tuple[str, ...], where: str) -> dict[Hashable, float]:
    """{cell: figure} from a dict, a Series (MultiIndex for several variables) or a census DataFrame."""
    if isinstance(population, pd.DataFrame):
        absent = [v for v in variables if v not in population.columns]
        if absent:
            raise SurveyAnalysisError(f"{where}: the population table for {_name(variables)!r} lacks columns {absent}")
        rest = [c for c in population.columns if c not in variables]
        value = "Freq" if "Freq" in rest else rest[0] if len(rest) == 1 else None
        if value is None:
            raise SurveyAnalysisError(
                f"{where}: the population table for {_name(variables)!r} needs one column of totals besides "
                f"{list(variables)} (or one named 'Freq', as in R); it has {rest}")
        cells = population[list(variables)].itertuples(index=False, name=None)
        keys = [_plain(c[0]) if len(variables) == 1 else tuple(map(_plain, c)) for c in cells]
        if len(set(keys)) < len(keys):
            raise SurveyAnalysisError(f"{where}: the population table for {_name(variables)!r} repeats a cell")
        pairs = list(zip(keys, population[value], strict=True))
    elif isinstance(population, pd.Series):
        pairs = [(tuple(map(_plain, k)) if isinstance(k, tuple) else _plain(k), v) for k, v in population.items()]
    elif isinstance(population, Mapping):
        pairs = list(population.items())
    else:
        raise SurveyAnalysisError(
            f"{where}: population figures for {_name(variables)!r} must be a dict, Series or DataFrame, "
            f"got {type(population).__name__}")
    if not pairs:
        raise SurveyAnalysisError(f"{where}: no population figures for {_name(variables)!r}")
    out: dict[Hashable, float] = {}
    for key, value in pairs:
        number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        if not np.isfinite(number) or number < 0:
            raise SurveyAnalysisError(
                f"{where}: population figure for {_name(variables)!r} = {key!r} must be a non-negative number, got {value!r}")
        if len(variables) > 1 and not (isinstance(key, tuple) and len(key) == len(variables)):
            raise SurveyAnalysisError(
                f"{where}: cells of {_name(variables)!r} must be tuples of {len(variables)} levels, got {key!r}")
        out[key] = float(number)
    return out


def _match(targets: dict[Hashable, float], cells: dict[Hashable, np.ndarray], variables: tuple[str, ...],
           where: str) -> None:
    """Every sample cell needs a population figure; every populated cell needs respondents."""
    name = _name(variables)
    unknown = [c for c in cells if c not in targets]
    if unknown:
        raise SurveyAnalysisError(
            f"{where}: {name!r} cells {unknown[:10]} occur in the sample but have no population figure; "
            f"population cells: {list(targets)[:20]}")
    empty = [c for c, t in targets.items() if t > 0 and c not in cells]
    if empty:
        raise SurveyAnalysisError(
            f"{where}: no respondent in {name!r} = {empty[:10]}; the weights cannot reach that population figure "
            "(merge the cell with a neighbour, or collapse the levels)")
    zero = [c for c in cells if targets[c] == 0]
    if zero:
        raise SurveyAnalysisError(
            f"{where}: {name!r} cells {zero[:10]} have respondents but a population figure of 0")


def _as_totals(targets: dict[Hashable, float], total: float) -> tuple[dict[Hashable, float], bool]:
    """Shares (figures summing to 1) become totals out of `total`; totals stay as they are."""
    s = sum(targets.values())
    if abs(s - 1.0) < 1e-6:
        return {k: v * total for k, v in targets.items()}, True
    return dict(targets), False


def _kish(w: np.ndarray) -> float:
    return float(len(w) * np.sum(w**2) / np.sum(w) ** 2)


def _achieved_rows(margins: list[tuple[tuple[str, ...], dict[Hashable, float], dict[Hashable, np.ndarray]]],
                   w: np.ndarray) -> pd.DataFrame:
    rows = []
    for variables, targets, cells in margins:
        for cell, target in targets.items():
            pos = cells.get(cell, np.array([], dtype=int))
            got = float(w[pos].sum())
            rows.append({"margin": _name(variables), "level": cell, "target": target, "achieved": got,
                         "difference": got - target, "n": int(pos.size)})
    return pd.DataFrame(rows)


def _result(w: np.ndarray, index: pd.Index, achieved: pd.DataFrame, iterations: int, converged: bool,
            method: str, trimmed: int = 0) -> WeightResult:
    deff = _kish(w)
    return WeightResult(pd.Series(w, index=index, name="weight"), achieved, iterations, converged, deff,
                        float(len(w) / deff), method, trimmed)


def _variables(key: str | Sequence[str]) -> tuple[str, ...]:
    return (key,) if isinstance(key, str) else tuple(key)


# ----------------------------------------------------------------------------- post-stratification


def poststratify(data: pd.DataFrame, strata: str | Sequence[str], population: Mapping | pd.Series | pd.DataFrame,
                 *, weight: str | None = None) -> WeightResult:
    """Post-stratification weights: within each cell the weights are scaled so that they sum to the
    cell's population total, w_i = d_i N_c / sum_{j in c} d_j (R: survey::postStratify).

    Args:
        data: one row per respondent (DataFrame or SurveyData).
        strata: one column, or several whose combinations form the cells.
        population: population figures per cell: a dict {level: figure} ({(level1, level2): figure}
            for several columns), a Series (MultiIndex for several columns), or a census table as a
            DataFrame with the strata columns and one column of totals (named "Freq" as in R, or
            the only other column). Figures summing to 1 are shares and give weights summing to
            the base weights' total (n without base weights); other figures are totals.
        weight: column of base (design) weights; default 1 for everyone.

    Returns:
        WeightResult with `weights`, the `achieved` table, `design_effect` and `n_effective`.

    Raises:
        SurveyAnalysisError: a cell with respondents but no population figure, a populated cell
            without respondents (named), missing values in a stratum column.

    Checked against R: postStratify(dclus1, ~stype, pop.types) on the survey package's apiclus1
    (tests/survey/test_weighting.py).
    """
    where = "poststratify"
    frame = _frame(data, where)
    variables = _variables(strata)
    if not variables:
        raise SurveyAnalysisError(f"{where}: give at least one stratum column")
    cells = _cells(frame, variables, where)
    d = _base_weights(frame, weight, where)
    targets, _ = _as_totals(_population(population, variables, where), float(d.sum()))
    _match(targets, cells, variables, where)
    w = d.copy()
    for cell, pos in cells.items():
        w[pos] = d[pos] * targets[cell] / d[pos].sum()
    achieved = _achieved_rows([(variables, targets, cells)], w)
    return _result(w, frame.index, achieved, 1, True, "poststratify")


# ----------------------------------------------------------------------------- raking


def trim_weights(w: np.ndarray | pd.Series, lower: float | None = None, upper: float | None = None,
                 ) -> tuple[np.ndarray, int]:
    """Trim weights to [lower, upper] as R's survey::trimWeights(strict = TRUE): weights outside the
    bounds are set to the bound, and the amount trimmed off is shared out *equally* (added, not
    multiplied) among the weights that were never trimmed; this repeats until no weight is outside
    the bounds. The total of the weights is kept. Returns the trimmed weights and how many hit a bound.
    """
    pw = np.asarray(w, float).copy()
    lo = -np.inf if lower is None else float(lower)
    hi = np.inf if upper is None else float(upper)
    if not lo < hi:
        raise SurveyAnalysisError(f"trim: the bounds must satisfy lower < upper (got {lower}, {upper})")
    mean = pw.mean()
    if not lo <= mean <= hi:
        raise SurveyAnalysisError(
            f"trim: bounds ({lower}, {upper}) cannot hold weights whose mean must stay {mean:.4g} "
            "(bounds are in weight units)")
    has_trimmed = np.zeros(pw.size, bool)
    outside = (pw < lo) | (pw > hi)
    while outside.any():
        clipped = np.clip(pw, lo, hi)
        trimmings = pw - clipped
        can_take = ~outside & ~has_trimmed
        if not can_take.any():
            warnings.warn("trim: trimming failed; no untrimmed weight is left to take the trimmed amount",
                          TrimmingWarning, stacklevel=3)
            pw = clipped
            has_trimmed |= outside
            break
        clipped[can_take] += trimmings.sum() / can_take.sum()
        pw = clipped
        has_trimmed |= outside
        outside = (pw < lo - 1e-12) | (pw > hi + 1e-12)
    return pw, int(has_trimmed.sum())


def rake(data: pd.DataFrame, margins: Mapping[str | tuple[str, ...], Mapping | pd.Series | pd.DataFrame], *,
         weight: str | None = None, max_iter: int = 50, tol: float = 1e-6,
         trim: tuple[float | None, float | None] | None = None) -> WeightResult:
    """Raking (iterative proportional fitting) to several population margins.

    Each pass post-stratifies to every margin in turn (R: survey::rake). Convergence as in R: after
    a pass, the largest absolute change of any weighted margin cell since the previous pass must be
    below epsilon, where epsilon = `tol` when tol >= 1 (weight units) and `tol` x the total base
    weight when tol < 1 (R's `control = list(epsilon = ...)`; R's defaults are maxit = 10,
    epsilon = 1; ours are tighter so the margins are reproduced to print precision). The raked
    weights are w_i = d_i prod_m g_m(level of i), the solution closest to d in Kullback-Leibler
    distance (Deming & Stephan 1940; Deville & Sarndal 1992).

    Args:
        data: one row per respondent (DataFrame or SurveyData).
        margins: {column: figures} or {(col1, col2): figures} for a joint margin; figures as in
            `poststratify` (dict, Series, or DataFrame with a "Freq" column). Shares (summing to 1)
            are scaled to the total of the margins given as totals, or, when all are shares, to
            the base weights' total (n without base weights).
        weight: column of base (design) weights; default 1.
        max_iter: passes allowed (R: maxit).
        tol: convergence epsilon (see above).
        trim: (lower, upper) bounds for the final weights in weight units (None for no bound),
            applied after raking as R's trimWeights(design, lower, upper, strict = TRUE); the
            margins then hold only approximately and a TrimmingWarning says by how much.

    Returns:
        WeightResult with `weights`, `iterations`, `converged`, `design_effect` (Kish),
        `n_effective`, `trimmed` and the `achieved` margins table.

    Raises:
        SurveyAnalysisError: a level with respondents but no population figure, a populated level
            with no respondent (named), margins whose totals disagree, missing values.

    Warns:
        RakingConvergenceWarning: not converged after max_iter passes, or the weights settled
            (R's rule) while a margin is still off target by epsilon or more: margins the sample
            cannot reach together (then `converged` is False). TrimmingWarning: see `trim`.

    Checked against R survey 4.5: rake(dclus1, list(~stype, ~sch.wide), ...) on apiclus1
    (tests/survey/test_weighting.py, expected values from the package's tests/rakecheck.Rout.save).
    """
    where = "rake"
    frame = _frame(data, where)
    if not margins:
        raise SurveyAnalysisError(f"{where}: give at least one margin, e.g. {{'age_band': {{1: 0.3, 2: 0.7}}}}")
    if max_iter < 1:
        raise SurveyAnalysisError(f"{where}: max_iter must be at least 1 (got {max_iter})")
    if not tol > 0:
        raise SurveyAnalysisError(f"{where}: tol must be positive (got {tol})")
    d = _base_weights(frame, weight, where)
    parsed = []
    for key, figures in margins.items():
        variables = _variables(key)
        parsed.append((variables, _cells(frame, variables, where), _population(figures, variables, where)))
    given_totals = [sum(t.values()) for _, _, t in parsed if abs(sum(t.values()) - 1.0) >= 1e-6]
    total = given_totals[0] if given_totals else float(d.sum())
    plan = []
    for variables, cells, figures in parsed:
        targets, _ = _as_totals(figures, total)
        _match(targets, cells, variables, where)
        plan.append((variables, targets, cells))
    totals = {_name(v): sum(t.values()) for v, t, _ in plan}
    if max(totals.values()) - min(totals.values()) > 1e-6 * max(totals.values()):
        raise SurveyAnalysisError(
            f"{where}: the margins' population totals disagree ({', '.join(f'{k}: {v:g}' for k, v in totals.items())}); "
            "no set of weights can reach them all. Give shares, or totals from the same population")
    epsilon = tol if tol >= 1 else tol * float(d.sum())
    w = d.copy()

    def tables(weights: np.ndarray) -> np.ndarray:
        return np.array([weights[pos].sum() for _, _, cells in plan for pos in cells.values()])

    old = tables(w)
    converged, iterations = False, 0
    while iterations < max_iter:
        iterations += 1
        for _, targets, cells in plan:
            for cell, pos in cells.items():
                w[pos] *= targets[cell] / w[pos].sum()
        new = tables(w)
        if np.max(np.abs(new - old)) < epsilon:
            converged = True
            break
        old = new
    achieved = _achieved_rows(plan, w)
    worst = achieved.loc[achieved["difference"].abs().idxmax()]
    if not converged:
        warnings.warn(
            f"rake: raking did not converge after {iterations} iterations (largest change of a margin cell in the "
            f"last pass {np.max(np.abs(new - old)):.4g}, epsilon {epsilon:.4g}); worst cell {worst['margin']} = "
            f"{worst['level']!r}: {worst['achieved']:.6g} for a target of {worst['target']:.6g}",
            RakingConvergenceWarning, stacklevel=2)
    elif abs(worst["difference"]) >= epsilon:
        # R's rule only asks that the tables stop changing; margins the sample cannot reach together
        # (e.g. every rural respondent is old, and the rural share exceeds the old share) settle off target
        converged = False
        warnings.warn(
            f"rake: the weights settled but cannot reach these margins together: {worst['margin']} = "
            f"{worst['level']!r} gets {worst['achieved']:.6g} for a target of {worst['target']:.6g} "
            "(the sample lacks respondents in the cells that would reconcile the margins; see the achieved table)",
            RakingConvergenceWarning, stacklevel=2)
    trimmed = 0
    if trim is not None:
        lower, upper = trim
        w, trimmed = trim_weights(w, lower, upper)
        achieved = _achieved_rows(plan, w)
    if trimmed:
        miss = float(np.nanmax(np.abs(achieved["difference"]) / achieved["target"].where(achieved["target"] > 0)))
        if np.max(np.abs(achieved["difference"])) >= epsilon:
            warnings.warn(f"rake: after trimming {trimmed} weights to {trim} the margins are met only within "
                          f"{miss:.2%} (see the achieved table)", TrimmingWarning, stacklevel=2)
    return _result(w, frame.index, achieved, iterations, converged, "rake", trimmed)


# ----------------------------------------------------------------------------- weighted estimates


def _weights_vector(frame: pd.DataFrame, weights: object, where: str) -> pd.Series:
    if isinstance(weights, WeightResult):
        weights = weights.weights
    if isinstance(weights, str):
        require_columns(frame, [weights], where)
        w = pd.to_numeric(frame[weights], errors="coerce")
    elif isinstance(weights, pd.Series):
        if not weights.index.equals(frame.index):
            if not frame.index.isin(weights.index).all():
                raise SurveyAnalysisError(f"{where}: the weights Series is not indexed like the data")
            weights = weights.reindex(frame.index)
        w = pd.to_numeric(weights, errors="coerce")
    else:
        array = np.asarray(weights, float)
        if array.shape != (len(frame),):
            raise SurveyAnalysisError(f"{where}: {array.size} weights for {len(frame)} rows")
        w = pd.Series(array, index=frame.index)
    values = w.to_numpy(float)
    if not np.all(np.isfinite(values)) or np.any(values < 0) or values.sum() <= 0:
        raise SurveyAnalysisError(f"{where}: weights must be non-negative numbers, none missing, not all zero")
    return w.astype(float)


def _levels(values: pd.Series) -> list[object]:
    present = values.dropna()
    if isinstance(values.dtype, pd.CategoricalDtype):
        seen = set(present.unique())
        return [c for c in values.cat.categories if c in seen]
    unique = [_plain(v) for v in present.unique()]
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=str)


def _is_categorical(values: pd.Series, forced: bool) -> bool:
    if forced or isinstance(values.dtype, pd.CategoricalDtype):
        return True
    return not (pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values))


def weighted_mean_se(y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted (ratio) mean and its linearization SE under a with-replacement design with
    weights only: ybar = sum w y / sum w, SE = sqrt(n / (n - 1) sum w^2 (y - ybar)^2) / sum w.

    This is R's svymean for svydesign(ids = ~1, weights = ~w): svymean.survey.design2 passes the
    influence values w (y - ybar) / sum(w) to svyrecvar, whose one-stratum with-replacement
    variance is n / (n - 1) times the sum of their squares (their mean is 0).
    """
    n = y.size
    total = w.sum()
    mean = float(np.sum(w * y) / total) if total > 0 else float("nan")
    if n < 2 or total <= 0:
        return mean, float("nan")
    return mean, float(np.sqrt(n / (n - 1) * np.sum(w**2 * (y - mean) ** 2)) / total)


def weighted_summary(data: pd.DataFrame, variables: Sequence[str], weights: pd.Series | np.ndarray | str | WeightResult,
                     *, by: str | None = None, categorical: Sequence[str] | None = None) -> pd.DataFrame:
    """Weighted means (numeric variables) and proportions (categorical ones) with standard errors.

    Estimates and SEs are those of R's svymean(~y, svydesign(ids = ~1, weights = ~w), na.rm = TRUE)
    (and svyby(..., svymean) for `by`): the SE treats the weights as fixed and the respondents as
    a with-replacement sample, SE = sqrt(n / (n - 1) sum w_i^2 (y_i - ybar)^2) / sum w_i (see
    `weighted_mean_se`); a proportion is the mean of the level's 0/1 indicator. Respondents missing
    a variable are left out of that variable's estimates (n counts those used); respondents
    missing `by` are left out. 95% CI = estimate -/+ 1.96 SE (R's confint for svymean).

    Args:
        data: one row per respondent.
        variables: columns to summarise.
        weights: a weight column name, a Series indexed like the data, an array, or a WeightResult.
        by: optional grouping column (estimates within each group).
        categorical: numeric-coded columns to treat as categories (text and category columns
            always are).

    Returns:
        Tidy DataFrame: [group], variable, level, statistic ("mean" or "proportion"), estimate,
        se, ci_low, ci_high, n, weighted_n.

    Checked against R's survey package: svymean(~uriage, svydesign(ids = ~1, weights = ~w))
    in its tests/deff.Rout.save (tests/survey/test_weighting.py).
    """
    where = "weighted_summary"
    frame = _frame(data, where)
    variables = [variables] if isinstance(variables, str) else list(variables)
    require_columns(frame, variables + ([by] if by else []), where)
    categorical = set(categorical or [])
    unknown = categorical - set(variables)
    if unknown:
        raise SurveyAnalysisError(f"{where}: categorical names {sorted(unknown)} are not among the variables")
    w_all = _weights_vector(frame, weights, where)
    if by is None:
        groups = [(None, frame.index)]
    else:
        groups = [(g, frame.index[frame[by] == g]) for g in _levels(frame[by])]
    rows = []
    for group, index in groups:
        for name in variables:
            column = frame.loc[index, name]
            ok = column.notna().to_numpy()
            ww = w_all.loc[index].to_numpy(float)[ok]
            is_cat = _is_categorical(frame[name], name in categorical)
            if is_cat:
                present = column[ok]
                targets = [(lv, (present == lv).to_numpy(float)) for lv in _levels(frame[name])]
            else:
                targets = [(None, column[ok].astype(float).to_numpy())]
            for level, y in targets:
                est, se = weighted_mean_se(y, ww)
                rows.append({**({"group": group} if by else {}), "variable": name, "level": level,
                             "statistic": "proportion" if is_cat else "mean", "estimate": est, "se": se,
                             "ci_low": est - Z_95 * se, "ci_high": est + Z_95 * se, "n": int(y.size),
                             "weighted_n": float(ww.sum())})
    return pd.DataFrame(rows)


__all__ = [
    "RakingConvergenceWarning",
    "TrimmingWarning",
    "WeightResult",
    "WeightingWarning",
    "poststratify",
    "rake",
    "trim_weights",
    "weighted_mean_se",
    "weighted_summary",
]
