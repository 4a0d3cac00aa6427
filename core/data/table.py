"""The text table a file is read into, how it was read, and the limits of what is read."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from typing import Any, TypeVar

import charset_normalizer
import numpy as np
import pandas as pd
import pyarrow as pa

from core.errors import RecoveryError

T = TypeVar("T")


ZIP_MAGIC = b"PK\x03\x04"  # every .xlsx (and every other zip) starts so
ROW = "Row"


PROBLEMS = "Problems"


SEPARATORS = (",", ";", "\t", "|")


SAVE_AS = "Save it from Excel as .xlsx or 'CSV UTF-8' and upload it again."


@dataclass(frozen=True)
class Limits:
    """The largest file the app will read."""

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 1_000_000
    max_columns: int = 500


@dataclass(frozen=True)
class FileInfo:
    """How a file was read."""

    name: str
    format: str
    encoding: str | None
    separator: str | None
    sheet: str | None
    sheets: tuple[str, ...]
    rows: int
    columns: int
    header_row: int = 1  # spreadsheet row (CSV: record) of the header
    notes: tuple[str, ...] = ()  # what the reading noticed and a user should know


@dataclass(frozen=True)
class RawTable:
    """Every cell as text (or missing), headers as written, indexed by spreadsheet row."""

    frame: pd.DataFrame
    info: FileInfo


def file_size(n: int) -> str:
    """Bytes as a short human size."""
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def too_many_rows(name: str, limits: Limits) -> RecoveryError:
    """The error for a CSV file with more data rows than the limit."""
    return RecoveryError(f"{name} has more than {limits.max_rows:,} rows, over the limit "
                         f"(max_rows). Split the file into smaller parts.")


def shortened(text: str, size: int = 60) -> str:
    """Text on one line, cut to ``size`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= size else line[: size - 1] + "…"


def is_blank(value: Any) -> bool:
    """True for a cell with nothing in it."""
    return value is None or (isinstance(value, str) and not value.strip())


def column_letter(position: int) -> str:
    """Spreadsheet column letter of a 0-based position (0 -> A, 26 -> AA)."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_text(value: Any) -> str | None:
    """The text of a cell as a user reads it: whole floats without '.0', dates without 'T'."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        # As Excel shows it: a date without a time is the date alone.
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


OTHER_FORMATS = {b"%PDF": "a PDF document", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
                  b"\x1f\x8b": "a gzip archive", b"PK\x05\x06": "an empty zip archive"}


def detect_format(data: bytes, name: str) -> str:
    """UTF-8 if it decodes, else the legacy encoding charset-normalizer finds."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    results = list(charset_normalizer.from_bytes(data))
    if not results:
        raise RecoveryError(f"{name} is not text in any encoding we recognise; it looks like "
                            f"binary data. {SAVE_AS}")
    # Excel on Western Windows writes cp1252; charset-normalizer often ranks a sibling code
    # page, or on short files even a CJK one ('Zürich' as 'Z黵ich'), first. cp1252 is asked
    # about by name and wins unless it reads clearly worse.
    best_chaos = results[0].chaos
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return results[0].encoding
    if any("cp1252" in r.could_be_from_charset and r.chaos <= best_chaos + 0.1 for r in results):
        return "cp1252"
    western = list(charset_normalizer.from_bytes(data, cp_isolation=["cp1252"]))
    if western and western[0].chaos <= best_chaos + 0.1:
        return "cp1252"
    return results[0].encoding


def open_zip(data: bytes) -> tuple[zipfile.ZipFile, int, int]:
    """A zip archive with the bytes and member count its directory declares, read before anything is unpacked.

    The one zip-bomb guard of the product: a workbook and a saved model each compare these with their own
    caps. Raises zipfile.BadZipFile (or OSError, ValueError, EOFError) for a damaged archive.
    """
    archive = zipfile.ZipFile(io.BytesIO(data))
    members = archive.infolist()
    return archive, sum(m.file_size for m in members), len(members)


def _chunk_edges_plain(chunk: pa.Array) -> bool:
    """plain_edges for one Arrow string array, read from its offsets and bytes without a copy."""
    if pa.types.is_large_string(chunk.type):
        width = np.int64
    elif pa.types.is_string(chunk.type):
        width = np.int32
    else:
        return False  # another layout: the caller asks the kernels
    _, offsets_buffer, data_buffer = chunk.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=width)[chunk.offset:chunk.offset + len(chunk) + 1]
    if data_buffer is None or offsets[-1] == offsets[0]:
        return True  # every cell empty
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0]:offsets[-1]]
    # Each cell's first byte and the byte before each cell's end. An empty (or missing) cell lands on a
    # neighbour's first or last byte, or on the last byte: bytes that are looked at anyway.
    first = data[np.minimum(offsets[:-1] - offsets[0], len(data) - 1)]
    last = data[offsets[1:] - (offsets[0] + 1)]
    # Printable ASCII other than the space (33-126, and 127) is never whitespace nor part of a
    # non-ASCII character; anything else (control bytes too) leaves the question to the kernels.
    return bool(first.min() > 32 and first.max() < 128 and last.min() > 32 and last.max() < 128)


def first_bytes(cells: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Each cell's first byte as uint8 (0 for an empty or missing cell, and for every cell of a non-string layout)."""
    found = [np.zeros(0, dtype=np.uint8)]
    for chunk in cells.chunks if isinstance(cells, pa.ChunkedArray) else [cells]:
        width = (np.int64 if pa.types.is_large_string(chunk.type)
                 else np.int32 if pa.types.is_string(chunk.type) else None)
        _, offsets_buffer, data_buffer = chunk.buffers() if width is not None else (None, None, None)
        if data_buffer is None or not len(chunk):
            found.append(np.zeros(len(chunk), dtype=np.uint8))
            continue
        offsets = np.frombuffer(offsets_buffer, dtype=width)[chunk.offset:chunk.offset + len(chunk) + 1]
        data = np.frombuffer(data_buffer, dtype=np.uint8)[:int(offsets[-1])]
        if not len(data):
            found.append(np.zeros(len(chunk), dtype=np.uint8))
            continue
        # An empty cell's start is past the data at worst: clipped, then zeroed as empty.
        first = data[np.minimum(offsets[:-1], len(data) - 1).astype(np.intp)]
        first[offsets[1:] == offsets[:-1]] = 0
        if chunk.null_count:
            first[~np.asarray(chunk.is_valid())] = 0
        found.append(first)
    return np.concatenate(found)


def plain_edges(cells: pa.Array | pa.ChunkedArray) -> bool:
    """True when no cell starts or ends with whitespace (or with a non-ASCII character, which might be).

    Such cells are their own str.strip(): the usual numeric column is settled by looking at two
    bytes per cell instead of trimming every cell into a copy.
    """
    chunks = cells.chunks if isinstance(cells, pa.ChunkedArray) else [cells]
    return all(_chunk_edges_plain(chunk) for chunk in chunks)

