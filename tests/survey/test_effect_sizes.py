"""Effect-size confidence intervals against effectsize's documented output and the inversion
property that defines them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import survey
from survey.errors import SurveyAnalysisError

# R's mtcars (Henderson & Velleman 1981): mpg and am (0 automatic, 1 manual) in row order
MPG = [21.0, 21.0, 22.8, 21.4, 18.7, 18.1, 14.3, 24.4, 22.8, 19.2, 17.8, 16.4, 17.3, 15.2, 10.4, 10.4,
       14.7, 32.4, 30.4, 33.9, 21.5, 15.5, 15.2, 13.3, 19.2, 27.3, 26.0, 30.4, 15.8, 19.7, 15.0, 21.4]
AM = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
MTCARS = pd.DataFrame({"mpg": MPG, "am": AM})


def test_cohens_d_matches_effectsize_readme_on_mtcars():
    """effectsize README: cohens_d(mpg ~ am, data = mtcars) -> -1.48, 95% CI [-2.27, -0.67]."""
    row = survey.cohens_d(MTCARS, "mpg", "am").iloc[0]
    assert np.mean(MPG) == pytest.approx(20.090625)  # the typed data are mtcars' mpg
    assert row["d"] == pytest.approx(-1.48, abs=0.005)
    assert row["ci_low"] == pytest.approx(-2.27, abs=0.005) and row["ci_high"] == pytest.approx(-0.67, abs=0.005)
    # t is the Student t of t.test(mpg ~ am, var.equal = TRUE)
    assert row["t"] == pytest.approx(stats.ttest_ind(MTCARS.mpg[MTCARS.am == 0], MTCARS.mpg[MTCARS.am == 1]).statistic)


def test_cohens_d_interval_inverts_the_noncentral_t():
    frame = pd.DataFrame({"a": [5.1, 4.8, 6.0, 5.5, 5.9, 6.2, 4.9, 5.7],
                          "b": [4.2, 4.9, 5.1, 4.4, 5.0, 5.6, 4.1, 4.8]})
    row = survey.cohens_d(frame, "a", paired_with="b", confidence=0.90).iloc[0]
    n = 8
    diffs = frame.a - frame.b
    assert row["d"] == pytest.approx(diffs.mean() / diffs.std())
    t = row["t"]
    assert stats.nct.cdf(t, n - 1, row["ci_low"] * np.sqrt(n)) == pytest.approx(0.95, abs=1e-9)
    assert stats.nct.cdf(t, n - 1, row["ci_high"] * np.sqrt(n)) == pytest.approx(0.05, abs=1e-9)


def test_eta_squared_ci_inverts_the_noncentral_f_on_plantgrowth():
    """PlantGrowth one-way ANOVA: F(2, 27) = 4.8461 (R's anova(lm(weight ~ group)))."""
    row = survey.eta_squared_ci(4.8461, 2, 27).iloc[0]
    assert row["partial_eta2"] == pytest.approx(4.8461 * 2 / (4.8461 * 2 + 27))
    lam_low = row["ci_low"] * 30 / (1 - row["ci_low"])
    lam_high = row["ci_high"] * 30 / (1 - row["ci_high"])
    assert stats.ncf.cdf(4.8461, 2, 27, lam_low) == pytest.approx(0.95, abs=1e-7)
    assert stats.ncf.cdf(4.8461, 2, 27, lam_high) == pytest.approx(0.05, abs=1e-7)
    assert row["ci_low"] < row["partial_eta2"] < row["ci_high"]


def test_eta_squared_lower_bound_is_zero_when_f_is_not_significant_at_the_matching_level():
    """A 90% interval excludes 0 exactly when the F test is significant at .05."""
    f_crit = stats.f.ppf(0.95, 3, 40)
    assert survey.eta_squared_ci(f_crit * 0.99, 3, 40).iloc[0]["ci_low"] == 0.0
    assert survey.eta_squared_ci(f_crit * 1.01, 3, 40).iloc[0]["ci_low"] > 0.0


def test_bad_input_is_named():
    with pytest.raises(SurveyAnalysisError, match="'speed'"):
        survey.cohens_d(MTCARS, "speed", "am")
    with pytest.raises(SurveyAnalysisError, match="df_error"):
        survey.eta_squared_ci(3.0, 2, np.nan)
    with pytest.raises(SurveyAnalysisError, match="confidence"):
        survey.cohens_d(MTCARS, "mpg", "am", confidence=95)
