"""Any lender's file: the German credit data and two files of other shapes, end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import pipeline
from core.config import RecoveryConfig
from core.data import NO_OUTCOME, Roles, load_portfolio
from core.errors import RecoveryError
from core.model import metrics
from sample_data.other_shapes import collections_export, loan_book
from tests.helpers import ROOT, cli

GERMAN = ROOT / "sample_data" / "german_credit" / "german_credit.csv"
FAST = RecoveryConfig().with_(n_folds=3)


def _analyse(data: bytes, name: str, config: RecoveryConfig = FAST, **load) -> pipeline.RecoveryResult:
    return pipeline.analyse_portfolio(load_portfolio(data, name, **load), config)


def _roles(result) -> pd.DataFrame:
    return result.roles.table.set_index("Column")


# --- the German credit data (UCI, CC BY 4.0): 1,000 real loans, none of the tutorial's columns --------


@pytest.fixture(scope="module")
def german() -> pipeline.RecoveryResult:
    return _analyse(GERMAN.read_bytes(), GERMAN.name, RecoveryConfig())


def test_german_credit_loads_with_suggested_roles(german):
    roles = _roles(german)
    assert roles.loc["creditability", "Used as"] == "outcome"
    assert german.roles.outcome.bad == ("bad",)
    assert german.risk.target_description == "Probability creditability is 'bad'"
    for protected in ("personal_status_and_sex", "foreign_worker"):
        assert roles.loc[protected, "Used as"] == "not learned from"
        assert "protected" in roles.loc[protected, "Why"]
    assert roles.loc["duration_in_month", "Read as"] == "number"
    assert roles.loc["purpose", "Read as"] == "category"
    assert "No identifier column: each borrower is identified by their row in the file (File_Row)." in german.notes
    # 'none' is a real answer in a category column, not a missing value
    assert not any("other_debtors_or_guarantors" in n for n in german.notes)


def test_german_credit_is_scored_out_of_fold_for_every_row_and_ranks_well(german):
    assert len(german.scored) == 1000 and german.scored["Risk_Score"].notna().all()
    y = (german.scored["creditability"] == "bad").to_numpy(dtype=int)
    auc = metrics.roc_auc(y, german.scored["Risk_Score"].to_numpy())
    assert auc >= 0.75
    assert german.trust.act_on_score
    assert "no days past due to compare" in german.trust.verdict()


def test_german_credit_fairness_covers_its_protected_attributes(german):
    fairness = german.risk.fairness
    assert set(fairness["Attribute"]) == {"personal_status_and_sex", "foreign_worker"}
    assert fairness.groupby("Attribute")["Borrowers"].sum().eq(1000).all()


def test_german_credit_segments_on_its_own_fields_with_outcome_rates(german):
    assert set(german.segments.features) <= set(german.risk.numeric_features)
    assert "Bad-outcome rate" in german.segments.profile.columns
    rate = german.segments.profile.set_index("Borrower_Segment")["Bad-outcome rate"]
    bad = german.scored["creditability"].eq("bad").groupby(german.scored["Borrower_Segment"]).mean()
    pd.testing.assert_series_equal(rate, bad, check_names=False)


def test_german_credit_through_the_command_line(tmp_path):
    out = tmp_path / "scored.csv"
    run = cli("score", GERMAN, "-o", out)
    assert run.returncode == 0, run.stderr
    assert "roles: identifier none; outcome creditability (bad: bad); exposure none;" in run.stderr
    assert "personal_status_and_sex (protected attribute" in run.stderr
    scored = pd.read_csv(out, dtype="str", keep_default_na=False)
    original = pd.read_csv(GERMAN, dtype="str", keep_default_na=False)
    assert len(scored) == 1000
    # the user's own columns come back as written, then the analysis
    pd.testing.assert_frame_equal(scored[original.columns], original)
    assert scored["File_Row"].tolist() == [str(r) for r in range(2, 1002)]


def test_the_user_can_choose_the_bad_values_on_the_command_line(tmp_path):
    out = tmp_path / "scored.csv"
    run = cli("score", GERMAN, "-o", out, "--outcome", "creditability", "--bad", "good", "--metrics",
               tmp_path / "m.json")
    assert run.returncode == 0, run.stderr
    assert "outcome creditability (bad: good)" in run.stderr
    wrong = cli("score", GERMAN, "-o", out, "--outcome", "creditability", "--bad", "Default")
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == (
        "error: The outcome column 'creditability' has no value 'Default'; its values are 'good', 'bad': "
        "choose the bad ones among them.")


# --- an agency's collections export: the outcome is an amount recovered -------------------------


def _saved(tmp_path_factory, name: str, drawn: tuple[pd.DataFrame, np.ndarray]) -> tuple[Path, np.ndarray]:
    """A generated file written as CSV, with its rows' true probabilities."""
    frame, truth = drawn
    path = tmp_path_factory.mktemp(name) / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path, truth


