"""Model-based hierarchical agglomeration (mixture.hierarchical): merge costs checked by
brute force, Ward against scipy, recovery, invariances, the initializer in EM, and the
committed mclust reference partitions."""

from __future__ import annotations

import warnings
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.cluster.hierarchy import fcluster, linkage

from mixture import FewDistinctRowsWarning, GaussianFamily, MixtureEM
from mixture.hierarchical import Hierarchical, hierarchical_tree

REFERENCE = Path(__file__).resolve().parent.parent / "benchmarks" / "hc_reference"
RNG = np.random.default_rng  # shorthand


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labelings of the same rows are equal up to relabelling."""
    pairs = np.unique(np.stack([a, b]), axis=1).shape[1]
    return pairs == np.unique(a).size == np.unique(b).size


def row_labels(tree, X: np.ndarray, n_clusters: int) -> np.ndarray:
    """The tree's K-cluster labels of the rows of X (every row must be a leaf)."""
    leaf = tree.leaf_of(X)
    assert (leaf >= 0).all()
    return tree.partition(n_clusters)[leaf]


def separated(seed: int, sizes: list[int], n_features: int, gap: float = 40.0):
    """Rows of well separated Gaussian clusters with random covariances, and their labels."""
    assert len(sizes) <= n_features  # centres on the axes, gap apart from the origin
    rng = RNG(seed)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    centres = gap * np.eye(len(sizes), n_features)
    mixing = np.eye(n_features) + 0.4 * rng.normal(size=(len(sizes), n_features, n_features))
    noise = rng.normal(size=(labels.size, n_features))
    return centres[labels] + np.einsum("nd,nde->ne", noise, mixing[labels]), labels


# -- brute force ---------------------------------------------------------------------------


def brute_criterion(points, weights, labels, model, alpha, beta) -> float:
    """The criterion the tree minimises, from the rows of each cluster directly.

    EII: sum_k tr W_k (minus the classification log-likelihood is increasing in it).
    VVV: sum_k n_k log(det(W_k / n_k) [more than D distinct rows] + beta (tr W_k + alpha) / n_k).
    """
    total = 0.0
    n_features = points.shape[1]
    for k in np.unique(labels):
        rows, w = points[labels == k], weights[labels == k]
        n = w.sum()
        centred = rows - w @ rows / n
        scatter = (centred * w[:, None]).T @ centred
        if model == "EII":
            total += np.trace(scatter)
            continue
        det = np.linalg.det(scatter / n) if rows.shape[0] > n_features else 0.0
        total += n * np.log(max(det, 0.0) + beta * (np.trace(scatter) + alpha) / n)
    return total


@pytest.mark.parametrize("model", ["VVV", "EII"])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_rows=st.integers(2, 11),
    n_features=st.integers(1, 3),
    weighted=st.booleans(),
)
def test_every_merge_is_the_cheapest_by_brute_force(model, seed, n_rows, n_features, weighted):
    rng = RNG(seed)
    X = rng.normal(size=(n_rows, n_features)) * rng.uniform(0.5, 3.0, size=n_features)
    weights = rng.uniform(0.5, 3.0, size=n_rows) if weighted else None
    tree = hierarchical_tree(X, weights, model=model, transform=None)
    points, w = tree.points, tree.weights
    assert tree.size == n_rows
    # alpha' is alpha (1) times the mean per-coordinate variance of the weighted rows.
    spread = w @ ((points - w @ points / w.sum()) ** 2).sum(axis=1)
    np.testing.assert_allclose(tree.alpha, spread / (w.sum() * n_features), rtol=1e-12)
    labels = np.arange(n_rows)
    for step, (i, j) in enumerate(tree.merges):
        before = brute_criterion(points, w, labels, model, tree.alpha, tree.beta)
        after = {}
        for a, b in combinations(np.unique(labels), 2):
            merged = np.where(labels == b, a, labels)
            after[a, b] = brute_criterion(points, w, merged, model, tree.alpha, tree.beta)
        chosen = after[i, j]
        # Sums of a few terms of size |before|: allow some ulps-scale slack.
        slack = 1e-9 * (1.0 + abs(before))
        assert chosen <= min(after.values()) + slack, (step, (i, j), chosen, after)
        assert tree.costs[step] == pytest.approx(chosen - before, abs=slack)
        labels = np.where(labels == j, i, labels)


def test_vvv_cost_of_a_singleton_pair_is_the_regularised_term():
    # Two rows in 2-D (at most D distinct rows: no determinant):
    # cost = 2 log(beta (tr W + alpha') / 2) - 2 log(beta alpha').
    X = np.array([[0.0, 0.0], [3.0, 4.0]])
    tree = hierarchical_tree(X, model="VVV", transform=None, beta=2.0)
    trace = 0.5 * 25.0
    assert tree.alpha == pytest.approx((2 * 1.5**2 + 2 * 2.0**2) / 4.0)  # sum w d^2 / (N D)
    expected = 2 * np.log(2.0 * (trace + tree.alpha) / 2) - 2 * np.log(2.0 * tree.alpha)
    assert tree.costs[0] == pytest.approx(expected, rel=1e-12)


