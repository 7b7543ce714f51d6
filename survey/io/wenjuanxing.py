"""Exports of the 问卷星 (Wenjuanxing) survey platform: "按选项文本" (by option text) and
"按选项序号" (by option number), turned into coded columns plus a codebook.

Column names follow the questionnaire: `Q3` for question 3, `Q6_2` for option 2 of a multiple-choice
question (or row 2 of a matrix/Likert grid), `Q2_text` / `Q6_14_text` for the text written into an
option with a blank (`其他〖...〗`). Metadata columns get English names (`seq`, `submitted_at`,
`duration_seconds`, `source`, `source_detail`, `ip`); the Chinese header stays as the label.
`survey.read` calls `parse_wenjuanxing`; nothing here reads files.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd

from survey.codebook import Codebook, MultipleResponseSet, Variable
from survey.errors import SurveyAnalysisError, SurveyAnalysisWarning
from survey.privacy import find_personal_columns

# metadata header -> (column name, measurement level)
META_COLUMNS: dict[str, tuple[str, str]] = {
    "序号": ("seq", "nominal"),
    "提交答卷时间": ("submitted_at", "scale"),
    "所用时间": ("duration_seconds", "scale"),
    "来源": ("source", "nominal"),
    "来源详情": ("source_detail", "nominal"),
    "来自IP": ("ip", "nominal"),
    "总分": ("total_score", "scale"),
}
# the six columns every 问卷星 export starts with; four of them identify an export
SIGNATURE_COLUMNS = ("序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP")
MR_SEPARATOR = "┋"
RANK_SEPARATOR = "→"
SKIPPED = -3  # "(跳过)": the question was skipped by the questionnaire's logic
EMPTY = -2  # "(空)": shown but left unanswered
MISSING_MARKERS = {"(跳过)": SKIPPED, "（跳过）": SKIPPED, "(空)": EMPTY, "（空）": EMPTY}
MISSING_LABELS = {SKIPPED: "(跳过)", EMPTY: "(空)"}
CHOSEN_LABELS: dict[float | int | str, str] = {0: "未选中", 1: "选中"}

_QUESTION = re.compile(r"^(\d+)\s*[、．.:：]\s*(.*)$", re.S)
_OPTION = re.compile(r"^第\s*(\d+)\s*题\s*[(（](.*)[)）]$", re.S)
_SUBITEM = re.compile(r"^(\d+)\s*[(（](.*)[)）]$", re.S)
_FILL = re.compile(r"〖(.*?)〗", re.S)
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_FIRST_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DURATION = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)\s*(?:小时|时|h))?\s*(?:(?P<m>\d+(?:\.\d+)?)\s*(?:分钟|分|min))?"
    r"\s*(?:(?P<s>\d+(?:\.\d+)?)\s*(?:秒钟|秒|s))?$",
    re.I,
)
_ABOVE = re.compile(r"以上|超过|多于|大于|及更多|或更多|以后")
_BELOW = re.compile(r"以下|以内|不到|少于|小于|不足|低于")
_MIDDLE = {"一般", "不确定", "中立", "说不清", "不好说", "一般般", "中等", "普通"}

# common Chinese Likert anchors, lowest first; a middle option may use any word in _MIDDLE
LIKERT_ANCHORS: tuple[tuple[str, ...], ...] = (
    ("非常不满意", "不满意", "一般", "满意", "非常满意"),
    ("很不满意", "不满意", "一般", "满意", "很满意"),
    ("非常不满意", "比较不满意", "一般", "比较满意", "非常满意"),
    ("非常不同意", "不同意", "一般", "同意", "非常同意"),
    ("非常不同意", "比较不同意", "一般", "比较同意", "非常同意"),
    ("完全不同意", "比较不同意", "一般", "比较同意", "完全同意"),
    ("完全不同意", "不同意", "一般", "同意", "完全同意"),
    ("非常不符合", "不符合", "一般", "符合", "非常符合"),
    ("完全不符合", "比较不符合", "一般", "比较符合", "完全符合"),
    ("非常不重要", "不重要", "一般", "重要", "非常重要"),
    ("非常不愿意", "不愿意", "一般", "愿意", "非常愿意"),
    ("非常不了解", "不了解", "一般", "了解", "非常了解"),
    ("完全不了解", "不太了解", "一般", "比较了解", "非常了解"),
    ("非常差", "较差", "一般", "较好", "非常好"),
    ("很差", "差", "一般", "好", "很好"),
    ("从不", "很少", "有时", "经常", "总是"),
)


class WenjuanxingError(SurveyAnalysisError):
    """A 问卷星 export (or a pair of them) cannot be interpreted at all."""


class UninterpretedColumnsWarning(SurveyAnalysisWarning):
    """Columns of a 问卷星 export that were kept as they are because they could not be decoded."""


class InferredCodesWarning(SurveyAnalysisWarning):
    """A by-text 问卷星 export does not carry the questionnaire's option numbers; the codes of the
    listed columns were inferred from the option text (read the by-number export as `pair=`)."""


class ExportMismatchWarning(SurveyAnalysisWarning):
    """The by-text and by-number exports of the same survey disagree on some answers."""


@dataclass
class ParsedExport:
    """One export turned into coded columns, plus what is needed to merge it with its pair."""

    data: pd.DataFrame
    codebook: Codebook
    kind: Literal["text", "number"]
    options: dict[str, str] = field(default_factory=dict)  # column -> option / row text
    titles: dict[int, str] = field(default_factory=dict)  # question number -> title
    inferred: list[str] = field(default_factory=list)  # columns with codes inferred from text
    uninterpreted: list[str] = field(default_factory=list)  # original headers kept as they were
    notes: list[str] = field(default_factory=list)  # further remarks for the warning


# ----------------------------------------------------------------------------- detection


def clean_header(header: object) -> str:
    """A header with stray spaces (ASCII, full-width, line breaks) removed from both ends."""
    return re.sub(r"\s+", " ", str(header).replace("\u3000", " ")).strip()


def is_wenjuanxing(columns: Iterable[object]) -> bool:
    """True when at least four of the platform's six metadata columns are present."""
    present = {clean_header(c) for c in columns}
    return sum(name in present for name in SIGNATURE_COLUMNS) >= 4


