"""Plots of data and fitted mixtures (matplotlib). Functions take and return Axes.

Ellipses and density contours need components with a ``mean`` and a
``covariance_matrix`` (the Gaussians); other components still get labels, uncertainty,
criterion curves and traces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mixture.model import Mixture

__all__ = [
    "criterion_curves",
    "density_contours",
    "em_snapshots",
    "log_likelihood_trace",
    "pairwise",
    "scatter",
    "uncertainty",
]

_COLOURS = "tab10"
_MARKERS = "osD^v<>pPX*hdH"


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(5.5, 4.5)).add_subplot()


def _colour(k: int) -> Any:
    import matplotlib.pyplot as plt

    return plt.get_cmap(_COLOURS)(k % 10)


def _gaussian_parts(mixture: Mixture, columns: Sequence[int]) -> list[tuple[np.ndarray, ...]]:
    """(mean, covariance) of each component on two columns, if the components have them."""
    parts = []
    index = np.asarray(columns)
    for component in mixture.components:
        mean = getattr(component, "mean", None)
        covariance = getattr(component, "covariance_matrix", None)
        if mean is None or covariance is None:
            return []
        parts.append((np.asarray(mean)[index], np.asarray(covariance)[np.ix_(index, index)]))
    return parts


def scatter(
    X: np.ndarray,
    mixture: Mixture,
    *,
    columns: Sequence[int] = (0, 1),
    sigmas: Sequence[float] = (1, 2, 3),
    names: Sequence[str] | None = None,
    ax: Any = None,
) -> Any:
    """Rows coloured by most probable component, with 1, 2, 3 sigma ellipses.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    mixture : Mixture
    columns : pair of int
        The two features to draw.
    sigmas : sequence of float
        Ellipse radii in standard deviations (empty for none).
    names : sequence of str, optional
        Feature names for the axis labels.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.patches import Ellipse

    ax = _axes(ax)
    X = np.asarray(X)
    labels = mixture.predict(X)
    i, j = columns
    ax.scatter(X[:, i], X[:, j], c=[_colour(k) for k in labels], s=10, alpha=0.8)
    for k, (mean, covariance) in enumerate(_gaussian_parts(mixture, columns)):
        values, vectors = np.linalg.eigh(covariance)
        angle = float(np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1])))
        for sigma in sigmas:
            width, height = 2 * sigma * np.sqrt(np.maximum(values[::-1], 0.0))
            ax.add_patch(
                Ellipse(
                    tuple(mean),
                    width,
                    height,
                    angle=angle,
                    fill=False,
                    color=_colour(k),
                    alpha=min(1.0, 0.9 / sigma),
                    linewidth=1.5,
                )
            )
    _label(ax, names, columns)
    return ax


def _label(ax: Any, names: Sequence[str] | None, columns: Sequence[int]) -> None:
    i, j = columns
    ax.set_xlabel(names[i] if names else f"feature {i}")
    ax.set_ylabel(names[j] if names else f"feature {j}")


def density_contours(
    X: np.ndarray,
    mixture: Mixture,
    *,
    columns: Sequence[int] = (0, 1),
    levels: int = 12,
    names: Sequence[str] | None = None,
    ax: Any = None,
) -> Any:
    """Contours of the mixture density over two features, with the rows.

    For two-feature data the density itself; for more features, the two-feature marginal
    of a Gaussian mixture (exact for Gaussian components).
    """
    from matplotlib.colors import LogNorm

    ax = _axes(ax)
    X = np.asarray(X)
    i, j = columns
    pad = 0.1 * (X[:, [i, j]].max(axis=0) - X[:, [i, j]].min(axis=0))
    low, high = X[:, [i, j]].min(axis=0) - pad, X[:, [i, j]].max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], 150), np.linspace(low[1], high[1], 150))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    density = _marginal_density(mixture, grid, columns).reshape(gx.shape)
    positive = density[density > 0]
    if positive.size:
        bounds = np.geomspace(max(positive.min(), positive.max() * 1e-4), positive.max(), levels)
        ax.contour(gx, gy, density, levels=bounds, norm=LogNorm(), cmap="viridis")
    ax.scatter(X[:, i], X[:, j], s=6, color="0.3", alpha=0.6)
    _label(ax, names, columns)
    return ax


