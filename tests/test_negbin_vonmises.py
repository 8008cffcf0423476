"""NegativeBinomial and VonMises components.

- both pass the conformance kit (:func:`mixture.testing.check_component`);
- negative binomial: the M-step equals a numerical maximum of scipy's log-likelihood; count
  histograms of chunks add up to those of all rows, whatever each chunk's largest count;
  data without over-dispersion gives the Poisson limit; rows outside the support get
  ``-inf`` and are left out;
- von Mises: the M-step solves ``I1(k) / I0(k) = R`` and agrees with
  ``scipy.stats.vonmises.fit``; shifting angles by multiples of ``2 pi`` changes nothing;
  uniform and coincident angles give the documented floor and error;
- model files round-trip both;
- a 2-component mixture of each is recovered from replicate data sets: the mean estimate
  over replicates lies within 5 standard errors of the truth.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from _helpers import assert_close_in_ulps
from scipy import optimize, special, stats

from mixture import DegenerateComponentError, Mixture, MixtureEM, model_file
from mixture.components.negative_binomial import (
    MAX_SIZE,
    MIN_SIZE,
    CountHistogram,
    NegativeBinomial,
)
from mixture.components.von_mises import MIN_CONCENTRATION, VonMises
from mixture.contract import Component
from mixture.testing import check_component


# -- conformance ----------------------------------------------------------------------------------
def test_negative_binomial_conforms() -> None:
    report = check_component(
        NegativeBinomial(mean=[3.0, 40.0], size=[2.0, 5.0]),
        invalid=[
            {"mean": [-1.0], "size": [1.0]},
            {"mean": [1.0], "size": [0.0]},
            {"mean": [1.0], "size": [-2.0]},
            {"mean": [np.nan], "size": [1.0]},
            {"mean": [1.0], "size": [np.inf]},
            {"mean": [1.0, 2.0], "size": [1.0]},
            {"mean": [[1.0]], "size": [[1.0]]},
        ],
        n_parameters=4,
    )
    assert not report.not_run, report


def test_von_mises_conforms() -> None:
    # loc 2.5 puts draws on both sides of +-pi: the wrapped sampler and twin must agree.
    report = check_component(
        VonMises(loc=[2.5, -1.0], concentration=[3.0, 0.5]),
        invalid=[
            {"loc": [0.0], "concentration": [0.0]},
            {"loc": [0.0], "concentration": [-1.0]},
            {"loc": [np.inf], "concentration": [1.0]},
            {"loc": [0.0, 1.0], "concentration": [1.0]},
        ],
        n_parameters=4,
    )
    # Angles have no plain mean and variance; every other check runs.
    assert set(report.not_run) == {"sample moments"}, report


# -- negative binomial ----------------------------------------------------------------------------
def _scipy_mle(x: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """(mean, size) maximising the (weighted) sum of scipy's nbinom.logpmf, both free,
    from the moments."""
    # Normalised to sum 1, so the mean log-likelihood (of order 1) can meet fatol.
    w = np.full(x.shape, 1.0 / x.size) if weights is None else weights / weights.sum()

    def minus_log_likelihood(theta: np.ndarray) -> float:
        size, mean = np.exp(theta)
        return -float(w @ stats.nbinom.logpmf(x, size, size / (size + mean)))

    mean, variance = x.mean(), x.var()
    start = np.log([mean**2 / max(variance - mean, 1e-3), mean])
    found = optimize.minimize(
        minus_log_likelihood,
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-11, "fatol": 1e-13, "maxiter": 20000},
    )
    assert found.success, found.message
    size, mean = np.exp(found.x)
    return float(mean), float(size)


@pytest.mark.parametrize(
    ("mean", "size", "n"), [(3.0, 2.0, 400), (30.0, 5.0, 2000), (0.4, 0.3, 300)]
)
def test_negative_binomial_m_step_is_scipys_mle(mean: float, size: float, n: int) -> None:
    rng = np.random.default_rng(7)
    x = NegativeBinomial([mean], [size]).sample(n, rng)
    assert x.var() > x.mean()  # over-dispersed, so the maximum is finite
    fitted = NegativeBinomial([1.0], [1.0]).fit(x)
    expected_mean, expected_size = _scipy_mle(x[:, 0])
    np.testing.assert_allclose(fitted.mean, [expected_mean], rtol=1e-5)
    np.testing.assert_allclose(fitted.size, [expected_size], rtol=1e-5)
    # The exact mean is the sample mean (the profile M-step), up to summation order.
    assert_close_in_ulps(fitted.mean, [x.mean()], 4 * n)


def test_weighted_m_step_is_scipys_weighted_mle() -> None:
    rng = np.random.default_rng(8)
    x = NegativeBinomial([12.0], [1.5]).sample(800, rng)
    weights = rng.uniform(0.0, 1.0, 800) ** 3
    fitted = NegativeBinomial([1.0], [1.0]).fit(x, weights)
    expected_mean, expected_size = _scipy_mle(x[:, 0], weights)
    np.testing.assert_allclose(fitted.mean, [expected_mean], rtol=1e-5)
    np.testing.assert_allclose(fitted.size, [expected_size], rtol=1e-5)


def test_count_histograms_of_chunks_add_up() -> None:
    rng = np.random.default_rng(3)
    # Chunks with very different largest counts, including one large enough for the
    # sparse (unique-based) path and one with a count absent from the others.
    chunks = [
        rng.integers(0, 4, size=(50, 2)).astype(float),
        np.column_stack([rng.integers(0, 60, 40), rng.integers(5_000, 10**7, 40)]).astype(float),
        np.array([[123.0, 1.0], [0.0, 2.0]]),
    ]
    weights = [rng.uniform(0.0, 2.0, chunk.shape[0]) for chunk in chunks]
    weights[0][:5] = 0.0  # zero weights leave no entries
    template = NegativeBinomial([1.0, 1.0], [1.0, 1.0])
    parts = [template.statistics(c, w) for c, w in zip(chunks, weights, strict=True)]
    summed = sum(parts[1:], parts[0])
    whole = template.statistics(np.concatenate(chunks), np.concatenate(weights))
    assert isinstance(summed, CountHistogram)
    assert_close_in_ulps(summed.total_weight, whole.total_weight, 100)
    for feature in range(2):
        # The same distinct counts (exact: integers), the same weight at each (sums of up to
        # 92 terms in a different order: 100 ulps of the largest).
        np.testing.assert_array_equal(summed.values[feature], whole.values[feature])
        assert_close_in_ulps(summed.mass[feature], whole.mass[feature], 100)
        assert (whole.mass[feature] > 0).all()
    for a, b in zip(summed.values, summed.mass, strict=True):
        assert a.shape == b.shape and (np.diff(a) > 0).all()
    # Statistics add only to statistics of the same component type and width.
    with pytest.raises(TypeError):
        _ = summed + VonMises([0.0], [1.0]).statistics(np.zeros((2, 1)), np.ones(2))
    with pytest.raises(ValueError, match="features"):
        _ = summed + NegativeBinomial([1.0], [1.0]).statistics(np.zeros((2, 1)), np.ones(2))
    scaled = summed.scale(2.5)
    assert scaled.total_weight == pytest.approx(2.5 * summed.total_weight, rel=1e-15)
    assert_close_in_ulps(scaled.mass[1], 2.5 * summed.mass[1], 1)


def test_without_over_dispersion_the_m_step_returns_the_poisson_limit() -> None:
    rng = np.random.default_rng(5)
    x = np.column_stack(
        [
            rng.binomial(10, 0.5, 500),  # variance 2.5 < mean 5: under-dispersed
            np.full(500, 4),  # constant: variance 0
            np.zeros(500),  # all zero: the point mass at 0
        ]
    ).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted = NegativeBinomial([1.0] * 3, [1.0] * 3).fit(x)
    np.testing.assert_array_equal(fitted.size, [MAX_SIZE] * 3)  # the cap, set exactly
    assert_close_in_ulps(fitted.mean, x.mean(axis=0), 1000)
    # At the cap it is a Poisson density, to about (x - mean)**2 / size.
    rows = np.array([[0.0, 4.0, 0.0], [7.0, 2.0, 0.0], [12.0, 9.0, 0.0]])
    poisson = stats.poisson(fitted.mean[:2]).logpmf(rows[:, :2]).sum(axis=1)
    np.testing.assert_allclose(fitted.log_density(rows), poisson, rtol=1e-6)
    assert np.isneginf(fitted.log_density(np.array([[1.0, 4.0, 1.0]])))[0]


def test_log_density_keeps_its_digits_near_the_poisson_limit() -> None:
    # gammaln(x + size) - gammaln(size) loses about 7 digits at size 1e8 (scipy's formula).
    # The reference sums log((size + k) / (size + mean)) over k < x term by term, exactly.
    mean, size = 3.0, MAX_SIZE
    x = np.arange(30)
    reference = np.array(
        [
            math.fsum(math.log1p((k - mean) / (size + mean)) for k in range(v))
            + v * math.log(mean)
            - math.lgamma(v + 1.0)
            - size * math.log1p(mean / size)
            for v in x
        ]
    )
    got = NegativeBinomial([mean], [size]).log_density(x[:, None].astype(float))
    np.testing.assert_allclose(got, reference, rtol=1e-12, atol=1e-12)


def test_a_root_below_the_floor_returns_the_floor() -> None:
    # Almost all weight on 0 and one huge count: the likelihood in the size peaks below 1e-8.
    X, weights = np.array([[0.0], [1e6]]), np.array([1e9, 1.0])
    fitted = NegativeBinomial([1.0], [1.0]).fit(X, weights)
    assert fitted.size[0] == MIN_SIZE  # the documented floor, set exactly
    above = fitted.replace(size=[10 * MIN_SIZE])
    assert weights @ fitted.log_density(X) > weights @ above.log_density(X)


def test_negative_binomial_rows_outside_the_support() -> None:
    nb = NegativeBinomial([2.0, 5.0], [1.5, 3.0])
    X = np.array([[2.0, 3.0], [-1.0, 2.0], [1.5, 0.0], [4.0, 4.0], [0.0, 2.25]])
    inside = np.array([True, False, False, True, False])
    values = nb.log_density(X)
    assert np.isneginf(values[~inside]).all() and np.isfinite(values[inside]).all()
    expected = stats.nbinom(nb.size, nb.prob).logpmf(X[inside]).sum(axis=1)
    np.testing.assert_allclose(values[inside], expected, rtol=1e-12)
    weights = np.array([1.0, 3.0, 2.0, 0.5, 1.0])
    whole, kept = nb.statistics(X, weights), nb.statistics(X[inside], weights[inside])
    assert whole.total_weight == kept.total_weight  # the same rows summed in the same order
    for a, b in zip(whole.mass, kept.mass, strict=True):
        np.testing.assert_array_equal(a, b)
    assert nb.fit(X, weights) == nb.fit(X[inside], weights[inside])


def test_negative_binomial_refuses_empty_and_foreign_statistics() -> None:
    nb = NegativeBinomial([2.0], [1.0])
    with pytest.raises(DegenerateComponentError, match="zero total weight"):
        nb.from_statistics(nb.statistics(np.array([[1.0], [2.0]]), np.zeros(2)))
    with pytest.raises(TypeError, match="statistics"):
        nb.from_statistics(VonMises([0.0], [1.0]).statistics(np.zeros((2, 1)), np.ones(2)))


# -- von Mises ------------------------------------------------------------------------------------
def _resultant(x: np.ndarray) -> tuple[float, float]:
    """(mean direction, mean resultant length) of angles."""
    c, s = np.cos(x).mean(), np.sin(x).mean()
    return float(np.arctan2(s, c)), float(np.hypot(c, s))


def _angle_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| on the circle."""
    return np.abs(np.angle(np.exp(1j * (np.asarray(a) - np.asarray(b)))))


