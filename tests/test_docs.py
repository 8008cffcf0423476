"""README and docs code blocks run; CI runs what the README says; examples run."""

from __future__ import annotations

import os
import re
import runpy
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


PYTHON_BLOCKS = [
    pytest.param(block, id=f"{path.name}-{i}")
    for path in DOCUMENTS
    for i, block in enumerate(_blocks(path, "python"))
]


@pytest.mark.parametrize("code", PYTHON_BLOCKS)
def test_python_block_runs(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("doc_snippet")  # a real module, as dataclasses need
    monkeypatch.setitem(sys.modules, module.__name__, module)
    environment = dict(os.environ)  # a Dask cluster's nanny writes into os.environ
    try:
        exec(compile(code, "<doc>", "exec"), module.__dict__)
    finally:
        os.environ.clear()
        os.environ.update(environment)


def test_readme_quick_start_has_two_commands_and_ci_runs_the_test_one() -> None:
    commands = _blocks(ROOT / "README.md", "bash")
    assert len(commands) == 2
    install_and_run, install_and_test = (c.strip() for c in commands)
    assert "mixture fit" in install_and_run
    ci_script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert install_and_test in ci_script.splitlines()


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_example_runs(script: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script)])
    runpy.run_path(str(script), run_name="__main__")
    usage = re.search(r"Run: python \S+(.*)", script.read_text(encoding="utf-8"))
    if usage and "[" in usage.group(1):  # the example takes an output path: it wrote it
        assert any(tmp_path.iterdir()), "the example should write its output file"
