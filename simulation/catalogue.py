"""The service catalogue (事项清单) as arrays the model can index by matter number.

Matters are data, not agents: owning and co-approving departments, complexity, materials and
which of them can be pulled from shared data, online depth, time limits and demand shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.scenario import Scenario


@dataclass(frozen=True)
class Catalogue:
    """Matters of a scenario, indexed 0..n-1, with department indices resolved.

    Attributes:
        ids: matter identifiers.
        departments: department names, indexed as in `route`.
        route: for each matter, the department indices it passes (owner first).
        complex: complex matter (needs deliberate channel choice, longer service).
        materials: materials the matter needs.
        shared_holders: for each matter, department index holding each shareable material.
        online_depth: effective online depth after the end-to-end lever (0..3).
        processing_days, legal_days: back-office processing time and legal time limit.
        enterprise: matter for enterprises (else individuals).
        demand_share: share of its audience's demand.
        station_eligible: a township station may accept it.
    """

    ids: tuple[str, ...]
    departments: tuple[str, ...]
    route: tuple[tuple[int, ...], ...]
    complex: np.ndarray
    materials: np.ndarray
    shared_holders: tuple[tuple[int, ...], ...]
    online_depth: np.ndarray
    processing_days: np.ndarray
    legal_days: np.ndarray
    enterprise: np.ndarray
    demand_share: np.ndarray
    station_eligible: np.ndarray

    @property
    def size(self) -> int:
        """Number of matters."""
        return len(self.ids)

    @property
    def n_departments(self) -> np.ndarray:
        """Number of departments each matter passes."""
        return np.array([len(r) for r in self.route], dtype=np.int16)

    def route_table(self) -> np.ndarray:
        """Department index at each route position, shape (matters, longest route); -1 pads."""
        table = np.full((self.size, max(len(r) for r in self.route)), -1, dtype=np.int64)
        for m, route in enumerate(self.route):
            table[m, : len(route)] = route
        return table


def build_catalogue(scenario: Scenario) -> Catalogue:
    """Resolve the scenario's matters and apply the end-to-end online lever.

    `policy.end_to_end_online_share` upgrades that share of the cases of online-capable matters
    (depth 1-2; by yearly volume — individual and enterprise matters weighted by how many cases
    each audience brings — the most-demanded first, as reform offices start with high-frequency
    matters) to online depth 3; matters with depth 0 stay offline by law.
    """
    departments = tuple(scenario.departments)
    dept_index = {name: i for i, name in enumerate(departments)}
    ids = tuple(scenario.matters)
    specs = [scenario.matters[m] for m in ids]
    depth = np.array([s.online_depth for s in specs], dtype=np.int8)
    share = np.array([s.demand_share for s in specs])
    enterprise = np.array([s.audience == "enterprise" for s in specs])
    j, d = scenario.jurisdiction, scenario.demand
    audience_volume = np.where(enterprise, j.enterprises * d.cases_per_enterprise_year,
                               j.population * d.cases_per_resident_year)
    audience_total = np.array([share[enterprise == e].sum() for e in enterprise])
    volume = audience_volume * share / np.where(audience_total > 0, audience_total, 1.0)
    depth = _upgrade_end_to_end(depth, volume, scenario.policy.end_to_end_online_share)
    return Catalogue(
        ids=ids,
        departments=departments,
        route=tuple(tuple(dept_index[d] for d in s.departments) for s in specs),
        complex=np.array([s.complex for s in specs]),
        materials=np.array([s.materials for s in specs], dtype=np.int16),
        shared_holders=tuple(tuple(dept_index[d] for d in s.shared_from) for s in specs),
        online_depth=depth,
        processing_days=np.array([s.processing_days for s in specs], dtype=np.int32),
        legal_days=np.array([s.legal_days for s in specs], dtype=np.int32),
        enterprise=enterprise,
        demand_share=share,
        station_eligible=np.array([s.station_eligible for s in specs]),
    )


def _upgrade_end_to_end(depth: np.ndarray, volume: np.ndarray, target: float) -> np.ndarray:
    """Raise online-capable matters (depth 1-2) to depth 3, the highest-volume first, until at
    least `target` of their yearly cases are end-to-end online."""
    depth = depth.copy()
    candidates = np.flatnonzero((depth >= 1) & (depth < 3))
    total = volume[candidates].sum()
    if target <= 0 or total <= 0:
        return depth
    covered = 0.0
    for m in candidates[np.argsort(-volume[candidates], kind="stable")]:
        if covered >= target * total - 1e-12:
            break
        depth[m] = 3
        covered += volume[m]
    return depth
