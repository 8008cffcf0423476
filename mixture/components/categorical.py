"""Independent categorical features with integer codes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from mixture._validation import check_data
from mixture.component import Capabilities, Component, Statistics
from mixture.components._base import (
    LinearStatistics,
    check_pseudocount,
    check_rows_and_weights,
    no_weight_error,
)
from mixture.twins import IndependentTwin

__all__ = ["Categorical", "CategoricalStatistics"]

_SUM_TOLERANCE = 1e-6


class CategoricalStatistics(LinearStatistics):
    """Summed weight and one weighted count vector per feature.

    ``sums[j]`` has shape ``(n_categories[j],)``: ``sums[j][c] = sum_i w_i [x_ij = c]``.
    Only rows inside the support (a valid code in every feature) enter.
    """


def _checked_probs(probs: Any) -> tuple[np.ndarray, ...]:
    """Validate one probability vector per feature; return them as float64, renormalised when
    their sum is off 1 by more than round-off."""
    if isinstance(probs, np.ndarray) and probs.ndim < 2:
        raise ValueError(
            f"probs must be a sequence of 1-D arrays, one per feature; got an array of shape "
            f"{probs.shape} (for a single feature, wrap it: [probs])"
        )
    if not isinstance(probs, (Sequence, np.ndarray)) or isinstance(probs, (str, bytes)):
        raise ValueError(
            f"probs must be a sequence of 1-D arrays, one per feature; got {type(probs).__name__}"
        )
    if len(probs) == 0:
        raise ValueError("probs must describe at least one feature; got an empty sequence")
    vectors = []
    for feature, values in enumerate(probs):
        raw = np.asarray(values)
        if raw.dtype.kind not in "biuf":
            raise ValueError(
                f"probs[{feature}] must contain only real numbers; got dtype {raw.dtype}"
            )
        vector = np.array(raw, dtype=np.float64)
        if vector.ndim != 1 or vector.shape[0] == 0:
            raise ValueError(
                f"probs[{feature}] must be a non-empty 1-D array of category probabilities; "
                f"got shape {vector.shape}"
            )
        if not np.isfinite(vector).all() or (vector < 0).any() or (vector > 1).any():
            raise ValueError(
                f"probs[{feature}] must hold finite probabilities in [0, 1]; got {vector.tolist()}"
            )
        total = float(vector.sum())
        if abs(total - 1.0) > _SUM_TOLERANCE:
            raise ValueError(f"probs[{feature}] must sum to 1; it sums to {total!r}")
        # Renormalise only beyond round-off, so rebuilding a component (a model file's round
        # trip) never changes its probabilities.
        exact_enough = abs(total - 1.0) <= vector.shape[0] * np.finfo(np.float64).eps
        vectors.append(vector if exact_enough else vector / total)
    return tuple(vectors)


class Categorical(Component):
    """Independent categorical features, ``p(x) = prod_j probs[j][x_j]``.

    Each feature ``j`` holds an integer code ``0 .. n_categories[j] - 1`` (stored as a float,
    like every column of the data matrix); features may have different numbers of
    categories.

    Parameters
    ----------
    probs : sequence of array-like
        One 1-D array per feature: ``probs[j][c]`` is the probability of code ``c`` in
        feature ``j``. Each must lie in ``[0, 1]`` and sum to 1 (within 1e-6; it is then
        renormalised exactly). Zero probabilities are allowed: the M-step returns them for a
        category no weighted row has.
    pseudocount : float, default 0
        ``a >= 0``: the M-step returns the posterior mode under a symmetric
        ``Dirichlet(1 + a)`` prior, ``(n_jc + a) / (n_j + C_j a)``. ``0`` is the exact
        maximum-likelihood estimate; ``a > 0`` keeps every category possible but breaks
        the invariance of the M-step to scaling all weights (the prior does not scale).

    Notes
    -----
    **Support.** A row with a code outside ``0 .. n_categories[j] - 1`` in some feature
    (negative, too large, or fractional) has log-density ``-inf``; so does a code of
    probability 0. The engine raises only if no component of the mixture explains a row.
    Rows outside the support are left out of the statistics (their likelihood is zero for
    any parameters).

    ``mean`` and ``variance`` are those of the integer codes, which the conformance kit
    compares with sample moments; they carry no meaning for unordered categories.

    Examples
    --------
    >>> import numpy as np
    >>> c = Categorical([[0.5, 0.5], [0.1, 0.2, 0.7]])
    >>> np.exp(c.log_density(np.array([[0.0, 2.0], [1.0, 3.0]]))).round(6).tolist()
    [0.35, 0.0]
    >>> c.n_parameters
    3
    """

    capabilities: ClassVar[Capabilities] = Capabilities(discrete=True)

    def __init__(self, probs: Any, *, pseudocount: float = 0.0) -> None:
        self._probs = _checked_probs(probs)
        self._pseudocount = check_pseudocount(pseudocount)
        with np.errstate(divide="ignore"):
            self._log_probs = tuple(np.log(p) for p in self._probs)

    def __repr__(self) -> str:
        extra = f", pseudocount={self._pseudocount!r}" if self._pseudocount else ""
        return f"Categorical(probs={[p.tolist() for p in self._probs]!r}{extra})"

    @property
    def probs(self) -> tuple[np.ndarray, ...]:
        """One array of shape ``(n_categories[j],)`` per feature."""
        return tuple(p.copy() for p in self._probs)

    @property
    def n_categories(self) -> tuple[int, ...]:
        """Number of categories of each feature."""
        return tuple(int(p.shape[0]) for p in self._probs)

    @property
    def pseudocount(self) -> float:
        return self._pseudocount

    @property
    def n_features(self) -> int:
        return len(self._probs)

    @property
    def n_parameters(self) -> int:
        """``sum_j (n_categories[j] - 1)``: each probability vector sums to 1."""
        return sum(count - 1 for count in self.n_categories)

    @property
    def mean(self) -> np.ndarray:
        """Mean of each feature's integer code, shape (n_features,)."""
        return np.array([np.dot(np.arange(p.shape[0]), p) for p in self._probs])

    @property
    def variance(self) -> np.ndarray:
        """Variance of each feature's integer code, shape (n_features,)."""
        second = np.array([np.dot(np.arange(p.shape[0]) ** 2, p) for p in self._probs])
        return np.maximum(second - self.mean**2, 0.0)

    def with_parameters_from(self, other: Component) -> Categorical:
        """``other``'s probabilities with this component's pseudocount (for warm starts)."""
        if not isinstance(other, Categorical) or other.n_categories != self.n_categories:
            raise ValueError(
                f"cannot start a Categorical with categories {self.n_categories} from {other!r}"
            )
        return Categorical(other._probs, pseudocount=self._pseudocount)

    def _codes(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Integer codes of the rows, and which rows are inside the support.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_features), int
            Code of each value; 0 where the row is outside the support.
        inside : ndarray of shape (n_samples,), bool
        """
        limits = np.array(self.n_categories)
        valid = (data >= 0) & (data < limits) & (np.floor(data) == data)
        inside = valid.all(axis=1)
        codes = np.where(inside[:, None], data, 0).astype(np.intp)
        return codes, inside

    def log_density(self, X: Any) -> np.ndarray:
        """Log-probability of each row; ``-inf`` outside the support.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), float64
        """
        data = check_data(X, n_features=self.n_features)
        codes, inside = self._codes(data)
        total = np.zeros(data.shape[0])
        for feature, log_probs in enumerate(self._log_probs):
            total += log_probs[codes[:, feature]]
        return np.where(inside, total, -np.inf)

    def statistics(self, X: Any, weights: Any) -> CategoricalStatistics:
        """Weighted category counts of the rows inside the support.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        weights : array-like of shape (n_samples,)

        Returns
        -------
        CategoricalStatistics
        """
        data, row_weights = check_rows_and_weights(X, weights, self.n_features)
        codes, inside = self._codes(data)
        kept = np.where(inside, row_weights, 0.0)
        counts = tuple(
            np.bincount(codes[:, feature], weights=kept, minlength=count).astype(np.float64)
            for feature, count in enumerate(self.n_categories)
        )
        return CategoricalStatistics(float(kept.sum()), counts)

    def from_statistics(self, statistics: Statistics) -> Categorical:
        """M-step: ``probs[j] = (n_j + a) / (sum_c n_jc + C_j a)``, ``n_j`` the weighted
        counts of feature ``j`` and ``a`` the pseudocount.

        Raises
        ------
        DegenerateComponentError
            If the statistics carry zero weight and the pseudocount is 0.
        """
        if not isinstance(statistics, CategoricalStatistics):
            raise TypeError(
                f"Categorical.from_statistics needs CategoricalStatistics; got {statistics!r}"
            )
        a = self._pseudocount
        if not statistics.weight + a > 0:
            raise no_weight_error("Categorical")
        # Normalising by each feature's own count total (equal to the weight up to rounding)
        # makes every vector sum to 1 to the last bit or two.
        probs = [(counts + a) / (counts.sum() + counts.shape[0] * a) for counts in statistics.sums]
        return Categorical(probs, pseudocount=a)

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """Draw rows of codes.

        Parameters
        ----------
        n_samples : int
        rng : numpy.random.Generator

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
        """
        out = np.empty((n_samples, self.n_features))
        for feature, probs in enumerate(self._probs):
            out[:, feature] = rng.choice(probs.shape[0], size=n_samples, p=probs)
        return out

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import rv_discrete

        return IndependentTwin(
            [rv_discrete(values=(np.arange(p.shape[0]), p)) for p in self._probs]
        )
