"""Personal data in questionnaire exports (个人信息保护): found by header, by content or by the
codebook, then removed before anything is written or shown.

Whole columns of personal data — a question asking for a name, phone number, ID number, address,
e-mail, WeChat/QQ account or IP address, or a column whose answers are mostly such values — are
dropped or replaced by salted SHA-256 digests (`policy`). Inside free text (其他【请注明】,
suggestions) a phone number, resident ID number, e-mail or IP address is replaced by a token such
as `[电话已删除]`; the rest of the answer is kept. `protect` returns a report with one row per
column and kind of personal data — counts only, never a value.

Recognised values:
- mainland mobile numbers: 1[3-9]x and 8 more digits, optionally +86 and spaces or dashes;
- landline numbers: area code 010, 02x or 0[3-9]xx, then 7-8 digits (the first not 0 or 1);
- resident ID numbers (居民身份证号码): 18 characters with a valid GB 11643-1999 check
  character, or the 15-digit numbers of the first-generation cards (with a valid date);
- e-mail addresses; IPv4 and IPv6 addresses (问卷星 writes `1.2.3.4(广东-广州)`).

Ordinary numeric answers (Likert codes, ages, incomes, durations, respondent ids) are never taken
for personal data: a number is personal only when it has the form of a mobile or ID number.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from survey.codebook import Codebook
from survey.errors import SurveyAnalysisError

Policy = Literal["drop", "hash"]
POLICIES = ("drop", "hash")
# what a column or a piece of text holds -> words used in notes
KINDS: dict[str, str] = {
    "name": "names",
    "phone": "phone numbers",
    "id_number": "ID numbers",
    "address": "addresses",
    "email": "e-mail addresses",
    "wechat_qq": "WeChat/QQ accounts",
    "ip": "IP addresses",
    "marked": "data the codebook marks personal",
}
TOKENS: dict[str, str] = {
    "phone": "[电话已删除]",
    "id_number": "[证件号已删除]",
    "email": "[邮箱已删除]",
    "ip": "[IP已删除]",
}
REPORT_COLUMNS = ["variable", "personal_data", "found_by", "action", "cells"]
HASH_SUFFIX = "（已加盐SHA-256脱敏）"
# a column is personal by content when at least this share of its answers is one kind of value
CONTENT_SHARE = 0.5

# ----------------------------------------------------------------------------- headers

_NOTES = re.compile(r"[(（\[【〔〖][^)）\]】〕〗]*[)）\]】〕〗]")  # (选填), 【请注明】
_NUMBERING = re.compile(r"^\s*(?:第?\d+\s*题?\s*[、．.:：)）]|[Qq]\d+\s*[、．.:：_\s])\s*")
_ENDING = re.compile(r"[\s:：?？。.!！*]+$")
_HEADER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ip", re.compile(r"来自\s*ip|ip\s*地址|ip[_ ]?addr(?:ess)?|^ip$", re.I)),
    ("email", re.compile(r"邮箱|电子邮件|电邮|e-?mail", re.I)),
    ("id_number", re.compile(r"身份证|证件号|身份号码|id\s*card", re.I)),
    ("phone", re.compile(
        r"手机号|电话号|联系电话|联系方式|移动电话|固定电话|固话|座机|"
        r"(?:phone|mobile|contact)[_ ]*(?:number|no\b)|^(?:tel|telephone|phone|mobile)$", re.I)),
    ("name", re.compile(r"姓名|称呼|真实名字|^(?:full[_ ]*|your[_ ]*)?name$", re.I)),
    ("address", re.compile(
        r"住址|(?:家庭|详细|通讯|通信|联系|收货|居住|邮寄)地址|^地址$|^(?:home[_ ]*)?address$", re.I)),
    ("wechat_qq", re.compile(r"微信号|微信账号|微信\s*id|qq\s*号|qq账号|^qq$|^微信$|wechat[_ ]*id", re.I)),
)
# "请留下您的手机", "您的名字", "电话": a question that asks for the thing itself
_ASKS_FOR = re.compile(
    r"^(?:请(?:您)?(?:填写|输入|留下|提供|写下)(?:一下)?)?(?:您|你)?的?(?:真实|常用|有效|联系)?的?"
    r"(名字|手机|电话|地址|微信|qq)(?:号码?|账号)?$",
    re.I,
)
_ASKED_KIND = {"名字": "name", "手机": "phone", "电话": "phone", "地址": "address", "微信": "wechat_qq",
               "qq": "wechat_qq"}


def _core(header: str) -> str:
    text = _NUMBERING.sub("", str(header).replace("\u3000", " ").strip())
    return _ENDING.sub("", _NOTES.sub("", text)).strip()


def header_kind(header: object) -> str | None:
    """The kind of personal data a column header (or question text) asks for, or None.

    >>> header_kind("12、联系电话（选填）"), header_kind("手机价格"), header_kind("您的姓名：")
    ('phone', None, 'name')
    """
    if header is None or (isinstance(header, float) and math.isnan(header)):
        return None
    core = _core(str(header))
    if not core:
        return None
    for kind, pattern in _HEADER_PATTERNS:
        if pattern.search(core):
            return kind
    match = _ASKS_FOR.match(core)
    return _ASKED_KIND[match.group(1).lower()] if match else None


# ----------------------------------------------------------------------------- values

_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_ID18 = re.compile(rf"(?<![0-9A-Za-z])[1-9]\d{{5}}(?:18|19|20)\d{{2}}{_DATE}\d{{3}}[\dXx](?![0-9A-Za-z])")
_ID15 = re.compile(rf"(?<![0-9A-Za-z])[1-9]\d{{5}}\d{{2}}{_DATE}\d{{3}}(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![\d+])(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(
    r"(?<![\d-])(?:[(（]0(?:10|2\d|[3-9]\d{2})[)）]\s?|0(?:10|2\d|[3-9]\d{2})[-\s]?)[2-9]\d{6,7}(?![\d-])"
)
_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\d.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\d|\.\d)")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])")
_LOCATION = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")  # "1.2.3.4(广东-广州)"


def valid_resident_id(text: str) -> bool:
    """True for an 18-character resident ID number whose check character is right (GB 11643-1999:
    the weighted sum of the first 17 digits, weights 2^(17-i) mod 11, gives (12 - sum mod 11) mod
    11, written X for 10), or a 15-digit first-generation number with a valid month and day."""
    text = text.strip()
    if _ID15.fullmatch(text):
        return True
    if not _ID18.fullmatch(text):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(text[:17], _ID_WEIGHTS, strict=True))
    check = (12 - total % 11) % 11
    return text[17].upper() == ("X" if check == 10 else str(check))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(_LOCATION.sub("", text).strip())
    except ValueError:
        return False
    return True


def _as_text(value: object) -> str | None:
    """Text of a cell for matching: integral numbers without '.0'; None for blanks and fractions."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if not math.isfinite(value) or not float(value).is_integer():
            return None
        return str(int(value))
    if isinstance(value, str):
        return value.strip() or None
    return None


