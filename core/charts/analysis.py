"""Charts of the analysis (segments, risk model, strategies), drawn from the small report tables."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.charts.explore import field_label, hover_name, layout, plain_label
from core.display import PALETTE, STRATEGY_COLOURS, share
from core.pipeline import RecoveryResult


def k_choice(diagnostics: pd.DataFrame) -> go.Figure:
    """Silhouette (higher is better) and inertia (look for the elbow) for each k."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=diagnostics["k"], y=diagnostics["silhouette"], name="Silhouette",
                             mode="lines+markers"), secondary_y=False)
    fig.add_trace(go.Scatter(x=diagnostics["k"], y=diagnostics["inertia"], name="Inertia",
                             mode="lines+markers", line={"dash": "dot"}), secondary_y=True)
    fig.update_yaxes(title_text="Silhouette (higher = better separated)", secondary_y=False)
    fig.update_yaxes(title_text="Inertia (look for the elbow)", secondary_y=True)
    return layout(fig, "How many segments?", xaxis="Number of segments (k)")


def segment_sizes(result: RecoveryResult) -> go.Figure:
    """Borrowers per segment, with the not-fully-recovered rate when the file has outcomes."""
    profile = result.segments.profile
    names = [plain_label(n) for n in profile["Segment"]]
    fig = go.Figure(go.Bar(x=names, y=profile["Borrowers"], text=profile["Borrowers"], texttemplate="%{text:,}",
                           textposition="outside", marker_color=PALETTE[: len(names)], name="Borrowers"))
    fig.update_yaxes(tickformat=",")
    # the file's one outcome: the tutorial's status rate, else the bad-outcome rate of its own outcome
    rate = next((r for r in ("Not fully recovered rate", "Bad-outcome rate") if r in profile), None)
    if rate is not None:
        fig.add_trace(go.Scatter(x=names, y=profile[rate], yaxis="y2",
                                 mode="markers", marker={"size": 12, "color": "black", "symbol": "diamond"},
                                 name=rate))
        fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%",
                                  "range": [0, 1.05], "dtick": 0.25, "showgrid": False,
                                  "title": {"text": rate}},
                          legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    return layout(fig, "Segment sizes", xaxis="Segment", yaxis="Borrowers")


def roc_curve(result: RecoveryResult) -> go.Figure:
    """Out-of-fold ROC curve against the diagonal of a random score."""
    roc = result.risk.roc
    auc = result.risk.metrics.set_index("metric").loc["roc_auc", "value"]
    fig = go.Figure([
        go.Scatter(x=roc["false_positive_rate"], y=roc["true_positive_rate"], name=f"Model (AUC {auc:.3f})"),
        go.Scatter(x=[0, 1], y=[0, 1], name="Random", line={"dash": "dash", "color": "grey"}),
    ])
    return layout(fig, "ROC curve (out-of-fold)", xaxis="False positive rate",
                   yaxis="True positive rate")


def precision_recall(result: RecoveryResult) -> go.Figure:
    """Out-of-fold precision against recall, with the base rate as reference."""
    pr = result.risk.pr
    base = result.risk.gains["bads"].sum() / result.risk.gains["borrowers"].sum()
    fig = go.Figure([
        go.Scatter(x=pr["recall"], y=pr["precision"], name="Model"),
        go.Scatter(x=[0, 1], y=[base, base], name=f"Base rate {share(base)}",
                   line={"dash": "dash", "color": "grey"}),
    ])
    return layout(fig, "Precision–recall (out-of-fold)", xaxis="Recall", yaxis="Precision")


def calibration(result: RecoveryResult) -> go.Figure:
    """Mean score against the observed bad rate per score bin; on the diagonal is calibrated."""
    table = result.risk.calibration
    brier = result.risk.metrics.set_index("metric").loc["brier", "value"]
    fig = go.Figure([
        go.Scatter(x=table["mean_score"], y=table["observed_rate"], mode="lines+markers",
                   name="Model"),
        go.Scatter(x=[0, 1], y=[0, 1], name="Perfectly calibrated", line={"dash": "dash", "color": "grey"}),
    ])
    return layout(fig, "Calibration (reliability)", subtitle=f"Brier score {brier:.3f} (lower is better)",
                   xaxis="Mean risk score in bin", yaxis="Observed bad-outcome rate")


def gains(result: RecoveryResult) -> go.Figure:
    """Cumulative share of bad outcomes and of their outstanding caught, by score decile."""
    table = result.risk.gains
    fig = go.Figure([
        go.Bar(x=table["decile"], y=table["cum_share_of_bads"], name="Bad outcomes captured",
               text=[share(v) for v in table["cum_share_of_bads"]], textposition="outside"),
        go.Scatter(x=table["decile"], y=table["cum_share_of_bad_outstanding"], mode="lines+markers",
                   name="Outstanding of bad outcomes captured"),
        go.Scatter(x=table["decile"], y=table["decile"] / 10, name="Random order",
                   line={"dash": "dash", "color": "grey"}),
    ])
    fig.update_yaxes(tickformat=".0%", range=[0, 1.1])
    return layout(fig, "Gains by score decile", subtitle="Decile 1 = the riskiest 10% of borrowers",
                   xaxis="Score decile", yaxis="Cumulative share captured")


