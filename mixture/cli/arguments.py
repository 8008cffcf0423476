"""The command line's options: the parser, and the checks that turn option text into values.

Every value is checked here, before any data is read or any memory allocated, and a bad one
ends with a one-line message naming the option (:class:`UsageError`), never argparse's
usage block or a traceback.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import NoReturn

from mixture.gaussian import MCLUST_NAMES, SKLEARN_NAMES, STRUCTURE_NAMES, structure_named
from mixture.selection import CRITERIA

__all__ = [
    "MAX_SAMPLES",
    "PLOT_FORMATS",
    "ComponentCounts",
    "UsageError",
    "build_parser",
    "parse_structures",
    "plot_format",
]

MAX_SAMPLES = 10**9
"""Largest ``sample -n``: rows are written in blocks, so this bounds time and disk, not memory."""

PLOT_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
"""Plot formats, chosen by the file extension of ``--plot``."""

DELIMITERS = {"comma": ",", ",": ",", "semicolon": ";", ";": ";", "tab": "\t", "\\t": "\t"}


class UsageError(ValueError):
    """Bad input or options: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one-line :class:`UsageError` exceptions."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


# -- values ---------------------------------------------------------------------------------
def _whole_number(minimum: int, maximum: int | None = None):
    """An argparse ``type``: a decimal whole number within ``[minimum, maximum]``."""

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"expects a whole number >= {minimum}; got {text!r}"
            ) from None
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"is at most {maximum:,}; got {value:,}")
        return value

    return parse


def _delimiter(text: str) -> str:
    if text in DELIMITERS:
        return DELIMITERS[text]
    raise argparse.ArgumentTypeError(f"expects comma, semicolon or tab (or , ; \\t); got {text!r}")


@dataclass(frozen=True)
class ComponentCounts:
    """Numbers of components from ``-k``, kept as ranges until the data size is known.

    Attributes
    ----------
    ranges : tuple of (int, int)
        Inclusive ``(first, last)`` pairs.
    text : str
        What the user typed, for messages.
    """

    ranges: tuple[tuple[int, int], ...]
    text: str

    @classmethod
    def parse(cls, text: str) -> ComponentCounts:
        """``"1-9"``, ``"3"`` or ``"2,4,6-8"`` (positive whole numbers)."""
        ranges = []
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            try:
                low = int(first, 10)
                high = int(last, 10) if last else low
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"expects numbers of components like 1-9, 3 or 2,4,6; got {text!r}"
                ) from None
            if low < 1 or high < low:
                raise argparse.ArgumentTypeError(
                    f"expects positive numbers and ranges first-last with first <= last; "
                    f"got {text!r}"
                )
            ranges.append((low, high))
        return cls(tuple(ranges), text)

    @property
    def largest(self) -> int:
        return max(last for _, last in self.ranges)

    def expand(self, n_rows: int, source: str) -> list[int]:
        """The sorted distinct counts, refused before expansion if one exceeds ``n_rows``."""
        if self.largest > n_rows:
            raise UsageError(
                f"-k {self.text}: {source} has {n_rows:,} rows, fewer than {self.largest:,} "
                "components; lower -k"
            )
        return sorted({k for first, last in self.ranges for k in range(first, last + 1)})


def parse_structures(text: str) -> list[str]:
    """``"all"`` (mclust's 14 models) or a comma list of structure names (scikit-learn's or
    mclust's), checked against the registry; each structure once, by its own name."""
    if text == "all":
        return list(STRUCTURE_NAMES)
    names = []
    for name in (n.strip() for n in text.split(",")):
        try:
            names.append(structure_named(name).name)
        except ValueError:
            raise UsageError(
                f"-c: unknown covariance structure {name!r}; choose from "
                f"{', '.join(STRUCTURE_NAMES)} (or mclust's {', '.join(MCLUST_NAMES)}), or all"
            ) from None
    return list(dict.fromkeys(names))


def plot_format(path: str) -> str:
    """The plot format given by the extension of ``path`` (png, svg or pdf)."""
    if path == "-":
        raise UsageError("--plot needs a file name (its extension chooses the format)")
    for extension, name in PLOT_FORMATS.items():
        if path.lower().endswith(extension):
            return name
    raise UsageError(
        f"--plot {path}: unknown image format; end the name with {', '.join(PLOT_FORMATS)}"
    )


