"""Borrower segments as an analyst sees them: sizes, profiles, names that mean something and stay put."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.schema import SEED_FEATURES, label
from core.errors import RecoveryError
from core.model import SEED_SEGMENT_NAMES, choose_k, field_means, fit_segments, profile_summary
from tests.notebook import NOTEBOOK_NAMES


@pytest.fixture(scope="module")
def segments(demo_frame):
    return fit_segments(demo_frame, SEED_FEATURES, 4)


def four_groups(n_per: int = 40, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Four obvious groups: long overdue, high income, large loans, high interest rate."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for g in range(4):
        rows.append(pd.DataFrame({
            "Monthly_Income": rng.normal(200_000 if g == 1 else 50_000, 3_000, n_per),
            "Loan_Amount": rng.normal(2_000_000 if g == 2 else 300_000, 20_000, n_per),
            "Days_Past_Due": rng.normal(150 if g == 0 else 5, 2, n_per).clip(0).round(),
            "Interest_Rate": rng.normal(18 if g == 3 else 8, 0.2, n_per),
        }))
        truth += [g] * n_per
    return pd.concat(rows, ignore_index=True), np.array(truth)


@pytest.mark.parametrize("k", [2, 4, 6])
def test_k_segments_gives_k_distinct_ids(demo_frame, k):
    seg = fit_segments(demo_frame, SEED_FEATURES, k)
    assert sorted(np.unique(seg.ids)) == list(range(k))
    assert len(seg.ids) == len(demo_frame)
    assert len(seg.names) == k


def test_profile_sizes_sum_to_rows_and_means_match_groupby(demo_frame, segments):
    profile = segments.profile.set_index("Borrower_Segment")
    assert profile["Borrowers"].sum() == len(demo_frame)
    assert profile["Share of borrowers"].sum() == pytest.approx(1.0)
    expected = demo_frame[list(SEED_FEATURES)].groupby(segments.ids).mean()
    for field in SEED_FEATURES:
        np.testing.assert_allclose(profile[label(field)].to_numpy(), expected[field].to_numpy())
    assert list(profile["Segment"]) == [segments.names[i] for i in profile.index]


def test_profile_reports_outcome_rates_per_segment(demo_frame, segments):
    profile = segments.profile.set_index("Borrower_Segment")
    bad = (demo_frame["Recovery_Status"] != "Fully Recovered").astype(float)
    np.testing.assert_allclose(
        profile["Not fully recovered rate"].to_numpy(), bad.groupby(segments.ids).mean().to_numpy()
    )
    assert profile["Written off rate"].between(0, 1).all()


def test_names_are_unique_and_non_empty(segments):
    names = list(segments.names.values())
    assert len(set(names)) == len(names)
    assert all(n.strip() for n in names)


def test_names_come_from_the_profile():
    df, truth = four_groups()
    seg = fit_segments(df, tuple(df.columns), 4)
    overdue = seg.names[int(np.bincount(seg.ids[truth == 0]).argmax())]
    rich = seg.names[int(np.bincount(seg.ids[truth == 1]).argmax())]
    big = seg.names[int(np.bincount(seg.ids[truth == 2]).argmax())]
    pricey = seg.names[int(np.bincount(seg.ids[truth == 3]).argmax())]
    assert "overdue" in overdue.lower()
    assert "high income" in rich.lower()
    assert "large loans" in big.lower()
    assert "high interest rate" in pricey.lower()


def test_segments_are_numbered_from_least_to_most_delinquent():
    df, truth = four_groups()
    seg = fit_segments(df, tuple(df.columns), 4)
    # the long-overdue group is the most delinquent, so it gets the highest id
    assert set(seg.ids[truth == 0]) == {3}


def test_shuffled_rows_keep_each_borrowers_segment_name(demo_frame, segments):
    shuffled = demo_frame.sample(frac=1, random_state=7)
    again = fit_segments(shuffled, SEED_FEATURES, 4)
    before = pd.Series(segments.name_of_each(), index=demo_frame["Borrower_ID"])
    after = pd.Series(again.name_of_each(), index=shuffled["Borrower_ID"]).reindex(before.index)
    assert (before == after).all()
    before_ids = pd.Series(segments.ids, index=demo_frame["Borrower_ID"])
    after_ids = pd.Series(again.ids, index=shuffled["Borrower_ID"]).reindex(before.index)
    assert (before_ids == after_ids).all()


def test_seed_naming_maps_ids_to_the_notebook_names(demo_frame):
    seg = fit_segments(demo_frame, SEED_FEATURES, 4, naming="seed")
    assert seg.names == NOTEBOOK_NAMES == SEED_SEGMENT_NAMES
    names = seg.name_of_each()
    for i, name in NOTEBOOK_NAMES.items():
        assert (names[seg.ids == i] == name).all()


def test_seed_naming_with_more_segments_numbers_the_extra_ones(demo_frame):
    seg = fit_segments(demo_frame, SEED_FEATURES, 5, naming="seed")
    assert seg.names[4] == "Segment 4"


def test_more_segments_than_rows_names_the_limit(demo_frame):
    with pytest.raises(RecoveryError, match=r"5 segments need at least 5 borrowers; the data has 4"):
        fit_segments(demo_frame.head(4), SEED_FEATURES, 5)


def test_more_segments_than_distinct_rows_names_the_limit(demo_frame):
    repeated = pd.concat([demo_frame.head(2)] * 10, ignore_index=True)
    with pytest.raises(RecoveryError, match=r"at least 3 distinct borrowers.*has 2"):
        fit_segments(repeated, SEED_FEATURES, 3)


def test_missing_segmentation_field_is_named(demo_frame):
    with pytest.raises(RecoveryError, match="Days_Past_Due"):
        fit_segments(demo_frame.drop(columns=["Days_Past_Due"]), SEED_FEATURES, 4)


def test_text_segmentation_field_is_named(demo_frame):
    with pytest.raises(RecoveryError, match="Loan_Type"):
        fit_segments(demo_frame, ("Monthly_Income", "Loan_Type"), 3)


def test_missing_values_are_imputed_and_counted(demo_frame):
    df = demo_frame.copy()
    df.loc[df.index[:7], "Monthly_Income"] = np.nan
    seg = fit_segments(df, SEED_FEATURES, 4)
    assert seg.imputed == {"Monthly_Income": 7}
    assert len(seg.ids) == len(df)


def test_choose_k_reports_inertia_and_silhouette_for_k_2_to_8(demo_frame):
    table = choose_k(demo_frame, SEED_FEATURES)
    assert list(table["k"]) == list(range(2, 9))
    assert (np.diff(table["inertia"]) < 0).all()
    assert table["silhouette"].between(-1, 1).all()


def test_choose_k_stops_where_rows_run_out(demo_frame):
    table = choose_k(demo_frame.head(5), SEED_FEATURES)
    assert table["k"].max() <= 4


def test_each_segment_says_what_it_means_for_collections(demo_frame):
    seg = fit_segments(demo_frame, SEED_FEATURES, 4)
    advice = seg.profile["What it means for collections"]
    assert advice.str.len().gt(20).all()
    # the most delinquent segment is told to act, the least delinquent to keep it light
    most, least = seg.profile.loc[seg.profile["Borrower_Segment"].idxmax()], seg.profile.loc[seg.profile["Borrower_Segment"].idxmin()]
    assert most["What it means for collections"].startswith(("Long overdue", "Slipping", "Starting to slip"))
    assert least["What it means for collections"].startswith(("Paying on time", "Current but"))


def test_profile_splits_into_a_narrow_summary_and_the_typical_borrower(segments):
    summary = profile_summary(segments.profile)
    assert list(summary.columns) == ["Borrower_Segment", "Segment", "Borrowers", "Share of borrowers",
                                     "Total outstanding", "Not fully recovered rate", "Written off rate"]
    means = field_means(segments).set_index("Field")
    assert list(means.index) == [label(f) for f in SEED_FEATURES]
    assert list(means.columns) == list(segments.profile["Segment"])
    first = segments.profile.iloc[0]
    # money without decimals and with separators, other fields to one decimal
    assert means.iloc[0, 0] == f"{first[label('Age')]:.1f}"
    assert means.loc[label("Monthly_Income")].iloc[0] == f"{first[label('Monthly_Income')]:,.0f}"


def test_new_borrowers_are_placed_as_the_fitted_pipeline_places_them(demo_frame, segments):
    from core.model import assign_segments

    features = list(segments.features)
    new = demo_frame[features].copy()
    new.iloc[::7, 0] = np.nan  # gaps take the training median, as the imputer fills them
    new.iloc[::5, 2] = np.nan
    X = new.to_numpy(dtype="float64", na_value=np.nan)
    ids = assign_segments(segments.model, np.asarray(segments.relabel), new, tuple(features))
    assert np.array_equal(ids, np.asarray(segments.relabel)[segments.model.predict(X)])
    infinite = new.astype("float64")
    infinite.iloc[3, 1] = np.inf  # the pipeline's own refusal, as before
    with pytest.raises(ValueError, match="infinity"):
        assign_segments(segments.model, np.asarray(segments.relabel), infinite, tuple(features))
