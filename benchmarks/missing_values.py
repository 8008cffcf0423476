"""EM with missing values: recovery against mean imputation, agreement with scipy, and cost.

Part 1, recovery: two overlapping 3-D Gaussian clusters (4,000 rows, the truth below), values
removed completely at random at 10%, 30% and 50%; the parameters fitted by
``GaussianMixture(2, missing="marginalize")`` against the truth and against a complete-data
fit after replacing each missing value by its column's mean.

Part 2, agreement: the observed-data log-density of rows with missing values against
``scipy.stats.multivariate_normal`` on each row's observed sub-vector, for all 14 covariance
structures (largest absolute difference).

Part 3, cost per EM iteration (no initialisation: a fixed start, five iterations), N=200,000,
D=16, K=8, full covariance, with 0%, 10% and 30% of values missing completely at random,
and 30% in 64 patterns each shared by a run of rows (a table merged from sources lacking
some columns) or by rows in shuffled order, against the same data complete (the usual
fused E-step); best of ``--repeats``; the numpy kernels and, with numba installed, the
compiled ones, in the same run.

Run: python benchmarks/missing_values.py [--repeats 3] [--cost-only] [--output FILE.md]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

from mixture import GaussianFamily, GaussianMixture, GivenParameters, Mixture, MixtureEM
from mixture._compiled import compiled_available, compiled_kernels
from mixture.gaussian import MCLUST_NAMES, structure_named
from mixture.gaussian import missing as missing_kernels

TRUE_MEANS = np.array([[0.0, 0.0, 0.0], [4.0, 4.0, 1.0]])
TRUE_COVARIANCES = np.array(
    [
        [[1.0, 0.6, 0.2], [0.6, 1.0, 0.3], [0.2, 0.3, 1.0]],
        [[1.0, -0.4, 0.0], [-0.4, 1.5, 0.2], [0.0, 0.2, 0.8]],
    ]
)


def two_clusters(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    noise = rng.standard_normal((n, 3))
    factors = np.linalg.cholesky(TRUE_COVARIANCES)
    return TRUE_MEANS[labels] + np.einsum("nd,ned->ne", noise, factors[labels])


def with_gaps(X: np.ndarray, rate: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    gaps = rng.random(X.shape) < rate
    gaps[gaps.all(axis=1), 0] = False  # every row keeps an observed value
    return np.where(gaps, np.nan, X)


def with_pattern_runs(X: np.ndarray, rate: float, n_patterns: int, seed: int) -> np.ndarray:
    """Values missing by pattern: ``n_patterns`` patterns drawn at ``rate`` (each keeping a
    value), each shared by a run of consecutive rows, as in a table merged from sources that
    each lack some columns."""
    rng = np.random.default_rng(seed)
    patterns = rng.random((n_patterns, X.shape[1])) < rate
    patterns[patterns.all(axis=1), 0] = False
    runs = np.repeat(np.arange(n_patterns), -(-X.shape[0] // n_patterns))[: X.shape[0]]
    return np.where(patterns[runs], np.nan, X)


def _sorted(model) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(model.means_[:, 0])
    return model.means_[order], model.covariances_[order]


def recovery() -> list[str]:
    X = two_clusters(7, 4000)
    lines = [
        "| missing | fit | mean of comp. 2 | var. of feature 2, comp. 2 | max mean error | "
        "max covariance error |",
        "|---:|---|---|---:|---:|---:|",
        f"| - | truth | {TRUE_MEANS[1].round(3).tolist()} | {TRUE_COVARIANCES[1, 1, 1]:.3f} | "
        "0 | 0 |",
    ]
    for rate in (0.1, 0.3, 0.5):
        gappy = with_gaps(X, rate, 8)
        ours = GaussianMixture(2, random_state=0, missing="marginalize", tol=1e-8, max_iter=2000)
        filled = np.where(np.isnan(gappy), np.nanmean(gappy, axis=0), gappy)
        imputed = GaussianMixture(2, random_state=0, tol=1e-8, max_iter=2000)
        for name, model, data in (("ours", ours, gappy), ("mean imputation", imputed, filled)):
            means, covariances = _sorted(model.fit(data))
            lines.append(
                f"| {rate:.0%} | {name} | {means[1].round(3).tolist()} | "
                f"{covariances[1, 1, 1]:.3f} | {np.abs(means - TRUE_MEANS).max():.3f} | "
                f"{np.abs(covariances - TRUE_COVARIANCES).max():.3f} |"
            )
    return lines


def agreement() -> list[str]:
    X = two_clusters(0, 200)
    gappy = with_gaps(X[:60], 0.4, 1)
    worst = 0.0
    for name in MCLUST_NAMES:
        family = MixtureEM(GaussianFamily(2, structure_named(name)), random_state=0).fit(X).family
        dense = np.broadcast_to(family.covariance_matrices, (2, 3, 3))
        ours = family.log_density_observed(gappy)
        for i, row in enumerate(gappy):
            seen = ~np.isnan(row)
            for k in range(2):
                cov = dense[k][np.ix_(seen, seen)]
                reference = stats.multivariate_normal(family.means[k][seen], cov).logpdf(row[seen])
                worst = max(worst, abs(ours[i, k] - reference))
    return [
        f"Observed-data log-density against scipy, 60 rows with 40% missing, all 14 "
        f"structures: largest absolute difference {worst:.1e}."
    ]


def cost(repeats: int) -> list[str]:
    rng = np.random.default_rng(3)
    n, d, k = 200_000, 16, 8
    means = rng.normal(0.0, 3.0, (k, d))
    factors = rng.normal(0.0, 0.3, (k, d, d)) + np.eye(d)
    X = means[rng.integers(0, k, n)] + np.einsum(
        "nd,nde->ne", rng.standard_normal((n, d)), factors[rng.integers(0, k, n)]
    )
    start_family = GaussianFamily(
        k, means=means, covariances=np.einsum("kde,kfe->kdf", factors, factors)
    )
    start = GivenParameters(Mixture(np.full(k, 1.0 / k), start_family))
    lines = [
        "| missing values | rows with a gap | kernel | s per iteration | against complete |",
        "|---:|---:|---|---:|---:|",
    ]

    def per_iteration(data: np.ndarray) -> float:
        best = np.inf
        for _ in range(repeats):
            engine = MixtureEM(
                GaussianFamily(k), initializer=start, tol=None, max_iter=5, missing="marginalize"
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                began = time.perf_counter()
                engine.fit(data)
                best = min(best, (time.perf_counter() - began) / 5)
        return best

    kernels = [("numpy", False)] + ([("compiled", True)] if compiled_available() else [])
    baseline = per_iteration(X)
    lines.append(f"| 0% | 0.0% | any | {baseline:.3f} | 1.0x |")
    print(lines[-1], flush=True)
    cases = [(f"{rate:.0%}", with_gaps(X, rate, 4)) for rate in (0.1, 0.3)]
    cases.append(("30%, 64 patterns in runs of rows", with_pattern_runs(X, 0.3, 64, 5)))
    shuffled = np.random.default_rng(6).permutation(X.shape[0])
    cases.append(("30%, 64 patterns, rows shuffled", with_pattern_runs(X, 0.3, 64, 5)[shuffled]))
    for label, data in cases:
        gaps = float(np.isnan(data).any(axis=1).mean())
        for name, enabled in kernels:
            with compiled_kernels(enabled):
                if enabled:  # compile (or load from the cache) outside the timing
                    missing_kernels.observed_log_density(
                        data[:10], means, np.broadcast_to(np.eye(d), (k, d, d))
                    )
                best = per_iteration(data)
            lines.append(f"| {label} | {gaps:.1%} | {name} | {best:.3f} | {best / baseline:.1f}x |")
            print(lines[-1], flush=True)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cost-only", action="store_true", help="only part 3")
    parser.add_argument("--output", help="also write the tables here (markdown)")
    args = parser.parse_args(argv)
    parts = [] if args.cost_only else [*recovery(), "", *agreement(), ""]
    text = [*parts, *cost(args.repeats)]
    print("\n".join(text))
    if args.output:
        Path(args.output).write_text("\n".join(text) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
