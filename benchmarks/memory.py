"""Peak memory of a Gaussian mixture fit, beyond the data itself.

Run: python benchmarks/memory.py [n_rows] [n_features] [n_components]

Measures with tracemalloc (numpy reports its allocations to it) the peak of memory allocated
during ``MixtureEM.fit`` on top of the data, for a full-covariance model with a fixed number
of EM iterations, and compares it with the budget data + responsibilities + 100 MB.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
import warnings

import numpy as np

from mixture import FullCovariance, GaussianFamily, MixtureEM

MB = 1024**2


def main(n_rows: int = 1_000_000, n_features: int = 8, n_components: int = 3) -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 5, size=(n_components, n_features))
    X = centres[rng.integers(n_components, size=n_rows)] + rng.normal(size=(n_rows, n_features))
    data_mb = X.nbytes / MB
    resp_mb = n_rows * n_components * 8 / MB

    em = MixtureEM(
        GaussianFamily(n_components, FullCovariance()),
        tol=None,
        max_iter=20,
        random_state=0,
    )
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = em.fit(X)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    extra_mb = (peak - before) / MB

    print(
        f"data {n_rows} x {n_features} float64: {data_mb:.1f} MB; "
        f"responsibilities {n_rows} x {n_components}: {resp_mb:.1f} MB"
    )
    print(f"fit: {result.n_iter} EM iterations after k-means init, {seconds:.1f} s")
    print(f"peak memory allocated during fit, beyond the data: {extra_mb:.1f} MB")
    print(
        f"budget (responsibilities + 100 MB): {resp_mb + 100:.1f} MB -> "
        f"{'within' if extra_mb < resp_mb + 100 else 'OVER'}"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
