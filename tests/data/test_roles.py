"""Column roles: how unmapped columns are typed, which outcome is suggested, what the leakage screen flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data import add_ratios, leakage, roles
from core.data.features import safe_ratio
from core.errors import RecoveryError
from core.model import metrics


def _column(*cells) -> pd.Series:
    return pd.Series(list(cells), index=range(2, 2 + len(cells)), dtype="str")


def test_numbers_with_written_missing_values_are_numbers():
    typed = roles.type_column("balance", _column("1,200.50", "N/A", "300", None, "-", "45"), ",")
    assert typed.kind == "number"
    assert typed.values.tolist()[:3] == [1200.5, pytest.approx(np.nan, nan_ok=True), 300.0]
    assert typed.values.isna().sum() == 3 and typed.unread == 0


def test_dates_are_read_in_the_format_their_cells_show():
    typed = roles.type_column("opened", _column("31/01/2024", "15/02/2024", "01/03/2024"), ",")
    assert typed.kind == "date"
    assert typed.values.dt.strftime("%Y-%m-%d").tolist() == ["2024-01-31", "2024-02-15", "2024-03-01"]


def test_identifiers_free_text_and_empty_columns_are_left_out_with_the_reason():
    n = 60
    ids = roles.type_column("contract_ref", _column(*[f"C-{i:04d}" for i in range(n)]), ",")
    numbered = roles.type_column("customer_no", _column(*[str(1000 + i) for i in range(n)]), ",")
    prose = roles.type_column("notes", _column(*[f"called on day {i}, customer asked for a week" for i in range(n)]), ",")
    empty = roles.type_column("spare", _column(None, "", "  "), ",")
    assert (ids.kind, ids.why) == ("identifier", "identifier-like: a different value on nearly every row")
    assert (numbered.kind, numbered.why) == ("identifier", "identifier-like: a different number on nearly every row")
    assert (prose.kind, prose.why) == ("free text", "free text: too varied to learn from")
    assert (empty.kind, empty.why) == ("empty", "empty: no value in any row")


def test_a_category_keeps_every_written_value():
    typed = roles.type_column("guarantor", _column("none", "co-applicant", "none", "guarantor", None), ",")
    assert typed.kind == "category"
    assert typed.values.tolist()[:4] == ["none", "co-applicant", "none", "guarantor"]
    assert pd.isna(typed.values.iloc[4])


@pytest.mark.parametrize(("name", "protected", "after"), [
    ("Gender", True, False), ("personal_status_and_sex", True, False), ("MaritalStatus", True, False),
    ("foreign_worker", True, False), ("Religion", True, False), ("Essex_branch", False, False),
    ("num_contact_attempts", False, True), ("last_contact_outcome", False, True), ("Recovery_Amount", False, True),
    ("write_off_date", False, True), ("Legal_Action_Taken", False, True), ("days_past_due", False, False),
])
def test_protected_and_post_delinquency_fields_are_known_by_name(name, protected, after):
    assert roles.is_protected(name) is protected
    assert roles.is_post_delinquency(name) is after


def test_the_suggested_outcome_and_its_bad_values_come_from_the_words():
    frame = pd.DataFrame({"loan_status": ["Charged Off", "Fully Paid", "Current", "Charged Off"],
                          "grade": ["A", "B", "A", "C"]}, dtype="str")
    assert roles.suggest_outcome(frame, ["grade", "loan_status"]) == ("loan_status", None)
    outcome = roles.category_outcome(frame, "loan_status", None)
    assert outcome.bad == ("Charged Off",)
    assert outcome.y.tolist() == [1.0, 0.0, 0.0, 1.0]
    assert outcome.values == (("Charged Off", 2), ("Fully Paid", 1), ("Current", 1))
    money = pd.DataFrame({"amount_recovered": ["1"], "grade": ["A"]})
    assert roles.suggest_outcome(money, ["grade", "amount_recovered"]) == (None, "amount_recovered")


def test_an_unknown_bad_value_names_the_values_there_are():
    frame = pd.DataFrame({"Recovery_Status": ["Default", "Recovered", None]}, dtype="str")
    with pytest.raises(RecoveryError) as caught:
        roles.category_outcome(frame, "Recovery_Status", ("Written Off",))
    assert str(caught.value) == ("The outcome column 'Recovery_Status' has no value 'Written Off'; its values are "
                                 "'Default', 'Recovered': choose the bad ones among them.")


def test_an_amount_recovered_needs_the_exposure():
    frame = pd.DataFrame({"recovered": ["10", "20"]}, dtype="str")
    with pytest.raises(RecoveryError, match="map a column to Outstanding_Loan_Amount"):
        roles.recovered_outcome(frame, "recovered", None, 1.0, ",")


def test_single_field_auc_is_the_auc_of_each_borrowers_out_of_fold_rate():
    rng = np.random.default_rng(3)
    x = pd.Series(rng.normal(size=3000).round(1))
    y = (rng.random(3000) < 1 / (1 + np.exp(-1.5 * x))).astype(float)
    codes, fold = leakage._codes(x), np.random.default_rng(0).integers(0, 5, 3000)
    rate = np.empty(3000)
    for f in range(5):
        train = fold != f
        bad = np.bincount(codes[train], weights=y[train], minlength=codes.max() + 1)
        seen = np.bincount(codes[train], minlength=codes.max() + 1)
        rate[~train] = ((bad + y.mean()) / (seen + 1))[codes[~train]]
    assert leakage.single_field_auc(x, y) == pytest.approx(metrics.roc_auc(y.astype(int), rate), abs=1e-12)


def test_a_spike_of_zeros_is_its_own_bin():
    # outstanding = loan - recovered: zero for every recovered loan, small or large for the others
    y = np.r_[np.zeros(600), np.ones(400)]
    outstanding = pd.Series(np.r_[np.zeros(600), np.linspace(1, 5000, 400)])
    assert leakage.single_field_auc(outstanding, y) == pytest.approx(1.0)


def test_the_leakage_screen_flags_the_same_fields_whatever_the_row_order():
    rng = np.random.default_rng(5)
    n = 4000
    y = (rng.random(n) < 0.3).astype(float)
    frame = pd.DataFrame({"after": y * rng.uniform(1, 2, n), "noise": rng.normal(size=n),
                          "weak": y + rng.normal(scale=1.5, size=n)})
    flagged = leakage.leakage_screen(frame, y, list(frame.columns))
    shuffled = rng.permutation(n)
    again = leakage.leakage_screen(frame.iloc[shuffled].reset_index(drop=True), y[shuffled], list(frame.columns))
    assert flagged.keys() == again.keys() == {"after"}
    assert flagged["after"] == pytest.approx(again["after"])


def test_the_roles_table_says_what_each_column_is_used_for(demo_frame):
    rows = demo_frame.assign(branch=np.where(np.arange(len(demo_frame)) % 2, "North", "South"))
    _, used = roles.assign(rows, add_ratios(rows))
    table = used.table.set_index("Column")
    assert table.loc["branch", ["Read as", "Used as", "Why"]].tolist() == ["category", "feature", ""]
    assert table.loc["Borrower_ID", "Used as"] == "identifier"
    assert table.loc["EMI_To_Income", ["Read as", "Used as"]].tolist() == ["ratio", "feature"]
    assert "branch" in used.categorical and "Gender" not in used.categorical
    assert used.leaks == {}


def test_a_date_column_is_learned_from_as_its_age_at_the_latest_date():
    rows = pd.DataFrame({"opened": ["2024-01-01", "2024-03-01", None, "2024-01-31"],
                         "branch": ["N", "S", "N", "S"]}, index=range(2, 6), dtype="str")
    features, used = roles.assign(rows, rows.copy())
    assert features["opened (age in days)"].tolist()[:2] == [60.0, 0.0]
    assert np.isnan(features["opened (age in days)"].iloc[2]) and features["opened (age in days)"].iloc[3] == 30.0
    assert "opened (age in days)" in used.numeric


def _switched_as_a_table(rows, off, include) -> pd.DataFrame:
    """The roles table switched as the table itself once was, mask by mask: what the rows' way must equal."""
    table = pd.DataFrame(rows, columns=["Column", "Read as", "Used as", "Why"])
    for name, why in off.items():
        at = table["Column"] == name.removesuffix(roles.AGE_SUFFIX)
        if name not in include:
            table.loc[at, "Why"] = why
            table.loc[at & (table["Used as"] == "feature"), "Used as"] = "not learned from"
            table.loc[at & (table["Used as"] == "exposure and feature"), "Used as"] = "exposure only"
    for name in include:
        on = (table["Column"] == name.removesuffix(roles.AGE_SUFFIX)) & table["Used as"].isin(
            ["feature", "exposure and feature"])
        table.loc[on, "Why"] = roles.INCLUDED_WHY
    return table


