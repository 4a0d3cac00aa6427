"""The staged path from loaded rows to a recovery strategy per borrower, shared by app and CLI.

    prepare(rows)                                   -> Prepared   checked rows, ratios
    segment(Prepared, segment settings)             -> SegmentRun segments and their notes
    score(Prepared, SegmentRun?, score settings)    -> Scored     out-of-fold scores, reasons
    decide(Prepared, SegmentRun, Scored, decide settings) -> RecoveryResult

Each stage is a pure function of exactly its inputs (``RecoveryConfig.stage_key`` names the
settings of each), so a caller caches each on those and a setting recomputes only its own stage
and the ones after it. Scoring needs the segments only when the target is the segment flag
(the seed preset, or a file without outcome): ``score_needs_segments`` says when.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from core import explain, metrics, risk
from core.briefing import Trust, trust
from core.config import RecoveryConfig
from core.errors import RecoveryError
from core.features import RATIOS, add_ratios, model_features, requested_fields
from core.ingest import Portfolio
from core.ordering import value_order
from core.risk import Progress, no_progress
from core.schema import COLLECTION_FIELDS, OUTCOME, PROTECTED_FIELDS, label
from core.segmentation import Segments, fit_segments, high_risk_segments
from core.decide.plan import RecoveryPlan, make_plan
from core.strategy import strategy_summary
from core.validate import require_fields

# Above this many borrowers the three candidate models are compared on a seeded sample; the
# chosen one is still trained and scored on every borrower.
COMPARE_MAX_ROWS = 20_000

ADDED_COLUMNS = (
    "Borrower_Segment", "Segment_Name", "Risk_Score", "Predicted_High_Risk",
    "Recovery_Strategy", "Risk_Reasons", "Outstanding_At_Risk", "Expected_Net_Recovery", "Expected_Loss", "Test_Group",
)


@dataclass(frozen=True)
class RiskReport:
    """Everything the Risk page shows about the score and how far to trust it."""

    target: str
    target_description: str
    model: str
    model_label: str
    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    excluded_features: dict[str, str]
    calibrated: bool
    n_folds: int
    scored_with_outcome: int
    metrics: pd.DataFrame
    confusion: dict[str, int]
    comparison: pd.DataFrame
    roc: pd.DataFrame
    pr: pd.DataFrame
    calibration: pd.DataFrame
    gains: pd.DataFrame
    importance: pd.DataFrame
    fairness: pd.DataFrame
    seed_split: dict | None


@dataclass(frozen=True)
class RecoveryResult:
    """The annotated borrowers plus the reports behind them."""

    scored: pd.DataFrame
    segments: Segments
    risk: RiskReport
    strategies: pd.DataFrame
    config: RecoveryConfig
    notes: tuple[str, ...] = field(default_factory=tuple)
    policies: pd.DataFrame = field(default_factory=pd.DataFrame)  # empty without an action table
    assignment: dict = field(default_factory=dict)
    trust: Trust | None = None  # None for the segment flag, which has no outcome to check against

    def table(self) -> pd.DataFrame:
        """The download: every analysed borrower, their file row first, then the added columns."""
        return self.scored.rename_axis("File_Row").reset_index()

    def metrics_dict(self) -> dict:
        """The Risk page's figures as plain JSON-ready values."""
        r = self.risk
        return {
            "preset": self.config.preset,
            "target": r.target,
            "target_description": r.target_description,
            "model": r.model,
            "calibrated": r.calibrated,
            "n_folds": r.n_folds,
            "borrowers_scored": int(len(self.scored)),
            "borrowers_with_outcome": r.scored_with_outcome,
            "features": list(r.numeric_features + r.categorical_features),
            "out_of_fold": {
                row.metric: {"value": row.value, "fold_mean": row.fold_mean, "fold_std": row.fold_std}
                for row in r.metrics.itertuples()
            },
            "confusion_matrix": r.confusion,
            "flag_threshold": self.config.flag_threshold,
            "model_comparison": r.comparison.to_dict(orient="records"),
            "seed_split": r.seed_split,
            "segments": {int(k): v for k, v in self.segments.names.items()},
            "strategies": self.strategies.astype(object)
            .where(self.strategies.notna(), None)
            .to_dict(orient="records"),
            "trust": None if self.trust is None else self.trust.as_dict(),
            "assignment": self.assignment,
            "policies": self.policies.to_dict(orient="records"),
            "notes": list(self.notes),
        }


