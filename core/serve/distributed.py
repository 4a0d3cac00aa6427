"""Score a dataset larger than one machine on a Dask cluster with a saved model.

A CSV dataset (a path or a glob, local or on shared storage) is cut into byte blocks
(``dask.bytes.read_bytes``), each read once by a worker, which keeps it; the loaded model is
scattered to every worker once. A tiny task marks each block: for each place the reader may be
at its start (inside a quoted cell or not, quotes read as csv.reader reads them, see
``core.data.records``), where its first record ends, how many records end in it and where the
reader is after it. From the marks this process follows the reader along the file, so a block's
records start after the first line end outside quotes, as the streamed path cuts them, and a
quoted cell whose line break sits on a block edge stays whole. The worker holding a block then
reads its records (the next block's first bytes, up to that block's first record end, fetched
as a small slice) with the file's header
through ``batch.score_chunk``, exactly as the streamed and single-machine paths do, and writes one
output part. Row numbers are the file's own (counted from the marks), so the parts, read in order,
equal the single-machine output byte for byte. Only a few blocks per worker are in flight at once.
A Parquet dataset is read as ``dask.dataframe`` partitions and each is checked as text, as before.

Without a scheduler address a LocalCluster is started on this machine. Every worker holds its
OpenMP/BLAS pools to one thread (environment and threadpool_limits): the cluster's parallelism
is its workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from core.data import Where, block_records, load_portfolio, separator_of
from core.errors import RecoveryError
from core.report import TEMP_PREFIX, atomic_file, to_csv_bytes, write_problem
from core.serve.batch import Chunk, DecimalMarks, score_chunk
from core.serve.bundle import Bundle
from core.serve.score import score_rows

# One partition is read, checked and scored at once on a worker: about 50,000 borrowers.
BLOCK_BYTES = 8 * 1024 * 1024
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
SOURCE_FILE = "Source_File"
IN_FLIGHT_PER_WORKER = 3  # blocks read ahead of the one being scored, per worker: memory stays bounded


@dataclass(frozen=True)
class DaskSummary:
    """What a cluster run did."""

    scored: int
    parts: int
    files: int
    by_strategy: dict[str, int]


def _files(source: str) -> list[str]:
    """The files a path or glob names (local paths are checked here; URLs are left to Dask)."""
    if "://" in source:
        return [source]
    found = sorted(glob.glob(source)) if any(c in source for c in "*?[") else [source]
    found = [f for f in found if os.path.isfile(f)]
    if not found:
        raise RecoveryError(f"No file matches {source}: give a CSV or Parquet file, or a glob such as "
                            "'loans/*.csv'.")
    return found


def _is_parquet(files: list[str]) -> bool:
    """True for a Parquet dataset, False for CSV; a mix is refused."""
    kinds = {f.lower().endswith((".parquet", ".pq")) for f in files}
    if len(kinds) > 1:
        raise RecoveryError("The dataset mixes Parquet and CSV files: score each kind on its own.")
    return kinds.pop()


def _read_parquet(files: list[str]):
    """A Parquet dataset as partitions, each tagged with the file it came from."""
    import dask.dataframe as dd

    return dd.concat([dd.read_parquet(f).assign(**{SOURCE_FILE: f}) for f in files])


def _partition_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one partition and the file they came from (the first pass: offsets)."""
    return pd.DataFrame({"file": [str(frame[SOURCE_FILE].iloc[0]) if len(frame) else ""],
                         "rows": [len(frame)]})


def _offsets(counts: pd.DataFrame) -> list[int]:
    """Each partition's first row number in its own file (the header is row 1)."""
    offsets, seen = [], {}
    for file, rows in zip(counts["file"], counts["rows"]):
        offsets.append(seen.get(file, 0))
        seen[file] = seen.get(file, 0) + int(rows)
    return offsets


