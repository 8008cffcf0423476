"""The compiled whole EM run of a Gaussian family (:mod:`mixture.gaussian._em_compiled`):
when it applies, and its inputs and outputs in the family's terms."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mixture._compiled import use_compiled
from mixture.gaussian.covariance import CompiledLayout, CovarianceStructure
from mixture.gaussian.prior import ConjugatePrior, DefaultPrior
from mixture.gaussian.statistics import GaussianStatistics

if TYPE_CHECKING:
    from mixture.gaussian.stacked import StackedGaussians

__all__ = ["MAX_WHOLE_RUN_WORK", "layout_of", "whole_run"]

#: Largest work ``n_rows * K * (24 + D (D + 1))`` run by the compiled loop (a model of its
#: cost per pass). Beyond it the numpy path, whose cost on small data is mostly a fixed
#: ~0.2 ms of Python per pass, is as fast or faster: its exponentials are vectorised, the
#: loop's are not (about 20 ns per row and component). Per EM iteration, compiled against
#: numpy (CPU time): full covariance 1,000 x 2, K = 5 (150,000 units): 0.10 ms against
#: 0.25; 1,000 x 5, K = 9 (486,000): 0.26 against 0.28; 5,000 x 5, K = 9: 1.18 against
#: 0.49 (diagonal: 0.10 against 0.15, 0.20 against 0.19, 0.87 against 0.37).
MAX_WHOLE_RUN_WORK = 1 << 18


def layout_of(structure: CovarianceStructure) -> CompiledLayout | None:
    """The structure's :class:`CompiledLayout` when its own class declares one."""
    return vars(type(structure)).get("compiled_layout")


def _resolved(
    prior: object,
    X: np.ndarray,
    sample_weight: np.ndarray | None,
    structure: CovarianceStructure,
    n_components: int,
) -> object:
    """The prior a run uses: a ``DefaultPrior`` resolved from the data's pooled moments
    (what the numpy path's first M-step resolves it from, there through the components'
    statistics: the same up to round-off); None for a prior that cannot be resolved (the
    engine's loop then raises its error)."""
    if not isinstance(prior, DefaultPrior):
        return prior
    weights = np.ones((X.shape[0], 1)) if sample_weight is None else sample_weight[:, None]
    try:
        return prior.resolve(GaussianStatistics.of_rows(X, weights, structure), n_components)
    except ValueError:
        return _UNRESOLVED


#: A prior the loop cannot take.
_UNRESOLVED = object()


def _prior_arrays(
    prior: object, layout: CompiledLayout | None, n_features: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The prior as the compiled loop takes it (see ``run_em``), or None where the loop has
    no MAP M-step for it: a prior that could not be resolved, or a structure pooling
    variances (EII, EEI)."""
    if prior is None:
        return np.zeros(n_features), np.zeros((n_features, n_features)), np.zeros(3)
    if layout is None or not isinstance(prior, ConjugatePrior):
        return None
    if layout.pooled and layout.entries < 2:
        return None
    scale = np.asarray(prior.scale, dtype=np.float64)
    if layout.entries == 2:
        dense = np.array(scale, dtype=np.float64, order="C")
    elif layout.entries == 1:
        dense = np.diag(np.broadcast_to(scale, (n_features,)))
    else:
        dense = np.eye(n_features) * float(scale)
    values = np.array([1.0, prior.shrinkage, prior.dof])
    return np.array(prior.mean, dtype=np.float64), dense, values


def _writable(values: np.ndarray) -> np.ndarray:
    """A C-ordered writable float64 array (a read-only one would be another signature for
    numba, compiled again): ``values`` itself where it is one, else a copy (small data)."""
    if values.dtype == np.float64 and values.flags.c_contiguous and values.flags.writeable:
        return values
    return np.array(values, dtype=np.float64, order="C")


def whole_run(
    family: StackedGaussians,
    weights: np.ndarray,
    X: np.ndarray,
    sample_weight: np.ndarray | None,
    *,
    tol: float | None,
    max_iter: int,
    previous: float,
    squarem: tuple[float, float, float] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float], int, int, object] | None:
    """One EM run in the compiled loop, or None where it does not apply or hands over.

    Returns
    -------
    (means, covariances, component_weight, history, passes, rejected, prior) or None
        ``covariances`` in the structure's form; ``prior`` the family's, a ``DefaultPrior``
        resolved (as the numpy path's first M-step resolves it).
    """
    structure = family.structure
    layout = layout_of(structure)
    n_rows, n_features = X.shape
    K = family.n_components
    if (
        layout is None
        or family.has_frozen_parameters
        or X.dtype != np.float64
        or n_rows * K * (24 + n_features * (n_features + 1)) > MAX_WHOLE_RUN_WORK
        or not use_compiled()
    ):
        return None
    conjugate = _resolved(family.prior, X, sample_weight, structure, K)
    prior = _prior_arrays(conjugate, layout, n_features)
    if prior is None:
        return None
    from mixture.gaussian._em_compiled import FALLBACK, run_em

    dense = structure.form.dense(family.covariances, n_features)
    dense = _writable(np.broadcast_to(dense, (K, n_features, n_features)))
    row_weights = np.ones(n_rows) if sample_weight is None else _writable(sample_weight)
    total_weight = float(n_rows if sample_weight is None else sample_weight.sum())
    with np.errstate(divide="ignore"):
        log_weights = np.log(weights)
    step_min, step_max, mstep = (1.0, 1.0, 2.0) if squarem is None else squarem
    status, history, passes, rejected, means, covariances, component_weight = run_em(
        _writable(X), row_weights,
        total_weight, family.means, dense, log_weights,
        layout.entries, layout.pooled, layout.pooled_statistics, family.reg_covar, prior,
        -1.0 if tol is None else float(tol), int(max_iter), float(previous),
        squarem is not None, float(step_min), float(step_max), float(mstep),
    )  # fmt: skip
    if status == FALLBACK:
        return None
    return (
        means.copy(),
        layout.to_form(covariances),
        component_weight.copy(),
        history.tolist(),
        int(passes),
        int(rejected),
        conjugate,
    )
