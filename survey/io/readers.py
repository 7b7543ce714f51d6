"""Reading questionnaire data: SPSS (.sav/.zsav/.por), Stata (.dta), SAS (.sas7bdat/.xpt), CSV,
Excel and the two exports of 问卷星 (Wenjuanxing), into a `SurveyData` whose codebook keeps the
value labels, variable labels, user-defined missing values, measurement levels and
multiple-response sets. Personal data (IP addresses, phone numbers, names) never reaches `.data`.
"""

from __future__ import annotations

import codecs
import csv
import io
import ipaddress
import re
import struct
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from survey.codebook import (
    MEASURE_LEVELS,
    Codebook,
    CodebookError,
    MultipleResponseSet,
    SurveyData,
    Variable,
)
from survey.errors import SurveyAnalysisError, SurveyAnalysisWarning
from survey.io.wenjuanxing import WenjuanxingError, is_wenjuanxing, parse_wenjuanxing
from survey.privacy import (
    HASH_SUFFIX,  # noqa: F401 - re-exported for callers of survey.io.readers
    describe_report,
    find_personal_columns,
    hash_values,  # noqa: F401 - re-exported
    is_hashed,
    protect,
)

FORMATS: dict[str, str] = {
    ".sav": "SPSS data",
    ".zsav": "SPSS compressed data",
    ".por": "SPSS portable",
    ".dta": "Stata",
    ".sas7bdat": "SAS data set",
    ".xpt": "SAS transport (XPORT)",
    ".csv": "CSV (UTF-8, UTF-8 with BOM, GBK, GB18030)",
    ".xlsx": "Excel workbook",
    ".xlsm": "Excel workbook with macros",
    ".xls": "Excel 97-2003 workbook (also 问卷星 exports)",
}
STAT_FORMATS = {".sav", ".zsav", ".por", ".dta", ".sas7bdat", ".xpt"}
TABLE_FORMATS = {".csv", ".xlsx", ".xlsm", ".xls"}
# Windows code pages that SPSS records in its integer info record, as iconv names
CODE_PAGES = {
    936: "GBK",
    54936: "GB18030",
    950: "BIG5",
    932: "SHIFT_JIS",
    949: "CP949",
    65001: "UTF-8",
    1252: "WINDOWS-1252",
}
CHINESE_FALLBACKS = ("GB18030", "GBK", "BIG5")


class SurveyReadError(SurveyAnalysisError):
    """A data file cannot be read: missing, unsupported, corrupt, or in another encoding."""


class EncodingFallbackWarning(SurveyAnalysisWarning):
    """The file was not in the encoding it declares (or none was declared) and was read in another."""


class PersonalDataWarning(SurveyAnalysisWarning):
    """Columns holding personal data (IP address, phone, ID number, name) were dropped or hashed."""


class HeaderWarning(SurveyAnalysisWarning):
    """An Excel header of more than one row (merged cells) was flattened to one name per column."""


class CodebookMismatchWarning(SurveyAnalysisWarning):
    """A codebook describes variables that the data does not have."""


class MetadataWarning(SurveyAnalysisWarning):
    """Metadata in the file that the codebook cannot hold (e.g. SPSS multiple-category sets)."""


# ----------------------------------------------------------------------------- public entry point


