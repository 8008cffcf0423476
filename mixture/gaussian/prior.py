"""Conjugate priors for Gaussian mixtures: maximum a posteriori (MAP) EM.

Fraley and Raftery (2007), "Bayesian regularization for normal mixture estimation and
model-based clustering", Journal of Classification 24:155-181, as implemented by the R
package mclust (``priorControl()``, ``defaultPrior``, the Fortran M-steps ``msvvvp``,
``mseeep``, ``msvvip``, ``msviip``).

The prior, with hyper-parameters shrinkage ``kappa``, mean ``mu_P``, degrees of freedom
``nu`` and scale ``Lambda``, is on the component means and covariances (the mixing weights
have none):

* each mean, given its covariance: ``mu_k ~ N(mu_P, Sigma_k / kappa)`` (no prior on the
  means when ``kappa = 0``, which also drops their ``|Sigma_k|^(-1/2)`` factor);
* full and tied covariances: inverse Wishart, density
  ``prop. |Sigma|^(-(nu + D + 1)/2) exp(-tr(Lambda Sigma^-1) / 2)``, ``Lambda`` (D, D);
* every variance of a diagonal or spherical covariance: inverse gamma
  ``IG(nu / 2, lambda / 2)``, density ``prop. s^(-(nu/2 + 1)) exp(-lambda / (2 s))``, with
  ``lambda`` a scalar (a ``(D,)`` vector is also accepted for the diagonal structure).

The prior enters only the M-step (the E-step and the additive chunk statistics are those of
maximum likelihood), so EM ascends the log-posterior ``log L + log p(theta)``; see
:class:`~mixture.gaussian.GaussianFamily` (``prior=``) and the structures'
``from_scatter_with_prior`` for the formulas.

Model selection follows mclust: BIC is ``2 log L - n_parameters log n`` with the
log-likelihood (not the log-posterior) at the MAP estimate and the usual parameter count: the
hyper-parameters are fixed, not estimated, and add no free parameters.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mixture.gaussian.covariance import CovarianceStructure
    from mixture.gaussian.statistics import GaussianStatistics

__all__ = ["ConjugatePrior", "DefaultPrior"]

#: mclust's default mean shrinkage (``defaultPrior``'s ``shrinkage``).
DEFAULT_SHRINKAGE = 0.01


def _frozen(values: Any, name: str) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"the prior's {name} contains NaN or infinity")
    array.setflags(write=False)
    return array


def _check_shrinkage(shrinkage: Any) -> float:
    value = float(shrinkage)
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"shrinkage must be a finite number >= 0; got {shrinkage!r}")
    return value


class ConjugatePrior:
    """A normal-inverse-Wishart (or normal-inverse-gamma) prior on Gaussian components.

    Immutable. The same object serves every covariance structure whose scale it fits; the
    structure checks the scale's shape (see :meth:`check_for`).

    Parameters
    ----------
    shrinkage : float >= 0
        ``kappa``: the mean of component k is ``(n_k xbar_k + kappa mean) / (n_k + kappa)``.
        0 means no prior on the means. As in mclust, the means' prior also adds its
        ``|Sigma_k|^(-1/2)`` factors to the covariance divisors whenever ``kappa > 0``
        (``+1`` full and diagonal, ``+K`` tied, ``+D`` spherical), so the estimates jump by
        that much between ``kappa = 0`` and ``kappa -> 0``.
    mean : array-like of shape (n_features,)
        ``mu_P``, the point the means are shrunk towards.
    dof : float
        ``nu``, the degrees of freedom. Proper priors need ``dof > n_features - 1`` (full,
        tied) or ``dof > 0`` (diagonal, spherical); smaller values are accepted (the M-step
        only needs its divisors positive), down to the flat limit ``-(n_features + 1)``
        (full, tied) or ``-2`` (diagonal, spherical) where, with ``scale = 0`` and
        ``shrinkage = 0``, the MAP M-step is the maximum-likelihood one.
    scale : float or array-like
        ``Lambda``: of shape (n_features, n_features), symmetric positive semi-definite, for
        the full and tied structures; a float >= 0 for the spherical structure; a float or an
        array of shape (n_features,) (one per feature), >= 0, for the diagonal structure.

    Attributes
    ----------
    shrinkage : float
    mean : ndarray of shape (n_features,), read-only
    dof : float
    scale : ndarray of shape (), (n_features,) or (n_features, n_features), read-only
    n_parameters : int
        0: the hyper-parameters are fixed, so they add no free parameters to BIC.

    Examples
    --------
    >>> import numpy as np
    >>> from mixture.gaussian import ConjugatePrior, FullCovariance
    >>> X = np.random.default_rng(0).normal(size=(50, 2))
    >>> prior = ConjugatePrior.default(X, 3, FullCovariance())
    >>> prior.shrinkage, prior.dof, prior.scale.shape
    (0.01, 4.0, (2, 2))
    """

    n_parameters = 0

    def __init__(self, shrinkage: float, mean: Any, dof: float, scale: Any) -> None:
        self._shrinkage = _check_shrinkage(shrinkage)
        self._mean = _frozen(mean, "mean")
        if self._mean.ndim != 1 or self._mean.shape[0] == 0:
            raise ValueError(
                f"the prior's mean must have shape (n_features,); got {self._mean.shape}"
            )
        self._dof = float(dof)
        if not math.isfinite(self._dof):
            raise ValueError(f"dof must be finite; got {dof!r}")
        self._scale = _frozen(scale, "scale")
        n_features = self._mean.shape[0]
        if self._scale.ndim > 2 or (
            self._scale.ndim >= 1 and self._scale.shape != (n_features,) * self._scale.ndim
        ):
            raise ValueError(
                f"the prior's scale must be a float, or have shape ({n_features},) or "
                f"({n_features}, {n_features}) like its mean; got {self._scale.shape}"
            )
        if self._scale.ndim == 2:
            if not np.allclose(self._scale, self._scale.T, rtol=1e-10, atol=0.0):
                raise ValueError("the prior's scale matrix is not symmetric")
            largest = np.abs(self._scale).max()
            if np.linalg.eigvalsh(self._scale)[0] < -1e-12 * largest:
                raise ValueError("the prior's scale matrix is not positive semi-definite")
        elif (self._scale < 0).any():
            raise ValueError("the prior's scale must be >= 0")

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def default(
        cls,
        X: Any,
        n_components: int,
        structure: CovarianceStructure,
        *,
        shrinkage: float = DEFAULT_SHRINKAGE,
        sample_weight: Any = None,
    ) -> ConjugatePrior:
        """mclust's ``defaultPrior(X, G = n_components, modelName)``.

        ``shrinkage = 0.01``, ``mean`` the data's mean, ``dof = D + 2`` and ``scale``:

        * full, tied: ``var(X) / K^(2/D)`` (``var`` with divisor ``n - 1``), or only its
          diagonal when ``n <= D``;
        * diagonal, spherical: the scalar ``sum_j var(X[:, j]) / D / K^(2/D)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        n_components : int
            K (the scale shrinks as ``K^(-2/D)``: K components share the data's spread).
        structure : CovarianceStructure
        shrinkage : float, default 0.01
        sample_weight : array-like of shape (n_samples,), optional
            Frequency weights (``n`` is then their sum).

        Returns
        -------
        ConjugatePrior
        """
        from mixture.gaussian.statistics import GaussianStatistics

        rows = np.asarray(X, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] == 0:
            raise ValueError(f"X must be a non-empty 2-D array; got shape {rows.shape}")
        weights = np.ones((rows.shape[0], 1))
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64).reshape(-1, 1)
        statistics = GaussianStatistics.of_rows(rows, weights, structure)
        return DefaultPrior(shrinkage).resolve(statistics, n_components)

    # -- hyper-parameters -------------------------------------------------------------------
    @property
    def shrinkage(self) -> float:
        return self._shrinkage

    @property
    def mean(self) -> np.ndarray:
        return self._mean

    @property
    def dof(self) -> float:
        return self._dof

    @property
    def scale(self) -> np.ndarray:
        return self._scale

    @property
    def n_features(self) -> int:
        return int(self._mean.shape[0])

    def __repr__(self) -> str:
        return (
            f"ConjugatePrior(shrinkage={self._shrinkage!r}, mean={self._mean.tolist()!r}, "
            f"dof={self._dof!r}, scale={self._scale.tolist()!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConjugatePrior):
            return NotImplemented
        return (
            self._shrinkage == other._shrinkage
            and self._dof == other._dof
            and np.array_equal(self._mean, other._mean)
            and self._scale.shape == other._scale.shape
            and np.array_equal(self._scale, other._scale)
        )

    def __hash__(self) -> int:
        return hash((self._shrinkage, self._dof, self._mean.tobytes(), self._scale.tobytes()))

    def check_for(self, structure: CovarianceStructure, n_features: int) -> None:
        """Raise ``ValueError`` unless this prior fits ``structure`` on ``n_features``."""
        if self.n_features != n_features:
            raise ValueError(
                f"the prior's mean has {self.n_features} features; the data has {n_features}"
            )
        structure.check_prior_scale(self._scale, n_features)

    # -- the posterior mode and the density -------------------------------------------------
    def shrunk_means(self, weight: np.ndarray, mean: np.ndarray) -> np.ndarray:
        """Posterior mode of the means: ``(n_k xbar_k + kappa mu_P) / (n_k + kappa)``.

        Parameters
        ----------
        weight : ndarray of shape (n_components,)
            ``n_k``, the summed responsibilities.
        mean : ndarray of shape (n_components, n_features)
            ``xbar_k``, the responsibility-weighted means.

        Returns
        -------
        ndarray of shape (n_components, n_features)
            Equal to ``mean`` where ``n_k + kappa = 0``.
        """
        total = weight + self._shrinkage
        share = np.divide(
            self._shrinkage, total, out=np.zeros_like(total), where=total > 0
        )  # kappa / (n_k + kappa)
        return mean + share[:, None] * (self._mean - mean)

    def shrinkage_factor(self, weight: np.ndarray) -> np.ndarray:
        """``n_k kappa / (n_k + kappa)`` (0 where ``n_k + kappa = 0``), shape ``(K,)``: the
        weight of ``(xbar_k - mu_P)(xbar_k - mu_P)^T`` in the MAP covariances."""
        total = weight + self._shrinkage
        return np.divide(weight * self._shrinkage, total, out=np.zeros_like(total), where=total > 0)

    @property
    def has_mean_prior(self) -> bool:
        """Whether the means have a prior (``shrinkage > 0``); adds mclust's ``[kappa > 0]``
        terms to the covariance divisors."""
        return self._shrinkage > 0.0

    def log_density(self, means: Any, covariances: Any, structure: CovarianceStructure) -> float:
        """``log p(means, covariances)`` under this prior.

        Parameters
        ----------
        means : array-like of shape (n_components, n_features)
        covariances : array-like
            In ``structure``'s shape.
        structure : CovarianceStructure

        Returns
        -------
        float
            The sum over components of ``log N(mu_k | mu_P, Sigma_k / kappa)`` (left out
            when ``kappa = 0``) and the inverse-Wishart or inverse-gamma log-density of the
            covariances (for the tied structure, one matrix). Normalising constants are
            included where they exist; for an improper prior (``dof`` at or below the bound
            given in the class docstring, or a singular scale) they are left out, so the
            value is then defined up to an additive constant.
        """
        means = np.asarray(means, dtype=np.float64)
        covariances = np.asarray(covariances, dtype=np.float64)
        n_components, n_features = means.shape
        self.check_for(structure, n_features)
        precisions_cholesky = structure.form.precisions_cholesky(covariances)
        total = structure.log_prior_covariance(covariances, precisions_cholesky, self)
        if self.has_mean_prior:
            half_log_det = np.broadcast_to(
                structure.form.half_log_det(precisions_cholesky, n_features), (n_components,)
            )
            reference = self._mean
            distance = structure.form.mahalanobis(
                np.zeros((1, n_features)), means - reference, precisions_cholesky
            )[0]
            total += float(
                np.sum(
                    0.5 * n_features * (np.log(self._shrinkage) - np.log(2 * np.pi))
                    + half_log_det
                    - 0.5 * self._shrinkage * distance
                )
            )
        return float(total)


class DefaultPrior:
    """mclust's default prior, computed from the data when the model is fitted.

    Give it as ``GaussianFamily(..., prior=DefaultPrior())``: the family's first M-step
    (the engine's initialisation) resolves it into a :class:`ConjugatePrior` with
    :meth:`ConjugatePrior.default`'s values, from that M-step's statistics. The
    responsibilities of every row sum to one, so the components' statistics pooled together
    are the data's weight, mean and scatter: no extra pass over the data is needed, and the
    fitted family carries the resolved prior (``family.prior``).

    Parameters
    ----------
    shrinkage : float, default 0.01
    """

    def __init__(self, shrinkage: float = DEFAULT_SHRINKAGE) -> None:
        self._shrinkage = _check_shrinkage(shrinkage)

    @property
    def shrinkage(self) -> float:
        return self._shrinkage

    def __repr__(self) -> str:
        return f"DefaultPrior(shrinkage={self._shrinkage!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DefaultPrior):
            return NotImplemented
        return self._shrinkage == other._shrinkage

    def __hash__(self) -> int:
        return hash((DefaultPrior, self._shrinkage))

    def resolve(self, statistics: GaussianStatistics, n_components: int) -> ConjugatePrior:
        """The default prior for data whose pooled statistics these are.

        Parameters
        ----------
        statistics : GaussianStatistics
            Of any number of components whose weights sum to each row's (sample) weight,
            such as those of an M-step.
        n_components : int
            K of the model the prior is for.

        Returns
        -------
        ConjugatePrior
        """
        structure = statistics.structure
        weight, mean, scatter = structure.form.pooled_moments(
            statistics.weight, statistics.mean, statistics.scatter
        )
        total = float(weight[0])
        if not total > 1.0:
            raise ValueError(
                "the default prior needs the data's variance, so more than one row "
                f"(a total weight above 1); got {total}"
            )
        n_features = mean.shape[1]
        factor = float(n_components) ** (-2.0 / n_features)
        scale = structure.default_prior_scale(scatter, total, n_features) * factor
        return ConjugatePrior(self._shrinkage, mean[0], n_features + 2.0, scale)
