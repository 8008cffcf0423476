"""Output files written safely: checked before any work, replaced atomically and durably.

The command line and :func:`mixture.model_file.save` are meant to write their results (model files,
labels, samples, plots) through this module, so that a run

* never overwrites one of its own inputs, and never lets two outputs land on one file
  (:func:`check_outputs`, called before any work is done);
* never replaces a symbolic link, a FIFO, a device node, a socket or a folder by a regular
  file: a symbolic link is written through to its final target and stays a link, and any
  other non-regular target is refused without being opened;
* never leaves a half-written file behind: the data go to a uniquely named temporary file in
  the target's folder, which is flushed, synced to disk, given the right permissions and only
  then renamed onto the target (:func:`write_output`, :func:`output_stream`). On any failure,
  including ``KeyboardInterrupt`` and ``SIGTERM``, the temporary file is removed and the
  target keeps its previous content;
* keeps an existing file's permission bits, and gives a new file the usual ``0o666`` less
  the process umask.

The path ``"-"`` means standard output: it is skipped by the collision checks and written
directly (not atomically) by the writers.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import BinaryIO, TextIO

__all__ = ["OutputError", "check_outputs", "output_stream", "write_output"]

PathArg = str | os.PathLike[str]
"""A path given as a string or a path-like object."""

STDOUT = "-"
"""The path that stands for standard output (and standard input, among the inputs)."""

_NEW_FILE_MODE = 0o666
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
# Leaves room for the random part and the suffix within the usual 255-byte name limit.
_MAX_PREFIX_NAME = 100


class OutputError(ValueError):
    """An output path cannot be written safely.

    The message is one line naming the option (when known) and the path, for example
    ``--labels data.csv is the input data file; choose another path``.

    Parameters
    ----------
    message : str
        The full one-line message.
    label : str, optional
        The option or role of the output (``"--labels"``, ``"-o"``), if known.
    path : str, optional
        The offending path, as given.
    """

    def __init__(self, message: str, *, label: str | None = None, path: str | None = None):
        super().__init__(message)
        self.label = label
        self.path = path


def check_outputs(
    outputs: Mapping[str, PathArg | None], inputs: Mapping[str, PathArg | None]
) -> None:
    """Refuse output paths that would destroy an input, collide, or are not regular files.

    Call this before doing any work, so that a bad path is reported at once instead of
    after a long fit. Nothing is opened: existing paths are only examined with
    :func:`os.stat`, so a FIFO among them can never block.

    Parameters
    ----------
    outputs : Mapping[str, str or PathLike or None]
        The outputs, from a label naming the option or role (``"--labels"``, ``"-o"``) to a
        path. ``None`` (output not requested) and ``"-"`` (standard output) are skipped.
    inputs : Mapping[str, str or PathLike or None]
        The inputs, from a label naming them (``"data file"``, ``"model file"``) to a path.
        ``None`` and ``"-"`` (standard input) are skipped.

    Raises
    ------
    OutputError
        (a ``ValueError``) if an output is the same file as an input (symbolic links, ``..``
        and hard links included), two outputs are the same file, an output exists and is not
        a regular file (a folder, a FIFO, a device, a socket), or an output's folder does
        not exist or is not writable.
    """
    checked: list[tuple[str, str]] = []
    for label, raw in outputs.items():
        path = _given(raw)
        if path is None or path == STDOUT:
            continue
        for input_label, input_raw in inputs.items():
            input_path = _given(input_raw)
            if input_path is None or input_path == STDOUT:
                continue
            if _same_file(path, input_path):
                raise OutputError(
                    f"{_name(label, path)} is the input {input_label}; choose another path",
                    label=label,
                    path=path,
                )
        _check_target(path, label)
        for other_label, other_path in checked:
            if _same_file(path, other_path):
                raise OutputError(
                    f"{other_label} and {label} both write {_show(other_path)}",
                    label=label,
                    path=path,
                )
        checked.append((label, path))


def write_output(path: PathArg, data: str | bytes, *, label: str | None = None) -> Path:
    """Write ``data`` to ``path`` atomically and durably.

    The data go to a uniquely named temporary file in the target's folder, which is flushed,
    synced to disk and given the target's permission bits (an existing file keeps its own;
    a new one gets ``0o666`` less the umask) before it is renamed onto the target; the
    folder is then synced too. A symbolic link is written through: its final target gets
    the data and the link stays a link. Readers see either the old or the new content,
    never a mixture, and a failure leaves the target as it was and no temporary file behind.

    Parameters
    ----------
    path : str or PathLike
        Where to write. ``"-"`` writes to standard output (not atomically).
    data : str or bytes
        The content. Text is written as UTF-8, its ``"\\n"`` newlines unchanged.
    label : str, optional
        The option or role of this output, used in error messages.

    Returns
    -------
    Path
        The regular file that now holds ``data`` (the final target of a symbolic link), or
        ``Path("-")`` for standard output.

    Raises
    ------
    OutputError
        If the path exists and is not a regular file, or its folder does not exist.
    TypeError
        If ``data`` is neither ``str`` nor ``bytes``.
    OSError
        If the temporary file cannot be created, written or renamed.
    """
    if not isinstance(data, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"data must be str or bytes, not {type(data).__name__}")
    if _given(path) == STDOUT:
        _write_stdout(data)
        return Path(STDOUT)
    content = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    with _replacing(path, label) as (stream, target):
        stream.write(content)
    return target


@contextlib.contextmanager
def output_stream(path: PathArg, *, label: str | None = None) -> Iterator[TextIO]:
    """Write a text output incrementally, with the guarantees of :func:`write_output`.

    Use it for outputs too large to build as one string (labels of millions of rows): the
    text written to the stream goes to a temporary file, which replaces the target only when
    the ``with`` block ends without an exception. If the block raises (or the process gets
    ``SIGTERM``), the temporary file is removed and the target keeps its previous content.

    Parameters
    ----------
    path : str or PathLike
        Where to write. ``"-"`` yields standard output itself (not atomic, not closed).
    label : str, optional
        The option or role of this output, used in error messages.

    Yields
    ------
    TextIO
        A text stream writing UTF-8 with ``"\\n"`` newlines unchanged.

    Raises
    ------
    OutputError
        If the path exists and is not a regular file, or its folder does not exist.

    Examples
    --------
    >>> with output_stream(tmp / "labels.csv") as stream:  # doctest: +SKIP
    ...     for row in rows:
    ...         stream.write(f"{row}\\n")
    """
    if _given(path) == STDOUT:
        yield sys.stdout
        sys.stdout.flush()
        return
    with _replacing(path, label) as (binary, _target):
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="\n")
        yield text
        # Flushes the text into the binary file, which _replacing then syncs and closes. On
        # failure the wrapper is simply dropped: closing it later does nothing, as the binary
        # file is closed by then.
        text.detach()


@contextlib.contextmanager
def _replacing(path: PathArg, label: str | None) -> Iterator[tuple[BinaryIO, Path]]:
    """Yield a binary temporary file that replaces the final target of ``path`` on success."""
    given = _given(path)
    if given is None:
        raise TypeError("path must be a str or os.PathLike, not None")
    _check_target(given, label)
    target = Path(os.path.realpath(given))
    existing = _stat_or_none(str(target))
    with _TermGuard() as guard:
        temporary: str | None = None
        try:
            handle, temporary = tempfile.mkstemp(
                prefix=f".{target.name[:_MAX_PREFIX_NAME]}.", suffix=".tmp", dir=target.parent
            )
            with os.fdopen(handle, "wb") as stream:
                yield stream, target
                stream.flush()
                _copy_metadata(stream.fileno(), temporary, existing)
                os.fsync(stream.fileno())
            # The target may have changed since it was checked: look again, as late as we can.
            _check_target(given, label)
            os.replace(temporary, target)
            temporary = None
            _sync_folder(target.parent)
        except BaseException:
            guard.shield()
            if temporary is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
            raise


class _TermGuard:
    """While active, turn ``SIGTERM`` into ``SystemExit(128 + SIGTERM)`` so cleanup runs.

    Installed only in the main thread (the only one that may set signal handlers), and only
    when ``SIGTERM`` has its default action: an ignored ``SIGTERM`` needs no guard, and a
    handler of the application's own (or an enclosing guard) is left in charge.
    """

    def __init__(self) -> None:
        self._previous: object = None
        self._installed = False
        self._shielded = False

    def __enter__(self) -> _TermGuard:
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = signal.getsignal(signal.SIGTERM)
        if previous is not signal.SIG_DFL:
            return self
        try:
            signal.signal(signal.SIGTERM, self._terminate)
        except ValueError:  # not the main interpreter
            return self
        self._previous = previous
        self._installed = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)  # type: ignore[arg-type]
            self._installed = False

    def shield(self) -> None:
        """Ignore further ``SIGTERM`` while the cleanup after a failure runs."""
        self._shielded = True

    def _terminate(self, signum: int, frame: FrameType | None) -> None:
        if self._shielded:
            return
        self._shielded = True
        raise SystemExit(128 + signum)


def _write_stdout(data: str | bytes | bytearray | memoryview) -> None:
    """Write text or bytes to standard output and flush it."""
    if isinstance(data, str):
        sys.stdout.write(data)
        sys.stdout.flush()
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _given(path: PathArg | None) -> str | None:
    """The path as a string (``None`` stays ``None``)."""
    if path is None:
        return None
    value = os.fspath(path)
    return os.fsdecode(value) if isinstance(value, bytes) else value


def _show(path: str) -> str:
    """The path as it should appear in a one-line message."""
    return path if path.isprintable() else repr(path)


def _name(label: str | None, path: str) -> str:
    """``label path``, or ``output path`` when there is no label."""
    return f"{label if label else 'output'} {_show(path)}"


def _stat_or_none(path: str) -> os.stat_result | None:
    """``os.stat`` of ``path`` (following links), or ``None`` if nothing is there."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _kind(mode: int) -> str | None:
    """What a non-regular file is, or ``None`` for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "not a regular file"


def _check_target(path: str, label: str | None) -> None:
    """Refuse ``path`` unless it is a regular file, or absent from an existing folder."""
    if not path:
        raise OutputError(f"{label or 'output'} path is empty", label=label, path=path)
    if path.endswith(os.sep) or (os.altsep is not None and path.endswith(os.altsep)):
        raise OutputError(
            f"{_name(label, path)} names a folder; give a file name", label=label, path=path
        )
    try:
        status = _stat_or_none(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(
            f"{_name(label, path)} cannot be used: {reason}", label=label, path=path
        ) from None
    if status is not None:
        kind = _kind(status.st_mode)
        if kind is not None:
            raise OutputError(
                f"{_name(label, path)} is {kind}, not a regular file; choose another path",
                label=label,
                path=path,
            )
        return
    folder = os.path.dirname(os.path.realpath(path))
    if not os.path.isdir(folder):
        raise OutputError(
            f"{_name(label, path)}: folder {_show(folder)} does not exist", label=label, path=path
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            f"{_name(label, path)}: folder {_show(folder)} is not writable",
            label=label,
            path=path,
        )


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file: the same inode if both exist, else one real path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        pass
    real_a = os.path.normcase(os.path.realpath(a))
    real_b = os.path.normcase(os.path.realpath(b))
    return real_a == real_b


def _current_umask() -> int:
    """The process umask, read without leaving a window in which it is zero."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    # Setting a umask is the only portable way to read it; probe with a restrictive one
    # so that a file another thread creates meanwhile is too private rather than too open.
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _copy_metadata(handle: int, temporary: str, existing: os.stat_result | None) -> None:
    """Give the temporary file the target's owner (best effort) and permission bits."""
    if existing is None:
        mode = _NEW_FILE_MODE & ~_current_umask()
    else:
        mode = stat.S_IMODE(existing.st_mode)
        if hasattr(os, "fchown"):
            mine = os.fstat(handle)
            if (mine.st_uid, mine.st_gid) != (existing.st_uid, existing.st_gid):
                # Keeps the owner where allowed (root, or a group one belongs to); done
                # before chmod because changing the owner can clear set-id bits.
                with contextlib.suppress(OSError):
                    os.fchown(handle, existing.st_uid, existing.st_gid)
    if hasattr(os, "fchmod"):
        os.fchmod(handle, mode)
    else:
        os.chmod(temporary, mode)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: some platforms cannot open one)."""
    try:
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
