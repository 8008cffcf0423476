"""Independent: a product of components over column blocks, for tables of mixed columns.

The conformance kit on three products (one with non-consecutive blocks), densities and
M-steps part by part, the scipy twin with permuted columns, recovery of a 3-component
mixture over a table with a 2-D Gaussian block, a categorical column and a Poisson column
(within 5 standard errors, see ``test_components_discrete``), and model selection by BIC.

``pytest -s`` prints the recovery table and the model-selection table.
"""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pytest
from test_components_discrete import (
    TOLERANCE_IN_STANDARD_ERRORS,
    Family,
    ScoreGroups,
    matched_order,
    mixture_standard_errors,
    print_table,
)

from mixture import (
    ConvergenceWarning,
    DiagonalCovariance,
    EmptyComponentWarning,
    Gaussian,
    Mixture,
    MixtureEM,
    select_model,
)
from mixture.components.bernoulli import Bernoulli
from mixture.components.categorical import Categorical
from mixture.components.exponential import Exponential
from mixture.components.independent import Independent
from mixture.components.poisson import Poisson
from mixture.family import ComponentList
from mixture.testing import check_component

# --------------------------------------------------------------------------------------------
# The conformance kit
# --------------------------------------------------------------------------------------------

INVALID = [
    {"parts": []},
    {"parts": Poisson([1.0])},  # one component, not a sequence of them
    {"parts": [Poisson([1.0]), "poisson"]},
    {"parts": [Poisson([1.0]), Poisson([2.0])], "blocks": [[0], [0]]},  # column 0 twice
    {"parts": [Poisson([1.0]), Poisson([2.0])], "blocks": [[0], [2]]},  # column 1 missing
    {"parts": [Poisson([1.0]), Poisson([2.0])], "blocks": [[-1], [0]]},
    {"parts": [Poisson([1.0, 2.0])], "blocks": [[0]]},  # width differs from n_features
    {"parts": [Poisson([1.0])], "blocks": [[0], [1]]},  # more blocks than parts
    {"parts": [Poisson([1.0])], "blocks": [[0.0]]},  # not integer indices
    {"parts": [Poisson([1.0])], "blocks": "0"},
]

CONFORMANCE = {
    # (a) a full Gaussian block and a Poisson count, consecutive blocks (the default)
    "gaussian+poisson": (
        Independent([Gaussian([1.0, -1.0], [[1.0, 0.3], [0.3, 2.0]]), Poisson([4.0])]),
        5 + 1,
    ),
    # (b) categorical + exponential + diagonal Gaussian over non-consecutive columns
    "categorical+exponential+diag": (
        Independent(
            [
                Categorical([[0.3, 0.7]]),
                Exponential([1.5, 0.3]),
                Gaussian([0.0], [2.0], structure=DiagonalCovariance()),
            ],
            blocks=[[2], [0, 3], [1]],
        ),
        1 + 2 + 2,
    ),
    # all discrete (so the kit's chi-square path), a block listing its columns in reverse
    "poisson+categorical+bernoulli": (
        Independent(
            [Poisson([2.0, 5.0]), Categorical([[0.2, 0.3, 0.5]]), Bernoulli([0.4])],
            blocks=[[3, 0], [1], [2]],
        ),
        2 + 2 + 1,
    ),
}


@pytest.mark.parametrize("name", list(CONFORMANCE))
def test_independent_passes_the_conformance_kit(name: str) -> None:
    component, n_parameters = CONFORMANCE[name]
    report = check_component(component, invalid=INVALID, n_parameters=n_parameters)
    assert not report.not_run, report.not_run  # every part has a twin, mean and variance
    assert "density vs scipy" in report.passed
    discrete = all(part.capabilities.discrete for part in component.parts)
    assert component.capabilities.discrete == discrete
    if discrete:
        assert "sample frequencies vs exp(log_density) (chi-square)" in report.passed
    else:
        assert "sample distribution vs scipy twin (KS)" in report.passed


