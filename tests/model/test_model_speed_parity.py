"""The faster score stage says exactly what the slower one said: same words, same codes, same scores.

The references below are the previous implementations, kept here word for word: reasons written
for every row (not once per distinct value), category codes looked up per row, fold models
asked one after another. One deliberate change: a file's own field is written whole when all the
field's values are whole (before: when the values of the borrowers sharing that reason slot were,
so one value could read '2' in a first reason and '2.00' in a second).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from core.config import RecoveryConfig
from core.data.labels import label_in
from core.model import explain, risk, wording
from core.pipeline import prepare
from sample_data.generate import generate_portfolio

# --- the previous implementations -----------------------------------------------------------


def reference_ratio_text(ratios, frame: pd.DataFrame, rows: np.ndarray) -> pa.Array:
    phrases = []
    for ratio in ratios:
        x = frame[ratio].to_numpy(dtype="float64", na_value=np.nan)[rows]
        before, after = wording.RATIO_PHRASES[ratio]
        known = np.isfinite(x)
        phrase = wording._join(before, wording.percent_text(np.where(known, x, 0.0)), after)
        phrases.append(pc.if_else(pa.array(known), phrase, pa.nulls(len(rows), pa.string())))
    if not phrases:
        return pa.array([""] * len(rows), type=pa.string())
    inside = wording._skipping_nulls(phrases, ", ")
    return pc.fill_null(wording._join(" (", inside, ")"), "")


def reference_field_text(frame, field, ratios, rows, known_sorted) -> pa.Array:
    name = label_in(field, frame.columns)  # the readable label production uses since the labels work
    values = frame[field]
    if known_sorted is None:
        picked = values.iloc[rows].astype("object")
        text = pa.array(picked.where(picked.notna(), "missing").astype(str).to_numpy(), type=pa.string())
        return wording._join(f"{name}: ", text)
    x = values.to_numpy(dtype="float64", na_value=np.nan)[rows]
    known = np.isfinite(x)
    extra = reference_ratio_text(ratios, frame, rows)
    whole = bool(np.all(known_sorted == np.rint(known_sorted)))  # the one change: the field's, not the slot's
    present = wording._join(f"{name} ", wording.number_text(field, np.where(known, x, 0.0), whole), ", ",
                            wording.level_text(x, known_sorted), " for this portfolio", extra)
    return pc.if_else(pa.array(known), present, wording._join(f"{name} missing", extra))


def _joined(slots: list[pa.Array]) -> pa.Array:
    """The reasons of each row joined with '; ' (TYPICAL where there is none), as they were joined slot by slot."""
    prefixes = [pc.binary_join_element_wise(*slots[:k], "; ") if k > 1 else slots[0]
                for k in range(len(slots), 0, -1)]
    return pc.coalesce(*prefixes, pa.scalar(wording.TYPICAL))


def reference_joined(frame, groups, chosen, rows) -> pa.Array:
    slots = []
    for slot in range(chosen.shape[1]):
        pieces, places = [], []
        for g, group in enumerate(groups):
            at = np.flatnonzero(chosen[:, slot] == g)
            if len(at):
                known = explain._sorted_values(frame, group.field)
                pieces.append(reference_field_text(frame, group.field, group.ratios, rows[at], known))
                places.append(at)
        none = np.flatnonzero(chosen[:, slot] < 0)
        pieces.append(pa.nulls(len(none), pa.string()))
        places.append(none)
        back = np.argsort(np.concatenate(places), kind="stable")
        slots.append(pc.take(pa.concat_arrays(pieces), pa.array(back)))
    return _joined(slots)


def reference_code(codes: risk.FieldCodes, name: str, values) -> np.ndarray:
    found = pd.Index(codes.categories_[name]).get_indexer(pd.Series(values, dtype="str")).astype("float64")
    found[found < 0] = np.nan
    return found


# --- a frame that tries every way two values could be written alike -------------------------


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 4000

    def holes(x: np.ndarray) -> np.ndarray:
        x = x.astype("float64")
        x[rng.random(n) < 0.05] = np.nan
        return x

    own_mixed = rng.integers(0, 50, n).astype("float64")
    own_mixed[:4] = [2.0, 2.001, -0.3, 0.2]  # whole-looking and not: written with decimals throughout
    return pd.DataFrame({
        "Monthly_Income": holes(np.round(rng.uniform(-5_000, 2e6, n), 1)),
        "Monthly_EMI": holes(np.r_[[-0.4, 0.4, -0.0, 0.0, 999.5, 1000.5], rng.uniform(0, 9e4, n - 6)]),
        "Days_Past_Due": holes(rng.integers(0, 400, n)),
        "Interest_Rate": holes(rng.uniform(-1, 30, n).round(3)),
        "Own_Whole": holes(rng.integers(-20, 20, n)),
        "Own_Mixed": holes(own_mixed),
        "EMI_To_Income": holes(np.r_[[-0.004, 0.004, -0.0051, 1e6], rng.uniform(0, 3, n - 4)]),
        "Outstanding_Share": holes(rng.uniform(0, 1.2, n)),
        "Employment_Type": pd.array(rng.choice(["Salaried", "Self-Employed", "", "nan", None], n), dtype="str"),
        "Mixed_Category": pd.Series(rng.choice(np.array([1, 1.0, True, "1", None], dtype=object), n), dtype=object),
    })


FIELDS = [
    ("Monthly_Income", ("EMI_To_Income",)),
    ("Monthly_EMI", ("EMI_To_Income", "Outstanding_Share")),
    ("Days_Past_Due", ()),
    ("Interest_Rate", ()),
    ("Own_Whole", ()),
    ("Own_Mixed", ("Outstanding_Share",)),
    ("Employment_Type", ()),
    ("Mixed_Category", ()),
]


@pytest.mark.parametrize("field, ratios", FIELDS)
def test_each_reason_reads_as_before_row_by_row(frame, field, ratios):
    rows = np.random.default_rng(5).permutation(len(frame))[:3000]
    known = explain._sorted_values(frame, field)
    new = wording.field_text(frame, field, ratios, rows, known).to_pylist()
    old = reference_field_text(frame, field, ratios, rows, known).to_pylist()
    assert new == old
    if field == "Own_Mixed":  # the whole-number check is the field's, not each value's
        assert new[list(rows).index(0)].startswith("Own mixed 2.00,")


def test_joined_reasons_read_as_before_for_every_slot_pattern(frame):
    groups = tuple(explain.FieldGroup(f, (f,) + r, r) for f, r in FIELDS)
    rng = np.random.default_rng(8)
    rows = np.sort(rng.choice(len(frame), 2500, replace=False))
    # distinct fields per row, best first; empty slots only at the end
    chosen = np.argsort(rng.random((len(rows), len(groups))), axis=1)[:, :3].astype(np.int16)
    filled = rng.integers(0, 4, len(rows))
    chosen[np.arange(3)[None, :] >= filled[:, None]] = -1
    new = explain._joined(frame, groups, chosen, rows, {}).to_pylist()
    assert new == reference_joined(frame, groups, chosen, rows).to_pylist()
    assert wording.TYPICAL in new


def test_category_codes_as_before_for_text_objects_and_mixed_values(frame):
    fit = pd.DataFrame({"Employment_Type": frame["Employment_Type"],
                        "Mixed_Category": frame["Mixed_Category"].astype(str)})
    codes = risk.FieldCodes([], ["Employment_Type", "Mixed_Category"]).fit(fit)
    asked = {
        "Employment_Type": [frame["Employment_Type"].to_numpy(), frame["Employment_Type"],
                            np.array(["Salaried", np.nan, None, "unseen"], dtype=object), np.array(["Salaried"])],
        "Mixed_Category": [frame["Mixed_Category"].to_numpy(), np.array([1, 1.0, "1.0", None], dtype=object)],
    }
    for name, variants in asked.items():
        for values in variants:
            np.testing.assert_array_equal(codes.code(name, values), reference_code(codes, name, values))


# --- scores and explanations: read once, on both cores, the same numbers -----------------------


@pytest.fixture(scope="module")
def portfolio():
    df, _ = generate_portfolio(1500, seed=11)
    prepared = prepare(df, RecoveryConfig().roles)
    frame = prepared.features
    columns = [c for c in ("Age", "Monthly_Income", "Loan_Amount", "Interest_Rate", "Monthly_EMI",
                           "Days_Past_Due", "EMI_To_Income", "Employment_Type", "Payment_History")]
    y = (df["Recovery_Status"] != "Fully Recovered").to_numpy().astype("float64")
    y[::61] = np.nan  # a few borrowers without an outcome: scored by the mean of the folds
    return frame, columns, y


def _run(frame, columns, y, calibrate: bool, workers: int | None, monkeypatch):
    """Out-of-fold scores and reasons' effects, with every worker pool held to ``workers``."""
    if workers is not None:
        real = risk.run_in_workers
        monkeypatch.setattr(risk, "run_in_workers", lambda tasks, done=None, workers=2: real(tasks, done, 1))
        monkeypatch.setattr(explain, "run_in_workers", lambda tasks, done=None, workers=2: real(tasks, done, 1))
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])]
    categorical = [c for c in columns if c not in numeric]
    run = risk.out_of_fold(lambda: risk.make_model("gradient_boosting", numeric, categorical, 42),
                           frame[columns], y, 3, 42, calibrate)
    groups = explain.field_groups(columns, frame)
    explainers = [explain.Explainer(m, columns) for m in run.models]
    effects = explain.reason_effects(run, explainers, frame, groups)
    monkeypatch.undo()
    return run, explainers, groups, effects


