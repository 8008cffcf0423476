"""The default start of model selection: several starts per candidate, the best proper one.

One EM run finds one local maximum, and which one depends on its start. For each Gaussian
structure, model selection fits K = 1, 2, ... in turn, and for every K runs EM from

1. the **hierarchical** start: mclust's model-based agglomeration (VVV criterion on
   SVD-transformed data, :class:`~mixture.hierarchical.Hierarchical`), one tree cut at every
   K;
2. a **k-means** start, seeded by :func:`~mixture.selection.candidate_seed` (``n_init``
   k-means starts with ``n_init > 1``);
3. the **split** start: the chosen K - 1 fit with its broadest component (largest weight
   times total variance) split in two along its principal axis.

each to the full tolerance, and keeps the run with the highest log-likelihood (log-posterior
with a prior) among those that are not degenerate (:mod:`mixture.degeneracy`). (Ranking
starts by short runs and continuing only the best, "short-run EM", cost half the time but
missed mclust's optimum on wine's diag,4 by 16 log-likelihood units: measured with
``benchmarks/compare_mclust.py``.) If its log-likelihood is below the K - 1
fit's, the K - 1 fit with its broadest component duplicated (two identical halves: the
same density) is kept instead, so within a structure **the selected log-likelihood never
decreases as K grows** (beyond a relative :data:`TIE` of 1e-10, round-off). Starts that
reach the same optimum are told apart only by round-off, so among fits within ``TIE`` of
the best, the first in the order above wins: the choice does not flip with the summation
order or the BLAS kernel. (With a prior, EM maximises the log-posterior, whose prior term
changes with K; EM from the duplicate then moves to a MAP fit near it, and the guarantee
holds only for maximum-likelihood fits.) Everything is seeded from ``(random_state,
structure, K)`` and the chain always starts at K = 1, so a candidate's fit does not depend
on which other candidates are in the grid.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mixture.degeneracy import find_degeneracies
from mixture.engine import MixtureEM, MixtureResult
from mixture.exceptions import DegenerateComponentError, DegenerateFitWarning
from mixture.gaussian import GaussianFamily
from mixture.hierarchical import Hierarchical
from mixture.initializers import GivenParameters, Initializer, KMeans
from mixture.model import Mixture
from mixture.sources import rows_weight

__all__ = ["TIE", "ChainFit", "fit_structure_chain", "split_broadest"]

TIE = 1e-10
"""Objectives this close (relative) are the same optimum reached from different starts."""


@dataclass(frozen=True)
class ChainFit:
    """The chosen fit at one K, and how it was found.

    Attributes
    ----------
    result : MixtureResult
    start : str
        ``"hierarchical"``, ``"k-means"``, ``"split"`` or ``"duplicate"``.
    degenerate : str or None
        The first degeneracy of the chosen fit (only when every start was degenerate).
    objective : float
        Total log-likelihood plus the log-prior (0 without a prior): what EM maximises.
    """

    result: MixtureResult
    start: str
    degenerate: str | None
    objective: float


def _broadest(family: GaussianFamily, weights: np.ndarray) -> int:
    spread = np.trace(family.covariance_matrices, axis1=1, axis2=2)
    return int(np.argmax(weights * spread))


def split_broadest(mixture: Mixture, *, offset: float = 0.5) -> Mixture:
    """A Gaussian mixture with one more component: the broadest one split in two.

    Parameters
    ----------
    mixture : Mixture
        A fitted mixture with a :class:`~mixture.gaussian.GaussianFamily`.
    offset : float
        The halves' means sit ``offset`` standard deviations either side along the
        component's principal axis; ``0`` duplicates the component exactly (the mixture's
        density is then unchanged).

    Returns
    -------
    Mixture
        With ``n_components + 1`` components; the split one's weight is halved between its
        two halves, which keep its covariance.
    """
    family = mixture.family
    if not isinstance(family, GaussianFamily):
        raise ValueError("only Gaussian mixtures can be split")
    weights = mixture.weights
    k = _broadest(family, weights)
    values, vectors = np.linalg.eigh(family.covariance_matrices[k])
    step = offset * np.sqrt(max(values[-1], 0.0)) * vectors[:, -1]
    means = family.means
    means = np.concatenate([means, means[k][None]])
    means[k] += step
    means[-1] -= step
    structure = family.structure
    pieces = [
        structure.form.component_covariance(family.covariances, j) for j in range(len(weights))
    ]
    covariances = structure.form.stack([*pieces, pieces[k]])
    new_weights = np.append(weights, weights[k] / 2.0)
    new_weights[k] /= 2.0
    split = GaussianFamily(
        len(new_weights),
        structure,
        reg_covar=family.reg_covar,
        prior=family.prior,
        means=means,
        covariances=covariances,
    )
    return Mixture(new_weights, split)


def _loglik(fit: ChainFit) -> float:
    """The fit's total log-likelihood (its objective without the log-prior)."""
    return fit.objective - fit.result.family.log_prior()


def _objective(
    result: MixtureResult,
    X: np.ndarray,
    weights: np.ndarray | None,
    labels: np.ndarray | None = None,
) -> float:
    if labels is not None:  # the semi-supervised log-likelihood (mixture.labels)
        log_likelihood = result.criteria(X, weights, labels=labels)["log_likelihood"]
        return log_likelihood + result.family.log_prior()
    n_rows = rows_weight(X, weights)
    return result.score(X, weights) * n_rows + result.family.log_prior()


