"""Measure a plan: the month's outcomes against the plan's champion group."""

import streamlit as st

from core.decide import MEASUREMENT_MONEY, measure_download, measurement_table, outcome_choices, read_download
from core.display import money_format, priced, share
from core.report import measurement_report, to_csv_bytes
from ui import state
from ui.render import plain, run_or_stop

st.title("Measure a plan")
st.caption("When a planned month's outcomes are back, upload the plan's download (made on the Strategy page with "
           "an action table and a champion group) with a column added for what each borrower repaid. The champion "
           "group stayed on the notebook's rule, drawn by a hash of the loan ID rather than by risk, so the "
           "difference between what the two groups repaid is what the plan added, with a 95% interval for chance.")
upload = st.file_uploader("Plan download with outcomes (CSV or Excel)", type=["csv", "xlsx"], key="measure_upload")
if upload is None:
    st.info("Upload the plan's download with an outcome column to start.")
    st.stop()
plan = run_or_stop(lambda: read_download(upload.getvalue(), upload.name))
choices = outcome_choices(plan)
if not choices:
    st.error("The file has no column of amounts beside the plan's own: add what each borrower repaid.")
    st.stop()
outcome = st.selectbox("Column holding what each borrower repaid", choices)
actions, currency = state.config().actions, state.config().currency
net = st.toggle("Count each action's cost (the Strategy page's action table)", value=actions is not None,
                disabled=actions is None,
                help="Money is then net of each action's cost, as the plan's expected values are.")
measured = run_or_stop(lambda: measure_download(plan, outcome, actions if net else None))

verdict = measured.verdict(currency)
(st.success if measured.overall.money_low > 0 else st.warning if measured.overall.money_high < 0 else st.info)(
    plain(verdict))
champion, optimised = measured.groups
kind = "Net recovery" if measured.net else "Recovery"
c1, c2, c3 = st.columns(3)
c1.metric("Optimised plan: share recovered", share(optimised.share), help=f"{optimised.borrowers:,} borrowers")
c2.metric("Champion (notebook rule): share recovered", share(champion.share),
          help=f"{champion.borrowers:,} borrowers")
c3.metric(f"{kind} uplift per borrower", priced(measured.overall.money, currency),
          help=f"95% interval {priced(measured.overall.money_low, currency)} to "
               f"{priced(measured.overall.money_high, currency)}")
table = measurement_table(measured)
shares = ("Champion share", "Optimised share")
points = ("Share uplift (points)", "Share uplift 95% from", "Share uplift 95% to")
st.dataframe(table, hide_index=True, width="stretch", column_config={
    **{c: st.column_config.NumberColumn(format=money_format(currency)) for c in MEASUREMENT_MONEY},
    **{c: st.column_config.NumberColumn(format="percent") for c in (*shares, *points)},
    **{c: st.column_config.NumberColumn(format="%,d") for c in ("Champion borrowers", "Optimised borrowers")},
    "p-value": st.column_config.NumberColumn(format="%.3f")})
st.caption("One row for all borrowers, then one per action: both groups' borrowers, what they repaid"
           + (" net of the action's cost" if measured.net else "") + " and its share of the outstanding, and the "
           "optimised group's uplift with its 95% interval (Welch's for money, the delta method for the share). "
           "Where actions were given at random between the groups, these outcomes are the cleanest history to "
           "learn from next time.")
st.download_button("Download the measurement (CSV)", lambda: to_csv_bytes(table), file_name="plan_measurement.csv",
                   mime="text/csv")
st.download_button("Download the measurement report (HTML)",
                   lambda: measurement_report(measured, upload.name, upload.getvalue(), currency).encode("utf-8"),
                   file_name="plan_measurement.html", mime="text/html",
                   help="A self-contained page with the verdict, both groups and the uplift per action, for the "
                        "people who approved the plan.")
