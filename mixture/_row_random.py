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

import numpy as np

from mixture._chunking import row_slices

_CHUNK_ROWS = 65536
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijective scrambling of 64-bit integers."""
    with np.errstate(over="ignore"):
        z = values ^ (values >> np.uint64(30))
        z = z * np.uint64(0xBF58476D1CE4E5B9)
        z = z ^ (z >> np.uint64(27))
        z = z * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def row_keys(X: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row's values, shape ``(n_samples,)``; equal rows, equal keys.

    Each value's bits are salted by its column and scrambled before the columns are added,
    so values whose float bits differ only in a few high bits (small integers) still give
    independent-looking terms: distinct rows collide with probability about 2^-64.
    """
    n_features = X.shape[1]
    salts = _mix(np.arange(1, n_features + 1, dtype=np.uint64) * _GOLDEN)
    unsigned = np.uint64 if X.dtype.itemsize == 8 else np.uint32
    keys = np.empty(X.shape[0], dtype=np.uint64)
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

    def race(self, scores: np.ndarray, seed: int, stream: int, count: int) -> np.ndarray:
        """Draw ``count`` distinct groups with probability proportional to ``scores``.

        Exponential races: group ``g`` gets ``-log(U_g) / scores[g]`` and the smallest win,
        which samples without replacement in proportion to the scores.

        Returns
        -------
        ndarray of shape (count,)
            Group indices, the first drawn first.
        """
        with np.errstate(divide="ignore", over="ignore"):  # a tiny score arrives never: inf
            arrival = -np.log(uniforms(self.keys, seed, stream)) / scores
        arrival[~(scores > 0)] = np.inf
        winners = (
            np.argpartition(arrival, count - 1)[:count]
            if count < arrival.size
            else (np.arange(arrival.size))
        )
        return winners[np.argsort(arrival[winners], kind="stable")]
