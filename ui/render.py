"""Safe rendering helpers: text from an upload is never read as Markdown or HTML."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import pandas as pd
import streamlit as st

from core.display import priced, share
from core.errors import RecoveryError
from core.report import EXCEL_MAX_COLS, EXCEL_MAX_ROWS, to_excel_workbook
from ui import state

T = TypeVar("T")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """Escape Markdown so file names, headers and values show exactly as written."""
    return _MARKDOWN.sub(r"\\\1", str(text)).replace("\n", "  \n")


def run_or_stop(step: Callable[[], T]) -> T:
    """Run an engine call; on a user error show its message on the page and stop the page."""
    try:
        return step()
    except RecoveryError as error:
        st.error(plain(error), icon=":material/warning:")
        st.stop()


def show_notes(notes: tuple[str, ...], excluded_rows: int = 0) -> None:
    """What the analysis assumed, skipped or excluded, in plain words."""
    if excluded_rows:
        st.warning(f"This analysis excludes {excluded_rows:,} invalid row(s); they are listed and "
                   "downloadable on the Data page.")
    for note in notes:
        st.info(plain(note), icon=":material/info:")


def show_kpis(figures: dict, shown: tuple[str, ...]) -> None:
    """Headline portfolio figures (from core.charts.explore.kpis) as a row of metrics."""
    outstanding, dpd = figures["total_outstanding"], figures["avg_days_past_due"]
    currency = state.config().currency
    metrics = {
        "Borrowers": (f"{figures['borrowers']:,}", None),
        "Total outstanding": (priced(outstanding, currency, compact=True), f"{priced(outstanding, currency)} in total"),
        "Fully recovered": (share(figures["share_fully_recovered"]), None),
        "Partially recovered": (share(figures["share_partially_recovered"]), None),
        "Written off": (share(figures["share_written_off"]), None),
        "Bad outcome": (share(figures.get("share_bad")), "Share of borrowers with a known outcome whose outcome "
                                                          "counts as bad (the outcome chosen on the Data page)"),
        "Avg days past due": ("—" if dpd is None else f"{dpd:.0f}", None),
    }
    # a figure the file cannot give (no exposure, not the tutorial's statuses) is left out, not shown as 0
    absent = {"Total outstanding": outstanding, "Fully recovered": figures["share_fully_recovered"],
              "Partially recovered": figures["share_partially_recovered"],
              "Written off": figures["share_written_off"], "Bad outcome": figures.get("share_bad")}
    shown = tuple(n for n in shown if n not in absent or absent[n] is not None)
    for col, name in zip(st.columns(len(shown)), shown):
        value, help_text = metrics[name]
        col.metric(name, value, help=help_text)


def show_trust_warning(trust) -> None:
    """Say prominently when the score should not be acted on (nothing when it can be)."""
    if trust is not None and not trust.act_on_score:
        st.error(f"{plain(trust.verdict())} {plain(trust.sentence())}", icon=":material/report:")


def workbook_contents(sheets: dict[str, pd.DataFrame]) -> str:
    """What an Excel download holds, in words: its sheets and their rows."""
    rows = sum(len(df) for df in sheets.values())
    listed = "; ".join(f"{name} ({len(df):,} row{'s' if len(df) != 1 else ''})" for name, df in sheets.items())
    return (f"The Excel workbook holds {len(sheets)} sheet{'s' if len(sheets) != 1 else ''}, {rows:,} rows in all: "
            f"{listed}.")


def workbook_refusal(sheets: dict[str, pd.DataFrame]) -> str | None:
    """Why Excel cannot hold these tables, and what to do instead (None when it can)."""
    too_big = [(name, df) for name, df in sheets.items()
               if len(df) + 1 > EXCEL_MAX_ROWS or df.shape[1] > EXCEL_MAX_COLS]
    if not too_big:
        return None
    name, df = too_big[0]
    return (f"Excel holds at most {EXCEL_MAX_ROWS - 1:,} rows (and {EXCEL_MAX_COLS:,} columns) per sheet, and the "
            f"sheet '{name}' has {len(df):,} rows and {df.shape[1]:,} columns: download CSV instead, which holds "
            "every row.")


def excel_download(container, sheets: dict[str, pd.DataFrame] | Callable[[], dict[str, pd.DataFrame]],
                   file_name: str, key: str, currency: str = "", about: str = "", largest_sheet: int = 0) -> None:
    """An Excel download that says what it holds, builds on request with a spinner, and says in words when it cannot.

    ``sheets`` may be a function, called only when the user asks (``about`` then says what the workbook will
    hold, and ``largest_sheet`` its longest sheet's rows, so a table Excel cannot hold is said before a click).
    """
    lazy = callable(sheets)
    if lazy:
        refusal = (f"Excel holds at most {EXCEL_MAX_ROWS - 1:,} rows per sheet, and this workbook's longest sheet "
                   f"would have {largest_sheet:,} rows: download CSV instead, which holds every row."
                   if largest_sheet + 1 > EXCEL_MAX_ROWS else None)
    else:
        refusal = workbook_refusal(sheets)
    if refusal:
        container.warning(refusal, icon=":material/table_view:")
        return
    container.caption(plain(about if lazy else workbook_contents(sheets)))
    if not container.button("Build the Excel workbook", key=f"{key}-build", icon=":material/table_view:"):
        return
    if lazy:
        sheets = sheets()
        refusal = workbook_refusal(sheets)
        if refusal:
            container.warning(refusal, icon=":material/table_view:")
            return
        container.caption(plain(workbook_contents(sheets)))
    rows = sum(len(df) for df in sheets.values())
    try:
        with container, st.spinner(f"Building the workbook: {rows:,} rows…"):
            data = to_excel_workbook(sheets, currency)
    except RecoveryError as refusal:
        container.error(f"{plain(refusal)}", icon=":material/warning:")
        return
    except (MemoryError, ValueError, OSError) as failure:  # a table Excel cannot take: said, never a blank click
        container.error(f"The workbook could not be built ({plain(type(failure).__name__)}: {plain(failure)}): "
                        "download CSV instead, which holds every row.", icon=":material/warning:")
        return
    container.download_button(f"Download the workbook ({len(data) / 1024:,.0f} KB)", data, file_name=file_name,
                              mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                              key=f"{key}-download", on_click="ignore", icon=":material/download:")
