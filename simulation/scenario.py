"""Scenario schema and strict TOML loading, with countermeasure overlays.

A scenario names a jurisdiction, its service hall, staff, departments, service catalogue,
behaviour parameters and the policy levers (the countermeasures reform offices argue about).
Loading is strict: an unknown key, a wrong type or an out-of-range value is a `ScenarioError`
that names the file, the key path and what is allowed; nothing runs.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Minutes = Annotated[float, Field(ge=0.0, le=1440.0)]
Session = Annotated[list[Minutes], Field(min_length=2, max_length=2)]


class ScenarioError(ValueError):
    """A scenario or overlay file is invalid; the message names file, key path and allowed values."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Meta(_Strict):
    """Name and description of the scenario."""

    name: str = Field(min_length=1, max_length=80)
    title: str = ""
    description: str = ""
    days: int = Field(default=250, ge=1, le=5000, description="default run length (working days)")


class Jurisdiction(_Strict):
    """Who lives where: the population and its geography."""

    population: int = Field(ge=100, le=50_000_000, description="residents (individual agents)")
    enterprises: int = Field(default=0, ge=0, le=10_000_000, description="enterprise agents")
    rural_share: Share = 0.4
    elderly_share: Share = Field(default=0.2, description="share aged 60+")
    middle_share: Share = Field(default=0.35, description="share aged 40-59")
    townships: int = Field(default=15, ge=1, le=2000)
    hall_travel_minutes_urban: Minutes = 25.0
    hall_travel_minutes_rural: Minutes = 70.0
    station_travel_minutes: Minutes = 15.0

    @model_validator(mode="after")
    def _age_shares(self) -> Jurisdiction:
        if self.elderly_share + self.middle_share > 1.0:
            raise ValueError(
                "elderly_share + middle_share must not exceed 1 "
                f"(got {self.elderly_share} + {self.middle_share})"
            )
        return self


class Demand(_Strict):
    """How often matters (cases) arise: a Poisson process per agent."""

    cases_per_resident_year: float = Field(default=1.2, ge=0.0, le=100.0)
    cases_per_enterprise_year: float = Field(default=6.0, ge=0.0, le=1000.0)
    working_days_per_year: int = Field(default=250, ge=200, le=366)


class Hall(_Strict):
    """The county service hall (政务服务中心): windows, opening hours, service times."""

    windows: int = Field(default=40, ge=1, le=2000)
    sessions: list[Session] = Field(
        default=[[540.0, 720.0], [810.0, 1020.0]],
        description="opening sessions as [open, close] minutes after midnight",
    )
    service_minutes_simple: float = Field(default=12.0, gt=0.0, le=600.0)
    service_minutes_complex: float = Field(default=30.0, gt=0.0, le=600.0)
    service_minutes_collect: float = Field(default=4.0, gt=0.0, le=600.0)
    service_distribution: Literal["exponential", "lognormal"] = "lognormal"
    service_cv: float = Field(default=0.7, gt=0.0, le=3.0, description="coefficient of variation")

    @model_validator(mode="after")
    def _sessions_ordered(self) -> Hall:
        if not self.sessions:
            raise ValueError("sessions must list at least one [open, close] pair")
        previous_close = -1.0
        for open_minute, close_minute in self.sessions:
            if not open_minute < close_minute:
                raise ValueError(f"session [{open_minute}, {close_minute}] must open before it closes")
            if open_minute < previous_close:
                raise ValueError("sessions must be in time order and must not overlap")
            previous_close = close_minute
        return self


class Stations(_Strict):
    """Township and village service stations (乡镇/村便民服务站)."""

    windows_per_station: int = Field(default=1, ge=1, le=50)
    sessions: list[Session] = Field(default=[[540.0, 720.0], [810.0, 1020.0]])
    service_minutes_multiplier: float = Field(
        default=1.3, gt=0.0, le=10.0, description="station staff are generalists: slower service"
    )


