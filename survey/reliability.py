"""Scale reliability: Cronbach's alpha with SPSS's Item-Total Statistics, and McDonald's omega.

Numbers follow R's psych::alpha / psych::omega and SPSS's RELIABILITY procedure.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from survey.codebook import Scale, SurveyData
from survey.factor import (
    FactorAnalysisError,
    Missing,
    _extract,
    _order_and_sign,
    check_not_singular,
    correlation_matrix,
    item_data,
    rotate,
    smc,
)
from survey.inputs import expand_items, unpack

ReliabilityError = FactorAnalysisError


# ----------------------------------------------------------------------------- shared input handling


def _scale_items(
    data: pd.DataFrame | SurveyData,
    items: str | list[str] | Scale | None,
    reverse: list[str] | None,
    low: float | None,
    high: float | None,
    scale: Scale | None,
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The item columns, with reverse-keyed ones recoded high + low - x (input left untouched).

    With a SurveyData, `items` may name a codebook scale (its items, reverse keys and range are
    used) and user-missing codes count as missing.
    """
    if isinstance(data, SurveyData):
        frame, book = unpack(data, "reliability")
        if isinstance(items, str) and items not in frame.columns:
            found = book.scales.get(items) if book is not None else None
            if found is None:
                raise ReliabilityError(f"{items!r} is neither a column nor a codebook scale; codebook scales: "
                                       f"{sorted(book.scales) if book is not None else []}")
            items = found
        elif items is None and scale is None:
            scales = sorted(book.scales) if book is not None else []
            if len(scales) != 1:
                raise ReliabilityError(f"name the scale or its items: the codebook has {len(scales)} scales {scales}")
            items = book.scales[scales[0]]
        elif items is not None and not isinstance(items, Scale):
            items = expand_items(items, frame, book, "reliability")
        data = frame
    elif isinstance(items, str):
        if items not in getattr(data, "columns", ()):
            raise ReliabilityError(f"{items!r} is not a column; a scale name needs a SurveyData whose codebook "
                                   "defines it (e.g. survey.load_example() or survey.read(...))")
        items = [items]
    if isinstance(items, Scale):
        scale, items = items, None
    if scale is not None:
        items = list(scale.items) if items is None else items
        reverse = list(scale.reverse) if reverse is None else reverse
        low = scale.low if low is None else low
        high = scale.high if high is None else high
    if not isinstance(data, pd.DataFrame):
        raise ReliabilityError(f"reliability needs a pandas DataFrame, got {type(data).__name__}")
    items = list(data.columns) if items is None else list(items)
    reverse = list(reverse or [])
    stray = [item for item in reverse if item not in items]
    if stray:
        raise ReliabilityError(f"reverse-keyed items {stray} are not among the items {items}")
    if reverse and (low is None or high is None):
        raise ReliabilityError(
            f"reversing {reverse} needs the response range: pass low= and high= (e.g. 1 and 5) or a Scale"
        )
    absent = [item for item in items if item not in data.columns]
    if absent:
        raise ReliabilityError(f"columns {absent} are not in the data; available: {list(data.columns)[:30]}")
    if not reverse:
        return data, items, reverse
    frame = data.loc[:, items].copy()
    for item in reverse:
        values = pd.to_numeric(frame[item], errors="coerce")
        outside = values[(values < low) | (values > high)]
        if len(outside):
            raise ReliabilityError(
                f"item {item!r} has value {outside.iloc[0]!r} outside the response range {low}..{high}; "
                "check low/high before reversing"
            )
        frame[item] = high + low - values.where(frame[item].notna())
    return frame, items, reverse


def _covariance(frame: pd.DataFrame, missing: Missing) -> tuple[np.ndarray, np.ndarray]:
    """Item covariance matrix and means (pairwise-complete when asked)."""
    if missing == "listwise":
        values = frame.to_numpy(dtype=float)
        return np.cov(values, rowvar=False), values.mean(axis=0)
    cov = frame.cov(min_periods=2).to_numpy(dtype=float)
    if np.isnan(cov).any():
        i, j = np.argwhere(np.isnan(cov))[0]
        raise ReliabilityError(
            f"items {frame.columns[i]!r} and {frame.columns[j]!r} have too few respondents answering both"
        )
    return cov, frame.mean().to_numpy(dtype=float)


