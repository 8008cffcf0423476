"""The three commands: ``fit`` (select and fit), ``predict`` (label rows), ``sample``.

Each command checks every option and output path before it reads data or fits anything,
so a bad path or value costs nothing; outputs are then written safely (never over an input,
atomically, durably) by :mod:`mixture.outputs`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from mixture import model_file as model_files
from mixture.cli.arguments import UsageError, parse_structures, plot_format
from mixture.cli.report import (
    component_table,
    describe,
    plot_bytes,
    selection_metadata,
    summary,
    write_labels,
    write_labels_streamed,
    write_samples,
)
from mixture.gaussian import STRUCTURE_NAMES, DefaultPrior, structure_named
from mixture.model import Mixture
from mixture.outputs import check_outputs, output_stream, write_output
from mixture.preprocessing import Standardization
from mixture.saved_model import SavedModel
from mixture.selection import Candidate, select_model
from mixture.sources import RowSource, TableSource, TransformedSource, column_summary, row_sample
from mixture.tables import Table, read_table, read_text_column

__all__ = ["run_fit", "run_predict", "run_sample"]

STDIO = "-"
#: Rows of a streamed file the plot shows (a content-keyed sample).
PLOT_SAMPLE_ROWS = 20_000


class Streams:
    """Where a command writes: results, messages, and where ``-`` reads from."""

    def __init__(self, out: TextIO, err: TextIO, stdin: TextIO | None, quiet: bool) -> None:
        self.out, self.err, self.stdin, self.quiet = out, err, stdin, quiet

    def notice(self, text: str) -> None:
        """A message for the user on stderr, unless ``--quiet``."""
        if not self.quiet:
            print(f"mixture: {text}", file=self.err)


class Progress:
    """One line on stderr, shown only on a terminal once fitting has taken over a second."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled and getattr(stream, "isatty", lambda: False)()
        self.started = time.perf_counter()
        self.shown = False

    def __call__(self, done: int, total: int, candidate: Candidate) -> None:
        if not self.enabled or (time.perf_counter() - self.started < 1.0 and not self.shown):
            return
        self.shown = True
        end = "\n" if done == total else ""
        print(
            f"\rfitted {done}/{total}: {candidate.model}, K={candidate.n_components}   ",
            end=end,
            file=self.stream,
            flush=True,
        )


@contextlib.contextmanager
def _text_output(path: str, label: str, streams: Streams) -> Iterator[TextIO]:
    """Standard output for ``-``, else a safe temporary file that replaces ``path`` on success."""
    if path == STDIO:
        yield streams.out
        streams.out.flush()
        return
    with output_stream(path, label=label) as stream:
        yield stream


def _columns(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",")]
    if any(not name for name in names):
        raise UsageError(f"--columns has an empty name: {text!r}")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise UsageError(f"--columns names {', '.join(map(repr, duplicated))} twice")
    return names


def _read(
    path: str,
    columns: list[str] | None,
    args: argparse.Namespace,
    streams: Streams,
    labels_column: str | None = None,
):
    table = read_table(
        path,
        columns,
        delimiter=args.delimiter,
        drop_incomplete=args.drop_incomplete,
        stdin=streams.stdin,
        exclude=() if labels_column is None else (labels_column,),
        keep_missing=args.missing == "marginalize",
    )
    if table.skipped:
        streams.notice(f"skipping non-numeric column(s): {', '.join(table.skipped)}")
    if table.dropped_rows:
        streams.notice(
            f"dropped {table.dropped_rows:,} incomplete row(s) of {table.source or path}; "
            f"{table.X.shape[0]:,} remain"
        )
    return table


@dataclass
class _Streamed:
    """A data file read on every pass (``--stream``), described as a :class:`Table` is."""

    source: TableSource
    names: list[str]
    label: str
    n_rows: int = 0
    dropped_rows: int = 0


