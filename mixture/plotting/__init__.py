"""Plots of data and fitted mixtures (matplotlib).

Every function takes a fitted :class:`~mixture.GaussianMixture`, a
:class:`~mixture.MixtureResult` or a :class:`~mixture.Mixture` (:func:`as_mixture`). The
building blocks draw on a given Axes (or a new one) and return it; :func:`plot_fit` and
:func:`plot_selection` make a whole figure in one call and return it.

Ellipses, marginal densities and the pairwise grid's density curves need components with a
``mean`` and a ``covariance_matrix`` (the Gaussians); other components still get
classification, uncertainty, criterion curves and traces. See docs/plotting.md.
"""

from __future__ import annotations

from mixture.plotting._models import as_mixture
from mixture.plotting.criteria import criterion_curves, plot_selection, visible_range
from mixture.plotting.grids import pairwise, plot_fit
from mixture.plotting.points import density_contours, histogram, scatter, uncertainty
from mixture.plotting.traces import em_snapshots, log_likelihood_trace

__all__ = [
    "as_mixture",
    "criterion_curves",
    "density_contours",
    "em_snapshots",
    "histogram",
    "log_likelihood_trace",
    "pairwise",
    "plot_fit",
    "plot_selection",
    "scatter",
    "uncertainty",
    "visible_range",
]
