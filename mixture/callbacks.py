"""Callbacks: code the engine calls around each EM run and after every iteration.

Convergence tests, iteration limits, history recording and progress printing are all
ordinary callbacks. After each iteration the engine calls :meth:`Callback.on_iteration` on
every callback with an :class:`IterationState`; any callback may return a :class:`Stop`,
and the run ends after that iteration. The run counts as converged if any returned stop
says ``converged=True``.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from mixture._validation import check_int, check_nonnegative_float

if TYPE_CHECKING:
    from mixture.model import Mixture
    from mixture.result import MixtureResult

__all__ = [
    "AitkenTolerance",
    "Callback",
    "History",
    "IterationState",
    "MaxIterations",
    "Stop",
    "StopWhen",
    "Tolerance",
    "Verbose",
]


@dataclass(frozen=True)
class IterationState:
    """Where an EM run stands after one iteration (one E-step and one M-step).

    Attributes
    ----------
    run : int
        Index of the run among the ``n_init`` restarts (0-based).
    iteration : int
        Iterations done in this run (1 after the first M-step).
    log_likelihood : float
        Mean log-likelihood per row of the parameters *before* this iteration's M-step (the
        E-step computes it for free; scikit-learn's ``lower_bound_`` has the same meaning).
    change : float
        ``log_likelihood`` minus that of the previous iteration (``inf`` at iteration 1).
    mixture : Mixture
        Parameters after this iteration's M-step.
    """

    run: int
    iteration: int
    log_likelihood: float
    change: float
    mixture: Mixture


@dataclass(frozen=True)
class Stop:
    """Returned by a callback to end the run after the current iteration."""

    converged: bool
    reason: str


class Callback:
    """Base class: override any of the hooks; all do nothing by default."""

    def on_fit_start(self) -> None:
        """Called once when ``fit`` starts, before the first of its ``n_init`` runs."""

    def on_run_start(self, run: int) -> None:
        """Called before the first iteration of run ``run``."""

    def on_iteration(self, state: IterationState) -> Stop | None:
        """Called after every iteration; return a :class:`Stop` to end the run."""
        return None

    def on_run_end(self, result: MixtureResult) -> None:
        """Called when a run ends, with its result."""


class Tolerance(Callback):
    """Converged when the mean log-likelihood per row changes by less than ``tol``.

    The same test as scikit-learn's ``tol``: ``abs(change) < tol``.
    """

    def __init__(self, tol: float = 1e-3) -> None:
        self.tol = check_nonnegative_float(tol, name="tol")

    def __repr__(self) -> str:
        return f"Tolerance(tol={self.tol})"

    def on_iteration(self, state: IterationState) -> Stop | None:
        if abs(state.change) < self.tol:
            return Stop(converged=True, reason=f"log-likelihood change below tol={self.tol}")
        return None


class AitkenTolerance(Callback):
    """Converged when the Aitken estimate of the limiting log-likelihood is within ``tol``.

    EM converges linearly, ``l* - l_k ~ a^k`` with a rate ``a`` in ``[0, 1)``, so from the
    last three log-likelihoods ``l_{k-2}, l_{k-1}, l_k`` Aitken's acceleration estimates the
    limit (Böhning, Dietz, Schaub, Schlattmann and Lindsay 1994; McLachlan and Krishnan,
    *The EM Algorithm and Extensions*, section 4.9)::

        a_k = (l_k - l_{k-1}) / (l_{k-1} - l_{k-2})
        l_inf = l_{k-1} + (l_k - l_{k-1}) / (1 - a_k) = l_k + (l_k - l_{k-1}) a_k / (1 - a_k)

    and the run stops when ``abs(l_inf - l_k) < tol`` (mean log-likelihood per row, the
    units of :class:`Tolerance`). Where EM is slow (``a_k`` near 1) this is much stricter
    than :class:`Tolerance`'s ``abs(l_k - l_{k-1}) < tol``, which stops while the remaining
    gap, about ``(l_k - l_{k-1}) a_k / (1 - a_k)``, is still many times ``tol``; where EM is
    fast (``a_k <= 1/2``) it stops no later than :class:`Tolerance`. The estimate is
    asymptotic: early in a run, while the rate is still rising towards its final value, it
    can fall short of the remaining gap, more so for a loose ``tol``.

    No estimate, hence no stop, unless the three values are consecutive EM steps that
    converge linearly: both differences non-negative with ``0 <= a_k < 1``. A rate of 1 or
    more (a log-likelihood still accelerating, or one that decreased), a zero difference
    followed by an increase, or a non-finite value never stops the run. Two zero
    differences (a stationary log-likelihood) do: the limit is then the current value.

    **With acceleration** (:class:`~mixture.acceleration.SQUAREM`), a state marked
    ``extrapolated`` (:class:`~mixture.acceleration.AcceleratedState`) restarts the sequence
    of EM steps, and from then on the rate is the largest ``a_k`` seen in the run: EM steps
    just after an extrapolation decay at the rate of the fast directions the extrapolation
    left behind, so their own ``a_k`` underestimates the remaining gap (by up to three orders
    of magnitude, measured), while the slowest rate EM showed bounds it.

    Parameters
    ----------
    tol : float, default 1e-6
        Largest accepted distance of the current mean log-likelihood per row from the
        estimated limit.
    """

    def __init__(self, tol: float = 1e-6) -> None:
        self.tol = check_nonnegative_float(tol, name="tol")
        self._reset()

    def _reset(self) -> None:
        self._recent: list[float] = []  # the last consecutive EM log-likelihoods, at most 3
        self._largest_rate = 0.0
        self._extrapolated = False

    def __repr__(self) -> str:
        return f"AitkenTolerance(tol={self.tol})"

    def on_fit_start(self) -> None:
        self._reset()

    def on_run_start(self, run: int) -> None:
        self._reset()

    def on_iteration(self, state: IterationState) -> Stop | None:
        value = float(state.log_likelihood)
        if not math.isfinite(value):
            self._recent = []
            return None
        if getattr(state, "extrapolated", False):
            self._recent, self._extrapolated = [value], True
            return None
        self._recent = [*self._recent[-2:], value]
        if len(self._recent) < 3:
            return None
        older, previous, current = self._recent
        first, second = previous - older, current - previous
        if first == 0.0 and second == 0.0:
            return Stop(converged=True, reason="log-likelihood stationary (Aitken stopping rule)")
        if not (first > 0.0 and 0.0 <= second < first):  # no linear convergence: no estimate
            return None
        rate = second / first
        self._largest_rate = max(self._largest_rate, rate)
        if self._extrapolated:
            rate = self._largest_rate
        limit = current + second * rate / (1.0 - rate)
        if abs(limit - current) < self.tol:
            return Stop(
                converged=True,
                reason=f"Aitken estimate of the limiting log-likelihood within tol={self.tol}",
            )
        return None


class MaxIterations(Callback):
    """Stop (unconverged) after ``max_iter`` iterations."""

    def __init__(self, max_iter: int = 100) -> None:
        self.max_iter = check_int(max_iter, name="max_iter", minimum=1)

    def __repr__(self) -> str:
        return f"MaxIterations(max_iter={self.max_iter})"

    def on_iteration(self, state: IterationState) -> Stop | None:
        if state.iteration >= self.max_iter:
            return Stop(converged=False, reason=f"reached max_iter={self.max_iter}")
        return None


class StopWhen(Callback):
    """Stop when a user condition on the :class:`IterationState` holds.

    Parameters
    ----------
    condition : callable
        ``condition(state) -> bool``.
    converged : bool, default False
        Whether stopping by this condition counts as convergence.
    reason : str
        Recorded as the stop reason.
    """

    def __init__(
        self,
        condition: Callable[[IterationState], bool],
        *,
        converged: bool = False,
        reason: str = "user condition",
    ) -> None:
        if not callable(condition):
            raise ValueError("condition must be callable: condition(state) -> bool")
        self.condition = condition
        self.converged = bool(converged)
        self.reason = reason

    def __repr__(self) -> str:
        return f"StopWhen({self.condition!r}, converged={self.converged}, reason={self.reason!r})"

    def on_iteration(self, state: IterationState) -> Stop | None:
        if self.condition(state):
            return Stop(converged=self.converged, reason=self.reason)
        return None


class History(Callback):
    """Record every iteration of every run of the latest fit.

    Parameters
    ----------
    keep_mixtures : bool, default False
        Also keep the parameters after each iteration (for plotting EM step by step):
        :meth:`mixtures` then returns them. Each is a :class:`~mixture.Mixture` of
        parameter-sized arrays (K weights, K means, K covariances), whatever the number of
        rows.

    Attributes
    ----------
    records : list of dict
        One dict per iteration: ``run, iteration, log_likelihood, change, seconds`` (since
        the run started) and, with ``keep_mixtures``, ``mixture``. Cleared when a new fit
        starts.

    Examples
    --------
    >>> import numpy as np
    >>> from mixture import GaussianFamily, History, MixtureEM
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> history = History(keep_mixtures=True)
    >>> result = MixtureEM(GaussianFamily(2), callbacks=[history], random_state=0).fit(X)
    >>> len(history.mixtures()) == len(history.log_likelihoods()) == result.n_iter
    True
    """

    def __init__(self, keep_mixtures: bool = False) -> None:
        self.keep_mixtures = bool(keep_mixtures)
        self.records: list[dict[str, Any]] = []
        self._started = 0.0

    def __repr__(self) -> str:
        return f"History(keep_mixtures={self.keep_mixtures}, {len(self.records)} records)"

    def on_fit_start(self) -> None:
        self.records = []

    def on_run_start(self, run: int) -> None:
        self._started = time.perf_counter()

    def on_iteration(self, state: IterationState) -> None:
        record: dict[str, Any] = {
            "run": state.run,
            "iteration": state.iteration,
            "log_likelihood": state.log_likelihood,
            "change": state.change,
            "seconds": time.perf_counter() - self._started,
        }
        if self.keep_mixtures:
            record["mixture"] = state.mixture
        self.records.append(record)

    def log_likelihoods(self, run: int = 0) -> list[float]:
        """Mean log-likelihood per row at each iteration of one run (before its M-step)."""
        return [r["log_likelihood"] for r in self.records if r["run"] == run]

    def mixtures(self, run: int = 0) -> list[Mixture]:
        """The fitted mixture after each iteration of one run (after its M-step).

        Entry ``t - 1`` holds the parameters after iteration ``t``: the E-step of iteration
        ``t + 1`` scores them, so ``log_likelihoods(run)[t]`` is their mean log-likelihood
        per row. The last entry has the parameters of the run's result. The starting
        parameters (before iteration 1) come from the initializer, not from the history:
        ``MixtureEM.initialize(X)``.

        Parameters
        ----------
        run : int, default 0
            Index of the run among the ``n_init`` restarts.

        Returns
        -------
        list of Mixture
            One per iteration of the run (empty for a run that did not happen).

        Raises
        ------
        ValueError
            When the history was made without ``keep_mixtures=True``.
        """
        if not self.keep_mixtures:
            raise ValueError(
                "this History keeps no mixtures; create it with History(keep_mixtures=True) "
                "to get the parameters after each iteration"
            )
        return [r["mixture"] for r in self.records if r["run"] == run]


class Verbose(Callback):
    """Print progress every ``interval`` iterations and at the end of each run.

    Parameters
    ----------
    interval : int, default 10
    stream : text file, default sys.stdout
    """

    def __init__(self, interval: int = 10, stream: TextIO | None = None) -> None:
        self.interval = check_int(interval, name="interval", minimum=1)
        self.stream = stream
        self._started = 0.0

    def __repr__(self) -> str:
        return f"Verbose(interval={self.interval})"

    def _print(self, text: str) -> None:
        print(text, file=self.stream or sys.stdout)

    def on_run_start(self, run: int) -> None:
        self._started = time.perf_counter()
        self._print(f"run {run}: EM started")

    def on_iteration(self, state: IterationState) -> None:
        if state.iteration % self.interval == 0:
            change = "" if math.isinf(state.change) else f"  change {state.change:+.3e}"
            self._print(
                f"  iteration {state.iteration:4d}  log-likelihood {state.log_likelihood:.6f}"
                f"{change}  {time.perf_counter() - self._started:.2f}s"
            )

    def on_run_end(self, result: MixtureResult) -> None:
        status = "converged" if result.converged else "did not converge"
        self._print(
            f"run {result.run}: {status} after {result.n_iter} iterations "
            f"({result.stop_reason}); log-likelihood {result.lower_bound:.6f}"
        )
