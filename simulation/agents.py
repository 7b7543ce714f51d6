"""Agents of the service system: citizens, window staff and departments (mesa.Agent subclasses).

Window staff and departments are few and live as ordinary Mesa agents with their own state and
behaviour. Citizens are many: their state lives in the `Population` arrays and a `Citizen`
agent is a view onto one row, made when someone asks for it (`model.citizen(i)`).
"""

from __future__ import annotations

import itertools
import weakref
from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.population import AGE_BANDS, CHANNELS, NO_HABIT

if TYPE_CHECKING:
    from simulation.model import ServiceModel


class _UniqueIds(weakref.WeakKeyDictionary):
    """Per-model unique_id counters, holding each model weakly.

    mesa.Agent keeps its counters in a class-level dict keyed by the model, which holds every
    model ever built (and all its arrays) alive for the life of the process: a replicated
    experiment ran out of memory. Our agents look their counter up here instead.
    """

    def __getitem__(self, model: object) -> itertools.count:
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


class _Agent(mesa.Agent):
    """Base of the model's agents: shares one weakly held unique_id counter per model."""

    _ids = _UniqueIds()


class Citizen(_Agent):
    """A resident or enterprise (办事群众/企业), viewed through its row of the population arrays.

    Reading an attribute brings awareness and trust up to the model's current day first, so a
    `Citizen` always shows its current state; its cases are in `model.cases`.
    """

    def __init__(self, model: ServiceModel, index: int) -> None:
        super().__init__(model)
        self.index = int(index)

    def _refreshed(self) -> None:
        self.model.population.refresh(np.array([self.index]), self.model.day)

    @property
    def is_enterprise(self) -> bool:
        """An enterprise rather than an individual."""
        return bool(self.model.population.is_enterprise[self.index])

    @property
    def age_band(self) -> str:
        """"18-39", "40-59" or "60+"."""
        return AGE_BANDS[int(self.model.population.age_band[self.index])]

    @property
    def rural(self) -> bool:
        """Lives in a rural area."""
        return bool(self.model.population.rural[self.index])

    @property
    def literacy(self) -> float:
        """Education and digital literacy, 0..1."""
        return float(self.model.population.literacy[self.index])

    @property
    def awareness(self) -> float:
        """Probability of knowing the online platform, 0..1."""
        self._refreshed()
        return float(self.model.population.awareness[self.index])

    @property
    def trust(self) -> float:
        """Trust in the online platform, 0..1."""
        self._refreshed()
        return float(self.model.population.trust[self.index])

    @property
    def habitual_channel(self) -> str | None:
        """The channel this citizen uses out of habit, if any."""
        habit = int(self.model.population.habit[self.index])
        return None if habit == NO_HABIT else CHANNELS[habit]

    @property
    def hall_travel_minutes(self) -> float:
        """One-way travel time to the county hall."""
        return float(self.model.population.hall_travel_minutes[self.index])

    def completed_cases(self):
        """This citizen's completed cases as a DataFrame (one row per case)."""
        frame = self.model.cases.completed_frame(self.model.catalogue)
        return frame[frame["citizen"] == self.index].reset_index(drop=True)


