"""Structural equation models (结构方程模型) by maximum likelihood, in lavaan's syntax and on lavaan's scale.

`sem(model, data)` reads lavaan syntax (`=~`, `~`, `~~`, `~ 1`, `:=`, labels and fixed values),
sets up lavaan's `sem()` defaults, fits by maximum likelihood and returns a `SEMResult`: estimates
with expected-information standard errors, standardized solutions (std.lv, std.all), R² of the
endogenous variables, defined parameters with delta-method standard errors (and bootstrap
intervals on request), modification indices, and lavaan's `fitMeasures()`. With `group=` the
model is fitted to several groups at once, with lavaan's `group.equal` constraints; that is what
`survey.measurement_invariance` builds on.

The model is held in RAM form (McArdle & McDonald 1984): with A the directed paths (loadings and
regressions), S the (residual) variances and covariances and m the intercepts/means of all
observed and latent variables, and F selecting the observed ones,

    Sigma = F (I - A)^-1 S (I - A)^-T F',   mu = F (I - A)^-1 m.

The ML discrepancy per group is F_ML = log|Sigma| + tr(S_obs Sigma^-1) - log|S_obs| - p
(+ (xbar - mu)' Sigma^-1 (xbar - mu) with a mean structure), the sample covariance with divisor N
as lavaan's `likelihood = "normal"`; over groups F = sum_g (n_g / N) F_g and chi² = N F. It is
minimised (survey.sem_estimation) by Fisher scoring, then BFGS seeded with the expected
information, from lavaan-like start values ("fabin3" loadings, Hägglund 1982; residual variances
half the observed variance). Convergence is judged by the gradient: every |dF/dtheta| below `gtol`. No bounds are imposed (lavaan's default); a negative
variance or a latent correlation beyond ±1 is reported as an improper (Heywood) solution, in a
warning and in the `flag` column of the estimates.

References:
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
    Statistical Software, 48(2), 1-36.
    Bollen, K. A. (1989). Structural Equations with Latent Variables. Wiley.
    Sörbom, D. (1989). Model modification. Psychometrika, 54, 371-384 (modification indices).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from survey.errors import SurveyAnalysisError
from survey.lavaan_syntax import ModelSyntax, parse_syntax
from survey.sem_estimation import (
    GROUP_EQUAL,
    Estimator,
    ImproperSolutionWarning,
    SEMConvergenceWarning,
    Specification,
    _Estimate,
    _frame_of,
    _Group,
    _Row,
    _Sample,
    numeric_items,
)

_OP_ORDER = {"=~": 0, "~": 1, "~~": 2, "~1": 4, ":=": 5}

# ----------------------------------------------------------------------------------------------
# results

def _rmsea_ci(chi2: float, df: float, n: int, groups: int, level: float = 0.90) -> tuple[float, float]:
    """lavaan's interval: noncentrality lambda with P(X <= chi2 | df, lambda) = 0.95 / 0.05."""
    def solve(target: float) -> float:
        def f(lam: float) -> float:
            return (special.chndtr(chi2, df, lam) if lam > 0 else special.chdtr(df, chi2)) - target
        if f(0.0) < 0:
            return 0.0
        hi = max(1.0, chi2)
        while f(hi) > 0:
            hi *= 2
        return optimize.brentq(f, 0.0, hi)

    tail = (1 - level) / 2
    lo, hi = solve(1 - tail), solve(tail)
    return float(np.sqrt(lo / (df * n) * groups)), float(np.sqrt(hi / (df * n) * groups))


