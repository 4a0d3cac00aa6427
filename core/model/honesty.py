"""When a score's figures are a performance measure, and what to say when they are not.

The notebook's target is membership of a high-risk segment, which the model re-learns from the
fields that formed the segments: its ROC-AUC and precision measure the segmentation against itself.
The seed preset keeps them (it reproduces the notebook, and says so); anywhere else a score on the
segment flag is never presented as performance.
"""

from __future__ import annotations

CIRCULAR = ("No performance figures are shown: the score predicts membership of the high-risk (more delinquent) "
            "segments, which were formed from the same fields the model learns from, so ROC-AUC, precision and "
            "their curves would measure the segments against themselves, not recovery. Do not use this score to "
            "order the work. To score real risk, choose an outcome with both good and bad cases (Data page; "
            "--outcome/--bad, or --recovered with --bad-below on the command line).")


def performance_shown(target: str, preset: str) -> bool:
    """True when the score's metrics measure a real outcome, or the seed preset reproduces the notebook's."""
    return target != "segment" or preset == "seed"


def performance_note(target: str, preset: str) -> str | None:
    """The prominent note for a score that is not a performance measure (None when it is one)."""
    return None if performance_shown(target, preset) else CIRCULAR
