"""What the plots draw from: any fitted model as a Mixture, its name, its marginals.

Every public plotting function takes a fitted :class:`~mixture.GaussianMixture`, a
:class:`~mixture.MixtureResult` or a :class:`~mixture.Mixture`; :func:`as_mixture` turns
each into the :class:`~mixture.Mixture` the drawing code reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mixture.model import Mixture

__all__ = ["as_mixture", "column_indices", "model_title"]


def as_mixture(model: Any) -> Mixture:
    """The :class:`~mixture.Mixture` behind a fitted model.

    Parameters
    ----------
    model : GaussianMixture, MiniBatchGaussianMixture, MixtureResult or Mixture
        A scikit-learn-style estimator must be fitted (its mixture is ``result_``).

    Returns
    -------
    Mixture

    Raises
    ------
    NotFittedError
        For an estimator that has not been fitted.
    TypeError
        For anything else (a model selection: use ``selection.best_model``).
    """
    if isinstance(model, Mixture):
        return model
    result = getattr(model, "result_", None)
    if isinstance(result, Mixture):
        return result
    if hasattr(model, "fit") and hasattr(model, "get_params"):
        from mixture.exceptions import NotFittedError

        raise NotFittedError(
            f"this {type(model).__name__} is not fitted yet; call fit(X) before plotting it"
        )
    hint = ""
    if hasattr(model, "best_model"):
        hint = " (for a model selection, pass selection.best_model, or call plot_fit)"
    raise TypeError(
        "model must be a fitted GaussianMixture, a MixtureResult or a Mixture; "
        f"got {type(model).__name__}{hint}"
    )


def structure_name(mixture: Mixture, model: Any = None) -> str:
    """The covariance structure's name (``"full"``, ``"VEV"``, ...) or the family's class."""
    covariance_type = getattr(model, "covariance_type", None)
    if isinstance(covariance_type, str):
        return covariance_type
    structure = getattr(mixture.family, "structure", None)
    name = getattr(structure, "name", None)
    return name if isinstance(name, str) else type(mixture.family).__name__


def model_title(mixture: Mixture, model: Any = None, label: str | None = None) -> str:
    """``"tied covariance, 3 components"``: the model's structure and K, for titles."""
    name = label or structure_name(mixture, model)
    k = mixture.n_components
    kind = f"{name} covariance" if getattr(mixture.family, "structure", None) else name
    return f"{kind}, {k} component{'s' if k != 1 else ''}"


def column_indices(
    columns: Sequence[int | str] | None, n_features: int, names: Sequence[str] | None
) -> list[int]:
    """Column positions from positions or names; every column when ``columns`` is None.

    Raises
    ------
    ValueError
        For a position out of range, an unknown name, a repeated column or an empty list.
    """
    if columns is None:
        return list(range(n_features))
    if isinstance(columns, (str, int, np.integer)):
        columns = [columns]
    chosen = []
    for column in columns:
        if isinstance(column, str):
            if names is None or column not in names:
                known = f"; the names are {list(names)}" if names is not None else ""
                raise ValueError(f"columns: no column named {column!r}{known}")
            chosen.append(list(names).index(column))
        elif isinstance(column, (int, np.integer)) and not isinstance(column, bool):
            if not -n_features <= column < n_features:
                raise ValueError(
                    f"columns: position {column} is out of range for {n_features} column(s)"
                )
            chosen.append(int(column) % n_features)
        else:
            raise ValueError(f"columns: expected positions or names, got {column!r}")
    if not chosen:
        raise ValueError("columns: choose at least one column")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"columns: a column is repeated in {list(columns)}")
    return chosen


def checked_data(X: Any, mixture: Mixture) -> np.ndarray:
    """``X`` as a 2-D float array with the mixture's number of columns."""
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (rows, columns); got {X.ndim} dimensions")
    if X.shape[1] != mixture.n_features:
        raise ValueError(
            f"X has {X.shape[1]} column(s) but the model was fitted on {mixture.n_features}"
        )
    return X


def feature_name(names: Sequence[str] | None, column: int) -> str:
    return str(names[column]) if names is not None else f"feature {column}"


def gaussian_parts(
    mixture: Mixture, columns: Sequence[int]
) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """(mean, covariance) of each component on ``columns``; None for a component without."""
    index = np.asarray(columns)
    parts: list[tuple[np.ndarray, np.ndarray] | None] = []
    for component in mixture.components:
        mean = getattr(component, "mean", None)
        covariance = getattr(component, "covariance_matrix", None)
        if mean is None or covariance is None:
            parts.append(None)
        else:
            covariance = np.asarray(covariance)
            parts.append((np.asarray(mean)[index], covariance[np.ix_(index, index)]))
    return parts


def component_densities(mixture: Mixture, grid: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    """Weighted densities ``w_k p_k`` of each component's marginal on ``columns``.

    Parameters
    ----------
    grid : ndarray of shape (n_points, len(columns))

    Returns
    -------
    ndarray of shape (n_points, n_components)

    Raises
    ------
    ValueError
        When a marginal is needed (fewer columns than the model's) and a component is not
        Gaussian.
    """
    columns = list(columns)
    if columns == list(range(mixture.n_features)):
        return np.exp(np.log(mixture.weights) + mixture.family.log_density(grid))
    parts = gaussian_parts(mixture, columns)
    if any(part is None for part in parts):
        raise ValueError(
            "a density over some of several columns needs Gaussian components "
            "(a mean and a covariance_matrix) to take marginals"
        )
    from scipy.stats import multivariate_normal

    out = np.empty((grid.shape[0], mixture.n_components))
    for k, (weight, part) in enumerate(zip(mixture.weights, parts, strict=True)):
        mean, covariance = part  # type: ignore[misc]
        out[:, k] = weight * multivariate_normal(mean, covariance, allow_singular=True).pdf(grid)
    return out
