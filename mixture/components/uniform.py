"""A uniform distribution over a box: a fixed background (noise) component."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mixture._chunking import row_slices
from mixture._validation import check_data, check_nonnegative_float
from mixture.constraints import Box, real
from mixture.contract import Capabilities
from mixture.declared import Parameter, WeightedSumsComponent
from mixture.twins import IndependentTwin

__all__ = ["Uniform"]


class Uniform(WeightedSumsComponent):
    """Uniform density over the box ``low <= x <= high``, kept fixed by EM.

    Added to a mixture it absorbs outliers and scattered noise (mclust's noise component):
    the other components fit the structure, and rows they explain poorly go to the
    background. The M-step returns the component unchanged and it counts no free parameters
    (its mixing weight is the mixture's). Rows outside the box have density 0 (log-density
    ``-inf``).

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

    #: A product over features: a missing value is left out (EM with missing values).
    marginalizes_features = True
    low = Parameter(real, "Lower corner, shape (n_features,).")
    high = Parameter(real, "Upper corner, shape (n_features,).")
    capabilities: ClassVar[Capabilities] = Capabilities(fixed=True)

    def __post_init__(self) -> None:
        if not (self.high > self.low).all():
            j = int(np.argmin(self.high > self.low))
            raise ValueError(
                f"high must exceed low in every feature; feature {j} has low {self.low[j]} and "
                f"high {self.high[j]}"
            )
        with np.errstate(over="ignore"):
            width = self.high - self.low
        if not np.isfinite(width).all():
            j = int(np.argmin(np.isfinite(width)))
            raise ValueError(
                f"the box is too wide to have a density: feature {j} spans {self.low[j]} to "
                f"{self.high[j]}, whose width overflows float64"
            )
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

    n_parameters = property(lambda self: 0, doc="0: the box is fixed.")
    support = property(lambda self: Box(self.low, self.high), doc="The box.")  # type: ignore[assignment]
    mean = property(lambda self: (self.low + self.high) / 2.0)
    variance = property(lambda self: (self.high - self.low) ** 2 / 12.0)

    def log_density_inside(self, X: np.ndarray) -> np.ndarray:
        return np.full(X.shape[0], -self._log_volume)

    def row_features(self, X: np.ndarray) -> tuple[()]:
        return ()

    def from_means(self, means: tuple[np.ndarray, ...], weight: float) -> Uniform:
        return self

    def from_no_weight(self) -> Uniform:
        return self

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=(n_samples, self.n_features))

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import uniform

        parts = zip(self.low, self.high, strict=True)
        return IndependentTwin([uniform(loc=a, scale=b - a) for a, b in parts])
