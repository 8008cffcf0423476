"""Mixing weights known in advance: equal proportions, or given values.

By default EM estimates the mixing weights, ``w_k = N_k / N``, and they count ``K - 1`` free
parameters. When the proportions are known (equal by design, as mclust's ``equalPro``, or
set by a calibration) pass one of these to :class:`~mixture.MixtureEM` (``mixing_weights=``)
or ``select_model``: every M-step keeps them, EM maximises the likelihood over the other
parameters only, and the weights count no free parameter in BIC and AIC.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from mixture._validation import check_vector

__all__ = ["EqualWeights", "FixedWeights", "MixingWeights"]


class MixingWeights(ABC):
    """Mixing weights that the M-step does not estimate."""

    @abstractmethod
    def weights(self, n_components: int) -> np.ndarray:
        """The weights, shape ``(n_components,)``, non-negative and summing to 1."""

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))


class EqualWeights(MixingWeights):
    """Every component weighs ``1 / K`` (mclust's ``equalPro``)."""

    def weights(self, n_components: int) -> np.ndarray:
        return np.full(n_components, 1.0 / n_components)

    def __repr__(self) -> str:
        return "EqualWeights()"


class FixedWeights(MixingWeights):
    """Given mixing weights.

    Parameters
    ----------
    values : array-like of shape (n_components,)
        Positive, summing to 1 (within 1e-6; renormalised exactly). A zero weight would
        leave its component without rows, so it is refused.
    """

    def __init__(self, values: Any) -> None:
        weights = check_vector(values, name="values")
        if weights.size == 0 or not (weights > 0).all():
            raise ValueError(f"FixedWeights values must be positive; got {weights.tolist()}")
        if abs(weights.sum() - 1.0) > 1e-6:
            raise ValueError(f"FixedWeights values must sum to 1; they sum to {weights.sum()!r}")
        self.values = weights / weights.sum()
        self.values.flags.writeable = False

    def weights(self, n_components: int) -> np.ndarray:
        if self.values.shape[0] != n_components:
            raise ValueError(
                f"FixedWeights has {self.values.shape[0]} values; the model has "
                f"{n_components} components"
            )
        return self.values.copy()

    def __repr__(self) -> str:
        return f"FixedWeights({self.values.tolist()!r})"


def check_mixing_weights(value: Any) -> MixingWeights | None:
    """``value`` if it is None or a :class:`MixingWeights`, else a clear error."""
    if value is not None and not isinstance(value, MixingWeights):
        raise ValueError(
            "mixing_weights must be None (estimated), EqualWeights() or FixedWeights(values); "
            f"got {value!r}"
        )
    return value
