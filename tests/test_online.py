"""Online (stepwise) EM and MiniBatchGaussianMixture: recovery within standard errors, the
step-size schedule, determinism, errors, and scikit-learn's estimator checks."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import mixture.minibatch
import mixture.online
from mixture import (
    DiagonalCovariance,
    FullCovariance,
    GaussianFamily,
    GaussianMixture,
    GivenParameters,
    KMeans,
    MixtureEM,
    Poisson,
)
from mixture.exceptions import ConvergenceWarning, DegenerateComponentError
from mixture.minibatch import MiniBatchGaussianMixture
from mixture.online import OnlineEM

WEIGHTS = np.array([0.5, 0.3, 0.2])
MEANS = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
COVARIANCES = np.array(
    [[[1.0, 0.3], [0.3, 1.0]], [[2.0, -0.5], [-0.5, 1.0]], [[0.5, 0.0], [0.0, 1.5]]]
)
N_ROWS, BATCH = 200_000, 1_000


def gaussian_rows(seed: int, n_rows: int = N_ROWS) -> np.ndarray:
    """Rows of the well-separated 3-component 2-D mixture above (means 8 sd apart)."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n_rows, p=WEIGHTS)
    factors = np.linalg.cholesky(COVARIANCES)[labels]
    return MEANS[labels] + np.einsum("nij,nj->ni", factors, rng.normal(size=(n_rows, 2)))


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    return gaussian_rows(3)


@pytest.fixture(scope="module")
def batch_fit(rows):
    """Batch EM run to convergence: the maximum the online fits are compared with."""
    return MixtureEM(GaussianFamily(3, FullCovariance()), tol=1e-8, random_state=0).fit(rows)


def variance_factor(n_steps: int, decay: float, offset: float) -> float:
    """Variance of stepwise statistics relative to the plain mean of all batches.

    Near the optimum ``s_T`` is a weighted average of the batches' statistics with weights
    ``a_j = rho_j prod_{i > j} (1 - rho_i)`` (``rho_1 = 1``: the first step takes the first
    batch whole), so its variance is ``sum_j a_j^2`` batch variances against ``1 / T`` for
    the mean of all ``T`` batches.
    """
    rho = (offset + np.arange(1, n_steps + 1)) ** -decay
    rho[0] = 1.0
    kept = np.append(np.cumprod((1.0 - rho[1:])[::-1])[::-1], 1.0)
    weights = rho * kept
    assert np.isclose(weights.sum(), 1.0)
    return float(n_steps * np.sum(weights**2))