# ----------------------------------------------------------------------------- cells


@dataclass
class Cell:
    status: Literal["missing", "value"]
    value: object = None  # number (float) or text (str)
    fill: str | None = None  # text written into the option's blank 〖...〗
    code: int | None = None  # SKIPPED / EMPTY for the platform's missing markers
    raw: str | None = None  # the cell's text as exported (options joined by ┋ keep their fills)


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NaT:
        return True
    return isinstance(value, str) and not value.strip()


def read_cell(value: object, *, numeric_markers: bool) -> Cell:
    """Classify one raw cell: missing marker, number (with optional 〖fill〗) or text."""
    if _is_blank(value):
        return Cell("missing")
    if isinstance(value, bool | np.bool_):
        return Cell("value", float(value))
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        if numeric_markers and number in (SKIPPED, EMPTY):
            return Cell("missing", code=int(number))
        return Cell("value", number)
    text = str(value).strip()
    if text in MISSING_MARKERS:
        return Cell("missing", code=MISSING_MARKERS[text])
    fills = [f.strip() for f in _FILL.findall(text)]
    bare = _FILL.sub("", text).strip()
    fill = "；".join(f for f in fills if f) or None
    if _NUMBER.match(bare):
        number = float(bare)
        if numeric_markers and number in (SKIPPED, EMPTY) and fill is None:
            return Cell("missing", code=int(number))
        return Cell("value", number, fill, raw=text)
    return Cell("value", bare, fill, raw=text)


def read_cells(values: Sequence[object], *, numeric_markers: bool) -> list[Cell]:
    return [read_cell(v, numeric_markers=numeric_markers) for v in values]


def _values(cells: list[Cell]) -> list[object]:
    return [c.value for c in cells if c.status == "value"]


def _all_numeric(cells: list[Cell]) -> bool:
    values = _values(cells)
    return bool(values) and all(isinstance(v, float) for v in values)


def _missing_series(cells: list[Cell], index: pd.Index) -> pd.Series:
    """The platform's missing codes (-3 skipped, -2 empty) where a cell held a marker."""
    return pd.Series(
        [c.code if c.code is not None else np.nan for c in cells], index=index, dtype=float
    )


def _fill_series(cells: list[Cell], index: pd.Index) -> pd.Series | None:
    fills = [c.fill for c in cells]
    if not any(fills):
        return None
    return pd.Series([f if f else np.nan for f in fills], index=index, dtype="object").astype("str")


# ----------------------------------------------------------------------------- option order


def _first_number(text: str) -> float | None:
    match = _FIRST_NUMBER.search(text)
    return float(match.group()) if match else None


def _likert_order(options: Sequence[str]) -> tuple[str, ...] | None:
    """The anchor list that holds every option (middle synonyms allowed), or None."""
    observed = {("一般" if o in _MIDDLE else o) for o in options}
    for anchors in LIKERT_ANCHORS:
        if observed <= set(anchors):
            return anchors
    return None


