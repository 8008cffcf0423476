"""The Gamma and LogNormal components.

- both pass the conformance kit (:func:`mixture.testing.check_component`);
- the M-steps are the exact weighted maximum-likelihood estimates: they agree with scipy's
  ``fit`` (to its optimiser's tolerance), and the gamma shape solver solves
  ``log(a) - digamma(a) = s`` to 1e-12 relative, checked against Binet's integral (which,
  unlike ``log(a) - digamma(a)`` in floating point, does not cancel for large ``a``);
- rows outside ``x > 0`` get ``-inf``, and a mixture with a Gaussian gives it those rows;
- a component collapsed onto one value raises ``DegenerateComponentError``;
- model files round-trip the components exactly;
- EM recovers a 2-component mixture: over replicate data sets, the mean estimate of every
  parameter lies within 5 standard errors (of that mean) of the truth.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from mixture import DegenerateComponentError, Gaussian, Mixture, MixtureEM, model_file
from mixture.components.gamma import Gamma, gamma_shape
from mixture.components.lognormal import LogNormal
from mixture.testing import check_component

GAMMA_INVALID = [
    {"shape": [0.0], "rate": [1.0]},
    {"shape": [-1.0], "rate": [1.0]},
    {"shape": [1.0], "rate": [0.0]},
    {"shape": [1.0], "rate": [-2.0]},
    {"shape": [np.inf], "rate": [1.0]},
    {"shape": [1.0], "rate": [np.nan]},
    {"shape": [1.0, 2.0], "rate": [1.0]},  # lengths differ
    {"shape": [[1.0]], "rate": [[1.0]]},
    {"shape": [], "rate": []},
    {"shape": ["a"], "rate": [1.0]},
]
LOGNORMAL_INVALID = [
    {"mu": [0.0], "sigma": [0.0]},
    {"mu": [0.0], "sigma": [-1.0]},
    {"mu": [np.nan], "sigma": [1.0]},
    {"mu": [-np.inf], "sigma": [1.0]},
    {"mu": [0.0, 1.0], "sigma": [1.0]},  # lengths differ
    {"mu": [[0.0]], "sigma": [[1.0]]},
    {"mu": [], "sigma": []},
    {"mu": [0.0], "sigma": [1.0], "reg_var": -1e-6},
    {"mu": [0.0], "sigma": [1.0], "reg_var": np.inf},
]

CONFORMANCE = {
    "gamma": (Gamma([2.0, 0.5, 9.0], [4.0, 1.0, 1.0]), 6, GAMMA_INVALID),
    "lognormal": (LogNormal([0.0, 2.0, -1.0], [0.3, 1.0, 0.1]), 6, LOGNORMAL_INVALID),
    "lognormal-unregularised": (
        LogNormal([0.5, -3.0], [0.8, 0.05], reg_var=0.0),
        4,
        LOGNORMAL_INVALID,
    ),
}


@pytest.mark.parametrize("name", list(CONFORMANCE))
def test_component_passes_the_conformance_kit(name: str) -> None:
    component, n_parameters, invalid = CONFORMANCE[name]
    report = check_component(component, invalid=invalid, n_parameters=n_parameters)
    assert not report.not_run, report.not_run
    assert "density vs scipy" in report.passed
    assert "sample distribution vs scipy twin (KS)" in report.passed


# --------------------------------------------------------------------------------------------
# The M-step is the weighted maximum-likelihood estimate
# --------------------------------------------------------------------------------------------


def _binet_log_minus_digamma(a: float) -> float:
    """``log(a) - digamma(a) = 1/(2a) + 2 int_0^inf t / ((t^2 + a^2)(exp(2 pi t) - 1)) dt``
    (Binet's second formula): a sum of positive terms, accurate for every ``a > 0``."""

    def integrand(t: float) -> float:
        return t / ((t * t + a * a) * np.expm1(2.0 * np.pi * t))

    with np.errstate(over="ignore"):  # expm1 overflows to inf far out: the integrand is 0
        value, _ = integrate.quad(integrand, 0.0, np.inf, epsabs=0.0, epsrel=2e-14, limit=200)
    return 1.0 / (2.0 * a) + 2.0 * value


@given(st.floats(np.log10(1e-6), np.log10(50.0)))
def test_gamma_shape_solves_its_equation(log10_s: float) -> None:
    s = 10.0**log10_s
    (a,) = gamma_shape(np.array([s]))
    assert abs(_binet_log_minus_digamma(a) - s) <= 1e-12 * s


def test_gamma_shape_at_the_ends_and_vectorised() -> None:
    # The smallest s the M-step passes on (about 1e-11) and the largest float data can give
    # (log of the largest float minus log of the smallest: about 1454).
    s = np.array([1e-11, 1e-6, 0.3, 50.0, 1454.0])
    shapes = gamma_shape(s)
    assert shapes.shape == s.shape
    for a, target in zip(shapes, s, strict=True):
        assert abs(_binet_log_minus_digamma(a) - target) <= 1e-12 * target
    for bad in (0.0, -1e-3, np.nan, np.inf):
        with pytest.raises(ValueError, match="finite and > 0"):
            gamma_shape(np.array([0.5, bad]))


def _gamma_rows(seed: int, n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.gamma(0.7, 2.0, n), rng.gamma(12.0, 0.1, n)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gamma_m_step_matches_scipy_fit(seed: int) -> None:
    X = _gamma_rows(seed)
    fitted = Gamma([1.0, 1.0], [1.0, 1.0]).fit(X)
    for j in range(X.shape[1]):
        a, loc, scale = stats.gamma.fit(X[:, j], floc=0)
        assert loc == 0  # fixed by floc
        np.testing.assert_allclose(fitted.shape[j], a, rtol=1e-6)
        np.testing.assert_allclose(fitted.rate[j], 1.0 / scale, rtol=1e-6)


def test_gamma_weighted_m_step_is_the_fit_of_repeated_rows() -> None:
    X = _gamma_rows(3, 200)
    counts = np.random.default_rng(3).integers(0, 4, X.shape[0])
    weighted = Gamma([1.0, 1.0], [1.0, 1.0]).fit(X, counts.astype(float))
    repeated = np.repeat(X, counts, axis=0)
    for j in range(X.shape[1]):
        a, _, scale = stats.gamma.fit(repeated[:, j], floc=0)
        np.testing.assert_allclose(weighted.shape[j], a, rtol=1e-6)
        np.testing.assert_allclose(weighted.rate[j], 1.0 / scale, rtol=1e-6)


def _lognormal_rows(seed: int, n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.lognormal(-1.0, 0.2, n), rng.lognormal(3.0, 1.5, n)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lognormal_m_step_matches_scipy_fit(seed: int) -> None:
    X = _lognormal_rows(seed)
    fitted = LogNormal([0.0, 0.0], [1.0, 1.0], reg_var=0.0).fit(X)
    for j in range(X.shape[1]):
        s, loc, scale = stats.lognorm.fit(X[:, j], floc=0)
        assert loc == 0  # fixed by floc
        np.testing.assert_allclose(fitted.mu[j], np.log(scale), rtol=1e-6)
        np.testing.assert_allclose(fitted.sigma[j], s, rtol=1e-6)


def test_lognormal_weighted_m_step_and_reg_var() -> None:
    X = _lognormal_rows(4, 200)
    weights = np.random.default_rng(4).uniform(0.1, 3.0, X.shape[0])
    log_x = np.log(X)
    mu = weights @ log_x / weights.sum()
    variance = weights @ (log_x - mu) ** 2 / weights.sum()  # two-pass, for an independent check
    exact = LogNormal([0.0, 0.0], [1.0, 1.0], reg_var=0.0).fit(X, weights)
    np.testing.assert_allclose(exact.mu, mu, rtol=1e-12)
    np.testing.assert_allclose(exact.sigma**2, variance, rtol=1e-10)
    regularised = LogNormal([0.0, 0.0], [1.0, 1.0], reg_var=0.01).fit(X, weights)
    np.testing.assert_allclose(regularised.sigma**2, variance + 0.01, rtol=1e-10)
    assert regularised.reg_var == 0.01  # the M-step keeps its setting (a copy of the value)


# --------------------------------------------------------------------------------------------
# Rows outside the support, degenerate fits, model files
# --------------------------------------------------------------------------------------------

COMPONENTS = {
    "gamma": Gamma([2.0, 3.0], [1.0, 0.5]),
    "lognormal": LogNormal([0.0, 1.0], [0.5, 1.0]),
}


@pytest.mark.parametrize("name", list(COMPONENTS))
def test_rows_outside_the_support_have_log_density_minus_inf(name: str) -> None:
    component = COMPONENTS[name]
    X = np.array([[1.0, 2.0], [0.0, 2.0], [1.0, -3.0], [-1e-300, 1.0], [5e-324, 1.0]])
    values = component.log_density(X)
    assert np.isfinite(values[[0, 4]]).all()  # 5e-324 is the smallest positive float
    assert (values[1:4] == -np.inf).all()
    # (Not at 5e-324: scipy's lognorm multiplies x by sigma before its log and underflows.)
    np.testing.assert_allclose(values[:1], component.scipy_twin().logpdf(X[:1]), rtol=1e-12)
    # Rows outside are left out of the statistics: fitting with them changes nothing.
    inside = component.statistics(X[[0, 4]], np.ones(2))
    with_outside = component.statistics(X, np.ones(5))
    assert inside.weight == with_outside.weight == 2.0  # sums of two exact ones


@pytest.mark.parametrize("truth", [Gamma([3.0], [1.0]), LogNormal([1.0], [0.5])], ids=repr)
def test_a_gaussian_takes_the_rows_outside_the_support(truth: Gamma | LogNormal) -> None:
    rng = np.random.default_rng(5)
    positive_rows = truth.sample(1200, rng)
    negative_rows = rng.normal(-6.0, 1.0, (600, 1))
    X = np.concatenate([positive_rows, negative_rows])
    result = MixtureEM([truth, Gaussian([0.0], [[1.0]])], random_state=0).fit(X)
    proba = result.predict_proba(X)
    # Rows <= 0 have density 0 under the first component, so their responsibility is 0.
    assert (proba[X[:, 0] <= 0, 0] == 0.0).all()
    labels = result.predict(X)
    assert (labels[X[:, 0] <= 0] == 1).all()
    assert (labels[:1200] == 0).mean() > 0.99
    np.testing.assert_allclose(result.weights, [2 / 3, 1 / 3], atol=0.03)
    np.testing.assert_allclose(result.components[1].mean, [-6.0], atol=0.2)


@pytest.mark.parametrize("n_rows", [2, 50, 100_000])
@pytest.mark.parametrize("value", [1.0, 3.7, 1e-200, 1e200])
def test_rows_all_equal_are_degenerate(n_rows: int, value: float) -> None:
    X = np.column_stack([np.linspace(1.0, 2.0, n_rows), np.full(n_rows, value)])
    weights = np.random.default_rng(n_rows).uniform(0.1, 2.0, n_rows)
    for w in (None, weights):
        with pytest.raises(DegenerateComponentError, match="feature 1"):
            Gamma([1.0, 1.0], [1.0, 1.0]).fit(X, w)
        with pytest.raises(DegenerateComponentError, match="feature 1"):
            LogNormal([0.0, 0.0], [1.0, 1.0], reg_var=0.0).fit(X, w)
        # The regulariser keeps a collapsed log-normal proper.
        fitted = LogNormal([0.0, 0.0], [1.0, 1.0]).fit(X, w)
        # Its spread is rounding, taken as 0, so sigma is the regulariser's alone.
        np.testing.assert_allclose(fitted.sigma[1], np.sqrt(1e-6), rtol=1e-15)


def test_a_gamma_rate_beyond_the_float_range_is_degenerate() -> None:
    # Shape about 1e4 and mean about 1e-306: the rate, about 1e310, is not a float.
    X = 1e-306 * np.random.default_rng(6).gamma(1e4, 1e-4, (100, 1))
    with pytest.raises(DegenerateComponentError, match="rate of feature 0 overflowed"):
        Gamma([1.0], [1.0]).fit(X)
    rescaled = Gamma([1.0], [1.0]).fit(X * 1e306)
    assert 5e3 < rescaled.shape[0] < 2e4


def test_model_file_round_trip() -> None:
    for first, second in [
        (Gamma([2.0, 0.5], [4.0, 1.0]), Gamma([9.0, 1.0 / 3.0], [1.0, 0.1])),
        (LogNormal([0.0, -1.0], [0.3, 0.2]), LogNormal([2.0, 0.1], [0.4, 1.0], reg_var=0.0)),
    ]:
        document = model_file.model_to_dict(Mixture([0.5, 0.5], [first, second]))
        document = json.loads(json.dumps(document))  # as written to and read from a file
        restored = model_file.model_from_dict(document).mixture.components
        # Floats survive JSON exactly (Python writes the shortest repr that reads back).
        assert list(restored) == [first, second]
        assert [type(c) for c in restored] == [type(first), type(second)]


# --------------------------------------------------------------------------------------------
# Recovery by EM
# --------------------------------------------------------------------------------------------

N_REPLICATES = 20
N_ROWS = 1500
RECOVERY = {
    "gamma": ((Gamma([2.0], [4.0]), Gamma([9.0], [1.0])), Gamma([1.0], [1.0])),
    "lognormal": ((LogNormal([0.0], [0.3]), LogNormal([2.0], [0.4])), LogNormal([0.0], [1.0])),
}


def _flat(weight: float, components: tuple) -> np.ndarray:
    values = [np.concatenate(list(c.parameters.values())) for c in components]
    return np.concatenate([[weight], *values])


@pytest.mark.parametrize("name", list(RECOVERY))
def test_em_recovers_the_parameters_within_five_standard_errors(name: str) -> None:
    truth, template = RECOVERY[name]
    estimates = []
    for replicate in range(N_REPLICATES):
        rng = np.random.default_rng([17, replicate])
        second = rng.random(N_ROWS) < 0.6
        X = np.where(second[:, None], truth[1].sample(N_ROWS, rng), truth[0].sample(N_ROWS, rng))
        result = MixtureEM([template, template], random_state=replicate).fit(X)
        order = np.argsort([c.mean[0] for c in result.components])
        fitted = tuple(result.components[k] for k in order)
        estimates.append(_flat(result.weights[order[1]], fitted))
    estimates = np.array(estimates)
    expected = _flat(0.6, truth)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(N_REPLICATES)
    error = np.abs(estimates.mean(axis=0) - expected)
    assert (error < 5 * standard_error).all(), (error / standard_error).round(2)
