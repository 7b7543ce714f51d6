"""The front office: the county hall's window pools and the township stations, and their staff.

The hall's windows are either comprehensive (一窗受理, any matter) or department-specific.
A visitor joins the comprehensive pool with probability equal to the comprehensive share of
windows, else their department's pool. Each township with a station has its own pool, sized by
the township's population. All pools of a day are served in one pass of the FIFO multi-server
recursion (`queueing.serve_fifo`); window free times carry into the next day.

Window staff live as rows of a `StaffRoster` (arrays updated in bulk at the end of each day);
the `WindowStaff` agents are views onto those rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.agents import WindowStaff
from simulation.queueing import SERVED, serve_fifo

COMPREHENSIVE_POOL = 0
DAY_MINUTES = 1440.0


@dataclass(frozen=True)
class VisitOutcome:
    """What happened at the windows to each of the day's visitors."""

    wait_minutes: np.ndarray
    seen_wait_minutes: np.ndarray  # the wait faced on arrival (what a balker saw ahead)
    staff: np.ndarray  # roster index of the clerk who served them; -1 if not served
    status: np.ndarray  # queueing.SERVED, BALKED or TURNED_AWAY
    comprehensive: np.ndarray  # served by a comprehensive window (or a station)
    busy_minutes_hall: float
    busy_minutes_station: float


def allocate_windows(windows: int, comprehensive_share: float, demand: np.ndarray) -> tuple[int, np.ndarray]:
    """Split hall windows into comprehensive and per-department windows.

    Department windows are allocated by largest remainder in proportion to `demand` (expected
    window minutes per department); a department with demand gets at least one window while
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


def station_windows(township_residents: np.ndarray, minimum: int, residents_per_window: int) -> np.ndarray:
    """Windows of each station: one per `residents_per_window` residents, at least `minimum`."""
    if residents_per_window <= 0:
        return np.full(township_residents.shape, minimum, dtype=np.int64)
    return np.maximum(minimum, np.ceil(township_residents / residents_per_window)).astype(np.int64)


class StaffRoster:
    """Every window clerk as one row of arrays: competence, attitude, IT skill and the day's tallies.

    Learning, attitude change and the cost of rectification are computed for all clerks at once at
    the end of a day (no per-agent Python loop).
    """

    def __init__(self, n: int) -> None:
        self.size = n
        self.competence = np.zeros(n)
        self.attitude = np.zeros(n)
        self.it_skill = np.zeros(n)
        self.comprehensive = np.zeros(n, dtype=bool)
        self.department = np.full(n, -1, dtype=np.int64)
        self.station = np.full(n, -1, dtype=np.int64)
        self.served_today = np.zeros(n, dtype=np.int64)
        self.good_today = np.zeros(n, dtype=np.int64)
        self.bad_today = np.zeros(n, dtype=np.int64)
        self.served_total = np.zeros(n, dtype=np.int64)

    def speed_multiplier(self, it_skill_weight: float, generalist: float = 1.0) -> np.ndarray:
        """Service-time multiplier: 1 / (0.5 + competence) — 1 at competence 0.5, 2 at 0, 0.67
        at 1 — times (1 + w (0.5 - IT skill)) at comprehensive windows, whose clerks also work
        the unified platform to route each case, and times `generalist` at the hall's
        comprehensive windows, whose clerks accept every department's matters."""
        multiplier = 1.0 / (0.5 + self.competence)
        routed = multiplier * (1.0 + it_skill_weight * (0.5 - self.it_skill))
        routed = np.where(self.station < 0, generalist * routed, routed)
        return np.where(self.comprehensive, routed, multiplier)

    def detection_probability(self, base: float, competence_weight: float) -> np.ndarray:
        """Probability of catching a missing or faulty material: base x (1 + w (competence - 0.5))."""
        return np.minimum(1.0, base * (1.0 + competence_weight * (self.competence - 0.5)))

    def end_of_day(self, spec, feedback_on: bool) -> float:
        """Learn, let attitude drift, rectify after bad reviews; returns the staff hours spent
        outside the windows (training and rectification).

        Competence and IT skill grow with cases served and training, with diminishing returns;
        training takes `staff.training_hours_per_day` x intensity of every clerk's day.
        Attitude drifts toward indifference unless reinforced. With the 好差评 feedback loop on,
        each bad review triggers rectification (staff and supervisor time) that closes a share
        of the gap to a ceiling, and each good review a smaller share: the effect saturates at the
        ceiling and decays by the drift once reviews stop.
        """
        st, fb = spec.staff, spec.feedback
        training = spec.policy.staff_training
        gain = st.learning_per_100_cases * self.served_today / 100.0 + st.training_gain_per_day * training
        self.competence += gain * (1.0 - self.competence)
        self.it_skill += st.training_gain_per_day * training * (1.0 - self.it_skill)
        self.attitude += st.attitude_drift_per_day * (st.indifference_attitude - self.attitude)
        hours = st.training_hours_per_day * training * self.competence.size
        if feedback_on:
            keep = (1.0 - fb.rectification_step) ** self.bad_today * (1.0 - fb.praise_step) ** self.good_today
            lifted = fb.attitude_ceiling - (fb.attitude_ceiling - self.attitude) * keep
            self.attitude = np.maximum(self.attitude, lifted)
            hours += float(self.bad_today.sum()) * (fb.rectification_staff_hours + fb.supervision_hours)
        self.served_total += self.served_today
        self.served_today[:] = 0
        self.good_today[:] = 0
        self.bad_today[:] = 0
        return hours


