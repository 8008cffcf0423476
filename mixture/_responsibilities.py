"""Responsibilities from log-joint densities: a stable, in-place log-sum-exp.

Used by the mixture's E-step and prediction methods, and by the fused E-step of the
Gaussian kernels (:mod:`mixture.gaussian.kernels`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mixture.exceptions import DegenerateComponentError

__all__ = ["checked_row_maxima", "log_density_and_responsibilities", "rows_from"]

_NAN = (
    "the log-density of row {row} is NaN; its values may be too large to square in floating "
    "point: rescale the data"
)
_INFINITE = (
    "row {row} has infinite density under a component (a degenerate component); increase reg_covar"
)
_ZERO = (
    "row {row} has zero density under every component (log-density -inf): it lies outside "
    "every component's support, or its values are so extreme that the density underflows "
    "(then rescale the data)"
)


def _row_error(kind: type[ValueError], template: str, row: int) -> ValueError:
    """An error about one row, which remembers the row so :func:`rows_from` can renumber
    it."""
    error = kind(template.format(row=row))
    error.row, error.row_template = row, template  # type: ignore[attr-defined]
    return error


class rows_from:
    """Context manager renumbering the row named by a row error raised inside, for a block
    that starts at ``first_row`` of the caller's rows (nested blocks add up their offsets),
    or, given an integer array, for a block made of those rows of the caller's.

    A class rather than a generator-based context manager: it is entered once per block of
    rows, and a generator costs several times more per use.
    """

    __slots__ = ("first_row",)

    def __init__(self, first_row: int | np.ndarray) -> None:
        self.first_row = first_row

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if not isinstance(error, ValueError):
            return
        row = getattr(error, "row", None)
        if row is None:
            return
        if isinstance(self.first_row, np.ndarray):
            renumbered = int(self.first_row[row])
        elif self.first_row == 0:
            return
        else:
            renumbered = row + self.first_row
        raise _row_error(type(error), error.row_template, renumbered) from None


def checked_row_maxima(log_joint: np.ndarray) -> np.ndarray:
    """Row maxima of ``log w_k + log p_k(x)``, raising if a row has no finite value.

    Parameters
    ----------
    log_joint : ndarray of shape (n_samples, n_components)

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    top = log_joint.max(axis=1)
    if not np.isfinite(top).all():
        row = int(np.flatnonzero(~np.isfinite(top))[0])
        if np.isnan(top[row]):
            raise _row_error(DegenerateComponentError, _NAN, row)
        if top[row] > 0:
            raise _row_error(DegenerateComponentError, _INFINITE, row)
        raise _row_error(ValueError, _ZERO, row)
    return top


#: Floor of the float64 exponents in :func:`log_density_and_responsibilities`: exp(-700) = 9.9e-305
#: is a normal number, and exp runs on its fast path down to about -707.5.
_EXP_FLOOR = -700.0


def log_density_and_responsibilities(log_joint: np.ndarray) -> np.ndarray:
    """Turn ``log w_k + log p_k(x)`` into responsibilities in place; return ``log p(x)``.

    Parameters
    ----------
    log_joint : ndarray of shape (n_samples, n_components)
        Overwritten with the responsibilities (rows sum to 1).

    Returns
    -------
    ndarray of shape (n_samples,)
        ``log p(x) = logsumexp_k(log_joint)``.
    """
    top = checked_row_maxima(log_joint)
    log_joint -= top[:, None]
    if log_joint.dtype == np.float64:
        # exp is several times slower where its result underflows to a subnormal number or
        # to 0 (and near that range), which is most entries for well-separated components.
        # So the exponents are raised to a floor whose exp is a normal number, and
        # exp(floor) is subtracted: entries at the floor become exactly 0 (as the underflow
        # gives), the others move by less than 1e-304, far below any rounding error.
        np.maximum(log_joint, _EXP_FLOOR, out=log_joint)
        np.exp(log_joint, out=log_joint)
        log_joint -= np.exp(_EXP_FLOOR)
    else:  # float32's exp has no slow path for underflow
        np.exp(log_joint, out=log_joint)
    total = log_joint.sum(axis=1)
    log_joint /= total[:, None]
    return np.log(total) + top
