"""Cronbach's alpha, Item-Total Statistics and McDonald's omega checked against psych and SPSS."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.codebook import Scale
from survey.factor import FactorAnalysisError
from survey.reliability import ReliabilityWarning, cronbach_alpha, item_total, omega

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
SAQ = REFERENCE / "r_psych_fa" / "data" / "test07.csv"


@pytest.fixture(scope="module")
def saq() -> pd.DataFrame:
    if not SAQ.exists():
        pytest.skip(f"reference folder with the SAQ data ({SAQ}) is absent")
    return pd.read_csv(SAQ)


def _pingouin_dataset(name: str) -> pd.DataFrame:
    spec = importlib.util.find_spec("pingouin")
    if spec is None or spec.origin is None:
        pytest.skip("pingouin (which ships the dataset with documented psych values) is not installed")
    return pd.read_csv(Path(spec.origin).parent / "datasets" / f"{name}.csv", encoding="utf-8-sig")


# ----------------------------------------------------------------------------- alpha vs R / SPSS


def test_alpha_matches_psych_on_saq_items(saq: pd.DataFrame) -> None:
    # JASP verification project, Reliability module (Field 2018, SAQ questions 1,4,5,6,7,8,10):
    # psych::alpha -> raw_alpha 0.7573813, std.alpha 0.757503, average_r 0.3085574; SPSS .758.
    result = cronbach_alpha(saq, ["q01", "q04", "q05", "q06", "q07", "q08", "q10"])
    assert result.alpha == pytest.approx(0.7573813, abs=1e-7)
    assert result.std_alpha == pytest.approx(0.757503, abs=1e-6)
    assert result.average_r == pytest.approx(0.3085574, abs=1e-7)
    assert (result.n, result.k, result.missing) == (2571, 7, "listwise")


@pytest.mark.parametrize(
    ("items", "reverse", "expected"),
    [
        # Field, Discovering Statistics Using SPSS (3rd ed.), SAQ subscale reliabilities:
        (["q06", "q07", "q10", "q13", "q14", "q15", "q18"], [], 0.823),  # fear of computers
        (["q01", "q03", "q04", "q05", "q12", "q16", "q20", "q21"], ["q03"], 0.821),  # fear of statistics
        (["q08", "q11", "q17"], [], 0.819),  # fear of mathematics
        (["q02", "q09", "q19", "q22", "q23"], [], 0.570),  # peer evaluation
    ],
)
def test_alpha_matches_field_saq_subscales(saq: pd.DataFrame, items, reverse, expected) -> None:
    result = cronbach_alpha(saq, items, reverse=reverse, low=1, high=5)
    assert result.alpha == pytest.approx(expected, abs=5e-4)


def test_reverse_keying_matters_and_accepts_a_codebook_scale(saq: pd.DataFrame) -> None:
    items = ["q01", "q03", "q04", "q05", "q12", "q16", "q20", "q21"]
    scale = Scale(name="stats_fear", items=items, reverse=["q03"], low=1, high=5)
    via_scale = cronbach_alpha(saq, scale)
    assert via_scale.alpha == pytest.approx(cronbach_alpha(saq, items, reverse=["q03"], low=1, high=5).alpha)
    assert via_scale.reversed == ["q03"]
    assert cronbach_alpha(saq, items).alpha < via_scale.alpha - 0.05  # Field: q03 must be reversed
    assert saq["q03"].equals(pd.read_csv(SAQ)["q03"])  # input untouched


def test_alpha_pairwise_and_ci_match_pingouin_psych_values() -> None:
    # pingouin.cronbach_alpha docstring, dataset cronbach_wide_missing, "In R: psych:alpha(data,
    # use='pairwise')": 0.732660835214447, 95% CI [0.435, 0.909] (Feldt).
    data = _pingouin_dataset("cronbach_wide_missing")
    result = cronbach_alpha(data, missing="pairwise")
    with pytest.warns(ReliabilityWarning, match="squared multiple"):
        assert result.item_total["Squared Multiple Correlation"].isna().all()
    assert result.alpha == pytest.approx(0.732660835214447, abs=1e-12)
    assert result.ci == pytest.approx((0.435, 0.909), abs=5e-4)
    assert result.missing == "pairwise"
    # Listwise leaves 9 complete respondents for 11 items: a clear error, not a number.
    with pytest.raises(FactorAnalysisError, match="at least 11 respondents"):
        cronbach_alpha(data, missing="listwise")


def test_alpha_ci_matches_pingouin_long_format_example() -> None:
    # pingouin.cronbach_alpha docstring, dataset cronbach_alpha: 0.5917188485995826, CI [0.195, 0.84].
    long = _pingouin_dataset("cronbach_alpha")
    wide = long.pivot(index="Subj", columns="Items", values="Scores")
    result = cronbach_alpha(wide)
    assert result.alpha == pytest.approx(0.5917188485995826, abs=1e-12)
    assert result.ci == pytest.approx((0.195, 0.840), abs=5e-4)


# ----------------------------------------------------------------------------- alpha properties


def _parallel_items(k: int, r: float, n: int = 4000, seed: int = 7) -> pd.DataFrame:
    """Items whose sample correlations are exactly r (equal variances)."""
    rng = np.random.default_rng(seed)
    target = np.full((k, k), r) + (1 - r) * np.eye(k)
    z = rng.standard_normal((n, k))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T @ np.linalg.cholesky(target).T
    return pd.DataFrame(z * 2 + 3, columns=[f"i{j}" for j in range(k)])


@pytest.mark.parametrize(("k", "r"), [(4, 0.3), (6, 0.5), (10, 0.2)])
def test_standardized_alpha_is_spearman_brown(k: int, r: float) -> None:
    # Property: k parallel items with correlation r have alpha = k r / (1 + (k - 1) r).
    result = cronbach_alpha(_parallel_items(k, r))
    expected = k * r / (1 + (k - 1) * r)
    assert result.std_alpha == pytest.approx(expected, abs=1e-10)
    assert result.alpha == pytest.approx(expected, abs=1e-10)  # equal variances: raw = standardized


def test_item_total_statistics_are_consistent(saq: pd.DataFrame) -> None:
    items = ["q06", "q07", "q10", "q13", "q14", "q15", "q18"]
    table = item_total(saq, items)
    total = saq[items].sum(axis=1)
    for item in items:
        rest = [i for i in items if i != item]
        row = table.loc[item]
        # alpha if item deleted = alpha of the reduced set
        assert row["Cronbach's Alpha if Item Deleted"] == pytest.approx(cronbach_alpha(saq, rest).alpha, abs=1e-12)
        # SPSS definitions from the rest score
        assert row["Scale Mean if Item Deleted"] == pytest.approx((total - saq[item]).mean())
        assert row["Scale Variance if Item Deleted"] == pytest.approx((total - saq[item]).var(ddof=1))
        assert row["Corrected Item-Total Correlation"] == pytest.approx(np.corrcoef(saq[item], total - saq[item])[0, 1])


def test_squared_multiple_correlation_is_ols_r_squared() -> None:
    import statsmodels.api as sm

    data = _parallel_items(5, 0.4, n=300)
    data["i2"] = data["i2"] + np.random.default_rng(1).standard_normal(300)
    table = item_total(data)
    fit = sm.OLS(data["i0"], sm.add_constant(data.drop(columns="i0"))).fit()
    assert table.loc["i0", "Squared Multiple Correlation"] == pytest.approx(fit.rsquared)


def test_alpha_errors_name_the_problem() -> None:
    data = _parallel_items(4, 0.4, n=50)
    with pytest.raises(FactorAnalysisError, match="'i1'.*constant"):
        cronbach_alpha(data.assign(i1=2.0))
    with pytest.raises(FactorAnalysisError, match="'i0' holds non-numeric"):
        cronbach_alpha(data.assign(i0=data["i0"].astype(object).where(data.index != 3, "x")))
    with pytest.raises(FactorAnalysisError, match="low= and high="):
        cronbach_alpha(data, reverse=["i0"])
    with pytest.raises(FactorAnalysisError, match="outside the response range"):
        cronbach_alpha(data, reverse=["i0"], low=1, high=5)
    with pytest.raises(FactorAnalysisError, match="not among the items"):
        cronbach_alpha(data, ["i0", "i1"], reverse=["i3"], low=1, high=5)


# ----------------------------------------------------------------------------- omega

THURSTONE_NAMES = ["Sentences", "Vocabulary", "Sent.Completion", "First.Letters", "Four.Letter.Words",
                   "Suffixes", "Letter.Series", "Pedigrees", "Letter.Group"]
# psych's Thurstone data set (Bechtoldt 1961 / McDonald 1999): nine ability tests, n = 213.
THURSTONE = np.array([
    [1.000, 0.828, 0.776, 0.439, 0.432, 0.447, 0.447, 0.541, 0.380],
    [0.828, 1.000, 0.779, 0.493, 0.464, 0.489, 0.432, 0.537, 0.358],
    [0.776, 0.779, 1.000, 0.460, 0.425, 0.443, 0.401, 0.534, 0.359],
    [0.439, 0.493, 0.460, 1.000, 0.674, 0.590, 0.381, 0.350, 0.424],
    [0.432, 0.464, 0.425, 0.674, 1.000, 0.541, 0.402, 0.367, 0.446],
    [0.447, 0.489, 0.443, 0.590, 0.541, 1.000, 0.288, 0.320, 0.325],
    [0.447, 0.432, 0.401, 0.381, 0.402, 0.288, 1.000, 0.555, 0.598],
    [0.541, 0.537, 0.534, 0.350, 0.367, 0.320, 0.555, 1.000, 0.452],
    [0.380, 0.358, 0.359, 0.424, 0.446, 0.325, 0.598, 0.452, 1.000],
])


@pytest.fixture(scope="module")
def thurstone() -> pd.DataFrame:
    """213 respondents whose sample correlation matrix is exactly Thurstone's."""
    rng = np.random.default_rng(2024)
    z = rng.standard_normal((213, 9))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T @ np.linalg.cholesky(THURSTONE).T
    return pd.DataFrame(z, columns=THURSTONE_NAMES)


