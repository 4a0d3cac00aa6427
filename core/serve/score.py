"""Scoring new borrowers with a saved model: the same segments, scores, reasons and plan as the analysis gave."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import pipeline
from core.config import RecoveryConfig
from core.data import NO_OUTCOME, Portfolio, Roles, canonical_outcome, file_labels, label, load_portfolio
from core.decide import (
    HistoryEffects,
    plan_values,
    strategy_summary,
    unvalued_notes,
    wants_learned,
)
from core.errors import RecoveryError
from core.model import assign_segments, explain, risk
from core.serve import drift
from core.serve.bundle import Bundle


@dataclass(frozen=True)
class ScoredWithModel:
    """New borrowers annotated by a saved model: the download, the strategies, the notes."""

    table: pd.DataFrame
    strategies: pd.DataFrame
    features: pd.DataFrame
    scores: np.ndarray
    notes: tuple[str, ...]
    learned_notes: tuple[str, ...] = ()  # where the saved action effects cannot speak, and typed overrides


def _require_columns(bundle: Bundle, df: pd.DataFrame, name: str) -> None:
    """Refuse a file without the fields the model or the segments need, naming them."""
    needed = list(dict.fromkeys(bundle.columns + bundle.manifest["segments"]["features"]))
    absent = [c for c in needed if c not in df.columns]
    if absent:
        raise RecoveryError(f"{name} has no {', '.join(f'{label(c)} ({c})' for c in absent)}, which the "
                            "saved model needs: map a column to each, or add them to the file.")
    numeric = bundle.manifest["model"]["numeric"] + bundle.manifest["segments"]["features"]
    text = [c for c in dict.fromkeys(numeric) if not pd.api.types.is_numeric_dtype(df[c])]
    if text:
        raise RecoveryError(f"{name}: {', '.join(label(c) for c in text)} must hold numbers for the saved "
                            "model, but this file has text there: check the column mapping.")


def score_rows(bundle: Bundle, rows: pd.DataFrame, name: str = "The file",
               config: RecoveryConfig | None = None, summarise: bool = True) -> ScoredWithModel:
    """Segment, score, explain and decide for new borrowers with a saved model: no fitting.

    Every step is per borrower against the training file (its segments, typical values and
    value ranges), so a file scored in pieces gives the same rows as scored whole. ``summarise``
    False leaves ``strategies`` empty: a file scored in chunks counts its strategies itself.
    """
    # new borrowers take the training book's cut-offs, never shares of their own batch (a file scored
    # in pieces must give the same rows as scored whole)
    config = (config or bundle.config).with_(band_shares=None)
    # the model's inputs are fixed by the bundle: no outcome to suggest, nothing to screen for leakage
    prepared = pipeline.prepare(rows, Roles(outcome=NO_OUTCOME))
    df = prepared.features
    _require_columns(bundle, df, name)
    m, seg, ex = bundle.manifest["model"], bundle.manifest["segments"], bundle.manifest["explain"]
    ids = assign_segments(bundle.segmenter, np.array(seg["relabel"]), df, tuple(seg["features"]))
    # each segment's name made text once and taken per borrower (not a Python string per borrower)
    names = pd.array([seg["names"][str(i)] for i in range(len(seg["names"]))], dtype="str").take(ids)
    columns = bundle.columns
    groups = [explain.FieldGroup(g["field"], tuple(g["columns"]), tuple(g["ratios"])) for g in ex["groups"]]
    typical = [np.nan if ex["typical"][g.field] is None else ex["typical"][g.field] for g in groups]
    with risk.one_thread():
        own = None
        if isinstance(bundle.model, risk.AdditiveBoostingClassifier) and m["calibrated"]:
            # each borrower's curve places and contributions read once, for the score and for its
            # explanation (the same sum in the same order as decision_function: the same scores to the last bit)
            places = bundle.model.all_places(df[columns])
            own = bundle.model.contributions(places)
            scores = bundle.calibration(bundle.model.decision_from_places(places, own))
        else:
            scores = risk.probability(bundle.model, bundle.calibration, df[columns], m["calibrated"])
        base, drops = explain.Explainer(bundle.model, columns).changes(df, groups, typical, contributions=own)
    calibration = bundle.calibration
    effects = calibration.falls(base, drops)
    picks = explain.pick_reasons(effects, groups)
    reference = {k: np.asarray(v) for k, v in ex["reference"].items()}
    learned = None
    if wants_learned(config):  # the action table names the history's methods: plan on the saved effects
        history = HistoryEffects(bundle.effects, (bundle.manifest.get("effects") or {}).get("action_column"), "", (
            "The saved model was trained on a history without a column saying which action each borrower "
            "received, so it holds no action effects.",))
        learned = plan_values(df, scores, config.actions, history)
    table, recovery = pipeline.annotate(prepared, ids, names, scores, picks, config, reference,
                                        values=None if learned is None else learned.values.values)
    notes = (list(prepared.notes) + ([recovery.note] if recovery.note else [])
             + list(learned.messages if learned is not None else ()))
    unknown_codes = [c for c in columns if c in df.columns and df[c].isna().all()]
    if unknown_codes:
        notes.append(f"{', '.join(label(c) for c in unknown_codes)} is empty in this file: the model "
                     "scores as if unknown.")
    return ScoredWithModel(table=table.rename_axis("File_Row").reset_index(),
                           strategies=strategy_summary(table, recovery.names, canonical_outcome(table))
                           if summarise else pd.DataFrame(),
                           features=df, scores=scores, notes=tuple(notes),
                           learned_notes=(learned.messages + unvalued_notes(recovery)) if learned is not None else ())


_SHOWN_METRICS = {"roc_auc": "ROC-AUC", "gini": "Gini", "ks": "KS", "brier": "Brier score"}


@dataclass(frozen=True)
class ScoredFile:
    """A new file scored with a saved model, with how it was read and what was left out."""

    portfolio: Portfolio
    scored: ScoredWithModel | None  # None while invalid rows are neither fixed nor excluded
    drift: pd.DataFrame


def score_file(bundle: Bundle, data: bytes, name: str, exclude_invalid: bool) -> ScoredFile:
    """Read, check and score a new file with a saved model; invalid rows wait for the user's choice."""
    portfolio = load_portfolio(data, name)
    if not portfolio.report.ok and not exclude_invalid:
        return ScoredFile(portfolio, None, pd.DataFrame())
    scored = score_rows(bundle, pipeline.analysable_rows(portfolio, exclude_invalid), name)
    return ScoredFile(portfolio, scored, drift.drift_table(bundle.manifest["profile"], scored.features,
                                                           scored.scores))


def manifest_summary(manifest: dict) -> pd.DataFrame:
    """What a user checks before trusting a saved model: when, on what, how good, with which versions."""
    t, m = manifest["training_file"], manifest["model"]
    oof = manifest.get("metrics", {}).get("out_of_fold", {})
    rows = [
        ("Trained", manifest["created"]),
        ("Training file", t["name"]),
        ("Training file SHA-256", t["sha256"]),
        ("Borrowers in training (with outcome)", f"{t['rows']:,} ({t['rows_with_outcome']:,})"),
        ("Model", m["label"]),
        ("Predicts", m["target_description"]),
        ("Learns from", ", ".join(file_labels(m["numeric"] + m["categorical"]).values())),
        *[(f"Out-of-fold {name}", "—" if oof[key].get("value") is None else f"{oof[key]['value']:.3f}")
          for key, name in _SHOWN_METRICS.items() if key in oof],
        ("Library versions", ", ".join(f"{k} {v}" for k, v in manifest["versions"].items())),
        ("Model SHA-256", manifest.get("model_sha256", "")),
    ]
    return pd.DataFrame(rows, columns=["Item", "Value"])
