"""Target files: strict reading and writing of `[targets.NAME]` tables (schema in `analysis.targets`)."""

from __future__ import annotations

import math
import os
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import tomli_w

from simulation.kpis import KPI_LABELS, KPI_NAMES
from survey.io.files import ordinary_file_mode

STATISTICS = ("mean", "share_at_least", "share_at_most", "share_channel")
ROLES = ("calibrate", "validate")
DEFAULT_THRESHOLD = 4
INSTRUMENT = "haochaping"
SUBGROUP_KEYS = ("age_band", "rural", "enterprise", "channel")
# instrument variables that are answers (numeric) rather than identifiers or categories
NUMERIC_MEASURES = ("ordinal", "scale")

_TARGET_KEYS = {"kpi", "statistic", "item", "scale", "threshold", "channel", "subgroup", "value", "se",
                "n", "n_eff", "source", "role", "description", "se_note"}
_META_KEYS = {"title", "description", "scenario", "countermeasures", "instrument", "source"}


class TargetError(ValueError):
    """A target file or definition is invalid; the message names the file, the key and what is allowed."""


@dataclass(frozen=True)
class Instrument:
    """What a target may refer to in a questionnaire instrument: answer items, scales, categories."""

    name: str
    items: tuple[str, ...]
    scales: dict[str, Any]
    codes: dict[str, tuple[Any, ...]]  # subgroup variable -> its codes


@cache
def instrument_info(name: str = INSTRUMENT) -> Instrument:
    """The items, scales and subgroup codes of a shipped instrument."""
    from survey.instruments import list_instruments, load_instrument

    if name not in list_instruments():
        raise TargetError(f"no instrument {name!r}; available: {list_instruments()}")
    book = load_instrument(name)
    items = tuple(v.name for v in book.variables.values()
                  if v.measure in NUMERIC_MEASURES and v.name not in SUBGROUP_KEYS
                  and (not v.value_labels or all(isinstance(k, int | float) for k in v.value_labels)))
    codes = {k: tuple(book.variables[k].value_labels) for k in SUBGROUP_KEYS if k in book.variables}
    return Instrument(name, items, dict(book.scales), codes)


