"""Numbers as people read them: money with thousands separators, shares in per cent, counts.

Shared by the app's pages and the stakeholder report, so a figure reads the same in both.
A missing value (None or NaN) reads as a dash, never as 'None' or 'nan'.
"""

from __future__ import annotations

import math

from pandas import NA as _NA

DASH = "—"


def absent(value: object) -> bool:
    """True for None and NaN: a figure that is not there."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None) -> str:
    """1234567.8 -> '1,234,568'."""
    return DASH if absent(value) else f"{float(value):,.0f}"


def compact_money(value: float | None) -> str:
    """703297003 -> '703.3M', short enough for a headline figure."""
    if absent(value):
        return DASH
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{value / size:,.1f}{suffix}"
    return f"{value:,.0f}"


def priced(value: float | None, currency: str = "", compact: bool = False) -> str:
    """Money with the lender's currency: a code before with a space ('EUR 1,234,568'), a symbol against the
    figure ('€1,234,568', '-€5'), nothing added for '' (today's '1,234,568'); compact gives '€703.3M'."""
    text = compact_money(value) if compact else money(value)
    if not currency or text == DASH:
        return text
    sign, figure = ("-", text[1:]) if text.startswith("-") else ("", text)
    return f"{currency} {text}" if currency.isalpha() and len(currency) > 1 else f"{sign}{currency}{figure}"


def money_format(currency: str = "", excel: bool = False) -> str:
    """The number format of a money column: Excel's ('"€"#,##0') or a table column's printf ('€%,.0f')."""
    if excel:
        return "#,##0" if not currency else (f'"{currency} "#,##0' if currency.isalpha() and len(currency) > 1
                                             else f'"{currency}"#,##0')
    spaced = f"{currency} " if currency.isalpha() and len(currency) > 1 else currency
    return f"{spaced}%,.0f"


# Shares everywhere (page, command line, workbook, report) read with one decimal; a share that is
# not zero never reads "0.0%" and one that is not all never reads "100.0%".
SHARE_DECIMALS = 1
TINY_SHARE = 0.0005  # below this a non-zero share would round to 0.0%


def share(value: float | None) -> str:
    """0.4213 -> '42.1%'; 0.0001 -> '<0.1%'; 0.9999 -> '>99.9%'; 0 -> '0.0%'."""
    if absent(value):
        return DASH
    x = float(value)
    if 0 < x < TINY_SHARE:
        return "<0.1%"
    if -TINY_SHARE < x < 0:
        return ">-0.1%"
    if 1 - TINY_SHARE <= x < 1:
        return ">99.9%"
    return f"{x:.{SHARE_DECIMALS}%}"


def count(value: int | float | None) -> str:
    """2000 -> '2,000'."""
    return DASH if absent(value) else f"{int(value):,}"


NO_LIMIT = "no limit"
# The action table's columns as people read them (the CSV a team uploads keeps the short names).
ACTION_HEADERS: dict[str, str] = {
    "action": "Action",
    "cost": "Cost per case",
    "capacity": "Capacity (cases)",
    "recovery_at_low_risk": "Share recovered, lowest risk (score 0)",
    "recovery_at_high_risk": "Share recovered, highest risk (score 1)",
    "method": "Learned from the history's",
}


def capacity_text(value: int | float | None) -> str:
    """An action's capacity: '200', or 'no limit' where none is set."""
    return NO_LIMIT if absent(value) or value is _NA else count(value)


def decimal(value: float | None, places: int = 2) -> str:
    """A score or a mean: 0.8283 -> '0.83'."""
    return DASH if absent(value) else f"{float(value):,.{places}f}"


# Colours shared by the charts and the report, so a status or an action reads the same everywhere.
# One colour per outcome, shared by every chart, so a status reads the same everywhere.
STATUS_COLOURS: dict[str, str] = {
    "Fully Recovered": "#2e9e44",
    "Partially Recovered": "#f0a202",
    "Written Off": "#d62728",
}


MISSING_COLOUR = "#9e9e9e"


SINGLE_COLOUR = "#4169e1"  # the notebook's royalblue


PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f",
    "#2ca02c", "#d62728",
)

# Legal, settlement, reminders (the notebook's order), then 'No action' and any further actions.
STRATEGY_COLOURS = ("#d62728", "#f0a202", "#2e9e44", "#7f7f7f", "#1f77b4", "#9467bd", "#8c564b", "#17becf")
