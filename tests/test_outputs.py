"""Output files: collisions refused before any work, atomic and durable writes, no leftovers.

Everything happens inside the test's own temporary folder. Tests that could block on a FIFO
if the code under test opened it run under an alarm, so a regression fails instead of hanging.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixture import outputs
from mixture.outputs import OutputError, check_outputs, output_stream, write_output

REPO = Path(__file__).resolve().parents[1]
unix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and symlinks")


@pytest.fixture
def deadline():
    """Fail (instead of hanging) if the test takes more than a few seconds."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise TimeoutError("blocked: something opened a FIFO?")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(10)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def listing(folder: Path) -> set[str]:
    return set(os.listdir(folder))


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    path.write_text("x,y\n1,2\n", encoding="utf-8")
    return path


# --- check_outputs -------------------------------------------------------------------------


def test_output_equal_to_input_is_refused(data_file: Path) -> None:
    with pytest.raises(OutputError) as caught:
        check_outputs({"--labels": str(data_file)}, {"data file": str(data_file)})
    message = str(caught.value)
    assert message == f"--labels {data_file} is the input data file; choose another path"
    assert "\n" not in message
    assert isinstance(caught.value, ValueError)
    assert caught.value.label == "--labels" and caught.value.path == str(data_file)


def test_output_equal_to_input_through_dot_dot_is_refused(tmp_path: Path, data_file) -> None:
    (tmp_path / "sub").mkdir()
    with pytest.raises(OutputError, match="is the input data file"):
        check_outputs({"-o": tmp_path / "sub" / ".." / "data.csv"}, {"data file": data_file})


def test_relative_output_equal_to_absolute_input_is_refused(tmp_path, data_file, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="is the input data file"):
        check_outputs({"-o": "./data.csv"}, {"data file": data_file})


@unix_only
def test_output_symlink_to_input_is_refused(tmp_path: Path, data_file: Path) -> None:
    link = tmp_path / "link.csv"
    link.symlink_to(data_file)
    with pytest.raises(OutputError, match=r"^--labels .*link\.csv is the input data file"):
        check_outputs({"--labels": link}, {"data file": data_file})
    # And the other way round: the input given through a link.
    with pytest.raises(OutputError, match="is the input data file"):
        check_outputs({"--labels": data_file}, {"data file": link})


@unix_only
def test_output_through_symlinked_folder_is_refused(tmp_path: Path, data_file: Path) -> None:
    (tmp_path / "alias").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(OutputError, match="is the input model file"):
        check_outputs({"--save": tmp_path / "alias" / "data.csv"}, {"model file": data_file})


@unix_only
def test_output_hard_link_to_input_is_refused(tmp_path: Path, data_file: Path) -> None:
    hard = tmp_path / "hard.csv"
    os.link(data_file, hard)
    with pytest.raises(OutputError, match=r"hard\.csv is the input data file"):
        check_outputs({"--labels": hard}, {"data file": data_file})


def test_two_outputs_on_one_file_are_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError) as caught:
        check_outputs({"--save": "x.json", "--labels": "./x.json"}, {})
    assert str(caught.value) == "--save and --labels both write x.json"
    # Also when the file exists, and when one is a hard link of the other.
    Path("x.json").write_text("{}")
    with pytest.raises(OutputError, match="both write"):
        check_outputs({"--save": "x.json", "--labels": tmp_path / "x.json"}, {})
    if hasattr(os, "link"):
        os.link("x.json", "y.json")
        with pytest.raises(OutputError, match=r"--save and --labels both write x\.json"):
            check_outputs({"--save": "x.json", "--labels": "y.json"}, {})


@unix_only
def test_dangling_symlink_output_collides_with_its_target(tmp_path: Path) -> None:
    (tmp_path / "link.json").symlink_to(tmp_path / "x.json")
    with pytest.raises(OutputError, match="both write"):
        check_outputs({"--save": tmp_path / "link.json", "--labels": tmp_path / "x.json"}, {})


def test_distinct_paths_none_and_dash_are_accepted(tmp_path: Path, data_file: Path) -> None:
    (tmp_path / "old.json").write_text("{}")
    check_outputs(
        {"--save": tmp_path / "old.json", "--labels": str(tmp_path / "new.csv"), "-o": None},
        {"data file": data_file, "model file": None},
    )
    # "-" is standard input/output: never a collision, even twice.
    check_outputs({"--labels": "-", "--samples": "-"}, {"data file": "-"})
    check_outputs({"--labels": "-"}, {"data file": data_file})


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"^--save .*missing.*: folder .*missing does not exist"):
        check_outputs({"--save": tmp_path / "missing" / "x.json"}, {})


