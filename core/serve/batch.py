"""Score a CSV file larger than memory with a saved model: read, check, score and write in chunks.

The file is cut into chunks at record boundaries (a line end outside quotes); each chunk, with the
header in front, is read and checked exactly as a whole file is (``load_portfolio``; after a
process's first chunk, ``core.data.chunk_check`` parses a regular chunk with that chunk's layout and
types its numbers once, and reads any other chunk the whole way) and scored with the saved model,
whose every step is per borrower, then appended to the output. Row numbers are the file's own, so
the output equals the one-piece scoring row for row, in flat memory.

Chunks are independent (``score_chunk``), so a large file is scored by forked worker processes
side by side (one thread each), while this process reads the chunks ahead and checks, counts and
writes the results in file order (encoding, repeated loans across chunks, the first invalid row):
the output is the same bytes whatever the number of workers. Given an ``Unbuilt`` bundle (only the
checks that build nothing run in this process), each worker builds, checks and tries the model
itself under the isolated check's bounds, so this process never deserialises it; a worker that
dies building it refuses the file in the isolated check's words. The Dask engine scores its blocks
with the same ``score_chunk``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from core.data import ChunkLayout, layout_of, load_chunk, load_portfolio, record_ends, separator_of
from core.errors import RecoveryError
from core.pipeline import analysable_rows
from core.report import atomic_file, to_csv_bytes
from core.serve import isolation
from core.serve.bundle import Bundle, Unbuilt
from core.serve.drift import DriftCounts
from core.serve.score import score_rows

# About 50,000 borrowers of a 21-column file: large enough that per-chunk costs vanish, small
# enough that a chunk's text, typed rows and reasons stay well under the memory target.
CHUNK_BYTES = 8 * 1024 * 1024
_UTF8 = ("utf-8", "utf-8-sig", "ascii")
_LF = ord("\n")
_READ_BYTES = 64 * 1024 * 1024  # most read from the file at once
MAX_WORKERS = 2  # this product's machines have two cores; more would only queue
PARALLEL_FROM_BYTES = 2 * CHUNK_BYTES  # a smaller file is scored in this process: a worker would not pay
ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
              "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class Chunk:
    """A run of whole records and the file record number of its first one (the header is 1)."""

    data: bytes
    first_record: int


def _record_ends(data: bytes | memoryview, separator: bytes = b",") -> np.ndarray:
    """Positions of the line ends that end a record in bytes that start a record (quotes as csv.reader reads them)."""
    return record_ends(data, separator)


def _records_in(data: bytes, limit: int, separator: bytes) -> tuple[int, int]:
    """How many records end in ``data[:limit]`` (``data`` starts a record), and the byte after the last one's end."""
    if data.find(b'"', 0, limit) < 0:
        # no quote, so every line end ends a record (what _record_ends finds): one counting pass and
        # a search back from the end, instead of finding every end's position and every quote's
        line_ends = np.count_nonzero(np.frombuffer(data, dtype=np.uint8, count=min(limit, len(data))) == _LF)
        return int(line_ends), data.rfind(b"\n", 0, limit) + 1
    ends = _record_ends(memoryview(data)[:limit], separator)
    return len(ends), (int(ends[-1]) + 1 if len(ends) else 0)


