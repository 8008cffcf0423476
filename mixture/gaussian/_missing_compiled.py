"""Compiled (numba) kernels for the E-step of rows with missing values.

The formulas are those of :mod:`mixture.gaussian.missing`; this module computes them one row
at a time, where the numpy version needs ``(K, rows, m, m)`` temporaries per number of
missing values ``m``. The products with the full precision matrices stay in BLAS: the
caller passes ``G = X0 @ [P_1 ... P_K]`` for the rows with missing values set to 0, and a
row's ``P_k d0`` (``d0`` its centred values, missing ones at 0) is ``G`` minus the
correction of its few missing columns, ``O(D m)`` work. What depends only on the pattern of
missing values (the factors of each component's ``P_MM``, its log-determinant, its inverse)
is computed once per run of consecutive rows sharing the pattern. The kernels release the
GIL, so the engine's threads run them in parallel.

Imported only when numba is available (:mod:`mixture._compiled`).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["e_step_block"]

_LOG_2PI = float(np.log(2.0 * np.pi))


_FLAGS = {"contract", "reassoc"}  # fused multiply-adds and vectorised sums; NaN kept


@numba.njit(cache=True, nogil=True, fastmath=_FLAGS)
def e_step_block(
    filled,
    gaps,
    products,
    precisions,
    precisions_by_cell,
    means,
    precision_means,
    log_det,
    log_weights,
    sample_weight,
    given,
    joint,
    weights,
    log_density,
    scaled,
    offsets,
    spread,
):  # pragma: no cover - compiled
    """One block's E-step for rows with missing values: log-joints, responsibilities and
    the statistics of the conditionally completed rows.

    Parameters
    ----------
    filled : ndarray of shape (n, D)
        The rows, missing values set to 0.
    gaps : ndarray of bool, shape (n, D)
        True where a value is missing.
    products : ndarray of shape (n, K * D)
        ``filled @ [P_1 ... P_K]``.
    precisions : ndarray of shape (K, D, D)
    precisions_by_cell : ndarray of shape (D, D, K)
        The same, the component index last.
    means : ndarray of shape (K, D)
    precision_means : ndarray of shape (K, D)
        ``P_k mu_k``.
    log_det : ndarray of shape (K,)
        ``log det Sigma_k``.
    log_weights : ndarray of shape (K,)
    sample_weight : ndarray of shape (n,) or (0,)
        Row weights (empty: all 1).
    given : bool
        True: ``weights`` holds the responsibilities (times row weights) on entry and is
        kept; False: they are computed from the log-joints.
    joint : ndarray of shape (n, K), output
        ``log w_k + log N(x_O; mu_kO, Sigma_kOO)``.
    weights : ndarray of shape (n, K), input or output
        Responsibilities times row weights.
    log_density : ndarray of shape (n,), output
        ``log p(x_O)`` (when not ``given``).
    scaled : ndarray of shape (K, n, D), output
        ``sqrt(w_nk) (x_hat - mu_k)``, with ``x_hat`` the observed values and the missing
        values' conditional means: ``scaled[k].T @ scaled[k]`` is the completed rows'
        weighted scatter about ``mu_k``.
    offsets : ndarray of shape (K, D), added to
        ``sum_n w_nk (x_hat - mu_k)``.
    spread : ndarray of shape (D, D, K), added to (lower triangle only)
        ``sum_n w_nk Cov_k[x_M | x_O]`` with ``Cov = P_MM^-1``, the component index last.

    Returns
    -------
    int
        -1, or (when not ``given``) the first row whose log-joints have no finite maximum
        or hold a NaN; the block's weights are then not computed and the caller reports
        that row.
    """
    n, D = filled.shape
    K = means.shape[0]
    row_missing = np.empty(D, dtype=np.int64)
    missing = np.empty(D, dtype=np.int64)  # the missing features of the current pattern
    m = -1  # their number (-1: no pattern yet)
    product = np.empty((K, D))
    centred = np.empty((K, D))
    quadratic = np.empty(K)
    # The pattern's small systems for all K components at once, the component index
    # innermost, so that each step of the factorisation and the solves is one vector
    # operation over K. They depend only on the pattern, so a run of rows with the same
    # missing features (common in real tables) factors once.
    lower = np.empty((D, D, K))
    reciprocal = np.empty((D, K))
    pattern_log_det = np.empty(K)
    conditional = np.empty((D, D, K))  # P_MM^-1, lower triangle
    pattern_weight = np.zeros(K)  # the run's summed weights, for its share of the spread
    inverse = np.empty((D, D, K))
    z = np.empty((D, K))
    acc = np.empty(K)
    weighted_rows = sample_weight.shape[0] > 0
    for row in range(n):
        row_m = 0
        for i in range(D):
            if gaps[row, i]:
                row_missing[row_m] = i
                row_m += 1
        same = row_m == m
        for a in range(row_m):
            same = same and row_missing[a] == missing[a]
        if not same:
            _add_spread(spread, conditional, pattern_weight, missing, m)
            m = row_m
            for a in range(m):
                missing[a] = row_missing[a]
            _factor_pattern(
                precisions_by_cell,
                missing,
                m,
                lower,
                reciprocal,
                pattern_log_det,
                inverse,
                conditional,
                acc,
            )
        observed_constant = (D - m) * _LOG_2PI
        for k in range(K):
            # P d0 = P x0 - P mu + P (mu at the missing coordinates only); P is symmetric,
            # so the correction reads rows of P.
            offset = k * D
            for i in range(D):
                product[k, i] = products[row, offset + i] - precision_means[k, i]
            for a in range(m):
                j = missing[a]
                mean_j = means[k, j]
                for i in range(D):
                    product[k, i] += precisions[k, j, i] * mean_j
            total = 0.0
            for i in range(D):
                d = 0.0 if gaps[row, i] else filled[row, i] - means[k, i]
                centred[k, i] = d
                total += d * product[k, i]
            quadratic[k] = total
        if m > 0:
            # z = L^-1 b with b = (P d0)_M: b^T P_MM^-1 b = |z|^2.
            for a in range(m):
                for k in range(K):
                    z[a, k] = product[k, missing[a]]
                for c in range(a):
                    for k in range(K):
                        z[a, k] -= lower[a, c, k] * z[c, k]
                for k in range(K):
                    z[a, k] *= reciprocal[a, k]
                    quadratic[k] -= z[a, k] * z[a, k]
            # The conditional mean minus the mean: -P_MM^-1 b = -L^-T z.
            for a in range(m - 1, -1, -1):
                for c in range(a + 1, m):
                    for k in range(K):
                        z[a, k] -= lower[c, a, k] * z[c, k]
                for k in range(K):
                    z[a, k] *= reciprocal[a, k]
                    centred[k, missing[a]] = -z[a, k]
        for k in range(K):
            # log det Sigma_OO = log det Sigma + log det P_MM.
            joint[row, k] = log_weights[k] - 0.5 * (
                quadratic[k] + log_det[k] + pattern_log_det[k] + observed_constant
            )
        if not given:
            top = joint[row, 0]
            for k in range(1, K):
                if joint[row, k] > top:
                    top = joint[row, k]
            bad = not np.isfinite(top)
            for k in range(K):
                bad = bad or np.isnan(joint[row, k])
            if bad:
                return row
            total = 0.0
            for k in range(K):
                shifted = joint[row, k] - top
                # exp underflows to 0 on its slow path: skip it (as the numpy version does).
                r = np.exp(shifted) if shifted > -700.0 else 0.0
                weights[row, k] = r
                total += r
            log_density[row] = np.log(total) + top
            scale = 1.0 / total
            if weighted_rows:
                scale *= sample_weight[row]
            for k in range(K):
                weights[row, k] *= scale
        for k in range(K):
            w = weights[row, k]
            pattern_weight[k] += w
            root = np.sqrt(w)
            for i in range(D):
                offsets[k, i] += centred[k, i] * w
                scaled[k, row, i] = centred[k, i] * root
    _add_spread(spread, conditional, pattern_weight, missing, m)
    return -1


@numba.njit(cache=True, nogil=True, fastmath=_FLAGS)
def _factor_pattern(
    precisions_by_cell, missing, m, lower, reciprocal, pattern_log_det, inverse, conditional, acc
):  # pragma: no cover - compiled
    """For missing features ``missing[:m]``: the Cholesky factors ``L_k`` of every
    ``P_k[M, M]`` (``lower``, the reciprocals of their diagonals), ``log det P_k[M, M]``
    and ``P_k[M, M]^-1 = L_k^-T L_k^-1`` (``conditional``, lower triangle), all k at once.
    With ``m = 0`` the log-determinants are 0. NaN where a block is not positive definite,
    as numpy's square root gives."""
    K = pattern_log_det.shape[0]
    for k in range(K):
        pattern_log_det[k] = 1.0  # the product of the pivots, first
    for a in range(m):
        for b in range(a + 1):
            i, j = missing[a], missing[b]
            for k in range(K):
                acc[k] = precisions_by_cell[i, j, k]
            for c in range(b):
                for k in range(K):
                    acc[k] -= lower[a, c, k] * lower[b, c, k]
            if b < a:
                for k in range(K):
                    lower[a, b, k] = acc[k] * reciprocal[b, k]
            else:
                for k in range(K):
                    pivot = np.sqrt(acc[k])
                    lower[a, a, k] = pivot
                    reciprocal[a, k] = 1.0 / pivot
                    pattern_log_det[k] *= pivot
    for k in range(K):
        pivots = pattern_log_det[k]
        if pivots > 0.0 and np.isfinite(pivots):  # one log for the whole diagonal
            pattern_log_det[k] = 2.0 * np.log(pivots)
        else:  # the product under- or overflowed (or a pivot is NaN)
            total = 0.0
            for a in range(m):
                total += 2.0 * np.log(lower[a, a, k])
            pattern_log_det[k] = total
    # L^-1 by forward substitution, then P_MM^-1 = L^-T L^-1: entry (a, b), a >= b, sums
    # over rows c >= a of L^-1.
    for a in range(m):
        for b in range(a):
            for k in range(K):
                acc[k] = 0.0
            for c in range(b, a):
                for k in range(K):
                    acc[k] -= lower[a, c, k] * inverse[c, b, k]
            for k in range(K):
                inverse[a, b, k] = acc[k] * reciprocal[a, k]
        for k in range(K):
            inverse[a, a, k] = reciprocal[a, k]
    for a in range(m):
        for b in range(a + 1):
            for k in range(K):
                acc[k] = 0.0
            for c in range(a, m):
                for k in range(K):
                    acc[k] += inverse[c, a, k] * inverse[c, b, k]
            for k in range(K):
                conditional[a, b, k] = acc[k]


@numba.njit(cache=True, nogil=True, fastmath=_FLAGS)
def _add_spread(spread, conditional, pattern_weight, missing, m):  # pragma: no cover
    """Add a run of rows' share ``sum_n w_nk P_k[M, M]^-1`` to ``spread`` (at the missing
    features, lower triangle) and reset the run's weights."""
    K = pattern_weight.shape[0]
    for a in range(m):
        for b in range(a + 1):
            # missing is increasing, so (missing[a], missing[b]) is in the lower triangle.
            i, j = missing[a], missing[b]
            for k in range(K):
                spread[i, j, k] += pattern_weight[k] * conditional[a, b, k]
    for k in range(K):
        pattern_weight[k] = 0.0
