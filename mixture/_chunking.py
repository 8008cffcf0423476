"""Row chunks, and running the chunks of one pass over the data in parallel threads.

The engine processes data in chunks of rows so that temporaries stay small (the map of
EM's map-reduce). The chunks are independent, so :func:`map_chunks` hands them to a pool
of threads, one chunk per thread at a time: numpy's element-wise operations run on one core
only, and the GEMMs of one chunk are too small for the BLAS's own threads to use several
cores well. While the chunks run, the BLAS is limited to one thread (through
``threadpoolctl``, as scikit-learn's k-means does), so the cores are not oversubscribed.
The number of threads follows the BLAS's own thread limit: under
``threadpoolctl.threadpool_limits(1)`` (or ``OMP_NUM_THREADS=1``) all chunks run serially
in the calling thread. Each chunk is computed the same way in any thread and the results
come back in chunk order, so results never depend on the number of threads.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

from mixture._responsibilities import rows_from

#: Bytes of the per-chunk working set (the ``(K, rows)`` log-densities plus rows of
#: features per row); 8 MiB keeps a chunk's arrays in the last-level cache.
CHUNK_BYTES = 8 * 1024 * 1024
MIN_CHUNK_ROWS = 1024
MAX_CHUNK_ROWS = 32768
#: Data of more than one chunk is cut into at least this many (when each keeps at least
#: ``MIN_CHUNK_ROWS`` rows), so that two, four or eight threads get equal shares.
MIN_CHUNKS = 8
#: At most this many threads.
MAX_WORKERS = 16
#: A pass over fewer numbers than this (rows times the numbers a row's work touches) runs
#: in the calling thread: its numpy calls are so short that handing chunks to threads
#: and taking the GIL back after each call cost more than the second core gives (measured:
#: an EM iteration on 100,000 x 2 rows, K = 4, 2.5 ms on one thread, 3.1 ms on two).
PARALLEL_MIN_VALUES = 2_000_000

T = TypeVar("T")
R = TypeVar("R")


def auto_chunk_size(
    n_components: int, n_features: int, itemsize: int = 8, n_rows: int | None = None
) -> int:
    """Rows per chunk for a mixture of this shape.

    A chunk's working set per row is about ``K + 3 D + 2`` floats (its log-densities or
    responsibilities, the shifted rows and their features); the chunk is sized so that
    this stays within ``CHUNK_BYTES``, between ``MIN_CHUNK_ROWS`` and ``MAX_CHUNK_ROWS``
    rows. Large chunks keep the per-chunk overhead (Python calls, merging statistics) small;
    the kernels work through a chunk in cache-sized blocks.

    Given ``n_rows``, data that would fill fewer than ``MIN_CHUNKS`` chunks is cut into
    up to that many equal chunks (of at least ``MIN_CHUNK_ROWS`` rows), so that the
    threads of :func:`sum_chunks` share the work evenly. The size never depends on the
    number of threads, so neither do the results.

    Parameters
    ----------
    n_components, n_features : int
        Shape of the mixture.
    itemsize : int
        Bytes per float of the data (8 for float64, 4 for float32).
    n_rows : int, optional
        Rows of the data.

    Returns
    -------
    int
        A chunk size between ``MIN_CHUNK_ROWS`` and ``MAX_CHUNK_ROWS``.
    """
    per_row = (max(1, n_components) + 3 * max(1, n_features) + 2) * max(itemsize, 8)
    size = int(min(MAX_CHUNK_ROWS, max(MIN_CHUNK_ROWS, CHUNK_BYTES // per_row)))
    if n_rows is not None and n_rows > size:
        n_chunks = max(-(-n_rows // size), min(MIN_CHUNKS, n_rows // MIN_CHUNK_ROWS))
        size = max(MIN_CHUNK_ROWS, -(-n_rows // n_chunks))
    return size


def row_slices(n_rows: int, chunk_size: int) -> Iterator[slice]:
    """Consecutive slices covering ``range(n_rows)`` with at most ``chunk_size`` rows each."""
    for start in range(0, n_rows, chunk_size):
        yield slice(start, min(start + chunk_size, n_rows))


# -- threads -----------------------------------------------------------------------------------
class _BlasThreads:
    """The BLAS libraries' thread limits: read them, and hold them at 1 while blocks run.

    Nested and concurrent holds (several fits in threads of one process) are counted, so
    the original limits are restored once, when the last hold ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._saved: list[tuple[Any, int]] = []
        self._libraries: list[Any] | None = None

    def _blas(self) -> list[Any]:
        if self._libraries is None:
            try:
                from threadpoolctl import ThreadpoolController

                controller = ThreadpoolController().select(user_api="blas")
                self._libraries = list(controller.lib_controllers)
            except Exception:  # threadpoolctl missing or unable to inspect this process
                self._libraries = []
        return self._libraries

    def limit(self) -> int:
        """Largest thread limit of the BLAS libraries (1 if unknown); while held, the
        limit from before the hold."""
        with self._lock:
            if self._depth:
                return max((n_threads for _, n_threads in self._saved), default=1)
        limits = []
        for library in self._blas():
            try:
                limits.append(int(library.num_threads))
            except Exception:
                continue
        return max(limits, default=1)

    @staticmethod
    def _set(library: Any, n_threads: int) -> None:
        # threadpoolctl lets only one "controlling" thread change OpenBLAS's process-wide
        # limit; whichever of our threads gets here must be able to set and restore it.
        clear = getattr(type(library), "clear_controlling_thread", None)
        if clear is not None:
            clear(force=True)
        library.set_num_threads(n_threads)
        if clear is not None:
            clear(force=True)

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._saved = [(library, int(library.num_threads)) for library in self._blas()]
                for library, _ in self._saved:
                    self._set(library, 1)
            self._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                for library, n_threads in self._saved:
                    self._set(library, n_threads)
                self._saved = []


