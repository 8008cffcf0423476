"""The compiled kernels of the start agree with their numpy twins.

Row keys are integer hashes: the same bits, compared exactly. Squared distances are sums
over features in another order (vectorised), compared in units of float resolution: a sum
of D squares rounds by at most about D units of the total. Choices (labels, seeds, race
winners) are compared exactly on data without near-ties, where round-off cannot flip them.
"""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import assert_close_in_ulps
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mixture._compiled import compiled_available, compiled_kernels
from mixture._kmeans import lloyd
from mixture._row_random import RowGroups, row_keys
from mixture.initializers import _squared_distances_to, kmeans_plus_plus_seeds

pytestmark = pytest.mark.skipif(not compiled_available(), reason="numba is not installed")

values = st.one_of(
    st.floats(allow_nan=False, width=64),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0**-1074]),
)


@given(
    X=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=9), elements=values),
    single=st.booleans(),
    fortran=st.booleans(),
)
def test_row_keys_are_the_same_bits(X, single, fortran) -> None:
    if single:
        with np.errstate(over="ignore"):
            X = X.astype(np.float32)
    if fortran:
        X = np.asfortranarray(X)
    with compiled_kernels(False):
        expected = row_keys(X)
    with compiled_kernels(True):
        actual = row_keys(X)
    np.testing.assert_array_equal(actual, expected)


def test_negative_zero_and_zero_give_one_key() -> None:
    X = np.array([[0.0, 1.0], [-0.0, 1.0], [0.0, -0.0]])
    with compiled_kernels(True):
        keys = row_keys(X)
    assert keys[0] == keys[1]
    assert keys[2] != keys[0]


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    d=st.integers(1, 70),
    c=st.integers(1, 5),
    single=st.booleans(),
)
def test_squared_distances_agree(seed, n, d, c, single) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 10.0, (n, d)) * rng.lognormal(0.0, 2.0, d)
    if single:
        X = X.astype(np.float32)
    centres = X[rng.integers(0, n, c)].astype(np.float64)
    scale = float(np.abs(X).max())
    with compiled_kernels(False):
        expected = _squared_distances_to(X, centres, scale)
    with compiled_kernels(True):
        actual = _squared_distances_to(X, centres, scale)
    # Each entry against its own magnitude: the summands are non-negative. float32 rows
    # are squared and summed in float32 by numpy: the bound is in float32 units then.
    ulps = 4 * d * (np.finfo(np.float32).eps / np.finfo(np.float64).eps if single else 1)
    scale_each = np.maximum(expected, np.finfo(X.dtype).tiny)
    assert_close_in_ulps(actual / scale_each, expected / scale_each, ulps, scale=1.0)


def _clusters(seed: int, n: int, d: int, k: int, dtype=np.float64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 8.0, (k, d))
    return (centres[rng.integers(0, k, n)] + rng.normal(size=(n, d))).astype(dtype)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(20, 3000),
    d=st.integers(1, 12),
    k=st.integers(1, 6),
    weighted=st.booleans(),
    single=st.booleans(),
)
def test_lloyd_passes_agree(seed, n, d, k, weighted, single) -> None:
    """Well-separated clusters (no near-ties): the same labels; centres and inertia to
    round-off."""
    X = _clusters(seed, n, d, k, np.float32 if single else np.float64)
    rng = np.random.default_rng(seed + 1)
    sample_weight = rng.random(n) * 2 if weighted else None
    start = X[rng.choice(n, k, replace=False)].astype(np.float64)
    runs = []
    for enabled in (False, True):
        with compiled_kernels(enabled):
            runs.append(lloyd(X, start, sample_weight, max_iter=5, tol=0.0))
    numpy_run, compiled_run = runs
    np.testing.assert_array_equal(compiled_run.labels, numpy_run.labels)
    eps_ratio = np.finfo(X.dtype).eps / np.finfo(np.float64).eps
    assert_close_in_ulps(compiled_run.centres, numpy_run.centres, 64 * n * eps_ratio)
    assert_close_in_ulps(compiled_run.weights, numpy_run.weights, 4 * n)
    assert_close_in_ulps(compiled_run.inertia, numpy_run.inertia, 64 * n * d * eps_ratio)


