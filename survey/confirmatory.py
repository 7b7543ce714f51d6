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

from survey.errors import SurveyAnalysisError, SurveyAnalysisWarning
from survey.lavaan_syntax import parse_syntax
from survey.structural import ImproperSolutionWarning, SEMConvergenceWarning, SEMResult, fit_model

CFAConvergenceWarning = SEMConvergenceWarning  # the optimizer did not converge
HeywoodWarning = ImproperSolutionWarning  # negative variance or factor correlation beyond 1


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
    lavaan's parameterEstimates(). When the fit did not converge or is improper (Heywood case),
    `converged` / `improper` say so and every table carries a `flag` column."""

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
    improper: bool = False
    sem: SEMResult | None = field(default=None, repr=False)

    def __getattr__(self, name: str) -> float:
        fit = self.__dict__.get("fit", {})
        if name in fit:
            return fit[name]
        raise AttributeError(name)

    def _flag(self) -> str:
        if not self.converged:
            return "not converged"
        return "improper solution" if self.improper else ""

    def _flagged(self, table: pd.DataFrame) -> pd.DataFrame:
        if self._flag():
            table = table.copy()
            table["flag"] = self._flag()
        return table

    def reliability(self) -> pd.DataFrame:
        """Composite reliability and average variance extracted per factor (Fornell & Larcker 1981)
        from the absolute standardized loadings l:

            CR = (sum |l|)² / ((sum |l|)² + sum (1 - l²)),   AVE = mean(l²).

        A negative loading (an item keyed against its factor and not reversed) is named in a
        warning: signed loadings would cancel in the sum and CR would collapse towards 0.
        """
        rows = {}
        negative = []
        for factor in self.loadings.columns:
            column = self.loadings[factor].dropna()
            negative += [f"{item} ({factor}: {value:.3f})" for item, value in column.items() if value < 0]
            lam = np.abs(column.to_numpy())
            error = (1 - lam**2).sum()
            rows[factor] = {"CR": lam.sum() ** 2 / (lam.sum() ** 2 + error), "AVE": float(np.mean(lam**2)),
                            "k": lam.size}
        if negative:
            warnings.warn(f"cfa: negative standardized loading(s) {', '.join(negative)}; CR and AVE use absolute "
                          "loadings — reverse-score these items if they are keyed against the scale",
                          SurveyAnalysisWarning, stacklevel=2)
        return self._flagged(pd.DataFrame.from_dict(rows, orient="index"))

    def fornell_larcker(self) -> pd.DataFrame:
        """sqrt(AVE) on the diagonal, factor correlations below it (discriminant validity holds
        when each diagonal value exceeds the correlations in its row and column)."""
        table = self.factor_correlations.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurveyAnalysisWarning)
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

    def modindices(self, **kwargs: object) -> pd.DataFrame:
        """lavaan's `modindices()` (see `SEMResult.modindices`)."""
        return self._flagged(self.sem.modindices(**kwargs))

    def to_frame(self) -> pd.DataFrame:
        return self.estimates.copy()

    def fit_table(self) -> pd.DataFrame:
        keys = ["chi2", "df", "p", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr",
                "gfi", "agfi", "nfi", "ifi", "logl", "aic", "bic"]
        table = pd.DataFrame({"value": [self.fit[k] for k in keys]}, index=pd.Index(keys, name="measure"))
        return self._flagged(table)

    def summary(self) -> str:
        f = self.fit
        head = (f"CFA (ML), n = {self.n}: chi2({f['df']:g}) = {f['chi2']:.3f}, p = {f['p']:.4g}; CFI = {f['cfi']:.3f}, "
                f"TLI = {f['tli']:.3f}, RMSEA = {f['rmsea']:.3f} [{f['rmsea_ci_lower']:.3f}, {f['rmsea_ci_upper']:.3f}], "
                f"SRMR = {f['srmr']:.3f}")
        if self._flag():
            head = f"WARNING: {self._flag()} ({'; '.join(self.notes) or 'see the flag column'}) — do not report.\n" + head
        return head + f"\n\n{self.estimates.round(3).to_string()}"


def cfa(model: str, data: pd.DataFrame, *, std_lv: bool = False,
        missing: Literal["listwise"] = "listwise", max_iter: int = 500, gtol: float = 1e-6,
        bounds: bool = False) -> CFAResult:
    """Fit a CFA by maximum likelihood (see the module docstring and `survey.sem`).

    Start values are data-driven as lavaan's ("fabin3" loadings, residual variances half the
    observed variance), so a negatively keyed marker item or residual covariances do not send
    the optimizer to a local solution; convergence is judged by the gradient. A fit that did not
    converge warns (`CFAConvergenceWarning`) and is flagged in every table; a negative variance
    or a factor correlation beyond 1 warns (`HeywoodWarning`) and is flagged on its row.

    Args:
        model: lavaan-style syntax ('F =~ x1 + x2 + x3' per factor; 'x1 ~~ x2' residual
            covariances; '1*x1' fixed loadings; 'a*x2' labels; '#' comments).
        data: respondents x items (items must be numeric); listwise deletion of NaN rows,
            infinite values refused.
        std_lv: identify factors by unit variance instead of a marker loading of 1.
        max_iter, gtol: iteration limit and gradient tolerance.
        bounds: refit an improper solution with every variance >= 0 (rows flagged "at bound").
    """
    if missing != "listwise":
        raise SurveyAnalysisError("cfa: only listwise deletion is implemented")
    syntax = parse_syntax(model)
    if not any(s.op == "=~" for s in syntax.statements):
        raise SurveyAnalysisError("cfa: the model defines no factor ('F =~ a + b + c')")
    m = parse_model("\n".join(line for line in model.splitlines() if ":=" not in line)) if all(
        s.op in ("=~", "~~") for s in syntax.statements) else None
    if m is not None:
        for f in m.factors:
            if len(m.indicators[f]) < 2 and len(m.factors) == 1:
                raise SurveyAnalysisError(f"cfa: factor {f!r} needs at least 3 items to be identified on its own")
    result = fit_model(syntax, data, caller="cfa", std_lv=std_lv, max_iter=max_iter, gtol=gtol, bounds=bounds)
    spec = result.spec
    est = result.estimates.drop(columns=["_free", "_user", "label"])
    item_at = {v: i for i, v in enumerate(spec.ov)}
    factor_at = {f: j for j, f in enumerate(spec.lv)}
    lam = np.full((len(spec.ov), len(spec.lv)), np.nan)
    corr = np.eye(len(spec.lv))
    for lhs, op, rhs, value in zip(est["lhs"], est["op"], est["rhs"], est["std_all"], strict=True):
        if op == "=~" and rhs in item_at:
            lam[item_at[rhs], factor_at[lhs]] = value
        elif op == "~~" and lhs != rhs and lhs in factor_at and rhs in factor_at:
            corr[factor_at[lhs], factor_at[rhs]] = corr[factor_at[rhs], factor_at[lhs]] = value
    loadings = pd.DataFrame(lam, index=spec.ov, columns=spec.lv)
    corr = pd.DataFrame(corr, index=spec.lv, columns=spec.lv)
    return CFAResult(est, loadings, corr, result.fit, result.n, result.converged,
                     result.implied_covariance(), result.sample_covariance(), model, result.notes,
                     result.improper, result)


__all__ = ["CFAConvergenceWarning", "CFAResult", "HeywoodWarning", "cfa", "parse_model"]
