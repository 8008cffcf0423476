"""The ``mixture`` command line: fit, predict, sample.

``mixture fit`` selects a Gaussian mixture for a CSV or ``.npy`` file (by default the bundled
Old Faithful data) by BIC, AIC or ICL over numbers of components and covariance structures,
prints the table and the chosen model, and can write a plot, per-row labels, a model file
and a JSON summary. Bad input ends with a one-line error and exit status 2.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from mixture import io as model_files
from mixture.estimator import structure_of
from mixture.model import Mixture
from mixture.selection import CRITERIA, Candidate, select_model
from mixture.tables import Table, TableError, read_table

__all__ = ["main", "main_entry"]

STRUCTURE_NAMES = ("full", "tied", "diag", "spherical")


class UsageError(ValueError):
    """Bad input or options: reported in one line, exit status 2."""


# -- parsing --------------------------------------------------------------------------------
def parse_components(text: str) -> list[int]:
    """``"1-9"``, ``"3"`` or ``"2,4,6"`` to a list of positive integers."""
    counts: list[int] = []
    try:
        for part in text.split(","):
            if "-" in part:
                first, last = (int(v) for v in part.split("-", 1))
                counts.extend(range(first, last + 1))
            else:
                counts.append(int(part))
    except ValueError:
        raise UsageError(f"-k expects numbers like 1-9, 3 or 2,4,6; got {text!r}") from None
    if not counts or min(counts) < 1:
        raise UsageError(f"-k needs positive numbers of components; got {text!r}")
    return sorted(set(counts))


def parse_structures(text: str) -> list[str]:
    names = STRUCTURE_NAMES if text == "all" else tuple(n.strip() for n in text.split(","))
    for name in names:
        if name not in STRUCTURE_NAMES:
            raise UsageError(
                f"unknown covariance structure {name!r}; choose from "
                f"{', '.join(STRUCTURE_NAMES)} or all"
            )
    return list(names)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mixture", description="Fit Gaussian mixtures by EM and select among them."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    fit = commands.add_parser("fit", help="select and fit a mixture to a data file")
    fit.add_argument("data", nargs="?", help="CSV (header row) or .npy; default: Old Faithful")
    fit.add_argument("-k", "--components", default="1-9", help="numbers of components (1-9)")
    fit.add_argument(
        "-c", "--covariance", default="all", help="full, tied, diag, spherical (comma list) or all"
    )
    fit.add_argument("--criterion", choices=CRITERIA, default="bic")
    fit.add_argument("--columns", help="comma-separated columns to use (default: numeric ones)")
    fit.add_argument("--standardize", action="store_true", help="z-score columns first")
    fit.add_argument("--n-init", type=int, default=1, help="EM restarts per candidate")
    fit.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    fit.add_argument("--plot", metavar="PNG", help="write a plot of the selected model")
    fit.add_argument("--labels", metavar="CSV", help="write per-row labels and probabilities")
    fit.add_argument("--save", metavar="MODEL", help="write the selected model (JSON)")
    fit.add_argument("--json", action="store_true", help="print a JSON summary instead")

    predict = commands.add_parser("predict", help="label rows with a saved model")
    predict.add_argument("model")
    predict.add_argument("data")
    predict.add_argument("--columns", help="comma-separated columns to use")
    predict.add_argument("-o", "--output", metavar="CSV", help="write here (default stdout)")

    sample = commands.add_parser("sample", help="draw rows from a saved model")
    sample.add_argument("model")
    sample.add_argument("-n", "--n-samples", type=int, default=100)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("-o", "--output", metavar="CSV", help="write here (default stdout)")
    return parser


# -- data -----------------------------------------------------------------------------------
def load_data(path: str | None, columns: str | None, out: TextIO) -> tuple[Table, str]:
    if path is None:
        from mixture.datasets import load_faithful

        X, names = load_faithful()
        table = Table(X, names)
        label = "Old Faithful (bundled)"
        if columns:
            table = _pick(table, [c.strip() for c in columns.split(",")], label)
        return table, label
    table = read_table(path, [c.strip() for c in columns.split(",")] if columns else None)
    if table.skipped:
        print(f"skipping non-numeric column(s): {', '.join(table.skipped)}", file=out)
    return table, path


def _pick(table: Table, columns: list[str], label: str) -> Table:
    missing = [c for c in columns if c not in table.names]
    if missing:
        raise UsageError(
            f"{label} has no column {missing[0]!r} (columns: {', '.join(table.names)})"
        )
    index = [table.names.index(c) for c in columns]
    return Table(table.X[:, index], columns)


# -- output ---------------------------------------------------------------------------------
def write_text_atomically(path: str, text: str) -> None:
    target = Path(path)
    if not target.parent.exists():
        raise UsageError(f"cannot write {path}: folder {target.parent} does not exist")
    model_files.write_atomically(target, text)


def rows_to_csv(header: Sequence[str], rows: np.ndarray, formats: Sequence[str]) -> str:
    buffer = io.StringIO()
    buffer.write(",".join(header) + "\n")
    for row in rows:
        buffer.write(",".join(f.format(v) for f, v in zip(formats, row, strict=True)) + "\n")
    return buffer.getvalue()


def labels_csv(mixture: Mixture, X: np.ndarray) -> str:
    proba = mixture.predict_proba(X)
    labels = proba.argmax(axis=1)
    header = ["label", *[f"p{k}" for k in range(mixture.n_components)]]
    rows = np.column_stack([labels, proba])
    return rows_to_csv(header, rows, ["{:.0f}"] + ["{:.6g}"] * mixture.n_components)


def describe(candidate: Candidate, criterion: str) -> str:
    return (
        f"{candidate.model} covariance, {candidate.n_components} component(s) "
        f"({criterion.upper()} {candidate.score(criterion):.3f})"
    )


def summary(selection: Any, table: Table, standardized: bool) -> dict[str, Any]:
    best = selection.best
    model = best.result
    components = model.components
    return {
        "selected": {
            "covariance_type": best.model,
            "n_components": best.n_components,
            "criterion": selection.criterion,
            "value": best.score(selection.criterion),
        },
        "columns": table.names,
        "standardized": standardized,
        "weights": model.weights.tolist(),
        "means": [np.asarray(c.mean).tolist() for c in components],
        "covariances": [np.asarray(c.covariance_matrix).tolist() for c in components],
        "table": selection.rows(),
    }


def plot(selection: Any, X: np.ndarray, names: list[str], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mixture import plotting

    best = selection.best_model
    if X.shape[1] == 2:
        figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
        plotting.scatter(X, best, names=names, ax=left)
        left.set_title(f"{selection.best.model}, {best.n_components} components")
        plotting.criterion_curves(selection, ax=right)
    else:
        plotting.pairwise(X, best, names=names)
        figure = plt.gcf()
    figure.tight_layout()
    target = Path(path)
    if not target.parent.exists():
        raise UsageError(f"cannot write {path}: folder {target.parent} does not exist")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    temporary = target.with_name(f".{target.name}.partial")
    temporary.write_bytes(buffer.getvalue())
    temporary.replace(target)


class Progress:
    """One line on stderr, shown only once fitting has taken more than a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.perf_counter()
        self.shown = False

    def __call__(self, done: int, total: int, candidate: Candidate) -> None:
        if not getattr(self.stream, "isatty", lambda: False)():
            return  # logs and pipes get no carriage-return progress lines
        if time.perf_counter() - self.started < 1.0 and not self.shown:
            return
        self.shown = True
        end = "\n" if done == total else ""
        print(
            f"\rfitted {done}/{total}: {candidate.model}, K={candidate.n_components}   ",
            end=end,
            file=self.stream,
            flush=True,
        )


