"""How far to trust the score: its ranking against chance and against days past due alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.model.metrics import Z95, roc_auc


def auc_interval(auc: float, n_bad: int, n_good: int) -> tuple[float, float]:
    """95% interval of a ROC-AUC by Hanley and McNeil's standard error (1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_bad - 1) * (q1 - auc**2) + (n_good - 1) * (q2 - auc**2)) / (n_bad * n_good)
    half = Z95 * float(np.sqrt(max(variance, 0.0)))
    return max(auc - half, 0.0), min(auc + half, 1.0)


@dataclass(frozen=True)
class Trust:
    """How well the out-of-fold score ranks, against chance and against days past due alone."""

    auc: float
    low: float
    high: float
    borrowers: int
    days_past_due_auc: float | None

    @property
    def better_than_chance(self) -> bool:
        """The 95% interval lies above 0.5."""
        return self.low > 0.5

    @property
    def better_than_days_past_due(self) -> bool | None:
        """The score beats ranking by days past due alone (None when the file has no such field)."""
        return None if self.days_past_due_auc is None else self.auc > self.days_past_due_auc

    @property
    def act_on_score(self) -> bool:
        """Worth acting on: clearly better than chance, and not worse than the most-overdue-first rule."""
        return self.better_than_chance and self.better_than_days_past_due is not False

    def sentence(self) -> str:
        """How well the score ranks, in one sentence."""
        text = (f"The risk score ranks borrowers with a ROC-AUC of {self.auc:.2f} (95% interval "
                f"{self.low:.2f}–{self.high:.2f}; 0.5 is a coin toss, 1 is perfect), measured on "
                f"{self.borrowers:,} borrowers it did not learn from")
        if self.days_past_due_auc is not None:
            text += f"; days past due alone reaches {self.days_past_due_auc:.2f} on the same borrowers"
        return text + "."

    def verdict(self) -> str:
        """What to do with the score."""
        if not self.better_than_chance:
            fallback = ("Order the work by days past due, which ranks better here"
                        if self.days_past_due_auc is not None and self.days_past_due_auc > self.high else
                        "Nothing in this file separates the outcomes clearly; check that the outcome column "
                        "records what happened before acting on any ranking")
            return f"Do not act on this score: on this file it is not clearly better than chance. {fallback}."
        if self.better_than_days_past_due is False:
            return ("Do not act on this score: it ranks no better than days past due alone. Keep working the "
                    "most overdue borrowers first.")
        if self.better_than_days_past_due is None:
            return ("The score ranks clearly better than chance: use it to order the work (this file has no days "
                    "past due to compare it with the most-overdue-first rule).")
        return "The score ranks clearly better than chance and than the most-overdue-first rule: use it to order the work."

    def as_dict(self) -> dict:
        """Plain values for the metrics JSON."""
        return {"roc_auc": self.auc, "roc_auc_95_low": self.low, "roc_auc_95_high": self.high,
                "borrowers": self.borrowers, "days_past_due_roc_auc": self.days_past_due_auc,
                "better_than_chance": self.better_than_chance,
                "better_than_days_past_due": self.better_than_days_past_due,
                "act_on_score": self.act_on_score, "verdict": self.verdict()}


def trust(scores: np.ndarray, y: np.ndarray, days_past_due: np.ndarray | None) -> Trust | None:
    """The score's trust figures on borrowers with a known outcome (None when one class is missing)."""
    known = ~np.isnan(y)
    bad = y[known].astype(int)
    n_bad, n_good = int(bad.sum()), int(len(bad) - bad.sum())
    if not n_bad or not n_good:
        return None
    auc = roc_auc(bad, scores[known])
    low, high = auc_interval(auc, n_bad, n_good)
    dpd_auc = None
    if days_past_due is not None:
        dpd = days_past_due[known]
        present = ~np.isnan(dpd)
        if bad[present].min(initial=1) == 0 and bad[present].max(initial=0) == 1:
            dpd_auc = roc_auc(bad[present], dpd[present])
    return Trust(auc, low, high, int(known.sum()), dpd_auc)


# Half the borrowers within this many probability points of each other: the calibrated score no longer orders them.
FLAT_SPREAD = 0.05


def ordering_note(found: Trust | None, slopes: Sequence[float], scores: np.ndarray) -> str | None:
    """Words for a signal-free model whose calibration reversed or flattened its ordering (None otherwise).

    With no signal the fold-by-fold Platt fit can take a negative slope (riskier by the model becomes
    less likely) or squeeze every probability together; a ranking shown then looks confident and is not.
    """
    if found is None or found.better_than_chance or not len(slopes):
        return None
    reversed_folds = sum(1 for s in slopes if s < 0)
    known = scores[~np.isnan(scores)]
    low, high = (np.percentile(known, [25, 75]) if len(known) else (np.nan, np.nan))
    flat = bool(high - low < FLAT_SPREAD)
    if not reversed_folds and not flat:
        return None
    what = []
    if reversed_folds:
        what.append(f"reversed the model's ordering in {reversed_folds} of {len(slopes)} folds (a borrower the "
                    "model ranked riskier got a lower probability)")
    if flat:
        what.append(f"flattened the scores (half the borrowers score between {low:.0%} and {high:.0%})")
    return (f"The model finds no signal in this file: its out-of-fold ROC-AUC is {found.auc:.2f} (95% interval "
            f"{found.low:.2f}–{found.high:.2f}; 0.5 is a coin toss), and the calibration "
            f"{' and '.join(what)}. The scores and any ranking built on them are not an order of the work: do "
            "not rank borrowers by this score; choose an outcome or fields that separate good from bad borrowers "
            "first.")
