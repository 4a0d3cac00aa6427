"""The user's rows with segment, score, flag, strategy and reasons added."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from core.config import RecoveryConfig
from core.data import Prepared, outstanding
from core.decide.plan import RecoveryPlan, make_plan
from core.model import explain


def annotate(
    prepared: Prepared, segment_ids: np.ndarray, segment_names: np.ndarray, scores: np.ndarray,
    picks: explain.ReasonPicks, config: RecoveryConfig, reference: dict[str, np.ndarray] | None = None,
    values: np.ndarray | None = None, reasons: bool = True,
) -> tuple[pd.DataFrame, RecoveryPlan]:
    """The user's rows with segment, score, flag, strategy and reasons added, and the plan behind them.

    ``values`` (borrowers × actions expected net recovery, learned from history) replaces the typed lines.
    ``reasons=False`` leaves Risk_Reasons out, for a caller that writes them as it writes the rows.
    """
    df = prepared.features
    flagged = scores > config.flag_threshold
    table = prepared.rows.copy(deep=False)  # copy-on-write: the user's rows stay as they are
    table["Borrower_Segment"] = segment_ids
    table["Segment_Name"] = _as_text(segment_names)
    table["Risk_Score"] = scores
    table["Predicted_High_Risk"] = flagged.astype(int)
    recovery = make_plan(df, scores, config, values)
    table["Recovery_Strategy"] = _as_text(recovery.strategy)
    if reasons:
        table["Risk_Reasons"] = explain.reasons(df, picks, flagged, reference)
    owed = outstanding(df)
    if owed is not None:
        table["Outstanding_At_Risk"] = scores * owed
    if recovery.expected_net_recovery is not None:
        table["Expected_Net_Recovery"] = recovery.expected_net_recovery
    if recovery.expected_loss is not None:
        table["Expected_Loss"] = recovery.expected_loss
    if recovery.test_group is not None:
        table["Test_Group"] = recovery.test_group
    return table, recovery


def _as_text(values):
    """Python strings as the text column pandas would make of them, converted by Arrow in one pass.

    pandas checks each object before handing the strings to Arrow (a few ms a chunk for a
    column of a few distinct labels). Anything but text and missing values is left to pandas.
    """
    if not (isinstance(values, np.ndarray) and values.dtype == object):
        return values
    try:
        texts = pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return values
    return pd.array(texts, dtype="str")
