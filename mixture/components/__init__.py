"""Component types beyond the Gaussians, one module each."""

from mixture.components.bernoulli import Bernoulli
from mixture.components.categorical import Categorical
from mixture.components.exponential import Exponential
from mixture.components.frozen import Frozen
from mixture.components.gamma import Gamma
from mixture.components.independent import Independent
from mixture.components.lognormal import LogNormal
from mixture.components.negative_binomial import NegativeBinomial
from mixture.components.poisson import Poisson
from mixture.components.student_t import StudentT
from mixture.components.uniform import Uniform
from mixture.components.von_mises import VonMises

__all__ = [
    "Bernoulli",
    "Categorical",
    "Exponential",
    "Frozen",
    "Gamma",
    "Independent",
    "LogNormal",
    "NegativeBinomial",
    "Poisson",
    "StudentT",
    "Uniform",
    "VonMises",
]
