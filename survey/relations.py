"""Correlation matrices for questionnaire scales: Pearson, Spearman or Kendall's tau-b with two-sided
p, pairwise n, significance stars and the thesis table (M, SD and the lower triangle), as SPSS
CORRELATIONS / NONPAR CORR; and partial correlations controlling for covariates (SPSS PARTIAL CORR).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from survey.codebook import Codebook, SurveyData
from survey.errors import SurveyAnalysisError
from survey.regression.design import numeric_column, require_columns, require_frame


def stars(p: float) -> str:
    """Significance stars: * p < .05, ** p < .01, *** p < .001."""
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


@dataclass
class CorrelationResult:
    """A correlation matrix with its p-values, pairwise n and descriptives.

    Attributes:
        method: "pearson" or "spearman".
        r, p, n: square DataFrames (p two-sided, undefined (NaN) on the diagonal; n the
            pairwise-complete cases).
        descriptives: M, SD (n - 1 denominator) and N of every variable.
        labels: display label of every column (from the codebook, else the name).
    """

    method: str
    r: pd.DataFrame
    p: pd.DataFrame
    n: pd.DataFrame
    descriptives: pd.DataFrame
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def stars(self) -> pd.DataFrame:
        """Stars of every p-value ('' off the significant cells and on the diagonal)."""
        marks = self.p.map(stars)
        for column in marks.columns:
            marks.loc[column, column] = ""
        return marks

    def table(self, decimals: int = 2) -> pd.DataFrame:
        """The thesis table: rows "1. label", columns M, SD, 1..k; r with stars below the diagonal."""
        columns = list(self.r.columns)
        rows = {}
        for i, row in enumerate(columns):
            cells = {
                "M": f"{self.descriptives.loc[row, 'M']:.{decimals}f}",
                "SD": f"{self.descriptives.loc[row, 'SD']:.{decimals}f}",
            }
            for j, column in enumerate(columns):
                if j < i:
                    value = f"{self.r.loc[row, column]:.{decimals}f}"
                    if abs(self.r.loc[row, column]) < 1:
                        value = value.replace("0.", ".", 1)
                    cells[str(j + 1)] = value + stars(self.p.loc[row, column])
                else:
                    cells[str(j + 1)] = "1" if j == i else ""
            rows[f"{i + 1}. {self.labels.get(row, row)}"] = cells
        return pd.DataFrame.from_dict(rows, orient="index")

    def to_frame(self) -> pd.DataFrame:
        """One row per pair: var1, var2, r, p, n, stars."""
        columns = list(self.r.columns)
        records = [
            {
                "var1": a,
                "var2": b,
                "r": self.r.loc[a, b],
                "p": self.p.loc[a, b],
                "n": int(self.n.loc[a, b]),
                "stars": stars(self.p.loc[a, b]),
            }
            for i, a in enumerate(columns)
            for b in columns[i + 1 :]
        ]
        return pd.DataFrame.from_records(records)

    def summary(self) -> str:
        """The thesis table with its note."""
        note = f"Note. {self.method.capitalize()} correlations, two-sided; * p < .05, ** p < .01, *** p < .001."
        n_values = {int(v) for v in self.n.to_numpy().ravel()}
        n_text = f"N = {n_values.pop()}." if len(n_values) == 1 else f"pairwise N {min(n_values)}-{max(n_values)}."
        return f"{self.table().to_string()}\n{note} {n_text}"


def _pair(x: np.ndarray, y: np.ndarray, method: str) -> tuple[float, float, int]:
    """r, two-sided p (t on n - 2 df for Pearson and Spearman, as SPSS) and n of the complete pairs.

    Kendall's tau-b: p exact (permutation distribution) when n < 50 without ties, else the normal
    approximation with the tie-corrected variance of S, as R's cor.test.
    """
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y, n = x[keep], y[keep], int(keep.sum())
    if n < 3:
        return float("nan"), float("nan"), n
    if method == "kendall":
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            return float("nan"), float("nan"), n
        ties = len(np.unique(x)) < n or len(np.unique(y)) < n
        result = stats.kendalltau(x, y, method="exact" if (n < 50 and not ties) else "asymptotic")
        return float(result.statistic), float(result.pvalue), n
    if method == "spearman":
        x, y = stats.rankdata(x), stats.rankdata(y)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan"), n
    r = float(np.clip(np.corrcoef(x, y)[0, 1], -1.0, 1.0))
    if abs(r) == 1.0:
        return r, 0.0, n
    t = r * np.sqrt((n - 2) / (1 - r * r))
    return r, float(2 * stats.t.sf(abs(t), n - 2)), n


def _prepared(data: pd.DataFrame, columns: list[str], codebook: Codebook | None) -> pd.DataFrame:
    """Numeric copy of the columns with the codebook's user-missing codes set to NaN."""
    frame = {}
    for column in columns:
        values = data[column]
        if codebook is not None and column in codebook:
            values = values.mask(codebook[column].is_user_missing(values))
        frame[column] = numeric_column(values, column, "correlate")
    return pd.DataFrame(frame, index=data.index)


