"""How long each engine step takes, and how much memory it needs, as the portfolio grows.

Not a test: run it and read the table.

    python -m benchmarks.bench_pipeline                      # 2,000 and 20,000 borrowers
    python -m benchmarks.bench_pipeline --sizes 2000,20000,100000

Each size is a demo portfolio from ``generate_portfolio(n, seed=1)`` written to CSV bytes.
Steps: load_portfolio on the bytes; analyse with RecoveryConfig() and RecoveryConfig.seed();
every core.charts.explore chart that can be drawn (total plotly JSON a browser would receive); the
result table as CSV and as Excel bytes. Memory is the peak resident-set growth during the step
(sampled every 5 ms from /proc/self/statm, so native and threaded allocations count too).
An analyse run longer than --analyse-timeout seconds is stopped and the size abandoned.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from core.charts import explore as eda
from core.config import RecoveryConfig
from core.data import load_portfolio
from core.pipeline import analyse
from core.report import to_csv_bytes, to_excel_bytes
from sample_data.generate import generate_portfolio

PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


def _rss() -> int:
    """Resident set size of this process in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class _PeakRss:
    """Samples RSS in a thread; ``peak - start`` is the step's memory growth."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            self._stop.wait(self.interval)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


class _TooSlow(Exception):
    pass


@contextmanager
def _deadline(seconds: int):
    """Raise _TooSlow in the main thread after ``seconds`` (0 = no limit)."""
    if seconds <= 0:
        yield
        return

    def _alarm(signum, frame):
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Row:
    n: int
    step: str
    seconds: float | None
    peak_mb: float | None
    size: str = ""


def _measure(rows: list[Row], n: int, step: str, fn, size=None, timeout: int = 0):
    """Run ``fn`` once, record time and peak RSS growth; returns fn's value (None if too slow)."""
    t0 = time.perf_counter()
    try:
        with _PeakRss() as mem, _deadline(timeout):
            value = fn()
    except _TooSlow:
        elapsed = time.perf_counter() - t0
        rows.append(Row(n, step, None, None, f"stopped after {elapsed:.0f} s"))
        print(f"  {step}: stopped after {elapsed:.0f} s (--analyse-timeout {timeout})", flush=True)
        return None
    elapsed = time.perf_counter() - t0
    rows.append(Row(n, step, elapsed, (mem.peak - mem.start) / MB, size(value) if size else ""))
    print(f"  {step}: {elapsed:.2f} s", flush=True)
    return value


def _mb(nbytes: int) -> str:
    return f"{nbytes / MB:.2f} MB"


def _chart_json(frame, scored) -> tuple[int, int, int]:
    """Total plotly JSON bytes of every drawable EDA chart: (bytes, drawn, skipped).

    Charts that need the analysis (segment scatter) are drawn on the scored frame.
    """
    total = drawn = skipped = 0
    on_scored = dict(eda.available_charts(scored)) if scored is not None else {}
    for name, reason in eda.available_charts(frame):
        source = frame
        if reason is not None and on_scored.get(name, reason) is None:
            source, reason = scored, None
        if reason is not None:
            skipped += 1
            continue
        total += len(eda.draw(source, name).to_json())
        drawn += 1
    return total, drawn, skipped


def bench(n: int, timeout: int) -> list[Row]:
    """All steps for a portfolio of ``n`` borrowers."""
    print(f"n = {n:,}", flush=True)
    rows: list[Row] = []
    df, _ = generate_portfolio(n, seed=1)
    data = df.to_csv(index=False).encode()
    del df
    portfolio = _measure(rows, n, "load_portfolio", lambda: load_portfolio(data, "bench.csv"),
                         size=lambda p: f"{_mb(len(data))} CSV in, {len(p.frame):,} rows")
    frame = portfolio.frame
    result = _measure(rows, n, "analyse (recommended)", lambda: analyse(frame, RecoveryConfig()),
                      size=lambda r: f"{len(r.scored):,} scored", timeout=timeout)
    _measure(rows, n, "analyse (seed preset)", lambda: analyse(frame, RecoveryConfig.seed()),
             size=lambda r: f"{len(r.scored):,} scored", timeout=timeout)
    scored = result.scored if result is not None else None
    _measure(rows, n, "EDA charts -> plotly JSON", lambda: _chart_json(frame, scored),
             size=lambda v: f"{_mb(v[0])} JSON, {v[1]} charts ({v[2]} skipped)")
    if result is None:
        rows.append(Row(n, "exports", None, None, "skipped: no analysis result"))
        return rows
    table = result.table()
    _measure(rows, n, "to_csv_bytes(table)", lambda: to_csv_bytes(table), size=lambda b: _mb(len(b)))
    _measure(rows, n, "to_excel_bytes(table)", lambda: to_excel_bytes(table),
             size=lambda b: _mb(len(b)))
    return rows


def _machine() -> str:
    with open("/proc/meminfo") as f:
        total_kb = int(f.readline().split()[1])
    cpu = platform.processor() or platform.machine()
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
            f"{total_kb / 1024 / 1024:.1f} GiB RAM, {cpu}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def _table(rows: list[Row]) -> str:
    header = ("borrowers", "step", "seconds", "peak RSS +MB", "output")
    body = [(f"{r.n:,}", r.step, "—" if r.seconds is None else f"{r.seconds:.2f}",
             "—" if r.peak_mb is None else f"{r.peak_mb:.0f}", r.size) for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]

    def line(cells) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *map(line, body)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,20000",
                        help="comma-separated portfolio sizes (default 2000,20000; 100000 is opt-in)")
    parser.add_argument("--analyse-timeout", type=int, default=900,
                        help="stop an analyse run after this many seconds (0 = never; default 900)")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    print(f"machine: {_machine()}")
    rows: list[Row] = []
    started = time.perf_counter()
    for n in sizes:
        rows += bench(n, args.analyse_timeout)
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(_table(rows))
    print(f"\nprocess peak RSS {maxrss_mb:,.0f} MB; total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
