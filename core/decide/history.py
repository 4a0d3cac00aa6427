"""What past collections say: share fully recovered by collection method and risk band, with intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import FULLY_RECOVERED, OUTCOME
from core.model import Z95


def wilson(successes: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval of a share (sound for small counts and shares near 0 or 1)."""
    n = np.asarray(n, dtype=float)
    p = np.divide(successes, n, out=np.zeros_like(n), where=n > 0)
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2)) / (1 + Z95**2 / n)
    return centre - half, centre + half


def method_history(df: pd.DataFrame, scores: np.ndarray, bands: tuple[float, float]) -> pd.DataFrame | None:
    """Per collection method and risk band: borrowers, share fully recovered and its 95% interval.

    None when the file has no Collection_Method or no outcomes.
    """
    if "Collection_Method" not in df.columns or OUTCOME not in df.columns:
        return None
    known = df[OUTCOME].notna().to_numpy() & df["Collection_Method"].notna().to_numpy()
    if not known.any():
        return None
    settlement, legal = bands
    band = np.where(scores > legal, f"high (> {legal:.2f})",
                    np.where(scores >= settlement, f"medium ({settlement:.2f}–{legal:.2f})", f"low (< {settlement:.2f})"))
    frame = pd.DataFrame({
        "Collection method": df["Collection_Method"].astype("str").to_numpy()[known],
        "Risk band": band[known],
        "full": (df[OUTCOME].to_numpy()[known] == FULLY_RECOVERED),
    })
    table = frame.groupby(["Collection method", "Risk band"], sort=True)["full"].agg(["size", "sum"]).reset_index()
    low, high = wilson(table["sum"].to_numpy(), table["size"].to_numpy())
    return pd.DataFrame({
        "Collection method": table["Collection method"], "Risk band": table["Risk band"],
        "Borrowers": table["size"].astype(int), "Share fully recovered": table["sum"] / table["size"],
        "95% interval from": low, "95% interval to": high,
    })
