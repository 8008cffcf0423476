"""Gaussian densities and E-step statistics of rows with missing values (NaN).

Under missing at random the observed-data likelihood of a row marginalises its missing
coordinates: with observed coordinates ``O`` and missing ``M``, component ``k`` gives
``x_O ~ N(mu_O, Sigma_OO)``. EM then needs, for each component, the conditional law of the
missing coordinates given the observed ones (Ghahramani and Jordan 1994; Little and Rubin,
ch. 11)::

    E[x_M | x_O]   = mu_M + Sigma_MO Sigma_OO^-1 (x_O - mu_O)
    Cov[x_M | x_O] = Sigma_MM - Sigma_MO Sigma_OO^-1 Sigma_OM

and the M-step's statistics are those of the completed rows ``x_hat`` (missing values
replaced by their conditional means) with the conditional covariance added to the scatter:
``sum_n r_nk [(x_hat - mu)(x_hat - mu)^T + C_k]``. Rows are grouped by their pattern of
missing values, so the work is a few batched factorisations and products per pattern and
component set, not a loop over rows.
"""

from __future__ import annotations

import numpy as np

from mixture._missing import missing_patterns

__all__ = ["completed_rows", "missing_patterns", "observed_log_density", "observed_moments"]

_LOG_2PI = float(np.log(2.0 * np.pi))


def _blocks(covariances: np.ndarray, observed: np.ndarray):
    """``Sigma_OO``, ``Sigma_MO`` and ``Sigma_MM`` of every component, ``(K, ., .)``."""
    missing = ~observed
    c_oo = covariances[:, observed][:, :, observed]
    c_mo = covariances[:, missing][:, :, observed]
    c_mm = covariances[:, missing][:, :, missing]
    return c_oo, c_mo, c_mm


def observed_log_density(X: np.ndarray, means: np.ndarray, covariances: np.ndarray) -> np.ndarray:
    """``log N(x_O; mu_kO, Sigma_kOO)`` of each row's observed values under each component.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        NaN marks a missing value; every row has at least one observed value.
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray of shape (n_components, n_features, n_features)
        Dense covariance matrices.

    Returns
    -------
    ndarray of shape (n_samples, n_components), float64
    """
    out = np.empty((X.shape[0], means.shape[0]))
    for observed, rows in missing_patterns(X):
        c_oo, _, _ = _blocks(covariances, observed)
        lower = np.linalg.cholesky(c_oo)  # (K, o, o)
        centred = X[rows][:, observed][None, :, :] - means[:, None, observed]  # (K, n, o)
        whitened = np.linalg.solve(lower, centred.transpose(0, 2, 1))  # (K, o, n)
        distance = np.einsum("kon,kon->kn", whitened, whitened)
        log_det = 2.0 * np.log(np.diagonal(lower, axis1=1, axis2=2)).sum(axis=1)
        n_observed = int(observed.sum())
        out[rows] = (-0.5 * (distance + log_det[:, None] + n_observed * _LOG_2PI)).T
    return out


def observed_moments(
    X: np.ndarray, weights: np.ndarray, means: np.ndarray, covariances: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weight, weighted mean and full centred scatter of the completed rows.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        NaN marks a missing value.
    weights : ndarray of shape (n_samples, n_components)
        Responsibilities times row weights.
    means, covariances : the components' current parameters (dense covariances
        ``(K, D, D)``), which define the conditional laws of the missing values.

    Returns
    -------
    weight : ndarray of shape (n_components,)
    mean : ndarray of shape (n_components, n_features)
        ``sum_n r_nk x_hat_nk / N_k`` (the current mean where ``N_k`` is 0).
    scatter : ndarray of shape (n_components, n_features, n_features)
        ``sum_n r_nk [(x_hat_nk - mean_k)(x_hat_nk - mean_k)^T + C_nk]``.
    """
    n_components, n_features = means.shape
    weight = weights.sum(axis=0)
    offsets = np.zeros((n_components, n_features))  # sum r (x_hat - mu)
    second = np.zeros((n_components, n_features, n_features))  # about mu, plus C
    for observed, rows in missing_patterns(X):
        missing = ~observed
        r = weights[rows].T  # (K, n)
        centred = np.empty((n_components, rows.shape[0], n_features))  # x_hat - mu
        centred[:, :, observed] = X[rows][:, observed][None, :, :] - means[:, None, observed]
        pattern_weight = r.sum(axis=1)
        if missing.any():
            c_oo, c_mo, c_mm = _blocks(covariances, observed)
            lower = np.linalg.cholesky(c_oo)
            whitened = np.linalg.solve(lower, centred[:, :, observed].transpose(0, 2, 1))
            # Sigma_MO Sigma_OO^-1 (x_O - mu_O) = (L^-1 Sigma_OM)^T L^-1 (x_O - mu_O)
            projected = np.linalg.solve(lower, c_mo.transpose(0, 2, 1))  # (K, o, m)
            conditional = np.einsum("kom,kon->knm", projected, whitened)
            centred[:, :, missing] = conditional
            spread = c_mm - np.einsum("kom,kop->kmp", projected, projected)  # (K, m, m)
            index = np.flatnonzero(missing)
            second[:, index[:, None], index[None, :]] += pattern_weight[:, None, None] * spread
        offsets += np.einsum("kn,knd->kd", r, centred)
        second += np.einsum("kn,knd,kne->kde", r, centred, centred)
    shift = np.divide(
        offsets, weight[:, None], out=np.zeros_like(offsets), where=weight[:, None] > 0
    )
    scatter = second - weight[:, None, None] * shift[:, :, None] * shift[:, None, :]
    return weight, means + shift, scatter


def completed_rows(
    X: np.ndarray, means: np.ndarray, covariances: np.ndarray
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Each row completed under each component, and the conditional covariances.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        NaN marks a missing value.
    means, covariances : the components' parameters (dense covariances ``(K, D, D)``).

    Returns
    -------
    completed : ndarray of shape (n_components, n_samples, n_features)
        Observed values kept, missing ones replaced by ``E_k[x_M | x_O]``.
    spreads : list of (rows, missing, covariance)
        Per pattern with missing values: its rows, the boolean mask of missing features and
        ``Cov_k[x_M | x_O]`` of shape ``(K, m, m)``.
    """
    n_components = means.shape[0]
    completed = np.broadcast_to(X, (n_components, *X.shape)).copy()
    spreads = []
    for observed, rows in missing_patterns(X):
        missing = ~observed
        if not missing.any():
            continue
        c_oo, c_mo, c_mm = _blocks(covariances, observed)
        lower = np.linalg.cholesky(c_oo)
        centred = X[rows][:, observed][None, :, :] - means[:, None, observed]
        whitened = np.linalg.solve(lower, centred.transpose(0, 2, 1))
        projected = np.linalg.solve(lower, c_mo.transpose(0, 2, 1))
        conditional = np.einsum("kom,kon->knm", projected, whitened) + means[:, None, missing]
        completed[:, rows[:, None], np.flatnonzero(missing)[None, :]] = conditional
        spreads.append((rows, missing, c_mm - np.einsum("kom,kop->kmp", projected, projected)))
    return completed, spreads
