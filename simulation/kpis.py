"""Key performance indicators: per day (Mesa DataCollector reporters) and for the whole run.

The names in `KPI_NAMES` are the public interface (`kpis.json`). Each equity gap is signed so
that a positive value means the rural or 60+ group is worse off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.cases import DONE
from simulation.population import ELDERLY, ONLINE

if TYPE_CHECKING:
    from simulation.hall import ServiceHall
    from simulation.model import ServiceModel

KPI_NAMES: tuple[str, ...] = (
    "cases_completed", "visits_per_case", "share_zero_visit", "share_at_most_once",
    "wait_minutes_mean", "wait_minutes_p95", "window_utilisation", "days_to_complete_mean",
    "overdue_share", "resubmissions_per_case", "online_share", "online_share_simple",
    "online_share_complex", "satisfaction_mean", "share_satisfied", "good_review_rate",
    "rating_participation", "online_share_gap_rural", "online_share_gap_elderly",
    "satisfaction_gap_rural", "visits_gap_elderly", "backlog_cases", "staff_hours_per_case",
)


class Ledger:
    """Running totals the KPIs need that are not in the case book (hall waits, busy time)."""

    def __init__(self) -> None:
        self._hall_waits: list[np.ndarray] = []
        self.busy_minutes = 0.0
        self.hall_window_minutes = 0.0
        self.staffed_minutes = 0.0
        self.days = 0
        self.today_waits = np.empty(0)
        self.today_busy = 0.0
        self.today_window_minutes = 0.0
        self.today_done = np.empty(0, dtype=np.int64)

    def record_hall(self, waits: np.ndarray, busy_minutes: float, hall: ServiceHall) -> None:
        """The day's hall waits and busy window-minutes."""
        self._hall_waits.append(waits.astype(np.float32))
        self.today_waits = waits
        self.today_busy = busy_minutes
        self.today_window_minutes = hall.hall_windows * hall.hall_open_minutes
        self.busy_minutes += busy_minutes
        self.hall_window_minutes += self.today_window_minutes
        self.staffed_minutes += (hall.hall_windows * hall.hall_open_minutes
                                 + hall.station_windows * hall.station_open_minutes)

    def record_completions(self, done: np.ndarray, model: ServiceModel) -> None:
        """The day's completed cases."""
        self.today_done = done

    def close_day(self) -> None:
        """End of day bookkeeping."""
        self.days += 1

    def hall_waits(self) -> np.ndarray:
        """Waits of every hall visit so far."""
        return np.concatenate(self._hall_waits) if self._hall_waits else np.empty(0)


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else float("nan")


def _share(mask: np.ndarray) -> float:
    return float(np.mean(mask)) if mask.size else float("nan")


# ---- daily reporters (module-level functions, as in Mesa's examples) ----------------------

def cases_completed_today(model: ServiceModel) -> int:
    """Cases completed on this day."""
    return int(model.ledger.today_done.size)


def visits_per_case_today(model: ServiceModel) -> float:
    """Mean visits of cases completed on this day."""
    return _mean(model.cases.visits[model.ledger.today_done].astype(np.float64))


def online_share_today(model: ServiceModel) -> float:
    """Share of this day's completed cases handled online."""
    return _share(model.cases.channel[model.ledger.today_done] == ONLINE)


def satisfaction_today(model: ServiceModel) -> float:
    """Mean satisfaction (1-5) of this day's completed cases."""
    return _mean(model.cases.satisfaction[model.ledger.today_done].astype(np.float64))


def wait_minutes_today(model: ServiceModel) -> float:
    """Mean hall wait of this day's hall visits."""
    return _mean(model.ledger.today_waits)


def window_utilisation_today(model: ServiceModel) -> float:
    """Busy share of the hall's window-minutes on this day."""
    minutes = model.ledger.today_window_minutes
    return model.ledger.today_busy / minutes if minutes else float("nan")


def backlog_cases(model: ServiceModel) -> int:
    """Cases waiting in all back offices."""
    return sum(d.backlog for d in model.departments)


