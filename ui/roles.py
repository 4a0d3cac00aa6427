"""The Data page's roles section: what each column is used for, and the editor to change it."""

from __future__ import annotations

import streamlit as st

from core.data import NO_OUTCOME, Roles, outcome_columns, outcome_values, switchable
from core.errors import RecoveryError
from ui import state
from ui.render import plain, run_or_stop

CATEGORY, AMOUNT = "A status (category)", "An amount recovered"


def _outcome_editor(rows, current: Roles, used) -> Roles:
    """Widgets for the outcome: a status with its bad values, or an amount recovered and a share."""
    outcome = used.outcome
    is_amount = outcome is not None and outcome.amount
    kind = st.radio("The outcome is", [CATEGORY, AMOUNT], index=int(is_amount), horizontal=True)
    if kind == AMOUNT:
        table = used.table
        amounts = table.loc[table["Read as"].isin(["number", "amount"]), "Column"].astype("str").tolist()
        column = st.selectbox("Amount recovered", amounts,
                              index=amounts.index(outcome.column) if is_amount and outcome.column in amounts else 0)
        share = st.slider("Bad when less than this share of the outstanding amount is recovered", 0.05, 1.0,
                          float(outcome.bad_below if is_amount and outcome.bad_below else current.bad_below), 0.05,
                          format="%.2f")
        return Roles(recovered=column, bad_below=share, exclude=current.exclude, include=current.include)
    options = [NO_OUTCOME, *outcome_columns(rows)]
    chosen = outcome.column if outcome is not None and outcome.column in options else NO_OUTCOME
    column = st.selectbox("Outcome column", options, index=options.index(chosen))
    if column == NO_OUTCOME:
        return Roles(outcome=NO_OUTCOME, exclude=current.exclude, include=current.include)
    values = outcome_values(rows, column)
    default = [v for v in (outcome.bad if outcome is not None and outcome.column == column else ()) if v in values]
    bad = st.multiselect(f"Values of {column} that count as bad", values, default=default)
    return Roles(outcome=column, bad=tuple(bad), exclude=current.exclude, include=current.include)


def roles_section() -> None:
    """Show every column's role and why; let the user change the outcome and switch fields on or off."""
    st.subheader("What each column is used for")
    try:
        prepared = state.prepared()
    except RecoveryError as error:
        st.info(f"Shown once the file can be analysed: {plain(error)}", icon=":material/info:")
        return
    used = prepared.roles
    st.caption("Suggested from your headers and values. Identifier and exposure (the outstanding amount) are "
               "set in the column mapping above; change the outcome and the fields to learn from below.")
    st.dataframe(used.table, hide_index=True, width="stretch", column_config={
        "Why": st.column_config.TextColumn(width="large")})
    for note in used.notes:
        st.info(plain(note), icon=":material/info:")
    current = state.config().roles
    with st.expander("Change the roles"):
        with st.form("roles"):
            roles = _outcome_editor(prepared.rows, current, used)
            on, off = switchable(used)
            exclude = st.multiselect("Never learn from", on + [c for c in current.exclude if c not in on],
                                     default=list(current.exclude))
            include = st.multiselect("Learn from although switched off (protected, after delinquency, or flagged "
                                     "as leaking)", off + [c for c in current.include if c not in off],
                                     default=[c for c in current.include])
            if st.form_submit_button("Apply these roles"):
                new = Roles(roles.outcome, roles.bad, roles.recovered, roles.bad_below, tuple(exclude), tuple(include))
                state.set_config(run_or_stop(lambda: state.config().with_(roles=new)))
                st.rerun()
        if current != Roles() and st.button("Back to the suggested roles"):
            state.set_config(state.config().with_(roles=Roles()))
            st.rerun()
