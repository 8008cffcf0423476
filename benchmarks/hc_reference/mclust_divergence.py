"""Where VVV trees differ from mclust's, check which merge mclust itself makes from scratch.

Needs R with mclust (not a test dependency). Run from the repository root:
``.venv/bin/python benchmarks/hc_reference/mclust_divergence.py``.

For each data set and hcUse, R's ``hc(X, "VVV", use)`` gives the merge sequence on its
transformed data ``Z``. We build our tree on the same ``Z`` (``transform=None``), find the
first step where the merged pairs differ, print both pairs' costs by our criterion, and then
ask mclust's ``hcVVV`` to make one merge starting from our partition at that step (its
cluster factors then are computed afresh, not updated merge by merge).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from mixture.hierarchical import hierarchical_tree

HERE = Path(__file__).resolve().parent

HC = """
library(mclust)
X <- as.matrix(read.csv("{data}"))
h <- hc(X, modelName = "VVV", use = "{use}")
write.csv(attr(h, "data"), "{tmp}/z.csv", row.names = FALSE)
write.csv(t(unclass(h)[1:2, ]), "{tmp}/pairs.csv", row.names = FALSE)
"""

RESTART = """
library(mclust)
Z <- as.matrix(read.csv("{tmp}/z.csv"))
p <- scan("{tmp}/partition.txt", quiet = TRUE)
q <- mclust:::partconv(p, consec = TRUE)
h <- hcVVV(Z, partition = p, minclus = length(unique(p)) - 1)
for (c in unclass(h)[, 1]) cat(min(which(q == c)), "")
"""


def rscript(code: str) -> str:
    return subprocess.run(
        ["Rscript", "-e", code], check=True, capture_output=True, text=True
    ).stdout


def main() -> None:
    for name in ("a", "b"):
        for use in ("VARS", "STD", "SPH", "SVD"):
            with tempfile.TemporaryDirectory() as tmp:
                rscript(HC.format(data=HERE / f"data_{name}.csv", use=use, tmp=tmp))
                Z = np.loadtxt(f"{tmp}/z.csv", delimiter=",", skiprows=1)
                pairs = np.loadtxt(f"{tmp}/pairs.csv", delimiter=",", skiprows=1).astype(int)
                tree = hierarchical_tree(Z, model="VVV", transform=None)
                leaf = tree.leaf_of(Z)
                first_row = np.empty(tree.size, dtype=int)  # 1-based, as R names clusters
                first_row[leaf[::-1]] = np.arange(Z.shape[0], 0, -1)
                for step, (i, j) in enumerate(tree.merges):
                    ours = sorted((int(first_row[i]), int(first_row[j])))
                    if ours != sorted(pairs[step]):
                        break
                    first_row[i] = min(first_row[i], first_row[j])
                else:
                    print(f"{name} {use:4s}: all {tree.size - 1} merges equal")
                    continue
                labels = tree.partition(tree.size - step)[leaf] + 1
                np.savetxt(f"{tmp}/partition.txt", labels, fmt="%d")
                restart = sorted(int(v) for v in rscript(RESTART.format(tmp=tmp)).split())
                print(
                    f"{name} {use:4s}: first differing merge at step {step} of "
                    f"{tree.size - 1}: ours {ours} (cost {tree.costs[step]:.4f}), "
                    f"mclust {sorted(int(v) for v in pairs[step])}; mclust restarted from "
                    f"our partition merges {restart}"
                )


if __name__ == "__main__":
    main()
