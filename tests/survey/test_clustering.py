"""k-means and hierarchical clustering: hand-computed silhouettes and merge heights, k-means
optimality conditions, scikit-learn cross-checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey import SurveyData
from survey.clustering import hierarchical_clusters, kmeans, silhouette_widths
from survey.errors import SurveyAnalysisError


def _blobs(seed: int = 0, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0], [4, 4, 0], [0, 4, 4]])
    x = np.vstack([c + rng.normal(scale=0.8, size=(n, 3)) for c in centres])
    return pd.DataFrame(x, columns=["trust", "ease", "speed"])


def test_silhouette_of_a_hand_computed_example():
    """Points 0, 1 | 5, 6: s = 1 - a/b with a = 1 and b = 5.5 (outer points) or 4.5 (inner)."""
    widths = silhouette_widths(np.array([[0.0], [1.0], [5.0], [6.0]]), np.array([1, 1, 2, 2]))
    np.testing.assert_allclose(widths, [9 / 11, 7 / 9, 7 / 9, 9 / 11], rtol=1e-12)
    res = kmeans(pd.DataFrame({"x": [0.0, 1, 5, 6]}), k=2)
    assert res.average_silhouette == pytest.approx((9 / 11 + 7 / 9) / 2, rel=1e-12)
    assert res.silhouette.loc["1", "mean_width"] == pytest.approx((9 / 11 + 7 / 9) / 2, rel=1e-12)


def test_a_single_member_cluster_has_silhouette_zero():
    """Rousseeuw (1987), as R's cluster::silhouette: s(i) = 0 when i is alone in its cluster."""
    widths = silhouette_widths(np.array([[0.0], [1.0], [10.0]]), np.array([1, 1, 2]))
    assert widths[2] == 0.0
    assert widths[0] == pytest.approx(1 - 1 / 10)


def test_silhouette_agrees_with_scikit_learn():
    from sklearn.metrics import silhouette_samples

    data = _blobs(1)
    res = kmeans(data, k=3, seed=2)
    np.testing.assert_allclose(res.widths, silhouette_samples(data.to_numpy(), res.labels.to_numpy()), atol=1e-12)


def test_kmeans_solution_satisfies_the_optimality_conditions():
    data = _blobs(2)
    res = kmeans(data, k=3, seed=3)
    x = data.to_numpy()
    centres = res.centers.to_numpy()
    labels = res.labels.to_numpy()
    for c in range(1, 4):
        np.testing.assert_allclose(centres[c - 1], x[labels == c].mean(axis=0), atol=1e-12)
    nearest = ((x[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1) + 1
    assert (nearest == labels).all()
    assert res.within_ss == pytest.approx(float(((x - centres[labels - 1]) ** 2).sum()), rel=1e-12)


def test_kmeans_objective_matches_scikit_learn_and_is_reproducible():
    from sklearn.cluster import KMeans

    data = _blobs(3)
    res = kmeans(data, k=3, seed=4)
    fit = KMeans(n_clusters=3, n_init=25, random_state=0).fit(data.to_numpy())
    assert res.within_ss == pytest.approx(fit.inertia_, rel=1e-9)
    again = kmeans(data, k=3, seed=4)
    assert (again.labels == res.labels).all()
    assert res.profiles["n"].sum() == len(data)
    assert list(res.profiles["n"]) == sorted(res.profiles["n"], reverse=True)


def test_profiles_hold_original_units_when_standardized():
    data = _blobs(4).assign(ease=lambda d: 100 * d["ease"])
    res = kmeans(SurveyData(data), k=3, standardize=True, seed=5)
    for c in range(1, 4):
        members = data[res.labels == c]
        assert res.profiles.loc[c, "ease"] == pytest.approx(members["ease"].mean())
    assert (res.anova["p"] < 1e-10).all()


@pytest.mark.parametrize(("method", "heights"), [
    # points 0, 1, 5, 6, 20; heights from the linkage definitions, computed by hand
    ("complete", [1, 1, 6, 20]),
    ("average", [1, 1, 5, 17]),                                   # (5+6+4+5)/4; (20+19+15+14)/4
    ("single", [1, 1, 4, 14]),
    ("ward", [1, 1, 5 * np.sqrt(2), 17 * np.sqrt(8 / 5)]),       # sqrt(2 n_a n_b / (n_a + n_b)) |m_a - m_b|
])
def test_hierarchical_merge_heights_follow_the_linkage_definition(method, heights):
    res = hierarchical_clusters(pd.DataFrame({"x": [0.0, 1, 5, 6, 20]}), k=2, method=method)
    np.testing.assert_allclose(res.linkage[:, 2], heights, rtol=1e-12)
    assert res.labels.tolist() == [1, 1, 1, 1, 2]


def test_ward_recovers_separated_groups():
    data = _blobs(5)
    res = hierarchical_clusters(data, k=3, method="ward")
    truth = np.repeat([0, 1, 2], 60)
    assert pd.crosstab(res.labels.to_numpy(), truth).max(axis=1).sum() >= 0.95 * len(data)
    assert res.average_silhouette > 0.5
    assert "silhouette" in res.summary()


def test_bad_input_is_named():
    data = _blobs(6)
    data.loc[3, "speed"] = np.nan
    with pytest.raises(SurveyAnalysisError, match="'speed'.*missing"):
        kmeans(data, k=3)
    with pytest.raises(SurveyAnalysisError, match="k must"):
        kmeans(_blobs(6), k=1)
    with pytest.raises(SurveyAnalysisError, match="median"):
        hierarchical_clusters(_blobs(6), k=3, method="median")
    with pytest.raises(SurveyAnalysisError, match="'const'.*constant"):
        kmeans(_blobs(6).assign(const=1.0), k=3)
