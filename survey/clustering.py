"""Cluster analysis (聚类分析) of respondents: k-means and hierarchical clustering with silhouettes.

Each returns the cluster of every respondent, a profile table (size and variable means per
cluster, with the one-way ANOVA SPSS prints beside k-means) and silhouette widths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.cluster import hierarchy
from scipy.spatial.distance import cdist, pdist, squareform

from survey.checks import as_frame, column_list, finite_matrix
from survey.codebook import SurveyData
from survey.errors import SurveyAnalysisError
from survey.inputs import unpack

LINKAGES = ("ward", "average", "complete", "single")


def silhouette_widths(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Silhouette width of every observation (Rousseeuw, 1987), Euclidean distances.

    s(i) = (b(i) - a(i)) / max(a(i), b(i)), a(i) the mean distance to the other members of its
    cluster, b(i) the smallest mean distance to the members of another cluster; s(i) = 0 for a
    single-member cluster (as R's cluster::silhouette).
    """
    distances = squareform(pdist(x))
    clusters = np.unique(labels)
    if len(clusters) < 2:
        raise SurveyAnalysisError("silhouette widths need at least two clusters")
    mean_to = np.column_stack([distances[:, labels == c].sum(axis=1) for c in clusters])
    sizes = np.array([(labels == c).sum() for c in clusters])
    own = np.searchsorted(clusters, labels)
    own_size = sizes[own]
    a = np.where(own_size > 1, mean_to[np.arange(len(x)), own] / np.maximum(own_size - 1, 1), 0.0)
    others = mean_to / sizes
    others[np.arange(len(x)), own] = np.inf
    b = others.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    return np.where(own_size > 1, np.nan_to_num(s), 0.0)


@dataclass
class ClusterResult:
    """A partition of respondents into clusters (see `kmeans` and `hierarchical_clusters`).

    Attributes:
        labels: cluster (1..k) of every row used, indexed like the input.
        profiles: per cluster its size, share and the mean of every variable (original units).
        anova: per variable the one-way ANOVA F, df and p across clusters (SPSS's k-means ANOVA
            table; descriptive only, since the clusters were chosen to differ).
        silhouette: per cluster the size and mean silhouette width, and an "overall" row.
        widths: silhouette width of every observation.
        centers: cluster means of the variables as clustered (standardized if asked).
        within_ss: total within-cluster sum of squares (k-means objective) of the clustered data.
        method, k, n, variables, standardized: settings; linkage: scipy linkage matrix (hierarchical).
    """

    labels: pd.Series
    profiles: pd.DataFrame
    anova: pd.DataFrame
    silhouette: pd.DataFrame
    widths: np.ndarray
    centers: pd.DataFrame
    within_ss: float
    method: str
    k: int
    n: int
    variables: list[str]
    standardized: bool
    linkage: np.ndarray | None = field(default=None, repr=False)

    @property
    def average_silhouette(self) -> float:
        """Mean silhouette width over all observations (cluster::summary(silhouette)$avg.width)."""
        return float(self.silhouette.loc["overall", "mean_width"])

    def to_frame(self) -> pd.DataFrame:
        """The cluster profile table."""
        return self.profiles.copy()

    def summary(self) -> str:
        """Profiles, ANOVA and silhouette widths as plain text."""
        head = (f"{self.method} clustering of {self.n} cases into {self.k} clusters on {', '.join(self.variables)}"
                f"{' (standardized)' if self.standardized else ''}; average silhouette width "
                f"{self.average_silhouette:.3f}")
        return "\n\n".join([head, self.profiles.round(3).to_string(), self.anova.round(4).to_string(),
                            self.silhouette.round(3).to_string()])


