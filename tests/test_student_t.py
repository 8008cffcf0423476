"""The multivariate Student-t component: conformance, densities, recovery and robustness."""

from __future__ import annotations

import doctest
import pickle
import warnings
from typing import Any

import numpy as np
import pytest
from scipy import integrate, optimize, special
from scipy import stats as scipy_stats

import mixture.components.student_t as student_t_module
from mixture import (
    DiagonalCovariance,
    FullCovariance,
    GaussianFamily,
    Mixture,
    MixtureEM,
    SphericalCovariance,
    TiedCovariance,
)
from mixture.components.student_t import StudentT, StudentTStatistics
from mixture.exceptions import DegenerateComponentError
from mixture.initializers import KMeans, RandomRows
from mixture.testing import check_component

SCALE_3 = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])


def _matched(fitted_locs: np.ndarray, true_locs: np.ndarray) -> np.ndarray:
    """Order of the fitted components that matches the true ones (by squared distance)."""
    cost = ((fitted_locs[:, None, :] - true_locs[None, :, :]) ** 2).sum(axis=-1)
    rows, cols = optimize.linear_sum_assignment(cost)
    return rows[np.argsort(cols)]


def _entry_errors(fitted: np.ndarray, true: np.ndarray) -> np.ndarray:
    """|fitted - true| of (K, D, D) matrices, each entry relative to sqrt(true_ii true_jj).

    Relative to the entry itself would divide by zero for uncorrelated features; this is the
    relative error on the diagonal and the error of the correlation scale off it.
    """
    diagonal = np.diagonal(true, axis1=1, axis2=2)
    return np.abs(fitted - true) / np.sqrt(diagonal[:, :, None] * diagonal[:, None, :])


# -- 1. the conformance kit ----------------------------------------------------------------

KIT_CASES = {
    "full, df estimated": (StudentT([1.0, -2.0, 0.5], SCALE_3, 9.0), 3 + 6 + 1),
    "full, df fixed": (StudentT([1.0, -2.0, 0.5], SCALE_3, 9.0, estimate_df=False), 3 + 6),
    "diagonal, df estimated": (
        StudentT([3.0, 0.0], [0.5, 4.0], 12.0, structure=DiagonalCovariance()),
        2 + 2 + 1,
    ),
    "diagonal, df fixed": (
        StudentT([3.0, 0.0], [0.5, 4.0], 12.0, structure=DiagonalCovariance(), estimate_df=False),
        2 + 2,
    ),
}

INVALID: list[dict[str, Any]] = [
    {"loc": [0.0, 0.0], "scale": [[1.0, 2.0], [2.0, 1.0]], "df": 5.0},  # not positive definite
    {"loc": [0.0, 0.0], "scale": [[1.0, 0.5], [0.0, 1.0]], "df": 5.0},  # not symmetric
    {"loc": [0.0, 0.0], "scale": np.eye(3), "df": 5.0},  # wrong shape
    {"loc": [[0.0, 0.0]], "scale": np.eye(2), "df": 5.0},  # loc not 1-D
    {"loc": [np.nan, 0.0], "scale": np.eye(2), "df": 5.0},
    {"loc": [0.0, 0.0], "scale": np.eye(2), "df": 0.0},
    {"loc": [0.0, 0.0], "scale": np.eye(2), "df": np.inf},
    {"loc": [0.0, 0.0], "scale": np.eye(2), "df": 5000.0},  # outside df_bounds, estimated
    {"loc": [0.0, 0.0], "scale": np.eye(2), "df": 5.0, "reg_covar": -1.0},
    {"loc": [0.0, 0.0], "scale": np.eye(2), "df": 5.0, "df_bounds": (3.0, 2.0)},
    {"loc": [0.0, 0.0], "scale": np.eye(2), "df": 5.0, "estimate_df": "yes"},
    {"loc": [0.0, 0.0], "scale": np.eye(2), "df": 5.0, "structure": TiedCovariance()},
    {"loc": [0.0, 0.0], "scale": [1.0, -1.0], "df": 5.0, "structure": DiagonalCovariance()},
]


