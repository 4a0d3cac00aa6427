"""Strategy: a recovery strategy per borrower, what it covers, and the table to act on."""

import streamlit as st

from core.charts import analysis as report_charts
from core.decide import POLICIES, haircuts_from_table, planning_refused, why_chosen
from core.display import priced
from core.report import stakeholder_report, to_csv_bytes
from ui import state
from ui import strategy as page
from ui import worklist as tables
from ui.render import excel_download, plain, run_or_stop, show_notes, show_trust_warning

st.title("Recovery strategies")
config = state.config()
description = st.empty()  # filled once the settings below are read, so it never lags a rerun behind
page.seed_bands(config)
with st.expander("Adjust the bands and strategy names"):
    rule = st.radio("Put borrowers in the three strategies", (page.BY_SHARE, page.BY_CUTOFF), horizontal=True,
                    key=page.RULE_KEY)
    shares = cutoffs = None
    if rule == page.BY_SHARE:
        shares = st.slider("Legal notices / settlement offers: % of borrowers, riskiest first",
                           0, 100, format="%d%%", key=page.SHARES_KEY)
    else:
        cutoffs = st.slider("Settlement from / legal above", 0.0, 1.0, step=0.01, key=state.THRESHOLDS_KEY)
    labels = tuple(st.text_input(tier, key=f"{state.LABEL_KEY}{i}") for i, tier in enumerate(page.TIERS))
    config = run_or_stop(lambda: page.apply_bands(config, shares, cutoffs, labels))
page.seed_plan(config)
with st.expander("Plan with costs and team capacity", expanded=config.actions is not None):
    st.caption("Each action's cost per case, how many cases the team can take this period (empty = "
               "unlimited), and the share of the outstanding it recovers from a borrower with risk score "
               "0 and 1 (linear in between). The plan gives each borrower the action with the most "
               "expected net recovery (outstanding × recovery − cost) that capacity allows. The defaults "
               "are illustrative: replace them with your team's figures.")
    planning = st.toggle("Plan actions by expected net recovery", key=page.PLAN_ON_KEY)
    suggested, columns = run_or_stop(lambda: page.action_column_choices(config, planning))
    action_column = config.action_column
    if columns is not None:
        action_column = st.selectbox(
            "The history's action column (which action each borrower received)", columns,
            format_func=lambda c: (f"Suggested: {suggested}" if suggested else "None found") if c is None else c,
            key=f"{state.PLAN_KEY}action-column",
            help="An action whose row names one of this column's values as its method, with its recovery "
                 "figures left empty, takes what the history says that action achieves for each borrower.")
    methods = state.history_methods(action_column or suggested)
    if methods:
        st.caption(f"This file records what was done ({', '.join(methods)}) and what came back: leave an "
                   "action's recovery figures empty and name its method to learn them from the history, "
                   "adjusted for who received each action. Figures you type override the history.")
        if st.button("Link the actions to the history's methods", disabled=not planning,
                     icon=":material/link:"):
            page.link_actions(config, methods)
            st.rerun()
    edited = st.data_editor(
        page.action_editor_base(methods), num_rows="dynamic", hide_index=True,
        key=page.TABLE_KEY, width="stretch", disabled=not planning,
        column_config=tables.action_table_columns(config.currency, methods))
    left, right = st.columns(2)
    policy = left.radio("Policy", ["optimised", "thresholds"], format_func=POLICIES.get, horizontal=True,
                        key=f"{state.PLAN_KEY}policy", disabled=not planning)
    holdout = right.slider("Champion group kept on the notebook's rule (to measure the uplift)", 0, 50,
                           format="%d%%", key=f"{state.PLAN_KEY}holdout", disabled=not planning)
    salt = right.text_input("Holdout salt (with each loan ID, it decides who is in the champion group)",
                            key=f"{state.PLAN_KEY}salt", disabled=not planning)
    cuts = config.haircuts
    editable = run_or_stop(lambda: page.haircut_editor_base(config, planning))
    if editable is not None:
        edited_cuts = st.data_editor(
            editable, hide_index=True, disabled=["Loan type"], key=f"{state.PLAN_KEY}haircut-editor",
            column_config=tables.haircut_columns())
        cuts = haircuts_from_table(edited_cuts)
    config = run_or_stop(lambda: page.apply_plan(config, planning, edited, policy, holdout, salt, cuts,
                                                  action_column))
result = run_or_stop(state.result)
asked_to_plan = config.actions is not None
config = result.config  # what the analysis used: without an exposure, the action table is not applied
if asked_to_plan and config.actions is None:
    st.warning(plain(planning_refused()), icon=":material/payments:")
description.markdown(page.description(config))

learned = result.learned  # the plan's values learned from the file's history (None: typed figures only)
show_trust_warning(result.trust)
show_notes(page.shown_notes(result), state.excluded_rows())
summary = result.strategies
cols = st.columns(len(summary))
for col, row in zip(cols, summary.to_dict(orient="records")):
    col.metric(row["Recovery strategy"], f"{row['Borrowers']:,} borrowers", help=row["Recovery strategy"])
    if "Outstanding" in row:
        col.text(f"{priced(row['Outstanding'], config.currency)} outstanding")
st.plotly_chart(page.strategy_chart(result), width="stretch")
st.dataframe(summary, hide_index=True, width="stretch", column_config=tables.summary_columns(config.currency))

