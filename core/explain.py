"""Why the model scores as it does: permutation importance and per-borrower reasons in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from core.risk import OutOfFold
from core.schema import BY_NAME, label

MONEY_FIELDS = ("Monthly_Income", "Loan_Amount", "Collateral_Value", "Outstanding_Loan_Amount", "Monthly_EMI")
PERCENT_FIELDS = ("EMI_To_Income", "Collateral_Coverage", "Outstanding_Share")
TOP_REASONS = 3
# Permutation importance is estimated on at most this many held-out borrowers per fold: the
# ranking is stable well before that, and the cost grows with rows x fields x repeats.
IMPORTANCE_ROWS_PER_FOLD = 2000


def held_out_importance(
    run: OutOfFold, X: pd.DataFrame, y: np.ndarray, random_state: int, repeats: int = 3
) -> pd.DataFrame:
    """Drop in ROC-AUC when each input field is shuffled, measured on each fold's held-out rows."""
    per_fold = []
    rng = np.random.default_rng(random_state)
    for model, rows in zip(run.models, run.test_rows):
        if len(rows) > IMPORTANCE_ROWS_PER_FOLD:
            rows = np.sort(rng.choice(rows, IMPORTANCE_ROWS_PER_FOLD, replace=False))
        result = permutation_importance(
            model, X.iloc[rows], y[rows].astype(int), scoring="roc_auc",
            n_repeats=repeats, random_state=random_state, n_jobs=1,
        )
        per_fold.append(result.importances_mean)
    values = np.array(per_fold)
    table = pd.DataFrame(
        {
            "field": X.columns,
            "label": [label(c) for c in X.columns],
            "importance": values.mean(axis=0),
            "fold_std": values.std(axis=0),
        }
    )
    return table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


def typical_row(X: pd.DataFrame) -> dict:
    """Median of each numeric input and most common value of each categorical one."""
    typical = {}
    for column in X.columns:
        values = X[column].dropna()
        if values.empty:
            typical[column] = np.nan
        elif pd.api.types.is_numeric_dtype(values):
            typical[column] = float(values.median())
        else:
            typical[column] = values.mode().sort_values().iloc[0]
    return typical


def reason_effects(run: OutOfFold, X: pd.DataFrame) -> np.ndarray:
    """Per borrower and field: how much the score falls when that field is set to its typical value.

    Each borrower is explained by the fold model that scored them, so explanations are as
    honest as the scores. Borrowers without an outcome were scored by the mean of the fold
    models, so their effects are that mean's: the mean of each model's effects.
    """
    typical = typical_row(X)
    effects = np.zeros(X.shape)
    unknown = np.flatnonzero(run.fold < 0)
    for model, rows in zip(run.models, run.test_rows):
        effects[rows] = _effects(model, X.iloc[rows], typical)
        if len(unknown):
            effects[unknown] += _effects(model, X.iloc[unknown], typical) / len(run.models)
    return effects


def _effects(model, X: pd.DataFrame, typical: dict) -> np.ndarray:
    """Score minus the score with one field at a time replaced by its typical value."""
    base = model.predict_proba(X)[:, 1]
    out = np.empty(X.shape)
    for j, column in enumerate(X.columns):
        changed = X.copy()
        changed[column] = typical[column]
        out[:, j] = base - model.predict_proba(changed)[:, 1]
    return out


def describe_values(X: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each input as reason text per borrower: 'Days past due 150, high for this portfolio'."""
    return {c: _describe(X[c]) for c in X.columns}


def _describe(values: pd.Series) -> np.ndarray:
    """Reason text for one field, for every borrower."""
    name = label(values.name)
    if not pd.api.types.is_numeric_dtype(values):
        text = values.astype("object").where(values.notna(), "missing")
        return np.array([f"{name}: {v}" for v in text], dtype=object)
    arr = values.to_numpy(dtype="float64", na_value=np.nan)
    known = np.sort(arr[np.isfinite(arr)])
    share_below = np.searchsorted(known, arr, side="right") / max(len(known), 1)
    level = np.select(
        [share_below >= 0.9, share_below >= 0.7, share_below > 0.5, share_below > 0.3, share_below > 0.1],
        ["very high", "high", "above typical", "below typical", "low"],
        default="very low",
    )
    out = np.empty(len(arr), dtype=object)
    for i, (value, lvl) in enumerate(zip(arr, level)):
        out[i] = (
            f"{name} missing"
            if np.isnan(value)
            else f"{name} {_format(values.name, value)}, {lvl} for this portfolio"
        )
    return out


def _format(field: str, value: float) -> str:
    """A value as a collections analyst writes it."""
    if field in PERCENT_FIELDS:
        return f"{value:.0%}"
    if field in MONEY_FIELDS:
        return f"{value:,.0f}"
    if field == "Interest_Rate":
        return f"{value:.2f}%"
    if field in BY_NAME and BY_NAME[field].integer:
        return f"{value:.0f}"
    return f"{value:,.2f}"


def reasons(
    X: pd.DataFrame, effects: np.ndarray, scores: np.ndarray, threshold: float
) -> list[str]:
    """Top three reasons per borrower, joined with '; '.

    A flagged borrower is explained by what pushes the score up, anyone else by what holds it
    down; fields with no effect in that direction are left out.
    """
    texts = describe_values(X)
    columns = list(X.columns)
    signed = np.where((scores > threshold)[:, None], effects, -effects)
    order = np.argsort(-signed, axis=1, kind="stable")[:, :TOP_REASONS]
    out = []
    for i, top in enumerate(order):
        parts = [texts[columns[j]][i] for j in top if signed[i, j] > 1e-9]
        out.append("; ".join(parts))
    return out
