"""Comprehensive evaluation (综合评价) as SPSSAU offers it: AHP weights with the consistency test,
the entropy weight method and TOPSIS ranking of alternatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.checks import as_frame, column_list, finite_matrix
from survey.errors import SurveyAnalysisError

# Saaty's random consistency index RI(n), n = 1..10 (Saaty, 1980, The Analytic Hierarchy Process)
RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49}


# ----------------------------------------------------------------------------- AHP


@dataclass
class AHPResult:
    """Analytic hierarchy process weights of one comparison matrix (see `ahp`).

    Attributes:
        weights: principal-eigenvector weights (sum 1), indexed by criterion.
        lambda_max: principal eigenvalue; ci: (lambda_max - n) / (n - 1); ri: Saaty's RI(n);
        cr: ci / ri (0 for n <= 2); consistent: cr < 0.10; n: criteria.
    """

    weights: pd.Series
    lambda_max: float
    ci: float
    ri: float
    cr: float
    consistent: bool
    n: int

    def to_frame(self) -> pd.DataFrame:
        """Weights with the consistency statistics repeated on each row (as SPSSAU lays them out)."""
        return pd.DataFrame({"weight": self.weights, "lambda_max": self.lambda_max, "CI": self.ci,
                             "RI": self.ri, "CR": self.cr})

    def summary(self) -> str:
        """Weights and the consistency verdict."""
        verdict = "passes" if self.consistent else "fails"
        return (f"AHP ({self.n} criteria): lambda_max = {self.lambda_max:.4f}, CI = {self.ci:.4f}, RI = {self.ri:.2f}, "
                f"CR = {self.cr:.4f} -> the matrix {verdict} the consistency test (CR < 0.10)\n\n"
                + self.weights.round(4).to_string())


def ahp(matrix: pd.DataFrame | np.ndarray | Sequence[Sequence[float]], *,
        labels: Sequence[str] | None = None, tolerance: float = 1e-6) -> AHPResult:
    """AHP weights from a pairwise comparison matrix, with Saaty's consistency ratio.

    a_ij is how much more important criterion i is than j on Saaty's 1-9 scale, a_ji = 1 / a_ij,
    a_ii = 1. The weights are the principal right eigenvector of A scaled to sum to 1; with
    lambda_max its eigenvalue, CI = (lambda_max - n) / (n - 1) and CR = CI / RI(n), RI Saaty's
    (1980) random index (0, 0, .58, .90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49 for n = 1..10).
    CR < 0.10 is acceptable. For a consistent matrix a_ij = w_i / w_j the weights are w and
    lambda_max = n; for n = 3 the eigenvector equals the row geometric means and
    lambda_max = 1 + (a13 / (a12 a23))^(1/3) + (a12 a23 / a13)^(1/3).

    Checked against those closed forms and Saaty's RI table (tests/survey/test_evaluation.py).

    Args:
        matrix: square reciprocal matrix (DataFrame with criterion labels, array or nested lists).
        labels: criterion names (default: the DataFrame's columns or C1..Cn).
        tolerance: allowed relative deviation from a_ij a_ji = 1.

    Returns:
        AHPResult with `weights`, `lambda_max`, `ci`, `cr`, `consistent`, `summary()`.

    Example:
        >>> res = ahp([[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]], labels=["cost", "speed", "ease"])
        >>> res.weights.round(4).tolist(), round(res.cr, 6)
        ([0.5714, 0.2857, 0.1429], 0.0)
    """
    where = "ahp"
    if isinstance(matrix, pd.DataFrame):
        labels = list(map(str, matrix.columns)) if labels is None else labels
        a = finite_matrix(matrix, list(matrix.columns), where)
    else:
        a = np.asarray(matrix, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 2:
        raise SurveyAnalysisError(f"{where}: the comparison matrix must be square with at least 2 rows, got {a.shape}")
    n = a.shape[0]
    labels = [f"C{i + 1}" for i in range(n)] if labels is None else list(labels)
    if len(labels) != n:
        raise SurveyAnalysisError(f"{where}: {len(labels)} labels for a {n} x {n} matrix")
    if not np.isfinite(a).all() or (a <= 0).any():
        raise SurveyAnalysisError(f"{where}: every judgement must be a positive finite number")
    bad = np.argwhere(np.abs(a * a.T - 1) > tolerance)
    if len(bad):
        i, j = bad[0]
        raise SurveyAnalysisError(f"{where}: the matrix is not reciprocal: a[{labels[i]}, {labels[j]}] = {a[i, j]:g} but "
                                  f"a[{labels[j]}, {labels[i]}] = {a[j, i]:g} (must be its inverse; diagonal 1)")
    if n > max(RANDOM_INDEX):
        raise SurveyAnalysisError(f"{where}: Saaty's random index is tabulated up to n = 10; got n = {n}")
    values, vectors = np.linalg.eig(a)
    top = int(np.argmax(values.real))
    lambda_max = float(values[top].real)
    vector = np.abs(vectors[:, top].real)
    weights = vector / vector.sum()
    ci = max((lambda_max - n) / (n - 1), 0.0)  # lambda_max >= n for a positive reciprocal matrix
    ri = RANDOM_INDEX[n]
    cr = ci / ri if ri > 0 else 0.0
    return AHPResult(weights=pd.Series(weights, index=pd.Index(labels, name="criterion"), name="weight"),
                     lambda_max=lambda_max, ci=float(ci), ri=ri, cr=float(cr), consistent=bool(cr < 0.10), n=n)


# ----------------------------------------------------------------------------- shared decision matrix


def _decision_matrix(data: object, columns: Sequence[str] | None, negative: Sequence[str] | None,
                     where: str) -> tuple[pd.DataFrame, list[str], np.ndarray, np.ndarray]:
    frame = as_frame(data, where)
    columns = column_list(frame, columns, where, minimum=2)
    negative = [negative] if isinstance(negative, str) else list(negative or [])
    stray = [name for name in negative if name not in columns]
    if stray:
        raise SurveyAnalysisError(f"{where}: negative (cost) indicators {stray} are not among the indicators {columns}")
    x = finite_matrix(frame, columns, where)
    if len(x) < 2:
        raise SurveyAnalysisError(f"{where}: needs at least 2 alternatives (rows), got {len(x)}")
    is_negative = np.array([name in negative for name in columns])
    return frame, columns, x, is_negative


# ----------------------------------------------------------------------------- entropy weights


@dataclass
class EntropyResult:
    """Entropy weight method (see `entropy_weights`).

    Attributes:
        table: per indicator the entropy e_j, the divergence d_j = 1 - e_j and the weight.
        scores: composite score of every row, sum_j w_j z_ij on the standardized values.
    """

    table: pd.DataFrame
    scores: pd.Series

    def to_frame(self) -> pd.DataFrame:
        """The indicator table."""
        return self.table.copy()

    def summary(self) -> str:
        """Indicator table as plain text."""
        return "Entropy weight method\n\n" + self.table.round(4).to_string()


def entropy_weights(data: pd.DataFrame, indicators: Sequence[str] | None = None, *,
                    negative: Sequence[str] | None = None, standardize: bool = True) -> EntropyResult:
    """Objective indicator weights by the entropy weight method (熵值法).

    Each indicator is first min-max standardized, z = (x - min) / (max - min) for positive
    indicators and (max - x) / (max - min) for `negative` (cost) ones (``standardize=False``
    uses the raw non-negative values). Then p_ij = z_ij / sum_i z_ij, e_j = -(1 / ln m) sum_i
    p_ij ln p_ij (with 0 ln 0 = 0; m rows), d_j = 1 - e_j and w_j = d_j / sum_j d_j. An indicator
    whose values are all equal carries no information: e_j = 1 and w_j = 0.

    Checked against a hand computation of these formulas and their limiting cases
    (tests/survey/test_evaluation.py).

    Args:
        data: one row per evaluated object, one column per indicator (DataFrame or SurveyData).
        indicators: indicator columns (default: all); negative: cost indicators.
        standardize: min-max standardize first (default, as SPSSAU).

    Returns:
        EntropyResult with `table` (entropy, divergence, weight) and `scores`.

    Example:
        >>> df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.1]})
        >>> entropy_weights(df).table["weight"].round(4).tolist()  # e = 0.5794 and 0: b is more decisive
        [0.2961, 0.7039]
    """
    where = "entropy_weights"
    frame, columns, x, is_negative = _decision_matrix(data, indicators, negative, where)
    m = len(x)
    if standardize:
        low, high = x.min(axis=0), x.max(axis=0)
        spread = np.where(high > low, high - low, 1.0)
        z = np.where(is_negative, high - x, x - low) / spread
    else:
        if (x < 0).any():
            column = columns[int(np.flatnonzero((x < 0).any(axis=0))[0])]
            raise SurveyAnalysisError(f"{where}: column {column!r} has negative values; use standardize=True")
        if is_negative.any():
            raise SurveyAnalysisError(f"{where}: negative (cost) indicators need standardize=True")
        z = x
    totals = z.sum(axis=0)
    p = np.divide(z, totals, out=np.full_like(z, 1.0 / m), where=totals > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    entropy = -plogp.sum(axis=0) / np.log(m)
    divergence = 1 - entropy
    if not divergence.sum() > 0:
        raise SurveyAnalysisError(f"{where}: no indicator varies across the rows; the weights are undefined")
    weights = divergence / divergence.sum()
    table = pd.DataFrame({"entropy": entropy, "divergence": divergence, "weight": weights},
                         index=pd.Index(columns, name="indicator"))
    return EntropyResult(table=table, scores=pd.Series(z @ weights, index=frame.index, name="score"))


# ----------------------------------------------------------------------------- TOPSIS


@dataclass
class TopsisResult:
    """TOPSIS ranking (see `topsis`).

    Attributes:
        table: per alternative the distances to the positive (D+) and negative (D-) ideal
            solutions, the relative closeness C = D- / (D+ + D-) and the rank (1 = best).
        ideal: per criterion the weight and the positive and negative ideal values of the
            weighted normalized matrix.
    """

    table: pd.DataFrame
    ideal: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The alternatives table."""
        return self.table.copy()

    def summary(self) -> str:
        """Ranking and ideal solutions as plain text."""
        return "TOPSIS\n\n" + self.table.round(4).to_string() + "\n\n" + self.ideal.round(6).to_string()


