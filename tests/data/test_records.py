"""Record ends found without reading cells agree with csv.reader, stray quotes and block edges included."""

from __future__ import annotations

import csv
import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data import Where, block_records, record_ends, separator_of

_PLAIN = st.text(alphabet='ab 5"', min_size=0, max_size=6).filter(lambda s: not s.startswith('"'))
_QUOTED = st.text(alphabet='ab ,;"\n', min_size=0, max_size=6).map(lambda s: '"' + s.replace('"', '""') + '"')
_CELL = st.one_of(_PLAIN, _QUOTED)
_RECORDS = st.lists(st.lists(_CELL, min_size=1, max_size=4), min_size=1, max_size=12)


def _written(records: list[list[str]], separator: str) -> tuple[bytes, list[int]]:
    """The file's bytes and the position of each record's line end."""
    text, ends = "", []
    for record in records:
        text += separator.join(record)
        ends.append(len(text.encode()))
        text += "\n"
    return text.encode(), ends


def _chained(data: bytes, cuts: list[int], separator: bytes) -> list[int]:
    """Record ends found block by block, the reader's place carried across each edge."""
    found, where, start = [], Where.CELL_START, 0
    for end in [*cuts, len(data)]:
        ends, where = block_records(data[start:end], separator, where)
        found.extend(int(e) + start for e in ends)
        start = end
    return found


@settings(max_examples=200, deadline=None)
@given(_RECORDS, st.sampled_from([",", ";"]), st.lists(st.floats(0, 1), max_size=5))
def test_record_ends_are_where_csv_reader_ends_each_record(records, separator, fractions):
    data, expected = _written(records, separator)
    read = list(csv.reader(io.StringIO(data.decode(), newline=""), delimiter=separator, strict=True))
    assert len(read) == len(records)  # the generator writes what the reader reads as these records
    assert record_ends(data, separator.encode()).tolist() == expected
    cuts = sorted({int(f * len(data)) for f in fractions})
    assert _chained(data, cuts, separator.encode()) == expected


def test_an_inch_mark_in_an_unquoted_cell_does_not_open_a_quote():
    data = b'id,note\n1,5" screen\n2,"called\ntwice"\n3,ok\n'
    assert record_ends(data).tolist() == [7, 19, 36, 41]  # counting every quote would find only the header's


def test_a_doubled_quote_on_a_block_edge_stays_inside_its_cell():
    data = b'1,"say ""hi""\nthen"\n2,x\n'
    edge = data.index(b'""') + 1  # between the two quotes of a doubled one
    assert _chained(data, [edge], b",") == record_ends(data).tolist() == [19, 23]
    _, where = block_records(data[:edge], b",", Where.CELL_START)
    assert where == Where.AFTER_CLOSE


def test_a_quoted_first_header_after_a_utf8_mark_opens_its_cell():
    data = b'\xef\xbb\xbf"Loan\nID",Age\n1,2\n'
    assert record_ends(data).tolist() == [16, 20]  # not the line break inside "Loan\nID"


def test_quotes_only_count_after_the_files_own_separator():
    data = b'a;b\n1;x,"y\n2;z"\n'
    assert record_ends(data, b";").tolist() == [3, 10, 15]
    assert record_ends(data, b",").tolist() == [3, 15]  # read with ',' the quote opens a cell


def test_the_separator_comes_from_the_header_line():
    assert separator_of(b"Loan_ID;Outstanding;Note\n1;2;3\n") == b";"
    assert separator_of(b"Loan_ID\tOutstanding\n") == b"\t"
    assert separator_of(b"just one column\n") == b","


def test_line_breaks_inside_quoted_cells_of_every_record_end_nothing():
    data = b'1,"a\nb"\n' * 1000
    assert np.array_equal(record_ends(data), np.arange(7, len(data), 8))
