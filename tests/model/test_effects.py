"""Action effects learned from history, proved against a generator whose true effects are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.decide import Action, actions_frame, actions_from_frame, read_actions, solve, total
from core.decide.learned import CLOSED, LEARNED, TYPED, borrower_values, learned_values
from core.errors import RecoveryError
from core.model import dpd_band, fit_effects
from sample_data.action_history import AMOUNT, METHODS, generate_history, new_month

N = 15_000
TABLE = (b"action,cost,capacity,method\n"
         b"Calls,50,,calls\n"
         b"Settlement,1500,1500,Settlement offer\n"
         b"Legal,5000,750,Legal  notice\n"
         b"Collectors,3000,1250,DEBT_COLLECTORS\n")
# the history's method each row of TABLE stands for, in order
STANDS_FOR = ["Calls", "Settlement Offer", "Legal Notice", "Debt Collectors"]


@pytest.fixture(scope="module")
def month():
    return new_month(N, seed=12)


@pytest.fixture(scope="module")
def history():
    return generate_history(N, seed=11, overlap=True)


@pytest.fixture(scope="module")
def learned(history):
    df, _ = history
    return fit_effects(df, "Collection_Method", AMOUNT, ids=df["Loan_ID"])


@pytest.fixture(scope="module")
def no_overlap():
    df, _ = generate_history(N, seed=21, overlap=False)
    return fit_effects(df, "Collection_Method", AMOUNT, ids=df["Loan_ID"])


def _true_values(frame: pd.DataFrame, truth: pd.DataFrame, actions) -> np.ndarray:
    """Expected net recovery of every action for every borrower, by the TRUE shares."""
    owed = frame["Outstanding_Loan_Amount"].to_numpy()
    return owed[:, None] * truth[STANDS_FOR].to_numpy() - np.array([a.cost for a in actions])


def _capture(values: np.ndarray, true_values: np.ndarray, capacities: list) -> tuple[float, np.ndarray]:
    """Share of the true optimum's gain over calls-for-all that a plan made from ``values`` captures."""
    choice = solve(values, capacities).choice
    best = total(true_values, solve(true_values, capacities).choice)
    cheapest = total(true_values, np.zeros(len(values), dtype=int))
    return (total(true_values, choice) - cheapest) / (best - cheapest), choice


def test_learned_plan_captures_most_of_the_true_optimum_and_beats_raw_past_results(history, learned, month):
    frame, truth = month
    actions = read_actions(TABLE, "actions.csv")
    capacities = [a.capacity for a in actions]
    true_values = _true_values(frame, truth, actions)
    values = learned_values(frame, np.zeros(len(frame)), actions, learned)
    assert (values.source == LEARNED).all() and values.messages == ()
    captured, choice = _capture(values.values, true_values, capacities)
    naive = fit_effects(history[0], "Collection_Method", AMOUNT, ids=history[0]["Loan_ID"], estimator="naive")
    raw, _ = _capture(learned_values(frame, np.zeros(len(frame)), actions, naive).values, true_values, capacities)
    assert captured >= 0.85
    assert captured >= raw + 0.10  # raw past shares by method × DPD band capture about 0.76 here
    counts = np.bincount(choice, minlength=len(actions))
    assert all(c <= cap for c, cap in zip(counts, capacities) if cap is not None)


def test_learned_shares_are_close_to_the_truth_and_band_intervals_cover_it(history, learned, month):
    frame, truth = month
    order = [learned.methods.index(m) for m in METHODS]
    error = learned.predict(frame)[:, order] - truth[list(METHODS)].to_numpy()
    assert np.sqrt(np.mean(error**2)) < 0.06  # raw past shares are 0.20 off
    df, history_truth = history
    support = learned.support
    assert set(support["Action"]) == set(METHODS) and len(support) == 4 * 5
    counts = support.groupby("Action")["History rows with this action"].sum()
    assert counts.to_dict() == df["Collection_Method"].value_counts().to_dict()
    band = dpd_band(df["Days_Past_Due"].to_numpy())
    covered = []
    for row in support.itertuples():
        true_mean = history_truth[row.Action].to_numpy()[band == row.Band].mean()
        covered.append(row[support.columns.get_loc("95% interval from") + 1] <= true_mean
                       <= row[support.columns.get_loc("95% interval to") + 1])
    assert np.mean(covered) >= 0.8


