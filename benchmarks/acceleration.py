"""Fewer passes to the same fit: SQUAREM and the Aitken stopping rule against plain EM.

Run from the repository root:

    python benchmarks/acceleration.py                 # about a minute
    python benchmarks/acceleration.py --tol 1e-6 --repeats 1 --output acceleration.md

Data: Old Faithful (``../shared/data/faithful.csv`` beside the repository, both columns),
iris and wine (scikit-learn's copies, all numeric columns, unscaled), and two sets on which
EM is slow: 1,000 rows of two heavily overlapping 2-D Gaussians (the test suite's
``overlapping_gaussians``) and 2,000 counts of a 15/85 mixture of negative binomials with
means 3 and 30 and sizes 2 and 5. Gaussian data are fitted with K = 2..4 full and diagonal
covariances; the counts with K = 2..4 negative binomials. Every fit starts from the same
k-means start (``random_state=0``).

Methods, all with ``max_iter=100000``:

- ``EM``: plain EM, ``Tolerance(tol)`` (the default stopping rule);
- ``EM+Aitken``: plain EM, ``AitkenTolerance(tol)`` instead;
- ``SQUAREM``: ``MixtureEM(acceleration=SQUAREM())``, ``Tolerance(tol)``;
- ``SQUAREM+Aitken``: SQUAREM with ``AitkenTolerance(tol)``.

The reference is plain EM run to ``Tolerance(1e-10)``. Each cell of the main table gives the
passes over the data (E-steps; for SQUAREM rejected extrapolations included), the wall time
of the whole fit (k-means start included; the best of ``--repeats`` runs) and the final gap:
the mean log-likelihood per row of the returned fit minus the reference's (negative: short of
it; positive: beyond it, where the reference itself stopped short). ``oracle passes`` is
the number of passes after which EM, or SQUAREM, first reaches the reference's
log-likelihood within 1e-8 per row: how fast each gets there, whatever the stopping rule.

The second part times ``select_model`` on Old Faithful (``random_state=0``, its defaults:
tol 1e-6, max_iter 1000, the robust starts) as it is, and with every engine it builds given
``acceleration=SQUAREM()`` (a temporary monkeypatch of the two modules' ``MixtureEM``, since
selection has no option for it), and checks that both pick the same model with BICs within
1e-6 relative.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import mixture
from mixture import (
    SQUAREM,
    AitkenTolerance,
    Callback,
    DiagonalCovariance,
    FullCovariance,
    GaussianFamily,
    IterationState,
    MixtureEM,
    NegativeBinomial,
    StopWhen,
    select_model,
)

FAITHFUL = Path(__file__).resolve().parents[2] / "shared" / "data" / "faithful.csv"
REFERENCE_TOL = 1e-10
ORACLE_GAP = 1e-8
METHODS = ("EM", "EM+Aitken", "SQUAREM", "SQUAREM+Aitken")


def faithful() -> np.ndarray:
    """Old Faithful's numeric columns, shape (272, 2)."""
    return np.loadtxt(FAITHFUL, delimiter=",", skiprows=1)


def overlapping_gaussians(seed: int = 0) -> np.ndarray:
    """Two heavily overlapping 2-D Gaussian clusters, shape (1000, 2)."""
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [
            rng.multivariate_normal([0.0, 0.0], [[1.0, 0.3], [0.3, 1.0]], 500),
            rng.multivariate_normal([1.5, 0.5], [[1.5, -0.2], [-0.2, 0.8]], 500),
        ]
    )


def negative_binomial_counts(seed: int = 0) -> np.ndarray:
    """Counts of a 15/85 mixture of NB(mean 3, size 2) and NB(mean 30, size 5), (2000, 1)."""
    rng = np.random.default_rng(seed)
    low = rng.negative_binomial(2, 2 / (2 + 3), 300)
    high = rng.negative_binomial(5, 5 / (5 + 30), 1700)
    return np.concatenate([low, high]).astype(np.float64)[:, None]


@dataclass(frozen=True)
class Case:
    data_name: str
    model_name: str
    n_components: int
    X: np.ndarray
    model: Callable[[], Any]