# -- Ward ----------------------------------------------------------------------------------


@given(seed=st.integers(0, 2**32 - 1), n_rows=st.integers(3, 80), n_features=st.integers(1, 4))
def test_eii_is_ward_as_in_scipy(seed, n_rows, n_features):
    X = RNG(seed).normal(size=(n_rows, n_features))
    tree = hierarchical_tree(X, model="EII", transform=None)
    reference = linkage(X, method="ward")
    for k in range(1, min(n_rows, 10) + 1):
        assert same_partition(row_labels(tree, X, k), fcluster(reference, k, "maxclust")), k
    # Ward's increase of tr W is half scipy's squared merge height.
    np.testing.assert_allclose(np.sort(tree.costs), np.sort(reference[:, 2] ** 2 / 2), rtol=1e-9)


# -- recovery and invariances ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "transform"),
    # Not VVV after whitening ("sph"): whitening shrinks the directions that separate the
    # clusters until the within-cluster scatter is far below alpha' (the mean variance, 1),
    # so the trace term of the regularised criterion dominates and Ward-like merges with
    # the n_k log weighting can join clusters (it does for seeds 1 and 2).
    [("VVV", "svd"), ("VVV", "std"), ("VVV", None)]
    + [("EII", t) for t in ("svd", "sph", "std", None)],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_well_separated_clusters_are_recovered(model, transform, seed):
    X, truth = separated(seed, [40, 25, 60], n_features=3)
    tree = hierarchical_tree(X, model=model, transform=transform)
    assert same_partition(row_labels(tree, X, 3), truth)


@pytest.mark.parametrize("model", ["VVV", "EII"])
@given(seed=st.integers(0, 2**32 - 1), lattice=st.booleans())
def test_row_order_does_not_change_the_tree(model, seed, lattice):
    rng = RNG(seed)
    # On a lattice many merge costs tie exactly: the tie rule must not depend on row order.
    X = rng.integers(0, 4, size=(40, 2)).astype(float) if lattice else rng.normal(size=(40, 3))
    permutation = rng.permutation(X.shape[0])
    first = hierarchical_tree(X, model=model)
    second = hierarchical_tree(X[permutation], model=model)
    # The same multiset of rows, in the same (content-hash) order, through the same
    # operations: the trees are identical, not just close.
    np.testing.assert_array_equal(first.merges, second.merges)
    np.testing.assert_array_equal(first.costs, second.costs)
    init = Hierarchical(model=model)
    labels = init.initialize(X, 4, sample_weight=None, rng=RNG(0))
    permuted = init.initialize(X[permutation], 4, sample_weight=None, rng=RNG(1))
    np.testing.assert_array_equal(permuted, labels[permutation])


def test_integer_weights_equal_repeated_rows():
    rng = RNG(5)
    X = rng.normal(size=(30, 2))
    counts = rng.integers(1, 4, size=30)
    repeated = np.repeat(X, counts, axis=0)
    weighted = hierarchical_tree(X, counts.astype(float))
    copies = hierarchical_tree(repeated)
    # Identical rows are grouped with their summed weight: the same leaves and weights.
    np.testing.assert_array_equal(weighted.weights, copies.weights)
    np.testing.assert_array_equal(weighted.merges, copies.merges)
    init = Hierarchical()
    a = init.initialize(X, 3, sample_weight=counts.astype(float), rng=RNG(0))
    b = init.initialize(repeated, 3, sample_weight=None, rng=RNG(0))
    np.testing.assert_array_equal(np.repeat(a, counts), b)


def test_zero_weight_rows_are_not_leaves_but_get_labels():
    X, truth = separated(3, [30, 30], n_features=2)
    weights = np.ones(X.shape[0])
    weights[::7] = 0.0
    tree = hierarchical_tree(X, weights)
    assert tree.size == int((weights > 0).sum()) and tree.complete
    labels = Hierarchical().initialize(X, 2, sample_weight=weights, rng=RNG(0))
    assert labels.shape == (X.shape[0],) and same_partition(labels, truth)


def test_partition_cuts_the_same_tree():
    X, _ = separated(4, [20, 20, 20, 20], n_features=4)
    tree = hierarchical_tree(X)
    previous = tree.partition(tree.size)
    np.testing.assert_array_equal(previous, np.arange(tree.size))
    for k in range(tree.size - 1, 0, -1):
        labels = tree.partition(k)
        assert np.unique(labels).size == k
        # Nested: each cluster at K + 1 lies inside one cluster at K.
        assert np.unique(np.stack([previous, labels]), axis=1).shape[1] == k + 1
        previous = labels
    with pytest.raises(ValueError, match="cannot cut"):
        tree.partition(tree.size + 1)


