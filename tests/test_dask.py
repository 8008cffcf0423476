"""Dask arrays and data frames: the fit on a cluster equals the fit in memory, whatever the
blocks; row errors name the row of the whole data; prediction stays lazy."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

import dask  # noqa: E402
import pandas as pd  # noqa: E402
import threadpoolctl  # noqa: E402

from mixture import (  # noqa: E402
    FullCovariance,
    GaussianFamily,
    GivenParameters,
    Mixture,
    MixtureEM,
    Poisson,
)
from mixture.distributed import (  # noqa: E402
    DaskExecutor,
    DaskSource,
    _active_client,
    predict_blocks,
    predict_proba_blocks,
    score_samples_blocks,
)
from mixture.executors import ThreadExecutor  # noqa: E402
from mixture.sources import ArraySource, row_sample  # noqa: E402

#: The in-memory fit adds its chunks' statistics in sequence, the Dask fit in a tree over other
#: blocks: the sums differ by a few ulps per iteration, a few hundred ulps after 20 iterations
#: (as for the row sources of tests/test_sources.py).
RTOL = 1e-10


def _gaussian_rows(n: int = 4000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [
            rng.normal(-3.0, 1.0, (n // 2, 3)),
            rng.normal(3.0, 1.5, (n // 4, 3)),
            rng.normal([0.0, 6.0, -4.0], 0.7, (n - n // 2 - n // 4, 3)),
        ]
    )


def _count_rows(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.poisson(2.0, (2000, 2)), rng.poisson(9.0, (1500, 2))]).astype(float)


def _poissons() -> list[Poisson]:
    return [Poisson([1.0, 1.0]), Poisson([5.0, 5.0])]


def _engine(model=None, **options) -> MixtureEM:
    model = GaussianFamily(3, FullCovariance()) if model is None else model
    return MixtureEM(model, random_state=0, tol=None, max_iter=20, init_sample_size=1000, **options)


def _fit(data, model=None, sample_weight=None, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unconverged by design (tol=None)
        return _engine(model, **options).fit(data, sample_weight)


def _parameters(result) -> np.ndarray:
    """The components' location parameters: Gaussian means or Poisson rates, (K, D)."""
    family = result.family
    if hasattr(family, "means"):
        return np.asarray(family.means)
    return np.array([component.rate for component in result.components])


def _same_fit(a, b) -> None:
    assert a.n_iter == b.n_iter  # both run max_iter iterations (tol=None)
    np.testing.assert_allclose(a.weights, b.weights, rtol=RTOL)
    np.testing.assert_allclose(a.log_likelihood_history, b.log_likelihood_history, rtol=RTOL)
    np.testing.assert_allclose(_parameters(a), _parameters(b), rtol=RTOL)


def _blas_limits() -> list[int]:
    return [info["num_threads"] for info in threadpoolctl.threadpool_info()]


# Runs first, before the module's cluster exists (pytest keeps the order of the file): with
# no scheduler configured it exercises the "no client" path.
@pytest.mark.parametrize("scheduler", [None, "threads", "synchronous"])
def test_without_a_client_dasks_local_scheduler_runs_the_fit(scheduler) -> None:
    X = _gaussian_rows()
    reference = _fit(X)
    before = _blas_limits()
    with dask.config.set(scheduler=scheduler):
        if scheduler is not None:
            assert _active_client() is None
        fitted = _fit(da.from_array(X, chunks=(700, 3)))
    _same_fit(fitted, reference)
    # The tasks hold the BLAS at one thread, counted across concurrent threads: the limit
    # the process had is back.
    assert _blas_limits() == before


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """Two worker processes of one thread, spilling (if ever) under a temporary folder.

    Dask's nanny writes the workers' environment (``OMP_NUM_THREADS=1``,
    ``MALLOC_TRIM_THRESHOLD_``, ...) into this process's ``os.environ`` before spawning them;
    it is restored at teardown so that later tests' subprocesses do not inherit it.
    """
    directory = str(tmp_path_factory.mktemp("dask-workers"))
    environment = dict(os.environ)
    with dask.config.set({"temporary-directory": directory}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            local_directory=directory,
        )
        client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
        os.environ.clear()
        os.environ.update(environment)


