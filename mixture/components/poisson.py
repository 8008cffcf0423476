"""Independent Poisson counts: one rate per feature."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import gammaln, xlogy

from mixture._validation import check_data
from mixture.component import Capabilities, Component, Statistics
from mixture.components._base import (
    LinearStatistics,
    check_rows_and_weights,
    checked_parameter_vector,
    integer_valued,
    no_weight_error,
    weighted_column_sums,
)
from mixture.twins import IndependentTwin

__all__ = ["Poisson", "PoissonStatistics"]


class PoissonStatistics(LinearStatistics):
    """Summed weight and ``sums = (sum_i w_i x_i,)`` of shape ``(n_features,)``.

    Only rows inside the support (non-negative integers in every feature) enter.
    """


class Poisson(Component):
    """Independent Poisson counts, ``p(x) = prod_d rate_d^x_d exp(-rate_d) / x_d!``.

    Parameters
    ----------
    rate : array-like of shape (n_features,)
        Expected count of each feature, finite and ``>= 0``. A rate of 0 is the point mass
        at 0 (as in :data:`scipy.stats.poisson`); it is allowed because the M-step returns
        it for a feature whose weighted counts are all zero.

    Notes
    -----
    **Support.** Rows are vectors of non-negative integers (stored as floats). A row with a
    negative or fractional value has log-density ``-inf``, not an error: the row simply lies
    outside this component's support, and in a mixture another component (a Gaussian, a
    uniform background) may explain it. If no component can, the engine raises a
    ``ValueError`` naming the row. A positive count in a feature of rate 0 has log-density
    ``-inf`` too.

    **M-step.** ``rate = sum_i w_i x_i / sum_i w_i``, the exact weighted maximum-likelihood
    estimate. Rows outside the support are left out of the statistics: their likelihood is
    zero whatever the rate, so they carry no information about it. (In EM they have zero
    responsibility anyway, except at initialisation, where a hard partition may hand them to
    this component.)

    Examples
    --------
    >>> import numpy as np
    >>> p = Poisson(rate=[2.0, 0.5])
    >>> p.log_density(np.array([[1.0, 0.0], [1.5, 0.0]])).round(4).tolist()
    [-1.8069, -inf]
    >>> p.fit(np.array([[1.0, 0.0], [3.0, 2.0]])).rate.tolist()
    [2.0, 1.0]
    """

    capabilities: ClassVar[Capabilities] = Capabilities(discrete=True)

    def __init__(self, rate: Any) -> None:
        self._rate = checked_parameter_vector(rate, "rate", low=0.0)

    def __repr__(self) -> str:
        return f"Poisson(rate={self._rate.tolist()!r})"

    @property
    def rate(self) -> np.ndarray:
        """Expected counts, ndarray of shape (n_features,)."""
        return self._rate.copy()

    @property
    def n_features(self) -> int:
        return int(self._rate.shape[0])

    @property
    def n_parameters(self) -> int:
        return self.n_features

    @property
    def mean(self) -> np.ndarray:
        """Mean of each feature, ``rate``; shape (n_features,)."""
        return self._rate.copy()

    @property
    def variance(self) -> np.ndarray:
        """Variance of each feature, ``rate``; shape (n_features,)."""
        return self._rate.copy()

    @staticmethod
    def in_support(X: np.ndarray) -> np.ndarray:
        """Whether each row holds non-negative integers only.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), bool
        """
        return ((X >= 0) & integer_valued(X)).all(axis=1)

    def log_density(self, X: Any) -> np.ndarray:
        """Log-probability of each row; ``-inf`` outside the support.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), float64
        """
        data = check_data(X, n_features=self.n_features)
        inside = self.in_support(data)
        counts = np.where(inside[:, None], data, 0.0).astype(np.float64)
        terms = xlogy(counts, self._rate) - self._rate - gammaln(counts + 1.0)
        return np.where(inside, terms.sum(axis=1), -np.inf)

    def statistics(self, X: Any, weights: Any) -> PoissonStatistics:
        """Weighted count totals of the rows inside the support.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        weights : array-like of shape (n_samples,)

        Returns
        -------
        PoissonStatistics
        """
        data, row_weights = check_rows_and_weights(X, weights, self.n_features)
        kept = np.where(self.in_support(data), row_weights, 0.0)
        return PoissonStatistics(float(kept.sum()), (weighted_column_sums(kept, data),))

    def from_statistics(self, statistics: Statistics) -> Poisson:
        """M-step: ``rate = sum_i w_i x_i / sum_i w_i``.

        Raises
        ------
        DegenerateComponentError
            If the statistics carry zero weight.
        """
        if not isinstance(statistics, PoissonStatistics):
            raise TypeError(f"Poisson.from_statistics needs PoissonStatistics; got {statistics!r}")
        if not statistics.weight > 0:
            raise no_weight_error("Poisson")
        return Poisson(statistics.sums[0] / statistics.weight)

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """Draw rows of counts.

        Parameters
        ----------
        n_samples : int
        rng : numpy.random.Generator

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
        """
        return rng.poisson(self._rate, size=(n_samples, self.n_features)).astype(np.float64)

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import poisson

        return IndependentTwin([poisson(rate) for rate in self._rate])
