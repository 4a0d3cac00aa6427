"""The command line on a history with an action column: learned plans, saved effects, and measuring a month."""

from __future__ import annotations

import html
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from core.__main__ import main
from core.config import SEED_STRATEGIES
from core.decide import measure_file, measurement_lines, measurement_table, read_actions
from core.serve import bundle as bundles
from sample_data.action_history import generate_history, new_month, realised
from tests.helpers import cli

ROOT = Path(__file__).resolve().parent.parent
LEGAL, SETTLEMENT, REMINDERS = SEED_STRATEGIES
# The notebook's three strategies (so the plan keeps its champion group) plus collectors, each linked
# to the history's method it stands for; recovery figures left empty: they are learned.
TABLE = ("action,cost,capacity,method\n"
         f"{LEGAL},5000,60,Legal Notice\n"
         f"{SETTLEMENT},1500,150,settlement offer\n"
         "Debt collectors,3000,100,Debt Collectors\n"
         f"{REMINDERS},50,,Calls\n")
CAPACITY = {LEGAL: 60, SETTLEMENT: 150, "Debt collectors": 100}
METHOD_OF = {LEGAL: "Legal Notice", SETTLEMENT: "Settlement Offer", "Debt collectors": "Debt Collectors",
             REMINDERS: "Calls"}


def _cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})


def _main(capsys, *args: str | Path) -> subprocess.CompletedProcess:
    """The command line in this process (its imports are paid once): exit code, stdout and stderr."""
    capsys.readouterr()
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("learned")
    history, _ = generate_history(1200, seed=21, overlap=False)  # legal notices only from 90 days past due
    month, _ = new_month(800, seed=22)
    paths = {"history": folder / "history.csv", "month": folder / "month.csv", "actions": folder / "actions.csv",
             "folder": folder}
    history.to_csv(paths["history"], index=False)
    month.to_csv(paths["month"], index=False)
    paths["actions"].write_text(TABLE)
    return paths


@pytest.fixture(scope="module")
def trained(files) -> tuple[subprocess.CompletedProcess, Path]:
    model = files["folder"] / "model.slr"
    return _cli("train", files["history"], "-o", model, "--model", "logistic"), model


@pytest.fixture(scope="module")
def month_plan(files, trained) -> tuple[subprocess.CompletedProcess, Path]:
    out = files["folder"] / "plan.csv"
    # in process: the real `python -m core` process is the train above
    return cli("score", files["month"], "--model", trained[1], "--actions", files["actions"], "-o", out), out


def _within_capacity(plan: pd.DataFrame) -> None:
    counts = plan["Recovery_Strategy"].value_counts()
    for action, capacity in CAPACITY.items():
        assert counts.get(action, 0) <= capacity


def test_score_plans_a_history_on_what_its_actions_achieved(files):
    out = files["folder"] / "history_plan.csv"
    run = _cli("score", files["history"], "--actions", files["actions"], "-o", out, "--model", "logistic")
    assert run.returncode == 0, run.stderr
    assert "optimised plan worth" in run.stdout
    assert "on what the history's 'Collection_Method' says each action achieves" in run.stdout
    notes = [line for line in run.stderr.splitlines() if line.startswith("note: ")]
    assert notes[0] == ("note: Action effects learned from 1,200 resolved borrowers: what came back (Amount_Recovered "
                        "against the outstanding) under each value of 'Collection_Method', adjusted for who "
                        "received it.")
    legal = [n for n in notes if n.startswith(f"note: '{LEGAL}': Legal Notice was never used for ")]
    assert len(legal) == 1 and "its effect there cannot be learned; it is not planned for them." in legal[0]
    plan = pd.read_csv(out)
    _within_capacity(plan)
    assert set(plan["Test_Group"]) == {"champion", "challenger"}
    optimised = plan[plan["Test_Group"] == "challenger"]
    assert optimised["Expected_Net_Recovery"].notna().all()


