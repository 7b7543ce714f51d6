"""Non-parametric tests for related samples (the same respondents measured twice or more).

- `wilcoxon_signed_rank`: Wilcoxon signed-rank test as R's wilcox.test (exact or normal
  approximation with continuity correction), with SPSS's Z and the effect size r.
- `friedman`: Friedman's rank test with the tie correction (R's friedman.test) and Kendall's W.
- `mcnemar`: McNemar's test of a paired 2 x 2 table (R's mcnemar.test) with the exact binomial p.

Independent-sample rank tests (Mann-Whitney U, Kruskal-Wallis) live in `survey.groups`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from survey.assumptions import finite_column, unpack
from survey.codebook import Codebook, SurveyData
from survey.errors import SurveyAnalysisError

Alternative = Literal["two-sided", "greater", "less"]


@dataclass
class SignedRankResult:
    """Wilcoxon signed-rank test.

    Attributes: V (sum of the ranks of positive differences, R's V), W_minus (sum for negative
    ones), n (pairs used, zero differences dropped), n_zero, z (normal score without continuity
    correction, as SPSS), p, method ("exact" or "normal"), alternative, r = |z| / sqrt(n pairs).
    """

    V: float
    W_minus: float
    n: int
    n_zero: int
    z: float
    p: float
    method: str
    alternative: str
    r: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"V": self.V, "W_minus": self.W_minus, "n": self.n, "n_zero": self.n_zero,
                              "z": self.z, "p": self.p, "method": self.method, "r": self.r}])

    def summary(self) -> str:
        return (f"Wilcoxon signed-rank ({self.method}, {self.alternative}): V = {self.V:g}, z = {self.z:.3f}, "
                f"p = {self.p:.4g}, r = {self.r:.3f} (n = {self.n}, {self.n_zero} zero differences dropped)")


def _exact_signed_rank_cdf(n: int) -> np.ndarray:
    """P(V <= v) for v = 0 .. n(n+1)/2 under H0 (ranks 1..n, each positive with probability 1/2)."""
    top = n * (n + 1) // 2
    counts = np.zeros(top + 1)
    counts[0] = 1.0
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank].copy()
    return np.cumsum(counts) / 2.0**n


def wilcoxon_signed_rank(data: pd.DataFrame | SurveyData, x: str, y: str | None = None, *, mu: float = 0.0,
                         alternative: Alternative = "two-sided", exact: bool | None = None, correct: bool = True,
                         codebook: Codebook | None = None) -> SignedRankResult:
    """Wilcoxon signed-rank test of x - y (paired) or of x - mu (one sample).

    Differences d = x - y - mu of complete pairs; zeros are dropped; |d| is ranked (mid-ranks for
    ties); V = sum of the ranks of positive d. Exact p (the null distribution of V) when
    `exact` is None and n < 50 without ties or zeros, as R; otherwise the normal approximation
    z = (V - n(n+1)/4 - c) / sqrt(n(n+1)(2n+1)/24 - sum(t^3 - t)/48) with continuity correction
    c = ±0.5 when `correct`. The reported z (SPSS's Z) has no continuity correction and
    r = |z| / sqrt(number of pairs) (Rosenthal 1991).

    Checked against R's wilcox.test help example (Hollander & Wolfe 1973, p. 29: V = 40,
    p = 0.01953 exact; p = 0.01908 for the large-sample form) in tests/survey/test_nonparametric.py.

    Returns:
        SignedRankResult (`.to_frame()`, `.summary()`).
    """
    frame, book = unpack(data, codebook, "wilcoxon_signed_rank")
    if alternative not in ("two-sided", "greater", "less"):
        raise SurveyAnalysisError(f"wilcoxon_signed_rank: alternative must be two-sided, greater or less, "
                                  f"got {alternative!r}")
    first = finite_column(frame, x, "wilcoxon_signed_rank", book)
    second = finite_column(frame, y, "wilcoxon_signed_rank", book) if y is not None else pd.Series(0.0, frame.index)
    ok = first.notna() & second.notna()
    pairs = int(ok.sum())
    d = (first[ok] - second[ok] - mu).to_numpy()
    n_zero = int((d == 0).sum())
    d = d[d != 0]
    n = d.size
    if n < 1:
        raise SurveyAnalysisError(f"wilcoxon_signed_rank: no non-zero differences of {x!r}"
                                  + (f" and {y!r}" if y else "") + "; nothing to test")
    ranks = stats.rankdata(np.abs(d))
    v = float(ranks[d > 0].sum())
    w_minus = float(ranks[d < 0].sum())
    _, ties = np.unique(np.abs(d), return_counts=True)
    has_ties = bool((ties > 1).any())
    mean = n * (n + 1) / 4
    sigma = np.sqrt(n * (n + 1) * (2 * n + 1) / 24 - (ties**3 - ties).sum() / 48)
    z_plain = (v - mean) / sigma if sigma > 0 else 0.0
    use_exact = (n < 50 and not has_ties and n_zero == 0) if exact is None else bool(exact)
    if use_exact and (has_ties or n_zero):
        raise SurveyAnalysisError("wilcoxon_signed_rank: the exact p needs differences without ties or zeros")
    if use_exact:
        cdf = _exact_signed_rank_cdf(n)
        k = int(round(v))
        upper = 1 - (cdf[k - 1] if k > 0 else 0.0)  # P(V >= v)
        lower = cdf[k]  # P(V <= v)
        p = {"greater": upper, "less": lower, "two-sided": min(1.0, 2 * min(upper, lower))}[alternative]
        method = "exact"
    else:
        shift = 0.0
        if correct:
            shift = {"two-sided": np.sign(v - mean) * 0.5, "greater": 0.5, "less": -0.5}[alternative]
        z = (v - mean - shift) / sigma
        p = {"greater": stats.norm.sf(z), "less": stats.norm.cdf(z),
             "two-sided": min(1.0, 2 * stats.norm.sf(abs(z)))}[alternative]
        method = "normal"
    return SignedRankResult(v, w_minus, n, n_zero, float(z_plain), float(p), method, alternative,
                            float(abs(z_plain) / np.sqrt(pairs)))


def friedman(data: pd.DataFrame | SurveyData, columns: Sequence[str], *,
             codebook: Codebook | None = None) -> pd.DataFrame:
    """Friedman's test that k related measurements (columns; rows are respondents) share a location.

    Values are ranked within each row (mid-ranks for ties); with rank sums R_j,
    chi2 = 12 sum_j (R_j - n(k+1)/2)^2 / (n k (k+1) - sum(t^3 - t)/(k - 1)) on k - 1 df
    (R's friedman.test); Kendall's W = chi2 / (n (k - 1)). Rows with a missing value are dropped.

    Checked against the closed form, scipy.stats.friedmanchisquare and the property that W = 1
    when every respondent orders the columns identically (tests/survey/test_nonparametric.py), on
    Hollander & Wolfe's rounding-first-base data (R's friedman.test help example).

    Returns:
        One-row DataFrame: chi2, df, p, kendall_w, n; `attrs["mean_ranks"]` holds the mean rank
        of each column.
    """
    frame, book = unpack(data, codebook, "friedman")
    columns = list(columns) if not isinstance(columns, str) else [columns]
    if len(columns) < 2:
        raise SurveyAnalysisError("friedman: give at least two related columns")
    values = pd.DataFrame({c: finite_column(frame, c, "friedman", book) for c in columns}).dropna()
    n, k = values.shape
    if n < 2:
        raise SurveyAnalysisError(f"friedman: {n} respondent(s) answered all of {columns}; need at least 2")
    x = values.to_numpy()
    ranks = stats.rankdata(x, axis=1)
    # ties: an answer shared by t columns of its row counts t each time, so the row's
    # sum of (t^3 - t) over tie groups is the sum over its answers of (t^2 - 1)
    shared = (x[:, :, None] == x[:, None, :]).sum(axis=2)
    tie_sum = float((shared**2 - 1).sum())
    denominator = n * k * (k + 1) - tie_sum / (k - 1)
    if denominator <= 0:
        raise SurveyAnalysisError(f"friedman: every respondent gives {columns} the same value; nothing to rank")
    rank_sums = ranks.sum(axis=0)
    chi2 = 12 * ((rank_sums - n * (k + 1) / 2) ** 2).sum() / denominator
    table = pd.DataFrame([{"chi2": chi2, "df": k - 1, "p": stats.chi2.sf(chi2, k - 1),
                           "kendall_w": chi2 / (n * (k - 1)), "n": n}])
    table.attrs["mean_ranks"] = pd.Series(rank_sums / n, index=columns, name="mean_rank")
    return table


def mcnemar(data: pd.DataFrame | SurveyData | None = None, before: str | None = None, after: str | None = None,
            *, table: pd.DataFrame | np.ndarray | None = None, correct: bool = True) -> pd.DataFrame:
    """McNemar's test for a change in a paired binary answer (e.g. uses the online channel, twice).

    With b and c the discordant cells of the 2 x 2 table (before x after),
    chi2 = (|b - c| - 1)^2 / (b + c) with continuity correction (R's default), else
    (b - c)^2 / (b + c), on 1 df; exact p = two-sided binomial test of b out of b + c at 1/2
    (what SPSS CROSSTABS prints).

    Checked against the closed form and Penn State STAT 504's R output for Agresti's (1990,
    p. 350) presidential approval table (mcnemar.test help example) in
    tests/survey/test_nonparametric.py.

    Returns:
        One-row DataFrame: chi2, df, p, exact_p, b, c, n.
    """
    if table is None:
        frame, _ = unpack(data, None, "mcnemar")
        for name in (before, after):
            if name is None or name not in frame.columns:
                raise SurveyAnalysisError(f"mcnemar: no column {name!r}")
        ok = frame[before].notna() & frame[after].notna()
        levels = sorted(set(frame.loc[ok, before]) | set(frame.loc[ok, after]), key=lambda v: (str(type(v)), v))
        if len(levels) != 2:
            raise SurveyAnalysisError(f"mcnemar: {before!r} and {after!r} must share exactly two categories "
                                      f"(found {levels[:6]})")
        counts = pd.crosstab(pd.Categorical(frame.loc[ok, before], levels),
                             pd.Categorical(frame.loc[ok, after], levels), dropna=False).to_numpy(float)
    else:
        counts = np.asarray(table, float)
        if counts.shape != (2, 2) or np.any(counts < 0) or not np.all(np.isfinite(counts)):
            raise SurveyAnalysisError("mcnemar: table must be a 2 x 2 table of non-negative counts")
    b, c = counts[0, 1], counts[1, 0]
    if b + c == 0:
        raise SurveyAnalysisError("mcnemar: no discordant pairs (b + c = 0); the test is undefined")
    chi2 = ((abs(b - c) - (1 if correct else 0)) ** 2) / (b + c)
    exact_p = stats.binomtest(int(b), int(b + c), 0.5).pvalue
    return pd.DataFrame([{"chi2": chi2, "df": 1, "p": stats.chi2.sf(chi2, 1), "exact_p": float(exact_p),
                          "b": int(b), "c": int(c), "n": int(counts.sum())}])


__all__ = ["SignedRankResult", "friedman", "mcnemar", "wilcoxon_signed_rank"]
