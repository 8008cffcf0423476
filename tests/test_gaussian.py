"""Gaussian components and families: densities, statistics, M-step, sampling, validation.

Every reference value here is computed independently of the library (scipy or plain numpy
in the test), never recorded from a previous run.
"""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
from _helpers import STRUCTURE_IDS, STRUCTURES, blobs, random_covariances
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from mixture import (
    DiagonalCovariance,
    FullCovariance,
    Gaussian,
    GaussianFamily,
    GaussianStatistics,
    NotFittedError,
    SphericalCovariance,
    TiedCovariance,
)
from mixture.exceptions import DegenerateComponentError

SINGLE = [s for s in STRUCTURES if s.name != "tied"]
SINGLE_IDS = [s.name for s in SINGLE]

SHAPES = [(1, 1), (3, 1), (2, 2), (4, 3), (3, 10)]
SHAPE_IDS = [f"K{k}-D{d}" for k, d in SHAPES]

OFFSET = 1e6


# -- helpers ------------------------------------------------------------------------------------
def on_grid(values: np.ndarray) -> np.ndarray:
    """Round to multiples of 2**-20 so that adding ``OFFSET`` (< 2**20) is exact in float64."""
    return np.round(values * 2.0**20) / 2.0**20


def dense_covariance(structure, covariances: np.ndarray, k: int, n_features: int) -> np.ndarray:
    """The (D, D) covariance of component k, built here rather than by the library."""
    if structure.name == "full":
        return covariances[k]
    if structure.name == "tied":
        return covariances
    if structure.name == "diag":
        return np.diag(covariances[k])
    return covariances[k] * np.eye(n_features)


def single_covariance(structure, n_features: int, seed: int) -> np.ndarray:
    """Covariance argument of a single ``Gaussian`` in the structure's one-component form."""
    return random_covariances(structure, 1, n_features, seed)[0]


def family_with_parameters(structure, n_components, n_features, seed, offset=0.0, reg=1e-6):
    rng = np.random.default_rng(seed)
    means = on_grid(rng.normal(0.0, 3.0, size=(n_components, n_features)))
    covariances = random_covariances(structure, n_components, n_features, seed)
    family = GaussianFamily(
        n_components, structure, reg_covar=reg, means=means + offset, covariances=covariances
    )
    return family, means, covariances


def rows_near(means: np.ndarray, n_rows: int, seed: int) -> np.ndarray:
    """Rows scattered around (and between) the given means, on the exact-offset grid."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(means.shape[0], size=n_rows)
    return on_grid(means[labels] + rng.normal(0.0, 2.0, size=(n_rows, means.shape[1])))


def assert_scaled_close(actual, expected, rtol, what=""):
    """``max |actual - expected| <= rtol * max |expected|``: relative to the array's scale.

    Element-wise relative error is meaningless for entries that happen to be near 0 (an
    off-diagonal scatter term, a mean coordinate), so the error is measured against the
    largest entry of the reference.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    error = float(np.max(np.abs(actual - expected))) if expected.size else 0.0
    assert error <= rtol * scale, f"{what}: error {error:.3e} > {rtol:.1e} * {scale:.3e}"


def assert_statistics_close(actual: GaussianStatistics, expected: GaussianStatistics, rtol):
    assert_scaled_close(actual.weight, expected.weight, rtol, "weight")
    assert_scaled_close(actual.mean, expected.mean, rtol, "mean")
    assert_scaled_close(actual.scatter, expected.scatter, rtol, "scatter")


def weighted_mle(X, weights, structure, reg_covar):
    """Closed-form weighted maximum-likelihood means and covariances, plain numpy."""
    n_features = X.shape[1]
    totals = weights.sum(axis=0)
    means = np.stack(
        [(w[:, None] * X).sum(axis=0) / t for w, t in zip(weights.T, totals, strict=True)]
    )
    full = []
    for k in range(weights.shape[1]):
        centred = X - means[k]
        full.append((weights[:, k, None] * centred).T @ centred / totals[k])
    full = np.array(full)
    eye = np.eye(n_features)
    if structure.name == "full":
        covariances = full + reg_covar * eye
    elif structure.name == "tied":
        covariances = np.einsum("k,kde->de", totals, full) / totals.sum() + reg_covar * eye
    elif structure.name == "diag":
        covariances = np.diagonal(full, axis1=1, axis2=2) + reg_covar
    else:
        covariances = np.trace(full, axis1=1, axis2=2) / n_features + reg_covar
    return means, covariances


