"""mclust's other ten parsimonious Gaussian models (Banfield & Raftery 1993; Celeux & Govaert
1995).

Each covariance is decomposed as ``Sigma_k = lambda_k D_k A_k D_k^T``: a volume ``lambda_k``
(a positive number), a shape ``A_k`` (diagonal, ``det A_k = 1``) and an orientation ``D_k``
(orthogonal). A three-letter name says which of the three is Equal across components,
Variable, or the Identity (axis-aligned orientation, or a spherical shape). scikit-learn's
four structures are VVV (full), EEE (tied), VVI (diag) and VII (spherical); this module
holds the other ten, each stored in one of the four forms of :mod:`mixture.gaussian.forms`.

M-steps, with ``W_k`` the centred scatter of component k, ``n_k`` its weight, ``n`` the
total weight, ``p`` the number of features, ``gm(v)`` the geometric mean of a vector and
``eig(W_k) = V_k diag(omega_k) V_k^T`` with eigenvalues in decreasing order:

====  ==========  ============================================================  =========
name  form        M-step                                                        iterative
====  ==========  ============================================================  =========
EII   spherical   ``sigma^2 = tr(sum_k W_k) / (n p)``                           no
EEI   diagonal    ``Sigma = diag(sum_k W_k) / n``                               no
VEI   diagonal    ``lambda_k = tr(W_k A^-1) / (p n_k)``, ``A ~ sum_k diag W_k /   yes
                  lambda_k`` (normalised to ``det A = 1``), alternated
EVI   diagonal    ``B_k = diag W_k``, ``lambda = sum_k gm(B_k) / n``,           no
                  ``A_k = B_k / gm(B_k)``
VEE   full        ``lambda_k = tr(W_k C^-1) / (p n_k)``, ``C ~ sum_k W_k /       yes
                  lambda_k`` (``det C = 1``), alternated
EVE   full        common orientation ``D`` by majorisation-minimisation          yes
                  (Browne & McNicholas 2014), ``A_k ~ diag(D^T W_k D)``
VVE   full        as EVE with volumes ``lambda_k A_k = diag(D^T W_k D) / n_k``   yes
EEV   full        ``Sigma_k = V_k diag(sum_j omega_j) V_k^T / n``                  no
VEV   full        ``Sigma_k = lambda_k V_k A V_k^T``, ``lambda_k`` and ``A``       yes
                  alternated as for VEI on the eigenvalues ``omega_k``
EVV   full        ``Sigma_k = W_k / det(W_k)^(1/p) * sum_j det(W_j)^(1/p) / n``    no
====  ==========  ============================================================  =========

An iterative M-step stops when the relative change of its objective (or of its
parameters, VEI and VEV) falls to ``tol``, or after ``max_iter`` passes (with a
:class:`~mixture.exceptions.ConvergenceWarning`). ``reg_covar`` enters as a ridge: each
component's scatter gets ``n_k reg_covar I`` before the estimate, so the constraint holds
exactly and no M-step sees a singular scatter. For EII and EEI (as for scikit-learn's four)
this is the same as adding ``reg_covar`` to the estimate's diagonal.

VVE differs from mclust 6.0 on purpose: mclust's VVE M-step runs the EVE iteration (it
leaves the volumes out of the orientation update), which does not maximise the VVE
likelihood; here the orientation update weighs each component by ``1 / lambda_k``, so the
M-step maximises it (locally, as for EVE: the problem in ``D`` is not convex; see
:func:`_orientation_by_majorisation` for the starts). benchmarks/models14_reference/README.md
measures the difference.

A component with no weight takes no part in an M-step; the family keeps its previous
covariance (for EII and EEI, whose covariances share every parameter, it gets the shared
one).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from mixture._validation import check_int
from mixture.exceptions import ConvergenceWarning, DegenerateComponentError
from mixture.gaussian.covariance import (
    CompiledLayout,
    CovarianceStructure,
    _check_prior_scale_scalar,
    _check_prior_scale_variances,
    _inverse_gamma_log_density,
    _prior_divisor,
    _scalar_prior_scale,
    add_to_diagonal,
)
from mixture.gaussian.forms import DiagonalForm, FullForm, SphericalForm

if TYPE_CHECKING:
    from mixture.gaussian.prior import ConjugatePrior

__all__ = [
    "EEICovariance",
    "EEVCovariance",
    "EIICovariance",
    "EVECovariance",
    "EVICovariance",
    "EVVCovariance",
    "VEECovariance",
    "VEICovariance",
    "VEVCovariance",
    "VVECovariance",
]


def _geometric_mean(values: np.ndarray) -> np.ndarray:
    """Geometric mean along the last axis."""
    return np.exp(np.log(values).mean(axis=-1))


def _active(weight: np.ndarray) -> np.ndarray:
    active = weight > 0
    if not active.any():
        raise DegenerateComponentError("no component received any weight")
    return active


def _fill(active: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Per-component estimates of the active components, in place in a K-long array (an
    empty component gets the first active one's value as a placeholder)."""
    out = np.empty((active.shape[0], *estimate.shape[1:]))
    out[active] = estimate
    out[~active] = estimate[0]
    return out


