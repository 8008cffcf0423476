"""A mixture: mixing weights and a component family, with chunked prediction."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from mixture._chunking import auto_chunk_size, map_chunks, row_slices, sum_chunks, sum_over
from mixture._responsibilities import (
    checked_row_maxima,
    log_density_and_responsibilities,
    rows_from,
)
from mixture._validation import (
    check_data,
    check_int,
    check_random_state,
    check_sample_weight,
    check_vector,
)
from mixture.contract import Component, Statistics
from mixture.family import ComponentFamily, as_family
from mixture.labels import as_knowledge
from mixture.sources import RowChunk, RowSource, is_dask_collection, rows_weight

__all__ = ["Mixture", "MixtureStatistics"]

#: Weights summing to 1 within this are taken as they are (not renormalised).
_ROUND_OFF = 8 * float(np.finfo(np.float64).eps)


def _drawn_completion(
    responsibilities: np.ndarray,
    completed: np.ndarray,
    spreads: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    rng: np.random.Generator,
) -> np.ndarray:
    """Rows whose missing values are drawn: a component per row from its
    responsibilities, then the missing values from that component's conditional law
    (``spreads``: per group of rows, their missing features ``(r, m)`` and conditional
    covariances ``(K, r, m, m)``)."""
    n_rows, n_components = responsibilities.shape
    cumulative = np.cumsum(responsibilities, axis=1)
    chosen = np.minimum((rng.random((n_rows, 1)) > cumulative).sum(axis=1), n_components - 1)
    out = completed[chosen, np.arange(n_rows)]
    for rows, missing, covariance in spreads:
        own = covariance[chosen[rows], np.arange(rows.shape[0])]  # (r, m, m)
        noise = rng.standard_normal((rows.shape[0], missing.shape[1], 1))
        drawn = (np.linalg.cholesky(own) @ noise)[..., 0]
        out[rows[:, None], missing] += drawn
    return out


def marginalizes_missing(missing: str, family: ComponentFamily) -> bool:
    """Whether ``missing`` asks to marginalise missing values; checks the family can."""
    if missing not in ("error", "marginalize"):
        raise ValueError(f"missing must be 'error' or 'marginalize'; got {missing!r}")
    if missing == "marginalize" and not family.handles_missing:
        raise ValueError(
            f"missing='marginalize': {type(family).__name__} does not handle missing values "
            "(Gaussian families do)"
        )
    return missing == "marginalize"


def _log_weights(weights: np.ndarray) -> np.ndarray:
    """``log(weights)``, ``-inf`` where a weight is 0, without a divide-by-zero warning."""
    if weights.all():  # the usual case (weights are non-negative)
        return np.log(weights)
    out = np.full(weights.shape, -np.inf)
    return np.log(weights, out=out, where=weights > 0)


@dataclass(frozen=True, eq=False)
class MixtureStatistics:
    """What one E-step over some rows yields. Adding two gives the E-step over both.

    Attributes
    ----------
    component_weight : ndarray of shape (n_components,)
        Summed responsibility of each component (times sample weight): ``N_k``.
    family_statistics : Statistics
        Sufficient statistics of the component family.
    log_likelihood : float
        Weighted sum over rows of ``log p(x)`` under the mixture that produced them.
    total_weight : float
        Summed sample weight of the rows (the number of rows when unweighted).
    """

    component_weight: np.ndarray
    family_statistics: Statistics
    log_likelihood: float
    total_weight: float

    @property
    def family(self) -> Statistics:
        """Deprecated name of :attr:`family_statistics` (they are statistics, not a family)."""
        warnings.warn(
            "MixtureStatistics.family is deprecated; use MixtureStatistics.family_statistics",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.family_statistics

    def __add__(self, other: MixtureStatistics) -> MixtureStatistics:
        if not isinstance(other, MixtureStatistics):
            return NotImplemented
        return MixtureStatistics(
            self.component_weight + other.component_weight,
            self.family_statistics + other.family_statistics,
            self.log_likelihood + other.log_likelihood,
            self.total_weight + other.total_weight,
        )

    def __radd__(self, other: Any) -> MixtureStatistics:
        if isinstance(other, int) and other == 0:  # sum() starts from 0
            return self
        return NotImplemented

    def scale(self, factor: float) -> MixtureStatistics:
        """Statistics with every row weight multiplied by ``factor``."""
        return MixtureStatistics(
            self.component_weight * factor,
            self.family_statistics.scale(factor),
            self.log_likelihood * factor,
            self.total_weight * factor,
        )

    @property
    def mean_log_likelihood(self) -> float:
        """Average log-likelihood per (weighted) row: the quantity EM's tolerance watches."""
        return self.log_likelihood / self.total_weight


