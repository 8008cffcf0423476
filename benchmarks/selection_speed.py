"""CPU time of a default model selection, with and without EM acceleration, against mclust.

Run: python benchmarks/selection_speed.py [--datasets faithful,iris] [--repeats 3]
[--output FILE.md]

For each data set of ``benchmarks/mclust/data`` (and Old Faithful), it times
``select_model(X, random_state=0)`` as a user writes it (4 structures x K = 1..9, the
robust start, ``tol=1e-6``), with plain EM steps (``acceleration=None``), with SQUAREM (the
default), and with SQUAREM on the engine's numpy loop (compiled kernels off; by default
each run on small data is one compiled loop where numba is installed, see
``MixtureEM(whole_runs=True)``), interleaved, best of ``--repeats`` CPU times
(``time.process_time``: both our threads and the BLAS's count). It reports the passes
over the data summed over every run of the selection (the iterations, counted through a
callback-free hook on the engine and the compiled runs' own count), the model each
selects and its BIC, and mclust's CPU time for ``Mclust(X)`` with its default control over
the same 4 x 9 and over its 14 x 9 (``reference_cpu.csv``, made by
``benchmarks/mclust/timing.R`` on this machine), and a loop a scikit-learn user would
write: ``sklearn.mixture.GaussianMixture`` with its defaults (k-means start, ``tol=1e-3``)
over the same grid, the lowest BIC kept, timed in the same run.

Prints a markdown table; ``--output`` also writes it to a file.
"""

from __future__ import annotations

import argparse
import csv
import time
import warnings
from pathlib import Path

import numpy as np

from mixture import SQUAREM, GaussianFamily, select_model
from mixture import engine as engine_module
from mixture._compiled import compiled_kernels

HERE = Path(__file__).resolve().parent / "mclust"
DATASETS = ("faithful", "iris", "diabetes", "banknote", "wine", "synthetic")


def _data(name: str) -> np.ndarray:
    return np.loadtxt(HERE / "data" / f"{name}.csv", delimiter=",", skiprows=1, ndmin=2)


def _mclust_cpu(dataset: str, scope: str) -> float:
    with (HERE / "reference_cpu.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            key = (row["dataset"], row["scope"], row["prior"], row["control"])
            if key == (dataset, scope, "none", "default"):
                return float(row["cpu_median_s"])
    return float("nan")


class _PassCounter:
    """Counts E-steps (passes over the data) by wrapping the engine's E-step, and the
    passes of the runs the compiled loop completed (``MixtureEM(whole_runs=True)``)."""

    def __init__(self) -> None:
        self.passes = 0
        self._original = engine_module.MixtureEM._source_e_step
        self._whole = GaussianFamily.whole_run

    def __enter__(self) -> _PassCounter:
        original, whole = self._original, self._whole

        def counted(engine, source, mixture, *rest):  # type: ignore[no-untyped-def]
            self.passes += 1
            return original(engine, source, mixture, *rest)

        def counted_whole(family, *args, **kwargs):  # type: ignore[no-untyped-def]
            outcome = whole(family, *args, **kwargs)
            self.passes += 0 if outcome is None else outcome.passes
            return outcome

        engine_module.MixtureEM._source_e_step = counted  # type: ignore[method-assign]
        GaussianFamily.whole_run = counted_whole  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        engine_module.MixtureEM._source_e_step = self._original  # type: ignore[method-assign]
        GaussianFamily.whole_run = self._whole  # type: ignore[method-assign]


#: The variants timed: label, acceleration, compiled kernels (None: as by default, which
#: runs each small run in one compiled loop where numba is installed; False: the engine's
#: numpy loop).
VARIANTS = (
    ("plain", None, None),
    ("squarem", SQUAREM(), None),
    ("numpy loop", SQUAREM(), False),
)


def _select(
    X: np.ndarray, acceleration: SQUAREM | None, compiled: bool | None = None
) -> tuple[float, object]:
    with warnings.catch_warnings(), compiled_kernels(compiled):
        warnings.simplefilter("ignore")
        started = time.process_time()
        selection = select_model(X, random_state=0, acceleration=acceleration)
        return time.process_time() - started, selection


def _sklearn_loop(X: np.ndarray) -> tuple[float, str]:
    """scikit-learn's GaussianMixture with its defaults over the same 4 x 9 grid, the
    lowest BIC kept (what a user would write without this library)."""
    from sklearn.mixture import GaussianMixture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.process_time()
        best = None
        for covariance in ("full", "tied", "diag", "spherical"):
            for k in range(1, 10):
                model = GaussianMixture(k, covariance_type=covariance, random_state=0).fit(X)
                bic = model.bic(X)
                if best is None or bic < best[0]:
                    best = (bic, f"{covariance},{k} ({bic:.3f})")
        return time.process_time() - started, best[1]


def measure(dataset: str, repeats: int) -> dict:
    X = _data(dataset)
    times: dict[str, list[float]] = {label: [] for label, _, _ in VARIANTS}
    times["sklearn"] = []
    chosen = {}
    for _ in range(repeats):  # interleaved: the machine's load hits all alike
        for label, acceleration, compiled in VARIANTS:
            seconds, selection = _select(X, acceleration, compiled)
            times[label].append(seconds)
            chosen[label] = selection.best
        seconds, sklearn_choice = _sklearn_loop(X)
        times["sklearn"].append(seconds)
    passes = {}
    for label, acceleration, compiled in VARIANTS:
        with _PassCounter() as counter:
            _select(X, acceleration, compiled)
        passes[label] = counter.passes
    return {
        "dataset": dataset,
        "shape": X.shape,
        "cpu": {label: min(values) for label, values in times.items()},
        "passes": passes,
        "chosen": {
            label: f"{best.model},{best.n_components} ({best.bic:.3f})"
            for label, best in chosen.items()
            if label != "numpy loop"
        },
        "sklearn_choice": sklearn_choice,
        "mclust_4": _mclust_cpu(dataset, "shared4"),
        "mclust_14": _mclust_cpu(dataset, "all14"),
    }


def table(results: list[dict]) -> str:
    lines = [
        "| data | n x d | plain EM: CPU s | passes | SQUAREM: CPU s | passes | "
        "SQUAREM, numpy loop: CPU s | "
        "selected (plain) | selected (SQUAREM) | mclust 4 x 9 CPU s | mclust 14 x 9 CPU s | "
        "scikit-learn loop CPU s | its choice |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['dataset']} | {r['shape'][0]} x {r['shape'][1]} "
            f"| {r['cpu']['plain']:.2f} | {r['passes']['plain']} "
            f"| {r['cpu']['squarem']:.2f} | {r['passes']['squarem']} "
            f"| {r['cpu']['numpy loop']:.2f} "
            f"| {r['chosen']['plain']} | {r['chosen']['squarem']} "
            f"| {r['mclust_4']:.2f} | {r['mclust_14']:.2f} | {r['cpu']['sklearn']:.2f} "
            f"| {r['sklearn_choice']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", help="also write the table here (markdown)")
    args = parser.parse_args(argv)
    results = []
    for dataset in args.datasets.split(","):
        results.append(measure(dataset, args.repeats))
        print(f"done: {dataset}", flush=True)
    text = table(results)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
