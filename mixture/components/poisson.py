"""Independent Poisson counts: one rate per feature."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import gammaln, xlogy

from mixture.constraints import counts, non_negative
from mixture.contract import Capabilities
from mixture.declared import Parameter, WeightedSumsComponent
from mixture.twins import IndependentTwin

__all__ = ["Poisson"]


class Poisson(WeightedSumsComponent):
    """Independent Poisson counts, ``p(x) = prod_d rate_d^x_d exp(-rate_d) / x_d!``.

    Parameters
    ----------
    rate : array-like of shape (n_features,)
        Expected count of each feature, finite and ``>= 0``. A rate of 0 is the point mass
        at 0 (as in :data:`scipy.stats.poisson`); the M-step returns it for a feature whose
        weighted counts are all zero.

    Notes
    -----
    **Support**: rows of non-negative integers (stored as floats). Other rows have
    log-density ``-inf`` and are left out of the statistics; in a mixture another component
    (a Gaussian, a uniform background) may explain them. A positive count in a feature of
    rate 0 has log-density ``-inf`` too.

    **M-step**: ``rate = sum_i w_i x_i / sum_i w_i``, the weighted maximum-likelihood
    estimate.

    Examples
    --------
    >>> import numpy as np
    >>> p = Poisson(rate=[2.0, 0.5])
    >>> p.log_density(np.array([[1.0, 0.0], [1.5, 0.0]])).round(4).tolist()
    [-1.8069, -inf]
    >>> p.fit(np.array([[1.0, 0.0], [3.0, 2.0]])).rate.tolist()
    [2.0, 1.0]
    """

    #: A product over features: a missing value is left out (EM with missing values).
    marginalizes_features = True
    rate = Parameter(non_negative, "Expected counts, ndarray of shape (n_features,).")
    support = counts
    capabilities: ClassVar[Capabilities] = Capabilities(discrete=True)

    mean = property(lambda self: self.rate, doc="Mean of each feature, ``rate``.")
    variance = property(lambda self: self.rate, doc="Variance of each feature, ``rate``.")

    def log_density_inside(self, X: np.ndarray) -> np.ndarray:
        return (xlogy(X, self.rate) - self.rate - gammaln(X + 1.0)).sum(axis=1)

    def row_features(self, X: np.ndarray) -> tuple[np.ndarray]:
        return (X,)

    def from_means(self, means: tuple[np.ndarray, ...], weight: float) -> Poisson:
        return Poisson(means[0])

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return rng.poisson(self.rate, size=(n_samples, self.n_features)).astype(np.float64)

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import poisson

        return IndependentTwin([poisson(rate) for rate in self.rate])
