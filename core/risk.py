"""The risk of not recovering: target, candidate models, and honest out-of-fold scores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from core.errors import RecoveryError
from core.schema import FULLY_RECOVERED, OUTCOME, WRITTEN_OFF

MODEL_LABELS = {
    "random_forest": "Random Forest (the notebook's)",
    "gradient_boosting": "Gradient boosting (HistGradientBoosting)",
    "logistic": "Logistic regression",
}


@dataclass(frozen=True)
class Target:
    """What the score predicts, per borrower: 1 bad, 0 good, NaN unknown."""

    y: np.ndarray
    kind: str
    description: str
    fallback_note: str | None = None


def outcome_target(df: pd.DataFrame, kind: str) -> Target | None:
    """The real outcome as 0/1, or None when the file has no usable Recovery_Status."""
    if OUTCOME not in df.columns or df[OUTCOME].notna().sum() == 0:
        return None
    status = df[OUTCOME]
    bad = status == WRITTEN_OFF if kind == "written_off" else status != FULLY_RECOVERED
    y = bad.astype("float64").where(status.notna()).to_numpy(dtype="float64", na_value=np.nan)
    words = "was written off" if kind == "written_off" else "was not fully recovered"
    return Target(y=y, kind=kind, description=f"Probability the loan {words}")


def segment_target(in_risky_segment: np.ndarray, note: str | None = None) -> Target:
    """The notebook's flag: 1 when the borrower sits in a high-risk segment."""
    return Target(
        y=in_risky_segment.astype("float64"),
        kind="segment",
        description="Probability the borrower belongs to a high-risk segment",
        fallback_note=note,
    )


def check_target(target: Target, n_folds: int) -> None:
    """Raise RecoveryError when the outcome classes are too small to cross-validate."""
    known = target.y[~np.isnan(target.y)]
    bad, good = int(known.sum()), int(len(known) - known.sum())
    if min(bad, good) < n_folds:
        raise RecoveryError(
            f"Scoring needs at least {n_folds} borrowers with a bad outcome and {n_folds} with a good "
            f"one to cross-validate; the data has {bad} bad and {good} good: load more borrowers, "
            "choose another target, or lower the number of folds."
        )


def make_model(
    kind: str,
    numeric: list[str],
    categorical: list[str],
    random_state: int,
    calibrate: bool = False,
) -> ClassifierMixin:
    """A pipeline that imputes, encodes categories and fits one of the candidate models."""
    if kind not in MODEL_LABELS:
        raise RecoveryError(f"Unknown model '{kind}': choose one of {', '.join(MODEL_LABELS)}.")
    numeric_steps = [SimpleImputer(strategy="median", keep_empty_features=True)]
    if kind == "logistic":
        numeric_steps.append(StandardScaler())
    categories = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="(missing)"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    prepare = ColumnTransformer(
        [("numeric", make_pipeline(*numeric_steps), numeric), ("category", categories, categorical)],
        verbose_feature_names_out=False,
    )
    model = Pipeline([("prepare", prepare), ("model", _estimator(kind, random_state))])
    if calibrate:
        # One model on all training rows plus a sigmoid fitted on its internal CV predictions:
        # calibrated probabilities without averaging away the ranking of the full model.
        return CalibratedClassifierCV(model, method="sigmoid", cv=3, ensemble=False)
    return model


def _estimator(kind: str, random_state: int) -> ClassifierMixin:
    """The bare classifier; the Random Forest has the notebook's hyperparameters (but n_jobs)."""
    if kind == "random_forest":
        return RandomForestClassifier(
            n_estimators=200, max_depth=8, min_samples_split=10, min_samples_leaf=4,
            max_features="sqrt", class_weight="balanced", random_state=random_state,
            bootstrap=True, oob_score=True,
            # n_jobs=1, not the notebook's -1: parallel predict_proba sums the trees in thread
            # order, so the same file could give scores differing in the last digit.
            n_jobs=1,
        )
    if kind == "gradient_boosting":
        return HistGradientBoostingClassifier(
            learning_rate=0.05, max_iter=300, max_leaf_nodes=15, l2_regularization=1.0,
            early_stopping=True, random_state=random_state,
        )
    return LogisticRegression(C=1.0, max_iter=2000)