def topsis(data: pd.DataFrame, criteria: Sequence[str] | None = None, *,
           weights: Sequence[float] | pd.Series | None = None,
           negative: Sequence[str] | None = None) -> TopsisResult:
    """TOPSIS (Hwang & Yoon, 1981): rank alternatives by relative closeness to the ideal solution.

    r_ij = x_ij / sqrt(sum_i x_ij^2) (vector normalization); v_ij = w_j r_ij with weights
    scaled to sum 1 (equal weights by default; pass e.g. entropy or AHP weights). The positive
    ideal A+ takes max_i v_ij for benefit criteria and min_i v_ij for `negative` (cost) ones,
    A- the opposite; D+_i and D-_i are Euclidean distances to A+ and A-, and
    C_i = D-_i / (D+_i + D-_i) in [0, 1]; the largest C ranks first.

    Checked against the ideal solutions printed in R's MCDA::TOPSIS documentation (the car
    example of Hodgett's TOPSIS-in-Excel tutorial) and the closed form of C
    (tests/survey/test_evaluation.py).

    Args:
        data: one row per alternative, one column per criterion (DataFrame or SurveyData).
        criteria: criterion columns (default: all).
        weights: one weight per criterion (a Series may be indexed by criterion).
        negative: cost criteria (smaller is better).

    Returns:
        TopsisResult with `table` (D+, D-, closeness, rank) and `ideal`.

    Example:
        >>> df = pd.DataFrame({"quality": [7.0, 9.0, 5.0], "cost": [3.0, 6.0, 2.0]}, index=["A", "B", "C"])
        >>> topsis(df, negative=["cost"]).table["rank"].tolist()
        [1, 3, 2]
    """
    where = "topsis"
    frame, columns, x, is_negative = _decision_matrix(data, criteria, negative, where)
    if weights is None:
        w = np.full(len(columns), 1.0 / len(columns))
    else:
        if isinstance(weights, pd.Series):
            missing = [name for name in columns if name not in weights.index]
            if missing:
                raise SurveyAnalysisError(f"{where}: weights have no entry for criteria {missing}")
            weights = weights.loc[columns].to_numpy()
        w = np.asarray(weights, dtype=float)
        if w.shape != (len(columns),) or not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
            raise SurveyAnalysisError(f"{where}: weights must be {len(columns)} non-negative numbers, got {weights!r}")
        w = w / w.sum()
    norms = np.sqrt((x**2).sum(axis=0))
    zero = [name for name, norm in zip(columns, norms, strict=True) if not norm > 0]
    if zero:
        raise SurveyAnalysisError(f"{where}: criteria {zero} are zero for every alternative")
    v = x / norms * w
    best = np.where(is_negative, v.min(axis=0), v.max(axis=0))
    worst = np.where(is_negative, v.max(axis=0), v.min(axis=0))
    d_plus = np.sqrt(((v - best) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v - worst) ** 2).sum(axis=1))
    total = d_plus + d_minus
    closeness = np.divide(d_minus, total, out=np.full(len(x), 0.5), where=total > 0)
    table = pd.DataFrame({"D_plus": d_plus, "D_minus": d_minus, "closeness": closeness}, index=frame.index)
    table["rank"] = table["closeness"].rank(ascending=False, method="min").astype(int)
    ideal = pd.DataFrame({"weight": w, "positive_ideal": best, "negative_ideal": worst,
                          "direction": np.where(is_negative, "cost", "benefit")},
                         index=pd.Index(columns, name="criterion"))
    return TopsisResult(table=table, ideal=ideal)
