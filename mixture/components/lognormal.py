"""Independent log-normal features: ``log x`` normal, one ``mu`` and ``sigma`` per feature."""

from __future__ import annotations

import numpy as np

from mixture.constraints import non_negative_number, positive, positive_reals, real
from mixture.declared import Parameter, Setting, WeightedSumsComponent
from mixture.exceptions import DegenerateComponentError
from mixture.twins import IndependentTwin

__all__ = ["LogNormal"]

_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)
# The variance of log x is computed as mean((log x)^2) - mu^2, whose rounding grows with the
# number of rows (about 750 eps of mean((log x)^2) for a million equal rows); below this
# many units of mean((log x)^2) it is rounding, not spread.
_UNRESOLVED = 1e-11


class LogNormal(WeightedSumsComponent):
    """Independent log-normal features: ``log x_d ~ Normal(mu_d, sigma_d^2)``, so
    ``p(x) = prod_d exp(-(log x_d - mu_d)^2 / (2 sigma_d^2)) / (x_d sigma_d sqrt(2 pi))``.

    Parameters
    ----------
    mu : array-like of shape (n_features,)
        Mean of ``log x`` in each feature, finite (``exp(mu)`` is the median of ``x``).
    sigma : array-like of shape (n_features,)
        Standard deviation of ``log x`` in each feature, finite and ``> 0``.
    reg_var : float, default 1e-6
        ``>= 0``, added to the variance of ``log x`` in the M-step (as ``reg_covar`` is to
        the Gaussians' covariances), so a component cannot shrink onto rows sharing one
        value. A setting, not a parameter: the M-step keeps it. ``0`` gives the exact
        maximum-likelihood estimate.

    Notes
    -----
    **Support**: ``x > 0`` in every feature. Other rows have log-density ``-inf`` and are
    left out of the statistics; in a mixture another component may explain them.

    **M-step**: from the weighted means of ``log x`` and ``(log x)^2``,
    ``mu = mean(log x)`` and ``sigma^2 = mean((log x)^2) - mu^2 + reg_var``. A variance
    ``mean((log x)^2) - mu^2`` below 1e-11 of ``mean((log x)^2)`` is rounding, taken as 0:
    the weighted rows of the feature all have the same value. With ``reg_var = 0`` that
    raises :class:`~mixture.DegenerateComponentError`; otherwise ``sigma^2 = reg_var``.

    Examples
    --------
    >>> import numpy as np
    >>> ln = LogNormal(mu=[0.0], sigma=[0.5])
    >>> ln.log_density(np.array([[1.0], [-1.0]])).round(4).tolist()
    [-0.2258, -inf]
    >>> fitted = LogNormal(mu=[0.0], sigma=[1.0], reg_var=0.0).fit(np.exp([[1.0], [3.0]]))
    >>> fitted.mu.tolist(), fitted.sigma.tolist()
    ([2.0], [1.0])
    """

    #: A product over features: a missing value is left out (EM with missing values).
    marginalizes_features = True
    mu = Parameter(real, "Means of log x, ndarray of shape (n_features,).")
    sigma = Parameter(positive, "Standard deviations of log x, ndarray of shape (n_features,).")
    reg_var = Setting(non_negative_number, 1e-6, "Added to the variance of log x in the M-step.")
    support = positive_reals

    @property
    def mean(self) -> np.ndarray:
        """Mean of each feature, ``exp(mu + sigma^2 / 2)``, shape (n_features,)."""
        return np.exp(self.mu + self.sigma**2 / 2)

    @property
    def variance(self) -> np.ndarray:
        """Variance, ``(exp(sigma^2) - 1) exp(2 mu + sigma^2)``, shape (n_features,)."""
        return np.expm1(self.sigma**2) * np.exp(2 * self.mu + self.sigma**2)

    def log_density_inside(self, X: np.ndarray) -> np.ndarray:
        log_x = np.log(X)
        z = (log_x - self.mu) / self.sigma
        constant = -(np.log(self.sigma) + _HALF_LOG_2PI).sum()
        return constant - (log_x + 0.5 * z**2).sum(axis=1)

    def row_features(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        log_x = np.log(X)
        return log_x, log_x**2

    def from_means(self, means: tuple[np.ndarray, ...], weight: float) -> LogNormal:
        mu, mean_square = means
        spread = mean_square - mu**2
        resolved = spread > _UNRESOLVED * mean_square  # else 0 up to rounding
        if self.reg_var == 0 and not resolved.all():
            j = int(np.argmin(resolved))
            raise DegenerateComponentError(
                f"the log-normal sigma of feature {j} would be 0: its weighted rows all have "
                "the same value (up to rounding), so the component collapsed onto a point; "
                "use reg_var > 0 or fewer components"
            )
        return self.replace(mu=mu, sigma=np.sqrt(np.where(resolved, spread, 0.0) + self.reg_var))

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, size=(n_samples, self.n_features))

    def scipy_twin(self) -> IndependentTwin:
        from scipy.stats import lognorm

        parts = [lognorm(s=s, scale=np.exp(m)) for m, s in zip(self.mu, self.sigma, strict=True)]
        return IndependentTwin(parts)