@dataclass(frozen=True)
class OutOfFold:
    """Each borrower's score from a model that did not train on them."""

    scores: np.ndarray
    fold: np.ndarray  # fold that scored the borrower; -1 for borrowers with unknown outcome
    models: tuple
    test_rows: tuple[np.ndarray, ...]


def out_of_fold(
    make: Callable[[], ClassifierMixin],
    X: pd.DataFrame,
    y: np.ndarray,
    n_folds: int,
    random_state: int,
) -> OutOfFold:
    """Stratified K-fold scores; borrowers without an outcome get the mean of the fold models.

    Folds are fitted in parallel threads: each fold's fit is deterministic on its own, so the
    result does not depend on which thread finishes first.
    """
    known = np.flatnonzero(~np.isnan(y))
    unknown = np.flatnonzero(np.isnan(y))
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state)
    splits = [(known[train], known[test]) for train, test in splitter.split(known, y[known])]
    models = Parallel(n_jobs=-1, prefer="threads")(
        delayed(lambda train: make().fit(X.iloc[train], y[train].astype(int)))(train)
        for train, _ in splits
    )
    scores = np.full(len(y), np.nan)
    fold = np.full(len(y), -1)
    unknown_scores = np.zeros(len(unknown))
    for f, (model, (_, test)) in enumerate(zip(models, splits)):
        scores[test] = model.predict_proba(X.iloc[test])[:, 1]
        fold[test] = f
        if len(unknown):
            unknown_scores += model.predict_proba(X.iloc[unknown])[:, 1] / n_folds
    scores[unknown] = unknown_scores
    return OutOfFold(
        scores=scores, fold=fold, models=tuple(models), test_rows=tuple(test for _, test in splits)
    )


def compare_models(
    X: pd.DataFrame,
    y: np.ndarray,
    numeric: list[str],
    categorical: list[str],
    n_folds: int,
    random_state: int,
) -> tuple[pd.DataFrame, dict[str, OutOfFold]]:
    """Cross-validated ROC-AUC of each candidate on the same folds, best first."""
    rows, runs = [], {}
    known = ~np.isnan(y)
    for kind in MODEL_LABELS:
        run = out_of_fold(
            lambda kind=kind: make_model(kind, numeric, categorical, random_state),
            X, y, n_folds, random_state,
        )
        per_fold = [
            roc_auc_score(y[rows_], run.scores[rows_]) for rows_ in run.test_rows
        ]
        runs[kind] = run
        rows.append(
            {
                "model": kind,
                "label": MODEL_LABELS[kind],
                "roc_auc": float(roc_auc_score(y[known], run.scores[known])),
                "roc_auc_fold_mean": float(np.mean(per_fold)),
                "roc_auc_fold_std": float(np.std(per_fold)),
            }
        )
    table = pd.DataFrame(rows).sort_values("roc_auc_fold_mean", ascending=False, kind="stable")
    return table.reset_index(drop=True), runs


def seed_split_metrics(
    X: pd.DataFrame, y: np.ndarray, numeric: list[str], random_state: int
) -> dict:
    """The notebook's evaluation: 80/20 stratified split, its Random Forest, its four metrics."""
    known = ~np.isnan(y)
    X_train, X_test, y_train, y_test = train_test_split(
        X[known], y[known].astype(int), test_size=0.2, random_state=random_state, stratify=y[known]
    )
    model = make_model("random_forest", numeric, [], random_state).fit(X_train, y_train)
    predicted = model.predict(X_test)
    tn, fp, fn, tp = confusion_matrix(y_test, predicted, labels=[0, 1]).ravel()
    return {
        "test_rows": int(len(y_test)),
        "accuracy": float(accuracy_score(y_test, predicted)),
        "precision": float(precision_score(y_test, predicted, zero_division=0)),
        "roc_auc": float(roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])),
        "confusion": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
    }
