"""Numerical parity with :class:`sklearn.mixture.GaussianMixture`.

Both estimators start from identical parameters (``weights_init``, ``means_init``,
``precisions_init``) and get the same constructor arguments, so every EM iteration should
produce the same numbers up to round-off.

Tolerances and why
------------------
``PARITY_RTOL = 1e-7`` (elementwise relative difference ``|a - b| / max(|a|, |b|)``) for
every fitted attribute and every method output on data near the origin: synthetic blobs,
iris, wine and Old Faithful, after 1 and 5 iterations and at convergence. The measured
differences are about 1e-16 to 2e-10 (run ``pytest -s`` for the table). The largest are in
the tied precisions and their Cholesky factors on wine, whose feature variances range from
0.015 (nonflavanoid phenols) to 1e5 (proline): its covariance has a condition number of
1.2e7, and inverting it amplifies the round-off of two equally good implementations by up to that
much. That is conditioning, not a discrepancy of method, and still ~500 times inside the
tolerance; iris, faithful and blobs stay below 1e-11.

``predict_proba`` and ``score_samples`` are compared with a floor of 1 in the denominator:
probabilities on the scale of a probability (entries of 1e-300 or subnormal values carry
fewer significant digits than the log-densities they come from, in both libraries), and
log-densities in nats where they are smaller than 1 in magnitude (a log-density that
happens to be 0.001 has no meaningful relative error; its absolute error is what matters).

``precisions_cholesky_`` is compared in every parity case: each case runs at least one
M-step, after which both libraries derive the factor from the covariances. (Before any
M-step scikit-learn factors ``precisions_init`` itself: scikit-learn 1.9 obtains the same
upper-triangular ``U`` with ``U U^T = P`` through a flipped Cholesky, older releases a
different factor of the same precision. With ``max_iter=0`` and all three initial parameters
given scikit-learn 1.9 fails outright; see ``test_max_iter_zero_keeps_given_parameters``.)

Far from the origin (blobs shifted by 1e6) the two libraries legitimately differ.
scikit-learn's tied, diagonal and spherical M-steps use one-pass formulas
(``E[x^2] - E[x]^2``) that cancel catastrophically: ~1e12 squared offsets minus each other
leave only a few significant digits of a variance of order 1. Our statistics are centred
(Chan-Golub-LeVeque merging), so they keep the digits the data has. The reference is a
float128-free one: EM is translation invariant, so the fit on the un-shifted data (computed
by scikit-learn near the origin, where it is accurate) must equal the shifted fit with the
means shifted back. The shifted data are built so that ``X_far - 1e6`` is exactly
``X_near`` (Sterbenz), so the reference is exact in the data. What no float64 algorithm can
avoid is storing the means near 1e6, with a spacing of 1.2e-10: that alone moves the means
by ~1e-11 feature standard deviations and the log-densities by up to ~1e-8 nats when a
component is narrow (one blobs component has a standard deviation of 3e-3 in some
direction; evaluating the exact reference parameters with their means rounded to 1e6 + mu
moves the log-densities by up to 9e-9 nats there, and ours stays within that floor).
Hence ``OFFSET_RTOL``: 1e-8 for weights, covariances and precisions (measured <= 4e-10;
off-diagonal entries of full and tied matrices are measured relative to
``sqrt(M_ii M_jj)``, since an off-diagonal entry near 0 has no relative precision of its
own), 1e-10 for the lower bound, 1e-9 feature standard deviations for the means (measured
~1e-10), 1e-7 for the log-densities (absolute below 1 nat; measured <= 7e-9). Ours must
also be at least as accurate as scikit-learn attribute by attribute, up to
``OFFSET_FLOOR = 1e-10`` (the resolution of the shifted data; it matters for the full
covariance, where scikit-learn centres too and both are near that resolution).
scikit-learn's errors for tied/diag/spherical are ~1e-6 (lower bound) to ~1e-2
(parameters); they are printed (``pytest -s``), not asserted.
"""

from __future__ import annotations

