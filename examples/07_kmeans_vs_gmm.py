"""K-means against a Gaussian mixture
==================================

K-means and a full-covariance Gaussian mixture on the same elongated, parallel clusters:
hard against soft assignment, spherical against elliptical clusters.

Run: python examples/07_kmeans_vs_gmm.py [kmeans_vs_gmm.png]

K-means gives every row to its nearest centre (a hard 0/1 assignment), which implicitly
assumes round clusters of equal size: on three long clusters lying side by side it cuts
across them. The Gaussian mixture gives every row responsibilities ``gamma_nk`` (a soft
assignment, summing to 1) and every cluster its own covariance ``Sigma_k``, an ellipse of
any orientation, and recovers the three clusters; the rows where two clusters overlap
keep mixed responsibilities. The example prints the adjusted Rand index of each partition
against the true clusters (1 for a perfect match, about 0 for a random one) and draws the
truth, the k-means partition, the mixture's responsibilities (each row's colour mixes the
components' colours in the proportions ``gamma_nk``) with 1- and 2-sigma ellipses, and the
mixture's uncertainty ``1 - max_k gamma_nk``.

========================  ==========================  ===============================
                          k-means                     Gaussian mixture
========================  ==========================  ===============================
assignment                hard: 0 or 1                soft: ``gamma_nk`` in [0, 1]
cluster shape             spheres of equal size       ellipses ``Sigma_k``, any size
fitted by                 Lloyd's iterations          EM (maximum likelihood)
========================  ==========================  ===============================
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from mixture import GaussianMixture
from mixture.plotting import uncertainty

COLOURS = np.array(plt.get_cmap("tab10").colors[:3])


def elongated_clusters(n_per_cluster: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Three long parallel clusters (standard deviations 3 and 0.45, tilted by 30 degrees)
    whose centres are 2.6 apart, less than the clusters are long."""
    rng = np.random.default_rng(0)
    angle = np.radians(30.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    covariance = rotation @ np.diag([3.0**2, 0.45**2]) @ rotation.T
    centres = [(0.0, -2.6), (0.0, 0.0), (0.0, 2.6)]
    X = np.concatenate([rng.multivariate_normal(c, covariance, n_per_cluster) for c in centres])
    return X, np.repeat(np.arange(3), n_per_cluster)


def matched(labels: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The permutation of cluster numbers that best agrees with ``truth`` (for the colours)."""
    counts = np.zeros((3, 3))
    np.add.at(counts, (labels, truth), 1)
    rows, columns = linear_sum_assignment(-counts)
    permutation = np.empty(3, dtype=int)
    permutation[rows] = columns
    return permutation


def draw_ellipses(ax, means: np.ndarray, covariances: np.ndarray) -> None:
    for mean, covariance, colour in zip(means, covariances, COLOURS, strict=True):
        values, vectors = np.linalg.eigh(covariance)
        angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1]))
        for sigma, style in ((1, "-"), (2, "--")):
            width, height = 2 * sigma * np.sqrt(values[::-1])
            dark = 0.55 * colour  # darker than the rows it surrounds
            ellipse = Ellipse(mean, width, height, angle=angle, fill=False, color=dark)
            ellipse.set(linestyle=style, linewidth=1.8, zorder=3)
            ax.add_patch(ellipse)


def main(path: str = "kmeans_vs_gmm.png") -> None:
    X, truth = elongated_clusters()
    kmeans = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X)
    gmm = GaussianMixture(n_components=3, covariance_type="full", n_init=5, random_state=0)
    gmm.fit(X)

    hard = kmeans.labels_
    gamma = gmm.predict_proba(X)  # (N, K) responsibilities
    soft = gamma.argmax(axis=1)
    uncertain = float(np.mean(gamma.max(axis=1) < 0.9))
    ari_kmeans = adjusted_rand_score(truth, hard)
    ari_gmm = adjusted_rand_score(truth, soft)
    print(f"adjusted Rand index, k-means:          {ari_kmeans:.3f}")
    print(f"adjusted Rand index, Gaussian mixture: {ari_gmm:.3f}")
    print(
        f"rows with no responsibility above 0.9: {100 * uncertain:.1f}% (k-means: none, by design)"
    )

    # Number the clusters of each method as the truth does, so colours correspond.
    to_truth_kmeans, to_truth_gmm = matched(hard, truth), matched(soft, truth)
    figure, axes = plt.subplots(2, 2, figsize=(11, 9), layout="constrained")
    (truth_ax, kmeans_ax), (gmm_ax, uncertainty_ax) = axes
    truth_ax.scatter(X[:, 0], X[:, 1], c=COLOURS[truth], s=8)
    truth_ax.set_title("the three true clusters")
    kmeans_ax.scatter(X[:, 0], X[:, 1], c=COLOURS[to_truth_kmeans[hard]], s=8)
    centres = kmeans.cluster_centers_
    kmeans_ax.scatter(centres[:, 0], centres[:, 1], marker="x", s=120, color="black")
    kmeans_ax.set_title(f"k-means: hard, round clusters (ARI {ari_kmeans:.2f})")
    order = np.argsort(to_truth_gmm)  # mixture component of each true cluster
    mixed = gamma[:, order] @ COLOURS  # each row: the colours mixed by gamma_nk
    gmm_ax.scatter(X[:, 0], X[:, 1], c=np.clip(mixed, 0, 1), s=8)
    fitted = gmm.result_.family
    draw_ellipses(gmm_ax, fitted.means[order], fitted.covariance_matrices[order])
    gmm_ax.set_title(f"Gaussian mixture: soft $\\gamma_{{nk}}$, ellipses (ARI {ari_gmm:.2f})")
    uncertainty(X, gmm, ax=uncertainty_ax)
    uncertainty_ax.set_title("Gaussian mixture: uncertainty, 1 - the row's largest $\\gamma_{nk}$")
    low, high = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    for ax in axes.flat:
        ax.set_xlim(low[0], high[0])
        ax.set_ylim(low[1], high[1])
        ax.set_aspect("equal")
        ax.set_xlabel("feature 0")
        ax.set_ylabel("feature 1")
    figure.savefig(path, dpi=90)
    print(f"figure written to {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
