"""Files as users have them: a title above the header, formulas without values, a cell too
long to read, and Excel dates and numbers read as the user sees them."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from core.data import delimited, load_portfolio, read_table, table, xlsx
from core.errors import RecoveryError
from tests.helpers import CORPUS


def _xlsx(rows: list[list[object]], title: str = "Loans") -> bytes:
    """A workbook written by openpyxl with ``rows`` from row 1 (None = an empty cell)."""
    book = openpyxl.Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _read(name: str, **kwargs) -> table.RawTable:
    return read_table((CORPUS / name).read_bytes(), name, **kwargs)


# ---------------------------------------------------------------------------- the header row


def test_title_above_the_header_is_skipped_and_rows_keep_their_spreadsheet_numbers():
    data = _xlsx([["Arrears report"], [], ["Loan_ID", "Loan_Amount", "Days_Past_Due"],
                  ["LN_1", 1000.0, 30.0], ["LN_2", -5.0, 0.0]])
    portfolio = load_portfolio(data, "arrears.xlsx")
    assert portfolio.info.header_row == 3
    assert portfolio.info.notes == ("The header is on row 3 of sheet 'Loans'; rows 1–2 (a "
                                    "title: 'Arrears report') were skipped.",)
    assert portfolio.frame.index.tolist() == [4, 5]
    assert portfolio.frame.at[4, "Loan_Amount"] == 1000.0
    negative = next(p for p in portfolio.report.problems if p.column == "Loan_Amount")
    assert negative.rows == (5,)  # the spreadsheet row the user sees


def test_csv_title_without_a_separator_was_not_a_table_and_is_now_read():
    data = b"Loan book March 2024\nLoan_ID,Loan_Amount,Days_Past_Due\nLN_1,1000,30\nLN_2,50,0\n"
    table = read_table(data, "book.csv")
    assert table.info.separator == ","
    assert table.info.header_row == 2
    assert table.info.notes == ("The header is on row 2; row 1 (a title: 'Loan book March "
                                "2024') was skipped.",)
    assert table.frame.at[4, "Loan_Amount"] == "50"


@pytest.mark.parametrize("name", ["title_above_header.csv", "excel_title_above_header.csv"])
def test_csv_title_takes_the_fast_path_with_the_same_result(name):
    data = (CORPUS / name).read_bytes()
    text, encoding = delimited.decode(data, name)
    fast = delimited.read_csv_fast(data, text, encoding, ",", name, table.Limits())
    slow = delimited.read_csv_slow(text, encoding, ",", name, table.Limits())
    assert fast is not None
    assert fast.frame.equals(slow.frame) and fast.info == slow.info
    assert fast.frame.index.tolist() == [4, 5, 6, 7, 8, 9]


def test_a_header_with_unnamed_columns_over_numeric_rows_stays_on_row_1():
    data = _xlsx([["Loan_ID", None, None, None, "Amount"], [1, 2, 3, 4, 5], [6, 7, 8, 9, 10]])
    table = read_table(data, "wide.xlsx")
    assert table.info.header_row == 1 and table.info.notes == ()
    assert list(table.frame.columns) == ["Loan_ID", "Column B", "Column C", "Column D", "Amount"]


def test_a_two_column_table_is_not_guessed_but_its_header_row_can_be_chosen():
    # With two columns a one-cell title is as wide as half the table: too close to a header
    # with a blank name to guess, so it is read as before.
    data = _xlsx([["Report"], ["Loan_ID", "Amount"], ["LN_1", 5.0]])
    with pytest.raises(RecoveryError, match="row 2 has values to the right of the last header"):
        read_table(data, "narrow.xlsx")
    table = read_table(data, "narrow.xlsx", header_row=2)
    assert list(table.frame.columns) == ["Loan_ID", "Amount"]
    assert table.frame.at[3, "Amount"] == "5"


def test_leading_blank_rows_move_the_header_without_a_note():
    table = read_table(_xlsx([[], [], ["Loan_ID", "Amount"], ["LN_1", 5.0]]), "b.xlsx")
    assert table.info.header_row == 3 and table.info.notes == ()
    assert table.frame.index.tolist() == [4]


def test_user_chosen_header_row_overrides_detection():
    table = _read("notes_above_header.xlsx", header_row=5)
    assert table.info.header_row == 5
    assert table.info.notes == ("The header is on row 5 of sheet 'Loans', as chosen; rows 1–4 "
                                "above it were skipped.",)
    assert table.frame.at[6, "Borrower_ID"] == "BRW_1"
    csv_table = _read("title_above_header.csv", header_row=3)
    assert csv_table.info.header_row == 3 and csv_table.frame.index.tolist()[0] == 4
    assert _read("portfolio.xlsx", header_row=1).info.notes == ()


def test_a_chosen_header_row_is_used_even_where_detection_would_not():
    # Row 2 holds two notes; read as the header, the table's values lie right of it.
    with pytest.raises(RecoveryError) as refused:
        _read("notes_above_header.xlsx", header_row=2)
    assert str(refused.value) == ("notes_above_header.xlsx (sheet 'Loans'): row 5 has values "
                                  "to the right of the last header. Give that column a header "
                                  "or delete the values.")


@pytest.mark.parametrize("name, row, message", [
    ("title_above_header.xlsx", 40,
     "title_above_header.xlsx (sheet 'Loans') has values down to row 9 only, so row 40 cannot "
     "be the header. Choose a header row from 1 to 9."),
    ("title_above_header.csv", 40,
     "title_above_header.csv has values down to row 9 only, so row 40 cannot be the header. "
     "Choose a header row from 1 to 9."),
    ("title_above_header.xlsx", 2,
     "title_above_header.xlsx (sheet 'Loans'): row 2 is blank, so it cannot be the header. "
     "Choose the row that holds the column names."),
    ("title_above_header.csv", 0,
     "The header row must be 1 or more, not 0. Give the spreadsheet row that holds the "
     "column names, or leave it empty."),
])
def test_a_header_row_beyond_the_data_or_blank_is_refused(name, row, message):
    with pytest.raises(RecoveryError) as refused:
        _read(name, header_row=row)
    assert str(refused.value) == message


# ---------------------------------------------------------------------------- formulas


def test_a_formula_column_without_saved_values_is_named_with_its_rows():
    rows = [["Loan_ID", "Principal", "Fee", "Total"]]
    rows += [[f"LN_{n}", 100.0 * n, 5.0, f"=B{n + 1}+C{n + 1}"] for n in range(1, 301)]
    table = read_table(_xlsx(rows), "computed.xlsx")
    assert table.frame["Total"].isna().all()
    assert table.info.notes == (
        "Column 'Total' holds formulas whose values were not saved in the file (rows 2–301), "
        "so they read as blank: open the workbook in Excel and save it again, or paste the "
        "values.",)


def test_formulas_in_some_rows_only_are_listed_by_row():
    rows = [["Loan_ID", "Principal", "Fee"]]
    rows += [[f"LN_{n}", 100.0, "=10*2" if n in (2, 3, 4, 9) else 5.0] for n in range(1, 11)]
    table = read_table(_xlsx(rows), "fees.xlsx")
    assert table.frame.at[2, "Fee"] == "5"
    assert table.info.notes == (
        "Column 'Fee' holds formulas whose values were not saved in the file (rows 3–5, 10), "
        "so they read as blank: open the workbook in Excel and save it again, or paste the "
        "values.",)


def test_formulas_with_saved_values_and_empty_columns_get_no_note():
    assert _read("formula_cached.xlsx").info.notes == ()
    table = read_table(_xlsx([["Loan_ID", "Amount", "Remarks"], ["LN_1", 5.0, None],
                              ["LN_2", 6.0, None]]), "empty.xlsx")
    assert table.frame["Remarks"].isna().all() and table.info.notes == ()


def test_row_spans_are_short():
    assert xlsx.row_span([7]) == "row 7"
    assert xlsx.row_span([2, 3, 4, 9]) == "rows 2–4, 9"
    assert xlsx.row_span([1, 3, 5, 7, 9, 11, 12, 13]) == "rows 1, 3, 5, 7, 9 and 3 more"


# ---------------------------------------------------------------------------- long cells


LIMIT = csv.field_size_limit()


def test_a_huge_cell_in_the_first_lines_is_named_not_called_not_a_table():
    lines = ["Loan_ID,Loan_Amount,notes"] + [f"LN_{n},{n}00,ok" for n in range(1, 6)]
    lines.append("LN_6,600," + "x" * 250_000)
    with pytest.raises(RecoveryError) as refused:
        read_table(("\n".join(lines) + "\n").encode(), "notes.csv")
    assert str(refused.value) == ("notes.csv: row 7, column 'notes' holds a cell of 250,000 "
                                  "characters, over the limit of 131,072: shorten it or remove "
                                  "that column.")


def test_a_huge_quoted_cell_is_measured_as_read():
    cell = '"' + 'say ""no"" ' * 20_000 + '"'  # 'say "no" ' read 20,000 times: 180,000
    data = f"Loan_ID;Amount;Remark\nLN_1;5;ok\nLN_2;6;{cell}\n".encode()
    with pytest.raises(RecoveryError, match="row 3, column 'Remark' holds a cell of 180,000 "):
        read_table(data, "quoted.csv")


def test_a_huge_cell_in_the_header_line_names_its_column_letter():
    data = ("Loan_ID,Amount," + "h" * (LIMIT + 10) + "\nLN_1,5,x\n").encode()
    with pytest.raises(RecoveryError) as refused:
        read_table(data, "header.csv")
    assert str(refused.value) == ("header.csv: row 1, column C holds a cell of 131,082 "
                                  "characters, over the limit of 131,072: shorten it or remove "
                                  "that column.")


def test_a_cell_at_the_limit_is_read():
    data = ("Loan_ID,notes\nLN_1," + "y" * LIMIT + "\n").encode()
    assert read_table(data, "edge.csv").frame.at[2, "notes"] == "y" * LIMIT


# ---------------------------------------------------------------------------- cell text


@pytest.mark.parametrize("value, text", [
    (dt.datetime(2024, 3, 1), "2024-03-01"),
    (dt.datetime(2024, 3, 1, 14, 30), "2024-03-01 14:30:00"),
    (dt.datetime(2024, 3, 1, 0, 0, 0, 500_000), "2024-03-01 00:00:00.500000"),
    (dt.date(2024, 3, 1), "2024-03-01"),
    (dt.time(9, 5), "09:05:00"),
    (29305.0, "29305"),
    (-0.0, "0"),
    (12.39, "12.39"),
    (1e16, "1e+16"),
    (7, "7"),
    (True, "TRUE"),
    (" BRW_1 ", " BRW_1 "),
    (None, None),
])
def test_cells_read_as_the_user_sees_them(value, text):
    assert table.cell_text(value) == text


def test_excel_dates_and_whole_floats_pass_through_as_seen():
    portfolio = load_portfolio((CORPUS / "dates.xlsx").read_bytes(), "dates.xlsx")
    assert portfolio.frame.loc[2:4, "Disbursed"].tolist() == ["2024-03-01", "2024-03-01 14:30:00",
                                                             "2023-12-31"]
    assert portfolio.frame.at[2, "Account_No"] == "29305"
    assert portfolio.frame.at[2, "Loan_Amount"] == 1445796.0
