"""The three candidate models as people read them: the same figures, computed the same way, as the Risk table."""

from __future__ import annotations

import pandas as pd

# Headers shared with the out-of-fold metrics table (core.model.metrics.readable_metrics), so the
# chosen model's row reads the very number its metrics table shows.
POOLED, FOLD_MEAN, FOLD_SPREAD = "All borrowers", "Mean over folds", "Spread (std) over folds"


def comparison_view(comparison: pd.DataFrame, scored_model: str) -> pd.DataFrame:
    """ROC-AUC per model (pooled out-of-fold, mean and spread over folds), the scored model marked."""
    view = comparison[["model", "label", "roc_auc", "roc_auc_fold_mean", "roc_auc_fold_std"]].copy()
    view["label"] = [f"{label} (the score shown)" if model == scored_model else label
                     for model, label in zip(view["model"], view["label"])]
    return view.drop(columns="model").rename(columns={
        "label": "Model", "roc_auc": f"ROC-AUC: {POOLED.lower()}", "roc_auc_fold_mean": FOLD_MEAN,
        "roc_auc_fold_std": FOLD_SPREAD})
