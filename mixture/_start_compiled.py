"""Compiled (numba) per-row kernels of the start: row hashes, distances to a few centres,
the labelling passes of Lloyd's k-means, the k-means++ steps and the sample's sort.

Twins of the numpy code in :mod:`mixture._row_random` (:func:`row_keys`, the same 64-bit
keys bit for bit: integer arithmetic; the race's winners; the sort of the sample's draws,
the same stable order), :mod:`mixture.initializers` (squared distances to k-means++
candidates, their potentials) and :mod:`mixture._kmeans` (a chunk's labels, cluster
weights, sums and inertia), the floating-point ones equal to round-off. numpy spends
several passes over a chunk's ``(rows, D)`` values on each; these make one, without
temporaries, and release the GIL so the package's threads run chunks in parallel. Each
row's result is computed the same way whatever chunk it is in, so starts stay independent
of chunking.

Imported only when numba is available (:mod:`mixture._compiled`).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "argsort_nonnegative",
    "best_candidate",
    "label_chunk",
    "row_keys_into",
    "smallest",
    "squared_distances_into",
]


@numba.njit(cache=True, nogil=True, inline="always")
def _mix(z):  # pragma: no cover - compiled
    """splitmix64's finaliser, as :func:`mixture._row_random._mix` (uint64 wraps)."""
    z = z ^ (z >> np.uint64(30))
    z = z * np.uint64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True)
def row_keys_into(bits, negative_zero, exponent, fraction, quiet, salts, keys):  # pragma: no cover
    """``keys[n] = mix(sum_j mix(bits[n, j] ^ salts[j]))`` (sums wrap modulo 2^64), with
    the bits read as numpy's ``x + 0.0`` leaves them: ``-0.0`` as ``0.0``, a signalling NaN
    quieted (equal values, equal keys, and the numpy twin's keys).

    Parameters
    ----------
    bits : ndarray of uint64 or uint32, shape (n, D)
        The values' bits.
    negative_zero, exponent, fraction, quiet : uint64 or uint32
        In that width: the bits of ``-0.0``, the exponent's and the fraction's masks, and
        the quiet-NaN bit.
    salts : ndarray of uint64, shape (D,)
    keys : ndarray of uint64, shape (n,), output
    """
    n, D = bits.shape
    for row in range(n):
        total = np.uint64(0)
        for j in range(D):
            value = bits[row, j]
            if value == negative_zero:
                value ^= value  # 0 of the same unsigned type (a literal 0 would be signed)
            elif (value & exponent) == exponent and (value & fraction) != 0:
                value |= quiet
            total += _mix(np.uint64(value) ^ salts[j])
        keys[row] = _mix(total)


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def squared_distances_into(X, centres, inverse_scale, out, first):  # pragma: no cover
    """``out[c, first + n] = sum_j ((X[n, j] - centres[c, j]) * inverse_scale)^2``.

    Parameters
    ----------
    X : ndarray of shape (n, D)
    centres : ndarray of shape (C, D), X's dtype
    inverse_scale : float of X's dtype
        ``1 / scale``, finite: distances in units of ``scale``.
    out : ndarray of shape (C, N), float64, output (columns ``first`` to ``first + n``)
    first : int

    The sum over features is vectorised (reassociated) the same way for every row. Centres
    are taken four at a time, so that the four sums are independent chains the processor
    overlaps (one sum at a time waits on each multiply-add: 20,000 x 64 rows and four
    centres took 0.9 ms); the remaining centres one at a time.
    """
    n, D = X.shape
    C = centres.shape[0]
    grouped = C - C % 4
    for row in range(n):
        for c in range(0, grouped, 4):
            total0 = total1 = total2 = total3 = 0.0
            for j in range(D):
                x = X[row, j]
                d0 = (x - centres[c, j]) * inverse_scale
                d1 = (x - centres[c + 1, j]) * inverse_scale
                d2 = (x - centres[c + 2, j]) * inverse_scale
                d3 = (x - centres[c + 3, j]) * inverse_scale
                total0 += d0 * d0
                total1 += d1 * d1
                total2 += d2 * d2
                total3 += d3 * d3
            out[c, first + row] = total0
            out[c + 1, first + row] = total1
            out[c + 2, first + row] = total2
            out[c + 3, first + row] = total3
        for c in range(grouped, C):
            total = 0.0
            for j in range(D):
                d = (X[row, j] - centres[c, j]) * inverse_scale
                total += d * d
            out[c, first + row] = total


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def label_chunk(
    X,
    reference,
    inverse_scale,
    minus_two_centres,
    centre_norms,
    sample_weight,
    labels,
    count_changes,
    want_sums,
    want_inertia,
    sums,
    weights,
):  # pragma: no cover - compiled
    """One chunk of a Lloyd labelling pass (:func:`mixture._kmeans._labelling_pass`).

    Each row, shifted by ``reference`` and multiplied by ``inverse_scale`` (a power of two:
    exact), gets the label of its smallest score ``|c|^2 - 2 x.c`` (ties to the lower
    label); its weight, and optionally its shifted values, are added to its cluster.

    Parameters
    ----------
    X : ndarray of shape (n, D)
    reference : ndarray of shape (D,), X's dtype
    inverse_scale : float of X's dtype
    minus_two_centres : ndarray of shape (K, D), X's dtype
    centre_norms : ndarray of shape (K,)
    sample_weight : ndarray of shape (n,) or (0,)
    labels : ndarray of unsigned integers, shape (n,), updated in place
    count_changes, want_sums, want_inertia : bool
    sums : ndarray of shape (K, D), float64, added to
    weights : ndarray of shape (K,), float64, added to

    Returns
    -------
    changed : int
        Rows whose label changed (when ``count_changes``).
    inertia : float
        Weighted sum of squared distances in frame units (when ``want_inertia``).
    """
    n, D = X.shape
    K = minus_two_centres.shape[0]
    grouped = K - K % 4
    weighted = sample_weight.shape[0] > 0
    shifted = np.empty(D, dtype=X.dtype)
    changed = 0
    inertia = 0.0
    for row in range(n):
        norm = 0.0
        for j in range(D):
            value = (X[row, j] - reference[j]) * inverse_scale
            shifted[j] = value
            norm += value * value
        best = np.inf
        label = 0
        # Four centres at a time: four independent sums the processor overlaps (one sum
        # at a time waits on each multiply-add); then the rest one at a time. The scores
        # are compared in centre order, as one at a time.
        for k in range(0, grouped, 4):
            score0 = centre_norms[k]
            score1 = centre_norms[k + 1]
            score2 = centre_norms[k + 2]
            score3 = centre_norms[k + 3]
            for j in range(D):
                value = shifted[j]
                score0 += minus_two_centres[k, j] * value
                score1 += minus_two_centres[k + 1, j] * value
                score2 += minus_two_centres[k + 2, j] * value
                score3 += minus_two_centres[k + 3, j] * value
            if score0 < best or k == 0:
                best, label = score0, k
            if score1 < best:
                best, label = score1, k + 1
            if score2 < best:
                best, label = score2, k + 2
            if score3 < best:
                best, label = score3, k + 3
        for k in range(grouped, K):
            score = centre_norms[k]
            for j in range(D):
                score += minus_two_centres[k, j] * shifted[j]
            if score < best or k == 0:
                best = score
                label = k
        if count_changes and labels[row] != label:
            changed += 1
        labels[row] = label
        w = sample_weight[row] if weighted else 1.0
        weights[label] += w
        if want_sums:
            for j in range(D):
                sums[label, j] += w * shifted[j]
        if want_inertia:
            distance = best + norm
            if distance > 0.0:
                inertia += w * distance
    return changed, inertia


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def best_candidate(closest, to_candidates, group_weight, first_row):  # pragma: no cover
    """The k-means++ candidate whose addition leaves the smallest weighted potential.

    The potential is summed over the groups of equal rows in their own order (by key, or
    the sample's draw order), not over rows in storage order, so that candidates whose
    potentials tie up to round-off are decided the same way whatever the order of the rows.

    Parameters
    ----------
    closest : ndarray of shape (n,)
        Each row's squared distance to its closest seed so far.
    to_candidates : ndarray of shape (C, n)
        Each row's squared distance to each candidate.
    group_weight : ndarray of shape (G,)
    first_row : ndarray of int, shape (G,)
        A row of each group.

    Returns
    -------
    best : int
        The candidate (the first of equal ones).
    potential : float
        ``sum_g w_g min(closest, to_candidates[best])`` at the groups' rows.
    """
    best = 0
    best_potential = np.inf
    for c in range(to_candidates.shape[0]):
        potential = 0.0
        for g in range(first_row.shape[0]):
            row = first_row[g]
            potential += group_weight[g] * min(closest[row], to_candidates[c, row])
        if potential < best_potential:
            best, best_potential = c, potential
    return best, best_potential


