"""SEM against lavaan's published output on Bollen's Political Democracy model.

References:
    lavaan tutorial "A SEM example" (https://lavaan.ugent.be/tutorial/sem.html): output of
    `fit <- sem(model, data = PoliticalDemocracy); summary(fit, standardized = TRUE)`, the model
    with residual covariances y1~~y5, y2~~y4+y6, y3~~y7, y4~~y8, y6~~y8 (also in Rosseel 2012,
    J Stat Softw 48(2), section 5: chi2 = 38.125, df = 35, p = 0.329).
    lavaan tutorial "Parameter labels and equality constraints" / Rosseel (2012): the same model
    with equal loadings a, b, c in 1960 and 1965, chi2 = 40.179 on 38 df.
The data (75 countries) ship with semopy (semopy.examples.political_democracy); only the data
are read from there, never semopy's estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyAnalysisError
from survey.lavaan_syntax import parse_syntax

PD_MODEL = """
# measurement model
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
# regressions
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
# residual correlations
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"""


@pytest.fixture(scope="module")
def political():
    module = pytest.importorskip("semopy.examples.political_democracy", reason="semopy ships the data ([test] extra)")
    data = module.get_data()
    assert len(data) == 75 and round(data["x1"].mean(), 3) == 5.054  # lavaan's PoliticalDemocracy
    return data


@pytest.fixture(scope="module")
def fit(political):
    return survey.sem(PD_MODEL, political)


def test_fit_equals_lavaan(fit):
    """lavaan: chi2 38.125, df 35, p 0.329; 31 free parameters."""
    assert round(fit.fit["chi2"], 3) == 38.125 and fit.fit["df"] == 35
    assert round(fit.fit["p"], 3) == 0.329 and fit.fit["npar"] == 31
    assert fit.converged and not fit.improper


def test_estimates_and_standard_errors_equal_lavaan(fit):
    """lavaan tutorial "A SEM example": Latent Variables, Regressions, Covariances, Variances."""
    est = fit.estimates.set_index(["lhs", "op", "rhs"])
    expected = {("ind60", "=~", "x2"): (2.180, 0.139), ("ind60", "=~", "x3"): (1.819, 0.152),
                ("dem60", "=~", "y2"): (1.257, 0.182), ("dem60", "=~", "y3"): (1.058, 0.151),
                ("dem60", "=~", "y4"): (1.265, 0.145), ("dem65", "=~", "y6"): (1.186, 0.169),
                ("dem65", "=~", "y7"): (1.280, 0.160), ("dem65", "=~", "y8"): (1.266, 0.158),
                ("dem60", "~", "ind60"): (1.483, 0.399), ("dem65", "~", "ind60"): (0.572, 0.221),
                ("dem65", "~", "dem60"): (0.837, 0.098),
                ("y1", "~~", "y5"): (0.624, 0.358), ("y2", "~~", "y4"): (1.313, 0.702),
                ("y2", "~~", "y6"): (2.153, 0.734), ("y3", "~~", "y7"): (0.795, 0.608),
                ("y4", "~~", "y8"): (0.348, 0.442), ("y6", "~~", "y8"): (1.356, 0.568),
                ("x1", "~~", "x1"): (0.082, 0.019), ("x2", "~~", "x2"): (0.120, 0.070),
                ("x3", "~~", "x3"): (0.467, 0.090), ("y1", "~~", "y1"): (1.891, 0.444),
                ("y2", "~~", "y2"): (7.373, 1.374), ("y3", "~~", "y3"): (5.067, 0.952),
                ("y4", "~~", "y4"): (3.148, 0.739), ("y5", "~~", "y5"): (2.351, 0.480),
                ("y6", "~~", "y6"): (4.954, 0.914), ("y7", "~~", "y7"): (3.431, 0.713),
                ("y8", "~~", "y8"): (3.254, 0.695), ("ind60", "~~", "ind60"): (0.448, 0.087),
                ("dem60", "~~", "dem60"): (3.956, 0.921), ("dem65", "~~", "dem65"): (0.172, 0.215)}
    for key, (value, se) in expected.items():
        assert round(est.loc[key, "est"], 3) == pytest.approx(value, abs=1e-9), key
        assert round(est.loc[key, "se"], 3) == pytest.approx(se, abs=1e-9), key
    assert round(est.loc[("dem60", "~", "ind60"), "z"], 3) == 3.715  # lavaan z-value


def test_standardized_solutions_equal_lavaan(fit):
    """summary(fit, standardized = TRUE): Std.lv and Std.all columns (cov.std: residual
    covariances scaled by residual standard deviations)."""
    est = fit.estimates.set_index(["lhs", "op", "rhs"])
    std_all = {("ind60", "=~", "x1"): 0.920, ("ind60", "=~", "x2"): 0.973, ("ind60", "=~", "x3"): 0.872,
               ("dem60", "=~", "y1"): 0.850, ("dem60", "=~", "y2"): 0.717, ("dem60", "=~", "y4"): 0.846,
               ("dem65", "=~", "y7"): 0.824, ("dem60", "~", "ind60"): 0.447, ("dem65", "~", "ind60"): 0.182,
               ("dem65", "~", "dem60"): 0.885, ("y1", "~~", "y5"): 0.296, ("y2", "~~", "y6"): 0.356,
               ("y4", "~~", "y8"): 0.109, ("y6", "~~", "y8"): 0.338, ("x2", "~~", "x2"): 0.053,
               ("y2", "~~", "y2"): 0.486, ("dem60", "~~", "dem60"): 0.800, ("dem65", "~~", "dem65"): 0.039}
    std_lv = {("ind60", "=~", "x1"): 0.670, ("ind60", "=~", "x2"): 1.460, ("dem60", "=~", "y1"): 2.223,
              ("dem60", "=~", "y4"): 2.812, ("dem65", "=~", "y5"): 2.103, ("dem65", "=~", "y8"): 2.662,
              ("dem60", "~", "ind60"): 0.447, ("y2", "~~", "y6"): 2.153}
    for key, value in std_all.items():
        assert round(est.loc[key, "std_all"], 3) == pytest.approx(value, abs=1e-9), key
    for key, value in std_lv.items():
        assert round(est.loc[key, "std_lv"], 3) == pytest.approx(value, abs=1e-9), key


def test_r_squared_is_one_minus_lavaans_standardized_residual_variance(fit):
    """R² = 1 - Std.all of the residual variance, from lavaan's printed Std.all variances
    (x1 0.154, y1 0.277, y5 0.347, dem60 0.800, dem65 0.039)."""
    r2 = fit.r2().set_index("variable")["r2"]
    for name, std_residual in {"x1": 0.154, "y1": 0.277, "y5": 0.347, "dem60": 0.800, "dem65": 0.039}.items():
        assert r2[name] == pytest.approx(1 - std_residual, abs=6e-4), name
    assert "ind60" not in r2.index  # exogenous


def test_equality_labels_give_lavaans_constrained_model(political):
    """Rosseel (2012) / lavaan tutorial: loadings a, b, c equal in 1960 and 1965: chi2 = 40.179,
    df = 38; the likelihood-ratio test against the free model has 3 df."""
    equal = PD_MODEL.replace("y1 + y2 + y3 + y4", "y1 + a*y2 + b*y3 + c*y4").replace(
        "y5 + y6 + y7 + y8", "y5 + a*y6 + b*y7 + c*y8")
    result = survey.sem(equal, political)
    assert round(result.fit["chi2"], 3) == 40.179 and result.fit["df"] == 38
    est = result.estimates.set_index(["lhs", "op", "rhs"])["est"]
    assert est[("dem60", "=~", "y2")] == est[("dem65", "=~", "y6")]


def mediation_data(n: int = 500, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    m = 0.5 * x + rng.normal(size=n)
    y = 0.4 * m + 0.2 * x + rng.normal(size=n)
    return pd.DataFrame({"X": x, "M": m, "Y": y})


MEDIATION = """
M ~ a*X
Y ~ b*M + c*X
ab := a*b
total := c + a*b
"""


def test_observed_path_model_equals_ols_and_the_sobel_standard_error():
    """A saturated observed-variable mediation model: ML paths equal OLS coefficients, their
    SEs the OLS SEs with divisor n (ML), and the delta-method SE of a*b equals Sobel's (1982)
    first-order formula sqrt(b² se_a² + a² se_b²) — a and b are uncorrelated in this model."""
    data = mediation_data()
    result = survey.sem(MEDIATION, data)
    assert result.fit["df"] == 0 and result.fit["chi2"] == pytest.approx(0, abs=1e-8)
    n = len(data)

    def ols(y: np.ndarray, xs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        design = np.column_stack([np.ones(n), *xs])
        beta, *_ = np.linalg.lstsq(design, y, rcond=None)
        sigma2 = np.sum((y - design @ beta) ** 2) / n  # ML residual variance
        return beta[1:], np.sqrt(np.diag(sigma2 * np.linalg.inv(design.T @ design)))[1:]

    (a,), (se_a,) = ols(data["M"].to_numpy(), [data["X"].to_numpy()])
    (b, c), (se_b, se_c) = ols(data["Y"].to_numpy(), [data["M"].to_numpy(), data["X"].to_numpy()])
    est = result.estimates.set_index("label")
    assert est.loc["a", "est"] == pytest.approx(a, rel=1e-6) and est.loc["a", "se"] == pytest.approx(se_a, rel=1e-4)
    assert est.loc["b", "est"] == pytest.approx(b, rel=1e-6) and est.loc["b", "se"] == pytest.approx(se_b, rel=1e-4)
    assert est.loc["c", "se"] == pytest.approx(se_c, rel=1e-4)
    assert est.loc["ab", "est"] == pytest.approx(a * b, rel=1e-6)
    assert est.loc["ab", "se"] == pytest.approx(np.sqrt(b**2 * se_a**2 + a**2 * se_b**2), rel=1e-4)
    assert est.loc["total", "est"] == pytest.approx(c + a * b, rel=1e-6)
    r2 = result.r2().set_index("variable")["r2"]
    assert set(r2.index) == {"M", "Y"}


def test_bootstrap_intervals_are_reproducible_and_agree_with_the_delta_method():
    result = survey.sem(MEDIATION, mediation_data())
    boot = result.bootstrap(300, seed=5)
    again = result.bootstrap(300, seed=5)
    pd.testing.assert_frame_equal(boot, again)
    row = boot.set_index("lhs").loc["ab"]
    delta_se = result.estimates.set_index("label").loc["ab", "se"]
    assert row["ci_lower"] < row["est"] < row["ci_upper"]
    assert row["boot_se"] == pytest.approx(delta_se, rel=0.25)
    assert boot.attrs["n_boot"] == 300


def test_syntax_is_read_as_lavaan_reads_it():
    syntax = parse_syntax("F =~ NA*a + 0.5*b + lab*c\ny1 + y2 ~ x\ny ~ 1\nab := lab^2 * 2 # comment")
    ops = [(s.lhs, s.op, s.rhs) for s in syntax.statements]
    assert ops == [("F", "=~", "a"), ("F", "=~", "b"), ("F", "=~", "c"), ("y1", "~", "x"), ("y2", "~", "x"),
                   ("y", "~1", "")]
    assert syntax.statements[0].modifier(0).free and syntax.statements[1].modifier(0).fixed == 0.5
    assert syntax.statements[2].modifier(0).label == "lab"
    assert syntax.defined[0].function({"lab": 3.0}) == 18.0
    with pytest.raises(SurveyAnalysisError, match="only labels, numbers"):
        parse_syntax("F =~ a + b + c\nbad := __import__('os')")
    with pytest.raises(SurveyAnalysisError, match="not parameter labels"):
        survey.sem("M ~ X\nY ~ M\nab := a*b", mediation_data())


def test_unit_variance_identification_gives_the_same_model(fit, political):
    """std.lv = TRUE fixes the (residual) variances of ind60, dem60 and dem65 to 1: the same
    model re-parameterised, so lavaan's chi2 38.125 and the Std.all column are unchanged."""
    other = survey.sem(PD_MODEL, political, std_lv=True)
    assert round(other.fit["chi2"], 3) == 38.125 and other.fit["df"] == 35
    a = fit.estimates.set_index(["lhs", "op", "rhs"])["std_all"]
    b = other.estimates.set_index(["lhs", "op", "rhs"])["std_all"]
    np.testing.assert_allclose(b[a.index], a, atol=1e-5)
    assert other.estimates.set_index(["lhs", "op", "rhs"]).loc[("dem60", "~~", "dem60"), "est"] == 1.0