def open_cases(model: ServiceModel) -> int:
    """Cases not yet completed."""
    return model.cases.open_count()


def mean_staff_attitude(model: ServiceModel) -> float:
    """Mean attitude of window staff."""
    return float(np.mean([s.attitude for s in model.staff])) if model.staff else float("nan")


def mean_staff_competence(model: ServiceModel) -> float:
    """Mean competence of window staff."""
    return float(np.mean([s.competence for s in model.staff])) if model.staff else float("nan")


DAILY_REPORTERS = {
    "cases_completed": cases_completed_today,
    "visits_per_case": visits_per_case_today,
    "online_share": online_share_today,
    "satisfaction_mean": satisfaction_today,
    "wait_minutes_mean": wait_minutes_today,
    "window_utilisation": window_utilisation_today,
    "backlog_cases": backlog_cases,
    "open_cases": open_cases,
    "staff_attitude_mean": mean_staff_attitude,
    "staff_competence_mean": mean_staff_competence,
}


# ---- whole-run KPIs ---------------------------------------------------------------------

def run_kpis(model: ServiceModel) -> dict[str, float]:
    """All KPIs of the run so far, keyed by the public names (plus a few extras)."""
    cases, cat, pop = model.cases, model.catalogue, model.population
    done = np.flatnonzero(cases.stage[: cases.size] == DONE)
    visits = cases.visits[done].astype(np.float64)
    channel = cases.channel[done]
    matter = cases.matter[done]
    complex_ = cat.complex[matter]
    online = channel == ONLINE
    days = (cases.done_day[done] - cases.start_day[done]).astype(np.float64)
    score = cases.satisfaction[done].astype(np.float64)
    rated = cases.rated[done]
    who = cases.citizen[done]
    person = ~pop.is_enterprise[who]
    rural = pop.rural[who] & person
    urban = ~pop.rural[who] & person
    elderly = (pop.age_band[who] == ELDERLY) & person
    younger = (pop.age_band[who] != ELDERLY) & person
    waits = model.ledger.hall_waits()
    ledger = model.ledger
    result = {
        "cases_completed": float(done.size),
        "visits_per_case": _mean(visits),
        "share_zero_visit": _share(visits == 0),
        "share_at_most_once": _share(visits <= 1),
        "wait_minutes_mean": _mean(waits),
        "wait_minutes_p95": float(np.percentile(waits, 95)) if waits.size else float("nan"),
        "window_utilisation": (ledger.busy_minutes / ledger.hall_window_minutes
                               if ledger.hall_window_minutes else float("nan")),
        "days_to_complete_mean": _mean(days),
        "overdue_share": _share(days > cat.legal_days[matter]),
        "resubmissions_per_case": _mean(cases.resubmissions[done].astype(np.float64)),
        "online_share": _share(online),
        "online_share_simple": _share(online[~complex_]),
        "online_share_complex": _share(online[complex_]),
        "satisfaction_mean": _mean(score),
        "share_satisfied": _share(score >= 4),
        "good_review_rate": _share(cases.good_review[done][rated]),
        "rating_participation": _share(rated),
        "online_share_gap_rural": _share(online[urban]) - _share(online[rural]),
        "online_share_gap_elderly": _share(online[younger]) - _share(online[elderly]),
        "satisfaction_gap_rural": _mean(score[urban]) - _mean(score[rural]),
        "visits_gap_elderly": _mean(visits[elderly]) - _mean(visits[younger]),
        "backlog_cases": float(backlog_cases(model)),
        "staff_hours_per_case": (ledger.staffed_minutes / 60.0 / done.size
                                 if done.size else float("nan")),
        # extras: the visits distribution and the online failure rate
        "cases_opened": float(cases.size),
        "visits_share_0": _share(visits == 0),
        "visits_share_1": _share(visits == 1),
        "visits_share_2": _share(visits == 2),
        "visits_share_3_plus": _share(visits >= 3),
        "online_failure_rate": _share(cases.online_failed[done][cases.online_attempt[done]]),
        "days_simulated": float(ledger.days),
    }
    return result
