"""Model-based hierarchical agglomeration: mclust's ``hc`` as an initializer.

The algorithm (Fraley 1998, "Algorithms for model-based Gaussian hierarchical clustering",
SIAM J. Sci. Comput. 20(1); the default start of R's mclust) builds one binary tree over
the rows and cuts it at K clusters:

1. Every distinct row starts as its own cluster (identical rows start together, as in
   mclust's ``dupPartition``; a row's sample weight is its multiplicity).
2. At each step the two clusters whose merge decreases the *classification likelihood* of
   a Gaussian model least are merged. The classification likelihood of a hard partition
   with cluster sizes ``n_k``, means ``m_k`` and scatter matrices
   ``W_k = sum_{i in k} w_i (x_i - m_k)(x_i - m_k)^T`` has a closed form for each
   covariance model, and merging clusters ``i`` and ``j`` changes only their own terms::

       n_ij = n_i + n_j
       m_ij = (n_i m_i + n_j m_j) / n_ij
       W_ij = W_i + W_j + (n_i n_j / n_ij) (m_i - m_j)(m_i - m_j)^T

   so each candidate merge costs ``O(D)`` (``EII``) or ``O(D^3)`` (``VVV``) to score.
3. After ``m - 1`` merges one cluster is left. The first ``m - K`` merges give the
   K-cluster partition, for every K, from the same tree.

Merge costs (the quantity minimised at each step):

``"EII"`` (spherical, equal volume: ``Sigma_k = sigma^2 I``). The maximised classification
log-likelihood is ``-(N D / 2) log(sum_k tr W_k / (N D))`` plus a constant, which decreases
with ``tr W = sum_k tr W_k``. A merge increases ``tr W`` by Ward's criterion::

    cost(i, j) = (n_i n_j / (n_i + n_j)) |m_i - m_j|^2

``"VVV"`` (unconstrained covariance per cluster; mclust's default). The maximised
classification log-likelihood is ``-(1/2) sum_k n_k log det(W_k / n_k)`` plus a constant,
so the criterion is ``sum_k n_k log det(W_k / n_k)``. It is minus infinity for any cluster
with at most D distinct rows (``W_k`` singular), which is every cluster at the start, so
Fraley regularises it. This module implements the regularised term of mclust's Fortran
``hcvvv`` / ``vvvtij`` (mclust 6.x; the defaults ``alpha = beta = 1`` of R's ``hcVVV``)::

    term_k = n_k log( det(W_k / n_k) + beta (tr W_k + alpha') / n_k )
    cost(i, j) = term_ij - term_i - term_j

where ``det(W_k / n_k)`` is taken as 0 for a cluster of at most D distinct rows (it is
singular; mclust skips the determinant when the row count is at most D), and
``alpha' = alpha * sum_i w_i |x_i - mean|^2 / (N D)`` is ``alpha`` times the mean
per-coordinate (biased) variance of the data the tree is built on (mclust:
``alpha * traceW(data / sqrt(n p))``), floored at the float64 epsilon. A singleton costs
``log(beta alpha')``. For small clusters the trace term dominates and the merge order is
Ward-like (the ``n_k log`` weighting differs); once clusters have more than D rows, the
determinant takes over. The ``alpha'`` and ``beta`` terms keep every cost finite; they
make the VVV tree depend on the data's scale, which is one reason mclust transforms it first.

Transform (``transform=``; mclust's ``hcUse``, whose default is ``"SVD"``). The tree is built
on transformed data:

- ``"svd"`` (mclust's ``SVD``): centre and scale each column to unit standard deviation
  (R's ``scale``: divisor ``N - 1``), take the thin SVD ``Xs = U S V^T`` and use
  ``Z = Xs V S^(-1/2)`` (= ``U S^(1/2)``). Note ``S^(-1/2)``, not ``S^(-1)``: the columns of
  ``Z`` are uncorrelated but *not* of unit variance; column j has sum of squares ``s_j``.
  Directions of zero singular value (collinear columns) and constant columns are dropped.
- ``"sph"`` (mclust's ``SPH``): centre, rotate to the eigenvectors of the (biased) covariance
  and divide by the square root of its eigenvalues: uncorrelated unit-variance columns.
- ``"std"`` (mclust's ``STD``): centre and scale each column (divisor ``N - 1``).
- ``None`` (mclust's ``VARS``): the data as given.

Rows carry weights in all of these (weighted means, scatter, and the SVD of
``sqrt(w) * Xs``); with unit weights they are mclust's definitions.

Large data. mclust (``Mclust``) builds the tree on a random subset of
``mclust.options("subset") = 2000`` rows, fits the model to the subset's partition with one
M-step and then runs an E-step on all rows. This module does the same: when there are more
than ``max_rows`` distinct rows with positive weight, ``max_rows`` of them are drawn with
equal probability by the content-keyed races of :mod:`mixture._row_random` (a fixed seed, so
the subset depends only on the multiset of rows, not their order), and each keeps its full
weight. The K-cluster partition of the subset then gives a Gaussian mixture by one M-step
(in the transformed coordinates; ``"VVV"``: ``Sigma_k = (W_k + alpha' I) / n_k``, the same
``alpha'`` as above, so a cluster of one row is a broad blob rather than a spike;
``"EII"``: a common ``sigma^2 = (sum_k tr W_k + alpha') / (N D)``), proportions ``n_k / N``,
and the initializer returns that mixture's responsibilities for every row (mclust's
``estep``). When every distinct row with positive weight is in the tree, the initializer
returns the hard partition instead (rows of zero weight, which are not in the tree, get the
label of their most probable cluster; they do not affect the starting parameters).

Cost. The tree keeps an ``m x m`` float64 matrix of merge costs (``m <= max_rows``: 32 MB
at 2,000) and, for every cluster, its cheapest partner. After a merge only the merged
cluster's row of costs is recomputed (``m`` candidates, vectorised; ``VVV`` needs a batched
``D x D`` log-determinant each), and only clusters whose cheapest partner was one of the
two merged ones rescan their row. Time is ``O(m^2 D^3)`` for ``VVV`` in the worst case,
``O(m^2 D)`` for ``EII``; memory ``O(m^2 + m D^2)``.

Determinism. The tree's rows are the distinct rows in the order of their content hash
(:func:`mixture._row_random.row_keys`), the merged cluster keeps the lower index, and among
exactly equal costs the pair ``(i, j)``, ``i < j``, that is lexicographically smallest
wins. So the same weighted multiset of rows gives the same tree whatever the row order,
and integer weights equal repeated rows. The K-cluster labels are numbered by the position of
each cluster's first row in that order.

Agreement with mclust 6.0 (``benchmarks/hc_reference/``): the EII trees, and the VVV trees on
``"svd"`` data, equal mclust's merge for merge on the reference data sets. Other VVV trees
agree for most merges and then differ; at the first difference, mclust's own ``hcVVV``
restarted from this module's partition makes this module's merge, i.e. mclust's
merge-by-merge update of its Cholesky factors drifts from its own criterion.

Identical rows are found by a 64-bit hash of their values (``_row_random.row_keys``), as elsewhere
in the package; two different rows that collide (probability about ``n^2 / 2^65``) would be
treated as one.

One tree serves every K. :func:`hierarchical_tree` returns a :class:`HierarchicalTree`
(the merge sequence, cut with :meth:`HierarchicalTree.partition`); the :class:`Hierarchical`
initializer builds the tree once per data set and caches it, keyed by the data's content
(row hashes, weights, shape, dtype) and its own settings, so
``select_model(..., initializer=Hierarchical())`` builds one tree for all K and ``n_init``
restarts are identical (the initializer uses no randomness; use ``n_init=1``). Parallel
workers (``select_model(n_jobs=...)``) get copies of the initializer: call
``initializer.tree(X, sample_weight)`` first and the copies carry the built tree.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mixture._chunking import row_slices
from mixture._compiled import use_compiled
from mixture._row_random import RowGroups, row_keys
from mixture._validation import check_int
from mixture.initializers import Initializer, shared_seed_responsibilities

__all__ = ["Hierarchical", "HierarchicalTree", "hierarchical_tree"]

Model = Literal["VVV", "EII"]
Transform = Literal["svd", "sph", "std"] | None

_MODELS = ("VVV", "EII")
_TRANSFORMS = ("svd", "sph", "std", None)
#: Rows of the initial cost matrix computed at once (a block of ``rows x m x D`` floats).
_BLOCK_ROWS = 128
#: Rows per chunk of the E-step over all data.
_ESTEP_ROWS = 16384
#: Seed of the content-keyed draw of the subset (fixed: the tree depends only on the data).
_SUBSET_SEED = 0x6863_5F73_7562  # "hc_sub"
#: Rows hashed at once.
#: Trees kept by one :class:`Hierarchical` instance.
_CACHE_SIZE = 4


@dataclass(frozen=True, eq=False)
class HierarchicalTree:
    """A model-based agglomeration tree over ``m`` distinct rows.

    Attributes
    ----------
    points : ndarray of shape (m, n_features)
        The tree's rows in the original coordinates, in content-hash order.
    weights : ndarray of shape (m,)
        Their weights (summed sample weight of identical rows).
    keys : ndarray of shape (m,)
        Their content hashes (:func:`mixture._row_random.row_keys`), ascending.
    merges : ndarray of shape (m - 1, 2)
        Step ``s`` merges clusters ``merges[s, 0] < merges[s, 1]``; a cluster is named by its
        lowest row index, so the merged cluster keeps the name ``merges[s, 0]``.
    costs : ndarray of shape (m - 1,)
        The criterion's change at each step (Ward's increase of ``tr W`` for ``"EII"``; the
        change of the regularised ``sum_k term_k`` for ``"VVV"``).
    model : {"VVV", "EII"}
    transform : {"svd", "sph", "std"} or None
    centre : ndarray of shape (n_features,)
    rotation : ndarray of shape (n_features, n_dims) or None
        The transform ``Z = (X - centre) @ rotation``; ``None`` for the identity.
    alpha : float
        The effective ``alpha'`` of the VVV regularisation (also used by the M-step).
    beta : float
    complete : bool
        True when the tree holds every distinct row of positive weight of its data (no subset).
    """

    points: np.ndarray
    weights: np.ndarray
    keys: np.ndarray
    merges: np.ndarray
    costs: np.ndarray
    model: str
    transform: str | None
    centre: np.ndarray
    rotation: np.ndarray | None
    alpha: float
    beta: float
    complete: bool

    @property
    def size(self) -> int:
        """Number of rows (leaves) of the tree."""
        return int(self.points.shape[0])

    def transformed(self, X: np.ndarray) -> np.ndarray:
        """The coordinates the tree was built in.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_dims)
        """
        X = np.asarray(X, dtype=np.float64)
        if self.rotation is None:
            return X
        return (X - self.centre) @ self.rotation

    def leaf_of(self, X: np.ndarray) -> np.ndarray:
        """The leaf holding each row of ``X`` (by content), or -1 for rows not in the tree.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        keys = row_keys(np.asarray(X))
        position = np.minimum(np.searchsorted(self.keys, keys), self.size - 1)
        return np.where(self.keys[position] == keys, position, -1)

    def partition(self, n_clusters: int) -> np.ndarray:
        """Labels of the tree's rows after the first ``m - n_clusters`` merges.

        Parameters
        ----------
        n_clusters : int
            Between 1 and ``size``.

        Returns
        -------
        ndarray of shape (m,)
            Labels ``0 .. n_clusters - 1``, numbered by each cluster's first row.
        """
        n_clusters = check_int(n_clusters, name="n_clusters", minimum=1)
        if n_clusters > self.size:
            raise ValueError(f"the tree has {self.size} rows; cannot cut it at {n_clusters}")
        steps = self.size - n_clusters
        parent = np.arange(self.size)
        parent[self.merges[:steps, 1]] = self.merges[:steps, 0]
        # Pointer jumping: each pass halves every path to its root (the cluster's first row).
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
        _, labels = np.unique(parent, return_inverse=True)
        return labels.reshape(-1).astype(np.intp)

    def responsibilities(self, X: np.ndarray, n_clusters: int) -> np.ndarray:
        """Responsibilities of the Gaussian mixture fitted to the K-cluster partition.

        One M-step on the tree's rows and the partition (in the tree's coordinates; see the
        module docstring for the covariances), then the E-step on ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        n_clusters : int

        Returns
        -------
        ndarray of shape (n_samples, n_clusters)
            Rows sum to 1.
        """
        labels = self.partition(n_clusters)
        Z = self.transformed(self.points)
        n_dims = Z.shape[1]
        n = np.bincount(labels, weights=self.weights, minlength=n_clusters)
        total = float(n.sum())
        means = np.stack(
            [
                np.average(Z[labels == k], axis=0, weights=self.weights[labels == k])
                for k in range(n_clusters)
            ]
        )
        centred = Z - means[labels]
        weighted = centred * self.weights[:, None]
        if self.model == "VVV":
            scatter = np.zeros((n_clusters, n_dims, n_dims))
            np.add.at(scatter, labels, weighted[:, :, None] * centred[:, None, :])
            covariances = (scatter + self.alpha * np.eye(n_dims)) / n[:, None, None]
        else:
            variance = (float(np.einsum("nd,nd->", weighted, centred)) + self.alpha) / (
                total * n_dims
            )
            covariances = np.broadcast_to(variance * np.eye(n_dims), (n_clusters, n_dims, n_dims))
        factors = np.linalg.cholesky(covariances)
        inverse_factors = np.linalg.inv(factors)
        log_norm = (
            np.log(n / total)
            - np.log(np.diagonal(factors, axis1=1, axis2=2)).sum(axis=1)
            - 0.5 * n_dims * np.log(2.0 * np.pi)
        )
        X = np.asarray(X)
        out = np.empty((X.shape[0], n_clusters), dtype=np.float64)
        for rows in row_slices(X.shape[0], _ESTEP_ROWS):
            z = self.transformed(X[rows])
            log_p = np.empty((z.shape[0], n_clusters))
            for k in range(n_clusters):
                y = (z - means[k]) @ inverse_factors[k].T
                log_p[:, k] = log_norm[k] - 0.5 * np.einsum("nd,nd->n", y, y)
            log_p -= log_p.max(axis=1, keepdims=True)
            np.exp(log_p, out=log_p)
            log_p /= log_p.sum(axis=1, keepdims=True)
            out[rows] = log_p
        return out


