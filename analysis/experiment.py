"""Experiments: a scenario x countermeasure arms x replications (x samples of uncertain parameters).

An experiment is data (`Experiment`, or an experiment TOML file read by `load_experiment`).
Replication r of every arm and every sample runs with the seed
`SeedSequence(experiment seed, spawn_key=(r,))`, so all arms of a replication see the same
citizens, arrivals and draws until the policies make them diverge (common random numbers): the
difference between two arms is the policy, not the noise.

`run_experiment` sends the runs still missing from the result store to an executor
(`analysis.executors`) and stores each as it finishes, so re-running the same experiment after
a crash or Ctrl-C resumes without losing or repeating a finished run.
"""

from __future__ import annotations

import gc
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation import ServiceModel, load_scenario
from simulation.scenario import MAX_DAYS, Scenario, ScenarioError

BASELINE = "baseline"


class ExperimentError(ValueError):
    """An experiment that cannot be run as given (the message names the file or key)."""


@dataclass(frozen=True)
class Arm:
    """One arm: a name and the countermeasure overlays stacked on the scenario (none = baseline)."""

    name: str
    overlays: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunSpec:
    """One run of the experiment: an arm, a replication and a parameter sample."""

    arm: str
    replication: int
    sample: int
    scenario: Scenario
    days: int
    seed: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.arm, self.replication, self.sample)

    def seed_sequence(self) -> np.random.SeedSequence:
        """The replication's seed: the same for every arm and sample (common random numbers)."""
        return np.random.SeedSequence(self.seed, spawn_key=(self.replication,))


@dataclass(frozen=True)
class RunOutcome:
    """What one run produced: its KPIs, its per-day KPIs and its wall time."""

    kpis: dict[str, float]
    daily: pd.DataFrame
    seconds: float


def execute(run: RunSpec) -> RunOutcome:
    """Run one `RunSpec` (a top-level function, so process and Dask workers can import it)."""
    start = time.perf_counter()
    model = ServiceModel(run.scenario, seed=run.seed_sequence())
    kpis = model.run(run.days)
    daily = model.daily()
    del model
    gc.collect()  # the model's agents reference it: free its arrays now, not at some later sweep
    return RunOutcome(kpis=kpis, daily=daily, seconds=time.perf_counter() - start)


def _name_of(overlay: str) -> str:
    """Arm name of an overlay: its file stem (`q_county/staff_training` -> `staff_training`)."""
    return Path(overlay).stem


