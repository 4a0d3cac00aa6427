"""Strict parsing of numbers written as text: currency, thousands separators, decimal commas.

A column is read in one *style*: "dot" (1,234.56) or "comma" (1.234,56). The style is
decided per column from the values that can only be read one way; values that could be
read either way ("1,234") are never guessed: without evidence they are errors, unless
the file's separator settles the convention ("," files use a decimal point, ";" files a
decimal comma).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.data.table import plain_edges

Style = Literal["dot", "comma"]

# A problem found while reading one cell; the wording is what the user sees.
TEXT = "text in a numeric column"
NOT_FINITE = "not a finite number"
INCONSISTENT = "text in a numeric column (decimal comma and decimal point mixed in one column)"
AMBIGUOUS = "text in a numeric column (unclear whether ',' or '.' is the decimal mark)"

_CURRENCY = ("usd", "eur", "gbp", "inr", "rs.", "rs", "$", "€", "£", "₹", "₨")
_SPACES = "\u00a0\u202f\u2009"  # no-break, narrow no-break and thin spaces used as grouping
_NON_FINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "-nan", "+nan"}

_EXP = r"(?:[eE][+-]?\d+)?"
_GROUP_OTHER = r"\d{1,3}(?:(?P<g>[ '])\d{3})(?:(?P=g)\d{3})*"
_LAKH = r"\d{1,2}(?:,\d{2})+,\d{3}"  # Indian grouping: 10,44,620
_DOT = re.compile(
    rf"^(?:\d{{1,3}}(?:,\d{{3}})+|{_LAKH}|{_GROUP_OTHER}|\d+)(?:\.\d+)?{_EXP}$|^\.\d+{_EXP}$")
_COMMA = re.compile(rf"^(?:\d{{1,3}}(?:\.\d{{3}})+|{_GROUP_OTHER}|\d+)(?:,\d+)?$|^,\d+$")


@dataclass(frozen=True)
class ParsedColumn:
    """Values of one column as floats, plus the cells that could not be read."""

    values: pd.Series            # float64, NaN where missing or unreadable
    bad: dict[int, str]          # row label -> problem wording
    style: Style | None
    read_by: Style | None = None  # the style, when some cell's value depends on it (1.5, 1,234)


def _strip_currency(text: str) -> str:
    """Remove one currency symbol or code at the start or end, with its spaces."""
    lower = text.lower()
    for symbol in _CURRENCY:
        if lower.startswith(symbol):
            return text[len(symbol):].strip()
        if lower.endswith(symbol):
            return text[: len(text) - len(symbol)].strip()
    return text


def clean(text: str, percent: bool) -> tuple[str, str] | None:
    """Split a cell into (sign, unsigned digits text); None when it cannot be a number."""
    body = text.strip()
    for space in _SPACES:
        body = body.replace(space, " ")
    sign = ""
    if body.startswith("(") and body.endswith(")"):  # accounting negative: (1,234.00)
        sign, body = "-", body[1:-1].strip()
    if percent and body.endswith("%"):
        body = body[:-1].strip()
    for _ in range(2):  # a sign may sit either side of the currency: -$5 or $-5
        if body[:1] in "+-" and body[:1] and not sign:
            sign, body = body[:1], body[1:].strip()
        body = _strip_currency(body)
    if body[:1] in "+-" and body[:1] and not sign:
        sign, body = body[:1], body[1:].strip()
    if not body or body[0] in "+-":
        return None
    return sign, body


def read_as(body: str, style: Style) -> float | None:
    """The value of an unsigned number text in one style, or None if it is not valid there."""
    if style == "dot":
        if not _DOT.match(body):
            return None
        plain = body.replace(",", "").replace(" ", "").replace("'", "")
    else:
        if not _COMMA.match(body):
            return None
        plain = body.replace(".", "").replace(" ", "").replace("'", "").replace(",", ".")
    return float(plain)


def _default_style(separator: str | None) -> Style | None:
    """The convention a file's separator implies when the values do not tell."""
    if separator in (",", None):  # comma CSV and Excel text both use a decimal point
        return "dot"
    if separator == ";":
        return "comma"
    return None


def _classify(cell: str, percent: bool) -> str | tuple[str, float | None, float | None]:
    """Problem wording, or (sign, value as dot style, value as comma style) for one cell."""
    if cell.strip().lower() in _NON_FINITE:
        return NOT_FINITE
    parts = clean(cell, percent)
    if parts is None:
        return TEXT
    sign, body = parts
    dot, comma = read_as(body, "dot"), read_as(body, "comma")
    if dot is None and comma is None:
        return TEXT
    return sign, dot, comma


# The fast path's shapes, 123 and 12.39, but not 1.234 (a thousands separator or a decimal
# point: which one the column's style decides). ASCII digits only: other scripts' digits
# ("٣") take the slow path, which reads them as float() does.
_FAST = r"^[+-]?(?:[0-9]+|[0-9]{4,}\.[0-9]+|[0-9]{1,3}\.(?:[0-9]{1,2}|[0-9]{4,}))$"


