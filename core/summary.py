"""Tables the Data page shows: summary statistics and data quality per column."""

from __future__ import annotations

import pandas as pd


def describe(df: pd.DataFrame) -> pd.DataFrame:
    """The notebook's describe(): count, mean, std, min, quartiles and max of numeric columns."""
    numeric = df.select_dtypes("number")
    if numeric.empty:
        return pd.DataFrame()
    return numeric.describe()


def kind(column: pd.Series) -> str:
    """A column's type in words: 'Number', 'Whole number', 'Date', 'Yes/no' or 'Text'."""
    if pd.api.types.is_bool_dtype(column):
        return "Yes/no"
    if pd.api.types.is_integer_dtype(column):
        return "Whole number"
    if pd.api.types.is_numeric_dtype(column):
        return "Number"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "Date"
    return "Text"


def quality(df: pd.DataFrame) -> pd.DataFrame:
    """Per column: type in words, non-null count, missing count and share, unique values."""
    return pd.DataFrame(
        {
            "Column": df.columns,
            "Type": [kind(df[c]) for c in df.columns],
            "Non-null": df.notna().sum().to_numpy(),
            "Missing": df.isna().sum().to_numpy(),
            "Missing share": df.isna().mean().to_numpy() if len(df) else 0.0,
            "Unique values": df.nunique().to_numpy(),
        }
    )