def _fit_measures(est: Estimator, theta: np.ndarray) -> dict[str, float]:
    spec, groups, n = est.spec, est.groups, est.n_total
    G = len(groups)
    p = spec.p
    x_idx = [spec.index[v] for v in spec.ov_x]
    y_idx = [i for i in range(p) if i not in x_idx]
    px = len(x_idx)
    moments_per_group = p * (p + 1) / 2 + (p if spec.meanstructure else 0) - px * (px + 1) / 2 - (
        px if spec.meanstructure else 0)
    q = spec.n_free
    df = G * moments_per_group - q
    chi2, logl, logl_h1, chi2_b, srmr, gfi_num, gfi_den = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    for grp in groups:
        s = grp.sample
        f = grp.discrepancy(theta)
        chi2 += s.n * f
        imp = grp.implied(theta)
        sigma, mu = imp["sigma"], imp["mu"]
        inv = np.linalg.inv(sigma)
        d = s.mean - mu if spec.meanstructure else np.zeros(p)
        logl += -0.5 * s.n * (p * np.log(2 * np.pi) + np.linalg.slogdet(sigma)[1] + np.sum(s.cov * inv) + d @ inv @ d)
        logl_h1 += -0.5 * s.n * (p * np.log(2 * np.pi) + s.logdet + p)
        base = np.diag(np.diag(s.cov))
        if x_idx:
            base[np.ix_(x_idx, x_idx)] = s.cov[np.ix_(x_idx, x_idx)]
        chi2_b += s.n * (np.linalg.slogdet(base)[1] - s.logdet)
        scale = np.sqrt(np.outer(np.diag(s.cov), np.diag(s.cov)))
        resid = (s.cov - sigma) / scale
        srmr += s.n / n * float(np.sqrt(np.mean(resid[np.tril_indices(p)] ** 2)))
        ws = inv @ s.cov
        gfi_num += s.n / n * np.trace((ws - np.eye(p)) @ (ws - np.eye(p)))
        gfi_den += s.n / n * np.trace(ws @ ws)
    df_b = G * (moments_per_group - len(y_idx) - (len(y_idx) if spec.meanstructure else 0))
    p_value = float(stats.chi2.sf(chi2, df)) if df > 0 else float("nan")
    d, d_b = max(chi2 - df, 0.0), max(chi2_b - df_b, 0.0)
    cfi = 1.0 - d / max(d, d_b) if max(d, d_b) > 0 else 1.0
    tli = ((chi2_b / df_b) - (chi2 / df)) / ((chi2_b / df_b) - 1.0) if df > 0 and df_b > 0 else float("nan")
    rmsea = float(np.sqrt(max(chi2 / n / df - 1.0 / n, 0.0)) * np.sqrt(G)) if df > 0 else float("nan")
    lo, hi = _rmsea_ci(chi2, df, n, G) if df > 0 else (float("nan"), float("nan"))
    rmsea_p = float(stats.ncx2.sf(chi2, df, 0.05**2 * df * n / G)) if df > 0 else float("nan")
    gfi = 1.0 - gfi_num / gfi_den
    npar = q
    n_moments = G * (p * (p + 1) / 2)
    agfi = 1.0 - n_moments / df * (1 - gfi) if df > 0 else float("nan")
    return {"chi2": float(chi2), "df": float(df), "p": p_value, "baseline_chi2": float(chi2_b),
            "baseline_df": float(df_b), "cfi": float(cfi), "tli": float(tli),
            "nfi": float((chi2_b - chi2) / chi2_b), "ifi": float((chi2_b - chi2) / (chi2_b - df)),
            "rmsea": rmsea, "rmsea_ci_lower": lo, "rmsea_ci_upper": hi, "rmsea_pvalue": rmsea_p,
            "srmr": srmr, "gfi": float(gfi), "agfi": float(agfi), "logl": float(logl),
            "unrestricted_logl": float(logl_h1), "npar": float(npar), "aic": float(-2 * logl + 2 * npar),
            "bic": float(-2 * logl + npar * np.log(n)), "ntotal": float(n)}


