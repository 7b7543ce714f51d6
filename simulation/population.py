"""The resident and enterprise population as columns of arrays, with lazily evolving states.

A county of a million people is a million rows here, not a million Python objects. Awareness
of the online platform and trust in it evolve in continuous time (publicity, decay toward a
baseline) and are brought up to date only when a citizen is touched — when a case arrives or a
neighbour talks to them — so citizens with nothing to do cost nothing per day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.scenario import Scenario

# channels (办理渠道)
ONLINE, STATION, HALL, PROXY = 0, 1, 2, 3
CHANNELS = ("online", "station", "hall", "proxy")
NO_HABIT = -1

# age bands
YOUNG, MIDDLE, ELDERLY = 0, 1, 2
AGE_BANDS = ("18-39", "40-59", "60+")


@dataclass
class Population:
    """Column store of all citizens (individuals first, then enterprises).

    Attributes are numpy arrays of length `size`. `awareness` and `trust` are valid as of
    `last_update[i]`; call `refresh(indices, day)` before reading them.
    """

    is_enterprise: np.ndarray
    age_band: np.ndarray
    rural: np.ndarray
    township: np.ndarray
    hall_travel_minutes: np.ndarray
    station_travel_minutes: np.ndarray
    literacy: np.ndarray
    awareness: np.ndarray
    trust: np.ndarray
    trust_baseline: np.ndarray
    habit: np.ndarray
    expected_wait_hall: np.ndarray
    expected_wait_station: np.ndarray
    last_satisfaction: np.ndarray
    last_visits: np.ndarray
    cases_done: np.ndarray
    last_update: np.ndarray
    contacts: np.ndarray
    publicity_hazard: float
    trust_decay: float

    @property
    def size(self) -> int:
        """Number of citizens (individuals plus enterprises)."""
        return int(self.is_enterprise.shape[0])

    def refresh(self, indices: np.ndarray, day: int) -> None:
        """Bring awareness and trust of `indices` forward to `day` in closed form.

        Awareness: 1 - a(t) = (1 - a(t0)) exp(-h (t - t0)) with publicity hazard h.
        Trust: relaxes toward its baseline, trust(t) = b + (trust(t0) - b) exp(-d (t - t0)).
        """
        if indices.size == 0:
            return
        elapsed = day - self.last_update[indices]
        if self.publicity_hazard > 0:
            keep = np.exp(-self.publicity_hazard * elapsed)
            self.awareness[indices] = 1.0 - (1.0 - self.awareness[indices]) * keep
        if self.trust_decay > 0:
            relax = np.exp(-self.trust_decay * elapsed)
            base = self.trust_baseline[indices]
            self.trust[indices] = base + (self.trust[indices] - base) * relax
        self.last_update[indices] = day

    def elderly(self, indices: np.ndarray) -> np.ndarray:
        """Boolean: aged 60+ (never true for enterprises)."""
        return (self.age_band[indices] == ELDERLY) & ~self.is_enterprise[indices]


def _clip01(values: np.ndarray) -> np.ndarray:
    return np.clip(values, 0.0, 1.0)


def build_population(scenario: Scenario, rng: np.random.Generator) -> Population:
    """Draw the population of a scenario from the model's own generator."""
    j = scenario.jurisdiction
    c = scenario.citizens
    n_people, n_firms = j.population, j.enterprises
    size = n_people + n_firms
    is_enterprise = np.zeros(size, dtype=bool)
    is_enterprise[n_people:] = True

    young_share = 1.0 - j.elderly_share - j.middle_share
    age_band = rng.choice(3, size=size, p=[young_share, j.middle_share, j.elderly_share]).astype(np.int8)
    age_band[is_enterprise] = MIDDLE
    # township blocks are contiguous rows, so contacts can be drawn within them
    township = np.sort(rng.integers(0, j.townships, size=size)).astype(np.int32)
    # townships differ in how rural they are; the county-wide share is rural_share on average
    township_rural = _clip01(j.rural_share + rng.normal(0.0, 0.2, j.townships))
    if township_rural.mean() > 0:
        township_rural = _clip01(township_rural * j.rural_share / township_rural.mean())
    rural = rng.random(size) < township_rural[township]

    base_literacy = np.choose(age_band, [c.literacy_young, c.literacy_middle, c.literacy_elderly])
    base_literacy = np.where(is_enterprise, c.enterprise_literacy, base_literacy)
    base_literacy = base_literacy - np.where(rural & ~is_enterprise, c.rural_literacy_penalty, 0.0)
    literacy = _clip01(base_literacy + rng.normal(0.0, c.literacy_sd, size))

    awareness = np.where(rural, c.awareness_rural, c.awareness_urban)
    awareness = awareness - np.where((age_band == ELDERLY) & ~is_enterprise,
                                     c.elderly_awareness_penalty, 0.0)
    awareness = _clip01(awareness + rng.normal(0.0, 0.05, size))
    trust_baseline = _clip01(rng.normal(c.trust_mean, c.trust_sd, size))

    hall_mean = np.where(rural, j.hall_travel_minutes_rural, j.hall_travel_minutes_urban)
    hall_travel = hall_mean * rng.gamma(4.0, 0.25, size)
    station_travel = j.station_travel_minutes * rng.gamma(4.0, 0.25, size)

    contacts = _draw_contacts(township, c.network_contacts, c.contacts_same_township, rng)
    days_per_year = scenario.demand.working_days_per_year
    return Population(
        is_enterprise=is_enterprise,
        age_band=age_band,
        rural=rural,
        township=township,
        hall_travel_minutes=hall_travel.astype(np.float32),
        station_travel_minutes=station_travel.astype(np.float32),
        literacy=literacy.astype(np.float32),
        awareness=awareness.astype(np.float64),
        trust=trust_baseline.astype(np.float64).copy(),
        trust_baseline=trust_baseline.astype(np.float32),
        habit=np.full(size, NO_HABIT, dtype=np.int8),
        expected_wait_hall=np.full(size, scenario.behaviour.prior_wait_minutes, dtype=np.float32),
        expected_wait_station=np.full(size, scenario.behaviour.prior_wait_minutes, dtype=np.float32),
        last_satisfaction=np.full(size, np.nan, dtype=np.float32),
        last_visits=np.full(size, np.nan, dtype=np.float32),
        cases_done=np.zeros(size, dtype=np.int32),
        last_update=np.zeros(size, dtype=np.int32),
        contacts=contacts,
        publicity_hazard=scenario.policy.publicity * scenario.behaviour.publicity_hazard_at_full,
        trust_decay=scenario.behaviour.trust_decay_per_day * 250.0 / days_per_year,
    )


def _draw_contacts(
    township: np.ndarray, degree: int, same_township: float, rng: np.random.Generator
) -> np.ndarray:
    """Each citizen's contact list: mostly people of the same township, some anywhere.

    `township` must be sorted, so each township is a contiguous block of rows.
    """
    size = township.shape[0]
    if degree == 0 or size < 2:
        return np.zeros((size, 0), dtype=np.int32)
    counts = np.bincount(township)
    block_start = np.concatenate(([0], np.cumsum(counts)[:-1]))
    start = block_start[township][:, None]
    width = counts[township][:, None]
    local = start + (rng.random((size, degree)) * width).astype(np.int64)
    anywhere = rng.integers(0, size, size=(size, degree))
    pick_local = rng.random((size, degree)) < same_township
    return np.where(pick_local, local, anywhere).astype(np.int32)
