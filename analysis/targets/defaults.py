"""The default target set: the instrument's questionnaire moments and the KPIs records report."""

from __future__ import annotations

from analysis.targets.spec import INSTRUMENT, Moment, instrument_info

# KPIs that administrative records (the service hall's system, the 好差评 platform) report
RECORD_KPIS = ("visits_per_case", "share_at_most_once", "online_share", "wait_minutes_mean",
               "hall_wait_minutes_mean", "days_to_complete_mean", "resubmissions_per_case",
               "rating_participation", "good_review_rate")

_BAND_NAMES = {"18-39": "18_39", "40-59": "40_59", "60+": "60_plus"}


def questionnaire_moments(instrument: str = INSTRUMENT) -> dict[str, Moment]:
    """Every item's mean and share satisfied (>= 4), each scale's, the channel shares, the online
    share by age band and by residence, and reported visits (mean; share at most once), waits
    and days."""
    info = instrument_info(instrument)
    out: dict[str, Moment] = {}
    answers = [i for i in info.items if i not in ("visits", "wait_minutes", "days_to_complete")]
    for item in answers:
        out[f"{item}_mean"] = Moment(statistic="mean", item=item)
        out[f"{item}_satisfied"] = Moment(statistic="share_at_least", item=item, threshold=4.0)
    for scale in info.scales:
        out[f"{scale}_scale_mean"] = Moment(statistic="mean", scale=scale)
        out[f"{scale}_scale_satisfied"] = Moment(statistic="share_at_least", scale=scale, threshold=4.0)
    for channel in info.codes.get("channel", ()):
        out[f"channel_{channel}_share"] = Moment(statistic="share_channel", channel=channel)
    for band in info.codes.get("age_band", ()):
        out[f"online_share_age_{_BAND_NAMES.get(band, band)}"] = Moment(
            statistic="share_channel", channel="online", subgroup=(("age_band", band),))
    for code, place in ((0, "urban"), (1, "rural")):
        if code in info.codes.get("rural", ()):
            out[f"online_share_{place}"] = Moment(statistic="share_channel", channel="online",
                                                  subgroup=(("rural", code),))
    if "visits" in info.items:
        out["reported_visits_mean"] = Moment(statistic="mean", item="visits")
        out["reported_at_most_once_share"] = Moment(statistic="share_at_most", item="visits", threshold=1.0)
    for item in ("wait_minutes", "days_to_complete"):
        if item in info.items:
            out[f"reported_{item}_mean"] = Moment(statistic="mean", item=item)
    return out


def kpi_moments() -> dict[str, Moment]:
    """The record KPIs as target definitions, named by their KPI key."""
    return {name: Moment(kpi=name) for name in RECORD_KPIS}


def default_validate() -> tuple[str, ...]:
    """Targets held out for validation by default: the online share by age band and residence
    (the equity pattern a calibration on overall figures should reproduce unaided)."""
    return tuple(name for name in questionnaire_moments() if name.startswith("online_share_"))
