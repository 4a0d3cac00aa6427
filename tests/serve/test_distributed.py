"""Scoring on a Dask cluster: two worker processes give, row for row, the single-machine output."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pandas as pd
import pytest

from core.__main__ import main
from core.errors import RecoveryError
from core.report import to_csv_bytes
from core.serve import batch
from core.serve import bundle as bundles
from core.serve.distributed import read_parts, score_on_dask
from sample_data.generate import generate_portfolio
from tests.helpers import decimal_mark_file, inch_mark_file


@pytest.fixture(scope="module", autouse=True)
def _plain_main():
    """Dask spawns its workers, and a spawned process first runs the parent's ``__main__`` file again. An
    AppTest run earlier in this test process may have left a page script there, so the workers get a bare
    ``__main__`` (the command line's own is ``core.__main__``, which spawned workers import safely)."""
    kept = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    yield
    sys.modules["__main__"] = kept


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes, as a small real cluster would run them."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", env={"OMP_NUM_THREADS": "1"}) as local:
        yield local


@pytest.fixture(scope="module")
def new_csv(tmp_path_factory) -> Path:
    frame, _ = generate_portfolio(n=400, seed=5)
    frame["Recovery_Status"] = frame["Recovery_Status"].astype(object)
    frame.loc[frame.index[::4], "Recovery_Status"] = None
    path = tmp_path_factory.mktemp("dask") / "june.csv"
    frame.to_csv(path, index=False)
    return path


def _parts_as_one(out: Path, expected: bytes) -> tuple[int, bytes]:
    """How many CSV parts the run wrote, and their bytes joined as one file (each later part's header dropped)."""
    header = len(expected[:expected.index(b"\r\n") + 2])
    parts = sorted(out.glob("part-*.csv"))
    return len(parts), b"".join(p.read_bytes()[0 if i == 0 else header:] for i, p in enumerate(parts))


def test_csv_on_two_workers_equals_the_single_machine_output(trained, cluster, new_csv, tmp_path):
    out = tmp_path / "scored"
    done = score_on_dask(trained, str(new_csv), str(out), cluster.scheduler_address, block_bytes=20_000)
    assert done.scored == 400 and done.parts >= 2
    expected = to_csv_bytes(batch.one_piece(trained, new_csv))
    parts, joined = _parts_as_one(out, expected)
    assert parts == done.parts
    assert joined == expected  # byte for byte, File_Row included


def test_cli_scores_parquet_on_its_own_local_cluster(trained, new_csv, tmp_path, capsys):
    source, model = tmp_path / "june.parquet", tmp_path / "m.slr"
    pd.read_csv(new_csv, dtype={"Borrower_ID": str, "Loan_ID": str}).to_parquet(source, index=False)
    model.write_bytes(bundles.dumps(trained))
    out = tmp_path / "scored.parquet"
    assert main(["score", str(source), "--model", str(model), "-o", str(out), "--engine", "dask"]) == 0
    assert capsys.readouterr().out.startswith("Scored 400 borrowers from 1 file(s) with the saved model m.slr "
                                              "on a local Dask cluster")
    shown = read_parts(str(out))
    expected = batch.one_piece(trained, new_csv)
    assert shown["File_Row"].tolist() == expected["File_Row"].tolist()
    pd.testing.assert_series_equal(shown["Risk_Score"], expected["Risk_Score"])
    assert shown["Risk_Reasons"].tolist() == expected["Risk_Reasons"].tolist()
    assert shown["Recovery_Strategy"].tolist() == expected["Recovery_Strategy"].tolist()


def test_cli_refuses_options_the_cluster_path_lacks(trained, new_csv, tmp_path, capsys):
    model = tmp_path / "m.slr"
    model.write_bytes(bundles.dumps(trained))
    code = main(["score", str(new_csv), "--model", str(model), "-o", str(tmp_path / "out"), "--engine", "dask",
                 "--drift", str(tmp_path / "d.csv")])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: --drift cannot be used with --engine dask yet")


