"""Print the markdown tables of README.md from reference_selected.csv and reference_cpu.csv.

Run from the repository root:  .venv/bin/python benchmarks/mclust/tables.py
(standard library only)
"""

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["faithful", "iris", "diabetes", "banknote", "wine", "synthetic"]


def rows(name):
    with open(HERE / name, newline="") as f:
        return list(csv.DictReader(f))


sel = rows("reference_selected.csv")
cpu = rows("reference_cpu.csv") if (HERE / "reference_cpu.csv").exists() else []
for ds in ORDER:
    print(f"**{ds}**\n")
    print("| prior | scope | BIC: model,K | BIC (mclust) | ICL: model,K | ICL (mclust) |")
    print("|---|---|---|---:|---|---:|")
    for prior in ["none", "default"]:
        for scope in ["shared4", "all14"]:
            r = {
                x["criterion"]: x
                for x in sel
                if x["dataset"] == ds and x["prior"] == prior and x["scope"] == scope
            }
            b, i = r["BIC"], r["ICL"]
            label = f"{scope} ({b['n_models']} models)" if scope == "all14" else scope
            print(
                f"| {prior} | {label} | {b['model']},{b['K']} | {float(b['value']):.3f} "
                f"| {i['model']},{i['K']} | {float(i['value']):.3f} |"
            )
    print()
if cpu:
    print(
        "| data set | n x d | 14 x 9 tight | 4 x 9 tight | 14 x 9 tight+prior | 4 x 9 tight+prior "
        "| 14 x 9 default tol | 4 x 9 default tol | reps |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for ds in ORDER:
        r = {(x["scope"], x["prior"], x["control"]): x for x in cpu if x["dataset"] == ds}
        if not r:
            continue
        keys = [
            ("all14", "none", "tight"),
            ("shared4", "none", "tight"),
            ("all14", "default", "tight"),
            ("shared4", "default", "tight"),
            ("all14", "none", "default"),
            ("shared4", "none", "default"),
        ]
        any_ = next(iter(r.values()))
        cells = " | ".join(f"{float(r[k]['cpu_median_s']):.2f}" if k in r else "" for k in keys)
        print(f"| {ds} | {any_['n']} x {any_['d']} | {cells} | {any_['reps']} |")
