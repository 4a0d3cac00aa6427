"""Data: load a portfolio, check how its columns were understood, and what is wrong with it."""

import streamlit as st

from core.config import MAX_CURRENCY
from core.data import (
    EXACT_DUPLICATE,
    EXACT_DUPLICATE_KEPT,
    FIELDS,
    REPEATED_ID,
    REPEATED_ID_KEPT,
    describe,
    quality,
    suggest_mapping,
)
from core.errors import RecoveryError
from core.report import to_csv_bytes
from ui import state
from ui.render import plain
from ui.roles import roles_section

NOT_IN_FILE = "(not in file)"


def _reset_mapping() -> None:
    """Back to the mapping detected from the headers, forgetting the selectboxes' choices too."""
    state.choose(mapping=None)
    for key in [k for k in st.session_state if str(k).startswith("map-")]:
        del st.session_state[key]


def _on_upload() -> None:
    """Switch to the uploaded file before the page (and the sidebar) runs; back to the demo on clear."""
    upload = st.session_state["upload"]
    if upload is None:
        state.use_sample()
    else:
        state.set_source(state.Source(upload.name, upload.getvalue(), False))


st.title("Data")
st.file_uploader("Upload your portfolio (CSV or Excel .xlsx)", type=["csv", "txt", "xlsx"],
                 key="upload", on_change=_on_upload)
if not state.source().is_sample and st.button("Use the demo portfolio instead"):
    state.use_sample()
    st.rerun()

sheets = state.sheets()
if len(sheets) > 1:
    current = state.choices().sheet or sheets[0]
    sheet = st.selectbox("Sheet", sheets, index=sheets.index(current) if current in sheets else 0)
    if sheet != current:
        state.choose(sheet=sheet)
        st.rerun()

try:
    portfolio = state.portfolio()
except RecoveryError as error:
    st.error(plain(error), icon=":material/warning:")
    # a mapping the user chose can be what fails; without this they could never get back
    if state.choices().mapping is not None:
        st.button("Reset to the detected mapping", on_click=_reset_mapping)
    if state.choices().header_row is not None:
        st.button("Back to the detected header row", on_click=lambda: state.choose(header_row=None))
    st.stop()
info = portfolio.info
st.text(f"{info.name}: {info.rows:,} rows × {info.columns} columns, read as {info.format.upper()}"
        + (f", encoding {info.encoding}" if info.encoding else "")
        + (f", separator {info.separator!r}" if info.separator else "")
        + (f", sheet {info.sheet!r}" if info.sheet else ""))
for note in info.notes:  # how the file was read: a header below a title, formulas without values
    st.info(plain(note), icon=":material/info:")
header_row = st.number_input("Row that holds the column names", min_value=1, value=info.header_row, step=1,
                             help="Found below any title lines; change it if the file's header is elsewhere.")
if header_row != info.header_row:
    state.choose(header_row=int(header_row))
    st.rerun()
# a display setting: it labels money on every page, the downloads and the report, and reruns no stage
typed = st.text_input("Currency shown on money", value=state.config().currency, max_chars=MAX_CURRENCY,
                      placeholder="none", help="A code such as EUR or a symbol such as € or ₹; leave it empty "
                                               "for figures without a symbol. Amounts are never converted.")
if typed.strip() != state.config().currency:
    try:
        state.set_config(state.config().with_(currency=typed.strip()))
        st.rerun()
    except RecoveryError as refusal:
        st.error(plain(refusal), icon=":material/warning:")

with st.expander("Column mapping", expanded=bool(portfolio.report.missing_fields)):
    st.caption("Each field the app knows, and the column of your file it is read from. "
               "Columns not mapped to a field are kept and passed through to the download.")
    headers = list(portfolio.raw.columns) if portfolio.raw is not None else list(portfolio.frame.columns)
    options = [NOT_IN_FILE, *headers]
    chosen = {}
    grid = st.columns(3)
    for i, spec in enumerate(FIELDS):
        current = portfolio.mapping.get(spec.name, NOT_IN_FILE)
        pick = grid[i % 3].selectbox(spec.name, options, index=options.index(current), key=f"map-{spec.name}")
        if pick != NOT_IN_FILE:
            chosen[spec.name] = pick
    if chosen != portfolio.mapping:
        state.choose(mapping=chosen)
        st.rerun()
    if state.choices().mapping is not None:
        st.button("Reset to the detected mapping", on_click=_reset_mapping)
    if suggest_mapping(headers) == portfolio.mapping:
        st.caption("Using the mapping detected from your headers.")

report = portfolio.report
st.subheader("Validation")
repeated = {p.problem: p.count for p in report.problems
            if p.problem in (REPEATED_ID, REPEATED_ID_KEPT, EXACT_DUPLICATE, EXACT_DUPLICATE_KEPT)}
if repeated:
    copies = repeated.get(EXACT_DUPLICATE, repeated.get(EXACT_DUPLICATE_KEPT, 0))
    conflicts = repeated.get(REPEATED_ID, repeated.get(REPEATED_ID_KEPT, 0))
    keep = st.radio(
        " and ".join(([f"{copies:,} row(s) are exact duplicates of an earlier row (every cell equal)"]
                      if copies else []) + ([f"{conflicts:,} row(s) repeat a Loan_ID"]
                                            if conflicts else [])), [False, True],
        index=int(state.choices().keep_repeated_ids), horizontal=True,
        format_func=lambda k: ("Keep every row: each row is its own case (IDs are not unique)" if k else
                               "Treat the repeats as invalid rows (the first row with each ID stays)"))
    if keep != state.choices().keep_repeated_ids:
        state.choose(keep_repeated_ids=keep)
        st.rerun()
if report.missing_fields:
    st.info("Not in this file (the analysis skips what needs them): "
            + plain(", ".join(report.missing_fields)))
if not report.problems:
    st.success("No problems found: every row can be analysed.")
else:
    st.dataframe(report.to_frame(), hide_index=True, width="stretch")
if not report.ok:
    invalid = len(report.invalid_rows)
    st.warning(f"{invalid:,} row(s) have errors and cannot be analysed as they are. Fix them in "
               "the file and upload it again, or exclude them.")
    # a plain variable, not the widget's key: widget state is dropped on pages that don't draw it
    exclude = st.checkbox(f"Exclude the {invalid:,} invalid row(s) from the analysis",
                          value=state.choices().exclude_invalid)
    if exclude != state.choices().exclude_invalid:
        state.choose(exclude_invalid=exclude)
        st.rerun()  # the sidebar above already said "needs attention": draw it again with the rows excluded
    st.download_button("Download the invalid rows (CSV)",
                       lambda: to_csv_bytes(portfolio.invalid_rows().reset_index()),
                       file_name="invalid_rows.csv", mime="text/csv")
    st.dataframe(portfolio.invalid_rows(), width="stretch")

roles_section()

st.subheader("Preview")
st.dataframe(portfolio.frame.head(100), width="stretch")
st.subheader("Summary statistics")
stats = describe(state.features_in_view())
st.dataframe(stats, width="stretch", column_config={
    c: st.column_config.NumberColumn(format="%,d" if c == "Count" else "%,.2f") for c in stats.columns})
st.subheader("Data quality")
st.dataframe(quality(portfolio.frame), hide_index=True, width="stretch", column_config={
    "Missing share": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent"),
    **{c: st.column_config.NumberColumn(format="%,d") for c in ("Non-null", "Missing", "Unique values")}})
