"""Dask collections as row sources: the E-step runs where the blocks of the data live.

:class:`DaskSource` wraps a :class:`dask.array.Array` or a :class:`dask.dataframe.DataFrame`
(and optional sample weights) as a :class:`~mixture.sources.RowSource`; ``MixtureEM.fit``
builds one for any Dask collection (:func:`mixture.sources.as_source`). Its executor,
:class:`DaskExecutor`, runs one E-step as a map-reduce on the Dask scheduler:

1. the current parameters are shipped once per iteration (broadcast to every worker with a
   ``distributed`` client, one ``dask.delayed`` object with Dask's local schedulers);
2. one task per row block computes the block's :class:`~mixture.model.MixtureStatistics`
   (a block larger than the engine's chunk size is cut into chunks inside the task and their
   statistics added in order), with the BLAS held at one thread and no threads of our own:
   Dask's workers are the parallelism;
3. the blocks' statistics are added in a tree of neighbours, in row order, and only the sum (a
   few parameter-sized arrays) comes back to the client, where the engine does the M-step.

The rows never travel to the client during the EM iterations. Two steps of a fit still read
every block in the client, one block at a time: the initializer's row sample
(:func:`mixture.sources.row_sample`, or :meth:`DaskSource.row_sample` on the cluster) and the
total weight of the rows at the end of the fit (:meth:`DaskSource.total_weight` on the
cluster).

A collection that is not persisted is recomputed from its source on every iteration (a file
is read again, a ``from_array`` graph is shipped again): persist it first
(``X = X.persist()``) when it fits in the cluster's memory. Each iteration also pays a few
round trips through the scheduler (tens of milliseconds on a local cluster), which only
large blocks amortise. Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``,
under which glibc serves every temporary above 128 KiB with a fresh ``mmap``: the E-step's
chunks then ran twice as slowly in the workers (measured, ``benchmarks/dask_overhead.py``).
Setting ``distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_`` to None in Dask's
configuration before starting the workers avoids this.

The results equal a fit on the same rows in memory up to round-off (the tree adds the
statistics in another order than the threads of :class:`~mixture.executors.ThreadExecutor`),
whatever the block sizes. Errors about a row (a NaN, a negative weight, a row no component
explains) name the row of the whole data.

:func:`predict_blocks`, :func:`predict_proba_blocks` and :func:`score_samples_blocks` are the
lazy counterparts of :meth:`Mixture.predict`, :meth:`Mixture.predict_proba` and
:meth:`Mixture.score_samples`: Dask arrays of one block per row block of the input.

Needs the ``dask`` extra (``pip install 'mixture-em[dask]'``: ``dask[array,dataframe]`` and
``distributed``); a client is optional.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "mixture.distributed needs Dask: pip install 'mixture-em[dask]' "
        "(dask[array,dataframe] and distributed)"
    ) from error

from mixture._chunking import _BLAS, auto_chunk_size, row_slices
from mixture._responsibilities import rows_from
from mixture._validation import check_container, check_data, check_int, check_sample_weight
from mixture.executors import Executor
from mixture.sources import RowChunk, RowSource, row_sample

if TYPE_CHECKING:
    from dask.delayed import Delayed

    from mixture.model import Mixture, MixtureStatistics

__all__ = [
    "DaskExecutor",
    "DaskSource",
    "predict_blocks",
    "predict_proba_blocks",
    "score_samples_blocks",
]

#: Dask's named local schedulers (``dask.config.set(scheduler=...)``): when one is chosen,
#: a running ``distributed`` client is not used, as in :func:`dask.compute`.
_LOCAL_SCHEDULERS = frozenset(
    {
        "sync",
        "synchronous",
        "single-threaded",
        "threads",
        "threading",
        "processes",
        "multiprocessing",
    }
)
#: Statistics added per task of the reduction tree. Every level of the tree costs a round
#: trip through the scheduler (about 10 ms on a local cluster, measured), and the statistics
#: are small, so the tree is wide: up to 8 blocks need one sum, 64 two levels.
_FAN_IN = 8


# -- the rows ----------------------------------------------------------------------------------
class DaskSource(RowSource):
    """Rows of a Dask array or data frame, read block by block where they live.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features) or dask.dataframe.DataFrame
        Real numbers (float32 blocks stay float32, other real dtypes become float64). A
        data frame's columns must all be numeric; they name the features. Row blocks of
        unknown size are measured once (one pass); column blocks are merged, so each block
        holds whole rows.
    sample_weight : array-like or dask.array.Array of shape (n_samples,), optional
        Non-negative row weights; a Dask array (or series) is rechunked to the row blocks of
        ``X``, anything else is validated here and cut into the same blocks. A Dask array's
        values are validated block by block as they are read, with errors naming the row.

    Attributes
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        One column block; ``X.chunks[0]`` are the row blocks.
    weights : dask.array.Array of shape (n_samples,) or None
        Chunked as the rows of ``X``.
    row_offsets : ndarray of shape (n_blocks + 1,)
        Row of the whole data at which each block starts (and the number of rows, last).

    Raises
    ------
    TypeError
        For a Dask collection that is neither an array nor a data frame (a bag).
    ValueError
        For an array that is not 2-D (a series), is empty or not real-valued, a data frame
        with a non-numeric column, or weights of the wrong length or dtype.
    """

    def __init__(self, X: Any, sample_weight: Any = None) -> None:
        self.X, self._feature_names = _row_blocks(X)
        self.weights = _weight_blocks(sample_weight, self.X)
        self.row_offsets = np.concatenate([[0], np.cumsum(self.X.chunks[0], dtype=np.int64)])
        self._x_blocks: list[Delayed] = list(self.X.to_delayed().ravel())
        self._w_blocks: list[Delayed | None] = (
            [None] * len(self._x_blocks)
            if self.weights is None
            else list(self.weights.to_delayed().ravel())
        )
        self._total_weight: float | None = None

    def __repr__(self) -> str:
        weighted = "" if self.weights is None else ", weighted"
        return (
            f"DaskSource({self.n_rows} rows x {self.n_features} features in "
            f"{self.n_blocks} blocks{weighted})"
        )

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_rows(self) -> int:
        return int(self.row_offsets[-1])

    @property
    def n_blocks(self) -> int:
        """Number of row blocks."""
        return len(self._x_blocks)

    @property
    def feature_names(self) -> tuple[str, ...] | None:
        return self._feature_names

    def blocks(self) -> list[tuple[Delayed, Delayed | None, int]]:
        """The row blocks as ``(X_block, weight_block or None, first_row)``, in row order.

        ``X_block`` and ``weight_block`` are :class:`dask.delayed.Delayed` objects of
        ndarrays of shapes ``(m, n_features)`` and ``(m,)``.
        """
        return [
            (x, w, int(first))
            for x, w, first in zip(self._x_blocks, self._w_blocks, self.row_offsets, strict=False)
        ]

    def chunks(self, chunk_rows: int) -> Iterator[RowChunk]:
        """One pass over the rows, every block computed in turn and brought to this process
        (for the initializer's sample and for an executor that runs here), then cut into
        chunks of at most ``chunk_rows`` rows.

        Parameters
        ----------
        chunk_rows : int

        Yields
        ------
        RowChunk
            Validated rows (finite, float32 or float64) and weights, numbered in the whole
            data.
        """
        for x_block, w_block, first_row in self.blocks():
            values, weights = dask.compute(x_block, w_block)
            X, row_weights = _checked_block(values, weights, self.n_features, first_row)
            for rows in row_slices(X.shape[0], chunk_rows):
                chunk_weights = None if row_weights is None else row_weights[rows]
                yield RowChunk(first_row + rows.start, X[rows], chunk_weights)

    def preferred_executor(self) -> DaskExecutor:
        """A :class:`DaskExecutor`: the E-step runs on the Dask scheduler."""
        return DaskExecutor()

    def total_weight(self) -> float:
        """Summed sample weight of the rows (the number of rows when unweighted), summed on
        the scheduler the first time (the weights validated as they are read), remembered
        after.

        Returns
        -------
        float
        """
        if self.weights is None:
            return float(self.n_rows)
        cached = self._total_weight
        if cached is None:
            parts = [
                dask.delayed(_block_weight)(w, int(self.row_offsets[i + 1]) - first, first)
                for i, (_, w, first) in enumerate(self.blocks())
            ]
            cached = float(np.sum(_compute(dask.delayed(_as_array)(parts))))
            self._total_weight = cached
        return cached

    def row_sample(self, size: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        """:func:`mixture.sources.row_sample` of these rows, drawn on the scheduler.

        Each block keeps its ``size`` rows of smallest draw there; only those come to this
        process, where the same selection is applied to them. The sample is that of
        ``row_sample(self, size, seed)`` (keyed by row content, so it does not depend on
        the blocks), up to the order of identical rows, and needs no pass through this
        process.

        Parameters
        ----------
        size : int
            At most this many rows.
        seed : int

        Returns
        -------
        X : ndarray of shape (m, n_features)
        weights : ndarray of shape (m,) or None
        """
        size = check_int(size, name="size", minimum=1)
        parts = [
            dask.delayed(_block_sample)(x, w, first, self.n_features, size, seed)
            for x, w, first in self.blocks()
        ]
        candidates = _compute(dask.delayed(list)(parts))
        X = np.concatenate([part[0] for part in candidates])
        weights = None  # a block's repeated rows come as one row weighted by their number
        if any(part[1] is not None for part in candidates):
            weights = np.concatenate(
                [np.ones(len(part[0])) if part[1] is None else part[1] for part in candidates]
            )
        return row_sample(_RowsInMemory(X, weights), size, seed)


class _RowsInMemory(RowSource):
    """Validated rows as one chunk (a block in a task, or the candidates of a sample)."""

    def __init__(self, X: np.ndarray, weights: np.ndarray | None) -> None:
        self.X, self.weights = X, weights

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def chunks(self, chunk_rows: int) -> Iterator[RowChunk]:
        yield RowChunk(0, self.X, self.weights)


def _row_blocks(X: Any) -> tuple[da.Array, tuple[str, ...] | None]:
    """A Dask array of whole rows (one column block) and the feature names, from an array or
    data frame."""
    names: tuple[str, ...] | None = None
    if not isinstance(X, da.Array):
        frame_types = _frame_types()
        if frame_types and isinstance(X, frame_types[1]):
            raise ValueError(
                "X must be 2-D with shape (n_samples, n_features); got a Dask series. Use "
                "series.to_frame() for a single feature."
            )
        if not (frame_types and isinstance(X, frame_types[0])):
            raise TypeError(
                "a Dask input must be a dask.array.Array or a dask.dataframe.DataFrame; got "
                f"{type(X).__module__}.{type(X).__name__}"
            )
        X, names = _frame_rows(X)
    if X.ndim != 2:
        hint = " Use X.reshape(-1, 1) for a single feature." if X.ndim == 1 else ""
        raise ValueError(
            f"X must be 2-D with shape (n_samples, n_features); got a {X.ndim}-D Dask array.{hint}"
        )
    if X.dtype.kind == "c":
        raise ValueError(f"X must be real-valued; got complex dtype {X.dtype}")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric; got dtype {X.dtype}")
    if any(np.isnan(size) for size in X.chunks[0]):
        X = X.compute_chunk_sizes()  # one pass: the blocks' first rows number the rows
    if X.shape[1] == 0:
        raise ValueError(f"X has 0 features (shape {X.shape}); need at least 1")
    if X.shape[0] == 0:
        raise ValueError("X has 0 row(s); need at least 1 (the input is empty)")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X, names


def _frame_types() -> tuple[type, type] | None:
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - dask installed without its dataframe extra
        return None
    return dd.DataFrame, dd.Series


def _frame_rows(frame: Any) -> tuple[da.Array, tuple[str, ...]]:
    """A data frame's rows as a Dask array (its partition lengths measured in one pass)."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    check_container(frame)  # datetime columns, with the in-memory message
    dtypes = frame.dtypes
    bad = [
        str(column)
        for column, dtype in dtypes.items()
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype))
        or getattr(dtype, "kind", "") == "c"  # complex
    ]
    if bad:
        raise ValueError(
            f"X must contain only numbers; the data frame has non-numeric column(s) {bad}: "
            "select the numeric columns (X[columns]) or encode these as numbers"
        )
    kinds = {np.dtype(t) if isinstance(t, np.dtype) else None for t in dtypes}
    if kinds not in ({np.dtype(np.float32)}, {np.dtype(np.float64)}):
        frame = frame.astype(np.float64)  # integers, booleans, mixed and nullable columns
    return frame.to_dask_array(lengths=True), tuple(str(c) for c in frame.columns)