def score_partition(frame: pd.DataFrame, bundle: Bundle, offset: int, part: int, output: str,
                    parquet_out: bool, several_files: bool) -> pd.DataFrame:
    """Read, check and score one partition as a file of its own, write its part; return its counts."""
    with threadpool_limits(limits=1):
        if not len(frame):
            return pd.DataFrame({"strategy": pd.Series([], dtype=str), "borrowers": pd.Series([], dtype=int)})
        file = str(frame[SOURCE_FILE].iloc[0])
        name = file.rsplit("/", 1)[-1]
        text = frame.drop(columns=[SOURCE_FILE]).to_csv(index=False, na_rep="").encode()
        portfolio = load_portfolio(text, name)
        if not portfolio.report.ok:
            problems = [p.line() for p in portfolio.report.errors()]
            raise RecoveryError(f"{name} from row {offset + 2}: {'; '.join(problems)} (row numbers within the "
                                f"part; {len(portfolio.report.invalid_rows)} invalid row(s)): fix them, or score "
                                "with the default engine and --drop-invalid.")
        table = score_rows(bundle, portfolio.frame, name, summarise=False).table
        table["File_Row"] = table["File_Row"] + offset
        if several_files:
            table.insert(0, SOURCE_FILE, name)
        _write_part(table, output, part, parquet_out)
        counts = table["Recovery_Strategy"].value_counts(sort=False)
        return pd.DataFrame({"strategy": counts.index.astype(str), "borrowers": counts.to_numpy()})


def _one_thread() -> None:
    """Hold this worker's Arrow pool to one thread, as its OpenMP/BLAS ones are (the workers are the parallelism)."""
    import pyarrow as pa

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)


def block_marks(block: bytes, separator: bytes) -> tuple[int, dict[Where, tuple[int, int, int, Where]]]:
    """A block's length and, for each place the reader may be at its start: first and last record end, record ends, place after it."""
    marks = {}
    for start in Where:
        ends, after = block_records(block, separator, start)
        marks[start] = (int(ends[0]), int(ends[-1]), len(ends), after) if len(ends) else (-1, -1, 0, after)
    return len(block), marks


def head_of(block: bytes, cut: int) -> bytes:
    """A block's first ``cut`` bytes: the end of the record the block before it started."""
    return block[:cut]


def score_block(block: bytes, start: int, following: list[bytes], header: bytes, first_record: int,
                bundle: Bundle, part: int, output: str, parquet_out: bool, several_files: bool,
                name: str) -> pd.DataFrame:
    """Check and score the records a block starts (from ``start``, ending in ``following``) as the streamed path does."""
    with threadpool_limits(limits=1):
        _one_thread()
        body = b"".join([memoryview(block)[start:], *following])
        if not body.strip(b" \t\r\n,;|\"'"):
            return pd.DataFrame({"strategy": pd.Series([], dtype=str), "borrowers": pd.Series([], dtype=int)})
        done = score_chunk(bundle, header, Chunk(body, first_record), name, as_table=True)
        if done.encoding not in ("utf-8", "utf-8-sig", "ascii"):
            raise RecoveryError(f"{name} is {done.encoding} text; the cluster reads UTF-8: save it as "
                                "'CSV UTF-8' and run again.")
        if done.refusal is not None:
            raise RecoveryError(done.refusal.replace("rerun with --drop-invalid",
                                                     "score with the default engine and --drop-invalid"))
        table = done.table
        marks = {"file": name, "first_record": first_record, "decimal_marks": done.decimal_marks}
        if several_files:
            table.insert(0, SOURCE_FILE, name)
        _write_part(table, output, part, parquet_out)
        counts = pd.DataFrame({"strategy": list(done.strategies), "borrowers": list(done.strategies.values())})
        counts.attrs.update(marks)
        return counts


def part_path(output: str, part: int, parquet_out: bool) -> str:
    """Where output part number ``part`` goes in the folder ``output``."""
    return f"{output.rstrip('/')}/part-{part:05d}.{'parquet' if parquet_out else 'csv'}"