@unix_only
def test_dangling_symlink_into_missing_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "missing" / "x.json")
    with pytest.raises(OutputError, match="does not exist"):
        check_outputs({"--save": tmp_path / "link"}, {})


def test_folder_target_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputError, match=r"^-o .*out is a folder, not a regular file"):
        check_outputs({"-o": tmp_path / "out"}, {})
    with pytest.raises(OutputError, match="names a folder"):
        check_outputs({"-o": f"{tmp_path / 'new'}{os.sep}"}, {})


@unix_only
def test_fifo_target_is_refused_without_blocking(tmp_path: Path, deadline) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="is a FIFO"):
        check_outputs({"--labels": fifo}, {})
    # A link to the FIFO is followed, and refused as well.
    (tmp_path / "link").symlink_to(fifo)
    with pytest.raises(OutputError, match=r"link is a FIFO"):
        check_outputs({"--labels": tmp_path / "link"}, {})


@unix_only
def test_socket_target_is_refused(tmp_path: Path, monkeypatch, deadline) -> None:
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no Unix sockets")
    monkeypatch.chdir(tmp_path)  # a short relative name fits the socket path limit
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind("sock")
        with pytest.raises(OutputError, match="is a socket"):
            check_outputs({"-o": "sock"}, {})
        with pytest.raises(OutputError, match="is a socket"):
            write_output("sock", "x")
    assert listing(tmp_path) == {"sock"}


def test_empty_path_is_refused() -> None:
    with pytest.raises(OutputError, match="--save path is empty"):
        check_outputs({"--save": ""}, {})


def test_message_stays_on_one_line(tmp_path: Path) -> None:
    odd = tmp_path / "a\nb"
    odd.mkdir()
    with pytest.raises(OutputError) as caught:
        check_outputs({"-o": odd}, {})
    assert "\n" not in str(caught.value) and "\\n" in str(caught.value)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere"
)
def test_unwritable_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="is not writable"):
            check_outputs({"-o": folder / "x"}, {})
    finally:
        folder.chmod(0o700)


# --- write_output ----------------------------------------------------------------------------


def test_write_text_and_bytes(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    assert write_output(target, "é\nline\r\n") == target
    assert target.read_bytes() == "é\nline\r\n".encode()
    assert write_output(str(target), b"\x00\xff") == target
    assert target.read_bytes() == b"\x00\xff"
    assert listing(tmp_path) == {"out.txt"}


def test_write_refuses_other_data(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="str or bytes"):
        write_output(tmp_path / "x", 3)  # type: ignore[arg-type]
    assert listing(tmp_path) == set()


def test_write_dash_goes_to_stdout(capsys) -> None:
    assert write_output("-", "a\nb\n") == Path("-")
    assert capsys.readouterr().out == "a\nb\n"


@unix_only
def test_symlink_is_written_through(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to("real.json")
    chain = tmp_path / "chain.json"
    chain.symlink_to(link)
    assert write_output(chain, "new", label="--save") == target
    assert chain.is_symlink() and link.is_symlink()
    assert os.readlink(link) == "real.json"
    assert target.read_text() == "new"
    assert listing(tmp_path) == {"real.json", "link.json", "chain.json"}


@unix_only
def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "sub" / "x.json")
    write_output(link, "x")
    assert link.is_symlink()
    assert (tmp_path / "sub" / "x.json").read_text() == "x"
    assert listing(tmp_path / "sub") == {"x.json"}


@unix_only
def test_fifo_and_folder_targets_are_refused_by_the_writer(tmp_path: Path, deadline) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "dir").mkdir()
    (tmp_path / "link").symlink_to("pipe")
    for name in ("pipe", "dir", "link"):
        with pytest.raises(OutputError, match=f"^--labels .*{name} is a"):
            write_output(tmp_path / name, "x", label="--labels")
        with pytest.raises(OutputError, match="not a regular file"), output_stream(tmp_path / name):
            pytest.fail("the stream must not open")  # pragma: no cover
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe").st_mode)
    assert (tmp_path / "link").is_symlink()
    assert listing(tmp_path) == {"pipe", "dir", "link"}


