"""Crash-safe files: every file the product writes appears whole at its path, or not at all.

Bytes go to a file beside the target (same folder, so the final rename never crosses a disk), are
flushed to the disk, and only then replace the target in one step (``os.replace``). On Linux that
file has no name while it is written (O_TMPFILE): a killed run or a power cut leaves nothing in the
folder. It is linked to a hidden name only once complete, and renamed onto the target at once.
Elsewhere (no O_TMPFILE, a file system that refuses it, no /proc) it is a hidden named temporary,
which a kill leaves behind. An error, a kill or a full disk leaves no half-written file at the
target, and an existing file there untouched. Disk errors become one RecoveryError line naming the path.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from core.errors import RecoveryError

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
TEMP_PREFIX = ".slr-tmp-"  # a prefix no result carries, so a leftover is recognisable
# what open(O_TMPFILE) says where the kernel or the file system has no unnamed files (an old kernel
# reads the flag as O_DIRECTORY, hence EISDIR): the named temporary is used instead
UNNAMED_UNSUPPORTED = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL)


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
        handle, temporary = _temporary(path)
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
            # mkstemp makes 0600 and O_TMPFILE takes a default ACL: a result reads like any other file
            os.fchmod(sink.fileno(), 0o666 & ~_UMASK)
            os.fsync(sink.fileno())  # on the disk before the name points at it
            if temporary is None:  # complete: only now does it get a (hidden) name, renamed at once
                temporary = _name_unnamed(sink.fileno(), path)
        os.replace(temporary, path)
    except OSError as error:  # closing, flushing, naming or renaming: all this file's
        _remove(temporary)
        raise write_problem(path, error) from None
    except BaseException:
        _remove(temporary)
        raise


def _temporary(path: Path) -> tuple[int, str | None]:
    """A file to fill beside ``path``: unnamed (None) where the system allows, else a hidden named one."""
    if _UNNAMED_POSSIBLE:
        try:
            return _open_unnamed(path.parent), None
        except OSError as error:
            if error.errno not in UNNAMED_UNSUPPORTED:
                raise  # a missing or read-only folder, a full disk: the same refusal either way
    handle, temporary = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=f"-{path.name}", dir=path.parent)
    return handle, temporary


def _open_unnamed(folder: Path) -> int:
    """A file in ``folder`` that has no name (Linux O_TMPFILE): closed without a link, it is gone."""
    return os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o666 & ~_UMASK)


def _name_unnamed(handle: int, path: Path) -> str:
    """Link a complete unnamed file into ``path``'s folder under a fresh hidden name, and return it."""
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        while True:
            hidden = f"{TEMP_PREFIX}{secrets.token_hex(4)}-{path.name}"
            try:
                # dst_dir_fd makes Python call linkat(AT_SYMLINK_FOLLOW); without it Python 3.11 calls
                # link(), which links the /proc symlink itself and fails with EXDEV
                os.link(f"/proc/self/fd/{handle}", hidden, dst_dir_fd=folder, follow_symlinks=True)
            except FileExistsError:
                continue  # another writer's name: draw again, as mkstemp does
            return str(path.parent / hidden)
    finally:
        os.close(folder)


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


def _remove(temporary: str | None) -> None:
    """Delete a temporary file, if it has a name and is still there."""
    if temporary is None:  # an unnamed file vanishes when it is closed
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)


def _read_umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back, once, at import)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once: changing the mask later would race with other threads' files
# an unnamed file is named through /proc/self/fd: without O_TMPFILE or /proc, named temporaries
_UNNAMED_POSSIBLE = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")
