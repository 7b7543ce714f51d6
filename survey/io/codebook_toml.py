"""Codebooks (编码簿) as TOML files: variables, multiple-response sets and scales.

    title = "公共服务满意度调查"

    [variables.q1]
    label = "对公共服务的总体满意度"
    measure = "ordinal"
    missing_values = [99]
    value_labels = { 1 = "非常不满意", 5 = "非常满意" }

    [variables.q3]
    label = "手机号"
    personal = true

    [mr_sets.Q6]
    label = "兴趣爱好"
    variables = ["Q6_1", "Q6_2"]
    counted_value = 1

    [scales.satisfaction]
    items = ["q1", "q2"]
    reverse = ["q2"]
    low = 1
    high = 5

Reading is strict: an unknown key, a value of the wrong type, or a scale or set naming a variable
the file does not declare is a `CodebookError` naming the file and the key.
Value labels are a table (numeric keys become numbers) or, for text codes that look like numbers,
an array `[{ value = "01", label = "..." }]`.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from survey.codebook import (
    MEASURE_LEVELS,
    Codebook,
    CodebookError,
    MultipleResponseSet,
    Scale,
    Variable,
)

_TOP_KEYS = {"title", "source", "variables", "mr_sets", "scales"}
_VARIABLE_KEYS = {
    "label",
    "value_labels",
    "missing_values",
    "missing_range",
    "measure",
    "personal",
    "question",
}
_MR_KEYS = {"label", "variables", "counted_value"}
_SCALE_KEYS = {"items", "reverse", "low", "high", "label", "scoring", "min_valid"}
_INTEGER = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?$")


# ----------------------------------------------------------------------------- writing


def _code_key(code: float | int | str) -> str:
    if isinstance(code, float) and code.is_integer():
        return str(int(code))
    return str(code)


def _looks_numeric(text: str) -> bool:
    return bool(_FLOAT.match(text.strip()))


def _number(value: float | int) -> float | int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _plain(value: Any) -> Any:
    """numpy scalars -> Python numbers, integral floats kept as floats unless stated."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    return value


def _variable_table(variable: Variable) -> dict[str, Any]:
    table: dict[str, Any] = {"label": variable.label}
    if variable.measure != "unknown":
        table["measure"] = variable.measure
    if variable.personal:
        table["personal"] = True
    if variable.question is not None:
        table["question"] = int(variable.question)
    if variable.missing_values:
        table["missing_values"] = [_missing_value(v) for v in variable.missing_values]
    if variable.missing_range is not None:
        low, high = variable.missing_range
        table["missing_range"] = [_number(float(low)), _number(float(high))]
    if variable.value_labels:
        codes = [_plain(c) for c in variable.value_labels]
        if any(isinstance(c, str) and _looks_numeric(c) for c in codes):
            table["value_labels"] = [
                {"value": _missing_value(code), "label": str(label)}
                for code, label in variable.value_labels.items()
            ]
        else:
            table["value_labels"] = {
                _code_key(_plain(c)): str(label) for c, label in variable.value_labels.items()
            }
    return table


