"""The conformance kit: the checks every :class:`~mixture.Component` must pass.

Call :func:`check_component` from your own pytest suite on an instance of your component::

    from mixture.testing import check_component

    def test_my_component_conforms():
        report = check_component(MyComponent(rate=[1.5, 0.2]),
                                 invalid=[{"rate": [-1.0]}, {"rate": [[1.0]]}],
                                 n_parameters=2)
        print(report)

Each check raises an ``AssertionError`` that says what failed. What the kit may assume
comes from the component itself, never from its class name: its
:class:`~mixture.contract.Capabilities`, a scipy twin from ``scipy_twin()``, and ``mean`` /
``variance`` properties. Checks that a component gives no means to run are listed in the
report as not run, with the reason.

The checks
----------
``density``
    ``log_density`` has shape ``(n,)``, is finite on the component's own samples, and equals
    the scipy twin's ``logpdf`` (relative 1e-9).
``sampling``
    ``sample`` has the right shape; sample means and variances agree with ``mean`` and
    ``variance`` (within 6 standard errors); the samples follow the distribution: a
    chi-square test of frequencies against ``exp(log_density)`` for discrete components, a
    two-sample Kolmogorov-Smirnov test per feature against the twin's sampler otherwise.
``weights``
    the M-step laws, with hypothesis choosing weights and chunk splits: statistics of any
    chunk split add up to those of all rows; multiplying every weight by a constant changes
    nothing; a zero weight equals dropping the row; integer weights equal repeated rows;
    ``statistics.scale(c)`` equals statistics of weights times ``c``.
``ascent``
    the M-step never lowers the weighted log-likelihood (EM's monotonicity).
``parameters``
    ``n_parameters`` is a non-negative integer (equal to ``n_parameters`` if given), every
    ``invalid`` parameter set raises ``ValueError``, and computing statistics or fitting does
    not change the component.
``pickle``
    a pickle round trip gives the same densities.
``repr and model file``
    ``repr`` says what the component is (not ``<... object at 0x...>``); a component type
    registered for model files (a :class:`~mixture.declared.DeclaredComponent` is, from its
    declaration) writes and reads back to the same densities. An unregistered type is listed
    as not run, since ``mixture.model_file.save`` would refuse it.
``support``
    for a component that declares its support (:mod:`mixture.constraints`): rows made to lie
    outside it (one feature at a time) have log-density ``-inf``, leave the statistics
    unchanged, and a mixture of the component with a broad Gaussian fits data that holds
    such rows, with a non-decreasing log-likelihood.
``mixture``
    two copies of the component fit a mixture with :class:`~mixture.MixtureEM`, with a
    non-decreasing log-likelihood.

Two components are compared through their log-densities on probe rows, so the kit needs no
knowledge of their parameters.
"""

from __future__ import annotations

import json
import pickle
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
from scipy import stats

from mixture.contract import Component

__all__ = ["ConformanceReport", "check_component"]

_PROBE_ROWS = 200


@dataclass
class ConformanceReport:
    """Which checks ran, and which could not run and why."""

    component: str
    passed: list[str] = field(default_factory=list)
    not_run: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"{self.component}: {len(self.passed)} checks passed"]
        lines += [f"  passed: {name}" for name in self.passed]
        lines += [f"  not run: {name} ({why})" for name, why in self.not_run.items()]
        return "\n".join(lines)


def _same_component(a: Component, b: Component, probe: np.ndarray, rtol: float, what: str) -> None:
    """Assert two components give the same log-densities on the probe rows."""
    left, right = a.log_density(probe), b.log_density(probe)
    finite = np.isfinite(left) & np.isfinite(right)
    if not np.array_equal(np.isfinite(left), np.isfinite(right)):
        raise AssertionError(f"{what}: the two fits differ in where their density is zero")
    scale = np.maximum(np.abs(left[finite]), 1.0)
    gap = float(np.max(np.abs(left[finite] - right[finite]) / scale, initial=0.0))
    if gap > rtol:
        raise AssertionError(f"{what}: log-densities differ by {gap:.3g} (relative), > {rtol}")


def _fit(component: Component, X: np.ndarray, weights: np.ndarray) -> Component:
    return component.from_statistics(component.statistics(X, weights))


