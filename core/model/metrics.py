"""How well scores separate bad outcomes: headline metrics, their fold spread, and chart tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from core.data import stable_argsort

METRIC_LABELS = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "gini": "Gini",
    "ks": "KS",
    "brier": "Brier score",
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
}
# One sentence per metric on what it means for a collections team (Risk page and report).
METRIC_MEANINGS = {
    "roc_auc": "Chance that a randomly picked bad outcome scores higher than a good one (0.5 = coin toss).",
    "pr_auc": "Average precision across all cut-offs: how clean the top of the worklist is.",
    "gini": "2 × AUC − 1, the banking convention: 0 is random ranking, 1 is perfect.",
    "ks": "Largest gap between the score distributions of bad and good outcomes.",
    "brier": "Mean squared error of the probabilities: lower means the scores can be read as odds.",
    "accuracy": "Share of borrowers whose high/low-risk flag matches what actually happened.",
    "precision": "Of the borrowers flagged high-risk, the share that really went bad: wasted effort is the rest.",
    "recall": "Of the borrowers who really went bad, the share the flag caught: the rest are missed losses.",
    "f1": "Balance of precision and recall in one number.",
}
# Readable headers of the metrics and gains tables.
METRIC_HEADERS = {"label": "Metric", "value": "All borrowers", "fold_mean": "Mean over folds",
                  "fold_std": "Spread (std) over folds", "meaning": "What it means for collections"}
GAINS_HEADERS = {
    "decile": "Decile (1 = riskiest)", "borrowers": "Borrowers", "mean_score": "Mean score",
    "bad_rate": "Bad-outcome rate", "bads": "Bad outcomes", "bad_outstanding": "Outstanding of bad outcomes",
    "lift": "Lift", "cum_share_of_bads": "Cumulative share of bad outcomes",
    "cum_share_of_bad_outstanding": "Cumulative share of their outstanding",
}
# Curves are drawn in the browser; this many points is plenty for a smooth line.
CURVE_POINTS = 200


def ks_statistic(y: np.ndarray, scores: np.ndarray) -> float:
    """Largest gap between the score distributions of bad and good outcomes."""
    fpr, tpr, _ = roc_curve(y, scores)
    return float(np.max(np.abs(tpr - fpr)))


def _curve(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positives counted at each distinct score, from the highest down."""
    order = stable_argsort(-scores)
    s, bad = scores[order], np.asarray(y)[order].astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(bad)[last]
    return (last + 1) - tps, tps


# Two-sided 95% normal quantile, for the intervals the pages show.
Z95 = 1.959964


def roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC from one sort (ties count half), as scikit-learn computes it; 0.5 with one class only."""
    fps, tps = _curve(y, scores)
    if tps[-1] == 0 or fps[-1] == 0:
        return 0.5
    return float(np.trapezoid(np.r_[0.0, tps / tps[-1]], np.r_[0.0, fps / fps[-1]]))


def ranking_metrics(y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Metrics of the score itself, whatever the high-risk threshold.

    One sort serves ROC-AUC, average precision and KS (the same arithmetic as scikit-learn's,
    which sorts once per metric: seconds on a million borrowers).
    """
    fps, tps = _curve(y, scores)
    if tps[-1] == 0 or fps[-1] == 0:  # one class only: let scikit-learn say what is undefined
        auc = roc_auc_score(y, scores)
        return {"roc_auc": float(auc), "pr_auc": float(average_precision_score(y, scores)),
                "gini": float(2 * auc - 1), "ks": ks_statistic(y, scores),
                "brier": float(brier_score_loss(y, scores))}
    tpr, fpr = np.r_[0.0, tps / tps[-1]], np.r_[0.0, fps / fps[-1]]
    auc = float(np.trapezoid(tpr, fpr))
    precision = tps / (tps + fps)
    return {
        "roc_auc": auc,
        "pr_auc": float(np.sum(np.diff(tpr) * precision)),
        "gini": 2 * auc - 1,
        "ks": float(np.max(np.abs(tpr - fpr))),
        "brier": float(np.mean((np.asarray(scores, dtype=float) - np.asarray(y, dtype=float)) ** 2)),
    }


