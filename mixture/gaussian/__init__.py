"""Gaussian components: covariance structures, the vectorised family, one component."""

from mixture.gaussian.component import Gaussian
from mixture.gaussian.covariance import (
    CovarianceStructure,
    DiagonalCovariance,
    FullCovariance,
    SphericalCovariance,
    TiedCovariance,
)
from mixture.gaussian.family import GaussianFamily
from mixture.gaussian.statistics import GaussianStatistics

__all__ = [
    "CovarianceStructure",
    "DiagonalCovariance",
    "FullCovariance",
    "Gaussian",
    "GaussianFamily",
    "GaussianStatistics",
    "SphericalCovariance",
    "TiedCovariance",
]
