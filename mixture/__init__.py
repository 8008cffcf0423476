"""Mixture models fitted by Expectation-Maximization.

The layers, bottom up:

- :class:`Component`: one distribution (the contract an extender implements);
- component families (:class:`ComponentList`, :class:`GaussianFamily`): K components,
  vectorised where possible, with covariance structures as objects;
- :class:`MixtureEM`: the EM loop as a map-reduce over row chunks, with pluggable
  initializers (:mod:`mixture.initializers`) and callbacks (:mod:`mixture.callbacks`).
"""

from mixture import acceleration, callbacks, constraints, initializers, model_file
from mixture.acceleration import SQUAREM, Acceleration
from mixture.callbacks import (
    AitkenTolerance,
    Callback,
    History,
    IterationState,
    MaxIterations,
    Stop,
    StopWhen,
    Tolerance,
    Verbose,
)
from mixture.classifier import MixtureClassifier
from mixture.components import (
    Bernoulli,
    Categorical,
    Exponential,
    Frozen,
    Gamma,
    Independent,
    LogNormal,
    NegativeBinomial,
    Poisson,
    StudentT,
    Uniform,
    VonMises,
)
from mixture.contract import Capabilities, Component, Statistics
from mixture.declared import DeclaredComponent, Parameter, Setting, WeightedSumsComponent
from mixture.engine import MixtureEM, MixtureResult
from mixture.estimator import GaussianMixture
from mixture.exceptions import (
    ConvergenceWarning,
    DegenerateComponentError,
    DegenerateFitWarning,
    DegenerateRunWarning,
    EmptyComponentWarning,
    FewDistinctRowsWarning,
    NotFittedError,
)
from mixture.family import ComponentFamily, ComponentList, JoinedFamily, StatisticsList
from mixture.gaussian import (
    CovarianceStructure,
    DiagonalCovariance,
    FullCovariance,
    Gaussian,
    GaussianFamily,
    GaussianStatistics,
    SphericalCovariance,
    TiedCovariance,
)
from mixture.hierarchical import Hierarchical
from mixture.initializers import (
    GivenParameters,
    GivenResponsibilities,
    Initializer,
    KMeans,
    KMeansPlusPlus,
    RandomResponsibilities,
    RandomRows,
)
from mixture.labels import ComponentKnowledge
from mixture.minibatch import MiniBatchGaussianMixture
from mixture.mixing import EqualWeights, FixedWeights, MixingWeights
from mixture.model import Mixture, MixtureStatistics
from mixture.online import OnlineEM
from mixture.selection import Candidate, ModelSelection, select_model

__version__ = "0.1.0.dev0"

__all__ = [
    "SQUAREM",
    "Acceleration",
    "AitkenTolerance",
    "Bernoulli",
    "Callback",
    "Candidate",
    "Capabilities",
    "Categorical",
    "Component",
    "ComponentFamily",
    "ComponentKnowledge",
    "ComponentList",
    "ConvergenceWarning",
    "CovarianceStructure",
    "DeclaredComponent",
    "DegenerateComponentError",
    "DegenerateFitWarning",
    "DegenerateRunWarning",
    "DiagonalCovariance",
    "EmptyComponentWarning",
    "EqualWeights",
    "Exponential",
    "FewDistinctRowsWarning",
    "FixedWeights",
    "Frozen",
    "FullCovariance",
    "Gamma",
    "Gaussian",
    "GaussianFamily",
    "GaussianMixture",
    "GaussianStatistics",
    "GivenParameters",
    "GivenResponsibilities",
    "Hierarchical",
    "History",
    "Independent",
    "Initializer",
    "IterationState",
    "JoinedFamily",
    "KMeans",
    "KMeansPlusPlus",
    "LogNormal",
    "MaxIterations",
    "MiniBatchGaussianMixture",
    "MixingWeights",
    "Mixture",
    "MixtureClassifier",
    "MixtureEM",
    "MixtureResult",
    "MixtureStatistics",
    "ModelSelection",
    "NegativeBinomial",
    "NotFittedError",
    "OnlineEM",
    "Parameter",
    "Poisson",
    "RandomResponsibilities",
    "RandomRows",
    "Setting",
    "SphericalCovariance",
    "Statistics",
    "StatisticsList",
    "Stop",
    "StopWhen",
    "StudentT",
    "TiedCovariance",
    "Tolerance",
    "Uniform",
    "Verbose",
    "VonMises",
    "WeightedSumsComponent",
    "__version__",
    "acceleration",
    "callbacks",
    "constraints",
    "initializers",
    "model_file",
    "select_model",
]
