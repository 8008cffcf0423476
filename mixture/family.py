"""Component families: the K components of a mixture, as the engine sees them.

The engine asks a family for the ``(n, K)`` matrix of log-densities and for the statistics
of all K components at once. :class:`ComponentList` does this for any list of
:class:`~mixture.Component` objects (of one type or several) by looping over them, so a new
component type works with no extra code. Families that can vectorise, such as
:class:`~mixture.GaussianFamily`, override it with stacked arrays; they also hold parameters
shared across components (a tied covariance).
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mixture.contract import Component, Statistics

__all__ = [
    "ComponentFamily",
    "ComponentList",
    "JoinedFamily",
    "StatisticsList",
    "WholeRun",
    "as_family",
]


@dataclass(frozen=True)
class WholeRun:
    """An EM run that a family computed in one call (:meth:`ComponentFamily.whole_run`).

    Attributes
    ----------
    family : ComponentFamily
        The family after the M-step of the last accepted step.
    component_weight : ndarray of shape (n_components,)
        ``N_k`` of that step: the mixing weights are their proportions.
    history : list of float
        Mean log-likelihood per row of every accepted step.
    passes : int
        Passes over the rows (E-steps), rejected extrapolations included.
    rejected : int
        SQUAREM extrapolations rejected (0 without acceleration).
    """

    family: ComponentFamily
    component_weight: np.ndarray
    history: list[float]
    passes: int
    rejected: int


class ComponentFamily(ABC):
    """K components, vectorised. The engine talks only to this interface.

    A family may be *unfitted* (a template holding only settings, such as a covariance
    structure): the engine's initialisation then builds its parameters with :meth:`m_step`.
    """

    @property
    @abstractmethod
    def n_components(self) -> int:
        """Number of components K."""

    @property
    @abstractmethod
    def n_features(self) -> int | None:
        """Number of features, or ``None`` for an unfitted template."""

    @property
    def is_fitted(self) -> bool:
        """Whether the family has parameters (and so densities)."""
        return self.n_features is not None

    @abstractmethod
    def log_density(self, X: np.ndarray) -> np.ndarray:
        """Log-density of every row under every component.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_components)
        """

    @abstractmethod
    def statistics(self, X: np.ndarray, weights: np.ndarray) -> Statistics:
        """Sufficient statistics of all components.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        weights : ndarray of shape (n_samples, n_components)
            Row weight per component (responsibility times sample weight).

        Returns
        -------
        Statistics
            Additive across row chunks.
        """

    def fused_e_step(
        self, X: np.ndarray, log_weights: np.ndarray, sample_weight: np.ndarray | None
    ) -> tuple[np.ndarray, Statistics, float] | None:
        """Optional fast path: a chunk's E-step and its statistics in one pass.

        A family may compute the responsibilities ``r_ik`` (from ``log_weights`` and its
        log-densities), weight them by ``sample_weight``, and reduce them to statistics
        without handing the ``(n, K)`` responsibilities back. The default returns None, and
        the engine runs :meth:`log_density`, the log-sum-exp and :meth:`statistics`.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        log_weights : ndarray of shape (n_components,)
        sample_weight : ndarray of shape (n_samples,) or None

        Returns
        -------
        (component_weight, statistics, log_likelihood) or None
            ``component_weight`` (K,) is ``sum_i w_i r_ik``; ``log_likelihood`` the weighted
            sum of the rows' ``log p(x)``.
        """
        return None

    @abstractmethod
    def m_step(self, statistics: Statistics) -> ComponentFamily:
        """A new family fitted to summed statistics.

        A component whose statistics carry zero total weight keeps its current parameters;
        if it has none (an unfitted template) a
        :class:`~mixture.exceptions.DegenerateComponentError` is raised.
        """

    def whole_run(
        self,
        weights: np.ndarray,
        X: np.ndarray,
        sample_weight: np.ndarray | None,
        *,
        tol: float | None,
        max_iter: int,
        previous: float,
        squarem: tuple[float, float, float] | None,
    ) -> WholeRun | None:
        """Optional fast path: a whole EM run from this family's parameters in one call.

        For small data, where the Python around each iteration costs more than its
        arithmetic. The run must be the engine's own (E-step, M-step, the stopping rule of
        :class:`~mixture.callbacks.Tolerance` and :class:`~mixture.callbacks.MaxIterations`,
        :class:`~mixture.acceleration.SQUAREM`'s cycles when ``squarem`` is given) up to
        round-off; whatever the engine would warn about or raise must return None, and the
        engine then runs its own loop from the same start. The default returns None.

        Parameters
        ----------
        weights : ndarray of shape (n_components,)
            Mixing weights of the start (this family holds its components).
        X : ndarray of shape (n_samples, n_features), float64
        sample_weight : ndarray of shape (n_samples,) or None
        tol : float or None
            :class:`~mixture.callbacks.Tolerance`'s ``tol`` (None: no such stop).
        max_iter : int
        previous : float
            The log-likelihood the first change is measured from.
        squarem : (step_min, step_max, mstep) or None
            :class:`~mixture.acceleration.SQUAREM`'s settings, or plain EM steps.

        Returns
        -------
        WholeRun or None
        """
        return None

    @property
    @abstractmethod
    def n_parameters(self) -> int:
        """Free parameters of all components (mixing weights excluded)."""

    def log_prior(self) -> float:
        """Log-density of the parameters under the family's prior: 0 without one. EM
        ascends ``log L + log_prior()`` (see :class:`~mixture.GaussianFamily`)."""
        return 0.0

    @property
    def has_frozen_parameters(self) -> bool:
        """Whether the M-step keeps some of the family's parameters as given (then EM
        starts from the family's own parameters by default)."""
        return False

    # -- missing values (optional; see mixture.gaussian.missing) -----------------------------
    #: Whether the family marginalises missing values (NaN): :meth:`log_density_observed`
    #: and :meth:`statistics_observed` are implemented. Declared, never guessed: a family
    #: without it refuses NaN.
    handles_missing: bool = False

    def log_density_observed(self, X: np.ndarray) -> np.ndarray:
        """``log p_k(x_O)`` of each row's observed values (NaN is missing), ``(n, K)``."""
        raise NotImplementedError(f"{type(self).__name__} does not handle missing values")

    def statistics_observed(self, X: np.ndarray, weights: np.ndarray) -> Statistics:
        """The E-step statistics of rows with missing values (NaN): those of the rows
        completed by their conditional laws under the current parameters."""
        raise NotImplementedError(f"{type(self).__name__} does not handle missing values")

    def fused_observed_e_step(
        self, X: np.ndarray, log_weights: np.ndarray, sample_weight: np.ndarray | None
    ) -> tuple[np.ndarray, Statistics, float] | None:
        """Optional fast path for rows with missing values, as :meth:`fused_e_step` is for
        complete rows: ``(N_k, statistics, log-likelihood)`` in one pass, or None (then
        :meth:`log_density_observed`, the log-sum-exp and :meth:`statistics_observed`)."""
        return None

    def conditional_completion(self, X: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        """Rows completed under each component (missing values replaced by their
        conditional means), shape ``(K, n, D)``, and per group of rows with ``m`` missing
        values: the rows ``(r,)``, their missing features ``(r, m)`` and the conditional
        covariances ``(K, r, m, m)``."""
        raise NotImplementedError(f"{type(self).__name__} does not handle missing values")

    def degeneracies(
        self, weights: np.ndarray, total_weight: float, resolution: np.ndarray | None = None
    ) -> list[Any]:
        """Components of this fitted family that are degenerate (see
        :mod:`mixture.degeneracy`), as ``Degeneracy`` objects; none by default.

        Parameters
        ----------
        weights : ndarray of shape (n_components,)
            The mixing weights of the fit.
        total_weight : float
            Rows (or summed row weight) of the fit.
        resolution : ndarray of shape (n_features,), optional
            The data's resolution per column, for the rounding rule.
        """
        return []

    @abstractmethod
    def sample(self, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw ``counts[k]`` rows from component ``k``, stacked in component order.

        Parameters
        ----------
        counts : ndarray of shape (n_components,), int
        rng : numpy.random.Generator

        Returns
        -------
        ndarray of shape (counts.sum(), n_features)
        """

    @property
    @abstractmethod
    def components(self) -> tuple[Component, ...]:
        """The K components as individual :class:`~mixture.Component` objects."""

    def with_parameters_from(self, other: ComponentFamily) -> ComponentFamily:
        """This family's settings with ``other``'s parameters (for warm starts).

        Raises ``ValueError`` when ``other`` is a different kind of model. The default
        accepts a family of the same type and size and returns it unchanged; families whose
        settings live outside the parameters (such as ``reg_covar``) override this.
        """
        if type(other) is not type(self) or other.n_components != self.n_components:
            raise ValueError(
                f"cannot start a {type(self).__name__} with {self.n_components} components "
                f"from a {type(other).__name__} with {other.n_components}"
            )
        return other


@dataclass(frozen=True)
class StatisticsList(Statistics):
    """Per-component statistics of a :class:`ComponentList`, added item by item."""

    items: tuple[Statistics, ...]

    def __add__(self, other: Statistics) -> StatisticsList:
        if not isinstance(other, StatisticsList) or len(other.items) != len(self.items):
            return NotImplemented
        return StatisticsList(tuple(a + b for a, b in zip(self.items, other.items, strict=True)))

    def scale(self, factor: float) -> StatisticsList:
        return StatisticsList(tuple(item.scale(factor) for item in self.items))

    @property
    def total_weight(self) -> float:
        return float(sum(item.total_weight for item in self.items))


class ComponentList(ComponentFamily):
    """A family made of any components, possibly of different types.

    Parameters
    ----------
    components : sequence of Component
        At least one component; all must describe the same number of features.
    """

    def __init__(self, components: Iterable[Component]) -> None:
        items = tuple(components)
        if not items:
            raise ValueError("a mixture needs at least one component; got an empty list")
        for position, item in enumerate(items):
            if not isinstance(item, Component):
                raise ValueError(
                    f"component {position} is a {type(item).__name__}, not a mixture.Component"
                )
        widths = {item.n_features for item in items}
        if len(widths) != 1:
            raise ValueError(
                f"all components must describe the same number of features; got {sorted(widths)}"
            )
        self._components = items

    def __repr__(self) -> str:
        return f"ComponentList({list(self._components)!r})"

    @property
    def n_components(self) -> int:
        return len(self._components)

    @property
    def n_features(self) -> int:
        return self._components[0].n_features

    @property
    def components(self) -> tuple[Component, ...]:
        return self._components

    def log_density(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.n_components), dtype=X.dtype)
        for k, component in enumerate(self._components):
            out[:, k] = component.log_density(X)
        return out

    def statistics(self, X: np.ndarray, weights: np.ndarray) -> StatisticsList:
        return StatisticsList(
            tuple(c.statistics(X, weights[:, k]) for k, c in enumerate(self._components))
        )

    def m_step(self, statistics: Statistics) -> ComponentList:
        if not isinstance(statistics, StatisticsList):
            raise TypeError("ComponentList.m_step expects the StatisticsList it produced")
        return ComponentList(
            component.from_statistics(stats) if stats.total_weight > 0 else component
            for component, stats in zip(self._components, statistics.items, strict=True)
        )

    @property
    def handles_missing(self) -> bool:  # type: ignore[override]
        """Whether every component marginalises missing values."""
        return all(component.handles_missing for component in self._components)

    def log_density_observed(self, X: np.ndarray) -> np.ndarray:
        return np.column_stack([c.log_density_observed(X) for c in self._components])

    def statistics_observed(self, X: np.ndarray, weights: np.ndarray) -> StatisticsList:
        return StatisticsList(
            tuple(c.statistics_observed(X, weights[:, k]) for k, c in enumerate(self._components))
        )

    @property
    def has_frozen_parameters(self) -> bool:
        """Whether a component is :class:`~mixture.components.Frozen`."""
        from mixture.components.frozen import Frozen  # the component types sit below

        return any(isinstance(component, Frozen) for component in self._components)

    def with_parameters_from(self, other: ComponentFamily) -> ComponentList:
        """Each component's settings with the matching component's parameters of ``other``."""
        if not isinstance(other, ComponentList) or other.n_components != self.n_components:
            raise ValueError(
                f"cannot start a ComponentList of {self.n_components} components from {other!r}"
            )
        return ComponentList(
            mine.with_parameters_from(theirs)
            for mine, theirs in zip(self._components, other.components, strict=True)
        )

    @property
    def n_parameters(self) -> int:
        return sum(component.n_parameters for component in self._components)

    def sample(self, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        draws = [c.sample(int(n), rng) for c, n in zip(self._components, counts, strict=True)]
        return np.concatenate(draws, axis=0)


def as_family(model: Any) -> ComponentFamily:
    """Accept a family or a sequence of components and return a family."""
    if isinstance(model, ComponentFamily):
        return model
    if isinstance(model, Component):
        return ComponentList([model])
    if isinstance(model, Sequence):
        return ComponentList(model)
    raise ValueError(
        f"expected a ComponentFamily or a list of Component objects; got {type(model).__name__}"
    )


class JoinedFamily(ComponentFamily):
    """Several families side by side, as one: for instance K Gaussians with any covariance
    structure plus a noise component.

    The engine sees the parts' components one after another (the first part's K_1
    components, then the second's, ...); each part computes its own densities, statistics
    and M-step, so a vectorised family stays vectorised and a shared parameter (a tied
    covariance, mclust's EEE or VEV constraints) stays shared within its part.

    Parameters
    ----------
    parts : sequence of ComponentFamily or Component
        At least one; a single component counts as a family of one.

    Examples
    --------
    mclust's noise model with a tied covariance, three Gaussians and a uniform background:

    >>> import numpy as np
    >>> from mixture import GaussianFamily, TiedCovariance, Uniform
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> family = JoinedFamily([GaussianFamily(3, TiedCovariance()), Uniform.covering(X)])
    >>> family.n_components
    4
    """

    def __init__(self, parts: Iterable[ComponentFamily | Component]) -> None:
        families = tuple(as_family(part) for part in parts)
        if not families:
            raise ValueError("a JoinedFamily needs at least one part; got none")
        widths = {f.n_features for f in families if f.n_features is not None}
        if len(widths) > 1:
            raise ValueError(
                f"all parts must describe the same number of features; got {sorted(widths)}"
            )
        self._parts = families
        bounds = np.cumsum([0, *(f.n_components for f in families)])
        self._slices = tuple(slice(int(a), int(b)) for a, b in itertools.pairwise(bounds))

    def __repr__(self) -> str:
        return f"JoinedFamily({list(self._parts)!r})"

    @property
    def parts(self) -> tuple[ComponentFamily, ...]:
        return self._parts

    @property
    def n_components(self) -> int:
        return self._slices[-1].stop

    @property
    def n_features(self) -> int | None:
        widths = [f.n_features for f in self._parts]
        return None if None in widths else widths[0]

    @property
    def components(self) -> tuple[Component, ...]:
        return tuple(c for f in self._parts for c in f.components)

    def log_density(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.n_components), dtype=X.dtype, order="F")
        for part, columns in zip(self._parts, self._slices, strict=True):
            out[:, columns] = part.log_density(X)
        return out

    def statistics(self, X: np.ndarray, weights: np.ndarray) -> StatisticsList:
        return StatisticsList(
            tuple(
                part.statistics(X, weights[:, columns])
                for part, columns in zip(self._parts, self._slices, strict=True)
            )
        )

    @property
    def handles_missing(self) -> bool:  # type: ignore[override]
        """Whether every part marginalises missing values."""
        return all(part.handles_missing for part in self._parts)

    def log_density_observed(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.n_components))
        for part, columns in zip(self._parts, self._slices, strict=True):
            out[:, columns] = part.log_density_observed(X)
        return out

    def statistics_observed(self, X: np.ndarray, weights: np.ndarray) -> StatisticsList:
        return StatisticsList(
            tuple(
                part.statistics_observed(X, weights[:, columns])
                for part, columns in zip(self._parts, self._slices, strict=True)
            )
        )

    def m_step(self, statistics: Statistics) -> JoinedFamily:
        if not isinstance(statistics, StatisticsList):
            raise TypeError("JoinedFamily.m_step expects the StatisticsList it produced")
        return JoinedFamily(
            part if part.is_fitted and stats.total_weight == 0 else part.m_step(stats)
            for part, stats in zip(self._parts, statistics.items, strict=True)
        )

    def with_parameters_from(self, other: ComponentFamily) -> JoinedFamily:
        """Each part's settings with the matching part's parameters of ``other``."""
        if not isinstance(other, JoinedFamily) or len(other.parts) != len(self._parts):
            raise ValueError(f"cannot start {self!r} from {other!r}")
        return JoinedFamily(
            mine.with_parameters_from(theirs)
            for mine, theirs in zip(self._parts, other.parts, strict=True)
        )

    @property
    def n_parameters(self) -> int:
        return sum(part.n_parameters for part in self._parts)

    def log_prior(self) -> float:
        """Sum of the parts' log-priors (parts without one add 0)."""
        return float(sum(part.log_prior() for part in self._parts))

    @property
    def has_frozen_parameters(self) -> bool:
        return any(part.has_frozen_parameters for part in self._parts)

    def degeneracies(
        self, weights: np.ndarray, total_weight: float, resolution: np.ndarray | None = None
    ) -> list[Any]:
        found = []
        for part, columns in zip(self._parts, self._slices, strict=True):
            for item in part.degeneracies(weights[columns], total_weight, resolution):
                found.append(replace(item, component=item.component + columns.start))
        return found

    def sample(self, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        draws = [
            part.sample(counts[columns], rng)
            for part, columns in zip(self._parts, self._slices, strict=True)
        ]
        return np.concatenate(draws, axis=0)
