"""Scoring in chunks: the streamed output equals the one-piece scoring row for row, in flat memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import RecoveryError
from core.report import to_csv_bytes
from core.serve import batch
from core.serve import bundle as bundles
from sample_data.generate import generate_portfolio
from tests.helpers import cli, decimal_mark_file, inch_mark_file


def _awkward_file(path: Path, n: int = 300) -> Path:
    """A CSV as exports have them: CRLF here and there, a quoted line break, blank lines, no outcome for some."""
    frame, _ = generate_portfolio(n=n, seed=5)
    frame["Recovery_Status"] = frame["Recovery_Status"].astype(object)
    frame.loc[frame.index[::4], "Recovery_Status"] = None
    frame["Branch_Note"] = "ok"
    frame.loc[9, "Branch_Note"] = 'called twice\n"no answer"'
    lines = frame.to_csv(index=False).encode().replace(b"\n", b"\r\n", 40)
    at = lines.index(b"\n", len(lines) // 2) + 1
    path.write_bytes(lines[:at] + b"\n,,,\n" + lines[at:])  # two blank records in the middle
    return path


@pytest.mark.parametrize("chunk_bytes", [6000, 1 << 20])
def test_streamed_output_equals_one_piece_row_for_row(trained, tmp_path, chunk_bytes):
    source = _awkward_file(tmp_path / "june.csv")
    expected = batch.one_piece(trained, source)
    out = tmp_path / "scored.csv"
    done = batch.stream_score(trained, source, out, chunk_bytes=chunk_bytes)
    assert done.scored == 300 and done.excluded == 0
    assert out.read_bytes() == to_csv_bytes(expected)
    assert done.chunks > 5 if chunk_bytes == 6000 else done.chunks == 1
    written = pd.read_csv(out, encoding="utf-8-sig")
    assert written["File_Row"].iloc[-1] == 303  # header + 300 borrowers + the two blank records


@pytest.mark.parametrize("workers", [1, 2])
def test_an_inch_mark_in_a_note_is_a_letter_and_the_file_is_cut_at_its_records(trained, tmp_path, workers):
    source = inch_mark_file(tmp_path / "june.csv")
    out = tmp_path / "scored.csv"
    done = batch.stream_score(trained, source, out, chunk_bytes=6000, workers=workers)
    assert done.scored == 300 and done.chunks > 5
    assert out.read_bytes() == to_csv_bytes(batch.one_piece(trained, source))
    written = pd.read_csv(out, encoding="utf-8-sig")
    assert written["File_Row"].tolist() == list(range(2, 302))


@pytest.mark.parametrize("comma_from", [None, 2])
def test_a_column_written_with_one_decimal_mark_streams_as_one_piece(trained, tmp_path, comma_from):
    source, out = decimal_mark_file(tmp_path / "june.tsv", comma_from), tmp_path / "scored.csv"
    done = batch.stream_score(trained, source, out, chunk_bytes=6000, workers=1)
    assert done.scored == 300 and done.chunks > 5
    assert out.read_bytes() == to_csv_bytes(batch.one_piece(trained, source))


@pytest.mark.parametrize("workers", [1, 2])
def test_parts_read_with_different_decimal_marks_are_refused(trained, tmp_path, workers):
    """Dropping the minority's rows is what the whole file would do; a part sees only its own majority."""
    source, out = decimal_mark_file(tmp_path / "june.tsv", comma_from=172), tmp_path / "scored.csv"
    assert len(batch.one_piece(trained, source, drop_invalid=True)) == 170  # the whole file: decimal point
    with pytest.raises(RecoveryError, match=r"Loan_Amount reads with a decimal point \(1,234\.56\) in the part from "
                                            r"row 2 and a decimal comma \(1\.234,56\) in the part from row \d+: one "
                                            "column must use one decimal mark"):
        batch.stream_score(trained, source, out, chunk_bytes=6000, workers=workers, drop_invalid=True,
                           invalid_output=tmp_path / "invalid.csv")
    assert not out.exists() and not (tmp_path / "invalid.csv").exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_invalid_rows_stop_with_the_file_row_and_leave_no_output(trained, tmp_path, workers):
    frame, _ = generate_portfolio(n=200, seed=6)
    frame["Age"] = frame["Age"].astype(object)
    frame.loc[150, "Age"] = "forty"
    source, out = tmp_path / "july.csv", tmp_path / "scored.csv"
    frame.to_csv(source, index=False)
    with pytest.raises(RecoveryError, match=r"Age: .* \(row 152\)"):
        batch.stream_score(trained, source, out, chunk_bytes=6000, workers=workers)
    assert not out.exists()
    side = tmp_path / "invalid.csv"
    done = batch.stream_score(trained, source, out, drop_invalid=True, invalid_output=side, chunk_bytes=6000)
    assert (done.scored, done.excluded) == (199, 1)
    assert out.read_bytes() == to_csv_bytes(batch.one_piece(trained, source, drop_invalid=True))
    listed = pd.read_csv(side, encoding="utf-8-sig")
    assert listed["Row"].tolist() == [152] and listed["Age"].tolist() == ["forty"]


def test_a_loan_repeated_in_another_chunk_is_refused(trained, tmp_path):
    frame, _ = generate_portfolio(n=200, seed=6)
    frame.loc[180, "Loan_ID"] = frame.loc[3, "Loan_ID"]
    source = tmp_path / "dup.csv"
    frame.to_csv(source, index=False)
    with pytest.raises(RecoveryError, match=rf"Loan_ID '{frame.loc[3, 'Loan_ID']}' at row 182 was already"):
        batch.stream_score(trained, source, tmp_path / "out.csv", chunk_bytes=6000)


def test_cli_streams_a_csv_and_writes_what_one_piece_scoring_gives(trained, tmp_path):
    source, model, out = _awkward_file(tmp_path / "june.csv"), tmp_path / "m.slr", tmp_path / "out.csv"
    model.write_bytes(bundles.dumps(trained))
    run = cli("score", source, "--model", model, "-o", out, "--chunk-bytes", "12000")
    assert run.returncode == 0, run.stderr
    assert "Scored 300 borrowers with the saved model m.slr" in run.stdout and " part(s)" in run.stdout
    assert out.read_bytes() == to_csv_bytes(batch.one_piece(bundles.loads(model.read_bytes()), source))


def test_a_chunks_loan_hashes_are_those_of_its_ids_as_python_strings(trained):
    frame, _ = generate_portfolio(n=40, seed=5)
    frame.loc[3, "Loan_ID"], frame.loc[4, "Loan_ID"] = "Lé-7 日本", ""  # non-ASCII, and a blank (missing) ID
    lines = to_csv_bytes(frame.drop(columns=["Recovery_Status"])).splitlines(keepends=True)
    done = batch.score_chunk(trained, lines[0], batch.Chunk(b"".join(lines[1:]), 2), "june.csv")
    ids = [str(i) for i in done.loan_ids]
    assert "Lé-7 日本" in ids and len(ids) == 39
    assert (done.loan_hashes == pd.util.hash_array(np.array(ids, dtype=object))).all()
