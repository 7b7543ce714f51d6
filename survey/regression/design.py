"""What every regression shares: input checks, dummy coding of labelled nominal predictors
against a reference category, collinearity checks, blocks of predictors, warnings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from survey.codebook import SurveyData
from survey.errors import SurveyAnalysisError, SurveyAnalysisWarning
from survey.inputs import nominal_labelled, unpack

CONSTANT = "(Constant)"
MAX_LEVELS = 30
Reference = Literal["first", "last"] | dict[str, object]


class ConvergenceWarning(SurveyAnalysisWarning):
    """The maximum-likelihood iterations stopped before converging."""


class SeparationWarning(SurveyAnalysisWarning):
    """Complete or quasi-complete separation: some estimates run off to infinity."""


# ----------------------------------------------------------------------------- input checks


def require_frame(data: object, where: str) -> pd.DataFrame:
    """`data` itself if it is a DataFrame, else a SurveyAnalysisError."""
    if not isinstance(data, pd.DataFrame):
        raise SurveyAnalysisError(f"{where} needs a pandas DataFrame, got {type(data).__name__}")
    return data


def require_columns(data: pd.DataFrame, names: Sequence[str], where: str) -> None:
    """Raise if any of `names` is not a column of `data` (naming it and what is available)."""
    absent = [name for name in names if name not in data.columns]
    if absent:
        raise SurveyAnalysisError(
            f"{where}: columns {absent} are not in the data; available: {list(map(str, data.columns))[:30]}"
        )
    repeated = sorted({name for name in names if list(names).count(name) > 1})
    if repeated:
        raise SurveyAnalysisError(f"{where}: columns {repeated} are named more than once")


def numeric_column(values: pd.Series, name: str, where: str) -> pd.Series:
    """`values` as float, or an error naming the column and a value that is not a number."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    if pd.api.types.is_numeric_dtype(values):
        return _finite_column(values.astype(float), name, where)
    converted = pd.to_numeric(values, errors="coerce")
    bad = values[converted.isna() & values.notna()]
    if len(bad):
        raise SurveyAnalysisError(
            f"{where}: column {name!r} must be numeric; it holds {bad.iloc[0]!r} "
            f"({len(bad)} non-numeric values)"
        )
    return _finite_column(converted.astype(float), name, where)


def _finite_column(values: pd.Series, name: str, where: str) -> pd.Series:
    infinite = np.isinf(values)
    if infinite.any():
        raise SurveyAnalysisError(f"{where}: column {name!r} holds infinite values "
                                  f"({int(infinite.sum())} cells); recode them as missing")
    return values


def _is_categorical(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values):
        return False
    if isinstance(values.dtype, pd.CategoricalDtype):
        return True
    return not pd.api.types.is_numeric_dtype(values)


def _levels(values: pd.Series) -> list[object]:
    """Levels in their natural order: category order, else sorted values."""
    present = values.dropna()
    if isinstance(values.dtype, pd.CategoricalDtype):
        seen = set(present.unique())
        return [level for level in values.cat.categories if level in seen]
    unique = [v.item() if isinstance(v, np.generic) else v for v in present.unique()]
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=str)


# ----------------------------------------------------------------------------- design matrix


@dataclass
class Design:
    """Outcome, dummy-coded predictors and frequency weights after listwise deletion."""

    y: pd.Series
    X: pd.DataFrame
    terms: dict[str, list[str]]
    references: dict[str, object]
    weights: np.ndarray
    n_dropped: int


def _reference_level(name: str, levels: list[object], reference: Reference) -> object:
    if isinstance(reference, dict):
        if name not in reference:
            return levels[0]
        wanted = reference[name]
        for level in levels:
            if level == wanted or str(level) == str(wanted):
                return level
        raise SurveyAnalysisError(
            f"reference level {wanted!r} of predictor {name!r} is not among its values {levels}"
        )
    if reference not in ("first", "last"):
        raise SurveyAnalysisError(f"reference must be 'first', 'last' or a dict, got {reference!r}")
    return levels[0] if reference == "first" else levels[-1]


def _code_predictor(values: pd.Series, name: str, reference: Reference, where: str):
    """Columns for one predictor: itself if numeric, k-1 indicator columns if categorical."""
    if pd.api.types.is_datetime64_any_dtype(values) or isinstance(values.dtype, pd.PeriodDtype):
        raise SurveyAnalysisError(f"{where}: predictor {name!r} holds dates; convert it to a number first")
    if not _is_categorical(values):
        return pd.DataFrame({name: _finite_column(values.astype(float), name, where)}), [name], None
    levels = _levels(values)
    if len(levels) > MAX_LEVELS:
        raise SurveyAnalysisError(
            f"{where}: predictor {name!r} has {len(levels)} distinct text values and cannot be "
            f"dummy-coded (at most {MAX_LEVELS} levels); if it holds numbers stored as text, convert "
            "it with pd.to_numeric; if it is free text or an identifier, leave it out"
        )
    ref = _reference_level(name, levels, reference)
    text = values.astype(object)
    columns = {f"{name}[{level}]": (text == level).astype(float) for level in levels if level != ref}
    return pd.DataFrame(columns, index=values.index), list(columns), ref


