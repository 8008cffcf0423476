"""Independent over-dispersed counts: a negative binomial (gamma-Poisson) per feature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.optimize import brentq
from scipy.special import betaln, digamma, xlogy

from mixture.constraints import counts, non_negative, positive
from mixture.contract import Capabilities, Statistics
from mixture.declared import DeclaredComponent, Parameter
from mixture.twins import IndependentTwin

__all__ = ["CountHistogram", "NegativeBinomial"]

#: The bracket of the M-step's size: below the floor or above the cap it stops.
MIN_SIZE = 1e-8
MAX_SIZE = 1e8


@dataclass(frozen=True, eq=False)
class CountHistogram(Statistics):
    """The weighted histogram of counts of each feature, stored sparsely.

    ``values[j]`` holds the distinct counts of feature ``j`` that carry weight, in increasing
    order, and ``mass[j]`` the summed row weight at each: ``mass[j][i] = sum of w over the
    rows with x_j = values[j][i]``. Only the counts present are stored, so a chunk with one
    count of ten million costs one entry, not a dense histogram of ten million bins; adding
    two histograms merges their values, whatever their maxima.

    Attributes
    ----------
    owner : type
        The component class that made them.
    weight : float
        ``sum_i w_i`` over the rows summarised.
    values : tuple of ndarray
        One float64 array of shape ``(n_values[j],)`` per feature.
    mass : tuple of ndarray
        One float64 array of the same shape as ``values[j]`` per feature.
    """

    owner: type
    weight: float
    values: tuple[np.ndarray, ...]
    mass: tuple[np.ndarray, ...]

    def __add__(self, other: Statistics) -> CountHistogram:
        if not isinstance(other, CountHistogram) or other.owner is not self.owner:
            return NotImplemented
        if len(other.values) != len(self.values):
            raise ValueError(
                f"cannot add count histograms of {len(self.values)} and {len(other.values)} "
                "features"
            )
        merged = [
            _merge(va, ma, vb, mb)
            for va, ma, vb, mb in zip(self.values, self.mass, other.values, other.mass, strict=True)
        ]
        return CountHistogram(
            self.owner,
            self.weight + other.weight,
            tuple(values for values, _ in merged),
            tuple(mass for _, mass in merged),
        )

    def scale(self, factor: float) -> CountHistogram:
        return CountHistogram(
            self.owner, self.weight * factor, self.values, tuple(m * factor for m in self.mass)
        )

    @property
    def total_weight(self) -> float:
        return self.weight


def _merge(
    values_a: np.ndarray, mass_a: np.ndarray, values_b: np.ndarray, mass_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The histogram of two histograms' rows together."""
    if np.array_equal(values_a, values_b):
        return values_a, mass_a + mass_b
    values, where = np.unique(np.concatenate([values_a, values_b]), return_inverse=True)
    mass = np.bincount(where, weights=np.concatenate([mass_a, mass_b]), minlength=values.size)
    return values, mass


