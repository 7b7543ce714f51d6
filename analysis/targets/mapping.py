"""From a real questionnaire to targets: a mapping onto the instrument, weights, and the moments.

A real questionnaire rarely uses the instrument's names or codes. A **mapping TOML** says which
data column answers each instrument variable and how its codes translate; it is checked strictly
against the data's codebook before anything is computed. Schema::

    [mapping]
    instrument = "haochaping"       # the instrument mapped onto (default haochaping)
    dataset = "..."                 # optional text: what data the mapping is for
    description = "..."             # optional text

    [variables.channel]             # an instrument variable
    column = "channel"              # the data column that answers it (required)
    recode = { 1 = "online", 2 = "hall", 3 = "station", 4 = "proxy" }  # data code -> instrument code
    note = "..."                    # optional text (e.g. an approximation made)

    [variables.age_band]
    column = "age"                  # a numeric column ...
    cuts = [40, 60]                 # ... cut into the instrument's codes in order: < 40, 40-59, >= 60

    [variables.online_overall]
    column = "OL1"                  # answers already on the instrument's codes: no recode
    only_if = { channel = ["online"] }  # skip logic: missing unless the condition holds

Rules: every recode key must be a code of the column in the codebook (or, when the codebook has
no value labels there, a value in the data); every value in the data (user-missing codes aside)
must be recoded, cut, or already an instrument code; recode values and `only_if` codes must be
codes of the instrument. A margins TOML for raking has a `[margins.VARIABLE]` table of population
shares or totals per level (VARIABLE an instrument variable of the mapping, levels in instrument
codes; or a data column, levels in its codes) and an optional `source` text.

The mapping of the shipped example questionnaire (`survey.load_example()`) is
`scenarios/calibration/mappings/gov_services_satisfaction.toml` (`EXAMPLE_MAPPING`).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.targets.defaults import questionnaire_moments
from analysis.targets.moments import moments
from analysis.targets.spec import INSTRUMENT, Moment, Target, TargetError, TargetSet, _same_code

if TYPE_CHECKING:
    from survey import SurveyData

EXAMPLE_MAPPING = Path(__file__).resolve().parents[2] / "scenarios" / "calibration" / "mappings" / \
    "gov_services_satisfaction.toml"
_VARIABLE_KEYS = {"column", "recode", "cuts", "only_if", "note"}


def _read(path: Path, what: str) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise TargetError(f"{path}: no such {what} file") from None
    except tomllib.TOMLDecodeError as error:
        raise TargetError(f"{path}: not valid TOML: {error}") from None


def _key(value: object) -> str:
    """A data value as a TOML key: whole numbers without a decimal point."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def _code_for_key(key: str, codes: Any) -> object | None:
    for code in codes:
        if _key(code) == key:
            return code
    return None


