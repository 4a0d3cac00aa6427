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

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from core import explain, metrics, risk
from core.briefing import Trust, trust
from core.config import RecoveryConfig
from core.errors import RecoveryError
from core.features import RATIOS, add_ratios, model_features, requested_fields
from core.roles import ColumnRoles, Roles, assign, canonical_outcome, is_protected
from core.ingest import Portfolio
from core.ordering import value_order
from core.risk import Progress, no_progress
from core.schema import NUMERIC_FIELDS, label
from core.segmentation import Segments, fit_segments, high_risk_segments
from core.decide.plan import RecoveryPlan, make_plan
from core.strategy import strategy_summary

# Above this many borrowers the three candidate models are compared on a seeded sample; the
# chosen one is still trained and scored on every borrower.
COMPARE_MAX_ROWS = 20_000
# A protected attribute with more groups than this (an age in years, say) is left out of the fairness table.
FAIRNESS_MAX_GROUPS = 20
# A file without the tutorial's fields is segmented on at most this many of its own numeric fields.
MAX_OWN_SEGMENT_FIELDS = 10

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
    roles: ColumnRoles | None = None  # what each column of the file was used for, and why
    written: pd.DataFrame | None = None  # the file's own cells as text, exactly as the file wrote them

    def table(self, as_written: bool = False) -> pd.DataFrame:
        """The download: every analysed borrower, their file row first, then the added columns.

        ``as_written`` gives back the file's own cells as it wrote them (29305, not 29305.0; its own
        spellings), for text downloads; otherwise they are typed, as the analysis read them.
        """
        scored = self.scored
        if as_written and self.written is not None:
            own = [c for c in self.written.columns if c in scored.columns]
            scored = scored.assign(**{c: self.written[c].reindex(scored.index) for c in own})
        return scored.rename_axis("File_Row").reset_index()

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
            "column_roles": [] if self.roles is None else self.roles.table.to_dict(orient="records"),
        }


# ------------------------------------------------------------------------------ prepare


@dataclass(frozen=True)
class Prepared:
    """The rows to analyse as given, the same rows typed for learning, and every column's role."""

    rows: pd.DataFrame
    features: pd.DataFrame
    roles: ColumnRoles
    notes: tuple[str, ...] = ()
    written: pd.DataFrame | None = None  # the same cells as text, as the file wrote them, for downloads


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


def written_cells(portfolio: Portfolio) -> pd.DataFrame | None:
    """The file's cells as written, under the names the analysis uses (mapped fields by their field name)."""
    if portfolio.raw is None:
        return None
    return portfolio.raw.rename(columns={header: name for name, header in portfolio.mapping.items()})


def prepare(rows: pd.DataFrame, roles: Roles = Roles(), separator: str | None = None,
            written: pd.DataFrame | None = None, headers: dict[str, str] | None = None) -> Prepared:
    """Check the rows can be analysed, add the ratios, type every column and give it its role, once."""
    if len(rows) == 0:
        raise RecoveryError("There are no borrowers to analyse: load a file with at least one row.")
    # a re-uploaded export: its old analysis is replaced by this one, and the user is told
    previous = [c for c in (*ADDED_COLUMNS, "File_Row") if c in rows.columns]
    notes = ()
    if previous:
        rows = rows.drop(columns=previous)
        notes = (f"The file already had the analysis column(s) {', '.join(previous)} (an earlier export?): "
                 "they are replaced by this analysis, and File_Row gives the rows of this file.",)
    features, column_roles = assign(rows, add_ratios(rows), roles, separator, headers)
    return Prepared(rows=rows, features=features, notes=notes + column_roles.notes, roles=column_roles,
                    written=None if written is None else written[[c for c in rows.columns if c in written.columns]])


# ------------------------------------------------------------------------------ segment


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
    config = config.checked()
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


def _outcome_target(prepared: Prepared, config: RecoveryConfig) -> risk.Target | None:
    """The file's outcome as the score's target: the tutorial's status read by the target setting, or the chosen one."""
    outcome = prepared.roles.outcome
    if outcome is None:
        return None
    if outcome.canonical:
        outcome = canonical_outcome(prepared.features, config.target)
    return risk.Target(y=outcome.y, kind=config.target if outcome.canonical else "outcome",
                       description=outcome.description)


