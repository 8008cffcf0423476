"""A product of components over column blocks, for tables of mixed column types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mixture._validation import check_data, check_rows_and_weights
from mixture.constraints import ColumnBlocks, Support
from mixture.contract import Capabilities, Component, Statistics
from mixture.twins import IndependentTwin

__all__ = ["Independent", "IndependentStatistics"]


@dataclass(frozen=True, eq=False)
class IndependentStatistics(Statistics):
    """The parts' statistics, computed with the same row weights.

    Attributes
    ----------
    weight : float
        Summed row weight passed to :meth:`Independent.statistics`.
    parts : tuple of Statistics
        One per part, in the order of :attr:`Independent.parts`.
    """

    weight: float
    parts: tuple[Statistics, ...]

    def __add__(self, other: Statistics) -> IndependentStatistics:
        if not isinstance(other, IndependentStatistics) or len(other.parts) != len(self.parts):
            return NotImplemented
        return IndependentStatistics(
            self.weight + other.weight,
            tuple(a + b for a, b in zip(self.parts, other.parts, strict=True)),
        )

    def scale(self, factor: float) -> IndependentStatistics:
        return IndependentStatistics(
            self.weight * factor, tuple(part.scale(factor) for part in self.parts)
        )

    @property
    def total_weight(self) -> float:
        return self.weight


class _RowTwin:
    """A part's row-wise twin, tagged with its width so IndependentTwin treats it as one.

    :class:`~mixture.twins.IndependentTwin` recognises a row-wise twin by an ``n_features``
    attribute, which ``IndependentTwin`` itself does not have; this wrapper adds it.
    """

    def __init__(self, twin: Any, n_features: int) -> None:
        self.twin = twin
        self.n_features = n_features

    def logpdf(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.twin.logpdf(X)).reshape(X.shape[0])

    def rvs(self, size: int, random_state: Any = None) -> np.ndarray:
        draws = self.twin.rvs(size=size, random_state=random_state)
        return np.asarray(draws, dtype=np.float64).reshape(size, self.n_features)


class _ColumnOrderTwin:
    """A row-wise twin over columns taken in the order ``order``.

    ``logpdf(X)`` evaluates the inner twin on ``X[:, order]``; ``rvs`` puts the inner
    twin's column ``m`` back into column ``order[m]``.
    """

    def __init__(self, inner: Any, order: np.ndarray) -> None:
        self.inner = inner
        self.order = order
        self.n_features = int(order.shape[0])

    def logpdf(self, X: np.ndarray) -> np.ndarray:
        return self.inner.logpdf(X[:, self.order])

    def rvs(self, size: int, random_state: Any = None) -> np.ndarray:
        draws = np.asarray(self.inner.rvs(size, random_state))
        out = np.empty_like(draws)
        out[:, self.order] = draws
        return out


def _checked_parts(parts: Any) -> tuple[Component, ...]:
    if isinstance(parts, Component) or not isinstance(parts, Sequence):
        raise ValueError(
            f"parts must be a sequence of mixture.Component objects; got {type(parts).__name__}"
        )
    items = tuple(parts)
    if not items:
        raise ValueError("parts must hold at least one component; got an empty sequence")
    for position, part in enumerate(items):
        if not isinstance(part, Component):
            raise ValueError(f"parts[{position}] is a {type(part).__name__}, not a Component")
    return items


def _checked_blocks(blocks: Any, parts: tuple[Component, ...]) -> tuple[tuple[int, ...], ...]:
    widths = [part.n_features for part in parts]
    if blocks is None:
        starts = np.cumsum([0, *widths[:-1]])
        return tuple(
            tuple(range(int(start), int(start) + width))
            for start, width in zip(starts, widths, strict=True)
        )
    if not isinstance(blocks, (Sequence, np.ndarray)) or isinstance(blocks, (str, bytes)):
        raise ValueError(
            f"blocks must be a sequence of column-index lists; got {type(blocks).__name__}"
        )
    if len(blocks) != len(parts):
        raise ValueError(f"blocks has {len(blocks)} entries but there are {len(parts)} parts")
    checked = []
    for position, (block, width) in enumerate(zip(blocks, widths, strict=True)):
        columns = np.asarray(block)
        if columns.ndim != 1 or (columns.size and columns.dtype.kind not in "iu"):
            raise ValueError(f"blocks[{position}] must be a 1-D list of column indices")
        if columns.shape[0] != width:
            raise ValueError(
                f"blocks[{position}] has {columns.shape[0]} columns but parts[{position}] "
                f"describes {width} features"
            )
        checked.append(tuple(int(column) for column in columns))
    n_features = sum(widths)
    used = sorted(column for block in checked for column in block)
    if used != list(range(n_features)):
        raise ValueError(
            f"blocks must cover every column 0..{n_features - 1} exactly once; got {checked}"
        )
    return tuple(checked)


def _indexer(block: tuple[int, ...]) -> slice | np.ndarray:
    """A slice for consecutive increasing columns (a view, no copy), else an index array."""
    if block == tuple(range(block[0], block[0] + len(block))):
        return slice(block[0], block[0] + len(block))
    return np.array(block, dtype=np.intp)


class Independent(Component):
    """A product of components over column blocks: ``p(x) = prod_b p_b(x[blocks[b]])``.

    One mixture component for a table whose columns are of different kinds, for example a
    Gaussian over two measurements times a categorical code times a Poisson count. Within a
    mixture component the blocks are independent; the mixture models their dependence.

    Parameters
    ----------
    parts : sequence of Component
        The factors, at least one.
    blocks : sequence of sequence of int, optional
        ``blocks[b]`` lists the columns of the row that ``parts[b]`` describes, in the order
        the part expects them; it must have ``parts[b].n_features`` entries, and the blocks
        together must cover every column ``0 .. n_features - 1`` exactly once. Default:
        consecutive blocks in the order of ``parts``.

    Notes
    -----
    - ``log_density`` is the sum of the parts' log-densities on their columns (``-inf``
      where any part's is).
    - ``statistics`` are the parts' statistics, each computed with the same row weights; the
      M-step fits part by part. A part whose statistics carry zero weight (every row
      outside its support) keeps its parameters, as the family's M-step does for whole
      components. A row outside one part's support (its :attr:`support`) has zero
      likelihood under the product, so it enters no part's statistics.
    - ``capabilities.discrete`` holds when every part is discrete, ``fixed`` when every part
      is fixed.
    - ``scipy_twin()`` combines the parts' twins (``None`` if any part has none), with the
      columns permuted back when the blocks are not consecutive; ``mean`` and ``variance``
      are assembled from the parts' (``None`` if any part lacks them).

    Examples
    --------
    >>> import numpy as np
    >>> from mixture import Gaussian
    >>> from mixture.components.poisson import Poisson
    >>> from mixture.components.categorical import Categorical
    >>> row = Independent(
    ...     [Gaussian([0.0, 0.0], np.eye(2)), Categorical([[0.2, 0.8]]), Poisson([3.0])],
    ...     blocks=[[0, 2], [1], [3]],
    ... )
    >>> row.n_features, row.n_parameters
    (4, 7)
    """

    def __init__(
        self, parts: Sequence[Component], blocks: Sequence[Sequence[int]] | None = None
    ) -> None:
        self._parts = _checked_parts(parts)
        self._blocks = _checked_blocks(blocks, self._parts)
        self._indexers = tuple(_indexer(block) for block in self._blocks)
        self._n_features = sum(part.n_features for part in self._parts)
        supports = [getattr(part, "support", None) for part in self._parts]
        self._support = ColumnBlocks(
            tuple(s if isinstance(s, Support) else None for s in supports), self._blocks
        )

    @property
    def support(self) -> ColumnBlocks:
        """Every block inside its part's support (a part that declares none takes any row)."""
        return self._support

    def __repr__(self) -> str:
        return f"Independent({list(self._parts)!r}, blocks={[list(b) for b in self._blocks]!r})"

    @property
    def parts(self) -> tuple[Component, ...]:
        return self._parts

    @property
    def blocks(self) -> tuple[tuple[int, ...], ...]:
        """The columns of each part."""
        return self._blocks

    @property
    def capabilities(self) -> Capabilities:
        """Discrete if every part is; fixed if every part is."""
        return Capabilities(
            discrete=all(part.capabilities.discrete for part in self._parts),
            fixed=all(part.capabilities.fixed for part in self._parts),
        )

    @property
    def n_features(self) -> int:
        return self._n_features

    @property
    def n_parameters(self) -> int:
        return sum(part.n_parameters for part in self._parts)

    @property
    def mean(self) -> np.ndarray | None:
        """Mean of each column, shape (n_features,), or ``None`` if a part has none."""
        return self._assembled("mean")

    @property
    def variance(self) -> np.ndarray | None:
        """Variance of each column, shape (n_features,), or ``None`` if a part has none."""
        return self._assembled("variance")

    def _assembled(self, name: str) -> np.ndarray | None:
        out = np.empty(self._n_features)
        for part, indexer in zip(self._parts, self._indexers, strict=True):
            values = getattr(part, name, None)
            if values is None:
                return None
            out[indexer] = values
        return out

    def with_parameters_from(self, other: Component) -> Independent:
        """Part by part: each part's settings with ``other``'s part's parameters."""
        if (
            not isinstance(other, Independent)
            or len(other.parts) != len(self._parts)
            or other.blocks != self._blocks
        ):
            raise ValueError(
                f"cannot start {self!r} from {other!r}: the parts and blocks must match"
            )
        parts = [
            mine.with_parameters_from(theirs)
            for mine, theirs in zip(self._parts, other.parts, strict=True)
        ]
        return Independent(parts, self._blocks)

    def log_density(self, X: Any) -> np.ndarray:
        """Sum of the parts' log-densities on their columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), float64
        """
        data = check_data(X, n_features=self._n_features)
        total = np.zeros(data.shape[0])
        for part, indexer in zip(self._parts, self._indexers, strict=True):
            total += part.log_density(data[:, indexer])
        return total

    def statistics(self, X: Any, weights: Any) -> IndependentStatistics:
        """Each part's statistics on its columns, with the same row weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        weights : array-like of shape (n_samples,)

        Returns
        -------
        IndependentStatistics
        """
        data, row_weights = check_rows_and_weights(X, weights, self._n_features)
        # A row outside any part's support has zero likelihood: it informs no part.
        row_weights = np.where(self._support.contains(data), row_weights, 0.0)
        return IndependentStatistics(
            float(row_weights.sum()),
            tuple(
                part.statistics(data[:, indexer], row_weights)
                for part, indexer in zip(self._parts, self._indexers, strict=True)
            ),
        )

    @property
    def handles_missing(self) -> bool:  # type: ignore[override]
        """Whether every part marginalises missing values (then so does the product)."""
        return all(part.handles_missing for part in self._parts)

    def log_density_observed(self, X: np.ndarray) -> np.ndarray:
        """Sum of the parts' observed-value log-densities (a block with every value missing
        adds 0)."""
        total = np.zeros(X.shape[0])
        for part, indexer in zip(self._parts, self._indexers, strict=True):
            total += part.log_density_observed(X[:, indexer])
        return total

    def statistics_observed(self, X: np.ndarray, weights: np.ndarray) -> IndependentStatistics:
        """Each part's statistics of its observed values, with the same row weights."""
        return IndependentStatistics(
            float(weights.sum()),
            tuple(
                part.statistics_observed(X[:, indexer], weights)
                for part, indexer in zip(self._parts, self._indexers, strict=True)
            ),
        )

    def from_statistics(self, statistics: Statistics) -> Independent:
        """M-step part by part; a part with zero-weight statistics keeps its parameters."""
        if not isinstance(statistics, IndependentStatistics) or len(statistics.parts) != len(
            self._parts
        ):
            raise TypeError(
                f"Independent.from_statistics needs the IndependentStatistics of its "
                f"{len(self._parts)} parts; got {statistics!r}"
            )
        parts = [
            part.from_statistics(stats) if stats.total_weight > 0 else part
            for part, stats in zip(self._parts, statistics.parts, strict=True)
        ]
        return Independent(parts, self._blocks)

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """Draw rows: each part's draws go into its columns.

        Parameters
        ----------
        n_samples : int
        rng : numpy.random.Generator

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
        """
        out = np.empty((n_samples, self._n_features))
        for part, indexer in zip(self._parts, self._indexers, strict=True):
            out[:, indexer] = part.sample(n_samples, rng)
        return out

    def scipy_twin(self) -> Any:
        """The product of the parts' scipy twins, or ``None`` if a part has no twin.

        Built with :class:`~mixture.twins.IndependentTwin` over the columns taken block by
        block; when the blocks are not consecutive, the columns are permuted into that order
        before evaluating and back after sampling.
        """
        twins = [part.scipy_twin() for part in self._parts]
        if any(twin is None for twin in twins):
            return None
        widths = [part.n_features for part in self._parts]
        product = IndependentTwin(
            [_RowTwin(twin, width) for twin, width in zip(twins, widths, strict=True)], widths
        )
        order = np.array([column for block in self._blocks for column in block], dtype=np.intp)
        if (order == np.arange(self._n_features)).all():
            return product
        return _ColumnOrderTwin(product, order)
