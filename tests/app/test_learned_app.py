"""The app on a history with an action column: the Strategy page's learned plan, and the Measure a plan page."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.config import SEED_STRATEGIES
from core.decide import champion_group, measure_download, measurement_table, read_download
from sample_data.action_history import METHODS, generate_history, new_month, realised
from tests.helpers import opened, table, visit

LEGAL, SETTLEMENT, REMINDERS = SEED_STRATEGIES
_opened, _visit, _table = opened, visit, table


@pytest.fixture(scope="module")
def learned_page() -> AppTest:
    """A session on a 1,200-borrower history, planning with the actions linked to its methods."""
    history, _ = generate_history(1200, seed=21, overlap=False)  # legal notices only from 90 days past due
    at = _opened("app_pages/data.py")
    at.file_uploader[0].upload("history.csv", history.to_csv(index=False).encode(), "text/csv")
    at.run()
    _visit(at, "app_pages/strategy.py")
    next(t for t in at.toggle if t.label == "Plan actions by expected net recovery").set_value(True).run()
    next(b for b in at.button if b.label == "Link the actions to the history's methods").click().run()
    assert not at.exception, at.exception
    return at


def test_strategy_page_plans_on_what_the_history_says_each_action_achieves(learned_page):
    at = learned_page
    assert not at.error, [e.value for e in at.error]
    assert "What the history says each action achieves" in [h.value for h in at.subheader]
    assert any(c.value.startswith("This file records what was done (Calls, Debt Collectors, Legal Notice, "
                                  "Settlement Offer)") for c in at.caption)
    warnings = [w.value.replace("\\", "") for w in at.warning]
    legal = [w for w in warnings if w.startswith(f"'{LEGAL}': Legal Notice was never used for ")]
    assert len(legal) == 1 and "its effect there cannot be learned; it is not planned for them." in legal[0]

    sources = _table(at, "Learned from history").set_index("Action")
    assert list(sources.index) == [LEGAL, SETTLEMENT, REMINDERS, "No action"]
    assert (sources.sum(axis=1) == 1200).all()
    assert sources.loc["No action", "Your typed figures"] == 1200  # no history: its typed figures
    assert sources.loc[SETTLEMENT, "Learned from history"] == 1200
    assert sources.loc[LEGAL, "Not offered"] > 0

    support = _table(at, "History's method")
    assert set(support["Action"]) == {LEGAL, SETTLEMENT, REMINDERS}
    assert set(support["History's method"]) == {"Legal Notice", "Settlement Offer", "Calls"}
    history = support.groupby("Action")["History rows with this action"].sum()
    assert history[REMINDERS] == (generate_history(1200, seed=21, overlap=False)[0]["Collection_Method"]
                                  == "Calls").sum()
    shown = support.dropna(subset=["95% interval from"])
    assert ((shown["Learned share"] >= 0) & (shown["Learned share"] <= 1)).all()
    assert (shown["95% interval from"] <= shown["95% interval to"]).all()

    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    learned = next(c for c in charts if c["layout"]["title"]["text"].startswith("What each action recovers"))
    names = [t["name"].replace("<br>", " ").replace("&amp;", "&") for t in learned["data"]]
    assert sorted(names) == sorted([LEGAL, SETTLEMENT, REMINDERS])
    assert learned["layout"]["yaxis"]["title"]["text"] == "Share of the outstanding recovered"
    assert all(t["error_y"]["type"] == "data" for t in learned["data"])  # each point shows its interval

    summary = _table(at, "Recovery strategy")
    assert summary["Borrowers"].sum() == 1200
    assert summary.set_index("Recovery strategy").loc[LEGAL, "Borrowers"] <= 200


def test_one_borrower_table_says_where_each_value_comes_from(learned_page):
    options = _table(learned_page, "Expected share recovered")
    assert set(options["Action"]) == {LEGAL, SETTLEMENT, REMINDERS, "No action"}
    assert options.set_index("Action").loc["No action", "From"] == "typed"
    assert set(options["From"]) <= {"learned", "typed", "not offered"}
    assert options["Chosen"].sum() == 1
    offered = options.dropna(subset=["Expected net recovery"])
    assert np.allclose(offered["Expected net recovery"], offered["Expected recovery"] - offered["Cost"])


@pytest.fixture(scope="module")
def download() -> bytes:
    """A planned month's download with what each borrower repaid: champion on calls, the rest on the true best."""
    frame, truth = new_month(3000, seed=31)
    held = champion_group(frame["Loan_ID"], 0.2, "salt")
    owed = frame["Outstanding_Loan_Amount"].to_numpy()
    values = owed[:, None] * truth[list(METHODS)].to_numpy() - np.array([50.0, 1500.0, 5000.0, 3000.0])
    choice = np.where(held, 0, values.argmax(axis=1))
    plan = frame[["Loan_ID", "Outstanding_Loan_Amount"]].copy()
    plan["Recovery_Strategy"] = np.asarray(METHODS, dtype=object)[choice]
    plan["Test_Group"] = np.where(held, "champion", "challenger")
    plan["Expected_Net_Recovery"] = values[np.arange(len(frame)), choice]
    plan["Amount_Repaid"], _ = realised(np.random.default_rng(4), frame, plan["Recovery_Strategy"].to_numpy(), truth)
    return plan.to_csv(index=False).encode()


