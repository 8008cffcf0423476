"""MAP EM with a conjugate prior (Fraley and Raftery 2007; mclust's ``priorControl()``).

The M-step is checked against a direct numerical maximisation of the complete-data
log-posterior, whose log-prior is written here independently with ``scipy.stats``; EM with
a prior must never decrease the log-posterior; the prior must keep a component on duplicated
rows from collapsing; it must approach maximum likelihood in its flat limit; and it must
reproduce mclust (``benchmarks/prior_reference``).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize, stats

from mixture import Mixture, MixtureEM
from mixture.exceptions import DegenerateComponentError
from mixture.gaussian import (
    ConjugatePrior,
    DefaultPrior,
    DiagonalCovariance,
    EEICovariance,
    EIICovariance,
    FullCovariance,
    GaussianFamily,
    GaussianStatistics,
    SphericalCovariance,
    TiedCovariance,
)
from mixture.initializers import Initializer
from tests._helpers import STRUCTURE_IDS, STRUCTURES, assert_close_in_ulps, blobs

#: Every structure with a MAP M-step: scikit-learn's four, and mclust's EII and EEI (the
#: spherical and diagonal priors with one variance, or one set, shared by all components).
PRIOR_STRUCTURES = [*STRUCTURES, EIICovariance(), EEICovariance()]
PRIOR_IDS = [*STRUCTURE_IDS, "EII", "EEI"]

REFERENCE = Path(__file__).resolve().parent.parent / "benchmarks" / "prior_reference"


# -- an independent log-posterior (scipy.stats), on dense covariance matrices ----------------
def dense(structure, covariances, n_components, n_features):
    full = structure.form.dense(covariances, n_features)
    return np.broadcast_to(full, (n_components, n_features, n_features))


def scipy_log_prior(prior, structure, means, covariances):
    """``log p(means, covariances)`` from scipy's distributions (proper priors only)."""
    n_components, n_features = means.shape
    full = dense(structure, covariances, n_components, n_features)
    total = 0.0
    if prior.shrinkage > 0:
        for k in range(n_components):
            total += stats.multivariate_normal.logpdf(
                means[k], prior.mean, full[k] / prior.shrinkage
            )
    if isinstance(structure, FullCovariance):
        for k in range(n_components):
            total += stats.invwishart.logpdf(full[k], df=prior.dof, scale=prior.scale)
    elif isinstance(structure, TiedCovariance):
        total += stats.invwishart.logpdf(covariances, df=prior.dof, scale=prior.scale)
    elif isinstance(structure, (EIICovariance, EEICovariance)):  # shared: one prior term
        total += stats.invgamma.logpdf(
            covariances[0], a=prior.dof / 2, scale=np.asarray(prior.scale) / 2
        ).sum()
    else:  # an inverse gamma per variance, scale per feature (diagonal) or one (spherical)
        total += stats.invgamma.logpdf(
            covariances, a=prior.dof / 2, scale=np.asarray(prior.scale) / 2
        ).sum()
    return float(total)


def complete_data_log_posterior(X, resp, prior, structure, means, covariances):
    """``sum_k sum_i r_ik log N(x_i | mu_k, Sigma_k) + log p(means, covariances)``."""
    n_components, n_features = means.shape
    full = dense(structure, covariances, n_components, n_features)
    log_likelihood = sum(
        float(resp[:, k] @ stats.multivariate_normal.logpdf(X, means[k], full[k]))
        for k in range(n_components)
    )
    return log_likelihood + scipy_log_prior(prior, structure, means, covariances)


# The optimiser's parameterisation of each structure: unconstrained vector <-> covariances.
def _lower(values, n_features):
    lower = np.zeros((n_features, n_features))
    lower[np.tril_indices(n_features)] = values
    lower[np.diag_indices(n_features)] = np.exp(np.diag(lower))
    return lower


def _unlower(covariance):
    lower = np.linalg.cholesky(covariance)
    lower[np.diag_indices(lower.shape[0])] = np.log(np.diag(lower))
    return lower[np.tril_indices(lower.shape[0])]