@pytest.fixture(scope="module")
def export_file(tmp_path_factory) -> tuple[Path, np.ndarray]:
    return _saved(tmp_path_factory, "collections_export", collections_export())


def test_an_amount_recovered_is_the_outcome_and_collection_fields_are_left_out(export_file):
    path, truth = export_file
    result = _analyse(path.read_bytes(), path.name)
    roles = _roles(result)
    assert roles.loc["recovery_amount", ("Read as", "Used as")].tolist() == ["amount", "outcome"]
    assert roles.loc["Outstanding_Loan_Amount", "Used as"] == "exposure and feature"
    for name in ("num_contact_attempts", "last_contact_channel", "last_contact_outcome", "assigned_channel"):
        assert roles.loc[name, "Used as"] == "not learned from"
        assert roles.loc[name, "Why"].startswith("recorded during collection")
    frame = pd.read_csv(path)
    y = (frame["recovery_amount"] < frame["outstanding_amount"]).to_numpy(dtype=int)
    np.testing.assert_array_equal(result.roles.outcome.y, y)
    # against the generator's known probabilities: the score ranks nearly as well as the truth
    gap = metrics.roc_auc(y, truth) - metrics.roc_auc(y, result.scored["Risk_Score"].to_numpy())
    assert gap < 0.03
    assert result.scored["Outstanding_At_Risk"].notna().all()


def test_bad_below_sets_the_recovered_share_that_counts_as_bad(export_file, tmp_path):
    path, _ = export_file
    out = tmp_path / "half.csv"
    run = cli("score", path, "-o", out, "--recovered", "recovery_amount", "--bad-below", "0.5", "--metrics",
               tmp_path / "m.json")
    assert run.returncode == 0, run.stderr
    assert "outcome recovery_amount (bad: recovered share below 50%)" in run.stderr
    frame = pd.read_csv(path)
    result = _analyse(path.read_bytes(), path.name, FAST.with_(roles=Roles(recovered="recovery_amount",
                                                                             bad_below=0.5)))
    expected = (frame["recovery_amount"] / frame["outstanding_amount"] < 0.5).to_numpy(dtype=float)
    np.testing.assert_array_equal(result.roles.outcome.y, expected)


# --- a loan book: dates, free text, repeated IDs, Default/Recovered, fields recorded after the outcome ---


@pytest.fixture(scope="module")
def book_file(tmp_path_factory) -> tuple[Path, np.ndarray]:
    return _saved(tmp_path_factory, "loan_book", loan_book())


@pytest.fixture(scope="module")
def book(book_file) -> pipeline.RecoveryResult:
    path, _ = book_file
    return _analyse(path.read_bytes(), path.name, keep_repeated_ids=True)


def test_repeated_ids_are_explained_and_can_be_kept_or_excluded(book_file, tmp_path):
    path, _ = book_file
    portfolio = load_portfolio(path.read_bytes(), path.name)
    problem = portfolio.report.errors()[0]
    assert (problem.column, problem.problem, problem.count) == ("Loan_ID", "repeated Loan_ID (an earlier row has it)", 40)
    refused = cli("score", path, "-o", tmp_path / "o.csv")
    assert refused.returncode == 2 and "--keep-repeated-ids" in refused.stderr
    kept = cli("score", path, "-o", tmp_path / "kept.csv", "--keep-repeated-ids")
    assert kept.returncode == 0, kept.stderr
    assert len(pd.read_csv(tmp_path / "kept.csv")) == 3000
    dropped = cli("score", path, "-o", tmp_path / "dropped.csv", "--drop-invalid")
    assert dropped.returncode == 0, dropped.stderr
    assert len(pd.read_csv(tmp_path / "dropped.csv")) == 2960
    assert len(pd.read_csv(tmp_path / "dropped.invalid.csv")) == 40


