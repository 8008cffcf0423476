"""Model selection: a criterion against the number of components, one line per model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mixture.plotting._style import MAX_PIXELS, bounded_size, new_axes

__all__ = ["criterion_curves", "plot_selection", "visible_range"]

_MARKERS = "osD^v<>pPX*hdH"


def visible_range(scores: Any) -> tuple[float, float]:
    """The criterion values the axis shows: the best up to a robust ceiling.

    The ceiling is the best plus three times the distance from the best to the median
    score, or the worst score if that is lower. When a few curves (one component, the
    spherical models) lie far above the others, they leave the axis instead of
    flattening the curves that compete for the minimum; when the scores are spread evenly,
    nothing is left out.

    Parameters
    ----------
    scores : array-like of shape (n_candidates,)
        Finite criterion values, lower is better.

    Returns
    -------
    (low, high) : tuple of float
        The best and the ceiling, ``low <= high``.
    """
    scores = np.asarray(scores, dtype=float)
    scores = scores[np.isfinite(scores)]
    if not scores.size:
        return 0.0, 1.0
    best = float(scores.min())
    ceiling = best + 3.0 * (float(np.median(scores)) - best)
    return best, min(float(scores.max()), ceiling)


def criterion_curves(
    selection: Any, *, criterion: str | None = None, clip: bool = True, ax: Any = None
) -> Any:
    """A criterion against the number of components, one line per model (mclust's plot).

    The circle marks the candidate with the lowest value of the criterion plotted, among
    proper candidates. Degenerate candidates (collapsed components, see
    :mod:`mixture.degeneracy`) are not on the lines: they are grey crosses, as they take no
    part in the selection. With ``clip``, the y-axis runs from the best value to the ceiling
    of :func:`visible_range`; the legend says how many candidates lie above it, and marks a
    model entirely above it "(above the axis)".

    Parameters
    ----------
    selection : ModelSelection
        The result of :func:`mixture.select_model`.
    criterion : {'bic', 'aic', 'icl'}, optional
        Default: the criterion that ranked the selection.
    clip : bool, default True
        Limit the y-axis to the competitive candidates (False: every candidate).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        The best candidate's circle is the last collection.
    """
    candidates = getattr(selection, "candidates", None)
    if candidates is None:
        raise TypeError(
            "selection must be a ModelSelection (the result of select_model); "
            f"got {type(selection).__name__}"
        )
    criterion = criterion or selection.criterion
    if criterion not in ("bic", "aic", "icl"):
        raise ValueError(f"criterion must be 'bic', 'aic' or 'icl'; got {criterion!r}")
    ax = new_axes(ax, figsize=(6.5, 4.5))
    proper = [c for c in candidates if c.degenerate is None]
    degenerate = [c for c in candidates if c.degenerate is not None]
    scores = np.array([c.score(criterion) for c in proper])
    finite = scores[np.isfinite(scores)]
    if clip:
        low, high = visible_range(finite)
    else:
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    models: dict[str, list[tuple[int, float]]] = {}
    for candidate in proper:
        models.setdefault(candidate.model, []).append(
            (candidate.n_components, candidate.score(criterion))
        )
    import matplotlib

    colours = matplotlib.colormaps["tab10"].colors
    for index, (model, points) in enumerate(models.items()):
        ks, values = zip(*sorted(points), strict=True)
        above = min(values) > high
        # Ten colours, then dashed lines: with a marker of its own, each of mclust's 14
        # models stays distinguishable where lines cross.
        ax.plot(
            ks,
            values,
            marker=_MARKERS[index % len(_MARKERS)],
            linestyle="-" if index < 10 else "--",
            markersize=5,
            label=f"{model} (above the axis)" if above else model,
            color=colours[index % 10],
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
            zorder=3,
        )
        margin = 0.05 * (high - low) if high > low else max(1.0, abs(low) * 1e-3)
        ax.set_ylim(low - margin, high + margin)
        hidden = int(np.count_nonzero(scores > high + margin))
        if hidden:  # a legend entry without a mark
            ax.plot([], [], " ", label=f"{hidden} of {scores.size} candidates above the axis")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("number of components")
    ax.set_ylabel(f"{criterion.upper()} (lower is better)")
    # Beside the plot, in one or two columns, so it hides no curve.
    ax.legend(
        fontsize="small",
        ncol=2 if len(models) > 7 else 1,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    return ax


def plot_selection(
    selection: Any,
    *,
    criteria: Sequence[str] | None = None,
    clip: bool = True,
    max_pixels: int = MAX_PIXELS,
) -> Any:
    """One call: the criterion curves of a model selection, one panel per criterion.

    Parameters
    ----------
    selection : ModelSelection
        The result of :func:`mixture.select_model`.
    criteria : sequence of {'bic', 'aic', 'icl'}, optional
        Default: the criterion that ranked the selection.
    clip : bool, default True
        As in :func:`criterion_curves`.
    max_pixels : int, default 1800
        Largest side of the figure, in pixels at its dpi.

    Returns
    -------
    matplotlib Figure
        One Axes per criterion, in order (``figure.axes``).
    """
    import matplotlib.pyplot as plt

    if getattr(selection, "candidates", None) is None:
        raise TypeError(
            "selection must be a ModelSelection (the result of select_model); "
            f"got {type(selection).__name__}"
        )
    criteria = tuple(criteria) if criteria is not None else (selection.criterion,)
    if not criteria:
        raise ValueError("criteria: name at least one of 'bic', 'aic', 'icl'")
    n_models = len({c.model for c in selection.candidates})
    panel = 8.0 if n_models > 7 else 6.8
    figure = plt.figure(layout="constrained")
    figure.set_size_inches(bounded_size(panel * len(criteria), 4.5, figure.dpi, max_pixels))
    axes = figure.subplots(1, len(criteria), squeeze=False)[0]
    for ax, criterion in zip(axes, criteria, strict=True):
        criterion_curves(selection, criterion=criterion, clip=clip, ax=ax)
        ax.set_title(f"{criterion.upper()}: {len(selection.candidates)} candidates")
    return figure
