"""Initializers (where an EM run starts) and callbacks (what happens after each iteration)."""

from __future__ import annotations

import io
import itertools
import math
import warnings

import numpy as np
import pytest
from _helpers import blobs, random_mixture
from hypothesis import given
from hypothesis import strategies as st
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning

import mixture
from mixture import (
    Callback,
    FullCovariance,
    GaussianFamily,
    GivenParameters,
    GivenResponsibilities,
    History,
    Initializer,
    IterationState,
    KMeans,
    KMeansPlusPlus,
    MaxIterations,
    Mixture,
    MixtureEM,
    MixtureResult,
    RandomResponsibilities,
    RandomRows,
    SphericalCovariance,
    Stop,
    StopWhen,
    Tolerance,
    Verbose,
)

RANDOM_INITIALIZERS = [RandomResponsibilities(), RandomRows(), KMeansPlusPlus(), KMeans()]
SEEDING_INITIALIZERS = [RandomRows(), KMeansPlusPlus()]


def name(initializer: Initializer) -> str:
    return type(initializer).__name__


def assert_responsibilities(resp: np.ndarray, n_rows: int, n_components: int) -> None:
    assert resp.shape == (n_rows, n_components)
    assert np.isfinite(resp).all()
    assert (resp >= 0).all()
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def responsibilities_from(output, n_rows: int, n_components: int) -> np.ndarray:
    """Check an initializer's output (labels or responsibilities); return responsibilities."""
    output = np.asarray(output)
    if output.ndim == 1:
        assert output.shape == (n_rows,)
        assert output.dtype.kind in "iu", "labels are integers"
        assert ((output >= 0) & (output < n_components)).all()
        return np.eye(n_components)[output]
    assert_responsibilities(output, n_rows, n_components)
    return output


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labelings split the rows the same way, whatever the label names."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def separated_blobs(seed: int, n_components: int, n_features: int, per_component: int = 40):
    """Unit-variance blobs whose centres are at least 50 apart, and their labels."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((n_components, n_features))
    centres[:, 0] = 50.0 * np.arange(n_components)
    centres[:, 1:] = rng.normal(0.0, 5.0, size=(n_components, n_features - 1))
    labels = np.repeat(np.arange(n_components), per_component)
    X = centres[labels] + rng.normal(size=(labels.shape[0], n_features))
    order = rng.permutation(labels.shape[0])
    return X[order], labels[order]


@st.composite
def data_sets(draw):
    n_components = draw(st.integers(1, 4), label="n_components")
    n_features = draw(st.integers(1, 3), label="n_features")
    n_rows = draw(st.integers(max(30, 15 * n_components), 200), label="n_rows")
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    return blobs(seed, n_rows, n_features, n_components), n_components, seed


seeds = st.integers(0, 2**32 - 1)


# --------------------------------------------------------------------------------------------
# initializers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("initializer", RANDOM_INITIALIZERS, ids=name)
@given(data=data_sets(), weighted=st.booleans())
def test_initializer_returns_a_valid_starting_point(
    initializer: Initializer, data, weighted: bool
) -> None:
    X, K, seed = data
    sample_weight = None
    if weighted:
        sample_weight = np.random.default_rng(seed).uniform(0.0, 3.0, size=X.shape[0])
        sample_weight[: X.shape[0] // 4] = 0.0
    output = initializer.initialize(
        X, K, sample_weight=sample_weight, rng=np.random.default_rng(seed)
    )
    resp = responsibilities_from(output, X.shape[0], K)
    if not isinstance(initializer, RandomResponsibilities):
        assert np.isin(resp, (0.0, 1.0)).all(), "a hard partition"
    if isinstance(initializer, RandomRows | KMeansPlusPlus):
        row_weight = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        assert (row_weight @ resp > 0).all(), "a seeded component starts empty"
    again = initializer.initialize(
        X, K, sample_weight=sample_weight, rng=np.random.default_rng(seed)
    )
    np.testing.assert_array_equal(again, output)

    em = MixtureEM(GaussianFamily(K, SphericalCovariance()), initializer=initializer)
    start = em.initialize(X, sample_weight, random_state=seed)
    assert isinstance(start, Mixture)
    assert start.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.isfinite(start.family.means).all()
    assert np.isfinite(start.family.covariances).all()


def test_given_initializers_return_what_they_were_given() -> None:
    X = blobs(0, 50, 2, 2)
    raw = np.random.default_rng(0).uniform(0.1, 5.0, size=(50, 2))
    resp = GivenResponsibilities(raw).initialize(
        X, 2, sample_weight=None, rng=np.random.default_rng(0)
    )
    assert_responsibilities(resp, 50, 2)
    np.testing.assert_allclose(resp, raw / raw.sum(axis=1, keepdims=True), rtol=1e-15)

    start = random_mixture(FullCovariance(), 2, 2, seed=0)
    given_params = GivenParameters(start)
    assert given_params.initialize(X, 2, sample_weight=None, rng=np.random.default_rng(0)) is start
    begun = MixtureEM(GaussianFamily(2), initializer=given_params).initialize(X)
    np.testing.assert_array_equal(begun.weights, start.weights)
    np.testing.assert_array_equal(begun.family.means, start.family.means)
    np.testing.assert_array_equal(begun.family.covariances, start.family.covariances)


@pytest.mark.parametrize("initializer", SEEDING_INITIALIZERS, ids=name)
@given(
    seed=seeds,
    n_components=st.integers(2, 5),
    n_features=st.integers(1, 3),
    max_copies=st.integers(1, 40),
)
def test_seeding_never_leaves_a_component_empty_on_duplicated_rows(
    initializer: Initializer, seed: int, n_components: int, n_features: int, max_copies: int
) -> None:
    rng = np.random.default_rng(seed)
    distinct = rng.normal(0.0, 3.0, size=(n_components, n_features))
    copies = rng.integers(1, max_copies + 1, size=n_components)
    values = rng.permutation(np.repeat(np.arange(n_components), copies))
    X = distinct[values]

    output = initializer.initialize(X, n_components, sample_weight=None, rng=rng)
    resp = responsibilities_from(output, X.shape[0], n_components)
    assert (resp.sum(axis=0) > 0).all(), "a component starts with no rows"
    if isinstance(initializer, KMeansPlusPlus):
        # D^2 sampling only picks rows at a positive distance from the seeds so far, so the
        # K seeds are the K distinct rows and each component holds exactly one of them.
        assert same_partition(resp.argmax(axis=1), values)
    # The engine can build a starting mixture from it (no component without rows).
    em = MixtureEM(GaussianFamily(n_components, SphericalCovariance()), initializer=initializer)
    start = em.initialize(X, random_state=seed)
    assert (start.weights > 0).all()


def test_kmeans_splits_k_distinct_rows_into_k_components() -> None:
    distinct = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    values = np.random.default_rng(0).permutation(np.repeat(np.arange(3), [30, 1, 7]))
    output = KMeans().initialize(
        distinct[values], 3, sample_weight=None, rng=np.random.default_rng(1)
    )
    resp = responsibilities_from(output, values.shape[0], 3)
    assert same_partition(resp.argmax(axis=1), values)


@pytest.mark.parametrize("initializer", SEEDING_INITIALIZERS, ids=name)
@given(seed=seeds, n_components=st.integers(2, 4), n_positive=st.integers(8, 30))
def test_weighted_seeding_never_picks_zero_weight_rows(
    initializer: Initializer, seed: int, n_components: int, n_positive: int
) -> None:
    rng = np.random.default_rng(seed)
    positive = rng.normal(0.0, 2.0, size=(n_positive, 2))
    # Many far-away rows of weight zero: unweighted seeding would nearly always pick one.
    ignored = 1000.0 + rng.normal(size=(10 * n_positive, 2))
    X = np.concatenate([positive, ignored])
    sample_weight = np.concatenate([rng.uniform(0.5, 2.0, n_positive), np.zeros(len(ignored))])

    output = initializer.initialize(X, n_components, sample_weight=sample_weight, rng=rng)
    resp = responsibilities_from(output, X.shape[0], n_components)
    # A seed on a far row would make a component of far rows only: weight zero.
    assert (sample_weight @ resp > 0).all()

    em = MixtureEM(GaussianFamily(n_components, SphericalCovariance()), initializer=initializer)
    start = em.initialize(X, sample_weight, random_state=seed)
    means = start.family.means
    assert (means >= positive.min(axis=0) - 1e-9).all()
    assert (means <= positive.max(axis=0) + 1e-9).all()


@given(seed=seeds, n_components=st.integers(1, 4), n_features=st.integers(1, 3))
def test_kmeans_matches_sklearn_on_separated_blobs(
    seed: int, n_components: int, n_features: int
) -> None:
    X, truth = separated_blobs(seed, n_components, n_features)
    output = KMeans().initialize(
        X, n_components, sample_weight=None, rng=np.random.default_rng(seed)
    )
    labels = responsibilities_from(output, X.shape[0], n_components).argmax(axis=1)
    reference = SklearnKMeans(n_clusters=n_components, n_init=10, random_state=0).fit(X)
    assert same_partition(labels, reference.labels_)
    assert same_partition(labels, truth)


@given(data=data_sets(), weighted=st.booleans())
def test_kmeans_partition_is_a_fixed_point_of_lloyd(data, weighted: bool) -> None:
    X, K, seed = data
    rng = np.random.default_rng(seed)
    sample_weight = rng.uniform(0.5, 2.0, size=X.shape[0]) if weighted else None
    output = KMeans(tol=0.0).initialize(X, K, sample_weight=sample_weight, rng=rng)
    resp = responsibilities_from(output, X.shape[0], K)
    labels = resp.argmax(axis=1)
    row_weight = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    weighted_resp = resp * row_weight[:, None]
    assert (weighted_resp.sum(axis=0) > 0).all(), "k-means left a cluster empty"
    centres = (weighted_resp.T @ X) / weighted_resp.sum(axis=0)[:, None]
    distances = ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    own = distances[np.arange(X.shape[0]), labels]
    nearest = distances.min(axis=1)
    # With tol=0 Lloyd's iterations run until no row changes cluster, as scikit-learn's do:
    # every row sits with the (weighted) centroid nearest to it, up to round-off in ties.
    assert (own <= nearest + 1e-9 * (1.0 + nearest)).all()


@pytest.mark.parametrize(
    "responsibilities",
    [
        pytest.param(np.ones(10), id="1-D"),
        pytest.param(np.ones((2, 5, 2)), id="3-D"),
        pytest.param([[1.0, -0.5], [0.5, 0.5]], id="negative"),
        pytest.param([[1.0, np.nan], [0.5, 0.5]], id="nan"),
        pytest.param([[1.0, np.inf], [0.5, 0.5]], id="inf"),
        pytest.param([[1.0, 0.0], [0.0, 0.0]], id="zero-row"),
    ],
)
def test_given_responsibilities_rejects_invalid_arrays(responsibilities) -> None:
    with pytest.raises(ValueError):
        GivenResponsibilities(responsibilities)


@pytest.mark.parametrize(("n_rows", "n_components"), [(49, 2), (51, 2), (50, 3), (50, 1)])
def test_given_responsibilities_of_the_wrong_shape_are_refused(
    n_rows: int, n_components: int
) -> None:
    X = blobs(0, 50, 2, 2)
    initializer = GivenResponsibilities(np.ones((n_rows, n_components)))
    em = MixtureEM(GaussianFamily(2), initializer=initializer)
    with pytest.raises(ValueError):
        em.fit(X)


def test_given_parameters_rejects_non_mixtures_and_mismatched_mixtures() -> None:
    with pytest.raises(ValueError):
        GivenParameters(GaussianFamily(2))
    with pytest.raises(ValueError):
        GivenParameters(np.zeros((2, 2)))
    X = blobs(0, 60, 2, 2)
    for start in (
        random_mixture(FullCovariance(), 3, 2, seed=0),  # wrong number of components
        random_mixture(FullCovariance(), 2, 3, seed=0),  # wrong number of features
    ):
        em = MixtureEM(GaussianFamily(2), initializer=GivenParameters(start))
        with pytest.raises(ValueError):
            em.fit(X)


class RoundRobin(Initializer):
    """Row i goes to component i mod K, as labels or as responsibilities; records calls."""

    def __init__(self, as_labels: bool) -> None:
        self.as_labels = as_labels
        self.calls: list[tuple[int, object, object]] = []

    def initialize(self, X, n_components, *, sample_weight, rng):
        self.calls.append((n_components, sample_weight, rng))
        labels = np.arange(X.shape[0]) % n_components
        return labels if self.as_labels else np.eye(n_components)[labels]


@pytest.mark.parametrize("as_labels", [True, False], ids=["labels", "responsibilities"])
def test_custom_initializer_drives_the_engine(as_labels: bool) -> None:
    X = blobs(8, 90, 2, 3)
    sample_weight = np.random.default_rng(0).uniform(0.5, 1.5, size=90)
    initializer = RoundRobin(as_labels)
    em = MixtureEM(
        GaussianFamily(3, FullCovariance()),
        initializer=initializer,
        max_iter=500,
        n_init=2,
        random_state=0,
    )
    start = em.initialize(X, sample_weight)
    groups = np.arange(90) % 3
    for k in range(3):
        rows = groups == k
        expected = np.average(X[rows], axis=0, weights=sample_weight[rows])
        np.testing.assert_allclose(start.family.means[k], expected, rtol=1e-12)
    expected_weights = [sample_weight[groups == k].sum() / sample_weight.sum() for k in range(3)]
    np.testing.assert_allclose(start.weights, expected_weights, rtol=1e-12)

    initializer.calls.clear()
    result = em.fit(X, sample_weight)
    assert result.converged
    assert len(initializer.calls) == 2, "one call per restart"
    for n_components, weights, rng in initializer.calls:
        assert n_components == 3
        np.testing.assert_array_equal(weights, sample_weight)
        assert isinstance(rng, np.random.Generator)


class Returns(Initializer):
    """Returns a fixed object, whatever the data."""

    def __init__(self, value) -> None:
        self.value = value

    def initialize(self, X, n_components, *, sample_weight, rng):
        return self.value


def test_custom_initializer_may_return_a_mixture() -> None:
    X = blobs(8, 90, 2, 2)
    start = random_mixture(FullCovariance(), 2, 2, seed=4)
    em = MixtureEM(GaussianFamily(2), initializer=Returns(start), tol=None, max_iter=1)
    with pytest.warns(mixture.ConvergenceWarning):
        result = em.fit(X)
    assert result.log_likelihood_history[0] == pytest.approx(start.score(X), rel=1e-12)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(np.full((2, 90), 0.5), id="transposed"),
        pytest.param(np.full((90, 2), 0.7), id="rows-not-summing-to-1"),
        pytest.param(np.full((90, 2), [1.5, -0.5]), id="negative"),
        pytest.param(np.arange(90) % 3, id="label-out-of-range"),
        pytest.param(-(np.arange(90) % 2), id="negative-label"),
        pytest.param(np.arange(89) % 2, id="too-few-labels"),
    ],
)
def test_custom_initializer_output_is_validated(value) -> None:
    X = blobs(8, 90, 2, 2)
    with pytest.raises(ValueError):
        MixtureEM(GaussianFamily(2), initializer=Returns(value)).fit(X)


def _every_initializer() -> list[Initializer]:
    X, labels = separated_blobs(0, 3, 2, per_component=60)
    smoothed = 0.8 * np.eye(3)[labels] + 0.2 / 3
    family = GaussianFamily(
        3, FullCovariance(), means=X[[0, 1, 2]] + 0.5, covariances=np.stack([np.eye(2)] * 3) * 50
    )
    start = Mixture([0.2, 0.3, 0.5], family)
    return [*RANDOM_INITIALIZERS, GivenResponsibilities(smoothed), GivenParameters(start)]


@pytest.mark.parametrize("initializer", _every_initializer(), ids=name)
def test_every_initializer_leads_to_a_converged_fit(initializer: Initializer) -> None:
    X, _ = separated_blobs(0, 3, 2, per_component=60)
    em = MixtureEM(
        GaussianFamily(3, FullCovariance()), initializer=initializer, max_iter=500, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", mixture.ConvergenceWarning)
        result = em.fit(X)
    assert result.converged
    assert result.n_iter < 500
    assert np.isfinite(result.lower_bound)


# --------------------------------------------------------------------------------------------
# callbacks
# --------------------------------------------------------------------------------------------


def _blob_problem():
    return blobs(21, 300, 2, 3), GaussianFamily(3, FullCovariance())


def _state(iteration: int, change: float) -> IterationState:
    return IterationState(0, iteration, -1.0, change, random_mixture(FullCovariance(), 2, 2))


def test_tolerance_compares_the_absolute_change() -> None:
    tolerance = Tolerance(0.1)
    assert tolerance.on_iteration(_state(1, math.inf)) is None
    assert tolerance.on_iteration(_state(2, 0.2)) is None
    assert tolerance.on_iteration(_state(2, -0.2)) is None
    for change in (0.05, -0.05, 0.0):
        stop = tolerance.on_iteration(_state(2, change))
        assert isinstance(stop, Stop) and stop.converged
    assert Tolerance(0.0).on_iteration(_state(2, 0.0)) is None


def test_max_iterations_counts_iterations() -> None:
    limit = MaxIterations(3)
    assert limit.on_iteration(_state(2, 1.0)) is None
    stop = limit.on_iteration(_state(3, 1.0))
    assert isinstance(stop, Stop) and not stop.converged


def test_the_engine_runs_tolerance_then_max_iterations_then_the_given_callbacks() -> None:
    history = History()
    em = MixtureEM(GaussianFamily(2), tol=1e-4, max_iter=42, callbacks=[history])
    assert [type(c) for c in em.callbacks] == [Tolerance, MaxIterations, History]
    assert em.callbacks[0].tol == 1e-4 and em.callbacks[1].max_iter == 42
    assert em.callbacks[2] is history
    default = MixtureEM(GaussianFamily(2)).callbacks
    assert [type(c) for c in default] == [Tolerance, MaxIterations]
    assert default[0].tol == 1e-3 and default[1].max_iter == 100
    no_tol = MixtureEM(GaussianFamily(2), tol=None).callbacks
    assert [type(c) for c in no_tol] == [MaxIterations]


@pytest.mark.parametrize("tol", [1e-2, 1e-3, 1e-5])
def test_tolerance_stops_at_the_first_small_change(tol: float) -> None:
    X, model = _blob_problem()
    history = History()
    # A start far from the blobs (all means at one corner) makes the first changes large,
    # so EM needs several iterations before one falls below tol.
    far_start = GivenParameters(
        Mixture(
            [0.2, 0.3, 0.5],
            GaussianFamily(
                3,
                FullCovariance(),
                means=X.min(axis=0) + np.array([[0.0, 0.0], [0.5, 0.0], [0.0, 0.5]]),
                covariances=np.tile(np.eye(2), (3, 1, 1)),
            ),
        )
    )
    em = MixtureEM(
        model,
        initializer=far_start,
        tol=tol,
        max_iter=2000,
        callbacks=[history],
        random_state=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", mixture.ConvergenceWarning)
        result = em.fit(X)
    assert result.converged
    changes = np.diff(result.log_likelihood_history)
    assert changes.shape[0] == result.n_iter - 1 >= 2
    assert abs(changes[-1]) < tol
    assert (np.abs(changes[:-1]) >= tol).all()
    assert [r["change"] for r in history.records[1:]] == changes.tolist()
    assert history.records[0]["change"] == math.inf

    # The callback given explicitly behaves as the tol argument.
    explicit = MixtureEM(
        model,
        initializer=far_start,
        tol=None,
        max_iter=2000,
        callbacks=[Tolerance(tol)],
        random_state=1,
    ).fit(X)
    assert explicit.converged
    np.testing.assert_array_equal(explicit.log_likelihood_history, result.log_likelihood_history)


@pytest.mark.parametrize("max_iter", [1, 2, 7])
@pytest.mark.parametrize("how", ["argument", "callback"])
def test_max_iterations_stops_unconverged_with_a_warning(max_iter: int, how: str) -> None:
    X, model = _blob_problem()
    if how == "argument":
        em = MixtureEM(model, tol=None, max_iter=max_iter, random_state=0)
    else:
        em = MixtureEM(
            model, tol=None, max_iter=1000, callbacks=[MaxIterations(max_iter)], random_state=0
        )
    with pytest.warns(mixture.ConvergenceWarning) as caught:
        result = em.fit(X)
    assert result.n_iter == max_iter
    assert result.log_likelihood_history.shape == (max_iter,)
    assert not result.converged
    assert issubclass(mixture.ConvergenceWarning, SklearnConvergenceWarning)
    assert any(isinstance(w.message, SklearnConvergenceWarning) for w in caught)
    # Filters written for scikit-learn's warning catch it.
    with pytest.warns(SklearnConvergenceWarning):
        em.fit(X)


def test_one_iteration_scores_the_start() -> None:
    X, model = _blob_problem()
    em = MixtureEM(model, tol=None, max_iter=1, random_state=0)
    with pytest.warns(mixture.ConvergenceWarning):
        result = em.fit(X)
    assert result.n_iter == 1
    assert result.lower_bound == pytest.approx(em.initialize(X).score(X), rel=1e-12)


def test_max_iterations_and_tolerance_stop_at_whichever_comes_first() -> None:
    X, model = _blob_problem()

    def engine(max_iter: int) -> MixtureEM:
        return MixtureEM(model, initializer=RandomRows(), max_iter=max_iter, random_state=1)

    needed = engine(1000).fit(X).n_iter
    assert needed > 2
    with pytest.warns(mixture.ConvergenceWarning):
        capped = engine(needed - 1).fit(X)
    assert capped.n_iter == needed - 1 and not capped.converged
    with warnings.catch_warnings():
        warnings.simplefilter("error", mixture.ConvergenceWarning)
        result = engine(needed).fit(X)
    assert result.n_iter == needed
    assert result.converged, "a converged stop wins over max_iter on the same iteration"


def test_no_extra_callbacks_means_the_defaults() -> None:
    X, model = _blob_problem()
    plain = MixtureEM(model, random_state=0).fit(X)
    empty = MixtureEM(model, callbacks=[], random_state=0).fit(X)
    explicit = MixtureEM(
        model, tol=None, callbacks=[Tolerance(1e-3), MaxIterations(100)], random_state=0
    ).fit(X)
    for other in (empty, explicit):
        assert other.converged == plain.converged
        np.testing.assert_array_equal(other.log_likelihood_history, plain.log_likelihood_history)


@pytest.mark.parametrize("keep_mixtures", [False, True])
def test_history_records_every_iteration_of_every_run(keep_mixtures: bool) -> None:
    X, model = _blob_problem()
    history = History(keep_mixtures=keep_mixtures)
    em = MixtureEM(
        model,
        initializer=RandomRows(),
        max_iter=300,
        callbacks=[history],
        n_init=2,
        random_state=5,
    )
    result = em.fit(X)

    assert {record["run"] for record in history.records} == {0, 1}
    runs = [record["run"] for record in history.records]
    assert runs == sorted(runs), "run 0 is recorded before run 1"
    for run in (0, 1):
        records = [record for record in history.records if record["run"] == run]
        assert [r["iteration"] for r in records] == list(range(1, len(records) + 1))
        seconds = [r["seconds"] for r in records]
        assert seconds[0] >= 0 and seconds == sorted(seconds)
        lls = history.log_likelihoods(run)
        assert lls == [r["log_likelihood"] for r in records]
        assert np.diff(lls).tolist() == [r["change"] for r in records[1:]]
        for record in records:
            assert ("mixture" in record) == keep_mixtures
    assert history.log_likelihoods(result.run) == result.log_likelihood_history.tolist()
    best = [r for r in history.records if r["run"] == result.run]
    assert len(best) == result.n_iter

    if keep_mixtures:
        for record in history.records:
            assert isinstance(record["mixture"], Mixture)
        np.testing.assert_array_equal(best[-1]["mixture"].weights, result.weights)
        np.testing.assert_array_equal(best[-1]["mixture"].family.means, result.family.means)
        # Iteration i's mixture is the one whose log-likelihood iteration i + 1 reports.
        for record, following in itertools.pairwise(best):
            score = em.e_step(X, record["mixture"]).mean_log_likelihood
            assert score == pytest.approx(following["log_likelihood"], rel=1e-13)

    # A new fit starts a new record.
    count = len(history.records)
    em.fit(X)
    assert len(history.records) == count


@pytest.mark.parametrize(("interval", "max_iter"), [(1, 4), (2, 5), (10, 3)])
def test_verbose_writes_to_the_given_stream(interval: int, max_iter: int, capsys) -> None:
    X, model = _blob_problem()
    stream = io.StringIO()
    em = MixtureEM(
        model, tol=None, max_iter=max_iter, callbacks=[Verbose(interval, stream)], random_state=0
    )
    with pytest.warns(mixture.ConvergenceWarning):
        result = em.fit(X)
    lines = stream.getvalue().splitlines()
    # A start line, one line every `interval` iterations, and an end line.
    assert len(lines) == 2 + max_iter // interval
    assert all(line.strip() for line in lines)
    assert f"{result.lower_bound:.6f}" in lines[-1]
    assert capsys.readouterr().out == "", "nothing goes to stdout when a stream is given"


def test_verbose_reports_every_run() -> None:
    X, model = _blob_problem()
    stream = io.StringIO()
    em = MixtureEM(
        model,
        initializer=RandomRows(),
        max_iter=300,
        callbacks=[Verbose(1000, stream)],
        n_init=3,
        random_state=0,
    )
    em.fit(X)
    assert len(stream.getvalue().splitlines()) == 6  # start and end of each of three runs


@pytest.mark.parametrize("converged", [True, False])
def test_stop_when_stops_early(converged: bool) -> None:
    X, model = _blob_problem()
    seen: list[int] = []

    def condition(state: IterationState) -> bool:
        seen.append(state.iteration)
        return state.iteration >= 3

    em = MixtureEM(
        model,
        tol=None,
        max_iter=100,
        callbacks=[StopWhen(condition, converged=converged, reason="three")],
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = em.fit(X)
    warned = any(issubclass(w.category, mixture.ConvergenceWarning) for w in caught)
    assert result.n_iter == 3
    assert seen == [1, 2, 3]
    assert result.converged is converged
    assert warned is not converged
    assert result.stop_reason == "three"


def test_stop_when_needs_a_callable() -> None:
    with pytest.raises(ValueError):
        StopWhen("iteration > 3")


class Recorder(Callback):
    """Logs every hook and stops the run at iteration ``stop_at``."""

    def __init__(self, stop_at: int) -> None:
        self.stop_at = stop_at
        self.events: list[tuple] = []
        self.results: list[MixtureResult] = []

    def on_fit_start(self) -> None:
        self.events.append(("fit",))

    def on_run_start(self, run: int) -> None:
        self.events.append(("start", run))

    def on_iteration(self, state: IterationState) -> Stop | None:
        self.events.append(("iteration", state.run, state.iteration))
        assert isinstance(state.mixture, Mixture)
        if state.iteration == self.stop_at:
            return Stop(converged=False, reason=f"stopped at {self.stop_at}")
        return None

    def on_run_end(self, result: MixtureResult) -> None:
        self.events.append(("end", result.run, result.n_iter))
        self.results.append(result)


def test_a_callback_returning_stop_ends_the_run() -> None:
    X, model = _blob_problem()
    recorder = Recorder(stop_at=3)
    em = MixtureEM(
        model,
        initializer=RandomRows(),
        tol=None,
        max_iter=100,
        callbacks=[recorder],
        n_init=2,
        random_state=1,
    )
    with pytest.warns(mixture.ConvergenceWarning):
        result = em.fit(X)
    assert result.n_iter == 3
    assert not result.converged
    assert result.stop_reason == "stopped at 3"
    assert recorder.events == [
        ("fit",),
        ("start", 0),
        ("iteration", 0, 1),
        ("iteration", 0, 2),
        ("iteration", 0, 3),
        ("end", 0, 3),
        ("start", 1),
        ("iteration", 1, 1),
        ("iteration", 1, 2),
        ("iteration", 1, 3),
        ("end", 1, 3),
    ]
    assert any(ended is result for ended in recorder.results)
    assert result.lower_bound == max(ended.lower_bound for ended in recorder.results)


def test_the_first_converged_stop_wins_else_the_first_stop() -> None:
    X, model = _blob_problem()

    def at_two(converged: bool, reason: str) -> StopWhen:
        return StopWhen(lambda s: s.iteration == 2, converged=converged, reason=reason)

    for callbacks, converged, reason in [
        ([at_two(False, "a"), at_two(True, "b")], True, "b"),
        ([at_two(True, "b"), at_two(False, "a")], True, "b"),
        ([at_two(False, "a"), at_two(False, "c")], False, "a"),
        ([at_two(False, "c"), at_two(False, "a")], False, "c"),
    ]:
        em = MixtureEM(model, tol=None, max_iter=100, callbacks=callbacks, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mixture.ConvergenceWarning)
            result = em.fit(X)
        assert (result.n_iter, result.converged, result.stop_reason) == (2, converged, reason)

    # A converged stop also wins over the iteration limit reached on the same iteration.
    em = MixtureEM(model, tol=None, max_iter=2, callbacks=[at_two(True, "b")], random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", mixture.ConvergenceWarning)
        result = em.fit(X)
    assert (result.n_iter, result.converged, result.stop_reason) == (2, True, "b")


def test_the_base_callback_changes_nothing() -> None:
    X, model = _blob_problem()

    def fit(callbacks):
        em = MixtureEM(model, tol=None, max_iter=5, callbacks=callbacks, random_state=0)
        with pytest.warns(mixture.ConvergenceWarning):
            return em.fit(X)

    plain = fit([])
    with_base = fit([Callback()])
    np.testing.assert_array_equal(plain.log_likelihood_history, with_base.log_likelihood_history)
    np.testing.assert_array_equal(plain.family.means, with_base.family.means)


@pytest.mark.parametrize(
    "callbacks",
    [
        pytest.param([object()], id="object"),
        pytest.param([Tolerance(), lambda state: None], id="function"),
        pytest.param([MaxIterations], id="class"),
        pytest.param(["max_iter"], id="string"),
        pytest.param(Tolerance(), id="not-a-list"),
        pytest.param(42, id="number"),
    ],
)
def test_invalid_callbacks_are_refused(callbacks) -> None:
    with pytest.raises(ValueError):
        MixtureEM(GaussianFamily(2), callbacks=callbacks)


@pytest.mark.parametrize(
    "initializer",
    [
        pytest.param("kmeans", id="string"),
        pytest.param(KMeans, id="class"),
        pytest.param(object(), id="object"),
        pytest.param(np.ones((10, 2)), id="array"),
    ],
)
def test_invalid_initializers_are_refused(initializer) -> None:
    with pytest.raises(ValueError):
        MixtureEM(GaussianFamily(2), initializer=initializer)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: MaxIterations(0), id="MaxIterations-0"),
        pytest.param(lambda: MaxIterations(2.5), id="MaxIterations-float"),
        pytest.param(lambda: Tolerance(-1e-3), id="Tolerance-negative"),
        pytest.param(lambda: Tolerance(float("nan")), id="Tolerance-nan"),
        pytest.param(lambda: Verbose(0), id="Verbose-interval-0"),
        pytest.param(lambda: KMeans(n_init=0), id="KMeans-n_init-0"),
        pytest.param(lambda: KMeans(max_iter=0), id="KMeans-max_iter-0"),
        pytest.param(lambda: MixtureEM(GaussianFamily(2), max_iter=0), id="max_iter-0"),
        pytest.param(lambda: MixtureEM(GaussianFamily(2), max_iter=1.5), id="max_iter-float"),
        pytest.param(lambda: MixtureEM(GaussianFamily(2), tol=-1.0), id="tol-negative"),
        pytest.param(lambda: MixtureEM(GaussianFamily(2), tol="small"), id="tol-string"),
        pytest.param(lambda: MixtureEM(GaussianFamily(2), n_init=0), id="n_init-0"),
    ],
)
def test_invalid_settings_are_refused(make) -> None:
    with pytest.raises(ValueError):
        make()


def test_row_keys_do_not_collide_on_small_integers() -> None:
    # Float bits of small integers differ in a few high bits only; a hash that multiplies
    # them without scrambling first merged distinct rows (16 distinct, 15 groups).
    from mixture._row_random import RowGroups

    rng = np.random.default_rng(0)
    for shape, high in (((40, 2), 4), ((5000, 3), 10), ((20000, 1), 20000), ((3000, 4), 3)):
        X = rng.integers(0, high, size=shape).astype(np.float64)
        assert len(RowGroups.of(X, None).keys) == len(np.unique(X, axis=0))