def flag_metrics(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    """Metrics of the high-risk flag (score > threshold), counted directly: cheap to redo."""
    c = confusion(y, scores, threshold)
    flagged, bad = c["tp"] + c["fp"], c["tp"] + c["fn"]
    precision = c["tp"] / flagged if flagged else 0.0
    recall = c["tp"] / bad if bad else 0.0
    return {
        "accuracy": (c["tp"] + c["tn"]) / max(len(y), 1),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    }


def score_metrics(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    """Every headline metric of scores against 0/1 outcomes; flagged means score > threshold."""
    return {**ranking_metrics(y, scores), **flag_metrics(y, scores, threshold)}


def confusion(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, int]:
    """Counts of true/false positives/negatives when flagged means score > threshold."""
    y = np.asarray(y).astype(bool)
    flagged = np.asarray(scores) > threshold
    return {
        "tn": int(np.sum(~y & ~flagged)), "fp": int(np.sum(~y & flagged)),
        "fn": int(np.sum(y & ~flagged)), "tp": int(np.sum(y & flagged)),
    }


def _with_folds(
    measure, y: np.ndarray, scores: np.ndarray, fold: np.ndarray, *args
) -> pd.DataFrame:
    """One metric family on all scores, with its mean and spread across folds."""
    overall = measure(y, scores, *args)
    per_fold = pd.DataFrame(
        [measure(y[fold == f], scores[fold == f], *args) for f in np.unique(fold)]
    )
    return pd.DataFrame(
        {
            "metric": list(overall),
            "label": [METRIC_LABELS[m] for m in overall],
            "value": list(overall.values()),
            "fold_mean": per_fold.mean().to_numpy(),
            "fold_std": per_fold.std(ddof=0).to_numpy(),
        }
    )


def ranking_table(y: np.ndarray, scores: np.ndarray, fold: np.ndarray) -> pd.DataFrame:
    """Ranking metrics on all out-of-fold scores and across folds (score stage)."""
    return _with_folds(ranking_metrics, y, scores, fold)


def metrics_table(
    y: np.ndarray, scores: np.ndarray, fold: np.ndarray, threshold: float,
    ranking: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each metric on all out-of-fold scores, with its mean and spread across folds."""
    ranking = ranking_table(y, scores, fold) if ranking is None else ranking
    flags = _with_folds(flag_metrics, y, scores, fold, threshold)
    return pd.concat([ranking, flags], ignore_index=True)


def readable_metrics(table: pd.DataFrame) -> pd.DataFrame:
    """The metrics table with what each metric means, under readable headers."""
    meaning = table["metric"].map(METRIC_MEANINGS)
    return table.assign(meaning=meaning)[list(METRIC_HEADERS)].rename(columns=METRIC_HEADERS)


def _thin(*arrays: np.ndarray) -> list[np.ndarray]:
    """Keep at most CURVE_POINTS evenly spaced points (ends included) of parallel arrays."""
    n = len(arrays[0])
    if n <= CURVE_POINTS:
        return list(arrays)
    keep = np.unique(np.linspace(0, n - 1, CURVE_POINTS).round().astype(int))
    return [a[keep] for a in arrays]


def roc_points(y: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """False and true positive rates along the score, thinned for drawing."""
    fpr, tpr, _ = roc_curve(y, scores)
    fpr, tpr = _thin(fpr, tpr)
    return pd.DataFrame({"false_positive_rate": fpr, "true_positive_rate": tpr})


def pr_points(y: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """Precision against recall along the score, thinned for drawing."""
    precision, recall, _ = precision_recall_curve(y, scores)
    recall, precision = _thin(recall, precision)
    return pd.DataFrame({"recall": recall, "precision": precision})


def calibration_table(y: np.ndarray, scores: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean score against observed bad rate in equal-count score bins."""
    observed, predicted = calibration_curve(y, scores, n_bins=bins, strategy="quantile")
    return pd.DataFrame({"mean_score": predicted, "observed_rate": observed})


def gains_table(y: np.ndarray, scores: np.ndarray, outstanding: np.ndarray | None) -> pd.DataFrame:
    """Per score decile (1 = riskiest): bad rate, lift, and cumulative share of bads and money captured."""
    order = stable_argsort(-np.asarray(scores))
    decile = np.empty(len(scores), dtype=int)
    decile[order] = np.arange(len(scores)) * 10 // len(scores) + 1
    frame = pd.DataFrame({"decile": decile, "bad": y, "score": scores})
    frame["bad_outstanding"] = 0.0 if outstanding is None else np.nan_to_num(outstanding) * y
    grouped = frame.groupby("decile")
    table = pd.DataFrame(
        {
            "borrowers": grouped.size(),
            "mean_score": grouped["score"].mean(),
            "bad_rate": grouped["bad"].mean(),
            "bads": grouped["bad"].sum(),
            "bad_outstanding": grouped["bad_outstanding"].sum(),
        }
    )
    table["lift"] = table["bad_rate"] / max(y.mean(), 1e-12)
    table["cum_share_of_bads"] = table["bads"].cumsum() / max(table["bads"].sum(), 1e-12)
    money = table["bad_outstanding"].sum()
    table["cum_share_of_bad_outstanding"] = (
        table["bad_outstanding"].cumsum() / money if money > 0 else np.nan
    )
    return table.reset_index()
