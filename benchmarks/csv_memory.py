"""Peak memory of reading a large CSV with ``mixture.tables.read_table``.

Run: python benchmarks/csv_memory.py [--mb 200] [--columns 10] [--stdin] [--fit]

Writes a CSV of about ``--mb`` megabytes (random floats written with repr) into a temporary
folder, reads it in a fresh Python process (from the path, or piped to standard input with
``--stdin``), and prints that process's peak resident set size (``getrusage``), its resident
size just before reading, the time taken and the size of the array read. The temporary
folder is removed afterwards. Goal: a 200 MB CSV reads within 500 MB of peak RSS.

With ``--fit`` it also runs the command line on the file, ``mixture fit FILE -k 2 -c full
--save ... --labels ...`` (read, fit, model file and per-row labels), in a child process, and
prints that process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MB = 1024**2
ROWS_PER_WRITE = 20_000

# The reading process: reports its own peak RSS (ru_maxrss is in KiB on Linux).
CHILD = """
import json, resource, sys, time
from mixture.tables import read_table

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
table = read_table(sys.argv[1])
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kib": before, "peak_kib": peak, "seconds": seconds,
                  "shape": list(table.X.shape), "nbytes": table.X.nbytes}))
"""


def write_csv(path: Path, megabytes: float, n_columns: int, seed: int = 0) -> int:
    """Write a header and rows of random floats (repr) until ``megabytes``; return the rows."""
    rng = np.random.default_rng(seed)
    target = megabytes * MB
    header = ",".join(f"x{j}" for j in range(n_columns)) + "\n"
    n_rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(header)
        written = len(header)
        while written < target:
            block = rng.normal(size=(ROWS_PER_WRITE, n_columns)) * 100.0
            text = "".join(",".join(map(repr, row.tolist())) + "\n" for row in block)
            handle.write(text)
            written += len(text)
            n_rows += ROWS_PER_WRITE
    return n_rows


def measure(path: Path, use_stdin: bool) -> dict:
    """Read ``path`` in a child process; its report as a dict."""
    if use_stdin:
        with path.open("rb") as source:
            completed = subprocess.run(
                [sys.executable, "-c", CHILD, "-"],
                stdin=source,
                capture_output=True,
                text=True,
                check=True,
            )
    else:
        completed = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
        )
    return json.loads(completed.stdout)


def measure_fit(path: Path, folder: Path) -> dict:
    """Run ``mixture fit`` on ``path`` in a child process; its peak RSS and time."""
    import resource

    command = [
        sys.executable, "-m", "mixture", "fit", str(path), "-k", "2", "-c", "full", "--quiet",
        "--save", str(folder / "model.json"), "--labels", str(folder / "labels.csv"),
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far
    return {"peak_kib": peak, "seconds": seconds}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="CSV size in MB")
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("--stdin", action="store_true", help="pipe the file to standard input")
    parser.add_argument("--fit", action="store_true", help="also measure `mixture fit` on it")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="csv_memory_") as folder:
        path = Path(folder) / "large.csv"
        started = time.perf_counter()
        n_rows = write_csv(path, args.mb, args.columns)
        size = path.stat().st_size
        print(
            f"wrote {size / MB:.1f} MB ({n_rows} rows x {args.columns} columns) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        report = measure(path, args.stdin)
        fit = measure_fit(path, Path(folder)) if args.fit else None
    print(f"read from {'standard input' if args.stdin else 'the path'}:")
    print(f"  array {report['shape'][0]} x {report['shape'][1]}: {report['nbytes'] / MB:.1f} MB")
    print(f"  RSS before reading: {report['before_kib'] / 1024:.1f} MB")
    print(f"  peak RSS: {report['peak_kib'] / 1024:.1f} MB (goal: under 500 MB)")
    print(f"  time: {report['seconds']:.1f} s")
    if fit is not None:
        print("mixture fit FILE -k 2 -c full --save --labels:")
        print(f"  peak RSS: {fit['peak_kib'] / 1024:.1f} MB; time {fit['seconds']:.1f} s")


if __name__ == "__main__":
    main()
