"""CFA against lavaan's published output on the Holzinger & Swineford (1939) three-factor model.

Reference: the lavaan tutorial (https://lavaan.ugent.be/tutorial/cfa.html), output of
`fit <- cfa(HS.model, data = HolzingerSwineford1939); summary(fit, fit.measures = TRUE)` and
`fitMeasures(fit)`. The data (301 pupils) ship with semopy (semopy.examples.holzinger39).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import survey
from survey.confirmatory import HeywoodWarning, parse_model
from survey.errors import SurveyAnalysisError, SurveyAnalysisWarning

HS_MODEL = """
# the classic three-factor model
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""


@pytest.fixture(scope="module")
def hs():
    holzinger39 = pytest.importorskip("semopy.examples.holzinger39", reason="semopy ships the data ([test] extra)")
    data = holzinger39.get_data()
    # the same data as lavaan's HolzingerSwineford1939: 301 rows, x1 mean 4.936 (lavaan's sample stats)
    assert len(data) == 301 and round(data["x1"].mean(), 3) == 4.936
    return data


@pytest.fixture(scope="module")
def fit(hs):
    return survey.cfa(HS_MODEL, hs)


def test_fit_measures_equal_lavaan(fit):
    """lavaan: chi2 85.306, df 24; baseline 918.852 on 36 df; CFI 0.931, TLI 0.896;
    logl -3737.745 (H1 -3695.092); AIC 7517.490, BIC 7595.339; RMSEA 0.092 [0.071, 0.114],
    p(RMSEA <= .05) 0.001; SRMR 0.065; fitMeasures: gfi 0.943, agfi 0.894, nfi 0.907, ifi 0.931."""
    expected = {"chi2": 85.306, "df": 24, "baseline_chi2": 918.852, "baseline_df": 36, "cfi": 0.931,
                "tli": 0.896, "logl": -3737.745, "unrestricted_logl": -3695.092, "aic": 7517.490,
                "bic": 7595.339, "rmsea": 0.092, "rmsea_ci_lower": 0.071, "rmsea_ci_upper": 0.114,
                "rmsea_pvalue": 0.001, "srmr": 0.065, "gfi": 0.943, "agfi": 0.894, "nfi": 0.907, "ifi": 0.931}
    for key, value in expected.items():
        assert round(fit.fit[key], 3) == pytest.approx(value, abs=1e-9), key
    assert fit.chi2 == fit.fit["chi2"] and fit.cfi == fit.fit["cfi"]  # figures by the names papers use
    assert fit.converged


def test_estimates_and_standard_errors_equal_lavaan(fit):
    """lavaan's Latent Variables / Covariances / Variances blocks (estimate, std.err)."""
    est = fit.estimates.set_index(["lhs", "op", "rhs"])
    expected = {("visual", "=~", "x2"): (0.554, 0.100), ("visual", "=~", "x3"): (0.729, 0.109),
                ("textual", "=~", "x5"): (1.113, 0.065), ("textual", "=~", "x6"): (0.926, 0.055),
                ("speed", "=~", "x8"): (1.180, 0.165), ("speed", "=~", "x9"): (1.082, 0.151),
                ("visual", "~~", "textual"): (0.408, 0.074), ("visual", "~~", "speed"): (0.262, 0.056),
                ("textual", "~~", "speed"): (0.173, 0.049), ("x1", "~~", "x1"): (0.549, 0.114),
                ("x2", "~~", "x2"): (1.134, 0.102), ("x9", "~~", "x9"): (0.566, 0.071),
                ("visual", "~~", "visual"): (0.809, 0.145), ("speed", "~~", "speed"): (0.384, 0.086)}
    for key, (value, se) in expected.items():
        assert round(est.loc[key, "est"], 3) == pytest.approx(value), key
        assert round(est.loc[key, "se"], 3) == pytest.approx(se), key
    assert est.loc[("visual", "=~", "x1"), "est"] == 1.0 and np.isnan(est.loc[("visual", "=~", "x1"), "se"])