def _positive(values: np.ndarray, what: str) -> None:
    bad = np.argwhere(~(values > 0))
    if bad.size:
        raise DegenerateComponentError(
            f"{what} of component {int(bad[0, 0])} is not positive: the component has collapsed "
            "onto a lower-dimensional set of rows. Increase reg_covar, use fewer components, "
            "or remove duplicated rows and constant features"
        )


def _with_ridge(scatter: np.ndarray, weight: np.ndarray, reg_covar: float) -> np.ndarray:
    """Each component's scatter plus ``n_k reg_covar I`` (full ``(K, p, p)`` or diagonal
    ``(K, p)``): ``reg_covar`` enters a constrained model as a ridge on the data, before the
    estimate, so no M-step ever sees a singular scatter. For VVV, VVI, VII, EEE, EII and EEI
    this is the same as adding ``reg_covar`` to the estimate's diagonal."""
    ridge = weight * reg_covar
    if scatter.ndim == 3:
        return scatter + ridge[:, None, None] * np.eye(scatter.shape[1])
    return scatter + ridge[:, None]


def _decreasing_eigen(scatter: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues ``(K, p)`` in decreasing order and eigenvectors ``(K, p, p)`` (columns)."""
    values, vectors = np.linalg.eigh(scatter)
    return values[:, ::-1], vectors[:, :, ::-1]


def _relative_change(old: float | np.ndarray, new: float | np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(old) - new) / (1.0 + np.abs(new))))


class _Iterative(CovarianceStructure):
    """A structure whose M-step alternates between its parts until they settle."""

    #: Passes an M-step started from the current covariances runs at most. Each pass lowers
    #: the M-step's objective, so EM still never goes down; the majorisation of EVE and VVE
    #: can need thousands of passes from scratch at D = 13 (wine).
    warm_passes: int = 25

    def __init__(self, *, tol: float = 1e-10, max_iter: int = 1_000) -> None:
        tol = float(tol)
        if not 0.0 < tol < 1.0:
            raise ValueError(f"tol must be in (0, 1); got {tol!r}")
        self.tol = tol
        self.max_iter = check_int(max_iter, name="max_iter", minimum=1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(tol={self.tol!r}, max_iter={self.max_iter!r})"

    def _settings(self) -> tuple[float, int]:
        return (self.tol, self.max_iter)

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        return self._estimate(scatter, weight, reg_covar, n_features, None)

    def from_scatter_near(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        reg_covar: float,
        n_features: int,
        previous: np.ndarray,
    ) -> np.ndarray:
        """Within EM, the alternation starts from the current covariances: it converges to
        the same M-step (to ``tol``) in fewer passes."""
        return self._estimate(scatter, weight, reg_covar, n_features, previous)

    def _estimate(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        reg_covar: float,
        n_features: int,
        previous: np.ndarray | None,
    ) -> np.ndarray:
        """The M-step, its alternation started from ``previous`` when given."""
        raise NotImplementedError

    def _iterate(
        self, step: Callable[[], np.ndarray], objective: bool, warm: bool = False
    ) -> np.ndarray:
        """Call ``step`` (one pass) until the relative change of what it returns is at most
        ``tol``.

        ``objective``: ``step`` returns the M-step's objective, which every pass lowers; a
        rise means the passes have reached round-off, and the iteration stops there too.
        Otherwise ``step`` returns the parameters. ``warm``: the passes started from the
        current covariances within EM; at most :attr:`warm_passes` of them run (the
        alternation carries on in the next EM iteration, so EM's fixed point is the same),
        without a warning. Returns the last value.
        """
        limit = min(self.max_iter, self.warm_passes) if warm else self.max_iter
        previous = step()
        for _ in range(limit - 1):
            current = step()
            if _relative_change(previous, current) <= self.tol:
                return current
            if objective and current > previous:
                return previous
            previous = current
        if warm:
            return previous
        warnings.warn(
            f"the {self.mclust_name} M-step reached max_iter={self.max_iter} passes before "
            f"its relative change fell to tol={self.tol}; raise max_iter",
            ConvergenceWarning,
            stacklevel=4,
        )
        return previous


# -- diagonal and spherical models --------------------------------------------------------
class EIICovariance(CovarianceStructure):
    """One spherical covariance ``sigma^2 I`` shared by all components (mclust's EII)."""

    name = "EII"
    mclust_name = "EII"
    form = SphericalForm()
    compiled_layout = CompiledLayout(entries=0, pooled=True)

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return 1

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        variance = scatter.sum() / (weight.sum() * n_features)
        return np.full(weight.shape[0], variance + reg_covar)

    def keep_where(self, new: np.ndarray, old: np.ndarray, keep: np.ndarray) -> np.ndarray:
        return new

    def check_prior_scale(self, scale: np.ndarray, n_features: int) -> None:
        _check_prior_scale_scalar(scale, "EII")

    def from_scatter_with_prior(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        mean: np.ndarray,
        prior: ConjugatePrior,
        reg_covar: float,
        n_features: int,
    ) -> np.ndarray:
        """``s = (lambda + sum_k (tr W_k + c_k |d_k|^2)) / (nu + n D + 2 + K D [kappa > 0])``:
        the posterior mode under one inverse-gamma prior on the shared variance and the
        means' normal priors (VII's formula pooled over components)."""
        factor = prior.shrinkage_factor(weight)
        numerator = (
            prior.scale + scatter.sum() + self.form.merge_term(mean - prior.mean, factor).sum()
        )
        n_components = weight.shape[0]
        divisor = (
            prior.dof
            + weight.sum() * n_features
            + 2.0
            + n_components * n_features * prior.has_mean_prior
        )
        variance = numerator / _prior_divisor(np.atleast_1d(divisor), np.ones(1))[0]
        return np.full(n_components, variance + reg_covar)

    def log_prior_covariance(
        self, covariances: np.ndarray, precisions_cholesky: np.ndarray, prior: ConjugatePrior
    ) -> float:
        return _inverse_gamma_log_density(covariances[:1], prior)  # one shared variance

    def default_prior_scale(
        self, pooled_scatter: np.ndarray, total_weight: float, n_features: int
    ) -> np.ndarray:
        return _scalar_prior_scale(pooled_scatter, total_weight, n_features)


class EEICovariance(CovarianceStructure):
    """One diagonal covariance shared by all components (mclust's EEI)."""

    name = "EEI"
    mclust_name = "EEI"
    form = DiagonalForm()
    compiled_layout = CompiledLayout(entries=1, pooled=True)

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_features

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        variances = scatter.sum(axis=0) / weight.sum()
        return np.tile(variances + reg_covar, (weight.shape[0], 1))

    def keep_where(self, new: np.ndarray, old: np.ndarray, keep: np.ndarray) -> np.ndarray:
        return new

    def check_prior_scale(self, scale: np.ndarray, n_features: int) -> None:
        _check_prior_scale_variances(scale, n_features, "EEI")

    def from_scatter_with_prior(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        mean: np.ndarray,
        prior: ConjugatePrior,
        reg_covar: float,
        n_features: int,
    ) -> np.ndarray:
        """``s_j = (lambda_j + sum_k (W_kjj + c_k d_kj^2)) / (nu + n + 2 + K [kappa > 0])``:
        the posterior mode under an inverse-gamma prior on each shared variance and the
        means' normal priors (VVI's formula pooled over components)."""
        factor = prior.shrinkage_factor(weight)
        pooled = scatter + self.form.merge_term(mean - prior.mean, factor)
        numerator = prior.scale + pooled.sum(axis=0)
        n_components = weight.shape[0]
        divisor = prior.dof + weight.sum() + 2.0 + n_components * prior.has_mean_prior
        variances = numerator / _prior_divisor(np.atleast_1d(divisor), np.ones(1))[0]
        return np.tile(variances + reg_covar, (n_components, 1))

    def log_prior_covariance(
        self, covariances: np.ndarray, precisions_cholesky: np.ndarray, prior: ConjugatePrior
    ) -> float:
        return _inverse_gamma_log_density(covariances[0], prior)  # one set of D variances

    def default_prior_scale(
        self, pooled_scatter: np.ndarray, total_weight: float, n_features: int
    ) -> np.ndarray:
        return _scalar_prior_scale(pooled_scatter, total_weight, n_features)


class VEICovariance(_Iterative):
    """Diagonal covariances ``lambda_k A`` with a common shape (mclust's VEI).

    Parameters
    ----------
    tol : float, default 1e-10
        Relative change of the volumes and shape at which the M-step's alternation stops.
    max_iter : int, default 1000
    """

    name = "VEI"
    mclust_name = "VEI"
    form = DiagonalForm()

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_components + n_features - 1

    def _estimate(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        reg_covar: float,
        n_features: int,
        previous: np.ndarray | None,
    ) -> np.ndarray:
        active = _active(weight)
        scatter = _with_ridge(scatter, weight, reg_covar)
        diagonals, counts = scatter[active], weight[active]
        shape = np.ones(n_features)  # mclust's start
        if previous is not None:
            current = previous[active][0]
            shape = current / _geometric_mean(current)
        volumes = np.ones(counts.shape[0])

        def step() -> np.ndarray:
            nonlocal shape, volumes
            volumes = (diagonals / shape).sum(axis=1) / (n_features * counts)
            _positive(volumes[:, None], "the volume")
            shape = (diagonals / volumes[:, None]).sum(axis=0)
            shape /= _geometric_mean(shape)
            return np.concatenate([volumes, shape])

        self._iterate(step, objective=False, warm=previous is not None)
        return _fill(active, volumes[:, None] * shape)


class EVICovariance(CovarianceStructure):
    """Diagonal covariances ``lambda A_k`` with a common volume (mclust's EVI)."""

    name = "EVI"
    mclust_name = "EVI"
    form = DiagonalForm()

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return 1 + n_components * (n_features - 1)

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        active = _active(weight)
        scatter = _with_ridge(scatter, weight, reg_covar)
        diagonals = scatter[active]
        _positive(diagonals, "a variance")
        sizes = _geometric_mean(diagonals)
        volume = sizes.sum() / weight.sum()
        return _fill(active, volume * diagonals / sizes[:, None])


# -- ellipsoidal models -------------------------------------------------------------------
class VEECovariance(_Iterative):
    """Covariances ``lambda_k C`` with a common shape and orientation (mclust's VEE).

    Parameters
    ----------
    tol : float, default 1e-10
        Relative change of the M-step objective at which the alternation stops.
    max_iter : int, default 1000
    """

    name = "VEE"
    mclust_name = "VEE"
    form = FullForm()

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_components + (n_features - 1) + n_features * (n_features - 1) // 2

    def _estimate(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        reg_covar: float,
        n_features: int,
        previous: np.ndarray | None,
    ) -> np.ndarray:
        active = _active(weight)
        scatter = _with_ridge(scatter, weight, reg_covar)
        scatters, counts = scatter[active], weight[active]
        volumes = np.ones(counts.shape[0])  # mclust's start
        if previous is not None:
            volumes = np.exp(np.linalg.slogdet(previous[active])[1] / n_features)
        common = np.eye(n_features)
        total = counts.sum()

        def step() -> np.ndarray:
            nonlocal volumes, common
            common = np.einsum("k,kij->ij", 1.0 / volumes, scatters)
            sign, log_det = np.linalg.slogdet(common)
            if not sign > 0:
                raise DegenerateComponentError(
                    "the pooled scatter is singular: the components have collapsed onto a "
                    "lower-dimensional set of rows; increase reg_covar or remove constant "
                    "features"
                )
            common /= np.exp(log_det / n_features)
            inverse = np.linalg.inv(common)
            volumes = np.einsum("kij,ji->k", scatters, inverse) / (n_features * counts)
            _positive(volumes[:, None], "the volume")
            # -2 Q: sum_k n_k p log lambda_k + tr(W_k C^-1) / lambda_k, the trace p n_k.
            return np.array(n_features * (counts * np.log(volumes)).sum() + n_features * total)

        self._iterate(step, objective=True, warm=previous is not None)
        return add_to_diagonal(_fill(active, volumes[:, None, None] * common), 0.0)


def _orientation_by_majorisation(
    structure: _Iterative,
    scatters: np.ndarray,
    counts: np.ndarray,
    variable_volume: bool,
    previous: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Common orientation ``D`` and per-component ``diag(D^T W_k D)`` ``(K, p)`` minimising
    ``sum_k tr(W_k D M_k D^T)`` with ``M_k`` the inverse shape (EVE) or inverse volume times
    shape (VVE), by Browne & McNicholas's (2014) two majorisation-minimisation updates per
    pass.

    The problem is not convex, so three starts run and the lowest objective wins (the first
    among ties, up to a relative 1e-10): mclust's (``D = I`` with ``M_k = I``); ``D = I``
    with its optimal ``M_k`` (each pass lowers the objective, so the result is at least as
    good as the diagonal model's EVI or VVI); and the eigenvectors of the pooled scatter
    with their optimal ``M_k`` (at least as good as EEE). Within EM, ``previous`` (the
    current covariances, ``(K, p, p)``) gives one start instead, their common axes: the
    M-step is then at least as good as the current parameters, so EM's objective never
    decreases, and it takes a few passes rather than hundreds.
    """
    n_features = scatters.shape[1]
    # Only the largest eigenvalue is needed (the majorisation's bound). A singular scatter
    # is fine as long as no variance along the common axes vanishes (checked every pass:
    # there the likelihood is unbounded).
    largest = np.linalg.eigvalsh(scatters)[:, -1]
    _, pooled_axes = np.linalg.eigh(scatters.sum(axis=0))
    identity = np.eye(n_features)
    shifted = scatters - largest[:, None, None] * identity

    def diagonals_along(orientation: np.ndarray) -> np.ndarray:
        projected = np.einsum("ji,kjl,lm->kim", orientation, scatters, orientation)
        diagonals = np.diagonal(projected, axis1=1, axis2=2).copy()
        _positive(diagonals, "a variance along the common axes")
        return diagonals

    def objective_and_inverse(diagonals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if variable_volume:
            # -2 Q, as for VEE: sum_k n_k log det(diag(D^T W_k D) / n_k) + p n.
            log_det = (counts * np.log(diagonals / counts[:, None]).sum(axis=1)).sum()
            return np.array(log_det + n_features * counts.sum()), counts[:, None] / diagonals
        # EVE's -2 Q is increasing in p sum_k gm(diag(D^T W_k D)).
        sizes = _geometric_mean(diagonals)
        return np.array(n_features * sizes.sum()), sizes[:, None] / diagonals

    def run(orientation: np.ndarray, inverse: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        diagonals = diagonals_along(orientation)

        def step() -> np.ndarray:
            nonlocal orientation, inverse, diagonals
            # W_k <= omega_k I: majorise through W_k - omega_k I.
            gradient = np.einsum("ki,ji,kjl->il", inverse, orientation, shifted)
            left, _, right_t = np.linalg.svd(gradient)
            orientation = right_t.T @ left.T
            # M_k <= alpha_k I: majorise through M_k - alpha_k I.
            reduced = inverse - inverse.max(axis=1, keepdims=True)
            gradient = np.einsum("kij,jl,kl->il", scatters, orientation, reduced)
            left, _, right_t = np.linalg.svd(gradient)
            orientation = left @ right_t
            diagonals = diagonals_along(orientation)
            objective, inverse = objective_and_inverse(diagonals)
            return objective

        warm = previous is not None
        return float(structure._iterate(step, True, warm)), orientation, diagonals

    if previous is not None:
        axes = np.linalg.eigh(previous[0])[1]
        starts = [(axes, objective_and_inverse(diagonals_along(axes))[1])]
    else:
        starts = [(identity, np.ones((counts.shape[0], n_features)))]
        for axes in (identity, pooled_axes):
            starts.append((axes, objective_and_inverse(diagonals_along(axes))[1]))
    best = None
    for start in starts:
        objective, orientation, diagonals = run(*start)
        if best is None or objective < best[0] - 1e-10 * abs(best[0]):
            best = (objective, orientation, diagonals)
    return best[1], best[2]


class _CommonOrientation(_Iterative):
    """EVE and VVE: one orientation ``D`` for all components, found by majorisation; a
    subclass turns the variances along the common axes into its volumes and shapes."""

    form = FullForm()
    #: Whether each component has its own volume (VVE) or all share one (EVE).
    variable_volume: bool = False

    def _estimate(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        reg_covar: float,
        n_features: int,
        previous: np.ndarray | None,
    ) -> np.ndarray:
        active = _active(weight)
        scatter = _with_ridge(scatter, weight, reg_covar)
        counts = weight[active]
        orientation, diagonals = _orientation_by_majorisation(
            self, scatter[active], counts, self.variable_volume, previous=previous
        )
        variances = self._variances(diagonals, counts, weight.sum())
        covariances = np.einsum("ij,kj,lj->kil", orientation, variances, orientation)
        return add_to_diagonal(_fill(active, covariances), 0.0)

    def _variances(self, diagonals: np.ndarray, counts: np.ndarray, total: float) -> np.ndarray:
        """Variances along the common axes ``(K, p)`` from ``diag(D^T W_k D)``."""
        raise NotImplementedError


class EVECovariance(_CommonOrientation):
    """Covariances ``lambda D A_k D^T`` with a common volume and orientation (mclust's EVE).

    Parameters
    ----------
    tol : float, default 1e-10
        Relative change of the M-step objective at which the majorisation stops.
    max_iter : int, default 1000
    """

    name = "EVE"
    mclust_name = "EVE"

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return 1 + n_components * (n_features - 1) + n_features * (n_features - 1) // 2

    def _variances(self, diagonals: np.ndarray, counts: np.ndarray, total: float) -> np.ndarray:
        sizes = _geometric_mean(diagonals)
        return (sizes.sum() / total) * diagonals / sizes[:, None]


class VVECovariance(_CommonOrientation):
    """Covariances ``lambda_k D A_k D^T`` with a common orientation (mclust's VVE; see the
    module on how this M-step differs from mclust 6.0's).

    Parameters
    ----------
    tol : float, default 1e-10
        Relative change of the M-step objective at which the majorisation stops.
    max_iter : int, default 1000
    """

    name = "VVE"
    mclust_name = "VVE"
    variable_volume = True

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_components * n_features + n_features * (n_features - 1) // 2

    def _variances(self, diagonals: np.ndarray, counts: np.ndarray, total: float) -> np.ndarray:
        return diagonals / counts[:, None]


class EEVCovariance(CovarianceStructure):
    """Covariances ``lambda D_k A D_k^T`` with a common volume and shape (mclust's EEV)."""

    name = "EEV"
    mclust_name = "EEV"
    form = FullForm()

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_features + n_components * (n_features * (n_features - 1) // 2)

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        active = _active(weight)
        scatter = _with_ridge(scatter, weight, reg_covar)
        values, vectors = _decreasing_eigen(scatter[active])
        common = values.sum(axis=0) / weight.sum()
        _positive(common[None], "a pooled eigenvalue")
        covariances = np.einsum("kij,j,klj->kil", vectors, common, vectors)
        return add_to_diagonal(_fill(active, covariances), 0.0)


class VEVCovariance(_Iterative):
    """Covariances ``lambda_k D_k A D_k^T`` with a common shape (mclust's VEV).

    Parameters
    ----------
    tol : float, default 1e-10
        Relative change of the volumes and shape at which the alternation stops.
    max_iter : int, default 1000
    """

    name = "VEV"
    mclust_name = "VEV"
    form = FullForm()

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_components + (n_features - 1) + n_components * (n_features * (n_features - 1) // 2)

    def _estimate(
        self,
        scatter: np.ndarray,
        weight: np.ndarray,
        reg_covar: float,
        n_features: int,
        previous: np.ndarray | None,
    ) -> np.ndarray:
        active = _active(weight)
        scatter = _with_ridge(scatter, weight, reg_covar)
        counts = weight[active]
        values, vectors = _decreasing_eigen(scatter[active])
        pooled = values.sum(axis=0)
        _positive(pooled[None], "a pooled eigenvalue")
        shape = pooled / _geometric_mean(pooled)  # mclust's start
        if previous is not None:
            current = np.linalg.eigvalsh(previous[active][0])[::-1]
            shape = current / _geometric_mean(current)
        volumes = np.ones(counts.shape[0])

        def step() -> np.ndarray:
            nonlocal shape, volumes
            volumes = (values / shape).sum(axis=1) / (n_features * counts)
            _positive(volumes[:, None], "the volume")
            shape = (values / volumes[:, None]).sum(axis=0)
            shape /= _geometric_mean(shape)
            return np.concatenate([volumes, shape])

        self._iterate(step, objective=False, warm=previous is not None)
        scaled = volumes[:, None] * shape
        covariances = np.einsum("kij,kj,klj->kil", vectors, scaled, vectors)
        return add_to_diagonal(_fill(active, covariances), 0.0)


class EVVCovariance(CovarianceStructure):
    """Covariances ``lambda C_k`` with a common volume (mclust's EVV)."""

    name = "EVV"
    mclust_name = "EVV"
    form = FullForm()

    def n_parameters(self, n_components: int, n_features: int) -> int:
        return n_components * n_features * (n_features + 1) // 2 - (n_components - 1)

    def from_scatter(
        self, scatter: np.ndarray, weight: np.ndarray, reg_covar: float, n_features: int
    ) -> np.ndarray:
        active = _active(weight)
        scatter = _with_ridge(scatter, weight, reg_covar)
        scatters = scatter[active]
        sign, log_det = np.linalg.slogdet(scatters)
        _positive(sign[:, None], "the scatter determinant")
        sizes = np.exp(log_det / n_features)
        volume = sizes.sum() / weight.sum()
        covariances = scatters * (volume / sizes)[:, None, None]
        return add_to_diagonal(_fill(active, covariances), 0.0)
