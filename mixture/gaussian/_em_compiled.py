"""One whole EM run of a Gaussian mixture as one compiled loop (numba), for small data.

On a few hundred rows an EM iteration of the numpy path costs a quarter of a millisecond,
almost all of it in the Python calls around the numbers (kernels, statistics objects,
callbacks, the acceleration's bookkeeping). A model selection runs thousands of them. This
module runs a complete run, E-steps, M-steps, SQUAREM's cycles and the stopping rule, in
one call, so a pass over 272 x 2 rows costs microseconds.

It computes what :class:`~mixture.engine.MixtureEM` with the default callbacks and
:class:`~mixture.acceleration.SQUAREM` (or no acceleration) computes, through other
summation orders: the E-step in two passes over the rows (responsibilities, weights and
means, then the scatter about those means), densities through the Cholesky factor ``L`` of
each covariance (``|L^-1 (x - mu)|^2``), SQUAREM's combination of statistics through
moments about the newest means. Covariances are dense ``(K, D, D)`` inside; a structure
takes part by its :class:`CompiledLayout` (which entries it estimates and whether the
components share them), never by its name. With a conjugate prior
(:class:`~mixture.gaussian.ConjugatePrior`) the M-step is the MAP one of the structure, and
SQUAREM's safeguard compares log-posteriors (the prior's normalising constants, equal on
both sides, left out).

Whatever the numpy path would treat as an error or a special case (a component left
empty, a covariance that is not positive definite or is below the resolution of its mean,
a row whose density is not finite) ends the compiled run with ``FALLBACK``; the caller then
runs the numpy path from the same start, which raises or warns as it always does.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mixture._responsibilities import _EXP_FLOOR

__all__ = ["CONVERGED", "FALLBACK", "MAX_ITER", "run_em"]

CONVERGED = 0
MAX_ITER = 1
FALLBACK = 2

_LOG_2PI = math.log(2.0 * math.pi)
_RESOLUTION_FACTOR = 16.0 * float(np.finfo(np.float64).eps)
_EXP_AT_FLOOR = math.exp(_EXP_FLOOR)

# Outcomes of an M-step.
_OK = 0
_FAILED = 1  # the numpy path raises (its run ends, or an extrapolation is rejected)
_UNCLEAR = 2  # only the numpy path's exact eigenvalue test can tell: hand the run over


@njit(cache=True, nogil=True)
def _factor(cov, means, entries, L, half_log_det, inverse):
    """Cholesky factors ``L`` (lower) of the covariances and ``-sum log L_jj``; the
    collapse test of the numpy path (a smallest variance at or below the resolution of the
    component's mean)."""
    K, D = means.shape
    for k in range(K):
        largest = 0.0
        for j in range(D):
            largest = max(largest, abs(means[k, j]))
        resolution = (_RESOLUTION_FACTOR * largest) ** 2
        total = 0.0
        if entries < 2:  # diagonal covariances: the smallest variance is exact
            smallest = np.inf
            for j in range(D):
                v = cov[k, j, j]
                if not (v > 0.0 and v < np.inf):
                    return _FAILED
                smallest = min(smallest, v)
                L[k, j, j] = math.sqrt(v)
                total -= math.log(L[k, j, j])
            if smallest <= resolution:
                return _FAILED
        else:
            for j in range(D):
                s = cov[k, j, j]
                for p in range(j):
                    s -= L[k, j, p] * L[k, j, p]
                if not (s > 0.0 and s < np.inf):
                    return _FAILED
                d = math.sqrt(s)
                L[k, j, j] = d
                total -= math.log(d)
                for i in range(j + 1, D):
                    t = cov[k, i, j]
                    for p in range(j):
                        t -= L[k, i, p] * L[k, j, p]
                    L[k, i, j] = t / d
            # The numpy path's bound: lambda_min >= 1 / |L^-1|_F^2; where the bound is not
            # clear of the resolution, it decides by the exact eigenvalue.
            squares = 0.0
            for c in range(D):  # column c of L^-1 by forward substitution
                for i in range(D):
                    t = 1.0 if i == c else 0.0
                    for p in range(c, i):
                        t -= L[k, i, p] * inverse[p]
                    inverse[i] = t / L[k, i, i] if i >= c else 0.0
                    squares += inverse[i] * inverse[i]
            if not 1.0 / squares > resolution:
                return _UNCLEAR
        half_log_det[k] = total
    return _OK


@njit(cache=True, nogil=True)
def _e_step(X, w, means, L, half_log_det, log_weights, entries, resp, Nk, mean, scatter):
    """Responsibilities and the statistics ``N_k``, means and centred scatter (dense,
    diagonal only when ``entries < 2``); returns the weighted total log-likelihood, NaN when
    a row's log-likelihood is not finite.

    The component index is innermost in every loop over a row (arrays ``(..., K)``), so
    each step is one vector operation over the K components. Distances are
    ``|U_k y - c_k|^2`` with ``U_k = L_k^-1``, ``y`` the row shifted by the mean of the
    means and ``c_k = U_k (mu_k - shift)``, as the numpy path shifts its rows."""
    N, D = X.shape
    K = means.shape[0]
    # U[j, p, :] for p <= j (the inverse factors, one vector over K per entry) and c[j, :].
    U = np.zeros((D, D, K))
    c = np.zeros((D, K))
    shift = np.zeros(D)
    for k in range(K):
        for j in range(D):
            shift[j] += means[k, j] / K
    for k in range(K):
        for col in range(D):  # column col of L_k^-1 by forward substitution
            if entries < 2:
                U[col, col, k] = 1.0 / L[k, col, col]
                continue
            for j in range(col, D):
                t = 1.0 if j == col else 0.0
                for p in range(col, j):
                    t -= L[k, j, p] * U[p, col, k]
                U[j, col, k] = t / L[k, j, j]
        for j in range(D):
            for p in range(j + 1):
                c[j, k] += U[j, p, k] * (means[k, p] - shift[p])
    base = np.empty(K)
    for k in range(K):
        base[k] = log_weights[k] + half_log_det[k] - 0.5 * D * _LOG_2PI
    zk = np.empty((D, K))
    q = np.empty(K)
    sums = np.zeros((D, K))
    count = np.zeros(K)
    total = 0.0
    for i in range(N):
        for j in range(D):
            for k in range(K):
                zk[j, k] = -c[j, k]
        for j in range(D):
            for p in range(j + 1 if entries == 2 else 1):
                col = p if entries == 2 else j
                y = X[i, col] - shift[col]
                for k in range(K):
                    zk[j, k] += U[j, col, k] * y
        for k in range(K):
            q[k] = 0.0
        for j in range(D):
            for k in range(K):
                q[k] += zk[j, k] * zk[j, k]
        top = -np.inf
        for k in range(K):
            q[k] = base[k] - 0.5 * q[k]
            top = max(top, q[k])
        if not (top > -np.inf and top < np.inf):
            return np.nan
        summed = 0.0
        for k in range(K):
            # The numpy path's floor (mixture._responsibilities): an exponent at or below
            # it gives exactly 0, so a component numpy empties is empty here too.
            q[k] = math.exp(max(q[k] - top, _EXP_FLOOR)) - _EXP_AT_FLOOR
            summed += q[k]
        row = top + math.log(summed)
        if not (row > -np.inf and row < np.inf):
            return np.nan
        total += w[i] * row
        share = w[i] / summed
        for k in range(K):
            resp[i, k] = q[k] * share
            count[k] += resp[i, k]
        for j in range(D):
            x = X[i, j]
            for k in range(K):
                sums[j, k] += resp[i, k] * x
    for k in range(K):
        for j in range(D):
            if count[k] > 0.0:
                sums[j, k] /= count[k]
    # The scatter about the means, per entry (a, b <= a) a vector over K.
    spread = np.zeros((D, D, K))
    d = np.empty((D, K))
    for i in range(N):
        for a in range(D):
            x = X[i, a]
            for k in range(K):
                d[a, k] = x - sums[a, k]
        for a in range(D):
            for b in range(a + 1 if entries == 2 else 1):
                col = b if entries == 2 else a
                for k in range(K):
                    spread[a, col, k] += resp[i, k] * d[a, k] * d[col, k]
    Nk[:] = 0.0
    scatter[:] = 0.0
    for k in range(K):
        Nk[k] = count[k]
        for a in range(D):
            mean[k, a] = sums[a, k]
            if entries == 2:
                for b in range(a + 1):
                    scatter[k, a, b] = spread[a, b, k]
                    scatter[k, b, a] = spread[a, b, k]
            else:
                scatter[k, a, a] = spread[a, a, k]
    return total


@njit(cache=True, nogil=True)
def _m_step(Nk, mean, scatter, entries, pooled, reg, prior, means, cov, log_weights):
    """The structure's M-step from the statistics: means, dense covariances (with ``reg``
    on the diagonal) and log-weights; the MAP M-step of the conjugate prior when ``prior``
    has one (see :func:`run_em`). False when a component has no positive weight or a
    MAP divisor is not positive (the numpy path raises there)."""
    prior_mean, prior_scale, prior_values = prior
    K, D = mean.shape
    has_prior = prior_values[0] > 0.0
    kappa = prior_values[1]
    dof = prior_values[2]
    mean_prior = 1.0 if has_prior and kappa > 0.0 else 0.0
    weight_sum = 0.0
    for k in range(K):
        if not Nk[k] > 0.0:
            return False
        weight_sum += Nk[k]
    cov[:] = 0.0
    for k in range(K):
        log_weights[k] = math.log(Nk[k] / weight_sum)
        # The numerators: W_k, plus c_k d_k d_k^T with a prior (d_k = xbar_k - mu_P).
        factor = Nk[k] * kappa / (Nk[k] + kappa) if has_prior else 0.0
        t = 0 if pooled else k
        for a in range(D):
            da = mean[k, a] - prior_mean[a]
            for b in range(D):
                cov[t, a, b] += scatter[k, a, b] + factor * da * (mean[k, b] - prior_mean[b])
            if has_prior:
                means[k, a] = (Nk[k] * mean[k, a] + kappa * prior_mean[a]) / (Nk[k] + kappa)
            else:
                means[k, a] = mean[k, a]
    for t in range(1 if pooled else K):
        weight = weight_sum if pooled else Nk[t]
        if entries == 2:
            divisor = weight
            if has_prior:
                divisor = dof + weight + D + 1.0 + (K if pooled else 1.0) * mean_prior
            if not divisor > 0.0:
                return False
            for a in range(D):
                for b in range(a + 1):
                    value = cov[t, a, b] + (prior_scale[a, b] if has_prior else 0.0)
                    mirror = cov[t, b, a] + (prior_scale[b, a] if has_prior else 0.0)
                    cov[t, a, b] = 0.5 * (value + mirror) / divisor
                    cov[t, b, a] = cov[t, a, b]
                cov[t, a, a] += reg
        elif entries == 1:
            divisor = dof + weight + 2.0 + mean_prior if has_prior else weight
            if not divisor > 0.0:
                return False
            for a in range(D):
                extra = prior_scale[a, a] if has_prior else 0.0
                cov[t, a, a] = (cov[t, a, a] + extra) / divisor + reg
        else:
            divisor = dof + weight * D + 2.0 + D * mean_prior if has_prior else weight * D
            if not divisor > 0.0:
                return False
            trace = prior_scale[0, 0] if has_prior else 0.0
            for a in range(D):
                trace += cov[t, a, a]
            for a in range(D):
                cov[t, a, a] = trace / divisor + reg
        if entries < 2:
            for a in range(D):
                for b in range(D):
                    if a != b:
                        cov[t, a, b] = 0.0
    if pooled:
        for k in range(1, K):
            cov[k] = cov[0]
    return True


@njit(cache=True, nogil=True)
def _log_prior(means, cov, L, half_log_det, entries, pooled, prior):
    """The parts of the prior's log-density that depend on the parameters (its
    normalising constants, equal for any parameters of the model, are left out): the
    inverse-Wishart kernel ``(nu + D + 1) log det(P)^(1/2) - tr(Lambda P) / 2`` of each
    matrix (one when pooled) or the inverse-gamma ``-(nu / 2 + 1) log s - lambda / (2 s)``
    of each variance, and ``log det(P_k)^(1/2) - kappa |mu_k - mu_P|^2_{P_k} / 2`` with a
    mean prior."""
    prior_mean, prior_scale, prior_values = prior
    K, D = means.shape
    kappa = prior_values[1]
    dof = prior_values[2]
    total = 0.0
    inverse = np.zeros((D, D))
    z = np.empty(D)
    if entries == 2:
        for k in range(1 if pooled else K):
            for col in range(D):  # L_k^-1 by forward substitution
                for i in range(col, D):
                    t = 1.0 if i == col else 0.0
                    for p in range(col, i):
                        t -= L[k, i, p] * inverse[p, col]
                    inverse[i, col] = t / L[k, i, i]
            trace = 0.0  # tr(Lambda P) = sum_i (U Lambda U^T)_ii, U = L^-1
            for i in range(D):
                for a in range(i + 1):
                    for b in range(i + 1):
                        trace += inverse[i, a] * prior_scale[a, b] * inverse[i, b]
            total += (dof + D + 1.0) * half_log_det[k] - 0.5 * trace
    else:
        for k in range(K):
            for j in range(D if entries == 1 else 1):
                v = cov[k, j, j]
                scale = prior_scale[j, j] if entries == 1 else prior_scale[0, 0]
                total += -(0.5 * dof + 1.0) * math.log(v) - 0.5 * scale / v
    if kappa > 0.0:
        for k in range(K):
            distance = 0.0
            for j in range(D):
                t = means[k, j] - prior_mean[j]
                for p in range(j):
                    t -= L[k, j, p] * z[p]
                t /= L[k, j, j]
                z[j] = t
                distance += t * t
            total += half_log_det[k] - 0.5 * kappa * distance
    return total


@njit(cache=True, nogil=True)
def _squares(c0, c1, c2):
    """``r^2`` and ``v^2`` of one coordinate: ``r = c1 - c0``, ``v = (c2 - c1) - r``."""
    r = c1 - c0
    v = (c2 - c1) - r
    return r * r, v * v


@njit(cache=True, nogil=True)
def _step_length(Nk, mean, scatter, s0, s1, s2, entries, pooled_statistics):
    """SQUAREM's S3 step ``|r| / |v|`` over the coordinates of the numpy path's statistics
    (``N_k`` twice, the means, the scatter in the form's shape); 1 when undefined."""
    K, D = mean.shape[1], mean.shape[2]
    r2 = 0.0
    v2 = 0.0
    for k in range(K):
        r, v = _squares(Nk[s0, k], Nk[s1, k], Nk[s2, k])
        r2 += 2.0 * r
        v2 += 2.0 * v
        for j in range(D):
            r, v = _squares(mean[s0, k, j], mean[s1, k, j], mean[s2, k, j])
            r2 += r
            v2 += v
    # The scatter as the form stores it, each coordinate a sum of `n_terms` dense entries:
    # one pooled matrix (sums over components), traces (sums over the diagonal), diagonals
    # or whole matrices.
    pooled = entries == 2 and pooled_statistics
    if pooled:
        n_coordinates, n_terms = D * D, K
    elif entries == 0:
        n_coordinates, n_terms = K, D
    elif entries == 1:
        n_coordinates, n_terms = K * D, 1
    else:
        n_coordinates, n_terms = K * D * D, 1
    for c in range(n_coordinates):
        c0 = 0.0
        c1 = 0.0
        c2 = 0.0
        for t in range(n_terms):
            if pooled:
                k, a, b = t, c // D, c % D
            elif entries == 0:
                k, a, b = c, t, t
            elif entries == 1:
                k, a, b = c // D, c % D, c % D
            else:
                k, a, b = c // (D * D), (c // D) % D, c % D
            c0 += scatter[s0, k, a, b]
            c1 += scatter[s1, k, a, b]
            c2 += scatter[s2, k, a, b]
        r, v = _squares(c0, c1, c2)
        r2 += r
        v2 += v
    if not (np.isfinite(r2) and np.isfinite(v2)) or v2 <= 0.0 or r2 <= 0.0:
        return 1.0
    return math.sqrt(r2 / v2)


@njit(cache=True, nogil=True)
def _combine(Nk, mean, scatter, s0, s1, s2, alpha, out, entries):
    """Statistics ``(1 - a)^2 s0 + 2 a (1 - a) s1 + a^2 s2`` into slot ``out``, through
    moments about the means of ``s2``; False when a combined weight is not positive."""
    K, D = mean.shape[1], mean.shape[2]
    c = np.array([(1.0 - alpha) ** 2, 2.0 * alpha * (1.0 - alpha), alpha**2])
    slots = (s0, s1, s2)
    for k in range(K):
        weight = 0.0
        for m in range(3):
            weight += c[m] * Nk[slots[m], k]
        if not (weight > 0.0 and weight < np.inf):
            return False
        for j in range(D):
            shift = 0.0
            for m in range(3):
                shift += c[m] * Nk[slots[m], k] * (mean[slots[m], k, j] - mean[s2, k, j])
            mean[out, k, j] = shift / weight  # relative to s2's mean for now
        for a in range(D):
            for b in range(D):
                if entries < 2 and a != b:
                    scatter[out, k, a, b] = 0.0
                    continue
                value = 0.0
                for m in range(3):
                    s = slots[m]
                    da = mean[s, k, a] - mean[s2, k, a]
                    db = mean[s, k, b] - mean[s2, k, b]
                    value += c[m] * (scatter[s, k, a, b] + Nk[s, k] * da * db)
                scatter[out, k, a, b] = value - weight * mean[out, k, a] * mean[out, k, b]
        for j in range(D):
            mean[out, k, j] += mean[s2, k, j]
        Nk[out, k] = weight
    return True


@njit(cache=True, nogil=True)
def _move(means, cov, L, half_log_det, log_weights, weight, source):
    """Copy parameter slot ``source`` into slot 0 (the next cycle's start)."""
    means[0] = means[source]
    cov[0] = cov[source]
    L[0] = L[source]
    half_log_det[0] = half_log_det[source]
    log_weights[0] = log_weights[source]
    weight[0] = weight[source]


@njit(cache=True, nogil=True)
def run_em(
    X,
    w,
    total_weight,
    start_means,
    start_cov,
    start_log_weights,
    entries,
    pooled,
    pooled_statistics,
    reg,
    prior,
    tol,
    max_iter,
    previous,
    accelerate,
    step_min,
    step_max0,
    mstep,
):
    """One EM run; see the module docstring.

    ``prior`` is ``(mean (D,), scale (D, D), [has_prior, kappa, dof])``: the conjugate
    prior's parameters, its scale as a dense matrix (a diagonal of variances' scales, or
    the one scale at ``[0, 0]``), and a flag (0: maximum likelihood, the others unused).

    Returns
    -------
    status : int
        ``CONVERGED``, ``MAX_ITER`` or ``FALLBACK``.
    history : ndarray of shape (n_accepted,)
        Mean log-likelihood per row of every accepted step.
    passes, rejected : int
        Passes over the rows, and rejected extrapolations (SQUAREM).
    means : ndarray of shape (K, D)
    covariances : ndarray of shape (K, D, D)
    weight : ndarray of shape (K,)
        ``N_k`` of the last accepted step: the mixing weights are their proportions.
    """
    N, D = X.shape
    K = start_means.shape[0]
    # Parameter slots: 0..4 (current, theta1, theta2, theta3, tried).
    P_means = np.zeros((5, K, D))
    P_cov = np.zeros((5, K, D, D))
    P_L = np.zeros((5, K, D, D))
    P_hld = np.zeros((5, K))
    P_logw = np.zeros((5, K))
    P_Nk = np.zeros((5, K))
    # Statistics slots: 0..3 (s0, s1, s2, tried), rotated.
    S_Nk = np.zeros((4, K))
    S_mean = np.zeros((4, K, D))
    S_scatter = np.zeros((4, K, D, D))
    S_ll = np.zeros(4)
    resp = np.empty((N, K))
    inverse = np.empty(D)
    history = np.empty(min(max_iter, 1000) + 4)  # grown below if a run needs more
    n_history = 0
    passes = 0
    rejected = 0

    P_means[0] = start_means
    P_cov[0] = start_cov
    P_logw[0] = start_log_weights
    if _factor(P_cov[0], P_means[0], entries, P_L[0], P_hld[0], inverse) != _OK:
        return FALLBACK, history[:0], passes, rejected, P_means[0], P_cov[0], P_Nk[0]

    step_max = step_max0
    known = -1  # statistics slot of the parameters in slot 0 when their E-step is done
    while True:
        # Up to three accepted EM steps per cycle (one without acceleration): from the
        # parameters in slot m, statistics s_m, and the M-step's parameters in slot m + 1.
        source = 0
        for m in range(3 if accelerate else 1):
            s = m
            if m == 0 and known >= 0:
                s = known
            else:
                passes += 1
                total = _e_step(
                    X, w, P_means[source], P_L[source], P_hld[source], P_logw[source],
                    entries, resp, S_Nk[s], S_mean[s], S_scatter[s],
                )  # fmt: skip
                if not np.isfinite(total):
                    return FALLBACK, history[:0], passes, rejected, P_means[0], P_cov[0], P_Nk[0]
                S_ll[s] = total / total_weight
            if m == 0 and known >= 0 and s != 0:  # the tried statistics become s0
                S_Nk[0] = S_Nk[s]
                S_mean[0] = S_mean[s]
                S_scatter[0] = S_scatter[s]
                S_ll[0] = S_ll[s]
                s = 0
            # Accept: change, M-step, history, the stopping rule.
            log_likelihood = S_ll[s]
            last = history[n_history - 1] if n_history else previous
            change = log_likelihood - last
            t = m + 1
            if not _m_step(
                S_Nk[s], S_mean[s], S_scatter[s], entries, pooled, reg, prior,
                P_means[t], P_cov[t], P_logw[t],
            ):  # fmt: skip
                return FALLBACK, history[:0], passes, rejected, P_means[0], P_cov[0], P_Nk[0]
            P_Nk[t] = S_Nk[s]
            if _factor(P_cov[t], P_means[t], entries, P_L[t], P_hld[t], inverse) != _OK:
                return FALLBACK, history[:0], passes, rejected, P_means[0], P_cov[0], P_Nk[0]
            if n_history == history.shape[0]:
                longer = np.empty(2 * n_history)
                longer[:n_history] = history
                history = longer
            history[n_history] = log_likelihood
            n_history += 1
            status = -1
            if abs(change) < tol:
                status = CONVERGED
            elif passes >= max_iter:
                status = MAX_ITER
            if status >= 0:
                return status, history[:n_history], passes, rejected, P_means[t], P_cov[t], P_Nk[t]
            source = t
            known = -1
        if not accelerate:
            _move(P_means, P_cov, P_L, P_hld, P_logw, P_Nk, 1)
            continue
        alpha = _step_length(S_Nk, S_mean, S_scatter, 0, 1, 2, entries, pooled_statistics)
        alpha = max(step_min, min(step_max, alpha))
        extrapolated = False
        if alpha != 1.0:
            if _combine(S_Nk, S_mean, S_scatter, 0, 1, 2, alpha, 3, entries) and _m_step(
                S_Nk[3], S_mean[3], S_scatter[3], entries, pooled, reg, prior,
                P_means[4], P_cov[4], P_logw[4],
            ):  # fmt: skip
                outcome = _factor(P_cov[4], P_means[4], entries, P_L[4], P_hld[4], inverse)
                if outcome == _UNCLEAR:
                    return FALLBACK, history[:0], passes, rejected, P_means[0], P_cov[0], P_Nk[0]
                if outcome == _OK:
                    P_Nk[4] = S_Nk[3]
                    passes += 1
                    total = _e_step(
                        X, w, P_means[4], P_L[4], P_hld[4], P_logw[4],
                        entries, resp, S_Nk[3], S_mean[3], S_scatter[3],
                    )  # fmt: skip
                    objective = total / total_weight
                    reference = S_ll[2]  # the objective at theta2, whose E-step gave s2
                    if prior[2][0] > 0.0 and np.isfinite(total):
                        tried_prior = _log_prior(
                            P_means[4], P_cov[4], P_L[4], P_hld[4], entries, pooled, prior
                        )
                        last_prior = _log_prior(
                            P_means[2], P_cov[2], P_L[2], P_hld[2], entries, pooled, prior
                        )
                        objective += tried_prior / total_weight
                        reference += last_prior / total_weight
                    if np.isfinite(total) and objective >= reference:
                        S_ll[3] = total / total_weight
                        extrapolated = True
            if not extrapolated:
                rejected += 1
                if alpha == step_max:
                    step_max = max(step_max0, step_max / mstep)
                alpha = 1.0
        _move(P_means, P_cov, P_L, P_hld, P_logw, P_Nk, 4 if extrapolated else 3)
        known = 3 if extrapolated else -1
        if alpha == step_max:
            step_max *= mstep
