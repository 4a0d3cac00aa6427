"""Exports analysts open in Excel: user text stays inert, numbers stay numbers."""

from __future__ import annotations

import csv
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames

from core.errors import RecoveryError
from core.report import DANGEROUS_PREFIXES, neutralise, to_csv_bytes, to_excel_bytes

PAYLOADS = {
    "=": '=HYPERLINK("http://evil.example","click")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t": "\t=1+1",
    "\r": "\r=1+1",
}


def read_csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read_xlsx(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def portfolio() -> pd.DataFrame:
    return pd.DataFrame({
        "Borrower_ID": ["BRW_1", "-5", "=1+1"],
        "Balance": [-1250.5, 300.0, np.nan],
        "Days_Past_Due": [-3, 0, 90],
        "Note": ["Père Noël", None, "@risk"],
    })


@pytest.mark.parametrize("prefix", DANGEROUS_PREFIXES)
def test_each_dangerous_prefix_is_quoted_in_csv(prefix):
    payload = PAYLOADS[prefix]
    rows = read_csv_rows(to_csv_bytes(pd.DataFrame({"Note": [payload, "safe"]})))
    assert rows[1] == ["'" + payload]
    assert rows[2] == ["safe"]


@pytest.mark.parametrize("prefix", DANGEROUS_PREFIXES)
def test_each_dangerous_prefix_is_inert_text_in_xlsx(prefix):
    payload = PAYLOADS[prefix]
    ws = read_xlsx(to_excel_bytes(pd.DataFrame({"Note": [payload, "safe"]})))
    cells = [c for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    # XML reading turns a stored \r into \n; what matters is the leading quote
    assert ws["A2"].value == ("'" + payload).replace("\r", "\n") and ws["A2"].data_type == "s"
    assert ws["A3"].value == "safe"


def test_negative_numbers_stay_numbers_in_csv():
    back = pd.read_csv(io.BytesIO(to_csv_bytes(portfolio())), encoding="utf-8-sig")
    assert back["Balance"].dtype == np.float64
    assert back["Balance"].iloc[0] == -1250.5
    assert back["Days_Past_Due"].tolist() == [-3, 0, 90]


def test_negative_numbers_stay_numbers_in_xlsx():
    ws = read_xlsx(to_excel_bytes(portfolio()))
    assert (ws["B2"].value, ws["B2"].data_type) == (-1250.5, "n")
    assert (ws["C2"].value, ws["C2"].data_type) == (-3, "n")


def test_text_that_looks_like_a_negative_number_is_text():
    rows = read_csv_rows(to_csv_bytes(portfolio()))
    assert rows[2][0] == "'-5"
    ws = read_xlsx(to_excel_bytes(portfolio()))
    assert (ws["A3"].value, ws["A3"].data_type) == ("'-5", "s")


def test_headers_are_neutralised():
    df = pd.DataFrame({"=cmd|' /C calc'!A0": [1], "-Balance": [2.5], "Loan_ID": ["LN_1"]})
    assert read_csv_rows(to_csv_bytes(df))[0] == ["'=cmd|' /C calc'!A0", "'-Balance", "Loan_ID"]
    ws = read_xlsx(to_excel_bytes(df))
    assert [c.value for c in ws[1]] == ["'=cmd|' /C calc'!A0", "'-Balance", "Loan_ID"]
    assert all(c.data_type == "s" for c in ws[1])


def test_missing_values_are_empty():
    rows = read_csv_rows(to_csv_bytes(portfolio()))
    assert rows[3][1] == "" and rows[2][3] == ""
    ws = read_xlsx(to_excel_bytes(portfolio()))
    assert ws["B4"].value is None and ws["D3"].value is None


def test_accents_round_trip_with_a_bom():
    data = to_csv_bytes(portfolio())
    assert data.startswith(b"\xef\xbb\xbf")
    assert pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")["Note"].iloc[0] == "Père Noël"
    assert read_xlsx(to_excel_bytes(portfolio()))["D2"].value == "Père Noël"


def test_no_index_and_column_order_kept():
    df = portfolio().set_index(pd.Index([10, 20, 30]))
    assert read_csv_rows(to_csv_bytes(df))[0] == ["Borrower_ID", "Balance", "Days_Past_Due", "Note"]
    ws = read_xlsx(to_excel_bytes(df))
    assert [c.value for c in ws[1]] == ["Borrower_ID", "Balance", "Days_Past_Due", "Note"]
    assert ws.max_row == 4 and ws.max_column == 4


def test_booleans_and_ints_are_not_text_in_xlsx():
    ws = read_xlsx(to_excel_bytes(pd.DataFrame({"flag": [True], "n": [np.int64(7)]})))
    assert (ws["A2"].value, ws["B2"].value) == (True, 7)
    assert ws["A2"].data_type != "s" and ws["B2"].data_type == "n"


def test_excel_error_codes_in_text_stay_text():
    ws = read_xlsx(to_excel_bytes(pd.DataFrame({"Note": ["#N/A", "#DIV/0!"]})))
    assert [(c.value, c.data_type) for c in ws["A"][1:]] == [("#N/A", "s"), ("#DIV/0!", "s")]


def test_control_characters_cannot_smuggle_a_formula_into_xlsx():
    ws = read_xlsx(to_excel_bytes(pd.DataFrame({"Note": ["\x01=1+1"]})))
    assert (ws["A2"].value, ws["A2"].data_type) == ("'=1+1", "s")


def test_categorical_and_mixed_columns_are_neutralised():
    df = pd.DataFrame({
        "Segment": pd.Categorical(["=bad", "good", None]),
        "Mixed": [-4, "-4", None],
    })
    out = neutralise(df)
    assert out["Segment"].tolist()[:2] == ["'=bad", "good"] and pd.isna(out["Segment"].iloc[2])
    assert out["Mixed"].tolist()[:2] == [-4, "'-4"]
    ws = read_xlsx(to_excel_bytes(df))
    assert (ws["B2"].value, ws["B2"].data_type) == (-4, "n")
    assert (ws["B3"].value, ws["B3"].data_type) == ("'-4", "s")


def test_neutralise_leaves_the_input_untouched():
    df = portfolio()
    before = df.copy()
    neutralise(df)
    pd.testing.assert_frame_equal(df, before)


def test_duplicate_headers_survive():
    df = pd.DataFrame([["=a", "=b"]], columns=["Note", "Note"])
    assert read_csv_rows(to_csv_bytes(df))[1] == ["'=a", "'=b"]


def test_sheet_name_is_used_and_made_legal():
    wb = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(portfolio(), sheet_name="Q1/Q2 [draft]")))
    assert wb.sheetnames == ["Q1_Q2 _draft_"]
    wb = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(portfolio())))
    assert wb.sheetnames == ["Borrowers"]


