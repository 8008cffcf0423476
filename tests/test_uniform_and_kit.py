"""The Uniform noise component, and the conformance kit catching broken components."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pytest

from mixture import (
    FullCovariance,
    Gaussian,
    GivenParameters,
    Mixture,
    MixtureEM,
    Statistics,
    model_file,
)
from mixture.components.uniform import Uniform
from mixture.constraints import non_negative_reals
from mixture.contract import Component
from mixture.testing import check_component
from mixture.twins import IndependentTwin

# -- Uniform --------------------------------------------------------------------------------


def test_uniform_passes_the_kit() -> None:
    report = check_component(
        Uniform([0.0, -1.0], [2.0, 3.0]),
        invalid=[
            {"low": [0.0], "high": [0.0]},
            {"low": [0.0, 0.0], "high": [1.0]},
            {"low": [[0.0]], "high": [[1.0]]},
            {"low": [0.0], "high": [np.inf]},
        ],
        n_parameters=0,
    )
    assert "fixed: the M-step returns the component unchanged" in report.passed
    assert not report.not_run


def test_covering_box_contains_every_row_and_rejects_constant_features() -> None:
    X = np.random.default_rng(0).normal(size=(500, 3))
    box = Uniform.covering(X, margin=0.1)
    assert np.isfinite(box.log_density(X)).all()
    width = X.max(axis=0) - X.min(axis=0)
    np.testing.assert_allclose(box.high - box.low, 1.2 * width)
    outside = X.max(axis=0) + width
    assert box.log_density(outside[None])[0] == -np.inf
    with pytest.raises(ValueError, match="feature 1 of X is constant"):
        Uniform.covering(np.column_stack([X[:, 0], np.ones(500)]))


def test_gaussian_plus_noise_recovers_the_cluster_and_the_noise_share() -> None:
    rng = np.random.default_rng(1)
    n_cluster, n_noise = 9000, 1000
    cluster = rng.multivariate_normal([1.0, -1.0], [[1.0, 0.4], [0.4, 0.5]], n_cluster)
    noise = rng.uniform([-20.0, -20.0], [20.0, 20.0], (n_noise, 2))
    X = np.concatenate([cluster, noise])
    background = Uniform([-20.0, -20.0], [20.0, 20.0])
    start = Mixture([0.5, 0.5], [Gaussian([0.0, 0.0], np.eye(2)), background])
    result = MixtureEM(
        [Gaussian([0.0, 0.0], np.eye(2)), background], initializer=GivenParameters(start)
    ).fit(X)
    gaussian, uniform = result.components
    assert uniform is background or isinstance(uniform, Uniform)
    # The noise share is recovered within a few standard errors of a binomial proportion.
    assert result.weights[1] == pytest.approx(0.1, abs=5 * np.sqrt(0.09 / 10000) + 0.005)
    np.testing.assert_allclose(gaussian.mean, [1.0, -1.0], atol=0.05)
    np.testing.assert_allclose(gaussian.covariance, [[1.0, 0.4], [0.4, 0.5]], atol=0.06)
    # Without the background, the Gaussian's covariance is inflated by the noise.
    alone = Gaussian([0.0, 0.0], np.eye(2), structure=FullCovariance()).fit(X)
    assert alone.covariance[0, 0] > 5.0


# -- the kit fails on broken components -----------------------------------------------------


@dataclass(frozen=True)
class RateStatistics(Statistics):
    weight: float
    weighted_sum: np.ndarray

    def __add__(self, other):
        return RateStatistics(self.weight + other.weight, self.weighted_sum + other.weighted_sum)

    def scale(self, factor):
        return RateStatistics(self.weight * factor, self.weighted_sum * factor)

    @property
    def total_weight(self):
        return self.weight


class Exponential(Component):
    """Independent exponential features written by hand on the plain contract, with
    switches that break one law each."""

    fault = ""
    support = non_negative_reals

    def __init__(self, rate):
        self.rate = np.asarray(rate, dtype=float)
        if self.rate.ndim != 1 or not (self.rate > 0).all():
            raise ValueError("rate must be a 1-D array of positive numbers")

    def __repr__(self):
        if self.fault == "repr":
            return object.__repr__(self)
        return f"{type(self).__name__}({self.rate.tolist()})"

    n_features = property(lambda self: self.rate.shape[0])

    @property
    def n_parameters(self):
        return self.rate.shape[0] + (1 if self.fault == "count" else 0)

    mean = property(lambda self: 1.0 / self.rate)
    variance = property(lambda self: 1.0 / self.rate**2)

    def log_density(self, X):
        values = np.log(self.rate).sum() - X @ self.rate
        if self.fault == "support":
            return values
        return np.where(self.support.contains(X), values, -np.inf)

    def statistics(self, X, weights):
        if self.fault == "not additive":
            weights = weights / max(weights.sum(), 1e-300)  # normalises per chunk
        if self.fault != "support":
            weights = np.where(self.support.contains(X), weights, 0.0)
        return RateStatistics(float(weights.sum()), weights @ X)

    def from_statistics(self, stats):
        rate = stats.weight / stats.weighted_sum
        if self.fault == "descent":
            rate = rate * 3.0
        return type(self)(rate)

    def sample(self, n, rng):
        scale = 1.0 / self.rate * (1.2 if self.fault == "sampling" else 1.0)
        return rng.exponential(scale, size=(n, self.n_features))

    def scipy_twin(self):
        from scipy.stats import expon

        factor = 1.5 if self.fault == "twin" else 1.0
        return IndependentTwin([expon(scale=factor / r) for r in self.rate])


class TwinFault(Exponential):
    fault = "twin"


class SamplingFault(Exponential):
    fault = "sampling"


class AdditivityFault(Exponential):
    fault = "not additive"


class DescentFault(Exponential):
    fault = "descent"


class CountFault(Exponential):
    fault = "count"


class SupportFault(Exponential):
    """Declares x >= 0 but neither masks its density nor its statistics there."""

    fault = "support"


class ReprFault(Exponential):
    fault = "repr"


FAULTY = {
    c.fault: c
    for c in (TwinFault, SamplingFault, AdditivityFault, DescentFault, CountFault, SupportFault)
}
FAULTY["repr"] = ReprFault


def test_the_sound_component_passes_once_registered_for_model_files() -> None:
    def check():
        return check_component(
            Exponential([1.5, 0.3]), invalid=[{"rate": [-1.0]}], n_parameters=2, n_samples=5000
        )

    assert "not registered for model files" in check().not_run["model file round trip"]
    model_file.register(
        Exponential,
        "test_uniform_and_kit.Exponential",
        lambda c: {"rate": c.rate.tolist()},
        lambda d: Exponential(d["rate"]),
    )
    report = check()
    assert not report.not_run
    assert "model file round trip" in report.passed


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("twin", "scipy twin"),
        ("sampling", "sample"),
        ("not additive", "chunk split|weights times|repeated rows|zero weight"),
        ("descent", "lowered the weighted log-likelihood|chunk split|weights"),
        ("count", "n_parameters is 3; expected 2"),
        ("support", "outside the declared support but has log-density"),
        ("repr", "Python's default"),
    ],
)
def test_the_kit_catches_each_fault(fault: str, message: str) -> None:
    component = FAULTY[fault]([1.5, 0.3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(AssertionError, match=message):
            check_component(component, n_parameters=2, n_samples=5000)


def test_the_kit_catches_accepted_invalid_parameters() -> None:
    with pytest.raises(AssertionError, match="were accepted"):
        check_component(Exponential([1.0]), invalid=[{"rate": [2.0]}], n_samples=2000)
