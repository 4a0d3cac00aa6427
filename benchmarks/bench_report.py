"""How big the stakeholder report is, and how long it takes, as the portfolio grows.

Not a test: run it and read the table.

    python -m benchmarks.bench_report                          # 2,000 and 100,000 borrowers
    python -m benchmarks.bench_report --sizes 1000000 --repeats 5

For each size a generated portfolio is analysed once with the default action table (so the
report holds every section, the policies compared included), then the report is built
--repeats times: median wall and CPU seconds, and its size. The whole command line is timed
too, `python -m core report` beside `python -m core score` on the same file (one run each:
the report's cost over scoring is the difference). The notebook has no report to compare with.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from benchmarks.machine import load_average, timed, version
from core.config import RecoveryConfig
from core.decide import DEFAULT_ACTIONS
from core.pipeline import analyse
from core.report import ReportSource, stakeholder_report
from sample_data.generate import generate_portfolio

ROOT = Path(__file__).resolve().parent.parent



def _process_seconds(*args: str) -> float:
    """Wall seconds of one `python -m core ...` run."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, pandas {version('pandas')}, scikit-learn {version('scikit-learn')}; "
          f"load average {load_average()}\n")
    print("| borrowers | report size | build: median wall s | median CPU s | `score` whole process s "
          "| `report` whole process s |")
    print("|---:|---:|---:|---:|---:|---:|")
    config = RecoveryConfig().with_(actions=DEFAULT_ACTIONS)
    with tempfile.TemporaryDirectory() as folder:
        for n in args.sizes:
            frame, _ = generate_portfolio(n=n, seed=7)
            with threadpool_limits(limits=1):
                result = analyse(frame, config)
            source = ReportSource(f"generated_{n}.csv", "0" * 64)
            wall, cpu, html = timed(lambda result=result, source=source: stakeholder_report(result, source), args.repeats)
            path = Path(folder) / f"generated_{n}.csv"
            frame.to_csv(path, index=False)
            scored = _process_seconds("score", str(path), "-o", str(path.with_suffix(".out.csv")))
            reported = _process_seconds("report", str(path), "-o", str(path.with_suffix(".html")))
            size = len(html.encode())
            print(f"| {n:,} | {size / 1024:,.0f} KB | {wall:.3f} | {cpu:.3f} | {scored:.1f} | {reported:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
