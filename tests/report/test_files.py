"""Crash-safe files: a run killed mid-write leaves the folder as it was, with or without unnamed files."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import RecoveryError
from core.report import TEMP_PREFIX, write_atomic
from core.report import files as report_files

ROOT = Path(__file__).resolve().parents[2]
OLD = b"Loan_ID,Risk_Score\r\nL0,0.1\r\n"
MODE = 0o666 & ~report_files._UMASK  # what a plain open() gives under this process's umask

KILLED_MID_WRITE = """
import errno, importlib.util, os, signal, sys
from pathlib import Path
# the module alone, without core.report's other modules (pandas, openpyxl): a start in tenths of a second
spec = importlib.util.spec_from_file_location("files", "core/report/files.py")
files = importlib.util.module_from_spec(spec)
spec.loader.exec_module(files)
folder, named_only = Path(sys.argv[1]), sys.argv[2] == "named"
if named_only:  # a file system without unnamed files: the named temporary is used
    def refuse(where):
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")
    files._open_unnamed = refuse
with files.atomic_file(folder / "new.csv") as new, files.atomic_file(folder / "old.csv") as old:
    for sink in (new, old):
        sink.write(b"Loan_ID,Risk_Score\\r\\n" + b"L1,0.5\\r\\n" * 50_000)
        sink.flush()  # the rows are in the files, not in this process's buffer
    os.kill(os.getpid(), signal.SIGKILL)  # as kill -9 or a power cut would, before either file is complete
"""


def _unnamed_files_here(folder: Path) -> bool:
    """Whether this machine and file system give unnamed files (Linux, O_TMPFILE, /proc)."""
    if not report_files._UNNAMED_POSSIBLE:
        return False
    try:
        os.close(report_files._open_unnamed(folder))
    except OSError:
        return False
    return True


def _killed_mid_write(folder: Path, how: str) -> None:
    (folder / "old.csv").write_bytes(OLD)
    run = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(folder), how], cwd=ROOT,
                         capture_output=True, timeout=60)
    assert run.returncode == -signal.SIGKILL, run.stderr.decode()


def test_a_run_killed_mid_write_leaves_the_folder_as_it_was(tmp_path):
    if not _unnamed_files_here(tmp_path):
        pytest.skip("this file system has no unnamed files: the named temporary is left (tested below)")
    _killed_mid_write(tmp_path, "unnamed")
    assert sorted(os.listdir(tmp_path)) == ["old.csv"]  # no new.csv, no hidden temporary
    assert (tmp_path / "old.csv").read_bytes() == OLD


def test_without_unnamed_files_a_killed_run_leaves_only_hidden_temporaries(tmp_path):
    _killed_mid_write(tmp_path, "named")
    names = sorted(os.listdir(tmp_path))
    assert (tmp_path / "old.csv").read_bytes() == OLD  # the target is still never half-written
    assert "new.csv" not in names and len(names) == 3
    left = [n for n in names if n.startswith(TEMP_PREFIX)]
    assert sorted(n.rsplit("-", 1)[-1] for n in left) == ["new.csv", "old.csv"]


@pytest.fixture(params=["unnamed", "named"])
def how(request, tmp_path, monkeypatch) -> str:
    """Each write test twice: with unnamed files (where the system has them) and with named temporaries."""
    if request.param == "unnamed" and not _unnamed_files_here(tmp_path):
        pytest.skip("this file system has no unnamed files")
    made = []
    real_mkstemp = report_files.tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        made.append(1)
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(report_files.tempfile, "mkstemp", mkstemp)
    if request.param == "named":
        def refuse(where):
            raise OSError(errno.EOPNOTSUPP, "Operation not supported")

        monkeypatch.setattr(report_files, "_open_unnamed", refuse)
    yield request.param
    assert bool(made) == (request.param == "named")  # the path the test names is the one taken


def test_a_written_file_is_whole_with_the_users_mode_and_nothing_beside_it(tmp_path, how):
    target = tmp_path / "scored.csv"
    write_atomic(target, [b"Loan_ID,Risk_Score\r\n", b"L1,0.5\r\n"])
    assert target.read_bytes() == b"Loan_ID,Risk_Score\r\nL1,0.5\r\n"
    assert target.stat().st_mode & 0o777 == MODE
    target.write_bytes(OLD)
    write_atomic(target, b"replaced\r\n")  # an existing result is replaced in one step
    assert target.read_bytes() == b"replaced\r\n"
    assert os.listdir(tmp_path) == ["scored.csv"]


def test_an_error_mid_write_leaves_the_old_file_and_nothing_else(tmp_path, how):
    target = tmp_path / "scored.csv"
    target.write_bytes(OLD)

    def rows():
        yield b"Loan_ID,Risk_Score\r\n"
        raise RuntimeError("stopped after the header")

    with pytest.raises(RuntimeError):
        write_atomic(target, rows())
    assert os.listdir(tmp_path) == ["scored.csv"]
    assert target.read_bytes() == OLD


def test_a_full_disk_while_writing_is_one_line_and_the_old_file_stays(tmp_path, how):
    target = tmp_path / "scored.csv"
    target.write_bytes(OLD)

    def rows():
        yield b"Loan_ID,Risk_Score\r\n"
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(RecoveryError) as refused:
        write_atomic(target, rows())
    assert str(refused.value) == (f"Cannot write {target}: the disk is full. Free some space, or write to another "
                                  "disk, and run again (nothing was written there).")
    assert os.listdir(tmp_path) == ["scored.csv"]
    assert target.read_bytes() == OLD


def test_a_full_disk_when_the_complete_file_is_named_is_one_line(tmp_path, monkeypatch):
    if not _unnamed_files_here(tmp_path):
        pytest.skip("this file system has no unnamed files")
    target = tmp_path / "scored.csv"
    target.write_bytes(OLD)

    def no_room(handle, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(report_files, "_name_unnamed", no_room)
    with pytest.raises(RecoveryError, match=r"the disk is full\. Free some space"):
        write_atomic(target, b"new rows\r\n")
    assert os.listdir(tmp_path) == ["scored.csv"]
    assert target.read_bytes() == OLD


def test_a_folder_that_refuses_unnamed_files_for_another_reason_is_refused_not_bypassed(tmp_path, monkeypatch):
    target = tmp_path / "scored.csv"

    def read_only(where):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(report_files, "_UNNAMED_POSSIBLE", True)
    monkeypatch.setattr(report_files, "_open_unnamed", read_only)
    with pytest.raises(RecoveryError) as refused:
        write_atomic(target, b"rows\r\n")
    assert str(refused.value) == (f"Cannot write {target}: the folder {tmp_path} is read-only for you. Choose a "
                                  "folder you can write to.")
    assert os.listdir(tmp_path) == []
