"""Time per EM iteration against scikit-learn, same data, same start, same iterations.

Run: python benchmarks/compare_sklearn.py

For each shape and covariance structure both libraries start from the same parameters and
run a fixed number of iterations (tol=0), alternating, best of ``REPEATS`` each. Prints a markdown
table with the time ratio (sklearn / ours, > 1 means we are faster) and the relative
difference of the final log-likelihood.
"""

from __future__ import annotations

import time
import warnings
from functools import partial

import numpy as np
from sklearn.mixture import GaussianMixture

from mixture import (
    DiagonalCovariance,
    FullCovariance,
    GaussianFamily,
    Mixture,
    MixtureEM,
    SphericalCovariance,
    TiedCovariance,
)

SHAPES = [(200_000, 2, 5), (200_000, 16, 16), (1_000_000, 8, 8), (50_000, 64, 32)]
STRUCTURES = [FullCovariance(), TiedCovariance(), DiagonalCovariance(), SphericalCovariance()]
ITERATIONS = 5
REPEATS = 3


def starting_point(X: np.ndarray, n_components: int, structure, rng: np.random.Generator):
    means = X[rng.choice(X.shape[0], n_components, replace=False)]
    n_features = X.shape[1]
    variance = X.var(axis=0).mean()
    covariances = {
        "full": np.tile(np.eye(n_features) * variance, (n_components, 1, 1)),
        "tied": np.eye(n_features) * variance,
        "diag": np.full((n_components, n_features), variance),
        "spherical": np.full(n_components, variance),
    }[structure.name]
    weights = np.full(n_components, 1.0 / n_components)
    return weights, means, covariances


def interleaved_best_times(first, second) -> tuple[float, float, object, object]:
    """Alternate the two calls ``REPEATS`` times; best time and last result of each."""
    best = [np.inf, np.inf]
    results = [None, None]
    for _ in range(REPEATS):
        for index, call in enumerate((first, second)):
            started = time.perf_counter()
            results[index] = call()
            best[index] = min(best[index], time.perf_counter() - started)
    return best[0], best[1], results[0], results[1]


def main() -> None:
    print(
        "| N | D | K | covariance | sklearn s/iter | ours s/iter | speed-up | rel. diff log-lik |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n_rows, n_features, n_components in SHAPES:
        rng = np.random.default_rng(0)
        centres = rng.normal(0, 4, (n_components, n_features))
        X = centres[rng.integers(n_components, size=n_rows)] + rng.normal(size=(n_rows, n_features))
        for structure in STRUCTURES:
            weights, means, covariances = starting_point(X, n_components, structure, rng)
            start = Mixture(
                weights,
                GaussianFamily(n_components, structure, means=means, covariances=covariances),
            )
            if structure.name in ("full", "tied"):
                precisions = np.linalg.inv(covariances)
            else:
                precisions = 1.0 / covariances
            sklearn_model = GaussianMixture(
                n_components,
                covariance_type=structure.name,
                tol=0.0,
                max_iter=ITERATIONS,
                weights_init=weights,
                means_init=means,
                precisions_init=precisions,
            )
            em = MixtureEM(GaussianFamily(n_components, structure), tol=None, max_iter=ITERATIONS)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs, ours, fitted, result = interleaved_best_times(
                    partial(sklearn_model.fit, X), partial(em.fit, X, warm_start=start)
                )
            difference = abs(result.lower_bound - fitted.lower_bound_) / abs(fitted.lower_bound_)
            print(
                f"| {n_rows} | {n_features} | {n_components} | {structure.name} | "
                f"{theirs / ITERATIONS:.4f} | {ours / ITERATIONS:.4f} | {theirs / ours:.2f}x | "
                f"{difference:.1e} |"
            )


if __name__ == "__main__":
    main()
