"""How fast the recovery plan is made, and how good it is against the truth.

Not a test: run it and read the tables.

    python -m benchmarks.bench_decide                 # 100,000 and 1,000,000 borrowers, 3 repeats
    python -m benchmarks.bench_decide --sizes 100000 --repeats 5

Speed: the exact assignment (core.decide.optimise.solve) on expected values of generated scores
and outstanding amounts, with the default capacities (200 legal, 1,000 settlement) and with
large ones (2% and 10% of the book), medians of --repeats runs, wall and CPU seconds. Quality:
on generated portfolios whose true probabilities are known, every policy's plan is made from the
out-of-fold scores and valued with the true probabilities, beside the plan the truth would make.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.machine import timed
from core.config import SEED_STRATEGIES, RecoveryConfig
from core.decide import (
    DEFAULT_ACTIONS,
    POLICIES,
    assign,
    expected_values,
    plan,
    solve,
    total,
)
from core.pipeline import analyse
from sample_data.generate import generate_portfolio


def speed(sizes: list[int], repeats: int) -> None:
    """The assignment's time at each size, with default and with large capacities."""
    print("| borrowers | capacities (legal, settlement) | method | median wall s | median CPU s | gap to LP bound |")
    print("|---:|---|---|---:|---:|---:|")
    for n in sizes:
        rng = np.random.default_rng(1)
        values = expected_values(rng.lognormal(12.5, 0.8, n), rng.random(n), DEFAULT_ACTIONS)
        for caps in ([200, 1000, None, None], [n // 50, n // 10, None, None]):
            wall, cpu, result = timed(lambda values=values, caps=caps: solve(values, caps), repeats)
            print(f"| {n:,} | {caps[0]:,}, {caps[1]:,} | {result.method} | {wall:.2f} | {cpu:.2f} | {result.gap:.2e} |")


def quality(n: int, seed: int) -> None:
    """Each policy's plan, made from the scores, valued with the true probabilities."""
    df, truth = generate_portfolio(n, seed=seed)
    scores = analyse(df, RecoveryConfig()).scored["Risk_Score"].to_numpy()
    outstanding = df["Outstanding_Loan_Amount"].to_numpy()
    modelled = expected_values(outstanding, scores, DEFAULT_ACTIONS)
    true_values = expected_values(outstanding, truth, DEFAULT_ACTIONS)
    best = total(true_values, assign(true_values, [a.capacity for a in DEFAULT_ACTIONS]))
    # what the legal and settlement capacity adds over sending everyone reminders
    baseline = total(true_values, np.full(n, 2))
    print(f"\n{n:,} borrowers (generate_portfolio seed {seed}); plans valued with the true probabilities\n")
    print("| policy | true expected net recovery | gain over reminders for all | share of the truth's own gain |")
    print("|---|---:|---:|---:|")
    for policy in POLICIES:
        made = plan(policy, modelled, DEFAULT_ACTIONS, scores, df["Days_Past_Due"].to_numpy(),
                    (0.5, 0.75), SEED_STRATEGIES)
        worth = total(true_values, made.choice)
        print(f"| {POLICIES[policy]} | {worth:,.0f} | {worth - baseline:,.0f} | {(worth - baseline) / (best - baseline):.1%} |")
    print(f"| the truth's own plan (true probabilities) | {best:,.0f} | {best - baseline:,.0f} | 100.0% |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quality", default="4000:3,12000:5", help="n:seed pairs for the quality table")
    args = parser.parse_args(argv)
    speed([int(s) for s in args.sizes.split(",")], args.repeats)
    for pair in args.quality.split(","):
        n, seed = pair.split(":")
        quality(int(n), int(seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
