"""EM step by step
===============

EM run one step at a time with the engine's public ``responsibilities``, ``e_step`` and
``m_step``, checked against the formulas of docs/theory.md written out in numpy.

Run: python examples/00_scratch.py [snapshots.png]

Synthetic 2-D data from three Gaussians, started from three random rows. Each step prints
the mean log-likelihood per row of the current parameters (it never decreases) and, from the
second step on, its change since the previous step; the responsibilities ``gamma_nk`` and
the M-step are checked against numpy. The run ends with small multiples of the fit after
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
        # E-step by the formula: gamma_nk = pi_k p_k(x_n) / sum_j pi_j p_j(x_n), in log space.
        log_joint = np.log(mixture.weights) + mixture.family.log_density(X)
        gamma = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
        assert np.allclose(gamma, em.responsibilities(X, mixture))  # the engine's, (N, K)

        statistics = em.e_step(X, mixture)  # the same, reduced to sufficient statistics
        log_likelihood = statistics.mean_log_likelihood
        assert log_likelihood >= previous - 1e-12  # EM never goes down

        # M-step by the formulas: pi_k = N_k / N, mu_k = sum_n gamma_nk x_n / N_k, and
        # Sigma_k = sum_n gamma_nk (x_n - mu_k)(x_n - mu_k)^T / N_k + reg_covar I.
        N_k = gamma.sum(axis=0)
        assert np.allclose(N_k, statistics.component_weight)
        means = (gamma.T @ X) / N_k[:, None]
        covariances = np.stack(
            [((X - m).T * gamma[:, k]) @ (X - m) / N_k[k] for k, m in enumerate(means)]
        ) + 1e-6 * np.eye(2)
        mixture = em.m_step(mixture, statistics)
        assert np.allclose(mixture.weights, N_k / N_k.sum())
        assert np.allclose(mixture.family.means, means)
        assert np.allclose(mixture.family.covariances, covariances)

        snapshots.append(mixture)
        # The first step has no previous value to compare with.
        change = "" if step == 1 else f"  change {log_likelihood - previous:+.2e}"
        print(f"step {step:2d}  mean log-likelihood {log_likelihood:.6f}{change}")
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
