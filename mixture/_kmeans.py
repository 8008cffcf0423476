"""Chunked Lloyd's k-means: O(chunk x K) memory, no copy of the data.

scikit-learn's ``KMeans`` copies the data to centre it (``copy_x``), which doubles memory on
large inputs and loads a memory-mapped array entirely into RAM. The initializer needs only
the partition, so it runs Lloyd's iterations here, chunk by chunk, from k-means++ seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mixture._chunking import row_slices

CHUNK_ROWS = 8192


@dataclass(frozen=True)
class Partition:
    """Result of k-means: centres, each row's cluster, and the weighted inertia."""

    centres: np.ndarray
    labels: np.ndarray
    inertia: float


def assign(
    X: np.ndarray, centres: np.ndarray, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Nearest centre (Euclidean) of every row, and the weighted sum of squared distances.

    Rows and centres are shifted by the centres' mean and divided by their spread first, so
    data far from the origin does not lose precision in ``|x|^2 - 2 x.c + |c|^2`` and
    extreme magnitudes do not underflow or overflow.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    centres : ndarray of shape (n_clusters, n_features)
    sample_weight : ndarray of shape (n_samples,), optional

    Returns
    -------
    labels : ndarray of shape (n_samples,)
    inertia : float
    """
    reference = centres.mean(axis=0).astype(X.dtype)
    shifted_centres = centres - reference.astype(np.float64)
    # Work in units of the centres' spread, so squares of very small or very large
    # values neither underflow nor overflow.
    scale = float(np.abs(shifted_centres).max())
    scale = scale if 0.0 < scale < np.inf else 1.0
    shifted_centres = (shifted_centres / scale).astype(X.dtype)
    centre_norms = np.einsum("kd,kd->k", shifted_centres, shifted_centres)
    labels = np.empty(X.shape[0], dtype=np.intp)
    inertia = 0.0
    for rows in row_slices(X.shape[0], CHUNK_ROWS):
        chunk = X[rows] - reference
        chunk /= X.dtype.type(scale)
        distances = chunk @ shifted_centres.T
        distances *= -2.0
        distances += centre_norms
        distances += np.einsum("nd,nd->n", chunk, chunk)[:, None]
        nearest = distances.argmin(axis=1)
        labels[rows] = nearest
        best = np.maximum(distances[np.arange(nearest.shape[0]), nearest], 0.0)
        weights = None if sample_weight is None else sample_weight[rows]
        inertia += float(np.dot(weights, best) if weights is not None else best.sum())
    with np.errstate(over="ignore"):  # inertia of data near 1e200 is honestly infinite
        return labels, float(np.float64(inertia) * np.float64(scale) ** 2)


def _cluster_means(
    X: np.ndarray,
    labels: np.ndarray,
    sample_weight: np.ndarray | None,
    previous: np.ndarray,
) -> np.ndarray:
    """Weighted mean of each cluster's rows; an empty cluster keeps its previous centre."""
    n_clusters, n_features = previous.shape
    reference = previous.mean(axis=0)
    sums = np.zeros((n_clusters, n_features))
    weights = np.zeros(n_clusters)
    for rows in row_slices(X.shape[0], CHUNK_ROWS):
        row_weight = (
            np.ones(rows.stop - rows.start) if sample_weight is None else sample_weight[rows]
        )
        one_hot = np.zeros((row_weight.shape[0], n_clusters))
        one_hot[np.arange(row_weight.shape[0]), labels[rows]] = row_weight
        sums += one_hot.T @ (X[rows] - reference)
        weights += one_hot.sum(axis=0)
    filled = weights > 0
    centres = previous.copy()
    centres[filled] = reference + sums[filled] / weights[filled, None]
    return centres


def mean_feature_variance(X: np.ndarray) -> float:
    """Mean over features of the (unweighted) variance, computed chunk by chunk."""
    n_rows = X.shape[0]
    mean = np.zeros(X.shape[1])
    for rows in row_slices(n_rows, CHUNK_ROWS):
        mean += X[rows].sum(axis=0, dtype=np.float64)
    mean /= n_rows
    squares = np.zeros(X.shape[1])
    for rows in row_slices(n_rows, CHUNK_ROWS):
        centred = X[rows] - mean
        squares += np.einsum("nd,nd->d", centred, centred)
    return float((squares / n_rows).mean())


def lloyd(
    X: np.ndarray,
    centres: np.ndarray,
    sample_weight: np.ndarray | None,
    *,
    max_iter: int,
    tol: float,
) -> Partition:
    """Lloyd's iterations from the given centres.

    Stops when the centres stop moving: the squared centre shift falls to
    ``tol * mean feature variance`` or below (scikit-learn's criterion), or after
    ``max_iter`` iterations.
    """
    # Values too large to square overflow to inf here: k-means still ends (the labels stop
    # changing), and the Gaussian M-step then reports the overflow in one clear error.
    with np.errstate(over="ignore", invalid="ignore"):
        threshold = tol * mean_feature_variance(X)
        centres = np.asarray(centres, dtype=np.float64)
        labels, inertia = assign(X, centres, sample_weight)
        for _ in range(max_iter):
            updated = _cluster_means(X, labels, sample_weight, centres)
            shift = float(((updated - centres) ** 2).sum())
            centres = updated
            new_labels, inertia = assign(X, centres, sample_weight)
            unchanged = np.array_equal(new_labels, labels)
            labels = new_labels
            if unchanged or shift <= threshold:
                break
    return Partition(centres, labels, inertia)
