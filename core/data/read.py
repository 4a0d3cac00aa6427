"""Read an uploaded file into a text table, map its columns, and build a checked Portfolio.

Everything a user can get wrong ends in ``RecoveryError`` with a message that names the
file, column, row or limit and says what to do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field as dataclass_field, replace
from typing import Any, Mapping, TypeVar

import charset_normalizer
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from core.data import schema
from core.errors import RecoveryError
from core.data.validate import ValidationReport, check, spelling

T = TypeVar("T")

ROW = "Row"
PROBLEMS = "Problems"
SEPARATORS = (",", ";", "\t", "|")
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OTHER_FORMATS = {b"%PDF": "a PDF document", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
                  b"\x1f\x8b": "a gzip archive", b"PK\x05\x06": "an empty zip archive"}
_SNIFF_LINES = 50
_SNIFF_CHUNK = 64 * 1024  # first prefix tried for those lines; grown fourfold until enough
_SAVE_AS = "Save it from Excel as .xlsx or 'CSV UTF-8' and upload it again."
# Large blocks keep per-batch Python work small; the row limit may overshoot by one block.
_BLOCK_BYTES = 16 * 1024 * 1024
# What str.strip() removes (all of it lies in the BMP). RE2 needs it spelled out: its \s and
# Arrow's trim functions use narrower or different definitions of whitespace.
_PY_SPACE = "".join(c for c in map(chr, range(0x10000)) if c.isspace())
_BLANK_CELL = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in _PY_SPACE) + "]*$"
_QUOTED = re.compile(r'"(?:[^"]++|"")*+"')
_LINE_END = re.compile(r"[\r\n]")
# Lines as csv.reader's StringIO(newline="") splits them, ends included, found lazily.
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TOO_LONG = "field larger than field limit"
# The header is looked for among this many first non-blank rows; a lower one is chosen.
_HEAD_ROWS = 20
# Formulas without saved values are looked for in this many first data rows.
_FORMULA_PROBE = 200


@dataclass(frozen=True)
class Limits:
    """The largest file the app will read."""

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 1_000_000
    max_columns: int = 500


@dataclass(frozen=True)
class FileInfo:
    """How a file was read."""

    name: str
    format: str
    encoding: str | None
    separator: str | None
    sheet: str | None
    sheets: tuple[str, ...]
    rows: int
    columns: int
    header_row: int = 1  # spreadsheet row (CSV: record) of the header
    notes: tuple[str, ...] = ()  # what the reading noticed and a user should know


@dataclass(frozen=True)
class RawTable:
    """Every cell as text (or missing), headers as written, indexed by spreadsheet row."""

    frame: pd.DataFrame
    info: FileInfo


@dataclass(frozen=True)
class Portfolio:
    """A mapped, typed and checked loan portfolio."""

    frame: pd.DataFrame
    report: ValidationReport
    mapping: dict[str, str]
    info: FileInfo
    raw: pd.DataFrame | None = dataclass_field(default=None, repr=False, compare=False)
    row_notes: Mapping[int, tuple[str, ...]] = dataclass_field(
        default_factory=dict, repr=False, compare=False)

    def valid_rows(self) -> pd.DataFrame:
        """The portfolio without the rows that have errors."""
        return self.frame.drop(index=list(self.report.invalid_rows))

    def invalid_rows(self) -> pd.DataFrame:
        """The excluded rows as the file had them, with a column saying why."""
        source = self.raw if self.raw is not None else self.frame
        rows = source.loc[list(self.report.invalid_rows)].copy()
        column = PROBLEMS if PROBLEMS not in rows.columns else f"{PROBLEMS} (validation)"
        rows[column] = pd.Series(
            ["; ".join(self.row_notes.get(r, ())) for r in rows.index], index=rows.index,
            dtype="str")
        return rows


# ---------------------------------------------------------------------------- reading


def read_table(data: bytes, name: str, sheet: str | None = None,
               limits: Limits = Limits(), header_row: int | None = None) -> RawTable:
    """Read CSV or .xlsx bytes into a text table; the format is told by the bytes.

    ``header_row`` is the spreadsheet row (1 = first) that holds the column names; None
    finds it, past a title or notes above the table.
    """
    if header_row is not None and header_row < 1:
        raise RecoveryError(f"The header row must be 1 or more, not {header_row}. Give the "
                            "spreadsheet row that holds the column names, or leave it empty.")
    if len(data) > limits.max_bytes:
        raise RecoveryError(
            f"{name} is {_size(len(data))}, over the limit of {_size(limits.max_bytes)} "
            f"(max_bytes). Split the file or remove columns you do not need.")
    if not data or data.isspace():  # as "not data.strip()", without copying a large file
        raise RecoveryError(f"{name} is empty. Upload a CSV or Excel file with a header row "
                            "and one row per loan.")
    if data.startswith(_OLE2):
        raise RecoveryError(f"{name} is an old Excel .xls workbook, which cannot be read. "
                            "Open it in Excel and save it as .xlsx or CSV.")
    if data.startswith(_ZIP):
        return _read_xlsx(data, name, sheet, limits, header_row)
    for magic, what in _OTHER_FORMATS.items():
        if data.startswith(magic):
            raise RecoveryError(f"{name} is {what}, not a table. Upload a CSV or .xlsx file.")
    if sheet is not None:
        raise RecoveryError(f"{name} is a CSV file, which has no sheets; sheet '{sheet}' "
                            "cannot be chosen. Leave the sheet empty.")
    return _read_csv(data, name, limits, header_row)


def _size(n: int) -> str:
    """Bytes as a short human size."""
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """Text and encoding name: BOMs first, then UTF-8, then charset-normalizer's guess."""
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif b"\x00" in data:
        raise RecoveryError(
            f"{name} contains NUL bytes, so it is binary data or UTF-16 text without a "
            f"byte-order mark, not a CSV. {_SAVE_AS}")
    else:
        encoding = _detect(data, name)
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise RecoveryError(f"{name} is not valid {encoding} text. {_SAVE_AS}") from None
    if "\x00" in text:
        raise RecoveryError(f"{name} contains NUL characters, so it is not a text table. "
                            f"{_SAVE_AS}")
    _refuse_binary(text, name)
    return text, encoding


