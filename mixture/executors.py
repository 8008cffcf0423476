"""Where the E-step's chunks run: an executor maps a mixture's chunk statistics over a row
source and sums them.

:class:`ThreadExecutor` (the default) runs the chunks in this process's threads with the
BLAS held at one thread (:mod:`mixture._chunking`). A row source may name the executor it
needs (:meth:`~mixture.sources.RowSource.preferred_executor`): a Dask collection is summed
on its cluster by :class:`mixture.distributed.DaskExecutor`. The engine asks only for
``e_step``, so another backend is one subclass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from mixture._chunking import sum_over
from mixture._responsibilities import rows_from
from mixture._validation import check_int

if TYPE_CHECKING:
    from mixture.model import Mixture, MixtureStatistics
    from mixture.sources import RowChunk, RowSource

__all__ = ["Executor", "ThreadExecutor", "default_executor"]


class Executor(ABC):
    """Runs one E-step: the summed statistics of every chunk of a source."""

    @abstractmethod
    def e_step(self, mixture: Mixture, source: RowSource, chunk_rows: int) -> MixtureStatistics:
        """``sum over chunks of mixture.chunk_statistics(chunk.X, chunk.weights)``.

        Parameters
        ----------
        mixture : Mixture
            The current parameters.
        source : RowSource
        chunk_rows : int
            Rows per chunk the engine would like.

        Returns
        -------
        MixtureStatistics
            Summed in chunk order, so the result does not depend on the executor's
            parallelism (beyond round-off where a backend reduces in a tree).
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ThreadExecutor(Executor):
    """Chunks in this process's threads (the default): at most two chunks per thread read
    ahead of the sum, so memory stays bounded for a source of any size.

    Parameters
    ----------
    n_threads : int, optional
        Threads of a pool of this executor's own. Default: the pool shared by the package,
        as many threads as the BLAS's thread limit allows (``threadpoolctl`` or
        ``OMP_NUM_THREADS`` set it), so nested libraries never oversubscribe the cores.
    """

    def __init__(self, n_threads: int | None = None) -> None:
        self.n_threads = (
            None if n_threads is None else check_int(n_threads, name="n_threads", minimum=1)
        )
        self._pool: ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        return "ThreadExecutor()" if self.n_threads is None else f"ThreadExecutor({self.n_threads})"

    def __getstate__(self) -> dict[str, object]:
        return {"n_threads": self.n_threads, "_pool": None}  # a pool is not pickled

    def e_step(self, mixture: Mixture, source: RowSource, chunk_rows: int) -> MixtureStatistics:
        def chunk_statistics(chunk: RowChunk) -> MixtureStatistics:
            with rows_from(chunk.first_row):
                return mixture.chunk_statistics(chunk.X, chunk.weights)

        if self.n_threads is None:
            return sum_over(chunk_statistics, source.chunks(chunk_rows))
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.n_threads, thread_name_prefix="mixture")
        chunks = source.chunks(chunk_rows)
        return sum_over(chunk_statistics, chunks, self._pool, self.n_threads)


_THREADS = ThreadExecutor()


def default_executor(source: RowSource) -> Executor:
    """The source's own executor if it names one, else threads."""
    preferred = source.preferred_executor()
    return _THREADS if preferred is None else preferred
