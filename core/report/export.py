"""Safe CSV / Excel writers: user text can never turn into a spreadsheet formula.

Uploaded portfolios are opened in Excel by analysts, and a cell such as
``=HYPERLINK("http://evil", "click")`` would run there as a formula (OWASP "CSV injection").
Text that begins with a formula trigger is therefore prefixed with a single quote, which
spreadsheets treat as "this is text". Real numbers are left alone so sums still work.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.decide import MEASUREMENT_MONEY
from core.display import money_format
from core.errors import RecoveryError
from core.report.files import atomic_file

# OWASP's list of characters that make a spreadsheet read a cell as a formula.
DANGEROUS_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
# Control characters XML 1.0 forbids (openpyxl's ILLEGAL_CHARACTERS_RE): an Excel cell cannot hold them.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
BOM = b"\xef\xbb\xbf"  # so Excel reads the file as UTF-8 and shows accents
# Excel's hard limits; openpyxl would silently truncate or refuse beyond them.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384
EXCEL_MAX_SHEET_NAME = 31


def neutralise_text(value: str) -> str:
    """Prefix ``value`` with a quote if a spreadsheet would read it as a formula."""
    return QUOTE + value if value.startswith(DANGEROUS_PREFIXES) else value


def _neutralise_value(value: Any) -> Any:
    """Neutralise strings; pass numbers, missing values and everything else through."""
    return neutralise_text(value) if isinstance(value, str) else value


def _is_text_column(s: pd.Series) -> bool:
    """True when the column can hold strings (object, str, or categorical dtype)."""
    return not (
        pd.api.types.is_numeric_dtype(s.dtype)
        or pd.api.types.is_bool_dtype(s.dtype)
        or pd.api.types.is_datetime64_any_dtype(s.dtype)
        or pd.api.types.is_timedelta64_dtype(s.dtype)
    )


# Each prefix is one ASCII character: a cell is risky exactly when its first byte is one of these.
_RISKY_FIRST_BYTE = np.zeros(256, dtype=bool)
_RISKY_FIRST_BYTE[[ord(p) for p in DANGEROUS_PREFIXES if len(p) == 1 and p.isascii()]] = True
_BY_FIRST_BYTE = all(len(p) == 1 and p.isascii() for p in DANGEROUS_PREFIXES)


def _risky_arrow_cells(texts) -> np.ndarray | None:
    """Per cell of Arrow text, True when it starts with a formula trigger (None: not plain Arrow text).

    Reads each cell's first byte from the Arrow buffers: one look-up per cell where
    ``str.startswith`` makes a pass over the column per prefix (a scored chunk has a dozen text columns).
    """
    chunked = getattr(texts, "_pa_array", None)
    return None if chunked is None else _risky_chunks(chunked)


def _risky_chunks(chunked) -> np.ndarray | None:
    """_risky_arrow_cells of a chunked Arrow array (None: not plain text, or triggers not all one byte)."""
    import pyarrow as pa

    if not _BY_FIRST_BYTE or not isinstance(chunked, pa.ChunkedArray) or not (
            pa.types.is_string(chunked.type) or pa.types.is_large_string(chunked.type)):
        return None
    parts = [np.zeros(0, dtype=bool)]
    for chunk in chunked.chunks:
        if not len(chunk):
            continue
        _, offsets, data = chunk.buffers()
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        starts = np.frombuffer(offsets, dtype=width)[chunk.offset:chunk.offset + len(chunk) + 1]
        filled = starts[1:] > starts[:-1]
        first = np.zeros(len(chunk), dtype=np.uint8)
        if filled.any():
            first[filled] = np.frombuffer(data, dtype=np.uint8)[starts[:-1][filled]]
        risky = _RISKY_FIRST_BYTE[first] & filled
        if chunk.null_count:
            risky &= np.asarray(chunk.is_valid(), dtype=bool)
        parts.append(risky)
    return np.concatenate(parts)


def _neutralise_column(col: pd.Series) -> pd.Series:
    """One text column made inert: vectorised for string columns, cell by cell for mixed ones."""
    if pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_object_dtype(col.dtype):
        risky = _risky_arrow_cells(col.array)
        if risky is None:
            risky = col.str.startswith(DANGEROUS_PREFIXES).fillna(False).astype(bool).to_numpy()
        return col.where(~risky, QUOTE + col) if risky.any() else col
    return col.map(_neutralise_value, na_action="ignore")


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` whose text cells and headers cannot be read as formulas."""
    out = df.copy(deep=False)  # copy-on-write: replaced columns never touch df
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if _is_text_column(col):
            # by position: uploaded headers may repeat, and label lookup would then fan out
            out.isetitem(i, _neutralise_column(col))
    out.columns = pd.Index([_neutralise_value(c) for c in out.columns])
    return out


