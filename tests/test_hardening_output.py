"""Hardening what the product writes and reads: whole files or none, inputs never overwritten,
workbooks that cost what they hold, file text never chart markup, refusals remembered."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import core.__main__ as cli
from core.charts import analysis as analysis_charts
from core.charts import explore as eda
from core.config import RecoveryConfig
from core.data import load_portfolio
from core.data.labels import label_in
from core.errors import RecoveryError
from core.pipeline import analyse_portfolio, prepare_portfolio
from core.report import TEMP_PREFIX, write_atomic, write_csv
from core.report import files as report_files
from core.serve import batch, distributed
from core.serve import bundle as bundles
from sample_data.generate import generate_portfolio
from tests.helpers import portfolio_file

ROOT = Path(__file__).resolve().parent.parent
OLD = b"the result of last month, which must survive\r\n"
LINK = '<a href="https://x">Click</a>'
BOLD = "<b>bold</b>"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX))


def _run(argv: list[str | Path], capsys) -> tuple[int, str, str]:
    """The command line in this process: exit code, stdout and stderr."""
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if not line.startswith(("note:", "roles:", "warning:"))]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def portfolio_csv(tmp_path_factory) -> Path:
    return portfolio_file(tmp_path_factory.mktemp("hardening") / "june.csv", n=150, seed=4)


@pytest.fixture(scope="module")
def saved_model(portfolio_csv) -> Path:
    frame = pd.read_csv(portfolio_csv, dtype={"Borrower_ID": str, "Loan_ID": str})
    from core.pipeline import prepare

    model, _ = bundles.train(prepare(frame), RecoveryConfig(model="logistic"), "history.csv", "0" * 64)
    path = portfolio_csv.parent / "model.slr"
    path.write_bytes(bundles.dumps(model))
    return path


# ------------------------------------------------------------------ crash-safe output


def test_a_failure_mid_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "scored.csv"
    target.write_bytes(OLD)

    def rows():
        yield b"Loan_ID,Risk_Score\r\n"
        yield b"L1,0.5\r\n"
        raise RuntimeError("killed after two rows")

    with pytest.raises(RuntimeError):
        write_atomic(target, rows())
    assert target.read_bytes() == OLD
    assert _leftovers(tmp_path) == []
    write_atomic(target, [b"a,b\r\n", b"1,2\r\n"])
    assert target.read_bytes() == b"a,b\r\n1,2\r\n"
    assert _leftovers(tmp_path) == []
    nowhere = tmp_path / "missing" / "scored.csv"
    with pytest.raises(RecoveryError) as refused:
        write_atomic(nowhere, b"a,b\r\n")
    assert str(refused.value) == (f"Cannot write {nowhere}: the folder {nowhere.parent} does not exist. Create "
                                  "it, or choose another output path.")


def test_a_full_disk_is_one_line_and_the_old_csv_stays(tmp_path, monkeypatch):
    target = tmp_path / "scored.csv"
    target.write_bytes(OLD)

    def half_then_full(df, sink=None, later=None):
        sink.write(b"Loan_ID,Risk_Score\r\nL1,0.5\r\n")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("core.report.export._arrow_csv", half_then_full)
    with pytest.raises(RecoveryError) as refused:
        write_csv(pd.DataFrame({"Loan_ID": ["L1", "L2"], "Risk_Score": [0.5, 0.7]}), target)
    assert str(refused.value).startswith(f"Cannot write {target}: the disk is full.")
    assert "\n" not in str(refused.value)
    assert target.read_bytes() == OLD
    assert _leftovers(tmp_path) == []


def test_score_killed_while_writing_keeps_the_previous_output(portfolio_csv, tmp_path, monkeypatch, capsys):
    out, metrics = tmp_path / "scored.csv", tmp_path / "metrics.json"
    out.write_bytes(OLD)

    def half_then_full(df, sink=None, later=None):
        sink.write(b"Loan_ID,Risk_Score\r\nL1,0.5\r\n")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("core.report.export._arrow_csv", half_then_full)
    code, stdout, err = _run(["score", portfolio_csv, "-o", out, "--model", "logistic", "--metrics", metrics],
                             capsys)
    assert code == 2 and stdout == ""
    assert _one_line(err) == (f"error: Cannot write {out}: the disk is full. Free some space, or write to "
                              "another disk, and run again (nothing was written there).")
    assert out.read_bytes() == OLD
    assert not metrics.exists()
    assert _leftovers(tmp_path) == []


class _FullDisk:
    """A file that takes ``room`` bytes and then says the disk is full."""

    def __init__(self, sink, room: int) -> None:
        self.sink, self.room = sink, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.sink.write(data[: self.room])
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.sink.write(data)


def _disk_filling_after(room: int):
    real = report_files.atomic_file

    @contextmanager
    def atomic_file(path):
        with real(path) as sink:
            yield _FullDisk(sink, room)

    return atomic_file


def test_streamed_scoring_onto_a_full_disk_is_one_line_and_exit_2(portfolio_csv, saved_model, tmp_path,
                                                                   monkeypatch, capsys):
    out = tmp_path / "scored.csv"
    out.write_bytes(OLD)
    monkeypatch.setattr(batch, "atomic_file", _disk_filling_after(5000))
    code, stdout, err = _run(["score", portfolio_csv, "-o", out, "--model", saved_model, "--chunk-bytes", "4000"],
                             capsys)
    assert code == 2 and stdout == ""
    assert _one_line(err).startswith(f"error: Cannot write {out}: the disk is full.")
    assert out.read_bytes() == OLD
    assert _leftovers(tmp_path) == []


def test_streamed_scoring_that_fails_after_some_chunks_leaves_no_partial_file(portfolio_csv, saved_model,
                                                                              tmp_path, monkeypatch):
    model = bundles.loads(saved_model.read_bytes(), saved_model.name)
    out = tmp_path / "scored.csv"
    out.write_bytes(OLD)
    real, calls = batch.score_rows, []

    def dies_on_the_third_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RecoveryError("stopped on the third part")
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "score_rows", dies_on_the_third_chunk)
    with pytest.raises(RecoveryError, match="third part"):
        batch.stream_score(model, portfolio_csv, out, chunk_bytes=4000)
    assert len(calls) == 3
    assert out.read_bytes() == OLD
    assert _leftovers(tmp_path) == []
    monkeypatch.setattr(batch, "score_rows", real)
    done = batch.stream_score(model, portfolio_csv, out, chunk_bytes=4000)
    assert done.scored == 150 and done.chunks > 3
    assert len(pd.read_csv(out, encoding="utf-8-sig")) == 150
    assert _leftovers(tmp_path) == []


KILLED_MID_RUN = """
import os, signal, sys
from pathlib import Path
from core.serve import batch
from core.serve import bundle as bundles
real, calls = batch.score_rows, []
def score_then_die(*args, **kwargs):
    calls.append(1)
    if len(calls) == 3:  # two parts are already in the output: the process dies as a kill -9 would
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
batch.score_rows = score_then_die
source, output, model = map(Path, sys.argv[1:])
batch.stream_score(bundles.loads(model.read_bytes(), model.name), source, output, chunk_bytes=4000)
"""


def test_a_run_killed_mid_write_leaves_nothing_half_written_at_the_output(portfolio_csv, saved_model, tmp_path):
    out = tmp_path / "scored.csv"
    out.write_bytes(OLD)
    run = subprocess.run([sys.executable, "-c", KILLED_MID_RUN, str(portfolio_csv), str(out), str(saved_model)],
                         cwd=ROOT, capture_output=True, timeout=120)
    assert run.returncode == -9, run.stderr
    assert out.read_bytes() == OLD  # the old result, whole; the new one never appeared half-written
    assert sorted(os.listdir(tmp_path)) == ["scored.csv"]  # the partial file had no name: nothing is left


@pytest.mark.parametrize("streamed", [False, True], ids=["one piece", "streamed"])
def test_a_missing_output_folder_is_one_line_and_exit_2(portfolio_csv, saved_model, tmp_path, capsys, streamed):
    out = tmp_path / "no such folder" / "scored.csv"
    model = ["--model", saved_model] if streamed else ["--model", "logistic"]
    code, stdout, err = _run(["score", portfolio_csv, "-o", out, *model], capsys)
    assert code == 2 and stdout == ""
    line = _one_line(err)
    assert line.startswith(f"error: Cannot write {out}: the folder {out.parent} does not exist.")
    assert not out.parent.exists()


@pytest.mark.parametrize("streamed", [False, True], ids=["one piece", "streamed"])
def test_a_read_only_output_folder_is_one_line_and_exit_2(portfolio_csv, saved_model, tmp_path, capsys,
                                                          monkeypatch, streamed):
    folder = tmp_path / "locked"
    folder.mkdir()
    out = folder / "scored.csv"
    if os.geteuid() == 0:  # root writes anywhere: the refusal the file system would give is simulated
        real = report_files.tempfile.mkstemp

        def refuse(*args, dir=None, **kwargs):
            if Path(dir) == folder:
                raise PermissionError(errno.EACCES, "Permission denied")
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(report_files.tempfile, "mkstemp", refuse)
        monkeypatch.setattr(report_files, "_open_unnamed", lambda where: refuse(dir=where))
    else:
        folder.chmod(0o500)
    try:
        model = ["--model", saved_model] if streamed else ["--model", "logistic"]
        code, stdout, err = _run(["score", portfolio_csv, "-o", out, *model], capsys)
    finally:
        folder.chmod(0o700)
    assert code == 2 and stdout == ""
    assert _one_line(err) == (f"error: Cannot write {out}: the folder {folder} is read-only for you. Choose a "
                              "folder you can write to.")
    assert list(folder.iterdir()) == []


def test_report_metrics_and_side_files_are_written_whole(portfolio_csv, tmp_path, capsys):
    frame = pd.read_csv(portfolio_csv, dtype=str)
    frame.loc[3, "Age"] = "not an age"
    source = tmp_path / "with_bad_row.csv"
    frame.to_csv(source, index=False)
    out, metrics = tmp_path / "scored.xlsx", tmp_path / "metrics.json"
    code, stdout, err = _run(["score", source, "-o", out, "--model", "logistic", "--metrics", metrics,
                              "--drop-invalid"], capsys)
    assert code == 0, err
    assert "excluded 1 invalid row(s)" in stdout
    assert openpyxl.load_workbook(out).active.max_row == 150  # header + 149 borrowers
    assert json.loads(metrics.read_text())["borrowers_scored"] == 149
    side = pd.read_csv(tmp_path / "scored.invalid.csv", encoding="utf-8-sig")
    assert side["Age"].tolist() == ["not an age"]
    report = tmp_path / "report.html"
    code, stdout, err = _run(["report", portfolio_csv, "-o", report, "--model", "logistic"], capsys)
    assert code == 0, err
    assert report.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert _leftovers(tmp_path) == []
    assert oct(report.stat().st_mode & 0o777) != oct(0o600)  # readable like any other result


def test_a_dask_part_that_fails_leaves_the_earlier_part_and_no_temporary(tmp_path, monkeypatch):
    folder = tmp_path / "scored.parquet"
    folder.mkdir()
    table = pd.DataFrame({"Loan_ID": ["L1", "L2"], "Risk_Score": [0.2, 0.9], "Recovery_Strategy": ["a", "b"]})
    distributed._write_part(table, str(folder), 0, True)
    before = (folder / "part-00000.parquet").read_bytes()
    assert pd.read_parquet(folder / "part-00000.parquet")["Loan_ID"].tolist() == ["L1", "L2"]

    def half_then_fail(self, sink, **kwargs):
        sink.write(b"PAR1 half a part")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_then_fail)
    with pytest.raises(RecoveryError, match="the disk is full"):
        distributed._write_part(table.iloc[::-1], str(folder), 0, True)
    assert (folder / "part-00000.parquet").read_bytes() == before
    assert _leftovers(folder) == []


# ------------------------------------------------------------------ never overwrite the input


def _overwrite_cases(source: Path, model: Path, tmp: Path) -> list[tuple[list, str]]:
    link = tmp / "link.csv"
    link.symlink_to(source)
    hard = tmp / "hard.csv"
    os.link(source, hard)
    actions = tmp / "actions.csv"
    actions.write_text("action,cost,capacity,recovery_at_low_risk,recovery_at_high_risk\nCall,5,100,0.5,0.2\n")
    return [
        (["score", source, "-o", source], f"-o {source} is the input file ({source})"),
        (["score", source, "-o", tmp / "." / source.name], "is the input file"),
        (["score", link, "-o", source], "is the input file"),
        (["score", source, "-o", link], "is the input file"),
        (["score", hard, "-o", source], "is the input file"),
        (["score", source, "-o", tmp / "out.csv", "--metrics", source], f"--metrics {source} is the input file"),
        (["score", source, "-o", tmp / "out.csv", "--drop-invalid", "--invalid-output", source],
         "--invalid-output"),
        (["score", source, "-o", actions, "--actions", actions], "is the action table"),
        (["train", source, "-o", source], "is the input file"),
        (["report", source, "-o", source], "is the input file"),
        (["score", source, "-o", source, "--model", model], "is the input file"),
        (["score", source, "-o", model, "--model", model], f"-o {model} is the saved model being read"),
        (["score", source, "-o", tmp / "out.csv", "--model", model, "--drift", source], "--drift"),
        (["score", source, "-o", tmp / "out.csv", "--metrics", tmp / "out.csv"], "both name"),
    ]


def test_an_output_that_is_the_input_or_the_model_is_refused_and_both_stay(portfolio_csv, tmp_path, capsys):
    source = tmp_path / "june.csv"
    source.write_bytes(portfolio_csv.read_bytes())
    model = tmp_path / "model.slr"
    model.write_bytes(b"PK a model bundle's bytes")
    before, model_before = source.read_bytes(), model.read_bytes()
    for argv, says in _overwrite_cases(source, model, tmp_path):
        started = time.perf_counter()
        code, stdout, err = _run(argv, capsys)
        assert code == 2 and stdout == "", argv
        line = _one_line(err)
        assert says in line and ("Give another output path." in line or "its own path" in line), line
        assert time.perf_counter() - started < 5, argv  # refused before any reading or training
        assert source.read_bytes() == before and model.read_bytes() == model_before
    assert not (tmp_path / "out.csv").exists()


# ------------------------------------------------------------------ bounded work for any workbook


def _workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _edit_sheet(data: bytes, edit) -> bytes:
    source, buffer = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for item in source.infolist():
            content = source.read(item.filename)
            out.writestr(item, edit(content) if item.filename == "xl/worksheets/sheet1.xml" else content)
    return buffer.getvalue()


def sparse_workbook() -> bytes:
    """A header, and one row at the very bottom of a sheet declared A1:XFD1048576."""
    def edit(xml: bytes) -> bytes:
        xml = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', xml)
        return re.sub(rb'r="([A-Z]*)2"', rb'r="\g<1>1048576"', xml)

    return _edit_sheet(_workbook([["Loan_ID", "Age", "Outstanding_Loan_Amount"], ["L1", 40, 1000]]), edit)


def repeated_strings_workbook(rows: int = 1_048_576) -> bytes:
    """A header and the same string on every other row of the sheet, declared to its full size."""
    def edit(xml: bytes) -> bytes:
        head, rest = xml.split(b"<sheetData>")
        body, tail = rest.split(b"</sheetData>")
        header = body[: body.index(b'<row r="2"')]
        # rows and cells without an 'r' are numbered by their place, as the format allows
        cells = b'<row><c t="inlineStr"><is><t>repeated</t></is></c></row>' * (rows - 1)
        head = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:B%d"/>' % rows, head)
        return head + b"<sheetData>" + header + cells + b"</sheetData>" + tail

    return _edit_sheet(_workbook([["Loan_ID", "Note"], ["x", "y"]]), edit)


def _read_in_child(path: Path) -> tuple[float, dict]:
    """Read a workbook in a fresh process (a runaway read cannot stall the tests): seconds taken, what it gave."""
    code = ("import json, sys, time\nfrom core.data import read_table\nfrom core.errors import RecoveryError\n"
            "data = open(sys.argv[1], 'rb').read()\nstarted = time.perf_counter()\n"
            "try:\n    t = read_table(data, 'crafted.xlsx')\n"
            "    out = {'rows': t.frame.index.tolist(), 'values': t.frame.to_numpy().tolist()}\n"
            "except RecoveryError as e:\n    out = {'refused': str(e)}\n"
            "print(json.dumps({'seconds': time.perf_counter() - started, **out}))\n")
    run = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    return result.pop("seconds"), result


def test_a_sheet_declared_huge_costs_what_it_holds(tmp_path):
    path = tmp_path / "sparse.xlsx"
    path.write_bytes(sparse_workbook())
    assert path.stat().st_size < 10_000
    seconds, read = _read_in_child(path)
    assert read == {"rows": [1_048_576], "values": [["L1", "40", "1000"]]}
    assert seconds < 10, f"{seconds:.1f} s to read a sheet of two rows"


def test_a_workbook_of_a_million_repeated_strings_is_refused_before_its_cells_are_walked(tmp_path):
    path = tmp_path / "repeated.xlsx"
    path.write_bytes(repeated_strings_workbook())
    assert path.stat().st_size < 10_000_000
    seconds, read = _read_in_child(path)
    assert read == {"refused": "crafted.xlsx (sheet 'Sheet') holds 1,048,576 rows, over the limit of 1,000,000 "
                               "(max_rows). Split the file into smaller parts."}
    assert seconds < 10, f"{seconds:.1f} s to refuse"


def test_a_declared_size_smaller_than_the_data_no_longer_cuts_rows_off():
    def edit(xml: bytes) -> bytes:
        return re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:B2"/>', xml)

    data = _edit_sheet(_workbook([["Loan_ID", "Age"], ["L1", 30], ["L2", 41], ["L3", 52]]), edit)
    table = load_portfolio(data, "short.xlsx").frame
    assert table["Loan_ID"].tolist() == ["L1", "L2", "L3"]


# ------------------------------------------------------------------ text from a file is never markup


@pytest.fixture(scope="module")
def crafted_portfolio():
    """A portfolio whose own fields are named (and valued) with markup."""
    frame, _ = generate_portfolio(n=300, seed=8)
    frame[LINK] = frame["Monthly_Income"] * 0.1 + frame.index % 7
    frame[BOLD] = ["<i>styled</i>" if i % 3 else '<span style="color:red">red</span>' for i in frame.index]
    data = frame.to_csv(index=False).encode()
    return load_portfolio(data, "crafted.csv")


def _strings(value) -> list[str]:
    """Every string in a figure's JSON, decoded, as the browser receives it."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _figure_text(figures) -> str:
    return "\n".join(s for figure in figures for s in _strings(json.loads(figure.to_json())))