def check_component(
    component: Component,
    *,
    data: np.ndarray | None = None,
    invalid: Sequence[Mapping[str, Any] | Callable[[], Any]] = (),
    n_parameters: int | None = None,
    n_samples: int = 20000,
    seed: int = 0,
    rtol: float = 1e-8,
    max_examples: int = 10,
) -> ConformanceReport:
    """Run every conformance check that applies to ``component``.

    Parameters
    ----------
    component : Component
        An instance with typical parameters.
    data : ndarray of shape (n_samples, n_features), optional
        Rows to fit in the weight and ascent checks; default: the component's own samples.
    invalid : sequence of dict or callable
        Parameter sets that must be refused: each dict is passed as keyword arguments to the
        component's class, each callable is called; both must raise ``ValueError``.
    n_parameters : int, optional
        The expected number of free parameters.
    n_samples : int, default 20000
        Draws for the sampling checks.
    seed : int
        Seed of every random choice, so a run is reproducible.
    rtol : float
        Relative tolerance when two fits that should be equal are compared.
    max_examples : int
        Hypothesis examples per weight law.

    Returns
    -------
    ConformanceReport

    Raises
    ------
    AssertionError
        Naming the first check that failed.
    """
    if not isinstance(component, Component):
        raise TypeError(f"check_component needs a mixture.Component; got {type(component)}")
    report = ConformanceReport(repr(component))
    rng = np.random.default_rng(seed)
    draws = np.asarray(component.sample(n_samples, rng))
    if draws.shape != (n_samples, component.n_features):
        raise AssertionError(
            f"sample({n_samples}, rng) returned shape {draws.shape}; expected "
            f"{(n_samples, component.n_features)}"
        )
    rows = draws[: min(2000, n_samples)] if data is None else np.asarray(data, dtype=float)
    probe = np.concatenate([rows[:_PROBE_ROWS], draws[-_PROBE_ROWS:]])

    _check_density(component, draws, report)
    _check_sampling(component, draws, report, seed)
    _check_parameters(component, rows, invalid, n_parameters, report)
    _check_pickle(component, probe, report)
    _check_repr_and_model_file(component, probe, report)
    if component.capabilities.fixed:
        _check_fixed(component, rows, probe, report)
    else:
        _check_weight_laws(component, rows, probe, rtol, max_examples, seed, report)
        _check_ascent(component, rows, report, seed)
    _check_support(component, rows, probe, rtol, seed, report)
    _check_mixture(component, draws[:1000], seed, report)
    return report


def _check_density(component: Component, draws: np.ndarray, report: ConformanceReport) -> None:
    values = np.asarray(component.log_density(draws))
    if values.shape != (draws.shape[0],):
        raise AssertionError(f"log_density returned shape {values.shape}; expected (n,)")
    if not np.isfinite(values).all():
        raise AssertionError("log_density is not finite on the component's own samples")
    twin = component.scipy_twin()
    if twin is None:
        report.not_run["density vs scipy"] = "scipy_twin() returns None"
    else:
        expected = np.asarray(twin.logpdf(draws[:2000]))
        np.testing.assert_allclose(
            values[:2000], expected, rtol=1e-9, atol=1e-9, err_msg="log_density vs scipy twin"
        )
        report.passed.append("density vs scipy")
    report.passed.append("density shape and finiteness")


def _check_sampling(
    component: Component, draws: np.ndarray, report: ConformanceReport, seed: int
) -> None:
    mean = getattr(component, "mean", None)
    variance = getattr(component, "variance", None)
    if mean is None or variance is None:
        report.not_run["sample moments"] = "the component has no mean and variance"
    elif not (np.isfinite(mean).all() and np.isfinite(variance).all()):
        report.not_run["sample moments"] = "mean or variance is not finite (heavy tails)"
    else:
        _check_moments(draws, np.asarray(mean, dtype=float), np.asarray(variance, dtype=float))
        report.passed.append("sample moments")
    if component.capabilities.discrete:
        _check_frequencies(component, draws)
        report.passed.append("sample frequencies vs exp(log_density) (chi-square)")
        return
    twin = component.scipy_twin()
    if twin is None:
        report.not_run["sample distribution"] = "continuous and no scipy twin to compare with"
        return
    reference = np.asarray(twin.rvs(draws.shape[0], np.random.default_rng(seed + 1)))
    for column in range(draws.shape[1]):
        p_value = stats.ks_2samp(draws[:, column], reference[:, column]).pvalue
        if p_value < 1e-4:
            raise AssertionError(
                f"feature {column} of the samples differs from the scipy twin's samples "
                f"(two-sample KS p = {p_value:.2g})"
            )
    report.passed.append("sample distribution vs scipy twin (KS)")


