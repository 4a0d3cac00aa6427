"""Explore and Data work while repeated Loan IDs await a decision; money carries the currency chosen on the Data page."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import APP, CORPUS, TIMEOUT, texts, visit

DUPLICATES = (CORPUS / "duplicate_loan_ids.csv").read_bytes()


@pytest.fixture(scope="module")
def waiting() -> AppTest:
    """A session that opened on the Data page (no demo analysis) and uploaded a file with repeated Loan IDs."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("app_pages/data.py")
    at.run()
    at.file_uploader[0].upload("repeats.csv", DUPLICATES, "text/csv")
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_data_page_shows_the_table_and_the_decision(waiting):
    assert not waiting.error
    assert any("repeat a Loan_ID" in r.label for r in waiting.radio)
    assert any(len(d.value) == 6 for d in waiting.dataframe)  # the preview: every row as read


def test_explore_draws_the_file_as_read_with_a_note_and_money_in_the_currency_chosen(waiting):
    waiting.text_input[0].input("€")
    waiting.run()
    visit(waiting, "app_pages/explore.py")
    assert not waiting.error
    assert any("await your decision on the Data page" in w and "show the file as read, every row counted" in w
               for w in texts(waiting.warning))
    assert waiting.get("plotly_chart")
    metrics = {m.label: m.value for m in waiting.metric}
    assert metrics["Borrowers"] == "6"
    assert metrics["Total outstanding"].startswith("€") and metrics["Total outstanding"].endswith("M")


@pytest.mark.parametrize("page", ["app_pages/segments.py", "app_pages/risk.py"])
def test_pages_that_need_unique_ids_point_to_the_data_page(waiting, page):
    visit(waiting, page)
    said = texts(waiting.error)
    assert said and said[0].startswith("2 row(s) have errors and await your decision on the Data page (repeated Loan IDs")


def _download_page() -> None:
    import numpy as np
    import pandas as pd
    import streamlit as st

    from ui.render import excel_download

    small = {"Summary": pd.DataFrame({"Policy": ["Plan"], "Expected net recovery": [1234.5]}),
             "Legal notices": pd.DataFrame({"Loan_ID": ["L1", "L2"]})}
    excel_download(st.container(), small, "plan.xlsx", "small", "€")
    excel_download(st.container(), {"Borrowers": pd.DataFrame({"a": np.zeros(1_048_576, dtype=np.int8)})},
                   "big.xlsx", "big")


def test_the_excel_download_says_what_it_holds_builds_on_request_and_refuses_a_table_too_big_in_words():
    at = AppTest.from_function(_download_page, default_timeout=TIMEOUT)
    at.run()
    assert "The Excel workbook holds 2 sheets, 3 rows in all: Summary (1 row); Legal notices (2 rows)." in texts(
        at.caption)
    assert texts(at.warning)[0].startswith("Excel holds at most 1,048,575 rows")
    assert texts(at.warning)[0].endswith("download CSV instead, which holds every row.")
    assert [b.label for b in at.button] == ["Build the Excel workbook"]  # none offered for the table too big
    at.button[0].click()
    at.run()
    assert not at.exception and not at.error
    assert [b.label for b in at.get("download_button")][0].startswith("Download the workbook (")
