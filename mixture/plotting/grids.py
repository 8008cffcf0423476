"""Whole pictures of a fit: the pairwise grid and the one-call summary ``plot_fit``."""

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
    model_title,
)
from mixture.plotting._style import (
    MAX_PIXELS,
    bounded_size,
    component_colour,
    component_linestyle,
    wrapped,
)
from mixture.plotting.criteria import criterion_curves
from mixture.plotting.points import (
    density_contours,
    draw_classes,
    histogram,
    scatter,
    uncertainty,
)

__all__ = ["pairwise", "plot_fit"]


def _diagonal(ax: Any, X: np.ndarray, mixture: Any, labels: np.ndarray, j: int) -> Any:
    """Column ``j``'s histogram and fitted marginal density, on an overlay of ``ax`` with
    its own (hidden) y-axis: the frame ``ax`` keeps the row's scale of the scatters."""
    overlay = ax.twinx()
    values = X[:, j]
    edges = np.histogram_bin_edges(values, bins="auto")
    if edges.size > 41:
        edges = np.histogram_bin_edges(values, bins=40)
    overlay.hist(values, bins=edges, density=True, color="0.85", edgecolor="0.7", linewidth=0.3)
    grid = np.linspace(edges[0], edges[-1], 200)
    try:
        with np.errstate(divide="ignore"):
            parts = component_densities(mixture, grid[:, None], [j])
    except ValueError:  # marginals need Gaussian components: the classes' histograms
        for k in range(mixture.n_components):
            overlay.hist(
                values[labels == k],
                bins=edges,
                density=False,
                histtype="step",
                color=component_colour(k),
            )
    else:
        for k in range(mixture.n_components):
            overlay.plot(
                grid,
                parts[:, k],
                color=component_colour(k),
                linestyle=component_linestyle(k, dashed=True),
                linewidth=1,
            )
        overlay.plot(grid, parts.sum(axis=1), color="black", linewidth=1.2)
    overlay.set_ylim(bottom=0)
    overlay.set_yticks([])
    return overlay


def pairwise(
    X: Any,
    model: Any,
    *,
    columns: Sequence[int | str] | None = None,
    names: Sequence[str] | None = None,
    title: str | None = None,
    max_pixels: int = MAX_PIXELS,
) -> Any:
    """Scatter matrix of every pair of chosen columns, coloured by component, with ellipses.

    Off the diagonal, row ``r`` and column ``c`` show column ``c`` (x) against column ``r``
    (y) with each component's 2-sigma ellipse. On the diagonal, the column's histogram
    with the fitted marginal density (black) and each weighted component (dashed), drawn
    on an overlay with its own y-axis (no ticks): the ticks and labels of the left column
    and bottom row belong to the scatters, and every outer axis is labelled. One column
    gives :func:`histogram`. The figure is titled with the model (structure and K) and is
    at most ``max_pixels`` on a side at its dpi.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    model : GaussianMixture, MixtureResult or Mixture
    columns : sequence of int or str, optional
        The columns to draw, by position or by name; default every column. The
        classification always uses every column of ``X``.
    names : sequence of str, optional
        Names of all ``n_features`` columns.
    title : str, optional
        Default: the model's structure and number of components.
    max_pixels : int, default 1800
        Largest side of the figure in pixels (at the figure's dpi).

    Returns
    -------
    ndarray of matplotlib Axes, shape (n_columns, n_columns)
        The frames of the grid; ``axes[0, 0].figure`` is the figure.
    """
    import matplotlib.pyplot as plt

    mixture = as_mixture(model)
    X = checked_data(X, mixture)
    chosen = column_indices(columns, X.shape[1], names)
    title = title or model_title(mixture, model)
    n = len(chosen)
    figure = plt.figure(layout="constrained")
    if n == 1:
        figure.set_size_inches(bounded_size(7.0, 4.5, figure.dpi, max_pixels))
        ax = histogram(X, mixture, column=chosen[0], names=names, ax=figure.add_subplot())
        figure.suptitle(title)
        return np.array([[ax]])
    width, _ = bounded_size(2.4 * n, 2.4 * n, figure.dpi, max_pixels)
    figure.set_size_inches(width, width)
    cell = width / n
    axes = figure.subplots(n, n, sharex="col", sharey="row", squeeze=False)
    for ax in axes.flat:  # limits set once per column below: autoscaling shared axes is slow
        ax.set_autoscale_on(False)
    labels = mixture.predict(X)
    small = cell < 1.8
    width = max(8, int(cell * (10 if small else 8)))  # characters a label line may take
    for r, row_column in enumerate(chosen):
        for c, column in enumerate(chosen):
            ax = axes[r, c]
            if r == c:
                _diagonal(ax, X, mixture, labels, column)
            else:
                draw_classes(ax, X, mixture, labels, (column, row_column), (2,), (cell / 2.4) ** 2)
            ax.set_xlabel(wrapped(feature_name(names, column), width) if r == n - 1 else "")
            ax.set_ylabel(wrapped(feature_name(names, row_column), width) if c == 0 else "")
            ax.label_outer()
            if small:
                ax.tick_params(labelsize="x-small")
                ax.xaxis.label.set_fontsize("small")
                ax.yaxis.label.set_fontsize("small")
    low, high = X[:, chosen].min(axis=0), X[:, chosen].max(axis=0)
    pad = 0.06 * np.where(high > low, high - low, 1.0)
    for index in range(n):
        limits = (low[index] - pad[index], high[index] + pad[index])
        axes[0, index].set_xlim(limits)
        axes[index, 0 if index else 1].set_ylim(limits)
    figure.suptitle(title)
    return axes