def test_omega_hierarchical_matches_psych_thurstone(thurstone: pd.DataFrame) -> None:
    # psych overview vignette, omega(Thurstone, n.obs = 213): Alpha 0.89, Omega Hierarchical
    # 0.74, Omega H asymptotic 0.79, Omega Total 0.93; Schmid-Leiman g loadings
    # .71 .73 .68 .65 .62 .56 .59 .58 .54 (all printed to two decimals).
    np.testing.assert_allclose(np.corrcoef(thurstone.to_numpy(), rowvar=False), THURSTONE, atol=1e-12)
    result = omega(thurstone, n_factors=3, general=True)
    assert result.alpha == pytest.approx(0.89, abs=0.005)
    assert result.omega_hierarchical == pytest.approx(0.74, abs=0.005)
    assert result.omega_h_asymptotic == pytest.approx(0.79, abs=0.005)
    assert result.omega_total == pytest.approx(0.93, abs=0.005)
    np.testing.assert_allclose(result.loadings["g"], [.71, .73, .68, .65, .62, .56, .59, .58, .54], atol=0.005)
    # Property: Schmid-Leiman keeps the communalities of the factor solution (g^2 + sum F*^2 = h2).
    sl = result.loadings
    np.testing.assert_allclose(sl["g"] ** 2 + (sl.filter(like="*") ** 2).sum(axis=1), sl["h2"], atol=1e-6)