def _all_whole(values: np.ndarray) -> bool:
    """True when some value is known and every known one is a whole number below 2**53 (so exact as an integer)."""
    head = values[:64]
    # a fraction among the first few values settles a column of amounts without a pass over all of it
    if np.any(np.isfinite(head) & (head != np.round(head))):
        return False
    whole = (values == np.round(values)) & (np.abs(values) < 2**53)  # False for NaN and infinities
    if whole.all():
        return len(values) > 0
    missing = np.isnan(values)
    return bool((whole | missing).all() and not missing.all())


def whole_numbers_as_integers(df: pd.DataFrame) -> pd.DataFrame:
    """Float columns holding only whole numbers, as integers: 62 is written as 62, not 62.0."""
    out = df.copy(deep=False)
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if pd.api.types.is_float_dtype(col.dtype) and _all_whole(col.to_numpy(dtype="float64", na_value=np.nan)):
            out.isetitem(i, col.astype("Int64"))
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Encode ``df`` as neutralised CSV in UTF-8 with a BOM, so Excel shows accents; no index."""
    table = _plain_table(df)
    if table is None:
        safe = neutralise(whole_numbers_as_integers(df))
        if not _columnar(safe):
            return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
        table = _arrow_table(safe)
    return _arrow_csv(table)


def _arrow_table(safe: pd.DataFrame):
    """An already neutralised frame as an Arrow table, converted by pandas."""
    import pyarrow as pa

    return pa.Table.from_pandas(safe, preserve_index=False)


def _plain_table(df: pd.DataFrame):
    """``df`` as the Arrow table the CSV writers write, taken column by column (None: not every column is plain).

    Plain columns are numpy numbers and Arrow text (a scored table's every column): whole-number
    floats become integers and risky text is quoted, as whole_numbers_as_integers and neutralise
    make them, without pandas copying the frame twice and converting it to Arrow.
    """
    import pyarrow as pa

    names = [_neutralise_value(c) for c in df.columns]
    if not names or len(set(names)) < len(names) or not all(isinstance(c, str) for c in names):
        return None
    arrays = []
    for _, col in df.items():
        array = _plain_array(col)
        if array is None:
            return None
        arrays.append(array)
    return pa.Table.from_arrays(arrays, names=names)


def _plain_array(col: pd.Series):
    """One column as Arrow, whole-number floats as integers and text made inert (None: not plain)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    numpy = col.dtype if isinstance(col.dtype, np.dtype) else None
    if numpy is not None and numpy.kind in ("i", "u"):
        return pa.array(col.to_numpy())
    if numpy == np.float64:
        values = col.to_numpy()
        if not _all_whole(values):
            return pa.array(values, from_pandas=True)  # NaN is missing, written as an empty cell
        missing = np.isnan(values)
        if not missing.any():
            return pa.array(values.astype(np.int64))
        return pa.array(np.where(missing, 0.0, values).astype(np.int64), mask=missing)
    texts = getattr(col.array, "_pa_array", None) if pd.api.types.is_string_dtype(col.dtype) else None
    risky = None if texts is None else _risky_chunks(texts)
    if risky is None:
        return None
    if not risky.any():
        return texts
    quoted = pc.binary_join_element_wise(pa.scalar(QUOTE, texts.type), texts, pa.scalar("", texts.type))
    return pc.if_else(pa.array(risky), quoted, texts)


def _columnar(df: pd.DataFrame) -> bool:
    """True when every column is plain text or a plain number, which Arrow writes as pandas would."""
    if not df.columns.is_unique or not all(isinstance(c, str) for c in df.columns):
        return False
    for dtype in df.dtypes:
        text = pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype)
        number = (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
                  and not pd.api.types.is_complex_dtype(dtype))
        if not (text or number):
            return False
    return True