@given(seed=st.integers(0, 2**32 - 1), per_cluster=st.integers(50, 300), k=st.integers(2, 8))
def test_kmeans_plus_plus_and_races_agree(seed, per_cluster, k) -> None:
    """Many rows per cluster: on a few rows, two candidates can leave exactly the same
    potential up to round-off (the two rows of a pair), and either choice is right."""
    X = _clusters(seed, per_cluster * k, 3, k)
    groups = RowGroups.of(X, None)
    scores = np.random.default_rng(seed).random(groups.keys.shape[0])
    scores[::7] = 0.0  # never drawn
    results = []
    for enabled in (False, True):
        with compiled_kernels(enabled):
            results.append(
                (groups.race(scores, seed, 3, 4), kmeans_plus_plus_seeds(X, groups, k, seed))
            )
    np.testing.assert_array_equal(results[1][0], results[0][0])
    np.testing.assert_array_equal(results[1][1], results[0][1])


@given(
    hnp.arrays(
        np.float64,
        st.integers(0, 3000),
        elements=st.one_of(
            st.floats(0.0, 1.0),
            st.sampled_from([0.0, 5e-324, 0.25, 1.0, np.inf]),
            st.floats(0.0, 1e300),
        ),
    )
)
def test_radix_argsort_is_numpys_stable_argsort(values) -> None:
    from mixture._start_compiled import argsort_nonnegative

    np.testing.assert_array_equal(argsort_nonnegative(values), np.argsort(values, kind="stable"))


# -- cases found by review ---------------------------------------------------------------------
def test_lloyd_on_data_of_subnormal_size_agrees() -> None:
    """Centres spread below 2^-1024: the frame's inverse scale overflows, so the numpy
    pass runs (it divides) and the result is the same either way."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    X = (centres[rng.integers(0, 3, 500)] + rng.normal(size=(500, 2))) * 1e-310
    runs = []
    for enabled in (False, True):
        with compiled_kernels(enabled):
            runs.append(lloyd(X, X[:3], None, max_iter=5, tol=0.0))
    np.testing.assert_array_equal(runs[1].labels, runs[0].labels)
    assert np.isfinite(runs[1].centres).all()


@pytest.mark.parametrize("enabled", [False, True])
def test_kmeans_plus_plus_names_values_too_spread_to_seed(enabled) -> None:
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(size=(2999, 2)) * 1e-12, [[1e12, 1e12]]]).astype(np.float32)
    with compiled_kernels(enabled), pytest.raises(ValueError, match="rescale the data"):
        kmeans_plus_plus_seeds(X, RowGroups.of(X, None), 3, 0)


def test_seeds_do_not_depend_on_row_order_when_potentials_tie() -> None:
    """Mirror-symmetric rows: two candidates leave the same potential up to round-off. The
    potentials are summed in the groups' order, not the rows', so every row order gives
    the same seeds (summed in row order, permutations 100 and 107 chose different ones)."""
    rng = np.random.default_rng(5)
    rng.normal(size=12), rng.integers(1, 4, 25)  # the state the review's case was found at
    half = rng.normal(size=(40, 2))
    X = np.concatenate([half, -half])
    for seed in (3, 0, 1):
        chosen = set()
        for permutation in (100, 107, 0, 1):
            shuffled = X[np.random.default_rng(permutation).permutation(80)]
            groups = RowGroups.of(shuffled, None)
            with compiled_kernels(True):
                seeds = kmeans_plus_plus_seeds(shuffled, groups, 3, seed)
            chosen.add(shuffled[groups.first_row[seeds]].tobytes())
        assert len(chosen) == 1


def test_smallest_of_none_is_empty() -> None:
    from mixture._start_compiled import smallest

    assert smallest(np.array([3.0, 1.0]), 0).shape == (0,)
    np.testing.assert_array_equal(smallest(np.array([3.0, 1.0, 2.0]), 2), [1, 2])


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize(
    "dtype, unsigned, signalling",
    [(np.float64, np.uint64, 0x7FF0000000000001), (np.float32, np.uint32, 0x7F800001)],
)
def test_signalling_nan_hashes_as_numpy_quiets_it(dtype, unsigned, signalling) -> None:
    X = np.zeros((3, 2), dtype=dtype)
    X[0, 0] = np.array([signalling], dtype=unsigned).view(dtype)[0]
    X[1, 0] = np.nan
    X[2, 1] = -0.0
    with compiled_kernels(False):
        expected = row_keys(X)
    with compiled_kernels(True):
        actual = row_keys(X)
    np.testing.assert_array_equal(actual, expected)


def test_a_validated_memory_map_is_read_in_storage_order(tmp_path) -> None:
    from mixture._validation import check_data
    from mixture.initializers import _on_disk

    path = tmp_path / "rows.npy"
    np.save(path, np.arange(12.0).reshape(6, 2))
    assert _on_disk(check_data(np.load(path, mmap_mode="r")))
    assert not _on_disk(np.arange(4.0).reshape(2, 2))
