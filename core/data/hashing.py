"""pandas' hashes of text cells (``pd.util.hash_array`` of them as Python strings), computed from Arrow's bytes.

pandas hashes each string's UTF-8 bytes with SipHash-2-4 under a fixed key, one Python call per
string, then mixes the 64 bits. Arrow text already holds those bytes end to end, so the same
rounds run here on every cell at once, grouped by how many 8-byte words a cell has: the result is
bit for bit pandas' (a test compares them on ASCII, non-ASCII, empty and long cells).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

_KEY = b"0123456789123456"  # pandas' default hash key (pandas.core.util.hashing._default_hash_key)
_K0, _K1 = (int.from_bytes(_KEY[:8], "little"), int.from_bytes(_KEY[8:], "little"))
_MASK = 0xFFFFFFFFFFFFFFFF


def _rotl(x: np.ndarray, bits: int, spare: np.ndarray) -> None:
    """x rotated left by ``bits`` in 64 bits, in place (``spare``: scratch of x's size)."""
    np.left_shift(x, np.uint64(bits), out=spare)
    np.right_shift(x, np.uint64(64 - bits), out=x)
    x |= spare


def _rounds(v: list[np.ndarray], times: int, spare: np.ndarray) -> None:
    """``times`` SipRounds on the four state words, in place."""
    v0, v1, v2, v3 = v
    for _ in range(times):
        v0 += v1
        _rotl(v1, 13, spare)
        v1 ^= v0
        _rotl(v0, 32, spare)
        v2 += v3
        _rotl(v3, 16, spare)
        v3 ^= v2
        v0 += v3
        _rotl(v3, 21, spare)
        v3 ^= v0
        v2 += v1
        _rotl(v1, 17, spare)
        v1 ^= v2
        _rotl(v2, 32, spare)


def _siphash(words: list[np.ndarray]) -> np.ndarray:
    """SipHash-2-4 of messages already cut into little-endian words (the last with the length on top)."""
    n = len(words[0])
    v = [np.full(n, (c ^ k) & _MASK, dtype=np.uint64) for c, k in (
        (0x736F6D6570736575, _K0), (0x646F72616E646F6D, _K1), (0x6C7967656E657261, _K0), (0x7465646279746573, _K1))]
    spare = np.empty(n, dtype=np.uint64)
    for m in words:
        v[3] ^= m
        _rounds(v, 2, spare)
        v[0] ^= m
    v[2] ^= np.uint64(0xFF)
    _rounds(v, 4, spare)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def _mixed(values: np.ndarray) -> np.ndarray:
    """pandas' final spreading of 64-bit hashes (hashing._hash_ndarray)."""
    values ^= values >> np.uint64(30)
    values *= np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(27)
    values *= np.uint64(0x94D049BB133111EB)
    values ^= values >> np.uint64(31)
    return values


def text_hashes(cells: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """``pd.util.hash_array`` of the cells as Python strings; None for cells with a missing value or another type."""
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks() if cells.num_chunks != 1 else cells.chunk(0)
    if cells.null_count or not (pa.types.is_string(cells.type) or pa.types.is_large_string(cells.type)):
        return None
    result = np.empty(len(cells), dtype=np.uint64)
    if not len(cells):
        return result
    _, offsets_buffer, data_buffer = cells.buffers()
    width = np.int64 if pa.types.is_large_string(cells.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=width)[cells.offset:cells.offset + len(cells) + 1].astype(np.int64)
    # the cells' bytes with eight zero bytes after them, read as a little-endian word from every position
    padded = np.zeros(int(offsets[-1] - offsets[0]) + 8, dtype=np.uint8)
    if data_buffer is not None:
        padded[:-8] = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0]:offsets[-1]]
    windows = np.ndarray((len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    starts, lengths = offsets[:-1] - offsets[0], np.diff(offsets)
    count = lengths // 8 + 1  # whole words, then one with the rest and the length's low byte on top
    for words in np.flatnonzero(np.bincount(count)):
        at = np.flatnonzero(count == words) if count[0] != words or not (count == words).all() else slice(None)
        first, length = starts[at], lengths[at]
        message = [windows[first + 8 * j].astype(np.uint64) for j in range(int(words))]
        rest = ((length - 8 * (int(words) - 1)) * 8).astype(np.uint64)  # bits of the last word that are the cell's
        message[-1] &= (np.uint64(1) << rest) - np.uint64(1)
        message[-1] |= (length.astype(np.uint64) & np.uint64(0xFF)) << np.uint64(56)
        result[at] = _siphash(message)
    return _mixed(result)


def loan_hashes(ids: pd.Series) -> np.ndarray:
    """``pd.util.hash_array`` of filled IDs as Python strings: from Arrow's bytes when they are Arrow text."""
    hashes = text_hashes(pa.chunked_array(pa.array(ids.array))) if isinstance(ids.dtype, pd.StringDtype) and (
        ids.dtype.storage == "pyarrow") else None
    # categorize=False changes no hash: it only skips finding the distinct IDs first, which IDs nearly all are
    return hashes if hashes is not None else pd.util.hash_array(ids.to_numpy(dtype=object), categorize=False)