def test_a_default_recovered_status_counts_only_default_as_bad(book, book_file):
    path, truth = book_file
    frame = pd.read_csv(path)
    np.testing.assert_array_equal(book.roles.outcome.y, (frame["Recovery_Status"] == "Default").to_numpy(dtype=float))
    assert book.roles.outcome.bad == ("Default",)
    y = (frame["Recovery_Status"] == "Default").to_numpy(dtype=int)
    gap = metrics.roc_auc(y, truth) - metrics.roc_auc(y, book.scored["Risk_Score"].to_numpy())
    assert gap < 0.03


def test_a_field_recorded_after_the_outcome_is_switched_off_and_said_so(book, book_file):
    roles = _roles(book)
    assert roles.loc["Outstanding_Loan_Amount", "Used as"] == "exposure only"
    assert "Outstanding alone predicts the outcome almost perfectly (ROC-AUC 1.000)" in " ".join(book.notes)
    assert "Outstanding_Loan_Amount" not in book.risk.numeric_features
    assert book.roles.leaks.keys() == {"Outstanding_Loan_Amount", "Outstanding_Share"}
    assert metrics.roc_auc(book.roles.outcome.y.astype(int), book.scored["Risk_Score"].to_numpy()) < 0.9
    # the user may switch it back on
    path, _ = book_file
    rows = load_portfolio(path.read_bytes(), path.name, keep_repeated_ids=True).frame
    switched = pipeline.prepare(rows, Roles(include=("Outstanding_Loan_Amount",))).roles
    assert "Outstanding_Loan_Amount" in switched.numeric and "Outstanding_Loan_Amount" not in switched.leaks
    assert switched.table.set_index("Column").loc["Outstanding_Loan_Amount", "Why"] == "switched on by you"


def test_dates_become_ages_and_free_text_is_left_out(book, book_file):
    path, _ = book_file
    issued = pd.to_datetime(pd.read_csv(path)["Issue_Date"])
    roles = _roles(book)
    assert roles.loc["Issue_Date", ("Read as", "Used as")].tolist() == ["date", "feature"]
    assert roles.loc["Issue_Date", "Why"] == f"as age in days at the file's latest date, {issued.max():%Y-%m-%d}"
    assert "Issue_Date (age in days)" in book.risk.numeric_features
    assert roles.loc["Officer_Notes", ("Read as", "Used as", "Why")].tolist() == [
        "free text", "not learned from", "free text: too varied to learn from"]
    assert roles.loc["Recovery_Amount", "Why"].startswith("recorded during collection")


def test_no_outcome_scores_by_segment_and_says_why(book_file):
    path, _ = book_file
    result = _analyse(path.read_bytes(), path.name, FAST.with_(roles=Roles(outcome=NO_OUTCOME)),
                      keep_repeated_ids=True)
    assert result.risk.target == "segment"
    assert any("no outcome column" in n for n in result.notes)


def test_unknown_columns_in_the_roles_are_refused_by_name(book_file):
    path, _ = book_file
    with pytest.raises(RecoveryError, match="'Income_Band' is not a column of the file"):
        _analyse(path.read_bytes(), path.name, FAST.with_(roles=Roles(exclude=("Income_Band",))),
                 keep_repeated_ids=True)


# --- in the app ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def german_app():
    from tests.helpers import uploaded as _uploaded
    return _uploaded("german_credit.csv", GERMAN.read_bytes())


def test_the_data_page_says_what_each_column_is_used_for(german_app):
    from tests.helpers import table as _table
    from tests.helpers import texts as _texts
    from tests.helpers import visit as _visit
    at = _visit(german_app, "app_pages/data.py")
    roles = _table(at, "Used as").set_index("Column")
    assert roles.loc["creditability", "Used as"] == "outcome"
    assert roles.loc["foreign_worker", "Why"].startswith("protected attribute")
    assert any("No identifier column" in t for t in _texts(at.info))
    # numbers read from the file's own columns are summarised
    stats = _table(at, "Median")
    assert stats.loc["duration_in_month", "Count"] == 1000