class ServiceHall:
    """Window pools of the hall and stations, staffed by the rows of a `StaffRoster`."""

    def __init__(self, model, department_demand: np.ndarray, station_townships: np.ndarray,
                 township_residents: np.ndarray) -> None:
        scenario = model.spec
        rng = model.streams["staff"]
        self.model = model
        self.hall_sessions = [list(s) for s in scenario.hall.sessions]
        self.station_sessions = [list(s) for s in scenario.stations.sessions]
        self.hall_profile = np.asarray(scenario.hall.arrival_profile, dtype=float)
        self.station_profile = np.asarray(scenario.stations.arrival_profile, dtype=float)
        n_depts = department_demand.shape[0]
        self.n_comprehensive, self.dept_windows = allocate_windows(
            scenario.hall.windows, scenario.policy.comprehensive_window_share, department_demand)
        self.n_pools_hall = 1 + n_depts
        self.station_of_township = np.full(scenario.jurisdiction.townships, -1, dtype=np.int64)
        self.station_of_township[station_townships] = np.arange(station_townships.size)
        per_station = station_windows(township_residents[station_townships],
                                      scenario.stations.windows_per_station,
                                      scenario.stations.residents_per_window)
        sizes = [self.n_comprehensive, *self.dept_windows.tolist(), *per_station.tolist()]
        offsets = np.cumsum([0, *sizes])
        self.pool_members = [np.arange(offsets[p], offsets[p + 1]) for p in range(len(sizes))]
        roster = StaffRoster(int(offsets[-1]))
        st = scenario.staff
        for name, mean, sd in (("competence", st.competence_mean, st.competence_sd),
                               ("attitude", st.attitude_mean, st.attitude_sd),
                               ("it_skill", st.it_skill_mean, st.it_skill_sd)):
            setattr(roster, name, np.clip(rng.normal(mean, sd, roster.size), 0.0, 1.0))
        roster.comprehensive[self.pool_members[COMPREHENSIVE_POOL]] = True
        for d in range(n_depts):
            roster.department[self.pool_members[1 + d]] = d
        for k, township in enumerate(station_townships.tolist()):
            members = self.pool_members[self.n_pools_hall + k]
            roster.comprehensive[members] = True
            roster.station[members] = township
        self.roster = roster
        self.staff: list[WindowStaff] = [WindowStaff(model, roster, i) for i in range(roster.size)]
        self.hall_windows = int(self.n_comprehensive + self.dept_windows.sum())
        self.station_windows = roster.size - self.hall_windows
        self.hall_open_minutes = sum(c - o for o, c in self.hall_sessions)
        self.station_open_minutes = sum(c - o for o, c in self.station_sessions)
        self._free: dict[int, list[float]] = {}
        self._carry_busy = {"hall": 0.0, "station": 0.0}
        # set to a list to record (arrival, start, end) of served hall visitors per day (validation)
        self.trace: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    # ---- allocation ------------------------------------------------------------------------

    def reallocate(self, department_demand: np.ndarray) -> None:
        """Re-split the department windows in proportion to `department_demand` (observed window
        minutes); clerks move between department pools, comprehensive windows stay."""
        total = int(self.dept_windows.sum())
        if total == 0 or department_demand.sum() <= 0:
            return
        _, wanted = allocate_windows(total, 0.0, department_demand)
        # allocate_windows keeps a window back for a comprehensive pool when a department would
        # go without; here the comprehensive pool is fixed, so every department window is placed
        wanted[int(np.argmax(department_demand))] += total - int(wanted.sum())
        if np.array_equal(wanted, self.dept_windows):
            return
        spare: list[int] = []
        for d in range(self.dept_windows.size):
            members = self.pool_members[1 + d]
            if members.size > wanted[d]:
                spare.extend(members[wanted[d]:].tolist())
                self.pool_members[1 + d] = members[: wanted[d]]
        for d in range(self.dept_windows.size):
            members = self.pool_members[1 + d]
            if members.size < wanted[d]:
                moved = np.array([spare.pop() for _ in range(int(wanted[d] - members.size))], dtype=np.int64)
                self.roster.department[moved] = d
                self.pool_members[1 + d] = np.concatenate([members, moved])
        for d in np.flatnonzero(wanted != self.dept_windows):
            self._free.pop(int(1 + d), None)
        self.dept_windows = np.array([self.pool_members[1 + d].size for d in range(wanted.size)])

    # ---- a day at the windows ------------------------------------------------------------

    def _arrival_times(self, n: int, sessions: list[list[float]], profile: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
        """Arrival times over the opening sessions with a piecewise-constant intensity.

        The opening time (the sessions laid end to end) is cut into len(profile) equal slices;
        given the day's count, each visitor falls in a slice with probability proportional to its
        weight and uniformly within it (an inhomogeneous Poisson process conditioned on its count).
        """
        lengths = np.array([c - o for o, c in sessions])
        total = lengths.sum()
        slice_of = rng.choice(profile.size, size=n, p=profile / profile.sum())
        open_time = (slice_of + rng.random(n)) * (total / profile.size)
        ends = np.cumsum(lengths)
        which = np.minimum(np.searchsorted(ends, open_time, side="right"), len(sessions) - 1)
        opens = np.array([o for o, _ in sessions])
        return opens[which] + open_time - (ends[which] - lengths[which])

    def _busy_within_open(self, start: np.ndarray, end: np.ndarray, sessions: list[list[float]],
                          key: str) -> float:
        """Window-minutes of service inside the opening sessions; work past midnight in a
        continuous hall counts on the next day."""
        busy = self._carry_busy[key]
        for o, c in sessions:
            busy += float(np.clip(np.minimum(end, c) - np.maximum(start, o), 0.0, None).sum())
        self._carry_busy[key] = float(np.clip(end - DAY_MINUTES, 0.0, None).sum()) \
            if sessions[-1][1] >= DAY_MINUTES else 0.0
        return busy

    def serve(
        self,
        *,
        at_station: np.ndarray,
        township: np.ndarray,
        department: np.ndarray,
        work_minutes: np.ndarray,
        patience_minutes: np.ndarray | None,
        rng: np.random.Generator,
    ) -> VisitOutcome:
        """Queue and serve today's visitors; returns waits, statuses and who served them."""
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
        arrivals[hall] = self._arrival_times(int(hall.sum()), self.hall_sessions, self.hall_profile, rng)
        arrivals[at_station] = self._arrival_times(int(at_station.sum()), self.station_sessions,
                                                   self.station_profile, rng)
        spec = self.model.spec
        speed = self.roster.speed_multiplier(spec.staff.it_skill_speed_weight,
                                             spec.hall.comprehensive_service_multiplier)
        speeds = [speed[m] for m in self.pool_members]
        free = {p: [f - DAY_MINUTES for f in times] for p, times in self._free.items()}
        wait = np.empty(n)
        seen = np.empty(n)
        window = np.full(n, -1, dtype=np.int64)
        status = np.empty(n, dtype=np.int8)
        busy = {}
        for key, mask, sessions in (("hall", hall, self.hall_sessions),
                                    ("station", at_station, self.station_sessions)):
            outcome = serve_fifo(pool[mask], arrivals[mask], work_minutes[mask], speeds, sessions,
                                 patience_minutes=None if patience_minutes is None else patience_minutes[mask],
                                 free_minutes=free)
            free.update(outcome.free_minutes)
            wait[mask] = outcome.wait_minutes(arrivals[mask])
            seen[mask] = outcome.seen_wait_minutes
            window[mask] = outcome.window
            status[mask] = outcome.status
            ok = outcome.served
            busy[key] = self._busy_within_open(outcome.start_minutes[ok], outcome.end_minutes[ok], sessions, key)
            if key == "hall" and self.trace is not None:
                self.trace.append((arrivals[mask][ok], outcome.start_minutes[ok], outcome.end_minutes[ok]))
        self._free = free
        served = status == SERVED
        # who served each visitor: the pools' members laid end to end, indexed by pool and window
        staff = np.full(n, -1, dtype=np.int64)
        if served.any():
            sizes = np.array([m.size for m in self.pool_members], dtype=np.int64)
            members = np.concatenate(self.pool_members)
            staff[served] = members[np.cumsum(sizes)[pool[served]] - sizes[pool[served]] + window[served]]
        return VisitOutcome(wait_minutes=wait, seen_wait_minutes=seen, staff=staff, status=status,
                            comprehensive=(pool == COMPREHENSIVE_POOL) | at_station,
                            busy_minutes_hall=busy["hall"], busy_minutes_station=busy["station"])
