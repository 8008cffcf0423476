"""The chunked k-means initializer agrees with scikit-learn; fitting memory is bounded; large
data is seeded on a content-keyed sample with the same invariances."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
from _helpers import assert_close_in_ulps, blobs
from hypothesis import given
from hypothesis import strategies as st
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.cluster import kmeans_plusplus
from threadpoolctl import threadpool_info, threadpool_limits

import mixture._kmeans
from mixture import (
    FullCovariance,
    GaussianFamily,
    KMeans,
    KMeansPlusPlus,
    MixtureEM,
    RandomRows,
    SphericalCovariance,
)
from mixture._kmeans import lloyd, nearest_partition
from mixture._row_random import content_sample
from mixture.exceptions import FewDistinctRowsWarning
from mixture.sources import ArraySource, row_sample


@pytest.mark.parametrize("offset", [0.0, 1e6])
@pytest.mark.parametrize("weighted", [False, True])
def test_lloyd_matches_sklearn_kmeans_from_the_same_seeds(offset: float, weighted: bool) -> None:
    X = blobs(3, 900, 3, 4, offset=offset)
    weights = np.random.default_rng(4).uniform(0.2, 3.0, X.shape[0]) if weighted else None
    seeds, _ = kmeans_plusplus(X, 4, sample_weight=weights, random_state=5)
    ours = lloyd(X, seeds, weights, max_iter=300, tol=1e-4)
    theirs = SklearnKMeans(4, init=seeds, n_init=1, tol=1e-4).fit(X, sample_weight=weights)
    np.testing.assert_array_equal(ours.labels, theirs.labels_)
    np.testing.assert_allclose(ours.centres, theirs.cluster_centers_, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ours.inertia, theirs.inertia_, rtol=1e-9)


def test_kmeans_initializer_restarts_keep_the_lowest_inertia() -> None:
    X = blobs(8, 600, 2, 5)
    rng_one = np.random.default_rng(0)
    single = [KMeans(n_init=1).initialize(X, 5, sample_weight=None, rng=rng_one) for _ in range(4)]
    best = KMeans(n_init=4).initialize(X, 5, sample_weight=None, rng=np.random.default_rng(0))

    def inertia(labels: np.ndarray) -> float:
        return sum(((X[labels == k] - X[labels == k].mean(0)) ** 2).sum() for k in range(5))

    assert inertia(best) == pytest.approx(min(inertia(r) for r in single), rel=1e-9)


def test_fit_memory_does_not_grow_with_rows_times_components_times_features() -> None:
    """Peak extra memory of a fit stays near responsibilities + O(chunk), far below N*K*D."""
    n_rows, n_features, n_components = 200_000, 8, 3
    X = blobs(0, n_rows, n_features, n_components)
    responsibilities = n_rows * n_components * 8
    n_by_k_by_d = n_rows * n_components * n_features * 8
    # Initialised on all rows: the one-hot responsibilities, labels and k-means++ distances,
    # a few arrays of n_rows floats. An N x K x D temporary would be 38 MB here.
    extra = _peak_extra_memory(X, init_sample_size=None)
    assert extra < responsibilities + 6 * n_rows * 8 + 8 * 2**20
    assert extra < 0.75 * n_by_k_by_d


def test_a_sampled_initialisation_keeps_memory_independent_of_the_rows() -> None:
    """Initialised on a sample of 20,000 rows, a fit's peak memory is the sample's and the
    chunks' working set: twice the rows cost (almost) nothing more."""
    small, large = blobs(0, 100_000, 8, 3), blobs(1, 200_000, 8, 3)
    peak_small = _peak_extra_memory(small, init_sample_size=20_000)
    peak_large = _peak_extra_memory(large, init_sample_size=20_000)
    assert peak_large < peak_small + 2 * 2**20  # 100,000 more rows would be 6.4 MB of data
    assert peak_large < 0.5 * 200_000 * 3 * 8 * 8  # far below an N x K x D temporary