def test_too_many_columns_for_excel_is_a_user_error():
    wide = pd.DataFrame(np.zeros((1, 16_385)))
    with pytest.raises(RecoveryError, match="CSV"):
        to_excel_bytes(wide)


text = st.one_of(st.none(), st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12),
                 st.sampled_from(["=1+1", "-5", "+x", "@y", "\tz", "\r=1", "'=ok"]))


@settings(max_examples=200, deadline=None)
@given(data_frames([column("a", elements=text, dtype=object),
                    column("b", elements=text, dtype=object)]))
def test_no_csv_text_cell_starts_with_a_formula_trigger(df):
    for row in read_csv_rows(to_csv_bytes(df)):
        for cell in row:
            assert not cell.startswith(DANGEROUS_PREFIXES) or cell.startswith("'")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=4))
def test_no_csv_header_starts_with_a_formula_trigger(names):
    df = pd.DataFrame([list(range(len(names)))], columns=names)
    header = read_csv_rows(to_csv_bytes(df))[0]
    assert all(not h.startswith(DANGEROUS_PREFIXES) for h in header)


@settings(max_examples=50, deadline=None)
@given(data_frames([column("a", elements=text, dtype=object),
                    column("b", elements=st.one_of(text, st.floats(allow_infinity=False),
                                                   st.integers(-10**9, 10**9)), dtype=object)]))
