"""Excel workbooks (.xlsx): the chosen sheet read as shown, formulas without saved values named."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from core.data.header import (
    check_width,
    chosen_header,
    first_filled,
    found_header,
    text_frame,
)
from core.data.table import (
    SAVE_AS,
    ZIP_MAGIC,
    FileInfo,
    Limits,
    RawTable,
    cell_text,
    column_letter,
    file_size,
    is_blank,
    open_zip,
)
from core.errors import RecoveryError

# Formulas without saved values are looked for in this many first data rows.
_FORMULA_PROBE = 200
# Rows a sheet may hold beyond max_rows before it is refused unread: the header, titles and blank rows.
_ROW_SLACK = 1_000
# How a row element starts in a sheet's XML, with or without a namespace prefix (not <rowBreaks>).
_ROW_TAGS = (b"<row ", b"<row>", b"<row/", b":row ", b":row>", b":row/")
_XML_BLOCK = 1 << 20


def sheet_names(data: bytes) -> tuple[str, ...]:
    """The worksheets of an .xlsx file, so a sheet can be chosen before reading; () otherwise.

    A damaged workbook also gives (): reading it then raises the RecoveryError that explains.
    """
    if not data.startswith(ZIP_MAGIC):
        return ()
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on damaged files; read_table reports them
        return ()
    try:
        return tuple(book.sheetnames)
    finally:
        book.close()


def read_xlsx(data: bytes, name: str, sheet: str | None, limits: Limits,
               header_row: int | None = None) -> RawTable:
    """Read cached cell values from one sheet of an .xlsx workbook."""
    import openpyxl  # imported late: CSV-only users never pay for it

    try:
        archive, unpacked, _ = open_zip(data)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise RecoveryError(f"{name} looks like a zip or Excel file but is damaged. "
                            f"{SAVE_AS}") from None
    if "xl/workbook.xml" not in set(archive.namelist()):
        raise RecoveryError(f"{name} is a zip archive, not an Excel .xlsx workbook. "
                            "Upload the .xlsx or CSV file itself.")
    if unpacked > 20 * limits.max_bytes:  # guards against zip bombs
        raise RecoveryError(
            f"{name} unpacks to {file_size(unpacked)}, over 20 x the limit of "
            f"{file_size(limits.max_bytes)} (max_bytes). Split the workbook.")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on damaged files; all mean the same
        raise RecoveryError(f"{name} could not be opened as an Excel workbook; it may be "
                            f"damaged or password-protected. {SAVE_AS}") from None
    try:
        _check_rows_held(archive, book, name, sheet, limits)
        table = _read_sheet(book, name, sheet, limits, header_row)
        notes = _formula_notes(data, table, _recalculates(archive))
    except RecoveryError:
        raise
    except Exception:
        raise RecoveryError(f"{name} could not be read as an Excel workbook; it may be "
                            f"damaged. {SAVE_AS}") from None
    finally:
        book.close()
    if not notes:
        return table
    return RawTable(table.frame, replace(table.info, notes=table.info.notes + notes))


def _rows_held(archive: zipfile.ZipFile, member: str) -> int:
    """The row elements a sheet's XML holds, counted in the unpacked bytes, without parsing a cell."""
    count, carry = 0, b""
    with archive.open(member) as source:
        while block := source.read(_XML_BLOCK):
            text = carry + block
            cut = text.rfind(b"<")  # a tag cut by the block's end is counted with the next block
            cut = len(text) if cut < 0 else cut
            count += sum(text.count(tag, 0, cut) for tag in _ROW_TAGS)  # C speed: no parsing
            carry = text[cut:]
    return count + sum(carry.count(tag) for tag in _ROW_TAGS)