def _assert_plain(text: str) -> None:
    """None of the file's markup is live; the app's own (<b>%{x}</b>, <br>) may be."""
    for raw in (LINK, "<a ", "Click</a>", BOLD, "<i>styled</i>", "<span style"):
        assert raw not in text, raw


def test_headers_and_values_from_the_file_are_plain_text_in_explore_charts(crafted_portfolio):
    prepared = prepare_portfolio(crafted_portfolio, RecoveryConfig().roles)
    own = eda.field_charts(prepared.features, prepared.roles, top=50)
    titles = [title for title, _ in own]
    columns = prepared.features.columns  # titles use the headers' readable labels; the header itself is on hover
    assert f"{label_in(LINK, columns)} distribution" in titles and f"{label_in(BOLD, columns)} distribution" in titles
    figures = [draw() for _, draw in own]
    figures += [eda.draw(prepared.features, name) for name, why in eda.available_charts(prepared.features)
                if why is None]
    scatter = pd.DataFrame({LINK: [1.0, 2.0, 3.0], BOLD: [3.0, 1.0, 2.0], "Segment_Name": [BOLD, LINK, BOLD]})
    figures.append(eda.segment_scatter(scatter, fields=(LINK, BOLD)))
    text = _figure_text(figures)
    _assert_plain(text)
    assert '&lt;a href="https://x"&gt;Click&lt;/a&gt;' in text  # the header, shown as written
    assert "&lt;b&gt;bold&lt;/b&gt;" in text
    assert "&lt;i&gt;styled&lt;/i&gt;" in text  # a value of the file, as a tick label


