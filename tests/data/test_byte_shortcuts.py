"""The byte-level shortcuts of checking give what the kernels they skip would give, cell for cell."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import numbers
from core.data.table import first_bytes, plain_edges

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Digits, points, signs and what else a numeric cell holds, plus whitespace of both kinds.
CELL_TEXT = st.text(alphabet=st.sampled_from(list("0123456789.+-,e $%") + [" ", "\t", "\u00a0", "\u3000", "é"]),
                    max_size=9)
CELLS = st.lists(st.one_of(st.none(), CELL_TEXT), max_size=40)


def _chunked(cells: list[str | None], large: bool, cut: int) -> pa.ChunkedArray:
    """The cells as Arrow text in two chunks, the second a slice, as reading and taking leave them."""
    kind = pa.large_string() if large else pa.string()
    cut = min(cut, len(cells))
    head = pa.array(cells[:cut], type=kind)
    tail = pa.array(["pad", *cells[cut:]], type=kind).slice(1)
    return pa.chunked_array([head, tail], type=kind)


@FAST
@given(CELLS, st.booleans(), st.integers(0, 40))
def test_decimals_told_from_bytes_match_the_regex(cells, large, cut):
    text = _chunked(cells, large, cut)
    filled = text.filter(pa.array([c is not None for c in cells], type=pa.bool_()))
    matched, pointed = numbers._fast_shapes(filled)
    regex = numbers.flags(pc.match_substring_regex(filled, numbers._FAST))
    assert matched.tolist() == regex.tolist()
    assert pointed.tolist() == (regex & numbers.flags(pc.match_substring(filled, "."))).tolist()


@FAST
@given(CELLS, st.booleans(), st.integers(0, 40))
def test_plain_edges_only_where_stripping_changes_nothing(cells, large, cut):
    text = _chunked(cells, large, cut)
    if plain_edges(text):
        assert [c if c is None else c.strip() for c in cells] == cells


@FAST
@given(CELLS, st.booleans(), st.integers(0, 40))
def test_first_bytes_are_each_cells_first_byte(cells, large, cut):
    expected = [c.encode()[0] if c else 0 for c in cells]
    assert first_bytes(_chunked(cells, large, cut)).tolist() == expected


def test_usual_numeric_cells_are_plain_and_twelve_point_three_nine_is_a_decimal():
    text = pa.chunked_array([pa.array(["12.39", "701624", "", None, "1.234", "0.0", "-5.5"])])
    assert plain_edges(text)
    assert not plain_edges(pa.chunked_array([pa.array(["12", " 5"])]))
    assert not plain_edges(pa.chunked_array([pa.array(["12", "5\u00a0"])]))
    matched, pointed = numbers._fast_shapes(text.filter(pa.array([True, True, False, False, True, True, True])))
    assert matched.tolist() == [True, True, False, True, True]
    assert pointed.tolist() == [True, False, False, True, True]


def test_checking_threads_follow_the_process_budget_a_streaming_worker_sets():
    import pyarrow as pa

    from core.data import validate

    before = pa.cpu_count()
    try:
        pa.set_cpu_count(2)
        assert validate._workers(validate.PARALLEL_ROWS) == 2 and validate._workers(1_000) == 1
        pa.set_cpu_count(1)  # what each forked streaming worker sets
        assert validate._workers(validate.PARALLEL_ROWS) == 1
    finally:
        pa.set_cpu_count(before)