@dataclass(frozen=True)
class Moment:
    """The definition of a target: a KPI of the model's `kpis.json`, or a questionnaire moment.

    Questionnaire moments: `mean` of an item or scale score; `share_at_least` (share answering
    >= threshold, default 4) and `share_at_most` (<= threshold) on an item or scale score;
    `share_channel` (share whose case went through `channel`). `subgroup` restricts any of them to
    respondents with the given values, e.g. (("age_band", "60+"),).
    """

    kpi: str | None = None
    statistic: str | None = None
    item: str | None = None
    scale: str | None = None
    threshold: float | None = None
    channel: str | None = None
    subgroup: tuple[tuple[str, Any], ...] = ()

    @property
    def is_kpi(self) -> bool:
        return self.kpi is not None

    @property
    def variable(self) -> str | None:
        """The item or scale the moment is computed on (None for KPIs and channel shares)."""
        return self.item or self.scale

    def describe(self) -> str:
        """The definition in words, e.g. "share answering >= 4 on online_overall, age_band = 60+"."""
        if self.kpi is not None:
            return f"KPI {self.kpi} ({KPI_LABELS.get(self.kpi, ('', self.kpi))[1]})"
        what = f"scale {self.scale} (mean score)" if self.scale else str(self.item)
        text = {
            "mean": f"mean of {what}",
            "share_at_least": f"share answering >= {_num(self.threshold)} on {what}",
            "share_at_most": f"share answering <= {_num(self.threshold)} on {what}",
            "share_channel": f"share using the {self.channel} channel",
        }[str(self.statistic)]
        if self.subgroup:
            text += ", among " + " and ".join(f"{k} = {v}" for k, v in self.subgroup)
        return text

    def to_toml(self) -> dict[str, Any]:
        if self.kpi is not None:
            return {"kpi": self.kpi}
        out: dict[str, Any] = {"statistic": self.statistic}
        for key in ("item", "scale", "channel"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.threshold is not None:
            out["threshold"] = _num(self.threshold)
        if self.subgroup:
            out["subgroup"] = dict(self.subgroup)
        return out


@dataclass(frozen=True)
class Target:
    """A named moment with its observed value, standard error, n, provenance and role."""

    name: str
    moment: Moment
    value: float
    se: float
    source: str
    role: str = "calibrate"
    n: int | None = None
    n_eff: float | None = None
    description: str = ""
    se_note: str = ""

    @property
    def bounds(self) -> tuple[float, float]:
        """The range the moment can take: [0, 1] for shares and rates, [1, 5] for mean
        satisfaction, [0, inf) for counts, minutes, days and hours, unbounded for gaps and item
        means. A posterior-predictive draw (simulated value plus sampling error) is kept in it."""
        m = self.moment
        if m.statistic is not None:
            return (0.0, 1.0) if m.statistic.startswith("share") else (-math.inf, math.inf)
        kpi = m.kpi or ""
        if "gap" in kpi:
            return (-math.inf, math.inf)
        if kpi == "satisfaction_mean":
            return (1.0, 5.0)
        if any(word in kpi for word in ("share", "rate", "participation", "utilisation")):
            return (0.0, 1.0)
        return (0.0, math.inf)

    def to_toml(self) -> dict[str, Any]:
        out = {**self.moment.to_toml(), "value": self.value, "se": self.se}
        if self.n is not None:
            out["n"] = self.n
        if self.n_eff is not None:
            out["n_eff"] = round(self.n_eff, 3)
        out.update({"source": self.source, "role": self.role})
        if self.description:
            out["description"] = self.description
        if self.se_note:
            out["se_note"] = self.se_note
        return out


@dataclass(frozen=True)
class TargetSet:
    """Targets by name, with the file's `[meta]` (scenario, countermeasures, instrument, ...)."""

    targets: dict[str, Target]
    meta: dict[str, Any] = field(default_factory=dict)

    def __iter__(self):
        return iter(self.targets.values())

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, name: str) -> Target:
        return self.targets[name]

    @property
    def instrument(self) -> str:
        return str(self.meta.get("instrument", INSTRUMENT))

    def with_role(self, role: str) -> TargetSet:
        """The targets of one role ("calibrate" or "validate")."""
        if role not in ROLES:
            raise TargetError(f"role must be one of {list(ROLES)} (got {role!r})")
        return TargetSet({k: t for k, t in self.targets.items() if t.role == role}, dict(self.meta))

    def observed(self, role: str | None = None) -> dict[str, tuple[float, float]]:
        """{name: (value, se)}, the observed side of a calibration; all roles unless `role` is given."""
        chosen = self if role is None else self.with_role(role)
        return {t.name: (t.value, t.se) for t in chosen}

    def moments(self) -> dict[str, Moment]:
        """{name: definition}."""
        return {t.name: t.moment for t in self}


# ----------------------------------------------------------------------------- checking