def _weight_blocks(sample_weight: Any, X: da.Array) -> da.Array | None:
    """Sample weights as a Dask array with the row blocks of ``X`` (None for none)."""
    if sample_weight is None:
        return None
    n_rows = X.shape[0]
    frame_types = _frame_types()
    if frame_types and isinstance(sample_weight, frame_types[1]):
        sample_weight = sample_weight.to_dask_array(lengths=True)
    if isinstance(sample_weight, da.Array):
        if sample_weight.ndim != 1:
            raise ValueError(f"sample_weight must be 1-D; got a {sample_weight.ndim}-D Dask array")
        if sample_weight.dtype.kind not in "biuf":
            raise ValueError(
                f"sample_weight must contain only real numbers; got dtype {sample_weight.dtype}"
            )
        if any(np.isnan(size) for size in sample_weight.chunks[0]):
            sample_weight = sample_weight.compute_chunk_sizes()
        if sample_weight.shape[0] != n_rows:
            raise ValueError(
                f"sample_weight has {sample_weight.shape[0]} entries but the data has {n_rows} rows"
            )
        return sample_weight.astype(np.float64).rechunk((X.chunks[0],))
    weights = check_sample_weight(sample_weight, n_rows)
    return da.from_array(weights, chunks=(X.chunks[0],))


