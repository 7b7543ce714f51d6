"""Priors of a calibration: one distribution per parameter path, read strictly from TOML.

Priors file format (one table per parameter path; an unknown key is an error naming the file and
the key)::

    [priors."behaviour.missing_material_prob"]
    distribution = "uniform"                 # uniform: low, high
    low = 0.05
    high = 0.5
    provenance = "q_county thesis: materials returned 'often'; range is an assumption"

    [priors."departments.*.coordination"]    # '*' sets that parameter of every department
    distribution = "normal"                  # normal: mean, sd; optional low/high truncate it
    mean = 0.5
    sd = 0.2
    low = 0.0
    high = 1.0
    provenance = "assumption — to calibrate"

    [priors."behaviour.habit_strength"]
    distribution = "beta"                    # beta: a, b (support 0..1)
    a = 2.0
    b = 2.0
    provenance = "assumption — to calibrate"
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    from simulation.scenario import Scenario


class CalibrationError(ValueError):
    """Calibration input that cannot be used (the message names the file or key and what is allowed)."""


_PARAMETERS = {"uniform": ("low", "high"), "normal": ("mean", "sd"), "beta": ("a", "b")}
_OPTIONAL = {"uniform": (), "normal": ("low", "high"), "beta": ()}


@dataclass(frozen=True)
class Prior:
    """The prior of one parameter path.

    Args:
        path: the scenario parameter path (e.g. "behaviour.missing_material_prob").
        distribution: "uniform", "normal" (truncated to [low, high] when bounds are given) or "beta".
        params: the distribution's numbers (low/high; mean/sd[/low/high]; a/b).
        provenance: where the prior comes from.
    """

    path: str
    distribution: str
    params: Mapping[str, float]
    provenance: str = ""

    def __post_init__(self) -> None:
        where = f"priors.{self.path!r}"
        if self.distribution not in _PARAMETERS:
            raise CalibrationError(f"{where}.distribution: {self.distribution!r} is not allowed; "
                                   f"allowed: {', '.join(_PARAMETERS)}")
        allowed = set(_PARAMETERS[self.distribution]) | set(_OPTIONAL[self.distribution])
        missing = [k for k in _PARAMETERS[self.distribution] if k not in self.params]
        if missing:
            raise CalibrationError(f"{where}.{missing[0]}: required for a {self.distribution} prior")
        extra = sorted(set(self.params) - allowed)
        if extra:
            raise CalibrationError(f"{where}.{extra[0]}: not a parameter of a {self.distribution} "
                                   f"prior; allowed: {', '.join(sorted(allowed))}")
        for key, value in self.params.items():
            if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
                raise CalibrationError(f"{where}.{key}: must be a finite number (got {value!r})")
        p = self.params
        if self.distribution == "uniform" and not p["low"] < p["high"]:
            raise CalibrationError(f"{where}: low must be below high (got {p['low']}, {p['high']})")
        if self.distribution == "normal":
            if p["sd"] <= 0:
                raise CalibrationError(f"{where}.sd: must be positive (got {p['sd']})")
            if p.get("low", -math.inf) >= p.get("high", math.inf):
                raise CalibrationError(f"{where}: low must be below high "
                                       f"(got {p.get('low')}, {p.get('high')})")
        if self.distribution == "beta":
            for key in ("a", "b"):
                if p[key] <= 0:
                    raise CalibrationError(f"{where}.{key}: must be positive (got {p[key]})")

    @property
    def frozen(self) -> Any:
        """The scipy.stats frozen distribution."""
        p = self.params
        if self.distribution == "uniform":
            return stats.uniform(loc=p["low"], scale=p["high"] - p["low"])
        if self.distribution == "beta":
            return stats.beta(p["a"], p["b"])
        low, high = p.get("low", -math.inf), p.get("high", math.inf)
        return stats.truncnorm((low - p["mean"]) / p["sd"], (high - p["mean"]) / p["sd"],
                               loc=p["mean"], scale=p["sd"])

    @property
    def support(self) -> tuple[float, float]:
        p = self.params
        if self.distribution == "uniform":
            return float(p["low"]), float(p["high"])
        if self.distribution == "beta":
            return 0.0, 1.0
        return float(p.get("low", -math.inf)), float(p.get("high", math.inf))

    def sd(self) -> float:
        return float(self.frozen.std())

    def identity(self) -> dict[str, Any]:
        return {"path": self.path, "distribution": self.distribution,
                "params": {k: float(v) for k, v in sorted(self.params.items())}}


class Priors(Sequence[Prior]):
    """The priors of every calibrated parameter, in file order (the column order of particles)."""

    def __init__(self, priors: Sequence[Prior], *, source: str = "<priors>") -> None:
        if not priors:
            raise CalibrationError(f"{source}: at least one prior is needed")
        names = [p.path for p in priors]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise CalibrationError(f"{source}: parameter paths repeated: {repeated}")
        self._priors, self.source = tuple(priors), source

    def __getitem__(self, index: Any) -> Any:
        return self._priors[index]

    def __len__(self) -> int:
        return len(self._priors)

    def __iter__(self) -> Iterator[Prior]:
        return iter(self._priors)

    @property
    def names(self) -> list[str]:
        return [p.path for p in self._priors]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` draws from the joint prior (independent parameters), shape (n, parameters)."""
        return np.column_stack([p.frozen.rvs(size=n, random_state=rng) for p in self._priors])

    def in_support(self, theta: np.ndarray) -> np.ndarray:
        """Whether each row of `theta` (n, parameters) lies in the prior's support."""
        theta = np.atleast_2d(theta)
        ok = np.ones(len(theta), dtype=bool)
        for j, prior in enumerate(self._priors):
            low, high = prior.support
            ok &= (theta[:, j] >= low) & (theta[:, j] <= high)
        return ok

    def logpdf(self, theta: np.ndarray) -> np.ndarray:
        """Log prior density of each row of `theta` (-inf outside the support)."""
        theta = np.atleast_2d(theta)
        total = np.zeros(len(theta))
        for j, prior in enumerate(self._priors):
            total += prior.frozen.logpdf(theta[:, j])
        return np.where(self.in_support(theta), total, -np.inf)

    def sds(self) -> np.ndarray:
        return np.array([p.sd() for p in self._priors])

    def identity(self) -> str:
        """JSON text that is the same for the same priors (provenance notes excluded)."""
        return json.dumps([p.identity() for p in self._priors], sort_keys=True)


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CalibrationError(f"{path}: no such priors file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CalibrationError(f"{path}: not valid TOML ({error})") from None


def load_priors(path: str | Path, scenario: Scenario | None = None) -> Priors:
    """Read a priors TOML strictly; with `scenario`, check every path is a numeric parameter of it
    and that the prior's support lies inside the parameter's allowed range.

    Raises:
        CalibrationError: naming the file, the key and what is allowed.
    """
    path = Path(path)
    data = _read(path)
    if set(data) != {"priors"} or not isinstance(data["priors"], dict):
        raise CalibrationError(f"{path}: a priors file holds one [priors] table of parameter paths "
                               f"(found {sorted(data) or 'nothing'})")
    priors = []
    for name, table in data["priors"].items():
        where = f"priors.{name!r}"
        if not isinstance(table, dict):
            raise CalibrationError(f"{path}: {where}: must be a table with distribution, its "
                                   "parameters and provenance")
        distribution = table.get("distribution")
        if distribution not in _PARAMETERS:
            raise CalibrationError(f"{path}: {where}.distribution: {distribution!r} is not allowed; "
                                   f"allowed: {', '.join(_PARAMETERS)}")
        allowed = {"distribution", "provenance", *_PARAMETERS[distribution], *_OPTIONAL[distribution]}
        extra = sorted(set(table) - allowed)
        if extra:
            raise CalibrationError(f"{path}: {where}.{extra[0]}: unknown key for a {distribution} "
                                   f"prior; allowed: {', '.join(sorted(allowed))}")
        provenance = table.get("provenance")
        if not isinstance(provenance, str) or not provenance.strip():
            raise CalibrationError(f"{path}: {where}.provenance: required (a note saying where "
                                   "the prior comes from)")
        params = {k: v for k, v in table.items() if k not in ("distribution", "provenance")}
        try:
            priors.append(Prior(name, distribution, params, provenance))
        except CalibrationError as error:
            raise CalibrationError(f"{path}: {error}") from None
    result = Priors(priors, source=str(path))
    if scenario is not None:
        for prior in result:
            try:
                check_against_scenario(prior, scenario)
            except CalibrationError as error:
                raise CalibrationError(f"{path}: {error}") from None
    return result


def expand_path(scenario: Scenario, path: str) -> list[str]:
    """The concrete parameter paths a (possibly '*'-wildcarded) path names in `scenario`."""
    from simulation.scenario import parameter_paths

    parts = path.split(".")
    return [p for p in parameter_paths(scenario)
            if len(p.split(".")) == len(parts)
            and all(a == "*" or a == b for a, b in zip(parts, p.split("."), strict=True))]


def scenario_updates(scenario: Scenario, params: Mapping[str, float]) -> dict[str, float]:
    """Dotted-key updates that set each (wildcard) parameter path of `scenario` to its value."""
    return {concrete: float(value) for name, value in params.items()
            for concrete in expand_path(scenario, name)}


def check_against_scenario(prior: Prior, scenario: Scenario) -> None:
    """Raise CalibrationError unless the prior's path is a numeric parameter of `scenario` whose
    allowed range holds the prior's support."""
    from simulation.scenario import ScenarioError

    where = f"priors.{prior.path!r}"
    hits = expand_path(scenario, prior.path)
    if not hits:
        raise CalibrationError(f"{where}: not a parameter of scenario {scenario.scenario.name!r} "
                               "(see simulation/scenario.py)")
    data = scenario.model_dump(mode="python")
    for hit in hits:
        node: Any = data
        for part in hit.split("."):
            node = node[part]
        if isinstance(node, bool) or not isinstance(node, int | float):
            raise CalibrationError(f"{where}: {hit} is not a numeric parameter (got {node!r})")
        if isinstance(node, int):
            raise CalibrationError(f"{where}: {hit} is an integer parameter; calibrate real-valued "
                                   "parameters only")
    low, high = prior.support
    probes = [v for v in (low, high) if math.isfinite(v)] or [float(prior.frozen.mean())]
    for value in probes:
        try:
            scenario.with_updates({h: value for h in hits}, source=where)
        except ScenarioError as error:
            raise CalibrationError(f"{where}: support [{low}, {high}] is not allowed for this "
                                   f"parameter: {error}") from None


__all__ = ["CalibrationError", "Prior", "Priors", "check_against_scenario", "expand_path",
           "load_priors", "scenario_updates"]