def arrow_text(cells: pd.Series) -> pa.ChunkedArray:
    """The cells as Arrow text, null where missing; a text column is not copied."""
    if not isinstance(cells.dtype, pd.StringDtype) or cells.dtype.storage != "pyarrow":
        cells = cells.astype("str")
    return pa.chunked_array(pa.array(cells.array, type=pa.string()))


def stripped(cells: pd.Series) -> pa.ChunkedArray:
    """The cells without surrounding whitespace, as ``Series.str.strip()`` gives them."""
    text = arrow_text(cells)
    return text if plain_edges(text) else pc.utf8_trim_whitespace(text)


def flags(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A boolean Arrow result as numpy, null counted as false."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def parse_column(cells: pd.Series, separator: str | None, percent: bool = False) -> ParsedColumn:
    """Parse a text column strictly; every unreadable cell is reported, none is guessed."""
    return parse_stripped(stripped(cells), cells.index, separator, percent)


def digits_only(text: pa.ChunkedArray) -> np.ndarray:
    """True where a cell is ASCII digits alone (123): the commonest shape, found without a regex."""
    return flags(pc.ascii_is_decimal(text))


def parse_stripped(text: pa.ChunkedArray, index: pd.Index, separator: str | None,
                   percent: bool = False, digits: np.ndarray | None = None) -> ParsedColumn:
    """parse_column for cells already stripped (null where missing), so a caller strips once.

    ``digits`` is digits_only(text) when the caller has it already.
    """
    present = flags(pc.greater(pc.binary_length(text), 0))  # no bytes is no characters, counted from the offsets
    fast = (digits_only(text) if digits is None else digits) & present
    decimal = np.zeros(len(text), dtype=bool)
    other = np.flatnonzero(present & ~fast)
    if len(other):
        rest = text if len(other) == len(text) else text.take(pa.array(other))
        fast[other], decimal[other] = _fast_shapes(rest)
    values = _fast_floats(text, fast, present)
    slow_at = np.flatnonzero(present & ~fast)
    slow = _SlowCells.read(text.take(pa.array(slow_at)), percent)
    style = _choose_style_counts(int(decimal.sum()) + slow.count(slow.only_dot),
                                 slow.count(slow.only_comma), separator)
    found: list[tuple[np.ndarray, np.ndarray | str]] = []  # positions and wording, later ones win
    if style != "dot":  # a decimal point is wrong in a decimal-comma column
        values[decimal] = np.nan
        found.append((np.flatnonzero(decimal), INCONSISTENT))
    picked, wrong = slow.values(style)
    values[slow_at] = picked
    found.append((slow_at[wrong != ""], wrong[wrong != ""]))
    infinite = np.isinf(values)
    values[infinite] = np.nan
    found.append((np.flatnonzero(infinite), NOT_FINITE))
    problems: dict[int, str] = {}
    for positions, wording in found:
        words = [wording] * len(positions) if isinstance(wording, str) else wording.tolist()
        problems.update(zip(positions.tolist(), words))
    bad = dict(sorted(zip(index[list(problems)].tolist(), problems.values())))
    depends = bool(decimal.any()) or slow.count((slow.problem == "") & ~(slow.dot == slow.comma)) > 0
    return ParsedColumn(pd.Series(values, index=index, dtype="float64"), bad, style,
                        style if depends else None)


def _point_decimals(chunk: pa.Array) -> np.ndarray:
    """Per cell, True for ASCII digits, one '.', digits, unless three digits follow at most three (1.234).

    Read from the cell bytes with numpy: a cell with exactly one byte that is not a digit, a point,
    has that byte found from the count of such bytes in the cells before. Another layout gives False.
    """
    width = (np.int64 if pa.types.is_large_string(chunk.type)
             else np.int32 if pa.types.is_string(chunk.type) else None)
    _, offsets_buffer, data_buffer = chunk.buffers() if width is not None and len(chunk) else (None, None, None)
    if data_buffer is None:
        return np.zeros(len(chunk), dtype=bool)
    offsets = np.frombuffer(offsets_buffer, dtype=width)[chunk.offset:chunk.offset + len(chunk) + 1]
    starts, ends = (offsets[:-1] - offsets[0]).astype(np.int64), (offsets[1:] - offsets[0]).astype(np.int64)
    filled = np.flatnonzero(ends > starts)
    if not len(filled):
        return np.zeros(len(chunk), dtype=bool)
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0]:offsets[-1]]
    other = (data - np.uint8(48)) > 9  # not an ASCII digit (the subtraction wraps below '0')
    # The filled cells lie end to end, so each one's segment from its start is its own bytes.
    count = np.add.reduceat(other.view(np.uint8), starts[filled], dtype=np.int32)
    first = np.cumsum(count, dtype=np.int64) - count  # non-digit bytes in the cells before
    one = count == 1
    point = np.flatnonzero(other)[first[one]]  # the one non-digit byte of each such cell
    cells = filled[one]
    whole, fraction = point - starts[cells], ends[cells] - point - 1
    plain = np.zeros(len(chunk), dtype=bool)
    plain[cells] = ((data[point] == ord(".")) & (whole >= 1) & (fraction >= 1)
                    & ~((whole <= 3) & (fraction == 3)))
    if chunk.null_count:
        plain &= np.asarray(chunk.is_valid())
    return plain


