"""From risk score to recovery strategy, and what each strategy covers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.config import RecoveryConfig
from core.data import Outcome, readable

# The tutorial's status reads "not fully recovered"; any other outcome is the file's own "bad outcome".
NOT_FULLY_RECOVERED_RATE = "Actual not-fully-recovered rate"
BAD_OUTCOME_RATE = "Actual bad-outcome rate"


def assign_strategy(scores: np.ndarray, config: RecoveryConfig) -> np.ndarray:
    """The notebook's rule: above legal threshold, from settlement threshold up, or below it."""
    tier = np.where(scores > config.legal_threshold, 0,
                    np.where(scores >= config.settlement_threshold, 1, 2))
    return np.asarray(config.strategy_labels, dtype=object)[tier]


def strategy_summary(scored: pd.DataFrame, names: tuple[str, ...], outcome: Outcome | None = None) -> pd.DataFrame:
    """Borrowers, outstanding and outstanding at risk per strategy (in the order of ``names``).

    The actual outcome rate reads ``outcome`` (the file's one outcome, row for row with ``scored``):
    the same "bad" as the KPIs, the segments and the score.
    """
    rows = []
    has_money = "Outstanding_Loan_Amount" in scored.columns
    bad = None if outcome is None else pd.Series(outcome.y, index=scored.index, dtype="float64")
    has_outcome = bad is not None and bool(bad.notna().any())
    rate_name = NOT_FULLY_RECOVERED_RATE if outcome is not None and outcome.canonical else BAD_OUTCOME_RATE
    wanted = ["Recovery_Strategy", "Risk_Score"] + [c for c in (
        "Outstanding_Loan_Amount", "Outstanding_At_Risk", "Expected_Net_Recovery") if c in scored.columns]
    columns = scored[wanted].assign(_bad=bad) if has_outcome else scored[wanted]  # a few columns are split
    for strategy in names:
        group = columns[columns["Recovery_Strategy"] == strategy]
        row = {
            "Recovery strategy": strategy,
            "Borrowers": len(group),
            "Share of borrowers": len(group) / max(len(scored), 1),
            "Mean risk score": group["Risk_Score"].mean() if len(group) else np.nan,
        }
        if has_money:
            row["Outstanding"] = group["Outstanding_Loan_Amount"].sum()
            row["Outstanding at risk"] = group["Outstanding_At_Risk"].sum()
        if "Expected_Net_Recovery" in group.columns:
            row["Expected net recovery"] = group["Expected_Net_Recovery"].sum()
        if has_outcome:
            known = group["_bad"].dropna()
            row[rate_name] = float(known.mean()) if len(known) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def worklist(scored: pd.DataFrame, names: tuple[str, ...], limit: int | None = None) -> pd.DataFrame:
    """Borrowers ordered for action: strategies in the order of ``names``, then most money at risk (the first ``limit``)."""
    rank = {label: i for i, label in enumerate(names)}
    keys = scored["Recovery_Strategy"].map(rank)
    money = next(scored[c] for c in ("Expected_Net_Recovery", "Outstanding_At_Risk", "Risk_Score") if c in scored)
    order = np.lexsort((-money.fillna(0).to_numpy(), keys.to_numpy()))
    return scored.iloc[order[:limit]]


# Readable headers of the columns the analysis adds; the file's own columns keep their field labels.
ANALYSIS_LABELS = {
    "File_Row": "File row", "Borrower_Segment": "Segment no.", "Segment_Name": "Segment", "Risk_Score": "Risk score",
    "Predicted_High_Risk": "Flagged high-risk", "Recovery_Strategy": "Recovery strategy",
    "Risk_Reasons": "Why (top reasons)", "Outstanding_At_Risk": "Outstanding at risk",
    "Expected_Net_Recovery": "Expected net recovery", "Expected_Loss": "Expected loss", "Test_Group": "Test group",
}
# What a collector needs first in the worklist; the file's other columns follow.
WORKLIST_FIRST = ("File_Row", "Borrower_ID", "Loan_ID", "Recovery_Strategy", "Risk_Score", "Expected_Net_Recovery",
                  "Outstanding_Loan_Amount", "Segment_Name", "Risk_Reasons", "Test_Group")


def select_borrowers(
    scored: pd.DataFrame, actions: list[str], segments: list[str], scores: tuple[float, float], search: str,
) -> pd.DataFrame:
    """Borrowers with one of ``actions`` and ``segments``, a score in range, and an ID containing ``search``."""
    rows = scored[scored["Recovery_Strategy"].isin(actions) & scored["Segment_Name"].isin(segments)
                  & scored["Risk_Score"].between(*scores)]
    text = search.strip()
    if not text:
        return rows
    ids = [c for c in ("Borrower_ID", "Loan_ID") if c in rows.columns]
    found = np.zeros(len(rows), dtype=bool)
    for column in ids:
        found |= rows[column].astype("str").str.contains(text, case=False, regex=False).fillna(False).to_numpy()
    return rows[found]


def worklist_view(rows: pd.DataFrame, names: tuple[str, ...], limit: int) -> pd.DataFrame:
    """The first ``limit`` of the worklist with its file row, the columns a collector needs on the left."""
    listed = worklist(rows, names, limit=limit).rename_axis("File_Row").reset_index()
    first = [c for c in WORKLIST_FIRST if c in listed.columns]
    return listed[first + [c for c in listed.columns if c not in first]]


def header(column: str) -> str:
    """The header a person reads for a column of the annotated table."""
    return ANALYSIS_LABELS.get(column) or readable(column)  # a lender's own header reads as words
