"""SQUAREM acceleration (mixture/acceleration.py) and the Aitken stopping rule.

What must hold whatever the seed: an extrapolation of the summed statistics is the
statistics of the extrapolated row weights; SQUAREM reaches the log-likelihood plain EM
reaches, in far fewer passes over the data where EM is slow, with a history that never
decreases; extrapolations that cannot be used fall back to the plain EM step; the Aitken
rule stops close to the limit, never on a rate of 1 or more.
"""

from __future__ import annotations

import itertools
import math
import re
import warnings

import numpy as np
import pytest
from _helpers import STRUCTURE_IDS, STRUCTURES, assert_close_in_ulps

from mixture import (
    SQUAREM,
    AitkenTolerance,
    Callback,
    Component,
    ComponentList,
    ConvergenceWarning,
    DiagonalCovariance,
    FullCovariance,
    GaussianFamily,
    GaussianStatistics,
    IterationState,
    MixtureEM,
    NegativeBinomial,
    Poisson,
    SphericalCovariance,
    Statistics,
    StopWhen,
    TiedCovariance,
    Tolerance,
)
from mixture.acceleration import AcceleratedState, _combination

# EM's log-likelihood never decreases; the M-step's reg_covar = 1e-6 can make it dip by a
# second-order amount, and summation order by a few ulps of |l| ~ 3.
DIP = 1e-12


def overlapping_gaussians(seed: int = 0) -> np.ndarray:
    """Two heavily overlapping 2-D Gaussian clusters: EM needs hundreds of iterations."""
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [
            rng.multivariate_normal([0.0, 0.0], [[1.0, 0.3], [0.3, 1.0]], 500),
            rng.multivariate_normal([1.5, 0.5], [[1.5, -0.2], [-0.2, 0.8]], 500),
        ]
    )


def negative_binomial_counts(seed: int = 0) -> np.ndarray:
    """Counts of a 15/85 mixture of NB(mean 3, size 2) and NB(mean 30, size 5)."""
    rng = np.random.default_rng(seed)
    low = rng.negative_binomial(2, 2 / (2 + 3), 300)
    high = rng.negative_binomial(5, 5 / (5 + 30), 1700)
    return np.concatenate([low, high]).astype(np.float64)[:, None]


def negative_binomials() -> list[Component]:
    return [NegativeBinomial([1.0], [1.0]), NegativeBinomial([1.0], [1.0])]


class States(Callback):
    """Every state the callbacks see."""

    def __init__(self) -> None:
        self.states: list[IterationState] = []

    def on_iteration(self, state: IterationState) -> None:
        self.states.append(state)


def fit(data, model, *, tol=1e-10, max_iter=20000, callbacks=(), **options):
    """One run; returns the result and the states its callbacks saw."""
    seen = States()
    engine = MixtureEM(
        model, tol=tol, max_iter=max_iter, random_state=0, callbacks=[*callbacks, seen], **options
    )
    return engine.fit(data), seen.states


def passes(states: list[IterationState]) -> int:
    """Passes over the data: the last state's iteration (EM's and SQUAREM's alike)."""
    return states[-1].iteration


def limit_of(data, model) -> float:
    """The log-likelihood EM converges to, to round-off: SQUAREM run until it stalls."""
    result, _ = fit(
        data,
        model,
        tol=None,
        callbacks=[StopWhen(lambda s: s.iteration > 3 and s.change < 1e-15, converged=True)],
        acceleration=SQUAREM(),
    )
    return result.lower_bound


def check_accelerated_states(result, states: list[IterationState]) -> None:
    """One state per accepted step: passes strictly increasing and as reported, the
    log-likelihoods those of the history and never decreasing."""
    assert all(isinstance(state, AcceleratedState) for state in states)
    iterations = [state.iteration for state in states]
    assert all(b > a for a, b in itertools.pairwise(iterations))
    reported = re.search(r"(\d+) passes over the data", result.stop_reason)
    assert reported is not None and int(reported.group(1)) == iterations[-1]
    # The states' log-likelihoods are the history's entries (the same floats, copied).
    assert [state.log_likelihood for state in states] == result.log_likelihood_history.tolist()
    assert np.diff(result.log_likelihood_history).min(initial=0.0) >= -DIP
    assert states[0].extrapolated is False


