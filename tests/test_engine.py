"""The EM engine: invariants that must hold for every model, data set and chunking.

Property tests run for every Gaussian covariance structure and for a ``ComponentList`` of
``Gaussian`` components (full and diagonal). Whenever two fits are compared they start from
the same deterministic point (``GivenResponsibilities`` or ``GivenParameters``), so any
difference comes from the engine, not from the initializer.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from _helpers import STRUCTURE_IDS, STRUCTURES, blobs, random_mixture
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.special import logsumexp

from mixture import (
    ConvergenceWarning,
    DegenerateComponentError,
    DiagonalCovariance,
    EmptyComponentWarning,
    FullCovariance,
    Gaussian,
    GaussianFamily,
    GivenParameters,
    GivenResponsibilities,
    History,
    KMeansPlusPlus,
    Mixture,
    MixtureEM,
    MixtureResult,
    RandomResponsibilities,
    RandomRows,
)

STRUCTURE_BY_ID = dict(zip(STRUCTURE_IDS, STRUCTURES, strict=True))
LIST_KINDS = ["list-full", "list-diag"]
MODEL_KINDS = [*STRUCTURE_IDS, *LIST_KINDS]

# --------------------------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------------------------


def kind_structure(kind: str):
    """Covariance structure of a model kind (a list kind uses its components' structure)."""
    if kind == "list-full":
        return FullCovariance()
    if kind == "list-diag":
        return DiagonalCovariance()
    return STRUCTURE_BY_ID[kind]


def make_model(kind: str, n_components: int, n_features: int, reg_covar: float = 1e-6):
    """An unfitted GaussianFamily, or a list of Gaussians whose parameters the start replaces."""
    if kind not in LIST_KINDS:
        return GaussianFamily(n_components, kind_structure(kind), reg_covar=reg_covar)
    structure = kind_structure(kind)
    covariance = np.eye(n_features) if kind == "list-full" else np.ones(n_features)
    return [
        Gaussian(np.zeros(n_features), covariance, structure=structure, reg_covar=reg_covar)
        for _ in range(n_components)
    ]


def as_kind(mixture: Mixture, kind: str) -> Mixture:
    """The same parameters as a GaussianFamily mixture, or as a list of Gaussians."""
    if kind in LIST_KINDS:
        return Mixture(mixture.weights, list(mixture.components))
    return mixture


def soft_responsibilities(X: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    """Deterministic soft start: a softmax of distances to random rows, floored away from 0."""
    rng = np.random.default_rng(seed)
    centres = X[rng.choice(X.shape[0], size=n_components, replace=False)]
    squared = ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    scale = X.var(axis=0).sum() / n_components + 1e-12
    logits = -squared / (2.0 * scale)
    resp = np.exp(logits - logits.max(axis=1, keepdims=True))
    resp /= resp.sum(axis=1, keepdims=True)
    return 0.9 * resp + 0.1 / n_components


def full_matrix(covariance: np.ndarray, n_features: int) -> np.ndarray:
    covariance = np.asarray(covariance, dtype=np.float64)
    if covariance.ndim == 2:
        return covariance
    if covariance.ndim == 1:
        return np.diag(covariance)
    return float(covariance) * np.eye(n_features)


NAMES = ("weights", "means", "covariances")


def parameters(mixture: Mixture) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, means (K, D) and dense covariances (K, D, D), whatever the family type."""
    components = mixture.components
    means = np.array([c.mean for c in components])
    covariances = np.array([full_matrix(c.covariance, mixture.n_features) for c in components])
    return mixture.weights, means, covariances


def assert_same_parameters(a: Mixture, b: Mixture, rtol: float, atol: float) -> None:
    for name, x, y in zip(NAMES, parameters(a), parameters(b), strict=True):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=name)


def assert_same_fit(a: MixtureResult, b: MixtureResult, rtol: float = 1e-8) -> None:
    assert a.n_iter == b.n_iter
    assert_same_parameters(a, b, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(
        a.log_likelihood_history, b.log_likelihood_history, rtol=rtol, atol=0.0
    )


def fit_to_max_iter(em: MixtureEM, X, **kwargs) -> MixtureResult:
    """Fit with an iteration limit as the only stopping rule: it must warn and not converge."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = em.fit(X, **kwargs)  # errors propagate unchanged
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert not result.converged
    return result


def fit_ignoring_convergence(em: MixtureEM, X, **kwargs) -> MixtureResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return em.fit(X, **kwargs)


@dataclass(frozen=True)
class Problem:
    X: np.ndarray
    n_components: int
    seed: int

    @property
    def n_rows(self) -> int:
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    def start(self) -> GivenResponsibilities:
        return GivenResponsibilities(soft_responsibilities(self.X, self.n_components, self.seed))


@st.composite
def problems(draw) -> Problem:
    n_components = draw(st.integers(1, 4), label="n_components")
    n_features = draw(st.integers(1, 4), label="n_features")
    # At least ~20 rows per blob on average, so no blob is left with fewer rows than features.
    n_rows = draw(st.integers(max(30, 20 * n_components), 300), label="n_rows")
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    return Problem(blobs(seed, n_rows, n_features, n_components), n_components, seed)


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", MODEL_KINDS)
@given(problem=problems())
def test_fit_gives_a_probability_model(kind: str, problem: Problem) -> None:
    X, K = problem.X, problem.n_components
    em = MixtureEM(
        make_model(kind, K, problem.n_features),
        initializer=problem.start(),
        tol=1e-4,
        max_iter=20,
    )
    result = fit_ignoring_convergence(em, X)

    weights = result.weights
    assert weights.shape == (K,)
    assert (weights >= 0).all()
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)

    # Rows of the data and rows well away from it.
    queries = np.concatenate([X, 3.0 * X + 25.0])
    proba = result.predict_proba(queries)
    assert proba.shape == (queries.shape[0], K)
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)

    labels = result.predict(queries)
    assert labels.shape == (queries.shape[0],)
    # Exact: predict and predict_proba evaluate the same log-joint on the same chunks, and the
    # responsibilities are a monotone function of it.
    np.testing.assert_array_equal(proba[np.arange(queries.shape[0]), labels], proba.max(axis=1))

    with np.errstate(divide="ignore"):
        log_weights = np.log(weights)
    expected = logsumexp(log_weights + result.family.log_density(queries), axis=1)
    log_density = result.score_samples(queries)
    assert log_density.shape == (queries.shape[0],)
    np.testing.assert_allclose(log_density, expected, rtol=1e-10, atol=1e-10)
    assert result.score(X) == pytest.approx(log_density[: problem.n_rows].mean(), rel=1e-12)