@dataclass(frozen=True)
class LaterColumn:
    """A text column whose values come block by block as the rows are written, never held whole."""

    name: str
    position: int  # where it goes among the table's columns
    blocks: Callable[[], Iterable[Any]]  # each block's texts (Arrow), rows in order, together every row


def _neutral_block(texts):
    """One block of a text column made inert, as _neutralise_column makes a whole one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    risky = pa.array(np.zeros(len(texts), dtype=bool))
    for prefix in DANGEROUS_PREFIXES:
        risky = pc.or_(risky, pc.fill_null(pc.starts_with(texts, prefix), False))
    if pc.any(risky).as_py():
        texts = pc.if_else(risky, pc.binary_join_element_wise(QUOTE, texts, ""), texts)
    return texts.cast(pa.large_string())


def _whole(df: pd.DataFrame, later: LaterColumn) -> pd.DataFrame:
    """``df`` with the later column put in whole (for a writer that cannot take it block by block)."""
    import pyarrow as pa

    texts = pa.chunked_array([_neutral_block(b) for b in later.blocks()], type=pa.large_string())
    out = df.copy(deep=False)
    out.insert(later.position, later.name, pd.Series(texts.to_pandas().array, index=df.index))
    return out


def _arrow_csv(table, sink=None, later: LaterColumn | None = None) -> bytes | None:
    """CSV of an Arrow table, written by Arrow: seconds for a million rows where pandas takes tens.

    With a ``sink`` (a binary file) the rows stream into it; otherwise the bytes are returned.
    ``later``'s blocks are written in place with the rows they belong to (``sink`` only).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(eol="\r\n", quoting_header="needed")
    if sink is not None and later is not None:
        sink.write(BOM)
        schema = table.schema.insert(later.position, pa.field(later.name, pa.large_string()))
        written = 0
        with pacsv.CSVWriter(pa.PythonFile(sink, mode="w"), schema, write_options=options) as writer:
            for block in later.blocks():
                texts = _neutral_block(block)
                writer.write_table(table.slice(written, len(texts)).add_column(later.position, later.name, texts))
                written += len(texts)
        if written != table.num_rows:
            raise ValueError(f"{later.name} gave {written:,} rows for a table of {table.num_rows:,}")
        return None
    if sink is not None:
        sink.write(BOM)
        pacsv.write_csv(table, pa.PythonFile(sink, mode="w"), options)
        return None
    buffer = pa.BufferOutputStream()
    buffer.write(BOM)  # written first: the bytes are copied out once, not again to put the BOM before them
    pacsv.write_csv(table, buffer, options)
    return buffer.getvalue().to_pybytes()


def write_csv(df: pd.DataFrame, path, later: LaterColumn | None = None) -> None:
    """Write ``df`` as to_csv_bytes would, streaming into the file (whole at ``path``, or not at all).

    ``later``: a text column written in its place block by block with the rows, as if ``df`` held it.
    """
    table = _plain_table(df)
    if table is not None and later is not None and (table.num_rows == 0 or later.name in table.column_names):
        table = None  # Arrow's block writer takes rows and a new name: the whole table is put together below
    if table is not None:
        with atomic_file(path) as sink:
            _arrow_csv(table, sink, later)
        return
    safe = neutralise(whole_numbers_as_integers(df))
    if later is not None and (len(safe) == 0 or later.name in safe.columns or not _columnar(safe)):
        safe, later = _whole(safe, later), None  # Arrow's block writer takes plain columns and new names only
    with atomic_file(path) as sink:
        if _columnar(safe):
            _arrow_csv(_arrow_table(safe), sink, later)
        else:
            sink.write(safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig"))


def _excel_text(value: str) -> str:
    """Make ``value`` storable and inert in a worksheet."""
    # control characters are illegal in XLSX; strip them before the prefix check so
    # "\x01=cmd" cannot become a bare "=cmd" afterwards
    return neutralise_text(ILLEGAL_CHARACTERS_RE.sub("", value))


def _excel_value(value: Any) -> tuple[Any, bool]:
    """Return what to store in a cell and whether it must be typed as text."""
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)  # .item() would give nanoseconds as a bare int
    elif isinstance(value, np.generic):
        value = value.item()  # numpy scalar -> the Python scalar openpyxl understands
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return _excel_text(value), True
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None, False
    if isinstance(value, (bool, int, decimal.Decimal)):
        return value, False
    if isinstance(value, float):
        if math.isinf(value):  # Excel has no infinity; keep it visible as text
            return _excel_text(str(value)), True
        return value, False
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return _excel_text(value.isoformat()), True  # Excel cannot store a time zone
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        return value, False
    return _excel_text(str(value)), True


