"""The numerics of K Gaussians with stacked parameters: one GEMM per chunk, not K small ones.

:class:`StackedGaussians` holds the parameters, densities, statistics and M-step shared by
:class:`~mixture.gaussian.family.GaussianFamily` (K components for the engine) and the single
:class:`~mixture.gaussian.component.Gaussian` (K = 1), so neither depends on the other.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from scipy import linalg

from mixture._validation import check_int, check_nonnegative_float
from mixture.contract import Statistics
from mixture.degeneracy import Degeneracy, component_degeneracies
from mixture.exceptions import DegenerateComponentError, NotFittedError
from mixture.gaussian.covariance import CovarianceStructure, FullCovariance
from mixture.gaussian.kernels import LogDensityKernel
from mixture.gaussian.missing import (
    completed_rows,
    observed_e_step,
    observed_log_density,
    observed_moments,
)
from mixture.gaussian.prior import ConjugatePrior, DefaultPrior
from mixture.gaussian.statistics import GaussianStatistics

__all__ = ["FUSED_FLOAT32_MAX_FEATURES", "StackedGaussians"]

#: float32 rows of at most this many features take the float64 fused E-step where the
#: float32 kernel has none: measured (benchmarks/compare_sklearn.py), the float32 two-pass
#: path is about 12% slower at D = 8 and 16, 25% slower at D = 32 and 18% faster at D = 64.
FUSED_FLOAT32_MAX_FEATURES = 32

_RESOLUTION_FACTOR = 16 * float(np.finfo(np.float64).eps)


def _check_finite(covariances: np.ndarray) -> None:
    if not np.isfinite(covariances).all():
        raise DegenerateComponentError(
            "a component's covariance overflowed to infinity: the data's values are too large "
            "to square in floating point; rescale the data"
        )


def _check_resolvable(
    means: np.ndarray,
    covariances: np.ndarray,
    structure: CovarianceStructure,
    precisions_cholesky: np.ndarray | None,
) -> None:
    """Raise if a covariance shrank below the floating-point resolution of its mean (a
    component collapsed onto a point, where densities become meaningless).

    The precision factors (when given) bound every smallest variance from below for free;
    only where the bound is not clear of the resolution is the exact value computed.
    """
    form = structure.form
    n_components = means.shape[0]
    resolution = np.abs(means).max(axis=1)
    resolution *= _RESOLUTION_FACTOR
    resolution **= 2
    if (
        precisions_cholesky is not None
        and (form.smallest_variance_bound(precisions_cholesky, n_components) > resolution).all()
    ):
        return
    smallest = form.smallest_variances(covariances, n_components)
    collapsed = np.flatnonzero(smallest <= resolution)
    if collapsed.size:
        k = int(collapsed[0])
        raise DegenerateComponentError(
            f"component {k} collapsed: its smallest variance ({smallest[k]:.3g}) is below the "
            "floating-point resolution of its mean. Increase reg_covar, use fewer components, "
            "or remove duplicated rows and constant features"
        )


def _component_indices(values: Any, n_components: int, name: str) -> tuple[int, ...]:
    """Sorted distinct component indices in ``0 .. n_components - 1``, checked."""
    try:
        indices = sorted({int(operator.index(value)) for value in values})
    except TypeError:
        raise ValueError(f"{name} must be component indices (integers); got {values!r}") from None
    bad = [index for index in indices if not 0 <= index < n_components]
    if bad:
        raise ValueError(
            f"{name} must be component indices in 0 .. {n_components - 1}; got {bad[0]}"
        )
    return tuple(indices)


class StackedGaussians:
    """K Gaussians sharing a covariance structure: the parameters and numerics of
    :class:`~mixture.gaussian.family.GaussianFamily` (see it for the parameters)."""

    def __init__(
        self,
        n_components: int,
        structure: CovarianceStructure | None = None,
        *,
        reg_covar: float = 1e-6,
        means: Any = None,
        covariances: Any = None,
        prior: ConjugatePrior | DefaultPrior | None = None,
        frozen_means: Any = (),
        frozen_covariances: Any = (),
    ) -> None:
        self._n_components = check_int(n_components, name="n_components", minimum=1)
        structure = FullCovariance() if structure is None else structure
        if not isinstance(structure, CovarianceStructure):
            raise ValueError(
                "structure must be a CovarianceStructure such as FullCovariance(); "
                f"got {structure!r}"
            )
        self._structure = structure
        self._reg_covar = check_nonnegative_float(reg_covar, name="reg_covar")
        if prior is not None and not isinstance(prior, (ConjugatePrior, DefaultPrior)):
            raise ValueError(
                f"prior must be a ConjugatePrior, a DefaultPrior or None; got {prior!r}"
            )
        if prior is not None and not structure.supports_prior:
            raise ValueError(
                f"{structure!r} has no conjugate prior; prior= works with the structures that "
                "have a MAP M-step (full, tied, diag, spherical, EII and EEI)"
            )
        self._prior = prior
        self._frozen_means = _component_indices(frozen_means, self._n_components, "frozen_means")
        self._frozen_covariances = _component_indices(
            frozen_covariances, self._n_components, "frozen_covariances"
        )
        if self._frozen_covariances and not structure.independent_components:
            if len(self._frozen_covariances) != self._n_components:
                raise ValueError(
                    f"{structure!r} shares parts of its covariances between components: "
                    "freeze all of them (frozen_covariances=range(n_components)) or none"
                )
        if prior is not None and (self._frozen_means or self._frozen_covariances):
            raise ValueError(
                "frozen parameters with a prior are not supported: the MAP M-step would "
                "need the prior's mode given the frozen values"
            )
        if (means is None) != (covariances is None):
            raise ValueError("give both means and covariances, or neither (unfitted template)")
        if means is None and (self._frozen_means or self._frozen_covariances):
            raise ValueError(
                "frozen_means and frozen_covariances keep given values: give means and "
                "covariances too"
            )
        self._means: np.ndarray | None = None
        if means is not None:
            means, covariances = self._checked_parameters(means, covariances)
            self._set_parameters(means, covariances)

    # -- construction -----------------------------------------------------------------------
    def _checked_parameters(self, means: Any, covariances: Any) -> tuple[np.ndarray, np.ndarray]:
        means = np.array(means, dtype=np.float64)
        if means.ndim != 2 or means.shape[0] != self._n_components or means.shape[1] == 0:
            raise ValueError(
                f"means must have shape (n_components={self._n_components}, n_features); "
                f"got {means.shape}"
            )
        if not np.isfinite(means).all():
            raise ValueError("means contain NaN or infinity")
        covariances = np.array(covariances, dtype=np.float64)
        expected = self._structure.form.shape(self._n_components, means.shape[1])
        if covariances.shape != expected:
            raise ValueError(
                f"covariances for {self._structure!r} with {self._n_components} components and "
                f"{means.shape[1]} features must have shape {expected}; got {covariances.shape}"
            )
        if not np.isfinite(covariances).all():
            raise ValueError("covariances contain NaN or infinity")
        self._structure.form.check(covariances)
        if isinstance(self._prior, ConjugatePrior):
            self._prior.check_for(self._structure, means.shape[1])
        return means, covariances

    def _set_parameters(self, means: np.ndarray, covariances: np.ndarray) -> None:
        self._means = means
        self._covariances = covariances
        self._precisions_cholesky = self._structure.form.precisions_cholesky(covariances)
        n_features = means.shape[1]
        self._half_log_det = self._structure.form.half_log_det(
            self._precisions_cholesky, n_features
        )
        # Densities are computed on rows shifted by this point, so that the data's offset
        # from the origin never enters a subtraction of large numbers.
        self._reference = means.sum(axis=0) / means.shape[0]  # the mean, without np.mean's overhead

    def _with_parameters(
        self, means: np.ndarray, covariances: np.ndarray, prior: Any = None
    ) -> StackedGaussians:
        # This family's settings were checked when it was made: the copy skips the checks
        # (they cost a tenth of an EM iteration on a few hundred rows).
        fitted = object.__new__(type(self))
        fitted._n_components = self._n_components
        fitted._structure = self._structure
        fitted._reg_covar = self._reg_covar
        fitted._prior = self._prior if prior is None else prior
        fitted._frozen_means = self._frozen_means
        fitted._frozen_covariances = self._frozen_covariances
        fitted._set_parameters(means, covariances)
        return fitted

    def with_parameters_from(self, other: Any) -> StackedGaussians:
        """``other``'s means and covariances with this family's structure, reg_covar and
        prior."""
        if not isinstance(other, StackedGaussians) or other.structure != self._structure:
            raise ValueError(
                f"cannot start a GaussianFamily with {self._structure!r} from {other!r}; "
                "the covariance structures must match"
            )
        if other.n_components != self._n_components:
            raise ValueError(
                f"cannot start a GaussianFamily with {self._n_components} components from one "
                f"with {other.n_components}"
            )
        other._fitted()
        if isinstance(self._prior, ConjugatePrior):
            self._prior.check_for(self._structure, other._means.shape[1])
        means, covariances = other._means, other._covariances
        if self.is_fitted and self._frozen_means:  # frozen values stay as given
            frozen = list(self._frozen_means)
            means = means.copy()
            means[frozen] = self._means[frozen]
        if self.is_fitted and self._frozen_covariances:
            kept = np.zeros(self._n_components, dtype=bool)
            kept[list(self._frozen_covariances)] = True
            covariances = (
                self._covariances
                if kept.all()
                else self._structure.keep_where(covariances, self._covariances, kept)
            )
        return self._with_parameters(means, covariances)

    def __repr__(self) -> str:
        state = f"n_features={self.n_features}" if self.is_fitted else "unfitted"
        prior = "" if self._prior is None else f"prior={self._prior!r}, "
        frozen = "".join(
            f"{name}={list(indices)}, "
            for name, indices in (
                ("frozen_means", self._frozen_means),
                ("frozen_covariances", self._frozen_covariances),
            )
            if indices
        )
        return (
            f"{type(self).__name__}(n_components={self._n_components}, "
            f"structure={self._structure!r}, "
            f"reg_covar={self._reg_covar}, {prior}{frozen}{state})"
        )

    # -- properties -------------------------------------------------------------------------
    @property
    def n_components(self) -> int:
        return self._n_components

    @property
    def is_fitted(self) -> bool:
        """Whether the family has parameters (and so densities)."""
        return self._means is not None

    @property
    def n_features(self) -> int | None:
        return None if self._means is None else self._means.shape[1]

    @property
    def structure(self) -> CovarianceStructure:
        return self._structure

    @property
    def reg_covar(self) -> float:
        return self._reg_covar

    @property
    def prior(self) -> ConjugatePrior | DefaultPrior | None:
        return self._prior

    @property
    def frozen_means(self) -> tuple[int, ...]:
        """Components whose mean the M-step keeps."""
        return self._frozen_means

    @property
    def frozen_covariances(self) -> tuple[int, ...]:
        """Components whose covariance the M-step keeps."""
        return self._frozen_covariances

    @property
    def has_frozen_parameters(self) -> bool:
        """Whether the M-step keeps some parameters as given."""
        return bool(self._frozen_means or self._frozen_covariances)

    def log_prior(self) -> float:
        """``log p(means, covariances)`` under the prior (0 without one).

        The objective EM ascends is ``log L + log_prior()``: the log-posterior up to a
        constant (the mixing weights have no prior). See
        :meth:`~mixture.gaussian.ConjugatePrior.log_density`.

        Raises
        ------
        ValueError
            If the prior is a ``DefaultPrior`` not yet resolved by an M-step.
        """
        fitted = self._fitted()
        if fitted._prior is None:
            return 0.0
        if not isinstance(fitted._prior, ConjugatePrior):
            raise ValueError(
                f"{fitted._prior!r} is resolved from the data by the first M-step; "
                "this family has had none"
            )
        return fitted._prior.log_density(fitted._means, fitted._covariances, self._structure)

    @property
    def means(self) -> np.ndarray:
        return self._fitted()._means.copy()

    @property
    def covariances(self) -> np.ndarray:
        return self._fitted()._covariances.copy()

    @property
    def covariance_matrices(self) -> np.ndarray:
        """Dense covariances, ndarray of shape (n_components, n_features, n_features)."""
        fitted = self._fitted()
        dense = self._structure.form.dense(fitted._covariances, int(fitted.n_features))
        return np.array(np.broadcast_to(dense, (self._n_components, *dense.shape[1:])))

    @property
    def precisions_cholesky(self) -> np.ndarray:
        return self._fitted()._precisions_cholesky.copy()

    def _fitted(self) -> StackedGaussians:
        if self._means is None:
            raise NotFittedError(
                "this GaussianFamily is an unfitted template; fit it with MixtureEM or pass "
                "means and covariances"
            )
        return self

    # -- EM ---------------------------------------------------------------------------------
    def log_density(self, X: np.ndarray) -> np.ndarray:
        """``log p_k(x_i)``, shape ``(n, K)``, in the dtype of ``X`` (Fortran-ordered: each
        component's column is contiguous, which makes the log-sum-exp over components fast)."""
        self._fitted()
        return self._kernel(X.dtype)(X)

    def _kernel(self, dtype: np.dtype) -> LogDensityKernel:
        """The form's log-density kernel for rows of ``dtype``, built once per family."""
        kernels = self.__dict__.setdefault("_kernels", {})
        kernel = kernels.get(dtype)
        if kernel is None:
            kernel = self._structure.form.kernel(
                self._means, self._precisions_cholesky, self._half_log_det, self._reference, dtype
            )
            kernels[dtype] = kernel
        return kernel

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_kernels", None)  # derived from the parameters; rebuilt on first use
        return state

    def fused_e_step(
        self, X: np.ndarray, log_weights: np.ndarray, sample_weight: np.ndarray | None
    ) -> tuple[np.ndarray, GaussianStatistics, float] | None:
        """The kernel's one-pass E-step and moments, where it has one (see
        :mod:`mixture.gaussian.kernels`).

        float32 rows with at most ``FUSED_FLOAT32_MAX_FEATURES`` features also take the
        float64 fused pass where their own kernel has none (full covariance): at small D it
        is faster than the float32 two-pass path, and its statistics are more accurate.
        """
        self._fitted()
        moments = self._kernel(X.dtype).fused_statistics(X, log_weights, sample_weight)
        if moments is None and X.dtype != np.float64 and X.shape[1] <= FUSED_FLOAT32_MAX_FEATURES:
            float64_kernel = self._kernel(np.dtype(np.float64))
            moments = float64_kernel.fused_statistics(X, log_weights, sample_weight)
        if moments is None:
            return None
        statistics = GaussianStatistics(
            moments.weight, moments.mean, moments.scatter, self._structure
        )
        return moments.weight, statistics, moments.log_likelihood

    def statistics(self, X: np.ndarray, weights: np.ndarray) -> GaussianStatistics:
        return GaussianStatistics.of_rows(X, weights, self._structure)

    # -- missing values (mixture.gaussian.missing) --------------------------------------------
    handles_missing = True

    def _dense_covariances(self) -> np.ndarray:
        dense = self._structure.form.dense(self._covariances, int(self.n_features))
        return np.broadcast_to(dense, (self._n_components, *dense.shape[1:]))

    def log_density_observed(self, X: np.ndarray) -> np.ndarray:
        """``log p_k(x_O)``: each row's observed coordinates under each component's
        marginal, shape ``(n, K)`` float64 (NaN marks a missing value)."""
        self._fitted()
        return observed_log_density(X, self._means, self._dense_covariances())

    def statistics_observed(self, X: np.ndarray, weights: np.ndarray) -> GaussianStatistics:
        """Statistics of rows with missing values: weights, means and scatter of the rows
        completed by their conditional means, the conditional covariances added to the
        scatter (:func:`~mixture.gaussian.missing.observed_moments`)."""
        self._fitted()
        weight, mean, scatter = observed_moments(X, weights, self._means, self._dense_covariances())
        form_scatter = self._structure.form.from_full_scatter(scatter)
        return GaussianStatistics(weight, mean, form_scatter, self._structure)

    def fused_observed_e_step(
        self, X: np.ndarray, log_weights: np.ndarray, sample_weight: np.ndarray | None
    ) -> tuple[np.ndarray, GaussianStatistics, float]:
        """The E-step of rows with missing values in one pass (densities, responsibilities
        and statistics from the same conditional laws): ``(N_k, statistics,
        log-likelihood)``, as :meth:`fused_e_step`."""
        self._fitted()
        weight, mean, scatter, log_density = observed_e_step(
            X, log_weights, sample_weight, self._means, self._dense_covariances()
        )
        statistics = GaussianStatistics(
            weight, mean, self._structure.form.from_full_scatter(scatter), self._structure
        )
        log_likelihood = float(
            log_density.sum() if sample_weight is None else np.dot(sample_weight, log_density)
        )
        return weight, statistics, log_likelihood

    def conditional_completion(self, X: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        """See :func:`~mixture.gaussian.missing.completed_rows`."""
        self._fitted()
        return completed_rows(X, self._means, self._dense_covariances())

    def m_step(self, statistics: Statistics) -> StackedGaussians:
        if not isinstance(statistics, GaussianStatistics):
            raise TypeError("GaussianFamily.m_step expects GaussianStatistics")
        empty = ~(statistics.weight > 0)
        if empty.any() and not self.is_fitted:
            raise DegenerateComponentError(
                f"component(s) {np.flatnonzero(empty).tolist()} received no rows at "
                "initialisation, so their parameters are undefined; use fewer components or "
                "another initializer"
            )
        if empty.all():
            raise DegenerateComponentError("no component received any weight")
        n_features = statistics.mean.shape[1]
        prior = self._prior
        scatter, means = statistics.scatter, statistics.mean
        if self._frozen_means and self.is_fitted:
            # Each component's covariance is estimated about its own mean: a frozen mean
            # mu_k moves the scatter to W_k + N_k (xbar_k - mu_k)(xbar_k - mu_k)^T.
            frozen = np.zeros(self._n_components, dtype=bool)
            frozen[list(self._frozen_means)] = True
            offset = np.where(frozen[:, None], statistics.mean - self._means, 0.0)
            scatter = scatter + self._structure.form.merge_term(offset, statistics.weight)
            means = np.where(frozen[:, None], self._means, statistics.mean)
        if prior is None:
            if self.is_fitted:
                covariances = self._structure.from_scatter_near(
                    scatter,
                    statistics.weight,
                    self._reg_covar,
                    n_features,
                    self._covariances,
                )
            else:
                covariances = self._structure.from_scatter(
                    scatter, statistics.weight, self._reg_covar, n_features
                )
        else:
            if isinstance(prior, DefaultPrior):
                prior = prior.resolve(statistics, self._n_components)
            prior.check_for(self._structure, n_features)
            covariances = self._structure.from_scatter_with_prior(
                statistics.scatter,
                statistics.weight,
                statistics.mean,
                prior,
                self._reg_covar,
                n_features,
            )
            means = prior.shrunk_means(statistics.weight, statistics.mean)
        if empty.any():
            means = np.where(empty[:, None], self._means, means)
            covariances = self._structure.keep_where(covariances, self._covariances, empty)
        if self._frozen_covariances and self.is_fitted:
            if len(self._frozen_covariances) == self._n_components:
                covariances = self._covariances
            else:  # components estimated independently: the others are unaffected
                kept = np.zeros(self._n_components, dtype=bool)
                kept[list(self._frozen_covariances)] = True
                covariances = self._structure.keep_where(covariances, self._covariances, kept)
        _check_finite(covariances)
        try:
            fitted = self._with_parameters(means, covariances, prior)
        except DegenerateComponentError:
            # Not positive definite: say so in terms of the data's resolution if that is why.
            _check_resolvable(means, covariances, self._structure, None)
            raise
        _check_resolvable(means, covariances, self._structure, fitted._precisions_cholesky)
        return fitted

    def degeneracies(
        self, weights: np.ndarray, total_weight: float, resolution: np.ndarray | None = None
    ) -> list[Degeneracy]:
        """Degenerate components by the rules of :mod:`mixture.degeneracy`."""
        n_features = self._fitted().n_features
        structure = self._structure
        own = structure.n_parameters(2, n_features) - structure.n_parameters(1, n_features)
        needed = 0.0 if own == 0 else float(n_features + 1) if own > n_features else 2.0
        return component_degeneracies(
            self.covariance_matrices, weights, total_weight, self._reg_covar, needed, resolution
        )

    @property
    def n_parameters(self) -> int:
        """Free parameters of the means and covariances; a prior adds none (its
        hyper-parameters are fixed), as in mclust's BIC."""
        n_features = self._fitted().n_features
        means = (self._n_components - len(self._frozen_means)) * n_features
        covariances = self._structure.n_parameters(self._n_components, n_features)
        if len(self._frozen_covariances) == self._n_components:
            covariances = 0
        elif self._frozen_covariances:  # independent components: each counts alike
            each = self._structure.n_parameters(1, n_features)
            covariances -= len(self._frozen_covariances) * each
        return means + covariances

    def sample(self, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n_features = self._fitted().n_features
        full = self.covariance_matrices
        draws = []
        for k, count in enumerate(np.asarray(counts, dtype=np.int64)):
            lower = linalg.cholesky(full[k], lower=True)
            noise = rng.standard_normal((int(count), n_features))
            draws.append(self._means[k] + noise @ lower.T)
        return np.concatenate(draws, axis=0)