def _peak_extra_memory(X: np.ndarray, init_sample_size: int | None) -> int:
    em = MixtureEM(
        GaussianFamily(3, FullCovariance()),
        tol=None,
        max_iter=3,
        random_state=0,
        init_sample_size=init_sample_size,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em.fit(X)  # compiles (or loads) the numba kernels first: their compiler's objects
        tracemalloc.start()  # are not the fit's memory
        baseline, _ = tracemalloc.get_traced_memory()
        em.fit(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - baseline


def test_fit_on_a_memmap_equals_the_fit_in_memory(tmp_path) -> None:
    X = blobs(11, 5000, 3, 3)
    path = tmp_path / "rows.dat"
    on_disk = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
    on_disk[:] = X
    on_disk.flush()
    on_disk = np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)

    def fit(data):
        em = MixtureEM(GaussianFamily(3, FullCovariance()), random_state=3, chunk_size=700)
        return em.fit(data)

    in_memory, from_disk = fit(X), fit(on_disk)
    np.testing.assert_allclose(from_disk.family.means, in_memory.family.means, rtol=1e-12)
    np.testing.assert_allclose(
        from_disk.log_likelihood_history, in_memory.log_likelihood_history, rtol=1e-12
    )


# --------------------------------------------------------------------------------------------
# large data: seeding on a content-keyed sample, Lloyd's iterations in threads
# --------------------------------------------------------------------------------------------
SAMPLE = 2_000  # a small seeding sample, so the sampled path runs on a few thousand rows


def _start(X, n_components, *, weights=None, seed=0, initializer=None):
    """The starting mixture the engine builds from an initializer's labels."""
    em = MixtureEM(
        GaussianFamily(n_components, SphericalCovariance()),
        initializer=initializer or KMeans(sample_size=SAMPLE),
        init_sample_size=None,
    )
    return em.initialize(X, weights, random_state=seed)


def _assert_same_start(a, b) -> None:
    # Cluster sums over rows in another order or of weighted instead of repeated rows: a
    # sum of n terms, about n ulps of its magnitude (n is a few thousand here).
    scale = max(1.0, float(np.abs(a.family.means).max()))
    assert_close_in_ulps(a.family.means, b.family.means, 2**14, scale=scale)
    assert_close_in_ulps(a.weights, b.weights, 2**14)


@given(
    seed=st.integers(0, 2**32 - 1),
    n_distinct=st.integers(50, 3_000),
    size=st.integers(1, 400),
    weighted=st.booleans(),
)
def test_content_sample_draws_the_rows_of_row_sample(
    seed: int, n_distinct: int, size: int, weighted: bool
) -> None:
    rng = np.random.default_rng(seed)
    X = rng.integers(-3, 4, size=(n_distinct, 2)).astype(np.float64)  # many repeated rows
    X = X[rng.integers(n_distinct, size=3 * n_distinct)]
    weights = rng.uniform(0.0, 2.0, X.shape[0]) if weighted else None
    if weighted:
        weights[rng.random(X.shape[0]) < 0.2] = 0.0
    index, weight = content_sample(X, weights, size, seed, chunk_rows=97)
    rows, expected_weight = row_sample(ArraySource(X, weights), size, seed)
    np.testing.assert_array_equal(X[index], rows)  # the same rows, in the same order
    expected = np.ones(rows.shape[0]) if expected_weight is None else expected_weight
    # Copies' weights summed in another order: a few ulps of the sum.
    assert_close_in_ulps(weight, expected, 64, scale=expected.max() if expected.size else 1)


@pytest.mark.parametrize("initializer", [KMeans, KMeansPlusPlus, RandomRows])
def test_a_sampled_start_ignores_row_order(initializer) -> None:
    X = blobs(2, 12_000, 3, 5)
    order = np.random.default_rng(0).permutation(X.shape[0])
    made = initializer(sample_size=SAMPLE)
    _assert_same_start(_start(X, 5, initializer=made), _start(X[order], 5, initializer=made))


@pytest.mark.parametrize("initializer", [KMeans, KMeansPlusPlus, RandomRows])
def test_a_sampled_start_equals_repeated_rows_for_integer_weights(initializer) -> None:
    X = blobs(3, 5_000, 2, 4)
    counts = np.random.default_rng(1).integers(0, 4, X.shape[0])
    made = initializer(sample_size=SAMPLE)
    weighted = _start(X, 4, weights=counts.astype(np.float64), initializer=made)
    repeated = _start(np.repeat(X, counts, axis=0), 4, initializer=made)
    _assert_same_start(weighted, repeated)


@pytest.mark.parametrize("seed", range(3))
def test_sampled_kmeans_recovers_separated_clusters(seed: int) -> None:
    rng = np.random.default_rng(seed)
    centres = np.zeros((6, 4))
    centres[:, 0] = 50.0 * np.arange(6)  # unit-variance clusters 50 apart
    centres[:, 1:] = rng.normal(0.0, 5.0, (6, 3))
    truth = rng.integers(6, size=20_000)
    X = centres[truth] + rng.normal(size=(truth.shape[0], 4))
    labels = KMeans(sample_size=SAMPLE).initialize(X, 6, sample_weight=None, rng=rng)
    pairs = set(zip(labels.tolist(), truth.tolist(), strict=True))
    assert len(pairs) == 6  # the same partition, whatever the label names


def test_sampled_kmeans_is_as_good_as_kmeans_on_every_row() -> None:
    """Over seeds, the sampled start's inertia is within 1% of the exact path's."""
    X = blobs(5, 30_000, 5, 8, offset=0.0)
    X += np.random.default_rng(0).normal(0.0, 2.0, X.shape)  # overlapping clusters

    def inertia(labels: np.ndarray) -> float:
        return sum(((X[labels == k] - X[labels == k].mean(0)) ** 2).sum() for k in range(8))

    sampled = [
        inertia(KMeans(sample_size=SAMPLE).initialize(X, 8, sample_weight=None, rng=rng))
        for rng in map(np.random.default_rng, range(4))
    ]
    exact = [
        inertia(KMeans(sample_size=None).initialize(X, 8, sample_weight=None, rng=rng))
        for rng in map(np.random.default_rng, range(4))
    ]
    assert np.mean(sampled) <= 1.01 * np.mean(exact)


def test_a_sampled_start_with_fewer_distinct_rows_than_components_shares_seeds() -> None:
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]), 2_000, axis=0)
    with pytest.warns(FewDistinctRowsWarning):
        start = KMeans(sample_size=100).initialize(
            X, 4, sample_weight=None, rng=np.random.default_rng(0)
        )
    assert start.shape == (X.shape[0], 4)
    assert (start.sum(axis=0) > 0).all()


