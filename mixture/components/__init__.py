"""Component types beyond the Gaussians, one module each."""

from mixture.components.uniform import Uniform

__all__ = ["Uniform"]
