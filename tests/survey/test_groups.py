"""Group comparisons against R output printed in R's own documentation and textbooks.

Data typed in from R's datasets package: `sleep` (Student 1908) and `PlantGrowth` (Dobson 1983).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import survey
from survey.errors import SurveyAnalysisError
from survey.groups import ExpectedCountWarning

CTRL = [4.17, 5.58, 5.18, 6.11, 4.50, 4.61, 5.17, 4.53, 5.33, 5.14]
TRT1 = [4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69]
TRT2 = [6.31, 5.12, 5.54, 5.50, 5.37, 5.29, 4.92, 6.15, 5.80, 5.26]
PLANTS = pd.DataFrame({"weight": CTRL + TRT1 + TRT2, "group": ["ctrl"] * 10 + ["trt1"] * 10 + ["trt2"] * 10})
SLEEP1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
SLEEP = pd.DataFrame({"extra": SLEEP1 + SLEEP2, "group": [1] * 10 + [2] * 10})


def test_welch_and_student_t_match_r_t_test_on_sleep():
    """R: t.test(extra ~ group, data = sleep): t = -1.8608, df = 17.776, p-value = 0.07939,
    95 percent CI -3.3654832 0.2054832; with var.equal = TRUE: df = 18, p-value = 0.07919."""
    result = survey.ttest(SLEEP, "extra", "group")
    welch, student = result.table.loc["Welch"], result.table.loc["Student"]
    assert welch["t"] == pytest.approx(-1.8608, abs=5e-5)
    assert welch["df"] == pytest.approx(17.776, abs=5e-4)
    assert welch["p"] == pytest.approx(0.07939, abs=5e-6)
    assert (welch["ci_low"], welch["ci_high"]) == pytest.approx((-3.3654832, 0.2054832), abs=1e-7)
    assert student["df"] == 18 and student["p"] == pytest.approx(0.07919, abs=5e-6)
    # Levene (mean-centred, SPSS) equals scipy's center="mean"
    lev = stats.levene(SLEEP1, SLEEP2, center="mean")
    assert result.levene_F == pytest.approx(lev.statistic) and result.levene_p == pytest.approx(lev.pvalue)


def test_paired_t_matches_r():
    """R: with(sleep, t.test(extra[group == 1], extra[group == 2], paired = TRUE)):
    t = -4.0621, df = 9, p-value = 0.002833, 95 percent CI -2.4598858 -0.7001142."""
    result = survey.ttest(pd.DataFrame({"a": SLEEP1, "b": SLEEP2}), "a", paired_with="b")
    assert result.t == pytest.approx(-4.0621, abs=5e-5) and result.df == 9
    assert result.p == pytest.approx(0.002833, abs=5e-7)
    assert result.ci == pytest.approx((-2.4598858, -0.7001142), abs=1e-7)


def test_one_way_anova_matches_r_on_plantgrowth():
    """R: anova(lm(weight ~ group, PlantGrowth)): group Df 2, Sum Sq 3.7663, Mean Sq 1.8832,
    F 4.8461, Pr(>F) 0.01591; Residuals 27, 10.4921, 0.3886."""
    result = survey.anova(PLANTS, "weight", "group")
    row = result.table.loc["group"]
    assert row["SS"] == pytest.approx(3.7663, abs=5e-5) and row["df"] == 2
    assert result.F == pytest.approx(4.8461, abs=5e-5) and result.p == pytest.approx(0.01591, abs=5e-6)
    assert result.table.loc["Error", "SS"] == pytest.approx(10.4921, abs=5e-5)
    assert result.eta2 == pytest.approx(3.76634 / 14.25843, abs=1e-5)


def test_welch_anova_matches_r_oneway_test():
    """R: oneway.test(weight ~ group, PlantGrowth): F = 5.181, num df = 2, denom df = 17.128,
    p-value = 0.01739. With equal group sizes the Brown-Forsythe F* equals the ANOVA F."""
    result = survey.welch_anova(PLANTS, "weight", "group")
    assert result.F == pytest.approx(5.181, abs=5e-4)
    assert result.df[1] == pytest.approx(17.128, abs=5e-4)
    assert result.p == pytest.approx(0.01739, abs=5e-6)
    assert result.table.loc["Brown-Forsythe", "F"] == pytest.approx(4.8461, abs=5e-5)


def test_tukey_hsd_matches_r_tukeyhsd():
    """R: TukeyHSD(aov(weight ~ group, PlantGrowth)): trt1-ctrl -0.371 [-1.0622161, 0.3202161]
    p 0.3908711; trt2-ctrl 0.494 [-0.1972161, 1.1852161] p 0.1979960; trt2-trt1 0.865
    [0.1737839, 1.5562161] p 0.0120064 (our differences are first minus second group)."""
    table = survey.posthoc(PLANTS, "weight", "group", method="tukey").set_index(["group_a", "group_b"])
    assert table.loc[("ctrl", "trt1"), "p"] == pytest.approx(0.3908711, abs=1e-6)
    assert table.loc[("ctrl", "trt2"), "p"] == pytest.approx(0.1979960, abs=1e-6)
    assert table.loc[("trt1", "trt2"), "p"] == pytest.approx(0.0120064, abs=1e-6)
    assert table.loc[("trt1", "trt2"), ["ci_low", "ci_high"]].tolist() == pytest.approx([-1.5562161, -0.1737839], abs=1e-6)


def test_games_howell_and_bonferroni_agree_with_pingouin_and_r_pairwise_t_test():
    """Games-Howell: pingouin.pairwise_gameshowell (validated by its authors against R
    userfriendlyscience). Bonferroni with pooled SD: R pairwise.t.test(weight, group,
    p.adjust = "bonferroni") gives trt1-ctrl 0.583, trt2-ctrl 0.263, trt2-trt1 0.013 (three
    times the unadjusted p-values)."""
    pingouin = pytest.importorskip("pingouin")
    ours = survey.posthoc(PLANTS, "weight", "group", method="games-howell")
    theirs = pingouin.pairwise_gameshowell(PLANTS, dv="weight", between="group")
    assert ours["p"].to_numpy() == pytest.approx(theirs["pval"].to_numpy(), abs=1e-6)
    bonf = survey.posthoc(PLANTS, "weight", "group", method="bonferroni")
    assert bonf["p"].round(3).tolist() == [0.583, 0.263, 0.013]
    # LSD: R pairwise.t.test(weight, group, p.adjust = "none"): 0.194, 0.088, 0.004
    lsd = survey.posthoc(PLANTS, "weight", "group", method="lsd")
    assert lsd["p"].round(3).tolist() == [0.194, 0.088, 0.004]


def test_type_iii_two_way_anova_is_the_drop_in_fit_of_sum_coded_effects():
    """Type III SS (SPSS GLM) on an unbalanced design equal statsmodels' anova_lm(typ=3) with
    Sum contrasts; in a balanced design Types I and III coincide."""
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    rng = np.random.default_rng(7)
    data = pd.DataFrame({"a": rng.choice(["x", "y", "z"], 90, p=[0.5, 0.3, 0.2]),
                         "b": rng.choice(["u", "v"], 90, p=[0.6, 0.4])})
    data["y"] = rng.normal(size=90) + (data["a"] == "y") * 0.8 + (data["b"] == "v") * 0.5 \
        + ((data["a"] == "z") & (data["b"] == "v")) * 1.0
    ours = survey.anova(data, "y", ["a", "b"]).table
    model = smf.ols("y ~ C(a, Sum) * C(b, Sum)", data=data).fit()
    ref = anova_lm(model, typ=3)
    assert ours.loc["a", "SS"] == pytest.approx(ref.loc["C(a, Sum)", "sum_sq"], rel=1e-9)
    assert ours.loc["b", "SS"] == pytest.approx(ref.loc["C(b, Sum)", "sum_sq"], rel=1e-9)
    assert ours.loc["a x b", "SS"] == pytest.approx(ref.loc["C(a, Sum):C(b, Sum)", "sum_sq"], rel=1e-9)
    assert ours.loc["a x b", "p"] == pytest.approx(ref.loc["C(a, Sum):C(b, Sum)", "PR(>F)"], rel=1e-7)


def test_rank_tests_match_r():
    """R: kruskal.test(weight ~ group, PlantGrowth): chi-squared = 7.9882, df = 2, p = 0.01842.
    R: wilcox.test(extra ~ group, data = sleep): W = 25.5, p-value = 0.06933 (normal
    approximation with ties and continuity correction); SPSS's asymptotic Z has no continuity
    correction, which scipy's mannwhitneyu(use_continuity=False) computes."""
    kw = survey.kruskal(PLANTS, "weight", "group")
    assert kw.statistic == pytest.approx(7.9882, abs=5e-5) and kw.p == pytest.approx(0.01842, abs=5e-6)
    assert len(kw.posthoc) == 3
    mw = survey.mann_whitney(SLEEP, "extra", "group")
    assert mw.statistic == pytest.approx(25.5)
    corrected = stats.mannwhitneyu(SLEEP1, SLEEP2, use_continuity=True, method="asymptotic")
    assert corrected.pvalue == pytest.approx(0.06933, abs=5e-6)  # the data reproduce R's figure
    plain = stats.mannwhitneyu(SLEEP1, SLEEP2, use_continuity=False, method="asymptotic")
    assert mw.p == pytest.approx(plain.pvalue, rel=1e-10)


