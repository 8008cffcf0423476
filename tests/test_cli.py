"""The command line: default run, outputs, model round trips, and one-line errors (status 2).

Every file a test writes is inside its own temporary folder.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mixture import model_file as model_files
from mixture.cli import main
from mixture.cli.arguments import build_parser

FAITHFUL = Path(__file__).resolve().parents[1] / "mixture" / "datasets" / "faithful.csv"


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out, err, io.StringIO(stdin) if stdin is not None else None)
    return status, out.getvalue(), err.getvalue()


def assert_one_line_error(status: int, err: str, *fragments: str) -> None:
    assert status == 2, err
    assert err.startswith("mixture: error:"), err
    assert err.count("\n") == 1, f"one line, no traceback or usage block: {err!r}"
    for fragment in fragments:
        assert fragment in err, err


def labels_of(text: str) -> np.ndarray:
    return np.array([int(line.split(",")[0]) for line in text.splitlines()[1:]])


def write_csv(path: Path, names: list[str], X: np.ndarray) -> Path:
    lines = [",".join(names)] + [",".join(repr(float(v)) for v in row) for row in X]
    path.write_text("\n".join(lines) + "\n")
    return path


def three_units(seed: int = 0, n_rows: int = 300) -> np.ndarray:
    """Three clusters in columns of very different units (metres, grams, milliseconds)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [4.0, 4.0, 0.0], [0.0, 4.0, 4.0]])
    labels = rng.integers(3, size=n_rows)
    rows = centres[labels] + rng.normal(size=(n_rows, 3))
    return rows * np.array([0.001, 1000.0, 1.0]) + np.array([2.0, -5e4, 100.0])


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fit")
    paths = {name: folder / name for name in ("model.json", "labels.csv", "plot.png")}
    status, out, err = run(
        "fit",
        "--save",
        str(paths["model.json"]),
        "--labels",
        str(paths["labels.csv"]),
        "--plot",
        str(paths["plot.png"]),
    )
    return status, out, err, paths


# -- the default run -----------------------------------------------------------------------
def test_default_fit_selects_a_model_on_old_faithful(default_run) -> None:
    status, out, err, _ = default_run
    assert status == 0, err
    assert "Old Faithful (bundled): 272 rows, columns eruptions, waiting" in out
    assert re.search(r"selected by BIC: \w+ covariance, \d component\(s\) \(BIC [\d.]+\)", out)
    candidates = re.findall(r"^\| (full|tied|diag|spherical)\b", out, re.M)
    assert len(candidates) == 36  # one table row per candidate (4 structures x 9)
    assert "component 1: weight" in out


