"""Time of the data stage alone (reading, validation, row ordering), beside the floor of the same work.

Not a test: run it and read the table.

    python -m benchmarks.bench_data_stage                          # 100,000 and 1,000,000 rows
    python -m benchmarks.bench_data_stage --sizes 100000 --runs 5

Inputs are the generated portfolios ``benchmarks.bench_stages`` uses (``generate_portfolio(n, seed=1)``
as CSV, cached in $TMPDIR/smart-loan-bench-stages/). Each stage runs in this process, --runs times;
figures are medians of wall and CPU seconds (this process, all threads):

- read: ``read_table`` (decode, sniff, split into a text table);
- validation: ``check`` on the mapped table (typing every field, every rule, every message);
- ordering: ``value_order`` on the model's inputs, as the model stage asks for it (three subsets);
- floor: ``pyarrow.csv.read_csv`` of the same bytes with its own type inference (read and type, nothing
  checked), measured in the same run; the last column is (read + validation) / floor in CPU seconds.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import pyarrow.csv as pa_csv

from benchmarks.bench_stages import generated_input
from benchmarks.machine import load_average
from core.data import check, read_table, suggest_mapping, value_order
from core.data.portfolio import _apply_mapping, _outcome_if_known
from core.data.schema import SEED_FEATURES


def _time(step: Callable[[], object], runs: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of ``runs`` calls, and the last call's value."""
    walls, cpus, value = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        value = step()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), value


def _orderings(frame, y: np.ndarray) -> None:
    """The three row orders the model stage asks for: segments' fields, the model's inputs, leakage's fields."""
    fields = [f for f in SEED_FEATURES if f in frame.columns]
    value_order(frame[fields])
    value_order(frame[fields].assign(_target=y))
    value_order(frame[fields].assign(_outcome=y))


def bench(rows: int, runs: int) -> list[str]:
    """Table rows of one size: each stage's median wall and CPU seconds."""
    data = generated_input(rows).path.read_bytes()
    name = f"portfolio_{rows}.csv"
    read = _time(lambda: read_table(data, name), runs)
    table = read[2]
    headers = list(table.frame.columns)
    chosen = _outcome_if_known(table.frame, suggest_mapping(headers))
    mapped = _apply_mapping(table.frame, chosen)
    validation = _time(lambda: check(mapped, chosen, table.info.separator), runs)
    typed = validation[2].frame
    y = (typed["Recovery_Status"] != "Fully Recovered").to_numpy(dtype="float64")
    ordering = _time(lambda: _orderings(typed, y), runs)
    floor = _time(lambda: pa_csv.read_csv(io.BytesIO(data)), runs)
    ratio = (read[1] + validation[1]) / floor[1] if floor[1] else float("nan")
    return [f"| {rows:,} | {read[0]:.2f} | {read[1]:.2f} | {validation[0]:.2f} | {validation[1]:.2f}"
            f" | {ordering[0]:.2f} | {ordering[1]:.2f} | {floor[0]:.2f} | {floor[1]:.2f} | {ratio:.1f} |"]


def main(argv: list[str] | None = None) -> int:
    """Run every size and print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="rows, comma-separated (default 100000,1000000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per stage (default 3)")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    start = load_average()
    lines = ["| rows | read wall s | read CPU s | validation wall s | validation CPU s | ordering wall s"
             " | ordering CPU s | floor wall s | floor CPU s | (read + validation) / floor CPU |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for rows in sizes:
        print(f"{rows:,} rows…", file=sys.stderr, flush=True)
        lines += bench(rows, args.runs)
    print(f"Medians of {args.runs} runs; load average at start {start}, at end {load_average()}.\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
