"""Mediation and moderation checked by the identities they must satisfy and against statsmodels OLS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from survey.errors import SurveyAnalysisError
from survey.mediation_moderation import mediation, moderation


@pytest.fixture(scope="module")
def mediated() -> pd.DataFrame:
    rng = np.random.default_rng(2024)
    n = 300
    age = rng.normal(40, 12, n)
    x = rng.normal(0, 1, n)
    m = 0.5 * x + 0.01 * age + rng.normal(0, 1, n)
    y = 0.4 * m + 0.2 * x + rng.normal(0, 1, n)
    return pd.DataFrame({"x": x, "m": m, "y": y, "age": age})


def test_indirect_equals_total_minus_direct(mediated):
    # Identity of OLS path models on the same cases: c = c' + a b (MacKinnon et al. 1995).
    result = mediation(mediated, "x", "m", "y", n_boot=200, seed=1)
    assert result.indirect == pytest.approx(result.c - result.c_prime, abs=1e-12)
    with_covariate = mediation(mediated, "x", "m", "y", covariates=["age"], n_boot=200, seed=1)
    assert with_covariate.indirect == pytest.approx(with_covariate.c - with_covariate.c_prime, abs=1e-12)


def test_paths_match_statsmodels_formulas(mediated):
    result = mediation(mediated, "x", "m", "y", covariates=["age"], n_boot=200, seed=1)
    a = smf.ols("m ~ x + age", mediated).fit()
    b = smf.ols("y ~ x + m + age", mediated).fit()
    c = smf.ols("y ~ x + age", mediated).fit()
    assert result.paths.loc["a", "estimate"] == pytest.approx(a.params["x"])
    assert result.paths.loc["a", "SE"] == pytest.approx(a.bse["x"])
    assert result.paths.loc["b", "p"] == pytest.approx(b.pvalues["m"])
    assert result.paths.loc["c'", "estimate"] == pytest.approx(b.params["x"])
    assert result.paths.loc["c", "estimate"] == pytest.approx(c.params["x"])


def test_sobel_follows_its_formula(mediated):
    # Sobel (1982): z = a b / sqrt(b^2 SE_a^2 + a^2 SE_b^2).
    result = mediation(mediated, "x", "m", "y", n_boot=200, seed=1)
    se_a, se_b = result.paths.loc["a", "SE"], result.paths.loc["b", "SE"]
    z = result.a * result.b / np.sqrt(result.b**2 * se_a**2 + result.a**2 * se_b**2)
    assert result.sobel_z == pytest.approx(z)


def test_bootstrap_ci_brackets_estimate_and_is_reproducible(mediated):
    first = mediation(mediated, "x", "m", "y", n_boot=1000, seed=42)
    again = mediation(mediated, "x", "m", "y", n_boot=1000, seed=42)
    other = mediation(mediated, "x", "m", "y", n_boot=1000, seed=43)
    assert first.boot_ci[0] < first.indirect < first.boot_ci[1]
    assert first.boot_ci == again.boot_ci
    assert first.boot_ci != other.boot_ci
    # With a sizeable true effect (0.5 * 0.4) the 95% interval excludes zero.
    assert first.boot_ci[0] > 0
    generator = mediation(mediated, "x", "m", "y", n_boot=1000, seed=np.random.default_rng(42))
    assert generator.boot_ci == first.boot_ci


def test_mediation_bad_input(mediated):
    with pytest.raises(SurveyAnalysisError, match="different columns"):
        mediation(mediated, "x", "x", "y")
    with pytest.raises(SurveyAnalysisError, match="same value"):
        mediation(mediated.assign(k=1.0), "x", "k", "y", n_boot=100)
    with pytest.raises(SurveyAnalysisError, match="nope"):
        mediation(mediated, "x", "m", "nope")


@pytest.fixture(scope="module")
def moderated() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 400
    x, w = rng.normal(3, 1, n), rng.normal(2, 0.8, n)
    return pd.DataFrame({"x": x, "w": w, "y": 0.3 * x + 0.2 * w + 0.25 * x * w + rng.normal(0, 1, n)})


def test_simple_slopes_equal_refits_with_recentred_moderator(moderated):
    # Identity (Aiken & West 1991): re-centring w at w0 makes the coefficient of x the simple
    # slope at w0, with the same SE and t.
    result = moderation(moderated, "x", "w", "y", probe="sd")
    for _label, row in result.simple_slopes.iterrows():
        shifted = moderated.assign(w0=moderated["w"] - row["w"])
        refit = smf.ols("y ~ x * w0", shifted).fit()
        assert row["effect"] == pytest.approx(refit.params["x"])
        assert row["SE"] == pytest.approx(refit.bse["x"])
        assert row["p"] == pytest.approx(refit.pvalues["x"])
    mean, sd = moderated["w"].mean(), moderated["w"].std()
    assert result.simple_slopes["w"].tolist() == pytest.approx([mean - sd, mean, mean + sd])


def test_moderation_probes_at_the_16th_50th_84th_percentiles_by_default():
    # PROCESS 3+ default. For w = 1, 2, ..., 101 the type-7 quantile at probability q is
    # 1 + 100 q exactly: 17, 51 and 85.
    rng = np.random.default_rng(11)
    w = np.arange(1.0, 102.0)
    x = rng.normal(size=w.size)
    frame = pd.DataFrame({"x": x, "w": w, "y": x + 0.01 * x * w + rng.normal(size=w.size)})
    result = moderation(frame, "x", "w", "y")
    assert list(result.simple_slopes.index) == ["P16", "P50", "P84"]
    assert result.simple_slopes["w"].tolist() == [17.0, 51.0, 85.0]
    with pytest.raises(SurveyAnalysisError, match="probe"):
        moderation(frame, "x", "w", "y", probe="mean")


def test_centering_leaves_the_interaction_unchanged(moderated):
    raw, centred = moderation(moderated, "x", "w", "y"), moderation(moderated, "x", "w", "y", center=True)
    assert centred.interaction == pytest.approx(raw.interaction)
    assert centred.interaction_p == pytest.approx(raw.interaction_p)
    assert centred.r2 == pytest.approx(raw.r2)
    assert centred.simple_slopes["effect"].to_numpy() == pytest.approx(raw.simple_slopes["effect"].to_numpy())


def test_interaction_r2_change_is_the_squared_t(moderated):
    # With one added term, F_change = t^2 of that term.
    result = moderation(moderated, "x", "w", "y")
    assert result.F_change == pytest.approx(result.coefficients.loc["x:w", "t"] ** 2)
    assert result.p_change == pytest.approx(result.interaction_p)


def test_dichotomous_moderator_is_probed_at_its_two_values(moderated):
    data = moderated.assign(group=(moderated["w"] > 2).astype(int))
    result = moderation(data, "x", "group", "y")
    assert result.simple_slopes["w"].tolist() == [0.0, 1.0]
    assert "group" not in moderated.columns


def test_summaries_render(mediated, moderated):
    assert "indirect" in mediation(mediated, "x", "m", "y", n_boot=100, seed=0).summary()
    assert "P84" in moderation(moderated, "x", "w", "y").summary()
    assert "M + 1SD" in moderation(moderated, "x", "w", "y", probe="sd").summary()
