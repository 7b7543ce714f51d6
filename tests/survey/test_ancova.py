"""ANCOVA against published output.

Data: Maxwell, Delaney & Kelley, Designing Experiments and Analyzing Data (AMCP), Table 9.7
(R package AMCP, chapter_9_table_7): 30 depressives, condition 1 SSRI, 2 placebo, 3 wait list,
depression before (Pre) and after (Post). Rutherford (2001), Introducing ANOVA and ANCOVA,
pp. 118-120: three groups of eight, one covariate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyAnalysisError

PRE = [18, 16, 16, 15, 14, 20, 14, 21, 25, 11,
       18, 16, 15, 14, 20, 25, 11, 25, 11, 22,
       15, 19, 10, 29, 24, 15, 9, 18, 22, 13]
POST = [12, 0, 10, 9, 0, 11, 2, 4, 15, 10,
        11, 4, 19, 15, 3, 14, 10, 16, 10, 20,
        17, 25, 10, 22, 23, 10, 2, 10, 14, 7]
DEPRESSION = pd.DataFrame({"Condition": np.repeat([1, 2, 3], 10), "Pre": PRE, "Post": POST})

RUTHERFORD = pd.DataFrame({
    "A": np.repeat([1, 2, 3], 8),
    "Y": [16, 7, 11, 9, 10, 11, 8, 8, 16, 10, 13, 10, 10, 14, 11, 12, 24, 29, 10, 22, 25, 28, 22, 24],
    "cov": [9, 5, 6, 4, 6, 8, 3, 5, 8, 5, 6, 5, 3, 6, 4, 6, 5, 8, 3, 4, 6, 9, 4, 5],
})


def test_ancova_matches_jamovi_type_iii_on_maxwell_delaney_table_9_7():
    """jmv::ancova(Post ~ Pre + Condition, ss = "3", effectSize = "partEta") printed (C. Rodriguez,
    "One-way ANCOVA" guide): Pre SS 313.3653, F 10.772342, p 0.0029369, partial eta² 0.2929469;
    Condition SS 217.1495, F 3.732399, p 0.0375843, partial eta² 0.2230642; Residuals 756.3347
    on 26 df."""
    result = survey.ancova(DEPRESSION, "Post", "Condition", "Pre")
    table = result.table
    assert table.loc["Pre", "SS"] == pytest.approx(313.3653, abs=5e-5)
    assert table.loc["Pre", "F"] == pytest.approx(10.772342, abs=5e-7)
    assert table.loc["Pre", "p"] == pytest.approx(0.0029369, abs=5e-8)
    assert table.loc["Pre", "partial_eta2"] == pytest.approx(0.2929469, abs=5e-8)
    assert table.loc["Condition", "SS"] == pytest.approx(217.1495, abs=5e-5)
    assert table.loc["Condition", "F"] == pytest.approx(3.732399, abs=5e-7)
    assert table.loc["Condition", "p"] == pytest.approx(0.0375843, abs=5e-8)
    assert table.loc["Condition", "partial_eta2"] == pytest.approx(0.2230642, abs=5e-8)
    assert table.loc["Error", "SS"] == pytest.approx(756.3347, abs=5e-5)
    assert table.loc["Error", "df"] == 26


def test_adjusted_mean_differences_and_their_ses_match_the_published_post_hoc_table():
    """jmv post hoc on the estimated marginal means (same guide): 1 - 2 = -4.448279, SE 2.415968;
    1 - 3 = -6.441874, SE 2.413326; 2 - 3 = -1.993595, SE 2.412766; df 26."""
    result = survey.ancova(DEPRESSION, "Post", "Condition", "Pre")
    means = result.adjusted_means.loc["Condition", "mean"]
    assert means[1] - means[2] == pytest.approx(-4.448279, abs=5e-7)
    assert means[1] - means[3] == pytest.approx(-6.441874, abs=5e-7)
    assert means[2] - means[3] == pytest.approx(-1.993595, abs=5e-7)
    # SE of a difference of adjusted means (one covariate): sqrt(MSE (1/n_i + 1/n_j + (xbar_i - xbar_j)^2 / SS_within(x)))
    pre = DEPRESSION.groupby("Condition")["Pre"]
    ss_within = float(((DEPRESSION["Pre"] - pre.transform("mean")) ** 2).sum())
    mse = result.table.loc["Error", "MS"]
    xbar = pre.mean()
    for (i, j), printed in {(1, 2): 2.415968, (1, 3): 2.413326, (2, 3): 2.412766}.items():
        se = np.sqrt(mse * (2 / 10 + (xbar[i] - xbar[j]) ** 2 / ss_within))
        assert se == pytest.approx(printed, abs=5e-7)


def test_one_covariate_adjusted_means_are_the_group_means_moved_along_the_pooled_slope():
    # closed form: adjusted mean_j = ybar_j - b_w (xbar_j - xbar), b_w = S_xy(within) / S_xx(within)
    result = survey.ancova(DEPRESSION, "Post", "Condition", "Pre")
    g = DEPRESSION.groupby("Condition")
    dx = DEPRESSION["Pre"] - g["Pre"].transform("mean")
    dy = DEPRESSION["Post"] - g["Post"].transform("mean")
    b_within = float((dx * dy).sum() / (dx**2).sum())
    assert result.coefficients.loc["Pre", "B"] == pytest.approx(b_within, rel=1e-12)
    expected = g["Post"].mean() - b_within * (g["Pre"].mean() - DEPRESSION["Pre"].mean())
    assert result.adjusted_means.loc["Condition", "mean"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-12)
    assert result.covariate_means == {"Pre": pytest.approx(DEPRESSION["Pre"].mean())}
    # SE_j = sqrt(MSE (1 / n_j + (xbar_j - xbar)^2 / S_xx(within))) (e.g. Maxwell & Delaney, ch. 9)
    mse = result.table.loc["Error", "MS"]
    se = np.sqrt(mse * (1 / g.size() + (g["Pre"].mean() - DEPRESSION["Pre"].mean()) ** 2 / (dx**2).sum()))
    assert result.adjusted_means.loc["Condition", "SE"].to_numpy() == pytest.approx(se.to_numpy(), rel=1e-10)


def test_ancova_matches_rutherford_2001():
    """Rutherford (2001, p. 120), ANCOVA without the interaction term: A SS 807.8161, df 2,
    F 62.8830; covariate SS 199.5366, F 31.0651; residual SS 128.4634 on 20 df."""
    table = survey.ancova(RUTHERFORD, "Y", "A", "cov").table
    assert table.loc["A", "SS"] == pytest.approx(807.8161, abs=5e-5)
    assert table.loc["A", "F"] == pytest.approx(62.8830, abs=5e-5)
    assert table.loc["cov", "SS"] == pytest.approx(199.5366, abs=5e-5)
    assert table.loc["cov", "F"] == pytest.approx(31.0651, abs=5e-5)
    assert table.loc["Error", "SS"] == pytest.approx(128.4634, abs=5e-5)
    assert table.loc["Error", "df"] == 20


def test_homogeneity_of_slopes_is_the_factor_by_covariate_term_of_the_extended_model():
    """Cross-check: statsmodels anova_lm(typ=3) of Post ~ C(Condition, Sum) * Pre."""
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    result = survey.ancova(DEPRESSION, "Post", "Condition", "Pre")
    reference = anova_lm(smf.ols("Post ~ C(Condition, Sum) * Pre", DEPRESSION).fit(), typ=3)
    row = result.slopes.loc["Condition x Pre"]
    assert row["F"] == pytest.approx(reference.loc["C(Condition, Sum):Pre", "F"], rel=1e-9)
    assert row["p"] == pytest.approx(reference.loc["C(Condition, Sum):Pre", "PR(>F)"], rel=1e-9)
    assert row["df"] == 2 and row["df_error"] == 24
    assert "homogeneity of slopes" in result.summary()


def test_two_factor_ancova_agrees_with_statsmodels_type_iii_with_sum_contrasts():
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.choice(["x", "y", "z"], 120, p=[0.5, 0.3, 0.2]),
                          "b": rng.choice(["u", "v"], 120), "c": rng.normal(size=120)})
    frame["y"] = frame["c"] * 0.7 + (frame["a"] == "y") + rng.normal(size=120)
    ours = survey.ancova(frame, "y", ["a", "b"], "c").table
    ref = anova_lm(smf.ols("y ~ c + C(a, Sum) * C(b, Sum)", frame).fit(), typ=3)
    for name, theirs in {"c": "c", "a": "C(a, Sum)", "b": "C(b, Sum)", "a x b": "C(a, Sum):C(b, Sum)"}.items():
        assert ours.loc[name, "SS"] == pytest.approx(ref.loc[theirs, "sum_sq"], rel=1e-9)


def test_ancova_errors_name_the_column():
    with pytest.raises(SurveyAnalysisError, match="'missing'"):
        survey.ancova(DEPRESSION, "Post", "Condition", "missing")
    with pytest.raises(SurveyAnalysisError, match="covariate"):
        survey.ancova(DEPRESSION, "Post", "Condition", [])
    constant = DEPRESSION.assign(k=1.0)
    with pytest.raises(SurveyAnalysisError, match="'k' is constant"):
        survey.ancova(constant, "Post", "Condition", "k")


def test_ancova_of_surveydata_labels_the_levels_and_takes_a_scale_as_covariate():
    example = survey.load_example()
    result = survey.ancova(example, "SAT", "channel", "trust")
    labels = example.codebook["channel"].value_labels
    assert result.adjusted_means["label"].tolist() == [labels[c] for c in (1, 2, 3, 4)]
    assert "trust" in result.coefficients.index
