"""Assumption checks printed before a t-test or ANOVA: homogeneity of variance and normality.

- `levene`: Levene's test based on the mean (SPSS, car::leveneTest(center = mean)) and on the
  median (Brown-Forsythe; car::leveneTest's default), one row each, as SPSS EXAMINE prints them.
- `normality`: SPSS "Tests of Normality" — Kolmogorov-Smirnov with the Lilliefors correction
  (nortest::lillie.test) and Shapiro-Wilk (R's shapiro.test, Royston's algorithm), per variable
  and optionally per group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from survey.codebook import Codebook, SurveyData
from survey.errors import SurveyAnalysisError


def unpack(data: pd.DataFrame | SurveyData, codebook: Codebook | None, where: str) -> tuple[pd.DataFrame, Codebook]:
    """The DataFrame and codebook of `data` (a DataFrame or SurveyData)."""
    if isinstance(data, SurveyData):
        return data.data, codebook or data.codebook
    if not isinstance(data, pd.DataFrame):
        raise SurveyAnalysisError(f"{where}: expected a DataFrame or SurveyData, got {type(data).__name__}")
    return data, codebook or Codebook()


def finite_column(frame: pd.DataFrame, name: str, where: str, codebook: Codebook | None = None) -> pd.Series:
    """Column `name` as float with user-missing codes set to NaN; errors name the column.

    Text that is not a number and infinite values are rejected (NaN means missing).
    """
    if name not in frame.columns:
        raise SurveyAnalysisError(f"{where}: no column {name!r}; columns: {list(map(str, frame.columns))[:30]}")
    values = frame[name]
    if codebook is not None and name in codebook:
        values = values.mask(codebook[name].is_user_missing(values))
    converted = pd.to_numeric(values, errors="coerce")
    bad = values[converted.isna() & values.notna()]
    if len(bad):
        raise SurveyAnalysisError(f"{where}: column {name!r} must be numeric; it holds {bad.iloc[0]!r}")
    converted = converted.astype(float)
    if np.isinf(converted).any():
        raise SurveyAnalysisError(f"{where}: column {name!r} holds infinite values; recode or drop them")
    return converted


def group_samples(frame: pd.DataFrame, dv: str, between: str, where: str, codebook: Codebook | None = None,
                  *, min_size: int = 2) -> dict[object, np.ndarray]:
    """Non-missing values of `dv` for each level of `between`, in sorted level order."""
    y = finite_column(frame, dv, where, codebook)
    if between not in frame.columns:
        raise SurveyAnalysisError(f"{where}: no group column {between!r}")
    ok = y.notna() & frame[between].notna()
    levels = sorted(frame.loc[ok, between].unique(), key=lambda v: (str(type(v)), v))
    groups = {level: y[ok & (frame[between] == level)].to_numpy() for level in levels}
    if len(groups) < 2:
        raise SurveyAnalysisError(f"{where}: {between!r} has {len(groups)} group(s) with data on {dv!r}; need 2")
    small = [g for g, v in groups.items() if v.size < min_size]
    if small:
        raise SurveyAnalysisError(f"{where}: group(s) {small} of {between!r} have fewer than {min_size} values of {dv!r}")
    return groups


def _one_way_f(samples: list[np.ndarray]) -> tuple[float, int, int]:
    n = np.array([s.size for s in samples])
    grand = np.concatenate(samples).mean()
    between = sum(s.size * (s.mean() - grand) ** 2 for s in samples)
    within = sum(((s - s.mean()) ** 2).sum() for s in samples)
    k, total = len(samples), int(n.sum())
    if within == 0:
        return float("inf") if between > 0 else float("nan"), k - 1, total - k
    return float((between / (k - 1)) / (within / (total - k))), k - 1, total - k


def levene(data: pd.DataFrame | SurveyData, dv: str, between: str, *,
           center: Literal["both", "mean", "median"] = "both", codebook: Codebook | None = None) -> pd.DataFrame:
    """Levene's test of equal variances across the groups of `between`.

    Each value is replaced by its absolute deviation from its group's centre,
    z_ij = |y_ij - c_i|, and a one-way ANOVA F is computed on z with df (k - 1, N - k).
    "Based on Mean" (c_i = group mean) is Levene (1960) and SPSS's default; "Based on Median"
    (c_i = group median) is Brown & Forsythe (1974) and car::leveneTest's default.

    Checked against car::leveneTest(center = mean) output printed for a three-forest example
    and against the definition (a one-way ANOVA of the absolute deviations) and scipy.stats.levene
    (tests/survey/test_assumptions.py).

    Args:
        data: DataFrame or SurveyData (user-missing codes of the codebook count as missing).
        dv: numeric outcome.
        between: grouping column (at least two groups of two).
        center: "both" (the SPSS table), "mean" or "median".
        codebook: overrides the SurveyData codebook.

    Returns:
        DataFrame indexed by "Based on Mean" / "Based on Median" with columns statistic, df1, df2, p.
    """
    frame, book = unpack(data, codebook, "levene")
    if center not in ("both", "mean", "median"):
        raise SurveyAnalysisError(f"levene: center must be 'both', 'mean' or 'median', got {center!r}")
    groups = group_samples(frame, dv, between, "levene", book)
    if np.ptp(np.concatenate(list(groups.values()))) == 0:
        raise SurveyAnalysisError(f"levene: {dv!r} is constant; there is no variance to compare")
    rows = {}
    for name, fn in (("Based on Mean", np.mean), ("Based on Median", np.median)):
        if center != "both" and not name.lower().endswith(center):
            continue
        deviations = [np.abs(v - fn(v)) for v in groups.values()]
        f, df1, df2 = _one_way_f(deviations)
        rows[name] = {"statistic": f, "df1": df1, "df2": df2, "p": float(stats.f.sf(f, df1, df2))}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "test"
    return table


def lilliefors_p(d: float, n: int) -> float:
    """p-value of the Lilliefors statistic D, as nortest::lillie.test computes it.

    Dallal & Wilkinson's (1986) approximation; where it exceeds 0.1, the polynomial in Stephens'
    (1974) modified statistic Z = D (sqrt(n) - 0.01 + 0.85 / sqrt(n)).
    """
    kd, nd = (d, n) if n <= 100 else (d * (n / 100) ** 0.49, 100)
    p = np.exp(-7.01256 * kd**2 * (nd + 2.78019) + 2.99587 * kd * np.sqrt(nd + 2.78019)
               - 0.122119 + 0.974598 / np.sqrt(nd) + 1.67997 / nd)
    if p > 0.1:
        z = (np.sqrt(n) - 0.01 + 0.85 / np.sqrt(n)) * d
        if z <= 0.302:
            p = 1.0
        elif z <= 0.5:
            p = 2.76773 - 19.828315 * z + 80.709644 * z**2 - 138.55152 * z**3 + 81.218052 * z**4
        elif z <= 0.9:
            p = -4.901232 + 40.662806 * z - 97.490286 * z**2 + 94.029866 * z**3 - 32.355711 * z**4
        elif z <= 1.31:
            p = 6.198765 - 19.558097 * z + 23.186922 * z**2 - 12.234627 * z**3 + 2.423045 * z**4
        else:
            p = 0.0
    return float(p)


def lilliefors_d(x: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance between the sample and N(mean, sd) with sd on n - 1."""
    x = np.sort(np.asarray(x, float))
    n = x.size
    p = stats.norm.cdf((x - x.mean()) / x.std(ddof=1))
    i = np.arange(1, n + 1)
    return float(max((i / n - p).max(), (p - (i - 1) / n).max()))


