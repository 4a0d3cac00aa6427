"""Segments and risk: K-Means segments, the target, out-of-fold scores, reasons, and how far to trust them."""

from core.model.comparison import comparison_view
from core.model.effects import ESTIMATORS, MIN_ROWS, STATUS_SHARE, LearnedEffects, dpd_band, fit_effects, key
from core.model.explain import TYPICAL, ReasonsLater, typical_row
from core.model.fairness import fairness_table
from core.model.honesty import performance_note, performance_shown
from core.model.metrics import (
    CURVE_POINTS,
    GAINS_HEADERS,
    METRIC_MEANINGS,
    Z95,
    calibration_table,
    confusion,
    gains_table,
    ks_statistic,
    metrics_table,
    pr_points,
    ranking_metrics,
    readable_metrics,
    roc_auc,
    roc_points,
    score_metrics,
)
from core.model.quality import RiskReport, risk_report
from core.model.risk import (
    MAX_CATEGORIES,
    MODEL_LABELS,
    AdditiveBoostingClassifier,
    Calibration,
    FieldCodes,
    OutOfFold,
    decision,
    fit_platt,
    run_in_workers,
    sigmoid,
)
from core.model.scoring import Scored, compare, score
from core.model.segments import (
    ADVICE,
    OUTCOME_RATES,
    SEED_SEGMENT_NAMES,
    SegmentRun,
    Segments,
    assign_segments,
    choose_k,
    field_means,
    fit_segments,
    high_risk_segments,
    profile_summary,
    segment,
    segment_fields,
    segment_options,
)
from core.model.target import ModelInputs, Target, model_inputs, score_needs_segments
from core.model.trust import Trust, auc_interval, trust
from core.model.wording import MONEY_FIELDS

__all__ = ["ADVICE", "AdditiveBoostingClassifier", "CURVE_POINTS", "Calibration", "ESTIMATORS", "FieldCodes", "GAINS_HEADERS", "LearnedEffects", "MAX_CATEGORIES", "METRIC_MEANINGS", "MIN_ROWS", "MODEL_LABELS", "MONEY_FIELDS", "ModelInputs", "OUTCOME_RATES", "OutOfFold", "ReasonsLater", "RiskReport", "SEED_SEGMENT_NAMES", "STATUS_SHARE", "Scored", "SegmentRun", "Segments", "TYPICAL", "Target", "Trust", "Z95", "assign_segments", "auc_interval", "calibration_table", "choose_k", "compare", "comparison_view", "confusion", "decision", "dpd_band", "fairness_table", "field_means", "fit_effects", "fit_platt", "fit_segments", "gains_table", "high_risk_segments", "key", "ks_statistic", "metrics_table", "model_inputs", "performance_note", "performance_shown", "pr_points", "profile_summary", "ranking_metrics", "readable_metrics", "risk_report", "roc_auc", "roc_points", "run_in_workers", "score", "score_metrics", "score_needs_segments", "segment", "segment_fields", "segment_options", "sigmoid", "trust", "typical_row"]
