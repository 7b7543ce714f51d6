"""Regression for questionnaire data: OLS (SPSS REGRESSION), binary logistic (SPSS LOGISTIC
REGRESSION) and proportional-odds ordinal regression (SPSS PLUM / R MASS::polr).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import special, stats

from survey.codebook import SurveyData
from survey.errors import SurveyAnalysisError, SurveyAnalysisWarning
from survey.inputs import nominal_labelled, unpack

CONSTANT = "(Constant)"
MAX_LEVELS = 30
Reference = Literal["first", "last"] | dict[str, object]


class ConvergenceWarning(SurveyAnalysisWarning):
    """The maximum-likelihood iterations stopped before converging."""


class SeparationWarning(SurveyAnalysisWarning):
    """Complete or quasi-complete separation: some estimates run off to infinity."""


# ----------------------------------------------------------------------------- input checks


def require_frame(data: object, where: str) -> pd.DataFrame:
    """`data` itself if it is a DataFrame, else a SurveyAnalysisError."""
    if not isinstance(data, pd.DataFrame):
        raise SurveyAnalysisError(f"{where} needs a pandas DataFrame, got {type(data).__name__}")
    return data


def require_columns(data: pd.DataFrame, names: Sequence[str], where: str) -> None:
    """Raise if any of `names` is not a column of `data` (naming it and what is available)."""
    absent = [name for name in names if name not in data.columns]
    if absent:
        raise SurveyAnalysisError(
            f"{where}: columns {absent} are not in the data; available: {list(map(str, data.columns))[:30]}"
        )
    repeated = sorted({name for name in names if list(names).count(name) > 1})
    if repeated:
        raise SurveyAnalysisError(f"{where}: columns {repeated} are named more than once")


def numeric_column(values: pd.Series, name: str, where: str) -> pd.Series:
    """`values` as float, or an error naming the column and a value that is not a number."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    if pd.api.types.is_numeric_dtype(values):
        return _finite_column(values.astype(float), name, where)
    converted = pd.to_numeric(values, errors="coerce")
    bad = values[converted.isna() & values.notna()]
    if len(bad):
        raise SurveyAnalysisError(
            f"{where}: column {name!r} must be numeric; it holds {bad.iloc[0]!r} "
            f"({len(bad)} non-numeric values)"
        )
    return _finite_column(converted.astype(float), name, where)


def _finite_column(values: pd.Series, name: str, where: str) -> pd.Series:
    infinite = np.isinf(values)
    if infinite.any():
        raise SurveyAnalysisError(f"{where}: column {name!r} holds infinite values "
                                  f"({int(infinite.sum())} cells); recode them as missing")
    return values


def _is_categorical(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values):
        return False
    if isinstance(values.dtype, pd.CategoricalDtype):
        return True
    return not pd.api.types.is_numeric_dtype(values)


def _levels(values: pd.Series) -> list[object]:
    """Levels in their natural order: category order, else sorted values."""
    present = values.dropna()
    if isinstance(values.dtype, pd.CategoricalDtype):
        seen = set(present.unique())
        return [level for level in values.cat.categories if level in seen]
    unique = [v.item() if isinstance(v, np.generic) else v for v in present.unique()]
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=str)


# ----------------------------------------------------------------------------- design matrix


@dataclass
class Design:
    """Outcome, dummy-coded predictors and frequency weights after listwise deletion."""

    y: pd.Series
    X: pd.DataFrame
    terms: dict[str, list[str]]
    references: dict[str, object]
    weights: np.ndarray
    n_dropped: int


def _reference_level(name: str, levels: list[object], reference: Reference) -> object:
    if isinstance(reference, dict):
        if name not in reference:
            return levels[0]
        wanted = reference[name]
        for level in levels:
            if level == wanted or str(level) == str(wanted):
                return level
        raise SurveyAnalysisError(
            f"reference level {wanted!r} of predictor {name!r} is not among its values {levels}"
        )
    if reference not in ("first", "last"):
        raise SurveyAnalysisError(f"reference must be 'first', 'last' or a dict, got {reference!r}")
    return levels[0] if reference == "first" else levels[-1]


def _code_predictor(values: pd.Series, name: str, reference: Reference, where: str):
    """Columns for one predictor: itself if numeric, k-1 indicator columns if categorical."""
    if pd.api.types.is_datetime64_any_dtype(values) or isinstance(values.dtype, pd.PeriodDtype):
        raise SurveyAnalysisError(f"{where}: predictor {name!r} holds dates; convert it to a number first")
    if not _is_categorical(values):
        return pd.DataFrame({name: _finite_column(values.astype(float), name, where)}), [name], None
    levels = _levels(values)
    if len(levels) > MAX_LEVELS:
        raise SurveyAnalysisError(
            f"{where}: predictor {name!r} has {len(levels)} distinct text values and cannot be "
            f"dummy-coded (at most {MAX_LEVELS} levels); if it holds numbers stored as text, convert "
            "it with pd.to_numeric; if it is free text or an identifier, leave it out"
        )
    ref = _reference_level(name, levels, reference)
    text = values.astype(object)
    columns = {f"{name}[{level}]": (text == level).astype(float) for level in levels if level != ref}
    return pd.DataFrame(columns, index=values.index), list(columns), ref


