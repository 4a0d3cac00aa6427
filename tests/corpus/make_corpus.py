"""Regenerate the malformed-file corpus byte for byte: `python tests/corpus/make_corpus.py`.

Each file is a realistic loan portfolio (the 21 canonical columns) written the way some
real tool or person writes it, or broken the way real uploads break. What each file must
produce is in tests/test_ingest.py (CORPUS).
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).parent

COLUMNS = [
    "Borrower_ID", "Age", "Gender", "Employment_Type", "Monthly_Income", "Num_Dependents",
    "Loan_ID", "Loan_Amount", "Loan_Tenure", "Interest_Rate", "Loan_Type", "Collateral_Value",
    "Outstanding_Loan_Amount", "Monthly_EMI", "Payment_History", "Num_Missed_Payments",
    "Days_Past_Due", "Recovery_Status", "Collection_Attempts", "Collection_Method",
    "Legal_Action_Taken",
]

# Six borrowers in the shape of the notebook's dataset; values as a clean CSV writes them.
ROWS = [
    ["BRW_1", "59", "Male", "Salaried", "215422", "0", "LN_1", "1445796", "60", "12.39", "Home",
     "1727997.258", "291413.0058", "4856.88", "On-Time", "0", "0", "Partially Recovered", "1",
     "Settlement Offer", "No"],
    ["BRW_2", "49", "Female", "Salaried", "60893", "0", "LN_2", "1044620", "12", "13.47", "Auto",
     "1180032.362", "665204.1539", "55433.68", "On-Time", "0", "0", "Fully Recovered", "2",
     "Settlement Offer", "No"],
    ["BRW_3", "35", "Male", "Salaried", "116520", "1", "LN_3", "1923410", "72", "7.74", "Home",
     "2622539.931", "1031371.997", "14324.61", "Delayed", "2", "124", "Fully Recovered", "2",
     "Legal Notice", "No"],
    ["BRW_4", "63", "Female", "Salaried", "140818", "2", "LN_4", "1811663", "36", "12.23", "Home",
     "1145492.68", "224973.9213", "6249.28", "On-Time", "1", "56", "Fully Recovered", "2",
     "Calls", "No"],
    ["BRW_5", "28", "Male", "Self-Employed", "76272", "3", "LN_5", "88578", "48", "16.13",
     "Personal", "0", "39189.68", "816.44", "Missed", "4", "211", "Written Off", "6",
     "Debt Collectors", "Yes"],
    ["BRW_6", "41", "Female", "Business Owner", "98000", "1", "LN_6", "250000", "24", "9.5",
     "Business", "300000", "125000.5", "11250", "Delayed", "3", "95", "Partially Recovered",
     "4", "Legal Notice", "Yes"],
]

NUMERIC = {"Age", "Monthly_Income", "Num_Dependents", "Loan_Amount", "Loan_Tenure",
           "Interest_Rate", "Collateral_Value", "Outstanding_Loan_Amount", "Monthly_EMI",
           "Num_Missed_Payments", "Days_Past_Due", "Collection_Attempts"}
FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def rows() -> list[list[str]]:
    """A fresh copy of the base rows to edit."""
    return [list(r) for r in ROWS]


def col(name: str) -> int:
    """Position of a canonical column."""
    return COLUMNS.index(name)


def quote(cell: str, sep: str) -> str:
    """Quote a cell the way Excel does when it holds the separator or a quote."""
    if sep in cell or '"' in cell or "\n" in cell:
        return '"' + cell.replace('"', '""') + '"'
    return cell


def csv_text(header: list[str], body: list[list[str]], sep: str = ",", eol: str = "\n") -> str:
    """Join rows into CSV text."""
    lines = [sep.join(quote(c, sep) for c in line) for line in [header, *body]]
    return eol.join(lines) + eol


def plain(sep: str = ",", eol: str = "\n", encoding: str = "utf-8") -> bytes:
    """The base portfolio as CSV bytes."""
    return csv_text(COLUMNS, rows(), sep, eol).encode(encoding)


def european(value: str) -> str:
    """A dot-decimal number written with '.' thousands and a decimal comma."""
    whole, _, fraction = value.partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return grouped + ("," + fraction if fraction else "")


def us_grouped(value: str) -> str:
    """A dot-decimal number written with ',' thousands."""
    whole, _, fraction = value.partition(".")
    return f"{int(whole):,}" + ("." + fraction if fraction else "")


def with_numbers(style: Callable[[str], str], names: set[str] = NUMERIC) -> list[list[str]]:
    """Base rows with the numeric cells of ``names`` rewritten by ``style``."""
    body = rows()
    for line in body:
        for name in names:
            line[col(name)] = style(line[col(name)])
    return body


def fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps so the bytes do not change between runs."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(member.filename)
            if member.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z",
                                 content)
            target.writestr(info, content)
    return out.getvalue()


def workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    """An .xlsx with the given sheets, deterministic bytes."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, table in sheets.items():
        sheet = book.create_sheet(title)
        for line in table:
            sheet.append(line)
    book.properties.created = datetime(2024, 1, 1)
    book.properties.modified = datetime(2024, 1, 1)
    buffer = io.BytesIO()
    book.save(buffer)
    return fixed_zip(buffer.getvalue())