def infer_codes(options: Sequence[str]) -> tuple[dict[str, int], bool]:
    """Codes for option texts seen in a by-text export (in order of first appearance).

    Known Likert anchors (非常不满意 ... 非常满意) get their scale positions 1..5 (all five points
    are returned, chosen or not); options that
    mostly carry numbers (age bands, income ranges) are numbered in numeric order, the others
    after them; anything else is numbered in order of first appearance. Returns the mapping and
    whether the options are ordinal (a Likert scale).
    """
    anchors = _likert_order(options)
    if anchors is not None:  # every point of the scale, so unchosen points are labelled too
        middle_words = [o for o in options if o in _MIDDLE] or ["一般"]
        codes: dict[str, int] = {}
        for position, anchor in enumerate(anchors, start=1):
            for word in middle_words if anchor == "一般" else [anchor]:
                codes[word] = position
        return codes, True
    numbers = [_first_number(o) for o in options]
    if sum(n is not None for n in numbers) >= max(2, len(options) - 2):

        def key(item: tuple[int, str]) -> tuple[int, float, int, int]:
            i, text = item
            number = numbers[i]
            if number is None:
                return (1, 0.0, 0, i)
            shift = 1 if _ABOVE.search(text) else (-1 if _BELOW.search(text) else 0)
            return (0, number, shift, i)

        ordered = [text for _, text in sorted(enumerate(options), key=key)]
    else:
        ordered = list(options)
    return {o: i + 1 for i, o in enumerate(ordered)}, False


def merge_orders(sequences: Iterable[Sequence[str]]) -> list[str]:
    """Options of a multiple-choice question in questionnaire order.

    问卷星 joins the chosen options of one respondent in the questionnaire's order, so every cell
    is a partial order; their union is sorted topologically (ties by first appearance).
    """
    first_seen: dict[str, int] = {}
    successors: dict[str, set[str]] = {}
    for sequence in sequences:
        for option in sequence:
            first_seen.setdefault(option, len(first_seen))
            successors.setdefault(option, set())
        for before, after in zip(sequence, sequence[1:], strict=False):
            if before != after:
                successors[before].add(after)
    indegree = dict.fromkeys(first_seen, 0)
    for after_set in successors.values():
        for after in after_set:
            indegree[after] += 1
    ordered: list[str] = []
    ready = sorted((o for o, d in indegree.items() if d == 0), key=first_seen.__getitem__)
    while ready:
        option = ready.pop(0)
        ordered.append(option)
        for after in successors[option]:
            indegree[after] -= 1
            if indegree[after] == 0:
                ready.append(after)
        ready.sort(key=first_seen.__getitem__)
    # a cycle (inconsistent orders) leaves options behind: append them in order of appearance
    ordered += sorted((o for o in first_seen if o not in ordered), key=first_seen.__getitem__)
    return ordered


# ----------------------------------------------------------------------------- metadata


def parse_duration(value: object) -> float:
    """Seconds from a 所用时间 cell such as "123秒", "2分5秒" or 123; NaN when blank or unreadable."""
    if _is_blank(value):
        return np.nan
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace(" ", "")
    if _NUMBER.match(text):
        return float(text)
    match = _DURATION.match(text)
    if not match or not any(match.group(k) for k in ("h", "m", "s")):
        return np.nan
    hours, minutes, seconds = (float(match.group(k) or 0) for k in ("h", "m", "s"))
    return hours * 3600 + minutes * 60 + seconds


def _as_datetime(values: pd.Series) -> pd.Series:
    def one(value: object) -> object:
        if _is_blank(value):
            return pd.NaT
        if isinstance(value, datetime | pd.Timestamp):
            return value
        return pd.to_datetime(str(value).strip(), errors="coerce")

    return pd.to_datetime(values.map(one), errors="coerce")


# ----------------------------------------------------------------------------- parsing one export


@dataclass
class _Header:
    original: str
    role: Literal["meta", "question", "sub", "other"]
    number: int | None = None
    text: str = ""  # title for a question, option / row text for a sub-item


def _classify(header: str) -> _Header:
    if header in META_COLUMNS:
        return _Header(header, "meta")
    for pattern in (_OPTION, _SUBITEM):
        match = pattern.match(header)
        if match:
            return _Header(header, "sub", int(match.group(1)), match.group(2).strip())
    match = _QUESTION.match(header)
    if match:
        return _Header(header, "question", int(match.group(1)), match.group(2).strip())
    return _Header(header, "other")


def _export_kind(frame: pd.DataFrame, headers: list[_Header]) -> Literal["text", "number"]:
    """By-number exports hold numbers in their question columns, by-text exports hold text."""
    numeric = texts = 0
    for position, header in enumerate(headers):
        if header.role not in ("question", "sub"):
            continue
        cells = read_cells(frame.iloc[:, position].tolist(), numeric_markers=False)
        values = _values(cells)
        if not values:
            continue
        if all(isinstance(v, float) for v in values):
            numeric += 1
        else:
            texts += 1
    return "number" if numeric > texts else "text"