def _codebook_predictors(data: object, predictors: Sequence[str], where: str) -> tuple[object, list[str]]:
    """The DataFrame of `data`; with a SurveyData, its labelled nominal predictors become categories.

    User-missing codes count as missing and codebook scale names give scale scores. A nominal
    predictor with value labels is replaced by its
    labels as an ordered category (code order), so `build_design` dummy-codes it.
    """
    if not isinstance(data, SurveyData):
        return data, []
    frame, book = unpack(data, where, scores=True)
    converted = {}
    for name in dict.fromkeys(predictors):
        if name in frame.columns and nominal_labelled(book, name) and pd.api.types.is_numeric_dtype(frame[name]):
            values = frame[name]
            codes = sorted({*values.dropna().unique(), *book[name].value_labels}, key=_code_key)
            labels = list(dict.fromkeys(book.value_label(name, code) for code in codes))
            converted[name] = pd.Categorical(values.map(lambda v, n=name: np.nan if pd.isna(v)
                                                        else book.value_label(n, v)), categories=labels)
    if converted:
        frame = frame.assign(**converted)
    return frame, []


def _code_key(code: object) -> tuple[int, float | str]:
    try:
        return (0, float(code))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return (1, str(code))


def _reference_notes(design: Design, reference: Reference) -> list[str]:
    """One sentence per dummy-coded predictor naming its reference category."""
    how = ("reference chosen by name" if isinstance(reference, dict) else
           "last category, as SPSS" if reference == "last" else "first category, as R's treatment contrasts")
    return [f"{name} is dummy-coded against reference category {level} ({how})"
            for name, level in design.references.items()]


def build_design(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    where: str,
    reference: Reference = "last",
    weights: str | None = None,
) -> Design:
    """Listwise-complete outcome and design matrix (no constant), checked for collinearity."""
    require_frame(data, where)
    if isinstance(predictors, str):
        predictors = [predictors]
    predictors = list(predictors)
    if not predictors:
        raise SurveyAnalysisError(f"{where}: give at least one predictor")
    names = [outcome, *predictors] + ([weights] if weights else [])
    require_columns(data, names, where)
    frame = data.loc[:, names].dropna()
    if weights:
        w = numeric_column(frame[weights], weights, where)
        if (w < 0).any():
            raise SurveyAnalysisError(f"{where}: weights column {weights!r} has negative values")
        frame = frame.loc[w > 0]
        w = w.loc[frame.index].to_numpy()
    else:
        w = np.ones(len(frame))
    if len(frame) == 0:
        raise SurveyAnalysisError(f"{where}: no case has all of {names} answered")
    if pd.api.types.is_numeric_dtype(frame[outcome]):  # text outcomes are ordinal categories
        _finite_column(frame[outcome].astype(float), outcome, where)
    blocks, terms, references = [], {}, {}
    for name in predictors:
        block, cols, ref = _code_predictor(frame[name], name, reference, where)
        blocks.append(block)
        terms[name] = cols
        if ref is not None:
            references[name] = ref
    X = pd.concat(blocks, axis=1)
    check_collinearity(X, w, where)
    return Design(frame[outcome], X, terms, references, w, len(data) - len(frame))


def check_collinearity(X: pd.DataFrame, weights: np.ndarray, where: str) -> None:
    """Raise naming the first column that is constant or a linear combination of earlier ones."""
    sw = np.sqrt(weights)[:, None]
    mean = np.average(X.to_numpy(), axis=0, weights=weights)
    centered = (X.to_numpy() - mean) * sw
    for k, name in enumerate(X.columns):
        target = centered[:, k]
        total = float(target @ target)
        if total <= 1e-12 * max(1.0, float(np.abs(X.iloc[:, k]).max()) ** 2) * len(target):
            raise SurveyAnalysisError(
                f"{where}: predictor {name!r} has the same value for every case; it cannot be estimated"
            )
        if k == 0:
            continue
        coef, *_ = np.linalg.lstsq(centered[:, :k], target, rcond=None)
        residual = target - centered[:, :k] @ coef
        if float(residual @ residual) / total < 1e-10:
            scale = np.sqrt((centered[:, :k] ** 2).sum(axis=0) / total)
            partners = [str(X.columns[i]) for i in range(k) if abs(coef[i]) * scale[i] > 1e-6]
            raise SurveyAnalysisError(
                f"{where}: predictor {name!r} is perfectly collinear with {partners} "
                "(it is an exact linear combination of them); drop one of them"
            )


def _steps(predictors: Sequence[str] | None, blocks: Sequence[Sequence[str]] | None) -> list[list[str]]:
    """Cumulative predictor lists, one per hierarchical step."""
    if blocks is None:
        if predictors is None:
            raise SurveyAnalysisError("ols: give predictors or blocks")
        return [[predictors] if isinstance(predictors, str) else list(predictors)]
    steps, entered = [], []
    for block in blocks:
        block = [block] if isinstance(block, str) else list(block)
        if not block:
            raise SurveyAnalysisError("ols: every block needs at least one predictor")
        again = [name for name in block if name in entered]
        if again:
            raise SurveyAnalysisError(f"ols: predictors {again} appear in more than one block")
        entered = entered + block
        steps.append(list(entered))
    if predictors is not None:
        given = [predictors] if isinstance(predictors, str) else list(predictors)
        if sorted(given) != sorted(entered):
            raise SurveyAnalysisError(
                f"ols: predictors {given} differ from the predictors in the blocks {entered}; "
                "pass predictors=None when blocks are given"
            )
    return steps


# ----------------------------------------------------------------------------- OLS


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


# ----------------------------------------------------------------------------- binary logistic