# -- the space of the extrapolation: statistics --------------------------------------------
@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_combination_of_statistics_is_statistics_of_combined_weights(structure):
    """``a s0 + b s1 + c s2`` by scale and + (one coefficient negative, a + b + c = 1) equals
    the weight, mean and centred scatter of the rows under the combined row weights, some
    of them negative, and its M-step equals the M-step of those statistics."""
    rng = np.random.default_rng(3)
    X = np.concatenate([rng.normal(0.0, 1.0, (300, 3)), rng.normal(1.5, 1.0, (300, 3))]) + 1e3
    engine = MixtureEM(GaussianFamily(2, structure), random_state=0)
    mixtures = [engine.initialize(X)]
    for _ in range(2):
        mixtures.append(engine.m_step(mixtures[-1], engine.e_step(X, mixtures[-1])))
    statistics = [engine.e_step(X, mixture) for mixture in mixtures]
    responsibilities = [mixture.predict_proba(X) for mixture in mixtures]
    alpha = 6.0
    coefficients = [(1 - alpha) ** 2, 2 * alpha * (1 - alpha), alpha**2]  # 25, -60, 36
    combined = _combination(list(zip(coefficients, statistics, strict=True)))
    weights = sum(c * r for c, r in zip(coefficients, responsibilities, strict=True))
    assert (weights < 0).any()  # the combination is not a re-weighting of the rows

    # The reference: two-pass weighted moments of the rows under the combined weights.
    W = weights.sum(axis=0)
    mean = (weights.T @ X) / W[:, None]
    centred = [X - mean[k] for k in range(2)]
    full = np.stack([(centred[k].T * weights[:, k]) @ centred[k] for k in range(2)])
    absolute = np.stack([(centred[k].T * np.abs(weights[:, k])) @ centred[k] for k in range(2)])
    reduce = {
        "full": lambda S: S,
        "tied": lambda S: S.sum(axis=0),
        "diag": lambda S: np.stack([np.diag(s) for s in S]),
        "spherical": lambda S: np.array([np.trace(s) for s in S]),
    }[structure.name]
    scatter = reduce(full)
    family_statistics = combined.family_statistics
    # Errors are measured against the sums of absolute terms (weights of magnitude up to
    # |25| + |60| + |36| = 121 over 600 rows), which cancel to results ~100 times smaller:
    # sums of 600 terms cost up to ~600 ulps of them. The scatter's merges multiply
    # differences of means that carry the offset 1e3 (rounded to 1e3 eps each) by factors
    # w_a w_b / (w_a + w_b) larger than the weights where the combined weight is small: up
    # to 1e5 ulps (measured: 5e3 at most).
    assert_close_in_ulps(combined.component_weight, W, 1e4, scale=121 * 600)
    assert_close_in_ulps(family_statistics.weight, W, 1e4, scale=121 * 600)
    assert_close_in_ulps(family_statistics.mean, mean, 1e4, scale=121 * 600 * 1e3 / W.min())
    assert_close_in_ulps(family_statistics.scatter, scatter, 1e5, scale=np.abs(absolute).max())

    reference = GaussianStatistics(W, mean, scatter, structure)
    expected = mixtures[-1].family.m_step(reference)
    actual = mixtures[-1].family.m_step(family_statistics)
    scale = np.abs(absolute).max() / W.min()
    # The M-step divides by the weights and adds reg_covar: the scatter's error, scaled.
    assert_close_in_ulps(actual.covariances, expected.covariances, 1e5, scale=scale)
    assert_close_in_ulps(actual.means, expected.means, 1e5, scale=121 * 600 * 1e3 / W.min())


