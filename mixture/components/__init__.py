"""Component types beyond the Gaussians, one module each."""

from mixture.components.bernoulli import Bernoulli
from mixture.components.categorical import Categorical
from mixture.components.exponential import Exponential
from mixture.components.independent import Independent
from mixture.components.poisson import Poisson
from mixture.components.student_t import StudentT
from mixture.components.uniform import Uniform

__all__ = [
    "Bernoulli",
    "Categorical",
    "Exponential",
    "Independent",
    "Poisson",
    "StudentT",
    "Uniform",
]
