"""The EM loop, as a map-reduce over row chunks.

One iteration::

    for each chunk of rows:          E-step -> MixtureStatistics (log-likelihood, N_k, stats)
    add the chunks' statistics       (the reduce, in chunk order; statistics are additive)
    M-step                           new weights N_k / N and new family from the sums

The chunks run in a small pool of threads (one chunk per thread at a time, the BLAS held at
one thread), so memory beyond the data is O(threads x chunk) plus parameter-sized arrays,
whatever the number of rows, and results do not depend on the number of threads. The engine
knows nothing about any particular distribution: it talks to a
:class:`~mixture.family.ComponentFamily`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from mixture._chunking import auto_chunk_size, blas_held, sum_chunks
from mixture._validation import (
    check_data,
    check_int,
    check_observed_columns,
    check_random_state,
    check_sample_weight,
)
from mixture.acceleration import SQUAREM, AcceleratedState, Acceleration, squarem_reason
from mixture.callbacks import Callback, IterationState, MaxIterations, Stop, Tolerance
from mixture.contract import Component
from mixture.exceptions import (
    ConvergenceWarning,
    DegenerateComponentError,
    DegenerateFitWarning,
    DegenerateRunWarning,
    EmptyComponentWarning,
)
from mixture.executors import Executor, default_executor
from mixture.family import ComponentFamily, as_family
from mixture.initializers import GivenParameters, Initializer, KMeans
from mixture.labels import ComponentKnowledge, as_knowledge
from mixture.mixing import MixingWeights, check_mixing_weights
from mixture.model import Mixture, MixtureStatistics, marginalizes_missing, weighted_statistics
from mixture.result import MixtureResult
from mixture.sources import ArraySource, RowSource, as_source

__all__ = ["DEFAULT_INIT_SAMPLE_SIZE", "MixtureEM", "MixtureResult"]

#: Rows the initializer sees at most (see ``MixtureEM(init_sample_size=...)``).
DEFAULT_INIT_SAMPLE_SIZE = 2**17


class MixtureEM:
    """Expectation-Maximization for any mixture.

    Parameters
    ----------
    model : ComponentFamily or sequence of Component
        What to fit: a family such as ``GaussianFamily(3, FullCovariance())`` (an unfitted
        template is fine) or a list of components, possibly of different types. The
        initializer decides the starting parameters; the model supplies the settings.
    initializer : Initializer, default KMeans()
        Starting point of each run (see :mod:`mixture.initializers`). For a fitted family
        with frozen parameters (``GaussianFamily(..., frozen_means=...)``, or components
        wrapped in :class:`~mixture.components.Frozen`) the default is the family's own
        parameters with equal weights.
    tol : float or None, default 1e-3
        Convergence tolerance on the change of mean log-likelihood per row: adds the callback
        ``Tolerance(tol)``. ``None`` leaves convergence to your callbacks.
    max_iter : int, default 100
        Iteration limit of each run: adds the callback ``MaxIterations(max_iter)``, so every
        run ends.
    callbacks : sequence of Callback, optional
        Further callbacks (history, printing, your own stop conditions), called after the two
        above on every iteration; any may stop the run.
    n_init : int, default 1
        Number of runs from different starting points; the best final log-likelihood wins.
    random_state : None, int or numpy.random.Generator
        Seed for the initializers; an int makes fits reproducible.
    chunk_size : int, optional
        Rows per chunk. By default chosen so per-chunk temporaries fit in cache. Changes speed
        and memory, never the result (beyond round-off).
    init_sample_size : int or None, default 131072
        The initializer runs on at most this many rows: on a sample keyed by row content
        (:func:`mixture.sources.row_sample`) when the data has more, so the start does not
        depend on the order or chunking of the rows and needs no copy of them. ``None``: all
        rows of in-memory data (a streamed source is still sampled, at the default size).
    executor : Executor, optional
        Where the E-step's chunks run (:mod:`mixture.executors`): threads of this process by
        default; a source that lives elsewhere (a Dask collection) brings its own.
    acceleration : Acceleration, optional
        How each run iterates instead of plain EM steps, for example
        :class:`~mixture.acceleration.SQUAREM` (extrapolation of the summed statistics with
        EM's monotonicity kept): the same fit in fewer passes over the data where plain EM
        converges slowly. The callbacks then see one state per accepted step, whose
        ``iteration`` counts passes over the data, so ``max_iter`` limits passes.
    mixing_weights : MixingWeights, optional
        Mixing weights known in advance (:mod:`mixture.mixing`): ``EqualWeights()`` or
        ``FixedWeights(values)``. Every M-step keeps them, and they count no free
        parameter. By default they are estimated.
    missing : {'error', 'marginalize'}, default 'error'
        ``'marginalize'``: NaN in the rows is a missing value (missing at random). EM then
        maximises the observed-data likelihood: a row's density is that of its observed
        values, and the E-step completes each row with its conditional law given them
        (:mod:`mixture.gaussian.missing`; Gaussian families). The start is made on the rows
        with each missing value replaced by its column's mean. The fitted mixture keeps the
        setting, so it scores, predicts and imputes rows with missing values. A row with no
        observed value is refused. With ``'error'`` NaN is refused, as by scikit-learn.
    whole_runs : bool, default False
        Let the family compute each EM run in one call where it can
        (:meth:`~mixture.family.ComponentFamily.whole_run`): for Gaussian structures with
        a closed-form M-step (with their MAP M-step under a conjugate prior, except EII and
        EEI), on small in-memory float64 rows, with numba
        installed (the ``fast`` extra), one compiled loop runs the E-steps, M-steps,
        SQUAREM's cycles and the stopping rule. The same run up to round-off, without the
        Python around every iteration (a model selection on a few hundred rows runs
        thousands); applies with the default callbacks only and no ``mixing_weights``,
        ``labels`` or ``missing='marginalize'``. Anything the loop does not handle (an
        empty or collapsing component, for one) hands the run back to the engine's own
        loop from the same start. Off by default: the first use in a process imports
        numba (about half a second), more than a single small fit takes;
        :func:`~mixture.select_model` turns it on.

    Examples
    --------
    >>> import numpy as np
    >>> from mixture import MixtureEM, GaussianFamily, FullCovariance
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-3, 1, (200, 2)), rng.normal(3, 1, (200, 2))])
    >>> result = MixtureEM(GaussianFamily(2, FullCovariance()), random_state=0).fit(X)
    >>> bool(result.converged), result.weights.round(2).tolist()
    (True, [0.5, 0.5])
    """

    def __init__(
        self,
        model: ComponentFamily | Sequence[Component],
        *,
        initializer: Initializer | None = None,
        tol: float | None = 1e-3,
        max_iter: int = 100,
        callbacks: Iterable[Callback] = (),
        n_init: int = 1,
        random_state: Any = None,
        chunk_size: int | None = None,
        init_sample_size: int | None = DEFAULT_INIT_SAMPLE_SIZE,
        executor: Executor | None = None,
        acceleration: Acceleration | None = None,
        mixing_weights: MixingWeights | None = None,
        missing: str = "error",
        whole_runs: bool = False,
    ) -> None:
        self.family = as_family(model)
        self.whole_runs = bool(whole_runs)
        if initializer is None:
            # A family with frozen parameters is fitted: its own parameters are the start
            # (a partition from k-means would not know which component is which).
            initializer = (
                GivenParameters(_equal_weights_mixture(self.family))
                if self.family.is_fitted and self.family.has_frozen_parameters
                else KMeans()
            )
        self.initializer = initializer
        if not isinstance(self.initializer, Initializer):
            raise ValueError(
                f"initializer must be a mixture.initializers.Initializer; got {initializer!r}"
            )
        if isinstance(callbacks, Callback) or not isinstance(callbacks, Iterable):
            raise ValueError(
                f"callbacks must be a list of Callback objects; got {callbacks!r} "
                "(wrap a single callback in a list)"
            )
        extra = tuple(callbacks)
        for callback in extra:
            if not isinstance(callback, Callback):
                raise ValueError(f"callbacks must be Callback objects; got {callback!r}")
        self.tol = tol
        self.max_iter = max_iter
        stopping = () if tol is None else (Tolerance(tol),)
        #: Every callback of a run, in call order: Tolerance, MaxIterations, then yours.
        self.callbacks: tuple[Callback, ...] = (*stopping, MaxIterations(max_iter), *extra)
        self.n_init = check_int(n_init, name="n_init", minimum=1)
        self.random_state = random_state
        self.chunk_size = (
            None if chunk_size is None else check_int(chunk_size, name="chunk_size", minimum=1)
        )
        self.init_sample_size = (
            None
            if init_sample_size is None
            else check_int(init_sample_size, name="init_sample_size", minimum=1)
        )
        if executor is not None and not isinstance(executor, Executor):
            raise ValueError(f"executor must be a mixture.executors.Executor; got {executor!r}")
        self.executor = executor
        if acceleration is not None and not isinstance(acceleration, Acceleration):
            raise ValueError(
                "acceleration must be a mixture.acceleration.Acceleration such as SQUAREM(); "
                f"got {acceleration!r}"
            )
        self.acceleration = acceleration
        self.mixing_weights = check_mixing_weights(mixing_weights)
        # Checks the value and that the family can marginalise (a clear error otherwise).
        self._marginalize = marginalizes_missing(missing, self.family)
        self.missing = missing
        if self.mixing_weights is not None:
            self.mixing_weights.weights(self.n_components)  # the right number of values

    @property
    def n_components(self) -> int:
        return self.family.n_components

    def __repr__(self) -> str:
        return (
            f"MixtureEM({self.family!r}, initializer={self.initializer!r}, "
            f"callbacks={list(self.callbacks)!r}, n_init={self.n_init}, "
            f"random_state={self.random_state!r}, chunk_size={self.chunk_size!r})"
        )

    # -- data -------------------------------------------------------------------------------
    def _check_inputs(self, X: Any, sample_weight: Any) -> tuple[np.ndarray, np.ndarray | None]:
        n_features = self.family.n_features if self.family.is_fitted else None
        data = check_data(X, n_features=n_features)
        weights = check_sample_weight(sample_weight, data.shape[0])
        usable = data.shape[0] if weights is None else int((weights > 0).sum())
        if usable < self.n_components:
            raise ValueError(
                f"X has {usable} row(s) with positive weight but the model has "
                f"{self.n_components} components; need at least one row per component"
            )
        return data, weights

    def _values_per_row(self, data: np.ndarray) -> int:
        """The numbers a row's E-step touches (its log-densities and features), as
        :func:`~mixture._chunking.auto_chunk_size` counts them: small passes run unthreaded."""
        return self.n_components + 3 * data.shape[1] + 2

    def _chunk_size(self, data: np.ndarray) -> int:
        if self.chunk_size is not None:
            return self.chunk_size
        return auto_chunk_size(self.n_components, data.shape[1], data.itemsize, data.shape[0])

    # -- the two steps ----------------------------------------------------------------------
    def e_step(self, X: Any, mixture: Mixture, sample_weight: Any = None) -> MixtureStatistics:
        """E-step over all rows: responsibilities, reduced to summed statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        mixture : Mixture
            Current parameters.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        MixtureStatistics
            ``mean_log_likelihood`` is the log-likelihood of ``mixture`` per row.
        """
        data = check_data(X, n_features=mixture.n_features)
        weights = check_sample_weight(sample_weight, data.shape[0])
        return self._e_step(data, mixture, weights)

    def _e_step(
        self,
        data: np.ndarray,
        mixture: Mixture,
        weights: np.ndarray | None,
        knowledge: ComponentKnowledge | None = None,
    ) -> MixtureStatistics:
        # The map-reduce: chunks in parallel threads, their statistics added in chunk order.
        def chunk_statistics(rows: slice) -> MixtureStatistics:
            return mixture.chunk_statistics(
                data[rows],
                None if weights is None else weights[rows],
                log_mask=None if knowledge is None else knowledge.log_mask(rows),
            )

        return sum_chunks(
            chunk_statistics, data.shape[0], self._chunk_size(data), self._values_per_row(data)
        )

    def responsibilities(self, X: Any, mixture: Mixture) -> np.ndarray:
        """The E-step's responsibilities ``gamma_nk``: the probability that component ``k``
        generated row ``n`` under ``mixture``.

        For studying EM step by step on small data (:meth:`e_step` returns them already
        summed into statistics, which is what the M-step needs). Equal to
        ``mixture.predict_proba(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        mixture : Mixture

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            Rows sum to 1.
        """
        return mixture.predict_proba(X)

    def m_step(self, mixture: Mixture, statistics: MixtureStatistics) -> Mixture:
        """M-step: new mixing weights ``N_k / N`` and new components from the statistics.

        A component with zero total responsibility keeps its parameters and gets weight 0
        (an :class:`~mixture.exceptions.EmptyComponentWarning` says so).
        """
        return self._mixture_from(
            mixture.family, statistics.component_weight, statistics.family_statistics
        )

    def _mixture_from(
        self, family: ComponentFamily, component_weight: np.ndarray, family_statistics: Any
    ) -> Mixture:
        empty = _EMPTY if component_weight.all() else np.flatnonzero(~(component_weight > 0))
        new_family = family.m_step(family_statistics)
        fixed = (
            None
            if self.mixing_weights is None
            else self.mixing_weights.weights(component_weight.shape[0])
        )
        if empty.size:
            warnings.warn(
                f"component(s) {empty.tolist()} received zero responsibility; they keep their "
                "previous parameters with weight 0. Consider fewer components.",
                EmptyComponentWarning,
                stacklevel=2,
            )
        return Mixture.from_m_step(component_weight, new_family, fixed, self._marginalize)

    # -- initialisation ---------------------------------------------------------------------
    def initialize(self, X: Any, sample_weight: Any = None, *, random_state: Any = None) -> Mixture:
        """Starting parameters from the initializer (one run's worth).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_weight : array-like of shape (n_samples,), optional
        random_state : None, int or numpy.random.Generator
            Defaults to the engine's ``random_state``.

        Returns
        -------
        Mixture
        """
        data, weights = self._check_inputs(X, sample_weight)
        seed = self.random_state if random_state is None else random_state
        return self._initialize(data, weights, check_random_state(seed), self.initializer)

    def _initialize(
        self,
        data: np.ndarray,
        weights: np.ndarray | None,
        rng: np.random.Generator,
        initializer: Initializer,
        knowledge: ComponentKnowledge | None = None,
        run: int = 0,
    ) -> Mixture:
        given = isinstance(initializer, GivenParameters)  # a warm start or given parameters
        if knowledge is not None and run == 0 and not given and knowledge.covers_every_component:
            # The first run starts from the known rows alone (each component fitted to the
            # rows known to be its own): the unknown rows cannot pull it into another basin.
            try:
                return self._start_from(data, weights, knowledge.known_responsibilities())
            except DegenerateComponentError:
                pass  # too few known rows for a component's parameters: the initializer
        start = initializer.initialize(data, self.n_components, sample_weight=weights, rng=rng)
        if isinstance(start, Mixture):
            return self._checked_start(start, data.shape[1])
        assignment = _checked_assignment(start, data.shape[0], self.n_components, initializer)
        if knowledge is not None:  # the start's responsibilities kept to the known components
            assignment = knowledge.restrict(
                _responsibilities_of(assignment, slice(None), self.n_components, np.float64)
            )
        return self._start_from(data, weights, assignment)

    def _start_from(
        self, data: np.ndarray, weights: np.ndarray | None, assignment: np.ndarray
    ) -> Mixture:
        """The M-step of a start's labels ``(n,)`` or responsibilities ``(n, K)``."""

        def chunk_statistics(rows: slice) -> MixtureStatistics:
            chunk_resp = _responsibilities_of(assignment, rows, self.n_components, data.dtype)
            chunk_weights = None if weights is None else weights[rows]
            return weighted_statistics(self.family, data[rows], chunk_resp, chunk_weights)

        total = sum_chunks(
            chunk_statistics, data.shape[0], self._chunk_size(data), self._values_per_row(data)
        )
        component_weight, family_statistics = total.component_weight, total.family_statistics
        return self._mixture_from(self.family, component_weight, family_statistics)

    def _checked_start(self, start: Mixture, n_features: int) -> Mixture:
        """The start's parameters under this engine's model settings (e.g. reg_covar)."""
        if start.n_components != self.n_components:
            raise ValueError(
                f"the starting mixture has {start.n_components} components; the model has "
                f"{self.n_components}"
            )
        if start.n_features != n_features:
            raise ValueError(
                f"the starting mixture has {start.n_features} features; the data has {n_features}"
            )
        return Mixture(
            start.weights, self.family.with_parameters_from(start.family), missing=self.missing
        )

    # -- row sources ------------------------------------------------------------------------
    def _checked_source(self, X: Any, sample_weight: Any) -> RowSource:
        source = as_source(X, sample_weight, allow_missing=self._marginalize)
        if self._marginalize and not isinstance(source, ArraySource):
            raise ValueError(
                "missing='marginalize' needs in-memory rows (an array or a memory map); "
                f"got a {type(source).__name__}"
            )
        if self._marginalize:
            check_observed_columns(source.X)
        if self.family.is_fitted and source.n_features != self.family.n_features:
            raise ValueError(
                f"X has {source.n_features} features, but the model was fitted with "
                f"{self.family.n_features}"
            )
        if isinstance(source, ArraySource):
            weights = source.weights
            usable = source.n_rows if weights is None else int((weights > 0).sum())
            if usable < self.n_components:
                raise ValueError(
                    f"X has {usable} row(s) with positive weight but the model has "
                    f"{self.n_components} components; need at least one row per component"
                )
        return source

    def _source_e_step(
        self, source: RowSource, mixture: Mixture, knowledge: ComponentKnowledge | None = None
    ) -> MixtureStatistics:
        if knowledge is not None:  # in-memory rows (checked by fit): chunks of the array
            assert isinstance(source, ArraySource)
            return self._e_step(source.X, mixture, source.weights, knowledge)
        if self.executor is None and isinstance(source, ArraySource):  # slices, shared pool
            return self._e_step(source.X, mixture, source.weights)
        executor = self.executor if self.executor is not None else default_executor(source)
        rows = self.chunk_size or auto_chunk_size(self.n_components, source.n_features)
        return executor.e_step(mixture, source, rows)

    def _start_rows(
        self,
        source: RowSource,
        initializer: Initializer,
        knowledge: ComponentKnowledge | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The rows the start is made on (:meth:`_rows_for_start`), with missing values
        replaced by their column's mean: the initializers need complete rows, and EM then
        marginalises the missing values."""
        X, weights = self._rows_for_start(source, initializer, knowledge)
        if self._marginalize and np.isnan(X).any():
            X = _mean_imputed(X, weights)
        return X, weights

    def _rows_for_start(
        self,
        source: RowSource,
        initializer: Initializer,
        knowledge: ComponentKnowledge | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The rows the initializer sees: all of an in-memory array that is small enough (or
        when ``init_sample_size`` is None, or with known components, which are per row),
        else a content-keyed sample."""
        size = self.init_sample_size
        whole = size is None or knowledge is not None
        if isinstance(source, ArraySource) and (whole or source.n_rows <= size):
            return source.X, source.weights
        if isinstance(initializer, GivenParameters):  # reads no rows: no sample needed
            return np.empty((0, source.n_features)), None
        seed = _sample_seed(self.random_state)
        X, weights = source.row_sample(size or DEFAULT_INIT_SAMPLE_SIZE, seed)
        usable = X.shape[0]
        if usable < self.n_components:
            raise ValueError(
                f"the data has {usable} row(s) with positive weight but the model has "
                f"{self.n_components} components; need at least one row per component"
            )
        return X, weights

    # -- the loop ---------------------------------------------------------------------------
    def run(
        self, X: Any, start: Mixture, sample_weight: Any = None, *, run: int = 0
    ) -> MixtureResult:
        """One EM run from given parameters until a callback stops it."""
        source = self._checked_source(X, sample_weight)
        return self._run(source, self._checked_start(start, source.n_features), run)

    def _run(
        self,
        source: RowSource,
        mixture: Mixture,
        run: int,
        previous: float = -np.inf,
        knowledge: ComponentKnowledge | None = None,
    ) -> MixtureResult:
        """EM iterations until a callback stops; ``previous`` is the log-likelihood the first
        change is measured from (a warm start's last value, else -inf)."""
        for callback in self.callbacks:
            callback.on_run_start(run)
        history: list[float] = []
        stop: Stop | None = None
        whole = self._whole_run(source, mixture, run, previous, knowledge)
        if whole is not None:
            mixture, history, stop = whole
        with blas_held():  # the chunks run in threads; no BLAS threads besides them
            if stop is None and self.acceleration is not None:  # it runs the loop
                accelerated = self.acceleration.iterate(
                    mixture,
                    e_step=lambda current: self._source_e_step(source, current, knowledge),
                    m_step=self.m_step,
                    notify=lambda state: _combine(
                        [callback.on_iteration(state) for callback in self.callbacks]
                    ),
                    run=run,
                    previous=previous,
                )
                mixture, history, stop = accelerated.mixture, accelerated.history, accelerated.stop
            while stop is None:
                statistics = self._source_e_step(source, mixture, knowledge)
                log_likelihood = statistics.mean_log_likelihood
                change = log_likelihood - (history[-1] if history else previous)
                mixture = self.m_step(mixture, statistics)
                history.append(log_likelihood)
                state = IterationState(run, len(history), log_likelihood, change, mixture)
                stop = _combine([callback.on_iteration(state) for callback in self.callbacks])
        result = MixtureResult(
            mixture,
            log_likelihood_history=history,
            converged=stop.converged,
            stop_reason=stop.reason,
            run=run,
        )
        for callback in self.callbacks:
            callback.on_run_end(result)
        return result

    def _whole_run(
        self,
        source: RowSource,
        mixture: Mixture,
        run: int,
        previous: float,
        knowledge: ComponentKnowledge | None,
    ) -> tuple[Mixture, list[float], Stop] | None:
        """The run computed by the family in one call (``whole_runs``), or None."""
        acceleration = self.acceleration
        if not (
            self.whole_runs
            and knowledge is None
            and not self._marginalize
            and self.mixing_weights is None
            and self.executor is None
            and isinstance(source, ArraySource)
            and (acceleration is None or type(acceleration) is SQUAREM)
            and len(self.callbacks) == (2 if self.tol is not None else 1)  # no others
        ):
            return None
        squarem = (
            None
            if acceleration is None
            else (acceleration.step_min, acceleration.step_max, acceleration.mstep)
        )
        outcome = mixture.family.whole_run(
            mixture.weights, source.X, source.weights,
            tol=self.tol, max_iter=self.max_iter, previous=previous, squarem=squarem,
        )  # fmt: skip
        if outcome is None or not outcome.history:
            return None
        fitted = Mixture.from_m_step(outcome.component_weight, outcome.family)
        history = outcome.history
        last = history[-2] if len(history) > 1 else previous
        # The callbacks themselves say why the run stopped, as in the engine's own loop.
        if squarem is None:
            state = IterationState(run, len(history), history[-1], history[-1] - last, fitted)
        else:
            state = AcceleratedState(run, outcome.passes, history[-1], history[-1] - last, fitted)
        stop = _combine([callback.on_iteration(state) for callback in self.callbacks])
        if stop is None:  # cannot happen for a run that ended by these rules
            return None
        if squarem is not None:
            stop = Stop(stop.converged, squarem_reason(stop, outcome.passes, outcome.rejected))
        return fitted, history, stop

    def fit(
        self,
        X: Any,
        sample_weight: Any = None,
        *,
        warm_start: Mixture | None = None,
        labels: Any = None,
    ) -> MixtureResult:
        """Fit by EM: ``n_init`` runs, keeping the one with the highest final log-likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            float32 data is processed in float32; other real data in float64.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights; an integer weight equals repeating the row.
        warm_start : Mixture, optional
            Start from these parameters (for example a previous result) instead of the
            initializer; one run. When it is a :class:`MixtureResult`, the first iteration's
            change is measured from its ``lower_bound`` (as scikit-learn does), so a run that
            was already converged stops after one iteration.
        labels : array-like of int of shape (n_samples,) or ComponentKnowledge, optional
            Semi-supervised EM: the known component of some rows (``-1`` where unknown), or
            a :class:`~mixture.labels.ComponentKnowledge` of allowed sets or prior
            probabilities. Known rows keep their component in every E-step (and in the
            start); the others are estimated. The log-likelihood reported (and maximised)
            is the semi-supervised model's (:mod:`mixture.labels`). Needs in-memory rows
            (an array or memory map); the initializer then sees all rows.

        Returns
        -------
        MixtureResult

        Raises
        ------
        DegenerateComponentError
            If every run failed with a degenerate component (with one run, if it did); the
            message gives each run's reason.

        Warns
        -----
        ConvergenceWarning
            If the best run did not converge. The message starts with scikit-learn's
            "Best performing initialization did not converge", so filters written for
            scikit-learn apply.
        DegenerateRunWarning
            For each run that failed with a degenerate component while another run
            succeeded: that run is skipped, the best of the others is kept.
        """
        source = self._checked_source(X, sample_weight)
        knowledge = None
        if labels is not None:
            if not isinstance(source, ArraySource):
                raise ValueError(
                    "labels need in-memory rows (an array or a memory map); "
                    f"got {type(source).__name__}"
                )
            knowledge = as_knowledge(labels, self.n_components, source.n_rows)
        rng = check_random_state(self.random_state)
        previous = -np.inf
        if warm_start is not None:
            initializer: Initializer = GivenParameters(warm_start)
            n_runs = 1
            if isinstance(warm_start, MixtureResult):
                previous = warm_start.lower_bound
        else:
            initializer, n_runs = self.initializer, self.n_init
        for callback in self.callbacks:
            callback.on_fit_start()
        best: MixtureResult | None = None
        failures: list[tuple[int, DegenerateComponentError]] = []
        # One hold of the BLAS at one thread for the whole fit, initialisation included: the
        # chunks run in our own threads, and the small factorisations and products between
        # them lose to OpenBLAS's thread start-up and spinning (half the CPU of a model
        # selection on a few hundred rows, measured).
        with blas_held():
            start_rows: tuple[np.ndarray, np.ndarray | None] | None = None
            for run in range(n_runs):
                try:
                    if start_rows is None:  # one sample for every run, drawn once
                        start_rows = self._start_rows(source, initializer, knowledge)
                    start = self._initialize(*start_rows, rng, initializer, knowledge, run)
                    if run == n_runs - 1:
                        start_rows = None  # the sample is not needed during the last run
                    result = self._run(source, start, run, previous, knowledge)
                except DegenerateComponentError as error:
                    failures.append((run, error))
                    continue
                if best is None or result.lower_bound > best.lower_bound:
                    best = result
        if best is None:
            raise _all_runs_failed(failures)
        for run, error in failures:
            warnings.warn(
                f"EM run {run} of {n_runs} was skipped because a component degenerated: "
                f"{error} The best of the other runs is kept.",
                DegenerateRunWarning,
                stacklevel=2,
            )
        total = _total_weight(source)
        for found in best.family.degeneracies(best.weights, total):
            warnings.warn(
                f"the fit is degenerate, {found}; its likelihood is an artefact of the "
                "regulariser, not a maximum (try fewer components, more restarts or a prior)",
                DegenerateFitWarning,
                stacklevel=2,
            )
        if not best.converged:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data. "
                f"(EM stopped: {best.stop_reason}; run {best.run}, {best.n_iter} iterations.)",
                ConvergenceWarning,
                stacklevel=2,
            )
        return best


_EMPTY = np.empty(0, dtype=np.intp)


def _mean_imputed(X: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """A copy of ``X`` with each NaN replaced by its column's (weighted) observed mean."""
    observed = ~np.isnan(X)
    row_weight = np.ones(X.shape[0]) if weights is None else weights
    counts = row_weight @ observed
    sums = row_weight @ np.where(observed, X, 0.0)
    means = np.divide(sums, counts, out=np.zeros(X.shape[1]), where=counts > 0)
    return np.where(observed, X, means.astype(X.dtype))


def _equal_weights_mixture(family: ComponentFamily) -> Mixture:
    return Mixture(np.full(family.n_components, 1.0 / family.n_components), family)


def _sample_seed(random_state: Any) -> int:
    """The seed of the initializer's row sample: an int ``random_state`` itself; drawn from a
    copy of a Generator or RandomState (so a seeded one gives reproducible fits and is left
    untouched for the initializer); from fresh entropy for None."""
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        copy = np.random.Generator(type(random_state.bit_generator)())
        copy.bit_generator.state = random_state.bit_generator.state
        return int(copy.integers(2**62))
    if isinstance(random_state, np.random.RandomState):
        copy = np.random.RandomState()
        copy.set_state(random_state.get_state())
        return int(copy.randint(2**31 - 1))
    return int(np.random.default_rng().integers(2**62))


def _total_weight(source: RowSource) -> float:
    """Summed sample weight of the rows (the number of rows when unweighted)."""
    return source.total_weight()


def _all_runs_failed(failures: list[tuple[int, DegenerateComponentError]]) -> Exception:
    """The error when no run succeeded: the run's own error if there was one run, else a
    :class:`DegenerateComponentError` listing every run's reason."""
    if len(failures) == 1:
        return failures[0][1]
    reasons = "; ".join(f"run {run}: {error}" for run, error in failures)
    return DegenerateComponentError(
        f"all {len(failures)} EM runs (n_init) failed with a degenerate component. "
        "Increase reg_covar, use fewer components, or remove duplicated rows and constant "
        f"features. Reasons: {reasons}"
    )


def _checked_assignment(
    start: Any, n_rows: int, n_components: int, initializer: Initializer
) -> np.ndarray:
    """Validate an initializer's labels ``(n,)`` or responsibilities ``(n, K)``."""
    assignment = np.asarray(start)
    if assignment.shape == (n_rows,) and assignment.dtype.kind in "iu":
        if assignment.min() < 0 or assignment.max() >= n_components:
            raise ValueError(f"{initializer!r} returned labels outside 0..{n_components - 1}")
        return assignment
    if assignment.shape != (n_rows, n_components) or assignment.dtype.kind != "f":
        raise ValueError(
            f"{initializer!r} returned an array of shape {assignment.shape} and dtype "
            f"{assignment.dtype}; expected integer labels of shape ({n_rows},) or "
            f"responsibilities of shape ({n_rows}, {n_components})"
        )
    if not np.isfinite(assignment).all() or (assignment < 0).any():
        raise ValueError(f"{initializer!r} returned non-finite or negative responsibilities")
    if not np.allclose(assignment.sum(axis=1), 1.0, rtol=0.0, atol=1e-6):
        raise ValueError(f"{initializer!r} returned responsibilities whose rows do not sum to 1")
    return assignment


def _responsibilities_of(
    assignment: np.ndarray, rows: slice, n_components: int, dtype: np.dtype
) -> np.ndarray:
    """Responsibilities of a chunk, from labels (one-hot, built per chunk) or a matrix."""
    if assignment.ndim == 1:
        labels = assignment[rows]
        resp = np.zeros((labels.shape[0], n_components), dtype=dtype)
        resp[np.arange(labels.shape[0]), labels] = 1.0
        return resp
    return assignment[rows].astype(dtype)


def _combine(stops: list[Stop | None]) -> Stop | None:
    """The first converged stop, else the first stop, else None."""
    requested = [stop for stop in stops if stop is not None]
    for stop in requested:
        if stop.converged:
            return stop
    return requested[0] if requested else None
