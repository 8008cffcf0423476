"""
Student-t components resist outliers that drag Gaussian components away
=======================================================================

Three elongated clusters plus 5% gross outliers spread over a box ten times wider. A
three-component Gaussian mixture and a three-component Student-t mixture (4 degrees of
freedom) are fitted from the same starts; the script prints how far each lands from the true
cluster centres and shapes, and plots both fits: over every row (all outliers in view), and
zoomed on the clusters.

Run: python examples/04_student_t.py [robustness.png]
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from mixture import ComponentList, GaussianFamily, MixtureEM, RandomRows, StudentT
from mixture.plotting import scatter

CENTRES = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
SHAPES = np.array([[[1.0, 0.3], [0.3, 0.5]], [[0.6, -0.2], [-0.2, 0.8]], [[0.8, 0.0], [0.0, 0.4]]])


def simulate(rng: np.random.Generator) -> np.ndarray:
    clusters = np.concatenate(
        [rng.multivariate_normal(c, s, 3000) for c, s in zip(CENTRES, SHAPES, strict=True)]
    )
    low, high = clusters.min(axis=0), clusters.max(axis=0)
    outliers = rng.uniform(low - 4.5 * (high - low), high + 4.5 * (high - low), (450, 2))
    return np.concatenate([clusters, outliers])


def centre_error(centres: np.ndarray) -> float:
    """Largest distance from a true centre to the nearest fitted one."""
    return float(max(np.linalg.norm(centres - c, axis=1).min() for c in CENTRES))


def _rows_in_view(rows: np.ndarray, ax) -> int:
    """How many rows lie inside the axes' limits."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    inside = (rows[:, 0] >= x0) & (rows[:, 0] <= x1) & (rows[:, 1] >= y0) & (rows[:, 1] <= y1)
    return int(inside.sum())


def main(path: str = "robustness.png") -> None:
    X = simulate(np.random.default_rng(1))
    options = {"initializer": RandomRows(), "n_init": 5, "random_state": 0, "max_iter": 500}
    gaussian = MixtureEM(GaussianFamily(3), **options).fit(X)
    t_components = [StudentT(np.zeros(2), np.eye(2), 4.0, estimate_df=False) for _ in range(3)]
    student = MixtureEM(ComponentList(t_components), **options).fit(X)

    gaussian_centres = gaussian.family.means
    t_centres = np.array([c.loc for c in student.components])
    print(f"largest centre error, Gaussian mixture:  {centre_error(gaussian_centres):.3f}")
    print(f"largest centre error, Student-t mixture: {centre_error(t_centres):.3f}")
    print("\nGaussian weights ", gaussian.weights.round(3))
    print("Student-t weights", student.weights.round(3))
    print("\nGaussian covariances (one absorbs the outliers):")
    print(np.round(gaussian.family.covariances, 2))

    # Top row: every row, so the 450 outliers spread over the wide box are all in view.
    # Bottom row: the same fits zoomed on the three clusters.
    figure, axes = plt.subplots(2, 2, figsize=(11, 10), layout="constrained")
    for column, (fit, name) in enumerate(((gaussian, "Gaussian"), (student, "Student-t"))):
        for row in range(2):
            ax = axes[row, column]
            scatter(X, fit, sigmas=(1, 2) if fit is gaussian else (), ax=ax)
            ax.scatter(*CENTRES.T, marker="+", s=150, color="black", label="true centres")
        centres = gaussian_centres if fit is gaussian else t_centres
        axes[0, column].scatter(*centres.T, marker="x", s=80, color="black")
        axes[0, column].set_title(f"{name} mixture: all {len(X)} rows")
        axes[1, column].scatter(*centres.T, marker="x", s=80, color="black")
        axes[1, column].set_title(f"{name} mixture, zoomed (x: fitted centres)")
        axes[1, column].set_xlim(-6, 14)
        axes[1, column].set_ylim(-6, 14)
    axes[0, 1].legend(loc="upper right")
    shown = _rows_in_view(X[-450:], axes[0, 0])
    print(f"outliers inside the full view: {shown} of 450")
    figure.savefig(path, dpi=100)
    print(f"\nplot written to {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
