"""A later chunk read with the first chunk's layout gives exactly what reading it whole gives, or is read whole."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from core.data import load_portfolio
from core.data.chunk_check import _plain_numbers, _short_way, layout_of, load_chunk
from core.data.numbers import _FAST
from core.errors import RecoveryError
from sample_data.generate import generate_portfolio


@pytest.fixture(scope="module")
def parts() -> tuple[bytes, bytes, list[bytes]]:
    """A header, a first chunk and the later chunk's lines, as the demo generator writes them."""
    frame, _ = generate_portfolio(n=120, seed=3)
    frame["Recovery_Status"] = frame["Recovery_Status"].astype(object)
    frame.loc[frame.index[::5], "Recovery_Status"] = None
    lines = frame.to_csv(index=False).encode().splitlines(keepends=True)
    return lines[0], b"".join(lines[1:61]), lines[61:]


def _same(header: bytes, first: bytes, body: bytes):
    """load_chunk's portfolio beside load_portfolio's; says whether the short way took the chunk."""
    layout = layout_of(header, load_portfolio(header + first, "june.csv"))
    assert layout is not None
    try:
        whole = load_portfolio(header + body, "june.csv")
    except RecoveryError as refused:  # the same refusal, word for word
        with pytest.raises(RecoveryError) as short:
            load_chunk(header, body, "june.csv", layout)
        assert str(short.value) == str(refused)
        return False, None
    got = load_chunk(header, body, "june.csv", layout)
    pd.testing.assert_frame_equal(got.frame, whole.frame, check_exact=True)
    assert (got.report, got.mapping, got.info, dict(got.row_notes)) == (
        whole.report, whole.mapping, whole.info, dict(whole.row_notes))
    return _short_way(body, "june.csv", layout) is not None, got


def _edit(lines: list[bytes], row: int, column: int, value: bytes) -> bytes:
    """The lines with one cell replaced."""
    cells = lines[row].rstrip(b"\n").split(b",")
    cells[column] = value
    return b"".join(lines[:row] + [b",".join(cells) + b"\n"] + lines[row + 1:])


def test_a_regular_chunk_is_read_the_short_way_with_the_same_values_and_warnings(parts):
    header, first, rest = parts
    short, got = _same(header, first, _edit(rest, 7, 4, b""))  # an empty income: a warning, not an error
    assert short
    assert got.frame.index[0] == 2 and got.frame["Monthly_Income"].isna().sum() == 1
    assert any(p.column == "Monthly_Income" and p.rows == (9,) for p in got.report.warnings())


@pytest.mark.parametrize("cell", [b"5.", b"1e5", b" 120000", b"inf", b"1.234", b"N/A", b"12,5", b"12;5", b"+7", b"(5)",
                                  b"9" * 400])
def test_a_number_in_another_shape_reads_as_the_whole_reader_reads_it(parts, cell):
    header, first, rest = parts
    _same(header, first, _edit(rest, 3, 4, cell))


@pytest.mark.parametrize("body", [
    lambda rest: b"".join(rest[:10]) + b"\n" + b"".join(rest[10:]),  # a blank line: still counted
    lambda rest: b"".join(rest[:10]) + b'"quoted",' + rest[10].split(b",", 1)[1] + b"".join(rest[11:]),
    lambda rest: b"".join(line.replace(b"\n", b"\r\n") for line in rest),
    lambda rest: b"".join(rest[:5]) + rest[5].replace(b"Male", b" male ") + b"".join(rest[6:]),
    lambda rest: b"".join(rest) + b"".join(rest[:1]),  # a loan repeated inside the chunk
    lambda rest: b"".join(rest[:4]) + b"BRW_X,41\n" + b"".join(rest[4:]),  # a short row: padded
    lambda rest: b"".join(line.replace(b"Fully Recovered", b"Paid") for line in rest),  # the outcome's own words
])
def test_an_irregular_chunk_reads_exactly_as_the_whole_reader_reads_it(parts, body):
    header, first, rest = parts
    _same(header, first, body(rest))


def test_an_invalid_row_is_named_by_the_whole_reader_with_its_row(parts):
    header, first, rest = parts
    short, got = _same(header, first, _edit(rest, 20, 1, b"-3"))
    assert not short and not got.report.ok
    assert got.report.errors()[0].line() == "Age: age outside 18-100 in 1 row (row 22)"


@pytest.mark.parametrize("cells", [
    ["12", "7", "", "0"], ["12.39", "1234.5", "1.5", "", "0.0"], ["1.234", "5"], ["5.", "1"], [".5", "1"],
    ["1..2", "3"], ["1.2.3", "4"], ["1.2", "3.4.5"], ["12.3456", "1.2345", "123.45"], ["0012", "1.00"],
    ["-4", "12.39", ""], ["+7", "1"], [" 12", "1"], ["1,5", "2"], ["N/A", "3"], ["1e5", "2"], ["٣", "1"],
    ["", ""], ["9" * 400, "1"],
])
def test_plain_numbers_from_the_bytes_are_what_the_shape_test_and_float_give(cells):
    got = _plain_numbers(pa.array(cells, type=pa.string()), pd.RangeIndex(len(cells)))
    plain = all(c == "" or re.match(_FAST, c) for c in cells)
    if not plain or any(c and np.isinf(float(c)) for c in cells):
        assert got is None
        return
    values, pointed = got
    expected = [np.nan if c == "" else float(c) for c in cells]
    np.testing.assert_array_equal(values.to_numpy(), np.array(expected, dtype="float64"))
    assert pointed == any("." in c for c in cells)


@pytest.mark.parametrize("cells", [[b"1.5", b"1234.56", b""], [b"1.23", b"1.234"], [b"12", b"-3.5"], [b"7.", b"1"]])
def test_decimal_cells_in_a_chunk_read_as_the_whole_reader_reads_them(parts, cells):
    header, first, rest = parts
    for at, cell in enumerate(cells):  # Interest_Rate, a column of decimals, and Age, one of whole numbers
        rest = _edit(rest, 3 + at, 9, cell).splitlines(keepends=True)
        rest = _edit(rest, 10 + at, 1, cell).splitlines(keepends=True)
    _same(header, first, b"".join(rest))


@pytest.mark.parametrize("cell", [b"Female", b"", b" ", b"Other", b"male", b"Male ", b"\xc2\xa0Male"])
def test_a_category_cell_in_a_chunk_reads_as_the_whole_reader_reads_it(parts, cell):
    header, first, rest = parts
    clean = [line.replace(b",,", b",Fully Recovered,") for line in rest]  # every outcome written
    short, got = _same(header, first, _edit(clean, 5, 2, cell))  # Gender
    assert short  # a warning at most: the short way reads it
    assert (got.report.problems == ()) == (cell == b"Female")
