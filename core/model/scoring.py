"""The score stage: every borrower scored out-of-fold, each score explained, the ranking measured."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from core.config import RecoveryConfig
from core.data import Prepared, outstanding
from core.model import explain, metrics, risk
from core.model.segments import SegmentRun
from core.model.target import ModelInputs, Target, model_inputs
from core.model.trust import Trust, trust
from core.progress import Progress, no_progress

# Above this many borrowers the three candidate models are compared on a seeded sample; the
# chosen one is still trained and scored on every borrower.
COMPARE_MAX_ROWS = 20_000


@dataclass(frozen=True)
class Scored:
    """Every borrower's out-of-fold score, what drives it, and the threshold-free quality figures."""

    target: Target
    model: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    calibrated: bool
    n_folds: int
    scores: np.ndarray
    fold: np.ndarray
    run: risk.OutOfFold
    comparison: pd.DataFrame
    importance: pd.DataFrame
    picks: explain.ReasonPicks
    ranking: pd.DataFrame
    roc: pd.DataFrame
    pr: pd.DataFrame
    calibration: pd.DataFrame
    gains: pd.DataFrame
    seed_split: dict | None
    notes: tuple[str, ...]
    trust: Trust | None = None  # None for the segment flag, which has no outcome to check against

    @property
    def known(self) -> np.ndarray:
        """Borrowers whose outcome is known."""
        return ~np.isnan(self.target.y)


def _comparison_rows(y: np.ndarray, random_state: int) -> np.ndarray:
    """Rows the candidate models are compared on: all, or a seeded sample on large files."""
    rows = np.arange(len(y))
    if len(y) <= COMPARE_MAX_ROWS:
        return rows
    return np.sort(np.random.default_rng(random_state).choice(rows, COMPARE_MAX_ROWS, replace=False))


def compare(
    prepared: Prepared, config: RecoveryConfig, segments: SegmentRun | None = None,
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """Cross-validated ROC-AUC of the three candidate models, best first (on a sample if large)."""
    with threadpool_limits(limits=1):
        return _compared(prepared, config, model_inputs(prepared, config, segments), progress)


def _compared(prepared: Prepared, config: RecoveryConfig, inputs: ModelInputs, progress: Progress) -> pd.DataFrame:
    """The three candidates on the score stage's own inputs and fold order."""
    y = inputs.target.y[inputs.order]
    rows = _comparison_rows(y, config.random_state)
    # the sample's rows taken straight from the file's, in fold order: not every borrower reordered first
    sample = prepared.features[inputs.columns].iloc[inputs.order[rows]]
    table, _ = risk.compare_models(sample, y[rows], inputs.numeric, inputs.categorical,
                                   config.n_folds, config.random_state, progress, config.calibrate)
    table["borrowers_compared"] = len(rows)
    return table


def score(
    prepared: Prepared,
    config: RecoveryConfig,
    segments: SegmentRun | None = None,
    progress: Progress = no_progress,
    forget_hashes: bool = False,
) -> Scored:
    """Score every borrower out-of-fold, explain each score, and measure the ranking (score stage).

    ``forget_hashes``: let go of the prepared rows' column hashes once the fold order is made, for a
    caller that orders these rows no more (a million borrowers' hashes are 0.13 GB).
    """
    # OpenMP threads spin when the cores are busy (other sessions, our own fold workers):
    # one thread per worker gives identical results at a fraction of the time there.
    with threadpool_limits(limits=1):
        return _score(prepared, config, segments, progress, forget_hashes)


def _score(
    prepared: Prepared, config: RecoveryConfig, segments: SegmentRun | None, progress: Progress,
    forget_hashes: bool = False,
) -> Scored:
    """The score stage, run with native thread pools held to one thread."""
    df = prepared.features
    inputs = model_inputs(prepared, config, segments)
    if forget_hashes:
        prepared.hashes.clear()
    target, numeric, categorical, order = inputs.target, inputs.numeric, inputs.categorical, inputs.order
    columns, notes = inputs.columns, list(inputs.notes)
    y = target.y
    groups = explain.field_groups(columns, df)
    needed = list(dict.fromkeys(columns + [g.field for g in groups]))
    # the folds are made over the fold order; each fold takes its own rows of the file's (order maps
    # them), so every model input is never copied into fold order at once (0.2 GB a million borrowers)
    inputs_read, y_ordered = df[needed], y[order]
    comparison = pd.DataFrame()
    kind = config.model
    if kind == "auto":
        comparison = _compared(prepared, config, inputs, progress)
        kind = comparison["model"].iloc[0]
        if comparison["borrowers_compared"].iloc[0] < len(df):
            notes.append(
                f"The three models were compared on a random sample of {COMPARE_MAX_ROWS:,} "
                "borrowers; the chosen model is trained and scored on all of them."
            )
    if len(df) > risk.TRAIN_MAX_ROWS * config.n_folds / (config.n_folds - 1):
        notes.append(
            f"Each fold model learned from a random sample of {risk.TRAIN_MAX_ROWS:,} of its "
            "training borrowers; every borrower is scored by a model that did not learn from them."
        )
    run = risk.out_of_fold(
        lambda: risk.make_model(kind, numeric, categorical, config.random_state),
        df[columns], y_ordered, config.n_folds, config.random_state, config.calibrate,
        progress=lambda step, done: progress(f"Scoring: {step}", 0.1 + 0.6 * done), positions=order,
    )
    progress("Explaining each score", 0.75)
    explainers = [explain.Explainer(model, columns) for model in run.models]
    # picked as each block is explained, straight into file order: no borrowers × fields table is held
    picks = explain.reason_picks(run, explainers, inputs_read, groups, positions=order)
    importance = explain.held_out_importance(
        run, explainers, inputs_read, y_ordered, groups, config.random_state, positions=order
    )
    progress("Measuring how well the score ranks", 0.9)
    scores = np.empty(len(df))
    scores[order] = run.scores
    fold = np.empty(len(df), dtype=int)
    fold[order] = run.fold
    known = ~np.isnan(y)
    yk, sk = y[known].astype(int), scores[known]
    owed = outstanding(df)
    seed_split = (
        risk.seed_split_metrics(df[columns], y, numeric, config.random_state)
        if config.preset == "seed" else None
    )
    # the figures below each read the scores on their own: both cores share them
    ranking, roc, pr, calibration, gains, trusted = risk.run_in_workers([
        lambda: metrics.ranking_table(yk, sk, fold[known]),
        lambda: metrics.roc_points(yk, sk),
        lambda: metrics.pr_points(yk, sk),
        lambda: metrics.calibration_table(yk, sk),
        lambda: metrics.gains_table(yk, sk, None if owed is None else owed[known]),
        lambda: None if target.kind == "segment" else trust(
            scores, y, df["Days_Past_Due"].to_numpy(dtype="float64", na_value=np.nan)
            if "Days_Past_Due" in df.columns else None),
    ])
    progress("Scores ready", 1.0)
    return Scored(
        target=target, model=kind, numeric=tuple(numeric), categorical=tuple(categorical),
        calibrated=config.calibrate, n_folds=config.n_folds, scores=scores, fold=fold, run=run,
        comparison=comparison, importance=importance, picks=picks, ranking=ranking, roc=roc, pr=pr,
        calibration=calibration, gains=gains, seed_split=seed_split, notes=tuple(notes), trust=trusted,
    )
