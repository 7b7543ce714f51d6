"""Mediation (x -> m -> y, Hayes PROCESS model 4) and moderation (x * w -> y, PROCESS model 1)
with OLS paths, a seeded percentile bootstrap of the indirect effect and simple slopes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from survey.codebook import SurveyData
from survey.errors import SurveyAnalysisError
from survey.inputs import unpack
from survey.regression.design import (
    check_collinearity,
    numeric_column,
    require_columns,
    require_frame,
)


def _complete_numeric(data: pd.DataFrame, roles: dict[str, str], covariates: list[str], where: str) -> pd.DataFrame:
    """Numeric, listwise-complete copy of the role columns and covariates (input untouched)."""
    if isinstance(data, SurveyData):  # user-missing codes count as missing
        data = unpack(data, where, scores=True)[0]
    require_frame(data, where)
    names = [*roles.values(), *covariates]
    require_columns(data, names, where)
    frame = pd.DataFrame({name: numeric_column(data[name], name, where) for name in names}).dropna()
    for role, name in roles.items():
        if frame[name].nunique() < 2:
            raise SurveyAnalysisError(f"{where}: {role} {name!r} has the same value for every complete case")
    if len(frame) < len(names) + 2:
        raise SurveyAnalysisError(f"{where}: {len(frame)} complete cases are too few for {len(names)} variables")
    check_collinearity(frame.drop(columns=roles["y"]), np.ones(len(frame)), where)
    return frame


def _fit(frame: pd.DataFrame, outcome: str, regressors: list[str]):
    exog = sm.add_constant(frame[regressors].to_numpy(), has_constant="add")
    return sm.OLS(frame[outcome].to_numpy(), exog).fit()


def _path_row(fit, position: int) -> dict[str, float]:
    ci = np.asarray(fit.conf_int())[position]
    return {
        "estimate": float(fit.params[position]),
        "SE": float(fit.bse[position]),
        "t": float(fit.tvalues[position]),
        "p": float(fit.pvalues[position]),
        "CI_low": float(ci[0]),
        "CI_high": float(ci[1]),
    }


@dataclass
class MediationResult:
    """Simple mediation x -> m -> y.

    Attributes:
        paths: a (x -> m), b (m -> y | x), c (total x -> y), c' (direct x -> y | m) with
            estimate, SE, t, p and 95% CI from OLS.
        a, b, c, c_prime, indirect: the estimates; indirect = a * b.
        boot_se, boot_ci: bootstrap SE and percentile CI of the indirect effect.
        sobel_z, sobel_p: Sobel's normal test of a * b.
        proportion_mediated: indirect / c.
        n, n_boot, seed: cases, resamples and the seed used.
    """

    x: str
    m: str
    y: str
    paths: pd.DataFrame
    a: float
    b: float
    c: float
    c_prime: float
    indirect: float
    boot_se: float
    boot_ci: tuple[float, float]
    sobel_z: float
    sobel_p: float
    proportion_mediated: float
    n: int
    n_boot: int
    seed: int | None

    def to_frame(self) -> pd.DataFrame:
        """Paths plus the indirect effect row (bootstrap SE and CI, Sobel z and p)."""
        indirect = pd.DataFrame(
            [{"estimate": self.indirect, "SE": self.boot_se, "t": self.sobel_z, "p": self.sobel_p,
              "CI_low": self.boot_ci[0], "CI_high": self.boot_ci[1]}],
            index=["indirect (a*b)"],
        )
        return pd.concat([self.paths, indirect]).rename_axis("effect")

    def summary(self) -> str:
        """Paths and indirect effect as plain text."""
        head = (
            f"Mediation {self.x} -> {self.m} -> {self.y} (n = {self.n}, {self.n_boot} bootstrap resamples)\n"
            f"indirect a*b = {self.indirect:.4f}, 95% percentile bootstrap CI [{self.boot_ci[0]:.4f}, "
            f"{self.boot_ci[1]:.4f}]; Sobel z = {self.sobel_z:.3f}, p = {self.sobel_p:.4g}"
        )
        return f"{head}\n\n{self.to_frame().round(4).to_string()}"


def _bootstrap_indirect(frame: pd.DataFrame, x: str, m: str, y: str, covariates: list[str],
                        n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """a * b of every resample (rows drawn with replacement)."""
    ones = np.ones((len(frame), 1))
    Xa = np.hstack([ones, frame[[x, *covariates]].to_numpy()])
    Xb = np.hstack([ones, frame[[x, m, *covariates]].to_numpy()])
    mv, yv = frame[m].to_numpy(), frame[y].to_numpy()
    draws = np.empty(n_boot)
    for k in range(n_boot):
        idx = rng.integers(0, len(frame), len(frame))
        a = np.linalg.lstsq(Xa[idx], mv[idx], rcond=None)[0][1]
        b = np.linalg.lstsq(Xb[idx], yv[idx], rcond=None)[0][2]
        draws[k] = a * b
    return draws


def mediation(
    data: pd.DataFrame,
    x: str,
    m: str,
    y: str,
    *,
    covariates: Sequence[str] | None = None,
    n_boot: int = 5000,
    seed: int | np.random.Generator | None = 12345,
    ci: float = 0.95,
) -> MediationResult:
    """Simple mediation by OLS with a percentile bootstrap of the indirect effect (PROCESS model 4).

    Paths: m = i1 + a x (+ covariates); y = i2 + c' x + b m (+ covariates); y = i3 + c x
    (+ covariates). Indirect effect a * b; for OLS on the same cases c = c' + a * b exactly.
    Bootstrap: rows resampled n_boot times with ``numpy.random.default_rng(seed)``; the CI is
    the (1 - ci)/2 and (1 + ci)/2 percentiles of a * b. Sobel z = a b / sqrt(b^2 SE_a^2 +
    a^2 SE_b^2) (first-order delta method). Following Hayes (2022), Introduction to
    Mediation, Moderation, and Conditional Process Analysis, PROCESS model 4.

    Checked by the identity c = c' + a b, the bootstrap CI bracketing a b, reproducibility
    under a seed and statsmodels OLS paths (tests/survey/test_mediation.py).

    Args:
        data: one row per respondent.
        x, m, y: predictor, mediator and outcome columns (numeric).
        covariates: further numeric columns entered in every equation.
        n_boot: bootstrap resamples.
        seed: seed or numpy Generator for the bootstrap (no global random state is used).
        ci: confidence level of the bootstrap interval.

    Returns:
        MediationResult with `paths`, `a`, `b`, `c`, `c_prime`, `indirect`, `boot_ci`,
        `sobel_z`, `sobel_p`, `to_frame()` and `summary()`.

    Example:
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(1)
        >>> x = rng.normal(size=200); m = 0.5 * x + rng.normal(size=200)
        >>> df = pd.DataFrame({"x": x, "m": m, "y": 0.4 * m + rng.normal(size=200)})
        >>> res = mediation(df, "x", "m", "y", n_boot=500, seed=7)
        >>> bool(abs(res.c - res.c_prime - res.indirect) < 1e-12)
        True
    """
    covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
    if len({x, m, y, *covariates}) != 3 + len(covariates):
        raise SurveyAnalysisError("mediation: x, m, y and covariates must be different columns")
    if n_boot < 100 or not 0 < ci < 1:
        raise SurveyAnalysisError("mediation: n_boot must be at least 100 and ci between 0 and 1")
    frame = _complete_numeric(data, {"x": x, "m": m, "y": y}, covariates, "mediation")
    fit_a = _fit(frame, m, [x, *covariates])
    fit_b = _fit(frame, y, [x, m, *covariates])
    fit_c = _fit(frame, y, [x, *covariates])
    paths = pd.DataFrame(
        [_path_row(fit_a, 1), _path_row(fit_b, 2), _path_row(fit_c, 1), _path_row(fit_b, 1)],
        index=["a", "b", "c", "c'"],
    )
    a, b = paths.loc["a", "estimate"], paths.loc["b", "estimate"]
    se_a, se_b = paths.loc["a", "SE"], paths.loc["b", "SE"]
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    draws = _bootstrap_indirect(frame, x, m, y, covariates, n_boot, rng)
    low, high = np.quantile(draws, [(1 - ci) / 2, (1 + ci) / 2])
    sobel_z = a * b / np.sqrt(b**2 * se_a**2 + a**2 * se_b**2)
    c = paths.loc["c", "estimate"]
    return MediationResult(
        x=x, m=m, y=y, paths=paths, a=float(a), b=float(b), c=float(c),
        c_prime=float(paths.loc["c'", "estimate"]), indirect=float(a * b),
        boot_se=float(draws.std(ddof=1)), boot_ci=(float(low), float(high)),
        sobel_z=float(sobel_z), sobel_p=float(2 * stats.norm.sf(abs(sobel_z))),
        proportion_mediated=float(a * b / c) if c != 0 else float("nan"),
        n=len(frame), n_boot=n_boot, seed=seed if isinstance(seed, int) else None,
    )


@dataclass
class ModerationResult:
    """Moderation y = b0 + b1 x + b2 w + b3 x w (PROCESS model 1).

    Attributes:
        coefficients: B, SE, t, p, CI_low, CI_high of x, w, x:w (and covariates).
        interaction, interaction_p: b3 and its p.
        r2, F, df, p: the model's R2 and F test.
        r2_change, F_change, p_change: R2 added by the interaction term and its F test.
        simple_slopes: effect of x at the probed values of w (16th, 50th, 84th percentiles, or
            mean - SD, mean, mean + SD with probe="sd", or both values of a dichotomous w) with
            SE, t, p and 95% CI.
        centered: whether x and w were mean-centred before forming the product.
    """

    x: str
    w: str
    y: str
    coefficients: pd.DataFrame
    interaction: float
    interaction_p: float
    r2: float
    F: float
    df: tuple[int, int]
    p: float
    r2_change: float
    F_change: float
    p_change: float
    simple_slopes: pd.DataFrame
    centered: bool
    n: int

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table."""
        return self.coefficients.copy()

    def summary(self) -> str:
        """Model, interaction test and simple slopes as plain text."""
        head = (
            f"Moderation of {self.x} -> {self.y} by {self.w} (n = {self.n}"
            f"{', mean-centred' if self.centered else ''})\nR2 = {self.r2:.3f}, F({self.df[0]}, "
            f"{self.df[1]}) = {self.F:.3f}, p = {self.p:.4g}; interaction R2 change = "
            f"{self.r2_change:.4f}, F(1, {self.df[1]}) = {self.F_change:.3f}, p = {self.p_change:.4g}"
        )
        return "\n\n".join([head, self.coefficients.round(4).to_string(), self.simple_slopes.round(4).to_string()])


