"""Data sets bundled with the package."""

from __future__ import annotations

from importlib import resources

import numpy as np

__all__ = ["load_faithful"]


def load_faithful() -> tuple[np.ndarray, list[str]]:
    """Old Faithful geyser eruptions (Azzalini and Bowman 1990; R's ``datasets::faithful``).

    Returns
    -------
    X : ndarray of shape (272, 2)
        Eruption time (minutes) and waiting time to the next eruption (minutes).
    names : list of str
        ``["eruptions", "waiting"]``.
    """
    path = resources.files("mixture.datasets").joinpath("faithful.csv")
    with path.open("r", encoding="utf-8") as handle:
        names = handle.readline().strip().split(",")
        X = np.loadtxt(handle, delimiter=",", dtype=np.float64, ndmin=2)
    return X, names
