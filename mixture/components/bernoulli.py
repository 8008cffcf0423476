"""Independent binary features: the component of latent class analysis."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import xlog1py, xlogy

from mixture.constraints import binary, non_negative_number, probability
from mixture.contract import Capabilities
from mixture.declared import Parameter, Setting, WeightedSumsComponent
from mixture.twins import IndependentTwin

__all__ = ["Bernoulli"]


class Bernoulli(WeightedSumsComponent):
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
    **Support**: 0 or 1 in every feature. Other rows have log-density ``-inf`` and are left
    out of the statistics. A 1 in a feature of probability 0, or a 0 in a feature of
    probability 1, has log-density ``-inf`` as well.

    Examples
    --------
    >>> import numpy as np
    >>> b = Bernoulli(probs=[0.25, 1.0])
    >>> np.exp(b.log_density(np.array([[1.0, 1.0], [0.0, 0.0], [0.5, 1.0]]))).tolist()
    [0.25, 0.0, 0.0]
    >>> b.fit(np.array([[1.0, 1.0], [0.0, 1.0]])).probs.tolist()
    [0.5, 1.0]
    """

    #: A product over features: a missing value is left out (EM with missing values).
    marginalizes_features = True
    probs = Parameter(probability, "Probability of a 1 in each feature, shape (n_features,).")
    pseudocount = Setting(non_negative_number, 0.0, "Beta prior pseudocount ``a``.")
    support = binary
    capabilities: ClassVar[Capabilities] = Capabilities(discrete=True)

    mean = property(lambda self: self.probs, doc="Mean of each feature, ``probs``.")
    variance = property(lambda self: self.probs * (1 - self.probs), doc="``p (1 - p)``.")

    def log_density_inside(self, X: np.ndarray) -> np.ndarray:
        # xlogy / xlog1py give 0 * log(0) = 0, so probabilities of exactly 0 or 1 are exact.
        return (xlogy(X, self.probs) + xlog1py(1.0 - X, -self.probs)).sum(axis=1)

    def row_features(self, X: np.ndarray) -> tuple[np.ndarray]:
        return (X,)

    def from_means(self, means: tuple[np.ndarray, ...], weight: float) -> Bernoulli:
        a = self.pseudocount
        probs = (means[0] * weight + a) / (weight + 2.0 * a)
        # The two sums are rounded differently; keep a ratio of 1 + 1e-16 inside [0, 1].
        return self.replace(probs=np.clip(probs, 0.0, 1.0))

    def from_no_weight(self) -> Bernoulli:
        if self.pseudocount > 0:  # the prior's mode
            return self.replace(probs=np.full(self.n_features, 0.5))
        return super().from_no_weight()

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return (rng.random((n_samples, self.n_features)) < self.probs).astype(np.float64)

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import bernoulli

        return IndependentTwin([bernoulli(p) for p in self.probs])
