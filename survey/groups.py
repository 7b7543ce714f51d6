"""Group comparisons (差异分析) as SPSS and R report them.

t-tests (independent with Levene's test and both Student and Welch rows, paired, one-sample),
one- and two-way ANOVA (Type III sums of squares with sum-to-zero coding, as SPSS GLM), Welch and
Brown-Forsythe tests, post hoc comparisons (Tukey HSD, Games-Howell, Bonferroni, LSD), Mann-Whitney
U and Kruskal-Wallis (with Dunn's post hoc), chi-square tests of cross-tabulations (Cramér's V,
Fisher's exact test for 2x2), and `difference_analysis`, which runs an outcome across every
demographic variable and returns the table theses print.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from survey.codebook import SurveyData
from survey.errors import SurveyAnalysisError, SurveyAnalysisWarning
from survey.inputs import unpack


class SmallGroupWarning(SurveyAnalysisWarning):
    """A group is too small for a stable estimate (it is left out or flagged)."""


class ExpectedCountWarning(SurveyAnalysisWarning):
    """More than 20% of the expected counts of a cross-tabulation are below 5."""


def _stars(p: float) -> str:
    return "" if not np.isfinite(p) else "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def _frame(data: object, where: str) -> pd.DataFrame:
    if isinstance(data, SurveyData):  # user-missing codes count as missing; scale names give scale scores
        return unpack(data, where, scores=True)[0]
    if not isinstance(data, pd.DataFrame):
        data = getattr(data, "data", None)
        if not isinstance(data, pd.DataFrame):
            raise SurveyAnalysisError(f"{where}: expected a DataFrame or SurveyData")
    return data


def _numeric(data: pd.DataFrame, column: str, where: str) -> pd.Series:
    if column not in data.columns:
        raise SurveyAnalysisError(f"{where}: no column {column!r}; columns: {list(map(str, data.columns))[:30]}")
    values = pd.to_numeric(data[column], errors="coerce")
    bad = values.isna() & data[column].notna()
    if bad.any():
        raise SurveyAnalysisError(f"{where}: outcome {column!r} is not numeric (e.g. {data.loc[bad, column].iloc[0]!r})")
    values = values.astype(float)
    if np.isinf(values).any():
        raise SurveyAnalysisError(f"{where}: column {column!r} holds infinite values "
                                  f"({int(np.isinf(values).sum())} cells); recode them as missing")
    return values


def _groups(data: pd.DataFrame, dv: str, between: str, where: str, *, min_size: int = 2) -> dict[object, np.ndarray]:
    y = _numeric(data, dv, where)
    if between not in data.columns:
        raise SurveyAnalysisError(f"{where}: no group column {between!r}")
    ok = y.notna() & data[between].notna()
    groups: dict[object, np.ndarray] = {}
    for level in sorted(data.loc[ok, between].unique(), key=lambda v: (str(type(v)), v)):
        groups[level] = y[ok & (data[between] == level)].to_numpy()
    small = [g.item() if isinstance(g, np.generic) else g for g, v in groups.items() if v.size < min_size]
    if small:
        raise SurveyAnalysisError(f"{where}: group(s) {small} of {between!r} have fewer than {min_size} "
                                  f"members; merge or drop them")
    if len(groups) < 2:
        raise SurveyAnalysisError(f"{where}: {between!r} has {len(groups)} group(s) with data; need at least 2")
    pooled = np.concatenate(list(groups.values()))
    if np.ptp(pooled) == 0:
        raise SurveyAnalysisError(f"{where}: outcome {dv!r} is constant; nothing to compare")
    if all(np.ptp(v) == 0 for v in groups.values()):
        raise SurveyAnalysisError(f"{where}: {dv!r} does not vary within any group of {between!r} "
                                  "(zero error variance): the test statistic is undefined")
    return groups


def _describe_groups(groups: dict[object, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame({"n": [v.size for v in groups.values()], "mean": [v.mean() for v in groups.values()],
                         "sd": [v.std(ddof=1) for v in groups.values()]}, index=pd.Index(list(groups), name="group"))


# ---- t-tests ----------------------------------------------------------------------------------

@dataclass
class TTestResult:
    """A t-test. `table` has one row per test (Student / Welch for independent samples).

    Attributes: kind ("independent", "paired", "one-sample"), t, df, p (of the recommended row:
    Welch when Levene's p < .05, else Student), mean_diff, ci, cohen_d, levene_F, levene_p,
    groups (n, mean, sd per group).
    """

    kind: str
    table: pd.DataFrame
    groups: pd.DataFrame
    t: float
    df: float
    p: float
    mean_diff: float
    ci: tuple[float, float]
    cohen_d: float
    levene_F: float = float("nan")
    levene_p: float = float("nan")

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        return (f"{self.kind} t-test: t({self.df:.3g}) = {self.t:.3f}, p = {self.p:.4g}, "
                f"mean difference {self.mean_diff:.3f}, 95% CI [{self.ci[0]:.3f}, {self.ci[1]:.3f}], "
                f"d = {self.cohen_d:.3f}\n{self.groups.round(3).to_string()}")


def _levene_two(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Levene's F (mean-centred, as SPSS) for two groups: the one-way ANOVA F of |value - group mean|."""
    zx, zy = np.abs(x - x.mean()), np.abs(y - y.mean())
    n1, n2 = zx.size, zy.size
    grand = (zx.sum() + zy.sum()) / (n1 + n2)
    between = n1 * (zx.mean() - grand) ** 2 + n2 * (zy.mean() - grand) ** 2
    within = ((zx - zx.mean()) ** 2).sum() + ((zy - zy.mean()) ** 2).sum()
    if within == 0:
        return float("nan"), float("nan")
    f = between / (within / (n1 + n2 - 2))
    return float(f), float(stats.f.sf(f, 1, n1 + n2 - 2))


def ttest(data: pd.DataFrame, dv: str, group: str | None = None, *, paired_with: str | None = None,
          mu: float = 0.0, confidence: float = 0.95) -> TTestResult:
    """Independent (by `group`, two levels), paired (`dv` vs `paired_with`) or one-sample (vs `mu`).

    Independent: Levene's test (mean-centred, as SPSS), Student and Welch rows (SPSS "equal
    variances assumed / not assumed"), mean difference first minus second group, Cohen's d with
    the pooled SD. Paired: d = mean difference / SD of differences (d_z). One-sample: d = (mean - mu) / SD.
    """
    data = _frame(data, "ttest")
    alpha = 1 - confidence
    if group is not None and paired_with is not None:
        raise SurveyAnalysisError("ttest: give either group= (independent) or paired_with= (paired), not both")
    if group is not None:
        groups = _groups(data, dv, group, "ttest")
        if len(groups) != 2:
            raise SurveyAnalysisError(f"ttest: {group!r} has {len(groups)} groups; a t-test compares 2 "
                                      "(use anova for more)")
        (a, x), (b, y) = groups.items()
        n1, n2 = x.size, y.size
        diff = x.mean() - y.mean()
        v1, v2 = x.var(ddof=1), y.var(ddof=1)
        lev_f, lev_p = _levene_two(x, y)
        sp2 = ((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2)
        se = np.array([np.sqrt(sp2 * (1 / n1 + 1 / n2)), np.sqrt(v1 / n1 + v2 / n2)])
        df = np.array([n1 + n2 - 2,
                       (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))])
        t = diff / se
        half = stats.t.ppf(1 - alpha / 2, df) * se
        table = pd.DataFrame({"t": t, "df": df, "p": 2 * stats.t.sf(np.abs(t), df), "mean_diff": diff,
                              "se_diff": se, "ci_low": diff - half, "ci_high": diff + half},
                             index=pd.Index(["Student", "Welch"], name="test"))
        chosen = table.loc["Welch" if lev_p < 0.05 else "Student"]
        d = diff / np.sqrt(sp2)
        return TTestResult("independent", table, _describe_groups(groups), float(chosen["t"]), float(chosen["df"]),
                           float(chosen["p"]), float(diff), (float(chosen["ci_low"]), float(chosen["ci_high"])),
                           float(d), lev_f, lev_p)
    first = _numeric(data, dv, "ttest")
    if paired_with is not None:
        second = _numeric(data, paired_with, "ttest")
        ok = first.notna() & second.notna()
        diffs = (first[ok] - second[ok]).to_numpy()
        label, kind, groups_frame = f"{dv} - {paired_with}", "paired", pd.DataFrame(
            {"n": [int(ok.sum())] * 2, "mean": [first[ok].mean(), second[ok].mean()],
             "sd": [first[ok].std(), second[ok].std()]}, index=pd.Index([dv, paired_with], name="variable"))
    else:
        diffs = (first.dropna() - mu).to_numpy()
        label, kind = f"{dv} - {mu:g}", "one-sample"
        groups_frame = pd.DataFrame({"n": [diffs.size], "mean": [first.mean()], "sd": [first.std()]},
                                    index=pd.Index([dv], name="variable"))
    n = diffs.size
    if n < 2 or np.ptp(diffs) == 0:
        raise SurveyAnalysisError(f"ttest: {label} needs at least 2 non-constant values")
    se = diffs.std(ddof=1) / np.sqrt(n)
    t = diffs.mean() / se
    half = stats.t.ppf(1 - alpha / 2, n - 1) * se
    p = 2 * stats.t.sf(abs(t), n - 1)
    table = pd.DataFrame([{"t": t, "df": n - 1, "p": p, "mean_diff": diffs.mean(), "se_diff": se,
                           "ci_low": diffs.mean() - half, "ci_high": diffs.mean() + half}], index=[kind])
    return TTestResult(kind, table, groups_frame, float(t), float(n - 1), float(p), float(diffs.mean()),
                       (float(diffs.mean() - half), float(diffs.mean() + half)), float(diffs.mean() / diffs.std(ddof=1)))


# ---- ANOVA --------------------------------------------------------------------------------------

@dataclass
class AnovaResult:
    """An ANOVA table (SS, df, MS, F, p, partial eta²) with the figures of the first effect.

    Attributes: table, F, p, df (effect, error), eta2 (one-way: SS_between / SS_total),
    omega2, groups (n, mean, sd per cell or group), ss_type.
    """

    table: pd.DataFrame
    F: float
    p: float
    df: tuple[float, float]
    eta2: float
    omega2: float
    groups: pd.DataFrame
    ss_type: int = 3

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        """One line per effect (F, p, partial eta²; one-way also eta²) and the ANOVA table."""
        effects = self.table.drop(index=["Error", "Corrected total"], errors="ignore")
        error_df = self.df[1]
        if len(effects) == 1:
            lines = [f"ANOVA (Type {self.ss_type} SS): F({self.df[0]:g}, {error_df:g}) = {self.F:.3f}, "
                     f"p = {self.p:.4g}, eta² = {self.eta2:.3f}, partial eta² = "
                     f"{effects['partial_eta2'].iloc[0]:.3f}"]
        else:
            lines = [f"ANOVA (Type {self.ss_type} SS, sum-to-zero coding as SPSS GLM)"]
            lines += [f"  {name}: F({row.df:g}, {error_df:g}) = {row.F:.3f}, p = {row.p:.4g}, "
                      f"partial eta² = {row.partial_eta2:.3f}" for name, row in effects.iterrows()]
        return "\n".join(lines) + "\n" + self.table.round(4).to_string()


def _sum_coded(levels: pd.Series, name: str) -> tuple[np.ndarray, list[str]]:
    cats = sorted(levels.unique(), key=lambda v: (str(type(v)), v))
    if len(cats) < 2:
        raise SurveyAnalysisError(f"anova: factor {name!r} has fewer than 2 levels")
    cols = [(levels == c).astype(float).to_numpy() - (levels == cats[-1]).astype(float).to_numpy()
            for c in cats[:-1]]
    return np.column_stack(cols), [f"{name}[{c}]" for c in cats[:-1]]


def _fit(X: np.ndarray, y: np.ndarray) -> tuple[float, int, np.ndarray]:
    """Least squares: residual SS, the rank of X (singular values above max(n, p) eps times the
    largest, as numpy's matrix_rank) and the coefficients — one SVD for all three."""
    beta, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    return float(resid @ resid), int(rank), beta


def _rss(X: np.ndarray, y: np.ndarray) -> float:
    return _fit(X, y)[0]


def anova(data: pd.DataFrame, dv: str, between: str | Sequence[str]) -> AnovaResult:
    """One-way or factorial between-subjects ANOVA with Type III sums of squares (SPSS GLM).

    Effects are sum-to-zero coded; each effect's SS is the rise in residual SS when its columns are
    dropped from the full model (interactions included). One-way results also give eta² and
    omega² = (SS_b - df_b MS_w) / (SS_t + MS_w).
    """
    data = _frame(data, "anova")
    factors = [between] if isinstance(between, str) else list(between)
    if not 1 <= len(factors) <= 3:
        raise SurveyAnalysisError("anova: give one to three between-subjects factors")
    y_all = _numeric(data, dv, "anova")
    for f in factors:
        if f not in data.columns:
            raise SurveyAnalysisError(f"anova: no factor column {f!r}")
    if len(factors) == 1:
        _groups(data, dv, factors[0], "anova")  # every group needs two members
    ok = y_all.notna() & data[factors].notna().all(axis=1)
    frame = data.loc[ok, factors]
    y = y_all[ok].to_numpy()
    if np.ptp(y) == 0:
        raise SurveyAnalysisError(f"anova: outcome {dv!r} is constant")
    if len(factors) == 1:
        return _one_way(data.loc[ok], y, factors[0])
    blocks, _ = _effect_blocks(frame, factors)
    cells = frame.groupby(factors, observed=True).size()
    if len(factors) > 1 and (cells < 2).any():
        warnings.warn(f"anova: {int((cells < 2).sum())} cell(s) of the design have a single respondent",
                      SmallGroupWarning, stacklevel=2)
    if len(cells) < np.prod([frame[f].nunique() for f in factors]):
        warnings.warn("anova: some cells of the design are empty; Type III tests of the effects "
                      "involved are not estimable as in a full design", SmallGroupWarning, stacklevel=2)
    X_full = np.column_stack([np.ones(len(y)), *blocks.values()])
    rss_full, rank, _ = _fit(X_full, y)
    df_error = len(y) - rank
    if df_error < 1:
        raise SurveyAnalysisError("anova: no error degrees of freedom (a group with one member per cell?)")
    ms_error = rss_full / df_error
    rows = {}
    for name, block in blocks.items():
        others = [b for n, b in blocks.items() if n != name]
        X_red = np.column_stack([np.ones(len(y)), *others]) if others else np.ones((len(y), 1))
        ss = _rss(X_red, y) - rss_full
        df = block.shape[1]
        F = (ss / df) / ms_error
        rows[name] = {"SS": ss, "df": df, "MS": ss / df, "F": F, "p": float(stats.f.sf(F, df, df_error)),
                      "partial_eta2": ss / (ss + rss_full)}
    ss_total = float(((y - y.mean()) ** 2).sum())
    rows["Error"] = {"SS": rss_full, "df": df_error, "MS": ms_error, "F": np.nan, "p": np.nan, "partial_eta2": np.nan}
    rows["Corrected total"] = {"SS": ss_total, "df": len(y) - 1, "MS": np.nan, "F": np.nan, "p": np.nan,
                               "partial_eta2": np.nan}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "source"
    first = table.iloc[0]
    eta2 = first["SS"] / ss_total
    omega2 = (first["SS"] - first["df"] * ms_error) / (ss_total + ms_error)
    groups = data.loc[ok].assign(_y=y).groupby(factors, observed=True)["_y"].agg(n="size", mean="mean", sd="std")
    return AnovaResult(table, float(first["F"]), float(first["p"]), (float(first["df"]), float(df_error)),
                       float(eta2), float(omega2), groups)


def _one_way(data: pd.DataFrame, y: np.ndarray, factor: str) -> AnovaResult:
    """One-way ANOVA from group sums (the same table as the general Type III path, which for one
    factor is SS_between = sum n_g (mean_g - mean)^2 and SS_within = sum (y - mean_g)^2)."""
    codes, levels = pd.factorize(data[factor], sort=True)
    n_g = np.bincount(codes).astype(float)
    sum_g = np.bincount(codes, weights=y)
    mean_g = sum_g / n_g
    ss_total = float(((y - y.mean()) ** 2).sum())
    ss_within = float(((y - mean_g[codes]) ** 2).sum())
    ss_between = ss_total - ss_within
    df_b, df_w = len(levels) - 1, len(y) - len(levels)
    if df_b < 1:
        raise SurveyAnalysisError(f"anova: factor {factor!r} needs at least two groups")
    ms_w = ss_within / df_w
    F = (ss_between / df_b) / ms_w
    p = float(stats.f.sf(F, df_b, df_w))
    table = pd.DataFrame({
        "SS": [ss_between, ss_within, ss_total], "df": [df_b, df_w, len(y) - 1],
        "MS": [ss_between / df_b, ms_w, np.nan], "F": [F, np.nan, np.nan], "p": [p, np.nan, np.nan],
        "partial_eta2": [ss_between / (ss_between + ss_within), np.nan, np.nan],
    }, index=pd.Index([factor, "Error", "Corrected total"], name="source"))
    sd_g = np.sqrt(np.bincount(codes, weights=(y - mean_g[codes]) ** 2) / (n_g - 1))
    groups = pd.DataFrame({"n": n_g.astype(int), "mean": mean_g, "sd": sd_g},
                          index=pd.Index(levels, name=factor))
    omega2 = (ss_between - df_b * ms_w) / (ss_total + ms_w)
    return AnovaResult(table, float(F), p, (float(df_b), float(df_w)), ss_between / ss_total, float(omega2), groups)


@dataclass
class WelchResult:
    """Robust tests of equal means: Welch's F and the Brown-Forsythe F* (SPSS ONEWAY /STATISTICS)."""

    table: pd.DataFrame
    F: float
    df: tuple[float, float]
    p: float

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        return self.table.round(4).to_string()


def welch_anova(data: pd.DataFrame, dv: str, between: str) -> WelchResult:
    """Welch (1951) F and Brown & Forsythe (1974) F* with their approximate df and p."""
    groups = _groups(_frame(data, "welch_anova"), dv, between, "welch_anova")
    constant = [g for g, v in groups.items() if np.ptp(v) == 0]
    if constant:
        raise SurveyAnalysisError(f"welch_anova: {dv!r} does not vary within group(s) {constant} of "
                                  f"{between!r}; Welch's weights n/s² are undefined (use anova)")
    n = np.array([v.size for v in groups.values()], float)
    m = np.array([v.mean() for v in groups.values()])
    v = np.array([g.var(ddof=1) for g in groups.values()])
    k = n.size
    if np.any(v == 0):
        raise SurveyAnalysisError(f"welch_anova: a group of {between!r} has zero variance; Welch's F is undefined")
    w = n / v
    mw = (w * m).sum() / w.sum()
    a = ((w * (m - mw) ** 2).sum()) / (k - 1)
    lam = ((1 - w / w.sum()) ** 2 / (n - 1)).sum()
    F_w = a / (1 + 2 * (k - 2) / (k**2 - 1) * lam)
    df2_w = (k**2 - 1) / (3 * lam)
    grand = (n * m).sum() / n.sum()
    denom = ((1 - n / n.sum()) * v).sum()
    F_bf = (n * (m - grand) ** 2).sum() / denom
    c = (1 - n / n.sum()) * v / denom
    df2_bf = 1 / ((c**2) / (n - 1)).sum()
    rows = [{"test": "Welch", "F": F_w, "df1": k - 1, "df2": df2_w, "p": stats.f.sf(F_w, k - 1, df2_w)},
            {"test": "Brown-Forsythe", "F": F_bf, "df1": k - 1, "df2": df2_bf, "p": stats.f.sf(F_bf, k - 1, df2_bf)}]
    table = pd.DataFrame(rows).set_index("test")
    return WelchResult(table, float(F_w), (float(k - 1), float(df2_w)), float(table.loc["Welch", "p"]))


def posthoc(data: pd.DataFrame, dv: str, between: str,
            method: Literal["tukey", "games-howell", "bonferroni", "lsd"] = "tukey",
            confidence: float = 0.95, ci: bool = True) -> pd.DataFrame:
    """Pairwise comparisons: group_a, group_b, mean_diff (a - b), se, p, ci_low, ci_high, stars.

    Tukey HSD and LSD / Bonferroni use the pooled error variance (SPSS); Games-Howell uses
    each pair's own variances with Welch df and the studentized range. `ci=False` skips the
    intervals (the studentized-range quantile is slow to compute; p-values do not need it).
    """
    method = method.lower()  # type: ignore[assignment]
    if method not in ("tukey", "games-howell", "bonferroni", "lsd"):
        raise SurveyAnalysisError(f"posthoc: method must be tukey, games-howell, bonferroni or lsd (got {method!r})")
    groups = _groups(_frame(data, "posthoc"), dv, between, "posthoc")
    k = len(groups)
    n_total = sum(v.size for v in groups.values())
    mse = sum(((v - v.mean()) ** 2).sum() for v in groups.values()) / (n_total - k)
    df_error = n_total - k
    n_pairs = k * (k - 1) // 2
    tukey_q = stats.studentized_range.ppf(confidence, k, df_error) if (ci and method == "tukey") else np.nan
    rows = []
    for (a, x), (b, y) in itertools.combinations(groups.items(), 2):
        diff = x.mean() - y.mean()
        if method == "games-howell":
            va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
            se = np.sqrt(va + vb)
            df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
            q = abs(diff) / (se / np.sqrt(2))
            p = float(stats.studentized_range.sf(q, k, df))
            half = stats.studentized_range.ppf(confidence, k, df) * se / np.sqrt(2) if ci else np.nan
        else:
            se = np.sqrt(mse * (1 / x.size + 1 / y.size))
            if method == "tukey":
                q = abs(diff) / (se / np.sqrt(2))
                p = float(stats.studentized_range.sf(q, k, df_error))
                half = tukey_q * se / np.sqrt(2)
            else:
                t = diff / se
                p = float(2 * stats.t.sf(abs(t), df_error))
                level = 1 - (1 - confidence) / (n_pairs if method == "bonferroni" else 1)
                if method == "bonferroni":
                    p = min(1.0, p * n_pairs)
                half = stats.t.ppf(1 - (1 - level) / 2, df_error) * se
        rows.append({"group_a": a, "group_b": b, "mean_diff": diff, "se": se, "p": p,
                     "ci_low": diff - half, "ci_high": diff + half, "stars": _stars(p)})
    table = pd.DataFrame(rows)
    table.attrs["method"] = method
    return table


# ---- non-parametric -----------------------------------------------------------------------------

@dataclass
class RankTestResult:
    """Mann-Whitney U or Kruskal-Wallis H with effect size and (Kruskal) Dunn's post hoc."""

    test: str
    statistic: float
    p: float
    df: float
    z: float
    effect_size: float
    effect_name: str
    groups: pd.DataFrame
    posthoc: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"test": self.test, "statistic": self.statistic, "df": self.df, "z": self.z,
                              "p": self.p, self.effect_name: self.effect_size}])

    def summary(self) -> str:
        return (f"{self.test}: {self.statistic:.3f}, p = {self.p:.4g}, {self.effect_name} = {self.effect_size:.3f}\n"
                f"{self.groups.round(3).to_string()}")