def weighted_statistics(
    family: ComponentFamily,
    X: np.ndarray,
    resp: np.ndarray,
    sample_weight: np.ndarray | None,
    log_density: np.ndarray | None = None,
) -> MixtureStatistics:
    """Reduce one chunk's responsibilities to its :class:`MixtureStatistics`.

    Parameters
    ----------
    family : ComponentFamily
    X : ndarray of shape (n_samples, n_features)
    resp : ndarray of shape (n_samples, n_components)
        Responsibilities; multiplied in place by ``sample_weight``.
    sample_weight : ndarray of shape (n_samples,) or None
    log_density : ndarray of shape (n_samples,), optional
        ``log p(x)`` of each row under the current mixture; without it (at initialisation,
        before there is a mixture) the log-likelihood is recorded as 0.
    """
    if sample_weight is None:
        total_weight = float(X.shape[0])
        log_likelihood = 0.0 if log_density is None else float(log_density.sum(dtype=np.float64))
    else:
        total_weight = float(sample_weight.sum())
        log_likelihood = (
            0.0
            if log_density is None
            else float(np.dot(sample_weight, log_density.astype(np.float64)))
        )
        resp *= sample_weight[:, None].astype(resp.dtype)
    return MixtureStatistics(
        resp.sum(axis=0, dtype=np.float64),
        family.statistics(X, resp),
        log_likelihood,
        total_weight,
    )