@pytest.mark.parametrize("concentration", [0.05, 0.7, 4.0, 60.0, 3e4])
def test_von_mises_m_step_solves_the_likelihood_equation(concentration: float) -> None:
    rng = np.random.default_rng(11)
    x = rng.vonmises(2.0, concentration, size=(500, 1))
    fitted = VonMises([0.0], [1.0]).fit(x)
    direction, resultant = _resultant(x[:, 0])
    assert _angle_gap(fitted.loc, direction)[0] < 1e-12
    k = fitted.concentration[0]
    assert abs(special.i1e(k) / special.i0e(k) - resultant) <= 1e-10 * resultant
    scipy_k, scipy_loc, _ = stats.vonmises.fit(x[:, 0], fscale=1)
    # scipy's root finder stops at xtol 2e-12 absolute; ours at the ratio's rounding.
    np.testing.assert_allclose(k, scipy_k, rtol=1e-9, atol=1e-11)
    assert _angle_gap(fitted.loc, scipy_loc)[0] < 1e-12


def test_shifting_angles_by_whole_turns_changes_nothing() -> None:
    rng = np.random.default_rng(2)
    X = rng.vonmises([-2.9, 0.4], [5.0, 1.0], size=(300, 2))
    fitted = VonMises([0.0, 0.0], [1.0, 1.0]).fit(X)
    for turns in (1, -2, 7):
        shifted = VonMises([0.0, 0.0], [1.0, 1.0]).fit(X + 2 * np.pi * turns)
        # cos and sin of x + 2 pi k differ from those of x by the rounding of the shift
        # (about 2 pi k ulps of 1 each), summed over 300 rows.
        assert (_angle_gap(shifted.loc, fitted.loc) < 1e-11).all()
        np.testing.assert_allclose(shifted.concentration, fitted.concentration, rtol=1e-10)
        np.testing.assert_allclose(
            fitted.log_density(X + 2 * np.pi * turns), fitted.log_density(X), rtol=1e-11
        )
    assert (np.abs(fitted.loc) <= np.pi).all()


