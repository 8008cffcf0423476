"""Independent gamma features: one shape and one rate per feature."""

from __future__ import annotations

import numpy as np
from numpy.polynomial.polynomial import polyval
from scipy.special import bernoulli, digamma, gammaln, polygamma

from mixture.constraints import positive, positive_reals
from mixture.declared import Parameter, WeightedSumsComponent
from mixture.exceptions import DegenerateComponentError
from mixture.twins import IndependentTwin

__all__ = ["Gamma", "gamma_shape"]

_RELATIVE_CHANGE = 1e-12
_MAX_ITERATIONS = 100
_SERIES_FROM = 10.0
# log(mean) - mean(log x) is a difference of weighted means whose rounding grows with the
# number of rows (about 350 eps relative for a million equal rows); below this many units of
# its magnitude it is rounding, not spread.
_UNRESOLVED = 1e-11
# B_2k / (2k) for k = 1..7: coefficients of x^2k in log(a) - digamma(a) - x/2, x = 1/a; the
# first term left out is below 1e-14 relative for a >= 10.
_EVEN = np.arange(2, 15, 2)
_STIRLING = bernoulli(14)[_EVEN] / _EVEN
_STIRLING_SLOPE = bernoulli(14)[_EVEN]  # the derivative's: 2k * B_2k / (2k)