def test_a_sampled_start_on_a_float32_memmap_equals_the_one_in_memory(tmp_path) -> None:
    X = blobs(7, 9_000, 3, 4).astype(np.float32)
    path = tmp_path / "rows.npy"
    np.save(path, X)
    on_disk = np.load(path, mmap_mode="r")
    made = KMeans(sample_size=SAMPLE)
    in_memory = made.initialize(X, 4, sample_weight=None, rng=np.random.default_rng(2))
    from_disk = made.initialize(on_disk, 4, sample_weight=None, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(from_disk, in_memory)  # the same computation on equal rows


def test_lloyd_gives_the_same_partition_on_any_number_of_threads() -> None:
    X = blobs(8, 40_000, 3, 5)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    seeds = X[:5].astype(np.float64)
    threaded = lloyd(X, seeds, weights, max_iter=50, tol=0.0)
    with threadpool_limits(1):  # one worker: the chunks run serially
        serial = lloyd(X, seeds, weights, max_iter=50, tol=0.0)
    # The chunk sums are added in chunk order whatever the threads: the same operations.
    np.testing.assert_array_equal(threaded.labels, serial.labels)
    np.testing.assert_array_equal(threaded.centres, serial.centres)


@pytest.mark.parametrize("n_clusters", [3, 70])
def test_nearest_centre_is_the_smallest_distance(n_clusters: int) -> None:
    rng = np.random.default_rng(n_clusters)
    X = rng.normal(size=(3_000, 4)) + 1e6  # far from the origin
    centres = X[rng.choice(X.shape[0], n_clusters, replace=False)].astype(np.float64)
    partition = nearest_partition(X, centres)
    distances = ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    own = distances[np.arange(X.shape[0]), partition.labels]
    # The expanded distance about the centres' mean: round-off of a few ulps of |x - c|^2.
    assert (own <= distances.min(axis=1) * (1 + 1e-9) + 1e-9).all()
    np.testing.assert_allclose(partition.inertia, distances.min(axis=1).sum(), rtol=1e-9)
    np.testing.assert_array_equal(
        partition.weights, np.bincount(partition.labels, minlength=n_clusters)
    )


def test_the_blas_is_held_at_one_thread_while_the_start_runs(monkeypatch) -> None:
    seen: list[int] = []
    original = mixture._kmeans._labelling_pass

    def recording(*args, **kwargs):
        seen.extend(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")
        return original(*args, **kwargs)

    monkeypatch.setattr(mixture._kmeans, "_labelling_pass", recording)
    X = blobs(9, 6_000, 3, 3)
    KMeans(sample_size=SAMPLE).initialize(X, 3, sample_weight=None, rng=np.random.default_rng(0))
    assert seen and set(seen) == {1}


def test_a_sampled_start_holds_about_one_byte_per_row() -> None:
    """Twice the rows cost the labels (one byte per row) and chunk-sized temporaries, not
    arrays of one number per row."""

    def peak(X: np.ndarray) -> int:
        tracemalloc.start()
        baseline, _ = tracemalloc.get_traced_memory()
        KMeans().initialize(X, 3, sample_weight=None, rng=np.random.default_rng(0))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top - baseline

    small, large = blobs(0, 150_000, 8, 3), blobs(1, 300_000, 8, 3)
    peak(small)  # first use: loading the compiled kernels allocates too (run alone, it failed)
    assert peak(large) - peak(small) < 150_000 * 4 + 2 * 2**20  # 8 bytes a row would be 1.2 MB