def _rank_groups(groups: dict[object, np.ndarray]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    values = np.concatenate(list(groups.values()))
    labels = np.concatenate([[i] * v.size for i, v in enumerate(groups.values())])
    ranks = stats.rankdata(values)
    table = pd.DataFrame({"n": [v.size for v in groups.values()],
                          "mean_rank": [ranks[labels == i].mean() for i in range(len(groups))],
                          "median": [np.median(v) for v in groups.values()]},
                         index=pd.Index(list(groups), name="group"))
    return table, ranks, labels


def mann_whitney(data: pd.DataFrame, dv: str, group: str) -> RankTestResult:
    """Mann-Whitney U with SPSS's tie-corrected normal Z (no continuity correction) and r = |Z|/sqrt(N)."""
    groups = _groups(_frame(data, "mann_whitney"), dv, group, "mann_whitney", min_size=1)
    if len(groups) != 2:
        raise SurveyAnalysisError(f"mann_whitney: {group!r} has {len(groups)} groups; need 2 (use kruskal)")
    table, ranks, labels = _rank_groups(groups)
    n1, n2 = table["n"].to_numpy()
    r1 = ranks[labels == 0].sum()
    u1 = r1 - n1 * (n1 + 1) / 2
    u = min(u1, n1 * n2 - u1)
    n = n1 + n2
    _, counts = np.unique(np.concatenate(list(groups.values())), return_counts=True)
    tie = (counts**3 - counts).sum()
    sigma = np.sqrt(n1 * n2 / 12 * ((n + 1) - tie / (n * (n - 1))))
    z = (u - n1 * n2 / 2) / sigma
    p = float(2 * stats.norm.sf(abs(z)))
    return RankTestResult("Mann-Whitney U", float(u), p, float("nan"), float(z), float(abs(z) / np.sqrt(n)), "r", table)


def kruskal(data: pd.DataFrame, dv: str, between: str, *, adjust: Literal["bonferroni", "holm"] = "bonferroni"
            ) -> RankTestResult:
    """Kruskal-Wallis H (tie-corrected), epsilon² = H / (N - 1), and Dunn's (1964) pairwise z-tests."""
    groups = _groups(_frame(data, "kruskal"), dv, between, "kruskal", min_size=1)
    table, ranks, labels = _rank_groups(groups)
    h, p = stats.kruskal(*groups.values())
    n = ranks.size
    _, counts = np.unique(np.concatenate(list(groups.values())), return_counts=True)
    tie = (counts**3 - counts).sum()
    rows = []
    names = list(groups)
    for i, j in itertools.combinations(range(len(names)), 2):
        ni, nj = table["n"].iloc[i], table["n"].iloc[j]
        se = np.sqrt((n * (n + 1) / 12 - tie / (12 * (n - 1))) * (1 / ni + 1 / nj))
        z = (table["mean_rank"].iloc[i] - table["mean_rank"].iloc[j]) / se
        rows.append({"group_a": names[i], "group_b": names[j], "z": z, "p_unadjusted": 2 * stats.norm.sf(abs(z))})
    dunn = pd.DataFrame(rows)
    if len(dunn):
        from statsmodels.stats.multitest import multipletests

        dunn["p"] = multipletests(dunn["p_unadjusted"], method=adjust)[1]
        dunn["stars"] = dunn["p"].map(_stars)
    return RankTestResult("Kruskal-Wallis H", float(h), float(p), float(len(groups) - 1), float("nan"),
                          float(h / (n - 1)), "epsilon2", table, dunn)


# ---- chi-square ---------------------------------------------------------------------------------

@dataclass
class ChiSquareResult:
    """Pearson chi-square test of a cross-tabulation.

    Attributes: chi2, df, p, cramers_v, observed, expected, share_expected_below_5; for 2x2
    tables also chi2_corrected / p_corrected (Yates) and fisher_p (two-sided exact).
    """

    chi2: float
    df: int
    p: float
    cramers_v: float
    observed: pd.DataFrame
    expected: pd.DataFrame
    share_expected_below_5: float
    chi2_corrected: float = float("nan")
    p_corrected: float = float("nan")
    fisher_p: float = float("nan")
    likelihood_ratio: float = float("nan")

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"chi2": self.chi2, "df": self.df, "p": self.p, "cramers_v": self.cramers_v,
                              "chi2_corrected": self.chi2_corrected, "p_corrected": self.p_corrected,
                              "fisher_p": self.fisher_p}])

    def summary(self) -> str:
        return (f"χ²({self.df}) = {self.chi2:.3f}, p = {self.p:.4g}, Cramér's V = {self.cramers_v:.3f}"
                + (f"; Fisher's exact p = {self.fisher_p:.4g}" if np.isfinite(self.fisher_p) else "")
                + f"\n{self.observed.to_string()}")


