"""Exact EM on data larger than memory: a .npy memory map, and CSV / Parquet files.

Part 1 (memory map): writes an N x 8 float64 .npy file (default 50,000,000 rows, 3.2 GB)
drawn from an 8-component mixture, fits K=8 full-covariance Gaussians from it by exact EM
(`MixtureEM.fit(np.load(path, mmap_mode="r"))`), and reports the time per iteration and the
peak anonymous memory during the fit (RssAnon sampled every 20 ms: the process's own memory,
not the page cache holding the mapped file); then the same fit on the array loaded into
memory, and scikit-learn's GaussianMixture against ours on the largest in-memory size given
(--sklearn-rows), all in the same run.

Part 2 (files): writes the first --file-rows rows as CSV and Parquet and compares the rows
per second of one E-step pass over a TableSource with one pass that only reads the file
(the I/O bound).

Run: python benchmarks/out_of_core.py [--rows N] [--sklearn-rows M] [--file-rows F] [--dir D]
Prints markdown tables. The files go to a temporary folder (or --dir) and are removed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from mixture import FullCovariance, GaussianFamily, GivenParameters, Mixture, MixtureEM
from mixture.callbacks import History
from mixture.executors import ThreadExecutor
from mixture.sources import TableSource

D, K = 8, 8


def _truth(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    means = rng.normal(0.0, 4.0, (K, D))
    factors = rng.normal(0.0, 0.4, (K, D, D)) + np.eye(D)
    weights = rng.dirichlet(np.full(K, 5.0))
    return weights, means, factors


def write_npy(path: Path, n_rows: int, seed: int = 0, block: int = 1_000_000) -> None:
    rng = np.random.default_rng(seed)
    weights, means, factors = _truth(rng)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n_rows, D))
    for start in range(0, n_rows, block):
        m = min(block, n_rows - start)
        labels = rng.choice(K, size=m, p=weights)
        z = rng.standard_normal((m, D))
        out[start : start + m] = means[labels] + np.einsum("nij,nj->ni", factors[labels], z)
    out.flush()
    del out


class AnonymousMemory:
    """Peak RssAnon of this process (from /proc/self/status), sampled in a thread."""

    def __init__(self, every: float = 0.02) -> None:
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    @staticmethod
    def now() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
        return 0

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(self.every)

    def __enter__(self) -> AnonymousMemory:
        self.baseline = self.now()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())


def seconds_per_iteration(history: History) -> float:
    seconds = np.array([record["seconds"] for record in history.records])
    return float(np.median(np.diff(seconds))) if seconds.size > 1 else float(seconds[0])


def fit_ours(X, start: Mixture, iterations: int) -> tuple[float, float, Mixture]:
    history = History()
    engine = MixtureEM(
        GaussianFamily(K, FullCovariance()),
        initializer=GivenParameters(start),
        tol=None,
        max_iter=iterations,
        callbacks=[history],
    )
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = engine.fit(X)
    return seconds_per_iteration(history), time.perf_counter() - began, result


def fit_sklearn(X: np.ndarray, start: Mixture, iterations: int) -> float:
    """scikit-learn's time per iteration: fits of ``iterations`` and of 1 iteration from the
    same start, the difference over ``iterations - 1`` (its set-up and final E-step cancel)."""
    from sklearn.mixture import GaussianMixture

    def timed(max_iter: int) -> float:
        model = GaussianMixture(
            K,
            covariance_type="full",
            tol=0.0,
            max_iter=max_iter,
            weights_init=start.weights,
            means_init=start.family.means,
            precisions_init=np.linalg.inv(start.family.covariances),
        )
        began = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X)
        return time.perf_counter() - began

    return (timed(iterations) - timed(1)) / (iterations - 1)


def part_memory_map(folder: Path, n_rows: int, sklearn_rows: int, iterations: int) -> None:
    path = folder / "rows.npy"
    began = time.perf_counter()
    write_npy(path, n_rows)
    size = path.stat().st_size
    took = time.perf_counter() - began
    print(f"wrote {n_rows:,} x {D} float64 ({size / 1e9:.2f} GB) in {took:.0f} s")
    mapped = np.load(path, mmap_mode="r")
    start_engine = MixtureEM(GaussianFamily(K, FullCovariance()), random_state=0, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = start_engine.initialize(np.asarray(mapped[:200_000]))
    with AnonymousMemory() as memory:
        per_iteration, total, mapped_fit = fit_ours(mapped, start, iterations)
    peak = memory.peak - memory.baseline
    print()
    print("| data | rows | time per iteration | whole fit | peak anonymous memory |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(
        f"| .npy memory map | {n_rows:,} | {per_iteration:.2f} s | {total:.0f} s "
        f"({iterations} it.) | {peak / 2**20:.0f} MiB ({peak / size:.1%} of the file) |"
    )
    in_memory = np.array(mapped)
    with AnonymousMemory() as memory:
        per_iteration_mem, total_mem, memory_fit = fit_ours(in_memory, start, iterations)
    peak_mem = memory.peak - memory.baseline
    gap = np.max(np.abs(mapped_fit.family.means - memory_fit.family.means))
    print(
        f"| in-memory array | {n_rows:,} | {per_iteration_mem:.2f} s | {total_mem:.0f} s "
        f"({iterations} it.) | {peak_mem / 2**20:.0f} MiB beyond the array |"
    )
    print(f"\nmax |means difference| memory map vs in memory: {gap:.2e}")
    del in_memory
    part = np.array(mapped[:sklearn_rows])
    ours, _, _ = fit_ours(part, start, iterations)
    theirs = fit_sklearn(part, start, iterations)
    print()
    print("| rows (in memory) | ours per iteration | scikit-learn per iteration | ratio |")
    print("| ---: | ---: | ---: | ---: |")
    print(f"| {sklearn_rows:,} | {ours:.3f} s | {theirs:.3f} s | {theirs / ours:.1f}x |")


def part_files(folder: Path, n_rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(1)
    weights, means, factors = _truth(rng)
    labels = rng.choice(K, size=n_rows, p=weights)
    X = means[labels] + np.einsum("nij,nj->ni", factors[labels], rng.standard_normal((n_rows, D)))
    names = [f"x{j}" for j in range(D)]
    csv_path, parquet_path = folder / "rows.csv", folder / "rows.parquet"
    with open(csv_path, "w", encoding="utf-8") as handle:
        handle.write(",".join(names) + "\n")
        np.savetxt(handle, X, delimiter=",", fmt="%.17g")
    pq.write_table(pa.table({n: X[:, j] for j, n in enumerate(names)}), parquet_path)
    engine = MixtureEM(GaussianFamily(K, FullCovariance()), random_state=0, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = engine.initialize(X[:100_000])
    print()
    print("| file | rows | read only | read + E-step | E-step pass / read only |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, path in (("CSV", csv_path), ("Parquet", parquet_path)):
        source = TableSource(path)
        began = time.perf_counter()
        for _ in source.chunks(65536):
            pass
        read = time.perf_counter() - began
        began = time.perf_counter()
        ThreadExecutor().e_step(start, source, 16384)
        both = time.perf_counter() - began
        print(
            f"| {label} | {n_rows:,} | {n_rows / read / 1e6:.2f} M rows/s | "
            f"{n_rows / both / 1e6:.2f} M rows/s | {read / both:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--sklearn-rows", type=int, default=5_000_000)
    parser.add_argument("--file-rows", type=int, default=2_000_000)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(dir=args.dir, prefix="mixture-out-of-core-"))
    try:
        part_memory_map(folder, args.rows, args.sklearn_rows, args.iterations)
        part_files(folder, args.file_rows)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