# -- the initializer -------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["VVV", "EII"])
def test_initializer_in_mixture_em(model):
    X, truth = separated(6, [80, 50, 70], n_features=3)
    result = MixtureEM(GaussianFamily(3), initializer=Hierarchical(model=model)).fit(X)
    assert np.isfinite(result.lower_bound)
    assert same_partition(result.predict(X), truth)


def test_subset_path_for_more_rows_than_max_rows():
    X, truth = separated(7, [300, 200, 250], n_features=3)
    init = Hierarchical(max_rows=60)
    tree = init.tree(X)
    assert tree.size == 60 and not tree.complete
    start = init.initialize(X, 3, sample_weight=None, rng=RNG(0))
    assert start.shape == (X.shape[0], 3)
    np.testing.assert_allclose(start.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert same_partition(start.argmax(axis=1), truth)
    # The subset is drawn by row content: shuffled rows give the same tree, and each row
    # the same responsibilities (up to the rounding of a different matrix blocking).
    permutation = RNG(1).permutation(X.shape[0])
    shuffled = Hierarchical(max_rows=60)
    np.testing.assert_array_equal(shuffled.tree(X[permutation]).merges, tree.merges)
    again = shuffled.initialize(X[permutation], 3, sample_weight=None, rng=RNG(2))
    np.testing.assert_allclose(again, start[permutation], rtol=0, atol=1e-9)
    result = MixtureEM(GaussianFamily(3), initializer=init).fit(X)
    assert same_partition(result.predict(X), truth)


def test_the_tree_is_built_once_per_data_set():
    X, _ = separated(8, [30, 30, 30], n_features=3)
    init = Hierarchical()
    tree = init.tree(X)
    for k in range(1, 6):
        init.initialize(X, k, sample_weight=None, rng=RNG(k))
    assert init.tree(X) is tree
    assert init.tree(X[::-1]) is tree  # the same rows in another order
    assert init.tree(X + 1.0) is not tree


def test_fewer_distinct_rows_than_components_share_seeds():
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 5.0]]), 10, axis=0)
    with pytest.warns(FewDistinctRowsWarning):
        start = Hierarchical().initialize(X, 3, sample_weight=None, rng=RNG(0))
    assert start.shape == (20, 3)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="model"):
        Hierarchical(model="VVI")
    with pytest.raises(ValueError, match="transform"):
        Hierarchical(transform="pca")
    with pytest.raises(ValueError, match="alpha"):
        Hierarchical(alpha=0.0)
    X = RNG(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match="max_rows"):
        Hierarchical(max_rows=3).initialize(X, 4, sample_weight=None, rng=RNG(0))


def test_float32_data_gives_float32_responsibilities():
    X, _ = separated(9, [100, 100], n_features=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        start = Hierarchical(max_rows=50).initialize(
            X.astype(np.float32), 2, sample_weight=None, rng=RNG(0)
        )
    assert start.dtype == np.float32


# -- mclust ----------------------------------------------------------------------------------

# (model, mclust hcUse, our transform) whose trees equal mclust 6.0's: see
# benchmarks/hc_reference/README.md for why VVV with other transforms is left out.
MCLUST_CASES = [
    ("VVV", "SVD", "svd"),
    ("EII", "SVD", "svd"),
    ("EII", "SPH", "sph"),
    ("EII", "STD", "std"),
    ("EII", "VARS", None),
]


@pytest.mark.parametrize("name", ["a", "b"])
@pytest.mark.parametrize(("model", "use", "transform"), MCLUST_CASES)
def test_partitions_equal_mclust_hc(name, model, use, transform):
    data = REFERENCE / f"data_{name}.csv"
    partitions = REFERENCE / f"hc_{name}_{model}_{use}.csv"
    if not (data.exists() and partitions.exists()):
        pytest.skip("mclust reference files absent (benchmarks/hc_reference/make_reference.R)")
    X = np.loadtxt(data, delimiter=",", skiprows=1)
    reference = np.loadtxt(partitions, delimiter=",", skiprows=1).astype(int)
    tree = hierarchical_tree(X, model=model, transform=transform)
    for k in range(1, 10):
        assert same_partition(row_labels(tree, X, k), reference[:, k - 1]), k


def test_select_model_cuts_one_tree_for_every_k():
    from mixture import Hierarchical as Exported
    from mixture import select_model

    assert Exported is Hierarchical
    X, _ = separated(10, [60, 40, 50], n_features=3)
    init = Hierarchical()
    selection = select_model(X, n_components=range(1, 6), initializer=init, random_state=0)
    assert len(init._trees) == 1  # one data set, one tree, cut at K = 1..5
    assert len(selection.candidates) > 0
