"""Covariance structures: the parsimonious Gaussian models, as small objects.

A structure is what distinguishes mclust's models (EII, VVI, EEE, VEV, ...) from one
another: the M-step that turns the components' scatter statistics into covariances, and the
number of free parameters. Everything about storing and evaluating the covariances belongs
to the structure's :attr:`~CovarianceStructure.form` (:mod:`mixture.gaussian.forms`), one of
four shared by all structures; the scatter statistics come from the form's chunk moments
(:mod:`mixture.gaussian.moments`).

This module holds the base class and scikit-learn's four structures (mclust's VVV, EEE,
VVI and VII); :mod:`mixture.gaussian.parsimonious` holds the other ten of mclust's models.
A new structure subclasses :class:`CovarianceStructure`, picks a form and implements
:meth:`~CovarianceStructure.from_scatter` and :meth:`~CovarianceStructure.n_parameters`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import gammaln, multigammaln

from mixture.exceptions import DegenerateComponentError
from mixture.gaussian.forms import (
    CovarianceForm,
    DiagonalForm,
    FullForm,
    SharedForm,
    SphericalForm,
)

if TYPE_CHECKING:
    from mixture.gaussian.prior import ConjugatePrior

__all__ = [
    "CompiledLayout",
    "CovarianceStructure",
    "DiagonalCovariance",
    "FullCovariance",
    "SphericalCovariance",
    "TiedCovariance",
    "divisor",
]


def divisor(weight: np.ndarray) -> np.ndarray:
    """Component weights with zeros replaced by 1 (an empty component's scatter is 0)."""
    return np.where(weight > 0, weight, 1.0)


def add_to_diagonal(matrices: np.ndarray, value: float) -> np.ndarray:
    """Symmetrise ``(..., D, D)`` matrices and add ``value`` to their diagonals."""
    matrices = 0.5 * (matrices + np.swapaxes(matrices, -1, -2))
    n_features = matrices.shape[-1]
    matrices[..., np.arange(n_features), np.arange(n_features)] += value
    return matrices


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


def _check_prior_scale_variances(scale: np.ndarray, n_features: int, structure: str) -> None:
    if scale.shape not in ((), (n_features,)):
        raise ValueError(
            f"a prior for {structure} covariances needs a scalar scale or one per feature, "
            f"shape ({n_features},); got shape {scale.shape}"
        )


def _check_prior_scale_scalar(scale: np.ndarray, structure: str) -> None:
    if scale.shape != ():
        raise ValueError(
            f"a prior for {structure} covariances needs a scalar scale; got shape {scale.shape}"
        )


def _scalar_prior_scale(pooled: np.ndarray, total_weight: float, n_features: int) -> np.ndarray:
    """mclust's ``sum(diag(var(data))) / D`` (divisor ``n - 1``)."""
    return np.array(pooled.sum() / (total_weight - 1.0) / n_features)


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


@dataclass(frozen=True)
class CompiledLayout:
    """How a structure with a closed-form M-step is estimated, for the compiled EM run
    (:mod:`mixture.gaussian._em_compiled`), which holds covariances as dense matrices.

    Attributes
    ----------
    entries : int
        What each covariance estimates from its scatter: ``0`` one variance (the trace
        over ``D``), ``1`` a variance per feature (the diagonal), ``2`` the whole matrix.
    pooled : bool
        One estimate from the scatter summed over components (``sum_k W_k / sum_k N_k``),
        shared by all of them; else each component's own (``W_k / N_k``).
    pooled_statistics : bool
        The form stores one pooled scatter (as for a tied covariance), which is then what
        SQUAREM's step length measures.
    """

    entries: int
    pooled: bool = False
    pooled_statistics: bool = False

    def to_form(self, dense: np.ndarray) -> np.ndarray:
        """The form's covariances from dense ``(K, D, D)`` ones (equal where pooled)."""
        if self.entries == 2:
            return dense[0].copy() if self.pooled_statistics else dense.copy()
        diagonals = np.diagonal(dense, axis1=1, axis2=2).copy()
        return diagonals if self.entries == 1 else diagonals[:, 0].copy()


class CovarianceStructure(ABC):
    """How the covariance matrices of K Gaussian components are constrained and estimated.

    Subclasses set :attr:`name` and :attr:`form` and implement :meth:`from_scatter` (the
    M-step) and :meth:`n_parameters`; a structure that supports the conjugate prior of
    :mod:`mixture.gaussian.prior` also implements the four prior methods.
    """

    #: Name, as scikit-learn spells the covariance type where it has one, else mclust's.
    name: str = ""
    #: mclust's three-letter model name (volume, shape, orientation: Equal/Variable/Identity).
    mclust_name: str = ""
    #: Storage and evaluation of the covariances (see :mod:`mixture.gaussian.forms`).
    form: CovarianceForm
    #: The closed-form M-step as the compiled EM run knows it, or None. Used only when
    #: the structure's own class declares it (a subclass changing the M-step does not
    #: inherit it).
    compiled_layout: CompiledLayout | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._settings() == other._settings()

    def __hash__(self) -> int:
        return hash((type(self), self._settings()))

    def _settings(self) -> tuple[Any, ...]:
        """Constructor settings that make two instances differ (none by default)."""
        return ()

    @abstractmethod
    def n_parameters(self, n_components: int, n_features: int) -> int:
        """Free covariance parameters of K components (mclust's count)."""

    @abstractmethod
    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        """The M-step: covariances maximising the likelihood given the statistics.

        Parameters
        ----------
        scatter : ndarray of the form's shape
            Centred scatter of each component about its weighted mean (see
            :mod:`mixture.gaussian.moments`).
        weight : ndarray of shape (n_components,)
            Summed responsibilities ``n_k``.
        reg_covar : float
            Added to the diagonal of every covariance after the estimate.
        n_features : int

        Returns
        -------
        ndarray of the form's shape
            A component with zero weight may get any placeholder: the family keeps its
            previous covariance instead (see :meth:`keep_where`).
        """

    def from_scatter_near(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        reg_covar: float,
        n_features: int,
        previous: np.ndarray,
    ) -> np.ndarray:
        """The M-step within EM, given the current covariances ``previous`` (form's shape).

        The same estimate as :meth:`from_scatter` for a closed form (the default); an
        iterative M-step may start from ``previous``, as long as its result is at least as
        good as ``previous`` (EM's objective must not decrease).
        """
        return self.from_scatter(scatter, weight, reg_covar, n_features)

    def keep_where(self, new: np.ndarray, old: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Covariances after an M-step in which the components ``keep`` had no weight:
        theirs stay as they were (a structure whose covariances share every parameter
        returns ``new``)."""
        return self.form.keep_where(new, old, keep)

    #: Whether each component's covariance is estimated from its own scatter alone (full,
    #: diagonal, spherical): then one component's covariance can be frozen while the others
    #: are estimated. Structures that share a part (tied, or a common volume, shape or
    #: orientation) freeze all covariances or none.
    independent_components: bool = False

    @property
    def component_structure(self) -> CovarianceStructure:
        """Structure of one component viewed on its own (``Tied`` gives ``Full``; a model
        with shared parts gives the unconstrained structure of its form)."""
        return _SINGLE_COMPONENT[type(self.form.component_form)]()

    # -- conjugate prior (mixture.gaussian.prior) -------------------------------------------
    # Structures without these methods work as before, only not with a prior.
    @property
    def supports_prior(self) -> bool:
        """Whether this structure has a MAP M-step (:meth:`from_scatter_with_prior`)."""
        return type(self).from_scatter_with_prior is not CovarianceStructure.from_scatter_with_prior

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
        scatter : ndarray of the form's shape
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
        ndarray of the form's shape
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

    def default_prior_scale(
        self, pooled_scatter: np.ndarray, total_weight: float, n_features: int
    ) -> np.ndarray:
        """mclust's ``defaultPrior`` scale before the ``K^(-2/D)`` factor, from the data's
        pooled scatter (:meth:`CovarianceForm.pooled_moments`) and total weight ``n``."""
        raise NotImplementedError(f"{self!r} has no conjugate prior")


class FullCovariance(CovarianceStructure):
    """Each component has its own unrestricted covariance matrix (mclust's VVV)."""

    independent_components = True

    name = "full"
    mclust_name = "VVV"
    form = FullForm()
    compiled_layout = CompiledLayout(entries=2)

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_components * n_features * (n_features + 1) // 2

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        return add_to_diagonal(scatter / divisor(weight)[:, None, None], reg_covar)

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
        numerator = prior.scale + scatter + self.form.merge_term(mean - prior.mean, factor)
        divisor_ = prior.dof + weight + (n_features + 1.0 + prior.has_mean_prior)
        covariances = numerator / _prior_divisor(divisor_, weight)[:, None, None]
        return add_to_diagonal(covariances, reg_covar)

    def log_prior_covariance(
        self, covariances: np.ndarray, precisions_cholesky: np.ndarray, prior: ConjugatePrior
    ) -> float:
        half_log_det = self.form.half_log_det(precisions_cholesky, covariances.shape[-1])
        return _inverse_wishart_log_density(precisions_cholesky, half_log_det, prior)

    def default_prior_scale(
        self, pooled_scatter: np.ndarray, total_weight: float, n_features: int
    ) -> np.ndarray:
        return _matrix_prior_scale(pooled_scatter[0], total_weight, n_features)


class TiedCovariance(CovarianceStructure):
    """All components share one covariance matrix, estimated from the pooled scatter
    (mclust's EEE)."""

    name = "tied"
    mclust_name = "EEE"
    form = SharedForm()
    compiled_layout = CompiledLayout(entries=2, pooled=True, pooled_statistics=True)

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_features * (n_features + 1) // 2

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        return add_to_diagonal(scatter / weight.sum(), reg_covar)

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
        numerator = prior.scale + scatter + self.form.merge_term(mean - prior.mean, factor)
        n_components = weight.shape[0]
        divisor_ = prior.dof + weight.sum() + n_features + 1.0 + n_components * prior.has_mean_prior
        covariance = numerator / _prior_divisor(np.atleast_1d(divisor_), np.ones(1))[0]
        return add_to_diagonal(covariance, reg_covar)

    def log_prior_covariance(
        self, covariances: np.ndarray, precisions_cholesky: np.ndarray, prior: ConjugatePrior
    ) -> float:
        half_log_det = self.form.half_log_det(precisions_cholesky, covariances.shape[-1])
        return _inverse_wishart_log_density(precisions_cholesky[None], half_log_det, prior)

    def default_prior_scale(
        self, pooled_scatter: np.ndarray, total_weight: float, n_features: int
    ) -> np.ndarray:
        return _matrix_prior_scale(pooled_scatter, total_weight, n_features)


class DiagonalCovariance(CovarianceStructure):
    """Each component has its own diagonal covariance (independent features; mclust's
    VVI)."""

    independent_components = True

    name = "diag"
    mclust_name = "VVI"
    form = DiagonalForm()
    compiled_layout = CompiledLayout(entries=1)

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_components * n_features

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        return scatter / divisor(weight)[:, None] + reg_covar

    def check_prior_scale(self, scale: np.ndarray, n_features: int) -> None:
        _check_prior_scale_variances(scale, n_features, "diagonal")

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
        numerator = prior.scale + scatter + self.form.merge_term(mean - prior.mean, factor)
        divisor_ = prior.dof + weight + (2.0 + prior.has_mean_prior)
        return numerator / _prior_divisor(divisor_, weight)[:, None] + reg_covar

    def log_prior_covariance(
        self, covariances: np.ndarray, precisions_cholesky: np.ndarray, prior: ConjugatePrior
    ) -> float:
        return _inverse_gamma_log_density(covariances, prior)

    def default_prior_scale(
        self, pooled_scatter: np.ndarray, total_weight: float, n_features: int
    ) -> np.ndarray:
        return _scalar_prior_scale(pooled_scatter, total_weight, n_features)


class SphericalCovariance(CovarianceStructure):
    """Each component has one variance shared by all features (mclust's VII)."""

    independent_components = True

    name = "spherical"
    mclust_name = "VII"
    form = SphericalForm()
    compiled_layout = CompiledLayout(entries=0)

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_components

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        return scatter / (divisor(weight) * n_features) + reg_covar

    def check_prior_scale(self, scale: np.ndarray, n_features: int) -> None:
        _check_prior_scale_scalar(scale, "spherical")

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
        numerator = prior.scale + scatter + self.form.merge_term(mean - prior.mean, factor)
        divisor_ = prior.dof + weight * n_features + 2.0 + n_features * prior.has_mean_prior
        return numerator / _prior_divisor(divisor_, weight) + reg_covar

    def log_prior_covariance(
        self, covariances: np.ndarray, precisions_cholesky: np.ndarray, prior: ConjugatePrior
    ) -> float:
        return _inverse_gamma_log_density(covariances, prior)

    def default_prior_scale(
        self, pooled_scatter: np.ndarray, total_weight: float, n_features: int
    ) -> np.ndarray:
        return _scalar_prior_scale(pooled_scatter, total_weight, n_features)


_SINGLE_COMPONENT: dict[type[CovarianceForm], type[CovarianceStructure]] = {
    FullForm: FullCovariance,
    DiagonalForm: DiagonalCovariance,
    SphericalForm: SphericalCovariance,
}