PROBES = ("percentiles", "sd")


def _probe_values(w: pd.Series, probe: str) -> dict[str, float]:
    values = np.sort(w.unique())
    if len(values) == 2:
        return {f"{w.name} = {v:g}": float(v) for v in values}
    if probe == "percentiles":
        low, mid, high = np.quantile(w.to_numpy(dtype=float), [0.16, 0.50, 0.84])
        return {"P16": float(low), "P50": float(mid), "P84": float(high)}
    mean, sd = float(w.mean()), float(w.std(ddof=1))
    return {"M - 1SD": mean - sd, "M": mean, "M + 1SD": mean + sd}


def moderation(
    data: pd.DataFrame,
    x: str,
    w: str,
    y: str,
    *,
    covariates: Sequence[str] | None = None,
    center: bool = False,
    probe: Literal["percentiles", "sd"] = "percentiles",
) -> ModerationResult:
    """Moderated regression with simple slopes (Hayes PROCESS model 1).

    y = b0 + b1 x + b2 w + b3 (x w) (+ covariates), by OLS. The conditional effect of x at
    w = w0 is theta = b1 + b3 w0 with SE = sqrt(V11 + 2 w0 V13 + w0^2 V33), tested with t on the
    residual df; w0 is by default the 16th, 50th and 84th percentiles of w (PROCESS 3 and later;
    quantiles interpolated as R's quantile() type 7), with probe="sd" mean - SD, mean and
    mean + SD (SD with n - 1; PROCESS's moments=1, and PROCESS 2), and always both values of a
    dichotomous w. ``center=True`` mean-centres x and w before the product
    (b3 and its test do not change). The interaction's R2 change is tested with
    F = (R2_change / 1) / ((1 - R2) / df_resid).

    Checked against refitting with w re-centred at each probe value (the slope of x is then
    the simple slope) and statsmodels OLS (tests/survey/test_mediation.py).

    Args:
        data: one row per respondent.
        x, w, y: focal predictor, moderator and outcome (numeric).
        covariates: further numeric columns.
        center: mean-centre x and w before forming x * w.
        probe: "percentiles" (default) or "sd", the values of w at which x's effect is probed.

    Returns:
        ModerationResult with `coefficients`, `interaction`, `simple_slopes`, `r2_change` and
        `summary()`.

    Example:
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(2)
        >>> x, w = rng.normal(size=300), rng.normal(size=300)
        >>> df = pd.DataFrame({"x": x, "w": w, "y": x + 0.5 * x * w + rng.normal(size=300)})
        >>> bool(abs(moderation(df, "x", "w", "y").interaction - 0.5) < 0.2)
        True
    """
    covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
    if probe not in PROBES:
        raise SurveyAnalysisError(f"moderation: probe must be one of {PROBES}, got {probe!r}")
    if len({x, w, y, *covariates}) != 3 + len(covariates):
        raise SurveyAnalysisError("moderation: x, w, y and covariates must be different columns")
    frame = _complete_numeric(data, {"x": x, "w": w, "y": y}, covariates, "moderation")
    if center:
        frame[x] = frame[x] - frame[x].mean()
        frame[w] = frame[w] - frame[w].mean()
    product = f"{x}:{w}"
    frame[product] = frame[x] * frame[w]
    regressors = [x, w, product, *covariates]
    check_collinearity(frame[regressors], np.ones(len(frame)), "moderation")
    full = _fit(frame, y, regressors)
    reduced = _fit(frame, y, [x, w, *covariates])
    table = pd.DataFrame(
        [_path_row(full, i) for i in range(len(regressors) + 1)],
        index=pd.Index(["(Constant)", *regressors], name="predictor"),
    ).rename(columns={"estimate": "B"})
    cov = np.asarray(full.cov_params())
    rows = {}
    t_crit = stats.t.ppf(0.975, full.df_resid)
    for label, w0 in _probe_values(frame[w], probe).items():
        slope = full.params[1] + full.params[3] * w0
        se = np.sqrt(cov[1, 1] + 2 * w0 * cov[1, 3] + w0**2 * cov[3, 3])
        t = slope / se
        rows[label] = {"w": w0, "effect": slope, "SE": se, "t": t,
                       "p": 2 * stats.t.sf(abs(t), full.df_resid),
                       "CI_low": slope - t_crit * se, "CI_high": slope + t_crit * se}
    change = full.rsquared - reduced.rsquared
    f_change = change / ((1 - full.rsquared) / full.df_resid)
    return ModerationResult(
        x=x, w=w, y=y, coefficients=table,
        interaction=float(full.params[3]), interaction_p=float(full.pvalues[3]),
        r2=float(full.rsquared), F=float(full.fvalue), df=(int(full.df_model), int(full.df_resid)),
        p=float(full.f_pvalue), r2_change=float(change), F_change=float(f_change),
        p_change=float(stats.f.sf(f_change, 1, full.df_resid)),
        simple_slopes=pd.DataFrame.from_dict(rows, orient="index").rename_axis("w_value"),
        centered=center, n=len(frame),
    )
