"""Read an uploaded file into a text table, map its columns, and build a checked Portfolio.

Everything a user can get wrong ends in ``RecoveryError`` with a message that names the
file, column, row or limit and says what to do.
"""

from __future__ import annotations

from core.data.delimited import read_csv
from core.data.table import (
    OLE2,
    OTHER_FORMATS,
    ZIP_MAGIC,
    Limits,
    RawTable,
    file_size,
)
from core.data.xlsx import read_xlsx
from core.errors import RecoveryError

# ---------------------------------------------------------------------------- reading


def read_table(data: bytes, name: str, sheet: str | None = None,
               limits: Limits = Limits(), header_row: int | None = None) -> RawTable:
    """Read CSV or .xlsx bytes into a text table; the format is told by the bytes.

    ``header_row`` is the spreadsheet row (1 = first) that holds the column names; None
    finds it, past a title or notes above the table.
    """
    if header_row is not None and header_row < 1:
        raise RecoveryError(f"The header row must be 1 or more, not {header_row}. Give the "
                            "spreadsheet row that holds the column names, or leave it empty.")
    if len(data) > limits.max_bytes:
        raise RecoveryError(
            f"{name} is {file_size(len(data))}, over the limit of {file_size(limits.max_bytes)} "
            f"(max_bytes). Split the file or remove columns you do not need.")
    if not data or data.isspace():  # as "not data.strip()", without copying a large file
        raise RecoveryError(f"{name} is empty. Upload a CSV or Excel file with a header row "
                            "and one row per loan.")
    if data.startswith(OLE2):
        raise RecoveryError(f"{name} is an old Excel .xls workbook, which cannot be read. "
                            "Open it in Excel and save it as .xlsx or CSV.")
    if data.startswith(ZIP_MAGIC):
        return read_xlsx(data, name, sheet, limits, header_row)
    for magic, what in OTHER_FORMATS.items():
        if data.startswith(magic):
            raise RecoveryError(f"{name} is {what}, not a table. Upload a CSV or .xlsx file.")
    if sheet is not None:
        raise RecoveryError(f"{name} is a CSV file, which has no sheets; sheet '{sheet}' "
                            "cannot be chosen. Leave the sheet empty.")
    return read_csv(data, name, limits, header_row)


# ---------------------------------------------------------------------------- mapping


