"""Assumption checks against R output printed in documentation and tutorials.

Data typed in from R's datasets package: ToothGrowth (Crampton 1947; `len`, 60 values in the
package's row order) and PlantGrowth (Dobson 1983).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import survey
from survey.codebook import Codebook, SurveyData, Variable
from survey.errors import SurveyAnalysisError

TOOTH_LEN = [4.2, 11.5, 7.3, 5.8, 6.4, 10.0, 11.2, 11.2, 5.2, 7.0,
             16.5, 16.5, 15.2, 17.3, 22.5, 17.3, 13.6, 14.5, 18.8, 15.5,
             23.6, 18.5, 33.9, 25.5, 26.4, 32.5, 26.7, 21.5, 23.3, 29.5,
             15.2, 21.5, 17.6, 9.7, 14.5, 10.0, 8.2, 9.4, 16.5, 9.7,
             19.7, 23.3, 23.6, 26.4, 20.0, 25.2, 25.8, 21.2, 14.5, 27.3,
             25.5, 26.4, 22.4, 24.5, 24.8, 30.9, 26.4, 27.3, 29.4, 23.0]
PLANT_WEIGHT = [4.17, 5.58, 5.18, 6.11, 4.50, 4.61, 5.17, 4.53, 5.33, 5.14,
                4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69,
                6.31, 5.12, 5.54, 5.50, 5.37, 5.29, 4.92, 6.15, 5.80, 5.26]
PLANTS = pd.DataFrame({"weight": PLANT_WEIGHT, "group": ["ctrl"] * 10 + ["trt1"] * 10 + ["trt2"] * 10})
# Tree sizes in three forests, from the University of Bergen bioSTATS course page on Levene's test
FORESTS = pd.DataFrame({
    "size": [25, 22, 28, 24, 26, 24, 22, 21, 23, 25, 26, 30, 25, 24, 21, 27, 28, 23, 25, 24,
             20, 22, 24, 23, 22, 24, 20, 19, 21, 22],
    "location": ["ForestA"] * 10 + ["ForestB"] * 10 + ["ForestC"] * 10})


def test_levene_based_on_mean_matches_car_levene_test():
    """R: leveneTest(size ~ location, my.dataframe, center = mean):
    group Df 2, F value 0.5636, Pr(>F) 0.5757, residual Df 27 (bioSTATS, University of Bergen)."""
    row = survey.levene(FORESTS, "size", "location").loc["Based on Mean"]
    assert row["statistic"] == pytest.approx(0.5636, abs=5e-5)
    assert row["p"] == pytest.approx(0.5757, abs=5e-5)
    assert (row["df1"], row["df2"]) == (2, 27)


def test_levene_is_the_anova_of_absolute_deviations_from_the_group_centre():
    """Definition (Levene 1960; Brown & Forsythe 1974; car::leveneTest): F of a one-way ANOVA of
    |y - centre of its group|; computed here with the module's own ANOVA and with scipy."""
    table = survey.levene(PLANTS, "weight", "group")
    for name, centre, scipy_centre in (("Based on Mean", "mean", "mean"), ("Based on Median", "median", "median")):
        deviations = PLANTS.assign(z=(PLANTS["weight"] - PLANTS.groupby("group")["weight"].transform(centre)).abs())
        reference = survey.anova(deviations, "z", "group")
        assert table.loc[name, "statistic"] == pytest.approx(reference.F, rel=1e-10)
        assert table.loc[name, "p"] == pytest.approx(reference.p, rel=1e-10)
        groups = [g["weight"].to_numpy() for _, g in PLANTS.groupby("group")]
        assert table.loc[name, "statistic"] == pytest.approx(stats.levene(*groups, center=scipy_centre).statistic)


