"""The floor of the score job on this machine: the same work with nothing around it.

    python -m benchmarks.floor PORTFOLIO.csv OUT.csv

Read the CSV with Arrow, type the numeric columns, fit five gradient-boosting models (one per fold,
each on at most 20,000 of its training rows, as the product does), score every row out-of-fold,
form four K-Means segments on the notebook's ten fields (fitted on a 20,000-row sample, every row
placed), and write the rows back with the score and segment added. No validation, no roles, no
reasons, no report: what the product does beyond this is the price of what a user reads.
"""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sklearn.cluster import KMeans
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

FOLDS = 5
TRAIN_MAX_ROWS = 20_000
SEGMENT_FIELDS = ("Age", "Monthly_Income", "Loan_Amount", "Loan_Tenure", "Interest_Rate", "Collateral_Value",
                  "Outstanding_Loan_Amount", "Monthly_EMI", "Num_Missed_Payments", "Days_Past_Due")
NOT_INPUTS = ("Borrower_ID", "Loan_ID", "Recovery_Status", "Collection_Attempts", "Collection_Method",
              "Legal_Action_Taken")


def numeric_matrix(table: pa.Table, names: list[str]) -> np.ndarray:
    """The named columns as one float matrix (missing as NaN)."""
    return np.column_stack([table[n].to_numpy(zero_copy_only=False).astype("float64") for n in names])


def main(source: str, target: str) -> int:
    """Run the floor job on one file."""
    table = pa_csv.read_csv(source)
    inputs = [f.name for f in table.schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)]
    inputs = [n for n in inputs if n not in NOT_INPUTS]
    X = numeric_matrix(table, inputs)
    y = pc.not_equal(table["Recovery_Status"], "Fully Recovered").to_numpy(zero_copy_only=False).astype(int)
    rng = np.random.default_rng(0)
    fold = rng.integers(0, FOLDS, len(y))
    scores = np.empty(len(y))
    with threadpool_limits(limits=1):
        for f in range(FOLDS):
            train = np.flatnonzero(fold != f)
            if len(train) > TRAIN_MAX_ROWS:
                train = rng.choice(train, TRAIN_MAX_ROWS, replace=False)
            model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X[train], y[train])
            held = fold == f
            scores[held] = model.predict_proba(X[held])[:, 1]
        Z = numeric_matrix(table, list(SEGMENT_FIELDS))
        Z = (Z - np.nanmean(Z, axis=0)) / np.nanstd(Z, axis=0)
        Z = np.nan_to_num(Z)
        sample = rng.choice(len(Z), min(len(Z), TRAIN_MAX_ROWS), replace=False)
        segments = KMeans(4, n_init=10, random_state=42).fit(Z[sample]).predict(Z)
    out = table.append_column("Risk_Score", pa.array(scores)).append_column("Borrower_Segment", pa.array(segments))
    pa_csv.write_csv(out, target)
    print(f"Floor: scored {len(y):,} rows.")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
