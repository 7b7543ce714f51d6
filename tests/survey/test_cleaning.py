"""Cleaning: never in place, every change reported; checked against the problems the example's
documented generator injected, and against small cases worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import survey
from survey.codebook import Codebook, Scale, SurveyData, Variable
from survey.datasets import generate as gen
from survey.errors import SurveyAnalysisError


@pytest.fixture(scope="module")
def raw():
    return survey.load_example(user_missing="keep")


def test_cleaning_finds_the_injected_problems_and_leaves_the_input_alone(raw):
    before = raw.data.copy()
    cleaned, report = survey.clean(raw, id="respondent_id", duration="duration_seconds", min_seconds=60,
                                   max_missing=0.5)
    pd.testing.assert_frame_equal(raw.data, before)  # never in place
    counts = report.counts()
    # one of each copied pair goes as a duplicate (whichever comes second in the file);
    # straight-liners who gave the same answer as an earlier straight-liner are duplicates too,
    # so together the two rules drop exactly the injected rows
    items = [i for f in gen.FACTORS for i, _ in gen.ITEMS[f]]
    assert not cleaned.data[items].duplicated().any()
    assert (counts.loc["duplicate", "respondents_dropped"] + counts.loc["straightliner", "respondents_dropped"]
            == gen.N_DUPLICATES + gen.N_STRAIGHTLINERS)
    assert counts.loc["speeder", "respondents_dropped"] == gen.N_SPEEDERS
    refused = int((raw.data[[i for f in gen.FACTORS for i, _ in gen.ITEMS[f]] + ["SAT", "INTENT"]]
                   == gen.REFUSED).to_numpy().sum())
    assert counts.loc["user_missing", "cells_recoded"] == refused
    assert report.n_out == len(cleaned.data) == report.n_in - len(report.dropped)
    assert not (cleaned.data[items + ["SAT", "INTENT"]] == gen.REFUSED).any().any()
    assert "dropped" in report.summary()


def _book():
    cb = Codebook()
    cb.add(Variable("id", measure="nominal"))
    for item in ("q1", "q2", "q3"):
        cb.add(Variable(item, value_labels={1: "非常不同意", 5: "非常同意", 9: "不知道"}, missing_values=[9],
                        measure="ordinal"))
    cb.add(Variable("sex", value_labels={1: "男", 2: "女"}, measure="nominal"))
    cb.add(Variable("phone", personal=True))
    cb.scales["s"] = Scale("s", ["q1", "q2", "q3"], reverse=["q3"], low=1, high=5, min_valid=2)
    return cb


def test_codes_rules_by_hand():
    data = pd.DataFrame({"id": [1, 2, 3, 4], "q1": [1, 9, 6, 3], "q2": [2, 4, 3, 3], "q3": [5, 2, 0, 3],
                         "sex": [1, 3, 2, 2], "phone": ["13800000000"] * 4})
    cleaned, report = survey.clean(SurveyData(data, _book()), id="id", straightline=None, max_missing=None)
    ch = report.changes
    assert ch[ch["rule"] == "user_missing"][["row", "variable", "old"]].values.tolist() == [[2, "q1", 9]]
    out_of_range = ch[ch["rule"] == "out_of_range"][["row", "variable", "old"]].values.tolist()
    assert sorted(out_of_range) == sorted([[3, "q1", 6], [3, "q3", 0], [2, "sex", 3]])
    assert "13800000000" not in report.changes.to_string()  # personal data never reported
    assert cleaned.data["q2"].tolist() == [2, 4, 3, 3]  # labelled end points only: 2..4 are valid


def test_speeders_by_fraction_of_the_median_and_straightliners_flagged():
    data = pd.DataFrame({"q1": [1, 2, 3, 4, 4], "q2": [2, 2, 4, 4, 4], "q3": [3, 4, 5, 2, 4],
                         "t": [300.0, 90.0, 310.0, 280.0, 320.0]})
    cleaned, report = survey.clean(data, duration="t", speed_fraction=1 / 3, straightline=3,
                                   drop_straightliners=False, max_missing=None, duplicates=False)
    assert report.dropped["row"].tolist() == [1]  # 90 s < 300/3 s
    assert report.flagged["row"].tolist() == [4]  # 4, 4, 4
    assert len(cleaned.data) == 4


def test_clean_errors_name_the_problem():
    data = pd.DataFrame({"q1": [1, 2]})
    with pytest.raises(SurveyAnalysisError, match="duration column 'secs'"):
        survey.clean(data, duration="secs")
    with pytest.raises(SurveyAnalysisError, match="need the duration column"):
        survey.clean(data, min_seconds=60)
    with pytest.raises(SurveyAnalysisError, match="max_missing"):
        survey.clean(data, max_missing=1.5)


def test_scale_scores_reverse_keys_and_the_min_valid_rule():
    """SPSS MEAN.2(q1, q2, RECODE(q3)): the mean of the valid items when at least two are valid."""
    data = pd.DataFrame({"q1": [4, 5, np.nan, np.nan], "q2": [4, 3, 2, np.nan], "q3": [2, 1, 5, 1]})
    scores = survey.score_scales(data, {"s": _book().scales["s"]})
    # row 0: 4, 4, 6-2=4 -> 4; row 1: 5, 3, 5 -> 13/3; row 2: 2, 1 -> 1.5; row 3: one item -> none
    assert scores["s"].tolist()[:3] == pytest.approx([4.0, 13 / 3, 1.5])
    assert np.isnan(scores["s"].iloc[3])
    assert scores.attrs["unscored"] == {"s": 1}
    sums = survey.score_scales(data, {"s": _book().scales["s"]}, method="sum", min_valid=3)
    assert sums["s"].tolist()[:2] == pytest.approx([12.0, 13.0])
    assert sums["s"].isna().tolist() == [False, False, True, True]
    with pytest.raises(SurveyAnalysisError, match="non-numeric"):
        survey.score_scales(data.assign(q1=["a", 1, 2, 3]), {"s": _book().scales["s"]})
