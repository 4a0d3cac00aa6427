"""One path from a loaded portfolio to segments, honest risk scores and recovery strategies."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from core import explain, metrics, risk
from core.config import RecoveryConfig
from core.errors import RecoveryError
from core.features import RATIOS, add_ratios, model_features, requested_fields
from core.ingest import Portfolio
from core.ordering import value_order
from core.validate import require_fields
from core.schema import COLLECTION_FIELDS, OUTCOME, PROTECTED_FIELDS, label
from core.segmentation import Segments, fit_segments, high_risk_segments
from core.strategy import assign_strategy, strategy_summary

# Above this many borrowers the three candidate models are compared on a seeded sample; the
# chosen one is still trained and scored on every borrower.
COMPARE_MAX_ROWS = 20_000

ADDED_COLUMNS = (
    "Borrower_Segment", "Segment_Name", "Risk_Score", "Predicted_High_Risk",
    "Recovery_Strategy", "Risk_Reasons", "Outstanding_At_Risk",
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
            "notes": list(self.notes),
        }


def _segment_fields(df: pd.DataFrame, config: RecoveryConfig, notes: list[str]) -> tuple[str, ...]:
    """The configured segmentation fields the file has; the seed preset needs all of them."""
    present = tuple(f for f in config.segment_features if f in df.columns)
    missing = [f for f in config.segment_features if f not in df.columns]
    if missing and (config.preset == "seed" or not present):
        raise RecoveryError(
            f"Segmentation needs {', '.join(missing)}, which the loaded file does not have: map a "
            "column to each on the Data page, or choose other segmentation fields."
        )
    if missing:
        notes.append(f"Segments use {len(present)} fields; not in this file: {', '.join(missing)}.")
    return present


def _target(
    df: pd.DataFrame, config: RecoveryConfig, segments: Segments, notes: list[str]
) -> risk.Target:
    """The real outcome when asked for and present, else the segment-based flag."""
    if config.target != "segment":
        target = risk.outcome_target(df, config.target)
        if target is not None:
            return target
        note = (
            "This file has no Recovery_Status, so there is no real outcome to learn from. The score "
            "is the probability of belonging to a high-risk (more delinquent) segment, not of "
            "non-recovery. Add the outcome column to score real recovery risk."
        )
        notes.append(note)
    else:
        note = None
    risky = high_risk_segments(segments, df, config.segment_naming)
    return risk.segment_target(np.isin(segments.ids, risky), note)


def _excluded(df: pd.DataFrame, config: RecoveryConfig, used: list[str]) -> dict[str, str]:
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


def analyse_portfolio(
    portfolio: Portfolio, config: RecoveryConfig, exclude_invalid: bool = False
) -> RecoveryResult:
    """The app's and the command line's one path: check rows, then analyse."""
    return analyse(analysable_rows(portfolio, exclude_invalid), config)


def _check_input(frame: pd.DataFrame) -> None:
    """Raise RecoveryError for a frame the analysis cannot take."""
    if len(frame) == 0:
        raise RecoveryError("There are no borrowers to analyse: load a file with at least one row.")
    require_fields(frame, "analyse")
    clashes = [c for c in ADDED_COLUMNS if c in frame.columns]
    if clashes:
        raise RecoveryError(
            f"The file already has column(s) {', '.join(clashes)}, which the analysis adds: rename "
            "or remove them (is this a file this app exported?) and load it again."
        )


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


def _fit_and_score(
    X: pd.DataFrame, y: np.ndarray, numeric: list[str], categorical: list[str], config: RecoveryConfig
) -> tuple[pd.DataFrame, risk.OutOfFold, str]:
    """Compare the candidates when asked, then the chosen model's out-of-fold run on every row."""
    comparison, runs = pd.DataFrame(), {}
    if config.model == "auto" or config.preset != "seed":
        rows = _comparison_rows(y, config.random_state)
        comparison, runs = risk.compare_models(
            X.iloc[rows], y[rows], numeric, categorical, config.n_folds, config.random_state
        )
        if len(rows) < len(y):
            runs = {}  # a run on a sample cannot stand for every borrower's score
    kind = comparison["model"].iloc[0] if config.model == "auto" else config.model
    if config.calibrate or kind not in runs:
        run = risk.out_of_fold(
            lambda: risk.make_model(kind, numeric, categorical, config.random_state, config.calibrate),
            X, y, config.n_folds, config.random_state,
        )
    else:
        run = runs[kind]
    return comparison, run, kind