history = page.history_by_method(result) if config.actions is not None else None
if history is not None:
    with st.expander("What past collections say, by method and risk band"):
        st.warning("History is observational: methods were not assigned at random (legal notices went to "
                   "the hardest cases), so these shares describe the past, not what a method would do for "
                   "a given borrower. Use them to sanity-check the action table, not to fill it in.")
        st.dataframe(history, hide_index=True, width="stretch", column_config=tables.history_columns())

if not result.policies.empty:
    st.subheader("Policies compared at the same capacities")
    st.dataframe(result.policies, hide_index=True, width="stretch",
                 column_config=tables.policy_columns(config.currency))
    gap = result.assignment.get("gap_to_lp_bound", 0.0)
    st.caption("The optimised plan is exact (a linear programme solved with HiGHS)." if not gap else
               f"The optimised plan was found with prices on this large book: it is within {gap:.4%} of "
               "the best plan possible (the linear programme's bound).")
    if "Test_Group" in result.scored:
        held = int((result.scored["Test_Group"] == "champion").sum())
        st.caption(f"{held:,} borrowers (the champion group, drawn by a hash of the loan ID) keep the notebook's "
                   "thresholds; the rest follow the plan. Capacities are shared in proportion. Compare their "
                   "real recoveries later to measure what the plan adds.")
    if state.frontier_ready() or st.button("Show what more capacity would bring", icon=":material/trending_up:"):
        st.plotly_chart(report_charts.capacity_frontier(run_or_stop(state.frontier)), width="stretch")

if learned is not None:
    st.subheader("What the history says each action achieves")
    st.caption(f"Learned from the file's resolved borrowers: what came back ({learned.history.outcome}) under "
               f"each value of '{learned.history.action_column}', comparing like with like (each action's "
               "outcome model learns from the borrowers who received it; a second model reads who was likely "
               "to receive what under the old rule). The effect of an action is the share of the outstanding "
               "it is expected to recover from a borrower; the plan weighs it against the action's cost.")
    for message in learned.messages:
        st.warning(plain(message), icon=":material/help:")
    st.dataframe(learned.sources(), hide_index=True, width="stretch", column_config=tables.learned_source_columns())
    support, support_chart = page.learned_views(result)
    st.plotly_chart(support_chart, width="stretch")
    st.dataframe(support, hide_index=True, width="stretch", column_config=tables.learned_support_columns())
    st.caption("Per action and risk band: the learned share recovered, a doubly robust estimate with its 95% "
               "interval, how many history rows received the action, and the share of the band the history "
               "gave it a real chance (trust a band with few rows or a low learnable share less).")

st.subheader("Worklist")
st.caption("Action by action; within each, the most expected net recovery first." if config.actions is not None
           else "Most urgent strategy first, then the most outstanding at risk (risk score × outstanding).")
table = result.table  # the whole table is built only when a download is clicked
order = tuple(result.strategies["Recovery strategy"])
f1, f2, f3, f4 = st.columns(4)
shown_actions = f1.multiselect("Actions", order, default=list(order))
segment_names = sorted(result.segments.names.values())
shown_segments = f2.multiselect("Segments", segment_names, default=segment_names)
low_score, high_score = f3.slider("Risk score between", 0.0, 1.0, (0.0, 1.0), 0.05)
search = f4.text_input("Find a borrower or loan ID", placeholder="e.g. LN_1024")
matching, listed = tables.worklist(result, shown_actions, shown_segments, (low_score, high_score), search)
st.dataframe(listed, hide_index=True, width="stretch",
             column_config=tables.worklist_columns(listed.columns, config.currency))
st.caption(f"{matching:,} borrowers match; the first {min(matching, tables.WORKLIST_LIMIT):,} are listed.")
if config.actions is not None and len(listed):
    with st.expander("Why this action? One borrower's options"):
        pick = st.selectbox("Borrower (file row)", listed["File_Row"].tolist(),
                            format_func=lambda r: tables.borrower_label(result, r))
        one, options = tables.borrower_options(result, pick)
        st.text(f"Risk score {one['Risk_Score']:.2f} · segment {one['Segment_Name']} · {one['Risk_Reasons']}")
        st.dataframe(options, hide_index=True, width="stretch", column_config=tables.options_columns(config.currency))
        if learned is not None:
            st.caption("Expected share recovered: learned from the history for this borrower's fields (the spread "
                       "between the models learned on two halves of the history says how sure), or your typed "
                       "figures; an action the history never gave to borrowers like this one is not offered.")
        st.caption(why_chosen(options, one.get("Test_Group") == "champion"))
excluded = state.excluded_rows()
st.text(f"The download holds all {len(result.scored):,} analysed borrowers with their segment, risk score, "
        "strategy and reasons." + (f" {excluded:,} invalid row(s) were excluded; download them on "
                                    "the Data page." if excluded else ""))
c1, c2, c3 = st.columns(3)
# Files are built only when clicked: writing them takes seconds on large portfolios.
c1.download_button("Download CSV", lambda: to_csv_bytes(table(as_written=True)), file_name="recovery_strategies.csv",
                   mime="text/csv", type="primary")
about, largest = page.excel_about(result)
excel_download(c2, lambda: page.excel_sheets(result), "recovery_strategies.xlsx", "strategy-excel", config.currency,
               about, largest)
source = state.report_source()
c3.download_button("Download stakeholder report (HTML)", lambda: stakeholder_report(result, source),
                   file_name="recovery_report.html", mime="text/html",
                   help="One self-contained page to send after the demo: summary, segments, how far to trust "
                        "the score, the plan, data quality, and the file's fingerprint. Opens offline and prints.")