def _checked_block(
    values: Any, weights: Any, n_features: int, first_row: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """One block's rows and weights, validated, with errors naming rows of the whole data."""
    X = check_data(values, n_features=n_features, min_rows=0, first_row=first_row)
    if weights is None:
        return X, None
    return X, _checked_weights(weights, X.shape[0], first_row)


def _checked_weights(weights: Any, n_rows: int, first_row: int) -> np.ndarray:
    row_weights = np.asarray(weights, dtype=np.float64)
    if row_weights.shape != (n_rows,):
        raise ValueError(
            f"the sample weights of the block at row {first_row} have shape "
            f"{row_weights.shape}; its rows need ({n_rows},)"
        )
    bad = ~(row_weights >= 0) | ~np.isfinite(row_weights)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            "sample_weight must be finite and non-negative; found "
            f"{float(row_weights[row])!r} at row {first_row + row}"
        )
    return row_weights


def _block_weight(weights: Any, n_rows: int, first_row: int) -> float:
    return float(_checked_weights(weights, int(n_rows), first_row).sum())


def _as_array(values: Sequence[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _block_sample(
    values: Any, weights: Any, first_row: int, n_features: int, size: int, seed: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """A task: the block's ``size`` rows of smallest draw (copies, not views of the block)."""
    X, row_weights = _checked_block(values, weights, n_features, first_row)
    sample, sample_weights = row_sample(_RowsInMemory(X, row_weights), size, seed)
    copied = None if sample_weights is None else sample_weights.copy()
    return sample.copy(), copied


# -- the E-step ---------------------------------------------------------------------------------
class DaskExecutor(Executor):
    """Runs the E-step on the Dask scheduler: one task per row block, a tree of sums.

    With a ``distributed`` client (the current one, :func:`distributed.get_client`) the
    parameters are broadcast to every worker once per iteration and the sum is gathered
    from the cluster. Without one, or when a local scheduler is chosen with
    ``dask.config.set(scheduler=...)``, Dask's local scheduler runs the same graph in this
    process. Only :class:`DaskSource` rows can be run here.
    """

    def e_step(self, mixture: Mixture, source: RowSource, chunk_rows: int) -> MixtureStatistics:
        """Summed statistics of every block of ``source`` under ``mixture``.

        Parameters
        ----------
        mixture : Mixture
        source : DaskSource
        chunk_rows : int
            A task cuts a larger block into chunks of this many rows.

        Returns
        -------
        MixtureStatistics
            Added in a tree of neighbours in row order: the serial sum up to round-off.

        Raises
        ------
        ValueError
            From a block (a NaN, a negative weight, a row of zero density under every
            component), naming the row of the whole data; or when no row has positive
            weight.
        """
        if not isinstance(source, DaskSource):
            raise TypeError(
                f"DaskExecutor runs the blocks of a DaskSource (a Dask array or data frame); "
                f"got {type(source).__name__}. Use ThreadExecutor for other sources."
            )
        chunk_rows = check_int(chunk_rows, name="chunk_rows", minimum=1)
        client = _active_client()
        shipped: Any
        if client is not None:
            # hash=False: a new key per iteration, without hashing the parameters' bytes.
            shipped = client.scatter(mixture, broadcast=True, hash=False)
        else:
            shipped = dask.delayed(mixture, pure=False)
        parts = [
            dask.delayed(_block_statistics, pure=False)(shipped, x, w, first, chunk_rows)
            for x, w, first in source.blocks()
        ]
        total = _tree_sum(parts)
        statistics = client.compute(total).result() if client is not None else _compute(total)
        if statistics is None:
            raise ValueError("there are no rows to sum over (every block is empty)")
        if not statistics.total_weight > 0:
            raise ValueError("sample_weight sums to zero; at least one row needs a positive weight")
        return statistics

    def __repr__(self) -> str:
        return "DaskExecutor()"


def _active_client() -> Any:
    """The ``distributed`` client the work goes to, or None for Dask's local schedulers.

    As :func:`dask.compute` decides: a scheduler set in Dask's configuration first (a local
    one means no client), then the current client.
    """
    configured = dask.config.get("scheduler", None)
    if configured is not None:
        if "Client" in type(configured).__name__ and hasattr(configured, "scatter"):
            return configured
        if not isinstance(configured, str) or configured.lower() in _LOCAL_SCHEDULERS:
            return None
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:  # no client
        return None


def _compute(value: Any) -> Any:
    """One delayed value computed by the configured (or default local) scheduler."""
    (result,) = dask.compute(value)
    return result


def _tree_sum(parts: list[Delayed], fan_in: int = _FAN_IN) -> Delayed:
    """``parts[0] + parts[1] + ...`` as a tree of delayed sums of up to ``fan_in`` neighbours
    each, so the order of the rows is kept and the depth is ``log(len(parts), fan_in)``."""
    level = parts
    while len(level) > 1:
        level = [
            dask.delayed(_sum, pure=False)(*level[start : start + fan_in])
            for start in range(0, len(level), fan_in)
        ]
    return level[0]


def _sum(*parts: MixtureStatistics | None) -> MixtureStatistics | None:
    """The sum of neighbouring blocks' statistics, in order; an empty block (None) adds
    nothing."""
    total = None
    for part in parts:
        total = _add(total, part)
    return total


def _add(left: MixtureStatistics | None, right: MixtureStatistics | None) -> Any:
    """A sum of two blocks' statistics; an empty block (None) adds nothing."""
    if left is None:
        return right
    if right is None:
        return left
    return left + right


def _block_statistics(
    mixture: Mixture, values: Any, weights: Any, first_row: int, chunk_rows: int
) -> MixtureStatistics | None:
    """A task: the statistics of one block, its chunks computed in turn in this thread.

    The BLAS is held at one thread (counted, so concurrent tasks of a threaded scheduler
    restore the limit once), and ``Mixture.chunk_statistics`` starts no threads of its own,
    so a worker's cores are its Dask threads. None for an empty block.
    """
    with _BLAS, rows_from(first_row):
        X, row_weights = _checked_block(values, weights, mixture.n_features, first_row)
        total: MixtureStatistics | None = None
        for rows in row_slices(X.shape[0], chunk_rows):
            with rows_from(rows.start):
                chunk_weights = None if row_weights is None else row_weights[rows]
                part = mixture.chunk_statistics(X[rows], chunk_weights)
            total = part if total is None else total + part
    return total


# -- lazy prediction ----------------------------------------------------------------------------
def predict_blocks(mixture: Mixture, X: Any, *, chunk_size: int | None = None) -> da.Array:
    """Lazy :meth:`Mixture.predict`: the most probable component of each row.

    Parameters
    ----------
    mixture : Mixture
    X : dask.array.Array of shape (n_samples, n_features) or dask.dataframe.DataFrame
    chunk_size : int, optional
        Rows per chunk inside a block's task; changes memory use, not the result.

    Returns
    -------
    dask.array.Array of shape (n_samples,), dtype intp
        One block per row block of ``X``.
    """
    return _lazy(mixture, X, "predict", chunk_size)


def predict_proba_blocks(mixture: Mixture, X: Any, *, chunk_size: int | None = None) -> da.Array:
    """Lazy :meth:`Mixture.predict_proba`: the responsibilities of each row.

    Parameters
    ----------
    mixture : Mixture
    X : dask.array.Array of shape (n_samples, n_features) or dask.dataframe.DataFrame
    chunk_size : int, optional

    Returns
    -------
    dask.array.Array of shape (n_samples, n_components)
        Rows sum to 1; float32 for float32 rows, else float64.
    """
    return _lazy(mixture, X, "predict_proba", chunk_size)


def score_samples_blocks(mixture: Mixture, X: Any, *, chunk_size: int | None = None) -> da.Array:
    """Lazy :meth:`Mixture.score_samples`: the log-density of each row.

    Parameters
    ----------
    mixture : Mixture
    X : dask.array.Array of shape (n_samples, n_features) or dask.dataframe.DataFrame
    chunk_size : int, optional

    Returns
    -------
    dask.array.Array of shape (n_samples,)
        float32 for float32 rows, else float64.
    """
    return _lazy(mixture, X, "score_samples", chunk_size)


def _lazy(mixture: Mixture, X: Any, method: str, chunk_size: int | None) -> da.Array:
    array, _ = _row_blocks(X)
    if array.shape[1] != mixture.n_features:
        raise ValueError(
            f"X has {array.shape[1]} features, but the model was fitted with {mixture.n_features}"
        )
    if chunk_size is None:
        itemsize = 4 if array.dtype == np.float32 else 8
        chunk_size = auto_chunk_size(mixture.n_components, mixture.n_features, itemsize)
    chunk_size = check_int(chunk_size, name="chunk_size", minimum=1)
    dtype = np.dtype(np.float32 if array.dtype == np.float32 else np.float64)
    options: dict[str, Any]
    if method == "predict":
        dtype = np.dtype(np.intp)
        options = {"drop_axis": 1}
    elif method == "predict_proba":
        options = {"chunks": (array.chunks[0], (mixture.n_components,))}
    else:
        options = {"drop_axis": 1}
    ndim = 2 if method == "predict_proba" else 1
    return array.map_blocks(
        _predict_block,
        mixture,
        method,
        chunk_size,
        dtype=dtype,
        meta=np.empty((0,) * ndim, dtype=dtype),
        **options,
    )


def _predict_block(
    values: np.ndarray,
    mixture: Mixture,
    method: str,
    chunk_size: int,
    block_info: dict[Any, Any] | None = None,
) -> np.ndarray:
    """A task: ``getattr(mixture, method)`` on one block, chunk by chunk in this thread (one
    chunk per call, so the method's own threads are not used)."""
    first_row = int(block_info[0]["array-location"][0][0]) if block_info else 0
    with _BLAS, rows_from(first_row):
        X = check_data(values, n_features=mixture.n_features, min_rows=0, first_row=first_row)
        function = getattr(mixture, method)
        pieces = []
        for rows in row_slices(X.shape[0], chunk_size):
            with rows_from(rows.start):
                pieces.append(function(X[rows], chunk_size=rows.stop - rows.start))
    if not pieces:
        shape = (0, mixture.n_components) if method == "predict_proba" else (0,)
        dtype = np.intp if method == "predict" else X.dtype
        return np.empty(shape, dtype=dtype)
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
