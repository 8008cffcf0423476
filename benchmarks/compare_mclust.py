"""Model selection against R's mclust on six data sets, from the committed mclust numbers.

Run: python benchmarks/compare_mclust.py [--datasets faithful,iris] [--scope all14]
[--priors none] [--output FILE.md]

For each data set in ``benchmarks/mclust/data`` it runs ``select_model`` over the four
structures mclust shares with us (VVV=full, EEE=tied, VVI=diag, VII=spherical; ``--scope
shared4``, the default) or over all 14 mclust models (``--scope all14``, without a prior:
mclust's prior covers ten of the models, ours six) and K = 1..9, without a prior
(``reg_covar=0``, as mclust) and with mclust's default prior (``DefaultPrior()``,
``reg_covar=0``), at a tight tolerance (1e-8 on the mean log-likelihood per row; mclust's
reference ran at a relative 1e-8), and compares with
``benchmarks/mclust/reference_*.csv`` (made by ``benchmarks/mclust/reference.R``):

- the model and BIC each selects (ours are mclust's values negated: lower is better);
- per candidate, whether our log-likelihood is more than 1e-3 below mclust's (cells
  where mclust returned NA are left out, and so are our degenerate candidates);
- the candidates we flag as degenerate, and mclust's NA cells;
- the CPU time of our selection (``time.process_time``) against mclust's ``mclustBIC`` over
  4 x 9 and 14 x 9 (from ``reference_cpu.csv``, measured separately on this machine).

With ``--scope all14`` models are shown by their mclust names and the candidates worse than
mclust's are listed in a table of their own (model, K, both log-likelihoods, difference).

``--acceleration none|squarem`` fits every candidate with plain EM or SQUAREM instead of
``select_model``'s default. Prints markdown tables; ``--output`` also writes them to a file.
"""

from __future__ import annotations

import argparse
import csv
import time
import warnings
from pathlib import Path

import numpy as np

from mixture import SQUAREM, select_model
from mixture.gaussian import MCLUST_NAMES, DefaultPrior, structure_named

HERE = Path(__file__).resolve().parent / "mclust"
DATASETS = ("faithful", "iris", "diabetes", "banknote", "wine", "synthetic")
OURS = {"VVV": "full", "EEE": "tied", "VVI": "diag", "VII": "spherical"}
MCLUST = {structure_named(name).name: name for name in MCLUST_NAMES}  # our label -> mclust's
TOLERANCE = 1e-3


