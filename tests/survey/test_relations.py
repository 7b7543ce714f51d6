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
        correlate(survey_frame, ["trust", "use"], method="biserial")
    with pytest.raises(SurveyAnalysisError, match="at least two"):
        correlate(survey_frame, ["trust"])


# Hollander & Wolfe (1973, p. 188, table 1), the cor.test help example
HW_X = [44.4, 45.9, 41.9, 53.3, 44.7, 44.1, 50.7, 45.2, 60.1]
HW_Y = [2.6, 3.1, 2.5, 5.0, 3.6, 4.0, 5.2, 2.8, 3.8]


def _tau_b_by_counting(x, y):
    """Kendall's tau-b from its definition: concordant, discordant and tied pairs counted one by one."""
    concordant = discordant = tied_x = tied_y = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
            tied_x += dx == 0
            tied_y += dy == 0
            concordant += dx * dy > 0
            discordant += dx * dy < 0
    pairs = len(x) * (len(x) - 1) / 2
    return (concordant - discordant) / np.sqrt((pairs - tied_x) * (pairs - tied_y))


def test_kendall_tau_matches_hollander_wolfe_and_its_exact_permutation_p():
    """Published: tau = 0.4444444 (26 concordant, 10 discordant pairs). The exact two-sided p is
    the share of all 9! orderings of y whose |tau| is at least the observed one."""
    import itertools

    result = correlate(pd.DataFrame({"x": HW_X, "y": HW_Y}), ["x", "y"], method="kendall")
    assert result.r.loc["x", "y"] == pytest.approx(0.4444444, abs=5e-8)
    ranks = np.array(stats.rankdata(HW_X), int) - 1
    perms = np.array(list(itertools.permutations(range(9))), dtype=np.int8)
    i, j = np.triu_indices(9, 1)
    sign_x = np.sign(ranks[i] - ranks[j])
    s_values = (np.sign(perms[:, i] - perms[:, j]) * sign_x).sum(axis=1)
    observed_s = 26 - 10
    expected_p = np.mean(np.abs(s_values) >= observed_s)
    assert result.p.loc["x", "y"] == pytest.approx(expected_p, rel=1e-9)


def test_kendall_tau_b_with_ties_counts_pairs_and_uses_the_tie_corrected_normal():
    x = [1, 2, 2, 3, 3, 3, 4, 5, 5, 1, 2, 4]
    y = [2, 1, 3, 3, 2, 4, 4, 5, 3, 1, 2, 5]
    result = correlate(pd.DataFrame({"x": x, "y": y}), ["x", "y"], method="kendall")
    assert result.r.loc["x", "y"] == pytest.approx(_tau_b_by_counting(x, y), rel=1e-12)
    # variance of S with ties (Kendall 1970, eq. 4.4), as R's cor.test(exact = FALSE)
    n = len(x)
    tx = np.unique(x, return_counts=True)[1]
    ty = np.unique(y, return_counts=True)[1]
    v0 = n * (n - 1) * (2 * n + 5)
    vt = (tx * (tx - 1) * (2 * tx + 5)).sum()
    vu = (ty * (ty - 1) * (2 * ty + 5)).sum()
    v1 = (tx * (tx - 1)).sum() * (ty * (ty - 1)).sum() / (2 * n * (n - 1))
    v2 = (tx * (tx - 1) * (tx - 2)).sum() * (ty * (ty - 1) * (ty - 2)).sum() / (9 * n * (n - 1) * (n - 2))
    var_s = (v0 - vt - vu) / 18 + v1 + v2
    s = sum(np.sign(x[a] - x[b]) * np.sign(y[a] - y[b]) for a in range(n) for b in range(a + 1, n))
    assert result.p.loc["x", "y"] == pytest.approx(2 * stats.norm.sf(abs(s) / np.sqrt(var_s)), rel=1e-9)


def test_partial_correlation_equals_the_one_covariate_closed_form_and_pingouin():
    import pingouin

    from survey.relations import partial_correlation

    rng = np.random.default_rng(3)
    z = rng.normal(size=80)
    frame = pd.DataFrame({"z": z, "x": z + rng.normal(size=80), "y": 0.5 * z + rng.normal(size=80)})
    r = frame.corr()
    closed = (r.loc["x", "y"] - r.loc["x", "z"] * r.loc["y", "z"]) / np.sqrt(
        (1 - r.loc["x", "z"] ** 2) * (1 - r.loc["y", "z"] ** 2))
    row = partial_correlation(frame, "x", "y", "z").iloc[0]
    assert row["r"] == pytest.approx(closed, rel=1e-12) and row["df"] == 77
    assert row["p"] == pytest.approx(2 * stats.t.sf(abs(closed) * np.sqrt(77 / (1 - closed**2)), 77), rel=1e-10)
    frame["w"] = rng.normal(size=80) + frame["x"] * 0.3
    two = partial_correlation(frame, "x", "y", ["z", "w"]).iloc[0]
    ref = pingouin.partial_corr(frame, x="x", y="y", covar=["z", "w"])
    assert two["r"] == pytest.approx(float(ref["r"].iloc[0]), rel=1e-10)
    assert two["p"] == pytest.approx(float(ref["p_val"].iloc[0] if "p_val" in ref else ref["p-val"].iloc[0]),
                                     rel=1e-8)


def test_partial_correlation_errors_name_the_column():
    from survey.relations import partial_correlation

    frame = pd.DataFrame({"x": [1.0, 2, 3, 4, 5], "y": [2.0, 1, 4, 3, 5], "z": [1.0, 1, 2, 2, 3]})
    with pytest.raises(SurveyAnalysisError, match="'q'"):
        partial_correlation(frame, "x", "y", "q")
    with pytest.raises(SurveyAnalysisError, match="'x'.*infinite"):
        partial_correlation(frame.assign(x=[1.0, 2, np.inf, 4, 5]), "x", "y", "z")
    with pytest.raises(SurveyAnalysisError, match="fully explained"):
        partial_correlation(frame.assign(x=frame["z"] * 2), "x", "y", "z")
