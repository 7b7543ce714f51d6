"""Proportional-odds (cumulative link) ordinal regression as SPSS PLUM and R's MASS::polr report it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from survey.errors import SurveyAnalysisError
from survey.regression.design import (
    ConvergenceWarning,
    Reference,
    _codebook_predictors,
    _levels,
    _reference_notes,
    build_design,
)

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
