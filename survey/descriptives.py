"""Descriptive statistics as SPSS prints them: frequency tables, descriptives, cross-tabulations.

- `frequencies`: SPSS FREQUENCIES — Frequency, Percent, Valid Percent, Cumulative Percent, with a
  row per user-missing code and one for system-missing, values in code order with their labels.
- `describe`: N, mean, SD (n - 1), min, max, skewness and kurtosis with SPSS's bias-corrected
  estimators (G1, G2; Joanes & Gill 1998 "type 2", also R's e1071 type = 2) and their standard
  errors as SPSS reports them.
- `crosstab`: counts with margins, optional row / column / total percentages, labelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from survey.codebook import Codebook, SurveyData
from survey.errors import SurveyAnalysisError


def _unpack(data: pd.DataFrame | SurveyData, codebook: Codebook | None) -> tuple[pd.DataFrame, Codebook]:
    if isinstance(data, SurveyData):
        return data.data, codebook or data.codebook
    if not isinstance(data, pd.DataFrame):
        raise SurveyAnalysisError(f"expected a DataFrame or SurveyData, got {type(data).__name__}")
    return data, codebook or Codebook()


def _column(frame: pd.DataFrame, name: str, where: str) -> pd.Series:
    if name not in frame.columns:
        raise SurveyAnalysisError(f"{where}: no column {name!r}; columns: {list(map(str, frame.columns))[:30]}")
    return frame[name]


def resolve_name(frame: pd.DataFrame, book: Codebook, name: str, where: str) -> str:
    """`name` itself if it is a column, else the one column whose codebook label is `name` (e.g. 城市)."""
    if name in frame.columns:
        return name
    labelled = [column for column in frame.columns if book.variables.get(column) is not None
                and book.variables[column].label == name]
    if len(labelled) == 1:
        return labelled[0]
    if len(labelled) > 1:
        raise SurveyAnalysisError(f"{where}: the label {name!r} belongs to several columns {labelled}; "
                                  "name the column")
    raise SurveyAnalysisError(f"{where}: no column {name!r}; columns: {list(map(str, frame.columns))[:30]}")


def is_text(column: pd.Series) -> bool:
    """True for a column of answers in words (no cell reads as a number), e.g. a city name."""
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    present = column.dropna()
    if isinstance(column.dtype, pd.CategoricalDtype):
        return True
    return bool(len(present)) and bool(pd.to_numeric(present, errors="coerce").isna().all())


def _sort_key(value: object) -> tuple[int, float | str]:
    try:
        return (0, float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return (1, str(value))


def frequencies(data: pd.DataFrame | SurveyData, variable: str, codebook: Codebook | None = None) -> pd.DataFrame:
    """SPSS's frequency table of one variable.

    Rows: each valid value in code order (label from the codebook), a "Total" of valid values
    (when anything is missing), each user-missing code, "System missing", and the grand "Total".
    Columns: value, label, n, percent (of all rows), valid_percent and cumulative_percent (of
    valid values only). User-missing codes are those the codebook lists for the variable that
    are still present in the data (read with user_missing="keep"). Text columns (城市 = 北京,
    上海, ...) are tabulated by their answers, blank answers counting as missing; `variable` may
    be a column name or a codebook variable label.
    """
    frame, book = _unpack(data, codebook)
    variable = resolve_name(frame, book, variable, "frequencies")
    values = _column(frame, variable, "frequencies")
    if is_text(values):  # empty answers of a text question are missing, as SPSS treats blank strings
        values = values.mask(values.astype(str).str.strip() == "")
    var = book.get(variable)
    user_missing = var.is_user_missing(values) if (var.missing_values or var.missing_range) else \
        pd.Series(False, index=values.index)
    system = values.isna()
    valid = values[~user_missing & ~system]
    total = len(values)
    counts = valid.value_counts(sort=False)
    order = sorted(counts.index, key=_sort_key)
    n_valid = int(counts.sum())
    rows = []
    cumulative = 0.0
    for value in order:
        n = int(counts[value])
        valid_pct = 100.0 * n / n_valid
        cumulative += valid_pct
        rows.append({"status": "valid", "value": value, "label": book.value_label(variable, value), "n": n,
                     "percent": 100.0 * n / total, "valid_percent": valid_pct,
                     "cumulative_percent": cumulative})
    missing_rows = []
    if user_missing.any():
        for value, n in sorted(values[user_missing].value_counts().items(), key=lambda kv: _sort_key(kv[0])):
            missing_rows.append({"status": "missing", "value": value,
                                 "label": book.value_label(variable, value), "n": int(n),
                                 "percent": 100.0 * n / total})
    if system.any():
        missing_rows.append({"status": "missing", "value": None, "label": "System missing",
                             "n": int(system.sum()), "percent": 100.0 * system.sum() / total})
    if missing_rows:
        rows.append({"status": "valid", "value": None, "label": "Total", "n": n_valid,
                     "percent": 100.0 * n_valid / total, "valid_percent": 100.0 if n_valid else np.nan})
        rows += missing_rows
        rows.append({"status": "missing", "value": None, "label": "Total",
                     "n": total - n_valid, "percent": 100.0 * (total - n_valid) / total})
    rows.append({"status": "total", "value": None, "label": "Total", "n": total, "percent": 100.0})
    table = pd.DataFrame(rows, columns=["status", "value", "label", "n", "percent", "valid_percent",
                                        "cumulative_percent"])
    table["value"] = pd.Series([r["value"] for r in rows], dtype=object)  # codes as they are
    table.attrs["variable"] = variable
    table.attrs["title"] = book.label(variable)
    return table


def _numeric(frame: pd.DataFrame, name: str) -> pd.Series:
    column = _column(frame, name, "describe")
    if pd.api.types.is_bool_dtype(column):
        return column.astype(float)
    numeric = pd.to_numeric(column, errors="coerce")
    bad = numeric.isna() & column.notna()
    if bad.any():
        example = column[bad].iloc[0]
        raise SurveyAnalysisError(f"describe: column {name!r} is not numeric (e.g. {example!r}); "
                                  "recode it or describe it with frequencies()")
    numeric = numeric.astype(float)
    if np.isinf(numeric).any():
        raise SurveyAnalysisError(f"describe: column {name!r} holds infinite values "
                                  f"({int(np.isinf(numeric).sum())} cells); recode them as missing")
    return numeric


def skewness(x: np.ndarray) -> float:
    """Sample skewness G1 = sqrt(n(n-1))/(n-2) * g1 (SPSS; e1071 type 2); NaN for n < 3."""
    n = x.size
    if n < 3:
        return float("nan")
    d = x - x.mean()
    m2, m3 = np.mean(d**2), np.mean(d**3)
    if m2 == 0:
        return float("nan")
    g1 = m3 / m2**1.5
    return float(np.sqrt(n * (n - 1)) / (n - 2) * g1)


def kurtosis(x: np.ndarray) -> float:
    """Sample excess kurtosis G2 = (n-1)/((n-2)(n-3)) ((n+1) g2 + 6) (SPSS; e1071 type 2)."""
    n = x.size
    if n < 4:
        return float("nan")
    d = x - x.mean()
    m2, m4 = np.mean(d**2), np.mean(d**4)
    if m2 == 0:
        return float("nan")
    g2 = m4 / m2**2 - 3
    return float((n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6))


def se_skewness(n: int) -> float:
    """SPSS's standard error of skewness: sqrt(6n(n-1) / ((n-2)(n+1)(n+3)))."""
    return float(np.sqrt(6.0 * n * (n - 1) / ((n - 2) * (n + 1) * (n + 3)))) if n > 2 else float("nan")


