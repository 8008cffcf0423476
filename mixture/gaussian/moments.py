"""Weighted moments of a chunk of rows: what every covariance form's M-step is made from.

For K components with row weights ``w_ik``, a chunk's statistics are each component's
weight ``n_k = sum_i w_ik``, weighted mean ``m_k`` and centred scatter
``W_k = sum_i w_ik (x_i - m_k)(x_i - m_k)^T``, kept in one of four reduced forms:

===========  ============  ==========================================
form         scatter       what is kept of ``W_k``
===========  ============  ==========================================
full         (K, D, D)     every ``W_k``
shared       (D, D)        ``sum_k W_k``
diagonal     (K, D)        ``diag W_k``
spherical    (K,)          ``tr W_k``
===========  ============  ==========================================

Every function sums rows relative to the chunk's first row, so neither the means nor the
scatter ever add up numbers carrying the data's offset from the origin. The ``centred_*``
functions compute a scatter from exactly centred rows (the reference path, also used where
a faster formulation would cancel); the ``*_chunk_moments`` functions are the GEMM
formulations the engine runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from mixture.gaussian.kernels import block_rows, safe_divide, scatter_from_raw_moments

__all__ = [
    "centred_diagonal_scatter",
    "centred_full_scatter",
    "centred_shared_scatter",
    "centred_spherical_scatter",
    "diagonal_chunk_moments",
    "full_chunk_moments",
    "shared_chunk_moments",
    "spherical_chunk_moments",
]

Moments = tuple[np.ndarray, np.ndarray, np.ndarray]


def _weighted_centred_rows(
    X: np.ndarray, weights: np.ndarray, means: np.ndarray
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(k, sqrt(w_k) * (X - means[k]))`` for each component: one (n, D) temporary."""
    root = np.sqrt(weights)
    for k in range(means.shape[0]):
        centred = X - means[k].astype(X.dtype, copy=False)
        centred *= root[:, k, None]
        yield k, centred


def centred_full_scatter(X: np.ndarray, weights: np.ndarray, means: np.ndarray) -> np.ndarray:
    """``W_k`` for each component, shape ``(K, D, D)``, float64.

    Parameters
    ----------
    X : ndarray of shape (n, D)
    weights : ndarray of shape (n, K)
    means : ndarray of shape (K, D)
        The centres (the components' weighted means of ``X``).
    """
    n_features = X.shape[1]
    out = np.empty((means.shape[0], n_features, n_features))
    for k, rows in _weighted_centred_rows(X, weights, means):
        out[k] = rows.T @ rows
    return out


def centred_shared_scatter(X: np.ndarray, weights: np.ndarray, means: np.ndarray) -> np.ndarray:
    """``sum_k W_k``, shape ``(D, D)`` (arguments as :func:`centred_full_scatter`)."""
    n_features = X.shape[1]
    out = np.zeros((n_features, n_features))
    for _, rows in _weighted_centred_rows(X, weights, means):
        out += rows.T @ rows
    return out


def centred_diagonal_scatter(X: np.ndarray, weights: np.ndarray, means: np.ndarray) -> np.ndarray:
    """``diag W_k``, shape ``(K, D)`` (arguments as :func:`centred_full_scatter`)."""
    out = np.empty(means.shape)
    for k, rows in _weighted_centred_rows(X, weights, means):
        out[k] = np.einsum("nd,nd->d", rows, rows)
    return out


def centred_spherical_scatter(X: np.ndarray, weights: np.ndarray, means: np.ndarray) -> np.ndarray:
    """``tr W_k``, shape ``(K,)`` (arguments as :func:`centred_full_scatter`)."""
    out = np.empty(means.shape[0])
    for k, rows in _weighted_centred_rows(X, weights, means):
        out[k] = np.einsum("nd,nd->", rows, rows)
    return out