class _Builder:
    """Collects output columns and codebook entries in questionnaire order."""

    def __init__(self, index: pd.Index, codebook: Codebook | None) -> None:
        self.index = index
        self.columns: dict[str, pd.Series] = {}
        self.codebook = Codebook()
        self.user = codebook or Codebook()
        self.options: dict[str, str] = {}
        self.inferred: list[str] = []
        self.uninterpreted: list[str] = []
        self.notes: list[str] = []

    def add(self, series: pd.Series, variable: Variable) -> None:
        name = variable.name
        if name in self.columns:  # a question number used twice: keep both, say so
            suffix = 2
            while f"{name}_dup{suffix}" in self.columns:
                suffix += 1
            self.notes.append(
                f"column name {name!r} occurs twice; the second is {name}_dup{suffix}"
            )
            name = f"{name}_dup{suffix}"
            variable.name = name
        self.columns[name] = series.rename(name)
        self.codebook.add(variable)

    def add_fill(self, base: str, cells: list[Cell], label: str, question: int | None) -> None:
        fills = _fill_series(cells, self.index)
        if fills is not None:
            self.add(
                fills,
                Variable(
                    f"{base}_text",
                    label=f"{label}（填写内容）",
                    measure="nominal",
                    question=question,
                ),
            )

    def frame(self) -> pd.DataFrame:
        if not self.columns:
            return pd.DataFrame(index=self.index)
        return pd.concat(list(self.columns.values()), axis=1)


def _code_text(
    builder: _Builder,
    name: str,
    texts: list[str],
    user_labels: dict[float | int | str, str],
) -> tuple[dict[str, int], bool, bool]:
    """Codes for option texts: from the user's codebook when it labels them all, else inferred.

    Returns (mapping, ordinal, inferred).
    """
    distinct = list(dict.fromkeys(texts))
    if user_labels:
        by_label = {str(label): code for code, label in user_labels.items()}
        if all(t in by_label for t in distinct):
            mapping = {
                t: int(c) if float(c).is_integer() else c
                for t, c in by_label.items()
                if t in distinct
            }
            return mapping, _likert_order(distinct) is not None, False  # type: ignore[return-value]
        unknown = [t for t in distinct if t not in by_label]
        builder.notes.append(
            f"{name}: options {unknown[:5]} are not among the codebook's value labels; codes inferred"
        )
    mapping, ordinal = infer_codes(distinct)
    return mapping, ordinal, not ordinal


def _coded_series(cells: list[Cell], mapping: dict[str, int], index: pd.Index) -> pd.Series:
    return pd.Series(
        [mapping[c.value] if c.status == "value" else np.nan for c in cells],  # type: ignore[index]
        index=index,
        dtype=float,
    )


def _numeric_series(cells: list[Cell], index: pd.Index) -> pd.Series:
    return pd.Series(
        [c.value if c.status == "value" else np.nan for c in cells], index=index, dtype=float
    )


def _numeric_measure(series: pd.Series) -> str:
    present = series.dropna()
    if present.empty:
        return "unknown"
    integral = bool((present == present.round()).all())
    return "nominal" if integral and present.nunique() <= 20 else "scale"


def _is_categorical_text(values: list[str], has_fill: bool) -> bool:
    """Single-choice text (repeating options) rather than an open answer (mostly distinct)."""
    distinct = len(set(values))
    if has_fill or _likert_order(values) is not None:
        return True
    return distinct <= 30 and distinct <= max(2, 0.5 * len(values))


def _keep_missing(series: pd.Series, cells: list[Cell], keep_codes: bool) -> pd.Series:
    if not keep_codes:
        return series
    codes = _missing_series(cells, series.index)
    return series.where(codes.isna(), codes)


def _missing_codebook(variable: Variable, cells: list[Cell], keep_codes: bool) -> None:
    if keep_codes and any(c.code is not None for c in cells):
        variable.missing_values = [SKIPPED, EMPTY]
        variable.value_labels = {**variable.value_labels, **MISSING_LABELS}


def _parse_question(
    builder: _Builder, header: _Header, raw: pd.Series, kind: str, keep_codes: bool
) -> None:
    number = header.number
    name = f"Q{number}"
    title = header.text
    cells = read_cells(raw.tolist(), numeric_markers=kind == "number")
    values = _values(cells)
    user = builder.user.get(name)
    if not values:
        series = pd.Series(np.nan, index=builder.index, dtype=float)
        variable = Variable(name, label=title, question=number)
        _missing_codebook(variable, cells, keep_codes)
        builder.add(_keep_missing(series, cells, keep_codes), variable)
        return
    if all(isinstance(v, float) for v in values):
        series = _numeric_series(cells, builder.index)
        variable = Variable(name, label=title, measure=_numeric_measure(series), question=number)  # type: ignore[arg-type]
        _missing_codebook(variable, cells, keep_codes)
        builder.add(_keep_missing(series, cells, keep_codes), variable)
        builder.add_fill(name, cells, title, number)
        return
    if not all(isinstance(v, str) for v in values):
        builder.uninterpreted.append(header.original)
        builder.add(_raw_text(raw), Variable(name, label=title, question=number))
        return
    texts: list[str] = values  # type: ignore[assignment]
    if any(MR_SEPARATOR in t for t in texts):
        _parse_mr_text(builder, header, cells, keep_codes)
        return
    if any(RANK_SEPARATOR in t for t in texts):
        builder.uninterpreted.append(header.original)
        builder.notes.append(f"{name}: a ranking question (options joined by '→') is kept as text")
        builder.add(_raw_text(raw), Variable(name, label=title, measure="nominal", question=number))
        return
    has_fill = any(c.fill for c in cells)
    if not _is_categorical_text(texts, has_fill):
        series = pd.Series(
            [c.value if c.status == "value" else np.nan for c in cells],
            index=builder.index,
            dtype="object",
        ).astype("str")
        builder.add(series, Variable(name, label=title, measure="nominal", question=number))
        return
    mapping, ordinal, inferred = _code_text(builder, name, texts, user.value_labels)
    series = _coded_series(cells, mapping, builder.index)
    labels = {code: text for text, code in sorted(mapping.items(), key=lambda item: item[1])}
    variable = Variable(
        name,
        label=title,
        value_labels=labels,
        measure="ordinal" if ordinal else "nominal",
        question=number,
    )
    _missing_codebook(variable, cells, keep_codes)
    builder.add(_keep_missing(series, cells, keep_codes), variable)
    if inferred:
        builder.inferred.append(name)
    builder.add_fill(name, cells, title, number)