def value_kind(value: object) -> str | None:
    """The kind of personal data a whole cell is ('phone', 'id_number', 'email', 'ip'), or None.

    Numbers count only in the form of a mobile or ID number, so codes, ages and incomes never do.
    """
    text = _as_text(value)
    if text is None:
        return None
    if _EMAIL.fullmatch(text):
        return "email"
    if valid_resident_id(text):
        return "id_number"
    if _MOBILE.fullmatch(text) or _LANDLINE.fullmatch(text):
        return "phone"
    if ("." in text or ":" in text) and _is_ip(text):
        return "ip"
    return None


def column_kind(series: pd.Series) -> str | None:
    """The kind of personal data most answers of a column are (at least half of them), or None."""
    present = series.dropna()
    if present.empty or pd.api.types.is_datetime64_any_dtype(present) or pd.api.types.is_bool_dtype(
        present
    ):
        return None
    if pd.api.types.is_numeric_dtype(present):
        big = present[np.isfinite(present.astype(float)) & (present.astype(float).abs() >= 1e9)]
        if len(big) < CONTENT_SHARE * len(present):  # codes, ages, incomes, durations, ids
            return None
    matched = [value_kind(v) for v in present]
    kinds = Counter(k for k in matched if k is not None)
    if not kinds:
        return None
    kind, count = kinds.most_common(1)[0]
    if count < CONTENT_SHARE * len(present):
        return None
    if kind == "phone" and pd.api.types.is_numeric_dtype(present) and count >= 3:
        # SPSS stores 2013-2025 as seconds since 1582 (136xxxxxxxx...): one survey's dates share
        # their first three digits, the mobile numbers of three people almost never do
        prefixes = {str(_as_text(v))[:3] for v, k in zip(present, matched, strict=True) if k == "phone"}
        if len(prefixes) < 2:
            return None
    return kind


def _ipv6_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _IPV6.finditer(text) if m.group().count(":") >= 2 and _is_ip(m.group())]


