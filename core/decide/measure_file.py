"""Measuring from a file: the plan's download with the month's outcomes added, read and measured in one call.

The page and the command line read the same file the same way: every cell as text (the file's own
number formats, 1,234.50 or 45%), the outcome, outstanding and expected values read as numbers
strictly (an unreadable outcome cell is named, not guessed), then core.decide.measure.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.data import ADDED_COLUMNS, BY_NAME, parse_column, read_table
from core.decide.actions import Action
from core.decide.measure import ACTION, EXPECTED, EXPOSURE, GROUP, Measurement, measure_plan
from core.display import priced, share
from core.errors import RecoveryError

OUTCOME_WORDS = ("recover", "repaid", "paid", "collected", "outcome")
PLAN_COLUMNS = (*ADDED_COLUMNS, "File_Row")


def read_download(data: bytes, name: str) -> pd.DataFrame:
    """The plan's download with outcomes, every cell as text; a RecoveryError if it is not a plan."""
    frame = read_table(data, name).frame
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in (GROUP, ACTION, EXPOSURE) if c not in frame.columns]
    if missing:
        raise RecoveryError(f"{name} has no {', '.join(missing)} column: upload the plan's download (made with an "
                            "action table and a champion group) with the amount each borrower repaid added.")
    return frame  # indexed by the file's row, so an unreadable cell is named where the user sees it


def outcome_choices(frame: pd.DataFrame) -> list[str]:
    """Columns that may hold what each borrower repaid: numbers the plan did not add, likeliest first."""
    choices = []
    for name in frame.columns:
        if name in PLAN_COLUMNS:
            continue
        cells = frame[name].dropna()
        if len(cells) == 0 or parse_column(cells, None).values.notna().mean() < 0.9:
            continue
        choices.append(name)
    def rank(name: str) -> tuple[bool, bool, bool]:
        """The file's own loan fields last; a name saying repaid or recovered first, then 'amount'."""
        words = re.split(r"[^0-9a-z]+", name.casefold())
        said = lambda stems: any(w.startswith(o) for w in words for o in stems)  # noqa: E731
        return name in BY_NAME, not said(OUTCOME_WORDS), not said(("amount", "amt", "value"))

    return sorted(choices, key=rank)


def _numbers(frame: pd.DataFrame, column: str, strict: bool) -> pd.Series:
    """A text column as numbers; with ``strict`` an unreadable cell is a RecoveryError naming its rows."""
    cells = frame[column]
    present = cells.notna() & (cells.astype("str").str.strip() != "")
    parsed = parse_column(cells[present], None)
    if strict and parsed.bad:
        rows = ", ".join(str(r) for r in list(parsed.bad)[:5])
        raise RecoveryError(f"{column}: {len(parsed.bad)} cell(s) are not amounts (file rows {rows}): fix them, "
                            "or leave a borrower's outcome empty while it is not known.")
    values = pd.Series(np.nan, index=frame.index)
    values.loc[parsed.values.index] = parsed.values
    return values


def measure_download(frame: pd.DataFrame, outcome: str, actions: tuple[Action, ...] | None = None) -> Measurement:
    """The plan's download (as read_download gives it) measured on the amounts repaid in ``outcome``."""
    if outcome not in frame.columns:
        choices = outcome_choices(frame)
        raise RecoveryError(f"The outcomes file has no '{outcome}' column"
                            + (f"; columns with amounts: {', '.join(choices[:8])}" if choices else "")
                            + ": name the column holding the amount each borrower repaid.")
    typed = frame.assign(**{outcome: _numbers(frame, outcome, strict=True),
                            EXPOSURE: _numbers(frame, EXPOSURE, strict=False)})
    if EXPECTED in frame.columns:
        typed[EXPECTED] = _numbers(frame, EXPECTED, strict=False)
    return measure_plan(typed, outcome, actions)


def measure_file(data: bytes, name: str, outcome: str, actions: tuple[Action, ...] | None = None) -> Measurement:
    """Read the plan's download with outcomes and measure it (the command line's one call)."""
    return measure_download(read_download(data, name), outcome, actions)


def measurement_lines(m: Measurement, currency: str = "") -> list[str]:
    """The measurement in plain lines: each scope's groups and uplift with its intervals, then the verdict."""
    kind = "net recovery" if m.net else "recovery"
    lines = []
    scopes = [(*m.groups, m.overall), *m.per_action]
    for champion, optimised, up in scopes:
        if not np.isfinite(up.money):
            lines.append(f"{up.scope}: optimised {optimised.borrowers:,} borrowers, champion {champion.borrowers:,}: "
                         "too few in a group to compare (at least 2 each).")
            continue
        low, high = priced(up.money_low, currency), priced(up.money_high, currency)
        lines.append(
            f"{up.scope}: optimised {optimised.borrowers:,} borrowers, {share(optimised.share)} of the outstanding "
            f"recovered; champion {champion.borrowers:,}, {share(champion.share)}. Uplift {priced(up.money, currency)} "
            f"{kind} per borrower (95% interval {low} to {high}), {up.share * 100:+.1f} points "
            f"of the outstanding (95% interval {up.share_low * 100:+.1f} to {up.share_high * 100:+.1f}).")
    return lines + [m.verdict(currency)]
