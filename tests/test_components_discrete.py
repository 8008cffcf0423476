"""Poisson, Bernoulli, Categorical and Exponential components.

- every component passes the conformance kit (:func:`mixture.testing.check_component`);
- log-densities equal scipy's to 1e-12, including ``-inf`` for rows outside the support;
- edge cases of the support and of the M-step (rates and probabilities of exactly 0 or 1);
- parameter recovery from a known 3-component mixture of 20,000 rows, within 5 standard
  errors. The standard errors come from the observed information of the fitted mixture,
  estimated by the outer product of the per-row scores of ``log p(x_i)`` (for EM, the score
  of parameter ``theta_k`` of row ``i`` is ``r_ik d log p_k(x_i) / d theta_k``), so they
  include the information lost to uncertain class membership.

``pytest -s`` prints each recovery table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest
from _helpers import assert_close_in_ulps
from scipy import stats
from scipy.linalg import block_diag
from scipy.optimize import linear_sum_assignment

from mixture import (
    Component,
    DegenerateComponentError,
    Initializer,
    KMeans,
    Mixture,
    MixtureEM,
    RandomResponsibilities,
)
from mixture.components.bernoulli import Bernoulli
from mixture.components.categorical import Categorical
from mixture.components.exponential import Exponential
from mixture.components.poisson import Poisson
from mixture.declared import WeightedSums
from mixture.testing import check_component

N_ROWS = 20000
TOLERANCE_IN_STANDARD_ERRORS = 5.0

# --------------------------------------------------------------------------------------------
# The conformance kit
# --------------------------------------------------------------------------------------------

POISSON_INVALID = [
    {"rate": [-1.0, 1.0]},
    {"rate": [np.nan]},
    {"rate": [np.inf]},
    {"rate": [[1.0, 2.0]]},
    {"rate": []},
    {"rate": ["a"]},
]
BERNOULLI_INVALID = [
    {"probs": [1.5]},
    {"probs": [-0.1, 0.5]},
    {"probs": [np.nan]},
    {"probs": [[0.5]]},
    {"probs": []},
    {"probs": [0.5], "pseudocount": -1.0},
    {"probs": [0.5], "pseudocount": np.inf},
]
CATEGORICAL_INVALID = [
    {"probs": [[0.5, 0.6]]},  # does not sum to 1
    {"probs": [[1.2, -0.2]]},  # sums to 1 but outside [0, 1]
    {"probs": []},  # no feature
    {"probs": [[]]},  # a feature without categories
    {"probs": [0.5, 0.5]},  # one flat vector instead of one per feature
    {"probs": np.array([0.5, 0.5])},
    {"probs": [[[0.5, 0.5]]]},  # a 2-D entry
    {"probs": [[np.nan, 1.0]]},
    {"probs": [[0.5, 0.5]], "pseudocount": -0.5},
]
EXPONENTIAL_INVALID = [
    {"rate": [0.0]},  # the M-step never returns 0: it would need an infinite mean
    {"rate": [-1.0]},
    {"rate": [np.inf]},
    {"rate": [[1.0]]},
    {"rate": []},
]

CONFORMANCE = {
    "poisson": (Poisson([2.0, 0.5, 7.0]), 3, POISSON_INVALID),
    # A rate of 0 is what the M-step returns for an all-zero feature.
    "poisson-zero-rate": (Poisson([0.0, 3.0]), 2, POISSON_INVALID),
    "bernoulli": (Bernoulli([0.2, 0.7, 0.5, 0.9]), 4, BERNOULLI_INVALID),
    # Probabilities of exactly 0 and 1 are what the M-step returns for constant features.
    "bernoulli-edges": (Bernoulli([0.0, 1.0, 0.3]), 3, BERNOULLI_INVALID),
    "categorical": (
        Categorical([[0.2, 0.3, 0.5], [0.6, 0.4], [0.1, 0.0, 0.2, 0.7]]),
        2 + 1 + 3,
        CATEGORICAL_INVALID,
    ),
    "exponential": (Exponential([0.5, 2.0, 10.0]), 3, EXPONENTIAL_INVALID),
}


@pytest.mark.parametrize("name", list(CONFORMANCE))
def test_component_passes_the_conformance_kit(name: str) -> None:
    component, n_parameters, invalid = CONFORMANCE[name]
    report = check_component(component, invalid=invalid, n_parameters=n_parameters)
    # Every check ran: each component has a scipy twin, mean and variance, and invalid sets.
    assert not report.not_run, report.not_run
    assert "density vs scipy" in report.passed
    if component.capabilities.discrete:
        assert "sample frequencies vs exp(log_density) (chi-square)" in report.passed
    else:
        assert "sample distribution vs scipy twin (KS)" in report.passed


def test_only_the_exponential_is_continuous() -> None:
    assert Poisson([1.0]).capabilities.discrete
    assert Bernoulli([0.5]).capabilities.discrete
    assert Categorical([[0.5, 0.5]]).capabilities.discrete
    assert not Exponential([1.0]).capabilities.discrete


# --------------------------------------------------------------------------------------------
# Densities against scipy, inside and outside the support
# --------------------------------------------------------------------------------------------


def _scipy_categorical(probs: Sequence[Sequence[float]], X: np.ndarray) -> np.ndarray:
    return sum(
        stats.rv_discrete(values=(np.arange(len(p)), p)).logpmf(X[:, j])
        for j, p in enumerate(probs)
    )


CATEGORICAL_PROBS = [[0.2, 0.0, 0.8], [0.1, 0.2, 0.3, 0.4]]

DENSITY_CASES = {
    "poisson": (
        Poisson([2.0, 0.0, 7.5]),
        np.array([[-1.0, 0.0, 3.0], [0.5, 0.0, 2.0], [1.0, 1.0, 3.0], [0.0, 0.0, 40.0]]),
        lambda X: stats.poisson.logpmf(X, [2.0, 0.0, 7.5]).sum(axis=1),
    ),
    "bernoulli": (
        Bernoulli([0.3, 1.0, 0.0, 0.6]),
        np.array([[2.0, 1.0, 0.0, 1.0], [-1.0, 1.0, 0.0, 0.0], [0.5, 1.0, 0.0, 1.0], [1, 0, 0, 1]]),
        lambda X: stats.bernoulli.logpmf(X, [0.3, 1.0, 0.0, 0.6]).sum(axis=1),
    ),
    "categorical": (
        Categorical(CATEGORICAL_PROBS),
        np.array([[3.0, 0.0], [-1.0, 2.0], [0.0, 1.5], [1.0, 3.0], [2.0, 4.0]]),
        lambda X: _scipy_categorical(CATEGORICAL_PROBS, X),
    ),
    "exponential": (
        Exponential([0.5, 4.0]),
        np.array([[-0.1, 1.0], [2.0, -3.0], [0.0, 0.0]]),
        lambda X: stats.expon.logpdf(X, scale=[2.0, 0.25]).sum(axis=1),
    ),
}


@pytest.mark.parametrize("name", list(DENSITY_CASES))
def test_log_density_equals_scipy_inside_and_outside_the_support(name: str) -> None:
    component, outside, reference = DENSITY_CASES[name]
    inside = component.sample(500, np.random.default_rng(1))
    X = np.concatenate([inside, outside])
    values = component.log_density(X)
    np.testing.assert_allclose(values, reference(X), rtol=1e-12, atol=1e-12)
    assert np.isfinite(values[:500]).all()
    # The probe rows lie outside the support, except one extreme but valid row for the
    # Poisson (a count of 40) and the exponential (zeros, the edge of the support).
    expected_outside = np.isneginf(reference(outside))
    assert expected_outside.sum() >= outside.shape[0] - 1
    assert np.array_equal(np.isneginf(values[500:]), expected_outside)


def test_float32_rows_give_the_float64_densities() -> None:
    component = Poisson([2.0, 7.5])
    X = component.sample(100, np.random.default_rng(2))
    np.testing.assert_allclose(
        component.log_density(X.astype(np.float32)), component.log_density(X), rtol=1e-12
    )


# --------------------------------------------------------------------------------------------
# Edge cases of the support and of the M-step
# --------------------------------------------------------------------------------------------


def test_poisson_all_zero_feature_fits_rate_zero_without_nan() -> None:
    X = np.array([[0.0, 3.0], [0.0, 1.0], [0.0, 2.0]])
    fitted = Poisson([1.0, 1.0]).fit(X)
    assert fitted.rate.tolist() == [0.0, 2.0]
    densities = fitted.log_density(np.array([[0.0, 2.0], [1.0, 2.0]]))
    assert np.isfinite(densities[0]) and densities[1] == -np.inf
    assert not np.isnan(densities).any()
    # And a whole mixture with an all-zero feature.
    rows = np.column_stack([np.zeros(400), np.random.default_rng(3).poisson(4.0, 400)])
    result = MixtureEM([Poisson([1.0, 1.0]), Poisson([1.0, 5.0])], random_state=0).fit(rows)
    assert all(component.rate[0] == 0.0 for component in result.components)
    assert np.isfinite(result.score(rows))


def test_bernoulli_constant_features_fit_probabilities_zero_and_one() -> None:
    X = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 1.0]])
    fitted = Bernoulli([0.5, 0.5, 0.5]).fit(X, np.array([0.3, 0.3, 0.4]))
    np.testing.assert_allclose(fitted.probs, [1.0, 0.0, 0.7], rtol=1e-15)
    assert 0.0 <= fitted.probs.min() and fitted.probs.max() <= 1.0
    assert np.isfinite(fitted.log_density(X)).all()
    assert fitted.log_density(np.array([[0.0, 0.0, 1.0]]))[0] == -np.inf


def test_categorical_unseen_category_gets_probability_zero() -> None:
    X = np.array([[0.0, 2.0], [0.0, 0.0], [2.0, 2.0]])
    fitted = Categorical([[1 / 3] * 3, [0.25] * 4]).fit(X)
    np.testing.assert_allclose(fitted.probs[0], [2 / 3, 0.0, 1 / 3])
    np.testing.assert_allclose(fitted.probs[1], [1 / 3, 0.0, 2 / 3, 0.0])
    assert fitted.n_categories == (3, 4)  # the categories are settings: they stay
    assert fitted.log_density(np.array([[1.0, 0.0]]))[0] == -np.inf


def test_exponential_all_zero_feature_is_a_degenerate_component() -> None:
    X = np.array([[0.0, 1.0], [0.0, 2.0]])
    with pytest.raises(DegenerateComponentError, match="feature 0"):
        Exponential([1.0, 1.0]).fit(X)


@pytest.mark.parametrize(
    ("component", "outside"),
    [
        (Poisson([1.0, 2.0]), [[-1.0, 2.0], [1.5, 0.0]]),
        (Bernoulli([0.5, 0.5]), [[2.0, 1.0], [0.0, -1.0]]),
        (Categorical([[0.5, 0.5], [0.2, 0.3, 0.5]]), [[2.0, 0.0], [0.0, 0.5]]),
        (Exponential([1.0, 2.0]), [[-0.5, 1.0]]),
    ],
    ids=["poisson", "bernoulli", "categorical", "exponential"],
)
def test_rows_outside_the_support_are_left_out_of_the_statistics(
    component: Component, outside: list[list[float]]
) -> None:
    inside = component.sample(50, np.random.default_rng(4))
    weights = np.random.default_rng(5).uniform(0.5, 2.0, 50 + len(outside))
    everything = component.statistics(np.concatenate([inside, outside]), weights)
    only_inside = component.statistics(inside, weights[:50])
    # Sums of 50 + len(outside) and of 50 positive weights (the outside rows count 0): two
    # reductions of 50 terms, so up to about 50 ulps of the total apart.
    assert_close_in_ulps(everything.total_weight, only_inside.total_weight, 50)
    probe = component.sample(20, np.random.default_rng(6))
    np.testing.assert_allclose(
        component.from_statistics(everything).log_density(probe),
        component.from_statistics(only_inside).log_density(probe),
        rtol=1e-13,
    )


@pytest.mark.parametrize(
    "component",
    [Poisson([1.0]), Bernoulli([0.5]), Categorical([[0.5, 0.5]]), Exponential([1.0])],
    ids=["poisson", "bernoulli", "categorical", "exponential"],
)
def test_statistics_without_weight_cannot_be_fitted(component: Component) -> None:
    empty = component.statistics(np.zeros((0, 1)), np.zeros(0))
    assert empty.total_weight == 0.0
    with pytest.raises(DegenerateComponentError, match="zero total weight"):
        component.from_statistics(empty)


def test_engine_names_a_row_outside_every_components_support() -> None:
    X = Mixture([0.5, 0.5], [Poisson([1.0]), Poisson([9.0])]).sample(200, 0)[0]
    X[7, 0] = 2.5
    with pytest.raises(ValueError, match="row 7 has zero density under every component"):
        MixtureEM([Poisson([1.0]), Poisson([2.0])], random_state=0).fit(X)


def test_pseudocount_gives_the_posterior_mode_and_is_kept() -> None:
    X = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    weights = np.array([1.0, 2.0, 1.0])
    fitted = Bernoulli([0.5, 0.5], pseudocount=1.0).fit(X, weights)
    np.testing.assert_allclose(fitted.probs, [(4 + 1) / (4 + 2), (1 + 1) / (4 + 2)])
    assert fitted.pseudocount == 1.0
    codes = np.array([[0.0], [0.0], [2.0]])
    categorical = Categorical([[0.2, 0.3, 0.5]], pseudocount=0.5).fit(codes, weights)
    np.testing.assert_allclose(categorical.probs[0], np.array([3.5, 0.5, 1.5]) / 5.5)
    assert categorical.pseudocount == 0.5
    # The prior does not scale with the weights: the one law the default (0) is needed for.
    doubled = Bernoulli([0.5, 0.5], pseudocount=1.0).fit(X, 2 * weights)
    assert not np.allclose(doubled.probs, fitted.probs)
    # A warm start keeps the engine's pseudocount and takes only the probabilities.
    warm = Bernoulli([0.5, 0.5], pseudocount=2.0).with_parameters_from(Bernoulli([0.1, 0.9]))
    assert warm.pseudocount == 2.0 and warm.probs.tolist() == [0.1, 0.9]


def test_statistics_of_different_components_do_not_add() -> None:
    poisson = Poisson([1.0, 1.0]).statistics(np.ones((1, 2)), np.ones(1))
    exponential = Exponential([1.0, 1.0]).statistics(np.ones((1, 2)), np.ones(1))
    with pytest.raises(TypeError):
        _ = poisson + exponential
    with pytest.raises(TypeError, match="Poisson's statistics"):
        Poisson([1.0, 1.0]).from_statistics(exponential)
    with pytest.raises(ValueError, match="different shapes"):
        _ = poisson + WeightedSums(Poisson, 1.0, (np.ones(3),))
    assert sum([poisson, poisson]).total_weight == 2.0


# --------------------------------------------------------------------------------------------
# Recovery of a known 3-component mixture, within 5 standard errors
# --------------------------------------------------------------------------------------------

ScoreGroups = list[tuple[np.ndarray, bool]]


def standard_errors(groups: ScoreGroups) -> np.ndarray:
    """Standard errors from the outer product of per-row scores (the empirical information).

    Parameters
    ----------
    groups : list of (scores, simplex)
        ``scores`` of shape ``(n_samples, m)``: derivatives of ``log p(x_i)`` with respect to
        ``m`` parameters, taken as unconstrained. ``simplex`` marks a group whose parameters
        sum to 1 (mixing weights, category probabilities): the last one is then
        ``1 - sum(others)``, its free scores are ``scores[:, :-1] - scores[:, -1:]``, and
        the last parameter's error follows by the delta method.

    Returns
    -------
    ndarray of shape (total m,)
        One standard error per parameter, in the order of the groups.
    """
    free, jacobians = [], []
    for scores, simplex in groups:
        if simplex:
            width = scores.shape[1] - 1
            free.append(scores[:, :-1] - scores[:, -1:])
            jacobians.append(np.vstack([np.eye(width), -np.ones((1, width))]))
        else:
            free.append(scores)
            jacobians.append(np.eye(scores.shape[1]))
    S = np.hstack(free)
    jacobian = block_diag(*jacobians)
    covariance = jacobian @ np.linalg.solve(S.T @ S, jacobian.T)
    return np.sqrt(np.diag(covariance))


def matched_order(true_labels: np.ndarray, fitted_labels: np.ndarray, n_components: int):
    """``order[k]``: the fitted component matched to true component ``k`` (most rows shared)."""
    shared = np.zeros((n_components, n_components))
    np.add.at(shared, (true_labels, fitted_labels), 1.0)
    rows, order = linear_sum_assignment(-shared)
    assert (rows == np.arange(n_components)).all()
    return order


def print_table(title: str, names: list[str], true, fitted, errors) -> None:
    print(f"\n{title}")
    print(f"{'parameter':<24}{'true':>10}{'fitted':>10}{'SE':>10}{'error/SE':>10}")
    for name, a, b, se in zip(names, true, fitted, errors, strict=True):
        print(f"{name:<24}{a:>10.4f}{b:>10.4f}{se:>10.4f}{(b - a) / se:>10.2f}")


@dataclass(frozen=True)
class Family:
    """How to read, name and differentiate the parameters of one component type."""

    parameters: Callable[[Component], np.ndarray]
    names: Callable[[Component], list[str]]
    # (component, X (n, D), responsibilities r (n,)) -> score groups of log p(x_i)
    scores: Callable[[Component, np.ndarray, np.ndarray], ScoreGroups]


def _one_hot(codes: np.ndarray, n_categories: int) -> np.ndarray:
    return (codes[:, None] == np.arange(n_categories)).astype(float)


def _categorical_scores(c: Categorical, X: np.ndarray, r: np.ndarray) -> ScoreGroups:
    return [(r[:, None] * _one_hot(X[:, j], len(p)) / p, True) for j, p in enumerate(c.probs)]


FAMILIES = {
    "poisson": Family(
        lambda c: c.rate,
        lambda c: [f"rate[{d}]" for d in range(c.n_features)],
        lambda c, X, r: [(r[:, None] * (X / c.rate - 1.0), False)],
    ),
    "bernoulli": Family(
        lambda c: c.probs,
        lambda c: [f"probs[{d}]" for d in range(c.n_features)],
        lambda c, X, r: [(r[:, None] * (X / c.probs - (1.0 - X) / (1.0 - c.probs)), False)],
    ),
    "categorical": Family(
        lambda c: np.concatenate(c.probs),
        lambda c: [f"probs[{j}][{v}]" for j, n in enumerate(c.n_categories) for v in range(n)],
        _categorical_scores,
    ),
    "exponential": Family(
        lambda c: c.rate,
        lambda c: [f"rate[{d}]" for d in range(c.n_features)],
        lambda c, X, r: [(r[:, None] * (1.0 / c.rate - X), False)],
    ),
}


@dataclass(frozen=True)
class RecoveryCase:
    family: str
    weights: list[float]
    components: list[Component]
    templates: list[Component]
    initializer: Initializer


RECOVERY = {
    "poisson": RecoveryCase(
        "poisson",
        [0.3, 0.45, 0.25],
        [Poisson([1.0, 8.0, 3.0]), Poisson([6.0, 1.0, 12.0]), Poisson([15.0, 4.0, 0.5])],
        [Poisson(np.ones(3))] * 3,
        KMeans(),
    ),
    # Latent class analysis: a 3-class model of binary items is identifiable only with
    # enough items (2^D - 1 cell probabilities must determine K (D + 1) - 1 parameters, and
    # generic identifiability of 3 classes needs D >= 5), hence D = 6.
    "bernoulli": RecoveryCase(
        "bernoulli",
        [0.35, 0.4, 0.25],
        [
            Bernoulli([0.9, 0.85, 0.8, 0.1, 0.2, 0.15]),
            Bernoulli([0.1, 0.2, 0.15, 0.9, 0.8, 0.85]),
            Bernoulli([0.85, 0.1, 0.9, 0.8, 0.15, 0.9]),
        ],
        [Bernoulli(np.full(6, 0.5))] * 3,
        KMeans(),
    ),
    # Four features with 3, 4, 3 and 2 categories (72 cells for 26 parameters). k-means on
    # unordered codes is meaningless and ends in poor local optima here; random
    # responsibilities start every class near the margins and EM separates them.
    "categorical": RecoveryCase(
        "categorical",
        [0.3, 0.3, 0.4],
        [
            Categorical([[0.7, 0.2, 0.1], [0.1, 0.1, 0.1, 0.7], [0.8, 0.1, 0.1], [0.8, 0.2]]),
            Categorical([[0.1, 0.8, 0.1], [0.7, 0.1, 0.1, 0.1], [0.1, 0.1, 0.8], [0.3, 0.7]]),
            Categorical([[0.1, 0.1, 0.8], [0.1, 0.7, 0.1, 0.1], [0.1, 0.8, 0.1], [0.5, 0.5]]),
        ],
        [Categorical([[1 / 3] * 3, [0.25] * 4, [1 / 3] * 3, [0.5] * 2])] * 3,
        RandomResponsibilities(),
    ),
    # Exponentials overlap heavily; rates differing 10- to 80-fold per feature separate them.
    "exponential": RecoveryCase(
        "exponential",
        [0.3, 0.45, 0.25],
        [Exponential([10.0, 0.2, 1.0]), Exponential([0.2, 5.0, 0.1]), Exponential([1.0, 0.1, 8.0])],
        [Exponential(np.ones(3))] * 3,
        KMeans(),
    ),
}


def mixture_standard_errors(
    family: Family, weights: np.ndarray, components: list[Component], X: np.ndarray, R: np.ndarray
) -> np.ndarray:
    """Standard errors of (weights, each component's parameters) from responsibilities R."""
    groups: ScoreGroups = [(R / weights, True)]
    for k, component in enumerate(components):
        groups += family.scores(component, X, R[:, k])
    return standard_errors(groups)


@pytest.mark.parametrize("name", list(RECOVERY))
def test_recovers_a_three_component_mixture(name: str) -> None:
    case = RECOVERY[name]
    family = FAMILIES[case.family]
    truth = Mixture(case.weights, case.components)
    X, labels = truth.sample(N_ROWS, random_state=0)
    engine = MixtureEM(
        case.templates, initializer=case.initializer, random_state=0, tol=1e-8, max_iter=2000
    )
    result = engine.fit(X)
    assert result.converged

    order = matched_order(labels, result.predict(X), 3)
    weights = result.weights[order]
    components = [result.components[k] for k in order]
    R = result.predict_proba(X)[:, order]
    errors = mixture_standard_errors(family, weights, components, X, R)
    # The errors if class membership were known: the tolerances must not be much looser.
    complete = mixture_standard_errors(family, weights, components, X, np.eye(3)[labels])

    true = np.concatenate([case.weights, *(family.parameters(c) for c in case.components)])
    fitted = np.concatenate([weights, *(family.parameters(c) for c in components)])
    names = [f"weight[{k}]" for k in range(3)] + [
        f"{k}: {label}" for k, c in enumerate(case.components) for label in family.names(c)
    ]
    print_table(
        f"{name}: {N_ROWS} rows, {result.n_iter} EM iterations, tolerance "
        f"{TOLERANCE_IN_STANDARD_ERRORS:g} SE",
        names,
        true,
        fitted,
        errors,
    )
    assert (errors < 2.0 * complete).all(), np.c_[errors, complete]
    outside = np.abs(fitted - true) > TOLERANCE_IN_STANDARD_ERRORS * errors
    assert not outside.any(), [name for name, bad in zip(names, outside, strict=True) if bad]