def read_chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> tuple[bytes, Iterator[Chunk]]:
    """The header record's bytes, and the records after it in chunks of about ``chunk_bytes``."""
    handle = open(path, "rb")  # noqa: SIM115 - the chunk generator below closes it when it ends
    step = min(chunk_bytes, _READ_BYTES)
    first = handle.read(1024 * 1024)
    separator = separator_of(first)
    ends = _record_ends(first, separator)
    while not len(ends):
        more = handle.read(_READ_BYTES)
        if not more:
            break
        first += more
        separator = separator_of(first)
        ends = _record_ends(first, separator)
    cut = int(ends[0]) + 1 if len(ends) else len(first)
    header, rest = first[:cut], first[cut:]
    if not header.strip(b" \t\r\n\xef\xbb\xbf"):
        handle.close()
        raise RecoveryError(f"{path.name} starts with a blank line: remove it so the header is the first line.")

    def chunks() -> Iterator[Chunk]:
        pending, record, ended = rest, 2, False
        with handle:
            while pending or not ended:
                while len(pending) < chunk_bytes and not ended:
                    block = handle.read(step)
                    ended = not block
                    pending += block
                ends, after_last = _records_in(pending, chunk_bytes, separator)
                if not ends:
                    ends, after_last = _records_in(pending, len(pending), separator)  # one record longer than a chunk
                if not ends and not ended:
                    more = handle.read(step)
                    ended = not more
                    pending += more
                    continue
                cut = len(pending) if not ends or (ended and len(pending) <= chunk_bytes) else after_last
                piece, pending = pending[:cut], pending[cut:]
                yield Chunk(piece, record)
                # cut after the last end found: those ends are the piece's records (no second scan)
                whole = ends and cut == after_last
                record += (ends if whole else len(_record_ends(piece, separator))) + (
                    0 if piece.endswith(b"\n") else 1)

    return header, chunks()


# a byte that is not blank, a separator nor a quote: a value
_A_VALUE = re.compile(rb"[^ \t\r\n,;|\"']")


def _has_values(piece: bytes) -> bool:
    """False for a chunk of blank lines only (the file reader would call it a file without rows).

    Searched, not stripped: strip would copy the whole chunk to find its first value.
    """
    return _A_VALUE.search(piece) is not None


def _shift_problems(portfolio, offset: int) -> list[str]:
    """The chunk's error lines, with the file's own row numbers."""
    return [dataclasses.replace(p, rows=tuple(r + offset for r in p.rows)).line()
            for p in portfolio.report.errors()]


@dataclass
class StreamSummary:
    """What a streamed scoring did: rows scored and excluded, strategies, drift."""

    scored: int = 0
    excluded: int = 0
    chunks: int = 0
    strategies: dict[str, int] = dataclasses.field(default_factory=dict)
    workers: int = 1


_MARKS = {"dot": "decimal point (1,234.56)", "comma": "decimal comma (1.234,56)"}


class DecimalMarks:
    """The decimal mark each numeric column was read with in earlier parts, so parts that disagree are refused.

    A whole file's column is read in the mark most of its values show; a part sees only its own
    values, so a file whose parts differ would be read one way here and another way there.
    """

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], tuple[str, int]] = {}

    def check(self, name: str, first_record: int, marks: dict[str, str]) -> None:
        """Refuse a part whose column was read with another mark than an earlier part's."""
        for column, mark in marks.items():
            earlier, row = self.seen.setdefault((name, column), (mark, first_record))
            if earlier != mark:
                raise RecoveryError(f"{name}: {column} reads with a {_MARKS[earlier]} in the part from row {row} and "
                                    f"a {_MARKS[mark]} in the part from row {first_record}: one column must use "
                                    "one decimal mark in the whole file. Write it one way and run again.")


class _SeenLoans:
    """Loan IDs of earlier chunks, as sorted 64-bit hashes, to find a loan repeated across chunks."""

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype=np.uint64)

    def check(self, hashes: np.ndarray, ids, rows: np.ndarray) -> None:
        """Refuse a Loan_ID an earlier chunk had; remember this chunk's (``hashes`` of ``ids``, at file ``rows``)."""
        if not len(hashes):
            return
        # looked up in sorted order: the searches then walk the earlier hashes forwards (a third of the time)
        ordered = np.sort(hashes)
        if len(self.hashes):
            at = np.minimum(np.searchsorted(self.hashes, ordered), len(self.hashes) - 1)
            found = self.hashes[at] == ordered
            if found.any():
                first = int(np.argmax(np.isin(hashes, ordered[found])))  # the chunk's first, in file order
                raise RecoveryError(f"Loan_ID '{ids[first]}' at row {int(rows[first])} was already earlier in the "
                                    "file: every loan must appear once. Fix the duplicate and run again.")
        # two sorted runs: the stable sort (timsort) merges them in linear time
        self.hashes = np.sort(np.concatenate([self.hashes, ordered]), kind="stable")


