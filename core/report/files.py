"""Crash-safe files: every file the product writes appears whole at its path, or not at all.

Bytes go to a hidden temporary file beside the target (same folder, so the final rename never
crosses a disk), are flushed to the disk, and only then replace the target in one step
(``os.replace``). An error, a kill or a full disk leaves no half-written file at the target, and
an existing file there untouched. Disk errors become one RecoveryError line naming the path.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from core.errors import RecoveryError

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
TEMP_PREFIX = ".slr-tmp-"  # a prefix no result carries, so a leftover is recognisable


def write_problem(path: Path | str, error: OSError) -> RecoveryError:
    """The one line a user sees when ``path`` cannot be written: what happened and what to do."""
    path = Path(path)
    code = error.errno
    if code in DISK_FULL:
        return RecoveryError(f"Cannot write {path}: the disk is full. Free some space, or write to another "
                             "disk, and run again (nothing was written there).")
    if code == errno.ENOENT or not path.parent.is_dir():
        return RecoveryError(f"Cannot write {path}: the folder {path.parent} does not exist. Create it, or "
                             "choose another output path.")
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return RecoveryError(f"Cannot write {path}: the folder {path.parent} is read-only for you. Choose a "
                             "folder you can write to.")
    if code == errno.EISDIR or path.is_dir():
        return RecoveryError(f"Cannot write {path}: it is a folder. Give a file name for the output.")
    return RecoveryError(f"Cannot write {path}: {error.strerror or error}. Choose another output path.")


@contextmanager
def atomic_file(path: Path | str) -> Iterator[BinaryIO]:
    """A binary file to write; it becomes ``path`` only when the block ends without an error."""
    path = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=f"-{path.name}", dir=path.parent)
    except OSError as error:
        raise write_problem(path, error) from None
    try:
        with os.fdopen(handle, "wb") as sink:
            try:
                yield sink
            except OSError as error:
                # the block also reads files: only a disk's own refusal is this file's problem
                if error.errno in DISK_FULL + (errno.EROFS, errno.EFBIG):
                    raise write_problem(path, error) from None
                raise
            sink.flush()
            os.fsync(sink.fileno())  # on the disk before the name points at it
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes 0600; a result reads like any other file
        os.replace(temporary, path)
    except OSError as error:  # closing, flushing or renaming: all this file's
        _remove(temporary)
        raise write_problem(path, error) from None
    except BaseException:
        _remove(temporary)
        raise


def write_atomic(path: Path | str, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (bytes, or pieces of bytes) to ``path`` whole, or leave ``path`` as it was."""
    with atomic_file(path) as sink:
        if isinstance(data, (bytes, bytearray, memoryview)):
            sink.write(data)
        else:
            for piece in data:
                sink.write(piece)


def same_file(a: Path | str, b: Path | str) -> bool:
    """True when two paths name one file: the same path, through a symlink, or a hard link."""
    a, b = Path(a), Path(b)
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:  # one of them does not exist yet: compare where they would point
        pass
    return a.resolve() == b.resolve()


def refuse_overwriting(outputs: dict[str, Path | None], inputs: Iterable[tuple[str, Path | None]]) -> None:
    """Refuse an output path that is one of the files being read, or that two outputs share.

    ``outputs`` maps each output's option (``-o``, ``--metrics``) to its path; ``inputs`` pairs
    what is read (``the input file``) with its path. None stands for "not given".
    """
    given = {flag: Path(p) for flag, p in outputs.items() if p is not None}
    read = [(what, Path(p)) for what, p in inputs if p is not None]
    for flag, out in given.items():
        for what, source in read:
            if same_file(out, source):
                raise RecoveryError(f"{flag} {out} is {what} ({source}): writing there would destroy it. "
                                    "Give another output path.")
    flags = list(given)
    for i, first in enumerate(flags):
        for second in flags[i + 1:]:
            if same_file(given[first], given[second]):
                raise RecoveryError(f"{first} and {second} both name {given[first]}: give each output its "
                                    "own path.")


def _remove(temporary: str) -> None:
    """Delete a temporary file, if it is still there."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)


def _read_umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back, once, at import)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once: changing the mask later would race with other threads' files