@pytest.mark.parametrize("name", list(KIT_CASES))
def test_student_t_passes_the_conformance_kit(name: str) -> None:
    component, n_parameters = KIT_CASES[name]
    report = check_component(component, invalid=INVALID, n_parameters=n_parameters)
    print(report)
    assert "density vs scipy" in report.passed
    assert "sample moments" in report.passed
    assert "sample distribution vs scipy twin (KS)" in report.passed
    assert not report.not_run, report.not_run


# -- 2. densities --------------------------------------------------------------------------

DENSITY_CASES = {
    "D=1": (StudentT([0.7], [[2.5]], 1.5), [[2.5]]),
    "D=3 full": (StudentT([1.0, -2.0, 0.5], SCALE_3, 3.0), SCALE_3),
    "D=2 diagonal": (
        StudentT([0.0, 4.0], [0.3, 7.0], 0.8, structure=DiagonalCovariance()),
        np.diag([0.3, 7.0]),
    ),
    "D=4 spherical": (
        StudentT(np.arange(4.0), 1.7, 25.0, structure=SphericalCovariance()),
        1.7 * np.eye(4),
    ),
}


@pytest.mark.parametrize("name", list(DENSITY_CASES))
def test_log_density_equals_scipy(name: str) -> None:
    component, matrix = DENSITY_CASES[name]
    rng = np.random.default_rng(3)
    X = np.concatenate(
        [component.sample(500, rng), 30.0 * rng.standard_normal((50, component.n_features))]
    )
    expected = scipy_stats.multivariate_t(
        loc=component.loc, shape=np.asarray(matrix), df=component.df
    ).logpdf(X)
    np.testing.assert_allclose(component.log_density(X), np.atleast_1d(expected), rtol=1e-10)
    np.testing.assert_allclose(component.scale_matrix, matrix, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("n_features", [1, 3])
def test_data_far_from_the_origin(n_features: int) -> None:
    """Rows and loc offset by 1e6 give the densities and the M-step of the offset-free ones.

    The offset rows are built so that subtracting 1e6 again is exact (Sterbenz), so the
    offset-free reference sees exactly the same differences ``x - loc``: any gap comes from
    how the component evaluates, e.g. expanding ``x^T P x - 2 x^T P mu + mu^T P mu``.
    """
    rng = np.random.default_rng(5)
    offset = 1e6
    scale = SCALE_3[:n_features, :n_features]
    loc_far = rng.normal(size=n_features) + offset
    X_far = StudentT(loc_far, scale, 5.0).sample(2000, rng)
    loc, X = loc_far - offset, X_far - offset  # exact
    near, far = StudentT(loc, scale, 5.0), StudentT(loc_far, scale, 5.0)
    reference = scipy_stats.multivariate_t(loc=loc, shape=scale, df=5.0).logpdf(X)
    np.testing.assert_allclose(far.log_density(X_far), np.atleast_1d(reference), rtol=1e-10)

    weights = rng.uniform(0.1, 2.0, X.shape[0])
    fitted_near, fitted_far = near.fit(X, weights), far.fit(X_far, weights)
    np.testing.assert_allclose(fitted_far.loc - offset, fitted_near.loc, atol=1e-8)
    np.testing.assert_allclose(fitted_far.scale_matrix, fitted_near.scale_matrix, rtol=1e-7)
    assert fitted_far.df == pytest.approx(fitted_near.df, rel=1e-6)


# -- 3. recovery of a known mixture --------------------------------------------------------

TRUE_WEIGHTS = np.array([0.3, 0.3, 0.4])
TRUE_LOCS = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
TRUE_SCALES = np.array(
    [[[1.0, 0.3], [0.3, 0.5]], [[0.6, -0.2], [-0.2, 0.8]], [[0.8, 0.0], [0.0, 0.4]]]
)
TRUE_DFS = np.array([4.0, 8.0, 20.0])


def _df_standard_error(df: float, n_features: int, n_rows: float) -> float:
    """Asymptotic standard error of the ML estimate of df from ``n_rows`` t-distributed rows.

    Fisher information of Lange, Little and Taylor (1989) for (df, log of the overall scale);
    the location and the shape of the scale matrix are orthogonal to df. With b ~ Beta(D/2,
    df/2) the scores give

        I_vv = (psi'(v/2) - psi'((v+D)/2)) / 4 - D (v+D+4) / (2 v (v+D) (v+D+2))
        I_ss = D v / (2 (v+D+2)),     I_vs = -D / ((v+D) (v+D+2))

    and the variance of df-hat is 1 / (n (I_vv - I_vs^2 / I_ss)).
    """
    v, d = df, n_features
    i_vv = 0.25 * (special.polygamma(1, v / 2) - special.polygamma(1, (v + d) / 2)) - d * (
        v + d + 4
    ) / (2 * v * (v + d) * (v + d + 2))
    i_ss = d * v / (2 * (v + d + 2))
    i_vs = -d / ((v + d) * (v + d + 2))
    return float(1.0 / np.sqrt(n_rows * (i_vv - i_vs**2 / i_ss)))


def test_recovers_a_three_component_student_t_mixture() -> None:
    n_rows = 20000
    truth = Mixture(
        TRUE_WEIGHTS,
        [StudentT(m, s, v) for m, s, v in zip(TRUE_LOCS, TRUE_SCALES, TRUE_DFS, strict=True)],
    )
    X, _ = truth.sample(n_rows, random_state=0)
    # A neutral start: the data's overall location and spread (see StudentT's Notes).
    start = [StudentT(X.mean(axis=0), np.cov(X.T), 10.0) for _ in range(3)]
    engine = MixtureEM(start, initializer=KMeans(), tol=1e-8, max_iter=2000, random_state=0)
    result = engine.fit(X)
    assert result.converged
    history = result.log_likelihood_history
    assert (np.diff(history) >= -1e-9 * np.abs(history[1:])).all()  # EM ascent

    order = _matched(np.array([c.loc for c in result.components]), TRUE_LOCS)
    fitted = [result.components[k] for k in order]
    weights = result.weights[order]
    locs = np.array([c.loc for c in fitted])
    scales = np.array([c.scale_matrix for c in fitted])
    dfs = np.array([c.df for c in fitted])
    # df is the hard parameter: allow 4 asymptotic standard errors (+-15% at df 4, +-26% at
    # df 8, +-49% at df 20 for these component sizes), which a correct estimator passes with
    # probability ~0.9999 per component while a biased one (e.g. one that ignores the
    # digamma term of E[log u]) misses by far more.
    df_tolerance = np.array(
        [
            4 * _df_standard_error(v, 2, w * n_rows)
            for v, w in zip(TRUE_DFS, TRUE_WEIGHTS, strict=True)
        ]
    )

    print(f"\nrecovery ({n_rows} rows, {result.n_iter} EM iterations)")
    print("k | weight true/fit | loc true -> fit | scale true -> fit | df true/fit (tol)")
    for k in range(3):
        print(
            f"{k} | {TRUE_WEIGHTS[k]:.2f} / {weights[k]:.4f} | {TRUE_LOCS[k].tolist()} -> "
            f"{locs[k].round(3).tolist()} | {TRUE_SCALES[k].ravel().tolist()} -> "
            f"{scales[k].ravel().round(3).tolist()} | {TRUE_DFS[k]:g} / {dfs[k]:.2f} "
            f"(+-{df_tolerance[k]:.2f})"
        )
    np.testing.assert_allclose(weights, TRUE_WEIGHTS, atol=0.01)
    np.testing.assert_allclose(locs, TRUE_LOCS, atol=0.05)
    assert _entry_errors(scales, TRUE_SCALES).max() < 0.10
    assert (np.abs(dfs - TRUE_DFS) < df_tolerance).all(), (dfs, df_tolerance)


# -- 4. robustness to gross outliers -------------------------------------------------------

CLUSTER_MEANS = TRUE_LOCS
CLUSTER_COVARIANCES = np.array(
    [[[1.0, 0.3], [0.3, 0.5]], [[0.6, -0.2], [-0.2, 0.8]], [[0.8, 0.1], [0.1, 0.4]]]
)


def _normal_model_factor(df: float, n_features: int) -> float:
    """c with scale -> c * covariance when a Student-t with fixed df is fitted to normal data.

    The M-step's fixed point at N(0, Sigma), by symmetry Sigma_t = c Sigma, gives
    c = E[(df + D) r / (df + r / c)] / D with r ~ chi2(D).
    """
    density = scipy_stats.chi2(n_features).pdf

    def gap(c: float) -> float:
        def integrand(r: float) -> float:
            return (df + n_features) * r / (df + r / c) * density(r)

        return integrate.quad(integrand, 0.0, np.inf)[0] / n_features - c

    return float(optimize.brentq(gap, 1e-3, 1.0))


def test_student_t_mixture_resists_gross_outliers() -> None:
    """3 Gaussian clusters + 5% rows uniform on a box 10x wider than the data.

    Both models use the same engine settings. Two choices are needed for a fair test:

    - The initializer is ``RandomRows`` with 5 restarts: k-means++ seeds land on the far
      outliers, and from a k-means start *both* models give a component to the outliers and
      merge two clusters (loc errors ~5 for both).
    - The Student-t degrees of freedom are fixed at 4, the robust default of Lange, Little
      and Taylor (1989). Estimated per component, EM lets one component's df fall below 1
      so it absorbs all the outliers with its tails (its scale is then 38% off) and needs
      hundreds of slow iterations; with df >= 6 fixed the tails are too light and one
      component becomes the background, as for the Gaussian mixture.

    A Student-t scale is not a covariance: on clean normal clusters the fit converges to
    c(4, 2) = 0.727 times the covariance, and the outliers inflate it again. Both numbers are
    printed; the assertion compares the scale with the true covariance as it is.
    """
    rng = np.random.default_rng(0)
    n_rows, n_outliers = 20000, 1000
    labels = rng.integers(3, size=n_rows - n_outliers)
    factors = np.linalg.cholesky(CLUSTER_COVARIANCES)
    noise = rng.standard_normal((labels.shape[0], 2))
    clusters = CLUSTER_MEANS[labels] + np.einsum("nd,ned->ne", noise, factors[labels])
    low, high = clusters.min(axis=0), clusters.max(axis=0)
    centre, width = (low + high) / 2, high - low
    outliers = rng.uniform(centre - 5 * width, centre + 5 * width, size=(n_outliers, 2))
    X = rng.permutation(np.concatenate([clusters, outliers]))

    settings = {"initializer": RandomRows(), "n_init": 5, "tol": 1e-6, "max_iter": 500}
    start = [StudentT(X.mean(axis=0), np.cov(X.T), 4.0, estimate_df=False) for _ in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a restart may end unconverged; the best one counts
        t_fit = MixtureEM(start, random_state=0, **settings).fit(X)
        g_fit = MixtureEM(GaussianFamily(3, FullCovariance()), random_state=0, **settings).fit(X)

    t_locs = np.array([c.loc for c in t_fit.components])
    t_order = _matched(t_locs, CLUSTER_MEANS)
    t_scales = np.array([t_fit.components[k].scale_matrix for k in t_order])
    t_loc_error = float(np.abs(t_locs[t_order] - CLUSTER_MEANS).max())
    t_scale_error = float(_entry_errors(t_scales, CLUSTER_COVARIANCES).max())
    c = _normal_model_factor(4.0, 2)
    t_calibrated_error = float(_entry_errors(t_scales / c, CLUSTER_COVARIANCES).max())

    g_order = _matched(g_fit.family.means, CLUSTER_MEANS)
    g_loc_error = float(np.abs(g_fit.family.means[g_order] - CLUSTER_MEANS).max())
    g_covariances = g_fit.family.covariance_matrices[g_order]
    g_cov_error = float(_entry_errors(g_covariances, CLUSTER_COVARIANCES).max())

    print(
        f"\nrobustness, 5% gross outliers: largest loc error t {t_loc_error:.4f}, "
        f"Gaussian {g_loc_error:.3f}; largest scale/covariance entry error t {t_scale_error:.3f} "
        f"(scale / c(4, 2) = {c:.3f}: {t_calibrated_error:.3f}), Gaussian {g_cov_error:.1f}"
    )
    assert t_loc_error < 0.1
    assert t_scale_error < 0.3
    assert g_loc_error > 1.0
    assert g_cov_error > 3 * t_scale_error


def test_normal_model_factor_matches_a_clean_fit() -> None:
    """The factor the robustness test quotes: a fixed-df fit on normal rows shrinks by c."""
    rng = np.random.default_rng(1)
    X = rng.multivariate_normal([0.0, 0.0], CLUSTER_COVARIANCES[0], size=20000)
    fitted = StudentT([0.0, 0.0], np.eye(2), 4.0, estimate_df=False, reg_covar=0.0)
    for _ in range(60):
        fitted = fitted.fit(X)
    ratio = fitted.scale_matrix / np.cov(X.T, bias=True)
    np.testing.assert_allclose(ratio, _normal_model_factor(4.0, 2), rtol=0.03)


# -- 5. validation, settings, pickle -------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"loc": [[0.0, 0.0]]}, "loc"),
        ({"loc": [0.0, np.inf]}, "loc"),
        ({"loc": []}, "loc"),
        ({"scale": np.eye(3)}, "scale"),
        ({"scale": [[1.0, 2.0], [2.0, 1.0]]}, "scale"),
        ({"scale": [[1.0, np.nan], [np.nan, 1.0]]}, "scale"),
        ({"scale": [["a", "b"], ["c", "d"]]}, "scale"),
        ({"df": 0.0}, "df"),
        ({"df": -2.0}, "df"),
        ({"df": np.nan}, "df"),
        ({"df": "5"}, "df"),
        ({"df": 2000.0}, "df"),
        ({"reg_covar": -1e-3}, "reg_covar"),
        ({"df_bounds": (0.0, 10.0)}, "df_bounds"),
        ({"df_bounds": (5.0,)}, "df_bounds"),
        ({"df_bounds": (1.0, np.inf)}, "df_bounds"),
        ({"estimate_df": 1}, "estimate_df"),
        ({"structure": "full"}, "structure"),
        ({"structure": TiedCovariance()}, "structure"),
    ],
)
def test_invalid_parameters_name_the_parameter(change: dict[str, Any], name: str) -> None:
    arguments: dict[str, Any] = {"loc": [0.0, 0.0], "scale": np.eye(2), "df": 5.0}
    arguments.update(change)
    with pytest.raises(ValueError, match=name):
        StudentT(**arguments)


