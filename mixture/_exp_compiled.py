"""A vectorisable exponential for compiled (numba) log-sum-exps.

A compiled E-step turns each row's K log-joints into responsibilities with K exponentials.
``math.exp`` is a call into the C library the compiler cannot vectorise (about 5 ns each,
a third of a compiled E-step's time at small D); numpy's own ``exp`` is vectorised but
needs the values in an array pass of their own. :func:`exp_nonpositive` computes the
exponential with arithmetic only, so a loop over the components becomes vector
instructions: ``exp(x) = 2^n exp(r)`` with ``n = round(x / log 2)``, ``r = x - n log 2``
(``log 2`` in two parts, Cody and Waite's reduction, so ``r`` is exact to a few ulp) and
``|r| <= log(2) / 2``, where the Taylor series to degree 12 is within 2e-16 of ``exp(r)``;
``2^n`` is assembled from its exponent bits. Measured on a million points of
``[-700, 0]`` against numpy's ``exp``: within 2 ulp with fused multiply-adds, 3 without
(``tests/test_compiled_fused.py`` allows 4).

The arguments of a log-sum-exp are ``<= 0`` (the row's maximum subtracted); those at or
below ``_EXP_FLOOR`` give exactly 0, as the numpy log-sum-exp
(:mod:`mixture._responsibilities`) gives: its exponents are floored there and
``exp(floor)`` subtracted.

Imported only when numba is available (:mod:`mixture._compiled`).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from mixture._responsibilities import _EXP_FLOOR

__all__ = ["exp_nonpositive"]

# exp(x) = 2^n exp(r), n = round(x / log 2), r = x - n log 2 (in two parts, Cody and Waite),
# |r| <= log(2) / 2, where the Taylor series to degree 12 is within 2e-16 of exp(r).
_LOG2_E = 1.4426950408889634
_LN2_HIGH = 6.93147180369123816490e-01
_LN2_LOW = 1.90821492927058770002e-10


# Fused multiply-adds in the polynomial (its error bound assumes them), whatever the caller.
@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def exp_nonpositive(values, bits, count):  # pragma: no cover - compiled
    """``values[:count] = exp(values[:count])`` for values in ``[_EXP_FLOOR, 0]``, 0 at or
    below the floor; ``bits`` (int64, at least ``count``) is scratch for the powers of 2."""
    powers = bits.view(np.float64)
    for k in range(count):
        x = max(values[k], _EXP_FLOOR)
        n = math.floor(x * _LOG2_E + 0.5)
        r = (x - n * _LN2_HIGH) - n * _LN2_LOW
        p = 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        bits[k] = (np.int64(n) + 1023) << 52  # 2^n, n >= -1010: a normal number
        values[k] = 0.0 if values[k] <= _EXP_FLOOR else p * powers[k]
