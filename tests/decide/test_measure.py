"""Measuring a planned month: the optimised group against the champion group, with intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.decide import Action, borrowers_needed, champion_group, measure_plan, measurement_table, solve
from core.errors import RecoveryError
from sample_data.action_history import METHODS, new_month, realised

ACTIONS = (Action("Calls", 50.0, None, 0.9, 0.1), Action("Settlement Offer", 1500.0, 1200, 0.8, 0.4),
           Action("Legal Notice", 5000.0, 600, 0.8, 0.5), Action("Debt Collectors", 3000.0, 1000, 0.7, 0.3))


@pytest.fixture(scope="module")
def planned():
    """A month of 12,000: champion (20%) all on calls, the rest on the plan the true effects make."""
    frame, truth = new_month(12_000, seed=31)
    held = champion_group(frame["Loan_ID"], 0.2, "salt")
    owed = frame["Outstanding_Loan_Amount"].to_numpy()
    costs = np.array([a.cost for a in ACTIONS])
    values = owed[:, None] * truth[list(METHODS)].to_numpy() - costs
    choice = np.zeros(len(frame), dtype=int)
    choice[~held] = solve(values[~held], [a.capacity for a in ACTIONS]).choice
    download = frame[["Loan_ID", "Outstanding_Loan_Amount"]].copy()
    download["Recovery_Strategy"] = np.asarray(METHODS, dtype=object)[choice]
    download["Test_Group"] = np.where(held, "champion", "challenger")
    download["Expected_Net_Recovery"] = values[np.arange(len(frame)), choice]
    true_uplift = values[~held, choice[~held]].mean() - values[held, choice[held]].mean()
    return frame, truth, download, true_uplift


def _with_outcomes(planned, seed: int) -> pd.DataFrame:
    frame, truth, download, _ = planned
    amount, _ = realised(np.random.default_rng(seed), frame, download["Recovery_Strategy"].to_numpy(), truth)
    return download.assign(Amount_Recovered=amount)


def test_measurement_recovers_a_known_uplift_within_its_interval(planned):
    true_uplift = planned[3]
    covered = []
    for seed in range(20):
        m = measure_plan(_with_outcomes(planned, seed), "Amount_Recovered", ACTIONS)
        covered.append(m.overall.money_low <= true_uplift <= m.overall.money_high)
    assert sum(covered) >= 17  # a 95% interval: at most a few misses in 20 months
    m = measure_plan(_with_outcomes(planned, 0), "Amount_Recovered", ACTIONS)
    assert m.net and m.expected_uplift == pytest.approx(true_uplift)
    assert m.overall.money_low > 0 and m.overall.p_value < 0.05
    assert m.overall.share_low > 0  # the optimised group repaid a larger share of what it owed
    assert m.borrowers_needed < 12_000
    assert m.verdict().startswith("The optimised plan brought ")
    assert "more net recovery per borrower than the champion rule" in m.verdict()


def test_the_table_has_all_borrowers_then_each_action_with_both_groups(planned):
    data = _with_outcomes(planned, 1)
    m = measure_plan(data, "Amount_Recovered")  # without the actions: money is gross recovery
    table = measurement_table(m)
    assert table["Scope"].iloc[0] == "All borrowers"
    assert set(table["Scope"].iloc[1:]) == set(data["Recovery_Strategy"])
    held = data["Test_Group"] == "champion"
    assert table["Champion borrowers"].iloc[0] == held.sum()
    assert table["Optimised recovered"].iloc[0] == pytest.approx(data.loc[~held, "Amount_Recovered"].sum())
    calls = table.set_index("Scope").loc["Calls"]
    assert calls["Champion borrowers"] == held.sum()  # the champion group is all on calls here
    compared = table["Uplift per borrower"].notna()
    assert (table.loc[compared, "Uplift 95% from"] <= table.loc[compared, "Uplift per borrower"]).all()
    # an action the champion rule never gave has nothing to be compared with
    assert (table.loc[~compared, "Champion borrowers"] < 2).all() and (~compared).sum() == 3
    assert not m.net


def test_no_uplift_when_both_groups_get_the_same_plan(planned):
    data = _with_outcomes(planned, 2)
    data["Recovery_Strategy"] = "Calls"
    frame, truth = planned[0], planned[1]
    amount, _ = realised(np.random.default_rng(9), frame, data["Recovery_Strategy"].to_numpy(), truth)
    m = measure_plan(data.assign(Amount_Recovered=amount), "Amount_Recovered", ACTIONS)
    # expected: zero uplift; the interval holds it (this seed) and the verdict says chance
    assert m.overall.money_low <= 0 <= m.overall.money_high
    assert "is within chance" in m.verdict()


def test_sample_size_matches_the_textbook_two_group_formula():
    # equal groups, sd 1, effect 0.5: 63 per group at 80% power, 5% two-sided
    assert borrowers_needed(0.5, 1.0, 1.0, 0.5) == 126
    assert borrowers_needed(0.0, 1.0, 1.0, 0.5) == float("inf")
    # a smaller champion group needs more borrowers in total for the same effect
    assert borrowers_needed(0.5, 1.0, 1.0, 0.1) > 126


def test_measuring_errors_name_the_column_and_the_group(planned):
    data = _with_outcomes(planned, 3)
    with pytest.raises(RecoveryError, match=r"no 'Repaid' column"):
        measure_plan(data, "Repaid")
    with pytest.raises(RecoveryError, match=r"0 champion and"):
        measure_plan(data.assign(Test_Group="challenger"), "Amount_Recovered")
    with pytest.raises(RecoveryError, match=r"gives 'Calls', which the action table does not have"):
        measure_plan(data, "Amount_Recovered", ACTIONS[1:])
