"""Effect sizes with exact confidence intervals (效应量及其置信区间).

- `cohens_d`: Cohen's d (independent, paired d_z or one-sample) with the noncentral-t interval
  (Steiger & Fouladi 1997; as effectsize::cohens_d and MBESS::ci.smd).
- `eta_squared_ci`: partial eta² of an F test with the noncentral-F interval (Steiger 2004; as
  effectsize::F_to_eta2 and MBESS::ci.pvaf).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from survey.assumptions import finite_column, group_samples, unpack
from survey.codebook import Codebook, SurveyData
from survey.errors import SurveyAnalysisError


def _check_confidence(confidence: float, where: str) -> None:
    if not 0 < confidence < 1:
        raise SurveyAnalysisError(f"{where}: confidence must be between 0 and 1, got {confidence!r}")


def noncentral_t_interval(t: float, df: float, confidence: float) -> tuple[float, float]:
    """Noncentrality parameters (lower, upper) with P(T <= t | ncp) = (1 + c)/2 and (1 - c)/2."""
    upper_tail, lower_tail = (1 + confidence) / 2, (1 - confidence) / 2

    def solve(target: float) -> float:
        f = lambda ncp: stats.nct.cdf(t, df, ncp) - target  # noqa: E731
        # the cdf falls as ncp rises: step away from t until the target is bracketed
        direction = -1.0 if f(t) < 0 else 1.0
        near, step = t, 1.0
        far = t + direction * step
        while np.sign(f(far)) == np.sign(f(near)):
            near, step = far, step * 2
            far = near + direction * step
        low, high = sorted((near, far))
        return float(optimize.brentq(f, low, high, xtol=1e-12))

    return solve(upper_tail), solve(lower_tail)


def cohens_d(data: pd.DataFrame | SurveyData, dv: str, group: str | None = None, *, paired_with: str | None = None,
             mu: float = 0.0, confidence: float = 0.95, codebook: Codebook | None = None) -> pd.DataFrame:
    """Cohen's d with its noncentral-t confidence interval.

    Independent groups (`group`, two levels): d = (mean_1 - mean_2) / s_pooled,
    t = d sqrt(n1 n2 / (n1 + n2)) on n1 + n2 - 2 df. Paired (`paired_with`): d_z = mean(diff) / sd(diff),
    t = d sqrt(n). One sample: d = (mean - mu) / sd. The interval finds the noncentrality
    parameters whose noncentral t puts the observed t at the (1 ± confidence)/2 quantiles and
    rescales them like t. Hedges' g = d (1 - 3 / (4 df - 1)) is reported beside it.

    Checked against effectsize's documented cohens_d(mpg ~ am, data = mtcars):
    d = -1.48, 95% CI [-2.27, -0.67], and the inversion property (tests/survey/test_effect_sizes.py).

    Returns:
        One-row DataFrame: kind, d, ci_low, ci_high, hedges_g, t, df, n.
    """
    frame, book = unpack(data, codebook, "cohens_d")
    _check_confidence(confidence, "cohens_d")
    if group is not None and paired_with is not None:
        raise SurveyAnalysisError("cohens_d: give either group= (independent) or paired_with= (paired), not both")
    if group is not None:
        groups = group_samples(frame, dv, group, "cohens_d", book)
        if len(groups) != 2:
            raise SurveyAnalysisError(f"cohens_d: {group!r} has {len(groups)} groups; Cohen's d compares 2")
        x, y = groups.values()
        n1, n2 = x.size, y.size
        df = n1 + n2 - 2
        pooled = np.sqrt(((n1 - 1) * x.var(ddof=1) + (n2 - 1) * y.var(ddof=1)) / df)
        if pooled == 0:
            raise SurveyAnalysisError(f"cohens_d: {dv!r} has no variance within the groups of {group!r}")
        d = (x.mean() - y.mean()) / pooled
        scale, kind, n = np.sqrt(n1 * n2 / (n1 + n2)), "independent", n1 + n2
    else:
        first = finite_column(frame, dv, "cohens_d", book)
        if paired_with is not None:
            second = finite_column(frame, paired_with, "cohens_d", book)
            ok = first.notna() & second.notna()
            diffs, kind = (first[ok] - second[ok]).to_numpy(), "paired"
        else:
            diffs, kind = (first.dropna() - mu).to_numpy(), "one-sample"
        n = diffs.size
        if n < 2 or diffs.std(ddof=1) == 0:
            raise SurveyAnalysisError(f"cohens_d: {dv!r} needs at least 2 values that vary")
        d, df, scale = diffs.mean() / diffs.std(ddof=1), n - 1, np.sqrt(n)
    t = d * scale
    low, high = noncentral_t_interval(t, df, confidence)
    return pd.DataFrame([{"kind": kind, "d": float(d), "ci_low": low / scale, "ci_high": high / scale,
                          "hedges_g": float(d * (1 - 3 / (4 * df - 1))), "t": float(t), "df": float(df), "n": int(n)}])


def eta_squared_ci(F: float, df_effect: float, df_error: float, *, confidence: float = 0.90) -> pd.DataFrame:
    """Partial eta² of an F test and its noncentral-F confidence interval.

    partial eta² = F df1 / (F df1 + df2). The noncentrality bounds lambda solve
    P(F' <= F | lambda) = (1 + c)/2 and (1 - c)/2 (a bound is 0 where even lambda = 0 cannot
    reach it) and convert to eta² as lambda / (lambda + df1 + df2 + 1) (Steiger 2004;
    effectsize::F_to_eta2). The customary level is 90%, which matches an F test at alpha = .05.

    Checked against the inversion property and the closed-form boundary cases in
    tests/survey/test_effect_sizes.py.

    Returns:
        One-row DataFrame: partial_eta2, ci_low, ci_high, F, df_effect, df_error, confidence.
    """
    _check_confidence(confidence, "eta_squared_ci")
    for name, value in (("F", F), ("df_effect", df_effect), ("df_error", df_error)):
        if not np.isfinite(value) or value < 0 or (name != "F" and value == 0):
            raise SurveyAnalysisError(f"eta_squared_ci: {name} must be a finite positive number, got {value!r}")
    upper_tail, lower_tail = (1 + confidence) / 2, (1 - confidence) / 2

    def bound(target: float) -> float:
        f = lambda lam: stats.ncf.cdf(F, df_effect, df_error, lam) - target  # noqa: E731
        if stats.f.cdf(F, df_effect, df_error) <= target:
            return 0.0
        top = max(10.0, F * df_effect * 4)
        while f(top) > 0:
            top *= 2
        return float(optimize.brentq(f, 0.0, top, xtol=1e-10))

    total = df_effect + df_error + 1
    lam_low, lam_high = bound(upper_tail), bound(lower_tail)
    return pd.DataFrame([{"partial_eta2": F * df_effect / (F * df_effect + df_error),
                          "ci_low": lam_low / (lam_low + total), "ci_high": lam_high / (lam_high + total),
                          "F": float(F), "df_effect": float(df_effect), "df_error": float(df_error),
                          "confidence": confidence}])


__all__ = ["cohens_d", "eta_squared_ci", "noncentral_t_interval"]
