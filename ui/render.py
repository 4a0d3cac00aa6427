"""Safe rendering helpers: text from an upload is never read as Markdown or HTML."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from core.display import compact_money, money, share
from core.errors import RecoveryError

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
    metrics = {
        "Borrowers": (f"{figures['borrowers']:,}", None),
        "Total outstanding": (compact_money(outstanding), f"{money(outstanding)} in total"),
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
