"""A later chunk of a file already read once: parsed by Arrow with the first chunk's layout, numbers typed once.

``load_chunk`` gives what ``load_portfolio(header + body)`` gives, by construction: it takes the
short way only for a chunk it can prove regular (no quotes, no blank or short rows, no stray
carriage return, UTF-8, the same separator and header as the first chunk, every number in the
plain shapes the number reader reads with one cast) and with no invalid row, and otherwise reads
the chunk the whole way, so every message, row number and refusal is the whole reader's own. On the
short way each numeric field goes from Arrow text straight to floats (one shape test, one cast),
and the checks that remain (ranges, whole numbers, missing cells, categories, IDs, exact copies)
are validate's own functions on the same collector, in the same order. A portfolio read the short
way has no invalid rows, so it keeps no second, all-text copy of the rows (``raw`` is None).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from core.data import schema
from core.data.delimited import _csv_header, _refuse_binary, sniff
from core.data.header import _text_series
from core.data.numbers import _FAST
from core.data.portfolio import Portfolio, _apply_mapping, _outcome_if_known, _pin, load_portfolio, suggest_mapping
from core.data.table import ROW, FileInfo, Limits
from core.data.validate import (
    ValidationReport,
    _check_category,
    _check_id,
    _check_numeric,
    _Collector,
    _repeating,
    number_rules,
)
from core.errors import RecoveryError

_HEAD_LINES = 60  # the sniffer reads 50 lines and the header finder fewer: a prefix this long decides both
_BLOCK_BYTES = 1024 * 1024  # blocks that stay in cache parse a sixth faster than one 8 MB block (a longer row fails, and goes the whole way)


@dataclass(frozen=True)
class ChunkLayout:
    """How the first chunk was read: what every later chunk must match to be read the short way."""

    header: bytes
    names: tuple[str, ...]
    separator: str
    encoding: str
    suggested: dict[str, str]


def layout_of(header: bytes, first: Portfolio) -> ChunkLayout | None:
    """The layout a file's first chunk settled; None when later chunks must be read the whole way.

    Only a comma-separated UTF-8 file whose header is its first line, plainly split and every column
    named, qualifies: then a later chunk is split and numbered exactly as csv.reader would.
    """
    info, names = first.info, tuple(str(c) for c in first.raw.columns) if first.raw is not None else ()
    cells = header.rstrip(b"\r\n").removeprefix(b"\xef\xbb\xbf").split(b",")
    plain = (info.separator == "," and info.encoding in ("utf-8", "ascii", "utf-8-sig") and info.header_row == 1
             and not info.notes and b'"' not in header and header.endswith(b"\n")
             and header.count(b"\r") == header.count(b"\r\n") and len(cells) == len(names)
             and [c.decode("utf-8", "replace") for c in cells] == list(names) and all(n.strip() for n in names))
    if not plain:
        return None
    return ChunkLayout(header, names, info.separator, info.encoding, suggest_mapping(list(names)))


def load_chunk(header: bytes, body: bytes, name: str, layout: ChunkLayout | None) -> Portfolio:
    """``load_portfolio(header + body, name)``: the short way when the chunk allows it, else that call itself."""
    if layout is not None and header == layout.header:
        found = _short_way(body, name, layout)
        if found is not None:
            return found
    return load_portfolio(header + body, name)


def _regular(body: bytes, name: str, layout: ChunkLayout) -> bool:
    """True when the whole reader would read ``body`` after the header as the short way does."""
    limits = Limits()
    if (not body or b'"' in body or b"\x00" in body or len(layout.header) + len(body) > limits.max_bytes
            or (b"\r" in body and body.count(b"\r") != body.count(b"\r\n"))):
        return False
    cut = -1
    for _ in range(_HEAD_LINES):
        cut = body.find(b"\n", cut + 1)
        if cut < 0:
            break
    head = (layout.header + (body if cut < 0 else body[:cut + 1])).removeprefix(b"\xef\xbb\xbf")
    # the binary check reads the first 100,000 characters (at most 400,000 bytes of UTF-8)
    sample = (layout.header + body[:400_000]).removeprefix(b"\xef\xbb\xbf").decode("utf-8", "ignore")
    try:
        text = head.decode("utf-8")
        _refuse_binary(sample, name)
    except (UnicodeDecodeError, RecoveryError):
        return False
    return sniff(text) == layout.separator and _csv_header(text, layout.separator, name, None) == (1, ())


def _read(body: bytes, width: int) -> list[pa.Array] | None:
    """The body's cells as text, one array per column; None for a row of another width or a long cell."""
    names = [f"c{i}" for i in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(body),
            read_options=pa_csv.ReadOptions(column_names=names, block_size=_BLOCK_BYTES, use_threads=False),
            parse_options=pa_csv.ParseOptions(delimiter=",", quote_char=False, newlines_in_values=False,
                                              ignore_empty_lines=False, invalid_row_handler=lambda row: "error"),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                  strings_can_be_null=False, null_values=[],
                                                  quoted_strings_can_be_null=False))
    except (pa.ArrowException, UnicodeError):
        return None
    columns = [c.combine_chunks() for c in table.columns]
    limit = csv.field_size_limit()  # a cell has at most as many characters as bytes
    if any((pc.max(pc.binary_length(c)).as_py() or 0) > limit for c in columns):
        return None
    return columns


