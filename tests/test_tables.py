"""Reading data tables: delimited text, standard input, .npy and Parquet, and their errors."""

from __future__ import annotations

import gzip
import io
import re
import sys
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mixture import tables
from mixture.tables import Table, TableError, read_table


def write(tmp_path, text: str, name: str = "data.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def refused(path, *patterns: str, **kwargs) -> str:
    """Assert reading ``path`` raises a one-line TableError matching every regex."""
    with pytest.raises(TableError) as info:
        read_table(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not found in {message!r}"
    return message


class FakeStdin(io.TextIOWrapper):
    """Standard input whose bytes are given (it has a ``buffer``, like sys.stdin)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8")


# -- reading -------------------------------------------------------------------------------
def test_reads_numeric_columns_as_float64(tmp_path) -> None:
    table = read_table(write(tmp_path, "a,b\n1,2\n3.5,-4e2\n"))
    assert isinstance(table, Table)
    assert table.X.dtype == np.float64 and table.X.flags.c_contiguous
    np.testing.assert_array_equal(table.X, [[1.0, 2.0], [3.5, -400.0]])
    assert table.names == ["a", "b"] and table.skipped == [] and table.dropped_rows == 0
    assert table.source.endswith("data.csv")


def test_whitespace_quotes_bom_crlf_and_blank_lines_are_accepted(tmp_path) -> None:
    text = '\ufeff a , "b" \r\n\r\n 1 , "2" \r\n3,\t4\r\n\r\n\r\n  \r\n'
    table = read_table(write(tmp_path, text))
    assert table.names == ["a", "b"]
    np.testing.assert_array_equal(table.X, [[1.0, 2.0], [3.0, 4.0]])


def test_single_column_with_blank_lines(tmp_path) -> None:
    table = read_table(write(tmp_path, "x\n1\n\n2\n\n"))
    np.testing.assert_array_equal(table.X, [[1.0], [2.0]])


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_recognised(tmp_path, delimiter) -> None:
    rows = [[f"p {i}", str(i), str(2.5 * i)] for i in range(30)]
    text = "\n".join(delimiter.join(row) for row in [["label", "x", "y"], *rows]) + "\n"
    table = read_table(write(tmp_path, text))
    assert table.names == ["x", "y"] and table.skipped == ["label"]
    np.testing.assert_array_equal(table.X[:, 1], 2.5 * np.arange(30))


def test_semicolon_file_with_commas_in_text_is_recognised(tmp_path) -> None:
    table = read_table(write(tmp_path, "who;x\nSmith, J;1\nDoe, A;2\n"))
    assert table.names == ["x"] and table.skipped == ["who"]


@pytest.mark.parametrize(("given", "text"), [("\t", "a\tb\n1\t2\n"), ("tab", "a\tb\n1\t2\n")])
def test_explicit_delimiter(tmp_path, given, text) -> None:
    table = read_table(write(tmp_path, text), delimiter=given)
    np.testing.assert_array_equal(table.X, [[1.0, 2.0]])


def test_explicit_delimiter_overrides_recognition(tmp_path) -> None:
    path = write(tmp_path, "a;b,c\n1;2,3\n")
    assert read_table(path, delimiter=";").skipped == ["b,c"]
    refused(path, "one character", delimiter=";;")


def test_wrong_delimiter_gives_a_hint(tmp_path) -> None:
    refused(write(tmp_path, "a;b\n1;2\n"), "no numeric columns", "--delimiter", delimiter=",")


def test_decimal_commas_give_a_hint(tmp_path) -> None:
    refused(write(tmp_path, "a;b\n1,5;2,5\n"), "decimal commas")


def test_standard_input_from_a_text_stream() -> None:
    table = read_table("-", stdin=io.StringIO("\ufeffa;b\n1;2\n\n3;4\n"))
    assert table.source == "standard input"
    np.testing.assert_array_equal(table.X, [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TableError, match=r"^standard input, line 4, column 'b': missing"):
        read_table("-", stdin=io.StringIO("a,b\n1,2\n\n3,NA\n"))


def test_standard_input_from_bytes() -> None:
    table = read_table("-", stdin=FakeStdin(b"\xef\xbb\xbfa\tb\r\n1\t2\r\n"))
    np.testing.assert_array_equal(table.X, [[1.0, 2.0]])
    with pytest.raises(TableError, match=r"^standard input, line 3: not UTF-8 text"):
        read_table("-", stdin=FakeStdin(b"a,b\n1,2\n3,\xe9\n"))
    with pytest.raises(TableError, match="standard input is gzip-compressed"):
        read_table("-", stdin=FakeStdin(gzip.compress(b"a,b\n1,2\n")))
    with pytest.raises(TableError, match="standard input is empty"):
        read_table("-", stdin=FakeStdin(b""))


def test_chunks_and_blocks_join_in_order(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tables, "_BLOCK_VALUES", 12)
    values = np.arange(300, dtype=np.float64).reshape(100, 3) / 7
    text = "a,b,c\n" + "".join(",".join(map(repr, row)) + "\n\n" for row in values.tolist())
    table = read_table(write(tmp_path, text), chunk_rows=7)
    np.testing.assert_array_equal(table.X, values)
    assert table.X.flags.c_contiguous


# -- missing values ------------------------------------------------------------------------
MARKERS = ["", "NA", "N/A", "nan", "NaN", "?", "null", "NULL", "na", "n/a", "-nan", " NA "]


@pytest.mark.parametrize("marker", MARKERS)
def test_every_missing_marker_gives_the_same_error(tmp_path, marker) -> None:
    path = write(tmp_path, f"a,waiting\n1,2\n3,4\n\n5,{marker}\n")
    shown = "(empty cell)" if not marker.strip() else repr(marker.strip())
    message = refused(path)
    assert message == (
        f"{path}, line 5, column 'waiting': missing value {shown}; drop incomplete rows with "
        "--drop-incomplete, or fit with the observed values of each row with --missing "
        "marginalize"
    )


@pytest.mark.parametrize("marker", MARKERS)
def test_drop_incomplete_drops_and_counts(tmp_path, marker) -> None:
    text = f"a,b\n1,2\n{marker},4\n5,6\n{marker},{marker}\n,\n7,{marker}\n8,9\n"
    table = read_table(write(tmp_path, text), drop_incomplete=True)
    np.testing.assert_array_equal(table.X, [[1.0, 2.0], [5.0, 6.0], [8.0, 9.0]])
    assert table.dropped_rows == 4


def test_drop_incomplete_only_looks_at_used_columns(tmp_path) -> None:
    path = write(tmp_path, "a,b\n1,NA\n2,3\n")
    table = read_table(path, ["a"], drop_incomplete=True)
    np.testing.assert_array_equal(table.X, [[1.0], [2.0]])
    assert table.dropped_rows == 0


def test_all_rows_incomplete(tmp_path) -> None:
    refused(write(tmp_path, "a,b\n1,NA\n,3\n"), "no complete rows", drop_incomplete=True)


def test_all_missing_row_is_an_error_by_default(tmp_path) -> None:
    refused(write(tmp_path, "a,b\n1,2\n,\n"), r"line 3, column 'a': missing value")


def test_infinity_is_not_missing(tmp_path) -> None:
    for cell in ("inf", "-inf", "Infinity"):
        path = write(tmp_path, f"a,b\n1,2\n3,{cell}\n")
        refused(path, rf"line 3, column 'b': '{cell}' is not a finite number")
        refused(path, "not a finite number", drop_incomplete=True)


def test_all_missing_column_is_skipped_unless_named(tmp_path) -> None:
    path = write(tmp_path, "a,b,\n1,NA,\n2,,\n")
    table = read_table(path)
    assert table.names == ["a"] and table.skipped == ["b", "column 3"]
    refused(path, r"line 2, column 'b': missing value 'NA'", columns=["a", "b"])


# -- line and column numbers ---------------------------------------------------------------
def test_line_numbers_count_blank_lines(tmp_path) -> None:
    path = write(tmp_path, "\na,b\n\n1,2\n\n\n3,x\n", name="d.csv")
    refused(path, r"d\.csv, line 7, column 'b': 'x' is not a number", chunk_rows=1)


def test_line_numbers_with_crlf_and_quoted_line_breaks(tmp_path) -> None:
    text = 'name,a\r\n"two\r\nlines",1\r\n\r\nok,?\r\n'
    refused(write(tmp_path, text), r"line 5, column 'a': missing value '\?'")


def test_ragged_row(tmp_path) -> None:
    refused(write(tmp_path, "a,b\n1,2\n\n3\n"), r"line 4: 1 fields, but the header has 2")


def test_earlier_bad_cell_is_reported_before_a_later_ragged_row(tmp_path) -> None:
    refused(write(tmp_path, "a,b\n1,2\n1,NA\n3\n"), r"line 3, column 'b': missing value")


def test_later_text_in_a_numeric_column(tmp_path) -> None:
    text = "a,b\n" + "1,2\n" * 10 + "3,hello\n"
    refused(write(tmp_path, text), r"line 12, column 'b': 'hello' is not a number", chunk_rows=4)


def test_text_column_in_first_chunk_is_skipped(tmp_path) -> None:
    text = "when,x\n2024-01-01 10:00,1\n2024-01-02 11:00,2\n"
    table = read_table(write(tmp_path, text))
    assert table.names == ["x"] and table.skipped == ["when"]


# -- the file itself -----------------------------------------------------------------------
def test_missing_file_and_folder(tmp_path) -> None:
    refused(tmp_path / "nope.csv", "nope.csv does not exist")
    refused(tmp_path, "is a folder")


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file(tmp_path, text) -> None:
    refused(write(tmp_path, text), "is empty")


def test_header_only(tmp_path) -> None:
    refused(write(tmp_path, "a,b\n\n"), "header row but no data rows")


def test_huge_cell(tmp_path) -> None:
    path = write(tmp_path, "a,b\n1,2\n3," + "9" * 300_000 + "\n")
    refused(path, r"line 3: a cell is longer than \d+ characters")


def test_unclosed_quote_is_reported(tmp_path) -> None:
    path = write(tmp_path, 'a,b\n1,2\n3,"4\n' + "5,6\n" * 40_000)
    refused(path, r"line 3: a cell is longer than")


def test_not_utf8(tmp_path) -> None:
    path = write(tmp_path, "a,b\n1,2\n\ncafé,3\n", encoding="latin-1")
    refused(path, r"data\.csv, line 4: not UTF-8 text \(byte 0xe9 at position 4\)")


def test_compressed_files_and_archives(tmp_path) -> None:
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(b"a,b\n1,2\n"))
    refused(tmp_path / "d.csv.gz", "gzip-compressed", "gunzip")
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as archive:
        archive.writestr("d.csv", "a,b\n1,2\n")
    refused(tmp_path / "d.zip", "zip archive", "extract")
    np.savez(tmp_path / "d.npz", x=np.ones((2, 2)))
    refused(tmp_path / "d.npz", r"\.npz archive", "numpy.save")


def test_parquet_without_pyarrow(tmp_path, monkeypatch) -> None:
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1" + b"\0" * 20 + b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    message = refused(path, "Parquet file", "needs pyarrow")
    assert 'pip install "mixture-em[parquet]"' in message


def test_duplicate_column_names(tmp_path) -> None:
    refused(write(tmp_path, "a,b,a\n1,2,3\n"), r"column name 'a' appears twice")
    refused(write(tmp_path, "a,b\n1,2\n"), r"'a' is named twice", columns=["a", "a"])


def test_named_columns(tmp_path) -> None:
    path = write(tmp_path, "name,a,b\nx,1,2\ny,3,4\n")
    table = read_table(path, ["b", "a"])
    assert table.names == ["b", "a"]
    np.testing.assert_array_equal(table.X, [[2.0, 1.0], [4.0, 3.0]])
    refused(path, r"no column 'c' \(columns: name, a, b\)", columns=["c"])
    refused(path, r"column 'name' is not numeric \(line 2: 'x'\)", columns=["name"])


# -- .npy ------------------------------------------------------------------------------------
def test_npy_float64_is_memory_mapped_without_copy(tmp_path) -> None:
    values = np.arange(12.0).reshape(6, 2)
    np.save(tmp_path / "x.npy", values)
    table = read_table(tmp_path / "x.npy")
    np.testing.assert_array_equal(table.X, values)
    assert isinstance(table.X.base, np.memmap) and not table.X.flags.writeable
    assert table.names == ["0", "1"]


def test_npy_other_layouts_are_converted(tmp_path) -> None:
    values = np.asfortranarray(np.arange(12).reshape(4, 3))
    np.save(tmp_path / "x.npy", values)
    table = read_table(tmp_path / "x.npy", ["2", "0"], chunk_rows=3)
    np.testing.assert_array_equal(table.X, values[:, [2, 0]])
    assert table.X.dtype == np.float64 and table.X.flags.c_contiguous


def test_npy_missing_and_infinite_values(tmp_path) -> None:
    values = np.arange(12.0).reshape(6, 2)
    values[3, 1] = np.nan
    np.save(tmp_path / "x.npy", values)
    refused(tmp_path / "x.npy", r"row index 3, column '1': missing value", chunk_rows=2)
    table = read_table(tmp_path / "x.npy", drop_incomplete=True, chunk_rows=2)
    assert table.dropped_rows == 1 and len(table.X) == 5
    values[3, 1] = np.inf
    np.save(tmp_path / "x.npy", values)
    refused(tmp_path / "x.npy", r"row index 3, column '1': inf is not a finite number")


def test_npy_wrong_shape(tmp_path) -> None:
    np.save(tmp_path / "x.npy", np.ones(3))
    refused(tmp_path / "x.npy", "2-D numeric array")


# -- Parquet ---------------------------------------------------------------------------------
def test_parquet_round_trip(tmp_path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    data = {
        "label": pa.array(["a", "b", "c", "d", "e"]),
        "x": pa.array([1.5, 2.5, None, 4.5, 5.5]),
        "n": pa.array([1, 2, 3, 4, None], type=pa.int32()),
    }
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table(data), path, row_group_size=2)
    refused(path, r"row index 2, column 'x': missing value", chunk_rows=2)
    table = read_table(path, drop_incomplete=True, chunk_rows=2)
    assert table.names == ["x", "n"] and table.skipped == ["label"]
    np.testing.assert_array_equal(table.X, [[1.5, 1.0], [2.5, 2.0], [4.5, 4.0]])
    assert table.dropped_rows == 2
    refused(path, r"column 'label' is not numeric", columns=["label"])
    refused(path, r"no column 'z'", columns=["z"])
    named = read_table(path, ["n"], drop_incomplete=True)
    np.testing.assert_array_equal(named.X, [[1.0], [2.0], [3.0], [4.0]])


def test_parquet_recognised_by_content(tmp_path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "d.bin"
    pq.write_table(pa.table({"x": [1.0, 2.0]}), path)
    np.testing.assert_array_equal(read_table(path).X, [[1.0], [2.0]])


# -- exact round trip ------------------------------------------------------------------------
finite_floats = st.floats(allow_nan=False, allow_infinity=False)


@given(
    values=st.integers(1, 4).flatmap(
        lambda n_columns: st.lists(
            st.lists(finite_floats, min_size=n_columns, max_size=n_columns),
            min_size=1,
            max_size=30,
        )
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
    crlf=st.booleans(),
)
def test_repr_round_trip_is_exact(values, delimiter, crlf) -> None:
    end = "\r\n" if crlf else "\n"
    header = delimiter.join(f"c{j}" for j in range(len(values[0])))
    text = header + end + "".join(delimiter.join(map(repr, row)) + end for row in values)
    table = read_table("-", stdin=io.StringIO(text))
    expected = np.array(values, dtype=np.float64)
    assert table.X.shape == expected.shape
    assert (table.X == expected).all()


@pytest.mark.parametrize("marker", MARKERS)
def test_keep_missing_keeps_rows_with_nan_where_values_are_missing(tmp_path, marker) -> None:
    text = f"a,b\n1,2\n{marker},4\n5,6\n7,{marker}\n"
    table = read_table(write(tmp_path, text), keep_missing=True)
    np.testing.assert_array_equal(table.X, [[1.0, 2.0], [np.nan, 4.0], [5.0, 6.0], [7.0, np.nan]])
    assert table.dropped_rows == 0
    with pytest.raises(TableError, match="cannot both be set"):
        read_table(write(tmp_path, text), keep_missing=True, drop_incomplete=True)


def test_a_labels_column_is_read_as_text_and_left_out_of_the_numbers(tmp_path) -> None:
    from mixture.tables import read_text_column

    path = write(tmp_path, "x,class,y\n1,a,2\n\n3,,4\n5,NA,6\n7, b ,8\n")
    assert read_text_column(path, "class") == ["a", None, None, "b"]
    table = read_table(path, exclude=["class"])
    assert table.names == ["x", "y"] and table.skipped == []
    with pytest.raises(TableError, match="no column 'kind'"):
        read_text_column(path, "kind")
