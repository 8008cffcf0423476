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

Set the environment variable ``MIXTURE_COMPILED=0`` (before the first fit), or use
:func:`compiled_kernels` as a context manager, to run the numpy versions.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["compiled_available", "compiled_kernels", "use_compiled"]

_enabled = os.environ.get("MIXTURE_COMPILED", "1").strip() not in {"0", "false", "no", "off"}
_import_error: str | None = None
_imported = False


def compiled_available() -> bool:
    """True when numba is installed and importable (imports it on the first call)."""
    global _imported, _import_error
    if not _imported:
        _imported = True
        if importlib.util.find_spec("numba") is None:
            _import_error = "numba is not installed (pip install mixture-em[fast])"
        else:
            try:
                import numba  # noqa: F401
            except Exception as error:  # an incompatible numpy, a broken install
                _import_error = f"numba failed to import: {error}"
    return _import_error is None


def use_compiled() -> bool:
    """True when the compiled kernels should run: enabled and numba importable."""
    return _enabled and compiled_available()


@contextmanager
def compiled_kernels(enabled: bool) -> Iterator[None]:
    """Run the block with the compiled kernels turned on or off (tests, benchmarks).

    Not thread-safe: the setting is process-wide.
    """
    global _enabled
    before = _enabled
    _enabled = bool(enabled)
    try:
        yield
    finally:
        _enabled = before
