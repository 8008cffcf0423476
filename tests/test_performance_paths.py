"""Correctness of the fast E-step and M-step paths (see docs/performance.md).

The Gaussian structures evaluate log-densities by expanded GEMMs or by projection, fall
back to direct evaluation where an expansion would cancel, take diagonal and spherical
scatters from raw moments with a centred recomputation where those cancel, split the tied
scatter into a within-row and a between-component part; the engine and the prediction
methods run the chunks of a pass in parallel threads. Every path is checked here against
references computed independently (scipy, or plain numpy centring each component), and
the threads against a serial run; no test measures time.
"""

from __future__ import annotations

import pickle
import threading
import warnings

import numpy as np
import pytest
from _helpers import assert_close_in_ulps
from scipy.stats import multivariate_normal
from threadpoolctl import threadpool_info, threadpool_limits

from mixture import (
    DiagonalCovariance,
    FullCovariance,
    GaussianFamily,
    Mixture,
    MixtureEM,
    SphericalCovariance,
    TiedCovariance,
)
from mixture import _chunking as chunking
from mixture._chunking import (
    MAX_CHUNK_ROWS,
    MIN_CHUNK_ROWS,
    auto_chunk_size,
    map_chunks,
    parallel_map,
    sum_chunks,
    worker_count,
)
from mixture._responsibilities import log_density_and_responsibilities
from mixture.gaussian import kernels

STRUCTURES = {
    "full": FullCovariance(),
    "tied": TiedCovariance(),
    "diag": DiagonalCovariance(),
    "spherical": SphericalCovariance(),
}


def covariances_for(name: str, n_components: int, n_features: int, rng) -> np.ndarray:
    if name == "full":
        a = rng.normal(size=(n_components, n_features, n_features)) / np.sqrt(n_features)
        return a @ a.transpose(0, 2, 1) + 0.3 * np.eye(n_features)
    if name == "tied":
        a = rng.normal(size=(n_features, n_features)) / np.sqrt(n_features)
        return a @ a.T + 0.3 * np.eye(n_features)
    if name == "diag":
        return rng.uniform(0.3, 3.0, size=(n_components, n_features))
    return rng.uniform(0.3, 3.0, size=n_components)


def dense(name: str, covariances: np.ndarray, k: int, n_features: int) -> np.ndarray:
    if name == "full":
        return covariances[k]
    if name == "tied":
        return covariances
    if name == "diag":
        return np.diag(covariances[k])
    return covariances[k] * np.eye(n_features)


def scipy_log_density(name, means, covariances, X) -> np.ndarray:
    n_features = means.shape[1]
    return np.stack(
        [
            multivariate_normal(means[k], dense(name, covariances, k, n_features)).logpdf(X)
            for k in range(means.shape[0])
        ],
        axis=1,
    )


