"""K Gaussian components with stacked parameters, as the engine sees them."""

from __future__ import annotations

from typing import Any

import numpy as np

from mixture.family import ComponentFamily, WholeRun
from mixture.gaussian.component import Gaussian
from mixture.gaussian.stacked import StackedGaussians
from mixture.gaussian.whole_run import whole_run

__all__ = ["GaussianFamily"]


class GaussianFamily(StackedGaussians, ComponentFamily):
    """K multivariate Gaussian components sharing a covariance structure.

    Without ``means`` and ``covariances`` this is an unfitted template: the engine's
    initialisation gives it parameters. With them it is a fitted family.

    Parameters
    ----------
    n_components : int
        Number of components K.
    structure : CovarianceStructure, default FullCovariance()
        How covariances are parameterised (full, tied, diagonal, spherical).
    reg_covar : float, default 1e-6
        Added to the diagonal of every covariance in the M-step, keeping it positive definite.
    means : array-like of shape (n_components, n_features), optional
    covariances : array-like, optional
        Shape given by the structure: (K, D, D) full, (D, D) tied, (K, D) diagonal,
        (K,) spherical. Taken as given (``reg_covar`` is only added by the M-step).
    prior : ConjugatePrior, DefaultPrior or None, default None
        A conjugate prior on the means and covariances (Fraley and Raftery 2007, mclust's
        ``priorControl()``): the M-step then gives the posterior mode (MAP) instead of the
        maximum-likelihood estimate, and EM ascends ``log L + log_prior()``. A
        :class:`~mixture.gaussian.DefaultPrior` is resolved into mclust's data-based
        default by the first M-step (the engine's initialisation). The MAP M-step, for
        ``n_k`` the summed responsibilities, ``xbar_k`` and ``W_k`` the weighted means and
        centred scatter, ``c_k = n_k kappa / (n_k + kappa)`` and ``d_k = xbar_k - mu_P``:

        * means: ``(n_k xbar_k + kappa mu_P) / (n_k + kappa)``;
        * full: ``(Lambda + W_k + c_k d_k d_k^T) / (nu + n_k + D + 1 + [kappa > 0])``;
        * tied: ``(Lambda + sum_k (W_k + c_k d_k d_k^T)) / (nu + n + D + 1 + K [kappa > 0])``;
        * diagonal: ``(lambda + diag W_k + c_k d_k^2) / (nu + n_k + 2 + [kappa > 0])``;
        * spherical: ``(lambda + tr W_k + c_k |d_k|^2) / (nu + n_k D + 2 + D [kappa > 0])``.

        ``reg_covar`` is still added on top; ``reg_covar=0`` gives mclust's estimates
        exactly (mclust adds nothing with a prior, whose scale already keeps the
        covariances positive definite). The prior adds no free parameters: as in mclust,
        BIC is computed from the log-likelihood (not the log-posterior) at the MAP
        estimate with the usual :attr:`n_parameters`, so BIC needs nothing new.

    Attributes
    ----------
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray
    precisions_cholesky : ndarray
        Cholesky factors ``U`` of the precisions, ``P = U @ U.T`` (see the structure).
    prior : ConjugatePrior, DefaultPrior or None
        After an M-step, a ``DefaultPrior`` is replaced by the ``ConjugatePrior`` it resolved
        to.
    """

    @property
    def components(self) -> tuple[Any, ...]:
        self._fitted()
        single = self._structure.component_structure
        return tuple(
            Gaussian(
                self._means[k],
                self._structure.form.component_covariance(self._covariances, k),
                structure=single,
                reg_covar=self._reg_covar,
            )
            for k in range(self._n_components)
        )

    def whole_run(
        self,
        weights: np.ndarray,
        X: np.ndarray,
        sample_weight: np.ndarray | None,
        *,
        tol: float | None,
        max_iter: int,
        previous: float,
        squarem: tuple[float, float, float] | None,
    ) -> WholeRun | None:
        """The run as one compiled loop (:mod:`mixture.gaussian._em_compiled`) for
        structures with a :class:`~mixture.gaussian.covariance.CompiledLayout` (with a
        conjugate or default prior: full, tied, diagonal and spherical; a default prior is
        resolved first, as the first M-step resolves it), without frozen parameters,
        on small float64 data, with numba installed; else None. See
        :meth:`mixture.family.ComponentFamily.whole_run`."""
        self._fitted()
        outcome = whole_run(
            self, weights, X, sample_weight,
            tol=tol, max_iter=max_iter, previous=previous, squarem=squarem,
        )  # fmt: skip
        if outcome is None:
            return None
        means, covariances, component_weight, history, passes, rejected, prior = outcome
        fitted = self._with_parameters(means, covariances, prior)
        return WholeRun(fitted, component_weight, history, passes, rejected)
