"""Warnings and errors raised by :mod:`mixture`."""

from __future__ import annotations

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "ConvergenceWarning",
    "DegenerateComponentError",
    "DegenerateFitWarning",
    "DegenerateRunWarning",
    "EmptyComponentWarning",
    "FewDistinctRowsWarning",
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


class FewDistinctRowsWarning(ConvergenceWarning):
    """The data have fewer distinct rows (with positive weight) than components.

    An initializer that seeds components on distinct rows then starts some components on
    the same row as others; such components stay identical to each other during EM (their
    mixing weights add up). The fit is valid but has fewer distinct components than asked
    for: use fewer components. A :class:`ConvergenceWarning` subclass, as scikit-learn warns
    in this case (from its k-means).
    """


class DegenerateComponentError(ValueError):
    """A component's parameters cannot be estimated (empty at initialisation, or singular)."""


class DegenerateRunWarning(UserWarning):
    """One of several EM runs (``n_init``) failed with a degenerate component and was skipped.

    The best of the other runs is kept. Only when every run fails is a
    :class:`DegenerateComponentError` raised.
    """


class DegenerateFitWarning(UserWarning):
    """A fit ended with a degenerate component (see :mod:`mixture.degeneracy`).

    The likelihood of such a fit is not a maximum of the model's likelihood but an artefact
    of the regulariser: its log-likelihood and criteria are not comparable with proper fits.
    Model selection excludes these fits; a single fit warns with this class.
    """


class NotFittedError(_SklearnNotFittedError):
    """A model or component family was used before it had parameters.

    Subclass of :class:`sklearn.exceptions.NotFittedError` (itself a :class:`ValueError`
    and an :class:`AttributeError`), so ``except`` clauses written for either library catch
    it, and ``hasattr`` on a parameter of an unfitted family is ``False``.
    """