def redact_text(text: str) -> tuple[str, Counter[str]]:
    """Text with phone numbers, ID numbers, e-mail and IP addresses replaced by tokens, and the
    number of each kind replaced.

    >>> redact_text("请打电话 138-1234-5678 或发邮件 a@b.cn")
    ('请打电话 [电话已删除] 或发邮件 [邮箱已删除]', Counter({'phone': 1, 'email': 1}))
    """
    found: Counter[str] = Counter()

    def replace(pattern: re.Pattern[str], kind: str, body: str, check=None) -> str:  # noqa: ANN001
        def one(match: re.Match[str]) -> str:
            if check is not None and not check(match.group()):
                return match.group()
            found[kind] += 1
            return TOKENS[kind]

        return pattern.sub(one, body)

    out = replace(_EMAIL, "email", text)
    out = replace(_ID18, "id_number", out, valid_resident_id)
    out = replace(_ID15, "id_number", out, valid_resident_id)
    spans = _ipv6_spans(out)
    for start, end in reversed(spans):
        out = out[:start] + TOKENS["ip"] + out[end:]
        found["ip"] += 1
    out = replace(_IPV4, "ip", out)
    out = replace(_MOBILE, "phone", out)
    out = replace(_LANDLINE, "phone", out)
    return out, found


# ----------------------------------------------------------------------------- columns


@dataclass
class Finding:
    """A column found to hold personal data: its kind and how it was found."""

    column: str
    kind: str
    found_by: Literal["codebook", "header", "content"]


_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def is_hashed(series: pd.Series) -> bool:
    """True when every non-missing value is a SHA-256 hex digest (a hashed personal column)."""
    present = series.dropna()
    return bool(len(present)) and bool(present.map(lambda v: bool(_DIGEST.match(str(v)))).all())


def _only_codes(series: pd.Series) -> bool:
    """Small whole numbers only: the codes of a choice question (联系方式: 1 电话 2 微信 ...)."""
    present = pd.to_numeric(series.dropna(), errors="coerce") if series.notna().any() else series
    if not len(present) or present.isna().any():
        return False
    return bool(((present == present.round()) & (present.abs() < 10_000)).all())


def find_personal_columns(
    data: pd.DataFrame, codebook: Codebook | None = None, *, dates: Iterable[str] = ()
) -> list[Finding]:
    """Columns holding personal data: marked in the codebook, asked for by their header or
    variable label, or whose answers are mostly phone/ID numbers, e-mail or IP addresses.

    A header match is ignored when the column holds only small whole numbers without value
    labels (the codes of a choice question; labels could be the answers themselves); already hashed columns are not reported again. `dates` names numeric
    columns the file formats as dates or times (SPSS stores 2013-2025 as 11-digit seconds that
    look like mobile numbers): they are never personal by content.
    """
    book = codebook or Codebook()
    date_columns = set(dates)
    found = []
    for column in data.columns:
        series = data[column]
        if is_hashed(series):
            continue
        variable = book.get(str(column))
        kind = header_kind(column) or header_kind(variable.label)
        if variable.personal:
            kind = kind or (None if str(column) in date_columns else column_kind(series))
            found.append(Finding(str(column), kind or "marked", "codebook"))
            continue
        if kind is not None and (variable.value_labels or not _only_codes(series)):
            found.append(Finding(str(column), kind, "header"))
            continue
        kind = None if str(column) in date_columns else column_kind(series)
        if kind is not None:
            found.append(Finding(str(column), kind, "content"))
    return found


def hash_values(series: pd.Series, salt: bytes) -> pd.Series:
    """Salted SHA-256 digests (hex) of the values; missing stays missing."""

    def digest(value: object) -> object:
        if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
            return np.nan
        text = _as_text(value) if not isinstance(value, str) else value.strip()
        return hashlib.sha256(salt + (text if text is not None else str(value)).encode("utf-8")).hexdigest()

    return series.map(digest).astype("str")


def _salt_bytes(policy: str, salt: str | bytes | None) -> bytes:
    if policy not in POLICIES:
        raise SurveyAnalysisError(f"personal data policy must be 'drop' or 'hash', got {policy!r}")
    if salt is not None and not isinstance(salt, str | bytes):
        raise SurveyAnalysisError(f"salt must be a str or bytes, got {type(salt).__name__}")
    if policy == "hash" and not salt:
        raise SurveyAnalysisError(
            "personal='hash' needs salt=...: a secret of your own (kept outside the data and never "
            "stored by this package) so that digests cannot be reversed by trying every phone number"
        )
    return salt.encode("utf-8") if isinstance(salt, str) else (salt or b"")


def _redact_column(series: pd.Series) -> tuple[pd.Series, Counter[str]]:
    """A text column with phone/ID numbers, e-mail and IP addresses replaced by tokens."""
    counts: Counter[str] = Counter()
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return series, counts

    def one(value: object) -> object:
        if not isinstance(value, str):
            return value
        text, found = redact_text(value)
        counts.update(found)
        return text

    redacted = series.map(one)
    return (redacted if counts else series), counts