def test_chi_square_matches_r_chisq_test_and_fisher():
    """R ?chisq.test: M <- as.table(rbind(c(762, 327, 468), c(484, 239, 477))) gives
    X-squared = 30.07, df = 2, p-value = 2.954e-07. R ?fisher.test TeaTasting (3, 1; 1, 3):
    p-value = 0.4857."""
    m = chi2_ref = survey.chi2_test(table=np.array([[762, 327, 468], [484, 239, 477]]))
    assert m.chi2 == pytest.approx(30.07, abs=5e-3) and m.df == 2 and m.p == pytest.approx(2.954e-07, rel=1e-3)
    assert chi2_ref.cramers_v == pytest.approx(np.sqrt(m.chi2 / 2757), rel=1e-12)
    with pytest.warns(ExpectedCountWarning):
        tea = survey.chi2_test(table=np.array([[3, 1], [1, 3]]))
    assert tea.fisher_p == pytest.approx(0.4857, abs=5e-5)


def test_difference_analysis_builds_the_thesis_table():
    data = survey.load_example()
    scores = survey.score_scales(data)
    frame = pd.concat([data.data, scores], axis=1)
    result = survey.difference_analysis(frame, "online", ["gender", "age_band"], codebook=data.codebook)
    table = result.table
    assert list(table["level"][:2]) == ["男", "女"]
    age = table[table["variable"] == "年龄"].iloc[0]
    assert age["test"] in ("F", "Welch F") and age["p"] < 0.001  # the generator's elderly shift
    assert "4" in age["posthoc"]  # the 60+ group (code 4) differs from others
    assert table["mean_sd"].str.contains("±").all()


def test_bad_inputs():
    with pytest.raises(SurveyAnalysisError, match="fewer than 2 members"):
        survey.anova(pd.DataFrame({"y": [1, 2, 3, 4], "g": ["a", "a", "a", "b"]}), "y", "g").table  # noqa: B018
    with pytest.raises(SurveyAnalysisError, match="constant"):
        survey.ttest(pd.DataFrame({"y": [1, 1, 1, 1], "g": [1, 1, 2, 2]}), "y", "g")
    with pytest.raises(SurveyAnalysisError, match="not numeric"):
        survey.ttest(pd.DataFrame({"y": ["a", "b", "c", "d"], "g": [1, 1, 2, 2]}), "y", "g")
    with pytest.raises(SurveyAnalysisError, match="3 groups"):
        survey.ttest(PLANTS, "weight", "group")
    with pytest.raises(SurveyAnalysisError, match="no column 'nope'"):
        survey.welch_anova(PLANTS, "nope", "group")
