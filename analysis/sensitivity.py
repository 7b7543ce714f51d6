"""Sensitivity analysis of the model (Morris screening, Sobol indices) over groups of parameters.

A study is a TOML file (e.g. scenarios/studies/restrictive_factors.toml): a base scenario, groups
of parameter paths with ranges, outcomes (KPI names), and the methods to run.

Study file format (read strictly: an unknown key is an error naming the file and the key)::

    [study]
    name = "restrictive_factors"
    scenario = "restrictive_factors"     # shipped name or path (relative to the study file)
    overlays = []                        # countermeasure overlays stacked on it
    days = 60                            # working days per run
    seed = 2024                          # model seed and SALib sampling/bootstrap seed
    replications = 1                     # seeds per sample (see below)
    outcomes = ["visits_per_case", "online_share"]

    [groups.information_islands]
    label = "Information islands"
    factors = "fragmented administration and information rent-seeking"
    parameters = { "policy.data_sharing" = [0.0, 0.9], "departments.*.coordination" = [0.1, 0.9] }

    [morris]                             # optional; at least one of [morris] and [sobol]
    trajectories = 10
    levels = 4
    grouped = false                      # true: the parameters of a group move together
    [sobol]
    samples = 64                         # base sample N (a power of 2); N (2k + 2) runs
    second_order = false
    grouped = true

Common random numbers: every parameter sample is run with the same seeds —
`SeedSequence(seed, spawn_key=(r,))` for replication r = 0..replications-1 — and its outcomes are
the mean over those replications, so differences between samples come from the parameters, not
from different random citizens. A path with `*` (e.g. "departments.*.coordination") sets that
parameter of every department to the sampled value; a boolean parameter is on when the sampled
value is at least 0.5; an integer parameter is rounded.

Group ranking: for each outcome, each row's index (Morris mu_star, Sobol ST) is divided by the
largest index of that outcome; a group's score is its own normalised index when the design is
grouped (SALib groups, Campolongo et al. 2007) or the largest of its parameters' otherwise, and
the score averaged over outcomes ranks the groups (1 = restricts outcomes most).

Ranking uncertainty: the indices are recomputed (by SALib, as above) on bootstrap resamples of
the design's independent blocks — Morris trajectories, Saltelli base samples — and the ranking
with them (Efron & Tibshirani 1993, percentile intervals). Each group gets a 95% interval of its
score, the range of ranks it takes in 95% of resamples and the share of resamples it ranks first;
groups whose score intervals overlap are `tied`, and a study whose top two groups are tied says
so (raise `trajectories` or `samples` to separate them).

Resuming: with a store (`onenet sweep --out DIR`), every sample's outcomes are kept in
DIR/sweep.sqlite as it finishes, keyed by its parameter values; re-running the same study skips
them, and a folder that holds another study is refused.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from analysis.executors import make_executor
from analysis.store import SampleStore
from simulation import KPI_NAMES, ScenarioError, ServiceModel, load_scenario
from simulation.scenario import Scenario

Progress = Callable[[int, int], None]
Evaluate = Callable[[np.ndarray], np.ndarray]
EXTRA_OUTCOMES = ("online_failure_rate",)


class StudyError(ValueError):
    """A study file is invalid; the message names the file, the key and what is allowed."""


@dataclass(frozen=True)
class Factor:
    """One uncertain parameter: its name, group, the scenario paths it sets and its range."""

    name: str
    group: str
    low: float
    high: float
    paths: tuple[str, ...] = ()
    kind: str = "float"  # "float", "int" or "bool"


@dataclass(frozen=True)
class MorrisSpec:
    """Morris elementary-effects screening (Morris 1991; Campolongo et al. 2007)."""

    trajectories: int = 10
    levels: int = 4
    grouped: bool = False
    resamples: int = 100
    conf_level: float = 0.95


@dataclass(frozen=True)
class SobolSpec:
    """Sobol indices from a Saltelli design (Saltelli 2002; Saltelli et al. 2010)."""

    samples: int = 64
    second_order: bool = False
    grouped: bool = False
    resamples: int = 100
    conf_level: float = 0.95


@dataclass(frozen=True)
class Group:
    """A group of factors (e.g. one group of restrictive factors)."""

    name: str
    label: str
    factors: str
    parameters: dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Study:
    """A validated study file."""

    path: Path
    name: str
    scenario: str
    overlays: tuple[str, ...]
    days: int
    seed: int
    replications: int
    outcomes: tuple[str, ...]
    groups: dict[str, Group]
    morris: MorrisSpec | None
    sobol: SobolSpec | None
    title: str = ""
    description: str = ""


@dataclass
class SensitivityResult:
    """Indices as tidy DataFrames, the group ranking, and the design with its outcomes."""

    morris: pd.DataFrame | None = None
    sobol: pd.DataFrame | None = None
    ranking: pd.DataFrame = field(default_factory=pd.DataFrame)
    designs: dict[str, pd.DataFrame] = field(default_factory=dict)


# ---- reading a study file --------------------------------------------------------------------

_STUDY_KEYS = {"name", "title", "description", "scenario", "overlays", "days", "seed",
               "replications", "outcomes"}
_GROUP_KEYS = {"label", "factors", "parameters"}
_MORRIS_KEYS = {"trajectories", "levels", "grouped", "resamples", "conf_level"}
_SOBOL_KEYS = {"samples", "second_order", "grouped", "resamples", "conf_level"}
_TOP_KEYS = {"study", "groups", "morris", "sobol"}


def _unknown(path: Path, where: str, given: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(given) - allowed)
    if extra:
        prefix = f"{where}." if where else ""
        raise StudyError(f"{path}: {prefix}{extra[0]}: unknown key; allowed: "
                         f"{', '.join(sorted(allowed))}")


def _need(path: Path, key: str, value: Any, kind: type | tuple[type, ...], rule: str) -> Any:
    wants_bool = kind is bool or (isinstance(kind, tuple) and bool in kind)
    if not isinstance(value, kind) or (isinstance(value, bool) and not wants_bool):
        raise StudyError(f"{path}: {key}: must be {rule} (got {value!r})")
    return value


def _int_at_least(path: Path, key: str, value: Any, low: int) -> int:
    _need(path, key, value, int, f"an integer >= {low}")
    if value < low:
        raise StudyError(f"{path}: {key}: must be an integer >= {low} (got {value!r})")
    return int(value)


def _read_method(path: Path, name: str, table: Any, allowed: set[str]) -> dict[str, Any]:
    _need(path, name, table, dict, "a table")
    _unknown(path, name, table, allowed)
    out: dict[str, Any] = {}
    for key, value in table.items():
        full = f"{name}.{key}"
        if key in ("grouped", "second_order"):
            out[key] = _need(path, full, value, bool, "true or false")
        elif key == "conf_level":
            _need(path, full, value, (int, float), "a number between 0 and 1")
            if not 0 < value < 1:
                raise StudyError(f"{path}: {full}: must be between 0 and 1 (got {value!r})")
            out[key] = float(value)
        elif key == "levels":
            out[key] = _int_at_least(path, full, value, 2)
            if value % 2:
                raise StudyError(f"{path}: {full}: must be even (got {value})")
        elif key == "samples":
            out[key] = _int_at_least(path, full, value, 2)
            if value & (value - 1):
                raise StudyError(f"{path}: {full}: must be a power of 2 (got {value})")
        else:
            out[key] = _int_at_least(path, full, value, 2 if key == "trajectories" else 1)
    return out


def _read_groups(path: Path, table: Any) -> dict[str, Group]:
    _need(path, "groups", table, dict, "a table of groups")
    if not table:
        raise StudyError(f"{path}: groups: at least one group is needed")
    groups: dict[str, Group] = {}
    for name, spec in table.items():
        where = f"groups.{name}"
        _need(path, where, spec, dict, "a table with label, factors, parameters")
        _unknown(path, where, spec, _GROUP_KEYS)
        params = _need(path, f"{where}.parameters", spec.get("parameters"), dict,
                       'a table of "parameter.path" = [low, high]')
        if not params:
            raise StudyError(f"{path}: {where}.parameters: at least one parameter is needed")
        ranges: dict[str, tuple[float, float]] = {}
        for key, bounds in params.items():
            full = f"{where}.parameters.{key}"
            ok = (isinstance(bounds, list) and len(bounds) == 2
                  and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds))
            if not ok or not bounds[0] < bounds[1]:
                raise StudyError(f"{path}: {full}: must be [low, high] with low < high "
                                 f"(got {bounds!r})")
            ranges[key] = (float(bounds[0]), float(bounds[1]))
        groups[name] = Group(name=name, label=str(spec.get("label", name)),
                             factors=str(spec.get("factors", "")), parameters=ranges)
    return groups


def load_study(path: str | Path) -> Study:
    """Read a study TOML strictly.

    Raises:
        StudyError: naming the file, the key and what is allowed.
    """
    path = Path(path)
    if not path.is_file():
        raise StudyError(f"{path}: no such study file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise StudyError(f"{path}: not valid TOML: {error}") from None
    _unknown(path, "", data, _TOP_KEYS)
    head = _need(path, "study", data.get("study"), dict, "a table")
    _unknown(path, "study", head, _STUDY_KEYS)
    for key in ("name", "scenario", "outcomes"):
        if key not in head:
            raise StudyError(f"{path}: study.{key}: required key is missing")
    outcomes = _need(path, "study.outcomes", head["outcomes"], list, "a list of KPI names")
    known = set(KPI_NAMES) | set(EXTRA_OUTCOMES)
    for name in outcomes:
        if name not in known:
            raise StudyError(f"{path}: study.outcomes: {name!r} is not a KPI; allowed: "
                             f"{', '.join(sorted(known))}")
    if not outcomes:
        raise StudyError(f"{path}: study.outcomes: at least one outcome is needed")
    overlays = _need(path, "study.overlays", head.get("overlays", []), list, "a list of names")
    if "morris" not in data and "sobol" not in data:
        raise StudyError(f"{path}: a study needs a [morris] or a [sobol] table (or both)")
    morris = data.get("morris")
    sobol = data.get("sobol")
    return Study(
        path=path, name=str(_need(path, "study.name", head["name"], str, "a string")),
        title=str(head.get("title", "")), description=str(head.get("description", "")),
        scenario=str(_need(path, "study.scenario", head["scenario"], str, "a scenario name or path")),
        overlays=tuple(str(o) for o in overlays),
        days=_int_at_least(path, "study.days", head.get("days", 60), 1),
        seed=_int_at_least(path, "study.seed", head.get("seed", 0), 0),
        replications=_int_at_least(path, "study.replications", head.get("replications", 1), 1),
        outcomes=tuple(outcomes), groups=_read_groups(path, data.get("groups")),
        morris=None if morris is None else MorrisSpec(**_read_method(path, "morris", morris, _MORRIS_KEYS)),
        sobol=None if sobol is None else SobolSpec(**_read_method(path, "sobol", sobol, _SOBOL_KEYS)),
    )


# ---- factors and the scenario -----------------------------------------------------------------

def _resolve_scenario_name(study: Study) -> str | Path:
    candidate = study.path.parent / study.scenario
    return candidate if candidate.suffix == ".toml" and candidate.is_file() else study.scenario


def base_scenario(study: Study) -> Scenario:
    """The study's base scenario with its overlays (errors name the study file)."""
    try:
        return load_scenario(_resolve_scenario_name(study), list(study.overlays))
    except ScenarioError as error:
        raise StudyError(f"{study.path}: study.scenario: {error}") from None


