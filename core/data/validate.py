"""Turn mapped text columns into typed values and report every problem, row by row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field as dataclass_field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.data import numbers, schema
from core.data.table import first_bytes

FIRST_ROWS = 10
EXAMPLES = 3
ERROR = "error"
WARNING = "warning"
MISSING = "missing value"
MISSING_IMPUTED = "missing value (imputed inside the model)"
MISSING_OUTCOME = "missing value (no outcome; scored but not used for training)"
UNKNOWN = "unknown category"
MISSING_WRITTEN = "missing value written as text, read as missing (imputed inside the model)"
MISSING_TOKENS = frozenset({"n/a", "na", "#n/a", "-", "--", "null", "none"})
NOT_WHOLE = "not a whole number"
_TOKEN_STARTS = np.zeros(256, dtype=bool)  # first bytes a written 'no value' can have: its own, or non-ASCII
_TOKEN_STARTS[[ord(c) for t in MISSING_TOKENS for c in (t[0], t[0].upper())]] = True
_TOKEN_STARTS[128:] = True


@dataclass(frozen=True)
class Problem:
    """One kind of problem in one column, with the rows where it occurs."""

    column: str
    problem: str
    count: int
    rows: tuple[int, ...]
    severity: str
    examples: tuple[str, ...] = ()

    def line(self) -> str:
        """One plain sentence naming the column, the problem and the first rows."""
        noun = "row" if self.count == 1 else "rows"
        shown = ", ".join(str(r) for r in self.rows)
        more = f" and {self.count - len(self.rows)} more" if self.count > len(self.rows) else ""
        where = f" ({noun} {shown}{more})" if self.rows else ""
        return f"{self.column}: {self.problem} in {self.count} {noun}{where}"


@dataclass(frozen=True)
class ValidationReport:
    """Everything wrong with a portfolio, grouped by column and problem."""

    problems: tuple[Problem, ...]
    invalid_rows: tuple[int, ...]
    missing_fields: tuple[str, ...]

    def errors(self) -> tuple[Problem, ...]:
        """Problems that make rows invalid."""
        return tuple(p for p in self.problems if p.severity == ERROR)

    def warnings(self) -> tuple[Problem, ...]:
        """Problems that keep rows in the analysis."""
        return tuple(p for p in self.problems if p.severity == WARNING)

    @property
    def ok(self) -> bool:
        """True when no row has an error."""
        return not self.errors()

    def lines(self) -> list[str]:
        """One plain line per error, for the command line."""
        return [p.line() for p in self.errors()]

    def to_frame(self) -> pd.DataFrame:
        """The report as a table to show or download."""
        columns = ["Column", "Problem", "Severity", "Rows affected", "First rows", "Examples"]
        records = [
            (p.column, p.problem, p.severity, p.count, ", ".join(map(str, p.rows)),
             ", ".join(repr(e) for e in p.examples))
            for p in self.problems
        ]
        frame = pd.DataFrame(records, columns=columns)
        return frame.astype({"Rows affected": "int64"})


@dataclass(frozen=True)
class Checked:
    """The typed portfolio, its report, and each invalid row's reasons."""

    frame: pd.DataFrame
    report: ValidationReport
    row_notes: Mapping[int, tuple[str, ...]] = dataclass_field(default_factory=dict)
    decimal_marks: Mapping[str, str] = dataclass_field(default_factory=dict)


