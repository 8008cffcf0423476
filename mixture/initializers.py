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

import mmap
import warnings
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from mixture._chunking import MIN_CHUNK_ROWS, blas_held, map_chunks, row_slices
from mixture._compiled import use_compiled
from mixture._kmeans import Partition, assign, lloyd, mean_feature_variance, nearest_partition
from mixture._row_random import RowGroups, content_sample, row_keys, uniforms
from mixture._validation import check_int, check_nonnegative_float
from mixture.exceptions import FewDistinctRowsWarning
from mixture.model import Mixture

__all__ = [
    "DEFAULT_SAMPLE_SIZE",
    "GivenParameters",
    "GivenResponsibilities",
    "Initializer",
    "KMeans",
    "KMeansPlusPlus",
    "RandomResponsibilities",
    "RandomRows",
    "SeedingSample",
]

_DISTANCE_CHUNK_ROWS = 8192


def _distance_chunk_rows(n_rows: int, values_per_row: int) -> int:
    """Rows per chunk of a distance pass (``values_per_row`` multiply-adds a row): about
    4 M multiply-adds, so that a chunk's work outweighs handing it to a thread, but at most
    ``_DISTANCE_CHUNK_ROWS`` and a quarter of the rows, so that threads share the work
    evenly (20,000 rows made chunks of 8,192, 8,192 and 3,616: two threads did two thirds
    and one third); at least ``MIN_CHUNK_ROWS``. Every row's distances are computed alone,
    so the chunking never changes them."""
    by_work = 2**22 // max(1, values_per_row)
    return max(MIN_CHUNK_ROWS, min(by_work, _DISTANCE_CHUNK_ROWS, -(-n_rows // 4)))


#: Data with more rows than this is seeded on a sample of this many distinct rows (see
#: :class:`KMeans`): 64 Ki rows give seeds and centres whose sampling error is far below
#: the spread of a cluster for any K up to a few hundred.
DEFAULT_SAMPLE_SIZE = 2**16
#: The sample holds at least this many rows per component.
_SAMPLE_ROWS_PER_COMPONENT = 64


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
    return _squared_distances_to(X, centre[None, :], scale)[0]


def _squared_distances_to(X: np.ndarray, centres: np.ndarray, scale: float) -> np.ndarray:
    """:func:`_squared_distances` to several centres ``(c, D)`` in one pass over the rows
    (each chunk, in cache, serves every centre), shape ``(c, n_samples)``."""
    out = np.empty((centres.shape[0], X.shape[0]))
    centres = centres.astype(X.dtype)
    with np.errstate(divide="ignore", over="ignore"):
        inverse_scale = X.dtype.type(1.0) / X.dtype.type(scale)
    if use_compiled(X.size) and np.isfinite(inverse_scale):  # one fused pass per chunk
        from mixture._start_compiled import squared_distances_into

        def fill(rows: slice) -> None:
            squared_distances_into(X[rows], centres, inverse_scale, out, rows.start)

        map_chunks(fill, X.shape[0], _distance_chunk_rows(X.shape[0], centres.size), centres.size)
        return out

    def fill(rows: slice) -> None:
        block = X[rows]
        for j, centre in enumerate(centres):
            difference = block - centre
            difference /= X.dtype.type(scale)
            out[j, rows] = np.einsum("nd,nd->n", difference, difference)

    # Each chunk writes only its rows.
    map_chunks(fill, X.shape[0], _distance_chunk_rows(X.shape[0], centres.size), centres.size)
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
        candidates = groups.race(scores, seed, step, n_trials, compiled=use_compiled(X.size))
        candidates = candidates[scores[candidates] > 0]
        if candidates.size == 0:
            raise ValueError(
                f"k-means++ found no seed for component {step}: every row's squared distance "
                "to the seeds so far underflows to 0 in units of the data's largest magnitude "
                f"({scale:.3g}); the values span too many orders of magnitude: rescale the "
                "data (standardise its columns), or start with init_params='random'"
            )
        best_potential, best = np.inf, None
        # One pass over the rows gives every candidate's distances.
        to_candidates = _squared_distances_to(X, X[groups.first_row[candidates]], scale)
        if use_compiled(X.size):  # the potentials in one pass (mixture._start_compiled)
            from mixture._start_compiled import best_candidate

            index, _ = best_candidate(closest, to_candidates, groups.weight, groups.first_row)
            chosen.append(int(candidates[index]))
            closest = np.minimum(closest, to_candidates[index])
            continue
        for candidate, candidate_distances in zip(candidates, to_candidates, strict=True):
            distances = np.minimum(closest, candidate_distances)
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


class SeedingSample:
    """The rows that seeding runs on when the data has many: a sample keyed by row content.

    The sample (:func:`mixture._row_random.content_sample`, the rows
    :func:`mixture.sources.row_sample` draws) keeps the distinct rows of positive
    weight whose content-keyed draws are smallest, each once, carrying the summed weight of
    its copies. It therefore depends only on the weighted multiset of rows: shuffling the
    rows, or trading integer weights for repeated rows, gives the same sample and so the
    same seeds. Every distinct row is equally likely to be in it, and its weight makes
    sums over the sample estimate (a fixed multiple of) the weighted sums over the data.

    Attributes
    ----------
    rows : ndarray of shape (m, n_features)
        float64 (exactly the data's values).
    weights : ndarray of shape (m,) or None
        Summed sample weight of each row's copies; None when every row has weight 1.
    groups : RowGroups
        The sample's rows grouped by content (each row its own group).
    complete : bool
        Whether the sample holds every distinct row of positive weight: seeding on it is
        then seeding on the data.
    """

    def __init__(
        self, rows: np.ndarray, weights: np.ndarray | None, size: int, groups: RowGroups
    ) -> None:
        self.rows, self.weights, self.groups = rows, weights, groups
        self.complete = rows.shape[0] < size

    @classmethod
    def draw(
        cls,
        X: np.ndarray,
        sample_weight: np.ndarray | None,
        n_components: int,
        sample_size: int | None,
        rng: np.random.Generator,
    ) -> SeedingSample | None:
        """The sample of ``X`` to seed ``n_components`` components on, or None to seed on
        every row: data of at most ``sample_size`` rows (or ``sample_size`` None), or fewer
        distinct rows of positive weight than components (the shared-seed start needs every
        row's group).

        The sample has ``max(sample_size, 64 * n_components)`` rows (fewer when the data
        has fewer distinct rows); drawing it costs one pass over the data and memory for
        twice its rows.
        """
        if sample_size is None:
            return None
        size = max(sample_size, _SAMPLE_ROWS_PER_COMPONENT * n_components)
        if X.shape[0] <= size:
            return None
        index, weight = content_sample(X, sample_weight, size, _seed(rng))
        if index.shape[0] < n_components:
            return None
        if _on_disk(X):  # read the rows in storage order (a file on disk)
            order = np.argsort(index)
            rows = np.empty((index.shape[0], X.shape[1]))
            rows[order] = X[index[order]]
        else:
            rows = X[index].astype(np.float64, copy=False)
        weights = None if sample_weight is None and (weight == 1.0).all() else weight
        # The sample's rows are distinct (copies were merged): each is its own group.
        return cls(rows, weights, size, RowGroups.of_distinct(rows, weights))

    def seed_centres(self, seeds: np.ndarray) -> np.ndarray:
        """The rows of the given seed groups, shape ``(len(seeds), n_features)``."""
        return self.rows[self.groups.first_row[seeds]]


def _on_disk(X: np.ndarray) -> bool:
    """Whether ``X`` is (a view of) a memory-mapped file: validation turns a
    ``numpy.memmap`` into a plain array viewing it, so the chain of bases is searched."""
    base: object = X
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap):
            return True
        base = base.base
    return isinstance(base, mmap.mmap)


def _check_sample_size(sample_size: int | None) -> int | None:
    return None if sample_size is None else check_int(sample_size, name="sample_size", minimum=1)


class _Seeding(Initializer):
    """An initializer that seeds on every row of small data and on a
    :class:`SeedingSample` of large data, with the BLAS held at one thread throughout (its
    passes over the rows run in the package's threads)."""

    def __init__(self, sample_size: int | None = DEFAULT_SAMPLE_SIZE) -> None:
        self.sample_size = _check_sample_size(sample_size)

    def initialize(
        self,
        X: np.ndarray,
        n_components: int,
        *,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        with blas_held():
            sample = SeedingSample.draw(X, sample_weight, n_components, self.sample_size, rng)
            if sample is not None:
                labels = self._on_sample(X, n_components, sample_weight, sample, rng)
                if labels is not None:
                    return labels
            return self._on_all_rows(X, n_components, sample_weight, rng)

    @abstractmethod
    def _on_all_rows(
        self,
        X: np.ndarray,
        n_components: int,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """The start from every row, grouped by content."""

    @abstractmethod
    def _on_sample(
        self,
        X: np.ndarray,
        n_components: int,
        sample_weight: np.ndarray | None,
        sample: SeedingSample,
        rng: np.random.Generator,
    ) -> np.ndarray | None:
        """Labels of every row from seeds drawn on the sample; None when a component would
        start empty (the start is then taken from every row)."""


def _nearest_seed_labels_of_sample(
    X: np.ndarray, sample_weight: np.ndarray | None, centres: np.ndarray
) -> np.ndarray | None:
    """Every row labelled by its nearest seed (one threaded pass); None if a seed's
    component would get no weight (seeds closer than round-off: then every row decides)."""
    partition = nearest_partition(X, centres, sample_weight, inertia=False)
    return partition.labels if (partition.weights > 0).all() else None


class RandomRows(_Seeding):
    """Pick ``n_components`` distinct rows at random as seeds; rows go to the nearest seed.

    Rows are drawn with probability proportional to their sample weight. Rows equal to a
    seed are assigned to it, so no component starts empty. With fewer distinct rows than
    components, surplus components share seeds (see :func:`shared_seed_responsibilities`).

    Parameters
    ----------
    sample_size : int or None, default 65536
        Data with more rows draws its seeds from a :class:`SeedingSample` of this many
        distinct rows (drawn in proportion to their weight there too); None: from every row.
    """

    def __repr__(self) -> str:
        return f"RandomRows(sample_size={self.sample_size})"

    def _on_all_rows(self, X, n_components, sample_weight, rng):
        groups, distinct = _distinct_groups(X, sample_weight)
        if distinct < n_components:
            return shared_seed_responsibilities(X, groups, n_components, _seed(rng))
        seeds = groups.race(groups.weight, _seed(rng), 0, n_components)
        return nearest_seed_labels(X, groups, seeds)

    def _on_sample(self, X, n_components, sample_weight, sample, rng):
        groups = sample.groups
        seeds = groups.race(groups.weight, _seed(rng), 0, n_components)
        return _nearest_seed_labels_of_sample(X, sample_weight, sample.seed_centres(seeds))


class KMeansPlusPlus(_Seeding):
    """Greedy k-means++ seeding, weighted by ``sample_weight``; rows go to the nearest seed.

    With fewer distinct rows than components, surplus components share seeds (see
    :func:`shared_seed_responsibilities`).

    Parameters
    ----------
    sample_size : int or None, default 65536
        Data with more rows is seeded on a :class:`SeedingSample` of this many distinct
        rows (k-means++ makes ``K (2 + log K)`` passes over the rows it seeds on; on the
        sample they cost a few passes over the data); then one threaded pass labels every
        row. None: seed on every row.
    """

    def __repr__(self) -> str:
        return f"KMeansPlusPlus(sample_size={self.sample_size})"

    def _on_all_rows(self, X, n_components, sample_weight, rng):
        groups, distinct = _distinct_groups(X, sample_weight)
        if distinct < n_components:
            return shared_seed_responsibilities(X, groups, n_components, _seed(rng))
        seeds = kmeans_plus_plus_seeds(X, groups, n_components, _seed(rng))
        return nearest_seed_labels(X, groups, seeds)

    def _on_sample(self, X, n_components, sample_weight, sample, rng):
        seeds = kmeans_plus_plus_seeds(sample.rows, sample.groups, n_components, _seed(rng))
        return _nearest_seed_labels_of_sample(X, sample_weight, sample.seed_centres(seeds))


class KMeans(_Seeding):
    """Hard partition from k-means clustering: k-means++ seeds, then Lloyd's iterations.

    The default of :class:`~mixture.MixtureEM`, as in scikit-learn's ``GaussianMixture``.
    Lloyd's iterations run chunk by chunk in threads without copying the data
    (scikit-learn's ``KMeans`` copies it to centre it), so memory-mapped data stays on disk.
    Rows are weighted by ``sample_weight``. With fewer distinct rows than components,
    surplus components share seeds (see :func:`shared_seed_responsibilities`).

    Data of at most ``sample_size`` rows is seeded on every row (grouped by content: a few
    arrays of n_samples numbers). Larger data is seeded on a :class:`SeedingSample`, where
    Lloyd's iterations also run to convergence; from those centres, Lloyd's iterations over
    every row (one threaded pass each, the same stopping rule) finish the partition. The
    start then costs about one pass to draw the sample and a few passes of Lloyd, and
    holds one byte per row (the labels, for up to 256 components) besides the data.

    Parameters
    ----------
    n_init : int, default 1
        k-means restarts; the partition with the lowest inertia wins.
    max_iter : int, default 300
        Lloyd iterations per restart (on the sample and on all rows, each).
    tol : float, default 1e-4
        Stop when the squared centre shift is at most ``tol`` times the mean feature
        variance (of the rows, or on sampled data of the sample's weighted rows).
    sample_size : int or None, default 65536
        Rows above which seeding runs on a sample of this many distinct rows (at least 64
        per component); None: on every row.
    """

    def __init__(
        self,
        n_init: int = 1,
        max_iter: int = 300,
        tol: float = 1e-4,
        sample_size: int | None = DEFAULT_SAMPLE_SIZE,
    ) -> None:
        super().__init__(sample_size)
        self.n_init = check_int(n_init, name="n_init", minimum=1)
        self.max_iter = check_int(max_iter, name="max_iter", minimum=1)
        self.tol = check_nonnegative_float(tol, name="tol")

    def __repr__(self) -> str:
        return (
            f"KMeans(n_init={self.n_init}, max_iter={self.max_iter}, tol={self.tol}, "
            f"sample_size={self.sample_size})"
        )

    def _on_all_rows(self, X, n_components, sample_weight, rng):
        groups, distinct = _distinct_groups(X, sample_weight)
        if distinct < n_components:
            # Every distinct row is its own cluster: nothing for Lloyd's iterations to do.
            return shared_seed_responsibilities(X, groups, n_components, _seed(rng))
        best = None
        for _ in range(self.n_init):
            seeds = kmeans_plus_plus_seeds(X, groups, n_components, _seed(rng))
            centres = X[groups.first_row[seeds]].astype(np.float64)
            partition = lloyd(
                X,
                centres,
                sample_weight,
                max_iter=self.max_iter,
                tol=self.tol,
                inertia=self.n_init > 1,
            )
            if best is None or partition.inertia < best.inertia:
                best = partition
        return best.labels

    def _on_sample(self, X, n_components, sample_weight, sample, rng):
        variance = mean_feature_variance(sample.rows, sample.weights)
        best: Partition | None = None
        for _ in range(self.n_init):
            seeds = kmeans_plus_plus_seeds(sample.rows, sample.groups, n_components, _seed(rng))
            on_sample = lloyd(
                sample.rows,
                sample.seed_centres(seeds),
                sample.weights,
                max_iter=self.max_iter,
                tol=self.tol,
                variance=variance,
                inertia=False,
            )
            restarts = self.n_init > 1
            if sample.complete:  # the sample's partition is the data's: label every row
                partition = nearest_partition(X, on_sample.centres, sample_weight, inertia=restarts)
            else:  # the sample's centres are near the data's: a few passes finish them
                partition = lloyd(
                    X,
                    on_sample.centres,
                    sample_weight,
                    max_iter=self.max_iter,
                    tol=self.tol,
                    variance=variance,
                    relabel=False,
                    inertia=restarts,
                )
            if best is None or partition.inertia < best.inertia:
                best = partition
        assert best is not None
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