def _histogram(column: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct counts of one feature with positive summed weight, and that weight."""
    if column.size and column.max() <= 4 * column.size + 1024:  # a dense bincount is cheaper
        dense = np.bincount(column.astype(np.intp), weights=weights)
        values = np.flatnonzero(dense > 0)
        return values.astype(np.float64), dense[values]
    values, where = np.unique(column, return_inverse=True)
    mass = np.bincount(where, weights=weights, minlength=values.size)
    kept = mass > 0
    return values[kept], mass[kept]


def _digamma_gap(values: np.ndarray, size: float) -> np.ndarray:
    """``digamma(values + size) - digamma(size)``, accurate also when ``size >> values``.

    For ``size >= 100`` the asymptotic series of the digamma function, written in
    differences that do not cancel; below, the difference of digammas loses at most a few
    digits (relative error under 1e-13).
    """
    if size < 100.0:
        return digamma(values + size) - digamma(size)
    a, b = 1.0 / size, 1.0 / (size + values)
    d1 = values * a * b  # a - b
    d2 = d1 * (a + b)  # a**2 - b**2
    d4 = d2 * (a * a + b * b)  # a**4 - b**4
    d6 = d2 * (a**4 + a * a * b * b + b**4)
    d8 = d4 * (a**4 + b**4)
    return np.log1p(values * a) + d1 / 2 + d2 / 12 - d4 / 120 + d6 / 252 - d8 / 240


def _size_mle(values: np.ndarray, probs: np.ndarray, mean: float) -> float:
    """The maximum-likelihood size of one feature given its weighted pmf ``probs`` on
    ``values`` (the profile score in ``log size``, solved by Brent's method)."""
    variance = float(probs @ (values - mean) ** 2)
    if variance <= mean:  # no over-dispersion: the likelihood grows all the way to Poisson
        return MAX_SIZE

    def score(log_size: float) -> float:
        size = float(np.exp(log_size))
        return float(probs @ _digamma_gap(values, size)) - float(np.log1p(mean / size))

    low, high = np.log(MIN_SIZE), np.log(MAX_SIZE)
    if score(high) >= 0:  # the root lies beyond the cap: indistinguishable from Poisson
        return MAX_SIZE
    if score(low) <= 0:
        return MIN_SIZE
    return float(np.exp(brentq(score, low, high, xtol=1e-13, rtol=4 * np.finfo(float).eps)))


class NegativeBinomial(DeclaredComponent):
    """Independent over-dispersed counts: feature ``j`` is negative binomial with mean
    ``mean[j]`` and size (dispersion) ``size[j]``.

    ``p(x) = prod_j C(x_j + r_j - 1, x_j) p_j^r_j (1 - p_j)^x_j`` with ``r = size`` and
    ``p = size / (size + mean)``: scipy's ``nbinom(n=size, p)``. Equivalently, a Poisson
    count whose rate is gamma distributed with mean ``mean`` and shape ``size``. The
    variance is ``mean + mean**2 / size``: a small size is strong over-dispersion, a size
    going to infinity is the Poisson distribution.

    Parameters
    ----------
    mean : array-like of shape (n_features,)
        Expected count of each feature, finite and ``>= 0``. A mean of 0 is the point mass
        at 0 (whatever the size), as a Poisson rate of 0 is.
    size : array-like of shape (n_features,)
        Size (``n`` in scipy, the gamma shape), finite and ``> 0``.

    Notes
    -----
    **Parametrisation**: mean and size rather than scipy's size and probability ``p``,
    because (1) the M-step's mean is exact and closed-form (the weighted mean of the
    counts), whatever the size; (2) near the Poisson limit ``p = size / (size + mean)`` is
    ``1 - mean / size``, and storing it as a float loses the mean's digits (half of them at
    a size of 1e8) while ``mean`` keeps them all; (3) the mean is what a reader of a fitted
    model wants to see. ``scipy_twin()`` converts to scipy's ``(n, p)``.

    **Support**: rows of non-negative integers (stored as floats). Other rows have
    log-density ``-inf`` and are left out of the statistics.

    **Statistics**: exact EM needs the score in ``size``, which sums
    ``digamma(x_i + size)`` over the rows; no fixed set of moments carries that, but the
    weighted histogram of each feature's counts does, and histograms of row chunks add up.
    It is kept sparse (:class:`CountHistogram`: the distinct counts present and their
    summed weights) so memory grows with the number of distinct counts, not with the
    largest count, and chunks with different maxima add without padding.

    **M-step**, per feature, with ``m`` the weighted mean and ``s2`` the weighted variance
    (divided by the total weight): for a fixed size ``r`` the best ``p`` is ``r / (r + m)``,
    so the mean is ``m``; the profile score in ``r`` is
    ``sum_v h_v digamma(v + r) - W digamma(r) - W log(1 + m / r)`` (``h_v`` the weight at
    count ``v``, ``W`` the total), solved for ``log r`` by Brent's method on
    ``[1e-8, 1e8]``. The maximum-likelihood size is finite exactly when ``s2 > m``; without
    over-dispersion (``s2 <= m``, including all counts equal) the likelihood increases all
    the way to the Poisson limit, and the M-step returns ``size = 1e8`` (:data:`MAX_SIZE`),
    a Poisson distribution to within ``1e-8`` relative in the variance. A root beyond the
    cap is returned as the cap too, and one below ``1e-8`` (almost all weight on 0 and a
    few huge counts) as ``1e-8``. A feature whose weighted counts are all 0 gets mean 0
    (the point mass at 0) and size ``1e8``, as any size gives the same distribution; this
    lets a component absorb structural zeros instead of failing.

    Examples
    --------
    >>> import numpy as np
    >>> nb = NegativeBinomial(mean=[3.0], size=[2.0])
    >>> nb.variance.tolist()
    [7.5]
    >>> nb.log_density(np.array([[0.0], [4.0], [2.5]])).round(4).tolist()
    [-1.8326, -2.2664, -inf]
    >>> fitted = nb.fit(np.array([[0.0], [1.0], [1.0], [9.0]]))
    >>> fitted.mean.tolist(), fitted.size.round(4).tolist()
    ([2.75], [0.6658])
    >>> NegativeBinomial([1.0], [1.0]).fit(np.array([[1.0], [2.0], [3.0]])).size.tolist()
    [100000000.0]
    """

    mean = Parameter(non_negative, "Expected counts, ndarray of shape (n_features,).")
    size = Parameter(positive, "Sizes (dispersion; scipy's n), ndarray of shape (n_features,).")
    support = counts
    capabilities: ClassVar[Capabilities] = Capabilities(discrete=True)

    def __post_init__(self) -> None:
        self._log_p_term = float(-(self.size * np.log1p(self.mean / self.size)).sum())
        self._success = self.mean / (self.size + self.mean)  # 1 - p, 0 for a zero mean

    @property
    def prob(self) -> np.ndarray:
        """scipy's ``p = size / (size + mean)``, shape (n_features,)."""
        return self.size / (self.size + self.mean)

    @property
    def variance(self) -> np.ndarray:
        """Variance of each feature, ``mean + mean**2 / size``, shape (n_features,)."""
        return self.mean + self.mean**2 / self.size

    def log_density_inside(self, X: np.ndarray) -> np.ndarray:
        # log C(x + r - 1, x) = -log(x) - betaln(r, x) for x > 0 (0 for x = 0): betaln keeps
        # its digits for a large size, where gammaln(x + r) - gammaln(r) cancels.
        positive_x = X > 0
        safe = np.where(positive_x, X, 1.0)
        with np.errstate(divide="ignore"):
            binomial = np.where(positive_x, -np.log(safe) - betaln(self.size, safe), 0.0)
        return (binomial + xlogy(X, self._success)).sum(axis=1) + self._log_p_term

    def statistics_inside(self, X: np.ndarray, weights: np.ndarray) -> CountHistogram:
        parts = [_histogram(X[:, j], weights) for j in range(X.shape[1])]
        return CountHistogram(
            type(self),
            float(weights.sum()),
            tuple(values for values, _ in parts),
            tuple(mass for _, mass in parts),
        )

    statistics_type = CountHistogram

    def m_step(self, statistics: CountHistogram) -> NegativeBinomial:
        """M-step (see the class notes)."""
        means, sizes = [], []
        for values, mass in zip(statistics.values, statistics.mass, strict=True):
            probs = mass / mass.sum()
            mean = float(probs @ values)
            means.append(mean)
            sizes.append(_size_mle(values, probs, mean) if mean > 0 else MAX_SIZE)
        return self.replace(mean=means, size=sizes)

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        # Gamma-Poisson, which keeps its accuracy near the Poisson limit (p close to 1).
        rates = rng.gamma(self.size, self.mean / self.size, size=(n_samples, self.n_features))
        return rng.poisson(rates).astype(np.float64)

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import nbinom

        return IndependentTwin([nbinom(r, p) for r, p in zip(self.size, self.prob, strict=True)])
