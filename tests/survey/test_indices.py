"""Importance-performance analysis (Martilla & James 1977) and the 0-100 satisfaction index,
checked against their definitions: hand-worked cases, properties that must hold, and independent
computations (numpy eigen-decomposition and least squares) of the factor and regression weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyAnalysisError
from survey.indices import QUADRANTS, IndexWeightWarning, entropy_weights


@pytest.fixture(scope="module")
def example():
    return survey.load_example().data


# ----------------------------------------------------------------------------- entropy weights


def test_entropy_weights_worked_by_hand():
    """Three respondents, two items. a: 1, 3, 5 -> z 0, .5, 1 -> p 0, 1/3, 2/3 ->
    e = -(1/3 ln 1/3 + 2/3 ln 2/3) / ln 3 = 0.5794; b: 2, 2, 4 -> z 0, 0, 1 -> p 0, 0, 1 -> e = 0
    (0 ln 0 = 0). d = (0.4206, 1) -> w = (0.2961, 0.7039)."""
    table = entropy_weights(pd.DataFrame({"a": [1, 3, 5], "b": [2, 2, 4]}))
    assert table.loc["a", "entropy"] == pytest.approx(-(np.log(1 / 3) / 3 + 2 / 3 * np.log(2 / 3)) / np.log(3))
    assert round(table.loc["a", "entropy"], 4) == 0.5794 and table.loc["b", "entropy"] == 0
    assert table["weight"].round(4).to_list() == [0.2961, 0.7039]


def test_entropy_weight_properties():
    """Weights sum to 1; identical items weigh the same; a constant item weighs 0; min-max
    standardization makes a weight blind to a linear recoding of its item; an item whose answers
    are spread evenly has more entropy, so less weight, than one where a few answers stand out."""
    rng = np.random.default_rng(2)
    x = rng.integers(1, 6, size=200).astype(float)
    same = pd.DataFrame({"a": x, "b": x})
    assert entropy_weights(same)["weight"].to_list() == pytest.approx([0.5, 0.5])
    with pytest.warns(IndexWeightWarning, match="same answer from everyone"):
        table = entropy_weights(same.assign(c=3.0))
    assert table.loc["c", "weight"] == 0 and table["weight"].sum() == pytest.approx(1.0)
    y = rng.integers(1, 6, size=200).astype(float)
    base = entropy_weights(pd.DataFrame({"a": x, "b": y}))["weight"]
    recoded = entropy_weights(pd.DataFrame({"a": 10 * x + 3, "b": y}))["weight"]
    assert recoded.to_list() == pytest.approx(base.to_list())
    even = np.tile([1.0, 2, 3, 4, 5], 40)
    skewed = np.r_[np.full(190, 1.0), np.full(10, 5.0)]
    table = entropy_weights(pd.DataFrame({"even": even, "skewed": skewed}))
    assert table.loc["even", "weight"] < table.loc["skewed", "weight"]


# ----------------------------------------------------------------------------- satisfaction index


def test_index_is_0_to_100_and_equal_weights_give_the_mean_item():
    data = pd.DataFrame({"q1": [1, 5, 3, 4], "q2": [1, 5, 5, np.nan]})
    result = survey.satisfaction_index(data, ["q1", "q2"])
    assert result.scores.iloc[:3].tolist() == pytest.approx([0.0, 100.0, 75.0])  # (x - 1) / 4 * 100, averaged
    assert np.isnan(result.scores.iloc[3]) and result.n == 3
    assert result.mean == pytest.approx(175 / 3)
    assert result.se == pytest.approx(np.std([0, 100, 75], ddof=1) / np.sqrt(3))
    given = survey.satisfaction_index(data, ["q1", "q2"], weights={"q1": 3, "q2": 1})
    assert given.weights["weight"].to_list() == pytest.approx([0.75, 0.25])
    assert given.scores.iloc[2] == pytest.approx(100 * (0.75 * 0.5 + 0.25 * 1.0))
    seven = survey.satisfaction_index(pd.DataFrame({"q": [1, 4, 7]}), ["q"], scale=(1, 7))
    assert seven.scores.to_list() == pytest.approx([0, 50, 100])


def test_entropy_index_uses_the_entropy_weights(example):
    items = ["OL1", "OF1", "DS1", "TR1"]
    result = survey.satisfaction_index(example, items, weights="entropy")
    expected = entropy_weights(example[items])["weight"]
    assert result.weights["weight"].to_list() == pytest.approx(expected.to_list())
    complete = example[items].dropna()
    by_hand = 100 * ((complete - 1) / 4 * expected).sum(axis=1)
    assert result.scores.dropna().to_list() == pytest.approx(by_hand.to_list())


def test_factor_weights_are_the_normalized_first_factor_loadings(example):
    """With factor_method="pca" the one-component loadings are sqrt(lambda_1) v_1 of the
    correlation matrix (computed here with numpy), so the weights are v_1 / sum(v_1)."""
    items = ["OL1", "OL2", "OL3", "OL4", "OL5"]
    result = survey.satisfaction_index(example, items, weights="factor", factor_method="pca")
    values, vectors = np.linalg.eigh(example[items].dropna().corr().to_numpy())
    v1 = np.abs(vectors[:, -1])
    assert result.weights["weight"].to_list() == pytest.approx((v1 / v1.sum()).tolist(), rel=1e-6)
    assert result.weights["loading"].to_list() == pytest.approx((np.sqrt(values[-1]) * v1).tolist(), rel=1e-6)
    ml = survey.satisfaction_index(example, items, weights="factor")
    assert ml.weights["weight"].sum() == pytest.approx(1.0) and (ml.weights["weight"] > 0.1).all()


def test_regression_weights_are_the_normalized_betas(example):
    """Beta = the slopes of the z-scored outcome on the z-scored items (listwise), here by numpy."""
    items = ["OL1", "OF1", "DS1", "TR1"]
    result = survey.satisfaction_index(example, items, weights="regression", outcome="SAT")
    complete = example[items + ["SAT"]].dropna()
    z = (complete - complete.mean()) / complete.std(ddof=1)
    beta, *_ = np.linalg.lstsq(z[items].to_numpy(), z["SAT"].to_numpy(), rcond=None)
    assert result.weights["Beta"].to_list() == pytest.approx(beta.tolist(), rel=1e-6)
    assert result.weights["weight"].to_list() == pytest.approx((beta / beta.sum()).tolist(), rel=1e-6)


def test_negative_regression_weights_are_zeroed_with_a_warning():
    rng = np.random.default_rng(5)
    n = 300
    a = rng.integers(1, 6, n).astype(float)
    b = np.clip(a + rng.integers(-1, 2, n), 1, 5)
    y = 2 * a - 0.8 * b + rng.normal(0, 0.5, n)
    data = pd.DataFrame({"a": a, "b": b, "y": y})
    with pytest.warns(IndexWeightWarning, match=r"negative standardized regression weights for \['b'\]"):
        result = survey.satisfaction_index(data, ["a", "b"], weights="regression", outcome="y")
    assert result.weights.loc["b", "weight"] == 0 and result.weights.loc["a", "weight"] == 1


def test_bad_input_is_refused(example):
    items = ["OL1", "OL2", "OL3"]
    with pytest.raises(SurveyAnalysisError, match="item 'OL1' has answer 6 outside the scale"):
        survey.satisfaction_index(example.assign(OL1=example["OL1"].replace(5, 6)), items)
    with pytest.raises(SurveyAnalysisError, match=r"\['OL9'\] are not in the data"):
        survey.satisfaction_index(example, ["OL1", "OL9"])
    with pytest.raises(SurveyAnalysisError, match="'OL2' must be numeric"):
        survey.satisfaction_index(example.assign(OL2=example["OL2"].map({1: "low"}).fillna("high")), items)
    with pytest.raises(SurveyAnalysisError, match="needs outcome="):
        survey.satisfaction_index(example, items, weights="regression")
    with pytest.raises(SurveyAnalysisError, match="must name every item"):
        survey.satisfaction_index(example, items, weights={"OL1": 1, "OL2": 1})
    with pytest.raises(SurveyAnalysisError, match="weights must be 'equal'"):
        survey.satisfaction_index(example, items, weights="pca")
    with pytest.raises(SurveyAnalysisError, match="lowest < highest"):
        survey.satisfaction_index(example, items, scale=(5, 1))


# ----------------------------------------------------------------------------- IPA


def test_ipa_quadrants_split_at_the_grand_means():
    """Martilla & James (1977): importance high/low x performance high/low around the grand
    means. Performance means a 4.5, b 1.5, c 4.5, d 1.5 (grand mean 3); importance 4.5, 4.6,
    3.0, 2.0 (grand mean 3.525)."""
    data = pd.DataFrame({"a": [5, 4, 5, 4], "b": [2, 1, 2, 1], "c": [4, 5, 4, 5], "d": [1, 2, 2, 1]})
    result = survey.ipa(data, ["a", "b", "c", "d"], importance={"a": 4.5, "b": 4.6, "c": 3.0, "d": 2.0}, lang="en")
    assert result.performance_cut == pytest.approx(3.0) and result.importance_cut == pytest.approx(3.525)
    assert result.table["quadrant"].to_dict() == {"a": "keep", "b": "concentrate", "c": "overkill", "d": "low"}
    assert result.table.loc["b", "label"] == "Concentrate here"
    assert survey.ipa(data, ["a", "b"], importance={"a": 1, "b": 2}).table.loc["b", "label"] == "重点改进"
    moved = survey.ipa(data, ["a", "b", "c", "d"], importance={"a": 4.5, "b": 4.6, "c": 3.0, "d": 2.0},
                       cuts=(1.0, 2.5))
    assert moved.table["quadrant"].to_dict() == {"a": "keep", "b": "keep", "c": "keep", "d": "overkill"}
    assert set(QUADRANTS) == {"keep", "concentrate", "low", "overkill"}


def test_ipa_stated_importance_from_rating_columns():
    data = pd.DataFrame({"a": [5, 4], "b": [2, 1], "imp_a": [5, 3], "imp_b": [4, 4]})
    result = survey.ipa(data, ["a", "b"], importance={"a": "imp_a", "b": "imp_b"})
    assert result.table["importance"].to_list() == [4.0, 4.0]
    assert result.table["performance"].to_list() == [4.5, 1.5]


def test_ipa_derived_importance(example):
    items = ["OL1", "OF1", "DS1", "TR1"]
    result = survey.ipa(example, items, method="derived", overall="SAT")
    for item in items:
        assert result.table.loc[item, "importance"] == pytest.approx(example[item].corr(example["SAT"]))
        assert result.table.loc[item, "performance"] == pytest.approx(example[item].mean())
    regression = survey.ipa(example, items, method="derived", overall="SAT", derived="regression")
    index = survey.satisfaction_index(example, items, weights="regression", outcome="SAT")
    assert regression.table["importance"].to_list() == pytest.approx(index.weights["Beta"].to_list())
    with pytest.raises(SurveyAnalysisError, match="overall="):
        survey.ipa(example, items, method="derived")
    with pytest.raises(SurveyAnalysisError, match="needs importance="):
        survey.ipa(example, items)
    with pytest.raises(SurveyAnalysisError, match="method must be"):
        survey.ipa(example, items, method="correlation", overall="SAT")


def test_ipa_plot_draws_every_item_and_the_cut_lines():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = pd.DataFrame({"a": [5, 4], "b": [2, 1], "c": [3, 3]})
    result = survey.ipa(data, ["a", "b", "c"], importance={"a": 4, "b": 5, "c": 3})
    fig, ax = plt.subplots()
    assert result.plot(ax) is ax
    assert len(ax.collections[0].get_offsets()) == 3
    assert {t.get_text() for t in ax.texts} >= {"a", "b", "c", "Concentrate here"}
    assert ax.lines[0].get_xdata()[0] == pytest.approx(result.performance_cut)
    plt.close(fig)
    own = result.plot()
    assert own is not None
    plt.close(own.figure)