def test_fixed_df_stays_and_df_outside_bounds_is_fine_when_fixed() -> None:
    rng = np.random.default_rng(2)
    X = StudentT([0.0, 1.0], [[1.0, 0.2], [0.2, 2.0]], 3.0).sample(3000, rng)
    fixed = StudentT([0.0, 0.0], np.eye(2), 2000.0, estimate_df=False)
    fitted = fixed
    for _ in range(5):
        fitted = fitted.fit(X)
    assert fitted.df == 2000.0
    assert not fitted.estimate_df and fitted.n_parameters == 5
    estimated = StudentT([0.0, 0.0], np.eye(2), 10.0, df_bounds=(1.0, 50.0)).fit(X)
    assert estimated.df != 10.0 and estimated.df_bounds == (1.0, 50.0)
    assert estimated.reg_covar == 1e-6 and estimated.structure == FullCovariance()


def test_df_is_clamped_to_its_bounds() -> None:
    """Outside the bounds the M-step's df equation has its root beyond the bound (the
    expected log-likelihood is concave in df), so the bound is the maximiser."""
    rng = np.random.default_rng(4)
    cauchy = StudentT([0.0], [[1.0]], 1.0).sample(5000, rng)
    normal = rng.standard_normal((5000, 1))
    assert StudentT([0.0], [[1.0]], 3.0, df_bounds=(3.0, 50.0)).fit(cauchy).df == 3.0
    assert StudentT([0.0], [[1.0]], 8.0, df_bounds=(3.0, 8.0)).fit(normal).df == 8.0
    unbounded = StudentT([0.0], [[1.0]], 8.0).fit(normal).df
    assert unbounded > 8.0  # EM moves df towards the normal limit


