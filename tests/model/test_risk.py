"""Risk scores an analyst can trust: the right target, no leakage, honest out-of-fold numbers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from core.config import RecoveryConfig
from core.data import canonical_outcome as outcome_target
from core.data.schema import label

COLLECTION = ("Collection_Attempts", "Collection_Method", "Legal_Action_Taken")
LEVELS = "very high|high|above typical|below typical|low|very low"


def not_fully_recovered(df: pd.DataFrame) -> np.ndarray:
    return (df["Recovery_Status"] != "Fully Recovered").to_numpy().astype(int)


def features(result) -> list[str]:
    return list(result.risk.numeric_features + result.risk.categorical_features)


# --- target ---------------------------------------------------------------------------------


def test_default_target_is_not_fully_recovered(default_result, demo_frame):
    assert default_result.config.target == "not_fully_recovered"
    assert default_result.risk.target == "not_fully_recovered"
    assert "not fully recovered" in default_result.risk.target_description
    target = outcome_target(demo_frame, "not_fully_recovered")
    np.testing.assert_array_equal(target.y, not_fully_recovered(demo_frame))


def test_written_off_target_counts_only_written_off(demo_frame, variant_result, variant_frame):
    target = outcome_target(demo_frame, "written_off")
    np.testing.assert_array_equal(target.y, (demo_frame["Recovery_Status"] == "Written Off").astype(int))
    assert variant_result.risk.target == "written_off"
    assert "written off" in variant_result.risk.target_description
    known = variant_frame["Recovery_Status"].notna()
    written = int((variant_frame["Recovery_Status"] == "Written Off").sum())
    c = variant_result.risk.confusion
    assert c["fn"] + c["tp"] == written
    assert c["tn"] + c["fp"] == int(known.sum()) - written


def test_unknown_outcome_is_unknown_not_good(variant_frame):
    y = outcome_target(variant_frame, "not_fully_recovered").y
    assert np.isnan(y).sum() == variant_frame["Recovery_Status"].isna().sum() == 30


def test_without_recovery_status_falls_back_to_segment_flag_and_says_so(no_outcome_result):
    assert no_outcome_result.risk.target == "segment"
    note = " ".join(no_outcome_result.notes)
    assert "no Recovery_Status" in note
    assert "high-risk" in note and "segment" in note
    assert no_outcome_result.scored["Risk_Score"].between(0, 1).all()


# --- leakage and protected fields ------------------------------------------------------------


@pytest.fixture(scope="module")
def collection_changed_result(demo_frame, run_analysis):
    rng = np.random.default_rng(99)
    df = demo_frame.copy()
    df["Collection_Attempts"] = rng.integers(0, 11, len(df))
    df["Collection_Method"] = rng.permutation(df["Collection_Method"].to_numpy())
    df["Legal_Action_Taken"] = np.where(df["Legal_Action_Taken"] == "Yes", "No", "Yes")
    df["Legal_Action_Taken"] = df["Legal_Action_Taken"].astype("str")
    return run_analysis(df, RecoveryConfig())


def test_collection_fields_do_not_change_any_default_score(default_result, collection_changed_result):
    assert np.array_equal(
        default_result.scored["Risk_Score"].to_numpy(),
        collection_changed_result.scored["Risk_Score"].to_numpy(),
    )
    assert not set(COLLECTION) & set(features(default_result))
    for name in COLLECTION:
        assert "leaks" in default_result.risk.excluded_features[name]


@pytest.fixture(scope="module")
def with_collection_result(demo_frame, run_analysis):
    # three folds keep it cheap; the fold count is not what is under test
    return run_analysis(demo_frame, RecoveryConfig().with_(use_collection_fields=True, n_folds=3))


def test_collection_fields_are_used_when_asked(default_result, with_collection_result):
    assert set(COLLECTION) <= set(features(with_collection_result))
    assert not set(COLLECTION) & set(with_collection_result.risk.excluded_features)
    # the demo's collection fields follow the outcome, so they make the score look better
    auc = {r.metric: r.value for r in default_result.risk.metrics.itertuples()}["roc_auc"]
    leaky = {r.metric: r.value for r in with_collection_result.risk.metrics.itertuples()}["roc_auc"]
    assert leaky > auc


def test_gender_is_never_a_default_input(default_result, with_collection_result):
    for result in (default_result, with_collection_result):
        assert "Gender" not in result.risk.numeric_features
        assert "Gender" not in result.risk.categorical_features
        assert "protected" in result.risk.excluded_features["Gender"]


def test_fairness_table_has_one_row_per_gender(default_result, demo_frame):
    fairness = default_result.risk.fairness.set_index("Group")
    assert set(default_result.risk.fairness["Attribute"]) == {"Gender"}
    assert sorted(fairness.index) == sorted(demo_frame["Gender"].unique())
    assert fairness["Borrowers"].sum() == len(demo_frame)
    scored = default_result.scored
    for gender, row in fairness.iterrows():
        rows = scored[scored["Gender"] == gender]
        assert row["Share flagged high-risk"] == pytest.approx(rows["Predicted_High_Risk"].mean())
        assert row["Actual bad-outcome rate"] == pytest.approx(
            (rows["Recovery_Status"] != "Fully Recovered").mean()
        )


# --- out-of-fold honesty ----------------------------------------------------------------------


def test_every_borrower_gets_a_score_between_0_and_1(default_result, demo_frame):
    scores = default_result.scored["Risk_Score"]
    assert len(scores) == len(demo_frame)
    assert scores.notna().all() and scores.between(0, 1).all()


def test_unknown_outcomes_are_scored_but_not_measured(variant_result, variant_frame):
    assert variant_result.scored["Risk_Score"].between(0, 1).all()
    assert variant_result.risk.scored_with_outcome == 570
    assert sum(variant_result.risk.confusion.values()) == 570
    assert any("30 borrower(s) have no outcome" in n for n in variant_result.notes)


def test_same_input_and_config_give_identical_output(variant_result, variant_frame, run_analysis):
    # The variant config (3 folds) keeps this rerun cheap; the guarantee holds for every config.
    again = run_analysis(variant_frame.copy(), variant_result.config)
    for column in ("Risk_Score", "Borrower_Segment", "Segment_Name", "Recovery_Strategy", "Risk_Reasons"):
        assert again.scored[column].tolist() == variant_result.scored[column].tolist(), column
    pd.testing.assert_frame_equal(again.risk.metrics, variant_result.risk.metrics)
    pd.testing.assert_frame_equal(again.risk.importance, variant_result.risk.importance)
    assert again.notes == variant_result.notes


def test_out_of_fold_auc_is_close_to_the_best_possible(known_portfolio, known_result):
    df, true_prob = known_portfolio
    y = not_fully_recovered(df)
    ours = roc_auc_score(y, known_result.scored["Risk_Score"])
    best = roc_auc_score(y, true_prob)
    gap = best - ours
    print(f"\nknown-probability test: model AUC {ours:.4f}, true-probability AUC {best:.4f}, gap {gap:.4f}")
    assert abs(gap) < 0.015, f"model AUC {ours:.4f} vs true {best:.4f}: gap {gap:.4f}"
    reported = {r.metric: r.value for r in known_result.risk.metrics.itertuples()}["roc_auc"]
    assert reported == pytest.approx(ours)


def test_scores_are_calibrated(known_portfolio, known_result):
    y = not_fully_recovered(known_portfolio[0])
    scores = known_result.scored["Risk_Score"].to_numpy()
    assert brier_score_loss(y, scores) < brier_score_loss(y, np.full(len(y), y.mean()))
    table = known_result.risk.calibration
    assert table["mean_score"].between(0, 1).all() and table["observed_rate"].between(0, 1).all()
    diff = (table["mean_score"] - table["observed_rate"]).abs().mean()
    assert diff < 0.1, f"mean |score - observed| per bin is {diff:.3f}"


# --- model choice and metrics -----------------------------------------------------------------


def test_default_model_is_additive_boosting_and_compares_nothing(default_result):
    assert default_result.risk.model == "gradient_boosting"
    assert default_result.risk.comparison.empty


def test_model_auto_compares_three_models_and_picks_the_best(demo_frame, run_analysis):
    result = run_analysis(demo_frame, RecoveryConfig().with_(model="auto", n_folds=3))
    table = result.risk.comparison
    assert sorted(table["model"]) == ["gradient_boosting", "logistic", "random_forest"]
    best = table.loc[table["roc_auc_fold_mean"].idxmax(), "model"]
    assert result.risk.model == best
    assert table["roc_auc"].between(0.5, 1).all()


def test_metrics_table_has_every_headline_metric(default_result):
    table = default_result.risk.metrics.set_index("metric")
    assert list(table.index) == [
        "roc_auc", "pr_auc", "gini", "ks", "brier", "accuracy", "precision", "recall", "f1",
    ]
    assert (table["fold_std"] >= 0).all()
    assert table.loc["gini", "value"] == pytest.approx(2 * table.loc["roc_auc", "value"] - 1)
    assert table["value"].between(0, 1).all()


def test_confusion_counts_sum_to_borrowers_with_outcome(default_result, demo_frame):
    c = default_result.risk.confusion
    assert sum(c.values()) == default_result.risk.scored_with_outcome == len(demo_frame)
    y = not_fully_recovered(demo_frame)
    flagged = default_result.scored["Predicted_High_Risk"].to_numpy()
    assert c["tp"] == int(((y == 1) & (flagged == 1)).sum())
    assert c["fp"] == int(((y == 0) & (flagged == 1)).sum())


# --- explanations -------------------------------------------------------------------------------


def test_importance_covers_the_fields_the_user_knows_and_days_past_due_matters(default_result):
    table = default_result.risk.importance
    # ratios are not fields of the file: they move with their inputs (EMI with EMI-to-income)
    ratios = {"EMI_To_Income", "Collateral_Coverage", "Outstanding_Share"}
    assert set(table["field"]) == set(features(default_result)) - ratios
    assert list(table["label"]) == [label(f) for f in table["field"]]
    assert "Days_Past_Due" in list(table["field"].head(3)), table.head(5).to_string()


def test_reasons_are_up_to_three_phrases_naming_a_field(default_result):
    labels = [label(f) for f in features(default_result)]
    for text in default_result.scored["Risk_Reasons"]:
        if text.startswith("Close to the portfolio's typical borrower"):
            continue
        parts = [p for p in text.split("; ") if p]
        assert 1 <= len(parts) <= 3
        for part in parts:
            assert any(part.startswith(lbl) for lbl in labels), part
            if part.startswith("Days past due "):
                assert re.fullmatch(rf"Days past due \d+, ({LEVELS}) for this portfolio", part), part


def test_very_overdue_high_risk_borrower_is_told_about_days_past_due(default_result):
    scored = default_result.scored
    flagged = scored[scored["Risk_Score"] > 0.75]
    worst = flagged.sort_values(["Days_Past_Due", "Risk_Score"], ascending=False).iloc[0]
    assert worst["Days_Past_Due"] >= scored["Days_Past_Due"].quantile(0.95)
    assert "Days past due" in worst["Risk_Reasons"]
    assert "very high for this portfolio" in worst["Risk_Reasons"]


def test_reordering_the_file_gives_each_borrower_the_same_score(variant_result, variant_frame, run_analysis):
    shuffled = variant_frame.sample(frac=1, random_state=5)
    again = run_analysis(shuffled, variant_result.config).scored.loc[variant_frame.index]
    for column in ("Risk_Score", "Segment_Name", "Recovery_Strategy", "Risk_Reasons"):
        assert again[column].tolist() == variant_result.scored[column].tolist(), column
