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
from simulation.queueing import BALKED, TURNED_AWAY

if TYPE_CHECKING:
    from simulation.hall import ServiceHall, VisitOutcome
    from simulation.model import ServiceModel

KPI_NAMES: tuple[str, ...] = (
    "cases_completed", "visits_per_case", "share_zero_visit", "share_at_most_once",
    "wait_minutes_mean", "wait_minutes_p95", "window_utilisation", "days_to_complete_mean",
    "overdue_share", "resubmissions_per_case", "online_share", "online_share_simple",
    "online_share_complex", "satisfaction_mean", "share_satisfied", "good_review_rate",
    "rating_participation", "online_share_gap_rural", "online_share_gap_elderly",
    "satisfaction_gap_rural", "visits_gap_elderly", "backlog_cases", "staff_hours_per_case",
    "hall_wait_minutes_mean", "station_wait_minutes_mean", "station_utilisation", "proxy_backlog_cases",
)


# (Chinese, English) label of every KPI and extra, for tables and figures
KPI_LABELS: dict[str, tuple[str, str]] = {
    "cases_completed": ("办结件数", "Cases completed"),
    "visits_per_case": ("跑动次数", "Visits per case"),
    "share_zero_visit": ("零跑动占比", "Share with zero visits"),
    "share_at_most_once": ("最多跑一次占比", "Share with at most one visit"),
    "wait_minutes_mean": ("平均等候(分)", "Wait in person, mean (min)"),
    "wait_minutes_p95": ("等候P95(分)", "Wait in person, 95th pct (min)"),
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
    "hall_wait_minutes_mean": ("大厅等候(分)", "Hall wait, mean (min)"),
    "station_wait_minutes_mean": ("站点等候(分)", "Station wait, mean (min)"),
    "station_utilisation": ("站点利用率", "Station utilisation"),
    "proxy_backlog_cases": ("代办积压件数", "Proxy backlog"),
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
    "hall_wait_minutes_mean": -1, "station_wait_minutes_mean": -1, "station_utilisation": 0,
    "proxy_backlog_cases": -1, "online_failure_rate": -1,
}

# Minimal important difference of each KPI: the smallest change a reform office would act on.
# ("absolute", x) in the KPI's own unit, or ("relative", x) as a share of the baseline value.
# An effect is called meaningful only when it is significant and at least this large.
KPI_MID: dict[str, tuple[str, float]] = {
    "cases_completed": ("relative", 0.01), "visits_per_case": ("absolute", 0.05),
    "share_zero_visit": ("absolute", 0.01), "share_at_most_once": ("absolute", 0.01),
    "wait_minutes_mean": ("absolute", 1.0), "wait_minutes_p95": ("absolute", 2.0),
    "window_utilisation": ("absolute", 0.01), "days_to_complete_mean": ("absolute", 0.1),
    "overdue_share": ("absolute", 0.01), "resubmissions_per_case": ("absolute", 0.02),
    "online_share": ("absolute", 0.01), "online_share_simple": ("absolute", 0.01),
    "online_share_complex": ("absolute", 0.01), "satisfaction_mean": ("absolute", 0.05),
    "share_satisfied": ("absolute", 0.01), "good_review_rate": ("absolute", 0.01),
    "rating_participation": ("absolute", 0.01), "online_share_gap_rural": ("absolute", 0.01),
    "online_share_gap_elderly": ("absolute", 0.01), "satisfaction_gap_rural": ("absolute", 0.05),
    "visits_gap_elderly": ("absolute", 0.05), "backlog_cases": ("relative", 0.05),
    "staff_hours_per_case": ("absolute", 0.01), "hall_wait_minutes_mean": ("absolute", 1.0),
    "station_wait_minutes_mean": ("absolute", 1.0), "station_utilisation": ("absolute", 0.01),
    "proxy_backlog_cases": ("relative", 0.05), "online_failure_rate": ("absolute", 0.01),
}


def minimal_important_difference(kpi: str, baseline_value: float) -> float:
    """The MID of `kpi` in its own unit (relative MIDs scale with the baseline value)."""
    kind, size = KPI_MID.get(kpi, ("absolute", 0.0))
    return size * abs(baseline_value) if kind == "relative" else size