def _write_part(table: pd.DataFrame, output: str, part: int, parquet_out: bool) -> None:
    """One output part (Parquet as scored, or CSV as the single-machine download writes it), whole or not at all."""
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    path = part_path(output, part, parquet_out)
    fs, where = fsspec.core.url_to_fs(path)

    def fill(sink) -> None:
        if parquet_out:
            table.to_parquet(sink, index=False)
        else:
            sink.write(to_csv_bytes(table))

    if isinstance(fs, LocalFileSystem):
        with atomic_file(where) as sink:
            fill(sink)
        return
    # shared storage: the same temporary-name-then-rename, with the file system's own move
    temporary = f"{where.rsplit('/', 1)[0]}/{TEMP_PREFIX}{uuid.uuid4().hex}-{where.rsplit('/', 1)[-1]}"
    try:
        with fs.open(temporary, "wb") as sink:
            fill(sink)
        fs.mv(temporary, where)
    except BaseException:
        with contextlib.suppress(Exception):
            fs.rm(temporary)
        raise


def _client(scheduler: str | None, n_workers: int):
    """A client on the given scheduler, or on a LocalCluster of single-threaded worker processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as error:
            raise RecoveryError(f"Cannot reach the Dask scheduler at {scheduler} ({error}): check the "
                                "address, or leave --scheduler out to start a local cluster.") from None
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0",
                           env=ONE_THREAD)
    return Client(cluster), cluster


@dataclass
class _Owner:
    """A block whose records are still open: they end in the next block that has a record end."""

    file: int
    data: object  # the block's future, kept on the worker that read it
    start: int  # where its first own record starts (after the header in a file's first block)
    records: int  # record ends from ``start`` on, plus the one it shares with the next block
    tail: bool  # bytes after its last record end (a last record without a line end)
    following: list = dataclasses.field(default_factory=list)  # whole blocks without a record end


def _score_csv(client, model, files: list[str], output: str, parquet_out: bool, block_bytes: int,
               n_workers: int) -> list[pd.DataFrame]:
    """Every CSV block read once on a worker and marked; its records then checked, scored and written there, in file order."""
    from dask.bytes import read_bytes

    _, per_file = read_bytes(files, delimiter=None, blocksize=block_bytes, sample=False)
    blocks = [(f, i, block) for f, file_blocks in enumerate(per_file) for i, block in enumerate(file_blocks)]
    names = [f.rsplit("/", 1)[-1] for f in files]
    window = max(2, IN_FLIGHT_PER_WORKER * max(1, len(client.scheduler_info().get("workers", {})) or n_workers))
    read: deque = deque()  # (file, index, bytes future, marks future), read ahead in order
    scoring: deque = deque()
    results: list[pd.DataFrame] = []
    upcoming = iter(blocks)
    headers: dict[int, object] = {}
    next_record: dict[int, int] = {}
    separators: dict[int, object] = {}
    part = 0

    def read_next() -> bool:
        found = next(upcoming, None)
        if found is None:
            return False
        f, i, block = found
        data = client.compute(block)
        if i == 0:
            separators[f] = client.submit(separator_of, data, pure=False)
        read.append((f, i, data, client.submit(block_marks, data, separators[f], pure=False)))
        return True

    def close(owner: _Owner, head) -> None:
        """Score an owner's records, ending in ``head`` (the next block's first bytes), or at the file's end."""
        nonlocal part
        records = owner.records if head is not None else owner.records - 1 + (owner.tail or bool(owner.following))
        first_record = next_record.get(owner.file, 2)
        next_record[owner.file] = first_record + records
        following = [*owner.following, *([head] if head is not None else [])]
        scoring.append(client.submit(score_block, owner.data, owner.start, following, headers[owner.file],
                                     first_record, model, part, output, parquet_out, len(files) > 1,
                                     names[owner.file], pure=False))
        part += 1
        while len(scoring) >= window:
            results.append(scoring.popleft().result())

    while len(read) < window and read_next():
        pass
    owner: _Owner | None = None
    where = Where.CELL_START  # the reader's place where the next block starts
    while read:
        f, i, data, marks = read.popleft()
        size, by_place = marks.result()
        if i == 0:
            if owner is not None:
                close(owner, None)
            owner, where = None, Where.CELL_START
        first, last, ends, where = by_place[where]
        if not ends:
            if owner is None:
                raise RecoveryError(f"{names[f]}: its header row does not end within the first "
                                    f"{block_bytes:,} bytes (a quote left open?): check the first line.")
            owner.following.append(data)
        else:
            if owner is not None:
                close(owner, client.submit(head_of, data, first + 1, pure=False))
            else:
                headers[f] = client.submit(head_of, data, first + 1, pure=False)
            owner = _Owner(f, data, first + 1, ends, last < size - 1)
        del data, marks
        read_next()
    if owner is not None:
        close(owner, None)
    results.extend(future.result() for future in scoring)
    return results


