"""How fast action effects are learned and planned on, and which learner plans best against the truth.

Not a test: run it from the repository root and read the tables.

    python -m benchmarks.bench_effects                      # 100,000 and 1,000,000 borrowers, 3 repeats
    python -m benchmarks.bench_effects --sizes 100000 --repeats 5
    python -m benchmarks.bench_effects --compare            # the estimator comparison only

Speed: a history of N resolved borrowers (sample_data.action_history, with overlap) is learned
(core.model.effects.fit_effects, the default learner), then a new month of N borrowers is planned
on it (core.decide.learned.learned_values + the exact assignment), capacities 10% settlement, 5%
legal, 8% collectors, calls unlimited. Medians of --repeats runs, wall and CPU seconds, on one
thread (BLAS/OpenMP held to one, the folds fitted one after the other).

Quality (--compare): each estimator learns from 20,000 history rows; the plan it makes for a new
month of 20,000 is valued with the TRUE effects, as a share of the true optimum's gain over calls
for all at the same capacities; RMSE of its shares against the true ones. Without overlap the
action table types a fallback line for the legal notice (0.45) where the history cannot speak.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.machine import load_average, timed, version
from core.decide import Action, learned_values, solve, total
from core.model import ESTIMATORS, fit_effects
from sample_data.action_history import AMOUNT, METHODS, generate_history, new_month

COSTS = {"Calls": 50.0, "Settlement Offer": 1500.0, "Legal Notice": 5000.0, "Debt Collectors": 3000.0}
SHARES = {"Calls": None, "Settlement Offer": 0.10, "Legal Notice": 0.05, "Debt Collectors": 0.08}


def table(n: int, fallback: bool = False) -> tuple[Action, ...]:
    """The action table for a month of ``n``: every row names its method; legal may type a fallback."""
    return tuple(
        Action(m, COSTS[m], None if SHARES[m] is None else int(n * SHARES[m]),
               0.45 if fallback and m == "Legal Notice" else None,
               0.45 if fallback and m == "Legal Notice" else None, m)
        for m in METHODS)


def capture(values: np.ndarray, true_values: np.ndarray, capacities: list) -> float:
    """Share of the true optimum's gain over calls-for-all that the plan from ``values`` brings."""
    best = total(true_values, solve(true_values, capacities).choice)
    cheapest = total(true_values, np.zeros(len(values), dtype=int))
    return (total(true_values, solve(values, capacities).choice) - cheapest) / (best - cheapest)


def compare(n: int = 20_000) -> None:
    """Each estimator's plan valued with the truth, with and without overlap."""
    month, truth = new_month(n, seed=12)
    owed = month["Outstanding_Loan_Amount"].to_numpy()
    print("| history | estimator | learn s | share of the true optimum's gain | RMSE of shares |")
    print("|---|---|---:|---:|---:|")
    for overlap in (True, False):
        history, _ = generate_history(n, seed=11, overlap=overlap)
        actions = table(n, fallback=not overlap)
        true_values = owed[:, None] * truth[list(METHODS)].to_numpy() - np.array([a.cost for a in actions])
        for estimator in ESTIMATORS:
            start = time.perf_counter()
            with threadpool_limits(limits=1):
                effects = fit_effects(history, "Collection_Method", AMOUNT, ids=history["Loan_ID"],
                                      estimator=estimator)
            seconds = time.perf_counter() - start
            learned = learned_values(month, np.zeros(n), actions, effects, typed="fallback")
            order = [effects.methods.index(m) for m in METHODS]
            rmse = np.sqrt(np.mean((effects.predict(month)[:, order] - truth[list(METHODS)].to_numpy()) ** 2))
            got = capture(learned.values, true_values, [a.capacity for a in actions])
            print(f"| {'with' if overlap else 'without'} overlap | {estimator} | {seconds:.1f} | {got:.1%} | {rmse:.3f} |")


def speed(sizes: list[int], repeats: int) -> None:
    """Learning and planning time at each size, one thread."""
    print("| borrowers | step | median wall s | median CPU s | result |")
    print("|---:|---|---:|---:|---|")
    for n in sizes:
        history, _ = generate_history(n, seed=11, overlap=True)
        month, truth = new_month(n, seed=12)
        actions = table(n)
        with threadpool_limits(limits=1):
            wall, cpu, effects = timed(lambda: fit_effects(history, "Collection_Method", AMOUNT,
                                                           ids=history["Loan_ID"], workers=1), repeats)
            print(f"| {n:,} | learn (T-learner, cross-fitted, propensity, band intervals) | {wall:.2f} | {cpu:.2f} "
                  f"| {sum(effects.rows.values()):,} history rows |")
            wall, cpu, learned = timed(lambda: learned_values(month, np.zeros(n), actions, effects), repeats)
            print(f"| {n:,} | learned values for every borrower × action | {wall:.2f} | {cpu:.2f} | |")
            wall, cpu, plan = timed(lambda: solve(learned.values, [a.capacity for a in actions]), repeats)
            true_values = (month["Outstanding_Loan_Amount"].to_numpy()[:, None] * truth[list(METHODS)].to_numpy()
                           - np.array([a.cost for a in actions]))
            got = capture(learned.values, true_values, [a.capacity for a in actions])
            print(f"| {n:,} | exact assignment on them | {wall:.2f} | {cpu:.2f} | {plan.method}; "
                  f"{got:.1%} of the true optimum's gain |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="only the estimator comparison")
    args = parser.parse_args(argv)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {load_average()}; "
          f"scikit-learn {version('scikit-learn')}, numpy {version('numpy')}\n")
    if args.compare:
        compare()
        return 0
    speed([int(s) for s in args.sizes.split(",")], args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