def chi2_test(data: pd.DataFrame | None = None, row: str | None = None, col: str | None = None, *,
              table: pd.DataFrame | np.ndarray | None = None) -> ChiSquareResult:
    """Pearson chi-square of `row` x `col` in `data` (or of a given contingency `table`)."""
    if table is None:
        data = _frame(data, "chi2_test")
        for name in (row, col):
            if name not in data.columns:
                raise SurveyAnalysisError(f"chi2_test: no column {name!r}")
        ok = data[row].notna() & data[col].notna()
        observed = pd.crosstab(data.loc[ok, row], data.loc[ok, col])
    else:
        observed = pd.DataFrame(table)
    if observed.shape[0] < 2 or observed.shape[1] < 2:
        raise SurveyAnalysisError(f"chi2_test: need at least 2 x 2 categories (got {observed.shape[0]} x {observed.shape[1]})")
    counts = observed.to_numpy(float)
    chi2, p, df, expected = stats.chi2_contingency(counts, correction=False)
    lr = stats.chi2_contingency(counts, correction=False, lambda_="log-likelihood")[0]
    share = float((expected < 5).mean())
    if share > 0.2:
        warnings.warn(f"chi2_test: {share:.0%} of expected counts are below 5 (more than 20%); the chi-square "
                      "approximation is doubtful" + (" — see fisher_p" if counts.shape == (2, 2) else ""),
                      ExpectedCountWarning, stacklevel=2)
    v = float(np.sqrt(chi2 / (counts.sum() * (min(counts.shape) - 1))))
    result = ChiSquareResult(float(chi2), int(df), float(p), v, observed,
                             pd.DataFrame(expected, index=observed.index, columns=observed.columns), share,
                             likelihood_ratio=float(lr))
    if counts.shape == (2, 2):
        cc, pc, _, _ = stats.chi2_contingency(counts, correction=True)
        result.chi2_corrected, result.p_corrected = float(cc), float(pc)
        result.fisher_p = float(stats.fisher_exact(counts).pvalue)
    return result


