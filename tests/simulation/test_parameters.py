"""Every behavioural number is a scenario parameter: no module-level numeric constant in
simulation/ may carry behaviour (calibration and sensitivity analysis could not reach it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import simulation
from simulation.scenario import Scenario, load_scenario, parameter_paths

PACKAGE = Path(simulation.__file__).resolve().parent

# structural constants: codes, array layouts, sample sizes and the validation settings — none of
# them describes how citizens, staff or departments behave
STRUCTURAL = {
    "cases.py": {"VISIT", "BACKOFFICE", "DONE", "SUBMIT", "COLLECT"},
    "population.py": {"ONLINE", "STATION", "HALL", "PROXY", "NO_HABIT", "YOUNG", "MIDDLE", "ELDERLY"},
    "model.py": {"MAX_MATERIALS", "PLANNING_SAMPLE"},
    "queueing.py": {"_SCAN_LIMIT", "SERVED", "BALKED", "TURNED_AWAY", "_TURNED", "_BALKED"},
    "hall.py": {"COMPREHENSIVE_POOL", "DAY_MINUTES"},
    "validation.py": {"DAY_MINUTES", "DEFAULT_SETTINGS"},
    # MORNING_PEAK: the default of hall.arrival_profile, itself a parameter; MAX_DAYS: a bound
    "scenario.py": {"MORNING_PEAK", "MAX_DAYS"},
    "app.py": {"ROLLING_DAYS"},  # the dashboard's smoothing window of a chart
}


def _is_numeric(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float) and not isinstance(node.value, bool)
    if isinstance(node, ast.UnaryOp):
        return _is_numeric(node.operand)
    if isinstance(node, ast.Tuple | ast.List):
        return bool(node.elts) and all(_is_numeric(e) for e in node.elts)
    if isinstance(node, ast.Call):  # np.array([...]) and the like
        return any(_is_numeric(a) for a in node.args)
    return False


def module_level_numeric_constants() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else [])
            value = getattr(node, "value", None)
            for target in targets:
                names = [t.id for t in (target.elts if isinstance(target, ast.Tuple) else [target])
                         if isinstance(t, ast.Name)]
                if value is not None and _is_numeric(value):
                    found.setdefault(path.name, set()).update(names)
    return found


def test_no_module_level_constant_carries_behaviour():
    unexpected = {module: sorted(names - STRUCTURAL.get(module, set()))
                  for module, names in module_level_numeric_constants().items()}
    unexpected = {m: n for m, n in unexpected.items() if n}
    assert not unexpected, (f"module-level numbers in simulation/: {unexpected} — make each a scenario "
                            "parameter (simulation/scenario.py) with provenance, or list it here as structural")


def test_the_scan_finds_a_constant_when_there_is_one(tmp_path):
    # the scan itself must be able to fail: a module with a behavioural constant is caught
    tree = ast.parse("RATE = 0.3\nCUTS = [-1.5, -0.5]\nNAMES = ('a',)\n")
    numeric = [t.targets[0].id for t in tree.body if _is_numeric(t.value)]
    assert numeric == ["RATE", "CUTS"]


@pytest.mark.parametrize("path", [
    "behaviour.backoffice_detection", "behaviour.platform_detection",
    "behaviour.missing_material_literacy_offset", "behaviour.online_failure_trust_cut",
    "behaviour.publicity_hazard_at_full", "behaviour.depth3_online_bonus",
    "feedback.rating_prompt_multiplier", "behaviour.satisfaction_cutpoints",
    "staff.training_gain_per_day", "feedback.rectification_step", "feedback.praise_step",
    "staff.indifference_attitude", "behaviour.digital_assistance_boost",
    "behaviour.upload_failure_per_material", "behaviour.balk_tolerance_minutes",
    "behaviour.questionnaire_item_noise",
])
def test_former_constants_are_parameters_with_provenance(path):
    scenario = load_scenario("baseline")
    assert path in parameter_paths(scenario) or any(p.startswith(path) for p in parameter_paths(scenario))
    notes = scenario.provenance
    assert any(path == key or path.startswith(key + ".") for key in notes), path


def test_a_former_constant_reaches_the_model():
    from simulation import ServiceModel

    base = load_scenario("baseline", updates={"jurisdiction.population": 20_000, "jurisdiction.enterprises": 800,
                                              "hall.windows": 10})
    strict = base.with_updates({"behaviour.backoffice_detection": 1.0})
    lax = base.with_updates({"behaviour.backoffice_detection": 0.0})
    assert isinstance(strict, Scenario)
    a, b = ServiceModel(strict, seed=3).run(30), ServiceModel(lax, seed=3).run(30)
    # departments that never catch missing materials bounce nothing back
    assert b["resubmissions_per_case"] < a["resubmissions_per_case"]
