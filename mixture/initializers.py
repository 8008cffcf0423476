"""Initializers: how an EM run gets its starting point.

An initializer returns one of: integer labels of shape ``(n_samples,)`` (a hard partition),
responsibilities of shape ``(n_samples, n_components)`` whose rows sum to 1, or a ready
:class:`~mixture.Mixture`. The engine turns labels or responsibilities into parameters with
one M-step of the component family, so the same code initialises every family, including
lists of different component types. Labels cost n integers where a one-hot matrix would cost
n x K floats.

To write your own, subclass :class:`Initializer` and implement :meth:`Initializer.initialize`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from mixture._kmeans import assign, lloyd
from mixture._validation import check_int, check_nonnegative_float
from mixture.model import Mixture

__all__ = [
    "GivenParameters",
    "GivenResponsibilities",
    "Initializer",
    "KMeans",
    "KMeansPlusPlus",
    "RandomResponsibilities",
    "RandomRows",
]


class Initializer(ABC):
    """Protocol for starting points of EM."""

    @abstractmethod
    def initialize(
        self,
        X: np.ndarray,
        n_components: int,
        *,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray | Mixture:
        """Starting point for one EM run.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Validated data.
        n_components : int
        sample_weight : ndarray of shape (n_samples,) or None
        rng : numpy.random.Generator
            Source of all randomness, so runs are reproducible.

        Returns
        -------
        ndarray of shape (n_samples,), ndarray of shape (n_samples, n_components), or Mixture
            Integer labels, responsibilities (rows summing to 1), or initial parameters.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _sklearn_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(np.iinfo(np.int32).max))