# ------------------------------------------------------------------------------ prepare


@dataclass(frozen=True)
class Prepared:
    """The rows to analyse as given, and the same rows with the analyst's ratios added."""

    rows: pd.DataFrame
    features: pd.DataFrame
    notes: tuple[str, ...] = ()


def analysable_rows(portfolio: Portfolio, exclude_invalid: bool) -> pd.DataFrame:
    """The rows to analyse; refuses a portfolio with invalid rows unless they are excluded."""
    if portfolio.report.ok:
        return portfolio.frame
    if not exclude_invalid:
        errors = portfolio.report.errors()
        raise RecoveryError(
            f"{len(portfolio.report.invalid_rows)} row(s) have errors ({errors[0].line()}"
            f"{'; …' if len(errors) > 1 else ''}): fix the file, or exclude the invalid rows."
        )
    return portfolio.valid_rows()


def prepare(rows: pd.DataFrame) -> Prepared:
    """Check the rows can be analysed and add the ratios, once for every later stage."""
    if len(rows) == 0:
        raise RecoveryError("There are no borrowers to analyse: load a file with at least one row.")
    require_fields(rows, "analyse")
    # a re-uploaded export: its old analysis is replaced by this one, and the user is told
    previous = [c for c in (*ADDED_COLUMNS, "File_Row") if c in rows.columns]
    notes = ()
    if previous:
        rows = rows.drop(columns=previous)
        notes = (f"The file already had the analysis column(s) {', '.join(previous)} (an earlier export?): "
                 "they are replaced by this analysis, and File_Row gives the rows of this file.",)
    return Prepared(rows=rows, features=add_ratios(rows), notes=notes)


# ------------------------------------------------------------------------------ segment


@dataclass(frozen=True)
class SegmentRun:
    """The segments, and what the user should know about how they were formed."""

    segments: Segments
    notes: tuple[str, ...]


def segment(prepared: Prepared, config: RecoveryConfig, progress: Progress = no_progress) -> SegmentRun:
    """K-Means segments on the configured fields the file has (segment stage)."""
    config = config.checked()
    df, notes = prepared.features, []
    # a column that is there but holds no value is as good as absent: skipped, and said so
    empty = [f for f in config.segment_features if f in df.columns and df[f].notna().sum() == 0]
    present = tuple(f for f in config.segment_features if f in df.columns and f not in empty)
    missing = [f for f in config.segment_features if f not in df.columns or f in empty]
    if missing and (config.preset == "seed" or not present):
        raise RecoveryError(
            f"Segmentation needs {', '.join(missing)}, which the loaded file does not have: map a "
            "column to each on the Data page, or choose other segmentation fields."
        )
    if missing:
        notes.append(f"Segments use {len(present)} fields; not in this file: {', '.join(missing)}"
                     + (f" ({', '.join(empty)} present but empty)" if empty else "") + ".")
    progress("Forming segments", 0.0)
    segments = fit_segments(df, present, config.n_segments, config.random_state, config.segment_naming)
    for name, n in segments.imputed.items():
        notes.append(f"{n} missing {label(name)} value(s) filled with the median for segmentation.")
    if segments.fitted_on < len(df):
        notes.append(
            f"Segments were formed on a random sample of {segments.fitted_on:,} borrowers; every "
            "borrower is then placed in the nearest one."
        )
    progress("Segments formed", 1.0)
    return SegmentRun(segments, tuple(notes))


# ------------------------------------------------------------------------------ score


@dataclass(frozen=True)
class Scored:
    """Every borrower's out-of-fold score, what drives it, and the threshold-free quality figures."""

    target: risk.Target
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


def _learnable(target: risk.Target | None) -> bool:
    """True when the outcome has both good and bad cases to learn from."""
    if target is None:
        return False
    known = target.y[~np.isnan(target.y)]
    return 0 < known.sum() < len(known)


def score_needs_segments(prepared: Prepared, config: RecoveryConfig) -> bool:
    """True when the target is the segment flag: chosen, or the fallback when the outcome cannot be learned."""
    return config.target == "segment" or not _learnable(risk.outcome_target(prepared.features, config.target))


