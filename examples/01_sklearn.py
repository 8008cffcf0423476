"""
Side by side with scikit-learn, then model selection by AIC and BIC
===================================================================

The same synthetic data fitted by sklearn.mixture.GaussianMixture and by
mixture.GaussianMixture from the same starting parameters: the script prints how closely
they agree. Then mixture.select_model scores 1 to 6 components for every covariance
structure and the AIC and BIC curves are plotted.

Run: python examples/01_sklearn.py [criteria.png]
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from mixture import GaussianMixture, select_model
from mixture.plotting import criterion_curves


def relative_difference(ours: np.ndarray, theirs: np.ndarray) -> float:
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    return float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)))


def main(path: str = "criteria.png") -> None:
    rng = np.random.default_rng(1)
    X = np.concatenate(
        [
            rng.multivariate_normal([0, 0], [[1.0, 0.5], [0.5, 1.0]], 400),
            rng.multivariate_normal([4, 4], [[0.6, -0.2], [-0.2, 0.8]], 300),
            rng.multivariate_normal([-3, 5], [[0.4, 0.0], [0.0, 2.0]], 300),
        ]
    )
    start = {
        "weights_init": [1 / 3, 1 / 3, 1 / 3],
        "means_init": X[[0, 500, 900]],
        "precisions_init": np.tile(np.eye(2), (3, 1, 1)),
    }
    print("covariance  iterations  max relative difference of means / covariances / lower bound")
    for covariance_type in ("full", "tied", "diag", "spherical"):
        precisions = {
            "full": start["precisions_init"],
            "tied": np.eye(2),
            "diag": np.ones((3, 2)),
            "spherical": np.ones(3),
        }[covariance_type]
        options = {**start, "precisions_init": precisions, "tol": 1e-6, "max_iter": 500}
        theirs = SklearnGaussianMixture(3, covariance_type=covariance_type, **options).fit(X)
        ours = GaussianMixture(3, covariance_type=covariance_type, **options).fit(X)
        assert ours.n_iter_ == theirs.n_iter_
        print(
            f"{covariance_type:<10}  {ours.n_iter_:>10}  "
            f"{relative_difference(ours.means_, theirs.means_):.1e} / "
            f"{relative_difference(ours.covariances_, theirs.covariances_):.1e} / "
            f"{relative_difference(ours.lower_bound_, theirs.lower_bound_):.1e}"
        )

    selection = select_model(X, n_components=range(1, 7), random_state=0)
    print(f"\n{selection}")
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    criterion_curves(selection, criterion="bic", ax=left)
    criterion_curves(selection, criterion="aic", ax=right)
    left.set_title("BIC")
    right.set_title("AIC")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    print(f"\nplot written to {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
