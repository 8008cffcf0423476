"""Mixture-level quantities: information criteria, scores, additive E-step statistics."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _helpers import STRUCTURE_IDS, STRUCTURES, blobs
from sklearn.mixture import GaussianMixture

from mixture import GaussianFamily, Mixture, MixtureEM


def _sklearn_twin(structure, n_components: int, X: np.ndarray) -> GaussianMixture:
    """A scikit-learn model fitted a few iterations on X, to copy parameters from."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GaussianMixture(
            n_components, covariance_type=structure.name, max_iter=3, random_state=0
        ).fit(X)


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_bic_aic_and_score_equal_sklearn_for_the_same_parameters(structure) -> None:
    X = blobs(5, 400, 3, 3)
    theirs = _sklearn_twin(structure, 3, X)
    ours = Mixture(
        theirs.weights_,
        GaussianFamily(3, structure, means=theirs.means_, covariances=theirs.covariances_),
    )
    assert ours.n_parameters == theirs._n_parameters()
    np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-10)
    assert ours.score(X) == pytest.approx(theirs.score(X), rel=1e-12)
    assert ours.bic(X) == pytest.approx(theirs.bic(X), rel=1e-12)
    assert ours.aic(X) == pytest.approx(theirs.aic(X), rel=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_weighted_score_and_bic_equal_repeated_rows() -> None:
    X = blobs(6, 150, 2, 2)
    counts = np.random.default_rng(1).integers(0, 4, size=X.shape[0])
    mixture = MixtureEM(GaussianFamily(2), random_state=0).fit(X)
    repeated = np.repeat(X, counts, axis=0)
    assert mixture.score(X, counts) == pytest.approx(mixture.score(repeated), rel=1e-12)
    assert mixture.bic(X, counts) == pytest.approx(mixture.bic(repeated), rel=1e-12)


def test_e_step_statistics_of_chunks_sum_with_builtin_sum() -> None:
    X = blobs(7, 300, 2, 2)
    em = MixtureEM(GaussianFamily(2), random_state=0)
    mixture = em.initialize(X)
    parts = sum(em.e_step(X[rows], mixture) for rows in (slice(0, 90), slice(90, 300)))
    whole = em.e_step(X, mixture)
    assert parts.mean_log_likelihood == pytest.approx(whole.mean_log_likelihood, rel=1e-12)
    np.testing.assert_allclose(parts.component_weight, whole.component_weight, rtol=1e-12)
    halved = whole.scale(0.5)
    assert halved.mean_log_likelihood == pytest.approx(whole.mean_log_likelihood, rel=1e-12)
    np.testing.assert_allclose(halved.component_weight, 0.5 * whole.component_weight)


def test_reprs_name_the_important_state() -> None:
    X = blobs(8, 200, 2, 2)
    em = MixtureEM(GaussianFamily(2), random_state=0)
    result = em.fit(X)
    assert "GaussianFamily" in repr(em) and "MaxIterations(max_iter=100)" in repr(em)
    assert f"n_iter={result.n_iter}" in repr(result) and "converged=True" in repr(result)


def test_icl_is_bic_plus_twice_the_classification_entropy() -> None:
    X = blobs(9, 500, 2, 3)
    mixture = MixtureEM(GaussianFamily(3), random_state=0).fit(X)
    resp = mixture.predict_proba(X)
    expected = mixture.bic(X) - 2.0 * np.log(resp.max(axis=1)).sum()
    assert mixture.icl(X, chunk_size=37) == pytest.approx(expected, rel=1e-12)
    assert mixture.icl(X) >= mixture.bic(X)
    counts = np.random.default_rng(2).integers(0, 3, size=X.shape[0])
    repeated = np.repeat(X, counts, axis=0)
    assert mixture.icl(X, counts) == pytest.approx(mixture.icl(repeated), rel=1e-12)


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_estimator_sample_draws_what_sklearn_draws_for_the_same_parameters(structure) -> None:
    from mixture import GaussianMixture as OurGaussianMixture

    X = blobs(10, 300, 2, 3)
    theirs = _sklearn_twin(structure, 3, X)
    theirs.set_params(random_state=5)
    ours = OurGaussianMixture(
        3,
        covariance_type=structure.name,
        weights_init=theirs.weights_,
        means_init=theirs.means_,
        precisions_init=theirs.precisions_,
        max_iter=0,
        random_state=5,
    ).fit(X)
    rows, labels = ours.sample(400)
    expected_rows, expected_labels = theirs.sample(400)
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_allclose(rows, expected_rows, rtol=1e-9, atol=1e-9)
