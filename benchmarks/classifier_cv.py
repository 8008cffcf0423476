"""10-fold cross-validated error of MixtureClassifier against LDA, QDA and R's mclust.

Run from the repository root:

    .venv/bin/python benchmarks/classifier_cv.py --folds-only        # 1. the folds for R
    Rscript benchmarks/mclust/classifier_reference.R                  # 2. mclust's errors
    .venv/bin/python benchmarks/classifier_cv.py                      # 3. ours, the table

Step 1 writes benchmarks/mclust/classifier_folds.csv: every row of iris and wine (as
bundled with scikit-learn, identical to benchmarks/mclust/data/{iris,wine}.csv, checked
here) with its class and its fold of a 10-fold StratifiedKFold, shuffled with seed
SEED. Step 2 runs mclust's MclustDA (modelType "MclustDA" and "EDDA", mclust's defaults) on
exactly those folds and writes benchmarks/mclust/classifier_reference.csv. Step 3 runs, on
the same folds and the raw (unscaled) features, as mclust does:

* ``MixtureClassifier()``: MclustDA-style, 1..5 components and scikit-learn's four
  structures per class (our default);
* ``MixtureClassifier(structures=MCLUST_NAMES)``: MclustDA-style with mclust's 14
  structures (mclust's default; about ten times slower), unless ``--quick``;
* ``MixtureClassifier("edda")``: one Gaussian per class, one of the 14 structures shared;
* scikit-learn's LinearDiscriminantAnalysis and QuadraticDiscriminantAnalysis (defaults);

and writes benchmarks/classifier_cv.md. The error is the number of misclassified held-out
rows over all folds divided by the number of rows (each row is held out once).
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.datasets import load_iris, load_wine
from sklearn.discriminant_analysis import (
    LinearDiscriminantAnalysis,
    QuadraticDiscriminantAnalysis,
)
from sklearn.model_selection import StratifiedKFold

from mixture.classifier import MixtureClassifier
from mixture.gaussian import MCLUST_NAMES

HERE = Path(__file__).resolve().parent
FOLDS_CSV = HERE / "mclust" / "classifier_folds.csv"
REFERENCE_CSV = HERE / "mclust" / "classifier_reference.csv"
TABLE = HERE / "classifier_cv.md"
SEED = 20240517
N_FOLDS = 10
DATASETS = {"iris": load_iris, "wine": load_wine}


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    data = DATASETS[name]()
    committed = np.loadtxt(HERE / "mclust" / "data" / f"{name}.csv", delimiter=",", skiprows=1)
    if not np.array_equal(committed, data.data):
        raise SystemExit(f"benchmarks/mclust/data/{name}.csv differs from scikit-learn's {name}")
    return data.data, data.target


def fold_of_rows(y: np.ndarray) -> np.ndarray:
    """Fold number (1..N_FOLDS) of every row: StratifiedKFold, shuffled with SEED."""
    folds = np.zeros(y.size, dtype=np.int64)
    splitter = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=SEED)
    for k, (_, test) in enumerate(splitter.split(np.zeros((y.size, 1)), y), start=1):
        folds[test] = k
    return folds


def write_folds() -> dict[str, np.ndarray]:
    folds = {}
    with FOLDS_CSV.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["dataset", "row", "class", "fold"])
        for name in DATASETS:
            _, y = load(name)
            folds[name] = fold_of_rows(y)
            for row, (label, fold) in enumerate(zip(y, folds[name], strict=True), start=1):
                writer.writerow([name, row, int(label), int(fold)])
    print(f"wrote {FOLDS_CSV.relative_to(HERE.parent)}")
    return folds


def methods(quick: bool) -> dict[str, Callable[[], ClassifierMixin]]:
    chosen: dict[str, Callable[[], ClassifierMixin]] = {
        "mixture MclustDA (4 structures, K 1-5; default)": lambda: MixtureClassifier(
            random_state=0
        ),
    }
    if not quick:
        chosen["mixture MclustDA (mclust's 14 structures, K 1-5)"] = lambda: MixtureClassifier(
            structures=MCLUST_NAMES, random_state=0
        )
    chosen["mixture EDDA (14 structures; default)"] = lambda: MixtureClassifier("edda")
    chosen["scikit-learn LinearDiscriminantAnalysis"] = LinearDiscriminantAnalysis
    chosen["scikit-learn QuadraticDiscriminantAnalysis"] = QuadraticDiscriminantAnalysis
    return chosen


def describe(model: ClassifierMixin) -> str:
    """The chosen models, in mclust's notation: a structure per class with its K."""
    if not isinstance(model, MixtureClassifier):
        return ""
    if model.mode == "edda":
        return model.structure_.mclust_name or model.structure_.name
    return ";".join(
        f"{s.best.result.family.structure.mclust_name}{s.best.n_components}"
        for s in model.selections_
    )


