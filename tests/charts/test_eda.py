"""What an analyst sees on the Explore page: counts, quartiles, correlations, sampling notes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from core.charts import explore as eda
from core.data import kpis
from core.errors import RecoveryError

STATUSES = ["Fully Recovered", "Partially Recovered", "Written Off"]
HISTORIES = ["On-Time", "Delayed", "Missed"]


def portfolio(n: int, seed: int = 0) -> pd.DataFrame:
    """A synthetic portfolio with the columns the charts use."""
    rng = np.random.default_rng(seed)
    income = rng.uniform(2_000, 20_000, n)
    return pd.DataFrame({
        "Age": rng.integers(21, 70, n).astype("float64"),
        "Gender": pd.Series(rng.choice(["Male", "Female"], n), dtype="str"),
        "Monthly_Income": income,
        "Loan_Amount": income * rng.uniform(5, 30, n),
        "Interest_Rate": rng.uniform(5, 20, n),
        "Outstanding_Loan_Amount": rng.uniform(0, 100_000, n),
        "Num_Missed_Payments": rng.integers(0, 10, n).astype("float64"),
        "Days_Past_Due": rng.integers(0, 180, n).astype("float64"),
        "Payment_History": pd.Series(rng.choice(HISTORIES, n), dtype="str"),
        "Recovery_Status": pd.Series(rng.choice(STATUSES, n), dtype="str"),
        "Loan_Type": pd.Series(rng.choice(["Home", "Auto", "Personal", "Business"], n),
                               dtype="str"),
    })


def plotted_points(fig: go.Figure) -> int:
    """Number of x values the browser receives across all traces."""
    return sum(len(t.x) for t in fig.data if t.x is not None)


def subtitle(fig: go.Figure) -> str:
    """The figure's subtitle text, or empty."""
    sub = fig.layout.title.subtitle
    return (sub.text or "") if sub else ""


# --------------------------------------------------------------------------- KPIs


def test_kpis_are_exact_numbers():
    df = pd.DataFrame({
        "Outstanding_Loan_Amount": [100.0, 250.5, np.nan, 49.5],
        "Recovery_Status": pd.Series(["Fully Recovered", "Written Off", pd.NA, "Written Off"],
                                     dtype="str"),
        "Days_Past_Due": [10.0, 20.0, 30.0, np.nan],
    })
    assert kpis(df) == {
        "borrowers": 4,
        "total_outstanding": 400.0,
        "share_fully_recovered": pytest.approx(1 / 3),
        "share_partially_recovered": 0.0,
        "share_written_off": pytest.approx(2 / 3),
        "avg_days_past_due": 20.0,
        "share_bad": None,
    }


def test_kpis_are_none_for_absent_columns():
    k = kpis(pd.DataFrame({"Age": [30.0, 40.0]}))
    assert k["borrowers"] == 2
    assert k["total_outstanding"] is None
    assert k["share_written_off"] is None and k["share_fully_recovered"] is None
    assert k["avg_days_past_due"] is None


# --------------------------------------------------------------------------- bars


def test_category_bars_equal_value_counts_in_schema_order_with_missing_last():
    status = pd.Series(["Written Off", "Fully Recovered", "Written Off", pd.NA, "Written Off"],
                       dtype="str")
    fig = eda.category_distribution(pd.DataFrame({"Recovery_Status": status}), "Recovery_Status")
    bar = fig.data[0]
    assert list(bar.x) == ["Fully Recovered", "Written Off", "(missing)"]
    assert list(bar.y) == [1, 3, 1]
    assert bar.textposition == "outside"
    assert fig.layout.xaxis.title.text == "Recovery status"
    assert fig.layout.template == pio.templates["plotly_white"]


def test_category_bars_use_status_colours():
    df = pd.DataFrame({"Recovery_Status": pd.Series(STATUSES, dtype="str")})
    bar = eda.category_distribution(df, "Recovery_Status").data[0]
    assert list(bar.marker.color) == [eda.STATUS_COLOURS[s] for s in STATUSES]


def test_every_notebook_category_chart_matches_value_counts():
    df = portfolio(2_000)
    for column in ("Gender", "Loan_Type", "Payment_History", "Recovery_Status"):
        bar = eda.category_distribution(df, column).data[0]
        assert dict(zip(bar.x, bar.y)) == df[column].value_counts().to_dict()


def test_uploaded_values_are_shown_as_text_not_html():
    df = pd.DataFrame({"Loan_Type": pd.Series(["<b>Home</b>", "Auto"], dtype="str")})
    bar = eda.category_distribution(df, "Loan_Type").data[0]
    assert "&lt;b&gt;Home&lt;/b&gt;" in bar.x
    assert not any("<" in x for x in bar.x)


