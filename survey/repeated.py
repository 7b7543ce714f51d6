"""One-way repeated-measures ANOVA (SPSS GLM Repeated Measures): the same respondents answer the
same question at several occasions or about several services.

`repeated_measures_anova` returns the "Tests of Within-Subjects Effects" table with the
sphericity-assumed, Greenhouse-Geisser, Huynh-Feldt and lower-bound rows, and "Mauchly's Test of
Sphericity" with the epsilons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from survey.assumptions import finite_column, unpack
from survey.codebook import Codebook, SurveyData
from survey.errors import SurveyAnalysisError


@dataclass
class RepeatedMeasuresResult:
    """Repeated-measures ANOVA.

    Attributes:
        table: rows "Sphericity Assumed", "Greenhouse-Geisser", "Huynh-Feldt", "Lower-bound";
            columns SS, df, MS, F, p, df_error, MS_error, partial_eta2 (SPSS's layout).
        sphericity: one row: W, chi2, df, p, epsilon_gg, epsilon_hf, epsilon_lower.
        descriptives: mean, sd and n of each measurement.
        ss_subjects: between-subjects sum of squares.
    """

    table: pd.DataFrame
    sphericity: pd.DataFrame
    descriptives: pd.DataFrame
    ss_subjects: float

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        row = self.table.loc["Sphericity Assumed"]
        s = self.sphericity.iloc[0]
        return (f"Repeated-measures ANOVA: F({row['df']:g}, {row['df_error']:g}) = {row['F']:.3f}, p = {row['p']:.4g}, "
                f"partial eta² = {row['partial_eta2']:.3f}\nMauchly's W = {s['W']:.4f}, chi2({s['df']:g}) = "
                f"{s['chi2']:.3f}, p = {s['p']:.4g}; epsilon GG = {s['epsilon_gg']:.4f}, HF = {s['epsilon_hf']:.4f}\n"
                f"{self.table.round(4).to_string()}")


def _orthonormal_contrasts(k: int) -> np.ndarray:
    """k x (k - 1) orthonormal contrasts (columns orthogonal to the constant)."""
    basis = np.linalg.qr(np.column_stack([np.ones(k), np.eye(k)[:, : k - 1]]))[0]
    return basis[:, 1:]


def repeated_measures_anova(data: pd.DataFrame | SurveyData, columns: Sequence[str], *,
                            codebook: Codebook | None = None) -> RepeatedMeasuresResult:
    """One within-subjects factor whose k levels are the `columns` (wide data, one row a respondent).

    SS_effect = n sum_j (mean_j - grand)^2, SS_subjects = k sum_i (mean_i - grand)^2,
    SS_error = SS_total - SS_effect - SS_subjects; F = MS_effect / MS_error on (k - 1, (k - 1)(n - 1)).
    Mauchly (1940): with S the covariance of the measurements and C orthonormal contrasts,
    W = det(C'SC) / (tr(C'SC) / p)^p, p = k - 1, chi2 = -(n - 1 - (2p^2 + p + 2) / (6p)) ln W on
    p(p + 1)/2 - 1 df. Greenhouse-Geisser epsilon = tr(C'SC)^2 / (p tr((C'SC)^2)); Huynh-Feldt
    epsilon = (n p eps_GG - 2) / (p (n - 1 - p eps_GG)), capped at 1 (as SPSS); lower bound 1 / p.
    Corrected rows multiply both df by epsilon. Respondents missing any measurement are dropped.

    Checked against the two-way (subjects x occasions) decomposition of statsmodels' AnovaRM,
    pingouin's sphericity / rm_anova epsilons, and closed-form properties (W = epsilon = 1 for
    k = 2; W and epsilon unchanged by the choice of contrasts; 1/p <= epsilon_GG <= 1) in
    tests/survey/test_repeated.py.

    Returns:
        RepeatedMeasuresResult (`.table`, `.sphericity`, `.descriptives`, `.summary()`).
    """
    frame, book = unpack(data, codebook, "repeated_measures_anova")
    columns = [columns] if isinstance(columns, str) else list(columns)
    if len(columns) < 2:
        raise SurveyAnalysisError("repeated_measures_anova: give at least two related columns")
    if len(set(columns)) != len(columns):
        raise SurveyAnalysisError("repeated_measures_anova: a column is named more than once")
    values = pd.DataFrame({c: finite_column(frame, c, "repeated_measures_anova", book) for c in columns}).dropna()
    y = values.to_numpy()
    n, k = y.shape
    if n < k:
        raise SurveyAnalysisError(f"repeated_measures_anova: {n} complete respondents for {k} measurements; "
                                  f"need at least {k} (Mauchly's test needs n > k - 1)")
    grand = y.mean()
    ss_effect = n * ((y.mean(axis=0) - grand) ** 2).sum()
    ss_subjects = k * ((y.mean(axis=1) - grand) ** 2).sum()
    ss_error = ((y - grand) ** 2).sum() - ss_effect - ss_subjects
    if ss_error <= 1e-12 * max(1.0, ((y - grand) ** 2).sum()):
        raise SurveyAnalysisError("repeated_measures_anova: no within-subject error variance (every respondent "
                                  "differs between measurements by the same amounts)")
    p_dim = k - 1
    df_effect, df_error = p_dim, p_dim * (n - 1)
    F = (ss_effect / df_effect) / (ss_error / df_error)
    contrasts = _orthonormal_contrasts(k)
    s = contrasts.T @ np.cov(y, rowvar=False) @ contrasts
    trace = np.trace(s)
    W = float(np.linalg.det(s) / (trace / p_dim) ** p_dim)
    eps_gg = float(trace**2 / (p_dim * np.trace(s @ s)))
    eps_hf = float(min(1.0, (n * p_dim * eps_gg - 2) / (p_dim * (n - 1 - p_dim * eps_gg))))
    eps_lower = 1.0 / p_dim
    chi2_df = p_dim * (p_dim + 1) / 2 - 1
    if p_dim == 1:
        chi2, p_mauchly = 0.0, float("nan")
    else:
        chi2 = float(-(n - 1 - (2 * p_dim**2 + p_dim + 2) / (6 * p_dim)) * np.log(max(W, 1e-300)))
        p_mauchly = float(stats.chi2.sf(chi2, chi2_df))
    rows = {}
    for name, eps in (("Sphericity Assumed", 1.0), ("Greenhouse-Geisser", eps_gg), ("Huynh-Feldt", eps_hf),
                      ("Lower-bound", eps_lower)):
        d1, d2 = df_effect * eps, df_error * eps
        rows[name] = {"SS": ss_effect, "df": d1, "MS": ss_effect / d1, "F": F, "p": float(stats.f.sf(F, d1, d2)),
                      "df_error": d2, "MS_error": ss_error / d2, "partial_eta2": ss_effect / (ss_effect + ss_error)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    sphericity = pd.DataFrame([{"W": W, "chi2": chi2, "df": chi2_df, "p": p_mauchly, "epsilon_gg": eps_gg,
                                "epsilon_hf": eps_hf, "epsilon_lower": eps_lower}])
    descriptives = pd.DataFrame({"mean": values.mean(), "sd": values.std(ddof=1), "n": n})
    return RepeatedMeasuresResult(table, sphericity, descriptives, float(ss_subjects))


__all__ = ["RepeatedMeasuresResult", "repeated_measures_anova"]
