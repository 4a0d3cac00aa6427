"""A row order that depends only on row values, so a re-sorted file gives the same results."""

from __future__ import annotations

import numpy as np
import pandas as pd


def column_hashes(frame: pd.DataFrame, memo: dict[str, np.ndarray] | None = None) -> list[np.ndarray]:
    """Each column's row hashes (pandas' own), read from ``memo`` by name and kept there when worked out.

    ``memo`` belongs to one frame of features: the leakage screen, the segments and the score
    stage each order rows by some of its columns, and each column is hashed once for all three.
    """
    hashes = []
    for name in frame.columns:
        known = memo.get(name) if memo is not None else None
        if known is None:
            known = pd.util.hash_pandas_object(frame[name], index=False).to_numpy()
            if memo is not None:
                memo[name] = known
        hashes.append(known)
    return hashes


def combined(hashes: list[np.ndarray], length: int) -> np.ndarray:
    """Row hashes of several columns combined exactly as pandas' hash_pandas_object combines a frame's."""
    # CPython's tuple hash, as pandas.core.util.hashing.combine_hash_arrays computes it
    if not hashes:
        return np.full(length, 0x345678 + 97531, dtype=np.uint64)
    mult = np.uint64(1000003)
    out = np.zeros_like(hashes[0]) + np.uint64(0x345678)
    for i, h in enumerate(hashes):
        inverse = len(hashes) - i
        out ^= h
        out *= mult
        mult += np.uint64(82520 + inverse + inverse)
    out += np.uint64(97531)
    return out


def stable_argsort(keys: np.ndarray) -> np.ndarray:
    """np.argsort(keys, kind="stable") of a 1-d array, from a quicker unstable sort with equal keys put back in position order."""
    order = np.argsort(keys)
    ordered = keys[order]
    same = ordered[1:] == ordered[:-1]
    if ordered.dtype.kind == "f":
        same |= np.isnan(ordered[1:]) & np.isnan(ordered[:-1])  # missing values sort last, together
    tied = np.flatnonzero(same)
    if len(tied) > len(keys) // 6:  # many equal keys: the stable sort itself is quicker
        return np.argsort(keys, kind="stable")
    if len(tied):
        # every slot in a run of equal keys, then those slots' positions sorted within each run
        run = np.zeros(len(keys), dtype=bool)
        run[tied] = run[tied + 1] = True
        slots = np.flatnonzero(run)
        within = np.lexsort((order[slots], ordered[slots]))
        order[slots] = order[slots][within]
    return order


def value_order(frame: pd.DataFrame, memo: dict[str, np.ndarray] | None = None,
                last: np.ndarray | None = None) -> np.ndarray:
    """Positions that put the rows in an order fixed by their values alone.

    K-Means initialisation, cross-validation folds and bootstrap samples all follow row
    positions; running them in this order makes each borrower's result independent of how the
    file was sorted. Rows with identical values are interchangeable, so their ties do not matter.
    The order is that of the frame's hash_pandas_object (with ``last`` as one more column, never
    kept in ``memo``), stably sorted.
    """
    return stable_argsort(row_hashes(frame, memo, last))


def row_hashes(frame: pd.DataFrame, memo: dict[str, np.ndarray] | None = None,
               last: np.ndarray | None = None) -> np.ndarray:
    """hash_pandas_object(frame, index=False) (with ``last`` as one more column), from memoised column hashes."""
    hashes = column_hashes(frame, memo)
    if last is not None:
        hashes.append(pd.util.hash_pandas_object(pd.Series(last), index=False).to_numpy())
    return combined(hashes, len(frame))
