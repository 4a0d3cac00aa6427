"""The validation report: what a user reads about their file, and strict number reading."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.data import Problem, ValidationReport, load_portfolio, parse_column
from core.data.schema import BY_NAME
from core.data.validate import _check_category, _Collector

HEADER = "Loan_ID,Age,Days_Past_Due,Outstanding_Loan_Amount,Recovery_Status\n"


def _portfolio(*lines: str):
    """Load a small CSV made of the header above and ``lines``."""
    return load_portfolio((HEADER + "\n".join(lines) + "\n").encode(), "p.csv")


def test_lines_name_column_count_and_rows():
    portfolio = _portfolio("L1,30,-1,100,Written Off", "L2,31,5,100,Written Off",
                           "L3,32,-4,100,Written Off", "L4,33,-9,100,Written Off")
    assert portfolio.report.lines() == ["Days_Past_Due: negative value in 3 rows (rows 2, 4, 5)"]
    assert not portfolio.report.ok
    assert portfolio.report.invalid_rows == (2, 4, 5)


def test_one_row_is_singular_and_long_lists_are_cut_at_ten():
    single = _portfolio("L1,30,-1,100,Written Off", "L2,30,1,100,Written Off")
    assert single.report.lines() == ["Days_Past_Due: negative value in 1 row (row 2)"]
    many = _portfolio(*[f"L{i},30,-1,100,Written Off" for i in range(12)])
    problem = many.report.errors()[0]
    assert problem.count == 12
    assert problem.rows == tuple(range(2, 12))
    assert problem.line().endswith("(rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 2 more)")
    assert many.report.invalid_rows == tuple(range(2, 14))


def test_to_frame_is_a_table_a_user_can_read():
    portfolio = _portfolio("L1,17,1,100,Written Off", "L1,30,1,abc,Pending")
    table = portfolio.report.to_frame()
    assert list(table.columns) == ["Column", "Problem", "Severity", "Rows affected",
                                   "First rows", "Examples"]
    rows = {(r.Column, r.Problem): r for r in table.itertuples()}
    assert rows[("Loan_ID", "repeated Loan_ID (an earlier row has it)")].Severity == "error"
    assert rows[("Loan_ID", "repeated Loan_ID (an earlier row has it)")]._5 == "3"
    assert rows[("Age", "age outside 18-100")].Examples == "'17'"
    assert rows[("Outstanding_Loan_Amount", "text in a numeric column")]._4 == 1
    # 'Pending' is not one of the tutorial's spellings: the column stays as the file wrote it (core.data.roles)
    assert "Recovery_Status" not in table["Column"].tolist()
    # Errors come before warnings.
    assert table["Severity"].tolist() == sorted(table["Severity"].tolist())


def test_empty_report_is_ok():
    report = ValidationReport((), (), ())
    assert report.ok and report.lines() == [] and report.to_frame().empty


def test_warnings_keep_rows_and_errors_exclude_them():
    portfolio = _portfolio("L1,30,1,,", "L2,30,1,-5,Fully Recovered", "L3,,2,7,FULLY recovered")
    assert portfolio.report.invalid_rows == (3,)
    assert portfolio.valid_rows().index.tolist() == [2, 4]
    assert portfolio.frame.at[4, "Recovery_Status"] == "Fully Recovered"
    severities = {p.problem: p.severity for p in portfolio.report.problems}
    assert severities["negative amount"] == "error"
    assert severities["written differently, read as 'Fully Recovered'"] == "warning"
    assert any("no outcome" in p and s == "warning" for p, s in severities.items())


def test_missing_fields_lists_unmapped_canonical_fields():
    portfolio = _portfolio("L1,30,1,100,Written Off")
    assert "Monthly_Income" in portfolio.report.missing_fields
    assert "Days_Past_Due" not in portfolio.report.missing_fields


def test_problem_defaults_to_no_examples():
    problem = Problem("Age", "missing value", 1, (2,), "warning")
    assert problem.examples == ()


# ---------------------------------------------------------------------------- numbers


def _parse(cells: list[str | None], separator: str | None = ",", percent: bool = False):
    return parse_column(pd.Series(cells, index=range(2, 2 + len(cells)), dtype="str"),
                        separator, percent)


@pytest.mark.parametrize("cells, separator, read_by", [
    (["12", "7", None], ",", None),             # whole numbers read the same with either mark
    (["12", "7"], ";", None),
    (["12.5", "7"], ";", "dot"),                 # a point with one or two digits after it is a decimal point
    (["1.234,5", "12"], ";", "comma"),
    (["1,234", "5"], ",", "dot"),                # ambiguous: the comma file's convention decided it
    (["1,234", "5"], ";", "comma"),
    (["$ 1,000", "12"], ",", "dot"),
])
def test_a_column_says_which_decimal_mark_its_values_depended_on(cells, separator, read_by):
    assert _parse(cells, separator).read_by == read_by


@pytest.mark.parametrize("cells, separator, expected", [
    (["1,234.5", "12"], ",", [1234.5, 12.0]),
    (["1.234,5", "12"], ";", [1234.5, 12.0]),
    (["50,5", "1.234"], ";", [50.5, 1234.0]),
    (["1,234", "5"], ",", [1234.0, 5.0]),       # a comma file writes thousands with commas
    (["1,234", "5"], ";", [1.234, 5.0]),        # a semicolon file writes decimal commas
    (["$ 1,000", "-€5", "£-5", "USD 12.5", "7 Rs.", "₹10,44,620"], ",",
     [1000.0, -5.0, -5.0, 12.5, 7.0, 1044620.0]),
    (["1 234,50", "1\u00a0000,25"], ";", [1234.5, 1000.25]),
    (["(1,000.50)"], ",", [-1000.5]),
    (["1e3", "2.5E-2"], ",", [1000.0, 0.025]),
])
def test_numbers_are_read_one_way_per_column(cells, separator, expected):
    parsed = _parse(cells, separator)
    assert parsed.bad == {}
    assert parsed.values.tolist() == expected


def test_decimal_comma_is_never_read_as_thousands():
    parsed = _parse(["50,5", "1,234.5"], ",")
    assert 505.0 not in parsed.values.tolist()
    assert parsed.bad  # one of the two cannot be trusted


def test_ambiguous_columns_are_errors_not_guesses():
    parsed = _parse(["1,234", "2,500"], "\t")
    assert set(parsed.bad) == {2, 3}
    assert parsed.values.isna().all()


def test_percent_only_where_allowed():
    assert _parse(["12.5%"], percent=True).values.tolist() == [12.5]
    assert _parse(["12.5%"], percent=False).bad == {2: "text in a numeric column"}


@pytest.mark.parametrize("cell", ["inf", "-Infinity", "nan", "1e309", "-1e400"])
def test_non_finite_numbers_are_errors(cell):
    parsed = _parse([cell])
    assert parsed.bad == {2: "not a finite number"}
    assert math.isnan(parsed.values[2])


@pytest.mark.parametrize("cell", ["abc", "1.2.3", "12-5", "--5", "1,23,4", "$", "5 5", "0x10"])
def test_text_is_reported_not_coerced(cell):
    assert _parse([cell]).bad == {2: "text in a numeric column"}


@pytest.mark.parametrize("token", ["N/A", "NA", "n/a", "#N/A", "-", "--", "null", "NULL", "None", " n/a "])
def test_missing_value_words_in_a_numeric_column_are_read_as_missing_and_said(token):
    from core.data import MISSING_WRITTEN, check

    frame = pd.DataFrame({"Monthly_Income": ["52000", token, "61000"]}, index=pd.Index([2, 3, 4], name="Row"),
                         dtype="str")
    checked = check(frame, ["Monthly_Income"], ",")
    assert checked.report.ok  # no row is invalid
    assert np.isnan(checked.frame.loc[3, "Monthly_Income"]) and checked.frame.loc[2, "Monthly_Income"] == 52000
    problem = next(p for p in checked.report.problems if p.problem == MISSING_WRITTEN)
    assert problem.rows == (3,) and problem.severity == "warning" and problem.examples == (token,)


@pytest.mark.parametrize("cells", [["Male", "Female", "Male"], ["Male", " female", "Male"], ["Male", None, "Female"],
                                   ["Male", "Other", "Female"], ["Male", "MALE", "Unknown", "Female"]])
def test_a_category_read_from_arrow_text_says_and_types_what_object_text_does(cells):
    index = pd.RangeIndex(2, 2 + len(cells), name="Row")
    arrow, plain = _Collector(), _Collector()
    typed = _check_category(BY_NAME["Gender"], pd.Series(cells, index=index, dtype="str"), arrow)
    expected = _check_category(BY_NAME["Gender"], pd.Series(cells, index=index, dtype=object), plain)
    pd.testing.assert_series_equal(typed, expected)
    assert arrow.problems() == plain.problems()
    assert (arrow.problems() == ()) == all(c in ("Male", "Female") for c in cells)