@dataclass(frozen=True)
class VariableMap:
    """How one instrument variable is read from the data."""

    variable: str
    column: str
    recode: dict[str, Any] = field(default_factory=dict)
    cuts: tuple[float, ...] = ()
    only_if: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class QuestionnaireMapping:
    """Instrument variable -> data column, with recodes, cut-offs and skip logic (see the module)."""

    variables: dict[str, VariableMap]
    instrument: str = INSTRUMENT
    source: str = "<mapping>"
    meta: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> QuestionnaireMapping:
        """Read a mapping TOML strictly against the instrument (the data is checked by `check`)."""
        from survey.instruments import list_instruments, load_instrument

        path = Path(path)
        data = _read(path, "mapping")
        where = str(path)
        unknown = sorted(set(data) - {"mapping", "variables"})
        if unknown:
            raise TargetError(f"{where}: {unknown[0]}: unknown top-level key; allowed: mapping, variables")
        meta = data.get("mapping", {})
        bad = sorted(set(meta) - {"instrument", "dataset", "description"})
        if bad:
            raise TargetError(f"{where}: mapping.{bad[0]}: unknown key; allowed: dataset, description, instrument")
        for key, value in meta.items():
            if not isinstance(value, str):
                raise TargetError(f"{where}: mapping.{key}: must be text (got {value!r})")
        instrument = meta.get("instrument", INSTRUMENT)
        if instrument not in list_instruments():
            raise TargetError(f"{where}: mapping.instrument: no instrument {instrument!r}; "
                              f"available: {list_instruments()}")
        book = load_instrument(instrument)
        tables = data.get("variables", {})
        if not isinstance(tables, Mapping) or not tables:
            raise TargetError(f"{where}: variables: give one [variables.NAME] table per instrument variable")
        out: dict[str, VariableMap] = {}
        for name, raw in tables.items():
            at = f"{where}: variables.{name}"
            if name not in book.variables:
                raise TargetError(f"{at}: {name!r} is not a variable of instrument {instrument!r}; "
                                  f"allowed: {', '.join(book.variables)}")
            if not isinstance(raw, Mapping):
                raise TargetError(f"{at}: must be a table with at least column = \"...\"")
            extra = sorted(set(raw) - _VARIABLE_KEYS)
            if extra:
                raise TargetError(f"{at}.{extra[0]}: unknown key; allowed: {', '.join(sorted(_VARIABLE_KEYS))}")
            if not isinstance(raw.get("column"), str) or not raw["column"]:
                raise TargetError(f"{at}.column: the data column answering {name!r} is required (text)")
            codes = list(book.variables[name].value_labels)
            recode = raw.get("recode", {})
            if not isinstance(recode, Mapping):
                raise TargetError(f"{at}.recode: must be a table of data code = instrument code")
            checked: dict[str, Any] = {}
            for key, value in recode.items():
                if codes:
                    code = _same_code(value, codes)
                    if code is None:
                        raise TargetError(f"{at}.recode.{key}: {value!r} is not a code of {name!r}; allowed: {codes}")
                    value = code
                elif not (isinstance(value, int | float) and not isinstance(value, bool)):
                    raise TargetError(f"{at}.recode.{key}: {name!r} takes numbers (got {value!r})")
                checked[key] = value
            cuts = raw.get("cuts", [])
            if cuts:
                if recode:
                    raise TargetError(f"{at}.cuts: give recode or cuts, not both")
                if not codes:
                    raise TargetError(f"{at}.cuts: {name!r} has no codes to cut into")
                ok = isinstance(cuts, list) and all(isinstance(c, int | float) and not isinstance(c, bool) for c in cuts)
                if not ok or len(cuts) != len(codes) - 1 or any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
                    raise TargetError(f"{at}.cuts: need {len(codes) - 1} increasing numbers splitting the column "
                                      f"into {codes} (got {cuts!r})")
            only_if = raw.get("only_if", {})
            if not isinstance(only_if, Mapping):
                raise TargetError(f"{at}.only_if: must be a table such as {{ channel = [\"online\"] }}")
            conditions: dict[str, tuple[Any, ...]] = {}
            for other, allowed in only_if.items():
                if other not in tables:
                    raise TargetError(f"{at}.only_if.{other}: not a variable of this mapping")
                other_codes = list(book.variables[other].value_labels)
                values = allowed if isinstance(allowed, list) else [allowed]
                found = [_same_code(v, other_codes) for v in values]
                if not values or any(f is None for f in found):
                    raise TargetError(f"{at}.only_if.{other}: {allowed!r} are not codes of {other!r}; "
                                      f"allowed: {other_codes}")
                conditions[other] = tuple(found)
            note = raw.get("note", "")
            if not isinstance(note, str):
                raise TargetError(f"{at}.note: must be text")
            out[name] = VariableMap(name, raw["column"], checked, tuple(float(c) for c in cuts), conditions, note)
        return cls(out, instrument, where, dict(meta))

    def check(self, data: SurveyData) -> None:
        """Refuse a mapping that does not fit the data: an unknown column, a recode of a value the
        codebook does not have, data values neither recoded nor instrument codes."""
        from survey.instruments import load_instrument

        book = load_instrument(self.instrument)
        frame, codebook = data.data, data.codebook
        for name, vm in self.variables.items():
            at = f"{self.source}: variables.{name}"
            if vm.column not in frame.columns:
                raise TargetError(f"{at}.column: no column {vm.column!r} in the data; "
                                  f"columns: {list(map(str, frame.columns))}")
            variable = codebook.variables.get(vm.column)
            missing = set(map(_key, variable.missing_values)) if variable else set()
            present = {_key(v) for v in frame[vm.column].dropna().unique()} - missing
            known = ({_key(c) for c in variable.value_labels} - missing) if variable and variable.value_labels else present
            for key in vm.recode:
                if key not in known:
                    raise TargetError(f"{at}.recode.{key}: column {vm.column!r} has no code {key} in the codebook; "
                                      f"its codes: {sorted(known)}")
            codes = list(book.variables[name].value_labels)
            if vm.cuts:
                numbers = pd.to_numeric(frame[vm.column], errors="coerce")
                if (numbers.isna() & frame[vm.column].notna()).any():
                    raise TargetError(f"{at}.cuts: column {vm.column!r} is not numeric; cut-offs need numbers")
                continue
            if vm.recode:
                left = sorted(present - set(vm.recode))
                if left:
                    raise TargetError(f"{at}.recode: values {left} of column {vm.column!r} are not recoded; "
                                      f"recode every code (user-missing codes aside)")
            elif codes:
                allowed = {_key(c) for c in codes}
                stray = sorted(present - allowed)
                if stray:
                    raise TargetError(f"{at}: column {vm.column!r} holds {stray}, not codes of {name!r} "
                                      f"({sorted(allowed)}); add recode = {{ ... }}")
            else:
                numbers = pd.to_numeric(frame[vm.column], errors="coerce")
                if (numbers.isna() & frame[vm.column].notna()).any():
                    raise TargetError(f"{at}: column {vm.column!r} holds text; {name!r} takes numbers")

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The data in the instrument's columns (mapped variables only), indexed like `frame`."""
        from survey.instruments import load_instrument

        book = load_instrument(self.instrument)
        out = pd.DataFrame(index=frame.index)
        for name, vm in self.variables.items():
            column = frame[vm.column]
            codes = list(book.variables[name].value_labels)
            if vm.cuts:
                numbers = pd.to_numeric(column, errors="coerce").to_numpy(float)
                position = np.searchsorted(np.asarray(vm.cuts), numbers, side="right")
                values = pd.Series(np.asarray(codes, dtype=object)[np.minimum(position, len(codes) - 1)],
                                   index=frame.index).where(~np.isnan(numbers))
            elif vm.recode:
                values = column.map(lambda v, r=vm.recode: r.get(_key(v), np.nan) if pd.notna(v) else np.nan)
            elif codes and all(isinstance(c, str) for c in codes):
                values = column.map(lambda v, c=codes: _code_for_key(_key(v), c) if pd.notna(v) else np.nan)
            else:
                values = pd.to_numeric(column, errors="coerce")
            if codes and all(isinstance(c, int | float) for c in codes) or not codes:
                values = pd.to_numeric(values, errors="coerce")
            out[name] = values
        for name, vm in self.variables.items():
            keep = pd.Series(True, index=frame.index)
            for other, allowed in vm.only_if.items():
                keep &= out[other].isin(list(allowed))
            out[name] = out[name].where(keep)
        return out

    def available(self, moments_: Mapping[str, Moment]) -> tuple[dict[str, Moment], list[str]]:
        """The moments the mapped variables can compute, and the names of the others."""
        from survey.instruments import load_instrument

        book = load_instrument(self.instrument)
        mapped = set(self.variables)
        ok: dict[str, Moment] = {}
        left: list[str] = []
        for name, m in moments_.items():
            needs = {k for k, _ in m.subgroup}
            if m.is_kpi:
                left.append(name)
                continue
            if m.statistic == "share_channel":
                needs.add("channel")
            elif m.scale:
                needs |= set(book.scales[m.scale].items)
            else:
                needs.add(str(m.item))
            (ok.__setitem__(name, m) if needs <= mapped else left.append(name))
        return ok, left


