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


def _problem(seed: int, n: int, d: int, k: int, rate: float, layout: str = "random"):
    """Random parameters and rows with gaps: each value missing at ``rate`` (``random``),
    or a few patterns drawn at ``rate`` shared by runs of consecutive rows (``runs``) or by
    rows in any order (``shuffled``): the compiled kernel factors a run's pattern once, and
    groups a block's rows by pattern where patterns repeat."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 2.0, (k, d))
    factors = 0.5 * rng.normal(size=(k, d, d)) / np.sqrt(d) + np.eye(d)
    covariances = factors @ factors.transpose(0, 2, 1)
    X = means[rng.integers(0, k, n)] + rng.normal(size=(n, d))
    if layout != "random":
        patterns = rng.random((4, d)) < rate
        which = rng.integers(0, 4, n)
        gaps = patterns[np.sort(which) if layout == "runs" else which]
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
    layout=st.sampled_from(["random", "runs", "shuffled"]),
)
def test_compiled_and_numpy_kernels_agree(seed, n, d, k, rate, weighted, layout) -> None:
    rng, X, means, covariances, log_weights = _problem(seed, n, d, k, rate, layout)
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
    """More rows than one compiled block, patterns at random, in runs crossing the blocks'
    edges, or repeated in any order (grouped within blocks): each row is counted once and
    its outputs land at its own position."""
    for layout in ("random", "runs", "shuffled"):
        _, X, means, covariances, log_weights = _problem(
            1, 2 * missing._COMPILED_BLOCK_ROWS + 7, 4, 3, 0.3, layout
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


def test_pattern_order_groups_repeated_patterns_only() -> None:
    rng = np.random.default_rng(4)
    at_random = rng.random((2048, 16)) < 0.3
    assert missing._pattern_order(at_random) is None
    patterns = rng.random((3, 16)) < 0.3
    assert missing._pattern_order(patterns[np.sort(rng.integers(0, 3, 2048))]) is None  # runs
    repeated = patterns[rng.integers(0, 3, 2048)]
    order = missing._pattern_order(repeated)
    assert order is not None
    np.testing.assert_array_equal(np.sort(order), np.arange(2048))
    grouped = repeated[order]
    changes = np.count_nonzero((grouped[1:] != grouped[:-1]).any(axis=1))
    assert changes <= 2
    # Stable: within a pattern, rows keep their order.
    for pattern in np.unique(repeated, axis=0):
        members = order[(grouped == pattern).all(axis=1)]
        assert (np.diff(members) > 0).all()
    assert missing._pattern_order(rng.random((100, 65)) < 0.01) is None  # over 64 features
