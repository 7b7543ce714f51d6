"""AHP, entropy weights and TOPSIS checked against closed forms, Saaty's RI table and the ideal
solutions printed in R's MCDA::TOPSIS documentation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey import SurveyData
from survey.errors import SurveyAnalysisError
from survey.evaluation import RANDOM_INDEX, ahp, entropy_weights, topsis

# ----------------------------------------------------------------------------- AHP


def test_random_index_is_saatys_table():
    """Saaty (1980): RI = 0, 0, .58, .90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49 for n = 1..10."""
    assert [RANDOM_INDEX[n] for n in range(1, 11)] == [0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49]


def test_consistent_matrix_returns_its_generating_weights():
    """a_ij = w_i / w_j: the eigenvector is w, lambda_max = n, CI = CR = 0 (closed form)."""
    w = np.array([0.4, 0.3, 0.2, 0.1])
    res = ahp(np.outer(w, 1 / w), labels=["service", "speed", "cost", "access"])
    np.testing.assert_allclose(res.weights.to_numpy(), w, atol=1e-12)
    assert res.lambda_max == pytest.approx(4.0, abs=1e-10)
    assert res.cr == pytest.approx(0.0, abs=1e-10) and res.consistent and res.ri == 0.90


def test_three_by_three_matches_its_closed_form():
    """n = 3: weights are the normalized row geometric means and
    lambda_max = 1 + (a13 / (a12 a23))^(1/3) + (a12 a23 / a13)^(1/3)."""
    a12, a13, a23 = 3.0, 5.0, 3.0
    matrix = np.array([[1, a12, a13], [1 / a12, 1, a23], [1 / a13, 1 / a23, 1]])
    res = ahp(pd.DataFrame(matrix, columns=["x", "y", "z"]))
    geometric = np.prod(matrix, axis=1) ** (1 / 3)
    np.testing.assert_allclose(res.weights.to_numpy(), geometric / geometric.sum(), rtol=1e-10)
    ratio = a13 / (a12 * a23)
    lambda_max = 1 + ratio ** (1 / 3) + ratio ** (-1 / 3)
    assert res.lambda_max == pytest.approx(lambda_max, rel=1e-12)
    assert res.cr == pytest.approx((lambda_max - 3) / 2 / 0.58, rel=1e-10)
    assert list(res.weights.index) == ["x", "y", "z"]


def test_an_inconsistent_matrix_fails_the_consistency_test():
    # x > y (9), y > z (9) but z > x (9): circular judgements
    matrix = np.array([[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]])
    res = ahp(matrix)
    assert not res.consistent and res.cr > 1
    assert "fails" in res.summary()


def test_ahp_rejects_a_non_reciprocal_matrix_naming_the_cells():
    with pytest.raises(SurveyAnalysisError, match=r"a\[b, a\] = 2"):
        ahp([[1, 3], [2, 1]], labels=["a", "b"])
    with pytest.raises(SurveyAnalysisError, match="square"):
        ahp([[1, 2, 3]])


# ----------------------------------------------------------------------------- entropy


def test_entropy_weights_by_hand():
    """a: z = 0, .5, 1 -> p = 0, 1/3, 2/3, e = (1/3 ln 3 + 2/3 ln 1.5) / ln 3; b: z = 0, 0, 1 -> e = 0."""
    data = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.1]})
    res = entropy_weights(data)
    e_a = (np.log(3) / 3 + 2 / 3 * np.log(1.5)) / np.log(3)
    np.testing.assert_allclose(res.table["entropy"].to_numpy(), [e_a, 0.0], atol=1e-12)
    d = np.array([1 - e_a, 1.0])
    np.testing.assert_allclose(res.table["weight"].to_numpy(), d / d.sum(), rtol=1e-12)
    z = np.array([[0, 0], [0.5, 0], [1, 1]])
    np.testing.assert_allclose(res.scores.to_numpy(), z @ (d / d.sum()), rtol=1e-12)


def test_entropy_limits_uniform_indicator_gets_no_weight_and_cost_is_reversed():
    """Equal p_ij (all 1/m) give e = 1 and weight 0; reversing a cost indicator leaves its entropy
    unchanged only when its standardized values are symmetric (here 0, .5, 1)."""
    data = pd.DataFrame({"steps": [2.0, 4.0, 6.0], "cost": [3.0, 2.0, 1.0], "ok": [1.0, 2.0, 4.0]})
    raw = entropy_weights(data[["steps"]].assign(same=1.0, other=[1.0, 2.0, 3.0]), standardize=False)
    assert raw.table.loc["same", "entropy"] == pytest.approx(1.0)
    assert raw.table.loc["same", "weight"] == pytest.approx(0.0, abs=1e-12)
    res = entropy_weights(SurveyData(data), negative=["cost"])
    assert res.table.loc["cost", "entropy"] == pytest.approx(res.table.loc["steps", "entropy"], abs=1e-12)
    assert res.table["weight"].sum() == pytest.approx(1.0)
    assert res.scores.iloc[2] > res.scores.iloc[0]


def test_entropy_rejects_bad_input():
    with pytest.raises(SurveyAnalysisError, match="'b'.*missing"):
        entropy_weights(pd.DataFrame({"a": [1.0, 2, 3], "b": [1.0, np.nan, 2]}))
    with pytest.raises(SurveyAnalysisError, match="'zz'"):
        entropy_weights(pd.DataFrame({"a": [1.0, 2, 3], "b": [1.0, 3, 2]}), negative=["zz"])


# ----------------------------------------------------------------------------- TOPSIS

CARS = pd.DataFrame([[5490, 51.4, 8.5, 285], [6500, 70.6, 7, 288], [6489, 54.3, 7.5, 290]],
                    index=["Corsa", "Clio", "Fiesta"], columns=["price", "economy", "aesthetics", "boot"])


def test_topsis_ideal_solutions_match_mcda_documentation():
    """R MCDA::TOPSIS help page (Hodgett's TOPSIS-in-Excel car example), weights .35/.25/.25/.15,
    price a cost criterion: positiveIdealSolutions and negativeIdealSolutions as printed there."""
    res = topsis(CARS, weights=[0.35, 0.25, 0.25, 0.15], negative=["price"])
    np.testing.assert_allclose(res.ideal["positive_ideal"].to_numpy(),
                               [0.179573776, 0.171636015, 0.159499658, 0.087302767], atol=5e-10)
    np.testing.assert_allclose(res.ideal["negative_ideal"].to_numpy(),
                               [0.212610118, 0.124958799, 0.131352659, 0.085797547], atol=5e-10)


def test_topsis_closeness_follows_from_the_published_ideals():
    """C = D- / (D+ + D-) with distances to the published ideal points (closed form)."""
    res = topsis(CARS, weights=pd.Series({"boot": 0.15, "aesthetics": 0.25, "economy": 0.25, "price": 0.35}),
                 negative=["price"])
    x = CARS.to_numpy(dtype=float)
    v = x / np.sqrt((x**2).sum(axis=0)) * np.array([0.35, 0.25, 0.25, 0.15])
    d_plus = np.sqrt(((v - [0.179573776, 0.171636015, 0.159499658, 0.087302767]) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v - [0.212610118, 0.124958799, 0.131352659, 0.085797547]) ** 2).sum(axis=1))
    np.testing.assert_allclose(res.table["closeness"].to_numpy(), d_minus / (d_plus + d_minus), atol=1e-8)
    assert res.table["rank"].to_dict() == {"Clio": 1, "Corsa": 2, "Fiesta": 3}


def test_dominating_alternative_has_closeness_one():
    data = pd.DataFrame({"quality": [9.0, 5.0, 7.0], "cost": [1.0, 4.0, 2.0]})
    table = topsis(data, negative=["cost"]).table
    assert table["closeness"].iloc[0] == pytest.approx(1.0)
    assert table["closeness"].iloc[1] == pytest.approx(0.0)


def test_topsis_rejects_bad_weights():
    with pytest.raises(SurveyAnalysisError, match="weights"):
        topsis(CARS, weights=[1, 2])
    with pytest.raises(SurveyAnalysisError, match=r"\['boot'\]"):
        topsis(CARS, weights=pd.Series({"price": 1.0, "economy": 1.0, "aesthetics": 1.0}))
