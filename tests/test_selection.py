"""Model selection by BIC, AIC and ICL over numbers of components and model families."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import blobs

from mixture import (
    DiagonalCovariance,
    FullCovariance,
    Gaussian,
    GaussianFamily,
    SphericalCovariance,
    TiedCovariance,
    select_model,
)
from mixture.datasets import load_faithful
from mixture.family import ComponentList


def test_old_faithful_bic_selects_tied_covariance_with_three_components() -> None:
    X, _ = load_faithful()
    selection = select_model(X, n_components=range(1, 10), random_state=0)
    assert len(selection.candidates) == 36
    best = selection.best
    assert (best.model, best.n_components) == ("tied", 3)
    # Reference: 2314.3 (scikit-learn's sign; mclust reports EEE,3 at -2314.3).
    assert best.bic == pytest.approx(2314.3, abs=0.05)
    assert best.converged
    assert best.result.family.structure == TiedCovariance()


def test_criteria_follow_their_definitions() -> None:
    X = blobs(3, 400, 2, 3)
    selection = select_model(X, n_components=[1, 2, 3, 4], random_state=1)
    n_rows = X.shape[0]
    for c in selection.candidates:
        ll = c.result.score(X) * n_rows
        assert c.log_likelihood == pytest.approx(ll, rel=1e-12)
        assert c.bic == pytest.approx(-2 * ll + c.n_parameters * np.log(n_rows), rel=1e-12)
        assert c.aic == pytest.approx(-2 * ll + 2 * c.n_parameters, rel=1e-12)
        assert c.icl >= c.bic - 1e-9
        assert c.n_parameters == c.result.n_parameters
    for criterion in ("bic", "aic", "icl"):
        ranked = select_model(X, n_components=[1, 2, 3, 4], criterion=criterion, random_state=1)
        scores = [c.score(criterion) for c in ranked.candidates]
        assert ranked.best.score(criterion) == min(scores)
    # Three well separated blobs: BIC finds three components.
    assert selection.best.n_components == 3


def test_table_lists_every_candidate_and_marks_the_best() -> None:
    X = blobs(4, 300, 2, 2)
    selection = select_model(
        X, n_components=[1, 2, 3], structures=[FullCovariance(), SphericalCovariance()]
    )
    rows = selection.rows()
    assert [(r["model"], r["n_components"]) for r in rows] == [
        ("full", 1),
        ("full", 2),
        ("full", 3),
        ("spherical", 1),
        ("spherical", 2),
        ("spherical", 3),
    ]
    table = selection.to_markdown()
    assert table.count("\n") == 2 + len(rows) - 1
    best = selection.best
    assert f"| {best.model} * | {best.n_components} |" in table
    assert "best by BIC" in str(selection)


def test_parallel_fits_equal_sequential_fits() -> None:
    X = blobs(5, 300, 2, 3)
    options = {"n_components": [1, 2, 3], "random_state": 7}
    sequential = select_model(X, **options)
    parallel = select_model(X, n_jobs=2, **options)
    for a, b in zip(sequential.rows(), parallel.rows(), strict=True):
        assert (a["model"], a["n_components"], a["n_iter"]) == (
            b["model"],
            b["n_components"],
            b["n_iter"],
        )
        for key in ("log_likelihood", "bic", "aic", "icl"):
            assert a[key] == pytest.approx(b[key], rel=1e-12), key


def test_integer_sample_weights_equal_repeated_rows() -> None:
    X = blobs(6, 200, 2, 2)
    counts = np.random.default_rng(0).integers(0, 4, size=X.shape[0])
    options = {"n_components": [1, 2, 3], "structures": [DiagonalCovariance()], "random_state": 3}
    weighted = select_model(X, sample_weight=counts, **options)
    repeated = select_model(np.repeat(X, counts, axis=0), **options)
    for a, b in zip(weighted.rows(), repeated.rows(), strict=True):
        assert a["n_iter"] == b["n_iter"]
        for key in ("log_likelihood", "bic", "aic", "icl"):
            assert a[key] == pytest.approx(b[key], rel=1e-8), key


def test_any_component_family_can_be_selected() -> None:
    X = blobs(8, 300, 2, 2)

    def gaussian_list(k: int) -> ComponentList:
        return ComponentList([Gaussian(np.zeros(2), np.eye(2)) for _ in range(k)])

    selection = select_model(
        X,
        n_components=[1, 2],
        models={"list of Gaussians": gaussian_list, "family": lambda k: GaussianFamily(k)},
        random_state=0,
    )
    by_model = {(c.model, c.n_components): c for c in selection.candidates}
    for k in (1, 2):
        assert by_model["list of Gaussians", k].bic == pytest.approx(
            by_model["family", k].bic, rel=1e-9
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"criterion": "bic2"}, "criterion must be one of"),
        ({"n_components": []}, "n_components is empty"),
        ({"n_components": [0, 1]}, "n_components must be >= 1"),
        ({"n_components": [50]}, "fewer than the largest number of components"),
        ({"structures": ["full"]}, "CovarianceStructure"),
        ({"structures": [FullCovariance()], "models": {}}, "either structures or models"),
        ({"models": {}}, "no models"),
    ],
)
def test_bad_arguments_are_named(options: dict, message: str) -> None:
    X = blobs(9, 40, 2, 2)
    with pytest.raises(ValueError, match=message):
        select_model(X, **options)


def test_selection_across_families_prefers_an_explicit_noise_component() -> None:
    """Gaussian vs Student-t vs Gaussian + uniform noise, on three clusters with 5% outliers."""
    from mixture import ComponentList, Gaussian, RandomRows, StudentT, Uniform

    rng = np.random.default_rng(0)
    means = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    clusters = np.concatenate([rng.multivariate_normal(m, 0.5 * np.eye(2), 1000) for m in means])
    low, high = clusters.min(axis=0), clusters.max(axis=0)
    outliers = rng.uniform(low - 4.5 * (high - low), high + 4.5 * (high - low), (150, 2))
    X = np.concatenate([clusters, outliers])
    noise = Uniform.covering(X)
    models = {
        "gaussian": lambda k: GaussianFamily(k),
        "student-t": lambda k: ComponentList(
            [StudentT(np.zeros(2), np.eye(2), 4.0, estimate_df=False) for _ in range(k)]
        ),
        # k Gaussians plus the background: the candidate has k + 1 components.
        "gaussian+noise": lambda k: ComponentList(
            [*(Gaussian(np.zeros(2), np.eye(2)) for _ in range(k)), noise]
        ),
    }
    selection = select_model(
        X,
        n_components=[2, 3, 4],
        models=models,
        initializer=RandomRows(),
        n_init=3,
        random_state=0,
        max_iter=300,
    )
    by_model = {(c.model, c.n_components): c for c in selection.candidates}
    best = selection.best
    assert (best.model, best.n_components) == ("gaussian+noise", 4)
    assert best.bic < by_model["gaussian", 3].bic
    assert best.bic < by_model["student-t", 3].bic
    fitted = np.array([c.mean for c in best.result.components[:3]])
    order = [int(np.argmin(np.linalg.norm(fitted - m, axis=1))) for m in means]
    np.testing.assert_allclose(fitted[order], means, atol=0.1)
    assert best.result.weights[3] == pytest.approx(150 / 3150, abs=0.01)
