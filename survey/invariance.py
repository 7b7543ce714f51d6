"""Measurement invariance (测量不变性) across groups by multi-group CFA, as lavaan's `group.equal`.

`measurement_invariance(model, data, group="school")` fits the same CFA in every group with
successively more parameters held equal — configural (same pattern), metric (loadings), scalar
(loadings and intercepts; latent means free in all but the first group), strict (and residual
variances) — and lists chi², df, CFI, RMSEA, SRMR, AIC and BIC of each with the change from the
previous step: the likelihood-ratio test Δchi² on Δdf, ΔCFI and ΔRMSEA (current minus previous,
so a worse fit gives a negative ΔCFI; Chen 2007 flags ΔCFI < -.010 with ΔRMSEA > .015).

References:
    Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
    Psychometrika, 58, 525-543.
    Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement invariance.
    Structural Equation Modeling, 14, 464-504.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from survey.errors import SurveyAnalysisError
from survey.lavaan_syntax import parse_syntax
from survey.structural import SEMResult, fit_model

# what each step adds to the steps before it in the sequence
LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("intercepts",),
    "strict": ("residuals",),
    "means": ("means",),
}


@dataclass
class InvarianceResult:
    """The invariance sequence: `table` (one row per model) and the fitted models by name."""

    table: pd.DataFrame
    fits: dict[str, SEMResult]
    group: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        return (f"Measurement invariance across {self.group!r} "
                f"({', '.join(next(iter(self.fits.values())).group_labels)})\n\n"
                + self.table.round(3).to_string())


def measurement_invariance(model: str, data: object, group: str, *,
                           levels: Sequence[str] = ("configural", "metric", "scalar", "strict"),
                           std_lv: bool = False, max_iter: int = 500) -> InvarianceResult:
    """Fit the invariance sequence and compare each model with the one before it.

    Args:
        model: lavaan CFA syntax (`F =~ x1 + x2 + x3` ...).
        data: respondents x items plus the group column (DataFrame or SurveyData).
        group: the column that defines the groups (lavaan `group=`); groups in order of appearance.
        levels: which steps, in order; each adds its constraint to those before it: "configural"
            (none), "metric" (loadings), "scalar" (intercepts), "strict" (residual variances),
            "means" (latent means). ("configural", "metric", "scalar", "means") is semTools'
            `measurementInvariance()` sequence.
        std_lv: identify factors by unit variance in the first group (free in the others once
            loadings are equal) instead of marker loadings.

    Returns:
        InvarianceResult; `table` columns: model, chi2, df, p, cfi, tli, rmsea, srmr, aic, bic,
        delta_chi2, delta_df, p_delta (likelihood-ratio test against the previous model),
        delta_cfi, delta_rmsea, converged.
    """
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown or not levels:
        raise SurveyAnalysisError(f"measurement_invariance: levels {unknown or levels} unknown; choose from "
                                  f"{list(LEVELS)}")
    syntax = parse_syntax(model)
    fits: dict[str, SEMResult] = {}
    rows = []
    previous: SEMResult | None = None
    equal: tuple[str, ...] = ()
    for level in levels:
        equal = equal + LEVELS[level]
        result = fit_model(syntax, data, caller=f"measurement_invariance ({level})", group=group,
                           group_equal=equal, std_lv=std_lv, meanstructure=True, max_iter=max_iter)
        fits[level] = result
        f = result.fit
        row = {"model": level, "chi2": f["chi2"], "df": f["df"], "p": f["p"], "cfi": f["cfi"], "tli": f["tli"],
               "rmsea": f["rmsea"], "srmr": f["srmr"], "aic": f["aic"], "bic": f["bic"],
               "delta_chi2": np.nan, "delta_df": np.nan, "p_delta": np.nan, "delta_cfi": np.nan,
               "delta_rmsea": np.nan, "converged": result.converged}
        if previous is not None:
            d_chi2 = f["chi2"] - previous.fit["chi2"]
            d_df = f["df"] - previous.fit["df"]
            row.update(delta_chi2=d_chi2, delta_df=d_df,
                       p_delta=float(stats.chi2.sf(d_chi2, d_df)) if d_df > 0 else np.nan,
                       delta_cfi=f["cfi"] - previous.fit["cfi"], delta_rmsea=f["rmsea"] - previous.fit["rmsea"])
        rows.append(row)
        previous = result
    return InvarianceResult(pd.DataFrame(rows), fits, group)


__all__ = ["LEVELS", "InvarianceResult", "measurement_invariance"]