def _stream(
    path: str,
    columns: list[str] | None,
    args: argparse.Namespace,
    streams: Streams,
    summarise: bool = True,
):
    """The file as a source and, when ``summarise``, its columns' summary (two passes)."""
    if path == STDIO:
        raise UsageError("--stream reads the file on every pass; standard input can be read once")
    source = TableSource(
        path, columns, delimiter=args.delimiter, drop_incomplete=args.drop_incomplete
    )
    if source.stream.skipped:
        streams.notice(f"skipping non-numeric column(s): {', '.join(source.stream.skipped)}")
    if not summarise:
        return _Streamed(source, list(source.feature_names), path), None
    summary = column_summary(source)  # also counts the rows (and the incomplete ones)
    streamed = _Streamed(source, list(source.feature_names), path, summary.n_rows)
    streamed.dropped_rows = source.stream.dropped_rows
    if streamed.dropped_rows:
        streams.notice(
            f"dropped {streamed.dropped_rows:,} incomplete row(s) of {path}; "
            f"{streamed.n_rows:,} remain"
        )
    return streamed, summary


#: A data file larger than this share of the machine's memory is streamed (``--stream``).
STREAM_SHARE_OF_MEMORY = 0.25


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _larger_than_memory(path: str, streams: Streams) -> bool:
    """Whether a text or Parquet file is too large to load (more than a quarter of the
    memory): it is then read on every pass instead, as with ``--stream`` (a ``.npy`` file is
    memory-mapped, never loaded, so it is left alone)."""
    if path == STDIO or path.endswith(".npy"):
        return False
    memory = _memory_bytes()
    try:
        size = os.path.getsize(path)
    except OSError:
        return False  # reading it reports the problem
    if memory is None or size <= STREAM_SHARE_OF_MEMORY * memory:
        return False
    streams.notice(
        f"{path} ({size / 2**30:.1f} GiB) is larger than a quarter of the memory: it is read "
        "on every pass instead of loaded (as with --stream)"
    )
    return True


def _faithful(columns: list[str] | None) -> Table:
    from mixture.datasets import load_faithful

    X, names = load_faithful()
    if columns:
        missing = [c for c in columns if c not in names]
        if missing:
            raise UsageError(
                f"the bundled Old Faithful data has no column {missing[0]!r} "
                f"(columns: {', '.join(names)})"
            )
        X = X[:, [names.index(c) for c in columns]]
        names = columns
    return Table(X, list(names), source="Old Faithful (bundled)")


# -- fit ------------------------------------------------------------------------------------
def _check_fit_outputs(args: argparse.Namespace) -> None:
    outputs = {"--plot": args.plot, "--labels": args.labels, "--save": args.save}
    to_stdout = [option for option, path in outputs.items() if path == STDIO]
    if args.plot is not None:
        plot_format(args.plot)
    if len(to_stdout) > 1:
        raise UsageError(f"{' and '.join(to_stdout)} cannot both write to standard output")
    if to_stdout and args.json:
        raise UsageError(f"--json and {to_stdout[0]} - cannot both write to standard output")
    check_outputs(outputs, {"data file": args.data})


def run_fit(args: argparse.Namespace, streams: Streams) -> int:
    """``mixture fit``: select a Gaussian mixture for a data file and report it."""
    structures = [structure_named(name) for name in parse_structures(args.covariance)]
    without_prior = [s.name for s in structures if not s.supports_prior]
    if args.prior and without_prior:
        supported = ", ".join(
            name for name in STRUCTURE_NAMES if structure_named(name).supports_prior
        )
        raise UsageError(
            f"--prior: {', '.join(without_prior)} have no conjugate prior yet; choose -c among "
            f"{supported}"
        )
    _check_fit_outputs(args)
    columns = _columns(args.columns)
    _refuse_with_missing(args, streams)
    if args.labels_column is not None:
        _refuse_with_labels_column(args, columns)
        if _larger_than_memory(args.data, streams):
            raise UsageError("--labels-column needs the data in memory; this file is streamed")
    if args.data is not None and (args.stream or _larger_than_memory(args.data, streams)):
        return _fit_streamed(args, streams, structures, columns)
    if args.data is None:
        table = _faithful(columns)
    else:
        table = _read(args.data, columns, args, streams, args.labels_column)
    known = None
    if args.labels_column is not None:
        table, known = _known_classes(args, table, streams)
    source = table.source or args.data
    counts = args.components.expand(table.X.shape[0], source)
    standardization = Standardization.fit(table.X, table.names) if args.standardize else None
    X = table.X if standardization is None else standardization.transform(table.X)
    _refuse_unsquarable(np.abs(X).max(axis=0), X.size, table.names, standardization is not None)
    selection = _select(args, streams, X, counts, structures, known)
    model = _selected_model(
        args, selection, table.names, standardization, source, table, counts, structures, known
    )
    labelled = None if not args.labels else lambda stream: write_labels(stream, model, table.X)
    return _finish_fit(args, streams, selection, model, X, table, labelled)


