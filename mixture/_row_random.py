"""Random numbers keyed by row content, so initialisation ignores row order and repetition.

An initializer that draws "the 3rd random number for the 17th row" gives a different start
when rows are shuffled, and a different start for a row of weight 2 than for the same row
written twice. Keying every draw on a hash of the row's values instead makes a start depend
only on the weighted multiset of rows: shuffling rows, or trading integer sample weights for
repeated rows, changes nothing (scikit-learn's sample-weight equivalence check asks exactly
this).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mixture._chunking import parallel_map, row_slices, too_small_for_threads, worker_count
from mixture._compiled import use_compiled

_CHUNK_ROWS = 4096  # rows hashed at a time: their temporaries stay in cache
_COMPILED_CHUNK_ROWS = 65536  # rows the compiled hash takes at a time (a copy if strided)
_SAMPLE_CHUNK_ROWS = 16384  # rows a task of content_sample hashes (see there)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijective scrambling of 64-bit integers."""
    with np.errstate(over="ignore"):
        z = values ^ (values >> np.uint64(30))
        z = z * np.uint64(0xBF58476D1CE4E5B9)
        z = z ^ (z >> np.uint64(27))
        z = z * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def row_keys(X: np.ndarray, compiled: bool | None = None) -> np.ndarray:
    """A 64-bit hash of each row's values, shape ``(n_samples,)``; equal rows, equal keys.

    Each value's bits are salted by its column and scrambled before the columns are added,
    so values whose float bits differ only in a few high bits (small integers) still give
    independent-looking terms: distinct rows collide with probability about 2^-64.

    ``compiled`` chooses the compiled twin (the same keys) for a caller hashing a large
    array chunk by chunk; by default it runs where this call is large enough.
    """
    n_features = X.shape[1]
    salts = _mix(np.arange(1, n_features + 1, dtype=np.uint64) * _GOLDEN)
    unsigned = np.uint64 if X.dtype.itemsize == 8 else np.uint32
    keys = np.empty(X.shape[0], dtype=np.uint64)
    if use_compiled(X.size) if compiled is None else compiled:  # the same keys, one pass
        from mixture._start_compiled import row_keys_into

        info = np.finfo(X.dtype)
        fraction = unsigned((1 << info.nmant) - 1)
        exponent = unsigned(((1 << info.nexp) - 1) << info.nmant)
        quiet = unsigned(1 << (info.nmant - 1))
        negative_zero = np.array(-0.0, dtype=X.dtype).view(unsigned)[()]
        for rows in row_slices(X.shape[0], _COMPILED_CHUNK_ROWS):  # copies stay small
            bits = np.ascontiguousarray(X[rows]).view(unsigned)
            row_keys_into(bits, negative_zero, exponent, fraction, quiet, salts, keys[rows])
        return keys
    for rows in row_slices(X.shape[0], _CHUNK_ROWS):
        block = X[rows] + X.dtype.type(0.0)  # -0.0 becomes 0.0: equal values, equal bits
        bits = block.view(unsigned).astype(np.uint64)
        with np.errstate(over="ignore"):
            keys[rows] = _mix(_mix(bits ^ salts).sum(axis=1, dtype=np.uint64))
    return keys


def uniforms(keys: np.ndarray, seed: int, stream: int) -> np.ndarray:
    """Uniform numbers in (0, 1), one per key, for a ``seed`` and a ``stream`` of draws."""
    with np.errstate(over="ignore"):
        offset = _mix(np.uint64(seed) + np.uint64(stream + 1) * _GOLDEN)
        bits = _mix(keys ^ offset)
    return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53


