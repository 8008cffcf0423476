"""Fewer passes over the data to the same fit: SQUAREM extrapolation of EM.

EM converges linearly, and slowly where the components overlap: the fraction of missing
information sets its rate, and a rate of 0.999 per iteration is common. SQUAREM (Varadhan
and Roland 2008, "Simple and globally convergent methods for accelerating the convergence
of any EM algorithm", Scand. J. Statist. 35: 335-353) extrapolates from two EM steps along
the direction they take, with the step length of their scheme S3, and keeps EM's
monotonicity with a safeguard: an extrapolated point whose log-likelihood is below that of
the last EM iterate is discarded for the plain EM step.

**Where it extrapolates: the summed sufficient statistics.** The engine knows no family's
parameters, but every family's statistics support ``+`` and :meth:`~Statistics.scale`, and
the EM map can be written on them: ``s -> E-step(M-step(s))``. Statistics are sums over rows
of the row weights times fixed functions of the rows, so they are linear in the row weights,
and ``scale`` and ``+`` implement that linear structure even for a negative factor. For the
Gaussian statistics ``(w, mean, centred scatter)`` merged by Chan's formula this holds for
any real weights whose sum is not zero: both ``scale`` and the merge are exact in the raw
moments ``(w, w mean, scatter + w mean mean^T)``, which are linear. So
``a s1 + b s2`` (with ``a + b = 1``, one coefficient negative) *is* the statistics of the
rows under the combined weights ``a r1 + b r2``, and its M-step is the extrapolated one
(checked numerically for the four Gaussian structures in ``tests/test_acceleration.py``).
The combination is formed with the positive terms first, so the only cancellation is in the
final weights, the intrinsic conditioning of the extrapolation.

The step length of S3 is ``||r|| / ||v||`` in some norm of the statistics; the engine cannot
know a family's natural coordinates, so it uses the floating-point arrays the statistics
hold (the summed responsibilities ``N_k`` and the arrays of the family's statistics, found
by walking their dataclass fields). In the slowly converging regime, where acceleration
matters, ``r`` and ``v`` both lie along the slowest direction and the ratio does not depend
on the norm. Statistics with no such arrays get no extrapolation (plain EM steps).

**The safeguard.** An extrapolated point is discarded, and the plain EM step taken instead,
when its statistics cannot be formed, a component weight is not positive, its M-step fails
(a :class:`~mixture.exceptions.DegenerateComponentError`, a covariance that is not positive
definite, parameters outside their constraints, a warning), its E-step fails (a NaN or
infinite density) or its log-likelihood is below that of the last EM iterate (with a prior,
what EM ascends: the log-likelihood plus the log-prior). The bound on the step then shrinks
by ``mstep`` (R package SQUAREM's rule), and grows by ``mstep`` after every step taken at
the bound.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mixture.callbacks import IterationState, Stop
from mixture.contract import Statistics
from mixture.model import Mixture, MixtureStatistics

__all__ = ["SQUAREM", "AcceleratedRun", "AcceleratedState", "Acceleration", "squarem_reason"]

EStep = Callable[[Mixture], MixtureStatistics]
MStep = Callable[[Mixture, MixtureStatistics], Mixture]
Notify = Callable[[IterationState], Stop | None]


@dataclass(frozen=True)
class AcceleratedState(IterationState):
    """The state of an accelerated run after one accepted step.

    ``iteration`` counts passes over the data (E-steps), rejected extrapolations included,
    so iteration limits compare fairly with plain EM.

    Attributes
    ----------
    extrapolated : bool
        The log-likelihood is that of an extrapolated point, not of the EM step from the
        previous state's parameters: a sequence of EM log-likelihoods restarts here (what
        :class:`~mixture.callbacks.AitkenTolerance` needs to know).
    """

    extrapolated: bool = False


@dataclass(frozen=True)
class AcceleratedRun:
    """What an accelerated loop hands back to the engine.

    Attributes
    ----------
    mixture : Mixture
        Parameters after the M-step of the last accepted step.
    history : list of float
        Mean log-likelihood per row of each accepted step (non-decreasing, as EM's).
    stop : Stop
        The callbacks' decision that ended the run.
    passes : int
        E-steps (passes over the data) done, rejected extrapolations included.
    rejected : int
        Extrapolations discarded by the safeguard.
    """

    mixture: Mixture
    history: list[float]
    stop: Stop
    passes: int
    rejected: int


class Acceleration(ABC):
    """How an EM run moves, when not by plain EM steps (``MixtureEM(acceleration=...)``)."""

    @abstractmethod
    def iterate(
        self,
        mixture: Mixture,
        *,
        e_step: EStep,
        m_step: MStep,
        notify: Notify,
        run: int,
        previous: float,
    ) -> AcceleratedRun:
        """Iterate from ``mixture`` until ``notify`` returns a :class:`Stop`.

        Parameters
        ----------
        mixture : Mixture
            Starting parameters.
        e_step : callable
            ``e_step(mixture) -> MixtureStatistics``: one pass over the data.
        m_step : callable
            ``m_step(mixture, statistics) -> Mixture``: the engine's M-step.
        notify : callable
            ``notify(state) -> Stop or None``: calls the engine's callbacks with the state of
            an accepted step.
        run : int
            Index of the run (for the states).
        previous : float
            The log-likelihood the first change is measured from.

        Returns
        -------
        AcceleratedRun
        """


class SQUAREM(Acceleration):
    """SQUAREM acceleration of EM: scheme S3 with the monotonicity safeguard.

    Each cycle takes two EM steps ``s1 = F(s0)``, ``s2 = F(s1)`` of the statistics map
    ``F(s) = E-step(M-step(s))``, then extrapolates with ``r = s1 - s0``,
    ``v = s2 - 2 s1 + s0`` and ``alpha = ||r|| / ||v||`` clipped to
    ``[step_min, step_max]``::

        s' = s0 + 2 alpha r + alpha^2 v = (1 - alpha)^2 s0 + 2 alpha (1 - alpha) s1 + alpha^2 s2

    (``alpha = 1`` is the plain EM step ``s2``.) The E-step at ``M-step(s')`` is the next
    cycle's first pass (the paper's stabilising EM step) and gives its log-likelihood, so a
    cycle costs three passes over the data, four when the extrapolation is rejected.

    Parameters
    ----------
    step_min : float, default 1.0
        Smallest step length; 1 never steps less far than two EM steps (the paper's and the
        R package's default).
    step_max : float, default 1.0
        Initial largest step length (the R package's ``step.max0``); multiplied by
        ``mstep`` after every cycle whose step reached it, divided by ``mstep`` (not below
        its initial value) after every rejected extrapolation taken at it.
    mstep : float, default 4.0
        The factor of those changes (the R package's default).

    Notes
    -----
    Every accepted step is reported to the callbacks as an :class:`AcceleratedState`
    whose ``iteration`` counts passes over the data, rejected extrapolations included (it
    may then jump by 2), so ``max_iter`` limits passes; a run may end one pass beyond
    ``max_iter`` when the pass that crossed it was a rejected extrapolation. The
    log-likelihoods seen by the callbacks, and the result's ``log_likelihood_history``
    (one entry per accepted step), never decrease beyond what plain EM's may (round-off,
    and the second-order dips of ``reg_covar > 0``; with a prior, EM and the safeguard
    keep the log-posterior from decreasing instead). The returned parameters are, as for
    plain EM, those after the M-step of the last accepted step. The result's
    ``stop_reason`` ends with the number of passes and of rejected extrapolations.

    Examples
    --------
    >>> import numpy as np
    >>> from mixture import FullCovariance, GaussianFamily, MixtureEM, SQUAREM
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (300, 2)), rng.normal(1.5, 1, (300, 2))])
    >>> family = GaussianFamily(2, FullCovariance())
    >>> plain = MixtureEM(family, tol=1e-9, max_iter=5000, random_state=0).fit(X)
    >>> fast = MixtureEM(
    ...     family, tol=1e-9, max_iter=5000, random_state=0, acceleration=SQUAREM()
    ... ).fit(X)
    >>> bool(abs(fast.lower_bound - plain.lower_bound) < 1e-7)
    True
    >>> bool(np.all(np.diff(fast.log_likelihood_history) >= -1e-12))
    True
    """

    def __init__(self, step_min: float = 1.0, step_max: float = 1.0, mstep: float = 4.0) -> None:
        self.step_min = _positive_float(step_min, "step_min")
        self.step_max = _positive_float(step_max, "step_max")
        self.mstep = _positive_float(mstep, "mstep")
        if self.step_max < self.step_min:
            raise ValueError(
                f"step_max must be at least step_min; got step_min={self.step_min}, "
                f"step_max={self.step_max}"
            )
        if self.mstep <= 1.0:
            raise ValueError(f"mstep must be greater than 1; got {self.mstep}")

    def __repr__(self) -> str:
        return f"SQUAREM(step_min={self.step_min}, step_max={self.step_max}, mstep={self.mstep})"

    def iterate(
        self,
        mixture: Mixture,
        *,
        e_step: EStep,
        m_step: MStep,
        notify: Notify,
        run: int,
        previous: float,
    ) -> AcceleratedRun:
        loop = _Loop(e_step, m_step, notify, run, previous)
        step_max = self.step_max
        current = mixture
        # Statistics of `current` when its E-step was already done (a tried extrapolation).
        known: MixtureStatistics | None = None
        extrapolated = False
        while True:
            s0 = known if known is not None else loop.e_step(current)
            theta1 = loop.accept(current, s0, extrapolated)
            if loop.stop is not None:
                return loop.outcome(theta1)
            s1 = loop.e_step(theta1)
            theta2 = loop.accept(theta1, s1)
            if loop.stop is not None:
                return loop.outcome(theta2)
            s2 = loop.e_step(theta2)
            theta3 = loop.accept(theta2, s2)  # the plain EM step: the fallback
            if loop.stop is not None:
                return loop.outcome(theta3)
            alpha = _s3_step(s0, s1, s2)
            alpha = max(self.step_min, min(step_max, alpha))
            known, extrapolated = None, False
            if alpha != 1.0:  # alpha = 1 is s2 itself, whose M-step is theta3
                tried = _extrapolated(theta2, (s0, s1, s2), alpha)
                if tried is not None:
                    statistics = loop.try_e_step(tried)
                    if statistics is not None and _objective(tried, statistics) >= loop.objective:
                        current, known, extrapolated = tried, statistics, True
                if not extrapolated:
                    loop.rejected += 1
                    if alpha == step_max:
                        step_max = max(self.step_max, step_max / self.mstep)
                    alpha = 1.0
            if not extrapolated:
                current = theta3
            if alpha == step_max:
                step_max *= self.mstep


class _Loop:
    """The bookkeeping shared by the steps of an accelerated run: passes, the history, the
    callbacks' states and their stop."""

    def __init__(self, e_step: EStep, m_step: MStep, notify: Notify, run: int, previous: float):
        self._e_step = e_step
        self._m_step = m_step
        self._notify = notify
        self._run = run
        self._previous = previous
        self.history: list[float] = []
        # What EM ascends, at the last accepted step: evaluated only when an extrapolation is
        # compared with it (a log-prior costs a factorisation per component).
        self._last: tuple[Mixture, MixtureStatistics] | None = None
        self.passes = 0
        self.rejected = 0
        self.stop: Stop | None = None

    def e_step(self, mixture: Mixture) -> MixtureStatistics:
        self.passes += 1
        return self._e_step(mixture)

    def try_e_step(self, mixture: Mixture) -> MixtureStatistics | None:
        """The E-step at a tentative point, or None when it fails or its log-likelihood is
        not finite (the pass is counted either way)."""
        self.passes += 1
        try:
            with np.errstate(all="ignore"):
                statistics = self._e_step(mixture)
        except (ValueError, ArithmeticError):  # a NaN or infinite density, a failed guard
            return None
        return statistics if math.isfinite(statistics.mean_log_likelihood) else None

    def accept(
        self, mixture: Mixture, statistics: MixtureStatistics, extrapolated: bool = False
    ) -> Mixture:
        """Record an accepted step, tell the callbacks, and return its M-step."""
        log_likelihood = statistics.mean_log_likelihood
        change = log_likelihood - (self.history[-1] if self.history else self._previous)
        updated = self._m_step(mixture, statistics)
        self.history.append(log_likelihood)
        self._last = (mixture, statistics)
        state = AcceleratedState(
            self._run, self.passes, log_likelihood, change, updated, extrapolated=extrapolated
        )
        self.stop = self._notify(state)
        return updated

    @property
    def objective(self) -> float:
        """The objective at the last accepted step (``-inf`` before the first)."""
        return -math.inf if self._last is None else _objective(*self._last)

    def outcome(self, mixture: Mixture) -> AcceleratedRun:
        assert self.stop is not None
        return AcceleratedRun(
            mixture,
            self.history,
            Stop(self.stop.converged, squarem_reason(self.stop, self.passes, self.rejected)),
            self.passes,
            self.rejected,
        )