# ---- difference analysis ------------------------------------------------------------------------

@dataclass
class AncovaResult:
    """Analysis of covariance as SPSS GLM UNIANOVA prints it.

    Attributes:
        table: Tests of Between-Subjects Effects: SS (Type III), df, MS, F, p, partial_eta2 for
            each covariate and each factor effect, then Error and Corrected total.
        adjusted_means: per factor level (index factor, level) the estimated marginal mean at
            the covariate means (SPSS EMMEANS ... WITH(cov=MEAN)), its SE and 95% CI, and n;
            with a SurveyData also the level's value label.
        slopes: the homogeneity-of-regression-slopes test: one row per factor x covariate term
            (SS, df, F, p) from the model that adds those terms.
        coefficients: the pooled within-group slope of each covariate (B, SE, t, p).
        covariate_means: the means the adjusted means are evaluated at.
        n: cases used (listwise over the outcome, factors and covariates).
        notes: what was done (coding, SS type, where the means are evaluated).
    """

    table: pd.DataFrame
    adjusted_means: pd.DataFrame
    slopes: pd.DataFrame
    coefficients: pd.DataFrame
    covariate_means: dict[str, float]
    n: int
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        """Effects with partial eta², the adjusted means and the slopes test as plain text."""
        error_df = self.table.loc["Error", "df"]
        effects = self.table.drop(index=["Error", "Corrected total"])
        lines = [f"ANCOVA (Type III SS, sum-to-zero coding as SPSS GLM), n = {self.n}"]
        lines += [f"  {name}: F({row.df:g}, {error_df:g}) = {row.F:.3f}, p = {row.p:.4g}, "
                  f"partial eta² = {row.partial_eta2:.3f}" for name, row in effects.iterrows()]
        lines += [f"  homogeneity of slopes, {name}: F({row.df:g}, {row.df_error:g}) = {row.F:.3f}, p = {row.p:.4g}"
                  for name, row in self.slopes.iterrows()]
        at = ", ".join(f"{k} = {v:.4g}" for k, v in self.covariate_means.items())
        return "\n".join([*lines, self.table.round(4).to_string(),
                          f"Estimated marginal means at {at}", self.adjusted_means.round(4).to_string()])


