"""
Select a Gaussian mixture for Old Faithful by BIC and plot it
=============================================================

Fits every covariance structure (full, tied, diagonal, spherical) with 1 to 9 components,
prints the table of log-likelihoods and criteria (BIC = -2 log L + p log n, lower is
better), then draws the lowest-BIC model: rows coloured by most probable component, with
1, 2 and 3 sigma ellipses. The reference result is tied covariance with 3 components,
BIC 2314.3.

Run: python examples/02_model_selection.py [output.png]
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse

from mixture import select_model
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
    selection = select_model(X, n_components=range(1, 10), criterion="bic", random_state=0)
    print(selection)
    best = selection.best_model
    print()
    for k, component in enumerate(best.components):
        print(
            f"component {k}: weight {best.weights[k]:.3f}, "
            f"mean {np.round(component.mean, 3).tolist()}"
        )
    draw(best, X, names, path)
    print(f"\nplot written to {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