def _ran_on_the_cluster(stream: list[dict]) -> set[str]:
    return {task["key"][0] if isinstance(task["key"], tuple) else task["key"] for task in stream}


def test_a_dask_array_on_a_cluster_gives_the_in_memory_fit(client) -> None:
    X = _gaussian_rows()
    reference = _fit(X)
    assert _active_client() is client
    with distributed.get_task_stream(client) as tasks:
        fitted = _fit(da.from_array(X, chunks=(1000, 3)))
    _same_fit(fitted, reference)
    keys = _ran_on_the_cluster(tasks.data)
    assert any(key.startswith("_block_statistics") for key in keys)  # the E-step's tasks


def test_a_non_gaussian_family_on_a_cluster_gives_the_in_memory_fit(client) -> None:
    X = _count_rows()
    reference = _fit(X, _poissons())
    _same_fit(_fit(da.from_array(X, chunks=(900, 2)), _poissons()), reference)


def test_the_fit_does_not_depend_on_the_block_sizes(client) -> None:
    X = _gaussian_rows()
    few = _fit(da.from_array(X, chunks=(2000, 3)))
    many = _fit(da.from_array(X, chunks=(333, 2)))  # column blocks are merged
    _same_fit(few, many)
    # Blocks larger than the engine's chunks are cut inside their tasks.
    _same_fit(_fit(da.from_array(X, chunks=(2000, 3)), chunk_size=257), few)


def test_a_dask_data_frame_gives_the_in_memory_fit(client) -> None:
    X = _gaussian_rows()
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=3)
    assert DaskSource(frame).feature_names == ("a", "b", "c")
    _same_fit(_fit(frame), _fit(X))
    counts = dd.from_pandas(pd.DataFrame(_count_rows().astype(np.int64)), npartitions=4)
    _same_fit(_fit(counts, _poissons()), _fit(_count_rows(), _poissons()))


def test_a_data_frame_with_a_text_column_is_refused_by_name() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "label": ["u", "v"]})
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \['label'\]"):
        DaskSource(dd.from_pandas(frame, npartitions=1))


def test_dask_sample_weights_equal_in_memory_sample_weights(client) -> None:
    X = _gaussian_rows()
    weights = np.random.default_rng(5).integers(0, 4, X.shape[0]).astype(float)
    reference = _fit(X, sample_weight=weights)
    X_blocks = da.from_array(X, chunks=(1000, 3))
    _same_fit(_fit(X_blocks, sample_weight=da.from_array(weights, chunks=600)), reference)
    _same_fit(_fit(X_blocks, sample_weight=weights), reference)  # cut into X's blocks
    assert DaskSource(X_blocks, weights).total_weight() == pytest.approx(weights.sum(), rel=1e-15)


def test_row_errors_name_the_row_of_the_whole_data(client) -> None:
    X = _count_rows()
    start = Mixture([0.5, 0.5], [Poisson([2.0, 2.0]), Poisson([9.0, 9.0])])
    engine = _engine(_poissons(), initializer=GivenParameters(start))
    outside = X.copy()
    outside[2345, 1] = -1.0  # outside every Poisson's support
    with pytest.raises(ValueError, match=r"row 2345 has zero density under every component"):
        engine.run(da.from_array(outside, chunks=(1000, 2)), start)
    missing = X.copy()
    missing[3001, 0] = np.nan
    with pytest.raises(ValueError, match=r"NaN at row 3001, column 0"):
        engine.run(da.from_array(missing, chunks=(1000, 2)), start)
    weights = np.ones(X.shape[0])
    weights[1234] = -2.0
    with pytest.raises(ValueError, match=r"non-negative; found -2.0 at row 1234"):
        engine.run(da.from_array(X, chunks=(1000, 2)), start, da.from_array(weights, chunks=500))


