"""IDs hashed from Arrow's bytes give pandas' own hashes of them as Python strings, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from core.data import loan_hashes
from core.data.hashing import text_hashes

AWKWARD = ["LN_1", "", "é", "日本語テキスト", "x" * 7, "y" * 8, "z" * 9, "a" * 16, "b" * 300, "LN_1", "\x00ab", " LN 2 ",
           "😀" * 3, "\u00a0", "ID-0000000000000000000000000000001"]


def _pandas(cells: list[str]) -> np.ndarray:
    return pd.util.hash_array(np.array(cells, dtype=object))


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_hashes_from_arrow_bytes_are_pandas_hashes_of_the_strings(kind):
    cells = AWKWARD + [f"LN_{i}" for i in range(2000)]
    array = pa.array(cells, type=kind)
    np.testing.assert_array_equal(text_hashes(array), _pandas(cells))
    np.testing.assert_array_equal(text_hashes(array.slice(3, 40)), _pandas(cells[3:43]))
    np.testing.assert_array_equal(text_hashes(pa.chunked_array([array.slice(0, 5), array.slice(5)])), _pandas(cells))
    assert text_hashes(pa.array(["a", None])) is None and len(text_hashes(pa.array([], type=pa.string()))) == 0


@pytest.mark.parametrize("dtype", ["str", object])
def test_loan_hashes_of_a_column_are_those_of_its_ids_as_python_strings(dtype):
    ids = pd.Series(AWKWARD, index=range(2, 2 + len(AWKWARD)), dtype=dtype)
    np.testing.assert_array_equal(loan_hashes(ids), _pandas(AWKWARD))
