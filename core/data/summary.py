"""Tables the Data page shows (summary statistics, data quality) and the headline numbers of a portfolio."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import schema
from core.data.roles import Outcome

STATISTICS = {"count": "Count", "mean": "Mean", "std": "Std. deviation", "min": "Min", "25%": "25%",
              "50%": "Median", "75%": "75%", "max": "Max"}


def describe(df: pd.DataFrame) -> pd.DataFrame:
    """The notebook's describe() turned on its side: one row per numeric field, so any number of fields fits."""
    numeric = df.select_dtypes("number")
    if numeric.empty:
        return pd.DataFrame()
    return numeric.describe().T.rename(columns=STATISTICS).rename_axis("Field")


def _kind(dtype) -> str:
    """A column's type in words: number, date or text."""
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    return "text"


def quality(df: pd.DataFrame) -> pd.DataFrame:
    """Per column: dtype, non-null count, missing count and share, unique values."""
    return pd.DataFrame(
        {
            "Column": df.columns,
            "Type": [_kind(t) for t in df.dtypes],
            "Non-null": df.notna().sum().to_numpy(),
            "Missing": df.isna().sum().to_numpy(),
            "Missing share": df.isna().mean().to_numpy() if len(df) else 0.0,
            "Unique values": df.nunique().to_numpy(),
        }
    )


KPI_STATUSES: dict[str, str] = {
    "share_fully_recovered": "Fully Recovered",
    "share_partially_recovered": "Partially Recovered",
    "share_written_off": "Written Off",
}


def numeric_values(df: pd.DataFrame, column: str) -> pd.Series:
    """Column as float64, with anything unparseable as NaN."""
    return pd.to_numeric(df[column], errors="coerce").astype("float64")


def kpis(df: pd.DataFrame, outcome: Outcome | None = None) -> dict[str, float | int | None]:
    """Headline numbers: borrowers, total outstanding, outcome shares, average days past due."""
    out: dict[str, float | int | None] = {"borrowers": int(len(df))}
    known = None if outcome is None else outcome.y[~np.isnan(outcome.y)]
    out["share_bad"] = float(known.mean()) if known is not None and len(known) else None
    out["total_outstanding"] = (
        float(numeric_values(df, "Outstanding_Loan_Amount").sum())
        if "Outstanding_Loan_Amount" in df.columns else None
    )
    # the tutorial's three statuses only where the file's outcome is that status (one outcome everywhere)
    known = df[schema.OUTCOME].dropna() if schema.OUTCOME in df.columns and (
        outcome is None or outcome.canonical) else None
    if known is not None and not known.isin(list(KPI_STATUSES.values())).any():
        known = None
    for key, status in KPI_STATUSES.items():
        out[key] = float((known == status).mean()) if known is not None and len(known) else None
    if "Days_Past_Due" in df.columns:
        dpd = numeric_values(df, "Days_Past_Due")
        out["avg_days_past_due"] = float(dpd.mean()) if dpd.notna().any() else None
    else:
        out["avg_days_past_due"] = None
    return out
