"""Deprecated alias of :mod:`mixture.contract` (renamed so that it no longer differs from
the :mod:`mixture.components` package by one letter).

Importing it warns; ``Component``, ``Statistics`` and ``Capabilities`` are in
:mod:`mixture.contract`, and at the top level (``from mixture import Component``).
"""

import warnings

from mixture.contract import Capabilities, Component, Statistics

__all__ = ["Capabilities", "Component", "Statistics"]

warnings.warn(
    "mixture.component is deprecated and will be removed; use mixture.contract (or import "
    "Component, Statistics and Capabilities from mixture)",
    DeprecationWarning,
    stacklevel=2,
)
