"""EM speed, accuracy and memory against scikit-learn (and pomegranate / gmmx if installed).

Run from the repository root (the package must be importable, e.g. after ``pip install .``):

    python benchmarks/compare_sklearn.py                 # default grid, about 15 minutes
    python benchmarks/compare_sklearn.py --quick         # small grid, about 1 minute
    python benchmarks/compare_sklearn.py --output results.md

For every shape (rows N, features D, components K), covariance type and dtype, both
libraries start from the same parameters (K random rows as means, the data's variance on the
diagonal, equal weights) and run a fixed number of EM iterations (no tolerance). The calls
are interleaved in one process (scikit-learn, ours, a reference GEMM, repeated), and the best
of ``--repeats`` is kept, so a noisy machine slows all of them alike. The header comes
first and each row is printed as soon as it is measured; the whole report follows at the end
(and goes to ``--output``).

``--quick`` is a smoke test of the whole script in about a minute on two cores: shapes of
20,000 rows, 3 iterations, best of 2, a smaller reference GEMM, and small prediction and
scaling tables. Its ratios are noisier than the default grid's; quote the default grid.

Columns:

- ``sklearn s/it``, ``ours s/it``: seconds per EM iteration. scikit-learn is warm-started
  from the parameters (its ``fit`` then runs no k-means); its ``fit`` ends with one extra
  E-step (for ``fit_predict`` labels), which is timed separately and subtracted, so both
  columns are pure EM iterations.
- ``speed-up``: sklearn / ours.
- ``rel. diff LL``: relative difference of the final log-likelihood (``lower_bound_``).
- ``mem ratio``: peak memory allocated during ``fit`` beyond the data (tracemalloc; numpy
  reports its allocations to it), ours / scikit-learn.
- ``GFLOP/s``, ``% GEMM``: our rate on the nominal floating-point work of one iteration
  (see ``nominal_flops``) and its share of a square GEMM of the same dtype timed in the
  same interleaved loop.
- ``f32 gain``: for float32 rows, our float64 time / our float32 time on the same shape.

Two more tables follow (``--no-prediction``, ``--no-scaling`` skip them): the speed of
``predict_proba`` and ``score_samples`` against scikit-learn's, and our time per row and
peak memory for growing N.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

import mixture
from mixture import (
    DiagonalCovariance,
    FullCovariance,
    GaussianFamily,
    Mixture,
    MixtureEM,
    SphericalCovariance,
    TiedCovariance,
)

STRUCTURES = {
    "full": FullCovariance(),
    "tied": TiedCovariance(),
    "diag": DiagonalCovariance(),
    "spherical": SphericalCovariance(),
}

# (N, D, K): small D, mid-size, large N, high D, many components.
DEFAULT_SHAPES = [
    (200_000, 2, 5),
    (200_000, 16, 16),
    (1_000_000, 8, 8),
    (100_000, 64, 32),
    (50_000, 32, 64),
]
QUICK_SHAPES = [(20_000, 2, 5), (20_000, 16, 8)]
# float32 rows: these shapes, every covariance type.
DEFAULT_FLOAT32_SHAPES = [(200_000, 16, 16), (1_000_000, 8, 8), (100_000, 64, 32)]
QUICK_FLOAT32_SHAPES = [(20_000, 16, 8)]
SCALING_ROWS = [100_000, 1_000_000, 4_000_000]
PREDICT_SHAPES = [(1_000_000, 8, 8), (100_000, 64, 32)]
QUICK_PREDICT_SHAPES = [(50_000, 8, 8)]
QUICK_SCALING_ROWS = [20_000, 100_000, 200_000]
QUICK_ITERATIONS, QUICK_REPEATS, QUICK_GEMM_SIZE = 3, 2, 1024
SCALING_SHAPE = (16, 16)  # D, K
MB = 1024**2


# -- data and starting point --------------------------------------------------------------------
def make_data(n_rows: int, n_features: int, n_components: int, dtype: Any) -> np.ndarray:
    """Rows from ``n_components`` unit-variance blobs with centres drawn from N(0, 4^2)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0.0, 4.0, (n_components, n_features))
    labels = rng.integers(n_components, size=n_rows)
    X = centres[labels] + rng.normal(size=(n_rows, n_features))
    return X.astype(dtype)