def test_blocks_read_once_give_the_one_piece_bytes_with_blank_lines_and_crlf(trained, cluster, tmp_path):
    frame, _ = generate_portfolio(n=300, seed=9)
    lines = frame.to_csv(index=False).encode().replace(b"\n", b"\r\n", 60)
    at = lines.index(b"\n", len(lines) // 2) + 1
    source, out = tmp_path / "july.csv", tmp_path / "scored"
    source.write_bytes(lines[:at] + b"\n,,,\n" + lines[at:])  # two blank records in the middle
    done = score_on_dask(trained, str(source), str(out), cluster.scheduler_address, block_bytes=10_000)
    assert done.scored == 300 and done.parts == 4  # dask evens the blocks out: 41 KB in four
    expected = to_csv_bytes(batch.one_piece(trained, source))
    assert _parts_as_one(out, expected)[1] == expected
    assert pd.read_csv(sorted(out.glob("part-*.csv"))[-1])["File_Row"].iloc[-1] == 303  # the blank records counted


def test_an_invalid_row_in_a_later_block_is_named_by_its_file_row(trained, cluster, tmp_path):
    frame, _ = generate_portfolio(n=300, seed=6)
    frame["Age"] = frame["Age"].astype(object)
    frame.loc[250, "Age"] = "forty"
    source = tmp_path / "bad.csv"
    frame.to_csv(source, index=False)
    with pytest.raises(RecoveryError, match=r"(?s)Age: .* \(row 252\).*score with the default engine and --drop-invalid"):
        score_on_dask(trained, str(source), str(tmp_path / "scored"), cluster.scheduler_address, block_bytes=15_000)


def test_a_quoted_line_break_on_a_block_edge_stays_in_its_record(trained, cluster, tmp_path):
    frame, _ = generate_portfolio(n=200, seed=7)
    frame["Branch_Note"] = [f'called {i}\nno answer\n"left a message"\nagain' for i in range(len(frame))]
    source, out = tmp_path / "notes.csv", tmp_path / "scored"
    data = frame.to_csv(index=False).encode()
    source.write_bytes(data)
    block = 9_000
    step = len(data) / (len(data) // block)  # how dask evens the blocks out
    cuts = [data.index(b"\n", int(k * step)) for k in range(1, len(data) // block)]
    assert sum(data[:cut].count(b'"') % 2 for cut in cuts) == 3  # each edge's next line end is inside a note
    done = score_on_dask(trained, str(source), str(out), cluster.scheduler_address, block_bytes=block)
    expected = to_csv_bytes(batch.one_piece(trained, source))
    parts, joined = _parts_as_one(out, expected)
    assert done.scored == 200 and parts == done.parts >= 4
    assert joined == expected


def test_an_inch_mark_in_a_note_does_not_shift_the_block_edges(trained, cluster, tmp_path):
    source, out = inch_mark_file(tmp_path / "inches.csv"), tmp_path / "scored"
    done = score_on_dask(trained, str(source), str(out), cluster.scheduler_address, block_bytes=9_000)
    expected = to_csv_bytes(batch.one_piece(trained, source))
    parts, joined = _parts_as_one(out, expected)
    assert done.scored == 300 and parts == done.parts >= 4
    assert joined == expected


def test_blocks_read_with_different_decimal_marks_are_refused_and_their_parts_taken_back(trained, cluster, tmp_path):
    data, block = decimal_mark_file(tmp_path / "june.tsv").read_bytes(), 9_000
    step = len(data) / (len(data) // block)  # how dask evens the blocks out
    second_block = data[:data.index(b"\n", int(step)) + 1].count(b"\n") + 1  # its first record's row
    source, out = decimal_mark_file(tmp_path / "june.tsv", comma_from=second_block), tmp_path / "scored"
    with pytest.raises(RecoveryError, match=r"Loan_Amount reads with a decimal point .* and a decimal comma .* one "
                                            "column must use one decimal mark"):
        score_on_dask(trained, str(source), str(out), cluster.scheduler_address, block_bytes=block)
    assert not list(out.glob("part-*"))