def _codebook_predictors(data: object, predictors: Sequence[str], where: str) -> tuple[object, list[str]]:
    """The DataFrame of `data`; with a SurveyData, its labelled nominal predictors become categories.

    User-missing codes count as missing and codebook scale names give scale scores. A nominal
    predictor with value labels is replaced by its
    labels as an ordered category (code order), so `build_design` dummy-codes it.
    """
    if not isinstance(data, SurveyData):
        return data, []
    frame, book = unpack(data, where, scores=True)
    converted = {}
    for name in dict.fromkeys(predictors):
        if name in frame.columns and nominal_labelled(book, name) and pd.api.types.is_numeric_dtype(frame[name]):
            values = frame[name]
            codes = sorted({*values.dropna().unique(), *book[name].value_labels}, key=_code_key)
            labels = list(dict.fromkeys(book.value_label(name, code) for code in codes))
            converted[name] = pd.Categorical(values.map(lambda v, n=name: np.nan if pd.isna(v)
                                                        else book.value_label(n, v)), categories=labels)
    if converted:
        frame = frame.assign(**converted)
    return frame, []


def _code_key(code: object) -> tuple[int, float | str]:
    try:
        return (0, float(code))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return (1, str(code))


def _reference_notes(design: Design, reference: Reference) -> list[str]:
    """One sentence per dummy-coded predictor naming its reference category."""
    how = ("reference chosen by name" if isinstance(reference, dict) else
           "last category, as SPSS" if reference == "last" else "first category, as R's treatment contrasts")
    return [f"{name} is dummy-coded against reference category {level} ({how})"
            for name, level in design.references.items()]


def build_design(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    where: str,
    reference: Reference = "last",
    weights: str | None = None,
) -> Design:
    """Listwise-complete outcome and design matrix (no constant), checked for collinearity."""
    require_frame(data, where)
    if isinstance(predictors, str):
        predictors = [predictors]
    predictors = list(predictors)
    if not predictors:
        raise SurveyAnalysisError(f"{where}: give at least one predictor")
    names = [outcome, *predictors] + ([weights] if weights else [])
    require_columns(data, names, where)
    frame = data.loc[:, names].dropna()
    if weights:
        w = numeric_column(frame[weights], weights, where)
        if (w < 0).any():
            raise SurveyAnalysisError(f"{where}: weights column {weights!r} has negative values")
        frame = frame.loc[w > 0]
        w = w.loc[frame.index].to_numpy()
    else:
        w = np.ones(len(frame))
    if len(frame) == 0:
        raise SurveyAnalysisError(f"{where}: no case has all of {names} answered")
    if pd.api.types.is_numeric_dtype(frame[outcome]):  # text outcomes are ordinal categories
        _finite_column(frame[outcome].astype(float), outcome, where)
    blocks, terms, references = [], {}, {}
    for name in predictors:
        block, cols, ref = _code_predictor(frame[name], name, reference, where)
        blocks.append(block)
        terms[name] = cols
        if ref is not None:
            references[name] = ref
    X = pd.concat(blocks, axis=1)
    check_collinearity(X, w, where)
    return Design(frame[outcome], X, terms, references, w, len(data) - len(frame))


def check_collinearity(X: pd.DataFrame, weights: np.ndarray, where: str) -> None:
    """Raise naming the first column that is constant or a linear combination of earlier ones."""
    sw = np.sqrt(weights)[:, None]
    mean = np.average(X.to_numpy(), axis=0, weights=weights)
    centered = (X.to_numpy() - mean) * sw
    for k, name in enumerate(X.columns):
        target = centered[:, k]
        total = float(target @ target)
        if total <= 1e-12 * max(1.0, float(np.abs(X.iloc[:, k]).max()) ** 2) * len(target):
            raise SurveyAnalysisError(
                f"{where}: predictor {name!r} has the same value for every case; it cannot be estimated"
            )
        if k == 0:
            continue
        coef, *_ = np.linalg.lstsq(centered[:, :k], target, rcond=None)
        residual = target - centered[:, :k] @ coef
        if float(residual @ residual) / total < 1e-10:
            scale = np.sqrt((centered[:, :k] ** 2).sum(axis=0) / total)
            partners = [str(X.columns[i]) for i in range(k) if abs(coef[i]) * scale[i] > 1e-6]
            raise SurveyAnalysisError(
                f"{where}: predictor {name!r} is perfectly collinear with {partners} "
                "(it is an exact linear combination of them); drop one of them"
            )


def _steps(predictors: Sequence[str] | None, blocks: Sequence[Sequence[str]] | None) -> list[list[str]]:
    """Cumulative predictor lists, one per hierarchical step."""
    if blocks is None:
        if predictors is None:
            raise SurveyAnalysisError("ols: give predictors or blocks")
        return [[predictors] if isinstance(predictors, str) else list(predictors)]
    steps, entered = [], []
    for block in blocks:
        block = [block] if isinstance(block, str) else list(block)
        if not block:
            raise SurveyAnalysisError("ols: every block needs at least one predictor")
        again = [name for name in block if name in entered]
        if again:
            raise SurveyAnalysisError(f"ols: predictors {again} appear in more than one block")
        entered = entered + block
        steps.append(list(entered))
    if predictors is not None:
        given = [predictors] if isinstance(predictors, str) else list(predictors)
        if sorted(given) != sorted(entered):
            raise SurveyAnalysisError(
                f"ols: predictors {given} differ from the predictors in the blocks {entered}; "
                "pass predictors=None when blocks are given"
            )
    return steps