def test_without_overlap_the_message_names_legal_notice_and_the_borrowers_and_typed_figures_are_used(
        no_overlap, month):
    frame, truth = month
    below = frame["Days_Past_Due"].to_numpy() < 90
    typed = tuple(Action(a.name, a.cost, a.capacity, 0.4, 0.2, a.method) if a.name == "Legal" else a
                  for a in read_actions(TABLE, "actions.csv"))
    values = learned_values(frame, np.full(len(frame), 0.5), typed, no_overlap, typed="fallback")
    assert values.messages == (
        f"'Legal': Legal Notice was never used for borrowers with Days past due under 90 ({below.sum():,} in this "
        "file): its effect there cannot be learned; your own figures are used for them.",)
    legal = 2
    assert (values.source[below, legal] == TYPED).all() and (values.source[~below, legal] == LEARNED).all()
    assert np.allclose(values.shares[below, legal], 0.3)  # the typed line at risk 0.5

    overridden = learned_values(frame, np.full(len(frame), 0.5), typed, no_overlap)  # the default
    assert overridden.messages == () and (overridden.source[:, legal] == TYPED).all()

    untyped = read_actions(TABLE, "actions.csv")
    closed = learned_values(frame, np.zeros(len(frame)), untyped, no_overlap)
    assert closed.messages[0].endswith("it is not planned for them. Typing its recovery figures in the action "
                                       "table plans it for them too, but on your figures for every borrower.")
    assert (closed.source[below, legal] == CLOSED).all()
    choice = solve(closed.values, [a.capacity for a in untyped]).choice
    assert not np.any(choice[below] == legal)
    assert np.sum(choice == legal) <= 750


def test_with_overlap_no_borrower_is_reported_unlearnable(learned, month):
    assert learned.overlap_gaps(month[0]) == []


def test_learning_does_not_depend_on_row_order():
    df, _ = generate_history(3_000, seed=5, overlap=True)
    shuffled = df.sample(frac=1.0, random_state=3).reset_index(drop=True)
    month, _ = new_month(500, seed=6)
    a = fit_effects(df, "Collection_Method", AMOUNT, ids=df["Loan_ID"])
    b = fit_effects(shuffled, "Collection_Method", AMOUNT, ids=shuffled["Loan_ID"])
    assert np.array_equal(a.predict(month), b.predict(month))
    pd.testing.assert_frame_equal(a.support, b.support)


def test_one_borrower_table_says_where_each_value_comes_from(learned, month):
    frame, _ = month
    actions = read_actions(TABLE, "actions.csv")
    values = learned_values(frame, np.zeros(len(frame)), actions, learned)
    table = borrower_values(values, 0, float(frame["Outstanding_Loan_Amount"].iloc[0]), actions)
    assert set(table["From"]) == {LEARNED}
    assert table["Expected net recovery"].is_monotonic_decreasing
    row = table.iloc[0]
    assert row["Expected net recovery"] == pytest.approx(row["Expected recovery"] - row["Cost"])


def test_action_table_takes_a_method_and_empty_recovery_figures():
    actions = read_actions(TABLE, "actions.csv")
    assert [a.method for a in actions] == ["calls", "Settlement offer", "Legal  notice", "DEBT_COLLECTORS"]
    assert not any(a.typed for a in actions)
    assert actions_from_frame(actions_frame(actions)) == actions
    mixed = (b"action,cost,capacity,recovery_at_low_risk,recovery_at_high_risk,method\n"
             b"Legal,5000,10,0.8,0.4,Legal Notice\nNo action,0,,0.9,0.05,\n")
    legal, idle = read_actions(mixed, "a.csv")
    assert legal.typed and legal.method == "Legal Notice" and idle.method is None
    with pytest.raises(RecoveryError, match=r"row 2: give both recovery figures"):
        read_actions(b"action,cost,capacity,recovery_at_low_risk,recovery_at_high_risk,method\n"
                     b"Legal,5000,10,0.8,,Legal Notice\n", "a.csv")
    with pytest.raises(RecoveryError, match=r"row 2: recovery_at_low_risk is empty"):
        read_actions(b"action,cost,capacity,recovery_at_low_risk,recovery_at_high_risk\nLegal,5000,10,,\n", "a.csv")


def test_a_method_the_history_does_not_have_is_named_with_the_ones_it_has(learned, month):
    actions = (Action("Calls", 50, None, None, None, "Calls"), Action("SMS", 5, None, None, None, "Text message"))
    with pytest.raises(RecoveryError, match=r"row 3: method 'Text message' is not an action in the history "
                                            r"\(Calls, Debt Collectors, Legal Notice, Settlement Offer\)"):
        learned_values(month[0], np.zeros(len(month[0])), actions, learned)


def test_a_history_without_outcomes_or_actions_is_refused_in_words():
    df, _ = generate_history(200, seed=1)
    with pytest.raises(RecoveryError, match=r"no 'Channel' column"):
        fit_effects(df, "Channel", AMOUNT)
    df[AMOUNT] = np.nan
    with pytest.raises(RecoveryError, match=r"Only 0 borrowers have both an action"):
        fit_effects(df, "Collection_Method", AMOUNT)
