"""Colours, markers and figure sizes shared by the plots."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "MAX_PIXELS",
    "component_colour",
    "component_linestyle",
    "component_marker",
    "new_axes",
    "uncertainty_colormap",
]

#: Largest side, in pixels at the figure's dpi, of a figure the plots make themselves.
MAX_PIXELS = 1800

_MARKERS = "osD^v<>pPX*hdH"
_LINESTYLES = ("-", "--", ":", "-.")
_DASHED = ("--", ":", "-.", (0, (3, 1, 1, 1, 1, 1)))


def _qualitative() -> list[tuple[float, ...]]:
    """Twenty distinct colours: tab10's ten, then tab20's lighter partner of each."""
    import matplotlib

    tab20 = matplotlib.colormaps["tab20"].colors
    return list(tab20[0::2]) + list(tab20[1::2])


def component_colour(k: int) -> tuple[float, ...]:
    """Colour of component ``k``: one of ten (K <= 10) or twenty, repeating beyond twenty.

    Beyond twenty components the colour repeats; :func:`component_marker` and
    :func:`component_linestyle` then tell the components apart.
    """
    colours = _qualitative()
    return colours[k % len(colours)]


def component_marker(k: int) -> str:
    """Point marker of component ``k``: circles, then another marker per round of colours."""
    return _MARKERS[(k // 20) % len(_MARKERS)]


def component_linestyle(k: int, *, dashed: bool = False) -> Any:
    """Line style of component ``k``: solid (or dashed), another per round of colours."""
    styles = _DASHED if dashed else _LINESTYLES
    return styles[(k // 20) % len(styles)]


def uncertainty_colormap() -> Any:
    """Dark for certain rows, through purple and red, to orange for the most uncertain.

    The inferno map cut before its pale-yellow end, so every row stays visible on white.
    """
    import matplotlib
    from matplotlib.colors import ListedColormap

    inferno = matplotlib.colormaps["inferno"]
    return ListedColormap(inferno(np.linspace(0.0, 0.8, 256)), name="uncertainty")


def point_size(n_rows: int) -> float:
    """Marker area (points^2) that keeps a few hundred rows bold and many thousands light."""
    return float(np.clip(3000.0 / max(n_rows, 1), 2.0, 14.0))


def bounded_size(width: float, height: float, dpi: float, max_pixels: int) -> tuple[float, float]:
    """``(width, height)`` in inches, scaled down so neither side exceeds ``max_pixels``."""
    factor = min(1.0, max_pixels / (dpi * max(width, height)))
    return width * factor, height * factor


def new_axes(ax: Any, figsize: tuple[float, float] = (5.5, 4.5)) -> Any:
    """``ax`` if given, else the Axes of a new figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize, layout="constrained").add_subplot()


def wrapped(label: str, width: int) -> str:
    """``label`` broken into lines of about ``width`` characters after ``_``, ``/`` or spaces."""
    import re

    if len(label) <= width:
        return label
    lines = [""]
    for piece in re.findall(r"[^_/ ]+[_/ ]*|[_/ ]+", label):
        if lines[-1] and len(lines[-1]) + len(piece.rstrip()) > width:
            lines.append("")
        lines[-1] += piece
    return "\n".join(line.rstrip() for line in lines)
