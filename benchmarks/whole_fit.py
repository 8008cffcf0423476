"""Whole default fits against scikit-learn, thread scaling, and EM iterations with SQUAREM.

Part 1, the whole fit as users write it: ``GaussianMixture(K, covariance_type=c,
random_state=seed).fit(X)`` in both libraries (k-means start, ``tol=1e-3``, ``max_iter=100``),
seeds 0..4, over a grid of shapes and the four covariance types. Wall and CPU seconds
(``time.process_time``: every thread of the process) are the best of ``--repeats`` runs per
seed, the libraries alternating; the table gives medians over seeds, the ratios
scikit-learn / ours (above 1: we are faster), and the mean final lower bound (mean
log-likelihood per row) of each library over the seeds.

Part 2, thread scaling: our whole fit with the process limited to one thread
(``threadpoolctl``: the BLAS and our chunk threads follow it) against two, same seeds.

Part 3, iterations: EM passes over the data to convergence at ``tol=1e-6`` with plain EM
steps and with SQUAREM (``MixtureEM(acceleration=SQUAREM())``) from the same k-means start,
on heavily overlapping clusters of the same shapes (where EM converges slowly).

The kernel threadpoolctl reports is printed first. This machine's environment sets
``OPENBLAS_CORETYPE`` (and ``OPENBLAS_L2_SIZE``); run the script once as is and once with
them unset in the command alone (``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python
benchmarks/whole_fit.py``) to report both.

Run: python benchmarks/whole_fit.py [--quick] [--repeats 2] [--output FILE.md]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from threadpoolctl import threadpool_info, threadpool_limits

from mixture import SQUAREM, GaussianFamily, GaussianMixture, GivenParameters, MixtureEM
from mixture.gaussian import structure_named

COVARIANCES = ("full", "tied", "diag", "spherical")
SHAPES = [(100_000, 2, 4), (100_000, 10, 8), (500_000, 8, 8), (200_000, 16, 16), (20_000, 64, 8)]
QUICK_SHAPES = [(100_000, 10, 8)]


def make_data(
    n_rows: int, n_features: int, n_components: int, seed: int = 0, spread: float = 4.0
) -> np.ndarray:
    """K Gaussians with random covariances, means drawn with standard deviation ``spread``
    (4: some overlapping; 1: heavily overlapping, where EM converges slowly)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, spread, (n_components, n_features))
    factors = rng.normal(0.0, 0.4, (n_components, n_features, n_features)) + np.eye(n_features)
    labels = rng.integers(0, n_components, n_rows)
    noise = rng.standard_normal((n_rows, n_features))
    return means[labels] + np.einsum("nd,nde->ne", noise, factors[labels])


