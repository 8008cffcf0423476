"""Gaussian components: covariance structures (mclust's 14 models) on four storage forms,
the vectorised family, one component."""

from mixture.gaussian.component import Gaussian
from mixture.gaussian.covariance import (
    CovarianceStructure,
    DiagonalCovariance,
    FullCovariance,
    SphericalCovariance,
    TiedCovariance,
)
from mixture.gaussian.family import GaussianFamily
from mixture.gaussian.forms import CovarianceForm, DiagonalForm, FullForm, SharedForm, SphericalForm
from mixture.gaussian.parsimonious import (
    EEICovariance,
    EEVCovariance,
    EIICovariance,
    EVECovariance,
    EVICovariance,
    EVVCovariance,
    VEECovariance,
    VEICovariance,
    VEVCovariance,
    VVECovariance,
)
from mixture.gaussian.prior import ConjugatePrior, DefaultPrior
from mixture.gaussian.statistics import GaussianStatistics
from mixture.gaussian.structures import (
    MCLUST_NAMES,
    SKLEARN_NAMES,
    STRUCTURE_NAMES,
    register_structure,
    structure_named,
)

__all__ = [
    "MCLUST_NAMES",
    "SKLEARN_NAMES",
    "STRUCTURE_NAMES",
    "ConjugatePrior",
    "CovarianceForm",
    "CovarianceStructure",
    "DefaultPrior",
    "DiagonalCovariance",
    "DiagonalForm",
    "EEICovariance",
    "EEVCovariance",
    "EIICovariance",
    "EVECovariance",
    "EVICovariance",
    "EVVCovariance",
    "FullCovariance",
    "FullForm",
    "Gaussian",
    "GaussianFamily",
    "GaussianStatistics",
    "SharedForm",
    "SphericalCovariance",
    "SphericalForm",
    "TiedCovariance",
    "VEECovariance",
    "VEICovariance",
    "VEVCovariance",
    "VVECovariance",
    "register_structure",
    "structure_named",
]
