"""``MiniBatchGaussianMixture``: a Gaussian mixture fitted by stepwise EM on mini-batches.

The scikit-learn face of :class:`~mixture.online.OnlineEM` for Gaussian mixtures, as
:class:`sklearn.cluster.MiniBatchKMeans` is for k-means: ``fit`` makes epochs of shuffled
mini-batches with MiniBatchKMeans's early stop, ``partial_fit`` one step per call. Parameter
constraints, data checks, fitted attributes and the methods that use a fit are those of
:class:`~mixture.GaussianMixture` (imported from :mod:`mixture.estimator`, not copied); the
covariance type is looked up in the structure registry.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.utils._param_validation import Interval

from mixture._chunking import blas_held
from mixture._validation import check_random_state, check_sample_weight
from mixture.engine import MixtureResult
from mixture.estimator import _INITIALIZERS, _SKLEARN_DEGENERATE, GaussianMixture
from mixture.exceptions import ConvergenceWarning, DegenerateComponentError
from mixture.gaussian import GaussianFamily, structure_named
from mixture.initializers import Initializer
from mixture.online import OnlineEM

__all__ = ["MiniBatchGaussianMixture"]

#: The constraints shared with GaussianMixture, by name.
_SHARED = (
    "n_components",
    "covariance_type",
    "tol",
    "reg_covar",
    "init_params",
    "random_state",
    "verbose",
)


class MiniBatchGaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by stepwise (online) EM on mini-batches.

    Each step takes the E-step of one mini-batch under the current parameters, moves the
    running sufficient statistics a step ``rho_t = (learning_offset + t)^(-learning_decay)``
    towards the batch's (rescaled to ``total_samples`` rows), and makes the M-step from them
    (Cappé and Moulines 2009; see :mod:`mixture.online`). An epoch is the E-step of every row
    plus an M-step per batch, in the calling thread (small batches are not worth threads):
    on a million 5-D rows with K = 4 and batches of 1,024 an epoch took about 0.4 s against
    0.1 s per batch-EM iteration on two cores, and came within about 1e-4 per row of batch
    EM's log-likelihood. Memory beyond the data: the epoch's shuffled row indices (8 bytes a
    row) and one mini-batch.

    Parameters
    ----------
    n_components : int, default 1
    covariance_type : {'full', 'tied', 'diag', 'spherical'} or an mclust name, default 'full'
        Any name of the structure registry (:func:`mixture.gaussian.structure_named`).
    tol : float, default 1e-3
        ``fit`` has converged when the mean log-likelihood per row of an epoch's batches
        (each under the parameters before its step) changed by less than ``tol`` from the
        previous epoch's.
    reg_covar : float, default 1e-6
        Added to the diagonal of the covariances.
    max_iter : int, default 100
        Most epochs (passes over the data) of ``fit``.
    batch_size : int, default 1024
        Rows per mini-batch. ``fit`` cuts each shuffled epoch into ``ceil(n / batch_size)``
        batches of equal size (to one row).
    learning_decay : float, default 0.7
        ``kappa`` in (0.5, 1] of the step sizes; smaller forgets old batches faster.
    learning_offset : float, default 10.0
        ``tau >= 0`` of the step sizes; larger damps the first steps.
    total_samples : float, optional
        Rows the running statistics are scaled to. Default: the rows of ``X`` in ``fit``,
        the rows (summed sample weight) seen so far in ``partial_fit``. The
        maximum-likelihood M-step does not depend on it (it would weigh a prior against the
        data).
    max_no_improvement : int or None, default 10
        ``fit`` stops (converged) when the smoothed mean log-likelihood of the batches has
        not improved for this many consecutive batches, as MiniBatchKMeans's inertia:
        an exponentially weighted average with ``alpha = min(1, 2 batch_size / (n + 1))``,
        the first batch (scored by the initial parameters) left out. Unlike MiniBatchKMeans
        the average is bias-corrected (close to the plain mean of the first ``1 / alpha``
        batches, not dominated by the first one) and the stop comes no earlier than the end
        of the first epoch, so every row is used once. ``None`` turns it off.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'} or Initializer
        Starting parameters, the same methods as GaussianMixture's ('kmeans' is one k-means
        run). ``fit`` initialises from ``max(3 batch_size, 3 n_components)`` rows drawn at
        random (all rows when there are fewer), as MiniBatchKMeans's ``init_size``;
        ``partial_fit`` from its first batch.
    random_state : None, int or RandomState
        Initialisation and shuffling.
    verbose : int, default 0
        Print the batches' log-likelihoods and why ``fit`` stopped.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_, precisions_, precisions_cholesky_ : ndarray
        Shape depends on ``covariance_type``, as in scikit-learn's GaussianMixture.
    converged_ : bool
        Whether ``fit`` stopped on ``tol`` or ``max_no_improvement``; False after
        ``partial_fit``.
    n_iter_ : int
        Epochs of ``fit``, plus one for each ``partial_fit`` call since.
    n_steps_ : int
        Mini-batches processed (M-steps).
    lower_bound_ : float
        Mean log-likelihood per row of the last epoch's batches (after ``partial_fit``: of
        its batch), each under the parameters before its step.
    lower_bounds_ : list of float
        ``lower_bound_`` of each epoch (and ``partial_fit`` call).
    n_features_in_ : int
    online_ : OnlineEM
        The stepwise EM, whose state ``partial_fit`` continues.
    result_ : MixtureResult
        The fitted mixture (``predict``, ``score`` and the others use it).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-3, 1, (5000, 2)), rng.normal(3, 1, (5000, 2))])
    >>> gm = MiniBatchGaussianMixture(2, batch_size=500, random_state=0).fit(X)
    >>> np.sort(gm.means_[:, 0]).round(1).tolist()
    [-3.0, 3.0]
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **{name: GaussianMixture._parameter_constraints[name] for name in _SHARED},
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_decay": [Interval(Real, 0.5, 1.0, closed="right")],
        "learning_offset": [Interval(Real, 0.0, None, closed="left")],
        "total_samples": [Interval(Real, 0.0, None, closed="neither"), None],
        "max_no_improvement": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        batch_size: int = 1024,
        learning_decay: float = 0.7,
        learning_offset: float = 10.0,
        total_samples: float | None = None,
        max_no_improvement: int | None = 10,
        init_params: str | Initializer = "kmeans",
        random_state: Any = None,
        verbose: int = 0,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset
        self.total_samples = total_samples
        self.max_no_improvement = max_no_improvement
        self.init_params = init_params
        self.random_state = random_state
        self.verbose = verbose

    # GaussianMixture's data checks, storage of the fit and the methods that use it.
    _check_fitted = GaussianMixture._check_fitted
    _checked_data = GaussianMixture._checked_data
    _store = GaussianMixture._store
    score_samples = GaussianMixture.score_samples
    score = GaussianMixture.score
    predict = GaussianMixture.predict
    predict_proba = GaussianMixture.predict_proba
    bic = GaussianMixture.bic
    aic = GaussianMixture.aic
    sample = GaussianMixture.sample
    _n_parameters = GaussianMixture._n_parameters

    @staticmethod
    def _refuse_array_api(*arrays: Any) -> None:
        try:
            GaussianMixture._refuse_array_api(*arrays)
        except NotImplementedError as error:
            message = str(error).replace("GaussianMixture", "MiniBatchGaussianMixture")
            raise NotImplementedError(message) from None

    # -- fitting ----------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> MiniBatchGaussianMixture:
        """Fit by epochs of shuffled mini-batches until an early stop or ``max_iter``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights.

        Returns
        -------
        self

        Warns
        -----
        ConvergenceWarning
            If ``max_iter`` epochs ran without an early stop.
        """
        self._refuse_array_api(X)
        data = self._checked_data(X, reset=True)
        weights = self._checked_weights(data, sample_weight)
        n_samples = data.shape[0]
        rng = check_random_state(self.random_state)
        total = float(n_samples) if self.total_samples is None else self.total_samples
        online = self._online(total, rng)
        with _sklearn_degenerate_message(), blas_held():  # one-chunk batches: no BLAS threads
            online.initialize(*self._initial_rows(data, weights, rng))
            history, converged, reason = self._epochs(online, data, weights, rng)
        if self.verbose:
            print(f"{'Converged' if converged else 'Stopped'} ({reason}).")
        if not converged:
            warnings.warn(
                f"MiniBatchGaussianMixture did not converge in max_iter={self.max_iter} "
                "epochs. Increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._finish(online, history, converged, reason, data.dtype)
        return self

    def _epochs(
        self,
        online: OnlineEM,
        data: np.ndarray,
        weights: np.ndarray | None,
        rng: np.random.Generator,
    ) -> tuple[list[float], bool, str]:
        """Epochs of shuffled mini-batches until a stop; the epochs' mean batch
        log-likelihoods, whether a convergence criterion stopped, and why."""
        n_samples = data.shape[0]
        batch_size = min(self.batch_size, n_samples)
        n_batches = -(-n_samples // batch_size)
        alpha = min(1.0, 2.0 * batch_size / (n_samples + 1))
        stop = _EarlyStop(self.max_no_improvement, alpha, n_batches)
        history: list[float] = []
        started = time.perf_counter()
        for epoch in range(self.max_iter):
            log_likelihood = weight = 0.0
            if n_batches == 1:
                batches: list[Any] = [slice(None)]  # all rows, in any order
            else:  # each batch gathered in memory order
                batches = [
                    np.sort(rows) for rows in np.array_split(rng.permutation(n_samples), n_batches)
                ]
            stopped = False
            for rows in batches:
                batch, batch_weights = data[rows], None if weights is None else weights[rows]
                online._step(batch, batch_weights)
                batch_log_likelihood = online.last_batch_log_likelihood
                batch_weight = float(
                    batch.shape[0] if batch_weights is None else batch_weights.sum()
                )
                log_likelihood += batch_log_likelihood * batch_weight
                weight += batch_weight
                stopped = stop.update(batch_log_likelihood)
                if stopped:
                    break
            history.append(log_likelihood / weight)
            if self.verbose:
                print(
                    f"Epoch {epoch + 1}: mean batch log-likelihood {history[-1]:.6f}, "
                    f"ewa {stop.ewa:.6f}, {online.n_steps} steps, "
                    f"{time.perf_counter() - started:.3f}s"
                )
            if stopped:
                return history, True, f"no improvement in {self.max_no_improvement} batches"
            if epoch and abs(history[-1] - history[-2]) < self.tol:
                return history, True, f"change below tol={self.tol}"
        return history, False, f"max_iter={self.max_iter} epochs"

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: Any, y: Any = None, sample_weight: Any = None
    ) -> MiniBatchGaussianMixture:
        """One step on a mini-batch; the first call (before any fit) initialises from it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The same number of features as in the first call.
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        first = not hasattr(self, "online_")
        if first:
            self._refuse_array_api(X)
        data = self._checked_data(X, reset=first)
        weights = self._checked_weights(data, sample_weight)
        if first:
            online = self._online(self.total_samples, check_random_state(self.random_state))
            history: list[float] = []
        else:
            online, history = self.online_, list(self.lower_bounds_)
        with _sklearn_degenerate_message(), blas_held():
            if first:
                online.initialize(data, weights)
            online._step(data, weights)
        history.append(online.last_batch_log_likelihood)
        self._finish(online, history, False, "partial_fit", data.dtype)
        return self

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """``fit(X).predict(X)``: the most probable component of each row, shape
        ``(n_samples,)``."""
        return self.fit(X, y, sample_weight).predict(X)

    # -- pieces -----------------------------------------------------------------------------
    def _checked_weights(self, data: np.ndarray, sample_weight: Any) -> np.ndarray | None:
        weights = check_sample_weight(sample_weight, data.shape[0])
        usable = data.shape[0] if weights is None else int(np.count_nonzero(weights))
        if usable < self.n_components and not hasattr(self, "online_"):
            raise ValueError(
                f"Expected n_samples >= n_components but got n_components = "
                f"{self.n_components}, n_samples = {usable}"
            )
        return weights

    def _online(self, total_samples: float | None, rng: np.random.Generator) -> OnlineEM:
        family = GaussianFamily(
            self.n_components, structure_named(self.covariance_type), reg_covar=self.reg_covar
        )
        init = self.init_params
        initializer = init if isinstance(init, Initializer) else _INITIALIZERS[init]()
        return OnlineEM(
            family,
            learning_decay=self.learning_decay,
            learning_offset=self.learning_offset,
            total_samples=total_samples,
            initializer=initializer,
            random_state=rng,
        )

    def _initial_rows(
        self, data: np.ndarray, weights: np.ndarray | None, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """A random sample of ``max(3 batch_size, 3 n_components)`` rows of positive weight
        (MiniBatchKMeans's ``init_size``), or all rows when there are no more."""
        size = 3 * max(self.batch_size, self.n_components)
        if weights is None:
            if data.shape[0] <= size:
                return data, None
            rows = rng.choice(data.shape[0], size, replace=False)
        else:
            candidates = np.flatnonzero(weights > 0)
            if candidates.size <= size:
                return data, weights
            rows = rng.choice(candidates, size, replace=False)
        rows.sort()
        return data[rows], None if weights is None else weights[rows]

    def _finish(
        self,
        online: OnlineEM,
        history: list[float],
        converged: bool,
        reason: str,
        dtype: np.dtype,
    ) -> None:
        result = MixtureResult(
            online.mixture,
            log_likelihood_history=history,
            converged=converged,
            stop_reason=reason,
        )
        self._store(result, dtype)
        self.online_ = online
        self.n_steps_ = online.n_steps


@contextmanager
def _sklearn_degenerate_message() -> Iterator[None]:
    """A degenerate component's error, starting with scikit-learn's words as
    GaussianMixture's does (users match on them)."""
    try:
        yield
    except DegenerateComponentError as error:
        raise DegenerateComponentError(f"{_SKLEARN_DEGENERATE} {error}") from error


class _EarlyStop:
    """MiniBatchKMeans's early stop, on the batches' mean log-likelihood: stop when its
    exponentially weighted average has not risen to a new maximum for ``patience``
    consecutive batches, and never before ``min_steps`` batches.

    The first batch (scored by the initial parameters) is left out, and the average is
    bias-corrected as Adam's moments are (divided by ``1 - (1 - alpha)^t``): for the first
    ``~1 / alpha`` batches it is close to their plain mean instead of being dominated by the
    first value, whose noise would otherwise end the fit early.
    """

    def __init__(self, patience: int | None, alpha: float, min_steps: int) -> None:
        self.patience = patience
        self.alpha = alpha
        self.min_steps = min_steps
        self.ewa = float("nan")
        self._biased = 0.0
        self._decay = 1.0
        self._best = -np.inf
        self._steps = 0
        self._no_improvement = 0

    def update(self, log_likelihood: float) -> bool:
        """Record a batch's mean log-likelihood; True when it is time to stop."""
        self._steps += 1
        if self._steps == 1:
            return False
        self._biased = self._biased * (1.0 - self.alpha) + log_likelihood * self.alpha
        self._decay *= 1.0 - self.alpha
        self.ewa = self._biased / (1.0 - self._decay)  # alpha > 0, so the divisor is too
        if self.ewa > self._best:
            self._best, self._no_improvement = self.ewa, 0
        else:
            self._no_improvement += 1
        return (
            self.patience is not None
            and self._no_improvement >= self.patience
            and self._steps >= self.min_steps
        )
