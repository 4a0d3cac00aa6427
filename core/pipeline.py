"""The staged path from loaded rows to a recovery strategy per borrower, shared by app and CLI.

    prepare(rows, roles)                            -> Prepared   checked rows, ratios, column roles
    segment(Prepared, segment settings)             -> SegmentRun segments and their notes
    score(Prepared, SegmentRun?, score settings)    -> Scored     out-of-fold scores, reasons
    decide(Prepared, SegmentRun, Scored, decide settings) -> RecoveryResult

Each stage is a pure function of exactly its inputs (``RecoveryConfig.stage_key`` names the
settings of each), so a caller caches each on those and a setting recomputes only its own stage
and the ones after it. Scoring needs the segments only when the target is the segment flag
(the seed preset, or a file without outcome): ``score_needs_segments`` says when.
"""

from __future__ import annotations

import pandas as pd

from core.config import RecoveryConfig
from core.data import ADDED_COLUMNS, Portfolio, Prepared, analysable_rows, prepare, prepare_portfolio
from core.decide import RecoveryResult, annotate, crowded_note, strategy_summary, with_bands
from core.model import (
    Scored,
    SegmentRun,
    compare,
    model_inputs,
    risk_report,
    score,
    score_needs_segments,
    segment,
    segment_fields,
    segment_options,
)
from core.progress import Progress, no_progress

__all__ = [
    "ADDED_COLUMNS", "Prepared", "RecoveryResult", "Scored", "SegmentRun", "analysable_rows", "analyse",
    "analyse_portfolio", "annotate", "compare", "decide", "model_inputs", "prepare", "prepare_portfolio", "score",
    "score_needs_segments", "segment", "segment_fields", "segment_options", "stages",
]


def decide(
    prepared: Prepared, segments: SegmentRun, scored: Scored, config: RecoveryConfig
) -> RecoveryResult:
    """Flag, strategy and reasons per borrower at the configured thresholds (decide stage: no fitting)."""
    config = with_bands(config, scored.scores)  # bands by share of the book become this book's cut-offs
    report = risk_report(prepared, scored, config.flag_threshold)
    table, recovery = annotate(prepared, segments.segments.ids, segments.segments.name_of_each(),
                               scored.scores, scored.picks, config)
    if recovery.note:  # the action table could not be applied: the result says what was used
        config = config.with_(actions=None)
    return RecoveryResult(
        scored=table,
        segments=segments.segments,
        risk=report,
        strategies=strategy_summary(table, recovery.names, prepared.roles.outcome),
        config=config,
        notes=prepared.notes + segments.notes + scored.notes + ((recovery.note,) if recovery.note else ())
        + tuple(n for n in (crowded_note(recovery.strategy, scored.scores),) if n),
        policies=recovery.policies,
        trust=scored.trust,
        assignment=recovery.assignment(),
        roles=prepared.roles,
        written=prepared.written,
    )


# ------------------------------------------------------------------------------ all stages


def stages(prepared: Prepared, config: RecoveryConfig, progress: Progress = no_progress) -> RecoveryResult:
    """The stages after prepare in turn: segment, score every borrower out-of-fold, explain, decide."""
    segments = segment(prepared, config, progress)
    scored = score(prepared, config, segments, progress)
    return decide(prepared, segments, scored, config)


def analyse(frame: pd.DataFrame, config: RecoveryConfig, progress: Progress = no_progress) -> RecoveryResult:
    """Every stage on rows already loaded: prepare, segment, score, explain, decide."""
    return stages(prepare(frame, config.roles), config, progress)


def analyse_portfolio(
    portfolio: Portfolio, config: RecoveryConfig, exclude_invalid: bool = False,
    progress: Progress = no_progress,
) -> RecoveryResult:
    """The app's and the command line's one path: check rows, then every stage."""
    return stages(prepare_portfolio(portfolio, config.roles, exclude_invalid), config, progress)
