"""Smart Loan Recovery: entry point. Page config, sidebar data status, navigation."""

import streamlit as st

from core.errors import RecoveryError
from ui import memory, state, warm
from ui.render import plain

st.set_page_config(page_title="Smart Loan Recovery", page_icon=":material/account_balance:", layout="wide")
state.init()
memory.tune_allocator()  # what a closed session frees can go back to the system
memory.take_lease()  # this session's data goes once the session has ended
warm.start()  # the Strategy page's first chart then costs what later ones do

PAGES = [
    st.Page("app_pages/home.py", title="Overview", icon=":material/home:", default=True),
    st.Page("app_pages/data.py", title="Data", icon=":material/description:"),
    st.Page("app_pages/explore.py", title="Explore", icon=":material/bar_chart:"),
    st.Page("app_pages/segments.py", title="Segments", icon=":material/bubble_chart:"),
    st.Page("app_pages/risk.py", title="Risk", icon=":material/target:"),
    st.Page("app_pages/strategy.py", title="Strategy", icon=":material/checklist:"),
    st.Page("app_pages/score_new.py", title="Score new borrowers", icon=":material/upload_file:"),
    st.Page("app_pages/measure.py", title="Measure a plan", icon=":material/query_stats:"),
]

def sidebar() -> None:
    """The loaded file and the method; locals, so the last run's file is not kept by the script's module."""
    with st.sidebar:
        st.subheader("Loaded data")
        source = state.source()
        st.text(source.name)
        try:
            loaded = state.portfolio()
            st.text(f"{loaded.info.rows:,} rows × {loaded.info.columns} columns")
            if not loaded.report.ok:
                excluded = state.choices().exclude_invalid
                verb = "excluded" if excluded else "need attention on the Data page"
                st.warning(f"{len(loaded.report.invalid_rows):,} invalid rows {verb}.")
        except RecoveryError as error:  # a bad upload must not break navigation
            st.error(plain(error))
        st.divider()
        presets = {"recommended": "Recommended (learns real outcomes)", "seed": "Notebook (seed) method"}
        st.radio("Method", list(presets), format_func=presets.get,
                 index=list(presets).index(state.config().preset), key="preset_choice",
                 on_change=lambda: state.switch_preset(st.session_state["preset_choice"]))


sidebar()

said = state.notice()
if said:
    st.info(plain(said), icon=":material/restart_alt:")
st.navigation(PAGES).run()
