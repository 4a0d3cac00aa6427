"""The seed preset reproduces the notebook on the notebook's own file (skipped when it is absent)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.config import RecoveryConfig
from tests.helpers import ROOT
from tests.notebook import NOTEBOOK_NAMES

NOTEBOOK_CSV = ROOT / ".." / "shared" / "data" / "loan-recovery.csv"

pytestmark = pytest.mark.skipif(
    not NOTEBOOK_CSV.exists(), reason="the notebook's loan-recovery.csv is not beside this clone"
)

@pytest.fixture(scope="module")
def notebook_result(run_analysis):
    df = pd.read_csv(NOTEBOOK_CSV, dtype={"Borrower_ID": str, "Loan_ID": str})
    return run_analysis(df, RecoveryConfig.seed())


def test_seed_split_matches_the_notebook(notebook_result):
    split = notebook_result.risk.seed_split
    c = split["confusion"]
    assert split["test_rows"] == 100
    assert c["tn"] + c["fp"] == 38, c
    assert c["fn"] + c["tp"] == 62, c
    assert split["accuracy"] == pytest.approx(0.92, abs=0.02)


def test_segments_match_the_notebook(notebook_result):
    assert np.bincount(notebook_result.segments.ids).tolist() == [172, 51, 141, 136]
    assert notebook_result.segments.names == NOTEBOOK_NAMES
    scored = notebook_result.scored
    for i, name in NOTEBOOK_NAMES.items():
        assert (scored.loc[scored["Borrower_Segment"] == i, "Segment_Name"] == name).all()


def test_strategies_use_the_notebooks_labels(notebook_result):
    assert set(notebook_result.scored["Recovery_Strategy"]) <= {
        "Immediate legal notices & aggressive recovery attempts",
        "Settlement offers & repayment plans",
        "Automated reminders & monitoring",
    }
