"""A new component type from scratch: the von Mises distribution for angles.

Run: python examples/03_custom_component.py [output.png]

Writes the component (the class below is the whole of it), runs it through the conformance
kit, and fits a two-component mixture of wind directions. See docs/extending.md.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy import optimize, special, stats

from mixture import Component, MixtureEM, RandomRows, Statistics
from mixture.testing import check_component
from mixture.twins import IndependentTwin


@dataclass(frozen=True)
class CircularStatistics(Statistics):
    weight: float  # sum of w
    cosine: np.ndarray  # sum of w cos(x), one per feature
    sine: np.ndarray  # sum of w sin(x)

    def __add__(self, other):
        return CircularStatistics(
            self.weight + other.weight, self.cosine + other.cosine, self.sine + other.sine
        )

    def scale(self, factor):
        return CircularStatistics(self.weight * factor, self.cosine * factor, self.sine * factor)

    @property
    def total_weight(self):
        return self.weight


def _concentration(resultant: float) -> float:
    """Solve I1(k) / I0(k) = resultant for k (the maximum-likelihood concentration)."""
    ratio = lambda k: special.i1e(k) / special.i0e(k) - resultant  # noqa: E731
    return optimize.brentq(ratio, 1e-8, 1e6) if resultant > 1e-8 else 1e-8


class VonMises(Component):
    """Independent angles (radians), each von Mises with ``loc`` and ``concentration``."""

    def __init__(self, loc, concentration):
        self.loc = np.array(loc, dtype=float)
        self.concentration = np.array(concentration, dtype=float)
        if self.loc.ndim != 1 or self.loc.shape != self.concentration.shape:
            raise ValueError("loc and concentration must be 1-D arrays of the same length")
        if not (np.isfinite(self.loc).all() and (self.concentration > 0).all()):
            raise ValueError("loc must be finite and concentration positive")

    n_features = property(lambda self: self.loc.shape[0])
    n_parameters = property(lambda self: 2 * self.loc.shape[0])

    def log_density(self, X):
        k = self.concentration
        return (k * np.cos(X - self.loc) - np.log(2 * np.pi * special.i0e(k)) - k).sum(axis=1)

    def statistics(self, X, weights):
        return CircularStatistics(float(weights.sum()), weights @ np.cos(X), weights @ np.sin(X))

    def from_statistics(self, s):
        resultant = np.hypot(s.cosine, s.sine) / s.weight
        return VonMises(np.arctan2(s.sine, s.cosine), [_concentration(r) for r in resultant])

    def sample(self, n, rng):
        return rng.vonmises(self.loc, self.concentration, size=(n, self.n_features))

    def scipy_twin(self):
        parts = zip(self.concentration, self.loc, strict=True)
        return IndependentTwin([stats.vonmises(k, loc=m) for k, m in parts])


def main(path: str = "wind_directions.png") -> None:
    report = check_component(
        VonMises([0.5], [3.0]),
        invalid=[
            {"loc": [0.0], "concentration": [-1.0]},
            {"loc": [0.0, 1.0], "concentration": [1.0]},
        ],
        n_parameters=2,
    )
    print(report, end="\n\n")

    rng = np.random.default_rng(0)  # westerlies and a weaker easterly sea breeze
    X = np.concatenate([rng.vonmises(-2.6, 4.0, (700, 1)), rng.vonmises(1.2, 8.0, (300, 1))])
    template = [VonMises([0.0], [1.0]), VonMises([0.0], [1.0])]
    result = MixtureEM(template, initializer=RandomRows(), random_state=0).fit(X)
    for weight, component in zip(result.weights, result.components, strict=True):
        print(
            f"weight {weight:.3f}  loc {component.loc[0]:+.3f}  "
            f"concentration {component.concentration[0]:.2f}"
        )

    angles = np.linspace(-np.pi, np.pi, 361)[:, None]
    axes = plt.figure(figsize=(4.5, 4.5)).add_subplot(projection="polar")
    axes.hist(X[:, 0], bins=48, density=True, alpha=0.4)
    axes.plot(angles[:, 0], np.exp(result.score_samples(angles)))
    axes.set_title("Wind directions: mixture of two von Mises")
    plt.savefig(path, dpi=110)
    print(f"\nplot written to {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
