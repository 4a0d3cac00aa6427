"""Defence in depth: a bundle is first loaded, checked and tried in a short-lived child process.

Whatever the checks miss, compiled code that crashes (a segmentation fault), spins or eats memory
on a crafted file takes down only the child: the parent sees its exit status or its timeout and
refuses the file in one line, and loads it itself only after the child said it is sound.

The child is ``python -m core.serve.isolation``: it reads one request from stdin (a JSON line with
the file's name, then the bundle's bytes), holds OpenMP and BLAS to one thread and its memory to a
bound, runs ``bundle.check_bytes`` and prints one JSON line: ``{"ok": true}`` or the refusal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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


def check_in_child(data: bytes, name: str, timeout: float = TIMEOUT_SECONDS, entry: str = _ENTRY) -> None:
    """Load, check and test-score the bundle in a child process; refuse it in one line if that fails.

    ``entry`` is the module the child runs (tests swap in one that crashes or hangs on purpose).
    """
    request = json.dumps({"name": name}).encode("utf-8") + b"\n" + data
    try:
        done = subprocess.run([sys.executable, "-m", entry], input=request, capture_output=True,
                              timeout=timeout, env=_child_environment(), cwd=_ROOT, check=False)
    except subprocess.TimeoutExpired:
        raise RecoveryError(f"{name} took more than {timeout:.0f} s to load and score test borrowers, so it is "
                            "not loaded: it is not a model this app wrote, or this machine is overloaded "
                            "(try again later).") from None
    except OSError as error:
        raise RecoveryError(f"The model check could not start ({error.strerror}): try again later.") from None
    if done.returncode < 0:
        raise RecoveryError(f"{name} crashed the process that tried it ({_signal_name(-done.returncode)}) and is "
                            "not loaded: it is damaged or crafted. Use the file as saved, or train again.")
    reply = _reply(done.stdout)
    if done.returncode == 0 and reply.get("ok") is True:
        return
    message = reply.get("error")
    if isinstance(message, str) and message:
        raise RecoveryError(" ".join(message.split())[:_MAX_REPLY])
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
