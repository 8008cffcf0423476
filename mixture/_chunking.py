"""Row chunking: the engine processes data in slices so temporaries stay small."""

from __future__ import annotations

from collections.abc import Iterator

#: Bytes that the largest per-chunk temporary (rows x components x features) may occupy.
#: A few MiB keeps it in the last-level cache of common CPUs.
CHUNK_BYTES = 2 * 1024 * 1024
MIN_CHUNK_ROWS = 256
MAX_CHUNK_ROWS = 16384


def auto_chunk_size(n_components: int, n_features: int, itemsize: int = 8) -> int:
    """Rows per chunk so that a ``(rows, n_components, n_features)`` temporary fits the budget.

    Parameters
    ----------
    n_components, n_features : int
        Shape of the mixture.
    itemsize : int
        Bytes per float of the data (8 for float64, 4 for float32).

    Returns
    -------
    int
        A chunk size between ``MIN_CHUNK_ROWS`` and ``MAX_CHUNK_ROWS``.
    """
    per_row = max(1, n_components) * (max(1, n_features) + 1) * itemsize
    return int(min(MAX_CHUNK_ROWS, max(MIN_CHUNK_ROWS, CHUNK_BYTES // per_row)))


def row_slices(n_rows: int, chunk_size: int) -> Iterator[slice]:
    """Consecutive slices covering ``range(n_rows)`` with at most ``chunk_size`` rows each."""
    for start in range(0, n_rows, chunk_size):
        yield slice(start, min(start + chunk_size, n_rows))