def test_pickle_repr_and_immutability() -> None:
    component = StudentT([1.0, -2.0, 0.5], SCALE_3, 6.0, reg_covar=1e-4, df_bounds=(1.0, 80.0))
    restored = pickle.loads(pickle.dumps(component))
    X = component.sample(100, np.random.default_rng(0))
    np.testing.assert_array_equal(restored.log_density(X), component.log_density(X))
    assert repr(restored) == repr(component)
    assert repr(component).startswith("StudentT(loc=[1.0, -2.0, 0.5], scale=[[2.0, 0.3, 0.1]")
    assert "df=6.0," in repr(component) and "df_bounds=(1.0, 80.0)" in repr(component)
    with pytest.raises(ValueError, match="read-only"):
        component.loc[0] = 99.0  # parameters are read-only arrays
    with pytest.raises(ValueError, match="read-only"):
        component.scale[0, 0] = 99.0
    np.testing.assert_array_equal(component.loc, [1.0, -2.0, 0.5])
    np.testing.assert_array_equal(component.scale, SCALE_3)


def test_moments_follow_scipy_conventions() -> None:
    assert np.isnan(StudentT([1.0], [[2.0]], 1.0).mean).all()
    assert np.isnan(StudentT([1.0], [[2.0]], 0.9).variance).all()
    assert np.isinf(StudentT([1.0], [[2.0]], 2.0).variance).all()
    np.testing.assert_allclose(StudentT([1.0], [[2.0]], 1.5).mean, [1.0])
    t = StudentT([1.0, 2.0], [[2.0, 0.5], [0.5, 3.0]], 5.0)
    np.testing.assert_allclose(t.variance, [2.0 * 5 / 3, 3.0 * 5 / 3])
    np.testing.assert_allclose(t.variance, scipy_stats.t(5.0, scale=np.sqrt([2.0, 3.0])).var())