def _standardize(spec: Specification, grp: _Group, theta: np.ndarray, rows: list[_Row],
                 values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's std.lv and std.all (cov.std = TRUE: residual covariances by residual SDs)."""
    imp = grp.implied(theta)
    total = np.diag(imp["C"])
    resid = np.diag(imp["S"])
    sd = np.sqrt(np.abs(total))
    lv = set(spec.lv)
    ix = spec.index
    std_lv, std_all = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    for n, (r, value) in enumerate(zip(rows, values, strict=True)):
        a = ix[r.lhs]
        if r.op == "=~":
            b = ix[r.rhs]
            std_lv[n] = value * sd[a] / (sd[b] if r.rhs in lv else 1.0)
            std_all[n] = value * sd[a] / sd[b]
        elif r.op == "~":
            b = ix[r.rhs]
            std_lv[n] = value * (sd[b] if r.rhs in lv else 1.0) / (sd[a] if r.lhs in lv else 1.0)
            std_all[n] = value * sd[b] / sd[a]
        elif r.op == "~~":
            b = ix[r.rhs]
            if a == b:
                std_lv[n] = value / total[a] if r.lhs in lv else value
                std_all[n] = value / total[a]
            else:
                ra, rb = np.sqrt(abs(resid[a])), np.sqrt(abs(resid[b]))
                std_lv[n] = value / ((ra if r.lhs in lv else 1.0) * (rb if r.rhs in lv else 1.0))
                std_all[n] = value / (ra * rb)
        elif r.op == "~1":
            std_lv[n] = value / sd[a] if r.lhs in lv else value
            std_all[n] = value / sd[a]
    return std_lv, std_all


@dataclass
class SEMResult:
    """A fitted structural equation model.

    `estimates` is lavaan's `parameterEstimates()` joined with `standardizedSolution()`: one row
    per parameter (lhs, op, rhs, [group], label, est, se, z, p, ci_lower, ci_upper, std_lv,
    std_all, flag), defined parameters (op ':=') last. `flag` says "Heywood" on a negative
    variance, "|r| > 1" on an impossible correlation and "not converged" everywhere when the
    optimizer stopped early. `fit` holds lavaan's `fitMeasures()` under the same names.
    """

    estimates: pd.DataFrame
    fit: dict[str, float]
    n: int
    converged: bool
    improper: bool
    iterations: int
    group_labels: list[str]
    notes: list[str]
    model: str
    _estimator: Estimator = field(repr=False)
    _theta: np.ndarray = field(repr=False)
    _vcov: np.ndarray = field(repr=False)

    def __getattr__(self, name: str) -> float:
        fit = self.__dict__.get("fit", {})
        if name in fit:
            return fit[name]
        raise AttributeError(name)

    @property
    def spec(self) -> Specification:
        return self._estimator.spec

    def to_frame(self) -> pd.DataFrame:
        return self.estimates.copy()

    def fit_table(self) -> pd.DataFrame:
        keys = ["chi2", "df", "p", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr",
                "gfi", "agfi", "nfi", "ifi", "logl", "aic", "bic"]
        table = pd.DataFrame({"value": [self.fit[k] for k in keys]}, index=pd.Index(keys, name="measure"))
        flag = self._flag()
        if flag:
            table["flag"] = flag
        return table

    def _flag(self) -> str:
        if not self.converged:
            return "not converged"
        return "improper solution" if self.improper else ""

    def _flagged(self, table: pd.DataFrame) -> pd.DataFrame:
        if self._flag() and "flag" not in table.columns:
            table = table.copy()
            table["flag"] = self._flag()
        return table

    def r2(self) -> pd.DataFrame:
        """R² of every endogenous variable (lavaan `inspect(fit, "r2")`): 1 - residual / total variance."""
        rows = []
        for grp, label in zip(self._estimator.groups, self.group_labels, strict=True):
            imp = grp.implied(self._theta)
            for v in self.spec.endogenous:
                i = self.spec.index[v]
                rows.append({"variable": v, "group": label, "r2": 1 - imp["S"][i, i] / imp["C"][i, i]})
        table = pd.DataFrame(rows)
        if len(self.group_labels) == 1:
            table = table.drop(columns="group")
        return self._flagged(table)

    def standardized(self) -> pd.DataFrame:
        """lavaan's `standardizedSolution()`-like view: lhs, op, rhs, est, std_lv, std_all."""
        cols = [c for c in ("lhs", "op", "rhs", "group", "label", "est", "std_lv", "std_all", "flag")
                if c in self.estimates]
        return self.estimates[cols].copy()

    def implied_covariance(self, group: int = 0) -> pd.DataFrame:
        imp = self._estimator.groups[group].implied(self._theta)
        return pd.DataFrame(imp["sigma"], index=self.spec.ov, columns=self.spec.ov)

    def sample_covariance(self, group: int = 0) -> pd.DataFrame:
        return pd.DataFrame(self._estimator.groups[group].sample.cov, index=self.spec.ov, columns=self.spec.ov)

    def summary(self) -> str:
        f = self.fit
        head = (f"SEM (ML), n = {self.n}" + (f", {len(self.group_labels)} groups" if len(self.group_labels) > 1 else "")
                + f": chi2({f['df']:g}) = {f['chi2']:.3f}, p = {f['p']:.4g}; CFI = {f['cfi']:.3f}, "
                f"TLI = {f['tli']:.3f}, RMSEA = {f['rmsea']:.3f} [{f['rmsea_ci_lower']:.3f}, {f['rmsea_ci_upper']:.3f}], "
                f"SRMR = {f['srmr']:.3f}")
        if self._flag():
            head = f"WARNING: {self._flag()} — do not report these numbers.\n" + head
        return head + "\n\n" + self.estimates.round(3).to_string()

    # -- modification indices
    def modindices(self, *, sort: bool = True, minimum: float = 0.0) -> pd.DataFrame:
        """Modification indices as lavaan's `modindices()`: for each parameter fixed at zero, the
        score test mi = N d² / (2 V) with d = dF/dtheta and V = H11 - H12 H22^-1 H21 (expected
        information), the expected parameter change epc = -d / V, and epc standardized (sepc.lv,
        sepc.all) as lavaan does (Saris, Satorra & Sörbom 1987)."""
        spec = self.spec
        candidates = self._candidates()
        if not candidates:
            return pd.DataFrame(columns=["lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all"])
        rows = []
        q = spec.n_free
        n = self._estimator.n_total
        for g, grp in enumerate(self._estimator.groups):
            imp = grp.implied(self._theta)
            sigma = imp["sigma"]
            inv = np.linalg.inv(sigma)
            s = grp.sample
            extra = grp.__class__.__new__(grp.__class__)
            extra.__dict__.update(grp.__dict__)
            cands = [c for c in candidates if c[3] == g]
            a_new = [(spec.index[rhs] if op == "=~" else spec.index[lhs],
                      spec.index[lhs] if op == "=~" else spec.index[rhs], q + i)
                     for i, (lhs, op, rhs, _) in enumerate(cands) if op in ("=~", "~")]
            s_new = [(spec.index[lhs], spec.index[rhs], q + i) for i, (lhs, op, rhs, _) in enumerate(cands) if op == "~~"]
            extra.a = np.vstack([grp.a, np.array(a_new, dtype=int).reshape(-1, 3)])
            extra.s = np.vstack([grp.s, np.array(s_new, dtype=int).reshape(-1, 3)])
            extra.s_off = extra.s[:, 0] != extra.s[:, 1]
            total = q + len(cands)
            d_sigma, d_mu = extra.jacobian(imp, total)
            if spec.meanstructure:
                d = s.mean - imp["mu"]
                g_sigma = inv - inv @ (s.cov + np.outer(d, d)) @ inv
                grad = np.einsum("qkl,kl->q", d_sigma, g_sigma) - 2 * d_mu @ (inv @ d)
            else:
                g_sigma = inv - inv @ s.cov @ inv
                grad = np.einsum("qkl,kl->q", d_sigma, g_sigma)
            K = np.einsum("ik,qkl->qil", inv, d_sigma)
            hess = np.einsum("qij,rji->qr", K, K)
            if spec.meanstructure:
                hess += 2 * d_mu @ inv @ d_mu.T
            rows.append((cands, grp.sample.n / n, grad, hess))
        # assemble over groups: model parameters shared, extra parameters group-specific
        n_extra = sum(len(c) for c, *_ in rows)
        H = np.zeros((q + n_extra, q + n_extra))
        grad_all = np.zeros(q + n_extra)
        offset = q
        for cands, w, grad, hess in rows:
            k = len(cands)
            idx = np.r_[np.arange(q), offset + np.arange(k)]
            H[np.ix_(idx, idx)] += w * hess
            grad_all[idx] += w * grad
            offset += k
        h22 = H[:q, :q]
        h12 = H[q:, :q]
        try:
            v = np.diag(H[q:, q:]) - np.einsum("ij,ji->i", h12, np.linalg.solve(h22, h12.T))
        except np.linalg.LinAlgError:
            raise SurveyAnalysisError("modindices: the information matrix is singular") from None
        d = grad_all[q:]
        v = np.where(v < np.finfo(float).eps ** (1 / 3), np.nan, v)
        mi = n * d**2 / (2 * v)
        epc = -d / v
        table = []
        flat = [c for c, *_ in rows for c in c]
        for (lhs, op, rhs, g), m, e in zip(flat, mi, epc, strict=True):
            table.append({"lhs": lhs, "op": op, "rhs": rhs, "group": self.group_labels[g], "mi": m, "epc": e,
                          **self._sepc(lhs, op, rhs, g, e)})
        out = pd.DataFrame(table)
        if len(self.group_labels) == 1:
            out = out.drop(columns="group")
        out = out.dropna(subset=["mi"])
        out = out[out["mi"] >= minimum]
        if sort:
            out = out.sort_values("mi", ascending=False)
        return self._flagged(out.reset_index(drop=True))

    def _candidates(self) -> list[tuple[str, str, str, int]]:
        spec = self.spec
        have = {(r.lhs, r.op, r.rhs, r.group) for r in spec.rows}
        have |= {(r.rhs, r.op, r.lhs, r.group) for r in spec.rows if r.op == "~~"}
        has_beta = any(r.op == "~" and r.lhs in spec.lv and r.rhs in spec.lv for r in spec.rows)
        indicators = list(dict.fromkeys(r.rhs for r in spec.rows if r.op == "=~"))
        out = []
        for g in range(spec.n_groups):
            for f in spec.lv:
                for x in indicators:
                    if x != f and (f, "=~", x, g) not in have and x in spec.ov:
                        out.append((f, "=~", x, g))
            ovs = [v for v in spec.ov if v not in spec.ov_x]
            for i, a in enumerate(ovs):
                for b in ovs[i + 1:]:
                    if (a, "~~", b, g) not in have:
                        out.append((a, "~~", b, g))
            for i, a in enumerate(spec.lv):
                for b in spec.lv[i + 1:]:
                    if (a, "~~", b, g) not in have:
                        out.append((a, "~~", b, g))
            if has_beta:
                for a in spec.lv:
                    for b in spec.lv:
                        if a != b and (a, "~", b, g) not in have and (b, "~", a, g) not in have:
                            out.append((a, "~", b, g))
        return out

    def _sepc(self, lhs: str, op: str, rhs: str, g: int, epc: float) -> dict[str, float]:
        grp = self._estimator.groups[g]
        row = _Row(lhs, op, rhs, g, None)
        std_lv, std_all = _standardize(self.spec, grp, self._theta, [row], np.array([abs(epc)]))
        return {"sepc.lv": float(np.sign(epc) * std_lv[0]), "sepc.all": float(np.sign(epc) * std_all[0])}

    # -- bootstrap
    def bootstrap(self, n_boot: int = 1000, *, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
        """Nonparametric bootstrap (respondents resampled within groups, model refitted from the
        estimates): bootstrap SE and percentile interval of every free and defined parameter, as
        lavaan's `se = "bootstrap"` with `parameterEstimates(boot.ci.type = "perc")`."""
        rng = np.random.default_rng(seed)
        est = self._estimator
        originals = [grp.sample for grp in est.groups]
        free_rows = self.estimates.index[self.estimates["_free"] >= 0]
        defined_rows = self.estimates.index[self.estimates["op"] == ":="]
        draws, failed = [], 0
        try:
            for _ in range(n_boot):
                samples = []
                for s in originals:
                    x = s.x[rng.integers(0, s.n, s.n)]
                    try:
                        samples.append(_Sample.of(x, self.spec.ov, "bootstrap"))
                    except SurveyAnalysisError:
                        samples = []
                        break
                if not samples:
                    failed += 1
                    continue
                est.set_samples(samples)
                try:
                    result = est.fit(self._theta, max_iter=200)
                except SurveyAnalysisError:
                    failed += 1
                    continue
                if not result.converged:
                    failed += 1
                    continue
                theta = result.theta
                free_values = theta[self.estimates.loc[free_rows, "_free"].to_numpy(int)]
                defined = _defined_values(self.spec, theta, est)
                draws.append(np.r_[free_values, [defined[name] for name in self.estimates.loc[defined_rows, "lhs"]]])
        finally:
            est.set_samples(originals)
        if not draws:
            raise SurveyAnalysisError("bootstrap: no bootstrap sample could be fitted")
        draws_arr = np.array(draws)
        tail = (1 - level) / 2
        index = list(free_rows) + list(defined_rows)
        cols = [c for c in ("lhs", "op", "rhs", "group", "label", "est") if c in self.estimates]
        table = self.estimates.loc[index, cols].copy()
        table["boot_se"] = draws_arr.std(axis=0, ddof=1)
        table["ci_lower"] = np.quantile(draws_arr, tail, axis=0)
        table["ci_upper"] = np.quantile(draws_arr, 1 - tail, axis=0)
        table.attrs["n_boot"] = len(draws)
        table.attrs["failed"] = failed
        return self._flagged(table.reset_index(drop=True))


def _label_values(spec: Specification, theta: np.ndarray, est: Estimator) -> dict[str, float]:
    values = {}
    for label, row in spec.labels.items():
        values[label] = theta[row.free] if row.free >= 0 else float(row.fixed if row.fixed is not None else 0.0)
    return values


def _defined_values(spec: Specification, theta: np.ndarray, est: Estimator,
                    labels: dict[str, float] | None = None) -> dict[str, float]:
    env = dict(_label_values(spec, theta, est) if labels is None else labels)
    out = {}
    for d in spec.syntax.defined:
        try:
            value = float(d.function(env))
        except (ZeroDivisionError, ValueError, OverflowError):
            value = float("nan")
        env[d.name] = value
        out[d.name] = value
    return out


def _parameter_table(est: Estimator, fitted: _Estimate, vcov: np.ndarray, group_labels: list[str],
                     level: float = 0.95) -> tuple[pd.DataFrame, bool, list[str]]:
    spec = est.spec
    theta = fitted.theta
    se_free = np.sqrt(np.clip(np.diag(vcov), 0, None))
    z_crit = stats.norm.ppf(0.5 + level / 2)
    records, notes, improper = [], [], False
    std_labels: dict[str, tuple[float, float]] = {}
    for grp, label in zip(est.groups, group_labels, strict=True):
        rows = grp.rows
        values = np.array([theta[r.free] if r.free >= 0 else (
            grp.S0[spec.index[r.lhs], spec.index[r.rhs]] if r.exo and r.op == "~~" else
            grp.m0[spec.index[r.lhs]] if r.exo else r.fixed) for r in rows], dtype=float)
        std_lv, std_all = _standardize(spec, grp, theta, rows, values)
        imp = grp.implied(theta)
        total = np.diag(imp["C"])
        for r, value, sl, sa in zip(rows, values, std_lv, std_all, strict=True):
            se = se_free[r.free] if r.free >= 0 else np.nan
            flag = ""
            if r.op == "~~" and r.lhs == r.rhs and value < 0:
                flag = "Heywood"
                improper = True
                notes.append(f"negative variance of {r.lhs}" + (f" in group {label!r}" if len(group_labels) > 1 else ""))
            elif r.op == "~~" and r.lhs != r.rhs and r.lhs in spec.lv and r.rhs in spec.lv:
                a, b = spec.index[r.lhs], spec.index[r.rhs]
                corr = imp["C"][a, b] / np.sqrt(abs(total[a] * total[b]))
                if abs(corr) > 1:
                    flag = "|r| > 1"
                    improper = True
                    notes.append(f"correlation of {r.lhs} and {r.rhs} beyond ±1")
            records.append({"lhs": r.lhs, "op": r.op, "rhs": r.rhs, "group": label, "label": r.label or "",
                            "est": value, "se": se, "std_lv": sl, "std_all": sa, "flag": flag, "_free": r.free,
                            "_user": r.user})
            if r.label and grp.g == 0:
                std_labels[r.label] = (sl, sa)
    # defined parameters: delta method
    defined = _defined_values(spec, theta, est)
    if defined:
        base = _label_values(spec, theta, est)
        jac = np.zeros((len(defined), spec.n_free))
        for k in range(spec.n_free):
            h = 1e-6 * max(1.0, abs(theta[k]))
            up, down = theta.copy(), theta.copy()
            up[k] += h
            down[k] -= h
            plus, minus = _defined_values(spec, up, est), _defined_values(spec, down, est)
            jac[:, k] = [(plus[n] - minus[n]) / (2 * h) for n in defined]
        cov_defined = jac @ vcov @ jac.T
        lv_env = {k: v[0] for k, v in std_labels.items()}
        all_env = {k: v[1] for k, v in std_labels.items()}
        for label_name in base:
            lv_env.setdefault(label_name, np.nan)
            all_env.setdefault(label_name, np.nan)
        std_lv_defined = _defined_values(spec, theta, est, lv_env)
        std_all_defined = _defined_values(spec, theta, est, all_env)
        for i, (name, value) in enumerate(defined.items()):
            expression = next(d.expression for d in spec.syntax.defined if d.name == name)
            records.append({"lhs": name, "op": ":=", "rhs": expression, "group": group_labels[0], "label": name,
                            "est": value, "se": float(np.sqrt(max(cov_defined[i, i], 0.0))),
                            "std_lv": std_lv_defined[name], "std_all": std_all_defined[name], "flag": "",
                            "_free": -1, "_user": True})
    table = pd.DataFrame(records)
    table["z"] = table["est"] / table["se"]
    table["p"] = 2 * stats.norm.sf(np.abs(table["z"]))
    table["ci_lower"] = table["est"] - z_crit * table["se"]
    table["ci_upper"] = table["est"] + z_crit * table["se"]
    # lavaan's order within a group: =~, ~, ~~ covariances, ~~ variances, ~1; then :=
    is_var = (table["op"] == "~~") & (table["lhs"] == table["rhs"])
    order = table["op"].map(_OP_ORDER) + np.where(is_var, 1, 0)
    group_order = table["group"].map({g: i for i, g in enumerate(group_labels)})
    group_order = np.where(table["op"] == ":=", len(group_labels), group_order)
    table = table.assign(_g=group_order, _o=order, _n=np.arange(len(table)))
    table = table.sort_values(["_g", "_o", "_n"]).drop(columns=["_g", "_o", "_n"]).reset_index(drop=True)
    if not fitted.converged:
        table["flag"] = "not converged"
    cols = ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "p", "ci_lower", "ci_upper", "std_lv",
            "std_all", "flag", "_free", "_user"]
    table = table[cols]
    if len(group_labels) == 1:
        table = table.drop(columns="group")
    return table, improper, list(dict.fromkeys(notes))


def _samples_by_group(frame: pd.DataFrame, ov: list[str], group: str | None, caller: str
                      ) -> tuple[list[_Sample], list[str]]:
    if group is None:
        x = numeric_items(frame, ov, caller).dropna().to_numpy(float)
        return [_Sample.of(x, ov, caller)], ["all"]
    if group not in frame.columns:
        raise SurveyAnalysisError(f"{caller}: group column {group!r} is not a column of the data")
    values = numeric_items(frame, ov, caller)
    labels = frame[group]
    keep = values.notna().all(axis=1) & labels.notna()
    levels = list(dict.fromkeys(labels[keep]))
    if len(levels) < 2:
        raise SurveyAnalysisError(f"{caller}: group column {group!r} has fewer than two groups")
    samples = [_Sample.of(values[keep & (labels == lv)].to_numpy(float), ov, caller, str(lv)) for lv in levels]
    return samples, [str(lv) for lv in levels]


def fit_model(syntax: ModelSyntax, data: object, *, caller: str, group: str | None = None,
              group_equal: Sequence[str] = (), std_lv: bool = False, meanstructure: bool | None = None,
              fixed_x: bool = True, orthogonal: bool = False, max_iter: int = 500,
              gtol: float = 1e-6, bounds: bool = False) -> SEMResult:
    """Shared by `sem`, `cfa` and `measurement_invariance`."""
    frame = _frame_of(data, caller)
    if isinstance(group_equal, str):
        group_equal = (group_equal,)
    if meanstructure is None:
        meanstructure = group is not None or any(s.op == "~1" for s in syntax.statements)
    probe = Specification(syntax, 1, std_lv=std_lv, group_equal=(), meanstructure=False, fixed_x=fixed_x)
    samples, labels = _samples_by_group(frame, probe.ov, group, caller)
    spec = Specification(syntax, len(samples), std_lv=std_lv, group_equal=group_equal,
                         meanstructure=meanstructure, fixed_x=fixed_x, orthogonal=orthogonal)
    moments = len(samples) * (spec.p * (spec.p + 1) / 2 + (spec.p if meanstructure else 0))
    if spec.n_free > moments:
        raise SurveyAnalysisError(f"{caller}: the model has {spec.n_free} free parameters but only {moments:g} "
                                  "sample moments; it is not identified")
    est = Estimator(spec, samples)
    fitted = est.fit(max_iter=max_iter, gtol=gtol)
    bounded_notes = []
    if bounds:
        variances = est.variance_parameters()
        if len(variances) and np.any(fitted.theta[variances] < 0):
            fitted = est.fit_bounded(fitted.theta, max_iter=max_iter, gtol=gtol)
            at_bound = [r.lhs for r in spec.rows if r.free in set(variances[fitted.theta[variances] <= 1e-10])]
            bounded_notes.append(f"variance(s) of {list(dict.fromkeys(at_bound))} held at the bound 0 "
                                 "(an improper solution constrained; chi² and SEs are then approximate)")
    if not fitted.converged:
        warnings.warn(f"{caller}: the optimizer did not converge ({fitted.message}; largest gradient "
                      f"{np.max(np.abs(fitted.gradient)):.2g}); every table is flagged 'not converged'",
                      SEMConvergenceWarning, stacklevel=3)
    vcov = est.vcov(fitted.theta)
    table, improper, notes = _parameter_table(est, fitted, vcov, labels)
    if bounded_notes:
        improper = True
        notes = bounded_notes + notes
        for r in spec.rows:
            if r.free >= 0 and r.op == "~~" and r.lhs == r.rhs and fitted.theta[r.free] <= 1e-10:
                table.loc[(table["lhs"] == r.lhs) & (table["rhs"] == r.lhs) & (table["op"] == "~~"), "flag"] = "at bound"
    if improper:
        warnings.warn(f"{caller}: improper solution (Heywood case): {'; '.join(notes)}", ImproperSolutionWarning,
                      stacklevel=3)
    fit = _fit_measures(est, fitted.theta)
    return SEMResult(table, fit, est.n_total, fitted.converged, improper, fitted.iterations, labels, notes,
                     syntax.text, est, fitted.theta, vcov)


def sem(model: str, data: object, *, group: str | None = None, group_equal: Sequence[str] = (),
        std_lv: bool = False, meanstructure: bool | None = None, fixed_x: bool = True,
        max_iter: int = 500, gtol: float = 1e-6, bounds: bool = False) -> SEMResult:
    """Fit a structural equation model by maximum likelihood, with lavaan's `sem()` defaults.

    Defaults as lavaan's: the first loading of each factor fixed to 1 (or, with `std_lv=True`,
    every latent (residual) variance fixed to 1); residual variances of all observed and latent
    variables free; covariances free among exogenous latent variables and among purely dependent
    variables; exogenous observed predictors fixed at their sample (co)variances (`fixed_x`);
    listwise deletion of incomplete rows (NaN); infinite values refused.

    Args:
        model: lavaan model syntax, e.g.
            ``"ind60 =~ x1 + x2 + x3\\n dem60 =~ y1 + y2 + y3 + y4\\n dem60 ~ a*ind60\\n ..."``;
            `name := a*b` defines a parameter (delta-method SE in `estimates`, percentile interval
            from `SEMResult.bootstrap`).
        data: respondents x variables (DataFrame or SurveyData).
        group: column whose values define groups for a multi-group fit (lavaan's `group=`).
        group_equal: parameter kinds held equal across groups: any of "loadings", "intercepts",
            "means", "residuals", "residual.covariances", "lv.variances", "lv.covariances",
            "regressions" (lavaan's `group.equal`).
        std_lv: identify latent variables by unit (residual) variance instead of marker loadings.
        meanstructure: model means and intercepts (default: with groups or any `~ 1`).
        fixed_x: fix exogenous observed predictors at their sample moments (lavaan's default).
        max_iter, gtol: iteration limit and gradient tolerance on the ML discrepancy.
        bounds: when the (unbounded, lavaan-default) solution has a negative variance, refit with
            every variance >= 0 (L-BFGS-B); the bounded rows are flagged "at bound" and the
            result stays marked improper.

    Returns:
        SEMResult with `estimates`, `fit` (lavaan's `fitMeasures()` names), `r2()`,
        `standardized()`, `modindices()`, `bootstrap()`, `summary()`.

    Example:
        >>> import survey
        >>> fit = survey.sem("ind60 =~ x1 + x2 + x3\\ndem60 =~ y1 + y2 + y3 + y4\\n"
        ...                  "dem60 ~ ind60", political_democracy)  # doctest: +SKIP
    """
    syntax = parse_syntax(model)
    return fit_model(syntax, data, caller="sem", group=group, group_equal=group_equal, std_lv=std_lv,
                     meanstructure=meanstructure, fixed_x=fixed_x, max_iter=max_iter, gtol=gtol, bounds=bounds)


__all__ = ["GROUP_EQUAL", "Estimator", "ImproperSolutionWarning", "SEMConvergenceWarning", "SEMResult",
           "Specification", "fit_model", "numeric_items", "sem"]
