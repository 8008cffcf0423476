"""The ``mixture`` command line: fit, predict, sample.

``mixture fit`` selects a Gaussian mixture for a CSV, ``.npy`` or Parquet file (by default the
bundled Old Faithful data) by BIC, AIC or ICL over numbers of components and covariance
structures, prints the table and the chosen model, and can write a plot, per-row labels, a
model file and a JSON summary. ``predict`` and ``sample`` use a saved model in the units and
columns of the data it was fitted on.

Bad input ends with one line on stderr, ``mixture: error: ...``, and exit status 2 (warnings
raised on the way are not shown: they were symptoms of the error). After success, each
distinct warning is one ``mixture: warning: ...`` line (none with ``--quiet``). A closed output pipe
(``mixture fit | head -1``) ends the program quietly, as it does other Unix tools.
"""

from __future__ import annotations

import signal
import sys
import warnings
from collections.abc import Sequence
from typing import TextIO

from mixture.cli.arguments import UsageError, build_parser
from mixture.cli.commands import Streams, run_fit, run_predict, run_sample

__all__ = ["UsageError", "main", "main_entry"]

_COMMANDS = {"fit": run_fit, "predict": run_predict, "sample": run_sample}


def _one_line(exc: BaseException) -> str:
    """The message of an error, flattened to one line."""
    text = str(exc) if not isinstance(exc, OSError) or not exc.strerror else _os_message(exc)
    return " ".join(text.split()) or type(exc).__name__


def _os_message(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else "output"
    return f"{where}: {exc.strerror}"


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default ``sys.argv[1:]``).
    out, err : text streams, optional
        Standard output and error (default the process's).
    stdin : text stream, optional
        Where ``-`` reads data from (default the process's standard input).

    Returns
    -------
    int
        0 on success, 2 for bad input or options (after one line on ``err``).
    """
    from mixture import __version__

    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    try:
        args = build_parser(__version__).parse_args(argv)
    except UsageError as exc:
        print(f"mixture: error: {_one_line(exc)}", file=err)
        return 2
    except SystemExit as exc:  # --help and --version print, then end
        return exc.code if isinstance(exc.code, int) else 0
    streams = Streams(out, err, stdin, args.quiet)
    # Warnings are held until the command ends: after an error they were its symptoms, and
    # only the error is shown; after success each distinct one is shown once, on one line.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore" if args.quiet else "always")
        try:
            status = _COMMANDS[args.command](args, streams)
        except BrokenPipeError:
            raise
        except MemoryError:
            print("mixture: error: not enough memory for this input", file=err)
            return 2
        except (ValueError, OSError) as exc:  # every input error of the library is one
            print(f"mixture: error: {_one_line(exc)}", file=err)
            return 2
    for message in dict.fromkeys(_one_line(Exception(w.message)) for w in caught):
        print(f"mixture: warning: {message}", file=err)
    return status


def main_entry() -> None:
    """Console-script entry point: ``mixture``.

    A closed output pipe ends the process by ``SIGPIPE``, quietly (shell status 141), as it
    ends ``cat`` or ``grep``.
    """
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