# -- slow fits --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, model",
    [
        (overlapping_gaussians(), lambda: GaussianFamily(2, FullCovariance())),
        (negative_binomial_counts(), negative_binomials),
    ],
    ids=["overlapping-gaussians", "negative-binomials"],
)
def test_squarem_reaches_em_log_likelihood_in_far_fewer_passes(data, model):
    plain, plain_states = fit(data, model())
    fast, fast_states = fit(data, model(), acceleration=SQUAREM())
    assert plain.converged and fast.converged
    assert passes(plain_states) >= 200  # the data are slow for EM
    assert abs(fast.lower_bound - plain.lower_bound) < 1e-8
    assert passes(fast_states) * 2 <= passes(plain_states)
    check_accelerated_states(fast, fast_states)
    assert any(state.extrapolated for state in fast_states)  # it did extrapolate


@pytest.mark.parametrize(
    "model",
    [
        lambda: GaussianFamily(2, FullCovariance()),
        lambda: GaussianFamily(2, DiagonalCovariance()),
        lambda: GaussianFamily(2, SphericalCovariance()),
        lambda: GaussianFamily(2, TiedCovariance()),
    ],
    ids=["full", "diag", "spherical", "tied"],
)
def test_squarem_gaussian_structures(model):
    data = overlapping_gaussians(2)
    plain, plain_states = fit(data, model())
    fast, states = fit(data, model(), acceleration=SQUAREM())
    assert abs(fast.lower_bound - plain.lower_bound) < 1e-8
    assert passes(states) * 2 <= passes(plain_states)
    check_accelerated_states(fast, states)


def test_squarem_poisson_list():
    rng = np.random.default_rng(5)
    counts = np.concatenate([rng.poisson(2.0, 400), rng.poisson(5.0, 400), rng.poisson(9.0, 400)])
    data = counts.astype(np.float64)[:, None]

    def model():
        return [Poisson([1.0]), Poisson([1.0]), Poisson([1.0])]

    plain, plain_states = fit(data, model())
    fast, fast_states = fit(data, model(), acceleration=SQUAREM())
    assert abs(fast.lower_bound - plain.lower_bound) < 1e-8
    assert passes(fast_states) <= passes(plain_states)
    check_accelerated_states(fast, fast_states)


def test_squarem_with_a_prior_keeps_the_log_posterior_ascending(monkeypatch):
    """With a prior EM ascends the log-posterior, not the log-likelihood: SQUAREM's
    safeguard compares that, and reaches EM's log-posterior."""
    from mixture import acceleration
    from mixture.gaussian.prior import DefaultPrior

    rng = np.random.default_rng(4)
    data = np.concatenate([rng.normal(0.0, 1.0, (300, 2)), rng.normal(1.5, 1.0, (300, 2))])

    def log_posterior(result) -> float:
        return result.score(data) + result.family.log_prior() / data.shape[0]

    # The log-posterior of the parameters of each accepted step (before its M-step; after
    # an extrapolation, the extrapolated point, which the states do not carry).
    accepted: list[float] = []
    accept = acceleration._Loop.accept

    def recording_accept(loop, mixture, statistics, extrapolated=False):
        accepted.append(acceleration._objective(mixture, statistics))
        return accept(loop, mixture, statistics, extrapolated)

    monkeypatch.setattr(acceleration._Loop, "accept", recording_accept)
    family = GaussianFamily(2, FullCovariance(), prior=DefaultPrior())
    plain, _ = fit(data, family)
    fast, states = fit(data, family, acceleration=SQUAREM())
    assert abs(log_posterior(fast) - log_posterior(plain)) < 1e-8
    assert len(accepted) == len(states) and any(state.extrapolated for state in states)
    assert np.diff(accepted).min() >= -DIP


# -- the safeguard ----------------------------------------------------------------------------
class NonNegativeOnly(Statistics):
    """Statistics that refuse a negative scale (as the contract allows: ``factor >= 0``)."""

    def __init__(self, inner: Statistics) -> None:
        self.inner = inner

    def __add__(self, other: Statistics) -> NonNegativeOnly:
        if not isinstance(other, NonNegativeOnly):
            return NotImplemented
        return NonNegativeOnly(self.inner + other.inner)

    def scale(self, factor: float) -> NonNegativeOnly:
        if factor < 0:
            raise ValueError("these statistics have no negative row weights")
        return NonNegativeOnly(self.inner.scale(factor))

    @property
    def total_weight(self) -> float:
        return self.inner.total_weight