@dataclass
class LogisticResult:
    """Binary logistic regression as SPSS LOGISTIC REGRESSION reports it.

    Attributes:
        coefficients: B, SE, Wald, df, p, Exp(B), CI_low, CI_high (95% CI of Exp(B)); predictors
            first, "(Constant)" last as in SPSS's "Variables in the Equation".
        term_tests: joint Wald test (Wald, df, p) of each dummy-coded predictor.
        minus2ll, minus2ll_null: -2 log-likelihood of the model and of the constant-only model.
        chi2, df, p: omnibus test of model coefficients (likelihood ratio).
        cox_snell_r2, nagelkerke_r2: pseudo R-squares.
        hosmer_lemeshow: the 2 x g table of observed and expected counts; hl_chi2, hl_df, hl_p.
        classification: observed x predicted counts at the cut value with percentage correct.
        event: the outcome value coded 1; n: cases used; converged, iterations.
    """

    outcome: str
    event: object
    coefficients: pd.DataFrame
    term_tests: pd.DataFrame
    minus2ll: float
    minus2ll_null: float
    chi2: float
    df: int
    p: float
    cox_snell_r2: float
    nagelkerke_r2: float
    hosmer_lemeshow: pd.DataFrame
    hl_chi2: float
    hl_df: int
    hl_p: float
    classification: pd.DataFrame
    n: int
    converged: bool
    iterations: int
    references: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The "Variables in the Equation" table."""
        return self.coefficients.copy()

    def summary(self) -> str:
        """Omnibus test, model summary, Hosmer-Lemeshow test, classification and coefficients."""
        head = (
            f"Binary logistic regression of {self.outcome} (event = {self.event!r}, n = {self.n})\n"
            f"Omnibus chi2({self.df}) = {self.chi2:.3f}, p = {self.p:.4g}\n"
            f"-2LL = {self.minus2ll:.3f}, Cox & Snell R2 = {self.cox_snell_r2:.3f}, "
            f"Nagelkerke R2 = {self.nagelkerke_r2:.3f}\n"
            f"Hosmer-Lemeshow chi2({self.hl_df}) = {self.hl_chi2:.3f}, p = {self.hl_p:.4g}"
        ) + "".join(f"\n{note}" for note in self.notes)
        return "\n\n".join(
            [head, self.classification.round(1).to_string(), self.coefficients.round(4).to_string()]
        )


def _binary_outcome(values: pd.Series, name: str, event: object | None) -> tuple[np.ndarray, object, object]:
    levels = _levels(values)
    if len(levels) < 2:
        raise SurveyAnalysisError(
            f"logistic: outcome {name!r} has only one category ({levels[0] if levels else 'none'}); "
            "a binary outcome needs two"
        )
    if len(levels) > 2:
        raise SurveyAnalysisError(
            f"logistic: outcome {name!r} has {len(levels)} categories {levels[:10]}; binary logistic "
            "needs exactly two (use ordinal_regression for ordered categories)"
        )
    if event is None:
        event = levels[1]
    matches = [level for level in levels if level == event or str(level) == str(event)]
    if not matches:
        raise SurveyAnalysisError(f"logistic: event {event!r} is not one of the outcome's values {levels}")
    event = matches[0]
    other = levels[0] if levels[1] == event else levels[1]
    return (values.astype(object) == event).to_numpy(dtype=float), event, other


def _fit_logit(y: np.ndarray, X: np.ndarray, max_iter: int = 25) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """Newton-Raphson maximum likelihood; returns coefficients, covariance, converged, iterations."""
    beta = np.zeros(X.shape[1])
    beta[0] = special.logit(y.mean())
    converged, iterations = False, 0
    while iterations < max_iter:
        iterations += 1
        prob = special.expit(X @ beta)
        info = X.T @ (X * (prob * (1 - prob))[:, None])
        try:
            step = np.linalg.solve(info, X.T @ (y - prob))
        except np.linalg.LinAlgError:
            break
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10 * (1 + np.max(np.abs(beta))):
            converged = True
            break
    prob = special.expit(X @ beta)
    info = X.T @ (X * (prob * (1 - prob))[:, None])
    return beta, np.linalg.pinv(info), converged, iterations


def _log_lik_binary(y: np.ndarray, prob: np.ndarray) -> float:
    return float(np.sum(special.xlogy(y, prob) + special.xlogy(1 - y, 1 - prob)))


def hosmer_lemeshow(y: np.ndarray, prob: np.ndarray, groups: int = 10) -> tuple[pd.DataFrame, float, int, float]:
    """Hosmer-Lemeshow deciles of risk; tied predicted probabilities are never split.

    Cases are sorted by predicted probability; a run of tied probabilities goes to the group in
    which its last case falls (group g holds cumulative counts in ((g-1)N/G, gN/G]), so fewer
    than G groups may result, as in SPSS. chi2 = sum over groups and both outcomes of
    (O - E)^2 / E, df = groups - 2.
    """
    order = np.argsort(prob, kind="mergesort")
    p_sorted, y_sorted = prob[order], y[order]
    n = len(prob)
    _, first = np.unique(np.round(p_sorted, 12), return_index=True)
    ends = np.r_[first[1:], n]
    group = np.empty(n, dtype=int)
    for start, end in zip(first, ends, strict=True):
        group[start:end] = min(groups, int(np.ceil(end * groups / n - 1e-9)))
    frame = pd.DataFrame({"group": group, "y": y_sorted, "p": p_sorted})
    table = frame.groupby("group").agg(n=("y", "size"), observed_1=("y", "sum"), expected_1=("p", "sum"))
    table["observed_0"] = table["n"] - table["observed_1"]
    table["expected_0"] = table["n"] - table["expected_1"]
    table.index = pd.RangeIndex(1, len(table) + 1, name="group")
    chi2 = float(
        ((table["observed_1"] - table["expected_1"]) ** 2 / table["expected_1"]).sum()
        + ((table["observed_0"] - table["expected_0"]) ** 2 / table["expected_0"]).sum()
    )
    df = len(table) - 2
    p = float(stats.chi2.sf(chi2, df)) if df > 0 else float("nan")
    return table, chi2, df, p


def _classification(y: np.ndarray, prob: np.ndarray, cut: float, event: object, other: object) -> pd.DataFrame:
    predicted = prob >= cut
    counts = np.array(
        [[np.sum((y == 0) & ~predicted), np.sum((y == 0) & predicted)],
         [np.sum((y == 1) & ~predicted), np.sum((y == 1) & predicted)]]
    )
    correct = [100 * counts[0, 0] / max(counts[0].sum(), 1), 100 * counts[1, 1] / max(counts[1].sum(), 1)]
    table = pd.DataFrame(counts, index=[str(other), str(event)], columns=[f"pred {other}", f"pred {event}"])
    table["percent_correct"] = correct
    overall = 100 * (counts[0, 0] + counts[1, 1]) / counts.sum()
    table.loc["Overall"] = [np.nan, np.nan, overall]
    table.index.name = "observed"
    return table


def _wald_terms(beta: np.ndarray, cov: np.ndarray, columns: list[str], terms: dict[str, list[str]]) -> pd.DataFrame:
    rows = {}
    for name, cols in terms.items():
        idx = [columns.index(col) for col in cols]
        b, v = beta[idx], cov[np.ix_(idx, idx)]
        wald = float(b @ np.linalg.solve(v, b))
        rows[name] = {"Wald": wald, "df": len(idx), "p": float(stats.chi2.sf(wald, len(idx)))}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("predictor")


def logistic(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    event: object | None = None,
    reference: Reference = "last",
    cut: float = 0.5,
    hl_groups: int = 10,
) -> LogisticResult:
    """Binary logistic regression with SPSS's tables.

    Maximum likelihood by Newton-Raphson. Wald = (B / SE)^2 on 1 df; Exp(B) with the 95% CI
    exp(B -/+ 1.96 SE). Omnibus chi2 = -2LL(constant only) - (-2LL(model)) on k df. Cox & Snell
    R2 = 1 - exp(-chi2 / n); Nagelkerke R2 = Cox & Snell / (1 - exp(-(-2LL(constant only)) / n)).
    Hosmer-Lemeshow on deciles of predicted risk (ties kept together, df = groups - 2) and the
    classification table at ``cut`` (a case is predicted as the event when p >= cut).

    Checked against R ``glm(GRADE ~ GPA + TUCE + PSI, binomial)`` and Stata's ``logit`` on
    Spector and Mazzeo's data (tests/survey/test_regression.py).

    Args:
        data: one row per respondent.
        outcome: a column with exactly two values.
        predictors: predictor columns; text or category columns are dummy-coded.
        event: the outcome value coded 1 (default: the second level, i.e. the larger code,
            as SPSS's internal coding).
        reference: reference level of categorical predictors ("first", "last" or a dict).
        cut: classification cut value.
        hl_groups: number of Hosmer-Lemeshow groups.

    Returns:
        LogisticResult with `coefficients`, `chi2`, `df`, `p`, `minus2ll`, `cox_snell_r2`,
        `nagelkerke_r2`, `hl_chi2`, `classification` and `summary()`.

    Warns:
        SeparationWarning: predicted probabilities of 0 or 1 (complete or quasi-complete
            separation); ConvergenceWarning: no convergence within 25 iterations.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [0, 0, 1, 0, 1, 1, 0, 1], "x": [1, 2, 3, 4, 5, 6, 2.5, 3.5]})
        >>> float(round(logistic(df, "y", ["x"]).coefficients.loc["x", "B"], 3))
        1.468
    """
    data, notes = _codebook_predictors(data, [predictors] if isinstance(predictors, str) else predictors, "logistic")
    design = build_design(data, outcome, predictors, where="logistic", reference=reference)
    notes += _reference_notes(design, reference)
    y, event, other = _binary_outcome(design.y, outcome, event)
    columns = list(design.X.columns)
    X = np.column_stack([np.ones(len(y)), design.X.to_numpy()])
    beta, cov, converged, iterations = _fit_logit(y, X)
    prob = special.expit(X @ beta)
    _warn_separation(prob, y, converged, iterations, columns)
    n, k = len(y), len(columns)
    ll = _log_lik_binary(y, prob)
    ll0 = _log_lik_binary(y, np.full(n, y.mean()))
    chi2 = 2 * (ll - ll0)
    cox_snell = 1 - np.exp(-chi2 / n)
    se = np.sqrt(np.diag(cov))
    order = [*range(1, k + 1), 0]
    with np.errstate(over="ignore"):  # Exp(B) is inf under separation, which has been warned of
        coefficients = _logistic_table(beta, se, order, [*columns, CONSTANT])
    multi = {name: cols for name, cols in design.terms.items() if len(cols) > 1}
    hl_table, hl_chi2, hl_df, hl_p = hosmer_lemeshow(y, prob, hl_groups)
    return LogisticResult(
        outcome=outcome,
        event=event,
        coefficients=coefficients,
        term_tests=_wald_terms(beta[1:], cov[1:, 1:], columns, multi),
        minus2ll=-2 * ll,
        minus2ll_null=-2 * ll0,
        chi2=float(chi2),
        df=k,
        p=float(stats.chi2.sf(chi2, k)),
        cox_snell_r2=float(cox_snell),
        nagelkerke_r2=float(cox_snell / (1 - np.exp(2 * ll0 / n))),
        hosmer_lemeshow=hl_table,
        hl_chi2=hl_chi2,
        hl_df=hl_df,
        hl_p=hl_p,
        classification=_classification(y, prob, cut, event, other),
        n=n,
        converged=converged,
        iterations=iterations,
        references=design.references,
        notes=notes,
    )


def _logistic_table(beta: np.ndarray, se: np.ndarray, order: list[int], index: list[str]) -> pd.DataFrame:
    z975 = stats.norm.ppf(0.975)
    wald = (beta / se)[order] ** 2
    return pd.DataFrame(
        {
            "B": beta[order],
            "SE": se[order],
            "Wald": wald,
            "df": 1,
            "p": stats.chi2.sf(wald, 1),
            "Exp(B)": np.exp(beta[order]),
            "CI_low": np.exp(beta - z975 * se)[order],
            "CI_high": np.exp(beta + z975 * se)[order],
        },
        index=pd.Index(index, name="predictor"),
    )


def _warn_separation(prob: np.ndarray, y: np.ndarray, converged: bool, iterations: int, columns: list[str]) -> None:
    fitted_exactly = (prob < 1e-8) | (prob > 1 - 1e-8)
    if fitted_exactly.any():
        kind = "complete" if fitted_exactly.all() else "quasi-complete"
        warnings.warn(
            f"logistic: {kind} separation - {int(fitted_exactly.sum())} cases are predicted with "
            f"probability 0 or 1 by {columns}; estimates and standard errors are not trustworthy "
            "(merge sparse categories or drop the separating predictor)",
            SeparationWarning,
            stacklevel=3,
        )
    elif not converged:
        warnings.warn(
            f"logistic: no convergence after {iterations} iterations; estimates are unreliable",
            ConvergenceWarning,
            stacklevel=3,
        )


# ----------------------------------------------------------------------------- ordinal (cumulative link)

_BIG = 1e6  # stands in for +/- infinity at the ends of the latent scale


def _link_functions(link: str):
    """cdf F, density f and its derivative f' of the latent error distribution."""
    if link == "logit":
        def cdf(a):
            return special.expit(a)

        def pdf(a):
            F = special.expit(a)
            return F * (1 - F)

        def dpdf(a):
            F = special.expit(a)
            return F * (1 - F) * (1 - 2 * F)
    elif link == "probit":
        cdf, pdf = stats.norm.cdf, stats.norm.pdf

        def dpdf(a):
            return -a * stats.norm.pdf(a)
    else:
        raise SurveyAnalysisError(f"ordinal_regression: link must be 'logit' or 'probit', got {link!r}")
    return cdf, pdf, dpdf


