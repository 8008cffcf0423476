"""Reading data tables (CSV with a header row, or .npy) with errors that name the problem."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Table", "TableError", "read_table"]


class TableError(ValueError):
    """A data file cannot be used: the message says which file, line and column."""


@dataclass(frozen=True)
class Table:
    """Numeric columns read from a file.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_columns)
    names : list of str
    skipped : list of str
        Non-numeric columns left out (only when columns were not named explicitly).
    """

    X: np.ndarray
    names: list[str]
    skipped: list[str] = field(default_factory=list)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def read_table(path: str | Path, columns: Sequence[str] | None = None) -> Table:
    """Read numeric columns from a CSV file (header row) or a 2-D ``.npy`` array.

    Parameters
    ----------
    path : str or Path
    columns : sequence of str, optional
        Columns to use, by header name (CSV) or index (``.npy``); default every numeric
        column (non-numeric CSV columns are skipped and listed in ``Table.skipped``).

    Raises
    ------
    TableError
        Missing or empty file, ragged rows, empty or non-finite cells, a named column that is
        absent or not numeric.
    """
    source = Path(path)
    if not source.exists():
        raise TableError(f"data file {source} does not exist")
    if source.is_dir():
        raise TableError(f"{source} is a folder, not a data file")
    if source.suffix.lower() == ".npy":
        return _read_npy(source, columns)
    return _read_csv(source, columns)


def _read_npy(source: Path, columns: Sequence[str] | None) -> Table:
    try:
        array = np.load(source, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise TableError(f"{source} is not a readable .npy array: {exc}") from None
    if array.ndim != 2 or array.dtype.kind not in "biuf":
        raise TableError(
            f"{source} must hold a 2-D numeric array; got {array.ndim}-D {array.dtype}"
        )
    names = [str(i) for i in range(array.shape[1])]
    if columns:
        missing = [c for c in columns if c not in names]
        if missing:
            raise TableError(f"{source} has no column {missing[0]} (columns 0..{len(names) - 1})")
        picks = [names.index(c) for c in columns]
        array, names = array[:, picks], [names[i] for i in picks]
    values = array.astype(np.float64)
    if not np.isfinite(values).all():
        row, column = np.argwhere(~np.isfinite(values))[0]
        raise TableError(f"{source}: row {row}, column {names[column]} is not finite")
    return Table(values, names)


def _read_csv(source: Path, columns: Sequence[str] | None) -> Table:
    with source.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    rows = [row for row in rows if row and any(cell.strip() for cell in row)]
    if not rows:
        raise TableError(f"{source} is empty")
    header = [name.strip() for name in rows[0]]
    body = rows[1:]
    if not body:
        raise TableError(f"{source} has a header row but no data rows")
    for offset, row in enumerate(body):
        if len(row) != len(header):
            raise TableError(
                f"{source}, line {offset + 2}: {len(row)} fields, but the header has {len(header)}"
            )
    if columns:
        missing = [c for c in columns if c not in header]
        if missing:
            raise TableError(
                f"{source} has no column {missing[0]!r} (columns: {', '.join(header)})"
            )
        wanted = list(columns)
    else:
        wanted = header
    numeric, skipped = [], []
    for name in wanted:
        index = header.index(name)
        cells = [row[index].strip() for row in body]
        values = [_number(cell) for cell in cells]
        first_bad = next((i for i, v in enumerate(values) if v is None), None)
        if first_bad is not None and cells[first_bad] != "":
            if columns:
                raise TableError(
                    f"{source}: column {name!r} is not numeric (line {first_bad + 2}: "
                    f"{cells[first_bad]!r})"
                )
            skipped.append(name)
            continue
        if first_bad is not None:
            raise TableError(f"{source}, line {first_bad + 2}: column {name!r} is empty")
        bad = next((i for i, v in enumerate(values) if not math.isfinite(v)), None)
        if bad is not None:
            raise TableError(
                f"{source}, line {bad + 2}: column {name!r} holds {cells[bad]!r}, not a finite "
                "number; remove or impute it"
            )
        numeric.append((name, values))
    if not numeric:
        raise TableError(f"{source} has no numeric columns (skipped: {', '.join(skipped)})")
    X = np.array([values for _, values in numeric], dtype=np.float64).T
    return Table(X, [name for name, _ in numeric], skipped)
