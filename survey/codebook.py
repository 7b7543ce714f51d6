"""The codebook (编码簿): what each column of a questionnaire dataset means.

A `Codebook` holds variables (labels, value labels, missing codes, measurement level, personal-data
flag), multiple-response sets and scales (items, reverse-keyed items, scale range). It travels with
the data in a `SurveyData` and drives every analysis and table label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from survey.errors import SurveyAnalysisError

MeasureLevel = Literal["nominal", "ordinal", "scale", "unknown"]
MEASURE_LEVELS: tuple[str, ...] = ("nominal", "ordinal", "scale", "unknown")


class CodebookError(SurveyAnalysisError):
    """A codebook is inconsistent with itself or with the data it describes."""


@dataclass
class Variable:
    """One column of the dataset.

    Attributes:
        name: column name in the DataFrame.
        label: variable label (question text), Chinese or English.
        value_labels: code -> label, e.g. {1: "非常不满意", 5: "非常满意"}.
        missing_values: user-defined missing codes (SPSS "missing values"), e.g. [99].
        missing_range: an inclusive (low, high) user-missing range, as SPSS allows.
        measure: measurement level: "nominal", "ordinal", "scale" or "unknown".
        personal: personal data (IP address, phone, name); dropped or hashed on import.
        question: the questionnaire question number this column belongs to, when known.
    """

    name: str
    label: str = ""
    value_labels: dict[float | int | str, str] = field(default_factory=dict)
    missing_values: list[float | int | str] = field(default_factory=list)
    missing_range: tuple[float, float] | None = None
    measure: MeasureLevel = "unknown"
    personal: bool = False
    question: int | None = None

    def __post_init__(self) -> None:
        if self.measure not in MEASURE_LEVELS:
            raise CodebookError(
                f"variable {self.name!r}: measure {self.measure!r} is not one of {MEASURE_LEVELS}"
            )

    def is_user_missing(self, values: pd.Series) -> pd.Series:
        """Boolean mask of cells holding a user-defined missing code."""
        mask = values.isin(self.missing_values) if self.missing_values else values.isna() & False
        if self.missing_range is not None:
            low, high = self.missing_range
            numeric = pd.to_numeric(values, errors="coerce")
            mask = mask | ((numeric >= low) & (numeric <= high)).fillna(False)
        return mask.astype(bool)

    def display_label(self) -> str:
        """The label if there is one, else the name."""
        return self.label or self.name


@dataclass
class MultipleResponseSet:
    """A multiple-choice question stored as one 0/1 column per option (SPSS MR set).

    Attributes:
        name: set name.
        label: question text.
        variables: the option columns, in option order.
        counted_value: the value that means "chosen" (1 for dichotomies).
    """

    name: str
    label: str = ""
    variables: list[str] = field(default_factory=list)
    counted_value: float | int | str = 1


@dataclass
class Scale:
    """A multi-item scale (量表/维度), e.g. five satisfaction items on 1-5.

    Attributes:
        name: scale name (column name of its score).
        items: item column names.
        reverse: the reverse-keyed items (a subset of `items`).
        low, high: the response range of every item (1 and 5 for a 5-point Likert item).
        label: display label.
        scoring: "mean" or "sum".
        min_valid: least number of answered items for a score (default: all items).
    """

    name: str
    items: list[str]
    reverse: list[str] = field(default_factory=list)
    low: float = 1
    high: float = 5
    label: str = ""
    scoring: Literal["mean", "sum"] = "mean"
    min_valid: int | None = None

    def __post_init__(self) -> None:
        if not self.items:
            raise CodebookError(f"scale {self.name!r} has no items")
        unknown = [item for item in self.reverse if item not in self.items]
        if unknown:
            raise CodebookError(
                f"scale {self.name!r}: reverse-keyed items {unknown} are not among its items "
                f"{self.items}"
            )
        if not self.low < self.high:
            raise CodebookError(f"scale {self.name!r}: low ({self.low}) must be below high ({self.high})")
        if self.scoring not in ("mean", "sum"):
            raise CodebookError(f"scale {self.name!r}: scoring must be 'mean' or 'sum'")
        if self.min_valid is not None and not 1 <= self.min_valid <= len(self.items):
            raise CodebookError(
                f"scale {self.name!r}: min_valid must be between 1 and {len(self.items)}"
            )


@dataclass
class Codebook:
    """Variables, multiple-response sets and scales of one dataset."""

    variables: dict[str, Variable] = field(default_factory=dict)
    mr_sets: dict[str, MultipleResponseSet] = field(default_factory=dict)
    scales: dict[str, Scale] = field(default_factory=dict)
    title: str = ""
    source: str = ""

    def __contains__(self, name: object) -> bool:
        return name in self.variables

    def __getitem__(self, name: str) -> Variable:
        try:
            return self.variables[name]
        except KeyError:
            raise KeyError(f"codebook has no variable {name!r}") from None

    def get(self, name: str) -> Variable:
        """The variable `name`, or a bare one when the codebook does not describe it."""
        return self.variables.get(name) or Variable(name=name)

    def add(self, variable: Variable) -> None:
        """Add or replace a variable."""
        self.variables[variable.name] = variable

    def label(self, name: str) -> str:
        """Display label of a column (its name when unlabelled)."""
        return self.get(name).display_label()

    def value_label(self, name: str, value: object) -> str:
        """Label of `value` in column `name` (the value itself when unlabelled)."""
        labels = self.get(name).value_labels
        if value in labels:
            return labels[value]
        try:
            as_float = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return str(value)
        for code, text in labels.items():
            try:
                if float(code) == as_float:
                    return text
            except (TypeError, ValueError):
                continue
        return str(int(as_float)) if as_float.is_integer() else str(value)

    def personal_columns(self) -> list[str]:
        """Columns marked as personal data."""
        return [name for name, var in self.variables.items() if var.personal]

    def validate_against(self, data: pd.DataFrame, *, where: str = "codebook") -> None:
        """Raise CodebookError if scales or MR sets name columns that the data lacks."""
        columns = set(data.columns)
        for scale in self.scales.values():
            missing = [item for item in scale.items if item not in columns]
            if missing:
                raise CodebookError(
                    f"{where}: scale {scale.name!r} names columns not in the data: {missing}; "
                    f"available columns: {sorted(map(str, columns))[:20]}"
                )
        for mr in self.mr_sets.values():
            missing = [item for item in mr.variables if item not in columns]
            if missing:
                raise CodebookError(
                    f"{where}: multiple-response set {mr.name!r} names columns not in the data: "
                    f"{missing}"
                )

    def subset(self, columns: list[str]) -> Codebook:
        """A codebook restricted to `columns` (scales and sets kept only if complete)."""
        keep = set(columns)
        return Codebook(
            variables={k: v for k, v in self.variables.items() if k in keep},
            mr_sets={k: s for k, s in self.mr_sets.items() if set(s.variables) <= keep},
            scales={k: s for k, s in self.scales.items() if set(s.items) <= keep},
            title=self.title,
            source=self.source,
        )


@dataclass
class SurveyData:
    """A questionnaire dataset: the respondents' answers plus the codebook describing them."""

    data: pd.DataFrame
    codebook: Codebook = field(default_factory=Codebook)
    # what was removed as personal data: one row per column and kind, counts only (survey.privacy)
    privacy: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["variable", "personal_data", "found_by", "action", "cells"]
        ),
        repr=False,
    )

    def __post_init__(self) -> None:
        for column in self.data.columns:
            if column not in self.codebook.variables:
                self.codebook.add(Variable(name=str(column)))

    @property
    def n(self) -> int:
        """Number of respondents (rows)."""
        return len(self.data)

    def __repr__(self) -> str:
        return (
            f"SurveyData(n={self.n}, columns={self.data.shape[1]}, "
            f"scales={list(self.codebook.scales)})"
        )