PARAMETERISATIONS = {
    "full": (
        lambda v, k, d: np.stack([(lambda m: m @ m.T)(_lower(r, d)) for r in v.reshape(k, -1)]),
        lambda c: np.concatenate([_unlower(m) for m in c]),
    ),
    "tied": (lambda v, k, d: (lambda m: m @ m.T)(_lower(v, d)), _unlower),
    "diag": (lambda v, k, d: np.exp(v).reshape(k, d), lambda c: np.log(c).ravel()),
    "spherical": (lambda v, k, d: np.exp(v), np.log),
    "EII": (lambda v, k, d: np.full(k, np.exp(v[0])), lambda c: np.log(c[:1])),
    "EEI": (lambda v, k, d: np.tile(np.exp(v), (k, 1)), lambda c: np.log(c[0])),
}


def random_prior(rng, structure, n_features, shrinkage=None):
    """A proper prior of ``structure``'s form with random hyper-parameters."""
    if isinstance(structure, (FullCovariance, TiedCovariance)):
        a = rng.normal(size=(n_features, n_features))
        scale = a @ a.T + 0.5 * np.eye(n_features)
    elif isinstance(structure, (DiagonalCovariance, EEICovariance)):
        scale = rng.uniform(0.3, 2.0, size=n_features)
    else:
        scale = rng.uniform(0.3, 2.0)
    return ConjugatePrior(
        rng.uniform(0.05, 2.0) if shrinkage is None else shrinkage,
        rng.normal(size=n_features),
        n_features + 2 + rng.uniform(0.0, 3.0),
        scale,
    )


def map_family(X, resp, structure, prior, reg_covar=0.0):
    statistics = GaussianStatistics.of_rows(X, resp, structure)
    return GaussianFamily(resp.shape[1], structure, reg_covar=reg_covar, prior=prior).m_step(
        statistics
    )


# -- (a) the M-step is the posterior mode -----------------------------------------------------
@pytest.mark.parametrize("structure", PRIOR_STRUCTURES, ids=PRIOR_IDS)
@given(seed=st.integers(0, 2**32 - 1), shrinkage_is_zero=st.booleans())
def test_map_m_step_maximises_the_complete_data_log_posterior(structure, seed, shrinkage_is_zero):
    rng = np.random.default_rng(seed)
    n_rows, n_features, n_components = 7, 2, 2
    X = rng.normal(size=(n_rows, n_features)) * rng.uniform(0.5, 3.0)
    resp = rng.dirichlet(np.ones(n_components), size=n_rows)
    prior = random_prior(rng, structure, n_features, 0.0 if shrinkage_is_zero else None)
    fitted = map_family(X, resp, structure, prior)

    to_covariances, from_covariances = PARAMETERISATIONS[structure.name]
    n_means = n_components * n_features

    def negative(vector):
        means = vector[:n_means].reshape(n_components, n_features)
        covariances = to_covariances(vector[n_means:], n_components, n_features)
        return -complete_data_log_posterior(X, resp, prior, structure, means, covariances)

    # Start the optimiser away from the answer: at the data's mean and an identity covariance.
    start_covariances = np.ones(structure.form.shape(n_components, n_features))
    if structure.name in ("full", "tied"):
        start_covariances = np.broadcast_to(np.eye(n_features), start_covariances.shape)
    start = np.concatenate(
        [np.tile(X.mean(axis=0), n_components), from_covariances(start_covariances)]
    )
    found = optimize.minimize(negative, start, method="BFGS", options={"gtol": 1e-9})
    ours = np.concatenate([fitted.means.ravel(), from_covariances(fitted.covariances)])

    # The MAP estimate is at least as good as anything the optimiser finds, to round-off of
    # an objective of magnitude |f| (about 1e-12 |f| for these few terms) ...
    objective = negative(ours)
    assert objective <= found.fun + 1e-10 * (1.0 + abs(found.fun))
    # ... and the optimiser lands on it, to its own accuracy (BFGS on finite-difference
    # gradients stops within about 1e-5 of the optimum in these unconstrained coordinates).
    np.testing.assert_allclose(found.x, ours, rtol=0, atol=2e-4)