@dataclass(frozen=True)
class Margins:
    """Population margins for raking: {variable: {level: share or total}}, with their source."""

    margins: dict[str, dict[str, float]]
    source: str = ""
    path: str = "<margins>"

    @classmethod
    def load(cls, path: str | Path) -> Margins:
        path = Path(path)
        data = _read(path, "margins")
        unknown = sorted(set(data) - {"margins", "source"})
        if unknown:
            raise TargetError(f"{path}: {unknown[0]}: unknown top-level key; allowed: margins, source")
        if "source" in data and not isinstance(data["source"], str):
            raise TargetError(f"{path}: source: must be text")
        tables = data.get("margins")
        if not isinstance(tables, Mapping) or not tables:
            raise TargetError(f"{path}: margins: give one [margins.VARIABLE] table of level = share")
        out: dict[str, dict[str, float]] = {}
        for name, levels in tables.items():
            if not isinstance(levels, Mapping) or not levels:
                raise TargetError(f"{path}: margins.{name}: must be a table of level = share or total")
            for level, value in levels.items():
                if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                    raise TargetError(f"{path}: margins.{name}.{level}: must be a number >= 0 (got {value!r})")
            out[name] = {str(k): float(v) for k, v in levels.items()}
        return cls(out, data.get("source", ""), str(path))

    def frame_and_figures(self, instrument_frame: pd.DataFrame, data: SurveyData,
                          mapping: QuestionnaireMapping) -> tuple[pd.DataFrame, dict[str, dict[Any, float]]]:
        """The raking columns (instrument variables, or data columns) and figures keyed by their codes."""
        from survey.instruments import load_instrument

        book = load_instrument(mapping.instrument)
        columns: dict[str, pd.Series] = {}
        figures: dict[str, dict[Any, float]] = {}
        for name, levels in self.margins.items():
            if name in mapping.variables:
                series = instrument_frame[name]
                codes = list(book.variables[name].value_labels) or list(series.dropna().unique())
            elif name in data.data.columns:
                series = data.data[name]
                variable = data.codebook.variables.get(name)
                codes = list(variable.value_labels) if variable and variable.value_labels else list(series.dropna().unique())
                if variable:
                    codes = [c for c in codes if _key(c) not in set(map(_key, variable.missing_values))]
            else:
                raise TargetError(f"{self.path}: margins.{name}: neither a variable of the mapping "
                                  f"({', '.join(mapping.variables)}) nor a column of the data")
            cell: dict[Any, float] = {}
            for level, value in levels.items():
                code = _code_for_key(level, codes)
                if code is None:
                    raise TargetError(f"{self.path}: margins.{name}.{level}: not a level of {name!r}; "
                                      f"levels: {[_key(c) for c in codes]}")
                cell[code] = value
            present = series.dropna()
            columns[name] = series.map(lambda v, c=codes: _code_for_key(_key(v), c) if pd.notna(v) else None)
            if len(present) < len(series):
                raise TargetError(f"{self.path}: margins.{name}: {len(series) - len(present)} respondents have no "
                                  f"value of {name!r}; raking needs it for everyone (impute or drop them first)")
            figures[name] = cell
        return pd.DataFrame(columns, index=instrument_frame.index), figures


