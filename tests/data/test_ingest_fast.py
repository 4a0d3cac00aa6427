"""The pyarrow CSV reader gives exactly what the csv.reader path gives, and stops at the limit."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.data import Limits, RawTable, delimited, numbers, read_table, schema, validate
from core.errors import RecoveryError

FAST = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Characters that matter to a CSV reader, plus text that matters to people: separators,
# quotes, line ends inside cells, Unicode and the line breaks only str.splitlines() knows.
CELL_CHARS = st.sampled_from(list('ab1 ,;|\t"\r\n.-é€中\u00a0\u3000\x1c\x0b\x85\u2028'))
cells = st.one_of(
    st.text(CELL_CHARS, max_size=8),
    st.sampled_from(["", " ", "  \t", "\u3000", "12.39", "Written Off", "A, B; C | D", '"']),
)


def slow(data: bytes, name: str, limits: Limits = Limits()) -> RawTable | str:
    """The csv.reader path alone: its table, or its error message."""
    text, encoding = delimited.decode(data, name)
    separator = delimited.sniff(text)
    try:
        return delimited.read_csv_slow(text, encoding, separator, name, limits)
    except RecoveryError as exc:
        return str(exc)


def fast(data: bytes, name: str, limits: Limits = Limits()) -> RawTable | str | None:
    """The pyarrow path alone: its table, its error message, or None when it declines."""
    text, encoding = delimited.decode(data, name)
    separator = delimited.sniff(text)
    try:
        return delimited.read_csv_fast(data, text, encoding, separator, name, limits)
    except RecoveryError as exc:
        return str(exc)


def assert_same(got: RawTable | str, want: RawTable | str) -> None:
    """Same error message, or the same frame (values, dtypes, index) and the same FileInfo."""
    if isinstance(want, str) or isinstance(got, str):
        assert got == want
        return
    pd.testing.assert_frame_equal(got.frame, want.frame, check_exact=True)
    assert got.frame.index.equals(want.frame.index)
    assert got.frame.index.name == want.frame.index.name == "Row"
    assert got.info == want.info


def field(cell: str, separator: str, quote_all: bool) -> str:
    """A cell as a careful writer writes it: quoted when it holds a separator, quote or line end.

    csv.writer on Python 3.11 leaves a lone \r unquoted under a \n line end, which makes
    the file ragged rather than regular.
    """
    if quote_all or any(ch in cell for ch in (separator, '"', "\r", "\n")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


@st.composite
def regular_tables(draw) -> tuple[bytes, str]:
    """A table a CSV writer writes: quoted where needed, blank and separator-only rows included."""
    separator = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(2, 6))
    header = [f"Col{i}" for i in range(width)]
    if draw(st.booleans()):
        header[draw(st.integers(0, width - 1))] = ""  # unnamed: dropped when empty, else lettered
    rows = draw(st.lists(st.one_of(st.lists(cells, min_size=width, max_size=width),
                                   st.just([""] * width), st.just([" "] * width)),
                         min_size=0, max_size=25))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    quote_all = draw(st.booleans())
    text = "".join(separator.join(field(c, separator, quote_all) for c in row) + eol
                   for row in [header, *rows])
    if draw(st.booleans()):  # empty lines between records, and at the end
        lines = text.split(eol)
        at = draw(st.integers(1, len(lines)))
        text = eol.join(lines[:at] + [""] + lines[at:]) + eol
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    return text.encode(encoding), separator


@FAST
@given(table=regular_tables())
def test_fast_path_reads_regular_tables_exactly_like_csv_reader(table):
    data, separator = table
    try:
        text, _ = delimited.decode(data, "t.csv")
    except RecoveryError:
        assume(False)  # refused as binary before either reader runs
    # Sniffing is shared by both paths; a different guess tests nothing here.
    assume(delimited.sniff(text) == separator)
    got = fast(data, "t.csv")
    assert got is not None, "a regular table must not need the slow path"
    assert_same(got, slow(data, "t.csv"))


# Files built from the characters CSV readers disagree on: open quotes, text after a closing
# quote, short and long rows, blank and whitespace-only lines.
messy_texts = st.text(st.sampled_from(list('a ,"\n\r')), min_size=1, max_size=60)


@FAST
@given(body=messy_texts, header=st.sampled_from(["x,y,z", "x,y", '"x,1",y', "x,,z"]))
def test_any_text_reads_like_csv_reader_alone(body, header):
    data = (header + "\n" + body).encode("utf-8")
    try:
        got: RawTable | str = read_table(data, "m.csv")
    except RecoveryError as exc:
        got = str(exc)
    assert_same(got, slow(data, "m.csv"))


@pytest.mark.parametrize("body, why", [
    ('"a"b,c\n', "text after a closing quote"),
    ('"a" ,c\n', "a space after a closing quote"),
    ('"a,c\n', "a quote never closed"),
    ("a,b,c\n", "a long row"),
    ("a\n", "a short row"),
    ("  \n", "a whitespace-only line"),
])
def test_rows_csv_reader_treats_differently_take_the_slow_path(body, why):
    data = ("x,y\n1,2\n" + body).encode()
    assert fast(data, "d.csv") is None, why


def test_header_below_blank_lines_is_read_fast_and_multiline_header_slow():
    data = b"\n\r\nx,y\n1,2\n"
    table = fast(data, "d.csv")
    assert table is not None
    assert_same(table, slow(data, "d.csv"))
    assert table.info.header_row == 3 and table.frame.index.tolist() == [4]
    assert fast(b'"x\ny",z\n1,2\n', "d.csv") is None
    table = read_table(b'\n"x\ny",z\n1,2\n', "d.csv").frame
    assert list(table.columns) == ["x\ny", "z"] and table.index.tolist() == [3]


def test_field_over_csv_field_limit_is_named_by_row_and_column():
    # Past the lines the sniffer reads; the fast path leaves it to csv.reader's path.
    rows = "".join(f"{i},{i}\n" for i in range(60))
    data = ("x,y\n" + rows + "1," + "9" * (csv.field_size_limit() + 1) + "\n").encode()
    assert fast(data, "big.csv") is None
    with pytest.raises(RecoveryError) as refused:
        read_table(data, "big.csv")
    assert str(refused.value) == (
        "big.csv: row 62, column 'y' holds a cell of 131,073 characters, over the limit of "
        "131,072: shorten it or remove that column.")


def test_separator_only_rows_are_skipped_and_still_numbered():
    table = read_table(b"x,y\n1,2\n,\n \t, \n\n3,4\n", "s.csv").frame
    assert table.index.tolist() == [2, 6]
    assert table["x"].tolist() == ["1", "3"] and str(table["x"].dtype) == "str"


def test_over_limit_file_is_refused_while_reading():
    rows = "".join(f"L{i},{i}\n" for i in range(11))
    data = ("Loan_ID,Age\n" + rows).encode()
    message = ("big.csv has more than 10 rows, over the limit (max_rows). "
               "Split the file into smaller parts.")
    assert fast(data, "big.csv", Limits(max_rows=10)) == message
    assert slow(data, "big.csv", Limits(max_rows=10)) == message
    with pytest.raises(RecoveryError) as refused:
        read_table(data, "big.csv", limits=Limits(max_rows=10))
    assert str(refused.value) == message
    assert len(read_table(data, "big.csv", limits=Limits(max_rows=11)).frame) == 11


def test_blank_rows_do_not_count_towards_the_limit():
    data = b"x,y\n1,2\n,\n,\n3,4\n"
    assert read_table(data, "b.csv", limits=Limits(max_rows=2)).frame.index.tolist() == [2, 5]


def test_over_limit_stops_after_the_block_that_passes_it(monkeypatch):
    monkeypatch.setattr(delimited, "BLOCK_BYTES", 64)
    seen: list[int] = []
    batches = delimited.record_batches

    def counting(*args):
        for batch in batches(*args):
            seen.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(delimited, "record_batches", counting)
    data = ("x,y\n" + "".join(f"{i},{i}\n" for i in range(5000))).encode()
    with pytest.raises(RecoveryError, match="more than 100 rows"):
        read_table(data, "big.csv", limits=Limits(max_rows=100))
    assert 100 < sum(seen) < 200


def test_blank_cell_pattern_is_what_str_strip_removes():
    import pyarrow as pa

    candidates = [chr(c) for c in range(0x3100)] + ["", "  ", " a "]
    blank = delimited.blank_cells(pa.array(candidates)).to_pylist()
    assert blank == [not c.strip() for c in candidates]


@FAST
@given(text=st.text(st.sampled_from(list("ab,\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")),
                    max_size=80),
       count=st.integers(0, 12), chunk=st.integers(1, 9))
def test_sniffer_head_lines_are_the_whole_texts_first_lines(text, count, chunk):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(delimited, "_SNIFF_CHUNK", chunk)  # cut the text at every kind of place
        assert delimited.head_lines(text, count) == text.splitlines()[:count]


# ---------------------------------------------------------------------------- numbers


def reference_parse_column(cells: pd.Series, separator: str | None,
                           percent: bool) -> numbers.ParsedColumn:
    """parse_column as it was before vectorising: one cell at a time, the oracle."""
    text = cells.astype("str").str.strip()
    present = text.notna() & (text != "")
    integer = present & text.str.fullmatch(r"[+-]?\d+").fillna(False).astype(bool)
    decimal = (present & text.str.fullmatch(r"[+-]?\d+\.\d+").fillna(False).astype(bool)
               & ~text.str.fullmatch(r"[+-]?\d{1,3}\.\d{3}").fillna(False).astype(bool))
    fast_cells = integer | decimal
    values = pd.Series(np.nan, index=cells.index, dtype="float64")
    values[fast_cells] = [float(t) for t in text[fast_cells]]
    readings, bad = {}, {}
    for row, cell in text[present & ~fast_cells].items():
        outcome = numbers._classify(cell, percent)
        if isinstance(outcome, str):
            bad[row] = outcome
        else:
            readings[row] = outcome
    only_dot = int(decimal.sum()) + sum(d is not None and c is None for _, d, c in readings.values())
    only_comma = sum(c is not None and d is None for _, d, c in readings.values())
    style = numbers._choose_style_counts(only_dot, only_comma, separator)
    if style != "dot":
        values[decimal] = np.nan
        bad.update(dict.fromkeys(decimal.index[decimal], numbers.INCONSISTENT))
    for row, (sign, dot, comma) in readings.items():
        value = numbers._pick(dot, comma, style)
        if isinstance(value, str):
            bad[row] = value
        else:
            values[row] = -value if sign == "-" else value
    infinite = values.index[np.isinf(values.to_numpy())]
    values[infinite] = np.nan
    bad.update(dict.fromkeys(infinite, numbers.NOT_FINITE))
    return numbers.ParsedColumn(values, dict(sorted(bad.items())), style)


number_cells = st.one_of(
    st.none(),
    st.text(st.sampled_from(list("0123456789.,  $€-+()%e'\u00a0")), max_size=12),
    st.sampled_from(["1,234", "1.234", "1,234.5", "1.234,5", "12.39", "-0", "+7", "(3.5)",
                     "inf", "NaN", "1" * 400, "9" * 309 + ".5", "USD 1,000", "10,44,620",
                     "12,5%", "0.1", "٣"]),
    st.integers(-10**20, 10**20).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


@FAST
@given(cells=st.lists(number_cells, min_size=0, max_size=40),
       separator=st.sampled_from([",", ";", "\t", None]), percent=st.booleans())
def test_vectorised_parse_column_equals_cell_by_cell_reading(cells, separator, percent):
    series = pd.Series(cells, index=range(2, 2 + len(cells)), dtype="str")
    got = numbers.parse_column(series, separator, percent)
    want = reference_parse_column(series, separator, percent)
    pd.testing.assert_series_equal(got.values, want.values, check_exact=True)
    assert np.array_equal(np.signbit(got.values), np.signbit(want.values))  # -0.0 stays -0.0
    assert got.bad == want.bad
    assert list(got.bad) == list(want.bad)
    assert got.style == want.style


# ---------------------------------------------------------------------------- validation


class ReferenceCollector:
    """validate._Collector as it was before vectorising: Series concatenated per problem."""

    def __init__(self) -> None:
        self.found: dict[tuple[str, str, str], list[pd.Series]] = {}
        self.decimal_marks: dict[str, str] = {}  # not compared: the reference predates them

    def add(self, column, problem, severity, rows, raw=None) -> None:
        """Record ``rows`` under (column, problem, severity)."""
        rows = list(rows)
        if rows:
            values = raw.loc[rows] if raw is not None else pd.Series("", index=rows, dtype="str")
            self.found.setdefault((column, problem, severity), []).append(values)

    def problems(self) -> tuple[validate.Problem, ...]:
        """The problems, errors first, then in schema order."""
        order = {name: i for i, name in enumerate(schema.BY_NAME)}
        keys = sorted(self.found, key=lambda k: (k[2] != validate.ERROR, order.get(k[0], 99)))
        result = []
        for column, problem, severity in keys:
            hits = pd.concat(self.found[(column, problem, severity)]).sort_index()
            shown = hits.dropna()
            examples = tuple(v for v in shown[shown != ""].unique()[:validate.EXAMPLES])
            result.append(validate.Problem(column, problem, len(hits),
                                           tuple(int(r) for r in hits.index[:validate.FIRST_ROWS]),
                                           severity, examples))
        return tuple(result)

    def row_notes(self) -> dict[int, tuple[str, ...]]:
        """Per row, its errors."""
        notes: dict[int, list[str]] = {}
        for (column, problem, severity), parts in self.found.items():
            if severity == validate.ERROR:
                for part in parts:
                    for row in part.index:
                        notes.setdefault(int(row), []).append(f"{column}: {problem}")
        return {row: tuple(reasons) for row, reasons in sorted(notes.items())}


def reference_check_numeric(spec, raw, separator, found):
    """_check_numeric before vectorising, on the reference parser (missing-value words read first)."""
    written = raw.notna() & raw.str.strip().str.casefold().isin(validate.MISSING_TOKENS)
    found.add(spec.name, validate.MISSING_WRITTEN, validate.WARNING, raw.index[written.to_numpy()], raw)
    parsed = reference_parse_column(raw.where(~written), separator, spec.name == "Interest_Rate")
    by_problem: dict[str, list[int]] = {}
    for row, problem in parsed.bad.items():
        by_problem.setdefault(problem, []).append(row)
    for problem, rows in by_problem.items():
        found.add(spec.name, problem, validate.ERROR, rows, raw)
    values = parsed.values
    too_low = values < spec.minimum if spec.minimum is not None else values < -np.inf
    too_high = values > spec.maximum if spec.maximum is not None else values > np.inf
    found.add(spec.name, validate._range_wording(spec), validate.ERROR,
              values.index[too_low | too_high], raw)
    if spec.integer:
        fractional = values.notna() & (values != np.floor(values))
        found.add(spec.name, validate.NOT_WHOLE, validate.ERROR, values.index[fractional], raw)
    found.add(spec.name, validate.MISSING_IMPUTED, validate.WARNING, raw.index[raw.isna()])
    return values


def reference_check_category(spec, raw, found):
    """_check_category before vectorising: a dict mapped row by row."""
    allowed = {validate.spelling(a): a for a in spec.allowed}
    present = raw.dropna()
    canonical = {c: allowed.get(validate.spelling(c)) for c in present.unique()}
    read_as = present.map(canonical)
    unknown = read_as.isna()
    if validate._uses_tutorial_spellings(unknown.to_numpy()):  # the rule the product follows: a file with its
        found.add(spec.name, validate.UNKNOWN, validate.WARNING, present.index[unknown], raw)  # own categories
    variant = ~unknown & (read_as != present)
    for spelling in sorted(set(read_as[variant])):
        rows = present.index[variant & (read_as == spelling)]
        found.add(spec.name, f"written differently, read as '{spelling}'", validate.WARNING,
                  rows, raw)
    wording = (validate.MISSING_OUTCOME if spec.name == schema.OUTCOME
               else validate.MISSING_IMPUTED)
    found.add(spec.name, wording, validate.WARNING, raw.index[raw.isna()])
    values = raw.copy()
    values[variant.index[variant]] = read_as[variant]
    return values.astype("str")


FIELD_CELLS = {
    "Loan_ID": st.sampled_from(["L1", "L2", "L3", "007", None]),
    "Age": st.sampled_from(["30", "30.5", "-4", "1,5", "x", "inf", "120", None]),
    "Loan_Amount": number_cells,
    "Interest_Rate": st.sampled_from(["12.5%", "12,5", "150", "7", "7.25", None]),
    "Gender": st.sampled_from(["Male", "male ", "FEMALE", "  female", "Other", "", None]),
    "Recovery_Status": st.sampled_from(["Written Off", "written  off", "Fully Recovered",
                                        "??", None]),
}


@FAST
@given(data=st.data(), fields=st.lists(st.sampled_from(sorted(FIELD_CELLS)), min_size=1,
                                       unique=True),
       separator=st.sampled_from([",", ";", None]))
def test_vectorised_check_equals_row_by_row_check(data, fields, separator):
    size = data.draw(st.integers(1, 30))
    frame = pd.DataFrame(
        {f: data.draw(st.lists(FIELD_CELLS[f], min_size=size, max_size=size)) for f in fields},
        index=pd.Index(range(2, 2 + size), name="Row"), dtype="str")
    got = validate.check(frame, fields, separator)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(validate, "_Collector", ReferenceCollector)
        patch.setattr(validate, "_check_numeric", reference_check_numeric)
        patch.setattr(validate, "_check_category", reference_check_category)
        want = validate.check(frame, fields, separator)
    pd.testing.assert_frame_equal(got.frame, want.frame, check_exact=True)
    assert got.report == want.report
    assert got.row_notes == want.row_notes
    assert list(got.row_notes) == list(want.row_notes)

