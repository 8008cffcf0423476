"""The compiled whole EM run (``whole_runs=True``) is the engine's own run.

The compiled loop (:mod:`mixture.gaussian._em_compiled`) sums in other orders than the
numpy path (per row against GEMMs; centred scatter in a second pass against raw moments),
so parameters are compared in units of float resolution. Fixed numbers of plain EM steps
(no tolerance test, whose decision round-off could flip) must give the same parameters; a
run to convergence, with SQUAREM's accept/reject decisions in it, must end at the same
optimum within the tolerance. Anything the loop does not handle hands the run back to the
engine, whose behaviour (its result, its warnings, its errors) must then be unchanged.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _helpers import assert_close_in_ulps, blobs
from hypothesis import given
from hypothesis import strategies as st

from mixture import SQUAREM, GaussianFamily, Mixture, MixtureEM, select_model
from mixture._compiled import compiled_available, compiled_kernels
from mixture.exceptions import (
    ConvergenceWarning,
    DegenerateComponentError,
    EmptyComponentWarning,
)
from mixture.gaussian import (
    DefaultPrior,
    DiagonalCovariance,
    FullCovariance,
    SphericalCovariance,
    TiedCovariance,
)
from mixture.gaussian import family as gaussian_family
from mixture.gaussian.parsimonious import EEICovariance, EIICovariance
from mixture.gaussian.whole_run import layout_of, whole_run
from mixture.initializers import GivenParameters

pytestmark = pytest.mark.skipif(not compiled_available(), reason="numba is not installed")

STRUCTURES = (
    FullCovariance,
    TiedCovariance,
    DiagonalCovariance,
    SphericalCovariance,
    EIICovariance,
    EEICovariance,
)

#: Parameters after a fixed number of EM steps, in units of eps times the largest entry:
#: each step's round-off (sums over at most a few hundred rows) is carried into the next,
#: and EM's map amplifies it at most by its rate, which is below 1 near an optimum.
ULPS = 2**20


def _start(X, structure, K, seed):
    """A start of K components from one EM step after k-means (the numpy path)."""
    engine = MixtureEM(GaussianFamily(K, structure), max_iter=1, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return engine.fit(X)


def _fit(X, structure, K, start, whole, weights=None, **options):
    engine = MixtureEM(
        GaussianFamily(K, structure),
        initializer=GivenParameters(start),
        whole_runs=whole,
        **options,
    )
    with compiled_kernels(True if whole else None), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return engine.fit(X, weights)


@pytest.fixture
def compiled_runs(monkeypatch):
    """Counts the runs the compiled loop completed (not handed back)."""
    completed = []

    def recording(*args, **kwargs):
        outcome = whole_run(*args, **kwargs)
        completed.append(outcome is not None)
        return outcome

    monkeypatch.setattr(gaussian_family, "whole_run", recording)
    return completed


@given(
    seed=st.integers(0, 2**31 - 1),
    n_rows=st.integers(30, 200),
    n_features=st.integers(1, 4),
    K=st.integers(1, 4),
    which=st.sampled_from(STRUCTURES),
    weighted=st.booleans(),
)
def test_fixed_steps_give_the_engines_parameters(seed, n_rows, n_features, K, which, weighted):
    X = blobs(seed, n_rows, n_features, K, offset=3.0)
    weights = np.random.default_rng(seed).uniform(0.2, 3.0, n_rows) if weighted else None
    structure = which()
    start = _start(X, structure, K, seed)
    options = {"tol": None, "max_iter": 12}
    try:
        expected = _fit(X, structure, K, start, False, weights, **options)
    except DegenerateComponentError:
        with pytest.raises(DegenerateComponentError):
            _fit(X, structure, K, start, True, weights, **options)
        return
    actual = _fit(X, structure, K, start, True, weights, **options)
    assert actual.n_iter == expected.n_iter == 12
    assert actual.stop_reason == expected.stop_reason
    for a, b in (
        (actual.weights, expected.weights),
        (actual.family.means, expected.family.means),
        (actual.family.covariances, expected.family.covariances),
        (actual.log_likelihood_history, expected.log_likelihood_history),
    ):
        assert_close_in_ulps(a, b, ULPS)


@pytest.mark.parametrize("which", STRUCTURES)
@pytest.mark.parametrize("acceleration", [None, SQUAREM()])
def test_converged_runs_reach_the_engines_optimum(which, acceleration, compiled_runs):
    X = blobs(3, 240, 2, 3, offset=50.0)
    structure = which()
    start = _start(X, structure, 4, 0)
    options = {"tol": 1e-10, "max_iter": 5000, "acceleration": acceleration}
    expected = _fit(X, structure, 4, start, False, **options)
    actual = _fit(X, structure, 4, start, True, **options)
    assert compiled_runs == [True]
    assert actual.converged and expected.converged
    assert abs(actual.lower_bound - expected.lower_bound) < 1e-8
    history = np.asarray(actual.log_likelihood_history)
    assert np.all(np.diff(history) >= -1e-12 * np.abs(history[1:]))  # EM's monotonicity
    assert_close_in_ulps(actual.family.means, expected.family.means, 2**30)
    reason = actual.stop_reason
    assert reason.startswith("log-likelihood change below tol=1e-10")
    assert ("SQUAREM:" in reason) == (acceleration is not None)


def test_max_iter_stops_the_run_unconverged(compiled_runs):
    X = blobs(1, 150, 2, 3)
    start = _start(X, FullCovariance(), 3, 0)
    options = {"tol": 1e-14, "max_iter": 7, "acceleration": SQUAREM()}
    expected = _fit(X, FullCovariance(), 3, start, False, **options)
    engine = MixtureEM(
        GaussianFamily(3, FullCovariance()),
        initializer=GivenParameters(start),
        whole_runs=True,
        **options,
    )
    with compiled_kernels(True), pytest.warns(ConvergenceWarning, match="did not converge"):
        actual = engine.fit(X)
    assert compiled_runs == [True]
    assert not actual.converged and not expected.converged
    assert actual.stop_reason == expected.stop_reason
    assert "reached max_iter=7" in actual.stop_reason


def test_integer_weights_equal_repeated_rows():
    X = blobs(2, 120, 3, 2)
    counts = np.random.default_rng(0).integers(1, 4, X.shape[0])
    start = _start(X, DiagonalCovariance(), 2, 0)
    options = {"tol": None, "max_iter": 10}
    weighted = _fit(X, DiagonalCovariance(), 2, start, True, counts.astype(float), **options)
    repeated = _fit(np.repeat(X, counts, axis=0), DiagonalCovariance(), 2, start, True, **options)
    assert_close_in_ulps(weighted.family.means, repeated.family.means, ULPS)
    assert_close_in_ulps(weighted.family.covariances, repeated.family.covariances, ULPS)


def test_a_collapsing_run_is_handed_back_to_the_engine():
    # Five components on rows of which 30 share one value exactly: a component shrinks onto
    # them. Whatever the engine does there (an error, or a result with its warnings), the
    # compiled loop must not change it.
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(size=(60, 2)), np.tile([[4.0, 4.0]], (30, 1))])
    for structure in (FullCovariance(), DiagonalCovariance(), SphericalCovariance()):
        start = _start(X, structure, 5, 0)
        outcomes = []
        for whole in (False, True):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    result = _fit(X, structure, 5, start, whole, tol=1e-8, max_iter=500)
                    outcomes.append(
                        (result.lower_bound, sorted({type(w.message) for w in caught}, key=str))
                    )
                except DegenerateComponentError as error:
                    outcomes.append((type(error), str(error)))
        if isinstance(outcomes[0][0], float):
            assert abs(outcomes[0][0] - outcomes[1][0]) < 1e-6
            assert outcomes[0][1] == outcomes[1][1]
        else:
            assert outcomes[0] == outcomes[1]


def test_only_the_declaring_class_has_the_layout():
    class Mine(FullCovariance):
        """A structure with its own M-step must not inherit the compiled one."""

    assert layout_of(FullCovariance()) is not None
    assert layout_of(Mine()) is None


def test_the_switch_and_other_callbacks_keep_the_engines_loop():
    X = blobs(0, 100, 2, 2)
    start = _start(X, FullCovariance(), 2, 0)
    engine = MixtureEM(
        GaussianFamily(2, FullCovariance()),
        initializer=GivenParameters(start),
        whole_runs=True,
    )
    with compiled_kernels(False):
        assert engine._whole_run(*_source_and_mixture(engine, X, start)) is None
    with compiled_kernels(True):
        assert engine._whole_run(*_source_and_mixture(engine, X, start)) is not None
        from mixture.callbacks import History

        engine.callbacks = (*engine.callbacks, History())
        assert engine._whole_run(*_source_and_mixture(engine, X, start)) is None


def _source_and_mixture(engine, X, start):
    source = engine._checked_source(X, None)
    return source, engine._checked_start(start, X.shape[1]), 0, -np.inf, None


def test_model_selection_is_the_same_with_and_without_the_compiled_runs(compiled_runs):
    X = blobs(5, 200, 2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with compiled_kernels(False):
            expected = select_model(X, n_components=range(1, 5), random_state=0)
        with compiled_kernels(True):
            actual = select_model(X, n_components=range(1, 5), random_state=0)
    assert any(compiled_runs)
    assert actual.best.model == expected.best.model
    assert actual.best.n_components == expected.best.n_components
    for a, b in zip(actual.rows(), expected.rows(), strict=True):
        assert a["model"] == b["model"] and a["n_components"] == b["n_components"]
        assert abs(a["log_likelihood"] - b["log_likelihood"]) <= 1e-6 * abs(b["log_likelihood"])


def test_a_component_numpy_empties_is_empty_in_the_loop_too():
    # The far component's log-joints lie between -745 and -700 below each row's top: exp
    # gives tiny positive numbers, which the numpy path floors to exactly 0 (an empty
    # component, kept in place with weight 0 and a warning). The loop must do the same.
    X = np.random.default_rng(0).uniform(1.5, 2.5, (200, 1))
    family = GaussianFamily(
        2, FullCovariance(), means=[[2.0], [40.0]], covariances=[[[0.1]], [[1.0]]]
    )
    start = Mixture(np.array([0.5, 0.5]), family)
    outcomes = []
    for whole in (False, True):
        engine = MixtureEM(
            GaussianFamily(2, FullCovariance()),
            initializer=GivenParameters(start),
            tol=1e-8,
            whole_runs=whole,
        )
        with compiled_kernels(True), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = engine.fit(X)
        outcomes.append((result, {type(w.message) for w in caught}))
    (expected, expected_warnings), (actual, actual_warnings) = outcomes
    assert expected.weights[1] == 0.0 and actual.weights[1] == 0.0
    assert EmptyComponentWarning in expected_warnings
    assert actual_warnings == expected_warnings
    assert_close_in_ulps(actual.family.means, expected.family.means, ULPS)


def test_a_huge_max_iter_costs_nothing_up_front(compiled_runs):
    X = blobs(4, 120, 2, 2)
    start = _start(X, FullCovariance(), 2, 0)
    options = {"tol": 1e-6, "max_iter": 10**12}
    expected = _fit(X, FullCovariance(), 2, start, False, **options)
    actual = _fit(X, FullCovariance(), 2, start, True, **options)
    assert compiled_runs == [True]
    assert actual.converged and actual.n_iter == expected.n_iter


@pytest.mark.parametrize(
    "which", [FullCovariance, TiedCovariance, DiagonalCovariance, SphericalCovariance]
)
@pytest.mark.parametrize("acceleration", [None, SQUAREM()])
@pytest.mark.parametrize("shrinkage", [0.01, 0.0])
def test_map_runs_reach_the_engines_optimum(which, acceleration, shrinkage, compiled_runs):
    # With mclust's default prior (resolved by the start's M-step) the loop runs the MAP
    # M-step, and SQUAREM's safeguard compares log-posteriors.
    X = blobs(6, 200, 3, 3, offset=20.0)
    template = GaussianFamily(4, which(), prior=DefaultPrior(shrinkage=shrinkage), reg_covar=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = MixtureEM(template, max_iter=1, random_state=0).fit(X)
    prior = start.family.prior
    options = {"tol": 1e-10, "max_iter": 5000, "acceleration": acceleration}
    results = []
    for whole in (False, True):
        engine = MixtureEM(
            GaussianFamily(4, which(), prior=prior, reg_covar=0),
            initializer=GivenParameters(start),
            whole_runs=whole,
            **options,
        )
        with compiled_kernels(True if whole else None), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            results.append(engine.fit(X))
    expected, actual = results
    assert compiled_runs == [True]
    assert actual.family.prior == prior
    assert abs(actual.lower_bound - expected.lower_bound) < 1e-8
    posterior = actual.lower_bound * X.shape[0] + actual.family.log_prior()
    assert posterior >= expected.lower_bound * X.shape[0] + expected.family.log_prior() - 1e-6
    assert_close_in_ulps(actual.family.means, expected.family.means, 2**30)


def test_pooled_variances_with_a_prior_stay_on_the_engines_loop(compiled_runs):
    X = blobs(7, 150, 2, 2)
    template = GaussianFamily(2, EEICovariance(), prior=DefaultPrior(), reg_covar=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = MixtureEM(template, max_iter=1, random_state=0).fit(X)
    family = GaussianFamily(2, EEICovariance(), prior=start.family.prior, reg_covar=0)
    engine = MixtureEM(family, initializer=GivenParameters(start), whole_runs=True)
    with compiled_kernels(True):
        engine.fit(X)
    assert compiled_runs == [False]


def test_a_default_prior_is_resolved_as_the_first_m_step_resolves_it(compiled_runs):
    # A split start (given parameters) carries the template's unresolved DefaultPrior; the
    # engine resolves it from the first E-step's statistics, the loop from the rows' pooled
    # moments: the same prior up to round-off, and the same run.
    X = blobs(8, 180, 2, 3, offset=10.0)
    start = _start(X, FullCovariance(), 3, 0)
    results = []
    for whole in (False, True):
        engine = MixtureEM(
            GaussianFamily(3, FullCovariance(), prior=DefaultPrior(), reg_covar=0),
            initializer=GivenParameters(start),
            tol=1e-10,
            max_iter=5000,
            acceleration=SQUAREM(),
            whole_runs=whole,
        )
        with compiled_kernels(True if whole else None):
            results.append(engine.fit(X))
    expected, actual = results
    assert compiled_runs == [True]
    for a, b in (
        (actual.family.prior.scale, expected.family.prior.scale),
        (actual.family.prior.mean, expected.family.prior.mean),
    ):
        assert_close_in_ulps(a, b, 2**10)
    assert abs(actual.lower_bound - expected.lower_bound) < 1e-8