def test_std_lv_gives_the_same_fit_and_standardized_loadings(fit, hs):
    other = survey.cfa(HS_MODEL, hs, std_lv=True)
    assert other.fit["chi2"] == pytest.approx(fit.fit["chi2"], rel=1e-6)
    pd.testing.assert_frame_equal(other.loadings, fit.loadings, atol=1e-5)
    # lavaan standardizedSolution: visual =~ x1 0.772, textual =~ x4 0.852, speed =~ x7 0.570
    assert fit.loadings.loc["x1", "visual"] == pytest.approx(0.772, abs=5e-4)
    assert fit.loadings.loc["x4", "textual"] == pytest.approx(0.852, abs=5e-4)


def test_reliability_and_discriminant_validity_follow_their_definitions(fit):
    """CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2)), AVE = mean(l^2) (Fornell & Larcker 1981);
    HTMT = mean heterotrait |r| / sqrt(product of mean monotrait |r|) (Henseler et al. 2015)."""
    lam = fit.loadings["textual"].dropna().to_numpy()
    table = fit.reliability()
    assert table.loc["textual", "CR"] == pytest.approx(lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum()))
    assert table.loc["textual", "AVE"] == pytest.approx(np.mean(lam**2))
    fl = fit.fornell_larcker()
    assert fl.loc["visual", "visual"] == pytest.approx(np.sqrt(table.loc["visual", "AVE"]))
    assert fl.loc["textual", "visual"] == pytest.approx(fit.factor_correlations.loc["textual", "visual"])
    s = fit.sample.to_numpy()
    corr = s / np.sqrt(np.outer(np.diag(s), np.diag(s)))
    mono_v = np.mean([corr[0, 1], corr[0, 2], corr[1, 2]])
    mono_t = np.mean([corr[3, 4], corr[3, 5], corr[4, 5]])
    hetero = np.abs(corr[3:6, 0:3]).mean()
    assert fit.htmt().loc["textual", "visual"] == pytest.approx(hetero / np.sqrt(mono_v * mono_t))


def test_model_syntax_and_bad_input(hs):
    parsed = parse_model("F =~ a + 1*b + NA*c; a ~~ b")
    assert parsed.indicators["F"] == [("a", None), ("b", 1.0), ("c", None)]
    assert parsed.covariances == [("a", "b")]
    with pytest.raises(SurveyAnalysisError, match=r"\['x10'\], which are not columns"):
        survey.cfa("visual =~ x1 + x2 + x10", hs)
    with pytest.raises(SurveyAnalysisError, match="cannot read"):
        survey.cfa("visual := x1 + x2", hs)
    with pytest.raises(SurveyAnalysisError, match="empty"):
        survey.cfa("  ", hs)
    with pytest.raises(SurveyAnalysisError, match="non-numeric"):
        survey.cfa(HS_MODEL, hs.assign(x1=["a"] * len(hs)))
    few = hs.head(8)
    with pytest.raises(SurveyAnalysisError, match="more respondents than items"):
        survey.cfa(HS_MODEL, few)


def test_an_improper_solution_is_flagged():
    """Three items with r12 = r13 = .8 and r23 = .4 imply a first loading of sqrt(.8 x .8 / .4) > 1,
    so the just-identified one-factor model needs a negative residual variance (Heywood case)."""
    target = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.4], [0.8, 0.4, 1.0]])
    z = np.random.default_rng(3).normal(size=(400, 3))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False, ddof=0))).T
    data = pd.DataFrame(z @ np.linalg.cholesky(target).T, columns=["a", "b", "c"])
    with pytest.warns(HeywoodWarning, match="a"):
        result = survey.cfa("F =~ a + b + c", data)
    assert result.estimates.set_index(["lhs", "op", "rhs"]).loc[("a", "~~", "a"), "est"] < 0


def test_an_unconverged_fit_is_named(hs):
    from survey.confirmatory import CFAConvergenceWarning

    with pytest.warns(CFAConvergenceWarning):
        result = survey.cfa(HS_MODEL, hs, max_iter=3)
    assert not result.converged


