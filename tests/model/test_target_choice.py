"""A share the user sets for 'bad' is used as given or refused in words; a reversed, signal-free score is named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.commands import honour_bad_below
from core.data.roles import recovered_outcome
from core.errors import RecoveryError
from core.model.trust import Trust, ordering_note


def _outcome(shares: list[float], bad_below: float = 1.0):
    frame = pd.DataFrame({"Outstanding_Loan_Amount": [1000.0] * len(shares),
                          "recovery_amount": [1000.0 * s for s in shares]})
    return recovered_outcome(frame, "recovery_amount", "Outstanding_Loan_Amount", bad_below, None)


NOBODY_IN_FULL = [0.1, 0.2, 0.3, 0.6, 0.7, 0.9]


def test_the_default_falls_back_to_half_recovered_with_a_note_and_is_not_refused():
    outcome = _outcome(NOBODY_IN_FULL)
    assert outcome.bad_below == 0.5 and "Nobody in this file is recovered in full" in outcome.note
    honour_bad_below(None, outcome)  # not given: the fallback, said in the note, stands


def test_an_explicit_full_recovery_share_that_leaves_nothing_to_learn_stops_in_words():
    with pytest.raises(RecoveryError) as stop:
        honour_bad_below(1.0, _outcome(NOBODY_IN_FULL))
    said = str(stop.value)
    assert said.startswith("--bad-below 1: every borrower counts as bad at a recovered share below 100%")
    assert "nothing can be learned" in said
    assert "Choose a lower --bad-below, e.g. 0.5 (3 of 6 loans recovered less than 50%)" in said


def test_an_explicit_share_that_leaves_both_classes_is_used_as_given():
    honour_bad_below(0.5, _outcome(NOBODY_IN_FULL, 0.5))
    honour_bad_below(1.0, _outcome([0.2, 1.0, 1.0, 0.4]))


def test_an_explicit_share_below_every_loan_stops_too():
    with pytest.raises(RecoveryError, match=r"no borrower counts as bad at a recovered share below 5%.*higher"):
        honour_bad_below(0.05, _outcome(NOBODY_IN_FULL, 0.05))


def _trust(auc: float, low: float, high: float) -> Trust:
    return Trust(auc, low, high, 500, None)


SPREAD = np.linspace(0.05, 0.95, 200)


def test_a_signal_free_model_reversed_by_calibration_is_named():
    note = ordering_note(_trust(0.51, 0.46, 0.56), [-0.6, 0.2, -0.1], SPREAD)
    assert note.startswith("The model finds no signal in this file: its out-of-fold ROC-AUC is 0.51 "
                           "(95% interval 0.46–0.56")
    assert "reversed the model's ordering in 2 of 3 folds" in note and "flattened" not in note
    assert "do not rank borrowers by this score" in note


def test_flattened_scores_are_named_with_their_spread():
    flat = np.linspace(0.40, 0.42, 200)
    note = ordering_note(_trust(0.49, 0.44, 0.54), [0.3, 0.2], flat)
    assert "flattened the scores (half the borrowers score between 40% and 42%)" in note
    assert "reversed" not in note


@pytest.mark.parametrize(("found", "slopes", "scores"), [
    (_trust(0.82, 0.80, 0.84), [-0.2, 1.1], SPREAD),  # a real signal: calibration is not the story
    (_trust(0.51, 0.46, 0.56), [0.9, 1.1], SPREAD),  # no signal, but the order is the model's own
    (None, [-1.0], SPREAD),  # no outcome to check against
])
def test_no_note_when_the_order_is_the_models_or_the_model_has_signal(found, slopes, scores):
    assert ordering_note(found, slopes, scores) is None