def _blank(column: pa.Array) -> np.ndarray:
    """True where a cell is empty or only what str.strip() removes."""
    return pc.fill_null(pc.or_(pc.equal(pc.binary_length(column), 0), pc.utf8_is_space(column)),
                        False).to_numpy(zero_copy_only=False)


def _cell_bytes(column: pa.Array) -> np.ndarray | None:
    """The bytes of a text column's cells end to end, as numpy without a copy; None for another layout."""
    if not pa.types.is_string(column.type) or column.null_count or not len(column):
        return None
    _, offsets, data = column.buffers()
    if data is None:
        return np.zeros(0, dtype=np.uint8)
    bounds = np.frombuffer(offsets, dtype=np.int32)[column.offset:column.offset + len(column) + 1]
    return np.frombuffer(data, dtype=np.uint8)[bounds[0]:bounds[-1]]


def _digits_and_points(column: pa.Array, lengths: np.ndarray) -> tuple[np.ndarray, bool] | None:
    """Per cell, True for 123 or 12.39 text (_FAST without a sign), and whether any has a '.'; for digits and '.' only.

    None when any cell has another byte (a sign, a space, a comma, text): the regex decides those. Looking
    at the column's bytes at once and finding each cell's one point is the regex's work at a fraction of
    the cost: no other shape is made of digits and points alone.
    """
    data = _cell_bytes(column)
    if data is None:
        return None
    points = int(np.count_nonzero(data == ord(".")))
    if int(np.count_nonzero((data - np.uint8(48)) < 10)) + points != len(data):  # '0'-'9' (wraps below '0')
        return None
    plain = lengths > 0
    if points:
        where = pc.find_substring(column, ".").to_numpy(zero_copy_only=False)
        pointed = where >= 0
        whole, fraction = where[pointed], lengths[pointed] - where[pointed] - 1
        # a cell with two points counts twice in ``points`` but once in ``pointed``
        one = points == int(np.count_nonzero(pointed))
        plain[pointed] = one & (whole >= 1) & (fraction >= 1) & ~((whole <= 3) & (fraction == 3))
    return plain, points > 0


def _plain_numbers(column: pa.Array, index: pd.Index) -> tuple[pd.Series, bool] | None:
    """A numeric field's floats, and whether a cell has a '.', when every filled cell is plain 123 / -4 / 12.39 text.

    For such cells the number reader takes its one-cast way and finds nothing to say (no written
    'N/A', no decimal comma, no unreadable cell); None for anything else, which goes to that reader.
    """
    lengths = pc.binary_length(column).to_numpy(zero_copy_only=False)
    empty = lengths == 0
    shaped = _digits_and_points(column, lengths)
    if shaped is not None:
        plain, pointed = shaped
        if not (plain | empty).all():
            return None
    else:
        digits = pc.ascii_is_decimal(column)
        plain = pc.or_(pa.array(empty), digits)
        if not pc.all(plain).as_py():
            plain = pc.or_(plain, pc.match_substring_regex(column, _FAST))
            if not pc.all(plain).as_py():
                return None
        pointed = pc.any(pc.match_substring(column, ".")).as_py()
    try:
        text = pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), column) if empty.any() else column
        values = pc.cast(text, pa.float64())
    except pa.ArrowException:
        return None
    array = values.to_numpy(zero_copy_only=False).astype("float64", copy=True)
    if np.isinf(array).any():
        return None
    return pd.Series(array, index=index, dtype="float64"), bool(pointed)