def _selection_parts(model: Any) -> tuple[Any, Any, str | None]:
    """(mixture, selection or None, model label) of a model or a model selection."""
    if hasattr(model, "candidates") and hasattr(model, "best"):
        best = model.best
        return best.result, model, best.model
    return as_mixture(model), None, None


def plot_fit(
    X: Any,
    model: Any,
    *,
    columns: Sequence[int | str] | None = None,
    names: Sequence[str] | None = None,
    criterion: str | None = None,
    max_pixels: int = MAX_PIXELS,
) -> Any:
    """One call: the fitted model over the data, as mclust's ``plot(Mclust(...))``.

    For one chosen column: the histogram with the fitted density and its components, and
    the uncertainty of each row. For two: the classification with ellipses, the
    uncertainty, and the density contours. Given a model selection, the criterion curves
    are added and the selected model is drawn. For more than two columns, the pairwise grid
    (:func:`pairwise`); draw the curves with :func:`plot_selection`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    model : GaussianMixture, MixtureResult, Mixture or ModelSelection
    columns : sequence of int or str, optional
        Columns to draw, by position or by name; default every column.
    names : sequence of str, optional
        Names of all ``n_features`` columns.
    criterion : {'bic', 'aic', 'icl'}, optional
        For a model selection: the criterion of the curves (default: the selection's).
    max_pixels : int, default 1800
        Largest side of the figure in pixels (at the figure's dpi).

    Returns
    -------
    matplotlib Figure
        Its panels in ``figure.axes`` (colour bars included).
    """
    import matplotlib.pyplot as plt

    mixture, selection, label = _selection_parts(model)
    X = checked_data(X, mixture)
    chosen = column_indices(columns, X.shape[1], names)
    title = model_title(mixture, model if selection is None else None, label)
    if len(chosen) > 2:
        return (
            pairwise(X, mixture, columns=chosen, names=names, title=title, max_pixels=max_pixels)
            .flat[0]
            .figure
        )
    panels = 2 if len(chosen) == 1 else 3
    panels += selection is not None
    rows, cols = (2, 2) if panels == 4 else (1, panels)
    figure = plt.figure(layout="constrained")
    figure.set_size_inches(bounded_size(5.2 * cols, 4.4 * rows, figure.dpi, max_pixels))
    axes = list(figure.subplots(rows, cols, squeeze=False).flat)
    # Below its panel in the 2 x 2 grid: on the right, it would be pushed past the
    # criterion panel's legend (the columns of a grid share their margins).
    bar = "bottom" if rows == 2 else "right"
    if len(chosen) == 1:
        histogram(X, mixture, column=chosen[0], names=names, ax=axes[0])
        axes[0].set_title("density")
        uncertainty(X, mixture, columns=chosen, names=names, colorbar=bar, ax=axes[1])
        axes[1].set_title("uncertainty")
    else:
        scatter(X, mixture, columns=chosen, names=names, ax=axes[0])
        axes[0].set_title("classification")
        uncertainty(X, mixture, columns=chosen, names=names, colorbar=bar, ax=axes[1])
        axes[1].set_title("uncertainty")
        density_contours(X, mixture, columns=chosen, names=names, ax=axes[2])
        axes[2].set_title("density")
    if selection is not None:
        criterion_curves(selection, criterion=criterion, ax=axes[-1])
        axes[-1].set_title(f"{(criterion or selection.criterion).upper()} of the candidates")
    figure.suptitle(title)
    return figure