def _fast_shapes(rest: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Which cells match _FAST, and which of those have a decimal point.

    The usual 12.39 is told from the bytes; only the cells that are not (signs, other shapes) are
    asked the regex.
    """
    chunks = rest.chunks if isinstance(rest, pa.ChunkedArray) else [rest]
    plain = np.concatenate([np.zeros(0, dtype=bool), *(_point_decimals(chunk) for chunk in chunks)])
    matched, pointed = plain.copy(), plain.copy()
    left = np.flatnonzero(~plain)
    if len(left):
        cells = rest if len(left) == len(rest) else rest.take(pa.array(left))
        shaped = flags(pc.match_substring_regex(cells, _FAST))
        matched[left] = shaped
        pointed[left] = shaped & flags(pc.match_substring(cells, "."))
    return matched, pointed


def _fast_floats(text: pa.ChunkedArray, fast: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Every cell's value where it is plain ASCII 123 / 12.39 text, NaN elsewhere.

    Arrow's cast rounds correctly, as float() does, at a fraction of the cost of going
    through Python objects; a column with nothing else in it is cast whole, without a copy.
    """
    if not fast.any():
        return np.full(len(text), np.nan)
    if np.array_equal(fast, present) and text.null_count == len(text) - int(present.sum()):
        return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False).copy()
    values = np.full(len(text), np.nan)
    values[fast] = pc.cast(text.filter(pa.array(fast)), pa.float64()).to_numpy(zero_copy_only=False)
    return values


@dataclass(frozen=True)
class _SlowCells:
    """The cells the fast path cannot read, classified once per distinct text."""

    codes: np.ndarray           # per cell, its distinct text's position in the arrays below
    problem: np.ndarray         # per distinct text: problem wording, or "" when readable
    negative: np.ndarray        # per distinct text: written with a minus sign
    dot: np.ndarray             # per distinct text: value in dot style, NaN if invalid there
    comma: np.ndarray           # per distinct text: value in comma style, NaN if invalid there
    only_dot: np.ndarray
    only_comma: np.ndarray

    @classmethod
    def read(cls, text: pa.ChunkedArray, percent: bool) -> _SlowCells:
        """Classify every distinct cell text of ``text`` (no nulls)."""
        encoded = pc.dictionary_encode(text).combine_chunks()
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype("intp")
        outcomes = [_classify(cell, percent) for cell in encoded.dictionary.to_pylist()]
        readable = [o if not isinstance(o, str) else ("", None, None) for o in outcomes]
        dot = np.array([np.nan if d is None else d for _, d, _ in readable], dtype="float64")
        comma = np.array([np.nan if c is None else c for _, _, c in readable], dtype="float64")
        has_dot = np.array([d is not None for _, d, _ in readable], dtype=bool)
        has_comma = np.array([c is not None for _, _, c in readable], dtype=bool)
        problem = np.array([o if isinstance(o, str) else "" for o in outcomes], dtype=object)
        negative = np.array([sign == "-" for sign, _, _ in readable], dtype=bool)
        return cls(codes, problem, negative, dot, comma, has_dot & ~has_comma,
                   has_comma & ~has_dot)

    def count(self, flags: np.ndarray) -> int:
        """How many cells have a distinct text for which ``flags`` is true."""
        return int(np.count_nonzero(flags[self.codes])) if len(self.codes) else 0

    def values(self, style: Style | None) -> tuple[np.ndarray, np.ndarray]:
        """Per cell, its value under ``style`` (NaN when wrong) and its problem or ""."""
        value = np.full(len(self.problem), np.nan)
        problem = self.problem.copy()
        for at in np.flatnonzero(self.problem == ""):
            picked = _pick(None if np.isnan(self.dot[at]) else float(self.dot[at]),
                           None if np.isnan(self.comma[at]) else float(self.comma[at]), style)
            if isinstance(picked, str):
                problem[at] = picked
            else:
                value[at] = -picked if self.negative[at] else picked
        return value[self.codes], problem[self.codes]


def _choose_style_counts(only_dot: int, only_comma: int, separator: str | None) -> Style | None:
    """The column's style: the one its unambiguous values use, else the separator's."""
    if only_dot > only_comma:
        return "dot"
    if only_comma > only_dot:
        return "comma"
    if only_dot == 0:
        return _default_style(separator)
    return None  # a tie between styles: nothing can be trusted


def _pick(dot: float | None, comma: float | None, style: Style | None) -> float | str:
    """The value under the column's style, or the problem wording for this cell."""
    if dot is not None and dot == comma:
        return dot
    if style == "dot":
        return dot if dot is not None else INCONSISTENT
    if style == "comma":
        return comma if comma is not None else INCONSISTENT
    if dot is not None and comma is not None:
        return AMBIGUOUS
    return INCONSISTENT