def importance(result: RecoveryResult) -> go.Figure:
    """Permutation importance on held-out folds, largest at the top."""
    table = result.risk.importance.iloc[::-1]
    columns = list(result.scored.columns)
    fig = go.Figure(go.Bar(x=table["importance"], y=[field_label(f, columns) for f in table["field"]], orientation="h",
                           customdata=[hover_name(f, columns) for f in table["field"]],
                           hovertemplate="%{customdata}: ROC-AUC drop %{x:.3f}<extra></extra>",
                           error_x={"type": "data", "array": table["fold_std"]}))
    fig.update_layout(height=max(320, 28 * len(table)))
    return layout(fig, "What drives the score", subtitle="Drop in ROC-AUC when the field is shuffled",
                   xaxis="Importance (ROC-AUC drop)", yaxis="")


def confusion(result: RecoveryResult) -> go.Figure:
    """Confusion matrix at the high-risk threshold, as counts."""
    c = result.risk.confusion
    z = [[c["tn"], c["fp"]], [c["fn"], c["tp"]]]
    fig = go.Figure(go.Heatmap(z=z, x=["Predicted low risk", "Predicted high risk"],
                               y=["Actually good", "Actually bad"], text=z, texttemplate="%{text}",
                               colorscale="Blues", showscale=False))
    fig.update_yaxes(autorange="reversed")
    return layout(fig, f"Confusion matrix (score > {result.config.flag_threshold:.2f})")


def _wrap(text: str, width: int = 24) -> str:
    """Break a long label into lines so axis labels stay horizontal."""
    lines, line = [], ""
    for word in plain_label(text).split():
        if line and len(line) + len(word) >= width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


def strategy_mix(result: RecoveryResult) -> go.Figure:
    """Borrowers and outstanding per recovery strategy."""
    table = result.strategies.assign(**{"Recovery strategy": lambda t: t["Recovery strategy"].map(_wrap)})
    money = "Outstanding" in table
    fig = make_subplots(rows=1, cols=2 if money else 1,
                        subplot_titles=["Borrowers", "Outstanding"] if money else ["Borrowers"])
    colours = [STRATEGY_COLOURS[i % len(STRATEGY_COLOURS)] for i in range(len(table))]
    fig.add_trace(go.Bar(x=table["Recovery strategy"], y=table["Borrowers"], text=table["Borrowers"],
                         texttemplate="%{text:,}", textposition="outside", marker_color=colours, showlegend=False), 1, 1)
    fig.update_yaxes(tickformat=",", row=1, col=1)
    if money:
        fig.add_trace(go.Bar(x=table["Recovery strategy"], y=table["Outstanding"],
                             marker_color=colours, showlegend=False), 1, 2)
    return layout(fig, "Recovery strategies")


def capacity_frontier(curve: pd.DataFrame) -> go.Figure:
    """Expected net recovery of the optimised plan as the scarcest action's capacity grows."""
    action = curve["action"].iloc[0]
    fig = go.Figure(go.Scatter(x=curve["capacity"], y=curve["expected_net_recovery"], mode="lines+markers",
                               name="Optimised plan"))
    return layout(fig, f"What more '{_wrap(action, 40)}' cases would bring",
                  xaxis="Cases the team can take", yaxis="Expected net recovery")


def learned_effects(support: pd.DataFrame) -> go.Figure:
    """Each action's learned share recovered by risk band, with the 95% interval of its doubly robust estimate."""
    fig = go.Figure()
    for i, (action, rows) in enumerate(support.groupby("Action", sort=False)):
        rows = rows.sort_values("Risk band")
        low = (rows["Doubly robust share"] - rows["95% interval from"]).clip(lower=0)
        high = (rows["95% interval to"] - rows["Doubly robust share"]).clip(lower=0)
        fig.add_trace(go.Scatter(
            x=rows["Risk band"], y=rows["Doubly robust share"], mode="lines+markers", name=_wrap(str(action), 40),
            error_y={"type": "data", "symmetric": False, "array": high, "arrayminus": low},
            customdata=rows[["History rows with this action"]],
            hovertemplate="%{y:.0%} recovered · %{customdata[0]:,} history rows with this action",
            line={"color": STRATEGY_COLOURS[i % len(STRATEGY_COLOURS)]}))
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return layout(fig, "What each action recovers, by risk band (learned from history, 95% intervals)",
                  xaxis="Risk score band", yaxis="Share of the outstanding recovered")
