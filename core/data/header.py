"""Where the header is, below a title or notes, and the text table assembled under it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.data.table import ROW, Limits, cell_text, column_letter, first_bytes, is_blank, shortened
from core.errors import RecoveryError

# The header is looked for among this many first non-blank rows; a lower one is chosen.
HEAD_ROWS = 20


def first_filled(rows: Iterable[tuple[int, Sequence[Any]]]
                  ) -> list[tuple[int, Sequence[Any]]]:
    """The first rows with a value, numbered, where the header is looked for."""
    head: list[tuple[int, Sequence[Any]]] = []
    for number, cells in rows:
        if not all(is_blank(v) for v in cells):
            head.append((number, cells))
            if len(head) == HEAD_ROWS:
                break
    return head


def found_header(head: Sequence[tuple[int, Sequence[Any]]], place: str
                  ) -> tuple[int | None, tuple[str, ...]]:
    """The header's row number among the first rows with values, and a note on what was skipped."""
    if not head:
        return None, ()
    position = header_position([cells for _, cells in head])
    number = head[position][0]
    skipped = [cells for _, cells in head[:position]]
    if not skipped:
        return number, ()
    first = shortened(", ".join((cell_text(v) or "").strip() for v in skipped[0] if not is_blank(v)))
    what = f"a title: '{first}'" if len(skipped) == 1 else f"a title and notes, from '{first}'"
    return number, (f"The header is on row {number}{place}; {_rows_above(number)} ({what}) "
                    f"{'was' if number == 2 else 'were'} skipped.",)


def chosen_header(rows: Iterable[tuple[int, Sequence[Any]]], chosen: int, name: str,
                   place: str) -> tuple[int, tuple[str, ...]]:
    """Check the header row a user chose; a note when rows with values above it are skipped."""
    last = 0  # the last row with a value
    for number, cells in rows:
        blank = all(is_blank(v) for v in cells)
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


def header_position(rows: Sequence[Sequence[Any]]) -> int:
    """Where the header is among a file's first rows: below a title or notes, if any.

    A title or note row has at most two filled cells, fewer than half of the widest row's.
    The first row that is not one is the header when all its filled cells are names (text
    with a letter); otherwise the first row is, as in a file without a title.
    """
    counts = [sum(not is_blank(v) for v in row) for row in rows]
    widest = max(counts, default=0)
    position = next((i for i, count in enumerate(counts)
                     if count > 2 or 2 * count >= widest), 0)
    if position and all(_is_name(v) for v in rows[position] if not is_blank(v)):
        return position
    return 0


def _is_name(value: Any) -> bool:
    """True for a cell that can be a column name: text with a letter, not a number or date."""
    return isinstance(value, str) and any(ch.isalpha() for ch in value)


def check_width(header: Sequence[Any], name: str, limits: Limits) -> None:
    """Refuse a header with more columns than the limit."""
    if len(header) > limits.max_columns:
        raise RecoveryError(
            f"{name} has {len(header)} columns, over the limit of {limits.max_columns} "
            "(max_columns). Remove the columns you do not need.")


def fit_record(record: list[str], header: list[str], name: str, line: int) -> list[str]:
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
            title = f"Column {column_letter(position)}"
        names.append(title)
        keep.append(position)
    return names, keep


def text_frame(header: list[Any], rows: list[list[Any]], numbers: list[int],
                name: str) -> pd.DataFrame:
    """Build the all-text frame indexed by spreadsheet row number."""
    columns = [list(c) for c in zip(*rows)] if rows else [[] for _ in header]
    has_data = [not all(is_blank(v) for v in column) for column in columns]
    return assemble(header, columns, has_data, numbers, name)


def assemble(header: list[Any], columns: Sequence[Any], has_data: Sequence[bool],
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
    cells = pa.chunked_array(pa.array(series.array))
    # A cell that starts with a visible ASCII character is not blank: a column of only those (the usual
    # one) is settled from the first bytes, without asking every cell whether it is all whitespace
    starts = first_bytes(cells)
    if not ((starts < 0x21) | (starts > 0x7e)).any():
        return series
    # Blank: empty or only what str.strip() removes (Arrow's whitespace is Python's); no copy when none is.
    blank = pc.fill_null(pc.or_(pc.equal(pc.binary_length(cells), 0), pc.utf8_is_space(cells)), False)
    if not pc.any(blank).as_py():
        return series
    return series.where(~blank.to_numpy(zero_copy_only=False))