def test_fit_writes_model_labels_and_plot(default_run) -> None:
    _, out, _, paths = default_run
    model = model_files.load(paths["model.json"])
    assert model.feature_names == ("eruptions", "waiting")
    assert model.selection["criterion"] == "bic" and model.selection["n_rows"] == 272
    assert len(model.selection["candidates"]) == 36
    assert f"{model.n_components} component(s)" in out
    lines = paths["labels.csv"].read_text().splitlines()
    assert lines[0] == ",".join(["label", *[f"p{k}" for k in range(model.n_components)]])
    assert len(lines) == 273
    probabilities = np.array([[float(v) for v in line.split(",")[1:]] for line in lines[1:]])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert paths["plot.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_summary() -> None:
    status, out, _ = run("fit", "-k", "1-4", "-c", "tied,full", "--json")
    assert status == 0
    summary = json.loads(out)
    K = summary["selected"]["n_components"]
    assert summary["selected"]["covariance_type"] in ("tied", "full")
    assert len(summary["table"]) == 8
    assert np.asarray(summary["covariances"]).shape == (K, 2, 2)
    assert sum(summary["weights"]) == pytest.approx(1.0)
    assert summary["columns"] == ["eruptions", "waiting"] and summary["n_rows"] == 272


def test_predict_and_sample_use_a_saved_model(default_run, tmp_path) -> None:
    _, _, _, paths = default_run
    status, out, _ = run("predict", str(paths["model.json"]), str(FAITHFUL))
    assert status == 0
    assert out.splitlines() == paths["labels.csv"].read_text().splitlines()
    target = tmp_path / "draws.csv"
    status, _, _ = run("sample", str(paths["model.json"]), "-n", "50", "-o", str(target))
    assert status == 0
    rows = target.read_text().splitlines()
    assert rows[0] == "eruptions,waiting,label" and len(rows) == 51  # the fitted names


# -- predictions never silently wrong ------------------------------------------------------
def test_a_standardized_model_predicts_the_fit_labels(tmp_path) -> None:
    data = write_csv(tmp_path / "units.csv", ["m", "g", "ms"], three_units())
    model, labels = tmp_path / "m.json", tmp_path / "labels.csv"
    status, _, err = run(
        "fit", str(data), "-k", "3", "-c", "full", "--standardize", "--save", str(model),
        "--labels", str(labels),
    )  # fmt: skip
    assert status == 0, err
    status, out, _ = run("predict", str(model), str(data))
    assert status == 0
    np.testing.assert_array_equal(labels_of(out), labels_of(labels.read_text()))
    assert len(set(labels_of(out))) == 3


def test_reordered_and_extra_columns_are_matched_by_name(tmp_path) -> None:
    X = three_units(1)
    data = write_csv(tmp_path / "d.csv", ["m", "g", "ms"], X)
    model = tmp_path / "m.json"
    assert run("fit", str(data), "-k", "3", "-c", "full", "--save", str(model))[0] == 0
    _, expected, _ = run("predict", str(model), str(data))
    extra = np.column_stack([np.arange(len(X)), X[:, [2, 0, 1]]])
    shuffled = write_csv(tmp_path / "shuffled.csv", ["id", "ms", "m", "g"], extra)
    status, out, _ = run("predict", str(model), str(shuffled))
    assert status == 0 and out == expected


def test_missing_columns_are_named(tmp_path) -> None:
    X = three_units(2)
    data = write_csv(tmp_path / "d.csv", ["m", "g", "ms"], X)
    model = tmp_path / "m.json"
    assert run("fit", str(data), "-k", "2", "-c", "diag", "--save", str(model))[0] == 0
    partial = write_csv(tmp_path / "partial.csv", ["m", "x"], X[:, :2])
    status, _, err = run("predict", str(model), str(partial))
    assert_one_line_error(status, err, "'g'", "'ms'")


def test_columns_option_maps_other_names_onto_the_model(tmp_path) -> None:
    X = three_units(3)
    data = write_csv(tmp_path / "d.csv", ["m", "g", "ms"], X)
    model = tmp_path / "m.json"
    assert run("fit", str(data), "-k", "2", "-c", "diag", "--save", str(model))[0] == 0
    renamed = write_csv(tmp_path / "renamed.csv", ["a", "b", "c"], X)
    _, expected, _ = run("predict", str(model), str(data))
    status, out, _ = run("predict", str(model), str(renamed), "--columns", "a,b,c")
    assert status == 0 and out == expected
    status, _, err = run("predict", str(model), str(renamed), "--columns", "a,b")
    assert_one_line_error(status, err, "--columns names 2 column(s)")


def test_sample_of_a_standardized_model_is_in_the_data_units(tmp_path) -> None:
    X = three_units(4, n_rows=600)
    data = write_csv(tmp_path / "d.csv", ["m", "g", "ms"], X)
    model, draws = tmp_path / "m.json", tmp_path / "draws.csv"
    assert (
        run("fit", str(data), "-k", "3", "-c", "full", "--standardize", "--save", str(model))[0]
        == 0
    )
    assert run("sample", str(model), "-n", "5000", "-o", str(draws), "--seed", "1")[0] == 0
    rows = np.loadtxt(draws, delimiter=",", skiprows=1)
    assert draws.read_text().splitlines()[0] == "m,g,ms,label"
    standard_error = X.std(axis=0) / np.sqrt(5000)
    assert (np.abs(rows[:, :3].mean(axis=0) - X.mean(axis=0)) < 6 * standard_error).all()


def test_missing_values_are_errors_unless_dropped(tmp_path) -> None:
    X = three_units(5, n_rows=120)
    for marker in ("", "NA", "N/A", "nan", "NaN", "?", "null"):
        lines = write_csv(tmp_path / "d.csv", ["m", "g", "ms"], X).read_text().splitlines()
        cells = lines[7].split(",")
        cells[1] = marker
        lines[7] = ",".join(cells)
        (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
        status, _, err = run("fit", str(tmp_path / "d.csv"), "-k", "1")
        assert_one_line_error(status, err, "line 8", "'g'", "--drop-incomplete")
        status, out, err = run("fit", str(tmp_path / "d.csv"), "-k", "1", "--drop-incomplete")
        assert status == 0, err
        assert "119 rows (1 incomplete dropped)" in out
        assert "dropped 1 incomplete row(s)" in err


def test_duplicate_column_names_are_refused(tmp_path) -> None:
    data = write_csv(tmp_path / "d.csv", ["a", "b", "a"], three_units(6))
    status, _, err = run("fit", str(data), "-k", "1")
    assert_one_line_error(status, err, "'a'")


def test_other_delimiters_and_standard_input(tmp_path) -> None:
    X = three_units(7, n_rows=90)
    comma = write_csv(tmp_path / "d.csv", ["m", "g", "ms"], X).read_text()
    _, expected, _ = run("fit", str(tmp_path / "d.csv"), "-k", "2", "-c", "diag", "--json")
    for separator in (";", "\t"):
        path = tmp_path / "other.txt"
        path.write_text(comma.replace(",", separator))
        status, out, err = run("fit", str(path), "-k", "2", "-c", "diag", "--json")
        assert status == 0, err
        assert json.loads(out)["table"] == json.loads(expected)["table"]
    status, out, err = run("fit", "-", "-k", "2", "-c", "diag", "--json", stdin=comma)
    assert status == 0, err
    assert json.loads(out)["table"] == json.loads(expected)["table"]


# -- never lose a file -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ("fit", "{data}", "-k", "1", "--labels", "{data}"),
        ("fit", "{data}", "-k", "1", "--save", "{folder}/../{folder_name}/d.csv"),
        ("fit", "{data}", "-k", "1", "--save", "{folder}/x.json", "--labels", "{folder}/x.json"),
        ("fit", "{data}", "-k", "1", "--plot", "{folder}/link.png"),
        ("predict", "{model}", "{data}", "-o", "{data}"),
        ("predict", "{model}", "{data}", "-o", "{model}"),
        ("sample", "{model}", "-o", "{model}"),
    ],
)
def test_outputs_never_replace_inputs(tmp_path, argv) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    data = write_csv(folder / "d.csv", ["m", "g", "ms"], three_units(8, n_rows=60))
    (folder / "link.png").symlink_to(data)
    model = folder / "m.json"
    assert run("fit", str(data), "-k", "1", "--save", str(model))[0] == 0
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    names = {"data": data, "model": model, "folder": folder, "folder_name": folder.name}
    status, _, err = run(*(part.format(**names) for part in argv))
    assert_one_line_error(status, err)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_non_regular_outputs_are_refused_before_fitting(tmp_path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    status, _, err = run("fit", "-k", "1", "--plot", str(fifo))  # must not block on the FIFO
    assert_one_line_error(status, err, "FIFO")
    assert fifo.is_fifo()
    status, _, err = run("fit", "-k", "1", "--save", str(tmp_path))
    assert_one_line_error(status, err, "folder")


def test_a_symlinked_output_is_written_through(tmp_path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert run("fit", "-k", "1", "-c", "full", "--save", str(link))[0] == 0
    assert link.is_symlink()
    assert model_files.load(target).n_components == 1
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_failed_outputs_leave_nothing_behind(tmp_path) -> None:
    status, _, err = run("fit", "-k", "1", "--plot", str(tmp_path / "plot.jpg"))
    assert_one_line_error(status, err, ".png", ".svg", ".pdf")
    status, _, err = run("fit", "-k", "1", "--save", str(tmp_path / "no" / "m.json"))
    assert_one_line_error(status, err, "does not exist")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("extension", "magic"), [(".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_plot_format_follows_the_extension(tmp_path, extension, magic) -> None:
    path = tmp_path / f"plot{extension}"
    assert run("fit", "-k", "1-2", "-c", "full", "--plot", str(path))[0] == 0
    assert path.read_bytes().startswith(magic)


# -- one-line errors -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("contents", "extra", "fragments"),
    [
        (None, (), ("does not exist",)),
        ("", (), ("empty",)),
        ("a,b\n", (), ("no data rows",)),
        ("a,b\n1,2\n3\n", (), ("line 3",)),
        ("a,b\n1,2\n3,nan\n4,5\n", (), ("line 3", "'b'")),
        ("a,b\n1,2\n3,\n", (), ("line 3", "'b'")),
        ("a,b\n\n\n1,2\n3,inf\n", (), ("line 5", "'b'")),
        ("a,b\n1,2\n3,4\n", ("--columns", "c"), ("'c'",)),
        ("a,b\n1,2\n3,4\n5,6\n", ("-k", "5"), ("3 rows", "fewer than 5 components")),
        ("a,b\n1,2\n3,4\n", ("-k", "1-1000000000000"), ("fewer than 1,000,000,000,000",)),
        ("a,b\n1,2\n3,4\n", ("-k", "x"), ("-k", "expects numbers")),
        ("a,b\n1,2\n3,4\n", ("-k", "3-1"), ("-k", "first <= last")),
        ("a,b\n1,2\n3,4\n", ("-c", "round"), ("unknown covariance structure 'round'",)),
        ("a,b\n1,2\n3,4\n", ("-c", "VEV,EEE", "--prior"), ("--prior", "VEV", "no conjugate")),
        ("a,b\n1,2\n3,4\n", ("--seed", "-1"), ("--seed", "-1")),
        ("a,b\n1,2\n3,4\n", ("--seed", "x"), ("--seed",)),
        ("a,b\n1,2\n3,4\n", ("--n-init", "0"), ("--n-init",)),
        ("a,b\n1,2\n3,4\n", ("--delimiter", "|"), ("--delimiter",)),
        ("a,b\n1,2\n3,4\n", ("--frobnicate",), ("--frobnicate",)),
        ("a,b\n1,2\n1,2\n", ("--standardize", "-k", "1"), ("'a'", "constant")),
        ("a,b\n1,2\n3," + "9" * 200_000 + "\n", (), ("line 3",)),
        ("a;b\nx;y\n", (), ("no numeric columns",)),
    ],
)
def test_bad_input_gives_one_line_and_status_2(tmp_path, contents, extra, fragments) -> None:
    path = tmp_path / "data.csv"
    if contents is not None:
        path.write_text(contents)
    status, _, err = run("fit", str(path), *extra)
    assert_one_line_error(status, err, *fragments)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [(b"\x1f\x8b\x08\x00rest", "gzip"), (b"PK\x03\x04rest", "zip"), (b"a,b\n1,\xff\n", "UTF-8")],
)
def test_binary_data_files_are_named(tmp_path, payload, fragment) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(payload)
    status, _, err = run("fit", str(path))
    assert_one_line_error(status, err, "data.csv", fragment)


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (("sample", "{model}", "-n", "1000000000000"), ("-n", "at most")),
        (("sample", "{model}", "-n", "1e23"), ("-n", "1e23")),
        (("sample", "{model}", "-n", "0"), ("-n",)),
        (("sample", "{broken}"), ("not valid JSON",)),
        (("sample", "{missing}"), ("does not exist",)),
        (("predict", "-", "{model}"), ("model must be a file",)),
    ],
)
def test_bad_model_commands_give_one_line(tmp_path, argv, fragments) -> None:
    model = tmp_path / "m.json"
    assert run("fit", "-k", "1", "-c", "full", "--save", str(model))[0] == 0
    (tmp_path / "broken.json").write_text("{ not json")
    names = {"model": model, "broken": tmp_path / "broken.json", "missing": tmp_path / "no.json"}
    status, _, err = run(*(part.format(**names) for part in argv))
    assert_one_line_error(status, err, *fragments)


