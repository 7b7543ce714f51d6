"""Mutants of the shipped scenario files, for property tests and the hand-run fuzz.

A mutant is the parsed TOML of a shipped scenario with a few random edits: a value replaced by a
random TOML value of another type, a key deleted, an unknown key added, an array emptied, a
number made negative or huge. `mutate` draws its choices from a `random.Random`, so Hypothesis
(`st.randoms()`) and the fuzz script (`random.Random(seed)`) share it.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import random
import tomllib
from pathlib import Path
from typing import Any

from scenarios import SCENARIO_DIR

SHIPPED = sorted(p for p in SCENARIO_DIR.glob("*.toml"))
EDITS = ("retype", "delete", "add", "empty", "negate", "huge", "tiny", "nan", "zero", "one")


def shipped_data(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A random TOML value of any type (nested arrays and tables up to two levels)."""
    kinds = ["int", "float", "str", "bool", "date", "special"]
    if depth < 2:
        kinds += ["list", "table"]
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.choice([0, 1, -1, 2, 7, 10**9, -(10**12), 2**63 - 1, rng.randint(-1000, 1000)])
    if kind == "float":
        return rng.choice([0.0, -0.5, 0.5, 1.0, 1.5, 1e300, -1e-300, rng.uniform(-1e4, 1e4)])
    if kind == "special":
        return rng.choice([math.inf, -math.inf, math.nan])
    if kind == "str":
        return rng.choice(["", "x", "baseline", "lognormal", "9:00", "千", " ", "1.0", "true"])
    if kind == "bool":
        return rng.choice([True, False])
    if kind == "date":
        return rng.choice([dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 9, 0), dt.time(9, 30)])
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["a", "name", "sessions", "x y"]): random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 2))}


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path (dict keys and list indexes) below `data`, tables included."""
    found = []
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return found
    for key, value in items:
        found.append((*prefix, key))
        found.extend(_paths(value, (*prefix, key)))
    return found


def _parent(data: Any, path: tuple) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


NUMBER_EDITS = {
    "negate": lambda v: -v - 1,
    "huge": lambda v: v * 10**12 + 10**15 if isinstance(v, int) else v * 1e12 + 1e15,
    "tiny": lambda v: v * 1e-9 if isinstance(v, float) else 1,
    "nan": lambda v: math.nan,
    "zero": lambda v: type(v)(0),
    "one": lambda v: type(v)(1),
}


def _edit(data: dict[str, Any], rng: random.Random) -> None:
    paths = _paths(data)
    path = rng.choice(paths) if paths else ()
    edit = rng.choice(EDITS)
    if not path or edit == "add":
        container = _parent(data, path) if path else data
        if not isinstance(container, dict):
            container = data
        key = rng.choice(["unknown_key", "sessions", "days", "population", "departments", "matters",
                          "provenance", "policy", "countermeasures", "stations", "hall"])
        container[key] = random_value(rng)
        return
    parent, key = _parent(data, path), path[-1]
    value = parent[key]
    if edit == "delete":
        if isinstance(parent, list):
            parent.pop(key)
        else:
            del parent[key]
    elif edit == "empty":
        parent[key] = [] if not isinstance(value, dict) or rng.random() < 0.5 else {}
    elif edit in NUMBER_EDITS and isinstance(value, int | float) and not isinstance(value, bool):
        parent[key] = NUMBER_EDITS[edit](value)
    else:
        replacement = random_value(rng)
        while type(replacement) is type(value):
            replacement = random_value(rng)
        parent[key] = replacement


def mutate(data: dict[str, Any], rng: random.Random, edits: int | None = None) -> dict[str, Any]:
    """A copy of `data` with `edits` (default 1-3) random edits."""
    mutant = copy.deepcopy(data)
    for _ in range(edits if edits is not None else rng.randint(1, 3)):
        _edit(mutant, rng)
    return mutant


def write_mutant(data: dict[str, Any], path: Path) -> Path:
    """Write a mutant as TOML (tomli_w cannot write every value; the caller skips those)."""
    import tomli_w

    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


# a small county for running mutants: enough residents that some cases finish in three days
SMALL_RUN = {"jurisdiction.population": 5000, "scenario.warmup_days": 0}
RUN_DAYS = 3
# KPIs over completed cases: they have a value whenever a case was completed
PER_COMPLETED_CASE = ("visits_per_case", "share_zero_visit", "share_at_most_once",
                      "days_to_complete_mean", "overdue_share", "resubmissions_per_case",
                      "online_share", "satisfaction_mean", "share_satisfied", "rating_participation")


def run_small(scenario) -> dict[str, float]:
    """KPIs of `scenario` scaled to 5,000 residents (enterprises capped at 200), three days."""
    from simulation import ServiceModel

    updates = dict(SMALL_RUN)
    if scenario.jurisdiction.enterprises:
        updates["jurisdiction.enterprises"] = min(scenario.jurisdiction.enterprises, 200)
    return ServiceModel(scenario.with_updates(updates), seed=0).run(RUN_DAYS)


def nonfinite_kpis(kpis: dict[str, float]) -> list[str]:
    """KPIs that are infinite, or NaN although their denominator (completed cases) is not zero."""
    bad = [k for k, v in kpis.items() if isinstance(v, float) and math.isinf(v)]
    if kpis["cases_completed"] > 0:
        bad += [k for k in PER_COMPLETED_CASE if math.isnan(kpis[k])]
    return bad
