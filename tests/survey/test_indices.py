"""Importance-performance analysis (Martilla & James 1977) and the 0-100 satisfaction index,
checked against their definitions on small hand-worked cases and on the example data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyAnalysisError
from survey.indices import IndexWeightWarning, entropy_weights


def test_entropy_weights_worked_by_hand():
    """Three respondents, two items. Item a: 1, 3, 5 -> z 0, .5, 1 -> p 0, 1/3, 2/3 ->
    e = -(1/3 ln 1/3 + 2/3 ln 2/3) / ln 3 = 0.5794; item b: 2, 2, 4 -> z 0, 0, 1 -> p 0, 0, 1 ->
    e = 0. d = (0.4206, 1) -> w = (0.2961, 0.7039)."""
    block = pd.DataFrame({"a": [1, 3, 5], "b": [2, 2, 4]})
    w = entropy_weights(block)
    e_a = -(1 / 3 * np.log(1 / 3) + 2 / 3 * np.log(2 / 3)) / np.log(3)
    expected_a = (1 - e_a) / ((1 - e_a) + 1)
    assert w["a"] == pytest.approx(expected_a) and round(w["a"], 4) == 0.2961
    assert w.sum() == pytest.approx(1.0)


def test_entropy_weight_properties():
    rng = np.random.default_rng(2)
    x = rng.integers(1, 6, size=(200, 1)).astype(float)
    same = pd.DataFrame({"a": x[:, 0], "b": x[:, 0]})
    assert entropy_weights(same).to_list() == pytest.approx([0.5, 0.5])
    with pytest.warns(IndexWeightWarning, match="constant"):
        w = entropy_weights(same.assign(c=3.0))
    assert w["c"] == 0


def test_index_is_0_to_100_and_equal_weights_match_the_mean_item():
    data = pd.DataFrame({"q1": [1, 5, 3, 4], "q2": [1, 5, 5, np.nan]})
    result = survey.satisfaction_index(data, ["q1", "q2"])
    assert result.scores.iloc[:3].tolist() == pytest.approx([0.0, 100.0, 75.0])
    assert np.isnan(result.scores.iloc[3])
    assert result.mean == pytest.approx(175 / 3)
    given = survey.satisfaction_index(data, ["q1", "q2"], weights={"q1": 3, "q2": 1})
    assert given.weights.to_list() == pytest.approx([0.75, 0.25])
    assert given.scores.iloc[2] == pytest.approx(100 * (0.75 * 0.5 + 0.25 * 1.0))


def test_factor_and_regression_weights_on_the_example():
    data = survey.load_example()
    items = ["OL1", "OL2", "OL3", "OL4", "OL5"]
    factor = survey.satisfaction_index(data, items, weights="factor")
    assert factor.weights.sum() == pytest.approx(1.0) and (factor.weights > 0.15).all()
    regression = survey.satisfaction_index(data, ["OL1", "OF1", "DS1", "TR1"], weights="regression", outcome="SAT")
    assert regression.weights.idxmax() in ("OL1", "OF1")  # the generator weights online and window service most
    with pytest.raises(SurveyAnalysisError, match="outside the scale"):
        survey.satisfaction_index(data.data.assign(OL1=data.data["OL1"] * 3), items)
    with pytest.raises(SurveyAnalysisError, match="needs outcome"):
        survey.satisfaction_index(data, items, weights="regression")


def test_ipa_quadrants_split_at_the_grand_means():
    data = pd.DataFrame({"a": [5, 4, 5, 4], "b": [2, 1, 2, 1], "c": [4, 5, 4, 5], "d": [1, 2, 2, 1]})
    result = survey.ipa(data, ["a", "b", "c", "d"], importance={"a": 4.5, "b": 4.6, "c": 3.0, "d": 2.0},
                        lang="en")
    quadrant = result.table["quadrant"].to_dict()
    assert quadrant == {"a": "keep", "b": "concentrate", "c": "overkill", "d": "low"}
    assert result.table.loc["b", "label"] == "Concentrate here"
    assert result.plot() is not None


def test_ipa_derived_importance_is_the_correlation_with_overall():
    data = survey.load_example()
    items = ["OL1", "OF1", "DS1", "TR1"]
    result = survey.ipa(data, items, overall="SAT")
    frame = data.data
    assert result.table.loc["OL1", "importance"] == pytest.approx(frame["OL1"].corr(frame["SAT"]))
    with pytest.raises(SurveyAnalysisError, match="overall="):
        survey.ipa(data, items, method="correlation")
