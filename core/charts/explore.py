"""Exploratory charts of a loan portfolio: DataFrame in, plotly Figure out.

Every chart aggregates on the server (value counts, histogram bins, box quartiles,
crosstabs) or draws a seeded sample, so a million-row upload never ships a million
points to the browser. Nothing here imports streamlit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.data import RATIOS, ColumnRoles, label_in, lower_first, readable, schema
from core.data import numeric_values as _numeric
from core.display import MISSING_COLOUR, PALETTE, SINGLE_COLOUR, STATUS_COLOURS, share
from core.errors import RecoveryError

TEMPLATE = "plotly_white"
MISSING = "(missing)"
OTHER = "(other)"
DEFAULT_MAX_POINTS = 5000
DEFAULT_SEED = 0
HIST_BINS = 30
MAX_CATEGORIES = 30

# The notebook's six categorical distributions, in its order.
CATEGORY_CHARTS: tuple[str, ...] = (
    "Gender", "Employment_Type", "Loan_Type", "Payment_History", "Recovery_Status",
    "Collection_Method",
)


# --------------------------------------------------------------------------- helpers


def plain_label(text: object) -> str:
    """Render an uploaded value as plain text: plotly interprets a subset of HTML in labels."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def field_label(name: str, columns: Sequence[str] = ()) -> str:
    """A column's readable label as plain text (unique among ``columns``): a header never becomes a link or styling."""
    return plain_label(label_in(name, columns) if len(columns) else readable(name))


def hover_name(name: str, columns: Sequence[str] = ()) -> str:
    """A column's label for a hover box, the file's own header beside it when it reads differently."""
    shown = field_label(name, columns)
    return shown if shown == plain_label(name) else f"{shown} ({plain_label(name)})"


def _labelled(series: pd.Series) -> pd.Series:
    """Category values as plain strings, with missing shown as MISSING."""
    return series.astype("str").fillna(MISSING)


def _category_order(values: Sequence[str], column: str | None = None) -> list[str]:
    """Schema order for known values, then the rest sorted, then MISSING last."""
    present = set(values)
    allowed = schema.BY_NAME[column].allowed if column in schema.BY_NAME else ()
    head = [v for v in allowed if v in present]
    tail = sorted(present - set(allowed) - {MISSING, OTHER}, key=_natural_key)
    extras = [v for v in (OTHER, MISSING) if v in present]
    return head + tail + extras


