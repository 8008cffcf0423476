"""Rows of the data with the fitted model: classification, uncertainty, density."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mixture.plotting._models import (
    as_mixture,
    checked_data,
    column_indices,
    component_densities,
    feature_name,
    gaussian_parts,
)
from mixture.plotting._style import (
    component_colour,
    component_linestyle,
    component_marker,
    new_axes,
    point_size,
    uncertainty_colormap,
)

__all__ = ["density_contours", "draw_classes", "histogram", "scatter", "uncertainty"]


def _pair(columns: Sequence[int | str], n_features: int, names: Sequence[str] | None) -> list[int]:
    chosen = column_indices(columns, n_features, names)
    if len(chosen) != 2:
        raise ValueError(
            f"columns must name two columns for a scatter plot; got {list(columns)} "
            "(use histogram for one column, pairwise for more)"
        )
    return chosen


def _label(ax: Any, names: Sequence[str] | None, columns: Sequence[int]) -> None:
    i, j = columns
    ax.set_xlabel(feature_name(names, i))
    ax.set_ylabel(feature_name(names, j))


def draw_classes(
    ax: Any,
    X: np.ndarray,
    mixture: Any,
    labels: np.ndarray,
    pair: Sequence[int],
    sigmas: Sequence[float],
    size_factor: float = 1.0,
    responsibilities: np.ndarray | None = None,
) -> None:
    """Rows of ``X`` on columns ``pair`` coloured by ``labels``, with each component's
    ellipses (one collection of points per component, in component order); with
    ``responsibilities`` ``(n, K)``, one collection whose colours mix the components'
    colours in those proportions instead."""
    from matplotlib.patches import Ellipse

    i, j = pair
    size = point_size(X.shape[0]) * size_factor
    if responsibilities is not None:
        palette = np.array([component_colour(k)[:3] for k in range(mixture.n_components)])
        colours = np.clip(responsibilities @ palette, 0.0, 1.0)
        ax.scatter(X[:, i], X[:, j], s=size, c=colours, alpha=0.9, linewidths=0)
    for k in range(mixture.n_components if responsibilities is None else 0):
        rows = labels == k
        ax.scatter(
            X[rows, i],
            X[rows, j],
            s=size,
            color=component_colour(k),
            marker=component_marker(k),
            alpha=0.8,
            linewidths=0,
            label=f"component {k}",
        )
    for k, part in enumerate(gaussian_parts(mixture, pair)):
        if part is None:
            continue
        mean, covariance = part
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
                    color=component_colour(k),
                    linestyle=component_linestyle(k),
                    alpha=min(1.0, 0.9 / sigma),
                    linewidth=1.5 * min(1.0, size_factor**0.5 + 0.3),
                )
            )


def scatter(
    X: Any,
    model: Any,
    *,
    columns: Sequence[int | str] = (0, 1),
    sigmas: Sequence[float] = (1, 2, 3),
    names: Sequence[str] | None = None,
    legend: bool = False,
    shading: str = "classes",
    ax: Any = None,
) -> Any:
    """Rows coloured by their most probable component, with sigma ellipses (classification).

    One colour (and, beyond twenty components, one marker) per component. Ellipses are drawn
    for components with a ``mean`` and a ``covariance_matrix`` (the Gaussians), on the
    two chosen columns (the marginal of the component).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    model : GaussianMixture, MixtureResult or Mixture
        Fitted on ``n_features`` columns.
    columns : pair of int or str, default (0, 1)
        The two columns to draw, by position or by name (in ``names``).
    sigmas : sequence of float, default (1, 2, 3)
        Ellipse radii in standard deviations (empty for none).
    names : sequence of str, optional
        Column names, for the axis labels.
    legend : bool, default False
        Add a legend naming the components.
    shading : {'classes', 'responsibilities'}, default 'classes'
        ``'responsibilities'``: each row's colour mixes the components' colours in the
        proportions of its responsibilities ``gamma_nk`` (EM's soft assignment: a row shared
        by two components is drawn in between their colours), as in Bishop's figures.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if omitted.

    Returns
    -------
    matplotlib Axes
    """
    if shading not in ("classes", "responsibilities"):
        raise ValueError(f"shading must be 'classes' or 'responsibilities'; got {shading!r}")
    mixture = as_mixture(model)
    X = checked_data(X, mixture)
    pair = _pair(columns, X.shape[1], names)
    ax = new_axes(ax)
    soft = mixture.predict_proba(X) if shading == "responsibilities" else None
    labels = mixture.predict(X) if soft is None else soft.argmax(axis=1)
    draw_classes(ax, X, mixture, labels, pair, sigmas, responsibilities=soft)
    _label(ax, names, pair)
    if legend:
        ax.legend(fontsize="small", markerscale=2)
    return ax


def uncertainty(
    X: Any,
    model: Any,
    *,
    columns: Sequence[int | str] | None = None,
    names: Sequence[str] | None = None,
    colorbar: bool | str = True,
    ax: Any = None,
) -> Any:
    """Rows sized and shaded by classification uncertainty ``1 - max_k gamma_nk``.

    Certain rows are small and dark, uncertain ones large and orange; the colour scale runs
    from 0 to ``1 - 1/K``, the largest uncertainty K components allow (equal
    responsibilities). The most uncertain rows are drawn last, on top. With one column, the
    uncertainty itself is the y-axis.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    model : GaussianMixture, MixtureResult or Mixture
    columns : one or two int or str, optional
        Default: the first two columns (the only one for one-column data).
    names : sequence of str, optional
    colorbar : bool or {'right', 'bottom'}, default True
        Draw the colour scale (True: on the right).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        Its first collection holds the rows, in increasing uncertainty.
    """
    mixture = as_mixture(model)
    X = checked_data(X, mixture)
    if columns is None:
        columns = (0,) if X.shape[1] == 1 else (0, 1)
    chosen = column_indices(columns, X.shape[1], names)
    if len(chosen) > 2:
        raise ValueError(f"columns must name one or two columns; got {list(columns)}")
    ax = new_axes(ax)
    doubt = 1.0 - mixture.predict_proba(X).max(axis=1)
    largest = max(1.0 - 1.0 / mixture.n_components, np.finfo(float).eps)
    order = np.argsort(doubt, kind="stable")
    y = doubt[order] if len(chosen) == 1 else X[order, chosen[1]]
    points = ax.scatter(
        X[order, chosen[0]],
        y,
        c=doubt[order],
        s=4 + 60 * doubt[order] / largest,
        cmap=uncertainty_colormap(),
        vmin=0.0,
        vmax=largest,
        linewidths=0,
    )
    if colorbar:
        location = colorbar if isinstance(colorbar, str) else "right"
        bar = ax.figure.colorbar(points, ax=ax, location=location, shrink=0.9)
        bar.set_label(f"uncertainty (at most 1 - 1/K = {largest:.3g})")
    if len(chosen) == 1:
        ax.set_xlabel(feature_name(names, chosen[0]))
        ax.set_ylabel("uncertainty")
        ax.set_ylim(-0.03 * largest, 1.05 * largest)
    else:
        _label(ax, names, chosen)
    return ax


def density_contours(
    X: Any,
    model: Any,
    *,
    columns: Sequence[int | str] = (0, 1),
    levels: int = 12,
    names: Sequence[str] | None = None,
    ax: Any = None,
) -> Any:
    """Contours of the mixture density over two columns, with the rows in grey.

    For two-column data the density itself; for more columns, the two-column marginal
    (exact for Gaussian components, which it needs). Levels are spaced logarithmically over
    four decades below the peak.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    model : GaussianMixture, MixtureResult or Mixture
    columns : pair of int or str, default (0, 1)
    levels : int, default 12
    names : sequence of str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.colors import LogNorm

    mixture = as_mixture(model)
    X = checked_data(X, mixture)
    i, j = pair = _pair(columns, X.shape[1], names)
    ax = new_axes(ax)
    shown = X[:, pair]
    pad = 0.1 * (shown.max(axis=0) - shown.min(axis=0))
    low, high = shown.min(axis=0) - pad, shown.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], 150), np.linspace(low[1], high[1], 150))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    with np.errstate(divide="ignore"):
        density = component_densities(mixture, grid, pair).sum(axis=1).reshape(gx.shape)
    positive = density[density > 0]
    if positive.size and positive.max() > positive.min():
        bounds = np.geomspace(max(positive.min(), positive.max() * 1e-4), positive.max(), levels)
        ax.contour(gx, gy, density, levels=bounds, norm=LogNorm(), cmap="viridis")
    ax.scatter(X[:, i], X[:, j], s=point_size(X.shape[0]) / 2, color="0.45", alpha=0.6)
    _label(ax, names, pair)
    return ax