@dataclass(frozen=True)
class Experiment:
    """Scenario x arms x replications (x samples of uncertain parameters).

    Args:
        scenario: a shipped scenario name or a scenario TOML path.
        arms: the arms; the first must be the baseline (no overlays), named "baseline".
        replications: runs per arm and sample (at least 2 for confidence intervals).
        seed: the experiment seed; replication r uses SeedSequence(seed, spawn_key=(r,)).
        days: working days per run (default: the scenario's own).
        updates: dotted-key changes applied to every arm (e.g. {"jurisdiction.population": 1e5}).
        samples: parameter samples (dotted key -> value), each applied to every arm; empty means
            one sample with the scenario's own values.
        posterior: a calibration's posterior.csv (a column per parameter path, and `weight`):
            `draws` particles are resampled by weight once per experiment, with
            SeedSequence(seed, spawn_key=(2**32 - 1,)), and replication r of every arm runs with
            draw r mod draws set on its scenario, so effects carry parameter uncertainty too.
        draws: posterior draws (default: one per replication).
    """

    scenario: str
    arms: tuple[Arm, ...]
    replications: int = 10
    seed: int = 0
    days: int | None = None
    updates: Mapping[str, Any] = field(default_factory=dict)
    samples: tuple[Mapping[str, Any], ...] = ()
    posterior: str | None = None
    draws: int | None = None

    def __post_init__(self) -> None:
        if self.draws is not None and (self.posterior is None or self.draws < 1):
            raise ExperimentError("draws: needs a posterior and must be at least 1 "
                                  f"(got {self.draws})")
        if not self.arms or self.arms[0].overlays or self.arms[0].name != BASELINE:
            raise ExperimentError("the first arm must be the baseline: name 'baseline', no overlays")
        names = [arm.name for arm in self.arms]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ExperimentError(f"arm names must be unique; repeated: {duplicated}")
        if self.replications < 1:
            raise ExperimentError(f"replications must be at least 1 (got {self.replications})")
        if self.days is not None and not 1 <= self.days <= MAX_DAYS:
            raise ExperimentError(f"days must be from 1 to {MAX_DAYS} (got {self.days})")
        if self.seed < 0:
            raise ExperimentError(f"seed must be a non-negative integer (got {self.seed})")

    @classmethod
    def build(cls, scenario: str | Path, countermeasures: Iterable[str] = (),
              packages: Mapping[str, Sequence[str]] | None = None, **options: Any) -> Experiment:
        """Baseline, one arm per countermeasure, and one arm per named package of overlays."""
        arms = [Arm(BASELINE)]
        arms += [Arm(_name_of(str(cm)), (str(cm),)) for cm in countermeasures]
        arms += [Arm(name, tuple(str(o) for o in overlays)) for name, overlays in (packages or {}).items()]
        return cls(scenario=str(scenario), arms=tuple(arms), **options)

    def resolve(self) -> dict[str, list[Scenario]]:
        """Each arm's validated scenario for each sample (raises ScenarioError on bad input)."""
        resolved: dict[str, list[Scenario]] = {}
        samples = self.samples or ({},)
        for arm in self.arms:
            base = load_scenario(self.scenario, list(arm.overlays), updates=dict(self.updates) or None)
            resolved[arm.name] = [base.with_updates(dict(s), source=f"<sample {i}>") if s else base
                                  for i, s in enumerate(samples)]
        return resolved

    def runs(self, resolved: Mapping[str, list[Scenario]] | None = None) -> list[RunSpec]:
        """Every run, replication-major (so a partial experiment has whole replications)."""
        resolved = resolved if resolved is not None else self.resolve()
        draws = self.posterior_draws()
        specs = []
        for r in range(self.replications):
            for arm in self.arms:
                for i, scenario in enumerate(resolved[arm.name]):
                    if draws:
                        scenario = self._with_draw(scenario, draws, r % len(draws))
                    days = self.days if self.days is not None else scenario.scenario.days
                    specs.append(RunSpec(arm.name, r, i, scenario, days, self.seed))
        return specs

    def posterior_draws(self) -> list[dict[str, float]]:
        """The posterior draws (parameter path -> value), drawn once; empty without a posterior."""
        if self.posterior is None:
            return []
        frame = read_posterior(self.posterior)
        weights = frame.pop("weight").to_numpy(dtype=float)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(POSTERIOR_KEY,)))
        picks = rng.choice(len(frame), size=self.draws or self.replications, p=weights / weights.sum())
        return [{k: float(v) for k, v in frame.iloc[int(p)].items()} for p in picks]

    def _with_draw(self, scenario: Scenario, draws: list[dict[str, float]], k: int) -> Scenario:
        from analysis.calibration.priors import expand_path, scenario_updates

        updates = scenario_updates(scenario, draws[k])
        missing = [p for p in draws[k] if not expand_path(scenario, p)]
        if missing:
            raise ExperimentError(f"{self.posterior}: column {missing[0]!r} is not a parameter "
                                  "path of the scenario")
        try:
            return scenario.with_updates(updates, source=f"{self.posterior} (draw {k})")
        except ScenarioError as error:
            raise ExperimentError(f"{self.posterior}: draw {k}: {error}") from None

    def identity(self) -> dict[str, Any]:
        """What makes two experiments the same (for resuming): all but the replication count."""
        identity = {"scenario": self.scenario, "seed": self.seed, "days": self.days,
                    "arms": [[a.name, list(a.overlays)] for a in self.arms],
                    "updates": dict(sorted(self.updates.items())),
                    "samples": [dict(sorted(s.items())) for s in self.samples]}
        if self.posterior is not None:
            import hashlib

            identity["posterior"] = {
                "sha256": hashlib.sha256(Path(self.posterior).read_bytes()).hexdigest(),
                "draws": self.draws or self.replications}
        return identity


POSTERIOR_KEY = 2**32 - 1  # spawn key of the posterior resampling (never a replication index)


def read_posterior(path: str | Path) -> pd.DataFrame:
    """A calibration's posterior.csv: numeric parameter columns and a `weight` column
    (`distance`, if present, is dropped)."""
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"{path}: no such posterior file (a calibration's posterior.csv)")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ExperimentError(f"{path}: not a readable CSV ({error})") from None
    frame = frame.drop(columns=[c for c in ("distance",) if c in frame])
    if "weight" not in frame or len(frame.columns) < 2 or frame.empty:
        raise ExperimentError(f"{path}: a posterior needs a column per parameter path and a "
                              f"weight column (found {list(frame.columns)})")
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    bad = [c for c in frame if numeric[c].isna().any() or not np.isfinite(numeric[c]).all()]
    if bad:
        raise ExperimentError(f"{path}: column {bad[0]!r}: every value must be a finite number")
    if (numeric["weight"] < 0).any() or numeric["weight"].sum() <= 0:
        raise ExperimentError(f"{path}: weight: must be >= 0 with a positive sum")
    return numeric


_EXPERIMENT_KEYS = {"scenario", "replications", "seed", "days", "countermeasures", "packages",
                    "updates", "samples", "posterior", "draws"}


# command-line options that may stand in for a key of the [experiment] table
OPTION_KEYS = {"replications": "--reps", "seed": "--seed", "days": "--days"}