# -- conventions ---------------------------------------------------------------------------------
def test_version_and_help(capsys) -> None:
    from mixture import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"mixture {__version__}"
    parser = build_parser(__version__)
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, command in commands.items():
        for action in command._actions:
            assert action.help, f"mixture {name} {action.dest} has no help text"


def test_quiet_silences_notices(tmp_path) -> None:
    path = tmp_path / "mixed.csv"
    rng = np.random.default_rng(0)
    lines = ["name,a,b"] + [
        f"row{i},{x:.6f},{y:.6f}" for i, (x, y) in enumerate(rng.normal(size=(60, 2)))
    ]
    path.write_text("\n".join(lines) + "\n")
    status, out, err = run("fit", str(path), "-k", "1-2")
    assert status == 0 and "skipping non-numeric column(s): name" in err
    assert "skipping" not in out  # results on stdout, messages on stderr
    status, _, err = run("fit", str(path), "-k", "1-2", "--quiet")
    assert status == 0 and err == ""
    status, _, err = run("fit", str(path), "--columns", "name,a")
    assert_one_line_error(status, err, "'name'", "not numeric")


def test_outputs_to_standard_output(tmp_path) -> None:
    status, out, err = run("fit", "-k", "1-2", "-c", "full", "--save", "-")
    assert status == 0 and "selected by BIC" in err
    model = tmp_path / "m.json"
    model.write_text(out)
    assert model_files.load(model).feature_names == ("eruptions", "waiting")
    status, out, _ = run("sample", str(model), "-n", "3", "-o", "-")
    assert status == 0 and len(out.splitlines()) == 4
    status, _, err = run("fit", "--save", "-", "--labels", "-")
    assert_one_line_error(status, err, "standard output")


