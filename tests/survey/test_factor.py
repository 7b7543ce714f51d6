"""EFA, KMO, Bartlett and parallel analysis checked against R psych output and SPSS (Field's SAQ)."""

from __future__ import annotations

import itertools
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.factor import FactorAnalysisError, bartlett, efa, kmo, parallel_analysis
from survey.rotation import rotate

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
FA_DIR = REFERENCE / "r_psych_fa"
needs_reference = pytest.mark.skipif(
    not FA_DIR.is_dir(), reason=f"reference folder {FA_DIR} (R psych output) is absent"
)
FM = {"uls": "minres", "ml": "ml", "principal": "pca"}
# Rotations checked against psych. psych::fa calls stats::varimax (stopping at eps = 1e-5) for
# varimax and promax with Kaiser normalization, and GPArotation (no normalization) for the rest.
PSYCH_SETTINGS = {
    "none": {},
    "varimax": {"kaiser_normalize": True, "rotation_tol": 1e-5},
    "promax": {"kaiser_normalize": True, "rotation_tol": 1e-5},
    "oblimin": {"kaiser_normalize": False},
    "quartimax": {"kaiser_normalize": False},
}
# loading_uls_equamax_2_test07.csv is left out on purpose: it equals the quartimax solution (the
# psych version that wrote it passed no kappa to GPArotation's cfT), so it is not equamax.


def _reference_files() -> list[str]:
    if not FA_DIR.is_dir():
        return []
    pattern = re.compile(r"loading_(uls|ml|principal)_(\w+)_(\d)_(test\d\d)\.csv")
    names = sorted(p.name for p in FA_DIR.glob("expected/*/loading_*.csv"))
    return [n for n in names if (m := pattern.fullmatch(n)) and m.group(2) in PSYCH_SETTINGS]


def _read(path: Path) -> np.ndarray:
    frame = pd.read_csv(path)
    if frame.columns[0] in ("", "Unnamed: 0"):
        frame = frame.iloc[:, 1:]
    return frame.to_numpy(dtype=float)


def _max_diff_up_to_permutation_and_sign(ours: np.ndarray, theirs: np.ndarray) -> float:
    best = np.inf
    for perm in itertools.permutations(range(theirs.shape[1])):
        candidate = theirs[:, perm]
        signs = np.sign((ours * candidate).sum(axis=0))
        best = min(best, float(np.abs(ours - candidate * signs).max()))
    return best


@needs_reference
@pytest.mark.parametrize("name", _reference_files())
def test_efa_matches_r_psych_fa(name: str) -> None:
    # Expected values: psych::fa(cor(df), nfactors=k, n.obs=nrow(df), fm=FM, rotate=ROT)
    # (R psych output shipped with the factor_analyzer test suite; see reference README).
    fm, rotation, k, test = re.fullmatch(r"loading_(\w+?)_(\w+)_(\d)_(test\d\d)\.csv", name).groups()
    data = pd.read_csv(FA_DIR / "data" / f"{test}.csv")
    result = efa(data, int(k), method=FM[fm], rotation=rotation, **PSYCH_SETTINGS[rotation])
    expected_dir = FA_DIR / "expected" / test
    loadings = _read(expected_dir / name)
    assert _max_diff_up_to_permutation_and_sign(result.loadings.to_numpy(), loadings) < 1e-3
    for kind, ours in [
        ("evalues", result.eigenvalues.to_numpy()),
        ("value", result.common_eigenvalues.to_numpy()),
        ("communalities", result.communalities["Extraction"].to_numpy()),
        ("uniquenesses", result.uniquenesses.to_numpy()),
    ]:
        path = expected_dir / name.replace("loading_", f"{kind}_")
        if path.exists():
            tolerance = 1e-6 if kind == "evalues" else 1e-3
            np.testing.assert_allclose(ours, _read(path).ravel(), atol=tolerance, err_msg=kind)


@needs_reference
def test_structure_matrix_matches_r_psych_promax() -> None:
    # structure_uls_promax_2_test02.csv: psych::fa(..., fm="minres", rotate="promax")$Structure
    data = pd.read_csv(FA_DIR / "data" / "test02.csv")
    result = efa(data, 2, method="minres", rotation="promax", rotation_tol=1e-5)
    expected = _read(FA_DIR / "expected" / "test02" / "structure_uls_promax_2_test02.csv")
    assert _max_diff_up_to_permutation_and_sign(result.structure.to_numpy(), expected) < 1e-3


@pytest.fixture(scope="module")
def saq() -> pd.DataFrame:
    path = FA_DIR / "data" / "test07.csv"
    if not path.exists():
        pytest.skip(f"reference folder {FA_DIR} with the SAQ data (test07.csv) is absent")
    return pd.read_csv(path)


def test_kmo_and_bartlett_match_field_saq(saq: pd.DataFrame) -> None:
    # Field, Discovering Statistics Using SPSS (SAQ, 2571 x 23), "KMO and Bartlett's Test":
    # KMO = .930, approx. chi-square = 19334.492, df = 253, Sig. = .000.
    assert kmo(saq).overall == pytest.approx(0.930, abs=5e-4)
    result = bartlett(saq)
    assert result.chi2 == pytest.approx(19334.492, abs=5e-4)
    assert result.df == 253 and result.p < 0.001 and result.n == 2571


