"""The Risk page says in words when a signal-free model's calibration reversed its order, instead of a confident ranking."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from sample_data.generate import generate_portfolio
from tests.helpers import APP, TIMEOUT, texts, visit


def test_the_risk_page_names_a_reversed_signal_free_score():
    coin, _ = generate_portfolio(n=600, seed=11)  # the outcomes shuffled: nothing left to learn
    coin["Recovery_Status"] = np.random.default_rng(4).permutation(coin["Recovery_Status"].to_numpy()).astype(str)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("app_pages/data.py")
    at.run()
    at.file_uploader[0].upload("coin.csv", coin.to_csv(index=False).encode(), "text/csv")
    at.run()
    visit(at, "app_pages/risk.py")
    said = [w for w in texts(at.warning) if w.startswith("The model finds no signal in this file")]
    assert said and "reversed the model's ordering" in said[0] and "do not rank borrowers by this score" in said[0]
    assert any(e.startswith("Do not act on this score") for e in texts(at.error))
