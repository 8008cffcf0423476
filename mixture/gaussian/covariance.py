"""Covariance structures of a Gaussian family, as objects.

A structure owns everything that depends on the shape of the covariance: how it is stored,
validated and regularised, how Mahalanobis distances and the centred scatter of a chunk are
computed, how chunk scatters merge, and how many parameters it has. The Gaussian family and
component hold a structure and call it; nowhere else branches on the covariance type.

Shapes, with K components and D features:

=============  ===================  ==========================================
structure      covariances          precisions_cholesky
=============  ===================  ==========================================
Full           (K, D, D)            (K, D, D), upper triangular U, U U^T = P
Tied           (D, D)               (D, D)
Diagonal       (K, D)               (K, D), 1 / sqrt(variance)
Spherical      (K,)                 (K,), 1 / sqrt(variance)
=============  ===================  ==========================================

The precision Cholesky factor follows scikit-learn's convention: ``P = U @ U.T`` with ``U``
upper triangular, so the squared Mahalanobis distance of ``x`` is ``|(x - mean) @ U|^2`` and
``log det P / 2 = sum(log diag U)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import linalg
from scipy.special import gammaln, multigammaln

from mixture.exceptions import DegenerateComponentError
from mixture.gaussian.kernels import (
    ExpandedKernel,
    FullKernel,
    LogDensityKernel,
    MahalanobisKernel,
    block_rows,
    safe_divide,
    scatter_from_raw_moments,
)

if TYPE_CHECKING:
    from mixture.gaussian.prior import ConjugatePrior

__all__ = [
    "CovarianceStructure",
    "DiagonalCovariance",
    "FullCovariance",
    "LogDensityKernel",
    "SphericalCovariance",
    "TiedCovariance",
]


def _weighted_centred_rows(
    X: np.ndarray, weights: np.ndarray, means: np.ndarray
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(k, sqrt(w_k) * (X - means[k]))`` for each component: one (n, D) temporary."""
    root = np.sqrt(weights)
    for k in range(means.shape[0]):
        centred = X - means[k].astype(X.dtype, copy=False)
        centred *= root[:, k, None]
        yield k, centred


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
    structure: CovarianceStructure, X: np.ndarray, weights: np.ndarray, one_scale: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A diagonal or spherical structure's chunk moments from raw moments.

    Raw weighted moments about the chunk's first row come from one float64 GEMM per block
    of rows; the scatter is ``raw - w m^2``, and a component where that cancels by more than
    ``SCATTER_LIMIT`` gets its scatter from exactly centred rows (``structure.scatter``).
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
        scatter[redo] = structure.scatter(X - reference, weights_t[redo].T, mean[redo])
    return weight, mean + reference, scatter


def _divisor(weight: np.ndarray) -> np.ndarray:
    """Component weights with zeros replaced by 1 (an empty component's scatter is 0)."""
    return np.where(weight > 0, weight, 1.0)


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


def _precision_cholesky_of(covariance: np.ndarray, what: str) -> np.ndarray:
    lower = _cholesky_lower(covariance, what)
    _, trtrs = _lapack(lower)
    inverse, info = trtrs(lower, np.eye(covariance.shape[0], dtype=lower.dtype), lower=1)
    if info != 0:
        raise DegenerateComponentError(f"{what} has a singular Cholesky factor")
    return inverse.T