def _missing_value(value: Any) -> float | int | str:
    value = _plain(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            raise CodebookError("a missing-value code is NaN; NaN is already missing")
        return _number(value)
    return value


def codebook_to_dict(codebook: Codebook) -> dict[str, Any]:
    """The codebook as plain TOML-ready data."""
    document: dict[str, Any] = {}
    if codebook.title:
        document["title"] = codebook.title
    if codebook.source:
        document["source"] = codebook.source
    document["variables"] = {name: _variable_table(v) for name, v in codebook.variables.items()}
    if codebook.mr_sets:
        document["mr_sets"] = {
            name: {
                "label": mr.label,
                "variables": list(mr.variables),
                "counted_value": _missing_value(mr.counted_value),
            }
            for name, mr in codebook.mr_sets.items()
        }
    if codebook.scales:
        scales = {}
        for name, scale in codebook.scales.items():
            table: dict[str, Any] = {
                "items": list(scale.items),
                "reverse": list(scale.reverse),
                "low": _number(_plain(scale.low)),
                "high": _number(_plain(scale.high)),
                "label": scale.label,
                "scoring": scale.scoring,
            }
            if scale.min_valid is not None:
                table["min_valid"] = int(scale.min_valid)
            scales[name] = table
        document["scales"] = scales
    return document


def write_codebook(codebook: Codebook, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write `codebook` to a TOML file (UTF-8) and return its path.

    Refuses to replace an existing file unless `overwrite=True`, and never replaces the data file
    the codebook was read from. Nothing is left on disk when writing fails.
    """
    from survey.io.writers import atomic_output, check_target

    if not isinstance(codebook, Codebook):
        raise CodebookError(f"write_codebook needs a Codebook, got {type(codebook).__name__}")
    target = Path(path).expanduser()
    if target.suffix.lower() != ".toml":
        raise CodebookError(f"{target}: a codebook file must end in .toml")
    check_target(target, overwrite=overwrite, source=codebook.source, error=CodebookError)
    text = tomli_w.dumps(codebook_to_dict(codebook))
    with atomic_output(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return target


# ----------------------------------------------------------------------------- reading


class _Reader:
    """Strict reading with errors that name the file and the key path."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, key: str, message: str) -> CodebookError:
        return CodebookError(f"{self.file}: {key}: {message}")

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, got {_type(value)}")
        return value

    def keys(self, table: dict[str, Any], allowed: set[str], key: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            where = f"{key}." if key else ""
            raise self.fail(
                f"{where}{unknown[0]}", f"unknown key (allowed here: {', '.join(sorted(allowed))})"
            )

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, got {_type(value)}")
        return value

    def number(self, value: Any, key: str) -> float | int:
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.fail(key, f"must be a number, got {_type(value)}")
        return value

    def integer(self, value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be an integer, got {_type(value)}")
        return value

    def names(self, value: Any, key: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(
                key, f"must be an array of variable names (strings), got {_type(value)}"
            )
        repeated = sorted({v for v in value if value.count(v) > 1})
        if repeated:
            raise self.fail(key, f"names {repeated} more than once")
        return list(value)

    def code(self, value: Any, key: str) -> float | int | str:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(key, f"must be a number or a string, got {_type(value)}")
        return value

    def value_labels(self, value: Any, key: str) -> dict[float | int | str, str]:
        labels: dict[float | int | str, str] = {}
        if isinstance(value, dict):
            for code, label in value.items():
                labels[_parse_code(code)] = self.text(label, f"{key}.{code}")
            return labels
        if isinstance(value, list):
            for position, entry in enumerate(value):
                where = f"{key}[{position}]"
                entry = self.table(entry, where)
                self.keys(entry, {"value", "label"}, where)
                if "value" not in entry or "label" not in entry:
                    raise self.fail(where, "needs both 'value' and 'label'")
                labels[self.code(entry["value"], f"{where}.value")] = self.text(
                    entry["label"], f"{where}.label"
                )
            return labels
        raise self.fail(
            key,
            f'must be a table {{ 1 = "label" }} or an array of {{ value, label }}, got {_type(value)}',
        )

    def variable(self, name: str, table: Any) -> Variable:
        key = f"variables.{name}"
        table = self.table(table, key)
        self.keys(table, _VARIABLE_KEYS, key)
        measure = self.text(table.get("measure", "unknown"), f"{key}.measure")
        if measure not in MEASURE_LEVELS:
            raise self.fail(f"{key}.measure", f"{measure!r} is not one of {list(MEASURE_LEVELS)}")
        personal = table.get("personal", False)
        if not isinstance(personal, bool):
            raise self.fail(f"{key}.personal", f"must be true or false, got {_type(personal)}")
        missing = table.get("missing_values", [])
        if not isinstance(missing, list):
            raise self.fail(f"{key}.missing_values", f"must be an array, got {_type(missing)}")
        missing_values = [self.code(v, f"{key}.missing_values[{i}]") for i, v in enumerate(missing)]
        missing_range = None
        if "missing_range" in table:
            span = table["missing_range"]
            if not isinstance(span, list) or len(span) != 2:
                raise self.fail(f"{key}.missing_range", "must be an array [low, high]")
            low = self.number(span[0], f"{key}.missing_range[0]")
            high = self.number(span[1], f"{key}.missing_range[1]")
            if low > high:
                raise self.fail(f"{key}.missing_range", f"low ({low}) is above high ({high})")
            missing_range = (float(low), float(high))
        question = table.get("question")
        return Variable(
            name=name,
            label=self.text(table.get("label", ""), f"{key}.label"),
            value_labels=self.value_labels(table["value_labels"], f"{key}.value_labels")
            if "value_labels" in table
            else {},
            missing_values=missing_values,
            missing_range=missing_range,
            measure=measure,  # type: ignore[arg-type]
            personal=personal,
            question=None if question is None else self.integer(question, f"{key}.question"),
        )

    def mr_set(self, name: str, table: Any, declared: set[str]) -> MultipleResponseSet:
        key = f"mr_sets.{name}"
        table = self.table(table, key)
        self.keys(table, _MR_KEYS, key)
        if "variables" not in table:
            raise self.fail(key, "needs 'variables'")
        variables = self.names(table["variables"], f"{key}.variables")
        if not variables:
            raise self.fail(f"{key}.variables", "is empty")
        self.declared(variables, declared, f"{key}.variables")
        return MultipleResponseSet(
            name=name,
            label=self.text(table.get("label", ""), f"{key}.label"),
            variables=variables,
            counted_value=self.code(table.get("counted_value", 1), f"{key}.counted_value"),
        )

    def scale(self, name: str, table: Any, declared: set[str]) -> Scale:
        key = f"scales.{name}"
        table = self.table(table, key)
        self.keys(table, _SCALE_KEYS, key)
        if "items" not in table:
            raise self.fail(key, "needs 'items'")
        items = self.names(table["items"], f"{key}.items")
        if not items:
            raise self.fail(f"{key}.items", "is empty")
        self.declared(items, declared, f"{key}.items")
        reverse = self.names(table.get("reverse", []), f"{key}.reverse")
        outside = [r for r in reverse if r not in items]
        if outside:
            raise self.fail(f"{key}.reverse", f"{outside} are not among the scale's items {items}")
        low = self.number(table.get("low", 1), f"{key}.low")
        high = self.number(table.get("high", 5), f"{key}.high")
        if not low < high:
            raise self.fail(key, f"low ({low}) must be below high ({high})")
        scoring = self.text(table.get("scoring", "mean"), f"{key}.scoring")
        if scoring not in ("mean", "sum"):
            raise self.fail(f"{key}.scoring", f"must be 'mean' or 'sum', got {scoring!r}")
        min_valid = table.get("min_valid")
        if min_valid is not None:
            min_valid = self.integer(min_valid, f"{key}.min_valid")
            if not 1 <= min_valid <= len(items):
                raise self.fail(
                    f"{key}.min_valid", f"must be between 1 and {len(items)}, got {min_valid}"
                )
        return Scale(
            name=name,
            items=items,
            reverse=reverse,
            low=low,
            high=high,
            label=self.text(table.get("label", ""), f"{key}.label"),
            scoring=scoring,  # type: ignore[arg-type]
            min_valid=min_valid,
        )

    def declared(self, names: list[str], declared: set[str], key: str) -> None:
        missing = [n for n in names if n not in declared]
        if missing:
            raise self.fail(key, f"names variables not declared under [variables]: {missing}")


def _type(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _parse_code(text: str) -> float | int | str:
    stripped = text.strip()
    if _INTEGER.match(stripped):
        return int(stripped)
    if _FLOAT.match(stripped):
        number = float(stripped)
        return int(number) if number.is_integer() else number
    return text


def codebook_from_dict(document: dict[str, Any], file: Path | str = "<codebook>") -> Codebook:
    """A Codebook from parsed TOML data, checked strictly (errors name `file` and the key)."""
    reader = _Reader(Path(file))
    reader.table(document, "(top level)")
    reader.keys(document, _TOP_KEYS, "")
    variables_table = reader.table(document.get("variables", {}), "variables")
    codebook = Codebook(
        title=reader.text(document.get("title", ""), "title"),
        source=reader.text(document.get("source", ""), "source"),
    )
    for name, table in variables_table.items():
        codebook.add(reader.variable(name, table))
    declared = set(codebook.variables)
    for name, table in reader.table(document.get("mr_sets", {}), "mr_sets").items():
        codebook.mr_sets[name] = reader.mr_set(name, table, declared)
    for name, table in reader.table(document.get("scales", {}), "scales").items():
        codebook.scales[name] = reader.scale(name, table, declared)
    return codebook


def read_codebook(path: str | Path) -> Codebook:
    """Read a codebook TOML file strictly.

    Raises:
        CodebookError: the file is missing or not TOML, or it has an unknown key, a value of
            the wrong type, or a scale / multiple-response set naming an undeclared variable;
            the message names the file and the key.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise CodebookError(f"{file}: no such codebook file")
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as error:
        raise CodebookError(
            f"{file}: a codebook must be UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise CodebookError(f"{file}: not valid TOML ({error})") from None
    return codebook_from_dict(document, file)
