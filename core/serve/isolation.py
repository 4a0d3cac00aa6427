"""Defence in depth: a bundle is first loaded, checked and tried in a short-lived child process.

Whatever the checks miss, compiled code that crashes (a segmentation fault), spins or eats memory
on a crafted file takes down only the child: the parent sees its exit status or its timeout and
refuses the file in one line, and loads it itself only after the child said it is sound.

The child is ``python -m core.serve.isolation``: it reads one request from stdin (a JSON line with
the file's name, then the bundle's bytes), holds OpenMP and BLAS to one thread and its memory to a
bound, runs ``bundle.check_bytes`` and prints one JSON line: ``{"ok": true}`` or the refusal.

The verdict (sound, or the refusal's line) is kept in this process's memory, keyed by the SHA-256 of
the bundle's bytes and never written to disk: the same file handed in again (a page rerun, a second
upload) is not tried again, and any other byte sequence is. A check can start in a background thread
(``start_check``) while the caller reads the file it will score, and is joined when the model is loaded.

A process that may die for the file anyway (a worker forked to score it) builds it itself under the
same bounds (``build_here``), and its parent refuses a crash or a timeout there in the same words.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections import OrderedDict
from pathlib import Path

from core.errors import RecoveryError

# A real bundle loads and scores its test rows in about a second once the libraries are imported
# (about two seconds on this machine); a file that needs far longer is refused, not waited for.
TIMEOUT_SECONDS = 60.0
MEMORY_BYTES = 4 * 1024**3  # address space the child may map: a bundle needs well under 1 GB
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                     "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the core package
_ENTRY = "core.serve.isolated_check"  # the child: loads and checks, then exits
_MAX_REPLY = 4096
_KEPT_VERDICTS = 64  # bundles whose verdict this process remembers (the oldest forgotten first)
# (entry, SHA-256 of the bytes) -> None when sound, else (the name it was checked under, the refusal's
# line); in memory only
_VERDICTS: OrderedDict[tuple[str, str], tuple[str, str] | None] = OrderedDict()
_RUNNING: dict[tuple[str, str], _Check] = {}
_LOCK = threading.Lock()


def _child_environment() -> dict[str, str]:
    """The parent's environment, one thread per library, the project importable, no signing key."""
    env = {k: v for k, v in os.environ.items() if k != "LOAN_RECOVERY_SIGNING_KEY"}
    env.update({k: "1" for k in _THREAD_VARIABLES})
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return env


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


class _Verdict(RecoveryError):
    """A refusal that says what the file is, so it is remembered for the same bytes."""


class _Check:
    """One child's check running in a background thread; ``wait`` gives its verdict."""

    def __init__(self, data: bytes, name: str, timeout: float, entry: str, key: tuple[str, str]):
        self.key, self.name, self.error = key, name, None
        self.thread = threading.Thread(target=self._run, args=(data, name, timeout, entry), daemon=True,
                                       name="bundle-check")
        self.thread.start()

    def _run(self, data: bytes, name: str, timeout: float, entry: str) -> None:
        try:
            _run_child(data, name, timeout, entry)
        except BaseException as error:  # carried to the waiting thread and raised there
            self.error = error
        with _LOCK:
            _RUNNING.pop(self.key, None)
            if self.error is None or isinstance(self.error, _Verdict):
                _VERDICTS[self.key] = None if self.error is None else (self.name, str(self.error))
                while len(_VERDICTS) > _KEPT_VERDICTS:
                    _VERDICTS.popitem(last=False)

    def wait(self) -> None:
        """Return when the child said the bundle is sound; raise its refusal otherwise."""
        self.thread.join()
        if self.error is not None:
            raise RecoveryError(str(self.error)) if isinstance(self.error, RecoveryError) else self.error


def _verdict_key(data: bytes, entry: str) -> tuple[str, str]:
    return entry, hashlib.sha256(data).hexdigest()


def start_check(data: bytes, name: str, timeout: float = TIMEOUT_SECONDS, entry: str = _ENTRY) -> None:
    """Start checking the bundle in a child in the background (no-op when its verdict is known or coming)."""
    key = _verdict_key(data, entry)
    with _LOCK:
        if key in _VERDICTS or key in _RUNNING:
            return
        _RUNNING[key] = _Check(data, name, timeout, entry, key)


def check_in_child(data: bytes, name: str, timeout: float = TIMEOUT_SECONDS, entry: str = _ENTRY) -> None:
    """Load, check and test-score the bundle in a child process; refuse it in one line if that fails.

    A verdict this process already has for the same bytes is given again without a child (a
    refusal in the same words); a check started for them (``start_check``) is waited for.
    ``entry`` is the module the child runs (tests swap in one that crashes or hangs on purpose).
    """
    key = _verdict_key(data, entry)
    with _LOCK:
        if key in _VERDICTS:
            _VERDICTS.move_to_end(key)
            known = _VERDICTS[key]
            if known is None:
                return
            checked_as, message = known
            raise RecoveryError(name + message[len(checked_as):] if message.startswith(checked_as) else message)
        running = _RUNNING.get(key) or _Check(data, name, timeout, entry, key)
        _RUNNING[key] = running
    running.wait()


