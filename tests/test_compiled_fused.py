"""The compiled fused E-step of the expanded Gaussian kernels agrees with the numpy one.

Both compute the same formulas (:mod:`mixture.gaussian.kernels`, fused pass): the features
of the shifted rows, their products with the coefficients, the log-sum-exp and the weighted
sums of the features. They differ in the order of their sums and in the exponential (the
compiled one is within a few ulp of the C library's), so results are compared in units of float
resolution, against the magnitude of what each sums.
"""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import assert_close_in_ulps
from hypothesis import given
from hypothesis import strategies as st

from mixture import GaussianFamily, GaussianMixture
from mixture._compiled import compiled_available, compiled_kernels
from mixture.exceptions import DegenerateComponentError
from mixture.gaussian import kernels as kernel_module
from mixture.gaussian import structure_named

pytestmark = pytest.mark.skipif(not compiled_available(), reason="numba is not installed")

ULPS = 4096
#: Layouts of the features: diagonal squares, spherical sum of squares, full products
#: (full covariance is expanded, and so fused, where K is large compared with D).
STRUCTURES = ("diag", "spherical", "full")


def _kernel(seed: int, n_features: int, n_components: int, structure: str, offset: float):
    rng = np.random.default_rng(seed)
    means = rng.normal(offset, 2.0, (n_components, n_features))
    factors = 0.3 * rng.normal(size=(n_components, n_features, n_features)) + np.eye(n_features)
    dense = factors @ factors.transpose(0, 2, 1)
    if structure == "diag":
        covariances = np.einsum("kii->ki", dense)
    elif structure == "spherical":
        covariances = np.einsum("kii->k", dense) / n_features
    else:
        covariances = dense
    family = GaussianFamily(
        n_components, structure_named(structure), means=means, covariances=covariances
    )
    X = means[rng.integers(0, n_components, 200)] + rng.normal(size=(200, n_features))
    log_weights = np.log(rng.dirichlet(np.ones(n_components)))
    return rng, family._kernel(np.dtype(np.float64)), X, log_weights


@given(
    seed=st.integers(0, 2**32 - 1),
    n_rows=st.integers(1, 600),
    n_features=st.integers(1, 6),
    n_components=st.integers(1, 8),
    structure=st.sampled_from(STRUCTURES),
    weighted=st.booleans(),
    offset=st.sampled_from([0.0, 100.0]),
)
def test_compiled_and_numpy_fused_passes_agree(
    seed, n_rows, n_features, n_components, structure, weighted, offset
) -> None:
    """Every layout, any shape (the feature-count threshold lifted), with and without row
    weights, near and far from the origin, over more rows than one compiled block."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kernel_module, "COMPILED_MIN_TERMS", 0)
        _compare(seed, n_rows, n_features, n_components, structure, weighted, offset)


def _compare(seed, n_rows, n_features, n_components, structure, weighted, offset) -> None:
    rng, kernel, X, log_weights = _kernel(seed, n_features, n_components, structure, offset)
    X = X[rng.integers(0, X.shape[0], n_rows)]
    sample_weight = rng.random(n_rows) * 3 if weighted else None
    if not kernel._fusable:
        return  # full covariance evaluated by projection: no fused pass to compare
    expected = kernel._numpy_moments(X, log_weights, sample_weight)
    with compiled_kernels(True):
        actual = kernel._compiled_moments(X, log_weights, sample_weight)
    assert actual is not None
    resp, log_density, moments = actual
    total = float(np.abs(expected[0]).sum(axis=0).max())
    assert_close_in_ulps(resp, expected[0], ULPS, scale=max(total, 1.0), err_msg="resp")
    assert_close_in_ulps(log_density, expected[1], ULPS, err_msg="log density")
    assert_close_in_ulps(moments, expected[2], ULPS * 4, err_msg="moments")
    # The responsibilities of a row sum to its weight.
    weights = np.ones(n_rows) if sample_weight is None else sample_weight
    assert_close_in_ulps(resp.sum(axis=0), weights, 64, scale=max(weights.max(), 1.0))


def test_a_fit_runs_the_compiled_pass_and_matches_the_numpy_fit() -> None:
    """At 64 features (diagonal: 128 terms) the fused E-step runs compiled by default; the
    fit reaches the numpy fit's optimum and iterations."""
    rng = np.random.default_rng(0)
    means = rng.normal(0.0, 3.0, (3, 64))
    X = means[rng.integers(0, 3, 3000)] + rng.normal(size=(3000, 64))
    calls = []
    original = kernel_module._BlockKernel._compiled_moments

    def recorded(self, *args):
        result = original(self, *args)
        calls.append(result is not None)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kernel_module._BlockKernel, "_compiled_moments", recorded)
        compiled = GaussianMixture(3, covariance_type="diag", random_state=0, tol=1e-8).fit(X)
    assert any(calls)
    with compiled_kernels(False):
        plain = GaussianMixture(3, covariance_type="diag", random_state=0, tol=1e-8).fit(X)
    assert compiled.n_iter_ == plain.n_iter_
    assert_close_in_ulps(compiled.lower_bound_, plain.lower_bound_, 2**20)
    assert_close_in_ulps(compiled.means_, plain.means_, 2**20, scale=np.abs(X).max())


@pytest.mark.parametrize(
    ("value", "error"), [(np.inf, ValueError), (np.nan, DegenerateComponentError)]
)
def test_a_bad_row_is_named_as_by_the_numpy_pass(monkeypatch, value, error) -> None:
    """A row whose log-joints have no finite maximum hands the chunk to the numpy pass,
    whose error names that row."""
    monkeypatch.setattr(kernel_module, "COMPILED_MIN_TERMS", 0)
    _, kernel, X, log_weights = _kernel(1, 3, 2, "diag", 0.0)
    X = X.copy()
    X[17, 1] = value
    with compiled_kernels(True), pytest.raises(error, match="row 17"):
        kernel.fused_statistics(X, log_weights, None)


def test_the_vectorised_exponential_is_within_4_ulp_and_0_at_the_floor() -> None:
    """``exp_nonpositive`` against numpy's exp on a million points of ``[-700, 0]`` (the
    log-sum-exp's range): 2 ulp measured with fused multiply-adds, 3 without, 4 allowed
    (another C library's exp may round the other way); exactly 1 at 0, and exactly 0 at
    and below the floor."""
    import numba

    from mixture._exp_compiled import exp_nonpositive
    from mixture._responsibilities import _EXP_FLOOR

    @numba.njit
    def apply(values):
        bits = np.empty(values.size, dtype=np.int64)
        exp_nonpositive(values, bits, values.size)

    x = -np.random.default_rng(0).random(1_000_000) * -_EXP_FLOOR
    values = x.copy()
    apply(values)
    expected = np.exp(x)
    assert (np.abs(values - expected) <= 4 * np.spacing(expected)).all()
    edges = np.array([0.0, _EXP_FLOOR, _EXP_FLOOR - 1.0, -1e300, -np.inf])
    apply(edges)
    np.testing.assert_array_equal(edges, [1.0, 0.0, 0.0, 0.0, 0.0])
