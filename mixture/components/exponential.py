"""Independent exponential features: one rate per feature."""

from __future__ import annotations

import numpy as np

from mixture.constraints import non_negative_reals, positive
from mixture.declared import Parameter, WeightedSumsComponent
from mixture.exceptions import DegenerateComponentError
from mixture.twins import IndependentTwin

__all__ = ["Exponential"]


class Exponential(WeightedSumsComponent):
    """Independent exponential features, ``p(x) = prod_d rate_d exp(-rate_d x_d)``, ``x >= 0``.

    Parameters
    ----------
    rate : array-like of shape (n_features,)
        Inverse mean of each feature, finite and ``> 0``.

    Notes
    -----
    **Support**: ``x >= 0`` in every feature (the density at 0 is ``rate``, as in
    :data:`scipy.stats.expon`). Other rows have log-density ``-inf`` and are left out of the
    statistics.

    **M-step**: ``rate = sum_i w_i / sum_i w_i x_i``. If every weighted row is 0 in some
    feature the estimate is infinite (the component collapsed onto 0) and a
    :class:`~mixture.DegenerateComponentError` is raised.

    Examples
    --------
    >>> import numpy as np
    >>> e = Exponential(rate=[2.0])
    >>> e.log_density(np.array([[0.0], [-1.0]])).round(4).tolist()
    [0.6931, -inf]
    >>> e.fit(np.array([[1.0], [3.0]])).rate.tolist()
    [0.5]
    """

    #: A product over features: a missing value is left out (EM with missing values).
    marginalizes_features = True
    rate = Parameter(positive, "Inverse means, ndarray of shape (n_features,).")
    support = non_negative_reals

    mean = property(lambda self: 1.0 / self.rate, doc="Mean of each feature, ``1 / rate``.")
    variance = property(lambda self: self.rate**-2.0, doc="Variance, ``1 / rate**2``.")

    def log_density_inside(self, X: np.ndarray) -> np.ndarray:
        return np.log(self.rate).sum() - X @ self.rate

    def row_features(self, X: np.ndarray) -> tuple[np.ndarray]:
        return (X,)

    def from_means(self, means: tuple[np.ndarray, ...], weight: float) -> Exponential:
        if not (means[0] > 0).all():
            feature = int(np.argmin(means[0] > 0))
            raise DegenerateComponentError(
                f"every weighted row is 0 in feature {feature}, so its exponential rate would "
                "be infinite (the component collapsed onto 0); use fewer components or add a "
                "small offset to the data"
            )
        return Exponential(1.0 / means[0])

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return rng.exponential(1.0 / self.rate, size=(n_samples, self.n_features))

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import expon

        return IndependentTwin([expon(scale=1.0 / rate) for rate in self.rate])
