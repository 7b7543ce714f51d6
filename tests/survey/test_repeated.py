"""Repeated-measures ANOVA: the decomposition against statsmodels' AnovaRM, the sphericity
statistics against pingouin and against properties that hold by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import survey
from survey.errors import SurveyAnalysisError
from survey.repeated import _orthonormal_contrasts

# Hollander & Wolfe (1973, p. 140ff): rounding first base, 22 players x 3 methods (R's
# friedman.test help example), analysed parametrically here
ROUNDING = pd.DataFrame(
    [[5.40, 5.50, 5.55], [5.85, 5.70, 5.75], [5.20, 5.60, 5.50], [5.55, 5.50, 5.40], [5.90, 5.85, 5.70],
     [5.45, 5.55, 5.60], [5.40, 5.40, 5.35], [5.45, 5.50, 5.35], [5.25, 5.15, 5.00], [5.85, 5.80, 5.70],
     [5.25, 5.20, 5.10], [5.65, 5.55, 5.45], [5.60, 5.35, 5.45], [5.05, 5.00, 4.95], [5.50, 5.50, 5.40],
     [5.45, 5.55, 5.50], [5.55, 5.55, 5.35], [5.45, 5.50, 5.55], [5.50, 5.45, 5.25], [5.65, 5.60, 5.40],
     [5.70, 5.65, 5.55], [6.30, 6.30, 6.25]],
    columns=["round_out", "narrow_angle", "wide_angle"])
COLUMNS = list(ROUNDING.columns)


def _long(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.reset_index(names="subject").melt(id_vars="subject", var_name="method", value_name="time")


def test_f_test_equals_statsmodels_anova_rm():
    from statsmodels.stats.anova import AnovaRM

    result = survey.repeated_measures_anova(ROUNDING, COLUMNS)
    reference = AnovaRM(_long(ROUNDING), "time", "subject", within=["method"]).fit().anova_table.iloc[0]
    row = result.table.loc["Sphericity Assumed"]
    assert row["F"] == pytest.approx(reference["F Value"], rel=1e-10)
    assert (row["df"], row["df_error"]) == (reference["Num DF"], reference["Den DF"]) == (2, 42)
    assert row["p"] == pytest.approx(reference["Pr > F"], rel=1e-8)


def test_sums_of_squares_add_up_to_the_total():
    result = survey.repeated_measures_anova(ROUNDING, COLUMNS)
    row = result.table.loc["Sphericity Assumed"]
    ss_error = row["MS_error"] * row["df_error"]
    total = ((ROUNDING.to_numpy() - ROUNDING.to_numpy().mean()) ** 2).sum()
    assert row["SS"] + ss_error + result.ss_subjects == pytest.approx(total, rel=1e-12)
    assert row["partial_eta2"] == pytest.approx(row["SS"] / (row["SS"] + ss_error))


def test_mauchly_and_epsilons_agree_with_pingouin():
    import pingouin

    long = _long(ROUNDING)
    result = survey.repeated_measures_anova(ROUNDING, COLUMNS)
    s = result.sphericity.iloc[0]
    spher = pingouin.sphericity(long, dv="time", within="method", subject="subject")
    assert s["W"] == pytest.approx(spher.W, rel=1e-8)
    assert s["chi2"] == pytest.approx(spher.chi2, rel=1e-8)
    assert s["p"] == pytest.approx(spher.pval, rel=1e-6)
    assert s["epsilon_gg"] == pytest.approx(pingouin.epsilon(long, dv="time", within="method", subject="subject",
                                                             correction="gg"), rel=1e-8)
    hf = pingouin.epsilon(long, dv="time", within="method", subject="subject", correction="hf")
    assert s["epsilon_hf"] == pytest.approx(min(1.0, hf), rel=1e-8)
    gg = result.table.loc["Greenhouse-Geisser"]
    assert gg["p"] == pytest.approx(stats.f.sf(gg["F"], 2 * s["epsilon_gg"], 42 * s["epsilon_gg"]))


def test_spherical_errors_by_construction_give_w_and_epsilon_one():
    """Contrast scores with orthogonal, equal-norm, centred columns make C'SC proportional to I:
    Mauchly's W = 1, chi2 = 0 and the Greenhouse-Geisser epsilon = 1 exactly."""
    contrasts = _orthonormal_contrasts(3)
    scores = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], float)
    y = scores @ contrasts.T + np.array([[10], [12], [9], [11]]) + np.array([1.0, 2.0, 4.0])
    result = survey.repeated_measures_anova(pd.DataFrame(y, columns=["a", "b", "c"]), ["a", "b", "c"])
    s = result.sphericity.iloc[0]
    assert s["W"] == pytest.approx(1.0, abs=1e-12) and s["epsilon_gg"] == pytest.approx(1.0, abs=1e-12)
    assert s["chi2"] == pytest.approx(0.0, abs=1e-10)


def test_two_levels_need_no_correction_and_equal_the_paired_t_squared():
    """With k = 2 sphericity holds trivially (epsilon = 1) and F = t^2 of the paired t-test."""
    pair = ROUNDING[["round_out", "wide_angle"]]
    result = survey.repeated_measures_anova(pair, list(pair.columns))
    assert result.sphericity.iloc[0]["epsilon_gg"] == pytest.approx(1.0)
    t = stats.ttest_rel(pair["round_out"], pair["wide_angle"]).statistic
    assert result.table.loc["Sphericity Assumed", "F"] == pytest.approx(t**2, rel=1e-10)


def test_epsilon_is_within_its_bounds_and_independent_of_the_contrasts():
    rng = np.random.default_rng(8)
    y = rng.normal(size=(15, 4)) @ np.diag([1.0, 2.0, 3.0, 0.5]) + rng.normal(size=(15, 1))
    frame = pd.DataFrame(y, columns=list("abcd"))
    s = survey.repeated_measures_anova(frame, list("abcd")).sphericity.iloc[0]
    assert 1 / 3 <= s["epsilon_gg"] <= 1
    # any other orthonormal contrast basis (a rotation of this one) gives the same W and epsilon
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    c = _orthonormal_contrasts(4) @ rotation
    m = c.T @ np.cov(y, rowvar=False) @ c
    assert s["W"] == pytest.approx(np.linalg.det(m) / (np.trace(m) / 3) ** 3, rel=1e-10)
    assert s["epsilon_gg"] == pytest.approx(np.trace(m) ** 2 / (3 * np.trace(m @ m)), rel=1e-10)


def test_bad_input_names_the_column():
    with pytest.raises(SurveyAnalysisError, match="'nope'"):
        survey.repeated_measures_anova(ROUNDING, ["round_out", "nope"])
    with pytest.raises(SurveyAnalysisError, match="'wide_angle'.*infinite"):
        survey.repeated_measures_anova(ROUNDING.assign(wide_angle=np.inf), COLUMNS)
    with pytest.raises(SurveyAnalysisError, match="at least two"):
        survey.repeated_measures_anova(ROUNDING, ["round_out"])
