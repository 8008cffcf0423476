"""The documentation site (docs/site/) builds with no warning, and documents what it must.

The build runs when the ``docs`` extra is installed (``pip install -e '.[dev,docs]'``) and is
skipped otherwise. It builds a copy of docs/site/ inside the test's tmp_path (Sphinx writes
generated pages into its source folder), reading docs/*.md and examples/*.py from the
repository, which it leaves untouched.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mixture

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "docs" / "site"
GENERATED = ("guide", "examples", "_gallery_src", "generated", "sg_execution_times.rst")
BUILD_PACKAGES = ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme", "myst_parser")
PUBLIC_NAMES = [name for name in mixture.__all__ if not name.startswith("__")]


def _listed_in_reference() -> set[str]:
    """The names the API pages (docs/site/api/*.rst) list in their autosummary tables."""
    listed = set()
    for page in (SITE / "api").glob("*.rst"):
        for table in re.findall(r"\.\. autosummary::\n((?:   .*\n|\n)+)", page.read_text()):
            entries = [line.strip() for line in table.splitlines()]
            listed.update(e.removeprefix("mixture.") for e in entries if e and e[0] != ":")
    return listed


def test_every_public_name_is_in_the_api_reference() -> None:
    missing = sorted(set(PUBLIC_NAMES) - _listed_in_reference())
    assert not missing, f"add these names of mixture.__all__ to a page of docs/site/api/: {missing}"


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    absent = [name for name in BUILD_PACKAGES if importlib.util.find_spec(name) is None]
    if absent:
        pytest.skip(f"the docs extra is not installed (no {', '.join(absent)})")
    folder = tmp_path_factory.mktemp("docs")
    shutil.copytree(SITE, folder / "site", ignore=shutil.ignore_patterns(*GENERATED))
    environment = {**os.environ, "MIXTURE_DOCS_ROOT": str(ROOT), "MPLBACKEND": "Agg"}
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    build = subprocess.run(
        [*command, "site", "html"],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, f"the site does not build cleanly:\n{build.stderr[-20000:]}"
    return folder / "html"


def test_site_has_its_sections(built_site: Path) -> None:
    for page in ("index", "user-guide", "api/index", "examples/index"):
        assert (built_site / f"{page}.html").is_file(), page
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert (built_site / "guide" / f"{page.stem}.html").is_file(), page.name


def test_every_public_name_has_a_page(built_site: Path) -> None:
    generated = built_site / "api" / "generated"
    missing = [n for n in PUBLIC_NAMES if not (generated / f"mixture.{n}.html").is_file()]
    assert not missing, f"no API page for {missing}"


def test_every_example_has_a_page_and_shows_what_it_draws(built_site: Path) -> None:
    for script in sorted((ROOT / "examples").glob("*.py")):
        page = built_site / "examples" / f"{script.stem}.html"
        assert page.is_file(), f"no gallery page for {script.name}"
        if "matplotlib" in script.read_text(encoding="utf-8"):
            pictures = re.findall(r'<img[^>]+src="\.\./(_images/sphx_glr_[^"]+)"', page.read_text())
            assert pictures, f"the gallery page of {script.name} shows no picture"
            assert all((built_site / picture).is_file() for picture in pictures)
