"""One multivariate Gaussian as a :class:`~mixture.Component`."""

from __future__ import annotations

from typing import Any

import numpy as np

from mixture._validation import check_data, check_vector
from mixture.constraints import Support, reals
from mixture.contract import Component, Statistics
from mixture.gaussian.covariance import CovarianceStructure, FullCovariance
from mixture.gaussian.stacked import StackedGaussians
from mixture.twins import MultivariateTwin

__all__ = ["Gaussian"]


class Gaussian(Component):
    """A multivariate normal distribution.

    The numerics are those of :class:`~mixture.GaussianFamily` with one component, so a list
    of ``Gaussian`` objects and a ``GaussianFamily`` fit identically (the family is faster).

    Parameters
    ----------
    mean : array-like of shape (n_features,)
    covariance : array-like
        ``(n_features, n_features)`` for :class:`FullCovariance`, ``(n_features,)`` variances
        for :class:`DiagonalCovariance`, a positive scalar for :class:`SphericalCovariance`.
    structure : CovarianceStructure, default FullCovariance()
        Tied covariance is a property of several components; use ``GaussianFamily``.
    reg_covar : float, default 1e-6
        Added to the covariance diagonal in the M-step.

    Examples
    --------
    >>> import numpy as np
    >>> from mixture import Gaussian
    >>> g = Gaussian(mean=[0.0, 0.0], covariance=np.eye(2))
    >>> g.log_density(np.zeros((1, 2))).round(4)
    array([-1.8379])
    """

    #: Every finite row (for the conformance kit's support check).
    support: Support = reals

    def __init__(
        self,
        mean: Any,
        covariance: Any,
        *,
        structure: CovarianceStructure | None = None,
        reg_covar: float = 1e-6,
    ) -> None:
        structure = FullCovariance() if structure is None else structure
        if (
            isinstance(structure, CovarianceStructure)
            and structure.component_structure != structure
        ):
            raise ValueError(
                f"a {structure.name} covariance ({structure!r}) constrains several components "
                "together; use "
                f"GaussianFamily(n_components, {structure!r}) instead of a single Gaussian, or "
                f"{structure.component_structure!r} for one component on its own"
            )
        mean = np.array(mean, dtype=np.float64)
        if mean.ndim != 1:
            raise ValueError(f"mean must be 1-D of shape (n_features,); got shape {mean.shape}")
        if isinstance(structure, CovarianceStructure):
            covariance = structure.form.stack([np.asarray(covariance, dtype=np.float64)])
        self._family = StackedGaussians(
            1, structure, reg_covar=reg_covar, means=mean[None], covariances=covariance
        )

    @classmethod
    def _of_family(cls, family: StackedGaussians) -> Gaussian:
        component = cls.__new__(cls)
        component._family = family
        return component

    def __repr__(self) -> str:
        return (
            f"Gaussian(mean={self.mean.tolist()!r}, covariance={self.covariance.tolist()!r}, "
            f"structure={self.structure!r})"
        )

    def with_parameters_from(self, other: Component) -> Gaussian:
        """``other``'s mean and covariance with this Gaussian's structure and reg_covar."""
        if not isinstance(other, Gaussian):
            raise ValueError(f"cannot start a Gaussian from {other!r}")
        return Gaussian._of_family(self._family.with_parameters_from(other._family))

    @property
    def mean(self) -> np.ndarray:
        """ndarray of shape (n_features,)."""
        return self._family.means[0]

    @property
    def covariance(self) -> np.ndarray:
        """Covariance in the structure's single-component form."""
        return self.structure.form.component_covariance(self._family.covariances, 0)

    @property
    def covariance_matrix(self) -> np.ndarray:
        """Dense covariance, ndarray of shape (n_features, n_features)."""
        return self._family.covariance_matrices[0]

    @property
    def structure(self) -> CovarianceStructure:
        return self._family.structure

    @property
    def variance(self) -> np.ndarray:
        """Variance of each feature, shape ``(n_features,)``."""
        return np.diagonal(self.covariance_matrix).copy()

    def scipy_twin(self) -> MultivariateTwin:
        from scipy.stats import multivariate_normal

        frozen = multivariate_normal(self.mean, self.covariance_matrix)
        return MultivariateTwin(frozen, self.n_features)

    @property
    def reg_covar(self) -> float:
        return self._family.reg_covar

    @property
    def n_features(self) -> int:
        return int(self._family.n_features)

    def log_density(self, X: Any) -> np.ndarray:
        data = check_data(X, n_features=self.n_features)
        return self._family.log_density(data)[:, 0]

    def statistics(self, X: Any, weights: Any) -> Statistics:
        data = check_data(X, n_features=self.n_features, min_rows=0)
        row_weights = check_vector(weights, name="weights")
        if row_weights.shape != (data.shape[0],) or (row_weights < 0).any():
            raise ValueError(
                f"weights must be {data.shape[0]} non-negative numbers, one per row of X"
            )
        return self._family.statistics(data, row_weights[:, None])

    # -- missing values (mixture.gaussian.missing) --------------------------------------------
    handles_missing = True

    def log_density_observed(self, X: np.ndarray) -> np.ndarray:
        """Log-density of each row's observed values (NaN is missing); 0 for a row with none
        (inside an :class:`~mixture.Independent` product, another part may see it)."""
        out = np.zeros(X.shape[0])
        seen = ~np.isnan(X).all(axis=1)
        if seen.any():
            out[seen] = self._family.log_density_observed(X[seen])[:, 0]
        return out

    def statistics_observed(self, X: np.ndarray, weights: np.ndarray) -> Statistics:
        """Statistics of the rows completed by their conditional laws; rows with no
        observed value carry none."""
        seen = ~np.isnan(X).all(axis=1)
        return self._family.statistics_observed(X[seen], weights[seen][:, None])

    def from_statistics(self, statistics: Statistics) -> Gaussian:
        return Gaussian._of_family(self._family.m_step(statistics))

    @property
    def n_parameters(self) -> int:
        return self._family.n_parameters

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return self._family.sample(np.array([n_samples]), rng)
