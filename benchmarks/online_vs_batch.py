"""Online (stepwise) EM against batch EM: accuracy after one pass, and wall time.

Run from the repository root:

    python benchmarks/online_vs_batch.py              # 1,000,000 rows, a few minutes
    python benchmarks/online_vs_batch.py --rows 200000 --output online.md

Data: ``--rows`` rows of a 5-D mixture of K = 4 full-covariance Gaussians (weights 0.4, 0.3,
0.2, 0.1; random means 6 to 10 units apart, random covariances with variances between about
1 and 4), in random order, cut into consecutive batches. Batch EM (k-means start, tolerance
1e-8 on the mean log-likelihood per row) gives the maximum-likelihood fit the online fits
are compared with. For each batch size (256, 1024, 4096) and ``learning_decay``
(0.6, 0.8, 1.0; ``learning_offset`` 10), one pass of :class:`mixture.online.OnlineEM`; then
the default settings (batch 1024, decay 0.7) with and without Polyak-Ruppert averaging for
1, 2 and 3 passes over the same batches.

Columns:

- ``max |mean err| truth``: largest absolute error of a mean coordinate against the true
  means, over components matched to the truth (Hungarian assignment); the sampling error of
  the maximum-likelihood fit itself is in the ``batch EM`` row.
- ``max |mean err| batch``: the same against batch EM's means (how far from the fit the
  online estimate is).
- ``LL gap``: batch EM's mean log-likelihood per row minus the online fit's, on all rows.
- ``seconds``: wall time of the online passes (batch EM's fit for its row, k-means with
  three restarts as OnlineEM's default start), initialisation included; the best of
  ``--repeats`` runs, since a shared machine slows single runs by large factors.

A second table gives the time per ``partial_fit`` on 1,000-row batches of 2-D data with
K = 3 full Gaussians (median of repeated passes), and the parts of a step.
"""

from __future__ import annotations

import argparse
import platform
import time
from contextlib import nullcontext

import numpy as np
from scipy.optimize import linear_sum_assignment

import mixture
from mixture import FullCovariance, GaussianFamily, KMeans, MixtureEM
from mixture._chunking import blas_held
from mixture.minibatch import MiniBatchGaussianMixture
from mixture.online import OnlineEM

WEIGHTS = np.array([0.4, 0.3, 0.2, 0.1])


