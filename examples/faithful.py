"""Fit Gaussian mixtures to Old Faithful with the EM engine and plot the best one.

Run: python examples/faithful.py [output.png]

For each covariance structure and 1 to 4 components it fits a mixture (to a tolerance of
1e-6 in mean log-likelihood, best of 5 k-means starts), prints the final mean
log-likelihood and the Bayesian information criterion BIC = -2 log L + p log n (lower is
better), then draws the lowest-BIC model:
rows coloured by most probable component, with 1, 2 and 3 sigma ellipses.
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse

from mixture import (
    DiagonalCovariance,
    FullCovariance,
    GaussianFamily,
    MixtureEM,
    SphericalCovariance,
    TiedCovariance,
)
from mixture.datasets import load_faithful


def draw(result, X: np.ndarray, names: list[str], path: str) -> None:
    figure, axes = plt.subplots(figsize=(6, 4.5))
    labels = result.predict(X)
    axes.scatter(X[:, 0], X[:, 1], c=labels, s=12, cmap="tab10", vmin=0, vmax=9)
    for k, component in enumerate(result.components):
        values, vectors = np.linalg.eigh(component.covariance_matrix)
        angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1]))
        for sigma in (1, 2, 3):
            width, height = 2 * sigma * np.sqrt(values[::-1])
            axes.add_patch(
                Ellipse(
                    component.mean,
                    width,
                    height,
                    angle=angle,
                    fill=False,
                    color=plt.get_cmap("tab10")(k),
                    alpha=0.8 / sigma,
                )
            )
    axes.set_xlabel(names[0])
    axes.set_ylabel(names[1])
    axes.set_title(f"Old Faithful: {result.n_components} components")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(path: str = "faithful.png") -> None:
    X, names = load_faithful()
    print(f"Old Faithful: {X.shape[0]} eruptions, columns {names}\n")
    print(f"{'covariance':<10} {'K':>2} {'iter':>4} {'log-lik/row':>12} {'params':>6} {'BIC':>9}")
    best = None
    for structure in (
        FullCovariance(),
        TiedCovariance(),
        DiagonalCovariance(),
        SphericalCovariance(),
    ):
        for n_components in range(1, 5):
            em = MixtureEM(
                GaussianFamily(n_components, structure),
                tol=1e-6,
                max_iter=1000,
                n_init=5,
                random_state=0,
            )
            result = em.fit(X)
            score = result.bic(X)
            print(
                f"{structure.name:<10} {n_components:>2} {result.n_iter:>4} "
                f"{result.lower_bound:>12.4f} {result.n_parameters:>6} {score:>9.2f}"
            )
            if best is None or score < best[0]:
                best = (score, structure, result)
    score, structure, result = best
    print(
        f"\nlowest BIC: {structure.name} covariance, {result.n_components} components "
        f"(BIC {score:.2f})"
    )
    for k, component in enumerate(result.components):
        print(
            f"  component {k}: weight {result.weights[k]:.3f}, "
            f"mean {np.round(component.mean, 3).tolist()}"
        )
    draw(result, X, names, path)
    print(f"\nplot written to {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
