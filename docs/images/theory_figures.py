"""Draw the figures of docs/theory.md: responsibilities on Old Faithful, and EM's ascent.

Run: python docs/images/theory_figures.py [output directory]

Both figures use Old Faithful (`mixture.datasets.load_faithful`), standardised to zero mean
and unit variance, and two full-covariance Gaussians started deliberately badly: means at
(-1.5, 0.5) and (1.5, -0.5), identity covariances, equal weights (the start of
examples/08_em_steps.py).

- theory_responsibilities.png: each row coloured by its responsibilities, a mix of red
  (component 1) and blue (component 2) in the proportions gamma_n1 : gamma_n2, with each
  component's 1- and 2-sigma ellipses; left under the starting parameters (the first
  E-step), right after EM has converged.
- theory_log_likelihood.png: the mean log-likelihood per row at each iteration from that
  start and from the default k-means start (left), and its distance from the final value on
  a log scale (right): EM converges linearly, a straight line there.

Writes only the two PNG files, by default next to this script.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.patches import Ellipse
from matplotlib.ticker import MaxNLocator

from mixture import (
    FullCovariance,
    GaussianFamily,
    GivenParameters,
    History,
    Mixture,
    MixtureEM,
)
from mixture.datasets import load_faithful

RED = np.array([0.84, 0.15, 0.16])
BLUE = np.array([0.12, 0.30, 0.85])
POOR_MEANS = [[-1.5, 0.5], [1.5, -0.5]]


def standardised_faithful() -> np.ndarray:
    X, _ = load_faithful()
    return (X - X.mean(axis=0)) / X.std(axis=0)


def poor_start() -> Mixture:
    family = GaussianFamily(2, FullCovariance(), means=POOR_MEANS, covariances=[np.eye(2)] * 2)
    return Mixture([0.5, 0.5], family)


def fit(X: np.ndarray, start: Mixture | None) -> tuple[list[float], list[Mixture]]:
    """EM to a tight tolerance; the log-likelihoods and the mixture after each iteration."""
    history = History(keep_mixtures=True)
    initializer = None if start is None else GivenParameters(start)
    em = MixtureEM(
        GaussianFamily(2, FullCovariance()),
        initializer=initializer,
        tol=1e-10,
        max_iter=500,
        callbacks=[history],
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a figure of a failed fit would mislead
        em.fit(X)
    return history.log_likelihoods(), history.mixtures()


def soft_colours(gamma: np.ndarray) -> np.ndarray:
    """RGB of each row: red and blue mixed in the proportions of its responsibilities."""
    return np.clip(gamma[:, :1] * RED + gamma[:, 1:2] * BLUE, 0.0, 1.0)


def draw_mixture(ax, X: np.ndarray, mixture: Mixture, title: str) -> None:
    gamma = mixture.predict_proba(X)
    ax.scatter(X[:, 0], X[:, 1], c=soft_colours(gamma), s=16, linewidths=0)
    family = mixture.family
    for k, colour in enumerate((RED, BLUE)):
        values, vectors = np.linalg.eigh(family.covariance_matrices[k])
        angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1]))
        for sigma, style in ((1.0, "-"), (2.0, "--")):
            width, height = 2.0 * sigma * np.sqrt(values[::-1])
            ax.add_patch(
                Ellipse(
                    family.means[k],
                    width,
                    height,
                    angle=angle,
                    fill=False,
                    edgecolor=colour,
                    linestyle=style,
                    linewidth=1.5,
                )
            )
        ax.plot(*family.means[k], marker="+", color="black", markersize=9, mew=1.5)
    ax.set_title(title, fontsize=10)
    ax.set_xlim(-2.6, 2.6)
    ax.set_ylim(-2.6, 2.6)
    ax.set_aspect("equal")
    ax.set_xlabel("eruption length (standardised)")


def responsibilities_figure(X: np.ndarray, start: Mixture, final: Mixture, path: Path) -> None:
    figure, axes = plt.subplots(1, 2, figsize=(10.0, 5.0), layout="constrained")
    draw_mixture(axes[0], X, start, "start: the first E-step's $\\gamma_{nk}$")
    draw_mixture(axes[1], X, final, "after EM has converged")
    axes[0].set_ylabel("waiting time (standardised)")
    scale = LinearSegmentedColormap.from_list("gamma", [BLUE, RED])
    bar = figure.colorbar(
        ScalarMappable(Normalize(0.0, 1.0), scale), ax=axes, shrink=0.85, pad=0.02
    )
    bar.set_label("$\\gamma_{n1}$ (red: component 1; blue: component 2)")
    figure.suptitle(
        "Old Faithful, two Gaussians: rows coloured by their responsibilities, "
        "1- and 2-sigma ellipses",
        fontsize=11,
    )
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)


def log_likelihood_figure(poor: list[float], kmeans: list[float], path: Path) -> None:
    figure, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.8), layout="constrained")
    final = max(poor[-1], kmeans[-1])
    for values, label, colour in (
        (poor, "poor start (examples/08)", "black"),
        (kmeans, "k-means start (the default)", "tab:orange"),
    ):
        iterations = np.arange(1, len(values) + 1)
        left.plot(iterations, values, marker="o", markersize=3, color=colour, label=label)
        gap = final - np.asarray(values)
        shown = gap > 1e-12
        right.semilogy(iterations[shown], gap[shown], marker="o", markersize=3, color=colour)
    left.axhline(final, color="0.5", linestyle="--", linewidth=1)
    left.set_xlabel("iteration t")
    left.set_ylabel("mean log-likelihood per row, $L / N$")
    left.set_title("the log-likelihood never decreases", fontsize=10)
    left.legend(fontsize=9, loc="lower right")
    right.set_xlabel("iteration t")
    right.set_ylabel("distance from the final value")
    right.set_title("near the maximum, a straight line: linear convergence", fontsize=10)
    for ax in (left, right):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv: list[str]) -> None:
    directory = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    started = time.perf_counter()
    X = standardised_faithful()
    start = poor_start()
    poor, mixtures = fit(X, start)
    kmeans, _ = fit(X, None)
    responsibilities_figure(X, start, mixtures[-1], directory / "theory_responsibilities.png")
    log_likelihood_figure(poor, kmeans, directory / "theory_log_likelihood.png")
    print(f"poor start: {len(poor)} iterations, {poor[0]:.4f} -> {poor[-1]:.6f}")
    print(f"k-means start: {len(kmeans)} iterations, {kmeans[0]:.4f} -> {kmeans[-1]:.6f}")
    print(f"wrote the figures to {directory} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main(sys.argv)
