"""The dashboard's model and controls without a browser (tests/analysis/test_dashboard.py drives
the page itself): the controls are keywords the model takes, none of them the keyword Mesa's
SolaraViz reserves, and a Reset as Mesa 3.5 does it (with its own experiment scenario) builds the
same run."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

pytest.importorskip("solara")

from simulation import app  # noqa: E402
from simulation.scenario import ScenarioError  # noqa: E402

CONFIG = {"scenario": "shayan_town", "overlays": ["one_window"], "seed": 3, "days": 5, "lang": "en"}


class MesaExperimentScenario:
    """Stands in for the `mesa.experimental.scenarios.Scenario` that Mesa 3.5 passes on Reset."""

    rng = None


def _start(params):
    return {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}


def test_every_control_is_a_keyword_of_the_model_and_none_is_mesas_scenario():
    params = app.model_params(CONFIG)
    assert "scenario" not in params  # Mesa 3.5 fills `scenario` with its own object on Reset
    named = inspect.signature(app.DashboardModel.__init__).parameters
    for key in ("case", "scenario_file", "seed", "days", "lang"):
        assert key in params and key in named, key
    assert params["case"]["value"] == "shayan_town"
    assert params[app.toggle_key("one_window")]["value"] is True


def test_a_reset_with_mesas_experiment_scenario_builds_the_same_run(monkeypatch):
    monkeypatch.setenv("ONENET_DASHBOARD_SCENARIO", "shayan_town")
    monkeypatch.setenv("ONENET_DASHBOARD_OVERLAYS", '["one_window"]')
    start = _start(app.model_params(CONFIG))
    first = app.DashboardModel(**start)
    again = app.DashboardModel(**start, scenario=MesaExperimentScenario())
    assert first.spec.scenario.name == again.spec.scenario.name
    assert first.overlays == again.overlays == ["one_window"]
    for model in (first, again):
        for _ in range(2):
            model.step()
    np.testing.assert_equal(first.kpis(), again.kpis())  # NaN where nothing was counted yet
    np.testing.assert_equal(first.baseline.kpis(), again.baseline.kpis())
    assert first.spec.policy != first.baseline.spec.policy  # one_window is on, the twin is not


def test_a_scenario_name_under_mesas_keyword_is_refused_with_the_keyword_to_use():
    with pytest.raises(ScenarioError, match="case"):
        app.DashboardModel(scenario="shayan_town", days=5)