def _check_rows_held(archive: zipfile.ZipFile, book: Any, name: str, sheet: str | None, limits: Limits) -> None:
    """Refuse a sheet holding more rows than the limit before any cell is walked (seconds, not minutes)."""
    worksheets = {ws.title: ws for ws in book.worksheets}
    chosen = worksheets.get(sheet) if sheet is not None else next(iter(worksheets.values()), None)
    member = getattr(chosen, "_worksheet_path", None)  # openpyxl's read-only sheet knows its part
    if member is None or member.lstrip("/") not in archive.namelist():
        return  # no such sheet: _read_sheet says which sheets there are
    held = _rows_held(archive, member.lstrip("/"))
    if held > limits.max_rows + _ROW_SLACK:
        raise RecoveryError(f"{name} (sheet '{chosen.title}') holds {held:,} rows, over the limit of "
                            f"{limits.max_rows:,} (max_rows). Split the file into smaller parts.")


def _sheet(book: Any, title: str) -> Any:
    """A read-only worksheet that costs the cells it holds, not the size it declares.

    The declared size (``<dimension ref="A1:XFD1048576">``) would make openpyxl pad every row,
    present or missing, to 16,384 cells, and stop at a declared last row smaller than the real one.
    """
    worksheet = book[title]
    worksheet.reset_dimensions()
    return worksheet


