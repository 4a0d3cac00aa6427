"""Properties of reading: accepted files round-trip exactly; anything else is a RecoveryError."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import Limits, load_portfolio
from core.errors import RecoveryError

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

GENDERS = ("Male", "Female")
STATUSES = ("Fully Recovered", "Partially Recovered", "Written Off")
NOTES = ("Café", "Zürich", "Renée Müller", "São Paulo", "plain note", "A, B; C | D")


@dataclass(frozen=True)
class Loan:
    """One generated row: what the file says, in canonical terms."""

    loan_id: str
    borrower_id: str
    age: int | None
    amount_cents: int | None
    rate_hundredths: int | None
    gender: str | None
    status: str | None
    note: str


ids = st.text(alphabet="0123456789LNBRW_-", min_size=1, max_size=8)
loans = st.builds(
    Loan,
    loan_id=ids,
    borrower_id=ids,
    age=st.none() | st.integers(18, 100),
    amount_cents=st.none() | st.integers(0, 10**11),
    rate_hundredths=st.none() | st.integers(0, 10_000),
    gender=st.none() | st.sampled_from(GENDERS),
    status=st.none() | st.sampled_from(STATUSES),
    note=st.sampled_from(NOTES),
)
portfolios = st.lists(loans, min_size=1, max_size=12, unique_by=lambda loan: loan.loan_id)

HEADER = ["Loan_ID", "Borrower_ID", "Age", "Loan_Amount", "Interest_Rate", "Gender",
          "Recovery_Status", "Note"]
# Number styles a separator can carry without ambiguity (see core.data.numbers).
STYLES = {",": ("plain", "grouped"), ";": ("plain", "comma", "comma_grouped"),
          "\t": ("plain", "comma"), "|": ("plain", "comma")}


def number_text(cents: int, scale: int, style: str, currency: str) -> str:
    """Write cents/scale as a spreadsheet user might: grouping, decimal comma, currency."""
    whole, fraction = divmod(cents, scale)
    digits = f"{fraction:0{len(str(scale)) - 1}d}".rstrip("0")
    grouped = style in ("grouped", "comma_grouped")
    head = f"{whole:,}" if grouped else str(whole)
    if style.startswith("comma"):
        head = head.replace(",", ".")
        text = head + ("," + digits if digits else "")
    else:
        text = head + ("." + digits if digits else "")
    return currency + text


def expected_number(cents: int | None, scale: int) -> float | None:
    """The float a correct reader must produce."""
    if cents is None:
        return None
    whole, fraction = divmod(cents, scale)
    digits = f"{fraction:0{len(str(scale)) - 1}d}"
    return float(f"{whole}.{digits}")


def csv_bytes(rows: list[Loan], separator: str, style: str, encoding: str, eol: str,
              currency: str) -> bytes:
    """The portfolio as a CSV file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator=eol)
    writer.writerow(HEADER)
    for loan in rows:
        writer.writerow([
            loan.loan_id, loan.borrower_id, "" if loan.age is None else str(loan.age),
            "" if loan.amount_cents is None else number_text(loan.amount_cents, 100, style,
                                                              currency),
            "" if loan.rate_hundredths is None else number_text(loan.rate_hundredths, 100,
                                                                 style, ""),
            loan.gender or "", loan.status or "", loan.note,
        ])
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[Loan]) -> bytes:
    """The portfolio as an Excel workbook with numbers stored as numbers."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for loan in rows:
        loan_id: object = loan.loan_id
        if loan.loan_id.isdigit() and not loan.loan_id.startswith("0"):
            loan_id = float(loan.loan_id)  # Excel turns typed digits into a number
        sheet.append([loan_id, loan.borrower_id, loan.age,
                      expected_number(loan.amount_cents, 100),
                      expected_number(loan.rate_hundredths, 100),
                      loan.gender, loan.status, loan.note])
    # Fixed dates keep the bytes identical across runs, which hypothesis needs to shrink.
    book.properties.created = book.properties.modified = datetime(2024, 1, 1)
    buffer = io.BytesIO()
    book.save(buffer)
    return _without_clock(buffer.getvalue())


def _without_clock(data: bytes) -> bytes:
    """The workbook with the save time openpyxl writes (zip entry dates, 'modified') fixed to 2024-01-01.

    Otherwise the same drawn rows give other bytes once the clock ticks, which hypothesis reports as
    an inconsistent strategy on a busy machine.
    """
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z", body)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0)), body,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def assert_round_trip(rows: list[Loan], frame: pd.DataFrame) -> None:
    """Every value the file holds is in the portfolio, unchanged, on its spreadsheet row."""
    assert frame.index.tolist() == list(range(2, 2 + len(rows)))
    for row, loan in zip(frame.index, rows):
        assert frame.at[row, "Loan_ID"] == loan.loan_id
        assert frame.at[row, "Borrower_ID"] == loan.borrower_id
        assert frame.at[row, "Note"] == loan.note
        for column, value in [("Age", None if loan.age is None else float(loan.age)),
                              ("Loan_Amount", expected_number(loan.amount_cents, 100)),
                              ("Interest_Rate", expected_number(loan.rate_hundredths, 100)),
                              ("Gender", loan.gender), ("Recovery_Status", loan.status)]:
            actual = frame.at[row, column]
            if value is None:
                assert pd.isna(actual), (column, row, actual)
            else:
                assert actual == value, (column, row, actual)


@st.composite
def csv_formats(draw):
    """A separator, a number style it allows, an encoding, a line end and a currency."""
    separator = draw(st.sampled_from(sorted(STYLES)))
    style = draw(st.sampled_from(STYLES[separator]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    currency = draw(st.sampled_from(["", "$", "USD ", "Rs. "]))
    return separator, style, encoding, eol, currency


@FAST
@given(rows=portfolios, fmt=csv_formats())
def test_accepted_csv_round_trips_exactly(rows, fmt):
    separator, style, encoding, eol, currency = fmt
    data = csv_bytes(rows, separator, style, encoding, eol, currency)
    portfolio = load_portfolio(data, "generated.csv")
    assert portfolio.info.separator == separator
    assert portfolio.report.ok, portfolio.report.lines()
    assert_round_trip(rows, portfolio.frame)


@FAST
@given(rows=portfolios)
def test_accepted_xlsx_round_trips_exactly(rows):
    portfolio = load_portfolio(xlsx_bytes(rows), "generated.xlsx")
    assert portfolio.report.ok, portfolio.report.lines()
    assert_round_trip(rows, portfolio.frame)


def _load_or_refuse(data: bytes, name: str) -> None:
    """Loading either works or raises RecoveryError; nothing else may escape."""
    try:
        load_portfolio(data, name, limits=Limits(max_rows=200))
    except RecoveryError as error:
        assert str(error)


@FAST
@given(data=st.binary(max_size=2000), name=st.sampled_from(["x.csv", "x.xlsx", "x.txt"]))
def test_random_bytes_raise_only_recovery_error(data, name):
    _load_or_refuse(data, name)


@st.composite
def mutated_files(draw):
    """A valid CSV or workbook with a few bytes flipped, dropped, inserted or cut off."""
    rows = draw(st.lists(loans, min_size=1, max_size=5, unique_by=lambda loan: loan.loan_id))
    if draw(st.booleans()):
        data = bytearray(xlsx_bytes(rows))
    else:
        data = bytearray(csv_bytes(rows, ",", "plain", draw(st.sampled_from(["utf-8", "utf-16"])),
                                   "\n", ""))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "drop", "insert", "truncate"]))
        if action == "flip":
            data[position] = draw(st.integers(0, 255))
        elif action == "drop":
            del data[position]
        elif action == "insert":
            data.insert(position, draw(st.sampled_from([0, 10, 13, 34, 44, 59, 0xFF, 0x80])))
        else:
            del data[position:]
    return bytes(data)


@FAST
@given(data=mutated_files())
def test_mutated_files_raise_only_recovery_error(data):
    _load_or_refuse(data, "mutated.csv")


def test_short_cp1252_file_is_not_read_as_chinese():
    # found by the property above: charset-normalizer ranked gb18030 first ('Zürich' as 'Z黵ich')
    rows = [Loan(loan_id="0", borrower_id="0", age=None, amount_cents=None, rate_hundredths=None,
                 gender=None, status=None, note="Zürich"),
            Loan(loan_id="1", borrower_id="0", age=None, amount_cents=None, rate_hundredths=None,
                 gender=None, status=None, note="Renée Müller")]
    portfolio = load_portfolio(csv_bytes(rows, "\t", "plain", "cp1252", "\n", ""), "loans.csv")
    assert portfolio.info.encoding == "cp1252"
    assert_round_trip(rows, portfolio.frame)
