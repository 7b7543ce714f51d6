"""PROCESS models 4 (parallel), 6 (serial), 7 and 14: point estimates against closed-form OLS
identities and refits, bootstrap CIs seeded and reproducible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from survey import SurveyData
from survey.errors import SurveyAnalysisError
from survey.process_models import moderated_mediation, parallel_mediation, serial_mediation


def _data(seed: int = 11, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    w = rng.normal(loc=3, size=n)
    age = rng.normal(size=n)
    m1 = 0.5 * x + 0.3 * x * (w - 3) + rng.normal(size=n)
    m2 = 0.4 * x + 0.5 * m1 + rng.normal(size=n)
    y = 0.2 * x + 0.4 * m1 + 0.3 * m2 + 0.25 * m1 * (w - 3) + 0.1 * age + rng.normal(size=n)
    return pd.DataFrame({"x": x, "m1": m1, "m2": m2, "w": w, "y": y, "age": age})


def _ols(data, formula):
    return smf.ols(formula, data).fit().params


def test_parallel_mediation_effects_are_ols_path_products():
    data = _data()
    res = parallel_mediation(data, "x", ["m1", "m2"], "y", covariates=["age"], n_boot=200, seed=1)
    a1, a2 = _ols(data, "m1 ~ x + age")["x"], _ols(data, "m2 ~ x + age")["x"]
    out = _ols(data, "y ~ x + m1 + m2 + age")
    total = _ols(data, "y ~ x + age")["x"]
    eff = res.effects["estimate"]
    assert eff["indirect x -> m1 -> y"] == pytest.approx(a1 * out["m1"], rel=1e-10)
    assert eff["indirect x -> m2 -> y"] == pytest.approx(a2 * out["m2"], rel=1e-10)
    assert eff["direct"] == pytest.approx(out["x"], rel=1e-10)
    # OLS identity on the same cases: c = c' + sum a_j b_j
    assert eff["total"] == pytest.approx(total, rel=1e-10)
    assert eff["total"] == pytest.approx(eff["direct"] + eff["total indirect"], rel=1e-10)
    assert res.paths.loc[("m1", "x"), "estimate"] == pytest.approx(a1, rel=1e-10)


def test_serial_mediation_decomposes_the_total_effect():
    """Model 6, two mediators: c = c' + a1 b1 + a2 b2 + a1 d21 b2 (Hayes 2022, ch. 5)."""
    data = _data(12)
    res = serial_mediation(SurveyData(data), "x", ["m1", "m2"], "y", n_boot=200, seed=2)
    a1 = _ols(data, "m1 ~ x")["x"]
    eq2 = _ols(data, "m2 ~ x + m1")
    out = _ols(data, "y ~ x + m1 + m2")
    eff = res.effects["estimate"]
    assert eff["indirect x -> m1 -> y"] == pytest.approx(a1 * out["m1"], rel=1e-10)
    assert eff["indirect x -> m2 -> y"] == pytest.approx(eq2["x"] * out["m2"], rel=1e-10)
    assert eff["indirect x -> m1 -> m2 -> y"] == pytest.approx(a1 * eq2["m1"] * out["m2"], rel=1e-10)
    assert eff["total"] == pytest.approx(_ols(data, "y ~ x")["x"], rel=1e-10)
    assert eff["total"] == pytest.approx(eff["direct"] + eff["total indirect"], rel=1e-10)
    assert res.model == 6


def test_model_7_conditional_indirect_effects_match_refits_at_each_probe():
    """With w re-centred at w0, the x coefficient in m's equation is a1 + a3 w0 (closed form)."""
    data = _data(13)
    res = moderated_mediation(data, "x", "m1", "y", "w", model=7, n_boot=300, seed=3)
    b = _ols(data, "y ~ x + m1")["m1"]
    coef = _ols(data, "m1 ~ x * w")
    probes = np.percentile(data["w"], [16, 50, 84])
    rows = [name for name in res.effects.index if name.startswith("indirect at")]
    assert len(rows) == 3
    for name, w0 in zip(rows, probes, strict=True):
        refit = _ols(data.assign(wc=data["w"] - w0), "m1 ~ x * wc")["x"]
        assert res.effects.loc[name, "estimate"] == pytest.approx(refit * b, rel=1e-9)
    assert res.effects.loc["index of moderated mediation", "estimate"] == pytest.approx(coef["x:w"] * b, rel=1e-10)
    low, high = res.effects.loc["index of moderated mediation", ["boot_CI_low", "boot_CI_high"]]
    assert low > 0  # data generated with a3 b = 0.3 * 0.4 > 0


def test_model_14_conditional_indirect_effects_match_refits_at_each_probe():
    data = _data(14)
    res = moderated_mediation(data, "x", "m1", "y", "w", model=14, probes=[2.0, 3.0, 4.0], covariates=["age"],
                              n_boot=300, seed=4)
    a = _ols(data, "m1 ~ x + age")["x"]
    for w0 in (2.0, 3.0, 4.0):
        refit = _ols(data.assign(wc=data["w"] - w0), "y ~ x + m1 * wc + age")["m1"]
        assert res.effects.loc[f"indirect at w = {w0:.4g}", "estimate"] == pytest.approx(a * refit, rel=1e-9)
    b3 = _ols(data, "y ~ x + m1 * w + age")["m1:w"]
    assert res.effects.loc["index of moderated mediation", "estimate"] == pytest.approx(a * b3, rel=1e-10)


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    data = _data(15)
    first = moderated_mediation(data, "x", "m1", "y", "w", n_boot=200, seed=9)
    again = moderated_mediation(data, "x", "m1", "y", "w", n_boot=200, seed=9)
    other = moderated_mediation(data, "x", "m1", "y", "w", n_boot=200, seed=10)
    pd.testing.assert_frame_equal(first.effects, again.effects)
    assert not first.effects["boot_CI_low"].equals(other.effects["boot_CI_low"])
    inside = (first.effects["boot_CI_low"] <= first.effects["estimate"]) & (
        first.effects["estimate"] <= first.effects["boot_CI_high"])
    assert inside.all()
    assert "PROCESS model 7" in first.summary()


def test_dichotomous_moderator_is_probed_at_both_values():
    data = _data(16).assign(w=lambda d: (d["w"] > 3).astype(float))
    res = moderated_mediation(data, "x", "m1", "y", "w", n_boot=100, seed=1)
    assert [n for n in res.effects.index if n.startswith("indirect at")] == ["indirect at w = 0", "indirect at w = 1"]


def test_bad_input_is_named():
    data = _data(17)
    with pytest.raises(SurveyAnalysisError, match="model must be 7 or 14"):
        moderated_mediation(data, "x", "m1", "y", "w", model=8)
    with pytest.raises(SurveyAnalysisError, match="'nope'"):
        parallel_mediation(data, "x", ["m1", "nope"], "y", n_boot=100)
    with pytest.raises(SurveyAnalysisError, match="at least 2 mediators"):
        serial_mediation(data, "x", ["m1"], "y", n_boot=100)
    bad = data.copy()
    bad.loc[0, "m2"] = np.inf
    with pytest.raises(SurveyAnalysisError, match="'m2'.*infinite"):
        parallel_mediation(bad, "x", ["m1", "m2"], "y", n_boot=100)