class Ledger:
    """Running totals of the measured days (after warm-up) that are not in the case book: waits
    of every in-person visit, busy and open window-minutes, staff minutes of every channel."""

    def __init__(self) -> None:
        self._waits: dict[str, list[np.ndarray]] = {"hall": [], "station": []}
        self.totals = {"busy_hall": 0.0, "open_hall": 0.0, "busy_station": 0.0, "open_station": 0.0,
                       "staff_minutes": 0.0, "visits": 0, "balked": 0, "turned_away": 0}
        self.today = dict.fromkeys(self.totals, 0.0)
        self.today_waits: dict[str, np.ndarray] = {"hall": np.empty(0), "station": np.empty(0)}
        self.days = 0
        self.today_done = np.empty(0, dtype=np.int64)
        self.today_kpis: dict[str, float] = {}

    def _add(self, key: str, value: float) -> None:
        self.today[key] += value
        self.totals[key] += value

    def record_visits(self, outcome: VisitOutcome, at_station: np.ndarray, hall: ServiceHall) -> None:
        """The day's in-person visits: waits, outcomes, busy and open window-minutes, staff time."""
        for key, mask in (("hall", ~at_station), ("station", at_station)):
            waits = outcome.wait_minutes[mask].astype(np.float32)
            self._waits[key].append(waits)
            self.today_waits[key] = waits
        self._add("busy_hall", outcome.busy_minutes_hall)
        self._add("busy_station", outcome.busy_minutes_station)
        self._add("open_hall", hall.hall_windows * hall.hall_open_minutes)
        self._add("open_station", hall.station_windows * hall.station_open_minutes)
        self._add("staff_minutes", hall.hall_windows * hall.hall_open_minutes
                  + hall.station_windows * hall.station_open_minutes)
        self._add("visits", int(outcome.status.size))
        self._add("balked", int(np.count_nonzero(outcome.status == BALKED)))
        self._add("turned_away", int(np.count_nonzero(outcome.status == TURNED_AWAY)))

    def add_staff_minutes(self, minutes: float) -> None:
        """Staff time outside the windows (proxy agents, rectification, platform fixes)."""
        self._add("staff_minutes", minutes)

    def record_completions(self, done: np.ndarray, model: ServiceModel) -> None:
        """The day's completed cases (those started after the warm-up count in the KPIs)."""
        self.today_done = done[model.cases.start_day[done] >= model.warmup_days]

    def close_day(self) -> None:
        """End of day bookkeeping."""
        self.days += 1
        self.today = dict.fromkeys(self.totals, 0.0)
        self.today_waits = {"hall": np.empty(0), "station": np.empty(0)}

    def waits(self, key: str) -> np.ndarray:
        """Waits of every measured visit at the hall or the stations."""
        return np.concatenate(self._waits[key]) if self._waits[key] else np.empty(0)


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else float("nan")


def _share(mask: np.ndarray) -> float:
    return float(np.mean(mask)) if mask.size else float("nan")


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


# ---- KPIs of a set of completed cases ------------------------------------------------------

def summarise(model: ServiceModel, done: np.ndarray, hall_waits: np.ndarray, station_waits: np.ndarray,
              totals: dict[str, float], staff_cases: int) -> dict[str, float]:
    """The public KPIs over completed cases `done`, in-person visits with `hall_waits` and
    `station_waits`, and the ledger `totals`; staff hours are shared over `staff_cases`."""
    waits = np.concatenate([hall_waits, station_waits])
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
        "window_utilisation": _ratio(totals["busy_hall"], totals["open_hall"]),
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
        "staff_hours_per_case": _ratio(totals["staff_minutes"] / 60.0, staff_cases),
        "hall_wait_minutes_mean": _mean(hall_waits),
        "station_wait_minutes_mean": _mean(station_waits),
        "station_utilisation": _ratio(totals["busy_station"], totals["open_station"]),
        "proxy_backlog_cases": float(model.proxy_backlog),
    }


# ---- daily reporters (Mesa DataCollector) ------------------------------------------------

def today_kpis(model: ServiceModel) -> dict[str, float]:
    """All public KPIs over the cases completed and the hall visits of the current day."""
    ledger = model.ledger
    return summarise(model, ledger.today_done, ledger.today_waits["hall"], ledger.today_waits["station"],
                     ledger.today, staff_cases=ledger.today_done.size)


def _today(name: str, model: ServiceModel) -> float:
    return model.ledger.today_kpis[name]


def open_cases(model: ServiceModel) -> int:
    """Cases not yet completed."""
    return model.cases.open_count()


def mean_staff_attitude(model: ServiceModel) -> float:
    """Mean attitude of window staff."""
    return float(np.mean(model.hall.roster.attitude)) if model.hall.roster.size else float("nan")


def mean_staff_competence(model: ServiceModel) -> float:
    """Mean competence of window staff."""
    return float(np.mean(model.hall.roster.competence)) if model.hall.roster.size else float("nan")


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
    finished = cases.stage[: cases.size] == DONE
    done = np.flatnonzero(finished & (cases.start_day[: cases.size] >= model.warmup_days))
    staff_cases = int(np.count_nonzero(finished & (cases.done_day[: cases.size] >= model.warmup_days)))
    result = summarise(model, done, ledger.waits("hall"), ledger.waits("station"), ledger.totals,
                       staff_cases=staff_cases)
    visits_made = ledger.totals["visits"]
    visits = cases.visits[done]
    attempted = cases.online_attempt[done]
    result.update({
        # extras: the visits distribution and the online failure rate
        "cases_opened": float(np.count_nonzero(cases.start_day[: cases.size] >= model.warmup_days)),
        "visits_share_0": _share(visits == 0),
        "visits_share_1": _share(visits == 1),
        "visits_share_2": _share(visits == 2),
        "visits_share_3_plus": _share(visits >= 3),
        "online_failure_rate": _share(cases.online_failed[done][attempted]),
        "visits_balked_share": _ratio(ledger.totals["balked"], visits_made),
        "visits_turned_away_share": _ratio(ledger.totals["turned_away"], visits_made),
        "online_usability": float(model.online_usability),
        "days_simulated": float(ledger.days),
        "days_measured": float(max(ledger.days - model.warmup_days, 0)),
    })
    return result
