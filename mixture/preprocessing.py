"""Preprocessing a fit applied to its data, kept with the model so predictions repeat it.

A mixture fitted to standardised columns describes standardised data. To label, score or
sample in the data's own units, the same affine map must be applied to new rows (and undone
for samples); :class:`Standardization` holds it. Densities change by the map's Jacobian:
``log p_x(x) = log p_z(z) - sum_j log scale_j``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mixture._validation import check_data

__all__ = ["Standardization"]


class Standardization:
    """The affine map ``z = (x - center) / scale``, column by column.

    Parameters
    ----------
    center : array-like of shape (n_features,)
    scale : array-like of shape (n_features,)
        Positive and finite.
    """

    def __init__(self, center: Any, scale: Any) -> None:
        center = np.array(center, dtype=np.float64)
        scale = np.array(scale, dtype=np.float64)
        if center.ndim != 1 or center.shape != scale.shape or center.size == 0:
            raise ValueError(
                f"center and scale must be 1-D of the same length; got shapes {center.shape} "
                f"and {scale.shape}"
            )
        if not (np.isfinite(center).all() and np.isfinite(scale).all()):
            raise ValueError("center and scale must be finite")
        if not (scale > 0).all():
            feature = int(np.argmax(~(scale > 0)))
            raise ValueError(f"scale must be positive; feature {feature} has {scale[feature]}")
        self._center, self._scale = center, scale

    @classmethod
    def fit(cls, X: Any, names: list[str] | None = None) -> Standardization:
        """The mean and the (population) standard deviation of every column of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        names : list of str, optional
            Column names, used in the error for a constant column.

        Raises
        ------
        ValueError
            If a column is constant (it cannot be scaled).
        """
        data = check_data(X, allow_missing=True)
        # Columns are divided by a power of two near their largest magnitude first (exact),
        # so values too large to square, up to the float64 maximum, still give their mean
        # and spread. Missing values (NaN) are left out of both.
        _, exponent = np.frexp(np.nanmax(np.abs(data), axis=0).astype(np.float64))
        magnitude = np.ldexp(1.0, exponent)
        scaled = data / magnitude
        if np.isnan(scaled).any():
            center = np.nanmean(scaled, axis=0, dtype=np.float64) * magnitude
            scale = np.nanstd(scaled, axis=0, dtype=np.float64) * magnitude
        else:
            center = scaled.mean(axis=0, dtype=np.float64) * magnitude
            scale = scaled.std(axis=0, dtype=np.float64) * magnitude
        return cls.checked(center, scale, names)

    @classmethod
    def checked(
        cls, center: np.ndarray, scale: np.ndarray, names: list[str] | None = None
    ) -> Standardization:
        """The standardisation with this centre and scale (a column's mean and population
        standard deviation), refusing a constant column.

        Raises
        ------
        ValueError
            If a column's spread is 0 or at the float resolution of its values.
        """
        # A spread at the float resolution of the values is a constant column in disguise.
        resolution = 4 * np.finfo(np.float64).eps * np.abs(center)
        flat = ~(scale > resolution)
        if flat.any():
            j = int(np.argmax(flat))
            label = repr(names[j]) if names is not None else str(j)
            raise ValueError(f"column {label} is constant, so it cannot be standardized")
        return cls(center, scale)

    def __repr__(self) -> str:
        return f"Standardization(center={self._center.tolist()!r}, scale={self._scale.tolist()!r})"

    @property
    def center(self) -> np.ndarray:
        """ndarray of shape (n_features,)"""
        return self._center.copy()

    @property
    def scale(self) -> np.ndarray:
        """ndarray of shape (n_features,)"""
        return self._scale.copy()

    @property
    def n_features(self) -> int:
        return int(self._center.shape[0])

    @property
    def log_jacobian(self) -> float:
        """``log |dz/dx| = -sum_j log scale_j``: add it to a log-density in ``z``."""
        return -float(np.log(self._scale).sum())

    def transform(self, X: Any) -> np.ndarray:
        """Rows in the data's units to standardised rows, shape (n_samples, n_features)
        (a missing value, NaN, stays missing)."""
        data = check_data(X, n_features=self.n_features, allow_missing=True)
        return (data - self._center) / self._scale

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Standardised rows back to the data's units, shape (n_samples, n_features)."""
        data = np.asarray(Z, dtype=np.float64)
        return data * self._scale + self._center
