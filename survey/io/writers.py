"""Writing questionnaire data back out: SPSS .sav/.zsav (variable labels, value labels, missing
values, measurement levels; Chinese intact), CSV (UTF-8 with BOM so Excel shows Chinese; GBK on
request) and Excel .xlsx (a data sheet plus a codebook sheet).

Inputs are never overwritten: `write` refuses the file the data was read from, and any existing
file unless `overwrite=True`. A failed write leaves nothing behind. Personal-data columns that are
not hashed are dropped before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from survey.codebook import Codebook, SurveyData, Variable
from survey.errors import SurveyAnalysisError
from survey.io.readers import MetadataWarning, PersonalDataWarning, is_hashed, personal_columns

FORMATS = {
    ".sav": "SPSS data",
    ".zsav": "SPSS compressed data",
    ".csv": "CSV",
    ".xlsx": "Excel workbook",
}
SPSS_RESERVED = {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}
_SPSS_NAME = re.compile(r"^[^\W\d_.$#@][\w.$#@]*$|^[@#$][\w.$#@]*$")


class SurveyWriteError(SurveyAnalysisError):
    """Data cannot be written to this path (existing file, input file, unsupported type, bad data)."""


# ----------------------------------------------------------------------------- file safety


def check_target(
    target: Path, *, overwrite: bool, source: str = "", error: type[Exception] = SurveyWriteError
) -> None:
    """Raise `error` if `target` is the data's own source file, or exists and overwrite is False."""
    if source:
        try:
            same = target.resolve() == Path(source).resolve()
        except OSError:
            same = False
        if same:
            raise error(
                f"{target}: this is the file the data was read from; inputs are never overwritten"
            )
    if target.exists() and target.is_dir():
        raise error(f"{target}: is a directory")
    if target.exists() and not overwrite:
        raise error(f"{target}: the file exists; pass overwrite=True to replace it")
    if not target.parent.is_dir():
        raise error(f"{target}: the folder {target.parent} does not exist")


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """A temporary path beside `target` that replaces it only when the block succeeds."""
    temporary = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.tmp{target.suffix}")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


# ----------------------------------------------------------------------------- public entry point


def write(
    data: SurveyData | pd.DataFrame,
    path: str | Path,
    *,
    codebook: Codebook | None = None,
    overwrite: bool = False,
    encoding: str = "utf-8-sig",
    values: Literal["codes", "labels"] = "codes",
) -> Path:
    """Write survey data to .sav, .zsav, .csv or .xlsx and return the path written.

    Args:
        data: a SurveyData, or a DataFrame (then `codebook` describes it).
        path: the file to write; its extension picks the format.
        codebook: labels, value labels, missing values and measurement levels to store (default:
            the SurveyData's own codebook).
        overwrite: replace an existing file (never the file the data was read from).
        encoding: CSV encoding: "utf-8-sig" (UTF-8 with BOM, which Excel opens with Chinese
            intact), "utf-8", "gbk" or "gb18030".
        values: for CSV and Excel, write the codes ("codes") or their value labels ("labels").

    Multiple-response sets cannot be stored by the .sav writer (pyreadstat); their SPSS
    syntax (MRSETS) is put in the file's documents instead. Scales are not part of .sav files;
    keep them in a codebook TOML (`survey.write_codebook`).

    Raises:
        SurveyWriteError: unsupported extension, existing file, the input file, names SPSS
            cannot take, or text the chosen encoding cannot hold. Nothing is written then.
    """
    frame, book = _inputs(data, codebook)
    target = Path(path).expanduser()
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise SurveyWriteError(
            f"{target}: unsupported file type {suffix or '(no extension)'!r}; allowed: {', '.join(FORMATS)}"
        )
    if values not in ("codes", "labels"):
        raise SurveyWriteError(f"values must be 'codes' or 'labels', got {values!r}")
    check_target(target, overwrite=overwrite, source=book.source)
    frame = _without_personal(frame, book, target)
    if suffix in (".sav", ".zsav"):
        _write_sav(frame, book, target, compress=suffix == ".zsav")
    elif suffix == ".csv":
        _write_csv(frame, book, target, encoding, values)
    else:
        _write_xlsx(frame, book, target, values)
    return target


def _inputs(
    data: SurveyData | pd.DataFrame, codebook: Codebook | None
) -> tuple[pd.DataFrame, Codebook]:
    if isinstance(data, SurveyData):
        frame, book = data.data, codebook or data.codebook
    elif isinstance(data, pd.DataFrame):
        frame, book = data, codebook or Codebook()
    else:
        raise SurveyWriteError(
            f"write() needs a SurveyData or a DataFrame, got {type(data).__name__}"
        )
    if codebook is not None and not isinstance(codebook, Codebook):
        raise SurveyWriteError(f"codebook must be a Codebook, got {type(codebook).__name__}")
    repeated = frame.columns[frame.columns.duplicated()].tolist()
    if repeated:
        raise SurveyWriteError(f"column names {repeated} occur more than once")
    return frame, book


