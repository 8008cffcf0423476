"""Chunked, threaded Lloyd's k-means: O(chunk x K) memory, no copy of the data.

scikit-learn's ``KMeans`` copies the data to centre it (``copy_x``), which doubles memory on
large inputs and loads a memory-mapped array entirely into RAM. The initializer needs only
the partition, so it runs Lloyd's iterations here, chunk by chunk, from k-means++ seeds.

One Lloyd iteration is one pass over the rows: each chunk finds its rows' nearest centres
with one GEMM and adds its rows to their clusters' sums with a second, in the threads of
:func:`mixture._chunking.sum_chunks` (the BLAS held at one thread while they run). The sums
are added in chunk order, so the partition never depends on the number of threads. Besides
the data, a run holds the labels, one small unsigned integer per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mixture._chunking import sum_chunks
from mixture._compiled import use_compiled

CHUNK_ROWS = 8192


def _chunk_rows(n_features: int, n_clusters: int) -> int:
    """Rows per chunk: about 64 Ki numbers of rows or scores, so a chunk's arrays stay in
    cache (8,192 rows of 8 features)."""
    return max(1024, min(CHUNK_ROWS, 2**16 // max(n_features, n_clusters, 1)))


def _compiled_chunk_rows(n_rows: int, n_features: int, n_clusters: int) -> int:
    """Rows per chunk of the compiled pass, which keeps no per-chunk arrays of rows: large
    enough that a chunk's work (about 4 M multiply-adds, at most 65,536 rows) outweighs
    handing it to a thread, but no more than a quarter of the rows, so that two threads
    share the work (20,000 x 64 rows, 8 centres: 1,024-row chunks ran 1.2x faster on two
    threads than on one, 5,000-row chunks 1.6x). Never fewer rows than
    :func:`_chunk_rows`; it depends on the data's shape only, never on the threads."""
    by_work = min(65536, 2**22 // max(1, n_clusters * n_features))
    return max(_chunk_rows(n_features, n_clusters), min(by_work, -(-n_rows // 4)))


@dataclass(frozen=True)
class Partition:
    """Result of k-means: centres, each row's cluster, the weighted inertia, and the summed
    sample weight of each cluster's rows.

    Attributes
    ----------
    centres : ndarray of shape (n_clusters, n_features)
    labels : ndarray of shape (n_samples,)
        Unsigned integers (:func:`label_dtype`).
    inertia : float
    weights : ndarray of shape (n_clusters,)
    """

    centres: np.ndarray
    labels: np.ndarray
    inertia: float
    weights: np.ndarray


def label_dtype(n_clusters: int) -> np.dtype:
    """The smallest unsigned integer type holding the labels ``0 .. n_clusters - 1``."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_clusters - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.uint64)


#: Up to this many centres, the nearest is found by one pass per centre.
_LOOPED_ARGMIN = 64
#: Centres spread between these powers of two are not rescaled: squares of the shifted
#: values stay far from overflow and underflow in float32 and float64 alike.
_UNSCALED = (2.0**-40, 2.0**40)


@dataclass(frozen=True)
class _Frame:
    """Coordinates the distances are computed in: rows and centres shifted by the centres'
    mean, so data far from the origin keeps its precision in ``|x|^2 - 2 x.c + |c|^2``;
    centres spread over extreme magnitudes are also divided by a power of two near their
    spread (exactly), so squares neither underflow nor overflow."""

    reference: np.ndarray  # (n_features,) in the data's dtype
    scale: float  # a power of two
    minus_two_centres: np.ndarray  # (n_clusters, n_features): -2 (shifted, scaled centres)
    centre_norms: np.ndarray  # (n_clusters,) squared norms of the shifted, scaled centres

    @classmethod
    def of(cls, centres: np.ndarray, dtype: np.dtype) -> _Frame:
        reference = centres.mean(axis=0).astype(dtype)
        shifted = centres - reference.astype(np.float64)
        spread = float(np.abs(shifted).max())
        scale = 1.0
        if 0.0 < spread < np.inf and not _UNSCALED[0] <= spread <= _UNSCALED[1]:
            scale = float(2.0 ** np.round(np.log2(spread)))
        shifted = (shifted / scale).astype(dtype)
        norms = np.einsum("kd,kd->k", shifted, shifted)
        return cls(reference, scale, -2.0 * shifted, norms)

    @property
    def n_clusters(self) -> int:
        return int(self.minus_two_centres.shape[0])

    def rows(self, X: np.ndarray, rows: slice) -> np.ndarray:
        """The chunk ``X[rows]`` in this frame's coordinates (a new array)."""
        chunk = X[rows] - self.reference
        if self.scale != 1.0:
            chunk /= X.dtype.type(self.scale)
        return chunk

    def nearest(self, chunk: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Each row's nearest centre (written into ``labels``, shape ``(rows,)``), and its
        score ``|c|^2 - 2 x.c``, shape ``(rows,)``.

        The minimum is taken over these scores (the row's own ``|x|^2`` is the same for
        every centre), as scikit-learn's Lloyd iterations do; ties go to the lower label.
        Adding ``|x|^2`` to a score gives the squared distance.
        """
        scores = self.minus_two_centres @ chunk.T  # (K, rows): one contiguous row per centre
        scores += self.centre_norms[:, None]
        if self.n_clusters > _LOOPED_ARGMIN:
            labels[:] = scores.argmin(axis=0)
            return scores.min(axis=0)
        # For few centres a pass per centre beats argmin along short rows several times.
        # Labels move to k where k is strictly better: labels += better * (k - labels),
        # exact in unsigned arithmetic (it wraps around), and branch-free.
        best = scores[0].copy()
        labels[:] = 0
        better = np.empty(best.shape, dtype=bool)
        step = np.empty(labels.shape, dtype=labels.dtype)
        for k in range(1, self.n_clusters):
            np.less(scores[k], best, out=better)
            np.subtract(labels.dtype.type(k), labels, out=step)
            np.multiply(step, better, out=step)
            labels += step
            np.minimum(best, scores[k], out=best)
        return best

    def to_data_units(self, sums: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Weighted means in the data's units, from sums of frame coordinates ``(K, D)``."""
        return self.reference.astype(np.float64) + self.scale * (sums / weights[:, None])


class _PassTotals:
    """What one pass over the chunks adds up: cluster sums (in frame units), cluster
    weights, the weighted inertia (frame units) and the number of rows that changed
    cluster."""

    __slots__ = ("changed", "inertia", "sums", "weights")

    def __init__(self, sums: np.ndarray, weights: np.ndarray, inertia: float, changed: int):
        self.sums, self.weights, self.inertia, self.changed = sums, weights, inertia, changed

    def __add__(self, other: _PassTotals) -> _PassTotals:
        return _PassTotals(
            self.sums + other.sums,
            self.weights + other.weights,
            self.inertia + other.inertia,
            self.changed + other.changed,
        )


def _labelling_pass(
    X: np.ndarray,
    frame: _Frame,
    sample_weight: np.ndarray | None,
    labels: np.ndarray,
    *,
    count_changes: bool,
    sums: bool = True,
    inertia: bool = True,
) -> _PassTotals:
    """Label every row by its nearest centre (written into ``labels``) and add up the
    clusters' weights, and optionally their sums and the inertia, one chunk per thread."""
    n_clusters = frame.n_clusters
    n_features = frame.minus_two_centres.shape[1]
    values_per_row = n_clusters + n_features  # its scores and values

    with np.errstate(over="ignore"):
        inverse_scale = X.dtype.type(1.0 / frame.scale)  # a power of two: exact, or inf
    if use_compiled(X.size) and np.isfinite(inverse_scale):
        from mixture._start_compiled import label_chunk

        no_weights = np.empty(0)
        minus_two_centres = frame.minus_two_centres.astype(X.dtype)
        centre_norms = frame.centre_norms.astype(np.float64)

        def compiled_totals(rows: slice) -> _PassTotals:
            cluster_sums = np.zeros((n_clusters, n_features))
            cluster_weights = np.zeros(n_clusters)
            weights = no_weights if sample_weight is None else sample_weight[rows]
            changed, chunk_inertia = label_chunk(
                X[rows], frame.reference, inverse_scale, minus_two_centres, centre_norms,
                np.asarray(weights, dtype=np.float64), labels[rows], count_changes, sums,
                inertia, cluster_sums, cluster_weights,
            )  # fmt: skip
            return _PassTotals(cluster_sums, cluster_weights, chunk_inertia, changed)

        if X.shape[0] == 0:
            return _PassTotals(np.zeros((n_clusters, n_features)), np.zeros(n_clusters), 0.0, 0)
        # The compiled pass does n_clusters x n_features multiply-adds per row with the GIL
        # released: that, not the numbers it touches, decides whether threads pay (20,000
        # x 64 rows and 8 centres ran unthreaded: 1.4 M numbers, 10 M multiply-adds).
        return sum_chunks(
            compiled_totals, X.shape[0], _compiled_chunk_rows(X.shape[0], n_features, n_clusters),
            n_clusters * n_features,
        )  # fmt: skip

    def chunk_totals(rows: slice) -> _PassTotals:
        chunk = frame.rows(X, rows)
        nearest = np.empty(chunk.shape[0], dtype=labels.dtype)
        best = frame.nearest(chunk, nearest)
        changed = int(np.count_nonzero(labels[rows] != nearest)) if count_changes else 0
        labels[rows] = nearest
        weights = None if sample_weight is None else sample_weight[rows]
        cluster_weights = np.bincount(nearest, weights=weights, minlength=n_clusters)
        cluster_sums = np.zeros((n_clusters, n_features))
        if sums:
            one_hot = np.zeros((chunk.shape[0], n_clusters))
            one_hot[np.arange(chunk.shape[0]), nearest] = 1.0 if weights is None else weights
            cluster_sums = one_hot.T @ chunk.astype(np.float64, copy=False)
        chunk_inertia = 0.0
        if inertia:
            distance = best.astype(np.float64)
            distance += np.einsum("nd,nd->n", chunk, chunk, dtype=np.float64)
            np.maximum(distance, 0.0, out=distance)
            chunk_inertia = float(distance.sum() if weights is None else weights @ distance)
        return _PassTotals(cluster_sums, cluster_weights.astype(np.float64), chunk_inertia, changed)

    if X.shape[0] == 0:
        return _PassTotals(np.zeros((n_clusters, n_features)), np.zeros(n_clusters), 0.0, 0)
    return sum_chunks(chunk_totals, X.shape[0], _chunk_rows(n_features, n_clusters), values_per_row)


def assign(
    X: np.ndarray, centres: np.ndarray, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Nearest centre (Euclidean) of every row, and the weighted sum of squared distances.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    centres : ndarray of shape (n_clusters, n_features)
    sample_weight : ndarray of shape (n_samples,), optional

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        Unsigned integers (:func:`label_dtype`).
    inertia : float
    """
    partition = nearest_partition(X, centres, sample_weight)
    return partition.labels, partition.inertia


def nearest_partition(
    X: np.ndarray,
    centres: np.ndarray,
    sample_weight: np.ndarray | None = None,
    *,
    inertia: bool = True,
) -> Partition:
    """Every row labelled by its nearest centre, in one threaded pass (see :func:`assign`).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    centres : ndarray of shape (n_clusters, n_features)
    sample_weight : ndarray of shape (n_samples,), optional
    inertia : bool, default True
        Whether to compute the inertia (NaN otherwise).

    Returns
    -------
    Partition
        With the given centres.
    """
    centres = np.asarray(centres, dtype=np.float64)
    frame = _Frame.of(centres, X.dtype)
    labels = np.empty(X.shape[0], dtype=label_dtype(centres.shape[0]))
    with np.errstate(over="ignore", invalid="ignore"):
        totals = _labelling_pass(
            X, frame, sample_weight, labels, count_changes=False, sums=False, inertia=inertia
        )
    return _partition(centres, labels, totals, frame, inertia)


def _partition(
    centres: np.ndarray, labels: np.ndarray, totals: _PassTotals, frame: _Frame, inertia: bool
) -> Partition:
    value = _in_data_units(totals.inertia, frame.scale) if inertia else np.nan
    return Partition(centres, labels, value, totals.weights)


def _in_data_units(inertia: float, scale: float) -> float:
    with np.errstate(over="ignore"):  # inertia of data near 1e200 is honestly infinite
        return float(np.float64(inertia) * np.float64(scale) ** 2)


class _Moments:
    """Row count, mean and summed squared deviations of a chunk, merged pairwise (Chan,
    Golub and LeVeque) so the variance stays accurate far from the origin."""

    __slots__ = ("count", "mean", "squares")

    def __init__(self, count: float, mean: np.ndarray, squares: np.ndarray) -> None:
        self.count, self.mean, self.squares = count, mean, squares

    def __add__(self, other: _Moments) -> _Moments:
        if other.count == 0.0 or self.count == 0.0:
            return self if other.count == 0.0 else other
        count = self.count + other.count
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.count / count)
        squares = self.squares + other.squares + delta**2 * (self.count * other.count / count)
        return _Moments(count, mean, squares)


def mean_feature_variance(X: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
    """Mean over features of the variance of the rows (weighted by ``sample_weight`` if
    given), in one threaded pass."""

    def chunk_moments(rows: slice) -> _Moments:
        chunk = X[rows].astype(np.float64, copy=False)
        weights = None if sample_weight is None else sample_weight[rows]
        count = float(chunk.shape[0] if weights is None else weights.sum())
        if count == 0.0:
            return _Moments(0.0, np.zeros(X.shape[1]), np.zeros(X.shape[1]))
        mean = np.average(chunk, axis=0, weights=weights)
        centred = chunk - mean
        squared = centred * centred
        squares = squared.sum(axis=0) if weights is None else weights @ squared
        return _Moments(count, mean, squares)

    if X.shape[0] == 0:
        return 0.0
    moments = sum_chunks(chunk_moments, X.shape[0], CHUNK_ROWS, 2 * X.shape[1])
    return float((moments.squares / moments.count).mean()) if moments.count > 0 else 0.0


def lloyd(
    X: np.ndarray,
    centres: np.ndarray,
    sample_weight: np.ndarray | None,
    *,
    max_iter: int,
    tol: float,
    variance: float | None = None,
    relabel: bool = True,
    inertia: bool = True,
) -> Partition:
    """Lloyd's iterations from the given centres, one threaded pass over the rows each.

    Stops when no row changes cluster, when the centres stop moving (the squared centre
    shift falls to ``tol * variance`` or below, scikit-learn's criterion), or after
    ``max_iter`` iterations.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    centres : ndarray of shape (n_clusters, n_features)
        Starting centres.
    sample_weight : ndarray of shape (n_samples,), optional
    max_iter : int
    tol : float
    variance : float, optional
        The data's mean feature variance, if known (for example from a sample); default:
        computed from ``X`` (unweighted, as scikit-learn does), one pass.
    relabel : bool, default True
        After a stop on the centre shift (or ``max_iter``), label the rows once more by the
        final centres, as scikit-learn does (one more pass). False returns the partition
        the final centres are the means of (the same stop, one pass fewer).
    inertia : bool, default True
        Whether to compute the inertia (NaN otherwise).

    Returns
    -------
    Partition
        An empty cluster keeps its previous centre.
    """
    # Values too large to square overflow to inf here: k-means still ends (the labels stop
    # changing), and the Gaussian M-step then reports the overflow in one clear error.
    with np.errstate(over="ignore", invalid="ignore"):
        threshold = tol * (mean_feature_variance(X) if variance is None else variance)
        centres = np.array(centres, dtype=np.float64)
        labels = np.empty(X.shape[0], dtype=label_dtype(centres.shape[0]))
        for iteration in range(max_iter):
            frame = _Frame.of(centres, X.dtype)
            totals = _labelling_pass(
                X, frame, sample_weight, labels, count_changes=iteration > 0, inertia=inertia
            )
            if iteration > 0 and totals.changed == 0:
                # The clusters are those the centres were computed from: a fixed point.
                return _partition(centres, labels, totals, frame, inertia)
            filled = totals.weights > 0
            updated = centres.copy()
            updated[filled] = frame.to_data_units(totals.sums[filled], totals.weights[filled])
            shift = float(((updated - centres) ** 2).sum())
            centres = updated
            if shift <= threshold:
                break
        if not relabel:  # the clusters the (updated) centres are the means of
            return _partition(centres, labels, totals, frame, inertia)
        # The last labels belong to the centres before the last update: label once more.
        frame = _Frame.of(centres, X.dtype)
        totals = _labelling_pass(
            X, frame, sample_weight, labels, count_changes=False, sums=False, inertia=inertia
        )
    return _partition(centres, labels, totals, frame, inertia)