@dataclass(frozen=True)
class _KnownClasses:
    """``--labels-column``: the classes found, in component order, and each row's index."""

    column: str
    classes: tuple[str, ...]
    labels: np.ndarray


def _refuse_with_missing(args: argparse.Namespace, streams: Streams) -> None:
    """``--missing marginalize`` works on data in memory, with batch EM."""
    if args.missing != "marginalize":
        return
    for option, used in (
        ("--drop-incomplete", args.drop_incomplete),
        ("--stream", args.stream),
        ("--online", getattr(args, "online", False)),
    ):
        if used:
            raise UsageError(f"--missing marginalize cannot be combined with {option}")
    if args.data not in (None, STDIO) and _larger_than_memory(args.data, streams):
        raise UsageError("--missing marginalize needs the data in memory; this file is streamed")


def _refuse_with_labels_column(args: argparse.Namespace, columns: list[str] | None) -> None:
    name = args.labels_column
    if args.data is None or args.data == "-":
        raise UsageError("--labels-column reads a column of a data file (not standard input)")
    for option, used in (
        ("--stream", args.stream),
        ("--online", args.online),
        ("--drop-incomplete", args.drop_incomplete),
    ):
        if used:
            raise UsageError(f"--labels-column cannot be combined with {option}")
    if columns and name in columns:
        raise UsageError(f"--labels-column {name!r} is also in --columns: it cannot be fitted")


def _known_classes(
    args: argparse.Namespace, table: Table, streams: Streams
) -> tuple[Table, _KnownClasses | None]:
    """The classes of the labels column (left out of the table by ``_read``)."""
    name = args.labels_column
    cells = read_text_column(args.data, name, delimiter=args.delimiter)
    if len(cells) != table.X.shape[0]:  # pragma: no cover - the same rows are read twice
        raise UsageError(f"{args.data} changed while it was read: {name!r} has other rows")
    cells = [None if cell is None else _class_name(cell) for cell in cells]
    present = sorted({cell for cell in cells if cell is not None}, key=_class_order)
    if not present:
        streams.notice(f"--labels-column {name!r} has no known values: an unsupervised fit")
        return table, None
    index = {value: k for k, value in enumerate(present)}
    labels = np.array([-1 if cell is None else index[cell] for cell in cells], dtype=np.int64)
    counts = np.bincount(labels[labels >= 0], minlength=len(present))
    described = ", ".join(
        f"{value} -> component {k} ({count} rows)"
        for (value, k), count in zip(index.items(), counts, strict=True)
    )
    streams.notice(
        f"known classes from column {name!r}: {described}; {int((labels < 0).sum())} rows unknown"
    )
    return table, _KnownClasses(name, tuple(present), labels)


def _class_name(cell: str) -> str:
    """A class as written, with a whole number written one way (``1``, ``1.0`` and ``1e0``
    are one class, as they are when a Parquet column holds them as numbers)."""
    try:
        number = float(cell)
    except ValueError:
        return cell
    return str(int(number)) if number.is_integer() else cell


