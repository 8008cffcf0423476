"""The Gaussian components pass the conformance kit."""

from __future__ import annotations

import numpy as np
import pytest

from mixture import DiagonalCovariance, Gaussian, SphericalCovariance, TiedCovariance
from mixture.testing import check_component

CASES = {
    "full": (
        Gaussian([1.0, -2.0, 0.5], [[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]]),
        9,
        [
            {"mean": [0.0, 0.0], "covariance": [[1.0, 2.0], [2.0, 1.0]]},  # not positive
            {"mean": [0.0, 0.0], "covariance": [[1.0, 0.5], [0.0, 1.0]]},  # not symmetric
            {"mean": [[0.0, 0.0]], "covariance": np.eye(2)},  # mean not 1-D
            {"mean": [np.nan, 0.0], "covariance": np.eye(2)},
            {"mean": [0.0, 0.0], "covariance": np.eye(3)},
        ],
    ),
    "diag": (
        Gaussian([3.0, 0.0], [0.5, 4.0], structure=DiagonalCovariance()),
        4,
        [
            {"mean": [0.0, 0.0], "covariance": [1.0, -1.0], "structure": DiagonalCovariance()},
            {"mean": [0.0], "covariance": [1.0, 1.0], "structure": DiagonalCovariance()},
        ],
    ),
    "spherical": (
        Gaussian([0.0, 1.0, 2.0, 3.0], 2.5, structure=SphericalCovariance()),
        5,
        [
            {"mean": [0.0], "covariance": 0.0, "structure": SphericalCovariance()},
            {"mean": [0.0], "covariance": [1.0, 2.0], "structure": SphericalCovariance()},
            {"mean": [0.0], "covariance": 1.0, "structure": TiedCovariance()},
        ],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gaussian_passes_the_conformance_kit(name: str) -> None:
    component, n_parameters, invalid = CASES[name]
    report = check_component(component, invalid=invalid, n_parameters=n_parameters)
    assert "density vs scipy" in report.passed
    assert "sample distribution vs scipy twin (KS)" in report.passed
    assert not report.not_run, report.not_run


def test_gaussian_mixture_recovers_a_known_three_component_mixture() -> None:
    """20,000 rows from a known mixture; tolerances are 5 standard errors of each estimate."""
    from scipy.optimize import linear_sum_assignment

    from mixture import FullCovariance, GaussianFamily, MixtureEM

    rng = np.random.default_rng(11)
    weights = np.array([0.5, 0.3, 0.2])
    means = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 2.0], [0.0, 6.0, -2.0]])
    covariances = np.array(
        [
            [[1.0, 0.4, 0.0], [0.4, 1.0, 0.2], [0.0, 0.2, 0.5]],
            [[0.5, 0.0, 0.1], [0.0, 2.0, -0.3], [0.1, -0.3, 1.0]],
            [[1.5, -0.5, 0.0], [-0.5, 0.7, 0.0], [0.0, 0.0, 0.3]],
        ]
    )
    n_rows = 20000
    labels = rng.choice(3, size=n_rows, p=weights)
    X = np.empty((n_rows, 3))
    for k in range(3):
        X[labels == k] = rng.multivariate_normal(means[k], covariances[k], int((labels == k).sum()))
    result = MixtureEM(GaussianFamily(3, FullCovariance()), tol=1e-8, random_state=0).fit(X)
    _, order = linear_sum_assignment(
        np.linalg.norm(means[:, None, :] - result.family.means[None], axis=2)
    )
    fitted_weights = result.weights[order]
    fitted_means = result.family.means[order]
    fitted_covariances = result.family.covariances[order]
    print("\nweight true/fitted", weights, fitted_weights.round(4))
    counts = weights * n_rows
    assert np.all(np.abs(fitted_weights - weights) < 5 * np.sqrt(weights * (1 - weights) / n_rows))
    for k in range(3):
        mean_se = np.sqrt(np.diag(covariances[k]) / counts[k])
        assert np.all(np.abs(fitted_means[k] - means[k]) < 5 * mean_se), k
        # Var of a sample covariance entry: (s_ij^2 + s_ii s_jj) / n for Gaussian rows.
        diagonal = np.diag(covariances[k])
        covariance_se = np.sqrt((covariances[k] ** 2 + np.outer(diagonal, diagonal)) / counts[k])
        assert np.all(np.abs(fitted_covariances[k] - covariances[k]) < 5 * covariance_se), k
        print(f"component {k}: mean {fitted_means[k].round(3)} vs {means[k]}")
