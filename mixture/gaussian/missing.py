"""Gaussian densities and E-step statistics of rows with missing values (NaN).

Under missing at random the observed-data likelihood of a row marginalises its missing
coordinates: with observed coordinates ``O`` and missing ``M``, component ``k`` gives
``x_O ~ N(mu_O, Sigma_OO)``. EM then needs, for each component, the conditional law of the
missing coordinates given the observed ones (Ghahramani and Jordan 1994; Little and Rubin,
ch. 11). In terms of the precision matrix ``P = Sigma^-1``::

    E[x_M | x_O]    = mu_M - P_MM^-1 P_MO (x_O - mu_O)
    Cov[x_M | x_O]  = P_MM^-1
    Sigma_OO^-1     = P_OO - P_OM P_MM^-1 P_MO         (the Schur complement)
    log det Sigma_OO = log det Sigma + log det P_MM

so a row needs only the inverse of the small block ``P_MM`` of its missing coordinates.
Rows are grouped by their *number* of missing values ``m`` (not by pattern: with many
features nearly every row has its own pattern), and each group is one batched computation
over its rows and components: gathered ``(rows, K, m, m)`` blocks, one batched Cholesky
factorisation and solve. The M-step's statistics are those of the rows completed by their
conditional means, with the conditional covariance added to the scatter:
``sum_n r_nk [(x_hat - mu)(x_hat - mu)^T + C_nk]``.

With numba installed (:mod:`mixture._compiled`), the per-row part runs compiled instead
(:mod:`mixture.gaussian._missing_compiled`), in blocks of rows: one GEMM gives every row's
products with the precision matrices, the kernel corrects them for the row's missing
columns and solves its small system (factored once per run of rows sharing a pattern; a
block whose patterns repeat out of order is first grouped by pattern), and the scatter of
the completed rows is one GEMM per component. Both versions compute the same formulas;
they agree to round-off.
"""

from __future__ import annotations

import numpy as np

from mixture._compiled import use_compiled
from mixture._responsibilities import log_density_and_responsibilities, rows_from

__all__ = ["completed_rows", "observed_e_step", "observed_log_density", "observed_moments"]

_LOG_2PI = float(np.log(2.0 * np.pi))


class _Conditional:
    """The conditional laws of the missing values of rows with ``m`` missing each.

    Attributes
    ----------
    rows : ndarray of int, shape (r,)
    missing : ndarray of int, shape (r, m)
        The missing features of each row.
    centred : ndarray of shape (K, r, D)
        ``x_hat - mu_k``: observed values minus the mean, missing ones at their
        conditional mean minus the mean.
    quadratic : ndarray of shape (K, r)
        ``(x_O - mu_O)^T Sigma_OO^-1 (x_O - mu_O)``.
    log_det : ndarray of shape (K, r)
        ``log det Sigma_OO``.
    spread : ndarray of shape (K, r, m, m)
        ``Cov_k[x_M | x_O] = P_MM^-1``.
    """

    def __init__(
        self,
        X: np.ndarray,
        rows: np.ndarray,
        missing: np.ndarray,
        means: np.ndarray,
        precisions: np.ndarray,
        log_det: np.ndarray,
    ) -> None:
        n_components = means.shape[0]
        block = X[rows]  # (r, D)
        centred = np.where(np.isnan(block), 0.0, block)[None, :, :] - means[:, None, :]
        gap = np.isnan(block)
        centred[:, gap] = 0.0  # (K, r, D): missing coordinates at 0
        # P d0 with d0 the zero-filled centred row: its observed part gives d0^T P d0, its
        # missing part b = P_MO d_O.
        product = centred @ precisions  # P is symmetric: rows of P d0
        full_quadratic = np.einsum("krd,krd->kr", centred, product)
        self.rows, self.missing = rows, missing
        m = missing.shape[1]
        if m == 0:
            self.centred = centred
            self.quadratic = full_quadratic
            self.log_det = np.broadcast_to(log_det[:, None], full_quadratic.shape)
            self.spread = np.zeros((n_components, rows.shape[0], 0, 0))
            return
        take = missing[None, :, :]  # (1, r, m)
        b = np.take_along_axis(product, take, axis=2)  # (K, r, m)
        p_mm = precisions[:, missing[:, :, None], missing[:, None, :]]  # (K, r, m, m)
        lower = _small_cholesky(p_mm)
        z = _forward(lower, b)  # L^-1 b, so b^T P_MM^-1 b = |z|^2
        self.quadratic = full_quadratic - np.einsum("krm,krm->kr", z, z)
        # log det Sigma_OO = log det Sigma + log det P_MM.
        self.log_det = log_det[:, None] + 2.0 * np.log(np.diagonal(lower, axis1=2, axis2=3)).sum(
            axis=2
        )
        self._lower, self._z, self._take = lower, z, take
        self.centred = centred  # the missing coordinates are filled by complete()
        self.spread = None

    def complete(self) -> None:
        """Fill the missing coordinates of :attr:`centred` with their conditional means
        (minus the mean) and compute :attr:`spread`, for the M-step's statistics."""
        if self.missing.shape[1] == 0 or self.spread is not None:
            return
        shift = _backward(self._lower, self._z)  # P_MM^-1 b
        np.put_along_axis(self.centred, self._take, -shift, axis=2)
        self.spread = _inverse_from_cholesky(self._lower)


