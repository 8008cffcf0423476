"""Compare mixture.hierarchical with the committed mclust ``hc`` partitions, and time it.

Run from the repository root: ``.venv/bin/python benchmarks/hc_reference/compare.py``.
Prints, for each data set, model and transform, the K in 1..9 whose partition equals
mclust's up to relabelling, then the time to build the tree on 2,000 x 5 rows.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from mixture.hierarchical import hierarchical_tree

HERE = Path(__file__).resolve().parent
USES = {"SVD": "svd", "SPH": "sph", "STD": "std", "VARS": None}


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labelings are equal up to relabelling."""
    pairs = np.unique(np.stack([a, b]), axis=1).shape[1]
    return pairs == np.unique(a).size == np.unique(b).size


def main() -> None:
    for data in sorted(HERE.glob("data_*.csv")):
        name = data.stem.removeprefix("data_")
        X = np.loadtxt(data, delimiter=",", skiprows=1)
        for model in ("VVV", "EII"):
            for use, transform in USES.items():
                reference = np.loadtxt(
                    HERE / f"hc_{name}_{model}_{use}.csv", delimiter=",", skiprows=1
                ).astype(int)
                tree = hierarchical_tree(X, model=model, transform=transform)
                leaf = tree.leaf_of(X)
                agree = [
                    k
                    for k in range(1, 10)
                    if same_partition(reference[:, k - 1], tree.partition(k)[leaf])
                ]
                print(f"{name} {X.shape} {model} {use:4s}: equal at K = {agree}")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2000, 5)) + 6.0 * (rng.random(2000) > 0.5)[:, None]
    for model in ("VVV", "EII"):
        start = time.perf_counter()
        hierarchical_tree(X, model=model)
        print(
            f"hierarchical_tree(model={model!r}) on 2000 x 5: {time.perf_counter() - start:.2f} s"
        )


if __name__ == "__main__":
    main()