def cases() -> list[Case]:
    from sklearn.datasets import load_iris, load_wine

    gaussian_sets = [
        ("faithful", faithful()),
        ("iris", load_iris().data),
        ("wine", load_wine().data),
        ("overlapping", overlapping_gaussians()),
    ]
    out = []
    for name, X in gaussian_sets:
        for structure in (FullCovariance, DiagonalCovariance):
            for k in (2, 3, 4):
                model = _gaussians(k, structure)
                out.append(Case(name, structure().name, k, X, model))
    counts = negative_binomial_counts()
    for k in (2, 3, 4):
        out.append(Case("neg. binomial", "NB", k, counts, _negative_binomials(k)))
    return out


def _gaussians(k: int, structure: type) -> Callable[[], Any]:
    return lambda: GaussianFamily(k, structure())


def _negative_binomials(k: int) -> Callable[[], Any]:
    return lambda: [NegativeBinomial([1.0], [1.0]) for _ in range(k)]


class Passes(Callback):
    """Every state's passes over the data and mean log-likelihood per row."""

    def __init__(self) -> None:
        self.states: list[tuple[int, float]] = []

    def on_run_start(self, run: int) -> None:
        self.states = []

    def on_iteration(self, state: IterationState) -> None:
        self.states.append((state.iteration, state.log_likelihood))

    @property
    def passes(self) -> int:
        return self.states[-1][0]

    def reached(self, target: float) -> int | None:
        """Passes at the first state within :data:`ORACLE_GAP` of ``target``."""
        return next((i for i, value in self.states if value >= target - ORACLE_GAP), None)


@dataclass(frozen=True)
class Outcome:
    passes: int
    seconds: float
    log_likelihood: float


