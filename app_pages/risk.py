"""Risk: each borrower's probability of not being recovered, how far to trust it, and why."""

import streamlit as st

from core.charts import analysis as report_charts
from core.config import TARGET_LABELS
from core.data import COLLECTION_FIELDS, file_labels, readable
from core.display import money_format
from core.model import GAINS_HEADERS, MODEL_LABELS, comparison_view, readable_metrics
from core.model import METRIC_MEANINGS as MEANING
from ui import saved_models, state
from ui.render import plain, run_or_stop, show_notes, show_trust_warning

st.title("Recovery risk")
config = state.config()
seed = config.preset == "seed"

if not seed:
    c1, c2, c3 = st.columns(3)
    targets = ["not_fully_recovered", "written_off"]
    outcome = run_or_stop(state.prepared).roles.outcome
    if outcome is None or outcome.canonical:
        target = c1.selectbox("Predict", targets, index=targets.index(config.target)
                              if config.target in targets else 0, format_func=TARGET_LABELS.get,
                              help="Not fully recovered = partially recovered or written off.")
    else:  # the file's own outcome: what counts as bad is chosen on the Data page
        target = config.target
        c1.caption(f"Predicts: {plain(outcome.description)} (change it on the Data page).")
    models = [*MODEL_LABELS, "auto"]
    model = c2.selectbox("Model", models, index=models.index(config.model),
                         format_func=lambda m: "Best of the three by cross-validated ROC-AUC (slower)"
                         if m == "auto" else MODEL_LABELS[m])
    collection = c3.checkbox("Also learn from collection-stage fields", value=config.use_collection_fields,
                             help="Not recommended: see below.")
    if (target, model, collection) != (config.target, config.model, config.use_collection_fields):
        state.set_config(config.with_(target=target, model=model, use_collection_fields=collection))
        st.rerun()

result = run_or_stop(state.result)
risk = result.risk
show_trust_warning(result.trust)
if risk.ordering_note:  # a signal-free model whose calibration reversed or flattened it: no confident ranking
    st.warning(plain(risk.ordering_note), icon=":material/swap_vert:")
show_notes(result.notes, state.excluded_rows())
st.markdown(
    f"**What the score means:** {plain(risk.target_description)}. **Model:** {plain(risk.model_label)}"
    + (", probabilities calibrated (sigmoid)" if risk.calibrated else "") + ". "
    f"**Every borrower's score comes from a model that did not train on that borrower** "
    f"({risk.n_folds}-fold stratified cross-validation), so the figures below are what to expect "
    "on new borrowers."
)
learned_from = risk.numeric_features + risk.categorical_features
labels = file_labels(result.scored.columns)
used = [labels.get(f) or readable(f) for f in learned_from]
renamed = [f"{plain(name)}: {plain(f)}" for name, f in zip(used, learned_from) if name != f]
st.caption("Learns from: " + plain(", ".join(used)) + ".",
           help=("Columns in your file: " + "; ".join(renamed) + ".") if renamed else None)
if any(f in risk.excluded_features for f in COLLECTION_FIELDS):
    st.caption("Collection-stage fields (collection attempts, method, legal action) are left out: they "
               "are recorded during recovery, after the borrower is delinquent, so they leak the "
               "outcome and are unknown for a new case. Gender is never a model input.")

performance = result.performance_note is None
if not performance:  # a circular score: its metrics would measure the segments against themselves
    st.error(plain(result.performance_note), icon=":material/block:")