@dataclass(frozen=True)
class Start:
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray
    mixture: Mixture


def starting_point(X: np.ndarray, n_components: int, covariance_type: str) -> Start:
    """K random rows as means, the mean feature variance on the diagonal, equal weights."""
    rng = np.random.default_rng(1)
    n_features = X.shape[1]
    means = X[rng.choice(X.shape[0], n_components, replace=False)].astype(np.float64)
    variance = float(X.astype(np.float64).var(axis=0).mean())
    covariances = {
        "full": np.tile(np.eye(n_features) * variance, (n_components, 1, 1)),
        "tied": np.eye(n_features) * variance,
        "diag": np.full((n_components, n_features), variance),
        "spherical": np.full(n_components, variance),
    }[covariance_type]
    weights = np.full(n_components, 1.0 / n_components)
    family = GaussianFamily(
        n_components, STRUCTURES[covariance_type], means=means, covariances=covariances
    )
    return Start(weights, means, covariances, family.precisions_cholesky, Mixture(weights, family))


# -- the fits -------------------------------------------------------------------------------------
def ours(X: np.ndarray, start: Start, covariance_type: str, iterations: int) -> Callable[[], float]:
    n_components = start.means.shape[0]
    em = MixtureEM(
        GaussianFamily(n_components, STRUCTURES[covariance_type]), tol=None, max_iter=iterations
    )

    def fit() -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return em.fit(X, warm_start=start.mixture).lower_bound

    return fit


def sklearn_model(start: Start, covariance_type: str, iterations: int) -> SklearnGaussianMixture:
    model = SklearnGaussianMixture(
        start.means.shape[0],
        covariance_type=covariance_type,
        tol=0.0,
        max_iter=iterations,
        warm_start=True,
    )
    # A warm start from exactly these parameters: fit() then skips its initialisation.
    model.weights_ = start.weights.copy()
    model.means_ = start.means.copy()
    model.covariances_ = start.covariances.copy()
    model.precisions_cholesky_ = start.precisions_cholesky.copy()
    model.converged_ = False
    model.lower_bound_ = -np.inf
    return model


def theirs(
    X: np.ndarray, start: Start, covariance_type: str, iterations: int
) -> tuple[Callable[[], float], Callable[[], None]]:
    """scikit-learn's fit from the start, and its trailing E-step alone (to subtract)."""

    def fit() -> float:
        model = sklearn_model(start, covariance_type, iterations)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X)
        return float(model.lower_bound_)

    reference = sklearn_model(start, covariance_type, iterations)

    def e_step() -> None:
        reference._e_step(X)

    return fit, e_step


def gemm(dtype: Any, size: int = 1536) -> tuple[Callable[[], None], float]:
    """A square matrix product of ``size`` and its floating-point work (the peak rate)."""
    rng = np.random.default_rng(2)
    a = rng.random((size, size)).astype(dtype)
    b = rng.random((size, size)).astype(dtype)
    return (lambda: a @ b), 2.0 * size**3


def nominal_flops(covariance_type: str, n: int, d: int, k: int) -> float:
    """Floating-point work of one EM iteration in its BLAS formulation (dominant terms).

    full: E-step projection 2NKD^2 + M-step scatter 2NKD^2 (dense GEMM) + means 2NKD;
    tied: whitening 2ND^2 + scatter 2ND^2 + distances and means 4NKD;
    diag: distances 4NKD + moments 4NKD; spherical: 2NK(D+1) each.
    """
    if covariance_type == "full":
        return 4.0 * n * k * d * d + 2.0 * n * k * d
    if covariance_type == "tied":
        return 4.0 * n * d * d + 4.0 * n * k * d
    if covariance_type == "diag":
        return 8.0 * n * k * d
    return 4.0 * n * k * (d + 1)