def correlate(
    data: pd.DataFrame,
    columns: Sequence[str],
    method: Literal["pearson", "spearman", "kendall"] = "pearson",
    *,
    codebook: Codebook | None = None,
) -> CorrelationResult:
    """Correlation matrix with p-values, pairwise n, stars and the M/SD table.

    Pearson r = cov(x, y) / (sd_x sd_y); Spearman's rho is Pearson's r of the ranks (ties
    get mid-ranks), ranked within each pair's complete cases. Both are tested two-sided with
    t = r sqrt((n - 2) / (1 - r^2)) on n - 2 df, as SPSS CORRELATIONS and NONPAR CORR do.
    Kendall's tau-b = (n_c - n_d) / sqrt((n_0 - n_x)(n_0 - n_y)) (n_0 = n(n-1)/2 pairs, n_x and
    n_y the pairs tied on x or y), with p as R's cor.test: exact when n < 50 without ties, else
    the normal approximation with the tie-corrected variance.
    Missing values are deleted pairwise; the codebook's user-missing codes count as missing
    and its labels name the table rows.

    Checked against scipy.stats.pearsonr / spearmanr, Anscombe's (1973) published r = 0.816
    and Spearman's rho = -29/165 of the textbook IQ / television example
    (tests/survey/test_relations.py); tau-b against Hollander & Wolfe's (1973, p. 188) published
    tau = 0.4444, a pair count by hand on tied data and the full permutation distribution.

    Args:
        data: one row per respondent (DataFrame or SurveyData).
        columns: at least two numeric columns.
        method: "pearson", "spearman" or "kendall" (tau-b).
        codebook: optional codebook for labels and user-missing codes.

    Returns:
        CorrelationResult with `.r`, `.p`, `.n`, `.stars`, `.descriptives`, `table()`,
        `to_frame()` and `summary()`.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 1, 4, 3, 5]})
        >>> float(round(correlate(df, ["a", "b"]).r.loc["a", "b"], 3))
        0.8
    """
    if isinstance(data, SurveyData):  # scale names give scale scores
        from survey.inputs import with_scale_scores

        data, codebook = with_scale_scores(data.data, data.codebook), codebook or data.codebook
    require_frame(data, "correlate")
    if isinstance(columns, str) or len(columns) < 2:
        raise SurveyAnalysisError("correlate: give a list of at least two columns")
    columns = list(columns)
    require_columns(data, columns, "correlate")
    if method not in ("pearson", "spearman", "kendall"):
        raise SurveyAnalysisError(f"correlate: method must be 'pearson', 'spearman' or 'kendall', got {method!r}")
    frame = _prepared(data, columns, codebook)
    for column in columns:
        if frame[column].nunique() < 2:
            raise SurveyAnalysisError(
                f"correlate: column {column!r} has the same value for every answered case; "
                "its correlation is undefined"
            )
    k = len(columns)
    r, p, n = np.eye(k), np.full((k, k), np.nan), np.zeros((k, k), dtype=int)
    for i in range(k):
        n[i, i] = int(frame[columns[i]].notna().sum())
        for j in range(i):
            rij, pij, nij = _pair(frame[columns[i]].to_numpy(), frame[columns[j]].to_numpy(), method)
            if not np.isfinite(rij):
                raise SurveyAnalysisError(
                    f"correlate: {columns[i]!r} and {columns[j]!r} have {nij} complete pairs "
                    "without variation in both; at least 3 varying pairs are needed"
                )
            r[i, j] = r[j, i] = rij
            p[i, j] = p[j, i] = pij
            n[i, j] = n[j, i] = nij
    labels = {c: (codebook.label(c) if codebook is not None else c) for c in columns}
    descriptives = pd.DataFrame(
        {"M": frame.mean(), "SD": frame.std(ddof=1), "N": frame.notna().sum()}, index=columns
    )

    def square(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=columns, columns=columns)

    return CorrelationResult(method, square(r), square(p), square(n), descriptives, labels)