def _num(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_code(value: object, codes: Iterable[object]) -> object | None:
    """The code among `codes` that `value` denotes (numbers equal as numbers, text as text), or None."""
    for code in codes:
        if _is_number(code) and _is_number(value) and float(code) == float(value):  # type: ignore[arg-type]
            return code
        if isinstance(code, str) and isinstance(value, str) and code == value:
            return code
    return None


def check_moment(raw: Mapping[str, Any], where: str, instrument: str = INSTRUMENT) -> Moment:
    """A `Moment` from a target table's definition keys; `where` prefixes every error."""
    kpi, statistic = raw.get("kpi"), raw.get("statistic")
    if (kpi is None) == (statistic is None):
        raise TargetError(f"{where}: give exactly one of kpi (a model KPI) or statistic "
                          f"(a questionnaire moment: {', '.join(STATISTICS)})")
    if kpi is not None:
        extra = sorted({"item", "scale", "threshold", "channel", "subgroup"} & set(raw))
        if extra:
            raise TargetError(f"{where}.{extra[0]}: a KPI target takes no {extra[0]}; KPIs are whole-run figures")
        if kpi not in KPI_NAMES:
            raise TargetError(f"{where}.kpi: unknown KPI {kpi!r}; allowed: {', '.join(KPI_NAMES)}")
        return Moment(kpi=kpi)
    if statistic not in STATISTICS:
        raise TargetError(f"{where}.statistic: unknown statistic {statistic!r}; allowed: {', '.join(STATISTICS)}")
    info = instrument_info(instrument)
    item, scale, channel, threshold = raw.get("item"), raw.get("scale"), raw.get("channel"), raw.get("threshold")
    if statistic == "share_channel":
        for key in ("item", "scale", "threshold"):
            if key in raw:
                raise TargetError(f"{where}.{key}: statistic 'share_channel' takes a channel, not {key}")
        code = _same_code(channel, info.codes["channel"])
        if code is None:
            raise TargetError(f"{where}.channel: unknown channel {channel!r}; allowed: {list(info.codes['channel'])}")
        channel = code
    else:
        if "channel" in raw:
            raise TargetError(f"{where}.channel: only statistic 'share_channel' takes a channel")
        if (item is None) == (scale is None):
            raise TargetError(f"{where}: statistic {statistic!r} needs exactly one of item or scale")
        if item is not None and item not in info.items:
            raise TargetError(f"{where}.item: unknown item {item!r} of instrument {instrument!r}; "
                              f"allowed: {', '.join(info.items)}")
        if scale is not None and scale not in info.scales:
            raise TargetError(f"{where}.scale: unknown scale {scale!r} of instrument {instrument!r}; "
                              f"allowed: {', '.join(info.scales)}")
        if statistic == "mean" and threshold is not None:
            raise TargetError(f"{where}.threshold: statistic 'mean' takes no threshold")
        if statistic == "share_at_least" and threshold is None:
            threshold = DEFAULT_THRESHOLD
        if statistic == "share_at_most" and threshold is None:
            raise TargetError(f"{where}.threshold: statistic 'share_at_most' needs a threshold (share answering <= it)")
        if threshold is not None and (not _is_number(threshold) or not math.isfinite(threshold)):
            raise TargetError(f"{where}.threshold: must be a number (got {threshold!r})")
    subgroup = raw.get("subgroup", {})
    if not isinstance(subgroup, Mapping):
        raise TargetError(f"{where}.subgroup: must be a table such as {{ age_band = \"60+\" }} (got {subgroup!r})")
    pairs = []
    for key, value in subgroup.items():
        if key not in info.codes:
            raise TargetError(f"{where}.subgroup.{key}: unknown subgroup variable; allowed: {', '.join(info.codes)}")
        code = _same_code(value, info.codes[key])
        if code is None:
            raise TargetError(f"{where}.subgroup.{key}: value {value!r} is not a code of {key}; "
                              f"allowed: {list(info.codes[key])}")
        pairs.append((key, code))
    return Moment(statistic=statistic, item=item, scale=scale,
                  threshold=None if threshold is None else float(threshold), channel=channel,
                  subgroup=tuple(pairs))


def check_target(name: str, raw: Any, where: str, instrument: str = INSTRUMENT) -> Target:
    """A `Target` from one `[targets.NAME]` table, checked strictly."""
    if not isinstance(raw, Mapping):
        raise TargetError(f"{where}: must be a table of keys (got {type(raw).__name__})")
    unknown = sorted(set(raw) - _TARGET_KEYS)
    if unknown:
        raise TargetError(f"{where}.{unknown[0]}: unknown key; allowed: {', '.join(sorted(_TARGET_KEYS))}")
    moment = check_moment(raw, where, instrument)
    for key in ("value", "se", "source"):
        if key not in raw:
            raise TargetError(f"{where}.{key}: missing (every target needs value, se and source)")
    for key in ("value", "se", "n_eff"):
        if key in raw and (not _is_number(raw[key]) or not math.isfinite(raw[key])):
            raise TargetError(f"{where}.{key}: must be a finite number (got {raw[key]!r})")
    if raw["se"] <= 0:
        raise TargetError(f"{where}.se: must be > 0 (got {raw['se']!r}); where the source gives no "
                          "standard error, assume one and say so in se_note = \"uncertainty assumed: ...\"")
    n = raw.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise TargetError(f"{where}.n: must be a whole number >= 1 (got {n!r})")
    if "n_eff" in raw and raw["n_eff"] <= 0:
        raise TargetError(f"{where}.n_eff: must be > 0 (got {raw['n_eff']!r})")
    for key in ("source", "description", "se_note", "role"):
        if key in raw and not isinstance(raw[key], str):
            raise TargetError(f"{where}.{key}: must be text (got {raw[key]!r})")
    if not raw["source"].strip():
        raise TargetError(f"{where}.source: must name where the figure comes from")
    role = raw.get("role", "calibrate")
    if role not in ROLES:
        raise TargetError(f"{where}.role: must be one of {', '.join(ROLES)} (got {role!r})")
    return Target(name=name, moment=moment, value=float(raw["value"]), se=float(raw["se"]),
                  source=raw["source"], role=role, n=n,
                  n_eff=None if "n_eff" not in raw else float(raw["n_eff"]),
                  description=raw.get("description", ""), se_note=raw.get("se_note", ""))


def parse_targets(data: Mapping[str, Any], source: str = "<targets>") -> TargetSet:
    """A `TargetSet` from parsed TOML; `source` (the file) prefixes every error."""
    unknown = sorted(set(data) - {"meta", "targets"})
    if unknown:
        raise TargetError(f"{source}: {unknown[0]}: unknown top-level key; allowed: meta, targets")
    meta = data.get("meta", {})
    if not isinstance(meta, Mapping):
        raise TargetError(f"{source}: meta: must be a table")
    bad = sorted(set(meta) - _META_KEYS)
    if bad:
        raise TargetError(f"{source}: meta.{bad[0]}: unknown key; allowed: {', '.join(sorted(_META_KEYS))}")
    for key in sorted(set(meta) - {"countermeasures"}):
        if not isinstance(meta[key], str):
            raise TargetError(f"{source}: meta.{key}: must be text (got {meta[key]!r})")
    overlays = meta.get("countermeasures", [])
    if not isinstance(overlays, list) or not all(isinstance(o, str) for o in overlays):
        raise TargetError(f"{source}: meta.countermeasures: must be a list of overlay names")
    instrument = meta.get("instrument", INSTRUMENT)
    try:
        instrument_info(instrument)
    except TargetError as error:
        raise TargetError(f"{source}: meta.instrument: {error}") from None
    tables = data.get("targets", {})
    if not isinstance(tables, Mapping):
        raise TargetError(f"{source}: targets: must be a table of [targets.NAME] tables")
    targets = {name: check_target(name, raw, f"{source}: targets.{name}", instrument)
               for name, raw in tables.items()}
    return TargetSet(targets, dict(meta))


def load_targets(path: str | Path) -> TargetSet:
    """Read a target TOML file strictly (see the schema in `analysis.targets`).

    Raises:
        TargetError: an unreadable file, an unknown key, a wrong type, an unknown KPI, item,
            scale, channel or subgroup value, se <= 0; the message names the file and the key.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise TargetError(f"{path}: no such target file") from None
    except tomllib.TOMLDecodeError as error:
        raise TargetError(f"{path}: not valid TOML: {error}") from None
    return parse_targets(data, str(path))


def targets_toml(targets: TargetSet | Iterable[Target], *, header: str = "") -> str:
    """The TOML text of a target set (meta first, then one table per target)."""
    meta = targets.meta if isinstance(targets, TargetSet) else {}
    body: dict[str, Any] = {}
    if meta:
        body["meta"] = dict(meta)
    body["targets"] = {t.name: t.to_toml() for t in targets}
    text = tomli_w.dumps(body)
    lines = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return lines + ("\n" if lines else "") + text


def write_targets(targets: TargetSet | Iterable[Target], path: str | Path, *, header: str = "",
                  protect: Iterable[str | Path] = ()) -> Path:
    """Write a target file (atomically: a partial file never appears); reads back with `load_targets`.

    Refuses to write over any path in `protect` (the inputs of the command that made the targets).
    """
    path = Path(path)
    if path.resolve() in {Path(p).resolve() for p in protect}:
        raise TargetError(f"refusing to overwrite input file {path}; choose another --out")
    text = targets_toml(targets, header=header)
    parse_targets(tomllib.loads(text), str(path))  # what we write must load
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(scratch, ordinary_file_mode())
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return path


def with_values(target: Target, **changes: Any) -> Target:
    """A copy of `target` with some fields changed."""
    return replace(target, **changes)
