"""What the command line writes: the selection report, JSON summary, labels, samples, plots.

Tables of rows (labels, samples) are written block by block, so their memory does not grow
with the number of rows. Numbers about the model are given in the data's own units, also
when the fit standardised its columns.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np

from mixture.saved_model import SavedModel
from mixture.selection import Candidate, ModelSelection
from mixture.sources import RowSource

__all__ = [
    "component_table",
    "label_column_name",
    "plot_bytes",
    "selection_metadata",
    "summary",
    "write_labels",
    "write_samples",
]

BLOCK_ROWS = 65_536
"""Rows formatted per block when writing labels and samples."""


def _csv_line(fields: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue()


def write_labels(stream: TextIO, model: SavedModel, X: np.ndarray) -> None:
    """Write ``label,p0,p1,...`` for every row of ``X`` (in the data's units).

    Parameters
    ----------
    stream : text stream
    model : SavedModel
    X : ndarray of shape (n_samples, n_features)
    """
    n_components = model.n_components
    stream.write(_csv_line(["label", *[f"p{k}" for k in range(n_components)]]))
    formats = ["%d"] + ["%.6g"] * n_components
    for start in range(0, X.shape[0], BLOCK_ROWS):
        proba = model.predict_proba(X[start : start + BLOCK_ROWS])
        block = np.column_stack([proba.argmax(axis=1), proba])
        np.savetxt(stream, block, fmt=formats, delimiter=",")


def write_labels_streamed(stream: TextIO, model: SavedModel, source: RowSource) -> None:
    """:func:`write_labels` for the rows of a source, chunk by chunk, in the source's order."""
    n_components = model.n_components
    stream.write(_csv_line(["label", *[f"p{k}" for k in range(n_components)]]))
    formats = ["%d"] + ["%.6g"] * n_components
    for chunk in source.chunks(BLOCK_ROWS):
        proba = model.predict_proba(chunk.X)
        np.savetxt(
            stream, np.column_stack([proba.argmax(axis=1), proba]), fmt=formats, delimiter=","
        )


def label_column_name(names: Sequence[str]) -> str:
    """``"label"``, or a variant that is not among the data's column ``names``."""
    for candidate in ("label", "component", "mixture_label"):
        if candidate not in names:
            return candidate
    return "label_" + "_".join(names)


def write_samples(
    stream: TextIO, model: SavedModel, n_samples: int, rng: np.random.Generator
) -> None:
    """Draw ``n_samples`` rows block by block and write them with the model's column names.

    Parameters
    ----------
    stream : text stream
    model : SavedModel
    n_samples : int
    rng : numpy.random.Generator
        Drawn from in order, so a seed gives the same rows on every run.
    """
    names = list(model.feature_names or [f"x{j}" for j in range(model.n_features)])
    stream.write(_csv_line([*names, label_column_name(names)]))
    formats = ["%.10g"] * model.n_features + ["%d"]
    for start in range(0, n_samples, BLOCK_ROWS):
        rows, labels = model.sample(min(BLOCK_ROWS, n_samples - start), rng)
        np.savetxt(stream, np.column_stack([rows, labels]), fmt=formats, delimiter=",")


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def selection_metadata(
    selection: ModelSelection, *, source: str, n_rows: int, dropped_rows: int, settings: dict
) -> dict[str, Any]:
    """Plain-JSON record of a selection, stored in model files and JSON summaries."""
    best = selection.best
    return {
        "criterion": selection.criterion,
        "value": _finite_or_none(best.score(selection.criterion)),
        "covariance_type": best.model,
        "n_components": best.n_components,
        "source": source,
        "n_rows": n_rows,
        "dropped_rows": dropped_rows,
        "settings": settings,
        "candidates": [
            {key: _finite_or_none(value) for key, value in row.items()} for row in selection.rows()
        ],
    }


def _means(model: SavedModel) -> np.ndarray:
    """Component means in the data's units, shape (n_components, n_features)."""
    means = np.array([np.asarray(c.mean, dtype=np.float64) for c in model.components])
    if model.standardization is not None:
        means = model.standardization.inverse_transform(means)
    return means


def _covariances(model: SavedModel) -> list:
    """Full covariance matrices in the data's units, (K, D, D) as lists; an entry too large
    for float64 (possible after standardising huge values) is ``None``."""
    covariances = np.array([np.asarray(c.covariance_matrix) for c in model.components])
    if model.standardization is not None:
        scale = model.standardization.scale
        with np.errstate(over="ignore"):
            covariances = covariances * np.outer(scale, scale)
    return np.where(np.isfinite(covariances), covariances, None).tolist()


def summary(model: SavedModel) -> dict[str, Any]:
    """The JSON summary of a selected model: selection, columns, parameters, table."""
    standardization = model.standardization
    return {
        "selected": {
            key: model.selection[key]
            for key in ("covariance_type", "n_components", "criterion", "value")
        },
        "columns": list(model.feature_names or []),
        "standardized": standardization is not None,
        "standardization": None
        if standardization is None
        else {"center": standardization.center.tolist(), "scale": standardization.scale.tolist()},
        "n_rows": model.selection["n_rows"],
        "dropped_rows": model.selection["dropped_rows"],
        "weights": model.weights.tolist(),
        "means": _means(model).tolist(),
        "covariances": _covariances(model),
        "table": model.selection["candidates"],
    }


def describe(candidate: Candidate, criterion: str) -> str:
    """One line naming a candidate and its criterion value."""
    return (
        f"{candidate.model} covariance, {candidate.n_components} component(s) "
        f"({criterion.upper()} {candidate.score(criterion):.3f})"
    )


def component_table(model: SavedModel) -> list[str]:
    """One line per component: weight and mean in the data's units."""
    lines = []
    for k, (weight, mean) in enumerate(zip(model.weights, _means(model), strict=True)):
        shown = "[" + ", ".join(f"{v:.4g}" for v in mean) + "]"
        lines.append(f"  component {k}: weight {weight:.4f}, mean {shown}")
    return lines


def plot_bytes(
    selection: ModelSelection, X: np.ndarray, names: list[str], image_format: str
) -> bytes:
    """The selected model drawn over ``X`` (:func:`mixture.plotting.plot_fit`): for two
    columns, classification, uncertainty, density and the criterion curves; for one, the
    histogram with the density; for more, the pairwise grid (at most 1800 pixels a side).

    Parameters
    ----------
    selection : ModelSelection
    X : ndarray of shape (n_samples, n_features)
        The data in the units the mixture was fitted in.
    names : list of str
        Axis labels.
    image_format : str
        ``"png"``, ``"svg"`` or ``"pdf"``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mixture import plotting

    figure = plotting.plot_fit(X, selection, names=names)
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format=image_format)  # the figure's dpi keeps the size bound
    finally:
        plt.close(figure)
    return buffer.getvalue()
