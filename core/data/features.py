"""Ratios a credit analyst reads, and the columns each model step uses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.schema import COLLECTION_FIELDS

RATIOS: dict[str, tuple[str, str]] = {
    "EMI_To_Income": ("Monthly_EMI", "Monthly_Income"),
    "Collateral_Coverage": ("Collateral_Value", "Outstanding_Loan_Amount"),
    "Outstanding_Share": ("Outstanding_Loan_Amount", "Loan_Amount"),
}

# Fields the recommended model learns from; collection fields and protected ones are opt-in only.
RECOMMENDED_NUMERIC = (
    "Age", "Monthly_Income", "Num_Dependents", "Loan_Amount", "Loan_Tenure", "Interest_Rate",
    "Collateral_Value", "Outstanding_Loan_Amount", "Monthly_EMI", "Num_Missed_Payments",
    "Days_Past_Due", *RATIOS,
)
RECOMMENDED_CATEGORICAL = ("Employment_Type", "Loan_Type", "Payment_History")


def safe_ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Divide, leaving NaN where the denominator is zero, negative or missing."""
    if numerator.dtype == "float64" and denominator.dtype == "float64" and numerator.index.equals(denominator.index):
        # two float columns of one frame: the same division in numpy, without pandas' aligning and masking
        return pd.Series(safe_ratio_of(numerator.to_numpy(), denominator.to_numpy()), index=numerator.index)
    denominator = denominator.where(denominator > 0)
    return (numerator / denominator).astype("float64")


def safe_ratio_of(numerator, denominator) -> np.ndarray:
    """safe_ratio of float64 numbers (arrays or single values), without building Series."""
    with np.errstate(all="ignore"):  # as pandas divides: infinity over infinity is quietly NaN
        return np.asarray(np.divide(numerator, np.where(denominator > 0, denominator, np.nan)), dtype="float64")


def add_ratios(df: pd.DataFrame, keep_present: bool = False) -> pd.DataFrame:
    """Return a copy with each ratio whose two fields are present.

    ``keep_present`` leaves a ratio the frame already holds: prepared features have them all, so
    the later stages do not divide again.
    """
    missing = [name for name in RATIOS if not (keep_present and name in df.columns)]
    if not missing:
        return df
    out = df.copy(deep=False)  # copy-on-write: the new columns never reach df
    for name in missing:
        top, bottom = RATIOS[name]
        if top in out.columns and bottom in out.columns:
            out[name] = safe_ratio(out[top], out[bottom])
    return out


def requested_fields(
    requested: tuple[str, ...] | None, use_collection_fields: bool
) -> tuple[str, ...]:
    """The fields a model is asked to learn from: the given ones, or the recommended set."""
    if requested is not None:
        return requested
    fields = RECOMMENDED_NUMERIC + RECOMMENDED_CATEGORICAL
    return fields + COLLECTION_FIELDS if use_collection_fields else fields


def model_features(
    df: pd.DataFrame,
    requested: tuple[str, ...] | None,
    use_collection_fields: bool,
) -> tuple[list[str], list[str]]:
    """Split the model's input fields present in ``df`` into numeric and categorical lists."""
    numeric, categorical = [], []
    for name in requested_fields(requested, use_collection_fields):
        if name not in df.columns:
            continue
        if pd.api.types.is_numeric_dtype(df[name]):
            numeric.append(name)
        else:
            categorical.append(name)
    return numeric, categorical


def outstanding(df: pd.DataFrame) -> np.ndarray | None:
    """Outstanding amount per borrower, when the file has it."""
    if "Outstanding_Loan_Amount" not in df.columns:
        return None
    return df["Outstanding_Loan_Amount"].to_numpy(dtype="float64", na_value=np.nan)