class WindowStaff(_Agent):
    """A clerk at a window (窗口工作人员), department-specific or comprehensive (一窗受理).

    A view onto one row of the hall's `StaffRoster`, where the state lives as arrays updated in
    bulk. Competence sets service speed and how reliably missing materials are caught; attitude
    enters citizens' satisfaction; IT skill helps at comprehensive windows, which route cases on
    the unified platform. Competence grows with experience and training; attitude drifts toward
    indifference and responds to ratings only when the evaluation feedback loop (好差评 with
    rectification and supervision) is on.
    """

    def __init__(self, model: ServiceModel, roster, index: int) -> None:
        super().__init__(model)
        self._roster = roster
        self.index = int(index)

    competence = property(lambda self: float(self._roster.competence[self.index]),
                          lambda self, v: self._roster.competence.__setitem__(self.index, v),
                          doc="Competence, 0..1.")
    attitude = property(lambda self: float(self._roster.attitude[self.index]),
                        lambda self, v: self._roster.attitude.__setitem__(self.index, v),
                        doc="Service attitude, 0..1.")
    it_skill = property(lambda self: float(self._roster.it_skill[self.index]),
                        lambda self, v: self._roster.it_skill.__setitem__(self.index, v),
                        doc="IT skill, 0..1.")

    @property
    def comprehensive(self) -> bool:
        """Works a comprehensive window (any matter) or a station."""
        return bool(self._roster.comprehensive[self.index])

    @property
    def department(self) -> int | None:
        """Index of the department whose window this is (None at comprehensive windows)."""
        d = int(self._roster.department[self.index])
        return None if d < 0 else d

    @property
    def station(self) -> int | None:
        """Township of the station this clerk works at (None in the hall)."""
        t = int(self._roster.station[self.index])
        return None if t < 0 else t

    @property
    def cases_served(self) -> int:
        """Cases served on finished days."""
        return int(self._roster.served_total[self.index])


class Department(_Agent):
    """A department (委办局) that approves cases in a back-office queue of daily capacity.

    Connectivity is the share of its records other departments and the platform can pull
    (low = an information island, 信息孤岛); coordination is its willingness to cooperate on
    multi-department matters (low = department-rights barriers).
    """

    def __init__(
        self,
        model: ServiceModel,
        *,
        index: int,
        name: str,
        label: str,
        capacity_per_day: int,
        connectivity: float,
        coordination: float,
        platform_integrated: bool,
    ) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.label = label
        self.capacity_per_day = capacity_per_day
        self.connectivity = connectivity
        self.coordination = coordination
        self.platform_integrated = platform_integrated
        self._ids = np.empty(0, dtype=np.int64)  # waiting cases, in order of arrival
        self._ready = np.empty(0, dtype=np.int64)  # first day each may be approved
        self._round = np.empty(0, dtype=np.int64)  # the case's bounce count when it was sent
        self._incoming: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.approved_today = np.empty(0, dtype=np.int64)

    @property
    def backlog(self) -> int:
        """Cases waiting in this department's back office."""
        return int(self._ids.size + sum(ids.size for ids, _, _ in self._incoming))

    def queued(self) -> np.ndarray:
        """Ids of the cases in this back office, waiting or just arrived (recalled ones left out)."""
        ids = np.concatenate([self._ids, *(ids for ids, _, _ in self._incoming)])
        rounds = np.concatenate([self._round, *(r for _, _, r in self._incoming)])
        return ids[rounds == self.model.cases.bounces[ids]]

    def receive(self, case_ids: np.ndarray, ready_day: np.ndarray) -> None:
        """Cases enter the back office; each may be approved from its `ready_day` on."""
        if case_ids.size:
            rounds = self.model.cases.bounces[case_ids].astype(np.int64)
            self._incoming.append((case_ids.astype(np.int64), ready_day.astype(np.int64), rounds))

    def step(self) -> None:
        """Approve up to the daily capacity of ready cases, first come first served.

        A copy of a case that was sent back to the citizen since it arrived (its bounce count
        moved on) is withdrawn first: under joint approval, one department's request for
        materials recalls the file from the others, and it returns with the resubmission.
        """
        if self._incoming:
            self._ids = np.concatenate([self._ids, *(ids for ids, _, _ in self._incoming)])
            self._ready = np.concatenate([self._ready, *(ready for _, ready, _ in self._incoming)])
            self._round = np.concatenate([self._round, *(r for _, _, r in self._incoming)])
            self._incoming = []
        current = self._round == self.model.cases.bounces[self._ids]
        if not current.all():
            self._ids, self._ready, self._round = (
                self._ids[current], self._ready[current], self._round[current])
        take = np.flatnonzero(self._ready <= self.model.day)[: self.capacity_per_day]
        self.approved_today = self._ids[take]
        if take.size:
            keep = np.ones(self._ids.size, dtype=bool)
            keep[take] = False
            self._ids, self._ready, self._round = self._ids[keep], self._ready[keep], self._round[keep]
