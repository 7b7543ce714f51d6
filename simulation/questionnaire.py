"""The model answers a questionnaire: simulated respondents in the instrument's own columns.

`administer` samples citizens who completed a case and returns one row each, with their
demographics, channel, visits, waiting and days, and 1-5 answers to the national 好差评
indicators (online: overall, efficiency, accuracy of the service guide, convenience, platform
operability; offline: overall, efficiency, service level, attitude). The frame is plain pandas,
so the survey module reads it like any other data; this module does not import `survey`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation.cases import DONE
from simulation.population import AGE_BANDS, CHANNELS, ONLINE
from simulation.satisfaction import latent_in_band, likert

if TYPE_CHECKING:
    from simulation.model import ServiceModel

INSTRUMENTS = ("haochaping",)
ONLINE_ITEMS = ("online_overall", "online_efficiency", "online_guide_accuracy",
                "online_convenience", "online_operability")
OFFLINE_ITEMS = ("offline_overall", "offline_efficiency", "offline_service_level",
                 "offline_attitude")


def administer(model: ServiceModel, *, n: int = 500, instrument: str = "haochaping",
               seed: int = 0) -> pd.DataFrame:
    """Sample up to `n` citizens with a completed case and answer `instrument` for their last case.

    Online items are answered by respondents whose case went (or was tried) online; offline items
    by those who met window staff; the rest are missing (NaN), as in real questionnaires with
    skip logic. Sampling uses its own generator (`seed`), so it does not disturb the run.
    """
    if instrument not in INSTRUMENTS:
        raise ValueError(f"unknown instrument {instrument!r}; available: {list(INSTRUMENTS)}")
    if n < 1:
        raise ValueError(f"n must be at least 1 (got {n})")
    cases, pop, cat = model.cases, model.population, model.catalogue
    done = np.flatnonzero(cases.stage[: cases.size] == DONE)
    if done.size == 0:
        raise ValueError("no completed cases yet: run the model before administering a questionnaire")
    # each citizen's last completed case
    order = np.lexsort((cases.done_day[done], cases.citizen[done]))
    last = done[order][np.r_[np.diff(cases.citizen[done][order]) != 0, True]]
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(last, size=min(n, last.size), replace=False))
    who = cases.citizen[chosen]
    score = cases.satisfaction[chosen]
    cuts = model.spec.behaviour.satisfaction_cutpoints
    latent = latent_in_band(score, cuts, rng)
    visits = cases.visits[chosen].astype(np.float64)
    wait = cases.wait_minutes[chosen].astype(np.float64)
    days = (cases.done_day[chosen] - cases.start_day[chosen]).astype(np.float64)
    legal = cat.legal_days[cases.matter[chosen]].astype(np.float64)
    resub = cases.resubmissions[chosen].astype(np.float64)
    failed = cases.online_failed[chosen].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        attitude = cases.attitude_sum[chosen] / cases.contacts[chosen]
    attitude = np.nan_to_num(attitude.astype(np.float64), nan=0.5)

    def item(shift: np.ndarray | float) -> np.ndarray:
        return likert(latent + shift + model.spec.behaviour.questionnaire_item_noise * rng.standard_normal(chosen.size), cuts).astype(float)

    online_items = {
        "online_overall": item(0.0),
        "online_efficiency": item(-0.5 * np.maximum(days / legal - 0.5, 0.0)),
        "online_guide_accuracy": item(-0.6 * resub),
        "online_convenience": item(-0.4 * np.maximum(visits - 1.0, 0.0)),
        "online_operability": item(-1.0 * failed + 0.5 * (model.online_usability - 0.5)),
    }
    offline_items = {
        "offline_overall": item(0.0),
        "offline_efficiency": item(-0.5 * wait / 30.0 - 0.3 * np.maximum(visits - 1.0, 0.0)),
        "offline_service_level": item(-0.4 * resub),
        "offline_attitude": item(1.5 * (attitude - 0.5)),
    }
    answered_online = cases.online_attempt[chosen] | (cases.channel[chosen] == ONLINE)
    answered_offline = cases.contacts[chosen] > 0
    frame = pd.DataFrame({
        "respondent": np.arange(1, chosen.size + 1),
        "age_band": np.asarray(AGE_BANDS, dtype=object)[pop.age_band[who]],
        "rural": pop.rural[who].astype(int),
        "enterprise": pop.is_enterprise[who].astype(int),
        "channel": np.asarray(CHANNELS, dtype=object)[cases.channel[chosen]],
        "visits": visits.astype(int),
        "wait_minutes": np.round(wait, 1),
        "days_to_complete": days.astype(int),
        "matter": np.asarray(cat.ids, dtype=object)[cases.matter[chosen]],
    })
    frame.loc[frame["enterprise"] == 1, "age_band"] = np.nan
    for name, values in online_items.items():
        frame[name] = np.where(answered_online, values, np.nan)
    for name, values in offline_items.items():
        frame[name] = np.where(answered_offline, values, np.nan)
    return frame