@dataclass
class ChunkScored:
    """One chunk read, checked and scored: the CSV bytes to append and what the whole run adds up."""

    first_record: int
    encoding: str
    separator: str
    refusal: str | None = None  # the chunk's invalid rows, when they are not to be dropped
    scored_csv: bytes = b""  # with its header, whose length is header_bytes
    header_bytes: int = 0
    invalid_csv: bytes = b""  # excluded rows as the file had them, with their header
    invalid_header_bytes: int = 0
    scored: int = 0
    excluded: int = 0
    strategies: dict[str, int] = dataclasses.field(default_factory=dict)
    decimal_marks: dict[str, str] = dataclasses.field(default_factory=dict)  # per column header
    # the chunk's Loan_IDs (text, for the message), their hashes (loan_hashes) and file row numbers
    loan_ids: object = dataclasses.field(default_factory=lambda: np.empty(0, dtype=object))
    loan_hashes: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    loan_rows: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, dtype=np.int64))
    drift: DriftCounts | None = None
    table: pd.DataFrame | None = None  # the scored rows themselves, when asked for instead of CSV bytes


# Per process, what the first chunk read under each header settled (see core.data.chunk_check): a
# later chunk under the same header is parsed with it and its numbers typed once, or read the whole
# way when it is anything but regular; either way it reads as load_portfolio(header + chunk) would.
_LAYOUTS: dict[bytes, ChunkLayout | None] = {}
_MOST_LAYOUTS = 16  # a few files' headers; more would only be a cluster's many files, each read afresh


def _load(header: bytes, chunk: Chunk, name: str):
    """The chunk read and checked as ``load_portfolio(header + chunk)``; the first under a header sets its layout."""
    if header in _LAYOUTS:
        return load_chunk(header, chunk.data, name, _LAYOUTS[header])
    portfolio = load_portfolio(header + chunk.data, name)
    if len(_LAYOUTS) >= _MOST_LAYOUTS:
        _LAYOUTS.clear()
    _LAYOUTS[header] = layout_of(header, portfolio)
    return portfolio


def _header_length(csv_bytes: bytes) -> int:
    """Bytes of a written CSV's header record (its first line end outside quotes)."""
    ends = _record_ends(memoryview(csv_bytes)[:64 * 1024])
    if not len(ends):
        ends = _record_ends(csv_bytes)
    return int(ends[0]) + 1 if len(ends) else len(csv_bytes)


def score_chunk(bundle: Bundle, header: bytes, chunk: Chunk, name: str, drop_invalid: bool = False,
                drift_profile: dict | None = None, as_table: bool = False) -> ChunkScored:
    """Read, check and score one chunk exactly as a whole file is (``load_portfolio``), rows numbered as in the file.

    Pure in its inputs, so chunks can be scored in any process in any order and put together in
    file order; ``drift_profile`` (the training profile) counts drift only when it is given.
    """
    portfolio = _load(header, chunk, name)
    info, offset = portfolio.info, chunk.first_record - 2
    done = ChunkScored(chunk.first_record, info.encoding, info.separator)
    done.decimal_marks = {portfolio.mapping.get(f, f): m for f, m in portfolio.decimal_marks.items()}
    if info.encoding not in _UTF8:
        return done  # refused by the caller, which names the file's encoding
    if not portfolio.report.ok and not drop_invalid:
        done.refusal = ("\n".join(_shift_problems(portfolio, offset)) +
                        f"\n{len(portfolio.report.invalid_rows)} invalid row(s) from row "
                        f"{chunk.first_record} on (the file was read in parts; there may be "
                        "more further on): fix them, or rerun with --drop-invalid to exclude them.")
        return done
    if "Loan_ID" in portfolio.frame.columns:
        ids = portfolio.frame["Loan_ID"].dropna().astype(str)
        # hashed here, where chunks are scored side by side, and sent as Arrow text (pickled as a few
        # buffers, not one Python string per loan): the hashes equal those of the IDs as Python strings,
        # hashed one by one (categorize=False changes no hash; it skips finding the distinct IDs first,
        # which IDs nearly all are, at half the cost)
        done.loan_ids, done.loan_rows = ids.array, ids.index.to_numpy(dtype=np.int64) + offset
        done.loan_hashes = pd.util.hash_array(done.loan_ids.to_numpy(dtype=object), categorize=False)
    rows = analysable_rows(portfolio, drop_invalid)
    if not portfolio.report.ok:
        invalid = portfolio.invalid_rows()
        invalid.index = invalid.index + offset
        invalid = invalid.reset_index()
        done.invalid_csv = to_csv_bytes(invalid)
        done.invalid_header_bytes = _header_length(done.invalid_csv)
        done.excluded = len(invalid)
    if len(rows):
        result = score_rows(bundle, rows, name, summarise=False)
        table = result.table
        table["File_Row"] = table["File_Row"] + offset
        if as_table:
            done.table = table
        else:
            done.scored_csv = to_csv_bytes(table)
            done.header_bytes = _header_length(done.scored_csv)
        done.scored = len(table)
        done.strategies = {str(k): int(n) for k, n in table["Recovery_Strategy"].value_counts(sort=False).items()}
        if drift_profile is not None:
            done.drift = DriftCounts(drift_profile).add(result.features, result.scores)
    return done