def read(
    path: str | Path,
    *,
    encoding: str | None = None,
    sheet: int | str = 0,
    user_missing: Literal["nan", "keep"] = "nan",
    personal: Literal["drop", "hash"] = "drop",
    salt: str | bytes | None = None,
    codebook: Codebook | str | Path | None = None,
    pair: str | Path | None = None,
    wenjuanxing: bool | None = None,
) -> SurveyData:
    """Read a questionnaire data file into a `SurveyData` (data plus codebook).

    Args:
        path: .sav, .zsav, .por, .dta, .sas7bdat, .xpt, .csv, .xlsx, .xlsm or .xls.
        encoding: text encoding of a CSV file (detected among UTF-8, UTF-8 with BOM, GBK and
            GB18030 when omitted) or of an SPSS/Stata/SAS file (taken from the file, falling back
            to GB18030/GBK when the declared one fails, as with Chinese SPSS files).
        sheet: Excel sheet, by position or name.
        user_missing: "nan" turns user-defined missing codes (SPSS missing values, 问卷星
            "(跳过)"/"(空)" = -3/-2) into NaN; "keep" leaves the codes in the data. Either way
            the codes are kept in the codebook.
        personal: columns holding personal data (问卷星's 来自IP, columns the codebook marks
            personal, questions asking for a name, phone, ID number, address, e-mail, WeChat/QQ,
            columns mostly of such values; see `survey.privacy`) are dropped ("drop") or replaced
            by a salted SHA-256 digest ("hash"). Phone/ID numbers, e-mail and IP addresses inside
            free text are replaced by tokens such as [电话已删除] either way. What was removed is
            counted in `SurveyData.privacy` (never a value).
        salt: your secret salt for personal="hash" (required then; never stored). Keep it
            secret: an IPv4 digest is easily brute-forced by anyone who knows the salt.
        codebook: a Codebook or a codebook TOML file: labels, value labels, missing codes,
            personal flags, scales and multiple-response sets laid over the file's own metadata.
        pair: for a 问卷星 export, the other export of the same survey (按选项序号 with
            按选项文本): codes come from the by-number export, option labels from the by-text one.
        wenjuanxing: treat a CSV/Excel file as a 问卷星 export (True), as a plain table
            (False), or detect it from the metadata columns 序号, 提交答卷时间, 所用时间, 来源,
            来源详情, 来自IP (None).

    Returns:
        SurveyData; `codebook.source` is the file's absolute path.

    Raises:
        SurveyReadError: a missing, unsupported, corrupt or wrongly encoded file, or bad options.
    """
    file = _check_file(path)
    suffix = file.suffix.lower()
    _check_options(file, suffix, encoding, user_missing, personal, salt, pair, wenjuanxing)
    user_codebook = _user_codebook(codebook, file)
    keep = user_missing == "keep"
    if suffix in STAT_FORMATS:
        if pair is not None or wenjuanxing:
            raise SurveyReadError(
                f"{file}: pair= and wenjuanxing= apply to 问卷星 exports (.xls/.xlsx/.csv) only"
            )
        data, file_codebook = _read_stat(file, suffix, encoding)
        dates = data.attrs.pop("date_formatted", [])
        _need_respondents(file, data)
    else:
        dates = []
        table = _read_table(file, suffix, encoding, sheet)
        _need_respondents(file, table)
        detected = is_wenjuanxing(table.columns) if wenjuanxing is None else wenjuanxing
        if pair is not None and not detected:
            raise SurveyReadError(
                f"{file}: pair= is for 问卷星 exports, and this file lacks their metadata columns "
                "(序号, 提交答卷时间, 所用时间, 来源, 来源详情, 来自IP)"
            )
        if detected:
            data, file_codebook = _read_wenjuanxing(
                file, table, user_codebook, pair, encoding, sheet, keep
            )
        else:
            data, file_codebook = table, Codebook()
    survey_data = SurveyData(data, file_codebook)
    if user_codebook is not None:
        _overlay(survey_data.codebook, user_codebook, data, file)
    if not keep:
        survey_data.data = _user_missing_to_nan(survey_data.data, survey_data.codebook)
    _protect_personal(survey_data, personal, salt, where=str(file), dates=dates)
    survey_data.codebook.source = str(file.resolve())
    try:
        survey_data.codebook.validate_against(survey_data.data, where=str(file))
    except CodebookError as error:
        raise SurveyReadError(str(error)) from None
    return survey_data


# ----------------------------------------------------------------------------- checks


def _allowed() -> str:
    return ", ".join(FORMATS)


def _check_file(path: str | Path) -> Path:
    if not isinstance(path, str | Path):
        raise SurveyReadError(f"read() needs a file path, got {type(path).__name__}")
    file = Path(path).expanduser()
    suffix = file.suffix.lower()
    if suffix not in FORMATS:
        raise SurveyReadError(
            f"{file}: unsupported file type {suffix or '(no extension)'!r}; allowed: {_allowed()}"
        )
    if not file.exists():
        raise SurveyReadError(f"{file}: no such file (allowed types: {_allowed()})")
    if not file.is_file():
        raise SurveyReadError(f"{file}: not a file")
    return file


