"""Warnings and errors raised by :mod:`mixture`."""

from __future__ import annotations

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning

__all__ = [
    "ConvergenceWarning",
    "DegenerateComponentError",
    "EmptyComponentWarning",
    "NotFittedError",
]


class ConvergenceWarning(_SklearnConvergenceWarning):
    """An EM run stopped before any convergence callback declared it converged.

    Subclass of :class:`sklearn.exceptions.ConvergenceWarning`, so filters written for
    scikit-learn also apply here.
    """


class EmptyComponentWarning(UserWarning):
    """A component received zero total responsibility in an M-step.

    The component keeps its previous parameters and its mixing weight becomes 0, so it takes
    no further part in the fit. Reduce the number of components or change the initialisation
    to avoid it.
    """


class DegenerateComponentError(ValueError):
    """A component's parameters cannot be estimated (empty at initialisation, or singular)."""


class NotFittedError(ValueError):
    """A component family was asked for densities before it had parameters."""
