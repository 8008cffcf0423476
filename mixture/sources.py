"""Row sources: data read again on every pass of EM, one chunk of rows at a time.

Exact EM needs every row once per iteration, but never all rows at once: the E-step is a sum
of per-chunk statistics. A :class:`RowSource` gives the chunks, afresh on every pass, so the
engine can fit data larger than memory:

- :class:`ArraySource`: an in-memory array or a ``numpy.memmap`` (views, never a copy);
- :class:`TableSource`: a delimited text (CSV), ``.npy`` (memory-mapped) or Parquet file,
  read block by block (:func:`mixture.tables.open_table`);
- :class:`FactorySource`: your own function returning a fresh iterable of arrays (or
  ``(X, sample_weight)`` pairs) on every call.

:func:`as_source` turns what a user passes to ``fit`` into a source: arrays, paths and
factories. A one-shot iterator (a generator) cannot be read twice, which exact EM needs; it is
refused with a pointer to online EM (:class:`mixture.online.OnlineEM`), which fits in one pass.

Every chunk is validated as it is read (shape, dtype, NaN, infinity), with errors naming the
row of the whole data, not of the chunk.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mixture._chunking import row_slices
from mixture._row_random import BottomK, row_keys, uniforms
from mixture._validation import check_data, check_sample_weight
from mixture.tables import TableStream, open_table

if TYPE_CHECKING:
    from mixture.executors import Executor

__all__ = [
    "ArraySource",
    "ColumnSummary",
    "FactorySource",
    "RowChunk",
    "RowSource",
    "TableSource",
    "TransformedSource",
    "as_source",
    "column_summary",
    "row_sample",
    "rows_weight",
]


@dataclass(frozen=True)
class RowChunk:
    """Consecutive rows of a source.

    Attributes
    ----------
    first_row : int
        Number of the chunk's first row in the whole data.
    X : ndarray of shape (n_rows, n_features)
        float32 or float64, finite.
    weights : ndarray of shape (n_rows,) or None
        Non-negative sample weights, or None for weight 1 each.
    """

    first_row: int
    X: np.ndarray
    weights: np.ndarray | None


class RowSource(ABC):
    """Rows that can be read from the start again, chunk by chunk (see the module)."""

    @property
    @abstractmethod
    def n_features(self) -> int:
        """Columns of every row."""

    @abstractmethod
    def chunks(self, chunk_rows: int) -> Iterator[RowChunk]:
        """One pass over the rows, in order, in chunks of about ``chunk_rows`` rows.

        Parameters
        ----------
        chunk_rows : int
            Rows per chunk the caller would like; a file source may use its own block size.
        """

    @property
    def n_rows(self) -> int | None:
        """Number of rows, when known without a pass."""
        return None

    @property
    def feature_names(self) -> tuple[str, ...] | None:
        """Column names, when the source has them."""
        return None

    def total_weight(self) -> float:
        """Summed sample weight of the rows (their number when unweighted); one pass over
        the data the first time, remembered after."""
        cached = getattr(self, "_total_weight", None)
        if cached is None:
            cached = float(
                sum(
                    chunk.X.shape[0] if chunk.weights is None else float(chunk.weights.sum())
                    for chunk in self.chunks(65536)
                )
            )
            self._total_weight = cached
        return cached

    def row_sample(self, size: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        """:func:`row_sample` of this source (a distributed source draws it where its
        blocks live)."""
        return row_sample(self, size, seed)

    def preferred_executor(self) -> Executor | None:
        """The executor this source's chunks should run on when the engine is given none
        (None: the engine's default, threads of this process)."""
        return None


class ArraySource(RowSource):
    """An in-memory array or memory map, with optional sample weights; chunks are views.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Validated once (in bounded chunks); float32 and float64 arrays, memory maps included,
        are not copied.
    sample_weight : array-like of shape (n_samples,), optional
    """

    def __init__(self, X: Any, sample_weight: Any = None, *, allow_missing: bool = False) -> None:
        self.X = check_data(X, allow_missing=allow_missing)
        self.weights = check_sample_weight(sample_weight, self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    def total_weight(self) -> float:
        return float(self.X.shape[0] if self.weights is None else np.sum(self.weights))

    def chunks(self, chunk_rows: int) -> Iterator[RowChunk]:
        for rows in row_slices(self.X.shape[0], chunk_rows):
            weights = None if self.weights is None else self.weights[rows]
            yield RowChunk(rows.start, self.X[rows], weights)


class TableSource(RowSource):
    """A data file read block by block on every pass (text, ``.npy`` or Parquet).

    Parameters
    ----------
    path : str or PathLike
    columns : sequence of str, optional
        Columns to use, by name; default every numeric column (see
        :func:`mixture.tables.read_table` for the formats and their rules).
    delimiter : str, optional
    drop_incomplete : bool, default False
        Leave out rows with a missing value instead of raising.
    block_rows : int, optional
        Rows read per block; default the table reader's.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        columns: Iterable[str] | None = None,
        *,
        delimiter: str | None = None,
        drop_incomplete: bool = False,
        block_rows: int | None = None,
    ) -> None:
        self.stream: TableStream = open_table(
            Path(path),
            None if columns is None else list(columns),
            delimiter=delimiter,
            drop_incomplete=drop_incomplete,
            chunk_rows=block_rows,
        )

    @property
    def n_features(self) -> int:
        return len(self.stream.names)

    @property
    def n_rows(self) -> int | None:
        return self.stream.n_rows

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(self.stream.names)

    def chunks(self, chunk_rows: int) -> Iterator[RowChunk]:
        for first_row, values in self.stream.blocks():
            for rows in row_slices(values.shape[0], chunk_rows):
                yield RowChunk(first_row + rows.start, values[rows], None)


class FactorySource(RowSource):
    """Rows from a function that returns a fresh iterable of chunks on every call.

    Parameters
    ----------
    factory : callable
        ``factory()`` returns an iterable of arrays of shape ``(m, n_features)``, or of
        ``(X, sample_weight)`` pairs; each call must give the same rows in the same order.
    n_features : int, optional
        Checked against every chunk; default taken from the first chunk.
    """

    def __init__(self, factory: Callable[[], Iterable[Any]], n_features: int | None = None):
        if not callable(factory):
            raise TypeError(f"factory must be callable; got {type(factory).__name__}")
        self.factory = factory
        self._n_features = n_features
        if n_features is None:
            first_pass = self._pass(1 << 30)
            first = next(first_pass, None)
            first_pass.close()  # closes the factory's iterable too (a file it opened)
            if first is None:
                raise ValueError("the factory's first pass yielded no rows")
            self._n_features = first.X.shape[1]

    @property
    def n_features(self) -> int:
        assert self._n_features is not None
        return self._n_features

    def chunks(self, chunk_rows: int) -> Iterator[RowChunk]:
        return self._pass(chunk_rows)

    def _pass(self, chunk_rows: int) -> Iterator[RowChunk]:
        produced = self.factory()
        first_row = 0
        empty = True
        for item in _closing(produced):
            empty = False
            X, weights = item if isinstance(item, tuple) else (item, None)
            data = check_data(X, n_features=self._n_features, min_rows=0, first_row=first_row)
            row_weights = check_sample_weight(weights, data.shape[0])
            for rows in row_slices(data.shape[0], chunk_rows):
                chunk_weights = None if row_weights is None else row_weights[rows]
                yield RowChunk(first_row + rows.start, data[rows], chunk_weights)
            first_row += data.shape[0]
        if empty:
            raise ValueError(
                "the factory's pass yielded no rows: it must return a fresh iterable with the "
                "same rows on every call (an iterator it returned before is used up)"
            )


_ONE_SHOT = (
    "{what}: exact EM reads the data once per iteration, and an iterator can be read only "
    "once. Pass a function that returns a fresh iterable on every call "
    "(mixture.sources.FactorySource), a file path, or an array; or fit in one pass with "
    "online EM (mixture.online.OnlineEM.partial_fit)"
)


def _closing(iterable: Iterable[Any]) -> Iterator[Any]:
    """Iterate, and close the iterable (a generator holding a file) however the loop ends."""
    try:
        yield from iterable
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()


def is_dask_collection(value: Any) -> bool:
    """A Dask collection (dask-expr's data frames live in their own package)."""
    return type(value).__module__.split(".")[0] in ("dask", "dask_expr")


def _is_one_shot(value: Any) -> bool:
    return isinstance(value, Iterator)


def as_source(X: Any, sample_weight: Any = None, *, allow_missing: bool = False) -> RowSource:
    """The :class:`RowSource` for what was passed to ``fit``.

    Parameters
    ----------
    X : RowSource, array-like, str, PathLike, callable or Dask collection
        A source as is; a path as a :class:`TableSource`; a callable as a
        :class:`FactorySource`; a Dask array or data frame as a
        :class:`mixture.distributed.DaskSource` (its chunks run on the cluster); anything
        else as an :class:`ArraySource` (arrays, memory maps, data frames, lists).
    sample_weight : array-like, optional
        Only with in-memory data (a file or factory carries its own).
    allow_missing : bool, default False
        In-memory data may hold NaN as missing values (see :func:`check_data`).

    Raises
    ------
    TypeError
        For a one-shot iterator or generator.
    """
    if isinstance(X, RowSource):
        if sample_weight is not None:
            raise ValueError("give the sample weights inside the row source, not separately")
        return X
    if is_dask_collection(X):  # a Dask array or data frame
        from mixture.distributed import DaskSource  # needs the dask extra

        return DaskSource(X, sample_weight)
    if isinstance(X, (str, os.PathLike)):
        if sample_weight is not None:
            raise ValueError("sample_weight cannot be given with a file; weights come per row")
        return TableSource(X)
    if _is_one_shot(X):
        raise TypeError(_ONE_SHOT.format(what=f"X is a one-shot {type(X).__name__}"))
    if callable(X) and not hasattr(X, "__array__"):
        if sample_weight is not None:
            raise ValueError("a factory yields its own (X, sample_weight) pairs")
        return FactorySource(X)
    return ArraySource(X, sample_weight, allow_missing=allow_missing)


def row_sample(
    source: RowSource, size: int, seed: int, chunk_rows: int = 8192
) -> tuple[np.ndarray, np.ndarray | None]:
    """A uniform sample of at most ``size`` rows of positive weight, keyed by row content.

    Each row draws a uniform number from a hash of its values (:mod:`mixture._row_random`);
    the rows with the ``size`` smallest are kept, ordered by them. So the sample depends on
    the rows and the seed only, not on their order or on how they are cut into chunks, files
    or partitions. Equal rows draw equal numbers and enter as one row weighted by their
    number (their summed weight), so the sample holds up to ``size`` distinct rows. Memory is
    bounded by about twice ``size`` rows.

    Parameters
    ----------
    source : RowSource
    size : int
        At most this many rows (all rows of positive weight when there are fewer).
    seed : int
    chunk_rows : int

    Returns
    -------
    X : ndarray of shape (m, n_features)
    weights : ndarray of shape (m,) or None
        The sampled rows' summed sample weights (None when the source has none and no row
        repeats).
    """
    buffer = BottomK(size, (source.n_features,), np.float64)
    weighted = False
    for chunk in source.chunks(chunk_rows):
        X, weights = chunk.X, chunk.weights
        if weights is not None:
            weighted = True
            keep = weights > 0
            X, weights = X[keep], weights[keep]
        draws = uniforms(row_keys(X), seed, stream=0)
        enter = draws <= buffer.threshold
        if enter.any():
            buffer.add(draws[enter], X[enter], None if weights is None else weights[enter])
    rows, row_weights = buffer.result()  # views of the buffer: no second copy of the sample
    return rows, row_weights if weighted or buffer.merged else None


def rows_weight(X: Any, weights: np.ndarray | None = None) -> float:
    """Summed weight of the rows of an array (with optional weights) or of a row source."""
    if isinstance(X, RowSource):
        return X.total_weight()
    return float(np.shape(X)[0] if weights is None else np.sum(weights))


class TransformedSource(RowSource):
    """Another source's rows, each chunk passed through ``transform`` (for example a
    standardisation), read again on every pass.

    Parameters
    ----------
    source : RowSource
    transform : callable
        ``(m, n_features) -> (m, n_features)`` array, row by row (it must not mix rows).
    """

    def __init__(self, source: RowSource, transform: Callable[[np.ndarray], np.ndarray]) -> None:
        self.source = source
        self.transform = transform

    @property
    def n_features(self) -> int:
        return self.source.n_features

    @property
    def n_rows(self) -> int | None:
        return self.source.n_rows

    @property
    def feature_names(self) -> tuple[str, ...] | None:
        return self.source.feature_names

    def total_weight(self) -> float:
        return self.source.total_weight()

    def chunks(self, chunk_rows: int) -> Iterator[RowChunk]:
        for chunk in self.source.chunks(chunk_rows):
            yield RowChunk(chunk.first_row, self.transform(chunk.X), chunk.weights)


@dataclass(frozen=True)
class ColumnSummary:
    """Per-column statistics of a source's rows (unweighted), from two passes.

    Attributes
    ----------
    n_rows : int
    mean, std, largest : ndarray of shape (n_features,)
        Mean, population standard deviation and largest absolute value of each column.
    """

    n_rows: int
    mean: np.ndarray
    std: np.ndarray
    largest: np.ndarray


def column_summary(source: RowSource, chunk_rows: int = 65536) -> ColumnSummary:
    """Mean, spread and largest magnitude of every column, chunk by chunk.

    The first pass finds each column's largest magnitude; the second sums the columns
    divided by a power of two near it (exact), merging the chunks' means and centred sums of
    squares pairwise (Chan et al.), so values too large to square still give their spread.
    """
    largest = np.zeros(source.n_features)
    for chunk in source.chunks(chunk_rows):
        largest = np.maximum(largest, np.abs(chunk.X).max(axis=0, initial=0.0))
    _, exponent = np.frexp(largest)
    magnitude = np.ldexp(1.0, exponent)
    count, mean, squares = 0, np.zeros(source.n_features), np.zeros(source.n_features)
    for chunk in source.chunks(chunk_rows):
        scaled = chunk.X / magnitude
        m = scaled.shape[0]
        if m == 0:
            continue
        chunk_mean = scaled.mean(axis=0, dtype=np.float64)
        chunk_squares = ((scaled - chunk_mean) ** 2).sum(axis=0, dtype=np.float64)
        total = count + m
        delta = chunk_mean - mean
        mean = mean + delta * (m / total)
        squares = squares + chunk_squares + delta**2 * (count * m / total)
        count = total
    if count == 0:
        raise ValueError("the source holds no rows")
    std = np.sqrt(squares / count) * magnitude
    return ColumnSummary(count, mean * magnitude, std, largest)
