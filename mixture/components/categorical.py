"""Independent categorical features with integer codes."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from mixture.constraints import Box, ProbabilityVectors, non_negative_number
from mixture.contract import Capabilities
from mixture.declared import Parameter, Setting, WeightedSumsComponent
from mixture.twins import IndependentTwin

__all__ = ["Categorical"]


class Categorical(WeightedSumsComponent):
    """Independent categorical features, ``p(x) = prod_j probs[j][x_j]``.

    Each feature ``j`` holds an integer code ``0 .. n_categories[j] - 1`` (stored as a float,
    like every column of the data matrix); features may have different numbers of
    categories.

    Parameters
    ----------
    probs : sequence of array-like
        One 1-D array per feature: ``probs[j][c]`` is the probability of code ``c`` in
        feature ``j``. Each must lie in ``[0, 1]`` and sum to 1 (within 1e-6; it is then
        renormalised exactly). Zero probabilities are allowed: the M-step returns them for a
        category no weighted row has.
    pseudocount : float, default 0
        ``a >= 0``: the M-step returns the posterior mode under a symmetric
        ``Dirichlet(1 + a)`` prior, ``(n_jc + a) / (n_j + C_j a)``. ``0`` is the exact
        maximum-likelihood estimate; ``a > 0`` keeps every category possible but breaks
        the invariance of the M-step to scaling all weights (the prior does not scale).

    Notes
    -----
    **Support**: a valid code in every feature. Other rows (negative, too large or
    fractional codes) have log-density ``-inf`` and are left out of the statistics; so does
    a code of probability 0.

    ``mean`` and ``variance`` are those of the integer codes, which the conformance kit
    compares with sample moments; they carry no meaning for unordered categories.

    Examples
    --------
    >>> import numpy as np
    >>> c = Categorical([[0.5, 0.5], [0.1, 0.2, 0.7]])
    >>> np.exp(c.log_density(np.array([[0.0, 2.0], [1.0, 3.0]]))).round(6).tolist()
    [0.35, 0.0]
    >>> c.n_parameters
    3
    """

    probs = Parameter(ProbabilityVectors(), "One array of shape (n_categories[j],) per feature.")
    pseudocount = Setting(non_negative_number, 0.0, "Dirichlet prior pseudocount ``a``.")
    capabilities: ClassVar[Capabilities] = Capabilities(discrete=True)

    def __post_init__(self) -> None:
        with np.errstate(divide="ignore"):
            self._log_probs = tuple(np.log(p) for p in self.probs)

    @property
    def n_categories(self) -> tuple[int, ...]:
        """Number of categories of each feature."""
        return tuple(int(p.shape[0]) for p in self.probs)

    @property
    def support(self) -> Box:  # type: ignore[override]
        """Codes ``0 .. n_categories[j] - 1`` in every feature."""
        return Box(np.zeros(self.n_features), np.array(self.n_categories) - 1.0, integers=True)

    @property
    def mean(self) -> np.ndarray:
        """Mean of each feature's integer code, shape (n_features,)."""
        return np.array([np.arange(p.shape[0]) @ p for p in self.probs])

    @property
    def variance(self) -> np.ndarray:
        """Variance of each feature's integer code, shape (n_features,)."""
        second = np.array([np.arange(p.shape[0]) ** 2 @ p for p in self.probs])
        return np.maximum(second - self.mean**2, 0.0)

    def with_parameters_from(self, other: Categorical) -> Categorical:  # type: ignore[override]
        if isinstance(other, Categorical) and other.n_categories != self.n_categories:
            raise ValueError(
                f"cannot start a Categorical with categories {self.n_categories} from {other!r}"
            )
        return super().with_parameters_from(other)  # type: ignore[return-value]

    def log_density_inside(self, X: np.ndarray) -> np.ndarray:
        codes = X.astype(np.intp)
        total = np.zeros(X.shape[0])
        for feature, log_probs in enumerate(self._log_probs):
            total += log_probs[codes[:, feature]]
        return total

    def weighted_sums(self, X: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, ...]:
        codes = X.astype(np.intp)
        return tuple(
            np.bincount(codes[:, j], weights=weights, minlength=count).astype(np.float64)
            for j, count in enumerate(self.n_categories)
        )

    def from_means(self, means: tuple[np.ndarray, ...], weight: float) -> Categorical:
        a = self.pseudocount
        # Normalising by each feature's own total (equal to 1 up to rounding) makes every
        # vector sum to 1 to the last bit or two.
        counts = [m * weight for m in means]
        return self.replace(probs=[(c + a) / (c.sum() + c.shape[0] * a) for c in counts])

    def from_no_weight(self) -> Categorical:
        if self.pseudocount > 0:  # the prior's mode
            return self.replace(probs=[np.full(c, 1.0 / c) for c in self.n_categories])
        return super().from_no_weight()

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        out = np.empty((n_samples, self.n_features))
        for feature, probs in enumerate(self.probs):
            out[:, feature] = rng.choice(probs.shape[0], size=n_samples, p=probs)
        return out

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import rv_discrete

        return IndependentTwin([rv_discrete(values=(np.arange(p.shape[0]), p)) for p in self.probs])