def fit(case: Case, method: str, tol: float | None, callbacks: list[Callback], max_iter: int):
    aitken = method.endswith("Aitken")
    engine = MixtureEM(
        case.model(),
        tol=None if aitken else tol,
        max_iter=max_iter,
        callbacks=[*callbacks, AitkenTolerance(tol)] if aitken else callbacks,
        random_state=0,
        acceleration=SQUAREM() if method.startswith("SQUAREM") else None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return engine.fit(case.X)


def run(case: Case, method: str, tol: float, repeats: int) -> Outcome:
    """One method on one case: passes, the best time of ``repeats`` fits (one when a fit
    takes over a second), the returned fit's mean log-likelihood per row."""
    best = np.inf
    for _ in range(repeats):
        counter = Passes()
        started = time.perf_counter()
        result = fit(case, method, tol, [counter], 100_000)
        best = min(best, time.perf_counter() - started)
        if best > 1.0:
            break
    return Outcome(counter.passes, best, result.score(case.X))


def oracle(case: Case, target: float, limit: int) -> int | None:
    """Passes SQUAREM needs to come within :data:`ORACLE_GAP` of ``target`` (None: not
    within ``limit`` passes, or it stopped at another optimum)."""
    counter = Passes()
    stop = StopWhen(lambda state: state.log_likelihood >= target - ORACLE_GAP, converged=True)
    fit(case, "SQUAREM", None, [counter, stop], limit)
    return counter.reached(target)


def cell(outcome: Outcome, reference_value: float) -> str:
    gap = outcome.log_likelihood - reference_value
    return f"{outcome.passes} · {1e3 * outcome.seconds:.0f} ms · {gap:+.0e}"


def fits_table(tol: float, repeats: int) -> str:
    header = (
        "| data | model | K | ref. passes | "
        + " | ".join(METHODS)
        + " | oracle passes EM / SQUAREM |"
    )
    lines = [header, "|" + " --- |" * (5 + len(METHODS))]
    totals = {method: [0, 0.0] for method in METHODS}
    reference_passes_total = 0
    worst_gap = {method: 0.0 for method in METHODS}
    for case in cases():
        counter = Passes()
        value = fit(case, "EM", REFERENCE_TOL, [counter], 100_000).score(case.X)
        reference_passes_total += counter.passes
        outcomes = {method: run(case, method, tol, repeats) for method in METHODS}
        for method, outcome in outcomes.items():
            totals[method][0] += outcome.passes
            totals[method][1] += outcome.seconds
            worst_gap[method] = min(worst_gap[method], outcome.log_likelihood - value)
        squarem = oracle(case, value, counter.passes)
        reached = f"{counter.reached(value)} / {'-' if squarem is None else squarem}"
        cells = " | ".join(cell(outcomes[method], value) for method in METHODS)
        lines.append(
            f"| {case.data_name} | {case.model_name} | {case.n_components} | "
            f"{counter.passes} | {cells} | {reached} |"
        )
    total_cells = " | ".join(
        f"{totals[m][0]} · {1e3 * totals[m][1]:.0f} ms · worst {worst_gap[m]:+.0e}" for m in METHODS
    )
    lines.append(f"| **total** | | | {reference_passes_total} | {total_cells} | |")
    return "\n".join(lines)


# -- select_model -------------------------------------------------------------------------------
@contextmanager
def accelerated_selection() -> Iterator[None]:
    """Every engine that model selection builds gets ``acceleration=SQUAREM()``."""
    from mixture import robust_start, selection

    class AcceleratedEM(MixtureEM):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("acceleration", SQUAREM())
            super().__init__(*args, **kwargs)

    saved = robust_start.MixtureEM, selection.MixtureEM
    robust_start.MixtureEM = selection.MixtureEM = AcceleratedEM
    try:
        yield
    finally:
        robust_start.MixtureEM, selection.MixtureEM = saved


@contextmanager
def counted_passes() -> Iterator[list[int]]:
    """Count every E-step pass of every engine (the list's one entry)."""
    count = [0]
    original = MixtureEM._source_e_step

    def counting(self: MixtureEM, source: Any, mixture_: Any) -> Any:
        count[0] += 1
        return original(self, source, mixture_)

    MixtureEM._source_e_step = counting  # type: ignore[method-assign]
    try:
        yield count
    finally:
        MixtureEM._source_e_step = original  # type: ignore[method-assign]


def time_selection(X: np.ndarray, repeats: int, accelerate: bool) -> tuple[Any, float, int]:
    best = np.inf
    for _ in range(repeats):
        with warnings.catch_warnings(), counted_passes() as passes:
            warnings.simplefilter("ignore")
            if accelerate:
                with accelerated_selection():
                    started = time.perf_counter()
                    found = select_model(X, random_state=0)
            else:
                started = time.perf_counter()
                found = select_model(X, random_state=0)
            best = min(best, time.perf_counter() - started)
    return found, best, passes[0]


def selection_report(repeats: int) -> str:
    X = faithful()
    plain, plain_seconds, plain_passes = time_selection(X, repeats, accelerate=False)
    fast, fast_seconds, fast_passes = time_selection(X, repeats, accelerate=True)
    pairs = list(zip(plain.candidates, fast.candidates, strict=True))
    bic_relative = max(abs(b.bic - a.bic) / abs(a.bic) for a, b in pairs)
    worst = max(pairs, key=lambda pair: abs(pair[1].bic - pair[0].bic) / abs(pair[0].bic))
    same = (plain.best.model, plain.best.n_components) == (fast.best.model, fast.best.n_components)
    best_relative = abs(fast.best.bic - plain.best.bic) / abs(plain.best.bic)
    lines = [
        "| select_model(faithful) | seconds | E-step passes | best | BIC of best |",
        "| --- | --- | --- | --- | --- |",
        f"| default | {plain_seconds:.2f} | {plain_passes} | {plain.best.model}, "
        f"{plain.best.n_components} | {plain.best.bic:.6f} |",
        f"| acceleration=SQUAREM() | {fast_seconds:.2f} | {fast_passes} | {fast.best.model}, "
        f"{fast.best.n_components} | {fast.best.bic:.6f} |",
        "",
        f"Same model: {same}; best BIC relative difference {best_relative:.1e} "
        f"({'within' if best_relative <= 1e-6 else 'NOT within'} 1e-6); largest over all "
        f"{len(pairs)} candidates {bic_relative:.1e} ({worst[0].model}, "
        f"{worst[0].n_components}: {worst[0].bic:.4f} vs {worst[1].bic:.4f}).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tol", type=float, default=1e-8, help="tol of the four methods")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs, the best kept")
    parser.add_argument("--output", type=Path, help="also write the tables to this file")
    parser.add_argument("--skip-selection", action="store_true", help="only the fits table")
    args = parser.parse_args()
    report = [
        f"mixture {mixture.__version__}, numpy {np.__version__}, Python "
        f"{platform.python_version()}, {platform.machine()}",
        "",
        f"Each cell: passes · wall time · final gap to plain EM at tol {REFERENCE_TOL:g} "
        f"(mean log-likelihood per row); methods at tol {args.tol:g}.",
        "",
        fits_table(args.tol, args.repeats),
    ]
    if not args.skip_selection:
        report += ["", selection_report(args.repeats)]
    text = "\n".join(report)
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
