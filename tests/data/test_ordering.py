"""The value order: pandas' row hashes stably sorted, whether column hashes are shared or not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.ordering import row_hashes, stable_argsort, value_order


@pytest.fixture(scope="module")
def rows() -> tuple[pd.DataFrame, np.ndarray]:
    """Small rows with many exact repeats (ties), missing values, text and nullable integers."""
    rng = np.random.default_rng(3)
    n = 2_000
    frame = pd.DataFrame({
        "Age": rng.integers(20, 23, n),
        "Monthly_Income": rng.choice([1500.0, np.nan, 2500.5], n),
        "Loan_Type": pd.array(rng.choice(["Home", "Auto", None], n), dtype="str"),
        "Num_Dependents": pd.array(rng.choice([0, 2, None], n), dtype="Int64"),
    })
    return frame, rng.choice([0.0, 1.0, np.nan], n)


def test_shared_column_hashes_give_the_order_of_the_whole_frame_hash(rows):
    frame, outcome = rows
    memo: dict[str, np.ndarray] = {}
    for columns in (["Age", "Monthly_Income"], list(frame.columns), ["Loan_Type"]):
        expected = np.argsort(pd.util.hash_pandas_object(frame[columns].assign(_y=outcome), index=False).to_numpy(),
                              kind="stable")
        assert np.array_equal(value_order(frame[columns], memo, last=outcome), expected)
        assert np.array_equal(row_hashes(frame[columns], memo),
                              pd.util.hash_pandas_object(frame[columns], index=False).to_numpy())
    # each column hashed once, the outcome never kept
    assert sorted(memo) == sorted(frame.columns)


def test_ties_keep_file_order_as_a_stable_sort_does(rows):
    keys = rows[0]["Age"].to_numpy().astype(np.uint64)  # three values over 2,000 rows: nearly all ties
    assert np.array_equal(stable_argsort(keys), np.argsort(keys, kind="stable"))
    assert np.array_equal(stable_argsort(np.array([], dtype=np.uint64)), np.array([], dtype=np.intp))
