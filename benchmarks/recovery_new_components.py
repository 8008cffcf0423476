"""Parameter recovery of the gamma, log-normal, negative binomial and von Mises components.

For each, R data sets are drawn from a known two-component mixture, each is fitted by EM
(three starts, run to a tolerance of 1e-8 per row: the default 1e-3 stops the slowly
converging negative-binomial mixture far from its maximum), and the estimates are compared
with the truth in standard errors: the bias of the mean estimate over the replicates
divided by its standard error (sd / sqrt(R)). A consistent estimator gives |z| of a few
units at most; the table also gives the spread of one fit (sd) next to the truth.

Run: python benchmarks/recovery_new_components.py [--replicates R] [--rows N]
Prints a markdown table; z = bias / (sd / sqrt(R)).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from mixture import Gamma, LogNormal, Mixture, MixtureEM, NegativeBinomial, VonMises

CASES = {
    "Gamma": (
        [Gamma([2.0], [4.0]), Gamma([9.0], [1.0])],
        Gamma([1.0], [1.0]),
        ("shape", "rate"),
    ),
    "LogNormal": (
        [LogNormal([0.0], [0.3], reg_var=0.0), LogNormal([2.0], [0.4], reg_var=0.0)],
        LogNormal([1.0], [1.0], reg_var=0.0),
        ("mu", "sigma"),
    ),
    "NegativeBinomial": (
        [NegativeBinomial([3.0], [2.0]), NegativeBinomial([30.0], [5.0])],
        NegativeBinomial([10.0], [1.0]),
        ("mean", "size"),
    ),
    "VonMises": (
        [VonMises([-2.6], [4.0]), VonMises([1.2], [8.0])],
        VonMises([0.0], [1.0]),
        ("loc", "concentration"),
    ),
}
WEIGHTS = np.array([0.4, 0.6])


def _order_key(component: object) -> float:
    first = next(iter(component.parameters.values()))  # type: ignore[attr-defined]
    return float(first[0])


def replicate_estimates(name: str, replicates: int, rows: int) -> dict[str, np.ndarray]:
    """Estimates of every parameter (and the weight of the first component), one row per
    replicate, components ordered by their first parameter."""
    truth, template, names = CASES[name]
    model = Mixture(WEIGHTS, truth)
    out: dict[str, list[float]] = {}
    for r in range(replicates):
        X, _ = model.sample(rows, random_state=1000 + r)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            engine = MixtureEM(
                [template, template], n_init=3, tol=1e-8, max_iter=5000, random_state=r
            )
            fit = engine.fit(X)
        order = np.argsort([_order_key(c) for c in fit.components])
        out.setdefault("weight[0]", []).append(float(fit.weights[order[0]]))
        for k, index in enumerate(order):
            component = fit.components[index]
            for parameter in names:
                value = float(getattr(component, parameter)[0])
                out.setdefault(f"{parameter}[{k}]", []).append(value)
    return {key: np.array(values) for key, values in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=50)
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    print(f"R = {args.replicates} replicates of n = {args.rows} rows, weights {WEIGHTS.tolist()}")
    print()
    print(
        "| component | parameter | truth | mean estimate | sd of one fit | z = bias / (sd/sqrt R) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, (truth, _, names) in CASES.items():
        estimates = replicate_estimates(name, args.replicates, args.rows)
        truths = {"weight[0]": WEIGHTS[0]}
        for k, component in enumerate(truth):
            for parameter in names:
                truths[f"{parameter}[{k}]"] = float(getattr(component, parameter)[0])
        for key, values in estimates.items():
            sd = float(values.std(ddof=1))
            z = (values.mean() - truths[key]) / (sd / np.sqrt(values.size))
            print(
                f"| {name} | {key} | {truths[key]:.4g} | {values.mean():.4g} | {sd:.3g} "
                f"| {z:+.2f} |"
            )


if __name__ == "__main__":
    main()
