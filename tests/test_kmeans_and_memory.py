"""The chunked k-means initializer agrees with scikit-learn; fitting memory is bounded."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
from _helpers import blobs
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.cluster import kmeans_plusplus

from mixture import FullCovariance, GaussianFamily, KMeans, MixtureEM
from mixture._kmeans import lloyd


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
    tracemalloc.start()
    baseline, _ = tracemalloc.get_traced_memory()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
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