def test_groups_label_every_row_and_per_group_modifiers_apply():
    data = mediation_data(600)
    data["sex"] = np.where(np.arange(600) % 2 == 0, "男", "女")
    free = survey.sem("M ~ X\nY ~ M + X", data, group="sex")
    fixed = survey.sem("M ~ c(a1, a1)*X\nY ~ M + X", data, group="sex")
    assert set(free.estimates["group"]) == {"男", "女"} and free.fit["df"] == 0
    assert fixed.fit["df"] == 1  # one equality across groups
    paths = fixed.estimates[(fixed.estimates["lhs"] == "M") & (fixed.estimates["op"] == "~")]
    assert paths["est"].nunique() == 1
    assert "2 groups" in free.summary()


def test_survey_data_and_text_columns(political):
    from survey.codebook import Codebook, SurveyData

    result = survey.sem(PD_MODEL, SurveyData(political, Codebook(title="pd")))
    assert round(result.fit["chi2"], 3) == 38.125
    with pytest.raises(SurveyAnalysisError, match="'y3' holds non-numeric values"):
        survey.sem(PD_MODEL, political.assign(y3="很好"))


def test_every_table_of_an_unconverged_sem_is_flagged(political):
    from survey.structural import SEMConvergenceWarning

    with pytest.warns(SEMConvergenceWarning):
        result = survey.sem(PD_MODEL, political, max_iter=1)
    for table in (result.estimates, result.fit_table(), result.r2(), result.standardized(), result.modindices()):
        assert set(table["flag"]) == {"not converged"}
