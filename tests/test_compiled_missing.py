"""The compiled E-step of rows with missing values agrees with the numpy one.

Both compute the formulas of :mod:`mixture.gaussian.missing`; they differ in the order of
their sums (per row against batched over rows, a GEMM against einsum), so results are
compared in units of float resolution. The covariances drawn here have condition numbers
below about 20 and the sums have at most a few thousand terms, so a few thousand ulps of
the largest entry bound the difference.
"""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import assert_close_in_ulps
from hypothesis import given
from hypothesis import strategies as st

from mixture._compiled import compiled_available, compiled_kernels
from mixture.gaussian import missing

pytestmark = pytest.mark.skipif(not compiled_available(), reason="numba is not installed")

ULPS = 4096


def _problem(seed: int, n: int, d: int, k: int, rate: float, runs: bool = False):
    """Random parameters and rows with gaps: each value missing at ``rate``, or (``runs``)
    a few patterns drawn at ``rate``, each shared by a run of consecutive rows (the
    compiled kernel factors a run's pattern once)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 2.0, (k, d))
    factors = 0.5 * rng.normal(size=(k, d, d)) / np.sqrt(d) + np.eye(d)
    covariances = factors @ factors.transpose(0, 2, 1)
    X = means[rng.integers(0, k, n)] + rng.normal(size=(n, d))
    if runs:
        patterns = rng.random((4, d)) < rate
        gaps = patterns[np.sort(rng.integers(0, 4, n))]
    else:
        gaps = rng.random((n, d)) < rate
    gaps[gaps.all(axis=1), 0] = False  # every row keeps a value
    X[gaps] = np.nan
    log_weights = np.log(rng.dirichlet(np.ones(k)))
    return rng, X, means, covariances, log_weights


def _both(function, *args):
    with compiled_kernels(False):
        expected = function(*args)
    with compiled_kernels(True):
        actual = function(*args)
    return actual, expected


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    d=st.integers(1, 7),
    k=st.integers(1, 4),
    rate=st.sampled_from([0.0, 0.1, 0.4, 0.8]),
    weighted=st.booleans(),
    runs=st.booleans(),
)
def test_compiled_and_numpy_kernels_agree(seed, n, d, k, rate, weighted, runs) -> None:
    rng, X, means, covariances, log_weights = _problem(seed, n, d, k, rate, runs)
    sample_weight = rng.random(n) * 3 if weighted else None
    actual, expected = _both(missing.observed_log_density, X, means, covariances)
    assert_close_in_ulps(actual, expected, ULPS)
    actual, expected = _both(
        missing.observed_e_step, X, log_weights, sample_weight, means, covariances
    )
    _assert_statistics_agree(actual, expected, X, means)
    assert_close_in_ulps(actual[3], expected[3], ULPS, err_msg="log density")
    weights = rng.random((n, k))
    actual, expected = _both(missing.observed_moments, X, weights, means, covariances)
    _assert_statistics_agree(actual, expected, X, means)


def _assert_statistics_agree(actual, expected, X, means) -> None:
    """Weights, means and scatters, each against the magnitude of what it sums (a scatter
    about its mean cancels: one row's is 0 up to the round-off of its terms)."""
    size = max(float(np.nanmax(np.abs(X))), float(np.abs(means).max()), 1.0)
    total = float(expected[0].sum())
    assert_close_in_ulps(actual[0], expected[0], ULPS, err_msg="weight")
    assert_close_in_ulps(actual[1], expected[1], ULPS, scale=size, err_msg="mean")
    assert_close_in_ulps(actual[2], expected[2], ULPS, scale=total * size**2, err_msg="scatter")


def test_blocks_cover_every_row() -> None:
    """More rows than one compiled block, patterns at random or in runs crossing the
    blocks' edges: each row is counted once, in order."""
    for runs in (False, True):
        _, X, means, covariances, log_weights = _problem(
            1, 2 * missing._COMPILED_BLOCK_ROWS + 7, 4, 3, 0.3, runs
        )
        actual, expected = _both(missing.observed_e_step, X, log_weights, None, means, covariances)
        assert_close_in_ulps(actual[0].sum(), X.shape[0], 64)
        _assert_statistics_agree(actual, expected, X, means)
        assert_close_in_ulps(actual[3], expected[3], ULPS, err_msg="log density")


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_a_row_that_overflows_is_named_by_both_kernels() -> None:
    """Both kernels name the row (which of NaN or zero density an overflow gives depends
    on the order of the arithmetic)."""
    _, X, means, covariances, log_weights = _problem(2, 3000, 3, 2, 0.3)
    X[2500] = [1e200, np.nan, 0.0]
    for enabled in (False, True):
        with compiled_kernels(enabled), pytest.raises(ValueError, match="row 2500 "):
            missing.observed_e_step(X, log_weights, None, means, covariances)