def _only_allowed(column: pa.Array, allowed: tuple[str, ...]) -> bool:
    """True when every cell is written exactly as one of ``allowed`` (which are never blank)."""
    return set(pc.unique(column).to_pylist()) <= set(allowed)


def _short_way(body: bytes, name: str, layout: ChunkLayout) -> Portfolio | None:
    """The chunk read with the first chunk's layout and checked with typed numbers; None when it needs the whole way."""
    if not _regular(body, name, layout):
        return None
    columns = _read(body, len(layout.names))
    if columns is None or not len(columns[0]) or len(columns[0]) > Limits().max_rows:
        return None
    blank = _blank(columns[0])
    for column in columns[1:]:
        if not blank.any():
            break
        blank &= _blank(column)
    if blank.any():
        return None  # a blank record: the whole reader skips it and keeps counting
    index = pd.Index(np.arange(2, 2 + len(columns[0]), dtype="int64"), name=ROW)
    cells = dict(zip(layout.names, columns))
    headers = {h: c for c, h in layout.suggested.items()}
    numeric = {h for h, c in headers.items() if schema.BY_NAME[c].kind == "numeric"}
    # a category column written only in its allowed spellings has no blank, unknown or variant cell:
    # its text is its typed value, and the checks that would say so are skipped, not repeated
    settled = {h for h, c in headers.items() if schema.BY_NAME[c].kind == "category"
               and _only_allowed(cells[h], schema.BY_NAME[c].allowed)}
    texts: dict[str, pd.Series] = {h: pd.Series(cells[h], index=index, dtype="str") if h in settled
                                   else _text_series(cells[h], index) for h in layout.names if h not in numeric}
    raw = pd.DataFrame({h: texts.get(h) for h in layout.names if h in texts}, index=index)
    outcome = layout.suggested.get(schema.OUTCOME)
    known = layout.suggested if outcome in settled else _outcome_if_known(raw, layout.suggested)
    chosen = _pin(known, {}, list(layout.names), {})
    if any(schema.BY_NAME[c].kind == "numeric" for c in set(layout.suggested) - set(chosen)):
        return None  # a numeric field left unmapped: its column is text the short way did not keep
    mapped = _apply_mapping(raw, {c: h for c, h in chosen.items() if h in texts})
    ids = [c for c in ("Loan_ID", *schema.ID_FIELDS) if c in chosen]
    if not ids or _repeating(mapped[ids[0]]).any():
        return None  # possible copies of earlier rows: compared cell by cell on the whole way
    found = _Collector()
    # no ID repeats, so no row can copy an earlier one: validate's copy check would find none
    repeating = {ids[0]: np.zeros(len(index), dtype=bool)}
    exact = pd.Series(repeating[ids[0]], index=index)
    typed: dict[str, pd.Series] = {}
    for field, header in chosen.items():
        spec = schema.BY_NAME[field]
        if spec.kind == "numeric":
            plain = _plain_numbers(cells[header], index)
            if plain is None:
                values = _check_numeric(spec, _text_series(cells[header], index), layout.separator, found)
            else:
                values, pointed = plain
                number_rules(spec, values, found)
                if pointed:
                    found.decimal_marks[field] = "dot"  # plain 12.39 cells are read with a decimal point
            typed[field] = values
        elif spec.kind == "category":
            typed[field] = (mapped[field].astype("str") if header in settled
                            else _check_category(spec, mapped[field], found))
        else:
            typed[field] = _check_id(spec, mapped[field], found, False, exact, repeating.get(field))
    used = set(chosen.values())
    frame = pd.DataFrame({**typed, **{h: raw[h] for h in raw.columns if h not in used}}, index=index)
    notes = found.row_notes()
    if notes:
        return None  # invalid rows: the whole way names them, and keeps the file's text for them
    report = ValidationReport(found.problems(), (), tuple(f.name for f in schema.FIELDS if f.name not in chosen))
    info = FileInfo(name, "csv", layout.encoding, layout.separator, None, (), len(frame), len(layout.names), 1, ())
    return Portfolio(frame, report, chosen, info, None, notes, found.decimal_marks)
