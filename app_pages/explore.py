"""Explore: headline figures and the notebook's charts, aggregated on the server."""

import streamlit as st

from core import eda
from ui import state
from ui.render import compact_money, money, plain, run_or_stop, share

st.title("📊 Explore the portfolio")
portfolio = run_or_stop(state.portfolio)
frame = portfolio.valid_rows() if st.session_state.get("exclude_invalid") else portfolio.frame
figures = eda.kpis(frame)

cols = st.columns(6)
cols[0].metric("Borrowers", f"{figures['borrowers']:,}")
cols[1].metric("Total outstanding", compact_money(figures["total_outstanding"]),
                 help=f"{money(figures['total_outstanding'])} in total")
cols[2].metric("Fully recovered", share(figures["share_fully_recovered"]))
cols[3].metric("Partially recovered", share(figures["share_partially_recovered"]))
cols[4].metric("Written off", share(figures["share_written_off"]))
avg_dpd = figures["avg_days_past_due"]
cols[5].metric("Avg days past due", "—" if avg_dpd is None else f"{avg_dpd:.0f}")

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
