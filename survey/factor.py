"""Exploratory factor analysis, KMO, Bartlett's test and parallel analysis for survey items.

Numbers follow R's psych::fa / psych::KMO / psych::cortest.bartlett / psych::fa.parallel and the
tables SPSS's FACTOR procedure prints (Total Variance Explained, Communalities, Pattern Matrix).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from survey.codebook import SurveyData
from survey.errors import SurveyAnalysisError
from survey.inputs import expand_items, scale_items, unpack
from survey.rotation import OBLIQUE, ROTATIONS, rotate

Missing = Literal["listwise", "pairwise"]
METHODS = ("pca", "paf", "minres", "ml")
METHOD_NAMES = {
    "pca": "Principal Component Analysis",
    "paf": "Principal Axis Factoring",
    "minres": "Minimum Residual (ULS)",
    "ml": "Maximum Likelihood",
}


class FactorAnalysisError(SurveyAnalysisError):
    """The data cannot be factor analysed as asked (and the message says why)."""


class HeywoodWarning(UserWarning):
    """An extraction communality reached or exceeded 1 (a Heywood case): an improper solution."""


class ConvergenceWarning(UserWarning):
    """An iterative estimate stopped at its iteration limit before converging."""


# ----------------------------------------------------------------------------- data checks


def item_data(
    data: pd.DataFrame | SurveyData,
    items: str | list[str] | None = None,
    *,
    missing: Missing = "listwise",
    min_items: int = 2,
    min_n: int | None = None,
    what: str = "this analysis",
) -> pd.DataFrame:
    """Numeric item columns ready for analysis (listwise-deleted when asked); never modifies data.

    Raises FactorAnalysisError naming the column for missing columns, non-numeric cells, constant
    items, too few items or too few respondents (`min_n`, default: more respondents than items).
    With a SurveyData, user-missing codes count as missing, a codebook scale name stands for its
    items and no items means every item of every codebook scale (never ids, demographics or
    completion times; every column when the codebook defines no scales).
    """
    if isinstance(data, SurveyData):
        data, book = unpack(data, what)
        items = expand_items(items, data, book, what)
        if items is None:
            items = scale_items(book) or None  # a codebook without scales: every column, as for a DataFrame
    elif isinstance(items, str):
        items = expand_items(items, data, None, what)
    if not isinstance(data, pd.DataFrame):
        raise FactorAnalysisError(f"{what} needs a pandas DataFrame, got {type(data).__name__}")
    if missing not in ("listwise", "pairwise"):
        raise FactorAnalysisError(f"missing must be 'listwise' or 'pairwise', got {missing!r}")
    items = list(data.columns) if items is None else list(items)
    absent = [item for item in items if item not in data.columns]
    if absent:
        raise FactorAnalysisError(f"columns {absent} are not in the data; available: {list(data.columns)[:30]}")
    if len(set(items)) != len(items):
        raise FactorAnalysisError(f"items are listed twice: {sorted({i for i in items if items.count(i) > 1})}")
    if len(items) < min_items:
        raise FactorAnalysisError(f"{what} needs at least {min_items} items, got {len(items)}: {items}")
    if len(data) == 0:
        raise FactorAnalysisError(f"{what}: no respondents (the data has no rows)")
    subset = data if items == list(data.columns) else data.reindex(columns=items)
    if all(pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype) for dtype in subset.dtypes):
        values = subset.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = np.column_stack([_numeric_column(subset[item], item).to_numpy() for item in items])
    infinite = np.isinf(values)
    if infinite.any():
        column = items[int(np.flatnonzero(infinite.any(axis=0))[0])]
        raise FactorAnalysisError(f"column {column!r} holds infinite values ({int(infinite.sum())} cells); "
                                  "recode them as missing (NaN) or fix the data first")
    answered = ~np.isnan(values)
    keep = answered.all(axis=1) if missing == "listwise" else answered.any(axis=1)
    if not keep.all():
        values = values[keep]
    if len(values) < 2:
        raise FactorAnalysisError(
            f"{what}: {'no respondents answer' if len(values) == 0 else 'only 1 respondent answers'} "
            f"{'all of' if missing == 'listwise' else 'any of'} the items {items}; at least 2 are needed"
        )
    if missing == "listwise":
        spread = values.std(axis=0, ddof=1)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            spread = np.nanstd(values, axis=0, ddof=1)
    constant = [item for item, sd in zip(items, spread, strict=True) if not sd > 0]
    if constant:
        raise FactorAnalysisError(f"items {constant} are constant (zero variance) after dropping missing values; remove them")
    frame = pd.DataFrame(values, columns=pd.Index(items), index=data.index[keep], copy=False)
    min_n = len(items) + 1 if min_n is None else min_n
    if len(frame) < min_n:
        raise FactorAnalysisError(
            f"{what} needs at least {min_n} respondents for {len(items)} items, but only "
            f"{len(frame)} are usable after {missing} deletion"
        )
    return frame


def _numeric_column(column: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return pd.Series(column.to_numpy(dtype=float, na_value=np.nan), index=column.index)
    converted = pd.to_numeric(column, errors="coerce")
    bad = column[converted.isna() & column.notna()]
    if len(bad):
        raise FactorAnalysisError(
            f"column {name!r} holds non-numeric cells, e.g. {bad.iloc[0]!r} in row {bad.index[0]!r}; "
            "recode it to numbers (or declare the codes as missing) first"
        )
    return converted.astype(float)


def correlation_matrix(frame: pd.DataFrame, missing: Missing = "listwise") -> np.ndarray:
    """Pearson correlations (pairwise-complete when missing='pairwise'); checks singularity."""
    if missing == "listwise":
        r = np.corrcoef(frame.to_numpy(dtype=float), rowvar=False)
    else:
        r = frame.corr(min_periods=2).to_numpy(dtype=float)
        if np.isnan(r).any():
            i, j = np.argwhere(np.isnan(r))[0]
            raise FactorAnalysisError(
                f"items {frame.columns[i]!r} and {frame.columns[j]!r} have too few respondents "
                "answering both to correlate them"
            )
    check_not_singular(r, list(frame.columns))
    return r


def check_not_singular(r: np.ndarray, items: list[str]) -> None:
    """Raise FactorAnalysisError naming the collinear items if r is (nearly) singular."""
    values, vectors = np.linalg.eigh(r)
    if values[0] > 1e-10 * max(values[-1], 1.0):
        return
    weights = np.abs(vectors[:, 0])
    involved = [items[i] for i in np.argsort(-weights) if weights[i] > 0.1]
    raise FactorAnalysisError(
        f"the correlation matrix is singular (smallest eigenvalue {values[0]:.2e}): items "
        f"{involved} are linearly dependent (one is a combination of the others, e.g. a total "
        "score or a duplicated item); drop one of them"
    )


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations, 1 - 1 / diag(R^-1) (Guttman; SPSS's initial communalities)."""
    return 1 - 1 / np.diag(np.linalg.inv(r))


