"""Log-density kernels: the E-step of a Gaussian family as GEMMs over row blocks.

A fitted :class:`~mixture.gaussian.family.GaussianFamily` asks its covariance form for
a kernel once per M-step (:meth:`CovarianceForm.kernel`) and calls it on
every chunk of rows. The kernels expand each squared Mahalanobis distance into an inner
product of per-component coefficients with features of the row shared by all components,
so one GEMM gives all K distances, with no ``(n, K, D)`` temporary. Where they can, the
kernels also compute a chunk's responsibilities and its raw weighted moments in the same
pass over the rows (:meth:`LogDensityKernel.fused_statistics`), reusing the features of
the E-step for the M-step's statistics.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from mixture._compiled import use_compiled
from mixture._responsibilities import log_density_and_responsibilities, rows_from
from mixture.gaussian._layouts import PRODUCTS, SQUARES, SUM_OF_SQUARES

__all__ = ["ChunkMoments", "LogDensityKernel"]

_LOG_2PI = float(np.log(2.0 * np.pi))

#: Expanded distances. The E-step of every structure can expand the squared distance of a
#: row y (shifted by the reference point) to component k into one inner product,
#: ``q_k(y) = c_k . f(y) + q_k(0)``, with features f(y) shared by all components
#: (``y_i y_j`` and ``y`` for full covariance, ``y_j^2`` and ``y`` for diagonal, ...), so
#: that one GEMM gives all K distances. Where a row lies near a component far from the
#: reference the terms cancel: rounding adds up to about ``2**-53 * M_k * sqrt(m)``, with
#: ``m`` terms whose absolute values sum to ``M_k`` at the component's mean. A component is
#: expanded only while ``M_k * sqrt(m) <= EXPANSION_LIMIT``, which bounds that error by
#: ``2**-32`` (2.3e-10 nats; measured errors are 5-10 times smaller and comparable to those
#: of the direct evaluation). Other components are evaluated directly (no cancellation).
EXPANSION_LIMIT = 2.0**21

#: Raw moments. The M-step statistics of the diagonal and spherical structures (and of the
#: full one in the fused E-step) come from raw weighted moments about a reference point,
#: ``sum_i w_i y_i^2 - w m^2``, one GEMM for all components. Where the raw moment exceeds
#: the centred one by more than this factor (a component whose mean lies more than 64
#: standard deviations from the reference), the centred scatter of that component is
#: recomputed from exactly centred rows, so at most 12 bits are lost to cancellation,
#: wherever the data lie.
SCATTER_LIMIT = 2.0**12

#: Relative cost of one element-wise numpy operation, in multiply-adds of a GEMM: used to
#: choose between the expanded and the projected full-covariance E-step.
ELEMENT_COST = 25.0

#: Bytes of the blocks (features or projected rows) the E-step works through at a time, so
#: that the element-wise passes run in cache; the quadratic features of the full-covariance
#: expansion need longer blocks to keep the number of numpy calls per row small.
BLOCK_BYTES = 1024 * 1024
FEATURE_BLOCK_BYTES = 4 * 1024 * 1024

#: Features per row from which the fused E-step runs compiled (with numba installed): one
#: thread's time per row, compiled against numpy, K = 8: 138 against 191 ns at 64 features
#: (diagonal, D = 32), 177 against 252 at 65 (spherical, D = 64), 209 against 323 at 128;
#: but 106 against 94 at 32 and 96 against 63 at 20, where the per-row work between the
#: GEMMs outweighs what the numpy calls cost. The compiled pass also releases the GIL, so
#: two threads run it side by side.
COMPILED_MIN_TERMS = 64


@lru_cache(maxsize=64)
def upper_triangle(n_features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column indices of the upper triangle (``i <= j``) of a ``(D, D)`` matrix, and
    the factor (1 on the diagonal, 2 off it) that folds the symmetric lower half into it.

    Cached: ``np.triu_indices`` costs as much as the rest of a small kernel's set-up, and
    every M-step builds a kernel. The arrays are read-only.
    """
    rows, columns = np.triu_indices(n_features)
    doubling = np.where(rows == columns, 1.0, 2.0)
    for array in (rows, columns, doubling):
        array.flags.writeable = False
    return rows, columns, doubling