def test_train_saves_the_learned_effects_and_a_new_month_plans_on_them(files, trained, month_plan):
    run, model = trained
    assert run.returncode == 0, run.stderr
    assert ("learned what each of 4 actions in 'Collection_Method' achieves from 1,200 resolved borrowers"
            in run.stdout)
    loaded = bundles.loads(model.read_bytes(), model.name)
    assert loaded.effects is not None
    assert loaded.effects.methods == ("Calls", "Debt Collectors", "Legal Notice", "Settlement Offer")
    assert loaded.manifest["effects"]["action_column"] == "Collection_Method"
    assert sum(loaded.manifest["effects"]["rows"].values()) == 1200
    month = pd.read_csv(files["month"])
    assert "Collection_Method" not in month.columns  # a new month: no action, no outcome yet
    shares = loaded.effects.predict(month)
    assert shares.shape == (800, 4) and np.all((shares >= 0) & (shares <= 1))

    scored, out = month_plan
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout.startswith("Scored 800 borrowers with the saved model model.slr")
    assert f"note: '{LEGAL}': Legal Notice was never used for " in scored.stderr
    plan = pd.read_csv(out)
    _within_capacity(plan)
    assert set(plan["Recovery_Strategy"]) <= set(CAPACITY) | {REMINDERS}
    assert (plan["Test_Group"] == "champion").sum() > 0


@pytest.fixture(scope="module")
def with_outcomes(month_plan, tmp_path_factory) -> Path:
    """The month's plan with the amount each borrower repaid added, as the team would upload it."""
    _, out = month_plan
    plan = pd.read_csv(out)
    frame, truth = new_month(800, seed=22)
    amount, _ = realised(np.random.default_rng(3), frame, plan["Recovery_Strategy"].map(METHOD_OF).to_numpy(), truth)
    path = tmp_path_factory.mktemp("measured") / "outcomes.csv"
    plan.assign(Amount_Repaid=amount).to_csv(path, index=False)
    return path


def test_measure_prints_the_figures_measure_plan_gives(files, with_outcomes, tmp_path, capsys):
    table = tmp_path / "measured.csv"
    run = _main(capsys, "measure", with_outcomes, "--outcome", "Amount_Repaid", "--actions", files["actions"],
                "-o", table)
    assert run.returncode == 0, run.stderr
    actions = read_actions(files["actions"].read_bytes(), "actions.csv")
    m = measure_file(with_outcomes.read_bytes(), with_outcomes.name, "Amount_Repaid", actions)
    lines = measurement_lines(m)
    assert run.stdout.splitlines() == lines[:-1] + [lines[-1] + f" Wrote {table}."]
    overall = run.stdout.splitlines()[0]
    assert overall.startswith(f"All borrowers: optimised {m.groups[1].borrowers:,} borrowers, "
                              f"{m.groups[1].share:.1%} of the outstanding recovered; champion "
                              f"{m.groups[0].borrowers:,}, {m.groups[0].share:.1%}. Uplift {m.overall.money:,.0f} "
                              "net recovery per borrower (95% interval ")
    written = pd.read_csv(table, encoding="utf-8-sig")
    pd.testing.assert_frame_equal(written, measurement_table(m), check_dtype=False)
    assert written["Scope"].iloc[0] == "All borrowers"
    assert m.groups[0].borrowers + m.groups[1].borrowers == 800


def test_measure_user_errors_are_one_line(files, month_plan, capsys):
    _, out = month_plan
    run = _main(capsys, "measure", out, "--outcome", "Paid")
    assert run.returncode == 2
    assert run.stderr.startswith("error: The outcomes file has no 'Paid' column; columns with amounts: ")
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    month = _main(capsys, "measure", files["month"], "--outcome", "Amount")
    assert month.returncode == 2
    assert month.stderr.strip() == ("error: month.csv has no Test_Group, Recovery_Strategy column: upload the plan's "
                                    "download (made with an action table and a champion group) with the amount each "
                                    "borrower repaid added.")


