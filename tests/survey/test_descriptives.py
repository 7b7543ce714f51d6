"""Descriptives against SPSS conventions and reference implementations named per test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import survey
from survey.codebook import Codebook, SurveyData, Variable
from survey.descriptives import se_kurtosis, se_skewness
from survey.errors import SurveyAnalysisError


@pytest.fixture()
def labelled():
    cb = Codebook()
    cb.add(Variable("sat", "总体满意度", {1: "非常不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "非常满意", 99: "拒答"},
                    missing_values=[99]))
    cb.add(Variable("area", "居住地", {1: "城镇", 2: "农村"}))
    data = pd.DataFrame({"sat": [5, 4, 4, 3, 99, np.nan, 2, 4, 5, 1, 10],
                         "area": [1, 1, 2, 2, 1, 2, 1, 2, 1, 2, 1]})
    return SurveyData(data, cb)


def test_frequencies_follow_spss_layout(labelled):
    """SPSS FREQUENCIES: Percent over all cases, Valid Percent and Cumulative over valid ones,
    user-missing codes and System missing listed separately; values in code order."""
    table = survey.frequencies(labelled, "sat")
    valid = table[(table["status"] == "valid") & table["value"].notna()]
    assert list(valid["value"]) == [1, 2, 3, 4, 5, 10]  # code order; 10 has no label
    assert list(valid["label"])[:5] == ["非常不满意", "不满意", "一般", "满意", "非常满意"]
    assert valid["n"].sum() == 9
    assert valid["valid_percent"].sum() == pytest.approx(100.0)
    assert valid["cumulative_percent"].iloc[-1] == pytest.approx(100.0)
    assert valid.loc[valid["value"] == 4, "percent"].iloc[0] == pytest.approx(300 / 11)
    assert valid.loc[valid["value"] == 4, "valid_percent"].iloc[0] == pytest.approx(300 / 9)
    missing = table[table["status"] == "missing"]
    assert list(missing["label"]) == ["拒答", "System missing", "Total"]
    assert list(missing["n"]) == [1, 1, 2]
    assert table.iloc[-1]["n"] == 11 and table.iloc[-1]["percent"] == 100.0


def test_ordered_category_labels_keep_code_order():
    cb = Codebook()
    cb.add(Variable("x", value_labels={1: "zeta", 2: "alpha", 3: "mid"}))
    table = survey.frequencies(pd.DataFrame({"x": [3, 1, 2, 2]}), "x", codebook=cb)
    assert list(table["label"][:3]) == ["zeta", "alpha", "mid"]


def test_skewness_and_kurtosis_equal_the_bias_corrected_estimators():
    """G1 and G2 as SPSS prints them equal scipy's bias=False estimators (Joanes & Gill 1998,
    type 2; R e1071::skewness(type = 2))."""
    x = np.random.default_rng(3).gamma(2.0, size=57)
    table = survey.describe(pd.DataFrame({"x": x}))
    assert table.loc["x", "skewness"] == pytest.approx(stats.skew(x, bias=False), rel=1e-12)
    assert table.loc["x", "kurtosis"] == pytest.approx(stats.kurtosis(x, bias=False), rel=1e-12)
    assert table.loc["x", "sd"] == pytest.approx(np.std(x, ddof=1))


@pytest.mark.parametrize(("n", "ses", "sek"), [(20, 0.512, 0.992), (30, 0.427, 0.833), (100, 0.241, 0.478)])
def test_standard_errors_of_skewness_and_kurtosis_match_spss_output(n, ses, sek):
    """SPSS DESCRIPTIVES / FREQUENCIES print Std. Error of Skewness .512 and of Kurtosis .992 for
    N = 20, .427 / .833 for N = 30 and .241 / .478 for N = 100."""
    assert round(se_skewness(n), 3) == ses
    assert round(se_kurtosis(n), 3) == sek


def test_describe_uses_each_items_valid_values_and_rejects_numbers_mixed_with_words():
    data = pd.DataFrame({"a": [1, 2, np.nan, 4], "b": [2, 2, 3, 3], "c": ["x", "y", "z", "w"],
                         "d": ["4", "5", "4分", "3"]})
    table = survey.describe(data, ["a", "b"])
    assert list(table["n"]) == [3, 4]
    assert table.loc["a", "mean"] == pytest.approx(7 / 3)
    # a column of words is a text question: its N of answers, no statistics (as SPSS lists a string's N)
    text = survey.describe(data, ["c"])
    assert text.loc["c", "n"] == 4 and text.loc["c", ["mean", "sd"]].isna().all()
    assert text.attrs["text"] == ["c"]
    with pytest.raises(SurveyAnalysisError, match="column 'd' is not numeric"):
        survey.describe(data, ["d"])
    with pytest.raises(SurveyAnalysisError, match="no column 'zz'"):
        survey.describe(data, ["zz"])


def test_crosstab_counts_margins_and_percentages(labelled):
    counts = survey.crosstab(labelled, "area", "sat")
    assert counts.loc["Total", "Total"] == 9  # 99 (user-missing) and NaN left out
    assert counts.loc["城镇", "Total"] == 5
    assert list(counts.columns[:5]) == ["非常不满意", "不满意", "一般", "满意", "非常满意"]
    rows = survey.crosstab(labelled, "area", "sat", percent="row")
    assert rows["Total"].to_numpy() == pytest.approx([100.0, 100.0, 100.0])
    cols = survey.crosstab(labelled, "area", "sat", percent="col")
    assert cols.loc["Total"].to_numpy() == pytest.approx(np.full(cols.shape[1], 100.0))
    assert labelled.data["sat"].tolist()[4] == 99  # input untouched