@lru_cache(maxsize=64)
def _all_components(n_components: int) -> np.ndarray:
    """``arange(n_components)``, read-only and cached (kernels keep lists of components)."""
    indices = np.arange(n_components)
    indices.flags.writeable = False
    return indices


_NONE = _all_components(0)


def safe_divide(sums: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``sums / weight[:, None]``, 0 where the weight is 0."""
    out = np.zeros(sums.shape)
    return np.divide(sums, weight[:, None], out=out, where=weight[:, None] > 0)


class LogDensityKernel(ABC):
    """Log-densities of K Gaussians of one structure, prepared for rows of one dtype.

    A fitted family builds one per dtype (:meth:`CovarianceForm.kernel`)
    and calls it on every chunk of rows, so everything that depends only on the parameters
    (stacked factors, expansion coefficients, constants) is computed once per M-step, not
    per chunk.
    """

    @abstractmethod
    def __call__(self, X: np.ndarray) -> np.ndarray:
        """``log p_k(x_i)`` for rows ``X`` of shape ``(n, D)``.

        Returns
        -------
        ndarray of shape (n, K) and the dtype of ``X``
            The built-in kernels return a Fortran-ordered array (a transposed ``(K, n)``
            one): each component's column is contiguous, so the log-sum-exp over components
            runs as K vectorised passes over rows instead of n short rows of length K.
        """

    def fused_statistics(
        self, X: np.ndarray, log_weights: np.ndarray, sample_weight: np.ndarray | None
    ) -> ChunkMoments | None:
        """A chunk's E-step and its Gaussian statistics in one pass over the rows.

        Parameters
        ----------
        X : ndarray of shape (n, D)
            Validated rows, ``n >= 1``.
        log_weights : ndarray of shape (K,)
            Log mixing weights (``-inf`` for a component of weight 0).
        sample_weight : ndarray of shape (n,) or None

        Returns
        -------
        ChunkMoments or None
            None where this kernel has no fused pass; the caller then runs the E-step and
            the statistics separately. Otherwise equal to those, up to rounding.
        """
        return None


@dataclass(frozen=True)
class ChunkMoments:
    """What the fused E-step of a chunk returns (weights include ``sample_weight``).

    Attributes
    ----------
    log_likelihood : float
        Weighted sum of the rows' ``log p(x)``.
    weight : ndarray of shape (K,)
        Summed responsibilities.
    mean : ndarray of shape (K, D)
        Weighted means (float64); the reference point where the weight is 0.
    scatter : ndarray
        Centred weighted scatter, in the structure's scatter shape (float64).
    """

    log_likelihood: float
    weight: np.ndarray
    mean: np.ndarray
    scatter: np.ndarray


#: ``scatter(X, weights, means)`` of a covariance structure: the centred scatter of rows
#: ``X`` (n, D) with weights (n, k) about means (k, D).
CentredScatter = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


class _BlockKernel(LogDensityKernel):
    """Shared driver: fills one ``(K, n)`` result, returned transposed; and, for kernels
    whose every component is expanded in float64, the fused E-step.

    The fused pass works through the chunk in blocks of rows. For each block it builds the
    features ``f(y)`` once, gets the ``(K, rows)`` log-densities from one GEMM, turns them
    into responsibilities ``R`` in place, and adds ``R f(y)^T`` to the raw moments: the
    features ``[y y^T (upper triangle) ; y]``, ``[y^2 ; y]`` or ``[|y|^2 ; y]`` are exactly
    the ones the M-step needs, so the statistics cost one more GEMM and no element-wise
    work. Raw moments are converted to centred ones after the pass; a component where that
    cancels by more than ``SCATTER_LIMIT`` gets its scatter recomputed from exactly centred
    rows (the chunk's responsibilities are kept for that).
    """

    _dtype: np.dtype
    _n_components: int
    _n_features: int
    _n_terms: int
    _reference: np.ndarray
    _coefficients: np.ndarray
    _offsets: np.ndarray
    #: Whether :meth:`fused_statistics` may run (set by the subclass).
    _fusable: bool = False
    #: The features' layout for the compiled fused pass
    #: (:mod:`mixture.gaussian._fused_compiled`), or None to run it in numpy only.
    _compiled_layout: int | None = None
    _centred_scatter: CentredScatter | None = None
    _block_bytes: int = BLOCK_BYTES

    def __call__(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((self._n_components, X.shape[0]), dtype=self._dtype)
        with np.errstate(over="ignore", invalid="ignore"):  # as in fused_statistics
            self._fill(X, out)
        return out.T

    @abstractmethod
    def _fill(self, X: np.ndarray, out: np.ndarray) -> None:
        """Write the ``(K, n)`` log-densities of rows ``X`` into ``out``."""

    def _features(self, rows: np.ndarray, block: np.ndarray) -> None:
        """Write the ``(m, rows)`` float64 features of ``rows`` ``(b, D)`` into ``block``;
        the last D features are the shifted rows ``y``."""
        raise NotImplementedError

    def _scatter_from_moments(
        self, raw: np.ndarray, weight: np.ndarray, mean: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Centred scatter from the raw second moments ``raw`` (K, m - D), and which
        components lost more than ``SCATTER_LIMIT`` to cancellation, shape (K,)."""
        raise NotImplementedError

    def fused_statistics(
        self, X: np.ndarray, log_weights: np.ndarray, sample_weight: np.ndarray | None
    ) -> ChunkMoments | None:
        if not self._fusable or self._centred_scatter is None:
            return None
        n_features = X.shape[1]
        compiled = self._compiled_moments(X, log_weights, sample_weight)
        resp, log_density, moments = (
            self._numpy_moments(X, log_weights, sample_weight) if compiled is None else compiled
        )
        weight = resp.sum(axis=1)
        mean = safe_divide(moments[:, -n_features:], weight)
        scatter, cancelled = self._scatter_from_moments(moments[:, :-n_features], weight, mean)
        if cancelled.any():
            redo = np.flatnonzero(cancelled)
            shifted = X - self._reference
            scatter[redo] = self._centred_scatter(shifted, resp[redo].T, mean[redo])
        log_likelihood = float(
            log_density.sum() if sample_weight is None else np.dot(sample_weight, log_density)
        )
        return ChunkMoments(log_likelihood, weight, mean + self._reference, scatter)

    def _numpy_moments(
        self, X: np.ndarray, log_weights: np.ndarray, sample_weight: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The fused pass in numpy, block by block: responsibilities (times row weights)
        ``(K, n)``, log-densities ``(n,)`` and the weighted sums of the features ``(K, m)``."""
        n_rows = X.shape[0]
        n_terms = self._n_terms
        resp = np.empty((self._n_components, n_rows))
        log_density = np.empty(n_rows)
        moments_t = np.zeros((n_terms, self._n_components))
        offsets = self._offsets + log_weights[:, None]
        step = block_rows(n_rows, n_terms, self._block_bytes)
        features = np.empty((n_terms, step))
        # Rows too large to square give inf or NaN, which the log-sum-exp reports as a
        # clear error naming the row; numpy's own overflow warnings would only add noise.
        with np.errstate(over="ignore", invalid="ignore"):
            for first in range(0, n_rows, step):
                last = min(first + step, n_rows)
                block = features[:, : last - first]
                self._features(X[first:last], block)
                values = resp[:, first:last]
                np.matmul(self._coefficients, block, out=values)
                values += offsets
                with rows_from(first):
                    log_density[first:last] = log_density_and_responsibilities(values.T)
                if sample_weight is not None:
                    values *= sample_weight[first:last]
                moments_t += np.dot(block, values.T)  # (m, K): faster than (K, m) in OpenBLAS
        return resp, log_density, moments_t.T

    def _compiled_moments(
        self, X: np.ndarray, log_weights: np.ndarray, sample_weight: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """:meth:`_numpy_moments` by the compiled loop
        (:func:`mixture.gaussian._fused_compiled.fused_moments`), or None where it does not
        run: no layout declared, fewer than ``COMPILED_MIN_TERMS`` features, numba absent
        or turned off, a chunk of fewer than ``COMPILED_MIN_VALUES`` values (numpy is as
        fast there, and a small fit should not load numba), or a row with no finite
        log-joint (the numpy pass names it)."""
        if (
            self._compiled_layout is None
            or self._n_terms < COMPILED_MIN_TERMS
            or not use_compiled(X.size)
        ):
            return None
        from mixture.gaussian._fused_compiled import fused_moments

        n_rows = X.shape[0]
        resp = np.empty((self._n_components, n_rows))
        log_density = np.empty(n_rows)
        moments = np.zeros((self._n_components, self._n_terms))
        weights = np.empty(0) if sample_weight is None else np.asarray(sample_weight, float)
        with np.errstate(over="ignore", invalid="ignore"):
            bad = fused_moments(
                X, np.asarray(self._reference, dtype=np.float64), self._compiled_layout,
                self._coefficients, self._offsets[:, 0] + log_weights, weights, resp,
                log_density, moments,
            )  # fmt: skip
        return None if bad >= 0 else (resp, log_density, moments)


def scatter_from_raw_moments(
    raw: np.ndarray, weight: np.ndarray, mean: np.ndarray, one_scale: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Diagonal (or spherical) centred scatter from raw second moments about a point.

    Parameters
    ----------
    raw : ndarray of shape (K, D), or (K, 1) when ``one_scale``
        ``sum_i w_ik y_ij^2`` (or ``sum_i w_ik |y_i|^2``) about the point.
    weight : ndarray of shape (K,)
    mean : ndarray of shape (K, D)
        Weighted means relative to the point.
    one_scale : bool
        Spherical: one scatter per component.

    Returns
    -------
    scatter : ndarray of shape (K, D), or (K,) when ``one_scale``
    cancelled : ndarray of shape (K,), bool
        Components whose raw moment exceeds the centred one by more than ``SCATTER_LIMIT``:
        their scatter must be recomputed from centred rows.
    """
    if one_scale:
        raw = raw[:, 0]
        scatter = raw - weight * (mean**2).sum(axis=1)
        return scatter, raw > SCATTER_LIMIT * scatter
    scatter = raw - weight[:, None] * mean**2
    return scatter, (raw > SCATTER_LIMIT * scatter).any(axis=1)


def block_rows(n_rows: int, floats_per_row: int, block_bytes: int = BLOCK_BYTES) -> int:
    """Rows per block so that ``floats_per_row`` float64 per row fill ``block_bytes``."""
    return max(1, min(n_rows, block_bytes // (8 * max(1, floats_per_row))))


class FullKernel(_BlockKernel):
    """Full covariance: ``|U_k^T (x - mu_k)|^2`` for all K components.

    Two evaluations, both one GEMM per block of rows for many components and no
    ``(n, K, D)`` temporary:

    - *expanded* (float64, when cheaper): ``(x - mu)^T P (x - mu)`` with ``P = U U^T`` is a
      linear function of the ``D (D + 1) / 2 + D`` features ``y_i y_j`` (i <= j) and ``y_i``
      of the shifted row ``y``. One GEMM of the coefficients ``(K, m)`` with a block of
      features ``(m, rows)`` gives every distance: half the multiply-adds of the
      projection, and element-wise work that does not grow with K.
    - *projected*: the rows, with a row of ones appended, are multiplied by the stacked
      factors ``[U_k^T | -U_k^T nu_k]`` (so the projected means are subtracted inside the
      GEMM), and ``einsum`` sums the squares in one pass. Used for float32 rows (whose
      rounding the expansion would magnify), for components failing
      ``EXPANSION_LIMIT`` (far from the reference relative to their spread), and when K is
      small compared to D.
    """

    def __init__(
        self,
        means: np.ndarray,
        precisions_cholesky: np.ndarray,
        half_log_det: np.ndarray,
        reference: np.ndarray,
        dtype: Any,
        centred_scatter: CentredScatter | None = None,
    ) -> None:
        n_components, n_features, _ = precisions_cholesky.shape
        self._centred_scatter = centred_scatter
        self._block_bytes = FEATURE_BLOCK_BYTES
        self._dtype = np.dtype(dtype)
        self._n_components = n_components
        self._n_features = n_features
        self._reference = reference.astype(dtype)
        centres = means - self._reference.astype(np.float64)
        self._constants = (half_log_det - 0.5 * n_features * _LOG_2PI)[:, None]
        projected_centres = np.einsum("kd,kde->ke", centres, precisions_cholesky)

        expanded = np.zeros(n_components, dtype=bool)
        *upper, doubling = upper_triangle(n_features)
        n_terms = upper[0].size + n_features
        cost_expanded = n_terms * (2.0 * n_components + ELEMENT_COST)
        cost_projected = n_components * n_features * (2.0 * (n_features + 1) + ELEMENT_COST)
        if self._dtype == np.float64 and cost_expanded < cost_projected:
            precisions = precisions_cholesky @ precisions_cholesky.transpose(0, 2, 1)
            quadratic = precisions[:, upper[0], upper[1]] * doubling
            linear = -2.0 * np.einsum("kde,ke->kd", precisions, centres)
            offsets = (projected_centres**2).sum(axis=1)
            at_mean = np.abs(centres[:, upper[0]] * centres[:, upper[1]])
            magnitude = (
                (np.abs(quadratic) * at_mean).sum(axis=1)
                + (np.abs(linear) * np.abs(centres)).sum(axis=1)
                + offsets
            )
            magnitude *= np.sqrt(n_terms)
            expanded = magnitude <= EXPANSION_LIMIT
            # log p = -q / 2 + constant, folded into the coefficients and offsets.
            coefficients = np.empty((n_components, n_terms))
            np.multiply(quadratic, -0.5, out=coefficients[:, : upper[0].size])
            np.multiply(linear, -0.5, out=coefficients[:, upper[0].size :])
            offsets *= -0.5
            offsets += self._constants[:, 0]
            if expanded.all():  # the usual case: no selection, no copy
                self._coefficients, self._offsets = coefficients, offsets[:, None]
            else:
                self._coefficients = coefficients[expanded]
                self._offsets = offsets[expanded][:, None]
        self._n_terms = n_terms
        self._upper = upper
        if expanded.all():
            self._expanded, self._projected = _all_components(n_components), _NONE
        else:
            self._expanded, self._projected = np.flatnonzero(expanded), np.flatnonzero(~expanded)
        self._fusable = self._projected.size == 0
        self._compiled_layout = PRODUCTS
        if self._projected.size:
            chosen = self._projected
            factors = np.concatenate(
                [
                    precisions_cholesky[chosen].transpose(0, 2, 1),
                    -projected_centres[chosen][:, :, None],
                ],
                axis=2,
            )  # (k, D, D + 1): [U_k^T | -U_k^T nu_k]
            self._factors = np.ascontiguousarray(factors.reshape(-1, n_features + 1), dtype=dtype)

    @staticmethod
    def _positions(chosen: np.ndarray, n_components: int) -> slice | np.ndarray:
        """Rows of the result for these components: a slice when they are all of them."""
        return slice(None) if chosen.size == n_components else chosen

    def _fill(self, X: np.ndarray, out: np.ndarray) -> None:
        n_features, dtype = self._n_features, self._dtype
        n_rows = X.shape[0]
        rows_t = np.empty((n_features + 1, n_rows), dtype=dtype)  # shifted rows and ones
        np.subtract(X.T, self._reference[:, None], out=rows_t[:n_features])
        rows_t[n_features] = 1.0
        if self._expanded.size:
            self._fill_expanded(rows_t[:n_features], out)
        if self._projected.size:
            self._fill_projected(rows_t, out)

    @staticmethod
    def _quadratic_features(rows_t: np.ndarray, block: np.ndarray) -> None:
        """``y_i y_j`` for ``j >= i`` (row by row), then ``y``, of shifted rows ``(D, b)``."""
        n_features = rows_t.shape[0]
        row = 0
        for i in range(n_features):
            np.multiply(rows_t[i], rows_t[i:], out=block[row : row + n_features - i])
            row += n_features - i
        block[row:] = rows_t

    def _features(self, rows: np.ndarray, block: np.ndarray) -> None:
        linear = block[-self._n_features :]
        np.subtract(rows.T, self._reference[:, None], out=linear)
        self._quadratic_features(linear, block)

    def _scatter_from_moments(
        self, raw: np.ndarray, weight: np.ndarray, mean: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        n_components, n_features = mean.shape
        upper = self._upper
        scatter = np.empty((n_components, n_features, n_features))
        scatter[:, upper[0], upper[1]] = raw
        scatter[:, upper[1], upper[0]] = raw
        raw_diagonal = np.diagonal(scatter, axis1=1, axis2=2).copy()
        scatter -= (weight[:, None] * mean)[:, :, None] * mean[:, None, :]
        centred_diagonal = np.diagonal(scatter, axis1=1, axis2=2)
        return scatter, (raw_diagonal > SCATTER_LIMIT * centred_diagonal).any(axis=1)

    def _fill_expanded(self, rows_t: np.ndarray, out: np.ndarray) -> None:
        n_rows = rows_t.shape[1]
        positions = self._positions(self._expanded, self._n_components)
        step = block_rows(n_rows, self._n_terms, FEATURE_BLOCK_BYTES)
        features = np.empty((self._n_terms, step))
        for first in range(0, n_rows, step):
            last = min(first + step, n_rows)
            block = features[:, : last - first]
            self._quadratic_features(rows_t[:, first:last], block)
            if isinstance(positions, slice):
                values = out[:, first:last]
                np.matmul(self._coefficients, block, out=values)
                values += self._offsets
            else:
                values = np.dot(self._coefficients, block)
                values += self._offsets
                out[positions, first:last] = values

    def _fill_projected(self, rows_t: np.ndarray, out: np.ndarray) -> None:
        n_features = self._n_features
        n_rows = rows_t.shape[1]
        chosen = self._projected
        whole = chosen.size == self._n_components
        step = block_rows(n_rows, n_features)
        group = max(1, min(chosen.size, BLOCK_BYTES // (8 * n_features * step)))
        buffer = np.empty(group * n_features * step, dtype=self._dtype)
        constants = self._constants[chosen].astype(self._dtype)
        for first in range(0, n_rows, step):
            last = min(first + step, n_rows)
            width = last - first
            rows = rows_t[:, first:last]
            for start in range(0, chosen.size, group):
                stop = min(start + group, chosen.size)
                size = stop - start
                block = buffer[: size * n_features * width].reshape(size * n_features, width)
                np.matmul(self._factors[start * n_features : stop * n_features], rows, out=block)
                cube = block.reshape(size, n_features, width)
                target = slice(start, stop) if whole else chosen[start:stop]
                distances = np.einsum("kdn,kdn->kn", cube, cube)
                distances *= -0.5
                distances += constants[start:stop]
                out[target, first:last] = distances


class ExpandedKernel(_BlockKernel):
    """Tied, diagonal and spherical covariance: all K distances from one GEMM.

    The squared distance is ``sum_j v_kj (l_j - z_kj)^2``, where ``l`` are linear rows of
    the chunk (the rows shifted by the reference; for a tied covariance also whitened by the
    shared factor), ``v_k`` the component's precisions per coordinate and ``z_k`` its centre
    in the same coordinates. Expanded, it is ``v_k . l^2 - 2 (v_k z_k) . l + v_k . z_k^2``:
    one GEMM of the coefficients ``[v | -2 v z]`` ``(K, m)`` with a block of stacked
    features ``[l^2 ; l]`` ``(m, rows)`` (``[sum_j l_j^2 ; l]`` when ``v_k`` is one number,
    as for spherical and tied covariance). Components failing ``EXPANSION_LIMIT`` are
    evaluated directly, ``v_k . (l - z_k)^2``.

    The expansion is computed in float64 also for float32 rows (rounding in float32 would
    be magnified by the cancellation); only the whitening of a tied covariance, the one
    GEMM of size D x D x n, runs in the data's dtype.
    """

    def __init__(
        self,
        means: np.ndarray,
        scales: np.ndarray,
        half_log_det: np.ndarray,
        reference: np.ndarray,
        dtype: Any,
        whitening: np.ndarray | None = None,
        centred_scatter: CentredScatter | None = None,
        one_scale: bool = False,
    ) -> None:
        n_components, n_features = means.shape
        self._centred_scatter = centred_scatter
        self._dtype = np.dtype(dtype)
        self._n_components = n_components
        self._n_features = n_features
        # A tied covariance's whitening runs in the data's dtype, on rows shifted by the
        # reference rounded to that dtype (float32 rows stay exact); otherwise in float64.
        shift_dtype = self._dtype if whitening is not None else np.dtype(np.float64)
        self._reference = reference.astype(shift_dtype)
        centres = means - self._reference.astype(np.float64)
        self._whitening_t = None
        if whitening is not None:
            centres = centres @ whitening  # rows y become y @ whitening
            self._whitening_t = np.ascontiguousarray(whitening.T, dtype=dtype)
        # One precision per component (spherical, tied: scales (K, 1)), or one per feature
        # (diagonal: scales (K, D), also when D = 1, whose scatter keeps its (K, 1) shape).
        self._shared = one_scale
        self._scales = scales
        self._centres = centres
        offsets = (scales * centres**2).sum(axis=1)
        magnitude = 4.0 * offsets  # the terms' absolute values at the mean
        n_terms = scales.shape[1] + n_features
        self._n_terms = n_terms
        magnitude *= np.sqrt(n_terms)
        within = magnitude <= EXPANSION_LIMIT
        self._direct = _NONE if within.all() else np.flatnonzero(~within)
        constants = half_log_det - 0.5 * n_features * _LOG_2PI
        self._constants = constants[:, None]
        # log p = -q / 2 + constant: the GEMM's coefficients carry the factor -1/2, and the
        # offsets the constants, so the GEMM's output needs one addition only.
        n_scales = scales.shape[1]
        coefficients = np.empty((n_components, n_terms))
        np.multiply(scales, -0.5, out=coefficients[:, :n_scales])
        linear = coefficients[:, n_scales:]
        np.multiply(scales, -2.0, out=linear)
        linear *= centres
        linear *= -0.5
        self._coefficients = coefficients
        self._offsets = (constants - 0.5 * offsets)[:, None]
        # Fused E-step: the features [l^2 ; l] are raw moments only without a whitening.
        self._fusable = whitening is None and self._direct.size == 0
        self._compiled_layout = SUM_OF_SQUARES if one_scale else SQUARES

    def fused_statistics(
        self, X: np.ndarray, log_weights: np.ndarray, sample_weight: np.ndarray | None
    ) -> ChunkMoments | None:
        if self._whitening_t is None:
            return super().fused_statistics(X, log_weights, sample_weight)
        if self._direct.size or self._dtype != np.float64 or self._centred_scatter is None:
            return None
        return self._fused_shared_statistics(X, log_weights, sample_weight)

    def _fused_shared_statistics(
        self, X: np.ndarray, log_weights: np.ndarray, sample_weight: np.ndarray | None
    ) -> ChunkMoments:
        """The fused E-step of a tied covariance: the whitened features give the
        responsibilities ``R``; the statistics need the rows themselves, ``R y^T`` and the
        pooled raw moment ``sum_i s_i y_i y_i^T`` (``s_i`` the row's weight, which its
        responsibilities sum to), from which ``sum_k W_k = sum_i s_i y_i y_i^T -
        sum_k N_k m_k m_k^T``. Where that cancels by more than ``SCATTER_LIMIT`` (on the
        diagonal), the pooled scatter is recomputed from exactly centred rows."""
        n_rows, n_features = X.shape
        resp = np.empty((self._n_components, n_rows))
        log_density = np.empty(n_rows)
        sums = np.zeros((self._n_components, n_features))
        second = np.zeros((n_features, n_features))
        offsets = self._offsets + log_weights[:, None]
        step = block_rows(n_rows, self._n_terms + n_features, self._block_bytes)
        features = np.empty((self._n_terms, step))
        with np.errstate(over="ignore", invalid="ignore"):  # as in _BlockKernel
            for first in range(0, n_rows, step):
                last = min(first + step, n_rows)
                block = features[:, : last - first]
                shifted = np.subtract(X[first:last].T, self._reference[:, None])
                linear = block[1:]
                np.matmul(self._whitening_t, shifted, out=linear)
                np.einsum("jn,jn->n", linear, linear, out=block[0])
                values = resp[:, first:last]
                np.matmul(self._coefficients, block, out=values)
                values += offsets
                with rows_from(first):
                    log_density[first:last] = log_density_and_responsibilities(values.T)
                weighted = shifted
                if sample_weight is not None:
                    values *= sample_weight[first:last]
                    weighted = shifted * sample_weight[first:last]
                sums += np.dot(values, shifted.T)
                second += np.dot(weighted, shifted.T)
        weight = resp.sum(axis=1)
        mean = safe_divide(sums, weight)
        scatter = second - np.dot((weight[:, None] * mean).T, mean)
        if (np.diagonal(second) > SCATTER_LIMIT * np.diagonal(scatter)).any():
            scatter = self._centred_scatter(X - self._reference, resp.T, mean)
        log_likelihood = float(
            log_density.sum() if sample_weight is None else np.dot(sample_weight, log_density)
        )
        return ChunkMoments(log_likelihood, weight, mean + self._reference, scatter)

    def _features(self, rows: np.ndarray, block: np.ndarray) -> None:
        n_quadratic = self._n_terms - self._n_features
        linear = block[n_quadratic:]
        np.subtract(rows.T, self._reference[:, None], out=linear)
        if self._shared:
            np.einsum("jn,jn->n", linear, linear, out=block[0])
        else:
            np.square(linear, out=block[:n_quadratic])

    def _scatter_from_moments(
        self, raw: np.ndarray, weight: np.ndarray, mean: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return scatter_from_raw_moments(raw, weight, mean, one_scale=self._shared)

    def _fill(self, X: np.ndarray, out: np.ndarray) -> None:
        n_rows, n_features = X.shape
        n_quadratic = 1 if self._shared else n_features
        step = block_rows(n_rows, self._n_terms)
        features = np.empty((self._n_terms, step))
        values = np.empty((self._n_components, step))
        for first in range(0, n_rows, step):
            last = min(first + step, n_rows)
            width = last - first
            block = features[:, :width]
            linear = block[n_quadratic:]
            rows = X[first:last]
            if self._whitening_t is None:
                np.subtract(rows.T, self._reference[:, None], out=linear)
            else:
                shifted = np.subtract(rows.T, self._reference[:, None], dtype=self._dtype)
                if self._dtype == np.float64:
                    np.matmul(self._whitening_t, shifted, out=linear)
                else:
                    linear[...] = np.dot(self._whitening_t, shifted)
            if self._shared:
                np.einsum("jn,jn->n", linear, linear, out=block[0])
            else:
                np.square(linear, out=block[:n_quadratic])
            distances = np.dot(self._coefficients, block, out=values if width == step else None)
            # One pass adds the offsets and writes (casts, for float32 rows) the result.
            result = out[:, first:last]
            np.add(distances, self._offsets, out=result)
            for k in self._direct:
                difference = linear - self._centres[k][:, None]
                np.square(difference, out=difference)
                if self._shared:
                    distance = self._scales[k, 0] * difference.sum(axis=0)
                else:
                    distance = np.dot(self._scales[k], difference)
                result[k] = self._constants[k] - 0.5 * distance
