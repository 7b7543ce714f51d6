"""Input checks shared by the agreement, clustering, evaluation and method-bias analyses.

Every check raises `SurveyAnalysisError` naming the analysis and the offending column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from survey.errors import SurveyAnalysisError


def as_frame(data: object, where: str) -> pd.DataFrame:
    """The DataFrame itself, or the `.data` of a SurveyData; anything else is an error."""
    if isinstance(data, pd.DataFrame):
        return data
    inner = getattr(data, "data", None)
    if isinstance(inner, pd.DataFrame):
        return inner
    raise SurveyAnalysisError(f"{where}: expected a pandas DataFrame or SurveyData, got {type(data).__name__}")


def column_list(frame: pd.DataFrame, columns: Sequence[str] | None, where: str, *, minimum: int = 1) -> list[str]:
    """`columns` (default: every column) after checking they exist, are distinct and are enough."""
    names = list(frame.columns) if columns is None else ([columns] if isinstance(columns, str) else list(columns))
    absent = [name for name in names if name not in frame.columns]
    if absent:
        raise SurveyAnalysisError(
            f"{where}: columns {absent} are not in the data; available: {list(map(str, frame.columns))[:30]}"
        )
    repeated = sorted({str(name) for name in names if names.count(name) > 1})
    if repeated:
        raise SurveyAnalysisError(f"{where}: columns {repeated} are named more than once")
    if len(names) < minimum:
        raise SurveyAnalysisError(f"{where}: needs at least {minimum} columns, got {len(names)}: {names}")
    return names


def finite_matrix(frame: pd.DataFrame, columns: Sequence[str], where: str) -> np.ndarray:
    """The columns as a float matrix; a non-numeric, missing (NaN) or infinite cell is an error naming its column."""
    out = np.empty((len(frame), len(columns)))
    for j, name in enumerate(columns):
        values = frame[name]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            converted = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            numeric = pd.to_numeric(values, errors="coerce")
            bad = values[numeric.isna() & values.notna()]
            if len(bad):
                raise SurveyAnalysisError(
                    f"{where}: column {name!r} must be numeric; it holds {bad.iloc[0]!r} ({len(bad)} non-numeric cells)"
                )
            converted = numeric.to_numpy(dtype=float, na_value=np.nan)
        missing = int(np.isnan(converted).sum())
        if missing:
            raise SurveyAnalysisError(
                f"{where}: column {name!r} has {missing} missing (NaN) values; drop or impute those rows first"
            )
        infinite = int(np.isinf(converted).sum())
        if infinite:
            raise SurveyAnalysisError(f"{where}: column {name!r} holds {infinite} infinite values; fix the data first")
        out[:, j] = converted
    return out
