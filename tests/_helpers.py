"""Small data and model builders shared by the tests."""

from __future__ import annotations

import numpy as np

from mixture import (
    DiagonalCovariance,
    FullCovariance,
    GaussianFamily,
    Mixture,
    SphericalCovariance,
    TiedCovariance,
)

STRUCTURES = [FullCovariance(), TiedCovariance(), DiagonalCovariance(), SphericalCovariance()]
STRUCTURE_IDS = [s.name for s in STRUCTURES]


def blobs(seed: int, n_rows: int, n_features: int, n_components: int, offset: float = 0.0):
    """Rows from ``n_components`` well separated Gaussian blobs with random covariances."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 6.0, size=(n_components, n_features))
    labels = rng.integers(n_components, size=n_rows)
    labels[:n_components] = np.arange(n_components)
    mixing = rng.normal(size=(n_components, n_features, n_features)) / np.sqrt(n_features)
    mixing += np.eye(n_features)
    noise = rng.normal(size=(n_rows, n_features))
    rows = centres[labels] + np.einsum("nd,nde->ne", noise, mixing[labels])
    return rows + offset


def random_covariances(structure, n_components: int, n_features: int, seed: int = 0):
    """Valid covariance parameters of the given structure."""
    rng = np.random.default_rng(seed)
    if structure.name == "full":
        a = rng.normal(size=(n_components, n_features, n_features))
        return a @ a.transpose(0, 2, 1) + 0.5 * np.eye(n_features)
    if structure.name == "tied":
        a = rng.normal(size=(n_features, n_features))
        return a @ a.T + 0.5 * np.eye(n_features)
    if structure.name == "diag":
        return rng.uniform(0.3, 3.0, size=(n_components, n_features))
    return rng.uniform(0.3, 3.0, size=n_components)


def random_mixture(structure, n_components: int, n_features: int, seed: int = 0, offset=0.0):
    """A fitted Gaussian mixture with random parameters."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 4.0, size=(n_components, n_features)) + offset
    family = GaussianFamily(
        n_components,
        structure,
        means=means,
        covariances=random_covariances(structure, n_components, n_features, seed),
    )
    weights = rng.dirichlet(np.full(n_components, 3.0))
    return Mixture(weights, family)


def assert_close_in_ulps(actual, expected, ulps: float, *, scale=None, err_msg: str = ""):
    """Assert that two float results agree to ``ulps`` units of float resolution.

    The rule of this suite: results computed through different reductions (weighted against
    unweighted sums, chunked against whole, threads against serial, another BLAS kernel) are
    never compared with ``==``; they are compared here, with a tolerance stated in units of the
    float resolution ``eps`` of the results' dtype:

        |actual - expected| <= ulps * eps * scale   (element-wise)

    Parameters
    ----------
    actual, expected : array_like of float, same shape
    ulps : float
        Allowed difference in units of ``eps`` (``np.finfo(dtype).eps``, 2.2e-16 for float64).
        A sum of ``n`` terms has a rounding error of up to about ``n`` units of its largest
        partial sum, so this should grow with the length of the reduction.
    scale : float, optional
        The magnitude the error is measured against; default the largest ``|expected|`` (a
        norm-wise bound, which also covers entries near zero that result from cancellation).
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shapes differ: {actual.shape} != {expected.shape}"
    dtype = np.result_type(actual, expected, np.float32)
    eps = float(np.finfo(dtype).eps)
    if scale is None:
        scale = float(np.max(np.abs(expected), initial=0.0)) if expected.size else 0.0
    scale = max(float(scale), float(np.finfo(dtype).tiny))
    difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    worst = float(np.max(difference, initial=0.0)) / (eps * scale)
    assert worst <= ulps, (
        f"{err_msg + ': ' if err_msg else ''}results differ by {worst:.3g} units of "
        f"float resolution ({eps:.3g} x {scale:.3g}); allowed {ulps}"
    )
