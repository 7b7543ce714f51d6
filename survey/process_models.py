"""Hayes PROCESS models beyond 1 and 4: parallel (model 4 with several mediators) and serial
(model 6) mediation, and moderated mediation with the moderator on the a path (model 7) or the
b path (model 14). OLS paths, seeded percentile bootstrap of every indirect effect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from survey.checks import as_frame
from survey.errors import SurveyAnalysisError
from survey.mediation_moderation import _complete_numeric


@dataclass
class ProcessResult:
    """A PROCESS model fit (see `parallel_mediation`, `serial_mediation`, `moderated_mediation`).

    Attributes:
        model: PROCESS model number (4, 6, 7 or 14).
        paths: every OLS coefficient: equation (outcome), predictor, estimate, SE, t, p, CI.
        effects: total, direct and indirect effects (conditional ones at the probed moderator
            values, and the index of moderated mediation) with bootstrap SE and percentile CI.
        n, n_boot, seed, ci_level: cases, resamples, seed and interval level.
    """

    model: int
    paths: pd.DataFrame
    effects: pd.DataFrame
    n: int
    n_boot: int
    seed: int | None
    ci_level: float

    def to_frame(self) -> pd.DataFrame:
        """The effects table."""
        return self.effects.copy()

    def summary(self) -> str:
        """Paths and effects as plain text."""
        head = (f"PROCESS model {self.model} (n = {self.n}; {self.n_boot} bootstrap resamples, "
                f"{self.ci_level:.0%} percentile CIs)")
        return "\n\n".join([head, self.paths.round(4).to_string(), self.effects.round(4).to_string()])


def _prepare(data: object, roles: dict[str, str], extra: list[str], covariates: Sequence[str] | None,
             n_boot: int, ci: float, where: str) -> tuple[pd.DataFrame, list[str]]:
    covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
    names = [*roles.values(), *extra, *covariates]
    if len(set(names)) != len(names):
        raise SurveyAnalysisError(f"{where}: x, y, mediators, moderator and covariates must be different columns")
    if n_boot < 100 or not 0 < ci < 1:
        raise SurveyAnalysisError(f"{where}: n_boot must be at least 100 and ci between 0 and 1")
    frame = as_frame(data, where)
    for name in names:
        if name in frame.columns and pd.api.types.is_numeric_dtype(frame[name]) and np.isinf(frame[name]).any():
            raise SurveyAnalysisError(f"{where}: column {name!r} holds infinite values; fix the data first")
    all_roles = {**roles, **{f"mediator {name!r}": name for name in extra}}
    return _complete_numeric(frame, all_roles, covariates, where), covariates


def _coefficients(values: np.ndarray, outcome: int, predictors: list[int]) -> np.ndarray:
    X = np.column_stack([np.ones(len(values)), values[:, predictors]])
    return np.linalg.lstsq(X, values[:, outcome], rcond=None)[0][1:]


def _path_table(frame: pd.DataFrame, equations: list[tuple[str, list[str]]], ci: float) -> pd.DataFrame:
    rows = []
    for outcome, predictors in equations:
        fit = sm.OLS(frame[outcome].to_numpy(), sm.add_constant(frame[predictors].to_numpy(), has_constant="add")).fit()
        bounds = np.asarray(fit.conf_int(alpha=1 - ci))
        for i, name in enumerate(["(Constant)", *predictors]):
            rows.append({"outcome": outcome, "predictor": name, "estimate": fit.params[i], "SE": fit.bse[i],
                         "t": fit.tvalues[i], "p": fit.pvalues[i], "CI_low": bounds[i, 0], "CI_high": bounds[i, 1]})
    return pd.DataFrame(rows).set_index(["outcome", "predictor"])


def _bootstrap(values: np.ndarray, estimate: Callable[[np.ndarray], dict[str, float]], n_boot: int,
               seed: int | np.random.Generator | None, ci: float) -> pd.DataFrame:
    """Point estimates and percentile bootstrap CIs of every named effect (rows resampled)."""
    point = estimate(values)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    draws = np.empty((n_boot, len(point)))
    n = len(values)
    for b in range(n_boot):
        draws[b] = list(estimate(values[rng.integers(0, n, n)]).values())
    low, high = np.quantile(draws, [(1 - ci) / 2, (1 + ci) / 2], axis=0)
    return pd.DataFrame({"estimate": list(point.values()), "boot_SE": draws.std(axis=0, ddof=1),
                         "boot_CI_low": low, "boot_CI_high": high}, index=pd.Index(list(point), name="effect"))


def _mediation(data, x, mediators, y, covariates, n_boot, seed, ci, serial: bool) -> ProcessResult:
    where = "serial_mediation" if serial else "parallel_mediation"
    mediators = [mediators] if isinstance(mediators, str) else list(mediators)
    if len(mediators) < (2 if serial else 1):
        raise SurveyAnalysisError(f"{where}: needs at least {2 if serial else 1} mediators, got {mediators}")
    frame, covariates = _prepare(data, {"x": x, "y": y}, mediators, covariates, n_boot, ci, where)
    columns = [x, *mediators, y, *covariates]
    col = {name: i for i, name in enumerate(columns)}
    k = len(mediators)
    cov_idx = [col[c] for c in covariates]

    def equations_for(j: int) -> list[str]:
        return [x, *(mediators[:j] if serial else []), *covariates]

    def estimate(values: np.ndarray) -> dict[str, float]:
        # a[j][i]: coefficient of predictor i (0 = x, 1.. = earlier mediators) in mediator j's equation
        a = [_coefficients(values, col[mediators[j]], [col[p] for p in equations_for(j)]) for j in range(k)]
        outcome = _coefficients(values, col[y], [col[x], *[col[m] for m in mediators], *cov_idx])
        total = _coefficients(values, col[y], [col[x], *cov_idx])[0]
        b = outcome[1:1 + k]
        effects = {"total": total, "direct": outcome[0]}
        paths = _indirect_paths(k, serial)
        for path in paths:
            value = a[path[0]][0]
            for prev, nxt in zip(path, path[1:], strict=False):
                value *= a[nxt][1 + prev]
            effects["indirect " + " -> ".join([x, *[mediators[j] for j in path], y])] = value * b[path[-1]]
        effects["total indirect"] = sum(v for name, v in effects.items() if name.startswith("indirect "))
        return effects

    effects = _bootstrap(frame[columns].to_numpy(), estimate, n_boot, seed, ci)
    equations = [(mediators[j], equations_for(j)) for j in range(k)]
    equations += [(y, [x, *mediators, *covariates])]
    return ProcessResult(model=6 if serial else 4, paths=_path_table(frame, equations, ci), effects=effects,
                         n=len(frame), n_boot=n_boot, seed=seed if isinstance(seed, int) else None, ci_level=ci)


def _indirect_paths(k: int, serial: bool) -> list[tuple[int, ...]]:
    """Mediator chains: single mediators (parallel), or every ordered subsequence (serial)."""
    if not serial:
        return [(j,) for j in range(k)]
    chains = []
    for mask in range(1, 2**k):
        chains.append(tuple(j for j in range(k) if mask >> j & 1))
    return sorted(chains, key=lambda c: (len(c), c))


def parallel_mediation(data: pd.DataFrame, x: str, mediators: Sequence[str], y: str, *,
                       covariates: Sequence[str] | None = None, n_boot: int = 5000,
                       seed: int | np.random.Generator | None = 12345, ci: float = 0.95) -> ProcessResult:
    """Parallel multiple mediation (PROCESS model 4 with several mediators; 并行中介).

    m_j = i_j + a_j x (+ covariates) for every mediator; y = i + c' x + sum_j b_j m_j
    (+ covariates); y = i + c x (+ covariates). Specific indirect effects a_j b_j, total indirect
    sum_j a_j b_j; for OLS on the same cases c = c' + sum_j a_j b_j exactly. Percentile
    bootstrap CIs from rows resampled with ``numpy.random.default_rng(seed)`` (Hayes, 2022,
    Introduction to Mediation, Moderation, and Conditional Process Analysis, ch. 5).

    Checked by the identity c = c' + sum a_j b_j, the products of the statsmodels OLS paths and
    seeded reproducibility (tests/survey/test_process_models.py).

    Args:
        data: one row per respondent (DataFrame or SurveyData); incomplete rows are dropped.
        x, y: predictor and outcome; mediators: the mediator columns.
        covariates: entered in every equation.
        n_boot, seed, ci: bootstrap resamples, seed and interval level.

    Returns:
        ProcessResult with `paths`, `effects` and `summary()`.
    """
    return _mediation(data, x, mediators, y, covariates, n_boot, seed, ci, serial=False)


def serial_mediation(data: pd.DataFrame, x: str, mediators: Sequence[str], y: str, *,
                     covariates: Sequence[str] | None = None, n_boot: int = 5000,
                     seed: int | np.random.Generator | None = 12345, ci: float = 0.95) -> ProcessResult:
    """Serial mediation x -> m1 -> m2 (-> ...) -> y (PROCESS model 6; 链式中介).

    Each mediator is regressed on x and every earlier mediator, y on x and all mediators. With
    two mediators: indirect effects a1 b1 (x -> m1 -> y), a2 b2 (x -> m2 -> y) and a1 d21 b2
    (x -> m1 -> m2 -> y), d21 the m1 coefficient in m2's equation; for OLS on the same cases
    c = c' + a1 b1 + a2 b2 + a1 d21 b2 exactly. Every chain through an ordered subset of the
    mediators is reported. Percentile bootstrap CIs as in `parallel_mediation` (Hayes, 2022, ch. 5).

    Checked by the total-effect identity, the products of the statsmodels OLS paths and seeded
    reproducibility (tests/survey/test_process_models.py).

    Args:
        data: one row per respondent; mediators: in causal order (at least two).
        x, y, covariates, n_boot, seed, ci: as in `parallel_mediation`.

    Returns:
        ProcessResult with `paths`, `effects` and `summary()`.
    """
    return _mediation(data, x, mediators, y, covariates, n_boot, seed, ci, serial=True)


def moderated_mediation(data: pd.DataFrame, x: str, m: str, y: str, w: str, *, model: int = 7,
                        covariates: Sequence[str] | None = None, probes: Sequence[float] | None = None,
                        n_boot: int = 5000, seed: int | np.random.Generator | None = 12345,
                        ci: float = 0.95) -> ProcessResult:
    """Moderated mediation: PROCESS model 7 (w moderates x -> m) or 14 (w moderates m -> y).

    Model 7: m = a0 + a1 x + a2 w + a3 x w; y = c0 + c' x + b m. Conditional indirect effect
    (a1 + a3 w) b; index of moderated mediation a3 b. Model 14: m = a0 + a x;
    y = c0 + c' x + b1 m + b2 w + b3 m w; conditional indirect a (b1 + b3 w); index a b3.
    Covariates enter both equations. The moderator is probed at its 16th, 50th and 84th
    percentiles (PROCESS's default for a continuous moderator; numpy's linear interpolation, R
    type 7), at both values of a dichotomous w, or at `probes`. Every effect gets a percentile
    bootstrap CI from ``numpy.random.default_rng(seed)``; an index whose CI excludes 0 is
    evidence of moderated mediation (Hayes, 2015, Multivariate Behavioral Research 50, 1-22).

    Checked against refits with w re-centred at each probe value (the conditional a or b path
    is then a main effect), the OLS path products and seeded reproducibility
    (tests/survey/test_process_models.py).

    Args:
        data: one row per respondent (DataFrame or SurveyData); incomplete rows are dropped.
        x, m, y, w: predictor, mediator, outcome and moderator columns.
        model: 7 or 14.
        covariates: entered in both equations.
        probes: moderator values to probe (default: percentiles 16/50/84).
        n_boot, seed, ci: bootstrap resamples, seed and interval level.

    Returns:
        ProcessResult with `paths`, `effects` (conditional indirect effects, index of moderated
        mediation, direct effect) and `summary()`.
    """
    where = f"moderated_mediation (model {model})"
    if model not in (7, 14):
        raise SurveyAnalysisError(f"moderated_mediation: model must be 7 or 14, got {model!r}")
    frame, covariates = _prepare(data, {"x": x, "w": w, "y": y}, [m], covariates, n_boot, ci, where)
    frame = frame.copy()
    product = f"{x}:{w}" if model == 7 else f"{m}:{w}"
    frame[product] = frame[x] * frame[w] if model == 7 else frame[m] * frame[w]
    if probes is None:
        levels = np.unique(frame[w])
        probes = list(levels) if len(levels) == 2 else list(np.percentile(frame[w], [16, 50, 84]))
    probes = [float(v) for v in probes]
    columns = [x, m, y, w, product, *covariates]
    col = {name: i for i, name in enumerate(columns)}
    if model == 7:
        m_predictors, y_predictors = [x, w, product, *covariates], [x, m, *covariates]
    else:
        m_predictors, y_predictors = [x, *covariates], [x, m, w, product, *covariates]

    def estimate(values: np.ndarray) -> dict[str, float]:
        values = values.copy()
        values[:, col[product]] = values[:, col[x] if model == 7 else col[m]] * values[:, col[w]]
        a = _coefficients(values, col[m], [col[p] for p in m_predictors])
        b = _coefficients(values, col[y], [col[p] for p in y_predictors])
        effects = {"direct": b[0]}
        for w0 in probes:
            conditional = (a[0] + a[2] * w0) * b[1] if model == 7 else a[0] * (b[1] + b[3] * w0)
            effects[f"indirect at {w} = {w0:.4g}"] = conditional
        effects["index of moderated mediation"] = a[2] * b[1] if model == 7 else a[0] * b[3]
        return effects

    effects = _bootstrap(frame[columns].to_numpy(), estimate, n_boot, seed, ci)
    paths = _path_table(frame, [(m, m_predictors), (y, y_predictors)], ci)
    return ProcessResult(model=model, paths=paths, effects=effects, n=len(frame), n_boot=n_boot,
                         seed=seed if isinstance(seed, int) else None, ci_level=ci)