def _class_order(value: str) -> tuple[int, float, str]:
    """Numbers in numeric order, before text in text order."""
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def _select(
    args: argparse.Namespace,
    streams: Streams,
    X,
    counts,
    structures,
    known: _KnownClasses | None = None,
):
    # With the prior, as in mclust, no regulariser: the prior keeps covariances proper.
    prior_options = {"prior": DefaultPrior(), "reg_covar": 0.0} if args.prior else {}
    if known is not None:
        prior_options["labels"] = known.labels
    if args.missing == "marginalize":
        prior_options["missing"] = "marginalize"
    return select_model(
        X,
        n_components=counts,
        structures=structures,
        criterion=args.criterion,
        n_init=args.n_init,
        random_state=args.seed,
        progress=Progress(streams.err, enabled=not args.quiet),
        online=args.online,
        **prior_options,
    )


def _selected_model(
    args, selection, names, standardization, source, table, counts, structures, known=None
) -> SavedModel:
    settings = {
        "components": counts,
        "covariance": [s.name for s in structures],
        "n_init": args.n_init,
        "seed": args.seed,
        "standardize": args.standardize,
        "prior": "mclust default (priorControl)" if args.prior else None,
        "online": args.online,
        "missing": args.missing,
    }
    if known is not None:  # which class each component holds
        settings["labels_column"] = known.column
        settings["classes"] = list(known.classes)
    return SavedModel(
        selection.best.result,
        tuple(names),
        standardization,
        selection_metadata(
            selection,
            source=source,
            n_rows=_row_count(table),
            dropped_rows=table.dropped_rows,
            settings=settings,
        ),
    )


def _row_count(table: Table | _Streamed) -> int:
    return table.n_rows if isinstance(table, _Streamed) else int(table.X.shape[0])


def _finish_fit(args, streams: Streams, selection, model: SavedModel, X, table, labelled) -> int:
    """Write the model, labels and plot as asked, then the report."""
    if args.save == STDIO:
        streams.out.write(json.dumps(model_files.model_to_dict(model), indent=1) + "\n")
    elif args.save:
        model_files.save(model, args.save)
    if labelled is not None:
        with _text_output(args.labels, "--labels", streams) as stream:
            labelled(stream)
    if args.plot:
        names = _axis_names(list(model.feature_names or ()), model.standardization)
        image = plot_bytes(selection, X, names, plot_format(args.plot))
        write_output(args.plot, image, label="--plot")
    if args.json:
        print(json.dumps(summary(model), indent=1, allow_nan=False), file=streams.out)
        return 0
    report = streams.err if STDIO in (args.save, args.labels) else streams.out
    if report is streams.err and args.quiet:
        return 0
    _print_report(report, args, table, selection, model)
    return 0


def _fit_streamed(args, streams: Streams, structures, columns: list[str] | None) -> int:
    """``mixture fit --stream``: the file is read on every pass, never loaded whole; the
    plot shows a content-keyed sample of the rows."""
    streamed, columns_summary = _stream(args.data, columns, args, streams)
    counts = args.components.expand(streamed.n_rows, args.data)
    standardization = None
    if args.standardize:
        standardization = Standardization.checked(
            columns_summary.mean, columns_summary.std, streamed.names
        )
    source: RowSource = streamed.source
    largest = columns_summary.largest
    if standardization is not None:
        source = TransformedSource(source, standardization.transform)
        largest = (largest + np.abs(standardization.center)) / standardization.scale
    size = streamed.n_rows * len(streamed.names)
    _refuse_unsquarable(largest, size, streamed.names, standardization is not None)
    selection = _select(args, streams, source, counts, structures)
    model = _selected_model(
        args, selection, streamed.names, standardization, args.data, streamed, counts, structures
    )

    def labelled(stream: TextIO) -> None:
        write_labels_streamed(stream, model, streamed.source)

    sample = row_sample(source, PLOT_SAMPLE_ROWS, seed=args.seed)[0] if args.plot else None
    writer = labelled if args.labels else None
    return _finish_fit(args, streams, selection, model, sample, streamed, writer)