import datetime
import functools
import math
import os
import pathlib
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from _helpers import blobs
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from mixture import ConvergenceWarning, GaussianMixture, Mixture
from mixture._validation import check_data
from mixture.datasets import load_faithful
from mixture.exceptions import (
    DegenerateComponentError,
    DegenerateRunWarning,
    FewDistinctRowsWarning,
    NotFittedError,
)
from mixture.initializers import Initializer, KMeans

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
DATASETS = ["blobs", "iris", "wine", "faithful"]
ITERATIONS = [1, 5, "converged"]

PARITY_RTOL = 1e-7
OFFSET = 1e6
OFFSET_RTOL = {
    "weights_": 1e-8,
    "means_ (sd units)": 1e-9,
    "covariances_": 1e-8,
    "precisions_": 1e-8,
    "lower_bound_": 1e-10,
    "score_samples": 1e-7,
}
# Below this both estimators are at the resolution of data stored near 1e6.
OFFSET_FLOOR = 1e-10
FLOAT32_RTOL = 1e-4

PARAMETER_ATTRIBUTES = [
    "weights_",
    "means_",
    "covariances_",
    "precisions_",
    "precisions_cholesky_",
]
TABLE_COLUMNS = [
    *PARAMETER_ATTRIBUTES,
    "lower_bound_",
    "lower_bounds_",
    "predict_proba",
    "score_samples",
    "score",
    "aic",
    "bic",
]


# -- data and starting parameters -------------------------------------------------------------
@functools.cache
def dataset(name: str) -> tuple[np.ndarray, int]:
    """Rows and number of components of a named data set (all near the origin)."""
    if name == "blobs":
        return blobs(0, 500, 3, 3), 3
    if name == "iris":
        return load_iris().data.astype(np.float64), 3
    if name == "wine":
        return load_wine().data.astype(np.float64), 3
    if name == "faithful":
        return load_faithful()[0], 2
    raise ValueError(name)


def starting_parameters(
    X: np.ndarray, n_components: int, covariance_type: str, seed: int = 0
) -> dict[str, np.ndarray]:
    """Equal weights, K distinct rows as means, precisions of the data's covariance."""
    rng = np.random.default_rng(seed)
    distinct = np.unique(X, axis=0)
    means = distinct[rng.choice(distinct.shape[0], n_components, replace=False)]
    covariance = np.cov(X, rowvar=False, bias=True)
    precision = np.linalg.inv(covariance)
    precision = 0.5 * (precision + precision.T)
    variances = X.var(axis=0)
    if covariance_type == "full":
        precisions = np.repeat(precision[None], n_components, axis=0)
    elif covariance_type == "tied":
        precisions = precision
    elif covariance_type == "diag":
        precisions = np.tile(1.0 / variances, (n_components, 1))
    else:
        precisions = np.full(n_components, 1.0 / variances.mean())
    return {
        "weights_init": np.full(n_components, 1.0 / n_components),
        "means_init": means,
        "precisions_init": precisions,
    }


def stopping(iterations: int | str) -> dict[str, Any]:
    """``max_iter``/``tol`` for a fixed number of iterations or a run to convergence.

    Fixed counts keep scikit-learn's default ``tol``, so a few runs converge early (both
    libraries must then agree on that as well).
    """
    if iterations == "converged":
        return {"max_iter": 1000, "tol": 1e-6}
    return {"max_iter": iterations, "tol": 1e-3}


def constructor_arguments(
    X: np.ndarray, n_components: int, covariance_type: str, **settings: Any
) -> dict[str, Any]:
    """Fresh arguments (new arrays each call) for both estimators."""
    return {
        "n_components": n_components,
        "covariance_type": covariance_type,
        "reg_covar": 1e-6,
        "random_state": 0,
        **starting_parameters(X, n_components, covariance_type),
        **settings,
    }


def both(**arguments: Any) -> tuple[SklearnGaussianMixture, GaussianMixture]:
    return SklearnGaussianMixture(**arguments), GaussianMixture(**arguments)