# --------------------------------------------------------------------------------------------
# Densities, statistics, sampling and the twin, part by part
# --------------------------------------------------------------------------------------------

GAUSSIAN = Gaussian([10.0, -10.0], [[1.0, 0.5], [0.5, 2.0]])
CATEGORICAL = Categorical([[0.1, 0.2, 0.7]])
POISSON = Poisson([3.0])
BLOCKS = [[4, 0], [2], [1, 3]]  # not consecutive, and the Gaussian's columns reversed
PRODUCT = Independent([GAUSSIAN, CATEGORICAL, Poisson([3.0, 0.5])], blocks=BLOCKS)


def test_log_density_is_the_sum_of_the_parts_on_their_columns() -> None:
    X = PRODUCT.sample(300, np.random.default_rng(0))
    X[0, 1] = 1.5  # outside the Poisson part's support: the product is -inf there too
    expected = sum(
        part.log_density(X[:, block]) for part, block in zip(PRODUCT.parts, BLOCKS, strict=True)
    )
    np.testing.assert_allclose(PRODUCT.log_density(X), expected, rtol=1e-15)
    assert PRODUCT.log_density(X)[0] == -np.inf
    twin = PRODUCT.scipy_twin()
    np.testing.assert_allclose(twin.logpdf(X[1:]), PRODUCT.log_density(X[1:]), rtol=1e-12)


def test_sample_puts_each_part_into_its_columns() -> None:
    X = PRODUCT.sample(5000, np.random.default_rng(1))
    np.testing.assert_allclose(X[:, [4, 0]].mean(axis=0), [10.0, -10.0], atol=0.1)
    assert set(np.unique(X[:, 2])) <= {0.0, 1.0, 2.0}
    np.testing.assert_allclose(X[:, [1, 3]].mean(axis=0), [3.0, 0.5], atol=0.1)
    np.testing.assert_allclose(PRODUCT.mean[[4, 0, 1, 3]], [10.0, -10.0, 3.0, 0.5])
    np.testing.assert_allclose(PRODUCT.variance[[4, 0, 1, 3]], [1.0, 2.0, 3.0, 0.5])
    # The twin's draws land in the same columns.
    twin_draws = PRODUCT.scipy_twin().rvs(5000, np.random.default_rng(2))
    np.testing.assert_allclose(twin_draws[:, [4, 0]].mean(axis=0), [10.0, -10.0], atol=0.1)
    assert set(np.unique(twin_draws[:, 2])) <= {0.0, 1.0, 2.0}


def test_m_step_fits_each_part_on_its_columns() -> None:
    rng = np.random.default_rng(3)
    X = PRODUCT.sample(400, rng)
    weights = rng.uniform(0.0, 2.0, 400)
    fitted = PRODUCT.fit(X, weights)
    for part, alone, block in zip(fitted.parts, PRODUCT.parts, BLOCKS, strict=True):
        expected = alone.fit(X[:, block], weights)
        np.testing.assert_allclose(
            part.log_density(X[:, block]), expected.log_density(X[:, block]), rtol=1e-12
        )
    assert fitted.blocks == PRODUCT.blocks


def test_rows_outside_a_parts_support_inform_no_part() -> None:
    rng = np.random.default_rng(4)
    counts = rng.poisson(3.0, 60).astype(float)
    counts[::3] = 0.5  # a third of the rows hold a fractional count: zero likelihood
    X = np.column_stack([rng.normal(2.0, 1.0, 60), counts])
    product = Independent([Gaussian([0.0], [[1.0]]), Poisson([3.0])])
    fitted = product.fit(X)
    inside = counts != 0.5
    assert fitted.parts[0].mean[0] == pytest.approx(X[inside, 0].mean(), rel=1e-12)
    assert fitted.parts[1].rate[0] == pytest.approx(counts[inside].mean(), rel=1e-12)
    assert (product.log_density(X)[~inside] == -np.inf).all()