@dataclass
class _CumulativeModel:
    """Cumulative link likelihood P(Y <= j | x) = F(theta_j - x'beta_j) for one data set.

    With ``parallel`` one beta serves every threshold (proportional odds, as polr and PLUM);
    without it each threshold has its own beta (PLUM's "general" model of the parallel-lines test).
    """

    X: np.ndarray
    category: np.ndarray
    weights: np.ndarray
    n_categories: int
    link: str
    parallel: bool = True

    def __post_init__(self) -> None:
        self.cdf, self.pdf, self.dpdf = _link_functions(self.link)
        n, p = self.X.shape
        J1 = self.n_categories - 1
        n_beta = p if self.parallel else p * J1
        self.n_params = J1 + n_beta
        rows = np.arange(n)
        self.D_u = np.zeros((n, self.n_params))
        self.D_l = np.zeros((n, self.n_params))
        upper, lower = self.category < J1, self.category > 0
        self.D_u[rows[upper], self.category[upper]] = 1.0
        self.D_l[rows[lower], self.category[lower] - 1] = 1.0
        for c in range(J1):
            start = J1 + (0 if self.parallel else c * p)
            at_upper = upper & (self.category == c)
            at_lower = lower & (self.category - 1 == c)
            self.D_u[at_upper, start:start + p] = -self.X[at_upper]
            self.D_l[at_lower, start:start + p] = -self.X[at_lower]
        self.upper, self.lower = upper, lower

    def _bounds(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a_u = np.where(self.upper, self.D_u @ params, _BIG)
        a_l = np.where(self.lower, self.D_l @ params, -_BIG)
        return a_u, a_l

    def log_lik(self, params: np.ndarray) -> float:
        a_u, a_l = self._bounds(params)
        prob = self.cdf(a_u) - self.cdf(a_l)
        if np.any(prob[self.weights > 0] <= 0) or not np.all(np.isfinite(prob)):
            return -np.inf
        return float(np.sum(self.weights * np.log(prob)))

    def derivatives(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian of the log-likelihood."""
        a_u, a_l = self._bounds(params)
        prob = self.cdf(a_u) - self.cdf(a_l)
        f_u, f_l = self.pdf(a_u), self.pdf(a_l)
        d_u, d_l = self.dpdf(a_u), self.dpdf(a_l)
        G = (f_u[:, None] * self.D_u - f_l[:, None] * self.D_l) / prob[:, None]
        w = self.weights
        grad = G.T @ w
        hess = (
            self.D_u.T @ (self.D_u * (w * d_u / prob)[:, None])
            - self.D_l.T @ (self.D_l * (w * d_l / prob)[:, None])
            - G.T @ (G * w[:, None])
        )
        return grad, hess

    def expected_information(self, params: np.ndarray) -> np.ndarray:
        """Fisher information sum_i w_i sum_j (d pi_ij)(d pi_ij)' / pi_ij (SPSS PLUM's SEs)."""
        n, p = self.X.shape
        J1 = self.n_categories - 1
        bounds, densities = [], []
        for b in range(J1):
            A = np.zeros((n, self.n_params))
            A[:, b] = 1.0
            start = J1 + (0 if self.parallel else b * p)
            A[:, start:start + p] = -self.X
            bounds.append(A)
            densities.append(self.pdf(A @ params))
        cdf = [np.zeros(n)] + [self.cdf(A @ params) for A in bounds] + [np.ones(n)]
        info = np.zeros((self.n_params, self.n_params))
        for j in range(self.n_categories):
            d_pi = np.zeros((n, self.n_params))
            if j < J1:
                d_pi += densities[j][:, None] * bounds[j]
            if j > 0:
                d_pi -= densities[j - 1][:, None] * bounds[j - 1]
            prob = cdf[j + 1] - cdf[j]
            info += d_pi.T @ (d_pi * (self.weights / prob)[:, None])
        return info

    def fit(self, start: np.ndarray, max_iter: int = 100) -> tuple[np.ndarray, float, bool]:
        """Newton-Raphson with step halving; returns estimates, log-likelihood, converged."""
        params, ll = start.astype(float), self.log_lik(start)
        for _ in range(max_iter):
            grad, hess = self.derivatives(params)
            try:
                step = np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:
                return params, ll, False
            for _halving in range(30):
                trial = params - step
                trial_ll = self.log_lik(trial)
                if trial_ll >= ll - 1e-12 * abs(ll):
                    break
                step = step / 2
            else:
                return params, ll, False
            params, change, ll = trial, trial_ll - ll, trial_ll
            if np.max(np.abs(step)) < 1e-9 and abs(change) < 1e-9:
                return params, ll, True
        return params, ll, False


def _ordinal_outcome(values: pd.Series, name: str, levels: Sequence[object] | None) -> tuple[np.ndarray, list[object]]:
    if levels is not None:
        levels = list(levels)
        unknown = sorted({str(v) for v in values.unique() if v not in levels})
        if unknown:
            raise SurveyAnalysisError(
                f"ordinal_regression: outcome {name!r} holds values {unknown} that are not in levels {levels}"
            )
    elif isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_numeric_dtype(values):
        levels = _levels(values)
    else:
        raise SurveyAnalysisError(
            f"ordinal_regression: outcome {name!r} holds text, whose order cannot be guessed; "
            f"pass levels=[...] from lowest to highest (values: {_levels(values)[:10]}) or make it an "
            "ordered pandas Categorical"
        )
    present = set(values.unique())
    levels = [level for level in levels if level in present]
    if len(levels) < 2:
        raise SurveyAnalysisError(
            f"ordinal_regression: outcome {name!r} has only one category {levels}; it needs at least two"
        )
    position = {level: i for i, level in enumerate(levels)}
    return values.map(position).to_numpy(dtype=int), levels


@dataclass
class OrdinalResult:
    """Proportional-odds (cumulative link) regression as R MASS::polr and SPSS PLUM report it.

    Model: link(P(Y <= j | x)) = theta_j - x'beta. polr's ``coefficients`` and ``zeta`` are
    `coefficients["Estimate"]` and `thresholds["Estimate"]`; SPSS PLUM's "Location" and
    "Threshold" estimates are the same numbers (PLUM writes the same minus sign). SPSS codes
    factors against their *last* category: pass ``reference="last"`` to get its rows.

    Attributes:
        thresholds, coefficients: Estimate, SE, z (polr's "t value"), Wald (= z^2, PLUM), df,
            p, CI_low, CI_high (Wald 95% CI); coefficients also carry the odds ratio Exp(B).
        model_fit: SPSS "Model Fitting Information": -2LL of the intercept-only and final
            models (SPSS's full multinomial likelihood), R's deviance, chi2, df, p.
        goodness_of_fit: Pearson and deviance chi2 over covariate patterns, df, p.
        cox_snell_r2, nagelkerke_r2, mcfadden_r2: pseudo R-squares (as PLUM: Nagelkerke's
            maximum from the full multinomial likelihood, McFadden on the kernels);
            nagelkerke_r2_kernel: Nagelkerke's maximum from the kernel (R's logLik of polr).
        parallel_lines: PLUM's "Test of Parallel Lines" (None with two outcome categories);
            parallel_chi2, parallel_df, parallel_p.
        deviance, aic: R's residual deviance (-2 sum w log p) and AIC.
        chi2, df, p: likelihood-ratio test of all coefficients; n: sum of weights.
    """

    outcome: str
    levels: list[object]
    link: str
    thresholds: pd.DataFrame
    coefficients: pd.DataFrame
    model_fit: pd.DataFrame
    goodness_of_fit: pd.DataFrame
    cox_snell_r2: float
    nagelkerke_r2: float
    mcfadden_r2: float
    nagelkerke_r2_kernel: float
    parallel_lines: pd.DataFrame | None
    parallel_chi2: float
    parallel_df: int
    parallel_p: float
    deviance: float
    aic: float
    chi2: float
    df: int
    p: float
    n: float
    zero_cells_percent: float
    converged: bool
    references: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """SPSS's "Parameter Estimates": thresholds then location parameters."""
        return pd.concat(
            {"Threshold": self.thresholds, "Location": self.coefficients.drop(columns="Exp(B)")},
            names=["kind", "parameter"],
        )

    def summary(self) -> str:
        """Model fitting, goodness of fit, pseudo R2, parallel lines and parameter estimates."""
        head = (
            f"Ordinal regression ({self.link} link) of {self.outcome}, levels {self.levels}, n = {self.n:g}\n"
            f"chi2({self.df}) = {self.chi2:.3f}, p = {self.p:.4g}; residual deviance = {self.deviance:.4f}, "
            f"AIC = {self.aic:.4f}\nCox & Snell R2 = {self.cox_snell_r2:.3f}, Nagelkerke R2 = "
            f"{self.nagelkerke_r2:.3f}, McFadden R2 = {self.mcfadden_r2:.3f}"
        )
        parts = [head, self.model_fit.round(3).to_string(), self.goodness_of_fit.round(3).to_string()]
        if self.zero_cells_percent > 20:
            parts.append(
                f"{self.zero_cells_percent:.1f}% of the cells (covariate pattern x category) are empty: "
                "the Pearson and deviance goodness-of-fit tests are not reliable"
            )
        if self.parallel_lines is not None:
            parts.append(self.parallel_lines.round(3).to_string())
        parts.append(self.to_frame().round(4).to_string())
        return "\n\n".join(parts)


def _estimate_table(estimate: np.ndarray, se: np.ndarray, index: list[str]) -> pd.DataFrame:
    z = estimate / se
    z975 = stats.norm.ppf(0.975)
    return pd.DataFrame(
        {
            "Estimate": estimate,
            "SE": se,
            "z": z,
            "Wald": z**2,
            "df": 1,
            "p": 2 * stats.norm.sf(np.abs(z)),
            "CI_low": estimate - z975 * se,
            "CI_high": estimate + z975 * se,
        },
        index=pd.Index(index, name="parameter"),
    )


def _patterns(X: pd.DataFrame, category: np.ndarray, weights: np.ndarray, J: int):
    """Covariate-pattern id per case and the pattern x category table of weighted counts."""
    if X.shape[1]:
        pattern = X.groupby(list(X.columns), sort=False, dropna=False).ngroup().to_numpy()
    else:
        pattern = np.zeros(len(X), dtype=int)
    observed = np.zeros((pattern.max() + 1, J))
    np.add.at(observed, (pattern, category), weights)
    return pattern, observed


def _goodness_of_fit(observed: np.ndarray, pattern: np.ndarray, prob_by_case: np.ndarray, n_params: int):
    first = np.unique(pattern, return_index=True)[1]
    expected = observed.sum(axis=1, keepdims=True) * prob_by_case[first]
    pearson = float(np.sum((observed - expected) ** 2 / expected))
    positive = observed > 0
    deviance = float(2 * np.sum(observed[positive] * np.log(observed[positive] / expected[positive])))
    df = observed.size - observed.shape[0] - n_params
    p_of = (lambda x: float(stats.chi2.sf(x, df))) if df > 0 else (lambda x: float("nan"))
    table = pd.DataFrame(
        {"chi2": [pearson, deviance], "df": df, "p": [p_of(pearson), p_of(deviance)]},
        index=pd.Index(["Pearson", "Deviance"], name="statistic"),
    )
    return table, 100 * float(np.mean(observed == 0))


def _category_probabilities(model: _CumulativeModel, params: np.ndarray) -> np.ndarray:
    """n x J matrix of fitted category probabilities."""
    J1 = model.n_categories - 1
    n, p = model.X.shape
    theta = params[:J1]
    if model.parallel:
        eta = np.repeat((model.X @ params[J1:])[:, None], J1, axis=1)
    else:
        eta = model.X @ params[J1:].reshape(J1, p).T
    cum = model.cdf(theta[None, :] - eta)
    cum = np.column_stack([np.zeros(n), cum, np.ones(n)])
    return np.diff(cum, axis=1)


def ordinal_regression(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    link: Literal["logit", "probit"] = "logit",
    levels: Sequence[object] | None = None,
    weights: str | None = None,
    reference: Reference = "last",
    information: Literal["observed", "expected"] = "observed",
) -> OrdinalResult:
    """Proportional-odds regression of an ordered outcome (R ``MASS::polr``, SPSS ``PLUM``).

    Model: link(P(Y <= j | x)) = theta_j - x'beta, fitted by Newton-Raphson maximum likelihood
    with frequency ``weights``. Sign convention: polr and PLUM both subtract x'beta, so a
    positive estimate pushes answers to *higher* categories, and polr's ``coef``/``zeta`` equal
    PLUM's Location/Threshold estimates (SAS's PROC LOGISTIC and some texts flip the sign). SEs
    come from the observed information as polr's (``Hess = TRUE``), or with
    ``information="expected"`` from the Fisher information as SPSS PLUM's (Fisher scoring); Wald = (B / SE)^2 and CIs are
    Wald intervals (PLUM). Model fitting: chi2 = -2LL(thresholds only) - (-2LL(final)) on p df;
    SPSS's -2LL adds the multinomial constant over covariate patterns, R's deviance does not
    (chi2 is the same). Goodness of fit: Pearson sum (O - E)^2 / E and deviance 2 sum O log(O/E)
    over covariate pattern x category cells, df = patterns * (J - 1) - (J - 1 + p). Pseudo R2:
    Cox & Snell 1 - exp(-chi2 / n); Nagelkerke = Cox & Snell / (1 - exp(-(-2LL_0) / n)) with
    SPSS's -2LL_0; McFadden 1 - LL / LL_0 on the likelihood kernels. Test of parallel lines
    (PLUM): chi2 = -2LL(proportional odds) - (-2LL(general model with one beta per threshold)),
    df = (J - 2) p.

    Checked against R ``MASS::polr`` on the UCLA graduate-school data and on the Copenhagen
    housing survey (MASS ``housing``), and against SPSS PLUM output for the UCLA data
    (tests/survey/test_regression.py).

    Args:
        data: one row per respondent (or per cell of a frequency table, with ``weights``).
        outcome: ordered outcome: numeric codes, an ordered Categorical, or text with ``levels``.
        predictors: predictor columns; text or category columns are dummy-coded.
        link: "logit" (proportional odds) or "probit".
        levels: outcome categories from lowest to highest (needed for plain text outcomes).
        weights: column of frequency weights.
        reference: reference level of categorical predictors: "last" (SPSS PLUM, the default),
            "first" (R's treatment contrasts) or a dict. With a SurveyData, labelled nominal
            predictors are dummy-coded too and scale names give scale scores, as in `ols`.
        information: "observed" (R polr's standard errors) or "expected" (SPSS PLUM's).

    Returns:
        OrdinalResult with `thresholds`, `coefficients`, `model_fit`, `goodness_of_fit`,
        pseudo R2s, `parallel_lines`, `deviance`, `aic` and `summary()`.

    Warns:
        ConvergenceWarning: when either the model or the general model does not converge.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1, 1, 2, 1, 2, 3, 2, 3, 3, 1, 2, 3],
        ...                    "x": [1, 2, 2, 3, 3, 5, 4, 4, 6, 2, 5, 3]})
        >>> float(round(ordinal_regression(df, "y", ["x"]).coefficients.loc["x", "Estimate"], 3))
        1.342
    """
    data, notes = _codebook_predictors(data, [predictors] if isinstance(predictors, str) else predictors,
                                       "ordinal_regression")
    design = build_design(data, outcome, predictors, where="ordinal_regression", reference=reference, weights=weights)
    notes += _reference_notes(design, reference)
    category, levels = _ordinal_outcome(design.y, outcome, levels)
    X, w = design.X.to_numpy(), design.weights
    J, p = len(levels), X.shape[1]
    model = _CumulativeModel(X, category, w, J, link)
    counts = np.bincount(category, weights=w, minlength=J)
    n = float(w.sum())
    cdf_inverse = special.logit if link == "logit" else stats.norm.ppf
    start = np.r_[cdf_inverse(np.cumsum(counts)[:-1] / n), np.zeros(p)]
    params, ll, converged = model.fit(start)
    if not converged:
        warnings.warn(
            "ordinal_regression: the proportional-odds model did not converge; check for empty "
            "categories or predictors that separate them",
            ConvergenceWarning,
            stacklevel=2,
        )
    if information not in ("observed", "expected"):
        raise SurveyAnalysisError(f"ordinal_regression: information must be 'observed' or 'expected', got {information!r}")
    info = -model.derivatives(params)[1] if information == "observed" else model.expected_information(params)
    cov = np.linalg.pinv(info)
    se = np.sqrt(np.diag(cov))
    names = [f"{levels[j]}|{levels[j + 1]}" for j in range(J - 1)]
    coefficients = _estimate_table(params[J - 1:], se[J - 1:], list(design.X.columns))
    coefficients["Exp(B)"] = np.exp(coefficients["Estimate"])
    ll0 = float(np.sum(special.xlogy(counts, counts / n)))
    pattern, observed = _patterns(design.X, category, w, J)
    constant = float(np.sum(special.gammaln(observed.sum(axis=1) + 1)) - np.sum(special.gammaln(observed + 1)))
    gof, zero_percent = _goodness_of_fit(observed, pattern, _category_probabilities(model, params), J - 1 + p)
    chi2 = 2 * (ll - ll0)
    model_fit = pd.DataFrame(
        {
            "minus2ll": [-2 * (ll0 + constant), -2 * (ll + constant)],
            "deviance": [-2 * ll0, -2 * ll],
            "chi2": [np.nan, chi2],
            "df": [np.nan, p],
            "p": [np.nan, float(stats.chi2.sf(chi2, p))],
        },
        index=pd.Index(["Intercept Only", "Final"], name="model"),
    )
    cox_snell = 1 - np.exp(-chi2 / n)
    parallel = _parallel_lines(model, params, ll, constant)
    return OrdinalResult(
        outcome=outcome,
        levels=levels,
        link=link,
        thresholds=_estimate_table(params[: J - 1], se[: J - 1], names),
        coefficients=coefficients,
        model_fit=model_fit,
        goodness_of_fit=gof,
        cox_snell_r2=float(cox_snell),
        nagelkerke_r2=float(cox_snell / (1 - np.exp(2 * (ll0 + constant) / n))),
        mcfadden_r2=float(1 - ll / ll0),
        nagelkerke_r2_kernel=float(cox_snell / (1 - np.exp(2 * ll0 / n))),
        parallel_lines=parallel,
        parallel_chi2=float(parallel["chi2"].iloc[1]) if parallel is not None else float("nan"),
        parallel_df=int(parallel["df"].iloc[1]) if parallel is not None else 0,
        parallel_p=float(parallel["p"].iloc[1]) if parallel is not None else float("nan"),
        deviance=-2 * ll,
        aic=-2 * ll + 2 * (J - 1 + p),
        chi2=float(chi2),
        df=p,
        p=float(stats.chi2.sf(chi2, p)),
        n=n,
        zero_cells_percent=zero_percent,
        converged=converged,
        references=design.references,
        notes=notes,
    )


def _parallel_lines(model: _CumulativeModel, params: np.ndarray, ll: float, constant: float) -> pd.DataFrame | None:
    """PLUM's test of parallel lines: the general model frees beta for every threshold."""
    J1, p = model.n_categories - 1, model.X.shape[1]
    if J1 < 2:
        return None
    general = _CumulativeModel(model.X, model.category, model.weights, model.n_categories, model.link, parallel=False)
    start = np.r_[params[:J1], np.tile(params[J1:], J1)]
    _, ll_general, converged = general.fit(start)
    if not converged:
        warnings.warn(
            "ordinal_regression: the general model of the parallel-lines test did not converge; "
            "its chi2 is a lower bound",
            ConvergenceWarning,
            stacklevel=3,
        )
    chi2 = max(0.0, 2 * (ll_general - ll))
    df = (J1 - 1) * p
    return pd.DataFrame(
        {
            "minus2ll": [-2 * (ll + constant), -2 * (ll_general + constant)],
            "chi2": [np.nan, chi2],
            "df": [np.nan, df],
            "p": [np.nan, float(stats.chi2.sf(chi2, df))],
        },
        index=pd.Index(["Null Hypothesis", "General"], name="model"),
    )
