"""Degenerate fits are flagged, never selected; a candidate's fit does not depend on the grid."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mixture import (
    DegenerateFitWarning,
    DiagonalCovariance,
    FullCovariance,
    GaussianFamily,
    GaussianMixture,
    GivenParameters,
    Mixture,
    MixtureEM,
    SphericalCovariance,
    TiedCovariance,
    select_model,
)
from mixture.datasets import load_faithful
from mixture.degeneracy import column_resolution, find_degeneracies


def _with_a_stack_of_duplicates(seed: int = 0) -> np.ndarray:
    """Two continuous clusters, plus 15 rows that share one exact value of column 1."""
    rng = np.random.default_rng(seed)
    clusters = np.concatenate(
        [rng.normal([0.0, 0.0], 1.0, (150, 2)), rng.normal([8.0, 8.0], 1.0, (150, 2))]
    )
    stack = np.column_stack([rng.normal(4.0, 1.0, 15), np.full(15, 4.0)])
    return np.concatenate([clusters, stack])


def _fit_from(X: np.ndarray, means, covariances, structure) -> Mixture:
    family = GaussianFamily(len(means), structure, means=means, covariances=covariances)
    start = Mixture(np.full(len(means), 1 / len(means)), family)
    return MixtureEM(GaussianFamily(len(means), structure), initializer=GivenParameters(start)).fit(
        X
    )


def test_a_component_on_duplicated_values_is_flagged_as_the_regulariser() -> None:
    X = _with_a_stack_of_duplicates()
    means = [[0.0, 0.0], [8.0, 8.0], [4.0, 4.0]]
    variances = [[1.0, 1.0], [1.0, 1.0], [1.0, 1e-4]]  # the third starts on the stack
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = _fit_from(X, means, variances, DiagonalCovariance())
    variance = result.family.covariances[2, 1]
    assert variance <= result.family.reg_covar * 1.01  # it really collapsed
    found = find_degeneracies(result, X.shape[0])
    assert [d.component for d in found] == [2]
    assert "regulariser" in found[0].reason


def test_resolution_flags_a_component_narrower_than_the_rounding() -> None:
    rng = np.random.default_rng(1)
    X = np.round(rng.normal(50.0, 10.0, (400, 1)))  # recorded to whole units
    assert column_resolution(X).tolist() == [1.0]
    family = GaussianFamily(
        2, SphericalCovariance(), means=[[50.0], [50.0]], covariances=[100.0, 0.01]
    )
    mixture = Mixture([0.9, 0.1], family)
    assert find_degeneracies(mixture, 400.0) == []  # without the resolution: not flagged
    found = find_degeneracies(mixture, 400.0, column_resolution(X))
    assert [d.component for d in found] == [1] and "resolution" in found[0].reason


@pytest.mark.parametrize(
    ("structure", "rows", "flagged"),
    [
        (FullCovariance(), 3.0, True),  # D = 3: a full covariance needs more than 3 rows
        (FullCovariance(), 4.5, False),
        (DiagonalCovariance(), 1.0, True),
        (DiagonalCovariance(), 2.5, False),
        (TiedCovariance(), 0.5, False),  # a shared covariance needs no rows per component
    ],
)
def test_too_few_effective_rows(structure, rows, flagged) -> None:
    n_rows = 100.0
    K, D = 2, 3
    shape = structure.form.shape(K, D)
    # Unit covariances in the structure's own shape: matrices (full, tied), diagonals, scalars.
    is_matrix = shape[-2:] == (D, D)
    covariances = np.broadcast_to(np.eye(D), shape) if is_matrix else np.ones(shape)
    family = GaussianFamily(K, structure, means=np.zeros((K, D)), covariances=covariances)
    weights = [1 - rows / n_rows, rows / n_rows]
    found = find_degeneracies(Mixture(weights, family), n_rows)
    assert (1 in [d.component for d in found]) is flagged


def test_selection_never_picks_a_degenerate_candidate_and_says_why() -> None:
    X = _with_a_stack_of_duplicates(2)
    selection = select_model(X, n_components=range(1, 5), n_init=3, random_state=0)
    flagged = selection.degenerate
    assert all(c.degenerate for c in flagged)
    assert selection.best.degenerate is None
    rows = selection.rows()
    assert all("degenerate" in row for row in rows)
    table = selection.to_markdown()
    assert "| degenerate |" in table.splitlines()[0]
    for candidate in flagged:
        assert candidate.degenerate in table


def test_all_degenerate_raises() -> None:
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 20, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        selection = select_model(X, n_components=[2], structures=[DiagonalCovariance()])
    assert selection.candidates[0].degenerate is not None
    with pytest.raises(ValueError, match="every candidate fit is degenerate"):
        _ = selection.best


def test_the_estimator_warns_and_names_the_component() -> None:
    X = np.concatenate([np.random.default_rng(3).normal(size=(60, 2)), np.ones((1, 2)) * 40])
    with pytest.warns(DegenerateFitWarning, match="component"):
        GaussianMixture(2, covariance_type="diag", random_state=0).fit(X)


def test_a_candidates_fit_does_not_depend_on_the_grid() -> None:
    X, _ = load_faithful()
    whole = select_model(X, n_components=range(1, 10), random_state=0)
    alone = select_model(X, n_components=[3], structures=[TiedCovariance()], random_state=0)
    reordered = select_model(
        X,
        n_components=[5, 3, 1],
        structures=[SphericalCovariance(), TiedCovariance()],
        random_state=0,
    )
    in_parallel = select_model(X, n_components=[2, 3], random_state=0, n_jobs=2)

    def tied3(selection):
        return next(c for c in selection.candidates if (c.model, c.n_components) == ("tied", 3))

    # Same seed, same data, same computation: the fits are identical, not merely close.
    reference = tied3(whole)
    for other in (alone, reordered, in_parallel):
        assert tied3(other).log_likelihood == reference.log_likelihood
        np.testing.assert_array_equal(tied3(other).result.weights, reference.result.weights)


def test_the_engine_warns_too_and_other_families_report_none() -> None:
    from mixture import Poisson

    X = np.concatenate([np.random.default_rng(4).normal(size=(60, 2)), np.ones((1, 2)) * 40])
    with pytest.warns(DegenerateFitWarning, match="component"):
        MixtureEM(GaussianFamily(2, DiagonalCovariance()), random_state=0).fit(X)
    counts = np.random.default_rng(5).poisson(3.0, size=(50, 2)).astype(float)
    fitted = MixtureEM([Poisson([1.0, 1.0]), Poisson([5.0, 5.0])], random_state=0).fit(counts)
    assert find_degeneracies(fitted, 50.0) == []
