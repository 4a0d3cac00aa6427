"""Score new borrowers: a model trained earlier scores this month's file, with no retraining."""

import streamlit as st

from core.charts import drift as charts
from core.display import money_format
from core.report import to_csv_bytes
from core.serve import bundle, drift, score
from ui import saved_models, state
from ui.render import plain, run_or_stop, show_notes

st.title("Score new borrowers")
st.caption("Score this month's borrowers with a model trained and reviewed earlier: nothing is retrained, "
           "so every borrower is scored, segmented and explained exactly as the saved model would. "
           "Files stay in this session; nothing is written to disk.")


def _on_model_upload() -> None:
    upload = st.session_state["model_upload"]
    if upload is not None:
        saved_models.use_model(upload.name, upload.getvalue())


def _on_file_upload() -> None:
    upload = st.session_state["new_upload"]
    saved_models.use_new_file(None if upload is None else upload.name, None if upload is None else upload.getvalue())


st.subheader("1. The saved model")
left, right = st.columns(2)
left.file_uploader(f"Upload a saved model ({bundle.SUFFIX})", type=[bundle.SUFFIX.lstrip(".")], key="model_upload",
                   on_change=_on_model_upload)
right.caption(f"Or use the model analysed in this session on {plain(state.source().name)} "
              "(the settings of the Risk and Strategy pages).")
if right.button("Use the model trained in this session", icon=":material/model_training:"):
    run_or_stop(saved_models.use_session_model)
model = run_or_stop(saved_models.scoring_model)
if model is None:
    st.info("Choose a saved model to start.", icon=":material/info:")
    st.stop()
st.success(f"Scoring with {plain(st.session_state['scoring_model'].name)}.", icon=":material/verified:")
if model.signed:
    st.caption(":material/verified_user: Signed: its signature matches this app's signing key.")
else:
    st.caption(":material/gpp_maybe: Unsigned: no signing key is set here, so who made this file is not checked "
               "(its hash still shows it is unchanged since it was saved).")
with st.expander("What this model is (its manifest)", expanded=True):
    st.dataframe(score.manifest_summary(model.manifest), hide_index=True, width="stretch")

st.subheader("2. The new borrowers")
st.file_uploader("Upload the new file (CSV or Excel .xlsx)", type=["csv", "txt", "xlsx"], key="new_upload",
                 on_change=_on_file_upload)
if saved_models.new_file() is None:
    st.info("Upload the file of borrowers to score: outcomes are not needed.", icon=":material/info:")
    st.stop()
exclude = st.session_state.get("new_exclude_invalid", False)
scored_file = run_or_stop(lambda: saved_models.scored_new_file(exclude))
report = scored_file.portfolio.report
if not report.ok:
    st.warning(f"{len(report.invalid_rows):,} row(s) have errors and cannot be scored as they are: fix them "
               "in the file and upload it again, or exclude them (they stay listed and downloadable).")
    if st.checkbox(f"Exclude the {len(report.invalid_rows):,} invalid row(s)", value=exclude) != exclude:
        st.session_state["new_exclude_invalid"] = not exclude
        st.rerun()
    st.download_button("Download the invalid rows (CSV)",
                       lambda: to_csv_bytes(scored_file.portfolio.invalid_rows().reset_index()),
                       file_name="invalid_rows.csv", mime="text/csv")
    st.dataframe(report.to_frame(), hide_index=True, width="stretch")
    if scored_file.scored is None:
        st.stop()
result = scored_file.scored
show_notes(result.notes, len(report.invalid_rows) if exclude else 0)

st.subheader("3. Strategies")
st.dataframe(result.strategies, hide_index=True, width="stretch", column_config={
    "Share of borrowers": st.column_config.NumberColumn(format="percent"),
    "Mean risk score": st.column_config.NumberColumn(format="%.2f"),
    **{c: st.column_config.NumberColumn(format=money_format(state.config().currency)) for c in (
        "Outstanding", "Outstanding at risk", "Expected net recovery")}})
st.download_button("Download CSV", to_csv_bytes(result.table), file_name="scored_borrowers.csv",
                   mime="text/csv", icon=":material/download:")
st.caption(f"Every one of the {len(result.table):,} scored borrowers, with segment, risk score, strategy and "
           "reasons. The table below shows the first 1,000 in file order.")
st.dataframe(result.table.head(1000), hide_index=True, width="stretch", column_config={
    "Risk_Score": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f")})

st.subheader("4. Has the book moved since training?")
table = scored_file.drift
st.caption("Population Stability Index of each field and of the score against the training file: below 0.10 "
           "stable, 0.10 to 0.25 watch, above 0.25 act (the model may no longer fit this book).")
for sentence in drift.worst_sentences(table):
    st.warning(plain(sentence), icon=":material/trending_up:")
if not len(table) or (table["band"] == drift.STABLE).all():
    st.success("Every field and the score look like the training file (all stable).", icon=":material/check:")
st.plotly_chart(charts.drift_bars(table), width="stretch")
shown = st.selectbox("Compare one field with training", list(table["field"]),
                     format_func=dict(zip(table["field"], table["label"])).get)
st.plotly_chart(charts.drift_shares(drift.share_chart_data(
    model.manifest["profile"], result.features, shown, result.scores), table.set_index("field").loc[shown, "label"]),
    width="stretch")
shown_table = table[["label", "field", *[c for c in table.columns if c not in ("label", "field", "kind")]]]
st.dataframe(shown_table.rename(columns={
    "field": "Column in the file", "label": "Field", "psi": "PSI", "band": "Band", "missing_train": "Missing in training",
    "missing_new": "Missing now", "new_values": "Borrowers with new values", "new_value_names": "New values",
    "sentence": "What moved"}), hide_index=True, width="stretch", column_config={
    "PSI": st.column_config.NumberColumn(format="%.3f"),
    **{c: st.column_config.NumberColumn(format="percent") for c in ("Missing in training", "Missing now")}})
st.download_button("Download the drift table (CSV)", to_csv_bytes(table), file_name="drift.csv", mime="text/csv")
