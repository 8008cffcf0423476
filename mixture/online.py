"""Online (stepwise) EM: one mini-batch at a time, in memory independent of the data's size.

Batch EM sums the statistics of every row under the current parameters before each M-step.
Stepwise EM (Cappé and Moulines 2009; Liang and Klein 2009) replaces the sum by a running
average: after the E-step of a batch ``B_t`` under the current parameters,

    s_t = (1 - rho_t) s_{t-1} + rho_t (N / w(B_t)) s(B_t),     rho_t = (tau + t)^(-kappa)

followed by the usual M-step from ``s_t``. ``s(B_t)`` are the batch's sufficient statistics
(:class:`~mixture.model.MixtureStatistics`), ``w(B_t)`` its summed row weight and ``N`` the
``total_samples``: each batch's statistics are rescaled to ``N`` rows, as online variational
Bayes for LDA does, so ``s_t`` always describes ``N`` rows and ``rho_t`` is a fraction of
the evidence, whatever the batch size. The step sizes are scikit-learn's
(``LatentDirichletAllocation``): ``kappa = learning_decay`` in (0.5, 1] and
``tau = learning_offset >= 0`` make ``sum rho_t`` diverge and ``sum rho_t^2`` converge,
which is what the convergence of stochastic approximation needs. A larger ``tau`` damps the
first steps, a smaller ``kappa`` forgets old statistics faster.

Only ``+`` and ``scale`` of the statistics are used, so this works for every component
family through the statistics contract (Gaussians of any structure, lists of Poisson or
other components, joined families). ``N`` matters only to M-steps that are not invariant to
the scale of the statistics (a :class:`~mixture.gaussian.ConjugatePrior`, whose weight
against the data it sets); the maximum-likelihood M-steps give the same parameters for any
``N``.

The first step has no earlier statistics to average with: its statistics are the first
batch's (any ``rho_1`` gives the same, since ``s_0`` would be the first batch's E-step under
the starting parameters too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from mixture._chunking import auto_chunk_size, blas_held, sum_chunks
from mixture._validation import (
    check_data,
    check_int,
    check_nonnegative_float,
    check_random_state,
    check_sample_weight,
)
from mixture.contract import Component
from mixture.engine import MixtureEM
from mixture.family import ComponentFamily
from mixture.initializers import Initializer, KMeans
from mixture.model import Mixture, MixtureStatistics

__all__ = ["OnlineEM"]


class OnlineEM:
    """Stepwise EM for any mixture: a step per mini-batch (see :mod:`mixture.online`).

    Parameters
    ----------
    model : ComponentFamily or sequence of Component
        What to fit, as for :class:`~mixture.MixtureEM`: a family such as
        ``GaussianFamily(3, FullCovariance())`` or a list of components such as
        ``[Poisson([1.0]), Poisson([5.0])]``.
    learning_decay : float, default 0.7
        ``kappa`` of the step sizes ``rho_t = (learning_offset + t)^(-kappa)``, in (0.5, 1].
    learning_offset : float, default 10.0
        ``tau >= 0``: damps the early steps (``rho_2 = (2 + tau)^(-kappa)``; the first step
        takes its batch whole).
    total_samples : float or None, default 1e6
        ``N``, the rows (summed row weight) the statistics are scaled to. ``None`` uses the
        weight seen so far (the statistics are rescaled at every step). Only M-steps that
        depend on the amount of data (a conjugate prior) see it.
    averaging : bool, default False
        Polyak-Ruppert averaging of the statistics (Polyak and Juditsky 1992). The steps
        are unchanged (each E-step uses the parameters of ``s_t``), but :attr:`mixture` is
        the M-step of the plain average ``(s_{b+1} + ... + s_t) / (t - b)`` of the
        statistics after the burn-in ``b``. ``s_t`` mostly reflects the last ``~1 / rho_t``
        batches, so the iterates keep a sampling noise of that many batches; the average
        spreads the weight over all steps after the burn-in, which removes most of that
        noise (after one pass over a million rows in batches of 1,024 it cut the gap to batch
        EM's log-likelihood from 1.4e-4 to 3.5e-6 per row, see
        ``benchmarks/online_vs_batch.py``). The price is a bias
        towards the parameters of the first averaged steps, which fades as ``1 / t``. Until
        a step past the burn-in, :attr:`mixture` is the iterate.
    burn_in : int, default 10
        Steps left out of the average, whose parameters are still far from the optimum.
    initializer : Initializer, default KMeans(n_init=3)
        Starting parameters, from the first batch (or from the rows given to
        :meth:`initialize`). The default makes three k-means restarts (MixtureEM's makes
        one): a start cannot be redone within one pass, a k-means partition of one batch
        stuck in a poor local optimum (two clusters merged, one split) is not repaired by
        the steps that follow, and three restarts on one batch cost a few milliseconds.
    random_state : None, int or numpy.random.Generator
        Seed of the initializer. An int makes the same batches in the same order give the
        same parameters.
    chunk_size : int, optional
        Rows per chunk of a batch's E-step. A batch of at most one chunk is done in the
        calling thread with no thread pool (the default chunk holds at least 1,024 rows);
        larger batches are split into chunks run in threads, as in
        :class:`~mixture.MixtureEM`.

    Attributes
    ----------
    last_batch_log_likelihood : float
        Mean log-likelihood per (weighted) row of the last batch, under the parameters
        before its step (``nan`` before the first step).

    Examples
    --------
    >>> import numpy as np
    >>> from mixture import FullCovariance, GaussianFamily
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-3, 1, (20_000, 2)), rng.normal(3, 1, (20_000, 2))])
    >>> X = X[rng.permutation(len(X))]
    >>> online = OnlineEM(GaussianFamily(2, FullCovariance()), random_state=0)
    >>> online = online.fit(np.array_split(X, 40))
    >>> online.n_steps, online.n_rows_seen
    (40, 40000)
    >>> np.sort(online.mixture.family.means[:, 0]).round(1).tolist()
    [-3.0, 3.0]
    """

    def __init__(
        self,
        model: ComponentFamily | Sequence[Component],
        *,
        learning_decay: float = 0.7,
        learning_offset: float = 10.0,
        total_samples: float | None = 1e6,
        averaging: bool = False,
        burn_in: int = 10,
        initializer: Initializer | None = None,
        random_state: Any = None,
        chunk_size: int | None = None,
    ) -> None:
        decay = check_nonnegative_float(learning_decay, name="learning_decay")
        if not 0.5 < decay <= 1.0:
            raise ValueError(f"learning_decay must be in (0.5, 1]; got {learning_decay}")
        self.learning_decay = decay
        self.learning_offset = check_nonnegative_float(learning_offset, name="learning_offset")
        if total_samples is not None:
            total_samples = check_nonnegative_float(total_samples, name="total_samples")
            if total_samples == 0:
                raise ValueError("total_samples must be > 0; got 0")
        self.total_samples = total_samples
        if not isinstance(averaging, (bool, np.bool_)):
            raise ValueError(f"averaging must be True or False; got {averaging!r}")
        self.averaging = bool(averaging)
        self.burn_in = check_int(burn_in, name="burn_in", minimum=0)
        # The engine supplies the initialisation and the M-step (and checks the model).
        initializer = KMeans(n_init=3) if initializer is None else initializer
        self._engine = MixtureEM(model, initializer=initializer, chunk_size=chunk_size)
        self._rng = check_random_state(random_state)
        self._reset()

    def _reset(self) -> None:
        self._iterate: Mixture | None = None
        self._statistics: MixtureStatistics | None = None
        self._average: MixtureStatistics | None = None
        self._n_averaged = 0
        self._averaged_mixture: Mixture | None = None
        self._n_features: int | None = None
        self._n_steps = 0
        self._n_rows_seen = 0
        self._weight_seen = 0.0
        self.last_batch_log_likelihood = float("nan")

    def __repr__(self) -> str:
        return (
            f"OnlineEM({self._engine.family!r}, learning_decay={self.learning_decay}, "
            f"learning_offset={self.learning_offset}, total_samples={self.total_samples}, "
            f"averaging={self.averaging}, n_steps={self._n_steps})"
        )

    # -- the schedule -----------------------------------------------------------------------
    def step_size(self, step: int) -> float:
        """``rho_t = (learning_offset + t)^(-learning_decay)`` for step ``t >= 1``."""
        step = check_int(step, name="step", minimum=1)
        return float((self.learning_offset + step) ** -self.learning_decay)

    # -- state ------------------------------------------------------------------------------
    @property
    def mixture(self) -> Mixture:
        """The current estimate: the iterate's mixture, or with ``averaging`` (past the burn-in)
        the M-step of the averaged statistics.

        Raises
        ------
        ValueError
            Before :meth:`partial_fit` or :meth:`initialize` was called.
        """
        if self._iterate is None:
            raise ValueError("OnlineEM has no parameters yet; call partial_fit or initialize")
        if self._average is None:
            return self._iterate
        if self._averaged_mixture is None:  # computed once per step, when asked for
            self._averaged_mixture = self._engine.m_step(self._iterate, self._average)
        return self._averaged_mixture

    @property
    def iterate(self) -> Mixture:
        """The mixture of the last step's statistics ``s_t``, which the next E-step uses
        (:attr:`mixture` too, unless averaging)."""
        if self._iterate is None:
            raise ValueError("OnlineEM has no parameters yet; call partial_fit or initialize")
        return self._iterate

    @property
    def statistics(self) -> MixtureStatistics | None:
        """``s_t``, scaled to ``total_samples`` rows (None before the first step). Its
        ``mean_log_likelihood`` is the ``rho``-weighted average of the batches'."""
        return self._statistics

    @property
    def n_steps(self) -> int:
        """Steps (M-steps) made: one per :meth:`partial_fit`."""
        return self._n_steps

    @property
    def n_rows_seen(self) -> int:
        """Rows of all batches stepped on so far."""
        return self._n_rows_seen

    @property
    def n_features(self) -> int | None:
        """Columns of the data (set by the first batch), or None."""
        return self._n_features

    # -- fitting ----------------------------------------------------------------------------
    def initialize(self, X: Any, sample_weight: Any = None) -> Mixture:
        """Start again from the initializer's parameters on ``X``, with no statistics.

        :meth:`partial_fit` calls this on its first batch; call it yourself to initialise
        from other rows (a larger sample, say). Forgets all earlier steps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        Mixture
            The starting parameters.
        """
        data = check_data(X)
        weights = check_sample_weight(sample_weight, data.shape[0])
        start = self._engine.initialize(data, weights, random_state=self._rng)
        self._reset()
        self._iterate = start
        self._n_features = data.shape[1]
        return start

    def partial_fit(self, X: Any, sample_weight: Any = None) -> OnlineEM:
        """One step on a batch: its E-step under the current parameters, the update of the
        statistics, the M-step. The first call initialises from this batch first.

        The BLAS is held at one thread during the step (as :class:`~mixture.MixtureEM` holds
        it during a fit): a step's products and factorisations are small, and waking
        OpenBLAS's threads for them made steps 10 to 40 times slower on a busy machine
        (measured on 1,000-row batches); taking and releasing the hold costs about 25
        microseconds.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            At least one row; as many columns as the first batch.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights (not all zero).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For an empty batch, NaN or infinite values, or a number of columns other than
            the first batch's.
        """
        data = check_data(X)
        if self._n_features is not None and data.shape[1] != self._n_features:
            raise ValueError(
                f"X has {data.shape[1]} features, but the first batch had {self._n_features}"
            )
        weights = check_sample_weight(sample_weight, data.shape[0])
        with blas_held():
            if self._iterate is None:
                self.initialize(data, weights)
            self._step(data, weights)
        return self

    def fit(self, batches: Iterable[Any]) -> OnlineEM:
        """One pass over ``batches``: :meth:`partial_fit` on each, in order.

        Continues from the current state, so calling it again makes another pass (make a new
        ``OnlineEM`` to start afresh). The BLAS is held at one thread for the whole pass,
        the production of the batches included.

        Parameters
        ----------
        batches : iterable
            Each item is an array-like of shape (n_rows, n_features) or a pair
            ``(X, sample_weight)`` of a 2-D array and a 1-D array of weights.

        Returns
        -------
        self
        """
        with blas_held():  # once for the pass rather than once per batch
            for batch in batches:
                if isinstance(batch, tuple) and len(batch) == 2 and np.ndim(batch[1]) == 1:
                    if np.ndim(batch[0]) == 2:  # (X, sample_weight), not two rows
                        self.partial_fit(*batch)
                        continue
                self.partial_fit(batch)
        return self

    def _step(self, data: np.ndarray, weights: np.ndarray | None) -> None:
        """The step on validated rows (the caller checked the columns and initialised)."""
        batch = self._batch_statistics(data, weights)
        step = self._n_steps + 1
        weight_seen = self._weight_seen + batch.total_weight
        total = weight_seen if self.total_samples is None else self.total_samples
        previous = self._statistics
        if previous is None:
            statistics = batch.scale(total / batch.total_weight)
        else:
            rho = self.step_size(step)
            if self.total_samples is None:  # rescale s_{t-1} to the new total first
                previous = previous.scale(total / self._weight_seen)
            statistics = previous.scale(1.0 - rho) + batch.scale(rho * total / batch.total_weight)
        iterate = self._engine.m_step(self._iterate, statistics)
        # Only after a successful M-step does the state change.
        if self.averaging and step > self.burn_in:
            n = self._n_averaged + 1
            average = self._average
            if average is None:
                average = statistics
            else:
                if self.total_samples is None:
                    average = average.scale(total / self._weight_seen)
                average = average.scale((n - 1) / n) + statistics.scale(1.0 / n)
            self._average, self._n_averaged, self._averaged_mixture = average, n, None
        self._iterate, self._statistics = iterate, statistics
        self._n_steps, self._weight_seen = step, weight_seen
        self._n_rows_seen += data.shape[0]
        self.last_batch_log_likelihood = batch.mean_log_likelihood

    def _batch_statistics(self, data: np.ndarray, weights: np.ndarray | None) -> MixtureStatistics:
        """The batch's E-step: the mixture's own one-chunk E-step when the batch is one
        chunk (no thread pool, no per-call set-up), else the engine's chunks in threads."""
        mixture = self._iterate
        chunk_size = self._engine.chunk_size or auto_chunk_size(
            mixture.n_components, data.shape[1], data.itemsize, data.shape[0]
        )
        if data.shape[0] <= chunk_size:
            return mixture.chunk_statistics(data, weights)

        def chunk_statistics(rows: slice) -> MixtureStatistics:
            return mixture.chunk_statistics(data[rows], None if weights is None else weights[rows])

        return sum_chunks(chunk_statistics, data.shape[0], chunk_size)
