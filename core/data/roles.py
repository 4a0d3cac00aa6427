"""Column roles: what each column of any lender's file is used for, suggested and editable.

The tutorial's 21 fields are mapped to canonical names at load time (core.data.read). Every other
column is typed here (number, category, date, identifier-like, free text, empty) and given a
role: the outcome, a feature to learn from, or left out with the reason. Protected attributes
and fields recorded after delinquency are never inputs by default; a single field that alone
predicts the outcome almost perfectly is switched off by the leakage screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from core.data import numbers
from core.data.leakage import field_aucs, leak_sentence, leaking
from core.data.schema import (
    BY_NAME,
    COLLECTION_FIELDS,
    FULLY_RECOVERED,
    OUTCOME,
    PROTECTED_FIELDS,
    WRITTEN_OFF,
    label,
)
from core.data.validate import spelling, written_missing
from core.errors import RecoveryError

NO_OUTCOME = "(no outcome)"
NUMBER_SHARE = 0.98  # of filled cells that must read as numbers (or dates) to type a column so
UNIQUE_SHARE = 0.95  # distinct values per filled cell above which a text column names rows, not groups
MAX_CATEGORIES = 250
FREE_TEXT_LENGTH = 30  # mean characters above which a many-valued text column is prose
OUTCOME_MAX_VALUES = 20

PROTECTED_WORDS = ("gender", "sex", "marital", "religion", "religious", "nationality", "ethnic",
                   "ethnicity", "race", "caste", "foreign", "citizenship", "disability", "pregnancy",
                   "orientation")
# Recorded during collection, after delinquency: they leak the outcome and are unknown for new cases.
POST_DELINQUENCY_STEMS = ("collect", "recover", "settle", "legal", "litig", "contact", "attempt",
                          "agent", "assign", "writeoff", "written", "chargeoff", "charged", "reposs",
                          "dunning", "ptp", "promise")
OUTCOME_WORDS = ("status", "outcome", "default", "target", "bad", "label", "class", "creditability",
                 "result", "performance", "flag", "writeoff", "chargeoff", "defaulted")
BAD_VALUES = frozenset({"bad", "default", "defaulted", "written off", "write off", "write-off",
                        "written-off", "charged off", "charged-off", "charge off", "charge-off",
                        "loss", "not recovered", "unrecovered", "partially recovered", "npa",
                        "non-performing", "yes", "true", "1"})
GOOD_VALUES = frozenset({"good", "recovered", "fully recovered", "paid", "repaid", "paid off",
                         "closed", "current", "settled", "performing", "no", "false", "0"})
ID_STEMS = ("id", "no", "number", "num", "code", "key", "ref", "reference")
DATE_FORMATS = ("ISO8601", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d")


@dataclass(frozen=True)
class Roles:
    """The user's choices of roles; None means 'use the suggestion'."""

    outcome: str | None = None  # a column, NO_OUTCOME, or None to suggest
    bad: tuple[str, ...] | None = None  # outcome values that count as bad
    recovered: str | None = None  # an amount-recovered column, compared with the exposure
    bad_below: float = 1.0  # bad when recovered / exposure is below this share
    exclude: tuple[str, ...] = ()  # not to learn from, whatever the suggestion
    include: tuple[str, ...] = ()  # switched back on: protected, post-delinquency or leak-flagged

    def words(self) -> str:
        """The choices as a person reads them, for reports."""
        if self == Roles():
            return "as suggested from the file's headers and values"
        parts = []
        if self.outcome == NO_OUTCOME:
            parts.append("no outcome")
        elif self.outcome:
            parts.append(f"outcome {self.outcome}" + (f" (bad: {', '.join(self.bad)})" if self.bad else ""))
        if self.recovered:
            parts.append(f"outcome: {self.recovered} recovered below {self.bad_below:.0%} of the outstanding")
        if self.exclude:
            parts.append(f"never learned from: {', '.join(self.exclude)}")
        if self.include:
            parts.append(f"switched on: {', '.join(self.include)}")
        return "; ".join(parts) or "as suggested from the file's headers and values"

    def checked(self) -> Roles:
        """Raise RecoveryError for an impossible choice; return self."""
        if not 0.0 < self.bad_below <= 1.0:
            raise RecoveryError(f"The recovered share below which a loan counts as bad is {self.bad_below}: "
                                "choose a share above 0 and at most 1 (1 = not fully recovered).")
        both = set(self.exclude) & set(self.include)
        if both:
            raise RecoveryError(f"{', '.join(sorted(both))} is both excluded and included: choose one.")
        return self


