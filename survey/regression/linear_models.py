"""Linear regression (OLS) as SPSS REGRESSION reports it: blocks, R² change, VIF.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from survey.errors import SurveyAnalysisError
from survey.regression.design import (
    CONSTANT,
    Reference,
    _codebook_predictors,
    _reference_notes,
    _steps,
    build_design,
    numeric_column,
)


@dataclass
class OLSResult:
    """Linear regression as SPSS REGRESSION reports it.

    Attributes:
        coefficients: B, SE, Beta, t, p, CI_low, CI_high, tolerance, VIF per predictor column
            (index "(Constant)" then predictor names; dummies named "var[level]").
        model_summary: per hierarchical step R, R2, adj_R2, SE_estimate and the change
            statistics R2_change, F_change, df1, df2, p_change (SPSS "Model Summary").
        anova: Regression / Residual / Total sums of squares, df, MS, F, p (final model).
        r, r2, adj_r2, F, df, p, dw, se_estimate, n: the final model's figures.
        steps: coefficient tables of every step (the last is `coefficients`).
        references: reference level of each dummy-coded predictor.
    """

    outcome: str
    coefficients: pd.DataFrame
    model_summary: pd.DataFrame
    anova: pd.DataFrame
    r: float
    r2: float
    adj_r2: float
    F: float
    df: tuple[int, int]
    p: float
    dw: float
    se_estimate: float
    n: int
    steps: list[pd.DataFrame] = field(default_factory=list)
    references: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table."""
        return self.coefficients.copy()

    def summary(self) -> str:
        """Model summary, ANOVA and coefficients as plain text."""
        head = (
            f"OLS regression of {self.outcome} (n = {self.n})\n"
            f"R = {self.r:.3f}, R2 = {self.r2:.3f}, adjusted R2 = {self.adj_r2:.3f}, "
            f"F({self.df[0]}, {self.df[1]}) = {self.F:.3f}, p = {self.p:.4g}, "
            f"Durbin-Watson = {self.dw:.3f}"
        )
        refs = "".join(f"\n{note}" for note in self.notes)
        return "\n\n".join(
            [head + refs, self.model_summary.round(4).to_string(), self.anova.round(4).to_string(),
             self.coefficients.round(4).to_string()]
        )


def _vif(X: pd.DataFrame, weights: np.ndarray) -> np.ndarray:
    """VIF_j = 1 / (1 - R2_j), read off the diagonal of the inverse correlation matrix."""
    if X.shape[1] == 1:
        return np.ones(1)
    cov = np.cov(X.to_numpy(), rowvar=False, aweights=weights)
    sd = np.sqrt(np.diag(cov))
    return np.diag(np.linalg.inv(cov / np.outer(sd, sd)))