@pytest.mark.parametrize("structure", PRIOR_STRUCTURES, ids=PRIOR_IDS)
@given(seed=st.integers(0, 2**32 - 1), shrinkage_is_zero=st.booleans())
def test_log_density_matches_scipy(structure, seed, shrinkage_is_zero):
    rng = np.random.default_rng(seed)
    n_features, n_components = 3, 2
    prior = random_prior(rng, structure, n_features, 0.0 if shrinkage_is_zero else None)
    X = rng.normal(size=(12, n_features))
    fitted = map_family(X, rng.dirichlet(np.ones(n_components), size=12), structure, prior)
    expected = scipy_log_prior(prior, structure, fitted.means, fitted.covariances)
    # Different formulas of the same density (scipy through eigen/Cholesky decompositions):
    # agreement to about 1e-12 of the terms' magnitude.
    assert_close_in_ulps(fitted.log_prior(), expected, ulps=1e4, scale=max(1.0, abs(expected)))


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_chunked_statistics_give_the_same_map_estimate(structure):
    rng = np.random.default_rng(3)
    X = blobs(3, 300, 3, 3, offset=50.0)
    resp = rng.dirichlet(np.ones(3), size=X.shape[0])
    prior = ConjugatePrior.default(X, 3, structure)
    whole = map_family(X, resp, structure, prior)
    chunks = [
        GaussianStatistics.of_rows(X[i : i + 37], resp[i : i + 37], structure)
        for i in range(0, X.shape[0], 37)
    ]
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    chunked = GaussianFamily(3, structure, reg_covar=0.0, prior=prior).m_step(total)
    # Pairwise merges against one pass over 300 rows: a few hundred ulps of the values.
    assert_close_in_ulps(chunked.means, whole.means, ulps=1000)
    assert_close_in_ulps(chunked.covariances, whole.covariances, ulps=1000)


# -- the default prior ------------------------------------------------------------------------
@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
@given(seed=st.integers(0, 2**32 - 1), n_rows=st.integers(2, 12), n_components=st.integers(1, 4))
def test_default_prior_is_mclusts_definition(structure, seed, n_rows, n_components):
    rng = np.random.default_rng(seed)
    n_features = 4
    X = rng.normal(size=(n_rows, n_features)) * rng.uniform(0.1, 10.0, size=n_features) + 7.0
    prior = ConjugatePrior.default(X, n_components, structure)
    factor = n_components ** (-2.0 / n_features)
    variance = np.cov(X.T, ddof=1)
    if isinstance(structure, (FullCovariance, TiedCovariance)):
        expected = factor * (variance if n_rows > n_features else np.diag(np.diag(variance)))
    else:
        expected = factor * np.trace(variance) / n_features
    assert prior.shrinkage == 0.01 and prior.dof == n_features + 2  # set exactly
    # A centred two-pass variance against numpy's: a few ulps per row summed.
    assert_close_in_ulps(prior.mean, X.mean(axis=0), ulps=64)
    assert_close_in_ulps(prior.scale, expected, ulps=64 * n_rows)

    # Resolved by the first M-step from responsibilities, whose pooled statistics are the
    # data's: the same prior up to the round-off of pooling K components.
    resp = rng.dirichlet(np.ones(n_components), size=n_rows)
    statistics = GaussianStatistics.of_rows(X, resp, structure)
    resolved = DefaultPrior().resolve(statistics, n_components)
    assert_close_in_ulps(resolved.mean, prior.mean, ulps=256)
    assert_close_in_ulps(resolved.scale, prior.scale, ulps=256 * n_rows)