def test_parts_whose_statistics_have_no_weight_keep_their_parameters() -> None:
    X = np.column_stack([np.random.default_rng(4).normal(2.0, 1.0, 50), np.full(50, 0.5)])
    product = Independent([Gaussian([0.0], [[1.0]]), Poisson([3.0])])
    fitted = product.fit(X)  # every Poisson value is fractional: no row in the support
    assert fitted.parts[1].rate.tolist() == [3.0]
    assert fitted.parts[0].mean.tolist() == [0.0]


class _BarePoisson(Poisson):
    """A Poisson without the conformance extras (no twin, mean or variance)."""

    mean = None
    variance = None

    def scipy_twin(self) -> None:
        return None


def test_twin_mean_and_variance_need_every_part_to_have_them() -> None:
    product = Independent([Gaussian([0.0], [[1.0]]), _BarePoisson([2.0])])
    assert product.scipy_twin() is None
    assert product.mean is None and product.variance is None
    report = check_component(product)
    assert "density vs scipy" in report.not_run and "sample moments" in report.not_run


def test_capabilities_follow_the_parts() -> None:
    assert Independent([Poisson([1.0]), Categorical([[0.5, 0.5]])]).capabilities.discrete
    assert not Independent([Poisson([1.0]), Exponential([1.0])]).capabilities.discrete
    assert not Independent([Poisson([1.0])]).capabilities.fixed


def test_warm_start_takes_the_parts_parameters_and_checks_the_blocks() -> None:
    template = Independent([Gaussian([0.0], [[1.0]], reg_covar=0.0), Bernoulli([0.5])])
    rows = Mixture(
        [0.5, 0.5],
        [
            Independent([Gaussian([-3.0], [[1.0]]), Bernoulli([0.2])]),
            Independent([Gaussian([3.0], [[1.0]]), Bernoulli([0.9])]),
        ],
    ).sample(500, 0)[0]
    engine = MixtureEM([template, template], random_state=0)
    first = engine.fit(rows)
    again = engine.fit(rows, warm_start=first)
    assert again.n_iter <= 2
    assert all(c.parts[0].reg_covar == 0.0 for c in again.components)
    swapped = Independent([Bernoulli([0.5]), Gaussian([0.0], [[1.0]])], blocks=[[1], [0]])
    with pytest.raises(ValueError, match="parts and blocks must match"):
        swapped.with_parameters_from(template)


# --------------------------------------------------------------------------------------------
# A mixed table: recovery and model selection
# --------------------------------------------------------------------------------------------

# Columns: x, a categorical code, y, a Poisson count. The Gaussian block is (x, y).
MIXED_BLOCKS = [[0, 2], [1], [3]]
MIXED_WEIGHTS = [0.3, 0.3, 0.4]
MIXED_TRUTH = [
    Independent(
        [Gaussian(mean, covariance), Categorical([probs]), Poisson([rate])], blocks=MIXED_BLOCKS
    )
    for mean, covariance, probs, rate in [
        ([0.0, 0.0], [[1.0, 0.3], [0.3, 1.0]], [0.7, 0.2, 0.1], 2.0),
        ([5.0, 0.0], [[1.5, -0.4], [-0.4, 0.8]], [0.1, 0.8, 0.1], 8.0),
        ([0.0, 5.0], [[0.7, 0.0], [0.0, 1.2]], [0.2, 0.2, 0.6], 15.0),
    ]
]
N_ROWS = 20000


def mixed_template() -> Independent:
    return Independent(
        [Gaussian([0.0, 0.0], np.eye(2)), Categorical([[1 / 3] * 3]), Poisson([1.0])],
        blocks=MIXED_BLOCKS,
    )


@cache
def mixed_table() -> tuple[np.ndarray, np.ndarray]:
    X, labels = Mixture(MIXED_WEIGHTS, MIXED_TRUTH).sample(N_ROWS, random_state=0)
    X.setflags(write=False)
    return X, labels


def _parameters(c: Independent) -> np.ndarray:
    gaussian, categorical, poisson = c.parts
    cov = gaussian.covariance_matrix
    return np.concatenate(
        [gaussian.mean, [cov[0, 0], cov[0, 1], cov[1, 1]], categorical.probs[0], poisson.rate]
    )


