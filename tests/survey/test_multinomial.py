"""Multinomial logit against the closed form of a saturated model and statsmodels MNLogit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import survey
from survey.errors import SurveyAnalysisError

# channel (online / station / hall) by residence (urban / rural): a 2 x 3 table of counts
COUNTS = {("urban", "online"): 60, ("urban", "station"): 25, ("urban", "hall"): 15,
          ("rural", "online"): 20, ("rural", "station"): 30, ("rural", "hall"): 30}
TABLE = pd.DataFrame([{"residence": r, "channel": c} for (r, c), k in COUNTS.items() for _ in range(k)])


def test_saturated_model_reproduces_the_log_odds_ratios_of_the_counts():
    """Closed form: with one categorical predictor the model is saturated; against reference
    category "hall" and reference residence "rural", B0_j = log(n_rural,j / n_rural,hall) and
    B_j = log odds ratio (n_urban,j n_rural,hall) / (n_urban,hall n_rural,j); SE^2 = sum of 1/n
    of the four cells (Woolf)."""
    result = survey.multinomial(TABLE, "channel", ["residence"], reference_category="hall", reference="first")
    assert result.reference == "hall"
    n = COUNTS
    for j in ("online", "station"):
        constant = result.coefficients.loc[(j, "(Constant)")]
        slope = result.coefficients.loc[(j, "residence[urban]")]
        assert constant["B"] == pytest.approx(np.log(n["rural", j] / n["rural", "hall"]), rel=1e-8)
        log_or = np.log(n["urban", j] * n["rural", "hall"] / (n["urban", "hall"] * n["rural", j]))
        assert slope["B"] == pytest.approx(log_or, rel=1e-8)
        woolf = np.sqrt(1 / n["urban", j] + 1 / n["rural", "hall"] + 1 / n["urban", "hall"] + 1 / n["rural", j])
        assert slope["SE"] == pytest.approx(woolf, rel=1e-6)


def test_likelihood_ratio_of_a_saturated_model_is_the_g_statistic_of_the_table():
    """The LR test of residence equals the likelihood-ratio (G) chi-square of the 2 x 3 table."""
    result = survey.multinomial(TABLE, "channel", ["residence"], reference="first")
    observed = pd.crosstab(TABLE.residence, TABLE.channel).to_numpy()
    g = stats.chi2_contingency(observed, correction=False, lambda_="log-likelihood")[0]
    lr = result.likelihood_ratio.loc["residence"]
    assert lr["chi2"] == pytest.approx(g, rel=1e-8) and lr["df"] == 2
    assert result.chi2 == pytest.approx(g, rel=1e-8)
    assert result.minus2ll_null == pytest.approx(-2 * sum(k * np.log(k / 180) for k in (80, 55, 45)), rel=1e-12)
    assert result.reference == "station"  # default: the last category in sorted order


def test_continuous_predictors_match_statsmodels_mnlogit():
    rng = np.random.default_rng(12)
    n = 300
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    eta = np.column_stack([np.zeros(n), 0.5 + 1.0 * x1 - 0.5 * x2, -0.3 + 0.2 * x1 + 0.8 * x2])
    prob = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=p) for p in prob])
    frame = pd.DataFrame({"y": y, "x1": x1, "x2": x2})
    result = survey.multinomial(frame, "y", ["x1", "x2"], reference_category=0)
    reference = sm.MNLogit(y, sm.add_constant(frame[["x1", "x2"]])).fit(disp=False)
    for j, category in enumerate([1, 2]):
        ours = result.coefficients.loc[category]
        assert ours["B"].to_numpy() == pytest.approx(reference.params.iloc[:, j].to_numpy(), rel=1e-6)
        assert ours["SE"].to_numpy() == pytest.approx(reference.bse.iloc[:, j].to_numpy(), rel=1e-5)
    assert result.minus2ll == pytest.approx(-2 * reference.llf, rel=1e-10)
    assert result.mcfadden_r2 == pytest.approx(reference.prsquared, rel=1e-8)
    reduced = sm.MNLogit(y, sm.add_constant(frame[["x1"]])).fit(disp=False)
    assert result.likelihood_ratio.loc["x2", "chi2"] == pytest.approx(2 * (reference.llf - reduced.llf), rel=1e-6)


def test_bad_input_is_named():
    with pytest.raises(SurveyAnalysisError, match="'age'"):
        survey.multinomial(TABLE, "channel", ["age"])
    with pytest.raises(SurveyAnalysisError, match="use logistic"):
        survey.multinomial(TABLE[TABLE.channel != "hall"], "channel", ["residence"])
    with pytest.raises(SurveyAnalysisError, match="reference category 'bus'"):
        survey.multinomial(TABLE, "channel", ["residence"], reference_category="bus")