def test_many_distinct_values_fold_into_other():
    df = pd.DataFrame({"Loan_Type": pd.Series([f"v{i}" for i in range(100)], dtype="str")})
    bar = eda.category_distribution(df, "Loan_Type").data[0]
    assert len(bar.x) == eda.MAX_CATEGORIES
    assert bar.x[-1] == "(other)" and sum(bar.y) == 100


def test_payment_history_by_recovery_matches_crosstab():
    df = portfolio(3_000)
    fig = eda.payment_history_vs_recovery(df)
    expected = pd.crosstab(df["Payment_History"], df["Recovery_Status"])
    assert fig.layout.barmode == "group"
    assert [t.name for t in fig.data] == STATUSES
    for trace in fig.data:
        assert list(trace.x) == HISTORIES
        assert list(trace.y) == expected.loc[HISTORIES, trace.name].tolist()
        assert trace.marker.color == eda.STATUS_COLOURS[trace.name]


# --------------------------------------------------------------------------- distributions


def test_missed_payments_box_quartiles_equal_numpy():
    df = portfolio(2_000)
    fig = eda.missed_payments_by_recovery(df)
    assert [t.name for t in fig.data] == STATUSES
    for trace in fig.data:
        values = df.loc[df["Recovery_Status"] == trace.name, "Num_Missed_Payments"].to_numpy()
        q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
        assert (trace.q1[0], trace.median[0], trace.q3[0]) == pytest.approx((q1, median, q3))
        assert trace.mean[0] == pytest.approx(values.mean())
        assert trace.boxpoints is False
        assert trace.marker.color == eda.STATUS_COLOURS[trace.name]


def test_box_whiskers_stop_at_last_point_within_one_and_a_half_iqr():
    stats = eda._box_stats(np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 100, np.nan]))
    assert stats["q1"] == pytest.approx(3.0) and stats["q3"] == pytest.approx(7.0)
    assert stats["lowerfence"] == 1.0
    assert stats["upperfence"] == 8.0  # 100 is an outlier
    assert stats["n"] == 9


def test_loan_amount_histogram_counts_every_borrower_in_30_bins():
    df = portfolio(5_000)
    df.loc[:9, "Loan_Amount"] = np.nan
    fig = eda.loan_amount_distribution(df)
    box, bars = fig.data
    assert isinstance(box, go.Box) and isinstance(bars, go.Bar)
    assert len(bars.x) == 30
    assert sum(bars.y) == 4_990
    counts, _ = np.histogram(df["Loan_Amount"].dropna(), bins=30)
    assert list(bars.y) == counts.tolist()
    assert box.median[0] == pytest.approx(df["Loan_Amount"].median())
    assert fig.layout.xaxis.matches == "x2"  # the box sits on the histogram's scale


def test_correlation_heatmap_is_symmetric_with_unit_diagonal():
    df = portfolio(1_000)
    df["Borrower_ID"] = pd.Series([f"B{i}" for i in range(len(df))], dtype="str")
    df["Unknown_Extra"] = 1.0
    heat = eda.correlation_heatmap(df).data[0]
    z = np.array(heat.z)
    assert z.shape == (7, 7)
    np.testing.assert_allclose(z, z.T)
    np.testing.assert_allclose(np.diag(z), 1.0)
    assert "Monthly income" in heat.x and "Unknown_Extra" not in heat.x
    assert heat.zmid == 0 and heat.text[0][0] == "1.00"


def test_constant_numeric_column_is_left_out_of_the_heatmap():
    df = portfolio(500)
    df["Interest_Rate"] = 10.0
    heat = eda.correlation_heatmap(df).data[0]
    assert "Interest rate (%)" not in heat.x
    assert not np.isnan(np.array(heat.z)).any()


# --------------------------------------------------------------------------- big files


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return portfolio(200_000, seed=1)


def test_big_file_ships_few_points_to_the_browser(big):
    figures = [eda.draw(big, name) for name, reason in eda.available_charts(big) if reason is None]
    figures.append(eda.segment_scatter(big.assign(Segment_Name=big["Loan_Type"])))
    assert len(figures) >= 10
    for fig in figures:
        assert plotted_points(fig) <= 6_000