def normality(data: pd.DataFrame | SurveyData, columns: str | Sequence[str], *, by: str | None = None,
              codebook: Codebook | None = None) -> pd.DataFrame:
    """SPSS "Tests of Normality": Kolmogorov-Smirnov (Lilliefors) and Shapiro-Wilk.

    Kolmogorov-Smirnov: D = max_i max(i/n - p_(i), p_(i) - (i - 1)/n) with
    p_(i) = Phi((x_(i) - mean) / s); p from the Lilliefors correction as nortest::lillie.test
    (Dallal & Wilkinson 1986; Stephens 1974). SPSS prints the same D; where its table reads
    ".200*" it gives a lower bound, whereas here the approximate p itself is reported.
    Shapiro-Wilk: W with Royston's (1995) AS R94 p-value (as R's shapiro.test; n from 3 to 5000).

    Checked against R's shapiro.test output on ToothGrowth$len and PlantGrowth$weight, and the
    Lilliefors D against its definition (ks.test with estimated mean and sd) and statsmodels'
    lilliefors (tests/survey/test_assumptions.py).

    Args:
        data: DataFrame or SurveyData.
        columns: one or more numeric columns.
        by: optional grouping column (one row per variable and group, as SPSS's factor list).
        codebook: overrides the SurveyData codebook; its value labels name the groups.

    Returns:
        DataFrame with variable, group (when `by`), n, ks_D, ks_p, sw_W, sw_p.
    """
    frame, book = unpack(data, codebook, "normality")
    columns = [columns] if isinstance(columns, str) else list(columns)
    if not columns:
        raise SurveyAnalysisError("normality: give at least one column")
    rows = []
    for column in columns:
        if by is None:
            samples = {None: finite_column(frame, column, "normality", book).dropna().to_numpy()}
        else:
            samples = group_samples(frame, column, by, "normality", book, min_size=1)
        for level, x in samples.items():
            where = f"{column!r}" + ("" if level is None else f" in group {level!r} of {by!r}")
            if x.size < 5:
                raise SurveyAnalysisError(f"normality: {where} has {x.size} values; the tests need at least 5")
            if np.ptp(x) == 0:
                raise SurveyAnalysisError(f"normality: {where} is constant; normality is undefined")
            d = lilliefors_d(x)
            sw = stats.shapiro(x) if x.size <= 5000 else None
            row = {"variable": column}
            if by is not None:
                row["group"] = book.value_label(by, level) if by in book else level
            row.update({"n": int(x.size), "ks_D": d, "ks_p": lilliefors_p(d, x.size),
                        "sw_W": float(sw.statistic) if sw else float("nan"),
                        "sw_p": float(sw.pvalue) if sw else float("nan")})
            rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["levene", "lilliefors_d", "lilliefors_p", "normality"]
