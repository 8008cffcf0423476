"""Model selection against R's mclust on six data sets, from the committed mclust numbers.

Run: python benchmarks/compare_mclust.py [--datasets faithful,iris] [--output FILE.md]

For each data set in ``benchmarks/mclust/data`` it runs ``select_model`` over the four
structures mclust shares with us (VVV=full, EEE=tied, VVI=diag, VII=spherical) and K = 1..9,
without a prior (``reg_covar=0``, as mclust) and with mclust's default prior
(``DefaultPrior()``, ``reg_covar=0``), at a tight tolerance (1e-8 on the mean log-likelihood
per row; mclust's reference ran at a relative 1e-8), and compares with
``benchmarks/mclust/reference_*.csv`` (made by ``benchmarks/mclust/reference.R``):

- the model and BIC each selects (ours are mclust's values negated: lower is better);
- per shared candidate, whether our log-likelihood is more than 1e-3 below mclust's (cells
  where mclust returned NA are left out, and so are our degenerate candidates);
- the candidates we flag as degenerate, and mclust's NA cells;
- the CPU time of our selection (``time.process_time``) against mclust's ``mclustBIC`` over
  4 x 9 and 14 x 9 (from ``reference_cpu.csv``, measured separately on this machine).

Prints markdown tables; ``--output`` also writes them to a file.
"""

from __future__ import annotations

import argparse
import csv
import time
import warnings
from pathlib import Path

import numpy as np

from mixture import select_model
from mixture.gaussian import DefaultPrior

HERE = Path(__file__).resolve().parent / "mclust"
DATASETS = ("faithful", "iris", "diabetes", "banknote", "wine", "synthetic")
OURS = {"VVV": "full", "EEE": "tied", "VVI": "diag", "VII": "spherical"}
TOLERANCE = 1e-3


def _rows(name: str) -> list[dict[str, str]]:
    with (HERE / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _data(name: str) -> np.ndarray:
    return np.loadtxt(HERE / "data" / f"{name}.csv", delimiter=",", skiprows=1, ndmin=2)


def _mclust_cells(dataset: str, prior: str) -> dict[tuple[str, int], dict[str, str]]:
    return {
        (OURS[row["model"]], int(row["K"])): row
        for row in _rows("reference_bic.csv")
        if row["dataset"] == dataset and row["prior"] == prior and row["model"] in OURS
    }


def _mclust_choice(dataset: str, prior: str) -> tuple[str, int, float]:
    for row in _rows("reference_selected.csv"):
        if (row["dataset"], row["prior"], row["scope"], row["criterion"]) == (
            dataset,
            prior,
            "shared4",
            "BIC",
        ):
            return OURS[row["model"]], int(row["K"]), -float(row["value"])
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


def compare(dataset: str, prior: str) -> dict:
    """Our selection on one data set, with or without the prior, against mclust's."""
    X = _data(dataset)
    options = {"prior": DefaultPrior()} if prior != "none" else {}
    started = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        selection = select_model(
            X, n_components=range(1, 10), tol=1e-8, max_iter=5000, reg_covar=0.0,
            random_state=0, **options,
        )  # fmt: skip
    cpu = time.process_time() - started
    cells = _mclust_cells(dataset, "none" if prior == "none" else prior)
    worse, compared = [], 0
    for candidate in selection.candidates:
        cell = cells.get((candidate.model, candidate.n_components))
        if cell is None or cell["is_na"] == "TRUE" or candidate.degenerate is not None:
            continue
        compared += 1
        gap = candidate.log_likelihood - float(cell["loglik"])
        if gap < -TOLERANCE:
            worse.append(f"{candidate.model},{candidate.n_components} ({gap:+.3f})")
    model, K, value = _mclust_choice(dataset, "none" if prior == "none" else prior)
    best = selection.best
    return {
        "dataset": dataset,
        "prior": prior,
        "shape": X.shape,
        "ours": f"{best.model},{best.n_components} ({best.bic:.3f})",
        "mclust": f"{model},{K} ({value:.3f})",
        "same": (best.model, best.n_components) == (model, K),
        "compared": compared,
        "worse": worse,
        "degenerate": [f"{c.model},{c.n_components}" for c in selection.degenerate],
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
        worse = f"{len(r['worse'])} of {r['compared']}" + (
            f": {', '.join(r['worse'])}" if r["worse"] else ""
        )
        lines.append(
            f"| {r['dataset']} | {r['prior']} | {r['shape'][0]} x {r['shape'][1]} | {r['ours']} "
            f"| {r['mclust']} | {'yes' if r['same'] else 'no'} | {worse} "
            f"| {', '.join(r['degenerate']) or '-'} | {', '.join(r['mclust_na']) or '-'} |"
        )
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--priors", default="none,default")
    parser.add_argument("--output", help="also write the tables here (markdown)")
    args = parser.parse_args(argv)
    results = []
    for dataset in args.datasets.split(","):
        for prior in args.priors.split(","):
            results.append(compare(dataset, prior))
            print(f"done: {dataset}, prior {prior}", flush=True)
    text = tables(results)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
