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

import warnings
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from mixture._chunking import row_slices
from mixture._kmeans import assign, lloyd
from mixture._row_random import RowGroups, row_keys, uniforms
from mixture._validation import check_int, check_nonnegative_float
from mixture.exceptions import FewDistinctRowsWarning
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

_DISTANCE_CHUNK_ROWS = 8192


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


def _seed(rng: np.random.Generator) -> int:
    """A 63-bit seed for content-keyed draws, taken from the engine's generator."""
    return int(rng.integers(2**63 - 1))


def _distinct_groups(X: np.ndarray, sample_weight: np.ndarray | None) -> tuple[RowGroups, int]:
    """The rows grouped by content, and the number of groups with positive weight."""
    groups = RowGroups.of(X, sample_weight)
    return groups, int((groups.weight > 0).sum())


def shared_seed_responsibilities(
    X: np.ndarray, groups: RowGroups, n_components: int, seed: int
) -> np.ndarray:
    """Start for fewer distinct rows than components: every distinct row is a seed, and the
    surplus components share seeds.

    The distinct rows (with positive weight) are ordered by a weighted random draw; component
    ``k`` starts on distinct row ``k mod n_distinct``. A row's responsibility is split
    equally among the components on its seed, so components on the same seed start (and
    stay) identical, with their weights adding up to the row's share. A
    :class:`~mixture.exceptions.FewDistinctRowsWarning` says so.

    Returns
    -------
    ndarray of shape (n_samples, n_components)
    """
    positive = int((groups.weight > 0).sum())
    order = groups.race(groups.weight, seed, 0, positive)
    seed_of_component = order[np.arange(n_components) % positive]
    warnings.warn(
        f"Number of distinct clusters ({positive}) found smaller than n_clusters "
        f"({n_components}): X has only {positive} distinct row(s) with positive weight, so "
        f"components {list(range(positive, n_components))} start on the same rows as "
        f"components {[int(k) % positive for k in range(positive, n_components)]} and stay "
        "identical to them. Use fewer components.",
        FewDistinctRowsWarning,
        stacklevel=4,
    )
    shares = np.zeros((groups.keys.shape[0], n_components), dtype=X.dtype)
    shares[seed_of_component, np.arange(n_components)] = 1.0
    # Rows of zero weight in groups that are no seed: nearest seed (they carry no weight).
    unseeded = ~shares.any(axis=1)
    if unseeded.any():
        labels, _ = assign(X[groups.first_row[unseeded]], X[groups.first_row[order]])
        shares[np.flatnonzero(unseeded), labels] = 1.0
    shares /= shares.sum(axis=1, keepdims=True)
    return shares[groups.group_of_row]


def _largest_magnitude(X: np.ndarray) -> float:
    """Largest absolute value in X (1 if X is all zeros), to measure distances in."""
    largest = max(float(np.abs(X[rows]).max()) for rows in row_slices(X.shape[0], 65536))
    return largest if largest > 0 else 1.0


def _squared_distances(X: np.ndarray, centre: np.ndarray, scale: float) -> np.ndarray:
    """Squared Euclidean distance of every row to one centre, in units of ``scale``.

    Measuring in units of the data's magnitude keeps the squares of very small or very
    large values from underflowing or overflowing.

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    out = np.empty(X.shape[0])
    centre = centre.astype(X.dtype)
    for rows in row_slices(X.shape[0], _DISTANCE_CHUNK_ROWS):
        difference = X[rows] - centre
        difference /= X.dtype.type(scale)
        out[rows] = np.einsum("nd,nd->n", difference, difference)
    return out


def nearest_seed_labels(X: np.ndarray, groups: RowGroups, seed_groups: np.ndarray) -> np.ndarray:
    """Label rows by their nearest seed row; every row equal to seed ``k`` gets label ``k``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    groups : RowGroups
    seed_groups : ndarray of shape (n_components,)
        The groups whose rows are the seeds.

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    labels, _ = assign(X, X[groups.first_row[seed_groups]])
    rank = np.full(groups.keys.shape[0], -1)
    rank[seed_groups] = np.arange(seed_groups.shape[0])
    forced = rank[groups.group_of_row]
    return np.where(forced >= 0, forced, labels)


