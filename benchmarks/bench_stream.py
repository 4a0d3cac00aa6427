"""Scoring a large file with a saved model: streamed (one and two workers), on Dask, and in one piece.

Not a test: run it and read the table.

    python -m benchmarks.bench_stream                                     # 1,000,000 and 2,000,000 rows, 3 runs
    python -m benchmarks.bench_stream --rows 200000 --runs 3 --before /tmp/base   # with the code at /tmp/base

The data file (demo-generator borrowers, written once in 250,000-row parts with unique IDs, a
quarter without an outcome) is kept at --data and reused; it is never committed; smaller sizes
are its first rows. The model is trained once on the bundled demo portfolio. Each run is
`python -m core score FILE --model M.slr -o OUT` in its own process; its CPU seconds (its own and
every child's: the model check, the workers, the Dask cluster) and the largest peak resident memory
of any one of them come from wait4(), wall time from the clock. "One piece" is the same command with a
chunk larger than the file (the file reader refuses more than 1,000,000 rows at once, so it is
measured up to that). ``--before`` runs the streamed path of another checkout (e.g. the main branch
exported with `git archive`) in the same run, for a before/after on the same load. ``--work`` is where
the model, the shorter files and the outputs go (default: beside --data, which is only read), so a
shared input file is never written beside. Up to 1,000,000 rows the last output of each path is
compared byte for byte with the one-piece output (Dask's parts joined, each header after the first
dropped), and the answer printed under the table.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.machine import load_average, version
from core.config import RecoveryConfig
from core.data import load_portfolio
from core.pipeline import prepare
from core.serve import bundle as bundles
from sample_data.generate import generate_portfolio

ROOT = Path(__file__).resolve().parent.parent


PART = 250_000
MB = 1024 * 1024
ONE_PIECE_CHUNK = 1 << 40


def write_data(path: Path, rows: int) -> None:
    """Demo borrowers in parts, unique IDs, every fourth outcome left empty (not known yet)."""
    with open(path, "w", encoding="utf-8", newline="") as sink:
        for start in range(0, rows, PART):
            n = min(PART, rows - start)
            frame, _ = generate_portfolio(n=n, seed=1000 + start // PART)
            frame["Borrower_ID"] = [f"BRW_{start + i + 1}" for i in range(n)]
            frame["Loan_ID"] = [f"LN_{start + i + 1}" for i in range(n)]
            frame.loc[frame.index[::4], "Recovery_Status"] = None
            frame.to_csv(sink, index=False, header=start == 0)


def head(path: Path, rows: int, target: Path) -> None:
    """The header and the first ``rows`` rows of a CSV file."""
    with open(path, "rb") as source, open(target, "wb") as sink:
        for i, line in enumerate(source):
            if i > rows:
                break
            sink.write(line)


def run(data: Path, model: Path, out: Path, extra: list[str], root: Path = ROOT) -> dict:
    """One scoring run in its own process: wall, CPU seconds and peak RSS of it and its children (wait4)."""
    command = [sys.executable, "-m", "core", "score", str(data), "--model", str(model), "-o", str(out), *extra]
    with tempfile.TemporaryFile() as said:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=root, stdout=said, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONPATH": str(root)})
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        said.seek(0)
        text = said.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run failed: {text}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "summary": text.strip()}


def demo_model(path: Path) -> Path:
    """A saved model trained on the bundled demo portfolio, written at ``path``."""
    demo = ROOT / "sample_data" / "demo_portfolio.csv"
    trained, _ = bundles.train(prepare(load_portfolio(demo.read_bytes(), demo.name).frame), RecoveryConfig(),
                               demo.name, hashlib.sha256(demo.read_bytes()).hexdigest())
    path.write_bytes(bundles.dumps(trained))
    return path


def line_count(path: Path) -> int:
    """Lines in a file (the demo generator writes no line break inside a cell)."""
    with open(path, "rb") as source:
        return sum(block.count(b"\n") for block in iter(lambda: source.read(MB * 16), b""))


def joined_parts(folder: Path) -> bytes:
    """Dask's CSV parts as one file: the first whole, every later one without its header record."""
    from core.serve.batch import _record_ends

    pieces = []
    for i, part in enumerate(sorted(folder.glob("part-*.csv"))):
        data = part.read_bytes()
        pieces.append(data if i == 0 else data[int(_record_ends(data)[0]) + 1:])
    return b"".join(pieces)