def test_statistics_are_additive_and_empty_chunks_are_neutral() -> None:
    rng = np.random.default_rng(6)
    component = StudentT([0.0, 0.0], [[1.0, 0.2], [0.2, 0.5]], 7.0)
    X = component.sample(300, rng)
    w = rng.uniform(0.0, 2.0, 300)
    whole = component.statistics(X, w)
    parts = sum([component.statistics(X[:0], w[:0]), component.statistics(X[:100], w[:100])])
    parts = parts + component.statistics(X[100:], w[100:])
    assert isinstance(parts, StudentTStatistics)
    assert parts.total_weight == pytest.approx(w.sum())
    u = component.latent_weights(X)
    assert parts.weight_u == pytest.approx(float((w * u).sum()))
    np.testing.assert_allclose(parts.mean, (w * u) @ X / (w * u).sum())
    np.testing.assert_allclose(parts.weighted.scatter, whole.weighted.scatter, rtol=1e-12)
    assert parts.log_u_minus_u == pytest.approx(whole.log_u_minus_u, rel=1e-12)
    with pytest.raises(DegenerateComponentError):
        component.from_statistics(whole.scale(0.0))
    with pytest.raises(ValueError, match="weights"):
        component.statistics(X, -w)


def test_warm_start_float32_and_docstring_examples() -> None:
    rng = np.random.default_rng(7)
    truth = Mixture(
        [0.5, 0.5], [StudentT([-4.0, 0.0], np.eye(2), 5.0), StudentT([4.0, 0.0], np.eye(2), 5.0)]
    )
    X, _ = truth.sample(2000, random_state=rng)
    start = [StudentT([0.0, 0.0], np.eye(2), 10.0, reg_covar=1e-3) for _ in range(2)]
    first = MixtureEM(start, max_iter=5, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        partial = first.fit(X)
    resumed = MixtureEM(start, max_iter=200, tol=1e-6).fit(X, warm_start=partial)
    assert all(c.reg_covar == 1e-3 for c in resumed.components)
    assert resumed.lower_bound >= partial.lower_bound - 1e-9
    component = resumed.components[0]
    np.testing.assert_allclose(
        component.log_density(X.astype(np.float32)), component.log_density(X), rtol=1e-5
    )
    with pytest.raises(ValueError, match="cannot start"):
        component.with_parameters_from(
            StudentT([0.0, 0.0], [1.0, 1.0], 5.0, structure=DiagonalCovariance())
        )
    assert doctest.testmod(student_t_module).failed == 0
