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
from mixture.gaussian.prior import ConjugatePrior, DefaultPrior
from mixture.gaussian.statistics import GaussianStatistics
from mixture.gaussian.structures import STRUCTURE_NAMES, structure_named

__all__ = [
    "STRUCTURE_NAMES",
    "ConjugatePrior",
    "CovarianceStructure",
    "DefaultPrior",
    "DiagonalCovariance",
    "FullCovariance",
    "Gaussian",
    "GaussianFamily",
    "GaussianStatistics",
    "SphericalCovariance",
    "TiedCovariance",
    "structure_named",
]