def fit_predict_recording(estimator: Any, X: np.ndarray, **fit_params: Any):
    """``fit_predict`` with every warning recorded: (labels, warning categories)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels = estimator.fit_predict(X, **fit_params)
    return labels, [w.category for w in caught]


def fit_quietly(estimator: Any, X: np.ndarray, **fit_params: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        return estimator.fit(X, **fit_params)


# -- differences ------------------------------------------------------------------------------
def relative_difference(actual: Any, expected: Any, floor: Any = 0.0) -> float:
    """Largest elementwise ``|a - e| / max(|a|, |e|, floor)`` (0 where ``a == e``).

    ``floor`` is a number or an array broadcasting against ``expected``.
    """
    actual = np.atleast_1d(np.asarray(actual, dtype=np.float64))
    expected = np.atleast_1d(np.asarray(expected, dtype=np.float64))
    if actual.shape != expected.shape:
        raise AssertionError(f"shapes differ: {actual.shape} != {expected.shape}")
    if actual.size == 0:
        return 0.0
    scale = np.maximum(np.maximum(np.abs(actual), np.abs(expected)), floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(actual - expected) / scale
    ratio[actual == expected] = 0.0  # also equal infinities
    return float(np.nan_to_num(ratio, nan=np.inf).max())


def matrix_entry_scale(matrices: np.ndarray, covariance_type: str) -> np.ndarray | float:
    """``sqrt(M_ii M_jj)`` for full and tied matrices (0 for the other types).

    The natural scale of entry ``ij`` (``|M_ij|`` is at most that): an off-diagonal entry
    near 0 has no relative precision of its own, only relative to its row and column.
    """
    if covariance_type not in ("full", "tied"):
        return 0.0
    root = np.sqrt(np.diagonal(matrices, axis1=-2, axis2=-1))
    return root[..., :, None] * root[..., None, :]


def normwise_difference(actual: Any, expected: Any) -> float:
    """``max |a - e| / max |e|``: the difference relative to the attribute's scale."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    return float(np.abs(actual - expected).max() / np.abs(expected).max())


def assert_all_within(differences: dict[str, float], tolerance: float | dict[str, float]):
    limits = tolerance if isinstance(tolerance, dict) else dict.fromkeys(differences, tolerance)
    failures = {
        name: f"{value:.3g} > {limits[name]:g}"
        for name, value in differences.items()
        if not value <= limits[name]
    }
    assert not failures, f"largest relative differences beyond tolerance: {failures}"


# -- the parity cases -------------------------------------------------------------------------
@dataclass(frozen=True)
class ParityCase:
    X: np.ndarray
    sklearn: SklearnGaussianMixture
    ours: GaussianMixture
    refit: GaussianMixture
    sklearn_labels: np.ndarray
    our_labels: np.ndarray
    sklearn_warnings: list[type]
    our_warnings: list[type]


@functools.cache
def parity_case(name: str, covariance_type: str, iterations: int | str) -> ParityCase:
    X, n_components = dataset(name)
    arguments = functools.partial(
        constructor_arguments, X, n_components, covariance_type, **stopping(iterations)
    )
    sklearn = SklearnGaussianMixture(**arguments())
    sklearn_labels, sklearn_warnings = fit_predict_recording(sklearn, X)
    ours = GaussianMixture(**arguments())
    our_labels, our_warnings = fit_predict_recording(ours, X)
    refit = fit_quietly(GaussianMixture(**arguments()), X)
    return ParityCase(
        X, sklearn, ours, refit, sklearn_labels, our_labels, sklearn_warnings, our_warnings
    )


def parity_differences(case: ParityCase) -> dict[str, float]:
    X, ours, sklearn = case.X, case.ours, case.sklearn
    differences = {
        attribute: relative_difference(getattr(ours, attribute), getattr(sklearn, attribute))
        for attribute in PARAMETER_ATTRIBUTES
    }
    differences["lower_bound_"] = relative_difference(ours.lower_bound_, sklearn.lower_bound_)
    differences["lower_bounds_"] = relative_difference(ours.lower_bounds_, sklearn.lower_bounds_)
    differences["predict_proba"] = relative_difference(
        ours.predict_proba(X), sklearn.predict_proba(X), floor=1.0
    )
    differences["score_samples"] = relative_difference(
        ours.score_samples(X), sklearn.score_samples(X), floor=1.0
    )
    for method in ("score", "aic", "bic"):
        differences[method] = relative_difference(
            getattr(ours, method)(X), getattr(sklearn, method)(X)
        )
    return differences


