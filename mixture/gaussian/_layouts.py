"""Layouts of the features ``f(y)`` of a shifted row ``y`` in the expanded Gaussian
kernels (:mod:`mixture.gaussian.kernels`), as the compiled fused E-step
(:mod:`mixture.gaussian._fused_compiled`) builds them."""

from __future__ import annotations

__all__ = ["PRODUCTS", "SQUARES", "SUM_OF_SQUARES"]

#: ``[y_j^2 for each j ; y]``: diagonal covariance.
SQUARES = 0
#: ``[|y|^2 ; y]``: spherical covariance.
SUM_OF_SQUARES = 1
#: ``[y_i y_j for i <= j, row by row ; y]``: full covariance.
PRODUCTS = 2
