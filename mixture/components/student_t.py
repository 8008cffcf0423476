"""The multivariate Student-t distribution as a :class:`~mixture.Component`.

A Student-t with location ``mu``, scale matrix ``Sigma`` and ``nu`` degrees of freedom is a
Gaussian whose precision is multiplied by a latent Gamma weight per row::

    u ~ Gamma(nu / 2, rate = nu / 2),      x | u ~ N(mu, Sigma / u)

Its tails are polynomial, so rows far from the bulk get small weights ``u`` instead of
dragging the location and scale towards them: a mixture of Student-t components is a robust
alternative to a Gaussian mixture (McLachlan and Peel, 1998).

EM treats the ``u`` as missing data. Given the current parameters, the E-step of row ``i``
(with squared Mahalanobis distance ``delta_i``) is::

    E[u_i]     = (nu + D) / (nu + delta_i)
    E[log u_i] = log E[u_i] + digamma((nu + D) / 2) - log((nu + D) / 2)

and the M-step, with row weights ``w_i`` (responsibility times sample weight), is::

    mu    = sum_i w_i u_i x_i / sum_i w_i u_i
    Sigma = sum_i w_i u_i (x_i - mu)(x_i - mu)^T / sum_i w_i          (+ reg_covar)
    nu    : root of  -digamma(nu / 2) + log(nu / 2) + 1
                     + sum_i w_i (E[log u_i] - E[u_i]) / sum_i w_i = 0

(Liu and Rubin, 1995; McLachlan and Peel, 2000, section 7.5). Given the E-step, the expected
complete-data log-likelihood separates into a part in ``(mu, Sigma)`` and a part in ``nu``,
and the ``nu`` part is strictly concave, so this is an exact EM step: the log-likelihood never
decreases. The ``nu`` equation is solved by Brent's method within ``df_bounds``; when the root
lies outside, the bound on its side is the maximiser on the interval.

References
----------
C. Liu and D. B. Rubin (1995). ML estimation of the t distribution using EM and its
extensions, ECM and ECME. Statistica Sinica 5, 19-39.

G. J. McLachlan and D. Peel (2000). Finite Mixture Models, chapter 7. Wiley.

K. L. Lange, R. J. A. Little and J. M. G. Taylor (1989). Robust statistical modeling using
the t distribution. JASA 84, 881-896.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg, optimize, special

from mixture._validation import check_data
from mixture.constraints import (
    Bounds,
    RealArray,
    flag,
    non_negative_number,
    positive_number,
    real,
    reals,
)
from mixture.contract import Statistics
from mixture.declared import DeclaredComponent, Parameter, Setting
from mixture.exceptions import DegenerateComponentError
from mixture.gaussian.covariance import FullCovariance
from mixture.gaussian.statistics import GaussianStatistics
from mixture.gaussian.structures import OneComponentStructure
from mixture.twins import MultivariateTwin

__all__ = ["DEFAULT_DF_BOUNDS", "StudentT", "StudentTStatistics"]

#: Default search interval of the degrees of freedom. Below 0.5 the distribution is so
#: heavy-tailed that a component can explain any scattered row, which invites degenerate fits;
#: above 1000 a Student-t is a Gaussian to within the accuracy any data set can resolve
#: (the likelihood is flat in ``nu`` there), so a larger value would only be noise.
DEFAULT_DF_BOUNDS: tuple[float, float] = (0.5, 1000.0)


@dataclass(frozen=True, eq=False)
class StudentTStatistics(Statistics):
    """Additive E-step statistics of one Student-t component.

    They depend on the parameters of the component that computed them (through the latent
    weights ``u``), as EM's expected sufficient statistics do; they hold no parameters.

    Attributes
    ----------
    weight : float
        ``sum_i w_i``, the summed row weight.
    weighted : GaussianStatistics
        Statistics of the rows with weights ``w_i u_i`` (one component): ``weighted.weight``
        of shape (1,) is ``sum_i w_i u_i``, ``weighted.mean`` of shape (1, n_features) the
        ``(w u)``-weighted mean, ``weighted.scatter`` the centred ``(w u)``-weighted scatter in
        the covariance structure's shape, merged across chunks with Chan's formula.
    log_u_minus_u : float
        ``sum_i w_i (E[log u_i] - E[u_i])``, which is ``sum_i w_i (log u_i - u_i)`` plus
        ``sum_i w_i (digamma((nu + D) / 2) - log((nu + D) / 2))`` with the ``nu`` of the
        component that computed the statistics. Folding that constant in here keeps the
        M-step free of the previous parameters.
    """

    weight: float
    weighted: GaussianStatistics
    log_u_minus_u: float

    def __add__(self, other: Statistics) -> StudentTStatistics:
        if not isinstance(other, StudentTStatistics):
            return NotImplemented
        return StudentTStatistics(
            self.weight + other.weight,
            self.weighted + other.weighted,
            self.log_u_minus_u + other.log_u_minus_u,
        )

    def scale(self, factor: float) -> StudentTStatistics:
        return StudentTStatistics(
            self.weight * factor, self.weighted.scale(factor), self.log_u_minus_u * factor
        )

    @property
    def total_weight(self) -> float:
        return float(self.weight)

    @property
    def weight_u(self) -> float:
        """``sum_i w_i u_i``."""
        return float(self.weighted.weight[0])

    @property
    def mean(self) -> np.ndarray:
        """The ``(w u)``-weighted mean, ndarray of shape (n_features,)."""
        return self.weighted.mean[0]


class StudentT(DeclaredComponent):
    """A multivariate Student-t distribution, fitted by exact EM with latent row weights.

    The density is that of :func:`scipy.stats.multivariate_t` with ``shape`` the scale
    matrix::

        log p(x) = log G((nu + D) / 2) - log G(nu / 2) - (D / 2) log(nu pi)
                   - log det(Sigma) / 2 - ((nu + D) / 2) log(1 + delta(x) / nu)

    with ``delta(x) = (x - loc)^T Sigma^-1 (x - loc)``, computed from the Cholesky factor of
    the scale by a triangular solve of the rows shifted by ``loc`` (no inverse is formed, and
    the data's offset from the origin never enters a product).

    Parameters
    ----------
    loc : array-like of shape (n_features,)
        Location (the mean when ``df > 1``).
    scale : array-like
        Scale matrix in the structure's single-component form: ``(n_features, n_features)``
        symmetric positive definite for :class:`~mixture.FullCovariance`, ``(n_features,)``
        positive entries of the diagonal for :class:`~mixture.DiagonalCovariance`, a positive
        scalar for :class:`~mixture.SphericalCovariance`. Not the covariance: that is
        ``scale * df / (df - 2)`` for ``df > 2``.
    df : float
        Degrees of freedom ``nu > 0`` (finite; the limit ``nu -> inf`` is
        :class:`~mixture.Gaussian`).
    structure : CovarianceStructure, default FullCovariance()
        How the scale matrix is parameterised. A tied structure is a property of several
        components and is refused.
    estimate_df : bool, default True
        Estimate ``df`` in every M-step (one-dimensional root finding), or keep it fixed.
    reg_covar : float, default 1e-6
        Added to the diagonal of the scale matrix in the M-step.
    df_bounds : (float, float), default (0.5, 1000.0)
        Interval searched for ``df`` when it is estimated (``0 < low < high``, finite); the
        M-step returns the bound when the likelihood is maximised at it. When
        ``estimate_df`` is true the given ``df`` must lie within it.

    Raises
    ------
    ValueError
        Naming the parameter that is invalid.

    Notes
    -----
    The statistics of a chunk depend on the current parameters through the latent weights
    (see :class:`StudentTStatistics`). So even the first M-step after an initializer's labels
    weights the rows with the ``loc``, ``scale`` and ``df`` of the components given to
    :class:`~mixture.MixtureEM`; the data's overall mean and covariance are a neutral choice.

    Examples
    --------
    >>> import numpy as np
    >>> t = StudentT(loc=[0.0, 0.0], scale=np.eye(2), df=4.0)
    >>> t.log_density(np.zeros((1, 2))).round(4)
    array([-1.8379])
    >>> rng = np.random.default_rng(0)
    >>> X = StudentT([1.0, -1.0], [[2.0, 0.5], [0.5, 1.0]], df=5.0).sample(5000, rng)
    >>> fitted = t.fit(X)
    >>> for _ in range(50):  # a single component: EM iterations of the latent weights
    ...     fitted = fitted.fit(X)
    >>> fitted.loc.round(1).tolist()
    [1.0, -1.0]
    """

    loc = Parameter(real, "Location, ndarray of shape (n_features,).")
    scale = Parameter(
        RealArray(), "Scale in the structure's single-component form: (D, D), (D,) or scalar."
    )
    df = Parameter(positive_number, "Degrees of freedom.")
    structure = Setting(OneComponentStructure(), FullCovariance(), "How the scale is shaped.")
    estimate_df = Setting(flag, True, "Whether the M-step estimates df.")
    reg_covar = Setting(non_negative_number, 1e-6, "Added to the scale's diagonal in the M-step.")
    df_bounds = Setting(Bounds(floor=0.0), DEFAULT_DF_BOUNDS, "Interval searched for df.")
    support = reals

    def __post_init__(self) -> None:
        n_features = self.loc.shape[0]
        low, high = self.df_bounds
        if self.estimate_df and not low <= self.df <= high:
            raise ValueError(
                f"df = {self.df} lies outside df_bounds {self.df_bounds}; widen df_bounds or "
                "pass estimate_df=False"
            )
        form = self.structure.form
        expected = form.shape(1, n_features)
        try:
            stacked = form.stack([self.scale])
        except ValueError as error:
            raise ValueError(f"scale does not fit {self.structure!r}: {error}") from None
        if stacked.shape != expected:
            raise ValueError(
                f"scale for {self.structure!r} with {n_features} features must have shape "
                f"{expected[1:]}; got {self.scale.shape}"
            )
        try:
            form.check(stacked)
            cholesky = linalg.cholesky(form.dense(stacked, n_features)[0], lower=True)
        except (ValueError, linalg.LinAlgError) as error:
            raise ValueError(
                f"scale is not a valid (positive definite) scale of {self.structure!r}: {error}"
            ) from None
        canonical = np.array(form.component_covariance(stacked, 0))
        canonical.setflags(write=False)
        self._declared_values["scale"] = canonical
        self._stacked = stacked  # the structure's (1, ...) stacked form
        self._cholesky = cholesky  # lower L with L L^T = scale matrix
        self._precision_factor = form.precisions_cholesky(stacked)
        self._log_normaliser = float(
            special.gammaln((self.df + n_features) / 2.0)
            - special.gammaln(self.df / 2.0)
            - 0.5 * n_features * np.log(self.df * np.pi)
            - np.log(np.diagonal(cholesky)).sum()
        )

    @property
    def scale_matrix(self) -> np.ndarray:
        """Dense scale matrix, ndarray of shape (n_features, n_features)."""
        return self._cholesky @ self._cholesky.T

    @property
    def n_features(self) -> int:
        return int(self.loc.shape[0])

    @property
    def n_parameters(self) -> int:
        """``D`` location + the structure's scale parameters (+ 1 when ``df`` is estimated)."""
        scale_parameters = self.structure.n_parameters(1, self.n_features)
        return self.n_features + scale_parameters + int(self.estimate_df)

    @property
    def mean(self) -> np.ndarray:
        """Mean of each feature, shape (n_features,): ``loc`` when ``df > 1``.

        For ``df <= 1`` the mean does not exist and every entry is NaN (the convention of
        :func:`scipy.stats.t`).
        """
        if self.df > 1:
            return self.loc
        return np.full(self.n_features, np.nan)

    @property
    def variance(self) -> np.ndarray:
        """Variance of each feature, shape (n_features,): ``diag(scale) df / (df - 2)``.

        Infinite for ``1 < df <= 2`` and NaN for ``df <= 1`` (as :func:`scipy.stats.t`).
        """
        diagonal = np.einsum("ij,ij->i", self._cholesky, self._cholesky)
        if self.df > 2:
            return diagonal * (self.df / (self.df - 2.0))
        return np.full(self.n_features, np.inf if self.df > 1 else np.nan)

    def scipy_twin(self) -> MultivariateTwin:
        from scipy.stats import multivariate_t

        frozen = multivariate_t(loc=self.loc, shape=self.scale_matrix, df=self.df)
        return MultivariateTwin(frozen, self.n_features)

    # -- densities --------------------------------------------------------------------------
    def mahalanobis(self, X: Any) -> np.ndarray:
        """Squared Mahalanobis distance of each row to ``loc`` under the scale matrix.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), float64
        """
        data = check_data(X, n_features=self.n_features, min_rows=0)
        return self._mahalanobis(data)

    def _mahalanobis(self, data: np.ndarray) -> np.ndarray:
        """``(x - loc)^T S^-1 (x - loc)`` per row, float64 of shape (n,).

        The rows are shifted by ``loc`` first (in float64), so no product sees the data's
        offset; the distance is the covariance form's
        (:meth:`~mixture.gaussian.forms.CovarianceForm.mahalanobis`, with the precision
        factor computed once per M-step), the same as a Gaussian's of this structure.
        """
        shifted = np.subtract(data, self.loc, dtype=np.float64)
        origin = np.zeros((1, shifted.shape[1]))
        return self.structure.form.mahalanobis(shifted, origin, self._precision_factor)[:, 0]

    def log_density_inside(self, X: np.ndarray) -> np.ndarray:
        delta = self._mahalanobis(X)
        exponent = 0.5 * (self.df + self.n_features)
        return self._log_normaliser - exponent * np.log1p(delta / self.df)

    # -- EM ---------------------------------------------------------------------------------
    def latent_weights(self, X: Any) -> np.ndarray:
        """E-step weights ``E[u_i] = (df + D) / (df + delta_i)`` of each row.

        Rows with small weights are the ones the component treats as outlying.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        data = check_data(X, n_features=self.n_features, min_rows=0)
        return (self.df + self.n_features) / (self.df + self._mahalanobis(data))

    def statistics_inside(self, X: np.ndarray, weights: np.ndarray) -> StudentTStatistics:
        """E-step statistics of weighted rows under the current parameters.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        weights : ndarray of shape (n_samples,)
            Non-negative row weights (responsibility times sample weight).

        Returns
        -------
        StudentTStatistics
        """
        data, row_weights = X, weights
        n_features = self.n_features
        delta = self._mahalanobis(data)
        u = (self.df + n_features) / (self.df + delta)
        log_u = np.log(self.df + n_features) - np.log(self.df + delta)
        half = 0.5 * (self.df + n_features)
        offset = float(special.digamma(half) - np.log(half))  # E[log u] - log E[u]
        total = float(row_weights.sum())
        weighted = GaussianStatistics.of_rows(data, (row_weights * u)[:, None], self.structure)
        # An elementwise product and sum, not np.dot: numpy's BLAS dot of two long vectors
        # ran 2 ms per chunk here, its threads contending with scipy's OpenBLAS pool.
        # Rows of weight zero take no part, also when their distance overflowed to infinity
        # (0 * -inf would be NaN).
        with np.errstate(invalid="ignore"):
            terms = np.where(row_weights > 0, row_weights * (log_u - u), 0.0)
        log_u_minus_u = float(terms.sum()) + offset * total
        return StudentTStatistics(total, weighted, log_u_minus_u)

    def from_statistics(self, statistics: Statistics) -> StudentT:
        """M-step: the (w u)-weighted location and scale, and the degrees of freedom.

        Parameters
        ----------
        statistics : StudentTStatistics
            Summed statistics, computed with this component's parameters.

        Returns
        -------
        StudentT
            A new component with this one's settings.

        Raises
        ------
        DegenerateComponentError
            If the statistics carry no weight, or the scale collapsed (below the
            floating-point resolution of the location) or overflowed.
        """
        if not isinstance(statistics, StudentTStatistics):
            raise ValueError(
                f"StudentT.from_statistics needs StudentTStatistics; got "
                f"{type(statistics).__name__}"
            )
        if not statistics.weight > 0:
            raise DegenerateComponentError(
                "the statistics carry no weight, so a StudentT cannot be estimated from them"
            )
        n_features = self.n_features
        loc = statistics.mean.copy()
        scale = self.structure.from_scatter(
            statistics.weighted.scatter,
            np.array([statistics.weight]),
            self.reg_covar,
            n_features,
        )
        self._check_resolvable(loc, scale)
        if self.estimate_df:
            df = self._solve_df(statistics.log_u_minus_u / statistics.weight)
        else:
            df = self.df
        scale = self.structure.form.component_covariance(scale, 0)
        return self.replace(loc=loc, scale=scale, df=df)

    def _check_resolvable(self, loc: np.ndarray, scale: np.ndarray) -> None:
        if not np.isfinite(scale).all():
            raise DegenerateComponentError(
                "the StudentT scale overflowed to infinity: the data's values are too large to "
                "square in floating point; rescale the data"
            )
        smallest = float(self.structure.form.smallest_variances(scale, 1)[0])
        resolution = (16 * np.finfo(np.float64).eps * float(np.abs(loc).max())) ** 2
        if not smallest > resolution:
            raise DegenerateComponentError(
                f"the StudentT collapsed: the smallest scale variance ({smallest:.3g}) is not "
                "above the floating-point resolution of its location. Increase reg_covar, use "
                "fewer components, or remove duplicated rows and constant features"
            )

    def _solve_df(self, mean_term: float) -> float:
        """Maximise the expected complete-data log-likelihood in ``df`` over ``df_bounds``.

        Parameters
        ----------
        mean_term : float
            ``sum_i w_i (E[log u_i] - E[u_i]) / sum_i w_i`` (always <= -1).

        Returns
        -------
        float
            The root of ``g(nu) = log(nu/2) - digamma(nu/2) + 1 + mean_term``, which
            decreases strictly in ``nu``, or the bound on the side where it lies.
        """
        low, high = self.df_bounds
        if np.isnan(mean_term):
            raise DegenerateComponentError(
                "the StudentT's degrees of freedom cannot be estimated: its rows' distances are "
                "not finite numbers; rescale the data"
            )

        def gradient(nu: float) -> float:
            return float(np.log(0.5 * nu) - special.digamma(0.5 * nu) + 1.0 + mean_term)

        if gradient(low) <= 0.0:
            return low
        if gradient(high) >= 0.0:
            return high
        return float(optimize.brentq(gradient, low, high, xtol=1e-12, maxiter=200))

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """Draw rows: ``loc + L z / sqrt(g / df)`` with ``z ~ N(0, I)``, ``g ~ chi2(df)``.

        Parameters
        ----------
        n_samples : int
        rng : numpy.random.Generator

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        z = rng.standard_normal((n_samples, self.n_features))
        g = rng.chisquare(self.df, size=n_samples)
        return self.loc + (z @ self._cholesky.T) / np.sqrt(g / self.df)[:, None]
