"""Lay out the pages that live outside docs/site/ where Sphinx can read them.

The user guide is docs/*.md (also rendered on GitHub, their python blocks run by
tests/test_docs.py), its pictures are made by docs/images/*.py, and the gallery is
examples/*.py. Sphinx reads documents only under its source folder, so before a build these
are copied into generated, git-ignored folders of docs/site/ with the same relative layout
(``guide/`` for docs/, ``guide/images/`` for docs/images/, ``examples/`` is where the gallery
lands, so a page's link ``../examples/NAME.py`` still resolves). Copies are made only when the
content changed, so incremental builds stay incremental.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import subprocess
import sys
from pathlib import Path


def _copy_if_changed(source: Path, target: Path) -> None:
    if target.exists() and filecmp.cmp(source, target, shallow=False):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def _mirror(sources: list[Path], folder: Path, pattern: str) -> None:
    """Copy ``sources`` into ``folder`` and remove the files matching ``pattern`` there that
    no longer have a source (a page deleted from docs/ disappears from the site)."""
    for source in sources:
        _copy_if_changed(source, folder / source.name)
    names = {source.name for source in sources}
    for stale in folder.glob(pattern):
        if stale.name not in names:
            stale.unlink()


def stage_guide(root: Path, site: Path) -> list[str]:
    """Copy docs/*.md into ``site/guide``; return the page names (file stems)."""
    pages = sorted((root / "docs").glob("*.md"))
    _mirror(pages, site / "guide", "*.md")
    return [page.stem for page in pages]


def _output_argument(script: Path, folder: Path) -> Path:
    """What a docs/images script is given as its output: the folder, or, when its usage line
    (``Run: python docs/images/NAME.py [output.png]``) names a PNG file, the file NAME.png."""
    usage = re.search(r"Run: python \S+ \[([^\]]*)\]", script.read_text(encoding="utf-8"))
    if usage and ".png" in usage.group(1):
        return folder / script.with_suffix(".png").name
    return folder


def stage_images(root: Path, site: Path) -> None:
    """Put the guide's pictures in ``site/guide/images``.

    The pictures drawn by a script (docs/images/NAME.py, run as ``python NAME.py OUTPUT``,
    see :func:`_output_argument`) are drawn again whenever the script changed since its last
    run here; the other pictures of docs/images are copied.
    """
    source, target = root / "docs" / "images", site / "guide" / "images"
    target.mkdir(parents=True, exist_ok=True)
    for script in sorted(source.glob("*.py")):
        stamp = target / f".{script.stem}.drawn"
        if stamp.exists() and stamp.stat().st_mtime >= script.stat().st_mtime:
            continue
        run = subprocess.run(
            [sys.executable, str(script), str(_output_argument(script, target))],
            cwd=root,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise RuntimeError(f"{script} failed to draw its pictures:\n{run.stderr}")
        stamp.touch()
    for picture in sorted(source.glob("*.png")):
        if not (target / picture.name).exists():
            _copy_if_changed(picture, target / picture.name)


def stage_examples(root: Path, site: Path, header: Path, folder: str) -> None:
    """Copy examples/*.py and the gallery's header into ``site/folder``, the folder the
    gallery is generated from (the examples also run there, so the files they write stay
    out of examples/)."""
    target = site / folder
    _mirror(sorted((root / "examples").glob("*.py")), target, "*.py")
    _copy_if_changed(header, target / "GALLERY_HEADER.rst")