def _natural_key(value: str) -> tuple[int, float, str]:
    """Sort numeric-looking labels (segment ids) numerically, the rest alphabetically."""
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def _colour_map(keys: Sequence[str]) -> dict[str, str]:
    """A colour per key: status colours where known, grey for missing, palette otherwise."""
    colours: dict[str, str] = {}
    spare = iter(PALETTE * (len(keys) // len(PALETTE) + 1))
    for key in keys:
        if key in STATUS_COLOURS:
            colours[key] = STATUS_COLOURS[key]
        elif key in (MISSING, OTHER):
            colours[key] = MISSING_COLOUR
        else:
            colours[key] = next(spare)
    return colours


def _sample(df: pd.DataFrame, max_points: int, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """At most ``max_points`` rows, drawn reproducibly when the frame is larger."""
    if max_points < 1:
        raise RecoveryError(f"max_points must be at least 1, got {max_points}.")
    if len(df) <= max_points:
        return df
    return df.sample(n=max_points, random_state=seed).sort_index()


def _showing(shown: int, total: int) -> str:
    """Subtitle telling the user how much of the portfolio a scatter shows."""
    if shown < total:
        return f"showing {shown:,} of {total:,} borrowers (random sample)"
    return f"showing all {total:,} borrowers"


def _box_stats(values: np.ndarray) -> dict[str, float]:
    """Tukey box statistics: quartiles, mean, and whiskers at the last points within 1.5 IQR."""
    values = values[~np.isnan(values)]
    if values.size == 0:
        raise RecoveryError("Cannot summarise an empty column.")
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    iqr = q3 - q1
    inside = values[(values >= q1 - 1.5 * iqr) & (values <= q3 + 1.5 * iqr)]
    return {
        "q1": float(q1), "median": float(median), "q3": float(q3),
        "lowerfence": float(inside.min()), "upperfence": float(inside.max()),
        "mean": float(values.mean()), "n": int(values.size),
    }


def layout(fig: go.Figure, title: str, subtitle: str | None = None, **axes: str) -> go.Figure:
    """Apply the house template, a title and axis titles."""
    title_spec: dict = {"text": title}
    if subtitle:
        title_spec["subtitle"] = {"text": subtitle}
    fig.update_layout(template=TEMPLATE, title=title_spec, **{
        f"{axis}_title_text": text for axis, text in axes.items()
    })
    return fig


# --------------------------------------------------------------------------- availability


@dataclass(frozen=True)
class Chart:
    """A chart the Explore page can draw, and the columns it cannot do without."""

    title: str
    requires: tuple[str, ...]
    draw: Callable[[pd.DataFrame], go.Figure]


def _join(names: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _missing_reason(df: pd.DataFrame, requires: Sequence[str]) -> str | None:
    """Why ``requires`` cannot be met by ``df``, or None if it can."""
    absent = [c for c in requires if c not in df.columns]
    if absent:
        return f"needs {_join(absent)}, which this file does not have"
    empty = [c for c in requires if df[c].notna().sum() == 0]
    if empty:
        verb = "has" if len(empty) == 1 else "have"
        return f"needs {_join(empty)}, which {verb} no values in this file"
    return None


def _correlation_columns(df: pd.DataFrame) -> list[str]:
    """Canonical numeric columns that vary, so that a correlation is defined."""
    present = [c for c in schema.NUMERIC_FIELDS if c in df.columns]
    numeric = df[present].select_dtypes(include="number")
    return [c for c in numeric.columns if numeric[c].nunique(dropna=True) > 1]


def _why_not(df: pd.DataFrame, name: str) -> str | None:
    """Plain reason chart ``name`` cannot be drawn from ``df``, or None."""
    if name == "correlation_heatmap":
        found = len(_correlation_columns(df))
        if found < 2:
            return f"needs at least two numeric columns with varying values; this file has {found}"
        return None
    return _missing_reason(df, CHARTS[name].requires)


def _require(df: pd.DataFrame, name: str) -> None:
    """Raise RecoveryError naming what is missing if chart ``name`` cannot be drawn."""
    reason = _why_not(df, name)
    if reason:
        raise RecoveryError(f"Cannot draw '{CHARTS[name].title}': {reason}.")


def _require_columns(df: pd.DataFrame, title: str, requires: Sequence[str]) -> None:
    """Raise RecoveryError naming the columns a chart outside CHARTS needs."""
    reason = _missing_reason(df, requires)
    if reason:
        raise RecoveryError(f"Cannot draw '{title}': {reason}.")


# --------------------------------------------------------------------------- KPIs


# --------------------------------------------------------------------------- charts


def correlation_heatmap(df: pd.DataFrame) -> go.Figure:
    """Correlation matrix of the numeric fields, coloured red-blue around zero."""
    _require(df, "correlation_heatmap")
    columns = _correlation_columns(df)
    corr = df[columns].corr().to_numpy()
    labels = [field_label(c, df.columns) for c in columns]
    originals = [[f"{hover_name(a, df.columns)} vs {hover_name(b, df.columns)}" for a in columns] for b in columns]
    fig = go.Figure(go.Heatmap(
        z=corr, x=labels, y=labels, colorscale="RdBu", zmid=0, zmin=-1, zmax=1,
        text=np.vectorize(lambda v: "" if np.isnan(v) else f"{v:.2f}")(corr), customdata=originals,
        texttemplate="%{text}", textfont={"size": 10}, hoverongaps=False,
        hovertemplate="<b>%{customdata}</b><br>Correlation: %{z:.3f}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(showgrid=False)
    return layout(fig, "Feature correlation matrix")


def _counts(series: pd.Series, column: str, max_categories: int = MAX_CATEGORIES) -> pd.Series:
    """Value counts in display order, missing as MISSING, the long tail folded into OTHER."""
    counts = _labelled(series).value_counts()
    if len(counts) > max_categories:
        # A free-text column would otherwise draw one bar per distinct value.
        keep = counts.drop(MISSING, errors="ignore").iloc[: max_categories - 1]
        rest = counts.drop(keep.index)
        tail = {OTHER: int(rest.drop(MISSING, errors="ignore").sum())}
        if MISSING in rest.index:
            tail[MISSING] = int(rest[MISSING])
        counts = pd.concat([keep, pd.Series(tail)])
    return counts.reindex(_category_order(list(counts.index), column))


def category_distribution(df: pd.DataFrame, column: str) -> go.Figure:
    """Bar chart of how many borrowers hold each value of a category column."""
    title = f"{field_label(column, df.columns)} distribution"
    _require_columns(df, title, [column])
    counts = _counts(df[column], column)
    colours = _colour_map(list(counts.index))
    x = [plain_label(v) for v in counts.index]
    fig = go.Figure(go.Bar(
        x=x, y=counts.to_numpy(), text=counts.to_numpy(), texttemplate="%{text:,}",
        textposition="outside", cliponaxis=False,
        marker_color=[colours[v] for v in counts.index],
        hovertemplate=f"{hover_name(column, df.columns)}: %{{x}}<br>Borrowers: %{{y:,}}<extra></extra>",
    ))
    fig.update_layout(showlegend=False)
    fig.update_xaxes(type="category")
    return layout(fig, title, xaxis=field_label(column, df.columns), yaxis="Borrowers")


def loan_amount_distribution(df: pd.DataFrame, bins: int = HIST_BINS) -> go.Figure:
    """Histogram of loan amounts in ``bins`` bins, with a box summary above it."""
    _require(df, "loan_amount_distribution")
    return numeric_distribution(df, "Loan_Amount", bins)


def numeric_distribution(df: pd.DataFrame, column: str, bins: int = HIST_BINS) -> go.Figure:
    """Histogram of any numeric field in ``bins`` bins (counted here, not in the browser), with a box above."""
    name = field_label(column, df.columns)
    values = _numeric(df, column).dropna().to_numpy()
    counts, edges = np.histogram(values, bins=bins)
    stats = _box_stats(values)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.2, 0.8],
                        vertical_spacing=0.03)
    fig.add_trace(go.Box(
        q1=[stats["q1"]], median=[stats["median"]], q3=[stats["q3"]],
        lowerfence=[stats["lowerfence"]], upperfence=[stats["upperfence"]], mean=[stats["mean"]],
        y=[name], orientation="h", boxpoints=False,
        marker_color=SINGLE_COLOUR, name="Summary", showlegend=False,
    ), row=1, col=1)
    fig.add_trace(go.Bar(
        x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges),
        customdata=np.column_stack([edges[:-1], edges[1:]]),
        marker_color=SINGLE_COLOUR, opacity=0.7, name="Borrowers", showlegend=False,
        hovertemplate=f"{hover_name(column, df.columns)}: %{{customdata[0]:,.0f}} – %{{customdata[1]:,.0f}}<br>"
                      "Borrowers: %{y:,}<extra></extra>",
    ), row=2, col=1)
    fig.update_yaxes(showticklabels=False, row=1, col=1)
    fig.update_layout(bargap=0.02)
    fig.update_xaxes(title_text=name, row=2, col=1)
    fig.update_yaxes(title_text="Borrowers", row=2, col=1)
    return layout(fig, f"{name} distribution", subtitle=f"{stats['n']:,} borrowers in {bins} bins")


def outcome_rate_by_category(df: pd.DataFrame, column: str, y: np.ndarray) -> go.Figure:
    """Share of borrowers with a bad outcome per value of a category field, with how many hold each value."""
    frame = pd.DataFrame({"value": _labelled(df[column]).to_numpy(), "bad": y}).dropna(subset=["bad"])
    grouped = frame.groupby("value", sort=False)["bad"].agg(["mean", "size"])
    order = [v for v in _counts(df[column], column).index if v in grouped.index]
    grouped = grouped.reindex(order)
    name = field_label(column, df.columns)
    fig = go.Figure(go.Bar(
        x=[plain_label(v) for v in grouped.index], y=grouped["mean"].to_numpy(),
        text=[f"{share(m)} of {n:,}" for m, n in zip(grouped["mean"], grouped["size"])], textposition="outside",
        cliponaxis=False, marker_color=SINGLE_COLOUR,
        hovertemplate=f"{hover_name(column, df.columns)}: %{{x}}<br>Bad outcome: %{{y:.1%}}<extra></extra>",
    ))
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return layout(fig, f"Bad-outcome rate by {lower_first(name)}", xaxis=name, yaxis="Bad-outcome rate")


def field_charts(features: pd.DataFrame, roles: ColumnRoles, top: int = 3) -> list[tuple[str, Callable[[], go.Figure]]]:
    """For a file unlike the tutorial's: the outcome, its most telling numeric and category fields, and rates."""
    outcome = roles.outcome
    own = [c for c in (*roles.numeric, *roles.categorical) if c not in schema.BY_NAME and c not in RATIOS]
    if not own and (outcome is None or outcome.canonical):
        return []
    charts: list[tuple[str, Callable[[], go.Figure]]] = []
    y = None if outcome is None else outcome.y
    if outcome is not None and not outcome.canonical:
        bad = pd.Series(np.where(np.isnan(y), None, np.where(y == 1, "Bad", "Good")), index=features.index,
                        name="Outcome")
        charts.append(("Outcome", lambda: category_distribution(pd.DataFrame({outcome.column: bad}), outcome.column)))
    learnable = bool(roles.field_auc)

    def telling(names: tuple[str, ...]) -> list[str]:
        # ranked by how much each alone says about the outcome, measured once when the roles were given
        if not learnable:
            return list(names[:top])
        return sorted(names, key=lambda c: -abs(roles.field_auc.get(c, 0.5) - 0.5))[:top]

    for column in telling(roles.numeric):
        charts.append((f"{label_in(column, features.columns)} distribution",
                       lambda c=column: numeric_distribution(features, c)))
    for column in telling(roles.categorical):
        charts.append((f"{label_in(column, features.columns)} distribution",
                       lambda c=column: category_distribution(features, c)))
        if learnable:
            charts.append((f"Bad-outcome rate by {lower_first(label_in(column, features.columns))}", lambda c=column: outcome_rate_by_category(features, c, y)))
    return charts


def _xy_sample(df: pd.DataFrame, x: str, y: str, extra: Sequence[str], max_points: int
               ) -> tuple[pd.DataFrame, str]:
    """Rows with both coordinates, sampled down to ``max_points``, and the 'showing' text."""
    plottable = pd.DataFrame({x: _numeric(df, x), y: _numeric(df, y)})
    for column in extra:
        plottable[column] = df[column]
    plottable = plottable.dropna(subset=[x, y])
    shown = _sample(plottable, max_points)
    return shown, _showing(len(shown), len(plottable))


def _grouped_scatter(shown: pd.DataFrame, x: str, y: str, group: str | None,
                     order_column: str | None = None, order: list[str] | None = None) -> list[go.Scatter]:
    """One marker trace per group value (or one trace), hover showing both labelled values."""
    hover = (f"{hover_name(x, shown.columns)}: %{{x:,.0f}}<br>{hover_name(y, shown.columns)}: %{{y:,.0f}}"
             "<extra>%{fullData.name}</extra>")
    if group is None:
        return [go.Scatter(x=shown[x].to_numpy(), y=shown[y].to_numpy(), mode="markers",
                           marker={"color": SINGLE_COLOUR, "opacity": 0.6}, name="Borrowers",
                           hovertemplate=hover)]
    groups = _labelled(shown[group])
    present = groups.unique().tolist()
    order = ([g for g in order if g in present] if order is not None
             else _category_order(present, order_column))
    colours = _colour_map(order)
    traces = []
    for value in order:
        part = shown[(groups == value).to_numpy()]
        traces.append(go.Scatter(
            x=part[x].to_numpy(), y=part[y].to_numpy(), mode="markers", name=plain_label(value),
            marker={"color": colours[value], "opacity": 0.6}, hovertemplate=hover,
        ))
    return traces


def _scatter(df: pd.DataFrame, x: str, y: str, title: str, max_points: int,
             group: str | None = None, order_column: str | None = None,
             legend_title: str | None = None, order: list[str] | None = None) -> go.Figure:
    """Sampled scatter of ``y`` against ``x``, optionally coloured by ``group``."""
    shown, subtitle = _xy_sample(df, x, y, [group] if group else [], max_points)
    fig = go.Figure(_grouped_scatter(shown, x, y, group, order_column, order))
    if group:
        fig.update_layout(legend_title_text=plain_label(legend_title) if legend_title else field_label(group, df.columns))
    return layout(fig, title, subtitle=subtitle, xaxis=field_label(x, df.columns), yaxis=field_label(y, df.columns))


def loan_vs_income(df: pd.DataFrame, max_points: int = DEFAULT_MAX_POINTS) -> go.Figure:
    """Scatter of monthly income against loan amount, on a seeded sample when large."""
    _require(df, "loan_vs_income")
    return _scatter(df, "Loan_Amount", "Monthly_Income", "Loan amount and monthly income",
                    max_points)


def payment_history_vs_recovery(df: pd.DataFrame) -> go.Figure:
    """Grouped bars: borrowers per payment history, split by recovery status."""
    _require(df, "payment_history_vs_recovery")
    table = pd.crosstab(_labelled(df["Payment_History"]), _labelled(df[schema.OUTCOME]))
    rows = _category_order(list(table.index), "Payment_History")
    statuses = _category_order(list(table.columns), schema.OUTCOME)
    table = table.reindex(index=rows, columns=statuses, fill_value=0)
    colours = _colour_map(statuses)
    fig = go.Figure([
        go.Bar(x=[plain_label(r) for r in rows], y=table[s].to_numpy(), name=plain_label(s),
               marker_color=colours[s], text=table[s].to_numpy(), texttemplate="%{text:,}",
               textposition="outside", cliponaxis=False,
               hovertemplate="%{x}<br>%{fullData.name}: %{y:,}<extra></extra>")
        for s in statuses
    ])
    fig.update_layout(barmode="group", legend_title_text=field_label(schema.OUTCOME))
    fig.update_xaxes(type="category")
    return layout(fig, "Recovery status by payment history",
                   xaxis=field_label("Payment_History"), yaxis="Borrowers")


def missed_payments_by_recovery(df: pd.DataFrame) -> go.Figure:
    """Box summary of missed payments per recovery status, from precomputed quartiles."""
    _require(df, "missed_payments_by_recovery")
    missed = _numeric(df, "Num_Missed_Payments")
    statuses = _labelled(df[schema.OUTCOME])
    order = _category_order(statuses[missed.notna()].unique().tolist(), schema.OUTCOME)
    colours = _colour_map(order)
    fig = go.Figure()
    for status in order:
        stats = _box_stats(missed[(statuses == status).to_numpy()].to_numpy())
        fig.add_trace(go.Box(
            x=[plain_label(status)], q1=[stats["q1"]], median=[stats["median"]], q3=[stats["q3"]],
            lowerfence=[stats["lowerfence"]], upperfence=[stats["upperfence"]],
            mean=[stats["mean"]], boxpoints=False, name=plain_label(status),
            marker_color=colours[status], showlegend=False,
        ))
    fig.update_xaxes(type="category")
    return layout(fig, "Missed payments by recovery status",
                   xaxis=field_label(schema.OUTCOME), yaxis=field_label("Num_Missed_Payments"))


def income_vs_loan_by_recovery(df: pd.DataFrame,
                               max_points: int = DEFAULT_MAX_POINTS) -> go.Figure:
    """Scatter of loan amount against monthly income, coloured by recovery status."""
    _require(df, "income_vs_loan_by_recovery")
    return _scatter(df, "Monthly_Income", "Loan_Amount",
                    "Monthly income, loan amount and recovery status", max_points,
                    group=schema.OUTCOME, order_column=schema.OUTCOME)


def segment_scatter(df: pd.DataFrame, segment_column: str = "Segment_Name",
                    max_points: int = DEFAULT_MAX_POINTS, fields: Sequence[str] = ()) -> go.Figure:
    """Scatter of loan amount against monthly income (else the first two segment fields), coloured by segment."""
    x, y = "Monthly_Income", "Loan_Amount"
    if not {x, y} <= set(df.columns) and len(fields) >= 2:
        x, y = fields[0], fields[1]
    title = f"Borrower segments by {lower_first(field_label(x, df.columns))} and {lower_first(field_label(y, df.columns))}"
    _require_columns(df, title, [x, y, segment_column])
    # colours follow the segment number, as in the segment-size chart: one colour per segment everywhere
    order = None
    if "Borrower_Segment" in df.columns:
        pairs = df[["Borrower_Segment", segment_column]].drop_duplicates().sort_values("Borrower_Segment")
        order = [str(v) for v in pairs[segment_column]]
    return _scatter(df, x, y, title, max_points, group=segment_column, legend_title="Borrower segment", order=order)


CHARTS: dict[str, Chart] = {
    "correlation_heatmap": Chart(
        "Feature correlation matrix", (), correlation_heatmap),
    **{
        f"category_distribution:{column}": Chart(
            f"{schema.label(column)} distribution", (column,),
            lambda df, column=column: category_distribution(df, column))
        for column in CATEGORY_CHARTS
    },
    "loan_amount_distribution": Chart(
        "Loan amount distribution", ("Loan_Amount",), loan_amount_distribution),
    "loan_vs_income": Chart(
        "Loan amount and monthly income", ("Loan_Amount", "Monthly_Income"), loan_vs_income),
    "payment_history_vs_recovery": Chart(
        "Recovery status by payment history", ("Payment_History", schema.OUTCOME),
        payment_history_vs_recovery),
    "missed_payments_by_recovery": Chart(
        "Missed payments by recovery status", ("Num_Missed_Payments", schema.OUTCOME),
        missed_payments_by_recovery),
    "income_vs_loan_by_recovery": Chart(
        "Monthly income, loan amount and recovery status",
        ("Monthly_Income", "Loan_Amount", schema.OUTCOME), income_vs_loan_by_recovery),
}


def available_charts(df: pd.DataFrame) -> list[tuple[str, str | None]]:
    """Each chart in CHARTS with None if it can be drawn, else a plain reason it was skipped."""
    return [(name, _why_not(df, name)) for name in CHARTS]


def chart_title(name: str) -> str:
    """Human title of chart ``name`` from CHARTS."""
    return CHARTS[name].title


def draw(df: pd.DataFrame, name: str) -> go.Figure:
    """Draw chart ``name`` from CHARTS."""
    return CHARTS[name].draw(df)
