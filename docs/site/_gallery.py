"""sphinx-gallery hooks: show each example's pictures.

The gallery shows the matplotlib figures an example leaves open (sphinx-gallery's own
scraper). An example that closes its figures after saving them to PNG files shows the
files it wrote instead, so every example that draws has its picture on its page. The
examples run in the staged folder (see ``_staging.py``), which holds no PNG file before
each example starts, so every PNG found there after a block was written by that example.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sphinx_gallery.scrapers import figure_rst, matplotlib_scraper


def _written_pictures(block_vars: dict[str, Any]) -> list[Path]:
    return sorted(Path(block_vars["src_file"]).parent.glob("*.png"))


def figures_or_written_pictures(
    block: Any, block_vars: dict[str, Any], gallery_conf: dict[str, Any], **kwargs: Any
) -> str:
    """An image scraper: the open figures, else the PNG files the block wrote.

    Parameters
    ----------
    block : tuple
        The code block that ran (label, content, line number).
    block_vars : dict
        sphinx-gallery's variables of the block; ``src_file`` is the example's path and
        ``image_path_iterator`` yields the paths the pictures must be copied to.
    gallery_conf : dict
        sphinx-gallery's configuration.
    **kwargs
        Passed on to :func:`sphinx_gallery.scrapers.matplotlib_scraper`.

    Returns
    -------
    str
        The reST that shows the pictures ("" when the block drew nothing).
    """
    rst = matplotlib_scraper(block, block_vars, gallery_conf, **kwargs)
    written = _written_pictures(block_vars)
    if rst or not written:
        for picture in written:  # the same figures, saved by the example: shown already
            picture.unlink()
        return rst
    targets = []
    for picture, target in zip(written, block_vars["image_path_iterator"], strict=False):
        shutil.move(picture, target)
        targets.append(target)
    return figure_rst(targets, gallery_conf["src_dir"])


def remove_written_pictures(gallery_conf: dict[str, Any], fname: str | None) -> None:
    """A ``reset_modules`` hook: before each example, remove the PNG files left in its folder.

    Parameters
    ----------
    gallery_conf : dict
        sphinx-gallery's configuration.
    fname : str or None
        The file name of the example about to run (None when a folder of examples is
        entered).
    """
    if fname is None:
        return
    folders = gallery_conf["examples_dirs"]
    for folder in [folders] if isinstance(folders, str) else folders:
        for picture in (Path(gallery_conf["src_dir"]) / folder).glob("*.png"):
            picture.unlink()