def _ols_coefficients(fit, X: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    ci = np.asarray(fit.conf_int(0.05))
    params = np.asarray(fit.params)
    beta = params[1:] * X.std(ddof=1).to_numpy() / y.std(ddof=1)
    vif = _vif(X, np.ones(len(X)))
    table = pd.DataFrame(
        {
            "B": params,
            "SE": np.asarray(fit.bse),
            "Beta": np.r_[np.nan, beta],
            "t": np.asarray(fit.tvalues),
            "p": np.asarray(fit.pvalues),
            "CI_low": ci[:, 0],
            "CI_high": ci[:, 1],
            "tolerance": np.r_[np.nan, 1 / vif],
            "VIF": np.r_[np.nan, vif],
        },
        index=pd.Index([CONSTANT, *X.columns], name="predictor"),
    )
    return table


def _model_summary(fits: list, n: int) -> pd.DataFrame:
    rows, previous_r2, previous_k = [], 0.0, 0
    for fit in fits:
        k, df2 = int(fit.df_model), int(fit.df_resid)
        df1 = k - previous_k
        change = fit.rsquared - previous_r2
        f_change = (change / df1) / ((1 - fit.rsquared) / df2)
        rows.append(
            {
                "R": np.sqrt(fit.rsquared),
                "R2": fit.rsquared,
                "adj_R2": fit.rsquared_adj,
                "SE_estimate": np.sqrt(fit.mse_resid),
                "R2_change": change,
                "F_change": f_change,
                "df1": df1,
                "df2": df2,
                "p_change": float(stats.f.sf(f_change, df1, df2)),
            }
        )
        previous_r2, previous_k = fit.rsquared, k
    return pd.DataFrame(rows, index=pd.RangeIndex(1, len(fits) + 1, name="model"))


def ols(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str] | None = None,
    *,
    blocks: Sequence[Sequence[str]] | None = None,
    reference: Reference = "last",
) -> OLSResult:
    """Ordinary least squares with SPSS's coefficient, collinearity and change statistics.

    B, SE, t, p and the 95% CI come from statsmodels OLS. Beta is B * sd(x) / sd(y), the
    slope of the z-scored variables (as SPSS's "Standardized Coefficients"); VIF_j =
    1 / (1 - R2_j) with R2_j from regressing predictor j on the others, tolerance = 1 / VIF.
    Hierarchical steps (``blocks``) are fitted on the same listwise-complete cases and give
    R2_change, F_change = (R2_change / df1) / ((1 - R2) / df2) with its p (SPSS "Change
    Statistics"). Durbin-Watson = sum(diff(e)^2) / sum(e^2) on the final model's residuals.
    Text or category predictors, and with a SurveyData every predictor the codebook marks nominal
    and labels (e.g. gender 1 = 男, 2 = 女), are dummy-coded against a reference category: the
    last (SPSS GLM / REGRESSION indicator coding, the default), "first" (R's treatment
    contrasts) or a dict {predictor: level}; dummies are named by value label ("gender[男]") and
    the result's `notes` say which reference each predictor got.

    Checked against the NIST StRD certified values for Longley's data, R ``lm`` on Spector
    and Mazzeo's data and R ``car::vif`` (tests/survey/test_regression.py).

    Args:
        data: one row per respondent.
        outcome: numeric outcome column.
        predictors: predictor columns (None when ``blocks`` are given).
        blocks: hierarchical steps, e.g. ``[["age", "sex"], ["trust", "use"]]``; model k
            holds the predictors of blocks 1..k.
        reference: reference level of categorical predictors.

    Returns:
        OLSResult with `coefficients`, `model_summary`, `anova`, `r2`, `adj_r2`, `F`, `df`,
        `p`, `dw` and `summary()`.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1, 3, 2, 5, 4], "x": [1, 2, 3, 4, 5]})
        >>> round(ols(df, "y", ["x"]).r2, 2)
        0.64
    """
    steps = _steps(predictors, blocks)
    data, notes = _codebook_predictors(data, steps[-1], "ols")
    design = build_design(data, outcome, steps[-1], where="ols", reference=reference)
    notes += _reference_notes(design, reference)
    y = numeric_column(design.y, outcome, "ols")
    if y.nunique() < 2:
        raise SurveyAnalysisError(f"ols: outcome {outcome!r} has the same value for every case")
    n, fits = len(y), []
    for step in steps:
        cols = [col for name in step for col in design.terms[name]]
        if n - len(cols) - 1 < 1:
            raise SurveyAnalysisError(f"ols: {n} cases are too few for {len(cols)} predictor columns")
        exog = sm.add_constant(design.X[cols].to_numpy(), has_constant="add")
        fits.append(sm.OLS(y.to_numpy(), exog).fit())
    tables = []
    for step, fit in zip(steps, fits, strict=True):
        cols = [col for name in step for col in design.terms[name]]
        tables.append(_ols_coefficients(fit, design.X[cols], y))
    final = fits[-1]
    resid = final.resid
    anova = pd.DataFrame(
        {
            "SS": [final.ess, final.ssr, final.ess + final.ssr],
            "df": [int(final.df_model), int(final.df_resid), n - 1],
            "MS": [final.mse_model, final.mse_resid, np.nan],
            "F": [final.fvalue, np.nan, np.nan],
            "p": [final.f_pvalue, np.nan, np.nan],
        },
        index=pd.Index(["Regression", "Residual", "Total"], name="source"),
    )
    return OLSResult(
        outcome=outcome,
        coefficients=tables[-1],
        model_summary=_model_summary(fits, n),
        anova=anova,
        r=float(np.sqrt(final.rsquared)),
        r2=float(final.rsquared),
        adj_r2=float(final.rsquared_adj),
        F=float(final.fvalue),
        df=(int(final.df_model), int(final.df_resid)),
        p=float(final.f_pvalue),
        dw=float(np.sum(np.diff(resid) ** 2) / np.sum(resid**2)),
        se_estimate=float(np.sqrt(final.mse_resid)),
        n=n,
        steps=tables,
        references=design.references,
        notes=notes,
    )
