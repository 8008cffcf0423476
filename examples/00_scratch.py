"""EM step by step, with the engine's public E-step and M-step.

Run: python examples/00_scratch.py [snapshots.png]

Synthetic 2-D data from three Gaussians. Each step prints the mean log-likelihood (it never
decreases), checks the responsibilities and the M-step against the formulas of
docs/theory.md written out in numpy, and the run ends with small multiples of the fit after
chosen iterations.
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy.special import logsumexp

from mixture import FullCovariance, GaussianFamily, MixtureEM, RandomRows
from mixture.plotting import em_snapshots


def main(path: str = "em_snapshots.png") -> None:
    rng = np.random.default_rng(7)
    X = np.concatenate(
        [
            rng.multivariate_normal([-3, 0], [[1.0, 0.6], [0.6, 1.0]], 300),
            rng.multivariate_normal([2, 3], [[0.5, 0.0], [0.0, 1.5]], 200),
            rng.multivariate_normal([3, -2], [[1.2, -0.4], [-0.4, 0.6]], 250),
        ]
    )
    em = MixtureEM(GaussianFamily(3, FullCovariance()), initializer=RandomRows(), random_state=4)
    mixture = em.initialize(X)
    snapshots = []
    previous = -np.inf
    for step in range(1, 31):
        # E-step by the formula: r_ik = pi_k p_k(x_i) / sum_j pi_j p_j(x_i), in log space.
        log_joint = np.log(mixture.weights) + mixture.family.log_density(X)
        r = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
        assert np.allclose(r, mixture.predict_proba(X))

        statistics = em.e_step(X, mixture)  # the same, reduced to sufficient statistics
        log_likelihood = statistics.mean_log_likelihood
        assert log_likelihood >= previous - 1e-12  # EM never goes down

        # M-step by the formulas: pi_k = N_k / N, mu_k = sum_i r_ik x_i / N_k, and
        # Sigma_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / N_k + reg_covar I.
        N = r.sum(axis=0)
        means = (r.T @ X) / N[:, None]
        covariances = np.stack(
            [((X - m).T * r[:, k]) @ (X - m) / N[k] for k, m in enumerate(means)]
        ) + 1e-6 * np.eye(2)
        mixture = em.m_step(mixture, statistics)
        assert np.allclose(mixture.weights, N / N.sum())
        assert np.allclose(mixture.family.means, means)
        assert np.allclose(mixture.family.covariances, covariances)

        snapshots.append(mixture)
        print(
            f"step {step:2d}  mean log-likelihood {log_likelihood:.6f}  "
            f"change {log_likelihood - previous:+.2e}"
        )
        previous = log_likelihood

    print("\nfinal weights", mixture.weights.round(3))
    print("final means\n", mixture.family.means.round(2))
    em_snapshots(X, snapshots, [1, 2, 5, 30])
    plt.gcf().suptitle("EM on three Gaussian clusters, after iterations 1, 2, 5 and 30")
    plt.tight_layout()
    plt.savefig(path, dpi=100)
    print(f"\nsnapshots written to {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