def _cell(ws: Any, value: Any, cell_class: Any, number_format: str | None = None) -> Any:
    """Build one worksheet cell; text is forced to the string type, never a formula."""
    stored, is_text = _excel_value(value)
    cell = cell_class(ws, value=stored)
    if is_text:
        # openpyxl infers 'f' for "=..." and 'e' for "#N/A"; user text is neither
        cell.data_type = "s"
    elif number_format and isinstance(stored, (int, float)) and not isinstance(stored, bool):
        cell.number_format = number_format
    return cell


# The money columns the product adds (the user's own columns keep the look they had): labelled with the
# currency setting when one is given.
MONEY_COLUMNS = frozenset({"Outstanding_At_Risk", "Expected_Net_Recovery", "Expected_Loss", "Expected net recovery",
                           "Cost", "cost", "Outstanding", "Outstanding at risk", *MEASUREMENT_MONEY})


def to_excel_bytes(df: pd.DataFrame, sheet_name: str = "Borrowers", currency: str = "") -> bytes:
    """Encode ``df`` as a one-sheet XLSX workbook with no formulas from user data; no index."""
    return to_excel_workbook({sheet_name: df}, currency)


def to_excel_workbook(sheets: dict[str, pd.DataFrame], currency: str = "") -> bytes:
    """One XLSX workbook, a sheet per table (names made legal and unique), no formulas from user data.

    With a currency, the product's money columns carry it as their number format (the values stay numbers).
    """
    for df in sheets.values():
        if len(df) + 1 > EXCEL_MAX_ROWS or df.shape[1] > EXCEL_MAX_COLS:
            raise RecoveryError(
                f"Excel holds at most {EXCEL_MAX_ROWS - 1:,} rows and {EXCEL_MAX_COLS:,} columns; "
                f"this table has {len(df):,} rows and {df.shape[1]:,} columns. Download CSV instead."
            )
    from openpyxl import Workbook  # imported when a workbook is asked for: the CLI rarely needs it
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    used: set[str] = set()
    for name, df in sheets.items():
        title = _sheet_title(name)
        suffix = 2
        while title.casefold() in used:  # Excel compares sheet names without case
            title = f"{_sheet_title(name)[:EXCEL_MAX_SHEET_NAME - 4]} ({suffix})"
            suffix += 1
        used.add(title.casefold())
        ws = wb.create_sheet(title=title)
        df = whole_numbers_as_integers(df)
        ws.append([_cell(ws, c if isinstance(c, str) else str(c), WriteOnlyCell) for c in df.columns])
        priced = {i for i, c in enumerate(df.columns) if c in MONEY_COLUMNS} if currency else set()
        for row in df.itertuples(index=False, name=None):
            ws.append([_cell(ws, v, WriteOnlyCell, money_format(currency, excel=True) if i in priced else None)
                       for i, v in enumerate(row)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet_title(name: str) -> str:
    """Make ``name`` a legal worksheet title (no []:*?/\\, at most 31 characters)."""
    cleaned = "".join("_" if ch in '[]:*?/\\' else ch for ch in str(name)).strip("'")
    return cleaned[:EXCEL_MAX_SHEET_NAME] or "Sheet1"
