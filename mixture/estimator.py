"""``GaussianMixture``: a drop-in for :class:`sklearn.mixture.GaussianMixture`.

A thin facade over :class:`~mixture.MixtureEM` and :class:`~mixture.GaussianFamily`: it
translates scikit-learn's constructor parameters (the covariance-type string included, the
only place in the package where that string is interpreted) and exposes the fitted
parameters under scikit-learn's attribute names. The EM and the initialisations are the
engine's.
"""

from __future__ import annotations

import numbers
import sys
import time
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils import check_random_state as sklearn_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from mixture._validation import check_container, check_data, check_int, check_nonnegative_float
from mixture.callbacks import Callback, IterationState
from mixture.engine import MixtureEM, MixtureResult
from mixture.exceptions import DegenerateComponentError, NotFittedError
from mixture.gaussian import MCLUST_NAMES, STRUCTURE_NAMES, GaussianFamily, structure_named
from mixture.gaussian.forms import FullForm, SharedForm
from mixture.initializers import (
    Initializer,
    KMeans,
    KMeansPlusPlus,
    RandomResponsibilities,
    RandomRows,
)
from mixture.labels import ComponentKnowledge
from mixture.mixing import EqualWeights
from mixture.model import Mixture
from mixture.sources import is_dask_collection

__all__ = ["GaussianMixture"]

#: scikit-learn's words when a fit fails on a degenerate covariance (users match on them).
_SKLEARN_DEGENERATE = (
    "Fitting the mixture model failed because some components have ill-defined empirical "
    "covariance (for instance caused by singleton or collapsed samples). Try to decrease the "
    "number of components, increase reg_covar, or scale the input data."
)
_NOT_FITTED = (
    "This {name} instance is not fitted yet. Call 'fit' with appropriate arguments before "
    "using this estimator."
)

_INITIALIZERS: dict[str, type[Initializer]] = {
    "kmeans": KMeans,
    "k-means++": KMeansPlusPlus,
    "random": RandomResponsibilities,
    "random_from_data": RandomRows,
}


class _WithGivenParameters(Initializer):
    """Another initializer's start, with some parameters replaced by user-given ones."""

    def __init__(
        self,
        engine: MixtureEM,
        weights: np.ndarray | None,
        means: np.ndarray | None,
        covariances: np.ndarray | None,
    ) -> None:
        self.engine = engine
        self.weights = weights
        self.means = means
        self.covariances = covariances

    def __repr__(self) -> str:
        return f"{self.engine.initializer!r} with given parameters"

    def initialize(
        self,
        X: np.ndarray,
        n_components: int,
        *,
        sample_weight: np.ndarray | None,
        rng: np.random.Generator,
    ) -> Mixture:
        family = self.engine.family
        given = (self.weights, self.means, self.covariances)
        if all(value is not None for value in given):
            start_weights, start_means, start_covariances = given
        else:
            start = self.engine.initialize(X, sample_weight, random_state=rng)
            start_weights = start.weights if self.weights is None else self.weights
            start_means = start.family.means if self.means is None else self.means
            start_covariances = (
                start.family.covariances if self.covariances is None else self.covariances
            )
        return Mixture(
            start_weights,
            GaussianFamily(
                n_components,
                family.structure,
                reg_covar=family.reg_covar,
                means=start_means,
                covariances=start_covariances,
            ),
        )


