"""The Strategy page's tables: how each table's columns read (formats, headers, pinned columns), and the
worklist of borrowers to act on with one borrower's options, built once per analysis and filter in this session."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.config import MIN_HAIRCUT
from core.decide import borrower_actions, borrower_values, header, select_borrowers, worklist_view
from core.display import ACTION_HEADERS, money_format
from core.pipeline import RecoveryResult
from ui import state

WORKLIST_LIMIT = 1000
# the worklist's money columns, shown in the lender's currency (the tutorial's amounts and the plan's own)
WORKLIST_MONEY = ("Expected_Net_Recovery", "Outstanding_Loan_Amount", "Outstanding_At_Risk", "Expected_Loss",
                  "Loan_Amount", "Monthly_Income", "Collateral_Value", "Monthly_EMI")


# ------------------------------------------------------------------------------ how the tables' columns read


def action_table_columns(currency: str, methods: list[str]) -> dict:
    """The action editor's columns: cost in the currency, recovery shares in percent, the history's methods."""
    return {
        "action": st.column_config.TextColumn("Action", required=True),
        "cost": st.column_config.NumberColumn("Cost per case", min_value=0.0, format=money_format(currency)),
        "capacity": st.column_config.NumberColumn("Capacity (cases; empty = unlimited)", min_value=0, step=1),
        "recovery_at_low_risk": st.column_config.NumberColumn(
            ACTION_HEADERS["recovery_at_low_risk"], min_value=0.0, max_value=1.0, format="percent"),
        "recovery_at_high_risk": st.column_config.NumberColumn(
            ACTION_HEADERS["recovery_at_high_risk"], min_value=0.0, max_value=1.0, format="percent"),
        "method": st.column_config.SelectboxColumn("Learned from the history's", options=["", *methods])}


def haircut_columns() -> dict:
    """The collateral haircut editor's one editable column, in percent."""
    return {"Collateral haircut": st.column_config.NumberColumn(
        min_value=MIN_HAIRCUT, max_value=1.0, step=0.05, format="percent",
        help="Share of the collateral's value lost when it is sold; Expected_Loss counts the rest.")}


def summary_columns(currency: str) -> dict:
    """The strategies' summary: counts, money in the currency, shares and rates in percent."""
    return {
        "Borrowers": st.column_config.NumberColumn(format="%,d"),
        **{c: st.column_config.NumberColumn(format=money_format(currency))
           for c in ("Outstanding", "Outstanding at risk", "Expected net recovery")},
        "Share of borrowers": st.column_config.NumberColumn("Share", format="percent"),
        "Actual not-fully-recovered rate": st.column_config.NumberColumn("Not fully recovered (actual)",
                                                                         format="percent"),
        "Actual bad-outcome rate": st.column_config.NumberColumn("Bad outcome (actual)", format="percent"),
        "Mean risk score": st.column_config.NumberColumn(format="%.2f")}


def history_columns() -> dict:
    """What past collections say, by method: shares and their interval in percent."""
    return {c: st.column_config.NumberColumn(format="percent")
            for c in ("Share fully recovered", "95% interval from", "95% interval to")}


def policy_columns(currency: str) -> dict:
    """The policies compared: net recovery and cost in the currency."""
    return {c: st.column_config.NumberColumn(format=money_format(currency)) for c in ("Expected net recovery", "Cost")}


def learned_source_columns() -> dict:
    """Where each action's figures come from: counts of actions."""
    return {c: st.column_config.NumberColumn(format="%,d")
            for c in ("Learned from history", "Your typed figures", "Not offered")}


def learned_support_columns() -> dict:
    """The learned effects per action and risk band: shares in percent, rows as counts."""
    return {
        **{c: st.column_config.NumberColumn(format="percent") for c in (
            "Share learnable", "Learned share", "Doubly robust share", "95% interval from", "95% interval to")},
        **{c: st.column_config.NumberColumn(format="%,d")
           for c in ("Borrowers in the history", "History rows with this action")}}


def worklist_columns(columns: pd.Index, currency: str) -> dict:
    """The worklist's columns: readable headers, money in the currency, IDs pinned, the risk score as a bar."""
    return {
        **{c: header(c) for c in columns},
        **{c: st.column_config.NumberColumn(header(c), format=money_format(currency)) for c in WORKLIST_MONEY},
        **{c: st.column_config.TextColumn(header(c), pinned=True) for c in ("Borrower_ID", "Loan_ID")},
        "File_Row": st.column_config.NumberColumn(header("File_Row"), pinned=True),
        "Risk_Score": st.column_config.ProgressColumn(header("Risk_Score"), min_value=0.0, max_value=1.0,
                                                      format="%.2f")}


def options_columns(currency: str) -> dict:
    """One borrower's options: money in the currency, shares in percent."""
    return {
        **{c: st.column_config.NumberColumn(format=money_format(currency))
           for c in ("Expected recovery", "Cost", "Expected net recovery")},
        **{c: st.column_config.NumberColumn(format="percent")
           for c in ("Expected share recovered", "Spread between fold models")}}


# ------------------------------------------------------------------------------ the worklist


def worklist(result: RecoveryResult, actions: list[str], segments: list[str], scores: tuple[float, float],
             search: str) -> tuple[int, pd.DataFrame]:
    """How many borrowers match the filters, and the first WORKLIST_LIMIT of them in the worklist's order."""
    order = tuple(result.strategies["Recovery strategy"])

    def build() -> tuple[int, pd.DataFrame]:
        rows = select_borrowers(result.scored, actions, segments, scores, search)
        return len(rows), worklist_view(rows, order, limit=WORKLIST_LIMIT)

    key = (state.result_key(), tuple(actions), tuple(segments), tuple(scores), search)
    return state.view("worklist", key, build)


def borrower_label(result: RecoveryResult, row: int) -> str:
    """'Row 12 · LN_1024': a borrower in the options picker."""
    return f"Row {row}" + (f" · {result.scored.at[row, 'Loan_ID']}" if "Loan_ID" in result.scored else "")


def borrower_options(result: RecoveryResult, row: int) -> tuple[pd.Series, pd.DataFrame]:
    """One borrower's row and what each action would bring them: learned from the history, else typed."""
    one, config = result.scored.loc[row], result.config
    outstanding, score = float(one["Outstanding_Loan_Amount"]), float(one["Risk_Score"])
    if result.learned is None:
        return one, borrower_actions(outstanding, score, one["Recovery_Strategy"], config.actions)
    return one, borrower_values(result.learned.values, result.scored.index.get_loc(row), outstanding,
                                config.actions, one["Recovery_Strategy"])
