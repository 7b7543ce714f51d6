"""Confirmatory factor analysis by maximum likelihood, with fit measures on lavaan's scale.

`cfa("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6", data)` fits the model to the sample
covariance matrix (divisor N, lavaan's default for `likelihood = "normal"`), identifies each factor
by its first loading (or by unit factor variances with `std_lv=True`), and returns estimates with
standard errors from the expected information, standardized solutions, and fit measures computed
as lavaan's `fitMeasures()` does: chi² = N F_ML, CFI, TLI, NFI, IFI against the independence
model, RMSEA with its 90% interval and close-fit p, SRMR (Bentler), GFI/AGFI, log-likelihood,
AIC and BIC (parameters without means). Also composite reliability, AVE, the Fornell-Larcker
table and HTMT for discriminant validity.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from survey.errors import SurveyAnalysisError, SurveyAnalysisWarning


class CFAConvergenceWarning(SurveyAnalysisWarning):
    """The optimizer did not converge; estimates and fit measures are not trustworthy."""


class HeywoodWarning(SurveyAnalysisWarning):
    """A residual variance is negative or a factor correlation exceeds 1 (an improper solution)."""


_NAME = r"[A-Za-z_\u4e00-\u9fff][\w.\u4e00-\u9fff]*"


@dataclass
class _Model:
    factors: list[str]
    indicators: dict[str, list[tuple[str, float | None]]]  # factor -> [(item, fixed value or None)]
    covariances: list[tuple[str, str]]  # residual covariances between items
    items: list[str]


def parse_model(model: str) -> _Model:
    """Parse lavaan syntax: `F =~ a + b + c`, `a ~~ b` (residual covariance), `1*a` (fixed)."""
    if not isinstance(model, str) or not model.strip():
        raise SurveyAnalysisError("cfa: the model is an empty string; write lines like 'F1 =~ x1 + x2 + x3'")
    factors: list[str] = []
    indicators: dict[str, list[tuple[str, float | None]]] = {}
    covariances: list[tuple[str, str]] = []
    statements = [s.strip() for line in model.splitlines() for s in line.split("#", 1)[0].split(";")]
    for statement in filter(None, statements):
        if "=~" in statement:
            lhs, rhs = (part.strip() for part in statement.split("=~", 1))
            if not re.fullmatch(_NAME, lhs):
                raise SurveyAnalysisError(f"cfa: {lhs!r} is not a valid factor name in {statement!r}")
            terms = []
            for term in (t.strip() for t in rhs.split("+")):
                fixed: float | None = None
                if "*" in term:
                    head, term = (x.strip() for x in term.split("*", 1))
                    if head.upper() != "NA":
                        try:
                            fixed = float(head)
                        except ValueError:
                            raise SurveyAnalysisError(f"cfa: cannot read the modifier {head!r} in {statement!r}") from None
                if not re.fullmatch(_NAME, term):
                    raise SurveyAnalysisError(f"cfa: {term!r} is not a valid item name in {statement!r}")
                terms.append((term, fixed))
            if lhs not in indicators:
                factors.append(lhs)
                indicators[lhs] = []
            indicators[lhs] += terms
        elif "~~" in statement:
            lhs, rhs = (part.strip() for part in statement.split("~~", 1))
            if not (re.fullmatch(_NAME, lhs) and re.fullmatch(_NAME, rhs)):
                raise SurveyAnalysisError(f"cfa: cannot read {statement!r}")
            covariances.append((lhs, rhs))
        else:
            raise SurveyAnalysisError(f"cfa: cannot read {statement!r}; use '=~' for loadings and '~~' for "
                                      "residual covariances")
    if not factors:
        raise SurveyAnalysisError("cfa: the model defines no factor ('F =~ a + b + c')")
    items = list(dict.fromkeys(item for f in factors for item, _ in indicators[f]))
    for f in factors:
        if len(indicators[f]) < 2 and len(factors) == 1:
            raise SurveyAnalysisError(f"cfa: factor {f!r} needs at least 3 items to be identified on its own")
    for a, b in covariances:
        for name in (a, b):
            if name not in items and name not in factors:
                raise SurveyAnalysisError(f"cfa: {name!r} in '{a} ~~ {b}' is neither an item nor a factor of the model")
    return _Model(factors, indicators, covariances, items)


@dataclass
class CFAResult:
    """A fitted CFA. Figures are on lavaan's scale; tables are indexed by lhs/op/rhs like
    lavaan's parameterEstimates()."""

    estimates: pd.DataFrame
    loadings: pd.DataFrame  # standardized loadings (items x factors)
    factor_correlations: pd.DataFrame
    fit: dict[str, float]
    n: int
    converged: bool
    implied: pd.DataFrame
    sample: pd.DataFrame
    model: str = ""
    notes: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> float:
        fit = self.__dict__.get("fit", {})
        if name in fit:
            return fit[name]
        raise AttributeError(name)

    def reliability(self) -> pd.DataFrame:
        """Composite reliability (CR) and average variance extracted (AVE) per factor
        (Fornell & Larcker 1981, from the standardized loadings)."""
        rows = {}
        for factor in self.loadings.columns:
            lam = self.loadings[factor].dropna().to_numpy()
            error = (1 - lam**2).sum()
            rows[factor] = {"CR": lam.sum() ** 2 / (lam.sum() ** 2 + error), "AVE": float(np.mean(lam**2)),
                            "k": lam.size}
        return pd.DataFrame.from_dict(rows, orient="index")

    def fornell_larcker(self) -> pd.DataFrame:
        """sqrt(AVE) on the diagonal, factor correlations below it (discriminant validity holds
        when each diagonal value exceeds the correlations in its row and column)."""
        table = self.factor_correlations.copy()
        ave = self.reliability()["AVE"]
        for f in table.index:
            table.loc[f, f] = np.sqrt(ave[f])
        return table.where(np.tril(np.ones(table.shape, dtype=bool)))

    def htmt(self) -> pd.DataFrame:
        """Heterotrait-monotrait ratio of correlations (Henseler, Ringle & Sarstedt 2015) from the
        observed item correlations; values below .85 (or .90) support discriminant validity."""
        sd = np.sqrt(np.diag(self.sample.to_numpy()))
        r = self.sample.to_numpy() / np.outer(sd, sd)
        index = {item: i for i, item in enumerate(self.sample.index)}
        groups = {f: [index[i] for i in self.loadings[f].dropna().index] for f in self.loadings.columns}

        def mono(g: list[int]) -> float:
            block = np.abs(r[np.ix_(g, g)])
            return float(block[np.triu_indices(len(g), 1)].mean())

        names = list(groups)
        table = pd.DataFrame(np.nan, index=names, columns=names)
        for i, a in enumerate(names):
            for b in names[:i]:
                hetero = float(np.abs(r[np.ix_(groups[a], groups[b])]).mean())
                table.loc[a, b] = hetero / np.sqrt(mono(groups[a]) * mono(groups[b]))
        return table

    def to_frame(self) -> pd.DataFrame:
        return self.estimates.copy()

    def fit_table(self) -> pd.DataFrame:
        keys = ["chi2", "df", "p", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr",
                "gfi", "agfi", "nfi", "ifi", "logl", "aic", "bic"]
        return pd.DataFrame({"value": [self.fit[k] for k in keys]}, index=pd.Index(keys, name="measure"))

    def summary(self) -> str:
        f = self.fit
        return (f"CFA (ML), n = {self.n}: chi2({f['df']:g}) = {f['chi2']:.3f}, p = {f['p']:.4g}; CFI = {f['cfi']:.3f}, "
                f"TLI = {f['tli']:.3f}, RMSEA = {f['rmsea']:.3f} [{f['rmsea_ci_lower']:.3f}, {f['rmsea_ci_upper']:.3f}], "
                f"SRMR = {f['srmr']:.3f}\n\n{self.estimates.round(3).to_string()}")


