"""Property tests: no scenario file, however mangled, gets past the loader as a traceback.

Mutants of the shipped scenarios (values replaced by TOML values of other types, keys deleted
or added, arrays emptied, numbers negated, made huge, tiny, zero or NaN) either load or raise
`ScenarioError`; a few accepted mutants also run for three days on a small population without an
exception and with a value for every KPI over completed cases when some case was completed.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.scenario import ScenarioError, load_scenario
from tests.fuzz.mutants import (
    SHIPPED,
    mutate,
    nonfinite_kpis,
    run_small,
    shipped_data,
    write_mutant,
)

BASES = {path.name: shipped_data(path) for path in SHIPPED}
names = st.sampled_from(sorted(BASES))


def _load_mutant(tmp_path_factory, name: str, rng: random.Random, edits: int | None):
    path = tmp_path_factory.mktemp("mutant") / "scenario.toml"
    try:
        write_mutant(mutate(BASES[name], rng, edits), path)
    except (TypeError, ValueError):  # a value TOML cannot hold (e.g. a list of tables of nothing)
        return None
    try:
        return load_scenario(path)
    except ScenarioError as error:
        assert str(path) in str(error) or "<updates>" in str(error), str(error)
        return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, rng=st.randoms(use_true_random=False))
def test_a_mutated_scenario_loads_or_raises_a_scenario_error(tmp_path_factory, name, rng):
    _load_mutant(tmp_path_factory, name, rng, None)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, seed=st.integers(0, 2**32 - 1))
def test_an_accepted_mutant_runs_without_exception_or_missing_kpis(tmp_path_factory, name, seed):
    rng = random.Random(seed)
    for _ in range(40):  # most mutants are refused: draw until one loads
        scenario = _load_mutant(tmp_path_factory, name, rng, 1)
        if scenario is not None:
            break
    else:
        pytest.fail(f"no mutant of {name} in 40 loaded")
    kpis = run_small(scenario)
    assert kpis["cases_completed"] >= 0 and nonfinite_kpis(kpis) == []


@pytest.mark.parametrize(("text", "key"), [
    ("departments = 5", "departments"),
    ('provenance = "x"', "provenance"),
    ("matters = []", "matters"),
    ("hall = 3", "hall"),
    ("[departments]\nmarket_regulation = 1", "departments.market_regulation"),
    ("[stations]\nsessions = []", "stations.sessions"),
    ("[hall]\narrival_profile = [0.0, 0.0]", "hall.arrival_profile"),
    ("[behaviour]\nsatisfaction_cutpoints = [-1.0, nan, 0.5, 1.5]", "behaviour.satisfaction_cutpoints"),
])
def test_a_section_of_the_wrong_shape_is_a_scenario_error_naming_file_and_key(tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text('[scenario]\nname = "x"\n[jurisdiction]\npopulation = 1000\n' + text + "\n",
                    encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert str(path) in message and key in message, message


def test_a_wrongly_shaped_overlay_section_names_the_overlay(tmp_path):
    overlay = tmp_path / "cm.toml"
    overlay.write_text('[countermeasure]\nname = "cm"\npolicy = [1, 2]\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario("baseline", [overlay])
    assert str(overlay) in str(caught.value) and "policy" in str(caught.value)