def _without_personal(frame: pd.DataFrame, book: Codebook, target: Path) -> pd.DataFrame:
    columns = [c for c in personal_columns(frame, book) if not is_hashed(frame[c])]
    if not columns:
        return frame
    warnings.warn(
        PersonalDataWarning(f"{target}: columns holding personal data were not written: {columns}"),
        stacklevel=3,
    )
    return frame.drop(columns=columns)


# ----------------------------------------------------------------------------- SPSS


def _spss_name_problems(names: list[str]) -> list[str]:
    problems = []
    for name in names:
        if not isinstance(name, str) or not name:
            problems.append(f"{name!r} (not a text name)")
        elif len(name.encode("utf-8")) > 64:
            problems.append(f"{name!r} (longer than 64 bytes)")
        elif name.upper() in SPSS_RESERVED:
            problems.append(f"{name!r} (an SPSS reserved word)")
        elif not _SPSS_NAME.match(name) or name.endswith("."):
            problems.append(
                f"{name!r} (SPSS names start with a letter and hold letters, digits, _ . $ # @)"
            )
    return problems


def _spss_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Column types pyreadstat can write: numbers as float, text as object, dates as datetime."""
    out = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            out[name] = column.astype(float)
        elif pd.api.types.is_numeric_dtype(column):
            out[name] = column.astype(float)
        elif pd.api.types.is_datetime64_any_dtype(column):
            out[name] = column
        elif isinstance(column.dtype, pd.CategoricalDtype):
            out[name] = column.astype(object).where(column.notna(), None)
        else:
            out[name] = column.astype(object).where(column.notna(), None)
    return pd.DataFrame(out, index=frame.index)


def _missing_spec(variable: Variable, numeric: bool, target: Path) -> list[Any] | None:
    discrete = list(variable.missing_values)
    span = variable.missing_range
    if not discrete and span is None:
        return None
    if numeric:
        bad = [v for v in discrete if isinstance(v, str)]
        if bad:
            raise SurveyWriteError(
                f"{target}: numeric variable {variable.name!r} has text missing codes {bad}"
            )
        if span is not None and len(discrete) > 1:
            raise SurveyWriteError(
                f"{target}: variable {variable.name!r}: SPSS allows one missing range plus one discrete "
                f"missing value, got the range {span} and {discrete}"
            )
        if len(discrete) > 3:
            raise SurveyWriteError(
                f"{target}: variable {variable.name!r}: SPSS allows at most three discrete missing values, got {discrete}"
            )
        spec: list[Any] = [float(v) for v in discrete]
        if span is not None:
            spec.append({"lo": float(span[0]), "hi": float(span[1])})
        return spec
    if span is not None:
        raise SurveyWriteError(
            f"{target}: text variable {variable.name!r} cannot have a missing range in SPSS"
        )
    if len(discrete) > 3:
        raise SurveyWriteError(
            f"{target}: variable {variable.name!r}: SPSS allows at most three missing values, got {discrete}"
        )
    return [str(v) for v in discrete]


def _value_labels(variable: Variable, numeric: bool, target: Path) -> dict[Any, str] | None:
    if not variable.value_labels:
        return None
    labels: dict[Any, str] = {}
    for code, label in variable.value_labels.items():
        if numeric:
            try:
                labels[float(code)] = str(label)
            except (TypeError, ValueError):
                raise SurveyWriteError(
                    f"{target}: numeric variable {variable.name!r} has a text value label code {code!r}"
                ) from None
        else:
            labels[str(code)] = str(label)
    return labels


def mrsets_syntax(book: Codebook, columns: list[str]) -> list[str]:
    """SPSS MRSETS syntax defining the codebook's multiple-dichotomy sets (those fully written)."""
    lines = []
    for name, mr in book.mr_sets.items():
        if not mr.variables or not set(mr.variables) <= set(columns):
            continue
        value = (
            mr.counted_value if not isinstance(mr.counted_value, str) else f"'{mr.counted_value}'"
        )
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        label = mr.label.replace("'", "''")
        set_name = re.sub(r"[^\w]", "_", name)
        lines.append(
            f"MRSETS /MDGROUP NAME=${set_name} LABEL='{label}' "
            f"CATEGORYLABELS=VARLABELS VARIABLES={' '.join(mr.variables)} VALUE={value}."
        )
    return lines


def _document_lines(statements: list[str], width: int = 80) -> list[str]:
    """Statements cut into lines of at most `width` bytes (SPSS documents are 80-byte lines)."""
    lines: list[str] = []
    for statement in statements:
        line = ""
        for word in statement.split(" "):
            candidate = f"{line} {word}" if line else word
            if len(candidate.encode("utf-8")) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for char in word:  # a word longer than a line (e.g. a Chinese label)
                if len((line + char).encode("utf-8")) > width:
                    lines.append(line)
                    line = ""
                line += char
        if line:
            lines.append(line)
    return lines