def test_no_xlsx_cell_is_a_formula(df):
    ws = read_xlsx(to_excel_bytes(df))
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            if cell.data_type == "s":
                assert not cell.value.startswith(DANGEROUS_PREFIXES)


def _later_column(texts: list, rows: int):
    """The texts as a column written later, in blocks of ``rows``, placed second."""
    import pyarrow as pa

    from core.report import LaterColumn

    return LaterColumn("Why", 1, lambda: (pa.array(texts[s:s + rows], pa.string()) for s in range(0, len(texts), rows)))


@pytest.mark.parametrize("with_object_column", [False, True])  # Arrow's block writer, and pandas' whole one
def test_a_column_written_later_gives_the_bytes_of_the_whole_table(tmp_path, with_object_column):
    from core.report import write_csv

    texts = ["Income low", PAYLOADS["="], None, "-3 missed", "Age 41, typical", "é ü"] * 5
    table = pd.DataFrame({"Borrower_ID": [f"BRW_{i}" for i in range(30)], "Score": np.linspace(0, 1, 30),
                          "Paid": [float(i) for i in range(30)]})
    if with_object_column:
        table["Mixed"] = pd.Series([1, "a", None] * 10, dtype=object)
    whole = table.copy()
    whole.insert(1, "Why", pd.Series(texts, dtype="str"))
    write_csv(whole, tmp_path / "whole.csv")
    write_csv(table, tmp_path / "later.csv", _later_column(texts, 7))
    written = (tmp_path / "later.csv").read_bytes()
    assert written == (tmp_path / "whole.csv").read_bytes()
    rows = read_csv_rows(written)
    assert rows[0][:3] == ["Borrower_ID", "Why", "Score"] and rows[2][1] == "'" + PAYLOADS["="]
    assert rows[4][3] == "3"  # whole numbers are still judged on the whole column


def _through_pandas(df: pd.DataFrame) -> bytes:
    """The CSV of the route every frame can take: pandas converts the neutralised frame to Arrow."""
    from core.report.export import _arrow_csv, _arrow_table, whole_numbers_as_integers

    return _arrow_csv(_arrow_table(neutralise(whole_numbers_as_integers(df))))


@pytest.mark.parametrize("df", [
    portfolio(),
    pd.DataFrame({"Whole": [1.0, np.nan, 3.0], "Inf": [np.inf, 1.0, 2.0], "Zero": [-0.0, 2.0, 4.0],
                  "All_Missing": [np.nan] * 3, "Edge": [2.0**53, 1.0, 2.0], "Under": [2.0**53 - 1, -5.0, 0.0]}),
    pd.DataFrame({"Note": pd.Series(["-1", "+2", "@", "", None, "\t", '"q", a'], dtype="str"),
                  "Days": np.arange(7, dtype=np.uint8), "Rate": np.linspace(0, 1, 7)}),
    pd.DataFrame({"Note": pd.Series([], dtype="str"), "Balance": pd.Series([], dtype="float64")}),
    pd.DataFrame({"Balance": np.r_[np.full(100, 0.5), 1.0]}),  # a fraction first, not in the look-ahead
    pd.DataFrame({"Balance": np.r_[np.ones(100), 0.5]}),  # a fraction after the look-ahead
], ids=["portfolio", "numbers", "text", "empty", "fraction-first", "fraction-late"])
def test_plain_columns_taken_straight_give_the_bytes_pandas_conversion_gives(df):
    from core.report.export import _plain_table

    assert _plain_table(df) is not None  # the direct route is the one taken
    assert to_csv_bytes(df) == _through_pandas(df)