def _raw_text(raw: pd.Series) -> pd.Series:
    return raw.map(lambda v: np.nan if _is_blank(v) else str(v)).astype("str")


def _split_options(text: str) -> list[tuple[str, str | None]]:
    """Options of one multiple-choice cell, each with the text written into its blank."""
    parts = []
    for piece in text.split(MR_SEPARATOR):
        piece = piece.strip()
        if not piece:
            continue
        fills = [f.strip() for f in _FILL.findall(piece)]
        option = _FILL.sub("", piece).strip()
        parts.append((option, "；".join(f for f in fills if f) or None))
    return parts


def _text_series(values: list[object], index: pd.Index) -> pd.Series:
    return pd.Series(
        [np.nan if _is_blank(v) else v for v in values], index=index, dtype="object"
    ).astype("str")


def _parse_mr_text(builder: _Builder, header: _Header, cells: list[Cell], keep_codes: bool) -> None:
    """A multiple-choice question exported as one cell of options joined by ┋."""
    number = header.number
    name = f"Q{number}"
    title = header.text
    rows = [_split_options(c.raw or str(c.value)) if c.status == "value" else None for c in cells]
    order = merge_orders([[option for option, _ in parts] for parts in rows if parts])
    columns: list[str] = []
    for k, option in enumerate(order, start=1):
        column = f"{name}_{k}"
        chosen = [
            np.nan if parts is None else float(any(o == option for o, _ in parts)) for parts in rows
        ]
        variable = Variable(
            column,
            label=f"{title}：{option}" if title else option,
            value_labels=dict(CHOSEN_LABELS),
            measure="nominal",
            question=number,
        )
        _missing_codebook(variable, cells, keep_codes)
        series = pd.Series(chosen, index=builder.index, dtype=float)
        builder.add(_keep_missing(series, cells, keep_codes), variable)
        builder.options[column] = option
        columns.append(column)
        fills = [
            next((f for o, f in parts if o == option and f), None) if parts else None
            for parts in rows
        ]
        if any(fills):
            builder.add(
                _text_series(fills, builder.index),
                Variable(
                    f"{column}_text",
                    label=f"{variable.label}（填写内容）",
                    measure="nominal",
                    question=number,
                ),
            )
    builder.codebook.mr_sets[name] = MultipleResponseSet(
        name=name, label=title, variables=columns, counted_value=1
    )


