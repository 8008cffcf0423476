"""Independent angles: a von Mises distribution (the circular normal) per feature."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import cosm1, i0e, i1e

from mixture.constraints import positive, real, reals
from mixture.declared import Parameter, WeightedSumsComponent
from mixture.exceptions import DegenerateComponentError
from mixture.twins import IndependentTwin

__all__ = ["VonMises"]

#: The M-step's concentration for (nearly) uniform angles, and the largest it returns.
MIN_CONCENTRATION = 1e-8
MAX_CONCENTRATION = 1e12


def _bessel_ratio(kappa: np.ndarray) -> np.ndarray:
    """``I1(kappa) / I0(kappa)``, the mean resultant length of a von Mises."""
    return i1e(kappa) / i0e(kappa)


def _concentration(resultant: np.ndarray) -> np.ndarray:
    """Solve ``I1(k) / I0(k) = resultant`` for each entry (``0 <= resultant < 1``; 0 gives 0).

    Newton's method, kept inside the bracket ``[R / (1 - R**2), 2 R / (1 - R**2)]`` of
    Amos (1973) and bisecting whenever a step would leave it; all features at once. It
    stops when the ratio matches ``resultant`` to its rounding or the step stalls.
    """
    r = np.asarray(resultant, dtype=np.float64)
    eps = np.finfo(np.float64).eps
    low = r / ((1.0 - r) * (1.0 + r))
    # The bounds hold mathematically; widening them a little absorbs the ratio's rounding.
    low, high = low * (1.0 - 1e-6), 2.0 * low * (1.0 + 1e-6)
    kappa = 1.5 * low
    solving = r > 0
    for _ in range(100):
        safe = np.where(solving, kappa, 1.0)
        ratio = _bessel_ratio(safe)
        gap = ratio - r
        converged = ~solving | (np.abs(gap) <= 2 * eps * r)
        low = np.where(gap < 0, safe, low)
        high = np.where(gap > 0, safe, high)
        # d ratio / d kappa = 1 - ratio / kappa - ratio**2, which cancels for a large kappa:
        # there its asymptotic series is exact to double precision.
        slope = np.where(
            safe > 1e3,
            0.5 / safe**2 + 0.25 / safe**3 + 0.375 / safe**4,
            1.0 - ratio / safe - ratio * ratio,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            step = safe - gap / slope
        step = np.where((step > low) & (step < high), step, 0.5 * (low + high))
        stalled = np.abs(step - safe) <= 4 * eps * safe
        kappa = np.where(converged, kappa, step)
        if (converged | stalled).all():
            break
    return kappa


class VonMises(WeightedSumsComponent):
    """Independent angles in radians: feature ``j`` is von Mises with location ``loc[j]``
    and concentration ``concentration[j]``.

    ``p(x) = prod_j exp(k_j cos(x_j - loc_j)) / (2 pi I0(k_j))``, with ``I0`` the modified
    Bessel function of order 0: scipy's ``vonmises(k, loc=loc)``. A concentration near 0
    is the uniform distribution on the circle; a large one is close to a normal with
    standard deviation ``1 / sqrt(k)``.

    Parameters
    ----------
    loc : array-like of shape (n_features,)
        Mean direction of each feature (radians), any real number; ``loc`` and
        ``loc + 2 pi`` are the same distribution. The M-step returns it in ``[-pi, pi]``.
    concentration : array-like of shape (n_features,)
        Concentration ``k > 0`` of each feature (the inverse of a variance, roughly).

    Notes
    -----
    **Support**: every real number. Angles are periodic: ``x`` and ``x + 2 pi`` have the
    same density, which integrates to 1 over any interval of length ``2 pi`` (a density on
    the circle, not on the line). :meth:`sample` returns angles in ``[-pi, pi]``. There
    are no ``mean`` and ``variance`` properties: plain moments of wrapped angles mean
    nothing (the conformance kit compares with the scipy twin instead).

    **M-step**: from the weighted means of ``cos x`` and ``sin x``, ``C`` and ``S``:
    ``loc = atan2(S, C)``, and the concentration solves ``I1(k) / I0(k) = R`` with
    ``R = sqrt(C**2 + S**2)`` the mean resultant length (Newton's method in Amos's bracket,
    to full precision). Angles spread evenly round the circle have ``R`` near 0 and a
    concentration near 0; below ``1e-8`` (:data:`MIN_CONCENTRATION`) it is returned as
    ``1e-8``, indistinguishable from uniform. Angles all (nearly) equal have ``R`` near 1
    and an unbounded likelihood: when the concentration would exceed ``1e12``
    (:data:`MAX_CONCENTRATION`, a spread of about 1e-6 radians) the M-step raises
    :class:`~mixture.DegenerateComponentError`, as a Gaussian does for a zero variance.

    Examples
    --------
    >>> import numpy as np
    >>> v = VonMises(loc=[0.5], concentration=[2.0])
    >>> v.log_density(np.array([[0.5], [0.5 + 2 * np.pi], [-2.6]])).round(4).tolist()
    [-0.6619, -0.6619, -4.6601]
    >>> fitted = v.fit(np.array([[0.1], [0.3], [-0.2], [3.0]]))
    >>> fitted.loc.round(4).tolist(), fitted.concentration.round(4).tolist()
    ([0.1724], [1.1357])
    """

    #: A product over features: a missing value is left out (EM with missing values).
    marginalizes_features = True
    loc = Parameter(real, "Mean directions (radians), ndarray of shape (n_features,).")
    concentration = Parameter(positive, "Concentrations, ndarray of shape (n_features,).")
    support = reals

    def __post_init__(self) -> None:
        k = self.concentration
        self._log_normaliser = float(np.log(2.0 * np.pi * i0e(k)).sum())

    def log_density_inside(self, X: np.ndarray) -> np.ndarray:
        # k cos(d) - log(2 pi I0(k)) = k (cos(d) - 1) - log(2 pi i0e(k)); cosm1 keeps the
        # digits of cos(d) - 1 for small d, where a large k multiplies them.
        return (self.concentration * cosm1(X - self.loc)).sum(axis=1) - self._log_normaliser

    def row_features(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.cos(X), np.sin(X)

    def from_means(self, means: tuple[np.ndarray, ...], weight: float) -> VonMises:
        cosine, sine = means
        resultant = np.hypot(cosine, sine)
        limit = _bessel_ratio(np.array(MAX_CONCENTRATION))
        if (resultant >= limit).any():
            feature = int(np.argmax(resultant >= limit))
            raise DegenerateComponentError(
                f"the weighted angles of feature {feature} all (nearly) coincide (mean "
                f"resultant length {resultant[feature]!r}), so their von Mises concentration "
                f"would exceed {MAX_CONCENTRATION:g}: the component collapsed onto one "
                "direction; use fewer components, or jitter angles that were rounded"
            )
        concentration = np.maximum(_concentration(resultant), MIN_CONCENTRATION)
        return self.replace(loc=np.arctan2(sine, cosine), concentration=concentration)

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return rng.vonmises(self.loc, self.concentration, size=(n_samples, self.n_features))

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import vonmises

        parts = zip(self.concentration, self.loc, strict=True)
        return IndependentTwin([_Wrapped(vonmises(k, loc=m)) for k, m in parts])


class _Wrapped:
    """A frozen scipy von Mises whose draws are wrapped into ``[-pi, pi)``, as
    :meth:`VonMises.sample` returns them (scipy draws in ``[loc - pi, loc + pi]``)."""

    def __init__(self, frozen: Any) -> None:
        self.frozen = frozen

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        return self.frozen.logpdf(x)

    def rvs(self, size: int, random_state: Any = None) -> np.ndarray:
        draws = self.frozen.rvs(size=size, random_state=random_state)
        return np.mod(draws + np.pi, 2.0 * np.pi) - np.pi
