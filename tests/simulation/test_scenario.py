"""Strict scenario loading: every bad input is an error naming file, key path and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios import COUNTERMEASURE_DIR, SCENARIO_DIR, shipped_countermeasures, shipped_scenarios
from simulation import ScenarioError, load_scenario
from simulation.scenario import parameter_paths

BASELINE = SCENARIO_DIR / "baseline.toml"


def _overlay(tmp_path: Path, body: str, name: str = "cm.toml") -> Path:
    path = tmp_path / name
    path.write_text('[countermeasure]\nname = "test"\n\n' + body, encoding="utf-8")
    return path


def test_baseline_loads_with_its_catalogue():
    s = load_scenario("baseline")
    assert s.jurisdiction.population == 300_000
    assert "market_regulation" in s.departments and len(s.matters) >= 10
    assert s.countermeasures == []


def test_a_typo_in_a_lever_name_is_an_error_naming_file_and_key(tmp_path):
    cm = _overlay(tmp_path, "[policy]\ndata_shareing = 0.8\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario("baseline", [cm])
    message = str(info.value)
    assert str(cm) in message and "policy.data_shareing" in message and "unknown key" in message


def test_out_of_range_value_names_the_allowed_range(tmp_path):
    cm = _overlay(tmp_path, "[policy]\ndata_sharing = 1.5\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario("baseline", [cm])
    message = str(info.value)
    assert "policy.data_sharing" in message and "<= 1.0" in message and str(cm) in message


def test_wrong_type_is_an_error(tmp_path):
    cm = _overlay(tmp_path, '[policy]\nparallel_approval = "yes"\n')
    with pytest.raises(ScenarioError, match=r"policy\.parallel_approval"):
        load_scenario("baseline", [cm])
    cm = _overlay(tmp_path, "[hall]\nwindows = 12.5\n", "cm2.toml")
    with pytest.raises(ScenarioError, match=r"hall\.windows"):
        load_scenario("baseline", [cm])


def test_errors_in_the_scenario_itself_name_the_scenario_file(tmp_path):
    text = BASELINE.read_text(encoding="utf-8").replace("population = 300000", "population = -5")
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    assert str(bad) in str(info.value) and "jurisdiction.population" in str(info.value)


def test_unknown_department_in_a_matter_is_an_error(tmp_path):
    cm = _overlay(tmp_path, '[matters.social_security_certificate]\ndepartments = ["ministry_of_magic"]\n')
    with pytest.raises(ScenarioError, match="ministry_of_magic"):
        load_scenario("baseline", [cm])


def test_not_toml_missing_file_and_overlay_as_scenario(tmp_path):
    junk = tmp_path / "junk.toml"
    junk.write_text("[policy\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(junk)
    with pytest.raises(ScenarioError, match="no such"):
        load_scenario(tmp_path / "absent.toml")
    with pytest.raises(ScenarioError, match="no shipped countermeasure"):
        load_scenario("baseline", ["no_such_countermeasure"])
    with pytest.raises(ScenarioError, match="countermeasure overlay, not a scenario"):
        load_scenario(COUNTERMEASURE_DIR / "one_window.toml")


def test_overlay_needs_a_countermeasure_table(tmp_path):
    path = tmp_path / "plain.toml"
    path.write_text("[policy]\npublicity = 0.5\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"\[countermeasure\]"):
        load_scenario("baseline", [path])
    cm = tmp_path / "cost.toml"
    cm.write_text('[countermeasure]\nname = "x"\ncost_per_year = -3\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="cost_per_year"):
        load_scenario("baseline", [cm])
    cm.write_text('[countermeasure]\nname = "x"\nvalidation = 3\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="countermeasure.validation: must be text"):
        load_scenario("baseline", [cm])
    cm.write_text('[countermeasure]\nname = "x"\nvalidaton = "y"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="countermeasure.validaton: unknown key"):
        load_scenario("baseline", [cm])


def test_overlays_stack_in_order_and_are_recorded(tmp_path):
    first = _overlay(tmp_path, "[policy]\npublicity = 0.3\ndata_sharing = 0.5\n", "a.toml")
    second = _overlay(tmp_path, "[policy]\npublicity = 0.9\n", "b.toml")
    s = load_scenario("baseline", [first, second])
    assert s.policy.publicity == 0.9 and s.policy.data_sharing == 0.5
    assert [c["file"] for c in s.countermeasures] == ["a.toml", "b.toml"]
    # untouched levers keep the baseline's values
    assert s.policy.comprehensive_window_share == load_scenario("baseline").policy.comprehensive_window_share


def test_provenance_must_name_real_parameters(tmp_path):
    text = BASELINE.read_text(encoding="utf-8") + '\n"policy.publicty" = "typo"\n'
    bad = tmp_path / "prov.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match="policy.publicty"):
        load_scenario(bad)


@pytest.mark.parametrize("name", shipped_scenarios())
def test_every_parameter_of_a_shipped_scenario_has_provenance(name):
    s = load_scenario(name)
    covered = set(s.provenance)
    for path in parameter_paths(s):
        parts = path.split(".")
        assert any(".".join(parts[:i]) in covered for i in range(1, len(parts) + 1)), path


@pytest.mark.parametrize("name", shipped_countermeasures())
def test_every_shipped_countermeasure_loads_and_states_cost_and_provenance(name):
    s = load_scenario("baseline", [name])
    assert s.countermeasures[0]["file"] == f"{name.split('/')[-1]}.toml"
    text = (COUNTERMEASURE_DIR / f"{name}.toml").read_text(encoding="utf-8")
    assert "provenance" in text and "cost_per_year" in text


def test_content_hash_depends_on_parameters_not_on_notes():
    base = load_scenario("baseline")
    assert base.content_hash() == load_scenario("baseline").content_hash()
    changed = load_scenario("baseline", updates={"policy.publicity": 0.1})
    assert changed.content_hash() != base.content_hash()


def test_age_shares_must_fit():
    with pytest.raises(ScenarioError, match="elderly_share"):
        load_scenario("baseline", updates={"jurisdiction.elderly_share": 0.7,
                                           "jurisdiction.middle_share": 0.5})