def test_levene_center_option_and_survey_data_with_user_missing_codes():
    frame = PLANTS.copy()
    frame.loc[len(frame)] = [99.0, "ctrl"]  # 99 = user-missing; must not count
    book = Codebook({"weight": Variable("weight", missing_values=[99])})
    only_median = survey.levene(SurveyData(frame, book), "weight", "group", center="median")
    assert list(only_median.index) == ["Based on Median"]
    assert only_median.iloc[0]["statistic"] == pytest.approx(survey.levene(PLANTS, "weight", "group")
                                                              .loc["Based on Median", "statistic"])


def test_shapiro_wilk_matches_r_shapiro_test():
    """R: shapiro.test(ToothGrowth$len): W = 0.96743, p-value = 0.1091;
    shapiro.test(PlantGrowth$weight): W = 0.98268, p-value = 0.8915 (printed R output, RPubs
    notes on variance tests)."""
    frame = pd.DataFrame({"len": TOOTH_LEN, "weight": PLANT_WEIGHT + [np.nan] * 30})
    table = survey.normality(frame, ["len", "weight"]).set_index("variable")
    assert table.loc["len", "sw_W"] == pytest.approx(0.96743, abs=5e-6)
    assert table.loc["len", "sw_p"] == pytest.approx(0.1091, abs=5e-5)
    assert table.loc["weight", "sw_W"] == pytest.approx(0.98268, abs=5e-6)
    assert table.loc["weight", "sw_p"] == pytest.approx(0.8915, abs=5e-5)
    assert table.loc["weight", "n"] == 30


def test_lilliefors_d_is_the_ks_distance_to_the_fitted_normal():
    """nortest documents that D equals ks.test(x, "pnorm", mean(x), sd(x))$statistic."""
    table = survey.normality(pd.DataFrame({"len": TOOTH_LEN}), "len")
    x = np.array(TOOTH_LEN)
    # ToothGrowth has ties; scipy's exact KS distance is the same sup-norm
    expected = stats.kstest(x, "norm", args=(x.mean(), x.std(ddof=1))).statistic
    assert table.loc[0, "ks_D"] == pytest.approx(expected, rel=1e-12)


def test_lilliefors_p_agrees_with_statsmodels_where_both_use_dallal_wilkinson():
    """Below p = 0.1 nortest and statsmodels' lilliefors(pvalmethod="approx") both use the
    Dallal & Wilkinson (1986) formula, so they must agree; the test data are log-normal."""
    from statsmodels.stats.diagnostic import lilliefors

    rng = np.random.default_rng(5)
    x = np.exp(rng.normal(size=60))
    row = survey.normality(pd.DataFrame({"x": x}), "x").iloc[0]
    d, p = lilliefors(x, dist="norm", pvalmethod="approx")
    assert p < 0.1
    assert row["ks_D"] == pytest.approx(d, rel=1e-12) and row["ks_p"] == pytest.approx(p, rel=1e-8)


def test_normality_by_group_gives_one_row_per_group_with_labels():
    book = Codebook({"group": Variable("group", value_labels={"ctrl": "Control", "trt1": "T1", "trt2": "T2"})})
    table = survey.normality(SurveyData(PLANTS, book), "weight", by="group")
    assert list(table["group"]) == ["Control", "T1", "T2"]
    ctrl = np.array(PLANT_WEIGHT[:10])
    assert table.loc[0, "sw_W"] == pytest.approx(stats.shapiro(ctrl).statistic)


def test_bad_input_names_the_column():
    with pytest.raises(SurveyAnalysisError, match="'nope'"):
        survey.normality(PLANTS, "nope")
    with pytest.raises(SurveyAnalysisError, match="infinite.*'weight'|'weight'.*infinite"):
        survey.levene(PLANTS.assign(weight=PLANTS["weight"].replace(4.17, np.inf)), "weight", "group")
    with pytest.raises(SurveyAnalysisError, match="'weight' must be numeric"):
        survey.levene(PLANTS.assign(weight=PLANTS["group"]), "weight", "group")
    with pytest.raises(SurveyAnalysisError, match="'site'"):
        survey.levene(PLANTS, "weight", "site")
    with pytest.raises(SurveyAnalysisError, match="at least 5"):
        survey.normality(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}), "x")
