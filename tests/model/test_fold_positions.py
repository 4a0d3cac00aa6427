"""Folds run over a fold order by row positions give exactly what a fold-ordered copy of the rows gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.config import RecoveryConfig
from core.model import explain, risk
from core.pipeline import prepare
from sample_data.generate import generate_portfolio

NUMERIC = ["Age", "Monthly_Income", "Loan_Amount", "Monthly_EMI", "Days_Past_Due", "EMI_To_Income"]
CATEGORICAL = ["Employment_Type", "Payment_History"]
COLUMNS = NUMERIC + CATEGORICAL


@pytest.fixture(scope="module")
def shuffled():
    """A prepared book in file order, its outcome, and a fold order that is not the file's."""
    df, _ = generate_portfolio(1800, seed=5)
    frame = prepare(df, RecoveryConfig().roles).features
    y = (df["Recovery_Status"] != "Fully Recovered").to_numpy().astype("float64")
    y[::17] = np.nan  # borrowers without an outcome: scored and explained by the mean of the folds
    order = np.random.default_rng(5).permutation(len(frame))
    return frame, y, order


def _both(kind: str, shuffled):
    """The score stage's steps on a fold-ordered copy (the old way) and on positions, each in file order."""
    frame, y, order = shuffled
    groups = explain.field_groups(COLUMNS, frame)
    make = lambda: risk.make_model(kind, NUMERIC, CATEGORICAL, 3)  # noqa: E731
    copied = frame.iloc[order]
    old = risk.out_of_fold(make, copied[COLUMNS], y[order], 3, 3, True, train_max_rows=700)
    new = risk.out_of_fold(make, frame[COLUMNS], y[order], 3, 3, True, train_max_rows=700, positions=order)
    results = []
    for run, seen, at in ((old, copied, None), (new, frame, order)):
        explainers = [explain.Explainer(m, COLUMNS) for m in run.models]
        picks = explain.reason_picks(run, explainers, seen, groups, positions=at)
        if at is None:  # the copy's picks are in fold order: put back in file order, as the score stage did
            up, down = np.empty_like(picks.up), np.empty_like(picks.down)
            up[order], down[order] = picks.up, picks.down
            picks = explain.ReasonPicks(up, down, picks.groups)
        importance = explain.held_out_importance(run, explainers, seen, y[order], groups, 3, positions=at)
        scores = np.empty(len(frame))
        scores[order] = run.scores
        flagged = scores > 0.5
        words = list(explain.reasons(frame, picks, flagged))
        results.append((run, scores, picks, importance, words))
    return results


@pytest.mark.parametrize("kind", ["gradient_boosting", "logistic"])
def test_scores_reasons_and_importance_by_positions_are_those_of_the_fold_ordered_copy(kind, shuffled):
    (old, old_scores, old_picks, old_importance, old_words), (new, scores, picks, importance, words) = \
        _both(kind, shuffled)
    np.testing.assert_array_equal(new.fold, old.fold)  # the same borrowers in the same folds
    assert all(np.array_equal(a, b) for a, b in zip(new.test_rows, old.test_rows))
    np.testing.assert_array_equal(scores, old_scores)
    assert new.calibrations == old.calibrations
    np.testing.assert_array_equal(picks.up, old_picks.up)
    np.testing.assert_array_equal(picks.down, old_picks.down)
    pd.testing.assert_frame_equal(importance, old_importance)
    assert words == old_words
    # what a user would notice had the rows gone astray: reasons that name real fields, a useful ranking
    assert (picks.up >= 0).any() and any(w.startswith(("Days past due", "Payment history")) for w in words)
    assert importance["importance"].iloc[0] > 0
