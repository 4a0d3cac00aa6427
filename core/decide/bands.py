"""Risk bands that fit the portfolio, and a plan that barely tells borrowers apart named in words.

The notebook's cut-offs (legal above 0.75, settlement from 0.50) are absolute: on a calibrated
probability they can send a whole book to legal notices, or nobody. Outside the seed preset the
default bands are shares of the book instead: the riskiest share gets legal notices, the next
share settlement offers, everyone else reminders, as a team with limited legal capacity works.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.config import RecoveryConfig
from core.decide.strategy import assign_strategy

# A band holding more than this share of the borrowers does not tell them apart.
CROWDED_SHARE = 0.90
RISKIEST_SHARE = 0.10  # "the riskiest borrowers": the top tenth by risk score


def share_thresholds(scores: np.ndarray, shares: tuple[float, float]) -> tuple[float, float]:
    """(settlement, legal) cut-offs so the top ``shares[0]`` are above legal and the next ``shares[1]`` settle."""
    ranked = np.sort(np.asarray(scores, dtype="float64")[~np.isnan(scores)])
    n = len(ranked)
    if n == 0:
        return 0.5, 0.75
    top = int(round(shares[0] * n))
    both = min(n, top + int(round(shares[1] * n)))
    # the lowest score in each band: what a new borrower needs to join it
    legal = float(ranked[n - top]) if top > 0 else 1.0
    settlement = float(ranked[n - both]) if both > 0 else 1.0
    legal = min(max(legal, 0.0), 1.0)
    return min(max(settlement, 0.0), legal), legal


def by_share(scores: np.ndarray, config: RecoveryConfig, priority: np.ndarray | None = None) -> np.ndarray:
    """Each borrower's strategy: by rank of risk score when bands are shares, else the notebook's cut-offs.

    Equal scores (a calibrated score can tie many borrowers at its top) are ordered by ``priority``
    (expected loss, the most first), so a share stays that share of the book.
    """
    if config.band_shares is None:
        return assign_strategy(scores, config)
    n = len(scores)
    tiebreak = np.zeros(n) if priority is None else np.nan_to_num(np.asarray(priority, dtype="float64"))
    order = np.lexsort((-tiebreak, -np.nan_to_num(np.asarray(scores, dtype="float64"), nan=-1.0)))
    top = int(round(config.band_shares[0] * n))
    both = min(n, top + int(round(config.band_shares[1] * n)))
    tier = np.full(n, 2)
    tier[order[:both]] = 1
    tier[order[:top]] = 0
    return np.asarray(config.strategy_labels, dtype=object)[tier]


def with_bands(config: RecoveryConfig, scores: np.ndarray) -> RecoveryConfig:
    """The config with its cut-offs set from the shares of the book (unchanged when bands are fixed)."""
    if config.band_shares is None:
        return config
    settlement, legal = share_thresholds(scores, config.band_shares)
    return config.with_(settlement_threshold=settlement, legal_threshold=legal)


def bands_in_words(config: RecoveryConfig) -> str:
    """How borrowers are put in the three strategies, in a sentence a collections analyst reads."""
    first, second, third = config.strategy_labels
    if config.band_shares is None:
        return (f"Fixed risk-score cut-offs: above {config.legal_threshold:.2f} → {first}; "
                f"{config.settlement_threshold:.2f} to {config.legal_threshold:.2f} → {second}; "
                f"below {config.settlement_threshold:.2f} → {third}.")
    legal, settle = config.band_shares
    return (f"Bands by share of this portfolio: the riskiest {legal:.0%} of borrowers (risk score "
            f"{config.legal_threshold:.2f} and above) → {first}; the next {settle:.0%} (from "
            f"{config.settlement_threshold:.2f}) → {second}; the other {max(0.0, 1 - legal - settle):.0%} → "
            f"{third}. Equal scores go to the most expected loss first. The shares follow the book, so no "
            "absolute cut-off can send everyone to one action; set them to what your teams can handle.")


def crowded_note(strategy: np.ndarray | pd.Series, scores: np.ndarray) -> str | None:
    """A sentence when one action holds nearly everyone or the riskiest get what everyone gets (else None)."""
    n = len(strategy)
    if n < 10:
        return None
    # hashed: no sort of a million texts; a text column is hashed as it is, not as a million Python strings
    codes, names = pd.factorize(strategy if isinstance(strategy, pd.Series) else np.asarray(strategy, dtype=object))
    names = np.asarray(names, dtype=object)
    counts = np.bincount(codes, minlength=len(names))
    biggest = _most_common(names, counts)
    if counts[biggest] / n > CROWDED_SHARE:
        return (f"One action holds nearly everyone: '{names[biggest]}' gets {counts[biggest] / n:.1%} of "
                f"borrowers ({counts[biggest]:,} of {n:,}), so the plan hardly tells them apart. Set the bands "
                "by share of the book, or move the cut-offs, on the Strategy page.")
    order = np.argsort(-np.asarray(scores, dtype="float64"), kind="stable")
    riskiest = order[:max(1, int(n * RISKIEST_SHARE))]
    top_counts = np.bincount(codes[riskiest], minlength=len(names))
    top = _most_common(names, top_counts)
    if top == _most_common(names, counts - top_counts):
        return (f"The riskiest tenth of borrowers mostly get the same action as everyone else ('{names[top]}'): "
                "the plan does not single out the borrowers most likely to go bad. Set the bands by share of the "
                "book, or move the cut-offs, on the Strategy page.")
    return None


def _most_common(names: np.ndarray, counts: np.ndarray) -> int:
    """The index of the most frequent name; a tie goes to the name first in sorted order (as np.unique's)."""
    tied = np.flatnonzero(counts == counts.max())
    return int(min(tied, key=lambda i: str(names[i])))
