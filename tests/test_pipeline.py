"""analyse(): every uploaded row comes back annotated, figures export as JSON, user errors are named."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from core.config import RecoveryConfig
from core.decide import assign_strategy, strategy_summary
from core.errors import RecoveryError
from core.pipeline import ADDED_COLUMNS, analyse

ADDED = (
    "Borrower_Segment", "Segment_Name", "Risk_Score", "Predicted_High_Risk",
    "Recovery_Strategy", "Risk_Reasons", "Outstanding_At_Risk",
)


def test_scored_frame_keeps_every_row_in_order_and_adds_the_columns(default_result, demo_frame):
    scored = default_result.scored
    assert set(ADDED) <= set(ADDED_COLUMNS)  # with an action table: also expected value, test group
    assert list(scored.columns) == list(demo_frame.columns) + list(ADDED)
    assert scored.index.equals(demo_frame.index)
    assert scored["Borrower_ID"].tolist() == demo_frame["Borrower_ID"].tolist()
    assert scored[list(demo_frame.columns)].equals(demo_frame)


def test_scored_frame_keeps_a_non_default_index(variant_result, variant_frame):
    # a filtered upload keeps its own row labels: joining results back relies on them
    scored = variant_result.scored
    assert scored.index.equals(variant_frame.index)
    assert scored["Borrower_ID"].tolist() == variant_frame["Borrower_ID"].tolist()
    assert scored["Risk_Score"].notna().all()


def test_predicted_high_risk_is_score_above_one_half(default_result):
    scored = default_result.scored
    assert set(scored["Predicted_High_Risk"].unique()) <= {0, 1}
    assert (scored["Predicted_High_Risk"].astype(bool) == (scored["Risk_Score"] > 0.5)).all()


def test_outstanding_at_risk_is_score_times_outstanding(default_result):
    scored = default_result.scored
    np.testing.assert_allclose(
        scored["Outstanding_At_Risk"], scored["Risk_Score"] * scored["Outstanding_Loan_Amount"]
    )


def test_segment_columns_match_the_segments(default_result):
    scored, seg = default_result.scored, default_result.segments
    assert scored["Borrower_Segment"].tolist() == list(seg.ids)
    assert scored["Segment_Name"].tolist() == [seg.names[i] for i in seg.ids]


def test_metrics_dict_is_json_and_has_out_of_fold_auc(default_result):
    figures = json.loads(json.dumps(default_result.metrics_dict()))
    assert 0.5 < figures["out_of_fold"]["roc_auc"]["value"] <= 1
    assert figures["borrowers_scored"] == 600
    assert figures["target"] == "not_fully_recovered"
    assert figures["seed_split"] is None
    assert figures["model"] == "gradient_boosting"
    assert figures["model_comparison"] == []


def test_metrics_dict_is_strict_json_when_a_strategy_is_empty(default_result):
    config = default_result.config.with_(legal_threshold=1.0)  # nobody scores above 1
    scored = default_result.scored.copy()
    scored["Recovery_Strategy"] = assign_strategy(scored["Risk_Score"].to_numpy(), config)
    result = dataclasses.replace(default_result, config=config, strategies=strategy_summary(scored, config.strategy_labels))
    assert result.strategies["Borrowers"].iloc[0] == 0
    json.dumps(result.metrics_dict(), allow_nan=False)


def test_seed_preset_reports_the_notebooks_80_20_split(seed_result, demo_frame):
    split = seed_result.risk.seed_split
    assert split["test_rows"] == round(0.2 * len(demo_frame))
    assert sum(split["confusion"].values()) == split["test_rows"]
    assert 0 <= split["accuracy"] <= 1 and 0 <= split["roc_auc"] <= 1
    figures = json.loads(json.dumps(seed_result.metrics_dict()))
    assert figures["seed_split"]["test_rows"] == 120
    assert figures["preset"] == "seed" and figures["target"] == "segment"


def test_seed_preset_is_the_notebooks_method(seed_result, demo_frame):
    risk = seed_result.risk
    assert risk.model == "random_forest" and not risk.calibrated
    assert risk.numeric_features == (
        "Age", "Monthly_Income", "Loan_Amount", "Loan_Tenure", "Interest_Rate",
        "Collateral_Value", "Outstanding_Loan_Amount", "Monthly_EMI", "Num_Missed_Payments",
        "Days_Past_Due",
    )
    assert risk.categorical_features == ()
    assert set(seed_result.scored["Segment_Name"]) <= {
        "Moderate Income, High Loan Burden", "High Income, Low Default Risk",
        "Moderate Income, Medium Risk", "High Loan, Higher Default Risk",
    }
    assert list(seed_result.scored.columns) == list(demo_frame.columns) + list(ADDED)


def test_missing_optional_field_still_runs_and_says_so(variant_result, variant_frame):
    assert len(variant_result.scored) == len(variant_frame)
    assert "Collateral_Value" not in variant_result.segments.features
    assert any("Collateral_Value" in n for n in variant_result.notes), variant_result.notes


def test_seed_preset_needs_every_notebook_field(demo_frame):
    with pytest.raises(RecoveryError, match="Collateral_Value"):
        analyse(demo_frame.drop(columns=["Collateral_Value"]), RecoveryConfig.seed())


def test_too_few_bad_outcomes_names_the_counts(demo_frame):
    df = demo_frame.copy()
    df["Recovery_Status"] = "Fully Recovered"
    df.loc[df.index[:3], "Recovery_Status"] = "Written Off"
    with pytest.raises(RecoveryError, match=r"at least 5 borrowers with a bad outcome.*3 bad and 597 good"):
        analyse(df, RecoveryConfig())


def test_more_segments_than_borrowers_names_the_limit(demo_frame):
    with pytest.raises(RecoveryError, match=r"6 segments need at least 6 borrowers; the data has 5"):
        analyse(demo_frame.head(5), RecoveryConfig().with_(n_segments=6))


def test_empty_file_is_a_user_error(demo_frame):
    with pytest.raises(RecoveryError, match="no borrowers"):
        analyse(demo_frame.head(0), RecoveryConfig())


def test_unknown_preset_is_named():
    with pytest.raises(RecoveryError, match="'fast'"):
        RecoveryConfig.named("fast")


def test_default_run_on_complete_demo_has_no_notes(default_result):
    assert default_result.notes == ()


def test_large_files_compare_models_on_a_sample_but_score_everyone(demo_frame, run_analysis, monkeypatch):
    import core.pipeline

    monkeypatch.setattr(core.model.scoring, "COMPARE_MAX_ROWS", 300)
    result = run_analysis(demo_frame, RecoveryConfig().with_(n_folds=3, model="auto"))
    assert any("compared on a random sample of 300 borrowers" in n for n in result.notes)
    assert len(result.risk.comparison) == 3
    assert result.scored["Risk_Score"].notna().all()
    assert result.risk.scored_with_outcome == len(demo_frame)


def test_a_re_uploaded_export_is_analysed_again_and_the_user_told(default_result, run_analysis):
    exported = default_result.table()  # File_Row, the file's columns, then the analysis columns
    again = run_analysis(exported, RecoveryConfig())
    assert any("already had the analysis column(s) Borrower_Segment" in n and "File_Row" in n for n in again.notes)
    table = again.table()
    assert list(table.columns).count("File_Row") == 1 and list(table.columns).count("Risk_Score") == 1
    assert table["Risk_Score"].tolist() == default_result.table()["Risk_Score"].tolist()


def test_a_present_but_empty_field_is_skipped_with_a_note(demo_frame, run_analysis):
    df = demo_frame.copy()
    df["Collateral_Value"] = np.nan
    result = run_analysis(df, RecoveryConfig().with_(n_folds=3))
    assert "Collateral_Value" not in result.segments.features
    assert any("Collateral_Value present but empty" in n for n in result.notes), result.notes
    assert result.scored["Risk_Score"].notna().all()


def test_a_one_valued_outcome_names_its_values_and_falls_back_to_the_segment_score(demo_frame, run_analysis):
    df = demo_frame.copy()
    df["Recovery_Status"] = "Fully Recovered"
    result = run_analysis(df, RecoveryConfig().with_(n_folds=3))
    assert result.risk.target == "segment"
    assert any("every recorded outcome counts the same way ('Fully Recovered' (600))" in n for n in result.notes)
    assert result.trust is None  # nothing to check the score against
    assert result.scored["Risk_Score"].between(0, 1).all()