def make_data(n_rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the 5-D, K = 4 mixture, and its true means ``(4, 5)``."""
    rng = np.random.default_rng(seed)
    n_features = 5
    while True:  # means at least 6 units apart
        means = rng.uniform(-8.0, 8.0, size=(4, n_features))
        distances = np.linalg.norm(means[:, None] - means[None], axis=-1)
        if distances[np.triu_indices(4, 1)].min() > 6.0:
            break
    factors = rng.normal(scale=0.6, size=(4, n_features, n_features)) + np.eye(n_features)
    labels = rng.choice(4, size=n_rows, p=WEIGHTS)
    X = np.empty((n_rows, n_features))
    for k in range(4):  # one component at a time: no (n, D, D) temporary
        rows = labels == k
        X[rows] = means[k] + rng.normal(size=(int(rows.sum()), n_features)) @ factors[k].T
    return X, means


def mean_error(fitted: np.ndarray, reference: np.ndarray) -> float:
    """Largest coordinate error of the means after matching components (Hungarian)."""
    cost = np.linalg.norm(fitted[:, None] - reference[None], axis=-1)
    rows, columns = linear_sum_assignment(cost)
    return float(np.abs(fitted[rows] - reference[columns]).max())


def online_rows(
    X, batches, truth, batch_fit, batch_ll, settings, passes, repeats
) -> list[list[str]]:
    """Rows of the table for one setting after each of ``passes`` passes. Every run is the
    same computation; the time is the best of ``repeats`` runs of the passes so far."""
    best = np.full(max(passes), np.inf)
    measured: dict[int, list[str]] = {}
    for _ in range(repeats):
        online = OnlineEM(GaussianFamily(4, FullCovariance()), random_state=0, **settings)
        seconds = 0.0
        for n_pass in range(1, max(passes) + 1):
            started = time.perf_counter()
            online.fit(batches)
            seconds += time.perf_counter() - started
            best[n_pass - 1] = min(best[n_pass - 1], seconds)
            if n_pass in passes:
                means = online.mixture.family.means
                measured[n_pass] = [
                    f"{mean_error(means, truth):.4f}",
                    f"{mean_error(means, batch_fit.family.means):.4f}",
                    f"{batch_ll - online.mixture.score(X):.2e}",
                ]
    return [
        [
            str(batches[0].shape[0]),
            f"{settings.get('learning_decay', 0.7):g}",
            "yes" if settings.get("averaging") else "no",
            str(n_pass),
            *measured[n_pass],
            f"{best[n_pass - 1]:.2f}",
        ]
        for n_pass in passes
    ]


def partial_fit_overhead(repeats: int = 7) -> list[list[str]]:
    """Microseconds per step on 1,000-row batches of 2-D data, K = 3 full Gaussians: the
    whole ``partial_fit`` (of OnlineEM and of the estimator) and its parts, the parts timed
    with the BLAS held at one thread as ``partial_fit`` holds it."""
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    X = centres[rng.integers(3, size=200_000)] + rng.normal(size=(200_000, 2))
    batches = np.split(X, 200)
    online = OnlineEM(GaussianFamily(3, FullCovariance()), random_state=0).fit(batches[:20])
    estimator = MiniBatchGaussianMixture(3, random_state=0)
    for batch in batches[:20]:
        estimator.partial_fit(batch)
    engine = MixtureEM(GaussianFamily(3, FullCovariance()))
    mixture_ = online.iterate
    statistics = mixture_.chunk_statistics(batches[0])
    parts = {
        "OnlineEM.partial_fit (validation, E-step, update, M-step)": (
            lambda b: online.partial_fit(b),
            nullcontext,
        ),
        "MiniBatchGaussianMixture.partial_fit": (lambda b: estimator.partial_fit(b), nullcontext),
        "part: Mixture.chunk_statistics (one-chunk E-step, kernel cached)": (
            lambda b: mixture_.chunk_statistics(b),
            blas_held,
        ),
        "part: MixtureEM.m_step": (lambda b: engine.m_step(mixture_, statistics), blas_held),
        "part: m_step, then chunk_statistics on its new parameters (kernel set-up)": (
            lambda b: engine.m_step(mixture_, statistics).chunk_statistics(b),
            blas_held,
        ),
        "part: statistics update (2 scale, 1 add)": (
            lambda b: statistics.scale(0.9) + statistics.scale(0.1),
            blas_held,
        ),
        "for comparison: MixtureEM.e_step (validation, chunk set-up)": (
            lambda b: engine.e_step(b, mixture_),
            blas_held,
        ),
    }
    out = []
    for name, (call, context) in parts.items():
        times = []
        for _ in range(repeats):
            with context():
                started = time.perf_counter()
                for batch in batches[20:]:
                    call(batch)
                times.append((time.perf_counter() - started) / len(batches[20:]))
        out.append([name, f"{np.median(times) * 1e6:.0f}", f"{np.min(times) * 1e6:.0f}"])
    return out


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best is kept")
    parser.add_argument("--output", help="also write the tables to this markdown file")
    args = parser.parse_args()

    X, truth = make_data(args.rows)
    started = time.perf_counter()
    engine = MixtureEM(
        GaussianFamily(4, FullCovariance()), initializer=KMeans(n_init=3), tol=1e-8, random_state=0
    )
    batch_fit = engine.fit(X)
    batch_seconds = time.perf_counter() - started
    batch_ll = batch_fit.score(X)
    means = batch_fit.family.means
    rows = [
        [
            "all",
            "batch EM",
            "",
            f"{batch_fit.n_iter} it.",
            f"{mean_error(means, truth):.4f}",
            "0",
            "0",
            f"{batch_seconds:.2f}",
        ]
    ]
    for batch_size in (256, 1024, 4096):
        batches = np.array_split(X, -(-args.rows // batch_size))
        for decay in (0.6, 0.8, 1.0):
            rows += online_rows(
                X,
                batches,
                truth,
                batch_fit,
                batch_ll,
                {"learning_decay": decay},
                (1,),
                args.repeats,
            )
    batches = np.array_split(X, -(-args.rows // 1024))
    for averaging in (False, True):
        settings = {"averaging": averaging}
        rows += online_rows(
            X, batches, truth, batch_fit, batch_ll, settings, (1, 2, 3), args.repeats
        )

    header = [
        "batch",
        "decay",
        "averaging",
        "passes",
        "max abs mean err (truth)",
        "max abs mean err (batch EM)",
        "LL gap / row",
        "seconds",
    ]
    text = [
        f"{args.rows:,} rows, D = 5, K = 4 full covariance; learning_offset 10, "
        f"total_samples 1e6; mixture {mixture.__version__}, numpy {np.__version__}, "
        f"{platform.processor() or platform.machine()}",
        "",
        table(header, rows),
        "",
        "Time per step, 1,000-row batches, D = 2, K = 3 full (microseconds):",
        "",
        table(["part", "median us", "min us"], partial_fit_overhead(3 * args.repeats)),
    ]
    print("\n".join(text))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write("\n".join(text) + "\n")


if __name__ == "__main__":
    main()