def _check_moments(draws: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> None:
    n = draws.shape[0]
    error = np.abs(draws.mean(axis=0) - mean)
    allowed = 6 * np.sqrt(variance / n) + 1e-12
    if (error > allowed).any():
        raise AssertionError(
            f"sample means {draws.mean(axis=0)} differ from the mean {mean} by more than "
            "6 standard errors"
        )
    ratio = draws.var(axis=0) / np.where(variance > 0, variance, 1.0)
    if (np.abs(ratio[variance > 0] - 1.0) > 0.1).any():
        raise AssertionError(
            f"sample variances {draws.var(axis=0)} differ from the variance {variance} by "
            "more than 10%"
        )


def _check_frequencies(component: Component, draws: np.ndarray) -> None:
    values, counts = np.unique(draws, axis=0, return_counts=True)
    probabilities = np.exp(component.log_density(values))
    if probabilities.sum() > 1 + 1e-9:
        raise AssertionError("exp(log_density) sums to more than 1 over distinct values")
    expected = probabilities * draws.shape[0]
    common = expected >= 5
    observed = np.append(counts[common], counts[~common].sum())
    predicted = np.append(expected[common], draws.shape[0] - expected[common].sum())
    keep = predicted > 0
    statistic = float((((observed - predicted) ** 2)[keep] / predicted[keep]).sum())
    dof = max(int(keep.sum()) - 1, 1)
    p_value = stats.chi2.sf(statistic, dof)
    if p_value < 1e-4:
        raise AssertionError(
            f"sample frequencies disagree with exp(log_density): chi-square {statistic:.1f} "
            f"on {dof} degrees of freedom, p = {p_value:.2g}"
        )


def _check_parameters(
    component: Component,
    rows: np.ndarray,
    invalid: Sequence[Mapping[str, Any] | Callable[[], Any]],
    n_parameters: int | None,
    report: ConformanceReport,
) -> None:
    count = component.n_parameters
    if not isinstance(count, (int, np.integer)) or count < 0:
        raise AssertionError(f"n_parameters must be a non-negative int; got {count!r}")
    if n_parameters is not None and count != n_parameters:
        raise AssertionError(f"n_parameters is {count}; expected {n_parameters}")
    report.passed.append("parameter count")
    for case in invalid:
        try:
            if callable(case):
                case()
            else:
                type(component)(**case)
        except ValueError:
            continue
        raise AssertionError(f"invalid parameters {case!r} were accepted (no ValueError)")
    if invalid:
        report.passed.append(f"{len(invalid)} invalid parameter sets refused")
    else:
        report.not_run["invalid parameters"] = "no invalid parameter sets given"
    before = component.log_density(rows[:50])
    component.statistics(rows, np.ones(rows.shape[0]))
    component.fit(rows)
    if not np.array_equal(before, component.log_density(rows[:50])):
        raise AssertionError("statistics() or fit() changed the component (it must not)")
    report.passed.append("immutable")


def _check_pickle(component: Component, probe: np.ndarray, report: ConformanceReport) -> None:
    try:
        restored = pickle.loads(pickle.dumps(component))
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise AssertionError(f"the component cannot be pickled: {exc}") from None
    if not np.array_equal(restored.log_density(probe), component.log_density(probe)):
        raise AssertionError("a pickle round trip changed the densities")
    report.passed.append("pickle round trip")


def _check_fixed(
    component: Component, rows: np.ndarray, probe: np.ndarray, report: ConformanceReport
) -> None:
    refit = component.fit(rows)
    _same_component(refit, component, probe, 0.0, "a fixed component's M-step")
    report.passed.append("fixed: the M-step returns the component unchanged")


def _check_weight_laws(
    component: Component,
    rows: np.ndarray,
    probe: np.ndarray,
    rtol: float,
    max_examples: int,
    seed: int,
    report: ConformanceReport,
) -> None:
    try:
        from hypothesis import HealthCheck, given, settings
        from hypothesis import strategies as st
    except ImportError:  # depends on the environment; tested by hiding hypothesis
        report.not_run["weight laws"] = (
            "hypothesis is not installed: pip install hypothesis, or install this project "
            "with its testing extra, pip install '.[testing]'"
        )
        return
    n_rows = rows.shape[0]

    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        data_seed=st.integers(0, 2**32 - 1),
        splits=st.lists(st.integers(1, n_rows - 1), max_size=4),
        factor=st.floats(1e-3, 1e3),
    )
    def laws(data_seed: int, splits: list[int], factor: float) -> None:
        local = np.random.default_rng(data_seed)
        weights = local.uniform(0.1, 2.0, n_rows)
        whole = _fit(component, rows, weights)

        bounds = [0, *sorted(set(splits)), n_rows]
        chunks = [component.statistics(rows[a:b], weights[a:b]) for a, b in pairwise(bounds)]
        summed = chunks[0]
        for chunk in chunks[1:]:
            summed = summed + chunk
        _same_component(component.from_statistics(summed), whole, probe, rtol, "chunk split")

        scaled = _fit(component, rows, weights * factor)
        _same_component(scaled, whole, probe, rtol, f"weights times {factor}")
        by_scale = component.from_statistics(component.statistics(rows, weights).scale(factor))
        _same_component(by_scale, scaled, probe, rtol, "statistics.scale")

        dropped = local.random(n_rows) < 0.2
        dropped[0] = False
        zeroed = np.where(dropped, 0.0, weights)
        _same_component(
            _fit(component, rows, zeroed),
            _fit(component, rows[~dropped], weights[~dropped]),
            probe,
            rtol,
            "zero weight vs dropped row",
        )

        counts = local.integers(0, 4, n_rows)
        counts[0] = 1
        repeated = np.repeat(rows, counts, axis=0)
        _same_component(
            _fit(component, rows, counts.astype(float)),
            _fit(component, repeated, np.ones(repeated.shape[0])),
            probe,
            rtol,
            "integer weights vs repeated rows",
        )

    laws()
    report.passed.append(
        "weight laws (chunk split, scaling, zero weight, repeated rows, statistics.scale)"
    )