class _Collector:
    """Gathers rows per (column, problem) in the order problems are found."""

    def __init__(self) -> None:
        # Per key, the parts added: row labels and their raw cells ("" when not shown).
        self.found: dict[tuple[str, str, str], list[tuple[np.ndarray, np.ndarray]]] = {}
        self.decimal_marks: dict[str, str] = {}  # per numeric field, the style its values were read in

    def add(self, column: str, problem: str, severity: str, rows: Iterable[int],
            raw: pd.Series | None = None) -> None:
        """Record that ``rows`` of ``column`` have ``problem``; ``raw`` gives the examples."""
        labels = np.asarray(rows if isinstance(rows, (pd.Index, np.ndarray)) else list(rows))
        if not len(labels):
            return
        if raw is not None:
            values = raw.loc[labels].to_numpy(dtype=object)
        else:
            values = np.full(len(labels), "", dtype=object)
        self.found.setdefault((column, problem, severity), []).append((labels, values))

    def _hits(self, key: tuple[str, str, str]) -> tuple[np.ndarray, np.ndarray]:
        """All rows recorded under ``key`` with their raw values, in row order."""
        parts = self.found[key]
        labels = np.concatenate([labels for labels, _ in parts])
        values = np.concatenate([values for _, values in parts])
        order = np.argsort(labels, kind="stable")
        return labels[order], values[order]

    def problems(self) -> tuple[Problem, ...]:
        """The collected problems, errors first, then in schema order."""
        order = {name: i for i, name in enumerate(schema.BY_NAME)}
        keys = sorted(self.found, key=lambda k: (k[2] != ERROR, order.get(k[0], len(order))))
        result = []
        for column, problem, severity in keys:
            labels, values = self._hits((column, problem, severity))
            shown = values[~pd.isna(values)]
            examples = tuple(pd.unique(shown[shown != ""])[:EXAMPLES].tolist())
            result.append(Problem(column, problem, len(labels),
                                  tuple(int(r) for r in labels[:FIRST_ROWS]), severity,
                                  examples))
        return tuple(result)

    def row_notes(self) -> dict[int, tuple[str, ...]]:
        """Per row, the errors that make it invalid, as 'Column: problem'."""
        reasons: list[str] = []
        labels: list[np.ndarray] = []
        which: list[np.ndarray] = []
        for (column, problem, severity), parts in self.found.items():
            if severity != ERROR:
                continue
            reasons.append(f"{column}: {problem}")
            for part, _ in parts:
                labels.append(part)
                which.append(np.full(len(part), len(reasons) - 1))
        if not labels:
            return {}
        rows, reason = np.concatenate(labels), np.concatenate(which)
        # A stable sort keeps each row's reasons in the order they were found.
        order = np.argsort(rows, kind="stable")
        rows, reason = rows[order].tolist(), reason[order].tolist()
        notes: dict[int, tuple[str, ...]] = {}
        for row, at in zip(rows, reason):
            notes[int(row)] = notes.get(int(row), ()) + (reasons[at],)
        return notes


def _range_wording(spec: schema.Field) -> str:
    """How a value outside the field's range is described."""
    if spec.maximum is None and spec.minimum == 0:
        return "negative value" if spec.integer else "negative amount"
    if spec.maximum is None:
        return f"below {spec.minimum:g}"
    low = "" if spec.minimum is None else f"{spec.minimum:g}"
    return f"{spec.label.lower()} outside {low}-{spec.maximum:g}"


def written_missing(text: pa.ChunkedArray, digits: np.ndarray | None = None) -> np.ndarray:
    """True where a stripped cell is a written 'no value' ('N/A', '-', 'null' …), in any case.

    Only cells as short as a token can be one (case folding never shortens text), and never
    digits alone (``digits``, when known), so each distinct such cell is folded once, with
    str.casefold as before, instead of every cell.
    """
    # An ASCII cell folds to a token only if it starts as one does ('n', 'N', '#', '-'); other cells
    # (a non-ASCII first byte) stay candidates. Usually none is left, and nothing more is read.
    maybe = _TOKEN_STARTS[first_bytes(text)]
    if digits is not None:
        maybe &= ~digits
    at = np.flatnonzero(maybe)
    cells = text.take(pa.array(at)) if len(at) else text.slice(0, 0)
    short = numbers.flags(pc.less_equal(pc.utf8_length(cells), max(map(len, MISSING_TOKENS))))
    candidates = pc.unique(cells.filter(pa.array(short))).to_pylist() if short.any() else []
    tokens = [cell for cell in candidates if cell.casefold() in MISSING_TOKENS]
    if not tokens:
        return np.zeros(len(text), dtype=bool)
    return numbers.flags(pc.is_in(text, value_set=pa.array(tokens, type=pa.string())))


