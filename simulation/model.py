"""`ServiceModel`: a jurisdiction's government-service system as a Mesa model; one step = one day.

A working day reads as a sentence: new cases arrive and citizens choose channels; the day's
visitors queue at the hall and stations; departments approve in their back offices; finished
cases are judged, rated and talked about; staff learn; the day's KPIs are collected.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

from simulation import kpis
from simulation.agents import Citizen, Department, WindowStaff
from simulation.cases import BACKOFFICE, COLLECT, DONE, SUBMIT, VISIT, CaseBook
from simulation.catalogue import Catalogue, build_catalogue
from simulation.choice import ChoiceInputs, choose_channel, fallback_offline
from simulation.hall import ServiceHall
from simulation.population import HALL, ONLINE, PROXY, STATION, Population, build_population
from simulation.satisfaction import latent_satisfaction, likert, rating_probability
from simulation.scenario import Scenario, load_scenario

# fixed number of uniform draws per new case for material decisions (caps materials per matter)
MAX_MATERIALS = 32
BACKOFFICE_DETECTION = 0.9  # a department catches a missing material the window let through
PLATFORM_DETECTION = 0.9  # the online platform's check catches a missing material
_STREAMS = ("population", "arrivals", "dynamics", "staff", "network")


class ServiceModel(mesa.Model):
    """Citizens, window staff and departments under a scenario's policies.

    Args:
        scenario: a validated `Scenario`, or the path/name of a scenario file.
        seed: an int or a `numpy.random.SeedSequence`; the same seed gives bit-identical runs.
            Independent streams are spawned for population, arrivals, queue dynamics, staff and
            word of mouth, so that under common random numbers two policy arms see the same
            citizens and the same arrivals.
        overlays: countermeasure overlays, when `scenario` is a path.
    """

    def __init__(self, scenario: Scenario | str | Path = "baseline", *, seed: int | np.random.SeedSequence = 0,
                 overlays: tuple[str | Path, ...] | list[str | Path] = ()) -> None:
        root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
        children = root.spawn(len(_STREAMS) + 1)
        super().__init__(rng=np.random.default_rng(children[-1]))
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario, overlays)
        # the validated Scenario (named `spec`: Mesa >= 3.5 reserves `Model.scenario` for its own)
        self.spec: Scenario = scenario
        self.seed_entropy = root.entropy
        self.streams = {name: np.random.default_rng(ss) for name, ss in zip(_STREAMS, children, strict=False)}
        self.day = 0
        self.catalogue: Catalogue = build_catalogue(scenario)
        self._route = self.catalogue.route_table()
        self._route_len = self.catalogue.n_departments.astype(np.int64)
        self._lag = np.ceil(self.catalogue.processing_days / self._route_len).astype(np.int64)
        # 即办件: a single-department matter with no processing time is issued at the window,
        # so the citizen does not come back to collect it
        self._issued_at_window = (self.catalogue.processing_days == 0) & (self._route_len == 1)
        self.population: Population = build_population(scenario, self.streams["population"])
        self.cases = CaseBook(capacity=self._expected_cases_per_day() * 30)
        self._build_departments()
        self._build_front_office()
        self._visits: dict[int, list[np.ndarray]] = defaultdict(list)
        self._citizens: dict[int, Citizen] = {}
        self._done_today: list[np.ndarray] = []
        self.ledger = kpis.Ledger()
        self.datacollector = mesa.DataCollector(model_reporters=kpis.DAILY_REPORTERS)

    # ---- construction ---------------------------------------------------------------------

    def _expected_cases_per_day(self) -> int:
        d = self.spec.demand
        per_year = (self.spec.jurisdiction.population * d.cases_per_resident_year
                    + self.spec.jurisdiction.enterprises * d.cases_per_enterprise_year)
        return max(16, int(per_year / d.working_days_per_year))

    def _build_departments(self) -> None:
        policy = self.spec.policy
        self.departments: list[Department] = []
        for i, (name, spec) in enumerate(self.spec.departments.items()):
            self.departments.append(Department(
                self, index=i, name=name, label=spec.label, capacity_per_day=spec.capacity_per_day,
                connectivity=spec.connectivity + policy.connectivity_uplift * (1 - spec.connectivity),
                coordination=spec.coordination + policy.coordination_authority * (1 - spec.coordination),
                platform_integrated=spec.platform_integrated))
        self.connectivity = np.array([d.connectivity for d in self.departments])
        self._integrated = np.array([d.platform_integrated for d in self.departments])
        self.coordination = np.array([d.coordination for d in self.departments])

    def _build_front_office(self) -> None:
        cat, d, j, hall = self.catalogue, self.spec.demand, self.spec.jurisdiction, self.spec.hall
        volume = {False: j.population * d.cases_per_resident_year,
                  True: j.enterprises * d.cases_per_enterprise_year}
        demand = np.zeros(len(self.departments))  # expected window minutes per department
        for m in range(cat.size):
            minutes = hall.service_minutes_complex if cat.complex[m] else hall.service_minutes_simple
            weight = volume[bool(cat.enterprise[m])] * cat.demand_share[m] * minutes
            for dept in cat.route[m]:
                demand[dept] += weight * (1.0 if cat.online_depth[m] < 3 else 0.3)
        townships = self.spec.jurisdiction.townships
        rank = self.streams["staff"].permutation(townships)
        covered = int(round(self.spec.policy.station_coverage * townships))
        self.has_station = rank < covered
        self.hall = ServiceHall(self, demand, np.flatnonzero(self.has_station))

    # ---- public API -----------------------------------------------------------------------

    def citizen(self, index: int) -> Citizen:
        """The `Citizen` agent of population row `index` (made on first request)."""
        if not 0 <= index < self.population.size:
            raise IndexError(f"citizen index {index} outside 0..{self.population.size - 1}")
        if index not in self._citizens:
            self._citizens[index] = Citizen(self, index)
        return self._citizens[index]

    @property
    def staff(self) -> list[WindowStaff]:
        """All window staff (hall pools, then stations)."""
        return self.hall.staff

    def step(self) -> None:
        """One working day."""
        self.arrive_new_cases()
        self.serve_visitors()
        self.approve_in_back_offices()
        self.complete_cases()
        self.agents_by_type[WindowStaff].do("step")
        self.ledger.today_kpis = kpis.today_kpis(self)
        self.datacollector.collect(self)
        self.ledger.close_day()
        self.day += 1

    def run(self, days: int | None = None) -> dict[str, float]:
        """Run `days` working days (default: the scenario's) and return the run's KPIs."""
        for _ in range(days if days is not None else self.spec.scenario.days):
            self.step()
        return self.kpis()

    def kpis(self) -> dict[str, float]:
        """KPIs of the whole run so far (the public names in `simulation.KPI_NAMES`)."""
        return kpis.run_kpis(self)

    def daily(self) -> pd.DataFrame:
        """Per-day KPIs collected by the DataCollector."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.index.name = "day"
        return frame

    def administer(self, n: int = 500, *, instrument: str = "haochaping", seed: int = 0) -> pd.DataFrame:
        """Answer a questionnaire: one row per sampled citizen who completed a case."""
        from simulation.questionnaire import administer

        return administer(self, n=n, instrument=instrument, seed=seed)

    # ---- 1. arrivals and channel choice ---------------------------------------------------

    def _sample_cases(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        j, d, cat = self.spec.jurisdiction, self.spec.demand, self.catalogue
        citizens, matters = [], []
        for enterprise, count, rate, offset in (
                (False, j.population, d.cases_per_resident_year, 0),
                (True, j.enterprises, d.cases_per_enterprise_year, j.population)):
            n = rng.poisson(count * rate / d.working_days_per_year) if count else 0
            pick = np.flatnonzero(cat.enterprise == enterprise)
            who = offset + rng.integers(0, max(count, 1), size=n)
            share = cat.demand_share[pick] / cat.demand_share[pick].sum() if pick.size else None
            what = pick[rng.choice(pick.size, size=n, p=share)] if n else np.empty(0, np.int64)
            citizens.append(who)
            matters.append(what)
        return np.concatenate(citizens), np.concatenate(matters)

    def _effective_literacy(self, who: np.ndarray) -> np.ndarray:
        pop = self.population
        assisted = pop.elderly(who) | (pop.rural[who] & ~pop.is_enterprise[who])
        lit = pop.literacy[who].astype(np.float64)
        boost = 0.6 * self.spec.policy.digital_assistance * (1.0 - lit)
        return np.where(assisted, lit + boost, lit)

    def arrive_new_cases(self) -> None:
        """New cases arrive (Poisson); citizens choose a channel and start."""
        rng = self.streams["arrivals"]
        who, matter = self._sample_cases(rng)
        n = who.size
        # per-case random numbers, drawn in a fixed layout whatever the policy (common random numbers)
        u_pull, u_missing = rng.random((n, MAX_MATERIALS)), rng.random((n, MAX_MATERIALS))
        gumbel = rng.gumbel(size=(n, 4))
        u_aware, u_habit, u_online, u_proxy, u_preexam = rng.random((5, n))
        if n == 0:
            return
        pop, cat, policy, b = self.population, self.catalogue, self.spec.policy, self.spec.behaviour
        pop.refresh(who, self.day)
        ids = self.cases.add(who, matter, self.day)
        literacy = self._effective_literacy(who)
        complex_ = cat.complex[matter]
        township = pop.township[who]
        station_ok = self.has_station[township] & cat.station_eligible[matter]
        if policy.station_scope == "simple":
            station_ok &= ~complex_
        inputs = ChoiceInputs(
            literacy=literacy, aware=u_aware < pop.awareness[who], trust=pop.trust[who],
            hall_travel_minutes=pop.hall_travel_minutes[who],
            station_travel_minutes=pop.station_travel_minutes[who], complex=complex_,
            online_depth=cat.online_depth[matter], station_available=station_ok,
            proxy_available=u_proxy < policy.proxy_service, elderly=pop.elderly(who),
            habit=pop.habit[who])
        channel = choose_channel(inputs, b, gumbel, u_habit)
        missing = self._missing_materials(matter, literacy, u_pull, u_missing)
        cases = self.cases
        cases.missing_hidden[ids] = missing
        cases.route_pos[ids] = 0
        cases.pending[ids] = cat.n_departments[matter]
        # online attempt: works, or fails and falls back offline
        tried = channel == ONLINE
        p_success = policy.online_usability * (1.0 - b.online_failure_literacy_weight * (1.0 - literacy))
        failed = tried & (u_online >= p_success)
        cases.online_attempt[ids] = tried
        cases.online_failed[ids] = failed
        if failed.any():
            channel[failed] = fallback_offline(inputs, b, gumbel)[failed]
            pop.trust[who[failed]] *= 1.0 - 0.5 * b.trust_learning
        cases.channel[ids] = channel
        self._start_online(ids[channel == ONLINE])
        self._start_proxy(ids[channel == PROXY])
        offline = (channel == STATION) | (channel == HALL)
        self._start_offline(ids[offline], (u_preexam < pop.awareness[who] * literacy)[offline])

    def _missing_materials(self, matter: np.ndarray, literacy: np.ndarray, u_pull: np.ndarray,
                           u_missing: np.ndarray) -> np.ndarray:
        """Materials the citizen brings missing or faulty, after shared data is pulled.

        Material j of a matter is pulled from shared data when its holding department is
        connected (probability data_sharing x connectivity); the citizen supplies the rest, each
        missing with a probability that falls with literacy (guides are hard to read).
        """
        cat, b = self.catalogue, self.spec.behaviour
        n = matter.size
        supplied = np.zeros((n, MAX_MATERIALS), dtype=bool)
        for m in np.unique(matter):
            rows = np.flatnonzero(matter == m)
            k = min(int(cat.materials[m]), MAX_MATERIALS)
            supplied[np.ix_(rows, np.arange(k))] = True
            holders = cat.shared_holders[m]
            if holders:
                p_pull = self.spec.policy.data_sharing * self.connectivity[list(holders)]
                pulled = u_pull[np.ix_(rows, np.arange(len(holders)))] < p_pull
                supplied[np.ix_(rows, np.arange(len(holders)))] &= ~pulled
        p_missing = np.clip(b.missing_material_prob * (1.6 - literacy), 0.0, 1.0)
        return np.count_nonzero(supplied & (u_missing < p_missing[:, None]), axis=1).astype(np.int16)

    def _fix_days(self, n: int) -> np.ndarray:
        mean = self.spec.behaviour.days_to_fix_materials
        return 1 + self.streams["dynamics"].poisson(max(mean - 1.0, 0.0), n)

    def _start_online(self, ids: np.ndarray) -> None:
        """Online applications: the platform checks materials; fixes cost no visit."""
        if ids.size == 0:
            return
        cases, cat = self.cases, self.catalogue
        rng = self.streams["dynamics"]
        caught = rng.binomial(cases.missing_hidden[ids], PLATFORM_DETECTION).astype(np.int16)
        cases.resubmissions[ids] += caught > 0
        cases.missing_hidden[ids] -= caught
        delay = np.where(caught > 0, self._fix_days(ids.size), 0)
        cases.internal_routing[ids] = True
        depth = cat.online_depth[cases.matter[ids]]
        cases.needs_collection[ids] = (depth < 3) & (not self.spec.policy.result_by_post)
        self._send_to_back_office(ids, self.day + delay)

    def _start_proxy(self, ids: np.ndarray) -> None:
        """帮办代办: a proxy checks everything at the village point and handles the rest."""
        if ids.size == 0:
            return
        cases = self.cases
        cases.visits[ids] += 1 + (cases.missing_hidden[ids] > 0)
        cases.travel_minutes[ids] += 2 * self.population.station_travel_minutes[cases.citizen[ids]]
        cases.resubmissions[ids] += cases.missing_hidden[ids] > 0
        cases.missing_hidden[ids] = 0
        cases.internal_routing[ids] = True
        cases.needs_collection[ids] = False
        self._send_to_back_office(ids, self.day + 1)

    def _start_offline(self, ids: np.ndarray, preexamined: np.ndarray) -> None:
        """Hall or station: online pre-examination (when offered) fixes materials before the trip."""
        if ids.size == 0:
            return
        cases = self.cases
        delay = np.zeros(ids.size, dtype=np.int64)
        if self.spec.policy.online_preexamination:
            fixed = preexamined & (cases.missing_hidden[ids] > 0)
            cases.resubmissions[ids[fixed]] += 1
            cases.missing_hidden[ids[fixed]] = 0
            delay[fixed] = self._fix_days(int(fixed.sum()))
        cases.needs_collection[ids] = ~self._issued_at_window[cases.matter[ids]] & (not self.spec.policy.result_by_post)
        self._schedule_visit(ids, self.day + delay, SUBMIT)

    # ---- 2. the front office --------------------------------------------------------------

    def _schedule_visit(self, ids: np.ndarray, day: np.ndarray, purpose: int) -> None:
        cases = self.cases
        cases.stage[ids] = VISIT
        cases.purpose[ids] = purpose
        day = np.broadcast_to(np.asarray(day), ids.shape)
        for d in np.unique(day):
            self._visits[int(d)].append(ids[day == d])

    def _visit_department(self, ids: np.ndarray) -> np.ndarray:
        """The department at each case's current route position (its last, once past the end)."""
        matter = self.cases.matter[ids]
        pos = np.minimum(self.cases.route_pos[ids].astype(np.int64), self._route_len[matter] - 1)
        return self._route[matter, pos]

    def serve_visitors(self) -> None:
        """Today's visitors queue at the hall and stations and are served."""
        todays = self._visits.pop(self.day, [])
        if not todays:
            self.ledger.record_hall(np.empty(0), 0.0, self.hall)
            return
        ids = np.concatenate(todays)
        cases, cat, pop = self.cases, self.catalogue, self.population
        rng = self.streams["dynamics"]
        at_station = cases.channel[ids] == STATION
        who = cases.citizen[ids]
        matter = cases.matter[ids]
        collect = cases.purpose[ids] == COLLECT
        hall_cfg = self.spec.hall
        base = np.where(cat.complex[matter], hall_cfg.service_minutes_complex, hall_cfg.service_minutes_simple)
        base = np.where(collect, hall_cfg.service_minutes_collect, base)
        base = np.where(at_station, base * self.spec.stations.service_minutes_multiplier, base)
        work = base * _service_draws(rng, ids.size, hall_cfg.service_distribution, hall_cfg.service_cv)
        outcome = self.hall.serve(at_station=at_station, township=pop.township[who],
                                  department=self._visit_department(ids), work_minutes=work, rng=rng)
        travel = np.where(at_station, pop.station_travel_minutes[who], pop.hall_travel_minutes[who])
        cases.visits[ids] += 1
        cases.wait_minutes[ids] += outcome.wait_minutes
        cases.travel_minutes[ids] += 2 * travel
        staff = self.hall.staff
        attitude = np.array([s.attitude for s in staff])[outcome.staff]
        cases.attitude_sum[ids] += attitude
        cases.contacts[ids] += 1
        cases.last_staff[ids] = outcome.staff
        for s in outcome.staff.tolist():
            staff[s].cases_served_today += 1
        self.ledger.record_hall(outcome.hall_waits, outcome.busy_minutes_hall, self.hall)
        self._finish(ids[collect])
        submit = ~collect
        self._check_materials(ids[submit], outcome.staff[submit], outcome.comprehensive[submit] | at_station[submit])

    def _check_materials(self, ids: np.ndarray, staff_idx: np.ndarray, comprehensive: np.ndarray) -> None:
        """At the window: missing materials are caught (or not); complete cases are accepted."""
        if ids.size == 0:
            return
        cases, policy, b = self.cases, self.spec.policy, self.spec.behaviour
        rng = self.streams["dynamics"]
        staff = self.hall.staff
        p_detect = np.array([s.detection_probability(b.staff_detects_missing) for s in staff])[staff_idx]
        caught = rng.binomial(cases.missing_hidden[ids], p_detect).astype(np.int16)
        returned = caught > 0
        told = caught if policy.one_time_notification else np.minimum(caught, 1).astype(np.int16)
        back = ids[returned]
        cases.resubmissions[back] += 1
        cases.missing_hidden[back] -= told[returned]
        self._schedule_visit(back, self.day + self._fix_days(back.size), SUBMIT)
        accepted = ids[~returned]
        first_contact = cases.route_pos[accepted] == 0
        internal = comprehensive[~returned] | policy.parallel_approval
        cases.internal_routing[accepted[first_contact]] = internal[first_contact]
        self._send_to_back_office(accepted, np.full(accepted.size, self.day))

    # ---- 3. the back office ---------------------------------------------------------------

    def _send_to_back_office(self, ids: np.ndarray, ready_day: np.ndarray) -> None:
        """Cases enter the back office: all departments at once (parallel) or the next one."""
        if ids.size == 0:
            return
        cases = self.cases
        cases.stage[ids] = BACKOFFICE
        matter = cases.matter[ids]
        ready = np.broadcast_to(np.asarray(ready_day), ids.shape) + self._lag[matter]
        route_len = self._route_len[matter]
        parallel = (self.spec.policy.parallel_approval & cases.internal_routing[ids]
                    & (route_len > 1) & (cases.route_pos[ids] == 0))
        dept = self._visit_department(ids)
        targets, when, case_ids = [dept[~parallel]], [ready[~parallel]], [ids[~parallel]]
        if parallel.any():
            par = ids[parallel]
            cases.route_pos[par] = route_len[parallel]  # marks joint routing
            table = self._route[matter[parallel]]
            todo = self._outstanding(par)
            cases.pending[par] = todo.sum(axis=1)
            targets.append(table[todo])
            when.append(np.broadcast_to(ready[parallel][:, None], table.shape)[todo])
            case_ids.append(np.broadcast_to(par[:, None], table.shape)[todo])
        target, when_all, who = np.concatenate(targets), np.concatenate(when), np.concatenate(case_ids)
        # a department whose systems are not on the unified platform re-keys every case routed
        # to it from the platform or a comprehensive window (二次录入): one more day
        rekey = ~self._integrated[target] & cases.internal_routing[who]
        when_all = when_all + rekey
        for d in np.unique(target).tolist():
            mine = target == d
            self.departments[d].receive(who[mine], when_all[mine])

    def approve_in_back_offices(self) -> None:
        """Departments approve; hidden missing materials bounce cases back to citizens."""
        self.agents_by_type[Department].do("step")
        approved = [d.approved_today for d in self.departments if d.approved_today.size]
        if approved:
            depts = [np.full(d.approved_today.size, d.index, dtype=np.int64)
                     for d in self.departments if d.approved_today.size]
            self._after_approval(np.concatenate(approved), np.concatenate(depts))

    def _after_approval(self, ids: np.ndarray, depts: np.ndarray) -> None:
        """Approvals of the day: bounce on missing materials, else move each case on.

        Under joint (parallel) approval a case is with several departments at once and may be
        approved by more than one of them on the same day; each approval is recorded as its
        department's bit in `approved_by` and the case is done when every department on its
        route has approved.
        """
        cases, policy, b = self.cases, self.spec.policy, self.spec.behaviour
        rng = self.streams["dynamics"]
        live = cases.stage[ids] == BACKOFFICE
        ids, depts = ids[live], depts[live]
        caught = rng.binomial(cases.missing_hidden[ids], BACKOFFICE_DETECTION).astype(np.int16)
        case_ids, where = np.unique(ids, return_inverse=True)
        caught_case = np.zeros(case_ids.size, dtype=np.int16)
        np.maximum.at(caught_case, where, caught)
        bounced = caught_case > 0
        self._bounce(case_ids[bounced], caught_case[bounced])
        keep = ~bounced[where]
        ids, depts = ids[keep], depts[keep]
        parallel = cases.route_pos[ids] >= self._route_len[cases.matter[ids]]
        if parallel.any():
            np.bitwise_or.at(cases.approved_by, ids[parallel], np.left_shift(1, depts[parallel]))
            par_ids = np.unique(ids[parallel])
            cases.pending[par_ids] = self._outstanding(par_ids).sum(axis=1)
            self._finish_approval(par_ids[cases.pending[par_ids] <= 0])
        seq_ids = ids[~parallel]
        cases.route_pos[seq_ids] += 1
        last = cases.route_pos[seq_ids] >= self._route_len[cases.matter[seq_ids]]
        self._finish_approval(seq_ids[last])
        onward = seq_ids[~last]
        internal = cases.internal_routing[onward]
        self._schedule_visit(onward[~internal], self.day + 1, SUBMIT)  # citizen carries it on
        handoff = onward[internal]
        if handoff.size:
            next_dept = self._visit_department(handoff)
            p_bounce = (b.handoff_bounce_prob * (1.0 - self.coordination[next_dept])
                        * (1.0 - policy.data_sharing * self.connectivity[next_dept]))
            bounce = rng.random(handoff.size) < p_bounce
            self._bounce(handoff[bounce], np.ones(int(bounce.sum()), np.int16))
            go = handoff[~bounce]
            delay = np.ceil(b.handoff_days * (1.0 - self.coordination[next_dept[~bounce]]))
            self._send_to_back_office(go, self.day + delay.astype(np.int64))

    def _outstanding(self, ids: np.ndarray) -> np.ndarray:
        """Per case, which route positions belong to departments that have not yet approved."""
        table = self._route[self.cases.matter[ids]]
        done = (self.cases.approved_by[ids][:, None] >> np.maximum(table, 0)) & 1
        return (table >= 0) & (done == 0)

    def _bounce(self, ids: np.ndarray, materials: np.ndarray) -> None:
        """A case goes back to the citizen for materials: online cases fix it online."""
        if ids.size == 0:
            return
        cases = self.cases
        told = materials if self.spec.policy.one_time_notification else np.minimum(materials, 1)
        cases.resubmissions[ids] += 1
        cases.missing_hidden[ids] = np.maximum(cases.missing_hidden[ids] - told, 0)
        cases.bounces[ids] += 1  # recalls every copy still in a back office
        joint = cases.route_pos[ids] >= self._route_len[cases.matter[ids]]
        cases.route_pos[ids[joint]] = 0  # resubmitted to the departments yet to approve
        online = cases.channel[ids] == ONLINE
        proxy = cases.channel[ids] == PROXY
        remote = ids[online | proxy]
        self._send_to_back_office(remote, self.day + self._fix_days(remote.size))
        in_person = ids[~(online | proxy)]
        self._schedule_visit(in_person, self.day + self._fix_days(in_person.size), SUBMIT)

    def _finish_approval(self, ids: np.ndarray) -> None:
        if ids.size == 0:
            return
        collect = self.cases.needs_collection[ids]
        self._schedule_visit(ids[collect], self.day + 1, COLLECT)
        self._finish(ids[~collect])

    def _finish(self, ids: np.ndarray) -> None:
        if ids.size:
            self.cases.stage[ids] = DONE
            self.cases.done_day[ids] = self.day
            self.cases.done_count += int(ids.size)
            self._done_today.append(ids)

    # ---- 4. judgement, rating, word of mouth ----------------------------------------------

    def complete_cases(self) -> None:
        """Finished cases: satisfaction, rating, habits, trust and word of mouth."""
        done = np.concatenate(self._done_today) if self._done_today else np.empty(0, np.int64)
        self._done_today = []
        if done.size == 0:
            self.ledger.record_completions(done, self)
            return
        cases, cat, policy, b = self.cases, self.catalogue, self.spec.policy, self.spec.behaviour
        rng = self.streams["dynamics"]
        with np.errstate(invalid="ignore", divide="ignore"):
            attitude = cases.attitude_sum[done] / cases.contacts[done]
        matter = cases.matter[done]
        days = (self.day - cases.start_day[done]).astype(np.float64)
        # expectation: what citizens are promised, tempered by their own last experience
        memory = self.population.last_visits[cases.citizen[done]].astype(np.float64)
        expected = np.where(np.isnan(memory), policy.promise_visits,
                            0.5 * policy.promise_visits + 0.5 * memory)
        latent = latent_satisfaction(
            visits=cases.visits[done].astype(np.float64), expected_visits=expected,
            wait_minutes=cases.wait_minutes[done].astype(np.float64), days=days,
            legal_days=cat.legal_days[matter].astype(np.float64),
            resubmissions=cases.resubmissions[done].astype(np.float64),
            attitude=attitude.astype(np.float64), online_failed=cases.online_failed[done],
            noise=rng.standard_normal(done.size), b=b)
        score = likert(latent)
        cases.satisfaction[done] = score
        online = cases.channel[done] == ONLINE
        rated = rng.random(done.size) < rating_probability(score, online, b, policy.evaluation_feedback)
        cases.rated[done] = rated
        cases.good_review[done] = rated & (score >= 4)
        self._staff_reviews(done[rated & (cases.last_staff[done] >= 0)])
        self._update_citizens(done, score)
        self.ledger.record_completions(done, self)

    def _staff_reviews(self, ids: np.ndarray) -> None:
        staff = self.hall.staff
        for s, good in zip(self.cases.last_staff[ids].tolist(), self.cases.good_review[ids].tolist(),
                           strict=True):
            if good:
                staff[s].good_reviews_today += 1
            else:
                staff[s].bad_reviews_today += 1

    def _update_citizens(self, done: np.ndarray, score: np.ndarray) -> None:
        cases, pop, b = self.cases, self.population, self.spec.behaviour
        who = cases.citizen[done]
        pop.refresh(who, self.day)
        channel = cases.channel[done]
        satisfied = score >= 4
        pop.habit[who] = np.where(satisfied, channel, -1).astype(np.int8)
        pop.last_satisfaction[who] = score
        pop.last_visits[who] = cases.visits[done]
        pop.cases_done[who] += 1
        used_online = channel == ONLINE
        target = (score[used_online] - 1) / 4.0
        online_who = who[used_online]
        pop.trust[online_who] += b.trust_learning * (target - pop.trust[online_who])
        pop.awareness[online_who] = 1.0
        self._word_of_mouth(who, used_online)

    def _word_of_mouth(self, tellers: np.ndarray, used_online: np.ndarray) -> None:
        """Each teller talks to a few contacts: awareness spreads, trust moves toward theirs."""
        pop, b = self.population, self.spec.behaviour
        k = min(b.word_of_mouth_contacts, pop.contacts.shape[1])
        if k == 0 or tellers.size == 0:
            return
        rng = self.streams["network"]
        slot = rng.integers(0, pop.contacts.shape[1], size=(tellers.size, k))
        listeners = pop.contacts[tellers[:, None], slot]
        teller_trust = np.repeat(pop.trust[tellers], k)
        spread_awareness = np.repeat(used_online, k)
        listeners = listeners.ravel()
        pop.refresh(np.unique(listeners), self.day)
        gain = np.where(spread_awareness, b.word_of_mouth_awareness, 0.0)
        pop.trust[listeners] += b.word_of_mouth_trust * (teller_trust - pop.trust[listeners])
        pop.awareness[listeners] = pop.awareness[listeners] + gain * (1.0 - pop.awareness[listeners])


def _service_draws(rng: np.random.Generator, n: int, distribution: str, cv: float) -> np.ndarray:
    """Service-time multipliers with mean 1: exponential, or lognormal with the given CV."""
    if distribution == "exponential":
        return rng.exponential(1.0, n)
    sigma2 = np.log1p(cv * cv)
    return rng.lognormal(-sigma2 / 2.0, np.sqrt(sigma2), n)
