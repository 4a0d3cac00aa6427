"""The segment stage: which fields the segments use, the K-Means run, and what the user should know."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from core.config import RecoveryConfig
from core.data.features import RATIOS
from core.data.prepare import Prepared
from core.data.schema import NUMERIC_FIELDS, label
from core.errors import RecoveryError
from core.model.segments import Segments, fit_segments
from core.progress import Progress, no_progress


# A file without the tutorial's fields is segmented on at most this many of its own numeric fields.
MAX_OWN_SEGMENT_FIELDS = 10


@dataclass(frozen=True)
class SegmentRun:
    """The segments, and what the user should know about how they were formed."""

    segments: Segments
    notes: tuple[str, ...]


def segment_options(prepared: Prepared) -> list[str]:
    """The numeric fields a user may segment on: the tutorial's present, then the file's own."""
    df = prepared.features
    canonical = [f for f in NUMERIC_FIELDS if f in df.columns and df[f].notna().any()]
    own = [f for f in prepared.roles.numeric if f not in RATIOS and f not in canonical]
    return canonical + own


def segment_fields(prepared: Prepared, config: RecoveryConfig) -> tuple[tuple[str, ...], list[str]]:
    """The fields the segments use, with a note on any configured field the file lacks."""
    df = prepared.features
    # a column that is there but holds no value is as good as absent: skipped, and said so
    empty = [f for f in config.segment_features if f in df.columns and df[f].notna().sum() == 0]
    present = tuple(f for f in config.segment_features if f in df.columns and f not in empty)
    missing = [f for f in config.segment_features if f not in df.columns or f in empty]
    if missing and config.preset == "seed":
        raise RecoveryError(
            f"Segmentation needs {', '.join(missing)}, which the loaded file does not have: map a "
            "column to each on the Data page, or choose other segmentation fields."
        )
    if not present:
        own = tuple(segment_options(prepared)[:MAX_OWN_SEGMENT_FIELDS])
        if not own:
            raise RecoveryError("Segmentation needs at least one numeric field, and this file has none that can "
                                "be learned from: check the column roles on the Data page.")
        return own, [f"Segments use this file's own numeric fields ({', '.join(label(f) for f in own)}): "
                     "it has none of the tutorial's segmentation fields."]
    if missing:
        return present, [f"Segments use {len(present)} fields; not in this file: {', '.join(missing)}"
                         + (f" ({', '.join(empty)} present but empty)" if empty else "") + "."]
    return present, []


def segment(prepared: Prepared, config: RecoveryConfig, progress: Progress = no_progress) -> SegmentRun:
    """K-Means segments on the configured fields the file has (segment stage)."""
    df = prepared.features
    present, notes = segment_fields(prepared, config)
    progress("Forming segments", 0.0)
    segments = fit_segments(df, present, config.n_segments, config.random_state, config.segment_naming)
    outcome = prepared.roles.outcome
    if outcome is not None and not outcome.canonical and outcome.bad:
        profile = segments.profile.copy()
        profile["Bad-outcome rate"] = pd.Series(outcome.y).groupby(segments.ids).mean().reindex(
            profile["Borrower_Segment"]).to_numpy()
        segments = replace(segments, profile=profile)
    for name, n in segments.imputed.items():
        notes.append(f"{n} missing {label(name)} value(s) filled with the median for segmentation.")
    if segments.fitted_on < len(df):
        notes.append(
            f"Segments were formed on a random sample of {segments.fitted_on:,} borrowers; every "
            "borrower is then placed in the nearest one."
        )
    progress("Segments formed", 1.0)
    return SegmentRun(segments, tuple(notes))
