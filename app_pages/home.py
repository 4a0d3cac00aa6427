"""Overview: what the app does, and the loaded portfolio at a glance."""

import streamlit as st

from core.eda import kpis
from ui import state
from ui.render import compact_money, money, run_or_stop, share

st.title("💼 Smart Loan Recovery")
st.markdown(
    """
Find where the recovery risk sits in a loan portfolio and decide what to do about each borrower.

1. **Data** — upload the portfolio your systems export (CSV or Excel), check how its columns
   were understood and what is wrong with it. A demo portfolio is loaded so you can start now.
2. **Explore** — headline figures and the distributions behind them.
3. **Segments** — groups of similar borrowers, named after what sets them apart.
4. **Risk** — each borrower's probability of *not* being fully recovered, from a model that
   never saw that borrower, with how far to trust it and why it scores as it does.
5. **Strategy** — a recovery strategy per borrower, the money behind each, and the annotated
   table to download and act on.

The sidebar shows which file is loaded and lets you switch to the **Notebook (seed) method**,
which reproduces the original tutorial exactly for comparison.
"""
)

portfolio = run_or_stop(state.portfolio)
figures = kpis(portfolio.frame)
st.subheader("The loaded portfolio")
cols = st.columns(4)
cols[0].metric("Borrowers", f"{figures['borrowers']:,}")
cols[1].metric("Total outstanding", compact_money(figures["total_outstanding"]),
                 help=f"{money(figures['total_outstanding'])} in total")
cols[2].metric("Fully recovered", share(figures["share_fully_recovered"]))
cols[3].metric("Written off", share(figures["share_written_off"]))

st.page_link("app_pages/data.py", label="Check or replace the data", icon="📄")
st.page_link("app_pages/strategy.py", label="Go straight to recovery strategies", icon="📋")
