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
