"""`python -m core score`: the same engine as the app, one line and exit 2 on user errors."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core.config import SEED_STRATEGIES
from sample_data.generate import generate_portfolio
from tests.helpers import CORPUS, ROOT, cli
from tests.notebook import NOTEBOOK_NAMES

ADDED = ["Borrower_Segment", "Segment_Name", "Risk_Score", "Predicted_High_Risk", "Recovery_Strategy",
         "Risk_Reasons"]


def _cli(*args: str | Path) -> subprocess.CompletedProcess:
    """A real `python -m core` process: for what only a process shows (exit status, no stray output, a terminal)."""
    return subprocess.run([sys.executable, "-m", "core", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def portfolio_csv(tmp_path_factory) -> Path:
    frame, _ = generate_portfolio(n=400, seed=21)
    frame.loc[0, "Loan_ID"] = "00123"
    path = tmp_path_factory.mktemp("cli") / "portfolio.csv"
    frame.to_csv(path, index=False)
    return path


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"Borrower_ID": str, "Loan_ID": str}, encoding="utf-8-sig")


def test_score_writes_every_borrower_with_strategies_and_metrics(portfolio_csv, tmp_path):
    out, metrics = tmp_path / "scored.csv", tmp_path / "metrics.json"
    run = cli("score", portfolio_csv, "-o", out, "--metrics", metrics)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Scored 400 borrowers with ")
    scored, original = _read(out), _read(portfolio_csv)
    assert len(scored) == 400
    assert list(scored.columns[1:22]) == list(original.columns)
    assert set(ADDED) <= set(scored.columns)
    assert scored["Loan_ID"].iloc[0] == "00123"
    assert scored["Age"].tolist() == original["Age"].tolist()
    assert scored["Risk_Score"].between(0, 1).all()
    assert set(scored["Recovery_Strategy"]) <= set(SEED_STRATEGIES)
    assert (scored["Predicted_High_Risk"] == (scored["Risk_Score"] > 0.5).astype(int)).all()
    figures = json.loads(metrics.read_text())
    assert figures["preset"] == "recommended"
    assert figures["target"] == "not_fully_recovered"
    assert figures["borrowers_scored"] == 400
    assert set(figures["out_of_fold"]) == {"roc_auc", "pr_auc", "gini", "ks", "brier", "accuracy",
                                           "precision", "recall", "f1"}
    assert 0.6 < figures["out_of_fold"]["roc_auc"]["value"] < 1
    assert figures["model"] == "gradient_boosting"
    assert figures["model_comparison"] == []  # compared only when asked: --model auto
    assert not {"Gender", "Collection_Attempts", "Collection_Method", "Legal_Action_Taken"} & set(
        figures["features"])


def test_seed_preset_reports_the_notebook_split(portfolio_csv, tmp_path):
    out, metrics = tmp_path / "seed.xlsx", tmp_path / "seed.json"
    run = cli("score", portfolio_csv, "-o", out, "--preset", "seed", "--metrics", metrics)
    assert run.returncode == 0, run.stderr
    figures = json.loads(metrics.read_text())
    assert figures["target"] == "segment"
    assert figures["seed_split"]["test_rows"] == 80
    assert figures["features"] == ["Age", "Monthly_Income", "Loan_Amount", "Loan_Tenure", "Interest_Rate",
                                   "Collateral_Value", "Outstanding_Loan_Amount", "Monthly_EMI",
                                   "Num_Missed_Payments", "Days_Past_Due"]
    sheet = openpyxl.load_workbook(out).active
    header = [c.value for c in sheet[1]]
    assert set(ADDED) <= set(header)
    assert sheet.max_row == 401
    names = {row[header.index("Segment_Name")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names <= set(NOTEBOOK_NAMES.values())


@pytest.fixture(scope="module")
def dirty_csv(tmp_path_factory) -> Path:
    """300 borrowers, 2 of them invalid: an age of 130, and a loan repeating an earlier row's ID."""
    frame, _ = generate_portfolio(n=300, seed=22)
    frame = frame.astype({"Age": "object", "Loan_ID": "object"})
    frame.loc[4, "Age"] = 130
    frame.loc[7, "Loan_ID"] = frame.loc[8, "Loan_ID"]
    source = tmp_path_factory.mktemp("dirty") / "dirty.csv"
    frame.to_csv(source, index=False)
    return source


