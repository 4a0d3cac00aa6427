"""What the score predicts: the file's outcome when it can be learned, else the notebook's segment flag; and the fields it learns from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.config import RecoveryConfig
from core.data import RATIOS, Prepared, canonical_outcome, label, model_features, requested_fields, value_order
from core.errors import RecoveryError
from core.model.segments import SegmentRun, high_risk_segments


@dataclass(frozen=True)
class Target:
    """What the score predicts, per borrower: 1 bad, 0 good, NaN unknown."""

    y: np.ndarray
    kind: str
    description: str
    fallback_note: str | None = None


def segment_target(in_risky_segment: np.ndarray, note: str | None = None) -> Target:
    """The notebook's flag: 1 when the borrower sits in a high-risk segment."""
    return Target(
        y=in_risky_segment.astype("float64"),
        kind="segment",
        description="Probability the borrower belongs to a high-risk segment",
        fallback_note=note,
    )


def check_target(target: Target, n_folds: int) -> None:
    """Raise RecoveryError when the outcome classes are too small to cross-validate."""
    known = target.y[~np.isnan(target.y)]
    bad, good = int(known.sum()), int(len(known) - known.sum())
    if min(bad, good) < n_folds:
        raise RecoveryError(
            f"Scoring needs at least {n_folds} borrowers with a bad outcome and {n_folds} with a good "
            f"one to cross-validate; the data has {bad} bad and {good} good: load more borrowers, "
            "choose another target, or lower the number of folds."
        )


def _learnable(target: Target | None) -> bool:
    """True when the outcome has both good and bad cases to learn from."""
    if target is None:
        return False
    known = target.y[~np.isnan(target.y)]
    return 0 < known.sum() < len(known)


def _outcome_target(prepared: Prepared, config: RecoveryConfig) -> Target | None:
    """The file's outcome as the score's target: the tutorial's status read by the target setting, or the chosen one."""
    outcome = prepared.roles.outcome
    if outcome is None:
        return None
    if outcome.canonical:
        outcome = canonical_outcome(prepared.features, config.target)
    return Target(y=outcome.y, kind=config.target if outcome.canonical else "outcome",
                       description=outcome.description)


def score_needs_segments(prepared: Prepared, config: RecoveryConfig) -> bool:
    """True when the target is the segment flag: chosen, or the fallback when the outcome cannot be learned."""
    return config.target == "segment" or not _learnable(_outcome_target(prepared, config))


def _single_outcome_note(prepared: Prepared, target: Target) -> str:
    """Why a one-valued outcome cannot be learned, naming the values found."""
    outcome = prepared.roles.outcome
    found = ", ".join(f"'{v}' ({n:,})" for v, n in outcome.values) or "none"
    what = (f"no value of {outcome.column} is chosen as bad (its values: {found})" if not outcome.bad
            else f"every recorded outcome counts the same way ({found})")
    return (f"The outcome cannot be learned: {what}. The score is the probability of belonging to a "
            "high-risk (more delinquent) segment, not of non-recovery. Choose the bad values, or load a "
            "file with both recovered and unrecovered loans, to score real risk.")


def _target(prepared: Prepared, config: RecoveryConfig, segments: SegmentRun | None) -> Target:
    """The real outcome when asked for and it can be learned, else the segment-based flag."""
    note = None
    df = prepared.features
    if config.target != "segment":
        target = _outcome_target(prepared, config)
        if _learnable(target):
            return target
        note = _single_outcome_note(prepared, target) if target is not None else (
            "This file has no outcome column (no Recovery_Status or other outcome), so there is no real outcome to "
            "learn from. The score "
            "is the probability of belonging to a high-risk (more delinquent) segment, not of "
            "non-recovery. Add the outcome column (or choose it on the Data page) to score real recovery risk."
        )
    if segments is None:
        raise ValueError("this target needs the segments: call segment() first")
    risky = high_risk_segments(segments.segments, df, config.segment_naming)
    return segment_target(np.isin(segments.segments.ids, risky), note)


def _input_notes(X: pd.DataFrame, y: np.ndarray) -> list[str]:
    """Plain notes on borrowers without an outcome and on values imputed inside the model."""
    notes = []
    unknown = int(np.isnan(y).sum())
    if unknown:
        notes.append(
            f"{unknown} borrower(s) have no outcome: they are scored by the fold models "
            "but not used for training or metrics."
        )
    for name in X.columns:
        missing = int(X[name].isna().sum())
        if missing and name not in RATIOS:
            notes.append(f"{missing} missing {label(name)} value(s) imputed inside the model.")
    return notes


def _model_fields(prepared: Prepared, config: RecoveryConfig) -> tuple[list[str], list[str]]:
    """The model's numeric and categorical inputs: the configured fields, or those the roles switch on."""
    if config.model_features is not None:
        return model_features(prepared.features, config.model_features, config.use_collection_fields)
    roles = prepared.roles
    extra = [c for c in roles.post_delinquency if c not in roles.leaks] if config.use_collection_fields else []
    numeric = [c for c in [*roles.numeric, *extra] if pd.api.types.is_numeric_dtype(prepared.features[c])]
    categorical = [c for c in [*roles.categorical, *extra] if c not in numeric]
    return list(dict.fromkeys(numeric)), list(dict.fromkeys(categorical))


def _absent_model_fields(df: pd.DataFrame, config: RecoveryConfig) -> list[str]:
    """Fields the configured model would use that the file does not have (ratios left aside)."""
    wanted = requested_fields(config.model_features, config.use_collection_fields)
    return [label(f) for f in wanted if f not in df.columns and f not in RATIOS]


@dataclass(frozen=True)
class ModelInputs:
    """What the score stage learns from: target, fields, and the row order folds follow."""

    target: Target
    numeric: list[str]
    categorical: list[str]
    order: np.ndarray
    notes: list[str]

    @property
    def columns(self) -> list[str]:
        """Every input field, numeric first."""
        return self.numeric + self.categorical


def model_inputs(prepared: Prepared, config: RecoveryConfig, segments: SegmentRun | None) -> ModelInputs:
    """The target, the input fields and the fold order, with notes on what was left out."""
    df = prepared.features
    target = _target(prepared, config, segments)
    check_target(target, config.n_folds)
    numeric, categorical = _model_fields(prepared, config)
    empty = [c for c in numeric + categorical if df[c].notna().sum() == 0]
    numeric = [c for c in numeric if c not in empty]
    categorical = [c for c in categorical if c not in empty]
    if not numeric and not categorical:
        raise RecoveryError("None of the model's input fields are in this file: map them on the Data page.")
    notes = [target.fallback_note] if target.fallback_note else []
    if empty:
        notes.append(f"The model learns without {', '.join(label(c) for c in empty)}: present but empty in this file.")
    notes += _input_notes(df[numeric + categorical], target.y)
    absent = _absent_model_fields(df, config) if config.model_features is not None else []
    if absent:
        notes.append(f"The model learns without {', '.join(absent)}: not in this file.")
    # The seed preset keeps the notebook's file order; otherwise the order is fixed by the
    # model's inputs and target only, so fields it does not use cannot move anyone between folds.
    order = (np.arange(len(df)) if config.preset == "seed"
             else value_order(df[numeric + categorical], prepared.hashes, last=target.y))
    return ModelInputs(target, numeric, categorical, order, notes)
