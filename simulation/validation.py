"""Built-in validation: the model reduced to an M/M/c hall must reproduce Erlang C and Little's law.

`mmc_scenario` turns any scenario into a hall with one pool of identical windows, Poisson
arrivals at a constant rate around the clock, exponential service and nothing else (no online
channel, no stations, no missing materials, no balking, results by post). Its session covers the
whole day, so the queue carries across midnight and the hall is one continuous M/M/c queue.
`validate_queueing` runs it through the full `ServiceModel` and compares P(wait), mean wait and
mean number in system with theory; standard errors come from batch means over consecutive blocks
of days (days are not independent), after a warm-up day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.queueing import erlang_c, erlang_c_wait
from simulation.scenario import Scenario, load_scenario

DAY_MINUTES = 1440.0
DEFAULT_SETTINGS: tuple[tuple[float, float, int], ...] = (
    (2.0, 1.0, 3),  # the benchmark queue: lambda = 2/min, mu = 1/min, 3 windows
    (0.5, 1.0, 1),  # M/M/1 at half load
    (3.0, 0.5, 8),  # a larger hall at 75% load
    (1.0, 0.125, 10),  # slow services, 80% load
    (0.95, 1.0, 1),  # M/M/1 at heavy load: only a queue carried across days gets this right
)


@dataclass(frozen=True)
class QueueCheck:
    """Simulated versus theoretical figures for one (lambda, mu, c) setting."""

    arrival_rate: float
    service_rate: float
    windows: int
    customers: int
    p_wait_sim: float
    p_wait_se: float
    p_wait_theory: float
    wait_sim: float
    wait_se: float
    wait_theory: float
    in_system_sim: float
    in_system_se: float
    in_system_little: float

    @property
    def passed(self) -> bool:
        """Agreement within four standard errors on all three checks."""
        return (abs(self.p_wait_sim - self.p_wait_theory) <= 4 * self.p_wait_se
                and abs(self.wait_sim - self.wait_theory) <= 4 * self.wait_se
                and abs(self.in_system_sim - self.in_system_little) <= 4 * self.in_system_se)


def mmc_scenario(arrival_rate: float, service_rate: float, windows: int,
                 base: Scenario | None = None) -> Scenario:
    """A scenario whose hall is exactly an M/M/c queue (rates per minute)."""
    base = base or load_scenario("baseline")
    population = 100_000
    days_per_year = base.demand.working_days_per_year
    updates = {
        "jurisdiction.population": population, "jurisdiction.enterprises": 0,
        "jurisdiction.townships": 1,
        "demand.cases_per_resident_year": arrival_rate * DAY_MINUTES * days_per_year / population,
        "hall.windows": windows, "hall.sessions": [[0.0, DAY_MINUTES]], "hall.arrival_profile": [1.0],
        "hall.reallocate_every_days": 0, "scenario.warmup_days": 0, "behaviour.balking": False,
        "hall.service_minutes_simple": 1.0 / service_rate,
        "hall.service_distribution": "exponential",
        "staff.competence_mean": 0.5, "staff.competence_sd": 0.0,
        "staff.it_skill_mean": 0.5, "staff.it_skill_sd": 0.0,
        "staff.learning_per_100_cases": 0.0,
        "citizens.awareness_urban": 0.0, "citizens.awareness_rural": 0.0,
        "behaviour.missing_material_prob": 0.0,
        "policy.comprehensive_window_share": 1.0, "policy.station_coverage": 0.0,
        "policy.proxy_service": 0.0, "policy.publicity": 0.0, "policy.staff_training": 0.0,
        "policy.result_by_post": True,
    }
    data = base.model_dump(mode="python")
    data["departments"] = {"hall": {"label": "M/M/c hall", "capacity_per_day": 1_000_000,
                                    "connectivity": 1.0, "coordination": 1.0,
                                    "platform_integrated": True}}
    data["matters"] = {"mmc": {"departments": ["hall"], "materials": 0, "online_depth": 0,
                               "processing_days": 0, "legal_days": 365, "demand_share": 1.0}}
    data["provenance"] = {}
    data["jurisdiction"]["enterprises"] = 0
    return Scenario.model_validate(data).with_updates(updates, source="M/M/c validation")


def _batch_ratio(totals: np.ndarray, counts: np.ndarray, batches: int) -> tuple[float, float]:
    """Ratio estimate sum(y)/sum(n) with its batch-means standard error: the days are cut into
    `batches` consecutive blocks and the block ratios treated as independent (Law & Kelton,
    Simulation Modeling and Analysis, ch. 9.5.3)."""
    ratio = float(totals.sum() / counts.sum())
    blocks = np.array_split(np.arange(totals.size), batches)
    means = np.array([totals[b].sum() / counts[b].sum() for b in blocks])
    return ratio, float(means.std(ddof=1) / np.sqrt(len(blocks)))


def check_mmc(arrival_rate: float, service_rate: float, windows: int, *, days: int = 30,
              seed: int = 0, warmup_days: int = 1, batches: int = 10) -> QueueCheck:
    """Run the M/M/c scenario through `ServiceModel` and compare with Erlang C and Little's law.

    The first `warmup_days` are left out (the hall opens empty); the rest are cut into `batches`
    consecutive blocks for batch-means standard errors.
    """
    from simulation.model import ServiceModel

    if days - warmup_days < 2 * batches:
        raise ValueError(f"days ({days}) must exceed warmup_days ({warmup_days}) by at least "
                         f"2 x batches ({2 * batches})")
    model = ServiceModel(mmc_scenario(arrival_rate, service_rate, windows), seed=seed)
    model.hall.trace = []
    for _ in range(days):
        model.step()
    waited, waits, counts = [], [], []
    for arrival, start, _ in model.hall.trace[warmup_days:]:
        w = start - arrival
        waited.append(np.count_nonzero(w > 1e-9))
        waits.append(w.sum())
        counts.append(arrival.size)
    # time-average number in system per day: everyone (carried queues included) who has arrived
    # and not yet left, on a fine grid of the day's minutes
    arrivals_abs = np.concatenate([a + d * DAY_MINUTES for d, (a, _, _) in enumerate(model.hall.trace)])
    ends_abs = np.sort(np.concatenate([e + d * DAY_MINUTES for d, (_, _, e) in enumerate(model.hall.trace)]))
    arrivals_abs.sort()
    area = []
    for day in range(warmup_days, days):
        grid = (day + np.linspace(0.0, 1.0, 4000, endpoint=False)) * DAY_MINUTES
        area.append(np.mean(np.searchsorted(arrivals_abs, grid, side="right")
                            - np.searchsorted(ends_abs, grid, side="right")))
    counts_a = np.asarray(counts, dtype=float)
    p_wait, p_se = _batch_ratio(np.asarray(waited, float), counts_a, batches)
    wait, w_se = _batch_ratio(np.asarray(waits, float), counts_a, batches)
    in_sys, l_se = _batch_ratio(np.asarray(area, float), np.ones(len(area)), batches)
    wq = erlang_c_wait(arrival_rate, service_rate, windows)
    return QueueCheck(
        arrival_rate=arrival_rate, service_rate=service_rate, windows=windows,
        customers=int(counts_a.sum()), p_wait_sim=p_wait, p_wait_se=p_se,
        p_wait_theory=erlang_c(arrival_rate, service_rate, windows), wait_sim=wait, wait_se=w_se,
        wait_theory=wq, in_system_sim=in_sys, in_system_se=l_se,
        in_system_little=arrival_rate * (wq + 1.0 / service_rate))


def validate_queueing(settings: tuple[tuple[float, float, int], ...] = DEFAULT_SETTINGS, *,
                      days: int = 100, seed: int = 0) -> pd.DataFrame:
    """One row per setting: simulated vs theoretical P(wait), mean wait and L, and `passed`."""
    rows = []
    for lam, mu, c in settings:
        check = check_mmc(lam, mu, c, days=days, seed=seed)
        rows.append({**check.__dict__, "passed": check.passed})
    return pd.DataFrame(rows)
