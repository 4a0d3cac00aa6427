"""Reasons written column-wise say exactly what Python's own formatting would."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from core.model import wording


@pytest.fixture(scope="module")
def values() -> np.ndarray:
    rng = np.random.default_rng(1)
    return np.concatenate([
        rng.uniform(-2e9, 2e9, 2000), rng.uniform(0, 2000, 2000), rng.integers(0, 10**12, 200),
        [0.0, 0.5, 1.5, 999.5, 1000.0, 999_999.4, 1_000_000.0, -0.4, 12.345, 7.995],
    ])


@pytest.mark.parametrize("field, python", [
    ("Monthly_EMI", "{:,.0f}"),        # money
    ("Days_Past_Due", "{:.0f}"),       # a whole-number field
    ("Interest_Rate", "{:.2f}%"),      # a rate in percent
    ("Unknown_Field", "{:,.2f}"),      # anything else
])
def test_numbers_read_as_python_writes_them(values, field, python):
    got = wording.number_text(field, values).to_pylist()
    want = [python.format(v) for v in values]
    # Python rounds halves to even on the binary value; both agree away from exact ties
    ties = np.isclose(np.abs(values) * (1 if "0f" in python else 100) % 1, 0.5)
    mismatched = [(v, g, w) for v, g, w, t in zip(values, got, want, ties) if g != w and not t]
    assert not mismatched, mismatched[:5]


def test_percentages_are_whole(values):
    shares = values[:200] / 1e9
    assert wording.percent_text(shares).to_pylist() == [f"{v:.0%}" for v in shares]


def test_slots_join_leaving_out_empty_ones_and_keep_every_row():
    # slots fill best first: an empty slot is followed by empty ones only; a reason's ratio words follow it
    heads, extras = pa.array(["a", "b", "x", "c", "d", "e"]), pa.array([" (60% of income)"])
    head = np.array([[0, 1, -1, 4], [2, -1, -1, 5], [3, -1, -1, -1]])
    extra = np.array([[0, -1, -1, -1], [-1, -1, -1, 0], [-1, -1, -1, -1]])
    assert wording.slots_joined(heads, head, extras, extra).to_pylist() == [
        "a (60% of income); x; c", "b", wording.TYPICAL, "d; e (60% of income)"]


def test_ratio_phrases_skip_unknown_ratios_in_any_position():
    import pandas as pd

    frame = pd.DataFrame({"Collateral_Coverage": [0.5, np.nan, np.nan], "Outstanding_Share": [np.nan, 0.25, np.nan]})
    text = wording.ratio_text(("Collateral_Coverage", "Outstanding_Share"), frame, np.arange(3)).to_pylist()
    assert text == [" (collateral covers 50% of the outstanding)", " (25% of the loan still outstanding)", ""]


def test_magnitudes_past_int64_are_written_not_refused():
    # a ratio over a near-zero income, or a typo of twenty digits, must not stop the reasons being written
    huge = np.array([1e17, 9.3e18, -2e20, 12.5])
    assert wording.number_text("Monthly_EMI", huge).to_pylist() == [f"{v:,.0f}" for v in huge]
    assert wording.number_text("Days_Past_Due", huge).to_pylist() == [f"{v:.0f}" for v in huge]
    assert wording.number_text("Unknown_Field", huge).to_pylist() == [
        "100,000,000,000,000,000", "9,300,000,000,000,000,000", "-200,000,000,000,000,000,000", "12.50"]
    assert wording.percent_text(huge / 100).to_pylist() == [f"{v / 100:.0%}" for v in huge]