def _check_ascent(
    component: Component, rows: np.ndarray, report: ConformanceReport, seed: int
) -> None:
    local = np.random.default_rng(seed + 2)
    current = component
    for _ in range(3):
        weights = local.uniform(0.0, 2.0, rows.shape[0])
        before = float(np.dot(weights, current.log_density(rows)))
        updated = _fit(current, rows, weights)
        after = float(np.dot(weights, updated.log_density(rows)))
        if after < before - 1e-9 * max(abs(before), 1.0):
            raise AssertionError(
                f"the M-step lowered the weighted log-likelihood from {before} to {after}"
            )
        current = updated
    report.passed.append("the M-step never lowers the weighted log-likelihood")


def _check_mixture(
    component: Component, rows: np.ndarray, seed: int, report: ConformanceReport
) -> None:
    from mixture.engine import MixtureEM
    from mixture.initializers import RandomResponsibilities

    engine = MixtureEM(
        [component, component],
        initializer=RandomResponsibilities(),
        tol=None,
        max_iter=10,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = engine.fit(rows)
    history = result.log_likelihood_history
    slack = 1e-7 * np.maximum(np.abs(history[:-1]), 1.0)
    if (np.diff(history) < -slack).any():
        raise AssertionError(f"EM on a 2-component mixture lowered the log-likelihood: {history}")
    report.passed.append("fits a 2-component mixture with non-decreasing log-likelihood")


def _check_repr_and_model_file(
    component: Component, probe: np.ndarray, report: ConformanceReport
) -> None:
    text = repr(component)
    if " object at 0x" in text:
        raise AssertionError(
            f"repr(component) is Python's default {text!r}; give the class a __repr__ that "
            "shows its parameters (a DeclaredComponent has one)"
        )
    report.passed.append("repr shows the parameters")
    import mixture.model_file  # noqa: F401  (registers the built-in hand-written types)
    from mixture.file_types import ModelFileError, decode, encode

    try:
        entry = encode(component)
    except ModelFileError:
        report.not_run["model file round trip"] = (
            f"{type(component).__name__} is not registered for model files, so "
            "mixture.model_file.save refuses it: subclass mixture.declared.DeclaredComponent "
            "(it registers itself) or call mixture.model_file.register"
        )
        return
    try:
        restored = decode(json.loads(json.dumps(entry, allow_nan=False)), "component")
    except (TypeError, ValueError) as exc:
        raise AssertionError(
            f"the component's model-file entry does not read back: {exc}"
        ) from None
    if not np.array_equal(restored.log_density(probe), component.log_density(probe)):
        raise AssertionError("a model-file round trip changed the densities")
    report.passed.append("model file round trip")


def _outside_rows(component: Component, rows: np.ndarray) -> np.ndarray:
    """Rows of ``rows`` with one feature at a time set to a value outside the support."""
    support = component.support  # type: ignore[attr-defined]
    values = np.asarray(support.outside_values(component.n_features), dtype=np.float64)
    base = rows[: max(1, 40 // max(values.size, 1))]
    made = []
    for value in values:
        for feature in np.flatnonzero(~np.isnan(value)):
            changed = base.copy()
            changed[:, feature] = value[feature]
            made.append(changed)
    if not made:
        return np.empty((0, component.n_features))
    outside = np.concatenate(made)
    inside = support.contains(outside)
    if inside.any():
        raise AssertionError(
            f"support.outside_values gave a row the support contains: {outside[inside][0]}"
        )
    return outside


def _check_support(
    component: Component,
    rows: np.ndarray,
    probe: np.ndarray,
    rtol: float,
    seed: int,
    report: ConformanceReport,
) -> None:
    from mixture.constraints import Support

    if not isinstance(getattr(component, "support", None), Support):
        report.not_run["support"] = (
            "the component declares no support (a mixture.constraints.Support as its "
            "'support' attribute), so no rows outside it are tried"
        )
        return
    outside = _outside_rows(component, rows)
    if outside.shape[0] == 0:
        report.passed.append(f"support: {component.support!r}, nothing outside to try")  # type: ignore[attr-defined]
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        values = np.asarray(component.log_density(outside))
    if not (values == -np.inf).all():
        index = int(np.argmax(values != -np.inf))
        raise AssertionError(
            f"the row {outside[index].tolist()} lies outside the declared support but has "
            f"log-density {values[index]} (it must be -inf)"
        )
    if not component.capabilities.fixed:
        both = np.concatenate([rows, outside])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with_outside = _fit(component, both, np.ones(both.shape[0]))
        _same_component(
            with_outside,
            _fit(component, rows, np.ones(rows.shape[0])),
            probe,
            rtol,
            "statistics of rows outside the support must be left out",
        )
    _check_mixed_fit(component, rows, outside, seed)
    report.passed.append("support: rows outside get -inf, are left out, and a mixed fit works")


def _check_mixed_fit(
    component: Component, rows: np.ndarray, outside: np.ndarray, seed: int
) -> None:
    from mixture.engine import MixtureEM
    from mixture.gaussian import DiagonalCovariance, Gaussian
    from mixture.initializers import RandomResponsibilities

    data = np.concatenate([rows[:500], outside])
    spread = np.maximum(data.var(axis=0), 1.0) * 4.0
    broad = Gaussian(data.mean(axis=0), spread, structure=DiagonalCovariance())
    engine = MixtureEM(
        [component, broad],
        initializer=RandomResponsibilities(),
        tol=None,
        max_iter=5,
        random_state=seed,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = engine.fit(data)
    except Exception as exc:  # any failure here is the finding the check reports
        raise AssertionError(
            "a mixture of the component and a broad Gaussian failed on data holding rows "
            f"outside the component's support: {type(exc).__name__}: {exc}"
        ) from None
    history = result.log_likelihood_history
    slack = 1e-7 * np.maximum(np.abs(history[:-1]), 1.0)
    if not np.isfinite(history).all() or (np.diff(history) < -slack).any():
        raise AssertionError(
            f"a mixture of the component and a broad Gaussian on data holding rows outside "
            f"its support had the log-likelihoods {history}"
        )
