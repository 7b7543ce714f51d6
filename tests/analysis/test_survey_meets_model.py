"""Where the two halves meet: simulated respondents answer the shipped instrument and the survey
module analyses them exactly as it analyses real questionnaire data."""

from __future__ import annotations

import numpy as np
import pytest

import survey
from simulation import ServiceModel, load_scenario

SMALL = {"jurisdiction.population": 40_000, "jurisdiction.enterprises": 1_600, "hall.windows": 10}


@pytest.fixture(scope="module")
def answers():
    model = ServiceModel(load_scenario("baseline", updates=SMALL), seed=4)
    model.run(40)
    return survey.SurveyData(model.administer(n=600, instrument="haochaping", seed=1),
                             survey.load_instrument("haochaping"))


def test_simulated_answers_fit_the_instrument_codebook(answers):
    cb = answers.codebook
    cb.validate_against(answers.data)
    for column, variable in cb.variables.items():
        assert column in answers.data.columns, column
        if variable.value_labels:
            values = answers.data[column].dropna()
            allowed = {str(k) for k in variable.value_labels} | {float(k) for k in variable.value_labels
                                                                  if str(k).lstrip("-").isdigit()}
            assert set(values.map(lambda v: v if isinstance(v, str) else float(v))) <= allowed, column


def test_the_survey_module_finds_reliable_scales_in_simulated_answers(answers):
    for name in ("online", "offline"):
        scale = answers.codebook.scales[name]
        result = survey.cronbach_alpha(answers.data, scale)
        assert result.n >= 50
        assert 0.6 < result.alpha < 1.0  # items share one latent judgement plus item noise


def test_skip_logic_online_items_only_for_online_users(answers):
    data = answers.data
    online_items = answers.codebook.scales["online"].items
    answered = data[online_items].notna().any(axis=1)
    assert np.all(data.loc[answered, "channel"].isin(["online", "hall", "station", "proxy"]))
    assert not data.loc[data["channel"] == "online", online_items].isna().all(axis=1).any()
