"""OLS, binary logistic and ordinal regression checked against R, SPSS, Stata and NIST output."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels
import statsmodels.api as sm

from survey.errors import SurveyAnalysisError
from survey.regression import SeparationWarning, logistic, ols, ordinal_regression

UCLA_CSV = Path(statsmodels.__file__).parent / "miscmodels" / "tests" / "results" / "ologit_ucla.csv"
APPLY_LEVELS = ["unlikely", "somewhat likely", "very likely"]


@pytest.fixture(scope="module")
def longley() -> pd.DataFrame:
    return sm.datasets.longley.load_pandas().data


@pytest.fixture(scope="module")
def spector() -> pd.DataFrame:
    return sm.datasets.spector.load_pandas().data


@pytest.fixture(scope="module")
def ucla() -> pd.DataFrame:
    if not UCLA_CSV.exists():
        pytest.skip(f"the UCLA ordinal-logit data ship with statsmodels' tests; not found at {UCLA_CSV}")
    return pd.read_csv(UCLA_CSV)


@pytest.fixture(scope="module")
def housing() -> pd.DataFrame:
    """MASS::housing, the Copenhagen housing conditions survey (Madsen 1976; Venables & Ripley,
    Modern Applied Statistics with S, 4th ed., section 7.3): 72 cells, 1681 residents. Row order
    as in MASS: Sat fastest, then Infl, Type, Cont."""
    freq = [21, 21, 28, 34, 22, 36, 10, 11, 36, 61, 23, 17, 43, 35, 40, 26, 18, 54,
            13, 9, 10, 8, 8, 12, 6, 7, 9, 18, 6, 7, 15, 13, 13, 7, 5, 11,
            14, 19, 37, 17, 23, 40, 3, 5, 23, 78, 46, 43, 48, 45, 86, 15, 25, 62,
            20, 23, 20, 10, 22, 24, 7, 10, 21, 57, 23, 13, 31, 21, 13, 5, 6, 13]  # fmt: skip
    three = ["Low", "Medium", "High"]
    types = ["Tower", "Apartment", "Atrium", "Terrace"]
    rows = [(s, i, t, c) for c in ["Low", "High"] for t in types for i in three for s in three]
    frame = pd.DataFrame(rows, columns=["Sat", "Infl", "Type", "Cont"])
    frame["Freq"] = freq
    for name, levels in {"Sat": three, "Infl": three, "Type": types, "Cont": ["Low", "High"]}.items():
        frame[name] = pd.Categorical(frame[name], categories=levels, ordered=name == "Sat")
    assert frame["Freq"].sum() == 1681
    return frame


# ----------------------------------------------------------------------------- OLS


def test_ols_matches_nist_certified_longley(longley):
    # NIST StRD "Longley" certified values (linear least squares, higher difficulty).
    result = ols(longley, "TOTEMP", ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"])
    certified_b = {
        "(Constant)": -3482258.63459582, "GNPDEFL": 15.0618722713733, "GNP": -0.358191792925910e-01,
        "UNEMP": -2.02022980381683, "ARMED": -1.03322686717359, "POP": -0.511041056535807e-01,
        "YEAR": 1829.15146461355,
    }  # fmt: skip
    certified_se = {
        "(Constant)": 890420.383607373, "GNPDEFL": 84.9149257747669, "GNP": 0.334910077722432e-01,
        "UNEMP": 0.488399681651699, "ARMED": 0.214274163161675, "POP": 0.226073200069370,
        "YEAR": 455.478499142212,
    }  # fmt: skip
    for name, value in certified_b.items():
        assert result.coefficients.loc[name, "B"] == pytest.approx(value, rel=1e-7)
        assert result.coefficients.loc[name, "SE"] == pytest.approx(certified_se[name], rel=1e-7)
    assert result.se_estimate == pytest.approx(304.854073561965, rel=1e-9)
    assert result.r2 == pytest.approx(0.995479004577296, rel=1e-9)
    assert result.F == pytest.approx(330.285339234588, rel=1e-8)
    assert result.df == (6, 9)
    assert result.anova.loc["Residual", "SS"] == pytest.approx(836424.055505915, rel=1e-8)


def test_ols_vif_matches_r_on_longley(longley):
    # R car::vif / genridge::vif on lm(Employed ~ ., longley): GNP 1788.51, Unemployed 33.619,
    # Armed.Forces 3.589, Population 399.15, Year 758.98, GNP.deflator 135.53.
    result = ols(longley, "TOTEMP", ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"])
    published = {"GNP": 1788.51, "UNEMP": 33.619, "ARMED": 3.589, "POP": 399.15, "YEAR": 758.98, "GNPDEFL": 135.53}
    for name, vif in published.items():
        assert result.coefficients.loc[name, "VIF"] == pytest.approx(vif, abs=0.006)
        assert result.coefficients.loc[name, "tolerance"] == pytest.approx(1 / vif, rel=1e-3)


def test_vif_is_one_over_one_minus_r2_of_the_other_predictors(longley):
    # Definition: VIF_j = 1 / (1 - R2_j), R2_j from regressing predictor j on the others.
    result = ols(longley, "TOTEMP", ["UNEMP", "ARMED", "POP"])
    r2_armed = ols(longley, "ARMED", ["UNEMP", "POP"]).r2
    assert result.coefficients.loc["ARMED", "VIF"] == pytest.approx(1 / (1 - r2_armed), rel=1e-10)


def test_ols_durbin_watson_from_r_residuals(longley):
    # Residuals of R lm on Longley (statsmodels' test results, from R); DW = sum(diff(e)^2)/sum(e^2).
    r_residuals = np.array([267.34003, -94.01394, 46.28717, -410.11462, 309.71459, -249.31122,
                            -164.04896, -13.18036, 14.30477, 455.39409, -17.26893, -39.05504,
                            -155.54997, -85.67131, 341.93151, -206.75783])  # fmt: skip
    expected = np.sum(np.diff(r_residuals) ** 2) / np.sum(r_residuals**2)
    result = ols(longley, "TOTEMP", ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"])
    assert result.dw == pytest.approx(expected, rel=1e-5)


def test_ols_matches_r_lm_on_spector(spector):
    # R: summary(lm(GRADE ~ GPA + TUCE + PSI)): (Intercept) -1.49802 (0.52389), GPA 0.46385
    # (0.16196), TUCE 0.01050 (0.01948), PSI 0.37855 (0.13917); R2 0.4159, adj 0.3533,
    # F 6.646 on 3 and 28 DF, p 0.001571.
    result = ols(spector, "GRADE", ["GPA", "TUCE", "PSI"])
    for name, b, se in [("(Constant)", -1.49802, 0.52389), ("GPA", 0.46385, 0.16196),
                        ("TUCE", 0.01050, 0.01948), ("PSI", 0.37855, 0.13917)]:  # fmt: skip
        assert result.coefficients.loc[name, "B"] == pytest.approx(b, abs=6e-5)
        assert result.coefficients.loc[name, "SE"] == pytest.approx(se, abs=6e-5)
    assert result.r2 == pytest.approx(0.4159, abs=6e-5)
    assert result.adj_r2 == pytest.approx(0.3533, abs=6e-5)
    assert result.F == pytest.approx(6.646, abs=6e-4)
    assert result.p == pytest.approx(0.001571, abs=6e-7)


def test_standardized_beta_of_simple_regression_is_the_correlation(spector):
    # Property: with one predictor, Beta = r(x, y).
    result = ols(spector, "GRADE", ["GPA"])
    assert result.coefficients.loc["GPA", "Beta"] == pytest.approx(spector["GPA"].corr(spector["GRADE"]), rel=1e-12)


def test_standardized_beta_equals_slope_on_z_scores(spector):
    # Definition (SPSS): Beta is the coefficient of the regression on z-scored variables.
    z = (spector - spector.mean()) / spector.std(ddof=1)
    on_z = ols(z, "GRADE", ["GPA", "TUCE", "PSI"]).coefficients["B"]
    betas = ols(spector, "GRADE", ["GPA", "TUCE", "PSI"]).coefficients["Beta"]
    for name in ["GPA", "TUCE", "PSI"]:
        assert betas[name] == pytest.approx(on_z[name], rel=1e-10)


def test_hierarchical_change_statistics(spector):
    # Definition: F_change = (dR2 / df1) / ((1 - R2) / df2); step 1 change = the model's own F.
    result = ols(spector, "GRADE", None, blocks=[["GPA"], ["TUCE", "PSI"]])
    step1, step2 = ols(spector, "GRADE", ["GPA"]), ols(spector, "GRADE", ["GPA", "TUCE", "PSI"])
    table = result.model_summary
    assert table.loc[1, "F_change"] == pytest.approx(step1.F, rel=1e-10)
    assert table.loc[2, "R2_change"] == pytest.approx(step2.r2 - step1.r2, rel=1e-10)
    expected_f = ((step2.r2 - step1.r2) / 2) / ((1 - step2.r2) / 28)
    assert table.loc[2, "F_change"] == pytest.approx(expected_f, rel=1e-10)
    assert (table.loc[2, "df1"], table.loc[2, "df2"]) == (2, 28)
    assert result.r2 == pytest.approx(step2.r2)


def test_categorical_predictor_is_dummy_coded_against_named_reference(housing):
    # A 0/1 dummy per non-reference level reproduces the group-mean differences (one-way model).
    data = housing.loc[housing.index.repeat(housing["Freq"])].reset_index(drop=True)
    data["score"] = data["Sat"].cat.codes.astype(float)
    result = ols(data, "score", ["Type"], reference={"Type": "Terrace"})
    means = data.groupby("Type", observed=True)["score"].mean()
    assert result.references == {"Type": "Terrace"}
    assert result.coefficients.loc["(Constant)", "B"] == pytest.approx(means["Terrace"])
    assert result.coefficients.loc["Type[Tower]", "B"] == pytest.approx(means["Tower"] - means["Terrace"])


def test_ols_bad_input_is_named(spector):
    with pytest.raises(SurveyAnalysisError, match="NOPE"):
        ols(spector, "GRADE", ["GPA", "NOPE"])
    constant = spector.assign(K=1.0)
    with pytest.raises(SurveyAnalysisError, match="same value"):
        ols(constant, "K", ["GPA"])
    collinear = spector.assign(GPA2=2 * spector["GPA"] + 1)
    with pytest.raises(SurveyAnalysisError, match=r"'GPA2' is perfectly collinear with \['GPA'\]"):
        ols(collinear, "GRADE", ["GPA", "TUCE", "GPA2"])
    free_text = spector.assign(note=[f"comment {i}" for i in range(len(spector))])
    before = free_text.copy()
    with pytest.raises(SurveyAnalysisError, match="cannot be dummy-coded"):
        ols(free_text, "GRADE", ["GPA", "note"])
    pd.testing.assert_frame_equal(free_text, before)  # the input is never modified


# ----------------------------------------------------------------------------- logistic


def test_logistic_matches_r_glm_on_spector(spector):
    # R: glm(GRADE ~ GPA + TUCE + PSI, family = binomial): (Intercept) -13.02135 (4.93127),
    # GPA 2.82611 (1.26293), TUCE 0.09516 (0.14155), PSI 2.37869 (1.06456); null deviance
    # 41.183 on 31 df, residual deviance 25.779 on 28 df.
    result = logistic(spector, "GRADE", ["GPA", "TUCE", "PSI"])
    for name, b, se in [("(Constant)", -13.02135, 4.93127), ("GPA", 2.82611, 1.26293),
                        ("TUCE", 0.09516, 0.14155), ("PSI", 2.37869, 1.06456)]:  # fmt: skip
        assert result.coefficients.loc[name, "B"] == pytest.approx(b, abs=6e-5)
        assert result.coefficients.loc[name, "SE"] == pytest.approx(se, abs=6e-5)
    assert result.minus2ll == pytest.approx(25.779, abs=6e-4)
    assert result.minus2ll_null == pytest.approx(41.183, abs=6e-4)
    # Stata 11 logit (statsmodels' test results): LR chi2 15.4041924625676, p .00150187761112892,
    # Wald 95% CI of GPA's B [.3507938, 5.301432].
    assert result.chi2 == pytest.approx(15.4041924625676, rel=1e-6)
    assert result.p == pytest.approx(0.00150187761112892, rel=1e-6)
    assert np.log(result.coefficients.loc["GPA", "CI_low"]) == pytest.approx(0.3507938, abs=1e-6)
    assert np.log(result.coefficients.loc["GPA", "CI_high"]) == pytest.approx(5.301432, abs=1e-6)
    assert list(result.coefficients.index) == ["GPA", "TUCE", "PSI", "(Constant)"]


def test_logistic_pseudo_r2_follow_their_formulas(spector):
    # Cox & Snell (1989): 1 - exp(-(D0 - D)/n); Nagelkerke (1991): CS / (1 - exp(-D0/n)), with the
    # deviances D0 = 41.183 and D = 25.779 printed by R glm.
    result = logistic(spector, "GRADE", ["GPA", "TUCE", "PSI"])
    cox_snell = 1 - np.exp(-(41.183 - 25.779) / 32)
    assert result.cox_snell_r2 == pytest.approx(cox_snell, abs=1e-4)
    assert result.nagelkerke_r2 == pytest.approx(cox_snell / (1 - np.exp(-41.183 / 32)), abs=1e-4)


def test_classification_table_counts_cases(spector):
    # Definition: a case is predicted as the event when its fitted probability >= .5; the fitted
    # probabilities of Stata's logit on these data (statsmodels' test results) give 18/3/3/8.
    result = logistic(spector, "GRADE", ["GPA", "TUCE", "PSI"])
    table = result.classification
    assert table.iloc[0, :2].tolist() == [18, 3] and table.iloc[1, :2].tolist() == [3, 8]
    assert table.loc["Overall", "percent_correct"] == pytest.approx(100 * 26 / 32)


def test_hosmer_lemeshow_is_zero_for_a_saturated_model():
    # Property: with one 10-level factor the fitted risk equals the observed rate in every group,
    # so O = E in every decile and the HL statistic is 0 on 8 df.
    group = np.repeat([f"g{i}" for i in range(10)], 20)
    events = np.concatenate([[1] * (i + 2) + [0] * (18 - i) for i in range(10)])  # 2..11 of 20
    data = pd.DataFrame({"group": group, "y": events})
    result = logistic(data, "y", ["group"])
    assert result.hl_chi2 == pytest.approx(0, abs=1e-8)
    assert result.hl_df == 8
    assert result.hosmer_lemeshow["n"].tolist() == [20] * 10


def test_hosmer_lemeshow_groups_and_statistic_by_definition(spector):
    # Hosmer & Lemeshow (2000) deciles of risk: sum of (O - E)^2 / E over both outcomes.
    result = logistic(spector, "GRADE", ["GPA", "TUCE", "PSI"])
    table = result.hosmer_lemeshow
    assert table["n"].sum() == 32 and len(table) == 10
    assert (table["observed_1"] + table["observed_0"] == table["n"]).all()
    by_hand = (((table["observed_1"] - table["expected_1"]) ** 2 / table["expected_1"])
               + ((table["observed_0"] - table["expected_0"]) ** 2 / table["expected_0"])).sum()  # fmt: skip
    assert result.hl_chi2 == pytest.approx(by_hand)
    assert table["expected_1"].sum() == pytest.approx(11)  # ML: fitted events = observed events


def test_logistic_bad_input(spector):
    with pytest.raises(SurveyAnalysisError, match="only one category"):
        logistic(spector.assign(one=1), "one", ["GPA"])
    with pytest.raises(SurveyAnalysisError, match="exactly two"):
        logistic(spector, "TUCE", ["GPA"])
    separated = pd.DataFrame({"y": [0, 0, 0, 0, 1, 1, 1, 1], "x": [1, 2, 3, 4, 5, 6, 7, 8]})
    with pytest.warns(SeparationWarning, match="complete separation"):
        logistic(separated, "y", ["x"])


# ----------------------------------------------------------------------------- ordinal


def test_ordinal_matches_r_polr_on_ucla(ucla):
    # R MASS::polr(apply ~ pared + public + gpa, Hess = TRUE) (UCLA OARC "Ordinal logistic
    # regression | R data analysis examples"): pared 1.04769 (0.2658), public -0.05879 (0.2979),
    # gpa 0.61594 (0.2606); zeta 2.2039 (0.7795), 4.2994 (0.8043); residual deviance 717.0249,
    # AIC 727.0249. polr stops its optimiser at ~1e-3 from the maximum; we iterate to it.
    result = ordinal_regression(ucla, "apply", ["pared", "public", "gpa"], levels=APPLY_LEVELS)
    coefficients, thresholds = result.coefficients, result.thresholds
    for name, b, se in [("pared", 1.04769, 0.2658), ("public", -0.05879, 0.2979), ("gpa", 0.61594, 0.2606)]:
        assert coefficients.loc[name, "Estimate"] == pytest.approx(b, abs=1e-3)
        assert coefficients.loc[name, "SE"] == pytest.approx(se, abs=2e-4)
    assert thresholds["Estimate"].tolist() == pytest.approx([2.2039, 4.2994], abs=1e-3)
    assert thresholds["SE"].tolist() == pytest.approx([0.7795, 0.8043], abs=2e-4)
    assert list(thresholds.index) == ["unlikely|somewhat likely", "somewhat likely|very likely"]
    assert result.deviance == pytest.approx(717.0249, abs=1e-4)
    assert result.aic == pytest.approx(727.0249, abs=1e-4)


def test_ordinal_matches_spss_plum_on_ucla(ucla):
    # SPSS PLUM apply BY pared public WITH gpa /LINK=LOGIT /PRINT=FIT PARAMETER TPARALLEL on the
    # same data (University of Sheffield / UCLA OARC SPSS ordinal-regression handouts): Model
    # Fitting -2LL intercept only 557.272, final 533.091, chi2 24.180 df 3; Goodness of fit
    # Pearson 400.843 and Deviance 400.749 on 435 df (p .878, .879); parallel lines p = .26;
    # Parameter Estimates (last category as reference): thresholds 1.214 (.939), 3.310 (.952),
    # gpa .616 (.263), [pared=0] -1.048 (.268), [public=0] .059 (.289).
    data = ucla.assign(pared=ucla["pared"].astype(str), public=ucla["public"].astype(str))
    result = ordinal_regression(
        data, "apply", ["pared", "public", "gpa"], levels=APPLY_LEVELS, reference="last", information="expected"
    )
    fit = result.model_fit
    assert fit.loc["Intercept Only", "minus2ll"] == pytest.approx(557.272, abs=6e-4)
    assert fit.loc["Final", "minus2ll"] == pytest.approx(533.091, abs=6e-4)
    assert result.chi2 == pytest.approx(24.180, abs=1e-3) and result.df == 3
    gof = result.goodness_of_fit
    assert gof.loc["Pearson", "chi2"] == pytest.approx(400.843, abs=6e-4)
    assert gof.loc["Deviance", "chi2"] == pytest.approx(400.749, abs=6e-4)
    assert gof.loc["Pearson", "df"] == 435
    assert gof.loc["Pearson", "p"] == pytest.approx(0.878, abs=6e-4)
    assert gof.loc["Deviance", "p"] == pytest.approx(0.879, abs=6e-4)
    assert result.parallel_df == 3
    assert result.parallel_p == pytest.approx(0.26, abs=0.005)
    assert result.thresholds["Estimate"].tolist() == pytest.approx([1.214, 3.310], abs=1e-3)
    assert result.thresholds["SE"].tolist() == pytest.approx([0.939, 0.952], abs=6e-4)
    spss = {"gpa": (0.616, 0.263), "pared[0]": (-1.048, 0.268), "public[0]": (0.059, 0.289)}
    for name, (estimate, se) in spss.items():
        assert result.coefficients.loc[name, "Estimate"] == pytest.approx(estimate, abs=1e-3)
        assert result.coefficients.loc[name, "SE"] == pytest.approx(se, abs=6e-4)
    assert result.coefficients.loc["gpa", "Wald"] == pytest.approx(5.499, abs=2e-3)


def test_ordinal_matches_r_polr_on_copenhagen_housing(housing):
    # MASS::polr(Sat ~ Infl + Type + Cont, weights = Freq, data = housing), MASS help page
    # ?polr: InflMedium 0.5663937, InflHigh 1.2888191, TypeApartment -0.5723501, TypeAtrium
    # -0.3661866, TypeTerrace -1.0910149, ContHigh 0.3602841; zeta -0.4961353, 0.6907083;
    # residual deviance 3479.149, AIC 3495.149; summary() SEs 0.10465, 0.12716, 0.11924,
    # 0.15517, 0.15149, 0.09554 and 0.1248, 0.1255.
    result = ordinal_regression(housing, "Sat", ["Infl", "Type", "Cont"], weights="Freq", reference="first")
    published = {
        "Infl[Medium]": (0.5663937, 0.10465), "Infl[High]": (1.2888191, 0.12716),
        "Type[Apartment]": (-0.5723501, 0.11924), "Type[Atrium]": (-0.3661866, 0.15517),
        "Type[Terrace]": (-1.0910149, 0.15149), "Cont[High]": (0.3602841, 0.09554),
    }  # fmt: skip
    for name, (estimate, se) in published.items():
        assert result.coefficients.loc[name, "Estimate"] == pytest.approx(estimate, abs=2e-4)
        assert result.coefficients.loc[name, "SE"] == pytest.approx(se, abs=6e-5)
    assert result.thresholds["Estimate"].tolist() == pytest.approx([-0.4961353, 0.6907083], abs=2e-4)
    assert result.thresholds["SE"].tolist() == pytest.approx([0.1248, 0.1255], abs=6e-5)
    assert list(result.thresholds.index) == ["Low|Medium", "Medium|High"]
    assert result.deviance == pytest.approx(3479.149, abs=6e-4)
    assert result.aic == pytest.approx(3495.149, abs=6e-4)
    assert result.n == 1681


def test_frequency_weights_equal_repeated_rows(housing):
    # Property: a frequency weight w is the same as w copies of the row.
    expanded = housing.loc[housing.index.repeat(housing["Freq"])].drop(columns="Freq")
    weighted = ordinal_regression(housing, "Sat", ["Infl", "Cont"], weights="Freq")
    repeated = ordinal_regression(expanded.reset_index(drop=True), "Sat", ["Infl", "Cont"])
    assert weighted.coefficients["Estimate"].to_numpy() == pytest.approx(repeated.coefficients["Estimate"].to_numpy())
    assert weighted.deviance == pytest.approx(repeated.deviance)
    assert weighted.parallel_chi2 == pytest.approx(repeated.parallel_chi2, abs=1e-6)


def test_ordinal_fit_statistics_follow_their_definitions(housing):
    # Deviance goodness of fit = residual deviance - deviance of the saturated (per-pattern
    # multinomial) model; pseudo R2 from Cox & Snell, Nagelkerke and McFadden's formulas.
    result = ordinal_regression(housing, "Sat", ["Infl", "Type", "Cont"], weights="Freq", reference="first")
    cells = housing.groupby(["Infl", "Type", "Cont"], observed=True)["Freq"]
    saturated = -2 * np.sum(housing["Freq"] * np.log(housing["Freq"] / cells.transform("sum")))
    assert result.goodness_of_fit.loc["Deviance", "chi2"] == pytest.approx(3479.149 - saturated, abs=1e-3)
    assert result.goodness_of_fit.loc["Deviance", "df"] == 24 * 2 - 8
    d0, d1 = result.model_fit.loc["Intercept Only", "deviance"], result.deviance
    assert result.cox_snell_r2 == pytest.approx(1 - np.exp(-(d0 - d1) / 1681))
    assert result.mcfadden_r2 == pytest.approx(1 - d1 / d0)
    assert result.nagelkerke_r2_kernel == pytest.approx(result.cox_snell_r2 / (1 - np.exp(-d0 / 1681)))
    spss_m2ll0 = result.model_fit.loc["Intercept Only", "minus2ll"]
    assert result.nagelkerke_r2 == pytest.approx(result.cox_snell_r2 / (1 - np.exp(-spss_m2ll0 / 1681)))
    # Intercept-only deviance: -2 sum n_j log(n_j / n) of the marginal Sat counts.
    margins = housing.groupby("Sat", observed=True)["Freq"].sum()
    assert d0 == pytest.approx(-2 * np.sum(margins * np.log(margins / 1681)))


def test_parallel_lines_general_model_fits_at_least_as_well(ucla):
    # Nesting: the general model contains the proportional-odds model, so chi2 >= 0, df = (J-2)p.
    result = ordinal_regression(ucla, "apply", ["pared", "gpa"], levels=APPLY_LEVELS)
    assert result.parallel_chi2 >= 0 and result.parallel_df == 2
    assert result.parallel_lines.loc["General", "minus2ll"] <= result.model_fit.loc["Final", "minus2ll"]


def test_ordinal_probit_matches_r_polr(ucla):
    # R MASS::polr(..., method = "probit") (statsmodels' test results, R 3.4.4): pared 0.59811,
    # public 0.01016, gpa 0.35815; zeta 1.2968, 2.5028.
    result = ordinal_regression(ucla, "apply", ["pared", "public", "gpa"], levels=APPLY_LEVELS, link="probit")
    assert result.coefficients["Estimate"].tolist() == pytest.approx([0.59811, 0.01016, 0.35815], abs=1e-3)
    assert result.thresholds["Estimate"].tolist() == pytest.approx([1.2968, 2.5028], abs=1e-3)


def test_ordinal_bad_input(ucla):
    with pytest.raises(SurveyAnalysisError, match="levels="):
        ordinal_regression(ucla, "apply", ["gpa"])
    one = ucla.assign(apply="unlikely")
    with pytest.raises(SurveyAnalysisError, match="only one category"):
        ordinal_regression(one, "apply", ["gpa"], levels=APPLY_LEVELS)
    with pytest.raises(SurveyAnalysisError, match="link"):
        ordinal_regression(ucla, "apply", ["gpa"], levels=APPLY_LEVELS, link="cauchit")
    with pytest.raises(SurveyAnalysisError, match="not in levels"):
        ordinal_regression(ucla, "apply", ["gpa"], levels=["unlikely", "very likely"])


def test_summaries_render(spector, ucla):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = ordinal_regression(ucla, "apply", ["pared", "gpa"], levels=APPLY_LEVELS).summary()
    assert "Threshold" in text and "Location" in text
    assert "Nagelkerke" in logistic(spector, "GRADE", ["GPA"]).summary()
    assert "Durbin-Watson" in ols(spector, "GRADE", ["GPA"]).summary()