def typed_rows() -> list[list[object]]:
    """Base rows as Excel stores them: numbers as numbers, IDs as text."""
    return [[float(c) if COLUMNS[i] in NUMERIC else c for i, c in enumerate(line)]
            for line in rows()]


def xlsx_with_cached_formula() -> bytes:
    """A workbook whose Monthly_EMI in row 2 is a formula with a cached value, as Excel saves it."""
    table = [COLUMNS, *typed_rows()]
    table[1][col("Monthly_EMI")] = "=1000+234.5"
    data = workbook({"Loans": table})
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            content = source.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<f>1000+234.5</f><v />",
                                          b"<f>1000+234.5</f><v>1234.5</v>")
            info = zipfile.ZipInfo(member.filename, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, content)
    return out.getvalue()


def xlsx_with_uncomputed_formulas() -> bytes:
    """A workbook whose Total_Due column is formulas, saved by openpyxl: no values are saved."""
    header = COLUMNS + ["Total_Due"]
    outstanding, emi = (chr(65 + col(c)) for c in ("Outstanding_Loan_Amount", "Monthly_EMI"))
    body = [line + [f"={outstanding}{n}+{emi}{n}"] for n, line in enumerate(typed_rows(), 2)]
    return workbook({"Loans": [header, *body]})


def xlsx_with_dates() -> bytes:
    """A workbook with a date column (dates, one with a time) and account numbers as floats."""
    header = COLUMNS + ["Disbursed", "Account_No"]
    dates = [datetime(2024, 3, 1), datetime(2024, 3, 1, 14, 30), datetime(2023, 12, 31),
             datetime(2022, 6, 15), datetime(2021, 1, 2, 9, 5, 7), datetime(2020, 2, 29)]
    body = [line + [when, float(29305 + n)] for n, (line, when) in enumerate(zip(typed_rows(),
                                                                                  dates))]
    return workbook({"Loans": [header, *body]})


def edited(changes: dict[tuple[int, str], str], sep: str = ",") -> bytes:
    """Base CSV with cells changed; keys are (0-based data row, column)."""
    body = rows()
    for (index, name), value in changes.items():
        body[index][col(name)] = value
    return csv_text(COLUMNS, body, sep).encode("utf-8")