def _check_total_variance(cov: np.ndarray, items: list[str]) -> None:
    """Refuse items whose row totals are (nearly) constant: ipsative data such as rankings or
    constant-sum allocations, where every respondent's answers add up to the same number, so the
    total-score variance is zero and alpha = k/(k-1) (1 - sum s_i² / 0) is undefined."""
    total = float(cov.sum())
    if abs(total) <= 1e-8 * float(np.trace(cov)):
        raise ReliabilityError(
            f"the items {items} have (almost) constant row totals (total-score variance {total:.3g}): these are "
            "ipsative data (a ranking or constant-sum answer format, each respondent's answers sum to the same "
            "value), for which Cronbach's alpha is undefined; analyse the items separately or use a "
            "non-ipsative format"
        )


def _alpha(cov: np.ndarray) -> float:
    k = cov.shape[0]
    return k / (k - 1) * (1 - np.trace(cov) / cov.sum())


def _standardized_alpha(cov: np.ndarray) -> tuple[float, float]:
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    k = corr.shape[0]
    mean_r = (corr.sum() - k) / (k * (k - 1))
    return k * mean_r / (1 + (k - 1) * mean_r), mean_r


class ReliabilityWarning(UserWarning):
    """A reliability statistic could not be computed as usual (the message says which and why)."""


# ----------------------------------------------------------------------------- Cronbach's alpha


@dataclass
class AlphaResult:
    """Cronbach's alpha of one scale (see `cronbach_alpha`).

    Attributes:
        alpha: raw alpha (SPSS "Cronbach's Alpha", psych raw_alpha).
        std_alpha: standardized alpha (SPSS "... Based on Standardized Items", psych std.alpha).
        ci: (lower, upper) Feldt confidence interval; ci_level: its level.
        n: respondents used; k: items; average_r: mean inter-item correlation.
        missing: "listwise" or "pairwise" deletion; reversed: items reverse-keyed before analysis.
        item_total: SPSS's Item-Total Statistics (see `item_total`), computed on first use.
        covariance, means: the item covariance matrix and means the statistics come from.
    """

    alpha: float
    std_alpha: float
    ci: tuple[float, float]
    ci_level: float
    n: int
    k: int
    average_r: float
    missing: str
    items: list[str]
    reversed: list[str] = field(default_factory=list)
    covariance: np.ndarray | None = field(default=None, repr=False)
    means: np.ndarray | None = field(default=None, repr=False)
    _item_total: pd.DataFrame | None = field(default=None, repr=False, init=False)

    @property
    def item_total(self) -> pd.DataFrame:
        """SPSS's Item-Total Statistics (computed on first use; see `item_total`)."""
        if self._item_total is None:
            self._item_total = _item_total_table(self.covariance, self.means, self.items)
        return self._item_total

    def to_frame(self) -> pd.DataFrame:
        """One-row table: alpha, std_alpha, CI, average r, n and k."""
        lo, hi = self.ci
        return pd.DataFrame(
            {"alpha": [self.alpha], "std_alpha": [self.std_alpha], "ci_low": [lo], "ci_high": [hi],
             "average_r": [self.average_r], "n": [self.n], "k": [self.k], "missing": [self.missing]}
        )

    def summary(self) -> str:
        """Plain-text report with the Item-Total Statistics table."""
        lo, hi = self.ci
        head = (
            f"Cronbach's alpha = {self.alpha:.3f} (standardized {self.std_alpha:.3f}), "
            f"{self.ci_level:.0%} CI [{lo:.3f}, {hi:.3f}] (Feldt); n = {self.n}, k = {self.k}, "
            f"{self.missing} deletion"
        )
        if self.reversed:
            head += f"; reverse-keyed: {', '.join(self.reversed)}"
        return head + "\n\nItem-Total Statistics\n" + self.item_total.round(3).to_string()