def _check_numeric(spec: schema.Field, raw: pd.Series, separator: str | None,
                   found: _Collector) -> pd.Series:
    """Parse a numeric field and record unreadable, impossible and missing values."""
    text = numbers.stripped(raw)  # once, for the missing-value check and for parsing
    digits = numbers.digits_only(text)
    # 'N/A', '-', 'null' … are how spreadsheets and exports write "no value": read as missing, said so
    said_missing = written_missing(text, digits)
    found.add(spec.name, MISSING_WRITTEN, WARNING, raw.index[said_missing], raw)
    if said_missing.any():
        text = pc.if_else(pa.array(said_missing), pa.scalar(None, pa.string()), text)
    parsed = numbers.parse_stripped(text, raw.index, separator, spec.name == "Interest_Rate", digits)
    if parsed.read_by is not None:
        found.decimal_marks[spec.name] = parsed.read_by
    bad_rows = np.array(list(parsed.bad))
    bad_problems = np.array(list(parsed.bad.values()), dtype=object)
    for problem in pd.unique(bad_problems):  # in the order first met, row by row
        found.add(spec.name, problem, ERROR, bad_rows[bad_problems == problem], raw)
    values = parsed.values
    # Unreadable cells become NaN too, but they are errors, not missing values: only blank cells are missing
    number_rules(spec, values, found, raw, raw.isna().to_numpy())
    return values


def number_rules(spec: schema.Field, values: pd.Series, found: _Collector, raw: pd.Series | None = None,
                 missing: np.ndarray | None = None) -> None:
    """The number reader's checks on typed values: range, whole numbers, missing (NaN unless ``missing``)."""
    array = values.to_numpy()
    outside = np.zeros(len(array), dtype=bool)
    if spec.minimum is not None:
        outside |= array < spec.minimum
    if spec.maximum is not None:
        outside |= array > spec.maximum
    found.add(spec.name, _range_wording(spec), ERROR, values.index[outside], raw)
    if spec.integer:
        fractional = ~np.isnan(array) & (array != np.floor(array))
        found.add(spec.name, NOT_WHOLE, ERROR, values.index[fractional], raw)
    found.add(spec.name, MISSING_IMPUTED, WARNING, values.index[np.isnan(array) if missing is None else missing])


def spelling(value: str) -> str:
    """Case- and space-insensitive key for comparing category values."""
    return " ".join(value.split()).casefold()


def _uses_tutorial_spellings(unknown_rows: np.ndarray) -> bool:
    """True when most filled cells of a field use the tutorial's spellings, so the rest are worth a flag."""
    return len(unknown_rows) > 0 and float(np.mean(unknown_rows)) < 0.5


def _written_as_allowed(spec: schema.Field, raw: pd.Series) -> bool:
    """True when every cell is filled and written exactly as one of the field's allowed values."""
    if not isinstance(raw.dtype, pd.StringDtype) or raw.dtype.storage != "pyarrow" or raw.hasnans:
        return False
    # Arrow's distinct values of the text, without pandas' factorize: a clean column has a handful
    return set(pc.unique(numbers.arrow_text(raw)).to_pylist()) <= set(spec.allowed)


def _check_category(spec: schema.Field, raw: pd.Series, found: _Collector) -> pd.Series:
    """Read a category field, reading case/space variants as the allowed spelling."""
    if _written_as_allowed(spec, raw):
        return raw.astype("str")  # no unknown, variant or missing cell: nothing to say or read differently
    allowed = {spelling(a): a for a in spec.allowed}
    at = np.flatnonzero(raw.notna().to_numpy())
    # Each distinct spelling is judged once; rows then follow their spelling's code.
    codes, cells = pd.factorize(raw.iloc[at])
    read_as = np.empty(len(cells), dtype=object)
    read_as[:] = [allowed.get(spelling(cell)) for cell in cells]
    unknown = np.array([r is None for r in read_as], dtype=bool)
    variant = ~unknown & (read_as != np.asarray(cells, dtype=object))
    if _uses_tutorial_spellings(unknown[codes]):  # else the file has its own categories: not a problem
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


