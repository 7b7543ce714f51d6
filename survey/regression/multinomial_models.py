"""Multinomial logistic regression for unordered outcomes (e.g. the preferred service channel:
online / township station / county hall / proxy), as SPSS NOMREG reports it.

`multinomial` returns "Parameter Estimates" (B, SE, Wald, p, Exp(B) and its CI for every
non-reference outcome category), "Model Fitting Information" and "Likelihood Ratio Tests".
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from survey.codebook import SurveyData
from survey.errors import SurveyAnalysisError
from survey.regression.design import (
    CONSTANT,
    ConvergenceWarning,
    Reference,
    _codebook_predictors,
    _levels,
    _reference_notes,
    build_design,
)


@dataclass
class MultinomialResult:
    """Multinomial logit.

    Attributes:
        coefficients: one row per (outcome category, term): B, SE, Wald, df, p, Exp(B),
            CI_low, CI_high (95% CI of Exp(B)); each category is contrasted with `reference`.
        likelihood_ratio: one row per predictor (and the constant): -2LL of the reduced model,
            chi2, df, p (SPSS "Likelihood Ratio Tests").
        minus2ll, minus2ll_null, chi2, df, p: model fitting information.
        mcfadden_r2, cox_snell_r2, nagelkerke_r2: pseudo R-squares.
        reference: the reference outcome category; categories: all of them in order; n.
    """

    outcome: str
    reference: object
    categories: list[object]
    coefficients: pd.DataFrame
    likelihood_ratio: pd.DataFrame
    minus2ll: float
    minus2ll_null: float
    chi2: float
    df: int
    p: float
    mcfadden_r2: float
    cox_snell_r2: float
    nagelkerke_r2: float
    n: int
    references: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return self.coefficients.copy()

    def summary(self) -> str:
        head = (f"Multinomial logistic regression of {self.outcome} (reference = {self.reference!r}, n = {self.n})\n"
                f"-2LL = {self.minus2ll:.3f} (null {self.minus2ll_null:.3f}); chi2({self.df}) = {self.chi2:.3f}, "
                f"p = {self.p:.4g}\nPseudo R2: Cox & Snell {self.cox_snell_r2:.3f}, Nagelkerke "
                f"{self.nagelkerke_r2:.3f}, McFadden {self.mcfadden_r2:.3f}")
        return "\n\n".join([head, self.likelihood_ratio.round(4).to_string(), self.coefficients.round(4).to_string()])


def _fit(y: np.ndarray, X: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.MNLogit(y, X).fit(method="newton", maxiter=100, disp=False)
    if not fit.mle_retvals.get("converged", True):
        warnings.warn("multinomial: maximum likelihood did not converge; estimates may be unstable "
                      "(sparse categories or separation)", ConvergenceWarning, stacklevel=3)
    return fit


def multinomial(data: pd.DataFrame | SurveyData, outcome: str, predictors: Sequence[str], *,
                reference_category: object | None = None, reference: Reference = "last") -> MultinomialResult:
    """Multinomial logit: log(P(category j) / P(reference)) = b0_j + x'b_j for each j != reference.

    Fitted by maximum likelihood (Newton-Raphson, statsmodels MNLogit). Wald = (B / SE)^2 on 1 df;
    Exp(B) the odds ratio against the reference category. Likelihood-ratio test of a predictor:
    chi2 = -2LL(model without it) - -2LL(full model) on (J - 1) x (its columns) df, as SPSS.
    The null model's -2LL is -2 sum_j n_j log(n_j / n). As in SPSS NOMREG the reference outcome
    category defaults to the last; categorical predictors (and, with a SurveyData, labelled
    nominal ones) are dummy-coded against `reference`: the last level by default, as NOMREG's
    factors and the module's other regressions; "first" as R.

    Checked against the closed form of a saturated model (one categorical predictor: B are the
    log odds ratios of the cell counts, fitted probabilities the observed proportions) and
    statsmodels MNLogit (tests/survey/test_multinomial.py).

    Returns:
        MultinomialResult (`.coefficients`, `.likelihood_ratio`, `.summary()`).
    """
    data, notes = _codebook_predictors(data, [predictors] if isinstance(predictors, str) else predictors,
                                       "multinomial")
    design = build_design(data, outcome, predictors, where="multinomial", reference=reference)
    notes += _reference_notes(design, reference)
    categories = _levels(design.y)
    if len(categories) < 3:
        raise SurveyAnalysisError(f"multinomial: outcome {outcome!r} has {len(categories)} categories "
                                  f"{categories}; use logistic for two")
    if reference_category is None:
        ref = categories[-1]
    else:
        matches = [c for c in categories if c == reference_category or str(c) == str(reference_category)]
        if not matches:
            raise SurveyAnalysisError(f"multinomial: reference category {reference_category!r} is not among "
                                      f"{outcome!r}'s values {categories}")
        ref = matches[0]
    others = [c for c in categories if c != ref]
    code = {ref: 0, **{c: i + 1 for i, c in enumerate(others)}}
    y = design.y.astype(object).map(code).to_numpy(int)
    X = np.column_stack([np.ones(len(y)), design.X.to_numpy(float)])
    names = [CONSTANT, *design.X.columns]
    fit = _fit(y, X)
    beta, se = np.asarray(fit.params), np.asarray(fit.bse)  # (columns, J - 1)
    rows = []
    z975 = stats.norm.ppf(0.975)
    for j, category in enumerate(others):
        for i, name in enumerate(names):
            b, s = beta[i, j], se[i, j]
            rows.append({"category": category, "term": name, "B": b, "SE": s, "Wald": (b / s) ** 2, "df": 1,
                         "p": float(stats.chi2.sf((b / s) ** 2, 1)), "Exp(B)": np.exp(b),
                         "CI_low": np.exp(b - z975 * s), "CI_high": np.exp(b + z975 * s)})
    coefficients = pd.DataFrame(rows).set_index(["category", "term"])
    minus2ll = -2 * float(fit.llf)
    counts = np.bincount(y)
    n = len(y)
    minus2ll_null = -2 * float((counts * np.log(counts / n)).sum())
    lr_rows = []
    for term, columns in [(CONSTANT, [CONSTANT]), *design.terms.items()]:
        keep = [k for k, name in enumerate(names) if name not in columns]
        reduced = -2 * float(_fit(y, X[:, keep]).llf) if keep else minus2ll_null
        df = len(others) * len(columns)
        chi2 = max(0.0, reduced - minus2ll)
        lr_rows.append({"term": term, "minus2ll_reduced": reduced, "chi2": chi2, "df": df,
                        "p": float(stats.chi2.sf(chi2, df))})
    likelihood_ratio = pd.DataFrame(lr_rows).set_index("term")
    chi2 = minus2ll_null - minus2ll
    df_model = len(others) * design.X.shape[1]
    cox_snell = 1 - np.exp(-chi2 / n)
    nagelkerke = cox_snell / (1 - np.exp(-minus2ll_null / n))
    return MultinomialResult(outcome, ref, [*others, ref], coefficients, likelihood_ratio, minus2ll, minus2ll_null,
                             float(chi2), int(df_model), float(stats.chi2.sf(chi2, df_model)),
                             float(1 - minus2ll / minus2ll_null), float(cox_snell), float(nagelkerke), n,
                             dict(design.references), notes)


__all__ = ["MultinomialResult", "multinomial"]