def partial_correlation(
    data: pd.DataFrame | SurveyData,
    x: str,
    y: str,
    covariates: str | Sequence[str],
    *,
    method: Literal["pearson", "spearman"] = "pearson",
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """Partial correlation of `x` and `y` controlling for `covariates` (SPSS PARTIAL CORR).

    r_xy.z is the correlation of the residuals of x and y after least-squares regression on the
    covariates (with a constant); with one covariate this is
    (r_xy - r_xz r_yz) / sqrt((1 - r_xz^2)(1 - r_yz^2)). Tested with
    t = r sqrt(df / (1 - r^2)) on df = n - 2 - k (k covariates), as SPSS and ppcor::pcor.
    Spearman ranks every variable first (ppcor's method = "spearman"). Listwise deletion.

    Checked against the one-covariate closed form, statsmodels OLS residuals and pingouin's
    partial_corr (tests/survey/test_relations.py).

    Returns:
        One-row DataFrame: x, y, covariates, n, r, df, t, p, stars.
    """
    if isinstance(data, SurveyData):  # scale names give scale scores
        from survey.inputs import with_scale_scores

        data, codebook = with_scale_scores(data.data, data.codebook), codebook or data.codebook
    require_frame(data, "partial_correlation")
    controls = [covariates] if isinstance(covariates, str) else list(covariates)
    if not controls:
        raise SurveyAnalysisError("partial_correlation: give at least one covariate (else use correlate)")
    names = [x, y, *controls]
    require_columns(data, names, "partial_correlation")
    if method not in ("pearson", "spearman"):
        raise SurveyAnalysisError(f"partial_correlation: method must be 'pearson' or 'spearman', got {method!r}")
    frame = _prepared(data, names, codebook).dropna()
    for column in names:
        if np.isinf(frame[column]).any():
            raise SurveyAnalysisError(f"partial_correlation: column {column!r} holds infinite values")
    n, k = len(frame), len(controls)
    df = n - 2 - k
    if df < 1:
        raise SurveyAnalysisError(f"partial_correlation: {n} complete cases for {k} covariate(s); need at least {k + 3}")
    values = frame.rank().to_numpy() if method == "spearman" else frame.to_numpy()
    design = np.column_stack([np.ones(n), values[:, 2:]])
    residuals = []
    for j, column in enumerate((x, y)):
        target = values[:, j]
        coef, *_ = np.linalg.lstsq(design, target, rcond=None)
        resid = target - design @ coef
        if resid @ resid <= 1e-12 * max(1.0, float(target @ target)):
            raise SurveyAnalysisError(f"partial_correlation: {column!r} is fully explained by {controls}; "
                                      "its partial correlation is undefined")
        residuals.append(resid)
    r = float(np.clip(np.corrcoef(*residuals)[0, 1], -1.0, 1.0))
    t = r * np.sqrt(df / (1 - r * r)) if abs(r) < 1 else np.sign(r) * np.inf
    p = float(2 * stats.t.sf(abs(t), df))
    return pd.DataFrame([{"x": x, "y": y, "covariates": ", ".join(controls), "n": n, "r": r, "df": df,
                          "t": float(t), "p": p, "stars": stars(p)}])