def _check_options(
    file: Path,
    suffix: str,
    encoding: str | None,
    user_missing: str,
    personal: str,
    salt: object,
    pair: object,
    wenjuanxing: object,
) -> None:
    if user_missing not in ("nan", "keep"):
        raise SurveyReadError(f"{file}: user_missing must be 'nan' or 'keep', got {user_missing!r}")
    if personal not in ("drop", "hash"):
        raise SurveyReadError(f"{file}: personal must be 'drop' or 'hash', got {personal!r}")
    if salt is not None and not isinstance(salt, str | bytes):
        raise SurveyReadError(f"{file}: salt must be a str or bytes, got {type(salt).__name__}")
    if personal == "hash" and not salt:
        raise SurveyReadError(
            f"{file}: personal='hash' needs salt=... (a secret of your own, never stored), so "
            "that the digests cannot be reversed by hashing every possible phone number"
        )
    if wenjuanxing not in (None, True, False):
        raise SurveyReadError(
            f"{file}: wenjuanxing must be True, False or None, got {wenjuanxing!r}"
        )
    if encoding is not None:
        if suffix in (".xlsx", ".xlsm", ".xls", ".por"):
            raise SurveyReadError(
                f"{file}: encoding= does not apply to {FORMATS[suffix]} files; it is for .csv, "
                ".sav, .zsav, .dta, .sas7bdat and .xpt"
            )
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            raise SurveyReadError(
                f"{file}: unknown encoding {encoding!r}; use e.g. 'utf-8', 'utf-8-sig', 'gbk' or 'gb18030'"
            ) from None


def _need_respondents(file: Path, table: pd.DataFrame) -> None:
    if len(table) == 0:
        raise SurveyReadError(
            f"{file}: no respondents: the header names {table.shape[1]} columns but there are no "
            "data rows"
        )


def _user_codebook(codebook: Codebook | str | Path | None, file: Path) -> Codebook | None:
    if codebook is None or isinstance(codebook, Codebook):
        return codebook
    if isinstance(codebook, str | Path):
        from survey.io.codebook_toml import read_codebook

        return read_codebook(codebook)
    raise SurveyReadError(
        f"{file}: codebook must be a Codebook or a TOML file path, got {type(codebook).__name__}"
    )


# ----------------------------------------------------------------------------- SPSS / Stata / SAS


def _is_decoding_error(error: Exception) -> bool:
    text = str(error).lower()
    return isinstance(error, UnicodeError) or any(
        word in text
        for word in ("encoding", "invalid byte", "convert string", "character set", "decode")
    )