# -- the parser -----------------------------------------------------------------------------
def build_parser(version: str) -> argparse.ArgumentParser:
    """The ``mixture`` parser with its ``fit``, ``predict`` and ``sample`` commands."""
    parser = _Parser(
        prog="mixture",
        description="Fit Gaussian mixtures by EM, select among them, label and sample rows.",
        epilog="Bad input ends with one line on stderr and exit status 2.",
    )
    parser.add_argument("--version", action="version", version=f"mixture {version}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    common = _Parser(add_help=False)
    common.add_argument(
        "-q", "--quiet", action="store_true", help="no notices, warnings or progress on stderr"
    )
    reading = _Parser(add_help=False)
    reading.add_argument(
        "--delimiter",
        type=_delimiter,
        help="CSV field separator: comma, semicolon or tab (default: detected)",
    )
    reading.add_argument(
        "--drop-incomplete",
        action="store_true",
        help="drop rows with a missing value (empty, NA, N/A, nan, ?, null) and count them; "
        "without it a missing value is an error",
    )
    reading.add_argument(
        "--missing",
        choices=("error", "marginalize"),
        default="error",
        help="missing values (empty, NA, N/A, nan, ?, null): error (default) or marginalize "
        "(fit and label rows with missing values by their observed values, EM under missing "
        "at random); in memory only",
    )
    reading.add_argument(
        "--stream",
        action="store_true",
        help="read the file again on every pass instead of loading it: memory stays bounded "
        "for files larger than memory (slower for CSV, which is parsed on every pass)",
    )

    fit = commands.add_parser(
        "fit",
        parents=[common, reading],
        help="select a Gaussian mixture for a data file by BIC, AIC or ICL",
        description="Fit Gaussian mixtures over numbers of components and covariance "
        "structures, print the table of candidates and the one selected.",
    )
    fit.add_argument(
        "data",
        nargs="?",
        help="CSV with a header row, .npy array or .parquet file; - reads CSV from stdin "
        "(default: the bundled Old Faithful data)",
    )
    fit.add_argument(
        "-k",
        "--components",
        type=ComponentCounts.parse,
        default=ComponentCounts.parse("1-9"),
        metavar="K",
        help="numbers of components: 1-9, 3 or 2,4,6 (default 1-9)",
    )
    fit.add_argument(
        "-c",
        "--covariance",
        default=",".join(SKLEARN_NAMES),
        metavar="STRUCTURES",
        help="covariance structures, a comma list of names: scikit-learn's "
        f"{', '.join(SKLEARN_NAMES)} or mclust's {', '.join(MCLUST_NAMES)}; or all (mclust's "
        f"14 models). Default {','.join(SKLEARN_NAMES)}",
    )
    fit.add_argument(
        "--criterion",
        choices=CRITERIA,
        default="bic",
        help="information criterion that selects the model, lower is better (default bic)",
    )
    fit.add_argument(
        "--columns", help="comma-separated columns to use (default: every numeric column)"
    )
    fit.add_argument(
        "--labels-column",
        metavar="NAME",
        help="a column of known classes (semi-supervised fit): rows with a value stay in that "
        "class's component (classes in sorted order are components 0, 1, ...), rows with a "
        "missing value are estimated; the column is not fitted. Text or numbers, CSV or Parquet",
    )
    fit.add_argument(
        "--standardize",
        action="store_true",
        help="fit to z-scored columns; the model file keeps the scaling, so predict and "
        "sample work in the data's units",
    )
    fit.add_argument(
        "--prior",
        action="store_true",
        help="MAP estimation with mclust's default conjugate prior (priorControl()); keeps "
        "components on duplicated values from collapsing",
    )
    fit.add_argument(
        "--n-init",
        type=_whole_number(1, maximum=10_000),
        default=1,
        metavar="N",
        help="k-means starts per candidate, besides the hierarchical and split starts (default 1)",
    )
    fit.add_argument(
        "--seed",
        type=_whole_number(0),
        default=0,
        help="random seed, a whole number >= 0; the same seed gives the same result (default 0)",
    )
    fit.add_argument(
        "--online",
        action="store_true",
        help="fit each candidate by one pass of online EM (rows must come in random order) "
        "instead of exact EM; the criteria are still exact",
    )
    fit.add_argument(
        "--plot", metavar="FILE", help="write a plot of the selected model (.png, .svg or .pdf)"
    )
    fit.add_argument(
        "--labels",
        metavar="CSV",
        help="write each row's label and component probabilities (- for stdout)",
    )
    fit.add_argument(
        "--save",
        metavar="MODEL",
        help="write the selected model as a JSON model file (- for stdout)",
    )
    fit.add_argument(
        "--json", action="store_true", help="print a JSON summary instead of the table"
    )

    predict = commands.add_parser(
        "predict",
        parents=[common, reading],
        help="label rows with a saved model",
        description="Label each row of DATA with the most probable component of MODEL and "
        "give every component's probability. Columns are matched by name.",
    )
    predict.add_argument("model", help="model file written by mixture fit --save")
    predict.add_argument(
        "data", help="CSV with a header row, .npy or .parquet file; - reads CSV from stdin"
    )
    predict.add_argument(
        "--columns",
        help="comma-separated columns of DATA to use as the model's features, in the model's "
        "order (default: the columns named as in the model)",
    )
    predict.add_argument(
        "-o", "--output", metavar="CSV", default="-", help="write here (default - : stdout)"
    )

    sample = commands.add_parser(
        "sample",
        parents=[common],
        help="draw rows from a saved model",
        description="Draw rows from MODEL in the units and columns of the data it was "
        "fitted on, with the component of each row.",
    )
    sample.add_argument("model", help="model file written by mixture fit --save")
    sample.add_argument(
        "-n",
        "--n-samples",
        type=_whole_number(1, maximum=MAX_SAMPLES),
        default=100,
        metavar="N",
        help="number of rows (default 100)",
    )
    sample.add_argument(
        "--seed",
        type=_whole_number(0),
        default=0,
        help="random seed, a whole number >= 0 (default 0)",
    )
    sample.add_argument(
        "-o", "--output", metavar="CSV", default="-", help="write here (default - : stdout)"
    )
    return parser
