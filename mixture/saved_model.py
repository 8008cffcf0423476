"""A fitted mixture together with what is needed to use it on new data.

A model file holds more than the mixture: the names of the columns it was fitted on (so new
data can be matched by name, not by position), the preprocessing the fit applied (so new
rows are transformed the same way), and how it was chosen (the selection's criterion and
table). :class:`SavedModel` carries all three and its prediction methods take rows in the
data's own units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mixture.family import ComponentFamily
from mixture.model import Mixture
from mixture.preprocessing import Standardization

__all__ = ["ColumnMismatchError", "SavedModel"]


class ColumnMismatchError(ValueError):
    """New data lacks columns the model was fitted on."""


@dataclass(frozen=True, eq=False)
class SavedModel:
    """A fitted mixture, its column names, its preprocessing and its selection metadata.

    Prediction methods take rows in the units of the data the model was fitted on: they apply
    :attr:`standardization` first (when the fit standardised its data), and
    :meth:`score_samples` includes the preprocessing's Jacobian, so densities are densities of
    the original data.

    Attributes
    ----------
    mixture : Mixture
        The fitted mixture (in standardised units when :attr:`standardization` is set).
    feature_names : tuple of str or None
        Column names, in the order the mixture's features use them.
    standardization : Standardization or None
    selection : dict or None
        How the model was chosen: criterion, its value, the candidate table, the number of
        rows (JSON values only).
    """

    mixture: Mixture
    feature_names: tuple[str, ...] | None = None
    standardization: Standardization | None = None
    selection: dict[str, Any] | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.mixture, Mixture):
            raise ValueError(f"expected a fitted Mixture; got {type(self.mixture).__name__}")
        n_features = self.mixture.n_features
        if self.feature_names is not None:
            names = tuple(self.feature_names)
            if len(names) != n_features or not all(isinstance(n, str) for n in names):
                raise ValueError(
                    f"feature_names must be {n_features} strings, one per feature; got {names!r}"
                )
            duplicated = sorted({n for n in names if names.count(n) > 1})
            if duplicated:
                raise ValueError(f"feature_names repeats {', '.join(map(repr, duplicated))}")
            object.__setattr__(self, "feature_names", names)
        if self.standardization is not None and self.standardization.n_features != n_features:
            raise ValueError(
                f"the standardization has {self.standardization.n_features} features; the "
                f"mixture has {n_features}"
            )

    # -- what the mixture is ----------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray:
        return self.mixture.weights

    @property
    def family(self) -> ComponentFamily:
        return self.mixture.family

    @property
    def components(self) -> tuple[Any, ...]:
        return self.mixture.components

    @property
    def n_components(self) -> int:
        return self.mixture.n_components

    @property
    def n_features(self) -> int:
        return self.mixture.n_features

    @property
    def n_parameters(self) -> int:
        """Free parameters of the mixture (the preprocessing is not counted)."""
        return self.mixture.n_parameters

    # -- matching columns ---------------------------------------------------------------------
    def column_order(self, names: Sequence[str], *, source: str = "the data") -> list[int]:
        """Positions in ``names`` of the model's features, in the model's order.

        Parameters
        ----------
        names : sequence of str
            The columns of the new data.
        source : str
            How to call the data in the error.

        Returns
        -------
        list of int, length n_features

        Raises
        ------
        ColumnMismatchError
            If a feature of the model is not among ``names`` (or the model has no names and
            the number of columns differs).
        """
        names = list(names)
        if self.feature_names is None:
            if len(names) != self.n_features:
                raise ColumnMismatchError(
                    f"{source} has {len(names)} column(s); the model was fitted on "
                    f"{self.n_features} (it stores no column names, so they are taken in order)"
                )
            return list(range(self.n_features))
        missing = [n for n in self.feature_names if n not in names]
        if missing:
            raise ColumnMismatchError(
                f"{source} lacks the column(s) {', '.join(map(repr, missing))} the model was "
                f"fitted on (it has {', '.join(map(repr, names))})"
            )
        return [names.index(n) for n in self.feature_names]

    # -- predictions in the data's units ------------------------------------------------------
    def _model_units(self, X: Any) -> Any:
        return X if self.standardization is None else self.standardization.transform(X)

    def _log_jacobian(self) -> float:
        return 0.0 if self.standardization is None else self.standardization.log_jacobian

    def predict(self, X: Any) -> np.ndarray:
        """Most probable component of each row, shape (n_samples,)."""
        return self.mixture.predict(self._model_units(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Responsibilities, shape (n_samples, n_components)."""
        return self.mixture.predict_proba(self._model_units(X))

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-density of each row in the data's units, shape (n_samples,)."""
        return self.mixture.score_samples(self._model_units(X)) + self._log_jacobian()

    def score(self, X: Any, sample_weight: Any = None) -> float:
        """Weighted mean log-density per row, in the data's units."""
        return self.mixture.score(self._model_units(X), sample_weight) + self._log_jacobian()

    def bic(self, X: Any, sample_weight: Any = None) -> float:
        """``-2 log L + p log n`` on ``X`` in the data's units (lower is better)."""
        n_rows = self._effective_rows(X, sample_weight)
        log_likelihood = self.score(X, sample_weight) * n_rows
        return -2.0 * log_likelihood + self.n_parameters * float(np.log(n_rows))

    def aic(self, X: Any, sample_weight: Any = None) -> float:
        """``-2 log L + 2 p`` on ``X`` in the data's units (lower is better)."""
        n_rows = self._effective_rows(X, sample_weight)
        return -2.0 * self.score(X, sample_weight) * n_rows + 2.0 * self.n_parameters

    @staticmethod
    def _effective_rows(X: Any, sample_weight: Any) -> float:
        if sample_weight is None:
            return float(np.shape(X)[0])
        return float(np.sum(sample_weight))

    def sample(self, n_samples: int = 1, random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw rows in the data's units.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        labels : ndarray of shape (n_samples,)
        """
        rows, labels = self.mixture.sample(n_samples, random_state)
        if self.standardization is not None:
            rows = self.standardization.inverse_transform(rows)
        return rows, labels
