"""The vectorised validation gives exactly what the row-by-row original gave: problems, rows, messages, values.

The original (pandas string methods, str.casefold per cell, whole-frame duplicated) is kept below as
the slow reference; it is what users read before, so every report must match it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from core.data import numbers, schema, suggest_mapping
from core.data.numbers import INCONSISTENT, NOT_FINITE, ParsedColumn, _choose_style_counts, _classify, _pick
from core.data.portfolio import _apply_mapping, _outcome_if_known
from core.data.read import read_table
from core.data.validate import (
    ERROR,
    EVERY_COLUMN,
    EXACT_DUPLICATE,
    EXACT_DUPLICATE_KEPT,
    MISSING,
    MISSING_IMPUTED,
    MISSING_OUTCOME,
    MISSING_TOKENS,
    MISSING_WRITTEN,
    NOT_WHOLE,
    REPEATED_ID,
    REPEATED_ID_KEPT,
    UNKNOWN,
    WARNING,
    Checked,
    ValidationReport,
    _Collector,
    _range_wording,
    _uses_tutorial_spellings,
    check,
    spelling,
)
from core.errors import RecoveryError
from tests.helpers import CORPUS

# ------------------------------------------------------------------ the original, row by row


def _old_plain_floats(text: pd.Series) -> np.ndarray:
    if text.empty:
        return np.empty(0)
    cells = pa.array(text.array)
    ascii_ = pc.string_is_ascii(cells).to_numpy(zero_copy_only=False)
    values = np.empty(len(cells))
    values[ascii_] = pc.cast(cells.filter(ascii_), pa.float64()).to_numpy(zero_copy_only=False)
    values[~ascii_] = [float(t) for t in text[~ascii_]]
    return values


def _old_slow(text: pd.Series, percent: bool):
    codes, uniques = pd.factorize(text)
    outcomes = [_classify(cell, percent) for cell in uniques]
    readable = [o if not isinstance(o, str) else ("", None, None) for o in outcomes]
    dot = [d for _, d, _ in readable]
    comma = [c for _, _, c in readable]
    problem = np.array([o if isinstance(o, str) else "" for o in outcomes], dtype=object)
    negative = np.array([sign == "-" for sign, _, _ in readable], dtype=bool)
    only_dot = np.array([d is not None and c is None for d, c in zip(dot, comma)], dtype=bool)
    only_comma = np.array([c is not None and d is None for d, c in zip(dot, comma)], dtype=bool)
    return codes, problem, negative, dot, comma, only_dot, only_comma


def old_parse_column(cells: pd.Series, separator: str | None, percent: bool = False) -> ParsedColumn:
    text = cells.astype("str").str.strip()
    present = (text.notna() & (text != "")).to_numpy()
    plain = present & text.str.fullmatch(r"[+-]?\d+(?:\.\d+)?", na=False).to_numpy()
    point = text.str.contains(".", regex=False, na=False).to_numpy()
    integer = plain & ~point
    decimal = plain & point & ~text.str.fullmatch(r"[+-]?\d{1,3}\.\d{3}", na=False).to_numpy()
    fast = integer | decimal
    values = np.full(len(text), np.nan)
    values[fast] = _old_plain_floats(text[fast])
    codes, problem, negative, dot, comma, only_dot, only_comma = _old_slow(text[present & ~fast], percent)
    dots = int(np.count_nonzero(only_dot[codes])) if len(codes) else 0
    commas = int(np.count_nonzero(only_comma[codes])) if len(codes) else 0
    style = _choose_style_counts(int(decimal.sum()) + dots, commas, separator)
    problems = np.full(len(text), "", dtype=object)
    if style != "dot":
        values[decimal] = np.nan
        problems[decimal] = INCONSISTENT
    positions = np.flatnonzero(present & ~fast)
    value = np.full(len(problem), np.nan)
    wrong = problem.copy()
    for at in np.flatnonzero(problem == ""):
        picked = _pick(dot[at], comma[at], style)
        if isinstance(picked, str):
            wrong[at] = picked
        else:
            value[at] = -picked if negative[at] else picked
    picked, wrong = value[codes], wrong[codes]
    values[positions] = picked
    problems[positions[wrong != ""]] = wrong[wrong != ""]
    infinite = np.isinf(values)
    values[infinite] = np.nan
    problems[infinite] = NOT_FINITE
    bad_at = np.flatnonzero(problems != "")
    bad = dict(sorted(zip(cells.index[bad_at].tolist(), problems[bad_at].tolist())))
    return ParsedColumn(pd.Series(values, index=cells.index, dtype="float64"), bad, style)


def _old_numeric(spec, raw, separator, found):
    written_missing = raw.notna() & raw.str.strip().str.casefold().isin(MISSING_TOKENS)
    found.add(spec.name, MISSING_WRITTEN, WARNING, raw.index[written_missing.to_numpy()], raw)
    parsed = old_parse_column(raw.where(~written_missing), separator, percent=spec.name == "Interest_Rate")
    bad_rows = np.array(list(parsed.bad))
    bad_problems = np.array(list(parsed.bad.values()), dtype=object)
    for problem in pd.unique(bad_problems):
        found.add(spec.name, problem, ERROR, bad_rows[bad_problems == problem], raw)
    values = parsed.values
    too_low = values < spec.minimum if spec.minimum is not None else values < -np.inf
    too_high = values > spec.maximum if spec.maximum is not None else values > np.inf
    found.add(spec.name, _range_wording(spec), ERROR, values.index[too_low | too_high], raw)
    if spec.integer:
        fractional = values.notna() & (values != np.floor(values))
        found.add(spec.name, NOT_WHOLE, ERROR, values.index[fractional], raw)
    found.add(spec.name, MISSING_IMPUTED, WARNING, raw.index[raw.isna()])
    return values


def _old_category(spec, raw, found):
    allowed = {spelling(a): a for a in spec.allowed}
    at = np.flatnonzero(raw.notna().to_numpy())
    codes, cells = pd.factorize(raw.iloc[at])
    read_as = np.empty(len(cells), dtype=object)
    read_as[:] = [allowed.get(spelling(cell)) for cell in cells]
    unknown = np.array([r is None for r in read_as], dtype=bool)
    variant = ~unknown & (read_as != np.asarray(cells, dtype=object))
    if _uses_tutorial_spellings(unknown[codes]):
        found.add(spec.name, UNKNOWN, WARNING, raw.index[at[unknown[codes]]], raw)
    for written in sorted(set(read_as[variant])):
        rows = raw.index[at[(variant & (read_as == written))[codes]]]
        found.add(spec.name, f"written differently, read as '{written}'", WARNING, rows, raw)
    wording = MISSING_OUTCOME if spec.name == schema.OUTCOME else MISSING_IMPUTED
    found.add(spec.name, wording, WARNING, raw.index[raw.isna()])
    values = raw.copy()
    changed = variant[codes]
    values.iloc[at[changed]] = read_as[codes[changed]]
    return values.astype("str")


def _old_id(spec, raw, found, keep_repeats, exact):
    found.add(spec.name, MISSING, WARNING, raw.index[raw.isna()])
    if spec.name == "Loan_ID":
        copy = exact
        if keep_repeats:
            repeats = raw.notna() & ~copy & raw.where(~copy).duplicated(keep=False)
            found.add(spec.name, REPEATED_ID_KEPT, WARNING, raw.index[repeats], raw)
        else:
            found.add(spec.name, REPEATED_ID, ERROR, raw.index[raw.notna() & raw.duplicated(keep="first") & ~copy], raw)
    return raw.astype("str")


def old_check(mapped: pd.DataFrame, fields: Iterable[str], separator: str | None,
              keep_repeated_ids: bool = False) -> Checked:
    found = _Collector()
    typed = mapped.copy(deep=False)
    fields = [name for name in fields if name in mapped.columns]
    exact = mapped.duplicated(keep="first")
    found.add(EVERY_COLUMN, EXACT_DUPLICATE_KEPT if keep_repeated_ids else EXACT_DUPLICATE,
              WARNING if keep_repeated_ids else ERROR, mapped.index[exact.to_numpy()])
    for name in fields:
        spec = schema.BY_NAME[name]
        if spec.kind == "numeric":
            typed[name] = _old_numeric(spec, mapped[name], separator, found)
        elif spec.kind == "category":
            typed[name] = _old_category(spec, mapped[name], found)
        else:
            typed[name] = _old_id(spec, mapped[name], found, keep_repeated_ids, exact)
    notes = found.row_notes()
    missing = tuple(f.name for f in schema.FIELDS if f.name not in fields)
    return Checked(typed, ValidationReport(found.problems(), tuple(notes), missing), notes)


# ------------------------------------------------------------------ the comparison


def assert_same(mapped: pd.DataFrame, fields, separator, keep: bool = False) -> Checked:
    """The new check equals the original on every problem, row, note and typed value."""
    new, old = check(mapped, fields, separator, keep), old_check(mapped, fields, separator, keep)
    assert new.report.problems == old.report.problems
    assert [p.line() for p in new.report.problems] == [p.line() for p in old.report.problems]
    assert new.report.invalid_rows == old.report.invalid_rows
    assert new.report.missing_fields == old.report.missing_fields
    assert dict(new.row_notes) == dict(old.row_notes)
    pd.testing.assert_frame_equal(new.frame, old.frame)
    return new


def _mapped(path) -> tuple[pd.DataFrame, dict[str, str], str | None] | None:
    try:
        table = read_table(path.read_bytes(), path.name)
    except RecoveryError:
        return None
    headers = list(table.frame.columns)
    chosen = _outcome_if_known(table.frame, suggest_mapping(headers))
    return _apply_mapping(table.frame, chosen), chosen, table.info.separator


CORPUS_FILES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".csv", ".tsv", ".txt", ".xlsx"))


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_reports_are_unchanged(path):
    found = _mapped(path)
    if found is None:
        pytest.skip("refused while reading, before validation")
    mapped, chosen, separator = found
    assert_same(mapped, chosen, separator, keep=path.name == "duplicate_loan_ids.csv")


NUMBER_CELLS = (
    "12", "007", "+5", "-5", "-0", "12.5", "12.50", "1.234", "1,234", "1.234,5", "1,234.5", "1 234", "12,5",
    " 7 ", "\u00a07\u00a0", "7\u00a0000", "1'234", "$5", "5 USD", "€ 1.234,56", "(3)", "(1,234.00)", "-$5", "$-5",
    "50%", "12.5 %", "3.0", "18", "101", "0", "-1", "0.5", "abc", "1e5", "1E-3", "inf", "-Infinity", "NaN",
    "1e400", "٣٤", "٣.٤", "١.٢٣٤", "１２", "N/A", " na ", "NULL", "None", "--", "-", "#n/a", "Ｎ/Ａ", "nA",
    "", "   ", None, None, "10,44,620", ".5", ",5", "1.2.3", "+-5", "5-", "1,2", "999999999999999999999",
)
CATEGORY_CELLS = ("Male", "male", " FEMALE ", "Fe male", "Female", "other", "", None, "MALE ", "ﬁ", "Salaried",
                  "self-employed", "SELF-EMPLOYED", "Business  Owner", "Home", "auto", "Written Off",
                  "written  off", "Fully Recovered", "Pending", "Yes", "no", "Calls", "legal notice")


def messy_frame(rows: int, seed: int) -> pd.DataFrame:
    """A text table of every field with cells drawn from awkward spellings, repeats and copies."""
    rng = random.Random(seed)
    columns: dict[str, list[str | None]] = {}
    for spec in schema.FIELDS:
        if spec.kind == "numeric":
            pool = NUMBER_CELLS if rng.random() < 0.6 else ("18", "25", "40", "1,500", "2.5", None, "N/A")
        elif spec.kind == "category":
            pool = (*spec.allowed, *CATEGORY_CELLS) if rng.random() < 0.5 else (*spec.allowed, None)
        else:
            pool = tuple(f"L{i}" for i in range(rows // 2)) + (None,)
        columns[spec.name] = [rng.choice(pool) for _ in range(rows)]
    columns["Note"] = [rng.choice(("a", "b", None)) for _ in range(rows)]
    frame = pd.DataFrame(columns, index=pd.RangeIndex(2, rows + 2, name="Row")).astype("str")
    for at in rng.sample(range(1, rows), rows // 10):  # exact copies of an earlier row
        frame.iloc[at] = frame.iloc[rng.randrange(at)]
    return frame


@pytest.mark.parametrize(("seed", "separator"), [(0, ","), (1, ";"), (2, "\t"), (3, None), (4, ",")])
def test_messy_frames_give_the_same_report(seed, separator):
    frame = messy_frame(80 + 60 * seed, seed)
    fields = [f.name for f in schema.FIELDS if random.Random(seed).random() < 0.9]
    report = assert_same(frame, fields, separator, keep=seed % 2 == 1).report
    assert report.problems  # the frame is messy enough to have something to say


@pytest.mark.parametrize("seed", range(4))
def test_single_number_columns_parse_the_same(seed):
    rng = random.Random(100 + seed)
    cells = pd.Series([rng.choice(NUMBER_CELLS) for _ in range(200)], index=range(5, 205), dtype="str")
    for separator in (",", ";", "\t", None):
        for percent in (False, True):
            new, old = numbers.parse_column(cells, separator, percent), old_parse_column(cells, separator, percent)
            assert new.bad == old.bad and new.style == old.style
            pd.testing.assert_series_equal(new.values, old.values)


def test_object_and_clean_columns_parse_the_same():
    plain = pd.Series(["1", "2", "3.5", None, "40"], dtype=object)
    digits = pd.Series(["12", "13", "14"], dtype="str")
    for cells in (plain, digits, pd.Series([], dtype="str")):
        new, old = numbers.parse_column(cells, ","), old_parse_column(cells, ",")
        assert new.bad == old.bad and new.style == old.style
        pd.testing.assert_series_equal(new.values, old.values)


def test_written_missing_is_casefold_of_the_stripped_cell():
    from core.data.validate import written_missing

    cells = [chr(c) for c in range(0x2200) if not 0xD800 <= c < 0xE000]
    cells += ["N/A", "n/a ", "ＮＡ", "NUL", "null", "NULL", "nOnE", "--", "-", "---", "#N/A", "na", "ǈ", "ß", None]
    text = numbers.stripped(pd.Series(cells, dtype="str"))
    expected = [c is not None and c.strip().casefold() in MISSING_TOKENS for c in cells]
    assert written_missing(text).tolist() == expected
    assert written_missing(text, numbers.digits_only(text)).tolist() == expected


def test_blank_cells_are_what_str_strip_removes_for_every_character():
    from core.data.delimited import blank_cells

    cells = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000] + ["", " \t\u3000 ", " a "]
    assert blank_cells(pa.array(cells)).to_pylist() == [not c.strip() for c in cells]


@pytest.mark.parametrize("cells", [
    pd.Series([c for c in NUMBER_CELLS + CATEGORY_CELLS], index=range(7, 7 + len(NUMBER_CELLS + CATEGORY_CELLS)),
              dtype="str", name="Branch"),
    pd.Series([1, np.nan, "na", " b", 2.5], dtype=object, name="Mixed"),
])
def test_an_extra_columns_filled_cells_are_unchanged(cells):
    from core.data.roles import _filled

    text = cells.dropna().astype("str").str.strip()
    original = text[(text != "") & ~text.str.casefold().isin(MISSING_TOKENS)]
    pd.testing.assert_series_equal(_filled(cells), original)
