"""The course of an EM run: log-likelihood per iteration, the fit after chosen iterations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mixture.plotting._models import as_mixture
from mixture.plotting._style import new_axes
from mixture.plotting.points import scatter

__all__ = ["em_snapshots", "log_likelihood_trace"]


def log_likelihood_trace(result: Any, *, ax: Any = None) -> Any:
    """Mean log-likelihood per row at each EM iteration of a fit (integer iteration ticks).

    Parameters
    ----------
    result : MixtureResult or fitted GaussianMixture
        A fit that recorded its history (``log_likelihood_history``).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.ticker import MaxNLocator

    mixture = as_mixture(result)
    history = getattr(mixture, "log_likelihood_history", None)
    if history is None:
        raise TypeError(
            "result must be a fit with a log-likelihood history (a MixtureResult or a "
            f"fitted GaussianMixture); a {type(mixture).__name__} has none"
        )
    ax = new_axes(ax)
    history = np.asarray(history)
    ax.plot(np.arange(1, history.size + 1), history, marker=".")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean log-likelihood per row")
    return ax


def em_snapshots(
    X: Any,
    mixtures: Sequence[Any],
    iterations: Sequence[int],
    *,
    columns: Sequence[int | str] = (0, 1),
    names: Sequence[str] | None = None,
    start: Any = None,
    shading: str = "classes",
    sigmas: Sequence[float] = (1, 2),
    axes: Any = None,
) -> Any:
    """Small multiples of a fit after chosen iterations (Bishop's Old Faithful figure).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    mixtures : sequence of Mixture (or MixtureResult, fitted GaussianMixture)
        The mixture after each iteration (``History(keep_mixtures=True)`` records them).
    iterations : sequence of int
        Iterations to draw: ``t`` is the mixture after ``t`` iterations (1-based); ``0`` the
        ``start``, when given.
    columns : pair of int or str, default (0, 1)
    names : sequence of str, optional
    start : Mixture, optional
        The parameters EM started from (iteration 0).
    shading : {'classes', 'responsibilities'}, default 'classes'
        How rows are coloured (see :func:`~mixture.plotting.scatter`).
    sigmas : sequence of float, default (1, 2)
        Ellipse radii in standard deviations.
    axes : sequence of matplotlib Axes, optional
        One per iteration; a new row of panels if omitted.

    Returns
    -------
    ndarray of matplotlib Axes
    """
    import matplotlib.pyplot as plt

    recorded = [start, *mixtures]  # recorded[t]: after t iterations
    first = 0 if start is not None else 1
    for iteration in iterations:
        if not first <= iteration <= len(mixtures):
            raise ValueError(
                f"iteration {iteration} is not among the {len(mixtures)} recorded"
                + ("" if start is not None else " (iteration 0 needs start=)")
            )
    if axes is None:
        _, axes = plt.subplots(
            1, len(iterations), figsize=(3.2 * len(iterations), 3.2), squeeze=False
        )
        axes = axes[0]
    for ax, iteration in zip(axes, iterations, strict=True):
        mixture = as_mixture(recorded[iteration])
        scatter(X, mixture, columns=columns, names=names, sigmas=sigmas, shading=shading, ax=ax)
        ax.set_title("start" if iteration == 0 else f"iteration {iteration}")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
    return np.asarray(axes)