def _refuse_unsquarable(
    largest: np.ndarray, size: int, names: list[str], standardized: bool
) -> None:
    """Refuse columns whose sums of squares would overflow float64 (Gaussian fits need them).

    ``largest``: each column's largest magnitude; ``size``: the number of values."""
    limit = np.sqrt(np.finfo(np.float64).max / size)
    if (largest > limit).any():
        j = int(np.argmax(largest > limit))
        hint = "rescale it" if standardized else "rescale it or use --standardize"
        raise UsageError(
            f"column {names[j]!r} holds values up to {largest[j]:.3g}, too large to square in "
            f"floating point for a Gaussian fit; {hint}"
        )


def _axis_names(names: list[str], standardization: Standardization | None) -> list[str]:
    if standardization is None:
        return names
    return [f"{name} (standardized)" for name in names]


def _print_report(report: TextIO, args, table, selection, model: SavedModel) -> None:
    source = (table.label if isinstance(table, _Streamed) else table.source) or args.data
    dropped = f" ({table.dropped_rows:,} incomplete dropped)" if table.dropped_rows else ""
    scaled = "; fitted standardized" if model.standardization is not None else ""
    streamed = ", read on every pass" if isinstance(table, _Streamed) else ""
    print(
        f"{source}: {_row_count(table):,} rows{dropped}{streamed}, columns "
        f"{', '.join(table.names)}{scaled}\n",
        file=report,
    )
    print(selection.to_markdown(), file=report)
    criterion = selection.criterion
    print(f"\nselected by {criterion.upper()}: {describe(selection.best, criterion)}", file=report)
    for line in component_table(model):
        print(line, file=report)
    for name, path in (("model", args.save), ("labels", args.labels), ("plot", args.plot)):
        if path and path != STDIO:
            print(f"{name} written to {path}", file=report)


# -- predict --------------------------------------------------------------------------------
def run_predict(args: argparse.Namespace, streams: Streams) -> int:
    """``mixture predict``: label the rows of a data file with a saved model."""
    if args.model == STDIO:
        raise UsageError("the model must be a file (only DATA can be - for standard input)")
    check_outputs({"-o": args.output}, {"model file": args.model, "data file": args.data})
    model = model_files.load(args.model)
    columns = _columns(args.columns)
    if columns is not None and len(columns) != model.n_features:
        raise UsageError(
            f"--columns names {len(columns)} column(s); the model was fitted on {model.n_features}"
        )
    if columns is None and model.feature_names is not None:
        columns = list(model.feature_names)
    _refuse_with_missing(args, streams)
    if args.missing == "marginalize":  # the saved mixture, scoring rows by observed values
        mixture = model.mixture
        marginalizing = Mixture(
            mixture.weights,
            mixture.family,
            fixed_weights=mixture.fixed_weights,
            missing="marginalize",
        )
        model = dataclasses.replace(model, mixture=marginalizing)
    if args.stream or _larger_than_memory(args.data, streams):
        streamed, _ = _stream(args.data, columns, args, streams, summarise=False)
        if columns is None:
            model.column_order(streamed.names, source=args.data)
        with _text_output(args.output, "-o", streams) as stream:
            write_labels_streamed(stream, model, streamed.source)
        return 0
    table = _read(args.data, columns, args, streams)
    if columns is None:  # a model without names: the numeric columns, in order
        model.column_order(table.names, source=table.source or args.data)
    with _text_output(args.output, "-o", streams) as stream:
        write_labels(stream, model, table.X)
    return 0


# -- sample ---------------------------------------------------------------------------------
def run_sample(args: argparse.Namespace, streams: Streams) -> int:
    """``mixture sample``: draw rows from a saved model, in the data's units and columns."""
    check_outputs({"-o": args.output}, {"model file": args.model})
    model = model_files.load(args.model)
    rng = np.random.default_rng(args.seed)
    with _text_output(args.output, "-o", streams) as stream:
        write_samples(stream, model, args.n_samples, rng)
    return 0