def nearest_centre_labels(
    X: np.ndarray, centres: np.ndarray, seed_rows: np.ndarray | None = None
) -> np.ndarray:
    """Label each row with its nearest centre (Euclidean).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    centres : ndarray of shape (n_components, n_features)
    seed_rows : ndarray of shape (n_components,), optional
        Row indices the centres were taken from; row ``seed_rows[k]`` is labelled ``k``
        even when an identical row is another centre, so no component starts empty.

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    labels, _ = assign(X, centres)
    if seed_rows is not None:
        labels[seed_rows] = np.arange(centres.shape[0])
    return labels


class RandomResponsibilities(Initializer):
    """Uniform random responsibilities, normalised per row (scikit-learn's ``'random'``).

    Every component starts near the overall mean and covariance; EM then separates them.
    """

    def initialize(
        self,
        X: np.ndarray,
        n_components: int,
        *,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        resp = rng.uniform(size=(X.shape[0], n_components)).astype(X.dtype, copy=False)
        resp /= resp.sum(axis=1, keepdims=True)
        return resp


def _positive_rows(sample_weight: np.ndarray | None, n_rows: int) -> np.ndarray:
    if sample_weight is None:
        return np.arange(n_rows)
    return np.flatnonzero(sample_weight > 0)


class RandomRows(Initializer):
    """Pick ``n_components`` distinct rows at random as centres; assign rows to the nearest.

    Rows are drawn with probability proportional to their sample weight. Each centre's own
    row is assigned to its component, so no component starts empty.
    """

    def initialize(
        self,
        X: np.ndarray,
        n_components: int,
        *,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        candidates = _positive_rows(sample_weight, X.shape[0])
        probabilities = None
        if sample_weight is not None:
            probabilities = sample_weight[candidates] / sample_weight[candidates].sum()
        seeds = rng.choice(candidates, size=n_components, replace=False, p=probabilities)
        return nearest_centre_labels(X, X[seeds], seeds)


class KMeansPlusPlus(Initializer):
    """k-means++ seeding (Arthur and Vassilvitskii 2007); rows go to the nearest seed.

    Uses :func:`sklearn.cluster.kmeans_plusplus`, weighted by ``sample_weight``.
    """

    def initialize(
        self,
        X: np.ndarray,
        n_components: int,
        *,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        from sklearn.cluster import kmeans_plusplus

        centres, seeds = kmeans_plusplus(
            X, n_components, sample_weight=sample_weight, random_state=_sklearn_seed(rng)
        )
        return nearest_centre_labels(X, centres, seeds)


class KMeans(Initializer):
    """Hard partition from k-means clustering: k-means++ seeds, then Lloyd's iterations.

    The default of :class:`~mixture.MixtureEM`, as in scikit-learn's ``GaussianMixture``.
    The seeds come from :func:`sklearn.cluster.kmeans_plusplus`; Lloyd's iterations run
    chunk by chunk without copying the data (scikit-learn's ``KMeans`` copies it to centre
    it), so memory-mapped data stays on disk. Memory: the seeding holds a few arrays of
    n_samples floats, Lloyd's iterations O(chunk). Rows are weighted by ``sample_weight``.

    Parameters
    ----------
    n_init : int, default 1
        k-means restarts; the partition with the lowest inertia wins.
    max_iter : int, default 300
        Lloyd iterations per restart.
    tol : float, default 1e-4
        Stop when the squared centre shift is at most ``tol`` times the mean feature variance.
    """

    def __init__(self, n_init: int = 1, max_iter: int = 300, tol: float = 1e-4) -> None:
        self.n_init = check_int(n_init, name="n_init", minimum=1)
        self.max_iter = check_int(max_iter, name="max_iter", minimum=1)
        self.tol = check_nonnegative_float(tol, name="tol")

    def __repr__(self) -> str:
        return f"KMeans(n_init={self.n_init}, max_iter={self.max_iter}, tol={self.tol})"

    def initialize(
        self,
        X: np.ndarray,
        n_components: int,
        *,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        from sklearn.cluster import kmeans_plusplus

        best = None
        for _ in range(self.n_init):
            seeds, _ = kmeans_plusplus(
                X, n_components, sample_weight=sample_weight, random_state=_sklearn_seed(rng)
            )
            partition = lloyd(X, seeds, sample_weight, max_iter=self.max_iter, tol=self.tol)
            if best is None or partition.inertia < best.inertia:
                best = partition
        return best.labels


class GivenResponsibilities(Initializer):
    """Start from user-given responsibilities.

    Parameters
    ----------
    responsibilities : array-like of shape (n_samples, n_components)
        Non-negative; each row is normalised to sum to 1 (it must have a positive sum).
    """

    def __init__(self, responsibilities: Any) -> None:
        resp = np.array(responsibilities, dtype=np.float64)
        if resp.ndim != 2:
            raise ValueError(
                f"responsibilities must be 2-D (n_samples, n_components); got shape {resp.shape}"
            )
        if not np.isfinite(resp).all() or (resp < 0).any():
            raise ValueError("responsibilities must be finite and non-negative")
        sums = resp.sum(axis=1, keepdims=True)
        if (sums <= 0).any():
            raise ValueError(f"row {int(np.argmax(sums[:, 0] <= 0))} of responsibilities sums to 0")
        self.responsibilities = resp / sums

    def initialize(
        self,
        X: np.ndarray,
        n_components: int,
        *,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        expected = (X.shape[0], n_components)
        if self.responsibilities.shape != expected:
            raise ValueError(
                f"given responsibilities have shape {self.responsibilities.shape}; "
                f"the data and model need {expected}"
            )
        return self.responsibilities.astype(X.dtype, copy=False)


class GivenParameters(Initializer):
    """Start from a given mixture (user-chosen parameters, or a previous fit).

    Parameters
    ----------
    mixture : Mixture
        Its number of components and features must match the model and data.
    """

    def __init__(self, mixture: Mixture) -> None:
        if not isinstance(mixture, Mixture):
            raise ValueError(
                f"GivenParameters needs a Mixture (or a fit result); got {type(mixture).__name__}"
            )
        self.mixture = mixture

    def initialize(
        self,
        X: np.ndarray,
        n_components: int,
        *,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> Mixture:
        return self.mixture
