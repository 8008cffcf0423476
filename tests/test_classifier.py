"""MixtureClassifier: scikit-learn's checks, the closed forms it must equal (QDA, LDA),
posterior probabilities, label encodings, pipelines and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import assert_close_in_ulps
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.datasets import load_iris, load_wine
from sklearn.discriminant_analysis import (
    LinearDiscriminantAnalysis,
    QuadraticDiscriminantAnalysis,
)
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from mixture.classifier import MixtureClassifier
from mixture.gaussian import MCLUST_NAMES, structure_named

# A small grid keeps mode="mclustda" fast here; the default grid (1..5 components, four
# structures) runs the same code with more candidates.
SMALL_GRID = {"n_components": (1, 2), "structures": ("diag", "VEV"), "random_state": 0}


@parametrize_with_checks(
    [
        MixtureClassifier(mode="edda"),
        MixtureClassifier(mode="edda", structures=("tied", "diag"), priors=None),
        MixtureClassifier(**SMALL_GRID),
    ]
)
def test_sklearn_compatible_estimator(estimator, check) -> None:
    """scikit-learn's estimator checks pass, none skipped or expected to fail. (The default
    mode="mclustda" instance passes them too; with 20 EM fits per class it takes 80 s.)"""
    check(estimator)


def _standardized(load) -> tuple[np.ndarray, np.ndarray]:
    X, y = load(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _labels_where_clear(log_proba: np.ndarray, margin: float) -> np.ndarray:
    """Rows whose top two log-probabilities differ by more than ``margin``: there, round-off
    cannot change the most probable class."""
    top_two = np.sort(log_proba, axis=1)[:, -2:]
    return top_two[:, 1] - top_two[:, 0] > margin


# -- equal to the closed forms --------------------------------------------------------------
QDA_EQUIVALENTS = {
    "edda-VVV": {"mode": "edda", "structures": "VVV"},
    "mclustda-1-full": {"n_components": 1, "structures": "full", "random_state": 0},
}


@pytest.mark.parametrize("load", [load_iris, load_wine], ids=["iris", "wine"])
@pytest.mark.parametrize("settings", QDA_EQUIVALENTS.values(), ids=QDA_EQUIVALENTS.keys())
def test_one_full_gaussian_per_class_is_quadratic_discriminant_analysis(load, settings) -> None:
    """One full-covariance Gaussian per class is QDA: the same class means, the same
    covariances up to QDA's divisor, the same posterior.

    QDA with reg_param=0 estimates each class's covariance with divisor ``n_c`` since
    scikit-learn 1.8 (the maximum-likelihood estimate, ours), and with ``n_c - 1`` before.
    The test finds which from QDA's ``covariance_`` (the ratio must be one of the two), then
    compares like with like: the covariances rescaled to the MLE, and our posterior against
    the posterior of QDA's means and rescaled covariances (and against QDA's own
    ``predict_log_proba`` where its divisor is ``n_c``).
    """
    X, y = _standardized(load)
    qda = QuadraticDiscriminantAnalysis(reg_param=0.0, store_covariance=True).fit(X, y)
    ours = MixtureClassifier(reg_covar=0.0, **settings).fit(X, y)
    counts = np.bincount(y)
    mle_covariances, divisor_is_n = [], []
    for c, model in enumerate(ours.models_):
        family = model.family
        assert model.n_components == 1
        n_c = counts[c]
        # a mean of n_c rows, summed in different orders: about n_c ulps of the largest value
        assert_close_in_ulps(family.means[0], qda.means_[c], n_c, scale=np.abs(X).max())
        covariance = family.structure.form.component_covariance(family.covariances, 0)
        ratio = np.trace(qda.covariance_[c]) / np.trace(covariance)
        divisor_is_n.append(abs(ratio - 1.0) < 1e-10)
        assert divisor_is_n[-1] or abs(ratio - n_c / (n_c - 1)) < 1e-10, ratio
        mle = qda.covariance_[c] * (1.0 if divisor_is_n[-1] else (n_c - 1) / n_c)
        mle_covariances.append(mle)
        # sums of n_c centred products (ours from centred scatter, QDA's by an SVD):
        # about n_c ulps of the largest entry
        assert_close_in_ulps(covariance, mle, n_c)
    reference = np.column_stack(
        [
            multivariate_normal(qda.means_[c], mle_covariances[c]).logpdf(X) + np.log(p)
            for c, p in enumerate(qda.priors_)
        ]
    )
    reference -= logsumexp(reference, axis=1, keepdims=True)
    log_proba = ours.predict_log_proba(X)
    # Quadratic forms of magnitude up to max|log p|, through a Cholesky factor here and an
    # eigen- or SVD-decomposition there: relative errors of about cond(Sigma) ulps.
    condition = max(np.linalg.cond(s) for s in mle_covariances)
    assert_close_in_ulps(log_proba, reference, 10 * condition, scale=np.abs(reference).max())
    clear = _labels_where_clear(reference, 1e-6)
    np.testing.assert_array_equal(ours.predict(X)[clear], reference.argmax(axis=1)[clear])
    if all(divisor_is_n):  # scikit-learn >= 1.8: QDA's own posterior is ours
        scale = np.abs(reference).max()
        assert_close_in_ulps(log_proba, qda.predict_log_proba(X), 10 * condition, scale=scale)
        np.testing.assert_array_equal(ours.predict(X)[clear], qda.predict(X)[clear])


@pytest.mark.parametrize("load", [load_iris, load_wine], ids=["iris", "wine"])
def test_tied_structure_is_linear_discriminant_analysis(load) -> None:
    """EDDA with the tied (EEE) structure is LDA: LDA's 'lsqr' solver pools the class
    covariances weighted by the class frequencies with divisor ``n_c`` each, which is our
    tied maximum-likelihood covariance (``sum_c S_c / n``), and its decision function is
    ``log pi_c + log N(x | mu_c, Sigma)`` up to terms common to all classes."""
    X, y = _standardized(load)
    lda = LinearDiscriminantAnalysis(solver="lsqr").fit(X, y)
    ours = MixtureClassifier("edda", structures="EEE", reg_covar=0.0).fit(X, y)
    covariance = ours.selection_.best_model.family.covariances
    # a sum of n centred products: about n ulps of its largest entry
    assert_close_in_ulps(covariance, lda.covariance_, X.shape[0])
    condition = np.linalg.cond(covariance)
    # Posteriors through a Cholesky factor here and a least-squares solve there: relative
    # errors of the linear discriminants of about cond(Sigma) ulps; probabilities <= 1.
    assert_close_in_ulps(ours.predict_proba(X), lda.predict_proba(X), 10 * condition, scale=1.0)
    clear = _labels_where_clear(ours.predict_log_proba(X), 1e-6)
    np.testing.assert_array_equal(ours.predict(X)[clear], lda.predict(X)[clear])
    # LDA's default 'svd' solver divides the pooled scatter by n - n_classes instead of n,
    # which moves the prior's weight slightly: its predictions equal ours where the classes
    # are not nearly tied.
    svd = LinearDiscriminantAnalysis().fit(X, y)
    clear = _labels_where_clear(ours.predict_log_proba(X), 0.5)
    np.testing.assert_array_equal(ours.predict(X)[clear], svd.predict(X)[clear])


# -- posterior probabilities -----------------------------------------------------------------
def _three_classes(seed: int, n_features: int, n_rows: int = 90) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n_rows) % 3
    centres = rng.normal(0.0, 3.0, size=(3, n_features))
    scales = rng.uniform(0.5, 2.0, size=(3, n_features))
    return centres[y] + scales[y] * rng.normal(size=(n_rows, n_features)), y


@given(
    seed=st.integers(0, 2**32 - 1),
    n_features=st.integers(1, 4),
    structure=st.sampled_from(MCLUST_NAMES),
    distance=st.sampled_from([0.0, 1e3, 1e6]),
)
def test_probabilities_sum_to_one_even_far_from_every_class(
    seed: int, n_features: int, structure: str, distance: float
) -> None:
    """Rows far from every class (a log-density of -1e12) still get finite probabilities
    summing to 1: they are normalised in log space."""
    X, y = _three_classes(seed, n_features)
    model = MixtureClassifier("edda", structures=structure).fit(X, y)
    rng = np.random.default_rng(seed + 1)
    rows = X[:20] + distance * rng.normal(size=(20, n_features))
    log_proba = model.predict_log_proba(rows)
    proba = model.predict_proba(rows)
    assert np.isfinite(log_proba.max(axis=1)).all()
    assert (log_proba <= 0).all()
    # a sum of 3 probabilities, each exp of a rounded difference: a few ulps of 1
    assert_close_in_ulps(proba.sum(axis=1), np.ones(20), 8)
    np.testing.assert_array_equal(model.predict(rows), model.classes_[proba.argmax(axis=1)])


def test_mixtures_per_class_give_probabilities_summing_to_one() -> None:
    X, y = _three_classes(3, 2)
    model = MixtureClassifier(**SMALL_GRID).fit(X, y)
    proba = model.predict_proba(np.vstack([X, X + 1e4]))
    assert_close_in_ulps(proba.sum(axis=1), np.ones(proba.shape[0]), 8)


@given(
    seed=st.integers(0, 2**32 - 1), weights=st.lists(st.floats(0.05, 1.0), min_size=3, max_size=3)
)
def test_priors_enter_as_bayes_rule_says(seed: int, weights: list[float]) -> None:
    """Changing the priors from a to b adds log b_c - log a_c to every class's log
    posterior, up to a per-row constant (the normaliser); the densities do not change."""
    X, y = _three_classes(seed, 2)
    priors = np.asarray(weights) / np.sum(weights)
    default = MixtureClassifier("edda", structures="VVV").fit(X, y)
    given_priors = MixtureClassifier("edda", structures="VVV", priors=priors).fit(X, y)
    np.testing.assert_array_equal(default.class_prior_, np.bincount(y) / y.size)
    shift = (
        given_priors.predict_log_proba(X)
        - default.predict_log_proba(X)
        - np.log(priors / default.class_prior_)
    )
    # log-probabilities of magnitude up to ~50 through two log-sum-exps: ulps of that
    scale = np.abs(default.predict_log_proba(X)).max() + 1.0
    assert_close_in_ulps(shift - shift[:, :1], np.zeros_like(shift), 64, scale=scale)


# -- label encodings ------------------------------------------------------------------------
ENCODINGS = {
    "strings": lambda y: np.array(["setosa", "versicolor", "virginica"])[y],
    "permuted ints": lambda y: np.array([7, -2, 3])[y],
    "integral floats": lambda y: np.array([2.0, 0.0, 1.0])[y],
}


@pytest.mark.parametrize("encode", ENCODINGS.values(), ids=ENCODINGS.keys())
@pytest.mark.parametrize("settings", [{"mode": "edda"}, SMALL_GRID], ids=["edda", "mclustda"])
def test_predictions_do_not_depend_on_how_classes_are_labelled(encode, settings) -> None:
    """Each class's model depends on its rows only: relabelling the classes relabels the
    predictions and permutes the probability columns."""
    X, y = load_iris(return_X_y=True)
    base = MixtureClassifier(**settings).fit(X, y)
    labels = encode(y)
    other = MixtureClassifier(**settings).fit(X, labels)
    np.testing.assert_array_equal(other.classes_, np.unique(labels))
    order = [int(np.flatnonzero(encode(np.arange(3)) == label)[0]) for label in other.classes_]
    # the same densities, normalised over columns in another order: a few ulps of 1
    assert_close_in_ulps(other.predict_proba(X), base.predict_proba(X)[:, order], 16, scale=1.0)
    clear = _labels_where_clear(base.predict_log_proba(X), 1e-6)
    np.testing.assert_array_equal(other.predict(X)[clear], encode(base.predict(X))[clear])


# -- scikit-learn workflow ------------------------------------------------------------------
def test_pipeline_and_cross_validation_on_wine() -> None:
    X, y = load_wine(return_X_y=True)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    # EDDA with a few structures keeps this fast (the iterative VVE and EVE M-steps on
    # 13 features take most of a default fit's 2 s)
    classifier = MixtureClassifier("edda", structures=("tied", "diag", "VEV", "full"))
    pipeline = make_pipeline(StandardScaler(), classifier)
    scores = cross_val_score(pipeline, X, y, cv=folds)
    assert scores.shape == (5,)
    # wine's classes are nearly separable: LDA errs on about 1 row in 100
    assert scores.mean() > 0.9
    pipeline.fit(X, y)
    assert pipeline.score(X, y) > 0.9


def test_mixtures_per_class_beat_one_gaussian_where_classes_alternate() -> None:
    """Clusters alternate along x (class 0 at -4 and 4, class 1 at 0 and 8): one Gaussian per
    class (QDA) has at most two boundary points along x and cannot separate four runs; a
    mixture per class can."""
    rng = np.random.default_rng(0)
    centres = np.array([[-4.0, 4.0], [0.0, 8.0]])

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(2, size=n)
        x = centres[y, rng.integers(2, size=n)] + rng.normal(size=n)
        return np.column_stack([x, rng.normal(size=n)]), y

    X, y = draw(400)
    X_test, y_test = draw(2000)
    mixtures = MixtureClassifier(n_components=(1, 2, 3), structures="full", random_state=0)
    mixtures.fit(X, y)
    qda = QuadraticDiscriminantAnalysis().fit(X, y)
    assert [model.n_components for model in mixtures.models_] == [2, 2]
    # Bayes error: boundaries 2 standard deviations from the clusters, about 3.4%; the
    # standard error of an error rate on 2000 rows is below 0.5%.
    assert 1 - mixtures.score(X_test, y_test) < 0.06
    assert mixtures.score(X_test, y_test) > qda.score(X_test, y_test) + 0.1


def test_fitted_attributes_per_mode() -> None:
    X, y = load_iris(return_X_y=True)
    model = MixtureClassifier(**SMALL_GRID).fit(X, y)
    assert len(model.selections_) == len(model.models_) == 3
    for selection, chosen in zip(model.selections_, model.models_, strict=True):
        assert selection.best_model is chosen
    model.set_params(mode="edda", n_components=None, structures=None).fit(X, y)
    assert not hasattr(model, "selections_")  # no stale table of the other mode
    tried = [c.model for c in model.selection_.candidates]
    assert tried == [structure_named(name).name for name in MCLUST_NAMES]  # mclust's 14
    assert model.structure_ is model.selection_.best_model.family.structure
    assert all(m.n_components == 1 for m in model.models_)


# -- bad input ------------------------------------------------------------------------------
def test_one_class_is_refused() -> None:
    X, _ = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="at least two classes; y has one class"):
        MixtureClassifier("edda").fit(X, np.zeros(X.shape[0]))


@pytest.mark.parametrize("mode", ["edda", "mclustda"])
def test_a_class_too_small_for_the_structure_is_named(mode: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(43, 3))
    y = np.array(["big"] * 40 + ["tiny"] * 3)  # 3 rows cannot give a full 3-D covariance
    settings = {"n_components": 1} if mode == "mclustda" else {}
    with pytest.raises(ValueError, match="class 'tiny'"):
        MixtureClassifier(mode, structures="full", random_state=0, **settings).fit(X, y)
    # a covariance shared by all classes (LDA) needs no rows of its own per class
    MixtureClassifier("edda", structures="tied").fit(X, y)


def test_features_without_spread_within_classes_are_refused() -> None:
    """An exact linear dependence between features leaves every class's covariance singular:
    a fit there is degenerate (its density is the regulariser's), so it is refused rather
    than scored."""
    X, y = load_iris(return_X_y=True)
    collinear = np.column_stack([X, X[:, 0] - 2.0 * X[:, 1]])
    with pytest.raises(ValueError, match=r"degenerate.*no spread in some direction"):
        MixtureClassifier("edda", structures="tied").fit(collinear, y)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"mode": "edda", "n_components": 3}, "one Gaussian per class"),
        ({"n_components": 0}, "integers >= 1"),
        ({"n_components": ()}, "n_components is empty"),
        ({"n_components": "two"}, "integers >= 1"),
        ({"structures": "VVX"}, "unknown covariance structure 'VVX'"),
        ({"structures": [3]}, "structure names"),
        ({"structures": ()}, "structures is empty"),
        ({"mode": "edda", "priors": [0.5, 0.5]}, "one entry per class"),
        ({"mode": "edda", "priors": [0.5, 0.5, 0.5]}, "sum to 1"),
        ({"mode": "edda", "priors": [1.5, -0.5, 0.0]}, "non-negative"),
        ({"mode": "lda"}, "mode"),
    ],
)
def test_bad_parameters_raise_clear_errors(settings, message) -> None:
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=message):
        MixtureClassifier(**settings).fit(X, y)


def test_predicting_before_fit_or_with_other_columns_is_refused() -> None:
    X, y = load_iris(return_X_y=True)
    with pytest.raises(NotFittedError):
        MixtureClassifier().predict(X)
    model = MixtureClassifier("edda").fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :3])
