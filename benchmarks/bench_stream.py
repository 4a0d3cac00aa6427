"""Scoring a large file with a saved model: streamed in chunks against read in one piece.

Not a test: run it and read the table.

    python -m benchmarks.bench_stream                                  # 5,000,000 rows, 3 runs
    python -m benchmarks.bench_stream --rows 200000 --runs 1 --data /tmp/small.csv

The data file (demo-generator borrowers, written once in 250,000-row parts with unique IDs, a
quarter without an outcome) is kept at --data and reused; it is never committed. The model is
trained once on the bundled demo portfolio. Each run is `python -m core score FILE --model M.slr
-o OUT.csv` in its own process; its peak resident memory and CPU seconds come from wait4(), wall
time from the clock. "One piece" is the same command with a chunk larger than the file, so the
whole file is read, checked and scored at once; the file reader refuses more than 1,000,000 rows
at once, so one piece is measured on the first --one-piece-rows rows, streamed beside it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
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


def run(data: Path, model: Path, out: Path, chunk_bytes: int | None) -> dict:
    """One scoring run in its own process: wall and CPU seconds, peak RSS."""
    command = [sys.executable, "-m", "core", "score", str(data), "--model", str(model), "-o", str(out)]
    if chunk_bytes:
        command += ["--chunk-bytes", str(chunk_bytes)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stdout, stderr = process.stdout.read().decode(), process.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run failed: {stderr}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "summary": stdout.strip()}


def report(label: str, rows: int, runs: list[dict]) -> None:
    """Median figures of several runs."""
    wall = statistics.median(r["wall"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    rss = statistics.median(r["rss_mb"] for r in runs)
    print(f"| {label} | {rows:,} | {len(runs)} | {wall:,.1f} | {cpu:,.1f} | {rows / wall:,.0f} | {rss:,.0f} |",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--one-piece-rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("/tmp/slr_bench/borrowers_5m.csv"))
    args = parser.parse_args()
    args.data.parent.mkdir(parents=True, exist_ok=True)
    if not args.data.exists():
        started = time.perf_counter()
        write_data(args.data, args.rows)
        print(f"wrote {args.data} ({args.data.stat().st_size / MB:,.0f} MB) in {time.perf_counter() - started:.0f} s")
    small = args.data.with_name(f"first_{args.one_piece_rows}.csv")
    if not small.exists():
        head(args.data, args.one_piece_rows, small)
    model = args.data.with_name("demo_model.slr")
    demo = ROOT / "sample_data" / "demo_portfolio.csv"
    trained, _ = bundles.train(prepare(load_portfolio(demo.read_bytes(), demo.name).frame), RecoveryConfig(),
                               demo.name, "benchmark")
    model.write_bytes(bundles.dumps(trained))
    out = args.data.with_name("scored.csv")
    print(f"python {sys.version.split()[0]}, numpy {version('numpy')}, pandas {version('pandas')}, "
          f"pyarrow {version('pyarrow')}, scikit-learn {version('scikit-learn')}, {os.cpu_count()} cores, "
          f"load average before: {load_average()}")
    print("| path | rows | runs | wall s (median) | CPU s (median) | rows/s | peak RSS MB (median) |")
    print("|---|---|---|---|---|---|---|")
    report("one piece", args.one_piece_rows, [run(small, model, out, ONE_PIECE_CHUNK) for _ in range(args.runs)])
    report("streamed", args.one_piece_rows, [run(small, model, out, None) for _ in range(args.runs)])
    report("streamed", args.rows, [run(args.data, model, out, None) for _ in range(args.runs)])
    print(f"load average after: {load_average()}")
    out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