def _small_cholesky(matrices: np.ndarray) -> np.ndarray:
    """Lower Cholesky factors of many small symmetric positive definite matrices
    ``(..., m, m)``, written as ``O(m)`` numpy operations over the whole batch (LAPACK called
    per matrix costs a microsecond or two each, which for the hundreds of thousands of
    blocks of an E-step would dominate). Entries above the diagonal are left undefined."""
    m = matrices.shape[-1]
    lower = np.empty_like(matrices)
    for j in range(m):
        row = lower[..., j, :j]
        pivot = np.sqrt(matrices[..., j, j] - np.einsum("...k,...k->...", row, row))
        lower[..., j, j] = pivot
        if j + 1 < m:
            below = np.einsum("...ik,...k->...i", lower[..., j + 1 :, :j], row)
            lower[..., j + 1 :, j] = (matrices[..., j + 1 :, j] - below) / pivot[..., None]
    return lower


def _forward(lower: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """``L^-1 v`` for lower factors ``(..., m, m)`` and vectors ``(..., m)``."""
    out = np.empty_like(vectors)
    for i in range(lower.shape[-1]):
        done = np.einsum("...k,...k->...", lower[..., i, :i], out[..., :i])
        out[..., i] = (vectors[..., i] - done) / lower[..., i, i]
    return out


def _backward(lower: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """``L^-T v`` for lower factors ``(..., m, m)`` and vectors ``(..., m)``."""
    m = lower.shape[-1]
    out = np.empty_like(vectors)
    for i in range(m - 1, -1, -1):
        done = np.einsum("...k,...k->...", lower[..., i + 1 :, i], out[..., i + 1 :])
        out[..., i] = (vectors[..., i] - done) / lower[..., i, i]
    return out


def _inverse_from_cholesky(lower: np.ndarray) -> np.ndarray:
    """``(L L^T)^-1 = L^-T L^-1`` from lower factors ``(..., m, m)``: ``L^-1`` by forward
    substitution one row at a time (``O(m)`` operations over the batch), then one product."""
    m = lower.shape[-1]
    inverse_lower = np.zeros_like(lower)
    for i in range(m):
        # Row i of L^-1: (e_i - L[i, :i] L^-1[:i, :]) / L[i, i].
        done = (lower[..., i, None, :i] @ inverse_lower[..., :i, :])[..., 0, :]
        inverse_lower[..., i, :] = -done
        inverse_lower[..., i, i] += 1.0
        inverse_lower[..., i, :] /= lower[..., i, i, None]
    return np.swapaxes(inverse_lower, -1, -2) @ inverse_lower


def _groups(X: np.ndarray):
    """Rows by their number of missing values: ``(rows, missing (r, m))`` per ``m``."""
    gaps = np.isnan(X)
    counts = gaps.sum(axis=1)
    for m in np.unique(counts):
        rows = np.flatnonzero(counts == m)
        if m == X.shape[1]:
            continue  # no observed value: nothing to compute (callers leave these out)
        # Each row's missing feature indices, in increasing order: sorting ~gaps stably puts
        # the missing columns (False in ~gaps) first.
        order = np.argsort(~gaps[rows], axis=1, kind="stable")
        yield rows, order[:, : int(m)]


def _precisions(covariances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``P = Sigma^-1`` ``(K, D, D)`` and ``log det Sigma`` ``(K,)``."""
    lower = np.linalg.cholesky(covariances)
    inverse_lower = np.linalg.inv(lower)
    precisions = inverse_lower.transpose(0, 2, 1) @ inverse_lower
    log_det = 2.0 * np.log(np.diagonal(lower, axis1=1, axis2=2)).sum(axis=1)
    return precisions, log_det


def _conditionals(X: np.ndarray, means: np.ndarray, covariances: np.ndarray):
    precisions, log_det = _precisions(covariances)
    for rows, missing in _groups(X):
        yield _Conditional(X, rows, missing, means, precisions, log_det)


#: Rows per block of the compiled path: its completed rows ``(K, rows, D)`` stay small.
_COMPILED_BLOCK_ROWS = 2048
#: Rows of a block whose patterns are counted first: grouping pays when they repeat.
_PATTERN_PROBE_ROWS = 256


def _pattern_codes(gaps: np.ndarray) -> np.ndarray:
    """Each row's pattern of missing values (at most 64 features) as a 64-bit code."""
    packed = np.zeros((gaps.shape[0], 8), dtype=np.uint8)
    packed[:, : (gaps.shape[1] + 7) // 8] = np.packbits(gaps, axis=1)
    return packed.view(np.uint64)[:, 0]


def _pattern_order(gaps: np.ndarray) -> np.ndarray | None:
    """The block's rows ordered by their pattern of missing values (stable), when patterns
    repeat: at most a quarter as many distinct patterns as rows among the first
    ``_PATTERN_PROBE_ROWS`` rows, and among all of them. None otherwise: values missing at
    random in many features (nearly every row has its own pattern), rows already in runs
    of a pattern, or more than 64 features (patterns are compared as 64-bit codes)."""
    n_rows, n_features = gaps.shape
    if n_features > 64 or n_rows < 16:
        return None
    probe = _pattern_codes(gaps[:_PATTERN_PROBE_ROWS])
    if 4 * np.unique(probe).size > probe.size:
        return None
    codes = _pattern_codes(gaps)
    if 4 * (1 + np.count_nonzero(codes[1:] != codes[:-1])) <= n_rows:
        return None  # already in runs: the kernel factors each run once as it is
    order = np.argsort(codes, kind="stable")
    if 4 * (1 + np.count_nonzero(np.diff(codes[order]))) > n_rows:
        return None
    return order


class _CompiledEStep:
    """The compiled path (:func:`mixture.gaussian._missing_compiled.e_step_block`), block by
    block of rows, adding each block's statistics to a :class:`_Moments`."""

    def __init__(self, means: np.ndarray, covariances: np.ndarray, log_weights: np.ndarray):
        from mixture.gaussian import _missing_compiled

        self.kernel = _missing_compiled.e_step_block
        precisions, log_det = _precisions(covariances)
        n_components, n_features = means.shape
        self.means = np.ascontiguousarray(means, dtype=np.float64)
        self.precisions = np.ascontiguousarray(precisions)
        self.precisions_by_cell = np.ascontiguousarray(precisions.transpose(1, 2, 0))
        self.log_det = log_det
        self.log_weights = np.ascontiguousarray(log_weights, dtype=np.float64)
        # [P_1 ... P_K] side by side: X0 @ stacked gives every P_k x0 (P_k is symmetric).
        self.stacked = np.ascontiguousarray(
            precisions.transpose(1, 0, 2).reshape(n_features, n_components * n_features)
        )
        self.precision_means = np.einsum("kij,kj->ki", precisions, self.means)
        self.moments = _Moments(self.means)
        self.spread = np.zeros((n_features, n_features, n_components))

    def run(
        self,
        X: np.ndarray,
        sample_weight: np.ndarray | None = None,
        weights: np.ndarray | None = None,
        log_density: np.ndarray | None = None,
        joint_out: np.ndarray | None = None,
    ) -> None:
        """One pass over ``X``: with ``weights`` ``(n, K)`` given, the statistics under
        them; otherwise responsibilities from the log-joints (times ``sample_weight``) and
        ``log p(x_O)`` written to ``log_density``. ``joint_out`` ``(n, K)`` receives the
        log-joints."""
        for start in range(0, X.shape[0], _COMPILED_BLOCK_ROWS):
            rows = slice(start, min(start + _COMPILED_BLOCK_ROWS, X.shape[0]))
            block = np.asarray(X[rows], dtype=np.float64)
            gaps = np.isnan(block)
            order = _pattern_order(gaps)
            if order is not None:  # rows sharing a pattern made consecutive: factored once
                block, gaps = block[order], gaps[order]
            positions = np.arange(block.shape[0]) if order is None else order
            self._block(
                start, block, gaps, positions, sample_weight, weights, log_density, joint_out
            )

    def _block(
        self,
        start: int,
        block: np.ndarray,
        gaps: np.ndarray,
        positions: np.ndarray,
        sample_weight: np.ndarray | None,
        weights: np.ndarray | None,
        log_density: np.ndarray | None,
        joint_out: np.ndarray | None,
    ) -> None:
        """One block: ``block[i]`` is row ``start + positions[i]`` of the caller's rows."""
        n_components = self.means.shape[0]
        given = weights is not None
        where = positions + start
        filled = np.where(gaps, 0.0, block)
        r = block.shape[0]
        joint = np.empty((r, n_components))
        resp = (
            np.ascontiguousarray(weights[where], dtype=np.float64)
            if given
            else np.empty((r, n_components))
        )
        density = np.empty(r)
        scaled = np.empty((n_components, *block.shape))
        row_weights = (
            np.empty(0)
            if sample_weight is None
            else np.ascontiguousarray(sample_weight[where], dtype=np.float64)
        )
        bad = self.kernel(
            filled, gaps, filled @ self.stacked, self.precisions, self.precisions_by_cell,
            self.means, self.precision_means, self.log_det, self.log_weights, row_weights,
            given, joint, resp, density, scaled, self.moments.offsets, self.spread,
        )  # fmt: skip
        if bad >= 0:  # the numpy log-sum-exp names the problem with this row
            with rows_from(where):
                log_density_and_responsibilities(joint[: bad + 1].copy())
            raise AssertionError(f"row {int(where[bad])}: no finite log-joint maximum")
        if joint_out is not None:
            joint_out[where] = joint
        if log_density is not None and not given:
            log_density[where] = density
        self.moments.weight += resp.sum(axis=0)
        self.moments.second += scaled.transpose(0, 2, 1) @ scaled

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(weight, mean, scatter)`` of all rows passed, as :meth:`_Moments.result`."""
        spread = self.spread.transpose(2, 0, 1)  # (K, D, D), lower triangle
        diagonal = np.einsum("kii->ki", spread).copy()
        self.moments.second += spread + spread.transpose(0, 2, 1)
        second_diagonal = np.einsum("kii->ki", self.moments.second)
        second_diagonal -= diagonal
        return self.moments.result()


def observed_log_density(X: np.ndarray, means: np.ndarray, covariances: np.ndarray) -> np.ndarray:
    """``log N(x_O; mu_kO, Sigma_kOO)`` of each row's observed values under each component.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        NaN marks a missing value; every row has at least one observed value.
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray of shape (n_components, n_features, n_features)
        Dense covariance matrices.

    Returns
    -------
    ndarray of shape (n_samples, n_components), float64
    """
    if use_compiled():  # whatever the size: the same kernel for every chunk
        out = np.empty((X.shape[0], means.shape[0]))
        compiled = _CompiledEStep(means, covariances, np.zeros(means.shape[0]))
        compiled.run(X, weights=np.zeros_like(out), joint_out=out)
        return out
    out = np.zeros((X.shape[0], means.shape[0]))
    n_features = X.shape[1]
    for group in _conditionals(X, means, covariances):
        n_observed = n_features - group.missing.shape[1]
        log_density = -0.5 * (group.quadratic + group.log_det + n_observed * _LOG_2PI)
        out[group.rows] = log_density.T
    return out


class _Moments:
    """Running sums of an E-step's statistics of completed rows, about the components'
    current means."""

    def __init__(self, means: np.ndarray) -> None:
        n_components, n_features = means.shape
        self.means = means
        self.weight = np.zeros(n_components)
        self.offsets = np.zeros((n_components, n_features))  # sum r (x_hat - mu)
        self.second = np.zeros((n_components, n_features, n_features))  # about mu, plus C

    def add(self, group: _Conditional, r: np.ndarray) -> None:
        """Add a group's rows with responsibilities (times row weights) ``r`` ``(K, rows)``."""
        group.complete()
        n_components, n_features = self.means.shape
        self.weight += r.sum(axis=1)
        weighted = group.centred * r[:, :, None]
        self.offsets += weighted.sum(axis=1)
        self.second += weighted.transpose(0, 2, 1) @ group.centred
        if group.missing.shape[1]:
            # sum_n r_nk C_nk at each row's own (i, j) positions: one weighted bincount.
            i = group.missing[:, :, None]
            j = group.missing[:, None, :]
            cells = (i * n_features + j)[None, :, :, :] + (
                np.arange(n_components) * n_features * n_features
            )[:, None, None, None]
            values = r[:, :, None, None] * group.spread
            flat = self.second.reshape(-1)
            flat += np.bincount(cells.reshape(-1), values.reshape(-1), minlength=flat.size)

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        weight = self.weight
        shift = np.divide(
            self.offsets, weight[:, None], out=np.zeros_like(self.offsets),
            where=weight[:, None] > 0,
        )  # fmt: skip
        scatter = self.second - weight[:, None, None] * shift[:, :, None] * shift[:, None, :]
        return weight, self.means + shift, scatter


def observed_moments(
    X: np.ndarray, weights: np.ndarray, means: np.ndarray, covariances: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weight, weighted mean and full centred scatter of the completed rows.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        NaN marks a missing value.
    weights : ndarray of shape (n_samples, n_components)
        Responsibilities times row weights.
    means, covariances : the components' current parameters (dense covariances
        ``(K, D, D)``), which define the conditional laws of the missing values.

    Returns
    -------
    weight : ndarray of shape (n_components,)
    mean : ndarray of shape (n_components, n_features)
        ``sum_n r_nk x_hat_nk / N_k`` (the current mean where ``N_k`` is 0).
    scatter : ndarray of shape (n_components, n_features, n_features)
        ``sum_n r_nk [(x_hat_nk - mean_k)(x_hat_nk - mean_k)^T + C_nk]``.
    """
    moments = _Moments(means)
    if use_compiled():  # whatever the size: the same kernel for every chunk
        compiled = _CompiledEStep(means, covariances, np.zeros(means.shape[0]))
        compiled.run(X, weights=weights)
        return compiled.result()
    for group in _conditionals(X, means, covariances):
        moments.add(group, weights[group.rows].T)
    return moments.result()


def observed_e_step(
    X: np.ndarray,
    log_weights: np.ndarray,
    sample_weight: np.ndarray | None,
    means: np.ndarray,
    covariances: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The E-step of rows with missing values in one pass: each group's conditional laws
    give the observed-value densities, the responsibilities and the statistics.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        NaN marks a missing value; every row has an observed value.
    log_weights : ndarray of shape (n_components,)
    sample_weight : ndarray of shape (n_samples,) or None
    means, covariances : the components' parameters (dense covariances ``(K, D, D)``).

    Returns
    -------
    weight, mean, scatter
        As :func:`observed_moments` (weights include ``sample_weight``).
    log_density : ndarray of shape (n_samples,)
        ``log p(x_O)`` of each row under the mixture.
    """
    n_features = X.shape[1]
    moments = _Moments(means)
    log_density = np.empty(X.shape[0])
    if use_compiled():  # whatever the size: the same kernel for every chunk
        compiled = _CompiledEStep(means, covariances, log_weights)
        compiled.run(X, sample_weight=sample_weight, log_density=log_density)
        weight, mean, scatter = compiled.result()
        return weight, mean, scatter, log_density
    for group in _conditionals(X, means, covariances):
        n_observed = n_features - group.missing.shape[1]
        joint = (-0.5 * (group.quadratic + group.log_det + n_observed * _LOG_2PI)).T
        joint += log_weights
        with rows_from(group.rows):  # the group's rows are scattered over X
            log_density[group.rows] = log_density_and_responsibilities(joint)
        if sample_weight is not None:
            joint *= sample_weight[group.rows, None]
        moments.add(group, joint.T)
    weight, mean, scatter = moments.result()
    return weight, mean, scatter, log_density


def completed_rows(
    X: np.ndarray, means: np.ndarray, covariances: np.ndarray
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Each row completed under each component, and the conditional covariances.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        NaN marks a missing value.
    means, covariances : the components' parameters (dense covariances ``(K, D, D)``).

    Returns
    -------
    completed : ndarray of shape (n_components, n_samples, n_features)
        Observed values kept, missing ones replaced by ``E_k[x_M | x_O]``.
    spreads : list of (rows, missing, covariance)
        Per number of missing values ``m > 0``: its rows, each row's missing features
        ``(r, m)`` and ``Cov_k[x_M | x_O]`` of shape ``(K, r, m, m)``.
    """
    completed = np.broadcast_to(X, (means.shape[0], *X.shape)).copy()
    spreads = []
    for group in _conditionals(X, means, covariances):
        group.complete()
        observed = X[group.rows]
        estimate = group.centred + means[:, None, :]
        completed[:, group.rows] = np.where(np.isnan(observed), estimate, observed)
        if group.missing.shape[1]:
            spreads.append((group.rows, group.missing, group.spread))
    return completed, spreads
