"""The contract one distribution implements to take part in a mixture.

A :class:`Component` is an immutable value object: its parameters are fixed at construction
(and validated there), and the M-step returns a *new* component. EM needs only five things
from it:

``log_density(X)``
    log p(x) for each row, shape ``(n,)``.
``statistics(X, weights)``
    weighted sufficient statistics of rows, a :class:`Statistics` object. Statistics of two
    row chunks add up (``a + b``) to the statistics of both chunks together.
``from_statistics(stats)``
    the M-step: the weighted maximum-likelihood component given summed statistics. It uses
    this component's settings (for example its regularisation), never its data.
``n_parameters``
    the number of free parameters, for BIC and AIC.
``sample(n, rng)``
    ``n`` draws with a :class:`numpy.random.Generator`.

With those, :class:`mixture.MixtureEM` fits mixtures of the component (and of several
component types together) with no further code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from mixture._chunking import auto_chunk_size, blas_held, row_slices
from mixture._validation import check_data, check_sample_weight

__all__ = ["Capabilities", "Component", "Statistics"]


@dataclass(frozen=True)
class Capabilities:
    """What a component type declares about itself, for :mod:`mixture.testing`.

    Attributes
    ----------
    discrete : bool
        Rows take countable values, so ``exp(log_density)`` is a probability mass: sampling
        is checked against it by comparing frequencies (chi-square).
    fixed : bool
        The M-step returns the component unchanged (a fixed background such as
        :class:`~mixture.Uniform`): the kit checks exactly that instead of fitting laws.
    """

    discrete: bool = False
    fixed: bool = False


class Statistics(ABC):
    """Weighted sufficient statistics of a set of rows, additive across row chunks.

    Subclasses implement ``+`` (statistics of the union of two disjoint row sets),
    :meth:`scale` (multiply every row weight by a factor, used by online EM) and
    :attr:`total_weight` (the summed row weight).
    """

    @abstractmethod
    def __add__(self, other: Statistics) -> Statistics:
        """Statistics of the rows of ``self`` and ``other`` together."""

    @abstractmethod
    def scale(self, factor: float) -> Statistics:
        """Statistics with every row weight multiplied by ``factor`` (``factor >= 0``)."""

    @property
    @abstractmethod
    def total_weight(self) -> float:
        """Sum of the row weights summarised."""

    def __radd__(self, other: Any) -> Statistics:
        # Lets ``sum(list_of_statistics)`` work: sum() starts from the integer 0.
        if isinstance(other, int) and other == 0:
            return self
        return NotImplemented


class Component(ABC):
    """One probability distribution of a mixture. Subclass it to add a new component type.

    Implement :attr:`n_features`, :meth:`log_density`, :meth:`statistics`,
    :meth:`from_statistics`, :attr:`n_parameters` and :meth:`sample`; validate parameters in
    ``__init__`` and raise :class:`ValueError` naming the bad one. :meth:`fit` comes for free.

    Optional, for the conformance kit (:func:`mixture.testing.check_component`): set
    :attr:`capabilities`, return a scipy twin from :meth:`scipy_twin`, and give ``mean`` and
    ``variance`` properties (per feature, shape ``(n_features,)``).
    """

    #: What the conformance kit may assume about this component (a class attribute, or a
    #: property when it depends on the instance, as for :class:`~mixture.Independent`).
    capabilities: Capabilities = Capabilities()

    def scipy_twin(self) -> Any:
        """The same distribution built from scipy, or ``None``.

        The object needs ``logpdf(X) -> (n,)`` on rows and ``rvs(size, random_state)``
        returning ``(size, n_features)``; see :mod:`mixture.twins` for wrappers of scipy's
        univariate and multivariate distributions.
        """
        return None

    @property
    @abstractmethod
    def n_features(self) -> int:
        """Number of columns of the rows this component describes."""

    @abstractmethod
    def log_density(self, X: np.ndarray) -> np.ndarray:
        """Log-density of each row.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """

    @abstractmethod
    def statistics(self, X: np.ndarray, weights: np.ndarray) -> Statistics:
        """Weighted sufficient statistics of the rows.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        weights : ndarray of shape (n_samples,)
            Non-negative row weights (in EM: responsibility times sample weight).

        Returns
        -------
        Statistics
            Additive: statistics of two chunks sum to those of both chunks together.
        """

    @abstractmethod
    def from_statistics(self, statistics: Statistics) -> Component:
        """M-step: a new component fitted to the summed statistics.

        Uses this component's settings (such as regularisation) but not its parameters.
        """

    @property
    @abstractmethod
    def n_parameters(self) -> int:
        """Number of free parameters."""

    @abstractmethod
    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """Draw rows.

        Parameters
        ----------
        n_samples : int
        rng : numpy.random.Generator

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """

    #: Whether the component marginalises missing values (NaN) in rows: then it implements
    #: :meth:`log_density_observed` and :meth:`statistics_observed`. Declared, never guessed;
    #: EM with ``missing='marginalize'`` refuses components without it.
    handles_missing: bool = False

    def log_density_observed(self, X: np.ndarray) -> np.ndarray:
        """Log-density of each row's observed values (NaN is missing), shape ``(n,)``."""
        raise NotImplementedError(f"{type(self).__name__} does not handle missing values")

    def statistics_observed(self, X: np.ndarray, weights: np.ndarray) -> Statistics:
        """Weighted statistics of rows with missing values (NaN), for the M-step."""
        raise NotImplementedError(f"{type(self).__name__} does not handle missing values")

    def with_parameters_from(self, other: Component) -> Component:
        """This component's settings with ``other``'s parameters (for warm starts).

        The default accepts a component of the same type and returns it unchanged; override
        it when settings (such as regularisation) are not parameters. Raises ``ValueError``
        for a component of another kind.
        """
        if type(other) is not type(self) or other.n_features != self.n_features:
            raise ValueError(
                f"cannot start a {type(self).__name__} with {self.n_features} features from "
                f"{other!r}"
            )
        return other

    def fit(self, X: Any, weights: Any = None) -> Component:
        """Weighted maximum-likelihood fit: :meth:`statistics` of each row chunk, summed,
        then the M-step.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        weights : array-like of shape (n_samples,), optional
            Non-negative row weights; all ones by default.

        Returns
        -------
        Component
            A new component of the same type and settings.
        """
        data = check_data(X, n_features=self.n_features)
        row_weights = check_sample_weight(weights, data.shape[0], name="weights")
        if row_weights is None:
            row_weights = np.ones(data.shape[0])
        chunk_size = auto_chunk_size(1, data.shape[1], data.itemsize)
        with blas_held():  # as in the engine: no BLAS threads on top of the chunks
            total = sum(
                self.statistics(data[rows], row_weights[rows])
                for rows in row_slices(data.shape[0], chunk_size)
            )
            return self.from_statistics(total)