@pytest.mark.parametrize("include", [(), ("Gender",), ("Opened",), ("Opened (age in days)", "Outstanding_Loan_Amount")])
def test_fields_switched_off_and_on_say_so_in_the_roles_table(include):
    rows = [("Loan_ID", "identifier", "identifier", "names the borrower"), ("Gender", "category", "feature", ""),
            ("Outstanding_Loan_Amount", "number", "exposure and feature", ""), ("Opened", "date", "feature", "as age"),
            ("Collection_Attempts", "number", "feature", ""), ("EMI_To_Income", "ratio", "feature", "")]
    off = {"Gender": roles.PROTECTED_WHY, "Collection_Attempts": roles.COLLECTION_WHY,
           "Opened (age in days)": roles.EXCLUDED_WHY, "Outstanding_Loan_Amount": "leaks: AUC 0.99",
           "EMI_To_Income": roles.EXCLUDED_WHY, "Collection_Attempts (age in days)": "never a column here"}
    got = pd.DataFrame(roles._switched(rows, off, include), columns=["Column", "Read as", "Used as", "Why"])
    pd.testing.assert_frame_equal(got, _switched_as_a_table(rows, off, include))
    used = dict(zip(got["Column"], got["Used as"]))
    assert used["Gender"] == ("feature" if "Gender" in include else "not learned from")
    assert used["Outstanding_Loan_Amount"] == (
        "exposure and feature" if "Outstanding_Loan_Amount" in include else "exposure only")


def test_a_ratio_of_two_float_columns_is_pandas_division_with_no_denominator_at_or_below_zero():
    top = pd.Series([1.0, 2.0, -0.0, np.nan, np.inf, 5.0, 7.0, 0.0], index=range(2, 10))
    bottom = pd.Series([3.0, 0.0, 2.0, 4.0, np.inf, -1.0, np.nan, 1e-320], index=range(2, 10))
    got = safe_ratio(top, bottom)
    expected = (top / bottom.where(bottom > 0)).astype("float64")
    pd.testing.assert_series_equal(got, expected, check_exact=True)
    assert np.signbit(got.iloc[2]) and got.isna().tolist() == [False, True, False, True, True, True, True, False]
