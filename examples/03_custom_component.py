"""
A new component type by declaration: a Weibull distribution with a fixed shape
==============================================================================

Declares the component (the class below is the whole of it: its parameter, its setting, its
support and four lines of maths), runs it through the conformance kit, and fits a
two-regime mixture of wind speeds: calm days (shape 2, the Rayleigh law) and stormy days
(shape 3.5). With the shape fixed, the M-step is closed-form: ``scale**k`` is the weighted
mean of ``x**k``. See docs/extending.md.

Run: python examples/03_custom_component.py [output.png]
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy import special, stats

from mixture import MixtureEM
from mixture.constraints import positive, positive_number, positive_reals
from mixture.declared import Parameter, Setting, WeightedSumsComponent
from mixture.testing import check_component
from mixture.twins import IndependentTwin


class Weibull(WeightedSumsComponent):
    """Independent Weibull features, ``p(x) = (k/s) (x/s)**(k-1) exp(-(x/s)**k)``, ``x > 0``,
    with the shape ``k`` fixed and the scale ``s`` fitted."""

    scale = Parameter(positive, "Scale of each feature, shape (n_features,).")
    shape = Setting(positive_number, 2.0, "The shape k, kept by the M-step.")
    support = positive_reals

    mean = property(lambda self: self.scale * special.gamma(1.0 + 1.0 / self.shape))
    variance = property(
        lambda self: self.scale**2 * special.gamma(1.0 + 2.0 / self.shape) - self.mean**2
    )

    def log_density_inside(self, X: np.ndarray) -> np.ndarray:
        k, z = self.shape, X / self.scale
        return (np.log(k / self.scale) + (k - 1.0) * np.log(z) - z**k).sum(axis=1)

    def row_features(self, X: np.ndarray) -> tuple[np.ndarray]:
        return (X**self.shape,)

    def from_means(self, means: tuple[np.ndarray, ...], weight: float) -> Weibull:
        return self.replace(scale=means[0] ** (1.0 / self.shape))

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return self.scale * rng.weibull(self.shape, size=(n_samples, self.n_features))

    def scipy_twin(self) -> IndependentTwin:
        return IndependentTwin([stats.weibull_min(self.shape, scale=s) for s in self.scale])


def main(path: str = "wind_speeds.png") -> None:
    report = check_component(
        Weibull([4.0], shape=2.0),
        invalid=[{"scale": [-1.0]}, {"scale": [1.0], "shape": 0.0}, {"scale": [[1.0]]}],
        n_parameters=1,
    )
    print(report, end="\n\n")

    rng = np.random.default_rng(0)  # hourly wind speeds (m/s): 60% calm, 40% stormy
    calm, stormy = Weibull([4.0], shape=2.0), Weibull([11.0], shape=3.5)
    X = np.concatenate([calm.sample(1200, rng), stormy.sample(800, rng)])
    template = [Weibull([1.0], shape=2.0), Weibull([1.0], shape=3.5)]
    result = MixtureEM(template, random_state=0).fit(X)
    for weight, component in zip(result.weights, result.components, strict=True):
        print(f"shape {component.shape:.1f}  weight {weight:.3f}  scale {component.scale[0]:.2f}")

    speeds = np.linspace(0.01, X.max(), 400)[:, None]
    axes = plt.figure(figsize=(6, 4)).add_subplot()
    axes.hist(X[:, 0], bins=60, density=True, alpha=0.4, label="data")
    for weight, component in zip(result.weights, result.components, strict=True):
        part = weight * np.exp(component.log_density(speeds))
        axes.plot(speeds[:, 0], part, "--", label=f"shape {component.shape:g}")
    axes.plot(speeds[:, 0], np.exp(result.score_samples(speeds)), label="mixture")
    axes.set(xlabel="wind speed (m/s)", ylabel="density")
    axes.set_title("Wind speeds: mixture of two Weibulls")
    axes.legend()
    plt.savefig(path, dpi=110)
    print(f"\nplot written to {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