class Staff(_Strict):
    """Window staff (窗口人员): competence, attitude, IT skill and how they change."""

    competence_mean: Share = 0.5
    competence_sd: float = Field(default=0.15, ge=0.0, le=0.5)
    attitude_mean: Share = 0.6
    attitude_sd: float = Field(default=0.15, ge=0.0, le=0.5)
    it_skill_mean: Share = 0.5
    it_skill_sd: float = Field(default=0.15, ge=0.0, le=0.5)
    learning_per_100_cases: float = Field(
        default=0.01, ge=0.0, le=1.0, description="competence gain per 100 cases served"
    )
    attitude_drift_per_day: float = Field(
        default=0.001, ge=0.0, le=0.1, description="daily drift of attitude toward indifference"
    )


class DepartmentSpec(_Strict):
    """A department (委办局) that owns matters and approves cases in its back office."""

    label: str = ""
    capacity_per_day: int = Field(ge=1, le=1_000_000, description="cases approved per working day")
    connectivity: Share = Field(description="share of its records other departments can pull")
    coordination: Share = Field(description="willingness to coordinate (low = department barriers)")
    platform_integrated: bool = False


class MatterSpec(_Strict):
    """A matter (事项) of the service catalogue."""

    label: str = ""
    departments: list[str] = Field(min_length=1, description="owner first, then co-approvers")
    complex: bool = False
    materials: int = Field(ge=0, le=100)
    shared_from: list[str] = Field(
        default=[], description="for each shareable material, the department holding it"
    )
    online_depth: int = Field(ge=0, le=3, description="0 offline · 1 info · 2 apply online · 3 full")
    processing_days: int = Field(default=1, ge=0, le=365)
    legal_days: int = Field(ge=1, le=365)
    demand_share: float = Field(gt=0.0, le=1.0)
    audience: Literal["individual", "enterprise"] = "individual"
    station_eligible: bool = True

    @model_validator(mode="after")
    def _materials_cover_shared(self) -> MatterSpec:
        if len(self.shared_from) > self.materials:
            raise ValueError(
                f"shared_from lists {len(self.shared_from)} materials but the matter needs only "
                f"{self.materials}"
            )
        return self


class Citizens(_Strict):
    """Residents' attributes at baseline (digital literacy, awareness, trust)."""

    literacy_young: Share = 0.8
    literacy_middle: Share = 0.6
    literacy_elderly: Share = 0.25
    rural_literacy_penalty: Share = 0.15
    enterprise_literacy: Share = 0.85
    literacy_sd: float = Field(default=0.12, ge=0.0, le=0.5)
    awareness_urban: Share = 0.6
    awareness_rural: Share = 0.35
    elderly_awareness_penalty: Share = 0.2
    trust_mean: Share = 0.5
    trust_sd: float = Field(default=0.12, ge=0.0, le=0.5)
    network_contacts: int = Field(default=6, ge=0, le=50)
    contacts_same_township: Share = 0.8


class Behaviour(_Strict):
    """Uncertain behavioural parameters (assumptions to calibrate)."""

    habit_strength: Share = 0.6
    asc_online: float = Field(default=-1.0, ge=-20, le=20)
    asc_station: float = Field(default=0.0, ge=-20, le=20)
    asc_hall: float = Field(default=0.2, ge=-20, le=20)
    asc_proxy: float = Field(default=-1.8, ge=-20, le=20)
    beta_literacy: float = Field(default=2.5, ge=0, le=20)
    beta_trust: float = Field(default=1.5, ge=0, le=20)
    beta_travel_hours: float = Field(default=1.0, ge=0, le=20)
    beta_complex_online: float = Field(default=-0.8, ge=-20, le=20)
    beta_elderly_proxy: float = Field(default=1.0, ge=0, le=20)
    online_failure_literacy_weight: Share = 0.6
    missing_material_prob: Share = Field(default=0.08, description="per citizen-supplied material")
    staff_detects_missing: Share = 0.85
    handoff_days: float = Field(default=2.0, ge=0, le=60)
    handoff_bounce_prob: Share = 0.15
    days_to_fix_materials: float = Field(default=2.0, ge=0, le=60)
    satisfaction_baseline: float = Field(default=1.6, ge=-10, le=10)
    weight_extra_visits: float = Field(default=0.6, ge=0, le=10)
    weight_wait_per_30min: float = Field(default=0.35, ge=0, le=10)
    weight_overdue: float = Field(default=0.8, ge=0, le=10)
    weight_resubmission: float = Field(default=0.3, ge=0, le=10)
    weight_attitude: float = Field(default=1.2, ge=0, le=10)
    weight_online_failure: float = Field(default=0.6, ge=0, le=10)
    satisfaction_noise: float = Field(default=0.8, ge=0, le=10)
    rating_prob_online: Share = 0.35
    rating_prob_offline: Share = 0.15
    rating_extremity: float = Field(default=0.5, ge=0, le=10)
    trust_learning: Share = 0.3
    word_of_mouth_contacts: int = Field(default=2, ge=0, le=50)
    word_of_mouth_awareness: Share = 0.3
    word_of_mouth_trust: Share = 0.1
    trust_decay_per_day: float = Field(default=0.002, ge=0, le=1)


