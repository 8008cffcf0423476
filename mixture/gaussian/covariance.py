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

import numpy as np
from scipy import linalg

from mixture.exceptions import DegenerateComponentError

__all__ = [
    "CovarianceStructure",
    "DiagonalCovariance",
    "FullCovariance",
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


def _divisor(weight: np.ndarray) -> np.ndarray:
    """Component weights with zeros replaced by 1 (an empty component's scatter is 0)."""
    return np.where(weight > 0, weight, 1.0)


def _cholesky_lower(matrix: np.ndarray, what: str) -> np.ndarray:
    try:
        return linalg.cholesky(matrix, lower=True, check_finite=False)
    except linalg.LinAlgError:
        raise DegenerateComponentError(
            f"{what} is not positive definite: the component has collapsed onto a "
            "lower-dimensional set of rows. Increase reg_covar, use fewer components, or "
            "remove duplicated rows and constant features."
        ) from None


def _precision_cholesky_of(covariance: np.ndarray, what: str) -> np.ndarray:
    lower = _cholesky_lower(covariance, what)
    eye = np.eye(covariance.shape[0])
    return linalg.solve_triangular(lower, eye, lower=True, check_finite=False).T


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

    # -- statistics -------------------------------------------------------------------------
    @abstractmethod
    def scatter(self, X: np.ndarray, weights: np.ndarray, means: np.ndarray) -> np.ndarray:
        """Weighted scatter of a chunk about the chunk's own weighted ``means``, in float64.

        Full: ``S_k = sum_i w_ik (x_i - m_k)(x_i - m_k)^T``; the other structures keep the
        part of it they need (diagonal, trace, or the sum over components).
        """

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

    def scatter(self, X: np.ndarray, weights: np.ndarray, means: np.ndarray) -> np.ndarray:
        n_features = X.shape[1]
        out = np.empty((means.shape[0], n_features, n_features))
        for k, rows in _weighted_centred_rows(X, weights, means):
            out[k] = rows.T @ rows
        return out

    def merge_term(self, delta: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return factor[:, None, None] * delta[:, :, None] * delta[:, None, :]

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        covariances = scatter / _divisor(weight)[:, None, None]
        covariances = 0.5 * (covariances + covariances.transpose(0, 2, 1))
        covariances[:, np.arange(n_features), np.arange(n_features)] += reg_covar
        return covariances


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
