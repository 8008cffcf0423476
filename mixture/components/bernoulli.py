"""Independent binary features: the component of latent class analysis."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import xlog1py, xlogy

from mixture._validation import check_data
from mixture.component import Capabilities, Component, Statistics
from mixture.components._base import (
    LinearStatistics,
    check_pseudocount,
    check_rows_and_weights,
    checked_parameter_vector,
    no_weight_error,
    weighted_column_sums,
)
from mixture.twins import IndependentTwin

__all__ = ["Bernoulli", "BernoulliStatistics"]


class BernoulliStatistics(LinearStatistics):
    """Summed weight and ``sums = (sum_i w_i x_i,)`` of shape ``(n_features,)``.

    Only rows inside the support (0 or 1 in every feature) enter.
    """


class Bernoulli(Component):
    """Independent binary features, ``p(x) = prod_d probs_d^x_d (1 - probs_d)^(1 - x_d)``.

    A mixture of these is latent class analysis: each class has its own probability that
    each item is answered "yes" (1).

    Parameters
    ----------
    probs : array-like of shape (n_features,)
        Probability of a 1 in each feature, in ``[0, 1]``. The ends are allowed because the
        maximum-likelihood M-step returns them for a feature that is constant in the
        weighted rows.
    pseudocount : float, default 0
        ``a >= 0``: the M-step returns the posterior mode under a ``Beta(1 + a, 1 + a)``
        prior, ``(sum_i w_i x_i + a) / (sum_i w_i + 2 a)``, which keeps fitted
        probabilities away from 0 and 1. ``0`` is the exact maximum-likelihood estimate.
        A setting, not a parameter: the M-step keeps it. With ``a > 0`` the M-step is no
        longer invariant to multiplying all row weights by a constant (the prior's weight
        does not scale), so only ``a = 0`` satisfies every weight law of the conformance kit.

    Notes
    -----
    **Support.** Rows hold 0 or 1 in every feature. Any other value gives log-density
    ``-inf`` (the row is outside the support; the engine raises only if no component of
    the mixture can explain the row). A 1 in a feature of probability 0, or a 0 in a
    feature of probability 1, has log-density ``-inf`` as well.

    **M-step.** Rows outside the support are left out of the statistics: their likelihood
    is zero whatever the parameters, so they carry no information about them.

    Examples
    --------
    >>> import numpy as np
    >>> b = Bernoulli(probs=[0.25, 1.0])
    >>> np.exp(b.log_density(np.array([[1.0, 1.0], [0.0, 0.0], [0.5, 1.0]]))).tolist()
    [0.25, 0.0, 0.0]
    >>> b.fit(np.array([[1.0, 1.0], [0.0, 1.0]])).probs.tolist()
    [0.5, 1.0]
    """

    capabilities: ClassVar[Capabilities] = Capabilities(discrete=True)

    def __init__(self, probs: Any, *, pseudocount: float = 0.0) -> None:
        self._probs = checked_parameter_vector(probs, "probs", low=0.0, high=1.0)
        self._pseudocount = check_pseudocount(pseudocount)

    def __repr__(self) -> str:
        extra = f", pseudocount={self._pseudocount!r}" if self._pseudocount else ""
        return f"Bernoulli(probs={self._probs.tolist()!r}{extra})"

    @property
    def probs(self) -> np.ndarray:
        """Probability of a 1 in each feature, ndarray of shape (n_features,)."""
        return self._probs.copy()

    @property
    def pseudocount(self) -> float:
        return self._pseudocount

    @property
    def n_features(self) -> int:
        return int(self._probs.shape[0])

    @property
    def n_parameters(self) -> int:
        return self.n_features

    @property
    def mean(self) -> np.ndarray:
        """Mean of each feature, ``probs``; shape (n_features,)."""
        return self._probs.copy()

    @property
    def variance(self) -> np.ndarray:
        """Variance of each feature, ``probs (1 - probs)``; shape (n_features,)."""
        return self._probs * (1.0 - self._probs)

    def with_parameters_from(self, other: Component) -> Bernoulli:
        """``other``'s probabilities with this component's pseudocount (for warm starts)."""
        if not isinstance(other, Bernoulli) or other.n_features != self.n_features:
            raise ValueError(
                f"cannot start a Bernoulli with {self.n_features} features from {other!r}"
            )
        return Bernoulli(other._probs, pseudocount=self._pseudocount)

    @staticmethod
    def in_support(X: np.ndarray) -> np.ndarray:
        """Whether each row holds only 0 and 1.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), bool
        """
        return ((X == 0) | (X == 1)).all(axis=1)

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
        ones = np.where(inside[:, None], data, 0.0).astype(np.float64)
        # xlogy / xlog1py give 0 * log(0) = 0, so probabilities of exactly 0 or 1 are exact.
        terms = xlogy(ones, self._probs) + xlog1py(1.0 - ones, -self._probs)
        return np.where(inside, terms.sum(axis=1), -np.inf)

    def statistics(self, X: Any, weights: Any) -> BernoulliStatistics:
        """Weighted counts of ones in the rows inside the support.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        weights : array-like of shape (n_samples,)

        Returns
        -------
        BernoulliStatistics
        """
        data, row_weights = check_rows_and_weights(X, weights, self.n_features)
        kept = np.where(self.in_support(data), row_weights, 0.0)
        return BernoulliStatistics(float(kept.sum()), (weighted_column_sums(kept, data),))

    def from_statistics(self, statistics: Statistics) -> Bernoulli:
        """M-step: ``probs = (sum_i w_i x_i + a) / (sum_i w_i + 2 a)`` with ``a`` the
        pseudocount.

        Raises
        ------
        DegenerateComponentError
            If the statistics carry zero weight and the pseudocount is 0.
        """
        if not isinstance(statistics, BernoulliStatistics):
            raise TypeError(
                f"Bernoulli.from_statistics needs BernoulliStatistics; got {statistics!r}"
            )
        a = self._pseudocount
        if not statistics.weight + a > 0:
            raise no_weight_error("Bernoulli")
        probs = (statistics.sums[0] + a) / (statistics.weight + 2.0 * a)
        # The two sums are rounded differently; keep a ratio of 1 + 1e-16 inside [0, 1].
        return Bernoulli(np.clip(probs, 0.0, 1.0), pseudocount=a)

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """Draw rows of zeros and ones.

        Parameters
        ----------
        n_samples : int
        rng : numpy.random.Generator

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
        """
        return (rng.random((n_samples, self.n_features)) < self._probs).astype(np.float64)

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import bernoulli

        return IndependentTwin([bernoulli(p) for p in self._probs])
