"""What the child-process check of a saved model costs: loading a .slr in process and isolated.

Not a test: run it and read the table.

    python -m benchmarks.bench_bundle_check                 # 2,000-borrower history, 5 repeats
    python -m benchmarks.bench_bundle_check --rows 20000 --repeats 3

For each model kind, a bundle is trained on a generated history, then loaded with
``bundle.loads(data, isolated=False)`` (schema, hashes, fitted checks, test scoring, all in this
process) and with ``isolated=True`` (the same, first in a child ``python -m core.serve.isolation``,
then here). The difference is what the app and ``score --model`` pay once per model file.
"child CPU s" is the child process's own CPU time (user + system, from getrusage), which a busy
machine does not inflate the way it does wall time.
"""

from __future__ import annotations

import argparse
import resource
import statistics

from benchmarks.machine import load_average, timed
from core.config import RecoveryConfig
from core.pipeline import prepare
from core.serve import bundle as bundles
from sample_data.generate import generate_portfolio

KINDS = {
    "gradient_boosting (recommended)": RecoveryConfig(),
    "random_forest (seed, 200 trees)": RecoveryConfig.seed(),
    "logistic": RecoveryConfig(model="logistic"),
}


def child_cpu(data: bytes, repeats: int) -> float:
    """Median CPU seconds of one child check (the isolation process alone)."""
    from core.serve.isolation import check_in_child

    spent = []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        check_in_child(data, "model.slr")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(spent)


def main() -> None:
    """Train each kind once, then time in-process and isolated loading."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    history, _ = generate_portfolio(n=args.rows, seed=3)
    print(f"load average before: {load_average()}; {args.rows:,}-borrower history; medians of {args.repeats}\n")
    print("| model | bundle KB | in process wall s | isolated wall s | child check wall s | child CPU s |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, config in KINDS.items():
        bundle, _ = bundles.train(prepare(history), config, "history.csv", "0" * 64)
        data = bundles.dumps(bundle)
        bundles.loads(data)  # imports skops and warms caches, as a running app has
        inside, _, _ = timed(lambda: bundles.loads(data), args.repeats)
        isolated, _, _ = timed(lambda: bundles.loads(data, isolated=True), args.repeats)
        print(f"| {label} | {len(data) / 1024:,.0f} | {inside:.2f} | {isolated:.2f} | {isolated - inside:.2f} "
              f"| {child_cpu(data, args.repeats):.2f} |")
    print(f"\nload average after: {load_average()}")


if __name__ == "__main__":
    main()
