"""Score a CSV file larger than memory with a saved model: read, check, score and write in chunks.

The file is cut into chunks at record boundaries (a line end outside quotes); each chunk, with the
header in front, is read and checked exactly as a whole file is (``load_portfolio``) and scored
with the saved model, whose every step is per borrower, then appended to the output. Row numbers
are the file's own, so the output equals the one-piece scoring row for row, in flat memory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.data import load_portfolio
from core.errors import RecoveryError
from core.pipeline import analysable_rows
from core.report import atomic_file, to_csv_bytes
from core.serve.bundle import Bundle
from core.serve.drift import DriftCounts
from core.serve.score import score_rows

# About 50,000 borrowers of a 21-column file: large enough that per-chunk costs vanish, small
# enough that a chunk's text, typed rows and reasons stay well under the memory target.
CHUNK_BYTES = 8 * 1024 * 1024
_UTF8 = ("utf-8", "utf-8-sig", "ascii")
_READ_BYTES = 64 * 1024 * 1024  # most read from the file at once


@dataclass(frozen=True)
class Chunk:
    """A run of whole records and the file record number of its first one (the header is 1)."""

    data: bytes
    first_record: int


def _record_ends(data: bytes | memoryview) -> np.ndarray:
    """Positions of the line ends that end a record: '\\n' with an even number of quotes before it."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buffer == 10)
    quotes = np.flatnonzero(buffer == 34)
    if not len(quotes):
        return newlines
    return newlines[np.searchsorted(quotes, newlines) % 2 == 0]


def read_chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> tuple[bytes, Iterator[Chunk]]:
    """The header record's bytes, and the records after it in chunks of about ``chunk_bytes``."""
    handle = open(path, "rb")  # noqa: SIM115 - the chunk generator below closes it when it ends
    step = min(chunk_bytes, _READ_BYTES)
    first = handle.read(1024 * 1024)
    ends = _record_ends(first)
    while not len(ends):
        more = handle.read(_READ_BYTES)
        if not more:
            break
        first += more
        ends = _record_ends(first)
    cut = int(ends[0]) + 1 if len(ends) else len(first)
    header, rest = first[:cut], first[cut:]
    if not header.strip(b" \t\r\n\xef\xbb\xbf"):
        handle.close()
        raise RecoveryError(f"{path.name} starts with a blank line: remove it so the header is the first line.")

    def chunks() -> Iterator[Chunk]:
        pending, record, ended = rest, 2, False
        with handle:
            while pending or not ended:
                while len(pending) < chunk_bytes and not ended:
                    block = handle.read(step)
                    ended = not block
                    pending += block
                ends = _record_ends(memoryview(pending)[:chunk_bytes])
                if not len(ends):
                    ends = _record_ends(pending)  # one record longer than a chunk
                if not len(ends) and not ended:
                    more = handle.read(step)
                    ended = not more
                    pending += more
                    continue
                cut = len(pending) if not len(ends) or (ended and len(pending) <= chunk_bytes) else int(ends[-1]) + 1
                piece, pending = pending[:cut], pending[cut:]
                yield Chunk(piece, record)
                record += len(_record_ends(piece)) + (0 if piece.endswith(b"\n") else 1)

    return header, chunks()


def _has_values(piece: bytes) -> bool:
    """False for a chunk of blank lines only (the file reader would call it a file without rows)."""
    return bool(piece.strip(b" \t\r\n,;|\"'"))


def _shift_problems(portfolio, offset: int) -> list[str]:
    """The chunk's error lines, with the file's own row numbers."""
    return [dataclasses.replace(p, rows=tuple(r + offset for r in p.rows)).line()
            for p in portfolio.report.errors()]


@dataclass
class StreamSummary:
    """What a streamed scoring did: rows scored and excluded, strategies, drift."""

    scored: int = 0
    excluded: int = 0
    chunks: int = 0
    strategies: dict[str, int] = dataclasses.field(default_factory=dict)


class _SeenLoans:
    """Loan IDs of earlier chunks, as sorted 64-bit hashes, to find a loan repeated across chunks."""

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype=np.uint64)

    def check(self, rows: pd.DataFrame, offset: int) -> None:
        """Refuse a Loan_ID an earlier chunk had; remember this chunk's."""
        if "Loan_ID" not in rows.columns:
            return
        ids = rows["Loan_ID"].dropna().astype(str)
        hashes = pd.util.hash_array(ids.to_numpy(dtype=object))
        at = np.minimum(np.searchsorted(self.hashes, hashes), max(len(self.hashes) - 1, 0))
        repeated = self.hashes[at] == hashes if len(self.hashes) else np.zeros(len(hashes), dtype=bool)
        if repeated.any():
            first = int(np.argmax(repeated))
            raise RecoveryError(f"Loan_ID '{ids.iloc[first]}' at row {int(ids.index[first]) + offset} was already "
                                "earlier in the file: every loan must appear once. Fix the duplicate and run again.")
        # two sorted runs: the stable sort (timsort) merges them in linear time
        self.hashes = np.sort(np.concatenate([self.hashes, np.sort(hashes)]), kind="stable")