def survey_targets(data: SurveyData, mapping: QuestionnaireMapping, *, weights: str | None = None,
                   margins: Margins | None = None, definitions: Mapping[str, Moment] | None = None,
                   source: str = "", role: str = "calibrate") -> tuple[TargetSet, list[str]]:
    """Targets from a real questionnaire: mapped onto the instrument, weighted, with design-based SEs.

    Weights: a data column (`weights`), or raking to population `margins` (survey.rake, R's
    survey::rake); none gives equal weights. Values, SEs (R's svymean linearization on a
    weights-only design) and Kish effective n come from `moments`, the same function that reads
    simulated respondents.

    Returns:
        The TargetSet and notes (moments the mapping cannot compute, moments without spread).
    """
    from survey.errors import SurveyAnalysisError
    from survey.weighting import rake

    if weights is not None and margins is not None:
        raise TargetError("give a weight column or margins to rake to, not both")
    mapping.check(data)
    frame = mapping.apply(data.data)
    how = "equal weights"
    w = None
    if weights is not None:
        if weights not in data.data.columns:
            raise TargetError(f"weights: no column {weights!r} in the data; columns: {list(map(str, data.data.columns))}")
        w = pd.to_numeric(data.data[weights], errors="coerce").to_numpy(float)
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise TargetError(f"weights: column {weights!r} must hold non-negative numbers, none missing")
        how = f"weights from column {weights!r}"
    elif margins is not None:
        rake_frame, figures = margins.frame_and_figures(frame, data, mapping)
        try:
            result = rake(rake_frame, figures)
        except SurveyAnalysisError as error:
            raise TargetError(f"{margins.path}: {error}") from None
        w = result.weights.to_numpy(float)
        how = (f"raked to {', '.join(margins.margins)} ({margins.source or margins.path}); "
               f"Kish design effect {result.design_effect:.3f}")
    chosen, left = mapping.available(definitions if definitions is not None else questionnaire_moments(mapping.instrument))
    notes = [f"{name}: not computed (the mapping has no column for it)" for name in left]
    table = moments(frame, chosen, w, instrument=mapping.instrument)
    provenance = source or f"{data.codebook.source or 'questionnaire'} via {mapping.source}"
    targets: dict[str, Target] = {}
    for row in table.itertuples(index=False):
        if not (math.isfinite(row.value) and math.isfinite(row.se) and row.se > 0):
            notes.append(f"{row.name}: left out ({'no respondent' if row.n == 0 else 'no spread, so no usable SE'})")
            continue
        targets[row.name] = Target(name=row.name, moment=chosen[row.name], value=float(row.value),
                                   se=float(row.se), n=int(row.n), n_eff=float(row.n_eff),
                                   source=f"{provenance}; {how}", role=role,
                                   se_note="design-based SE (linearization, R survey::svymean with weights only)")
    meta = {"instrument": mapping.instrument, "source": provenance}
    return TargetSet(targets, meta), notes
