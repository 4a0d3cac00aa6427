"""Segments: groups of similar borrowers, named from what sets them apart."""

import streamlit as st

from core.charts import analysis as report_charts
from core.charts import explore
from core.data import BY_NAME, DERIVED_LABELS, label_in
from core.display import count, money_format
from core.model import ADVICE, OUTCOME_RATES, field_means, profile_summary
from core.pipeline import segment_fields, segment_options
from ui import state
from ui.render import plain, run_or_stop, show_notes

st.title("Borrower segments")
config = state.config()
st.markdown("Borrowers who look alike are grouped together, so each group can be worked the same way. "
            "Each segment comes with what it means for collections.")
with st.expander("How the segments are formed"):
    st.markdown(
        "K-Means on standardised numeric fields (the notebook's method: k = 4 on ten fields, 10 "
        "initialisations, random state 42; on files over 20,000 borrowers it is fitted on a seeded "
        "sample and everyone is placed in the nearest segment). "
        + ("Segment names are the notebook's, fixed by cluster number." if config.segment_naming == "seed"
           else "Each segment is named after the fields on which it differs most from the whole "
                "portfolio, so names stay right on any file and whatever the row order."))

prepared = run_or_stop(state.prepared)
options = segment_options(prepared)
used, _ = run_or_stop(lambda: segment_fields(prepared, config))
left, right = st.columns([1, 2])
k = left.slider("Number of segments (k)", 2, 8, config.n_segments)
# pills wrap onto more lines: every chosen field stays readable (a multiselect cuts them off)
fields = right.pills("Fields to segment on", options, selection_mode="multi",
                     default=[f for f in used if f in options],
                     format_func=lambda f: label_in(f, prepared.features.columns))
if k != config.n_segments or tuple(fields) != used:
    state.set_config(run_or_stop(lambda: config.with_(n_segments=k, segment_features=tuple(fields))))
    st.rerun()

st.caption("Not sure how many segments? Try k = 2 … 8 and compare silhouette (how well separated "
           "the segments are, higher is better) and inertia (how tight they are; it always falls as "
           "k grows, so look for the bend). It fits seven segmentations, so it runs only when asked.")
if state.k_diagnostics_ready() or st.button("Help me choose k", icon=":material/insights:"):
    st.plotly_chart(report_charts.k_choice(run_or_stop(state.k_diagnostics)), width="stretch")

result = run_or_stop(state.result)
show_notes(result.notes, state.excluded_rows())
st.plotly_chart(report_charts.segment_sizes(result), width="stretch")
st.subheader("What each segment means for collections")
profile = result.segments.profile
st.markdown("\n".join(f"- **{plain(name)}** ({count(n)} borrowers): {plain(advice)}"
                      for name, n, advice in zip(profile["Segment"], profile["Borrowers"], profile[ADVICE])))
st.subheader("Segment profiles")
rates = [c for c in OUTCOME_RATES if c in profile.columns]
st.caption("Size and money per segment" + (", with each segment's actual outcome rates." if rates else "."))
st.dataframe(profile_summary(profile).rename(columns={"Borrower_Segment": "No."}), hide_index=True, width="stretch",
             column_config={
                 "Borrowers": st.column_config.NumberColumn(format="%,d"),
                 "Total outstanding": st.column_config.NumberColumn(format=money_format(config.currency)),
                 **{c: st.column_config.NumberColumn(format="percent") for c in ("Share of borrowers", *rates)}})
st.caption("The typical borrower of each segment: the mean of each segmentation field, in the file's own units.")
means = field_means(result.segments, config.currency)
originals = list(result.segments.features)
if any(name != original and original not in BY_NAME and original not in DERIVED_LABELS
       for name, original in zip(means["Field"], originals)):
    # the file's own headers beside their readable labels: downloads and settings use these
    means.insert(1, "Column in the file", originals)
st.dataframe(means, hide_index=True, width="stretch", column_config={
    "Field": st.column_config.TextColumn(help="Readable label of the field; its column in your file is beside it."),
    **{c: st.column_config.TextColumn(alignment="right") for c in means.columns[1:] if c != "Column in the file"}})
if len(result.segments.features) >= 2:
    features = state.prepared().features
    st.plotly_chart(explore.segment_scatter(result.scored.assign(**{f: features[f] for f in result.segments.features}),
                                    fields=result.segments.features), width="stretch")
