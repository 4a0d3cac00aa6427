"""Explore: headline figures and the notebook's charts, aggregated on the server."""

import streamlit as st

from core.charts import explore as eda
from core.data import kpis
from core.errors import RecoveryError
from ui import state
from ui.render import plain, run_or_stop, show_kpis

st.title("Explore the portfolio")
frame = run_or_stop(state.frame_in_view)
waiting = state.awaiting_decision(run_or_stop(state.portfolio))
if waiting:  # the charts read the file as it is: they need no unique IDs, so they need no decision
    st.warning(f"{plain(waiting)}. The figures and charts below show the file as read, every row "
               "counted; Segments, Risk and Strategy wait for that decision.", icon=":material/pending:")
try:
    prepared = state.prepared_as_read()
except RecoveryError as refusal:  # rows that cannot be typed yet: the notebook's charts still draw
    prepared = None
    st.info(f"The charts of the file's own fields need the rows to be readable: {plain(refusal)}",
            icon=":material/info:")
outcome = None if prepared is None else prepared.roles.outcome
figures = kpis(frame, outcome)
tutorial = figures["share_fully_recovered"] is not None  # the tutorial's statuses, where the file uses them
show_kpis(figures, ("Borrowers", "Total outstanding", "Fully recovered", "Partially recovered", "Written off",
                    "Avg days past due") if tutorial else
          ("Borrowers", "Total outstanding", "Bad outcome", "Avg days past due"))

charts = eda.available_charts(frame)
skipped = [(name, why) for name, why in charts if why]
drawable = [name for name, why in charts if not why]
if skipped and drawable:
    st.info("Skipped for this file: " + "; ".join(
        f"{plain(eda.chart_title(name))} ({plain(why)})" for name, why in skipped))
elif skipped:
    st.caption("The notebook's charts need its fields (loan amount, income, payment history, recovery status), "
               "which this file does not have; below are charts of the file's own fields instead.")

# drawn once per file and roles in this session: a revisit redraws from the kept figures, not the rows
drawn, own_drawn = state.view("explore", state.file_view_key(), lambda: (
    [(name, eda.draw(frame, name)) for name in drawable],
    [] if prepared is None else [(t, draw()) for t, draw in eda.field_charts(prepared.features, prepared.roles)]))
left, right = st.columns(2)
for i, (name, figure) in enumerate(drawn):
    with (left if i % 2 == 0 else right):
        st.plotly_chart(figure, width="stretch", key=f"chart-{name}")

if own_drawn:
    st.subheader("The file's own fields")
    st.caption("The outcome, the fields that alone say most about it, and the bad-outcome rate per value.")
    left, right = st.columns(2)
    for i, (title, figure) in enumerate(own_drawn):
        with (left if i % 2 == 0 else right):
            st.plotly_chart(figure, width="stretch", key=f"own-{title}")