def timed(function, *args) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = function(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, value


def ours(X: np.ndarray, k: int, covariance: str, seed: int) -> float:
    return GaussianMixture(k, covariance_type=covariance, random_state=seed).fit(X).lower_bound_


def theirs(X: np.ndarray, k: int, covariance: str, seed: int) -> float:
    return (
        SklearnGaussianMixture(k, covariance_type=covariance, random_state=seed).fit(X).lower_bound_
    )


def whole_fits(shapes, seeds: range, repeats: int) -> list[dict]:
    rows = []
    for n_rows, n_features, k in shapes:
        X = make_data(n_rows, n_features, k)
        for covariance in COVARIANCES:
            per_seed = {"ours": [], "sklearn": []}
            for seed in seeds:
                best = {"ours": (np.inf, np.inf, 0.0), "sklearn": (np.inf, np.inf, 0.0)}
                for _ in range(repeats):
                    for name, fit in (("ours", ours), ("sklearn", theirs)):
                        wall, cpu, bound = timed(fit, X, k, covariance, seed)
                        old = best[name]
                        best[name] = (min(old[0], wall), min(old[1], cpu), bound)
                for name in per_seed:
                    per_seed[name].append(best[name])
            row = {"shape": (n_rows, n_features, k), "covariance": covariance}
            for name, runs in per_seed.items():
                row[f"{name}_wall"] = statistics.median(r[0] for r in runs)
                row[f"{name}_cpu"] = statistics.median(r[1] for r in runs)
                row[f"{name}_bound"] = float(np.mean([r[2] for r in runs]))
            rows.append(row)
            print(_whole_row(row), flush=True)
    return rows


def _whole_row(r: dict) -> str:
    n, d, k = r["shape"]
    return (
        f"| {n:,} x {d}, K={k} | {r['covariance']} | {r['ours_wall']:.3f} | "
        f"{r['sklearn_wall']:.3f} | {r['sklearn_wall'] / r['ours_wall']:.2f}x | "
        f"{r['ours_cpu']:.3f} | {r['sklearn_cpu']:.3f} | "
        f"{r['sklearn_cpu'] / r['ours_cpu']:.2f}x | {r['ours_bound']:.4f} | "
        f"{r['sklearn_bound']:.4f} |"
    )


WHOLE_HEADER = (
    "| shape | covariance | ours wall s | sklearn wall s | wall ratio | ours CPU s | "
    "sklearn CPU s | CPU ratio | ours mean bound | sklearn mean bound |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def thread_scaling(shapes, seeds: range, repeats: int) -> list[str]:
    lines = []
    for n_rows, n_features, k in shapes:
        X = make_data(n_rows, n_features, k)
        for covariance in COVARIANCES:
            walls = {1: [], 2: []}
            for seed in seeds:
                for threads in (1, 2):
                    best = np.inf
                    for _ in range(repeats):
                        with threadpool_limits(limits=threads):
                            wall, _, _ = timed(ours, X, k, covariance, seed)
                        best = min(best, wall)
                    walls[threads].append(best)
            one, two = statistics.median(walls[1]), statistics.median(walls[2])
            line = (
                f"| {n_rows:,} x {n_features}, K={k} | {covariance} | {one:.3f} | {two:.3f} | "
                f"{one / two:.2f}x |"
            )
            lines.append(line)
            print(line, flush=True)
    return lines


THREAD_HEADER = (
    "| shape | covariance | 1 thread wall s | 2 threads wall s | speed-up |\n"
    "|---|---|---:|---:|---:|"
)


def iterations(shapes, seeds: range) -> list[str]:
    lines = []
    for n_rows, n_features, k in shapes:
        X = make_data(n_rows, n_features, k, spread=1.0)  # overlapping: slow EM
        for covariance in COVARIANCES:
            counts = {"plain": [], "squarem": []}
            seconds = {"plain": [], "squarem": []}
            bounds = {"plain": [], "squarem": []}
            family = GaussianFamily(k, structure_named(covariance))
            for seed in seeds:
                start = MixtureEM(family, random_state=seed).initialize(X)
                for name, acceleration in (("plain", None), ("squarem", SQUAREM())):
                    engine = MixtureEM(
                        family, initializer=GivenParameters(start), tol=1e-6, max_iter=5000,
                        acceleration=acceleration,
                    )  # fmt: skip
                    calls = []
                    original = engine._source_e_step

                    def counted(*args, _original=original, _calls=calls):
                        _calls.append(1)
                        return _original(*args)

                    engine._source_e_step = counted  # count passes over the data
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        wall, _, result = timed(engine.fit, X)
                    counts[name].append(len(calls))
                    seconds[name].append(wall)
                    bounds[name].append(result.score(X))
            line = (
                f"| {n_rows:,} x {n_features}, K={k} | {covariance} | "
                f"{statistics.median(counts['plain']):.0f} | "
                f"{statistics.median(counts['squarem']):.0f} | "
                f"{statistics.median(seconds['plain']):.3f} | "
                f"{statistics.median(seconds['squarem']):.3f} | "
                f"{np.mean(bounds['squarem']) - np.mean(bounds['plain']):+.2e} |"
            )
            lines.append(line)
            print(line, flush=True)
    return lines


ITERATION_HEADER = (
    "| shape | covariance | plain EM passes | SQUAREM passes | plain wall s | SQUAREM wall s | "
    "final log-lik. SQUAREM - plain |\n|---|---|---:|---:|---:|---:|---:|"
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one shape, two seeds, one run")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--parts", default="whole,threads,iterations")
    parser.add_argument("--output", help="also write the tables here (markdown)")
    args = parser.parse_args(argv)
    shapes = QUICK_SHAPES if args.quick else SHAPES
    seeds = range(2) if args.quick else range(5)
    repeats = 1 if args.quick else args.repeats
    kernels = sorted({f"{i['internal_api']} {i.get('architecture')}" for i in threadpool_info()})
    env = {name: os.environ.get(name) for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    text = [f"BLAS: {', '.join(kernels)}; environment: {env}", ""]
    parts = set(args.parts.split(","))
    if "whole" in parts:
        print(WHOLE_HEADER, flush=True)
        rows = whole_fits(shapes, seeds, repeats)
        wall = [r["sklearn_wall"] / r["ours_wall"] for r in rows]
        cpu = [r["sklearn_cpu"] / r["ours_cpu"] for r in rows]
        summary = (
            f"median wall ratio {statistics.median(wall):.2f}x (min {min(wall):.2f}x), "
            f"median CPU ratio {statistics.median(cpu):.2f}x (min {min(cpu):.2f}x)"
        )
        print(summary)
        text += [WHOLE_HEADER, *(_whole_row(r) for r in rows), "", summary, ""]
    if "threads" in parts:
        print(THREAD_HEADER, flush=True)
        text += [THREAD_HEADER, *thread_scaling(shapes, seeds, repeats), ""]
    if "iterations" in parts:  # plain EM on overlapping clusters is slow: the smaller shapes
        print(ITERATION_HEADER, flush=True)
        text += [ITERATION_HEADER, *iterations(shapes[:2], seeds[:3]), ""]
    if args.output:
        Path(args.output).write_text("\n".join(text) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