@dataclass(frozen=True)
class RowGroups:
    """Rows grouped by identical content.

    Attributes
    ----------
    keys : ndarray of shape (n_groups,)
    group_of_row : ndarray of shape (n_samples,)
    weight : ndarray of shape (n_groups,)
        Summed sample weight of each group's rows.
    first_row : ndarray of shape (n_groups,)
        A row index of each group (its values are the group's values).
    """

    keys: np.ndarray
    group_of_row: np.ndarray
    weight: np.ndarray
    first_row: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray, sample_weight: np.ndarray | None) -> RowGroups:
        keys, first_row, group_of_row = np.unique(
            row_keys(X), return_index=True, return_inverse=True
        )
        weight = np.bincount(group_of_row, weights=sample_weight, minlength=keys.shape[0])
        return cls(keys, group_of_row, weight, first_row)

    @classmethod
    def of_distinct(cls, X: np.ndarray, sample_weight: np.ndarray | None) -> RowGroups:
        """Groups of rows known to be distinct (each row its own group, in row order):
        :meth:`of` without its sort."""
        n_rows = X.shape[0]
        rows = np.arange(n_rows)
        weight = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight, float)
        return cls(row_keys(X), rows, weight, rows)

    def race(
        self, scores: np.ndarray, seed: int, stream: int, count: int, compiled: bool | None = None
    ) -> np.ndarray:
        """Draw ``count`` distinct groups with probability proportional to ``scores``.

        Exponential races: group ``g`` gets ``-log(U_g) / scores[g]`` and the smallest win,
        which samples without replacement in proportion to the scores. ``compiled``
        chooses the compiled selection of the winners (the same winners) for a caller
        whose data is large enough for the compiled kernels; by default it runs where
        this call is large enough.

        Returns
        -------
        ndarray of shape (count,)
            Group indices, the first drawn first.
        """
        with np.errstate(divide="ignore", over="ignore"):  # a tiny score arrives never: inf
            arrival = -np.log(uniforms(self.keys, seed, stream)) / scores
        arrival[~(scores > 0)] = np.inf
        if count < arrival.size and (
            use_compiled(arrival.size) if compiled is None else compiled
        ):  # one pass
            from mixture._start_compiled import smallest

            return smallest(arrival, count)
        winners = (
            np.argpartition(arrival, count - 1)[:count]
            if count < arrival.size
            else (np.arange(arrival.size))
        )
        return winners[np.argsort(arrival[winners], kind="stable")]


def content_sample(
    X: np.ndarray,
    sample_weight: np.ndarray | None,
    size: int,
    seed: int,
    chunk_rows: int = _SAMPLE_CHUNK_ROWS,
) -> tuple[np.ndarray, np.ndarray]:
    """The rows of :func:`mixture.sources.row_sample`, found in threads, as row indices.

    Every row of positive weight draws ``uniforms(row_keys(row), seed, 0)``; the distinct
    rows with the ``size`` smallest draws are kept, each once with the summed weight of its
    copies (equal rows draw equal numbers). The result depends only on the weighted
    multiset of rows. Chunks are hashed in the package's threads, a few at a time; between
    batches the cut-off (the ``size``-th smallest draw so far) only falls, so a chunk
    hashed with an older cut-off merely offers more candidates. Memory: three numbers per
    candidate, at most ``2 * size`` candidates plus a batch's.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None
    size : int
    seed : int
    chunk_rows : int
        Rows hashed per task (the sample does not depend on it). On 500,000 x 8 rows,
        4,096-row chunks took 11.5 ms on one thread and 22 ms on two (the tasks were
        shorter than handing them over), 16,384-row chunks 8.7 and 9.9 ms; larger ones
        are faster still but hold more memory in flight (about 60 bytes a row per task).

    Returns
    -------
    index : ndarray of shape (m,)
        One row of each sampled distinct row, ordered by draw; ``m <= size``.
    weight : ndarray of shape (m,)
        Summed weight (the count, without ``sample_weight``) of each one's copies.
    """
    n_rows = X.shape[0] if sample_weight is None else int(np.count_nonzero(sample_weight > 0))
    # Draws are uniform, so the ``size`` smallest of ``n_rows`` distinct rows lie below
    # about ``size / n_rows``; a cut-off 8 standard deviations above that keeps only a
    # few extra candidates. If repeated rows leave fewer than ``size`` distinct ones
    # below it, the pass is made again without a cut-off (the sample is the same either
    # way: every row drawing below the cut-off was seen).
    expected = size / max(n_rows, 1)
    cut_off = expected * (1.0 + 8.0 / np.sqrt(size)) if n_rows > 2 * size else np.inf
    index, weight = _smallest_draws(X, sample_weight, size, seed, chunk_rows, cut_off)
    if index.shape[0] < size and cut_off < np.inf:
        index, weight = _smallest_draws(X, sample_weight, size, seed, chunk_rows, np.inf)
    return index, weight


