"""Inter-rater agreement (评分者一致性): intraclass correlations and Cohen's and Fleiss' kappa.

Ratings come wide, one row per rated subject (target) and one column per rater, as SPSS's
RELIABILITY /ICC and R's psych::ICC, irr::kappa2 and irr::kappam.fleiss take them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from survey.checks import as_frame, column_list, finite_matrix
from survey.errors import SurveyAnalysisError

# ----------------------------------------------------------------------------- intraclass correlation

ICC_LABELS = {
    "ICC1": ("Single_raters_absolute", "one-way random, absolute agreement, single rater"),
    "ICC2": ("Single_random_raters", "two-way random, absolute agreement, single rater"),
    "ICC3": ("Single_fixed_raters", "two-way mixed, consistency, single rater"),
    "ICC1k": ("Average_raters_absolute", "one-way random, absolute agreement, mean of k raters"),
    "ICC2k": ("Average_random_raters", "two-way random, absolute agreement, mean of k raters"),
    "ICC3k": ("Average_fixed_raters", "two-way mixed, consistency, mean of k raters"),
}


@dataclass
class ICCResult:
    """The six Shrout & Fleiss (1979) intraclass correlations (see `icc`).

    Attributes:
        table: one row per form (ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k) with psych's label,
            the McGraw & Wong description, ICC, F, df1, df2, p and the CI bounds.
        mean_squares: ANOVA mean squares MSB (targets), MSW (within targets), MSJ (raters),
            MSE (residual) with their df.
        n_targets, n_raters, ci_level: sizes and interval level.
    """

    table: pd.DataFrame
    mean_squares: pd.DataFrame
    n_targets: int
    n_raters: int
    ci_level: float

    def to_frame(self) -> pd.DataFrame:
        """The six-row ICC table."""
        return self.table.copy()

    def summary(self) -> str:
        """Plain-text table as psych::ICC prints it."""
        head = (f"Intraclass correlation coefficients (n = {self.n_targets} targets, k = {self.n_raters} raters, "
                f"{self.ci_level:.0%} CI)")
        return head + "\n\n" + self.table.drop(columns="model").round(4).to_string()


def icc(data: pd.DataFrame, raters: Sequence[str] | None = None, *, ci: float = 0.95) -> ICCResult:
    """Intraclass correlations ICC(1,1), ICC(2,1), ICC(3,1) and their k-rater means (Shrout & Fleiss, 1979).

    From the two-way ANOVA of n targets x k raters: MSB (between targets, n - 1 df), MSW (within
    targets, n (k - 1) df), MSJ (raters, k - 1 df), MSE (residual, (n - 1)(k - 1) df):
    ICC1 = (MSB - MSW) / (MSB + (k - 1) MSW); ICC2 = (MSB - MSE) / (MSB + (k - 1) MSE +
    k (MSJ - MSE) / n); ICC3 = (MSB - MSE) / (MSB + (k - 1) MSE); ICC1k = (MSB - MSW) / MSB;
    ICC2k = (MSB - MSE) / (MSB + (MSJ - MSE) / n); ICC3k = (MSB - MSE) / MSB.
    F tests: MSB / MSW for the one-way forms, MSB / MSE for the two-way forms. Intervals: the
    F-based limits of Shrout & Fleiss (1979) for ICC1 and ICC3, and for ICC2 their approximation
    with Satterthwaite's df; the k-rater bounds as psych::ICC (Spearman-Brown for ICC2k).
    In McGraw & Wong's (1996) terms ICC2 is ICC(A,1) and ICC3 is ICC(C,1); SPSS's two-way
    random "absolute agreement" single measure equals ICC2 and two-way mixed "consistency" ICC3.

    Checked against the Shrout & Fleiss (1979) 6 x 4 example (their Table 4, reproduced in
    psych::ICC's help page) and psych::ICC output on irr's `anxiety` data and on McGraw &
    Wong's (1996) Table 6 data (tests/survey/test_agreement.py).

    Args:
        data: one row per target, one column per rater (DataFrame or SurveyData; not modified).
        raters: the rater columns (default: all columns); at least two.
        ci: confidence level of the intervals.

    Returns:
        ICCResult with `table`, `mean_squares` and `summary()`.

    Example:
        >>> sf = pd.DataFrame([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6],
        ...                    [10, 5, 6, 9], [6, 2, 4, 7]], columns=["J1", "J2", "J3", "J4"])
        >>> icc(sf).table["ICC"].round(2).tolist()
        [0.17, 0.29, 0.71, 0.44, 0.62, 0.91]
    """
    where = "icc"
    if not 0 < ci < 1:
        raise SurveyAnalysisError(f"{where}: ci must be between 0 and 1, got {ci}")
    frame = as_frame(data, where)
    columns = column_list(frame, raters, where, minimum=2)
    x = finite_matrix(frame, columns, where)
    n, k = x.shape
    if n < 2:
        raise SurveyAnalysisError(f"{where}: needs at least 2 rated targets, got {n}")
    grand = x.mean()
    ss_total = float(((x - grand) ** 2).sum())
    ss_between = k * float(((x.mean(axis=1) - grand) ** 2).sum())
    ss_raters = n * float(((x.mean(axis=0) - grand) ** 2).sum())
    ss_error = ss_total - ss_between - ss_raters
    df_b, df_w, df_j, df_e = n - 1, n * (k - 1), k - 1, (n - 1) * (k - 1)
    msb, msw, msj, mse = ss_between / df_b, (ss_total - ss_between) / df_w, ss_raters / df_j, ss_error / df_e
    if not msw > 0 or not mse > 0:
        raise SurveyAnalysisError(f"{where}: the raters {columns} agree perfectly (no residual variance); "
                                  "the ICC is 1 and its F tests are undefined")

    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    icc1k, icc2k, icc3k = (msb - msw) / msb, (msb - mse) / (msb + (msj - mse) / n), (msb - mse) / msb

    tail = (1 - ci) / 2
    f1, f3 = msb / msw, msb / mse
    fl1, fu1 = f1 / stats.f.ppf(1 - tail, df_b, df_w), f1 * stats.f.ppf(1 - tail, df_w, df_b)
    fl3, fu3 = f3 / stats.f.ppf(1 - tail, df_b, df_e), f3 * stats.f.ppf(1 - tail, df_e, df_b)
    fj = msj / mse
    v_num = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v_den = (n - 1) * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = v_num / v_den
    f_upper, f_lower = stats.f.ppf(1 - tail, df_b, v), stats.f.ppf(1 - tail, v, df_b)
    low2 = n * (msb - f_upper * mse) / (f_upper * (k * msj + (k * n - k - n) * mse) + n * msb)
    high2 = n * (f_lower * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f_lower * msb)

    p1, p3 = stats.f.sf(f1, df_b, df_w), stats.f.sf(f3, df_b, df_e)
    rows = {
        "ICC1": (icc1, f1, df_b, df_w, p1, (fl1 - 1) / (fl1 + k - 1), (fu1 - 1) / (fu1 + k - 1)),
        "ICC2": (icc2, f3, df_b, df_e, p3, low2, high2),
        "ICC3": (icc3, f3, df_b, df_e, p3, (fl3 - 1) / (fl3 + k - 1), (fu3 - 1) / (fu3 + k - 1)),
        "ICC1k": (icc1k, f1, df_b, df_w, p1, 1 - 1 / fl1, 1 - 1 / fu1),
        "ICC2k": (icc2k, f3, df_b, df_e, p3, low2 * k / (1 + low2 * (k - 1)), high2 * k / (1 + high2 * (k - 1))),
        "ICC3k": (icc3k, f3, df_b, df_e, p3, 1 - 1 / fl3, 1 - 1 / fu3),
    }
    table = pd.DataFrame(
        [{"label": ICC_LABELS[name][0], "model": ICC_LABELS[name][1], "ICC": value, "F": f, "df1": d1, "df2": d2,
          "p": p, "CI_low": lo, "CI_high": hi} for name, (value, f, d1, d2, p, lo, hi) in rows.items()],
        index=pd.Index(list(rows), name="type"),
    )
    mean_squares = pd.DataFrame(
        {"df": [df_b, df_w, df_j, df_e], "mean_square": [msb, msw, msj, mse]},
        index=pd.Index(["between targets (MSB)", "within targets (MSW)", "raters (MSJ)", "residual (MSE)"],
                       name="source"),
    )
    return ICCResult(table=table, mean_squares=mean_squares, n_targets=n, n_raters=k, ci_level=ci)


# ----------------------------------------------------------------------------- categorical ratings


def _category_codes(frame: pd.DataFrame, columns: list[str], categories: Sequence | None,
                    where: str) -> tuple[np.ndarray, list]:
    """Ratings as integer positions in the ordered category list (missing ratings are an error)."""
    for name in columns:
        missing = int(frame[name].isna().sum())
        if missing:
            raise SurveyAnalysisError(
                f"{where}: column {name!r} has {missing} missing ratings; drop the subjects not rated by every rater"
            )
        if pd.api.types.is_float_dtype(frame[name]) and np.isinf(frame[name].to_numpy()).any():
            raise SurveyAnalysisError(f"{where}: column {name!r} holds infinite values; fix the data first")
    if categories is None:
        observed = pd.unique(frame[columns].to_numpy().ravel())
        try:
            categories = sorted(observed.tolist())
        except TypeError as error:
            raise SurveyAnalysisError(f"{where}: the ratings mix types that cannot be ordered; pass categories=") \
                from error
    categories = list(categories)
    if len(set(categories)) != len(categories):
        raise SurveyAnalysisError(f"{where}: categories are listed twice: {categories}")
    lookup = {value: i for i, value in enumerate(categories)}
    codes = np.empty((len(frame), len(columns)), dtype=int)
    for j, name in enumerate(columns):
        unknown = [value for value in pd.unique(frame[name]) if value not in lookup]
        if unknown:
            raise SurveyAnalysisError(f"{where}: column {name!r} holds {unknown[0]!r}, not one of the categories "
                                      f"{categories}")
        codes[:, j] = frame[name].map(lookup).to_numpy()
    if len(categories) < 2:
        raise SurveyAnalysisError(f"{where}: every rating is {categories[0]!r}; kappa needs at least two categories")
    return codes, categories


def _agreement_weights(q: int, weights: str | None) -> np.ndarray:
    i = np.arange(q)
    distance = np.abs(i[:, None] - i[None, :]) / (q - 1)
    if weights is None or weights == "unweighted":
        return np.eye(q)
    if weights == "linear":
        return 1 - distance
    if weights == "quadratic":
        return 1 - distance**2
    raise SurveyAnalysisError(f"cohen_kappa: weights must be None, 'linear' or 'quadratic', got {weights!r}")


@dataclass
class KappaResult:
    """Cohen's (weighted) kappa for two raters (see `cohen_kappa`).

    Attributes:
        kappa: the coefficient; se: its asymptotic SE (Fleiss, Cohen & Everitt, 1969);
        ci: (low, high) Wald interval kappa -/+ z se; se0: SE under H0 kappa = 0;
        z, p: test of kappa = 0 (z = kappa / se0, two-sided p);
        observed, expected: (weighted) observed and chance agreement;
        table: the raters' cross-tabulation; weights: the agreement weight matrix;
        n: subjects; weighting: "unweighted", "linear" or "quadratic".
    """

    kappa: float
    se: float
    ci: tuple[float, float]
    ci_level: float
    se0: float
    z: float
    p: float
    observed: float
    expected: float
    table: pd.DataFrame
    weights: np.ndarray
    n: int
    weighting: str

    def to_frame(self) -> pd.DataFrame:
        """One-row table as SAS PROC FREQ / irr::kappa2 report it."""
        return pd.DataFrame({
            "kappa": [self.kappa], "SE": [self.se], "CI_low": [self.ci[0]], "CI_high": [self.ci[1]],
            "SE0": [self.se0], "z": [self.z], "p": [self.p], "observed_agreement": [self.observed],
            "expected_agreement": [self.expected], "n": [self.n], "weights": [self.weighting],
        })

    def summary(self) -> str:
        """Kappa with SE, CI and test, then the cross-tabulation."""
        return (
            f"Cohen's kappa ({self.weighting}) = {self.kappa:.4f}, SE = {self.se:.4f}, {self.ci_level:.0%} CI "
            f"[{self.ci[0]:.4f}, {self.ci[1]:.4f}]; z = {self.z:.3f} (SE under H0 {self.se0:.4f}), p = {self.p:.4g}; "
            f"n = {self.n}\n\n{self.table.to_string()}"
        )


def cohen_kappa(
    data: pd.DataFrame,
    rater1: str,
    rater2: str,
    *,
    weights: str | None = None,
    categories: Sequence | None = None,
    ci: float = 0.95,
) -> KappaResult:
    """Cohen's (1960) kappa and weighted kappa (Cohen, 1968) of two raters, with SE, CI and z test.

    With p_ij the cross-classified proportions, p_i. and p_.j the margins and agreement weights
    w_ij (identity; linear 1 - |i - j| / (q - 1); quadratic 1 - (i - j)^2 / (q - 1)^2):
    p_o = sum w_ij p_ij, p_e = sum w_ij p_i. p_.j, kappa = (p_o - p_e) / (1 - p_e). Variances
    (Fleiss, Cohen & Everitt, 1969), with wbar_i = sum_j p_.j w_ij and wbar_j = sum_i p_i. w_ij:
    var = [sum p_ij (w_ij - (wbar_i + wbar_j)(1 - kappa))^2 - (kappa - p_e (1 - kappa))^2] / (n (1 - p_e)^2);
    under H0: var0 = [sum p_i. p_.j (w_ij - (wbar_i + wbar_j))^2 - p_e^2] / (n (1 - p_e)^2).
    The CI is kappa -/+ z_{(1+ci)/2} sqrt(var) (SAS PROC FREQ); the test z = kappa / sqrt(var0)
    (SAS, irr::kappa2). Categories are the sorted values either rater used (as irr), so weights
    follow the category positions; pass `categories` to fix the scale (e.g. 1..5).
    Linear and quadratic weights are irr's "equal" and "squared".

    Checked against SAS PROC FREQ output for a 3 x 3 table (statsmodels' test suite), irr::kappa2
    on irr's `anxiety` and `diagnoses` data, and scikit-learn's cohen_kappa_score.

    Args:
        data: one row per subject (DataFrame or SurveyData; not modified).
        rater1, rater2: the two raters' columns (numbers or labels; no missing values).
        weights: None (unweighted), "linear" or "quadratic".
        categories: ordered list of all categories (default: the observed ones, sorted).
        ci: confidence level.

    Returns:
        KappaResult with `kappa`, `se`, `ci`, `z`, `p`, `table` and `summary()`.

    Example:
        >>> df = pd.DataFrame({"a": [1, 1, 2, 2, 3, 3, 1, 2], "b": [1, 2, 2, 2, 3, 1, 1, 2]})
        >>> round(cohen_kappa(df, "a", "b").kappa, 4)  # Po = 6/8, Pe = 23/64
        0.6098
    """
    where = "cohen_kappa"
    if not 0 < ci < 1:
        raise SurveyAnalysisError(f"{where}: ci must be between 0 and 1, got {ci}")
    frame = as_frame(data, where)
    columns = column_list(frame, [rater1, rater2], where, minimum=2)
    codes, categories = _category_codes(frame, columns, categories, where)
    n, q = len(codes), len(categories)
    if n < 2:
        raise SurveyAnalysisError(f"{where}: needs at least 2 rated subjects, got {n}")
    w = _agreement_weights(q, weights)
    counts = np.zeros((q, q))
    np.add.at(counts, (codes[:, 0], codes[:, 1]), 1)
    p = counts / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    p_o, p_e = float((w * p).sum()), float((w * np.outer(rows, cols)).sum())
    if np.isclose(p_e, 1.0):
        raise SurveyAnalysisError(f"{where}: both raters used a single category; chance agreement is 1 and "
                                  "kappa is undefined")
    kappa = (p_o - p_e) / (1 - p_e)
    wbar_i, wbar_j = w @ cols, rows @ w
    spread = w - (wbar_i[:, None] + wbar_j[None, :]) * (1 - kappa)
    var = ((p * spread**2).sum() - (kappa - p_e * (1 - kappa)) ** 2) / (n * (1 - p_e) ** 2)
    spread0 = w - (wbar_i[:, None] + wbar_j[None, :])
    var0 = ((np.outer(rows, cols) * spread0**2).sum() - p_e**2) / (n * (1 - p_e) ** 2)
    se, se0 = float(np.sqrt(max(var, 0.0))), float(np.sqrt(max(var0, 0.0)))
    z_crit = stats.norm.ppf((1 + ci) / 2)
    z = kappa / se0 if se0 > 0 else float("nan")
    table = pd.DataFrame(counts.astype(int), index=pd.Index(categories, name=str(rater1)),
                         columns=pd.Index(categories, name=str(rater2)))
    return KappaResult(
        kappa=float(kappa), se=se, ci=(float(kappa - z_crit * se), float(kappa + z_crit * se)), ci_level=ci,
        se0=se0, z=float(z), p=float(2 * stats.norm.sf(abs(z))), observed=p_o, expected=p_e, table=table,
        weights=w, n=n, weighting=weights or "unweighted",
    )


@dataclass
class FleissKappaResult:
    """Fleiss' kappa for m raters (see `fleiss_kappa`).

    Attributes:
        kappa, se0, z, p: overall kappa, its SE under H0, z = kappa / se0 and two-sided p.
        categories: per category the share of ratings, kappa_j, its SE under H0, z and p
            (irr::kappam.fleiss(detail = TRUE)).
        observed, expected: mean observed agreement P-bar and chance agreement P-bar_e.
        n_subjects, n_raters: sizes.
    """

    kappa: float
    se0: float
    z: float
    p: float
    observed: float
    expected: float
    categories: pd.DataFrame
    n_subjects: int
    n_raters: int

    def to_frame(self) -> pd.DataFrame:
        """One-row table of the overall coefficient."""
        return pd.DataFrame({"kappa": [self.kappa], "SE0": [self.se0], "z": [self.z], "p": [self.p],
                             "observed_agreement": [self.observed], "expected_agreement": [self.expected],
                             "subjects": [self.n_subjects], "raters": [self.n_raters]})

    def summary(self) -> str:
        """Overall kappa and the category-wise table."""
        return (f"Fleiss' kappa for {self.n_raters} raters, {self.n_subjects} subjects = {self.kappa:.4f}, "
                f"z = {self.z:.3f}, p = {self.p:.4g}\n\n{self.categories.round(4).to_string()}")


def fleiss_kappa(data: pd.DataFrame, raters: Sequence[str] | None = None, *,
                 categories: Sequence | None = None) -> FleissKappaResult:
    """Fleiss' (1971) kappa for m raters of nominal categories, with category-wise kappas.

    With N subjects, n raters per subject and x_ij the raters putting subject i in category j:
    p_j = sum_i x_ij / (N n); P_i = (sum_j x_ij^2 - n) / (n (n - 1)); P-bar = mean P_i;
    P-bar_e = sum p_j^2; kappa = (P-bar - P-bar_e) / (1 - P-bar_e). Test of kappa = 0 with the
    SE under H0 of Fleiss, Nee & Landis (1979):
    se0 = sqrt(2) / (sum p_j q_j sqrt(N n (n - 1))) * sqrt((sum p_j q_j)^2 - sum p_j q_j (q_j - p_j)),
    q_j = 1 - p_j. Category-wise: kappa_j = 1 - sum_i x_ij (n - x_ij) / (N n (n - 1) p_j q_j) with
    se0_j = sqrt(2 / (N n (n - 1))). This is irr::kappam.fleiss (exact = FALSE, detail = TRUE).
    No interval is given: the SE above holds only under H0.

    Checked against irr::kappam.fleiss on irr's `diagnoses` data (Fleiss, 1971: 30 patients,
    6 psychiatrists, kappa = 0.430) and statsmodels' fleiss_kappa.

    Args:
        data: one row per subject, one column per rater (DataFrame or SurveyData).
        raters: the rater columns (default: all); at least two.
        categories: all categories (default: the observed ones).

    Returns:
        FleissKappaResult with `kappa`, `z`, `p`, `categories` and `summary()`.

    Example:
        >>> df = pd.DataFrame({"r1": [1, 2, 3, 1], "r2": [1, 2, 3, 2], "r3": [1, 2, 2, 1]})
        >>> round(fleiss_kappa(df).kappa, 4)  # P-bar = 2/3, P-bar_e = 3/8
        0.4667
    """
    where = "fleiss_kappa"
    frame = as_frame(data, where)
    columns = column_list(frame, raters, where, minimum=2)
    codes, labels = _category_codes(frame, columns, categories, where)
    n_subjects, n = codes.shape
    if n_subjects < 2:
        raise SurveyAnalysisError(f"{where}: needs at least 2 rated subjects, got {n_subjects}")
    counts = np.zeros((n_subjects, len(labels)))
    for j in range(n):
        np.add.at(counts, (np.arange(n_subjects), codes[:, j]), 1)
    p_j = counts.sum(axis=0) / (n_subjects * n)
    q_j = 1 - p_j
    agreement = ((counts**2).sum(axis=1) - n) / (n * (n - 1))
    p_bar, p_e = float(agreement.mean()), float((p_j**2).sum())
    if np.isclose(p_e, 1.0):
        raise SurveyAnalysisError(f"{where}: every rating is the same category; kappa is undefined")
    kappa = (p_bar - p_e) / (1 - p_e)
    pq = p_j * q_j
    scale = n_subjects * n * (n - 1)
    se0 = np.sqrt(2) / (pq.sum() * np.sqrt(scale)) * np.sqrt(pq.sum() ** 2 - (pq * (q_j - p_j)).sum())
    z = kappa / se0
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa_j = 1 - (counts * (n - counts)).sum(axis=0) / (scale * pq)
    se0_j = np.sqrt(2 / scale)
    z_j = kappa_j / se0_j
    table = pd.DataFrame({"share": p_j, "kappa": kappa_j, "SE0": se0_j, "z": z_j, "p": 2 * stats.norm.sf(np.abs(z_j))},
                         index=pd.Index(labels, name="category"))
    return FleissKappaResult(kappa=float(kappa), se0=float(se0), z=float(z), p=float(2 * stats.norm.sf(abs(z))),
                             observed=p_bar, expected=p_e, categories=table, n_subjects=n_subjects, n_raters=n)
