"""Binary logistic regression as SPSS LOGISTIC REGRESSION reports it: Wald tests,
Hosmer–Lemeshow, classification table, pseudo R².
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from survey.errors import SurveyAnalysisError
from survey.regression.design import (
    CONSTANT,
    ConvergenceWarning,
    Reference,
    SeparationWarning,
    _codebook_predictors,
    _levels,
    _reference_notes,
    build_design,
)


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
