"""Independent exponential features: one rate per feature."""

from __future__ import annotations

from typing import Any

import numpy as np

from mixture._validation import check_data
from mixture.component import Component, Statistics
from mixture.components._base import (
    LinearStatistics,
    check_rows_and_weights,
    checked_parameter_vector,
    no_weight_error,
    weighted_column_sums,
)
from mixture.exceptions import DegenerateComponentError
from mixture.twins import IndependentTwin

__all__ = ["Exponential", "ExponentialStatistics"]


class ExponentialStatistics(LinearStatistics):
    """Summed weight and ``sums = (sum_i w_i x_i,)`` of shape ``(n_features,)``.

    Only rows inside the support (``x >= 0`` in every feature) enter.
    """


class Exponential(Component):
    """Independent exponential features, ``p(x) = prod_d rate_d exp(-rate_d x_d)``, ``x >= 0``.

    Parameters
    ----------
    rate : array-like of shape (n_features,)
        Inverse mean of each feature, finite and ``> 0``.

    Notes
    -----
    **Support.** ``x >= 0`` in every feature (the density at 0 is ``rate``, as in
    :data:`scipy.stats.expon`). A row with a negative value has log-density ``-inf``; the
    engine raises only if no component of the mixture explains the row. Rows outside the
    support are left out of the statistics: their likelihood is zero for every rate.

    **M-step.** ``rate = sum_i w_i / sum_i w_i x_i``, the exact weighted maximum-likelihood
    estimate. If every weighted row is 0 in some feature the estimate is infinite (the
    component collapses onto 0) and a :class:`~mixture.DegenerateComponentError` is raised.

    Examples
    --------
    >>> import numpy as np
    >>> e = Exponential(rate=[2.0])
    >>> e.log_density(np.array([[0.0], [-1.0]])).round(4).tolist()
    [0.6931, -inf]
    >>> e.fit(np.array([[1.0], [3.0]])).rate.tolist()
    [0.5]
    """

    def __init__(self, rate: Any) -> None:
        self._rate = checked_parameter_vector(rate, "rate", low=0.0, low_inclusive=False)
        self._log_rate_sum = float(np.log(self._rate).sum())

    def __repr__(self) -> str:
        return f"Exponential(rate={self._rate.tolist()!r})"

    @property
    def rate(self) -> np.ndarray:
        """Inverse means, ndarray of shape (n_features,)."""
        return self._rate.copy()

    @property
    def n_features(self) -> int:
        return int(self._rate.shape[0])

    @property
    def n_parameters(self) -> int:
        return self.n_features

    @property
    def mean(self) -> np.ndarray:
        """Mean of each feature, ``1 / rate``; shape (n_features,)."""
        return 1.0 / self._rate

    @property
    def variance(self) -> np.ndarray:
        """Variance of each feature, ``1 / rate**2``; shape (n_features,)."""
        return 1.0 / self._rate**2

    @staticmethod
    def in_support(X: np.ndarray) -> np.ndarray:
        """Whether each row is non-negative in every feature.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), bool
        """
        return (X >= 0).all(axis=1)

    def log_density(self, X: Any) -> np.ndarray:
        """Log-density of each row; ``-inf`` outside the support.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), float64
        """
        data = check_data(X, n_features=self.n_features)
        values = self._log_rate_sum - np.einsum("nd,d->n", data, self._rate, dtype=np.float64)
        return np.where(self.in_support(data), values, -np.inf)

    def statistics(self, X: Any, weights: Any) -> ExponentialStatistics:
        """Weighted totals of the rows inside the support.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        weights : array-like of shape (n_samples,)

        Returns
        -------
        ExponentialStatistics
        """
        data, row_weights = check_rows_and_weights(X, weights, self.n_features)
        kept = np.where(self.in_support(data), row_weights, 0.0)
        return ExponentialStatistics(float(kept.sum()), (weighted_column_sums(kept, data),))

    def from_statistics(self, statistics: Statistics) -> Exponential:
        """M-step: ``rate = sum_i w_i / sum_i w_i x_i``.

        Raises
        ------
        DegenerateComponentError
            If the statistics carry zero weight, or a feature's weighted total is 0 (the
            rate would be infinite).
        """
        if not isinstance(statistics, ExponentialStatistics):
            raise TypeError(
                f"Exponential.from_statistics needs ExponentialStatistics; got {statistics!r}"
            )
        if not statistics.weight > 0:
            raise no_weight_error("Exponential")
        totals = statistics.sums[0]
        with np.errstate(divide="ignore", over="ignore"):
            rate = statistics.weight / totals
        if not np.isfinite(rate).all():
            feature = int(np.argmax(~np.isfinite(rate)))
            raise DegenerateComponentError(
                f"every weighted row is 0 in feature {feature}, so its exponential rate would "
                "be infinite (the component collapsed onto 0); use fewer components or add a "
                "small offset to the data"
            )
        return Exponential(rate)

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """Draw rows.

        Parameters
        ----------
        n_samples : int
        rng : numpy.random.Generator

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
        """
        return rng.exponential(1.0 / self._rate, size=(n_samples, self.n_features))

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import expon

        return IndependentTwin([expon(scale=1.0 / rate) for rate in self._rate])
