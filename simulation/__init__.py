"""onenet-lab simulation: a Mesa model of a government-service system under reform policies.

`ServiceModel` is the model (one step = one working day); `load_scenario` reads a strict TOML
scenario with countermeasure overlays; `KPI_NAMES` are the public KPI keys.
"""

from simulation.kpis import KPI_NAMES
from simulation.model import ServiceModel
from simulation.queueing import erlang_c, erlang_c_wait
from simulation.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["KPI_NAMES", "Scenario", "ScenarioError", "ServiceModel", "erlang_c", "erlang_c_wait",
           "load_scenario"]
