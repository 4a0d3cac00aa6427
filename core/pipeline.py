"""The staged path from loaded rows to a recovery strategy per borrower, shared by app and CLI.

    prepare(rows, roles)                            -> Prepared   checked rows, ratios, column roles
    segment(Prepared, segment settings)             -> SegmentRun segments and their notes
    score(Prepared, SegmentRun?, score settings)    -> Scored     out-of-fold scores, reasons
    effects(Prepared, Scored, action column, seed)  -> HistoryEffects  what each action achieved, learned
    decide(Prepared, SegmentRun, Scored, decide settings, HistoryEffects?) -> RecoveryResult

Each stage is a pure function of exactly its inputs (``RecoveryConfig.stage_key`` names the
settings of each), so a caller caches each on those and a setting recomputes only its own stage
and the ones after it. Scoring needs the segments only when the target is the segment flag
(the seed preset, or a file without outcome): ``score_needs_segments`` says when.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys

import pandas as pd
import pyarrow as pa

from core.config import RecoveryConfig
from core.data import ADDED_COLUMNS, Portfolio, Prepared, analysable_rows, prepare, prepare_portfolio
from core.decide import (
    HistoryEffects,
    RecoveryResult,
    annotate,
    check_history,
    crowded_note,
    learn_effects,
    plan_values,
    strategy_summary,
    unvalued_notes,
    wants_learned,
    with_bands,
)
from core.model import (
    ReasonsLater,
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
    "analyse_portfolio", "annotate", "compare", "decide", "effects", "model_inputs", "prepare", "prepare_portfolio", "score",
    "score_needs_segments", "segment", "segment_fields", "segment_options", "stages",
]


def effects(prepared: Prepared, scored: Scored, config: RecoveryConfig) -> HistoryEffects:
    """What each action achieved for each borrower, learned from the file's resolved borrowers.

    Depends only on the prepared file, the scores (for the support table's risk bands), the
    action column and the seed: a caller caches it on those, so moving a threshold never refits it.
    """
    return learn_effects(prepared, scored.scores, config.action_column, config.random_state)


def decide(
    prepared: Prepared, segments: SegmentRun, scored: Scored, config: RecoveryConfig,
    history: HistoryEffects | None = None, reasons_later: bool = False,
) -> RecoveryResult:
    """Flag, strategy and reasons per borrower at the configured thresholds.

    When the action table names the history's methods, the plan is made on the values learned from
    the file's own history (``history``, learned here when not given). ``reasons_later``: the reasons'
    words are not put in the table but written block by block with the download (``reasons_later``).
    """
    config = with_bands(config, scored.scores)  # bands by share of the book become this book's cut-offs
    report = risk_report(prepared, scored, config.flag_threshold)
    learned, notes = None, ()
    if wants_learned(config):
        history = history if history is not None else effects(prepared, scored, config)
        learned = plan_values(prepared.features, scored.scores, config.actions, history)
        notes = history.notes + (learned.messages if learned is not None else ())
    table, recovery = annotate(prepared, segments.segments.ids, segments.segments.name_of_each(),
                               scored.scores, scored.picks, config,
                               values=None if learned is None else learned.values.values,
                               reasons=not reasons_later)
    if recovery.note:  # the action table could not be applied: the result says what was used
        config = config.with_(actions=None)
    if learned is not None:
        notes += unvalued_notes(recovery)
    return RecoveryResult(
        scored=table,
        segments=segments.segments,
        risk=report,
        strategies=strategy_summary(table, recovery.names, prepared.roles.outcome),
        config=config,
        notes=prepared.notes + segments.notes + scored.notes + ((recovery.note,) if recovery.note else ()) + notes
        + tuple(n for n in (crowded_note(recovery.strategy, scored.scores),) if n),
        policies=recovery.policies,
        trust=scored.trust,
        assignment=recovery.assignment(),
        roles=prepared.roles,
        written=prepared.written,
        learned=learned,
        reasons_later=ReasonsLater(prepared.features, scored.picks, scored.scores > config.flag_threshold)
        if reasons_later else None,
    )


# ------------------------------------------------------------------------------ all stages


def _return_freed_memory() -> None:
    """Give the pages freed so far back to the system (Arrow's pool, then glibc's malloc_trim; elsewhere Arrow's only).

    The decide stage's texts live in Arrow's pool, which cannot reuse what the score stage's arrays
    freed into glibc's heap: without this a million borrowers' run holds both (about 0.35 GB more).
    """
    pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # musl and others have no malloc_trim
            ctypes.CDLL(None).malloc_trim(0)


def stages(prepared: Prepared, config: RecoveryConfig, progress: Progress = no_progress,
           reasons_later: bool = False) -> RecoveryResult:
    """The stages after prepare in turn: segment, score every borrower out-of-fold, explain, decide.

    ``reasons_later``: the reasons' words are written with the download, block by block (decide).
    """
    check_history(prepared, config)  # a plan that cannot be made is said before minutes of fitting
    segments = segment(prepared, config, progress)
    # the row hashes serve the value orders up to the score stage's fold order, and are let go there
    scored = score(prepared, config, segments, progress, forget_hashes=True)
    _return_freed_memory()
    result = decide(prepared, segments, scored, config, reasons_later=reasons_later)
    del scored  # the fold models, their curve places and the scores' figures: the result keeps what it shows
    _return_freed_memory()  # the download that follows writes Arrow texts, which cannot reuse glibc's heap
    return result


def analyse(frame: pd.DataFrame, config: RecoveryConfig, progress: Progress = no_progress) -> RecoveryResult:
    """Every stage on rows already loaded: prepare, segment, score, explain, decide."""
    return stages(prepare(frame, config.roles), config, progress)


def analyse_portfolio(
    portfolio: Portfolio, config: RecoveryConfig, exclude_invalid: bool = False,
    progress: Progress = no_progress,
) -> RecoveryResult:
    """The app's and the command line's one path: check rows, then every stage."""
    return stages(prepare_portfolio(portfolio, config.roles, exclude_invalid), config, progress)