def soft_weights(n_rows, n_components, seed):
    return np.random.default_rng(seed).dirichlet(np.ones(n_components), size=n_rows)


# -- 1. log-density against scipy ---------------------------------------------------------------
@pytest.mark.parametrize(("n_components", "n_features"), SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_family_log_density_matches_scipy(structure, n_components, n_features):
    family, means, covariances = family_with_parameters(structure, n_components, n_features, 3)
    X = rows_near(means, 150, seed=4)
    out = family.log_density(X)
    assert out.shape == (150, n_components)
    assert out.dtype == np.float64
    for k in range(n_components):
        cov = dense_covariance(structure, covariances, k, n_features)
        expected = multivariate_normal(means[k], cov).logpdf(X)
        np.testing.assert_allclose(out[:, k], expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("n_components", "n_features"), SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_family_log_density_far_from_origin(structure, n_components, n_features):
    family, means, covariances = family_with_parameters(
        structure, n_components, n_features, 5, offset=OFFSET
    )
    X = rows_near(means, 150, seed=6)
    far = X + OFFSET
    # Both arrays live on a grid fine enough that the offset is added exactly.
    np.testing.assert_array_equal(far - OFFSET, X)
    out = family.log_density(far)
    for k in range(n_components):
        cov = dense_covariance(structure, covariances, k, n_features)
        expected = multivariate_normal(means[k], cov).logpdf(X)
        np.testing.assert_allclose(out[:, k], expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n_features", [1, 2, 10])
@pytest.mark.parametrize("structure", SINGLE, ids=SINGLE_IDS)
@pytest.mark.parametrize("offset", [0.0, OFFSET], ids=["origin", "offset"])
def test_gaussian_log_density_matches_scipy(structure, n_features, offset):
    rng = np.random.default_rng(7)
    mean = on_grid(rng.normal(0.0, 2.0, size=n_features))
    covariance = single_covariance(structure, n_features, seed=8)
    gaussian = Gaussian(mean + offset, covariance, structure=structure)
    X = rows_near(mean[None], 120, seed=9)
    out = gaussian.log_density(X + offset)
    assert out.shape == (120,)
    dense = dense_covariance(structure, covariance[None], 0, n_features)
    expected = multivariate_normal(mean, dense).logpdf(X)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n_features", [1, 3, 10])
@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_float32_log_density(structure, n_features):
    family, means, _ = family_with_parameters(structure, 3, n_features, 11)
    X32 = rows_near(means, 200, seed=12).astype(np.float32)
    out32 = family.log_density(X32)
    assert out32.dtype == np.float32
    out64 = family.log_density(X32.astype(np.float64))
    assert out64.dtype == np.float64
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("structure", SINGLE, ids=SINGLE_IDS)
def test_float32_gaussian_log_density(structure):
    mean = np.array([1.0, -2.0, 0.5])
    gaussian = Gaussian(mean, single_covariance(structure, 3, seed=13), structure=structure)
    X32 = rows_near(mean[None], 100, seed=14).astype(np.float32)
    out32 = gaussian.log_density(X32)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(
        out32, gaussian.log_density(X32.astype(np.float64)), rtol=1e-4, atol=1e-4
    )


# -- 2. statistics are additive ----------------------------------------------------------------
N_ROWS_SPLIT = 120
_X_SPLIT = blobs(21, N_ROWS_SPLIT, 3, 3)
_W_SPLIT = soft_weights(N_ROWS_SPLIT, 3, seed=22)
# Component 0 receives nothing from the first 25 rows, so some chunks carry zero weight for it.
_W_SPLIT[:25, 0] = 0.0


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
@given(
    cuts=st.lists(
        st.integers(min_value=1, max_value=N_ROWS_SPLIT - 1), unique=True, max_size=8
    ).map(sorted)
)
def test_statistics_add_across_any_split(structure, cuts):
    family = GaussianFamily(3, structure)
    whole = family.statistics(_X_SPLIT, _W_SPLIT)
    bounds = [0, *cuts, N_ROWS_SPLIT]
    chunks = [
        family.statistics(_X_SPLIT[a:b], _W_SPLIT[a:b]) for a, b in itertools.pairwise(bounds)
    ]
    merged = sum(chunks)
    assert isinstance(merged, GaussianStatistics)
    assert merged.total_weight == pytest.approx(_W_SPLIT.sum(), rel=1e-12)
    assert_statistics_close(merged, whole, rtol=1e-10)
    # And the M-step cannot tell the difference either.
    a, b = family.m_step(merged), family.m_step(whole)
    assert_scaled_close(a.means, b.means, 1e-10, "means")
    assert_scaled_close(a.covariances, b.covariances, 1e-10, "covariances")


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_statistics_reference_values(structure):
    X = blobs(23, 60, 4, 2)
    W = soft_weights(60, 2, seed=24)
    stats = GaussianFamily(2, structure).statistics(X, W)
    np.testing.assert_allclose(stats.weight, W.sum(axis=0), rtol=1e-13)
    expected_means = (W.T @ X) / W.sum(axis=0)[:, None]
    np.testing.assert_allclose(stats.mean, expected_means, rtol=1e-12, atol=1e-12)
    full = np.stack(
        [(W[:, k, None] * (X - expected_means[k])).T @ (X - expected_means[k]) for k in range(2)]
    )
    expected_scatter = {
        "full": full,
        "tied": full.sum(axis=0),
        "diag": np.diagonal(full, axis1=1, axis2=2),
        "spherical": np.trace(full, axis1=1, axis2=2),
    }[structure.name]
    assert_scaled_close(stats.scatter, expected_scatter, 1e-12, "scatter")


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_zero_weight_rows_equal_dropping_them(structure):
    X = blobs(25, 90, 3, 3)
    W = soft_weights(90, 3, seed=26)
    dropped = np.zeros(90, dtype=bool)
    dropped[[0, 7, 8, 30, 31, 32, 60, 89]] = True
    W[dropped] = 0.0
    # Also rows that are zero for one component only, kept in both versions.
    W[40:45, 1] = 0.0
    family = GaussianFamily(3, structure)
    with_zeros = family.statistics(X, W)
    without = family.statistics(X[~dropped], W[~dropped])
    assert_statistics_close(with_zeros, without, rtol=1e-12)


@pytest.mark.parametrize("factor", [1e-3, 0.5, 7.25, 1e4])
@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_scaling_weights(structure, factor):
    X = blobs(27, 100, 3, 2)
    W = soft_weights(100, 2, seed=28)
    family = GaussianFamily(2, structure, reg_covar=1e-4)
    stats = family.statistics(X, W)
    scaled = family.statistics(X, W * factor)
    # Scaling statistics is the same as scaling the row weights ...
    assert_statistics_close(stats.scale(factor), scaled, rtol=1e-12)
    assert stats.scale(factor).total_weight == pytest.approx(factor * W.sum(), rel=1e-12)
    # ... and the weighted MLE does not depend on the overall scale of the weights.
    a, b = family.m_step(stats), family.m_step(scaled)
    assert_scaled_close(b.means, a.means, 1e-12, "means")
    assert_scaled_close(b.covariances, a.covariances, 1e-12, "covariances")


# -- 3. the M-step is the closed-form weighted MLE ---------------------------------------------
@pytest.mark.parametrize("reg_covar", [0.0, 1e-3])
@pytest.mark.parametrize(("n_components", "n_features"), [(1, 1), (3, 2), (2, 5)])
@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_m_step_is_weighted_mle(structure, n_components, n_features, reg_covar):
    X = blobs(31, 200, n_features, n_components)
    W = soft_weights(200, n_components, seed=32)
    template = GaussianFamily(n_components, structure, reg_covar=reg_covar)
    fitted = template.m_step(template.statistics(X, W))
    means, covariances = weighted_mle(X, W, structure, reg_covar)
    assert fitted.is_fitted and fitted.n_features == n_features
    assert fitted.reg_covar == reg_covar
    assert fitted.structure == structure
    assert_scaled_close(fitted.means, means, 1e-12, "means")
    assert_scaled_close(fitted.covariances, covariances, 1e-10, "covariances")
    # The fitted family's densities use these parameters.
    X_new = blobs(33, 20, n_features, n_components)
    for k in range(n_components):
        cov = dense_covariance(structure, covariances, k, n_features)
        expected = multivariate_normal(means[k], cov).logpdf(X_new)
        np.testing.assert_allclose(fitted.log_density(X_new)[:, k], expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_m_step_keeps_parameters_of_empty_component(structure):
    family, means, covariances = family_with_parameters(structure, 3, 2, seed=34)
    X = blobs(35, 80, 2, 3)
    W = soft_weights(80, 3, seed=36)
    W[:, 1] = 0.0
    new = family.m_step(family.statistics(X, W))
    np.testing.assert_array_equal(new.means[1], means[1])
    expected_means, expected_cov = weighted_mle(X[:, :], W[:, [0, 2]], structure, 1e-6)
    assert_scaled_close(new.means[[0, 2]], expected_means, 1e-12, "means")
    if structure.name == "tied":
        # The pooled estimate uses only the rows that carry weight.
        assert_scaled_close(new.covariances, expected_cov, 1e-10, "covariances")
    else:
        np.testing.assert_array_equal(new.covariances[1], covariances[1])
        assert_scaled_close(new.covariances[[0, 2]], expected_cov, 1e-10, "covariances")


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_template_m_step_with_empty_component_raises(structure):
    X = blobs(37, 40, 2, 2)
    W = soft_weights(40, 2, seed=38)
    W[:, 0] = 0.0
    template = GaussianFamily(2, structure)
    with pytest.raises(DegenerateComponentError, match="component"):
        template.m_step(template.statistics(X, W))


# -- 4. statistics are accumulated centred: data far from the origin ----------------------------
@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_m_step_far_from_origin(structure):
    # One chunk as large as the engine ever processes at once (its MAX_CHUNK_ROWS).
    n_rows, n_components = 16_384, 3
    X = on_grid(blobs(41, n_rows, 4, n_components))
    far = X + OFFSET
    np.testing.assert_array_equal(far - OFFSET, X)  # the offset data is exact
    W = soft_weights(n_rows, n_components, seed=42)
    template = GaussianFamily(n_components, structure, reg_covar=0.0)
    near_fit = template.m_step(template.statistics(X, W))
    far_fit = template.m_step(template.statistics(far, W))
    # Spread of each component along each feature.
    _, full_cov = weighted_mle(X, W, FullCovariance(), 0.0)
    spread = np.sqrt(np.diagonal(full_cov, axis1=1, axis2=2))
    mean_error = np.abs((far_fit.means - OFFSET) - near_fit.means) / spread
    assert mean_error.max() <= 1e-9, f"mean error {mean_error.max():.2e} of the spread"
    assert_scaled_close(far_fit.covariances, near_fit.covariances, 1e-8, "covariances")


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_chunked_m_step_far_from_origin(structure):
    X = on_grid(blobs(43, 3000, 3, 2))
    far = X + OFFSET
    W = soft_weights(3000, 2, seed=44)
    template = GaussianFamily(2, structure, reg_covar=0.0)
    cuts = [0, 1, 500, 1700, 1701, 3000]
    stats = sum(template.statistics(far[a:b], W[a:b]) for a, b in itertools.pairwise(cuts))
    means, covariances = weighted_mle(X, W, structure, 0.0)
    far_fit = template.m_step(stats)
    _, full_cov = weighted_mle(X, W, FullCovariance(), 0.0)
    spread = np.sqrt(np.diagonal(full_cov, axis1=1, axis2=2))
    mean_error = np.abs((far_fit.means - OFFSET) - means) / spread
    assert mean_error.max() <= 1e-9, f"mean error {mean_error.max():.2e} of the spread"
    assert_scaled_close(far_fit.covariances, covariances, 1e-8, "covariances")


# -- 5. parameter counts -----------------------------------------------------------------------
def expected_n_parameters(name, n_components, n_features):
    covariance = {
        "full": n_components * n_features * (n_features + 1) // 2,
        "tied": n_features * (n_features + 1) // 2,
        "diag": n_components * n_features,
        "spherical": n_components,
    }[name]
    return n_components * n_features + covariance


@pytest.mark.parametrize(("n_components", "n_features"), [(1, 1), (1, 4), (3, 2), (5, 6)])
@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_family_n_parameters(structure, n_components, n_features):
    family, _, _ = family_with_parameters(structure, n_components, n_features, seed=51)
    assert family.n_parameters == expected_n_parameters(structure.name, n_components, n_features)


@pytest.mark.parametrize("n_features", [1, 3, 7])
@pytest.mark.parametrize("structure", SINGLE, ids=SINGLE_IDS)
def test_gaussian_n_parameters(structure, n_features):
    gaussian = Gaussian(
        np.zeros(n_features), single_covariance(structure, n_features, 52), structure=structure
    )
    assert gaussian.n_parameters == expected_n_parameters(structure.name, 1, n_features)


# -- 6. sampling -------------------------------------------------------------------------------
def assert_moments_match(draws, mean, covariance, n_se=5.0):
    """Sample mean and covariance within ``n_se`` standard errors of the parameters."""
    n = draws.shape[0]
    variances = np.diag(covariance)
    mean_se = np.sqrt(variances / n)
    assert np.all(np.abs(draws.mean(axis=0) - mean) <= n_se * mean_se), "sample mean"
    # Var of a Gaussian sample covariance entry: (S_ij^2 + S_ii S_jj) / n.
    cov_se = np.sqrt((covariance**2 + np.outer(variances, variances)) / n)
    sample_cov = np.cov(draws, rowvar=False, bias=True).reshape(covariance.shape)
    assert np.all(np.abs(sample_cov - covariance) <= n_se * cov_se), "sample covariance"


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_family_sample_moments(structure):
    family, means, covariances = family_with_parameters(structure, 3, 3, seed=61)
    counts = np.array([50_000, 20_000, 30_000])
    draws = family.sample(counts, np.random.default_rng(62))
    assert draws.shape == (100_000, 3)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    for k in range(3):
        block = draws[bounds[k] : bounds[k + 1]]
        assert_moments_match(block, means[k], dense_covariance(structure, covariances, k, 3))


def test_family_sample_with_zero_count():
    family, means, covariances = family_with_parameters(FullCovariance(), 2, 2, seed=63)
    draws = family.sample(np.array([0, 50_000]), np.random.default_rng(64))
    assert draws.shape == (50_000, 2)
    assert_moments_match(draws, means[1], covariances[1])


@pytest.mark.parametrize("structure", SINGLE, ids=SINGLE_IDS)
def test_gaussian_sample_moments(structure):
    mean = np.array([2.0, -1.0, 0.5, 10.0])
    covariance = single_covariance(structure, 4, seed=65)
    gaussian = Gaussian(mean, covariance, structure=structure)
    draws = gaussian.sample(50_000, np.random.default_rng(66))
    assert draws.shape == (50_000, 4)
    assert_moments_match(draws, mean, dense_covariance(structure, covariance[None], 0, 4))


# -- 7. components view ------------------------------------------------------------------------
@pytest.mark.parametrize(("n_components", "n_features"), [(1, 1), (3, 2), (2, 6)])
@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_components_view(structure, n_components, n_features):
    family, means, covariances = family_with_parameters(
        structure, n_components, n_features, seed=71
    )
    X = rows_near(means, 50, seed=72)
    components = family.components
    assert len(components) == n_components
    densities = family.log_density(X)
    expected_structure = FullCovariance() if structure.name == "tied" else structure
    for k, component in enumerate(components):
        assert isinstance(component, Gaussian)
        assert component.structure == expected_structure
        assert component.reg_covar == family.reg_covar
        assert component.n_features == n_features
        np.testing.assert_array_equal(component.mean, means[k])
        np.testing.assert_array_equal(
            dense_covariance(
                expected_structure, np.asarray(component.covariance)[None], 0, n_features
            ),
            dense_covariance(structure, covariances, k, n_features),
        )
        np.testing.assert_allclose(
            component.log_density(X), densities[:, k], rtol=1e-12, atol=1e-12
        )


def test_tied_components_share_the_matrix():
    family, _, covariances = family_with_parameters(TiedCovariance(), 3, 4, seed=73)
    for component in family.components:
        assert component.structure == FullCovariance()
        assert component.covariance.shape == (4, 4)
        np.testing.assert_array_equal(component.covariance, covariances)


# -- 8. validation -----------------------------------------------------------------------------
_SPD = np.array([[2.0, 0.3], [0.3, 1.0]])
_NON_SYMMETRIC = np.array([[2.0, 0.3], [0.1, 1.0]])
_INDEFINITE = np.array([[1.0, 2.0], [2.0, 1.0]])
_SINGULAR = np.array([[1.0, 1.0], [1.0, 1.0]])
_MEANS = np.array([[0.0, 0.0], [1.0, 1.0]])

FAMILY_ERRORS = {
    "n_components-0": (dict(n_components=0), "n_components"),
    "n_components-float": (dict(n_components=2.5), "n_components"),
    "structure-string": (dict(structure="full"), "structure"),
    "structure-class": (dict(structure=FullCovariance), "structure"),
    "reg-negative": (dict(reg_covar=-1e-3), "reg_covar"),
    "reg-nan": (dict(reg_covar=float("nan")), "reg_covar"),
    "means-only": (dict(means=_MEANS), "both means and covariances"),
    "covariances-only": (dict(covariances=np.stack([_SPD, _SPD])), "both means and covariances"),
    "means-rows": (dict(means=np.zeros((3, 2)), covariances=np.stack([_SPD] * 3)), "means"),
    "means-1d": (dict(means=np.zeros(2), covariances=np.stack([_SPD, _SPD])), "means"),
    "means-nan": (
        dict(means=np.array([[0.0, np.nan], [1.0, 1.0]]), covariances=np.stack([_SPD, _SPD])),
        "NaN",
    ),
    "means-inf": (
        dict(means=np.array([[0.0, np.inf], [1.0, 1.0]]), covariances=np.stack([_SPD, _SPD])),
        "infinity",
    ),
    "full-shape": (dict(means=_MEANS, covariances=_SPD), "covariances"),
    "full-features": (dict(means=_MEANS, covariances=np.stack([np.eye(3)] * 2)), "covariances"),
    "full-non-symmetric": (
        dict(means=_MEANS, covariances=np.stack([_SPD, _NON_SYMMETRIC])),
        "symmetric",
    ),
    "full-indefinite": (
        dict(means=_MEANS, covariances=np.stack([_INDEFINITE, _SPD])),
        "positive definite",
    ),
    "full-singular": (
        dict(means=_MEANS, covariances=np.stack([_SPD, _SINGULAR])),
        "positive definite",
    ),
    "full-nan": (
        dict(means=_MEANS, covariances=np.stack([_SPD, np.full((2, 2), np.nan)])),
        "NaN",
    ),
    "tied-shape": (
        dict(structure=TiedCovariance(), means=_MEANS, covariances=np.stack([_SPD, _SPD])),
        "covariances",
    ),
    "tied-non-symmetric": (
        dict(structure=TiedCovariance(), means=_MEANS, covariances=_NON_SYMMETRIC),
        "symmetric",
    ),
    "tied-indefinite": (
        dict(structure=TiedCovariance(), means=_MEANS, covariances=_INDEFINITE),
        "positive definite",
    ),
    "diag-shape": (
        dict(structure=DiagonalCovariance(), means=_MEANS, covariances=np.ones(2)),
        "covariances",
    ),
    "diag-negative": (
        dict(
            structure=DiagonalCovariance(),
            means=_MEANS,
            covariances=np.array([[1.0, -0.5], [1.0, 1.0]]),
        ),
        "positive",
    ),
    "diag-zero": (
        dict(
            structure=DiagonalCovariance(),
            means=_MEANS,
            covariances=np.array([[1.0, 1.0], [0.0, 1.0]]),
        ),
        "positive",
    ),
    "spherical-shape": (
        dict(structure=SphericalCovariance(), means=_MEANS, covariances=np.ones((2, 2))),
        "covariances",
    ),
    "spherical-negative": (
        dict(structure=SphericalCovariance(), means=_MEANS, covariances=np.array([1.0, -2.0])),
        "positive",
    ),
}


@pytest.mark.parametrize(
    ("kwargs", "message"), list(FAMILY_ERRORS.values()), ids=list(FAMILY_ERRORS)
)
def test_family_validation(kwargs, message):
    kwargs = dict(kwargs)
    n_components = kwargs.pop("n_components", 2)
    structure = kwargs.pop("structure", FullCovariance())
    with pytest.raises(ValueError, match=message):
        GaussianFamily(n_components, structure, **kwargs)


GAUSSIAN_ERRORS = {
    "tied": (dict(mean=[0.0, 0.0], covariance=_SPD, structure=TiedCovariance()), "tied"),
    "mean-2d": (dict(mean=[[0.0, 0.0]], covariance=_SPD), "mean"),
    "mean-nan": (dict(mean=[0.0, np.nan], covariance=_SPD), "NaN"),
    "full-shape": (dict(mean=[0.0, 0.0], covariance=np.eye(3)), "covariance"),
    "full-vector": (dict(mean=[0.0, 0.0], covariance=[1.0, 1.0]), "covariance"),
    "full-non-symmetric": (dict(mean=[0.0, 0.0], covariance=_NON_SYMMETRIC), "symmetric"),
    "full-indefinite": (dict(mean=[0.0, 0.0], covariance=_INDEFINITE), "positive definite"),
    "diag-shape": (
        dict(mean=[0.0, 0.0], covariance=[1.0, 1.0, 1.0], structure=DiagonalCovariance()),
        "covariance",
    ),
    "diag-negative": (
        dict(mean=[0.0, 0.0], covariance=[1.0, -1.0], structure=DiagonalCovariance()),
        "positive",
    ),
    "spherical-vector": (
        dict(mean=[0.0, 0.0], covariance=[1.0, 2.0], structure=SphericalCovariance()),
        "covariance",
    ),
    "spherical-negative": (
        dict(mean=[0.0, 0.0], covariance=-1.0, structure=SphericalCovariance()),
        "positive",
    ),
    "structure-string": (dict(mean=[0.0, 0.0], covariance=_SPD, structure="full"), "structure"),
    "reg-negative": (dict(mean=[0.0, 0.0], covariance=_SPD, reg_covar=-1.0), "reg_covar"),
}


@pytest.mark.parametrize(
    ("kwargs", "message"), list(GAUSSIAN_ERRORS.values()), ids=list(GAUSSIAN_ERRORS)
)
def test_gaussian_validation(kwargs, message):
    kwargs = dict(kwargs)
    with pytest.raises(ValueError, match=message):
        Gaussian(kwargs.pop("mean"), kwargs.pop("covariance"), **kwargs)


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_unfitted_template(structure):
    template = GaussianFamily(2, structure)
    assert not template.is_fitted
    assert template.n_features is None
    X = np.zeros((4, 2))
    with pytest.raises(NotFittedError, match="unfitted"):
        template.log_density(X)
    with pytest.raises(NotFittedError):
        _ = template.means
    with pytest.raises(NotFittedError):
        _ = template.n_parameters
    with pytest.raises(NotFittedError):
        template.sample(np.array([1, 1]), np.random.default_rng(0))
    with pytest.raises(NotFittedError):
        _ = template.components
    # Statistics need no parameters, so a template can still be fitted.
    fitted = template.m_step(template.statistics(blobs(81, 30, 2, 2), soft_weights(30, 2, 82)))
    assert fitted.is_fitted and not template.is_fitted


def test_m_step_rejects_foreign_statistics():
    family, _, _ = family_with_parameters(FullCovariance(), 2, 2, seed=83)
    with pytest.raises(TypeError):
        family.m_step(object())


# -- 9. pickling -------------------------------------------------------------------------------
@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_pickle_round_trip(structure):
    family, means, _ = family_with_parameters(structure, 3, 4, seed=91, offset=250.0)
    X = rows_near(means, 40, seed=92) + 250.0
    restored = pickle.loads(pickle.dumps(family))
    assert restored.structure == structure
    assert restored.reg_covar == family.reg_covar
    np.testing.assert_array_equal(restored.log_density(X), family.log_density(X))
    np.testing.assert_array_equal(restored.covariances, family.covariances)
    for original, copy in zip(family.components, restored.components, strict=True):
        np.testing.assert_array_equal(copy.log_density(X), original.log_density(X))


@pytest.mark.parametrize("structure", SINGLE, ids=SINGLE_IDS)
def test_gaussian_pickle_round_trip(structure):
    gaussian = Gaussian([1.0, 2.0, 3.0], single_covariance(structure, 3, 93), structure=structure)
    X = rows_near(np.array([[1.0, 2.0, 3.0]]), 30, seed=94)
    restored = pickle.loads(pickle.dumps(gaussian))
    assert isinstance(restored, Gaussian)
    np.testing.assert_array_equal(restored.log_density(X), gaussian.log_density(X))
    np.testing.assert_array_equal(restored.mean, gaussian.mean)


# -- 10. Gaussian.fit --------------------------------------------------------------------------
@pytest.mark.parametrize("reg_covar", [0.0, 1e-6, 0.1])
@pytest.mark.parametrize("structure", SINGLE, ids=SINGLE_IDS)
def test_gaussian_fit_matches_numpy(structure, reg_covar):
    X = blobs(101, 300, 3, 1)
    covariance = single_covariance(structure, 3, 102)
    start = Gaussian(np.zeros(3), covariance, structure=structure, reg_covar=reg_covar)
    fitted = start.fit(X)
    assert isinstance(fitted, Gaussian)
    assert fitted.structure == structure and fitted.reg_covar == reg_covar
    np.testing.assert_allclose(fitted.mean, np.mean(X, axis=0), rtol=1e-12, atol=1e-13)
    sample_cov = np.cov(X, rowvar=False, bias=True)
    expected = {
        "full": sample_cov + reg_covar * np.eye(3),
        "diag": np.diag(sample_cov) + reg_covar,
        "spherical": np.mean(np.diag(sample_cov)) + reg_covar,
    }[structure.name]
    assert_scaled_close(fitted.covariance, expected, 1e-12, "covariance")


@pytest.mark.parametrize("structure", SINGLE, ids=SINGLE_IDS)
def test_gaussian_weighted_fit_matches_numpy(structure):
    X = blobs(103, 250, 2, 1)
    weights = np.random.default_rng(104).uniform(0.0, 3.0, size=250)
    fitted = Gaussian([0.0, 0.0], single_covariance(structure, 2, 105), structure=structure).fit(
        X, weights
    )
    np.testing.assert_allclose(fitted.mean, np.average(X, axis=0, weights=weights), rtol=1e-12)
    sample_cov = np.cov(X, rowvar=False, bias=True, aweights=weights)
    expected = {
        "full": sample_cov + 1e-6 * np.eye(2),
        "diag": np.diag(sample_cov) + 1e-6,
        "spherical": np.mean(np.diag(sample_cov)) + 1e-6,
    }[structure.name]
    assert_scaled_close(fitted.covariance, expected, 1e-12, "covariance")
    # Integer weights are the same as repeating rows.
    counts = np.random.default_rng(106).integers(0, 4, size=250)
    counts[0] = 1
    repeated = Gaussian([0.0, 0.0], single_covariance(structure, 2, 105), structure=structure)
    by_weight = repeated.fit(X, counts.astype(float))
    by_rows = repeated.fit(np.repeat(X, counts, axis=0))
    assert_scaled_close(by_weight.mean, by_rows.mean, 1e-12, "mean")
    assert_scaled_close(by_weight.covariance, by_rows.covariance, 1e-12, "covariance")


def test_gaussian_fit_rejects_bad_data():
    gaussian = Gaussian([0.0, 0.0], _SPD)
    with pytest.raises(ValueError, match="features"):
        gaussian.fit(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        gaussian.fit(np.array([[0.0, np.nan], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="weights must be non-negative"):
        gaussian.fit(np.ones((3, 2)), weights=[1.0, -1.0, 1.0])


def test_gaussian_statistics_round_trip():
    X = blobs(107, 120, 3, 1)
    w = np.random.default_rng(108).uniform(0.5, 2.0, size=120)
    gaussian = Gaussian(np.zeros(3), np.eye(3), reg_covar=0.0)
    stats = gaussian.statistics(X[:50], w[:50]) + gaussian.statistics(X[50:], w[50:])
    new = gaussian.from_statistics(stats)
    np.testing.assert_allclose(new.mean, np.average(X, axis=0, weights=w), rtol=1e-12)
    assert_scaled_close(
        new.covariance, np.cov(X, rowvar=False, bias=True, aweights=w), 1e-12, "covariance"
    )