def test_learning_needs_an_action_column_and_says_so(files, tmp_path, capsys):
    small, _ = generate_history(150, seed=5)
    path = tmp_path / "no_actions.csv"
    small.drop(columns=["Collection_Method", "Legal_Action_Taken"]).to_csv(path, index=False)
    run = _main(capsys, "score", path, "--actions", files["actions"], "-o", tmp_path / "out.csv")
    assert run.returncode == 2
    assert run.stderr.strip() == (
        f"error: '{LEGAL}' has no recovery figures to learn: The file has no column saying which action each "
        "borrower received (such as Collection_Method): action effects cannot be learned from it. Type its figures "
        "in the action table, or load a file with the actions received and their outcomes.")
    named = _main(capsys, "score", files["history"], "--actions", files["actions"], "--action-column", "Channel",
                  "-o", tmp_path / "out.csv")
    assert named.returncode == 2
    assert named.stderr.strip().endswith(
        "error: The action column 'Channel' is not in the file: choose the column saying which action each "
        "borrower received, or leave it to be suggested.")


def test_measure_writes_a_report_whose_figures_are_the_measurement(files, with_outcomes, tmp_path, capsys):
    report = tmp_path / "measured.html"
    run = _main(capsys, "measure", with_outcomes, "--outcome", "Amount_Repaid", "--actions", files["actions"],
                "--report", report)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith(f"Wrote {report}.")
    actions = read_actions(files["actions"].read_bytes(), "actions.csv")
    m = measure_file(with_outcomes.read_bytes(), with_outcomes.name, "Amount_Repaid", actions)
    page = html.unescape(report.read_text(encoding="utf-8"))
    assert m.verdict() in page
    optimised, champion = m.groups[1], m.groups[0]
    assert f"{optimised.share:.1%}" in page and f"{champion.share:.1%}" in page
    assert f"{m.overall.money:,.0f}" in page and f"{optimised.borrowers:,} borrowers" in page
    for scope in measurement_table(m)["Scope"]:
        assert f"<td>{scope}</td>" in page
    assert "<script" not in page and "http" not in page.split("</head>")[1]
    again = _main(capsys, "measure", with_outcomes, "--outcome", "Amount_Repaid", "--report", with_outcomes)
    assert again.returncode == 2 and "would destroy it" in again.stderr


def test_measure_labels_money_with_the_currency_chosen(files, with_outcomes, tmp_path, capsys):
    book, report = tmp_path / "measured.xlsx", tmp_path / "measured.html"
    run = _main(capsys, "measure", with_outcomes, "--outcome", "Amount_Repaid", "--actions", files["actions"],
                "--currency", "€", "-o", book, "--report", report)
    assert run.returncode == 0, run.stderr
    actions = read_actions(files["actions"].read_bytes(), "actions.csv")
    m = measure_file(with_outcomes.read_bytes(), with_outcomes.name, "Amount_Repaid", actions)
    up = m.overall
    euros = f"€{up.money:,.0f}" if up.money >= 0 else f"-€{-up.money:,.0f}"
    assert f"Uplift {euros} net recovery per borrower" in run.stdout.splitlines()[0]
    assert m.verdict("€") in run.stdout and m.verdict("€") != m.verdict()
    assert m.verdict("€") in html.unescape(report.read_text(encoding="utf-8"))
    sheet = load_workbook(book, read_only=True).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    first = next(sheet.iter_rows(min_row=2, max_row=2))
    assert "€" in first[header.index("Uplift per borrower")].number_format
    assert "€" not in first[header.index("Champion borrowers")].number_format
    bad = _main(capsys, "measure", with_outcomes, "--outcome", "Amount_Repaid", "--currency", "12")
    assert bad.returncode == 2 and bad.stderr.startswith("error: Currency '12': give a code such as EUR")