def test_invalid_rows_fail_strictly_and_can_be_dropped(dirty_csv, tmp_path):
    source, out = dirty_csv, tmp_path / "out.csv"

    strict = cli("score", source, "-o", out)
    assert strict.returncode == 2
    assert "Traceback" not in strict.stderr
    assert "Age: age outside 18-100 in 1 row (row 6)" in strict.stderr
    assert "Loan_ID: repeated Loan_ID (an earlier row has it) in 1 row (row 10)" in strict.stderr
    assert "--keep-repeated-ids" in strict.stderr
    assert "--drop-invalid" in strict.stderr
    assert not out.exists()

    dropped = cli("score", source, "-o", out, "--drop-invalid")
    assert dropped.returncode == 0, dropped.stderr
    assert "excluded 2 invalid row(s)" in dropped.stdout
    assert len(_read(out)) == 298
    side = _read(tmp_path / "out.invalid.csv")
    assert len(side) == 2
    assert side["Problems"].str.contains("Age").sum() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (b"", "is empty"),
        (b"\x00\x01\x02garbage\xff" * 50, "error: "),
        (b"Borrower_ID,Age\nB1,40\nB2,41\n",
         "4 segments need at least 4 borrowers; the data has 2: choose a smaller k"),
    ],
)
def test_user_errors_print_one_message_and_exit_2(tmp_path, content, message):
    source = tmp_path / "input.csv"
    if content is not None:
        source.write_bytes(content)
    run = (_cli if content is None else cli)("score", source, "-o", tmp_path / "out.csv")  # one real process
    assert run.returncode == 2
    assert message in run.stderr
    assert run.stderr.startswith("error: ")
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_model_auto_compares_three_models_and_keeps_the_best(portfolio_csv, tmp_path):
    out, metrics = tmp_path / "scored.csv", tmp_path / "metrics.json"
    run = cli("score", portfolio_csv, "-o", out, "--metrics", metrics, "--model", "auto")
    assert run.returncode == 0, run.stderr
    figures = json.loads(metrics.read_text())
    compared = figures["model_comparison"]
    assert [c["model"] for c in compared][0] == figures["model"]
    assert {c["model"] for c in compared} == {"gradient_boosting", "random_forest", "logistic"}
    assert compared[0]["roc_auc_fold_mean"] == max(c["roc_auc_fold_mean"] for c in compared)


def test_a_run_off_a_terminal_prints_no_progress_and_no_warnings(portfolio_csv, tmp_path):
    # the first version printed scikit-learn's 'delayed should be used with Parallel' up to 200 times
    run = _cli("score", portfolio_csv, "-o", tmp_path / "scored.csv")
    assert run.returncode == 0
    # one line says which columns played which role; nothing else (no progress, no library warnings)
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("roles: identifier Borrower_ID, Loan_ID; outcome ")