# -- commands -------------------------------------------------------------------------------
def run_fit(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    table, label = load_data(args.data, args.columns, out if not args.json else err)
    counts = parse_components(args.components)
    structures = [structure_of(name) for name in parse_structures(args.covariance)]
    if args.n_init < 1:
        raise UsageError("--n-init must be at least 1")
    X = table.X
    if args.standardize:
        spread = X.std(axis=0)
        if (spread == 0).any():
            raise UsageError(f"column {table.names[int(np.argmin(spread))]!r} is constant")
        X = (X - X.mean(axis=0)) / spread
    if X.shape[0] < max(counts):
        raise UsageError(
            f"{label} has {X.shape[0]} rows, fewer than the largest number of components "
            f"({max(counts)}); lower -k"
        )
    selection = select_model(
        X,
        n_components=counts,
        structures=structures,
        criterion=args.criterion,
        n_init=args.n_init,
        random_state=args.seed,
        progress=Progress(err),
    )
    best = selection.best
    if args.save:
        target = Path(args.save)
        if not target.parent.exists():
            raise UsageError(f"cannot write {args.save}: folder {target.parent} does not exist")
        model_files.save(best.result, target)
    if args.labels:
        write_text_atomically(args.labels, labels_csv(best.result, X))
    if args.plot:
        plot(selection, X, table.names, args.plot)
    if args.json:
        print(json.dumps(summary(selection, table, args.standardize), indent=1), file=out)
        return 0
    units = " (standardized units)" if args.standardize else ""
    print(f"{label}: {X.shape[0]} rows, columns {', '.join(table.names)}\n", file=out)
    print(selection.to_markdown(), file=out)
    print(f"\nselected by {args.criterion.upper()}: {describe(best, args.criterion)}", file=out)
    for k, component in enumerate(best.result.components):
        mean = "[" + ", ".join(f"{v:.4g}" for v in np.asarray(component.mean)) + "]"
        print(f"  component {k}: weight {best.result.weights[k]:.4f}, mean{units} {mean}", file=out)
    for name, path in (("model", args.save), ("labels", args.labels), ("plot", args.plot)):
        if path:
            print(f"{name} written to {path}", file=out)
    return 0


def run_predict(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    mixture = model_files.load(args.model)
    table = read_table(
        args.data, [c.strip() for c in args.columns.split(",")] if args.columns else None
    )
    if table.skipped:
        print(f"skipping non-numeric column(s): {', '.join(table.skipped)}", file=err)
    if table.X.shape[1] != mixture.n_features:
        raise UsageError(
            f"{args.data} has {table.X.shape[1]} numeric column(s) ({', '.join(table.names)}); "
            f"the model expects {mixture.n_features}; choose them with --columns"
        )
    text = labels_csv(mixture, table.X)
    if args.output:
        write_text_atomically(args.output, text)
    else:
        out.write(text)
    return 0


def run_sample(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    mixture = model_files.load(args.model)
    if args.n_samples < 1:
        raise UsageError("-n must be at least 1")
    rows, labels = mixture.sample(args.n_samples, random_state=args.seed)
    header = [f"x{j}" for j in range(rows.shape[1])] + ["label"]
    text = rows_to_csv(
        header, np.column_stack([rows, labels]), ["{:.10g}"] * rows.shape[1] + ["{:.0f}"]
    )
    if args.output:
        write_text_atomically(args.output, text)
    else:
        out.write(text)
    return 0


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status (0, or 2 for bad input)."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"fit": run_fit, "predict": run_predict, "sample": run_sample}
    try:
        return commands[args.command](args, out, err)
    except (UsageError, TableError, model_files.ModelFileError, ValueError, OSError) as exc:
        print(f"mixture: error: {exc}", file=err)
        return 2


def main_entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