def stream_score(
    bundle: Bundle, path: Path, output: Path, *, drop_invalid: bool = False,
    invalid_output: Path | None = None, drift: DriftCounts | None = None,
    chunk_bytes: int = CHUNK_BYTES, progress: Callable[[int], None] | None = None,
) -> StreamSummary:
    """Score ``path`` chunk by chunk into ``output`` (CSV); invalid rows stop it unless dropped.

    The output streams into a temporary file beside ``output`` that takes its name only when
    every chunk is written: an error, a kill or a full disk never leaves a half-scored file
    there as if it were complete, and an earlier file at that path stays as it was.
    """
    header, chunks = read_chunks(path, chunk_bytes)
    summary, seen = StreamSummary(), _SeenLoans()
    expected_header: bytes | None = None
    encoding = separator = None
    with atomic_file(output) as sink, ExitStack() as side:
        invalid_sink = None  # opened on the first invalid row, closed with the output, also on an error
        for chunk in chunks:
            if not _has_values(chunk.data):
                continue
            portfolio = load_portfolio(header + chunk.data, path.name)
            info = portfolio.info
            if encoding is None:
                encoding, separator = info.encoding, info.separator
                if encoding not in _UTF8:
                    raise RecoveryError(f"{path.name} is {encoding} text; scoring in chunks reads UTF-8: save "
                                        "it as 'CSV UTF-8' and run again.")
            elif (info.encoding, info.separator) != (encoding, separator):
                raise RecoveryError(f"{path.name} reads differently from row {chunk.first_record} on "
                                    f"(separator {info.separator!r}, not {separator!r}): check the file there.")
            offset = chunk.first_record - 2
            if not portfolio.report.ok and not drop_invalid:
                raise RecoveryError("\n".join(_shift_problems(portfolio, offset)) +
                                    f"\n{len(portfolio.report.invalid_rows)} invalid row(s) from row "
                                    f"{chunk.first_record} on (the file was read in parts; there may be "
                                    "more further on): fix them, or rerun with --drop-invalid to exclude them.")
            rows = analysable_rows(portfolio, drop_invalid)
            seen.check(portfolio.frame, offset)
            if not portfolio.report.ok:
                invalid = portfolio.invalid_rows()
                invalid.index = invalid.index + offset
                if invalid_sink is None:
                    invalid_sink = side.enter_context(atomic_file(invalid_output))
                    invalid_sink.write(to_csv_bytes(invalid.reset_index()))
                else:
                    invalid_sink.write(_without_header(to_csv_bytes(invalid.reset_index()),
                                                       invalid.reset_index().head(0)))
                summary.excluded += len(invalid)
            if len(rows):
                result = score_rows(bundle, rows, path.name)
                table = result.table
                table["File_Row"] = table["File_Row"] + offset
                data = to_csv_bytes(table)
                if expected_header is None:
                    expected_header = to_csv_bytes(table.head(0))
                    sink.write(data)
                else:
                    sink.write(_without_header(data, table.head(0), expected_header))
                if drift is not None:
                    drift.add(result.features, result.scores)
                for name, n in table["Recovery_Strategy"].value_counts(sort=False).items():
                    summary.strategies[name] = summary.strategies.get(name, 0) + int(n)
                summary.scored += len(table)
            summary.chunks += 1
            if progress is not None:
                progress(summary.scored)
        if summary.scored == 0 and summary.excluded == 0:  # raised inside: nothing is renamed into place
            raise RecoveryError(f"{path.name} has a header but no rows. Add one row per loan below the "
                                "header.")
    return summary


def _without_header(data: bytes, empty: pd.DataFrame, expected: bytes | None = None) -> bytes:
    """A chunk's CSV bytes without the header the first chunk wrote (refused if it differs)."""
    header = to_csv_bytes(empty)
    if expected is not None and header != expected:
        raise RecoveryError("A part of the file gave other columns than the first part: check the file's header.")
    return data[len(header):]


def one_piece(bundle: Bundle, path: Path, drop_invalid: bool = False) -> pd.DataFrame:
    """The same file scored whole (the reference the chunks must equal)."""
    portfolio = load_portfolio(path.read_bytes(), path.name)
    return score_rows(bundle, analysable_rows(portfolio, drop_invalid), path.name).table

