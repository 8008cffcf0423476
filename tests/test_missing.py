"""Missing values (NaN) marginalised by EM under missing at random."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _helpers import assert_close_in_ulps
from scipy import optimize, stats

from mixture import (
    SQUAREM,
    DiagonalCovariance,
    FullCovariance,
    GaussianFamily,
    GaussianMixture,
    GivenParameters,
    Mixture,
    MixtureEM,
    Poisson,
    SphericalCovariance,
    TiedCovariance,
    select_model,
)
from mixture.gaussian import MCLUST_NAMES, structure_named

FOUR = [FullCovariance(), TiedCovariance(), DiagonalCovariance(), SphericalCovariance()]
TRUE_MEANS = np.array([[0.0, 0.0, 0.0], [4.0, 4.0, 1.0]])
TRUE_COVARIANCES = np.array(
    [
        [[1.0, 0.6, 0.2], [0.6, 1.0, 0.3], [0.2, 0.3, 1.0]],
        [[1.0, -0.4, 0.0], [-0.4, 1.5, 0.2], [0.0, 0.2, 0.8]],
    ]
)


def two_clusters(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    noise = rng.standard_normal((n, 3))
    factors = np.linalg.cholesky(TRUE_COVARIANCES)
    return TRUE_MEANS[labels] + np.einsum("nd,ned->ne", noise, factors[labels])


def with_gaps(X: np.ndarray, rate: float, seed: int) -> np.ndarray:
    """Values missing completely at random; every row keeps at least one."""
    rng = np.random.default_rng(seed)
    gaps = rng.random(X.shape) < rate
    gaps[gaps.all(axis=1), rng.integers(0, X.shape[1])] = False
    gaps[gaps.all(axis=1), 0] = False
    return np.where(gaps, np.nan, X)


def brute_force_log_density(X, means, dense) -> np.ndarray:
    out = np.empty((X.shape[0], means.shape[0]))
    for i, row in enumerate(X):
        seen = ~np.isnan(row)
        for k in range(means.shape[0]):
            cov = dense[k][np.ix_(seen, seen)]
            out[i, k] = stats.multivariate_normal(means[k][seen], cov).logpdf(row[seen])
    return out


@pytest.mark.parametrize("name", MCLUST_NAMES)
def test_observed_log_density_equals_scipy_on_each_rows_observed_values(name) -> None:
    X = two_clusters(0, 120)
    fitted = MixtureEM(GaussianFamily(2, structure_named(name)), random_state=0).fit(X)
    family = fitted.family
    gappy = with_gaps(X[:40], 0.4, 1)
    dense = np.broadcast_to(family.covariance_matrices, (2, 3, 3))
    expected = brute_force_log_density(gappy, family.means, dense)
    np.testing.assert_allclose(family.log_density_observed(gappy), expected, rtol=1e-12, atol=1e-12)
    # The mixture's densities of rows with and without gaps come from the same numbers.
    marginalizing = MixtureEM(
        GaussianFamily(2, structure_named(name)), random_state=0, missing="marginalize"
    ).fit(X)
    dense = np.broadcast_to(marginalizing.family.covariance_matrices, (2, 3, 3))
    joint = brute_force_log_density(gappy, marginalizing.family.means, dense)
    expected_rows = np.logaddexp.reduce(joint + np.log(marginalizing.weights), axis=1)
    np.testing.assert_allclose(marginalizing.score_samples(gappy), expected_rows, rtol=1e-12)


@pytest.mark.parametrize("structure", FOUR, ids=lambda s: type(s).__name__)
def test_without_missing_values_the_fit_is_unchanged(structure) -> None:
    # No NaN: the same computations as a fit that refuses NaN (exactly).
    X = two_clusters(2, 300)
    plain = MixtureEM(GaussianFamily(2, structure), random_state=0).fit(X)
    marginal = MixtureEM(GaussianFamily(2, structure), random_state=0, missing="marginalize").fit(X)
    np.testing.assert_array_equal(marginal.family.means, plain.family.means)
    np.testing.assert_array_equal(marginal.family.covariances, plain.family.covariances)
    assert marginal.lower_bound == plain.lower_bound


@pytest.mark.parametrize("structure", FOUR, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("acceleration", [None, SQUAREM()], ids=["em", "squarem"])
def test_observed_log_likelihood_never_decreases(structure, acceleration) -> None:
    X = with_gaps(two_clusters(3, 400), 0.3, 4)
    result = MixtureEM(
        GaussianFamily(2, structure, reg_covar=0.0), random_state=0, missing="marginalize",
        tol=1e-10, max_iter=500, acceleration=acceleration,
    ).fit(X)  # fmt: skip
    history = result.log_likelihood_history
    assert np.diff(history).min() >= -1e-13 * np.abs(history).max()
    # The last entry is the observed-data log-likelihood of the parameters before the last
    # M-step; at convergence the fitted parameters score the same.
    assert result.score(X) == pytest.approx(history[-1], abs=1e-8)


def _unpack(theta: np.ndarray, n_components: int, n_features: int):
    logits = np.concatenate([[0.0], theta[: n_components - 1]])
    weights = np.exp(logits - np.logaddexp.reduce(logits))
    at = n_components - 1
    means = theta[at : at + n_components * n_features].reshape(n_components, n_features)
    at += n_components * n_features
    rows, cols = np.tril_indices(n_features)
    covariances = []
    for _ in range(n_components):
        lower = np.zeros((n_features, n_features))
        lower[rows, cols] = theta[at : at + rows.size]
        at += rows.size
        lower[np.diag_indices(n_features)] = np.exp(np.diagonal(lower))
        covariances.append(lower @ lower.T)
    return weights, means, np.array(covariances)


def _pack(weights, means, covariances) -> np.ndarray:
    n_features = means.shape[1]
    rows, cols = np.tril_indices(n_features)
    parts = [np.log(weights[1:] / weights[0]), means.ravel()]
    for cov in covariances:
        lower = np.linalg.cholesky(cov)
        lower[np.diag_indices(n_features)] = np.log(np.diagonal(lower))
        parts.append(lower[rows, cols])
    return np.concatenate(parts)


def _observed_log_likelihood(theta, X, n_components) -> float:
    weights, means, covariances = _unpack(theta, n_components, X.shape[1])
    joint = brute_force_log_density(X, means, covariances) + np.log(weights)
    return float(np.logaddexp.reduce(joint, axis=1).sum())


@pytest.mark.parametrize("n_components", [1, 2])
def test_em_reaches_the_numerical_maximum_of_the_observed_likelihood(n_components) -> None:
    # Tiny data: EM's fixed point maximises the observed-data likelihood. One component:
    # the optimiser starts from the complete-case estimates, elsewhere; two: from EM's
    # answer (label switching), which it must not be able to improve.
    X = with_gaps(two_clusters(5, 40), 0.3, 6)
    result = MixtureEM(
        GaussianFamily(n_components, FullCovariance(), reg_covar=0.0), random_state=0,
        missing="marginalize", tol=1e-13, max_iter=20000,
    ).fit(X)  # fmt: skip
    ours = _pack(result.weights, result.family.means, result.family.covariances)
    if n_components == 1:
        complete = X[~np.isnan(X).any(axis=1)]
        start = _pack(np.ones(1), complete.mean(axis=0)[None], np.cov(complete.T, bias=True)[None])
    else:
        start = ours
    found = optimize.minimize(
        lambda t: -_observed_log_likelihood(t, X, n_components), start, method="BFGS",
        options={"gtol": 1e-9, "maxiter": 5000},
    )  # fmt: skip
    weights, means, covariances = _unpack(found.x, n_components, 3)
    assert -found.fun <= _observed_log_likelihood(ours, X, n_components) + 1e-8
    np.testing.assert_allclose(result.family.means, means, atol=1e-5)
    np.testing.assert_allclose(result.family.covariances, covariances, atol=1e-5)
    np.testing.assert_allclose(result.weights, weights, atol=1e-5)


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5])
def test_parameters_are_recovered_and_beat_mean_imputation(rate) -> None:
    X = two_clusters(7, 4000)
    gappy = with_gaps(X, rate, 8)
    result = MixtureEM(
        GaussianFamily(2, FullCovariance()), random_state=0, missing="marginalize", tol=1e-8,
        max_iter=2000,
    ).fit(gappy)  # fmt: skip
    order = np.argsort(result.family.means[:, 0])
    means, covariances = result.family.means[order], result.family.covariances[order]
    observed_per_cell = 2000 * (1 - rate)
    # Means within 5 standard errors (sigma / sqrt(rows observed), inflated for the overlap).
    assert np.abs(means - TRUE_MEANS).max() < 5 * 1.3 / np.sqrt(observed_per_cell)
    means_filled = np.where(np.isnan(gappy), np.nanmean(gappy, axis=0), gappy)
    imputed = MixtureEM(GaussianFamily(2, FullCovariance()), random_state=0).fit(means_filled)
    order = np.argsort(imputed.family.means[:, 0])
    ours = np.abs(covariances - TRUE_COVARIANCES).max() + np.abs(means - TRUE_MEANS).max()
    theirs = (
        np.abs(imputed.family.covariances[order] - TRUE_COVARIANCES).max()
        + np.abs(imputed.family.means[order] - TRUE_MEANS).max()
    )
    assert ours < theirs


def test_chunk_size_and_row_order_change_nothing() -> None:
    X = with_gaps(two_clusters(9, 600), 0.3, 10)
    family = GaussianFamily(
        2, FullCovariance(), means=[[0.5, 0.5, 0.0], [3.5, 3.5, 1.0]],
        covariances=np.stack([np.eye(3)] * 2),
    )  # fmt: skip

    start = GivenParameters(Mixture([0.5, 0.5], family))

    def fit(rows: np.ndarray, chunk_size: int | None):
        engine = MixtureEM(family, initializer=start, missing="marginalize", tol=None,
                           max_iter=15, chunk_size=chunk_size)  # fmt: skip
        return engine.fit(rows)

    whole = fit(X, None)
    chunked = fit(X, 37)
    shuffled = fit(X[np.random.default_rng(11).permutation(X.shape[0])], 53)
    for other in (chunked, shuffled):
        # Sums over 600 rows in other orders, amplified by 15 iterations: a few thousand ulps.
        assert_close_in_ulps(other.family.means, whole.family.means, 1e4)
        assert_close_in_ulps(other.family.covariances, whole.family.covariances, 1e4)


def test_impute_gives_conditional_means_and_keeps_observed_values() -> None:
    X = two_clusters(12, 500)
    gappy = with_gaps(X, 0.3, 13)
    single = MixtureEM(GaussianFamily(1, FullCovariance()), missing="marginalize").fit(gappy)
    filled = single.impute(gappy)
    observed = ~np.isnan(gappy)
    np.testing.assert_array_equal(filled[observed], gappy[observed])
    mean, cov = single.family.means[0], single.family.covariances[0]
    for row, out in zip(gappy[:30], filled[:30], strict=True):
        seen = ~np.isnan(row)
        if seen.all():
            continue
        gap = ~seen
        expected = mean[gap] + cov[np.ix_(gap, seen)] @ np.linalg.solve(
            cov[np.ix_(seen, seen)], row[seen] - mean[seen]
        )
        np.testing.assert_allclose(out[gap], expected, rtol=1e-10, atol=1e-12)
    # Draws scatter around the conditional means (their average over many draws).
    draws = np.mean([single.impute(gappy[:20], draw=True, random_state=s) for s in range(400)], 0)
    gap = np.isnan(gappy[:20])
    assert np.abs(draws[gap] - filled[:20][gap]).max() < 0.35


def test_bad_input_is_refused_by_name() -> None:
    X = two_clusters(14, 50)
    X[3] = np.nan
    engine = MixtureEM(GaussianFamily(2), missing="marginalize")
    with pytest.raises(ValueError, match="row 3 has no observed value"):
        engine.fit(X)
    X[3] = 0.0
    X[5, 1] = np.inf
    with pytest.raises(ValueError, match="infinity at row 5, column 1"):
        engine.fit(X)
    X[5, 1] = np.nan
    with pytest.raises(ValueError, match="missing='marginalize'"):
        MixtureEM(GaussianFamily(2)).fit(X)
    with pytest.raises(ValueError, match="missing must be"):
        MixtureEM(GaussianFamily(2), missing="drop")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("chunk_size", [None, 1000, 777])
@pytest.mark.parametrize("observed", [False, True])
def test_a_row_error_names_the_row_in_chunks_of_complete_and_incomplete_rows(
    chunk_size, observed
) -> None:
    """A chunk's complete rows and its rows with gaps go through different E-steps; an
    error from either names the row of the data, whatever the chunking."""
    X = with_gaps(two_clusters(21, 5000), 0.2, 22)
    fitted = MixtureEM(GaussianFamily(2), missing="marginalize", random_state=0, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = fitted.fit(X)
    bad = X.copy()
    bad[4321] = [1e200, 1e200, 1e200] if observed else [1e200, np.nan, 1e200]
    engine = MixtureEM(GaussianFamily(2), missing="marginalize", chunk_size=chunk_size, max_iter=2)
    with pytest.raises(ValueError, match=r"\brow 4321\b"):
        engine.run(bad, start)


def test_estimator_and_selection_with_missing_values() -> None:
    X = with_gaps(two_clusters(15, 400), 0.2, 16)
    model = GaussianMixture(2, random_state=0, missing="marginalize").fit(X)
    assert np.isfinite(model.score_samples(X)).all()
    assert model.predict_proba(X).shape == (400, 2)
    assert not np.isnan(model.impute(X)).any()
    with pytest.raises(ValueError):
        GaussianMixture(2, random_state=0).fit(X)
    selection = select_model(X, n_components=range(1, 4), missing="marginalize", random_state=0)
    best = selection.best
    # BIC on incomplete data: from the observed-data log-likelihood.
    assert best.log_likelihood == pytest.approx(best.result.score(X) * X.shape[0], rel=1e-12)
    assert best.n_components == 2


# -- components over independent features ------------------------------------------------------
def _independent_components():
    from mixture import Bernoulli, Exponential, Gamma, LogNormal, Uniform, VonMises

    rng = np.random.default_rng(20)
    return [
        (Poisson([2.0, 7.0, 0.5]), rng.poisson([2.0, 7.0, 0.5], (60, 3)).astype(float)),
        (Bernoulli([0.2, 0.7, 0.5]), (rng.random((60, 3)) < [0.2, 0.7, 0.5]).astype(float)),
        (Exponential([1.0, 0.5, 3.0]), rng.exponential([1.0, 2.0, 1 / 3], (60, 3))),
        (Gamma([2.0, 5.0, 1.5], [1.0, 2.0, 0.5]), rng.gamma([2.0, 5.0, 1.5], 1.0, (60, 3))),
        (LogNormal([0.0, 1.0, -1.0], [0.5, 1.0, 0.3]), rng.lognormal(0.0, 0.7, (60, 3))),
        (VonMises([0.0, 1.0, -2.0], [2.0, 5.0, 0.5]), rng.vonmises(0.0, 2.0, (60, 3))),
        (Uniform([-1.0, 0.0, 2.0], [1.0, 4.0, 3.0]), rng.uniform([-1, 0, 2], [1, 4, 3], (60, 3))),
    ]


@pytest.mark.parametrize("component, X", _independent_components(), ids=lambda v: type(v).__name__)
def test_components_over_independent_features_leave_a_missing_feature_out(component, X) -> None:
    assert component.handles_missing
    gappy = with_gaps(X, 0.35, 21)
    expected = np.zeros(X.shape[0])
    for j in range(X.shape[1]):
        single = component.feature_marginal(np.arange(X.shape[1]) == j)
        seen = ~np.isnan(gappy[:, j])
        expected[seen] += single.log_density(gappy[seen][:, [j]])
    np.testing.assert_allclose(component.log_density_observed(gappy), expected, rtol=1e-12)
    # With nothing missing, the observed density is the density.
    np.testing.assert_allclose(component.log_density_observed(X), component.log_density(X))


def test_a_poisson_fit_with_gaps_estimates_each_rate_from_the_rows_that_observe_it() -> None:
    # One component: every row is its own, so each rate's MLE is the mean of the observed
    # values of its feature (closed form).
    rng = np.random.default_rng(22)
    gappy = with_gaps(rng.poisson([2.0, 7.0, 0.5], (500, 3)).astype(float), 0.3, 23)
    result = MixtureEM([Poisson([1.0, 1.0, 1.0])], missing="marginalize", tol=1e-12).fit(gappy)
    np.testing.assert_allclose(result.components[0].rate, np.nanmean(gappy, axis=0), rtol=1e-12)


def test_mixed_products_with_gaps_ascend_and_recover() -> None:
    from mixture import Gaussian, Independent

    rng = np.random.default_rng(24)
    labels = rng.integers(0, 2, 1500)
    X = np.column_stack(
        [rng.normal(np.where(labels, 5.0, 0.0), 1.0), rng.poisson(np.where(labels, 9.0, 2.0))]
    ).astype(float)
    gappy = with_gaps(X, 0.3, 25)

    def part(mean: float, rate: float) -> Independent:
        return Independent([Gaussian([mean], [[2.0]]), Poisson([rate])], blocks=[[0], [1]])

    result = MixtureEM(
        [part(1.0, 3.0), part(4.0, 6.0)], missing="marginalize", random_state=0, tol=1e-10,
        max_iter=1000,
    ).fit(gappy)  # fmt: skip
    history = result.log_likelihood_history
    assert np.diff(history).min() >= -1e-13 * np.abs(history).max()
    means = sorted(float(c.parts[0].mean[0]) for c in result.components)
    rates = sorted(float(c.parts[1].rate[0]) for c in result.components)
    assert means == pytest.approx([0.0, 5.0], abs=0.15)
    assert rates == pytest.approx([2.0, 9.0], abs=0.3)


def test_components_that_cannot_marginalise_refuse_by_name() -> None:
    from mixture import Categorical, StudentT

    for components in (
        [StudentT([0.0, 0.0], np.eye(2), 5.0), StudentT([1.0, 1.0], np.eye(2), 5.0)],
        [Categorical([[0.5, 0.5]]), Categorical([[0.2, 0.8]])],
    ):
        with pytest.raises(ValueError, match="does not handle missing values"):
            MixtureEM(components, missing="marginalize")


def test_streamed_sources_refuse_missing_values_up_front(tmp_path) -> None:
    X = with_gaps(two_clusters(30, 100), 0.2, 31)
    path = tmp_path / "rows.npy"
    np.save(path, np.nan_to_num(X))
    with pytest.raises(ValueError, match="needs in-memory rows"):
        MixtureEM(GaussianFamily(2), missing="marginalize").fit(str(path))


def test_review_cases_independent_products_frozen_starts_and_columns() -> None:
    from mixture import Gaussian, Independent
    from mixture.model import Mixture as MixtureModel

    rng = np.random.default_rng(40)
    # An Independent product whose Poisson block is missing in some rows (and in whole
    # chunks): the part contributes zero statistics there.
    data = np.column_stack(
        [np.concatenate([rng.normal(0, 1, (200, 2)), rng.normal(3, 1, (200, 2))]),
         np.concatenate([rng.poisson(2.0, 200), rng.poisson(8.0, 200)]).astype(float)]
    )  # fmt: skip
    data[rng.random(400) < 0.1, 2] = np.nan

    def product(mean: float, rate: float) -> Independent:
        return Independent([Gaussian([mean, mean], np.eye(2)), Poisson([rate])])

    fitted = MixtureEM(
        [product(0.0, 2.0), product(3.0, 8.0)], missing="marginalize", chunk_size=16
    ).fit(data)
    assert np.isfinite(fitted.lower_bound)
    # A column with no observed value cannot be estimated: refused by number.
    empty = data.copy()
    empty[:, 1] = np.nan
    with pytest.raises(ValueError, match="column 1 has no observed value"):
        MixtureEM(GaussianFamily(2), missing="marginalize").fit(empty)
    # Imputation keeps observed values exactly, and names what it cannot complete.
    gappy = with_gaps(two_clusters(41, 300), 0.3, 42)
    model = MixtureEM(GaussianFamily(2), random_state=0, missing="marginalize").fit(gappy)
    filled = model.impute(gappy)
    seen = ~np.isnan(gappy)
    np.testing.assert_array_equal(filled[seen], gappy[seen])
    with pytest.raises(ValueError, match="impute needs a family that completes rows"):
        fitted.impute(data)
    # A given start never overwrites frozen values.
    family = GaussianFamily(
        2, means=[[0.0, 0.0, 0.0], [4.0, 4.0, 1.0]], covariances=np.stack([np.eye(3)] * 2),
        frozen_means=[0],
    )  # fmt: skip
    other = MixtureModel(
        [0.5, 0.5],
        GaussianFamily(2, means=[[9.0, 9.0, 9.0], [4.0, 4.0, 1.0]],
                       covariances=np.stack([np.eye(3)] * 2)),
    )  # fmt: skip
    warm = MixtureEM(family).fit(two_clusters(43, 200), warm_start=other)
    np.testing.assert_array_equal(warm.family.means[0], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="give means and covariances too"):
        GaussianFamily(2, frozen_means=[0])