def se_kurtosis(n: int) -> float:
    """SPSS's standard error of kurtosis: 2 SES sqrt((n^2 - 1) / ((n - 3)(n + 5)))."""
    return float(2 * se_skewness(n) * np.sqrt((n * n - 1.0) / ((n - 3) * (n + 5)))) if n > 3 else float("nan")


def describe(data: pd.DataFrame | SurveyData, items: Sequence[str] | None = None, *,
             codebook: Codebook | None = None) -> pd.DataFrame:
    """SPSS DESCRIPTIVES (with skewness and kurtosis) of numeric items, one row per item.

    Each item uses its own valid values (SPSS "exclude cases pairwise"). Columns: label, n, mean,
    sd, min, max, skewness, se_skewness, kurtosis, se_kurtosis. A text column (every answer in
    words, e.g. a city) gets a row with its number of non-blank answers and no statistics, as
    SPSS lists a string variable's N; its name is in ``table.attrs["text"]`` (tabulate it with
    frequencies()). By default every numeric and text column is described, except the columns
    the codebook marks personal. Items may be column names or codebook labels; a column of
    numbers with stray words in it ("4分") is an error naming the column.
    """
    frame, book = _unpack(data, codebook)
    personal = set(book.personal_columns())
    names = [resolve_name(frame, book, name, "describe") for name in items] if items is not None else \
        [c for c in frame.columns if c not in personal and
         (pd.api.types.is_numeric_dtype(frame[c]) or is_text(frame[c]))]
    if not names:
        raise SurveyAnalysisError("describe: no items given and no numeric columns in the data")
    if len(frame) == 0:
        raise SurveyAnalysisError(f"describe: no respondents (the data has {frame.shape[1]} columns "
                                  "and no rows)")
    rows, text = {}, []
    for name in names:
        if is_text(frame[name]):
            answered = frame[name].dropna().astype(str).str.strip() != ""
            rows[name] = {"label": book.label(name), "n": int(answered.sum())}
            text.append(name)
            continue
        x = _numeric(frame, name).dropna().to_numpy()
        n = x.size
        rows[name] = {"label": book.label(name), "n": n,
                      "mean": float(x.mean()) if n else np.nan,
                      "sd": float(x.std(ddof=1)) if n > 1 else np.nan,
                      "min": float(x.min()) if n else np.nan, "max": float(x.max()) if n else np.nan,
                      "skewness": skewness(x), "se_skewness": se_skewness(n),
                      "kurtosis": kurtosis(x), "se_kurtosis": se_kurtosis(n)}
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=[
        "label", "n", "mean", "sd", "min", "max", "skewness", "se_skewness", "kurtosis", "se_kurtosis"])
    table.index.name = "item"
    table.attrs["text"] = text
    return table


