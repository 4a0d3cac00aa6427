"""What the Risk page shows about the score and how far to trust it, at the chosen high-risk threshold."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.data import ColumnRoles, Prepared
from core.model import metrics, risk
from core.model.fairness import fairness_table
from core.model.scoring import Scored
from core.model.trust import ordering_note


@dataclass(frozen=True)
class RiskReport:
    """The score stage's figures plus those that depend on the high-risk threshold."""

    scored: Scored
    model_label: str
    excluded_features: dict[str, str]
    scored_with_outcome: int
    metrics: pd.DataFrame
    confusion: dict[str, int]
    fairness: pd.DataFrame

    @property
    def target(self) -> str:
        """What the score predicts: the outcome's kind or 'segment'."""
        return self.scored.target.kind

    @property
    def target_description(self) -> str:
        """The target in words."""
        return self.scored.target.description

    @property
    def model(self) -> str:
        """The model kind that scored every borrower."""
        return self.scored.model

    @property
    def numeric_features(self) -> tuple[str, ...]:
        """Numeric model inputs."""
        return self.scored.numeric

    @property
    def categorical_features(self) -> tuple[str, ...]:
        """Categorical model inputs."""
        return self.scored.categorical

    @property
    def calibrated(self) -> bool:
        """Whether scores are calibrated probabilities."""
        return self.scored.calibrated

    @property
    def n_folds(self) -> int:
        """Cross-validation folds."""
        return self.scored.n_folds

    @property
    def comparison(self) -> pd.DataFrame:
        """The three candidate models, best first (empty unless compared)."""
        return self.scored.comparison

    @property
    def roc(self) -> pd.DataFrame:
        """ROC curve points."""
        return self.scored.roc

    @property
    def pr(self) -> pd.DataFrame:
        """Precision-recall curve points."""
        return self.scored.pr

    @property
    def calibration(self) -> pd.DataFrame:
        """Predicted against actual rates by band."""
        return self.scored.calibration

    @property
    def gains(self) -> pd.DataFrame:
        """Lift and gains by decile."""
        return self.scored.gains

    @property
    def importance(self) -> pd.DataFrame:
        """Held-out importance of each field."""
        return self.scored.importance

    @property
    def ordering_note(self) -> str | None:
        """Words when a signal-free model's calibration reversed or flattened its ordering (None otherwise)."""
        s = self.scored
        if not s.calibrated:
            return None
        return ordering_note(s.trust, [c.slope for c in s.run.calibrations], s.scores[s.known])

    @property
    def seed_split(self) -> dict | None:
        """The notebook's 80/20 split figures (seed preset only)."""
        return self.scored.seed_split


def risk_report(prepared: Prepared, scored: Scored, flag_threshold: float) -> RiskReport:
    """The Risk page's figures for these scores at this high-risk threshold."""
    y, scores = scored.target.y, scored.scores
    known = scored.known
    yk, sk = y[known].astype(int), scores[known]
    flagged = (scores > flag_threshold).astype(int)
    return RiskReport(
        scored=scored,
        model_label=risk.MODEL_LABELS[scored.model],
        excluded_features=_excluded(prepared.roles, scored.numeric + scored.categorical),
        scored_with_outcome=int(known.sum()),
        metrics=metrics.metrics_table(yk, sk, scored.fold[known], flag_threshold, scored.ranking),
        confusion=metrics.confusion(yk, sk, flag_threshold),
        fairness=fairness_table(prepared.features, y, flagged, scores, scored.target.kind),
    )


def _excluded(roles: ColumnRoles, used: tuple[str, ...]) -> dict[str, str]:
    """Columns of the file the model does not use, each with the reason."""
    table = roles.table
    left = table[(table["Used as"] != "identifier") & ~table["Column"].isin(used) & ~table["Column"].map(
        lambda c: f"{c} (age in days)" in used)]
    return {str(c): (str(why) or "not chosen as a model input") if used_as != "outcome" else "the outcome itself"
            for c, used_as, why in zip(left["Column"], left["Used as"], left["Why"])}
