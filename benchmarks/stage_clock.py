"""Where one `score` run spends its time: wall and CPU seconds per stage, in one process.

    python -m benchmarks.stage_clock PORTFOLIO.csv OUT.csv [--preset seed]

Runs what `python -m core score FILE -o OUT.csv` runs (read and check, prepare, segment, score,
decide, write), with a clock around each stage and around the parts of the score and decide
stages that cost most. CPU seconds are the whole process's (every thread), so a stage that uses
both cores shows more CPU than wall. Prints one JSON object {stage: [wall, cpu]} on stdout;
benchmarks.bench_stages --stages runs it in fresh processes and takes medians.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path

STARTED = (time.perf_counter(), time.process_time())

from core import pipeline  # noqa: E402 - the import itself is a stage
from core.config import RecoveryConfig  # noqa: E402
from core.data import load_portfolio  # noqa: E402
from core.model import explain, risk, scoring  # noqa: E402
from core.report import write_csv  # noqa: E402

CLOCKS: dict[str, list[float]] = {}
# (module, function name, stage label): parts of a stage are labelled 'stage / part'
WATCHED = (
    (pipeline, "prepare_portfolio", "prepare"),
    (pipeline, "segment", "segment"),
    (pipeline, "score", "score"),
    (scoring, "_compared", "score / compare models"),
    (risk, "out_of_fold", "score / fold fits and scores"),
    (explain, "reason_effects", "score / explanations"),
    (explain, "held_out_importance", "score / importance"),
    (pipeline, "decide", "decide"),
    (explain, "reasons", "decide / reasons in words"),
)


def clocked(label: str, function: Callable) -> Callable:
    """The function with its wall and CPU seconds added to CLOCKS[label] on each call."""
    @wraps(function)
    def timed(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent = CLOCKS.setdefault(label, [0.0, 0.0])
            spent[0] += time.perf_counter() - wall
            spent[1] += time.process_time() - cpu
    return timed


def main(argv: list[str]) -> int:
    """Score one file as the CLI does, print the clocks as JSON."""
    source, target = Path(argv[0]), Path(argv[1])
    preset = argv[argv.index("--preset") + 1] if "--preset" in argv else "recommended"
    CLOCKS["imports"] = [time.perf_counter() - STARTED[0], time.process_time() - STARTED[1]]
    # compare models runs inside score: that one is nested, the rest are looked up on their module
    for module, name, label in WATCHED:
        setattr(module, name, clocked(label, getattr(module, name)))
    read = clocked("read and check", load_portfolio)
    portfolio = read(source.read_bytes(), source.name)
    result = pipeline.analyse_portfolio(portfolio, RecoveryConfig.named(preset))
    clocked("write", write_csv)(result.table(as_written=True), target)
    CLOCKS["whole"] = [time.perf_counter() - STARTED[0], time.process_time() - STARTED[1]]
    print(json.dumps(CLOCKS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