def measured(runs: int, once) -> list[dict]:
    """Several runs of the same command."""
    return [once() for _ in range(runs)]


def report(label: str, rows: int, runs: list[dict]) -> float:
    """Median figures of several runs; returns the median rows/s."""
    wall = statistics.median(r["wall"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    rss = statistics.median(r["rss_mb"] for r in runs)
    print(f"| {label} | {rows:,} | {len(runs)} | {wall:,.1f} | {cpu:,.1f} | {rows / wall:,.0f} | {rows / cpu:,.0f} "
          f"| {rss:,.0f} |", flush=True)
    return rows / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="1000000,2000000", help="sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("/tmp/slr_bench/borrowers_2m.csv"))
    parser.add_argument("--before", type=Path, help="another checkout whose streamed path is run beside")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--work", type=Path, help="where the model, shorter files and outputs go (default: beside --data)")
    args = parser.parse_args()
    sizes = [int(r) for r in args.rows.split(",")]
    args.data.parent.mkdir(parents=True, exist_ok=True)
    work = args.work or args.data.parent
    work.mkdir(parents=True, exist_ok=True)
    if not args.data.exists():
        started = time.perf_counter()
        write_data(args.data, max(sizes))
        print(f"wrote {args.data} ({args.data.stat().st_size / MB:,.0f} MB) in {time.perf_counter() - started:.0f} s")
    model = demo_model(work / "demo_model.slr")
    out = {path: work / f"scored_{path}.csv" for path in ("before", "one", "two", "whole")}
    records = line_count(args.data) - 1  # a given file may hold more rows than the largest size asked for
    print(f"python {sys.version.split()[0]}, numpy {version('numpy')}, pandas {version('pandas')}, "
          f"pyarrow {version('pyarrow')}, scikit-learn {version('scikit-learn')}, {os.cpu_count()} cores, "
          f"load average before: {load_average()}")
    print("| path | rows | runs | wall s (median) | CPU s (median) | rows/s | rows per CPU-s | peak RSS MB (one process) |")
    print("|---|---|---|---|---|---|---|---|")
    for rows in sizes:
        data = args.data if rows >= records else work / f"first_{rows}.csv"
        if not data.exists():
            head(args.data, rows, data)
        if args.before is not None:
            report("streamed, before", rows, measured(args.runs, lambda: run(data, model, out["before"], [], args.before)))
        one = report("streamed, 1 worker", rows, measured(args.runs, lambda: run(data, model, out["one"],
                                                                                 ["--workers", "1"])))
        two = report("streamed, 2 workers", rows, measured(args.runs, lambda: run(data, model, out["two"],
                                                                                  ["--workers", "2"])))
        parts = work / "scored_parts"
        if not args.no_dask:
            dask = report("dask, 2 local workers", rows, measured(args.runs, lambda: run(
                data, model, parts, ["--engine", "dask"])))
            print(f"dask / streamed 1 worker: {dask / one:.2f}x; dask / streamed 2 workers: {dask / two:.2f}x",
                  flush=True)
        if rows <= 1_000_000:
            report("one piece", rows, measured(args.runs, lambda: run(data, model, out["whole"],
                                                                      ["--chunk-bytes", str(ONE_PIECE_CHUNK)])))
            whole = out["whole"].read_bytes()
            same = {"streamed, 1 worker": out["one"].read_bytes() == whole,
                    "streamed, 2 workers": out["two"].read_bytes() == whole}
            if args.before is not None:
                same["streamed, before"] = out["before"].read_bytes() == whole
            if not args.no_dask:
                same["dask"] = joined_parts(parts) == whole
            print("byte-equal to one piece: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in same.items()),
                  flush=True)
        shutil.rmtree(parts, ignore_errors=True)
    print(f"load average after: {load_average()}")
    for path in out.values():
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
