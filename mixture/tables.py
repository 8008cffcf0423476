"""Reading data tables (delimited text with a header row, ``.npy`` or Parquet), streaming.

Text is parsed in chunks of rows and each chunk is converted column by column, so memory stays
bounded by the final float64 array plus a few chunks, and standard input is read in one pass.
Every problem is a one-line :class:`TableError` naming the file and, where it applies, the
physical line (blank lines counted) and the column.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import numpy as np

__all__ = [
    "DELIMITERS",
    "MISSING_MARKERS",
    "STDIN",
    "Table",
    "TableError",
    "TableStream",
    "open_table",
    "read_table",
    "read_text_column",
]

#: The path that means standard input.
STDIN = "-"
#: Delimiters recognised when none is given, in order of preference on a tie.
DELIMITERS = (",", ";", "\t")
#: Cells meaning "no value", compared after stripping whitespace and lower-casing.
MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "-nan", "+nan", "?", "null"})

_DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t"}
_DROP_HINT = (
    "drop incomplete rows with --drop-incomplete, or fit with the observed values of each row "
    "with --missing marginalize"
)
_PARQUET_HINT = 'pip install "mixture-em[parquet]"'
_SNIFF_LINES = 20
_READ_BYTES = 2**20
_CELLS_PER_CHUNK = 2**18
_MIN_CHUNK_ROWS = 1024
_MAX_CHUNK_ROWS = 65536
# Rows are collected in blocks of this many float64 values (32 MB): large enough to be
# memory-mapped by malloc, so a block's memory returns to the system as soon as it is freed.
_BLOCK_VALUES = 2**22
_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")


class TableError(ValueError):
    """A data file cannot be used: the message says which file, line and column."""


@dataclass(frozen=True)
class Table:
    """Numeric columns read from a file.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_columns)
        float64 values, all finite. For a float64 C-ordered ``.npy`` file read whole it is a
        read-only memory map of the file.
    names : list of str
        Column names, length n_columns (for ``.npy``, the column indices as strings).
    skipped : list of str
        Non-numeric columns left out (only when columns were not named explicitly).
    dropped_rows : int
        Rows left out because a used column had a missing value (``drop_incomplete=True``).
    source : str
        The file as named in messages (``"standard input"`` for ``-``).
    """

    X: np.ndarray
    names: list[str]
    skipped: list[str] = field(default_factory=list)
    dropped_rows: int = 0
    source: str = ""


@dataclass
class TableStream:
    """A data file read again on every pass, one block of rows at a time.

    Attributes
    ----------
    names : list of str
        The columns used (judged once, when the stream is opened).
    skipped : list of str
        Non-numeric columns left out.
    source : str
        The file as named in messages.
    n_rows : int or None
        Rows of the file (known up front for ``.npy`` and Parquet; for text, after the first
        complete pass), not counting rows dropped as incomplete.
    dropped_rows : int
        Rows left out as incomplete during the last complete pass.
    """

    names: list[str]
    skipped: list[str]
    source: str
    opener: Callable[[], Iterator[tuple[int, np.ndarray]]]
    n_rows: int | None = None
    dropped_rows: int = 0

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """One pass: ``(first_row, values)`` blocks in file order; ``values`` has shape
        ``(m, len(names))``, float64, finite (rows with a missing value are left out when
        the stream drops incomplete rows; ``first_row`` counts rows kept before the block)."""
        kept = 0
        for dropped, values in self.opener():
            yield kept, values
            kept += len(values)
            self.dropped_rows = dropped
        self.n_rows = kept


def open_table(
    path: str | Path,
    columns: Sequence[str] | None = None,
    *,
    delimiter: str | None = None,
    drop_incomplete: bool = False,
    chunk_rows: int | None = None,
    keep_missing: bool = False,
) -> TableStream:
    """Open a delimited text, ``.npy`` or Parquet file for reading in blocks, pass after pass.

    The arguments and the errors are those of :func:`read_table` (standard input cannot be
    read twice, so it is refused). Opening reads only the header and the first chunk, to
    choose the columns; each pass of :meth:`TableStream.blocks` reads the file again, with
    errors naming the line (text) or row index (``.npy``, Parquet) and the column.
    """
    if str(path) == STDIN:
        raise TableError("standard input can be read only once; give a file to stream from")
    policy = _missing_policy(drop_incomplete, keep_missing)
    wanted = _wanted_columns(columns)
    source = Path(path)
    label = str(path)
    kind = _file_kind(source, label)
    if kind == "npy":
        return _npy_stream(source, label, wanted, policy, chunk_rows)
    if kind == "parquet":
        return _parquet_stream(source, label, wanted, policy, chunk_rows)
    return _text_stream(source, label, wanted, delimiter, policy, chunk_rows)


#: How missing values are treated: refused, their rows dropped, or kept as NaN.
_ERROR, _DROP, _KEEP = "error", "drop", "keep"


def _missing_policy(drop_incomplete: bool, keep_missing: bool) -> str:
    if drop_incomplete and keep_missing:
        raise TableError("drop_incomplete and keep_missing cannot both be set")
    return _DROP if drop_incomplete else _KEEP if keep_missing else _ERROR


def _collected(stream: TableStream, expected_rows: int | None = None) -> Table:
    """Every block of one pass, joined into a :class:`Table`."""
    size = _default_chunk_rows(len(stream.names))
    rows = _collector(len(stream.names), size, expected_rows)
    for _, values in stream.blocks():
        rows.append(values)
    return _finish(rows, stream.names, stream.skipped, stream.dropped_rows, stream.source)


def read_table(
    path: str | Path,
    columns: Sequence[str] | None = None,
    *,
    delimiter: str | None = None,
    drop_incomplete: bool = False,
    stdin: TextIO | None = None,
    chunk_rows: int | None = None,
    exclude: Sequence[str] = (),
    keep_missing: bool = False,
) -> Table:
    """Read numeric columns from a delimited text file, a 2-D ``.npy`` array or Parquet.

    Text files have a header row of column names, then one row per line; the delimiter is
    comma, semicolon or tab, recognised from the header and the first lines unless given.
    Cells may be quoted and surrounded by whitespace; a UTF-8 byte order mark, CRLF line ends
    and blank lines are accepted. The file format is recognised from its first bytes (then
    from the suffix): ``.npy`` arrays are memory-mapped, Parquet needs pyarrow.

    Parameters
    ----------
    path : str or Path
        The file, or ``"-"`` for standard input (text only).
    columns : sequence of str, optional
        Columns to use, in this order, by header name (for ``.npy``: by index, ``"0"``,
        ``"1"``, ...); default every numeric column.
    delimiter : str, optional
        One character, or ``"comma"``, ``"semicolon"``, ``"tab"``; default recognised.
    drop_incomplete : bool, default False
        Leave out rows with a missing value in a used column (counted in
        ``Table.dropped_rows``) instead of raising.
    stdin : TextIO, optional
        Where ``"-"`` reads from; default ``sys.stdin`` (its bytes, when it has a buffer).
    chunk_rows : int, optional
        Rows parsed per chunk; default about 2**18 cells per chunk, at most 65536 rows.
    keep_missing : bool, default False
        Keep rows with missing values, the missing cells as NaN (for EM that marginalises
        them); not with ``drop_incomplete``.
    exclude : sequence of str, optional
        Columns left out of "every numeric column" (not read, not listed as skipped), such
        as a column of class labels; only when ``columns`` is not given.

    Returns
    -------
    Table
        ``X`` of shape (n_rows, n_columns), float64.

    Raises
    ------
    TableError
        The file is missing, a folder, empty, header-only, compressed or an archive, not UTF-8,
        ragged, has a duplicate column name, a cell longer than the csv field limit, a
        non-number in a numeric column, an infinite value, or a missing value (unless
        ``drop_incomplete``); a named column is absent or not numeric.

    Notes
    -----
    Missing values are the cells in :data:`MISSING_MARKERS` (empty, ``NA``, ``N/A``,
    ``nan``, ``-nan``, ``?``, ``null``, any case), NaN in ``.npy`` and null or NaN in Parquet.
    ``inf`` is never missing: it is an error.

    Whether a text column is numeric is judged on the first chunk of rows: a column with a
    cell there that is neither a number nor missing is skipped (listed in ``Table.skipped``),
    and so is a column whose cells there are all missing (e.g. after a trailing delimiter);
    a named column is used anyway, or refused if it holds text. Later text in a numeric
    column is an error naming its line. Parquet columns are numeric by type (integer,
    floating point or decimal). An empty header cell names its column ``"column N"`` (N
    counting from 1); a duplicate name is refused.
    """
    policy = _missing_policy(drop_incomplete, keep_missing)
    wanted: list[str] | _Excluding | None = _wanted_columns(columns)
    if wanted is None and exclude:
        wanted = _Excluding(frozenset(exclude))
    if str(path) == STDIN:
        lines = _stream_lines(sys.stdin if stdin is None else stdin, "standard input")
        return _read_text(lines, "standard input", wanted, delimiter, policy, chunk_rows)
    source = Path(path)
    label = str(path)
    kind = _file_kind(source, label)
    if kind == "npy":  # columns named by position: nothing to exclude by name
        named = None if isinstance(wanted, _Excluding) else wanted
        return _read_npy(source, label, named, policy, chunk_rows)
    if kind == "parquet":
        stream = _parquet_stream(source, label, wanted, policy, chunk_rows)
        return _collected(stream, stream.n_rows)
    return _collected(_text_stream(source, label, wanted, delimiter, policy, chunk_rows))


def read_text_column(
    path: str | Path, name: str, *, delimiter: str | None = None
) -> list[str | None]:
    """One column's cells as text, ``None`` where missing, one per data row of
    :func:`read_table` (blank lines left out alike).

    For a column of labels (``mixture fit --labels-column``), which may hold text and
    missing cells. Text files and Parquet; not ``.npy`` (no column names) or standard input
    (it can be read once).

    Parameters
    ----------
    path : str or Path
    name : str
        The column's header name.
    delimiter : str, optional
        As for :func:`read_table`.

    Returns
    -------
    list of str or None
        Cells stripped of surrounding whitespace; missing cells (:data:`MISSING_MARKERS`)
        are None.
    """
    label = str(path)
    if label == STDIN:
        raise TableError("a labels column cannot be read from standard input (read once)")
    source = Path(path)
    kind = _file_kind(source, label)
    if kind == "npy":
        raise TableError(f"{label} is a .npy array: its columns have no names to pick labels by")
    if kind == "parquet":
        return _parquet_text_column(source, label, name)
    with _open_binary(source, label) as handle:
        lines = _decoded_lines(handle, label)
        sample = list(islice(lines, _SNIFF_LINES))
        separator = _delimiter(delimiter, sample)
        reader = csv.reader(chain(sample, lines), delimiter=separator, skipinitialspace=True)
        header = _column_names(_header(reader, label))
        _refuse_duplicates(header, label)
        _refuse_absent([name], header, label)
        position = header.index(name)
        cells: list[str | None] = []
        for _, rows in _chunks(reader, len(header), label, _default_chunk_rows(len(header))):
            cells.extend(_text_or_missing(row[position]) for row in rows)
    return cells


def _text_or_missing(cell: Any) -> str | None:
    if cell is None:
        return None
    text = str(cell).strip()
    return None if text.lower() in MISSING_MARKERS else text


def _parquet_text_column(source: Path, label: str, name: str) -> list[str | None]:
    pq = _import_pyarrow(label)
    import pyarrow as pa

    try:
        parquet = pq.ParquetFile(source)
        header = list(parquet.schema_arrow.names)
        _refuse_absent([name], header, label)
        values = parquet.read(columns=[name]).column(name).to_pylist()
    except (pa.ArrowException, OSError) as exc:
        raise TableError(f"{label} is not a readable Parquet file: {exc}") from None
    cells: list[str | None] = []
    for value in values:
        if isinstance(value, float) and np.isnan(value):
            value = None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 1.0 and 1 name the same class
        cells.append(_text_or_missing(value))
    return cells


# -- arguments and file kinds --------------------------------------------------------------
@dataclass(frozen=True)
class _Excluding:
    """Every numeric column except these (``read_table(exclude=...)``)."""

    names: frozenset[str]


def _wanted_columns(columns: Sequence[str] | None) -> list[str] | None:
    """The named columns, or None for "every numeric column"; refuses a name given twice."""
    if not columns:
        return None
    wanted = list(columns)
    twice = next((name for i, name in enumerate(wanted) if name in wanted[:i]), None)
    if twice is not None:
        raise TableError(f"column {twice!r} is named twice in the columns to use")
    return wanted


def _delimiter(delimiter: str | None, sample: list[str]) -> str:
    """The delimiter given (validated, names resolved), else the one recognised in sample."""
    if delimiter is None:
        return _sniff_delimiter(sample)
    value = _DELIMITER_NAMES.get(delimiter.lower(), delimiter)
    if len(value) != 1 or value in '"\r\n':
        raise TableError(
            f"delimiter must be one character (or comma, semicolon, tab); got {delimiter!r}"
        )
    return value


def _open_binary(source: Path, label: str):
    try:
        return source.open("rb")
    except OSError as exc:
        raise TableError(f"cannot read {label}: {exc.strerror or exc}") from None


def _file_kind(source: Path, label: str) -> str:
    """``"npy"``, ``"parquet"`` or ``"text"``, from the first bytes, then the suffix."""
    if not source.exists():
        raise TableError(f"data file {label} does not exist")
    if source.is_dir():
        raise TableError(f"{label} is a folder, not a data file")
    with _open_binary(source, label) as handle:
        head = handle.read(8)
    if not head:
        raise TableError(f"{label} is empty")
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"PAR1"):
        return "parquet"
    _refuse_binary(head, label, source.suffix.lower())
    suffix = source.suffix.lower()
    return {".npy": "npy", ".parquet": "parquet"}.get(suffix, "text")


def _refuse_binary(head: bytes, label: str, suffix: str) -> None:
    """Raise for compressed files and archives (recognised by their first bytes)."""
    if head.startswith(b"\x1f\x8b"):
        raise TableError(f"{label} is gzip-compressed; decompress it first (gunzip)")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if suffix == ".npz":
            raise TableError(
                f"{label} is a NumPy .npz archive; save the array alone with numpy.save (.npy)"
            )
        if suffix in (".xlsx", ".xlsm", ".ods"):
            raise TableError(f"{label} is a spreadsheet workbook; export the sheet as CSV")
        raise TableError(f"{label} is a zip archive; extract the data file from it first")
    if head.startswith(b"PAR1"):
        raise TableError(f"{label} is a Parquet file; save it to a file and pass its path")
    if head.startswith(b"\x93NUMPY"):
        raise TableError(f"{label} is a .npy array; save it to a file and pass its path")


# -- lines of text ---------------------------------------------------------------------------
def _decoded_lines(stream: BinaryIO, label: str) -> Iterator[str]:
    """UTF-8 text lines (line ends kept, byte order mark dropped) of a byte stream."""
    blocks = _decoded_blocks(stream, label)
    return chain.from_iterable(io.StringIO(text, newline="\n") for text in blocks)


def _decoded_blocks(stream: BinaryIO, label: str) -> Iterator[str]:
    """Text of whole lines, decoded about a megabyte at a time.

    A byte that is not UTF-8 raises a TableError naming its line, after the text before that
    line has been yielded (so earlier problems are reported first).
    """
    head = stream.read(_READ_BYTES)
    _refuse_binary(head[:8], label, "")
    pending = head.removeprefix(b"\xef\xbb\xbf")
    lines_before = 0
    while True:
        data = stream.read(_READ_BYTES)
        if data:
            pending += data
            cut = pending.rfind(b"\n") + 1
            if cut == 0:
                continue
            block, pending = pending[:cut], pending[cut:]
        else:
            block, pending = pending, b""
        if not block:
            return
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as exc:
            line_start = block.rfind(b"\n", 0, exc.start) + 1
            yield block[:line_start].decode("utf-8")
            raise _not_utf8(block, exc.start, line_start, lines_before, label) from None
        yield text
        lines_before += block.count(b"\n")


def _not_utf8(block: bytes, at: int, line_start: int, lines_before: int, label: str):
    line = lines_before + block.count(b"\n", 0, at) + 1
    return TableError(
        f"{label}, line {line}: not UTF-8 text (byte 0x{block[at]:02x} at position "
        f"{at - line_start + 1}); save the file as UTF-8"
    )


def _stream_lines(stream: TextIO, label: str) -> Iterator[str]:
    """Lines of a text stream, decoded here from its bytes when it has a binary buffer."""
    binary = getattr(stream, "buffer", None)
    if binary is not None:
        return _decoded_lines(binary, label)
    return _text_lines(stream, label)


def _text_lines(stream: Iterable[str], label: str) -> Iterator[str]:
    number = 0
    try:
        for number, line in enumerate(stream, start=1):
            yield line.removeprefix("\ufeff") if number == 1 else line
    except UnicodeDecodeError:
        raise TableError(
            f"{label}, after line {number}: not UTF-8 text; save the data as UTF-8"
        ) from None


def _sniff_delimiter(sample: list[str]) -> str:
    """The delimiter among DELIMITERS splitting the header into most fields consistently.

    A delimiter giving every sample record the same number of fields beats one that does not;
    then more header fields win; then the order of DELIMITERS. Comma when none splits the
    header.
    """
    lines = [line for line in sample if line.strip()]
    best, best_score = DELIMITERS[0], (False, 1)
    for candidate in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=candidate)]
        except csv.Error:
            continue
        score = (len(set(counts)) == 1, counts[0] if counts else 0)
        if score[1] > 1 and score > best_score:
            best, best_score = candidate, score
    return best


# -- records and chunks of text ------------------------------------------------------------
def _is_blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _header(reader, label: str) -> list[str]:
    """The first non-blank record."""
    previous = reader.line_num
    try:
        for row in reader:
            if not _is_blank(row):
                return row
            previous = reader.line_num
    except csv.Error as exc:
        raise TableError(f"{label}, line {previous + 1}: {_csv_problem(exc)}") from None
    raise TableError(f"{label} is empty")


def _csv_problem(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return f"a cell is longer than {csv.field_size_limit()} characters (an unclosed quote?)"
    return f"cannot be parsed ({exc})"


def _chunks(
    reader, n_fields: int, label: str, size: int
) -> Iterator[tuple[list[int], list[list[str]]]]:
    """Lists of (start line numbers, rows) of at most ``size`` rows, blank lines left out.

    Refuses ragged rows and csv errors; on a problem the rows before it are yielded first,
    so an earlier bad cell is reported before a later ragged row.
    """
    lines: list[int] = []
    rows: list[list[str]] = []
    problem = None
    previous = reader.line_num
    try:
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if (len(row) != n_fields or n_fields == 1) and _is_blank(row):
                continue
            if len(row) != n_fields:
                raise TableError(
                    f"{label}, line {start}: {len(row)} fields, but the header has {n_fields}"
                )
            lines.append(start)
            rows.append(row)
            if len(rows) == size:
                yield lines, rows
                lines, rows = [], []
    except csv.Error as exc:
        problem = TableError(f"{label}, line {previous + 1}: {_csv_problem(exc)}")
    except TableError as exc:
        problem = exc
    if rows:
        yield lines, rows
    if problem is not None:
        raise problem


def _default_chunk_rows(n_fields: int) -> int:
    return max(_MIN_CHUNK_ROWS, min(_MAX_CHUNK_ROWS, _CELLS_PER_CHUNK // max(n_fields, 1)))


# -- converting cells ------------------------------------------------------------------------
@dataclass(frozen=True)
class _Parsed:
    """One column of a chunk: values (NaN where missing) and the first cell that is no number.

    Attributes
    ----------
    values : ndarray of shape (n_rows,)
    not_number : int or None
        Index of the first cell neither a number nor a missing marker; values from it on are
        undefined.
    """

    values: np.ndarray
    not_number: int | None = None


def _parse_cells(cells: Sequence[str]) -> _Parsed:
    """Convert text cells to float64, vectorised (missing markers become NaN)."""
    try:
        return _Parsed(np.array(cells, dtype=np.float64))
    except ValueError:
        return _parse_with_markers(cells)


def _parse_with_markers(cells: Sequence[str]) -> _Parsed:
    text = np.char.lower(np.char.strip(np.array(cells, dtype=str)))
    present = np.flatnonzero(~np.isin(text, list(MISSING_MARKERS)))
    values = np.full(len(cells), np.nan)
    try:
        values[present] = text[present].astype(np.float64)
    except ValueError:
        first = int(np.flatnonzero(_unparsable(text[present]))[0])
        values[present[:first]] = text[present[:first]].astype(np.float64)
        return _Parsed(values, int(present[first]))
    return _Parsed(values)


def _unparsable(text: np.ndarray) -> np.ndarray:
    """Boolean mask of shape (n,): the cells of ``text`` that float() refuses (error path)."""
    return np.array([not _is_float(cell) for cell in text], dtype=bool)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _first_problem(values: np.ndarray, allow_missing: bool) -> tuple[int, int, str] | None:
    """(row, column, "missing" or "infinite") of the first bad value of a (n_rows, k) chunk."""
    finite = np.isfinite(values)
    if finite.all():
        return None
    bad = np.isinf(values) if allow_missing else ~finite
    if not bad.any():
        return None
    row, column = (int(i) for i in np.argwhere(bad)[0])
    return row, column, "infinite" if np.isinf(values[row, column]) else "missing"


def _complete_rows(values: np.ndarray) -> np.ndarray:
    """Rows of a (n_rows, k) chunk without NaN, shape (n_complete, k)."""
    incomplete = np.isnan(values).any(axis=1)
    return values[~incomplete] if incomplete.any() else values


# -- collecting rows -------------------------------------------------------------------------
class _RowBlocks:
    """Rows of k float64 values appended in order, kept in blocks, joined at the end.

    Blocks are allocated empty (their memory is touched as rows arrive) and joined one by one,
    each freed as soon as it is copied: the peak is the result plus one block.
    """

    def __init__(self, n_columns: int, block_rows: int) -> None:
        self._k = n_columns
        self._block_rows = max(block_rows, 1)
        self._blocks: list[np.ndarray | None] = []
        self._filled = 0  # rows in the last block
        self.n_rows = 0

    def append(self, rows: np.ndarray) -> None:
        """Append rows of shape (m, k)."""
        while len(rows):
            if not self._blocks or self._filled == len(self._blocks[-1]):
                self._blocks.append(np.empty((self._block_rows, self._k)))
                self._filled = 0
            block = self._blocks[-1]
            take = min(len(rows), len(block) - self._filled)
            block[self._filled : self._filled + take] = rows[:take]
            self._filled += take
            self.n_rows += take
            rows = rows[take:]

    def finish(self) -> np.ndarray:
        """All rows, shape (n_rows, k), C-ordered; the blocks are released."""
        if not self._blocks:
            return np.empty((0, self._k))
        last = self._blocks[-1]
        last.resize((self._filled, self._k), refcheck=False)  # shrinks in place, no copy
        if len(self._blocks) == 1:
            self._blocks = []
            return last
        del last
        out = np.empty((self.n_rows, self._k))
        start = 0
        for i, block in enumerate(self._blocks):
            self._blocks[i] = None
            out[start : start + len(block)] = block
            start += len(block)
            del block
        self._blocks = []
        return out


def _collector(n_columns: int, chunk_rows: int, expected_rows: int | None = None) -> _RowBlocks:
    block_rows = max(chunk_rows, _BLOCK_VALUES // max(n_columns, 1))
    if expected_rows is not None:
        block_rows = max(expected_rows, 1)
    return _RowBlocks(n_columns, block_rows)


def _finish(rows: _RowBlocks, names: list[str], skipped: list[str], dropped: int, label: str):
    X = rows.finish()
    if len(X) == 0:
        raise TableError(f"{label}: no complete rows (all {dropped} have a missing value)")
    return Table(X, names, skipped, dropped, label)


# -- delimited text --------------------------------------------------------------------------
@dataclass
class _TextLayout:
    """What the first lines of a text file decide: delimiter, header, columns, chunk size."""

    separator: str
    header: list[str]
    used: list[int]
    skipped: list[str]
    size: int


def _text_chunks(
    lines: Iterator[str],
    label: str,
    columns: list[str] | None,
    delimiter: str | None,
    chunk_rows: int | None,
    known: _TextLayout | None = None,
) -> tuple[_TextLayout, Iterator[tuple[list[int], list[list[str]]]]]:
    """The file's layout and its chunks of (line numbers, cells), the first one included.

    ``known``: the layout of an earlier pass over the same file, kept (the columns are not
    judged again)."""
    sample = list(islice(lines, _SNIFF_LINES))
    separator = _delimiter(delimiter, sample)
    reader = csv.reader(chain(sample, lines), delimiter=separator, skipinitialspace=True)
    header = _column_names(_header(reader, label))
    _refuse_duplicates(header, label)
    size = chunk_rows or _default_chunk_rows(len(header))
    chunks = _chunks(reader, len(header), label, size)
    first = next(chunks, None)
    if first is None:
        raise TableError(f"{label} has a header row but no data rows")
    if known is not None:
        if header != known.header:
            raise TableError(f"{label} changed while it was being read (its header differs)")
        return known, chain([first], chunks)
    used, skipped = _choose_columns(first, header, columns, label, separator)
    layout = _TextLayout(separator, header, used, skipped, size)
    return layout, chain([first], chunks)


def _text_values(
    chunks: Iterator[tuple[list[int], list[list[str]]]],
    layout: _TextLayout,
    label: str,
    policy: str,
) -> Iterator[tuple[int, np.ndarray]]:
    """(rows dropped so far, kept values) per chunk; no chunk outlives its conversion."""
    names = [layout.header[i] for i in layout.used]
    convert = partial(
        _convert_chunk, used=layout.used, names=names, label=label, keep_nan=policy != _ERROR
    )
    dropped = 0
    for lines_of_chunk, chunk in chunks:
        values = convert(lines_of_chunk, chunk)
        del lines_of_chunk, chunk
        kept = _complete_rows(values) if policy == _DROP else values
        dropped += len(values) - len(kept)
        yield dropped, kept


def _read_text(
    lines: Iterator[str],
    label: str,
    columns: list[str] | None,
    delimiter: str | None,
    policy: str,
    chunk_rows: int | None,
) -> Table:
    layout, chunks = _text_chunks(lines, label, columns, delimiter, chunk_rows)
    names = [layout.header[i] for i in layout.used]
    stream = TableStream(
        names, layout.skipped, label, lambda: _text_values(chunks, layout, label, policy)
    )
    return _collected(stream)


def _text_stream(
    source: Path,
    label: str,
    columns: list[str] | None,
    delimiter: str | None,
    policy: str,
    chunk_rows: int | None,
) -> TableStream:
    with _open_binary(source, label) as handle:
        lines = _decoded_lines(handle, label)
        layout, _ = _text_chunks(lines, label, columns, delimiter, chunk_rows)
    names = [layout.header[i] for i in layout.used]

    def one_pass() -> Iterator[tuple[int, np.ndarray]]:
        with _open_binary(source, label) as handle:
            lines = _decoded_lines(handle, label)
            _, chunks = _text_chunks(lines, label, None, layout.separator, chunk_rows, layout)
            yield from _text_values(chunks, layout, label, policy)

    return TableStream(names, layout.skipped, label, one_pass)


def _column_names(cells: list[str]) -> list[str]:
    """Header cells stripped; an empty one is named ``"column N"`` (N counting from 1)."""
    names = [cell.strip() for cell in cells]
    return [name or f"column {position}" for position, name in enumerate(names, start=1)]


def _refuse_duplicates(names: Sequence[str], label: str) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise TableError(
                f"{label}: column name {name!r} appears twice in the header (columns "
                f"{seen[name]} and {position}); rename one"
            )
        seen[name] = position


def _choose_columns(
    first: tuple[list[int], list[list[str]]],
    header: list[str],
    columns: list[str] | None,
    label: str,
    separator: str,
) -> tuple[list[int], list[str]]:
    """Indices of the columns to use and names of those skipped, judged on the first chunk."""
    lines, rows = first
    excluded = columns.names if isinstance(columns, _Excluding) else frozenset()
    if columns is not None and not isinstance(columns, _Excluding):
        _refuse_absent(columns, header, label)
        used = [header.index(name) for name in columns]
        for index in used:
            parsed = _parse_cells([row[index] for row in rows])
            if parsed.not_number is not None:
                cell = rows[parsed.not_number][index].strip()
                raise TableError(
                    f"{label}: column {header[index]!r} is not numeric "
                    f"(line {lines[parsed.not_number]}: {cell!r}){_number_hint(cell)}"
                )
        return used, []
    used, skipped = [], []
    for index, cells in enumerate(zip(*rows, strict=True)):
        if header[index] in excluded:
            continue
        parsed = _parse_cells(cells)
        usable = parsed.not_number is None and not np.isnan(parsed.values).all()
        (used if usable else skipped).append(index)
    if not used:
        raise TableError(_no_numeric_message(label, header, rows, separator))
    return used, [header[i] for i in skipped]


def _refuse_absent(columns: list[str], header: list[str], label: str) -> None:
    absent = [name for name in columns if name not in header]
    if absent:
        which = "column" if len(absent) == 1 else "columns"
        raise TableError(
            f"{label} has no {which} {', '.join(map(repr, absent))} (columns: {', '.join(header)})"
        )


def _no_numeric_message(label: str, header: list[str], rows: list[list[str]], sep: str) -> str:
    if len(header) == 1:
        return (
            f"{label} has no numeric columns: the header has one column with delimiter "
            f"{sep!r}; give the delimiter (--delimiter)"
        )
    hint = next((_number_hint(cell) for cell in rows[0] if _number_hint(cell)), "")
    return f"{label} has no numeric columns (skipped: {', '.join(header)}){hint}"


def _number_hint(cell: str) -> str:
    if _DECIMAL_COMMA.fullmatch(cell.strip()):
        return "; decimal commas are not read: use '.' as the decimal point"
    return ""


def _convert_chunk(
    lines: list[int],
    rows: list[list[str]],
    *,
    used: list[int],
    names: list[str],
    label: str,
    keep_nan: bool,
) -> np.ndarray:
    """Float64 values of shape (n_rows, len(used)) of a chunk, NaN where missing.

    Raises for the first problem in reading order (line, then column): a cell that is no
    number, an infinite value, or (unless ``keep_nan``) a missing value.
    """
    by_column = list(zip(*rows, strict=True))
    values = np.empty((len(rows), len(used)))
    problems = []
    for position, index in enumerate(used):
        parsed = _parse_cells(by_column[index])
        values[:, position] = parsed.values
        if parsed.not_number is not None:
            problems.append((parsed.not_number, position, "text"))
    screened = _first_problem(values, keep_nan)
    if screened is not None:
        problems.append(screened)
    if problems:  # the first in reading order; a non-number before the NaN standing for it
        row, position, kind = min(problems, key=lambda problem: problem[:2])
        cell = rows[row][used[position]].strip()
        where = f"{label}, line {lines[row]}, column {names[position]!r}"
        raise TableError(_cell_message(where, kind, cell))
    return values


def _cell_message(where: str, kind: str, cell: str) -> str:
    if kind == "text":
        return f"{where}: {cell!r} is not a number{_number_hint(cell)}"
    if kind == "infinite":
        return f"{where}: {cell!r} is not a finite number; remove or replace it"
    shown = "(empty cell)" if cell == "" else repr(cell)
    return f"{where}: missing value {shown}; {_DROP_HINT}"


# -- .npy --------------------------------------------------------------------------------------
def _read_npy(
    source: Path,
    label: str,
    columns: list[str] | None,
    policy: str,
    chunk_rows: int | None,
) -> Table:
    stream = _npy_stream(source, label, columns, policy, chunk_rows)
    array = _npy_array(source, label)
    size = chunk_rows or _default_chunk_rows(len(stream.names))
    if len(stream.names) == array.shape[1] and columns is None:
        if _is_finite_float64(array, size):  # the file itself, memory-mapped
            return Table(np.asarray(array), stream.names, [], 0, label)
    return _collected(stream, len(array))


def _npy_stream(
    source: Path,
    label: str,
    columns: list[str] | None,
    policy: str,
    chunk_rows: int | None,
) -> TableStream:
    array = _npy_array(source, label)
    header = [str(i) for i in range(array.shape[1])]
    used = list(range(len(header)))
    if columns is not None:
        _refuse_absent(columns, header, label)
        used = [header.index(name) for name in columns]
    names = [header[i] for i in used]
    size = chunk_rows or _default_chunk_rows(len(used))

    def one_pass() -> Iterator[tuple[int, np.ndarray]]:
        mapped = _npy_array(source, label)
        dropped = 0
        for start in range(0, len(mapped), size):
            values = np.asarray(mapped[start : start + size, used], dtype=np.float64)
            _raise_for_value(values, start, names, label, policy)
            kept = _complete_rows(values) if policy == _DROP else values
            dropped += len(values) - len(kept)
            yield dropped, kept

    return TableStream(names, [], label, one_pass, None if policy == _DROP else len(array))


def _npy_array(source: Path, label: str) -> np.ndarray:
    """The file's 2-D numeric array, memory-mapped (no copy)."""
    try:
        array = np.load(source, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise TableError(f"{label} is not a readable .npy array: {exc}") from None
    if array.ndim != 2 or array.dtype.kind not in "biuf":
        raise TableError(f"{label} must hold a 2-D numeric array; got {array.ndim}-D {array.dtype}")
    if len(array) == 0:
        raise TableError(f"{label} holds no rows")
    return array


def _is_finite_float64(array: np.ndarray, size: int) -> bool:
    """Whether a (n, k) array is float64, C-ordered and finite (checked ``size`` rows at a time)."""
    if array.dtype != np.float64 or not array.flags.c_contiguous:
        return False
    return all(np.isfinite(array[i : i + size]).all() for i in range(0, len(array), size))


def _raise_for_value(
    values: np.ndarray, start: int, names: list[str], label: str, policy: str
) -> None:
    """Raise for the first missing (unless dropped or kept) or infinite value of a (m, k)
    chunk."""
    problem = _first_problem(values, policy != _ERROR)
    if problem is None:
        return
    row, column, kind = problem
    where = f"{label}, row index {start + row}, column {names[column]!r}"
    if kind == "infinite":
        raise TableError(f"{where}: {float(values[row, column])!r} is not a finite number")
    raise TableError(f"{where}: missing value; {_DROP_HINT}")


# -- Parquet -----------------------------------------------------------------------------------
def _import_pyarrow(label: str):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise TableError(
            f"{label} is a Parquet file; reading it needs pyarrow: {_PARQUET_HINT}"
        ) from None
    return pq


def _is_numeric_type(arrow_type) -> bool:
    import pyarrow.types as types

    return bool(
        types.is_integer(arrow_type)
        or types.is_floating(arrow_type)
        or types.is_decimal(arrow_type)
    )


def _parquet_stream(
    source: Path,
    label: str,
    columns: list[str] | None,
    policy: str,
    chunk_rows: int | None,
) -> TableStream:
    pq = _import_pyarrow(label)
    import pyarrow as pa

    try:
        parquet = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as exc:
        raise TableError(f"{label} is not a readable Parquet file: {exc}") from None
    schema = parquet.schema_arrow
    header = list(schema.names)
    _refuse_duplicates(header, label)
    used, skipped = _parquet_columns(schema, header, columns, label)
    names = [header[i] for i in used]
    size = chunk_rows or _default_chunk_rows(len(used))
    n_rows = parquet.metadata.num_rows
    if n_rows == 0:
        raise TableError(f"{label} holds no rows")

    def one_pass() -> Iterator[tuple[int, np.ndarray]]:
        with pq.ParquetFile(source) as reading:
            yield from _parquet_values(reading, size, names, label, policy)

    return TableStream(names, skipped, label, one_pass, None if policy == _DROP else n_rows)


def _parquet_values(
    reading, size: int, names: list[str], label: str, policy: bool
) -> Iterator[tuple[int, np.ndarray]]:
    """(rows dropped so far, kept values) per batch of an open Parquet file."""
    import pyarrow as pa

    dropped = start = 0
    for batch in reading.iter_batches(batch_size=size, columns=names):
        values = np.empty((batch.num_rows, len(names)))
        for position in range(len(names)):
            column = batch.column(names[position]).cast(pa.float64())
            values[:, position] = column.to_numpy(zero_copy_only=False)
        _raise_for_value(values, start, names, label, policy)
        kept = _complete_rows(values) if policy == _DROP else values
        dropped += len(values) - len(kept)
        start += len(values)
        yield dropped, kept


def _parquet_columns(
    schema, header: list[str], columns: list[str] | None, label: str
) -> tuple[list[int], list[str]]:
    """Indices of the columns to use (numeric by type) and names of those skipped."""
    numeric = [_is_numeric_type(schema.field(i).type) for i in range(len(header))]
    if isinstance(columns, _Excluding):
        kept = [i for i in range(len(header)) if header[i] not in columns.names]
        used = [i for i in kept if numeric[i]]
        if not used:
            raise TableError(f"{label} has no numeric columns besides {sorted(columns.names)}")
        return used, [header[i] for i in kept if not numeric[i]]
    if columns is not None:
        _refuse_absent(columns, header, label)
        used = [header.index(name) for name in columns]
        for index in used:
            if not numeric[index]:
                raise TableError(
                    f"{label}: column {header[index]!r} is not numeric "
                    f"(type {schema.field(index).type})"
                )
        return used, []
    used = [i for i in range(len(header)) if numeric[i]]
    skipped = [header[i] for i in range(len(header)) if not numeric[i]]
    if not used:
        raise TableError(f"{label} has no numeric columns (skipped: {', '.join(skipped)})")
    return used, skipped