def load_experiment(path: str | Path, options: Mapping[str, Any] | None = None) -> Experiment:
    """Read an experiment TOML: an `[experiment]` table with scenario, countermeasures (list),
    packages (name -> list of overlays), replications, seed, days, updates, samples.

    `options` are values given on the command line for `replications`, `seed` and `days` (None:
    not given). A key the file leaves out takes the option's value; a key the file sets must
    agree with the option, else `ExperimentError` names both (an option never silently loses to,
    or overrides, the file)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExperimentError(f"{path}: no such experiment file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ExperimentError(f"{path}: not valid TOML ({error})") from None
    table = data.get("experiment")
    if not isinstance(table, dict) or set(data) != {"experiment"}:
        raise ExperimentError(f"{path}: an experiment file holds one [experiment] table "
                              f"(found {sorted(data)})")
    unknown = set(table) - _EXPERIMENT_KEYS
    if unknown:
        raise ExperimentError(f"{path}: experiment.{sorted(unknown)[0]}: unknown key; allowed: "
                              f"{', '.join(sorted(_EXPERIMENT_KEYS))}")
    if not isinstance(table.get("scenario"), str):
        raise ExperimentError(f"{path}: experiment.scenario: a scenario name or path is required")
    scenario = table["scenario"]
    if not Path(scenario).is_absolute() and (path.parent / scenario).exists():
        scenario = str(path.parent / scenario)

    def typed(key: str, kind: type, default: Any) -> Any:
        value = table.get(key, default)
        if value is not default and (not isinstance(value, kind) or isinstance(value, bool) and kind is int):
            raise ExperimentError(f"{path}: experiment.{key}: must be {kind.__name__} (got {value!r})")
        return value

    for key, value in (options or {}).items():
        if value is None:
            continue
        if key in table and table[key] != value:
            raise ExperimentError(f"{OPTION_KEYS[key]} {value} conflicts with {key} = {table[key]!r} in "
                                  f"{path} [experiment]; drop the option or change the file")
        table.setdefault(key, value)
    countermeasures = typed("countermeasures", list, [])
    packages = typed("packages", dict, {})
    for name, overlays in packages.items():
        if not isinstance(overlays, list) or not all(isinstance(o, str) for o in overlays):
            raise ExperimentError(f"{path}: experiment.packages.{name}: a list of overlay names")
    posterior = typed("posterior", str, None)
    if posterior is not None and not Path(posterior).is_absolute():
        posterior = str(path.parent / posterior)
    samples = typed("samples", list, [])
    if not all(isinstance(s, dict) for s in samples):
        raise ExperimentError(f"{path}: experiment.samples: a list of tables of dotted keys")
    try:
        return Experiment.build(scenario, countermeasures, packages,
                                replications=typed("replications", int, 10), seed=typed("seed", int, 0),
                                days=typed("days", int, None), updates=typed("updates", dict, {}),
                                samples=tuple(samples), posterior=posterior,
                                draws=typed("draws", int, None))
    except ExperimentError as error:
        raise ExperimentError(f"{path}: {error}") from None


Progress = Callable[[int, int], None]


def run_experiment(experiment: Experiment, store_path: str | Path, *, executor: Any = None,
                   progress: Progress | None = None) -> pd.DataFrame:
    """Run what is missing from the store at `store_path`; return every run's KPIs.

    Args:
        experiment: what to run.
        store_path: the SQLite result file (created if absent; resumed if it holds this
            experiment; an error if it holds another).
        executor: an `analysis.executors` executor (default: serial).
        progress: called with (finished, total) after each run, counting runs already stored.
    """
    from analysis.executors import SerialExecutor
    from analysis.store import ResultStore

    try:
        resolved = experiment.resolve()
    except ScenarioError as error:
        raise ExperimentError(str(error)) from None
    hashes = {arm: [s.content_hash() for s in scenarios] for arm, scenarios in resolved.items()}
    costs = {arm: sum(c["cost_per_year"] for c in scenarios[0].countermeasures)
             for arm, scenarios in resolved.items()}
    try:
        runs = experiment.runs(resolved)
    except ScenarioError as error:
        raise ExperimentError(str(error)) from None
    with ResultStore.open(store_path, experiment, hashes=hashes, costs=costs) as store:
        done = store.finished_keys()
        todo = [run for run in runs if run.key not in done]
        finished = len(runs) - len(todo)
        if progress is not None:
            progress(finished, len(runs))
        for run, outcome in (executor or SerialExecutor()).map(execute, todo):
            store.add(run, outcome, scenario_hash=hashes[run.arm][run.sample])
            finished += 1
            if progress is not None:
                progress(finished, len(runs))
        return store.kpis()


__all__ = ["BASELINE", "POSTERIOR_KEY", "Arm", "Experiment", "ExperimentError", "RunOutcome", "RunSpec", "execute",
           "load_experiment", "read_posterior", "run_experiment"]