@pytest.mark.parametrize("calibrate", [True, False])
def test_two_cores_give_exactly_the_one_core_scores_and_reasons(portfolio, calibrate, monkeypatch):
    frame, columns, y = portfolio
    two, explainers, groups, two_effects = _run(frame, columns, y, calibrate, None, monkeypatch)
    if calibrate:  # one core against two once: the uncalibrated run shares every step but the last
        one, *_, one_effects = _run(frame, columns, y, calibrate, 1, monkeypatch)
        np.testing.assert_array_equal(one.scores, two.scores)
        np.testing.assert_array_equal(one_effects, two_effects)
    # scores as each fold model itself says them, with nothing kept from scoring
    for model, calibration, rows in zip(two.models, two.calibrations, two.test_rows):
        own = risk.probability(model, calibration, frame[columns].iloc[rows], calibrate)
        np.testing.assert_array_equal(two.scores[rows], own)
    # explanations from the kept places equal explanations read afresh
    typical = explain.typical_row(frame, [g.field for g in groups])
    values = [typical[g.field] for g in groups]
    rows = two.test_rows[1]
    kept = explainers[1].changes(frame.iloc[rows], groups, values, two.places[1])
    fresh = explainers[1].changes(frame.iloc[rows], groups, values)
    for a, b in zip(kept, fresh):
        np.testing.assert_array_equal(a, b)
    assert len(set(np.round(two.scores, 6))) > 100  # real, varied scores


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 10, 11, 97, 1000, 4001])
def test_level_read_from_five_cuts_is_the_level_read_from_the_whole_portfolio(n):
    rng = np.random.default_rng(n)
    known = np.sort(rng.integers(0, 20, n).astype("float64") if n % 2 else rng.normal(size=n))
    values = np.r_[known, rng.normal(size=50), rng.integers(-2, 25, 50)]
    cut = np.searchsorted(wording.level_cuts(known), values, side="right")
    np.testing.assert_array_equal(cut, wording._level_index(values, known))