def _components_first(weights: np.ndarray, dtype: Any) -> np.ndarray:
    """``weights.T`` as a C-ordered ``(K, n)`` array of ``dtype`` (a view when possible)."""
    return np.ascontiguousarray(weights.T, dtype=dtype)


def _shifted_rows_and_means(
    X: np.ndarray, weights_t: np.ndarray, dtype: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rows_t = (X - X[0]).T`` ``(D, n)``, the weights ``(K,)`` and weighted means
    ``(K, D)`` (float64, relative to ``X[0]``)."""
    rows_t = np.empty((X.shape[1], X.shape[0]), dtype=dtype)
    np.subtract(X.T, X[0][:, None], out=rows_t)
    sums = np.dot(weights_t, rows_t.T).astype(np.float64)
    weight = weights_t.sum(axis=1, dtype=np.float64)
    return rows_t, weight, safe_divide(sums, weight)


def full_chunk_moments(X: np.ndarray, weights: np.ndarray) -> Moments:
    """Weight ``(K,)``, mean ``(K, D)`` and full scatter ``(K, D, D)`` of a chunk.

    Rows relative to the chunk's first row, transposed (D, n) so that centring and weighting
    run along contiguous rows; each component's scatter is then one GEMM on exactly centred
    rows, ``(sqrt(w_k) (y - m_k)) (sqrt(w_k) (y - m_k))^T``, in one reused buffer.

    Parameters
    ----------
    X : ndarray of shape (n, D), n >= 1
    weights : ndarray of shape (n, K)
    """
    dtype = X.dtype
    weights_t = _components_first(weights, dtype)
    rows_t, weight, mean = _shifted_rows_and_means(X, weights_t, dtype)
    n_features = X.shape[1]
    scatter = np.zeros((weight.shape[0], n_features, n_features))
    centres = mean.astype(dtype)[:, :, None]
    centred = np.empty_like(rows_t)
    for k in np.flatnonzero(weight > 0):
        np.subtract(rows_t, centres[k], out=centred)
        centred *= np.sqrt(weights_t[k])
        scatter[k] = np.dot(centred, centred.T)
    return weight, mean + X[0].astype(np.float64), scatter


def shared_chunk_moments(X: np.ndarray, weights: np.ndarray) -> Moments:
    """Weight ``(K,)``, mean ``(K, D)`` and pooled scatter ``sum_k W_k`` ``(D, D)``.

    The pooled scatter splits exactly, with ``s_i = sum_k w_ik`` and the row's own mean
    ``a_i = sum_k w_ik m_k / s_i``, into ``sum_i s_i (y_i - a_i)(y_i - a_i)^T + M^T L M``,
    where ``L = diag(w) - sum_i w_i w_i^T / s_i`` is the Laplacian of the ``(K, K)`` overlap
    ``O = sum_i w_i w_i^T / s_i``: off-diagonal ``-O_kj``, diagonal ``sum_{j != k} O_kj`` (no
    cancellation). ``L`` annihilates constants, so ``M`` may be centred at the pooled mean.
    Two GEMMs of size D x D x n and K x K x n replace K of size D x D x n, worked through
    in cache-sized blocks of rows.

    Parameters
    ----------
    X : ndarray of shape (n, D), n >= 1
    weights : ndarray of shape (n, K)
    """
    dtype = X.dtype
    weights_t = _components_first(weights, dtype)
    rows_t, weight, mean = _shifted_rows_and_means(X, weights_t, dtype)
    centres_t = np.ascontiguousarray(mean.T, dtype=dtype)
    n_components, n_features = mean.shape

    n_rows = X.shape[0]
    within = np.zeros((n_features, n_features))
    overlap = np.zeros((n_components, n_components))
    step = block_rows(n_rows, n_components + 2 * n_features)
    for first in range(0, n_rows, step):
        block = slice(first, min(first + step, n_rows))
        part = weights_t[:, block]
        totals = part.sum(axis=0)
        shares = part / np.where(totals > 0, totals, 1)
        centred = np.dot(centres_t, shares)
        np.subtract(rows_t[:, block], centred, out=centred)
        within += np.dot(centred * totals, centred.T)
        overlap += np.dot(shares, part.T)
    laplacian = -overlap
    laplacian[np.diag_indices_from(laplacian)] = overlap.sum(axis=1) - np.diagonal(overlap)
    total = weight.sum()
    spread = mean - (weight @ mean) / total if total > 0 else mean
    between = spread.T @ laplacian @ spread
    return weight, mean + X[0].astype(np.float64), within + between


def _raw_moments(
    X: np.ndarray, weights_t: np.ndarray, reference: np.ndarray, squares: str
) -> np.ndarray:
    """``weights_t @ [q(y) ; y]^T`` for rows ``y = X - reference``, float64, ``(K, m)``.

    ``q(y)`` is ``y_j^2`` per feature (``squares="each"``) or ``sum_j y_j^2``
    (``squares="sum"``). The rows are worked through in cache-sized blocks whose sums add
    up.
    """
    n_rows, n_features = X.shape
    n_quadratic = n_features if squares == "each" else 1
    n_terms = n_quadratic + n_features

    total = np.zeros((weights_t.shape[0], n_terms))
    step = block_rows(n_rows, n_terms)
    features = np.empty((n_terms, step))
    for first in range(0, n_rows, step):
        last = min(first + step, n_rows)
        block = features[:, : last - first]
        linear = block[n_quadratic:]
        np.subtract(X[first:last].T, reference[:, None], out=linear)
        if n_quadratic == 1:
            np.einsum("jn,jn->n", linear, linear, out=block[0])
        else:
            np.square(linear, out=block[:n_quadratic])
        total += np.dot(weights_t[:, first:last], block.T)
    return total


def _moments_by_expansion(
    X: np.ndarray,
    weights: np.ndarray,
    one_scale: bool,
    centred: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
) -> Moments:
    """Diagonal or spherical chunk moments from raw moments.

    Raw weighted moments about the chunk's first row come from one float64 GEMM per block
    of rows; the scatter is ``raw - w m^2``, and a component where that cancels by more than
    ``SCATTER_LIMIT`` gets its scatter from exactly centred rows (``centred``).
    """
    weights_t = _components_first(weights, np.float64)
    n_features = X.shape[1]
    reference = X[0].astype(np.float64)
    moments = _raw_moments(X, weights_t, reference, squares="sum" if one_scale else "each")
    weight = weights_t.sum(axis=1)
    mean = safe_divide(moments[:, -n_features:], weight)
    quadratic = moments[:, :-n_features]
    scatter, cancelled = scatter_from_raw_moments(quadratic, weight, mean, one_scale)
    redo = np.flatnonzero(cancelled)
    if redo.size:
        scatter[redo] = centred(X - reference, weights_t[redo].T, mean[redo])
    return weight, mean + reference, scatter


def diagonal_chunk_moments(X: np.ndarray, weights: np.ndarray) -> Moments:
    """Weight ``(K,)``, mean ``(K, D)`` and ``diag W_k`` ``(K, D)`` of a chunk: one GEMM per
    block of rows, ``(K, rows) @ (rows, 2 D)``, gives ``sum_i w_ik y_i^2`` and
    ``sum_i w_ik y_i`` for all components."""
    return _moments_by_expansion(X, weights, False, centred_diagonal_scatter)


def spherical_chunk_moments(X: np.ndarray, weights: np.ndarray) -> Moments:
    """Weight ``(K,)``, mean ``(K, D)`` and ``tr W_k`` ``(K,)`` of a chunk: as
    :func:`diagonal_chunk_moments` with the squared norm ``|y|^2`` as the one quadratic
    feature."""
    return _moments_by_expansion(X, weights, True, centred_spherical_scatter)
