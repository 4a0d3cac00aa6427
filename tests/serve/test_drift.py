"""Drift of a new file from a saved model's training file: PSI bands, named fields, plain sentences."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from core.serve import bundle as bundles
from core.serve import drift
from core.serve import score as scoring
from sample_data.generate import generate_portfolio
from tests.helpers import ROOT


def _shifted() -> pd.DataFrame:
    """Next month from the same generator, but 60 days further past due and a new loan type."""
    frame, _ = generate_portfolio(n=1000, seed=12)
    frame["Days_Past_Due"] = frame["Days_Past_Due"] + 60
    frame.loc[frame.index[:50], "Loan_Type"] = "Gold"
    return frame


def _drift(model: bundles.Bundle, frame: pd.DataFrame) -> pd.DataFrame:
    scored = scoring.score_rows(model, frame)
    return drift.drift_table(model.manifest["profile"], scored.features, scored.scores).set_index("field")


@pytest.mark.parametrize(("value", "expected"), [(0.0, "stable"), (0.099, "stable"), (0.10, "watch"),
                                                 (0.25, "watch"), (0.251, "act")])
def test_psi_bands(value, expected):
    assert drift.band(value) == expected


def test_psi_of_the_same_shares_is_zero_and_grows_with_the_shift():
    assert drift.psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert drift.psi([0.5, 0.5], [0.6, 0.4]) < drift.psi([0.5, 0.5], [0.8, 0.2])


def test_a_file_from_the_same_book_is_stable(trained):
    frame, _ = generate_portfolio(n=1000, seed=12)
    table = _drift(trained, frame)
    assert (table["band"] == "stable").all(), table[table["band"] != "stable"]
    assert "Drift: 0 field(s) to act on, 0 to watch" in drift.summary(table.reset_index())


def test_the_shifted_field_is_flagged_act_and_the_others_stay_stable(trained):
    table = _drift(trained, _shifted())
    assert table.loc["Days_Past_Due", "band"] == "act"
    assert table.loc["Days_Past_Due", "sentence"].startswith("Days past due has shifted up: 100% of borrowers are at ")
    assert table.loc["Risk_Score", "band"] == "act"  # the score follows days past due
    unshifted = ["Age", "Monthly_Income", "Loan_Amount", "Interest_Rate", "Outstanding_Loan_Amount",
                 "Employment_Type", "Payment_History", "Num_Missed_Payments"]
    assert (table.loc[unshifted, "band"] == "stable").all()
    assert table.loc["Loan_Type", "new_values"] == 50
    assert table.loc["Loan_Type", "new_value_names"] == "Gold"
    assert "Values the model never saw: 'Gold'" in table.loc["Loan_Type", "sentence"]
    worst = drift.worst_sentences(table.reset_index())
    assert worst[0].startswith("Days past due has shifted up") and worst[0].endswith("act)")


def test_cli_writes_the_drift_table_and_one_summary_line(trained, tmp_path):
    model, new, out, table = tmp_path / "m.slr", tmp_path / "aug.csv", tmp_path / "out.csv", tmp_path / "drift.csv"
    model.write_bytes(bundles.dumps(trained))
    _shifted().to_csv(new, index=False)
    run = subprocess.run([sys.executable, "-m", "core", "score", str(new), "--model", str(model), "-o", str(out),
                          "--drift", str(table)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith("Drift: 3 field(s) to act on, 0 to watch, ")
    assert "worst: Days past due" in run.stderr
    written = pd.read_csv(table, encoding="utf-8-sig")
    assert written.loc[0, "field"] == "Days_Past_Due" and written.loc[0, "band"] == "act"
    assert len(pd.read_csv(out, encoding="utf-8-sig")) == 1000