# -- timing and memory ----------------------------------------------------------------------------
def interleaved_best(calls: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    best = dict.fromkeys(calls, np.inf)
    for _ in range(repeats):
        for name, call in calls.items():
            gc.collect()
            started = time.perf_counter()
            call()
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def peak_memory(call: Callable[[], Any]) -> float:
    """Peak bytes allocated (tracemalloc) during ``call`` beyond what was allocated before."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    try:
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return float(peak - before)


# -- optional peers -------------------------------------------------------------------------------
def peers() -> dict[str, Callable[..., Callable[[], Any]]]:
    """Fits of pomegranate and gmmx from the same start, for those that are installed."""
    found: dict[str, Callable[..., Callable[[], Any]]] = {}
    try:
        import torch
        from pomegranate.distributions import Normal
        from pomegranate.gmm import GeneralMixtureModel

        def pomegranate_fit(
            X: np.ndarray, start: Start, covariance_type: str, iterations: int
        ) -> Callable[[], Any] | None:
            kind = {"full": "full", "diag": "diag", "spherical": "sphere"}.get(covariance_type)
            if kind is None:
                return None
            data = torch.from_numpy(X)

            def fit() -> Any:
                components = [
                    Normal(
                        means=torch.from_numpy(start.means[k].astype(X.dtype)),
                        covs=torch.from_numpy(np.asarray(start.covariances[k]).astype(X.dtype)),
                        covariance_type=kind,
                    )
                    for k in range(start.means.shape[0])
                ]
                model = GeneralMixtureModel(
                    components,
                    priors=torch.from_numpy(start.weights.astype(X.dtype)),
                    max_iter=iterations,
                    tol=0.0,
                )
                return model.fit(data)

            return fit

        found["pomegranate"] = pomegranate_fit
    except ImportError:
        pass
    try:
        import jax
        from gmmx import EMFitter, GaussianMixtureModelJax

        jax.config.update("jax_enable_x64", True)

        def gmmx_fit(
            X: np.ndarray, start: Start, covariance_type: str, iterations: int
        ) -> Callable[[], Any] | None:
            if covariance_type != "full":
                return None
            data = jax.numpy.asarray(X)

            def fit() -> Any:
                model = GaussianMixtureModelJax.from_squeezed(
                    means=start.means.astype(X.dtype),
                    covariances=start.covariances.astype(X.dtype),
                    weights=start.weights.astype(X.dtype),
                )
                fitter = EMFitter(tol=0.0, max_iter=iterations)
                result = fitter.fit(x=data, gmm=model)
                jax.block_until_ready(result.gmm.means)
                return result

            return fit

        found["gmmx"] = gmmx_fit
    except ImportError:
        pass
    return found


# -- one table row --------------------------------------------------------------------------------
@dataclass
class Row:
    n: int
    d: int
    k: int
    covariance_type: str
    dtype: str
    sklearn: float
    ours: float
    log_likelihood_difference: float
    memory_ours: float
    memory_sklearn: float
    gflops: float
    gemm_share: float
    peer_times: dict[str, float]
    float32_gain: float | None = None

    @property
    def speed_up(self) -> float:
        return self.sklearn / self.ours


def measure(
    shape: tuple[int, int, int],
    covariance_type: str,
    dtype: Any,
    iterations: int,
    repeats: int,
    peer_fits: dict[str, Callable[..., Callable[[], Any]]],
    memory: bool = True,
    gemm_size: int = 1536,
) -> Row:
    n, d, k = shape
    X = make_data(n, d, k, dtype)
    start = starting_point(X, k, covariance_type)
    ours_fit = ours(X, start, covariance_type, iterations)
    sklearn_fit, sklearn_e_step = theirs(X, start, covariance_type, iterations)
    product, product_flops = gemm(dtype, gemm_size)
    calls: dict[str, Callable[[], Any]] = {
        "sklearn": sklearn_fit,
        "sklearn_e_step": sklearn_e_step,
        "ours": ours_fit,
        "gemm": product,
    }
    for name, make in peer_fits.items():
        fit = make(X, start, covariance_type, iterations)
        if fit is not None:
            calls[name] = fit
    best = interleaved_best(calls, repeats)
    ours_ll, sklearn_ll = ours_fit(), sklearn_fit()
    sklearn_seconds = (best["sklearn"] - best["sklearn_e_step"]) / iterations
    ours_seconds = best["ours"] / iterations
    gflops = nominal_flops(covariance_type, n, d, k) / ours_seconds / 1e9
    gemm_rate = product_flops / best["gemm"] / 1e9
    if memory:
        memory_ours, memory_sklearn = peak_memory(ours_fit), peak_memory(sklearn_fit)
    else:
        memory_ours = memory_sklearn = np.nan
    return Row(
        n,
        d,
        k,
        covariance_type,
        np.dtype(dtype).name,
        sklearn_seconds,
        ours_seconds,
        abs(ours_ll - sklearn_ll) / abs(sklearn_ll),
        memory_ours,
        memory_sklearn,
        gflops,
        gflops / gemm_rate,
        {name: best[name] / iterations for name in peer_fits if name in best},
    )


# -- output ---------------------------------------------------------------------------------------
def machine() -> str:
    from threadpoolctl import threadpool_info

    blas = ", ".join(
        f"{info.get('internal_api')} {info.get('version')} ({info.get('num_threads')} threads)"
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    )
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if "model name" in line]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} logical cores; Python {platform.python_version()}, "
        f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"mixture {getattr(mixture, '__version__', '?')}; BLAS: {blas}"
    )


def table_header(peer_names: list[str]) -> list[str]:
    """The two markdown lines above the rows of :func:`table`."""
    header = [
        "N",
        "D",
        "K",
        "cov",
        "dtype",
        "sklearn s/it",
        "ours s/it",
        "speed-up",
        "rel. diff LL",
        "mem ours MB",
        "mem sklearn MB",
        "mem ratio",
        "GFLOP/s",
        "% GEMM",
        "f32 gain",
        *[f"{name} s/it" for name in peer_names],
    ]
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]


def table_row(row: Row, peer_names: list[str]) -> str:
    """One markdown line of :func:`table`."""
    cells = [
        f"{row.n:,}",
        str(row.d),
        str(row.k),
        row.covariance_type,
        row.dtype,
        f"{row.sklearn:.4f}",
        f"{row.ours:.4f}",
        f"{row.speed_up:.1f}x",
        f"{row.log_likelihood_difference:.1e}",
        f"{row.memory_ours / MB:.1f}",
        f"{row.memory_sklearn / MB:.1f}",
        f"{row.memory_ours / row.memory_sklearn:.3f}",
        f"{row.gflops:.1f}",
        f"{100 * row.gemm_share:.0f}%",
        "" if row.float32_gain is None else f"{row.float32_gain:.2f}x",
        *[
            f"{row.peer_times[name]:.4f}" if name in row.peer_times else "n/a"
            for name in peer_names
        ],
    ]
    return "| " + " | ".join(cells) + " |"


def table(rows: list[Row], peer_names: list[str]) -> str:
    """The markdown table of ``rows``."""
    return "\n".join([*table_header(peer_names), *(table_row(row, peer_names) for row in rows)])


def summary(rows: list[Row]) -> str:
    float64 = [row for row in rows if row.dtype == "float64"]
    speed_ups = np.array([row.speed_up for row in float64])
    worst = min(float64, key=lambda row: row.speed_up)
    memory = np.array([row.memory_ours / row.memory_sklearn for row in rows])
    gains = [row.float32_gain for row in rows if row.float32_gain is not None]
    big_full = [row for row in float64 if row.covariance_type == "full" and row.d >= 32]
    lines = [
        f"- float64 speed-up over scikit-learn: median {np.median(speed_ups):.1f}x, "
        f"minimum {worst.speed_up:.1f}x (N={worst.n:,} D={worst.d} K={worst.k} "
        f"{worst.covariance_type})",
        f"- largest relative log-likelihood difference (float64): "
        f"{max(row.log_likelihood_difference for row in float64):.1e}",
        f"- peak extra memory, ours / scikit-learn: median {np.median(memory):.3f}, "
        f"maximum {memory.max():.3f}",
    ]
    if big_full:
        shares = ", ".join(f"{100 * row.gemm_share:.0f}%" for row in big_full)
        lines.append(f"- full covariance, D >= 32: share of the measured GEMM rate {shares}")
    if gains:
        lines.append(
            f"- float32 over our float64: median {np.median(gains):.2f}x, "
            f"range {min(gains):.2f}x - {max(gains):.2f}x"
        )
    return "\n".join(lines)


def scaling(iterations: int, repeats: int, rows_list: list[int]) -> str:
    d, k = SCALING_SHAPE
    lines = [
        f"Our full-covariance fit, D={d}, K={k}, float64, best of {repeats}. `fit s/it`: a "
        f"fit of {iterations} iterations / {iterations} (includes the fit's fixed costs); "
        f"`marginal s/it`: (fit of {2 * iterations} - fit of {iterations}) / {iterations}, "
        "the cost of one more iteration, whose time per row is compared with the first "
        "size. Peak memory allocated during the fit beyond the data (N x D x 8 bytes).",
        "",
        "| N | fit s/it | marginal s/it | marginal per 1e5 rows | relative to first "
        "| data MB | peak extra MB |",
        "|---|---|---|---|---|---|---|",
    ]
    first = None
    for n in rows_list:
        X = make_data(n, d, k, np.float64)
        start = starting_point(X, k, "full")
        short, long = ours(X, start, "full", iterations), ours(X, start, "full", 2 * iterations)
        best = interleaved_best({"short": short, "long": long}, repeats)
        marginal = max(best["long"] - best["short"], 0.0) / iterations
        per_row = marginal / n * 1e5
        first = per_row if first is None else first
        extra = peak_memory(short)
        lines.append(
            f"| {n:,} | {best['short'] / iterations:.3f} | {marginal:.3f} | {per_row:.4f} | "
            f"{per_row / first:.2f} | {X.nbytes / MB:.0f} | {extra / MB:.1f} |"
        )
        del X
    return "\n".join(lines)


def sklearn_fitted(start: Start, covariance_type: str) -> SklearnGaussianMixture:
    """A scikit-learn model holding the starting parameters, as if fitted."""
    model = SklearnGaussianMixture(len(start.weights), covariance_type=covariance_type)
    model.weights_ = start.weights
    model.means_ = start.means
    model.covariances_ = start.covariances
    model.precisions_cholesky_ = start.precisions_cholesky
    model.converged_, model.n_iter_, model.lower_bound_ = True, 0, 0.0
    return model


def prediction(shapes: list[tuple[int, int, int]], repeats: int) -> str:
    """``predict_proba`` and ``score_samples`` of one mixture, ours and scikit-learn's."""
    lines = [
        f"Prediction with fixed parameters (the starting point), float64, best of {repeats}; "
        "speed-up = scikit-learn / ours, largest absolute difference of the results.",
        "",
        "| N | D | K | cov | method | sklearn s | ours s | speed-up | max abs diff |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n, d, k in shapes:
        X = make_data(n, d, k, np.float64)
        for covariance_type in ("full", "diag"):
            start = starting_point(X, k, covariance_type)
            theirs_model = sklearn_fitted(start, covariance_type)
            for method in ("predict_proba", "score_samples"):
                mine = getattr(start.mixture, method)
                sklearn_method = getattr(theirs_model, method)
                best = interleaved_best(
                    {
                        "sklearn": lambda f=sklearn_method, rows=X: f(rows),
                        "ours": lambda f=mine, rows=X: f(rows),
                    },
                    repeats,
                )
                difference = float(np.max(np.abs(mine(X) - sklearn_method(X))))
                lines.append(
                    f"| {n:,} | {d} | {k} | {covariance_type} | {method} | "
                    f"{best['sklearn']:.4f} | {best['ours']:.4f} | "
                    f"{best['sklearn'] / best['ours']:.1f}x | {difference:.1e} |"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="small grid, about a minute on two cores"
    )
    parser.add_argument(
        "--iterations",
        type=int,
        help=f"EM iterations per fit (default 5; {QUICK_ITERATIONS} with --quick)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        help=f"best of this many runs (default 3; {QUICK_REPEATS} with --quick)",
    )
    parser.add_argument("--output", help="also write the markdown report to this file")
    parser.add_argument("--no-scaling", action="store_true", help="skip the N-scaling table")
    parser.add_argument("--no-prediction", action="store_true", help="skip the prediction table")
    parser.add_argument(
        "--shape",
        action="append",
        help="N,D,K (repeatable) instead of the default grid; float64 and float32",
    )
    parser.add_argument(
        "--covariance", action="append", choices=list(STRUCTURES), help="restrict the types"
    )
    parser.add_argument(
        "--dtype", choices=["both", "float64", "float32"], default="both", help="restrict dtypes"
    )
    args = parser.parse_args()
    iterations = args.iterations or (QUICK_ITERATIONS if args.quick else 5)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else 3)
    gemm_size = QUICK_GEMM_SIZE if args.quick else 1536

    if args.shape:
        shapes = [tuple(int(v) for v in s.split(",")) for s in args.shape]
        float32_shapes = shapes
    elif args.quick:
        shapes, float32_shapes = QUICK_SHAPES, QUICK_FLOAT32_SHAPES
    else:
        shapes, float32_shapes = DEFAULT_SHAPES, DEFAULT_FLOAT32_SHAPES
    covariance_types = args.covariance or list(STRUCTURES)
    peer_fits = peers()
    peer_names = list(peer_fits)

    started = time.perf_counter()
    # The header first, then each row as soon as it is measured.
    preamble = [
        f"Machine: {machine()}",
        "",
        f"{iterations} EM iterations per fit, best of {repeats}, interleaved.",
        "",
    ]
    print("\n".join([*preamble, *table_header(peer_names)]), flush=True)
    rows: list[Row] = []
    runs = [(np.float64, shapes), (np.float32, float32_shapes)]
    runs = [(dtype, s) for dtype, s in runs if args.dtype in ("both", np.dtype(dtype).name)]
    for dtype, shape_list in runs:
        for shape in shape_list:
            for covariance_type in covariance_types:
                row = measure(
                    shape,
                    covariance_type,
                    dtype,
                    iterations,
                    repeats,
                    peer_fits,
                    gemm_size=gemm_size,
                )
                if dtype == np.float32:
                    same = [
                        r
                        for r in rows
                        if (r.n, r.d, r.k, r.covariance_type, r.dtype)
                        == (*shape, covariance_type, "float64")
                    ]
                    if same:
                        row.float32_gain = same[0].ours / row.ours
                rows.append(row)
                print(table_row(row, peer_names), flush=True)

    sections = ["", summary(rows)]
    print("\n".join(sections), flush=True)
    if not args.no_prediction:
        shapes = QUICK_PREDICT_SHAPES if args.quick else PREDICT_SHAPES
        sections += ["", prediction(shapes, repeats)]
        print("\n".join(sections[-2:]), flush=True)
    if not args.no_scaling:
        rows_list = QUICK_SCALING_ROWS if args.quick else SCALING_ROWS
        sections += ["", scaling(iterations, 2, rows_list)]
        print("\n".join(sections[-2:]), flush=True)
    total = f"Total benchmark time: {time.perf_counter() - started:.0f} s"
    print(f"\n{total}")
    if args.output:
        text = "\n".join([*preamble, table(rows, peer_names), *sections, "", total])
        with open(args.output, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
