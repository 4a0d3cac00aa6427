"""Reading uploads: the malformed-file corpus, mapping, limits and the Portfolio object."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
import pytest

from core.data import Limits, load_portfolio, read_table, suggest_mapping
from core.errors import RecoveryError
from tests.helpers import CORPUS


@dataclass(frozen=True)
class Case:
    """What one corpus file must produce."""

    file: str
    rows: int | None = None                      # accepted with this many rows
    values: dict[tuple[str, int], object] = field(default_factory=dict)  # (column, row) -> value
    problems: tuple[tuple[str, str, str, tuple[int, ...]], ...] = ()  # column, fragment, severity, rows
    rejected: str | None = None                  # fragment of the RecoveryError message
    limits: Limits = Limits()
    sheet: str | None = None
    encoding: str | None = None
    separator: str | None = None
    header_row: int = 1                          # spreadsheet row of the header
    notes: tuple[str, ...] = ()                  # what the Data page and the CLI say


TITLE_NOTE = ("The header is on row 3{}; rows 1–2 (a title: 'Loan book, March 2024') were "
              "skipped.")

CASES = [
    Case("comma.csv", 6, {("Loan_Amount", 2): 1445796.0, ("Interest_Rate", 2): 12.39,
                          ("Collateral_Value", 2): 1727997.258, ("Recovery_Status", 6): "Written Off"},
         encoding="utf-8", separator=","),
    Case("semicolon_decimal_comma.csv", 6, {("Loan_Amount", 2): 1445796.0,
                                            ("Interest_Rate", 2): 12.39,
                                            ("Collateral_Value", 2): 1727997.258,
                                            ("Outstanding_Loan_Amount", 7): 125000.5},
         separator=";"),
    Case("tab.tsv", 6, {("Monthly_EMI", 3): 55433.68}, separator="\t"),
    Case("pipe.csv", 6, {("Days_Past_Due", 4): 124.0}, separator="|"),
    Case("utf8_bom.csv", 6, {("Borrower_ID", 2): "BRW_1"}, encoding="utf-8-sig"),
    Case("utf16_bom_tab.txt", 6, {("Borrower_ID", 2): "BRW_1", ("Interest_Rate", 7): 9.5},
         encoding="utf-16", separator="\t"),
    Case("cp1252_semicolon.csv", 6, {("Branch", 2): "Café Zürich", ("Branch", 3): "Montréal",
                                     ("Loan_Amount", 2): 1445796.0, ("Interest_Rate", 2): 12.39,
                                     ("Monthly_Income", 3): 60893.0},
         encoding="cp1252", separator=";"),
    Case("crlf.csv", 6, {("Legal_Action_Taken", 7): "Yes"}),
    Case("quoted_separators.csv", 6, {("Address", 2): '1 Park Road, Flat 1, "Rose" House'}),
    Case("thousands_comma.csv", 6, {("Loan_Amount", 2): 1445796.0, ("Loan_Amount", 7): 250000.0,
                                    ("Collateral_Value", 2): 1727997.258}),
    Case("currency_symbols.csv", 6, {("Loan_Amount", 2): 1445796.0, ("Loan_Amount", 3): 1044620.0,
                                     ("Loan_Amount", 4): 1923410.0, ("Loan_Amount", 5): 1811663.0,
                                     ("Loan_Amount", 6): 88578.0, ("Loan_Amount", 7): 250000.0}),
    Case("percent_rate.csv", 6, {("Interest_Rate", 2): 12.39, ("Interest_Rate", 7): 9.5}),
    Case("portfolio.xlsx", 6, {("Loan_ID", 2): "00123", ("Loan_ID", 3): "LN_2",
                               ("Interest_Rate", 2): 12.39, ("Age", 2): 59.0}),
    Case("two_sheets.xlsx", 6, {("Borrower_ID", 2): "BRW_1"}, sheet="Loans"),
    Case("two_sheets.xlsx", rejected="Sheets in this workbook: 'Read me', 'Loans'"),
    Case("two_sheets.xlsx", rejected="no sheet called 'Summary'. Its sheets are: 'Read me', "
                                     "'Loans'", sheet="Summary"),
    Case("excel_renamed.csv", 6, {("Loan_Amount", 2): 1445796.0}),
    Case("numeric_ids.xlsx", 6, {("Loan_ID", 2): "1001", ("Loan_ID", 7): "1006"}),
    Case("formula_cached.xlsx", 6, {("Monthly_EMI", 2): 1234.5}),
    Case("formula_uncomputed.xlsx", 6, {("Total_Due", 2): None, ("Monthly_EMI", 2): 4856.88},
         notes=("Column 'Total_Due' holds formulas whose values were not saved in the file "
                "(rows 2–7), so they read as blank: open the workbook in Excel and save it "
                "again, or paste the values.",)),
    Case("dates.xlsx", 6, {("Disbursed", 2): "2024-03-01", ("Disbursed", 3): "2024-03-01 14:30:00",
                           ("Disbursed", 6): "2021-01-02 09:05:07", ("Disbursed", 7): "2020-02-29",
                           ("Account_No", 2): "29305", ("Age", 2): 59.0}),
    Case("title_above_header.xlsx", 6, {("Borrower_ID", 4): "BRW_1", ("Loan_Amount", 4): 1445796.0,
                                        ("Recovery_Status", 8): "Written Off"},
         header_row=3, notes=(TITLE_NOTE.format(" of sheet 'Loans'"),)),
    Case("notes_above_header.xlsx", 6, {("Borrower_ID", 6): "BRW_1", ("Borrower_ID", 11): "BRW_6"},
         header_row=5, notes=("The header is on row 5 of sheet 'Loans'; rows 1–4 (a title and "
                              "notes, from 'Collections portfolio') were skipped.",)),
    Case("title_above_header.csv", 6, {("Borrower_ID", 4): "BRW_1", ("Interest_Rate", 9): 9.5},
         header_row=3, notes=(TITLE_NOTE.format(""),), separator=","),
    Case("excel_title_above_header.csv", 6, {("Borrower_ID", 4): "BRW_1",
                                             ("Legal_Action_Taken", 9): "Yes"},
         header_row=3, notes=(TITLE_NOTE.format(""),)),
    Case("legacy.xls", rejected="save it as .xlsx or CSV"),
    Case("damaged.xlsx", rejected="damaged"),
    Case("zip_not_xlsx.csv", rejected="zip archive, not an Excel .xlsx workbook"),
    Case("empty.csv", rejected="is empty"),
    Case("whitespace_only.csv", rejected="is empty"),
    Case("header_only.csv", rejected="has a header but no rows"),
    Case("binary_garbage.csv", rejected="binary"),
    Case("pdf_renamed.csv", rejected="PDF"),
    Case("prose.csv", rejected="does not look like a table"),
    Case("ragged_long.csv", rejected="line 4 has 22 fields but the header has 21"),
    Case("ragged_short.csv", 6, {("Days_Past_Due", 4): 124.0, ("Recovery_Status", 4): None},
         problems=(("Recovery_Status", "no outcome", "warning", (4,)),
                   ("Collection_Method", "missing value", "warning", (4,)))),
    Case("duplicate_headers.csv", rejected="more than one column called 'Age'"),
    Case("nul_bytes.csv", rejected="NUL"),
    Case("unclosed_quote.csv", rejected="line 5"),
    Case("non_finite.csv", 6, {("Monthly_Income", 2): None, ("Monthly_Income", 3): 60893.0},
         problems=(("Monthly_Income", "not a finite number", "error", (2, 4, 6)),)),
    Case("leading_zero_ids.csv", 6, {("Loan_ID", 2): "00123", ("Borrower_ID", 3): "007"}),
    Case("synonym_headers.csv", 6, {("Days_Past_Due", 4): 124.0, ("Borrower_ID", 2): "BRW_1",
                                    ("Outstanding_Loan_Amount", 7): 125000.5,
                                    ("Monthly_EMI", 2): 4856.88, ("Interest_Rate", 2): 12.39,
                                    ("Recovery_Status", 6): "Written Off"}),
    Case("uppercase_headers.csv", 6, {("Days_Past_Due", 4): 124.0, ("Monthly_EMI", 2): 4856.88,
                                      ("Loan_Amount", 2): 1445796.0, ("Gender", 2): "Male"}),
    Case("negative_amounts.csv", 6, {("Loan_Amount", 3): -5000.0},
         problems=(("Loan_Amount", "negative amount", "error", (3,)),
                   ("Outstanding_Loan_Amount", "negative amount", "error", (5,)),
                   ("Days_Past_Due", "negative value", "error", (6,)))),
    Case("duplicate_loan_ids.csv", 6,
         problems=(("Loan_ID", "repeated Loan_ID (an earlier row has it)", "error", (5, 7)),)),
    Case("out_of_range.csv", 6,
         problems=(("Age", "age outside 18-100", "error", (2, 3)),
                   ("Interest_Rate", "outside 0-100", "error", (4,)),
                   ("Num_Dependents", "not a whole number", "error", (5,)),
                   ("Loan_Tenure", "outside 1-600", "error", (6,)))),
    Case("text_in_numeric.csv", 6, {("Interest_Rate", 5): 12.2, ("Monthly_Income", 3): None},
         problems=(("Age", "text in a numeric column", "error", (2,)),
                   ("Monthly_Income", "text in a numeric column", "error", (4,)),
                   ("Monthly_EMI", "text in a numeric column", "error", (6,)),
                   ("Monthly_Income", "missing value written as text, read as missing "
                                      "(imputed inside the model)", "warning", (3,)))),
    Case("mixed_decimal_marks.csv", 6, {("Interest_Rate", 2): 12.39, ("Interest_Rate", 6): None},
         problems=(("Interest_Rate", "text in a numeric column", "error", (6,)),)),
    Case("ambiguous_thousands.tsv", 6, {("Monthly_EMI", 6): 88.0, ("Monthly_EMI", 2): None},
         problems=(("Monthly_EMI", "text in a numeric column", "error", (2, 3, 4, 5)),)),
    Case("category_variants.csv", 6,
         {("Recovery_Status", 2): "Fully Recovered", ("Gender", 3): "Female",
          ("Loan_Type", 4): "Mortgage", ("Recovery_Status", 5): "Fully Recovered"},
         problems=(("Recovery_Status", "written differently, read as 'Fully Recovered'",
                    "warning", (2, 5)),
                   ("Gender", "written differently, read as 'Female'", "warning", (3,)),
                   ("Loan_Type", "unknown category", "warning", (4,)))),
    Case("missing_values.csv", 6, {("Monthly_Income", 2): None, ("Gender", 6): None},
         problems=(("Monthly_Income", "missing value", "warning", (2,)),
                   ("Recovery_Status", "no outcome", "warning", (4,)),
                   ("Loan_ID", "missing value", "warning", (5,)),
                   ("Gender", "missing value", "warning", (6,)))),
    Case("blank_lines.csv", 6, {("Borrower_ID", 2): "BRW_1", ("Borrower_ID", 6): "BRW_3",
                                ("Borrower_ID", 9): "BRW_6"}),
    Case("extra_columns.csv", 6, {("Branch", 2): "Pune", ("Officer", 7): "A. Rao"}),
    Case("comma.csv", rejected="max_rows", limits=Limits(max_rows=3)),
    Case("comma.csv", rejected="max_bytes", limits=Limits(max_bytes=100)),
    Case("comma.csv", rejected="max_columns", limits=Limits(max_columns=5)),
    Case("portfolio.xlsx", rejected="max_rows", limits=Limits(max_rows=2)),
    Case("portfolio.xlsx", rejected="max_columns", limits=Limits(max_columns=20)),
]


def _load(case: Case):
    """Load a corpus file the way the app does."""
    data = (CORPUS / case.file).read_bytes()
    return load_portfolio(data, case.file, sheet=case.sheet, limits=case.limits)


def _id(case: Case) -> str:
    return case.file + ("" if case.sheet is None else f"[{case.sheet}]") + (
        "" if case.limits == Limits() else "-limited")


def test_corpus_has_thirty_files_and_every_file_has_a_case():
    files = {p.name for p in CORPUS.iterdir() if p.suffix != ".py" and p.is_file()}
    assert len(files) >= 30
    assert files <= {c.file for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_corpus_file(case: Case):
    if case.rejected is not None:
        with pytest.raises(RecoveryError) as caught:
            _load(case)
        assert case.rejected in str(caught.value)
        return
    portfolio = _load(case)
    assert len(portfolio.frame) == case.rows
    assert portfolio.info.rows == case.rows
    assert portfolio.info.header_row == case.header_row
    assert portfolio.info.notes == case.notes
    if case.encoding is not None:
        assert portfolio.info.encoding == case.encoding
    if case.separator is not None:
        assert portfolio.info.separator == case.separator
    for (column, row), expected in case.values.items():
        actual = portfolio.frame.at[row, column]
        if expected is None:
            assert pd.isna(actual), (column, row, actual)
        else:
            assert actual == expected, (column, row, actual)
    found = {(p.column, p.problem, p.severity): p.rows for p in portfolio.report.problems}
    for column, fragment, severity, rows in case.problems:
        matches = [r for (c, text, s), r in found.items()
                   if c == column and fragment in text and s == severity]
        assert matches == [rows], (column, fragment, found)
    if not any(severity == "error" for _, _, severity, _ in case.problems):
        assert portfolio.report.ok, portfolio.report.lines()


def test_clean_files_map_every_canonical_field():
    for name in ["comma.csv", "synonym_headers.csv", "uppercase_headers.csv", "portfolio.xlsx"]:
        portfolio = _load(Case(name))
        assert portfolio.report.missing_fields == ()
        assert portfolio.report.problems == ()


def test_numeric_fields_are_floats_and_ids_text():
    frame = _load(Case("leading_zero_ids.csv")).frame
    assert frame["Loan_Amount"].dtype == "float64"
    assert frame["Days_Past_Due"].dtype == "float64"
    assert frame["Loan_ID"].tolist()[0] == "00123"
    assert pd.api.types.is_string_dtype(frame["Loan_ID"])
    assert pd.api.types.is_string_dtype(frame["Gender"])
    assert frame.index.name == "Row"
    assert frame.index.tolist() == [2, 3, 4, 5, 6, 7]


def test_raw_table_keeps_text_and_headers_exactly():
    data = (CORPUS / "synonym_headers.csv").read_bytes()
    table = read_table(data, "synonym_headers.csv")
    assert "DPD" in table.frame.columns
    assert table.frame.at[2, "loan_no"] == "LN_1"
    assert table.frame.at[2, "Interest_Rate" if "Interest_Rate" in table.frame else "ROI"] == "12.39"
    assert table.info.columns == 21 and table.info.rows == 6
    assert table.frame.index.name == "Row"


def test_xlsx_lists_its_sheets():
    data = (CORPUS / "two_sheets.xlsx").read_bytes()
    table = read_table(data, "two_sheets.xlsx", sheet="Loans")
    assert table.info.format == "xlsx"
    assert table.info.sheets == ("Read me", "Loans")
    assert table.info.sheet == "Loans"


def test_a_csv_has_no_sheet_to_choose():
    with pytest.raises(RecoveryError, match="has no sheets"):
        read_table((CORPUS / "comma.csv").read_bytes(), "comma.csv", sheet="Loans")


def test_invalid_rows_are_shown_as_the_file_had_them_with_reasons():
    portfolio = _load(Case("negative_amounts.csv"))
    bad = portfolio.invalid_rows()
    assert bad.index.tolist() == [3, 5, 6]
    assert bad.at[5, "Outstanding_Loan_Amount"] == "(1,200.50)"
    assert bad.at[3, "Problems"] == "Loan_Amount: negative amount"
    assert bad.at[6, "Problems"] == "Days_Past_Due: negative value"
    valid = portfolio.valid_rows()
    assert valid.index.tolist() == [2, 4, 7]


def test_invalid_rows_use_the_users_headers():
    data = (CORPUS / "synonym_headers.csv").read_bytes().replace(b",124,", b",-124,")
    portfolio = load_portfolio(data, "synonyms.csv")
    bad = portfolio.invalid_rows()
    assert bad.index.tolist() == [4]
    assert bad.at[4, "DPD"] == "-124"
    assert "Days_Past_Due: negative value" in bad.at[4, "Problems"]


# ---------------------------------------------------------------------------- mapping


def test_suggest_mapping_matches_names_spellings_and_synonyms():
    mapping = suggest_mapping(["days past due", "LOAN_ID", "Monthly-EMI", "outstanding_balance",
                               "customer_id", "Branch"])
    assert mapping == {"Borrower_ID": "customer_id", "Loan_ID": "LOAN_ID",
                       "Outstanding_Loan_Amount": "outstanding_balance",
                       "Monthly_EMI": "Monthly-EMI", "Days_Past_Due": "days past due"}


def test_exact_name_beats_a_synonym_and_each_header_is_used_once():
    mapping = suggest_mapping(["dpd", "Days_Past_Due", "overdue_days"])
    assert mapping == {"Days_Past_Due": "Days_Past_Due"}
    mapping = suggest_mapping(["emi", "Monthly EMI"])
    assert mapping == {"Monthly_EMI": "Monthly EMI"}


def test_user_mapping_is_used_and_other_columns_pass_through():
    data = (CORPUS / "synonym_headers.csv").read_bytes()
    portfolio = load_portfolio(data, "s.csv", mapping={"Days_Past_Due": "DPD",
                                                       "Loan_ID": "loan_no"})
    assert portfolio.mapping == {"Loan_ID": "loan_no", "Days_Past_Due": "DPD"}
    assert portfolio.frame.at[4, "Days_Past_Due"] == 124.0
    assert portfolio.frame.at[2, "salary"] == "215422"  # unmapped: text, own header
    assert "Monthly_Income" in portfolio.report.missing_fields


@pytest.mark.parametrize("mapping, fragment", [
    ({"Days_Overdue": "DPD"}, "Unknown field 'Days_Overdue'"),
    ({"Days_Past_Due": "Days overdue"}, "'Days overdue', which is not a column"),
    ({"Days_Past_Due": "DPD", "Num_Missed_Payments": "DPD"}, "mapped to both"),
])
def test_bad_user_mapping_is_refused(mapping, fragment):
    data = (CORPUS / "synonym_headers.csv").read_bytes()
    with pytest.raises(RecoveryError, match=fragment):
        load_portfolio(data, "s.csv", mapping=mapping)


def test_a_column_named_like_a_field_mapped_elsewhere_is_refused():
    data = (CORPUS / "comma.csv").read_bytes()
    with pytest.raises(RecoveryError, match="Column 'Age' has the name of field Age"):
        load_portfolio(data, "c.csv", mapping={"Age": "Num_Dependents"})


# ---------------------------------------------------------------------------- reading edge cases


def test_excel_formulas_are_never_evaluated_without_a_cached_value():
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Loan_ID", "Loan_Amount"])
    book.active.append(["LN_1", "=1+1"])
    buffer = io.BytesIO()
    book.save(buffer)
    portfolio = load_portfolio(buffer.getvalue(), "f.xlsx")
    assert math.isnan(portfolio.frame.at[2, "Loan_Amount"])


def test_unnamed_empty_columns_from_trailing_separators_are_dropped():
    data = b"Loan_ID,Loan_Amount,,\nLN_1,100,,\nLN_2,200,,\n"
    portfolio = load_portfolio(data, "t.csv")
    assert list(portfolio.frame.columns) == ["Loan_ID", "Loan_Amount"]


def test_one_column_file_is_not_a_table():
    with pytest.raises(RecoveryError, match="does not look like a table"):
        read_table(b"Loan_ID\nLN_1\nLN_2\n", "ids.csv")


def test_quoted_newline_keeps_record_numbers():
    data = b'Loan_ID,Note\nLN_1,"two\nlines"\nLN_2,ok\n'
    table = read_table(data, "n.csv")
    assert table.frame.index.tolist() == [2, 3]
    assert table.frame.at[2, "Note"] == "two\nlines"


def test_sheet_names_lists_worksheets_before_reading():
    import io

    import openpyxl

    from core.data import sheet_names

    book = openpyxl.Workbook()
    book.active.title = "Cover"
    book.create_sheet("Loans")
    buffer = io.BytesIO()
    book.save(buffer)
    assert sheet_names(buffer.getvalue()) == ("Cover", "Loans")
    assert sheet_names(b"Loan_ID,Age\nL1,40\n") == ()
    assert sheet_names(b"PK\x03\x04 not really a workbook") == ()


def test_common_export_spellings_of_ids_are_recognised():
    from core.data import suggest_mapping

    mapping = suggest_mapping(["Loan Account Number", "Cust ID", "Outstanding Balance", "DPD"])
    assert mapping == {"Borrower_ID": "Cust ID", "Loan_ID": "Loan Account Number",
                       "Outstanding_Loan_Amount": "Outstanding Balance", "Days_Past_Due": "DPD"}
    assert suggest_mapping(["Account No", "Customer No"]) == {"Borrower_ID": "Customer No", "Loan_ID": "Account No"}