def _check_model(model: str) -> str:
    if model not in _MODELS:
        raise ValueError(f"model must be one of {_MODELS}; got {model!r}")
    return model


def _check_transform(transform: str | None) -> str | None:
    if transform not in _TRANSFORMS:
        raise ValueError(f"transform must be one of {_TRANSFORMS}; got {transform!r}")
    return transform


def _check_positive(value: float, name: str) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0; got {value}")
    return value


def _fit_transform(
    points: np.ndarray, weights: np.ndarray, transform: str | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """The affine map ``Z = (X - centre) @ rotation`` of a transform, fitted to weighted rows.

    Parameters
    ----------
    points : ndarray of shape (m, n_features)
    weights : ndarray of shape (m,)
    transform : {"svd", "sph", "std"} or None

    Returns
    -------
    centre : ndarray of shape (n_features,)
    rotation : ndarray of shape (n_features, n_dims) or None
        ``None`` for the identity (``transform=None``, or a single row).
    """
    n_features = points.shape[1]
    if transform is None or points.shape[0] < 2:
        return np.zeros(n_features), None
    total = float(weights.sum())
    centre = weights @ points / total
    centred = points - centre
    if transform == "sph":
        covariance = (centred * weights[:, None]).T @ centred / total
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        keep = eigenvalues > eigenvalues.max() * n_features * np.finfo(float).eps
        return centre, eigenvectors[:, keep] / np.sqrt(eigenvalues[keep])
    # R's scale(): the sample standard deviation, divisor N - 1 (N if the weights sum to <= 1).
    divisor = total - 1.0 if total > 1.0 else total
    std = np.sqrt(weights @ centred**2 / divisor)
    columns = np.flatnonzero(std > 0)
    scaling = np.zeros((n_features, columns.size))
    scaling[columns, np.arange(columns.size)] = 1.0 / std[columns]
    if transform == "std":
        return centre, scaling
    standardised = centred @ scaling
    _, singular, vt = np.linalg.svd(np.sqrt(weights)[:, None] * standardised, full_matrices=False)
    keep = singular > singular.max() * max(standardised.shape) * np.finfo(float).eps
    return centre, scaling @ (vt[keep].T / np.sqrt(singular[keep]))


class _Agglomeration:
    """State of the merge loop: cluster statistics, the cost matrix, cheapest partners."""

    def __init__(
        self, Z: np.ndarray, weights: np.ndarray, model: str, alpha: float, beta: float
    ) -> None:
        m, d = Z.shape
        self.model, self.alpha, self.beta, self.d = model, alpha, beta, d
        self.n = weights.astype(np.float64)
        self.mean = Z.copy()
        self.distinct = np.ones(m, dtype=np.int64)
        if model == "VVV":
            self.scatter = np.zeros((m, d, d))
            self.trace = np.zeros(m)
            # Duplicates start together: tr W = 0, one distinct row (never > d >= 1).
            self.term = self.n * np.log(beta * alpha / self.n)
        self.cost = np.empty((m, m))
        self.compiled = m > 1 and use_compiled(self.cost.size)
        if self.compiled:  # the same costs, compiled (mixture._hierarchical_compiled)
            from mixture._hierarchical_compiled import initial_costs

            self.best = np.empty(m, dtype=np.intp)
            self.best_cost = np.empty(m)
            initial_costs(
                np.ascontiguousarray(Z, dtype=np.float64), self.n,
                self.term if model == "VVV" else np.zeros(0), model == "VVV",
                float(alpha), float(beta), self.cost, self.best, self.best_cost,
            )  # fmt: skip
            return
        for rows in row_slices(m, _BLOCK_ROWS):
            self.cost[rows] = self._initial_costs(Z, rows)
        np.fill_diagonal(self.cost, np.inf)
        self.best = np.argmin(self.cost, axis=1)
        self.best_cost = self.cost[np.arange(m), self.best]

    def _initial_costs(self, Z: np.ndarray, rows: slice) -> np.ndarray:
        """Costs of merging rows ``rows`` with every row: all clusters have ``W = 0``."""
        difference = Z[rows, None, :] - Z[None, :, :]
        squared = np.einsum("bmd,bmd->bm", difference, difference)
        n_i, n_j = self.n[rows, None], self.n[None, :]
        ward = n_i * n_j / (n_i + n_j) * squared
        if self.model == "EII":
            return ward
        n_ij = n_i + n_j
        inner = self.beta * (ward + self.alpha) / n_ij
        if self.d == 1:  # two distinct rows > d: det(W / n) = W / n in one dimension
            inner = inner + ward / n_ij
        with np.errstate(divide="ignore"):  # a row against itself (the diagonal)
            return n_ij * np.log(inner) - self.term[rows, None] - self.term[None, :]

    def _vvv_terms(self, i: int, others: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``term`` and ``tr W`` of cluster ``i`` merged with each of ``others``.

        Returns
        -------
        term : ndarray of shape (len(others),)
        trace : ndarray of shape (len(others),)
        """
        n_ij = self.n[i] + self.n[others]
        factor = self.n[i] * self.n[others] / n_ij
        difference = self.mean[others] - self.mean[i]
        trace = (
            self.trace[i]
            + self.trace[others]
            + factor * np.einsum("kd,kd->k", difference, difference)
        )
        log_inner = np.log(self.beta * (trace + self.alpha) / n_ij)
        full = np.flatnonzero(self.distinct[i] + self.distinct[others] > self.d)
        if full.size:
            merged = self.scatter[i] + self.scatter[others[full]]
            merged += factor[full, None, None] * (
                difference[full, :, None] * difference[full, None, :]
            )
            sign, log_det = np.linalg.slogdet(merged / n_ij[full, None, None])
            log_det = np.where(sign > 0, log_det, -np.inf)  # singular: the determinant is 0
            log_inner[full] = np.logaddexp(log_det, log_inner[full])
        return n_ij * log_inner, trace

    def _costs(self, i: int, others: np.ndarray) -> np.ndarray:
        """Costs of merging cluster ``i`` with each of ``others``, shape ``(len(others),)``."""
        if self.model == "EII":
            difference = self.mean[others] - self.mean[i]
            n_j = self.n[others]
            return (
                self.n[i] * n_j / (self.n[i] + n_j) * np.einsum("kd,kd->k", difference, difference)
            )
        term, _ = self._vvv_terms(i, others)
        return term - self.term[i] - self.term[others]

    def run(self) -> tuple[np.ndarray, np.ndarray]:
        """Merge down to one cluster.

        Returns
        -------
        merges : ndarray of shape (m - 1, 2)
        costs : ndarray of shape (m - 1,)
        """
        m = self.n.shape[0]
        merges = np.empty((max(m - 1, 0), 2), dtype=np.intp)
        costs = np.empty(max(m - 1, 0))
        if self.compiled:  # the same loop, compiled
            from mixture._hierarchical_compiled import merge_all

            vvv = self.model == "VVV"
            empty = np.zeros(0)
            merge_all(
                vvv, self.n, self.mean, self.distinct,
                self.scatter if vvv else np.zeros((0, 0, 0)), self.trace if vvv else empty,
                self.term if vvv else empty, self.cost, self.best, self.best_cost,
                float(self.alpha), float(self.beta), merges, costs,
            )  # fmt: skip
            return merges, costs
        active = np.ones(m, dtype=bool)
        for step in range(m - 1):
            # The smallest row index with the least cost, and its lowest cheapest partner:
            # the lexicographically smallest pair among exact ties.
            a = int(np.argmin(self.best_cost))
            b = int(self.best[a])
            i, j = min(a, b), max(a, b)
            merges[step] = i, j
            costs[step] = self.cost[i, j]
            self._merge(i, j)
            active[j] = False
            self.cost[j, :] = np.inf
            self.cost[:, j] = np.inf
            self.best_cost[j] = np.inf
            others = np.flatnonzero(active)
            others = others[others != i]
            if others.size == 0:
                break
            new = self._costs(i, others)
            self.cost[i, others] = new
            self.cost[others, i] = new
            self.best[i] = int(np.argmin(self.cost[i]))
            self.best_cost[i] = self.cost[i, self.best[i]]
            stale = (self.best[others] == i) | (self.best[others] == j)
            fresh = others[~stale]
            candidate = new[~stale]
            better = (candidate < self.best_cost[fresh]) | (
                (candidate == self.best_cost[fresh]) & (i < self.best[fresh])
            )
            self.best[fresh[better]] = i
            self.best_cost[fresh[better]] = candidate[better]
            rescan = others[stale]
            if rescan.size:
                rows = self.cost[rescan]
                self.best[rescan] = np.argmin(rows, axis=1)
                self.best_cost[rescan] = rows[np.arange(rescan.size), self.best[rescan]]
        return merges, costs

    def _merge(self, i: int, j: int) -> None:
        """Fold cluster ``j``'s statistics into cluster ``i``."""
        if self.model == "VVV":
            term, trace = self._vvv_terms(i, np.array([j]))
            difference = self.mean[j] - self.mean[i]
            factor = self.n[i] * self.n[j] / (self.n[i] + self.n[j])
            self.scatter[i] = self.scatter[i] + self.scatter[j]
            self.scatter[i] += factor * np.outer(difference, difference)
            self.trace[i], self.term[i] = trace[0], term[0]
        n_ij = self.n[i] + self.n[j]
        self.mean[i] = (self.n[i] * self.mean[i] + self.n[j] * self.mean[j]) / n_ij
        self.n[i] = n_ij
        self.distinct[i] += self.distinct[j]


def _tree_from_groups(
    X: np.ndarray,
    groups: RowGroups,
    *,
    model: str,
    transform: str | None,
    max_rows: int,
    alpha: float,
    beta: float,
) -> HierarchicalTree:
    """Build the tree on the distinct rows of positive weight (a subset if too many)."""
    positive = groups.weight > 0
    n_positive = int(positive.sum())
    if n_positive == 0:
        raise ValueError("hierarchical clustering needs at least one row of positive weight")
    if n_positive > max_rows:
        chosen = np.sort(groups.race(positive.astype(np.float64), _SUBSET_SEED, 0, max_rows))
    else:
        chosen = np.flatnonzero(positive)
    points = np.asarray(X[groups.first_row[chosen]], dtype=np.float64)
    weights = groups.weight[chosen].astype(np.float64)
    centre, rotation = _fit_transform(points, weights, transform)
    Z = points if rotation is None else (points - centre) @ rotation
    if Z.shape[1] == 0:  # cannot happen with two distinct rows; kept for safety
        Z, centre, rotation = points, np.zeros(points.shape[1]), None
    total = float(weights.sum())
    spread = weights @ ((Z - weights @ Z / total) ** 2).sum(axis=1)
    alpha_eff = max(alpha * float(spread) / (total * Z.shape[1]), np.finfo(float).eps)
    merges, costs = _Agglomeration(Z, weights, model, alpha_eff, beta).run()
    return HierarchicalTree(
        points=points,
        weights=weights,
        keys=groups.keys[chosen],
        merges=merges,
        costs=costs,
        model=model,
        transform=transform,
        centre=centre,
        rotation=rotation,
        alpha=alpha_eff,
        beta=beta,
        complete=n_positive <= max_rows,
    )


def _as_data(X: np.ndarray, sample_weight: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    if X.ndim != 2 or X.dtype.kind not in "fiu" or not np.isfinite(X).all():
        raise ValueError("X must be a finite 2-D numeric array")
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if (
            sample_weight.shape != (X.shape[0],)
            or not np.isfinite(sample_weight).all()
            or (sample_weight < 0).any()
        ):
            raise ValueError("sample_weight must be finite, non-negative, of shape (n_samples,)")
    return X, sample_weight


def hierarchical_tree(
    X: np.ndarray,
    sample_weight: np.ndarray | None = None,
    *,
    model: Model = "VVV",
    transform: Transform = "svd",
    max_rows: int = 2000,
    alpha: float = 1.0,
    beta: float = 1.0,
) -> HierarchicalTree:
    """Model-based agglomerative tree of the rows of ``X`` (mclust's ``hc``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    sample_weight : array-like of shape (n_samples,), optional
        A row of weight w counts as w identical rows in every cluster statistic.
    model : {"VVV", "EII"}, default "VVV"
        Unconstrained covariances (regularised as in mclust) or Ward's criterion.
    transform : {"svd", "sph", "std"} or None, default "svd"
        Coordinates of the tree (see the module docstring).
    max_rows : int, default 2000
        Most distinct rows in the tree; above, a content-keyed subset of this many.
    alpha, beta : float, default 1.0
        The VVV regularisation (mclust's ``hcVVV`` arguments).

    Returns
    -------
    HierarchicalTree
    """
    X, sample_weight = _as_data(X, sample_weight)
    return _tree_from_groups(
        X,
        RowGroups.of(X, sample_weight),
        model=_check_model(model),
        transform=_check_transform(transform),
        max_rows=check_int(max_rows, name="max_rows", minimum=1),
        alpha=_check_positive(alpha, "alpha"),
        beta=_check_positive(beta, "beta"),
    )


class Hierarchical(Initializer):
    """Start from a cut of mclust's model-based hierarchical tree (Fraley 1998).

    The tree is built once per data set (cached by content and settings), so model selection
    over K and repeated fits reuse it; see :mod:`mixture.hierarchical` for the algorithm.
    Returns a hard partition when every distinct row of positive weight is in the tree, else
    the responsibilities of the Gaussian mixture fitted to the subset's partition (one M-step,
    then an E-step on all rows, as mclust does for large data). Uses no randomness, so
    restarts (``n_init > 1``) are identical. Rows are weighted by ``sample_weight``.

    Parameters
    ----------
    model : {"VVV", "EII"}, default "VVV"
    transform : {"svd", "sph", "std"} or None, default "svd"
    max_rows : int, default 2000
    alpha, beta : float, default 1.0
    """

    def __init__(
        self,
        model: Model = "VVV",
        transform: Transform = "svd",
        max_rows: int = 2000,
        alpha: float = 1.0,
        beta: float = 1.0,
    ) -> None:
        self.model = _check_model(model)
        self.transform = _check_transform(transform)
        self.max_rows = check_int(max_rows, name="max_rows", minimum=1)
        self.alpha = _check_positive(alpha, "alpha")
        self.beta = _check_positive(beta, "beta")
        self._trees: OrderedDict[bytes, HierarchicalTree] = OrderedDict()

    def __repr__(self) -> str:
        return (
            f"Hierarchical(model={self.model!r}, transform={self.transform!r}, "
            f"max_rows={self.max_rows}, alpha={self.alpha}, beta={self.beta})"
        )

    def tree(self, X: np.ndarray, sample_weight: np.ndarray | None = None) -> HierarchicalTree:
        """The (cached) tree of ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        sample_weight : ndarray of shape (n_samples,), optional

        Returns
        -------
        HierarchicalTree
        """
        X, sample_weight = _as_data(X, sample_weight)
        return self._tree(X, RowGroups.of(X, sample_weight))

    def _tree(self, X: np.ndarray, groups: RowGroups) -> HierarchicalTree:
        digest = hashlib.blake2b(digest_size=32)
        settings = (self.model, self.transform, self.max_rows, self.alpha, self.beta)
        digest.update(repr((settings, X.shape[1], X.dtype.str)).encode())
        digest.update(groups.keys.tobytes())
        digest.update(groups.weight.astype(np.float64).tobytes())
        key = digest.digest()
        tree = self._trees.get(key)
        if tree is None:
            tree = _tree_from_groups(
                X,
                groups,
                model=self.model,
                transform=self.transform,
                max_rows=self.max_rows,
                alpha=self.alpha,
                beta=self.beta,
            )
            self._trees[key] = tree
            while len(self._trees) > _CACHE_SIZE:
                self._trees.popitem(last=False)
        else:
            self._trees.move_to_end(key)
        return tree

    def initialize(
        self,
        X: np.ndarray,
        n_components: int,
        *,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        groups = RowGroups.of(X, sample_weight)
        distinct = int((groups.weight > 0).sum())
        if distinct < n_components:
            seed = int(rng.integers(2**63 - 1))
            return shared_seed_responsibilities(X, groups, n_components, seed)
        tree = self._tree(X, groups)
        if tree.size < n_components:
            raise ValueError(
                f"Hierarchical(max_rows={self.max_rows}) builds a tree of {tree.size} rows; "
                f"it cannot start {n_components} components. Raise max_rows."
            )
        if not tree.complete:
            return tree.responsibilities(X, n_components).astype(X.dtype, copy=False)
        # Every distinct row of positive weight is a leaf (tree.keys is groups.keys without
        # the zero-weight groups, both ascending).
        position = np.searchsorted(tree.keys, groups.keys)
        position = np.minimum(position, tree.size - 1)
        in_tree = tree.keys[position] == groups.keys
        group_labels = tree.partition(n_components)[position]
        if not in_tree.all():  # zero-weight rows: their most probable cluster
            outside = np.flatnonzero(~in_tree)
            rows = X[groups.first_row[outside]]
            group_labels[outside] = tree.responsibilities(rows, n_components).argmax(axis=1)
        return group_labels[groups.group_of_row]
