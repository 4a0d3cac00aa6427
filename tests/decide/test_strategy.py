"""Recovery strategies: the notebook's labels and thresholds, totals that add up, a worklist in action order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import SEED_STRATEGIES, RecoveryConfig
from core.decide import assign_strategy, strategy_summary, worklist
from core.errors import RecoveryError

LEGAL = "Immediate legal notices & aggressive recovery attempts"
SETTLEMENT = "Settlement offers & repayment plans"
REMINDERS = "Automated reminders & monitoring"


def test_default_labels_are_the_notebooks_verbatim():
    assert RecoveryConfig().strategy_labels == (LEGAL, SETTLEMENT, REMINDERS)
    assert RecoveryConfig.seed().strategy_labels == (LEGAL, SETTLEMENT, REMINDERS)


@pytest.mark.parametrize(
    "score, expected",
    [(0.76, LEGAL), (0.75, SETTLEMENT), (0.50, SETTLEMENT), (0.4999, REMINDERS),
     (1.0, LEGAL), (0.0, REMINDERS)],
)
def test_thresholds_follow_the_notebook(score, expected):
    assert assign_strategy(np.array([score]), RecoveryConfig())[0] == expected


@settings(max_examples=200, deadline=None)
@given(
    score=st.floats(0, 1),
    settlement=st.floats(0, 1),
    gap=st.floats(0, 1),
)
def test_edited_thresholds_are_applied(score, settlement, gap):
    legal = min(1.0, settlement + gap)
    config = RecoveryConfig().with_(settlement_threshold=settlement, legal_threshold=legal,
                                    strategy_labels=("L", "S", "R"))
    got = assign_strategy(np.array([score]), config)[0]
    assert got == ("L" if score > legal else "S" if score >= settlement else "R")


def test_custom_labels_are_used(default_result):
    config = RecoveryConfig().with_(strategy_labels=("Court", "Call", "SMS"))
    labels = assign_strategy(default_result.scored["Risk_Score"].to_numpy(), config)
    assert set(labels) <= {"Court", "Call", "SMS"}


def test_settlement_above_legal_is_refused():
    with pytest.raises(RecoveryError, match=r"settlement \(0\.8\).*legal \(0\.6\)"):
        RecoveryConfig().with_(settlement_threshold=0.8, legal_threshold=0.6)


@pytest.mark.parametrize("changes", [{"legal_threshold": 1.2}, {"settlement_threshold": -0.1}])
def test_thresholds_outside_0_1_are_refused(changes):
    with pytest.raises(RecoveryError, match="threshold"):
        RecoveryConfig().with_(**changes)


def test_blank_label_is_refused():
    with pytest.raises(RecoveryError, match="label"):
        RecoveryConfig().with_(strategy_labels=(LEGAL, "  ", REMINDERS))


def test_duplicate_labels_are_refused():
    with pytest.raises(RecoveryError, match="label"):
        RecoveryConfig().with_(strategy_labels=("Call", "Call", "SMS"))


def test_summary_counts_and_money_add_up(default_result):
    scored, summary = default_result.scored, default_result.strategies
    assert list(summary["Recovery strategy"]) == [LEGAL, SETTLEMENT, REMINDERS]
    assert summary["Borrowers"].sum() == len(scored)
    assert summary["Share of borrowers"].sum() == pytest.approx(1.0)
    assert summary["Outstanding"].sum() == pytest.approx(scored["Outstanding_Loan_Amount"].sum())
    assert summary["Outstanding at risk"].sum() == pytest.approx(scored["Outstanding_At_Risk"].sum())
    for row in summary.itertuples():
        group = scored[scored["Recovery_Strategy"] == row[1]]
        assert row.Borrowers == len(group)


def test_summary_reports_actual_outcome_per_strategy(default_result):
    summary = default_result.strategies.set_index("Recovery strategy")
    rates = summary["Actual not-fully-recovered rate"]
    assert rates.between(0, 1).all()
    # an informative score puts the most bad outcomes under legal action
    assert rates[LEGAL] > rates[SETTLEMENT] > rates[REMINDERS]


def test_summary_of_changed_thresholds_still_adds_up(default_result):
    config = RecoveryConfig().with_(settlement_threshold=0.2, legal_threshold=0.9)
    scored = default_result.scored.copy()
    scored["Recovery_Strategy"] = assign_strategy(scored["Risk_Score"].to_numpy(), config)
    summary = strategy_summary(scored, config.strategy_labels)
    assert summary["Borrowers"].sum() == len(scored)


def test_worklist_puts_legal_first_then_most_money_at_risk(default_result):
    config = default_result.config
    work = worklist(default_result.scored, config.strategy_labels)
    assert len(work) == len(default_result.scored)
    assert set(work.index) == set(default_result.scored.index)
    rank = work["Recovery_Strategy"].map({s: i for i, s in enumerate(config.strategy_labels)})
    assert rank.is_monotonic_increasing
    assert work["Recovery_Strategy"].iloc[0] == LEGAL
    for _, group in work.groupby(rank, sort=False):
        assert group["Outstanding_At_Risk"].is_monotonic_decreasing


def test_worklist_selection_filters_actions_segments_scores_and_ids(default_result):
    from core.decide import select_borrowers, worklist_view

    scored = default_result.scored
    names = sorted(scored["Segment_Name"].unique())
    everyone = select_borrowers(scored, list(SEED_STRATEGIES), names, (0.0, 1.0), "")
    assert len(everyone) == len(scored)
    legal = select_borrowers(scored, [SEED_STRATEGIES[0]], names, (0.9, 1.0), "")
    assert set(legal["Recovery_Strategy"]) == {SEED_STRATEGIES[0]} and (legal["Risk_Score"] >= 0.9).all()
    one = select_borrowers(scored, list(SEED_STRATEGIES), names, (0.0, 1.0), " ln_17 ")
    assert set(one["Loan_ID"]) == {i for i in scored["Loan_ID"] if "ln_17" in i.lower()} and len(one) > 0
    view = worklist_view(everyone, SEED_STRATEGIES, limit=50)
    assert len(view) == 50 and list(view.columns[:4]) == ["File_Row", "Borrower_ID", "Loan_ID", "Recovery_Strategy"]


@pytest.mark.parametrize("share", [0.0, 0.5, 0.9])  # one action for nearly all; the riskiest as all; apart
def test_a_strategy_text_column_gets_the_crowding_sentence_of_its_values(share):
    """The CLI passes the table's text column as it is; it reads as the plan's own array does."""
    import pandas as pd

    from core.decide import crowded_note
    scores = np.linspace(0, 1, 1000)
    plan = np.where(scores > share, "Legal action", np.where(scores > 0.2, "Reminder", "Settlement offer")).astype(object)
    plan[scores > 0.97] = "Reminder"  # the riskiest mostly get what everyone gets once the reminders lead
    column = pd.Series(plan, dtype="str")
    assert crowded_note(column, scores) == crowded_note(plan, scores)
    assert crowded_note(pd.Series(plan[::-1], dtype="str"), scores[::-1]) == crowded_note(plan, scores)
