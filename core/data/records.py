"""Where a CSV's records end, as csv.reader reads them, found without reading the cells.

A quote opens a quoted cell only at the start of a cell (after a separator or a line end); one
inside an unquoted cell, like the inch mark in ``5" screen``, is a letter of that cell. Inside a
quoted cell every quote counts: a doubled one is a quote in the text, a single one closes the
cell. A line end ends a record only outside quoted cells. Counting every quote the same way
(parity) agrees with this exactly when every quote met outside a quoted cell starts a cell,
which is checked in one vector step; only a file with quotes inside unquoted cells is followed
quote by quote.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from core.data.delimited import sniff

_QUOTE, _LF, _CR = 34, 10, 13
_BOM = b"\xef\xbb\xbf"  # a UTF-8 file's mark, which the reader drops: its first cell starts after it
_HEAD_BYTES = 64 * 1024  # enough of a file's start to hold its header line


class Where(IntEnum):
    """The reader's place before a byte: inside a quoted cell, or outside at a cell's start, just after a closing quote, or inside an unquoted cell."""

    INSIDE = 0
    CELL_START = 1
    AFTER_CLOSE = 2
    IN_CELL = 3


def separator_of(head: bytes) -> bytes:
    """The separator the reader will find in a file whose first bytes are ``head`` (',' when none splits it)."""
    line = head[:_HEAD_BYTES].split(b"\n", 1)[0]
    found = sniff(line.decode("utf-8", errors="replace"))
    return (found or ",").encode()


def _boundaries(separator: bytes) -> np.ndarray:
    """The bytes after which a cell starts."""
    return np.array([separator[0], _LF, _CR], dtype=np.uint8)


def _counting_quotes(buffer: np.ndarray, quotes: np.ndarray, separator: bytes, start: Where) -> np.ndarray:
    """The quotes that open or close a quoted cell (both of a doubled one), from ``start``."""
    if not len(quotes):
        return quotes
    met_outside = np.arange(len(quotes)) % 2 == (0 if start != Where.INSIDE else 1)
    previous = buffer[np.maximum(quotes - 1, 0)]
    opens_cell = np.isin(previous, _boundaries(separator)) & (quotes > 0)
    doubled = np.zeros(len(quotes), dtype=bool)
    doubled[1:] = quotes[1:] == quotes[:-1] + 1  # the second of "" after a closing quote
    if quotes[0] == _first_cell(buffer):
        opens_cell[0] = start in (Where.CELL_START, Where.AFTER_CLOSE)
    if bool((opens_cell | doubled)[met_outside].all()):
        return quotes
    return _followed(buffer, quotes, separator, start)


def _first_cell(buffer: np.ndarray) -> int:
    """Where the data's first cell starts: after a UTF-8 mark, if it has one."""
    return len(_BOM) if buffer[:3].tobytes() == _BOM else 0


def _followed(buffer: np.ndarray, quotes: np.ndarray, separator: bytes, start: Where) -> np.ndarray:
    """The counting quotes found one by one (a file with quotes inside unquoted cells)."""
    boundaries = {separator[0], _LF, _CR}
    data = buffer.tobytes()
    inside, closed_at, kept = start == Where.INSIDE, -2, []
    first = _first_cell(buffer)
    for q in quotes.tolist():
        if inside:
            inside, closed_at = False, q
        elif q == first:
            if start not in (Where.CELL_START, Where.AFTER_CLOSE):
                continue
            inside = True
        elif data[q - 1] in boundaries or q - 1 == closed_at:
            inside = True
        else:
            continue  # a letter of an unquoted cell
        kept.append(q)
    return np.array(kept, dtype=np.intp)


def _newline_ends(newlines: np.ndarray, counting: np.ndarray, start: Where) -> np.ndarray:
    """The line ends outside quoted cells."""
    if not len(counting):
        return newlines if start != Where.INSIDE else newlines[:0]
    offset = 1 if start == Where.INSIDE else 0
    return newlines[(np.searchsorted(counting, newlines) + offset) % 2 == 0]


def _where_after(buffer: np.ndarray, counting: np.ndarray, separator: bytes, start: Where) -> Where:
    """The reader's place after the last byte."""
    if not len(buffer):
        return start
    if (len(counting) + (start == Where.INSIDE)) % 2:
        return Where.INSIDE
    last = int(buffer[-1])
    if last in (separator[0], _LF, _CR):
        return Where.CELL_START
    if len(counting) and counting[-1] == len(buffer) - 1:
        return Where.AFTER_CLOSE
    return Where.IN_CELL


def record_ends(data: bytes | memoryview, separator: bytes = b",", start: Where = Where.CELL_START) -> np.ndarray:
    """Positions of the line ends ('\\n') that end a record in ``data``, read from ``start``."""
    return block_records(data, separator, start)[0]


def block_records(data: bytes | memoryview, separator: bytes, start: Where) -> tuple[np.ndarray, Where]:
    """A block's record ends read from ``start``, and the reader's place after its last byte."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buffer == _LF)
    counting = _counting_quotes(buffer, np.flatnonzero(buffer == _QUOTE), separator, start)
    return _newline_ends(newlines, counting, start), _where_after(buffer, counting, separator, start)