class Policy(_Strict):
    """The policy levers (countermeasures); each is a named, validated parameter."""

    comprehensive_window_share: Share = Field(default=0.2, description="一窗受理 front-office integration")
    parallel_approval: bool = Field(default=False, description="并联审批 back-office integration")
    coordination_authority: Share = Field(default=0.2, description="service office's authority")
    data_sharing: Share = Field(default=0.2, description="share of shareable materials pulled")
    connectivity_uplift: Share = Field(default=0.0, description="raises every department's link")
    online_usability: Share = Field(default=0.6, description="an online function really works")
    end_to_end_online_share: Share = Field(default=0.0, description="matters upgraded to depth 3")
    one_time_notification: bool = Field(default=False, description="一次性告知 of missing materials")
    online_preexamination: bool = Field(default=False, description="网上预审 of materials")
    result_by_post: bool = Field(default=False, description="results posted, no collection visit")
    station_coverage: Share = Field(default=0.3, description="share of townships with a station")
    station_scope: Literal["simple", "all"] = "simple"
    proxy_service: Share = Field(default=0.0, description="帮办代办 availability")
    publicity: Share = Field(default=0.0, description="awareness campaign intensity")
    promise_visits: float = Field(
        default=2.0, ge=0, le=10, description="visits citizens are led to expect (最多跑一次 = 1)"
    )
    staff_training: Share = Field(default=0.0, description="training intensity")
    evaluation_feedback: bool = Field(default=False, description="好差评 ratings drive rectification")
    digital_assistance: Share = Field(default=0.0, description="assisted online use, elderly/rural")


