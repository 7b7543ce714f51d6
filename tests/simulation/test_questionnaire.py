"""The model answers the 好差评 questionnaire in the instrument's own columns."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import ServiceModel
from simulation.questionnaire import OFFLINE_ITEMS, ONLINE_ITEMS


@pytest.fixture(scope="module")
def answered(request):
    from tests.simulation.conftest import small_scenario

    model = ServiceModel(small_scenario(), seed=8)
    model.run(40)
    return model, model.administer(n=600, seed=1)


def test_one_row_per_sampled_citizen_with_the_instrument_columns(answered):
    _, frame = answered
    assert len(frame) == 600
    expected = {"age_band", "rural", "channel", "visits", "wait_minutes", "days_to_complete",
                *ONLINE_ITEMS, *OFFLINE_ITEMS}
    assert expected <= set(frame.columns)
    assert frame["respondent"].is_unique


def test_answers_are_likert_codes_or_skipped(answered):
    _, frame = answered
    for item in (*ONLINE_ITEMS, *OFFLINE_ITEMS):
        values = frame[item].dropna()
        assert set(np.unique(values)) <= {1.0, 2.0, 3.0, 4.0, 5.0}, item
    # skip logic: citizens who never went online do not rate the online service
    never_online = frame["channel"].ne("online")
    assert frame.loc[never_online & frame["online_overall"].notna()].shape[0] <= never_online.sum()
    assert frame.loc[frame["visits"].eq(0), "offline_attitude"].isna().all()


def test_answers_follow_experience(answered):
    _, frame = answered
    many = frame.loc[frame["visits"] >= 3, "offline_overall"].mean()
    few = frame.loc[frame["visits"] <= 1, "offline_overall"].mean()
    assert many < few


def test_sampling_is_reproducible_and_does_not_disturb_the_run(answered):
    model, frame = answered
    before = model.kpis()
    again = model.administer(n=600, seed=1)
    assert frame.equals(again)
    assert model.kpis() == before


def test_bad_requests_are_refused(answered):
    model, _ = answered
    with pytest.raises(ValueError, match="unknown instrument"):
        model.administer(instrument="census")
    with pytest.raises(ValueError, match="at least 1"):
        model.administer(n=0)
    fresh = ServiceModel(model.spec, seed=1)
    with pytest.raises(ValueError, match="no completed cases"):
        fresh.administer()