EXACT_DUPLICATE = "exact duplicate of an earlier row (every cell equal)"
EXACT_DUPLICATE_KEPT = "exact duplicate of an earlier row (every cell equal), kept: analysed as its own case"
EVERY_COLUMN = "(every column)"
REPEATED_ID = "repeated Loan_ID (an earlier row has it)"
REPEATED_ID_KEPT = "repeated Loan_ID, kept: each row is analysed as its own case (IDs are not unique)"


def _repeating(cells: pd.Series) -> np.ndarray:
    """True where a cell's value (missing counted as one value) occurs in more than one row."""
    # IDs are usually all distinct: counting the distinct values (missing as one) settles that at
    # half the cost of marking duplicates; only a column with repeats is marked row by row.
    if isinstance(cells.dtype, pd.StringDtype) and len(pc.unique(numbers.arrow_text(cells))) == len(cells):
        return np.zeros(len(cells), dtype=bool)
    return cells.duplicated(keep=False).to_numpy()


def _among(candidates: np.ndarray, size: int, marks: pd.Series) -> np.ndarray:
    """``marks`` (computed on the candidate rows only) spread over all ``size`` rows, False elsewhere."""
    spread = np.zeros(size, dtype=bool)
    spread[candidates] = marks.to_numpy()
    return spread


def _check_id(spec: schema.Field, raw: pd.Series, found: _Collector, keep_repeats: bool,
              exact: pd.Series | None = None, repeating: np.ndarray | None = None) -> pd.Series:
    """Keep IDs exactly as written; a repeated Loan_ID is an error on the later rows unless repeats are kept.

    Rows that are exact copies of an earlier row are named as such (``exact``), not as conflicting repeats.
    ``repeating`` is _repeating(raw) when the caller has it: only those rows can repeat an ID.
    """
    found.add(spec.name, MISSING, WARNING, raw.index[raw.isna()])
    if spec.name == "Loan_ID":
        copy = np.zeros(len(raw), dtype=bool) if exact is None else exact.to_numpy()
        filled = raw.notna().to_numpy()
        repeating = _repeating(raw) if repeating is None else repeating
        if keep_repeats:
            rows = np.flatnonzero(repeating & filled & ~copy)
            repeats = _among(rows, len(raw), raw.iloc[rows].duplicated(keep=False))
            found.add(spec.name, REPEATED_ID_KEPT, WARNING, raw.index[repeats], raw)
        else:
            rows = np.flatnonzero(repeating)
            later = _among(rows, len(raw), raw.iloc[rows].duplicated(keep="first"))
            found.add(spec.name, REPEATED_ID, ERROR, raw.index[filled & later & ~copy], raw)
    return raw.astype("str")


def _duplicated(mapped: pd.DataFrame, repeating: dict[str, np.ndarray]) -> np.ndarray:
    """``mapped.duplicated(keep="first")``, narrowing the rows column by column first.

    Only rows whose value repeats in every column can repeat a whole row: the IDs (nearly all
    distinct) leave a handful of candidates after one column, and only those are compared whole.
    ``repeating`` holds _repeating of whole columns, computed once and shared with the ID check.
    """
    first = [c for c in ("Loan_ID", *schema.ID_FIELDS) if c in mapped.columns]
    candidates = np.arange(len(mapped))
    for column in dict.fromkeys([*first, *mapped.columns]):
        if len(candidates) < 2:
            return np.zeros(len(mapped), dtype=bool)
        if len(candidates) == len(mapped):
            repeating[column] = _repeating(mapped[column])
            candidates = candidates[repeating[column]]
        else:
            candidates = candidates[_repeating(mapped[column].iloc[candidates])]
    if not len(candidates):
        return np.zeros(len(mapped), dtype=bool)
    return _among(candidates, len(mapped), mapped.iloc[candidates].duplicated(keep="first"))


