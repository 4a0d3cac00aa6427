"""Planning by money needs each borrower's exposure: what a file without one can still get, said once."""

from __future__ import annotations

import pandas as pd

EXPOSURE = "Outstanding_Loan_Amount"
# The figures that multiply a recovery share by the amount owed: none exists without an exposure.
NEEDS_EXPOSURE = ("expected net recovery", "outstanding at risk", "expected loss", "the policies compared",
                  "the capacity curve")


def has_exposure(df: pd.DataFrame) -> bool:
    """True when the rows hold an outstanding amount for at least one borrower."""
    return EXPOSURE in df.columns and bool(pd.to_numeric(df[EXPOSURE], errors="coerce").notna().any())


def planning_refused(how_to_map: str = "map a column to Outstanding (the exposure) on the Data page, or give "
                                       "--exposure COL on the command line") -> str:
    """Why a plan by expected net recovery cannot be made on a file without an exposure, and what is done instead."""
    return ("Planning by expected net recovery needs each borrower's outstanding amount (the exposure), and "
            f"this file has none: {', '.join(NEEDS_EXPOSURE)} cannot be computed. Each borrower keeps the "
            "notebook's strategy for their risk score instead (the action table and its capacities are not "
            f"applied). To plan by money, {how_to_map}.")
