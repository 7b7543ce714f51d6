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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Minutes = Annotated[float, Field(ge=0.0, le=1440.0)]
Session = Annotated[list[Minutes], Field(min_length=2, max_length=2)]
Profile = Annotated[list[Annotated[float, Field(ge=0.0, le=100.0)]], Field(min_length=1, max_length=96)]
# relative arrival intensity over equal slices of the opening time: a morning peak (county halls
# see most visitors before noon; the afternoon after lunch is quieter)
MORNING_PEAK = [1.4, 1.3, 1.1, 0.9, 0.8, 0.9, 0.8, 0.8]


MAX_DAYS = 5000  # the longest run a scenario (or a command-line option) may ask for


class ScenarioError(ValueError):
    """A scenario or overlay file is invalid; the message names file, key path and allowed values."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class Meta(_Strict):
    """Name and description of the scenario."""

    name: str = Field(min_length=1, max_length=80)
    title: str = ""
    description: str = ""
    days: int = Field(default=250, ge=1, le=MAX_DAYS, description="default run length (working days)")
    warmup_days: int = Field(
        default=20, ge=0, le=1000,
        description="days simulated before measurement; cases started then are left out of the KPIs",
    )


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


def _check_sessions(sessions: list[list[float]]) -> list[list[float]]:
    if not sessions:
        raise ValueError("must list at least one [open, close] pair of minutes after midnight")
    previous_close = -1.0
    for open_minute, close_minute in sessions:
        if not open_minute < close_minute:
            raise ValueError(f"session [{open_minute}, {close_minute}] must open before it closes")
        if open_minute < previous_close:
            raise ValueError("sessions must be in time order and must not overlap")
        previous_close = close_minute
    return sessions


def _check_profile(profile: list[float]) -> list[float]:
    if sum(profile) <= 0:
        raise ValueError("must have at least one positive weight")
    return profile


class _OpeningHours(_Strict):
    """What a hall and a station share: the checks of their opening sessions and arrival profile
    (the fields themselves, with their own defaults, are declared by each)."""

    @field_validator("sessions", check_fields=False)
    @classmethod
    def _sessions_ordered(cls, sessions: list[list[float]]) -> list[list[float]]:
        return _check_sessions(sessions)

    @field_validator("arrival_profile", check_fields=False)
    @classmethod
    def _profile_positive(cls, profile: list[float]) -> list[float]:
        return _check_profile(profile)


class Hall(_OpeningHours):
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
    arrival_profile: Profile = Field(
        default=MORNING_PEAK,
        description="relative arrival intensity over equal slices of the opening time",
    )
    reallocate_every_days: int = Field(
        default=20, ge=0, le=1000,
        description="re-split department windows from observed demand every N days (0 = never)",
    )
    comprehensive_service_multiplier: float = Field(
        default=1.0, ge=0.5, le=3.0,
        description="window time at a comprehensive (一窗受理) hall window relative to a "
                    "department's own, for the same clerk: a generalist accepting every "
                    "department's matters (> 1: slower)",
    )


class Stations(_OpeningHours):
    """Township and village service stations (乡镇/村便民服务站), sized by their townships."""

    windows_per_station: int = Field(default=1, ge=1, le=50, description="windows at the smallest station")
    residents_per_window: int = Field(
        default=5000, ge=0, le=10_000_000,
        description="a station gets one window per this many township residents (0 = the minimum only)",
    )
    sessions: list[Session] = Field(default=[[540.0, 720.0], [810.0, 1020.0]])
    arrival_profile: Profile = Field(default=MORNING_PEAK)
    service_minutes_multiplier: float = Field(
        default=1.3, gt=0.0, le=10.0, description="station staff are generalists: slower service"
    )


class Proxy(_Strict):
    """Proxy agents (帮办代办员) in the townships the proxy service covers."""

    agents_per_township: int = Field(default=2, ge=1, le=1000)
    cases_per_agent_day: float = Field(default=8.0, gt=0.0, le=500.0)
    hours_per_agent_day: float = Field(default=7.0, gt=0.0, le=24.0)


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
    indifference_attitude: Share = Field(default=0.4, description="where attitude drifts unreinforced")
    training_gain_per_day: float = Field(
        default=0.004, ge=0.0, le=0.1, description="competence and IT-skill gain per day at full training"
    )
    training_hours_per_day: float = Field(
        default=0.2, ge=0.0, le=8.0,
        description="hours of training per clerk per working day at full training (outside the windows)",
    )
    it_skill_speed_weight: float = Field(
        default=0.3, ge=0.0, le=1.0,
        description="comprehensive windows: service time x (1 + w (0.5 - IT skill))",
    )
    detection_competence_weight: float = Field(
        default=0.6, ge=0.0, le=2.0,
        description="catching missing materials: base x (1 + w (competence - 0.5))",
    )


class Feedback(_Strict):
    """The 好差评 loop when `policy.evaluation_feedback` is on: rectification, supervision and
    platform fixes, each with its cost in hours."""

    rating_prompt_multiplier: float = Field(
        default=2.0, ge=1.0, le=10.0, description="offline rating participation when windows prompt"
    )
    rectification_step: Share = Field(
        default=0.03, description="per bad review: share of the gap to the ceiling closed"
    )
    praise_step: Share = Field(default=0.002, description="per good review")
    attitude_ceiling: Share = Field(default=0.85, description="rectification cannot lift attitude above")
    rectification_staff_hours: float = Field(default=0.5, ge=0.0, le=40.0, description="per bad review")
    supervision_hours: float = Field(default=0.25, ge=0.0, le=40.0, description="per bad review")
    usability_fix_lag_days: int = Field(default=40, ge=1, le=1000, description="days between platform fixes")
    usability_fix_gain: Share = Field(
        default=0.5, description="share of the gap to the ceiling a fix closes at 100% bad online ratings"
    )
    usability_ceiling: Share = 0.95
    developer_hours_per_fix: float = Field(default=80.0, ge=0.0, le=100_000.0)


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
    online_failure_trust_cut: Share = Field(
        default=0.5, description="after a failed online attempt trust x (1 - cut x trust_learning)"
    )
    upload_failure_per_material: Share = Field(
        default=0.08, description="chance an online attempt fails per material the citizen uploads"
    )
    depth3_online_bonus: float = Field(default=0.5, ge=-20, le=20, description="utility of fully online")
    missing_material_literacy_offset: float = Field(
        default=1.6, ge=1.0, le=5.0, description="p(missing) = missing_material_prob x (offset - literacy)"
    )
    backoffice_detection: Share = Field(default=0.9, description="a department catches a missing material")
    platform_detection: Share = Field(default=0.9, description="the platform's check catches one")
    digital_assistance_boost: Share = Field(
        default=0.6, description="share of the literacy gap assisted online use closes at full lever"
    )
    publicity_hazard_at_full: float = Field(
        default=0.01, ge=0, le=1, description="daily chance an unaware citizen learns of the platform"
    )
    balking: bool = Field(default=True, description="visitors leave when the queue looks too long")
    balk_tolerance_minutes: float = Field(
        default=90.0, gt=0, le=1440, description="mean tolerated wait (gamma, shape 4) before balking"
    )
    prior_wait_minutes: float = Field(default=20.0, ge=0, le=1440, description="expected wait before any visit")
    wait_learning: Share = Field(default=0.5, description="weight of the latest observed wait")
    word_of_mouth_wait: Share = Field(default=0.2, description="weight of a neighbour's reported wait")
    beta_wait_hours: float = Field(default=1.0, ge=0, le=20, description="disutility per hour of expected wait")
    disconfirmation_gain_ratio: Share = Field(
        default=0.5, description="beating an expectation counts this much of missing it (loss aversion)"
    )
    weight_days_per_limit: float = Field(
        default=0.4, ge=0, le=10, description="per legal time limit of days beyond the expected"
    )
    expected_days_share_of_limit: float = Field(
        default=0.5, ge=0, le=2, description="days citizens expect, as a share of the legal limit"
    )
    questionnaire_item_noise: float = Field(
        default=0.6, ge=0, le=10, description="item-specific noise of questionnaire answers around the judgement"
    )
    satisfaction_cutpoints: list[float] = Field(
        default=[-1.5, -0.5, 0.5, 1.5], min_length=4, max_length=4,
        description="latent cut points of the 1-5 answer",
    )

    @model_validator(mode="after")
    def _cutpoints_increase(self) -> Behaviour:
        cuts = self.satisfaction_cutpoints
        if any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
            raise ValueError(f"satisfaction_cutpoints must increase (got {cuts})")
        return self


class Policy(_Strict):
    """The policy levers (countermeasures); each is a named, validated parameter."""

    comprehensive_window_share: Share = Field(default=0.2, description="一窗受理 front-office integration")
    parallel_approval: bool = Field(default=False, description="并联审批 back-office integration")
    coordination_authority: Share = Field(default=0.2, description="service office's authority")
    data_sharing: Share = Field(default=0.2, description="share of shareable materials pulled")
    connectivity_uplift: Share = Field(default=0.0, description="raises every department's link")
    online_usability: Share = Field(default=0.6, description="an online function really works")
    end_to_end_online_share: Share = Field(
        default=0.0, description="share of the cases of online-capable matters made fully online (depth 3)"
    )
    one_time_notification: bool = Field(default=False, description="一次性告知 of missing materials")
    online_preexamination: bool = Field(default=False, description="网上预审 of materials")
    result_by_post: bool = Field(default=False, description="results posted, no collection visit")
    station_coverage: Share = Field(default=0.3, description="share of townships with a station")
    station_scope: Literal["simple", "all"] = "simple"
    proxy_service: Share = Field(default=0.0, description="帮办代办: share of townships with proxy agents")
    publicity: Share = Field(default=0.0, description="awareness campaign intensity")
    promise_visits: float = Field(
        default=2.0, ge=0, le=10, description="visits citizens are led to expect (最多跑一次 = 1)"
    )
    staff_training: Share = Field(default=0.0, description="training intensity")
    evaluation_feedback: bool = Field(default=False, description="好差评 ratings drive rectification")
    digital_assistance: Share = Field(default=0.0, description="assisted online use, elderly/rural")


# (Chinese, English) label of every policy lever, for the dashboard and reports
POLICY_LABELS: dict[str, tuple[str, str]] = {
    "comprehensive_window_share": ("一窗受理窗口占比", "Comprehensive windows, share"),
    "parallel_approval": ("并联审批", "Parallel approval"),
    "coordination_authority": ("政务办统筹权威", "Coordination authority"),
    "data_sharing": ("数据共享", "Data sharing"),
    "connectivity_uplift": ("部门联通提升", "Department connectivity uplift"),
    "online_usability": ("网办可用性", "Online usability"),
    "end_to_end_online_share": ("全程网办占比", "End-to-end online share"),
    "one_time_notification": ("一次性告知", "One-time notification"),
    "online_preexamination": ("网上预审", "Online pre-examination"),
    "result_by_post": ("结果邮寄", "Results by post"),
    "station_coverage": ("便民服务站覆盖", "Station coverage"),
    "station_scope": ("站点可办范围", "Station scope"),
    "proxy_service": ("帮办代办覆盖", "Proxy service coverage"),
    "publicity": ("宣传力度", "Publicity"),
    "promise_visits": ("承诺跑动次数", "Promised visits"),
    "staff_training": ("人员培训", "Staff training"),
    "evaluation_feedback": ("好差评整改", "Evaluation feedback"),
    "digital_assistance": ("适老助农帮办", "Digital assistance"),
}


def lever_range(name: str) -> tuple[float, float] | None:
    """The (min, max) a numeric policy lever allows, from the schema; None for other levers."""
    field = Policy.model_fields[name]
    if field.annotation not in (float, int):
        return None
    low = high = None
    for item in field.metadata:
        low = getattr(item, "ge", None) if getattr(item, "ge", None) is not None else low
        high = getattr(item, "le", None) if getattr(item, "le", None) is not None else high
    if low is None or high is None:
        return None
    return float(low), float(high)


class Scenario(_Strict):
    """A complete, validated scenario."""

    scenario: Meta
    jurisdiction: Jurisdiction
    demand: Demand = Demand()
    hall: Hall = Hall()
    stations: Stations = Stations()
    proxy: Proxy = Proxy()
    staff: Staff = Staff()
    feedback: Feedback = Feedback()
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
            if not isinstance(node, dict):
                raise ScenarioError(f"<updates>: {key}: {part} is given a value and a sub-key")
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
    got = _short(error.get("input"))
    if kind in ("model_type", "dict_type"):
        return key_path, f"must be a table, got {_kind(error.get('input'))} ({got})"
    if kind == "finite_number":
        return key_path, f"must be a finite number (got {got})"
    if bounds:
        return key_path, f"value {got} out of range; allowed: {' and '.join(bounds)}"
    if kind == "literal_error":
        return key_path, f"value {got} not allowed; allowed: {ctx.get('expected')}"
    return key_path, f"{error['msg']} (got {got})"


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


# top-level keys whose values are tables; `departments` and `matters` are tables of tables
_TABLES = tuple(name for name in Scenario.model_fields if name != "countermeasures")
_TABLES_OF_TABLES = ("departments", "matters")


def _kind(value: Any) -> str:
    """The TOML name of a value's type, for error messages."""
    for kind, name in ((bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"),
                       (list, "an array"), (dict, "a table")):
        if isinstance(value, kind):
            return name
    return f"a {type(value).__name__}"


def _check_tables(data: dict[str, Any], source: str) -> None:
    """Sections must be tables, before anything is merged into them."""
    for key in _TABLES:
        if key in data and not isinstance(data[key], dict):
            raise ScenarioError(f"{source}: {key}: must be a table ([{key}] with key = value "
                                f"lines), got {_kind(data[key])} ({_short(data[key])})")
    for key in _TABLES_OF_TABLES:
        for name, entry in data.get(key, {}).items():
            if not isinstance(entry, dict):
                raise ScenarioError(f"{source}: {key}.{name}: must be a table ([{key}.{name}]), "
                                    f"got {_kind(entry)} ({_short(entry)})")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
            `[countermeasure]` table (name, description, optional `cost_per_year`, optional
            `validation`: how its effect fared against observed figures, which briefs repeat
            among their caveats) and any scenario tables it changes.
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
    _check_tables(data, str(base_path))
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
        unknown_meta = set(meta) - {"name", "label", "description", "cost_per_year", "provenance",
                                    "validation"}
        if unknown_meta:
            raise ScenarioError(f"{overlay_path}: countermeasure.{sorted(unknown_meta)[0]}: "
                                "unknown key; allowed: name, label, description, cost_per_year, "
                                "provenance, validation")
        validation = meta.get("validation", "")
        if not isinstance(validation, str):
            raise ScenarioError(f"{overlay_path}: countermeasure.validation: must be text, how the "
                                f"countermeasure's effect fared against observed figures (got "
                                f"{validation!r})")
        cost = meta.get("cost_per_year", 0.0)
        if not isinstance(cost, int | float) or isinstance(cost, bool) or cost < 0:
            raise ScenarioError(f"{overlay_path}: countermeasure.cost_per_year: must be a "
                                f"number >= 0 (got {cost!r})")
        _check_tables(overlay_data, str(overlay_path))
        _merge(data, overlay_data, origins, str(overlay_path), ())
        applied.append({"name": str(meta["name"]), "cost_per_year": float(cost),
                        "file": overlay_path.name})
    if updates:
        expanded = _expand_dotted(updates)
        _check_tables(expanded, "<updates>")
        _merge(data, expanded, origins, "<updates>", ())
    data["countermeasures"] = applied
    return _validate(data, origins, default_source=str(base_path))
