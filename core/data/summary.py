"""Tables the Data page shows: summary statistics and data quality per column."""

from __future__ import annotations

import pandas as pd


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
