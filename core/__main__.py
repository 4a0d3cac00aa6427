"""Command line: starts a saved model's isolated check, then runs the command (``core.commands``).

    python -m core score INPUT -o OUTPUT [--preset seed] [--model KIND] [--metrics FILE] [roles …]
    python -m core report INPUT -o REPORT.html [the same options]
    python -m core train HISTORY -o MODEL.slr [--preset seed] [--model KIND] [roles …]
    python -m core score NEW -o OUTPUT --model MODEL.slr [--drift FILE] [--engine dask]   (no retraining)
    python -m core measure PLAN_WITH_OUTCOMES.csv --outcome COL [--actions ACTIONS.csv] [-o TABLE.csv] [--report M.html]
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from core.errors import RecoveryError
from core.serve import isolation, signing

_EARLY_MOST_BYTES = 256 * 1024 * 1024  # a larger file is left to the loader, which refuses it
# core.serve.batch's PARALLEL_FROM_BYTES (a test keeps them equal): a larger CSV is scored by workers
_WORKERS_FROM_BYTES = 16 * 1024 * 1024


def _given(argv: list[str], option: str) -> list[str]:
    """Every value written for ``option`` (``--model M`` or ``--model=M``), read before the options are parsed."""
    given = [argv[i + 1] for i in range(len(argv) - 1) if argv[i] == option]
    return given + [a.removeprefix(option + "=") for a in argv if a.startswith(option + "=")]


def _likely_in_workers(argv: list[str], model: Path) -> bool:
    """A guess, before parsing, that `score` streams a large CSV in worker processes (which try the model).

    Wrong either way it costs time only: a check started needlessly is waited for, a missing one
    is started by the command itself.
    """
    def value(option: str) -> str | None:
        given = _given(argv, option)
        return given[-1] if given else None

    if any(a.startswith(("--actions", "--sheet", "--chunk-bytes")) or "dask" in a for a in argv):
        return False
    if value("--workers") == "1" or any(a.lower().endswith((".xlsx", ".xls")) for a in argv):
        return False
    written = {value(o) for o in ("-o", "--output", "--metrics", "--drift", "--invalid-output")}
    try:
        if value("--workers") is None and len(os.sched_getaffinity(0)) < 2:
            return False
        sizes = [Path(a).stat().st_size for a in argv[1:] if not a.startswith("-") and a not in written
                 and Path(a).is_file() and not _same_path(Path(a), model)]
    except (OSError, AttributeError):
        return False
    return bool(sizes) and (value("--workers") is not None or max(sizes) > _WORKERS_FROM_BYTES)


def _same_path(a: Path, b: Path) -> bool:
    """True when two paths name the same file (False when either cannot be looked at)."""
    try:
        return a.samefile(b)
    except OSError:
        return False


def _check_saved_model_early(argv: list[str]) -> None:
    """For `score … --model FILE.slr`: start the model's isolated check before the libraries below import.

    The child then loads and tries the file while this process imports pandas and scikit-learn
    (seconds); the command joins the same check (same bytes) when it loads the model. Anything
    unusual (no such file, an abbreviated option, a signing key) leaves it to the command itself.
    A large CSV streamed by worker processes needs no child: each worker tries the model itself.
    """
    try:
        if argv[:1] != ["score"] or signing.signing_key() is not None:
            return
    except RecoveryError:  # a key too short: the command says so
        return
    given = _given(argv, "--model")
    if len(given) != 1:
        return
    path = Path(given[0])
    try:
        if path.suffix.lower() == ".slr" and path.is_file() and path.stat().st_size <= _EARLY_MOST_BYTES:
            if not any("dask" in a for a in argv):
                # skops' import reaches dask through scikit-learn (0.7 s); only --engine dask uses it
                sys.modules.setdefault("dask", None)
            if not _likely_in_workers(argv, path):
                isolation.start_check(path.read_bytes(), path.name)
    except OSError:
        return


if __name__ == "__main__":
    # the modules imported next live as long as the command does: the collector need not look for
    # garbage among them while they load (a few hundred passes), and it is frozen out of them below
    gc.disable()
    _check_saved_model_early(sys.argv[1:])

from core.commands import main  # after the check has started: this imports pandas and scikit-learn


def _end(code: int) -> None:
    """End the process once what the command printed is flushed, skipping the interpreter's teardown.

    Every file the command wrote is closed and renamed into place and its worker processes are
    joined by now; tearing down pandas, scikit-learn and skops module by module would only add half
    a second to every run (the isolated check's child ends the same way).
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: the status Python itself ends with when it cannot flush
        code = code or 120
    os._exit(code)


if __name__ == "__main__":
    # frozen, the libraries just imported are not walked again by the collector's full passes while
    # the command runs (tenths of a second in a run that builds a saved model)
    gc.freeze()
    gc.enable()
    _end(main())