def _lookup(data: dict[str, Any], parts: list[str]) -> list[tuple[str, Any]]:
    """Expand a dotted path with '*' against nested dicts: [(concrete path, value)]."""
    found: list[tuple[str, Any]] = [("", data)]
    for part in parts:
        nxt: list[tuple[str, Any]] = []
        for prefix, node in found:
            if not isinstance(node, dict):
                continue
            keys = list(node) if part == "*" else [part] if part in node else []
            nxt.extend((f"{prefix}.{k}" if prefix else k, node[k]) for k in keys)
        found = nxt
    return found


def study_factors(study: Study, scenario: Scenario) -> list[Factor]:
    """The study's factors, each checked against the scenario (paths exist, ranges allowed)."""
    data = scenario.model_dump(mode="python", exclude={"provenance", "countermeasures", "scenario"})
    factors: list[Factor] = []
    for group in study.groups.values():
        for key, (low, high) in group.parameters.items():
            where = f"groups.{group.name}.parameters.{key}"
            hits = _lookup(data, key.split("."))
            if not hits or any(isinstance(v, dict | list) for _, v in hits):
                raise StudyError(f"{study.path}: {where}: not a parameter of scenario "
                                 f"{scenario.scenario.name!r} (see simulation/scenario.py)")
            value = hits[0][1]
            kind = "bool" if isinstance(value, bool) else "int" if isinstance(value, int) else "float"
            if not isinstance(value, int | float):
                raise StudyError(f"{study.path}: {where}: only numeric or true/false parameters "
                                 f"can be varied (got {value!r})")
            factor = Factor(name=key, group=group.name, low=low, high=high,
                            paths=tuple(p for p, _ in hits), kind=kind)
            for bound in (low, high):
                try:
                    apply_factors(scenario, [factor], np.array([bound]))
                except ScenarioError as error:
                    raise StudyError(f"{study.path}: {where}: range [{low}, {high}] not allowed: "
                                     f"{error}") from None
            factors.append(factor)
    names = [f.name for f in factors]
    if len(set(names)) != len(names):
        raise StudyError(f"{study.path}: a parameter appears in more than one group")
    return factors