def regularisation_slack(mixture: Mixture, reg_covar: float) -> float:
    """How far one regularised M-step may lower the mean log-likelihood.

    The M-step sets each covariance to ``S + reg_covar * I`` instead of the maximiser ``S`` of
    EM's auxiliary function Q, which costs Q (per row) at most
    ``sum_k w_k sum_i [log(1 + x_ki) - x_ki / (1 + x_ki)] / 2`` with ``x_ki = reg_covar / s_ki``
    over the eigenvalues ``s_ki`` of ``S_k``: second order in ``reg_covar``. EM's argument
    then bounds the log-likelihood's decrease by the same amount (and by 0 without reg_covar).
    """
    if reg_covar == 0:
        return 0.0
    weights, _, covariances = parameters(mixture)
    scatter_eigenvalues = np.linalg.eigvalsh(covariances) - reg_covar
    with np.errstate(divide="ignore", invalid="ignore"):
        x = reg_covar / scatter_eigenvalues
        loss = np.where(scatter_eigenvalues > 0, np.log1p(x) - x / (1 + x), np.inf).sum(axis=1)
    return 0.5 * float(np.sum(np.where(weights > 0, weights * loss, 0.0)))


@pytest.mark.parametrize("reg_covar", [0.0, 1e-6])
@pytest.mark.parametrize("kind", MODEL_KINDS)
@given(problem=problems())
def test_log_likelihood_never_decreases(kind: str, reg_covar: float, problem: Problem) -> None:
    history_callback = History(keep_mixtures=True)
    em = MixtureEM(
        make_model(kind, problem.n_components, problem.n_features, reg_covar=reg_covar),
        initializer=problem.start(),
        tol=None,
        max_iter=30,
        callbacks=[history_callback],
    )
    try:
        result = fit_to_max_iter(em, problem.X)
    except DegenerateComponentError:
        # Without regularisation a component may legitimately collapse onto a few rows (the
        # likelihood is unbounded); the iterations recorded until then must still climb.
        if reg_covar > 0:
            raise
        result = None

    history = np.array([record["log_likelihood"] for record in history_callback.records])
    assert np.isfinite(history).all()
    if result is not None:
        assert history.shape == (30,)
        np.testing.assert_array_equal(result.log_likelihood_history, history)
    # history[t + 1] scores the mixture made by M-step t + 1, the record of iteration t + 1.
    mixtures = [record["mixture"] for record in history_callback.records]
    regularisation = np.array([regularisation_slack(m, reg_covar) for m in mixtures[:-1]])
    slack = 1e-10 * np.abs(history[1:]) + 1e-12 + regularisation
    steps = np.diff(history)
    worst = int(np.argmin(steps + slack)) if steps.size else 0
    assert (steps >= -slack).all(), (
        f"log-likelihood decreased by {-steps[worst]:.3e} at step {worst} "
        f"(regularisation allows {regularisation[worst]:.3e})"
    )
    if result is not None:
        assert result.lower_bound == history[-1]
        # The returned parameters come from one more M-step, so they score at least as well.
        final_slack = 1e-10 * abs(history[-1]) + 1e-12 + regularisation_slack(result, reg_covar)
        assert result.score(problem.X) >= history[-1] - final_slack