def sav_declared_encoding(path: Path) -> tuple[str | None, str | None]:
    """(encoding record, code page of the integer info record) of an SPSS .sav/.zsav file.

    Walks the dictionary records (types 2, 3, 4, 6, 7, 999) of the SPSS system-file format; returns
    the text of extension record 20 and the iconv name of the character code in record 3.
    """
    record_20: str | None = None
    code_page: str | None = None
    try:
        with open(path, "rb") as handle:
            if handle.read(4) not in (b"$FL2", b"$FL3"):
                return None, None
            handle.seek(64)
            layout = handle.read(4)
            order = "<" if struct.unpack("<i", layout)[0] in (2, 3) else ">"
            handle.seek(176)

            def ints(count: int) -> tuple[int, ...]:
                raw = handle.read(4 * count)
                if len(raw) < 4 * count:
                    raise EOFError
                return struct.unpack(f"{order}{count}i", raw)

            for _ in range(1_000_000):
                (kind,) = ints(1)
                if kind == 2:
                    _type, has_label, n_missing, _print, _write = ints(5)
                    handle.read(8)
                    if has_label:
                        (length,) = ints(1)
                        handle.read((length + 3) // 4 * 4)
                    handle.read(abs(n_missing) * 8)
                elif kind == 3:
                    (count,) = ints(1)
                    for _label in range(count):
                        handle.read(8)
                        length = handle.read(1)[0]
                        handle.read((length + 8) // 8 * 8 - 1)
                elif kind == 4:
                    (count,) = ints(1)
                    handle.read(4 * count)
                elif kind == 6:
                    (count,) = ints(1)
                    handle.read(80 * count)
                elif kind == 7:
                    subtype, size, count = ints(3)
                    payload = handle.read(size * count)
                    if subtype == 3 and len(payload) >= 32:
                        code = struct.unpack(f"{order}8i", payload[:32])[7]
                        code_page = CODE_PAGES.get(code)
                    elif subtype == 20:
                        record_20 = payload.decode("ascii", "replace").strip() or None
                else:
                    break
    except (OSError, EOFError, IndexError, struct.error):
        pass
    return record_20, code_page


def _stat_reader(suffix: str) -> tuple[Callable[..., Any], dict[str, Any]]:
    import pyreadstat

    readers: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
        ".sav": (pyreadstat.read_sav, {"user_missing": True}),
        ".zsav": (pyreadstat.read_sav, {"user_missing": True}),
        ".por": (pyreadstat.read_por, {}),
        ".dta": (pyreadstat.read_dta, {}),
        ".sas7bdat": (pyreadstat.read_sas7bdat, {}),
        ".xpt": (pyreadstat.read_xport, {}),
    }
    reader, options = readers[suffix]
    return reader, {**options, "dates_as_pandas_datetime": True}


def _read_stat(file: Path, suffix: str, encoding: str | None) -> tuple[pd.DataFrame, Codebook]:
    reader, options = _stat_reader(suffix)

    def attempt(chosen: str | None) -> tuple[pd.DataFrame, Any]:
        extra = {"encoding": chosen} if chosen else {}
        return reader(str(file), **options, **extra)

    try:
        frame, meta = attempt(encoding)
    except Exception as error:  # pyreadstat raises plain Exception subclasses
        if not _is_decoding_error(error) or suffix == ".por":
            raise SurveyReadError(
                f"{file}: cannot read it as {FORMATS[suffix]} ({error}); the file may be truncated, "
                f"corrupt or of another type (allowed: {_allowed()})"
            ) from None
        if encoding is not None:
            declared = sav_declared_encoding(file) if suffix in (".sav", ".zsav") else (None, None)
            hint = f"; the file declares {declared[0] or declared[1]}" if any(declared) else ""
            raise SurveyReadError(
                f"{file}: cannot decode its text as {encoding!r} ({error}){hint}; omit encoding= "
                "to detect it, or name the right one (e.g. 'gbk', 'gb18030', 'utf-8')"
            ) from None
        frame, meta = _read_stat_fallback(file, suffix, attempt, error)
    frame.attrs["date_formatted"] = _date_formatted(meta)
    return frame, _codebook_from_meta(meta, list(frame.columns), file)


_DATE_FORMATS = re.compile(
    r"^(?:A|E|J|S|Q|MO|WK)?(?:DATE|YR|DATETIME|YMDHMS|MDY|DMY|YMD|TIME|DTIME|WKDAY|MONTH)"
    r"|^%-?t|^(?:MMDDYY|DDMMYY|YYMMDD|DATE|DATETIME|TIME|E8601|B8601)",
    re.I,
)


def _date_formatted(meta: Any) -> list[str]:
    """Numeric columns the file formats as dates or times (SPSS ADATE/QYR..., Stata %t..., SAS
    DATE...): their numbers (e.g. SPSS seconds since 1582) are never personal data."""
    formats = getattr(meta, "original_variable_types", {}) or {}
    return [name for name, fmt in formats.items() if fmt and _DATE_FORMATS.match(str(fmt))]


def _read_stat_fallback(
    file: Path,
    suffix: str,
    attempt: Callable[[str | None], tuple[pd.DataFrame, Any]],
    first_error: Exception,
) -> tuple[pd.DataFrame, Any]:
    record, code_page = sav_declared_encoding(file) if suffix in (".sav", ".zsav") else (None, None)
    candidates = [c for c in (code_page, *CHINESE_FALLBACKS) if c and c != record]
    for candidate in dict.fromkeys(candidates):
        try:
            result = attempt(candidate)
        except Exception as error:
            if _is_decoding_error(error):
                continue
            raise SurveyReadError(
                f"{file}: cannot read it as {FORMATS[suffix]} ({error})"
            ) from None
        declared = f"declares {record}" if record else "declares no encoding"
        warnings.warn(
            EncodingFallbackWarning(
                f"{file}: the file {declared} but its text is not valid in it ({first_error}); read "
                f"as {candidate}"
                + (" (its SPSS code page)" if candidate == code_page else "")
                + f". Pass encoding={candidate!r} to silence this."
            ),
            stacklevel=4,
        )
        return result
    raise SurveyReadError(
        f"{file}: cannot decode its text ({first_error}); tried the declared encoding and "
        f"{', '.join(dict.fromkeys(candidates))}; name the encoding with encoding="
    )


def _normal_code(value: object) -> float | int | str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    return value  # type: ignore[return-value]


def _codebook_from_meta(meta: Any, columns: list[str], file: Path) -> Codebook:
    codebook = Codebook(title=getattr(meta, "file_label", None) or "")
    labels = getattr(meta, "column_names_to_labels", {}) or {}
    value_labels = getattr(meta, "variable_value_labels", {}) or {}
    missing = getattr(meta, "missing_ranges", {}) or {}
    measures = getattr(meta, "variable_measure", {}) or {}
    for name in columns:
        discrete: list[float | int | str] = []
        span: tuple[float, float] | None = None
        for item in missing.get(name, []):
            low, high = item["lo"], item["hi"]
            if low == high:
                discrete.append(_normal_code(low))
            elif span is None:
                span = (float(low), float(high))
        measure = measures.get(name, "unknown")
        codebook.add(
            Variable(
                name=name,
                label=labels.get(name) or "",
                value_labels={
                    _normal_code(k): str(v) for k, v in value_labels.get(name, {}).items()
                },
                missing_values=discrete,
                missing_range=span,
                measure=measure if measure in MEASURE_LEVELS else "unknown",
            )
        )
    skipped = []
    for set_name, mr in (getattr(meta, "mr_sets", {}) or {}).items():
        if mr.get("type") == "D" or mr.get("is_dichotomy"):
            codebook.mr_sets[set_name] = MultipleResponseSet(
                name=set_name,
                label=mr.get("label") or "",
                variables=list(mr.get("variable_list", [])),
                counted_value=_normal_code(mr.get("counted_value", 1)),
            )
        else:
            skipped.append(set_name)
    if skipped:
        warnings.warn(
            MetadataWarning(
                f"{file}: multiple-category sets {skipped} are not kept in the codebook (it holds "
                "multiple-dichotomy sets only); their variables are read as ordinary columns"
            ),
            stacklevel=4,
        )
    return codebook


# ----------------------------------------------------------------------------- CSV and Excel


def _decode(file: Path, raw: bytes, encoding: str | None) -> str:
    if encoding is not None:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as error:
            guess = _detect_encoding(raw)
            hint = f"; it decodes as {guess}" if guess else ""
            raise SurveyReadError(
                f"{file}: not valid {encoding!r} text (byte {error.start}: {error.reason}){hint}; "
                "omit encoding= to detect UTF-8, UTF-8 with BOM, GBK or GB18030"
            ) from None
    guess = _detect_encoding(raw)
    if guess is None:
        raise SurveyReadError(
            f"{file}: the text is not UTF-8, UTF-8 with BOM, GBK or GB18030; name its encoding with encoding="
        )
    return raw.decode(guess)


def _detect_encoding(raw: bytes) -> str | None:
    """'utf-8-sig' (with or without BOM), 'utf-16' (with BOM) or 'gb18030' (a superset of GBK)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    return None


def _read_csv(file: Path, encoding: str | None) -> pd.DataFrame:
    raw = file.read_bytes()
    text = _decode(file, raw, encoding).lstrip("\ufeff")
    if not text.strip():
        raise SurveyReadError(f"{file}: the file is empty")
    first_line = text.split("\n", 1)[0]
    separator = max((",", "\t", ";"), key=first_line.count)
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=separator))
        frame = pd.read_csv(io.StringIO(text), sep=separator, header=None, skiprows=1,
                            names=list(range(len(header))), index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error,
            StopIteration) as error:
        raise SurveyReadError(f"{file}: not a readable CSV table ({error})") from None
    keep = _checked_headers(file, header, [bool(frame[p].isna().all()) for p in range(len(header))])
    frame = frame[[p for p in keep]]
    frame.columns = [header[p].strip() for p in keep]
    return frame


def _infer(values: list[object]) -> pd.Series:
    """A column from raw cell values: numbers -> float/int, dates -> datetime, text -> str."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        series = pd.Series([np.nan if v is None else float(v) for v in values], dtype=float)  # type: ignore[arg-type]
        if len(present) == len(values) and all(float(v).is_integer() for v in present):  # type: ignore[arg-type]
            return series.astype("int64")
        return series
    if present and all(
        isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "year") for v in present
    ):
        return pd.to_datetime(pd.Series(values, dtype=object), errors="coerce")
    if all(isinstance(v, str) for v in present):
        return pd.Series(values, dtype=object).astype("str")
    return pd.Series(values, dtype=object)


