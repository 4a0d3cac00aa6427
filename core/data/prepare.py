"""Prepare: the rows to analyse, checked once, with ratios added and every column typed and given its role."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.data.features import add_ratios
from core.data.portfolio import Portfolio
from core.data.roles import ColumnRoles, Roles, assign
from core.errors import RecoveryError

ADDED_COLUMNS = (
    "Borrower_Segment", "Segment_Name", "Risk_Score", "Predicted_High_Risk",
    "Recovery_Strategy", "Risk_Reasons", "Outstanding_At_Risk", "Expected_Net_Recovery", "Expected_Loss", "Test_Group",
)


@dataclass(frozen=True)
class Prepared:
    """The rows to analyse as given, the same rows typed for learning, and every column's role."""

    rows: pd.DataFrame
    features: pd.DataFrame
    roles: ColumnRoles
    notes: tuple[str, ...] = ()
    written: pd.DataFrame | None = None  # the same cells as text, as the file wrote them, for downloads
    # each feature column's row hashes, by name: worked out once for every value order on these rows
    hashes: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)


def analysable_rows(portfolio: Portfolio, exclude_invalid: bool) -> pd.DataFrame:
    """The rows to analyse; refuses a portfolio with invalid rows unless they are excluded."""
    if portfolio.report.ok:
        return portfolio.frame
    if not exclude_invalid:
        errors = portfolio.report.errors()
        raise RecoveryError(
            f"{len(portfolio.report.invalid_rows)} row(s) have errors ({errors[0].line()}"
            f"{'; …' if len(errors) > 1 else ''}): fix the file, or exclude the invalid rows."
        )
    return portfolio.valid_rows()


def written_cells(portfolio: Portfolio) -> pd.DataFrame | None:
    """The file's cells as written, under the names the analysis uses (mapped fields by their field name)."""
    if portfolio.raw is None:
        return None
    return portfolio.raw.rename(columns={header: name for name, header in portfolio.mapping.items()})


def prepare(rows: pd.DataFrame, roles: Roles = Roles(), separator: str | None = None,
            written: pd.DataFrame | None = None, headers: dict[str, str] | None = None) -> Prepared:
    """Check the rows can be analysed, add the ratios, type every column and give it its role, once."""
    if len(rows) == 0:
        raise RecoveryError("There are no borrowers to analyse: load a file with at least one row.")
    # a re-uploaded export: its old analysis is replaced by this one, and the user is told
    previous = [c for c in (*ADDED_COLUMNS, "File_Row") if c in rows.columns]
    notes = ()
    if previous:
        rows = rows.drop(columns=previous)
        notes = (f"The file already had the analysis column(s) {', '.join(previous)} (an earlier export?): "
                 "they are replaced by this analysis, and File_Row gives the rows of this file.",)
    hashes: dict[str, np.ndarray] = {}
    features, column_roles = assign(rows, add_ratios(rows), roles, separator, headers, hashes)
    return Prepared(rows=rows, features=features, notes=notes + column_roles.notes, roles=column_roles,
                    written=None if written is None else written[[c for c in rows.columns if c in written.columns]],
                    hashes=hashes)


def prepare_portfolio(portfolio: Portfolio, roles: Roles = Roles(), exclude_invalid: bool = False) -> Prepared:
    """prepare() for a loaded file: its rows to analyse, with its separator, cells as written and headers."""
    return prepare(analysable_rows(portfolio, exclude_invalid), roles, portfolio.info.separator,
                   written_cells(portfolio), portfolio.mapping)