class Mixture:
    """A fitted mixture: ``p(x) = sum_k weights[k] * p_k(x)``.

    Parameters
    ----------
    weights : array-like of shape (n_components,)
        Mixing weights: non-negative, summing to 1 (within 1e-6; renormalised exactly).
    family : ComponentFamily or sequence of Component
        Fitted components.

    Attributes
    ----------
    weights : ndarray of shape (n_components,)
    family : ComponentFamily
    """

    def __init__(
        self,
        weights: Any,
        family: ComponentFamily | list[Component],
        *,
        fixed_weights: bool = False,
        missing: str = "error",
    ) -> None:
        family = as_family(family)
        if not family.is_fitted:
            raise ValueError("a Mixture needs a fitted family (with parameters)")
        weights = check_vector(weights, name="weights")
        if weights.shape != (family.n_components,):
            raise ValueError(
                f"weights must have shape ({family.n_components},) to match the components; "
                f"got {weights.shape}"
            )
        if (weights < 0).any():
            raise ValueError("weights must be non-negative")
        if abs(weights.sum() - 1.0) > 1e-6:
            raise ValueError(f"weights must sum to 1; they sum to {weights.sum()!r}")
        total = weights.sum()
        # Renormalise only beyond round-off, so rebuilding a mixture never changes its weights.
        normalised = abs(total - 1.0) <= _ROUND_OFF
        self._weights = weights if normalised else weights / total
        self._family = family
        self._log_weights = _log_weights(self._weights)
        self._fixed_weights = bool(fixed_weights)
        self._marginalize = marginalizes_missing(missing, family)

    @classmethod
    def from_m_step(
        cls,
        component_weight: np.ndarray,
        family: ComponentFamily,
        fixed: np.ndarray | None = None,
        marginalize: bool = False,
    ) -> Mixture:
        """The mixture an M-step gives: weights ``N_k / N`` from the summed responsibilities
        ``(K,)`` (non-negative, some positive), or the ``fixed`` weights when the model's
        weights are not estimated (:mod:`mixture.mixing`), and the family the M-step
        fitted. Skips the validation of the public constructor, which an EM iteration on a
        few hundred rows would spend a tenth of its time on."""
        mixture = cls.__new__(cls)
        if fixed is None:
            weights = component_weight / component_weight.sum()
            total = weights.sum()  # renormalised beyond round-off, as the constructor does
            mixture._weights = weights if abs(total - 1.0) <= _ROUND_OFF else weights / total
        else:
            mixture._weights = fixed
        mixture._family = family
        mixture._log_weights = _log_weights(mixture._weights)
        mixture._fixed_weights = fixed is not None
        mixture._marginalize = marginalize
        return mixture

    @property
    def missing(self) -> str:
        """``"marginalize"`` when NaN in rows is a missing value (the density of a row is
        that of its observed values), else ``"error"`` (NaN is refused)."""
        return "marginalize" if getattr(self, "_marginalize", False) else "error"

    @property
    def fixed_weights(self) -> bool:
        """Whether the mixing weights were given rather than estimated (they then count no
        free parameter)."""
        return getattr(self, "_fixed_weights", False)  # mixtures pickled before it: False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(weights={self._weights.round(4).tolist()}, {self._family!r})"

    @property
    def weights(self) -> np.ndarray:
        return self._weights.copy()

    @property
    def family(self) -> ComponentFamily:
        return self._family

    @property
    def components(self) -> tuple[Component, ...]:
        """The components as individual :class:`~mixture.Component` objects."""
        return self._family.components

    @property
    def n_components(self) -> int:
        return self._family.n_components

    @property
    def n_features(self) -> int:
        return int(self._family.n_features)

    @property
    def n_parameters(self) -> int:
        """Free parameters: the family's plus ``n_components - 1`` mixing weights (none when
        the weights are :attr:`fixed_weights`)."""
        free_weights = 0 if self.fixed_weights else self.n_components - 1
        return self._family.n_parameters + free_weights

    # -- per chunk ----------------------------------------------------------------------------
    def log_joint(self, X: np.ndarray) -> np.ndarray:
        """``log weights[k] + log p_k(x)`` for validated rows, shape ``(n, K)`` (with
        missing values marginalised, ``log p_k(x_O)`` of the observed ones)."""
        incomplete = self._incomplete_rows(X)
        if incomplete is None:
            out = self._family.log_density(X)
        else:
            out = np.empty((X.shape[0], self.n_components))
            complete = ~incomplete
            if complete.any():
                out[complete] = self._family.log_density(X[complete])
            out[incomplete] = self._family.log_density_observed(X[incomplete])
        out += self._log_weights.astype(out.dtype)
        return out

    def impute(
        self,
        X: Any,
        *,
        draw: bool = False,
        random_state: Any = None,
        chunk_size: int | None = None,
    ) -> np.ndarray:
        """Fill the missing values (NaN) of ``X`` under the mixture.

        By default each missing value becomes its conditional mean given the row's observed
        values, ``sum_k gamma_k(x_O) E_k[x_M | x_O]`` (the best guess in squared error);
        with ``draw=True`` a draw from the conditional law instead (a component drawn with
        probabilities ``gamma_k(x_O)``, then ``x_M`` from its conditional Gaussian), as
        multiple imputation needs. Observed values are kept exactly.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            NaN marks a missing value; every row needs an observed value.
        draw : bool, default False
        random_state : None, int or numpy.random.Generator
            For ``draw=True``.
        chunk_size : int, optional

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
        """
        completes = (
            type(self._family).conditional_completion is not ComponentFamily.conditional_completion
        )
        if not (self._family.handles_missing and completes):
            raise ValueError(
                f"impute needs a family that completes rows from their observed values "
                f"(Gaussian families); {type(self._family).__name__} does not"
            )
        data = check_data(X, n_features=self.n_features, allow_missing=True)
        if chunk_size is None:
            chunk_size = auto_chunk_size(self.n_components, self.n_features, 8, data.shape[0])
        rng = check_random_state(random_state) if draw else None
        out = np.array(data, dtype=np.float64)
        for rows in row_slices(data.shape[0], check_int(chunk_size, name="chunk_size", minimum=1)):
            chunk = out[rows]
            incomplete = np.isnan(chunk).any(axis=1)
            if not incomplete.any():
                continue
            rows_with_gaps = chunk[incomplete]
            joint = self._family.log_density_observed(rows_with_gaps) + self._log_weights
            log_density_and_responsibilities(joint)  # joint becomes the responsibilities
            completed, spreads = self._family.conditional_completion(rows_with_gaps)
            if rng is None:
                blended = np.einsum("nk,knd->nd", joint, completed)
                # Only the missing cells are written: observed ones stay exactly as given.
                chunk[incomplete] = np.where(np.isnan(rows_with_gaps), blended, rows_with_gaps)
            else:
                chunk[incomplete] = _drawn_completion(joint, completed, spreads, rng)
            out[rows] = chunk
        return out

    def _incomplete_rows(self, X: np.ndarray) -> np.ndarray | None:
        """Rows with a missing value when this mixture marginalises them (None when there
        are none, or when missing values are refused)."""
        if not getattr(self, "_marginalize", False):
            return None
        incomplete = np.isnan(X).any(axis=1)
        return incomplete if incomplete.any() else None

    def chunk_statistics(
        self,
        X: np.ndarray,
        sample_weight: np.ndarray | None = None,
        *,
        log_mask: np.ndarray | None = None,
    ) -> MixtureStatistics:
        """E-step on validated rows: responsibilities, then their sufficient statistics.

        ``log_mask`` ``(n, K)``, when given, is added to the log joint densities before they
        are normalised (``-inf`` excludes a component): the semi-supervised E-step of
        :mod:`mixture.labels`, whose log-likelihood the statistics then carry.
        """
        incomplete = self._incomplete_rows(X)
        if incomplete is not None:
            return self._statistics_with_missing(X, sample_weight, log_mask, incomplete)
        return self._complete_statistics(X, sample_weight, log_mask)

    def _statistics_with_missing(
        self,
        X: np.ndarray,
        sample_weight: np.ndarray | None,
        log_mask: np.ndarray | None,
        incomplete: np.ndarray,
    ) -> MixtureStatistics:
        """The E-step of a chunk with missing values: complete rows as usual, the others
        through the family's observed-value densities and conditional statistics."""
        parts = []
        complete = ~incomplete
        for rows in (complete, incomplete):
            if not rows.any():
                continue
            # A row error names the row of the chunk, not of the subset.
            with rows_from(np.flatnonzero(rows)):
                parts.append(
                    self._subset_statistics(X, sample_weight, log_mask, rows, rows is complete)
                )
        return sum(parts[1:], parts[0])

    def _subset_statistics(
        self,
        X: np.ndarray,
        sample_weight: np.ndarray | None,
        log_mask: np.ndarray | None,
        rows: np.ndarray,
        complete: bool,
    ) -> MixtureStatistics:
        """The statistics of the chunk's ``rows`` (a mask): its complete rows, or its rows
        with missing values."""
        weights = None if sample_weight is None else sample_weight[rows]
        mask = None if log_mask is None else log_mask[rows]
        if complete:
            return self._complete_statistics(X[rows], weights, mask)
        total = float(rows.sum() if weights is None else weights.sum())
        fused = (
            None
            if mask is not None
            else self._family.fused_observed_e_step(X[rows], self._log_weights, weights)
        )
        if fused is not None:  # one pass (Gaussian families)
            component_weight, statistics, log_likelihood = fused
            return MixtureStatistics(component_weight, statistics, log_likelihood, total)
        resp = self._family.log_density_observed(X[rows]) + self._log_weights
        if mask is not None:
            resp += mask
        log_density = log_density_and_responsibilities(resp)
        if weights is not None:
            resp *= weights[:, None]
        log_likelihood = float(
            log_density.sum() if weights is None else np.dot(weights, log_density)
        )
        statistics = self._family.statistics_observed(X[rows], resp)
        return MixtureStatistics(resp.sum(axis=0), statistics, log_likelihood, total)

    def _complete_statistics(
        self, X: np.ndarray, sample_weight: np.ndarray | None, log_mask: np.ndarray | None
    ) -> MixtureStatistics:
        fused = (
            None
            if log_mask is not None
            else self._family.fused_e_step(X, self._log_weights, sample_weight)
        )
        if fused is not None:
            component_weight, statistics, log_likelihood = fused
            total_weight = float(X.shape[0] if sample_weight is None else sample_weight.sum())
            return MixtureStatistics(component_weight, statistics, log_likelihood, total_weight)
        resp = self.log_joint(X)
        if log_mask is not None:
            resp += log_mask.astype(resp.dtype, copy=False)
        log_density = log_density_and_responsibilities(resp)
        return weighted_statistics(self._family, X, resp, sample_weight, log_density)

    # -- public, chunked --------------------------------------------------------------------
    def _rows(self, X: Any, chunk_size: int | None) -> tuple[np.ndarray, int]:
        data = check_data(
            X, n_features=self.n_features, allow_missing=getattr(self, "_marginalize", False)
        )
        if chunk_size is None:
            chunk_size = auto_chunk_size(
                self.n_components, self.n_features, data.itemsize, data.shape[0]
            )
        return data, check_int(chunk_size, name="chunk_size", minimum=1)

    def score_samples(self, X: Any, *, chunk_size: int | None = None) -> np.ndarray:
        """Log-density of each row under the mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        chunk_size : int, optional
            Rows per chunk; changes memory use, not the result.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        if is_dask_collection(X):  # stays lazy: one task per row block
            from mixture.distributed import score_samples_blocks

            return score_samples_blocks(self, X, chunk_size=chunk_size)
        data, chunk_size = self._rows(X, chunk_size)
        out = np.empty(data.shape[0], dtype=data.dtype)

        def fill(rows: slice) -> None:
            out[rows] = log_density_and_responsibilities(self.log_joint(data[rows]))

        map_chunks(fill, data.shape[0], chunk_size)
        return out

    def predict_proba(self, X: Any, *, chunk_size: int | None = None) -> np.ndarray:
        """Responsibilities: the posterior probability of each component for each row.

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            Rows sum to 1.
        """
        if is_dask_collection(X):  # stays lazy: one task per row block
            from mixture.distributed import predict_proba_blocks

            return predict_proba_blocks(self, X, chunk_size=chunk_size)
        data, chunk_size = self._rows(X, chunk_size)
        out = np.empty((data.shape[0], self.n_components), dtype=data.dtype)

        def fill(rows: slice) -> None:
            joint = self.log_joint(data[rows])
            log_density_and_responsibilities(joint)
            out[rows] = joint

        map_chunks(fill, data.shape[0], chunk_size)
        return out

    def predict(self, X: Any, *, chunk_size: int | None = None) -> np.ndarray:
        """Most probable component of each row, shape ``(n_samples,)``."""
        if is_dask_collection(X):  # stays lazy: one task per row block
            from mixture.distributed import predict_blocks

            return predict_blocks(self, X, chunk_size=chunk_size)
        data, chunk_size = self._rows(X, chunk_size)
        out = np.empty(data.shape[0], dtype=np.intp)

        def fill(rows: slice) -> None:
            joint = self.log_joint(data[rows])
            checked_row_maxima(joint)
            out[rows] = joint.argmax(axis=1)

        map_chunks(fill, data.shape[0], chunk_size)
        return out

    def _source_sums(self, source: RowSource, sample_weight: Any) -> tuple[float, float, float]:
        """Weighted sums over a row source's chunks: ``log p(x)``, the log of the largest
        responsibility, and the weight."""
        if sample_weight is not None:
            raise ValueError("a row source carries its own sample weights")
        if source.n_features != self.n_features:
            raise ValueError(
                f"X has {source.n_features} features, but the model was fitted with "
                f"{self.n_features}"
            )

        def sums(chunk: RowChunk) -> np.ndarray:
            with rows_from(chunk.first_row):
                resp = self.log_joint(chunk.X)
                log_density = log_density_and_responsibilities(resp).astype(np.float64)
            log_best = np.log(resp.max(axis=1).astype(np.float64))
            weights = np.ones(resp.shape[0]) if chunk.weights is None else chunk.weights
            return np.array([weights @ log_density, weights @ log_best, weights.sum()])

        rows = auto_chunk_size(self.n_components, self.n_features)
        log_likelihood, classification, total = (
            float(v) for v in sum_over(sums, source.chunks(rows))
        )
        return log_likelihood, classification, total

    def score(self, X: Any, sample_weight: Any = None, *, chunk_size: int | None = None) -> float:
        """Weighted mean log-likelihood per row (``X`` may be a
        :class:`~mixture.sources.RowSource`, read chunk by chunk)."""
        if isinstance(X, RowSource):
            log_likelihood, _, total = self._source_sums(X, sample_weight)
            return log_likelihood / total
        data, chunk_size = self._rows(X, chunk_size)
        weights = check_sample_weight(sample_weight, data.shape[0])

        def log_likelihood(rows: slice) -> float:
            log_density = log_density_and_responsibilities(self.log_joint(data[rows]))
            if weights is None:
                return float(log_density.sum(dtype=np.float64))
            return float(np.dot(weights[rows], log_density.astype(np.float64)))

        total = sum_chunks(log_likelihood, data.shape[0], chunk_size)
        return total / (data.shape[0] if weights is None else float(weights.sum()))

    def bic(self, X: Any, sample_weight: Any = None) -> float:
        """Bayesian information criterion ``-2 log L + p log n`` on ``X`` (lower is better).

        ``n`` is the number of rows (the summed weight when ``sample_weight`` is given).
        """
        mean_log_likelihood = self.score(X, sample_weight)
        n_rows = self._effective_rows(X, sample_weight)
        return -2.0 * mean_log_likelihood * n_rows + self.n_parameters * float(np.log(n_rows))

    def aic(self, X: Any, sample_weight: Any = None) -> float:
        """Akaike information criterion ``-2 log L + 2 p`` on ``X`` (lower is better)."""
        mean_log_likelihood = self.score(X, sample_weight)
        n_rows = self._effective_rows(X, sample_weight)
        return -2.0 * mean_log_likelihood * n_rows + 2.0 * self.n_parameters

    def icl(self, X: Any, sample_weight: Any = None, *, chunk_size: int | None = None) -> float:
        """Integrated completed likelihood (Biernacki, Celeux and Govaert 2000), lower is better.

        ``ICL = BIC - 2 sum_i log r_i,k(i)``, where ``k(i)`` is the most probable component of
        row ``i``: BIC penalised by how ambiguously the rows are classified (mclust reports
        the same quantity with the opposite sign).
        """
        return self.criteria(X, sample_weight, chunk_size=chunk_size)["icl"]

    def criteria(
        self,
        X: Any,
        sample_weight: Any = None,
        *,
        chunk_size: int | None = None,
        labels: Any = None,
    ) -> dict[str, float]:
        """The total log-likelihood, BIC, AIC and ICL on ``X``, from one pass over the rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or a RowSource
        sample_weight : array-like of shape (n_samples,), optional
        labels : array-like of int of shape (n_samples,) or ComponentKnowledge, optional
            Known components (``-1`` unknown): the criteria of the semi-supervised model
            (:mod:`mixture.labels`), whose log-likelihood restricts each known row to its
            components. In-memory rows only.

        Returns
        -------
        dict
            ``log_likelihood``, ``bic``, ``aic``, ``icl`` (as the methods of those names).
        """
        if isinstance(X, RowSource):
            if labels is not None:
                raise ValueError("labels need in-memory rows (an array or a memory map)")
            log_likelihood, classification, n_rows = self._source_sums(X, sample_weight)
        else:
            log_likelihood, classification, n_rows = self._array_sums(
                X, sample_weight, chunk_size, labels
            )
        bic = -2.0 * log_likelihood + self.n_parameters * float(np.log(n_rows))
        return {
            "log_likelihood": log_likelihood,
            "bic": bic,
            "aic": -2.0 * log_likelihood + 2.0 * self.n_parameters,
            "icl": bic - 2.0 * classification,
        }

    def _array_sums(
        self, X: Any, sample_weight: Any, chunk_size: int | None, labels: Any = None
    ) -> tuple[float, float, float]:
        """Weighted sums over an array's rows: ``log p(x)``, the log of the largest
        responsibility, and the weight (with ``labels``, of the semi-supervised model)."""
        data, chunk_size = self._rows(X, chunk_size)
        weights = check_sample_weight(sample_weight, data.shape[0])
        knowledge = as_knowledge(labels, self.n_components, data.shape[0])

        def sums(rows: slice) -> np.ndarray:
            resp = self.log_joint(data[rows])
            if knowledge is not None:
                resp += knowledge.log_mask(rows).astype(resp.dtype, copy=False)
            log_density = log_density_and_responsibilities(resp).astype(np.float64)
            log_best = np.log(resp.max(axis=1).astype(np.float64))
            chunk_weights = np.ones(log_density.shape[0]) if weights is None else weights[rows]
            return np.array([np.dot(chunk_weights, log_density), np.dot(chunk_weights, log_best)])

        log_likelihood, classification = (
            float(v) for v in sum_chunks(sums, data.shape[0], chunk_size)
        )
        n_rows = float(data.shape[0] if weights is None else weights.sum())
        return log_likelihood, classification, n_rows

    def _effective_rows(self, X: Any, sample_weight: Any) -> float:
        return rows_weight(X, sample_weight)

    def sample(self, n_samples: int = 1, random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw rows from the mixture.

        Parameters
        ----------
        n_samples : int
        random_state : None, int or numpy.random.Generator

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Rows grouped by component.
        labels : ndarray of shape (n_samples,)
            Component of each row.
        """
        n_samples = check_int(n_samples, name="n_samples", minimum=1)
        rng = check_random_state(random_state)
        counts = rng.multinomial(n_samples, self._weights)
        rows = self._family.sample(counts, rng)
        return rows, np.repeat(np.arange(self.n_components), counts)
