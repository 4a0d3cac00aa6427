"""Fairness: per group of each protected attribute, who is flagged against what actually happened."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import is_protected, label

# A protected attribute with more groups than this (an age in years, say) is left out of the fairness table.
FAIRNESS_MAX_GROUPS = 20


def fairness_table(
    df: pd.DataFrame, y: np.ndarray, flagged: np.ndarray, scores: np.ndarray, target: str
) -> pd.DataFrame:
    """Per group of each protected attribute: share flagged high-risk against the actual rate of what the score predicts."""
    tables = []
    for name in (c for c in df.columns if is_protected(str(c))):
        groups = df[name].astype("object").fillna("(missing)").astype("str")
        if groups.nunique() > FAIRNESS_MAX_GROUPS:
            continue
        grouped = pd.DataFrame({"group": groups.to_numpy(), "flagged": flagged, "bad": y,
                                "score": scores}).groupby("group", sort=True)
        tables.append(pd.DataFrame({
            "Attribute": label(name),
            "Group": grouped.size().index,
            "Borrowers": grouped.size().to_numpy(),
            "Share flagged high-risk": grouped["flagged"].mean().to_numpy(),
            ("Share in a high-risk segment" if target == "segment" else "Actual bad-outcome rate"):
                grouped["bad"].mean().to_numpy(),
            "Mean risk score": grouped["score"].mean().to_numpy(),
        }))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
