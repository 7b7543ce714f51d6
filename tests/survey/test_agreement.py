"""ICC and kappas checked against published tables, R (psych, irr) and SAS output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey import SurveyData
from survey.agreement import cohen_kappa, fleiss_kappa, icc
from survey.errors import SurveyAnalysisError

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges (also psych::ICC's help example)
SHROUT_FLEISS = pd.DataFrame(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    columns=["J1", "J2", "J3", "J4"],
)

# irr's `anxiety` data: 20 subjects, 3 raters, anxiety grades 1-6
ANXIETY = pd.DataFrame({
    "rater1": [3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3],
    "rater2": [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4],
    "rater3": [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2],
})

# irr's `diagnoses` data (Fleiss, 1971): 30 patients, 6 psychiatrists; 1 Depression,
# 2 Personality Disorder, 3 Schizophrenia, 4 Neurosis, 5 Other
DIAGNOSES = pd.DataFrame(
    [[4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
     [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
     [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
     [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
     [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
     [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5]],
    columns=[f"rater{i}" for i in range(1, 7)],
)


# ----------------------------------------------------------------------------- ICC


def test_icc_reproduces_shrout_fleiss_table_4():
    """Shrout & Fleiss (1979) Table 4 prints .17, .29, .71, .44, .62, .91; psych::ICC and
    DescTools::ICC print 0.166, 0.290, 0.715, 0.443, 0.620, 0.909 for the same matrix."""
    table = icc(SHROUT_FLEISS).table
    assert table["ICC"].round(2).tolist() == [0.17, 0.29, 0.71, 0.44, 0.62, 0.91]
    assert table["ICC"].round(3).tolist() == [0.166, 0.290, 0.715, 0.443, 0.620, 0.909]
    assert table.loc["ICC1", ["df1", "df2"]].tolist() == [5, 18]
    assert table.loc["ICC3", ["df1", "df2"]].tolist() == [5, 15]


def test_icc_matches_psych_on_irr_anxiety_to_six_digits():
    """psych::ICC(anxiety)$results (ICC, lower bound, upper bound) as printed by R (7 digits).
    Agreement is to six significant digits (the page's seventh digit is not always rounded)."""
    psych = {
        "ICC1": (0.1750225, -0.07744650, 0.4843362),
        "ICC2": (0.1979983, -0.03891068, 0.4935740),
        "ICC3": (0.2160493, -0.04625793, 0.5222590),
        "ICC1k": (0.3889259, -0.27492318, 0.7380652),
        "ICC2k": (0.4254988, -0.12658288, 0.7451493),
        "ICC3k": (0.4525861, -0.15292145, 0.7663308),
    }
    table = icc(ANXIETY).table
    for form, expected in psych.items():
        got = table.loc[form, ["ICC", "CI_low", "CI_high"]].to_numpy(dtype=float)
        np.testing.assert_allclose(got, expected, rtol=2e-6, err_msg=form)


def test_icc_matches_psych_on_mcgraw_wong_table_6():
    """McGraw & Wong (1996) Table 6 data (10 targets, 2 raters); psych/DescTools ICC output
    (est, F, df1, df2, p, lower, upper) to the printed 3 significant digits."""
    data = pd.DataFrame([[103, 119], [82, 65], [116, 106], [102, 102], [99, 105], [98, 100], [104, 107],
                         [62, 85], [97, 101], [107, 110]], columns=["a", "b"])
    r_output = {
        "ICC1": (0.722, 6.18, 9, 10, 0.00437, 0.241, 0.922),
        "ICC2": (0.720, 6.00, 9, 9, 0.00677, 0.228, 0.922),
        "ICC3": (0.714, 6.00, 9, 9, 0.00677, 0.197, 0.920),
        "ICC1k": (0.838, 6.18, 9, 10, 0.00437, 0.389, 0.959),
        "ICC2k": (0.837, 6.00, 9, 9, 0.00677, 0.371, 0.959),
        "ICC3k": (0.833, 6.00, 9, 9, 0.00677, 0.329, 0.959),
    }
    table = icc(data).table
    for form, (value, f, df1, df2, p, low, high) in r_output.items():
        row = table.loc[form]
        assert (row["df1"], row["df2"]) == (df1, df2)
        np.testing.assert_allclose([row["ICC"], row["CI_low"], row["CI_high"]], [value, low, high],
                                   atol=5e-4, err_msg=form)
        assert row["F"] == pytest.approx(f, abs=5e-3)
        assert row["p"] == pytest.approx(p, abs=5e-6)


def test_icc3_is_one_for_a_constant_offset_and_icc2_is_not():
    """Consistency ignores a rater's constant offset, absolute agreement does not (closed form)."""
    x = np.array([1.0, 4, 2, 5, 3, 6])
    res = icc(pd.DataFrame({"a": x + 0.01 * np.array([1, -1, 1, -1, 1, -1]), "b": x + 2}))
    assert res.table.loc["ICC3", "ICC"] > 0.999
    assert res.table.loc["ICC2", "ICC"] < 0.75


def test_icc_rejects_missing_ratings_naming_the_rater():
    data = SHROUT_FLEISS.astype(float)
    data.loc[2, "J3"] = np.nan
    with pytest.raises(SurveyAnalysisError, match="'J3'.*missing"):
        icc(data)
    with pytest.raises(SurveyAnalysisError, match="'J9'"):
        icc(SHROUT_FLEISS, ["J1", "J9"])
    assert icc(SurveyData(SHROUT_FLEISS)).n_raters == 4


# ----------------------------------------------------------------------------- Cohen's kappa


def _from_table(table: list[list[int]]) -> pd.DataFrame:
    rows = [(i, j) for i, line in enumerate(table) for j, count in enumerate(line) for _ in range(count)]
    return pd.DataFrame(rows, columns=["first", "second"])


def test_cohen_kappa_matches_sas_proc_freq_simple_and_weighted():
    """SAS PROC FREQ AGREE output for the 3 x 3 table [[0, 4, 1], [0, 8, 0], [0, 1, 5]]
    (printed in statsmodels' test suite, stats/tests/test_inter_rater.py)."""
    data = _from_table([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    simple = cohen_kappa(data, "first", "second", categories=[0, 1, 2])
    got = [simple.kappa, simple.se, simple.ci[0], simple.ci[1], simple.se0, simple.z, simple.p]
    np.testing.assert_allclose(got, [0.4842, 0.1380, 0.2137, 0.7547, 0.1484, 3.2626, 0.0011], atol=5e-5)
    # SAS's weighted kappa with Cicchetti-Allison (linear) weights
    linear = cohen_kappa(data, "first", "second", weights="linear", categories=[0, 1, 2])
    got = [linear.kappa, linear.se, linear.ci[0], linear.ci[1], linear.se0, linear.z, linear.p]
    np.testing.assert_allclose(got, [0.4701, 0.1457, 0.1845, 0.7558, 0.1426, 3.2971, 0.0010], atol=5e-5)


def test_cohen_kappa_matches_irr_kappa2_on_anxiety():
    """irr::kappa2(anxiety[, 2:3], w) value, z and p (statsmodels' test suite) and
    kappa2(anxiety[, 1:2], w)$value 0.1195 / 0.1892 / 0.2968 (unweighted / equal / squared)."""
    irr_23 = {None: (-0.006289308, -0.0604067, 0.9518317), "linear": (0.1459075, 1.282472, 0.1996772),
              "quadratic": (0.2520325, 1.437451, 0.1505898)}
    for weights, expected in irr_23.items():
        res = cohen_kappa(ANXIETY, "rater2", "rater3", weights=weights)
        np.testing.assert_allclose([res.kappa, res.z, res.p], expected, atol=1e-6, err_msg=str(weights))
    irr_12 = {None: 0.1195, "linear": 0.1892, "quadratic": 0.2968}
    for weights, expected in irr_12.items():
        assert cohen_kappa(ANXIETY, "rater1", "rater2", weights=weights).kappa == pytest.approx(expected, abs=5e-5)


def test_cohen_kappa_on_diagnoses_matches_irr_and_hand_computation():
    """irr::kappa2(diagnoses[, 1:2]): Kappa = 0.651, z = 7; by hand Po = 0.7333, Pe = 0.2356."""
    res = cohen_kappa(DIAGNOSES, "rater1", "rater2")
    assert res.kappa == pytest.approx(0.6512, abs=5e-5)
    assert res.observed == pytest.approx(0.7333, abs=5e-5)
    assert res.expected == pytest.approx(0.2356, abs=5e-5)
    assert round(res.z) == 7


def test_cohen_kappa_agrees_with_scikit_learn_weighted_scores():
    from sklearn.metrics import cohen_kappa_score

    for weights in (None, "linear", "quadratic"):
        ours = cohen_kappa(ANXIETY, "rater1", "rater3", weights=weights).kappa
        theirs = cohen_kappa_score(ANXIETY["rater1"], ANXIETY["rater3"], weights=weights)
        assert ours == pytest.approx(theirs, abs=1e-12)


def test_cohen_kappa_works_on_labels_and_rejects_bad_input():
    data = pd.DataFrame({"a": ["yes", "no", "yes", "yes"], "b": ["yes", "no", "no", "yes"]})
    assert cohen_kappa(data, "a", "b").kappa == pytest.approx(0.5)  # Po = .75, Pe = .5
    bad = data.copy()
    bad.loc[1, "b"] = None
    with pytest.raises(SurveyAnalysisError, match="'b'.*missing"):
        cohen_kappa(bad, "a", "b")
    with pytest.raises(SurveyAnalysisError, match="weights"):
        cohen_kappa(data, "a", "b", weights="cubic")
    with pytest.raises(SurveyAnalysisError, match="'maybe'"):
        cohen_kappa(pd.DataFrame({"a": ["yes", "maybe"], "b": ["no", "yes"]}), "a", "b", categories=["no", "yes"])


# ----------------------------------------------------------------------------- Fleiss' kappa


def test_fleiss_kappa_matches_irr_kappam_fleiss_on_diagnoses():
    """irr::kappam.fleiss(diagnoses): Kappa = 0.4302445, z = 17.65183 (Fleiss, 1971: 0.430)."""
    res = fleiss_kappa(DIAGNOSES)
    assert res.kappa == pytest.approx(0.4302445, abs=5e-8)
    assert res.z == pytest.approx(17.65183, abs=5e-5)
    assert (res.n_subjects, res.n_raters) == (30, 6)


def test_fleiss_category_kappas_average_to_the_overall_kappa():
    """Fleiss (1971): kappa = sum_j p_j q_j kappa_j / sum_j p_j q_j."""
    res = fleiss_kappa(DIAGNOSES)
    pq = res.categories["share"] * (1 - res.categories["share"])
    assert float((pq * res.categories["kappa"]).sum() / pq.sum()) == pytest.approx(res.kappa, abs=1e-12)


def test_fleiss_kappa_agrees_with_statsmodels():
    from statsmodels.stats.inter_rater import aggregate_raters
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    counts, _ = aggregate_raters(ANXIETY.to_numpy())
    assert fleiss_kappa(ANXIETY).kappa == pytest.approx(sm_fleiss(counts), abs=1e-12)
