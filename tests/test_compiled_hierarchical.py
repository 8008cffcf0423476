"""The compiled merge loop of the hierarchical agglomeration agrees with the numpy one.

Both run the same steps with the same formulas (:mod:`mixture.hierarchical`); the
log-determinants of the VVV merged scatters differ in method (L D L^T against numpy's LU),
so the costs agree to round-off and the merges are the same wherever no two costs tie to
round-off, which continuous random rows make improbable.
"""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import assert_close_in_ulps
from hypothesis import given
from hypothesis import strategies as st

from mixture._compiled import compiled_available, compiled_kernels
from mixture.hierarchical import hierarchical_tree

pytestmark = pytest.mark.skipif(not compiled_available(), reason="numba is not installed")


def _both(X, weights, **settings):
    with compiled_kernels(False):
        expected = hierarchical_tree(X, weights, **settings)
    with compiled_kernels(True):
        actual = hierarchical_tree(X, weights, **settings)
    return actual, expected


@given(
    seed=st.integers(0, 2**32 - 1),
    n_rows=st.integers(2, 120),
    n_features=st.integers(1, 5),
    model=st.sampled_from(["VVV", "EII"]),
    transform=st.sampled_from([None, "svd"]),
    weighted=st.booleans(),
)
def test_compiled_and_numpy_trees_agree(seed, n_rows, n_features, model, transform, weighted):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 4.0, (3, n_features))
    X = centres[rng.integers(0, 3, n_rows)] + rng.normal(size=(n_rows, n_features))
    weights = rng.uniform(0.5, 3.0, n_rows) if weighted else None
    actual, expected = _both(X, weights, model=model, transform=transform)
    np.testing.assert_array_equal(actual.merges, expected.merges)
    scale = float(np.abs(expected.costs).max())
    assert_close_in_ulps(actual.costs, expected.costs, 2**16, scale=scale)


def test_duplicated_rows_and_a_flat_direction() -> None:
    """Repeated rows (zero scatter until a cluster holds more than D distinct rows) and rows
    on a plane in 3-D (singular merged scatters: log-determinant -inf in both loops)."""
    rng = np.random.default_rng(5)
    plane = rng.normal(size=(60, 2)) @ rng.normal(size=(2, 3))
    X = np.vstack([plane, plane[:10]])
    actual, expected = _both(X, None, model="VVV", transform=None)
    np.testing.assert_array_equal(actual.merges, expected.merges)
    assert_close_in_ulps(actual.costs, expected.costs, 2**16, scale=np.abs(expected.costs).max())
