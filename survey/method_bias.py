"""Common-method bias (共同方法偏差): Harman's single-factor test on all the items of a questionnaire.

The unrotated first component (or single common factor) of all measured items, and the share of
the total variance it takes; the rules of thumb theses quote are stated with the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.checks import as_frame
from survey.codebook import SurveyData
from survey.errors import SurveyAnalysisError
from survey.factor import FactorAnalysisError, Missing, _extract, correlation_matrix, item_data

HARMAN_METHODS = ("pca", "paf", "minres", "ml")


@dataclass
class HarmanResult:
    """Harman's single-factor test (see `harman_single_factor`).

    Attributes:
        first_share: share (0-1) of the total variance of the items taken by the first
            unrotated component (method "pca") or by the single common factor.
        threshold: the cut-off the verdict uses (0.40 by default; 0.50 is the "majority" rule).
        n_above_one: how many eigenvalues of the correlation matrix exceed 1 (Kaiser), i.e.
            how many factors an unrotated EFA would extract; 1 means a single factor emerged.
        bias_suspected: first_share > threshold or a single factor emerged.
        eigenvalues: SPSS's "Total Variance Explained" initial columns (eigenvalue, % of
            variance, cumulative %) for every component.
        loadings: the items' loadings on the first unrotated component / single factor.
        method, n, k, missing: settings and sizes.
    """

    first_share: float
    threshold: float
    n_above_one: int
    bias_suspected: bool
    eigenvalues: pd.DataFrame
    loadings: pd.Series
    method: str
    n: int
    k: int
    missing: str

    def to_frame(self) -> pd.DataFrame:
        """One-row table: first factor's variance share, factors with eigenvalue > 1, verdict."""
        return pd.DataFrame({
            "first_factor_pct": [100 * self.first_share], "threshold_pct": [100 * self.threshold],
            "factors_eigenvalue_gt_1": [self.n_above_one], "bias_suspected": [self.bias_suspected],
            "method": [self.method], "n": [self.n], "k": [self.k],
        })

    def summary(self) -> str:
        """The verdict in a sentence, with the rule it follows, and the eigenvalue table."""
        what = "first unrotated component" if self.method == "pca" else f"single {self.method} factor"
        verdict = (
            "common-method bias is suspected" if self.bias_suspected else
            "no serious common-method bias is indicated"
        )
        head = (
            f"Harman's single-factor test ({self.k} items, n = {self.n}): the {what} explains "
            f"{100 * self.first_share:.2f}% of the variance; {self.n_above_one} factor(s) have eigenvalues > 1. "
            f"Rule: bias is suspected when one factor emerges or the first explains more than "
            f"{100 * self.threshold:.0f}% (40% is the usual threshold, 50% the 'majority' rule of "
            f"Podsakoff et al., 2003) -> {verdict}. The test is insensitive; a non-significant result "
            "does not prove the absence of method bias."
        )
        return head + "\n\n" + self.eigenvalues.round(3).to_string()


def harman_single_factor(
    data: pd.DataFrame | SurveyData,
    items: str | list[str] | None = None,
    *,
    method: str = "pca",
    threshold: float = 0.40,
    missing: Missing = "listwise",
) -> HarmanResult:
    """Harman's single-factor test for common-method bias (Podsakoff et al., 2003).

    All items of all scales enter one unrotated analysis of their correlation matrix R (p items).
    With method "pca" (SPSS: Analyze > Dimension Reduction > Factor, principal components, no
    rotation) the first component's share of the variance is lambda_1 / p, lambda_1 the largest
    eigenvalue of R — the "% of Variance" of component 1 in SPSS's Total Variance Explained.
    With "paf", "minres" or "ml" a single common factor is extracted and its share is
    sum(loadings^2) / p. Method bias is suspected when the first factor explains more than
    `threshold` of the variance (40% is the threshold common in Chinese theses, after Zhou & Long,
    2004; Podsakoff et al. speak of "the majority", i.e. 50%) or when only one factor has an
    eigenvalue above 1.

    Checked against the eigenvalues R's psych::fa reports for Field's SAQ (23 items) and the
    twin-study data (reference files of the factor_analyzer project): lambda_1 / p in closed form.

    Args:
        data: respondents x items DataFrame or SurveyData (not modified).
        items: item columns of every scale (default: all columns).
        method: "pca" (default, as SPSS users run it), "paf", "minres" or "ml".
        threshold: share above which bias is suspected (0 < threshold < 1).
        missing: "listwise" (default) or "pairwise" deletion for the correlations.

    Returns:
        HarmanResult with `first_share`, `bias_suspected`, `eigenvalues`, `loadings`, `summary()`.

    Example:
        >>> res = harman_single_factor(df, items=[f"q{i:02d}" for i in range(1, 24)])  # doctest: +SKIP
        >>> round(100 * res.first_share, 2)  # doctest: +SKIP
        31.7
    """
    where = "harman_single_factor"
    if method not in HARMAN_METHODS:
        raise SurveyAnalysisError(f"{where}: method {method!r} is not one of {HARMAN_METHODS}")
    if not 0 < threshold < 1:
        raise SurveyAnalysisError(f"{where}: threshold must be a share between 0 and 1, got {threshold}")
    frame = data if isinstance(data, SurveyData) else as_frame(data, where)  # a SurveyData: its scale items
    try:
        usable = item_data(frame, items, missing=missing, min_items=3, what=where)
        r = correlation_matrix(usable, missing)
        extraction = _extract(r, 1, method, max_iter=100, tol=1e-6)
    except FactorAnalysisError as error:
        raise SurveyAnalysisError(f"{where}: {error}") from error
    p = r.shape[0]
    eigenvalues = np.sort(np.linalg.eigvalsh(r))[::-1]
    loadings = extraction.loadings[:, 0]
    share = float(eigenvalues[0] / p) if method == "pca" else float((loadings**2).sum() / p)
    n_above_one = int((eigenvalues > 1).sum())
    table = pd.DataFrame(
        {"eigenvalue": eigenvalues, "pct_of_variance": 100 * eigenvalues / p,
         "cumulative_pct": 100 * np.cumsum(eigenvalues) / p},
        index=pd.RangeIndex(1, p + 1, name="component"),
    )
    return HarmanResult(
        first_share=share, threshold=threshold, n_above_one=n_above_one,
        bias_suspected=bool(share > threshold or n_above_one <= 1), eigenvalues=table,
        loadings=pd.Series(loadings, index=pd.Index(list(usable.columns), name="item"), name="loading"),
        method=method, n=len(usable), k=p, missing=missing,
    )