def _parse_group(
    builder: _Builder,
    number: int,
    headers: list[_Header],
    raws: list[pd.Series],
    kind: str,
    keep_codes: bool,
    title: str,
) -> None:
    """Consecutive `第N题(选项)` / `N(子题)` columns: a multiple-choice set or a matrix grid.

    Multiple-choice options hold 0/1; the rows of a matrix (Likert grid) hold codes 1..k (by
    number) or option text (by text).
    """
    name = f"Q{number}"
    cells_list = [read_cells(raw.tolist(), numeric_markers=kind == "number") for raw in raws]
    values = [v for cells in cells_list for v in _values(cells)]
    numeric = bool(values) and all(isinstance(v, float) for v in values)
    texts = bool(values) and all(isinstance(v, str) for v in values)

    def label_of(text: str) -> str:
        return f"{title}：{text}" if title else text

    if not values or numeric:
        distinct = set(values)
        chosen_flags = distinct <= {0.0, 1.0} and (
            0.0 in distinct or headers[0].original.startswith("第")
        )
        is_mr = bool(values) and chosen_flags
        columns = []
        for k, (header, cells) in enumerate(zip(headers, cells_list, strict=True), start=1):
            column = f"{name}_{k}"
            series = _numeric_series(cells, builder.index)
            if is_mr:
                variable = Variable(
                    column,
                    label=label_of(header.text),
                    value_labels=dict(CHOSEN_LABELS),
                    measure="nominal",
                    question=number,
                )
            else:
                present = series.dropna()
                ordinal = (
                    bool(len(present))
                    and bool((present == present.round()).all())
                    and present.nunique() <= 11
                )
                variable = Variable(
                    column,
                    label=label_of(header.text),
                    measure="ordinal" if ordinal else "unknown",
                    question=number,
                )
            _missing_codebook(variable, cells, keep_codes)
            builder.add(_keep_missing(series, cells, keep_codes), variable)
            builder.options[column] = header.text
            builder.add_fill(column, cells, variable.label, number)
            columns.append(column)
        if is_mr:
            builder.codebook.mr_sets[name] = MultipleResponseSet(
                name=name, label=title, variables=columns, counted_value=1
            )
        return
    joined = texts and any(MR_SEPARATOR in v or RANK_SEPARATOR in v for v in values)  # type: ignore[operator]
    if not texts or joined:
        for k, (header, raw) in enumerate(zip(headers, raws, strict=True), start=1):
            builder.uninterpreted.append(header.original)
            builder.add(
                _raw_text(raw),
                Variable(f"{name}_{k}", label=label_of(header.text), question=number),
            )
        return
    # a matrix exported by text: every row shares the same options
    first = f"{name}_1"
    mapping, ordinal, inferred = _code_text(
        builder, first, values, builder.user.get(first).value_labels
    )  # type: ignore[arg-type]
    labels = {code: text for text, code in sorted(mapping.items(), key=lambda item: item[1])}
    for k, (header, cells) in enumerate(zip(headers, cells_list, strict=True), start=1):
        column = f"{name}_{k}"
        variable = Variable(
            column,
            label=label_of(header.text),
            value_labels=dict(labels),
            measure="ordinal" if ordinal else "nominal",
            question=number,
        )
        _missing_codebook(variable, cells, keep_codes)
        series = _coded_series(cells, mapping, builder.index)
        builder.add(_keep_missing(series, cells, keep_codes), variable)
        builder.options[column] = header.text
        builder.add_fill(column, cells, variable.label, number)
        if inferred:
            builder.inferred.append(column)


def _parse_meta(builder: _Builder, header: _Header, raw: pd.Series) -> None:
    name, measure = META_COLUMNS[header.original]
    blank = raw.map(_is_blank)
    if name == "duration_seconds":
        series = raw.map(parse_duration).astype(float)
    elif name == "submitted_at":
        series = _as_datetime(raw)
    elif name in ("seq", "total_score"):
        series = pd.to_numeric(raw.map(lambda v: np.nan if _is_blank(v) else v), errors="coerce")
    else:
        series = _text_series(raw.tolist(), builder.index)
    unreadable = int((series.isna() & ~blank).sum())
    if unreadable:
        builder.uninterpreted.append(header.original)
        builder.notes.append(
            f"{header.original}: {unreadable} cells could not be read and are missing"
        )
    builder.add(
        series, Variable(name, label=header.original, measure=measure, personal=name == "ip")
    )  # type: ignore[arg-type]


def _parse_other(builder: _Builder, header: _Header, raw: pd.Series) -> None:
    builder.uninterpreted.append(header.original)
    cells = read_cells(raw.tolist(), numeric_markers=False)
    if _all_numeric(cells) and not any(c.fill for c in cells):
        series = _numeric_series(cells, builder.index)
    else:
        series = _raw_text(raw)
    builder.add(series, Variable(header.original, label=header.original))


def parse_export(
    frame: pd.DataFrame, *, codebook: Codebook | None = None, keep_codes: bool = False
) -> ParsedExport:
    """One 问卷星 export (either kind) turned into coded columns and a codebook."""
    headers = [_classify(clean_header(c)) for c in frame.columns]
    kind = _export_kind(frame, headers)
    builder = _Builder(frame.index, codebook)
    titles = {h.number: h.text for h in headers if h.role == "question" and h.number is not None}
    position = 0
    while position < len(headers):
        header = headers[position]
        raw = frame.iloc[:, position]
        if header.role == "meta":
            _parse_meta(builder, header, raw)
        elif header.role == "question":
            _parse_question(builder, header, raw, kind, keep_codes)
        elif header.role == "sub":
            end = position + 1
            while (
                end < len(headers)
                and headers[end].role == "sub"
                and headers[end].number == header.number
            ):
                end += 1
            group = headers[position:end]
            raws = [frame.iloc[:, i] for i in range(position, end)]
            number = int(header.number)  # type: ignore[arg-type]
            _parse_group(builder, number, group, raws, kind, keep_codes, titles.get(number, ""))
            position = end
            continue
        else:
            _parse_other(builder, header, raw)
        position += 1
    return ParsedExport(
        data=builder.frame(),
        codebook=builder.codebook,
        kind=kind,
        options=builder.options,
        titles=titles,
        inferred=builder.inferred,
        uninterpreted=builder.uninterpreted,
        notes=builder.notes,
    )


# ----------------------------------------------------------------------------- the two exports together