def test_a_reader_that_stops_reading_gets_the_file_and_no_traceback(portfolio_csv, tmp_path):
    # `python -m core score … | head -c 0`: the summary meets a pipe nobody reads any more
    import os

    reader, writer = os.pipe()
    os.close(reader)
    out = tmp_path / "scored.csv"
    run = subprocess.run([sys.executable, "-m", "core", "score", str(portfolio_csv), "-o", str(out)], cwd=ROOT,
                         stdout=writer, stderr=subprocess.PIPE, text=True, timeout=600,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
    os.close(writer)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr and "BrokenPipeError" not in run.stderr
    assert len(pd.read_csv(out)) == 400  # the scored file was written whole before the summary


def test_a_run_on_a_terminal_shows_named_steps(portfolio_csv, tmp_path):
    import os
    import pty

    leader, follower = pty.openpty()
    run = subprocess.run([sys.executable, "-m", "core", "score", str(portfolio_csv), "-o",
                          str(tmp_path / "scored.csv")], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=follower, text=True, timeout=600)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: everything was read
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert run.returncode == 0
    text = shown.decode()
    for step in ("Forming segments", "Fold 5 of 5 trained", "Explaining each score", "Scores ready"):
        assert step in text, text


@pytest.fixture(scope="module")
def actions_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("actions") / "actions.csv"
    path.write_text(
        "action,cost,capacity,recovery_at_low_risk,recovery_at_high_risk\n"
        f"{SEED_STRATEGIES[0]},5000,30,0.85,0.45\n"
        f"{SEED_STRATEGIES[1]},1500,60,0.90,0.35\n"
        f"{SEED_STRATEGIES[2]},50,,0.95,0.15\n"
        "No action,0,,92%,5%\n", encoding="utf-8")
    return path


def test_actions_plan_within_capacities_with_expected_values_and_a_holdout(portfolio_csv, actions_csv, tmp_path):
    out, metrics = tmp_path / "plan.csv", tmp_path / "metrics.json"
    run = cli("score", portfolio_csv, "-o", out, "--actions", actions_csv, "--metrics", metrics)
    assert run.returncode == 0, run.stderr
    assert "optimised plan worth" in run.stdout
    plan = _read(out)
    counts = plan["Recovery_Strategy"].value_counts()
    assert counts.get(SEED_STRATEGIES[0], 0) <= 30 and counts.get(SEED_STRATEGIES[1], 0) <= 60
    assert counts.get(SEED_STRATEGIES[0], 0) > 0  # the scarce legal capacity is used, not left idle
    assert set(plan["Test_Group"]) == {"champion", "challenger"}
    assert 0.03 < (plan["Test_Group"] == "champion").mean() < 0.2
    share = {SEED_STRATEGIES[0]: (0.85, 0.45, 5000), SEED_STRATEGIES[1]: (0.90, 0.35, 1500),
             SEED_STRATEGIES[2]: (0.95, 0.15, 50), "No action": (0.92, 0.05, 0)}
    low, high, cost = zip(*plan["Recovery_Strategy"].map(share))
    expected = plan["Outstanding_Loan_Amount"] * (pd.Series(low) + (pd.Series(high) - pd.Series(low))
                                                  * plan["Risk_Score"]) - pd.Series(cost)
    assert (plan["Expected_Net_Recovery"] - expected).abs().max() < 1e-3
    figures = json.loads(metrics.read_text())
    policies = {p["Policy"]: p["Expected net recovery"] for p in figures["policies"]}
    assert policies["Optimised (most expected net recovery)"] >= policies["Notebook thresholds"]
    assert figures["assignment"]["method"] == "exact"


def test_holdout_zero_and_threshold_policy(portfolio_csv, actions_csv, tmp_path):
    out = tmp_path / "plan.csv"
    run = cli("score", portfolio_csv, "-o", out, "--actions", actions_csv, "--policy", "thresholds")
    assert run.returncode == 0, run.stderr
    plan = _read(out)
    assert "Test_Group" not in plan.columns  # the holdout is kept only beside the optimised plan
    legal = plan[plan["Recovery_Strategy"] == SEED_STRATEGIES[0]]
    assert len(legal) <= 30 and (legal["Risk_Score"] > 0.75).all()
    assert len(legal) == min(30, int((plan["Risk_Score"] > 0.75).sum()))  # the band fills its capacity


def test_a_bad_action_table_is_one_line_naming_the_row(portfolio_csv, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("action,cost,capacity,recovery_at_low_risk,recovery_at_high_risk\nLegal,-1,,0.8,0.4\n")
    run = cli("score", portfolio_csv, "-o", tmp_path / "x.csv", "--actions", bad)
    assert run.returncode == 2
    assert run.stderr.strip() == "error: Action table row 2: cost -1 is negative: give 0 or more."


def test_an_exported_file_can_be_scored_again(portfolio_csv, tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    assert cli("score", portfolio_csv, "-o", first).returncode == 0
    run = cli("score", first, "-o", second)
    assert run.returncode == 0, run.stderr
    again = _read(second)
    assert list(again.columns).count("File_Row") == 1
    assert again["Risk_Score"].round(6).tolist() == _read(first)["Risk_Score"].round(6).tolist()


def _titled_workbook(frame: pd.DataFrame) -> bytes:
    """The portfolio on sheet 'Loans' below a title and a blank row, with an uncomputed formula column."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Loans"
    sheet.append(["Collections portfolio, March 2024"])
    sheet.append([])
    sheet.append([*frame.columns, "Total_Due"])
    for row, values in enumerate(frame.itertuples(index=False), start=4):
        sheet.append([*values, f"=M{row}+N{row}"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_notes_on_how_the_file_was_read_go_to_stderr(tmp_path):
    frame, _ = generate_portfolio(n=300, seed=12)
    source = tmp_path / "titled.xlsx"
    source.write_bytes(_titled_workbook(frame))
    run = _cli("score", source, "-o", tmp_path / "out.csv")  # a process: nothing but its notes on stderr
    assert run.returncode == 0, run.stderr
    notes, roles = run.stderr.splitlines()[:2], run.stderr.splitlines()[2:]
    assert notes == [
        "note: The header is on row 3 of sheet 'Loans'; rows 1–2 (a title: 'Collections "
        "portfolio, March 2024') were skipped.",
        "note: Column 'Total_Due' holds formulas whose values were not saved in the file "
        "(rows 4–303), so they read as blank: open the workbook in Excel and save it again, or "
        "paste the values."]
    assert len(roles) == 1 and "Total_Due (empty: no value in any row)" in roles[0]
    scored = _read(tmp_path / "out.csv")
    assert len(scored) == 300
    first = scored.set_index("File_Row").loc[4]  # the spreadsheet row of the first borrower
    assert first["Borrower_ID"] == frame.loc[0, "Borrower_ID"]


def test_the_header_row_can_be_given(tmp_path):
    source = CORPUS / "title_above_header.csv"
    chosen = cli("score", source, "-o", tmp_path / "o.csv", "--header-row", "3")
    assert chosen.stderr.splitlines()[0] == "note: The header is on row 3, as chosen; rows 1–2 above it were skipped."
    beyond = cli("score", source, "-o", tmp_path / "o.csv", "--header-row", "40")
    assert beyond.returncode == 2
    assert beyond.stderr == ("error: title_above_header.csv has values down to row 9 only, so row 40 cannot be the "
                             "header. Choose a header row from 1 to 9.\n")


def test_report_writes_one_offline_html_file_with_the_files_fingerprint(portfolio_csv, actions_csv, tmp_path):
    out = tmp_path / "board.html"
    run = cli("report", portfolio_csv, "-o", out, "--actions", actions_csv, "--holdout", "0")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Reported on 400 borrowers scored with Additive gradient boosting")
    assert f"wrote {out} (" in run.stdout and run.stdout.strip().endswith("KB).")
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "portfolio.csv · 400 borrowers analysed" in html
    assert hashlib.sha256(portfolio_csv.read_bytes()).hexdigest() in html
    assert "Policies compared at the same capacities" in html
    assert "<td>Holdout</td><td>0%</td>" in html and "champion group" not in html  # --holdout 0
    assert "<script" not in html and "https:" not in html
    assert "http:" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a name, never fetched


def test_report_lists_the_rows_it_excluded(dirty_csv, tmp_path):
    out = tmp_path / "dirty.html"
    run = cli("report", dirty_csv, "-o", out, "--drop-invalid")
    assert run.returncode == 0, run.stderr
    assert f"excluded 2 invalid row(s), listed in {tmp_path / 'dirty.invalid.csv'}" in run.stdout
    assert len(_read(tmp_path / "dirty.invalid.csv")) == 2
    html = out.read_text(encoding="utf-8")
    assert "298 borrowers analysed" in html
    assert "2 row(s) had errors and were excluded from this analysis" in html
    assert "age outside 18-100" in html


def test_report_user_errors_print_one_line_and_exit_2(portfolio_csv, tmp_path):
    missing = _cli("report", tmp_path / "nope.csv", "-o", tmp_path / "r.html")
    unwritable = cli("report", portfolio_csv, "-o", tmp_path / "no-such-folder" / "r.html")
    for run, message in ((missing, "does not exist"), (unwritable, "Cannot write")):
        assert run.returncode == 2
        assert run.stderr.startswith("error: ") and message in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert not (tmp_path / "r.html").exists()


# ------------------------------------------------------------------ settings the user gives are used as given


def _main(*args, capsys) -> tuple[int, str, str]:
    """The command line in this process (no interpreter start): exit code, stdout, stderr."""
    from core.__main__ import main

    code = main([str(a) for a in args])
    said = capsys.readouterr()
    return code, said.out, said.err


def test_an_explicit_bad_below_that_leaves_nothing_to_learn_stops_before_any_fitting(tmp_path, capsys):
    out = tmp_path / "scored.csv"
    source = ROOT / "tests" / "corpus_foreign" / "recovered_none_full.csv"
    code, _, err = _main("score", source, "-o", out, "--bad-below", "1.0", capsys=capsys)
    assert code == 2 and not out.exists()
    assert err.startswith("error: --bad-below 1: every borrower counts as bad at a recovered share below 100%")
    assert "nothing can be learned. Choose a lower --bad-below, e.g. 0.5" in err
    code, _, err = _main("train", source, "-o", tmp_path / "m.slr", "--bad-below", "1", capsys=capsys)
    assert code == 2 and "--bad-below 1: every borrower counts as bad" in err


def test_a_currency_that_is_not_a_label_is_refused_with_exit_2(portfolio_csv, tmp_path, capsys):
    code, _, err = _main("score", portfolio_csv, "-o", tmp_path / "o.csv", "--currency", "EUR1", capsys=capsys)
    assert code == 2 and "give a code such as EUR or a symbol such as €" in err


def test_the_currency_labels_the_plan_and_the_metrics_and_a_reversed_signal_free_score_is_named(
        demo_frame, tmp_path, capsys):
    from core.decide.actions import DEFAULT_ACTIONS, actions_frame

    coin = demo_frame.copy()  # outcomes shuffled: nothing left to learn, as in the notebook's own file
    coin["Recovery_Status"] = np.random.default_rng(4).permutation(coin["Recovery_Status"].to_numpy()).astype(str)
    source, actions, metrics = tmp_path / "coin.csv", tmp_path / "actions.csv", tmp_path / "m.json"
    coin.to_csv(source, index=False)
    actions_frame(DEFAULT_ACTIONS).to_csv(actions, index=False)
    code, out, err = _main("score", source, "-o", tmp_path / "o.xlsx", "--actions", actions, "--currency", "EUR",
                           "--metrics", metrics, capsys=capsys)
    assert code == 0, err
    figures = json.loads(metrics.read_text())
    assert figures["currency"] == "EUR"
    net = sum(s["Expected net recovery"] for s in figures["strategies"])
    assert isinstance(net, float)  # numbers stay numbers in the JSON
    assert f"plan worth EUR {net:,.0f} expected net recovery" in out
    note = figures["ordering_note"]
    assert note.startswith("The model finds no signal in this file") and "reversed the model's ordering" in note
    assert f"warning: {note}" in err
