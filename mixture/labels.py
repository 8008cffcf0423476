"""What is known of rows' components: labels, allowed sets, or prior responsibilities.

Semi-supervised EM (a few rows whose component is known steer a clustering) changes only
the E-step: a row's responsibilities are restricted to the components it may belong to,

    r_ik = m_ik w_k p_k(x_i) / sum_j m_ij w_j p_j(x_i),

with ``m_ik`` 1 for the row's known component (0 for the others), 1 for every component of
an allowed set, or a prior probability ``pi_ik``; ``m_ik = 1`` for all ``k`` when nothing is
known. EM then maximises the semi-supervised log-likelihood

    sum_i log sum_k m_ik w_k p_k(x_i),

which is the complete-data log-likelihood ``log w_z p_z(x)`` for a labelled row, the
probability of the row and of its component lying in the set for an allowed set, and the
usual mixture log-likelihood for an unlabelled row. This is the log-likelihood (and the
basis of BIC) that fits with known components report.

:class:`ComponentKnowledge` holds that knowledge for the rows of a data set and gives the
``log m`` of any block of rows, so the E-step stays a map over chunks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["ComponentKnowledge", "as_knowledge"]


class ComponentKnowledge:
    """Per-row knowledge of the components (see the module).

    Build one with :meth:`from_labels`, :meth:`from_allowed` or :meth:`from_prior`; or pass
    labels (an integer array with -1 for unknown) wherever ``labels=`` is taken.

    Attributes
    ----------
    n_rows : int
    n_components : int
    known : ndarray of shape (n_rows,), bool
        Rows with any knowledge (a label, a set smaller than all components, or a prior
        that is not uniform).
    """

    def __init__(
        self,
        n_components: int,
        *,
        labels: np.ndarray | None = None,
        log_prior: np.ndarray | None = None,
    ) -> None:
        # Private: use the from_* constructors, which check their inputs.
        self.n_components = n_components
        self._labels = labels
        self._log_prior = log_prior
        if labels is not None:
            self.n_rows = labels.shape[0]
            self.known = labels >= 0
        else:
            assert log_prior is not None
            self.n_rows = log_prior.shape[0]
            self.known = (log_prior != log_prior[:, :1]).any(axis=1)

    def __repr__(self) -> str:
        return (
            f"ComponentKnowledge(n_rows={self.n_rows}, n_components={self.n_components}, "
            f"known={int(self.known.sum())})"
        )

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_labels(cls, labels: Any, n_components: int) -> ComponentKnowledge:
        """Known components by index, ``-1`` where unknown.

        Parameters
        ----------
        labels : array-like of int, shape (n_samples,)
            Values in ``-1 .. n_components - 1``.
        n_components : int
        """
        raw = np.asarray(labels)
        if raw.ndim != 1:
            raise ValueError(f"labels must be 1-D (one per row); got shape {raw.shape}")
        if raw.dtype.kind == "f":
            if not np.isfinite(raw).all() or (raw != np.round(raw)).any():
                bad = int(np.flatnonzero(~np.isfinite(raw) | (raw != np.round(raw)))[0])
                raise ValueError(
                    f"labels must be whole numbers (-1 for unknown); labels[{bad}] is {raw[bad]!r}"
                )
        elif raw.dtype.kind not in "iu":  # booleans are masks, not component indices
            raise ValueError(
                f"labels must be integer component indices (-1 for unknown); got dtype {raw.dtype}"
            )
        values = raw.astype(np.int64)
        bad = np.flatnonzero((values < -1) | (values >= n_components))
        if bad.size:
            row = int(bad[0])
            raise ValueError(
                f"labels must lie in -1 .. {n_components - 1} (component indices, -1 for "
                f"unknown); labels[{row}] is {int(values[row])}"
            )
        return cls(n_components, labels=values)

    @classmethod
    def from_allowed(cls, allowed: Any) -> ComponentKnowledge:
        """Sets of components each row may belong to.

        Parameters
        ----------
        allowed : array-like of bool, shape (n_samples, n_components)
            ``allowed[i, k]``: row ``i`` may belong to component ``k``. Every row allows at
            least one; a row allowing all is unknown.
        """
        mask = np.asarray(allowed)
        if mask.ndim != 2 or mask.dtype.kind != "b":
            raise ValueError(
                "allowed must be a boolean array of shape (n_samples, n_components); "
                f"got dtype {mask.dtype}, shape {mask.shape}"
            )
        empty = np.flatnonzero(~mask.any(axis=1))
        if empty.size:
            raise ValueError(
                f"every row must allow at least one component; row {int(empty[0])} allows none"
            )
        log_prior = np.where(mask, 0.0, -np.inf)
        return cls(mask.shape[1], log_prior=log_prior)

    @classmethod
    def from_prior(cls, probabilities: Any) -> ComponentKnowledge:
        """Prior probabilities of each row's component (only their ratios within a row
        matter: each row is scaled so its largest value is 1, which makes a uniform row
        unknown and a one-hot row a label).

        Parameters
        ----------
        probabilities : array-like of shape (n_samples, n_components)
            Non-negative, finite, with a positive sum in every row; a uniform row is
            unknown.
        """
        values = np.asarray(probabilities)
        if values.ndim != 2 or values.dtype.kind not in "biuf":
            raise ValueError(
                "probabilities must be a real array of shape (n_samples, n_components); "
                f"got dtype {values.dtype}, shape {values.shape}"
            )
        values = values.astype(np.float64)
        bad = np.argwhere(~np.isfinite(values) | (values < 0))
        if bad.size:
            row, column = (int(i) for i in bad[0])
            raise ValueError(
                "probabilities must be finite and non-negative; "
                f"probabilities[{row}, {column}] is {values[row, column]!r}"
            )
        totals = values.sum(axis=1)
        empty = np.flatnonzero(~(totals > 0))
        if empty.size:
            raise ValueError(
                f"every row's probabilities must have a positive sum; row {int(empty[0])} "
                "is all zeros"
            )
        # Scaled so each row's largest value is 1 (the responsibilities do not change): a
        # uniform row is then exactly an unknown one, a one-hot row exactly a label.
        with np.errstate(divide="ignore"):
            log_prior = np.log(values / values.max(axis=1, keepdims=True))
        return cls(values.shape[1], log_prior=log_prior)

    @property
    def labels(self) -> np.ndarray | None:
        """The component indices (``-1`` unknown) when built from labels, else None."""
        return self._labels

    # -- use --------------------------------------------------------------------------------
    @property
    def any_known(self) -> bool:
        """Whether any row carries knowledge (otherwise EM is plain EM)."""
        return bool(self.known.any())

    def log_mask(self, rows: slice) -> np.ndarray:
        """``log m_ik`` of a block of rows, shape ``(len(rows), n_components)``: 0 for an
        allowed component, ``-inf`` for an excluded one (or the log prior probability)."""
        if self._log_prior is not None:
            return self._log_prior[rows]
        labels = self._labels[rows]  # type: ignore[index]
        mask = np.zeros((labels.shape[0], self.n_components))
        known = np.flatnonzero(labels >= 0)
        mask[known] = -np.inf
        mask[known, labels[known]] = 0.0
        return mask

    @property
    def covers_every_component(self) -> bool:
        """Whether every component has known rows that may belong to it alone (a label, or
        an allowed set of one, or a prior concentrated on it)."""
        mask = np.exp(self.log_mask(slice(None))[self.known])
        certain = mask == mask.sum(axis=1, keepdims=True)  # all the row's mass on one
        return bool(certain.any(axis=0).all())

    def known_responsibilities(self) -> np.ndarray:
        """Responsibilities ``(n_rows, n_components)`` from the knowledge alone: the
        normalised ``m`` of known rows, zero for unknown rows (a start fitted to the known
        rows only)."""
        mask = np.exp(self.log_mask(slice(None)))
        mask[~self.known] = 0.0
        totals = mask.sum(axis=1, keepdims=True)
        return np.divide(mask, totals, out=np.zeros_like(mask), where=totals > 0)

    def restrict(self, responsibilities: np.ndarray) -> np.ndarray:
        """A start's responsibilities ``(n_samples, n_components)`` made consistent with the
        knowledge. An initializer numbers its clusters arbitrarily, so they are first
        renumbered to agree best with the known rows (the assignment maximising the summed
        agreement ``sum_i r_ia m_ib`` over known rows, a linear assignment problem); then
        each row's responsibilities are multiplied by ``m`` and renormalised (uniform over
        the allowed components where the start gave them no weight). Returns a new array."""
        mask = np.exp(self.log_mask(slice(None)))
        known = np.flatnonzero(self.known)
        start = np.asarray(responsibilities, dtype=np.float64)
        shares = mask[known] / mask[known].sum(axis=1, keepdims=True)
        agreement = start[known].T @ shares  # (initializer's cluster a, component b)
        clusters, components = linear_sum_assignment(agreement, maximize=True)
        renumbered = np.empty_like(start)
        renumbered[:, components] = start[:, clusters]
        restricted = renumbered * mask
        totals = restricted.sum(axis=1)
        empty = ~(totals > 0)
        restricted[empty] = mask[empty]
        totals[empty] = mask[empty].sum(axis=1)
        restricted /= totals[:, None]
        return restricted


def as_knowledge(labels: Any, n_components: int, n_rows: int) -> ComponentKnowledge | None:
    """``labels`` as :class:`ComponentKnowledge` for ``n_rows`` rows and ``n_components``
    components: None stays None; an integer array is read as component indices (-1 unknown).
    Knowledge of no row gives None (plain EM)."""
    if labels is None:
        return None
    knowledge = (
        labels
        if isinstance(labels, ComponentKnowledge)
        else ComponentKnowledge.from_labels(labels, n_components)
    )
    if knowledge.n_rows != n_rows:
        raise ValueError(f"labels are given for {knowledge.n_rows} rows; X has {n_rows}")
    if knowledge.n_components != n_components:
        raise ValueError(
            f"labels are given for {knowledge.n_components} components; the model has "
            f"{n_components}"
        )
    return knowledge if knowledge.any_known else None