@pytest.mark.parametrize("kind", MODEL_KINDS)
@given(problem=problems())
def test_chunk_size_changes_nothing(kind: str, problem: Problem) -> None:
    model = make_model(kind, problem.n_components, problem.n_features)
    results = {
        chunk_size: fit_to_max_iter(
            MixtureEM(
                model,
                initializer=problem.start(),
                tol=None,
                max_iter=8,
                chunk_size=chunk_size,
            ),
            problem.X,
        )
        for chunk_size in (7, 64, None)
    }
    reference = results[None]
    for chunk_size in (7, 64):
        assert_same_fit(results[chunk_size], reference)
    np.testing.assert_allclose(
        reference.predict_proba(problem.X, chunk_size=7),
        reference.predict_proba(problem.X),
        rtol=1e-10,
        atol=1e-12,
    )


@pytest.mark.parametrize("kind", MODEL_KINDS)
@given(problem=problems())
def test_row_order_changes_nothing(kind: str, problem: Problem) -> None:
    X, K = problem.X, problem.n_components
    resp = soft_responsibilities(X, K, problem.seed)
    order = np.random.default_rng(problem.seed).permutation(problem.n_rows)
    model = make_model(kind, K, problem.n_features)

    def fit(rows: np.ndarray, start: np.ndarray) -> MixtureResult:
        em = MixtureEM(model, initializer=GivenResponsibilities(start), tol=None, max_iter=15)
        return fit_to_max_iter(em, rows)

    original = fit(X, resp)
    shuffled = fit(X[order], resp[order])
    assert_same_fit(shuffled, original)
    np.testing.assert_allclose(
        shuffled.predict_proba(X[order]), original.predict_proba(X)[order], atol=1e-8
    )