def _read_xls(file: Path, sheet: int | str) -> pd.DataFrame:
    import xlrd

    try:
        book = xlrd.open_workbook(
            str(file), on_demand=True, formatting_info=True, logfile=io.StringIO()
        )
    except Exception as error:  # xlrd.XLRDError, struct errors on truncated files, ...
        raise SurveyReadError(
            f"{file}: cannot read it as an Excel 97-2003 workbook ({error}); the file may be "
            f"truncated, corrupt or of another type (allowed: {_allowed()})"
        ) from None
    try:
        names = book.sheet_names()
        try:
            table = (
                book.sheet_by_index(sheet) if isinstance(sheet, int) else book.sheet_by_name(sheet)
            )
        except (IndexError, xlrd.XLRDError):
            raise SurveyReadError(f"{file}: no sheet {sheet!r}; sheets: {names}") from None
        if table.nrows == 0:
            raise SurveyReadError(
                f"{file}: sheet {names[0] if isinstance(sheet, int) else sheet!r} is empty"
            )
        merges = [((r0, r1 - 1), (c0, c1 - 1)) for r0, r1, c0, c1 in table.merged_cells]
        depth = _header_depth(merges)
        rows = [[_header_text(v) if v != "" else "" for v in table.row_values(r)]
                for r in range(min(depth, table.nrows))]
        headers = _flatten_header(file, rows, merges, table.ncols)
        columns: dict[str, pd.Series] = {}
        data_values: list[list[object]] = []
        for position in range(table.ncols):
            data_values.append([
                _xls_value(kind, value, book.datemode)
                for kind, value in zip(table.col_types(position, depth),
                                       table.col_values(position, depth), strict=True)
            ])
        keep = _checked_headers(file, headers, [all(v is None for v in vs) for vs in data_values])
        for position in keep:
            columns[headers[position]] = _infer(data_values[position])
        if not columns:
            return pd.DataFrame(index=pd.RangeIndex(max(table.nrows - depth, 0)))
        return pd.DataFrame(columns)
    except SurveyReadError:
        raise
    except Exception as error:
        raise SurveyReadError(f"{file}: cannot read the workbook ({error})") from None
    finally:
        book.release_resources()


