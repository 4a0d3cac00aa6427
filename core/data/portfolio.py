"""A read table mapped to the tutorial's fields where it has them, typed and checked: the Portfolio."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field

import pandas as pd

from core.data import schema
from core.data.read import read_table
from core.data.table import PROBLEMS, FileInfo, Limits
from core.data.validate import ValidationReport, check, spelling
from core.errors import RecoveryError


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
    # per numeric field whose values depended on it, the decimal mark they were read with
    decimal_marks: Mapping[str, str] = dataclass_field(default_factory=dict, repr=False, compare=False)

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
                     checked.row_notes, checked.decimal_marks)