def _detect(data: bytes, name: str) -> str:
    """UTF-8 if it decodes, else the legacy encoding charset-normalizer finds."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    results = list(charset_normalizer.from_bytes(data))
    if not results:
        raise RecoveryError(f"{name} is not text in any encoding we recognise; it looks like "
                            f"binary data. {_SAVE_AS}")
    # Excel on Western Windows writes cp1252; charset-normalizer often ranks a sibling code
    # page, or on short files even a CJK one ('Zürich' as 'Z黵ich'), first. cp1252 is asked
    # about by name and wins unless it reads clearly worse.
    best_chaos = results[0].chaos
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return results[0].encoding
    if any("cp1252" in r.could_be_from_charset and r.chaos <= best_chaos + 0.1 for r in results):
        return "cp1252"
    western = list(charset_normalizer.from_bytes(data, cp_isolation=["cp1252"]))
    if western and western[0].chaos <= best_chaos + 0.1:
        return "cp1252"
    return results[0].encoding


def _refuse_binary(text: str, name: str) -> None:
    """Reject decoded text with many control characters: it was never a table."""
    sample = text[:100_000]
    controls = sum(1 for ch in sample
                   if ch not in "\t\r\n" and unicodedata.category(ch) in ("Cc", "Cs", "Co"))
    if controls > max(2, len(sample) // 200):
        raise RecoveryError(f"{name} looks like binary data, not a text table. {_SAVE_AS}")


def _head_lines(text: str, count: int) -> list[str]:
    """The first ``count`` of ``text.splitlines()``, without splitting a large text whole."""
    size = _SNIFF_CHUNK
    while True:
        lines = text[:size].splitlines()
        # One more line than asked proves the asked ones ended inside the prefix (a cut
        # between \r and \n cannot start a line), so they are the whole text's lines.
        if len(lines) > count or size >= len(text):
            return lines[:count]
        size *= 4


def _sniff(text: str) -> str | None:
    """The separator that splits the first lines into the most consistent columns.

    Columns are counted from the header, past a title or notes above it; those lines still
    count as disagreeing, so a separator never wins on a few lines at the end.
    """
    head = "\n".join(_head_lines(text, _SNIFF_LINES))
    best: tuple[float, int, str] | None = None
    for separator in SEPARATORS:
        # A cell over csv's field limit stops the reader; the lines before it still count.
        reader = csv.reader(io.StringIO(head), delimiter=separator)
        rows = [r for r in _readable(reader) if r]
        if not rows:
            continue
        width = len(rows[_header_position(rows[:_HEAD_ROWS])])
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


def _read_csv(data: bytes, name: str, limits: Limits, header_row: int | None = None
              ) -> RawTable:
    """Decode, sniff and split a CSV file into a text table."""
    text, encoding = _decode(data, name)
    separator = _sniff(text)
    if separator is None:
        raise _long_head_cell(text, name) or RecoveryError(
            f"{name} does not look like a table: no line splits into columns on ',', ';', "
            "tab or '|'. Upload a CSV with a header row and one row per loan.")
    table = _read_csv_fast(data, text, encoding, separator, name, limits, header_row)
    if table is not None:
        return table
    return _read_csv_slow(text, encoding, separator, name, limits, header_row)


def _read_csv_slow(text: str, encoding: str, separator: str, name: str, limits: Limits,
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
                _check_width(header, name, limits)
            else:
                if len(numbers) >= limits.max_rows:
                    raise _too_many_rows(name, limits)
                rows.append(_fit(record, header, name, reader.line_num))
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
    frame = _text_frame(header, rows, numbers, name)
    info = FileInfo(name, "csv", encoding, separator, None, (), len(frame), len(frame.columns),
                    header_number, notes)
    return RawTable(frame, info)


def _csv_header(text: str, separator: str, name: str, chosen: int | None
                ) -> tuple[int | None, tuple[str, ...]]:
    """The record that holds the header (None: the first with values), and what was skipped."""
    records = enumerate(csv.reader(_lines(text), delimiter=separator, strict=True), start=1)
    if chosen is None:
        return _found_header(_first_filled(_readable(records)), "")
    try:
        return _chosen_header(records, chosen, name, "")
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
    where = f"column '{title}'" if title else f"column {_letter(column)}"
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
                f"{name}: row {row}, column {_letter(column)} holds a cell of {length:,} "
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


def _too_many_rows(name: str, limits: Limits) -> RecoveryError:
    """The error for a CSV file with more data rows than the limit."""
    return RecoveryError(f"{name} has more than {limits.max_rows:,} rows, over the limit "
                         f"(max_rows). Split the file into smaller parts.")


def _read_csv_fast(data: bytes, text: str, encoding: str, separator: str, name: str,
                   limits: Limits, header_row: int | None = None) -> RawTable | None:
    """Read a regular CSV file with pyarrow; None when anything is irregular.

    "Regular" means csv.reader would read it the same way and raise nothing, so the result
    equals ``_read_csv_slow``'s; every other file goes there for its exact message.
    """
    header_at, notes = _csv_header(text, separator, name, header_row)
    if header_at is None:
        return None
    found = _header_line(text, separator, header_at)
    if found is None:
        return None
    header, body_start = found
    _check_width(header, name, limits)
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
    frame = _assemble(header, columns, has_data, numbers, name)
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
    for batch in _batches(body, names, separator):
        cells = batch.columns
        if any((pc.max(pc.utf8_length(c)).as_py() or 0) > field_limit for c in cells):
            return None
        keep = pc.invert(_blank_rows(cells))
        count = pc.sum(keep).as_py() or 0
        if kept + count > limits.max_rows:
            raise _too_many_rows(name, limits)
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
                has_data[position] = not pc.all(_blank_cells(column)).as_py()
        numbers.append(rows)
    columns = [pa.chunked_array(p, type=pa.string()) for p in pieces]
    index = np.concatenate(numbers) if numbers else np.empty(0, dtype="int64")
    return columns, index, has_data


def _batches(body: pa.Buffer, names: list[str], separator: str) -> Iterable[pa.RecordBatch]:
    """Stream ``body`` as record batches of text exactly as written: no nulls, no types."""
    if body.size == 0:
        return iter(())
    return pa_csv.open_csv(
        pa.BufferReader(body),
        read_options=pa_csv.ReadOptions(column_names=names, autogenerate_column_names=False,
                                        skip_rows=0, block_size=_BLOCK_BYTES),
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


def _blank_cells(column: pa.Array) -> pa.BooleanArray:
    """True where a cell is empty or only what str.strip() removes."""
    return pc.match_substring_regex(column, _BLANK_CELL)


def _blank_rows(cells: Sequence[pa.Array]) -> pa.BooleanArray:
    """True where every cell of a row is blank, as csv.reader's caller judges it."""
    blank = _blank_cells(cells[0])
    for column in cells[1:]:
        if not pc.any(blank).as_py():
            break  # every row already has a value; the other columns cannot change that
        blank = pc.and_(blank, _blank_cells(column))
    return blank


