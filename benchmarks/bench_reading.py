"""How long reading a file takes (read_table), for the shapes users upload.

Not a test: run it and read the table.

    python -m benchmarks.bench_reading                        # 200,000-row CSV, 20,000-row .xlsx
    python -m benchmarks.bench_reading --csv-rows 1000000 --xlsx-rows 50000 --runs 5

Each file is the demo portfolio from ``generate_portfolio(n, seed=1)``: as CSV (plain, and
below a title line), and as .xlsx written by openpyxl (plain; with a few blank cells, which
makes the reader look for formulas in the first rows; below a title; with a formula column
whose values were never computed, which makes it read the formulas of the whole sheet).
Figures are medians of --runs runs: wall seconds, CPU seconds (this process, all threads),
and the ratio against pandas reading the same bytes (pd.read_csv as the notebook does,
pd.read_excel for .xlsx).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import openpyxl
import pandas as pd

from core.data import read_table
from core.errors import RecoveryError
from sample_data.generate import generate_portfolio

TITLE = "Collections portfolio, March 2024"


def _workbook(frame: pd.DataFrame, title: bool = False, formula: bool = False) -> bytes:
    """The portfolio as an openpyxl-written .xlsx, optionally below a title or with a formula column."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Loans"
    if title:
        sheet.append([TITLE])
        sheet.append([])
    sheet.append([*frame.columns, *(["Total_Due"] if formula else [])])
    first = sheet.max_row + 1
    for row, values in enumerate(frame.itertuples(index=False), start=first):
        cells = [None if isinstance(v, float) and v != v else v for v in values]
        sheet.append([*cells, *([f"=M{row}+N{row}"] if formula else [])])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _time(step: Callable[[], object], runs: int) -> tuple[float, float, str]:
    """Median wall and CPU seconds of ``runs`` calls, and what the last call gave."""
    walls, cpus = [], []
    outcome = ""
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            result = step()
            outcome = f"{len(getattr(result, 'frame', result)):,} rows"
            notes = getattr(getattr(result, "info", None), "notes", ())
            if notes:
                outcome += f", {len(notes)} note(s)"
        except RecoveryError as error:
            outcome = f"refused: {str(error)[:60]}"
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), outcome


def main(argv: list[str] | None = None) -> None:
    """Build the files, time each reading, print one line per file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-rows", type=int, default=200_000)
    parser.add_argument("--xlsx-rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    big, _ = generate_portfolio(n=args.csv_rows, seed=1)
    small, _ = generate_portfolio(n=args.xlsx_rows, seed=1)
    gappy = small.copy()
    gappy.loc[::97, "Monthly_Income"] = float("nan")
    plain_csv = big.to_csv(index=False).encode()
    cases = [
        ("csv", f"{args.csv_rows:,} rows", plain_csv, lambda d: pd.read_csv(io.BytesIO(d))),
        ("csv, title above", f"{args.csv_rows:,} rows", (TITLE + "\n\n").encode() + plain_csv,
         lambda d: pd.read_csv(io.BytesIO(d), skiprows=2)),
        ("xlsx", f"{args.xlsx_rows:,} rows", _workbook(small), lambda d: pd.read_excel(io.BytesIO(d))),
        ("xlsx, blank cells", f"{args.xlsx_rows:,} rows", _workbook(gappy),
         lambda d: pd.read_excel(io.BytesIO(d))),
        ("xlsx, title above", f"{args.xlsx_rows:,} rows", _workbook(small, title=True),
         lambda d: pd.read_excel(io.BytesIO(d), skiprows=2)),
        ("xlsx, formula column", f"{args.xlsx_rows:,} rows", _workbook(small, formula=True),
         lambda d: pd.read_excel(io.BytesIO(d))),
    ]
    print(f"read_table, median of {args.runs} runs (wall s / CPU s); pandas on the same bytes")
    print(f"{'file':24} {'size':>14} {'read_table':>16} {'pandas':>16} {'ratio':>6}  result")
    for label, size, data, reference in cases:
        wall, cpu, outcome = _time(lambda data=data: read_table(data, "bench"), args.runs)
        ref_wall, ref_cpu, _ = _time(lambda data=data, reference=reference: reference(data), args.runs)
        print(f"{label:24} {size:>14} {wall:7.2f} / {cpu:6.2f} {ref_wall:7.2f} / {ref_cpu:6.2f} "
              f"{wall / ref_wall:6.2f}  {outcome}")


if __name__ == "__main__":
    main()
