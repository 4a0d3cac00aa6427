"""RecoveryConfig: every choice the engine makes, in one frozen object shared by app and CLI."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from core.data import SEED_FEATURES, SEED_STRATEGIES, Roles
from core.errors import RecoveryError

Target = Literal["not_fully_recovered", "written_off", "segment"]
ModelKind = Literal["auto", "random_forest", "gradient_boosting", "logistic"]

TARGET_LABELS: dict[str, str] = {
    "not_fully_recovered": "Not fully recovered",
    "written_off": "Written off",
    "segment": "In a high-risk segment (the notebook's flag)",
}


# Which stage each setting belongs to: a change recomputes that stage and the ones after it,
# never the ones before (a decision setting never refits a model). random_state and preset
# reach every stage that draws random numbers or follows the notebook.
PREPARE_SETTINGS = ("roles",)
SEGMENT_SETTINGS = ("preset", "segment_features", "n_segments", "segment_naming", "random_state")
SCORE_SETTINGS = ("preset", "target", "model", "model_features", "use_collection_fields",
                  "calibrate", "n_folds", "random_state")
DECIDE_SETTINGS = ("flag_threshold", "legal_threshold", "settlement_threshold", "band_shares", "strategy_labels",
                   "actions", "policy", "holdout", "holdout_salt", "haircuts", "action_column")
# How figures are shown, not what they are: changing one reruns no stage.
DISPLAY_SETTINGS = ("currency",)
# Share of a collateral's value lost when it is sold, per loan type when not set otherwise,
# and the least a user may set (collateral is never worth its full book value in recovery).
DEFAULT_HAIRCUT = 0.30
MIN_HAIRCUT = 0.10
Policy = Literal["optimised", "thresholds"]
MAX_CURRENCY = 5  # 'EUR', '€', 'US$', 'CHF': a label beside money, never a sentence


@dataclass(frozen=True)
class Action:
    """One recovery action a collections team can take."""

    name: str
    cost: float
    capacity: int | None  # cases this period; None = unlimited
    recovery_at_low_risk: float | None  # None: learned from history (``method`` names it)
    recovery_at_high_risk: float | None
    method: str | None = None

    @property
    def typed(self) -> bool:
        """True when the team gave this action's recovery figures."""
        return self.recovery_at_low_risk is not None and self.recovery_at_high_risk is not None

    def recovery(self, scores: np.ndarray) -> np.ndarray:
        """Expected share of the outstanding recovered, per borrower."""
        if not self.typed:
            raise RecoveryError(f"'{self.name}' has no recovery figures: they are learned from a history with "
                                f"an action column ({self.method}); learn the effects first, or type the figures.")
        low, high = self.recovery_at_low_risk, self.recovery_at_high_risk
        return low + (high - low) * np.asarray(scores, dtype=float)