_BLAS = _BlasThreads()
_POOL: ThreadPoolExecutor | None = None
_POOL_PID: int | None = None
_POOL_LOCK = threading.Lock()


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_count() -> int:
    """Threads :func:`parallel_map` uses: the BLAS's thread limit, capped by the cores
    available to this process and by ``MAX_WORKERS``."""
    return max(1, min(_BLAS.limit(), _cpu_count(), MAX_WORKERS))


def _pool() -> ThreadPoolExecutor:
    global _POOL, _POOL_PID
    with _POOL_LOCK:
        if _POOL is None or _POOL_PID != os.getpid():  # a forked child needs its own threads
            _POOL = ThreadPoolExecutor(
                max_workers=min(_cpu_count(), MAX_WORKERS), thread_name_prefix="mixture"
            )
            _POOL_PID = os.getpid()
        return _POOL


def blas_held() -> AbstractContextManager[Any]:
    """Context holding the BLAS at one thread for a stretch of passes over the chunks (a
    no-op with one worker).

    Changing the BLAS's thread limit around every pass costs more than it saves: OpenBLAS's
    threads keep spinning after a multi-threaded call, and the first call after a change
    pays for it (small LAPACK calls of the M-step took 50 times longer). The engine holds
    the limit for its whole EM loop instead; the M-step's small factorisations need no
    threads.
    """
    return _BLAS if worker_count() > 1 else nullcontext()