def test_uniform_angles_give_the_floor_and_coincident_angles_an_error() -> None:
    evenly = np.linspace(-np.pi, np.pi, 360, endpoint=False)[:, None]
    fitted = VonMises([1.0], [3.0]).fit(evenly)
    assert fitted.concentration[0] == MIN_CONCENTRATION  # the documented floor, set exactly
    np.testing.assert_allclose(
        fitted.log_density(evenly), np.full(360, -np.log(2 * np.pi)), rtol=1e-7
    )
    with pytest.raises(DegenerateComponentError, match="coincide"):
        VonMises([0.0], [1.0]).fit(np.full((20, 1), 0.7))


# -- model files ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"),
    [
        (NegativeBinomial([3.0, 0.0], [2.0, 1e8]), NegativeBinomial([30.1, 2.5], [5.0, 0.3])),
        (VonMises([-2.6, 0.1], [4.0, 1e-8]), VonMises([1.2, np.pi], [8.0, 123.456])),
    ],
)
def test_model_file_round_trip(a: Component, b: Component) -> None:
    document = model_file.model_to_dict(Mixture([0.5, 0.5], [a, b]))
    restored = model_file.model_from_dict(document).mixture.components
    assert restored == (a, b)  # JSON writes floats exactly (shortest repr)


# -- recovery -------------------------------------------------------------------------------------
REPLICATES = 20
N_ROWS = 1500