def build() -> dict[str, bytes]:
    """Every corpus file by name."""
    files: dict[str, bytes] = {}
    files["comma.csv"] = plain()
    files["semicolon_decimal_comma.csv"] = csv_text(COLUMNS, with_numbers(european), ";").encode()
    files["tab.tsv"] = plain("\t")
    files["pipe.csv"] = plain("|")
    files["utf8_bom.csv"] = b"\xef\xbb\xbf" + plain()
    files["utf16_bom_tab.txt"] = csv_text(COLUMNS, rows(), "\t", "\r\n").encode("utf-16")
    body = with_numbers(european, {"Monthly_Income", "Loan_Amount", "Interest_Rate"})
    for line in body:
        line[col("Loan_Amount")] = line[col("Loan_Amount")] + " €"
    header = COLUMNS + ["Branch"]
    body = [line + [branch] for line, branch in zip(body, ["Café Zürich", "Montréal", "Nîmes",
                                                         "Lisboa", "Málaga", "Köln"])]
    files["cp1252_semicolon.csv"] = csv_text(header, body, ";", "\r\n").encode("cp1252")
    files["crlf.csv"] = plain(eol="\r\n")
    header = COLUMNS + ["Address"]
    body = [line + [f"{n} Park Road, Flat {n}, \"Rose\" House"] for n, line in enumerate(rows(), 1)]
    files["quoted_separators.csv"] = csv_text(header, body).encode()
    files["thousands_comma.csv"] = csv_text(COLUMNS, with_numbers(us_grouped)).encode()
    body = rows()
    for line, money in zip(body, ["$1,445,796", "₹ 10,44,620", "USD 1923410", "Rs. 1811663",
                                  "£88,578.00", "250 000 €"]):
        line[col("Loan_Amount")] = money
    files["currency_symbols.csv"] = csv_text(COLUMNS, body).encode()
    body = rows()
    for line in body:
        line[col("Interest_Rate")] += "%"
    files["percent_rate.csv"] = csv_text(COLUMNS, body).encode()
    typed = typed_rows()
    typed[0][col("Loan_ID")] = "00123"
    files["portfolio.xlsx"] = workbook({"Loans": [COLUMNS, *typed]})
    files["two_sheets.xlsx"] = workbook({"Read me": [["Exported from the core banking system"]],
                                         "Loans": [COLUMNS, *typed_rows()]})
    files["excel_renamed.csv"] = workbook({"Sheet1": [COLUMNS, *typed_rows()]})
    numeric_ids = typed_rows()
    for n, line in enumerate(numeric_ids, 1):
        line[col("Loan_ID")] = float(1000 + n)
    files["numeric_ids.xlsx"] = workbook({"Loans": [COLUMNS, *numeric_ids]})
    files["formula_cached.xlsx"] = xlsx_with_cached_formula()
    files["formula_uncomputed.xlsx"] = xlsx_with_uncomputed_formulas()
    files["dates.xlsx"] = xlsx_with_dates()
    files["title_above_header.xlsx"] = workbook(
        {"Loans": [["Loan book, March 2024"], [], COLUMNS, *typed_rows()]})
    files["notes_above_header.xlsx"] = workbook(
        {"Loans": [["Collections portfolio"], ["Exported by", "ops@lender.example"],
                   ["Figures in INR"], [], COLUMNS, *typed_rows()]})
    files["title_above_header.csv"] = ("Loan book, March 2024\n\n" + plain().decode()).encode()
    files["excel_title_above_header.csv"] = csv_text(
        ["Loan book, March 2024"] + [""] * 20, [[""] * 21, COLUMNS, *rows()]).encode()
    files["legacy.xls"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(random.Random(1).randbytes(600))
    files["damaged.xlsx"] = files["portfolio.xlsx"][:400]
    notes = io.BytesIO()
    with zipfile.ZipFile(notes, "w") as archive:
        archive.writestr(zipfile.ZipInfo("loans.txt", date_time=FIXED_TIME), plain())
    files["zip_not_xlsx.csv"] = notes.getvalue()
    files["empty.csv"] = b""
    files["whitespace_only.csv"] = b"  \r\n\r\n  \n"
    files["header_only.csv"] = (",".join(COLUMNS) + "\r\n").encode()
    files["binary_garbage.csv"] = random.Random(7).randbytes(2048)
    files["pdf_renamed.csv"] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    files["prose.csv"] = ("Dear collections team\nPlease find the portfolio attached\n"
                          "Regards\nOperations\n").encode()
    body = rows()
    body[2] = body[2] + ["unexpected"]
    files["ragged_long.csv"] = csv_text(COLUMNS, body).encode()
    text = csv_text(COLUMNS, rows()).splitlines()
    text[3] = ",".join(text[3].split(",")[:17])  # row 4 stops after Days_Past_Due
    files["ragged_short.csv"] = ("\n".join(text) + "\n").encode()
    header = list(COLUMNS)
    header[col("Num_Dependents")] = "Age"
    files["duplicate_headers.csv"] = csv_text(header, rows()).encode()
    files["nul_bytes.csv"] = plain().replace(b"BRW_3", b"BRW\x00_3")
    files["non_finite.csv"] = edited({(0, "Monthly_Income"): "inf", (2, "Monthly_Income"): "1e309",
                                      (4, "Monthly_Income"): "NaN"})
    files["leading_zero_ids.csv"] = edited({(0, "Loan_ID"): "00123", (1, "Borrower_ID"): "007"})
    synonyms = {"Borrower_ID": "customer_id", "Age": "borrower_age", "Monthly_Income": "salary",
                "Loan_ID": "loan_no", "Loan_Amount": "principal", "Loan_Tenure": "tenure_months",
                "Interest_Rate": "ROI", "Outstanding_Loan_Amount": "outstanding_balance",
                "Monthly_EMI": "EMI", "Days_Past_Due": "DPD", "Recovery_Status": "status"}
    files["synonym_headers.csv"] = csv_text([synonyms.get(c, c) for c in COLUMNS], rows()).encode()
    spelled = {"Days_Past_Due": "days past due", "Monthly_EMI": "Monthly-EMI",
               "Loan_Amount": "LOAN AMOUNT"}
    files["uppercase_headers.csv"] = csv_text(
        [spelled.get(c, c.upper()) for c in COLUMNS], rows()).encode()
    files["negative_amounts.csv"] = edited({(1, "Loan_Amount"): "-5000",
                                            (3, "Outstanding_Loan_Amount"): "(1,200.50)",
                                            (4, "Days_Past_Due"): "-3"})
    files["duplicate_loan_ids.csv"] = edited({(3, "Loan_ID"): "LN_1", (5, "Loan_ID"): "LN_1"})
    files["out_of_range.csv"] = edited({(0, "Age"): "17", (1, "Age"): "120",
                                        (2, "Interest_Rate"): "150", (3, "Num_Dependents"): "2.5",
                                        (4, "Loan_Tenure"): "0"})
    files["text_in_numeric.csv"] = edited({(0, "Age"): "fifty", (1, "Monthly_Income"): "N/A",
                                           (2, "Monthly_Income"): "60,893,",
                                           (3, "Interest_Rate"): "12.2%",
                                           (4, "Monthly_EMI"): "5%"})
    body = with_numbers(european, {"Interest_Rate"})
    body[4][col("Interest_Rate")] = "16.13"  # one cell typed with a decimal point
    files["mixed_decimal_marks.csv"] = csv_text(COLUMNS, body, ";").encode()
    body = rows()
    for line, amount in zip(body, ["1,445", "1,044", "1,923", "1,811", "88", "250"]):
        line[col("Monthly_EMI")] = amount
    files["ambiguous_thousands.tsv"] = csv_text(COLUMNS, body, "\t").encode()
    files["category_variants.csv"] = edited({(0, "Recovery_Status"): "fully recovered",
                                             (1, "Gender"): " FEMALE ",
                                             (2, "Loan_Type"): "Mortgage",
                                             (3, "Recovery_Status"): "fully  Recovered"})
    files["missing_values.csv"] = edited({(0, "Monthly_Income"): "", (2, "Recovery_Status"): "",
                                          (3, "Loan_ID"): "", (4, "Gender"): "  "})
    text = plain().decode().splitlines()
    files["blank_lines.csv"] = ("\n".join(text[:3] + ["", ",,,"] + text[3:]) + "\n").encode()
    files["unclosed_quote.csv"] = plain().replace(b"BRW_4,", b'"BRW_4,', 1)
    files["extra_columns.csv"] = csv_text(
        COLUMNS + ["Branch", "Officer"], [r + ["Pune", "A. Rao"] for r in rows()]).encode()
    return files


def main() -> None:
    """Write every corpus file next to this script."""
    for name, data in build().items():
        (HERE / name).write_bytes(data)
    print(f"wrote {len(build())} files to {HERE}")


if __name__ == "__main__":
    main()
