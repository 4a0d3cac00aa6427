"""The Excel download of a plan: one sheet per action for the teams, with the summary and settings beside them."""

from __future__ import annotations

import pandas as pd

from core.decide import POLICIES, RecoveryResult, actions_frame, worklist
from core.display import ACTION_HEADERS, capacity_text, decimal

# How the plan was assigned, in words (the plan records a short code).
ASSIGNMENT_WORDS = {"thresholds": "By the risk-score thresholds", "exact": "Exact optimum (linear programme)",
                    "prices": "Near-optimum found with prices (large book)"}


def plan_workbook_sheets(result: RecoveryResult, excluded: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """The Excel download of a plan: summary, one worklist per action, excluded rows, the action table."""
    config = result.config
    table = result.table()
    settings = pd.DataFrame({
        "Setting": ["Policy", "Champion share", "Holdout salt", "Settlement threshold", "Legal threshold",
                    "Assignment", "Gap to the LP bound"],
        "Value": [POLICIES.get(config.policy, config.policy), f"{config.holdout:.0%}", config.holdout_salt,
                  decimal(config.settlement_threshold, 3), decimal(config.legal_threshold, 3),
                  ASSIGNMENT_WORDS.get(result.assignment.get("method", ""), result.assignment.get("method", "")),
                  f"{result.assignment.get('gap_to_lp_bound', 0.0):.6%}"],
    })
    if config.currency:  # said only when chosen, so a workbook without one reads as before
        settings.loc[len(settings)] = ["Currency", config.currency]
    sheets = {"Summary": result.policies, "Settings": settings.astype({"Value": "str"})}
    names = tuple(result.strategies["Recovery strategy"])
    ordered = worklist(table.set_index("File_Row"), names).reset_index()
    for name in names:
        sheets[name] = ordered[ordered["Recovery_Strategy"] == name]
    if excluded is not None and len(excluded):
        sheets["Excluded rows"] = excluded
    sheets["Action table"] = action_sheet(config.actions)
    return sheets


def action_sheet(actions) -> pd.DataFrame:
    """The action table in words: headers people read, 'no limit' where a capacity is empty."""
    frame = actions_frame(actions)
    frame["capacity"] = [capacity_text(v) for v in frame["capacity"]]
    return frame.rename(columns=ACTION_HEADERS)