def test_kmo_per_item_is_consistent_with_overall(saq: pd.DataFrame) -> None:
    # Property: every per-item MSA lies in (0, 1) and the table keeps the item order.
    result = kmo(saq)
    assert ((result.msa > 0) & (result.msa < 1)).all()
    assert list(result.msa.index) == list(saq.columns)


def test_pca_varimax_matches_field_total_variance_explained(saq: pd.DataFrame) -> None:
    # Field, Discovering Statistics Using SPSS (3rd ed.), SAQ principal components with varimax:
    # initial eigenvalues 7.290 / 1.739 / 1.317 / 1.227 (31.696, 7.560, 5.725, 5.336 % of
    # variance, cumulative 50.317 %), rotation sums of squared loadings 3.730, 3.340, 2.553,
    # 1.949, and the extraction communalities of the Communalities table.
    result = efa(saq, None, method="pca", rotation="varimax")
    assert result.n_factors == 4 == result.kaiser_n
    table = result.variance
    np.testing.assert_allclose(table["Initial Total"].iloc[:4], [7.290, 1.739, 1.317, 1.227], atol=5e-4)
    np.testing.assert_allclose(table["Initial % of Variance"].iloc[:4], [31.696, 7.560, 5.725, 5.336], atol=5e-4)
    assert table["Extraction Cumulative %"].iloc[3] == pytest.approx(50.317, abs=5e-4)
    assert sorted(table["Rotation Total"].iloc[:4], reverse=True) == pytest.approx([3.730, 3.340, 2.553, 1.949], abs=5e-4)
    field_h2 = [.435, .414, .530, .469, .343, .654, .545, .739, .484, .335, .690, .513,
                .536, .488, .378, .487, .683, .597, .343, .484, .550, .464, .412]
    np.testing.assert_allclose(result.communalities["Extraction"], field_h2, atol=5e-4)
    assert (result.communalities["Initial"] == 1).all()


def test_oblique_rotation_sums_are_structure_column_sums(saq: pd.DataFrame) -> None:
    # SPSS definition: for oblique rotations "Rotation Sums of Squared Loadings" are the column
    # sums of squares of the structure matrix (= pattern @ phi).
    result = efa(saq, 4, method="paf", rotation="oblimin")
    structure = result.loadings.to_numpy() @ result.phi.to_numpy()
    np.testing.assert_allclose(result.structure.to_numpy(), structure, atol=1e-12)
    np.testing.assert_allclose(result.variance["Rotation Total"].iloc[:4], (structure**2).sum(axis=0), atol=1e-12)
    assert "Rotation % of Variance" not in result.variance


# ----------------------------------------------------------------------------- properties