def score_needs_segments(prepared: Prepared, config: RecoveryConfig) -> bool:
    """True when the target is the segment flag: chosen, or the fallback when the outcome cannot be learned."""
    return config.target == "segment" or not _learnable(_outcome_target(prepared, config))


def _single_outcome_note(prepared: Prepared, target: risk.Target) -> str:
    """Why a one-valued outcome cannot be learned, naming the values found."""
    outcome = prepared.roles.outcome
    found = ", ".join(f"'{v}' ({n:,})" for v, n in outcome.values) or "none"
    what = (f"no value of {outcome.column} is chosen as bad (its values: {found})" if not outcome.bad
            else f"every recorded outcome counts the same way ({found})")
    return (f"The outcome cannot be learned: {what}. The score is the probability of belonging to a "
            "high-risk (more delinquent) segment, not of non-recovery. Choose the bad values, or load a "
            "file with both recovered and unrecovered loans, to score real risk.")


def _target(prepared: Prepared, config: RecoveryConfig, segments: SegmentRun | None) -> risk.Target:
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
    target = _target(prepared, config, segments)
    risk.check_target(target, config.n_folds)
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


def _excluded(roles: ColumnRoles, used: tuple[str, ...]) -> dict[str, str]:
    """Columns of the file the model does not use, each with the reason."""
    table = roles.table
    left = table[(table["Used as"] != "identifier") & ~table["Column"].isin(used) & ~table["Column"].map(
        lambda c: f"{c} (age in days)" in used)]
    return {str(c): (str(why) or "not chosen as a model input") if used_as != "outcome" else "the outcome itself"
            for c, used_as, why in zip(left["Column"], left["Used as"], left["Why"])}


def _fairness(
    df: pd.DataFrame, y: np.ndarray, flagged: np.ndarray, scores: np.ndarray, target: str
) -> pd.DataFrame:
    """Per group of each protected attribute: share flagged high-risk against the actual rate of what the score predicts."""
    tables = []
    for name in (c for c in df.columns if is_protected(str(c))):
        groups = df[name].astype("object").fillna("(missing)").astype("str")
        if groups.nunique() > FAIRNESS_MAX_GROUPS:
            continue
        grouped = pd.DataFrame({"group": groups.to_numpy(), "flagged": flagged, "bad": y,
                                "score": scores}).groupby("group", sort=True)
        tables.append(pd.DataFrame({
            "Attribute": label(name),
            "Group": grouped.size().index,
            "Borrowers": grouped.size().to_numpy(),
            "Share flagged high-risk": grouped["flagged"].mean().to_numpy(),
            ("Share in a high-risk segment" if target == "segment" else "Actual bad-outcome rate"):
                grouped["bad"].mean().to_numpy(),
            "Mean risk score": grouped["score"].mean().to_numpy(),
        }))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


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
        excluded_features=_excluded(prepared.roles, scored.numeric + scored.categorical),
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
        roles=prepared.roles,
        written=prepared.written,
    )


# ------------------------------------------------------------------------------ all stages


def stages(prepared: Prepared, config: RecoveryConfig, progress: Progress = no_progress) -> RecoveryResult:
    """The stages after prepare in turn: segment, score every borrower out-of-fold, explain, decide."""
    config = config.checked()
    segments = segment(prepared, config, progress)
    scored = score(prepared, config, segments, progress)
    return decide(prepared, segments, scored, config)


def analyse(frame: pd.DataFrame, config: RecoveryConfig, progress: Progress = no_progress) -> RecoveryResult:
    """Every stage on rows already loaded: prepare, segment, score, explain, decide."""
    return stages(prepare(frame, config.checked().roles), config, progress)


def prepare_portfolio(portfolio: Portfolio, roles: Roles = Roles(), exclude_invalid: bool = False) -> Prepared:
    """prepare() for a loaded file: its rows to analyse, with its separator, cells as written and headers."""
    return prepare(analysable_rows(portfolio, exclude_invalid), roles, portfolio.info.separator,
                   written_cells(portfolio), portfolio.mapping)


def analyse_portfolio(
    portfolio: Portfolio, config: RecoveryConfig, exclude_invalid: bool = False,
    progress: Progress = no_progress,
) -> RecoveryResult:
    """The app's and the command line's one path: check rows, then every stage."""
    return stages(prepare_portfolio(portfolio, config.checked().roles, exclude_invalid), config, progress)