def _cast(factor: Factor, value: float) -> float | int | bool:
    if factor.kind == "bool":
        return bool(value >= 0.5)
    if factor.kind == "int":
        return int(round(value))
    return float(value)


def apply_factors(scenario: Scenario, factors: Sequence[Factor], row: np.ndarray) -> Scenario:
    """The scenario with each factor's paths set to the row's value (validated)."""
    updates = {path: _cast(f, float(v)) for f, v in zip(factors, row, strict=True) for path in f.paths}
    return scenario.with_updates(updates, source="<sensitivity sample>")


# ---- the model as an evaluator ------------------------------------------------------------------

def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """Seeds of replications 0..R-1, the same for every sample (common random numbers)."""
    return [np.random.SeedSequence(seed, spawn_key=(r,)) for r in range(replications)]


def _run_sample(task: tuple[Scenario, tuple[Factor, ...], np.ndarray, tuple[str, ...], int, int, int]
                ) -> np.ndarray:
    scenario, factors, row, outcomes, days, seed, replications = task
    sample = apply_factors(scenario, factors, row)
    values = np.empty((replications, len(outcomes)))
    for r, ss in enumerate(replication_seeds(seed, replications)):
        kpis = ServiceModel(sample, seed=ss).run(days)
        values[r] = [kpis[name] for name in outcomes]
    return values.mean(axis=0)


