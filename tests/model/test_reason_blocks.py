"""Reasons written block by block read exactly as reasons written in one piece, after threshold moves too."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import RecoveryConfig
from core.model import explain, wording
from core.pipeline import prepare
from sample_data.generate import generate_portfolio

COLUMNS = ["Age", "Monthly_Income", "Loan_Amount", "Interest_Rate", "Monthly_EMI", "Days_Past_Due",
           "EMI_To_Income", "Employment_Type", "Payment_History"]


@pytest.fixture(scope="module")
def book():
    """A prepared book with some unknown values, its field groups and per-borrower effects."""
    df, _ = generate_portfolio(2500, seed=23)
    df.loc[df.index[::37], "Monthly_Income"] = np.nan  # 'missing' and ratio-less reasons too
    df.loc[df.index[::53], "Employment_Type"] = None
    frame = prepare(df, RecoveryConfig().roles).features
    groups = explain.field_groups(COLUMNS, frame)
    rng = np.random.default_rng(23)
    effects = rng.normal(0, 0.03, (len(frame), len(groups)))
    effects[::11] = 0.0  # borrowers no field moves: the typical borrower's words
    return frame, groups, effects


def _words(book, flagged, monkeypatch, block_rows, picks=None) -> tuple[list[str], explain.ReasonPicks]:
    """The reasons in words with blocks of ``block_rows`` borrowers (fresh picks unless given)."""
    frame, groups, effects = book
    monkeypatch.setattr(explain, "REASON_BLOCK_ROWS", block_rows)
    picks = picks if picks is not None else explain.pick_reasons(effects, groups)
    return list(explain.reasons(frame, picks, flagged)), picks


def _flags(n: int, share: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(n) < share


@pytest.mark.parametrize("block_rows", [97, 1000, 2499])  # 2499: a last block of one borrower
def test_blocks_of_any_size_give_the_one_piece_words(book, monkeypatch, block_rows):
    flagged = _flags(len(book[0]), 0.3, 1)
    whole, _ = _words(book, flagged, monkeypatch, 10**9)
    blocked, _ = _words(book, flagged, monkeypatch, block_rows)
    assert blocked == whole
    assert any(w == explain.TYPICAL for w in whole) and any("missing" in w for w in whole)
    assert len(set(whole)) > 1000  # real, varied words


def test_moving_the_threshold_back_and_forth_gives_the_fresh_words(book, monkeypatch):
    n = len(book[0])
    first, second = _flags(n, 0.3, 2), _flags(n, 0.6, 3)
    kept = None
    for flagged in (first, second, first, np.zeros(n, bool), np.ones(n, bool)):
        moved, kept = _words(book, flagged, monkeypatch, 300, kept)
        fresh, _ = _words(book, flagged, monkeypatch, 10**9)
        assert moved == fresh
    # every borrower's words on both sides are kept once written: a later move writes none again
    assert kept.written["up"].null_count == 0 and kept.written["down"].null_count == 0


def test_kept_texts_are_the_shown_words_of_their_side(book, monkeypatch):
    n = len(book[0])
    flagged = _flags(n, 0.4, 4)
    shown, picks = _words(book, flagged, monkeypatch, 500)
    up, down = picks.written["up"].to_pylist(), picks.written["down"].to_pylist()
    assert up == [w if f else None for w, f in zip(shown, flagged)]
    assert down == [None if f else w for w, f in zip(shown, flagged)]


def test_a_worker_process_writes_its_blocks_on_one_thread_with_the_same_words(book, monkeypatch):
    import pyarrow as pa

    flagged = _flags(len(book[0]), 0.3, 7)
    threaded, _ = _words(book, flagged, monkeypatch, 300)
    cores = pa.cpu_count()
    # a streamed worker holds Arrow to one CPU: its blocks are written without starting threads
    monkeypatch.setattr(explain, "run_in_workers", lambda *args, **kwargs: pytest.fail("threads were started"))
    pa.set_cpu_count(1)
    try:
        one, _ = _words(book, flagged, monkeypatch, 300)
    finally:
        pa.set_cpu_count(cores)
    assert one == threaded and len(set(one)) > 1000


def test_an_empty_book_has_no_reasons(book, monkeypatch):
    frame, groups, effects = book
    picks = explain.pick_reasons(effects[:0], groups)
    assert list(explain.reasons(frame.iloc[:0], picks, np.zeros(0, bool))) == []


def test_reasons_left_for_the_download_are_the_words_of_the_table(book, monkeypatch):
    frame, groups, effects = book
    flagged = _flags(len(frame), 0.35, 5)
    whole, _ = _words(book, flagged, monkeypatch, 10**9)
    monkeypatch.setattr(explain, "LATER_BLOCK_ROWS", 97)  # 26 blocks: more than the two written ahead
    picks = explain.pick_reasons(effects, groups)
    blocks = list(explain.ReasonsLater(frame, picks, flagged).blocks())
    assert [len(b) for b in blocks] == [97] * 25 + [len(frame) - 25 * 97]
    assert [w for b in blocks for w in b.to_pylist()] == whole
    assert "up" not in picks.written and "down" not in picks.written  # nothing of the words is kept


def test_picks_made_block_by_block_are_the_one_piece_picks(book, monkeypatch):
    _, groups, effects = book
    whole = explain.pick_reasons(effects, groups)
    monkeypatch.setattr(explain, "REASON_BLOCK_ROWS", 97)
    blocked = explain.pick_reasons(effects, groups)
    assert np.array_equal(blocked.up, whole.up) and np.array_equal(blocked.down, whole.down)
    assert blocked.up.dtype == np.int16 and (whole.up >= 0).any() and (whole.down == -1).any()


def test_picks_made_fold_block_by_block_are_those_of_the_whole_effects(book, monkeypatch):
    from core.model import risk

    frame = book[0]
    numeric = ["Age", "Monthly_Income", "Monthly_EMI", "Days_Past_Due", "EMI_To_Income"]
    categorical = ["Employment_Type", "Payment_History"]
    columns = numeric + categorical
    rng = np.random.default_rng(7)
    y = (rng.random(len(frame)) < 0.4).astype(float)
    y[::9] = np.nan  # borrowers without an outcome: explained by the mean of the fold models
    positions = rng.permutation(len(frame))  # the frame's row of each of the run's rows (a fold order)
    run = risk.out_of_fold(lambda: risk.make_model("gradient_boosting", numeric, categorical, 0),
                           frame[columns], y, 3, 0, True, positions=positions)
    explainers = [explain.Explainer(m, columns) for m in run.models]
    groups = explain.field_groups(columns, frame)
    whole = explain.pick_reasons(explain.reason_effects(run, explainers, frame, groups, positions), groups)
    monkeypatch.setattr(explain, "EXPLAIN_BLOCK_ROWS", 101)
    picked = explain.reason_picks(run, explainers, frame, groups, positions)
    assert np.array_equal(picked.up, whole.up) and np.array_equal(picked.down, whole.down)
    assert (whole.up[positions[np.isnan(y)]] >= 0).any() and (whole.up >= 0).any() and (whole.down >= 0).any()


def test_a_fields_levels_write_the_words_its_sorted_values_write_and_are_all_that_is_kept(book, monkeypatch):
    frame, groups, effects = book
    rows = np.arange(0, len(frame), 3)
    for field, ratios in (("Monthly_Income", ("EMI_To_Income",)), ("Age", ()), ("Days_Past_Due", ())):
        known = explain._sorted_values(frame, field)
        by_levels = wording.field_text(frame, field, ratios, rows, wording.Levels.of(known)).to_pylist()
        assert by_levels == wording.field_text(frame, field, ratios, rows, known).to_pylist()
        assert any(" high for this portfolio" in w for w in by_levels)
    _, picks = _words(book, _flags(len(frame), 0.3, 6), monkeypatch, 500)
    kept = {key: value for key, value in picks.written.items() if isinstance(key, tuple)}
    # a few bytes a field while the words are kept, not a sorted copy of every borrower's value
    assert kept and all(isinstance(value, wording.Levels) and len(value.cuts) == 5 for value in kept.values())


@pytest.mark.parametrize("fields", [0, 1, 3, 4, 14])
def test_quick_picks_are_the_stable_sort_picks_even_among_equal_effects(fields):
    rng = np.random.default_rng(fields)
    just = explain.MIN_EFFECT
    # few distinct values: every row has equal effects, at and beside the threshold, on both sides
    levels = np.array([0.0, -0.0, just, -just, np.nextafter(just, 0), -np.nextafter(just, 0), 0.1, -0.1, 0.02])
    effects = rng.choice(levels, size=(3000, fields))
    if fields:
        effects[:1000] = rng.normal(0, 0.03, (1000, fields))  # and rows of distinct effects
        effects[-1, 0] = np.nan  # a NaN's place is the sort's own rule
    for k in range(min(explain.TOP_REASONS, fields) + 1):
        for rows in (slice(0, 1000), slice(1000, 2999), slice(None)):
            quick, sorted_ = explain._picks(effects[rows], k), explain._picks_sorted(effects[rows], k)
            assert all(np.array_equal(q, s) and q.dtype == s.dtype for q, s in zip(quick, sorted_))
    up, down = explain._picks(effects[1000:2999], min(3, fields))
    if fields >= 3:  # equal effects were really picked, leftmost first among rises and rightmost among falls
        row = np.flatnonzero((effects[1000:2999] == 0.1).sum(axis=1) >= 2)[0]
        ties = np.flatnonzero(effects[1000 + row] == 0.1)
        assert list(up[row][:2]) == list(ties[:2])
        row = np.flatnonzero((effects[1000:2999] == -0.1).sum(axis=1) >= 2)[0]
        ties = np.flatnonzero(effects[1000 + row] == -0.1)
        assert list(down[row][:2]) == list(ties[::-1][:2])
