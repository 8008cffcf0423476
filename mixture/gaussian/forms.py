"""How the covariances of K Gaussian components are stored and evaluated: four forms.

A form is the storage layer under a :class:`~mixture.gaussian.covariance.CovarianceStructure`:
the shape of the ``covariances`` array, the precision factors and log-determinants the
log-density kernels need, the chunk moments the M-step is made from, and conversions. Every
structure stores its covariances in one of the four forms; a structure only adds its M-step
and its parameter count (mclust's VEI, for instance, is stored in the diagonal form).

=============  ===================  ==========================================
form           covariances          precisions_cholesky
=============  ===================  ==========================================
Full           (K, D, D)            (K, D, D), upper triangular U, U U^T = P
Shared         (D, D)               (D, D)
Diagonal       (K, D)               (K, D), 1 / sqrt(variance)
Spherical      (K,)                 (K,), 1 / sqrt(variance)
=============  ===================  ==========================================

The precision Cholesky factor follows scikit-learn's convention: ``P = U @ U.T`` with ``U``
upper triangular, so the squared Mahalanobis distance of ``x`` is ``|(x - mean) @ U|^2`` and
``log det P / 2 = sum(log diag U)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from scipy import linalg

from mixture.exceptions import DegenerateComponentError
from mixture.gaussian import moments
from mixture.gaussian.kernels import ExpandedKernel, FullKernel, LogDensityKernel

__all__ = [
    "CovarianceForm",
    "DiagonalForm",
    "FullForm",
    "SharedForm",
    "SphericalForm",
    "precision_cholesky_of",
]

_LAPACK: dict[str, tuple[Any, Any]] = {}


def _lapack(matrix: np.ndarray) -> tuple[Any, Any]:
    """LAPACK's Cholesky factorisation and triangular solve for the matrix's dtype.

    The same routines ``scipy.linalg.cholesky`` and ``solve_triangular`` call, without their
    wrappers' per-call checks: those cost 5-30 microseconds per component and M-step, a third
    of a model selection on a few hundred rows, for bit-identical results.
    """
    key = matrix.dtype.char
    if key not in _LAPACK:
        _LAPACK[key] = linalg.get_lapack_funcs(("potrf", "trtrs"), (matrix,))
    return _LAPACK[key]


def _cholesky_lower(matrix: np.ndarray, what: str) -> np.ndarray:
    potrf, _ = _lapack(matrix)
    lower, info = potrf(matrix, lower=1, clean=1, overwrite_a=0)
    if info > 0:
        raise DegenerateComponentError(
            f"{what} is not positive definite: the component has collapsed onto a "
            "lower-dimensional set of rows. Increase reg_covar, use fewer components, or "
            "remove duplicated rows and constant features."
        )
    if info < 0:
        raise ValueError(f"{what}: LAPACK potrf rejected argument {-info}")
    return lower


def precision_cholesky_of(covariance: np.ndarray, what: str) -> np.ndarray:
    """Upper-triangular ``U`` with ``U U^T = covariance^-1``, shape ``(D, D)``.

    Raises
    ------
    DegenerateComponentError
        If the covariance is not positive definite (``what`` names it in the message).
    """
    lower = _cholesky_lower(covariance, what)
    _, trtrs = _lapack(lower)
    inverse, info = trtrs(lower, np.eye(covariance.shape[0], dtype=lower.dtype), lower=1)
    if info != 0:
        raise DegenerateComponentError(f"{what} has a singular Cholesky factor")
    return inverse.T


#: Up to this many features, the precision factors of K covariances come from numpy's
#: batched Cholesky factorisation and inverse (two calls for all components) rather than
#: from LAPACK per component: at D = 2 and K = 9, 15 microseconds instead of 55. Beyond it,
#: the per-component triangular solve does fewer operations than the batched inverse.
BATCHED_MAX_FEATURES = 16


def _batched_precisions_cholesky(covariances: np.ndarray) -> np.ndarray:
    """Upper-triangular ``U_k`` with ``U_k U_k^T = covariance_k^-1``, shape ``(K, D, D)``.

    The inverse of the lower Cholesky factor comes from an LU factorisation, whose pivoting
    can leave round-off above the diagonal of ``U``; it is cleared, so ``U`` is exactly
    triangular. Agrees with :func:`precision_cholesky_of` to a relative ``cond * eps``.

    Raises
    ------
    numpy.linalg.LinAlgError
        If a covariance is not positive definite.
    """
    lower = np.linalg.cholesky(covariances)
    return np.triu(np.linalg.inv(lower).transpose(0, 2, 1))


def _check_symmetric_positive(matrices: np.ndarray, what: str) -> None:
    for k, matrix in enumerate(matrices):
        if not np.allclose(matrix, matrix.T, rtol=1e-10, atol=1e-12):
            raise ValueError(f"{what}[{k}] is not symmetric")
        if np.linalg.eigvalsh(matrix)[0] <= 0:
            raise ValueError(f"{what}[{k}] is not positive definite")


class CovarianceForm(ABC):
    """Storage and evaluation of the covariances of K components (see the module)."""

    #: Short label of the form.
    name: str = ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    # -- parameters -------------------------------------------------------------------------
    @abstractmethod
    def shape(self, n_components: int, n_features: int) -> tuple[int, ...]:
        """Shape of the ``covariances`` array (and of the scatter statistic)."""

    @abstractmethod
    def check(self, covariances: np.ndarray) -> None:
        """Raise ``ValueError`` unless every covariance is symmetric positive definite."""

    @abstractmethod
    def precisions_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        """Cholesky factors of the precisions; raises ``DegenerateComponentError``."""

    @abstractmethod
    def precisions_from_cholesky(self, precisions_cholesky: np.ndarray) -> np.ndarray:
        """Precisions ``U U^T`` (full, shared) or ``U^2`` (diagonal, spherical)."""

    @abstractmethod
    def covariances_from_precisions(self, precisions: np.ndarray) -> np.ndarray:
        """Covariances from precisions in this form's shape."""

    @abstractmethod
    def half_log_det(self, precisions_cholesky: np.ndarray, n_features: int) -> np.ndarray:
        """``log det(P_k) / 2`` for each component, shape ``(K,)`` (``(1,)`` if shared)."""

    @abstractmethod
    def smallest_variances(self, covariances: np.ndarray, n_components: int) -> np.ndarray:
        """Smallest variance in any direction, per component, shape ``(K,)``."""

    def smallest_variance_bound(
        self, precisions_cholesky: np.ndarray, n_components: int
    ) -> np.ndarray:
        """A lower bound on :meth:`smallest_variances` from the precision factors, shape
        ``(K,)``: ``1 / |U_k|_F^2``, as ``lambda_max(P) <= tr(P) = |U|_F^2``. Cheap where
        the exact value needs an eigendecomposition; exact for diagonal and spherical."""
        squares = precisions_cholesky**2
        total = squares.reshape(squares.shape[0], -1).sum(axis=1) if squares.ndim > 1 else squares
        return np.broadcast_to(1.0 / total, (n_components,))

    @abstractmethod
    def dense(self, covariances: np.ndarray, n_features: int) -> np.ndarray:
        """Dense ``(K, D, D)`` covariance matrices (``(1, D, D)`` if shared)."""

    def keep_where(self, new: np.ndarray, old: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Per-component arrays: take ``old[k]`` where ``keep[k]``, else ``new[k]``."""
        mask = keep.reshape((-1,) + (1,) * (new.ndim - 1))
        return np.where(mask, old, new)

    # -- one component on its own ----------------------------------------------------------
    @property
    def component_form(self) -> CovarianceForm:
        """Form of one component viewed on its own (shared gives full)."""
        return self

    def component_covariance(self, covariances: np.ndarray, k: int) -> np.ndarray:
        """Covariance of component ``k`` in the form of :attr:`component_form`."""
        return covariances[k]

    def stack(self, covariances: list[np.ndarray]) -> np.ndarray:
        """Stack single-component covariances (as from :meth:`component_covariance`)."""
        return np.stack(covariances)

    # -- E-step -----------------------------------------------------------------------------
    @abstractmethod
    def mahalanobis(
        self, X: np.ndarray, means: np.ndarray, precisions_cholesky: np.ndarray
    ) -> np.ndarray:
        """Squared Mahalanobis distance of every row to every mean, shape ``(n, K)``: the
        direct evaluation, for few rows (the kernels are the fast path)."""

    @abstractmethod
    def kernel(
        self,
        means: np.ndarray,
        precisions_cholesky: np.ndarray,
        half_log_det: np.ndarray,
        reference: np.ndarray,
        dtype: Any,
    ) -> LogDensityKernel:
        """A callable giving the ``(n, K)`` log-densities of row chunks of ``dtype``.

        Parameters
        ----------
        means : ndarray of shape (n_components, n_features), float64
        precisions_cholesky : ndarray
            In this form's shape, float64.
        half_log_det : ndarray of shape (n_components,)
            ``log det(P_k) / 2``.
        reference : ndarray of shape (n_features,)
            Point by which rows and means are shifted before any product, so the data's
            distance from the origin never enters a subtraction of large numbers.
        dtype : numpy dtype
            The rows' dtype (float32 or float64); the result has this dtype.
        """

    # -- statistics -------------------------------------------------------------------------
    @abstractmethod
    def chunk_moments(
        self, X: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weight ``(K,)``, weighted mean ``(K, D)`` and centred scatter (in this form's
        shape) of each component over a chunk, float64 (see :mod:`mixture.gaussian.moments`).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), n_samples >= 1
        weights : ndarray of shape (n_samples, n_components)
        """

    @abstractmethod
    def merge_term(self, delta: np.ndarray, factor: np.ndarray) -> np.ndarray:
        """Scatter added when two chunks merge: ``factor_k * delta_k delta_k^T``, reduced.

        ``delta`` (K, D) is the difference of the chunks' means and
        ``factor = w_a w_b / (w_a + w_b)`` (K,) (Chan, Golub and LeVeque's update).
        """

    def from_full_scatter(self, scatter: np.ndarray) -> np.ndarray:
        """This form's scatter from full per-component scatter matrices ``(K, D, D)``
        (the statistics of rows with missing values are computed densely)."""
        return scatter

    def sum_over_components(self, scatter: np.ndarray) -> np.ndarray:
        """Sum a per-component scatter over components, keeping the component axis."""
        return scatter.sum(axis=0, keepdims=True)

    def pooled_moments(
        self, weight: np.ndarray, mean: np.ndarray, scatter: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The statistics of all components pooled into one.

        Parameters
        ----------
        weight : ndarray of shape (n_components,)
        mean : ndarray of shape (n_components, n_features)
        scatter : ndarray of this form's shape

        Returns
        -------
        weight : ndarray of shape (1,)
        mean : ndarray of shape (1, n_features)
        scatter : ndarray of this form's shape for one component
            ``sum_k W_k + sum_k n_k (xbar_k - xbar)(xbar_k - xbar)^T`` in this form.
        """
        total = weight.sum()
        centre = (weight / total) @ mean
        pooled = scatter + self.merge_term(mean - centre, weight)
        return np.array([total]), centre[None], self.sum_over_components(pooled)


class FullForm(CovarianceForm):
    """Each component's covariance as a dense ``(D, D)`` matrix: ``(K, D, D)``."""

    name = "full"

    def shape(self, n_components: int, n_features: int) -> tuple[int, ...]:
        return (n_components, n_features, n_features)

    def check(self, covariances: np.ndarray) -> None:
        _check_symmetric_positive(covariances, "covariances")

    def precisions_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        if covariances.shape[1] <= BATCHED_MAX_FEATURES:
            try:
                return _batched_precisions_cholesky(covariances)
            except np.linalg.LinAlgError:
                pass  # one is not positive definite: the loop below names it
        return np.stack(
            [
                precision_cholesky_of(cov, f"the covariance of component {k}")
                for k, cov in enumerate(covariances)
            ]
        )

    def precisions_from_cholesky(self, precisions_cholesky: np.ndarray) -> np.ndarray:
        return precisions_cholesky @ precisions_cholesky.transpose(0, 2, 1)

    def covariances_from_precisions(self, precisions: np.ndarray) -> np.ndarray:
        return np.linalg.inv(precisions)

    def half_log_det(self, precisions_cholesky: np.ndarray, n_features: int) -> np.ndarray:
        diagonals = np.diagonal(precisions_cholesky, axis1=1, axis2=2)
        return np.log(diagonals).sum(axis=1)

    def smallest_variances(self, covariances: np.ndarray, n_components: int) -> np.ndarray:
        return np.linalg.eigvalsh(covariances)[:, 0]

    def dense(self, covariances: np.ndarray, n_features: int) -> np.ndarray:
        return covariances

    def mahalanobis(
        self, X: np.ndarray, means: np.ndarray, precisions_cholesky: np.ndarray
    ) -> np.ndarray:
        n_components, n_features, _ = precisions_cholesky.shape
        # One GEMM for all K factors: (n, D) @ (D, K*D) -> (n, K, D).
        factors = precisions_cholesky.transpose(1, 0, 2).reshape(n_features, -1)
        projected = (X @ factors).reshape(X.shape[0], n_components, n_features)
        projected -= np.einsum("kd,kde->ke", means, precisions_cholesky)
        return np.einsum("nkd,nkd->nk", projected, projected)

    def kernel(
        self,
        means: np.ndarray,
        precisions_cholesky: np.ndarray,
        half_log_det: np.ndarray,
        reference: np.ndarray,
        dtype: Any,
    ) -> LogDensityKernel:
        return FullKernel(
            means,
            precisions_cholesky,
            half_log_det,
            reference,
            dtype,
            centred_scatter=moments.centred_full_scatter,
        )

    def chunk_moments(
        self, X: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return moments.full_chunk_moments(X, weights)

    def merge_term(self, delta: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return (factor[:, None] * delta)[:, :, None] * delta[:, None, :]


class SharedForm(CovarianceForm):
    """One ``(D, D)`` covariance matrix shared by all components (scikit-learn's "tied")."""

    name = "shared"

    def shape(self, n_components: int, n_features: int) -> tuple[int, ...]:
        return (n_features, n_features)

    def check(self, covariances: np.ndarray) -> None:
        _check_symmetric_positive(covariances[None], "covariances")

    def precisions_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        return precision_cholesky_of(covariances, "the tied covariance")

    def precisions_from_cholesky(self, precisions_cholesky: np.ndarray) -> np.ndarray:
        return precisions_cholesky @ precisions_cholesky.T

    def covariances_from_precisions(self, precisions: np.ndarray) -> np.ndarray:
        return np.linalg.inv(precisions)

    def half_log_det(self, precisions_cholesky: np.ndarray, n_features: int) -> np.ndarray:
        return np.atleast_1d(np.log(np.diagonal(precisions_cholesky)).sum())

    def smallest_variances(self, covariances: np.ndarray, n_components: int) -> np.ndarray:
        return np.full(n_components, np.linalg.eigvalsh(covariances)[0])

    def dense(self, covariances: np.ndarray, n_features: int) -> np.ndarray:
        return covariances[None]

    def smallest_variance_bound(
        self, precisions_cholesky: np.ndarray, n_components: int
    ) -> np.ndarray:
        return np.full(n_components, 1.0 / np.sum(precisions_cholesky**2))

    def keep_where(self, new: np.ndarray, old: np.ndarray, keep: np.ndarray) -> np.ndarray:
        return new  # the pooled estimate already ignores empty components

    @property
    def component_form(self) -> CovarianceForm:
        return FullForm()

    def component_covariance(self, covariances: np.ndarray, k: int) -> np.ndarray:
        return covariances

    def stack(self, covariances: list[np.ndarray]) -> np.ndarray:
        first = covariances[0]
        if any(not np.array_equal(first, other) for other in covariances[1:]):
            raise ValueError("tied covariance needs the same matrix for every component")
        return first

    def mahalanobis(
        self, X: np.ndarray, means: np.ndarray, precisions_cholesky: np.ndarray
    ) -> np.ndarray:
        projected = X @ precisions_cholesky
        shifted = projected[:, None, :] - (means @ precisions_cholesky)[None, :, :]
        return np.einsum("nkd,nkd->nk", shifted, shifted)

    def kernel(
        self,
        means: np.ndarray,
        precisions_cholesky: np.ndarray,
        half_log_det: np.ndarray,
        reference: np.ndarray,
        dtype: Any,
    ) -> LogDensityKernel:
        n_components = means.shape[0]
        return ExpandedKernel(
            means,
            np.ones((n_components, 1)),
            np.broadcast_to(half_log_det, (n_components,)),
            reference,
            dtype,
            whitening=precisions_cholesky,
            centred_scatter=moments.centred_shared_scatter,
            one_scale=True,
        )

    def chunk_moments(
        self, X: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return moments.shared_chunk_moments(X, weights)

    def merge_term(self, delta: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return (delta * factor[:, None]).T @ delta

    def sum_over_components(self, scatter: np.ndarray) -> np.ndarray:
        return scatter  # the shared scatter and merge term are already summed

    def from_full_scatter(self, scatter: np.ndarray) -> np.ndarray:
        return scatter.sum(axis=0)


def _positive_variances(covariances: np.ndarray) -> None:
    bad = np.argwhere(~(covariances > 0))
    if bad.size:
        raise DegenerateComponentError(
            f"component {int(bad[0, 0])} has a non-positive variance; increase reg_covar or "
            "remove constant features"
        )


class DiagonalForm(CovarianceForm):
    """One variance per component and feature: ``(K, D)``."""

    name = "diagonal"

    def shape(self, n_components: int, n_features: int) -> tuple[int, ...]:
        return (n_components, n_features)

    def check(self, covariances: np.ndarray) -> None:
        if (covariances <= 0).any():
            raise ValueError("diagonal covariances must be positive")

    def precisions_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        _positive_variances(covariances)
        return 1.0 / np.sqrt(covariances)

    def precisions_from_cholesky(self, precisions_cholesky: np.ndarray) -> np.ndarray:
        return precisions_cholesky**2

    def covariances_from_precisions(self, precisions: np.ndarray) -> np.ndarray:
        return 1.0 / precisions

    def half_log_det(self, precisions_cholesky: np.ndarray, n_features: int) -> np.ndarray:
        return np.log(precisions_cholesky).sum(axis=1)

    def smallest_variances(self, covariances: np.ndarray, n_components: int) -> np.ndarray:
        return covariances.min(axis=1)

    def smallest_variance_bound(
        self, precisions_cholesky: np.ndarray, n_components: int
    ) -> np.ndarray:
        return 1.0 / (precisions_cholesky**2).max(axis=1)

    def dense(self, covariances: np.ndarray, n_features: int) -> np.ndarray:
        return np.stack([np.diag(variances) for variances in covariances])

    def mahalanobis(
        self, X: np.ndarray, means: np.ndarray, precisions_cholesky: np.ndarray
    ) -> np.ndarray:
        shifted = X[:, None, :] * precisions_cholesky[None] - (means * precisions_cholesky)
        return np.einsum("nkd,nkd->nk", shifted, shifted)

    def kernel(
        self,
        means: np.ndarray,
        precisions_cholesky: np.ndarray,
        half_log_det: np.ndarray,
        reference: np.ndarray,
        dtype: Any,
    ) -> LogDensityKernel:
        return ExpandedKernel(
            means,
            precisions_cholesky**2,
            half_log_det,
            reference,
            dtype,
            centred_scatter=moments.centred_diagonal_scatter,
        )

    def chunk_moments(
        self, X: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return moments.diagonal_chunk_moments(X, weights)

    def merge_term(self, delta: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return factor[:, None] * delta**2

    def from_full_scatter(self, scatter: np.ndarray) -> np.ndarray:
        return np.diagonal(scatter, axis1=1, axis2=2).copy()


class SphericalForm(CovarianceForm):
    """One variance per component, shared by all features: ``(K,)``."""

    name = "spherical"

    def shape(self, n_components: int, n_features: int) -> tuple[int, ...]:
        return (n_components,)

    def check(self, covariances: np.ndarray) -> None:
        if (covariances <= 0).any():
            raise ValueError("spherical variances must be positive")

    def precisions_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        _positive_variances(covariances[:, None])
        return 1.0 / np.sqrt(covariances)

    def precisions_from_cholesky(self, precisions_cholesky: np.ndarray) -> np.ndarray:
        return precisions_cholesky**2

    def covariances_from_precisions(self, precisions: np.ndarray) -> np.ndarray:
        return 1.0 / precisions

    def half_log_det(self, precisions_cholesky: np.ndarray, n_features: int) -> np.ndarray:
        return n_features * np.log(precisions_cholesky)

    def smallest_variances(self, covariances: np.ndarray, n_components: int) -> np.ndarray:
        return covariances

    def dense(self, covariances: np.ndarray, n_features: int) -> np.ndarray:
        return covariances[:, None, None] * np.eye(n_features)[None]

    def stack(self, covariances: list[np.ndarray]) -> np.ndarray:
        values = [np.asarray(c, dtype=np.float64) for c in covariances]
        for value in values:
            if value.size != 1:
                raise ValueError(
                    "a spherical covariance is one variance per component (a scalar); got an "
                    f"array of shape {value.shape}"
                )
        return np.array([float(value.reshape(())) for value in values])

    def mahalanobis(
        self, X: np.ndarray, means: np.ndarray, precisions_cholesky: np.ndarray
    ) -> np.ndarray:
        shifted = X[:, None, :] - means[None]
        return np.einsum("nkd,nkd->nk", shifted, shifted) * precisions_cholesky**2

    def kernel(
        self,
        means: np.ndarray,
        precisions_cholesky: np.ndarray,
        half_log_det: np.ndarray,
        reference: np.ndarray,
        dtype: Any,
    ) -> LogDensityKernel:
        scales = (precisions_cholesky**2)[:, None]
        return ExpandedKernel(
            means,
            scales,
            half_log_det,
            reference,
            dtype,
            centred_scatter=moments.centred_spherical_scatter,
            one_scale=True,
        )

    def chunk_moments(
        self, X: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return moments.spherical_chunk_moments(X, weights)

    def merge_term(self, delta: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return factor * (delta**2).sum(axis=1)

    def from_full_scatter(self, scatter: np.ndarray) -> np.ndarray:
        return np.trace(scatter, axis1=1, axis2=2)