@pytest.mark.parametrize("kind", MODEL_KINDS)
@given(problem=problems())
def test_integer_sample_weights_equal_repeated_rows(kind: str, problem: Problem) -> None:
    X, K = problem.X, problem.n_components
    rng = np.random.default_rng(problem.seed)
    counts = rng.integers(0, 4, size=problem.n_rows)
    counts[:K] = np.maximum(counts[:K], 1)
    resp = soft_responsibilities(X, K, problem.seed)
    model = make_model(kind, K, problem.n_features)

    weighted = fit_to_max_iter(
        MixtureEM(model, initializer=GivenResponsibilities(resp), tol=None, max_iter=15),
        X,
        sample_weight=counts.astype(np.float64),
    )
    repeated = fit_to_max_iter(
        MixtureEM(
            model,
            initializer=GivenResponsibilities(np.repeat(resp, counts, axis=0)),
            tol=None,
            max_iter=15,
        ),
        np.repeat(X, counts, axis=0),
    )
    assert_same_fit(weighted, repeated)
    assert weighted.score(X, sample_weight=counts) == pytest.approx(
        repeated.score(np.repeat(X, counts, axis=0)), rel=1e-10
    )


@pytest.mark.parametrize("kind", MODEL_KINDS)
@given(problem=problems(), weighted=st.booleans(), split=st.floats(0.0, 1.0))
def test_e_step_statistics_of_two_halves_add_up(
    kind: str, problem: Problem, weighted: bool, split: float
) -> None:
    X, K = problem.X, problem.n_components
    em = MixtureEM(make_model(kind, K, problem.n_features), initializer=problem.start())
    mixture = em.initialize(X)
    rng = np.random.default_rng(problem.seed)
    sample_weight = rng.uniform(0.0, 2.0, size=problem.n_rows) if weighted else None
    cut = 1 + round(split * (problem.n_rows - 2))

    def part(rows: slice):
        return em.e_step(X[rows], mixture, None if sample_weight is None else sample_weight[rows])

    whole = em.e_step(X, mixture, sample_weight)
    added = part(slice(None, cut)) + part(slice(cut, None))

    np.testing.assert_allclose(added.component_weight, whole.component_weight, rtol=1e-10)
    assert added.total_weight == pytest.approx(whole.total_weight, rel=1e-12)
    assert added.mean_log_likelihood == pytest.approx(whole.mean_log_likelihood, rel=1e-10)
    expected_total = problem.n_rows if sample_weight is None else sample_weight.sum()
    assert whole.total_weight == pytest.approx(expected_total, rel=1e-12)
    assert whole.mean_log_likelihood == pytest.approx(mixture.score(X, sample_weight), rel=1e-10)
    np.testing.assert_allclose(whole.component_weight.sum(), expected_total, rtol=1e-10)
    # The family statistics agree too: the M-step turns both into the same parameters.
    assert_same_parameters(em.m_step(mixture, added), em.m_step(mixture, whole), 1e-9, 1e-10)


@pytest.mark.parametrize("kind", MODEL_KINDS)
@given(problem=problems(), n_iter=st.integers(1, 8))
def test_hand_driven_em_reproduces_fit(kind: str, problem: Problem, n_iter: int) -> None:
    X = problem.X
    em = MixtureEM(
        make_model(kind, problem.n_components, problem.n_features),
        initializer=KMeansPlusPlus(),
        tol=None,
        max_iter=n_iter,
        random_state=problem.seed,
        chunk_size=64,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyComponentWarning)
        result = fit_to_max_iter(em, X)
        mixture = em.initialize(X)
        history = []
        for _ in range(n_iter):
            statistics = em.e_step(X, mixture)
            history.append(statistics.mean_log_likelihood)
            mixture = em.m_step(mixture, statistics)

    # Exact on purpose: fit and the hand-driven loop make the same e_step and m_step calls on
    # the same data in the same chunks (chunk_size=64): the same operations, not a re-summation.
    np.testing.assert_array_equal(result.log_likelihood_history, history)
    weights, means, covariances = parameters(result)
    np.testing.assert_array_equal(means, parameters(mixture)[1])
    np.testing.assert_array_equal(covariances, parameters(mixture)[2])
    # The result renormalises the weights once more, which may move their last bit.
    np.testing.assert_allclose(weights, mixture.weights, rtol=4 * np.finfo(float).eps, atol=0)


