"""EM on Old Faithful, step by step (Bishop's Figure 9.8)
======================================================

Two Gaussians fitted by EM to the standardised Old Faithful data from a deliberately poor
start, drawn at the start and after 1, 2, 5 and 20 iterations, as in Figure 9.8 of
Bishop's *Pattern Recognition and Machine Learning*.

Run: python examples/08_em_steps.py [em_steps.png]

Each row is coloured by its responsibilities under the parameters of the panel
(``shading="responsibilities"``): component 1's colour, component 2's, and a mix of the
two in the proportions ``gamma_n1 : gamma_n2`` for rows the components share. The ellipses
are each component's 1-sigma contour. The start (means at (-1.5, 0.5) and (1.5, -0.5),
unit covariances, equal weights) lies across the two groups of eruptions; after one
iteration each component has moved to the rows it was responsible for, and within a few
more the two ellipses settle on the short and the long eruptions. The last panel is the
mean log-likelihood per row at each iteration (of the parameters before that iteration's
M-step), which never decreases.
``History(keep_mixtures=True)`` records the mixture after every iteration.
"""

from __future__ import annotations

import sys
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from mixture import ConvergenceWarning, GaussianFamily, GivenParameters, History, Mixture, MixtureEM
from mixture.datasets import load_faithful
from mixture.plotting import em_snapshots, log_likelihood_trace


def main(path: str = "em_steps.png") -> None:
    X, names = load_faithful()
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # standardised, as in the book
    family = GaussianFamily(2, means=[[-1.5, 0.5], [1.5, -0.5]], covariances=[np.eye(2)] * 2)
    start = Mixture([0.5, 0.5], family)  # a deliberately poor start
    history = History(keep_mixtures=True)  # records the mixture after every iteration
    em = MixtureEM(GaussianFamily(2), initializer=GivenParameters(start), tol=None,
                   max_iter=20, callbacks=[history])  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # no tolerance: "unconverged"
        result = em.fit(X)

    figure, axes = plt.subplots(2, 3, figsize=(11, 7.4), layout="constrained")
    em_snapshots(X, history.mixtures(), [0, 1, 2, 5, 20], start=start,
                 shading="responsibilities", sigmas=(1,), axes=axes.flat[:5])  # fmt: skip
    for ax in axes.flat[:5]:
        ax.set(xlim=(-2.7, 2.7), ylim=(-2.7, 2.7), box_aspect=1)
    log_likelihood_trace(result, ax=axes.flat[5]).set_box_aspect(1)
    axes.flat[5].set(title="mean log-likelihood per row", ylabel="L / N")
    figure.suptitle(f"EM on Old Faithful (standardised {names[0]} and {names[1]})")
    figure.savefig(path, dpi=90)

    for t in (1, 2, 5, 20):
        print(f"iteration {t:2d}: mean log-likelihood {result.log_likelihood_history[t - 1]:.4f}")
    print("final means (standardised):", result.family.means.round(2).tolist())
    print(f"figure written to {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
