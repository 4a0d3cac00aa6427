"""Money carries the lender's currency everywhere it is printed, and reads exactly as before without one."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core.config import RecoveryConfig
from core.decide.actions import DEFAULT_ACTIONS
from core.display import compact_money, money, money_format, priced
from core.errors import RecoveryError
from core.model.segments import MONEY_FIELDS, field_means
from core.report import ReportSource, plan_workbook_sheets, stakeholder_report, summary_sentences, to_excel_workbook
from ui.render import workbook_contents, workbook_refusal

SOURCE = ReportSource("portfolio.csv", "0" * 64)


def test_no_currency_reads_exactly_as_before():
    for value in (1234567.8, -5.0, 0.0, 703_297_003, np.nan, None):
        assert priced(value) == money(value)
        assert priced(value, compact=True) == compact_money(value)
    assert money_format() == "%,.0f" and money_format(excel=True) == "#,##0"


@pytest.mark.parametrize(("currency", "full", "negative", "compact", "column", "excel"), [
    ("EUR", "EUR 1,234,568", "EUR -5", "EUR 703.3M", "EUR %,.0f", '"EUR "#,##0'),
    ("€", "€1,234,568", "-€5", "€703.3M", "€%,.0f", '"€"#,##0'),
    ("₹", "₹1,234,568", "-₹5", "₹703.3M", "₹%,.0f", '"₹"#,##0'),
])
def test_a_code_goes_before_with_a_space_and_a_symbol_against_the_figure(currency, full, negative, compact, column,
                                                                           excel):
    assert priced(1234567.8, currency) == full
    assert priced(-5, currency) == negative
    assert priced(703_297_003, currency, compact=True) == compact
    assert priced(None, currency) == "—"  # a missing figure is a dash, never '€—'
    assert money_format(currency) == column
    assert money_format(currency, excel=True) == excel


@pytest.mark.parametrize("bad", ["EUR1", "€€€€€€", "%", ' "', " EUR"])
def test_a_currency_that_is_not_a_label_is_refused_in_words(bad):
    with pytest.raises(RecoveryError, match="give a code such as EUR or a symbol such as €"):
        RecoveryConfig().with_(currency=bad)


def test_the_currency_is_a_display_setting_that_reruns_no_stage():
    plain, euro = RecoveryConfig(), RecoveryConfig().with_(currency="EUR")
    assert all(plain.stage_key(s) == euro.stage_key(s) for s in ("prepare", "segment", "score", "decide"))


@pytest.fixture(scope="module")
def planned(demo_frame, run_analysis):
    """The demo with the default action table: money in the plan, the report and the workbook."""
    return run_analysis(demo_frame, RecoveryConfig().with_(actions=DEFAULT_ACTIONS, n_folds=3))


def _in(result, currency: str):
    return dataclasses.replace(result, config=result.config.with_(currency=currency))


def test_the_report_and_its_summary_carry_the_currency(planned):
    euro = _in(planned, "EUR")
    outstanding = float(planned.scored["Outstanding_Loan_Amount"].sum())
    lines = summary_sentences(euro, euro.trust)
    assert f"with EUR {money(outstanding)} outstanding" in lines[0]
    assert any(line.startswith("The plan is expected to bring EUR ") for line in lines)
    text = stakeholder_report(euro, SOURCE)
    assert f"EUR {compact_money(outstanding)}" in text and f"EUR {money(outstanding)} in total" in text
    worth = planned.policies.set_index("Policy")["Expected net recovery"]
    assert all(f"EUR {money(v)}" in text for v in worth)  # the policies table in the currency
    assert "EUR" not in stakeholder_report(planned, SOURCE)
    plain_lines = summary_sentences(planned, planned.trust)
    assert f"with {money(outstanding)} outstanding" in plain_lines[0] and "EUR" not in " ".join(plain_lines)


def test_the_typical_borrower_of_each_segment_reads_its_money_in_the_currency(planned):
    segments = planned.segments
    plain_table = field_means(segments).set_index("Field")
    euro_table = field_means(segments, "€").set_index("Field")
    money_rows = [segments.label(f) for f in segments.features if f in MONEY_FIELDS]
    assert money_rows, "the demo segments on money fields"
    for row in money_rows:
        for name in plain_table.columns:
            assert euro_table.at[row, name] == "€" + plain_table.at[row, name]
    others = [r for r in plain_table.index if r not in money_rows]
    assert euro_table.loc[others].equals(plain_table.loc[others])  # counts and days carry no currency
    assert f"€{plain_table.at[money_rows[0], plain_table.columns[0]]}" in stakeholder_report(_in(planned, "€"), SOURCE)


def test_the_workbook_labels_the_products_money_columns_only_when_a_currency_is_chosen(planned):
    def book(result):
        return openpyxl.load_workbook(io.BytesIO(to_excel_workbook(plan_workbook_sheets(result, None),
                                                                   result.config.currency)))

    def formats(wb, sheet: str, column: str) -> set[str]:
        ws = wb[sheet]
        at = [c.value for c in ws[1]].index(column) + 1
        return {ws.cell(row, at).number_format for row in range(2, min(ws.max_row, 20) + 1)}

    euro, plain = book(_in(planned, "€")), book(planned)
    worklist = euro.sheetnames[2]
    assert formats(euro, worklist, "Expected_Net_Recovery") == {'"€"#,##0'}
    assert formats(euro, "Summary", "Expected net recovery") == {'"€"#,##0'}
    assert formats(euro, worklist, "Outstanding_Loan_Amount") == {"General"}  # the user's column as written
    assert isinstance(euro[worklist].cell(2, [c.value for c in euro[worklist][1]].index("Expected_Net_Recovery") + 1
                                          ).value, float)  # still a number Excel can sum
    settings = {r[0]: r[1] for r in euro["Settings"].iter_rows(min_row=2, values_only=True)}
    assert settings["Currency"] == "€"
    assert formats(plain, worklist, "Expected_Net_Recovery") == {"General"}
    assert "Currency" not in {r[0] for r in plain["Settings"].iter_rows(min_row=2, values_only=True)}


def test_an_excel_download_says_what_it_holds_and_when_excel_cannot_hold_it():
    sheets = {"Summary": pd.DataFrame({"a": [1, 2]}), "Legal notices": pd.DataFrame({"a": [1]})}
    assert workbook_contents(sheets) == ("The Excel workbook holds 2 sheets, 3 rows in all: Summary (2 rows); "
                                         "Legal notices (1 row).")
    assert workbook_refusal(sheets) is None
    huge = pd.DataFrame({"a": np.zeros(1_048_576, dtype=np.int8)})
    said = workbook_refusal({"Summary": sheets["Summary"], "Borrowers": huge})
    assert said.startswith("Excel holds at most 1,048,575 rows")
    assert "'Borrowers' has 1,048,576 rows" in said and said.endswith("download CSV instead, which holds every row.")


def test_a_saved_model_keeps_the_currency_and_an_older_one_reads_as_none():
    from core.serve import bundle as bundles

    euro = RecoveryConfig().with_(currency="₹")
    assert bundles.config_from_dict(bundles.config_to_dict(euro)).currency == "₹"
    older = {k: v for k, v in bundles.config_to_dict(RecoveryConfig()).items() if k != "currency"}
    assert bundles.config_from_dict(older).currency == ""
