"""The front office: the county hall's window pools and the township stations.

The hall's windows are either comprehensive (一窗受理, any matter) or department-specific.
A visitor joins the comprehensive pool with probability equal to the comprehensive share of
windows, else their department's pool. Each township with a station has its own small pool. All
pools of a day are served in one pass of the FIFO multi-server recursion (`queueing.serve_fifo`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.agents import WindowStaff
from simulation.queueing import serve_fifo

COMPREHENSIVE_POOL = 0


@dataclass(frozen=True)
class VisitOutcome:
    """What happened at the windows to each of the day's visitors."""

    wait_minutes: np.ndarray
    staff: np.ndarray  # index into ServiceHall.staff
    comprehensive: np.ndarray  # served by a comprehensive window
    busy_minutes_hall: float
    hall_waits: np.ndarray  # waits of hall visitors only


def allocate_windows(windows: int, comprehensive_share: float, demand: np.ndarray) -> tuple[int, np.ndarray]:
    """Split hall windows into comprehensive and per-department windows.

    Department windows are allocated by largest remainder in proportion to `demand` (expected
    window visits per department); a department with demand gets at least one window while
    windows last. When some department is left without a window, at least one comprehensive
    window exists to serve it.
    """
    n_comp = int(round(comprehensive_share * windows))
    rest = windows - n_comp
    per_dept = np.zeros(demand.shape[0], dtype=np.int64)
    wanted = demand > 0
    if rest > 0 and wanted.any():
        quota = rest * demand / demand.sum()
        per_dept = np.floor(quota).astype(np.int64)
        for d in np.argsort(-(quota - per_dept), kind="stable")[: rest - per_dept.sum()]:
            per_dept[d] += 1
        for d in np.flatnonzero(wanted & (per_dept == 0)):
            donor = int(np.argmax(per_dept))
            if per_dept[donor] > 1:
                per_dept[donor] -= 1
                per_dept[d] += 1
    if n_comp == 0 and np.any(wanted & (per_dept == 0)):
        donor = int(np.argmax(per_dept))
        per_dept[donor] -= 1
        n_comp = 1
    return n_comp, per_dept


class ServiceHall:
    """Window pools of the hall and stations, staffed by `WindowStaff` agents."""

    def __init__(self, model, department_demand: np.ndarray, station_townships: np.ndarray) -> None:
        scenario = model.spec
        rng = model.streams["staff"]
        self.model = model
        self.hall_sessions = [list(s) for s in scenario.hall.sessions]
        self.station_sessions = [list(s) for s in scenario.stations.sessions]
        n_depts = department_demand.shape[0]
        self.n_comprehensive, self.dept_windows = allocate_windows(
            scenario.hall.windows, scenario.policy.comprehensive_window_share, department_demand)
        self.n_pools_hall = 1 + n_depts
        self.station_of_township = np.full(scenario.jurisdiction.townships, -1, dtype=np.int64)
        self.station_of_township[station_townships] = np.arange(station_townships.size)
        pools: list[list[WindowStaff]] = [[] for _ in range(self.n_pools_hall + station_townships.size)]
        st = scenario.staff

        def draw(mean: float, sd: float) -> float:
            return float(np.clip(rng.normal(mean, sd), 0.0, 1.0))

        def hire(pool: int, comprehensive: bool, department: int | None, station: int | None) -> None:
            pools[pool].append(WindowStaff(
                model, competence=draw(st.competence_mean, st.competence_sd),
                attitude=draw(st.attitude_mean, st.attitude_sd),
                it_skill=draw(st.it_skill_mean, st.it_skill_sd),
                comprehensive=comprehensive, department=department, station=station))

        for _ in range(self.n_comprehensive):
            hire(COMPREHENSIVE_POOL, True, None, None)
        for d in range(n_depts):
            for _ in range(int(self.dept_windows[d])):
                hire(1 + d, False, d, None)
        for k, township in enumerate(station_townships.tolist()):
            for _ in range(scenario.stations.windows_per_station):
                hire(self.n_pools_hall + k, True, None, int(township))
        self.pools = pools
        self.staff: list[WindowStaff] = [s for pool in pools for s in pool]
        offsets = np.cumsum([0] + [len(p) for p in pools])
        self.pool_offset = offsets[:-1]
        self.hall_windows = int(self.n_comprehensive + self.dept_windows.sum())
        self.station_windows = len(self.staff) - self.hall_windows
        self.hall_open_minutes = sum(c - o for o, c in self.hall_sessions)
        self.station_open_minutes = sum(c - o for o, c in self.station_sessions)
        # set to a list to record (arrival, start, end) of hall visitors per day (validation)
        self.trace: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    def _arrival_times(self, n: int, sessions: list[list[float]], rng: np.random.Generator) -> np.ndarray:
        """Poisson arrivals over the opening sessions: uniform given the day's count."""
        lengths = np.array([c - o for o, c in sessions])
        opens = np.array([o for o, _ in sessions])
        which = rng.choice(len(sessions), size=n, p=lengths / lengths.sum())
        return opens[which] + rng.random(n) * lengths[which]

    def serve(
        self,
        *,
        at_station: np.ndarray,
        township: np.ndarray,
        department: np.ndarray,
        work_minutes: np.ndarray,
        rng: np.random.Generator,
    ) -> VisitOutcome:
        """Queue and serve today's visitors; returns waits and who served them."""
        n = at_station.size
        pool = np.empty(n, dtype=np.int64)
        hall = ~at_station
        dept = department[hall]
        # comprehensive windows take their share of all hall visitors; a department without
        # windows of its own is served only there
        share = self.n_comprehensive / max(self.hall_windows, 1)
        to_comp = (rng.random(dept.size) < share) | (self.dept_windows[dept] == 0)
        pool[hall] = np.where(to_comp, COMPREHENSIVE_POOL, 1 + dept)
        pool[at_station] = self.n_pools_hall + self.station_of_township[township[at_station]]
        if np.any(pool[at_station] < self.n_pools_hall):
            raise RuntimeError("a station visit was scheduled in a township without a station")
        arrivals = np.empty(n)
        arrivals[hall] = self._arrival_times(int(hall.sum()), self.hall_sessions, rng)
        arrivals[at_station] = self._arrival_times(int(at_station.sum()), self.station_sessions, rng)
        speeds = [[s.speed_multiplier for s in p] for p in self.pools]
        hall_outcome = serve_fifo(pool[hall], arrivals[hall], work_minutes[hall], speeds,
                                  self.hall_sessions)
        station_outcome = serve_fifo(pool[at_station], arrivals[at_station],
                                     work_minutes[at_station], speeds, self.station_sessions)
        if self.trace is not None:
            self.trace.append((arrivals[hall], hall_outcome.start_minutes, hall_outcome.end_minutes))
        wait = np.empty(n)
        window = np.empty(n, dtype=np.int64)
        wait[hall] = hall_outcome.wait_minutes(arrivals[hall])
        wait[at_station] = station_outcome.wait_minutes(arrivals[at_station])
        window[hall] = hall_outcome.window
        window[at_station] = station_outcome.window
        staff = self.pool_offset[pool] + window
        busy = float(np.sum(hall_outcome.end_minutes - hall_outcome.start_minutes))
        return VisitOutcome(wait_minutes=wait, staff=staff, comprehensive=(pool == COMPREHENSIVE_POOL) | at_station,
                            busy_minutes_hall=busy, hall_waits=wait[hall])