def cronbach_alpha(
    data: pd.DataFrame | SurveyData,
    items: str | list[str] | Scale | None = None,
    *,
    missing: Missing = "listwise",
    ci: float = 0.95,
    reverse: list[str] | None = None,
    low: float | None = None,
    high: float | None = None,
    scale: Scale | None = None,
) -> AlphaResult:
    """Cronbach's (1951) alpha with Feldt's confidence interval and SPSS's Item-Total Statistics.

    alpha = k / (k - 1) * (1 - sum(s_i^2) / s_total^2) from the item covariance matrix;
    standardized alpha = k r / (1 + (k - 1) r) with r the mean inter-item correlation.
    CI (Feldt, Woodruff & Salih, 1987): 1 - (1 - alpha) F_{1-a/2} and 1 - (1 - alpha) F_{a/2}, F
    with (n - 1, (n - 1)(k - 1)) df, as psych::alpha.ci. Reverse-keyed items are recoded
    high + low - x first. Pairwise deletion uses pairwise-complete covariances (psych
    use="pairwise") and counts as n every respondent who answered at least one item.
    Checked against psych::alpha on Field's SAQ items and pingouin's documented psych values.

    Args:
        data: respondents x items DataFrame or SurveyData (not modified; with a SurveyData the
            codebook's user-missing codes count as missing).
        items: item columns, a codebook Scale, or (with a SurveyData) the name of one of its
            codebook scales, e.g. ``cronbach_alpha(data, "online")``; a scale's items, reverse
            keys and range are used.
        missing: "listwise" (default, SPSS) or "pairwise".
        ci: confidence level of the interval.
        reverse: reverse-keyed items; low, high: the response range (e.g. 1 and 5).
        scale: a codebook Scale giving items / reverse / low / high.

    Returns:
        AlphaResult (with `.item_total`).

    Example:
        >>> res = cronbach_alpha(df, ["q1", "q2", "q3"], reverse=["q3"], low=1, high=5)  # doctest: +SKIP
        >>> round(res.alpha, 3)  # doctest: +SKIP
        0.823
    """
    if not 0 < ci < 1:
        raise ReliabilityError(f"ci must be between 0 and 1, got {ci}")
    raw, items, reversed_items = _scale_items(data, items, reverse, low, high, scale)
    frame = item_data(raw, items, missing=missing, min_items=2, min_n=len(items), what="Cronbach's alpha")
    cov, means = _covariance(frame, missing)
    _check_total_variance(cov, items)
    alpha = float(_alpha(cov))
    if alpha > 1:
        detail = ("the pairwise-deletion covariance matrix is not positive semi-definite (smallest eigenvalue "
                  f"{np.linalg.eigvalsh(cov)[0]:.3g}); use listwise deletion" if missing == "pairwise" else
                  "the item covariance matrix is improper")
        warnings.warn(f"Cronbach's alpha = {alpha:.3f} exceeds 1, which no proper covariance matrix gives: {detail}",
                      ReliabilityWarning, stacklevel=2)
    std_alpha, mean_r = _standardized_alpha(cov)
    n, k = len(frame), len(items)
    tail = (1 - ci) / 2
    df1, df2 = n - 1, (n - 1) * (k - 1)
    upper_f, lower_f = special.fdtri(df1, df2, 1 - tail), special.fdtri(df1, df2, tail)
    interval = (1 - (1 - alpha) * upper_f, 1 - (1 - alpha) * lower_f)
    return AlphaResult(
        alpha=alpha, std_alpha=float(std_alpha), ci=(float(interval[0]), float(interval[1])), ci_level=ci,
        n=n, k=k, average_r=float(mean_r), missing=missing, items=items, reversed=reversed_items,
        covariance=cov, means=means,
    )


def _item_total_table(cov: np.ndarray, means: np.ndarray, items: list[str]) -> pd.DataFrame:
    k = len(items)
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    try:
        check_not_singular(corr, items)
        squared_multiple = smc(corr)
    except FactorAnalysisError as error:
        warnings.warn(f"squared multiple correlations left blank: {error}", ReliabilityWarning, stacklevel=3)
        squared_multiple = np.full(k, np.nan)
    variances = np.diag(cov)
    with_all = cov.sum(axis=1)
    rest_variance = cov.sum() - 2 * with_all + variances
    with_rest = with_all - variances
    alpha_deleted = (
        (k - 1) / (k - 2) * (1 - (variances.sum() - variances) / rest_variance) if k > 2 else np.full(k, np.nan)
    )
    return pd.DataFrame(
        {
            "Scale Mean if Item Deleted": means.sum() - means,
            "Scale Variance if Item Deleted": rest_variance,
            "Corrected Item-Total Correlation": with_rest / np.sqrt(variances * rest_variance),
            "Squared Multiple Correlation": squared_multiple,
            "Cronbach's Alpha if Item Deleted": alpha_deleted,
        },
        index=pd.Index(items, name="item"),
    )


