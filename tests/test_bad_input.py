"""Bad input fails early with a ValueError that names the problem, never with silent NaN.

Covers every public entry point that takes data (``MixtureEM.fit``, ``initialize``,
``run``, ``e_step``, ``Mixture.predict``, ``predict_proba``, ``score_samples``, ``score``
and ``Component.fit``), the engine's and the mixture's parameters, degenerate and empty
components, extreme but finite data, and the valid inputs that must keep working.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from _helpers import (
    STRUCTURE_IDS,
    STRUCTURES,
    assert_close_in_ulps,
    random_covariances,
    random_mixture,
)

from mixture import (
    ComponentList,
    DegenerateComponentError,
    DiagonalCovariance,
    EmptyComponentWarning,
    FullCovariance,
    Gaussian,
    GaussianFamily,
    GivenParameters,
    GivenResponsibilities,
    KMeans,
    KMeansPlusPlus,
    MaxIterations,
    Mixture,
    MixtureEM,
    MixtureResult,
    RandomResponsibilities,
    RandomRows,
    SphericalCovariance,
    TiedCovariance,
)

N_ROWS = 100


# -- data and models ------------------------------------------------------------------------
def two_blobs() -> np.ndarray:
    """100 rows, 2 features: two well separated round blobs at (-3, -3) and (3, 3)."""
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(-3.0, 1.0, (50, 2)), rng.normal(3.0, 1.0, (50, 2))])


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return two_blobs()


@pytest.fixture(scope="module")
def fitted() -> MixtureResult:
    return MixtureEM(GaussianFamily(2), random_state=0).fit(two_blobs())


def engine(n_components: int = 2, **kwargs) -> MixtureEM:
    return MixtureEM(GaussianFamily(n_components), random_state=0, **kwargs)


def n_rows_of(X) -> int:
    """Row count for a matching sample_weight, whatever (possibly broken) X is."""
    try:
        return max(len(X), 1)
    except TypeError:
        return 1


def raises(call, *patterns: str, error: type[Exception] = ValueError) -> Exception:
    """Assert ``call()`` raises ``error`` whose message matches every regex in ``patterns``."""
    with pytest.raises(error, match=patterns[0] if patterns else None) as info:
        call()
    message = str(info.value)
    for pattern in patterns[1:]:
        assert re.search(pattern, message), f"{pattern!r} not found in {message!r}"
    return info.value


def all_finite(*arrays) -> bool:
    return all(np.isfinite(np.asarray(a, dtype=np.float64)).all() for a in arrays)


def mixture_is_finite(mixture: Mixture) -> bool:
    family = mixture.family
    return all_finite(mixture.weights, family.means, family.covariances, family.precisions_cholesky)


# -- every public entry point that takes data ----------------------------------------------
def _fit(X, fitted):
    return engine().fit(X)


def _fit_weighted(X, fitted):
    return engine().fit(X, sample_weight=np.ones(n_rows_of(X)))


def _fit_warm_start(X, fitted):
    return engine().fit(X, warm_start=fitted)


def _fit_fitted_family(X, fitted):
    return MixtureEM(fitted.family, random_state=0).fit(X)


def _fit_component_list(X, fitted):
    return MixtureEM(list(fitted.components), random_state=0).fit(X)


def _initialize(X, fitted):
    return engine().initialize(X)


def _run(X, fitted):
    return engine().run(X, fitted)


def _e_step(X, fitted):
    return engine().e_step(X, fitted)


def _predict(X, fitted):
    return fitted.predict(X)


def _predict_proba(X, fitted):
    return fitted.predict_proba(X)


def _score_samples(X, fitted):
    return fitted.score_samples(X)


def _score(X, fitted):
    return fitted.score(X)


def _component_fit(X, fitted):
    return fitted.components[0].fit(X)


ENTRY_POINTS = {
    "MixtureEM.fit": _fit,
    "MixtureEM.fit(sample_weight)": _fit_weighted,
    "MixtureEM.fit(warm_start)": _fit_warm_start,
    "MixtureEM(fitted family).fit": _fit_fitted_family,
    "MixtureEM(component list).fit": _fit_component_list,
    "MixtureEM.initialize": _initialize,
    "MixtureEM.run": _run,
    "MixtureEM.e_step": _e_step,
    "Mixture.predict": _predict,
    "Mixture.predict_proba": _predict_proba,
    "Mixture.score_samples": _score_samples,
    "Mixture.score": _score,
    "Gaussian.fit": _component_fit,
}
ALL_ENTRIES = list(ENTRY_POINTS)
# Entry points whose number of features is fixed by an already fitted model.
FITTED_ENTRIES = [
    name
    for name in ALL_ENTRIES
    if name not in ("MixtureEM.fit", "MixtureEM.fit(sample_weight)", "MixtureEM.initialize")
]
# Entry points that fit, so need at least one (positive-weight) row per component.
FITTING_ENTRIES = [
    "MixtureEM.fit",
    "MixtureEM.fit(sample_weight)",
    "MixtureEM.fit(warm_start)",
    "MixtureEM(fitted family).fit",
    "MixtureEM(component list).fit",
    "MixtureEM.initialize",
    "MixtureEM.run",
]


# -- non-finite values ----------------------------------------------------------------------
@pytest.mark.parametrize("entry", ALL_ENTRIES)
@pytest.mark.parametrize(
    ("value", "row", "column", "word"),
    [(np.nan, 3, 1, "NaN"), (np.inf, 5, 0, "infinity"), (-np.inf, 2, 1, "infinity")],
    ids=["nan", "+inf", "-inf"],
)
def test_non_finite_value_is_reported_with_row_and_column(
    entry, value, row, column, word, X, fitted
):
    bad = X.copy()
    bad[row, column] = value
    bad[60, 0] = np.nan  # a later one: the message names the first
    raises(
        lambda: ENTRY_POINTS[entry](bad, fitted),
        rf"{word} at row {row}, column {column}\b",
        r"2 non-finite",
    )


@pytest.mark.parametrize("entry", ["Mixture.predict_proba", "MixtureEM.fit", "Gaussian.fit"])
def test_non_finite_value_in_float32_data_is_reported(entry, X, fitted):
    bad = X.astype(np.float32)
    bad[7, 1] = np.float32(np.inf)
    raises(lambda: ENTRY_POINTS[entry](bad, fitted), r"infinity at row 7, column 1\b")


@pytest.mark.parametrize("entry", ["Mixture.score_samples", "MixtureEM.e_step", "Gaussian.fit"])
def test_non_finite_value_beyond_the_first_block_of_rows_has_its_true_row(entry, fitted):
    # Finiteness is checked block by block; the row index must be global, not per block.
    bad = np.zeros((70_001, 2))
    bad[70_000, 1] = np.nan
    raises(lambda: ENTRY_POINTS[entry](bad, fitted), r"NaN at row 70000, column 1\b")


# -- wrong type, shape or size --------------------------------------------------------------
def _object_array_with_string() -> np.ndarray:
    rows = two_blobs().astype(object)
    rows[4, 1] = "oops"
    return rows


BAD_DATA = {
    "strings": ([["a", "b"], ["c", "d"], ["e", "f"]], (r"non-numeric|only numbers",)),
    "object with a string": (_object_array_with_string(), (r"non-numeric|only numbers",)),
    "bytes": (np.array([[b"x", b"y"]] * 5), (r"non-numeric|only numbers",)),
    "datetime": (np.zeros((5, 2), dtype="datetime64[s]"), (r"numeric",)),
    "complex": (two_blobs() + 1j, (r"complex", r"real")),
    "1-D": (two_blobs()[:, 0], (r"2-D", r"1-D", r"reshape\(-1, 1\)")),
    "3-D": (two_blobs()[:, :, None], (r"2-D", r"3-D")),
    "0-D": (3.0, (r"2-D", r"0-D")),
    "0 rows": (np.empty((0, 2)), (r"0 row", r"empty")),
    "0 columns": (np.empty((N_ROWS, 0)), (r"0 features",)),
    "0 rows and columns": (np.empty((0, 0)), (r"0 features",)),
    "empty list": ([], (r"2-D|empty", r"\(0,\)|empty")),
    "ragged": ([[1.0, 2.0], [3.0], [4.0, 5.0]], (r"rectangular",)),
    "ragged deeper": ([[1.0, 2.0], [3.0, [4.0, 5.0]]], (r"rectangular",)),
}


@pytest.mark.parametrize("entry", ALL_ENTRIES)
@pytest.mark.parametrize("case", list(BAD_DATA))
def test_malformed_data_is_rejected_with_a_named_problem(entry, case, fitted):
    bad, patterns = BAD_DATA[case]
    raises(lambda: ENTRY_POINTS[entry](bad, fitted), *patterns)


@pytest.mark.parametrize("entry", FITTED_ENTRIES)
def test_wrong_number_of_features_after_fitting(entry, X, fitted):
    wide = np.column_stack([X, X[:, :1]])
    raises(
        lambda: ENTRY_POINTS[entry](wide, fitted),
        r"features",
        r"\b3\b",
        r"\b2\b",
    )


@pytest.mark.parametrize("entry", FITTED_ENTRIES)
def test_too_few_features_after_fitting(entry, X, fitted):
    raises(lambda: ENTRY_POINTS[entry](X[:, :1], fitted), r"features", r"\b1\b", r"\b2\b")


@pytest.mark.parametrize("entry", FITTING_ENTRIES)
def test_fewer_rows_than_components(entry, X, fitted):
    raises(lambda: ENTRY_POINTS[entry](X[:1], fitted), r"\b1 row", r"2 components")


@pytest.mark.parametrize(
    "call",
    [
        lambda X: engine().fit(X, sample_weight=np.r_[1.0, np.zeros(N_ROWS - 1)]),
        lambda X: engine().initialize(X, sample_weight=np.r_[1.0, np.zeros(N_ROWS - 1)]),
        lambda X: engine(3).fit(X, sample_weight=np.r_[1.0, 2.0, np.zeros(N_ROWS - 2)]),
    ],
    ids=["fit K=2", "initialize K=2", "fit K=3"],
)
def test_fewer_positive_weight_rows_than_components(call, X):
    raises(lambda: call(X), r"positive weight", r"components")


def test_fewer_distinct_rows_than_components_gives_a_clear_warning():
    # Identical rows give k-means one distinct starting row for two components: the fit goes
    # ahead (as scikit-learn's does) and says so.
    from mixture.exceptions import FewDistinctRowsWarning

    identical = np.zeros((20, 2))
    with pytest.warns(FewDistinctRowsWarning, match=r"only 1 distinct row.*components \[1\]"):
        engine().fit(identical)


# -- sample_weight --------------------------------------------------------------------------
def _weights_with(index: int, value: float) -> np.ndarray:
    weights = np.ones(N_ROWS)
    weights[index] = value
    return weights


BAD_WEIGHTS = {
    "too short": (np.ones(N_ROWS - 1), (r"99 entries", r"100 rows")),
    "too long": (np.ones(N_ROWS + 3), (r"103 entries", r"100 rows")),
    "negative": (_weights_with(7, -1.0), (r"non-negative", r"row 7")),
    "NaN": (_weights_with(4, np.nan), (r"NaN",)),
    "+inf": (_weights_with(4, np.inf), (r"infinity",)),
    "-inf": (_weights_with(4, -np.inf), (r"infinity",)),
    "all zeros": (np.zeros(N_ROWS), (r"sums to zero", r"positive weight")),
    "2-D": (np.ones((N_ROWS, 1)), (r"1-D",)),
    "scalar": (1.0, (r"1-D",)),
    "strings": (["heavy"] * N_ROWS, (r"numbers",)),
}

WEIGHTED_ENTRY_POINTS = {
    "MixtureEM.fit": lambda X, w, fitted: engine().fit(X, sample_weight=w),
    "MixtureEM.initialize": lambda X, w, fitted: engine().initialize(X, sample_weight=w),
    "MixtureEM.run": lambda X, w, fitted: engine().run(X, fitted, sample_weight=w),
    "MixtureEM.e_step": lambda X, w, fitted: engine().e_step(X, fitted, sample_weight=w),
    "Mixture.score": lambda X, w, fitted: fitted.score(X, sample_weight=w),
    "Gaussian.fit": lambda X, w, fitted: fitted.components[0].fit(X, w),
}


@pytest.mark.parametrize("entry", list(WEIGHTED_ENTRY_POINTS))
@pytest.mark.parametrize("case", list(BAD_WEIGHTS))
def test_bad_sample_weight_is_rejected(entry, case, X, fitted):
    weights, patterns = BAD_WEIGHTS[case]
    raises(lambda: WEIGHTED_ENTRY_POINTS[entry](X, weights, fitted), *patterns)


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("entry", list(WEIGHTED_ENTRY_POINTS))
def test_complex_sample_weight_is_rejected(entry, X, fitted):
    # Complex X is rejected; complex weights must not lose their imaginary part silently.
    weights = np.ones(N_ROWS) + 0.5j
    # Component.fit calls its argument ``weights``; the engine calls it ``sample_weight``.
    raises(lambda: WEIGHTED_ENTRY_POINTS[entry](X, weights, fitted), r"weight", r"real")


def test_sample_weight_whose_sum_overflows_fit(X):
    # Each weight is finite but their sum is not; equal weights must act like no weights.
    huge = np.full(N_ROWS, 1e307)
    try:
        with np.errstate(all="ignore"):
            result = engine().fit(X, sample_weight=huge)
    except ValueError as exc:
        assert "weight" in str(exc), f"unclear error: {exc!r}"
        return
    expected = engine().fit(X)
    np.testing.assert_allclose(result.weights, expected.weights, rtol=1e-6)
    np.testing.assert_allclose(result.family.means, expected.family.means, rtol=1e-6)


def test_sample_weight_whose_sum_overflows_score(X, fitted):
    huge = np.full(N_ROWS, 1e307)
    try:
        with np.errstate(all="ignore"):
            score = fitted.score(X, sample_weight=huge)
    except ValueError as exc:
        assert "weight" in str(exc), f"unclear error: {exc!r}"
        return
    assert score == pytest.approx(fitted.score(X), rel=1e-9)


def test_sample_weight_whose_sum_overflows_component_fit(X, fitted):
    huge = np.full(N_ROWS, 1e307)
    component = fitted.components[0]
    try:
        with np.errstate(all="ignore"):
            result = component.fit(X, huge)
    except ValueError as exc:
        assert "weight" in str(exc), f"unclear error: {exc!r}"
        return
    expected = component.fit(X)
    np.testing.assert_allclose(result.covariance, expected.covariance, rtol=1e-6)


def test_sample_weight_whose_sum_overflows_e_step(X, fitted):
    huge = np.full(N_ROWS, 1e307)
    try:
        with np.errstate(all="ignore"):
            statistics = engine().e_step(X, fitted, sample_weight=huge)
    except ValueError as exc:
        assert "weight" in str(exc), f"unclear error: {exc!r}"
        return
    assert all_finite(statistics.component_weight, statistics.mean_log_likelihood)


# -- engine parameters ----------------------------------------------------------------------
class _NotACallback:
    def on_iteration(self, state):
        return None


@pytest.mark.parametrize(
    ("kwargs", "patterns"),
    [
        ({"n_init": 0}, (r"n_init", r">= 1")),
        ({"n_init": -2}, (r"n_init", r">= 1")),
        ({"n_init": 1.5}, (r"n_init", r"integer")),
        ({"n_init": True}, (r"n_init", r"integer")),
        ({"n_init": "3"}, (r"n_init", r"integer")),
        ({"chunk_size": 0}, (r"chunk_size", r">= 1")),
        ({"chunk_size": 2.5}, (r"chunk_size", r"integer")),
        ({"initializer": "kmeans"}, (r"initializer", r"Initializer")),
        ({"initializer": KMeans}, (r"initializer", r"Initializer")),
        ({"initializer": lambda X, k: None}, (r"initializer", r"Initializer")),
        ({"callbacks": [object()]}, (r"callbacks", r"Callback")),
        ({"callbacks": [MaxIterations(5), "tolerance"]}, (r"callbacks", r"Callback")),
        ({"callbacks": [_NotACallback()]}, (r"callbacks", r"Callback")),
        ({"callbacks": [MaxIterations]}, (r"callbacks", r"Callback")),
    ],
    ids=[
        "n_init 0",
        "n_init negative",
        "n_init float",
        "n_init bool",
        "n_init str",
        "chunk_size 0",
        "chunk_size float",
        "initializer str",
        "initializer class",
        "initializer function",
        "callback object",
        "callback str",
        "callback duck-typed",
        "callback class",
    ],
)
def test_engine_rejects_bad_parameters(kwargs, patterns):
    raises(lambda: MixtureEM(GaussianFamily(2), **kwargs), *patterns)


@pytest.mark.parametrize(
    "callbacks", [MaxIterations(5), 5], ids=["a Callback not in a list", "an int"]
)
def test_engine_rejects_callbacks_that_are_not_a_sequence(callbacks):
    raises(lambda: MixtureEM(GaussianFamily(2), callbacks=callbacks), r"callbacks")


def _gaussian(n_features: int) -> Gaussian:
    return Gaussian(np.zeros(n_features), np.eye(n_features))


@pytest.mark.parametrize(
    ("model", "patterns"),
    [
        (5, (r"ComponentFamily", r"int")),
        (None, (r"ComponentFamily", r"NoneType")),
        (np.zeros((2, 2)), (r"ComponentFamily", r"ndarray")),
        (GaussianFamily, (r"ComponentFamily",)),
        ({"k": 2}, (r"ComponentFamily", r"dict")),
        ("gaussian", (r"component 0", r"str", r"Component")),
        ([_gaussian(2), 3], (r"component 1", r"int", r"Component")),
        ([FullCovariance()], (r"component 0", r"Component")),
        ([], (r"at least one component", r"empty")),
        ((), (r"at least one component",)),
        ([_gaussian(2), _gaussian(3)], (r"same number of features", r"\[2, 3\]")),
    ],
    ids=[
        "int",
        "None",
        "ndarray",
        "family class",
        "dict",
        "str",
        "list with an int",
        "list with a structure",
        "empty list",
        "empty tuple",
        "different feature counts",
    ],
)
def test_engine_rejects_a_bad_model(model, patterns):
    raises(lambda: MixtureEM(model), *patterns)


def test_component_list_rejects_an_empty_list():
    raises(lambda: ComponentList([]), r"at least one component")


@pytest.mark.parametrize(
    "random_state", ["seed", 1.5, [1, 2], object()], ids=["str", "float", "list", "object"]
)
def test_bad_random_state_is_rejected_by_fit_and_initialize(random_state, X):
    raises(lambda: MixtureEM(GaussianFamily(2), random_state=random_state).fit(X), "random_state")
    raises(lambda: engine().initialize(X, random_state=random_state), "random_state")


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score_samples", "score"])
@pytest.mark.parametrize("chunk_size", [0, -1, 1.5])
def test_prediction_rejects_a_bad_chunk_size(method, chunk_size, X, fitted):
    raises(lambda: getattr(fitted, method)(X, chunk_size=chunk_size), r"chunk_size")


# -- Mixture(weights, family) ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("weights", "patterns"),
    [
        ([1.0], (r"shape \(2,\)",)),
        ([0.5, 0.3, 0.2], (r"shape \(2,\)",)),
        ([[0.5, 0.5]], (r"1-D", r"shape \(1, 2\)")),
        ([1.5, -0.5], (r"non-negative",)),
        ([0.5, 0.6], (r"sum to 1", r"1\.1")),
        ([0.1, 0.1], (r"sum to 1",)),
        ([np.nan, 1.0], (r"NaN or infinity",)),
        ([np.inf, 0.0], (r"NaN or infinity",)),
    ],
    ids=["too few", "too many", "2-D", "negative", "sum 1.1", "sum 0.2", "NaN", "inf"],
)
def test_mixture_rejects_bad_weights(weights, patterns, fitted):
    raises(lambda: Mixture(weights, fitted.family), *patterns)


@pytest.mark.parametrize(
    "weights", [["a", "b"], [0.5 + 0.5j, 0.5], [None, 1.0]], ids=["strings", "complex", "None"]
)
def test_mixture_rejects_non_numeric_weights_naming_them(weights, fitted):
    raises(lambda: Mixture(weights, fitted.family), r"weights")


def test_mixture_accepts_weights_within_rounding_of_one(fitted):
    mixture = Mixture([0.5, 0.5 + 1e-9], fitted.family)
    assert mixture.weights.sum() == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_mixture_rejects_an_unfitted_family(structure):
    raises(lambda: Mixture([0.5, 0.5], GaussianFamily(2, structure)), r"fitted")


@pytest.mark.parametrize("family", [3, "gaussian", None], ids=repr)
def test_mixture_rejects_something_that_is_not_a_family(family):
    raises(lambda: Mixture([1.0], family), r"Component")


# -- GivenParameters / warm starts that do not match ----------------------------------------
def _start_calls():
    return {
        "GivenParameters fit": lambda X, start: MixtureEM(
            GaussianFamily(2), initializer=GivenParameters(start)
        ).fit(X),
        "GivenParameters initialize": lambda X, start: MixtureEM(
            GaussianFamily(2), initializer=GivenParameters(start)
        ).initialize(X),
        "warm_start": lambda X, start: engine().fit(X, warm_start=start),
        "run": lambda X, start: engine().run(X, start),
    }


@pytest.mark.parametrize("call", list(_start_calls()))
def test_start_with_the_wrong_number_of_components(call, X):
    start = random_mixture(FullCovariance(), 3, 2)
    raises(lambda: _start_calls()[call](X, start), r"3 components", r"model has 2")


@pytest.mark.parametrize("call", list(_start_calls()))
def test_start_with_the_wrong_number_of_features(call, X):
    start = random_mixture(FullCovariance(), 2, 3)
    raises(lambda: _start_calls()[call](X, start), r"3 features", r"data has 2")


def test_start_for_a_fitted_model_with_the_wrong_number_of_features(X, fitted):
    # Model fitted on 2 features, start and data on 3: the data are rejected first.
    start = random_mixture(FullCovariance(), 2, 3)
    wide = np.column_stack([X, X[:, 0]])
    raises(lambda: MixtureEM(fitted.family).fit(wide, warm_start=start), r"3 features", r"2")


@pytest.mark.parametrize("start", ["mixture", None, 3], ids=repr)
def test_given_parameters_rejects_a_non_mixture(start):
    raises(lambda: GivenParameters(start), r"Mixture")


@pytest.mark.parametrize("start_structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_start_does_not_override_the_models_settings(start_structure, X):
    # "The initializer decides the starting parameters; the model supplies the settings":
    # a start with another covariance structure or reg_covar must be refused or overridden.
    start = random_mixture(start_structure, 2, 2)
    model = GaussianFamily(2, FullCovariance(), reg_covar=0.25)
    try:
        result = MixtureEM(model).fit(X, warm_start=start)
    except ValueError as exc:
        assert re.search(r"structure|reg_covar", str(exc)), f"unclear error: {exc!r}"
        return
    assert result.family.structure == FullCovariance()
    assert result.family.reg_covar == 0.25


# -- initialisation that leaves a component empty -------------------------------------------
def _one_hot(labels: np.ndarray, n_components: int) -> np.ndarray:
    resp = np.zeros((labels.shape[0], n_components))
    resp[np.arange(labels.shape[0]), labels] = 1.0
    return resp


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
@pytest.mark.parametrize("method", ["fit", "initialize"])
def test_initial_responsibilities_with_an_empty_column(structure, method, X):
    resp = _one_hot(np.zeros(N_ROWS, dtype=int), 3)  # only component 0 gets rows
    resp[:50] = _one_hot(np.full(50, 2), 3)  # ... and component 2; component 1 gets none
    em = MixtureEM(GaussianFamily(3, structure), initializer=GivenResponsibilities(resp))
    raises(
        lambda: getattr(em, method)(X),
        r"component\(s\) \[1\]",
        r"fewer components|another initializer",
        error=DegenerateComponentError,
    )


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_initial_component_whose_rows_all_have_zero_weight(structure, X):
    labels = np.repeat([0, 1], 50)
    weights = np.where(labels == 1, 0.0, 1.0)
    em = MixtureEM(
        GaussianFamily(2, structure), initializer=GivenResponsibilities(_one_hot(labels, 2))
    )
    raises(
        lambda: em.fit(X, sample_weight=weights),
        r"component\(s\) \[1\]",
        error=DegenerateComponentError,
    )


@pytest.mark.parametrize(
    ("responsibilities", "pattern"),
    [
        (np.ones((N_ROWS - 1, 2)), r"shape"),
        (np.ones((N_ROWS, 3)), r"shape"),
    ],
    ids=["wrong rows", "wrong components"],
)
def test_given_responsibilities_of_the_wrong_shape(responsibilities, pattern, X):
    em = MixtureEM(GaussianFamily(2), initializer=GivenResponsibilities(responsibilities))
    raises(lambda: em.fit(X), pattern)


@pytest.mark.parametrize(
    ("responsibilities", "pattern"),
    [
        ([[np.nan, 1.0]], r"finite"),
        ([[-1.0, 2.0]], r"non-negative"),
        ([[0.0, 0.0]], r"row 0.*sums to 0"),
        ([0.5, 0.5], r"2-D"),
    ],
    ids=["NaN", "negative", "zero row", "1-D"],
)
def test_given_responsibilities_rejects_bad_values(responsibilities, pattern):
    raises(lambda: GivenResponsibilities(responsibilities), pattern)


# -- degenerate (collapsing) components -----------------------------------------------------
def spread_then_point() -> np.ndarray:
    """30 spread rows, then 10 identical rows at (8, 8) (not the first row of the data)."""
    rng = np.random.default_rng(1)
    return np.concatenate([rng.normal(0.0, 1.0, (30, 2)), np.full((10, 2), 8.0)])


def _coincident_pairs() -> np.ndarray:
    """Two groups of 10 identical rows: with K=2 every component collapses onto a point."""
    return np.repeat(np.array([[0.0, 0.0], [5.0, 5.0]]), 10, axis=0)


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_coincident_rows_without_regularisation_raise_degenerate_error(structure):
    em = MixtureEM(GaussianFamily(2, structure, reg_covar=0.0), random_state=0)
    exc = raises(lambda: em.fit(_coincident_pairs()), r"reg_covar", error=DegenerateComponentError)
    assert isinstance(exc, ValueError)


@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
def test_coincident_rows_with_default_regularisation_fit_finitely(structure):
    result = MixtureEM(GaussianFamily(2, structure), random_state=0).fit(_coincident_pairs())
    assert mixture_is_finite(result)
    np.testing.assert_allclose(np.sort(result.family.means[:, 0]), [0.0, 5.0])


@pytest.mark.parametrize(
    "structure",
    [FullCovariance(), DiagonalCovariance(), SphericalCovariance()],
    ids=["full", "diag", "spherical"],
)
def test_one_collapsed_component_is_named(structure):
    rows = spread_then_point()
    labels = np.repeat([0, 1], [30, 10])
    em = MixtureEM(
        GaussianFamily(2, structure, reg_covar=0.0),
        initializer=GivenResponsibilities(_one_hot(labels, 2)),
    )
    raises(lambda: em.fit(rows), r"component 1", r"reg_covar", error=DegenerateComponentError)


def test_one_collapsed_component_is_harmless_with_a_tied_covariance():
    rows = spread_then_point()
    labels = np.repeat([0, 1], [30, 10])
    em = MixtureEM(
        GaussianFamily(2, TiedCovariance(), reg_covar=0.0),
        initializer=GivenResponsibilities(_one_hot(labels, 2)),
    )
    assert mixture_is_finite(em.fit(rows))


@pytest.mark.parametrize(
    "structure",
    [FullCovariance(), DiagonalCovariance(), SphericalCovariance()],
    ids=["full", "diag", "spherical"],
)
def test_component_collapsing_mid_fit_raises_degenerate_error(structure, X, fitted):
    # A narrow third component sits on one outlier: after the first E-step it owns that
    # row alone, so without regularisation its covariance is exactly zero.
    outlier = np.array([40.0, 40.0])
    covariances = random_covariances(structure, 3, 2)
    covariances[2] = 0.01 * np.eye(2) if structure.name == "full" else 0.01
    start = Mixture(
        [0.45, 0.45, 0.1],
        GaussianFamily(
            3,
            structure,
            reg_covar=0.0,
            means=np.vstack([fitted.family.means, outlier]),
            covariances=covariances,
        ),
    )
    em = MixtureEM(GaussianFamily(3, structure, reg_covar=0.0))
    raises(
        lambda: em.fit(np.vstack([X, outlier]), warm_start=start),
        r"component 2",
        r"reg_covar",
        error=DegenerateComponentError,
    )


@pytest.mark.parametrize(
    "components",
    [
        [
            Gaussian([0.0, 0.0], np.eye(2), reg_covar=0.0),
            Gaussian([5.0, 5.0], np.eye(2), reg_covar=0.0),
        ],
        [
            Gaussian([0.0, 0.0], [1.0, 1.0], structure=DiagonalCovariance(), reg_covar=0.0),
            Gaussian([5.0, 5.0], [1.0, 1.0], structure=DiagonalCovariance(), reg_covar=0.0),
        ],
    ],
    ids=["full", "diag"],
)
def test_component_list_with_coincident_rows_raises_degenerate_error(components):
    em = MixtureEM(components, random_state=0)
    raises(lambda: em.fit(_coincident_pairs()), r"reg_covar", error=DegenerateComponentError)


@pytest.mark.parametrize(
    "component",
    [
        Gaussian([0.0, 0.0], np.eye(2), reg_covar=0.0),
        Gaussian([0.0, 0.0], [1.0, 1.0], structure=DiagonalCovariance(), reg_covar=0.0),
        Gaussian([0.0, 0.0], 1.0, structure=SphericalCovariance(), reg_covar=0.0),
    ],
    ids=["full", "diag", "spherical"],
)
@pytest.mark.parametrize(
    ("rows", "weights"),
    [
        ([[1.0, 2.0]], None),
        (np.repeat([[1.0, 2.0]], 5, axis=0), None),
        (two_blobs(), np.r_[1.0, np.zeros(N_ROWS - 1)]),
        (two_blobs(), np.r_[np.zeros(N_ROWS - 1), 1.0]),
        (spread_then_point(), np.r_[np.zeros(30), np.ones(10)]),
    ],
    ids=[
        "one row",
        "identical rows",
        "first row weighted",
        "last row weighted",
        "identical rows after others",
    ],
)
def test_component_fit_to_a_point_raises_degenerate_error(component, rows, weights):
    raises(lambda: component.fit(rows, weights), r"reg_covar", error=DegenerateComponentError)


def test_constant_feature_without_regularisation_is_degenerate_for_a_diagonal_gaussian(X):
    component = Gaussian([0.0, 0.0], [1.0, 1.0], structure=DiagonalCovariance(), reg_covar=0.0)
    rows = np.column_stack([X[:, 0], np.ones(N_ROWS)])
    raises(lambda: component.fit(rows), r"reg_covar", r"constant", error=DegenerateComponentError)


# -- an empty component mid-fit: documented recovery ----------------------------------------
@pytest.mark.parametrize("structure", STRUCTURES, ids=STRUCTURE_IDS)
@pytest.mark.parametrize("reg_covar", [0.0, 1e-6])
def test_component_emptied_mid_fit_keeps_finite_parameters_and_weight_zero(
    structure, reg_covar, X, fitted
):
    far = np.array([1e3, 1e3])
    means = np.vstack([fitted.family.means, far])
    start = Mixture(
        [0.4, 0.4, 0.2],
        GaussianFamily(
            3,
            structure,
            reg_covar=reg_covar,
            means=means,
            covariances=random_covariances(structure, 3, 2),
        ),
    )
    em = MixtureEM(GaussianFamily(3, structure, reg_covar=reg_covar))
    with pytest.warns(EmptyComponentWarning, match=r"component\(s\) \[2\].*weight 0"):
        result = em.fit(X, warm_start=start)
    assert mixture_is_finite(result)
    assert result.weights[2] == 0.0
    np.testing.assert_array_equal(result.family.means[2], far)  # kept its parameters
    assert result.weights[:2].sum() == pytest.approx(1.0)
    proba = result.predict_proba(X)
    assert all_finite(proba)
    np.testing.assert_array_equal(proba[:, 2], 0.0)
    assert 2 not in result.predict(X)
    assert all_finite(result.score_samples(X), result.score(X))


# -- extreme but finite data ----------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "initializer",
    [KMeans(), RandomRows(), KMeansPlusPlus(), RandomResponsibilities()],
    ids=repr,
)
@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_fit_on_extreme_data_is_finite_or_a_clear_error(initializer, scale, X):
    em = MixtureEM(GaussianFamily(2), initializer=initializer, random_state=0)
    try:
        result = em.fit(X * scale)
    except ValueError as exc:
        assert re.search(r"row \d+|component", str(exc)), f"unclear error: {exc!r}"
        return
    assert mixture_is_finite(result)
    assert all_finite(result.predict_proba(X * scale), result.score(X * scale))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("method", ["predict_proba", "score_samples", "score", "e_step"])
@pytest.mark.parametrize("scale", [1e-200, 1e200, -1e200])
def test_prediction_on_extreme_data_is_finite_or_a_clear_error(method, scale, X, fitted):
    rows = X * scale
    call = ENTRY_POINTS["MixtureEM.e_step" if method == "e_step" else f"Mixture.{method}"]
    try:
        out = call(rows, fitted)
    except ValueError as exc:
        assert re.search(r"row \d+", str(exc)), f"unclear error: {exc!r}"
        return
    if method == "e_step":
        assert all_finite(out.component_weight, out.mean_log_likelihood)
    else:
        assert all_finite(out)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_predict_on_extreme_data_is_right_or_a_clear_error(X, fitted):
    # At 1e150 the squared distances (~1e300) are still finite and dominate everything
    # else, so the labels there are the labels at 1e200 too (same directions from the means).
    reference = fitted.predict(X * 1e150)
    assert set(reference.tolist()) == {0, 1}
    try:
        labels = fitted.predict(X * 1e200)
    except ValueError as exc:
        assert re.search(r"row \d+", str(exc)), f"unclear error: {exc!r}"
        return
    np.testing.assert_array_equal(labels, reference)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    "component",
    [
        Gaussian([0.0, 0.0], np.eye(2)),
        Gaussian([0.0, 0.0], [1.0, 1.0], structure=DiagonalCovariance()),
        Gaussian([0.0, 0.0], 1.0, structure=SphericalCovariance()),
    ],
    ids=["full", "diag", "spherical"],
)
@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_component_fit_on_extreme_data_is_finite_or_a_clear_error(component, scale, X):
    rows = X * scale
    try:
        result = component.fit(rows)
    except ValueError:
        return
    assert all_finite(result.mean, result.covariance), (
        f"Gaussian.fit gave mean {result.mean}, covariance {result.covariance}"
    )
    assert all_finite(result.log_density(rows))


# -- valid inputs keep working --------------------------------------------------------------
@pytest.mark.parametrize(
    "convert",
    [
        lambda X: np.rint(X).astype(np.int64),
        lambda X: np.rint(X).astype(np.int8),
        lambda X: np.abs(np.rint(X)).astype(np.uint16),
        lambda X: X > 0,
        lambda X: X.astype(np.float16),
    ],
    ids=["int64", "int8", "uint16", "bool", "float16"],
)
def test_other_real_dtypes_are_converted_to_float64(convert, X, fitted):
    rows = convert(X)
    as_float = rows.astype(np.float64)
    proba = fitted.predict_proba(rows)
    assert proba.dtype == np.float64
    # Exact on purpose: the conversion gives the very float64 array ``as_float`` is (every
    # value is exact in float64), so both calls are the same computation on the same data.
    np.testing.assert_array_equal(proba, fitted.predict_proba(as_float))
    assert fitted.score_samples(rows).dtype == np.float64
    np.testing.assert_array_equal(fitted.predict(rows), fitted.predict(as_float))
    assert fitted.score(rows) == fitted.score(as_float)
    result = MixtureEM(GaussianFamily(2), initializer=RandomRows(), random_state=0).fit(rows)
    assert mixture_is_finite(result)


def test_float32_stays_float32(X):
    rows = X.astype(np.float32)
    result = engine().fit(rows)
    assert mixture_is_finite(result)
    assert result.predict_proba(rows).dtype == np.float32
    assert result.score_samples(rows).dtype == np.float32
    np.testing.assert_allclose(result.weights, engine().fit(X).weights, atol=1e-4)
    statistics = engine().e_step(rows, result)
    assert np.isfinite(statistics.mean_log_likelihood)
    assert all_finite(result.components[0].fit(rows).covariance)


def test_list_of_lists_gives_the_same_result_as_an_array(X, fitted):
    rows = X.tolist()
    from_list = engine().fit(rows)
    from_array = engine().fit(X)
    # Exact on purpose where the code path is the same: the list becomes the same C-ordered
    # float64 array as X, cut into the same chunks, so these are identical computations.
    np.testing.assert_array_equal(from_list.weights, from_array.weights)
    np.testing.assert_array_equal(from_list.family.means, from_array.family.means)
    np.testing.assert_array_equal(fitted.predict(rows), fitted.predict(X))
    np.testing.assert_array_equal(fitted.predict_proba(rows), fitted.predict_proba(X))
    # A weighted mean and an unweighted one are different summations (the bound of a sum of
    # N_ROWS terms of one sign is N_ROWS units of the result).
    weighted = fitted.score(rows, sample_weight=[1.0] * N_ROWS)
    assert_close_in_ulps(weighted, fitted.score(X), N_ROWS)
    np.testing.assert_array_equal(
        fitted.components[0].fit(rows).covariance, fitted.components[0].fit(X).covariance
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_read_only_memmap_works_without_error(dtype, tmp_path, X, fitted):
    path = tmp_path / "rows.dat"
    writer = np.memmap(path, dtype=dtype, mode="w+", shape=X.shape)
    writer[:] = X
    writer.flush()
    del writer
    rows = np.memmap(path, dtype=dtype, mode="r", shape=X.shape)
    in_memory = np.array(rows)
    result = engine().fit(rows)
    # Exact on purpose: the memmap is used as it is (same dtype, shape, order and chunks as
    # the copy in memory), so each pair below is the same computation on the same values.
    np.testing.assert_array_equal(result.weights, engine().fit(in_memory).weights)
    np.testing.assert_array_equal(fitted.predict(rows), fitted.predict(in_memory))
    np.testing.assert_array_equal(fitted.score_samples(rows), fitted.score_samples(in_memory))
    assert fitted.score(rows) == fitted.score(in_memory)
    assert np.isfinite(engine().e_step(rows, fitted).mean_log_likelihood)
    assert all_finite(fitted.components[0].fit(rows).covariance)
    np.testing.assert_array_equal(np.asarray(rows), in_memory)  # the data were not modified


def test_exactly_one_row_per_component_is_enough(X):
    result = MixtureEM(GaussianFamily(2), initializer=RandomRows(), random_state=0).fit(X[[0, 99]])
    assert mixture_is_finite(result)


def test_a_single_row_can_be_predicted(X, fitted):
    assert fitted.predict(X[:1]).shape == (1,)
    assert all_finite(fitted.predict_proba(X[:1]), fitted.score_samples(X[:1]))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
@pytest.mark.parametrize(
    "entry", ["MixtureEM.fit", "Mixture.predict_proba", "Mixture.score_samples", "Gaussian.fit"]
)
def test_numpy_matrix_is_accepted_or_rejected_clearly(entry, X, fitted):
    call = ENTRY_POINTS[entry]
    try:
        got = call(np.asmatrix(X), fitted)
    except ValueError as exc:  # numpy's own messages mention neither X nor np.asarray
        assert re.search(r"\bX\b.*matrix|matrix.*asarray", str(exc)), f"unclear error: {exc!r}"
        return
    expected = call(X, fitted)
    if isinstance(expected, Mixture):
        np.testing.assert_allclose(got.family.means, expected.family.means)
    elif isinstance(expected, Gaussian):
        np.testing.assert_allclose(got.covariance, expected.covariance)
    else:
        np.testing.assert_allclose(np.asarray(got), expected)
