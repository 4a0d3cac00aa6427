"""A row order that depends only on row values, so a re-sorted file gives the same results."""

from __future__ import annotations

import numpy as np
import pandas as pd


def value_order(frame: pd.DataFrame) -> np.ndarray:
    """Positions that put the rows in an order fixed by their values alone.

    K-Means initialisation, cross-validation folds and bootstrap samples all follow row
    positions; running them in this order makes each borrower's result independent of how the
    file was sorted. Rows with identical values are interchangeable, so their ties do not matter.
    """
    return np.argsort(pd.util.hash_pandas_object(frame, index=False).to_numpy(), kind="stable")