def _recovery(
    truth: tuple[Component, Component],
    template: Component,
    order_by: Callable[[Component], float],
) -> tuple[np.ndarray, np.ndarray]:
    """Per replicate: weight of the first component, then each component's parameters."""
    estimates = []
    for replicate in range(REPLICATES):
        rng = np.random.default_rng(10_000 + replicate)
        first = rng.random(N_ROWS) < 0.4
        X = np.where(first[:, None], truth[0].sample(N_ROWS, rng), truth[1].sample(N_ROWS, rng))
        # A tight tolerance: with the default (1e-3 per row) the overlapping negative
        # binomials stop after a few slow iterations, far from the maximum.
        result = MixtureEM([template, template], tol=1e-7, max_iter=2000, random_state=replicate)
        fitted = result.fit(X)
        order = sorted(range(2), key=lambda k: order_by(fitted.components[k]))
        row = [fitted.weights[order[0]]]
        for k in order:
            row += [float(v[0]) for v in fitted.components[k].parameters.values()]
        estimates.append(row)
    true_row = [0.4] + [float(v[0]) for c in truth for v in c.parameters.values()]
    return np.array(estimates), np.array(true_row)


@pytest.mark.parametrize(
    ("truth", "template", "order_by"),
    [
        pytest.param(
            (NegativeBinomial([3.0], [2.0]), NegativeBinomial([30.0], [5.0])),
            NegativeBinomial([1.0], [1.0]),
            lambda c: c.mean[0],
            id="negative-binomial",
        ),
        pytest.param(
            (VonMises([-2.6], [4.0]), VonMises([1.2], [8.0])),
            VonMises([0.0], [1.0]),
            lambda c: c.loc[0],
            id="von-mises",
        ),
    ],
)
def test_mixture_parameters_are_recovered(
    truth: tuple[Component, Component],
    template: Component,
    order_by: Callable[[Component], float],
) -> None:
    estimates, true_row = _recovery(truth, template, order_by)
    average = estimates.mean(axis=0)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(REPLICATES)
    print("\n truth, mean estimate, standard error:")
    print(np.column_stack([true_row, average, standard_error]).round(4))
    assert (np.abs(average - true_row) < 5 * standard_error).all()
