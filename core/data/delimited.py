"""Delimited text (CSV, TSV, semicolons, pipes): separator sniffed, read by Arrow, with a careful fallback."""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from core.data.header import (
    HEAD_ROWS,
    assemble,
    check_width,
    chosen_header,
    first_filled,
    fit_record,
    found_header,
    header_position,
    text_frame,
)
from core.data.table import (
    SAVE_AS,
    SEPARATORS,
    FileInfo,
    Limits,
    RawTable,
    T,
    column_letter,
    detect_format,
    too_many_rows,
)
from core.errors import RecoveryError

_SNIFF_LINES = 50


_SNIFF_CHUNK = 64 * 1024  # first prefix tried for those lines; grown fourfold until enough


# Large blocks keep per-batch Python work small; the row limit may overshoot by one block.
BLOCK_BYTES = 16 * 1024 * 1024


_QUOTED = re.compile(r'"(?:[^"]++|"")*+"')


_LINE_END = re.compile(r"[\r\n]")


# Lines as csv.reader's StringIO(newline="") splits them, ends included, found lazily.
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


_TOO_LONG = "field larger than field limit"


def head_lines(text: str, count: int) -> list[str]:
    """The first ``count`` of ``text.splitlines()``, without splitting a large text whole."""
    size = _SNIFF_CHUNK
    while True:
        lines = text[:size].splitlines()
        # One more line than asked proves the asked ones ended inside the prefix (a cut
        # between \r and \n cannot start a line), so they are the whole text's lines.
        if len(lines) > count or size >= len(text):
            return lines[:count]
        size *= 4


def sniff(text: str) -> str | None:
    """The separator that splits the first lines into the most consistent columns.

    Columns are counted from the header, past a title or notes above it; those lines still
    count as disagreeing, so a separator never wins on a few lines at the end.
    """
    head = "\n".join(head_lines(text, _SNIFF_LINES))
    best: tuple[float, int, str] | None = None
    for separator in SEPARATORS:
        # A cell over csv's field limit stops the reader; the lines before it still count.
        reader = csv.reader(io.StringIO(head), delimiter=separator)
        rows = [r for r in _readable(reader) if r]
        if not rows:
            continue
        width = len(rows[header_position(rows[:HEAD_ROWS])])
        if width < 2:
            continue
        agreeing = sum(1 for r in rows if len(r) == width) / len(rows)
        score = (agreeing, width, separator)
        if best is None or score[:2] > best[:2]:
            best = score
    return None if best is None else best[2]


