"""The leakage screen: a field that alone predicts the outcome almost perfectly is probably recorded after it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.ordering import value_order
from core.data.schema import label

LEAK_AUC = 0.95


LEAK_MAX_ROWS = 50_000  # a sample this size measures an AUC near 0.95 to within about 0.005


LEAK_BINS = 20


def _codes(values: pd.Series) -> np.ndarray:
    """Small integer codes: quantile bins for numbers, the value for categories; missing its own code."""
    if pd.api.types.is_numeric_dtype(values):
        x = values.to_numpy(dtype="float64", na_value=np.nan)
        edges = np.unique(np.nanquantile(x, np.linspace(0, 1, LEAK_BINS + 1)[1:-1])) if np.isfinite(x).any() else []
        # "left": a value equal to an edge has a bin of its own below it, so a spike (all the zeros) stays apart
        codes = np.searchsorted(edges, x, side="left")
        codes[~np.isfinite(x)] = len(edges) + 1
        return codes
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    return np.where(codes < 0, codes.max() + 1, codes)


def single_field_auc(values: pd.Series, y: np.ndarray, random_state: int = 0, n_folds: int = 5) -> float:
    """Cross-validated ROC-AUC of the outcome rate per value (or bin) of one field.

    Each borrower's prediction is the bad rate of their value among the other folds' borrowers,
    so the prediction takes one value per (fold, value) pair: everything is counted per pair, and
    the AUC comes from those few counts (ties count half), not from a sort of every borrower.
    """
    codes = _codes(values)
    n_codes = int(codes.max()) + 1
    fold = np.random.default_rng(random_state).integers(0, n_folds, len(y))
    pair = fold * n_codes + codes
    bad = np.bincount(pair, weights=y, minlength=n_folds * n_codes).reshape(n_folds, n_codes)
    seen = np.bincount(pair, minlength=n_folds * n_codes).reshape(n_folds, n_codes).astype("float64")
    # one pseudo-borrower at the base rate keeps a rare value's rate honest
    rate = (bad.sum(axis=0) - bad + y.mean()) / (seen.sum(axis=0) - seen + 1)
    positives, negatives = bad.ravel(), (seen - bad).ravel()
    order = np.argsort(rate.ravel(), kind="stable")
    r, pos, neg = rate.ravel()[order], positives[order], negatives[order]
    # group equal rates: a tie between a bad and a good borrower counts half
    starts = np.flatnonzero(np.r_[True, np.diff(r) != 0])
    pos, neg = np.add.reduceat(pos, starts), np.add.reduceat(neg, starts)
    below = np.cumsum(neg) - neg
    total_pos, total_neg = pos.sum(), neg.sum()
    if not total_pos or not total_neg:
        return 0.5
    return float((pos * (below + 0.5 * neg)).sum() / (total_pos * total_neg))


def field_aucs(features: pd.DataFrame, y: np.ndarray, fields: list[str], random_state: int = 0,
               hashes: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """Each field's single-field cross-validated ROC-AUC, on a value-ordered sample of known outcomes.

    ``hashes``: the features' column hashes (value_order's memo), kept for the later stages.
    """
    # rows taken in value order, so the same file in any row order gives the same folds
    order = value_order(features[fields], hashes, last=y) if fields else np.arange(len(y))
    rows = order[~np.isnan(y[order])]
    if len(rows) > LEAK_MAX_ROWS:
        rows = rows[np.sort(np.random.default_rng(random_state).choice(len(rows), LEAK_MAX_ROWS, replace=False))]
    yk = y[rows]
    if len(rows) < 20 or yk.min() == yk.max():
        return {}
    return {name: single_field_auc(features[name].iloc[rows], yk, random_state) for name in fields}


def leakage_screen(features: pd.DataFrame, y: np.ndarray, fields: list[str], random_state: int = 0
                   ) -> dict[str, float]:
    """Fields that alone predict the outcome with cross-validated ROC-AUC of at least LEAK_AUC."""
    return leaking(field_aucs(features, y, fields, random_state))


def leaking(aucs: dict[str, float], include: tuple[str, ...] = ()) -> dict[str, float]:
    """Of these single-field ROC-AUCs, the fields at or above LEAK_AUC that the user did not switch back on."""
    return {name: auc for name, auc in aucs.items() if auc >= LEAK_AUC and name not in include}


def leak_sentence(name: str, auc: float) -> str:
    """The words a user reads about a leaking field."""
    return (f"{label(name)} alone predicts the outcome almost perfectly (ROC-AUC {auc:.3f}): it is probably "
            "recorded after the outcome, so it is switched off. Switch it back on if it is known before.")