def test_every_page_works_on_the_german_credit_data(german_app):
    from tests.helpers import PAGES
    from tests.helpers import table as _table
    from tests.helpers import visit as _visit
    for page in PAGES:
        at = _visit(german_app, page)
        assert not at.error, [e.value for e in at.error]
    at = _visit(german_app, "app_pages/explore.py")
    assert "The file's own fields" in [s.value for s in at.main.subheader]
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Bad-outcome rate by" in t for t in titles)
    at = _visit(german_app, "app_pages/risk.py")
    assert set(_table(at, "Attribute")["Attribute"]) == {"Personal status and sex", "Foreign worker"}  # in words
    at = _visit(german_app, "app_pages/segments.py")  # fields in words, each beside the file's own header
    means = _table(at, "Column in the file").set_index("Column in the file")
    assert means.loc["number_of_people_being_liable_to_provide_maintenance_for", "Field"] == "Number of people…"
    assert not any("_" in name for name in means.columns)


def test_the_user_changes_the_bad_values_on_the_data_page(german_app):
    from tests.helpers import visit as _visit
    at = _visit(german_app, "app_pages/data.py")
    bad = next(m for m in at.multiselect if m.label.startswith("Values of creditability"))
    assert bad.value == ["bad"]
    bad.set_value(["good"])
    next(b for b in at.button if b.label == "Apply these roles").click()
    at.run()
    assert at.session_state["config"].roles.bad == ("good",)
    at = _visit(at, "app_pages/risk.py")
    assert any("Probability creditability is 'good'" in m.value for m in [*at.markdown, *at.caption])


def test_roles_given_on_the_command_line_override_the_suggestion(export_file, tmp_path):
    path, _ = export_file
    renamed = tmp_path / "renamed.csv"
    pd.read_csv(path, dtype="str").rename(columns={"account_id": "acct", "outstanding_amount": "bal_due"}).to_csv(
        renamed, index=False)
    out = tmp_path / "out.csv"
    run = cli("score", renamed, "-o", out, "--id", "acct", "--exposure", "bal_due", "--recovered", "recovery_amount",
               "--exclude", "customer_location,loan_amount", "--metrics", tmp_path / "m.json")
    assert run.returncode == 0, run.stderr
    roles_line = run.stderr.splitlines()[0]
    assert roles_line.startswith("roles: identifier acct (as Loan_ID); outcome recovery_amount (bad: recovered "
                                 "share below 100%); exposure bal_due (as Outstanding_Loan_Amount);")
    assert "customer_location (excluded by you)" in roles_line and "Loan_Amount (excluded by you)" in roles_line
    scored = pd.read_csv(out, dtype="str")
    assert list(scored.columns[:3]) == ["File_Row", "Loan_ID", "Loan_Amount"]
    assert scored["Outstanding_At_Risk"].notna().all()
    missing = cli("score", renamed, "-o", out, "--id", "account")
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: --id account: the file has no such column. Columns are: acct,")


def test_repeated_ids_can_be_kept_on_the_data_page(book_file):
    from tests.helpers import texts as _texts
    from tests.helpers import uploaded as _uploaded
    from tests.helpers import visit as _visit
    path, _ = book_file
    at = _uploaded("loan_book.csv", path.read_bytes())
    choice = next(r for r in at.radio if r.label == "40 row(s) repeat a Loan_ID")
    assert "80 row(s)" not in " ".join(_texts(at.warning))
    assert any("40 row(s) have errors" in t for t in _texts(at.warning))
    choice.set_value(True).run()
    assert not any("have errors" in t for t in _texts(at.warning))
    roles = next(d.value for d in at.dataframe if "Used as" in d.value.columns).set_index("Column")
    assert roles.loc["Recovery_Status", "Used as"] == "outcome"
    assert roles.loc["Outstanding_Loan_Amount", ("In the file", "Used as")].tolist() == ["Outstanding_Amount",
                                                                                          "exposure only"]
    at = _visit(at, "app_pages/strategy.py")
    assert not at.error
