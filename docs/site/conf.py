"""Sphinx configuration of the documentation site (see README.md beside this file).

Build: ``python -m sphinx -W --keep-going -b html docs/site docs/_build/html``
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import warnings
from pathlib import Path

SITE = Path(__file__).resolve().parent
# The repository whose docs/*.md and examples/*.py are laid out here; tests/test_docs_site.py
# builds a copy of docs/site/ in a temporary folder and points this at the repository.
ROOT = Path(os.environ.get("MIXTURE_DOCS_ROOT", SITE.parents[1])).resolve()
sys.path.insert(0, str(SITE))

import _staging  # noqa: E402
import _xref  # noqa: E402
from sphinx.util import logging as sphinx_logging  # noqa: E402

import mixture  # noqa: E402

# -- The pages that live outside docs/site/ ------------------------------------------------
GALLERY_SOURCE = "_gallery_src"  # examples/*.py are copied and run here
GUIDE_PAGES = _staging.stage_guide(ROOT, SITE)
_staging.stage_images(ROOT, SITE)
_staging.stage_examples(ROOT, SITE, SITE / "gallery_header.rst", GALLERY_SOURCE)

# -- Project -----------------------------------------------------------------------------
project = "mixture"
author = "the mixture developers"
copyright = "the mixture developers"
release = mixture.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "README.md",
    "gallery_header.rst",
    GALLERY_SOURCE,
    "examples/*.ipynb",
    "**/*.py",
    "**.md5",
]
templates_path = ["_templates"]

# -- Markdown pages (docs/*.md, unchanged) ----------------------------------------------------
myst_heading_anchors = 3  # links such as cli.md#options

# -- API reference -------------------------------------------------------------------------
autosummary_generate = True
autosummary_ignore_module_all = False
add_module_names = False
autodoc_typehints = "none"  # the numpydoc sections give each type, with array shapes
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# The modules with their own page. Names a module shares with the top-level package are
# documented once, as mixture.NAME; the module's page links to that page.
API_MODULES = [
    "mixture.acceleration",
    "mixture.callbacks",
    "mixture.components",
    "mixture.constraints",
    "mixture.datasets",
    "mixture.declared",
    "mixture.distributed",
    "mixture.executors",
    "mixture.family",
    "mixture.gaussian",
    "mixture.initializers",
    "mixture.labels",
    "mixture.mixing",
    "mixture.model_file",
    "mixture.online",
    "mixture.plotting",
    "mixture.selection",
    "mixture.sources",
    "mixture.testing",
]


def _shared_with_package(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    return [
        name
        for name in getattr(module, "__all__", [])
        if name in mixture.__all__ and getattr(module, name) is getattr(mixture, name)
    ]


autosummary_context = {
    "shared_with_package": {name: _shared_with_package(name) for name in API_MODULES},
}

# -- Gallery (examples/*.py) ---------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": GALLERY_SOURCE,
    "gallery_dirs": "examples",
    "filename_pattern": r"\.py$",  # run every example, not only plot_*.py
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("_gallery.figures_or_written_pictures",),
    "reset_modules": ("matplotlib", "_gallery.remove_written_pictures"),
    "download_all_examples": False,
    "remove_config_comments": True,
    "capture_repr": (),
}

# -- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"mixture {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False

# -- Cross-references ----------------------------------------------------------------------
nitpicky = True
nitpick_ignore_regex = [
    # Third-party and standard-library types named in signatures and docstrings: no
    # inventories are fetched (the build runs offline).
    ("py:.*", r"(numpy|np|scipy|sklearn|matplotlib|dask|distributed|pandas|pyarrow)(\..*)?"),
    ("py:.*", r"(typing|collections|abc|os|pathlib|io|concurrent|dataclasses)(\..*)?"),
]


# -- Pages added to docs/ later appear in the user guide without an edit here ----------------


def _list_new_guide_pages(app, docname: str, source: list[str]) -> None:
    """Append to the user guide's index a toctree of the docs/*.md pages it does not list."""
    if docname != "user-guide":
        return
    unlisted = [page for page in GUIDE_PAGES if f"guide/{page}\n" not in source[0]]
    if unlisted:
        entries = "".join(f"   guide/{page}\n" for page in unlisted)
        source[0] += f"\n.. toctree::\n   :maxdepth: 2\n   :caption: More pages\n\n{entries}"


def _skip_metadata_routing(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_*_request`` methods (metadata routing):
    their docstrings refer to scikit-learn's own documentation."""
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def _numpydoc_warnings_count(app) -> None:
    """Report numpydoc's complaints about a docstring (an unknown section, say), which it
    gives as Python warnings, as Sphinx warnings, so that a -W build fails on them."""
    logger = sphinx_logging.getLogger("numpydoc")
    show = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):
        if "numpydoc" in str(filename) and issubclass(category, UserWarning):
            logger.warning(str(message), type="numpydoc", subtype="docstring")
        else:
            show(message, category, filename, lineno, file, line)

    warnings.showwarning = showwarning


def setup(app):
    app.connect("builder-inited", _numpydoc_warnings_count)
    app.connect("source-read", _list_new_guide_pages)
    app.connect("autodoc-skip-member", _skip_metadata_routing)
    app.connect("missing-reference", _xref.resolve)
