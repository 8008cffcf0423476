"""What running the E-step on Dask costs, against threads of one process, per EM iteration.

Run: python benchmarks/dask_overhead.py [n_rows] [n_blocks] [n_iterations]

Generates ``n_rows`` x 8 rows from 4 Gaussians in memory (default 2,000,000), starts a
``distributed.LocalCluster`` of 2 worker processes with one thread each, and runs the same
``n_iterations`` EM iterations (default 10) of a 4-component full-covariance mixture from
the same start:

- ``ThreadExecutor``: the numpy array, this process's threads (the default for arrays);
- ``DaskExecutor``: the array cut into ``n_blocks`` row blocks (default 8), scattered over
  the workers once before timing, the E-step one task per block; once with Dask's default
  worker environment and once without its ``MALLOC_TRIM_THRESHOLD_=65536``, which doubles
  the time of numpy's temporaries in the workers (every one above 128 KiB becomes a fresh
  ``mmap``);
- ``DaskExecutor``, not persisted: the ``from_array`` graph, so every iteration ships the
  data to the workers again;
- ``DaskExecutor`` without a client: Dask's local threaded scheduler in this process.

Prints a markdown table of the seconds per iteration (median of the iterations after the
first, and the first) and the largest relative difference of the fitted means and weights
from the ThreadExecutor's. Needs the ``dask`` extra. Worker files go to a temporary folder,
removed at the end.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import warnings
from typing import Any

import numpy as np

from mixture import FullCovariance, GaussianFamily, GivenParameters, MixtureEM
from mixture.callbacks import Callback, IterationState, Stop
from mixture.executors import ThreadExecutor

N_FEATURES = 8
N_COMPONENTS = 4


class _Clock(Callback):
    """Times between the ends of consecutive iterations (the first from the run's start)."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def on_run_start(self, run: int) -> None:
        self.times = [time.perf_counter()]

    def on_iteration(self, state: IterationState) -> Stop | None:
        self.times.append(time.perf_counter())
        return None

    def seconds(self) -> np.ndarray:
        return np.diff(self.times)


def _rows(n_rows: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    centres = rng.normal(0.0, 4.0, size=(N_COMPONENTS, N_FEATURES)) + 10.0  # no mean near 0
    mixing = rng.normal(size=(N_COMPONENTS, N_FEATURES, N_FEATURES)) / np.sqrt(N_FEATURES)
    labels = rng.integers(N_COMPONENTS, size=n_rows)
    X = np.empty((n_rows, N_FEATURES))
    for k in range(N_COMPONENTS):
        rows = labels == k
        noise = rng.normal(size=(int(rows.sum()), N_FEATURES))
        X[rows] = centres[k] + noise @ (mixing[k] + np.eye(N_FEATURES))
    return X


def _run(X: Any, start: Any, n_iterations: int, executor: Any = None) -> tuple[Any, np.ndarray]:
    clock = _Clock()
    engine = MixtureEM(
        GaussianFamily(N_COMPONENTS, FullCovariance()),
        initializer=GivenParameters(start),
        tol=None,
        max_iter=n_iterations,
        callbacks=[clock],
        executor=executor,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = engine.run(X, start)
    return result, clock.seconds()


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.abs(b)))


def _on_cluster(
    X: np.ndarray,
    start: Any,
    n_iterations: int,
    block_rows: int,
    directory: str,
    *,
    trim: bool,
    also_unpersisted: bool,
) -> list[tuple[str, np.ndarray, Any, str]]:
    """Timed runs on a LocalCluster of 2 worker processes x 1 thread.

    ``trim``: Dask's default worker environment, which sets ``MALLOC_TRIM_THRESHOLD_=65536``
    (glibc then serves every temporary above 128 KiB with a fresh ``mmap``); otherwise that
    variable is left unset for the workers.
    """
    import dask
    import dask.array as da
    import distributed

    environment = dict(os.environ)  # the nanny writes its variables into this process's
    settings: dict[str, Any] = {"temporary-directory": directory}
    if not trim:
        settings["distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"] = None
    label = "Dask's default worker env" if trim else "MALLOC_TRIM_THRESHOLD_ unset"
    rows = []
    n_rows = X.shape[0]
    try:
        with dask.config.set(settings):
            cluster = distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                local_directory=directory,
            )
            client = distributed.Client(cluster)
        try:
            shipped = time.perf_counter()
            # One block per scatter target, spread over the workers (persisting the
            # from_array graph would leave every block on the worker that got the array).
            starts = range(0, n_rows, block_rows)
            futures = client.scatter([X[i : i + block_rows] for i in starts])
            persisted = da.concatenate(
                [
                    da.from_delayed(future, (min(block_rows, n_rows - i), N_FEATURES), X.dtype)
                    for future, i in zip(futures, starts, strict=True)
                ]
            )
            distributed.wait(futures)
            ship = time.perf_counter() - shipped
            placed = client.who_has(futures)
            workers = len({address for addresses in placed.values() for address in addresses})
            result, seconds = _run(persisted, start, n_iterations)
            note = f"data shipped once ({ship:.2f} s), blocks on {workers} workers"
            rows.append((f"DaskExecutor, LocalCluster 2 x 1, {label}", seconds, result, note))
            if also_unpersisted:
                lazy = da.from_array(X, chunks=(block_rows, N_FEATURES))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # "large graph": the array, every time
                    result, seconds = _run(lazy, start, n_iterations)
                name = f"DaskExecutor, LocalCluster 2 x 1, {label}, from_array not persisted"
                rows.append((name, seconds, result, "the data shipped every iteration"))
        finally:
            client.close()
            cluster.close()
    finally:
        os.environ.clear()
        os.environ.update(environment)
    return rows


