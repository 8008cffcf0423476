"""Initialisation speed and the optimum it leads to, against scikit-learn.

For each shape (rows, features, K, covariance type) and seed 0..4 this runs, interleaved:

- the start alone: ours is ``MixtureEM(GaussianFamily(K, structure), init_sample_size=None,
  random_state=seed).initialize(X)`` (k-means on every row, as ``GaussianMixture`` does:
  k-means++ seeds and Lloyd's iterations, then the M-step from the labels); scikit-learn's
  is ``GaussianMixture._initialize_parameters`` (its ``KMeans(n_init=1)`` and M-step);
- the whole default fit, ``GaussianMixture(K, covariance_type=c, random_state=seed).fit(X)``
  in both libraries, and its final lower bound (mean log-likelihood per row).

Times are wall and CPU seconds (the process's CPU time, all threads), the best of
``--repeats`` runs per seed, the two libraries alternating; the tables give the median
over seeds. Data: a mixture of K Gaussians with random covariances, drawn once per shape.

Part 2 (``--memory``): the peak anonymous memory (RssAnon of a fresh process, sampled every
5 ms) of the start alone on a float64 ``.npy`` memory map, beyond the memory before it.

Run: python benchmarks/init_speed.py [--quick] [--repeats 3] [--starts-only]
[--memory-rows 20000000]
Run it once more with ``PYTHONPATH`` pointing at another checkout of ``mixture`` to measure
that version (the first line printed names the package used).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.utils import check_random_state

import mixture
from mixture import GaussianFamily, GaussianMixture, MixtureEM
from mixture.gaussian.structures import structure_named

SHAPES = [  # rows, features, components, covariance type
    (500_000, 8, 8, "full"),
    (100_000, 10, 8, "diag"),
    (100_000, 10, 8, "spherical"),
    (37_500, 10, 8, "spherical"),
    (200_000, 16, 16, "full"),
]
QUICK_SHAPES = [(100_000, 8, 8, "diag"), (37_500, 10, 8, "spherical")]


def make_data(n_rows: int, n_features: int, n_components: int, seed: int = 0) -> np.ndarray:
    """Rows from K Gaussians with random covariances, some of them overlapping (the
    mixture of benchmarks/out_of_core.py)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 4.0, (n_components, n_features))
    factors = rng.normal(0.0, 0.4, (n_components, n_features, n_features)) + np.eye(n_features)
    weights = rng.dirichlet(np.full(n_components, 5.0))
    labels = rng.choice(n_components, size=n_rows, p=weights)
    noise = rng.standard_normal((n_rows, n_features))
    return means[labels] + np.einsum("nij,nj->ni", factors[labels], noise)


def timed(function) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def our_start(X: np.ndarray, n_components: int, covariance: str, seed: int):
    family = GaussianFamily(n_components, structure_named(covariance))
    return MixtureEM(family, init_sample_size=None, random_state=seed).initialize(X)


def sklearn_start(X: np.ndarray, n_components: int, covariance: str, seed: int):
    model = SklearnGaussianMixture(n_components, covariance_type=covariance, random_state=seed)
    model._check_parameters(X)
    model._initialize_parameters(X, check_random_state(seed))
    return model


def our_fit(X: np.ndarray, n_components: int, covariance: str, seed: int) -> float:
    model = GaussianMixture(n_components, covariance_type=covariance, random_state=seed)
    return float(model.fit(X).lower_bound_)


def sklearn_fit(X: np.ndarray, n_components: int, covariance: str, seed: int) -> float:
    model = SklearnGaussianMixture(n_components, covariance_type=covariance, random_state=seed)
    return float(model.fit(X).lower_bound_)


def measure_shape(shape, seeds: range, repeats: int, starts_only: bool) -> dict[str, float]:
    n_rows, n_features, n_components, covariance = shape
    X = make_data(n_rows, n_features, n_components)
    runs = {
        "ours start": lambda s: our_start(X, n_components, covariance, s),
        "sklearn start": lambda s: sklearn_start(X, n_components, covariance, s),
        "ours fit": lambda s: our_fit(X, n_components, covariance, s),
        "sklearn fit": lambda s: sklearn_fit(X, n_components, covariance, s),
    }
    if starts_only:
        del runs["ours fit"], runs["sklearn fit"]
    best: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    bounds: dict[str, list[float]] = {"ours fit": [], "sklearn fit": []}
    for seed in seeds:
        per_seed: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for _ in range(repeats):
            for name, run in runs.items():  # interleaved: ours, theirs, ours, theirs
                wall, cpu, value = timed(lambda run=run, seed=seed: run(seed))
                per_seed[name].append((wall, cpu))
                if name in bounds and len(per_seed[name]) == 1:
                    bounds[name].append(value)
        for name, times in per_seed.items():
            best[name].append((min(t[0] for t in times), min(t[1] for t in times)))
    result: dict[str, float] = {}
    for name, times in best.items():
        result[f"{name} wall"] = float(np.median([t[0] for t in times]))
        result[f"{name} cpu"] = float(np.median([t[1] for t in times]))
    if starts_only:
        return result
    ours, theirs = np.array(bounds["ours fit"]), np.array(bounds["sklearn fit"])
    result["ours bound"], result["sklearn bound"] = float(ours.mean()), float(theirs.mean())
    result["bound diff min"] = float((ours - theirs).min())
    result["bound diff max"] = float((ours - theirs).max())
    return result