def _readable(records: Iterator[T]) -> Iterator[T]:
    """The records csv.reader gives before the first one it refuses."""
    try:
        yield from records
    except csv.Error:
        return


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their ends, as csv.reader reads them, one at a time."""
    return (found.group() for found in _LINES.finditer(text))


def read_csv(data: bytes, name: str, limits: Limits, header_row: int | None = None
              ) -> RawTable:
    """Decode, sniff and split a CSV file into a text table."""
    text, encoding = decode(data, name)
    separator = sniff(text)
    if separator is None:
        raise _long_head_cell(text, name) or RecoveryError(
            f"{name} does not look like a table: no line splits into columns on ',', ';', "
            "tab or '|'. Upload a CSV with a header row and one row per loan.")
    table = read_csv_fast(data, text, encoding, separator, name, limits, header_row)
    if table is not None:
        return table
    return read_csv_slow(text, encoding, separator, name, limits, header_row)


def read_csv_slow(text: str, encoding: str, separator: str, name: str, limits: Limits,
                   header_row: int | None = None) -> RawTable:
    """Split decoded CSV text record by record with csv.reader; the reference for every case."""
    header_at, notes = _csv_header(text, separator, name, header_row)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    header: list[str] | None = None
    header_number = 0
    rows: list[list[str]] = []
    numbers: list[int] = []
    record_number = 0
    last_line = 0  # where the record before the one being read ends, for an error in it
    try:
        for record_number, record in enumerate(reader, start=1):
            if header is None and header_at is not None and record_number < header_at:
                pass  # a title or notes above the header
            elif not any(cell.strip() for cell in record):
                pass  # blank lines carry nothing; row numbers still count them
            elif header is None:
                header, header_number = record, record_number
                check_width(header, name, limits)
            else:
                if len(numbers) >= limits.max_rows:
                    raise too_many_rows(name, limits)
                rows.append(fit_record(record, header, name, reader.line_num))
                numbers.append(record_number)
            last_line = reader.line_num
    except csv.Error as exc:
        if _TOO_LONG in str(exc):
            raise _long_cell_error(text, separator, name, header, record_number + 1,
                                   _line_start(text, last_line + 1)) from None
        raise RecoveryError(f"{name}: the row starting on line {last_line + 1} cannot be read "
                            f"as CSV ({exc}). Check the quotes on that line.") from None
    if header is None:
        raise RecoveryError(f"{name} has no values, only separators or blank lines. Upload a "
                            "CSV with a header row and one row per loan.")
    frame = text_frame(header, rows, numbers, name)
    info = FileInfo(name, "csv", encoding, separator, None, (), len(frame), len(frame.columns),
                    header_number, notes)
    return RawTable(frame, info)


def _csv_header(text: str, separator: str, name: str, chosen: int | None
                ) -> tuple[int | None, tuple[str, ...]]:
    """The record that holds the header (None: the first with values), and what was skipped."""
    records = enumerate(csv.reader(_lines(text), delimiter=separator, strict=True), start=1)
    if chosen is None:
        return found_header(first_filled(_readable(records)), "")
    try:
        return chosen_header(records, chosen, name, "")
    except csv.Error:
        return chosen, ()  # the reader refuses that line again, naming it


def _long_cell_error(text: str, separator: str, name: str, header: list[str] | None,
                     row: int, start: int) -> RecoveryError:
    """The error for a cell longer than csv.reader reads, naming its row and column."""
    limit = csv.field_size_limit()
    found = _long_cell(text, separator, start, limit)
    if found is None:  # not where it was looked for: say what csv.reader said
        return RecoveryError(f"{name}: row {row} holds a cell of more than {limit:,} characters, "
                             "over the limit: shorten it or remove that column.")
    column, length = found
    title = header[column].strip() if header is not None and column < len(header) else ""
    where = f"column '{title}'" if title else f"column {column_letter(column)}"
    return RecoveryError(f"{name}: row {row}, {where} holds a cell of {length:,} characters, "
                         f"over the limit of {limit:,}: shorten it or remove that column.")


def _long_head_cell(text: str, name: str) -> RecoveryError | None:
    """The error for a first line no separator splits because one cell is too long."""
    limit = csv.field_size_limit()
    for row, line in enumerate(itertools.islice(_lines(text), _SNIFF_LINES), start=1):
        if len(line) <= limit:
            continue
        start = _line_start(text, row)
        # The separator that leaves the shortest long cell splits the line where it should.
        found = [f for f in (_long_cell(text, s, start, limit) for s in SEPARATORS) if f]
        if found:
            column, length = min(found, key=lambda f: f[1])
            return RecoveryError(
                f"{name}: row {row}, column {column_letter(column)} holds a cell of {length:,} "
                f"characters, over the limit of {limit:,}: shorten it or remove that column.")
    return None


def _line_start(text: str, line: int) -> int:
    """Where the 1-based ``line`` starts, counting line ends as csv.reader does."""
    if line <= 1:
        return 0
    for number, found in enumerate(_LINE_BREAK.finditer(text), start=2):
        if number == line:
            return found.end()
    return len(text)


def _long_cell(text: str, separator: str, start: int, limit: int) -> tuple[int, int] | None:
    """Column position and length of the first cell over ``limit`` in the record at ``start``."""
    plain_cell = re.compile(f"[^{re.escape(separator)}\r\n]*")
    position, column = start, 0
    while True:
        quoted = _QUOTED.match(text, position)
        if quoted is not None:
            length = len(quoted.group()) - 2 - quoted.group()[1:-1].count('""')
            end = quoted.end()
        elif text.startswith('"', position):
            length, end = len(text) - position - 1, len(text)  # a quote never closed
        else:
            end = plain_cell.match(text, position).end()
            length = end - position
        if length > limit:
            return column, length
        if end >= len(text) or text[end] != separator:
            return None
        position, column = end + 1, column + 1


def read_csv_fast(data: bytes, text: str, encoding: str, separator: str, name: str,
                   limits: Limits, header_row: int | None = None) -> RawTable | None:
    """Read a regular CSV file with pyarrow; None when anything is irregular.

    "Regular" means csv.reader would read it the same way and raise nothing, so the result
    equals ``read_csv_slow``'s; every other file goes there for its exact message.
    """
    header_at, notes = _csv_header(text, separator, name, header_row)
    if header_at is None:
        return None
    found = _header_line(text, separator, header_at)
    if found is None:
        return None
    header, body_start = found
    check_width(header, name, limits)
    if not _quotes_regular(text, body_start, separator):
        return None
    try:
        body = _utf8_body(data, text, encoding, body_start)
        read = _read_body(body, len(header), separator, name, limits, header_at + 1)
    except (pa.ArrowException, UnicodeError):
        return None  # pyarrow found a row csv.reader treats differently: let it decide
    if read is None:
        return None
    columns, numbers, has_data = read
    frame = assemble(header, columns, has_data, numbers, name)
    info = FileInfo(name, "csv", encoding, separator, None, (), len(frame), len(frame.columns),
                    header_at, notes)
    return RawTable(frame, info)


def _header_line(text: str, separator: str, record: int) -> tuple[list[str], int] | None:
    """The header on line ``record``, and where the next line starts.

    None unless every line above it and the header itself are one record each (no quote
    left open), so that line and record numbers agree.
    """
    start = 0
    for _ in range(record - 1):
        found = _LINE_END.search(text, start)
        if found is None or _one_line_record(text[start:found.start()], separator) is None:
            return None
        start = _next_line(text, found.start())
    found = _LINE_END.search(text, start)
    end = len(text) if found is None else found.start()
    header = _one_line_record(text[start:end], separator)
    if header is None or not any(cell.strip() for cell in header):
        return None
    return header, min(_next_line(text, end), len(text))


def _one_line_record(line: str, separator: str) -> list[str] | None:
    """The record a line holds; None when a quote left open carries it onto the next line."""
    if '"' not in line:
        return line.split(separator)
    try:
        records = list(csv.reader([line], delimiter=separator, strict=True))
    except csv.Error:
        return None
    return records[0] if len(records) == 1 else None


def _next_line(text: str, end: int) -> int:
    """Where the line after the line end at ``end`` starts."""
    return end + (2 if text.startswith("\r\n", end) else 1)


def _quotes_regular(text: str, start: int, separator: str) -> bool:
    """True when every quoted field from ``start`` on closes and ends at a separator or line.

    pyarrow reads '"a"b' as 'ab' where strict csv.reader refuses it, so such files must
    take the slow path. Quotes that do not open a field are literal in both readers.
    """
    boundaries = (separator, "\r", "\n")
    position = text.find('"', start)
    while position >= 0:
        if position == start or text[position - 1] in boundaries:
            quoted = _QUOTED.match(text, position)
            if quoted is None:
                return False
            end = quoted.end()
            if end < len(text) and text[end] not in boundaries:
                return False
            position = text.find('"', end)
        else:
            position = text.find('"', position + 1)
    return True


def _utf8_body(data: bytes, text: str, encoding: str, start: int) -> pa.Buffer:
    """The text after the header as UTF-8 bytes, without copying when the file already is."""
    offset = len(text[:start].encode("utf-8"))
    if encoding == "utf-8":
        return pa.py_buffer(data).slice(offset)
    if encoding == "utf-8-sig":
        return pa.py_buffer(data).slice(3 + offset)
    return pa.py_buffer(text.encode("utf-8")).slice(offset)


def _read_body(body: pa.Buffer, width: int, separator: str, name: str, limits: Limits,
               first_record: int = 2
               ) -> tuple[list[pa.ChunkedArray], np.ndarray, list[bool]] | None:
    """Columns of the non-blank records, their record numbers, and which columns hold data.

    Raises the row-limit error as soon as a block passes it; None when a field is longer
    than csv.reader accepts, so the slow path can report it.
    """
    names = [f"c{i}" for i in range(width)]  # the real header may repeat or lack names
    pieces: list[list[pa.Array]] = [[] for _ in names]
    numbers: list[np.ndarray] = []
    has_data = [False] * width
    kept = 0
    next_record = first_record  # the record after the header
    field_limit = csv.field_size_limit()
    for batch in record_batches(body, names, separator):
        cells = batch.columns
        # A cell has at most as many characters as bytes: only a long one in bytes is counted.
        if any((pc.max(pc.binary_length(c)).as_py() or 0) > field_limit
               and (pc.max(pc.utf8_length(c)).as_py() or 0) > field_limit for c in cells):
            return None
        keep = pc.invert(_blank_rows(cells))
        count = pc.sum(keep).as_py() or 0
        if kept + count > limits.max_rows:
            raise too_many_rows(name, limits)
        kept += count
        rows = np.arange(next_record, next_record + batch.num_rows, dtype="int64")
        next_record += batch.num_rows
        if count < batch.num_rows:
            # Rows of only separators and spaces are skipped; their numbers stay counted.
            cells = [pc.filter(c, keep) for c in cells]
            rows = rows[keep.to_numpy(zero_copy_only=False)]
        for position, column in enumerate(cells):
            pieces[position].append(column)
            if not has_data[position] and len(column):
                has_data[position] = _has_value(column)
        numbers.append(rows)
    columns = [pa.chunked_array(p, type=pa.string()) for p in pieces]
    index = np.concatenate(numbers) if numbers else np.empty(0, dtype="int64")
    return columns, index, has_data


def record_batches(body: pa.Buffer, names: list[str], separator: str) -> Iterable[pa.RecordBatch]:
    """Stream ``body`` as record batches of text exactly as written: no nulls, no types."""
    if body.size == 0:
        return iter(())
    return pa_csv.open_csv(
        pa.BufferReader(body),
        read_options=pa_csv.ReadOptions(column_names=names, autogenerate_column_names=False,
                                        skip_rows=0, block_size=BLOCK_BYTES),
        # Empty lines stay rows (all ""), as csv.reader yields [] for them: numbers agree.
        parse_options=pa_csv.ParseOptions(delimiter=separator, quote_char='"',
                                          double_quote=True, escape_char=False,
                                          newlines_in_values=True, ignore_empty_lines=False,
                                          invalid_row_handler=_refuse_row),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
            null_values=[], quoted_strings_can_be_null=False))


def _refuse_row(row: Any) -> str:
    """Stop pyarrow at a short or long row: csv.reader pads or refuses it, with a message."""
    return "error"


def blank_cells(column: pa.Array) -> pa.BooleanArray:
    """True where a cell is empty or only what str.strip() removes.

    Arrow's whitespace is Python's, code point for code point (a test pins it), so no regex.
    """
    return pc.or_(pc.equal(pc.binary_length(column), 0), pc.utf8_is_space(column))


def _has_value(column: pa.Array) -> bool:
    """True when some cell is not blank; the first cells usually say so without reading the rest."""
    return any(not pc.all(blank_cells(cells)).as_py() for cells in (column.slice(0, 64), column))


def _blank_rows(cells: Sequence[pa.Array]) -> pa.BooleanArray:
    """True where every cell of a row is blank, as csv.reader's caller judges it."""
    blank = blank_cells(cells[0])
    for column in cells[1:]:
        if not pc.any(blank).as_py():
            break  # every row already has a value; the other columns cannot change that
        blank = pc.and_(blank, blank_cells(column))
    return blank


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Text and encoding name: BOMs first, then UTF-8, then charset-normalizer's guess."""
    text: str | None = None
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif b"\x00" in data:
        raise RecoveryError(
            f"{name} contains NUL bytes, so it is binary data or UTF-16 text without a "
            f"byte-order mark, not a CSV. {SAVE_AS}")
    else:
        text = _utf8(data)  # decoded once: asking whether it is UTF-8 is decoding it
        encoding = "utf-8" if text is not None else detect_format(data, name)
    if text is None:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise RecoveryError(f"{name} is not valid {encoding} text. {SAVE_AS}") from None
    if "\x00" in text:
        raise RecoveryError(f"{name} contains NUL characters, so it is not a text table. "
                            f"{SAVE_AS}")
    _refuse_binary(text, name)
    return text, encoding


def _utf8(data: bytes) -> str | None:
    """The bytes as UTF-8 text, or None when they are not UTF-8 (detect_format's first question)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# ASCII's control characters (category Cc) other than tab and line ends.
_ASCII_CONTROLS = bytes(b for b in range(128) if b < 32 and b not in (9, 10, 13)) + b"\x7f"


def _refuse_binary(text: str, name: str) -> None:
    """Reject decoded text with many control characters: it was never a table."""
    sample = text[:100_000]
    if sample.isascii():  # the usual case, counted in C: only Cc can occur in ASCII
        ascii_ = sample.encode("ascii")
        controls = len(ascii_) - len(ascii_.translate(None, _ASCII_CONTROLS))
    else:
        controls = sum(1 for ch in sample
                       if ch not in "\t\r\n" and unicodedata.category(ch) in ("Cc", "Cs", "Co"))
    if controls > max(2, len(sample) // 200):
        raise RecoveryError(f"{name} looks like binary data, not a text table. {SAVE_AS}")