def kmeans_plus_plus_seeds(
    X: np.ndarray, groups: RowGroups, n_components: int, seed: int
) -> np.ndarray:
    """Greedy k-means++ (Arthur and Vassilvitskii 2007), drawing by row content.

    Each new seed is the best, by the resulting weighted potential
    ``sum_i w_i min_c |x_i - c|^2``, of ``2 + floor(log K)`` candidates drawn with
    probability proportional to ``w_i D_i^2``.

    Returns
    -------
    ndarray of shape (n_components,)
        Seed groups, in the order drawn.
    """
    n_trials = 2 + int(np.log(n_components))
    scale = _largest_magnitude(X)
    chosen = [int(groups.race(groups.weight, seed, 0, 1)[0])]
    closest = _squared_distances(X, X[groups.first_row[chosen[0]]], scale)
    for step in range(1, n_components):
        scores = groups.weight * closest[groups.first_row]
        candidates = groups.race(scores, seed, step, n_trials)
        candidates = candidates[scores[candidates] > 0]
        best_potential, best = np.inf, None
        for candidate in candidates:
            candidate_row = X[groups.first_row[candidate]]
            distances = np.minimum(closest, _squared_distances(X, candidate_row, scale))
            # The potential summed over groups (sum_g W_g D_g^2) is the same for a row of
            # weight 2 as for the row written twice.
            potential = float(np.dot(groups.weight, distances[groups.first_row]))
            if potential < best_potential:
                best_potential, best = potential, (int(candidate), distances)
        assert best is not None  # enough distinct rows was checked
        chosen.append(best[0])
        closest = best[1]
    return np.array(chosen)


class RandomResponsibilities(Initializer):
    """Uniform random responsibilities, normalised per row (scikit-learn's ``'random'``).

    Every component starts near the overall mean and covariance; EM then separates them.
    The random numbers are keyed by row content, so equal rows get equal responsibilities.
    """

    def initialize(
        self,
        X: np.ndarray,
        n_components: int,
        *,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        seed = _seed(rng)
        keys = row_keys(X)
        resp = np.empty((X.shape[0], n_components), dtype=X.dtype)
        for k in range(n_components):
            resp[:, k] = uniforms(keys, seed, k)
        resp /= resp.sum(axis=1, keepdims=True)
        return resp


class RandomRows(Initializer):
    """Pick ``n_components`` distinct rows at random as seeds; rows go to the nearest seed.

    Rows are drawn with probability proportional to their sample weight. Rows equal to a
    seed are assigned to it, so no component starts empty. With fewer distinct rows than
    components, surplus components share seeds (see :func:`shared_seed_responsibilities`).
    """

    def initialize(
        self,
        X: np.ndarray,
        n_components: int,
        *,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        groups, distinct = _distinct_groups(X, sample_weight)
        if distinct < n_components:
            return shared_seed_responsibilities(X, groups, n_components, _seed(rng))
        seeds = groups.race(groups.weight, _seed(rng), 0, n_components)
        return nearest_seed_labels(X, groups, seeds)


class KMeansPlusPlus(Initializer):
    """Greedy k-means++ seeding, weighted by ``sample_weight``; rows go to the nearest seed.

    With fewer distinct rows than components, surplus components share seeds (see
    :func:`shared_seed_responsibilities`).
    """

    def initialize(
        self,
        X: np.ndarray,
        n_components: int,
        *,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        groups, distinct = _distinct_groups(X, sample_weight)
        if distinct < n_components:
            return shared_seed_responsibilities(X, groups, n_components, _seed(rng))
        seeds = kmeans_plus_plus_seeds(X, groups, n_components, _seed(rng))
        return nearest_seed_labels(X, groups, seeds)


class KMeans(Initializer):
    """Hard partition from k-means clustering: k-means++ seeds, then Lloyd's iterations.

    The default of :class:`~mixture.MixtureEM`, as in scikit-learn's ``GaussianMixture``.
    Lloyd's iterations run chunk by chunk without copying the data (scikit-learn's
    ``KMeans`` copies it to centre it), so memory-mapped data stays on disk; seeding holds a
    few arrays of n_samples numbers. Rows are weighted by ``sample_weight``. With fewer
    distinct rows than components, surplus components share seeds (see
    :func:`shared_seed_responsibilities`).

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
        groups, distinct = _distinct_groups(X, sample_weight)
        if distinct < n_components:
            # Every distinct row is its own cluster: nothing for Lloyd's iterations to do.
            return shared_seed_responsibilities(X, groups, n_components, _seed(rng))
        best = None
        for _ in range(self.n_init):
            seeds = kmeans_plus_plus_seeds(X, groups, n_components, _seed(rng))
            centres = X[groups.first_row[seeds]].astype(np.float64)
            partition = lloyd(X, centres, sample_weight, max_iter=self.max_iter, tol=self.tol)
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