def _prepare(data: object, variables: Sequence[str] | None, k: int, standardize: bool,
             where: str) -> tuple[pd.DataFrame, list[str], np.ndarray, np.ndarray]:
    if isinstance(data, SurveyData):  # user-missing codes count as missing; scale names give scale scores
        frame = unpack(data, where, scores=True)[0]
    else:
        frame = as_frame(data, where)
    columns = column_list(frame, variables, where, minimum=1)
    raw = finite_matrix(frame, columns, where)
    if not isinstance(k, (int, np.integer)) or not 2 <= k < len(raw):
        raise SurveyAnalysisError(f"{where}: k must be an integer between 2 and n - 1 = {len(raw) - 1}, got {k!r}")
    spread = raw.std(axis=0, ddof=1)
    constant = [name for name, sd in zip(columns, spread, strict=True) if not sd > 0]
    if constant:
        raise SurveyAnalysisError(f"{where}: columns {constant} are constant; they cannot separate clusters")
    x = (raw - raw.mean(axis=0)) / spread if standardize else raw
    if len(np.unique(x, axis=0)) < k:
        raise SurveyAnalysisError(f"{where}: only {len(np.unique(x, axis=0))} distinct cases for k = {k} clusters")
    return frame, columns, raw, x


def _result(frame, columns, raw, x, labels, method, standardize, linkage=None) -> ClusterResult:
    """Relabel clusters 1..k by size (largest first, ties by first appearance) and build tables."""
    clusters, first, sizes = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(clusters)), key=lambda i: (-sizes[i], first[i]))
    renumber = {clusters[i]: rank + 1 for rank, i in enumerate(order)}
    labels = np.array([renumber[v] for v in labels])
    k = len(clusters)
    ids = np.arange(1, k + 1)
    widths = silhouette_widths(x, labels)
    members = [labels == c for c in ids]
    profiles = pd.DataFrame({"n": [int(m.sum()) for m in members],
                             "share": [float(m.mean()) for m in members]}, index=pd.Index(ids, name="cluster"))
    for j, name in enumerate(columns):
        profiles[name] = [float(raw[m, j].mean()) for m in members]
    anova_rows = []
    for j, name in enumerate(columns):
        f, p = stats.f_oneway(*[raw[m, j] for m in members])
        anova_rows.append({"variable": name, "F": float(f), "df1": k - 1, "df2": len(raw) - k, "p": float(p)})
    anova = pd.DataFrame(anova_rows).set_index("variable")
    centers = pd.DataFrame([x[m].mean(axis=0) for m in members], index=profiles.index, columns=columns)
    within = float(sum(((x[m] - x[m].mean(axis=0)) ** 2).sum() for m in members))
    silhouette = pd.DataFrame({"n": profiles["n"].to_numpy(), "mean_width": [float(widths[m].mean()) for m in members]},
                              index=pd.Index([str(c) for c in ids], name="cluster"))
    silhouette.loc["overall"] = [len(widths), float(widths.mean())]
    silhouette["n"] = silhouette["n"].astype(int)
    return ClusterResult(
        labels=pd.Series(labels, index=frame.index, name="cluster"), profiles=profiles, anova=anova,
        silhouette=silhouette, widths=widths, centers=centers, within_ss=within, method=method, k=k,
        n=len(raw), variables=columns, standardized=standardize, linkage=linkage,
    )


def _kmeans_plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centers = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d2 = cdist(x, np.array(centers), "sqeuclidean").min(axis=1)
        centers.append(x[rng.choice(len(x), p=d2 / d2.sum())] if d2.sum() > 0 else x[rng.integers(len(x))])
    return np.array(centers)


