"""What an executive reads first: the money, the plan, and whether to act on the score."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from core.config import RecoveryConfig
from core.model import auc_interval
from core.report import summary_sentences
from tests.helpers import APP as APP_PATH
from tests.helpers import ROOT


def test_hanley_mcneil_interval_on_a_hand_computed_case():
    low, high = auc_interval(0.5, 100, 100)  # se = sqrt((0.25 + 2 * 99 * (1/3 - 1/4)) / 10,000) = 0.0409
    assert low == pytest.approx(0.5 - 1.959964 * 0.040927, abs=1e-5)
    assert high == pytest.approx(0.5 + 1.959964 * 0.040927, abs=1e-5)


def test_a_real_signal_is_trusted_and_beats_days_past_due(default_result):
    found = default_result.trust
    assert found.act_on_score and found.better_than_chance and found.better_than_days_past_due
    assert found.low > 0.5 and found.days_past_due_auc < found.auc
    assert "use it to order the work" in found.verdict()
    lines = summary_sentences(default_result, found)
    assert lines[0].startswith("The portfolio holds 600 borrowers with ")
    assert any("ROC-AUC of" in line and "days past due alone reaches" in line for line in lines)


@pytest.fixture(scope="module")
def coin_toss_frame(demo_frame):
    """The demo with its outcomes shuffled: nothing left to learn, as in the notebook's own file."""
    df = demo_frame.copy()
    df["Recovery_Status"] = np.random.default_rng(4).permutation(df["Recovery_Status"].to_numpy())
    df["Recovery_Status"] = df["Recovery_Status"].astype("str")
    return df


def test_a_coin_toss_score_is_flagged_not_to_act_on(coin_toss_frame, run_analysis):
    found = run_analysis(coin_toss_frame, RecoveryConfig().with_(n_folds=3)).trust
    assert not found.act_on_score and not found.better_than_chance
    assert found.verdict().startswith("Do not act on this score: on this file it is not clearly better than chance")


def test_the_cli_warns_on_stderr_and_in_the_metrics(coin_toss_frame, tmp_path):
    source, metrics = tmp_path / "coin.csv", tmp_path / "m.json"
    coin_toss_frame.to_csv(source, index=False)
    run = subprocess.run([sys.executable, "-m", "core", "score", str(source), "-o", str(tmp_path / "o.csv"),
                          "--metrics", str(metrics)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0
    assert run.stderr.splitlines()[-1].startswith("warning: The risk score ranks borrowers with a ROC-AUC of 0.")
    assert "Do not act on this score" in run.stderr
    figures = json.loads(metrics.read_text())
    assert figures["trust"]["act_on_score"] is False
    assert figures["trust"]["roc_auc_95_low"] < 0.5 < figures["trust"]["roc_auc_95_high"]


def test_overview_says_what_was_found_and_whether_to_trust_it():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP_PATH, default_timeout=300)
    at.run()
    assert not at.exception
    text = " ".join(m.value.replace("\\", "") for m in at.markdown)
    assert "The portfolio holds 2,000 borrowers" in text
    assert "Borrowers per action" in text
    assert any("use it to order the work" in s.value for s in at.success)