def _effect_blocks(frame: pd.DataFrame, factors: list[str]) -> tuple[dict[str, np.ndarray], dict[str, list]]:
    """Sum-to-zero coded columns of every factor and factor interaction, and each factor's levels."""
    blocks: dict[str, np.ndarray] = {}
    levels: dict[str, list] = {}
    for f in factors:
        blocks[f], _ = _sum_coded(frame[f], f)
        levels[f] = sorted(frame[f].unique(), key=lambda v: (str(type(v)), v))
    for r in range(2, len(factors) + 1):
        for combo in itertools.combinations(factors, r):
            product = blocks[combo[0]]
            for f in combo[1:]:
                product = np.einsum("ni,nj->nij", product, blocks[f]).reshape(len(frame), -1)
            blocks[" x ".join(combo)] = product
    return blocks, levels


def _cell_row(cell: dict[str, object], factors: list[str], levels: dict[str, list]) -> dict[str, np.ndarray]:
    """The sum-to-zero coded design row of one cell of the factors (the same blocks as `_effect_blocks`)."""
    codes = {}
    for f in factors:
        last = levels[f][-1]
        codes[f] = np.array([1.0 if cell[f] == c else (-1.0 if cell[f] == last else 0.0) for c in levels[f][:-1]])
    out = dict(codes)
    for r in range(2, len(factors) + 1):
        for combo in itertools.combinations(factors, r):
            product = codes[combo[0]]
            for f in combo[1:]:
                product = np.outer(product, codes[f]).ravel()
            out[" x ".join(combo)] = product
    return out