# ----------------------------------------------------------------------------- KMO, Bartlett


@dataclass
class KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy.

    Attributes:
        overall: overall KMO (SPSS "Kaiser-Meyer-Olkin Measure of Sampling Adequacy").
        msa: per-item MSA (diagonal of SPSS's anti-image correlation matrix), indexed by item.
        n: respondents used.
    """

    overall: float
    msa: pd.Series
    n: int

    def to_frame(self) -> pd.DataFrame:
        """Per-item MSA with the overall KMO as the last row."""
        frame = self.msa.rename("MSA").to_frame()
        frame.loc["Overall KMO"] = self.overall
        return frame

    def summary(self) -> str:
        """Plain-text report."""
        return f"Kaiser-Meyer-Olkin MSA = {self.overall:.3f} (n = {self.n})\n" + self.msa.round(3).to_string()


def kmo(data: pd.DataFrame | SurveyData, items: str | list[str] | None = None, *, missing: Missing = "listwise") -> KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy (overall and per item).

    KMO = sum r_ij^2 / (sum r_ij^2 + sum q_ij^2) over i != j, where q_ij = -S_ij / sqrt(S_ii S_jj)
    are the partial (anti-image) correlations from S = R^-1; MSA_i restricts the sums to row i
    (Kaiser, 1970; Kaiser & Rice, 1974). Same as psych::KMO and SPSS. Checked against the SAQ data
    (Field, Discovering Statistics Using SPSS): KMO = .930.

    Example:
        >>> kmo(df).overall  # doctest: +SKIP
        0.93
    """
    frame = item_data(data, items, missing=missing, min_items=3, what="KMO")
    r = correlation_matrix(frame, missing)
    inverse = np.linalg.inv(r)
    scale = np.sqrt(np.diag(inverse))
    partial = -inverse / np.outer(scale, scale)
    off = ~np.eye(len(r), dtype=bool)
    r2 = np.where(off, r**2, 0.0)
    q2 = np.where(off, partial**2, 0.0)
    overall = r2.sum() / (r2.sum() + q2.sum())
    msa = r2.sum(axis=1) / (r2.sum(axis=1) + q2.sum(axis=1))
    return KMOResult(float(overall), pd.Series(msa, index=frame.columns, name="MSA"), len(frame))


@dataclass
class BartlettResult:
    """Bartlett's test of sphericity (H0: the correlation matrix is the identity).

    Attributes:
        chi2: approximate chi-square; df: degrees of freedom p(p-1)/2; p: p-value; n: respondents.
    """

    chi2: float
    df: int
    p: float
    n: int

    def to_frame(self) -> pd.DataFrame:
        """One-row table as SPSS prints it."""
        return pd.DataFrame({"chi2": [self.chi2], "df": [self.df], "p": [self.p], "n": [self.n]})

    def summary(self) -> str:
        """Plain-text report."""
        return f"Bartlett's test of sphericity: chi2({self.df}) = {self.chi2:.3f}, p = {self.p:.3g}, n = {self.n}"


def bartlett(data: pd.DataFrame | SurveyData, items: str | list[str] | None = None, *, missing: Missing = "listwise") -> BartlettResult:
    """Bartlett's (1950) test of sphericity, as SPSS's KMO and Bartlett's Test table prints it.

    chi2 = -(n - 1 - (2p + 5) / 6) ln|R| with df = p(p - 1) / 2 (psych::cortest.bartlett).
    Checked against the SAQ data (Field): chi2 = 19334.492, df = 253.

    Example:
        >>> bartlett(df).chi2  # doctest: +SKIP
        19334.49
    """
    frame = item_data(data, items, missing=missing, min_items=3, what="Bartlett's test")
    r = correlation_matrix(frame, missing)
    n, p = len(frame), r.shape[0]
    _, logdet = np.linalg.slogdet(r)
    chi2 = -(n - 1 - (2 * p + 5) / 6) * logdet
    df = p * (p - 1) // 2
    return BartlettResult(float(chi2), int(df), float(stats.chi2.sf(chi2, df)), n)


# ----------------------------------------------------------------------------- extraction


@dataclass
class _Extraction:
    loadings: np.ndarray
    iterations: int
    converged: bool


def _top_eigen(matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    values, vectors = np.linalg.eigh(matrix)
    order = np.argsort(values)[::-1]
    return values[order], vectors[:, order]


def _pca(r: np.ndarray, k: int) -> _Extraction:
    values, vectors = _top_eigen(r, k)
    return _Extraction(vectors[:, :k] * np.sqrt(np.maximum(values[:k], 0)), 0, True)


def _paf(r: np.ndarray, k: int, *, max_iter: int, tol: float) -> _Extraction:
    """Iterated principal axis factoring from SMC starting communalities (SPSS PAF, psych "pa")."""
    h2 = smc(r)
    reduced = r.copy()
    for iteration in range(1, max_iter + 1):
        np.fill_diagonal(reduced, h2)
        values, vectors = _top_eigen(reduced, k)
        loadings = vectors[:, :k] * np.sqrt(np.maximum(values[:k], 0))
        new_h2 = (loadings**2).sum(axis=1)
        change = np.max(np.abs(new_h2 - h2))
        h2 = new_h2
        if change < tol:
            return _Extraction(loadings, iteration, True)
    warnings.warn(
        f"principal axis factoring did not converge in {max_iter} iterations (largest change in a "
        f"communality {change:.2g} > {tol}); raise max_iter", ConvergenceWarning, stacklevel=3
    )
    return _Extraction(loadings, max_iter, False)


def _uls_objective(psi: np.ndarray, r: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """ULS residual sum of squares over psi and its gradient (Harman's minres, psych's fm='minres')."""
    values, vectors = np.linalg.eigh(r - np.diag(psi))
    rest_values, rest_vectors = values[:-k], vectors[:, :-k]
    f = float((rest_values**2).sum())
    gradient = -2 * (rest_vectors**2) @ rest_values
    return f, gradient


def _ml_objective(psi: np.ndarray, r: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """factanal's ML discrepancy over psi and its gradient (Lawley & Maxwell; R's FAfn/FAgr)."""
    scale = 1 / np.sqrt(psi)
    values, vectors = np.linalg.eigh(r * np.outer(scale, scale))
    values, vectors = values[::-1], vectors[:, ::-1]
    rest = values[k:]
    f = -float((np.log(rest) - rest).sum() - k + len(r))
    loadings = np.sqrt(psi)[:, None] * vectors[:, :k] * np.sqrt(np.maximum(values[:k] - 1, 0))
    g = (loadings**2).sum(axis=1) + psi - np.diag(r)
    return f, g / psi**2


def _ml_loadings(psi: np.ndarray, r: np.ndarray, k: int) -> np.ndarray:
    scale = 1 / np.sqrt(psi)
    values, vectors = _top_eigen(r * np.outer(scale, scale), k)
    return np.sqrt(psi)[:, None] * vectors[:, :k] * np.sqrt(np.maximum(values[:k] - 1, 0))


def _fit_psi(r: np.ndarray, k: int, method: str, *, max_iter: int, tol: float) -> _Extraction:
    """Minimise the minres or ML discrepancy over uniquenesses in [0.005, 1] (L-BFGS-B, as psych)."""
    if method == "ml":
        start = (1 - 0.5 * k / len(r)) / np.diag(np.linalg.inv(r))
        objective = _ml_objective
    else:
        start = 1 - smc(r)
        objective = _uls_objective
    start = np.clip(start, 0.005, 1.0)
    fit = optimize.minimize(
        objective, start, args=(r, k), jac=True, method="L-BFGS-B",
        bounds=[(0.005, 1.0)] * len(r),
        options={"maxiter": max(max_iter, 1000), "ftol": 1e-14, "gtol": tol * 1e-3},
    )
    if not fit.success:
        warnings.warn(f"{method} extraction did not converge: {fit.message}", ConvergenceWarning, stacklevel=3)
    psi = fit.x
    if method == "ml":
        loadings = _ml_loadings(psi, r, k)
    else:
        values, vectors = _top_eigen(r - np.diag(psi), k)
        loadings = vectors[:, :k] * np.sqrt(np.maximum(values[:k], 0))
    return _Extraction(loadings, int(fit.nit), bool(fit.success))


def _extract(r: np.ndarray, k: int, method: str, *, max_iter: int, tol: float) -> _Extraction:
    if method == "pca":
        out = _pca(r, k)
    elif method == "paf":
        out = _paf(r, k, max_iter=max_iter, tol=tol)
    else:
        out = _fit_psi(r, k, method, max_iter=max_iter, tol=tol)
    signs = np.where(out.loadings.sum(axis=0) < 0, -1.0, 1.0)
    out.loadings = out.loadings * signs
    return out


def _order_and_sign(loadings: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """psych's convention: factors by decreasing variance explained, column sums positive."""
    explained = np.diag(phi @ loadings.T @ loadings)
    order = np.argsort(-explained, kind="stable")
    loadings, phi = loadings[:, order], phi[np.ix_(order, order)]
    signs = np.where(loadings.sum(axis=0) < 0, -1.0, 1.0)
    return loadings * signs, phi * np.outer(signs, signs), order


# ----------------------------------------------------------------------------- EFA


@dataclass
class EFAResult:
    """An exploratory factor analysis (see `efa`).

    Attributes:
        method, rotation: extraction method and rotation; n_factors, n_obs: factors and respondents.
        eigenvalues: eigenvalues of the correlation matrix (psych's `e.values`, SPSS's initial).
        common_eigenvalues: eigenvalues of the reduced matrix R with communalities on the diagonal
            (psych's `values`).
        loadings: rotated loadings; for oblique rotations the pattern matrix.
        unrotated: loadings before rotation (SPSS's "Factor Matrix").
        structure: structure matrix (pattern @ phi) for oblique rotations, else None.
        phi: factor correlation matrix for oblique rotations, else None.
        communalities: DataFrame with "Initial" and "Extraction" (SPSS's Communalities table).
        uniquenesses: 1 - extraction communality.
        variance: SPSS's "Total Variance Explained" table.
        rotation_matrix: T with rotated = unrotated @ T (Kaiser-normalized rows when switched on).
        kaiser_normalize, missing: settings used; iterations / converged: extraction diagnostics.
    """

    method: str
    rotation: str
    n_factors: int
    n_obs: int
    missing: str
    kaiser_normalize: bool
    eigenvalues: pd.Series
    common_eigenvalues: pd.Series
    loadings: pd.DataFrame
    unrotated: pd.DataFrame
    structure: pd.DataFrame | None
    phi: pd.DataFrame | None
    communalities: pd.DataFrame
    uniquenesses: pd.Series
    variance: pd.DataFrame
    rotation_matrix: np.ndarray
    iterations: int
    converged: bool
    notes: list[str] = field(default_factory=list)
    heywood: list[str] = field(default_factory=list)  # items whose communality is >= 1

    @property
    def kaiser_n(self) -> int:
        """Number of eigenvalues of the correlation matrix above 1 (Kaiser-Guttman rule)."""
        return int((self.eigenvalues > 1).sum())

    def table(self, sort: bool = True, suppress: float = 0.3) -> pd.DataFrame:
        """Loadings as papers print them: items grouped by their main factor, small ones blanked.

        Items are ordered by the factor with their largest absolute loading, then by that loading
        (SPSS "Sorted by size"); loadings with |x| < suppress become NaN (blank cells, SPSS
        "Suppress small coefficients"). A last column h2 holds the extraction communality.
        """
        frame = self.loadings.copy()
        if sort:
            main = frame.abs().to_numpy().argmax(axis=1)
            size = frame.abs().to_numpy().max(axis=1)
            order = np.lexsort((-size, main))
            frame = frame.iloc[order]
        frame = frame.where(frame.abs() >= suppress)
        frame["h2"] = self.communalities.loc[frame.index, "Extraction"]
        return frame

    def to_frame(self) -> pd.DataFrame:
        """Loadings with communalities (h2) and uniquenesses (u2), one row per item."""
        frame = self.loadings.copy()
        frame["h2"] = self.communalities["Extraction"]
        frame["u2"] = self.uniquenesses
        return frame

    def summary(self) -> str:
        """Plain-text report: method, variance explained, sorted loadings and phi."""
        matrix = "Pattern matrix" if self.phi is not None else "Loadings"
        lines = [
            f"Exploratory factor analysis: {METHOD_NAMES[self.method]}, rotation {self.rotation}"
            f"{' with Kaiser normalization' if self.kaiser_normalize and self.rotation != 'none' else ''}",
            f"n = {self.n_obs} ({self.missing} deletion), {len(self.loadings)} items, "
            f"{self.n_factors} factors (eigenvalues > 1: {self.kaiser_n})",
            "",
            "Total Variance Explained",
            self.variance.head(max(self.n_factors, self.kaiser_n)).round(3).to_string(),
            "",
            f"{matrix} (sorted, |loading| < .30 blank)",
            self.table().round(3).to_string(na_rep=""),
        ]
        if self.phi is not None:
            lines += ["", "Factor correlations (phi)", self.phi.round(3).to_string()]
        lines += self.notes
        return "\n".join(lines)

    def scree_plot(self, ax: Any = None) -> Any:
        """Scree plot of the correlation-matrix eigenvalues with the eigenvalue = 1 line.

        Builds a matplotlib Figure without pyplot when no axes are given (safe on Agg/headless).
        Returns the Figure.
        """
        if ax is None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=(6, 4))
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        x = np.arange(1, len(self.eigenvalues) + 1)
        ax.plot(x, self.eigenvalues.to_numpy(), marker="o")
        ax.axhline(1.0, linestyle="--", linewidth=1, color="grey")
        ax.set_xlabel("Factor number")
        ax.set_ylabel("Eigenvalue")
        ax.set_title("Scree plot")
        ax.set_xticks(x)
        return fig


def efa(
    data: pd.DataFrame | SurveyData,
    n_factors: int | None = None,
    method: Literal["pca", "paf", "minres", "ml"] = "minres",
    rotation: Literal["none", "varimax", "quartimax", "equamax", "promax", "oblimin"] = "varimax",
    kaiser_normalize: bool = True,
    *,
    items: str | list[str] | None = None,
    missing: Missing = "listwise",
    power: int = 4,
    gamma: float = 0.0,
    max_iter: int = 25,
    tol: float = 1e-3,
    rotation_tol: float = 1e-10,
) -> EFAResult:
    """Exploratory factor analysis of Likert items (SPSS FACTOR / psych::fa).

    Extraction: "pca" principal components (loadings = eigenvectors * sqrt(eigenvalues));
    "paf" iterated principal axes from SMC communalities, stopping when no communality changes
    by more than `tol` or after `max_iter` iterations (SPSS: .001 and 25); "minres" minimises the
    residual sum of squares sum_{i!=j} (r_ij - (LL')_ij)^2 over uniquenesses in [.005, 1]
    starting from 1 - SMC (psych fm="minres"); "ml" minimises factanal's discrepancy
    -sum_{j>k} (log e_j - e_j) - k + p of Psi^-1/2 R Psi^-1/2 (psych fm="ml").
    Rotation: varimax (Kaiser, 1958), quartimax, equamax (Crawford-Ferguson kappa = k / 2p),
    promax (power 4 after varimax, the target built from Kaiser-normalized loadings, as psych's
    default), oblimin (gamma = 0, GPArotation's GPFoblq). For oblique rotations the "Rotation
    Total" column holds the column sums of squares of the structure matrix, as SPSS prints. Factors are ordered by variance
    explained and signed so each column sums positive (psych). Loadings were checked within .001
    of R psych 2.x on the factor_analyzer reference files (minres and ML; none, varimax, promax).

    Note psych calls GPArotation (oblimin, quartimax, equamax) without Kaiser normalization while
    SPSS normalizes; pass kaiser_normalize=False to reproduce psych there.

    Args:
        data: respondents x items DataFrame, or a SurveyData (user-missing codes count as missing).
        n_factors: factors to extract; None uses the Kaiser rule (eigenvalues > 1).
        method, rotation, kaiser_normalize: see above. kaiser_normalize=True (default) is SPSS's
            FACTOR default; False is psych's behaviour for oblimin, quartimax and equamax.
        items: item columns or codebook scale names. Default: every column of a DataFrame; for a
            SurveyData every item of its codebook scales (not ids, demographics or durations).
            Reverse-keyed items enter as answered, so they load negatively.
        missing: "listwise" (default) or "pairwise" deletion for the correlation matrix.
        power: promax power; gamma: oblimin gamma; max_iter, tol: PAF iteration control.
        rotation_tol: rotation convergence (relative varimax criterion change, or projected
            gradient norm for the gradient projection rotations). The default iterates to the
            optimum, as SPSS's printed values show; R's stats::varimax (used by psych for varimax
            and promax) stops at 1e-5, which can leave loadings up to about .003 away — pass
            rotation_tol=1e-5 to reproduce psych digit for digit.

    Returns:
        EFAResult.

    Example:
        >>> res = efa(df, 4, method="paf", rotation="oblimin")  # doctest: +SKIP
        >>> res.table(suppress=0.3)  # doctest: +SKIP
    """
    if method not in METHODS:
        raise FactorAnalysisError(f"method {method!r} is not one of {METHODS}")
    if rotation not in ROTATIONS:
        raise FactorAnalysisError(f"rotation {rotation!r} is not one of {ROTATIONS}")
    frame = item_data(data, items, missing=missing, min_items=3, what="factor analysis")
    r = correlation_matrix(frame, missing)
    p = r.shape[0]
    eigenvalues = np.sort(np.linalg.eigvalsh(r))[::-1]
    k = int((eigenvalues > 1).sum()) if n_factors is None else int(n_factors)
    if not 1 <= k < p:
        raise FactorAnalysisError(f"n_factors must be between 1 and {p - 1} for {p} items, got {k}")
    if method in ("minres", "ml", "paf") and (p - k) ** 2 < p + k:
        warnings.warn(
            f"{k} factors for {p} items leave negative degrees of freedom; the solution is not identified",
            UserWarning, stacklevel=2,
        )
    extraction = _extract(r, k, method, max_iter=max_iter, tol=tol)
    rotated = rotate(extraction.loadings, rotation, kaiser_normalize=kaiser_normalize, power=power,
                     gamma=gamma, tol=rotation_tol, max_iter=1000)
    if not rotated.converged:
        warnings.warn(f"{rotation} rotation did not converge", ConvergenceWarning, stacklevel=2)
    oblique = rotation in OBLIQUE
    pattern, phi, order = _order_and_sign(rotated.loadings, rotated.phi)
    return _build_result(frame, r, eigenvalues, extraction, rotated, pattern, phi, order,
                         method=method, rotation=rotation, oblique=oblique,
                         kaiser_normalize=kaiser_normalize, missing=missing)


def _build_result(frame, r, eigenvalues, extraction, rotated, pattern, phi, order, *, method,
                  rotation, oblique, kaiser_normalize, missing) -> EFAResult:
    items = list(frame.columns)
    k = pattern.shape[1]
    prefix = "PC" if method == "pca" else "F"
    names = [f"{prefix}{j + 1}" for j in range(k)]
    unrotated = extraction.loadings
    h2 = (unrotated**2).sum(axis=1)
    initial = np.ones(len(items)) if method == "pca" else smc(r)
    reduced = r.copy()
    np.fill_diagonal(reduced, h2)
    structure = pattern @ phi if oblique else None
    signs = np.sign(pattern.sum(axis=0)) * np.sign(rotated.loadings[:, order].sum(axis=0))
    t = rotated.rotation_matrix[:, order] * np.where(signs == 0, 1.0, signs)
    variance = _variance_table(eigenvalues, unrotated, structure if oblique else pattern, oblique)

    def table(matrix: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(matrix, index=items, columns=names)

    notes = []
    # ML extraction bounds uniquenesses at .005 (psych's lower bound), so h2 = .995 is the boundary
    heywood = [item for item, value in zip(items, h2, strict=True) if value >= 0.995 - 1e-6]
    if heywood and method != "pca":
        detail = ", ".join(f"{item} (h2 = {value:.3f})" for item, value in zip(items, h2, strict=True) if item in heywood)
        notes.append(f"Heywood case: communality at or above its bound (.995) for {detail}; the solution is improper")
        warnings.warn(f"efa: Heywood case — communality at or above .995 for {detail}; try fewer factors, another "
                      "extraction method, or drop the item", HeywoodWarning, stacklevel=3)
    return EFAResult(
        notes=notes, heywood=heywood if method != "pca" else [],
        method=method, rotation=rotation, n_factors=k, n_obs=len(frame), missing=missing,
        kaiser_normalize=kaiser_normalize,
        eigenvalues=pd.Series(eigenvalues, index=range(1, len(items) + 1), name="eigenvalue"),
        common_eigenvalues=pd.Series(np.sort(np.linalg.eigvalsh(reduced))[::-1],
                                     index=range(1, len(items) + 1), name="eigenvalue"),
        loadings=table(pattern), unrotated=table(unrotated),
        structure=table(structure) if oblique else None,
        phi=pd.DataFrame(phi, index=names, columns=names) if oblique else None,
        communalities=pd.DataFrame({"Initial": initial, "Extraction": h2}, index=items),
        uniquenesses=pd.Series(1 - h2, index=items, name="u2"),
        variance=variance, rotation_matrix=t,
        iterations=extraction.iterations, converged=extraction.converged and rotated.converged,
    )


def _variance_table(eigenvalues: np.ndarray, unrotated: np.ndarray, rotated: np.ndarray, oblique: bool) -> pd.DataFrame:
    """SPSS's Total Variance Explained; rows beyond the extracted factors are blank (NaN) there."""
    p, k = unrotated.shape[0], unrotated.shape[1]
    table = pd.DataFrame(index=pd.RangeIndex(1, p + 1, name="Factor"))
    table["Initial Total"] = eigenvalues
    table["Initial % of Variance"] = eigenvalues / p * 100
    table["Initial Cumulative %"] = np.cumsum(eigenvalues) / p * 100
    extraction = np.full(p, np.nan)
    extraction[:k] = (unrotated**2).sum(axis=0)
    table["Extraction Total"] = extraction
    table["Extraction % of Variance"] = extraction / p * 100
    table["Extraction Cumulative %"] = np.cumsum(extraction) / p * 100
    rotation = np.full(p, np.nan)
    rotation[:k] = (rotated**2).sum(axis=0)
    table["Rotation Total"] = rotation
    if not oblique:
        table["Rotation % of Variance"] = rotation / p * 100
        table["Rotation Cumulative %"] = np.cumsum(rotation) / p * 100
    return table


# ----------------------------------------------------------------------------- parallel analysis


@dataclass
class ParallelResult:
    """Horn's parallel analysis (see `parallel_analysis`).

    Attributes:
        table: per factor number: observed and random (mean and quantile) eigenvalues for
            components ("pc") and common factors ("fa").
        n_factors, n_components: suggested numbers (leading observed values above the random ones).
        statistic: "mean" or the quantile used for the comparison; n_iter, seed: simulation settings.
    """

    table: pd.DataFrame
    n_factors: int
    n_components: int
    statistic: str
    n_iter: int
    seed: int | None

    def to_frame(self) -> pd.DataFrame:
        """The eigenvalue table."""
        return self.table.copy()

    def summary(self) -> str:
        """Plain-text report."""
        return (
            f"Parallel analysis ({self.n_iter} random data sets, compared with the {self.statistic}): "
            f"{self.n_factors} factors and {self.n_components} components\n" + self.table.round(3).to_string()
        )


def _fa_values(r: np.ndarray) -> np.ndarray:
    """Eigenvalues of R with one-factor minres communalities on the diagonal (psych fa.parallel)."""
    loadings = _fit_psi(r, 1, "minres", max_iter=1000, tol=1e-6).loadings
    reduced = r.copy()
    np.fill_diagonal(reduced, (loadings**2).sum(axis=1))
    return np.sort(np.linalg.eigvalsh(reduced))[::-1]


def parallel_analysis(
    data: pd.DataFrame | SurveyData,
    items: str | list[str] | None = None,
    *,
    n_iter: int = 20,
    seed: int | None = None,
    quantile: float | None = None,
    missing: Missing = "listwise",
) -> ParallelResult:
    """Horn's (1965) parallel analysis, in the manner of psych::fa.parallel.

    Observed eigenvalues of R (components) and of R with one-factor minres communalities on the
    diagonal (factors) are compared with those of `n_iter` normal random data sets of the same
    n x p, generated by numpy.random.default_rng(seed). The suggested number is the count of
    leading observed eigenvalues above the random mean (or the given quantile, e.g. 0.95).

    Example:
        >>> parallel_analysis(df, n_iter=20, seed=1).n_factors  # doctest: +SKIP
        4
    """
    frame = item_data(data, items, missing=missing, min_items=3, what="parallel analysis")
    r = correlation_matrix(frame, missing)
    n, p = frame.shape
    rng = np.random.default_rng(seed)
    sim_pc, sim_fa = np.empty((n_iter, p)), np.empty((n_iter, p))
    for i in range(n_iter):
        rs = np.corrcoef(rng.standard_normal((n, p)), rowvar=False)
        sim_pc[i] = np.sort(np.linalg.eigvalsh(rs))[::-1]
        sim_fa[i] = _fa_values(rs)
    pick = (lambda x: x.mean(axis=0)) if quantile is None else (lambda x: np.quantile(x, quantile, axis=0))
    observed_pc, observed_fa = np.sort(np.linalg.eigvalsh(r))[::-1], _fa_values(r)
    table = pd.DataFrame(
        {
            "observed pc": observed_pc, "random pc mean": sim_pc.mean(axis=0),
            "observed fa": observed_fa, "random fa mean": sim_fa.mean(axis=0),
        },
        index=pd.RangeIndex(1, p + 1, name="Factor"),
    )
    if quantile is not None:
        table[f"random pc q{quantile:g}"] = pick(sim_pc)
        table[f"random fa q{quantile:g}"] = pick(sim_fa)

    def leading(observed: np.ndarray, random: np.ndarray) -> int:
        below = np.flatnonzero(observed <= random)
        return int(below[0]) if len(below) else p

    statistic = "mean" if quantile is None else f"{quantile:g} quantile"
    return ParallelResult(table, leading(observed_fa, pick(sim_fa)), leading(observed_pc, pick(sim_pc)),
                          statistic, n_iter, seed)
