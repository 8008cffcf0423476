"""
A mixture over a table of mixed columns: numbers, a category and a count
========================================================================

Each row is a customer: two numeric columns (spend, session minutes), a categorical
column (channel: 0 web, 1 app, 2 shop) and a count (visits last month). Each mixture
component is an Independent product of a Gaussian over the numeric columns, a Categorical
over the channel and a Poisson over the visits. select_model picks the number of segments by
BIC; the fitted segments are printed next to the truth.

Run: python examples/05_mixed_types.py
"""

from __future__ import annotations

import numpy as np

from mixture import (
    Categorical,
    ComponentList,
    FullCovariance,
    Gaussian,
    Independent,
    Poisson,
    select_model,
)

TRUTH = [  # weight, (spend, minutes) mean, channel probabilities, mean visits
    (0.5, (40.0, 12.0), (0.7, 0.2, 0.1), 2.0),
    (0.3, (120.0, 35.0), (0.1, 0.8, 0.1), 9.0),
    (0.2, (75.0, 5.0), (0.1, 0.1, 0.8), 4.0),
]
COVARIANCE = np.array([[225.0, 20.0], [20.0, 16.0]])


def simulate(n_rows: int, rng: np.random.Generator) -> np.ndarray:
    segment = rng.choice(len(TRUTH), size=n_rows, p=[t[0] for t in TRUTH])
    rows = np.empty((n_rows, 4))
    for k, (_, mean, channel, visits) in enumerate(TRUTH):
        members = segment == k
        count = int(members.sum())
        rows[members, :2] = rng.multivariate_normal(mean, COVARIANCE, count)
        rows[members, 2] = rng.choice(3, size=count, p=channel)
        rows[members, 3] = rng.poisson(visits, count)
    return rows


def segment_template() -> Independent:
    """One segment: Gaussian over columns 0-1, channel in column 2, visits in column 3."""
    return Independent(
        [
            Gaussian([0.0, 0.0], np.eye(2), structure=FullCovariance()),
            Categorical([[1 / 3, 1 / 3, 1 / 3]]),
            Poisson([1.0]),
        ],
        [[0, 1], [2], [3]],
    )


def main() -> None:
    X = simulate(6000, np.random.default_rng(0))
    selection = select_model(
        X,
        n_components=[1, 2, 3, 4, 5],
        models={
            "gaussian x categorical x poisson": lambda k: ComponentList(
                [segment_template() for _ in range(k)]
            )
        },
        n_init=3,
        random_state=0,
    )
    for candidate in selection.candidates:
        print(f"K={candidate.n_components}  BIC {candidate.bic:12.1f}")
    best = selection.best_model
    print(f"\nselected {best.n_components} segments\n")
    order = np.argsort(-best.weights)
    for rank, k in enumerate(order):
        gaussian, channel, visits = best.components[k].parts
        truth = TRUTH[rank]
        print(f"segment {rank}: weight {best.weights[k]:.3f} (true {truth[0]})")
        print(f"  spend, minutes {np.round(gaussian.mean, 1)} (true {truth[1]})")
        print(f"  channel probs  {np.round(channel.probs[0], 3)} (true {truth[2]})")
        print(f"  mean visits    {visits.rate[0]:.2f} (true {truth[3]})")


if __name__ == "__main__":
    main()