def _first_filled(rows: Iterable[tuple[int, Sequence[Any]]]
                  ) -> list[tuple[int, Sequence[Any]]]:
    """The first rows with a value, numbered, where the header is looked for."""
    head: list[tuple[int, Sequence[Any]]] = []
    for number, cells in rows:
        if not all(_blank(v) for v in cells):
            head.append((number, cells))
            if len(head) == _HEAD_ROWS:
                break
    return head


def _found_header(head: Sequence[tuple[int, Sequence[Any]]], place: str
                  ) -> tuple[int | None, tuple[str, ...]]:
    """The header's row number among the first rows with values, and a note on what was skipped."""
    if not head:
        return None, ()
    position = _header_position([cells for _, cells in head])
    number = head[position][0]
    skipped = [cells for _, cells in head[:position]]
    if not skipped:
        return number, ()
    first = _short(", ".join((_cell_text(v) or "").strip() for v in skipped[0] if not _blank(v)))
    what = f"a title: '{first}'" if len(skipped) == 1 else f"a title and notes, from '{first}'"
    return number, (f"The header is on row {number}{place}; {_rows_above(number)} ({what}) "
                    f"{'was' if number == 2 else 'were'} skipped.",)


def _chosen_header(rows: Iterable[tuple[int, Sequence[Any]]], chosen: int, name: str,
                   place: str) -> tuple[int, tuple[str, ...]]:
    """Check the header row a user chose; a note when rows with values above it are skipped."""
    last = 0  # the last row with a value
    for number, cells in rows:
        blank = all(_blank(v) for v in cells)
        if number == chosen:
            if blank:
                raise RecoveryError(f"{name}: row {chosen} is blank, so it cannot be the header. "
                                    "Choose the row that holds the column names.")
            if not last:
                return chosen, ()
            return chosen, (f"The header is on row {chosen}{place}, as chosen; "
                            f"{_rows_above(chosen)} above it {'was' if chosen == 2 else 'were'} "
                            "skipped.",)
        if not blank:
            last = number
    if not last:
        return chosen, ()  # no values at all: reading says the file is empty
    raise RecoveryError(f"{name} has values down to row {last} only, so row {chosen} cannot be "
                        f"the header. Choose a header row from 1 to {last}.")