def test_a_closed_pipe_ends_quietly(tmp_path) -> None:
    assert run("fit", "-k", "1", "-c", "full", "--save", str(tmp_path / "m.json"))[0] == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "mixture", "sample", str(tmp_path / "m.json"), "-n", "2000000"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout.readline().startswith(b"eruptions,waiting")
    process.stdout.close()  # the reader goes away, as `| head -1` does
    _, err = process.communicate(timeout=120)
    assert err == b"", err.decode()
    assert process.returncode in (-13, 141)  # ended by SIGPIPE, like other Unix tools


def test_python_dash_m_runs_the_command_line(tmp_path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "mixture", "fit", "-k", "2", "-c", "full", "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["selected"]["n_components"] == 2


def test_values_too_large_to_square_name_the_column_or_are_standardized(tmp_path) -> None:
    rng = np.random.default_rng(9)
    X = rng.normal(size=(100, 2)) * np.array([1e200, 1.0])
    data = write_csv(tmp_path / "huge.csv", ["huge", "small"], X)
    status, _, err = run("fit", str(data), "-k", "1-3")
    assert_one_line_error(status, err, "'huge'", "--standardize")  # no warnings around it
    status, out, err = run("fit", str(data), "-k", "1-2", "-c", "full", "--standardize", "--json")
    assert status == 0, err
    summary = json.loads(out)
    # After an M-step the weighted means of the components are the data's mean.
    overall = np.asarray(summary["weights"]) @ np.asarray(summary["means"])
    units = np.array([1e200, 1.0])  # the spread of the data, computed without overflow
    spread = (X / units).std(axis=0) * units
    assert (np.abs(overall - X.mean(axis=0)) <= 1e-6 * spread).all()
    assert "warning" not in err


def test_warnings_after_success_are_single_lines() -> None:
    status, _, err = run("fit", "-k", "9", "-c", "full", "--n-init", "1", "--seed", "3")
    assert status == 0
    assert all(line.startswith("mixture: ") for line in err.splitlines())
    assert len(err.splitlines()) == len(set(err.splitlines()))  # each distinct one once


def test_prior_and_degenerate_candidates_in_the_report(tmp_path) -> None:
    rng = np.random.default_rng(10)
    X = np.concatenate([rng.normal(0.0, 1.0, (150, 2)), np.tile([[4.0, 4.0]], (15, 1))])
    data = write_csv(tmp_path / "stack.csv", ["a", "b"], X)
    status, out, err = run("fit", str(data), "-k", "1-4", "--json")
    assert status == 0, err
    table = json.loads(out)["table"]
    assert all("degenerate" in row for row in table)
    status, out, err = run("fit", str(data), "-k", "1-4", "--prior", "--save", "-")
    assert status == 0, err
    model = tmp_path / "m.json"
    model.write_text(out)
    assert model_files.load(model).selection["settings"]["prior"] is not None
    assert "| degenerate |" in err.splitlines()[2]  # the report, on stderr with --save -


# -- --stream ----------------------------------------------------------------------------------
def test_stream_reads_the_file_every_pass_and_selects_as_when_loaded(tmp_path: Path) -> None:
    X = three_units(seed=4, n_rows=600)
    X[:, 1] *= 1000.0  # columns of different scales, for --standardize
    data = write_csv(tmp_path / "rows.csv", ["a", "b", "c"], X)
    options = ["-k", "1-4", "-c", "full,diag", "--standardize", "-q"]
    loaded = run("fit", str(data), *options, "--labels", str(tmp_path / "l1.csv"), "--json")
    streamed = run(
        "fit", str(data), *options, "--stream", "--labels", str(tmp_path / "l2.csv"),
        "--save", str(tmp_path / "m.json"), "--plot", str(tmp_path / "p.png"), "--json",
    )  # fmt: skip
    assert loaded[0] == 0 and streamed[0] == 0, streamed[2]
    first, second = json.loads(loaded[1])["selected"], json.loads(streamed[1])["selected"]
    # The same model; its criterion summed chunk by chunk the other way: a few ulps apart.
    assert {k: v for k, v in first.items() if k != "value"} == {
        k: v for k, v in second.items() if k != "value"
    }
    assert second["value"] == pytest.approx(first["value"], rel=1e-10)
    np.testing.assert_array_equal(
        labels_of((tmp_path / "l1.csv").read_text()), labels_of((tmp_path / "l2.csv").read_text())
    )
    model = model_files.load(tmp_path / "m.json")
    np.testing.assert_allclose(model.standardization.center, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(model.standardization.scale, X.std(axis=0), rtol=1e-12)
    assert (tmp_path / "p.png").stat().st_size > 0
    status, out, _ = run("predict", str(tmp_path / "m.json"), str(data), "--stream")
    assert status == 0
    np.testing.assert_array_equal(labels_of(out), labels_of((tmp_path / "l1.csv").read_text()))


def test_stream_refuses_standard_input() -> None:
    status, _, err = run("fit", "-", "--stream", stdin="a,b\n1,2\n3,4\n")
    assert_one_line_error(status, err, "--stream", "standard input")


def test_online_fits_each_candidate_in_one_pass_and_selects_as_exact_em(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    X = three_units(seed=7, n_rows=6000)[:, :2] / np.array([0.001, 1000.0])
    X = X[rng.permutation(len(X))]  # online EM needs the rows in random order
    data = write_csv(tmp_path / "rows.csv", ["a", "b"], X)
    options = ["-k", "1-4", "-c", "full,spherical", "-q", "--json"]
    exact = json.loads(run("fit", str(data), *options)[1])
    online = json.loads(run("fit", str(data), *options, "--online", "--stream")[1])
    chosen, expected = online["selected"], exact["selected"]
    assert chosen["covariance_type"] == expected["covariance_type"]
    assert chosen["n_components"] == expected["n_components"]
    # One pass of online EM ends within a few BIC units of the converged fit, never below it.
    gap = chosen["value"] - expected["value"]
    assert -1e-6 * abs(expected["value"]) < gap < 20.0


def test_a_file_larger_than_a_quarter_of_memory_is_streamed(tmp_path: Path, monkeypatch) -> None:
    from mixture.cli import commands

    X = three_units(seed=5, n_rows=400)
    data = write_csv(tmp_path / "rows.csv", ["a", "b", "c"], X)
    options = ["-k", "1-2", "-c", "diag", "--json"]
    loaded = run("fit", str(data), *options)
    assert loaded[0] == 0 and "read on every pass" not in loaded[2]
    size = data.stat().st_size
    monkeypatch.setattr(commands, "_memory_bytes", lambda: 5 * size)  # a fifth of the memory
    status, out, err = run("fit", str(data), *options)
    assert status == 0 and "read on every pass" not in err
    monkeypatch.setattr(commands, "_memory_bytes", lambda: 3 * size)  # a third of the memory
    status, out, err = run("fit", str(data), *options)
    assert status == 0 and "read on every pass instead of loaded" in err
    streamed, first = json.loads(out)["selected"], json.loads(loaded[1])["selected"]
    assert streamed["n_components"] == first["n_components"]
    assert streamed["value"] == pytest.approx(first["value"], rel=1e-10)


# -- known classes (--labels-column) ----------------------------------------------------------
def _stripes_csv(path: Path, numeric: bool) -> tuple[Path, np.ndarray]:
    """Two long parallel stripes; five rows of each carry their class, the rest none."""
    rng = np.random.default_rng(11)
    y = np.repeat([0, 1], 150)
    X = np.column_stack([rng.normal(0.0, 5.0, 300), 2.0 * y + rng.normal(0.0, 0.5, 300)])
    known = np.zeros(300, dtype=bool)
    known[[0, 1, 2, 3, 4, 150, 151, 152, 153, 154]] = True
    names = ("7", "3") if numeric else ("upper", "lower")  # sorted: "3"/"lower" first
    with path.open("w") as handle:
        handle.write("x,y,class\n")
        for row, label, is_known in zip(X, y, known, strict=True):
            cell = names[label] if is_known else ("NA" if label else "")
            handle.write(f"{float(row[0])!r},{float(row[1])!r},{cell}\n")
    return path, y


@pytest.mark.parametrize("numeric", [False, True])
def test_labels_column_fits_semi_supervised(tmp_path, numeric) -> None:
    path, y = _stripes_csv(tmp_path / "stripes.csv", numeric)
    model_path = tmp_path / "model.json"
    labels_path = tmp_path / "labels.csv"
    status, _, err = run(
        "fit", str(path), "--labels-column", "class", "-k", "2", "-c", "full",
        "--save", str(model_path), "--labels", str(labels_path),
    )  # fmt: skip
    assert status == 0, err
    first, second = ("3", "7") if numeric else ("lower", "upper")
    assert f"{first} -> component 0 (5 rows), {second} -> component 1 (5 rows)" in err
    assert "290 rows unknown" in err and "skipping" not in err
    saved = model_files.load(model_path)
    # The class column is not a feature, and the model records the classes in order.
    assert saved.feature_names == ("x", "y")
    settings = saved.selection["settings"]
    assert settings["labels_column"] == "class" and settings["classes"] == [first, second]
    # Class 0 of the data ("upper", "7") is component 1: the stripes are recovered.
    found = labels_of(labels_path.read_text())
    assert (found == 1 - y).mean() > 0.95


def test_labels_column_is_refused_where_it_cannot_apply(tmp_path) -> None:
    path, _ = _stripes_csv(tmp_path / "stripes.csv", numeric=False)
    for extra, fragment in (
        (("--stream",), "--stream"),
        (("--drop-incomplete",), "--drop-incomplete"),
        (("--columns", "x,class"), "also in --columns"),
        (("-k", "1-2"), "needs at least 2 components"),
    ):
        status, _, err = run("fit", str(path), "-q", "--labels-column", "class", *extra)
        assert_one_line_error(status, err, fragment)
    status, _, err = run("fit", str(path), "--labels-column", "kind")
    assert "has no column 'kind'" in err and status == 2
    status, _, err = run("fit", "--labels-column", "class")
    assert_one_line_error(status, err, "reads a column of a data file")


def test_labels_column_of_a_parquet_file(tmp_path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path, y = _stripes_csv(tmp_path / "stripes.csv", numeric=True)
    rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
    table = pa.table(
        {
            "x": [float(r[0]) for r in rows],
            "y": [float(r[1]) for r in rows],
            "class": [int(r[2]) if r[2] not in ("", "NA") else None for r in rows],
        }
    )
    pq.write_table(table, tmp_path / "stripes.parquet")
    labels_path = tmp_path / "labels.csv"
    status, _, err = run(
        "fit", str(tmp_path / "stripes.parquet"), "--labels-column", "class", "-k", "2",
        "-c", "full", "--labels", str(labels_path),
    )  # fmt: skip
    assert status == 0, err
    assert "3 -> component 0 (5 rows), 7 -> component 1 (5 rows)" in err
    assert (labels_of(labels_path.read_text()) == 1 - y).mean() > 0.95


# -- missing values (--missing marginalize) ---------------------------------------------------
def _gappy_faithful(path: Path) -> Path:
    from mixture.datasets import load_faithful

    X, names = load_faithful()
    rng = np.random.default_rng(3)
    with path.open("w") as handle:
        handle.write(",".join(names) + "\n")
        for row in X:
            cells = ["NA" if rng.random() < 0.1 else repr(float(v)) for v in row]
            if all(cell == "NA" for cell in cells):
                cells[0] = repr(float(row[0]))
            handle.write(",".join(cells) + "\n")
    return path


def test_missing_values_are_marginalised_on_request(tmp_path) -> None:
    path = _gappy_faithful(tmp_path / "gappy.csv")
    status, _, err = run("fit", str(path))
    assert_one_line_error(status, err, "missing value", "--missing marginalize")
    model = tmp_path / "model.json"
    status, out, err = run("fit", str(path), "--missing", "marginalize", "--save", str(model))
    assert status == 0, err
    assert "selected by BIC" in out
    status, out, err = run("predict", str(model), str(path), "--missing", "marginalize")
    assert status == 0, err
    lines = out.splitlines()
    assert len(lines) == 1 + 272 and lines[0].startswith("label,")
    status, _, err = run("predict", str(model), str(path))
    assert_one_line_error(status, err, "missing value")
    for extra in (("--drop-incomplete",), ("--stream",), ("--online",)):
        status, _, err = run("fit", str(path), "-q", "--missing", "marginalize", *extra)
        assert_one_line_error(status, err, f"cannot be combined with {extra[0]}")


def test_labels_column_reads_whole_numbers_written_two_ways_as_one_class(tmp_path) -> None:
    path, _ = _stripes_csv(tmp_path / "stripes.csv", numeric=True)
    text = path.read_text().replace(",7\n", ",7.0\n", 2)  # two of "7"'s five rows as 7.0
    path.write_text(text)
    status, _, err = run("fit", str(path), "--labels-column", "class", "-k", "2", "-c", "full")
    assert status == 0, err
    assert "3 -> component 0 (5 rows), 7 -> component 1 (5 rows)" in err