def _log_minus_digamma(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log(a) - digamma(a)`` and its derivative ``1/a - trigamma(a)``, both accurate to
    round-off: for ``a >= 10`` by the asymptotic series
    ``1/(2a) + sum_k B_2k / (2k a^2k)`` (the direct differences cancel)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        value = np.log(a) - digamma(a)
        slope = 1.0 / a - polygamma(1, a)
        x = 1.0 / a
        series = x / 2 + x**2 * polyval(x**2, _STIRLING)
        series_slope = -(x**2) * (0.5 + x * polyval(x**2, _STIRLING_SLOPE))
    large = a >= _SERIES_FROM
    return np.where(large, series, value), np.where(large, series_slope, slope)


def gamma_shape(log_mean_minus_mean_log: np.ndarray) -> np.ndarray:
    """The maximum-likelihood gamma shape: the root ``a`` of ``log(a) - digamma(a) = s``.

    Minka's generalised Newton iteration, vectorised over features: starting from
    ``a0 = (3 - s + sqrt((s - 3)^2 + 24 s)) / (12 s)``, iterate
    ``1/a' = 1/a + (log(a) - digamma(a) - s) / (a^2 (1/a - trigamma(a)))`` until no
    entry changes by more than 1e-12 relative (at most 100 iterations; about four suffice).
    ``log(a) - digamma(a)`` is evaluated by its asymptotic series for ``a >= 10``, so the
    root is accurate to round-off also for small ``s`` (large shapes).

    Parameters
    ----------
    log_mean_minus_mean_log : ndarray of shape (n_features,)
        ``s = log(mean(x)) - mean(log(x))`` for each feature (weighted means), finite and
        ``> 0`` (Jensen's inequality; 0 only when all rows are equal).

    Returns
    -------
    ndarray of shape (n_features,)
        The shapes, ``> 0``; about ``1 / (2 s)`` for small ``s``.

    Raises
    ------
    ValueError
        If some ``s`` is not finite and positive.

    References
    ----------
    T. P. Minka, "Estimating a Gamma distribution", 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import digamma
    >>> a = gamma_shape(np.array([0.5, 1e-3]))
    >>> a.round(4).tolist()
    [1.1377, 500.1666]
    >>> bool(np.isclose(np.log(a[0]) - digamma(a[0]), 0.5, rtol=1e-12))
    True
    """
    s = np.asarray(log_mean_minus_mean_log, dtype=np.float64)
    if not (np.isfinite(s) & (s > 0)).all():
        raise ValueError(f"log(mean) - mean(log) must be finite and > 0; got {s.tolist()}")
    a = (3.0 - s + np.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)
    for _ in range(_MAX_ITERATIONS):
        value, slope = _log_minus_digamma(a)
        updated = 1.0 / (1.0 / a + (value - s) / (a * a * slope))
        converged = np.abs(updated - a) <= _RELATIVE_CHANGE * updated
        a = updated
        if converged.all():
            break
    return a


class Gamma(WeightedSumsComponent):
    """Independent gamma features,
    ``p(x) = prod_d rate_d^shape_d x_d^(shape_d - 1) exp(-rate_d x_d) / Gamma(shape_d)``.

    Parameters
    ----------
    shape : array-like of shape (n_features,)
        Shape of each feature, finite and ``> 0``.
    rate : array-like of shape (n_features,)
        Rate (inverse scale) of each feature, finite and ``> 0``.

    Notes
    -----
    **Support**: ``x > 0`` in every feature. Other rows have log-density ``-inf`` and are
    left out of the statistics; in a mixture another component may explain them.

    **M-step**: the weighted maximum-likelihood estimate from the weighted means of ``x``
    and ``log x``: the shape solves ``log(a) - digamma(a) = log(mean) - mean(log)``
    (:func:`gamma_shape`), and ``rate = shape / mean``. When every weighted row of a feature
    has the same value, ``log(mean) - mean(log)`` is 0 up to rounding and the shape would be
    infinite (the component collapsed onto a point): a
    :class:`~mixture.DegenerateComponentError` is raised.

    Examples
    --------
    >>> import numpy as np
    >>> g = Gamma(shape=[2.0], rate=[4.0])
    >>> g.log_density(np.array([[0.5], [0.0]])).round(4).tolist()
    [0.0794, -inf]
    >>> fitted = g.fit(np.array([[1.0], [2.0], [4.0]]))
    >>> fitted.shape.round(4).tolist(), fitted.rate.round(4).tolist()
    ([3.4012], [1.4577])
    """

    #: A product over features: a missing value is left out (EM with missing values).
    marginalizes_features = True
    shape = Parameter(positive, "Shapes, ndarray of shape (n_features,).")
    rate = Parameter(positive, "Rates (inverse scales), ndarray of shape (n_features,).")
    support = positive_reals

    mean = property(lambda self: self.shape / self.rate, doc="Mean, ``shape / rate``.")
    variance = property(lambda self: self.shape / self.rate**2, doc="``shape / rate**2``.")

    def log_density_inside(self, X: np.ndarray) -> np.ndarray:
        constant = (self.shape * np.log(self.rate) - gammaln(self.shape)).sum()
        return constant + ((self.shape - 1.0) * np.log(X) - self.rate * X).sum(axis=1)

    def row_features(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return X, np.log(X)

    def from_means(self, means: tuple[np.ndarray, ...], weight: float) -> Gamma:
        mean, mean_log = means
        with np.errstate(divide="ignore"):
            log_mean = np.log(mean)
        s = log_mean - mean_log  # +-inf if the mean overflowed or underflowed
        resolved = s > _UNRESOLVED * (1.0 + np.abs(log_mean) + np.abs(mean_log))
        if not resolved.all():
            j = int(np.argmin(resolved))
            raise DegenerateComponentError(
                f"feature {j} has no finite gamma shape: log(mean) - mean(log) is {s[j]:.3g}, "
                "so its weighted rows all have the same value up to rounding (the component "
                "collapsed onto a point) or their sum overflowed; use fewer components or "
                "rescale the data"
            )
        shape = gamma_shape(s)
        with np.errstate(over="ignore"):
            rate = shape / mean
        if not np.isfinite(rate).all():
            raise DegenerateComponentError(
                f"the gamma rate of feature {int(np.argmin(np.isfinite(rate)))} overflowed: its "
                "values are too close to 0 for their spread; rescale the data"
            )
        return self.replace(shape=shape, rate=rate)

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return rng.gamma(self.shape, 1.0 / self.rate, size=(n_samples, self.n_features))

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import gamma

        return IndependentTwin(
            [gamma(a, scale=1.0 / b) for a, b in zip(self.shape, self.rate, strict=True)]
        )