def crosstab(data: pd.DataFrame | SurveyData, row: str, col: str, *,
             percent: Literal["row", "col", "total"] | None = None, codebook: Codebook | None = None,
             labels: bool = True) -> pd.DataFrame:
    """Cross-tabulation of two variables with "Total" margins (valid values only).

    With `percent`, cells are percentages of the row, column or grand total instead of counts.
    Categories are in code order and shown by their value labels when `labels`.
    """
    frame, book = _unpack(data, codebook)
    a, b = _column(frame, row, "crosstab"), _column(frame, col, "crosstab")
    if percent not in (None, "row", "col", "total"):
        raise SurveyAnalysisError(f"crosstab: percent must be 'row', 'col', 'total' or None (got {percent!r})")
    var_a, var_b = book.get(row), book.get(col)
    if var_a.missing_values or var_a.missing_range:
        a = a.mask(var_a.is_user_missing(a))
    if var_b.missing_values or var_b.missing_range:
        b = b.mask(var_b.is_user_missing(b))
    ok = a.notna() & b.notna()
    counts = pd.crosstab(a[ok], b[ok])
    counts = counts.loc[sorted(counts.index, key=_sort_key), sorted(counts.columns, key=_sort_key)]
    counts["Total"] = counts.sum(axis=1)
    counts.loc["Total"] = counts.sum(axis=0)
    if percent == "row":
        counts = counts.div(counts["Total"], axis=0) * 100
    elif percent == "col":
        counts = counts.div(counts.loc["Total"], axis=1) * 100
    elif percent == "total":
        counts = counts / counts.loc["Total", "Total"] * 100
    if labels:
        counts.index = [v if v == "Total" else book.value_label(row, v) for v in counts.index]
        counts.columns = [v if v == "Total" else book.value_label(col, v) for v in counts.columns]
    counts.index.name, counts.columns.name = book.label(row), book.label(col)
    return counts


__all__ = ["crosstab", "describe", "frequencies", "kurtosis", "se_kurtosis", "se_skewness", "skewness"]
