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


def _fitted_model():
    """A small additive model on amounts with gaps, infinities and non-positive denominators."""
    from core.model.risk import AdditiveBoostingClassifier

    rng = np.random.default_rng(5)
    n = 3000
    frame = pd.DataFrame({"Monthly_EMI": rng.lognormal(9, 1, n), "Monthly_Income": rng.lognormal(11, 1, n),
                          "Loan_Type": pd.array(rng.choice(["Home", "Auto", None], n), dtype="str")})
    frame.loc[::17, "Monthly_EMI"] = np.nan
    frame.loc[::23, "Monthly_Income"] = 0.0
    frame.loc[::29, "Monthly_Income"] = -5.0
    frame.loc[::31, "Monthly_EMI"] = np.inf
    frame["EMI_To_Income"] = frame["Monthly_EMI"] / frame["Monthly_Income"].where(frame["Monthly_Income"] > 0)
    y = (rng.random(n) < 0.3).astype(int)
    model = AdditiveBoostingClassifier(["Monthly_EMI", "Monthly_Income", "EMI_To_Income"], ["Loan_Type"], 0).fit(frame, y)
    return model, frame


def test_places_read_straight_from_the_bins_are_those_of_the_codes():
    model, frame = _fitted_model()
    for name in model.numeric:
        x = np.r_[frame[name].to_numpy(), np.nan, np.inf, -np.inf, 0.0]
        code = model.codes_.code(name, x)
        expected = np.where(np.isnan(code), len(model.curves_[name]) - 1, code).astype(np.int16)
        assert np.array_equal(model.places(name, x), expected)
        assert np.array_equal(model.places(name, x[-2]), expected[-2:-1])  # one value, as the typical one is read


def test_decision_from_kept_contributions_is_the_decision_to_the_last_bit():
    model, frame = _fitted_model()
    places = model.all_places(frame)
    own = model.contributions(places)
    assert np.array_equal(model.decision_from_places(places, own), model.decision_function(frame))
    assert np.array_equal(model.decision_from_places(places), model.decision_function(frame))


@pytest.mark.parametrize("value", ["typical", "shuffled", "missing", "zero", "text"])
def test_ratios_recomputed_on_numbers_are_safe_ratios(value):
    from core.model.explain import FieldGroup, replaced

    _, frame = _fitted_model()
    income = frame["Monthly_Income"].to_numpy()
    values = {"typical": 105_912.0, "shuffled": income[::-1].copy(), "missing": np.nan, "zero": 0.0,
              "text": income.astype(object)}[value]  # objects: the Series route, as before
    group = FieldGroup("Monthly_Income", ("Monthly_Income", "EMI_To_Income"), ("EMI_To_Income",))
    income = pd.Series(values, index=frame.index, dtype="float64")
    expected = (frame["Monthly_EMI"] / income.where(income > 0)).to_numpy(dtype="float64")  # pandas' own division
    got = replaced(frame, group, values)
    assert got["Monthly_Income"] is values
    assert np.array_equal(got["EMI_To_Income"], expected, equal_nan=True)
    assert got["EMI_To_Income"].dtype == np.float64


def test_arrow_text_places_found_by_arrow_are_those_of_the_codes():
    model, frame = _fitted_model()
    text = pd.Series(pd.array(["Home", "Auto", None, "Unseen", "home", "Home"] * 50, dtype="str"))
    chunked = pd.concat([text.iloc[:7], text.iloc[7:]]).array  # Arrow storage in two chunks
    code = model.codes_.code("Loan_Type", text.to_numpy())
    expected = np.where(np.isnan(code), len(model.curves_["Loan_Type"]) - 1, code).astype(np.int16)
    assert np.array_equal(model.places("Loan_Type", chunked), expected)
    assert np.array_equal(model.places("Loan_Type", text.to_numpy()), expected)  # Python strings: the codes' way
    assert len(set(expected[[2, 3, 4]])) == 1 and expected[0] != expected[2]  # unseen and case-changed read as missing


@pytest.mark.parametrize("slope, intercept", [(1.0, 0.0), (1.04, 0.0067), (0.3, -2.5), (1, 0)])
def test_score_falls_in_one_table_are_those_of_the_calibration(slope, intercept):
    from core.model.risk import Calibration

    rng = np.random.default_rng(3)
    d = np.r_[rng.normal(-1, 2, 500), 40.0, -40.0, 0.0]
    drops = rng.normal(0, 0.5, (len(d), 6))
    drops[::3] = 0.0
    calibration = Calibration(slope, intercept)
    expected = calibration(d)[:, None] - calibration(d[:, None] - drops)
    assert np.array_equal(calibration.falls(d, drops), expected)
    assert np.array_equal(calibration.falls(d[:0], drops[:0]), expected[:0])