def _run_indexed(task: tuple[int, tuple]) -> np.ndarray:
    return _run_sample(task[1])


class ModelEvaluator:
    """Runs the model for each row of a design: outcomes averaged over common-seed replications."""

    def __init__(self, scenario: Scenario, factors: Sequence[Factor], outcomes: Sequence[str], *,
                 days: int, seed: int, replications: int = 1, workers: int = 1,
                 scheduler: str | None = None, progress: Progress | None = None,
                 store: SampleStore | None = None) -> None:
        self.scenario, self.factors, self.outcomes = scenario, tuple(factors), tuple(outcomes)
        self.days, self.seed, self.replications = days, seed, replications
        self.executor = make_executor(workers, scheduler)
        self.progress = progress
        self.store = store

    def __call__(self, design: np.ndarray) -> np.ndarray:
        by_index: dict[int, np.ndarray] = {}
        if self.store is not None:
            for i, value in self.store.lookup(design).items():
                by_index[i] = value
                self._tick(len(by_index), len(design))
        tasks = [(i, (self.scenario, self.factors, row, self.outcomes, self.days, self.seed,
                      self.replications)) for i, row in enumerate(design) if i not in by_index]
        for (i, _), value in self.executor.map(_run_indexed, tasks):
            by_index[i] = value
            if self.store is not None:
                self.store.add(design[i], value)
            self._tick(len(by_index), len(design))
        results = [by_index[i] for i in range(len(design))]
        out = np.vstack(results) if results else np.empty((0, len(self.outcomes)))
        bad = np.argwhere(~np.isfinite(out))
        if bad.size:
            row, col = bad[0]
            raise ValueError(f"outcome {self.outcomes[col]!r} is undefined (NaN) for sample {row} "
                             f"({dict(zip([f.name for f in self.factors], design[row], strict=True))});"
                             " use more days or another outcome")
        return out

    def _tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)


# ---- SALib designs and indices --------------------------------------------------------------