class Scenario(_Strict):
    """A complete, validated scenario."""

    scenario: Meta
    jurisdiction: Jurisdiction
    demand: Demand = Demand()
    hall: Hall = Hall()
    stations: Stations = Stations()
    staff: Staff = Staff()
    citizens: Citizens = Citizens()
    behaviour: Behaviour = Behaviour()
    policy: Policy = Policy()
    departments: dict[str, DepartmentSpec] = Field(min_length=1, max_length=63)  # one bit each in joint approval
    matters: dict[str, MatterSpec] = Field(min_length=1)
    provenance: dict[str, str] = Field(default={})
    countermeasures: list[dict[str, Any]] = Field(default=[])

    @model_validator(mode="after")
    def _catalogue_consistent(self) -> Scenario:
        for matter_id, matter in self.matters.items():
            for dept in [*matter.departments, *matter.shared_from]:
                if dept not in self.departments:
                    raise ValueError(
                        f"matters.{matter_id} names department {dept!r}, which is not among "
                        f"departments: {sorted(self.departments)}"
                    )
        for audience in ("individual", "enterprise"):
            total = sum(m.demand_share for m in self.matters.values() if m.audience == audience)
            if total and abs(total - 1.0) > 1e-6:
                raise ValueError(
                    f"demand_share of {audience} matters must sum to 1 (got {total:.6f})"
                )
        if self.jurisdiction.enterprises and not any(
            m.audience == "enterprise" for m in self.matters.values()
        ):
            raise ValueError("jurisdiction has enterprises but no matter has audience 'enterprise'")
        return self

    def content_hash(self) -> str:
        """SHA-256 of the resolved parameters (independent of file layout, comments,
        provenance notes and the names of the overlays that produced them)."""
        data = self.model_dump(mode="json", exclude={"provenance", "countermeasures"})
        payload = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def to_toml_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain data, ready for `tomli_w.dumps`."""
        return _drop_none(self.model_dump(mode="json"))

    def with_updates(self, updates: dict[str, Any], *, source: str = "<updates>") -> Scenario:
        """A new scenario with `updates` (nested dict or dotted keys) merged and re-validated."""
        data = self.model_dump(mode="python")
        origins: dict[str, str] = {}
        _merge(data, _expand_dotted(updates), origins, source, ())
        return _validate(data, origins, default_source=source)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _expand_dotted(updates: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in updates.items():
        parts = key.split(".")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return nested


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ScenarioError(f"{path}: no such scenario file")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise ScenarioError(f"{path}: not UTF-8 text: {error}") from None


def _merge(
    base: dict[str, Any],
    overlay: dict[str, Any],
    origins: dict[str, str],
    source: str,
    prefix: tuple[str, ...],
) -> None:
    """Deep-merge `overlay` into `base`, recording which file set each key path."""
    for key, value in overlay.items():
        path = (*prefix, str(key))
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value, origins, source, path)
        else:
            base[key] = copy.deepcopy(value)
            origins[".".join(path)] = source


def _origin(origins: dict[str, str], key_path: str, default_source: str) -> str:
    parts = key_path.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in origins:
            return origins[candidate]
    return default_source


def _describe_error(error: dict[str, Any]) -> tuple[str, str]:
    key_path = ".".join(str(part) for part in error["loc"]) or "(top level)"
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return key_path, "unknown key (check the spelling; see the schema in simulation/scenario.py)"
    if kind == "missing":
        return key_path, "required key is missing"
    bounds = [f"{name} {ctx[key]}" for key, name in
              (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")) if key in ctx]
    got = error.get("input")
    if bounds:
        return key_path, f"value {got!r} out of range; allowed: {' and '.join(bounds)}"
    if kind == "literal_error":
        return key_path, f"value {got!r} not allowed; allowed: {ctx.get('expected')}"
    return key_path, f"{error['msg']} (got {got!r})"


def _validate(data: dict[str, Any], origins: dict[str, str], *, default_source: str) -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            key_path, message = _describe_error(error)
            lines.append(f"{_origin(origins, key_path, default_source)}: {key_path}: {message}")
        raise ScenarioError("invalid scenario:\n  " + "\n  ".join(lines)) from None
    _check_provenance(scenario, default_source)
    return scenario


def _check_provenance(scenario: Scenario, source: str) -> None:
    """Provenance keys must name real parameter paths (a typo there is an error too)."""
    known = set(_leaf_paths(scenario.model_dump(mode="python", exclude={"provenance"})))
    prefixes = {".".join(p.split(".")[:i]) for p in known for i in range(1, p.count(".") + 2)}
    unknown = [key for key in scenario.provenance if key not in prefixes]
    if unknown:
        raise ScenarioError(
            f"{source}: provenance names parameters that do not exist: {sorted(unknown)}"
        )


def _leaf_paths(data: Any, prefix: str = "") -> list[str]:
    if isinstance(data, dict):
        paths: list[str] = []
        for key, value in data.items():
            paths.extend(_leaf_paths(value, f"{prefix}.{key}" if prefix else str(key)))
        return paths
    return [prefix]


def parameter_paths(scenario: Scenario) -> list[str]:
    """Every leaf parameter path of a scenario (e.g. 'policy.data_sharing')."""
    data = scenario.model_dump(mode="python", exclude={"provenance", "countermeasures", "scenario"})
    return _leaf_paths(data)


def resolve_path(name_or_path: str | Path, *, kind: Literal["scenario", "countermeasure"]) -> Path:
    """A path as given, or the shipped file of that name (e.g. 'baseline', 'data_sharing')."""
    from scenarios import COUNTERMEASURE_DIR, SCENARIO_DIR

    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return path
    folder = SCENARIO_DIR if kind == "scenario" else COUNTERMEASURE_DIR
    shipped = folder / f"{name_or_path}.toml"
    if shipped.is_file() and folder in shipped.resolve().parents:
        return shipped
    pattern = "*.toml" if kind == "scenario" else "**/*.toml"
    names = sorted(p.relative_to(folder).with_suffix("").as_posix() for p in folder.glob(pattern))
    raise ScenarioError(f"{name_or_path}: no such {kind} file, and no shipped {kind} of that name; "
                        f"shipped: {names}")


DEFAULT_CATALOGUE = Path(__file__).resolve().parent / "data" / "default_catalogue.toml"


def _with_default_catalogue(data: dict[str, Any]) -> dict[str, Any]:
    """Fill in the default catalogue: its matters unless the scenario lists its own; its
    departments always, with the scenario's department entries merged over them."""
    catalogue = _read_toml(DEFAULT_CATALOGUE)
    merged = dict(data)
    departments = copy.deepcopy(catalogue["departments"])
    _merge(departments, data.get("departments", {}), {}, "", ())
    merged["departments"] = departments
    if "matters" not in data:
        merged["matters"] = catalogue["matters"]
    provenance = dict(catalogue.get("provenance", {}))
    provenance.update(data.get("provenance", {}))
    merged["provenance"] = provenance
    return merged


