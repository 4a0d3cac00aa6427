"""Drift charts: a bar per field (PSI, coloured by band) and one field's shares against training."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.charts.explore import layout, plain_label
from core.serve import drift as bands

BAND_COLOURS = {bands.STABLE: "#2e9e44", bands.WATCH: "#f0a202", bands.ACT: "#d62728"}


def drift_bars(table: pd.DataFrame) -> go.Figure:
    """PSI of each field and the score, worst first, with the watch and act lines."""
    # one field far gone must not squash the others: the axis stops at 1 and the bar says its value
    right = max(0.4, min(float(table["psi"].max()) * 1.15 if len(table) else 0.4, 1.0))
    fig = go.Figure(go.Bar(
        x=table["psi"].clip(upper=right), y=[plain_label(v) for v in table["label"]], orientation="h",
        marker_color=[BAND_COLOURS[b] for b in table["band"]],
        text=[f"{p:.2f} {b}" for p, b in zip(table["psi"], table["band"])], textposition="auto"))
    for value, name, where in ((bands.WATCH_FROM, "watch from 0.10", "top left"), (bands.ACT_FROM, "act above 0.25", "top right")):
        fig.add_vline(x=value, line_dash="dot", annotation_text=name, annotation_position=where)
    fig.update_xaxes(range=[0, right])
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=max(300, 26 * len(table) + 120), showlegend=False)
    return layout(fig, "How far each field has moved since training", xaxis="Population Stability Index")


def drift_shares(shares: pd.DataFrame, field_label: str) -> go.Figure:
    """Share of borrowers in each training bin: training beside the new file."""
    bins = [plain_label(b) for b in shares["bin"]]
    fig = go.Figure([go.Bar(x=bins, y=shares["training"], name="Training"),
                     go.Bar(x=bins, y=shares["new file"], name="New file")])
    fig.update_layout(barmode="group", yaxis_tickformat=".0%")
    return layout(fig, f"{plain_label(field_label)}: new file against training",
                  xaxis="Bins of the training file", yaxis="Share of borrowers")