def test_the_blocks_can_be_read_here_instead(client) -> None:
    X = _gaussian_rows()
    X_blocks = da.from_array(X, chunks=(700, 3))
    # ThreadExecutor reads every block into this process (DaskSource.chunks).
    _same_fit(_fit(X_blocks, executor=ThreadExecutor()), _fit(X))
    source = DaskSource(X_blocks)
    for size in (500, 5000):  # fewer and more rows than the data
        expected, _ = row_sample(ArraySource(X), size, seed=7)
        sampled, weights = source.row_sample(size, seed=7)
        np.testing.assert_array_equal(sampled, expected)  # the same rows, copied
        assert weights is None
    with pytest.raises(TypeError, match="DaskExecutor runs the blocks of a DaskSource"):
        DaskExecutor().e_step(_fit(X), ArraySource(X), 1024)


def test_prediction_is_lazy_and_equals_eager_prediction(client) -> None:
    X = _gaussian_rows()
    fitted = _fit(X)
    X_blocks = da.from_array(X, chunks=(900, 3))
    labels = predict_blocks(fitted, X_blocks, chunk_size=250)
    proba = predict_proba_blocks(fitted, X_blocks)
    density = score_samples_blocks(fitted, X_blocks)
    assert isinstance(labels, da.Array) and labels.chunks == (X_blocks.chunks[0],)
    assert proba.chunks == (X_blocks.chunks[0], (3,))
    # Labels are integers; every row's best component leads by far more than round-off.
    np.testing.assert_array_equal(labels.compute(), fitted.predict(X))
    # Per-row values through other chunk shapes: a few ulps of the log-joints.
    np.testing.assert_allclose(proba.compute(), fitted.predict_proba(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(density.compute(), fitted.score_samples(X), rtol=1e-12)
    outside = X.copy()
    outside[1801, 2] = np.inf
    with pytest.raises(ValueError, match=r"infinity at row 1801"):
        predict_blocks(fitted, da.from_array(outside, chunks=(900, 3))).compute()


def test_inputs_that_are_not_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="must be 2-D"):
        DaskSource(da.ones(10, chunks=5))
    with pytest.raises(ValueError, match="Dask series"):
        DaskSource(dd.from_pandas(pd.Series([1.0, 2.0]), npartitions=1))
    with pytest.raises(ValueError, match="sample_weight has 9 entries"):
        DaskSource(da.ones((10, 2), chunks=5), da.ones(9, chunks=3))
    with pytest.raises(ValueError, match="sample_weight has 9 entries"):
        DaskSource(da.ones((10, 2), chunks=5), np.ones(9))
    measured = DaskSource(dd.from_pandas(pd.DataFrame(np.ones((10, 2))), npartitions=3).values)
    assert measured.n_rows == 10 and measured.row_offsets[-1] == 10  # block sizes were unknown
    with pytest.raises(ValueError, match="must be numeric"):
        DaskSource(da.from_array(np.array([["a", "b"]])))


def test_a_fitted_mixture_predicts_lazily_on_dask_input(client) -> None:
    X = _gaussian_rows()
    fitted = _fit(X)
    X_blocks = da.from_array(X, chunks=(1100, 3))
    for method in ("predict", "predict_proba", "score_samples"):
        lazy = getattr(fitted, method)(X_blocks)
        assert isinstance(lazy, da.Array), method
        eager = getattr(fitted, method)(X)
        if method == "predict":
            np.testing.assert_array_equal(lazy.compute(), eager)
        else:
            np.testing.assert_allclose(lazy.compute(), eager, rtol=1e-12, atol=1e-14)


def test_the_scikit_learn_estimator_fits_dask_input_where_it_lives(client) -> None:
    from mixture import GaussianMixture

    X = _gaussian_rows()
    blocks = da.from_array(X, chunks=(1100, 3))
    in_memory = GaussianMixture(3, random_state=0, tol=1e-8).fit(X)
    on_cluster = GaussianMixture(3, random_state=0, tol=1e-8)
    labels = on_cluster.fit_predict(blocks)
    assert isinstance(labels, da.Array) and on_cluster.n_features_in_ == 3
    order = np.argsort(on_cluster.means_[:, 0])
    expected = np.argsort(in_memory.means_[:, 0])
    np.testing.assert_allclose(on_cluster.means_[order], in_memory.means_[expected], rtol=1e-6)
    np.testing.assert_allclose(
        on_cluster.predict_proba(blocks).compute()[:, order],
        in_memory.predict_proba(X)[:, expected],
        atol=1e-6,
    )
