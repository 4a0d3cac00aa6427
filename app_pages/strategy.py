"""Strategy: a recovery strategy per borrower, what it covers, and the table to act on."""

import streamlit as st

from core import report_charts
from core.export import to_csv_bytes, to_excel_bytes
from core.strategy import worklist
from ui import state
from ui.render import money, run_or_stop, show_notes

st.title("📋 Recovery strategies")
config = state.config()
description = st.empty()  # filled once the settings below are read, so it never lags a rerun behind
# Keyed widgets seeded from the settings: a widget whose default changed would be a new widget,
# and the next drag would be lost. switch_preset() forgets these keys.
st.session_state.setdefault(state.THRESHOLDS_KEY, (config.settlement_threshold, config.legal_threshold))
for i, value in enumerate(config.strategy_labels):
    st.session_state.setdefault(f"{state.LABEL_KEY}{i}", value)
with st.expander("Adjust thresholds and strategy names"):
    settlement, legal = st.slider("Settlement from / legal above", 0.0, 1.0, step=0.01,
                                  key=state.THRESHOLDS_KEY)
    tiers = ("Above the legal threshold", "Between the thresholds", "Below the settlement threshold")
    labels = tuple(st.text_input(tier, key=f"{state.LABEL_KEY}{i}") for i, tier in enumerate(tiers))
    chosen = (settlement, legal, labels)
    if chosen != (config.settlement_threshold, config.legal_threshold, config.strategy_labels):
        # the high-risk flag (and the Risk page's precision, recall, confusion matrix) follows the
        # point from which a borrower gets more than reminders; no st.rerun(): the rest of this
        # run already uses the new settings
        config = run_or_stop(lambda: config.with_(
            settlement_threshold=settlement, legal_threshold=legal, strategy_labels=labels,
            flag_threshold=settlement))
        state.set_config(config)
description.markdown(
    "Each borrower gets the notebook's strategy for their risk score: "
    f"**above {config.legal_threshold:.2f}** → legal notices, **{config.settlement_threshold:.2f} to "
    f"{config.legal_threshold:.2f}** → settlement offers, **below {config.settlement_threshold:.2f}** → "
    "automated reminders. Scores are out-of-fold: no borrower was scored by a model trained on them."
)

result = run_or_stop(state.result)
show_notes(result.notes, state.excluded_rows())
summary = result.strategies
cols = st.columns(len(summary))
for col, row in zip(cols, summary.to_dict(orient="records")):
    col.metric(row["Recovery strategy"], f"{row['Borrowers']:,} borrowers", help=row["Recovery strategy"])
    if "Outstanding" in row:
        col.text(f"{money(row['Outstanding'])} outstanding")
st.plotly_chart(report_charts.strategy_mix(result), width="stretch")
st.dataframe(summary, hide_index=True, width="stretch")

st.subheader("Worklist")
st.caption("Most urgent strategy first, then the most outstanding at risk (risk score × outstanding).")
table = result.table  # the whole table is built only when a download is clicked
order = tuple(result.strategies["Recovery strategy"])
st.dataframe(worklist(result.scored, order, limit=1000).rename_axis("File_Row").reset_index(),
             hide_index=True, width="stretch")
excluded = state.excluded_rows()
st.text(f"The download holds all {len(result.scored):,} analysed borrowers with their segment, risk score, "
        "strategy and reasons." + (f" {excluded:,} invalid row(s) were excluded; download them on "
                                    "the Data page." if excluded else ""))
c1, c2 = st.columns(2)
# Files are built only when clicked: writing them takes seconds on large portfolios.
c1.download_button("Download CSV", lambda: to_csv_bytes(table()), file_name="recovery_strategies.csv",
                   mime="text/csv", type="primary")
c2.download_button("Download Excel", lambda: to_excel_bytes(table()), file_name="recovery_strategies.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