def _present_rows(worksheet: Any, min_row: int = 1) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The rows a sheet's XML holds, numbered, as values: a row that is not there costs nothing.

    openpyxl's ``iter_rows`` yields a filler for every missing row (a million for a sheet whose
    one row sits at the bottom); its own sheet parser, used here, yields only the rows present.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    book = worksheet.parent
    with worksheet._get_source() as source:
        parser = WorkSheetParser(source, worksheet._shared_strings, data_only=book.data_only, epoch=book.epoch,
                                 date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
        for number, cells in parser.parse():
            if number >= min_row and cells:
                yield number, worksheet._get_row(cells, 1, None, values_only=True)


def _including(rows: Iterator[tuple[int, tuple[Any, ...]]], chosen: int | None
               ) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The rows, with the chosen row as an empty one where the sheet skips it (not past its last row)."""
    for number, cells in rows:
        if chosen is not None and number > chosen:
            yield chosen, ()
            chosen = None
        if number == chosen:
            chosen = None
        yield number, cells


def _read_sheet(book: Any, name: str, sheet: str | None, limits: Limits,
                header_row: int | None = None) -> RawTable:
    """Read one worksheet of an open workbook into a text table."""
    sheets = tuple(ws.title for ws in book.worksheets)
    if not sheets:
        raise RecoveryError(f"{name} has no worksheets. Add the data on a sheet.")
    if sheet is None:
        sheet = sheets[0]
    elif sheet not in sheets:
        raise RecoveryError(f"{name} has no sheet called '{sheet}'. Its sheets are: "
                            f"{', '.join(repr(s) for s in sheets)}. Choose one of them.")
    where = f"{name} (sheet '{sheet}')"
    worksheet = _sheet(book, sheet)
    header_at, notes = _sheet_header(worksheet, where, f" of sheet '{sheet}'", header_row)
    header: list[Any] | None = None
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    start = header_at or 1
    for row_number, cells in _present_rows(worksheet, start):
        if all(is_blank(v) for v in cells):
            continue
        if header is None:
            header = _trim(list(cells))
            check_width(header, where, limits)
            header = [cell_text(v) or "" for v in header]
            continue
        if len(numbers) >= limits.max_rows:
            raise RecoveryError(
                f"{where} has more than {limits.max_rows:,} rows, over the "
                "limit (max_rows). Split the file into smaller parts.")
        texts = [cell_text(v) for v in cells]
        rows.append(_fit_cells(texts, header, where, row_number))
        numbers.append(row_number)
    if header is None:
        raise RecoveryError(f"{name}: sheet '{sheet}' is empty. Choose the sheet that holds "
                            f"the loans (sheets: {', '.join(sheets)}).")
    try:
        frame = text_frame(header, rows, numbers, where)
    except RecoveryError as exc:
        if len(sheets) == 1:
            raise
        raise RecoveryError(f"{exc} Sheets in this workbook: "
                            f"{', '.join(repr(s) for s in sheets)}; choose another.") from None
    info = FileInfo(name, "xlsx", None, None, sheet, sheets, len(frame), len(frame.columns),
                    start, notes)
    return RawTable(frame, info)


def _sheet_header(worksheet: Any, where: str, place: str, chosen: int | None
                  ) -> tuple[int | None, tuple[str, ...]]:
    """The row of a worksheet that holds the header (None: the sheet is empty), and a note."""
    cells = _present_rows(worksheet)
    try:
        if chosen is None:
            return found_header(first_filled(cells), place)
        return chosen_header(_including(cells, chosen), chosen, where, place)
    finally:
        cells.close()  # stops parsing the rest of the sheet


def _recalculates(archive: zipfile.ZipFile) -> bool:
    """True when the workbook asks to be recalculated on opening.

    Programs that write formulas without computing them (openpyxl, XlsxWriter) mark it so;
    Excel saves the values and drops the mark.
    """
    workbook = archive.read("xl/workbook.xml")
    return re.search(rb"fullCalcOnLoad\s*=\s*[\"'](?:1|true)[\"']", workbook) is not None


def _formula_notes(data: bytes, table: RawTable, recalculates: bool) -> tuple[str, ...]:
    """A note for each column whose formulas have no saved value, so they read as blank.

    Looked for, with the formulas read once more, in columns blank on every row and, when
    the workbook asks to be recalculated, in columns with a blank; only in the first rows
    unless they hold such formulas, so most sheets are not read twice.
    """
    frame = table.frame
    blank = frame.isna()
    everywhere, somewhere = blank.all(), blank.any()
    suspects = {c for c in frame.columns if everywhere[c] or (recalculates and somewhere[c])}
    if not suspects:
        return ()
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        formulas = _formula_rows(_sheet(book, table.info.sheet), table.info.header_row, suspects)
    finally:
        book.close()
    notes = []
    for column, rows in formulas.items():
        # A row all of whose cells read as blank is not in the table at all.
        read_blank = blank[column].reindex(rows, fill_value=True)
        unsaved = read_blank.index[read_blank.to_numpy(dtype=bool)].tolist()
        if unsaved:
            notes.append(f"Column '{column}' holds formulas whose values were not saved in the "
                         f"file ({row_span(unsaved)}), so they read as blank: open the "
                         "workbook in Excel and save it again, or paste the values.")
    return tuple(notes)


def _formula_rows(worksheet: Any, header_row: int, columns: set[str]
                  ) -> dict[str, list[int]]:
    """The rows that hold a formula, for each of ``columns`` that has one in the first rows."""
    cells = worksheet.iter_rows(min_row=header_row)
    try:
        names = [(cell_text(c.value) or "") for c in next(cells, ())]
        watched = {position: title if title.strip() else f"Column {column_letter(position)}"
                   for position, title in enumerate(names)}
        watched = {p: title for p, title in watched.items() if title in columns}
        found: dict[int, list[int]] = {p: [] for p in watched}
        for offset, row in enumerate(cells):
            if offset == _FORMULA_PROBE:
                watched = {p: title for p, title in watched.items() if found[p]}
                if not watched:
                    break
            for position in watched:
                if position < len(row) and row[position].data_type == "f":
                    found[position].append(header_row + 1 + offset)
    finally:
        cells.close()
    return {watched[p]: rows for p, rows in found.items() if p in watched and rows}


def row_span(rows: Sequence[int], most: int = 5) -> str:
    """Sorted row numbers as ranges in words: 'rows 2–10, 15 and 40 more'."""
    runs: list[list[int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    shown = ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs[:most])
    rest = sum(b - a + 1 for a, b in runs[most:])
    noun = "row" if len(rows) == 1 else "rows"
    return f"{noun} {shown}" + (f" and {rest:,} more" if rest else "")


def _trim(cells: list[Any]) -> list[Any]:
    """Drop blank cells at the end of a header row."""
    while cells and is_blank(cells[-1]):
        cells.pop()
    return cells


def _fit_cells(texts: list[str | None], header: list[str], name: str,
               row: int) -> list[str | None]:
    """Pad a short sheet row; refuse one with values beyond the last header."""
    if len(texts) < len(header):
        return texts + [None] * (len(header) - len(texts))
    if any(not is_blank(v) for v in texts[len(header):]):
        raise RecoveryError(
            f"{name}: row {row} has values to the right of the last header. Give that column "
            "a header or delete the values.")
    return texts[: len(header)]


