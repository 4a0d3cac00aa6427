"""The bundled demo portfolio: notebook-shaped, reproducible, and with an outcome worth modelling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from core.data.schema import BY_NAME, CATEGORY_FIELDS, FIELDS
from sample_data.generate import COLUMNS, DEFAULT_PATH, generate_portfolio, main, write_csv

NOTEBOOK_COLUMNS = [f.name for f in FIELDS]


@pytest.fixture(scope="module")
def demo() -> tuple[pd.DataFrame, np.ndarray]:
    return generate_portfolio()


@pytest.fixture(scope="module")
def df(demo) -> pd.DataFrame:
    return demo[0]


def not_fully_recovered(df: pd.DataFrame) -> pd.Series:
    return df["Recovery_Status"] != "Fully Recovered"


def test_shape_and_column_order_match_the_notebook(df):
    assert len(df) >= 1000
    assert list(df.columns) == NOTEBOOK_COLUMNS == list(COLUMNS)


def test_ids_are_notebook_style_and_unique(df):
    assert df["Borrower_ID"].iloc[0] == "BRW_1" and df["Loan_ID"].iloc[-1] == f"LN_{len(df)}"
    assert df["Borrower_ID"].is_unique and df["Loan_ID"].is_unique


@pytest.mark.parametrize("column", CATEGORY_FIELDS)
def test_category_values_are_the_schema_values(df, column):
    values = set(df[column].unique())
    assert values <= set(BY_NAME[column].allowed)
    assert len(values) == len(BY_NAME[column].allowed), f"{column} should use every category"


def test_numeric_ranges_resemble_the_notebook(df):
    assert df["Age"].between(21, 64).all()
    assert df["Monthly_Income"].between(15_000, 250_000).all()
    assert df["Loan_Amount"].between(50_000, 2_000_000).all()
    assert set(df["Loan_Tenure"]) <= {12, 24, 36, 48, 60, 72}
    assert df["Interest_Rate"].between(5, 18).all()
    assert df["Num_Missed_Payments"].between(0, 12).all()
    assert df["Days_Past_Due"].between(0, 180).all()
    assert df["Collection_Attempts"].between(0, 10).all()
    for col in ("Age", "Monthly_Income", "Loan_Amount", "Num_Missed_Payments", "Days_Past_Due"):
        assert pd.api.types.is_integer_dtype(df[col]), col


def test_balances_are_consistent(df):
    assert (df["Outstanding_Loan_Amount"] <= df["Loan_Amount"]).all()
    assert (df["Outstanding_Loan_Amount"] > 0).all()
    personal = df["Loan_Type"] == "Personal"
    assert (df.loc[personal, "Collateral_Value"] == 0).all()
    assert (df.loc[~personal, "Collateral_Value"] > 0).all()


def test_emi_follows_the_annuity_formula(df):
    r = df["Interest_Rate"] / 1200
    expected = df["Loan_Amount"] * r / (1 - (1 + r) ** -df["Loan_Tenure"])
    assert np.allclose(df["Monthly_EMI"], expected, atol=0.02)


def test_days_past_due_follow_missed_payments(df):
    assert (df.loc[df["Num_Missed_Payments"] == 0, "Days_Past_Due"] == 0).all()
    by_history = df.groupby("Payment_History")["Days_Past_Due"].mean()
    assert by_history["On-Time"] < by_history["Delayed"] < by_history["Missed"]


def test_same_seed_same_portfolio_other_seed_differs():
    a, pa = generate_portfolio(300, seed=11)
    b, pb = generate_portfolio(300, seed=11)
    c, _ = generate_portfolio(300, seed=12)
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_array_equal(pa, pb)
    assert not a.equals(c)


def test_committed_csv_is_what_the_generator_writes(df, tmp_path):
    fresh = write_csv(df, tmp_path / "demo.csv")
    assert DEFAULT_PATH.read_bytes() == fresh.read_bytes(), (
        "sample_data/demo_portfolio.csv is stale: run `python sample_data/generate.py`"
    )


def test_committed_csv_reads_back_as_the_generated_frame(df):
    back = pd.read_csv(DEFAULT_PATH)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)


def test_script_writes_where_asked(tmp_path, capsys):
    target = tmp_path / "out.csv"
    assert main([str(target)]) == 0
    assert target.read_bytes() == DEFAULT_PATH.read_bytes()
    assert "2000 rows" in capsys.readouterr().out


def test_missed_payers_recover_less_than_on_time_payers(df):
    fully = df["Recovery_Status"] == "Fully Recovered"
    share = fully.groupby(df["Payment_History"]).mean()
    assert share["Missed"] < share["Delayed"] < share["On-Time"]
    assert share["On-Time"] - share["Missed"] > 0.3


def test_long_arrears_are_written_off_more(df):
    written_off = df["Recovery_Status"] == "Written Off"
    late = df["Days_Past_Due"] > 90
    assert written_off[late].mean() > 2 * written_off[~late].mean()


def test_outcome_is_learnable_but_not_trivial(demo):
    df, true_prob = demo
    y = not_fully_recovered(df)
    assert 0.35 <= y.mean() <= 0.50
    assert 0.78 <= roc_auc_score(y, true_prob) <= 0.90
    assert 0.05 <= (df["Recovery_Status"] == "Written Off").mean() <= 0.25
    assert ((true_prob > 0) & (true_prob < 1)).all()


def test_gender_carries_no_risk(demo):
    df, true_prob = demo
    by_gender = pd.Series(true_prob).groupby(df["Gender"].to_numpy()).mean()
    assert abs(by_gender["Male"] - by_gender["Female"]) < 0.04


def test_collection_fields_leak_the_outcome(df):
    attempts = df.groupby("Recovery_Status")["Collection_Attempts"].mean()
    assert attempts["Written Off"] > attempts["Partially Recovered"] > attempts["Fully Recovered"]
    legal = (df["Legal_Action_Taken"] == "Yes").groupby(df["Recovery_Status"]).mean()
    assert legal["Written Off"] > 5 * legal["Fully Recovered"]
    notices = (df["Collection_Method"] == "Legal Notice").groupby(df["Recovery_Status"]).mean()
    assert notices["Written Off"] > notices["Fully Recovered"]
