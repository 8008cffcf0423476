"""Where the E-step's chunks run: an executor maps a mixture's chunk statistics over a row
source and sums them.

:class:`ThreadExecutor` (the default) runs the chunks in this process's threads with the
BLAS held at one thread (:mod:`mixture._chunking`). A row source may name the executor it
needs (:meth:`RowSource.preferred_executor`): a Dask collection is summed on its cluster by
:class:`mixture.distributed.DaskExecutor`. The engine asks only for ``e_step``, so another
backend is one subclass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from mixture._chunking import sum_over
from mixture._responsibilities import rows_from

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
    ahead of the sum, so memory stays bounded for a source of any size."""

    def e_step(self, mixture: Mixture, source: RowSource, chunk_rows: int) -> MixtureStatistics:
        def chunk_statistics(chunk: RowChunk) -> MixtureStatistics:
            with rows_from(chunk.first_row):
                return mixture.chunk_statistics(chunk.X, chunk.weights)

        return sum_over(chunk_statistics, source.chunks(chunk_rows))


_THREADS = ThreadExecutor()


def default_executor(source: RowSource) -> Executor:
    """The source's own executor if it names one, else threads."""
    preferred = source.preferred_executor()
    return _THREADS if preferred is None else preferred
