"""Overview: what the app does, and the loaded portfolio at a glance."""

import streamlit as st

from core.data import kpis
from core.errors import RecoveryError
from core.report import summary_sentences
from ui import state
from ui.render import plain, run_or_stop, show_kpis, show_trust_warning

st.title("Smart Loan Recovery")
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
try:  # the analysed rows and their one outcome; the rows in view while invalid rows wait for a decision
    prepared = state.prepared()
    rows, outcome = prepared.rows, prepared.roles.outcome
except RecoveryError:
    rows, outcome = run_or_stop(state.frame_in_view), None
figures = kpis(rows, outcome)
st.subheader("The loaded portfolio")
show_kpis(figures, ("Borrowers", "Total outstanding", "Fully recovered", "Written off")
          if figures["share_fully_recovered"] is not None else ("Borrowers", "Total outstanding", "Bad outcome"))
excluded = state.excluded_rows()
if excluded:
    st.caption(f"{len(rows):,} borrowers analysed: {excluded:,} invalid row(s) of the file's "
               f"{len(portfolio.frame):,} are excluded (listed on the Data page).")

st.subheader("What the analysis found")
result = run_or_stop(state.result)
for line in summary_sentences(result, result.trust):
    st.markdown(plain(line))
if result.trust is not None:
    if result.trust.act_on_score:
        st.success(plain(result.trust.verdict()), icon=":material/verified:")
    else:
        show_trust_warning(result.trust)

st.page_link("app_pages/data.py", label="Check or replace the data", icon=":material/description:")
st.page_link("app_pages/strategy.py", label="Go straight to recovery strategies", icon=":material/checklist:")
