"""The Score new borrowers page under AppTest: a saved model scores a new file, as the CLI does."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.config import RecoveryConfig
from core.data import load_portfolio
from core.pipeline import prepare
from core.serve import bundle as bundles
from core.serve import score as scoring
from sample_data.generate import generate_portfolio
from tests.helpers import APP as APP_PATH

APP = APP_PATH
PAGE = "app_pages/score_new.py"


@pytest.fixture(scope="module")
def model_bytes(demo_frame) -> bytes:
    model, _ = bundles.train(prepare(demo_frame), RecoveryConfig(), "history.csv", "0" * 64)
    return bundles.dumps(model)


@pytest.fixture(scope="module")
def new_csv() -> bytes:
    frame, _ = generate_portfolio(n=200, seed=77)
    frame.loc[frame.index[::3], "Recovery_Status"] = np.nan
    return frame.to_csv(index=False).encode()


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.switch_page(PAGE)  # straight to the page: the Overview would first analyse the demo
    at.run()
    assert not at.exception, at.exception
    return at


def _upload(at: AppTest, key: str, name: str, data: bytes, mime: str = "text/csv") -> None:
    at.file_uploader(key=key).upload(name, data, mime)
    at.run()
    assert not at.exception, at.exception


def _table(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_uploaded_model_scores_the_new_file_as_the_engine_does(model_bytes, new_csv):
    at = _page()
    assert "Choose a saved model to start." in [i.value for i in at.info]
    _upload(at, "model_upload", "history_model.slr", model_bytes, "application/zip")
    manifest = _table(at, "Item").set_index("Item")["Value"]
    assert manifest["Training file"] == "history.csv"
    assert manifest["Borrowers in training (with outcome)"] == "600 (600)"
    _upload(at, "new_upload", "june.csv", new_csv)
    shown = _table(at, "Risk_Score")
    expected = scoring.score_rows(bundles.loads(model_bytes), load_portfolio(new_csv, "june.csv").frame).table
    assert len(shown) == 200
    np.testing.assert_allclose(shown["Risk_Score"], expected["Risk_Score"])
    assert shown["Recovery_Strategy"].tolist() == expected["Recovery_Strategy"].tolist()
    assert shown["Risk_Reasons"].tolist() == expected["Risk_Reasons"].tolist()
    strategies = _table(at, "Recovery strategy")
    assert strategies["Borrowers"].sum() == 200
    assert "Download CSV" in [b.label for b in at.download_button]
    drift = _table(at, "PSI")
    assert {"Days past due", "Risk score"} <= set(drift["Field"])
    assert set(drift["Band"]) <= {"stable", "watch", "act"}


def test_a_pickle_is_refused_on_the_page():
    at = _page()
    _upload(at, "model_upload", "model.slr", pickle.dumps({"a": 1}), "application/zip")
    assert any("pickle or joblib" in e.value for e in at.error)


def test_invalid_rows_are_listed_and_can_be_excluded(model_bytes):
    frame, _ = generate_portfolio(n=60, seed=8)
    frame["Age"] = frame["Age"].astype(object)
    frame.loc[5, "Age"] = "-"
    frame.loc[7, "Age"] = "forty"
    at = _page()
    _upload(at, "model_upload", "m.slr", model_bytes, "application/zip")
    _upload(at, "new_upload", "july.csv", frame.to_csv(index=False).encode())
    assert any("1 row(s) have errors" in w.value for w in at.warning)
    assert "Download the invalid rows (CSV)" in [b.label for b in at.download_button]
    at.checkbox[0].check()
    at.run()
    assert not at.exception
    assert len(_table(at, "Risk_Score")) == 59


def test_the_session_model_is_saved_on_the_risk_page_and_scores_here(new_csv):
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("app_pages/risk.py")
    at.run()
    next(b for b in at.button if b.label == "Save this model").click()
    at.run()
    assert not at.exception, at.exception
    assert "Download the model (.slr)" in [b.label for b in at.download_button]
    at.switch_page(PAGE)
    at.run()
    next(b for b in at.button if b.label == "Use the model trained in this session").click()
    at.run()
    manifest = _table(at, "Item").set_index("Item")["Value"]
    assert manifest["Training file"] == "Demo portfolio (bundled sample)"
    assert manifest["Borrowers in training (with outcome)"] == "2,000 (2,000)"
    _upload(at, "new_upload", "june.csv", new_csv)
    assert len(_table(at, "Risk_Score")) == 200