else:
    if risk.seed_split:
        split = risk.seed_split
        st.subheader("The notebook's evaluation (80/20 split)")
        c = st.columns(4)
        c[0].metric("Accuracy", f"{split['accuracy']:.3f}", help=MEANING["accuracy"])
        c[1].metric("Precision", f"{split['precision']:.3f}", help=MEANING["precision"])
        c[2].metric("ROC-AUC", f"{split['roc_auc']:.3f}", help=MEANING["roc_auc"])
        c[3].metric("Test rows", split["test_rows"])
        m = split["confusion"]
        st.text(f"Confusion matrix on the test split: [[{m['tn']} {m['fp']}] [{m['fn']} {m['tp']}]]")
        st.caption("The notebook's target is membership of a high-risk segment, which the model re-learns "
                   "from the same fields used to form the segments: high figures here do not mean the "
                   "model predicts actual recovery.")

    st.subheader("Out-of-fold performance")
    st.caption(f"Precision, recall, F1 and accuracy count a borrower as flagged when the score is above "
               f"{result.config.flag_threshold:.2f}.")
    st.dataframe(
        readable_metrics(risk.metrics), hide_index=True, width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%.3f")
                       for c in ("All borrowers", "Mean over folds", "Spread (std) over folds")},
    )
    st.subheader("Model comparison (same folds)")
    comparison = risk.comparison
    if comparison.empty and not seed:
        st.caption("The additive model is the default: each field adds its own effect to the score, so "
                   "every reason is exact and scoring stays fast at any size. Compare it with the "
                   "notebook's Random Forest and a logistic regression on this file:")
        if state.model_comparison_ready() or st.button("Compare the three models", icon=":material/compare_arrows:"):
            comparison = run_or_stop(state.model_comparison)
    if not comparison.empty:
        compared = comparison_view(comparison, risk.model)
        st.dataframe(compared, hide_index=True, width="stretch", column_config={
            c: st.column_config.NumberColumn(format="%.3f") for c in compared.columns[1:4]})
        st.caption("Each model is measured exactly as the score is: the same folds, the same calibration, "
                   "ROC-AUC over all borrowers' out-of-fold scores with the mean and spread over folds beside it.")
        if "borrowers_compared" in comparison and comparison["borrowers_compared"].iloc[0] < result.risk.scored_with_outcome:
            st.caption(f"Compared on a random sample of {comparison['borrowers_compared'].iloc[0]:,} borrowers.")
    elif seed:
        st.caption("The notebook's method uses its Random Forest; no comparison is made.")

    left, right = st.columns(2)
    left.plotly_chart(report_charts.roc_curve(result), width="stretch")
    right.plotly_chart(report_charts.precision_recall(result), width="stretch")
    left.plotly_chart(report_charts.calibration(result), width="stretch")
    right.plotly_chart(report_charts.gains(result), width="stretch")
    with st.expander("Gains and lift by score decile"):
        st.dataframe(risk.gains.rename(columns=GAINS_HEADERS), hide_index=True, width="stretch", column_config={
            **{c: st.column_config.NumberColumn(format="percent") for c in (
                "Bad-outcome rate", "Cumulative share of bad outcomes", "Cumulative share of their outstanding")},
            "Borrowers": st.column_config.NumberColumn(format="%,d"),
            "Bad outcomes": st.column_config.NumberColumn(format="%,d"),
            "Mean score": st.column_config.NumberColumn(format="%.2f"),
            "Lift": st.column_config.NumberColumn(format="%.2f×"),
            "Outstanding of bad outcomes": st.column_config.NumberColumn(format=money_format(config.currency))})
    with left:
        st.plotly_chart(report_charts.confusion(result), width="stretch")
        st.caption(f"Borrowers scoring above {result.config.flag_threshold:.2f} (the settlement threshold on the "
                   "Strategy page) are flagged high-risk. Bottom-left: bad outcomes the flag missed "
                   "(losses no one chased); top-right: good borrowers flagged (effort spent for nothing).")
    right.plotly_chart(report_charts.importance(result), width="stretch")

if not risk.fairness.empty:
    st.subheader("By protected attribute")
    st.caption("Protected attributes (gender, marital status, nationality …) are not model inputs unless you "
               "switch them on. Compare the share flagged high-risk with the actual bad-outcome rate: a fair "
               "score flags each group roughly in line with its outcomes.")
    st.dataframe(risk.fairness.assign(Attribute=risk.fairness["Attribute"].map(readable)), hide_index=True,
                 width="stretch", column_config={
        "Borrowers": st.column_config.NumberColumn(format="%,d"),
        **{c: st.column_config.NumberColumn(format="percent" if "Share" in c or "rate" in c else "%.2f")
           for c in risk.fairness.columns if c not in ("Attribute", "Group", "Borrowers")}})

st.subheader("Why each borrower scores as they do")
st.caption("Top three reasons per borrower: the fields that move this borrower's score the most "
           "when set to the portfolio's typical value (ratios built from a field, such as EMI-to-income, "
           "change with it). High-risk borrowers are explained by what raises their score, the others "
           "by what holds it down.")
why = result.scored[["Risk_Score", "Recovery_Strategy", "Risk_Reasons"]].sort_values(
    "Risk_Score", ascending=False).head(200).rename_axis("File row")
st.dataframe(why.rename(columns={"Risk_Score": "Risk score", "Recovery_Strategy": "Recovery strategy",
                                 "Risk_Reasons": "Why"}), width="stretch", column_config={
    "Risk score": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f"),
    "Why": st.column_config.TextColumn(width="large")})

st.subheader("Save this model")
st.caption("Save the model to score next month's borrowers without retraining (command line: "
           "`python -m core score NEW.csv --model MODEL.slr -o OUT.csv`, or the Score new borrowers page). "
           "It is fitted once more on every borrower with an outcome and calibrated on the out-of-fold "
           "scores above; the file also holds these settings, the metrics and the training file's profile.")
if saved_models.saved_model_ready() or st.button("Save this model", icon=":material/save:"):
    saved = run_or_stop(saved_models.saved_model)
    st.download_button("Download the model (.slr)", saved, file_name="recovery_model.slr",
                       mime="application/zip", icon=":material/download:")
