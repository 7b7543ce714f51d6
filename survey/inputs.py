"""How an analysis reads its input: a DataFrame or a SurveyData, columns named one by one or by scale.

With a SurveyData, user-missing codes of the codebook count as missing (as in every SPSS
procedure) and a codebook scale name stands for the scale's items.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from survey.codebook import Codebook, Scale, SurveyData
from survey.errors import SurveyAnalysisError


def unpack(data: object, where: str, *, scores: bool = False) -> tuple[pd.DataFrame, Codebook | None]:
    """The DataFrame (user-missing codes set to NaN) and the codebook of `data`; no codebook for a DataFrame.

    With `scores`, every codebook scale that is not already a column is added as a column of its
    scale scores (survey.score_scales: reverse keys applied, the scale's own scoring), so an
    analysis of variables can name a scale ("trust") as it names a column.
    """
    if isinstance(data, SurveyData):
        frame = without_user_missing(data.data, data.codebook)
        if scores:
            frame = with_scale_scores(frame, data.codebook)
        return frame, data.codebook
    if isinstance(data, pd.DataFrame):
        return data, None
    raise SurveyAnalysisError(f"{where}: expected a pandas DataFrame or SurveyData, got {type(data).__name__}")


def without_user_missing(frame: pd.DataFrame, book: Codebook) -> pd.DataFrame:
    """A copy of `frame` with the codebook's user-missing codes as NaN (the frame itself if there are none)."""
    masked: dict[str, pd.Series] = {}
    for name in frame.columns:
        variable = book.variables.get(name)
        if variable is None or not (variable.missing_values or variable.missing_range):
            continue
        mask = variable.is_user_missing(frame[name])
        if mask.any():
            masked[name] = frame[name].mask(mask)
    if not masked:
        return frame
    out = frame.copy()
    for name, values in masked.items():
        out[name] = values
    return out


def with_scale_scores(frame: pd.DataFrame, book: Codebook) -> pd.DataFrame:
    """`frame` plus a score column for each codebook scale not already a column (complete scales only)."""
    from survey.cleaning import score_scales

    wanted = {name: scale for name, scale in book.scales.items()
              if name not in frame.columns and set(scale.items) <= set(frame.columns)}
    if not wanted:
        return frame
    return pd.concat([frame, score_scales(frame, wanted)], axis=1)


def scale_named(book: Codebook | None, name: str, where: str) -> Scale | None:
    """The codebook scale `name`, or None when the codebook has no such scale."""
    if book is None:
        return None
    return book.scales.get(name)


def scale_items(book: Codebook | None) -> list[str]:
    """Every item of every codebook scale, in scale order, each once."""
    if book is None:
        return []
    return list(dict.fromkeys(item for scale in book.scales.values() for item in scale.items))


def expand_items(items: str | Sequence[str] | None, frame: pd.DataFrame, book: Codebook | None,
                 where: str) -> list[str] | None:
    """Column names with every codebook scale name replaced by its items (None stays None).

    A name that is neither a column nor a scale is an error naming it and the scales there are.
    """
    if items is None:
        return None
    names = [items] if isinstance(items, str) else list(items)
    out: list[str] = []
    for name in names:
        if isinstance(name, str) and name not in frame.columns:
            scale = scale_named(book, name, where)
            if scale is not None:
                out.extend(scale.items)
                continue
            scales = sorted(book.scales) if book is not None else []
            hint = (f"; codebook scales: {scales}" if scales else
                    "; a scale name needs a SurveyData whose codebook defines it" if book is None else "")
            raise SurveyAnalysisError(f"{where}: {name!r} is neither a column nor a codebook scale{hint}")
        out.append(name)
    return out


def nominal_labelled(book: Codebook | None, name: str) -> bool:
    """True when the codebook marks `name` nominal and labels its values (a categorical predictor)."""
    if book is None or name not in book.variables:
        return False
    variable = book.variables[name]
    return variable.measure == "nominal" and bool(variable.value_labels)
