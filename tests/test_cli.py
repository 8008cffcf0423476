"""The command line: default run, outputs, and one-line errors with exit status 2."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mixture import io as model_files
from mixture.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


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


def test_default_fit_selects_tied_three_components_on_old_faithful(default_run) -> None:
    status, out, err, _ = default_run
    assert status == 0, err
    assert "Old Faithful (bundled): 272 rows, columns eruptions, waiting" in out
    assert "selected by BIC: tied covariance, 3 component(s) (BIC 2314.297)" in out
    candidates = re.findall(r"^\| (full|tied|diag|spherical)\b", out, re.M)
    assert len(candidates) == 36  # one table row per candidate (4 structures x 9)
    assert "component 2: weight" in out


def test_fit_writes_model_labels_and_plot(default_run) -> None:
    _, _, _, paths = default_run
    model = model_files.load(paths["model.json"])
    assert model.n_components == 3
    lines = paths["labels.csv"].read_text().splitlines()
    assert lines[0] == "label,p0,p1,p2" and len(lines) == 273
    probabilities = np.array([[float(v) for v in line.split(",")[1:]] for line in lines[1:]])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert paths["plot.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_summary(tmp_path) -> None:
    status, out, _ = run("fit", "-k", "1-4", "-c", "tied,full", "--json")
    assert status == 0
    summary = json.loads(out)
    assert summary["selected"]["covariance_type"] == "tied"
    assert summary["selected"]["n_components"] == 3
    assert len(summary["table"]) == 8
    assert np.asarray(summary["covariances"]).shape == (3, 2, 2)
    assert sum(summary["weights"]) == pytest.approx(1.0)


def test_predict_and_sample_use_a_saved_model(default_run, tmp_path) -> None:
    _, _, _, paths = default_run
    data = Path(__file__).resolve().parents[1] / "mixture" / "datasets" / "faithful.csv"
    status, out, _ = run("predict", str(paths["model.json"]), str(data))
    assert status == 0
    assert out.splitlines()[1:] == paths["labels.csv"].read_text().splitlines()[1:]
    target = tmp_path / "draws.csv"
    status, _, _ = run("sample", str(paths["model.json"]), "-n", "50", "-o", str(target))
    assert status == 0
    rows = target.read_text().splitlines()
    assert rows[0] == "x0,x1,label" and len(rows) == 51


def test_non_numeric_columns_are_skipped_with_a_message(tmp_path) -> None:
    path = tmp_path / "mixed.csv"
    rng = np.random.default_rng(0)
    lines = ["name,a,b"] + [
        f"row{i},{x:.4f},{y:.4f}" for i, (x, y) in enumerate(rng.normal(size=(60, 2)))
    ]
    path.write_text("\n".join(lines) + "\n")
    status, out, _ = run("fit", str(path), "-k", "1-2")
    assert status == 0
    assert "skipping non-numeric column(s): name" in out
    status, _, err = run("fit", str(path), "--columns", "name,a")
    assert status == 2 and "column 'name' is not numeric" in err


@pytest.mark.parametrize(
    ("contents", "extra", "message"),
    [
        (None, (), "does not exist"),
        ("", (), "is empty"),
        ("a,b\n", (), "header row but no data rows"),
        ("a,b\n1,2\n3\n", (), "line 3: 1 fields, but the header has 2"),
        ("a,b\n1,2\n3,nan\n4,5\n", (), "line 3: column 'b' holds 'nan'"),
        ("a,b\n1,2\n3,\n", (), "line 3: column 'b' is empty"),
        ("a,b\n1,2\n3,4\n", ("--columns", "c"), "no column 'c'"),
        ("a,b\n1,2\n3,4\n5,6\n", ("-k", "5"), "fewer than the largest number of components"),
        ("a,b\n1,2\n3,4\n", ("-k", "x"), "-k expects numbers"),
        ("a,b\n1,2\n3,4\n", ("-c", "round"), "unknown covariance structure 'round'"),
    ],
)
def test_bad_input_gives_one_line_and_status_2(tmp_path, contents, extra, message) -> None:
    path = tmp_path / "data.csv"
    if contents is not None:
        path.write_text(contents)
    status, _, err = run("fit", str(path), *extra)
    assert status == 2
    assert err.startswith("mixture: error:") and message in err
    assert err.count("\n") == 1, "one line, no traceback"


def test_malformed_model_file_and_unwritable_outputs(tmp_path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    status, _, err = run("sample", str(broken))
    assert status == 2 and "not valid JSON" in err
    existing = tmp_path / "keep.json"
    existing.write_text("precious")
    status, _, err = run("fit", "-k", "1", "--save", str(tmp_path / "no" / "m.json"))
    assert status == 2 and "does not exist" in err
    assert existing.read_text() == "precious"


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
