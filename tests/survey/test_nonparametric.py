"""Related-sample rank tests against R's help-page examples and closed forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import survey
from survey.errors import SurveyAnalysisError

# Hollander & Wolfe (1973, p. 29): Hamilton depression scale factor IV, first (x) and second (y)
# visit; the wilcox.test help example
DEPRESSION = pd.DataFrame({"x": [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30],
                           "y": [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]})
# Hollander & Wolfe (1973, p. 140ff): rounding first base, 22 players x 3 methods; the
# friedman.test help example (RoundingTimes)
ROUNDING = pd.DataFrame(
    [[5.40, 5.50, 5.55], [5.85, 5.70, 5.75], [5.20, 5.60, 5.50], [5.55, 5.50, 5.40], [5.90, 5.85, 5.70],
     [5.45, 5.55, 5.60], [5.40, 5.40, 5.35], [5.45, 5.50, 5.35], [5.25, 5.15, 5.00], [5.85, 5.80, 5.70],
     [5.25, 5.20, 5.10], [5.65, 5.55, 5.45], [5.60, 5.35, 5.45], [5.05, 5.00, 4.95], [5.50, 5.50, 5.40],
     [5.45, 5.55, 5.50], [5.55, 5.55, 5.35], [5.45, 5.50, 5.55], [5.50, 5.45, 5.25], [5.65, 5.60, 5.40],
     [5.70, 5.65, 5.55], [6.30, 6.30, 6.25]],
    columns=["round_out", "narrow_angle", "wide_angle"])


def test_signed_rank_exact_matches_r_wilcox_test_help_example():
    """R: wilcox.test(x, y, paired = TRUE, alternative = "greater"): V = 40, p-value = 0.01953."""
    result = survey.wilcoxon_signed_rank(DEPRESSION, "x", "y", alternative="greater")
    assert result.method == "exact" and result.V == 40 and result.W_minus == 5
    assert result.p == pytest.approx(0.01953, abs=5e-6)
    # closed form: 10 of the 2^9 sign patterns give V <= 5 (the empty set, {1}..{5}, {1,2},
    # {1,3}, {1,4}, {2,3}); the null distribution is symmetric, so two-sided p = 20/512
    assert result.p == pytest.approx(10 / 2**9, rel=1e-12)
    two_sided = survey.wilcoxon_signed_rank(DEPRESSION, "x", "y")
    assert two_sided.p == pytest.approx(20 / 2**9, rel=1e-12)


def test_signed_rank_large_sample_form_matches_r():
    """R: wilcox.test(y - x, alternative = "less", exact = FALSE, correct = FALSE): V = 5,
    p-value = 0.01908 (Hollander & Wolfe's large-sample approximation)."""
    frame = DEPRESSION.assign(d=DEPRESSION["y"] - DEPRESSION["x"])
    result = survey.wilcoxon_signed_rank(frame, "d", alternative="less", exact=False, correct=False)
    assert result.V == 5 and result.method == "normal"
    assert result.p == pytest.approx(0.01908, abs=5e-6)
    # closed form z = (5 - 22.5) / sqrt(9*10*19/24); r = |z| / sqrt(9)
    z = (5 - 22.5) / np.sqrt(9 * 10 * 19 / 24)
    assert result.z == pytest.approx(z) and result.r == pytest.approx(abs(z) / 3)


def test_signed_rank_with_ties_and_zeros_uses_the_tie_corrected_normal_like_scipy():
    before = [3, 4, 2, 5, 4, 3, 4, 5, 2, 3, 4, 4]
    after = [4, 4, 3, 5, 5, 4, 5, 4, 3, 4, 5, 5]
    frame = pd.DataFrame({"before": before, "after": after})
    result = survey.wilcoxon_signed_rank(frame, "after", "before")
    assert result.method == "normal" and result.n_zero == 2 and result.n == 10
    reference = stats.wilcoxon(after, before, zero_method="wilcox", correction=True, method="approx")
    assert result.p == pytest.approx(reference.pvalue, rel=1e-10)


def test_friedman_matches_closed_form_and_scipy_on_rounding_times():
    result = survey.friedman(ROUNDING, ["round_out", "narrow_angle", "wide_angle"]).iloc[0]
    reference = stats.friedmanchisquare(*(ROUNDING[c] for c in ROUNDING.columns))
    assert result["chi2"] == pytest.approx(reference.statistic, rel=1e-12)
    assert result["p"] == pytest.approx(reference.pvalue, rel=1e-10)
    assert result["df"] == 2 and result["n"] == 22
    assert result["kendall_w"] == pytest.approx(reference.statistic / (22 * 2))


def test_friedman_without_ties_is_the_textbook_formula_and_w_is_one_for_identical_orderings():
    frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 3, 4, 5], "c": [3, 4, 5, 6]})
    result = survey.friedman(frame, ["a", "b", "c"]).iloc[0]
    # 12/(n k (k+1)) sum R_j^2 - 3 n (k+1) with R = 4, 8, 12
    assert result["chi2"] == pytest.approx(12 / (4 * 3 * 4) * (16 + 64 + 144) - 3 * 4 * 4)
    assert result["kendall_w"] == pytest.approx(1.0)


def test_mcnemar_on_agresti_presidential_approval():
    """Agresti (1990, p. 350), the mcnemar.test help example: 794 / 150 / 86 / 570.
    Penn State STAT 504 prints R's mcnemar.test(correct = FALSE): McNemar's chi-squared = 17.3559,
    p-value = 3.099e-05. With continuity correction the closed form is (|150 - 86| - 1)^2 / 236."""
    table = np.array([[794, 150], [86, 570]])
    plain = survey.mcnemar(table=table, correct=False).iloc[0]
    assert plain["chi2"] == pytest.approx(17.3559, abs=5e-5)
    assert plain["p"] == pytest.approx(3.099e-05, abs=5e-9)
    corrected = survey.mcnemar(table=table).iloc[0]
    assert corrected["chi2"] == pytest.approx(63**2 / 236)
    assert corrected["exact_p"] == pytest.approx(stats.binomtest(150, 236).pvalue)


def test_mcnemar_from_columns_equals_the_table_form():
    before = ["yes"] * 30 + ["no"] * 20
    after = ["yes"] * 22 + ["no"] * 8 + ["yes"] * 15 + ["no"] * 5
    from_columns = survey.mcnemar(pd.DataFrame({"t1": before, "t2": after}), "t1", "t2").iloc[0]
    from_table = survey.mcnemar(table=[[5, 15], [8, 22]]).iloc[0]  # levels sorted: no, yes
    assert from_columns["chi2"] == pytest.approx(from_table["chi2"])
    assert (from_columns["b"], from_columns["c"]) == (15, 8)


def test_bad_input_names_the_problem():
    with pytest.raises(SurveyAnalysisError, match="'z'"):
        survey.wilcoxon_signed_rank(DEPRESSION, "x", "z")
    with pytest.raises(SurveyAnalysisError, match="infinite"):
        survey.friedman(ROUNDING.assign(wide_angle=np.inf), list(ROUNDING.columns))
    with pytest.raises(SurveyAnalysisError, match="no non-zero"):
        survey.wilcoxon_signed_rank(DEPRESSION, "x", "x")
    with pytest.raises(SurveyAnalysisError, match="discordant"):
        survey.mcnemar(table=[[3, 0], [0, 4]])
    with pytest.raises(SurveyAnalysisError, match="two categories"):
        survey.mcnemar(pd.DataFrame({"a": [1, 2, 3], "b": [1, 2, 2]}), "a", "b")