def _score_parquet(client, model, files: list[str], output: str, parquet_out: bool,
                   block_bytes: int) -> list[pd.DataFrame]:
    """A Parquet dataset's partitions checked as text and scored (offsets from a first counting pass)."""
    import dask

    frame = _read_parquet(files)
    counts = frame.map_partitions(_partition_rows, meta={"file": str, "rows": int}).compute()
    offsets = _offsets(counts.reset_index(drop=True))
    tasks = [dask.delayed(score_partition)(piece, model, offset, i, output, parquet_out, len(files) > 1)
             for i, (piece, offset) in enumerate(zip(frame.to_delayed(), offsets))]
    return client.gather(client.compute(tasks))


def _check_marks(results: list[pd.DataFrame], fs, root: str, parquet_out: bool) -> None:
    """Refuse (and take back the parts written) when blocks of a file read a column with different decimal marks."""
    marks = DecimalMarks()
    try:
        for result in results:
            if "decimal_marks" in result.attrs:
                marks.check(result.attrs["file"], result.attrs["first_record"], result.attrs["decimal_marks"])
    except RecoveryError:
        for part in range(len(results)):
            with contextlib.suppress(OSError):
                fs.rm(part_path(root, part, parquet_out))
        raise


def score_on_dask(bundle: Bundle, source: str, output: str, scheduler: str | None = None,
                  n_workers: int = 2, block_bytes: int = BLOCK_BYTES) -> DaskSummary:
    """Score every row of a CSV or Parquet dataset on a Dask cluster; parts go to the ``output`` folder.

    ``output`` ending in .parquet gives Parquet parts, anything else CSV parts (each with its header).
    """
    import fsspec

    files = _files(source)
    parquet = _is_parquet(files)
    parquet_out = output.rstrip("/").lower().endswith(".parquet")
    fs, root = fsspec.core.url_to_fs(output)
    try:
        fs.makedirs(root, exist_ok=True)
    except OSError as error:  # a read-only place or a full disk: one line, before the cluster starts
        raise write_problem(output, error) from None
    client, cluster = _client(scheduler, n_workers)
    try:
        model = client.scatter(bundle, broadcast=True)  # once; every task then uses the worker's copy
        if parquet:
            results = _score_parquet(client, model, files, output, parquet_out, block_bytes)
        else:
            results = _score_csv(client, model, files, output, parquet_out, block_bytes, n_workers)
            _check_marks(results, fs, root, parquet_out)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    by_strategy: dict[str, int] = {}
    for result in results:
        for strategy, n in zip(result["strategy"], result["borrowers"]):
            by_strategy[strategy] = by_strategy.get(strategy, 0) + int(n)
    return DaskSummary(scored=int(sum(by_strategy.values())), parts=len(results), files=len(files),
                       by_strategy=by_strategy)


def read_parts(output: str) -> pd.DataFrame:
    """The output parts read back in order, as one table."""
    paths = sorted(Path(output).glob("part-*"))
    if paths and paths[0].suffix == ".parquet":
        return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    return pd.concat([pd.read_csv(p, encoding="utf-8-sig", dtype={"Borrower_ID": str, "Loan_ID": str})
                      for p in paths], ignore_index=True)