def salib_problem(factors: Sequence[Factor], *, grouped: bool) -> dict[str, Any]:
    """The SALib problem dict; with `grouped`, the factors of a group move together."""
    problem: dict[str, Any] = {"num_vars": len(factors), "names": [f.name for f in factors],
                               "bounds": [[f.low, f.high] for f in factors]}
    if grouped:
        problem["groups"] = [f.group for f in factors]
    return problem


def _group_of(factors: Sequence[Factor], grouped: bool) -> dict[str, str]:
    return {f.group: f.group for f in factors} if grouped else {f.name: f.group for f in factors}


def morris_indices(factors: Sequence[Factor], outcomes: Sequence[str], evaluate: Evaluate,
                   spec: MorrisSpec, *, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Morris mu_star (with its bootstrap CI), mu and sigma per parameter (or group) and outcome.

    Returns the tidy indices (parameter, group, outcome, mu_star, mu_star_conf, mu, sigma) and
    the design with its outcomes.
    """
    problem = salib_problem(factors, grouped=spec.grouped)
    design = morris_sample.sample(problem, spec.trajectories, num_levels=spec.levels, seed=seed)
    values = np.asarray(evaluate(design), dtype=float).reshape(design.shape[0], len(outcomes))
    groups = _group_of(factors, spec.grouped)
    rows = []
    for j, outcome in enumerate(outcomes):
        si = morris_analyze.analyze(problem, design, values[:, j], num_resamples=spec.resamples,
                                    conf_level=spec.conf_level, num_levels=spec.levels, seed=seed)
        for i, name in enumerate(si["names"]):
            rows.append({"parameter": name, "group": groups[name], "outcome": outcome,
                         "mu_star": float(si["mu_star"][i]),
                         "mu_star_conf": float(si["mu_star_conf"][i]),
                         "mu": float(si["mu"][i]), "sigma": float(si["sigma"][i])})
    return pd.DataFrame(rows), _design_frame(factors, outcomes, design, values)


def sobol_indices(factors: Sequence[Factor], outcomes: Sequence[str], evaluate: Evaluate,
                  spec: SobolSpec, *, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sobol first-order (S1) and total (ST) indices with bootstrap CIs, per parameter (or group).

    Returns the tidy indices (parameter, group, outcome, S1, S1_conf, ST, ST_conf) and the
    Saltelli design with its outcomes.
    """
    problem = salib_problem(factors, grouped=spec.grouped)
    design = sobol_sample.sample(problem, spec.samples, calc_second_order=spec.second_order,
                                 seed=seed)
    values = np.asarray(evaluate(design), dtype=float).reshape(design.shape[0], len(outcomes))
    groups = _group_of(factors, spec.grouped)
    names = list(dict.fromkeys(f.group for f in factors)) if spec.grouped else [f.name for f in factors]
    rows = []
    for j, outcome in enumerate(outcomes):
        si = sobol_analyze.analyze(problem, values[:, j], calc_second_order=spec.second_order,
                                   num_resamples=spec.resamples, conf_level=spec.conf_level,
                                   seed=seed)
        for i, name in enumerate(names):
            rows.append({"parameter": name, "group": groups[name], "outcome": outcome,
                         "S1": float(si["S1"][i]), "S1_conf": float(si["S1_conf"][i]),
                         "ST": float(si["ST"][i]), "ST_conf": float(si["ST_conf"][i])})
    return pd.DataFrame(rows), _design_frame(factors, outcomes, design, values)


def _design_frame(factors: Sequence[Factor], outcomes: Sequence[str], design: np.ndarray,
                  values: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(design, columns=[f.name for f in factors])
    for j, outcome in enumerate(outcomes):
        frame[outcome] = values[:, j]
    frame.index.name = "sample"
    return frame


def group_ranking(indices: pd.DataFrame, index: str, *, method: str) -> pd.DataFrame:
    """Rank groups: per outcome normalise `index` by its largest value, take each group's
    largest normalised value, average over outcomes (module docstring)."""
    frame = indices[["parameter", "group", "outcome", index]].copy()
    frame[index] = frame[index].clip(lower=0.0)
    top = frame.groupby("outcome")[index].transform("max")
    frame["normalised"] = np.where(top > 0, frame[index] / top.where(top > 0, 1.0), 0.0)
    per_outcome = frame.groupby(["group", "outcome"])["normalised"].max().unstack("outcome")
    score = per_outcome.mean(axis=1).sort_values(ascending=False, kind="stable")
    lead = per_outcome.idxmax(axis=1)
    return pd.DataFrame({
        "method": method, "group": score.index, "index": index, "score": score.to_numpy(),
        "rank": np.arange(1, score.size + 1),
        "strongest_outcome": [lead[g] for g in score.index],
    }).reset_index(drop=True)


BOOTSTRAP_RESAMPLES = 200


def _block_size(factors: Sequence[Factor], grouped: bool, extra: int, per: int) -> int:
    k = len({f.group for f in factors}) if grouped else len(factors)
    return per * k + extra


def _resampled_indices(factors: Sequence[Factor], outcomes: Sequence[str], method: str,
                       spec: MorrisSpec | SobolSpec, design: np.ndarray, values: np.ndarray,
                       rows: np.ndarray, seed: int) -> pd.DataFrame:
    """The indices (as `morris_indices` / `sobol_indices` return them) on design rows `rows`."""
    problem = salib_problem(factors, grouped=spec.grouped)
    groups = _group_of(factors, spec.grouped)
    out = []
    for j, outcome in enumerate(outcomes):
        y = values[rows, j]
        if method == "morris":
            si = morris_analyze.analyze(problem, design[rows], y, num_resamples=2,
                                        num_levels=spec.levels, seed=seed)
            names, index = si["names"], si["mu_star"]
            key = "mu_star"
        else:
            si = sobol_analyze.analyze(problem, y, calc_second_order=spec.second_order,
                                       num_resamples=2, seed=seed)
            names = list(dict.fromkeys(f.group for f in factors)) if spec.grouped else [f.name for f in factors]
            index, key = si["ST"], "ST"
        out += [{"parameter": n, "group": groups[n], "outcome": outcome, key: float(v)}
                for n, v in zip(names, index, strict=True)]
    return pd.DataFrame(out)


def ranking_uncertainty(factors: Sequence[Factor], outcomes: Sequence[str], method: str,
                        spec: MorrisSpec | SobolSpec, design: pd.DataFrame, ranking: pd.DataFrame, *,
                        seed: int, resamples: int = BOOTSTRAP_RESAMPLES) -> pd.DataFrame:
    """`ranking` with bootstrap intervals: score_low/high, rank_low/high, p_first, tied.

    The design's independent blocks (a Morris trajectory of k + 1 rows; a Saltelli base sample
    of k + 2, or 2k + 2, rows) are resampled with replacement, the indices recomputed on each
    resample and the groups ranked again (module docstring). Percentile intervals at 95%.
    """
    x = design[[f.name for f in factors]].to_numpy(dtype=float)
    y = design[list(outcomes)].to_numpy(dtype=float)
    if method == "morris":
        block = _block_size(factors, spec.grouped, 1, 1)
    else:
        block = _block_size(factors, spec.grouped, 2, 2 if spec.second_order else 1)
    n_blocks = x.shape[0] // block
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x5E5,)))
    index = "mu_star" if method == "morris" else "ST"
    groups = list(ranking["group"])
    scores = np.empty((resamples, len(groups)))
    ranks = np.empty((resamples, len(groups)), dtype=np.int64)
    for b in range(resamples):
        pick = rng.integers(0, n_blocks, n_blocks)
        rows = (pick[:, None] * block + np.arange(block)).ravel()
        again = group_ranking(_resampled_indices(factors, outcomes, method, spec, x, y, rows, seed),
                              index, method=method).set_index("group")
        scores[b] = again.loc[groups, "score"].to_numpy()
        ranks[b] = again.loc[groups, "rank"].to_numpy()
    low, high = np.percentile(scores, [2.5, 97.5], axis=0)
    out = ranking.copy()
    out["score_low"], out["score_high"] = low, high
    out["rank_low"] = np.percentile(ranks, 2.5, axis=0, method="lower").astype(int)
    out["rank_high"] = np.percentile(ranks, 97.5, axis=0, method="higher").astype(int)
    out["p_first"] = (ranks == 1).mean(axis=0)
    out["tied"] = [", ".join(g2 for j, g2 in enumerate(groups)
                             if j != i and low[j] <= high[i] and low[i] <= high[j])
                   for i in range(len(groups))]
    return out