@dataclass(frozen=True)
class Outcome:
    """What counts as a bad outcome, per borrower: 1 bad, 0 good, NaN unknown."""

    column: str
    y: np.ndarray
    description: str
    bad: tuple[str, ...] = ()
    values: tuple[tuple[str, int], ...] = ()  # every value found with its count, for the user to choose
    canonical: bool = False  # the tutorial's Recovery_Status, read with the target setting
    amount: bool = False  # an amount recovered compared with the exposure, not a status
    bad_below: float | None = None  # for an amount: the recovered share below which a loan counted as bad
    note: str = ""  # what was chosen for the user, and how to change it


@dataclass(frozen=True)
class ColumnRoles:
    """Every column's role and why, and the fields the model and the segments may use."""

    table: pd.DataFrame  # Column, Read as, Used as, Why
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    outcome: Outcome | None
    leaks: dict[str, float] = field(default_factory=dict)
    post_delinquency: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # each candidate field's single-field cross-validated ROC-AUC (empty without a learnable outcome)
    field_auc: dict[str, float] = field(default_factory=dict)
    # columns off by default (protected, after delinquency, leaking, excluded) that the user may switch on
    switchable: tuple[str, ...] = ()


def _words(header: str) -> list[str]:
    """The words of a header: snake, kebab, spaces and camelCase split, lower case."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(header))
    return [w for w in re.split(r"[^0-9a-zA-Z]+", spaced.casefold()) if w]


def _joined(header: str) -> str:
    """The header's words run together, for stems that span words (write_off -> writeoff)."""
    return "".join(_words(header))


def is_protected(header: str) -> bool:
    """True for gender, marital status, religion, nationality … by name."""
    return header in PROTECTED_FIELDS or any(w in PROTECTED_WORDS for w in _words(header))


def is_post_delinquency(header: str) -> bool:
    """True for fields recorded during collection (contacts, settlements, legal steps, recoveries)."""
    if header in COLLECTION_FIELDS:
        return True
    words = _words(header)
    return any(w.startswith(s) for w in words for s in POST_DELINQUENCY_STEMS) or any(
        s in _joined(header) for s in ("writeoff", "chargeoff"))


# ------------------------------------------------------------------------------ typing


def _filled(cells: pd.Series) -> pd.Series:
    """The cells that hold a value: not missing, not blank, not a written 'N/A'."""
    kept = cells.dropna()
    text = numbers.stripped(kept)  # in Arrow, 'N/A' found by folding each short distinct cell once
    filled = numbers.flags(pc.greater(pc.utf8_length(text), 0)) & ~written_missing(text, numbers.digits_only(text))
    return pd.Series(pd.array(text, dtype="str"), index=kept.index, name=cells.name)[filled]


def _as_numbers(text: pd.Series, separator: str | None) -> pd.Series | None:
    """The column as numbers when nearly every filled cell reads as one."""
    parsed = numbers.parse_column(text, separator)
    if parsed.values.notna().sum() < NUMBER_SHARE * len(text):
        return None
    return parsed.values