def nearest(estimates: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Index of the estimated component nearest to each true one (a permutation)."""
    order = np.array([np.argmin(((estimates - t) ** 2).sum(axis=1)) for t in truth])
    assert sorted(order.tolist()) == list(range(len(truth)))
    return order


def assert_gaussian_recovered(mixture, n_rows: int, inflation: float) -> None:
    """Weights, means and covariances within 5 standard errors of the truth: the
    complete-data standard errors of ``n_rows`` rows (the components are 8 sd apart, so
    hardly any information is lost to overlap), times ``sqrt(inflation)``."""
    family = mixture.family
    order = nearest(family.means, MEANS)
    counts = n_rows * WEIGHTS
    variances = np.diagonal(COVARIANCES, axis1=1, axis2=2)
    se_weights = np.sqrt(WEIGHTS * (1 - WEIGHTS) / n_rows)
    se_means = np.sqrt(variances / counts[:, None])
    products = variances[:, :, None] * variances[:, None, :] + COVARIANCES**2
    se_covariances = np.sqrt(products / counts[:, None, None])
    scale = np.sqrt(inflation)
    assert np.all(np.abs(mixture.weights[order] - WEIGHTS) < 5 * scale * se_weights)
    assert np.all(np.abs(family.means[order] - MEANS) < 5 * scale * se_means)
    assert np.all(np.abs(family.covariances[order] - COVARIANCES) < 5 * scale * se_covariances)


# -- recovery ---------------------------------------------------------------------------------
@pytest.mark.parametrize("averaging", [False, True], ids=["plain", "averaged"])
def test_one_pass_recovers_a_gaussian_mixture(rows, batch_fit, averaging) -> None:
    online = OnlineEM(GaussianFamily(3, FullCovariance()), averaging=averaging, random_state=1)
    online.fit(np.split(rows, N_ROWS // BATCH))
    assert online.n_steps == N_ROWS // BATCH and online.n_rows_seen == N_ROWS
    # Averaging only lowers the variance; the plain iterate's bound serves for both.
    assert_gaussian_recovered(online.mixture, N_ROWS, variance_factor(200, 0.7, 10.0))
    gap = batch_fit.score(rows) - online.mixture.score(rows)
    # Batch EM was run to convergence: the online fit cannot be better beyond its tolerance.
    assert -1e-6 < gap < 1e-3


def test_one_pass_recovers_a_poisson_mixture() -> None:
    rng = np.random.default_rng(5)
    weights, rates = np.array([0.4, 0.6]), np.array([[2.0, 20.0], [15.0, 4.0]])
    labels = rng.choice(2, size=N_ROWS, p=weights)
    X = rng.poisson(rates[labels]).astype(np.float64)
    model = [Poisson([1.0, 1.0]), Poisson([1.0, 1.0])]
    online = OnlineEM(model, random_state=2).fit(np.split(X, N_ROWS // BATCH))
    fitted = np.array([component.rate for component in online.mixture.components])
    order = nearest(fitted, rates)
    scale = 5 * np.sqrt(variance_factor(200, 0.7, 10.0))
    se_rates = np.sqrt(rates / (N_ROWS * weights[:, None]))
    assert np.all(np.abs(fitted[order] - rates) < scale * se_rates)
    se_weights = np.sqrt(weights * (1 - weights) / N_ROWS)
    assert np.all(np.abs(online.mixture.weights[order] - weights) < scale * se_weights)
    batch = MixtureEM(model, tol=1e-8, random_state=0).fit(X)
    assert -1e-6 < batch.score(X) - online.mixture.score(X) < 1e-3


def test_minibatch_estimator_recovers_and_matches_gaussian_mixture(rows) -> None:
    estimator = MiniBatchGaussianMixture(3, random_state=0).fit(rows)
    assert estimator.converged_ and estimator.n_iter_ >= 1
    # fit stops no earlier than the end of the first epoch
    assert estimator.n_steps_ >= -(-N_ROWS // 1024)
    steps = estimator.n_steps_
    assert_gaussian_recovered(estimator.result_, N_ROWS, variance_factor(steps, 0.7, 10.0))
    reference = GaussianMixture(3, tol=1e-8, random_state=0).fit(rows)
    assert -1e-6 < reference.score(rows) - estimator.score(rows) < 1e-3
    assert estimator.means_.shape == (3, 2) and estimator.covariances_.shape == (3, 2, 2)
    assert np.isfinite(estimator.lower_bound_) and len(estimator.lower_bounds_) == (
        estimator.n_iter_
    )


# -- the schedule -----------------------------------------------------------------------------
def test_step_sizes_follow_the_schedule() -> None:
    online = OnlineEM(GaussianFamily(2), learning_decay=0.75, learning_offset=12.0)
    for step in (1, 2, 10, 1000):
        assert np.isclose(online.step_size(step), (12.0 + step) ** -0.75, rtol=1e-15, atol=0)
    # (12 + 4)^(-3/4) = 1/8 and (0 + 4)^(-1) = 1/4 are exact in binary.
    assert np.isclose(online.step_size(4), 0.125, rtol=1e-15, atol=0)
    harmonic = OnlineEM(GaussianFamily(2), learning_decay=1.0, learning_offset=0.0)
    assert harmonic.step_size(1) == 1.0  # 1 ** -1, exact
    assert np.isclose(harmonic.step_size(4), 0.25, rtol=1e-15, atol=0)


@pytest.mark.parametrize(("decay", "offset"), [(0.7, 10.0), (1.0, 0.0), (0.55, 3.0)])
def test_each_step_is_the_stepwise_recursion(decay, offset) -> None:
    """s_t = (1 - rho_t) s_{t-1} + rho_t (N / w_t) s(B_t), rho_t = (offset + t)^-decay,
    then the M-step, redone by hand with the engine's E- and M-steps."""
    X = gaussian_rows(4, 6_000)
    batches = np.split(X, 6)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    weight_batches = np.split(weights, 6)
    total = 5e4
    online = OnlineEM(
        GaussianFamily(3, FullCovariance()),
        learning_decay=decay,
        learning_offset=offset,
        total_samples=total,
        random_state=0,
    )
    online.partial_fit(batches[0], weight_batches[0])
    engine = MixtureEM(GaussianFamily(3, FullCovariance()))
    # The first step: the initializer's start, then the first batch's statistics whole.
    start = MixtureEM(GaussianFamily(3, FullCovariance()), initializer=KMeans(n_init=3))
    start = start.initialize(batches[0], weight_batches[0], random_state=0)
    first = engine.e_step(batches[0], start, weight_batches[0])
    statistics = first.scale(total / first.total_weight)
    mixture = engine.m_step(start, statistics)
    np.testing.assert_allclose(online.mixture.family.means, mixture.family.means, rtol=1e-12)
    for step, (X_t, w_t) in enumerate(zip(batches[1:], weight_batches[1:], strict=True), 2):
        batch = engine.e_step(X_t, mixture, w_t)
        rho = (offset + step) ** -decay
        statistics = statistics.scale(1 - rho) + batch.scale(rho * total / batch.total_weight)
        mixture = engine.m_step(mixture, statistics)
        online.partial_fit(X_t, w_t)
        assert np.isclose(online.statistics.total_weight, total, rtol=1e-12)
        # The same operations in the same order; a loose bound all the same (round-off of
        # the merges, amplified by nothing but six M-steps).
        np.testing.assert_allclose(online.mixture.weights, mixture.weights, rtol=1e-10)
        np.testing.assert_allclose(online.mixture.family.means, mixture.family.means, rtol=1e-10)
        np.testing.assert_allclose(
            online.mixture.family.covariances, mixture.family.covariances, rtol=1e-10
        )
        assert np.isclose(online.last_batch_log_likelihood, batch.mean_log_likelihood)


def test_averaging_is_the_m_step_of_the_mean_statistics() -> None:
    batches = np.split(gaussian_rows(6, 8_000), 8)
    online = OnlineEM(GaussianFamily(3, FullCovariance()), averaging=True, burn_in=3)
    seen = []
    for X_t in batches:
        online.partial_fit(X_t)
        seen.append(online.statistics)
        if online.n_steps <= 3:  # before the burn-in ends, the iterate itself
            assert online.mixture is online.iterate
    average = sum(s.scale(1 / 5) for s in seen[3:])
    expected = MixtureEM(GaussianFamily(3, FullCovariance())).m_step(online.iterate, average)
    np.testing.assert_allclose(online.mixture.weights, expected.weights, rtol=1e-10)
    np.testing.assert_allclose(online.mixture.family.means, expected.family.means, rtol=1e-10)


def test_total_samples_does_not_change_maximum_likelihood_steps() -> None:
    """Without a prior the M-step is invariant to the statistics' scale: a fixed total and
    the rows seen so far (rescaled at each step) give the same parameters."""
    batches = np.split(gaussian_rows(7, 5_000), 5)
    fixed = OnlineEM(GaussianFamily(3, FullCovariance()), random_state=0).fit(batches)
    growing = OnlineEM(GaussianFamily(3, FullCovariance()), total_samples=None, random_state=0)
    growing.fit(batches)
    assert np.isclose(fixed.statistics.total_weight, 1e6)
    assert np.isclose(growing.statistics.total_weight, 5_000)
    np.testing.assert_allclose(growing.mixture.family.means, fixed.mixture.family.means, rtol=1e-9)
    np.testing.assert_allclose(
        growing.mixture.family.covariances, fixed.mixture.family.covariances, rtol=1e-9
    )


def test_weights_equal_repeated_rows_and_pairs_are_batches() -> None:
    X = gaussian_rows(8, 1_500)
    batches = np.split(X, 3)
    repeated = OnlineEM(GaussianFamily(3, FullCovariance()), random_state=0)
    repeated.fit(np.concatenate([b, b]) for b in batches)
    weighted = OnlineEM(GaussianFamily(3, FullCovariance()), random_state=0)
    weighted.fit((b, np.full(len(b), 2.0)) for b in batches)
    assert repeated.n_rows_seen == 3_000 and weighted.n_rows_seen == 1_500
    # The k-means restarts may tie and number the same components differently: match them.
    order = nearest(weighted.mixture.family.means, repeated.mixture.family.means)
    # Sums over rows in another order and grouping: round-off only.
    np.testing.assert_allclose(weighted.mixture.weights[order], repeated.mixture.weights, rtol=1e-9)
    np.testing.assert_allclose(
        weighted.mixture.family.means[order], repeated.mixture.family.means, rtol=1e-9, atol=1e-12
    )


def test_batches_of_several_chunks_run_the_threaded_e_step() -> None:
    batches = np.split(gaussian_rows(9, 6_000), 3)
    one_chunk = OnlineEM(GaussianFamily(3, FullCovariance()), random_state=0).fit(batches)
    chunked = OnlineEM(GaussianFamily(3, FullCovariance()), random_state=0, chunk_size=300)
    chunked.fit(batches)
    # The chunks' statistics are merged pairwise: round-off of a few merges.
    np.testing.assert_allclose(
        chunked.mixture.family.means, one_chunk.mixture.family.means, rtol=1e-10
    )


# -- determinism and errors -------------------------------------------------------------------
def test_partial_fit_is_deterministic() -> None:
    batches = np.split(gaussian_rows(10, 8_000), 8)
    fits = [OnlineEM(GaussianFamily(3, FullCovariance()), random_state=3) for _ in range(2)]
    for X_t in batches:
        for online in fits:
            online.partial_fit(X_t)
    a, b = (online.mixture for online in fits)
    # The same computation on the same rows in the same order: identical bits.
    assert np.array_equal(a.weights, b.weights)
    assert np.array_equal(a.family.means, b.family.means)
    assert np.array_equal(a.family.covariances, b.family.covariances)
    estimators = [MiniBatchGaussianMixture(3, random_state=3) for _ in range(2)]
    for X_t in batches:
        for estimator in estimators:
            estimator.partial_fit(X_t)
    assert np.array_equal(estimators[0].means_, estimators[1].means_)


def test_partial_fit_errors() -> None:
    online = OnlineEM(GaussianFamily(2, DiagonalCovariance()), random_state=0)
    with pytest.raises(ValueError, match="no parameters yet"):
        online.mixture  # noqa: B018
    with pytest.raises(ValueError, match="empty"):
        online.partial_fit(np.empty((0, 2)))
    X = gaussian_rows(11, 500)
    online.partial_fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but the first batch had 2"):
        online.partial_fit(np.ones((10, 3)))
    with pytest.raises(ValueError, match="empty"):
        online.partial_fit(np.empty((0, 2)))
    bad = X[:10].copy()
    bad[4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN at row 4, column 1"):
        online.partial_fit(bad)
    assert online.n_steps == 1  # failed calls change nothing


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("learning_decay", 0.5),
        ("learning_decay", 1.01),
        ("learning_offset", -1.0),
        ("total_samples", 0.0),
        ("burn_in", -1),
    ],
)
def test_bad_settings_are_refused(name, value) -> None:
    with pytest.raises(ValueError, match=name):
        OnlineEM(GaussianFamily(2), **{name: value})


