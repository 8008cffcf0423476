"""Draw mclust's 14 covariance models fitted with three components to Old Faithful.

Run: python docs/images/covariance_models.py [output.png]

The two columns (eruption length, waiting time) are standardised to zero mean and unit
variance, so that spherical and axis-aligned shapes mean the same thing on both axes. Every
model is fitted with three components by `select_model`'s default robust start
(hierarchical, split and ten k-means starts, the best fit kept: fewer k-means starts leave
some models, VVV among them, at poorer local maxima). Each panel shows the rows
coloured by their most probable component and each component's 1- and 2-sigma ellipses,
titled with the model's name, its number of free parameters (means and weights included)
and its BIC (lower is better), of the standardised data. The panels follow mclust's order;
the model with the lowest BIC is starred. Writes only the output path, by default
covariance_models.png next to this script.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse

from mixture import select_model
from mixture.datasets import load_faithful
from mixture.gaussian import MCLUST_NAMES, structure_named

COLUMNS = ("eruptions", "waiting")
N_COMPONENTS = 3
SIGMAS = (1.0, 2.0)


def load() -> np.ndarray:
    """Old Faithful's two columns (the bundled copy), standardised (population standard
    deviation)."""
    data, names = load_faithful()
    X = np.ascontiguousarray(data[:, [list(names).index(name) for name in COLUMNS]])
    return (X - X.mean(axis=0)) / X.std(axis=0)


def fit_all(X: np.ndarray):
    """Every model with N_COMPONENTS components: the candidates, in mclust's order."""
    selection = select_model(
        X,
        n_components=[N_COMPONENTS],
        structures=[structure_named(name) for name in MCLUST_NAMES],
        tol=1e-8,
        max_iter=2000,
        n_init=10,
        random_state=0,
    )
    return selection.candidates


def ellipse(mean: np.ndarray, covariance: np.ndarray, sigma: float, colour) -> Ellipse:
    values, vectors = np.linalg.eigh(covariance)  # ascending: the last is the major axis
    angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1]))
    width, height = 2.0 * sigma * np.sqrt(values[::-1])
    return Ellipse(
        mean,
        width,
        height,
        angle=angle,
        fill=False,
        edgecolor=colour,
        linewidth=1.4 if sigma == 1.0 else 0.9,
        linestyle="-" if sigma == 1.0 else "--",
    )


def draw_panel(ax, X: np.ndarray, name: str, candidate, best: bool) -> None:
    result = candidate.result
    means = result.family.means
    covariances = result.family.covariance_matrices
    # Order the components by their mean eruption length, so that colours correspond from
    # panel to panel (the short-eruption component is always the first colour).
    order = np.argsort(means[:, 0])
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    labels = rank[result.predict(X)]
    colours = plt.get_cmap("tab10")(np.arange(N_COMPONENTS))
    ax.scatter(X[:, 0], X[:, 1], c=colours[labels], s=5, alpha=0.55, linewidths=0)
    for position, k in enumerate(order):
        for sigma in SIGMAS:
            ax.add_patch(ellipse(means[k], covariances[k], sigma, colours[position]))
        ax.plot(*means[k], marker="+", color="black", markersize=6, mew=1.0)
    structure = structure_named(name)
    alias = f" ({structure.name})" if structure.name != name else ""
    star = " *" if best else ""
    if candidate.degenerate is not None:
        star += " (degenerate)"
    ax.set_title(
        f"{name}{alias}{star}\n{candidate.n_parameters} parameters, BIC {candidate.bic:.1f}",
        fontsize=9,
        fontweight="bold" if best else "normal",
    )
    ax.set_aspect("equal")
    ax.tick_params(labelsize=7)


def draw(X: np.ndarray, candidates, path: Path) -> None:
    figure, axes = plt.subplots(4, 4, figsize=(10.5, 11.0), sharex=True, sharey=True)
    best = min(range(len(candidates)), key=lambda i: candidates[i].bic)
    for i, (name, candidate) in enumerate(zip(MCLUST_NAMES, candidates, strict=True)):
        draw_panel(axes.flat[i], X, name, candidate, best=i == best)
    for ax in axes.flat[len(candidates) :]:
        ax.axis("off")
    legend = axes.flat[len(candidates)]
    legend.text(
        0.0,
        0.5,
        "Old Faithful, standardised\n"
        f"K = {N_COMPONENTS} components\n\n"
        "solid: 1-sigma ellipse\n"
        "dashed: 2-sigma ellipse\n"
        "+: component mean\n\n"
        "BIC = -2 log L + p log n\n"
        "(lower is better; * lowest)",
        fontsize=9,
        va="center",
        ha="left",
        transform=legend.transAxes,
    )
    limit = np.abs(X).max() * 1.15
    axes.flat[0].set_xlim(-limit, limit)
    axes.flat[0].set_ylim(-limit, limit)
    for ax in (*axes[-1, :2], *axes[-2, 2:]):  # the bottom panel of each column
        ax.xaxis.set_tick_params(labelbottom=True)
        ax.set_xlabel("eruptions (sd)", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("waiting (sd)", fontsize=8)
    figure.suptitle(
        r"mclust's 14 covariance models, $\Sigma_k = \lambda_k D_k A_k D_k^\top$: volume, "
        "shape, orientation Equal, Variable or Identity",
        fontsize=11,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str]) -> None:
    output = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("covariance_models.png")
    start = time.perf_counter()
    X = load()
    candidates = fit_all(X)
    draw(X, candidates, output)
    for name, candidate in zip(MCLUST_NAMES, candidates, strict=True):
        print(
            f"{name}  {candidate.n_parameters:3d} parameters  BIC {candidate.bic:9.3f}  "
            f"start {candidate.start}"
        )
    print(f"wrote {output} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main(sys.argv)
