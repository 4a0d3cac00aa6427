"""Score metrics and chart tables, on examples small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.model import (
    CURVE_POINTS,
    calibration_table,
    confusion,
    gains_table,
    ks_statistic,
    metrics_table,
    pr_points,
    roc_points,
    score_metrics,
)


@pytest.fixture(scope="module")
def informative() -> tuple[np.ndarray, np.ndarray]:
    """5000 outcomes and scores that rank them well but not perfectly."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 5000)
    y = (rng.uniform(0, 1, 5000) < p).astype(int)
    return y, p


def test_ks_on_a_hand_made_example():
    # bads at 0.35, 0.8; goods at 0.1, 0.4: the CDFs differ by at most 1/2
    assert ks_statistic(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.5)
    assert ks_statistic(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4])) == pytest.approx(1.0)
    assert ks_statistic(np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.5, 0.5])) == pytest.approx(0.0)


def test_score_metrics_on_a_hand_made_example():
    y = np.array([0, 0, 0, 1, 1, 1])
    s = np.array([0.1, 0.2, 0.6, 0.4, 0.7, 0.9])
    m = score_metrics(y, s, 0.5)
    # flagged: 0.6, 0.7, 0.9 -> tp 2, fp 1, fn 1
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["roc_auc"] == pytest.approx(8 / 9)
    assert m["gini"] == pytest.approx(2 * 8 / 9 - 1)
    assert m["brier"] == pytest.approx(np.mean((s - y) ** 2))
    assert confusion(y, s, 0.5) == {"tn": 2, "fp": 1, "fn": 1, "tp": 2}


def test_flagged_means_strictly_above_threshold():
    y = np.array([0, 1])
    assert confusion(y, np.array([0.5, 0.5]), 0.5) == {"tn": 1, "fp": 0, "fn": 1, "tp": 0}


def test_metrics_table_spread_across_folds(informative):
    y, p = informative
    fold = np.arange(len(y)) % 5
    table = metrics_table(y, p, fold, 0.5).set_index("metric")
    assert (table["fold_std"] >= 0).all()
    assert table.loc["roc_auc", "fold_mean"] == pytest.approx(table.loc["roc_auc", "value"], abs=0.02)


def test_gains_table_has_ten_deciles_riskiest_first(informative):
    y, p = informative
    table = gains_table(y, p, np.full(len(y), 1000.0))
    assert list(table["decile"]) == list(range(1, 11))
    assert table["borrowers"].sum() == len(y)
    assert table["cum_share_of_bads"].iloc[-1] == pytest.approx(1.0)
    assert table["cum_share_of_bads"].is_monotonic_increasing
    assert table["cum_share_of_bad_outstanding"].iloc[-1] == pytest.approx(1.0)
    assert table["lift"].iloc[0] > 1.5
    assert table["mean_score"].is_monotonic_decreasing
    assert table["bads"].sum() == y.sum()


def test_gains_table_without_money(informative):
    y, p = informative
    table = gains_table(y, p, None)
    assert table["cum_share_of_bad_outstanding"].isna().all()


def test_gains_lift_is_flat_for_uninformative_scores():
    rng = np.random.default_rng(1)
    y = (rng.uniform(size=20_000) < 0.3).astype(int)
    table = gains_table(y, rng.uniform(size=20_000), None)
    assert table["lift"].between(0.85, 1.15).all()


def test_curves_are_thinned_for_drawing(informative):
    y, p = informative
    roc, pr = roc_points(y, p), pr_points(y, p)
    assert 2 <= len(roc) <= CURVE_POINTS == 200
    assert 2 <= len(pr) <= CURVE_POINTS
    assert roc.iloc[0].tolist() == [0.0, 0.0] and roc.iloc[-1].tolist() == [1.0, 1.0]
    assert roc["false_positive_rate"].is_monotonic_increasing
    assert pr["recall"].between(0, 1).all() and pr["precision"].between(0, 1).all()


def test_calibration_table_agrees_with_calibrated_scores(informative):
    y, p = informative
    table = calibration_table(y, p)
    assert len(table) == 10
    assert (table["mean_score"] - table["observed_rate"]).abs().max() < 0.06
    assert isinstance(table, pd.DataFrame)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ranking_metrics_agree_with_scikit_learn_with_ties(seed):
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    from core.model import ranking_metrics

    rng = np.random.default_rng(seed)
    y = (rng.random(3000) < 0.3).astype(int)
    s = np.round(np.clip(0.3 * y + rng.normal(0.4, 0.2, 3000), 0, 1), 2)  # many ties
    m = ranking_metrics(y, s)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert m["pr_auc"] == pytest.approx(average_precision_score(y, s), abs=1e-12)
    assert m["ks"] == pytest.approx(ks_statistic(y, s), abs=1e-12)
    assert m["brier"] == pytest.approx(brier_score_loss(y, s), abs=1e-12)