@pytest.mark.parametrize("iterations", ITERATIONS, ids=str)
@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_parity_from_identical_start(covariance_type, name, iterations) -> None:
    case = parity_case(name, covariance_type, iterations)
    ours, sklearn, X = case.ours, case.sklearn, case.X

    assert ours.n_iter_ == sklearn.n_iter_
    assert ours.converged_ is sklearn.converged_
    if iterations == "converged":
        assert ours.converged_
    else:
        assert ours.n_iter_ <= iterations
    assert len(ours.lower_bounds_) == len(sklearn.lower_bounds_) == ours.n_iter_

    # A ConvergenceWarning exactly when the run did not converge, as scikit-learn does.
    expected_warnings = [] if sklearn.converged_ else [SklearnConvergenceWarning]
    assert [w for w in case.sklearn_warnings if issubclass(w, SklearnConvergenceWarning)] == (
        expected_warnings
    )
    assert case.our_warnings == ([] if ours.converged_ else [ConvergenceWarning])

    predictions = ours.predict(X)
    np.testing.assert_array_equal(predictions, sklearn.predict(X))
    np.testing.assert_array_equal(case.our_labels, case.sklearn_labels)
    np.testing.assert_array_equal(case.our_labels, predictions)
    np.testing.assert_array_equal(case.refit.predict(X), case.our_labels)

    differences = parity_differences(case)
    # Same random_state (0 for both), same draws.
    our_rows, our_components = ours.sample(6)
    sklearn_rows, sklearn_components = sklearn.sample(6)
    np.testing.assert_array_equal(our_components, sklearn_components)
    differences["sample"] = relative_difference(our_rows, sklearn_rows, floor=1.0)
    assert_all_within(differences, PARITY_RTOL)


# -- far from the origin ----------------------------------------------------------------------
@dataclass(frozen=True)
class OffsetCase:
    X_near: np.ndarray
    X_far: np.ndarray
    reference: SklearnGaussianMixture
    ours: GaussianMixture
    sklearn: SklearnGaussianMixture


@functools.cache
def offset_case(covariance_type: str, iterations: int | str) -> OffsetCase:
    X_far = blobs(1, 500, 3, 3) + OFFSET
    X_near = X_far - OFFSET  # exact: X_far and OFFSET are within a factor 2
    assert np.array_equal(X_near + OFFSET, X_far)
    near = constructor_arguments(X_near, 3, covariance_type, **stopping(iterations))
    far = constructor_arguments(X_near, 3, covariance_type, **stopping(iterations))
    far["means_init"] = far["means_init"] + OFFSET  # rows of X_far, exactly
    reference = fit_quietly(SklearnGaussianMixture(**near), X_near)
    sklearn, ours = both(**far)
    return OffsetCase(
        X_near, X_far, reference, fit_quietly(ours, X_far), fit_quietly(sklearn, X_far)
    )


def offset_errors(case: OffsetCase, estimator: Any) -> dict[str, float]:
    """Errors of a fit on the shifted data against the un-shifted reference."""
    reference = case.reference
    spread = case.X_near.std(axis=0)
    errors = {"weights_": relative_difference(estimator.weights_, reference.weights_)}
    for attribute in ("covariances_", "precisions_"):
        expected = getattr(reference, attribute)
        errors[attribute] = relative_difference(
            getattr(estimator, attribute),
            expected,
            floor=matrix_entry_scale(expected, estimator.covariance_type),
        )
    shifted_back = estimator.means_ - OFFSET  # exact (Sterbenz)
    errors["means_ (sd units)"] = float((np.abs(shifted_back - reference.means_) / spread).max())
    errors["lower_bound_"] = relative_difference(estimator.lower_bound_, reference.lower_bound_)
    errors["score_samples"] = relative_difference(
        estimator.score_samples(case.X_far), reference.score_samples(case.X_near), floor=1.0
    )
    return errors


