"""Row sources: arrays, memory maps, files and factories give the same fit, chunk by chunk."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixture import FullCovariance, GaussianFamily, MixtureEM, Poisson
from mixture.sources import ArraySource, FactorySource, TableSource, as_source, row_sample
from mixture.tables import TableError

#: Two fits of the same rows through different chunkings differ by the summation order of
#: their statistics only: a few hundred ulps after 30 iterations.
RTOL = 1e-10


def _gaussian_rows(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(-3, 1, (n // 2, 3)), rng.normal(3, 1.5, (n - n // 2, 3))])


def _write_csv(path, X: np.ndarray, names: str = "a,b,c") -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(names + "\n")
        np.savetxt(handle, X, delimiter=",", fmt="%.17g")


def _fit(data, model=None, **options):
    model = GaussianFamily(2, FullCovariance()) if model is None else model
    engine = MixtureEM(
        model, random_state=0, tol=None, max_iter=30, init_sample_size=500, **options
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return engine.fit(data)


def _same_fit(a, b) -> None:
    np.testing.assert_allclose(a.weights, b.weights, rtol=RTOL)
    np.testing.assert_allclose(a.log_likelihood_history, b.log_likelihood_history, rtol=RTOL)
    for left, right in zip(a.components, b.components, strict=True):
        probe = np.zeros((1, a.n_features)) + 1.0
        np.testing.assert_allclose(left.log_density(probe), right.log_density(probe), rtol=RTOL)


def test_every_source_gives_the_in_memory_fit(tmp_path) -> None:
    X = _gaussian_rows()
    np.save(tmp_path / "x.npy", X)
    _write_csv(tmp_path / "x.csv", X)
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {"a": X[:, 0], "b": X[:, 1], "c": X[:, 2]}
    pq.write_table(pa.table(columns), tmp_path / "x.parquet", row_group_size=700)
    reference = _fit(X)
    sources = {
        "memmap": np.load(tmp_path / "x.npy", mmap_mode="r"),
        "npy path": str(tmp_path / "x.npy"),
        "csv path": tmp_path / "x.csv",
        "parquet path": str(tmp_path / "x.parquet"),
        "csv, 333-row blocks": TableSource(tmp_path / "x.csv", block_rows=333),
        "factory of 777-row arrays": lambda: (X[i : i + 777] for i in range(0, len(X), 777)),
    }
    for name, source in sources.items():
        fitted = _fit(source)
        assert fitted.n_iter == reference.n_iter, name
        _same_fit(fitted, reference)


def test_the_fit_does_not_depend_on_chunk_sizes_for_a_non_gaussian_family(tmp_path) -> None:
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.poisson(2.0, (2000, 2)), rng.poisson(9.0, (1500, 2))]).astype(float)
    _write_csv(tmp_path / "counts.csv", X, names="u,v")
    model = [Poisson([1.0, 1.0]), Poisson([5.0, 5.0])]
    reference = _fit(X, model)
    for chunk_size in (97, 1024):
        _same_fit(_fit(X, model, chunk_size=chunk_size), reference)
        _same_fit(_fit(tmp_path / "counts.csv", model, chunk_size=chunk_size), reference)
    assert abs(sorted(c.rate[0] for c in reference.components)[1] - 9.0) < 0.3


def test_weights_from_a_factory_equal_sample_weight() -> None:
    X = _gaussian_rows(1200)
    weights = np.random.default_rng(2).uniform(0.1, 3.0, len(X))
    engine = MixtureEM(
        GaussianFamily(2, FullCovariance()),
        random_state=0,
        tol=None,
        max_iter=20,
        init_sample_size=400,
    )

    def pairs():
        return ((X[i : i + 250], weights[i : i + 250]) for i in range(0, 1200, 250))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        in_memory = engine.fit(X, weights)
        streamed = engine.fit(pairs)
    _same_fit(streamed, in_memory)


def test_a_small_array_initialises_on_all_its_rows_as_before() -> None:
    X = _gaussian_rows(400)
    sampled = MixtureEM(GaussianFamily(2, FullCovariance()), random_state=3, init_sample_size=None)
    default = MixtureEM(GaussianFamily(2, FullCovariance()), random_state=3)
    np.testing.assert_array_equal(sampled.fit(X).family.means, default.fit(X).family.means)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    chunk_rows=st.integers(1, 400),
    size=st.integers(1, 300),
)
def test_the_sample_ignores_row_order_and_chunking(seed: int, chunk_rows: int, size: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(500, 2))
    X[100:110] = X[0]  # equal rows draw equal numbers
    order = rng.permutation(len(X))
    first, _ = row_sample(ArraySource(X), size, seed=seed % 1000, chunk_rows=chunk_rows)
    shuffled, _ = row_sample(ArraySource(X[order]), size, seed=seed % 1000, chunk_rows=97)
    np.testing.assert_array_equal(first, shuffled)
    assert first.shape == (min(size, len(X) - 10), 2)  # the 11 equal rows enter as one


def test_the_sample_is_uniform_over_rows() -> None:
    X = np.arange(20000, dtype=float)[:, None]
    counts = np.zeros(len(X))
    for seed in range(50):
        sample, _ = row_sample(ArraySource(X), 2000, seed=seed)
        counts[sample[:, 0].astype(int)] += 1
    # Each row is in a sample with probability 0.1: 50 samples give a binomial count.
    halves = counts.reshape(2, -1).sum(axis=1)  # early rows are not favoured over late ones
    expected = 0.1 * 50 * len(X) / 2
    assert np.all(np.abs(halves - expected) < 6 * np.sqrt(expected * 0.9))


def test_rows_of_zero_weight_are_never_sampled() -> None:
    X = np.arange(100, dtype=float)[:, None]
    weights = np.where(np.arange(100) % 2 == 0, 1.0, 0.0)
    sample, sampled_weights = row_sample(ArraySource(X, weights), 1000, seed=0)
    assert sample.shape[0] == 50 and (sample[:, 0] % 2 == 0).all()
    assert sampled_weights is not None and (sampled_weights == 1.0).all()


def test_a_one_shot_iterator_is_refused_with_a_pointer_to_online_em() -> None:
    X = _gaussian_rows(200)
    with pytest.raises(TypeError, match="OnlineEM"):
        MixtureEM(GaussianFamily(2, FullCovariance())).fit(iter([X]))
    with pytest.raises(TypeError, match="OnlineEM"):
        MixtureEM(GaussianFamily(2, FullCovariance())).fit(x for x in [X])


def test_chunks_are_validated_with_the_row_of_the_whole_data(tmp_path) -> None:
    X = _gaussian_rows(1000)
    broken = X.copy()
    broken[613, 1] = np.nan
    factory = FactorySource(lambda: (broken[i : i + 200] for i in range(0, 1000, 200)))
    with pytest.raises(ValueError, match="NaN at row 613, column 1"):
        _fit(factory)
    with pytest.raises(ValueError, match="X has 2 features, but the model was fitted with 3"):
        _fit(FactorySource(lambda: iter([X, X[:, :2]]), n_features=3))
    lines = (tmp_path / "bad.csv").open("w", encoding="utf-8")
    lines.write("a,b,c\n")
    np.savetxt(lines, X[:700], delimiter=",")
    lines.write("1.0,oops,2.0\n")
    lines.close()
    with pytest.raises(TableError, match=r"bad\.csv, line 702, column .b.: .oops. is not"):
        _fit(TableSource(tmp_path / "bad.csv", block_rows=100))


def test_sample_weight_belongs_to_in_memory_data(tmp_path) -> None:
    X = _gaussian_rows(300)
    _write_csv(tmp_path / "x.csv", X)
    with pytest.raises(ValueError, match="sample_weight cannot be given with a file"):
        as_source(tmp_path / "x.csv", np.ones(300))
    with pytest.raises(ValueError, match="inside the row source"):
        as_source(ArraySource(X), np.ones(300))


def test_an_array_source_is_a_view_of_a_memory_map(tmp_path) -> None:
    np.save(tmp_path / "x.npy", _gaussian_rows(100))
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    source = as_source(mapped)
    assert isinstance(source, ArraySource) and np.shares_memory(source.X, mapped)
    first = next(source.chunks(10))
    assert np.shares_memory(first.X, mapped) and first.first_row == 0


def test_model_selection_reads_a_file_and_chooses_as_in_memory(tmp_path) -> None:
    from mixture import select_model
    from mixture.gaussian import DiagonalCovariance, FullCovariance

    X = _gaussian_rows(1500, seed=5)
    _write_csv(tmp_path / "x.csv", X)
    grid = {"n_components": range(1, 4), "structures": [FullCovariance(), DiagonalCovariance()]}
    in_memory = select_model(X, random_state=0, **grid)
    streamed = select_model(tmp_path / "x.csv", random_state=0, **grid)
    assert (streamed.best.model, streamed.best.n_components) == (
        in_memory.best.model,
        in_memory.best.n_components,
    )
    for a, b in zip(in_memory.candidates, streamed.candidates, strict=True):
        for criterion in ("bic", "aic", "icl"):
            assert getattr(b, criterion) == pytest.approx(getattr(a, criterion), rel=RTOL)


def test_scores_of_a_source_equal_those_of_the_array(tmp_path) -> None:
    X = _gaussian_rows(2000, seed=6)
    weights = np.random.default_rng(6).uniform(0.5, 2.0, len(X))
    fitted = _fit(X)
    source = FactorySource(
        lambda: ((X[i : i + 300], weights[i : i + 300]) for i in range(0, 2000, 300))
    )
    for name in ("score", "bic", "aic", "icl"):
        expected = getattr(fitted, name)(X, weights)
        assert getattr(fitted, name)(source) == pytest.approx(expected, rel=RTOL), name
    with pytest.raises(ValueError, match="carries its own sample weights"):
        fitted.score(source, weights)


def test_an_executor_of_its_own_threads_gives_the_same_fit() -> None:
    from mixture.executors import ThreadExecutor

    X = _gaussian_rows(3000, seed=8)
    shared = _fit(X, chunk_size=400)
    for threads in (1, 3):
        own = _fit(X, chunk_size=400, executor=ThreadExecutor(threads))
        _same_fit(own, shared)
    with pytest.raises(ValueError, match="n_threads"):
        ThreadExecutor(0)


def test_repeated_rows_enter_the_sample_once_with_their_count() -> None:
    rng = np.random.default_rng(9)
    counts = rng.poisson(4.0, (300_000, 1)).astype(float)  # 20-odd distinct values
    sample, weights = row_sample(ArraySource(counts), 1000, seed=0)
    values, multiplicity = np.unique(counts, return_counts=True)
    np.testing.assert_array_equal(np.sort(sample[:, 0]), values)  # every value, once
    assert weights is not None
    np.testing.assert_array_equal(weights[np.argsort(sample[:, 0])], multiplicity)


def test_a_seeded_generator_gives_reproducible_sampled_fits() -> None:
    X = _gaussian_rows(6000, seed=10)

    def fit():
        engine = MixtureEM(
            GaussianFamily(2, FullCovariance()),
            random_state=np.random.default_rng(0),
            init_sample_size=500,
            max_iter=5,
            tol=None,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return engine.fit(X)

    np.testing.assert_array_equal(fit().family.means, fit().family.means)


def test_a_factory_source_closes_what_it_opened() -> None:
    closed = []

    def batches():
        try:
            yield from (_gaussian_rows(600)[i : i + 200] for i in range(0, 600, 200))
        finally:
            closed.append(True)

    source = FactorySource(batches)  # reads one chunk to learn the width
    assert closed == [True]
    for _ in source.chunks(100):
        break
    assert closed == [True, True]