def cross_validate(
    make: Callable[[], ClassifierMixin], X: np.ndarray, y: np.ndarray, folds: np.ndarray
) -> tuple[list[int], list[str], float]:
    errors, chosen = [], []
    started = time.perf_counter()
    for k in range(1, N_FOLDS + 1):
        test = folds == k
        model = make().fit(X[~test], y[~test])
        errors.append(int((model.predict(X[test]) != y[test]).sum()))
        chosen.append(describe(model))
    return errors, chosen, time.perf_counter() - started


def read_reference() -> dict[tuple[str, str], tuple[list[int], list[str]]]:
    if not REFERENCE_CSV.exists():
        return {}
    table: dict[tuple[str, str], tuple[list[int], list[str]]] = {}
    with REFERENCE_CSV.open() as handle:
        for row in sorted(csv.DictReader(handle), key=lambda r: int(r["fold"])):
            errors, models = table.setdefault((row["dataset"], row["model_type"]), ([], []))
            errors.append(int(row["n_errors"]))
            models.append(row["models"])
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds-only", action="store_true", help="write the fold CSV, stop")
    parser.add_argument("--quick", action="store_true", help="skip the 14-structure MclustDA")
    options = parser.parse_args()
    folds = write_folds()
    if options.folds_only:
        return
    results: dict[str, dict[str, tuple[list[int], list[str], float | None]]] = {}
    for label, make in methods(options.quick).items():
        results[label] = {}
        for name in DATASETS:
            X, y = load(name)
            results[label][name] = cross_validate(make, X, y, folds[name])
            errors, _, seconds = results[label][name]
            print(f"{label:55s} {name}: error {sum(errors) / y.size:.4f} ({seconds:.1f} s)")
    reference = read_reference()
    for model_type in ("MclustDA", "EDDA"):
        label = f"R mclust {model_type} (defaults)"
        entries = {name: reference.get((name, model_type)) for name in DATASETS}
        if all(entries.values()):
            results[label] = {name: (*entries[name], None) for name in DATASETS}
    write_table(results)


def write_table(results: dict[str, dict[str, tuple[list[int], list[str], float | None]]]) -> None:
    sizes = {name: load(name)[1].size for name in DATASETS}
    lines = [
        "# Mixture discriminant analysis: 10-fold cross-validated error",
        "",
        "Written by `benchmarks/classifier_cv.py` (see its docstring to reproduce). Folds:",
        f"`StratifiedKFold(n_splits={N_FOLDS}, shuffle=True, random_state={SEED})`, the same "
        "for every",
        "method and for R (`benchmarks/mclust/classifier_folds.csv`); raw features, no scaling.",
        "Error = misclassified held-out rows over all folds / rows. mclust rows: "
        "`benchmarks/mclust/classifier_reference.R` (mclust 6.0.0, its defaults).",
        "Seconds: wall time of the 10 fits and predictions, one run on a shared 2-core machine",
        "(indicative only).",
        "",
        "| method | iris error | wine error | iris s | wine s |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, per_set in results.items():
        cells = []
        for name in DATASETS:
            errors = per_set[name][0]
            cells.append(f"{sum(errors) / sizes[name]:.4f} ({sum(errors)}/{sizes[name]})")
        times = [per_set[name][2] for name in DATASETS]
        shown = ["" if t is None else f"{t:.1f}" for t in times]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {shown[0]} | {shown[1]} |")
    lines += ["", "## Models chosen per fold", ""]
    for name in DATASETS:
        labels = [label for label in results if any(results[label][name][1])]
        lines += [f"### {name}", "", "| fold | " + " | ".join(labels) + " |"]
        lines.append("|---:|" + "---|" * len(labels))
        for k in range(N_FOLDS):
            cells = [
                f"{results[label][name][1][k]} ({results[label][name][0][k]} err)"
                for label in labels
            ]
            lines.append(f"| {k + 1} | " + " | ".join(cells) + " |")
        lines.append("")
    TABLE.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {TABLE.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