@dataclass(frozen=True)
class RecoveryConfig:
    """Settings for segmentation, risk scoring and strategy assignment."""

    preset: Literal["recommended", "seed"] = "recommended"
    # prepare stage: what each column of the file is used for
    roles: Roles = Roles()
    # segment stage
    segment_features: tuple[str, ...] = SEED_FEATURES
    n_segments: int = 4
    segment_naming: Literal["profile", "seed"] = "profile"
    # score stage
    target: Target = "not_fully_recovered"
    model: ModelKind = "gradient_boosting"
    model_features: tuple[str, ...] | None = None
    use_collection_fields: bool = False
    calibrate: bool = True
    n_folds: int = 5
    # decide stage
    flag_threshold: float = 0.5
    legal_threshold: float = 0.75
    settlement_threshold: float = 0.50
    # (legal, settlement) shares of the book by risk rank, which set the two cut-offs above from the
    # scores (core.decide.bands); None keeps the cut-offs as given (the notebook's, in the seed preset)
    band_shares: tuple[float, float] | None = (0.10, 0.20)
    strategy_labels: tuple[str, str, str] = SEED_STRATEGIES
    # None: the notebook's bands only; an action table adds costs, capacities and expected values
    actions: tuple[Action, ...] | None = None
    policy: Policy = "optimised"
    holdout: float = 0.10  # share kept on the notebook's rule to measure the plan's uplift later
    holdout_salt: str = "holdout"
    haircuts: tuple[tuple[str, float], ...] = ()  # (loan type, haircut); others take DEFAULT_HAIRCUT
    # the history's column saying which action each borrower received; None = suggested
    # (Collection_Method, or a few-valued column named like a channel, method or action)
    action_column: str | None = None
    random_state: int = 42
    # how money is labelled on pages, files and the report: '' no symbol, a code ('EUR') or a symbol ('€');
    # a display setting only, so no stage reruns when it changes
    currency: str = ""

    def stage_key(self, stage: Literal["prepare", "segment", "score", "decide"]) -> tuple:
        """The settings one stage depends on, as a cache key."""
        names = {"prepare": PREPARE_SETTINGS, "segment": SEGMENT_SETTINGS, "score": SCORE_SETTINGS, "decide": DECIDE_SETTINGS}[stage]
        return tuple((name, getattr(self, name)) for name in names)

    @classmethod
    def seed(cls) -> RecoveryConfig:
        """The notebook's method exactly: segment-based flag, its Random Forest, no calibration."""
        return cls(
            preset="seed",
            segment_naming="seed",
            target="segment",
            model="random_forest",
            model_features=SEED_FEATURES,
            calibrate=False,
            band_shares=None,  # the notebook's absolute cut-offs exactly
            policy="thresholds",  # the notebook's rule, also when a plan is switched on
            holdout=0.0,
        )

    @classmethod
    def named(cls, preset: str) -> RecoveryConfig:
        """The config for a preset name given on the command line or in the app."""
        if preset == "seed":
            return cls.seed()
        if preset == "recommended":
            return cls()
        raise RecoveryError(f"Unknown preset '{preset}': use 'recommended' or 'seed'.")

    def with_(self, **changes) -> RecoveryConfig:
        """A copy with some settings changed (checked as it is built)."""
        return replace(self, **changes)

    def checked(self) -> RecoveryConfig:
        """Self: a config is checked once, when it is built."""
        return self

    def __post_init__(self) -> None:
        """Raise RecoveryError if a setting is out of range, so no stage meets an unchecked config."""
        if not 2 <= self.n_segments <= 20:
            raise RecoveryError(f"Number of segments is {self.n_segments}: choose between 2 and 20.")
        if not self.segment_features:
            raise RecoveryError("No segmentation fields chosen: pick at least one numeric field.")
        if not 2 <= self.n_folds <= 20:
            raise RecoveryError(f"Cross-validation folds is {self.n_folds}: choose between 2 and 20.")
        if not 0.0 <= self.settlement_threshold <= self.legal_threshold <= 1.0:
            raise RecoveryError(
                f"Strategy thresholds must satisfy 0 ≤ settlement ({self.settlement_threshold}) "
                f"≤ legal ({self.legal_threshold}) ≤ 1: adjust them."
            )
        if self.band_shares is not None and not (
                all(0.0 <= s <= 1.0 for s in self.band_shares) and sum(self.band_shares) <= 1.0):
            raise RecoveryError(f"Band shares {self.band_shares[0]:.0%} (legal) and {self.band_shares[1]:.0%} "
                                "(settlement) must each be between 0% and 100% and add up to 100% at most.")
        if not 0.0 <= self.flag_threshold <= 1.0:
            raise RecoveryError(f"High-risk threshold {self.flag_threshold} must be between 0 and 1.")
        if len(self.strategy_labels) != 3 or not all(s.strip() for s in self.strategy_labels):
            raise RecoveryError("Give three non-empty recovery strategy labels.")
        if len(set(self.strategy_labels)) != 3:
            raise RecoveryError("Give three different recovery strategy labels.")
        if self.policy not in ("optimised", "thresholds"):
            raise RecoveryError(f"Unknown policy '{self.policy}': use 'optimised' or 'thresholds'.")
        for loan_type, cut in self.haircuts:
            if not MIN_HAIRCUT <= cut <= 1.0:
                raise RecoveryError(f"The collateral haircut for {loan_type} is {cut:.0%}: choose between "
                                    f"{MIN_HAIRCUT:.0%} and 100%.")
        self.roles.checked()
        if len(self.currency) > MAX_CURRENCY or self.currency != self.currency.strip() or any(
                c.isdigit() or c in '%"' or not c.isprintable() for c in self.currency):
            raise RecoveryError(f"Currency '{self.currency}': give a code such as EUR or a symbol such as €, "
                                f"at most {MAX_CURRENCY} characters, without digits, % or quotes.")
        if not 0.0 <= self.holdout <= 0.5:
            raise RecoveryError(f"The holdout share {self.holdout} must be between 0 and 0.5 (0.1 = 10%).")