def _names(c: Independent) -> list[str]:
    return (
        ["mean[0]", "mean[1]", "cov[0,0]", "cov[0,1]", "cov[1,1]"]
        + [f"probs[{v}]" for v in range(3)]
        + ["rate"]
    )


def _scores(c: Independent, X: np.ndarray, r: np.ndarray) -> ScoreGroups:
    """Scores of log p_k(x) times r: Gaussian mean and covariance (the three free entries of
    a symmetric matrix), the categorical probabilities (a simplex) and the Poisson rate."""
    gaussian, categorical, poisson = c.parts
    precision = np.linalg.inv(gaussian.covariance_matrix)
    whitened = (X[:, MIXED_BLOCKS[0]] - gaussian.mean) @ precision  # P (x - mu), per row
    # d log N / d Sigma = (P d d^T P - P) / 2; an off-diagonal entry appears twice.
    g = whitened[:, :, None] * whitened[:, None, :] - precision
    covariance = np.column_stack([g[:, 0, 0] / 2, g[:, 0, 1], g[:, 1, 1] / 2])
    codes = X[:, 1]
    one_hot = (codes[:, None] == np.arange(3)).astype(float)
    counts = X[:, [3]]
    return [
        (r[:, None] * whitened, False),
        (r[:, None] * covariance, False),
        (r[:, None] * one_hot / categorical.probs[0], True),
        (r[:, None] * (counts / poisson.rate - 1.0), False),
    ]


MIXED = Family(_parameters, _names, _scores)


def test_recovers_a_mixture_over_a_mixed_table() -> None:
    X, labels = mixed_table()
    engine = MixtureEM(
        [mixed_template() for _ in range(3)], random_state=0, tol=1e-8, max_iter=1000
    )
    result = engine.fit(X)
    assert result.converged

    order = matched_order(labels, result.predict(X), 3)
    weights = result.weights[order]
    components = [result.components[k] for k in order]
    R = result.predict_proba(X)[:, order]
    errors = mixture_standard_errors(MIXED, weights, components, X, R)
    complete = mixture_standard_errors(MIXED, weights, components, X, np.eye(3)[labels])

    true = np.concatenate([MIXED_WEIGHTS, *(_parameters(c) for c in MIXED_TRUTH)])
    fitted = np.concatenate([weights, *(_parameters(c) for c in components)])
    names = [f"weight[{k}]" for k in range(3)] + [
        f"{k}: {label}" for k, c in enumerate(MIXED_TRUTH) for label in _names(c)
    ]
    print_table(
        f"mixed table (Gaussian x, y; categorical; Poisson): {N_ROWS} rows, "
        f"{result.n_iter} EM iterations, tolerance {TOLERANCE_IN_STANDARD_ERRORS:g} SE",
        names,
        true,
        fitted,
        errors,
    )
    assert (errors < 2.0 * complete).all(), np.c_[errors, complete]
    outside = np.abs(fitted - true) > TOLERANCE_IN_STANDARD_ERRORS * errors
    assert not outside.any(), [name for name, bad in zip(names, outside, strict=True) if bad]


def test_bic_selects_three_components_for_the_mixed_table() -> None:
    X, _ = mixed_table()
    with warnings.catch_warnings():
        # Every candidate must converge, with no component emptied on the way.
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", EmptyComponentWarning)
        selection = select_model(
            X,
            n_components=[2, 3, 4],
            models={"mixed": lambda k: ComponentList([mixed_template() for _ in range(k)])},
            random_state=0,
        )
    print(f"\n{selection}")
    assert selection.best.n_components == 3
    assert all(candidate.converged for candidate in selection.candidates)
    n_parameters = {c.n_components: c.n_parameters for c in selection.candidates}
    assert n_parameters == {2: 2 * 9 - 1, 3: 3 * 9 - 1, 4: 4 * 9 - 1}
