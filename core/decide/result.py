"""The analysis as the app, the CLI and the report read it: the annotated borrowers and the reports behind them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from core.config import RecoveryConfig
from core.data import ColumnRoles
from core.decide.history_effects import LearnedPlan
from core.model import ReasonsLater, RiskReport, Segments, Trust, performance_note


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
    learned: LearnedPlan | None = None  # the plan's values learned from the file's history, when they were
    # Risk_Reasons when it is not in ``scored``: its words, written block by block with the download
    reasons_later: ReasonsLater | None = None

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

    @property
    def performance_note(self) -> str | None:
        """Why the score's metrics are not a performance measure (None when they are one)."""
        return performance_note(self.risk.target, self.config.preset)

    def metrics_dict(self) -> dict:
        """The Risk page's figures as plain JSON-ready values (no performance figures for a circular score)."""
        r = self.risk
        shown = self.performance_note is None
        return {
            "preset": self.config.preset,
            "performance_shown": shown,
            "performance_note": self.performance_note,
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
            } if shown else {},
            "confusion_matrix": r.confusion if shown else None,
            "flag_threshold": self.config.flag_threshold,
            "model_comparison": r.comparison.to_dict(orient="records") if shown else [],
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
            "learned_effects": None if self.learned is None else {
                "action_column": self.learned.history.action_column,
                "outcome": self.learned.history.outcome,
                "messages": list(self.learned.messages),
                "support": self.learned.support().astype(object).where(self.learned.support().notna(), None)
                .to_dict(orient="records"),
            },
        }