def parallel_map(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[function(item) for item in items]``, the items run in parallel threads.

    With one item, or one worker, or when called from one of the pool's threads, the calls
    run in the calling thread. Otherwise the BLAS is held at one thread while they run.
    ``function`` must only write to outputs no other item writes to. An exception raised by
    a call is raised here (the first one in item order).
    """
    if len(items) <= 1 or _serial(worker_count()):
        return [function(item) for item in items]
    with _BLAS:
        return list(_pool().map(function, items))


def _numbered(function: Callable[[slice], R]) -> Callable[[slice], R]:
    """``function``, with a row error raised for a chunk renumbered to the data's rows."""

    def call(rows: slice) -> R:
        with rows_from(rows.start):
            return function(rows)

    return call


def too_small_for_threads(n_values: float) -> bool:
    """Whether a pass touching ``n_values`` numbers should run unthreaded
    (:data:`PARALLEL_MIN_VALUES`)."""
    return n_values < PARALLEL_MIN_VALUES


def _small(n_rows: int, values_per_row: float | None) -> bool:
    return values_per_row is not None and too_small_for_threads(n_rows * values_per_row)


def map_chunks(
    function: Callable[[slice], R],
    n_rows: int,
    chunk_size: int,
    values_per_row: float | None = None,
) -> list[R]:
    """``[function(rows) for rows in row_slices(n_rows, chunk_size)]``, chunks in parallel.

    An error about a row raised by ``function`` names the row of the data (see
    :func:`mixture._responsibilities.rows_from`), not of the chunk.

    Parameters
    ----------
    function : callable
        Called with a slice of rows; must only write to outputs of its own rows.
    n_rows, chunk_size : int
    values_per_row : float, optional
        The numbers one row's work touches: a pass over fewer than
        ``PARALLEL_MIN_VALUES`` in all runs in the calling thread (the same chunks, so the
        same results).

    Returns
    -------
    list
        The results in chunk order.
    """
    slices = list(row_slices(n_rows, chunk_size))
    if _small(n_rows, values_per_row):
        return [_numbered(function)(rows) for rows in slices]
    return parallel_map(_numbered(function), slices)


def _serial(workers: int) -> bool:
    return workers <= 1 or threading.current_thread().name.startswith("mixture")


def sum_over(
    function: Callable[[T], R],
    items: Iterable[T],
    pool: ThreadPoolExecutor | None = None,
    workers: int | None = None,
) -> R:
    """``function(item_0) + function(item_1) + ...``, the calls in parallel threads.

    The items are taken from ``items`` in the calling thread (a reader of a file may yield
    them), at most two per thread ahead of the sum; the sum is taken in item order whatever
    the threads, so it never depends on their number. At least one item is needed.

    ``pool`` and ``workers``: a pool of your own and its size (default: the shared pool,
    sized by :func:`worker_count`).
    """
    workers = worker_count() if workers is None else workers
    total: Any = None
    if _serial(workers):
        for item in items:
            part = function(item)
            total = part if total is None else total + part
        if total is None:
            raise ValueError("there are no rows to sum over (the source yielded no chunk)")
        return total
    pending: deque[Any] = deque()
    with _BLAS:
        pool = _pool() if pool is None else pool
        try:
            for item in items:
                pending.append(pool.submit(function, item))
                if len(pending) >= 2 * workers:
                    part = pending.popleft().result()
                    total = part if total is None else total + part
            while pending:
                part = pending.popleft().result()
                total = part if total is None else total + part
        finally:
            for future in pending:  # after an error: drop the chunks not yet started
                future.cancel()
    if total is None:
        raise ValueError("there are no rows to sum over (the source yielded no chunk)")
    return total


def sum_chunks(
    function: Callable[[slice], R],
    n_rows: int,
    chunk_size: int,
    values_per_row: float | None = None,
) -> R:
    """``function(rows_0) + function(rows_1) + ...`` over the row chunks, chunks in parallel.

    The sum is taken in chunk order whatever the threads, and at most two results per
    thread wait to be added, so memory stays bounded for any number of chunks.

    Parameters
    ----------
    function : callable
        Called with a slice of rows; returns something supporting ``+``.
    n_rows : int
        At least 1.
    chunk_size : int
    values_per_row : float, optional
        As for :func:`map_chunks`: a small pass runs in the calling thread.
    """
    function = _numbered(function)
    if n_rows <= chunk_size:
        return function(slice(0, n_rows))
    return sum_over(
        function,
        row_slices(n_rows, chunk_size),
        workers=1 if _small(n_rows, values_per_row) else None,
    )