def analyse(frame: pd.DataFrame, config: RecoveryConfig) -> RecoveryResult:
    """Segment, score every borrower out-of-fold, explain, and assign recovery strategies."""
    config = config.checked()
    _check_input(frame)
    notes: list[str] = []
    df = add_ratios(frame) if config.preset != "seed" else frame
    segments = fit_segments(
        df, _segment_fields(df, config, notes), config.n_segments, config.random_state,
        config.segment_naming,
    )
    for name, n in segments.imputed.items():
        notes.append(f"{n} missing {label(name)} value(s) filled with the median for segmentation.")
    target = _target(df, config, segments, notes)
    risk.check_target(target, config.n_folds)
    numeric, categorical = model_features(df, config.model_features, config.use_collection_fields)
    if not numeric and not categorical:
        raise RecoveryError("None of the model's input fields are in this file: map them on the Data page.")
    X, y = df[numeric + categorical], target.y
    notes += _input_notes(X, y)
    if len(X) > COMPARE_MAX_ROWS and (config.model == "auto" or config.preset != "seed"):
        notes.append(
            f"The three models were compared on a random sample of {COMPARE_MAX_ROWS:,} borrowers; "
            "the chosen model is trained and scored on all of them."
        )
    absent = _absent_model_fields(df, config)
    if absent:
        notes.append(f"The model learns without {', '.join(absent)}: not in this file.")

    # The seed preset keeps the notebook's file order; otherwise the order is fixed by the
    # model's inputs and target only, so fields it does not use cannot move anyone between folds.
    order = np.arange(len(df)) if config.preset == "seed" else value_order(X.assign(_target=y))
    X_sorted, y_sorted = X.iloc[order], y[order]
    # HistGradientBoosting's OpenMP threads spin when the cores are busy (other sessions);
    # one thread gives identical results at a fraction of the wall time there.
    with threadpool_limits(limits=1, user_api="openmp"):
        comparison, run, kind = _fit_and_score(X_sorted, y_sorted, numeric, categorical, config)
        importance = explain.held_out_importance(run, X_sorted, y_sorted, config.random_state)
        effects = np.empty((len(X), X.shape[1]))
        effects[order] = explain.reason_effects(run, X_sorted)
        seed_split = (
            risk.seed_split_metrics(X, y, numeric, config.random_state)
            if config.preset == "seed" else None
        )
    scores = np.empty(len(X))
    scores[order] = run.scores
    fold = np.empty(len(X), dtype=int)
    fold[order] = run.fold
    flagged = (scores > config.flag_threshold).astype(int)

    known = ~np.isnan(y)
    yk, sk = y[known].astype(int), scores[known]
    outstanding = (
        df["Outstanding_Loan_Amount"].to_numpy(dtype="float64", na_value=np.nan)
        if "Outstanding_Loan_Amount" in df.columns else None
    )
    report = RiskReport(
        target=target.kind,
        target_description=target.description,
        model=kind,
        model_label=risk.MODEL_LABELS[kind],
        numeric_features=tuple(numeric),
        categorical_features=tuple(categorical),
        excluded_features=_excluded(df, config, numeric + categorical),
        calibrated=config.calibrate,
        n_folds=config.n_folds,
        scored_with_outcome=int(known.sum()),
        metrics=metrics.metrics_table(yk, sk, fold[known], config.flag_threshold),
        confusion=metrics.confusion(yk, sk, config.flag_threshold),
        comparison=comparison,
        roc=metrics.roc_points(yk, sk),
        pr=metrics.pr_points(yk, sk),
        calibration=metrics.calibration_table(yk, sk),
        gains=metrics.gains_table(yk, sk, None if outstanding is None else outstanding[known]),
        importance=importance,
        fairness=_fairness(df, y, flagged, scores, target.kind),
        seed_split=seed_split,
    )

    scored = frame.copy()
    scored["Borrower_Segment"] = segments.ids
    scored["Segment_Name"] = segments.name_of_each()
    scored["Risk_Score"] = scores
    scored["Predicted_High_Risk"] = flagged
    scored["Recovery_Strategy"] = assign_strategy(scores, config)
    scored["Risk_Reasons"] = explain.reasons(X, effects, scores, config.flag_threshold)
    if outstanding is not None:
        scored["Outstanding_At_Risk"] = scores * outstanding
    return RecoveryResult(
        scored=scored,
        segments=segments,
        risk=report,
        strategies=strategy_summary(scored, config),
        config=config,
        notes=tuple(notes),
    )