def _rows_above(header_row: int) -> str:
    """The rows above a header, in words."""
    return "row 1" if header_row == 2 else f"rows 1–{header_row - 1}"


def _short(text: str, size: int = 60) -> str:
    """Text on one line, cut to ``size`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= size else line[: size - 1] + "…"


def _header_position(rows: Sequence[Sequence[Any]]) -> int:
    """Where the header is among a file's first rows: below a title or notes, if any.

    A title or note row has at most two filled cells, fewer than half of the widest row's.
    The first row that is not one is the header when all its filled cells are names (text
    with a letter); otherwise the first row is, as in a file without a title.
    """
    counts = [sum(not _blank(v) for v in row) for row in rows]
    widest = max(counts, default=0)
    position = next((i for i, count in enumerate(counts)
                     if count > 2 or 2 * count >= widest), 0)
    if position and all(_is_name(v) for v in rows[position] if not _blank(v)):
        return position
    return 0


def _is_name(value: Any) -> bool:
    """True for a cell that can be a column name: text with a letter, not a number or date."""
    return isinstance(value, str) and any(ch.isalpha() for ch in value)


def _check_width(header: Sequence[Any], name: str, limits: Limits) -> None:
    """Refuse a header with more columns than the limit."""
    if len(header) > limits.max_columns:
        raise RecoveryError(
            f"{name} has {len(header)} columns, over the limit of {limits.max_columns} "
            "(max_columns). Remove the columns you do not need.")


def _fit(record: list[str], header: list[str], name: str, line: int) -> list[str]:
    """Pad a short record; refuse one with more non-empty fields than the header."""
    if len(record) < len(header):
        return record + [""] * (len(header) - len(record))
    extra = record[len(header):]
    if any(cell.strip() for cell in extra):
        raise RecoveryError(
            f"{name}: line {line} has {len(record)} fields but the header has {len(header)}. "
            "A value probably contains the separator without quotes; quote it or remove "
            "the extra fields.")
    return record[: len(header)]


def _name_blank_headers(header: list[str], has_data: Sequence[bool]
                        ) -> tuple[list[str], list[int]]:
    """Drop empty unnamed columns; name unnamed columns holding data after their letter."""
    names: list[str] = []
    keep: list[int] = []
    for position, title in enumerate(header):
        title = "" if title is None else str(title)
        if not title.strip():
            if not has_data[position]:
                continue
            title = f"Column {_letter(position)}"
        names.append(title)
        keep.append(position)
    return names, keep


def _blank(value: Any) -> bool:
    """True for a cell with nothing in it."""
    return value is None or (isinstance(value, str) and not value.strip())


def _letter(position: int) -> str:
    """Spreadsheet column letter of a 0-based position (0 -> A, 26 -> AA)."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _text_frame(header: list[Any], rows: list[list[Any]], numbers: list[int],
                name: str) -> pd.DataFrame:
    """Build the all-text frame indexed by spreadsheet row number."""
    columns = [list(c) for c in zip(*rows)] if rows else [[] for _ in header]
    has_data = [not all(_blank(v) for v in column) for column in columns]
    return _assemble(header, columns, has_data, numbers, name)