def test_missing_folder_is_refused_by_the_writer(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        write_output(tmp_path / "missing" / "x", "x")
    assert listing(tmp_path) == set()


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permission bits")
@pytest.mark.parametrize("mode", [0o640, 0o600, 0o755, 0o444])
def test_existing_mode_is_kept(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    target.chmod(mode)
    write_output(target, "new")
    assert stat.S_IMODE(os.stat(target).st_mode) == mode
    assert target.read_text() == "new"
    with output_stream(target) as stream:
        stream.write("newer")
    assert stat.S_IMODE(os.stat(target).st_mode) == mode


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permission bits")
@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077, 0o002, 0o000])
def test_new_file_mode_follows_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        write_output(tmp_path / "a", "x")
        with output_stream(tmp_path / "b") as stream:
            stream.write("x")
        current = os.umask(umask)
    finally:
        os.umask(previous)
    assert current == umask  # the writers left the umask as they found it
    for name in ("a", "b"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o666 & ~umask


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permission bits")
def test_new_file_mode_without_proc(tmp_path: Path, monkeypatch) -> None:
    """The portable umask probe (set, then restore) gives the same answer."""
    real_open = open

    def no_proc(file, *args, **kwargs):
        if str(file).startswith("/proc"):
            raise OSError("no /proc here")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(outputs, "open", no_proc, raising=False)
    previous = os.umask(0o027)
    try:
        write_output(tmp_path / "a", "x")
        current = os.umask(0o027)
    finally:
        os.umask(previous)
    assert current == 0o027
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o640


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_no_temporary_left_after_a_failure(tmp_path: Path, monkeypatch, failing: str) -> None:
    target = tmp_path / "out.csv"
    target.write_text("original")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError, match="No space left"):
        write_output(target, "new content")
    monkeypatch.undo()
    assert listing(tmp_path) == {"out.csv"}
    assert target.read_text() == "original"


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt, SystemExit])
def test_no_temporary_left_when_the_stream_body_fails(tmp_path: Path, error) -> None:
    target = tmp_path / "labels.csv"
    target.write_text("original")
    with pytest.raises(error), output_stream(target) as stream:
        stream.write("half of the rows\n" * 1000)
        raise error()
    assert listing(tmp_path) == {"labels.csv"}
    assert target.read_text() == "original"


def test_no_temporary_left_when_encoding_fails(tmp_path: Path) -> None:
    with pytest.raises(UnicodeEncodeError), output_stream(tmp_path / "x") as stream:
        stream.write("fine\n")
        stream.write("\udcff")
        stream.flush()
    with pytest.raises(UnicodeEncodeError):
        write_output(tmp_path / "x", "\udcff")
    assert listing(tmp_path) == set()


def test_output_stream_writes_incrementally(tmp_path: Path) -> None:
    target = tmp_path / "labels.csv"
    with output_stream(target, label="--labels") as stream:
        for row in range(10_000):
            stream.write(f"{row},{row % 3}\n")
        assert not target.exists()  # nothing visible until the block ends
    lines = target.read_bytes().split(b"\n")
    assert lines[0] == b"0,0" and lines[-2] == b"9999,0" and lines[-1] == b""
    assert listing(tmp_path) == {"labels.csv"}


def test_temporary_is_unique_and_in_the_target_folder(tmp_path: Path, monkeypatch) -> None:
    made: list[str] = []
    real_mkstemp = tempfile.mkstemp

    def recording(*args, **kwargs):
        handle, name = real_mkstemp(*args, **kwargs)
        made.append(name)
        return handle, name

    monkeypatch.setattr(tempfile, "mkstemp", recording)
    target = tmp_path / "model.json"
    write_output(target, "a")
    write_output(target, "b")
    assert len(set(made)) == 2
    for name in made:
        assert Path(name).parent == tmp_path
        assert Path(name).name.startswith(".model.json.") and name.endswith(".tmp")


def test_long_names_still_get_a_temporary(tmp_path: Path) -> None:
    name = "n" * 250
    write_output(tmp_path / name, "x")
    assert listing(tmp_path) == {name}


def test_data_and_folder_are_synced(tmp_path: Path, monkeypatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def recording(handle):
        synced.append(handle)
        real_fsync(handle)

    monkeypatch.setattr(os, "fsync", recording)
    write_output(tmp_path / "x", "x")
    assert len(synced) == 2  # the file, then its folder


def test_folder_sync_is_best_effort(tmp_path: Path, monkeypatch) -> None:
    real_open = os.open

    def no_folders(path, flags, *args, **kwargs):
        if os.path.isdir(path):
            raise PermissionError("cannot open a folder here")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_folders)
    write_output(tmp_path / "x", "x")
    assert (tmp_path / "x").read_text() == "x"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.text(), st.binary()))
