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


def parse_column(cells: pd.Series, separator: str | None, percent: bool = False) -> ParsedColumn:
    """Parse a text column strictly; every unreadable cell is reported, none is guessed."""
    text = cells.astype("str").str.strip()
    present = text.notna() & (text != "")
    # Fast path for the common, unambiguous shapes: 123 and 12.39 (not 1.234).
    integer = present & text.str.fullmatch(r"[+-]?\d+").fillna(False).astype(bool)
    decimal = (present & text.str.fullmatch(r"[+-]?\d+\.\d+").fillna(False).astype(bool)
               & ~text.str.fullmatch(r"[+-]?\d{1,3}\.\d{3}").fillna(False).astype(bool))
    fast = integer | decimal
    values = pd.Series(np.nan, index=cells.index, dtype="float64")
    values[fast] = text[fast].astype("float64")
    readings: dict[object, tuple[str, float | None, float | None]] = {}
    bad: dict[int, str] = {}
    slow = text[present & ~fast]
    classified = {cell: _classify(cell, percent) for cell in slow.unique()}
    for row, cell in slow.items():
        outcome = classified[cell]
        if isinstance(outcome, str):
            bad[row] = outcome
        else:
            readings[row] = outcome
    style = _choose_style(readings, separator, extra_dot=int(decimal.sum()))
    if style != "dot":  # a decimal point is wrong in a decimal-comma column
        values[decimal] = np.nan
        bad.update(dict.fromkeys(decimal.index[decimal], INCONSISTENT))
    slow_values: dict[object, float] = {}
    for row, (sign, dot, comma) in readings.items():
        value = _pick(dot, comma, style)
        if isinstance(value, str):
            bad[row] = value
        else:
            slow_values[row] = -value if sign == "-" else value
    if slow_values:
        values[list(slow_values)] = list(slow_values.values())
    infinite = values.index[np.isinf(values.to_numpy())]
    values[infinite] = np.nan
    bad.update(dict.fromkeys(infinite, NOT_FINITE))
    return ParsedColumn(values, dict(sorted(bad.items())), style)


def _choose_style(readings: dict[object, tuple[str, float | None, float | None]],
                  separator: str | None, extra_dot: int = 0) -> Style | None:
    """The column's style: the one its unambiguous values use, else the separator's."""
    only_dot = extra_dot + sum(1 for _, d, c in readings.values() if d is not None and c is None)
    only_comma = sum(1 for _, d, c in readings.values() if c is not None and d is None)
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
