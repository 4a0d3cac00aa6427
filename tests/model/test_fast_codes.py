"""The quick field coding gives exactly the codes of a binary search and of Python-string factorising."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.model.risk import FieldCodes, bin_codes


def _edges(x: np.ndarray) -> np.ndarray:
    """Quantile edges as FieldCodes.fit learns them."""
    known = x[np.isfinite(x)]
    return np.unique(np.quantile(known, np.linspace(0, 1, 256)[1:-1])) if len(known) else np.array([])


@pytest.mark.parametrize("kind", ["amounts", "counts", "infinite", "outlier", "spikes", "far_from_zero"])
def test_bin_codes_match_the_binary_search_at_and_beside_every_edge(kind):
    rng = np.random.default_rng(7)
    n = 20_000
    x = {
        "amounts": rng.lognormal(10, 1, n),
        "counts": rng.integers(0, 50, n).astype(float),
        "infinite": np.where(rng.random(n) < 0.1, np.inf, rng.normal(size=n)),
        "outlier": np.r_[rng.random(n - 1), 1e12],  # every edge crowds into one cell: the binary search answers
        "spikes": rng.choice([0.0, -0.0, 1.5, 2.0, 1e300, -1e300], n),
        "far_from_zero": rng.normal(1e6, 1, n),
    }[kind]
    edges = _edges(x)
    values = np.r_[x, edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf), -np.inf, np.inf]
    assert np.array_equal(bin_codes(edges, values), np.searchsorted(edges, values, side="right"))


def test_missing_amounts_stay_missing_codes():
    x = np.r_[np.linspace(0, 1, 10_000), np.nan, np.inf]
    codes = FieldCodes(["Monthly_Income"], []).fit(pd.DataFrame({"Monthly_Income": x[:-2]})).code("Monthly_Income", x)
    assert np.isnan(codes[-2:]).all() and np.isfinite(codes[:-2]).all()


def test_arrow_text_codes_match_the_python_strings():
    rng = np.random.default_rng(2)
    text = pd.Series(pd.array(rng.choice(["Home", "Auto", "1", "1.0", None, "Unseen"], 5_000), dtype="str"))
    codes = FieldCodes([], ["Loan_Type"]).fit(pd.DataFrame({"Loan_Type": text[text != "Unseen"]}))
    chunked = pd.concat([text.iloc[:7], text.iloc[7:]])  # Arrow storage in two chunks
    expected = codes.code("Loan_Type", text.to_numpy())
    assert np.array_equal(codes.code("Loan_Type", chunked.array), expected, equal_nan=True)
    assert np.isnan(expected[(text == "Unseen").fillna(False).to_numpy()]).all()  # an unseen category reads as missing