def item_total(
    data: pd.DataFrame | SurveyData,
    items: str | list[str] | Scale | None = None,
    *,
    missing: Missing = "listwise",
    reverse: list[str] | None = None,
    low: float | None = None,
    high: float | None = None,
    scale: Scale | None = None,
) -> pd.DataFrame:
    """SPSS's "Item-Total Statistics" table, one row per item.

    Columns: scale mean and variance if the item is deleted (sum score of the other items),
    corrected item-total correlation (item with the sum of the others; psych r.drop), squared
    multiple correlation 1 - 1 / diag(R^-1), and Cronbach's alpha if the item is deleted.
    With two items, alpha if deleted is undefined (NaN, as SPSS leaves it blank).

    Example:
        >>> item_total(df, ["q1", "q2", "q3"])  # doctest: +SKIP
    """
    return cronbach_alpha(
        data, items, missing=missing, reverse=reverse, low=low, high=high, scale=scale
    ).item_total


# ----------------------------------------------------------------------------- McDonald's omega


@dataclass
class OmegaResult:
    """McDonald's omega (see `omega`).

    Attributes:
        omega_total: (V_t - sum u2) / V_t, V_t the sum of the (item-flipped) correlation matrix.
        omega_hierarchical: (sum g)^2 / V_t from the Schmid-Leiman general factor (general=True).
        omega_h_asymptotic: (sum g)^2 / (V_t - sum u2), psych's "Omega H asymptotic".
        alpha: standardized alpha of the same matrix; n, k, n_factors, method, missing: settings.
        loadings: per item g (or the single factor), group factors F1*..., h2, u2 and p2 = g^2/h2.
        flipped: items with negative general loadings, reversed before computing (psych flip=TRUE).
    """

    omega_total: float
    omega_hierarchical: float | None
    omega_h_asymptotic: float | None
    alpha: float
    n: int
    k: int
    n_factors: int
    method: str
    missing: str
    loadings: pd.DataFrame
    flipped: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One-row table of the coefficients."""
        return pd.DataFrame({
            "omega_total": [self.omega_total], "omega_hierarchical": [self.omega_hierarchical],
            "omega_h_asymptotic": [self.omega_h_asymptotic], "alpha": [self.alpha],
            "n": [self.n], "k": [self.k], "n_factors": [self.n_factors],
        })

    def summary(self) -> str:
        """Plain-text report with the (Schmid-Leiman) loadings."""
        lines = [f"McDonald's omega ({self.method}, {self.n_factors} factor(s), n = {self.n}, k = {self.k})",
                 f"Omega total          {self.omega_total:.3f}"]
        if self.omega_hierarchical is not None:
            lines += [f"Omega hierarchical   {self.omega_hierarchical:.3f}",
                      f"Omega H asymptotic   {self.omega_h_asymptotic:.3f}"]
        lines += [f"Alpha (standardized) {self.alpha:.3f}"]
        if self.flipped:
            lines += [f"Reversed (negative general loading): {', '.join(self.flipped)}"]
        return "\n".join(lines) + "\n\n" + self.loadings.round(3).to_string()


def omega(
    data: pd.DataFrame | SurveyData,
    items: str | list[str] | Scale | None = None,
    *,
    n_factors: int = 1,
    general: bool = False,
    method: str = "minres",
    missing: Missing = "listwise",
    reverse: list[str] | None = None,
    low: float | None = None,
    high: float | None = None,
) -> OmegaResult:
    """McDonald's (1999) omega total and, with general=True, omega hierarchical (psych::omega).

    One factor (general=False, n_factors=1): a minres (or ML) factor; omega_t = (V_t - sum u2)/V_t
    with V_t the sum of the correlation matrix and u2 = 1 - lambda^2. With general=True and
    n_factors >= 3: minres factors rotated by oblimin (GPArotation, no Kaiser normalization, as
    psych calls it), a one-factor minres solution of their correlations gives loadings g_f; the
    Schmid-Leiman loadings are g = P g_f and F*_f = P_f sqrt(1 - g_f^2); then
    omega_h = (sum g)^2 / V_t and omega_t = (V_t - sum u2) / V_t. Items whose g loading is
    negative are reversed first (psych flip=TRUE). Checked against psych::omega on Thurstone's
    nine ability tests.

    Args:
        data: respondents x items DataFrame or SurveyData; items: columns, a codebook Scale or
            (with a SurveyData) a codebook scale name, whose reverse keys are applied.
        n_factors: group factors (>= 3 when general=True; psych needs three to identify g).
        general: compute omega hierarchical via Schmid-Leiman.
        method: "minres" (psych default) or "ml" for the factor extraction.
        missing: "listwise" or "pairwise"; reverse, low, high: reverse-keyed items as in alpha.

    Example:
        >>> omega(df, n_factors=3, general=True).omega_hierarchical  # doctest: +SKIP
        0.74
    """
    if method not in ("minres", "ml"):
        raise ReliabilityError(f"omega method must be 'minres' or 'ml', got {method!r}")
    if general and n_factors < 3:
        raise ReliabilityError(
            f"omega hierarchical needs n_factors >= 3 group factors to identify the general factor, got {n_factors}"
        )
    raw, items, _ = _scale_items(data, items, reverse, low, high, None)
    frame = item_data(raw, items, missing=missing, min_items=3, what="omega")
    r = correlation_matrix(frame, missing)
    if not 1 <= n_factors < len(items):
        raise ReliabilityError(f"n_factors must be between 1 and {len(items) - 1}, got {n_factors}")
    loadings = _extract(r, n_factors, method, max_iter=1000, tol=1e-6).loadings
    if general:
        table = _schmid_leiman(r, loadings, method, items)
    else:
        h2 = (loadings**2).sum(axis=1)
        columns = {"g": loadings[:, 0]} if n_factors == 1 else {f"F{j + 1}": loadings[:, j] for j in range(n_factors)}
        table = pd.DataFrame({**columns, "h2": h2, "u2": 1 - h2}, index=items)
    key = np.where(table.iloc[:, 0].to_numpy() < 0, -1.0, 1.0) if (general or n_factors == 1) else np.ones(len(items))
    flipped = [item for item, sign in zip(items, key, strict=True) if sign < 0]
    r = r * np.outer(key, key)
    if general or n_factors == 1:
        table.iloc[:, : n_factors + (1 if general else 0)] *= key[:, None]
    vt, k = r.sum(), len(items)
    uniq = table["u2"].sum()
    gsq = table["g"].sum() ** 2 if general else None
    return OmegaResult(
        omega_total=float((vt - uniq) / vt),
        omega_hierarchical=None if gsq is None else float(gsq / vt),
        omega_h_asymptotic=None if gsq is None else float(gsq / (vt - uniq)),
        alpha=float((vt - k) / vt * k / (k - 1)), n=len(frame), k=k, n_factors=n_factors,
        method=method, missing=missing, loadings=table, flipped=flipped,
    )


def _schmid_leiman(r: np.ndarray, loadings: np.ndarray, method: str, items: list[str]) -> pd.DataFrame:
    """Schmid-Leiman (1957) transformation of an oblimin solution, as psych::schmid."""
    k = loadings.shape[1]
    rotated = rotate(loadings, "oblimin", kaiser_normalize=False, tol=1e-8)
    pattern, phi, _ = _order_and_sign(rotated.loadings, rotated.phi)
    second = _extract(phi, 1, method, max_iter=1000, tol=1e-6).loadings[:, 0]
    g = pattern @ second
    group = pattern * np.sqrt(np.clip(1 - second**2, 0, None))
    h2 = (loadings**2).sum(axis=1)
    table = pd.DataFrame({"g": g}, index=items)
    for j in range(k):
        table[f"F{j + 1}*"] = group[:, j]
    table["h2"] = h2
    table["u2"] = 1 - h2
    table["p2"] = g**2 / h2
    return table