def _single_outcome_note(df: pd.DataFrame) -> str:
    """Why a one-valued outcome cannot be learned, naming the values found."""
    values = df[OUTCOME].dropna().astype("str").value_counts()
    found = ", ".join(f"'{v}' ({n:,})" for v, n in values.items())
    return (f"Every recorded outcome counts the same way ({found}), so there is nothing to learn recovery risk "
            "from. The score is the probability of belonging to a high-risk (more delinquent) segment, not "
            "of non-recovery. Load a file with both recovered and unrecovered loans to score real risk.")


def _target(df: pd.DataFrame, config: RecoveryConfig, segments: SegmentRun | None) -> risk.Target:
    """The real outcome when asked for and it can be learned, else the segment-based flag."""
    note = None
    if config.target != "segment":
        target = risk.outcome_target(df, config.target)
        if _learnable(target):
            return target
        note = _single_outcome_note(df) if target is not None else (
            "This file has no Recovery_Status, so there is no real outcome to learn from. The score "
            "is the probability of belonging to a high-risk (more delinquent) segment, not of "
            "non-recovery. Add the outcome column to score real recovery risk."
        )
    if segments is None:
        raise ValueError("this target needs the segments: call segment() first")
    risky = high_risk_segments(segments.segments, df, config.segment_naming)
    return risk.segment_target(np.isin(segments.segments.ids, risky), note)


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


def _absent_model_fields(df: pd.DataFrame, config: RecoveryConfig) -> list[str]:
    """Fields the configured model would use that the file does not have (ratios left aside)."""
    wanted = requested_fields(config.model_features, config.use_collection_fields)
    return [label(f) for f in wanted if f not in df.columns and f not in RATIOS]


def _comparison_rows(y: np.ndarray, random_state: int) -> np.ndarray:
    """Rows the candidate models are compared on: all, or a seeded sample on large files."""
    rows = np.arange(len(y))
    if len(y) <= COMPARE_MAX_ROWS:
        return rows
    return np.sort(np.random.default_rng(random_state).choice(rows, COMPARE_MAX_ROWS, replace=False))


@dataclass(frozen=True)
class ModelInputs:
    """What the score stage learns from: target, fields, and the row order folds follow."""

    target: risk.Target
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
    target = _target(df, config, segments)
    risk.check_target(target, config.n_folds)
    numeric, categorical = model_features(df, config.model_features, config.use_collection_fields)
    empty = [c for c in numeric + categorical if df[c].notna().sum() == 0]
    numeric = [c for c in numeric if c not in empty]
    categorical = [c for c in categorical if c not in empty]
    if not numeric and not categorical:
        raise RecoveryError("None of the model's input fields are in this file: map them on the Data page.")
    notes = [target.fallback_note] if target.fallback_note else []
    if empty:
        notes.append(f"The model learns without {', '.join(label(c) for c in empty)}: present but empty in this file.")
    notes += _input_notes(df[numeric + categorical], target.y)
    absent = _absent_model_fields(df, config)
    if absent:
        notes.append(f"The model learns without {', '.join(absent)}: not in this file.")
    # The seed preset keeps the notebook's file order; otherwise the order is fixed by the
    # model's inputs and target only, so fields it does not use cannot move anyone between folds.
    order = (np.arange(len(df)) if config.preset == "seed"
             else value_order(df[numeric + categorical].assign(_target=target.y)))
    return ModelInputs(target, numeric, categorical, order, notes)