def test_one_factor_omega_total_definition(thurstone: pd.DataFrame) -> None:
    # Property (McDonald 1999; psych omegah): omega_t = (V_t - sum u2) / V_t with V_t = sum(R);
    # for a one-factor model it lies between alpha and 1 (alpha is a lower bound under congeneric items).
    result = omega(thurstone)
    u2 = 1 - result.loadings["g"] ** 2
    assert result.omega_total == pytest.approx((THURSTONE.sum() - u2.sum()) / THURSTONE.sum(), abs=1e-10)
    assert result.alpha <= result.omega_total < 1
    assert result.omega_hierarchical is None


def test_omega_of_parallel_items_equals_alpha() -> None:
    # Property: for parallel (tau-equivalent, equal error) items omega = alpha = Spearman-Brown.
    result = omega(_parallel_items(6, 0.35))
    assert result.omega_total == pytest.approx(6 * 0.35 / (1 + 5 * 0.35), abs=1e-6)


def test_omega_flips_negatively_keyed_items(thurstone: pd.DataFrame) -> None:
    flipped = thurstone.assign(Suffixes=-thurstone["Suffixes"])
    original = omega(thurstone, n_factors=3, general=True)
    result = omega(flipped, n_factors=3, general=True)
    assert result.flipped == ["Suffixes"]
    assert result.omega_hierarchical == pytest.approx(original.omega_hierarchical, abs=1e-6)


def test_omega_general_needs_three_factors(thurstone: pd.DataFrame) -> None:
    with pytest.raises(FactorAnalysisError, match="n_factors >= 3"):
        omega(thurstone, n_factors=2, general=True)


# --- guards ------------------------------------------------------------------------------------


def test_alpha_refuses_ranking_items_whose_totals_are_constant() -> None:
    """Ipsative data: each respondent ranks four options 1..4, so every row sums to 10, the
    total-score variance is 0 and alpha = k/(k-1)(1 - sum s_i²/0) is undefined (it used to
    print about 7e14 with an inverted interval)."""
    rng = np.random.default_rng(4)
    ranks = np.array([rng.permutation(4) + 1 for _ in range(200)])
    data = pd.DataFrame(ranks, columns=["r1", "r2", "r3", "r4"])
    with pytest.raises(FactorAnalysisError, match="ipsative"):
        cronbach_alpha(data)
    with pytest.raises(FactorAnalysisError, match="constant row totals"):
        item_total(data)


def test_pairwise_alpha_above_one_comes_with_a_warning() -> None:
    """Three items answered in pairs, each pair strongly negatively related: the pairwise
    covariance matrix is not positive semi-definite, sum(C) < 0 and alpha > 1, which no proper
    covariance matrix can give — it must not pass silently."""
    rng = np.random.default_rng(8)
    rows = []
    for first, second in (("a", "b"), ("b", "c"), ("a", "c")):
        x = rng.normal(size=60)
        for value, noise in zip(x, rng.normal(scale=0.1, size=60), strict=True):
            rows.append({first: value, second: -value + noise})
    data = pd.DataFrame(rows, columns=["a", "b", "c"])
    with pytest.warns(ReliabilityWarning, match="exceeds 1.*positive semi-definite"):
        result = cronbach_alpha(data, missing="pairwise")
    assert result.alpha > 1


def test_infinite_values_are_refused_with_the_column_named() -> None:
    data = pd.DataFrame({"q1": [1.0, 2, 3, 4, 5, 2], "q2": [2.0, 3, np.inf, 4, 5, 1], "q3": [1.0, 2, 2, 4, 5, 3]})
    with pytest.raises(FactorAnalysisError, match="'q2' holds infinite values"):
        cronbach_alpha(data)
