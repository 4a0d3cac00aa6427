"""One streamed worker's CPU per row: parts of a file read, checked, scored and written as CSV, on one thread.

Not a test: run it and read the figures.

    python -m benchmarks.bench_chunk                                   # 250,000 demo borrowers, 3 parts, 3 runs
    python -m benchmarks.bench_chunk --data BIG.csv --model M.slr --profile 30
    python -m benchmarks.bench_chunk --before /tmp/base                # the code at /tmp/base beside, alternated

What a forked worker of `python -m core score FILE --model M.slr` does with each part (8 MB of CSV),
timed in this process with OpenMP/BLAS and Arrow held to one thread as a worker holds them: the first
part sets the layout that later parts are read with, so it is scored once before the clock starts.
Figures are the median over --runs of the CPU seconds per row of --parts parts (a worker's own cost,
apart from the parent's and the model's start-up, which `bench_stream` measures whole). ``--before``
runs the same script from another checkout in a child process, alternating with this one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def per_row(data: Path, model: Path, parts: int, profile: int) -> float:
    """CPU microseconds per row of ``parts`` parts after the first, scored as a worker scores them."""
    import pyarrow as pa
    from threadpoolctl import threadpool_limits

    from core.serve import batch
    from core.serve.bundle import loads

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    threadpool_limits(limits=1)
    bundle = loads(model.read_bytes(), model.name)
    header, chunks = batch.read_chunks(data)
    first, *timed = [next(chunks) for _ in range(parts + 1)]
    batch.score_chunk(bundle, header, first, data.name)
    rows = sum(c.data.count(b"\n") for c in timed)
    started = time.process_time()
    for chunk in timed:
        batch.score_chunk(bundle, header, chunk, data.name)
    spent = time.process_time() - started
    if profile:
        import cProfile
        import pstats

        with cProfile.Profile() as profiler:
            for chunk in timed:
                batch.score_chunk(bundle, header, chunk, data.name)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(profile)
    return spent / rows * 1e6


def _one_run(root: Path, args: argparse.Namespace) -> float:
    """One run of the measurement in a fresh process that imports the code of the checkout at ``root``."""
    command = [sys.executable, str(Path(__file__).resolve()), "--measure-in", str(root), "--data", str(args.data),
               "--model", str(args.model), "--parts", str(args.parts)]
    environment = {**os.environ, **{v: "1" for v in ONE_THREAD}}
    done = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("/tmp/slr_bench/chunk_borrowers.csv"))
    parser.add_argument("--model", type=Path, help="a saved model (default: one trained on the demo portfolio)")
    parser.add_argument("--parts", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, help="another checkout measured beside, alternated")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions of one more pass")
    parser.add_argument("--measure-in", type=Path, help=argparse.SUPPRESS)  # one run, in a child process
    args = parser.parse_args()
    if args.measure_in is not None:
        sys.path.insert(0, str(args.measure_in))  # the code measured is that checkout's
        print(per_row(args.data, args.model, args.parts, 0))
        return
    from benchmarks.bench_stream import demo_model, write_data
    from benchmarks.machine import load_average

    args.data.parent.mkdir(parents=True, exist_ok=True)
    if not args.data.exists():
        write_data(args.data, 250_000)
    if args.model is None:
        args.model = demo_model(args.data.parent / "chunk_model.slr")
    print(f"{args.data.name}: {args.parts} parts after the first, {args.runs} runs; load average {load_average()}")
    sides = {"this checkout": ROOT} | ({"before": args.before} if args.before else {})
    found: dict[str, list[float]] = {side: [] for side in sides}
    for _ in range(args.runs):
        for side, root in sides.items():
            found[side].append(_one_run(root, args))
    for side, values in found.items():
        print(f"{side}: {statistics.median(values):.2f} CPU-µs per row (runs: "
              f"{', '.join(f'{v:.2f}' for v in values)})")
    if args.profile:
        per_row(args.data, args.model, args.parts, args.profile)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