def main(n_rows: int = 2_000_000, n_blocks: int = 8, n_iterations: int = 10) -> None:
    import dask
    import dask.array as da

    X = _rows(n_rows)
    sample = X[:: max(1, n_rows // 20_000)]
    start = MixtureEM(GaussianFamily(N_COMPONENTS, FullCovariance()), random_state=0).initialize(
        sample
    )
    block_rows = -(-n_rows // n_blocks)
    reference, thread_seconds = _run(X, start, n_iterations, ThreadExecutor())
    rows: list[tuple[str, np.ndarray, Any, str]] = [
        ("ThreadExecutor, numpy array (2 threads)", thread_seconds, reference, "")
    ]
    directory = tempfile.mkdtemp(prefix="mixture-dask-")
    try:
        for trim in (True, False):
            rows += _on_cluster(
                X, start, n_iterations, block_rows, directory, trim=trim, also_unpersisted=trim
            )
        local = da.from_array(X, chunks=(block_rows, N_FEATURES))
        with dask.config.set(scheduler="threads", num_workers=2):
            result, seconds = _run(local, start, n_iterations)
        rows.append(("DaskExecutor, no client (Dask's local threads, 2)", seconds, result, ""))
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    print(
        f"{n_rows:,} x {N_FEATURES} rows, K = {N_COMPONENTS} full-covariance Gaussians, "
        f"{n_iterations} EM iterations from the same start; {n_blocks} blocks of "
        f"{block_rows:,} rows\n"
    )
    print(
        "| executor | s / iteration (median after the 1st) | 1st iteration (s) | "
        "vs threads | max rel. diff. of means | max rel. diff. of weights | note |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    base = float(np.median(thread_seconds[1:]))
    for name, seconds, result, note in rows:
        median = float(np.median(seconds[1:]))
        means = _relative(result.family.means, reference.family.means)
        weights = _relative(result.weights, reference.weights)
        print(
            f"| {name} | {median:.3f} | {seconds[0]:.3f} | {median / base:.2f}x | "
            f"{means:.1e} | {weights:.1e} | {note} |"
        )


if __name__ == "__main__":
    main(*(int(argument) for argument in sys.argv[1:]))
