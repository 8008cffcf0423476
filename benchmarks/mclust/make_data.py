"""Write wine.csv and synthetic.csv into benchmarks/mclust/data/.

Run from the repository root:  .venv/bin/python benchmarks/mclust/make_data.py

wine: the UCI wine recognition data as bundled with scikit-learn
(sklearn.datasets.load_wine), 178 x 13, feature columns only (no target).

synthetic: 5,000 x 5 draws from a 4-component Gaussian mixture with
different (full, rotated) covariances, moderately overlapping (Bayes-rule
accuracy with the true parameters about 95%); recipe below,
numpy.random.default_rng(20240521); values rounded to 6 decimals.
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_wine

OUT = Path(__file__).resolve().parent / "data"
OUT.mkdir(parents=True, exist_ok=True)


def write_csv(path, header, X, fmt):
    with open(path, "w", newline="\n") as f:
        f.write(",".join(header) + "\n")
        np.savetxt(f, X, delimiter=",", fmt=fmt)
    print(f"{path.name:14s} {X.shape[0]:5d} x {X.shape[1]}")


def wine():
    w = load_wine()
    write_csv(OUT / "wine.csv", w.feature_names, w.data, "%.10g")


def synthetic_params():
    """Weights, means and covariances of the 4-component generating mixture (d = 5)."""
    d = 5
    weights = np.array([0.35, 0.30, 0.20, 0.15])
    means = np.array(
        [
            [0.0, 0.0, 0.0, 0.0, 0.0],
            [2.4, 0.8, 0.0, -0.8, 0.4],
            [-0.8, 2.8, 1.2, 0.4, -0.8],
            [1.2, -0.8, 2.8, 1.6, 0.8],
        ]
    )
    # covariance k = R_k diag(s_k^2) R_k^T with a random rotation R_k
    scales = np.array(
        [
            [1.0, 1.0, 1.0, 1.0, 1.0],  # spherical-ish
            [2.0, 1.0, 0.6, 0.5, 0.4],  # elongated
            [0.5, 0.5, 1.5, 1.0, 0.8],
            [1.2, 0.3, 0.8, 0.6, 1.5],
        ]
    )
    rot_rng = np.random.default_rng(7)
    covs = []
    for k in range(4):
        q, r = np.linalg.qr(rot_rng.standard_normal((d, d)))
        q = q * np.sign(np.diag(r))
        covs.append(q @ np.diag(scales[k] ** 2) @ q.T)
    return weights, means, np.array(covs)


def synthetic(n=5000, seed=20240521):
    weights, means, covs = synthetic_params()
    rng = np.random.default_rng(seed)
    labels = rng.choice(len(weights), size=n, p=weights)
    X = np.empty((n, means.shape[1]))
    for k in range(len(weights)):
        idx = np.flatnonzero(labels == k)
        X[idx] = rng.multivariate_normal(means[k], covs[k], size=idx.size)
    X = np.round(X, 6)
    write_csv(OUT / "synthetic.csv", [f"x{j + 1}" for j in range(X.shape[1])], X, "%.6f")
    np.savetxt(OUT / "synthetic_labels.txt", labels + 1, fmt="%d")


if __name__ == "__main__":
    wine()
    synthetic()