@pytest.mark.parametrize("structure", [FullCovariance(), DiagonalCovariance()], ids=str)
@given(problem=problems())
def test_component_list_fits_like_the_vectorised_family(structure, problem: Problem) -> None:
    X, K, D = problem.X, problem.n_components, problem.n_features
    family = GaussianFamily(K, structure)
    components = make_model("list-full" if structure.name == "full" else "list-diag", K, D)

    def fit(model, initializer) -> MixtureResult:
        em = MixtureEM(model, initializer=initializer, tol=None, max_iter=10)
        return fit_to_max_iter(em, X)

    from_resp = [fit(model, problem.start()) for model in (family, components)]
    assert_same_fit(*from_resp, rtol=1e-9)
    assert from_resp[0].n_parameters == from_resp[1].n_parameters

    start = random_mixture(structure, K, D, seed=problem.seed % 1000)
    from_params = [
        fit(model, GivenParameters(as_kind(start, kind)))
        for model, kind in ((family, "full"), (components, "list-full"))
    ]
    assert_same_fit(*from_params, rtol=1e-9)


# --------------------------------------------------------------------------------------------
# restarts, seeds, warm starts, dtypes, sampling
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_n_init_keeps_the_run_with_the_highest_lower_bound(seed: int) -> None:
    X = blobs(seed, 240, 2, 4)
    stopping = {"tol": 1e-3, "max_iter": 300}
    model = GaussianFamily(4, FullCovariance())
    history = History()
    em = MixtureEM(
        model,
        initializer=RandomRows(),
        callbacks=[history],
        **stopping,
        n_init=5,
        random_state=seed,
    )
    best = em.fit(X)

    # The same five runs, one by one, from the same stream of random numbers.
    single = MixtureEM(model, initializer=RandomRows(), **stopping)
    rng = np.random.default_rng(seed)
    runs = [single.run(X, single.initialize(X, random_state=rng), run=r) for r in range(5)]
    bounds = [run.lower_bound for run in runs]
    assert len(set(bounds)) > 1, "the restarts should differ for this test to mean anything"

    winner = int(np.argmax(bounds))
    assert best.run == winner
    # Exact: the fit's runs and these are the same operations on the same data and chunks.
    assert best.lower_bound == max(bounds)
    assert_same_fit(best, runs[winner], rtol=1e-12)
    for run in range(5):
        assert history.log_likelihoods(run) == runs[run].log_likelihood_history.tolist()

    # One restart is the first of the five, so more restarts can only do as well or better.
    one = MixtureEM(model, initializer=RandomRows(), **stopping, random_state=seed)
    first = one.fit(X)
    assert_same_fit(first, runs[0], rtol=1e-12)
    assert best.lower_bound >= first.lower_bound


