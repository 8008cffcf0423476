"""Sufficient statistics of K Gaussian components, additive across row chunks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mixture.contract import Statistics
from mixture.gaussian.covariance import CovarianceStructure

__all__ = ["GaussianStatistics"]


@dataclass(frozen=True, eq=False)
class GaussianStatistics(Statistics):
    """Weight, weighted mean and centred scatter of each component's rows.

    Each chunk's scatter is taken about that chunk's own weighted mean, and two chunks merge
    with the pairwise update of Chan, Golub and LeVeque (1979)::

        w = w_a + w_b
        mean = mean_a + (w_b / w) (mean_b - mean_a)
        scatter = scatter_a + scatter_b + (w_a w_b / w) (mean_b - mean_a)(mean_b - mean_a)^T

    This is exact algebra, needs no reference point, and never forms the raw second moment,
    so it stays accurate on data far from the origin.

    Attributes
    ----------
    weight : ndarray of shape (n_components,)
        Summed row weight of each component.
    mean : ndarray of shape (n_components, n_features)
        Weighted mean of each component's rows (meaningless where the weight is 0).
    scatter : ndarray
        Centred scatter in the shape of the structure's form (see
        :mod:`mixture.gaussian.moments`).
    structure : CovarianceStructure
    """

    weight: np.ndarray
    mean: np.ndarray
    scatter: np.ndarray
    structure: CovarianceStructure

    @classmethod
    def of_rows(
        cls, X: np.ndarray, weights: np.ndarray, structure: CovarianceStructure
    ) -> GaussianStatistics:
        """Statistics of one chunk.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        weights : ndarray of shape (n_samples, n_components)
        structure : CovarianceStructure
        """
        if X.shape[0] == 0:  # the identity of +
            n_components, n_features = weights.shape[1], X.shape[1]
            return cls(
                np.zeros(n_components),
                np.zeros((n_components, n_features)),
                np.zeros(structure.form.shape(n_components, n_features)),
                structure,
            )
        # The structure's form computes the chunk's weight, weighted means and scatter about
        # those means (mixture.gaussian.moments).
        weight, mean, scatter = structure.form.chunk_moments(X, weights)
        return cls(weight, mean, scatter, structure)

    def __add__(self, other: Statistics) -> GaussianStatistics:
        if not isinstance(other, GaussianStatistics):
            return NotImplemented
        if other.structure != self.structure or other.mean.shape != self.mean.shape:
            raise ValueError(
                f"cannot add statistics of {other.structure!r} with shape {other.mean.shape} to "
                f"statistics of {self.structure!r} with shape {self.mean.shape}"
            )
        total = self.weight + other.weight
        share = np.divide(other.weight, total, out=np.zeros_like(total), where=total > 0)
        delta = other.mean - self.mean
        mean = self.mean + share[:, None] * delta
        factor = self.weight * share  # = w_a w_b / (w_a + w_b)
        scatter = self.scatter + other.scatter
        scatter += self.structure.form.merge_term(delta, factor)
        return GaussianStatistics(total, mean, scatter, self.structure)

    def scale(self, factor: float) -> GaussianStatistics:
        return GaussianStatistics(
            self.weight * factor, self.mean, self.scatter * factor, self.structure
        )

    @property
    def total_weight(self) -> float:
        return float(self.weight.sum())
