"""Score a dataset larger than one machine on a Dask cluster with a saved model.

The CSV or Parquet dataset (a path or a glob, local or on shared storage) is read as
``dask.dataframe`` partitions; the loaded model is scattered to every worker once; each worker
reads, checks and scores its partitions exactly as the single-machine path does (the partition
goes through ``load_portfolio``) and writes one output part. Row numbers are the file's own, so
the parts, read in order, equal the single-machine output row for row.

Without a scheduler address a LocalCluster is started on this machine. Every worker holds its
OpenMP/BLAS pools to one thread (environment and threadpool_limits): the cluster's parallelism
is its workers.
"""

from __future__ import annotations

import contextlib
import glob
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from core.data import load_portfolio
from core.errors import RecoveryError
from core.report import TEMP_PREFIX, atomic_file, to_csv_bytes, write_problem
from core.serve.bundle import Bundle
from core.serve.score import score_rows

# One partition is read, checked and scored at once on a worker: about 50,000 borrowers.
BLOCK_BYTES = 8 * 1024 * 1024
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
SOURCE_FILE = "Source_File"


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


def _read(files: list[str], parquet: bool, block_bytes: int):
    """The dataset as partitions, each tagged with the file it came from."""
    import dask.dataframe as dd

    if parquet:
        return dd.concat([dd.read_parquet(f).assign(**{SOURCE_FILE: f}) for f in files])
    # Text exactly as written (no type guessing, no 'NA' read as missing), blank lines kept as
    # rows so that row numbers count them as the single-machine reader does.
    return dd.read_csv(files, dtype=str, keep_default_na=False, na_filter=False, skip_blank_lines=False,
                       blocksize=block_bytes, include_path_column=SOURCE_FILE, encoding="utf-8-sig")


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


def score_on_dask(bundle: Bundle, source: str, output: str, scheduler: str | None = None,
                  n_workers: int = 2, block_bytes: int = BLOCK_BYTES) -> DaskSummary:
    """Score every row of a CSV or Parquet dataset on a Dask cluster; parts go to the ``output`` folder.

    ``output`` ending in .parquet gives Parquet parts, anything else CSV parts (each with its header).
    """
    import dask
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
        frame = _read(files, parquet, block_bytes)
        counts = frame.map_partitions(_partition_rows, meta={"file": str, "rows": int}).compute()
        offsets = _offsets(counts.reset_index(drop=True))
        model = client.scatter(bundle, broadcast=True)  # once; every task then uses the worker's copy
        parts = frame.to_delayed()
        tasks = [dask.delayed(score_partition)(part, model, offset, i, output, parquet_out, len(files) > 1)
                 for i, (part, offset) in enumerate(zip(parts, offsets))]
        results = client.gather(client.compute(tasks))
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