def _prior_divisor(divisor: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """MAP covariance divisors, checked positive where the component has weight (1 where it
    has none: the family keeps an empty component's previous covariance)."""
    divisor = np.where(weight > 0, divisor, 1.0)
    if not (divisor > 0).all():
        raise DegenerateComponentError(
            "a MAP covariance divisor (dof + the component's weight + ...) is not positive: "
            "the prior's dof is below its flat limit for a component this light"
        )
    return divisor


def _check_prior_scale_matrix(scale: np.ndarray, n_features: int, structure: str) -> None:
    if scale.shape != (n_features, n_features):
        raise ValueError(
            f"a prior for {structure} covariances needs a scale matrix of shape "
            f"({n_features}, {n_features}); got shape {scale.shape}"
        )


def _matrix_prior_scale(pooled: np.ndarray, total_weight: float, n_features: int) -> np.ndarray:
    """mclust's ``var(data)`` (divisor ``n - 1``), or its diagonal when ``n <= D``."""
    variance = pooled / (total_weight - 1.0)
    variance = 0.5 * (variance + variance.T)
    return variance if total_weight > n_features else np.diag(np.diag(variance))


def _inverse_wishart_log_density(
    precisions_cholesky: np.ndarray, half_log_det: np.ndarray, prior: ConjugatePrior
) -> float:
    """Sum over matrices of ``log IW(Sigma_k | dof, scale)`` given the precision factors
    ``U_k`` (K, D, D) and ``log det(P_k) / 2`` (K,); the normalising constant is left out
    when the prior is improper (``dof <= D - 1`` or a singular scale)."""
    n_components, n_features, _ = precisions_cholesky.shape
    dof, scale = prior.dof, prior.scale
    # tr(Lambda P_k) = |L^T U_k|_F^2 would need Lambda > 0; this form takes any Lambda >= 0.
    trace = np.einsum("ij,kjl,kil->k", scale, precisions_cholesky, precisions_cholesky)
    kernel = (dof + n_features + 1.0) * half_log_det - 0.5 * trace
    total = float(kernel.sum())
    sign, log_det_scale = np.linalg.slogdet(scale)
    if dof > n_features - 1 and sign > 0:
        constant = (
            0.5 * dof * log_det_scale
            - 0.5 * dof * n_features * np.log(2.0)
            - multigammaln(0.5 * dof, n_features)
        )
        total += n_components * float(constant)
    return total


def _inverse_gamma_log_density(variances: np.ndarray, prior: ConjugatePrior) -> float:
    """Sum of ``log IG(s | dof / 2, scale / 2)`` over the variances (scale broadcast along
    the last axis); the normalising constant is left out when improper (``dof <= 0`` or a
    zero scale)."""
    dof, scale = prior.dof, prior.scale
    kernel = -(0.5 * dof + 1.0) * np.log(variances) - 0.5 * scale / variances
    total = float(kernel.sum())
    if dof > 0 and (scale > 0).all():
        constant = 0.5 * dof * np.log(0.5 * scale) - gammaln(0.5 * dof)
        total += float(np.broadcast_to(constant, variances.shape).sum())
    return total


def _check_symmetric_positive(matrices: np.ndarray, what: str) -> None:
    for k, matrix in enumerate(matrices):
        if not np.allclose(matrix, matrix.T, rtol=1e-10, atol=1e-12):
            raise ValueError(f"{what}[{k}] is not symmetric")
        if np.linalg.eigvalsh(matrix)[0] <= 0:
            raise ValueError(f"{what}[{k}] is not positive definite")


class CovarianceStructure(ABC):
    """How the covariance matrices of K Gaussian components are parameterised."""

    #: Short label, as scikit-learn spells the covariance type (for display).
    name: str = ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    # -- parameters -------------------------------------------------------------------------
    @abstractmethod
    def covariance_shape(self, n_components: int, n_features: int) -> tuple[int, ...]:
        """Shape of the ``covariances`` array."""

    @abstractmethod
    def check_covariances(self, covariances: np.ndarray) -> None:
        """Raise ``ValueError`` unless every covariance is symmetric positive definite."""

    @abstractmethod
    def precisions_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        """Cholesky factors of the precisions; raises ``DegenerateComponentError``."""

    @abstractmethod
    def precisions_from_cholesky(self, precisions_cholesky: np.ndarray) -> np.ndarray:
        """Precisions ``U U^T`` (full, tied) or ``U^2`` (diagonal, spherical)."""

    @abstractmethod
    def covariances_from_precisions(self, precisions: np.ndarray) -> np.ndarray:
        """Covariances from precisions in this structure's shape."""

    @abstractmethod
    def half_log_det(self, precisions_cholesky: np.ndarray, n_features: int) -> np.ndarray:
        """``log det(P_k) / 2`` for each component, shape ``(K,)``."""

    @abstractmethod
    def n_parameters(self, n_components: int, n_features: int) -> int:
        """Free covariance parameters of K components."""

    @abstractmethod
    def component_covariance(self, covariances: np.ndarray, k: int) -> np.ndarray:
        """Covariance of component ``k`` in the single-component form of
        :attr:`component_structure`."""

    @property
    def component_structure(self) -> CovarianceStructure:
        """Structure of one component viewed on its own (``Tied`` gives ``Full``)."""
        return self

    @abstractmethod
    def stack(self, covariances: list[np.ndarray]) -> np.ndarray:
        """Stack single-component covariances (as from :meth:`component_covariance`)."""

    @abstractmethod
    def smallest_variances(self, covariances: np.ndarray, n_components: int) -> np.ndarray:
        """Smallest variance in any direction, per component, shape ``(K,)``."""

    @abstractmethod
    def full_matrices(self, covariances: np.ndarray, n_features: int) -> np.ndarray:
        """Dense ``(K, D, D)`` covariance matrices, for display and sampling."""

    def keep_where(self, new: np.ndarray, old: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Per-component arrays: take ``old[k]`` where ``keep[k]``, else ``new[k]``."""
        mask = keep.reshape((-1,) + (1,) * (new.ndim - 1))
        return np.where(mask, old, new)

    # -- E-step -----------------------------------------------------------------------------
    @abstractmethod
    def mahalanobis(
        self, X: np.ndarray, means: np.ndarray, precisions_cholesky: np.ndarray
    ) -> np.ndarray:
        """Squared Mahalanobis distance of every row to every mean, shape ``(n, K)``.

        ``X`` and ``means`` are already shifted by the same reference point (so values are of
        the order of the data's spread, not of its offset) and cast to the data's dtype.
        """

    def log_density_kernel(
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
            In this structure's shape, float64.
        half_log_det : ndarray of shape (n_components,)
            ``log det(P_k) / 2``.
        reference : ndarray of shape (n_features,)
            Point by which rows and means are shifted before any product, so the data's
            distance from the origin never enters a subtraction of large numbers.
        dtype : numpy dtype
            The rows' dtype (float32 or float64); the result has this dtype.

        The default evaluates :meth:`mahalanobis` on the shifted rows; the built-in
        structures return faster kernels with the same results.
        """
        return MahalanobisKernel(self, means, precisions_cholesky, half_log_det, reference, dtype)

    # -- statistics -------------------------------------------------------------------------
    @abstractmethod
    def scatter(self, X: np.ndarray, weights: np.ndarray, means: np.ndarray) -> np.ndarray:
        """Weighted scatter of a chunk about the chunk's own weighted ``means``, in float64.

        Full: ``S_k = sum_i w_ik (x_i - m_k)(x_i - m_k)^T``; the other structures keep the
        part of it they need (diagonal, trace, or the sum over components).
        """

    def chunk_moments(
        self, X: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weight, weighted mean and centred scatter of each component over a chunk.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), n_samples >= 1
        weights : ndarray of shape (n_samples, n_components)

        Returns
        -------
        weight : ndarray of shape (n_components,), float64
        mean : ndarray of shape (n_components, n_features), float64
            0 where the weight is 0.
        scatter : ndarray of the shape :meth:`scatter_shape`, float64
            About the chunk's own weighted means.

        The default sums rows relative to the chunk's first row, so neither the means nor
        the scatter ever add up numbers carrying the data's offset from the origin, and
        takes the scatter from :meth:`scatter`. The built-in structures override it with
        GEMM formulations of the same quantities.
        """
        weights = weights.astype(X.dtype, copy=False)
        weight = weights.sum(axis=0, dtype=np.float64)
        reference = X[0].astype(np.float64)
        shifted = X - X[0]
        sums = (weights.T @ shifted).astype(np.float64)
        mean = np.divide(sums, weight[:, None], out=np.zeros_like(sums), where=weight[:, None] > 0)
        scatter = self.scatter(shifted, weights, mean)
        return weight, mean + reference, scatter

    def scatter_shape(self, n_components: int, n_features: int) -> tuple[int, ...]:
        """Shape of the scatter statistic (that of the covariances)."""
        return self.covariance_shape(n_components, n_features)

    @abstractmethod
    def merge_term(self, delta: np.ndarray, factor: np.ndarray) -> np.ndarray:
        """Scatter added when two chunks merge: ``factor_k * delta_k delta_k^T``, reduced.

        ``delta`` (K, D) is the difference of the chunks' means and
        ``factor = w_a w_b / (w_a + w_b)`` (K,) (Chan, Golub and LeVeque's update).
        """

    @abstractmethod
    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        """M-step covariances ``scatter / weight + reg_covar``.

        A component with zero weight gets ``reg_covar`` alone; the family then keeps its
        previous covariance instead.
        """

    # -- conjugate prior (mixture.gaussian.prior) -------------------------------------------
    # Structures without these methods work as before, only not with a prior.
    def check_prior_scale(self, scale: np.ndarray, n_features: int) -> None:
        """Raise ``ValueError`` unless ``scale`` is a prior scale of this structure's form."""
        raise ValueError(f"{self!r} has no conjugate prior")

    def from_scatter_with_prior(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        mean: np.ndarray,
        prior: ConjugatePrior,
        reg_covar: float,
        n_features: int,
    ) -> np.ndarray:
        """MAP M-step covariances under a conjugate prior, plus ``reg_covar``.

        The structure's ``numerator / divisor`` with
        ``numerator = scale + scatter_k + c_k (xbar_k - mu_P)(xbar_k - mu_P)^T`` (reduced to
        the structure's form as the scatter is), ``c_k = n_k kappa / (n_k + kappa)``, and
        the divisor of the structure's posterior mode (see each structure).

        Parameters
        ----------
        scatter : ndarray of the shape :meth:`scatter_shape`
            Centred scatter ``W_k`` about the weighted means.
        weight : ndarray of shape (n_components,)
            ``n_k``.
        mean : ndarray of shape (n_components, n_features)
            Weighted means ``xbar_k`` (not yet shrunk).
        prior : ConjugatePrior
        reg_covar : float
        n_features : int

        Returns
        -------
        ndarray in the shape :meth:`covariance_shape`
            A component with zero weight gets a placeholder; the family keeps its previous
            covariance instead.
        """
        raise NotImplementedError(f"{self!r} has no conjugate prior")

    def log_prior_covariance(
        self, covariances: np.ndarray, precisions_cholesky: np.ndarray, prior: ConjugatePrior
    ) -> float:
        """Log-density of the covariances under the prior's inverse-Wishart or
        inverse-gamma part (see :meth:`ConjugatePrior.log_density`)."""
        raise NotImplementedError(f"{self!r} has no conjugate prior")

    def pooled_moments(
        self, weight: np.ndarray, mean: np.ndarray, scatter: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The statistics of all components pooled into one.

        Parameters
        ----------
        weight : ndarray of shape (n_components,)
        mean : ndarray of shape (n_components, n_features)
        scatter : ndarray of the shape :meth:`scatter_shape`

        Returns
        -------
        weight : ndarray of shape (1,)
        mean : ndarray of shape (1, n_features)
        scatter : ndarray of the shape ``scatter_shape(1, n_features)``
            ``sum_k W_k + sum_k n_k (xbar_k - xbar)(xbar_k - xbar)^T`` in this structure's
            form.
        """
        total = weight.sum()
        centre = (weight / total) @ mean
        pooled = scatter + self.merge_term(mean - centre, weight)
        return np.array([total]), centre[None], self._sum_over_components(pooled)

    def _sum_over_components(self, scatter: np.ndarray) -> np.ndarray:
        """Sum a per-component scatter over components, keeping the component axis."""
        return scatter.sum(axis=0, keepdims=True)

    def default_prior_scale(
        self, pooled_scatter: np.ndarray, total_weight: float, n_features: int
    ) -> np.ndarray:
        """mclust's ``defaultPrior`` scale before the ``K^(-2/D)`` factor, from the data's
        pooled scatter (:meth:`pooled_moments`) and total weight ``n``."""
        raise NotImplementedError(f"{self!r} has no conjugate prior")


class FullCovariance(CovarianceStructure):
    """Each component has its own unrestricted covariance matrix."""

    name = "full"

    def covariance_shape(self, n_components: int, n_features: int) -> tuple[int, ...]:
        return (n_components, n_features, n_features)

    def check_covariances(self, covariances: np.ndarray) -> None:
        _check_symmetric_positive(covariances, "covariances")

    def precisions_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        return np.stack(
            [
                _precision_cholesky_of(cov, f"the covariance of component {k}")
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

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_components * n_features * (n_features + 1) // 2

    def component_covariance(self, covariances: np.ndarray, k: int) -> np.ndarray:
        return covariances[k]

    def stack(self, covariances: list[np.ndarray]) -> np.ndarray:
        return np.stack(covariances)

    def smallest_variances(self, covariances: np.ndarray, n_components: int) -> np.ndarray:
        return np.linalg.eigvalsh(covariances)[:, 0]

    def full_matrices(self, covariances: np.ndarray, n_features: int) -> np.ndarray:
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

    def log_density_kernel(
        self,
        means: np.ndarray,
        precisions_cholesky: np.ndarray,
        half_log_det: np.ndarray,
        reference: np.ndarray,
        dtype: Any,
    ) -> LogDensityKernel:
        return FullKernel(
            means, precisions_cholesky, half_log_det, reference, dtype, centred_scatter=self.scatter
        )

    def chunk_moments(
        self, X: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Rows relative to the chunk's first row, transposed (D, n) so that centring and
        # weighting run along contiguous rows. Each component's scatter is then one GEMM on
        # exactly centred rows, (sqrt(w_k) (y - m_k)) (sqrt(w_k) (y - m_k))^T, computed
        # in one reused buffer.
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

    def scatter(self, X: np.ndarray, weights: np.ndarray, means: np.ndarray) -> np.ndarray:
        n_features = X.shape[1]
        out = np.empty((means.shape[0], n_features, n_features))
        for k, rows in _weighted_centred_rows(X, weights, means):
            out[k] = rows.T @ rows
        return out

    def merge_term(self, delta: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return (factor[:, None] * delta)[:, :, None] * delta[:, None, :]

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        covariances = scatter / _divisor(weight)[:, None, None]
        covariances = 0.5 * (covariances + covariances.transpose(0, 2, 1))
        covariances[:, np.arange(n_features), np.arange(n_features)] += reg_covar
        return covariances

    def check_prior_scale(self, scale: np.ndarray, n_features: int) -> None:
        _check_prior_scale_matrix(scale, n_features, "full")

    def from_scatter_with_prior(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        mean: np.ndarray,
        prior: ConjugatePrior,
        reg_covar: float,
        n_features: int,
    ) -> np.ndarray:
        """``Sigma_k = (Lambda + W_k + c_k d_k d_k^T) / (nu + n_k + D + 1 + [kappa > 0])``,
        ``d_k = xbar_k - mu_P`` (mclust ``msvvvp``; the posterior mode under
        ``IW(nu, Lambda)`` and ``mu_k ~ N(mu_P, Sigma_k / kappa)``)."""
        factor = prior.shrinkage_factor(weight)
        numerator = prior.scale + scatter + self.merge_term(mean - prior.mean, factor)
        divisor = prior.dof + weight + (n_features + 1.0 + prior.has_mean_prior)
        covariances = numerator / _prior_divisor(divisor, weight)[:, None, None]
        covariances = 0.5 * (covariances + covariances.transpose(0, 2, 1))
        covariances[:, np.arange(n_features), np.arange(n_features)] += reg_covar
        return covariances

    def log_prior_covariance(
        self, covariances: np.ndarray, precisions_cholesky: np.ndarray, prior: ConjugatePrior
    ) -> float:
        half_log_det = self.half_log_det(precisions_cholesky, covariances.shape[-1])
        return _inverse_wishart_log_density(precisions_cholesky, half_log_det, prior)

    def default_prior_scale(
        self, pooled_scatter: np.ndarray, total_weight: float, n_features: int
    ) -> np.ndarray:
        return _matrix_prior_scale(pooled_scatter[0], total_weight, n_features)


class TiedCovariance(CovarianceStructure):
    """All components share one covariance matrix, estimated from the pooled scatter."""

    name = "tied"

    def covariance_shape(self, n_components: int, n_features: int) -> tuple[int, ...]:
        return (n_features, n_features)

    def check_covariances(self, covariances: np.ndarray) -> None:
        _check_symmetric_positive(covariances[None], "covariances")

    def precisions_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        return _precision_cholesky_of(covariances, "the tied covariance")

    def precisions_from_cholesky(self, precisions_cholesky: np.ndarray) -> np.ndarray:
        return precisions_cholesky @ precisions_cholesky.T

    def covariances_from_precisions(self, precisions: np.ndarray) -> np.ndarray:
        return np.linalg.inv(precisions)

    def half_log_det(self, precisions_cholesky: np.ndarray, n_features: int) -> np.ndarray:
        return np.atleast_1d(np.log(np.diagonal(precisions_cholesky)).sum())

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_features * (n_features + 1) // 2

    @property
    def component_structure(self) -> CovarianceStructure:
        return FullCovariance()

    def component_covariance(self, covariances: np.ndarray, k: int) -> np.ndarray:
        return covariances

    def stack(self, covariances: list[np.ndarray]) -> np.ndarray:
        first = covariances[0]
        if any(not np.array_equal(first, other) for other in covariances[1:]):
            raise ValueError("tied covariance needs the same matrix for every component")
        return first

    def smallest_variances(self, covariances: np.ndarray, n_components: int) -> np.ndarray:
        return np.full(n_components, np.linalg.eigvalsh(covariances)[0])

    def full_matrices(self, covariances: np.ndarray, n_features: int) -> np.ndarray:
        return covariances[None]

    def keep_where(self, new: np.ndarray, old: np.ndarray, keep: np.ndarray) -> np.ndarray:
        return new  # the pooled estimate already ignores empty components

    def mahalanobis(
        self, X: np.ndarray, means: np.ndarray, precisions_cholesky: np.ndarray
    ) -> np.ndarray:
        projected = X @ precisions_cholesky
        shifted = projected[:, None, :] - (means @ precisions_cholesky)[None, :, :]
        return np.einsum("nkd,nkd->nk", shifted, shifted)

    def log_density_kernel(
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
            one_scale=True,
        )

    def chunk_moments(
        self, X: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # The pooled scatter sum_k sum_i w_ik (y_i - m_k)(y_i - m_k)^T splits exactly, with
        # s_i = sum_k w_ik and the row's own mean a_i = sum_k w_ik m_k / s_i, into
        #     sum_i s_i (y_i - a_i)(y_i - a_i)^T  +  M^T L M,
        # where L = diag(w) - sum_i w_i w_i^T / s_i is the Laplacian of the (K, K) overlap
        # O = sum_i w_i w_i^T / s_i: off-diagonal -O_kj, diagonal sum_{j != k} O_kj (no
        # cancellation). L annihilates constants, so M may be centred at the pooled mean.
        # Two GEMMs of size D x D x n and K x K x n replace K of size D x D x n, worked
        # through in cache-sized blocks of rows.
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

    def scatter(self, X: np.ndarray, weights: np.ndarray, means: np.ndarray) -> np.ndarray:
        n_features = X.shape[1]
        out = np.zeros((n_features, n_features))
        for _, rows in _weighted_centred_rows(X, weights, means):
            out += rows.T @ rows
        return out

    def merge_term(self, delta: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return (delta * factor[:, None]).T @ delta

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        covariance = scatter / weight.sum()
        covariance = 0.5 * (covariance + covariance.T)
        covariance[np.arange(n_features), np.arange(n_features)] += reg_covar
        return covariance

    def check_prior_scale(self, scale: np.ndarray, n_features: int) -> None:
        _check_prior_scale_matrix(scale, n_features, "tied")

    def from_scatter_with_prior(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        mean: np.ndarray,
        prior: ConjugatePrior,
        reg_covar: float,
        n_features: int,
    ) -> np.ndarray:
        """``Sigma = (Lambda + sum_k (W_k + c_k d_k d_k^T)) / (nu + n + D + 1 + K [kappa > 0])``,
        ``n = sum_k n_k`` (mclust ``mseeep``: one inverse-Wishart matrix, K mean priors)."""
        factor = prior.shrinkage_factor(weight)
        numerator = prior.scale + scatter + self.merge_term(mean - prior.mean, factor)
        n_components = weight.shape[0]
        divisor = prior.dof + weight.sum() + n_features + 1.0 + n_components * prior.has_mean_prior
        covariance = numerator / _prior_divisor(np.atleast_1d(divisor), np.ones(1))[0]
        covariance = 0.5 * (covariance + covariance.T)
        covariance[np.arange(n_features), np.arange(n_features)] += reg_covar
        return covariance

    def log_prior_covariance(
        self, covariances: np.ndarray, precisions_cholesky: np.ndarray, prior: ConjugatePrior
    ) -> float:
        half_log_det = self.half_log_det(precisions_cholesky, covariances.shape[-1])
        return _inverse_wishart_log_density(precisions_cholesky[None], half_log_det, prior)

    def _sum_over_components(self, scatter: np.ndarray) -> np.ndarray:
        return scatter  # the tied scatter and merge term are already summed

    def default_prior_scale(
        self, pooled_scatter: np.ndarray, total_weight: float, n_features: int
    ) -> np.ndarray:
        return _matrix_prior_scale(pooled_scatter, total_weight, n_features)


class DiagonalCovariance(CovarianceStructure):
    """Each component has its own diagonal covariance (independent features)."""

    name = "diag"

    def covariance_shape(self, n_components: int, n_features: int) -> tuple[int, ...]:
        return (n_components, n_features)

    def check_covariances(self, covariances: np.ndarray) -> None:
        if (covariances <= 0).any():
            raise ValueError("diagonal covariances must be positive")

    def precisions_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        if (covariances <= 0).any():
            k = int(np.argwhere(covariances <= 0)[0, 0])
            raise DegenerateComponentError(
                f"component {k} has a non-positive variance; increase reg_covar or remove "
                "constant features"
            )
        return 1.0 / np.sqrt(covariances)

    def precisions_from_cholesky(self, precisions_cholesky: np.ndarray) -> np.ndarray:
        return precisions_cholesky**2

    def covariances_from_precisions(self, precisions: np.ndarray) -> np.ndarray:
        return 1.0 / precisions

    def half_log_det(self, precisions_cholesky: np.ndarray, n_features: int) -> np.ndarray:
        return np.log(precisions_cholesky).sum(axis=1)

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_components * n_features

    def component_covariance(self, covariances: np.ndarray, k: int) -> np.ndarray:
        return covariances[k]

    def stack(self, covariances: list[np.ndarray]) -> np.ndarray:
        return np.stack(covariances)

    def smallest_variances(self, covariances: np.ndarray, n_components: int) -> np.ndarray:
        return covariances.min(axis=1)

    def full_matrices(self, covariances: np.ndarray, n_features: int) -> np.ndarray:
        return np.stack([np.diag(variances) for variances in covariances])

    def mahalanobis(
        self, X: np.ndarray, means: np.ndarray, precisions_cholesky: np.ndarray
    ) -> np.ndarray:
        shifted = X[:, None, :] * precisions_cholesky[None] - (means * precisions_cholesky)
        return np.einsum("nkd,nkd->nk", shifted, shifted)

    def log_density_kernel(
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
            centred_scatter=self.scatter,
        )

    def chunk_moments(
        self, X: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # One GEMM per block of rows, (K, rows) @ (rows, 2 D), gives sum_i w_ik y_i^2 and
        # sum_i w_ik y_i for all components (see _moments_by_expansion).
        return _moments_by_expansion(self, X, weights, one_scale=False)

    def scatter(self, X: np.ndarray, weights: np.ndarray, means: np.ndarray) -> np.ndarray:
        out = np.empty(means.shape)
        for k, rows in _weighted_centred_rows(X, weights, means):
            out[k] = np.einsum("nd,nd->d", rows, rows)
        return out

    def merge_term(self, delta: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return factor[:, None] * delta**2

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        return scatter / _divisor(weight)[:, None] + reg_covar

    def check_prior_scale(self, scale: np.ndarray, n_features: int) -> None:
        if scale.shape not in ((), (n_features,)):
            raise ValueError(
                "a prior for diagonal covariances needs a scalar scale or one per feature, "
                f"shape ({n_features},); got shape {scale.shape}"
            )

    def from_scatter_with_prior(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        mean: np.ndarray,
        prior: ConjugatePrior,
        reg_covar: float,
        n_features: int,
    ) -> np.ndarray:
        """``s_kj = (lambda_j + W_kjj + c_k d_kj^2) / (nu + n_k + 2 + [kappa > 0])`` (mclust
        ``msvvip``: an inverse-gamma prior on each variance)."""
        factor = prior.shrinkage_factor(weight)
        numerator = prior.scale + scatter + self.merge_term(mean - prior.mean, factor)
        divisor = prior.dof + weight + (2.0 + prior.has_mean_prior)
        return numerator / _prior_divisor(divisor, weight)[:, None] + reg_covar

    def log_prior_covariance(
        self, covariances: np.ndarray, precisions_cholesky: np.ndarray, prior: ConjugatePrior
    ) -> float:
        return _inverse_gamma_log_density(covariances, prior)

    def default_prior_scale(
        self, pooled_scatter: np.ndarray, total_weight: float, n_features: int
    ) -> np.ndarray:
        return np.array(pooled_scatter.sum() / (total_weight - 1.0) / n_features)


class SphericalCovariance(CovarianceStructure):
    """Each component has one variance shared by all features."""

    name = "spherical"

    def covariance_shape(self, n_components: int, n_features: int) -> tuple[int, ...]:
        return (n_components,)

    def check_covariances(self, covariances: np.ndarray) -> None:
        if (covariances <= 0).any():
            raise ValueError("spherical variances must be positive")

    def precisions_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        if (covariances <= 0).any():
            k = int(np.argmax(covariances <= 0))
            raise DegenerateComponentError(
                f"component {k} has a non-positive variance; increase reg_covar"
            )
        return 1.0 / np.sqrt(covariances)

    def precisions_from_cholesky(self, precisions_cholesky: np.ndarray) -> np.ndarray:
        return precisions_cholesky**2

    def covariances_from_precisions(self, precisions: np.ndarray) -> np.ndarray:
        return 1.0 / precisions

    def half_log_det(self, precisions_cholesky: np.ndarray, n_features: int) -> np.ndarray:
        return n_features * np.log(precisions_cholesky)

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_components

    def component_covariance(self, covariances: np.ndarray, k: int) -> np.ndarray:
        return covariances[k]

    def stack(self, covariances: list[np.ndarray]) -> np.ndarray:
        values = [np.asarray(c, dtype=np.float64) for c in covariances]
        for value in values:
            if value.size != 1:
                raise ValueError(
                    "a spherical covariance is one variance per component (a scalar); got an "
                    f"array of shape {value.shape}"
                )
        return np.array([float(value.reshape(())) for value in values])

    def smallest_variances(self, covariances: np.ndarray, n_components: int) -> np.ndarray:
        return covariances

    def full_matrices(self, covariances: np.ndarray, n_features: int) -> np.ndarray:
        return covariances[:, None, None] * np.eye(n_features)[None]

    def mahalanobis(
        self, X: np.ndarray, means: np.ndarray, precisions_cholesky: np.ndarray
    ) -> np.ndarray:
        shifted = X[:, None, :] - means[None]
        return np.einsum("nkd,nkd->nk", shifted, shifted) * precisions_cholesky**2

    def log_density_kernel(
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
            centred_scatter=self.scatter,
            one_scale=True,
        )

    def chunk_moments(
        self, X: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # As for the diagonal structure, with the squared norm |y|^2 as the one quadratic
        # feature: a GEMM (K, rows) @ (rows, 1 + D) per block of rows.
        return _moments_by_expansion(self, X, weights, one_scale=True)

    def scatter(self, X: np.ndarray, weights: np.ndarray, means: np.ndarray) -> np.ndarray:
        out = np.empty(means.shape[0])
        for k, rows in _weighted_centred_rows(X, weights, means):
            out[k] = np.einsum("nd,nd->", rows, rows)
        return out

    def merge_term(self, delta: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return factor * (delta**2).sum(axis=1)

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        return scatter / (_divisor(weight) * n_features) + reg_covar

    def check_prior_scale(self, scale: np.ndarray, n_features: int) -> None:
        if scale.shape != ():
            raise ValueError(
                f"a prior for spherical covariances needs a scalar scale; got shape {scale.shape}"
            )

    def from_scatter_with_prior(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        mean: np.ndarray,
        prior: ConjugatePrior,
        reg_covar: float,
        n_features: int,
    ) -> np.ndarray:
        """``s_k = (lambda + tr W_k + c_k |d_k|^2) / (nu + n_k D + 2 + D [kappa > 0])``
        (mclust ``msviip``: an inverse-gamma prior on each component's variance)."""
        factor = prior.shrinkage_factor(weight)
        numerator = prior.scale + scatter + self.merge_term(mean - prior.mean, factor)
        divisor = prior.dof + weight * n_features + 2.0 + n_features * prior.has_mean_prior
        return numerator / _prior_divisor(divisor, weight) + reg_covar

    def log_prior_covariance(
        self, covariances: np.ndarray, precisions_cholesky: np.ndarray, prior: ConjugatePrior
    ) -> float:
        return _inverse_gamma_log_density(covariances, prior)

    def default_prior_scale(
        self, pooled_scatter: np.ndarray, total_weight: float, n_features: int
    ) -> np.ndarray:
        return np.array(pooled_scatter.sum() / (total_weight - 1.0) / n_features)