def ancova(data: pd.DataFrame, dv: str, between: str | Sequence[str], covariates: str | Sequence[str]
           ) -> AncovaResult:
    """Analysis of covariance with Type III sums of squares, adjusted means and the slopes test (SPSS GLM).

    Model: dv = b0 + sum_c b_c cov_c + factor effects (sum-to-zero coded, with all factor
    interactions), by least squares. Each term's Type III SS is the rise in the residual SS when
    its columns are dropped from the full model; F = (SS / df) / MS_error; partial eta² =
    SS / (SS + SS_error). Estimated marginal (adjusted) means: the model's prediction for each
    cell at the covariate means, averaged with equal weight over the levels of the other factors
    (SPSS EMMEANS WITH(cov=MEAN)); SE = sqrt(l' V l) with V the coefficient covariance, CI with
    t on the error df. With one factor and one covariate the adjusted mean of group j is
    ybar_j - b_w (xbar_j - xbar), b_w the pooled within-group slope. Homogeneity of regression
    slopes: the F test of each factor x covariate term (Type III, in the model that adds all of
    them), as SPSS's custom model factor*covariate.

    Checked against jamovi's ancova (jmv, Type III) on Maxwell, Delaney & Kelley's Table 9.7
    depression data and Rutherford's (2001, p. 120) worked example (tests/survey/test_ancova.py).

    Args:
        data: one row per respondent (DataFrame or SurveyData; user-missing codes count as missing).
        dv: numeric outcome.
        between: one to three factors.
        covariates: one or more numeric covariates.

    Returns:
        AncovaResult with `table`, `adjusted_means`, `slopes`, `coefficients` and `summary()`.
    """
    book = data.codebook if isinstance(data, SurveyData) else None
    data = _frame(data, "ancova")
    factors = [between] if isinstance(between, str) else list(between)
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    if not 1 <= len(factors) <= 3:
        raise SurveyAnalysisError("ancova: give one to three between-subjects factors")
    if not covs:
        raise SurveyAnalysisError("ancova: give at least one covariate (without one, use anova)")
    if len({dv, *factors, *covs}) != 1 + len(factors) + len(covs):
        raise SurveyAnalysisError("ancova: the outcome, factors and covariates must be different columns")
    y_all = _numeric(data, dv, "ancova")
    for f in factors:
        if f not in data.columns:
            raise SurveyAnalysisError(f"ancova: no factor column {f!r}")
    cov_all = {c: _numeric(data, c, "ancova") for c in covs}
    ok = y_all.notna() & data[factors].notna().all(axis=1)
    for values in cov_all.values():
        ok &= values.notna()
    frame = data.loc[ok, factors]
    y = y_all[ok].to_numpy()
    X_cov = np.column_stack([cov_all[c][ok].to_numpy() for c in covs])
    for j, c in enumerate(covs):
        if np.ptp(X_cov[:, j]) == 0:
            raise SurveyAnalysisError(f"ancova: covariate {c!r} is constant in the complete cases")
    if np.ptp(y) == 0:
        raise SurveyAnalysisError(f"ancova: outcome {dv!r} is constant")
    for f in factors:
        counts = frame[f].value_counts()
        if len(counts) < 2:
            raise SurveyAnalysisError(f"ancova: factor {f!r} has fewer than 2 levels with complete data")
    blocks, levels = _effect_blocks(frame, factors)
    terms = {c: X_cov[:, [j]] for j, c in enumerate(covs)} | blocks
    n = len(y)
    X_full = np.column_stack([np.ones(n), *terms.values()])
    rss_full, rank, beta = _fit(X_full, y)
    if rank < X_full.shape[1]:
        raise SurveyAnalysisError("ancova: the design is singular (an empty cell, or a covariate that is a "
                                  "function of the factors)")
    df_error = n - rank
    if df_error < 1:
        raise SurveyAnalysisError("ancova: no error degrees of freedom")
    ms_error = rss_full / df_error
    rows = {}
    for name, block in terms.items():
        others = [b for k, b in terms.items() if k != name]
        ss = _rss(np.column_stack([np.ones(n), *others]), y) - rss_full
        df = block.shape[1]
        F = (ss / df) / ms_error
        rows[name] = {"SS": ss, "df": df, "MS": ss / df, "F": F, "p": float(stats.f.sf(F, df, df_error)),
                      "partial_eta2": ss / (ss + rss_full)}
    rows["Error"] = {"SS": rss_full, "df": df_error, "MS": ms_error, "F": np.nan, "p": np.nan, "partial_eta2": np.nan}
    rows["Corrected total"] = {"SS": float(((y - y.mean()) ** 2).sum()), "df": n - 1, "MS": np.nan, "F": np.nan,
                               "p": np.nan, "partial_eta2": np.nan}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "source"
    V = ms_error * np.linalg.inv(X_full.T @ X_full)
    means = dict(zip(covs, X_cov.mean(axis=0).tolist(), strict=True))
    adjusted = _adjusted_means(frame, factors, levels, blocks, means, beta, V, df_error)
    if book is not None:  # the codebook's value labels beside the codes
        adjusted.insert(0, "label", [book.value_label(f, level) for f, level in adjusted.index])
    k = len(covs)
    se_cov = np.sqrt(np.diag(V))[1:1 + k]
    t_cov = beta[1:1 + k] / se_cov
    coefficients = pd.DataFrame({"B": beta[1:1 + k], "SE": se_cov, "t": t_cov,
                                 "p": 2 * stats.t.sf(np.abs(t_cov), df_error)}, index=pd.Index(covs, name="covariate"))
    slopes = _slopes_test(y, terms, blocks, factors, covs, X_cov)
    notes = ["Type III sums of squares, factors sum-to-zero coded (SPSS GLM)",
             "adjusted means at " + ", ".join(f"{c} = {m:.4g}" for c, m in means.items())]
    significant = slopes[slopes["p"] < 0.05]
    if len(significant):
        notes.append("regression slopes differ across groups (" + ", ".join(significant.index) +
                     ", p < .05): the ANCOVA assumption of homogeneous slopes does not hold")
    return AncovaResult(table, adjusted, slopes, coefficients, means, n, notes)


