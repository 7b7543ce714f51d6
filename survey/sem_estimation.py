"""The estimator behind `survey.sem`, `survey.cfa` and `survey.measurement_invariance`.

lavaan's parameter table (`Specification`: which parameters are free, fixed, labelled or equal
across groups, with lavaan's `sem()` defaults), the model in RAM form (McArdle & McDonald 1984),

    Sigma = F (I - A)^-1 S (I - A)^-T F',   mu = F (I - A)^-1 m,

the ML discrepancy per group, F_ML = log|Sigma| + tr(S_obs Sigma^-1) - log|S_obs| - p
(+ (xbar - mu)' Sigma^-1 (xbar - mu) with a mean structure), F = sum_g (n_g / N) F_g, its analytic
gradient and expected information, and the minimiser (`Estimator`): Fisher scoring (steps with the
expected information, halved until F falls and Sigma stays positive definite) from lavaan-like
start values ("fabin3" loadings, Hägglund 1982; residual variances half the observed variance),
then BFGS seeded with the information once the gradient is small (Fisher scoring alone converges
only linearly at a misfitting optimum). Convergence is judged by the gradient.

Reference: Hägglund, G. (1982). Factor analysis by instrumental variables methods.
Psychometrika, 47, 209-222.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from survey.errors import SurveyAnalysisError, SurveyAnalysisWarning
from survey.lavaan_syntax import ModelSyntax, Modifier


class SEMConvergenceWarning(SurveyAnalysisWarning):
    """The optimizer did not converge; estimates and fit measures are not trustworthy."""


class ImproperSolutionWarning(SurveyAnalysisWarning):
    """A (residual) variance is negative or a latent correlation exceeds 1 (a Heywood case)."""


GROUP_EQUAL = ("loadings", "intercepts", "means", "residuals", "residual.covariances", "lv.variances",
               "lv.covariances", "regressions")

# ----------------------------------------------------------------------------------------------
# data

def _frame_of(data: object, caller: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    frame = getattr(data, "data", None)
    if isinstance(frame, pd.DataFrame):
        return frame
    raise SurveyAnalysisError(f"{caller}: data must be a DataFrame or SurveyData")


def numeric_items(data: pd.DataFrame, items: Sequence[str], caller: str) -> pd.DataFrame:
    """The named columns as floats; text, infinite values and absent columns are refused by name."""
    absent = [i for i in items if i not in data.columns]
    if absent:
        raise SurveyAnalysisError(f"{caller}: the model names {absent}, which are not columns of the data; "
                                  f"columns: {list(map(str, data.columns))[:30]}")
    subset = data[list(items)]
    if all(pd.api.types.is_numeric_dtype(dtype) for dtype in subset.dtypes):
        frame = subset
    else:
        frame = subset.apply(pd.to_numeric, errors="coerce")
        text = frame.isna() & subset.notna()
        if text.any().any():
            column = text.any().idxmax()
            raise SurveyAnalysisError(f"{caller}: item {column!r} holds non-numeric values")
    infinite = np.isinf(frame.to_numpy(float))
    if infinite.any():
        column = frame.columns[infinite.any(axis=0)][0]
        raise SurveyAnalysisError(f"{caller}: item {column!r} holds infinite values; recode them as missing")
    return frame.astype(float)


@dataclass
class _Sample:
    x: np.ndarray  # respondents x observed
    n: int
    cov: np.ndarray
    mean: np.ndarray
    logdet: float

    @classmethod
    def of(cls, x: np.ndarray, names: Sequence[str], caller: str, label: str = "") -> _Sample:
        n = len(x)
        where = f" in group {label!r}" if label else ""
        if n <= x.shape[1]:
            raise SurveyAnalysisError(f"{caller}: {n} complete respondents{where} for {x.shape[1]} observed "
                                      "variables; need more respondents than items (observed variables)")
        cov = np.cov(x, rowvar=False, ddof=0)
        constant = [name for name, v in zip(names, np.diag(cov), strict=True) if v <= 0]
        if constant:
            raise SurveyAnalysisError(f"{caller}: constant item(s) {constant}{where}")
        sign, logdet = np.linalg.slogdet(cov)
        if sign <= 0 or not np.isfinite(logdet):
            raise SurveyAnalysisError(f"{caller}: the covariance matrix of the observed variables{where} is "
                                      "singular (a variable is a combination of others)")
        return cls(x, n, cov, x.mean(axis=0), float(logdet))


# ----------------------------------------------------------------------------------------------
# specification: lavaan's parameter table

@dataclass
class _Row:
    lhs: str
    op: str
    rhs: str
    group: int
    fixed: float | None  # None when free
    start: float = 0.0
    label: str | None = None
    user: bool = True
    exo: bool = False  # fixed at a sample value (fixed.x)
    free: int = -1  # index into theta


class Specification:
    """lavaan's parameter table for a parsed model: which parameters are free, fixed or equal."""

    def __init__(self, syntax: ModelSyntax, n_groups: int, *, std_lv: bool, group_equal: Sequence[str],
                 meanstructure: bool, fixed_x: bool, orthogonal: bool = False) -> None:
        unknown = [g for g in group_equal if g not in GROUP_EQUAL]
        if unknown:
            raise SurveyAnalysisError(f"group_equal: {unknown} unknown; choose from {list(GROUP_EQUAL)}")
        self.syntax = syntax
        self.n_groups = n_groups
        self.std_lv = std_lv
        self.group_equal = tuple(group_equal)
        self.meanstructure = meanstructure
        st = syntax.statements
        self.lv = list(dict.fromkeys(s.lhs for s in st if s.op == "=~"))
        names: list[str] = []
        for s in st:
            if s.op == "=~":
                names.append(s.rhs)
        for s in st:
            names += [s.lhs, s.rhs] if s.op != "~1" else [s.lhs]
        self.ov = [name for name in dict.fromkeys(names) if name and name not in self.lv]
        lhs_reg = {s.lhs for s in st if s.op == "~"}
        rhs_reg = {s.rhs for s in st if s.op == "~"}
        indicators = {s.rhs for s in st if s.op == "=~"}
        user_cov = {n for s in st if s.op == "~~" for n in (s.lhs, s.rhs)}
        self.ov_x = [v for v in self.ov if v in rhs_reg and v not in lhs_reg and v not in indicators
                     and v not in user_cov] if fixed_x else []
        self.ov_y = [v for v in self.ov if v in lhs_reg and v not in rhs_reg and v not in indicators]
        self.lv_y = [v for v in self.lv if v in lhs_reg and v not in rhs_reg]
        self.lv_x = [v for v in self.lv if v not in lhs_reg]
        self.endogenous = [v for v in self.ov if v not in self.ov_x] + [v for v in self.lv if v in lhs_reg]
        self.names = self.ov + self.lv
        self.index = {v: i for i, v in enumerate(self.names)}
        self.p, self.k = len(self.ov), len(self.lv)
        if not self.ov:
            raise SurveyAnalysisError("the model names no observed variable")
        for f in self.lv:
            if not any(s.op == "=~" and s.lhs == f for s in st):
                raise SurveyAnalysisError(f"latent variable {f!r} has no indicator")
        self.rows: list[_Row] = []
        self._keys: dict[tuple[int, str, str, str], _Row] = {}
        for g in range(n_groups):
            self._build_group(g, orthogonal)
        self._number()

    # -- construction
    def _add(self, g: int, lhs: str, op: str, rhs: str, mod: Modifier | None = None, *, user: bool,
             fixed: float | None = None, exo: bool = False) -> None:
        key = (g, lhs, op, rhs)
        if op == "~~" and (g, rhs, op, lhs) in self._keys:
            key = (g, rhs, op, lhs)
        if key in self._keys:
            if user:
                row = self._keys[key]
                if mod is not None:
                    row.fixed = mod.fixed if mod.fixed is not None else (None if mod.free else row.fixed)
                    row.label = mod.label or row.label
                row.user = True
            return
        if mod is not None and mod.fixed is not None:
            fixed = mod.fixed
        elif mod is not None and mod.free:
            fixed = None
        row = _Row(key[1], op, key[3], g, fixed, label=mod.label if mod else None, user=user, exo=exo)
        self._keys[key] = row
        self.rows.append(row)

    def _build_group(self, g: int, orthogonal: bool) -> None:
        st = self.syntax.statements
        for f in self.lv:
            loadings = [s for s in st if s.op == "=~" and s.lhs == f]
            any_fixed = any(s.modifier(g).fixed is not None for s in loadings)
            for pos, s in enumerate(loadings):
                mod = s.modifier(g)
                marker = (pos == 0 and not self.std_lv and not any_fixed and not mod.free)
                self._add(g, f, "=~", s.rhs, mod, user=True, fixed=1.0 if marker else None)
        for s in st:
            if s.op == "~":
                self._add(g, s.lhs, "~", s.rhs, s.modifier(g), user=True)
        for s in st:
            if s.op == "~~":
                for name in (s.lhs, s.rhs):
                    if name not in self.index:
                        raise SurveyAnalysisError(f"{name!r} in '{s.lhs} ~~ {s.rhs}' is not a variable of the model")
                self._add(g, s.lhs, "~~", s.rhs, s.modifier(g), user=True)
            elif s.op == "~1":
                self._add(g, s.lhs, "~1", "", s.modifier(g), user=True)
        # variances
        for v in self.ov:
            if v in self.ov_x:
                continue
            self._add(g, v, "~~", v, user=False)
        for f in self.lv:
            fix_first = self.std_lv and (g == 0 or "loadings" not in self.group_equal)
            self._add(g, f, "~~", f, user=False, fixed=1.0 if fix_first else None)
        # covariances lavaan adds by itself
        def pairs(names: list[str]) -> list[tuple[str, str]]:
            return [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
        for a, b in pairs(self.lv_x):
            self._add(g, a, "~~", b, user=False, fixed=0.0 if orthogonal else None)
        for a, b in pairs(self.lv_y) + pairs(self.ov_y):
            self._add(g, a, "~~", b, user=False)
        for i, a in enumerate(self.ov_x):
            for b in self.ov_x[i:]:
                self._add(g, a, "~~", b, user=False, fixed=0.0, exo=True)
        if self.meanstructure:
            for v in self.ov:
                self._add(g, v, "~1", "", user=False, exo=v in self.ov_x, fixed=0.0 if v in self.ov_x else None)
            free_means = g > 0 and "intercepts" in self.group_equal and "means" not in self.group_equal
            for f in self.lv:
                self._add(g, f, "~1", "", user=False, fixed=None if free_means else 0.0)

    def _kind(self, row: _Row) -> str | None:
        lv = set(self.lv)
        if row.op == "=~":
            return "loadings"
        if row.op == "~":
            return "regressions"
        if row.op == "~1":
            return "means" if row.lhs in lv else "intercepts"
        if row.op == "~~":
            both_lv = row.lhs in lv and row.rhs in lv
            if row.lhs == row.rhs:
                return "lv.variances" if both_lv else "residuals"
            return "lv.covariances" if both_lv else "residual.covariances"
        return None

    def _number(self) -> None:
        shared: dict[tuple, int] = {}
        count = 0
        for row in self.rows:
            if row.fixed is not None:
                continue
            key: tuple | None = None
            if row.label:
                key = ("label", row.label)
            elif self.n_groups > 1 and self._kind(row) in self.group_equal:
                key = ("eq", row.lhs, row.op, row.rhs)
            if key is not None and key in shared:
                row.free = shared[key]
                continue
            row.free = count
            if key is not None:
                shared[key] = count
            count += 1
        self.n_free = count
        # rows that are free in group 1 but fixed in another under group.equal are left as written
        self.labels = {row.label: row for row in self.rows if row.label}
        for d in self.syntax.defined:
            missing = [name for name in d.labels if name not in self.labels and name not in
                       {x.name for x in self.syntax.defined}]
            if missing:
                raise SurveyAnalysisError(f"cannot read '{d.name} := {d.expression}': {missing} are not "
                                          "parameter labels of the model (label a parameter as 'a*x')")

    # -- matrices
    def locations(self, row: _Row) -> tuple[str, int, int]:
        ix = self.index
        if row.op == "=~":
            return "A", ix[row.rhs], ix[row.lhs]
        if row.op == "~":
            return "A", ix[row.lhs], ix[row.rhs]
        if row.op == "~~":
            return "S", ix[row.lhs], ix[row.rhs]
        return "M", ix[row.lhs], 0


# ----------------------------------------------------------------------------------------------
# the estimator

class _Group:
    """Fixed matrices and free-entry positions of one group, with its sample."""

    def __init__(self, spec: Specification, g: int, sample: _Sample) -> None:
        v = len(spec.names)
        self.spec, self.g, self.sample = spec, g, sample
        self.rows = [r for r in spec.rows if r.group == g]
        self.A0, self.S0, self.m0 = np.zeros((v, v)), np.zeros((v, v)), np.zeros(v)
        a, s, m = [], [], []
        for r in self.rows:
            kind, i, j = spec.locations(r)
            if r.free < 0:
                self._place(kind, i, j, r.fixed if not r.exo else 0.0)
            elif kind == "A":
                a.append((i, j, r.free))
            elif kind == "S":
                s.append((i, j, r.free))
            else:
                m.append((i, r.free))
        self.a = np.array(a, dtype=int).reshape(-1, 3)
        self.s = np.array(s, dtype=int).reshape(-1, 3)
        self.m = np.array(m, dtype=int).reshape(-1, 2)
        self.s_off = self.s[:, 0] != self.s[:, 1]
        self.set_sample(sample)

    def _place(self, kind: str, i: int, j: int, value: float) -> None:
        if kind == "A":
            self.A0[i, j] = value
        elif kind == "S":
            self.S0[i, j] = self.S0[j, i] = value
        else:
            self.m0[i] = value

    def set_sample(self, sample: _Sample) -> None:
        """Exogenous observed variables (fixed.x) take the sample's (co)variances and means."""
        self.sample = sample
        ix = self.spec.index
        for r in self.rows:
            if r.exo:
                i = ix[r.lhs]
                if r.op == "~~":
                    j = ix[r.rhs]
                    self.S0[i, j] = self.S0[j, i] = sample.cov[i, j]
                elif r.op == "~1":
                    self.m0[i] = sample.mean[i]

    def matrices(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        A, S, m = self.A0.copy(), self.S0.copy(), self.m0.copy()
        if len(self.a):
            A[self.a[:, 0], self.a[:, 1]] = theta[self.a[:, 2]]
        if len(self.s):
            S[self.s[:, 0], self.s[:, 1]] = theta[self.s[:, 2]]
            S[self.s[:, 1], self.s[:, 0]] = theta[self.s[:, 2]]
        if len(self.m):
            m[self.m[:, 0]] = theta[self.m[:, 1]]
        return A, S, m

    def implied(self, theta: np.ndarray) -> dict[str, np.ndarray] | None:
        A, S, m = self.matrices(theta)
        try:
            B = np.linalg.inv(np.eye(len(A)) - A)
        except np.linalg.LinAlgError:
            return None
        C = B @ S @ B.T
        p = self.spec.p
        return {"A": A, "S": S, "m": m, "B": B, "C": C, "sigma": C[:p, :p], "mu": (B @ m)[:p], "Bm": B @ m}

    def discrepancy(self, theta: np.ndarray) -> float:
        imp = self.implied(theta)
        if imp is None:
            return np.inf
        sign, logdet = np.linalg.slogdet(imp["sigma"])
        if sign <= 0:
            return np.inf
        inv = np.linalg.inv(imp["sigma"])
        s = self.sample
        value = logdet + np.sum(s.cov * inv) - s.logdet - self.spec.p
        if self.spec.meanstructure:
            d = s.mean - imp["mu"]
            value += d @ inv @ d
        return float(value)

    def jacobian(self, imp: dict[str, np.ndarray], q: int) -> tuple[np.ndarray, np.ndarray]:
        """dSigma/dtheta (q x p x p) and dmu/dtheta (q x p)."""
        p = self.spec.p
        P, Q = imp["B"][:p, :], imp["C"][:p, :]
        d_sigma = np.zeros((q, p, p))
        d_mu = np.zeros((q, p))
        if len(self.a):
            i, j, k = self.a.T
            block = P[:, i].T[:, :, None] * Q[:, j].T[:, None, :]
            np.add.at(d_sigma, k, block + block.transpose(0, 2, 1))
            if self.spec.meanstructure:
                np.add.at(d_mu, k, P[:, i].T * imp["Bm"][j][:, None])
        if len(self.s):
            i, j, k = self.s.T
            block = P[:, i].T[:, :, None] * P[:, j].T[:, None, :]
            block[self.s_off] += block[self.s_off].transpose(0, 2, 1)
            np.add.at(d_sigma, k, block)
        if len(self.m) and self.spec.meanstructure:
            i, k = self.m.T
            np.add.at(d_mu, k, P[:, i].T)
        return d_sigma, d_mu

    def derivatives(self, theta: np.ndarray, q: int, *, info: bool = True
                    ) -> tuple[float, np.ndarray, np.ndarray | None]:
        """F_g, its gradient and its expected Hessian (2 x the unit Fisher information)."""
        imp = self.implied(theta)
        if imp is None:
            return np.inf, np.zeros(q), None
        sigma = imp["sigma"]
        sign, logdet = np.linalg.slogdet(sigma)
        if sign <= 0:
            return np.inf, np.zeros(q), None
        inv = np.linalg.inv(sigma)
        s = self.sample
        value = logdet + np.sum(s.cov * inv) - s.logdet - self.spec.p
        d_sigma, d_mu = self.jacobian(imp, q)
        if self.spec.meanstructure:
            d = s.mean - imp["mu"]
            value += d @ inv @ d
            w = inv @ d
            g_sigma = inv - inv @ (s.cov + np.outer(d, d)) @ inv
            grad = np.einsum("qkl,kl->q", d_sigma, g_sigma) - 2 * d_mu @ w
        else:
            g_sigma = inv - inv @ s.cov @ inv
            grad = np.einsum("qkl,kl->q", d_sigma, g_sigma)
        hess = None
        if info:
            K = np.einsum("ik,qkl->qil", inv, d_sigma)
            hess = np.einsum("qij,rji->qr", K, K)
            if self.spec.meanstructure:
                hess += 2 * d_mu @ inv @ d_mu.T
        return float(value), grad, hess


def _fabin3(cov: np.ndarray, idx: list[int]) -> np.ndarray:
    """Hägglund's (1982) instrumental-variable loadings relative to the first indicator (lavaan's
    "fabin3" start values): lambda_i = s_iJ S_JJ^-1 s_J1 / s_1J S_JJ^-1 s_J1, J the other indicators."""
    lam = np.ones(len(idx))
    if len(idx) < 3:
        if len(idx) == 2 and cov[idx[0], idx[0]] > 0:
            lam[1] = cov[idx[1], idx[0]] / cov[idx[0], idx[0]]
        return lam
    for pos in range(1, len(idx)):
        rest = [idx[r] for r in range(1, len(idx)) if r != pos]
        s33 = cov[np.ix_(rest, rest)]
        s31 = cov[rest, idx[0]]
        s23 = cov[idx[pos], rest]
        try:
            w = np.linalg.solve(s33, s31)
        except np.linalg.LinAlgError:
            continue
        denominator = s31 @ w
        if abs(denominator) > 1e-12:
            lam[pos] = (s23 @ w) / denominator
    return lam


def _start_values(spec: Specification, groups: list[_Group]) -> np.ndarray:
    values: dict[int, list[float]] = {}
    for grp in groups:
        cov, mean = grp.sample.cov, grp.sample.mean
        ix = spec.index
        lam_start: dict[tuple[str, str], float] = {}
        psi_start: dict[str, float] = {}
        for f in spec.lv:
            rows = [r for r in grp.rows if r.op == "=~" and r.lhs == f and r.rhs in ix and ix[r.rhs] < spec.p]
            idx = [ix[r.rhs] for r in rows]
            if not idx:
                psi_start[f] = 0.05
                continue
            lam = _fabin3(cov, idx)
            scale = next((r.fixed for r in rows if r.fixed not in (None, 0.0)), 1.0)
            ref = rows[0].fixed if rows[0].fixed not in (None, 0.0) else None
            if ref is None and scale != 1.0:
                pos = next(i for i, r in enumerate(rows) if r.fixed not in (None, 0.0))
                lam = lam / lam[pos] * scale
            outer = np.outer(lam, lam)
            off = ~np.eye(len(idx), dtype=bool)
            if off.any() and np.sum(outer[off] ** 2) > 0:
                psi = float(np.sum(cov[np.ix_(idx, idx)][off] * outer[off]) / np.sum(outer[off] ** 2))
            else:
                psi = 0.5 * cov[idx[0], idx[0]]
            psi = max(psi, 0.05 * cov[idx[0], idx[0]])
            psi_start[f] = psi
            std = spec.std_lv or rows[0].fixed is None
            for r, value in zip(rows, lam, strict=True):
                lam_start[(f, r.rhs)] = value * np.sqrt(psi) if std and spec.std_lv else value
        for r in grp.rows:
            if r.free < 0:
                continue
            if r.op == "=~":
                value = lam_start.get((r.lhs, r.rhs), 1.0)
            elif r.op == "~~" and r.lhs == r.rhs:
                if r.lhs in spec.lv:
                    value = psi_start.get(r.lhs, 0.05) if not spec.std_lv else 1.0
                else:
                    value = 0.5 * cov[ix[r.lhs], ix[r.lhs]]
            elif r.op == "~1" and r.lhs not in spec.lv:
                value = mean[ix[r.lhs]]
            else:
                value = 0.0
            values.setdefault(r.free, []).append(value)
    return np.array([np.mean(values[i]) for i in range(spec.n_free)])


@dataclass
class _Estimate:
    theta: np.ndarray
    converged: bool
    iterations: int
    gradient: np.ndarray
    message: str


class Estimator:
    """Multi-group ML estimation of a `Specification`."""

    def __init__(self, spec: Specification, samples: list[_Sample]) -> None:
        self.spec = spec
        self.groups = [_Group(spec, g, s) for g, s in enumerate(samples)]
        self.n_total = sum(s.n for s in samples)

    def set_samples(self, samples: list[_Sample]) -> None:
        for grp, s in zip(self.groups, samples, strict=True):
            grp.set_sample(s)
        self.n_total = sum(s.n for s in samples)

    def objective(self, theta: np.ndarray) -> float:
        return sum(grp.sample.n / self.n_total * grp.discrepancy(theta) for grp in self.groups)

    def derivatives(self, theta: np.ndarray, info: bool = True) -> tuple[float, np.ndarray, np.ndarray | None]:
        q = self.spec.n_free
        value, grad, hess = 0.0, np.zeros(q), np.zeros((q, q)) if info else None
        for grp in self.groups:
            w = grp.sample.n / self.n_total
            v, g, h = grp.derivatives(theta, q, info=info)
            if not np.isfinite(v):
                return np.inf, grad, None
            value += w * v
            grad += w * g
            if info and h is not None:
                hess += w * h
        return value, grad, hess

    def fit(self, start: np.ndarray | None = None, *, max_iter: int = 500, gtol: float = 1e-6) -> _Estimate:
        theta = _start_values(self.spec, self.groups) if start is None else start.copy()
        value, grad, hess = self.derivatives(theta)
        if not np.isfinite(value):
            theta = self._rescue_start(theta)
            value, grad, hess = self.derivatives(theta)
            if not np.isfinite(value):
                raise SurveyAnalysisError("the start values give a covariance matrix that is not positive "
                                          "definite; the model cannot be estimated on these data")
        iterations = 0
        message = "converged"
        inverse: np.ndarray | None = None  # BFGS inverse-Hessian, seeded with the Fisher information
        q = len(theta)
        while iterations < max_iter and np.max(np.abs(grad), initial=0.0) >= gtol:
            iterations += 1
            if inverse is None:
                try:
                    step = np.linalg.solve(hess + 1e-10 * np.eye(q), grad)
                except np.linalg.LinAlgError:
                    step = np.linalg.lstsq(hess, grad, rcond=None)[0]
            else:
                step = inverse @ grad
            if grad @ step <= 0:  # not a descent direction: fall back on the gradient
                step, inverse = grad, None
            alpha, accepted = 1.0, False
            while alpha > 1e-10:
                trial = theta - alpha * step
                trial_value, trial_grad, trial_hess = self.derivatives(trial, info=inverse is None)
                if np.isfinite(trial_value) and trial_value <= value - 1e-4 * alpha * (grad @ step):
                    accepted = True
                    break
                alpha /= 2
            if not accepted:
                if inverse is not None:  # restart from Fisher scoring
                    inverse = None
                    value, grad, hess = self.derivatives(theta)
                    continue
                message = "line search failed"
                break
            s_step, y_step = trial - theta, trial_grad - grad
            theta, value, grad = trial, trial_value, trial_grad
            if inverse is None:
                hess = trial_hess
                # Fisher scoring converges only linearly near a misfitting optimum: switch to BFGS
                if np.max(np.abs(grad), initial=0.0) < 1e-2:
                    try:
                        inverse = np.linalg.inv(hess + 1e-10 * np.eye(q))
                    except np.linalg.LinAlgError:
                        inverse = None
            elif s_step @ y_step > 1e-14:
                rho = 1.0 / (s_step @ y_step)
                left = np.eye(q) - rho * np.outer(s_step, y_step)
                inverse = left @ inverse @ left.T + rho * np.outer(s_step, s_step)
        if np.max(np.abs(grad), initial=0.0) >= gtol and iterations < max_iter:
            theta, grad, more = self._polish(theta, max_iter - iterations, gtol)
            iterations += more
        converged = bool(np.max(np.abs(grad), initial=0.0) < gtol)
        if not converged and message == "converged":
            message = f"iteration limit ({max_iter}) reached"
        return _Estimate(theta, converged, iterations, grad, "converged" if converged else message)

    def _rescue_start(self, theta: np.ndarray) -> np.ndarray:
        """Start from the independence model when the data-driven start is not admissible."""
        theta = theta.copy()
        for grp in self.groups:
            for r in grp.rows:
                if r.free >= 0 and not (r.op == "~~" and r.lhs == r.rhs) and r.op != "~1":
                    theta[r.free] = 0.0
        return theta

    def _polish(self, theta: np.ndarray, max_iter: int, gtol: float) -> tuple[np.ndarray, np.ndarray, int]:
        def fun(t: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad, _ = self.derivatives(t, info=False)
            return (value, grad) if np.isfinite(value) else (1e10, np.zeros_like(t))

        res = optimize.minimize(fun, theta, jac=True, method="BFGS",
                                options={"maxiter": max(max_iter, 1), "gtol": gtol * 0.1})
        _, grad, _ = self.derivatives(res.x, info=False)
        return res.x, grad, int(res.nit)

    def variance_parameters(self) -> np.ndarray:
        """Indices of free parameters that are (residual) variances."""
        return np.array(sorted({r.free for r in self.spec.rows if r.free >= 0 and r.op == "~~" and r.lhs == r.rhs}),
                        dtype=int)

    def fit_bounded(self, start: np.ndarray, *, max_iter: int = 500, gtol: float = 1e-6) -> _Estimate:
        """Minimise F with every (residual) variance >= 0 (L-BFGS-B from `start`, negative variances
        moved to the bound); converged when the projected gradient is below `gtol`."""
        variances = self.variance_parameters()
        lower = np.full(len(start), -np.inf)
        lower[variances] = 0.0
        theta = start.copy()
        theta[variances] = np.maximum(theta[variances], 1e-4)

        def fun(t: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad, _ = self.derivatives(t, info=False)
            return (value, grad) if np.isfinite(value) else (1e10, np.zeros_like(t))

        res = optimize.minimize(fun, theta, jac=True, method="L-BFGS-B",
                                bounds=list(zip(lower, np.full(len(start), np.inf), strict=True)),
                                options={"maxiter": max_iter, "gtol": gtol * 0.01, "ftol": 1e-15})
        _, grad, _ = self.derivatives(res.x, info=False)
        projected = np.where((res.x <= lower + 1e-12) & (grad > 0), 0.0, grad)
        converged = bool(np.max(np.abs(projected), initial=0.0) < gtol)
        return _Estimate(res.x, converged, int(res.nit), projected, "converged" if converged else str(res.message))

    def vcov(self, theta: np.ndarray) -> np.ndarray:
        """Var(theta) from the expected information: (N/2 x sum_g w_g H_g)^-1."""
        _, _, hess = self.derivatives(theta)
        info = 0.5 * self.n_total * hess
        try:
            return np.linalg.inv(info)
        except np.linalg.LinAlgError:
            return np.full_like(info, np.nan)


__all__ = ["GROUP_EQUAL", "Estimator", "ImproperSolutionWarning", "SEMConvergenceWarning", "Specification",
           "numeric_items"]
