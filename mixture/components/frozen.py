"""Any component held fixed by EM: a known background, a calibration peak."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mixture.contract import Capabilities, Component, Statistics
from mixture.declared import WeightedSums

__all__ = ["Frozen"]


class Frozen(Component):
    """A component whose parameters EM keeps as given.

    Wraps any component: the densities, sampling and moments are the wrapped one's; the
    M-step returns it unchanged and it counts no free parameters (its mixing weight is still
    estimated, unless the mixture's weights are given: :mod:`mixture.mixing`). Put it among
    other components (``MixtureEM([Frozen(peak), Gaussian(...), ...])``) to keep a known
    component where it is while the others are fitted. For Gaussian families,
    ``GaussianFamily(..., frozen_means=..., frozen_covariances=...)`` freezes single
    parameters instead.

    Parameters
    ----------
    component : Component
        The component to keep.

    Examples
    --------
    >>> import numpy as np
    >>> from mixture import Frozen, Gaussian, MixtureEM
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0.0, 1.0, (300, 1)), rng.normal(5.0, 1.0, (300, 1))])
    >>> peak = Frozen(Gaussian([0.0], [[1.0]]))
    >>> result = MixtureEM([peak, Gaussian([4.0], [[2.0]])], random_state=0).fit(X)
    >>> result.components[0] == peak
    True
    """

    capabilities: ClassVar[Capabilities] = Capabilities(fixed=True)

    def __init__(self, component: Component) -> None:
        if not isinstance(component, Component):
            raise ValueError(f"Frozen wraps a Component; got {component!r}")
        if isinstance(component, Frozen):
            component = component.component
        self.component = component

    def __repr__(self) -> str:
        return f"Frozen({self.component!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Frozen) and other.component == self.component

    def __hash__(self) -> int:
        return hash(("Frozen", self.component))

    def __getattr__(self, name: str) -> Any:
        # Moments and parameters (mean, covariance, rate, ...) read through to the
        # wrapped component; "component" itself is an instance attribute.
        if name == "component":
            raise AttributeError(name)
        return getattr(self.component, name)

    @property
    def n_features(self) -> int:
        return self.component.n_features

    def log_density(self, X: np.ndarray) -> np.ndarray:
        return self.component.log_density(X)

    def statistics(self, X: np.ndarray, weights: np.ndarray) -> Statistics:
        """Only the summed weight: the M-step needs nothing else."""
        return WeightedSums(Frozen, float(np.sum(weights, dtype=np.float64)), ())

    def from_statistics(self, statistics: Statistics) -> Frozen:
        return self

    @property
    def n_parameters(self) -> int:
        return 0

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return self.component.sample(n_samples, rng)

    @property
    def handles_missing(self) -> bool:  # type: ignore[override]
        return self.component.handles_missing

    def log_density_observed(self, X: np.ndarray) -> np.ndarray:
        return self.component.log_density_observed(X)

    def statistics_observed(self, X: np.ndarray, weights: np.ndarray) -> Statistics:
        return self.statistics(X, weights)

    def scipy_twin(self) -> Any:
        return self.component.scipy_twin()

    def with_parameters_from(self, other: Component) -> Frozen:
        """A frozen component keeps its own parameters: a warm start may only give the same
        one (or the component it wraps)."""
        wrapped = other.component if isinstance(other, Frozen) else other
        if wrapped != self.component:
            raise ValueError(
                f"{self!r} keeps its parameters; cannot start it from different ones ({other!r})"
            )
        return self