class StrictPoisson(Component):
    """A Poisson component whose statistics cannot be extrapolated."""

    def __init__(self, rate) -> None:
        self.poisson = Poisson(rate)

    @property
    def n_features(self) -> int:
        return self.poisson.n_features

    def log_density(self, X):
        return self.poisson.log_density(X)

    def statistics(self, X, weights):
        return NonNegativeOnly(self.poisson.statistics(X, weights))

    def from_statistics(self, statistics):
        return StrictPoisson(self.poisson.from_statistics(statistics.inner).rate)

    @property
    def n_parameters(self) -> int:
        return self.poisson.n_parameters

    def sample(self, n_samples, rng):
        return self.poisson.sample(n_samples, rng)


def test_statistics_that_cannot_be_extrapolated_fall_back_to_plain_em():
    rng = np.random.default_rng(2)
    counts = np.concatenate([rng.poisson(3.0, 500), rng.poisson(6.0, 500)])
    data = counts.astype(np.float64)[:, None]

    def model():
        return ComponentList([StrictPoisson([1.0]), StrictPoisson([1.0])])

    plain, plain_states = fit(data, model())
    fast, fast_states = fit(data, model(), acceleration=SQUAREM())
    # Every extrapolation fails before its E-step, so SQUAREM runs exactly EM's E-steps and
    # M-steps in EM's order: the same floats.
    assert fast.log_likelihood_history.tolist() == plain.log_likelihood_history.tolist()
    assert passes(fast_states) == passes(plain_states)
    rejected = re.search(r"(\d+) extrapolation\(s\) rejected", fast.stop_reason)
    assert rejected is not None and int(rejected.group(1)) >= 1
    check_accelerated_states(fast, fast_states)
    assert not any(state.extrapolated for state in fast_states)


