"""When a fitted Gaussian component is degenerate, and why.

The likelihood of a Gaussian mixture is unbounded: a component that shrinks onto one row,
onto rows sharing one value, or onto a lower-dimensional set of rows drives its density, and
the likelihood, towards infinity. EM then stops only because the regulariser ``reg_covar``
(or the float resolution) caps the variance. Such a fit is not a better model of the data,
it is an artefact, and its log-likelihood and criteria must not be compared with those of
proper fits. mclust reports these fits as NA; here they are *degenerate*.

A component ``k`` with mixing weight ``w_k`` over data of total weight ``n`` (so
``N_k = n w_k`` effective rows) is degenerate when

1. **too few rows**: ``N_k`` is at most ``D`` for a covariance with more free parameters
   than ``D`` (a full covariance needs ``D + 1`` rows to have full rank), at most 1 for one
   with at most ``D`` (diagonal, spherical); a shared (tied) covariance needs none per
   component;
2. **only the regulariser**: the smallest eigenvalue of its covariance exceeds
   ``reg_covar`` by at most 1% of ``reg_covar``: in some direction its rows have no
   spread, and the variance there is the regulariser's alone;
3. **below the data's resolution** (when the resolution is given): its variance in a
   column ``j``, regulariser excluded, is below ``delta_j^2 / 12``, where ``delta_j`` is the
   smallest gap between distinct values of that column: the variance of rounding to steps
   of ``delta_j``. Data recorded to whole minutes cannot support a component narrower than
   the rounding (Old Faithful's waiting times: a component on the 14 rows at exactly 83).

The rules live here; a family applies them through its ``degeneracies`` method (Gaussian
families do; other families report none), so the engine can warn without knowing
Gaussians.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mixture.model import Mixture

__all__ = ["Degeneracy", "column_resolution", "component_degeneracies", "find_degeneracies"]

REGULARISER_MARGIN = 0.01
"""A variance within this fraction of ``reg_covar`` above it is the regulariser's alone."""


@dataclass(frozen=True)
class Degeneracy:
    """Why one component of a fit is degenerate.

    Attributes
    ----------
    component : int
    reason : str
        One sentence, naming the numbers behind it.
    """

    component: int
    reason: str

    def __str__(self) -> str:
        return f"component {self.component}: {self.reason}"


def column_resolution(X: Any) -> np.ndarray:
    """The smallest gap between distinct values of each column.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_features,)
        ``0`` for a column with a single distinct value.
    """
    data = np.asarray(X)
    gaps = np.zeros(data.shape[1])
    for j in range(data.shape[1]):
        column = data[:, j]
        values = np.unique(column[~np.isnan(column)])  # missing values (NaN) left out
        if values.size > 1:
            gaps[j] = float(np.diff(values).min())
    return gaps


def component_degeneracies(
    covariances: np.ndarray,
    weights: np.ndarray,
    total_weight: float,
    reg_covar: float,
    needed_rows: float,
    resolution: np.ndarray | None = None,
) -> list[Degeneracy]:
    """The three rules above, for Gaussian components given by dense covariances.

    Parameters
    ----------
    covariances : ndarray of shape (n_components, n_features, n_features)
        Dense covariance matrices, ``reg_covar`` included.
    weights : ndarray of shape (n_components,)
    total_weight : float
        Rows (or summed row weight) of the fit.
    reg_covar : float
    needed_rows : float
        ``D + 1`` for a covariance with more than ``D`` free parameters per component, 2 for
        one with at most ``D``, 0 for a shared one (rule 1 flags ``N_k <= needed_rows - 1``).
    resolution : ndarray of shape (n_features,), optional
        :func:`column_resolution` of the data; without it rule 3 is not applied.

    Returns
    -------
    list of Degeneracy
        At most one per component: the first rule it breaks.
    """
    smallest = np.linalg.eigvalsh(covariances)[:, 0]
    variances = np.diagonal(covariances, axis1=1, axis2=2) - reg_covar
    found = []
    for k in np.flatnonzero(weights > 0):
        rows = total_weight * float(weights[k])
        if needed_rows > 0 and rows <= needed_rows - 1:
            reason = (
                f"{rows:.3g} effective rows, fewer than the {needed_rows:.0f} its covariance needs"
            )
        elif reg_covar > 0 and smallest[k] <= reg_covar * (1 + REGULARISER_MARGIN):
            reason = (
                f"its smallest variance ({smallest[k]:.3g}) is only the regulariser "
                f"reg_covar={reg_covar:g}: its rows have no spread in some direction"
            )
        else:
            reason = _below_resolution(variances[k], resolution)
        if reason is not None:
            found.append(Degeneracy(int(k), reason))
    return found


def find_degeneracies(
    mixture: Mixture,
    total_weight: float,
    resolution: np.ndarray | None = None,
) -> list[Degeneracy]:
    """The degenerate components of a fitted mixture (empty when there are none).

    Asks the mixture's family (:meth:`~mixture.family.ComponentFamily.degeneracies`):
    Gaussian families apply the rules above; other families report none.

    Parameters
    ----------
    mixture : Mixture
        A fitted mixture (a ``MixtureResult``).
    total_weight : float
        The number of rows (or summed row weight) it was fitted to.
    resolution : ndarray of shape (n_features,), optional
        :func:`column_resolution` of the data; without it rule 3 is not applied.
    """
    return mixture.family.degeneracies(mixture.weights, total_weight, resolution)


def _below_resolution(variances: np.ndarray, resolution: np.ndarray | None) -> str | None:
    if resolution is None:
        return None
    floor = resolution**2 / 12.0
    below = np.flatnonzero((resolution > 0) & (variances < floor))
    if below.size == 0:
        return None
    j = int(below[0])
    return (
        f"its variance in column {j} ({variances[j]:.3g}) is below the data's resolution "
        f"there (values {resolution[j]:.3g} apart: rounding alone gives {floor[j]:.3g})"
    )
