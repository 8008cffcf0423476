"""A uniform distribution over a box: a fixed background (noise) component."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from mixture._chunking import row_slices
from mixture._validation import check_data, check_nonnegative_float
from mixture.component import Capabilities, Component, Statistics
from mixture.twins import IndependentTwin

__all__ = ["Uniform"]


@dataclass(frozen=True)
class WeightStatistics(Statistics):
    """Only the summed row weight: all a fixed component needs."""

    weight: float

    def __add__(self, other: Statistics) -> WeightStatistics:
        if not isinstance(other, WeightStatistics):
            return NotImplemented
        return WeightStatistics(self.weight + other.weight)

    def scale(self, factor: float) -> WeightStatistics:
        return WeightStatistics(self.weight * factor)

    @property
    def total_weight(self) -> float:
        return self.weight


class Uniform(Component):
    """Uniform density over the box ``low <= x <= high``, kept fixed by EM.

    Added to a mixture it absorbs outliers and scattered noise (mclust's noise component):
    the other components fit the structure, and rows they explain poorly go to the
    background. The box is a setting, not a parameter: the M-step returns the component
    unchanged and it counts no free parameters (its mixing weight is the mixture's).
    Rows outside the box have density 0 (log-density ``-inf``).

    Parameters
    ----------
    low, high : array-like of shape (n_features,)
        Corners of the box; ``high > low`` in every feature.

    Examples
    --------
    Noise over the data's bounding box:

    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [2.0, 5.0], [1.0, 3.0]])
    >>> Uniform.covering(X).log_density(X).round(4).tolist()
    [-2.0794, -2.0794, -2.0794]
    """

    capabilities: ClassVar[Capabilities] = Capabilities(fixed=True)

    def __init__(self, low: Any, high: Any) -> None:
        low = np.array(low, dtype=np.float64)
        high = np.array(high, dtype=np.float64)
        if low.ndim != 1 or low.shape != high.shape or low.size == 0:
            raise ValueError(
                f"low and high must be 1-D of the same length; got shapes {low.shape} and "
                f"{high.shape}"
            )
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            raise ValueError("low and high must be finite")
        if not (high > low).all():
            feature = int(np.argmax(~(high > low)))
            raise ValueError(
                f"high must exceed low in every feature; feature {feature} has low "
                f"{low[feature]} and high {high[feature]}"
            )
        with np.errstate(over="ignore"):
            width = high - low
        if not np.isfinite(width).all():
            feature = int(np.argmax(~np.isfinite(width)))
            raise ValueError(
                f"the box is too wide to have a density: feature {feature} spans {low[feature]} "
                f"to {high[feature]}, whose width overflows float64"
            )
        self._low, self._high = low, high
        self._log_volume = float(np.log(width).sum())

    @classmethod
    def covering(cls, X: Any, margin: float = 0.0) -> Uniform:
        """The bounding box of the rows of ``X``, widened by ``margin`` times its size.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        margin : float, default 0
            Fraction of each feature's range added on both sides.
        """
        data = check_data(X)
        margin = check_nonnegative_float(margin, name="margin")
        low = np.full(data.shape[1], np.inf)
        high = np.full(data.shape[1], -np.inf)
        for rows in row_slices(data.shape[0], 65536):
            low = np.minimum(low, data[rows].min(axis=0))
            high = np.maximum(high, data[rows].max(axis=0))
        if not (high > low).all():
            feature = int(np.argmax(~(high > low)))
            raise ValueError(
                f"feature {feature} of X is constant, so the bounding box has no width there; "
                "give low and high explicitly or drop the column"
            )
        pad = margin * (high - low)
        return cls(low - pad, high + pad)

    def __repr__(self) -> str:
        return f"Uniform(low={self._low.tolist()!r}, high={self._high.tolist()!r})"

    @property
    def low(self) -> np.ndarray:
        return self._low.copy()

    @property
    def high(self) -> np.ndarray:
        return self._high.copy()

    @property
    def n_features(self) -> int:
        return int(self._low.shape[0])

    @property
    def n_parameters(self) -> int:
        return 0

    @property
    def mean(self) -> np.ndarray:
        return (self._low + self._high) / 2.0

    @property
    def variance(self) -> np.ndarray:
        return (self._high - self._low) ** 2 / 12.0

    def log_density(self, X: Any) -> np.ndarray:
        data = check_data(X, n_features=self.n_features)
        inside = ((data >= self._low) & (data <= self._high)).all(axis=1)
        return np.where(inside, -self._log_volume, -np.inf).astype(data.dtype)

    def statistics(self, X: Any, weights: Any) -> WeightStatistics:
        return WeightStatistics(float(np.sum(weights)))

    def from_statistics(self, statistics: Statistics) -> Uniform:
        return self

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self._low, self._high, size=(n_samples, self.n_features))

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import uniform

        return IndependentTwin(
            [uniform(loc=a, scale=b - a) for a, b in zip(self._low, self._high, strict=True)]
        )
