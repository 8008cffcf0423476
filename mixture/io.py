"""Deprecated alias of :mod:`mixture.model_file` (the old name shadowed the standard
library's :mod:`io` wherever ``from mixture import io`` was written).

Importing it warns; everything it held is in :mod:`mixture.model_file` under the same names.
"""

import warnings

from mixture.model_file import *  # noqa: F403
from mixture.model_file import __all__  # noqa: F401

warnings.warn(
    "mixture.io is deprecated and will be removed; use mixture.model_file (same functions)",
    DeprecationWarning,
    stacklevel=2,
)