@pytest.mark.parametrize("iterations", ITERATIONS, ids=str)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_far_from_origin_ours_matches_translated_reference(covariance_type, iterations) -> None:
    case = offset_case(covariance_type, iterations)
    ours, reference = case.ours, case.reference

    assert ours.n_iter_ == reference.n_iter_
    assert ours.converged_ is reference.converged_
    np.testing.assert_array_equal(ours.predict(case.X_far), reference.predict(case.X_near))
    assert relative_difference(ours.lower_bounds_, reference.lower_bounds_) <= 1e-10

    our_errors = offset_errors(case, ours)
    assert_all_within(our_errors, OFFSET_RTOL)

    # At least as accurate as scikit-learn (up to the resolution of the shifted data).
    sklearn_errors = offset_errors(case, case.sklearn)
    worse = {
        name: f"ours {our_errors[name]:.3g} > scikit-learn {sklearn_errors[name]:.3g}"
        for name in our_errors
        if our_errors[name] > max(sklearn_errors[name], OFFSET_FLOOR)
    }
    assert not worse, worse


# -- sample weights ---------------------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_integer_sample_weights_equal_repeated_rows(covariance_type) -> None:
    X, n_components = dataset("iris")
    counts = np.random.default_rng(1).integers(0, 4, size=X.shape[0])  # zeros drop rows
    repeated = np.repeat(X, counts, axis=0)
    arguments = functools.partial(
        constructor_arguments, X, n_components, covariance_type, **stopping("converged")
    )
    weighted = GaussianMixture(**arguments()).fit(X, sample_weight=counts)
    ours = GaussianMixture(**arguments()).fit(repeated)
    sklearn = SklearnGaussianMixture(**arguments()).fit(repeated)

    for other in (ours, sklearn):
        assert weighted.n_iter_ == other.n_iter_
        assert weighted.converged_ is other.converged_ is True
        differences = {
            attribute: relative_difference(getattr(weighted, attribute), getattr(other, attribute))
            for attribute in [*PARAMETER_ATTRIBUTES, "lower_bound_", "lower_bounds_"]
        }
        differences["score"] = relative_difference(
            weighted.score(X, sample_weight=counts), other.score(repeated)
        )
        differences["bic"] = relative_difference(
            weighted.result_.bic(X, counts), other.bic(repeated)
        )
        differences["aic"] = relative_difference(
            weighted.result_.aic(X, counts), other.aic(repeated)
        )
        differences["score_samples"] = relative_difference(
            weighted.score_samples(X), other.score_samples(X), floor=1.0
        )
        differences["predict_proba"] = relative_difference(
            weighted.predict_proba(X), other.predict_proba(X), floor=1.0
        )
        assert_all_within(differences, PARITY_RTOL)
        np.testing.assert_array_equal(weighted.predict(X), other.predict(X))


# -- float32 ----------------------------------------------------------------------------------
@pytest.mark.parametrize("max_iter", [5, 100])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_keeps_dtype_and_agrees_with_float64(covariance_type, max_iter) -> None:
    X, n_components = dataset("iris")
    X32 = X.astype(np.float32)
    arguments = functools.partial(
        constructor_arguments, X, n_components, covariance_type, max_iter=max_iter
    )
    single = fit_quietly(GaussianMixture(**arguments()), X32)
    double = fit_quietly(GaussianMixture(**arguments()), X)

    outputs = {attribute: getattr(single, attribute) for attribute in PARAMETER_ATTRIBUTES}
    outputs["predict_proba"] = single.predict_proba(X32)
    outputs["score_samples"] = single.score_samples(X32)
    expected = {attribute: getattr(double, attribute) for attribute in PARAMETER_ATTRIBUTES}
    expected["predict_proba"] = double.predict_proba(X)
    expected["score_samples"] = double.score_samples(X)

    assert {name: value.dtype for name, value in outputs.items()} == dict.fromkeys(
        outputs, np.dtype(np.float32)
    )
    assert single.n_iter_ == double.n_iter_
    differences = {name: normwise_difference(outputs[name], expected[name]) for name in outputs}
    differences["lower_bound_"] = relative_difference(single.lower_bound_, double.lower_bound_)
    assert_all_within(differences, FLOAT32_RTOL)
    np.testing.assert_array_equal(single.predict(X32), double.predict(X))


