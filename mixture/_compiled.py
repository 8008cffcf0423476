"""Whether the optional compiled kernels (numba) are used, and a switch to turn them off.

Some E-step work is a short computation per row that numpy can only express through large
temporaries or many small calls (the conditional law of each row's missing values, for
instance). Those kernels have a compiled version written with numba, installed by the
``fast`` extra (``pip install mixture-em[fast]``). Without numba, or when its import fails
(a numpy newer than the installed numba supports, say), the numpy versions run instead:
the results agree to round-off, only the speed differs.

numba is imported only when a compiled kernel is first needed, so ``import mixture`` does
not pay for it. The kernels are compiled once per installation and cached on disk
(numba's ``cache=True``, in the package's ``__pycache__`` or numba's per-user cache).

The kernels of the start run on calls over at least ``COMPILED_MIN_VALUES`` numbers
(below, numpy is as fast and a kernel's first use would cost its compilation); the E-step of
rows with missing values runs compiled whenever numba is there, so that every chunk of a fit
takes the same kernel. Set the environment variable ``MIXTURE_COMPILED=0`` (before
importing ``mixture``), or use :func:`compiled_kernels` as a context manager, to run the
numpy versions.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["compiled_available", "compiled_kernels", "use_compiled"]

#: Calls on fewer values (rows x features) than this run the numpy kernels in the default
#: mode: there they are about as fast, and a compiled kernel's first use in a process
#: costs its compilation or its loading from the cache (a second or more), which small
#: data (the command line on a small table) should not pay.
COMPILED_MIN_VALUES = 1 << 16

_switch = os.environ.get("MIXTURE_COMPILED", "").strip().lower()
_mode = "off" if _switch in {"0", "false", "no", "off"} else "auto"
_import_error: str | None = None
_imported = False


def compiled_available() -> bool:
    """True when numba is installed and importable (imports it on the first call)."""
    global _imported, _import_error
    if not _imported:
        _imported = True
        try:
            installed = importlib.util.find_spec("numba") is not None
        except (ImportError, ValueError):  # a module entry without a spec
            installed = True  # let the import say what is wrong
        if not installed:
            _import_error = "numba is not installed (pip install mixture-em[fast])"
        else:
            try:
                import numba  # noqa: F401
            except Exception as error:  # an incompatible numpy, a broken install
                _import_error = f"numba failed to import: {error}"
    return _import_error is None


def use_compiled(values: int | None = None) -> bool:
    """Whether a call over ``values`` numbers should run its compiled kernel: numba
    importable, not turned off, and (in the default mode) at least
    ``COMPILED_MIN_VALUES`` values. Callers whose results must not depend on how rows are
    chunked pass the size of the whole data, not of a chunk."""
    if _mode == "off":
        return False
    if _mode == "auto" and values is not None and values < COMPILED_MIN_VALUES:
        return False
    return compiled_available()


@contextmanager
def compiled_kernels(enabled: bool | None) -> Iterator[None]:
    """Run the block with the compiled kernels on for every size (True), off (False), or
    chosen by size as by default (None); for tests and benchmarks.

    Not thread-safe: the setting is process-wide.
    """
    global _mode
    before = _mode
    _mode = "auto" if enabled is None else ("on" if enabled else "off")
    try:
        yield
    finally:
        _mode = before