class _Spec:
    """Free parameters of the model and how they map to Lambda, Phi and Theta."""

    def __init__(self, m: _Model, std_lv: bool) -> None:
        self.m = m
        p, k = len(m.items), len(m.factors)
        self.p, self.k = p, k
        self.item = {name: i for i, name in enumerate(m.items)}
        self.lam_fixed = np.zeros((p, k))
        self.free: list[tuple[str, int, int]] = []  # (matrix, row, col)
        for j, f in enumerate(m.factors):
            for pos, (item, fixed) in enumerate(m.indicators[f]):
                i = self.item[item]
                if fixed is not None:
                    self.lam_fixed[i, j] = fixed
                elif pos == 0 and not std_lv and not any(v is not None for _, v in m.indicators[f]):
                    self.lam_fixed[i, j] = 1.0  # marker
                else:
                    self.free.append(("L", i, j))
        for j in range(k):
            for i in range(j + 1):
                if i == j and std_lv:
                    continue
                self.free.append(("P", j, i))
        for i in range(p):
            self.free.append(("T", i, i))
        factor = {f: j for j, f in enumerate(m.factors)}
        for a, b in m.covariances:
            if a in self.item and b in self.item:
                i, j = sorted((self.item[a], self.item[b]))
                if i != j:
                    self.free.append(("T", j, i))
            elif a in factor and b in factor and a != b:
                pass  # factor covariances are free already
        self.std_lv = std_lv

    def matrices(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lam = self.lam_fixed.copy()
        phi = np.eye(self.k) if self.std_lv else np.zeros((self.k, self.k))
        th = np.zeros((self.p, self.p))
        for value, (kind, i, j) in zip(theta, self.free, strict=True):
            if kind == "L":
                lam[i, j] = value
            elif kind == "P":
                phi[i, j] = phi[j, i] = value
            else:
                th[i, j] = th[j, i] = value
        return lam, phi, th

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        lam, phi, th = self.matrices(theta)
        return lam @ phi @ lam.T + th

    def derivatives(self, theta: np.ndarray) -> list[np.ndarray]:
        """dSigma/dtheta_q for every free parameter."""
        lam, phi, _ = self.matrices(theta)
        out = []
        for kind, i, j in self.free:
            if kind == "L":
                e = np.zeros((self.p, self.k))
                e[i, j] = 1.0
                d = e @ phi @ lam.T
                out.append(d + d.T)
            elif kind == "P":
                e = np.zeros((self.k, self.k))
                e[i, j] = e[j, i] = 1.0
                out.append(lam @ e @ lam.T)
            else:
                e = np.zeros((self.p, self.p))
                e[i, j] = e[j, i] = 1.0
                out.append(e)
        return out


def _start(spec: _Spec, s: np.ndarray) -> np.ndarray:
    values = []
    var = np.diag(s)
    for kind, i, j in spec.free:
        if kind == "L":
            values.append(0.7)
        elif kind == "P":
            if i == j:
                markers = [r for r in range(spec.p) if spec.lam_fixed[r, i] != 0]
                values.append(0.5 * var[markers[0]] if markers else 1.0)
            else:
                values.append(0.0)
        else:
            values.append(0.5 * var[i] if i == j else 0.0)
    return np.array(values)


def _f_ml(sigma: np.ndarray, s: np.ndarray, logdet_s: float) -> tuple[float, np.ndarray | None]:
    sign, logdet = np.linalg.slogdet(sigma)
    if sign <= 0:
        return np.inf, None
    inv = np.linalg.inv(sigma)
    value = logdet + np.trace(s @ inv) - logdet_s - s.shape[0]
    return float(value), inv


def _rmsea_ci(chi2: float, df: float, n: int, level: float = 0.90) -> tuple[float, float]:
    """lavaan's interval: noncentrality lambda with P(X <= chi2 | df, lambda) = 0.95 / 0.05."""
    def solve(target: float) -> float:
        f = lambda lam: stats.ncx2.cdf(chi2, df, lam) - target if lam > 0 else stats.chi2.cdf(chi2, df) - target  # noqa: E731
        if f(0.0) < 0:
            return 0.0
        hi = max(1.0, chi2)
        while f(hi) > 0:
            hi *= 2
        return optimize.brentq(f, 0.0, hi)

    tail = (1 - level) / 2
    lo, hi = solve(1 - tail), solve(tail)
    return float(np.sqrt(lo / (df * n))), float(np.sqrt(hi / (df * n)))


def cfa(model: str, data: pd.DataFrame, *, std_lv: bool = False,
        missing: Literal["listwise"] = "listwise", max_iter: int = 2000) -> CFAResult:
    """Fit a CFA by maximum likelihood (see the module docstring).

    Args:
        model: lavaan-style syntax ('F =~ x1 + x2 + x3' per factor; 'x1 ~~ x2' residual
            covariances; '1*x1' fixed loadings; '#' comments).
        data: respondents x items (items must be numeric); listwise deletion.
        std_lv: identify factors by unit variance instead of a marker loading of 1.
    """
    if missing != "listwise":
        raise SurveyAnalysisError("cfa: only listwise deletion is implemented")
    m = parse_model(model)
    if not isinstance(data, pd.DataFrame):
        data = getattr(data, "data", None)
        if not isinstance(data, pd.DataFrame):
            raise SurveyAnalysisError("cfa: data must be a DataFrame or SurveyData")
    absent = [i for i in m.items if i not in data.columns]
    if absent:
        raise SurveyAnalysisError(f"cfa: the model names {absent}, which are not columns of the data; "
                                  f"columns: {list(map(str, data.columns))[:30]}")
    frame = data[m.items].apply(pd.to_numeric, errors="coerce")
    text = frame.isna() & data[m.items].notna()
    if text.any().any():
        column = text.any().idxmax()
        raise SurveyAnalysisError(f"cfa: item {column!r} holds non-numeric values")
    frame = frame.dropna()
    n, p = len(frame), len(m.items)
    if n <= p:
        raise SurveyAnalysisError(f"cfa: {n} complete respondents for {p} items; need more respondents than items")
    x = frame.to_numpy(float)
    s = np.cov(x, rowvar=False, ddof=0)
    if np.any(np.diag(s) == 0):
        raise SurveyAnalysisError(f"cfa: constant item(s) {[i for i, v in zip(m.items, np.diag(s), strict=True) if v == 0]}")
    sign, logdet_s = np.linalg.slogdet(s)
    if sign <= 0:
        raise SurveyAnalysisError("cfa: the item covariance matrix is singular (an item is a combination of others)")
    spec = _Spec(m, std_lv)
    q = len(spec.free)
    df = p * (p + 1) // 2 - q
    if df < 0:
        raise SurveyAnalysisError(f"cfa: the model has {q} free parameters but only {p * (p + 1) // 2} "
                                  "variances and covariances; it is not identified")

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        sigma = spec.sigma(theta)
        value, inv = _f_ml(sigma, s, logdet_s)
        if inv is None:
            return 1e10, np.zeros_like(theta)
        g = inv - inv @ s @ inv
        grad = np.array([np.sum(g * d) for d in spec.derivatives(theta)])
        return value, grad

    start = _start(spec, s)
    fitted = optimize.minimize(objective, start, jac=True, method="BFGS",
                               options={"maxiter": max_iter, "gtol": 1e-9})
    if not fitted.success and fitted.status != 2:
        warnings.warn(f"cfa: the optimizer did not converge ({fitted.message})", CFAConvergenceWarning, stacklevel=2)
    elif fitted.status == 2 and np.max(np.abs(fitted.jac)) > 1e-4:
        warnings.warn(f"cfa: the optimizer stopped before convergence ({fitted.message})",
                      CFAConvergenceWarning, stacklevel=2)
    theta = fitted.x
    converged = bool(np.max(np.abs(fitted.jac)) < 1e-4)
    lam, phi, th = spec.matrices(theta)
    sigma = spec.sigma(theta)
    f_min, inv = _f_ml(sigma, s, logdet_s)
    if inv is None:
        raise SurveyAnalysisError("cfa: the fitted covariance matrix is not positive definite; the model "
                                  "cannot be estimated on these data")
    # standard errors: expected information (N/2) D' (Sigma^-1 x Sigma^-1) D
    derivs = spec.derivatives(theta)
    info = np.empty((q, q))
    a_list = [inv @ d for d in derivs]
    for i in range(q):
        for j in range(i + 1):
            info[i, j] = info[j, i] = 0.5 * n * np.sum(a_list[i] * a_list[j].T)
    try:
        vcov = np.linalg.inv(info)
        se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(q, np.nan)
    notes = []
    if np.any(np.diag(th) < 0):
        bad = [m.items[i] for i in np.flatnonzero(np.diag(th) < 0)]
        warnings.warn(f"cfa: negative residual variance for {bad} (Heywood case)", HeywoodWarning, stacklevel=2)
        notes.append(f"Heywood case: {bad}")
    fsd = np.sqrt(np.clip(np.diag(phi), 1e-300, None))
    corr = phi / np.outer(fsd, fsd)
    if np.any(np.abs(corr[np.triu_indices(spec.k, 1)]) > 1):
        warnings.warn("cfa: a factor correlation exceeds 1 in absolute value", HeywoodWarning, stacklevel=2)
    isd = np.sqrt(np.diag(sigma))
    std_lam = lam * fsd[None, :] / isd[:, None]

    rows = []
    value_of = dict(zip(spec.free, theta, strict=True))
    se_of = dict(zip(spec.free, se, strict=True))
    for j, f in enumerate(m.factors):
        for item, _ in m.indicators[f]:
            i = spec.item[item]
            key = ("L", i, j)
            est = value_of.get(key, spec.lam_fixed[i, j])
            rows.append(("=~", f, item, est, se_of.get(key, np.nan), std_lam[i, j]))
    for j in range(spec.k):
        for i in range(j + 1):
            key = ("P", j, i)
            est = phi[j, i]
            std = corr[j, i] if i != j else 1.0
            if i != j:
                rows.append(("~~", m.factors[i], m.factors[j], est, se_of.get(key, np.nan), std))
    for i, item in enumerate(m.items):
        rows.append(("~~", item, item, th[i, i], se_of.get(("T", i, i), np.nan), th[i, i] / sigma[i, i]))
    for a, b in m.covariances:
        if a in spec.item and b in spec.item and a != b:
            i, j = sorted((spec.item[a], spec.item[b]))
            rows.append(("~~", a, b, th[j, i], se_of.get(("T", j, i), np.nan), th[j, i] / (isd[i] * isd[j])))
    for j, f in enumerate(m.factors):
        rows.append(("~~", f, f, phi[j, j], se_of.get(("P", j, j), np.nan), 1.0))
    est = pd.DataFrame(rows, columns=["op", "lhs", "rhs", "est", "se", "std_all"])
    est = est[["lhs", "op", "rhs", "est", "se", "std_all"]]
    est["z"] = est["est"] / est["se"]
    est["p"] = 2 * stats.norm.sf(np.abs(est["z"]))
    est = est[["lhs", "op", "rhs", "est", "se", "z", "p", "std_all"]]

    # fit measures (lavaan's fitMeasures)
    chi2 = n * f_min
    p_value = float(stats.chi2.sf(chi2, df)) if df > 0 else float("nan")
    base_f = float(np.sum(np.log(np.diag(s))) - logdet_s)
    chi2_b, df_b = n * base_f, p * (p - 1) / 2
    d, d_b = max(chi2 - df, 0.0), max(chi2_b - df_b, 0.0)
    cfi = 1.0 - d / max(d, d_b) if max(d, d_b) > 0 else 1.0
    tli = ((chi2_b / df_b) - (chi2 / df)) / ((chi2_b / df_b) - 1.0) if df > 0 else float("nan")
    rmsea = float(np.sqrt(d / (df * n))) if df > 0 else float("nan")
    lo, hi = _rmsea_ci(chi2, df, n) if df > 0 else (float("nan"), float("nan"))
    rmsea_p = float(stats.ncx2.sf(chi2, df, 0.05**2 * df * n)) if df > 0 else float("nan")
    scale = np.sqrt(np.outer(np.diag(s), np.diag(s)))
    resid = (s - sigma) / scale
    srmr = float(np.sqrt(np.mean(resid[np.tril_indices(p)] ** 2)))
    ws = inv @ s
    gfi = 1.0 - np.trace((ws - np.eye(p)) @ (ws - np.eye(p))) / np.trace(ws @ ws)
    agfi = 1.0 - (p * (p + 1) / 2) / df * (1 - gfi) if df > 0 else float("nan")
    logl = -0.5 * n * (p * np.log(2 * np.pi) + np.linalg.slogdet(sigma)[1] + np.trace(s @ inv))
    logl_h1 = -0.5 * n * (p * np.log(2 * np.pi) + logdet_s + p)
    fit = {"chi2": float(chi2), "df": float(df), "p": p_value, "baseline_chi2": float(chi2_b),
           "baseline_df": float(df_b), "cfi": float(cfi), "tli": float(tli),
           "nfi": float((chi2_b - chi2) / chi2_b), "ifi": float((chi2_b - chi2) / (chi2_b - df)),
           "rmsea": rmsea, "rmsea_ci_lower": lo, "rmsea_ci_upper": hi, "rmsea_pvalue": rmsea_p,
           "srmr": srmr, "gfi": float(gfi), "agfi": float(agfi), "logl": float(logl),
           "unrestricted_logl": float(logl_h1), "npar": float(q), "aic": float(-2 * logl + 2 * q),
           "bic": float(-2 * logl + q * np.log(n))}
    member = np.array([[item in {i for i, _ in m.indicators[f]} for f in m.factors] for item in m.items])
    loadings = pd.DataFrame(np.where(member, std_lam, np.nan), index=m.items, columns=m.factors)
    return CFAResult(est, loadings, pd.DataFrame(corr, index=m.factors, columns=m.factors), fit, n, converged,
                     pd.DataFrame(sigma, index=m.items, columns=m.items),
                     pd.DataFrame(s, index=m.items, columns=m.items), model, notes)


__all__ = ["CFAConvergenceWarning", "CFAResult", "HeywoodWarning", "cfa", "parse_model"]