def _adjusted_means(frame, factors, levels, blocks, means, beta, V, df_error) -> pd.DataFrame:
    t_crit = stats.t.ppf(0.975, df_error)
    rows = []
    for f in factors:
        others = [g for g in factors if g != f]
        for level in levels[f]:
            combos = list(itertools.product(*[levels[g] for g in others])) or [()]
            vectors = []
            for combo in combos:
                cell = {f: level, **dict(zip(others, combo, strict=True))}
                coded = _cell_row(cell, factors, levels)
                vectors.append(np.concatenate([[1.0], list(means.values()), *[coded[k] for k in blocks]]))
            weights = np.mean(vectors, axis=0)
            estimate = float(weights @ beta)
            se = float(np.sqrt(weights @ V @ weights))
            rows.append({"factor": f, "level": level, "n": int((frame[f] == level).sum()), "mean": estimate,
                         "SE": se, "CI_low": estimate - t_crit * se, "CI_high": estimate + t_crit * se})
    return pd.DataFrame(rows).set_index(["factor", "level"])


def _slopes_test(y, terms, blocks, factors, covs, X_cov) -> pd.DataFrame:
    """F test of each factor x covariate term in the model with all of them (homogeneity of slopes)."""
    n = len(y)
    interactions = {f"{f} x {c}": blocks[f] * X_cov[:, [j]] for f in factors for j, c in enumerate(covs)}
    extended = terms | interactions
    X = np.column_stack([np.ones(n), *extended.values()])
    rss, rank, _ = _fit(X, y)
    df_error = n - rank
    rows = {}
    for name, block in interactions.items():
        others = [b for k, b in extended.items() if k != name]
        ss = _rss(np.column_stack([np.ones(n), *others]), y) - rss
        df = block.shape[1]
        F = (ss / df) / (rss / df_error) if df_error > 0 else np.nan
        rows[name] = {"SS": ss, "df": df, "df_error": df_error, "F": F,
                      "p": float(stats.f.sf(F, df, df_error)) if df_error > 0 else np.nan}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("term")