@pytest.mark.parametrize("reg_covar", [1e-6, 0.0])
def test_overlong_extrapolations_are_rejected(reg_covar):
    """Steps forced far beyond the optimum give negative weights, covariances that are not
    positive definite or lower log-likelihoods: each is discarded for the EM step, and the
    run still reaches EM's log-likelihood with a history that never decreases."""
    data = overlapping_gaussians(2)
    family = GaussianFamily(2, FullCovariance(), reg_covar=reg_covar)
    plain, _ = fit(data, family, tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a discarded extrapolation warns about nothing
        forced, states = fit(
            data, family, tol=1e-8, acceleration=SQUAREM(step_min=1e4, step_max=1e4)
        )
    assert abs(forced.lower_bound - plain.lower_bound) < 1e-6
    check_accelerated_states(forced, states)
    rejected = re.search(r"(\d+) extrapolation\(s\) rejected", forced.stop_reason)
    assert rejected is not None and int(rejected.group(1)) >= 1


# -- engine integration ----------------------------------------------------------------------
def test_iteration_limit_counts_passes():
    with pytest.warns(ConvergenceWarning):
        result, states = fit(
            overlapping_gaussians(), GaussianFamily(2, FullCovariance()),
            max_iter=40, acceleration=SQUAREM(),
        )  # fmt: skip
    assert not result.converged
    # A rejected extrapolation may carry the last accepted step one pass beyond the limit.
    assert 40 <= passes(states) <= 41


def test_restarts_and_warm_start():
    data = overlapping_gaussians()
    engine = MixtureEM(
        GaussianFamily(2, FullCovariance()),
        tol=1e-9,
        max_iter=5000,
        n_init=2,
        random_state=0,
        acceleration=SQUAREM(),
    )
    first = engine.fit(data)
    assert first.converged
    again = engine.fit(data, warm_start=first)
    assert again.converged and again.n_iter <= 3
    assert again.lower_bound >= first.lower_bound - DIP


def test_invalid_arguments():
    with pytest.raises(ValueError, match="acceleration"):
        MixtureEM(GaussianFamily(2, FullCovariance()), acceleration="squarem")
    with pytest.raises(ValueError, match="step_min"):
        SQUAREM(step_min=0.0)
    with pytest.raises(ValueError, match="step_max"):
        SQUAREM(step_min=2.0, step_max=1.0)
    with pytest.raises(ValueError, match="mstep"):
        SQUAREM(mstep=1.0)
    with pytest.raises(ValueError, match="step_max"):
        SQUAREM(step_max=math.inf)
    assert repr(SQUAREM()) == "SQUAREM(step_min=1.0, step_max=1.0, mstep=4.0)"


# -- the Aitken stopping rule ----------------------------------------------------------------
def stopping_index(callback: Callback, values, extrapolated=()) -> int | None:
    """Feed a log-likelihood sequence to a callback; the index where it stops, or None."""
    callback.on_run_start(0)
    previous = -math.inf
    for index, value in enumerate(values):
        state = AcceleratedState(
            0, index + 1, value, value - previous, None, extrapolated=index in extrapolated
        )
        previous = value
        if callback.on_iteration(state) is not None:
            return index
    return None


@pytest.mark.parametrize("rate", [0.3, 0.5, 0.9, 0.99])
def test_aitken_is_exact_on_a_geometric_sequence(rate):
    """For ``l_k = L - c rate^k`` the estimate is the limit: the rule stops at the first
    value within tol of it; Tolerance at the same tol stops no earlier when the rate is at
    most 1/2 and, for a slow rate, too early (its gap exceeds tol)."""
    tol = 1e-6
    values = -3.0 - 0.5 * rate ** np.arange(5000)
    first_within = int(np.argmax(-3.0 - values < tol))
    aitken = stopping_index(AitkenTolerance(tol), values)
    tolerance = stopping_index(Tolerance(tol), values)
    assert aitken is not None and tolerance is not None
    assert abs(aitken - max(first_within, 2)) <= 1  # round-off in the estimate
    if rate < 0.5:
        assert aitken <= tolerance
    if rate >= 0.9:
        assert -3.0 - values[tolerance] > tol


@pytest.mark.parametrize(
    "values",
    [
        [0.0, 1.0, 3.0, 6.0, 10.0],  # increments growing: a_k > 1
        [0.0, 1.0, 2.0, 3.0, 4.0],  # a_k = 1
        [0.0, 1.0, 0.5, 0.4, 0.39],  # a decrease
        [0.0, 0.0, 1e-9],  # a zero difference, then an increase
        [0.0, 1.0, math.nan, 1.5, 1.5 + 1e-12],  # NaN restarts the sequence
        [0.0, math.inf, 1.0, 1.0 + 1e-12],
    ],
)
def test_aitken_never_stops_on_a_bogus_estimate(values):
    assert stopping_index(AitkenTolerance(1e-3), values) is None


def test_aitken_stops_on_a_stationary_log_likelihood():
    assert stopping_index(AitkenTolerance(0.0), [-2.5, -2.5, -2.5]) == 2


def test_aitken_restarts_after_an_extrapolated_step():
    """Values on either side of an extrapolated step are not one EM sequence: three EM
    values after it are needed, and from then on the largest rate seen counts."""
    slow = [-3.0, -2.0, -1.1, -0.29]  # differences 1, 0.9, 0.81: rate 0.9
    fast = [-0.01, -0.001, -0.0001]  # differences 0.009, 0.0009: rate 0.1
    values = slow + fast
    jump = len(slow)  # the extrapolated step
    # Alone, the fast triple claims a gap of 0.0009 * 0.1 / 0.9 = 1e-4.
    assert stopping_index(AitkenTolerance(1e-3), fast) == 2
    # After the slow EM steps the rate 0.9 bounds the gap instead: 0.0009 * 9 = 8.1e-3.
    assert stopping_index(AitkenTolerance(1e-3), values, extrapolated={jump}) is None
    assert stopping_index(AitkenTolerance(1e-2), values, extrapolated={jump}) == jump + 2


@pytest.mark.parametrize(
    "data, model",
    [
        (overlapping_gaussians(), lambda: GaussianFamily(2, FullCovariance())),
        (negative_binomial_counts(), negative_binomials),
    ],
    ids=["overlapping-gaussians", "negative-binomials"],
)
def test_aitken_on_slow_fits(data, model):
    """Tolerance(tol) stops where the log-likelihood is still more than tol below the
    limit; AitkenTolerance(tol) stops within tol of it, and no later than Tolerance with
    the loosest tol (in steps of 10^(1/4)) that reaches the same accuracy. With SQUAREM it
    also stops within tol, in fewer passes."""
    limit = limit_of(data, model())
    tol = 1e-7
    stall = StopWhen(lambda s: s.iteration > 3 and s.change < 1e-15, converged=True)
    everything, _ = fit(data, model(), tol=None, callbacks=[stall])
    values = everything.log_likelihood_history
    assert limit - values.max() < 1e-12  # the same optimum, to round-off

    aitken = stopping_index(AitkenTolerance(tol), values)
    tolerance = stopping_index(Tolerance(tol), values)
    assert aitken is not None and tolerance is not None
    assert limit - values[aitken] < tol
    assert limit - values[tolerance] > tol
    equal_accuracy = next(
        index
        for index in (stopping_index(Tolerance(tol * 10 ** (-j / 4)), values) for j in range(40))
        if index is not None and limit - values[index] < tol
    )
    assert aitken <= equal_accuracy

    fast, fast_states = fit(
        data, model(), tol=None, callbacks=[AitkenTolerance(tol)], acceleration=SQUAREM()
    )
    assert fast.converged and "Aitken" in fast.stop_reason
    assert limit - fast.lower_bound < tol
    assert passes(fast_states) < aitken + 1


def test_model_selection_with_squarem_chooses_as_plain_em() -> None:
    from mixture import select_model
    from mixture.datasets import load_faithful

    X, _ = load_faithful()
    plain = select_model(X, n_components=range(1, 5), random_state=0)
    fast = select_model(X, n_components=range(1, 5), random_state=0, acceleration=SQUAREM())
    assert (fast.best.model, fast.best.n_components) == (plain.best.model, plain.best.n_components)
    # Both stop at tol = 1e-6 per row; SQUAREM's stop is no further from the optimum.
    assert fast.best.bic <= plain.best.bic + 1e-6 * abs(plain.best.bic)
    passes = [
        int(c.result.stop_reason.split("SQUAREM: ")[1].split()[0])
        for c in fast.candidates
        if "SQUAREM" in c.result.stop_reason
    ]
    assert passes  # the fits ran accelerated


def test_squarem_from_given_parameters_with_the_default_prior() -> None:
    # A start from given parameters has mclust's default prior still unresolved (the first
    # M-step resolves it from the data): SQUAREM takes the start's objective as a floor and
    # reaches plain EM's log-posterior; model selection's split starts are such starts.
    from mixture import select_model
    from mixture.gaussian.prior import DefaultPrior
    from mixture.initializers import GivenParameters
    from mixture.model import Mixture

    rng = np.random.default_rng(5)
    data = np.concatenate([rng.normal(0.0, 1.0, (200, 2)), rng.normal(2.0, 1.0, (200, 2))])
    start = GaussianFamily(2, FullCovariance(), means=[[0.5, 0.5], [1.5, 1.5]],
                           covariances=np.stack([np.eye(2)] * 2))  # fmt: skip
    family = GaussianFamily(2, FullCovariance(), prior=DefaultPrior())
    initializer = GivenParameters(Mixture([0.5, 0.5], start))
    results = [
        MixtureEM(family, initializer=initializer, tol=1e-10, max_iter=5000, acceleration=a).fit(
            data
        )
        for a in (None, SQUAREM())
    ]
    posterior = [r.score(data) + r.family.log_prior() / data.shape[0] for r in results]
    assert abs(posterior[1] - posterior[0]) < 1e-8
    selection = select_model(
        data, n_components=range(1, 4), prior=DefaultPrior(), random_state=0,
        acceleration=SQUAREM(),
    )  # fmt: skip
    assert {c.start for c in selection.candidates} >= {"hierarchical"}