def compare(
    prepared: Prepared, config: RecoveryConfig, segments: SegmentRun | None = None,
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """Cross-validated ROC-AUC of the three candidate models, best first (on a sample if large)."""
    config = config.checked()
    with threadpool_limits(limits=1):
        return _compared(prepared, config, model_inputs(prepared, config, segments), progress)


def _compared(prepared: Prepared, config: RecoveryConfig, inputs: ModelInputs, progress: Progress) -> pd.DataFrame:
    """The three candidates on the score stage's own inputs and fold order."""
    ordered = prepared.features[inputs.columns].iloc[inputs.order]
    y = inputs.target.y[inputs.order]
    rows = _comparison_rows(y, config.random_state)
    table, _ = risk.compare_models(ordered.iloc[rows], y[rows], inputs.numeric, inputs.categorical,
                                   config.n_folds, config.random_state, progress)
    table["borrowers_compared"] = len(rows)
    return table


def score(
    prepared: Prepared,
    config: RecoveryConfig,
    segments: SegmentRun | None = None,
    progress: Progress = no_progress,
) -> Scored:
    """Score every borrower out-of-fold, explain each score, and measure the ranking (score stage)."""
    # OpenMP threads spin when the cores are busy (other sessions, our own fold workers):
    # one thread per worker gives identical results at a fraction of the time there.
    with threadpool_limits(limits=1):
        return _score(prepared, config.checked(), segments, progress)


def _score(
    prepared: Prepared, config: RecoveryConfig, segments: SegmentRun | None, progress: Progress
) -> Scored:
    """The score stage, run with native thread pools held to one thread."""
    df = prepared.features
    inputs = model_inputs(prepared, config, segments)
    target, numeric, categorical, order = inputs.target, inputs.numeric, inputs.categorical, inputs.order
    columns, notes = inputs.columns, list(inputs.notes)
    y = target.y
    groups = explain.field_groups(columns, df)
    needed = list(dict.fromkeys(columns + [g.field for g in groups]))
    ordered, y_ordered = df[needed].iloc[order], y[order]
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
        ordered[columns], y_ordered, config.n_folds, config.random_state, config.calibrate,
        progress=lambda step, done: progress(f"Scoring: {step}", 0.1 + 0.6 * done),
    )
    progress("Explaining each score", 0.75)
    explainers = [explain.Explainer(model, columns) for model in run.models]
    effects = np.empty((len(df), len(groups)))
    effects[order] = explain.reason_effects(run, explainers, ordered, groups)
    importance = explain.held_out_importance(
        run, explainers, ordered, y_ordered, groups, config.random_state
    )
    progress("Measuring how well the score ranks", 0.9)
    scores = np.empty(len(df))
    scores[order] = run.scores
    fold = np.empty(len(df), dtype=int)
    fold[order] = run.fold
    known = ~np.isnan(y)
    yk, sk = y[known].astype(int), scores[known]
    outstanding = _outstanding(df)
    seed_split = (
        risk.seed_split_metrics(df[columns], y, numeric, config.random_state)
        if config.preset == "seed" else None
    )
    progress("Scores ready", 1.0)
    return Scored(
        target=target, model=kind, numeric=tuple(numeric), categorical=tuple(categorical),
        calibrated=config.calibrate, n_folds=config.n_folds, scores=scores, fold=fold, run=run,
        comparison=comparison, importance=importance, picks=explain.pick_reasons(effects, groups),
        ranking=metrics.ranking_table(yk, sk, fold[known]),
        roc=metrics.roc_points(yk, sk), pr=metrics.pr_points(yk, sk),
        calibration=metrics.calibration_table(yk, sk),
        gains=metrics.gains_table(yk, sk, None if outstanding is None else outstanding[known]),
        seed_split=seed_split, notes=tuple(notes),
        trust=None if target.kind == "segment" else trust(
            scores, y, df["Days_Past_Due"].to_numpy(dtype="float64", na_value=np.nan)
            if "Days_Past_Due" in df.columns else None),
    )


def _outstanding(df: pd.DataFrame) -> np.ndarray | None:
    """Outstanding amount per borrower, when the file has it."""
    if "Outstanding_Loan_Amount" not in df.columns:
        return None
    return df["Outstanding_Loan_Amount"].to_numpy(dtype="float64", na_value=np.nan)


# ------------------------------------------------------------------------------ decide


def _excluded(df: pd.DataFrame, used: tuple[str, ...]) -> dict[str, str]:
    """Fields in the file the model does not use, each with the reason."""
    reasons = {}
    for name in COLLECTION_FIELDS:
        if name in df.columns and name not in used:
            reasons[name] = "recorded during collection, after delinquency: it leaks the outcome"
    for name in PROTECTED_FIELDS:
        if name in df.columns and name not in used:
            reasons[name] = "protected attribute: never a model input"
    if OUTCOME in df.columns:
        reasons[OUTCOME] = "the outcome itself"
    return reasons


def _fairness(
    df: pd.DataFrame, y: np.ndarray, flagged: np.ndarray, scores: np.ndarray, target: str
) -> pd.DataFrame:
    """Per gender: share flagged high-risk against the actual rate of what the score predicts."""
    if "Gender" not in df.columns:
        return pd.DataFrame()
    frame = pd.DataFrame(
        {"Gender": df["Gender"].astype("object").fillna("(missing)").to_numpy(),
         "flagged": flagged, "bad": y, "score": scores}
    )
    grouped = frame.groupby("Gender", sort=True)
    return pd.DataFrame(
        {
            "Borrowers": grouped.size(),
            "Share flagged high-risk": grouped["flagged"].mean(),
            ("Share in a high-risk segment" if target == "segment" else "Actual bad-outcome rate"):
                grouped["bad"].mean(),
            "Mean risk score": grouped["score"].mean(),
        }
    ).reset_index()


