"""Correlation matrices checked against scipy.stats and published values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from survey.codebook import Codebook, Variable
from survey.errors import SurveyAnalysisError
from survey.relations import correlate

# Anscombe (1973), "Graphs in statistical analysis", The American Statistician 27: data set I.
ANSCOMBE_X = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5]
ANSCOMBE_Y1 = [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68]
# The textbook Spearman example (IQ against hours of television a week), rho = -29/165.
IQ = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110]
TV = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17]


@pytest.fixture()
def survey_frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    trust = rng.normal(3.5, 0.8, 120)
    frame = pd.DataFrame(
        {
            "trust": trust,
            "use": 0.6 * trust + rng.normal(0, 0.7, 120),
            "satisfaction": np.round(np.clip(0.5 * trust + rng.normal(1.5, 0.6, 120), 1, 5)),
        }
    )
    frame.loc[[3, 17, 40], "use"] = np.nan
    return frame


def test_pearson_matches_anscombe_published_r():
    # Anscombe (1973): r = 0.816 for every one of the four data sets.
    result = correlate(pd.DataFrame({"x": ANSCOMBE_X, "y": ANSCOMBE_Y1}), ["x", "y"])
    assert result.r.loc["x", "y"] == pytest.approx(0.816, abs=5e-4)
    assert result.n.loc["x", "y"] == 11


def test_spearman_matches_textbook_rho():
    # rho = 1 - 6 sum d^2 / (n (n^2 - 1)) = 1 - 6 * 194 / 990 = -29/165 (no ties).
    result = correlate(pd.DataFrame({"iq": IQ, "tv": TV}), ["iq", "tv"], method="spearman")
    assert result.r.loc["iq", "tv"] == pytest.approx(-29 / 165, abs=1e-12)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_matches_scipy_with_pairwise_deletion(survey_frame, method):
    result = correlate(survey_frame, ["trust", "use", "satisfaction"], method=method)
    reference = stats.pearsonr if method == "pearson" else stats.spearmanr
    for a, b in [("trust", "use"), ("use", "satisfaction"), ("trust", "satisfaction")]:
        pair = survey_frame[[a, b]].dropna()
        expected = reference(pair[a], pair[b])
        assert result.r.loc[a, b] == pytest.approx(expected.statistic, abs=1e-12)
        assert result.p.loc[a, b] == pytest.approx(expected.pvalue, rel=1e-8)
        assert result.n.loc[a, b] == len(pair)
    assert result.n.loc["trust", "use"] == 117 and result.n.loc["trust", "satisfaction"] == 120


def test_table_has_means_sds_and_starred_lower_triangle(survey_frame):
    result = correlate(survey_frame, ["trust", "use", "satisfaction"])
    table = result.table()
    assert list(table.columns) == ["M", "SD", "1", "2", "3"]
    assert table.iloc[0]["M"] == f"{survey_frame['trust'].mean():.2f}"
    assert table.iloc[1]["SD"] == f"{survey_frame['use'].std():.2f}"
    r = result.r.loc["use", "trust"]
    assert table.iloc[1]["1"] == f"{r:.2f}".replace("0.", ".", 1) + "***"  # p < .001 here
    assert table.iloc[0]["2"] == "" and table.iloc[1]["2"] == "1"
    assert result.stars.loc["use", "trust"] == "***" and result.stars.loc["use", "use"] == ""


def test_stars_thresholds():
    from survey.relations import stars

    assert [stars(p) for p in (0.2, 0.049, 0.0099, 0.00099)] == ["", "*", "**", "***"]


def test_codebook_labels_and_user_missing(survey_frame):
    frame = survey_frame.copy()
    frame.loc[0, "satisfaction"] = 99
    codebook = Codebook()
    codebook.add(Variable("satisfaction", label="总体满意度", missing_values=[99]))
    result = correlate(frame, ["trust", "satisfaction"], codebook=codebook)
    assert result.n.loc["trust", "satisfaction"] == 119
    assert result.table().index[1] == "2. 总体满意度"
    assert frame.loc[0, "satisfaction"] == 99  # input untouched


def test_long_format(survey_frame):
    long = correlate(survey_frame, ["trust", "use", "satisfaction"]).to_frame()
    assert list(long.columns) == ["var1", "var2", "r", "p", "n", "stars"]
    assert len(long) == 3


def test_bad_input_is_named(survey_frame):
    with pytest.raises(SurveyAnalysisError, match="nope"):
        correlate(survey_frame, ["trust", "nope"])
    with pytest.raises(SurveyAnalysisError, match="same value"):
        correlate(survey_frame.assign(k=2.0), ["trust", "k"])
    with pytest.raises(SurveyAnalysisError, match="numeric"):
        correlate(survey_frame.assign(t="a"), ["trust", "t"])
    with pytest.raises(SurveyAnalysisError, match="method"):
        correlate(survey_frame, ["trust", "use"], method="kendall")
    with pytest.raises(SurveyAnalysisError, match="at least two"):
        correlate(survey_frame, ["trust"])