def protect(
    data: pd.DataFrame,
    codebook: Codebook | None = None,
    *,
    policy: Policy = "drop",
    salt: str | bytes | None = None,
    dates: Iterable[str] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove personal data: whole columns dropped or hashed (`policy`), matches in free text
    redacted. The codebook is updated in place (dropped variables removed, hashed ones marked).

    Args:
        data: the respondents' answers (not modified).
        codebook: the codebook of `data`: personal flags and variable labels (question text).
        policy: "drop" removes personal columns; "hash" replaces each value by the hex SHA-256 of
            salt + value, so the same person links across rows and files hashed with the same salt.
        salt: the caller's secret for policy="hash" (required then; never stored).
        dates: numeric columns formatted as dates or times in the file (never personal).

    Returns:
        (protected data, report): the report has one row per column and kind of personal data —
        variable, personal_data (kind), found_by (codebook/header/content/text), action
        (dropped/hashed/redacted), cells (non-missing cells removed) — and never a value.

    Raises:
        SurveyAnalysisError: an unknown policy, or policy="hash" without a salt.
    """
    key = _salt_bytes(policy, salt)
    book = codebook if codebook is not None else Codebook()
    date_columns = set(dates)
    findings = find_personal_columns(data, book, dates=date_columns)
    rows: list[dict[str, object]] = []
    out = data
    whole = [f.column for f in findings]
    if whole:
        out = data.copy()
    for finding in findings:
        cells = int(out[finding.column].notna().sum())
        if policy == "hash":
            out[finding.column] = hash_values(out[finding.column], key)
            _mark_hashed(book, finding.column)
        rows.append({"variable": finding.column, "personal_data": finding.kind,
                     "found_by": finding.found_by,
                     "action": "hashed" if policy == "hash" else "dropped", "cells": cells})
    if policy == "drop" and whole:
        out = out.drop(columns=whole)
        _forget(book, whole)
    for column in [c for c in out.columns if c not in whole and c not in date_columns]:
        redacted, counts = _redact_column(out[column])
        counts.update(_redact_labels(book, str(column), out[column]))
        if not counts:
            continue
        if out is data:
            out = data.copy()
        out[column] = redacted
        rows += [{"variable": str(column), "personal_data": kind, "found_by": "text",
                  "action": "redacted", "cells": count} for kind, count in sorted(counts.items())]
    return out, pd.DataFrame(rows, columns=REPORT_COLUMNS)


def _redact_labels(book: Codebook, column: str, series: pd.Series) -> Counter[str]:
    """Value labels that are answers written by respondents (a by-text export codes repeated
    answers): matches redacted in the label, counted once per respondent with that code."""
    counts: Counter[str] = Counter()
    variable = book.variables.get(column)
    if variable is None or not variable.value_labels:
        return counts
    labels = {}
    for code, label in variable.value_labels.items():
        text, found = redact_text(str(label))
        labels[code] = text if found else label
        if found:
            holders = int(pd.to_numeric(series, errors="coerce").eq(float(code)).sum()) \
                if isinstance(code, int | float) else int(series.astype(str).eq(str(code)).sum())
            counts.update({kind: holders or 1 for kind in found})
    variable.value_labels = labels
    return counts


def _mark_hashed(book: Codebook, column: str) -> None:
    variable = book.get(column)
    variable.personal = True
    variable.value_labels = {}
    variable.missing_values = []
    variable.missing_range = None
    if not (variable.label or "").endswith(HASH_SUFFIX):
        variable.label = (variable.label or column) + HASH_SUFFIX
    variable.measure = "nominal"
    book.add(variable)


def _forget(book: Codebook, columns: Iterable[str]) -> None:
    gone = set(columns)
    for column in gone:
        book.variables.pop(column, None)
    for mr in book.mr_sets.values():
        mr.variables = [v for v in mr.variables if v not in gone]


def describe_report(report: pd.DataFrame) -> list[str]:
    """One note per column saying what was done to its personal data (counts, never values)."""
    notes = []
    for column, rows in report.groupby("variable", sort=False):
        first = rows.iloc[0]
        if first["action"] in ("dropped", "hashed"):
            how = {"codebook": "marked personal in the codebook", "header": "asked for by its header",
                   "content": "found in its answers"}[first["found_by"]]
            what = "replaced by salted SHA-256 digests" if first["action"] == "hashed" else "dropped"
            notes.append(f"{column}: {KINDS[first['personal_data']]} ({how}); column {what}, "
                         f"{int(first['cells'])} cells")
        else:
            parts = ", ".join(f"{int(r['cells'])} {KINDS[r['personal_data']]}" for _, r in rows.iterrows())
            notes.append(f"{column}: {parts} removed from its answers (the rest of each answer kept)")
    return notes


__all__ = [
    "KINDS",
    "POLICIES",
    "REPORT_COLUMNS",
    "TOKENS",
    "Finding",
    "column_kind",
    "describe_report",
    "find_personal_columns",
    "hash_values",
    "header_kind",
    "is_hashed",
    "protect",
    "redact_text",
    "valid_resident_id",
    "value_kind",
]