# A worker's bundle and settings, set once when the pool forks it (never pickled, never per chunk)
_WORKER: dict = {}


def _start_worker(bundle: Bundle | Unbuilt, name: str, drop_invalid: bool, drift_profile: dict | None,
                  building=None) -> None:
    """In a forked worker: one thread per library (the workers are the parallelism), the bundle kept.

    ``building``: shared slots where a worker building an ``Unbuilt`` bundle writes its process ID
    while it builds, so the parent can tell a crash there (the file's fault) from a later one.
    """
    import gc

    import pyarrow as pa

    # what the worker inherits (the libraries, the audited tree) lives as long as it does: frozen,
    # its full collections walk only what it makes itself, and never write to the pages it shares
    gc.freeze()
    for variable in ONE_THREAD:
        os.environ[variable] = "1"
    _WORKER["limits"] = threadpool_limits(limits=1)  # kept: the limits last as long as the worker
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    _WORKER.update(bundle=bundle, name=name, drop_invalid=drop_invalid, drift_profile=drift_profile,
                   building=building, refusal=None)


def _worker_bundle() -> Bundle:
    """The worker's bundle; an ``Unbuilt`` one is built, checked and tried here first, once per worker."""
    w = _WORKER
    if w["refusal"] is not None:
        raise RecoveryError(w["refusal"])
    if isinstance(w["bundle"], Unbuilt):
        unbuilt, building = w["bundle"], w["building"]
        slots = building.get_obj()
        with building.get_lock():  # claimed under the lock; a worker's own slot is written without it
            slot = next((i for i, pid in enumerate(slots) if pid == 0), None)
            if slot is not None:
                slots[slot] = os.getpid()
        try:
            w["bundle"] = isolation.build_here(unbuilt.build, unbuilt.name)
        except RecoveryError as error:
            w["refusal"] = str(error)
            raise
        finally:
            if slot is not None:
                slots[slot] = 0
    return w["bundle"]


def _worker_chunk(header: bytes, chunk: Chunk) -> ChunkScored:
    """Score one chunk in a worker with the bundle it was forked with."""
    w = _WORKER
    return score_chunk(_worker_bundle(), header, chunk, w["name"], w["drop_invalid"], w["drift_profile"])


def _worker_try() -> None:
    """Build and try the worker's bundle (for a file with no chunk to score, so the file is still tried)."""
    _worker_bundle()


