"""Rows grouped by their pattern of missing values (NaN), for E-steps that marginalise them."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["missing_patterns"]


def missing_patterns(X: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The distinct patterns of observed values among the rows, with their rows.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        NaN marks a missing value.

    Yields
    ------
    observed : ndarray of shape (n_features,), bool
    rows : ndarray of int
        The rows with exactly that pattern, in increasing order.
    """
    missing = np.isnan(X)
    keys = np.packbits(missing, axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse, minlength=first.shape[0]))[:-1]
    for group, rows in enumerate(np.split(order, bounds)):
        yield ~missing[first[group]], rows