def _lloyd(x: np.ndarray, centers: np.ndarray, max_iter: int) -> tuple[np.ndarray, float]:
    """Lloyd iterations until no case changes cluster (or max_iter); labels and objective."""
    labels = np.full(len(x), -1)
    for _ in range(max_iter):
        new = cdist(x, centers, "sqeuclidean").argmin(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for c in range(len(centers)):
            if (labels == c).any():
                centers[c] = x[labels == c].mean(axis=0)
            else:  # an empty cluster takes the point farthest from its centre
                far = cdist(x, centers, "sqeuclidean")[np.arange(len(x)), labels].argmax()
                centers[c] = x[far]
                labels[far] = c
    return labels, float(((x - centers[labels]) ** 2).sum())


def kmeans(
    data: pd.DataFrame,
    variables: Sequence[str] | None = None,
    k: int = 3,
    *,
    n_init: int = 25,
    seed: int | np.random.Generator | None = 12345,
    standardize: bool = False,
    max_iter: int = 300,
) -> ClusterResult:
    """k-means clustering (SPSS: Analyze > Classify > K-Means Cluster) with silhouettes and profiles.

    Minimises the within-cluster sum of squares sum_c sum_{i in c} ||x_i - m_c||^2 by Lloyd's
    algorithm from `n_init` k-means++ starts (Arthur & Vassilvitskii, 2007), all drawn from
    ``numpy.random.default_rng(seed)``; the best start is kept. Clusters are numbered by size.
    ``standardize=True`` clusters z-scores (SD with n - 1) so variables on larger scales do not
    dominate; profiles stay in the original units. At convergence every case is nearest to its
    own cluster mean and every centre is its members' mean (the two conditions a k-means
    solution must satisfy).

    Checked by those fixed-point conditions, against scikit-learn's KMeans objective and
    silhouette_samples, and a hand-computed silhouette (tests/survey/test_clustering.py).

    Args:
        data: respondents x variables (DataFrame or SurveyData; no missing values).
        variables: the clustering variables (default: all columns).
        k: number of clusters (2 <= k < n).
        n_init: random starts; seed: seed or Generator (no global random state is used).
        standardize: cluster z-scores instead of raw values.
        max_iter: Lloyd iterations per start.

    Returns:
        ClusterResult with `labels`, `profiles`, `anova`, `silhouette`, `summary()`.

    Example:
        >>> df = pd.DataFrame({"x": [0.0, 0.2, 0.1, 5.0, 5.2, 5.1], "y": [0.0, 0.1, 0.2, 5.0, 5.1, 4.9]})
        >>> kmeans(df, k=2, seed=1).labels.tolist()
        [1, 1, 1, 2, 2, 2]
    """
    where = "kmeans"
    if n_init < 1 or max_iter < 1:
        raise SurveyAnalysisError(f"{where}: n_init and max_iter must be at least 1")
    frame, columns, raw, x = _prepare(data, variables, k, standardize, where)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    best = None
    for _ in range(n_init):
        labels, objective = _lloyd(x, _kmeans_plus_plus(x, k, rng), max_iter)
        if best is None or objective < best[1] - 1e-12:
            best = (labels, objective)
    return _result(frame, columns, raw, x, best[0], "k-means", standardize)


def hierarchical_clusters(
    data: pd.DataFrame,
    variables: Sequence[str] | None = None,
    k: int = 3,
    *,
    method: str = "ward",
    standardize: bool = False,
) -> ClusterResult:
    """Agglomerative hierarchical clustering cut into k clusters (SPSS: Hierarchical Cluster).

    Euclidean distances; `method` is the linkage: "ward" (Ward's minimum-variance method, merge
    height sqrt(2 n_a n_b / (n_a + n_b)) ||m_a - m_b||, R's hclust(method = "ward.D2")),
    "average" (UPGMA, mean pairwise distance), "complete" (largest pairwise distance) or
    "single" (smallest). Built on scipy.cluster.hierarchy.linkage; the tree is cut with
    fcluster(criterion = "maxclust"). The linkage matrix is kept (`linkage`) for a dendrogram
    (scipy.cluster.hierarchy.dendrogram).

    Checked against merge heights computed by hand from those definitions and a hand-computed
    silhouette (tests/survey/test_clustering.py).

    Args:
        data: respondents x variables (DataFrame or SurveyData; no missing values).
        variables: the clustering variables (default: all columns).
        k: number of clusters to cut the tree into.
        method: "ward", "average", "complete" or "single".
        standardize: cluster z-scores instead of raw values.

    Returns:
        ClusterResult (with `linkage`).

    Example:
        >>> df = pd.DataFrame({"x": [0.0, 1.0, 5.0, 6.0, 20.0]})
        >>> hierarchical_clusters(df, k=3, method="complete").labels.tolist()
        [1, 1, 2, 2, 3]
    """
    where = "hierarchical_clusters"
    if method not in LINKAGES:
        raise SurveyAnalysisError(f"{where}: method {method!r} is not one of {LINKAGES}")
    frame, columns, raw, x = _prepare(data, variables, k, standardize, where)
    tree = hierarchy.linkage(x, method=method, metric="euclidean")
    labels = hierarchy.fcluster(tree, t=k, criterion="maxclust")
    if len(np.unique(labels)) != k:
        raise SurveyAnalysisError(f"{where}: the tree cannot be cut into exactly {k} clusters (tied merge heights)")
    return _result(frame, columns, raw, x, labels, f"hierarchical ({method})", standardize, linkage=tree)