def _run(
    template: GaussianFamily,
    initializer: Initializer,
    seed: int,
    X: np.ndarray,
    weights: np.ndarray | None,
    options: dict[str, Any],
    n_init: int = 1,
    labels: np.ndarray | None = None,
) -> MixtureResult | None:
    engine = MixtureEM(
        template, initializer=initializer, random_state=seed, n_init=n_init, **options
    )
    try:
        with warnings.catch_warnings():  # the candidate table reports these instead
            warnings.simplefilter("ignore", DegenerateFitWarning)
            return engine.fit(X, weights, labels=labels)
    except DegenerateComponentError:
        return None


def fit_structure_chain(
    factory: Callable[[int], GaussianFamily],
    largest: int,
    X: np.ndarray,
    weights: np.ndarray | None,
    *,
    seed_of: Callable[[int], int],
    options: dict[str, Any],
    n_init: int,
    resolution: np.ndarray,
    hierarchical: Hierarchical | None = None,
    labels: np.ndarray | None = None,
) -> dict[int, ChainFit]:
    """Fit K = 1 .. ``largest`` components of one structure, each from several starts.

    Parameters
    ----------
    factory : callable
        ``K -> GaussianFamily`` template (structure, ``reg_covar``, prior).
    largest : int
    X : ndarray of shape (n_samples, n_features)
    weights : ndarray of shape (n_samples,) or None
    seed_of : callable
        ``K -> seed`` of the k-means starts.
    options : dict
        ``tol``, ``max_iter`` (and other engine options) for every run.
    n_init : int
        k-means starts per K.
    resolution : ndarray of shape (n_features,)
        The data's resolution (:func:`~mixture.degeneracy.column_resolution`).
    hierarchical : Hierarchical, optional
        The hierarchical initializer (default ``Hierarchical()``); its tree of the data is
        built once and cut at every K, so one instance shared by the chains of several
        structures builds it once for all of them.
    labels : ndarray of int of shape (n_samples,), optional
        Known components (``-1`` unknown) for semi-supervised fits (:mod:`mixture.labels`).

    Returns
    -------
    dict
        ``{K: ChainFit}`` for every K in ``1 .. largest``.
    """
    n_rows = rows_weight(X, weights)
    if hierarchical is None:
        hierarchical = Hierarchical()  # one tree, cut at every K
    chain: dict[int, ChainFit] = {}
    previous: ChainFit | None = None
    for K in range(1, largest + 1):
        template = factory(K)
        seed = seed_of(K)
        # Fits with fewer components than the labels name only feed later splits: unlabelled.
        known = labels if labels is not None and K > int(labels.max()) else None
        runs: list[tuple[str, MixtureResult | None]] = [
            ("hierarchical", _run(template, hierarchical, seed, X, weights, options, 1, known)),
            ("k-means", _run(template, KMeans(), seed, X, weights, options, n_init, known)),
        ]
        if previous is not None:
            start = GivenParameters(split_broadest(previous.result))
            runs.append(("split", _run(template, start, seed, X, weights, options, 1, known)))
        chosen = _best(runs, X, weights, resolution, known)
        # The K - 1 fit's objective is comparable only if it was of the same kind (with
        # labels, the first labelled K follows unlabelled fits whose likelihood is higher).
        comparable = previous is not None and (known is None or K - 1 > int(labels.max()))
        if comparable and (
            chosen is None or _loglik(chosen) < _loglik(previous) - TIE * abs(_loglik(previous))
        ):
            duplicate = GivenParameters(split_broadest(previous.result, offset=0.0))
            result = _run(template, duplicate, seed_of(K), X, weights, options, 1, known)
            if result is not None:
                found = find_degeneracies(result, n_rows, resolution)
                copy = ChainFit(
                    result, "duplicate", str(found[0]) if found else None,
                    _objective(result, X, weights, known),
                )  # fmt: skip
                if chosen is None or _loglik(copy) > _loglik(chosen):
                    chosen = copy
        if chosen is None:
            raise DegenerateComponentError(
                f"no start gave a fit with {K} components: every run degenerated"
            )
        chain[K] = chosen
        previous = chosen
    return chain


def _best(
    runs: list[tuple[str, MixtureResult | None]],
    X: np.ndarray,
    weights: np.ndarray | None,
    resolution: np.ndarray,
    labels: np.ndarray | None = None,
) -> ChainFit | None:
    """The proper run with the highest objective; the best degenerate one if none is proper."""
    n_rows = rows_weight(X, weights)
    fits = []
    for name, result in runs:
        if result is not None:
            found = find_degeneracies(result, n_rows, resolution)
            objective = _objective(result, X, weights, labels)
            fits.append(ChainFit(result, name, str(found[0]) if found else None, objective))
    if not fits:
        return None
    pool = [fit for fit in fits if fit.degenerate is None] or fits
    top = max(fit.objective for fit in pool)
    # Starts that reach the same optimum differ only by round-off, which another summation
    # order or BLAS kernel can flip: within TIE of the best, the first start in order wins.
    return next(fit for fit in pool if fit.objective >= top - TIE * abs(top))
