"""Key performance indicators: per day (Mesa DataCollector reporters) and for the whole run.

The names in `KPI_NAMES` are the public interface (`kpis.json`). Each equity gap is signed so
that a positive value means the rural or 60+ group is worse off.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from simulation.cases import BACKOFFICE, DONE
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


# (Chinese, English) label of every KPI and extra, for tables and figures
KPI_LABELS: dict[str, tuple[str, str]] = {
    "cases_completed": ("办结件数", "Cases completed"),
    "visits_per_case": ("跑动次数", "Visits per case"),
    "share_zero_visit": ("零跑动占比", "Share with zero visits"),
    "share_at_most_once": ("最多跑一次占比", "Share with at most one visit"),
    "wait_minutes_mean": ("平均等候(分)", "Hall wait, mean (min)"),
    "wait_minutes_p95": ("等候P95(分)", "Hall wait, 95th pct (min)"),
    "window_utilisation": ("窗口利用率", "Window utilisation"),
    "days_to_complete_mean": ("办结天数", "Days to complete, mean"),
    "overdue_share": ("超期占比", "Overdue share"),
    "resubmissions_per_case": ("重复提交", "Resubmissions per case"),
    "online_share": ("网办率", "Online share"),
    "online_share_simple": ("网办率(简单)", "Online share, simple"),
    "online_share_complex": ("网办率(复杂)", "Online share, complex"),
    "satisfaction_mean": ("满意度均值", "Satisfaction, mean (1-5)"),
    "share_satisfied": ("满意占比", "Share satisfied"),
    "good_review_rate": ("好评率", "Good-review rate"),
    "rating_participation": ("评价参与率", "Rating participation"),
    "online_share_gap_rural": ("城乡网办差", "Online gap, rural"),
    "online_share_gap_elderly": ("老年网办差", "Online gap, 60+"),
    "satisfaction_gap_rural": ("城乡满意度差", "Satisfaction gap, rural"),
    "visits_gap_elderly": ("老年跑动差", "Visits gap, 60+"),
    "backlog_cases": ("积压件数", "Back-office backlog"),
    "staff_hours_per_case": ("人时/件", "Staff hours per case"),
    "online_failure_rate": ("网办失败率", "Online failure rate"),
}
GAP_KPIS = ("online_share_gap_rural", "online_share_gap_elderly", "satisfaction_gap_rural",
            "visits_gap_elderly")

# +1: higher is better; -1: lower is better; 0: no direction (a gap is signed so that a
# positive value means the rural or 60+ group is worse off, so closing it is better)
KPI_BETTER: dict[str, int] = {
    "cases_completed": 1, "visits_per_case": -1, "share_zero_visit": 1, "share_at_most_once": 1,
    "wait_minutes_mean": -1, "wait_minutes_p95": -1, "window_utilisation": 0,
    "days_to_complete_mean": -1, "overdue_share": -1, "resubmissions_per_case": -1,
    "online_share": 1, "online_share_simple": 1, "online_share_complex": 1,
    "satisfaction_mean": 1, "share_satisfied": 1, "good_review_rate": 1, "rating_participation": 1,
    "online_share_gap_rural": -1, "online_share_gap_elderly": -1, "satisfaction_gap_rural": -1,
    "visits_gap_elderly": -1, "backlog_cases": -1, "staff_hours_per_case": -1,
    "online_failure_rate": -1,
}


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
        self.today_staffed_minutes = 0.0
        self.today_kpis: dict[str, float] = {}

    def record_hall(self, waits: np.ndarray, busy_minutes: float, hall: ServiceHall) -> None:
        """The day's hall waits and busy window-minutes."""
        self._hall_waits.append(waits.astype(np.float32))
        self.today_waits = waits
        self.today_busy = busy_minutes
        self.today_window_minutes = hall.hall_windows * hall.hall_open_minutes
        self.busy_minutes += busy_minutes
        self.hall_window_minutes += self.today_window_minutes
        self.today_staffed_minutes = (hall.hall_windows * hall.hall_open_minutes
                                      + hall.station_windows * hall.station_open_minutes)
        self.staffed_minutes += self.today_staffed_minutes

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


# ---- KPIs of a set of completed cases ------------------------------------------------------

def summarise(model: ServiceModel, done: np.ndarray, waits: np.ndarray, *, busy_minutes: float,
              hall_window_minutes: float, staffed_minutes: float) -> dict[str, float]:
    """The public KPIs over completed cases `done` and hall visits with `waits`."""
    cases, cat, pop = model.cases, model.catalogue, model.population
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
    return {
        "cases_completed": float(done.size),
        "visits_per_case": _mean(visits),
        "share_zero_visit": _share(visits == 0),
        "share_at_most_once": _share(visits <= 1),
        "wait_minutes_mean": _mean(waits),
        "wait_minutes_p95": float(np.percentile(waits, 95)) if waits.size else float("nan"),
        "window_utilisation": busy_minutes / hall_window_minutes if hall_window_minutes else float("nan"),
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
        "backlog_cases": float(np.count_nonzero(cases.stage[: cases.size] == BACKOFFICE)),
        "staff_hours_per_case": staffed_minutes / 60.0 / done.size if done.size else float("nan"),
    }


# ---- daily reporters (Mesa DataCollector) ------------------------------------------------

def today_kpis(model: ServiceModel) -> dict[str, float]:
    """All public KPIs over the cases completed and the hall visits of the current day."""
    ledger = model.ledger
    return summarise(model, ledger.today_done, ledger.today_waits, busy_minutes=ledger.today_busy,
                     hall_window_minutes=ledger.today_window_minutes,
                     staffed_minutes=ledger.today_staffed_minutes)


def _today(name: str, model: ServiceModel) -> float:
    return model.ledger.today_kpis[name]


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
    **{name: partial(_today, name) for name in KPI_NAMES},
    "open_cases": open_cases,
    "staff_attitude_mean": mean_staff_attitude,
    "staff_competence_mean": mean_staff_competence,
}


# ---- whole-run KPIs ---------------------------------------------------------------------

def run_kpis(model: ServiceModel) -> dict[str, float]:
    """All KPIs of the run so far, keyed by the public names (plus a few extras)."""
    cases, ledger = model.cases, model.ledger
    done = np.flatnonzero(cases.stage[: cases.size] == DONE)
    result = summarise(model, done, ledger.hall_waits(), busy_minutes=ledger.busy_minutes,
                       hall_window_minutes=ledger.hall_window_minutes,
                       staffed_minutes=ledger.staffed_minutes)
    visits = cases.visits[done]
    attempted = cases.online_attempt[done]
    result.update({
        # extras: the visits distribution and the online failure rate
        "cases_opened": float(cases.size),
        "visits_share_0": _share(visits == 0),
        "visits_share_1": _share(visits == 1),
        "visits_share_2": _share(visits == 2),
        "visits_share_3_plus": _share(visits >= 3),
        "online_failure_rate": _share(cases.online_failed[done][attempted]),
        "days_simulated": float(ledger.days),
    })
    return result
