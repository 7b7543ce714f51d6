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
from simulation.choice import ChoiceInputs, choose_channel, fallback_offline, utilities
from simulation.hall import ServiceHall
from simulation.population import HALL, ONLINE, PROXY, STATION, Population, build_population
from simulation.queueing import SERVED
from simulation.satisfaction import latent_satisfaction, likert, rating_probability
from simulation.scenario import Scenario, load_scenario

# fixed number of uniform draws per new case for material decisions (caps materials per matter)
MAX_MATERIALS = 32
# citizens sampled to plan the hall's department windows from the choice model
PLANNING_SAMPLE = 2000
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
        # per matter, the department holding each shareable material (-1 pads the rows)
        widest = max((len(h) for h in self.catalogue.shared_holders), default=0)
        self._holders = np.full((len(self.catalogue.shared_holders), widest), -1, dtype=np.int64)
        for m, holders in enumerate(self.catalogue.shared_holders):
            self._holders[m, : len(holders)] = holders
        self._lag = self.catalogue.processing_days / self._route_len  # days per department, continuous
        # 即办件: a single-department matter with no processing time is issued at the window,
        # so the citizen does not come back to collect it
        self._issued_at_window = (self.catalogue.processing_days == 0) & (self._route_len == 1)
        self.population: Population = build_population(scenario, self.streams["population"])
        self.cases = CaseBook(capacity=self._expected_cases_per_day() * 30)
        self.warmup_days = scenario.scenario.warmup_days
        # platform usability: starts at the lever, improved by fixes when ratings feed back
        self.online_usability = scenario.policy.online_usability
        self._build_departments()
        self._build_front_office()
        self._build_proxy_service()
        self._visits: dict[int, list[np.ndarray]] = defaultdict(list)
        self._citizens: dict[int, Citizen] = {}
        self._done_today: list[np.ndarray] = []
        self._observed_minutes = np.zeros(len(self.departments))
        self._online_ratings = np.zeros(2, dtype=np.int64)  # (rated, bad) since the last fix
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
        townships = self.spec.jurisdiction.townships
        rank = self.streams["staff"].permutation(townships)
        covered = int(round(self.spec.policy.station_coverage * townships))
        self.has_station = rank < covered
        residents = np.bincount(self.population.township, minlength=townships)
        self.hall = ServiceHall(self, self._planned_window_minutes(), np.flatnonzero(self.has_station),
                                residents)

    def _planned_window_minutes(self) -> np.ndarray:
        """Expected hall window minutes per department, from real volumes and the choice model.

        Each matter's yearly volume (residents x resident rate x its share among individual
        matters, or the same for enterprises) times the share expected to come in person —
        one minus the online share the channel-choice model predicts for a sample of the
        matter's audience (aware x P(online chosen) x P(online attempt succeeds)) — times the
        minutes of a submission (plus a collection visit where results are collected), on every
        department of its route.
        """
        cat, d, j, hall, pop = self.catalogue, self.spec.demand, self.spec.jurisdiction, self.spec.hall, self.population
        rng = self.streams["staff"]
        volume = {False: j.population * d.cases_per_resident_year, True: j.enterprises * d.cases_per_enterprise_year}
        groups = {False: np.flatnonzero(~pop.is_enterprise), True: np.flatnonzero(pop.is_enterprise)}
        demand = np.zeros(len(self.departments))
        for enterprise in (False, True):
            members = groups[enterprise]
            matters = np.flatnonzero(cat.enterprise == enterprise)
            if members.size == 0 or matters.size == 0 or volume[enterprise] <= 0:
                continue
            who = members[rng.integers(0, members.size, size=min(PLANNING_SAMPLE, members.size))]
            share = cat.demand_share[matters] / cat.demand_share[matters].sum()
            for m, within in zip(matters.tolist(), share.tolist(), strict=True):
                online = self._expected_online_share(who, m)
                minutes = hall.service_minutes_complex if cat.complex[m] else hall.service_minutes_simple
                if not self._issued_at_window[m] and not self.spec.policy.result_by_post:
                    minutes += hall.service_minutes_collect
                for dept in cat.route[m]:
                    demand[dept] += volume[enterprise] * within * (1.0 - online) * minutes
        return demand

    def _expected_online_share(self, who: np.ndarray, matter: int) -> float:
        """Share of `who`'s cases of `matter` expected to be completed online (planning only)."""
        cat, b, pop = self.catalogue, self.spec.behaviour, self.population
        if cat.online_depth[matter] < 2:
            return 0.0
        n = who.size
        literacy = self._effective_literacy(who)
        inputs = ChoiceInputs(
            literacy=literacy, aware=np.ones(n, bool), trust=pop.trust[who],
            hall_travel_minutes=pop.hall_travel_minutes[who], station_travel_minutes=pop.station_travel_minutes[who],
            hall_wait_minutes=pop.expected_wait_hall[who], station_wait_minutes=pop.expected_wait_station[who],
            complex=np.full(n, bool(cat.complex[matter])), online_depth=np.full(n, cat.online_depth[matter]),
            station_available=np.zeros(n, bool), proxy_available=np.zeros(n, bool), elderly=pop.elderly(who),
            habit=np.full(n, -1, np.int8))
        u = utilities(inputs, b)
        p_choose = 1.0 / (1.0 + np.exp(u[:, HALL] - u[:, ONLINE]))
        uploads = max(int(cat.materials[matter]) - len(cat.shared_holders[matter]) * self.spec.policy.data_sharing, 0)
        p_success = self._online_success(literacy, np.full(n, uploads))
        return float(np.mean(pop.awareness[who] * p_choose * p_success))

    def _build_proxy_service(self) -> None:
        """帮办代办: proxy agents in the covered townships, each handling a few cases a day."""
        townships = self.spec.jurisdiction.townships
        rank = self.streams["staff"].permutation(townships)
        self.has_proxy = rank < int(round(self.spec.policy.proxy_service * townships))
        proxy = self.spec.proxy
        self.proxy_agents = int(self.has_proxy.sum()) * proxy.agents_per_township
        self._proxy_capacity = np.where(self.has_proxy, proxy.agents_per_township * proxy.cases_per_agent_day, 0.0)
        self._proxy_credit = np.zeros(townships)
        self._proxy_queue = np.empty(0, dtype=np.int64)

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

    @property
    def proxy_backlog(self) -> int:
        """Cases handed to proxy agents and not yet taken up."""
        return int(self._proxy_queue.size)

    @property
    def measuring(self) -> bool:
        """Past the warm-up: today's visits and costs count in the KPIs."""
        return self.day >= self.warmup_days

    def step(self) -> None:
        """One working day."""
        self.arrive_new_cases()
        self.work_proxy_backlog()
        self.serve_visitors()
        self.approve_in_back_offices()
        self.complete_cases()
        self.staff_end_of_day()
        self.platform_fixes()
        self.ledger.today_kpis = kpis.today_kpis(self)
        self.datacollector.collect(self)
        self.ledger.close_day()
        self.day += 1

    def run(self, days: int | None = None) -> dict[str, float]:
        """Run the warm-up (if not yet done), then `days` measured working days (default: the
        scenario's), and return the KPIs of the measured days."""
        end = max(self.day, self.warmup_days) + (days if days is not None else self.spec.scenario.days)
        while self.day < end:
            self.step()
        return self.kpis()

    def kpis(self) -> dict[str, float]:
        """KPIs of the whole run so far (the public names in `simulation.KPI_NAMES`)."""
        return kpis.run_kpis(self)

    def daily(self, *, include_warmup: bool = False) -> pd.DataFrame:
        """Per-day KPIs collected by the DataCollector (measured days only, unless asked)."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.index.name = "day"
        return frame if include_warmup else frame.iloc[self.warmup_days:]

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
        boost = self.spec.behaviour.digital_assistance_boost * self.spec.policy.digital_assistance * (1.0 - lit)
        return np.where(assisted, lit + boost, lit)

    def arrive_new_cases(self) -> None:
        """New cases arrive (Poisson); citizens choose a channel and start."""
        rng = self.streams["arrivals"]
        who, matter = self._sample_cases(rng)
        n = who.size
        # per-case random numbers, drawn in a fixed layout whatever the policy (common random numbers)
        u_pull, u_missing = rng.random((n, MAX_MATERIALS)), rng.random((n, MAX_MATERIALS))
        gumbel = rng.gumbel(size=(n, 4))
        u_aware, u_habit, u_online, u_preexam = rng.random((4, n))
        if n == 0:
            return
        pop, cat, b = self.population, self.catalogue, self.spec.behaviour
        pop.refresh(who, self.day)
        ids = self.cases.add(who, matter, self.day)
        inputs = self._choice_inputs(who, matter, u_aware < pop.awareness[who])
        literacy = inputs.literacy
        channel = choose_channel(inputs, b, gumbel, u_habit)
        missing, uploads = self._missing_materials(matter, literacy, u_pull, u_missing)
        cases = self.cases
        cases.missing_hidden[ids] = missing
        cases.route_pos[ids] = 0
        cases.pending[ids] = cat.n_departments[matter]
        # online attempt: works, or fails and falls back offline
        tried = channel == ONLINE
        failed = tried & (u_online >= self._online_success(literacy, uploads))
        cases.online_attempt[ids] = tried
        cases.online_failed[ids] = failed
        if failed.any():
            channel[failed] = fallback_offline(inputs, b, gumbel)[failed]
            pop.trust[who[failed]] *= 1.0 - b.online_failure_trust_cut * b.trust_learning
        cases.channel[ids] = channel
        cases.expected_wait[ids] = np.select([channel == HALL, channel == STATION],
                                             [inputs.hall_wait_minutes, inputs.station_wait_minutes], 0.0)
        self._start_online(ids[channel == ONLINE])
        self._start_proxy(ids[channel == PROXY])
        offline = (channel == STATION) | (channel == HALL)
        self._start_offline(ids[offline], (u_preexam < pop.awareness[who] * literacy)[offline])

    def _choice_inputs(self, who: np.ndarray, matter: np.ndarray, aware: np.ndarray) -> ChoiceInputs:
        """What the channel-choice rule needs about citizens `who` with matters `matter`."""
        pop, cat = self.population, self.catalogue
        complex_ = cat.complex[matter]
        township = pop.township[who]
        station_ok = self.has_station[township] & cat.station_eligible[matter]
        if self.spec.policy.station_scope == "simple":
            station_ok &= ~complex_
        return ChoiceInputs(
            literacy=self._effective_literacy(who), aware=aware, trust=pop.trust[who],
            hall_travel_minutes=pop.hall_travel_minutes[who],
            station_travel_minutes=pop.station_travel_minutes[who],
            hall_wait_minutes=pop.expected_wait_hall[who], station_wait_minutes=pop.expected_wait_station[who],
            complex=complex_, online_depth=cat.online_depth[matter], station_available=station_ok,
            proxy_available=self.has_proxy[township], elderly=pop.elderly(who), habit=pop.habit[who])

    def _online_success(self, literacy: np.ndarray, uploads: np.ndarray) -> np.ndarray:
        """Chance an online attempt goes through: the platform works (usability), the citizen
        copes with it (literacy), and every material they must upload goes through."""
        b = self.spec.behaviour
        return (self.online_usability * (1.0 - b.online_failure_literacy_weight * (1.0 - literacy))
                * (1.0 - b.upload_failure_per_material) ** uploads)

    def _missing_materials(self, matter: np.ndarray, literacy: np.ndarray, u_pull: np.ndarray,
                           u_missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Materials the citizen must supply, and those they bring missing or faulty.

        Material j of a matter is pulled from shared data when its holding department is
        connected (probability data_sharing x connectivity); the citizen supplies the rest, each
        missing with probability missing_material_prob x (offset - literacy) (guides are hard
        to read). Returns (missing, supplied) counts per case.
        """
        cat, b = self.catalogue, self.spec.behaviour
        count = np.minimum(cat.materials, MAX_MATERIALS)[matter]
        supplied = np.arange(MAX_MATERIALS) < count[:, None]
        width = self._holders.shape[1]
        if width:
            holder = self._holders[matter]
            p_pull = np.where(holder >= 0, self.spec.policy.data_sharing * self.connectivity[holder], 0.0)
            supplied[:, :width] &= ~(u_pull[:, :width] < p_pull)
        p_missing = np.clip(b.missing_material_prob * (b.missing_material_literacy_offset - literacy), 0.0, 1.0)
        missing = np.count_nonzero(supplied & (u_missing < p_missing[:, None]), axis=1).astype(np.int16)
        return missing, np.count_nonzero(supplied, axis=1)

    def _fix_days(self, n: int) -> np.ndarray:
        mean = self.spec.behaviour.days_to_fix_materials
        return 1 + self.streams["dynamics"].poisson(max(mean - 1.0, 0.0), n)

    def _start_online(self, ids: np.ndarray) -> None:
        """Online applications: the platform checks materials; fixes cost no visit."""
        if ids.size == 0:
            return
        cases, cat = self.cases, self.catalogue
        rng = self.streams["dynamics"]
        caught = rng.binomial(cases.missing_hidden[ids], self.spec.behaviour.platform_detection).astype(np.int16)
        cases.resubmissions[ids] += caught > 0
        cases.missing_hidden[ids] -= caught
        delay = np.where(caught > 0, self._fix_days(ids.size), 0)
        cases.internal_routing[ids] = True
        depth = cat.online_depth[cases.matter[ids]]
        cases.needs_collection[ids] = (depth < 3) & (not self.spec.policy.result_by_post)
        self._send_to_back_office(ids, self.day + delay)

    def _start_proxy(self, ids: np.ndarray) -> None:
        """帮办代办: the citizen hands the matter to the village proxy point (one trip) and the
        case joins the township's proxy backlog."""
        if ids.size == 0:
            return
        cases = self.cases
        cases.visits[ids] += 1
        cases.travel_minutes[ids] += 2 * self.population.station_travel_minutes[cases.citizen[ids]]
        cases.internal_routing[ids] = True
        cases.needs_collection[ids] = False
        self._proxy_queue = np.concatenate([self._proxy_queue, ids])

    def work_proxy_backlog(self) -> None:
        """Proxy agents take up to their daily capacity of cases from their township's backlog,
        first come first served; they check the materials (a missing one costs the citizen one
        more trip to the village point) and submit the case."""
        queue = self._proxy_queue
        if queue.size == 0:
            return
        cases = self.cases
        township = self.population.township[cases.citizen[queue]].astype(np.int64)
        self._proxy_credit = np.where(self.has_proxy, self._proxy_credit + self._proxy_capacity, 0.0)
        order = np.argsort(township, kind="stable")
        sorted_t = township[order]
        first = np.searchsorted(sorted_t, sorted_t, side="left")
        position = np.empty(queue.size, dtype=np.int64)
        position[order] = np.arange(queue.size) - first
        taken = position < np.floor(self._proxy_credit[township])
        left = self._proxy_credit - np.bincount(township[taken], minlength=self._proxy_credit.size)
        # unused hours are lost; only the fraction of a case carries to tomorrow
        self._proxy_credit = np.minimum(left, self._proxy_credit - np.floor(self._proxy_credit))
        ids = queue[taken]
        self._proxy_queue = queue[~taken]
        fixing = cases.missing_hidden[ids] > 0
        cases.visits[ids[fixing]] += 1
        cases.travel_minutes[ids[fixing]] += 2 * self.population.station_travel_minutes[cases.citizen[ids[fixing]]]
        cases.resubmissions[ids[fixing]] += 1
        cases.missing_hidden[ids] = 0
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
        """Today's visitors queue at the hall and stations; those served go on, those who balk
        or are still queued at closing come back on the next working day (a counted visit)."""
        todays = self._visits.pop(self.day, [])
        ids = np.concatenate(todays) if todays else np.empty(0, np.int64)
        cases, cat, pop, b = self.cases, self.catalogue, self.population, self.spec.behaviour
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
        patience = b.balk_tolerance_minutes * rng.gamma(4.0, 0.25, ids.size) if b.balking else None
        department = self._visit_department(ids)
        outcome = self.hall.serve(at_station=at_station, township=pop.township[who], department=department,
                                  work_minutes=work, patience_minutes=patience, rng=rng)
        travel = np.where(at_station, pop.station_travel_minutes[who], pop.hall_travel_minutes[who])
        cases.visits[ids] += 1
        cases.wait_minutes[ids] += outcome.wait_minutes
        cases.travel_minutes[ids] += 2 * travel
        self._learn_waits(who, at_station, outcome.seen_wait_minutes)
        self._observed_minutes += np.bincount(department[~at_station], weights=work[~at_station],
                                              minlength=self._observed_minutes.size)
        if self.measuring:
            self.ledger.record_visits(outcome, at_station, self.hall)
        served = outcome.status == SERVED
        cases.unserved_visits[ids[~served]] += 1
        self._come_back(ids[~served])
        ids, staff_idx = ids[served], outcome.staff[served]
        collect, at_station, comprehensive = collect[served], at_station[served], outcome.comprehensive[served]
        roster = self.hall.roster
        cases.attitude_sum[ids] += roster.attitude[staff_idx]
        cases.contacts[ids] += 1
        cases.last_staff[ids] = staff_idx
        roster.served_today += np.bincount(staff_idx, minlength=roster.served_today.size)
        self._finish(ids[collect])
        submit = ~collect
        self._check_materials(ids[submit], staff_idx[submit], comprehensive[submit] | at_station[submit])

    def _come_back(self, ids: np.ndarray) -> None:
        """Visitors who balked or were turned away try again on the next working day. One who has
        not yet lodged the matter anywhere chooses again among the offline channels, with what
        they now expect of the queue; one whose case is under way must return to the same place."""
        if ids.size == 0:
            return
        cases = self.cases
        fresh = (cases.purpose[ids] == SUBMIT) & (cases.route_pos[ids] == 0) & (cases.bounces[ids] == 0)
        again = ids[fresh]
        if again.size:
            inputs = self._choice_inputs(cases.citizen[again], cases.matter[again], np.zeros(again.size, bool))
            gumbel = self.streams["dynamics"].gumbel(size=(again.size, 4))
            channel = fallback_offline(inputs, self.spec.behaviour, gumbel)
            cases.channel[again] = channel
            self._start_proxy(again[channel == PROXY])
            self._schedule_visit(again[channel != PROXY], self.day + 1, SUBMIT)
        rest = ids[~fresh]
        self._schedule_visit(rest, self.day + 1, cases.purpose[rest])

    def _learn_waits(self, who: np.ndarray, at_station: np.ndarray, wait: np.ndarray) -> None:
        """Citizens update the wait they expect at the channel they used toward what they met."""
        pop, rate = self.population, self.spec.behaviour.wait_learning
        for expected, mask in ((pop.expected_wait_station, at_station), (pop.expected_wait_hall, ~at_station)):
            w = who[mask]
            expected[w] += rate * (wait[mask] - expected[w])

    def _check_materials(self, ids: np.ndarray, staff_idx: np.ndarray, comprehensive: np.ndarray) -> None:
        """At the window: missing materials are caught (or not); complete cases are accepted."""
        if ids.size == 0:
            return
        cases, policy, b = self.cases, self.spec.policy, self.spec.behaviour
        rng = self.streams["dynamics"]
        p_detect = self.hall.roster.detection_probability(
            b.staff_detects_missing, self.spec.staff.detection_competence_weight)[staff_idx]
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
        ready = np.broadcast_to(np.asarray(ready_day), ids.shape) + self._whole_days(self._lag[matter])
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
        caught = rng.binomial(cases.missing_hidden[ids], b.backoffice_detection).astype(np.int16)
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
            delay = self._whole_days(b.handoff_days * (1.0 - self.coordination[next_dept[~bounce]]))
            self._send_to_back_office(go, self.day + delay)

    def _whole_days(self, days: np.ndarray) -> np.ndarray:
        """Stochastic rounding of continuous delays to working days: floor(x) + 1 with probability
        frac(x), so the mean delay is exactly x and a lever that shortens it always shows."""
        days = np.asarray(days, dtype=np.float64)
        whole = np.floor(days)
        return (whole + (self.streams["dynamics"].random(days.shape) < days - whole)).astype(np.int64)

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
        legal = cat.legal_days[matter].astype(np.float64)
        # expectation: what citizens are promised, tempered by their own last experience
        memory = self.population.last_visits[cases.citizen[done]].astype(np.float64)
        expected = np.where(np.isnan(memory), policy.promise_visits,
                            0.5 * policy.promise_visits + 0.5 * memory)
        latent = latent_satisfaction(
            visits=cases.visits[done].astype(np.float64), expected_visits=expected,
            wait_minutes=cases.wait_minutes[done].astype(np.float64),
            expected_wait_minutes=cases.expected_wait[done].astype(np.float64) * cases.visits[done],
            days=days, expected_days=b.expected_days_share_of_limit * legal, legal_days=legal,
            resubmissions=cases.resubmissions[done].astype(np.float64),
            attitude=attitude.astype(np.float64), online_failed=cases.online_failed[done],
            noise=rng.standard_normal(done.size), b=b)
        score = likert(latent, b.satisfaction_cutpoints)
        cases.satisfaction[done] = score
        online = cases.channel[done] == ONLINE
        prompt = self.spec.feedback.rating_prompt_multiplier if policy.evaluation_feedback else 1.0
        rated = rng.random(done.size) < rating_probability(score, online, b, prompt)
        cases.rated[done] = rated
        cases.good_review[done] = rated & (score >= 4)
        self._staff_reviews(done[rated & (cases.last_staff[done] >= 0)])
        online_rated = rated & online
        self._online_ratings += (int(online_rated.sum()), int((online_rated & (score < 4)).sum()))
        self._update_citizens(done, score)
        self.ledger.record_completions(done, self)

    def _staff_reviews(self, ids: np.ndarray) -> None:
        roster, staff, good = self.hall.roster, self.cases.last_staff[ids], self.cases.good_review[ids]
        roster.good_today += np.bincount(staff[good], minlength=roster.good_today.size)
        roster.bad_today += np.bincount(staff[~good], minlength=roster.bad_today.size)

    # ---- 5. staff, the hall's allocation and the platform ----------------------------------

    def staff_end_of_day(self) -> None:
        """Clerks learn (training costs hours) and respond to the day's reviews (rectification
        costs hours); every
        `hall.reallocate_every_days` the department windows follow the observed demand."""
        hours = self.hall.roster.end_of_day(self.spec, self.spec.policy.evaluation_feedback)
        if self.measuring:
            self.ledger.add_staff_minutes(60.0 * (hours + self.proxy_agents * self.spec.proxy.hours_per_agent_day))
        every = self.spec.hall.reallocate_every_days
        if every and (self.day + 1) % every == 0:
            if self._observed_minutes.sum() > 0:
                self.hall.reallocate(self._observed_minutes)
            self._observed_minutes[:] = 0.0

    def platform_fixes(self) -> None:
        """With ratings feeding back, every `feedback.usability_fix_lag_days` the platform team
        fixes what bad online ratings pointed at: usability closes a share of its gap to the
        ceiling in proportion to the share of bad online ratings, at a cost in developer hours."""
        fb = self.spec.feedback
        if not self.spec.policy.evaluation_feedback or (self.day + 1) % fb.usability_fix_lag_days:
            return
        rated, bad = self._online_ratings.tolist()
        if rated:
            gap = max(fb.usability_ceiling - self.online_usability, 0.0)
            self.online_usability += fb.usability_fix_gain * (bad / rated) * gap
            if self.measuring:
                self.ledger.add_staff_minutes(60.0 * fb.developer_hours_per_fix)
        self._online_ratings[:] = 0

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
        self._word_of_mouth(who, used_online, done)

    def _word_of_mouth(self, tellers: np.ndarray, used_online: np.ndarray, told_cases: np.ndarray) -> None:
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
        pop.refresh(listeners, self.day)  # a listener told twice is brought forward twice, to the same value
        gain = np.where(spread_awareness, b.word_of_mouth_awareness, 0.0)
        pop.trust[listeners] += b.word_of_mouth_trust * (teller_trust - pop.trust[listeners])
        # what they tell of the queue they met: listeners' expected wait moves toward it
        cases_told = np.repeat(told_cases, k)
        channel = self.cases.channel[cases_told]
        per_visit = self.cases.wait_minutes[cases_told] / np.maximum(self.cases.visits[cases_told], 1)
        for expected, used in ((pop.expected_wait_hall, HALL), (pop.expected_wait_station, STATION)):
            mine = channel == used
            expected[listeners[mine]] += b.word_of_mouth_wait * (per_visit[mine] - expected[listeners[mine]])
        pop.awareness[listeners] = pop.awareness[listeners] + gain * (1.0 - pop.awareness[listeners])


def _service_draws(rng: np.random.Generator, n: int, distribution: str, cv: float) -> np.ndarray:
    """Service-time multipliers with mean 1: exponential, or lognormal with the given CV."""
    if distribution == "exponential":
        return rng.exponential(1.0, n)
    sigma2 = np.log1p(cv * cv)
    return rng.lognormal(-sigma2 / 2.0, np.sqrt(sigma2), n)
