"""Cleaning questionnaire data — never in place, every change listed in a `CleaningReport`.

Rules, in the order they apply:
0. personal data (`survey.privacy`): columns asking for or holding names, phone/ID numbers,
   addresses, e-mail, WeChat/QQ or IP addresses are dropped or hashed (`personal`, `salt`), and
   such values inside free text are replaced by tokens; the report counts them, never shows them;
1. user-missing codes (the codebook's missing values / range) become missing;
2. out-of-range codes become missing: a code outside an item's value labels, or outside its
   scale's range (low..high);
3. duplicate respondents are dropped, keeping the first: the same id, or the same answers to
   every item;
4. speeders are dropped: completion time below `min_seconds`, or below `speed_fraction` x the
   median time;
5. straight-liners (the same answer to every one of at least `straightline` scale items, reverse
   keys included) are dropped, or only flagged;
6. respondents missing more than `max_missing` of the items are dropped.

`score_scales` then scores each scale as the mean (or sum) of its items after reverse keying,
with SPSS's MEAN.n rule: a score only for respondents with at least `min_valid` valid items.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from survey.codebook import Codebook, Scale, SurveyData
from survey.errors import SurveyAnalysisError
from survey.privacy import KINDS, REPORT_COLUMNS, describe_report, protect

RULES = ("user_missing", "out_of_range", "duplicate", "speeder", "straightliner", "too_many_missing")


@dataclass
class CleaningReport:
    """What cleaning changed.

    Attributes:
        changes: one row per recoded cell: rule, row (respondent id or row label), variable,
            old value, new value (NaN).
        dropped: one row per dropped respondent: row, rule, detail.
        flagged: respondents flagged but kept (straight-liners with drop_straightliners=False).
        n_in, n_out: respondents before and after.
        personal: personal data removed, when reading and when cleaning: one row per column and
            kind (variable, personal_data, found_by, action, cells) — counts, never a value.
    """

    changes: pd.DataFrame
    dropped: pd.DataFrame
    flagged: pd.DataFrame
    n_in: int
    n_out: int
    settings: dict[str, Any] = field(default_factory=dict)
    personal: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REPORT_COLUMNS))

    def counts(self) -> pd.DataFrame:
        """Cells recoded and respondents dropped / flagged per rule."""
        rows = []
        for rule in RULES:
            rows.append({"rule": rule,
                         "cells_recoded": int((self.changes["rule"] == rule).sum()),
                         "respondents_dropped": int((self.dropped["rule"] == rule).sum()),
                         "respondents_flagged": int((self.flagged["rule"] == rule).sum())})
        return pd.DataFrame(rows).set_index("rule")

    def to_frame(self) -> pd.DataFrame:
        return self.counts().reset_index()

    def summary(self) -> str:
        lines = [f"Cleaning: {self.n_in} respondents in, {self.n_out} out "
                 f"({self.n_in - self.n_out} dropped)."]
        for rule, row in self.counts().iterrows():
            parts = []
            if row["cells_recoded"]:
                parts.append(f"{row['cells_recoded']} cells set missing")
            if row["respondents_dropped"]:
                parts.append(f"{row['respondents_dropped']} respondents dropped")
            if row["respondents_flagged"]:
                parts.append(f"{row['respondents_flagged']} respondents flagged")
            if parts:
                lines.append(f"- {rule}: " + ", ".join(parts))
        lines += [f"- personal data: {note}" for note in describe_report(self.personal)]
        return "\n".join(lines)


def _unpack(data: pd.DataFrame | SurveyData, codebook: Codebook | None) -> tuple[pd.DataFrame, Codebook]:
    if isinstance(data, SurveyData):
        return data.data, codebook or data.codebook
    if not isinstance(data, pd.DataFrame):
        raise SurveyAnalysisError(f"expected a DataFrame or SurveyData, got {type(data).__name__}")
    return data, codebook or Codebook()


def _need(frame: pd.DataFrame, name: str | None, what: str) -> None:
    if name is not None and name not in frame.columns:
        raise SurveyAnalysisError(f"clean: {what} column {name!r} is not in the data; "
                                  f"columns: {list(map(str, frame.columns))[:30]}")


def _numeric_codes(labels: Mapping[Any, str]) -> set[float] | None:
    codes = set()
    for code in labels:
        try:
            codes.add(float(code))
        except (TypeError, ValueError):
            return None  # string codes: not a numeric code list
    return codes


def _check_duration(seconds: pd.Series, name: str) -> None:
    """The speeder rule needs times: an empty or non-numeric duration column is an error."""
    present = seconds.dropna()
    numbers = pd.to_numeric(present, errors="coerce")
    if present.empty:
        raise SurveyAnalysisError(f"clean: duration column {name!r} is empty (all {len(seconds)} "
                                  "cells missing); the speeder rule needs completion times in seconds")
    bad = int(numbers.isna().sum())
    if bad:
        raise SurveyAnalysisError(f"clean: duration column {name!r} has {bad} cells that are not "
                                  "numbers of seconds; convert them (问卷星's 所用时间 is read as "
                                  "duration_seconds) or leave them blank")
    if not np.isfinite(numbers.astype(float)).all() or (numbers < 0).any():
        raise SurveyAnalysisError(f"clean: duration column {name!r} holds negative or infinite times")


def _check_not_personal(found: pd.DataFrame, *, id: str | None, duration: str | None,  # noqa: A002
                        items: Sequence[str] | None) -> None:
    removed = found[found["action"] == "dropped"]
    for name, what in [(id, "id"), (duration, "duration"), *((i, "item") for i in items or [])]:
        rows = removed[removed["variable"] == name]
        if name is not None and not rows.empty:
            kind = KINDS[rows["personal_data"].iloc[0]]
            raise SurveyAnalysisError(f"clean: {what} column {name!r} holds personal data ({kind}) "
                                      "and is dropped; choose another column")


def clean(
    data: pd.DataFrame | SurveyData,
    codebook: Codebook | None = None,
    *,
    id: str | None = None,  # noqa: A002 - the respondent id column, as SPSS users call it
    items: Sequence[str] | None = None,
    duration: str | None = None,
    min_seconds: float | None = None,
    speed_fraction: float | None = None,
    straightline: int | None = 6,
    drop_straightliners: bool = True,
    max_missing: float | None = 0.5,
    duplicates: bool = True,
    personal: Literal["drop", "hash"] = "drop",
    salt: str | bytes | None = None,
) -> tuple[SurveyData, CleaningReport]:
    """Apply the cleaning rules (see the module docstring) to a copy of the data.

    Args:
        data: a SurveyData (its codebook is used) or a DataFrame (with `codebook`).
        id: respondent id column (used to report rows and to find duplicate ids).
        items: the answer columns checked for duplicates, straight-lining and missingness
            (default: every scale item of the codebook, else every numeric column but id and
            duration).
        duration: completion-time column in seconds (问卷星's 所用时间 → duration_seconds).
        min_seconds: speeders are faster than this; speed_fraction: or faster than this
            fraction of the median time (e.g. 1/3). Either needs `duration`.
        straightline: least number of answered items for the straight-lining rule (None: off).
        drop_straightliners: drop them (True) or only flag them in the report (False).
        max_missing: drop respondents missing more than this share of `items` (None: off).
        duplicates: drop duplicate ids and duplicate answer patterns.
        personal: personal-data columns are dropped ("drop") or replaced by salted SHA-256
            digests ("hash"); matches inside free text are redacted either way (rule 0).
        salt: your secret salt for personal="hash" (required then; never stored).

    Returns:
        (cleaned SurveyData, CleaningReport). The input is not modified.

    Raises:
        SurveyAnalysisError: no respondents; an unknown column; a duration column without usable
            times when a speeder rule is asked for; an id, duration or item column that holds
            personal data; bad settings.
    """
    frame, book = _unpack(data, codebook)
    if len(frame) == 0:
        raise SurveyAnalysisError(f"clean: no respondents (the data has {frame.shape[1]} columns "
                                  "and no rows)")
    for name, what in ((id, "id"), (duration, "duration")):
        _need(frame, name, what)
    if (min_seconds is not None or speed_fraction is not None) and duration is None:
        raise SurveyAnalysisError("clean: min_seconds / speed_fraction need the duration column (duration=...)")
    if speed_fraction is not None and not 0 < speed_fraction < 1:
        raise SurveyAnalysisError(f"clean: speed_fraction must lie in (0, 1) (got {speed_fraction})")
    if max_missing is not None and not 0 <= max_missing < 1:
        raise SurveyAnalysisError(f"clean: max_missing must lie in [0, 1) (got {max_missing})")
    speed_rule = min_seconds is not None or speed_fraction is not None
    if speed_rule:
        _check_duration(frame[duration], duration)  # type: ignore[index]
    for item in items or []:
        _need(frame, item, "item")
    book = copy.deepcopy(book)
    out, found = protect(frame, book, policy=personal, salt=salt)
    _check_not_personal(found, id=id, duration=duration, items=items)
    if isinstance(data, SurveyData) and not data.privacy.empty:  # removed when reading
        found = pd.concat([data.privacy, found], ignore_index=True) if not found.empty else data.privacy
    out = out.copy()
    personal_marked = set(book.personal_columns())
    if items is None:
        scale_items = list(dict.fromkeys(i for s in book.scales.values() for i in s.items if i in out.columns))
        items = scale_items or [c for c in out.columns if c not in {id, duration} | personal_marked
                                and pd.api.types.is_numeric_dtype(out[c])]
    items = list(items)
    for item in items:
        _need(out, item, "item")
    row_id = out[id] if id is not None else pd.Series(out.index, index=out.index)
    changes: list[dict[str, Any]] = []

    def recode(mask: pd.Series, column: str, rule: str) -> None:
        if mask.any():
            for idx in mask[mask].index:
                changes.append({"rule": rule, "row": row_id[idx], "variable": column,
                                "old": out.at[idx, column], "new": np.nan})
            out[column] = out[column].mask(mask)

    # 1-2: codes
    in_scale = {i: s for s in book.scales.values() for i in s.items}
    for column in out.columns:
        if column in personal_marked:
            continue
        var = book.get(column)
        if var.missing_values or var.missing_range is not None:
            recode(var.is_user_missing(out[column]) & out[column].notna(), column, "user_missing")
        numeric = pd.to_numeric(out[column], errors="coerce") if pd.api.types.is_numeric_dtype(out[column]) else None
        if numeric is None:
            continue
        bad = pd.Series(False, index=out.index)
        codes = _numeric_codes(var.value_labels) if var.value_labels else None
        missing_codes = {float(v) for v in var.missing_values if isinstance(v, int | float)}
        if column in in_scale:
            scale = in_scale[column]
            bad |= numeric.notna() & ((numeric < scale.low) | (numeric > scale.high))
        elif codes and codes - missing_codes:
            # labelled codes: off the list (nominal) or outside the labelled span (ordinal items
            # often label only the end points)
            valid = codes - missing_codes
            outside = (numeric < min(valid)) | (numeric > max(valid))
            bad |= numeric.notna() & (~numeric.isin(valid) if var.measure == "nominal" else outside)
        recode(bad, column, "out_of_range")

    dropped: list[dict[str, Any]] = []
    flagged: list[dict[str, Any]] = []

    def drop(mask: pd.Series, rule: str, detail: pd.Series | str) -> None:
        nonlocal out, row_id
        for idx in mask[mask].index:
            dropped.append({"row": row_id[idx], "rule": rule,
                            "detail": detail if isinstance(detail, str) else str(detail[idx])})
        out = out[~mask]
        row_id = row_id[~mask]

    # 3: duplicates
    if duplicates:
        if id is not None:
            drop(out[id].duplicated(keep="first") & out[id].notna(), "duplicate", "repeated id")
        if items:
            same = out[items].duplicated(keep="first") & out[items].notna().any(axis=1)
            drop(same, "duplicate", "same answers to every item as an earlier respondent")
    # 4: speeders
    if duration is not None and speed_rule:
        seconds = pd.to_numeric(out[duration], errors="coerce")
        limit = -np.inf
        if min_seconds is not None:
            limit = max(limit, float(min_seconds))
        if speed_fraction is not None:
            limit = max(limit, speed_fraction * float(seconds.median()))
        drop(seconds < limit, "speeder", seconds.map(lambda s: f"{s:g} s < {limit:g} s"))
    # 5: straight-lining
    if straightline is not None and items:
        answered = out[items].notna().sum(axis=1)
        flat = (out[items].nunique(axis=1) == 1) & (answered >= straightline)
        if drop_straightliners:
            drop(flat, "straightliner", answered.map(lambda k: f"same answer to all {k} items"))
        else:
            flagged += [{"row": row_id[i], "rule": "straightliner", "detail": "same answer to every item"}
                        for i in flat[flat].index]
    # 6: too many missing
    if max_missing is not None and items:
        share = out[items].isna().mean(axis=1)
        drop(share > max_missing, "too_many_missing", share.map(lambda s: f"{s:.0%} of items missing"))

    report = CleaningReport(
        changes=pd.DataFrame(changes, columns=["rule", "row", "variable", "old", "new"]),
        dropped=pd.DataFrame(dropped, columns=["row", "rule", "detail"]),
        flagged=pd.DataFrame(flagged, columns=["row", "rule", "detail"]),
        n_in=len(frame), n_out=len(out), personal=found,
        settings={"personal": personal, "id": id, "items": items, "duration": duration, "min_seconds": min_seconds,
                  "speed_fraction": speed_fraction, "straightline": straightline,
                  "drop_straightliners": drop_straightliners, "max_missing": max_missing,
                  "duplicates": duplicates})
    return SurveyData(out, book), report


def _scales_of(spec: Codebook | SurveyData | Mapping[str, Scale] | Sequence[Scale]) -> dict[str, Scale]:
    if isinstance(spec, SurveyData):
        return dict(spec.codebook.scales)
    if isinstance(spec, Codebook):
        return dict(spec.scales)
    if isinstance(spec, Mapping):
        return dict(spec)
    return {s.name: s for s in spec}


def score_scales(
    data: pd.DataFrame | SurveyData,
    scales: Codebook | Mapping[str, Scale] | Sequence[Scale] | None = None,
    *,
    method: Literal["mean", "sum"] | None = None,
    min_valid: int | None = None,
) -> pd.DataFrame:
    """Scale scores, one column per scale, indexed like the data.

    Reverse-keyed items are recoded low + high - x first. A respondent gets a score when at least
    `min_valid` items are answered (default: the scale's own `min_valid`, else all items; SPSS
    MEAN.n). A "sum" score with missing items is the mean times the number of items (prorated),
    so scores stay comparable. `attrs["unscored"]` counts respondents left without a score.
    """
    frame = data.data if isinstance(data, SurveyData) else data
    chosen = _scales_of(scales if scales is not None else data)  # type: ignore[arg-type]
    if not chosen:
        raise SurveyAnalysisError("score_scales: no scales given and the codebook defines none")
    if method not in (None, "mean", "sum"):
        raise SurveyAnalysisError(f"score_scales: method must be 'mean' or 'sum' (got {method!r})")
    scores: dict[str, pd.Series] = {}
    unscored: dict[str, int] = {}
    for name, scale in chosen.items():
        missing = [i for i in scale.items if i not in frame.columns]
        if missing:
            raise SurveyAnalysisError(f"score_scales: scale {name!r} names items not in the data: {missing}")
        block = frame[scale.items].apply(pd.to_numeric, errors="coerce")
        text = block.isna() & frame[scale.items].notna()
        if text.any().any():
            column = text.any().idxmax()
            raise SurveyAnalysisError(f"score_scales: item {column!r} of scale {name!r} holds non-numeric "
                                      f"answers (e.g. {frame.loc[text[column], column].iloc[0]!r})")
        for item in scale.reverse:
            block[item] = scale.low + scale.high - block[item]
        need = min_valid or scale.min_valid or len(scale.items)
        if not 1 <= need <= len(scale.items):
            raise SurveyAnalysisError(f"score_scales: min_valid must be 1..{len(scale.items)} for {name!r}")
        valid = block.notna().sum(axis=1)
        mean = block.mean(axis=1)
        how = method or scale.scoring
        score = mean * len(scale.items) if how == "sum" else mean
        scores[name] = score.where(valid >= need)
        unscored[name] = int((valid < need).sum())
    result = pd.DataFrame(scores, index=frame.index)
    result.attrs["unscored"] = unscored
    return result


__all__ = ["RULES", "CleaningReport", "clean", "score_scales"]