def annotate(
    prepared: Prepared, segment_ids: np.ndarray, segment_names: np.ndarray, scores: np.ndarray,
    picks: explain.ReasonPicks, config: RecoveryConfig, reference: dict[str, np.ndarray] | None = None,
) -> tuple[pd.DataFrame, RecoveryPlan]:
    """The user's rows with segment, score, flag, strategy and reasons added, and the plan behind them."""
    df = prepared.features
    flagged = scores > config.flag_threshold
    table = prepared.rows.copy(deep=False)  # copy-on-write: the user's rows stay as they are
    table["Borrower_Segment"] = segment_ids
    table["Segment_Name"] = segment_names
    table["Risk_Score"] = scores
    table["Predicted_High_Risk"] = flagged.astype(int)
    recovery = make_plan(df, scores, config)
    table["Recovery_Strategy"] = recovery.strategy
    table["Risk_Reasons"] = explain.reasons(df, picks, flagged, reference)
    outstanding = _outstanding(df)
    if outstanding is not None:
        table["Outstanding_At_Risk"] = scores * outstanding
    if recovery.expected_net_recovery is not None:
        table["Expected_Net_Recovery"] = recovery.expected_net_recovery
    if recovery.expected_loss is not None:
        table["Expected_Loss"] = recovery.expected_loss
    if recovery.test_group is not None:
        table["Test_Group"] = recovery.test_group
    return table, recovery


def decide(
    prepared: Prepared, segments: SegmentRun, scored: Scored, config: RecoveryConfig
) -> RecoveryResult:
    """Flag, strategy and reasons per borrower at the configured thresholds (decide stage: no fitting)."""
    config = config.checked()
    df, y, scores = prepared.features, scored.target.y, scored.scores
    flagged = scores > config.flag_threshold
    known = scored.known
    yk, sk = y[known].astype(int), scores[known]
    report = RiskReport(
        target=scored.target.kind,
        target_description=scored.target.description,
        model=scored.model,
        model_label=risk.MODEL_LABELS[scored.model],
        numeric_features=scored.numeric,
        categorical_features=scored.categorical,
        excluded_features=_excluded(df, scored.numeric + scored.categorical),
        calibrated=scored.calibrated,
        n_folds=scored.n_folds,
        scored_with_outcome=int(known.sum()),
        metrics=metrics.metrics_table(yk, sk, scored.fold[known], config.flag_threshold, scored.ranking),
        confusion=metrics.confusion(yk, sk, config.flag_threshold),
        comparison=scored.comparison,
        roc=scored.roc,
        pr=scored.pr,
        calibration=scored.calibration,
        gains=scored.gains,
        importance=scored.importance,
        fairness=_fairness(df, y, flagged.astype(int), scores, scored.target.kind),
        seed_split=scored.seed_split,
    )
    table, recovery = annotate(prepared, segments.segments.ids, segments.segments.name_of_each(),
                               scores, scored.picks, config)
    return RecoveryResult(
        scored=table,
        segments=segments.segments,
        risk=report,
        strategies=strategy_summary(table, recovery.names),
        config=config,
        notes=prepared.notes + segments.notes + scored.notes,
        policies=recovery.policies,
        trust=scored.trust,
        assignment=recovery.assignment(),
    )


# ------------------------------------------------------------------------------ all stages


def analyse(frame: pd.DataFrame, config: RecoveryConfig, progress: Progress = no_progress) -> RecoveryResult:
    """Every stage in turn: segment, score every borrower out-of-fold, explain, decide."""
    config = config.checked()
    prepared = prepare(frame)
    segments = segment(prepared, config, progress)
    scored = score(prepared, config, segments, progress)
    return decide(prepared, segments, scored, config)


def analyse_portfolio(
    portfolio: Portfolio, config: RecoveryConfig, exclude_invalid: bool = False,
    progress: Progress = no_progress,
) -> RecoveryResult:
    """The app's and the command line's one path: check rows, then every stage."""
    return analyse(analysable_rows(portfolio, exclude_invalid), config, progress)