def histogram(
    X: Any,
    model: Any,
    *,
    column: int | str = 0,
    bins: Any = "auto",
    names: Sequence[str] | None = None,
    ax: Any = None,
) -> Any:
    """Histogram of one column with the fitted density and each weighted component.

    The histogram is scaled as a density (area 1), so the mixture's curve
    ``sum_k w_k p_k(x)`` (black) and each component's ``w_k p_k(x)`` (its colour, dashed)
    sit on it. For a model of several columns, the curves are the column's marginals
    (Gaussian components).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        A 1-D array is one column.
    model : GaussianMixture, MixtureResult or Mixture
    column : int or str, default 0
    bins : int, sequence or str, default "auto"
        As :func:`numpy.histogram_bin_edges`.
    names : sequence of str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        Lines: the mixture's density first, then one per component.
    """
    mixture = as_mixture(model)
    X = checked_data(X, mixture)
    (j,) = column_indices([column], X.shape[1], names)
    ax = new_axes(ax, figsize=(7.0, 4.5))
    values = X[:, j]
    edges = np.histogram_bin_edges(values, bins=bins)
    ax.hist(values, bins=edges, density=True, color="0.82", edgecolor="0.6", label="data")
    span = edges[-1] - edges[0] or 1.0
    grid = np.linspace(edges[0] - 0.05 * span, edges[-1] + 0.05 * span, 400)
    with np.errstate(divide="ignore"):
        parts = component_densities(mixture, grid[:, None], [j])
    ax.plot(grid, parts.sum(axis=1), color="black", linewidth=2, label="mixture density")
    for k in range(mixture.n_components):
        ax.plot(
            grid,
            parts[:, k],
            color=component_colour(k),
            linestyle=component_linestyle(k, dashed=True),
            linewidth=1.5,
            label=f"component {k} (weight {mixture.weights[k]:.2f})",
        )
    ax.set_xlabel(feature_name(names, j))
    ax.set_ylabel("density")
    ax.set_xlim(grid[0], grid[-1])
    ax.legend(fontsize="small", ncol=1 + mixture.n_components // 8)
    return ax