def top_separated(ranking: pd.DataFrame) -> dict[str, bool]:
    """Per method: is the first-ranked group's score interval clear of the second's?"""
    verdict = {}
    for method, rows in ranking.groupby("method", sort=False):
        rows = rows.sort_values("rank")
        verdict[method] = len(rows) < 2 or bool(rows["score_low"].iloc[0] > rows["score_high"].iloc[1])
    return verdict


def sensitivity(factors: Sequence[Factor], outcomes: Sequence[str], evaluate: Evaluate, *,
                morris: MorrisSpec | None = None, sobol: SobolSpec | None = None,
                seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> SensitivityResult:
    """Run the requested methods with any evaluator (the model, or a test function).

    Args:
        factors: the uncertain parameters with ranges and groups.
        outcomes: names of the evaluator's output columns.
        evaluate: maps a design (n, k) to outcomes (n, len(outcomes)).
        morris, sobol: the methods to run (at least one).
        seed: seeds SALib's sampling and bootstrap, and the ranking's bootstrap.
        resamples: bootstrap resamples of the ranking (its intervals and ties).
    """
    if morris is None and sobol is None:
        raise ValueError("choose at least one method (morris or sobol)")
    result = SensitivityResult()
    rankings = []
    if morris is not None:
        result.morris, result.designs["morris"] = morris_indices(factors, outcomes, evaluate, morris,
                                                                 seed=seed)
        rankings.append(ranking_uncertainty(
            factors, outcomes, "morris", morris, result.designs["morris"],
            group_ranking(result.morris, "mu_star", method="morris"), seed=seed, resamples=resamples))
    if sobol is not None:
        result.sobol, result.designs["sobol"] = sobol_indices(factors, outcomes, evaluate, sobol,
                                                              seed=seed)
        rankings.append(ranking_uncertainty(
            factors, outcomes, "sobol", sobol, result.designs["sobol"],
            group_ranking(result.sobol, "ST", method="sobol"), seed=seed, resamples=resamples))
    result.ranking = pd.concat(rankings, ignore_index=True)
    return result


def design_size(study: Study, n_factors: int) -> int:
    """Model runs per replication the study needs."""
    n_groups = len(study.groups)
    total = 0
    if study.morris is not None:
        k = n_groups if study.morris.grouped else n_factors
        total += study.morris.trajectories * (k + 1)
    if study.sobol is not None:
        k = n_groups if study.sobol.grouped else n_factors
        total += study.sobol.samples * ((2 * k + 2) if study.sobol.second_order else (k + 2))
    return total


def run_study(path: str | Path, *, workers: int = 1, scheduler: str | None = None,
              progress: Progress | None = None, store: str | Path | None = None) -> SensitivityResult:
    """Read a study file, run the model over its designs and compute the indices.

    Args:
        path: the study TOML.
        workers: processes for the model runs (1 = in this process). Results do not depend on it.
        scheduler: a Dask scheduler address to run the samples on a cluster instead.
        progress: called as progress(done, total) after each model sample.
        store: a SQLite file that keeps each sample's outcomes as it finishes; running the same
            study again with it skips them (a file holding another study is refused).
    """
    study = load_study(path)
    scenario = base_scenario(study)
    factors = study_factors(study, scenario)
    total = design_size(study, len(factors))
    done = 0

    def tick(_finished: int, _of: int) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    identity = {"study": Path(path).read_text(encoding="utf-8"), "scenario": scenario.content_hash(),
                "outcomes": list(study.outcomes)}
    samples = SampleStore.open(store, identity) if store is not None else None
    try:
        evaluator = ModelEvaluator(scenario, factors, study.outcomes, days=study.days, seed=study.seed,
                                   replications=study.replications, workers=workers,
                                   scheduler=scheduler, progress=tick, store=samples)
        return sensitivity(factors, study.outcomes, evaluator, morris=study.morris, sobol=study.sobol,
                           seed=study.seed)
    finally:
        if samples is not None:
            samples.close()


__all__ = ["Factor", "Group", "ModelEvaluator", "MorrisSpec", "SensitivityResult", "SobolSpec",
           "Study", "StudyError", "apply_factors", "base_scenario", "design_size", "group_ranking",
           "load_study", "morris_indices", "ranking_uncertainty", "replication_seeds", "run_study",
           "salib_problem", "sensitivity", "sobol_indices", "study_factors", "top_separated"]