def _align(number: ParsedExport, text: ParsedExport) -> pd.DataFrame:
    """The by-text data in the row order of the by-number data (matched on 序号 when present)."""
    if len(number.data) != len(text.data):
        raise WenjuanxingError(
            f"the two exports hold different numbers of respondents ({len(number.data)} by number, "
            f"{len(text.data)} by text); they must be downloads of the same survey"
        )
    if "seq" in number.data and "seq" in text.data:
        left, right = number.data["seq"], text.data["seq"]
        if (
            left.isna().any()
            or right.isna().any()
            or left.duplicated().any()
            or right.duplicated().any()
        ):
            raise WenjuanxingError(
                "序号 is blank or repeated in an export; cannot match respondents"
            )
        if set(left) != set(right):
            raise WenjuanxingError("the two exports hold different respondents (序号 differ)")
        order = pd.Series(np.arange(len(right)), index=right.to_numpy())
        aligned = text.data.iloc[order.loc[left.to_numpy()].to_numpy()]
        return aligned.set_axis(number.data.index)
    return text.data.set_axis(number.data.index)


def _labels_from_text(
    codes: pd.Series,
    text_codes: pd.Series,
    text_labels: dict[float | int | str, str],
    column: str,
    mismatches: list[tuple[str, str]],
) -> dict[float | int | str, str]:
    """Value labels for by-number codes, read off the by-text answers of the same respondents."""
    both = pd.DataFrame({"code": codes, "text": text_codes.map(text_labels)}).dropna()
    labels: dict[float | int | str, str] = {}
    for code, group in both.groupby("code", sort=True):
        names = list(dict.fromkeys(group["text"]))
        key = int(code) if float(code).is_integer() else code
        labels[key] = names[0] if len(names) == 1 else " / ".join(map(str, names))
        if len(names) > 1:
            mismatches.append((column, f"code {key} is {names} in the by-text export"))
    repeated = both.groupby("text")["code"].nunique()
    for text_value, count in repeated[repeated > 1].items():
        mismatches.append(
            (column, f"option {text_value!r} has {count} different codes in the by-number export")
        )
    return labels