# -- warm start -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["iris", "faithful"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_warm_start_continues_like_sklearn(covariance_type, name) -> None:
    X, n_components = dataset(name)
    sklearn, ours = both(
        **constructor_arguments(X, n_components, covariance_type, warm_start=True, max_iter=2)
    )
    for _ in range(3):
        fit_quietly(sklearn, X)
        fit_quietly(ours, X)
        assert ours.n_iter_ == sklearn.n_iter_
        assert ours.converged_ is sklearn.converged_
        differences = {
            attribute: relative_difference(getattr(ours, attribute), getattr(sklearn, attribute))
            for attribute in ["lower_bound_", "lower_bounds_", "weights_", "means_", "covariances_"]
        }
        assert_all_within(differences, PARITY_RTOL)


# -- max_iter=0 -------------------------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_max_iter_zero_initialises_only(covariance_type) -> None:
    X, n_components = dataset("faithful")
    for estimator in both(
        n_components=n_components, covariance_type=covariance_type, max_iter=0, random_state=0
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error", SklearnConvergenceWarning)
            estimator.fit(X)
        assert estimator.n_iter_ == 0
        assert estimator.converged_ is False
        assert estimator.lower_bound_ == -np.inf
        assert list(estimator.lower_bounds_) == []


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_max_iter_zero_keeps_given_parameters(covariance_type) -> None:
    # scikit-learn 1.9 cannot run this case (with all three initial parameters given and
    # max_iter=0 it never sets covariances_ and raises AttributeError), so the parameters are
    # checked against the given ones, and the log-likelihood of the start against the first
    # entry of scikit-learn's lower_bounds_ after one iteration (the E-step before the first
    # M-step evaluates exactly the starting parameters).
    X, n_components = dataset("faithful")
    given = starting_parameters(X, n_components, covariance_type)
    arguments = functools.partial(
        constructor_arguments, X, n_components, covariance_type, **stopping(1)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", SklearnConvergenceWarning)
        ours = GaussianMixture(**arguments(max_iter=0)).fit(X)
    sklearn = fit_quietly(SklearnGaussianMixture(**arguments()), X)

    assert ours.n_iter_ == 0 and ours.converged_ is False and ours.lower_bound_ == -np.inf
    if covariance_type in ("full", "tied"):
        covariances = np.linalg.inv(given["precisions_init"])
    else:
        covariances = 1.0 / given["precisions_init"]
    differences = {
        "weights_": relative_difference(ours.weights_, given["weights_init"]),
        "means_": relative_difference(ours.means_, given["means_init"]),
        "precisions_": relative_difference(ours.precisions_, given["precisions_init"]),
        "covariances_": relative_difference(ours.covariances_, covariances),
        "score": relative_difference(ours.score(X), sklearn.lower_bounds_[0]),
    }
    assert_all_within(differences, PARITY_RTOL)


# -- the collected table ----------------------------------------------------------------------
def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def parity_table() -> tuple[str, dict[str, dict[str, float]]]:
    """Largest relative difference per attribute and covariance type, over all data sets
    and iteration counts, with the case where it occurs."""
    largest: dict[str, dict[str, float]] = {}
    rows = []
    for covariance_type in COVARIANCE_TYPES:
        worst = dict.fromkeys(TABLE_COLUMNS, (-1.0, ""))
        for name in DATASETS:
            for iterations in ITERATIONS:
                differences = parity_differences(parity_case(name, covariance_type, iterations))
                for column in TABLE_COLUMNS:
                    if differences[column] > worst[column][0]:
                        worst[column] = (differences[column], f"{name}/{iterations}")
        largest[covariance_type] = {column: worst[column][0] for column in TABLE_COLUMNS}
        rows.append(
            [covariance_type]
            + [f"{value:.1e} ({where})" for value, where in (worst[c] for c in TABLE_COLUMNS)]
        )
    return markdown_table(["covariance_type", *TABLE_COLUMNS], rows), largest


def offset_table() -> str:
    columns = list(OFFSET_RTOL)
    rows = []
    for covariance_type in COVARIANCE_TYPES:
        for iterations in ITERATIONS:
            case = offset_case(covariance_type, iterations)
            ours, sklearn = offset_errors(case, case.ours), offset_errors(case, case.sklearn)
            n_iter = f"{case.reference.n_iter_}/{case.ours.n_iter_}/{case.sklearn.n_iter_}"
            rows.append(
                [covariance_type, str(iterations), n_iter]
                + [f"{ours[c]:.1e} / {sklearn[c]:.1e}" for c in columns]
            )
    header = ["covariance_type", "iterations", "n_iter_ ref/ours/sklearn", *columns]
    return markdown_table(header, rows)


def test_report_largest_relative_differences() -> None:
    table, largest = parity_table()
    report = (
        "## Largest relative difference to scikit-learn, identical starting parameters\n\n"
        f"Data sets {', '.join(DATASETS)}; iterations {', '.join(map(str, ITERATIONS))}. "
        "Elementwise |a - b| / max(|a|, |b|); predict_proba absolute, score_samples absolute "
        "below 1 nat. "
        f"Tolerance {PARITY_RTOL:g}. n_iter_, converged_, predict and fit_predict are "
        "identical in every case.\n\n"
        f"{table}\n\n"
        f"## Blobs shifted by {OFFSET:g}: error against the un-shifted fit (ours / sklearn)\n\n"
        "means_ in feature standard deviations; off-diagonal entries of full/tied matrices "
        "relative to sqrt(M_ii M_jj); score_samples absolute below 1 nat; the rest "
        "elementwise relative.\n\n"
        f"{offset_table()}\n"
    )
    print("\n" + report)
    destination = os.environ.get("PARITY_TABLE")
    if destination:
        pathlib.Path(destination).write_text(report, encoding="utf-8")
    for covariance_type, values in largest.items():
        assert all(math.isfinite(v) and v <= PARITY_RTOL for v in values.values()), (
            covariance_type,
            values,
        )


# -- scikit-learn's behaviour at the edges (shipped tests: tests/test_sklearn_shipped.py) ----
@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_fewer_distinct_rows_than_components_fit_with_a_warning(init_params: str) -> None:
    X = np.repeat([[0.0], [1.0], [2.0]], 10, axis=0)
    gm = GaussianMixture(4, init_params=init_params, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gm.fit(X)
    assert np.isfinite(gm.means_).all() and gm.converged_
    seeded = init_params != "random"  # random responsibilities need no distinct seed rows
    few = [w for w in caught if issubclass(w.category, FewDistinctRowsWarning)]
    assert bool(few) == seeded
    if seeded:
        assert issubclass(few[0].category, SklearnConvergenceWarning)
        assert "Number of distinct clusters (3) found smaller than n_clusters (4)" in str(
            few[0].message
        )


def test_convergence_warning_has_sklearn_wording() -> None:
    X = blobs(0, 200, 2, 3)
    with pytest.warns(
        SklearnConvergenceWarning, match=r"^Best performing initialization did not converge\."
    ) as record:
        GaussianMixture(3, max_iter=1, random_state=0).fit(X)
    assert "1 iterations" in str(record[0].message)  # our detail follows scikit-learn's text


class _CollapseOnFirstRun(Initializer):
    """Run 0 (and every run if ``always``): component 1 starts on one row; else k-means."""

    def __init__(self, always: bool = False) -> None:
        self.always = always
        self.calls = 0

    def initialize(self, X, n_components, *, sample_weight, rng):
        self.calls += 1
        if self.always or self.calls == 1:
            labels = np.zeros(X.shape[0], dtype=np.int64)
            labels[0] = 1
            return labels
        return KMeans().initialize(X, n_components, sample_weight=sample_weight, rng=rng)


def test_a_degenerate_restart_is_skipped_with_a_warning() -> None:
    X = blobs(1, 200, 2, 2)
    gm = GaussianMixture(2, reg_covar=0.0, n_init=2, init_params=_CollapseOnFirstRun())
    with pytest.warns(DegenerateRunWarning, match=r"run 0 of 2 .*component 1"):
        gm.fit(X)
    assert gm.result_.run == 1 and gm.converged_
    assert issubclass(DegenerateRunWarning, UserWarning)


def test_all_runs_degenerate_raise_with_every_reason() -> None:
    X = blobs(1, 200, 2, 2)
    gm = GaussianMixture(2, reg_covar=0.0, n_init=3, init_params=_CollapseOnFirstRun(True))
    with pytest.raises(DegenerateComponentError) as info:
        gm.fit(X)
    message = str(info.value)
    assert message.startswith("Fitting the mixture model failed because some components have")
    assert "all 3 EM runs" in message and "run 2: component 1" in message
    assert "reg_covar" in message and "fewer components" in message


@pytest.mark.parametrize(
    "params",
    [
        {"verbose_interval": 0},
        {"warm_start": "yes"},
        {"n_components": 0},
        {"covariance_type": "banana"},
        {"init_params": "banana"},
        {"chunk_size": 0},
        {"callbacks": "not a list"},
    ],
    ids=lambda params: next(iter(params)),
)
def test_bad_hyper_parameters_raise_sklearns_error(params: dict[str, Any]) -> None:
    from sklearn.utils._param_validation import InvalidParameterError

    X = blobs(2, 50, 2, 2)
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        GaussianMixture(**params).fit(X)
    if "callbacks" not in params and "chunk_size" not in params:  # scikit-learn's parameters
        with pytest.raises(InvalidParameterError):  # scikit-learn refuses the same
            SklearnGaussianMixture(**params).fit(X)


def test_not_fitted_error_is_both_libraries() -> None:
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    with pytest.raises(NotFittedError, match="This GaussianMixture instance is not fitted"):
        GaussianMixture().predict(np.zeros((3, 2)))
    assert issubclass(NotFittedError, SklearnNotFittedError)
    assert issubclass(NotFittedError, AttributeError) and issubclass(NotFittedError, ValueError)


class _OtherNamespaceArray:
    """Stands for a non-NumPy array-API array (torch, cupy, array_api_strict)."""

    def __array_namespace__(self, api_version=None):
        raise AssertionError("no work may be done on the array before refusing it")


def test_array_api_dispatch_refuses_other_namespaces_before_any_work() -> None:
    import sklearn

    X = blobs(3, 50, 2, 2)
    fitted = GaussianMixture(2, random_state=0).fit(X)
    with sklearn.config_context(array_api_dispatch=True):
        for call in (GaussianMixture(2).fit, fitted.predict, fitted.score_samples):
            with pytest.raises(NotImplementedError, match="does not support array_api_dispatch"):
                call(_OtherNamespaceArray())
        # NumPy input is simply fitted.
        assert GaussianMixture(2, random_state=0).fit(X).converged_


def test_given_weights_are_checked_with_sklearns_messages() -> None:
    X = blobs(4, 50, 2, 2)
    cases = {
        "should have the shape of \\(2,\\), but got \\(2, 1\\)": np.full((2, 1), 0.5),
        "range \\[0, 1\\], but got min value -0.50000, max value 1.50000": [-0.5, 1.5],
        "should be normalized, but got sum\\(weights\\) = 0.80000": [0.4, 0.4],
    }
    for pattern, weights in cases.items():
        with pytest.raises(ValueError, match=pattern):
            GaussianMixture(2, weights_init=weights).fit(X)


def test_sparse_and_datetime_input_are_refused_clearly() -> None:
    import pandas as pd
    import scipy.sparse

    with pytest.raises(ValueError, match=r"sparse input is not supported; convert with \.toarray"):
        GaussianMixture().fit(scipy.sparse.csr_array(np.eye(5)))
    frame = pd.DataFrame({"a": np.arange(5.0), "t": pd.date_range("2020", periods=5)})
    with pytest.raises(ValueError, match=r"datetime.*\['t'\]"):
        GaussianMixture().fit(frame)
    dated = np.array([[1.0, datetime.datetime(2020, 1, 1)]] * 5, dtype=object)
    with pytest.raises(ValueError, match=r"datetime.*row 0, column 1"):
        check_data(dated)


def test_fit_labels_no_rows_and_fit_predict_equals_fit_then_predict(monkeypatch) -> None:
    """``fit`` keeps only the parameters (the labels pass ``fit_predict`` makes is not
    made), and ``fit_predict`` labels the rows as ``fit(X).predict(X)`` does."""
    X = np.random.default_rng(0).normal(size=(300, 3))
    X[:150] += 4.0
    labelled = []
    original = Mixture.predict

    def counted(self, *args, **kwargs):
        labelled.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Mixture, "predict", counted)
    fitted = GaussianMixture(2, random_state=0).fit(X)
    assert not labelled
    labels = GaussianMixture(2, random_state=0).fit_predict(X)
    assert len(labelled) == 1
    np.testing.assert_array_equal(labels, fitted.predict(X))