def squarem_reason(stop: Stop, passes: int, rejected: int) -> str:
    """The stop reason of a SQUAREM run: the callback's, with the passes and rejections."""
    return (
        f"{stop.reason} (SQUAREM: {passes} passes over the data, "
        f"{rejected} extrapolation(s) rejected)"
    )


def _objective(mixture: Mixture, statistics: MixtureStatistics) -> float:
    """What EM ascends, per row: the mean log-likelihood of ``mixture`` (whose E-step gave
    ``statistics``) plus its family's log-prior (0 without a prior) over the total weight."""
    try:
        prior = mixture.family.log_prior()
    except ValueError:
        # A start from given parameters whose prior is resolved from the data by the first
        # M-step (mclust's default prior): its objective is only the floor the next accepted
        # step replaces before any comparison, so it is taken as -inf.
        return -math.inf
    return statistics.mean_log_likelihood + (prior / statistics.total_weight if prior else 0.0)


def _positive_float(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number; got {value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    return number


# -- the step length -----------------------------------------------------------------------------
def _leaves(value: Any, out: list[np.ndarray], depth: int = 0) -> None:
    """Append the floating-point arrays and numbers of statistics to ``out``, in field order.

    Walks statistics objects (their dataclass fields or attributes), tuples and lists; other
    objects (a covariance structure, the owning class) hold no statistics and are skipped.
    """
    if depth > 8:
        return
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            out.append(value.astype(np.float64, copy=False).ravel())
    elif isinstance(value, (float, np.floating)):
        out.append(np.array([float(value)]))
    elif isinstance(value, (tuple, list)):
        for item in value:
            _leaves(item, out, depth + 1)
    elif isinstance(value, Statistics):
        names = _FIELD_NAMES.get(type(value))
        if names is None and dataclasses.is_dataclass(value):
            names = _FIELD_NAMES[type(value)] = tuple(f.name for f in dataclasses.fields(value))
        if names is not None:
            items = [getattr(value, name) for name in names]
        else:
            items = list(vars(value).values()) if hasattr(value, "__dict__") else []
        for item in items:
            _leaves(item, out, depth + 1)


#: Field names of the dataclass statistics types seen, in order (looked up on every cycle).
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _coordinates(statistics: MixtureStatistics) -> list[np.ndarray]:
    """The arrays the step length is measured in: ``N_k``, then the family's statistics."""
    out = [np.asarray(statistics.component_weight, dtype=np.float64).ravel()]
    _leaves(statistics.family_statistics, out)
    return out


def _s3_step(s0: MixtureStatistics, s1: MixtureStatistics, s2: MixtureStatistics) -> float:
    """Scheme S3's step length ``||r|| / ||v||``; 1 (a plain EM step) when undefined.

    Arrays whose shapes differ between the three statistics (a sparse histogram whose counts
    changed) are left out of the norms.
    """
    c0, c1, c2 = _coordinates(s0), _coordinates(s1), _coordinates(s2)
    if not len(c0) == len(c1) == len(c2):
        return 1.0
    r2 = v2 = 0.0
    for a, b, c in zip(c0, c1, c2, strict=True):
        if not a.shape == b.shape == c.shape:
            continue
        r = b - a
        v = (c - b) - r
        r2 += float(r @ r)
        v2 += float(v @ v)
    if not (math.isfinite(r2) and math.isfinite(v2)) or v2 <= 0.0 or r2 <= 0.0:
        return 1.0
    return math.sqrt(r2 / v2)


# -- the extrapolated point ----------------------------------------------------------------------
def _combination(terms: list[tuple[float, MixtureStatistics]]) -> MixtureStatistics:
    """``sum_j c_j s_j`` by ``scale`` and ``+``, positive coefficients first, so the only
    cancellation is in adding the negative part at the end."""
    positive = [term for term in terms if term[0] > 0]
    negative = [term for term in terms if term[0] < 0]
    total: MixtureStatistics | None = None
    for coefficient, statistics in positive + negative:
        scaled = statistics.scale(coefficient)
        total = scaled if total is None else total + scaled
    assert total is not None
    return total


def _extrapolated(
    base: Mixture, statistics: tuple[MixtureStatistics, ...], alpha: float
) -> Mixture | None:
    """The mixture of the extrapolated statistics, or None when they are not a valid
    M-step's input (the safeguard's first half)."""
    s0, s1, s2 = statistics
    terms = [((1.0 - alpha) ** 2, s0), (2.0 * alpha * (1.0 - alpha), s1), (alpha**2, s2)]
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            combined = _combination([term for term in terms if term[0] != 0.0])
            weights = np.asarray(combined.component_weight, dtype=np.float64)
            if not np.all(np.isfinite(weights)) or np.any(weights < 0):
                return None
            if np.any((weights == 0) & (s2.component_weight > 0)):
                return None  # a component emptied by the extrapolation alone
            family = base.family.m_step(combined.family_statistics)
            fixed = base.weights if base.fixed_weights else None  # given weights stay
            marginalize = base.missing == "marginalize"
            mixture = Mixture.from_m_step(weights, family, fixed, marginalize)
    except (ValueError, ArithmeticError):  # DegenerateComponentError, LinAlgError, ...
        return None
    if caught:  # a warning (an empty component, an M-step gone astray): not trusted
        return None
    if not np.all(np.isfinite(mixture.weights)):
        return None
    return mixture