def _code_text_of(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() else str(number)


def merge_exports(
    number: ParsedExport, text: ParsedExport
) -> tuple[pd.DataFrame, Codebook, list[tuple[str, str]]]:
    """Codes from the by-number export, option text and fill-in text from the by-text export.

    Returns the data, the codebook and the (column, remark) pairs where the exports disagree.
    """
    mismatches: list[tuple[str, str]] = []
    aligned = _align(number, text)
    codebook = number.codebook
    pieces: dict[str, pd.Series] = {}
    grid_labels: dict[int | None, dict[float | int | str, str]] = {}
    grid_columns: dict[int | None, list[str]] = {}
    text_option_column = {
        (text.codebook.get(c).question, option): c for c, option in text.options.items()
    }
    for column in number.data.columns:
        pieces[column] = number.data[column]
        variable = codebook[column]
        question = variable.question
        title = text.titles.get(question, "") if question is not None else ""
        option = number.options.get(column)
        if option is not None:
            partner = text_option_column.get((question, option))
            if title:
                variable.label = f"{title}：{option}"
        else:
            partner = column if column in text.data else None
            if title and column == f"Q{question}":
                variable.label = title
        if partner is None:
            continue
        text_variable = text.codebook[partner]
        if variable.value_labels == CHOSEN_LABELS:
            ours, theirs = number.data[column], aligned[partner]
            agree = ours.eq(theirs) | (ours.isna() & theirs.isna())
            if not agree.all():
                mismatches.append((column, f"({option}) {int((~agree).sum())} respondents differ"))
        elif pd.api.types.is_numeric_dtype(aligned[partner]) and (
            text_variable.value_labels or not number.data[column].equals(aligned[partner])
        ):
            labels = {
                k: v for k, v in text_variable.value_labels.items() if k not in MISSING_LABELS
            }
            if not labels:  # options that are numbers themselves, e.g. a 0-10 rating by text
                labels = {v: _code_text_of(v) for v in aligned[partner].dropna().unique()}
            found = _labels_from_text(
                number.data[column], aligned[partner], labels, column, mismatches
            )
            same_codes = number.data[column].dropna().eq(aligned[partner].dropna()).all()
            if text_variable.measure == "ordinal" and same_codes and aligned[partner].notna().any():
                found = (
                    labels  # Likert anchors that match the platform's codes: all points labelled
                )
            kept = {k: v for k, v in variable.value_labels.items() if k in MISSING_LABELS}
            variable.value_labels = {**found, **kept}
            if option is not None:  # the rows of a matrix share their options
                grid_labels.setdefault(question, {}).update(found)
                grid_columns.setdefault(question, []).append(column)
            if text_variable.measure == "ordinal":
                variable.measure = "ordinal"
        fill = f"{partner}_text"
        if fill in aligned and f"{column}_text" not in number.data:
            pieces[f"{column}_text"] = aligned[fill].rename(f"{column}_text")
            codebook.add(
                Variable(
                    f"{column}_text",
                    label=f"{variable.label}（填写内容）",
                    measure="nominal",
                    question=question,
                )
            )
    for question, columns in grid_columns.items():
        shared = dict(sorted(grid_labels[question].items(), key=lambda item: float(item[0])))
        for column in columns:
            variable = codebook[column]
            variable.value_labels = {
                **shared,
                **{k: v for k, v in variable.value_labels.items() if k in MISSING_LABELS},
            }
    for name, mr in codebook.mr_sets.items():
        question = int(name[1:]) if name[1:].isdigit() else None
        if question in text.titles:
            mr.label = text.titles[question]
        partner_set = text.codebook.mr_sets.get(name)
        if partner_set is not None:
            ours = {number.options[c] for c in mr.variables}
            extra = [text.options[c] for c in partner_set.variables if text.options[c] not in ours]
            if extra:
                mismatches.append(
                    (
                        name,
                        f"options {extra} of the by-text export are not columns of the by-number export",
                    )
                )
    for column in text.data.columns:  # columns only the by-text export has (e.g. unknown headers)
        if (
            column in pieces
            or column in number.data
            or column in text.options
            or column.endswith("_text")
        ):
            continue
        pieces[column] = aligned[column]
        codebook.add(text.codebook[column])
    return pd.concat(list(pieces.values()), axis=1), codebook, mismatches


# ----------------------------------------------------------------------------- entry point


def _warn(category: type[SurveyAnalysisWarning], message: str, columns: list[str]) -> None:
    warning = category(message)
    warning.columns = columns  # type: ignore[attr-defined]
    warnings.warn(warning, stacklevel=3)


def _not_personal(headers: list[str], data: pd.DataFrame, codebook: Codebook) -> list[str]:
    """Uninterpreted headers except those of personal-data columns: `survey.read` drops or
    hashes them and says so, so they are not "kept as they were"."""
    personal = {f.column for f in find_personal_columns(data, codebook)}

    def column_of(header: str) -> str:
        parsed = _classify(clean_header(header))
        return f"Q{parsed.number}" if parsed.role == "question" else clean_header(header)

    return [h for h in headers if column_of(h) not in personal]


def parse_wenjuanxing(
    frame: pd.DataFrame,
    *,
    source: str = "",
    codebook: Codebook | None = None,
    pair: pd.DataFrame | None = None,
    pair_source: str = "",
    keep_codes: bool = False,
) -> tuple[pd.DataFrame, Codebook, Literal["text", "number"]]:
    """Data and codebook from a 问卷星 export, optionally merged with the other export of the
    same survey (`pair`): then codes come from the by-number export and labels from the by-text one.

    Warns `UninterpretedColumnsWarning` (listing the columns kept as they were),
    `InferredCodesWarning` (by-text export read alone) and `ExportMismatchWarning` (a pair that
    disagrees). Returns (data, codebook, kind of `frame`).
    """
    first = parse_export(frame, codebook=codebook, keep_codes=keep_codes)
    notes = list(first.notes)
    uninterpreted = list(first.uninterpreted)
    if pair is None:
        data, result_codebook = first.data, first.codebook
        if first.inferred:
            _warn(
                InferredCodesWarning,
                f"{source}: a by-text (按选项文本) 问卷星 export does not record the questionnaire's option "
                f"numbers; codes of {first.inferred} were assigned from the option text (Likert anchors "
                "in scale order, numeric bands in numeric order, other options in order of first "
                "appearance). Pass pair= the by-number (按选项序号) export of the same survey to use "
                "the platform's own codes.",
                list(first.inferred),
            )
    else:
        second = parse_export(pair, codebook=codebook, keep_codes=keep_codes)
        if first.kind == second.kind:
            raise WenjuanxingError(
                f"{source} and {pair_source} are both exports by option {first.kind}; pair= needs the "
                "other download of the same survey (按选项文本 with 按选项序号)"
            )
        number, text = (first, second) if first.kind == "number" else (second, first)
        data, result_codebook, mismatches = merge_exports(number, text)
        uninterpreted += [c for c in second.uninterpreted if c not in uninterpreted]
        notes += second.notes
        if mismatches:
            _warn(
                ExportMismatchWarning,
                f"the by-number and by-text exports ({source}, {pair_source}) disagree: "
                + "; ".join(f"{column}: {remark}" for column, remark in mismatches),
                list(dict.fromkeys(column for column, _ in mismatches)),
            )
    uninterpreted = _not_personal(uninterpreted, data, result_codebook)
    if uninterpreted or notes:
        message = f"{source}: "
        if uninterpreted:
            message += f"could not interpret columns {uninterpreted}; they are kept as they were"
        if notes:
            message += ("; " if uninterpreted else "") + "; ".join(notes)
        _warn(UninterpretedColumnsWarning, message, uninterpreted)
    return data, result_codebook, first.kind
