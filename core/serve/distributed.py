"""Score a dataset larger than one machine on a Dask cluster with a saved model.

A CSV dataset (a path or a glob, local or on shared storage) is cut into byte blocks at line ends
(``dask.bytes.read_bytes``), each read once by the worker that scores it; the loaded model is
scattered to every worker once. A tiny task counts each block's records (its first row number in
the file follows from the blocks before it), then the worker that holds the block reads it into a
text table, checks and scores it exactly as the streamed and single-machine paths do (the block
with its file's header goes through ``batch.score_chunk``: no CSV text made from a frame) and
writes one output part. Row numbers are the file's own, so the parts, read in order, equal the
single-machine output byte for byte. Only a few blocks per worker are in flight at once. A record
whose quoted text holds a line end can be cut by a block edge (as dask.dataframe.read_csv cuts it):
it is refused as a malformed row, never read wrongly. A Parquet dataset is read as
``dask.dataframe`` partitions and each is checked as text, as before.

Without a scheduler address a LocalCluster is started on this machine. Every worker holds its
OpenMP/BLAS pools to one thread (environment and threadpool_limits): the cluster's parallelism
is its workers.
"""

from __future__ import annotations

import contextlib
import glob
import os
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from core.data import load_portfolio
from core.errors import RecoveryError
from core.report import TEMP_PREFIX, atomic_file, to_csv_bytes, write_problem
from core.serve.batch import Chunk, record_count, score_chunk, split_header
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
        table = score_rows(bundle, portfolio.frame, name).table
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


def count_block(block: bytes, first: bool) -> int:
    """Records in a block (after the header in a file's first block)."""
    return record_count(split_header(block, "the file")[1] if first else block)


def block_header(block: bytes, name: str) -> bytes:
    """The header record of a file's first block."""
    return split_header(block, name)[0]


def score_block(block: bytes, header: bytes, first: bool, first_record: int, bundle: Bundle, part: int,
                output: str, parquet_out: bool, several_files: bool, name: str) -> pd.DataFrame:
    """Check and score one block of a CSV file with its header, as the streamed path does; write its part."""
    with threadpool_limits(limits=1):
        _one_thread()
        body = split_header(block, name)[1] if first else block
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
        if several_files:
            table.insert(0, SOURCE_FILE, name)
        _write_part(table, output, part, parquet_out)
        return pd.DataFrame({"strategy": list(done.strategies), "borrowers": list(done.strategies.values())})


def _write_part(table: pd.DataFrame, output: str, part: int, parquet_out: bool) -> None:
    """One output part (Parquet as scored, or CSV as the single-machine download writes it), whole or not at all."""
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    path = f"{output.rstrip('/')}/part-{part:05d}.{'parquet' if parquet_out else 'csv'}"
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


def _score_csv(client, model, files: list[str], output: str, parquet_out: bool, block_bytes: int,
               n_workers: int) -> list[pd.DataFrame]:
    """Every CSV block read once on a worker, counted, then checked, scored and written there, in file order."""
    from dask.bytes import read_bytes

    _, per_file = read_bytes(files, delimiter=b"\n", blocksize=block_bytes, sample=False)
    blocks = [(f, i, block) for f, file_blocks in enumerate(per_file) for i, block in enumerate(file_blocks)]
    names = [f.rsplit("/", 1)[-1] for f in files]
    window = max(2, IN_FLIGHT_PER_WORKER * max(1, len(client.scheduler_info().get("workers", {})) or n_workers))
    read: deque = deque()  # (file, first?, bytes future, record count future), read ahead in order
    scoring: deque = deque()
    headers: dict[int, object] = {}
    next_record: dict[int, int] = {}
    results: list[pd.DataFrame] = []
    upcoming = iter(blocks)

    def read_next() -> bool:
        found = next(upcoming, None)
        if found is None:
            return False
        f, i, block = found
        data = client.compute(block)
        if i == 0:
            headers[f] = client.submit(block_header, data, names[f], pure=False)
        read.append((f, i == 0, data, client.submit(count_block, data, i == 0, pure=False)))
        return True

    while len(read) < window and read_next():
        pass
    part = 0
    while read:
        f, first, data, count = read.popleft()
        first_record = next_record.get(f, 2)
        next_record[f] = first_record + count.result()
        scoring.append(client.submit(score_block, data, headers[f], first, first_record, model, part, output,
                                     parquet_out, len(files) > 1, names[f], pure=False))
        part += 1
        del data, count
        while len(scoring) >= window:
            results.append(scoring.popleft().result())
        read_next()
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