def test_estimator_partial_fit_checks_features_with_sklearn_wording() -> None:
    estimator = MiniBatchGaussianMixture(2, random_state=0).partial_fit(gaussian_rows(0, 300))
    message = "X has 3 features, but MiniBatchGaussianMixture is expecting 2 features as input"
    with pytest.raises(ValueError, match=message):
        estimator.partial_fit(np.ones((20, 3)))
    estimator.partial_fit(gaussian_rows(1, 300))
    assert estimator.n_steps_ == 2 and estimator.n_iter_ == 2 and not estimator.converged_


def test_estimator_warns_when_max_iter_ends_the_fit() -> None:
    estimator = MiniBatchGaussianMixture(
        3, max_iter=1, max_no_improvement=None, batch_size=100, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        estimator.fit(gaussian_rows(12, 1_000))
    assert estimator.n_iter_ == 1 and estimator.n_steps_ == 10 and not estimator.converged_


def test_estimator_covariance_types_come_from_the_registry() -> None:
    X = gaussian_rows(13, 3_000)
    shapes = {"spherical": (3,), "tied": (2, 2), "VEV": (3, 2, 2)}
    for name, shape in shapes.items():
        estimator = MiniBatchGaussianMixture(3, covariance_type=name, random_state=0).fit(X)
        assert estimator.covariances_.shape == shape


def test_estimator_partial_fit_is_online_em() -> None:
    batches = np.split(gaussian_rows(14, 4_000), 4)
    estimator = MiniBatchGaussianMixture(3, random_state=5)
    online = OnlineEM(
        GaussianFamily(3, FullCovariance()),
        total_samples=None,
        initializer=KMeans(),
        random_state=5,
    )
    for X_t in batches:
        estimator.partial_fit(X_t)
        online.partial_fit(X_t)
    np.testing.assert_allclose(estimator.means_, online.mixture.family.means, rtol=1e-12)


def test_a_given_start_is_used() -> None:
    X = gaussian_rows(15, 2_000)
    start = MixtureEM(GaussianFamily(3, FullCovariance()), random_state=0).fit(X[:500])
    online = OnlineEM(GaussianFamily(3, FullCovariance()), initializer=GivenParameters(start))
    assert np.array_equal(online.initialize(X[:10]).family.means, start.family.means)


def test_estimator_degenerate_fit_says_it_in_sklearn_words() -> None:
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 5.0], [9.0, 0.0]]), 20, axis=0)
    with pytest.raises(DegenerateComponentError, match=r"^Fitting the mixture model failed"):
        MiniBatchGaussianMixture(3, reg_covar=0.0, random_state=0).fit(X)


@pytest.mark.parametrize("module", [mixture.online, mixture.minibatch], ids=["online", "minibatch"])
def test_docstring_examples(module) -> None:
    assert doctest.testmod(module).failed == 0


# -- scikit-learn's checks --------------------------------------------------------------------
def _expected_failures(estimator) -> dict[str, str]:
    if estimator.batch_size >= 100:  # the checks' data fit in one batch: full-batch steps
        return {}
    return {
        # As for scikit-learn's MiniBatchKMeans: with several batches per epoch, a row of
        # weight 2 sits in one batch while its two copies fall into different batches (and
        # the random initial sample differs), so the stochastic fits differ.
        "check_sample_weight_equivalence_on_dense_data": (
            "sample_weight is not equivalent to repeating rows across shuffled mini-batches"
        ),
    }


@parametrize_with_checks(
    [
        MiniBatchGaussianMixture(),
        MiniBatchGaussianMixture(n_components=2, covariance_type="tied", random_state=0),
        MiniBatchGaussianMixture(n_components=2, covariance_type="diag", batch_size=10),
        MiniBatchGaussianMixture(
            n_components=2, covariance_type="spherical", batch_size=7, init_params="random"
        ),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible_estimator(estimator, check) -> None:
    check(estimator)