# --- robust estimation: sign of the marker, residual covariances, flags -------------------------


def reversed_items(data: pd.DataFrame, items: list[str]) -> pd.DataFrame:
    out = data.copy()
    for item in items:
        out[item] = -out[item]
    return out


def test_a_negatively_keyed_marker_gives_lavaans_fit_with_sign_flipped_loadings(fit, hs):
    """x' = -x for the marker x1 (and x4): the model is the same model, so chi2 must stay lavaan's
    85.306 on 24 df and the visual loadings / covariances change sign only (a property that must
    hold; the old start of +0.7 for every loading landed on a local solution here)."""
    other = survey.cfa(HS_MODEL, reversed_items(hs, ["x1", "x4"]))
    assert other.converged and not other.improper
    assert round(other.fit["chi2"], 3) == 85.306 and other.fit["df"] == 24
    for key in ("cfi", "tli", "rmsea", "srmr", "aic", "bic"):
        assert other.fit[key] == pytest.approx(fit.fit[key], abs=1e-6), key
    a = fit.estimates.set_index(["lhs", "op", "rhs"])["est"]
    b = other.estimates.set_index(["lhs", "op", "rhs"])["est"]
    for key in [("visual", "=~", "x2"), ("visual", "=~", "x3"), ("textual", "=~", "x5"),
                ("visual", "~~", "speed"), ("textual", "~~", "speed")]:
        assert b[key] == pytest.approx(-a[key], abs=1e-5), key
    assert b[("visual", "~~", "textual")] == pytest.approx(a[("visual", "~~", "textual")], abs=1e-5)  # both flipped
    assert b[("x1", "~~", "x1")] == pytest.approx(0.549, abs=5e-4)  # lavaan's residual variance


def test_a_reversed_non_marker_item_keeps_the_fit_and_cr_uses_absolute_loadings(fit, hs):
    """Reversing x2 (not the marker) flips its loading only; CR from absolute standardized loadings
    equals the unreversed CR (Fornell & Larcker's formula on |l|), and the warning names x2."""
    other = survey.cfa(HS_MODEL, reversed_items(hs, ["x2"]))
    assert round(other.fit["chi2"], 3) == 85.306
    assert other.loadings.loc["x2", "visual"] == pytest.approx(-0.424, abs=5e-4)  # lavaan std.all 0.424
    with pytest.warns(SurveyAnalysisWarning, match=r"x2 \(visual: -0\.424\)"):
        table = other.reliability()
    assert table.loc["visual", "CR"] == pytest.approx(fit.reliability().loc["visual", "CR"], abs=1e-6)
    assert table.loc["visual", "CR"] > 0.5


def test_modification_indices_equal_lavaans_tutorial():
    """lavaan tutorial "Modification indices" (lavaan.ugent.be/tutorial/modindices.html):
    modindices(fit, sort = TRUE, maximum.number = 5) and mi[mi$op == "=~", ] for the HS model."""
    holzinger39 = pytest.importorskip("semopy.examples.holzinger39", reason="semopy ships the data ([test] extra)")
    result = survey.cfa(HS_MODEL, holzinger39.get_data())
    mi = result.modindices().set_index(["lhs", "op", "rhs"])
    expected = {("visual", "=~", "x9"): (36.411, 0.577, 0.519, 0.515),
                ("x7", "~~", "x8"): (34.145, 0.536, 0.536, 0.859),
                ("visual", "=~", "x7"): (18.631, -0.422, -0.380, -0.349),
                ("x8", "~~", "x9"): (14.946, -0.423, -0.423, -0.805),
                ("textual", "=~", "x3"): (9.151, -0.272, -0.269, -0.238),
                ("visual", "=~", "x4"): (1.211, 0.077, 0.069, 0.059),
                ("visual", "=~", "x5"): (7.441, -0.210, -0.189, -0.147),
                ("visual", "=~", "x6"): (2.843, 0.111, 0.100, 0.092),
                ("visual", "=~", "x8"): (4.295, -0.210, -0.189, -0.187)}
    for key, values in expected.items():
        got = mi.loc[key, ["mi", "epc", "sepc.lv", "sepc.all"]].to_numpy(float)
        np.testing.assert_allclose(np.round(got, 3), values, atol=1e-9, err_msg=str(key))
    assert list(mi.index[:5]) == [("visual", "=~", "x9"), ("x7", "~~", "x8"), ("visual", "=~", "x7"),
                                  ("x8", "~~", "x9"), ("textual", "=~", "x3")]
    assert ("visual", "=~", "x1") not in mi.index  # the fixed marker is not a candidate