@pytest.mark.parametrize("chart", [eda.loan_vs_income, eda.income_vs_loan_by_recovery])
def test_sampled_scatter_says_how_much_it_shows(big, chart):
    fig = chart(big)
    assert plotted_points(fig) == 5_000
    assert "showing 5,000 of 200,000" in subtitle(fig)


def test_sample_is_deterministic(big):
    first, second = eda.loan_vs_income(big), eda.loan_vs_income(big)
    assert list(first.data[0].x) == list(second.data[0].x)


def test_small_scatter_shows_everyone_and_says_so():
    fig = eda.loan_vs_income(portfolio(300))
    assert plotted_points(fig) == 300
    assert "all 300" in subtitle(fig)


def test_recovery_scatter_colours_each_status_consistently():
    fig = eda.income_vs_loan_by_recovery(portfolio(600))
    assert [t.name for t in fig.data] == STATUSES
    assert [t.marker.color for t in fig.data] == [eda.STATUS_COLOURS[s] for s in STATUSES]
    assert fig.layout.xaxis.title.text == "Monthly income"


def test_segment_scatter_has_one_trace_per_segment():
    df = portfolio(400)
    df["Segment_Name"] = np.where(df["Monthly_Income"] > 10_000, "High income", "Low income")
    fig = eda.segment_scatter(df)
    assert sorted(t.name for t in fig.data) == ["High income", "Low income"]
    assert fig.layout.legend.title.text == "Borrower segment"
    assert plotted_points(fig) == 400


# --------------------------------------------------------------------------- missing columns


@pytest.mark.parametrize("chart, column", [
    (eda.payment_history_vs_recovery, "Recovery_Status"),
    (eda.missed_payments_by_recovery, "Recovery_Status"),
    (eda.income_vs_loan_by_recovery, "Recovery_Status"),
    (eda.loan_amount_distribution, "Loan_Amount"),
    (eda.loan_vs_income, "Loan_Amount"),
    (lambda df: eda.category_distribution(df, "Recovery_Status"), "Recovery_Status"),
    (eda.segment_scatter, "Segment_Name"),
])
def test_missing_column_raises_recovery_error_naming_it(chart, column):
    df = portfolio(50).drop(columns=[column], errors="ignore")
    with pytest.raises(RecoveryError, match=column):
        chart(df)


def test_column_with_no_values_is_reported():
    df = portfolio(50)
    df["Loan_Amount"] = np.nan
    with pytest.raises(RecoveryError, match="Loan_Amount, which has no values"):
        eda.loan_amount_distribution(df)


def test_heatmap_needs_two_numeric_columns():
    with pytest.raises(RecoveryError, match="at least two numeric columns"):
        eda.correlation_heatmap(pd.DataFrame({"Age": [30.0, 40.0]}))


def test_available_charts_lists_skipped_charts_with_reasons():
    df = portfolio(100).drop(columns=["Recovery_Status"])
    reasons = dict(eda.available_charts(df))
    assert set(reasons) == set(eda.CHARTS)
    assert reasons["payment_history_vs_recovery"] == (
        "needs Recovery_Status, which this file does not have")
    assert reasons["category_distribution:Recovery_Status"] is not None
    assert reasons["category_distribution:Collection_Method"] == (
        "needs Collection_Method, which this file does not have")
    assert reasons["loan_amount_distribution"] is None
    both = dict(eda.available_charts(df.drop(columns=["Loan_Amount", "Monthly_Income"])))
    assert both["income_vs_loan_by_recovery"] == (
        "needs Monthly_Income, Loan_Amount and Recovery_Status, which this file does not have")
    assert reasons["correlation_heatmap"] is None
    for name, reason in reasons.items():
        if reason is None:
            assert isinstance(eda.draw(df, name), go.Figure)
        else:
            with pytest.raises(RecoveryError):
                eda.draw(df, name)


def test_every_chart_uses_the_house_template():
    df = portfolio(200)
    for name, _ in eda.available_charts(df):
        if name.endswith("Collection_Method") or name.endswith("Employment_Type"):
            continue
        fig = eda.draw(df, name)
        assert fig.layout.title.text == eda.chart_title(name)
        assert fig.layout.template == pio.templates["plotly_white"]


def test_a_segment_has_the_same_colour_in_the_size_chart_and_the_scatter(default_result):
    from core.charts import analysis as report_charts
    from core.charts.explore import segment_scatter

    sizes = report_charts.segment_sizes(default_result)
    bar = sizes.data[0]
    by_name = dict(zip(bar.x, bar.marker.color))
    scatter = segment_scatter(default_result.scored)
    for trace in scatter.data:
        assert trace.marker.color == by_name[trace.name], trace.name