def _marginal_density(mixture: Mixture, grid: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    if mixture.n_features == 2 and tuple(columns) == (0, 1):
        return np.exp(mixture.score_samples(grid))
    parts = _gaussian_parts(mixture, columns)
    if not parts:
        raise ValueError(
            "density contours over two of several features need Gaussian components "
            "(a mean and a covariance_matrix)"
        )
    from scipy.stats import multivariate_normal

    return sum(
        w * multivariate_normal(mean, cov).pdf(grid)
        for w, (mean, cov) in zip(mixture.weights, parts, strict=True)
    )


def criterion_curves(selection: Any, *, criterion: str | None = None, ax: Any = None) -> Any:
    """A criterion against the number of components, one line per model (mclust's plot).

    Degenerate candidates (collapsed components, see :mod:`mixture.degeneracy`) are not on
    the lines: they are grey crosses, as they take no part in the selection. The circle marks
    the best proper candidate by the criterion plotted.

    Parameters
    ----------
    selection : ModelSelection
    criterion : {'bic', 'aic', 'icl'}, default the selection's
    """
    ax = _axes(ax)
    criterion = criterion or selection.criterion
    proper = [c for c in selection.candidates if c.degenerate is None]
    degenerate = [c for c in selection.candidates if c.degenerate is not None]
    models: dict[str, list[tuple[int, float]]] = {}
    for candidate in proper:
        models.setdefault(candidate.model, []).append(
            (candidate.n_components, candidate.score(criterion))
        )
    for index, (model, points) in enumerate(models.items()):
        ks, scores = zip(*sorted(points), strict=True)
        # Ten colours, then dashed lines: with a marker of its own, each of mclust's 14
        # models stays distinguishable where lines cross.
        ax.plot(
            ks,
            scores,
            marker=_MARKERS[index % len(_MARKERS)],
            linestyle="-" if index < 10 else "--",
            markersize=5,
            label=model,
            color=_colour(index),
        )
    if degenerate:
        ax.scatter(
            [c.n_components for c in degenerate],
            [c.score(criterion) for c in degenerate],
            marker="x",
            color="0.55",
            label="degenerate (excluded)",
        )
    if proper:
        best = min(proper, key=lambda c: c.score(criterion))
        ax.scatter(
            [best.n_components],
            [best.score(criterion)],
            s=160,
            facecolors="none",
            edgecolors="black",
            label=f"best by {criterion.upper()}: {best.model}, {best.n_components}",
        )
    ax.set_xlabel("number of components")
    ax.set_ylabel(f"{criterion.upper()} (lower is better)")
    if len(models) > 5:
        # Many curves crowd near the best: the axis shows the best four fifths of the
        # scores (the worst, usually K = 1 and the spherical models, run off the top).
        scores = np.array([c.score(criterion) for c in proper])
        low, high = scores.min(), np.quantile(scores, 0.8)
        if high > low and scores.max() > high:
            margin = 0.05 * (high - low)
            ax.set_ylim(low - margin, high + margin)
        # Beside the plot, in two columns, so it hides no curve.
        ax.legend(fontsize="small", ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend()
    return ax


def log_likelihood_trace(result: Any, *, ax: Any = None) -> Any:
    """Mean log-likelihood per row at each EM iteration of a fit result."""
    ax = _axes(ax)
    history = np.asarray(result.log_likelihood_history)
    ax.plot(np.arange(1, history.size + 1), history, marker=".")
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean log-likelihood per row")
    return ax


def uncertainty(
    X: np.ndarray,
    mixture: Mixture,
    *,
    columns: Sequence[int] = (0, 1),
    names: Sequence[str] | None = None,
    ax: Any = None,
) -> Any:
    """Rows sized and shaded by classification uncertainty ``1 - max_k r_ik``."""
    ax = _axes(ax)
    X = np.asarray(X)
    doubt = 1.0 - mixture.predict_proba(X).max(axis=1)
    i, j = columns
    points = ax.scatter(
        X[:, i], X[:, j], c=doubt, s=4 + 120 * doubt, cmap="magma_r", vmin=0.0, vmax=0.5
    )
    ax.figure.colorbar(points, ax=ax, label="uncertainty")
    _label(ax, names, columns)
    return ax


def em_snapshots(
    X: np.ndarray,
    mixtures: Sequence[Mixture],
    iterations: Sequence[int],
    *,
    columns: Sequence[int] = (0, 1),
    axes: Any = None,
) -> Any:
    """Small multiples of a fit after chosen iterations (Bishop's Old Faithful figure).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    mixtures : sequence of Mixture
        The mixture after each iteration (``History(keep_mixtures=True)`` records them).
    iterations : sequence of int
        1-based iterations to draw.
    axes : array of matplotlib Axes, optional

    Returns
    -------
    ndarray of matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(
            1, len(iterations), figsize=(3.2 * len(iterations), 3.2), squeeze=False
        )
        axes = axes[0]
    for ax, iteration in zip(axes, iterations, strict=True):
        if not 1 <= iteration <= len(mixtures):
            raise ValueError(f"iteration {iteration} is not among the {len(mixtures)} recorded")
        scatter(X, mixtures[iteration - 1], columns=columns, sigmas=(1, 2), ax=ax)
        ax.set_title(f"iteration {iteration}")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
    return axes


def pairwise(X: np.ndarray, mixture: Mixture, *, names: Sequence[str] | None = None) -> Any:
    """Scatter matrix of every pair of features, coloured by component, with ellipses.

    Returns
    -------
    ndarray of matplotlib Axes, shape (n_features, n_features)
    """
    import matplotlib.pyplot as plt

    X = np.asarray(X)
    n_features = X.shape[1]
    _, axes = plt.subplots(
        n_features, n_features, figsize=(2.4 * n_features, 2.4 * n_features), squeeze=False
    )
    labels = mixture.predict(X)
    for row in range(n_features):
        for column in range(n_features):
            ax = axes[row, column]
            if row == column:
                for k in range(mixture.n_components):
                    ax.hist(X[labels == k, row], bins=25, color=_colour(k), alpha=0.6)
            else:
                scatter(X, mixture, columns=(column, row), sigmas=(2,), names=names, ax=ax)
            if row < n_features - 1:
                ax.set_xlabel("")
            if column > 0:
                ax.set_ylabel("")
    return axes