def _exit_code(process, seconds: float = 5.0) -> int | None:
    """A pool process's exit status once it has ended (None if it still runs after ``seconds``).

    The pool's own thread reaps its processes too: a read that loses that race sees no status yet
    for a moment, so it is read again rather than taken for a process still running.
    """
    import time

    deadline = time.monotonic() + seconds
    while True:
        process.join(0.1)
        code = process.exitcode
        if code is not None or time.monotonic() > deadline:
            return code


def _pool_stopped(pool, building, path: Path, model_name: str) -> RecoveryError:
    """Why the worker pool broke: a worker that died building the bundle refuses it, else the run stops."""
    import signal

    if building is not None:
        # the pool's processes by ID (a private attribute, read only for their exit status)
        processes = getattr(pool, "_processes", None) or {}
        # read without the lock: a worker the pool terminated may have died holding it
        pids = [pid for pid in building.get_obj() if pid]
        for pid in pids:
            process = processes.get(pid)
            if process is None:
                continue
            code = _exit_code(process)
            if code is None or code >= 0 or -code == signal.SIGTERM:  # SIGTERM: the pool ended it after another
                continue
            return (isolation.timed_out(model_name) if -code == signal.SIGALRM
                    else isolation.crashed(model_name, -code))
    return RecoveryError(f"A process scoring {path.name} stopped before it finished (the system may have "
                         "ended it for want of memory): run again, or with --workers 1.")