def load_scenario(
    path: str | Path,
    overlays: list[str | Path] | tuple[str | Path, ...] = (),
    *,
    updates: dict[str, Any] | None = None,
) -> Scenario:
    """Load a scenario TOML strictly and stack countermeasure overlays on it.

    Args:
        path: a scenario file, or the name of a shipped scenario ("baseline").
        overlays: countermeasure files or shipped names, applied in order. An overlay has a
            `[countermeasure]` table (name, description, optional `cost_per_year`) and any
            scenario tables it changes.
        updates: extra parameter values by dotted path (e.g. {"policy.publicity": 0.5}).

    Returns:
        The validated `Scenario`; `scenario.countermeasures` lists the applied overlays.

    Raises:
        ScenarioError: naming the file, the key path and what is allowed.
    """
    base_path = resolve_path(path, kind="scenario")
    data = _read_toml(base_path)
    if "countermeasure" in data:
        raise ScenarioError(f"{base_path}: this is a countermeasure overlay, not a scenario; "
                            "pass it with -c / overlays=[...]")
    data = _with_default_catalogue(data)
    origins: dict[str, str] = {}
    _merge({}, data, origins, str(base_path), ())
    applied: list[dict[str, Any]] = []
    for overlay in overlays:
        overlay_path = resolve_path(overlay, kind="countermeasure")
        overlay_data = _read_toml(overlay_path)
        meta = overlay_data.pop("countermeasure", None)
        if not isinstance(meta, dict) or "name" not in meta:
            raise ScenarioError(f"{overlay_path}: an overlay needs a [countermeasure] table with "
                                "a name (and optionally description, cost_per_year)")
        unknown_meta = set(meta) - {"name", "label", "description", "cost_per_year", "provenance"}
        if unknown_meta:
            raise ScenarioError(f"{overlay_path}: countermeasure.{sorted(unknown_meta)[0]}: "
                                "unknown key; allowed: name, label, description, cost_per_year, "
                                "provenance")
        cost = meta.get("cost_per_year", 0.0)
        if not isinstance(cost, int | float) or isinstance(cost, bool) or cost < 0:
            raise ScenarioError(f"{overlay_path}: countermeasure.cost_per_year: must be a "
                                f"number >= 0 (got {cost!r})")
        _merge(data, overlay_data, origins, str(overlay_path), ())
        applied.append({"name": str(meta["name"]), "cost_per_year": float(cost),
                        "file": overlay_path.name})
    if updates:
        _merge(data, _expand_dotted(updates), origins, "<updates>", ())
    data["countermeasures"] = applied
    return _validate(data, origins, default_source=str(base_path))