def _xls_value(kind: int, value: object, datemode: int) -> object:
    import xlrd

    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return None
    if kind == xlrd.XL_CELL_DATE:
        try:
            return pd.Timestamp(xlrd.xldate_as_datetime(value, datemode))
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return None
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_TEXT and isinstance(value, str) and not value.strip():
        return None
    return value


def _header_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _column_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _header_depth(merges: list[tuple[tuple[int, int], tuple[int, int]]]) -> int:
    """Rows of the header: merged cells from the first row down, plus the row of sub-headings
    under a merged cell that spans several columns. Rows and columns are 0-based, inclusive."""
    depth = 1
    for _ in range(10):
        grown = depth
        for (r0, r1), (c0, c1) in merges:
            if r0 < depth:
                grown = max(grown, r1 + 1 + (1 if c1 > c0 else 0))
        if grown == depth:
            break
        depth = grown
    return depth


def _flatten_header(
    file: Path,
    rows: list[list[str]],
    merges: list[tuple[tuple[int, int], tuple[int, int]]],
    width: int,
) -> list[str]:
    """One name per column from a header of one or more rows: a merged cell's text stands over
    every column it spans, and the rows are joined as "question / sub-item"."""
    grid = [[str(v).strip() if v is not None else "" for v in row] + [""] * (width - len(row))
            for row in rows]
    if len(grid) <= 1:
        return grid[0] if grid else [""] * width
    for (r0, r1), (c0, c1) in merges:
        if r0 >= len(grid):
            continue
        text = grid[r0][c0]
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            for c in range(c0, min(c1, width - 1) + 1):
                grid[r][c] = text
    headers = []
    for position in range(width):
        parts = list(dict.fromkeys(row[position] for row in grid if row[position]))
        headers.append(" / ".join(parts))
    shown = [h for h in headers if " / " in h][:5]
    warnings.warn(
        HeaderWarning(
            f"{file}: the header has {len(grid)} rows (merged cells); flattened to one name per "
            f"column, joined as 'question / sub-item' (e.g. {shown}); respondents start at row "
            f"{len(grid) + 1}"
        ),
        stacklevel=5,
    )
    return headers