def _write_sav(frame: pd.DataFrame, book: Codebook, target: Path, *, compress: bool) -> None:
    import pyreadstat

    names = [str(c) for c in frame.columns]
    problems = _spss_name_problems(names)
    if problems:
        raise SurveyWriteError(f"{target}: names SPSS cannot take: {'; '.join(problems)}")
    out = _spss_frame(frame.set_axis(names, axis=1))
    labels, value_labels, missing, measures = {}, {}, {}, {}
    for name in names:
        variable = book.get(name)
        numeric = pd.api.types.is_numeric_dtype(out[name]) or pd.api.types.is_datetime64_any_dtype(
            out[name]
        )
        labels[name] = variable.label or None
        found = _value_labels(variable, numeric, target)
        if found:
            value_labels[name] = found
        spec = _missing_spec(variable, numeric, target)
        if spec:
            missing[name] = spec
        if variable.measure in ("nominal", "ordinal", "scale"):
            measures[name] = variable.measure
    notes = mrsets_syntax(book, names)
    if notes:
        warnings.warn(
            MetadataWarning(
                f"{target}: the .sav writer cannot store multiple-response sets; their MRSETS syntax "
                f"is in the file's documents (Utilities > Data File Comments): {list(book.mr_sets)}"
            ),
            stacklevel=3,
        )
    with atomic_output(target) as temporary:
        try:
            pyreadstat.write_sav(
                out,
                str(temporary),
                file_label=book.title or "",
                column_labels=labels,
                compress=compress,
                note=_document_lines(notes) or None,
                variable_value_labels=value_labels or None,
                missing_ranges=missing or None,
                variable_measure=measures or None,
            )
        except Exception as error:  # pyreadstat.ReadstatError / PyreadstatError
            raise SurveyWriteError(f"{target}: cannot write the SPSS file ({error})") from None


# ----------------------------------------------------------------------------- CSV and Excel


def _labelled(frame: pd.DataFrame, book: Codebook) -> pd.DataFrame:
    out = frame.copy()
    for name in frame.columns:
        variable = book.get(str(name))
        if variable.value_labels:
            out[name] = (
                frame[name]
                .map(lambda v, n=str(name): v if pd.isna(v) else book.value_label(n, v))
                .astype(object)
            )
    return out


def _write_csv(
    frame: pd.DataFrame, book: Codebook, target: Path, encoding: str, values: str
) -> None:
    allowed = {"utf-8-sig", "utf-8", "gbk", "gb18030"}
    if encoding.lower().replace("_", "-") not in allowed:
        raise SurveyWriteError(
            f"{target}: CSV encoding must be one of {sorted(allowed)}, got {encoding!r}"
        )
    out = _labelled(frame, book) if values == "labels" else frame
    text = out.to_csv(index=False)
    try:
        payload = text.encode(encoding)
    except UnicodeEncodeError as error:
        bad = error.object[error.start : error.end]
        column = next(
            (
                str(c)
                for c in out.columns
                if bad in str(c) or out[c].astype(str).str.contains(bad, regex=False).any()
            ),
            "?",
        )
        raise SurveyWriteError(
            f"{target}: {encoding!r} cannot hold the character {bad!r} (column {column!r}); use "
            "encoding='utf-8-sig' or 'gb18030'"
        ) from None
    with atomic_output(target) as temporary:
        temporary.write_bytes(payload)


def codebook_frame(book: Codebook, columns: list[str]) -> pd.DataFrame:
    """One row per column: label, measurement level, value labels and missing values as text."""
    rows = []
    for name in columns:
        variable = book.get(str(name))
        rows.append(
            {
                "variable": str(name),
                "label": variable.label,
                "measure": variable.measure,
                "value_labels": "; ".join(
                    f"{_code(k)} = {v}" for k, v in variable.value_labels.items()
                ),
                "missing_values": ", ".join(map(_code, variable.missing_values))
                + (
                    f" {variable.missing_range[0]:g} thru {variable.missing_range[1]:g}"
                    if variable.missing_range
                    else ""
                ),
            }
        )
    return pd.DataFrame(
        rows, columns=["variable", "label", "measure", "value_labels", "missing_values"]
    )


def _code(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _write_xlsx(frame: pd.DataFrame, book: Codebook, target: Path, values: str) -> None:
    out = _labelled(frame, book) if values == "labels" else frame
    out = out.copy()
    for name in out.columns:  # Excel holds no time zones
        if isinstance(out[name].dtype, pd.DatetimeTZDtype):
            out[name] = out[name].dt.tz_localize(None)
    with atomic_output(target) as temporary:
        try:
            with pd.ExcelWriter(temporary, engine="openpyxl") as writer:
                out.to_excel(writer, sheet_name="data", index=False)
                codebook_frame(book, list(map(str, out.columns))).to_excel(
                    writer, sheet_name="codebook", index=False
                )
        except (ValueError, TypeError) as error:
            raise SurveyWriteError(f"{target}: cannot write the Excel file ({error})") from None