def default_workers(path: Path, chunk_bytes: int) -> int:
    """Processes worth starting: one per core this process may use (at most 2); one for a file of a few chunks."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores)) if path.stat().st_size > max(PARALLEL_FROM_BYTES, 2 * chunk_bytes) else 1


def even_chunk_bytes(size: int, workers: int, chunk_bytes: int = CHUNK_BYTES) -> int:
    """About ``chunk_bytes``, evened out so that a file of ``size`` bytes cuts into parts all workers end together.

    Each part goes to the worker that is free: 17 full parts and a small 18th leave one worker
    scoring its ninth full part while the other, done with the small one, waits for it. Cut into
    a multiple of ``workers`` equal parts instead, each worker scores as many bytes as the other.
    """
    if workers <= 1 or size <= chunk_bytes:
        return chunk_bytes
    parts = -(-size // chunk_bytes)  # rounded up, so no part is larger than chunk_bytes was
    parts = -(-parts // workers) * workers
    even = -(-size // parts)
    # a part ends at its last whole record, a little short of its bytes: 1/256 more room keeps
    # those shortfalls (under a record each) inside the last part rather than in a tiny extra one
    return even + even // 256


def _scored_in_order(bundle: Bundle | Unbuilt, path: Path, header: bytes, chunks: Iterator[Chunk], drop_invalid: bool,
                     drift_profile: dict | None, workers: int) -> Iterator[ChunkScored]:
    """Every chunk with values scored, in file order: here, or by ``workers`` forked processes side by side."""
    chunks = (c for c in chunks if _has_values(c.data))
    if workers <= 1:
        for chunk in chunks:
            yield score_chunk(bundle, header, chunk, path.name, drop_invalid, drift_profile)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # fork: the workers start with the checked bundle in memory (nothing pickled), or with an
    # Unbuilt one that each builds and tries itself, so this process never deserialises it;
    # at most two chunks per worker are in flight, so memory stays flat however long the file is
    context = multiprocessing.get_context("fork")
    building = context.Array("q", workers) if isinstance(bundle, Unbuilt) else None
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                               initargs=(bundle, path.name, drop_invalid, drift_profile, building))
    try:
        pending: deque = deque()
        submitted = False
        for chunk in chunks:
            pending.append(pool.submit(_worker_chunk, header, chunk))
            submitted = True
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        if not submitted and building is not None:
            pool.submit(_worker_try).result()  # no rows to score: the file is still refused if it must be
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool:
        raise _pool_stopped(pool, building, path, getattr(bundle, "name", "")) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # at most the chunks in flight finish first


def stream_score(
    bundle: Bundle | Unbuilt, path: Path, output: Path, *, drop_invalid: bool = False,
    invalid_output: Path | None = None, drift: DriftCounts | None = None,
    chunk_bytes: int | None = None, progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> StreamSummary:
    """Score ``path`` chunk by chunk into ``output`` (CSV); invalid rows stop it unless dropped.

    Chunks are scored in this process or, with ``workers`` > 1 (default: one per core for a file
    of more than a few chunks), by forked worker processes side by side; either way they are
    checked and written in file order, so the output is the same byte for byte. The output
    streams into a temporary file beside ``output`` that takes its name only when every chunk is
    written: an error, a kill or a full disk never leaves a half-scored file there as if it were
    complete, and an earlier file at that path stays as it was. ``drift`` is counted only when given.
    An ``Unbuilt`` bundle (``bundle.audit``) is built and tried by each worker: it needs ``workers`` > 1.
    Parts are ``chunk_bytes`` long when it is given, else about CHUNK_BYTES, evened out across the workers.
    """
    workers = default_workers(path, chunk_bytes or CHUNK_BYTES) if workers is None else max(1, workers)
    if chunk_bytes is None:
        chunk_bytes = even_chunk_bytes(path.stat().st_size, workers, CHUNK_BYTES)
    if isinstance(bundle, Unbuilt) and workers <= 1:
        raise ValueError("an Unbuilt bundle is built only in worker processes: load it (bundle.loads) to score here")
    header, chunks = read_chunks(path, chunk_bytes)
    summary, seen, marks = StreamSummary(workers=workers), _SeenLoans(), DecimalMarks()
    expected_header: bytes | None = None
    encoding = separator = None
    profile = drift.training if drift is not None else None
    with atomic_file(output) as sink, ExitStack() as side:
        invalid_sink = None  # opened on the first invalid row, closed with the output, also on an error
        for done in _scored_in_order(bundle, path, header, chunks, drop_invalid, profile, workers):
            if encoding is None:
                encoding, separator = done.encoding, done.separator
                if encoding not in _UTF8:
                    raise RecoveryError(f"{path.name} is {encoding} text; scoring in chunks reads UTF-8: save "
                                        "it as 'CSV UTF-8' and run again.")
            elif (done.encoding, done.separator) != (encoding, separator):
                raise RecoveryError(f"{path.name} reads differently from row {done.first_record} on "
                                    f"(separator {done.separator!r}, not {separator!r}): check the file there.")
            if done.refusal is not None:
                raise RecoveryError(done.refusal)
            marks.check(path.name, done.first_record, done.decimal_marks)
            seen.check(done.loan_hashes, done.loan_ids, done.loan_rows)
            if done.excluded:
                if invalid_sink is None:
                    invalid_sink = side.enter_context(atomic_file(invalid_output))
                    invalid_sink.write(done.invalid_csv)
                else:
                    invalid_sink.write(done.invalid_csv[done.invalid_header_bytes:])
                summary.excluded += done.excluded
            if done.scored:
                if expected_header is None:
                    expected_header = done.scored_csv[:done.header_bytes]
                    sink.write(done.scored_csv)
                elif done.scored_csv[:done.header_bytes] != expected_header:
                    raise RecoveryError("A part of the file gave other columns than the first part: check the "
                                        "file's header.")
                else:
                    sink.write(memoryview(done.scored_csv)[done.header_bytes:])
                if drift is not None and done.drift is not None:
                    drift.merge(done.drift)
                for name, n in done.strategies.items():
                    summary.strategies[name] = summary.strategies.get(name, 0) + n
                summary.scored += done.scored
            summary.chunks += 1
            if progress is not None:
                progress(summary.scored)
        if summary.scored == 0 and summary.excluded == 0:  # raised inside: nothing is renamed into place
            raise RecoveryError(f"{path.name} has a header but no rows. Add one row per loan below the "
                                "header.")
    return summary


def one_piece(bundle: Bundle, path: Path, drop_invalid: bool = False) -> pd.DataFrame:
    """The same file scored whole (the reference the chunks must equal)."""
    portfolio = load_portfolio(path.read_bytes(), path.name)
    return score_rows(bundle, analysable_rows(portfolio, drop_invalid), path.name).table

