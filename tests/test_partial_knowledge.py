"""Partial knowledge: known components of rows (semi-supervised EM), mixing weights given in
advance (equal or fixed), and frozen parameters (Gaussian means and covariances, and any
component wrapped in Frozen)."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import blobs
from scipy import stats
from sklearn.metrics import adjusted_rand_score

from mixture import (
    ComponentKnowledge,
    DiagonalCovariance,
    EqualWeights,
    FixedWeights,
    Frozen,
    FullCovariance,
    Gaussian,
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
from mixture.gaussian import DefaultPrior
from mixture.model_file import model_from_dict, model_to_dict

STRUCTURES = [FullCovariance(), TiedCovariance(), DiagonalCovariance(), SphericalCovariance()]


def two_stripes(seed: int, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Two long parallel stripes: unsupervised EM from k-means splits them across."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n)
    X = np.column_stack([rng.normal(0.0, 5.0, 2 * n), 2.0 * y + rng.normal(0.0, 0.5, 2 * n)])
    return X, y


# -- known components ------------------------------------------------------------------------
@pytest.mark.parametrize("structure", STRUCTURES, ids=lambda s: type(s).__name__)
def test_all_labels_known_gives_the_per_class_fit(structure) -> None:
    # Every row labelled: the semi-supervised MLE is the per-class fit in closed form
    # (weights = class frequencies, means = class means, covariances from the class
    # scatters under the structure), and its log-likelihood is the complete-data one.
    X = blobs(3, 240, 3, 3)
    y = np.random.default_rng(4).integers(0, 3, X.shape[0])
    X = X + 3.0 * y[:, None]  # the classes overlap, so a plain EM fit would differ
    result = MixtureEM(GaussianFamily(3, structure, reg_covar=0.0), tol=1e-12).fit(X, labels=y)
    counts = np.bincount(y, minlength=3)
    np.testing.assert_allclose(result.weights, counts / counts.sum(), rtol=1e-12)
    means = np.stack([X[y == k].mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(result.family.means, means, rtol=1e-10, atol=1e-12)
    scatters = np.stack([(X[y == k] - means[k]).T @ (X[y == k] - means[k]) for k in range(3)])
    expected = {
        "FullCovariance": scatters / counts[:, None, None],
        "TiedCovariance": scatters.sum(axis=0) / counts.sum(),
        "DiagonalCovariance": np.diagonal(scatters, axis1=1, axis2=2) / counts[:, None],
        "SphericalCovariance": np.trace(scatters, axis1=1, axis2=2) / (3 * counts),
    }[type(structure).__name__]
    np.testing.assert_allclose(result.family.covariances, expected, rtol=1e-10)
    dense = result.family.covariance_matrices
    dense = np.broadcast_to(dense, (3, 3, 3))
    complete = sum(
        counts[k] * np.log(result.weights[k])
        + stats.multivariate_normal(result.family.means[k], dense[k]).logpdf(X[y == k]).sum()
        for k in range(3)
    )
    assert result.lower_bound * X.shape[0] == pytest.approx(complete, rel=1e-10)


def test_no_known_label_is_plain_em() -> None:
    # All -1: no knowledge, so exactly the computations of a fit without labels.
    X = blobs(5, 300, 2, 3)
    engine = MixtureEM(GaussianFamily(3), random_state=0)
    plain = engine.fit(X)
    unlabelled = engine.fit(X, labels=np.full(X.shape[0], -1))
    np.testing.assert_array_equal(unlabelled.family.means, plain.family.means)
    assert unlabelled.lower_bound == plain.lower_bound


@pytest.mark.parametrize("seed", range(4))
def test_semi_supervised_log_likelihood_never_decreases(seed) -> None:
    X, y = two_stripes(seed, 150)
    rng = np.random.default_rng(seed)
    labels = np.where(rng.random(y.shape[0]) < 0.05, y, -1)
    result = MixtureEM(
        GaussianFamily(2, FullCovariance(), reg_covar=0.0), tol=1e-10, max_iter=500
    ).fit(X, labels=labels)
    history = result.log_likelihood_history
    # EM on the semi-supervised likelihood is EM: monotone up to round-off of the mean
    # log-likelihood (a few ulps of its magnitude).
    assert np.diff(history).min() >= -1e-13 * np.abs(history).max()


def test_ten_labels_turn_the_wrong_split_into_the_right_one() -> None:
    X, y = two_stripes(1)
    rng = np.random.default_rng(1)
    known = np.full(y.shape[0], -1)
    pick = np.concatenate([rng.choice(300, 5, replace=False), 300 + rng.choice(300, 5, False)])
    known[pick] = y[pick]
    unsupervised = GaussianMixture(2, random_state=0).fit(X)
    guided = GaussianMixture(2, random_state=0, semi_supervised=True).fit(X, known)
    assert adjusted_rand_score(y, unsupervised.predict(X)) < 0.1
    assert adjusted_rand_score(y, guided.predict(X)) > 0.8
    # The labels found a better optimum of the plain likelihood too.
    assert guided.score(X) > unsupervised.score(X)


def test_labels_that_cover_some_components_only() -> None:
    # Only component 1 has labelled rows: the start comes from the initializer, renumbered
    # to agree with the labels, and the labelled rows end in their component.
    X = blobs(7, 300, 2, 3)
    result_plain = MixtureEM(GaussianFamily(3), random_state=0).fit(X)
    y = result_plain.predict(X)
    labels = np.full(X.shape[0], -1)
    rows = np.flatnonzero(y == 0)[:5]
    labels[rows] = 1  # the rows of the plain fit's component 0, said to be component 1
    result = MixtureEM(GaussianFamily(3), random_state=0).fit(X, labels=labels)
    assert (result.predict(X[rows]) == 1).all()
    assert np.isfinite(result.lower_bound)


def test_the_e_step_with_knowledge_against_brute_force() -> None:
    # Allowed sets and prior probabilities: statistics of sum_i log sum_k m_ik w_k p_k(x_i)
    # and responsibilities proportional to m_ik w_k p_k(x_i).
    X = blobs(8, 60, 2, 3)
    mixture = MixtureEM(GaussianFamily(3), random_state=0).fit(X)
    rng = np.random.default_rng(9)
    prior = rng.dirichlet(np.ones(3), size=X.shape[0])
    allowed = rng.random((X.shape[0], 3)) < 0.6
    allowed[np.arange(X.shape[0]), rng.integers(0, 3, X.shape[0])] = True
    dense = mixture.family.covariance_matrices
    density = np.column_stack(
        [
            mixture.weights[k] * stats.multivariate_normal(mixture.family.means[k], dense[k]).pdf(X)
            for k in range(3)
        ]
    )
    for knowledge, m in (
        (ComponentKnowledge.from_allowed(allowed), allowed.astype(float)),
        # Each row scaled so its largest value is 1: only ratios within a row matter.
        (ComponentKnowledge.from_prior(prior), prior / prior.max(axis=1, keepdims=True)),
    ):
        statistics = mixture.chunk_statistics(X, log_mask=knowledge.log_mask(slice(None)))
        joint = m * density
        assert statistics.log_likelihood == pytest.approx(np.log(joint.sum(axis=1)).sum())
        resp = joint / joint.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(statistics.component_weight, resp.sum(axis=0), rtol=1e-10)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.full(10, 3), r"labels\[0\] is 3"),
        (np.full(10, -2), r"labels\[0\] is -2"),
        (np.full(9, 0), "labels are given for 9 rows"),
        (np.full(10, 0.5), "whole numbers"),
        (np.array(["a"] * 10), "integer component indices"),
    ],
)
def test_bad_labels_are_refused_by_name(labels, message) -> None:
    X = blobs(1, 10, 2, 1)
    with pytest.raises(ValueError, match=message):
        MixtureEM(GaussianFamily(3), random_state=0).fit(X, labels=labels)


def test_bad_knowledge_is_refused_by_name(tmp_path) -> None:
    with pytest.raises(ValueError, match="row 1 allows none"):
        ComponentKnowledge.from_allowed(np.array([[True, False], [False, False]]))
    with pytest.raises(ValueError, match="row 0 is all zeros"):
        ComponentKnowledge.from_prior(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"probabilities\[0, 1\]"):
        ComponentKnowledge.from_prior(np.array([[0.5, -0.5]]))
    path = tmp_path / "rows.npy"
    np.save(path, blobs(1, 10, 2, 1))
    with pytest.raises(ValueError, match="in-memory rows"):
        MixtureEM(GaussianFamily(2), random_state=0).fit(str(path), labels=np.zeros(10, int))


def test_the_estimator_ignores_y_unless_semi_supervised() -> None:
    # scikit-learn's tools pass class labels as y; by default they change nothing.
    X, y = two_stripes(2, 100)
    plain = GaussianMixture(2, random_state=0).fit(X)
    with_y = GaussianMixture(2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(with_y.means_, plain.means_)
    with pytest.raises(ValueError, match=r"labels\[0\] is 5"):
        GaussianMixture(2, random_state=0, semi_supervised=True).fit(X, np.full(200, 5))


# -- mixing weights given in advance ---------------------------------------------------------
@pytest.mark.parametrize("acceleration", [None, "squarem"])
def test_equal_weights_stay_equal_and_count_no_parameter(acceleration) -> None:
    from mixture import SQUAREM

    X = blobs(2, 400, 2, 3)[:300]  # unequal clusters
    family = GaussianFamily(3, FullCovariance(), reg_covar=0.0)
    result = MixtureEM(
        family,
        random_state=0,
        tol=1e-10,
        max_iter=1000,
        mixing_weights=EqualWeights(),
        acceleration=None if acceleration is None else SQUAREM(),
    ).fit(X)
    # Set exactly, never computed: 1/3 as a float.
    assert (result.weights == 1.0 / 3.0).all()
    assert result.fixed_weights
    assert result.n_parameters == result.family.n_parameters
    free = MixtureEM(family, random_state=0).fit(X)
    assert free.n_parameters == result.n_parameters + 2
    history = result.log_likelihood_history
    assert np.diff(history).min() >= -1e-13 * np.abs(history).max()
    # BIC counts the parameters the model has.
    n = X.shape[0]
    expected = -2 * result.score(X) * n + result.n_parameters * np.log(n)
    assert result.bic(X) == pytest.approx(expected)


def test_fixed_weights_are_kept_and_saved(tmp_path) -> None:
    X = blobs(3, 300, 2, 2)
    weights = FixedWeights([0.25, 0.75])
    result = MixtureEM(GaussianFamily(2), random_state=0, mixing_weights=weights).fit(X)
    np.testing.assert_array_equal(result.weights, [0.25, 0.75])
    loaded = model_from_dict(model_to_dict(result)).mixture
    assert loaded.fixed_weights and loaded.n_parameters == result.n_parameters
    with pytest.raises(ValueError, match="must be positive"):
        FixedWeights([0.0, 1.0])
    with pytest.raises(ValueError, match="must sum to 1"):
        FixedWeights([0.5, 0.6])
    with pytest.raises(ValueError, match="FixedWeights has 2 values; the model has 3"):
        MixtureEM(GaussianFamily(3), mixing_weights=weights)
    with pytest.raises(ValueError, match="mixing_weights must be"):
        MixtureEM(GaussianFamily(3), mixing_weights=[0.5, 0.5])


def test_select_model_with_equal_weights() -> None:
    X = blobs(4, 200, 2, 2)
    free = select_model(X, n_components=range(1, 4), random_state=0)
    equal = select_model(X, n_components=range(1, 4), random_state=0, equal_weights=True)
    for candidate, unrestricted in zip(equal.candidates, free.candidates, strict=True):
        k = candidate.n_components
        assert (candidate.result.weights == 1.0 / k).all()
        assert candidate.n_parameters == unrestricted.n_parameters - (k - 1)
    with pytest.raises(ValueError, match="equal_weights=True is for batch EM"):
        select_model(X, online=True, equal_weights=True)


# -- frozen parameters -----------------------------------------------------------------------
def _stationary(result, X, frozen_means) -> None:
    """At EM's fixed point the free parameters are the constrained M-step of the final
    responsibilities: free means are weighted means, covariances are scatters about the
    (frozen or free) means."""
    resp = result.predict_proba(X)
    weight = resp.sum(axis=0)
    free_means = (resp.T @ X) / weight[:, None]
    means = result.family.means
    for k in range(means.shape[0]):
        if k not in frozen_means:
            np.testing.assert_allclose(means[k], free_means[k], rtol=1e-6, atol=1e-6)


def test_frozen_means_are_kept_and_the_rest_is_their_constrained_fit() -> None:
    X = blobs(6, 300, 2, 3)  # blobs centred near (6.3, 10.7), (-15.3, -0.8), (6.1, 8.1)
    start_means = np.array([[6.0, 11.0], [-15.0, 0.0], [6.0, 8.0]])
    family = GaussianFamily(
        3,
        FullCovariance(),
        reg_covar=0.0,
        means=start_means,
        covariances=np.stack([np.eye(2)] * 3),
        frozen_means=[0],
    )
    result = MixtureEM(family, tol=1e-12, max_iter=5000).fit(X)
    # Never recomputed: the given values, copied.
    np.testing.assert_array_equal(result.family.means[0], start_means[0])
    _stationary(result, X, frozen_means=[0])
    resp = result.predict_proba(X)
    centred = X - start_means[0]
    expected = (resp[:, 0, None] * centred).T @ centred / resp[:, 0].sum()
    np.testing.assert_allclose(result.family.covariances[0], expected, rtol=1e-6)
    assert result.family.n_parameters == 3 * 3 + 2 * 2  # 3 covariances, 2 free means
    history = result.log_likelihood_history
    assert np.diff(history).min() >= -1e-13 * np.abs(history).max()


def test_frozen_covariances_per_component_and_all_for_shared_structures() -> None:
    X = blobs(6, 300, 2, 2)
    means = np.array([[0.0, 0.0], [5.0, 5.0]])
    diagonal = GaussianFamily(
        2, DiagonalCovariance(), means=means, covariances=np.ones((2, 2)),
        frozen_covariances=[1],
    )  # fmt: skip
    result = MixtureEM(diagonal, tol=1e-10, max_iter=2000).fit(X)
    np.testing.assert_array_equal(result.family.covariances[1], [1.0, 1.0])
    assert result.family.n_parameters == 2 * 2 + 2
    tied = GaussianFamily(
        2, TiedCovariance(), means=means, covariances=np.eye(2), frozen_covariances=[0, 1]
    )
    result = MixtureEM(tied, tol=1e-10, max_iter=2000).fit(X)
    np.testing.assert_array_equal(result.family.covariances, np.eye(2))
    assert result.family.n_parameters == 2 * 2
    with pytest.raises(ValueError, match="freeze all of them"):
        GaussianFamily(2, TiedCovariance(), frozen_covariances=[0])
    with pytest.raises(ValueError, match="with a prior are not supported"):
        GaussianFamily(2, prior=DefaultPrior(), frozen_means=[0])
    with pytest.raises(ValueError, match=r"in 0 \.\. 1; got 2"):
        GaussianFamily(2, frozen_means=[2])


def test_a_frozen_family_is_saved_with_its_frozen_parameters() -> None:
    X = blobs(6, 200, 2, 2)
    family = GaussianFamily(
        2, means=[[0.0, 0.0], [5.0, 5.0]], covariances=np.stack([np.eye(2)] * 2),
        frozen_means=[1], frozen_covariances=[1],
    )  # fmt: skip
    result = MixtureEM(family).fit(X)
    loaded = model_from_dict(model_to_dict(result)).mixture
    assert loaded.family.frozen_means == (1,) and loaded.family.frozen_covariances == (1,)
    assert loaded.n_parameters == result.n_parameters


def test_a_frozen_component_of_any_type_stays() -> None:
    rng = np.random.default_rng(3)
    X = np.concatenate([rng.poisson(2.0, (300, 1)), rng.poisson(9.0, (300, 1))]).astype(float)
    known = Frozen(Poisson([2.5]))
    result = MixtureEM([known, Poisson([6.0])], tol=1e-10, max_iter=1000).fit(X)
    assert result.components[0] == known
    assert result.n_parameters == 0 + 1 + 1  # the free rate and one mixing weight
    loaded = model_from_dict(model_to_dict(result)).mixture
    assert loaded.components[0] == known
    assert Frozen(known) == known  # wrapping twice is wrapping once
    with pytest.raises(ValueError, match="keeps its parameters"):
        known.with_parameters_from(Poisson([3.0]))


def test_the_default_start_of_a_frozen_family_is_its_own_parameters() -> None:
    family = GaussianFamily(
        2, means=[[0.0, 0.0], [5.0, 5.0]], covariances=np.stack([np.eye(2)] * 2),
        frozen_means=[0],
    )  # fmt: skip
    engine = MixtureEM(family)
    assert isinstance(engine.initializer, GivenParameters)
    engine = MixtureEM([Frozen(Gaussian([0.0], [[1.0]])), Gaussian([3.0], [[1.0]])])
    assert isinstance(engine.initializer, GivenParameters)
    start = engine.initialize(np.zeros((4, 1)))
    assert isinstance(start, Mixture) and (start.weights == 0.5).all()


def test_semi_supervised_selection_reports_the_semi_supervised_criteria() -> None:
    X, y = two_stripes(3, 120)
    labels = np.full(y.shape[0], -1)
    labels[[0, 1, 2, 120, 121, 122]] = [1, 1, 1, 0, 0, 0]  # the stripes, numbered swapped
    selection = select_model(X, n_components=range(2, 4), random_state=0, labels=labels)
    for candidate in selection.candidates:
        result = candidate.result
        if candidate.n_components == 2:  # one component per stripe, numbered as labelled
            known = np.flatnonzero(labels >= 0)
            assert (result.predict(X[known]) == labels[known]).all()
        semi = result.criteria(X, labels=labels)
        assert candidate.log_likelihood == semi["log_likelihood"]
        assert semi["log_likelihood"] <= result.criteria(X)["log_likelihood"]
    # Grid independence holds with labels: a candidate does not depend on the others.
    alone = select_model(
        X, n_components=[3], structures=[TiedCovariance()], random_state=0, labels=labels
    )
    same = next(c for c in selection.candidates if (c.model, c.n_components) == ("tied", 3))
    assert alone.candidates[0].log_likelihood == same.log_likelihood
    with pytest.raises(ValueError, match="needs at least 2 components; n_components includes 1"):
        select_model(X, n_components=range(1, 3), labels=labels)


def test_review_cases_for_known_components() -> None:
    # A uniform prior row is exactly an unknown row, a one-hot row exactly a label; labels
    # given as a boolean mask are refused; a warm start with labels is kept.
    X, y = two_stripes(5, 100)
    one_hot = np.full((200, 2), 0.5)
    one_hot[[0, 1, 100, 101]] = np.eye(2)[y[[0, 1, 100, 101]]]
    labels = np.full(200, -1)
    labels[[0, 1, 100, 101]] = y[[0, 1, 100, 101]]
    engine = MixtureEM(GaussianFamily(2), random_state=0)
    by_prior = engine.fit(X, labels=ComponentKnowledge.from_prior(one_hot))
    by_labels = engine.fit(X, labels=labels)
    assert by_prior.lower_bound == pytest.approx(by_labels.lower_bound, rel=1e-12)
    with pytest.raises(ValueError, match="integer component indices"):
        engine.fit(X, labels=labels >= 0)
    warm = engine.fit(X, labels=labels, warm_start=by_labels)
    assert warm.n_iter <= 2  # started where the labelled fit ended
    with pytest.raises(ValueError, match="needs at least 2 components"):
        select_model(X, n_components=[1], labels=labels)