def test_measure_page_shows_the_measurement_and_its_verdict(download):
    at = _opened("app_pages/measure.py")
    assert "Upload the plan's download with an outcome column to start." in [i.value for i in at.info]
    at.file_uploader(key="measure_upload").upload("june_outcomes.csv", download, "text/csv")
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox[0].label == "Column holding what each borrower repaid"
    assert at.selectbox[0].value == "Amount_Repaid"
    expected = measure_download(read_download(download, "june_outcomes.csv"), "Amount_Repaid")
    shown = [s.value.replace("\\", "") for s in at.success]
    assert shown == [expected.verdict()]
    assert shown[0].startswith("The optimised plan brought ")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Optimised plan: share recovered"] == f"{expected.groups[1].share:.1%}"
    assert metrics["Champion (notebook rule): share recovered"] == f"{expected.groups[0].share:.1%}"
    assert metrics["Recovery uplift per borrower"] == f"{expected.overall.money:,.0f}"
    table = _table(at, "Uplift per borrower")
    pd.testing.assert_frame_equal(table.reset_index(drop=True), measurement_table(expected), check_dtype=False)
    assert table["Scope"].tolist()[0] == "All borrowers"
    assert table[["Champion borrowers", "Optimised borrowers"]].iloc[0].sum() == 3000
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download the measurement (CSV)", "Download the measurement report (HTML)"]
    _visit(at, "app_pages/data.py")
    next(t for t in at.text_input if t.label == "Currency shown on money").input("EUR")
    at.run()
    _visit(at, "app_pages/measure.py")
    at.file_uploader(key="measure_upload").upload("june_outcomes.csv", download, "text/csv")
    at.run()
    assert [s.value.replace("\\", "") for s in at.success] == [expected.verdict("EUR")]
    assert {m.label: m.value for m in at.metric}["Recovery uplift per borrower"] == \
        f"EUR {expected.overall.money:,.0f}"


def test_measure_page_names_a_file_that_is_not_a_plan():
    at = _opened("app_pages/measure.py")
    frame, _ = new_month(50, seed=1)
    at.file_uploader(key="measure_upload").upload("month.csv", frame.to_csv(index=False).encode(), "text/csv")
    at.run()
    assert not at.exception
    assert [e.value.replace("\\", "") for e in at.error] == [
        "month.csv has no Test_Group, Recovery_Strategy column: upload the plan's download (made with an action "
        "table and a champion group) with the amount each borrower repaid added."]