def timed_out(name: str, timeout: float = TIMEOUT_SECONDS) -> RecoveryError:
    """The refusal of a bundle that took longer than ``timeout`` to load and try."""
    return RecoveryError(f"{name} took more than {timeout:.0f} s to load and score test borrowers, so it is "
                         "not loaded: it is not a model this app wrote, or this machine is overloaded "
                         "(try again later).")


def crashed(name: str, code: int) -> RecoveryError:
    """The refusal of a bundle that killed the process trying it with signal ``code``."""
    return RecoveryError(f"{name} crashed the process that tried it ({_signal_name(code)}) and is "
                         "not loaded: it is damaged or crafted. Use the file as saved, or train again.")


def not_tried(name: str, error: Exception) -> RecoveryError:
    """The refusal of a bundle whose loading or trying stopped on an error no check names."""
    return RecoveryError(f"{name} could not be loaded and tried ({type(error).__name__}): it is not loaded. "
                         "Use the file as saved, or train again.")


def join_check(data: bytes, name: str, entry: str = _ENTRY) -> None:
    """Give the verdict of a check already known or started for these bytes; no-op (no child) otherwise."""
    key = _verdict_key(data, entry)
    with _LOCK:
        started = key in _VERDICTS or key in _RUNNING
    if started:
        check_in_child(data, name, entry=entry)


def build_here(build, name: str, timeout: float = TIMEOUT_SECONDS, limit: int = MEMORY_BYTES):
    """``build()`` in a process that may die for it (a scoring worker), under the isolated child's bounds.

    Like the child: at most ``limit`` more bytes of address space (the bound is lifted again after)
    and ``timeout`` seconds, after which SIGALRM ends the process; a crash or that alarm ends only
    this process, and its parent refuses the file with ``crashed`` or ``timed_out``. A MemoryError
    or any other exception is refused in one line, as the child would.
    """
    import resource

    previous = signal.signal(signal.SIGALRM, signal.SIG_DFL)  # default action: the process ends
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    mapped = _address_space()
    try:
        if mapped:  # unknown: no bound rather than one the worker's own libraries may already pass
            cap = mapped + limit
            resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    except (ValueError, OSError):
        pass
    signal.alarm(max(1, int(timeout)))
    try:
        return build()
    except RecoveryError:
        raise
    except MemoryError:
        raise RecoveryError(f"{name} needs more memory to load than a model bundle may: it is not loaded.") from None
    except Exception as error:
        raise not_tried(name, error) from None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _address_space() -> int:
    """Bytes of address space this process maps now (Linux; 0 where it cannot be read)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _run_child(data: bytes, name: str, timeout: float, entry: str) -> None:
    """Run one child on the bundle; raise a _Verdict for what the file is, RecoveryError for this machine."""
    request = json.dumps({"name": name}).encode("utf-8") + b"\n" + data
    try:
        done = subprocess.run([sys.executable, "-m", entry], input=request, capture_output=True,
                              timeout=timeout, env=_child_environment(), cwd=_ROOT, check=False)
    except subprocess.TimeoutExpired:
        raise timed_out(name, timeout) from None
    except OSError as error:
        raise RecoveryError(f"The model check could not start ({error.strerror}): try again later.") from None
    if done.returncode < 0:
        raise _Verdict(str(crashed(name, -done.returncode)))
    reply = _reply(done.stdout)
    if done.returncode == 0 and reply.get("ok") is True:
        return
    message = reply.get("error")
    if isinstance(message, str) and message:
        raise _Verdict(" ".join(message.split())[:_MAX_REPLY])
    raise RecoveryError(f"{name} could not be loaded and tried (the check stopped with status {done.returncode}, "
                        "perhaps out of memory): it is not loaded. Use the file as saved, or train again.")


def _reply(stdout: bytes) -> dict:
    """The child's last line as JSON, or {} when it printed none (it died first)."""
    lines = stdout.strip().splitlines()
    try:
        reply = json.loads(lines[-1]) if lines else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return reply if isinstance(reply, dict) else {}


def limit_memory(limit: int = MEMORY_BYTES) -> None:
    """Bound the child's address space, where the platform allows it (Linux does)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):
        pass


def read_request() -> tuple[str, bytes]:
    """The file's name and the bundle's bytes from stdin."""
    raw = sys.stdin.buffer.read()
    header, _, data = raw.partition(b"\n")
    name = json.loads(header).get("name")
    return (name if isinstance(name, str) else "the model file"), data