def test_headers_from_the_file_are_plain_text_in_risk_charts(crafted_portfolio):
    result = analyse_portfolio(crafted_portfolio, RecoveryConfig(model="logistic"))
    assert any(LINK in str(label) for label in result.risk.importance["label"])
    figures = [analysis_charts.importance(result), analysis_charts.roc_curve(result),
               analysis_charts.precision_recall(result), analysis_charts.calibration(result),
               analysis_charts.gains(result), analysis_charts.confusion(result),
               analysis_charts.segment_sizes(result), analysis_charts.strategy_mix(result)]
    text = _figure_text(figures)
    _assert_plain(text)
    assert '&lt;a href="https://x"&gt;Click&lt;/a&gt;' in _figure_text(figures[:1])


# ------------------------------------------------------------------ a refusal is remembered


def test_a_refused_upload_is_read_once_across_page_changes(monkeypatch):
    from streamlit.testing.v1 import AppTest

    import ui.state

    reads: list[str] = []
    real = ui.state.load_portfolio

    def counted(data, name, *args, **kwargs):
        reads.append(name)
        return real(data, name, *args, **kwargs)

    monkeypatch.setattr(ui.state, "load_portfolio", counted)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.switch_page("app_pages/data.py")  # straight to the page: the Overview would first analyse the demo
    at.run()
    at.file_uploader[0].upload("refused.csv", b"Loan_ID,Age,Outstanding_Loan_Amount\n", "text/csv")
    at.run()
    assert not at.exception, at.exception
    refusal = "refused.csv has a header but no rows"
    assert any(refusal in e.value.replace("\\", "") for e in at.error), [e.value for e in at.error]
    for page in ("app_pages/explore.py", "app_pages/home.py"):
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
        assert any(refusal in e.value.replace("\\", "") for e in at.error), [e.value for e in at.error]
    assert reads.count("refused.csv") == 1