def problem(name: str, n_components: int, n_features: int, seed: int, far: bool = False):
    """A family and rows around its means; with ``far``, component 0 is narrow and far
    from the others (so expansions about the mean of the means would cancel)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 3.0, size=(n_components, n_features))
    covariances = covariances_for(name, n_components, n_features, rng)
    if far:
        means[0] += 400.0
        if name == "full":
            covariances[0] = 1e-4 * np.eye(n_features)
        elif name == "diag":
            covariances[0] = 1e-4
        elif name == "spherical":
            covariances[0] = 1e-4
        else:  # tied: one narrow shared covariance
            covariances = 1e-4 * np.eye(n_features)
    family = GaussianFamily(n_components, STRUCTURES[name], means=means, covariances=covariances)
    labels = rng.integers(n_components, size=3000)
    scale = np.sqrt(np.diag(dense(name, covariances, 0, n_features))).max() if far else 1.5
    X = means[labels] + rng.normal(0.0, scale, size=(3000, n_features))
    return family, means, covariances, X


# -- log-densities ---------------------------------------------------------------------------
CASES = [
    # (structure, K, D, far): which kernel path each one takes is asserted below.
    ("full", 8, 6, False),  # expanded
    ("full", 2, 12, False),  # projected (cheaper for few components)
    ("full", 8, 6, True),  # expanded, component 0 projected
    ("tied", 5, 4, False),
    ("tied", 5, 4, True),
    ("diag", 6, 5, False),
    ("diag", 6, 5, True),
    ("spherical", 6, 5, False),
    ("spherical", 6, 5, True),
]


@pytest.mark.parametrize(("name", "n_components", "n_features", "far"), CASES)
def test_log_density_paths_match_scipy(name, n_components, n_features, far) -> None:
    family, means, covariances, X = problem(name, n_components, n_features, 3, far)
    out = family.log_density(X)
    assert out.shape == (X.shape[0], n_components)
    assert out.flags.f_contiguous  # columns contiguous for the log-sum-exp
    expected = scipy_log_density(name, means, covariances, X)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-9)

    kernel = family._kernel(np.dtype(np.float64))
    if name == "full":
        expanded = set(kernel._expanded.tolist())
        if n_features == 12:
            assert not expanded  # the projection is cheaper
        elif far:
            assert 0 not in expanded and len(expanded) == n_components - 1
        else:
            assert len(expanded) == n_components
    elif far and name != "tied":
        assert kernel._direct.tolist() == [0]
    elif not far:
        assert kernel._direct.size == 0


@pytest.mark.parametrize(("name", "n_components", "n_features", "far"), CASES)
def test_float32_log_density_paths(name, n_components, n_features, far) -> None:
    family, _, _, X = problem(name, n_components, n_features, 4, far)
    X32 = X.astype(np.float32)
    out32 = family.log_density(X32)
    assert out32.dtype == np.float32
    out64 = family.log_density(X32.astype(np.float64))
    magnitude = np.maximum(1.0, np.abs(out64))
    # float32 rows far from the origin: relative to the log-density and its distance term.
    tolerance = 2e-4 if not far else 5e-2
    assert np.max(np.abs(out32 - out64) / magnitude) < tolerance


def test_log_density_far_from_origin_equals_near() -> None:
    _, means, covariances, X = problem("full", 8, 6, 5)
    offset = 1e6
    grid = 2.0**-20
    X = np.round(X / grid) * grid
    means = np.round(means / grid) * grid
    near = GaussianFamily(8, FullCovariance(), means=means, covariances=covariances)
    far = GaussianFamily(8, FullCovariance(), means=means + offset, covariances=covariances)
    np.testing.assert_allclose(far.log_density(X + offset), near.log_density(X), atol=1e-8)


def test_empty_and_tiny_chunks() -> None:
    for name in STRUCTURES:
        family, _, _, X = problem(name, 4, 3, 6)
        assert family.log_density(X[:0]).shape == (0, 4)
        np.testing.assert_allclose(family.log_density(X[:1]), family.log_density(X)[:1])


# -- chunk statistics -------------------------------------------------------------------------
def centred_reference(name: str, X: np.ndarray, W: np.ndarray):
    """Weights, means and scatter of each component, centring each component exactly."""
    weight = W.sum(axis=0)
    means = (W.T @ X) / weight[:, None]
    full = np.stack(
        [(W[:, k, None] * (X - means[k])).T @ (X - means[k]) for k in range(W.shape[1])]
    )
    scatter = {
        "full": full,
        "tied": full.sum(axis=0),
        "diag": np.diagonal(full, axis1=1, axis2=2),
        "spherical": np.trace(full, axis1=1, axis2=2),
    }[name]
    return weight, means, scatter


def scaled_error(actual, expected) -> float:
    return float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))


@pytest.mark.parametrize("name", list(STRUCTURES))
@pytest.mark.parametrize("layout", ["F", "C"])
def test_chunk_moments_match_centred_reference(name, layout) -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(2500, 4)) * [1.0, 2.0, 0.5, 3.0] + [5.0, -2.0, 0.0, 1.0]
    W = np.asarray(rng.dirichlet(np.ones(3), size=2500), order=layout)
    weight, mean, scatter = STRUCTURES[name].form.chunk_moments(X, W)
    expected = centred_reference(name, X, W)
    # Column sums of 2500 responsibilities, by the kernel and by numpy: about 2500 ulps.
    assert_close_in_ulps(weight, expected[0], 2500)
    assert scaled_error(mean, expected[1]) < 1e-13
    assert scaled_error(scatter, expected[2]) < 1e-12


@pytest.mark.parametrize("name", ["diag", "spherical"])
def test_raw_moments_fall_back_to_centring_where_they_cancel(name) -> None:
    # Component 1 is narrow (sd 1e-3) and lies 1e4 from the chunk's first row: its raw
    # moment exceeds the centred one by ~1e14, so it must be recomputed centred.
    rng = np.random.default_rng(8)
    near = rng.normal(size=(500, 3))
    far = 1e4 + 1e-3 * rng.normal(size=(500, 3))
    X = np.concatenate([near, far])
    W = np.zeros((1000, 2))
    W[:500, 0] = 1.0
    W[500:, 1] = 1.0
    _, _, scatter = STRUCTURES[name].form.chunk_moments(X, W)
    expected = centred_reference(name, X, W)
    np.testing.assert_allclose(scatter, expected[2], rtol=1e-9)


def test_tied_scatter_with_unweighted_rows_and_empty_component() -> None:
    rng = np.random.default_rng(9)
    X = rng.normal(size=(3000, 3)) + 1e6
    W = rng.dirichlet(np.ones(4), size=3000)
    W[:100] = 0.0  # rows with zero total weight (zero sample weight)
    W[:, 2] = 0.0  # an empty component
    weight, _, scatter = TiedCovariance().form.chunk_moments(X, W)
    nonempty = [0, 1, 3]  # an empty component adds nothing to the pooled scatter
    expected = centred_reference("tied", X - 1e6, W[:, nonempty])
    assert weight[2] == 0.0
    assert scaled_error(scatter, expected[2]) < 1e-10


@pytest.mark.parametrize("name", list(STRUCTURES))
def test_chunk_moments_of_float32_rows(name) -> None:
    rng = np.random.default_rng(10)
    X = (rng.normal(size=(3000, 5)) * 2.0 + 3.0).astype(np.float32)
    W = rng.dirichlet(np.ones(3), size=3000).astype(np.float32)
    _, mean, scatter = STRUCTURES[name].form.chunk_moments(X, W)
    expected = centred_reference(name, X.astype(np.float64), W.astype(np.float64))
    assert scatter.dtype == np.float64
    assert scaled_error(mean, expected[1]) < 1e-5
    assert scaled_error(scatter, expected[2]) < 1e-5


# -- fused E-step ------------------------------------------------------------------------------
def two_pass(family, X, log_weights, sample_weight):
    """The engine's generic E-step: log-densities, log-sum-exp, then statistics."""
    joint = np.asarray(family.log_density(X) + log_weights, order="F")
    log_density = log_density_and_responsibilities(joint)
    if sample_weight is not None:
        joint *= sample_weight[:, None]
        log_likelihood = float(np.dot(sample_weight, log_density))
    else:
        log_likelihood = float(log_density.sum())
    return joint.sum(axis=0), family.statistics(X, joint), log_likelihood