def test_freeing_the_largest_modification_index_lowers_chi2_by_about_its_mi(hs):
    """Adding the largest modification index (x7 ~~ x8) must lower chi2 by about its MI, 34.145
    (score test ~ likelihood ratio), and the new estimate's sign must match the EPC (+0.536)."""
    freed = survey.cfa(HS_MODEL + "\nx7 ~~ x8", hs)
    assert freed.converged and freed.fit["df"] == 23
    drop = 85.306 - freed.fit["chi2"]
    assert 25 < drop < 45
    est = freed.estimates.set_index(["lhs", "op", "rhs"]).loc[("x7", "~~", "x8"), "est"]
    assert est > 0


def test_every_table_is_flagged_when_the_fit_did_not_converge(hs):
    from survey.confirmatory import CFAConvergenceWarning

    with pytest.warns(CFAConvergenceWarning, match="not converge"):
        result = survey.cfa(HS_MODEL, hs, max_iter=1)
    assert not result.converged
    assert set(result.estimates["flag"]) == {"not converged"}
    assert set(result.fit_table()["flag"]) == {"not converged"}
    assert set(result.reliability()["flag"]) == {"not converged"}
    assert result.summary().startswith("WARNING: not converged")


def test_an_improper_solution_is_flagged_on_its_row():
    target = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.4], [0.8, 0.4, 1.0]])
    z = np.random.default_rng(3).normal(size=(400, 3))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False, ddof=0))).T
    data = pd.DataFrame(z @ np.linalg.cholesky(target).T, columns=["a", "b", "c"])
    with pytest.warns(HeywoodWarning, match="negative variance of a"):
        result = survey.cfa("F =~ a + b + c", data)
    est = result.estimates.set_index(["lhs", "op", "rhs"])
    assert est.loc[("a", "~~", "a"), "flag"] == "Heywood" and est.loc[("b", "~~", "b"), "flag"] == ""
    assert result.improper and set(result.fit_table()["flag"]) == {"improper solution"}
    # just identified: the Heywood solution reproduces the data exactly (chi2 = 0)
    assert result.fit["chi2"] == pytest.approx(0.0, abs=1e-6)


def test_infinite_values_are_refused_by_column(hs):
    bad = hs.copy()
    bad.loc[bad.index[3], "x5"] = np.inf
    with pytest.raises(SurveyAnalysisError, match="'x5' holds infinite values"):
        survey.cfa(HS_MODEL, bad)


def test_bounds_hold_an_improper_variance_at_zero():
    """With bounds the Heywood variance sits at 0 and the other parameters re-adjust; a bounded
    solution cannot fit better than the unbounded one (chi2 = 0 there), and it stays flagged."""
    target = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.4], [0.8, 0.4, 1.0]])
    z = np.random.default_rng(3).normal(size=(400, 3))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False, ddof=0))).T
    data = pd.DataFrame(z @ np.linalg.cholesky(target).T, columns=["a", "b", "c"])
    with pytest.warns(HeywoodWarning, match="held at the bound 0"):
        result = survey.cfa("F =~ a + b + c", data, bounds=True)
    est = result.estimates.set_index(["lhs", "op", "rhs"])
    assert est.loc[("a", "~~", "a"), "est"] == pytest.approx(0.0, abs=1e-8)
    assert est.loc[("a", "~~", "a"), "flag"] == "at bound"
    assert (est.loc[[("b", "~~", "b"), ("c", "~~", "c")], "est"] > 0).all()
    assert result.fit["chi2"] > 0 and result.converged and result.improper
