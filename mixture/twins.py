"""scipy "twins" of components, in the row-wise form the conformance kit expects.

A twin has ``logpdf(X) -> (n,)`` for rows ``X`` of shape ``(n, n_features)`` and
``rvs(size, random_state) -> (size, n_features)``. scipy's multivariate distributions return
other shapes for one feature, and scipy has no product of independent features; these small
wrappers give every built-in component a twin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["IndependentTwin", "MultivariateTwin"]


class MultivariateTwin:
    """A frozen scipy multivariate distribution (e.g. ``multivariate_normal``) row-wise."""

    def __init__(self, frozen: Any, n_features: int) -> None:
        self.frozen = frozen
        self.n_features = n_features

    def logpdf(self, X: np.ndarray) -> np.ndarray:
        return np.atleast_1d(self.frozen.logpdf(X)).reshape(X.shape[0])

    def rvs(self, size: int, random_state: Any = None) -> np.ndarray:
        draws = self.frozen.rvs(size=size, random_state=random_state)
        return np.asarray(draws, dtype=np.float64).reshape(size, self.n_features)


class IndependentTwin:
    """Independent features, each a frozen univariate scipy distribution (or a twin).

    Parameters
    ----------
    parts : sequence
        One frozen univariate distribution per feature (``logpdf`` or ``logpmf``), or a
        row-wise twin covering several features.
    widths : sequence of int, optional
        Features covered by each part (default 1 each).
    """

    def __init__(self, parts: Sequence[Any], widths: Sequence[int] | None = None) -> None:
        self.parts = list(parts)
        self.widths = [1] * len(self.parts) if widths is None else list(widths)
        self.n_features = sum(self.widths)  # so a twin can be a part of another

    def logpdf(self, X: np.ndarray) -> np.ndarray:
        total = np.zeros(X.shape[0])
        start = 0
        for part, width in zip(self.parts, self.widths, strict=True):
            block = X[:, start : start + width]
            if hasattr(part, "n_features"):  # a row-wise twin
                total += part.logpdf(block)
            else:
                log = part.logpmf if hasattr(part, "logpmf") else part.logpdf
                total += log(block[:, 0])
            start += width
        return total

    def rvs(self, size: int, random_state: Any = None) -> np.ndarray:
        rng = np.random.default_rng(random_state)
        columns = []
        for part, width in zip(self.parts, self.widths, strict=True):
            draws = np.asarray(part.rvs(size=size, random_state=rng), dtype=np.float64)
            columns.append(draws.reshape(size, width))
        return np.concatenate(columns, axis=1)