def _rows(name: str) -> list[dict[str, str]]:
    with (HERE / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _data(name: str) -> np.ndarray:
    return np.loadtxt(HERE / "data" / f"{name}.csv", delimiter=",", skiprows=1, ndmin=2)


def _shown(mclust_name: str, scope: str) -> str:
    """How a model is named in the tables: our name in shared4, mclust's in all14."""
    return OURS[mclust_name] if scope == "shared4" else mclust_name


def _mclust_cells(dataset: str, prior: str, scope: str) -> dict[tuple[str, int], dict[str, str]]:
    return {
        (_shown(row["model"], scope), int(row["K"])): row
        for row in _rows("reference_bic.csv")
        if row["dataset"] == dataset
        and row["prior"] == prior
        and (scope == "all14" or row["model"] in OURS)
    }


def _mclust_choice(dataset: str, prior: str, scope: str) -> tuple[str, int, float]:
    for row in _rows("reference_selected.csv"):
        if (row["dataset"], row["prior"], row["scope"], row["criterion"]) == (
            dataset,
            prior,
            scope,
            "BIC",
        ):
            return _shown(row["model"], scope), int(row["K"]), -float(row["value"])
    raise KeyError(dataset)


def _mclust_cpu(dataset: str, scope: str, prior: str) -> float:
    for row in _rows("reference_cpu.csv"):
        if (row["dataset"], row["scope"], row["prior"], row["control"]) == (
            dataset,
            scope,
            prior,
            "tight",
        ):
            return float(row["cpu_median_s"])
    return float("nan")


ACCELERATIONS = {"default": None, "none": None, "squarem": SQUAREM()}


def compare(
    dataset: str, prior: str, scope: str = "shared4", acceleration: str = "default"
) -> dict:
    """Our selection on one data set, with or without the prior, against mclust's."""
    X = _data(dataset)
    options: dict = {"prior": DefaultPrior()} if prior != "none" else {}
    if acceleration != "default":  # else select_model's own default
        options["acceleration"] = ACCELERATIONS[acceleration]
    if scope == "all14":
        options["structures"] = [structure_named(name) for name in MCLUST_NAMES]
    started = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        selection = select_model(
            X, n_components=range(1, 10), tol=1e-8, max_iter=5000, reg_covar=0.0,
            random_state=0, **options,
        )  # fmt: skip
    cpu = time.process_time() - started
    cells = _mclust_cells(dataset, prior, scope)
    worse, compared = [], 0
    for candidate in selection.candidates:
        name = _shown(MCLUST[candidate.model], scope)
        cell = cells.get((name, candidate.n_components))
        if cell is None or cell["is_na"] == "TRUE" or candidate.degenerate is not None:
            continue
        compared += 1
        theirs = float(cell["loglik"])
        if candidate.log_likelihood - theirs < -TOLERANCE:
            worse.append((name, candidate.n_components, candidate.log_likelihood, theirs))
    model, K, value = _mclust_choice(dataset, prior, scope)
    best = selection.best
    best_name = _shown(MCLUST[best.model], scope)
    return {
        "dataset": dataset,
        "prior": prior,
        "scope": scope,
        "shape": X.shape,
        "ours": f"{best_name},{best.n_components} ({best.bic:.3f})",
        "mclust": f"{model},{K} ({value:.3f})",
        "same": (best_name, best.n_components) == (model, K),
        "compared": compared,
        "worse": worse,
        "degenerate": [
            f"{_shown(MCLUST[c.model], scope)},{c.n_components}" for c in selection.degenerate
        ],
        "mclust_na": [f"{m},{k}" for (m, k), row in cells.items() if row["is_na"] == "TRUE"],
        "cpu": cpu,
        "mclust_cpu_4": _mclust_cpu(dataset, "shared4", prior),
        "mclust_cpu_14": _mclust_cpu(dataset, "all14", prior),
    }


def tables(results: list[dict]) -> str:
    lines = [
        "| data | prior | n x d | ours (BIC) | mclust (BIC) | same | worse than mclust by >1e-3 "
        "| degenerate (ours) | NA (mclust) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        worse = f"{len(r['worse'])} of {r['compared']}"
        if r["worse"] and r["scope"] == "shared4":
            gaps = (f"{m},{k} ({ours - theirs:+.3f})" for m, k, ours, theirs in r["worse"])
            worse += ": " + ", ".join(gaps)
        lines.append(
            f"| {r['dataset']} | {r['prior']} | {r['shape'][0]} x {r['shape'][1]} | {r['ours']} "
            f"| {r['mclust']} | {'yes' if r['same'] else 'no'} | {worse} "
            f"| {', '.join(r['degenerate']) or '-'} | {', '.join(r['mclust_na']) or '-'} |"
        )
    if results and results[0]["scope"] == "all14":
        lines += [
            "",
            "Candidates whose log-likelihood is more than 1e-3 below mclust's:",
            "",
            "| data | model | K | ours | mclust | ours - mclust |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for r in results:
            for m, k, ours, theirs in r["worse"]:
                lines.append(
                    f"| {r['dataset']} | {m} | {k} | {ours:.3f} | {theirs:.3f} "
                    f"| {ours - theirs:+.3f} |"
                )
        lines += [
            "",
            "| data | prior | ours 14 x 9 CPU s | mclust 14 x 9 CPU s |",
            "|---|---|---:|---:|",
        ]
        for r in results:
            lines.append(
                f"| {r['dataset']} | {r['prior']} | {r['cpu']:.2f} | {r['mclust_cpu_14']:.2f} |"
            )
        return "\n".join(lines)
    lines += [
        "",
        "| data | prior | ours 4 x 9 CPU s | mclust 4 x 9 CPU s | mclust 14 x 9 CPU s |",
        "|---|---|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['dataset']} | {r['prior']} | {r['cpu']:.2f} | {r['mclust_cpu_4']:.2f} "
            f"| {r['mclust_cpu_14']:.2f} |"
        )
    return "\n".join(lines)


def _warm_up() -> None:
    """One small selection before the timed ones, so that loading (or, after an install,
    compiling) the optional compiled kernels is not charged to the first data set: every
    selection is then timed in a warm process, as mclust's are in a running R."""
    rng = np.random.default_rng(0)
    rows = np.concatenate([rng.normal(-2.0, 1.0, (60, 2)), rng.normal(2.0, 1.0, (60, 2))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        select_model(rows, n_components=range(1, 3), random_state=0)
        select_model(rows, n_components=range(1, 3), random_state=0, prior=DefaultPrior())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--priors", default="none,default")
    parser.add_argument("--scope", choices=("shared4", "all14"), default="shared4")
    parser.add_argument(
        "--acceleration",
        choices=tuple(ACCELERATIONS),
        default="default",
        help="EM acceleration of every fit (default: select_model's default)",
    )
    parser.add_argument("--output", help="also write the tables here (markdown)")
    args = parser.parse_args(argv)
    if args.scope == "all14" and args.priors != "none":
        parser.error("--scope all14 needs --priors none (only the shared four take a prior)")
    _warm_up()
    results = []
    for dataset in args.datasets.split(","):
        for prior in args.priors.split(","):
            results.append(compare(dataset, prior, args.scope, args.acceleration))
            print(f"done: {dataset}, prior {prior}", flush=True)
    text = tables(results)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