def _exact_duplicates(mapped: pd.DataFrame, found: _Collector, keep: bool,
                      repeating: dict[str, np.ndarray]) -> pd.Series:
    """Rows equal in every cell to an earlier row: an error unless repeats are kept (then a warning)."""
    exact = pd.Series(_duplicated(mapped, repeating), index=mapped.index)
    found.add(EVERY_COLUMN, EXACT_DUPLICATE_KEPT if keep else EXACT_DUPLICATE, WARNING if keep else ERROR,
              mapped.index[exact.to_numpy()])
    return exact


# Below this many rows the fields are checked one after another: threads would cost more than they save.
PARALLEL_ROWS = 50_000


def _workers(rows: int) -> int:
    """Threads for checking fields side by side: up to two (the kernels release the GIL), one for small files."""
    # Arrow's CPU count is the process's budget: a streamed-scoring worker sets it to one, so its
    # chunks are not checked on two threads while the other worker holds the second core
    return 1 if rows < PARALLEL_ROWS else max(1, min(2, pa.cpu_count()))


def _check_field(name: str, mapped: pd.DataFrame, separator: str | None, keep_repeated_ids: bool,
                 exact: pd.Series | None, repeating: dict[str, np.ndarray]) -> tuple[pd.Series, _Collector]:
    """One canonical field typed, with its own problems (merged in field order by the caller)."""
    found = _Collector()
    spec = schema.BY_NAME[name]
    if spec.kind == "numeric":
        return _check_numeric(spec, mapped[name], separator, found), found
    if spec.kind == "category":
        return _check_category(spec, mapped[name], found), found
    return _check_id(spec, mapped[name], found, keep_repeated_ids, exact, repeating.get(name)), found


def check(mapped: pd.DataFrame, fields: Iterable[str], separator: str | None,
          keep_repeated_ids: bool = False) -> Checked:
    """Type and check the canonical ``fields`` of ``mapped``; other columns pass through.

    Fields are independent, so on a large file they are checked two at a time; each keeps its
    own problems and they are merged in the order a one-by-one check finds them, so the report,
    the row notes and the typed frame do not depend on the threads.
    """
    found = _Collector()
    typed = mapped.copy(deep=False)
    fields = [name for name in fields if name in mapped.columns]
    ids = [name for name in fields if schema.BY_NAME[name].kind == "id"]
    repeating: dict[str, np.ndarray] = {}  # whole columns' repeating values, found once
    # The row labels' lookup structures are built here, once, before threads read them.
    if mapped.index.is_unique:
        mapped.index.get_indexer(mapped.index[:1])
    with ThreadPoolExecutor(max_workers=_workers(len(mapped))) as pool:
        # The ID check needs the exact duplicates; every other field runs beside them.
        exact_found = _Collector()
        exact_job = pool.submit(_exact_duplicates, mapped, exact_found, keep_repeated_ids, repeating)
        jobs = {name: pool.submit(_check_field, name, mapped, separator, keep_repeated_ids, None, repeating)
                for name in fields if name not in ids}
        exact = exact_job.result()
        jobs.update({name: pool.submit(_check_field, name, mapped, separator, keep_repeated_ids, exact, repeating)
                     for name in ids})
        checked = {name: jobs[name].result() for name in fields}
    for part in (exact_found, *(checked[name][1] for name in fields)):
        for key, parts in part.found.items():
            found.found.setdefault(key, []).extend(parts)
        found.decimal_marks.update(part.decimal_marks)
    for name in fields:
        typed[name] = checked[name][0]
    notes = found.row_notes()
    missing = tuple(f.name for f in schema.FIELDS if f.name not in fields)
    report = ValidationReport(found.problems(), tuple(notes), missing)
    return Checked(typed, report, notes, found.decimal_marks)