def test_prior_is_immutable_and_validated():
    prior = ConjugatePrior(0.01, [0.0, 1.0], 4.0, np.eye(2))
    with pytest.raises(ValueError):
        prior.mean[0] = 3.0
    with pytest.raises(AttributeError):
        prior.dof = 3.0
    assert prior.n_parameters == 0
    assert prior == ConjugatePrior(0.01, [0.0, 1.0], 4.0, np.eye(2))
    with pytest.raises(ValueError, match="shrinkage"):
        ConjugatePrior(-1.0, [0.0, 1.0], 4.0, np.eye(2))
    with pytest.raises(ValueError, match="semi-definite"):
        ConjugatePrior(0.01, [0.0, 1.0], 4.0, -np.eye(2))
    with pytest.raises(ValueError, match="shape"):
        ConjugatePrior(0.01, [0.0, 1.0], 4.0, np.eye(3))
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="scale matrix"):
        MixtureEM(
            GaussianFamily(2, FullCovariance(), prior=ConjugatePrior(0.01, [0, 0], 4, 1.0))
        ).fit(X)
    with pytest.raises(ValueError, match="scalar scale"):
        MixtureEM(GaussianFamily(2, SphericalCovariance(), prior=prior)).fit(X)
    with pytest.raises(ValueError, match="prior must be"):
        GaussianFamily(2, prior="default")


# -- (b) EM ascends the log-posterior -----------------------------------------------------------
@pytest.mark.parametrize("structure", PRIOR_STRUCTURES, ids=PRIOR_IDS)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_components=st.integers(1, 3),
    shrinkage=st.sampled_from([0.0, 0.01, 1.0]),
)
def test_em_never_decreases_the_log_posterior(structure, seed, n_components, shrinkage):
    X = blobs(seed % 10_000, 60, 2, 3)
    engine = MixtureEM(
        GaussianFamily(n_components, structure, reg_covar=0.0, prior=DefaultPrior(shrinkage)),
        random_state=seed,
        chunk_size=16,  # the prior enters only the M-step: the chunked E-step is unchanged
    )
    mixture = engine.initialize(X)
    previous = -np.inf
    for _ in range(15):
        statistics = engine.e_step(X, mixture)
        log_posterior = statistics.mean_log_likelihood * X.shape[0] + mixture.family.log_prior()
        # Round-off of sums over 60 rows and of the log-densities: about 1e-12 relative.
        assert log_posterior >= previous - 1e-10 * (1.0 + abs(previous))
        previous = log_posterior
        mixture = engine.m_step(mixture, statistics)


# -- (c) no collapse on duplicated rows ---------------------------------------------------------
class Labels(Initializer):
    def __init__(self, labels):
        self.labels = labels

    def initialize(self, X, n_components, *, sample_weight, rng):
        return self.labels


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
@given(seed=st.integers(0, 2**32 - 1), n_duplicates=st.integers(1, 4))
def test_a_component_on_duplicated_rows_does_not_collapse(structure, seed, n_duplicates):
    rng = np.random.default_rng(seed)
    n_features = 2
    X = np.concatenate(
        [
            rng.normal(size=(40, n_features)),
            np.tile(rng.normal(8.0, 1.0, n_features), (n_duplicates, 1)),
        ]
    )
    labels = np.repeat([0, 1], [40, n_duplicates])
    if structure.name != "tied":  # a tied covariance is shared, so it cannot collapse
        without = MixtureEM(GaussianFamily(2, structure, reg_covar=0.0), initializer=Labels(labels))
        with pytest.raises(DegenerateComponentError):
            without.fit(X)  # maximum likelihood: the second component collapses at once

    engine = MixtureEM(
        GaussianFamily(2, structure, reg_covar=0.0, prior=DefaultPrior()),
        initializer=Labels(labels),
    )
    mixture = engine.initialize(X)
    prior = mixture.family.prior
    # Every structure's MAP covariance is >= scale / divisor, and every divisor is at most
    # dof + n D + D + 1 + K: a bound that does not depend on the responsibilities.
    smallest_scale = (
        np.linalg.eigvalsh(np.atleast_2d(prior.scale))[0]
        if prior.scale.ndim == 2
        else prior.scale.min()
    )
    bound = smallest_scale / (prior.dof + X.shape[0] * n_features + n_features + 1 + 2)
    for _ in range(20):
        smallest = structure.form.smallest_variances(mixture.family.covariances, 2)
        assert (smallest >= bound).all()
        mixture = engine.m_step(mixture, engine.e_step(X, mixture))