def print_tables(
    results: list[tuple[tuple, dict[str, float]]], n_seeds: int, starts_only: bool
) -> None:
    print(f"\n### Start (k-means and the first M-step), median over {n_seeds} seeds\n")
    print(
        "| rows x features, K, covariance | ours wall | sklearn wall | ratio | ours CPU "
        "| sklearn CPU | ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for (n, d, k, c), r in results:
        print(
            f"| {n:,} x {d}, K={k}, {c} | {r['ours start wall']:.3f} s | "
            f"{r['sklearn start wall']:.3f} s | "
            f"{r['sklearn start wall'] / r['ours start wall']:.2f}x | "
            f"{r['ours start cpu']:.3f} s | {r['sklearn start cpu']:.3f} s | "
            f"{r['sklearn start cpu'] / r['ours start cpu']:.2f}x |"
        )
    if starts_only:
        return
    print(
        f"\n### Whole default fit, median over {n_seeds} seeds; final lower bound, mean over "
        "seeds (nats per row)\n"
    )
    print(
        "| rows x features, K, covariance | ours wall | sklearn wall | ratio | ours CPU "
        "| sklearn CPU | ratio | ours bound | sklearn bound | ours - sklearn (min, max) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (n, d, k, c), r in results:
        print(
            f"| {n:,} x {d}, K={k}, {c} | {r['ours fit wall']:.3f} s | "
            f"{r['sklearn fit wall']:.3f} s | "
            f"{r['sklearn fit wall'] / r['ours fit wall']:.2f}x | "
            f"{r['ours fit cpu']:.3f} s | {r['sklearn fit cpu']:.3f} s | "
            f"{r['sklearn fit cpu'] / r['ours fit cpu']:.2f}x | {r['ours bound']:.4f} | "
            f"{r['sklearn bound']:.4f} | {r['bound diff min']:+.4f}, "
            f"{r['bound diff max']:+.4f} |"
        )


# -- memory ---------------------------------------------------------------------------------
def _rss_anon() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0


def memory_child(path: str, n_components: int) -> None:
    """In a fresh process: the start on the memory map, peak RssAnon beyond the baseline."""
    X = np.load(path, mmap_mode="r")
    family = GaussianFamily(n_components, structure_named("full"))
    engine = MixtureEM(family, init_sample_size=None, random_state=0)
    baseline = _rss_anon()
    peak = [baseline]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_anon())
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.perf_counter()
    engine.initialize(X)
    seconds = time.perf_counter() - started
    done.set()
    watcher.join()
    peak[0] = max(peak[0], _rss_anon())
    print(json.dumps({"extra": peak[0] - baseline, "seconds": seconds}))


def measure_memory(n_rows: int, n_features: int, n_components: int, folder: Path) -> None:
    path = folder / "rows.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n_rows, n_features))
    block = 1_000_000
    for start in range(0, n_rows, block):
        rows = min(block, n_rows - start)
        out[start : start + rows] = make_data(rows, n_features, n_components, seed=start)
    out.flush()
    del out
    report = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(path), str(n_components)],
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(report.stdout.strip().splitlines()[-1])
    data = n_rows * n_features * 8
    extra = measured["extra"]
    print(
        f"\n### Peak anonymous memory of the start on a memory map ({n_rows:,} x {n_features}, "
        f"K={n_components}, float64: {data / 2**30:.2f} GiB on disk)\n"
    )
    print("| start time | peak anonymous memory beyond the baseline | per row |")
    print("|---|---|---|")
    print(f"| {measured['seconds']:.2f} s | {extra / 2**20:.1f} MiB | {extra / n_rows:.1f} bytes |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="two small shapes, 2 seeds, 1 run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per seed (best is kept)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 .. n-1")
    parser.add_argument(
        "--memory-rows", type=int, default=0, help="rows of the memory-map part (0: skip it)"
    )
    parser.add_argument("--starts-only", action="store_true", help="time the starts alone")
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child[0], int(args.memory_child[1]))
        return
    shapes, seeds, repeats = SHAPES, range(args.seeds), args.repeats
    if args.quick:
        shapes, seeds, repeats = QUICK_SHAPES, range(2), 1
    import threadpoolctl

    blas = threadpoolctl.threadpool_info()
    kernels = ", ".join(f"{b.get('internal_api')} {b.get('architecture')}" for b in blas)
    print(f"mixture from {Path(mixture.__file__).parent}; BLAS: {kernels}")
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for shape in shapes:
            results.append((shape, measure_shape(shape, seeds, repeats, args.starts_only)))
            print(f"done {shape}", file=sys.stderr)
    print_tables(results, len(seeds), args.starts_only)
    if args.memory_rows:
        with tempfile.TemporaryDirectory() as folder:
            measure_memory(args.memory_rows, 8, 8, Path(folder))


if __name__ == "__main__":
    main()