def _assemble(header: list[Any], columns: Sequence[Any], has_data: Sequence[bool],
              numbers: Sequence[int] | np.ndarray, name: str) -> pd.DataFrame:
    """The all-text frame from its columns, or the error a user must fix in the header."""
    names, keep = _name_blank_headers(list(header), has_data)
    if len(names) < 2:
        raise RecoveryError(
            f"{name} has only one column ({names[0] if names else 'none'}), so it is not a "
            "table of loans. Check the separator, or upload a file with one column per field.")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RecoveryError(
            f"{name} has more than one column called {', '.join(repr(d) for d in duplicates)}. "
            "Rename or remove the duplicate column so each header is unique.")
    if not len(numbers):
        raise RecoveryError(f"{name} has a header but no rows. Add one row per loan below "
                            "the header.")
    index = pd.Index(numbers, name=ROW)
    data = {title: _text_series(columns[position], index) for title, position in zip(names, keep)}
    return pd.DataFrame(data, index=index)


def _text_series(values: Sequence[Any] | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """A text column in which blank cells are missing."""
    series = pd.Series(values, index=index, dtype="str")
    return series.where(series.str.strip() != "")


def sheet_names(data: bytes) -> tuple[str, ...]:
    """The worksheets of an .xlsx file, so a sheet can be chosen before reading; () otherwise.

    A damaged workbook also gives (): reading it then raises the RecoveryError that explains.
    """
    if not data.startswith(_ZIP):
        return ()
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on damaged files; read_table reports them
        return ()
    try:
        return tuple(book.sheetnames)
    finally:
        book.close()


def _read_xlsx(data: bytes, name: str, sheet: str | None, limits: Limits,
               header_row: int | None = None) -> RawTable:
    """Read cached cell values from one sheet of an .xlsx workbook."""
    import openpyxl  # imported late: CSV-only users never pay for it

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise RecoveryError(f"{name} looks like a zip or Excel file but is damaged. "
                            f"{_SAVE_AS}") from None
    if "xl/workbook.xml" not in {m.filename for m in members}:
        raise RecoveryError(f"{name} is a zip archive, not an Excel .xlsx workbook. "
                            "Upload the .xlsx or CSV file itself.")
    unpacked = sum(m.file_size for m in members)
    if unpacked > 20 * limits.max_bytes:  # guards against zip bombs
        raise RecoveryError(
            f"{name} unpacks to {_size(unpacked)}, over 20 x the limit of "
            f"{_size(limits.max_bytes)} (max_bytes). Split the workbook.")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on damaged files; all mean the same
        raise RecoveryError(f"{name} could not be opened as an Excel workbook; it may be "
                            f"damaged or password-protected. {_SAVE_AS}") from None
    try:
        table = _read_sheet(book, name, sheet, limits, header_row)
        notes = _formula_notes(data, table, _recalculates(archive))
    except RecoveryError:
        raise
    except Exception:
        raise RecoveryError(f"{name} could not be read as an Excel workbook; it may be "
                            f"damaged. {_SAVE_AS}") from None
    finally:
        book.close()
    if not notes:
        return table
    return RawTable(table.frame, replace(table.info, notes=table.info.notes + notes))


def _read_sheet(book: Any, name: str, sheet: str | None, limits: Limits,
                header_row: int | None = None) -> RawTable:
    """Read one worksheet of an open workbook into a text table."""
    sheets = tuple(ws.title for ws in book.worksheets)
    if not sheets:
        raise RecoveryError(f"{name} has no worksheets. Add the data on a sheet.")
    if sheet is None:
        sheet = sheets[0]
    elif sheet not in sheets:
        raise RecoveryError(f"{name} has no sheet called '{sheet}'. Its sheets are: "
                            f"{', '.join(repr(s) for s in sheets)}. Choose one of them.")
    where = f"{name} (sheet '{sheet}')"
    header_at, notes = _sheet_header(book[sheet], where, f" of sheet '{sheet}'", header_row)
    header: list[Any] | None = None
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    start = header_at or 1
    for row_number, cells in enumerate(book[sheet].iter_rows(min_row=start, values_only=True),
                                       start=start):
        if all(_blank(v) for v in cells):
            continue
        if header is None:
            header = _trim(list(cells))
            _check_width(header, where, limits)
            header = [_cell_text(v) or "" for v in header]
            continue
        if len(numbers) >= limits.max_rows:
            raise RecoveryError(
                f"{where} has more than {limits.max_rows:,} rows, over the "
                "limit (max_rows). Split the file into smaller parts.")
        texts = [_cell_text(v) for v in cells]
        rows.append(_fit_cells(texts, header, where, row_number))
        numbers.append(row_number)
    if header is None:
        raise RecoveryError(f"{name}: sheet '{sheet}' is empty. Choose the sheet that holds "
                            f"the loans (sheets: {', '.join(sheets)}).")
    try:
        frame = _text_frame(header, rows, numbers, where)
    except RecoveryError as exc:
        if len(sheets) == 1:
            raise
        raise RecoveryError(f"{exc} Sheets in this workbook: "
                            f"{', '.join(repr(s) for s in sheets)}; choose another.") from None
    info = FileInfo(name, "xlsx", None, None, sheet, sheets, len(frame), len(frame.columns),
                    start, notes)
    return RawTable(frame, info)


def _sheet_header(worksheet: Any, where: str, place: str, chosen: int | None
                  ) -> tuple[int | None, tuple[str, ...]]:
    """The row of a worksheet that holds the header (None: the sheet is empty), and a note."""
    cells = worksheet.iter_rows(values_only=True)
    try:
        numbered = enumerate(cells, start=1)
        if chosen is None:
            return _found_header(_first_filled(numbered), place)
        return _chosen_header(numbered, chosen, where, place)
    finally:
        cells.close()  # stops openpyxl parsing the rest of the sheet


def _recalculates(archive: zipfile.ZipFile) -> bool:
    """True when the workbook asks to be recalculated on opening.

    Programs that write formulas without computing them (openpyxl, XlsxWriter) mark it so;
    Excel saves the values and drops the mark.
    """
    workbook = archive.read("xl/workbook.xml")
    return re.search(rb"fullCalcOnLoad\s*=\s*[\"'](?:1|true)[\"']", workbook) is not None


def _formula_notes(data: bytes, table: RawTable, recalculates: bool) -> tuple[str, ...]:
    """A note for each column whose formulas have no saved value, so they read as blank.

    Looked for, with the formulas read once more, in columns blank on every row and, when
    the workbook asks to be recalculated, in columns with a blank; only in the first rows
    unless they hold such formulas, so most sheets are not read twice.
    """
    frame = table.frame
    blank = frame.isna()
    everywhere, somewhere = blank.all(), blank.any()
    suspects = {c for c in frame.columns if everywhere[c] or (recalculates and somewhere[c])}
    if not suspects:
        return ()
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        formulas = _formula_rows(book[table.info.sheet], table.info.header_row, suspects)
    finally:
        book.close()
    notes = []
    for column, rows in formulas.items():
        # A row all of whose cells read as blank is not in the table at all.
        read_blank = blank[column].reindex(rows, fill_value=True)
        unsaved = read_blank.index[read_blank.to_numpy(dtype=bool)].tolist()
        if unsaved:
            notes.append(f"Column '{column}' holds formulas whose values were not saved in the "
                         f"file ({_row_span(unsaved)}), so they read as blank: open the "
                         "workbook in Excel and save it again, or paste the values.")
    return tuple(notes)


def _formula_rows(worksheet: Any, header_row: int, columns: set[str]
                  ) -> dict[str, list[int]]:
    """The rows that hold a formula, for each of ``columns`` that has one in the first rows."""
    cells = worksheet.iter_rows(min_row=header_row)
    try:
        names = [(_cell_text(c.value) or "") for c in next(cells, ())]
        watched = {position: title if title.strip() else f"Column {_letter(position)}"
                   for position, title in enumerate(names)}
        watched = {p: title for p, title in watched.items() if title in columns}
        found: dict[int, list[int]] = {p: [] for p in watched}
        for offset, row in enumerate(cells):
            if offset == _FORMULA_PROBE:
                watched = {p: title for p, title in watched.items() if found[p]}
                if not watched:
                    break
            for position in watched:
                if position < len(row) and row[position].data_type == "f":
                    found[position].append(header_row + 1 + offset)
    finally:
        cells.close()
    return {watched[p]: rows for p, rows in found.items() if p in watched and rows}


def _row_span(rows: Sequence[int], most: int = 5) -> str:
    """Sorted row numbers as ranges in words: 'rows 2–10, 15 and 40 more'."""
    runs: list[list[int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    shown = ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs[:most])
    rest = sum(b - a + 1 for a, b in runs[most:])
    noun = "row" if len(rows) == 1 else "rows"
    return f"{noun} {shown}" + (f" and {rest:,} more" if rest else "")


def _trim(cells: list[Any]) -> list[Any]:
    """Drop blank cells at the end of a header row."""
    while cells and _blank(cells[-1]):
        cells.pop()
    return cells


def _fit_cells(texts: list[str | None], header: list[str], name: str,
               row: int) -> list[str | None]:
    """Pad a short sheet row; refuse one with values beyond the last header."""
    if len(texts) < len(header):
        return texts + [None] * (len(header) - len(texts))
    if any(not _blank(v) for v in texts[len(header):]):
        raise RecoveryError(
            f"{name}: row {row} has values to the right of the last header. Give that column "
            "a header or delete the values.")
    return texts[: len(header)]


def _cell_text(value: Any) -> str | None:
    """The text of a cell as a user reads it: whole floats without '.0', dates without 'T'."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        # As Excel shows it: a date without a time is the date alone.
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------------------- mapping


def _normalise(header: str) -> str:
    """Header key that ignores case, spaces, underscores, hyphens and punctuation."""
    return re.sub(r"[\W_]+", "", header.casefold())


def suggest_mapping(columns: Sequence[str]) -> dict[str, str]:
    """Canonical field -> file header for every field recognised among ``columns``."""
    headers = [c for c in columns if isinstance(c, str)]
    mapping: dict[str, str] = {}
    used: set[str] = set()

    def claim(spec: schema.Field, matches: Iterable[str]) -> None:
        for header in matches:
            if header not in used:
                mapping[spec.name] = header
                used.add(header)
                return

    # Passes from strongest to weakest, so an exact name is never taken by a synonym.
    for spec in schema.FIELDS:
        claim(spec, (h for h in headers if h == spec.name))
    for spec in schema.FIELDS:
        if spec.name not in mapping:
            key = _normalise(spec.name)
            claim(spec, (h for h in headers if _normalise(h) == key))
    for spec in schema.FIELDS:
        if spec.name not in mapping:
            keys = {_normalise(s) for s in (*spec.synonyms, spec.label)}
            claim(spec, (h for h in headers if _normalise(h) in keys))
    return {f.name: mapping[f.name] for f in schema.FIELDS if f.name in mapping}


def _check_mapping(mapping: Mapping[str, str | None], headers: Sequence[str]) -> dict[str, str]:
    """Refuse unknown fields, headers not in the file and headers used twice."""
    chosen = {k: v for k, v in mapping.items() if v is not None and v != ""}
    unknown = [k for k in chosen if k not in schema.BY_NAME]
    if unknown:
        raise RecoveryError(
            f"Unknown field {', '.join(repr(u) for u in unknown)} in the column mapping. "
            f"Fields are: {', '.join(schema.BY_NAME)}.")
    absent = [v for v in chosen.values() if v not in headers]
    if absent:
        raise RecoveryError(
            f"The column mapping uses {', '.join(repr(a) for a in absent)}, which is not a "
            f"column of the file. Columns are: {', '.join(repr(h) for h in headers)}.")
    seen: dict[str, str] = {}
    for canonical, header in chosen.items():
        if header in seen:
            raise RecoveryError(
                f"Column '{header}' is mapped to both {seen[header]} and {canonical}. "
                "Map each column to one field only.")
        seen[header] = canonical
    for header in headers:
        if header in schema.BY_NAME and header not in seen and header in chosen:
            raise RecoveryError(
                f"Column '{header}' has the name of field {header}, which is mapped to "
                f"'{chosen[header]}'. Map {header} to '{header}' or rename that column.")
    return {f.name: chosen[f.name] for f in schema.FIELDS if f.name in chosen}


def _outcome_if_known(raw: pd.DataFrame, mapping: dict[str, str]) -> dict[str, str]:
    """The suggestion without Recovery_Status when its column holds other values (Default/Recovered …).

    Such a column stays under its own name and becomes the outcome with the values the user
    counts as bad (core.data.roles), instead of being read with the tutorial's three spellings.
    """
    header = mapping.get(schema.OUTCOME)
    if header is None:
        return mapping
    allowed = {spelling(a) for a in schema.BY_NAME[schema.OUTCOME].allowed}
    values = {spelling(v) for v in raw[header].dropna().astype("str").unique() if str(v).strip()}
    if values <= allowed:
        return mapping
    return {k: v for k, v in mapping.items() if k != schema.OUTCOME}


def _apply_mapping(raw: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """Canonical columns in schema order, then the file's other columns as they were."""
    mapped = {canonical: raw[header] for canonical, header in mapping.items()}
    used = set(mapping.values())
    extras = {h: raw[h] for h in raw.columns if h not in used}
    return pd.DataFrame({**mapped, **extras}, index=raw.index)


def _pin(suggested: dict[str, str], pinned: Mapping[str, str], headers: Sequence[str],
         pinned_by: Mapping[str, str]) -> dict[str, str]:
    """The suggested mapping with some fields read from the columns the user named (and those columns from nowhere else)."""
    for canonical, header in pinned.items():
        if header not in headers:
            raise RecoveryError(f"{pinned_by.get(canonical, canonical)} {header}: the file has no such column. "
                                f"Columns are: {', '.join(map(str, headers))}.")
    kept = {k: v for k, v in suggested.items() if k not in pinned and v not in pinned.values()}
    return {f.name: {**kept, **pinned}[f.name] for f in schema.FIELDS if f.name in {**kept, **pinned}}


def load_portfolio(data: bytes, name: str, mapping: dict[str, str] | None = None,
                   sheet: str | None = None, limits: Limits = Limits(),
                   keep_repeated_ids: bool = False, header_row: int | None = None,
                   pinned: Mapping[str, str] | None = None, pinned_by: Mapping[str, str] | None = None
                   ) -> Portfolio:
    """Read, map and check a portfolio file.

    ``mapping=None`` uses suggest_mapping, with any field in ``pinned`` read from the column it names
    (the command line's --id and --exposure; ``pinned_by`` says how the user named it, for messages).
    """
    table = read_table(data, name, sheet=sheet, limits=limits, header_row=header_row)
    headers = list(table.frame.columns)
    chosen = (_pin(_outcome_if_known(table.frame, suggest_mapping(headers)), pinned or {}, headers, pinned_by or {})
              if mapping is None else _check_mapping(mapping, headers))
    checked = check(_apply_mapping(table.frame, chosen), chosen, table.info.separator, keep_repeated_ids)
    return Portfolio(checked.frame, checked.report, chosen, table.info, table.frame,
                     checked.row_notes)