def _as_dates(text: pd.Series) -> tuple[pd.Series, str] | None:
    """The column as dates, and the format read, when nearly every filled cell is one."""
    if not text.str.contains(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", regex=True).mean() >= NUMBER_SHARE:
        return None
    for form in DATE_FORMATS:
        dates = pd.to_datetime(text, format=form, errors="coerce")
        if dates.notna().sum() >= NUMBER_SHARE * len(text):
            return dates, form
    return None


@dataclass(frozen=True)
class Typed:
    """One extra column read as a number, category or date, or why it cannot be learned from."""

    kind: str  # number | category | date | identifier | free text | empty
    values: pd.Series | None = None
    why: str = ""
    unread: int = 0  # filled cells that did not read as the kind


def type_column(name: str, cells: pd.Series, separator: str | None) -> Typed:
    """Read an unmapped column as the kind its filled cells show."""
    text = _filled(cells)
    if text.empty:
        return Typed("empty", why="empty: no value in any row")
    distinct = text.nunique()
    unique_share = distinct / len(text)
    named_like_id = any(w in ID_STEMS for w in _words(name)[-1:])
    as_numbers = _as_numbers(text, separator)
    if as_numbers is not None:
        if named_like_id and unique_share >= UNIQUE_SHARE and len(text) > 20:
            return Typed("identifier", why="identifier-like: a different number on nearly every row")
        values = pd.Series(np.nan, index=cells.index)
        values.loc[as_numbers.index] = as_numbers
        return Typed("number", values, unread=int(as_numbers.isna().sum()))
    as_dates = _as_dates(text)
    if as_dates is not None:
        dates = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
        dates.loc[as_dates[0].index] = as_dates[0]
        return Typed("date", dates, unread=int(as_dates[0].isna().sum()))
    if distinct <= MAX_CATEGORIES and (unique_share < 0.5 or len(text) <= 20):
        # a category keeps every written value: 'none' is a real answer in a category column
        words = cells.astype("str").str.strip()
        return Typed("category", words.where(cells.notna() & (words != "")))
    if text.str.len().mean() >= FREE_TEXT_LENGTH:
        return Typed("free text", why="free text: too varied to learn from")
    if unique_share >= UNIQUE_SHARE:
        return Typed("identifier", why="identifier-like: a different value on nearly every row")
    return Typed("category", why=f"{distinct:,} different values: too many to learn from")


# ------------------------------------------------------------------------------ outcome


def _value_counts(cells: pd.Series) -> tuple[tuple[str, int], ...]:
    """Each distinct filled value with its count, most common first."""
    counts = cells.dropna().astype("str").value_counts(sort=True)
    return tuple((str(v), int(n)) for v, n in counts.items())


def suggest_bad(values: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """The values whose words say 'bad' (default, written off, charged off …)."""
    return tuple(v for v, _ in values if spelling(v) in BAD_VALUES)


def _looks_like_outcome(name: str, cells: pd.Series) -> bool:
    """A few-valued column named like an outcome whose values read as good or bad."""
    words = _words(name)
    if not (any(w in OUTCOME_WORDS for w in words) or _joined(name) in OUTCOME_WORDS):
        return False
    values = _value_counts(cells)
    if not 2 <= len(values) <= OUTCOME_MAX_VALUES:
        return False
    known = [v for v, _ in values if spelling(v) in BAD_VALUES | GOOD_VALUES]
    return bool(known) and bool(suggest_bad(values))


def _looks_like_recovered(name: str) -> bool:
    """An amount named as recovered (recovery_amount, amount_recovered …)."""
    words = _words(name)
    return any(w.startswith("recover") for w in words) and any(
        w in ("amount", "amt", "value", "sum", "paid") for w in words)


def suggest_outcome(frame: pd.DataFrame, candidates: list[str]) -> tuple[str | None, str | None]:
    """(outcome column, recovered column): the tutorial's Recovery_Status, else a column named like one."""
    if OUTCOME in frame.columns:
        return OUTCOME, None
    for name in candidates:
        if _looks_like_outcome(name, frame[name]):
            return name, None
    for name in candidates:
        if _looks_like_recovered(name):
            return None, name
    return None, None


def canonical_outcome(frame: pd.DataFrame, kind: str = "not_fully_recovered") -> Outcome | None:
    """The tutorial's Recovery_Status as 0/1 for the target setting (unknown spellings count as unknown)."""
    if OUTCOME not in frame.columns or frame[OUTCOME].notna().sum() == 0:
        return None
    status = frame[OUTCOME]
    allowed = status.isin(BY_NAME[OUTCOME].allowed)
    bad = status == WRITTEN_OFF if kind == "written_off" else status != FULLY_RECOVERED
    y = bad.astype("float64").where(allowed).to_numpy(dtype="float64", na_value=np.nan)
    words = "was written off" if kind == "written_off" else "was not fully recovered"
    return Outcome(OUTCOME, y, f"Probability the loan {words}", values=_value_counts(status), canonical=True,
                   bad=(WRITTEN_OFF,) if kind == "written_off" else tuple(
                       v for v in BY_NAME[OUTCOME].allowed if v != FULLY_RECOVERED))


def category_outcome(frame: pd.DataFrame, column: str, bad: tuple[str, ...] | None) -> Outcome:
    """A category column as 0/1: the chosen bad values are 1, every other value 0, empty unknown."""
    cells = frame[column].astype("str").where(frame[column].notna())
    filled = _filled(cells)
    values = _value_counts(filled)
    bad = suggest_bad(values) if bad is None else bad
    unknown = [b for b in bad if b not in dict(values)]
    if unknown:
        found = ", ".join(f"'{v}'" for v, _ in values[:OUTCOME_MAX_VALUES])
        raise RecoveryError(f"The outcome column '{column}' has no value {', '.join(repr(u) for u in unknown)}; "
                            f"its values are {found}: choose the bad ones among them.")
    y = np.full(len(frame), np.nan)
    at = frame.index.get_indexer(filled.index)
    y[at] = filled.isin(bad).to_numpy(dtype="float64")
    said = " or ".join(f"'{b}'" for b in bad) if bad else "(no value chosen as bad)"
    return Outcome(column, y, f"Probability {column} is {said}", bad=tuple(bad), values=values)


def recovered_outcome(frame: pd.DataFrame, column: str, exposure: str | None, bad_below: float,
                      separator: str | None) -> Outcome:
    """An amount recovered as 0/1: bad when recovered / exposure is below ``bad_below``."""
    if exposure is None or exposure not in frame.columns:
        raise RecoveryError(f"The outcome '{column}' is an amount recovered, which is compared with the "
                            "outstanding amount: map a column to Outstanding_Loan_Amount (the exposure), "
                            "or choose a category outcome.")
    recovered = _filled(frame[column].astype("str").where(frame[column].notna()))
    amounts = numbers.parse_column(recovered, separator).values
    unread = int(amounts.isna().sum())
    if unread:
        first = ", ".join(str(r) for r in amounts.index[amounts.isna()][:5])
        raise RecoveryError(f"{column}: {unread} cell(s) are not amounts (rows {first}): fix them, or "
                            "choose another outcome.")
    share = pd.Series(np.nan, index=frame.index)
    outstanding = pd.to_numeric(frame[exposure], errors="coerce")
    share.loc[amounts.index] = amounts / outstanding.loc[amounts.index].where(lambda s: s > 0)
    y = _bad_below(share, bad_below)
    note = ""
    if bad_below >= 1.0 and _one_class(y) and not _one_class(_bad_below(share, FALLBACK_BAD_BELOW)):
        # 'not fully recovered' makes every loan bad here: nothing to learn; half recovered separates them
        bad_below, y = FALLBACK_BAD_BELOW, _bad_below(share, FALLBACK_BAD_BELOW)
        known = y[~np.isnan(y)]
        note = (f"Nobody in this file is recovered in full ({column} is below {label(exposure)} on every loan), so "
                f"'not fully recovered' would make every loan bad and leave nothing to learn. Bad here means less "
                f"than {FALLBACK_BAD_BELOW:.0%} of the outstanding recovered ({int(known.sum()):,} of "
                f"{len(known):,} loans). Change the share on the Data page, or with --bad-below SHARE.")
    words = "not fully recovered" if bad_below >= 1.0 else f"less than {bad_below:.0%} recovered"
    return Outcome(column, y, f"Probability the loan is {words} ({column} against {label(exposure)})",
                   bad=(f"recovered share below {bad_below:.0%}",), amount=True, bad_below=bad_below, note=note)


FALLBACK_BAD_BELOW = 0.5


def _bad_below(share: pd.Series, bad_below: float) -> np.ndarray:
    """1 where the recovered share is below ``bad_below``, 0 above, NaN unknown."""
    # a relative tolerance: 99.9999% recovered after rounding counts as fully recovered
    return (share < bad_below - 1e-9).astype("float64").where(share.notna()).to_numpy(dtype="float64",
                                                                                       na_value=np.nan)


def _one_class(y: np.ndarray) -> bool:
    """True when every known outcome counts the same way (nothing to learn)."""
    known = y[~np.isnan(y)]
    return len(known) > 0 and (known.min() == known.max())


# ------------------------------------------------------------------------------ assigning


def _outcome(rows: pd.DataFrame, roles: Roles, extras: list[str], separator: str | None) -> Outcome | None:
    """The outcome the user chose, or the suggested one; None when the file has none."""
    for chosen in (roles.outcome, roles.recovered):
        if chosen and chosen != NO_OUTCOME and chosen not in rows.columns:
            raise RecoveryError(f"The outcome column '{chosen}' is not in the file. Columns are: "
                                f"{', '.join(map(str, rows.columns))}.")
    if roles.outcome == NO_OUTCOME:
        return None
    column, recovered = (roles.outcome, None) if roles.outcome else (
        (None, roles.recovered) if roles.recovered else suggest_outcome(rows, extras))
    exposure = "Outstanding_Loan_Amount" if "Outstanding_Loan_Amount" in rows.columns else None
    if recovered:
        return recovered_outcome(rows, recovered, exposure, roles.bad_below, separator)
    if column is None:
        return None
    if column == OUTCOME and roles.bad is None and rows[OUTCOME].isin(BY_NAME[OUTCOME].allowed).any():
        return canonical_outcome(rows)
    return category_outcome(rows, column, roles.bad)


PROTECTED_WHY = "protected attribute: never a model input by default (see fairness)"
COLLECTION_WHY = "recorded during collection, after delinquency: it leaks the outcome"
EXCLUDED_WHY = "excluded by you"
INCLUDED_WHY = "switched on by you"
AGE_SUFFIX = " (age in days)"


def _off_by_default(name: str) -> str:
    """Why a field is not learned from unless the user switches it on ('' when it is learned from)."""
    return PROTECTED_WHY if is_protected(name) else COLLECTION_WHY if is_post_delinquency(name) else ""


@dataclass
class _Decisions:
    """The roles table and the model's candidate fields, as each column is decided."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    candidates: dict[str, str] = field(default_factory=dict)  # feature -> "numeric" | "categorical"
    off: dict[str, str] = field(default_factory=dict)  # feature -> why it is off by default
    added: dict[str, pd.Series] = field(default_factory=dict)  # typed columns of the file's own
    notes: list[str] = field(default_factory=list)

    def left_out(self, column: str, read_as: str, why: str, used_as: str = "not learned from") -> None:
        self.rows.append((column, read_as, used_as, why))

    def feature(self, column: str, read_as: str, kind: str, name: str | None = None, why: str = "",
                used_as: str = "feature") -> None:
        """``column`` feeds the model as ``name`` (itself unless derived), off by default when ``why`` says so."""
        name = name or column
        self.candidates[name] = kind
        off = _off_by_default(column)
        if off:
            self.off[name] = off
        self.rows.append((column, read_as, used_as, off or why))

    def table(self, headers: dict[str, str], columns: pd.Index, off: dict[str, str],
              include: tuple[str, ...]) -> pd.DataFrame:
        """The roles table, with what is switched off or on (``off``, ``include``) saying so."""
        frame = pd.DataFrame(_switched(self.rows, off, include), columns=["Column", "Read as", "Used as", "Why"])
        frame.insert(1, "In the file", [headers.get(c, c if c in columns else "(computed)") for c in frame["Column"]])
        return frame


def _tutorial_field(name: str, rows: pd.DataFrame, features: pd.DataFrame, decided: _Decisions) -> None:
    """Decide the role of one of the tutorial's fields."""
    spec = BY_NAME[name]
    read_as = {"id": "identifier", "numeric": "number", "category": "category"}[spec.kind]
    if spec.kind == "id":
        decided.left_out(name, read_as, "names the borrower or loan: never a model input", "identifier")
    elif name == OUTCOME:
        decided.left_out(name, read_as, "an outcome column, not the one chosen")
    elif rows[name].array.isna().all():  # the array's own mask: no Series built per check
        decided.left_out(name, "empty", "empty: no value in any row")
    else:
        kind = "numeric" if pd.api.types.is_numeric_dtype(features[name]) else "categorical"
        decided.feature(name, read_as, kind,
                        used_as="exposure and feature" if name == "Outstanding_Loan_Amount" else "feature")


def _own_column(name: str, cells: pd.Series, separator: str | None, decided: _Decisions) -> pd.Series | None:
    """Type and decide one of the file's own columns; a date column is returned for its age."""
    typed = type_column(name, cells, separator)
    if typed.why:
        decided.left_out(name, typed.kind, typed.why)
        return None
    if typed.unread:
        decided.notes.append(f"{typed.unread:,} cell(s) of {name} are not "
                             f"{'numbers' if typed.kind == 'number' else 'dates'}: the model treats them as missing.")
    if typed.kind == "date":
        return typed.values
    decided.added[name] = typed.values
    decided.feature(name, typed.kind, "numeric" if typed.kind == "number" else "categorical")
    return None


def _ages(dates: dict[str, pd.Series], decided: _Decisions) -> None:
    """Each date column as its age in days at the latest date in the file."""
    if not dates:
        return
    latest = max(d.max() for d in dates.values())
    for name, d in dates.items():
        decided.added[name + AGE_SUFFIX] = (latest - d).dt.days.astype("float64")
        decided.feature(name, "date", "numeric", name + AGE_SUFFIX,
                        why=f"as age in days at the file's latest date, {latest:%Y-%m-%d}")


_SWITCHED_OFF = {"feature": "not learned from", "exposure and feature": "exposure only"}


def _switched(rows: list[tuple[str, str, str, str]], off: dict[str, str],
              include: tuple[str, ...]) -> list[tuple[str, str, str, str]]:
    """The table's rows with each field that is off saying why, and each the user switched on saying so."""
    # on the rows before they become a table: a few dozen tuples, not a boolean mask per field
    off_here = [(name.removesuffix(AGE_SUFFIX), why) for name, why in off.items() if name not in include]
    on_here = {name.removesuffix(AGE_SUFFIX) for name in include}
    switched = []
    for column, read_as, used_as, why in rows:
        for name, reason in off_here:  # in order: the last that names a column gives its reason
            if column == name:
                why, used_as = reason, _SWITCHED_OFF.get(used_as, used_as)
        if column in on_here and used_as in ("feature", "exposure and feature"):
            why = INCLUDED_WHY
        switched.append((column, read_as, used_as, why))
    return switched


def _by_field(roles: Roles, headers: dict[str, str]) -> Roles:
    """The roles with a mapped column named by its field, whichever of the two names the user gave."""
    field_of = {header: name for name, header in headers.items()}

    def named(column: str | None) -> str | None:
        return field_of.get(column, column) if column is not None else None

    return replace(roles, outcome=named(roles.outcome), recovered=named(roles.recovered),
                   exclude=tuple(map(named, roles.exclude)), include=tuple(map(named, roles.include)))


def _outcome_notes(rows: pd.DataFrame, outcome: Outcome | None) -> list[str]:
    """What the user should know about the identifier and the outcome."""
    notes = []
    if not any(c in rows.columns for c in ("Loan_ID", "Borrower_ID")):
        notes.append("No identifier column: each borrower is identified by their row in the file (File_Row).")
    if outcome is not None and outcome.note:
        notes.append(outcome.note)
    if outcome is not None and not outcome.canonical and not outcome.bad:
        found = ", ".join(f"'{v}' ({n:,})" for v, n in outcome.values[:OUTCOME_MAX_VALUES])
        notes.append(f"No value of the outcome column '{outcome.column}' is chosen as bad; its values are "
                     f"{found}: choose the bad ones.")
    return notes


def assign(rows: pd.DataFrame, features: pd.DataFrame, roles: Roles = Roles(), separator: str | None = None,
           headers: dict[str, str] | None = None, hashes: dict[str, np.ndarray] | None = None,
           ) -> tuple[pd.DataFrame, ColumnRoles]:
    """Type every column, give each its role and screen for leakage; returns features with extras added.

    ``headers`` names the file's header of each mapped field, so the table can say where it came from;
    ``hashes`` keeps the returned features' column hashes the leakage screen works out (value_order).
    """
    headers = headers or {}
    roles = _by_field(roles.checked(), headers)
    for name in (*roles.exclude, *roles.include):
        if name not in rows.columns and name not in features.columns:
            raise RecoveryError(f"'{name}' is not a column of the file: check the spelling. Columns are: "
                                f"{', '.join(map(str, rows.columns))}.")
    outcome = _outcome(rows, roles, [c for c in rows.columns if c not in BY_NAME], separator)
    decided, dates = _Decisions(), {}
    for name in rows.columns:
        if outcome is not None and name == outcome.column:
            decided.left_out(name, "amount" if outcome.amount else "category", outcome.description, "outcome")
        elif name in BY_NAME:
            _tutorial_field(name, rows, features, decided)
        elif (date := _own_column(name, rows[name], separator, decided)) is not None:
            dates[name] = date
    _ages(dates, decided)
    for name in (c for c in features.columns if c not in rows.columns):  # the analyst's ratios
        decided.feature(name, "ratio", "numeric")
    frame = features.assign(**decided.added) if decided.added else features
    off = {**decided.off, **{name: EXCLUDED_WHY for name in roles.exclude}}
    on = [c for c in decided.candidates if c not in off or c in roles.include]
    aucs = {} if outcome is None else field_aucs(frame, outcome.y, on, hashes=hashes)
    leaks = leaking(aucs, roles.include)
    off.update({name: leak_sentence(name, auc) for name, auc in leaks.items()})
    on = [c for c in on if c not in leaks]
    return frame, ColumnRoles(
        table=decided.table(headers, rows.columns, off, roles.include),
        numeric=tuple(c for c in on if decided.candidates[c] == "numeric"),
        categorical=tuple(c for c in on if decided.candidates[c] == "categorical"),
        outcome=outcome, leaks=leaks,
        post_delinquency=tuple(c for c in decided.candidates if off.get(c) == COLLECTION_WHY),
        field_auc={c: auc for c, auc in aucs.items() if c not in leaks},
        switchable=tuple(dict.fromkeys(c.removesuffix(AGE_SUFFIX) for c in off if c not in roles.include)),
        notes=tuple(decided.notes + [leak_sentence(n, a) for n, a in leaks.items()] + _outcome_notes(rows, outcome)),
    )


def outcome_columns(rows: pd.DataFrame) -> list[str]:
    """Columns that could be a category outcome: two to OUTCOME_MAX_VALUES distinct values."""
    return [str(c) for c in rows.columns if 2 <= rows[c].nunique(dropna=True) <= OUTCOME_MAX_VALUES]


def outcome_values(rows: pd.DataFrame, column: str) -> list[str]:
    """The values of a candidate outcome column, most common first, for the user to mark the bad ones."""
    return [v for v, _ in _value_counts(_filled(rows[column].astype("str").where(rows[column].notna())))]


def switchable(roles: ColumnRoles) -> tuple[list[str], list[str]]:
    """(features on, columns off that a user may switch on): what the roles editor offers."""
    table = roles.table
    on = table.loc[table["Used as"].isin(["feature", "exposure and feature"]), "Column"].astype("str").tolist()
    return on, list(roles.switchable)