def _checked_headers(file: Path, headers: list[str], empty: list[bool]) -> list[int]:
    """Positions of the columns to keep: a column with neither a header nor any answer is left
    out; a column with answers but no header, or a name used twice, is an error."""
    keep = []
    unnamed = []
    for position, (header, blank) in enumerate(zip(headers, empty, strict=True)):
        if header.strip():
            keep.append(position)
        elif not blank:
            unnamed.append(position)
    if unnamed:
        where = ", ".join(f"{_column_letter(p)} (column {p + 1})" for p in unnamed[:10])
        raise SurveyReadError(
            f"{file}: columns {where} hold answers but have no header. If the header takes more "
            "than one row (a question over its sub-items), merge the question's cells in Excel "
            "(merged headers are flattened to 'question / sub-item') or write a one-row header "
            "naming every column"
        )
    positions: dict[str, list[int]] = {}
    for position in keep:
        positions.setdefault(headers[position].strip(), []).append(position)
    repeated = {name: spots for name, spots in positions.items() if len(spots) > 1}
    if repeated:
        where = "; ".join(
            f"{name!r} in columns " + ", ".join(_column_letter(p) for p in spots)
            for name, spots in list(repeated.items())[:10]
        )
        raise SurveyReadError(
            f"{file}: column names occur more than once: {where}; rename them so that each "
            "column has its own name"
        )
    return keep


def _xlsx_header(file: Path, sheet: int | str) -> tuple[list[list[object]], list[Any], int]:
    """The header rows, merged ranges (0-based) and width of an .xlsx sheet, read with openpyxl."""
    import openpyxl

    book = openpyxl.load_workbook(file, data_only=True)
    try:
        names = book.sheetnames
        if isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise SurveyReadError(f"{file}: no sheet {sheet!r}; sheets: {names}")
            worksheet = book[names[sheet]]
        elif sheet in names:
            worksheet = book[sheet]
        else:
            raise SurveyReadError(f"{file}: no sheet {sheet!r}; sheets: {names}")
        merges = [((r.min_row - 1, r.max_row - 1), (r.min_col - 1, r.max_col - 1))
                  for r in worksheet.merged_cells.ranges]
        depth = _header_depth(merges)
        rows = [[_header_text(c) if c is not None else "" for c in row]
                for row in worksheet.iter_rows(min_row=1, max_row=depth, values_only=True)]
        return rows, merges, worksheet.max_column
    finally:
        book.close()


def _read_xlsx(file: Path, sheet: int | str) -> pd.DataFrame:
    try:
        rows, merges, width = _xlsx_header(file, sheet)
        frame = pd.read_excel(file, sheet_name=sheet, engine="openpyxl", header=None,
                              skiprows=len(rows) or 1)
    except SurveyReadError:
        raise
    except Exception as error:  # zipfile.BadZipFile, InvalidFileException, KeyError, ValueError ...
        raise SurveyReadError(
            f"{file}: cannot read it as an Excel workbook ({type(error).__name__}: {error}); the file "
            f"may be truncated, corrupt or of another type (allowed: {_allowed()})"
        ) from None
    if not rows:
        raise SurveyReadError(f"{file}: sheet {sheet!r} is empty")
    width = max(width, frame.shape[1])
    for position in range(frame.shape[1], width):
        frame[position] = np.nan
    headers = _flatten_header(file, rows, merges, width)
    keep = _checked_headers(file, headers, [bool(frame[p].isna().all()) for p in range(width)])
    frame = frame[[frame.columns[p] for p in keep]]
    frame.columns = [headers[p] for p in keep]
    return frame.reset_index(drop=True)


def _read_table(file: Path, suffix: str, encoding: str | None, sheet: int | str) -> pd.DataFrame:
    if suffix == ".csv":
        return _read_csv(file, encoding)
    if suffix == ".xls":
        return _read_xls(file, sheet)
    return _read_xlsx(file, sheet)