@dataclass
class DifferenceAnalysis:
    """An outcome compared across demographic variables (the 差异分析 table of a thesis).

    `notes` name the groups left out (by value label) and the variables that could not be compared;
    `left_out` holds (variable, group label, n) of each group left out, `skipped` variable -> reason.
    """

    outcome: str
    table: pd.DataFrame
    tests: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    left_out: list[tuple[str, str, int]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        notes = "".join(f"\nNote: {note}" for note in self.notes)
        return f"Differences in {self.outcome}\n{self.table.to_string()}{notes}"


def _leave_out_small_groups(data: pd.DataFrame, outcome: str, variable: str, book, notes: list[str],
                            left_out: list[tuple[str, str, int]]) -> pd.DataFrame:
    """`data` without the groups of `variable` that have fewer than 2 answers of `outcome` (noted by label)."""
    if variable not in data.columns:
        raise SurveyAnalysisError(f"difference_analysis: no group column {variable!r}")
    answered = data[outcome].notna() & data[variable].notna()
    counts = data.loc[answered, variable].value_counts()
    small = [level for level, n in counts.items() if n < 2]
    if not small:
        return data
    labels = [(book.value_label(variable, level) if book is not None else str(level), int(counts[level]))
              for level in small]
    left_out += [(variable, label, n) for label, n in labels]
    names = ", ".join(f"{label} (n = {n})" for label, n in labels)
    label = book.label(variable) if book is not None else variable
    notes.append(f"{label}: {names} left out of the comparison of {outcome} (fewer than 2 respondents)")
    return data.loc[~data[variable].isin(small)]


def difference_analysis(data: pd.DataFrame, outcome: str, groups: Sequence[str], *, codebook=None,
                        posthoc_method: Literal["tukey", "games-howell", "bonferroni", "lsd"] = "tukey",
                        small_groups: Literal["error", "leave_out"] = "error") -> DifferenceAnalysis:
    """t-test (2 groups; Welch when Levene's p < .05) or one-way ANOVA (3+; Welch's F when Levene's
    p < .05) of `outcome` for each variable in `groups`, with post hoc summaries like "1>3".

    Groups are shown by their codebook value labels (a SurveyData's own codebook, or `codebook`).
    A group with fewer than 2 respondents is an error naming it, or with
    ``small_groups="leave_out"`` is left out with a note naming it by its label; a variable that
    then has fewer than 2 groups, or cannot be compared at all, is skipped with a note.

    Returns rows: variable, level (label), n, mean ± sd, test, statistic, p, stars, posthoc.
    """
    if small_groups not in ("error", "leave_out"):
        raise SurveyAnalysisError(f"difference_analysis: small_groups must be 'error' or 'leave_out', got {small_groups!r}")
    book = codebook or getattr(data, "codebook", None)
    data = _frame(data, "difference_analysis")
    rows, tests, notes, left_out, skipped = [], {}, [], [], {}
    for variable in groups:
        subset = data
        if small_groups == "leave_out":
            _numeric(data, outcome, "difference_analysis")
            subset = _leave_out_small_groups(data, outcome, variable, book, notes, left_out)
            try:
                rows_, result = _compare(subset, outcome, variable, book, posthoc_method)
            except SurveyAnalysisError as error:
                label = book.label(variable) if book is not None else variable
                notes.append(f"{label}: not compared ({error})")
                skipped[variable] = str(error)
                continue
        else:
            rows_, result = _compare(subset, outcome, variable, book, posthoc_method)
        tests[variable] = result
        rows += rows_
    return DifferenceAnalysis(outcome, pd.DataFrame(rows, columns=["variable", "level", "n", "mean_sd", "test",
                                                                  "statistic", "p", "stars", "posthoc"]),
                              tests, notes, left_out, skipped)


def _compare(data: pd.DataFrame, outcome: str, variable: str, book, posthoc_method: str) -> tuple[list[dict], object]:
    """The rows of one grouping variable and the test behind them."""
    groups_ = _groups(data, outcome, variable, "difference_analysis")
    desc = _describe_groups(groups_)
    codes = {level: i + 1 for i, level in enumerate(groups_)}
    if len(groups_) == 2:
        result = ttest(data, outcome, variable)
        name, stat, p, post = "t", result.t, result.p, ""
    else:
        lev = stats.levene(*groups_.values(), center="mean")
        if lev.pvalue < 0.05:
            result = welch_anova(data, outcome, variable)
            name, stat, p = "Welch F", result.F, result.p
            method = "games-howell"
        else:
            result = anova(data, outcome, variable)
            name, stat, p = "F", result.F, result.p
            method = posthoc_method
        post = ""
        if p < 0.05:
            ph = posthoc(data, outcome, variable, method=method, ci=False)
            sig = ph[ph["p"] < 0.05]
            post = ", ".join(f"{codes[r.group_a]}{'>' if r.mean_diff > 0 else '<'}{codes[r.group_b]}"
                             for r in sig.itertuples())
    rows = []
    for i, (level, row) in enumerate(desc.iterrows()):
        label = book.value_label(variable, level) if book is not None else str(level)
        rows.append({"variable": (book.label(variable) if book is not None else variable) if i == 0 else "",
                     "level": f"{codes[level]}. {label}" if len(groups_) > 2 else label,
                     "n": int(row["n"]), "mean_sd": f"{row['mean']:.2f} ± {row['sd']:.2f}",
                     "test": name if i == 0 else "", "statistic": stat if i == 0 else np.nan,
                     "p": p if i == 0 else np.nan, "stars": _stars(p) if i == 0 else "",
                     "posthoc": post if i == 0 else ""})
    return rows, result


__all__ = ["AncovaResult", "AnovaResult", "ChiSquareResult", "DifferenceAnalysis", "ExpectedCountWarning", "RankTestResult",
           "SmallGroupWarning", "TTestResult", "WelchResult", "ancova", "anova", "chi2_test", "difference_analysis",
           "kruskal", "mann_whitney", "posthoc", "ttest", "welch_anova"]
