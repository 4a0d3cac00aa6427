"""The three candidate models as people read them: the same figures, computed the same way, as the Risk table."""

from __future__ import annotations

import pandas as pd

# The same three figures as the metrics table's ROC-AUC row (all borrowers, mean and spread over folds),
# so the scored model's row reads the very numbers its metrics table shows.
POOLED, FOLD_MEAN, FOLD_SPREAD = "ROC-AUC (all borrowers)", "ROC-AUC (mean over folds)", "Spread (std)"
SHOWN = "The score shown"


def comparison_view(comparison: pd.DataFrame, scored_model: str) -> pd.DataFrame:
    """ROC-AUC per model (pooled out-of-fold, mean and spread over folds), the scored model marked."""
    view = comparison[["label", "roc_auc", "roc_auc_fold_mean", "roc_auc_fold_std"]].rename(columns={
        "label": "Model", "roc_auc": POOLED, "roc_auc_fold_mean": FOLD_MEAN, "roc_auc_fold_std": FOLD_SPREAD})
    view[SHOWN] = ["yes" if model == scored_model else "" for model in comparison["model"]]
    return view