@numba.njit(cache=True, nogil=True)
def smallest(values, count):  # pragma: no cover - compiled
    """Indices of the ``count`` smallest values, smallest first (ties: lower index first),
    in one pass keeping a sorted list of ``count``."""
    chosen = np.empty(max(count, 0), dtype=np.int64)
    kept = 0
    if count <= 0:
        return chosen
    for i in range(values.shape[0]):
        v = values[i]
        if kept == count and not v < values[chosen[kept - 1]]:
            continue
        position = kept if kept < count else count - 1
        while position > 0 and v < values[chosen[position - 1]]:
            if position < count:
                chosen[position] = chosen[position - 1]
            position -= 1
        chosen[position] = i
        if kept < count:
            kept += 1
    return chosen[:kept]


@numba.njit(cache=True, nogil=True)
def argsort_nonnegative(values):  # pragma: no cover - compiled
    """Stable argsort of non-negative floats: an LSD radix sort of their bits (for
    non-negative IEEE 754 numbers, the order of the bits read as unsigned integers is the
    order of the numbers), four passes of 16 bits, O(n) where a comparison sort is
    O(n log n).

    Parameters
    ----------
    values : ndarray of float64, shape (n,)
        No negative number, no NaN.

    Returns
    -------
    ndarray of int64, shape (n,)
    """
    keys = values.view(np.uint64)
    n = keys.shape[0]
    order = np.arange(n)
    scratch = np.empty(n, dtype=np.int64)
    counts = np.empty(65537, dtype=np.int64)
    for shift in range(0, 64, 16):
        counts[:] = 0
        for i in range(n):
            counts[((keys[order[i]] >> np.uint64(shift)) & np.uint64(0xFFFF)) + 1] += 1
        for digit in range(65536):
            counts[digit + 1] += counts[digit]
        for i in range(n):
            index = order[i]
            digit = (keys[index] >> np.uint64(shift)) & np.uint64(0xFFFF)
            scratch[counts[digit]] = index
            counts[digit] += 1
        order, scratch = scratch, order
    return order