FUSED_CASES = [
    ("full", 8, 6, False, True),  # every component expanded: fused
    ("full", 2, 12, False, False),  # projected: two passes
    ("full", 8, 6, True, False),  # component 0 projected: two passes
    ("tied", 5, 4, False, True),  # responsibilities from whitened rows, moments from rows
    ("tied", 5, 4, True, False),  # component 0 evaluated directly: two passes
    ("diag", 6, 5, False, True),
    ("diag", 6, 1, False, True),  # one feature: the scatter keeps its (K, 1) shape
    ("diag", 6, 5, True, False),  # component 0 evaluated directly: two passes
    ("spherical", 6, 5, False, True),
]


@pytest.mark.parametrize(("name", "n_components", "n_features", "far", "fused"), FUSED_CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_e_step_equals_two_passes(
    name, n_components, n_features, far, fused, weighted
) -> None:
    family, _, _, X = problem(name, n_components, n_features, 21, far)
    rng = np.random.default_rng(22)
    log_weights = np.log(rng.dirichlet(np.ones(n_components)))
    log_weights[-1] = -np.inf  # a component of weight 0 gets no responsibility
    sample_weight = rng.uniform(0.0, 3.0, X.shape[0]) if weighted else None
    result = family.fused_e_step(X, log_weights, sample_weight)
    assert (result is not None) == fused
    if result is None:
        return
    weight, statistics, log_likelihood = result
    expected_weight, expected, expected_log_likelihood = two_pass(
        family, X, log_weights, sample_weight
    )
    assert weight[-1] == 0.0
    np.testing.assert_allclose(weight, expected_weight, rtol=1e-12)
    np.testing.assert_allclose(log_likelihood, expected_log_likelihood, rtol=1e-12)
    np.testing.assert_allclose(statistics.mean[:-1], expected.mean[:-1], rtol=1e-10, atol=1e-10)
    assert statistics.scatter.shape == expected.scatter.shape
    np.testing.assert_allclose(statistics.scatter, expected.scatter, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("n_features", "fused"), [(6, True), (40, False)])
def test_float32_rows_take_the_float64_fused_pass_at_small_d(n_features, fused) -> None:
    # Full covariance: the float32 kernel projects (no fused pass); up to
    # FUSED_FLOAT32_MAX_FEATURES features the float64 fused pass runs on the float32 rows,
    # giving exactly what it gives for the same values in float64.
    family, _, _, X = problem("full", 8, n_features, 26)
    X32 = X.astype(np.float32)
    log_weights = np.log(np.full(8, 1 / 8))
    result = family.fused_e_step(X32, log_weights, None)
    assert (result is not None) == fused
    if result is None:
        return
    weight, statistics, log_likelihood = result
    expected_weight, expected, expected_ll = family.fused_e_step(
        X32.astype(np.float64), log_weights, None
    )
    # Exact on purpose: the same float64 kernel, blocks and operations on the same values (the
    # float32 rows are widened exactly when shifted); not a float32-versus-float64 comparison.
    np.testing.assert_array_equal(weight, expected_weight)
    np.testing.assert_array_equal(statistics.scatter, expected.scatter)
    assert log_likelihood == expected_ll


@pytest.mark.parametrize("name", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("limit", [0.0, np.inf])
def test_fused_scatter_with_and_without_centred_recomputation(name, limit, monkeypatch) -> None:
    # limit 0 recomputes every component's scatter from centred rows, inf none: both agree
    # with the two-pass statistics here (the data lie near the reference point).
    monkeypatch.setattr(kernels, "SCATTER_LIMIT", limit)
    family, _, _, X = problem(name, 6, 4, 23)
    log_weights = np.log(np.full(6, 1 / 6))
    _, statistics, _ = family.fused_e_step(X, log_weights, None)
    _, expected, _ = two_pass(family, X, log_weights, None)
    np.testing.assert_allclose(statistics.scatter, expected.scatter, rtol=1e-9, atol=1e-9)


def _recomputed_components(family, seed: int) -> tuple[list[int], object, object]:
    """Three tight clusters at the family's means: the components whose scatter the fused
    E-step recomputes from centred rows (a spy on the kernel), its statistics and the
    two-pass ones."""
    means = family.means
    rng = np.random.default_rng(seed)
    X = means[rng.integers(3, size=2000)] + rng.normal(size=(2000, 2))
    log_weights = np.log(np.full(3, 1 / 3))
    kernel = family._kernel(np.dtype(np.float64))
    recomputed: list[int] = []
    centred_scatter = kernel._centred_scatter

    def spy(X, weights, means):
        recomputed.append(weights.shape[1])
        return centred_scatter(X, weights, means)

    kernel._centred_scatter = spy
    _, statistics, _ = family.fused_e_step(X, log_weights, None)
    _, expected, _ = two_pass(family, X, log_weights, None)
    return recomputed, statistics, expected


FAR_MEANS = np.array([[0.0, 0.0], [200.0, 200.0], [-200.0, -200.0]])


def test_fused_scatter_recomputes_components_far_from_the_reference() -> None:
    # Components 1 and 2 sit 200 standard deviations from the reference point (the mean of
    # the means), still expanded in the E-step: their raw second moments cancel by a factor
    # 4e4 > SCATTER_LIMIT, so their scatter is recomputed from centred rows.
    family = GaussianFamily(3, DiagonalCovariance(), means=FAR_MEANS, covariances=np.ones((3, 2)))
    recomputed, statistics, expected = _recomputed_components(family, 24)
    assert recomputed == [2]
    np.testing.assert_allclose(statistics.scatter, expected.scatter, rtol=1e-12)


def test_fused_tied_scatter_is_recomputed_where_the_pooled_moment_cancels() -> None:
    # Three tight clusters 200 standard deviations apart: the pooled raw second moment about
    # the mean of the means exceeds the within-component scatter by a factor of about 2.7e4
    # > SCATTER_LIMIT, so the pooled scatter is recomputed from exactly centred rows.
    family = GaussianFamily(3, TiedCovariance(), means=FAR_MEANS, covariances=np.eye(2))
    recomputed, statistics, expected = _recomputed_components(family, 25)
    assert recomputed == [3]
    np.testing.assert_allclose(statistics.scatter, expected.scatter, rtol=1e-12)


# -- errors name the row of the data ---------------------------------------------------------
@pytest.mark.parametrize("name", list(STRUCTURES))
def test_row_errors_name_the_row_of_the_data_not_of_the_chunk_or_block(name) -> None:
    # 20,000 rows in chunks of 3,000 (and the fused kernels' blocks inside them): the row
    # with an impossible value is numbered as in the data, by fit and by prediction (its
    # density is 0, or NaN where its square overflows).
    _, _, _, X = problem(name, 4, 3, 25)
    X = np.concatenate([X] * 7)[:20_000]
    X[13_579] = 1e200
    em = MixtureEM(GaussianFamily(4, STRUCTURES[name]), max_iter=2, chunk_size=3000)
    mixture = em.initialize(X[:1000])
    with pytest.raises(ValueError, match=r"\brow 13579 (has|is)\b"):
        em.fit(X, warm_start=mixture)
    for method in (mixture.predict, mixture.predict_proba, mixture.score_samples):
        with pytest.raises(ValueError, match=r"\brow 13579 (has|is)\b"):
            method(X, chunk_size=3000)


# -- threads -----------------------------------------------------------------------------------
def _two_workers_recording_threads(monkeypatch) -> set[str]:
    """Two workers (on any machine), and the names of the threads chunks run in."""
    seen: set[str] = set()
    chunk_statistics = Mixture.chunk_statistics

    def recording(self, *args, **kwargs):
        seen.add(threading.current_thread().name)
        return chunk_statistics(self, *args, **kwargs)

    monkeypatch.setattr(chunking, "worker_count", lambda: 2)
    monkeypatch.setattr(chunking, "_cpu_count", lambda: 2)
    monkeypatch.setattr(chunking, "_POOL", None)
    monkeypatch.setattr(Mixture, "chunk_statistics", recording)
    return seen


@pytest.mark.parametrize("name", list(STRUCTURES))
def test_threads_do_not_change_the_fit(name, monkeypatch) -> None:
    rng = np.random.default_rng(11)
    centres = rng.normal(0.0, 4.0, size=(4, 6))
    X = centres[rng.integers(4, size=20_000)] + rng.normal(size=(20_000, 6))

    def fit():
        em = MixtureEM(
            GaussianFamily(4, STRUCTURES[name]),
            tol=None,
            max_iter=4,
            random_state=0,
            chunk_size=1500,  # 14 chunks, shared among the threads
        )
        with pytest.warns(Warning):
            return em.fit(X)

    def outputs(result):
        methods = (result.predict_proba, result.score_samples, result.predict)
        return [method(X, chunk_size=1500) for method in methods] + [
            result.icl(X, chunk_size=1500),
            result.score(X, chunk_size=1500),
        ]

    with threadpool_limits(limits=1, user_api="blas"):
        assert worker_count() == 1
        serial = fit()
        serial_outputs = outputs(serial)
    # Two workers even on a one-core machine, so the threaded path always runs here, and
    # the chunks must be seen running in the pool's threads.
    seen = _two_workers_recording_threads(monkeypatch)
    monkeypatch.setattr(chunking, "PARALLEL_MIN_VALUES", 0)  # this small pass, threaded
    threaded = fit()
    threaded_outputs = outputs(threaded)
    assert any(thread.startswith("mixture") for thread in seen)
    # Exact on purpose: both fits and all outputs cut the data into the same chunks
    # (chunk_size=1500, so the BLAS sees the same shapes), each chunk is computed alike in any
    # thread, on a one-thread BLAS either way, and the chunks' results are combined in chunk
    # order: only the scheduling differs, so the results are identical, not merely close.
    for threaded_output, serial_output in zip(threaded_outputs, serial_outputs, strict=True):
        np.testing.assert_array_equal(threaded_output, serial_output)
    np.testing.assert_array_equal(threaded.family.means, serial.family.means)
    np.testing.assert_array_equal(threaded.family.covariances, serial.family.covariances)
    np.testing.assert_array_equal(threaded.log_likelihood_history, serial.log_likelihood_history)


def blas_limits() -> list[int]:
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_blas_thread_limits_are_restored_after_concurrent_fits() -> None:
    before = blas_limits()
    rng = np.random.default_rng(12)
    X = rng.normal(size=(20_000, 5))
    errors: list[BaseException] = []

    def fit() -> None:
        try:
            MixtureEM(GaussianFamily(3, FullCovariance()), tol=None, max_iter=3).fit(X)
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    threads = [threading.Thread(target=fit) for _ in range(3)]
    with warnings.catch_warnings():  # not converged after 3 iterations, in every thread
        warnings.simplefilter("ignore")
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    assert blas_limits() == before


def test_parallel_map_keeps_order_and_runs_nested_calls_serially() -> None:
    def square_all(values: list[int]) -> list[int]:
        return parallel_map(lambda v: v * v, values)

    assert parallel_map(square_all, [[1, 2], [3], [4, 5, 6]]) == [[1, 4], [9], [16, 25, 36]]
    assert parallel_map(lambda v: v, []) == []


def test_sum_chunks_adds_in_chunk_order_and_map_chunks_keeps_order() -> None:
    # Strings: + is not commutative, so any reordering of the chunks would show.
    def label(rows: slice) -> str:
        return f"[{rows.start}:{rows.stop}]"

    for n_rows, chunk_size in [(10, 3), (1, 4), (1000, 7), (50, 50)]:
        expected = "".join(
            f"[{start}:{min(start + chunk_size, n_rows)}]" for start in range(0, n_rows, chunk_size)
        )
        assert sum_chunks(label, n_rows, chunk_size) == expected
        assert "".join(map_chunks(label, n_rows, chunk_size)) == expected


def test_an_error_in_a_chunk_is_raised_to_the_caller() -> None:
    def failing(rows: slice) -> int:
        if rows.start == 30:
            raise ValueError("chunk 30 failed")
        return 1

    with pytest.raises(ValueError, match="chunk 30 failed"):
        sum_chunks(failing, 100, 10)


def test_chunk_size() -> None:
    for n_components, n_features in [(1, 1), (5, 2), (64, 64), (1000, 1000)]:
        size = auto_chunk_size(n_components, n_features)
        assert MIN_CHUNK_ROWS <= size <= MAX_CHUNK_ROWS


def test_pickled_family_rebuilds_its_kernels() -> None:
    family, _, _, X = problem("full", 8, 6, 13)
    before = family.log_density(X)
    copy = pickle.loads(pickle.dumps(family))
    assert "_kernels" not in copy.__dict__
    np.testing.assert_array_equal(copy.log_density(X), before)


def test_small_passes_run_in_the_calling_thread(monkeypatch) -> None:
    """Below PARALLEL_MIN_VALUES a pass is not handed to threads (their overhead would
    exceed the work), whatever the number of workers; the chunks are the same."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20_000, 6))  # 20,000 x (4 + 3 * 6 + 2) values: below the threshold
    seen = _two_workers_recording_threads(monkeypatch)
    assert 20_000 * (4 + 3 * 6 + 2) < chunking.PARALLEL_MIN_VALUES
    MixtureEM(GaussianFamily(4), tol=None, max_iter=2, random_state=0, chunk_size=1500).fit(X)
    assert seen == {threading.current_thread().name}