# -- (d) the flat limit is maximum likelihood ---------------------------------------------------
#: dof at which each structure's MAP divisor is the maximum-likelihood one (n_k, n, n_k or
#: n_k D) when the means have a prior (shrinkage > 0), as a function of (D, K).
FLAT_DOF = {
    "full": lambda d, k: -(d + 2.0),
    "tied": lambda d, k: -(d + 1.0 + k),
    "diag": lambda d, k: -3.0,
    "spherical": lambda d, k: -(2.0 + d),
}


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
@given(seed=st.integers(0, 2**32 - 1))
def test_flat_limit_approaches_maximum_likelihood(structure, seed):
    rng = np.random.default_rng(seed)
    n_features, n_components = 3, 2
    X = rng.normal(size=(30, n_features)) * 2.0 + 5.0
    resp = rng.dirichlet(np.ones(n_components), size=X.shape[0])
    statistics = GaussianStatistics.of_rows(X, resp, structure)
    ml = GaussianFamily(n_components, structure, reg_covar=0.0).m_step(statistics)
    shape = random_prior(rng, structure, n_features).scale
    errors = []
    for epsilon in (1e-2, 1e-4, 1e-6):
        prior = ConjugatePrior(
            epsilon,
            rng.normal(size=n_features),
            FLAT_DOF[structure.name](n_features, n_components) + epsilon,
            epsilon * shape,
        )
        fitted = map_family(X, resp, structure, prior)
        errors.append(
            max(
                np.abs(fitted.means - ml.means).max(),
                np.abs(fitted.covariances - ml.covariances).max(),
            )
        )
    # The MAP estimate moves away from maximum likelihood linearly in the hyper-parameters.
    assert errors[2] <= 1e-4 and errors[2] < errors[1] < errors[0]

    # At the limit with no mean prior (shrinkage 0, scale 0, dof at the flat value without
    # the mean prior's terms) the MAP M-step is the maximum-likelihood one: the same
    # quotient, computed with the zero terms added, so to a few ulps.
    flat_dof = FLAT_DOF[structure.name](n_features, n_components)
    no_mean_terms = {"full": 1.0, "tied": n_components, "diag": 1.0, "spherical": n_features}
    prior = ConjugatePrior(
        0.0, np.zeros(n_features), flat_dof + no_mean_terms[structure.name], 0.0 * shape
    )
    fitted = map_family(X, resp, structure, prior)
    assert_close_in_ulps(fitted.means, ml.means, ulps=4)
    assert_close_in_ulps(fitted.covariances, ml.covariances, ulps=16)


def test_no_prior_family_is_unchanged():
    family = GaussianFamily(2, FullCovariance())
    assert family.prior is None and "prior" not in repr(family)
    fitted = MixtureEM(family, random_state=0).fit(blobs(0, 50, 2, 2)).family
    assert fitted.prior is None and fitted.log_prior() == 0.0


# -- (e) mclust ---------------------------------------------------------------------------------
MCLUST_MODELS = {
    "VVV": FullCovariance(),
    "EEE": TiedCovariance(),
    "VVI": DiagonalCovariance(),
    "VII": SphericalCovariance(),
}


def _reference():
    path = REFERENCE / "reference.csv"
    if not path.exists():
        pytest.skip("benchmarks/prior_reference/reference.csv is absent (run prior_reference.R)")
    table = defaultdict(lambda: defaultdict(list))
    with path.open() as handle:
        for row in csv.DictReader(handle):
            index = (int(row["k"]), int(row["i"]), int(row["j"]))
            table[(row["model"], int(row["G"]))][row["quantity"]].append(
                (index, float(row["value"]))
            )
    X = np.loadtxt(REFERENCE / "data.csv", delimiter=",", skiprows=1)
    return X, table


def _array(entries, shape):
    """A reference quantity from its 1-based (k, i, j) entries (0 = not applicable)."""
    out = np.zeros(shape)
    for (k, i, j), value in entries:
        out[tuple(x - 1 for x in (k, i, j) if x > 0)] = value
    return out


