"""Measurement invariance across schools on Holzinger & Swineford (1939), against lavaan/semTools.

References:
    lavaan tutorial "Multiple groups" (https://lavaan.ugent.be/tutorial/groups.html):
    `lavTestLRT(fit1, fit2, fit3)` for cfa(HS.model, group = "school") with group.equal = NULL,
    "loadings", c("intercepts", "loadings"): Chisq 115.85 (48 df), 124.04 (54), 164.10 (60);
    Chisq diff 8.192 (6 df, p = 0.2244) and 40.059 (6 df, p = 4.435e-07); AIC 7484.4, 7480.6,
    7508.6; BIC 7706.8, 7680.8, 7686.6.
    semTools `measurementInvariance(model = HS.model, data = HolzingerSwineford1939,
    group = "school")` (example in its documentation): fit.means 204.61 on 63 df, AIC 7543.1,
    BIC 7710.0, Chisq diff 40.502 (3 df); cfi 0.923, 0.921, 0.882, 0.840; rmsea 0.097, 0.093,
    0.107, 0.122; cfi.delta 0.002, 0.038, 0.042; rmsea.delta 0.004, 0.015, 0.015 (absolute).
"""

from __future__ import annotations

import numpy as np
import pytest

import survey
from survey.errors import SurveyAnalysisError

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def hs():
    holzinger39 = pytest.importorskip("semopy.examples.holzinger39", reason="semopy ships the data ([test] extra)")
    return holzinger39.get_data()


@pytest.fixture(scope="module")
def sequence(hs):
    return survey.measurement_invariance(HS_MODEL, hs, "school", levels=("configural", "metric", "scalar", "means"))


def test_chi_square_sequence_equals_lavaan(sequence):
    t = sequence.table.set_index("model")
    expected = {"configural": (115.85, 48, 7484.4, 7706.8), "metric": (124.04, 54, 7480.6, 7680.8),
                "scalar": (164.10, 60, 7508.6, 7686.6), "means": (204.61, 63, 7543.1, 7710.0)}
    for level, (chi2, df, aic, bic) in expected.items():
        assert round(t.loc[level, "chi2"], 2) == pytest.approx(chi2), level
        assert t.loc[level, "df"] == df
        assert round(t.loc[level, "aic"], 1) == pytest.approx(aic) and round(t.loc[level, "bic"], 1) == pytest.approx(bic)
    assert round(t.loc["metric", "delta_chi2"], 3) == 8.192 and t.loc["metric", "delta_df"] == 6
    assert round(t.loc["metric", "p_delta"], 4) == 0.2244
    assert round(t.loc["scalar", "delta_chi2"], 3) == 40.059
    assert t.loc["scalar", "p_delta"] == pytest.approx(4.435e-07, rel=1e-3)
    assert round(t.loc["means", "delta_chi2"], 3) == 40.502 and t.loc["means", "delta_df"] == 3
    assert t["converged"].all()
    assert sequence.fits["configural"].group_labels == ["Pasteur", "Grant-White"]  # lavaan's group order


def test_cfi_and_rmsea_changes_equal_semtools(sequence):
    t = sequence.table.set_index("model")
    np.testing.assert_allclose(t["cfi"].round(3), [0.923, 0.921, 0.882, 0.840])
    np.testing.assert_allclose(t["rmsea"].round(3), [0.097, 0.093, 0.107, 0.122])
    np.testing.assert_allclose(t["delta_cfi"].abs().round(3).iloc[1:], [0.002, 0.038, 0.042])
    np.testing.assert_allclose(t["delta_rmsea"].abs().round(3).iloc[1:], [0.004, 0.015, 0.015])
    assert (t["delta_cfi"].iloc[1:] < 0).all()  # signed: current minus previous, fit worsens


def test_strict_invariance_adds_equal_residual_variances(hs):
    """Strict: nine residual variances equal across the two schools, so 9 more df than scalar;
    chi2 can only grow (nested models). (No published lavaan figure for the strict model of this
    example could be verified, so its chi2 is checked by these properties only.)"""
    result = survey.measurement_invariance(HS_MODEL, hs, "school")
    t = result.table.set_index("model")
    assert t.loc["strict", "df"] - t.loc["scalar", "df"] == 9
    assert t.loc["strict", "df"] == 69
    assert t.loc["strict", "chi2"] > t.loc["scalar", "chi2"]
    est = result.fits["strict"].estimates
    rv = est[(est["op"] == "~~") & (est["lhs"] == "x3") & (est["rhs"] == "x3")]
    assert rv["est"].nunique() == 1 and len(rv) == 2


def test_identification_by_unit_variance_gives_the_same_fits(hs, sequence):
    other = survey.measurement_invariance(HS_MODEL, hs, "school", levels=("configural", "metric", "scalar", "means"),
                                          std_lv=True)
    np.testing.assert_allclose(other.table["chi2"], sequence.table["chi2"], rtol=1e-6)


def test_bad_requests_are_refused(hs):
    with pytest.raises(SurveyAnalysisError, match="levels"):
        survey.measurement_invariance(HS_MODEL, hs, "school", levels=("weak",))
    with pytest.raises(SurveyAnalysisError, match="'schoolz' is not a column"):
        survey.measurement_invariance(HS_MODEL, hs, "schoolz")
    with pytest.raises(SurveyAnalysisError, match="fewer than two groups"):
        survey.measurement_invariance(HS_MODEL, hs.assign(one="a"), "one")