class _SklearnVerbose(Callback):
    """Progress messages in scikit-learn's format (``verbose`` 1 or 2)."""

    def __init__(self, verbose: int, interval: int) -> None:
        self.verbose = verbose
        self.interval = interval
        self._started = self._last = 0.0

    def on_run_start(self, run: int) -> None:
        print(f"Initialization {run}")
        self._started = self._last = time.perf_counter()

    def on_iteration(self, state: IterationState) -> None:
        if state.iteration % self.interval:
            return
        if self.verbose == 1:
            print(f"  Iteration {state.iteration}")
        else:
            now = time.perf_counter()
            print(
                f"  Iteration {state.iteration}\t time lapse {now - self._last:.5f}s\t "
                f"ll change {state.change:.5f}"
            )
            self._last = now
        sys.stdout.flush()

    def on_run_end(self, result: MixtureResult) -> None:
        status = "converged" if result.converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {status}.")
        else:
            seconds = time.perf_counter() - self._started
            print(
                f"Initialization {status}. time lapse {seconds:.5f}s\t "
                f"lower bound {result.lower_bound:.5f}."
            )


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by EM, with scikit-learn's interface and numbers.

    Same constructor parameters, defaults, fitted attributes and methods as
    :class:`sklearn.mixture.GaussianMixture`, computed by :class:`~mixture.MixtureEM`; from
    the same starting parameters (``weights_init``, ``means_init``, ``precisions_init``) the
    results agree with scikit-learn's to round-off. The ``init_params`` methods are
    scikit-learn's, but their random draws are keyed by row content, so row order never
    matters and integer sample weights equal repeated rows; the same ``random_state``
    therefore gives a different random start than scikit-learn's. Beyond scikit-learn:
    ``fit(X, sample_weight=...)``, an :class:`~mixture.initializers.Initializer` object as
    ``init_params``, ``callbacks`` and ``chunk_size``.

    Parameters
    ----------
    n_components : int, default 1
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default 'full'
    tol : float, default 1e-3
        Convergence threshold on the change of the mean log-likelihood per sample.
    reg_covar : float, default 1e-6
        Added to the diagonal of the covariances.
    max_iter : int, default 100
        EM iterations per initialisation; 0 only initialises.
    n_init : int, default 1
        Initialisations; the one with the highest final lower bound is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'} or Initializer
    weights_init : array-like of shape (n_components,), optional
    means_init : array-like of shape (n_components, n_features), optional
    precisions_init : array-like, optional
        Precisions in the layout of ``covariance_type`` (see scikit-learn).
    random_state : None, int or RandomState
    warm_start : bool, default False
        Start the next ``fit`` from the current solution (then ``n_init`` is ignored).
    verbose : int, default 0
    verbose_interval : int, default 10
    callbacks : sequence of Callback, optional
        Extra :mod:`mixture.callbacks`, called after every iteration.
    chunk_size : int, optional
        Rows per chunk (memory/speed only; see :class:`~mixture.MixtureEM`).
    equal_weights : bool, default False
        Keep the mixing weights at ``1 / n_components`` (mclust's ``equalPro``): they are
        not estimated and count no free parameter in :meth:`bic` and :meth:`aic`.
    semi_supervised : bool, default False
        Let ``fit(X, y)`` take ``y`` as the known component of some rows, ``-1`` where
        unknown (scikit-learn's semi-supervised convention): those rows keep their
        component in every E-step, the others are estimated, and the log-likelihood is the
        semi-supervised model's (:mod:`mixture.labels`). Off by default, because
        scikit-learn's tools pass a supervised task's class labels as ``y`` (a Pipeline,
        ``cross_val_score``), which are not component indices.
    missing : {'error', 'marginalize'}, default 'error'
        ``'marginalize'``: NaN in ``X`` is a missing value (missing at random): EM
        maximises the observed-data likelihood, and ``score_samples``, ``predict``,
        ``predict_proba`` and :meth:`impute` accept rows with NaN (see
        :class:`~mixture.MixtureEM`). ``'error'`` refuses NaN, as scikit-learn does.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_, precisions_, precisions_cholesky_ : ndarray
        Shape depends on ``covariance_type``, as in scikit-learn.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood per sample of the parameters before the last M-step.
    lower_bounds_ : list of float
        ``lower_bound_`` at each iteration of the best initialisation.
    n_features_in_ : int
    result_ : MixtureResult
        The engine's result (components, history, ...).

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        From ``fit`` for a bad hyper-parameter (as scikit-learn; a ``ValueError`` and a
        ``TypeError``).
    DegenerateComponentError
        From ``fit`` when every one of the ``n_init`` runs degenerated (a component
        collapsed); a degenerate run among successful ones is skipped with a
        :class:`~mixture.exceptions.DegenerateRunWarning`.
    NotFittedError
        From the methods that need a fit (:class:`mixture.NotFittedError`, a subclass of
        scikit-learn's).
    NotImplementedError
        With ``sklearn.config_context(array_api_dispatch=True)`` and arrays that are not
        NumPy arrays: only NumPy input is supported.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        # scikit-learn's GaussianMixture constraints, then ours.
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions(set(_INITIALIZERS)), Initializer],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions(set(STRUCTURE_NAMES) | set(MCLUST_NAMES))],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "callbacks": [list, tuple, None],
        "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
        "equal_weights": ["boolean"],
        "semi_supervised": ["boolean"],
        "missing": [StrOptions({"error", "marginalize"})],
    }

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str | Initializer = "kmeans",
        weights_init: Any = None,
        means_init: Any = None,
        precisions_init: Any = None,
        random_state: Any = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
        callbacks: Any = None,
        chunk_size: int | None = None,
        equal_weights: bool = False,
        semi_supervised: bool = False,
        missing: str = "error",
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.callbacks = callbacks
        self.chunk_size = chunk_size
        self.equal_weights = equal_weights
        self.semi_supervised = semi_supervised
        self.missing = missing

    # -- fitting ----------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> GaussianMixture:
        """Estimate the parameters by EM (``n_init`` runs, the best kept).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of int of shape (n_samples,), optional
            Ignored unless ``semi_supervised=True``: then the known component of each row,
            ``-1`` where unknown.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights; an integer weight equals repeating the row.

        Returns
        -------
        self
        """
        self._fit(X, y, sample_weight)  # no labels: a pass over the rows fewer
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then label each row with its most probable component.

        Equal to ``fit(X).predict(X)`` for any ``max_iter`` and ``tol``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        result, data = self._fit(X, y, sample_weight)
        return result.predict(data)

    def _fit(self, X: Any, y: Any, sample_weight: Any) -> tuple[MixtureResult, Any]:
        """Fit and store the fitted attributes; the result and the data it was fitted to
        (checked; a Dask collection as given)."""
        if is_dask_collection(X):
            return self._fit_dask(X, sample_weight), X
        self._refuse_array_api(X, self.weights_init, self.means_init, self.precisions_init)
        data = self._checked_data(X, reset=True)
        n_components = check_int(self.n_components, name="n_components", minimum=1)
        if data.shape[0] < n_components:
            raise ValueError(
                f"Expected n_samples >= n_components but got n_components = {n_components}, "
                f"n_samples = {data.shape[0]}"
            )
        engine = self._engine(data)
        weights = None if sample_weight is None else np.asarray(sample_weight)
        continuing = self.warm_start and hasattr(self, "result_")
        max_iter = check_int(self.max_iter, name="max_iter", minimum=0)
        labels = None
        if self.semi_supervised and y is not None:
            labels = ComponentKnowledge.from_labels(y, n_components)
        try:
            if max_iter == 0:
                result = self._initialise_only(engine, data, weights)
            elif continuing:
                result = engine.fit(data, weights, warm_start=self.result_, labels=labels)
            else:
                result = engine.fit(data, weights, labels=labels)
        except DegenerateComponentError as error:
            raise DegenerateComponentError(f"{_SKLEARN_DEGENERATE} {error}") from error
        self._store(result, data.dtype)
        return result, data

    def _fit_dask(self, X: Any, sample_weight: Any) -> MixtureResult:
        """Fit on a Dask array or data frame where it lives (:mod:`mixture.distributed`);
        labels asked of the result stay lazy."""
        from mixture.distributed import DaskSource

        source = DaskSource(X, sample_weight)
        n_components = check_int(self.n_components, name="n_components", minimum=1)
        if source.n_rows is not None and source.n_rows < n_components:
            raise ValueError(
                f"Expected n_samples >= n_components but got n_components = {n_components}, "
                f"n_samples = {source.n_rows}"
            )
        if check_int(self.max_iter, name="max_iter", minimum=0) == 0:
            raise ValueError("max_iter=0 (initialisation only) needs in-memory data")
        self.n_features_in_ = source.n_features
        names = getattr(X, "columns", None)
        if names is not None:
            self.feature_names_in_ = np.asarray([str(name) for name in names], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        engine = self._engine_for(source.n_features)
        continuing = self.warm_start and hasattr(self, "result_")
        try:
            if continuing:
                result = engine.fit(source, warm_start=self.result_)
            else:
                result = engine.fit(source)
        except DegenerateComponentError as error:
            raise DegenerateComponentError(f"{_SKLEARN_DEGENERATE} {error}") from error
        self._store(result, np.dtype(X.dtype) if hasattr(X, "dtype") else np.dtype(np.float64))
        return result

    def _engine(self, data: np.ndarray) -> MixtureEM:
        return self._engine_for(data.shape[1])

    def _engine_for(self, n_features: int) -> MixtureEM:
        structure = structure_named(self.covariance_type)
        reg_covar = check_nonnegative_float(self.reg_covar, name="reg_covar")
        family = GaussianFamily(self.n_components, structure, reg_covar=reg_covar)
        callbacks = list(self.callbacks or ())
        verbose = check_int(int(self.verbose), name="verbose", minimum=0)
        if verbose:
            interval = check_int(self.verbose_interval, name="verbose_interval", minimum=1)
            callbacks.insert(0, _SklearnVerbose(verbose, interval))
        n_init = check_int(self.n_init, name="n_init", minimum=1)
        initializer = self._initializer(family, n_features)
        return MixtureEM(
            family,
            initializer=initializer,
            tol=check_nonnegative_float(self.tol, name="tol"),
            max_iter=max(1, check_int(self.max_iter, name="max_iter", minimum=0)),
            callbacks=callbacks,
            n_init=n_init,
            random_state=self._seed(),
            chunk_size=self.chunk_size,
            init_sample_size=None,  # initialise on every row, as scikit-learn does
            mixing_weights=EqualWeights() if self.equal_weights else None,
            missing=self.missing,
        )

    def _seed(self) -> Any:
        """The engine's seed: an int or None as given; a RandomState supplies an int."""
        if isinstance(self.random_state, np.random.RandomState):
            return int(self.random_state.randint(np.iinfo(np.int32).max))
        return self.random_state

    def _initializer(self, family: GaussianFamily, n_features: int) -> Initializer:
        if isinstance(self.init_params, Initializer):
            base: Initializer = self.init_params
        elif isinstance(self.init_params, str) and self.init_params in _INITIALIZERS:
            base = _INITIALIZERS[self.init_params]()
        else:
            raise ValueError(
                f"init_params must be one of {list(_INITIALIZERS)} or a "
                f"mixture.initializers.Initializer; got {self.init_params!r}"
            )
        given = self._given_parameters(family, n_features)
        if all(value is None for value in given):
            return base
        return _WithGivenParameters(MixtureEM(family, initializer=base), *given)

    def _given_parameters(self, family: GaussianFamily, n_features: int):
        """weights_init, means_init and covariances from precisions_init, checked."""
        n_components = family.n_components
        weights = means = covariances = None
        # The messages start with scikit-learn's, then say which parameter.
        if self.weights_init is not None:
            weights = np.asarray(self.weights_init)
            # float32 weights are summed in float32 and checked to float32 resolution, as
            # scikit-learn does.
            weights = weights.astype(np.float32 if weights.dtype == np.float32 else np.float64)
            if weights.shape != (n_components,):
                raise ValueError(
                    f"The parameter 'weights' should have the shape of ({n_components},), but "
                    f"got {weights.shape} (weights_init)"
                )
            if not np.isfinite(weights).all() or (weights < 0).any() or (weights > 1).any():
                raise ValueError(
                    "The parameter 'weights' should be in the range [0, 1], but got min value "
                    f"{np.min(weights):.5f}, max value {np.max(weights):.5f} (weights_init)"
                )
            atol = 1e-6 if weights.dtype == np.float32 else 1e-8
            if not np.allclose(float(np.abs(1.0 - np.sum(weights))), 0.0, atol=atol):
                raise ValueError(
                    "The parameter 'weights' should be normalized, but got sum(weights) = "
                    f"{np.sum(weights):.5f} (weights_init)"
                )
        if self.means_init is not None:
            means = np.asarray(self.means_init, dtype=np.float64)
            if means.shape != (n_components, n_features):
                raise ValueError(
                    f"The parameter 'means' should have the shape of ({n_components}, "
                    f"{n_features}), but got {means.shape} (means_init)"
                )
        if self.precisions_init is not None:
            precisions = np.asarray(self.precisions_init, dtype=np.float64)
            expected = family.structure.form.shape(n_components, n_features)
            what = f"The parameter '{self.covariance_type} precision'"
            if precisions.shape != expected:
                raise ValueError(
                    f"{what} should have the shape of {expected}, but got {precisions.shape} "
                    "(precisions_init)"
                )
            try:
                family.structure.form.check(precisions)
            except ValueError as exc:
                matrices = isinstance(family.structure.form, (FullForm, SharedForm))
                should = "symmetric, positive-definite" if matrices else "positive"
                raise ValueError(f"{what} should be {should} (precisions_init: {exc})") from None
            covariances = family.structure.form.covariances_from_precisions(precisions)
        return weights, means, covariances

    def _initialise_only(
        self, engine: MixtureEM, data: np.ndarray, weights: np.ndarray | None
    ) -> MixtureResult:
        """``max_iter=0``: initialise ``n_init`` times (as scikit-learn, the last is kept)."""
        rng = np.random.default_rng(engine.random_state)
        start = None
        for _ in range(engine.n_init):
            start = engine.initialize(data, weights, random_state=rng)
        return MixtureResult(
            start, log_likelihood_history=[], converged=False, stop_reason="max_iter=0"
        )

    def _store(self, result: MixtureResult, dtype: np.dtype) -> None:
        family = result.family
        factors = family.precisions_cholesky
        precisions = family.structure.form.precisions_from_cholesky(factors)
        self.result_ = result
        self.weights_ = result.weights.astype(dtype)
        self.means_ = family.means.astype(dtype)
        self.covariances_ = family.covariances.astype(dtype)
        self.precisions_cholesky_ = factors.astype(dtype)
        self.precisions_ = precisions.astype(dtype)
        self.converged_ = result.converged
        self.n_iter_ = result.n_iter
        self.lower_bound_ = result.lower_bound if result.n_iter else -np.inf
        self.lower_bounds_ = result.log_likelihood_history.tolist()

    # -- using the fit ----------------------------------------------------------------------
    def _check_fitted(self) -> None:
        """Raise :class:`mixture.NotFittedError` (a scikit-learn ``NotFittedError``)."""
        try:
            check_is_fitted(self, "result_")
        except SklearnNotFittedError:
            raise NotFittedError(_NOT_FITTED.format(name=type(self).__name__)) from None

    @staticmethod
    def _refuse_array_api(*arrays: Any) -> None:
        """Under ``array_api_dispatch``, refuse arrays of other namespaces than NumPy's.

        scikit-learn returns arrays of the input's namespace there; this estimator computes
        with NumPy only, so it refuses rather than return NumPy arrays for, say, torch input.
        """
        if not sklearn.get_config().get("array_api_dispatch", False):
            return
        for array in arrays:
            if hasattr(array, "__array_namespace__") and not isinstance(array, np.ndarray):
                raise NotImplementedError(
                    "mixture.GaussianMixture does not support array_api_dispatch; pass NumPy "
                    f"arrays (got {type(array).__module__}.{type(array).__name__})"
                )

    def _checked_data(self, X: Any, *, reset: bool) -> np.ndarray:
        if not reset:
            self._check_fitted()
            self._refuse_array_api(X)
        check_container(X)
        data = validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,
            ensure_min_samples=2 if reset else 1,
        )
        # MiniBatchGaussianMixture shares this check and has no missing-value mode.
        return check_data(data, allow_missing=getattr(self, "missing", "error") == "marginalize")

    def impute(self, X: Any, *, draw: bool = False, random_state: Any = None) -> np.ndarray:
        """``X`` with its missing values (NaN) filled under the fitted mixture: conditional
        means, or draws (see :meth:`mixture.Mixture.impute`)."""
        self._check_fitted()
        self._refuse_array_api(X)
        check_container(X)
        data = validate_data(
            self, X, reset=False, dtype=[np.float64, np.float32], ensure_all_finite=False
        )
        return self.result_.impute(data, draw=draw, random_state=random_state)

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-density of each row, shape ``(n_samples,)``."""
        if is_dask_collection(X):  # lazy, one task per row block
            self._check_fitted()
            return self.result_.score_samples(X)
        data = self._checked_data(X, reset=False)
        return self.result_.score_samples(data)

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Mean log-likelihood per row (weighted by ``sample_weight`` if given)."""
        data = self._checked_data(X, reset=False)
        return self.result_.score(data, sample_weight)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable component of each row, shape ``(n_samples,)``."""
        if is_dask_collection(X):  # lazy, one task per row block
            self._check_fitted()
            return self.result_.predict(X)
        data = self._checked_data(X, reset=False)
        return self.result_.predict(data)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Posterior probability of each component, shape ``(n_samples, n_components)``."""
        if is_dask_collection(X):  # lazy, one task per row block
            self._check_fitted()
            return self.result_.predict_proba(X)
        data = self._checked_data(X, reset=False)
        return self.result_.predict_proba(data)

    def bic(self, X: Any) -> float:
        """Bayesian information criterion on ``X`` (lower is better)."""
        data = self._checked_data(X, reset=False)
        return self.result_.bic(data)

    def aic(self, X: Any) -> float:
        """Akaike information criterion on ``X`` (lower is better)."""
        data = self._checked_data(X, reset=False)
        return self.result_.aic(data)

    def _n_parameters(self) -> int:
        self._check_fitted()
        return self.result_.n_parameters

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw rows as scikit-learn does (same ``random_state``, same draws).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
            Component of each row (rows are grouped by component).
        """
        self._check_fitted()
        if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling requires at "
                "least one sample."
            )
        rng = sklearn_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.result_.weights)
        family = self.result_.family
        means = family.means
        structure = family.structure
        if isinstance(structure.form, (FullForm, SharedForm)):
            dense = family.covariance_matrices
            rows = [
                rng.multivariate_normal(mean, covariance, int(count))
                for mean, covariance, count in zip(means, dense, counts, strict=True)
            ]
        else:
            covariances = family.covariances
            rows = [
                mean + rng.standard_normal(size=(int(count), means.shape[1])) * np.sqrt(cov)
                for mean, cov, count in zip(means, covariances, counts, strict=True)
            ]
        labels = np.concatenate(
            [np.full(int(count), k, dtype=np.int64) for k, count in enumerate(counts)]
        )
        return np.vstack(rows), labels