def test_round_trip(tmp_path: Path, data: str | bytes) -> None:
    target = tmp_path / "round.trip"
    write_output(target, data)
    expected = data.encode("utf-8") if isinstance(data, str) else data
    assert target.read_bytes() == expected
    with output_stream(target) as stream:
        stream.write(data if isinstance(data, str) else data.hex())
    expected = data.encode("utf-8") if isinstance(data, str) else data.hex().encode()
    assert target.read_bytes() == expected
    assert listing(tmp_path) == {"round.trip"}


# --- concurrency and signals ---------------------------------------------------------------------


def test_concurrent_writers_never_mix(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "shared.txt"
    contents = [chr(ord("a") + k) * 300_000 for k in range(4)]
    target.write_text(contents[0])
    made: list[str] = []
    real_mkstemp = tempfile.mkstemp
    lock = threading.Lock()

    def recording(*args, **kwargs):
        handle, name = real_mkstemp(*args, **kwargs)
        with lock:
            made.append(name)
        return handle, name

    monkeypatch.setattr(tempfile, "mkstemp", recording)
    start = threading.Barrier(len(contents) + 1)
    done = threading.Event()
    seen: list[str] = []
    errors: list[BaseException] = []

    def writer(content: str) -> None:
        try:
            start.wait()
            for _ in range(5):
                write_output(target, content)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        start.wait()
        while not done.is_set():
            seen.append(target.read_text())

    threads = [threading.Thread(target=writer, args=(c,)) for c in contents]
    watcher = threading.Thread(target=reader)
    for thread in [*threads, watcher]:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    done.set()
    watcher.join(timeout=60)
    assert not errors
    assert len(made) == len(set(made)) == 5 * len(contents)
    assert target.read_text() in contents
    assert seen and all(text in contents for text in seen)
    assert listing(tmp_path) == {"shared.txt"}


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="main thread only"
)
def test_sigterm_guard_is_temporary_and_respects_other_handlers(tmp_path: Path) -> None:
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with output_stream(tmp_path / "a") as stream:
            stream.write("x")
            assert callable(signal.getsignal(signal.SIGTERM))
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

        def own(signum, frame):  # pragma: no cover - never delivered
            pass

        signal.signal(signal.SIGTERM, own)
        with output_stream(tmp_path / "b") as stream:
            assert signal.getsignal(signal.SIGTERM) is own
        write_output(tmp_path / "c", "x")
        assert signal.getsignal(signal.SIGTERM) is own

        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with output_stream(tmp_path / "d") as stream:
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_writing_from_another_thread_works(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            write_output(tmp_path / "x", "from a thread")
            with output_stream(tmp_path / "y") as stream:
                stream.write("also")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=60)
    assert not errors
    assert (tmp_path / "x").read_text() == "from a thread"
    assert (tmp_path / "y").read_text() == "also"


SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from mixture.outputs import output_stream, write_output

    target, how = sys.argv[1], sys.argv[2]
    if how == "stream":
        with output_stream(target) as stream:
            stream.write("row\\n" * 100_000)
            stream.flush()
            print("writing", flush=True)
            while True:
                stream.write("row\\n" * 1000)
                time.sleep(0.01)
    else:
        import os
        real_fsync = os.fsync

        def slow_fsync(handle):
            print("writing", flush=True)
            time.sleep(60)
            real_fsync(handle)

        os.fsync = slow_fsync
        write_output(target, "new\\n" * 100_000)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("how", ["stream", "write"])
def test_no_temporary_left_after_sigterm(tmp_path: Path, how: str) -> None:
    target = tmp_path / "labels.csv"
    target.write_text("original\n")
    before = listing(tmp_path)
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), *sys.path]))
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(target), how],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        started = child.stdout.readline()
        assert started == "writing\n", child.stderr.read() if child.stderr else ""
        assert len(listing(tmp_path)) == len(before) + 1  # the temporary file
        time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        _, errors = child.communicate(timeout=30)
    finally:
        if child.poll() is None:  # pragma: no cover - only on failure
            child.kill()
            child.communicate()
    assert listing(tmp_path) == before
    assert target.read_text() == "original\n"
    assert child.returncode == 128 + signal.SIGTERM, errors
    assert "Traceback" not in errors