def _smallest_draws(
    X: np.ndarray,
    sample_weight: np.ndarray | None,
    size: int,
    seed: int,
    chunk_rows: int,
    cut_off: float,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`content_sample` among the rows drawing at most ``cut_off``."""
    buffer = BottomK(size, threshold=cut_off)
    slices = list(row_slices(X.shape[0], chunk_rows))
    compiled = use_compiled(X.size)
    batch = 4 * worker_count()
    for first in range(0, len(slices), batch):
        threshold = buffer.threshold

        def candidates(rows: slice, threshold: float = threshold):
            draws = uniforms(row_keys(X[rows], compiled), seed, 0)
            enter = draws <= threshold
            if sample_weight is not None:
                enter &= sample_weight[rows] > 0
            index = np.flatnonzero(enter)
            weights = None if sample_weight is None else sample_weight[rows][index]
            return draws[index], index + rows.start, weights

        batch_slices = slices[first : first + batch]
        results = (
            [candidates(rows) for rows in batch_slices]
            if too_small_for_threads(X.size)
            else parallel_map(candidates, batch_slices)
        )
        for draws, index, weights in results:
            buffer.add(draws, index, weights)
    index, weight = buffer.result()
    return index.copy(), weight.copy()


class BottomK:
    """The candidates with the smallest draws so far: ``2 * size`` slots, cut back to the
    ``size`` smallest distinct draws whenever they fill. Each candidate carries a payload
    (its row, or its row's index) and a weight; equal draws are copies of one row (64-bit
    keys) and merge into one candidate carrying their summed weight, so repeated values
    (counts, categories) do not crowd the sample.

    Parameters
    ----------
    size : int
    payload_shape : tuple of int
        Shape of one payload: ``(n_features,)`` for rows, ``()`` for row indices.
    dtype : dtype of the payload
    threshold : float
        Candidates drawing above it need not be offered; lowered to the ``size``-th
        smallest draw once that many are held.
    """

    def __init__(
        self,
        size: int,
        payload_shape: tuple[int, ...] = (),
        dtype: Any = np.int64,
        threshold: float = np.inf,
    ) -> None:
        self.size = size
        capacity = 2 * size
        self.payload = np.empty((capacity, *payload_shape), dtype=dtype)
        self.draws = np.empty(capacity)
        self.weights = np.empty(capacity)
        self.filled = 0
        self.threshold = threshold
        self.merged = False  # whether copies were merged (the weights are then not all 1)

    def add(self, draws: np.ndarray, payload: np.ndarray, weights: np.ndarray | None) -> None:
        start = 0
        while start < draws.shape[0]:
            take = min(draws.shape[0] - start, self.draws.shape[0] - self.filled)
            end = self.filled + take
            self.draws[self.filled : end] = draws[start : start + take]
            self.payload[self.filled : end] = payload[start : start + take]
            self.weights[self.filled : end] = 1.0 if weights is None else weights[start:][:take]
            self.filled, start = end, start + take
            if self.filled == self.draws.shape[0]:
                self._cut()

    def _cut(self) -> None:
        # By draw, so the candidates kept, and their order, do not depend on the order of
        # arrival; copies merge into their first by draw order.
        n = self.filled
        if n == 0:
            return
        if use_compiled(n):  # a radix sort: the draws are non-negative
            from mixture._start_compiled import argsort_nonnegative

            order = argsort_nonnegative(self.draws[:n])
        else:
            order = np.argsort(self.draws[:n], kind="stable")
        draws = self.draws[order]
        first = np.flatnonzero(np.r_[True, draws[1:] != draws[:-1]])
        self.merged |= first.shape[0] < n
        weights = np.add.reduceat(self.weights[order], first)[: self.size]
        keep = order[first[: self.size]]
        kept = keep.shape[0]
        self.payload[:kept] = self.payload[keep]
        self.draws[:kept] = self.draws[keep]
        self.weights[:kept] = weights
        self.filled = kept
        if kept == self.size:
            self.threshold = min(self.threshold, float(self.draws[kept - 1]))

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """The payloads and weights of the candidates kept (views of the slots)."""
        self._cut()
        return self.payload[: self.filled], self.weights[: self.filled]