@pytest.mark.parametrize("initializer", [RandomRows(), RandomResponsibilities()], ids=repr)
def test_integer_random_state_gives_identical_results(initializer) -> None:
    X = blobs(5, 200, 3, 3)

    def fit(random_state) -> MixtureResult:
        em = MixtureEM(
            GaussianFamily(3, FullCovariance()),
            initializer=initializer,
            tol=1e-4,
            max_iter=200,
            n_init=2,
            random_state=random_state,
        )
        return fit_ignoring_convergence(em, X)

    first, second = fit(17), fit(17)
    np.testing.assert_array_equal(first.log_likelihood_history, second.log_likelihood_history)
    for ours, theirs in zip(parameters(first), parameters(second), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    # The seed matters: a different one starts elsewhere.
    em = MixtureEM(GaussianFamily(3, FullCovariance()), initializer=initializer)
    starts = [parameters(em.initialize(X, random_state=s))[1] for s in (17, 18)]
    assert not np.array_equal(*starts)


class _Forbidden(RandomRows):
    def initialize(self, *args, **kwargs):
        raise AssertionError("a warm start must not call the initializer")


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_warm_start_continues_from_a_previous_result(kind: str) -> None:
    X = blobs(11, 300, 2, 3)
    tol = 1e-3
    em = MixtureEM(make_model(kind, 3, 2), random_state=0, tol=tol, max_iter=500)
    first = em.fit(X)
    assert first.converged

    again = MixtureEM(make_model(kind, 3, 2), initializer=_Forbidden(), tol=tol)
    second = again.fit(X, warm_start=first)
    assert second.converged
    assert second.n_iter <= 3
    # The first E-step evaluates the previous result's parameters.
    assert second.log_likelihood_history[0] == pytest.approx(first.score(X), rel=1e-12)
    assert second.log_likelihood_history[0] >= first.lower_bound - 1e-12
    assert second.log_likelihood_history[0] - first.lower_bound < tol
    assert_same_parameters(second, first, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("kind", ["full", "diag", "spherical", "tied", "list-full"])
def test_float32_data_stays_float32_and_matches_float64(kind: str) -> None:
    X32 = blobs(4, 400, 3, 3).astype(np.float32)
    X64 = X32.astype(np.float64)  # the same numbers, so only the arithmetic differs
    start = GivenResponsibilities(soft_responsibilities(X64, 3, 4))

    def fit(X) -> MixtureResult:
        em = MixtureEM(make_model(kind, 3, 3), initializer=start, tol=None, max_iter=40)
        return fit_to_max_iter(em, X)

    result64, result32 = fit(X64), fit(X32)

    proba = result32.predict_proba(X32)
    log_density = result32.score_samples(X32)
    assert proba.dtype == np.float32
    assert log_density.dtype == np.float32
    assert result32.predict_proba(X64).dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)

    np.testing.assert_allclose(proba, result64.predict_proba(X64), atol=1e-3)
    # One blob is thin (a variance of ~5e-4), which magnifies float32 rounding in its
    # Mahalanobis distances (entries of the precision factor ~50) to ~1e-3.
    np.testing.assert_allclose(log_density, result64.score_samples(X64), rtol=0, atol=1e-2)
    np.testing.assert_allclose(
        result32.log_likelihood_history, result64.log_likelihood_history, rtol=1e-5
    )
    assert_same_parameters(result32, result64, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_sample_returns_rows_grouped_by_component(kind: str) -> None:
    K, D = 3, 2
    mixture = as_kind(random_mixture(kind_structure(kind), K, D, seed=3), kind)
    n = 4000
    rows, labels = mixture.sample(n, random_state=0)

    assert rows.shape == (n, D)
    assert labels.shape == (n,)
    assert np.isfinite(rows).all()
    assert set(np.unique(labels)) <= set(range(K))
    assert (np.diff(labels) >= 0).all(), "rows are grouped by component"
    counts = np.bincount(labels, minlength=K)
    assert counts.sum() == n
    weights = mixture.weights
    assert (np.abs(counts - n * weights) <= 5 * np.sqrt(n * weights * (1 - weights)) + 1).all()

    _, means, covariances = parameters(mixture)
    for k in range(K):
        drawn = rows[labels == k]
        standard_error = np.sqrt(np.diag(covariances[k]) / drawn.shape[0])
        assert (np.abs(drawn.mean(axis=0) - means[k]) <= 5 * standard_error).all()

    again, again_labels = mixture.sample(n, random_state=0)
    np.testing.assert_array_equal(again, rows)
    np.testing.assert_array_equal(again_labels, labels)
    one, one_label = mixture.sample(1, random_state=1)
    assert one.shape == (1, D) and one_label.shape == (1,)
    with pytest.raises(ValueError):
        mixture.sample(0)


@pytest.mark.parametrize(
    ("kind", "count"),
    [
        ("full", 3 * 2 + 3 * 3),
        ("tied", 3 * 2 + 3),
        ("diag", 3 * 2 + 3 * 2),
        ("spherical", 3 * 2 + 3),
        ("list-full", 3 * 2 + 3 * 3),
        ("list-diag", 3 * 2 + 3 * 2),
    ],
)
def test_n_parameters_counts_free_parameters(kind: str, count: int) -> None:
    mixture = as_kind(random_mixture(kind_structure(kind), 3, 2, seed=0), kind)
    assert mixture.n_parameters == count + 2


# --------------------------------------------------------------------------------------------
# recovery, empty and degenerate components
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_fit_recovers_the_means_of_well_separated_blobs(kind: str) -> None:
    rng = np.random.default_rng(MODEL_KINDS.index(kind))
    true_means = np.array([[-8.0, 0.0], [8.0, 0.0], [0.0, 12.0]])
    per_component = 300
    X = np.concatenate([rng.normal(mean, 1.0, size=(per_component, 2)) for mean in true_means])
    X = X[rng.permutation(X.shape[0])]

    result = MixtureEM(make_model(kind, 3, 2), random_state=0).fit(X)
    assert result.converged

    _, means, covariances = parameters(result)
    cost = ((means[:, None, :] - true_means[None, :, :]) ** 2).sum(axis=2)
    fitted, truth = linear_sum_assignment(cost)
    standard_error = 1.0 / np.sqrt(per_component)
    assert (np.abs(means[fitted] - true_means[truth]) <= 5 * standard_error).all()
    np.testing.assert_allclose(result.weights, 1 / 3, atol=0.01)
    # Unit covariances: each variance within five standard errors (sqrt(2 / n)).
    variance_error = np.sqrt(2.0 / per_component)
    np.testing.assert_allclose(covariances, np.broadcast_to(np.eye(2), (3, 2, 2)), atol=0.3)
    assert (np.abs(np.diagonal(covariances, axis1=1, axis2=2) - 1) <= 5 * variance_error).all()


def _start_with_a_far_component(kind: str, X: np.ndarray) -> Mixture:
    """Three components: component 0 far from every row, with a tiny variance."""
    structure = kind_structure(kind)
    D = X.shape[1]
    means = np.array([np.full(D, 1000.0), X[: len(X) // 2].mean(0), X[len(X) // 2 :].mean(0)])
    variance = X.var(axis=0)
    if structure.name == "full":
        covariances = np.stack([1e-4 * np.eye(D), np.diag(variance), np.diag(variance)])
    elif structure.name == "tied":
        covariances = np.diag(variance)
    elif structure.name == "diag":
        covariances = np.stack([np.full(D, 1e-4), variance, variance])
    else:
        covariances = np.array([1e-4, variance.mean(), variance.mean()])
    family = GaussianFamily(3, structure, means=means, covariances=covariances)
    return as_kind(Mixture([0.2, 0.4, 0.4], family), kind)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_empty_component_warns_gets_weight_zero_and_stays_finite(kind: str) -> None:
    X = blobs(3, 200, 2, 2)
    start = _start_with_a_far_component(kind, X)
    em = MixtureEM(
        make_model(kind, 3, 2),
        initializer=GivenParameters(start),
        tol=1e-6,
        max_iter=50,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = em.fit(X)
    assert any(issubclass(w.category, EmptyComponentWarning) for w in caught)

    weights, means, covariances = parameters(result)
    assert weights[0] == 0.0
    assert (weights[1:] > 0).all()
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)
    _, start_means, start_covariances = parameters(start)
    np.testing.assert_array_equal(means[0], start_means[0])
    if kind != "tied":  # a tied covariance is pooled over the components that have rows
        np.testing.assert_array_equal(covariances[0], start_covariances[0])
    assert np.isfinite(means).all() and np.isfinite(covariances).all()
    assert np.isfinite(result.log_likelihood_history).all()

    proba = result.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_array_equal(proba[:, 0], 0.0)
    assert np.isfinite(result.score_samples(X)).all()
    _, labels = result.sample(500, random_state=0)
    assert (labels != 0).all()


def _data_with_a_duplicated_point(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(0.0, 1.0, size=(60, 2)), np.full((20, 2), 40.0)])


def _start_on_the_duplicated_point(kind: str, reg_covar: float) -> Mixture:
    structure = kind_structure(kind)
    means = np.array([[0.0, 0.0], [40.0, 40.0]])
    covariances = {
        "full": np.stack([np.eye(2), np.eye(2)]),
        "diag": np.ones((2, 2)),
        "spherical": np.ones(2),
    }[structure.name]
    family = GaussianFamily(2, structure, reg_covar=reg_covar, means=means, covariances=covariances)
    return as_kind(Mixture([0.75, 0.25], family), kind)


SINGULAR_KINDS = ["full", "diag", "spherical", *LIST_KINDS]


@pytest.mark.parametrize("kind", SINGULAR_KINDS)
def test_singular_covariance_without_regularisation_raises(kind: str) -> None:
    X = _data_with_a_duplicated_point()
    em = MixtureEM(
        make_model(kind, 2, 2, reg_covar=0.0),
        initializer=GivenParameters(_start_on_the_duplicated_point(kind, reg_covar=0.0)),
        tol=None,
        max_iter=10,
    )
    with pytest.raises(DegenerateComponentError):
        em.fit(X)
    # The default initializer splits off the duplicated rows too; still an error, not NaN.
    with pytest.raises(DegenerateComponentError):
        MixtureEM(make_model(kind, 2, 2, reg_covar=0.0), random_state=0).fit(X)


@pytest.mark.parametrize("kind", SINGULAR_KINDS)
def test_regularisation_keeps_a_collapsed_component_finite(kind: str) -> None:
    X = _data_with_a_duplicated_point()
    reg_covar = 1e-6
    em = MixtureEM(
        make_model(kind, 2, 2, reg_covar=reg_covar),
        initializer=GivenParameters(_start_on_the_duplicated_point(kind, reg_covar=reg_covar)),
        tol=None,
        max_iter=10,
    )
    result = fit_to_max_iter(em, X)
    weights, means, covariances = parameters(result)
    np.testing.assert_allclose(weights, [0.75, 0.25], rtol=1e-12)
    np.testing.assert_allclose(means[1], [40.0, 40.0], rtol=1e-14)
    np.testing.assert_allclose(covariances[1], reg_covar * np.eye(2), rtol=1e-9, atol=1e-15)
    assert np.isfinite(result.log_likelihood_history).all()


# --------------------------------------------------------------------------------------------
# the model supplies the settings, whatever the starting point
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["initializer", "warm_start"])
@pytest.mark.parametrize("kind", ["full", "diag", *LIST_KINDS])
def test_a_given_start_is_refitted_with_the_models_reg_covar(kind: str, how: str) -> None:
    X = blobs(2, 200, 2, 2)
    start = as_kind(random_mixture(kind_structure(kind), 2, 2, seed=1), kind)  # reg_covar 1e-6
    reg_covar = 0.5
    model = make_model(kind, 2, 2, reg_covar=reg_covar)
    if how == "initializer":
        em = MixtureEM(model, initializer=GivenParameters(start), tol=None, max_iter=3)
        result = fit_to_max_iter(em, X)
    else:
        em = MixtureEM(model, tol=None, max_iter=3)
        result = fit_to_max_iter(em, X, warm_start=start)
    # Every M-step adds the model's reg_covar to the covariances' diagonal.
    assert all(component.reg_covar == reg_covar for component in result.components)
    _, _, covariances = parameters(result)
    assert np.linalg.eigvalsh(covariances).min() >= reg_covar - 1e-9


@pytest.mark.parametrize("kind", ["diag", "list-diag"])
def test_a_given_start_with_another_structure_is_not_fitted_with_that_structure(
    kind: str,
) -> None:
    X = blobs(2, 200, 2, 2)
    start = as_kind(random_mixture(FullCovariance(), 2, 2, seed=1), kind)
    em = MixtureEM(make_model(kind, 2, 2), initializer=GivenParameters(start), tol=None, max_iter=3)
    try:
        result = fit_ignoring_convergence(em, X)
    except ValueError:
        return  # refusing the mismatched start is correct too
    assert all(component.structure == DiagonalCovariance() for component in result.components)