def _mclust_parameters(quantities, prefix, structure, n_components, n_features):
    weights = _array(quantities[prefix + "pro"], (n_components,))
    means = _array(quantities[prefix + "mean"], (n_components, n_features))
    sigma = _array(quantities[prefix + "sigma"], (n_components, n_features, n_features))
    covariances = {
        "full": sigma,
        "tied": sigma[0],
        "diag": np.diagonal(sigma, axis1=1, axis2=2),
        "spherical": sigma[:, 0, 0],
    }[structure.name]
    return weights, means, covariances


@pytest.mark.parametrize("n_components", [1, 2, 3])
@pytest.mark.parametrize("model", list(MCLUST_MODELS))
def test_matches_mclust(model, n_components):
    X, table = _reference()
    n_rows, n_features = X.shape
    quantities = table[(model, n_components)]
    structure = MCLUST_MODELS[model]

    # defaultPrior(X, G, model): the same hyper-parameters (R's var against our two-pass
    # centred scatter: a few ulps of the values).
    prior = ConjugatePrior.default(X, n_components, structure)
    assert prior.shrinkage == quantities["prior_shrinkage"][0][1]
    assert prior.dof == quantities["prior_dof"][0][1]
    assert_close_in_ulps(prior.mean, _array(quantities["prior_mean"], (n_features,)), ulps=64)
    scale = _array(quantities["prior_scale"], (n_features, n_features))
    assert_close_in_ulps(prior.scale, scale if prior.scale.ndim == 2 else scale[0, 0], ulps=256)

    # One MAP M-step from mclust's final responsibilities gives mclust's mstep(): the prior
    # resolved from the statistics (DefaultPrior), reg_covar 0 as mclust. mclust sums with
    # Givens rotations, we with a GEMM: agreement to ~1e-13 of values of order 1-10, so an
    # absolute 1e-10 leaves room for other BLAS kernels.
    z = _array(quantities["z"], (n_components, n_rows)).T
    statistics = GaussianStatistics.of_rows(X, z, structure)
    family = GaussianFamily(n_components, structure, reg_covar=0.0, prior=DefaultPrior())
    fitted = family.m_step(statistics)
    weights, means, covariances = _mclust_parameters(
        quantities, "mstep_", structure, n_components, n_features
    )
    np.testing.assert_allclose(statistics.weight / n_rows, weights, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fitted.means, means, rtol=0, atol=1e-10)
    np.testing.assert_allclose(fitted.covariances, covariances, rtol=0, atol=1e-10)

    # BIC: mclust's is 2 log L - df log n with the log-likelihood (not the log-posterior) and
    # the usual parameter count; ours is its negative (scikit-learn's sign).
    weights, means, covariances = _mclust_parameters(
        quantities, "", structure, n_components, n_features
    )
    final = Mixture(
        weights, GaussianFamily(n_components, structure, means=means, covariances=covariances)
    )
    assert final.n_parameters == quantities["df"][0][1]
    log_likelihood = quantities["direct_loglik"][0][1]
    expected_bic = -(2 * log_likelihood - final.n_parameters * np.log(n_rows))
    # Our log-likelihood against R's dmvnorm over 78 rows: ~1e-13 relative.
    assert_close_in_ulps(final.bic(X), expected_bic, ulps=2000)
    # mclust reports the log-likelihood of the E-step before its last M-step: within its
    # convergence tolerance (1e-5 relative) of that of the final parameters.
    assert abs(quantities["loglik"][0][1] - log_likelihood) <= 1e-4 * abs(log_likelihood)

    # Our MAP EM from mclust's final parameters only increases their log-posterior (mclust
    # stops at a relative change of 1e-5, before the optimum).
    engine = MixtureEM(
        GaussianFamily(n_components, structure, reg_covar=0.0, prior=prior),
        tol=1e-10,
        max_iter=2000,
    )
    result = engine.fit(X, warm_start=final)
    start_posterior = final.score(X) * n_rows + prior.log_density(means, covariances, structure)
    end_posterior = result.score(X) * n_rows + result.family.log_prior()
    assert end_posterior >= start_posterior - 1e-9 * abs(start_posterior)
