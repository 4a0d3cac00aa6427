"""Reasons in words, written for a million borrowers at a time.

Every piece of a reason comes from a small vocabulary (field label, level, phrase) except the
values themselves, so texts are assembled column-wise with Arrow's string kernels instead of
one Python f-string per borrower: about 20 times faster, the same words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.data import BY_NAME, label_in

MONEY_FIELDS = ("Monthly_Income", "Loan_Amount", "Collateral_Value", "Outstanding_Loan_Amount", "Monthly_EMI")
TYPICAL = "Close to the portfolio's typical borrower: no single field moves the score by half a point"
# How the ratio a field feeds is said: words before and after its percentage.
RATIO_PHRASES = {
    "EMI_To_Income": ("EMI is ", " of income"),
    "Collateral_Coverage": ("collateral covers ", " of the outstanding"),
    "Outstanding_Share": ("", " of the loan still outstanding"),
}
LEVELS = ("very low", "low", "below typical", "above typical", "high", "very high")
# A head's words after its value, per level
_LEVEL_WORDS = pa.array([f", {level} for this portfolio" for level in LEVELS], type=pa.string())


# Arrow's int64 and the fixed-width grouping end near 9.2e18: larger magnitudes (a ratio over a near-zero
# income, a typo of many digits) are written one by one in Python, the rest in Arrow kernels
LARGEST_FAST = 1e18


def _written_slowly(fast: pa.Array, values: np.ndarray, big: np.ndarray, spec: str) -> pa.Array:
    """``fast`` with the big positions replaced by each value written with ``spec`` in Python."""
    if not big.any():
        return fast
    slow = pa.array([format(float(v), spec) for v in values[big]], type=pa.string())
    return pc.replace_with_mask(fast, pa.array(big), slow)


def _text(values: np.ndarray) -> pa.Array:
    """Whole numbers as text."""
    values = np.asarray(values, dtype="float64")
    big = np.abs(values) >= LARGEST_FAST
    fast = pc.cast(pa.array(np.where(big, 0.0, values), type=pa.int64()), pa.string())
    return _written_slowly(fast, values, big, ".0f")


def _join(*parts, separator: str = "") -> pa.Array:
    """Element-wise concatenation of text arrays and constants."""
    return pc.binary_join_element_wise(*parts, separator)


# Three digits and the comma before them ('1' -> ',001'), as the four bytes of one uint32 each
_COMMA_GROUPS = np.frombuffer(b"".join(b"," + b"%03d" % i for i in range(1000)), dtype=np.uint32)
# 10 ** d, d = 0 .. 18: a whole number below 10 ** 18 has as many digits as these at or below it
_POWERS = 10 ** np.arange(19, dtype=np.int64)


def grouped(whole: np.ndarray) -> pa.Array:
    """Non-negative whole numbers with thousands separators: 1234567 -> '1,234,567'.

    Each number is written right-aligned as groups of ',ddd' (one table look-up per three
    digits); the bytes before its first digit are then left out.
    """
    whole = np.asarray(whole, dtype="float64")
    big = ~(np.abs(whole) < LARGEST_FAST)  # NaN too: written as Python writes it, not as a wrong number
    small = np.where(big, 0.0, whole).astype(np.int64)
    digits = np.maximum(np.searchsorted(_POWERS, small, side="right"), 1)
    sizes = digits + (digits - 1) // 3
    places = (int(digits.max()) + 2) // 3 if len(small) else 0
    cells = np.empty((len(small), places), dtype=np.uint32)
    rest = small
    for place in range(places - 1, -1, -1):
        rest, three = np.divmod(rest, 1000)
        cells[:, place] = _COMMA_GROUPS[three]
    width = 4 * places
    kept = np.arange(width) >= (width - sizes)[:, None]
    fast = _from_bytes(cells.view(np.uint8)[kept], sizes)
    return _written_slowly(fast, whole, big, ",.0f")


def _from_bytes(data: np.ndarray, sizes: np.ndarray) -> pa.Array:
    """Text array of consecutive UTF-8 texts of the given sizes in bytes."""
    offsets = np.zeros(len(sizes) + 1, dtype=np.int32)
    np.cumsum(sizes, out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(sizes), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _whole(x: np.ndarray) -> bool:
    """True when every value is a whole number (a file's own field is then written whole)."""
    size = np.abs(x)
    return bool(np.all(size == np.rint(size)))


def number_text(field: str, x: np.ndarray, whole: bool | None = None) -> pa.Array:
    """Finite values as a collections analyst writes them (money without decimals, rate in %).

    ``whole``: whether the field's values (all of them, when ``x`` is a part) are whole numbers.
    """
    size = np.abs(x)
    if field in MONEY_FIELDS:
        body = grouped(np.rint(size))
    elif field in BY_NAME and BY_NAME[field].integer:
        body = _text(np.rint(size))
    elif field not in BY_NAME and (_whole(x) if whole is None else whole):
        # a field of the file's own that holds whole numbers (months, counts) is written whole
        body = grouped(np.rint(size))
    else:
        big = size * 100 >= LARGEST_FAST  # cents past int64: written whole, one by one
        cents = np.rint(np.where(big, 0.0, size) * 100).astype(np.int64)
        whole = cents // 100
        head = _text(whole) if field == "Interest_Rate" else grouped(whole)
        body = _written_slowly(_join(head, ".", pc.utf8_lpad(_text(cents % 100), 2, "0")), size, big,
                               ".0f" if field == "Interest_Rate" else ",.0f")
        if field == "Interest_Rate":
            body = _join(body, "%")
    return _signed(x, body)


def _signed(x: np.ndarray, body: pa.Array) -> pa.Array:
    """``body`` with '-' before each negative value's text (a column of '' joined to no end when none is)."""
    negative = x < 0
    if not negative.any():
        return body
    return _join(pa.array(np.where(negative, "-", "")), body)


def percent_text(x: np.ndarray) -> pa.Array:
    """Shares as whole percentages: 0.456 -> '46%'."""
    cents = np.rint(np.abs(x) * 100)
    return _signed(x, _join(_text(cents), "%"))


def level_text(values: np.ndarray, known_sorted: np.ndarray) -> pa.Array:
    """Where each value sits in the portfolio: 'very low' … 'very high'."""
    return pc.take(pa.array(LEVELS), pa.array(_level_index(values, known_sorted)))


def distinct(*keys: np.ndarray, by: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows that stand for each distinct combination of keys, and each row's combination.

    Texts are then written once per distinct value and taken row by row: a field like days past
    due has a few hundred values among a million borrowers. ``by``: one array in whose order
    equal combinations already sit together (one sort instead of one per key).
    """
    if not len(keys[0]):
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    if by is not None:
        order = np.argsort(by)
    elif len(keys) == 1:
        order = np.argsort(keys[0])
    else:
        order = np.lexsort(keys[::-1])
    new = np.zeros(len(order), dtype=bool)
    new[0] = True
    for key in keys:
        ranked = key[order]
        new[1:] |= ranked[1:] != ranked[:-1]
    group = np.cumsum(new) - 1
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = group
    return order[new], inverse


def _written_as(field: str, x: np.ndarray, whole: bool) -> np.ndarray:
    """A number per value that is equal exactly where number_text writes the same words.

    The rounded size that is written, made negative (and off by a half) for negative values, so
    that -0.3 ('-0') and 0.2 ('0') stay apart.
    """
    size = np.abs(x)
    if field in MONEY_FIELDS or (field in BY_NAME and BY_NAME[field].integer) or (field not in BY_NAME and whole):
        shown = np.rint(size)
    else:
        shown = np.rint(size * 100)
    return np.where(x < 0, -shown - 0.5, shown)


def _level_index(values: np.ndarray, known_sorted: np.ndarray) -> np.ndarray:
    """Index into LEVELS of where each value sits in the portfolio."""
    share_below = np.searchsorted(known_sorted, values, side="right") / max(len(known_sorted), 1)
    return np.select(
        [share_below >= 0.9, share_below >= 0.7, share_below > 0.5, share_below > 0.3, share_below > 0.1],
        [5, 4, 3, 2, 1], default=0,
    )


def level_cuts(known_sorted: np.ndarray) -> np.ndarray:
    """The lowest value of each level above 'very low': _level_index of a finite value is the
    number of these at or below it, found among five values instead of the whole portfolio.

    A level starts at the first count c of values at or below with c / n past its share (the
    same float comparisons as _level_index); that count is reached exactly from known_sorted[c - 1].
    """
    n = len(known_sorted)
    size = max(n, 1)
    cuts = []
    for share, reached in ((0.1, float.__gt__), (0.3, float.__gt__), (0.5, float.__gt__),
                           (0.7, float.__ge__), (0.9, float.__ge__)):
        c = max(int(share * size) - 2, 0)
        while c <= n and not reached(c / size, share):
            c += 1
        cuts.append(-np.inf if c == 0 else np.inf if c > n else known_sorted[c - 1])
    return np.array(cuts)


@dataclass(frozen=True)
class Levels:
    """All a numeric field's reasons read of its known values: where each level starts, and whether all are whole.

    Kept in place of the sorted values themselves while reasons are written (8 MB a field a million
    borrowers, a few bytes this way); field_text reads exactly the same from either.
    """

    cuts: np.ndarray
    whole: bool

    @classmethod
    def of(cls, known_sorted: np.ndarray) -> Levels:
        """The levels of a field's known values, sorted."""
        return cls(level_cuts(known_sorted), _whole(known_sorted))


def _numbers_at(values: pd.Series, rows: np.ndarray) -> np.ndarray:
    """The values at ``rows`` as floats, missing as NaN: only those rows are converted, not the whole column.

    Reasons are written a block of borrowers at a time; converting a million borrowers' column for
    each block and field cost more than the words themselves.
    """
    if values.dtype == np.dtype("float64"):  # a plain float column: read in place, only the rows' values copied
        return values.to_numpy(copy=False)[rows]
    return values.iloc[rows].to_numpy(dtype="float64", na_value=np.nan)


def ratio_text(ratios: Iterable[str], frame: pd.DataFrame, rows: np.ndarray) -> pa.Array:
    """' (EMI is 45% of income, …)' per row for the ratios a field feeds; '' where none is known."""
    texts, codes = _ratio_words(tuple(ratios), frame, rows)
    return pc.take(texts, pa.array(codes))


@dataclass(frozen=True)
class FieldWords:
    """A field's reasons for some rows, by index: ``heads[head]`` says the field, its value and level,
    ``extras[extra]`` the ratios it feeds (None: it feeds none, nothing follows the head).

    Each distinct text is written once; a row's words are only taken when its reasons are joined.
    """

    heads: pa.Array
    head: np.ndarray
    extras: pa.Array | None = None
    extra: np.ndarray | None = None

    def text(self) -> pa.Array:
        """One reason per row, written out."""
        present = pc.take(self.heads, pa.array(self.head))
        return present if self.extras is None else _join(present, pc.take(self.extras, pa.array(self.extra)))


def field_text(
    frame: pd.DataFrame, field: str, ratios: tuple[str, ...], rows: np.ndarray,
    known_sorted: np.ndarray | Levels | None,
) -> pa.Array:
    """One reason per row: 'Days past due 150, high for this portfolio (…)'."""
    return field_words(frame, field, ratios, rows, known_sorted).text()


def field_words(
    frame: pd.DataFrame, field: str, ratios: tuple[str, ...], rows: np.ndarray,
    known_sorted: np.ndarray | Levels | None,
) -> FieldWords:
    """field_text's reasons as FieldWords: each distinct wording written once, each row's an index.

    ``known_sorted``: the field's known values, sorted (or their Levels); None for a category.
    """
    name = label_in(field, frame.columns)  # a lender's own header reads as words, as on the charts
    values = frame[field]
    if known_sorted is None:  # a category
        picked = values.iloc[rows]
        if isinstance(picked.dtype, pd.StringDtype):  # equal texts read the same: write each once
            codes, uniques = pd.factorize(picked, use_na_sentinel=True)
            words = pa.array(list(uniques.astype(str)) + ["missing"], type=pa.string())
            return FieldWords(_join(f"{name}: ", words), np.where(codes < 0, len(uniques), codes))
        # mixed values (1 and 1.0 hash alike but read differently): each as itself
        picked = picked.astype("object")
        text = pa.array(picked.where(picked.notna(), "missing").astype(str).to_numpy(), type=pa.string())
        return FieldWords(_join(f"{name}: ", text), np.arange(len(rows)))
    x = _numbers_at(values, rows)
    known = np.isfinite(x)
    shown = x if known.all() else x[known]
    levels = known_sorted if isinstance(known_sorted, Levels) else Levels.of(known_sorted)
    level = np.searchsorted(levels.cuts, shown, side="right")
    # whole or not is the field's own (all its known values), so a value reads the same in every
    # reason whichever other borrowers share its slot
    whole = field not in BY_NAME and levels.whole  # only a file's own field asks
    first, inverse = _distinct_heads(_written_as(field, shown, whole), level, shown)
    heads = _join(f"{name} ", number_text(field, shown[first], whole),
                  pc.take(_LEVEL_WORDS, pa.array(level[first])))
    head = inverse
    if len(shown) < len(x):  # an unknown value reads 'missing' (its ratios still follow)
        heads = pa.concat_arrays([heads, pa.array([f"{name} missing"], type=pa.string())])
        head = np.full(len(x), len(first), dtype=np.intp)
        head[known] = inverse
    # a field that feeds no ratio adds no words: none are written then
    if not ratios:
        return FieldWords(heads, head)
    return FieldWords(heads, head, *_ratio_words(ratios, frame, rows))


def _distinct_heads(written: np.ndarray, level: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows that stand for each distinct (words, level) pair of a field's values, and each row's pair.

    Numbered in order of first sight when the pair fits one float exactly (rows then take their
    words nearly in order); otherwise in x's order, where equal pairs sit together (both only
    grow with x on each side of 0).
    """
    if not len(written) or np.abs(written).max() < 2.0 ** 49:
        return _first_seen(written * 8 + level)
    return distinct(written, level, by=x)


def _ratio_words(ratios: tuple[str, ...], frame: pd.DataFrame, rows: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """ratio_text of each distinct combination of the ratios' written values, and each row's combination.

    Each ratio's phrases are written once per distinct percentage, and each combination's words
    once from them: a few thousand texts among a million borrowers.
    """
    if not ratios:
        return pa.array([""], type=pa.string()), np.zeros(len(rows), dtype=np.intp)
    phrases, codes, combination = [], [], None
    for ratio in ratios:
        x = _numbers_at(frame[ratio], rows)
        cents = np.rint(np.abs(x) * 100)
        # equal where percent_text writes the same; an unknown ratio (NaN) says nothing
        first, code = _first_seen(np.where(x < 0, -cents - 0.5, cents))
        code[code < 0] = len(first)
        before, after = RATIO_PHRASES[ratio]
        phrases.append(pa.concat_arrays([_join(before, percent_text(x[first]), after), pa.nulls(1, pa.string())]))
        codes.append(code)
        # renumbered as it grows, so the combinations of several ratios never outgrow int64
        combination = code if combination is None else _first_seen(combination * (len(first) + 1) + code)[1]
    first, combination = _first_seen(combination)
    inside = _skipping_nulls([pc.take(p, pa.array(c[first])) for p, c in zip(phrases, codes)], ", ")
    return pc.fill_null(_join(" (", inside, ")"), ""), combination


def _first_seen(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows that stand for each distinct key, and each row's key numbered in order of first sight (NaN: -1).

    Numbered in the rows' order, rows then take their texts nearly in order (fewer cache misses).
    """
    codes, _ = pd.factorize(keys)
    # a number is first seen exactly where it exceeds every number before it
    before = np.maximum.accumulate(np.concatenate([[-1], codes[:-1]])) if len(codes) else codes
    return np.flatnonzero(codes > before), codes


def _skipping_nulls(parts: list[pa.Array], separator: str) -> pa.Array:
    """Join text arrays element-wise, leaving out nulls; null where every part is null.

    (Arrow's own null_handling="skip" drops rows whose parts are all null, shifting the rest.)
    """
    together = parts[0]
    for part in parts[1:]:
        both = _join(together, separator, part)
        together = pc.if_else(pc.is_null(part), together,
                              pc.if_else(pc.is_null(together), part, both))
    return together


def slots_joined(heads: pa.Array, head: np.ndarray, extras: pa.Array, extra: np.ndarray) -> pa.Array:
    """Each row's reasons joined with '; ' (TYPICAL where there is none), taken and joined in one pass.

    ``head`` and ``extra``: per slot and row, where in ``heads`` and ``extras`` that reason's words
    are (-1: no reason, or a reason with no ratio words). Slots fill best first, so a slot's reason
    is followed by '; ' exactly when the next slot has one: it is written at the end of the slot's
    ratio words, each of which is kept with and without it (a few thousand texts, not a row each).
    """
    k, rows = head.shape
    if not k:
        return pa.array([TYPICAL] * rows, type=pa.string())
    typical, empty = len(heads), len(heads) + 1
    every_head = pa.concat_arrays([heads, pa.array([TYPICAL, ""], type=pa.string())])
    plain = pa.concat_arrays([extras, pa.array([""], type=pa.string())])
    every_extra = pa.concat_arrays([plain, _join(plain, "; ")])
    parts = []
    for slot in range(k):
        said = head[slot]
        parts.append(pc.take(every_head, pa.array(np.where(said >= 0, said, typical if slot == 0 else empty))))
        after = np.where(extra[slot] >= 0, extra[slot], len(extras))
        if slot + 1 < k:
            after += len(plain) * (head[slot + 1] >= 0)
        parts.append(pc.take(every_extra, pa.array(after)))
    return _join(*parts)