def _two_factor_data(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    factors = rng.standard_normal((n, 2)) @ np.linalg.cholesky([[1, 0.4], [0.4, 1]]).T
    pattern = np.zeros((8, 2))
    pattern[:4, 0] = [0.8, 0.7, 0.6, 0.7]
    pattern[4:, 1] = [0.75, 0.65, 0.7, 0.6]
    noise = rng.standard_normal((n, 8)) * np.sqrt(1 - (pattern**2).sum(axis=1))
    return pd.DataFrame(factors @ pattern.T + noise, columns=[f"x{i}" for i in range(1, 9)])


@pytest.mark.parametrize("method", ["pca", "paf", "minres", "ml"])
@pytest.mark.parametrize("rotation", ["varimax", "quartimax", "equamax", "promax", "oblimin"])
def test_rotation_leaves_communalities_unchanged(method: str, rotation: str) -> None:
    # Property: h2 = diag(L phi L') is invariant under rotation (orthogonal or oblique).
    data = _two_factor_data()
    result = efa(data, 2, method=method, rotation=rotation)
    pattern = result.loadings.to_numpy()
    phi = np.eye(2) if result.phi is None else result.phi.to_numpy()
    np.testing.assert_allclose(np.diag(pattern @ phi @ pattern.T), result.communalities["Extraction"], atol=1e-8)


@pytest.mark.parametrize("rotation", ["varimax", "quartimax", "equamax"])
@pytest.mark.parametrize("normalize", [True, False])
def test_orthogonal_rotation_matrix_is_orthonormal(rotation: str, normalize: bool) -> None:
    data = _two_factor_data()
    result = efa(data, 2, method="minres", rotation=rotation, kaiser_normalize=normalize)
    t = result.rotation_matrix
    np.testing.assert_allclose(t.T @ t, np.eye(2), atol=1e-10)
    if not normalize:
        np.testing.assert_allclose(result.unrotated.to_numpy() @ t, result.loadings.to_numpy(), atol=1e-10)


def test_oblique_phi_is_a_correlation_matrix_and_recovers_the_simulated_structure() -> None:
    # The data were generated with factor correlation .4 and a simple-structure pattern.
    data = _two_factor_data(n=5000, seed=11)
    result = efa(data, 2, method="ml", rotation="oblimin")
    phi = result.phi.to_numpy()
    np.testing.assert_allclose(np.diag(phi), 1.0, atol=1e-10)
    assert phi[0, 1] == pytest.approx(0.4, abs=0.05)
    table = result.table(sort=True, suppress=0.3)
    assert table.iloc[:, :2].notna().sum().tolist() == [4, 4]


def test_varimax_reaches_the_criterion_maximum() -> None:
    # Property: at the varimax optimum no small planar rotation increases the criterion.
    a = efa(_two_factor_data(), 2, method="minres", rotation="none").loadings.to_numpy()
    rotated = rotate(a, "varimax", kaiser_normalize=False, tol=1e-12).loadings

    def varimax_criterion(x: np.ndarray) -> float:
        return float(((x**2) ** 2).mean(axis=0).sum() - ((x**2).mean(axis=0) ** 2).sum())

    best = varimax_criterion(rotated)
    for angle in (-1e-3, 1e-3):
        c, s = np.cos(angle), np.sin(angle)
        assert varimax_criterion(rotated @ np.array([[c, -s], [s, c]])) <= best + 1e-12


def test_paf_gives_spss_initial_communalities_as_smc() -> None:
    # SPSS PAF: initial communalities are squared multiple correlations = R^2 of the item
    # regressed on the others (checked with an independent OLS fit).
    import statsmodels.api as sm

    data = _two_factor_data()
    result = efa(data, 2, method="paf", rotation="none")
    others = sm.add_constant(data.drop(columns="x1"))
    assert result.communalities.loc["x1", "Initial"] == pytest.approx(sm.OLS(data["x1"], others).fit().rsquared)


def test_parallel_analysis_is_seeded_and_finds_two_factors() -> None:
    data = _two_factor_data(n=800)
    first = parallel_analysis(data, n_iter=10, seed=5)
    again = parallel_analysis(data, n_iter=10, seed=5)
    pd.testing.assert_frame_equal(first.table, again.table)
    assert first.n_factors == 2 and first.n_components == 2
    q95 = parallel_analysis(data, n_iter=10, seed=5, quantile=0.95)
    assert (q95.table["random pc q0.95"] >= q95.table["random pc mean"] - 1e-12).all()


def test_summary_table_and_scree_plot() -> None:
    result = efa(_two_factor_data(), 2, method="paf", rotation="promax")
    text = result.summary()
    assert "Total Variance Explained" in text and "Pattern matrix" in text
    fig = result.scree_plot()
    assert fig.axes[0].get_ylabel() == "Eigenvalue"
    table = result.table(sort=True, suppress=0.3)
    assert list(table.index[:4]) == sorted(table.index[:4], key=lambda i: -abs(table.loc[i, "F1"]))


# ----------------------------------------------------------------------------- bad input


def test_errors_name_the_problem() -> None:
    data = _two_factor_data(n=50)
    with pytest.raises(FactorAnalysisError, match="'x3'.*constant"):
        efa(data.assign(x3=1.0), 2)
    with pytest.raises(FactorAnalysisError, match="'x2' holds non-numeric"):
        efa(data.assign(x2=data["x2"].astype(object).where(data.index != 4, "n/a")), 2)
    with pytest.raises(FactorAnalysisError, match="at least 3 items"):
        efa(data[["x1", "x2"]], 1)
    with pytest.raises(FactorAnalysisError, match="respondents"):
        efa(data.head(6), 2)
    with pytest.raises(FactorAnalysisError, match="singular.*x9.*"):
        kmo(data.assign(x9=data["x1"] + data["x2"]))
    with pytest.raises(FactorAnalysisError, match="not in the data"):
        efa(data, 2, items=["x1", "x2", "nope"])


def test_input_is_not_modified_and_pairwise_is_named() -> None:
    data = _two_factor_data(n=300)
    data.iloc[::7, 2] = np.nan
    before = data.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = efa(data, 2, missing="pairwise")
    pd.testing.assert_frame_equal(data, before)
    assert result.missing == "pairwise" and result.n_obs == 300
    assert efa(data, 2).n_obs == len(data.dropna())


def test_a_heywood_communality_is_flagged() -> None:
    """r12 = r13 = .8, r23 = .4: one factor needs a first loading sqrt(.8 x .8 / .4) > 1, so the
    communality of the first item exceeds 1 (principal axes / minres) or sits at ML's .995 bound."""
    from survey.factor import HeywoodWarning

    target = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.4], [0.8, 0.4, 1.0]])
    z = np.random.default_rng(3).normal(size=(400, 3))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False, ddof=0))).T
    data = pd.DataFrame(z @ np.linalg.cholesky(target).T, columns=["a", "b", "c"])
    for method in ("minres", "ml"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("error", HeywoodWarning)
            with pytest.raises(HeywoodWarning, match="Heywood case.*for a"):
                efa(data, 1, method=method, rotation="none")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = efa(data, 1, method=method, rotation="none")
        assert result.heywood == ["a"] and any("Heywood" in note for note in result.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error", HeywoodWarning)
        assert efa(data, 1, method="pca", rotation="none").heywood == []  # components: h2 <= 1 by construction