def _read_wenjuanxing(
    file: Path,
    table: pd.DataFrame,
    user_codebook: Codebook | None,
    pair: str | Path | None,
    encoding: str | None,
    sheet: int | str,
    keep: bool,
) -> tuple[pd.DataFrame, Codebook]:
    pair_table = None
    pair_file = None
    if pair is not None:
        pair_file = _check_file(pair)
        if pair_file.suffix.lower() not in TABLE_FORMATS:
            raise SurveyReadError(
                f"{pair_file}: pair= must be a 问卷星 export (.xls, .xlsx or .csv)"
            )
        if pair_file.resolve() == file.resolve():
            raise SurveyReadError(
                f"{file}: pair= names the same file; give the other 问卷星 export"
            )
        pair_table = _read_table(pair_file, pair_file.suffix.lower(), encoding, sheet)
        if not is_wenjuanxing(pair_table.columns):
            raise SurveyReadError(
                f"{pair_file}: not a 问卷星 export (its metadata columns are missing)"
            )
    try:
        data, codebook, _kind = parse_wenjuanxing(
            table,
            source=str(file),
            codebook=user_codebook,
            pair=pair_table,
            pair_source=str(pair_file or ""),
            keep_codes=keep,
        )
    except WenjuanxingError as error:
        raise SurveyReadError(f"{file}: {error}") from None
    return data, codebook


# ----------------------------------------------------------------------------- codebook, missing values


def _overlay(codebook: Codebook, user: Codebook, data: pd.DataFrame, file: Path) -> None:
    """Lay a user codebook over the file's own: what the user states wins."""
    absent = [name for name in user.variables if name not in data.columns]
    if absent:
        warnings.warn(
            CodebookMismatchWarning(
                f"{file}: the codebook describes variables that are not columns of the data: {absent}"
            ),
            stacklevel=3,
        )
    for name, given in user.variables.items():
        if name not in data.columns:
            continue
        ours = codebook.get(name)
        codebook.add(
            Variable(
                name=name,
                label=given.label or ours.label,
                value_labels=dict(given.value_labels) or ours.value_labels,
                missing_values=list(given.missing_values) or ours.missing_values,
                missing_range=given.missing_range or ours.missing_range,
                measure=given.measure if given.measure != "unknown" else ours.measure,
                personal=given.personal or ours.personal,
                question=given.question if given.question is not None else ours.question,
            )
        )
    codebook.mr_sets.update(user.mr_sets)
    codebook.scales.update(user.scales)
    codebook.title = user.title or codebook.title


def _user_missing_to_nan(data: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    out = data
    for name, variable in codebook.variables.items():
        if name not in data.columns or not (variable.missing_values or variable.missing_range):
            continue
        column = data[name]
        if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(
            column
        ):
            continue
        mask = variable.is_user_missing(column)
        if mask.any():
            if out is data:
                out = data.copy()
            out[name] = column.mask(mask)
    return out


# ----------------------------------------------------------------------------- personal data

IP_PATTERN = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_LOCATION_SUFFIX = re.compile(r"\s*[(（].*[)）]\s*$")  # 问卷星 writes "1.2.3.4(广东-广州)"


def looks_like_ip(value: object) -> bool:
    """True for an IPv4 or IPv6 address, optionally followed by a location in brackets."""
    if not isinstance(value, str):
        return False
    text = _LOCATION_SUFFIX.sub("", value).strip()
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def personal_columns(data: pd.DataFrame, codebook: Codebook) -> list[str]:
    """Columns that hold personal data (see `survey.privacy.find_personal_columns`): marked in the
    codebook, asking for a name, phone, ID number, address, e-mail, WeChat/QQ or IP address by
    their header or label, or whose answers mostly are such values. Hashed columns included."""
    found = {f.column for f in find_personal_columns(data, codebook)}
    return [c for c in data.columns if str(c) in found or (codebook.get(str(c)).personal
                                                           and is_hashed(data[c]))]


def _protect_personal(
    survey_data: SurveyData,
    personal: str,
    salt: str | bytes | None,
    *,
    where: str,
    dates: list[str] | None = None,
) -> None:
    try:
        data, report = protect(
            survey_data.data, survey_data.codebook, policy=personal, salt=salt, dates=dates or ()
        )
    except SurveyAnalysisError as error:
        raise SurveyReadError(f"{where}: {error}") from None
    survey_data.data = data
    survey_data.privacy = report
    if report.empty:
        return
    whole = report[report["action"] != "redacted"]["variable"].tolist()
    action = "replaced by salted SHA-256 digests" if personal == "hash" else "dropped"
    head = f"columns holding personal data were {action}: {whole}; " if whole else ""
    warnings.warn(
        PersonalDataWarning(f"{where}: {head}" + "; ".join(describe_report(report))),
        stacklevel=3,
    )
