"""Harman's single-factor test checked against R psych's eigenvalues (closed form lambda_1 / p)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey import SurveyData
from survey.errors import SurveyAnalysisError
from survey.method_bias import harman_single_factor

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "r_psych_fa"
needs_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason=f"reference folder {REFERENCE} (R psych output) is absent"
)


def _psych_eigenvalues(test: str) -> np.ndarray:
    """Eigenvalues of the correlation matrix as psych::fa returns them (`evalues` file)."""
    path = REFERENCE / "expected" / test / f"evalues_uls_none_2_{test}.csv"
    return pd.read_csv(path)["x"].to_numpy()


@needs_reference
@pytest.mark.parametrize("test", ["test02", "test07"])
def test_first_component_share_is_psych_first_eigenvalue_over_p(test):
    data = pd.read_csv(REFERENCE / "data" / f"{test}.csv")
    expected = _psych_eigenvalues(test)
    res = harman_single_factor(data)
    assert res.k == len(expected) == data.shape[1]
    np.testing.assert_allclose(res.eigenvalues["eigenvalue"].to_numpy(), expected, rtol=1e-9)
    assert res.first_share == pytest.approx(expected[0] / len(expected), rel=1e-9)
    assert res.eigenvalues["cumulative_pct"].iloc[-1] == pytest.approx(100.0)
    assert res.n_above_one == int((expected > 1).sum())


@needs_reference
def test_saq_first_component_is_below_forty_percent_and_several_factors_emerge():
    data = pd.read_csv(REFERENCE / "data" / "test07.csv")
    res = harman_single_factor(data)
    # psych: first eigenvalue 7.29 of 23 items = 31.7%, four eigenvalues above 1
    assert 100 * res.first_share == pytest.approx(100 * 7.29004706361898 / 23, abs=1e-9)
    assert res.n_above_one == 4
    assert not res.bias_suspected
    assert "31.70%" in res.summary()
    assert harman_single_factor(data, threshold=0.30).bias_suspected


def test_paf_single_factor_matches_statsmodels_principal_axis():
    """Cross-check: statsmodels' iterated principal-axis factor on the same correlation matrix."""
    from statsmodels.multivariate.factor import Factor

    rng = np.random.default_rng(3)
    latent = rng.normal(size=(400, 1))
    data = pd.DataFrame(latent @ rng.uniform(0.4, 0.8, (1, 6)) + rng.normal(size=(400, 6)),
                        columns=[f"x{i}" for i in range(6)])
    res = harman_single_factor(data, method="paf")
    fit = Factor(corr=data.corr().to_numpy(), n_factor=1, method="pa", smc=True, nobs=400).fit(
        maxiter=100, tol=1e-10)
    assert res.first_share == pytest.approx(float((fit.loadings**2).sum()) / 6, rel=1e-4)


def test_one_dominant_factor_is_flagged_and_surveydata_is_accepted():
    rng = np.random.default_rng(5)
    latent = rng.normal(size=(300, 1))
    frame = pd.DataFrame(latent + 0.3 * rng.normal(size=(300, 8)), columns=[f"i{k}" for k in range(8)])
    res = harman_single_factor(SurveyData(frame))
    assert res.bias_suspected and res.n_above_one == 1 and res.first_share > 0.8
    assert res.to_frame()["bias_suspected"].item()


def test_bad_input_names_the_column():
    frame = pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [2.0, 1, 4, 3, 5], "c": [1.0, 3, 2, 5, np.inf]})
    with pytest.raises(SurveyAnalysisError, match="'c'.*infinite"):
        harman_single_factor(frame)
    with pytest.raises(SurveyAnalysisError, match="method"):
        harman_single_factor(frame, method="varimax")
    with pytest.raises(SurveyAnalysisError, match="'z'"):
        harman_single_factor(frame, items=["a", "b", "z"])
