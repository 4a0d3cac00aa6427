"""Explore: headline figures and the notebook's charts, aggregated on the server."""

import streamlit as st

from core import eda
from ui import state
from ui.render import plain, run_or_stop, show_kpis

st.title("Explore the portfolio")
frame = run_or_stop(state.frame_in_view)
figures = eda.kpis(frame)

show_kpis(figures, ("Borrowers", "Total outstanding", "Fully recovered", "Partially recovered",
                    "Written off", "Avg days past due"))

charts = eda.available_charts(frame)
skipped = [(name, why) for name, why in charts if why]
if skipped:
    st.info("Skipped for this file: " + "; ".join(
        f"{plain(eda.chart_title(name))} ({plain(why)})" for name, why in skipped))

drawable = [name for name, why in charts if not why]
left, right = st.columns(2)
for i, name in enumerate(drawable):
    with (left if i % 2 == 0 else right):
        st.plotly_chart(eda.draw(frame, name), width="stretch", key=f"chart-{name}")
