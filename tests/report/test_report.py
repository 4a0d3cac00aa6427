"""The stakeholder report: every section with the result's own figures, escaped, offline and small."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from core import display
from core.config import RecoveryConfig
from core.data import load_portfolio
from core.decide import DEFAULT_ACTIONS, POLICIES
from core.model import ADVICE
from core.pipeline import analyse_portfolio
from core.report import ReportSource, settings_table, stakeholder_report, summary_sentences, to_csv_bytes
from tests.helpers import ROOT

SECTIONS = ("Executive summary", "The portfolio", "Segments", "How far to trust the risk score",
            "The recovery plan", "Data quality", "How these figures were made")
SOURCE = ReportSource("portfolio.csv", "0" * 64)


def _plain(html: str) -> str:
    """The report's text with tags dropped and entities read, as a person reads it."""
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", text.replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", '"'))


@pytest.fixture(scope="module")
def known_report(known_result) -> str:
    return stakeholder_report(known_result, SOURCE)


def test_every_section_is_there_with_the_figures_of_the_result(known_result, known_report):
    text = _plain(known_report)
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in known_report
    scored = known_result.scored
    assert "4,000 borrowers analysed" in text
    outstanding = scored["Outstanding_Loan_Amount"].sum()
    assert f"{display.money(outstanding)} in total" in text  # as the Overview's help shows it
    assert display.compact_money(outstanding) in text  # as the Overview's headline shows it
    for sentence in summary_sentences(known_result, known_result.trust):
        assert sentence in text
    assert known_result.trust.verdict() in text
    share = (scored["Recovery_Status"] == "Written Off").mean()
    assert f"Written off {display.share(share)}" in text


def test_segments_section_has_profiles_outcome_rates_and_advice(known_result, known_report):
    text = _plain(known_report)
    profile = known_result.segments.profile
    for name, advice in zip(profile["Segment"], profile[ADVICE]):
        assert f"{name} — {advice}" in text  # the segment's one line on what to do
    for column in ("Not fully recovered rate", "Written off rate", "Share of borrowers"):
        assert all(display.share(rate) in text for rate in profile[column])
    assert all(display.money(total) in text for total in profile["Total outstanding"])
    assert "The typical borrower of each segment" in text


def test_risk_section_compares_with_days_past_due_and_shows_curves(known_result, known_report):
    text = _plain(known_report)
    trust = known_result.trust
    assert f"The model's risk score {trust.auc:.2f} {trust.low:.2f}–{trust.high:.2f}" in text
    assert f"Days past due alone (most overdue first) {trust.days_past_due_auc:.2f}" in text
    for chart in ("ROC curve", "Calibration", "Gains"):
        assert f'aria-label="{chart}"' in known_report
    gains = known_result.risk.gains
    assert f"{gains['lift'].iloc[0]:.2f}×" in text
    roc_auc = known_result.risk.metrics.set_index("metric").loc["roc_auc", "value"]
    assert f"ROC-AUC {roc_auc:.3f}" in text


def test_a_signal_free_score_reversed_by_calibration_is_named_in_the_report(run_analysis, demo_frame,
                                                                            default_result):
    coin = demo_frame.copy()  # the outcomes shuffled: nothing left to learn
    coin["Recovery_Status"] = np.random.default_rng(4).permutation(coin["Recovery_Status"].to_numpy())
    result = run_analysis(coin, RecoveryConfig())
    note = result.risk.ordering_note
    assert note and note.startswith("The model finds no signal in this file")
    assert note in _plain(stakeholder_report(result, SOURCE))
    assert default_result.risk.ordering_note is None  # the same file with its real outcomes
    assert "The model finds no signal" not in _plain(stakeholder_report(default_result, SOURCE))


def test_plan_section_counts_and_money_per_strategy(known_result, known_report):
    text = _plain(known_report)
    for row in known_result.strategies.itertuples():
        assert f"{row[1]} {row.Borrowers:,}" in text
        assert display.money(row.Outstanding) in text


def test_same_result_same_report(known_result, known_report):
    assert stakeholder_report(known_result, SOURCE) == known_report


def test_report_opens_offline_and_stays_small(known_report):
    assert "<script" not in known_report.lower() and "<link" not in known_report.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", known_report, re.I)
    assert "default-src 'none'" in known_report  # the browser may fetch nothing, whatever the text
    assert len(known_report.encode()) < 5_000_000
    # charts aggregate: the same tables at 4,000 or 1,000,000 borrowers (benchmarks/bench_report.py)
    assert len(known_report.encode()) < 150_000


@pytest.fixture(scope="module")
def hostile(demo_frame, run_analysis):
    """A file whose name, a value and the strategy names a user typed are HTML, analysed by the CLI's path."""
    frame = demo_frame.copy()
    frame["Age"] = frame["Age"].astype(object)
    frame.loc[frame.index[3], "Age"] = "<img src=x onerror=alert(1)>"
    data = to_csv_bytes(frame)
    portfolio = load_portfolio(data, "<script>alert('name')</script>.csv")
    config = RecoveryConfig().with_(n_folds=3, strategy_labels=(
        "<script>alert('legal')</script>", "Settle & <b>pay</b>", "Remind"))
    result = analyse_portfolio(portfolio, config, exclude_invalid=True)
    return result, ReportSource.of(data, portfolio, excluded=True), data


def test_user_text_is_escaped(hostile):
    result, source, _ = hostile
    html = stakeholder_report(result, source)
    assert "<script" not in html.lower() and "<img" not in html.lower() and "<b>pay" not in html
    assert "&lt;script&gt;alert(&#x27;legal&#x27;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;.csv" in html
    assert "onerror=alert(1)&gt;" in html  # the bad cell, shown as an example of the problem
    assert "Settle &amp; &lt;b&gt;pay&lt;/b&gt;" in html


def test_data_quality_counts_excluded_rows_and_traces_the_file(hostile):
    result, source, data = hostile
    text = _plain(stakeholder_report(result, source))
    assert "1 row(s) had errors and were excluded from this analysis" in text
    assert "Age" in text and "599 borrowers analysed" in text
    assert hashlib.sha256(data).hexdigest() in text
    assert "rows × 21 columns, read as CSV" in text


def test_an_action_plan_shows_the_policies_compared(demo_frame, run_analysis):
    result = run_analysis(demo_frame, RecoveryConfig().with_(actions=DEFAULT_ACTIONS, n_folds=3))
    text = _plain(stakeholder_report(result, SOURCE))
    assert "Policies compared at the same capacities" in text
    for policy in result.policies["Policy"]:
        assert policy in POLICIES.values() and policy in text
    best = result.policies["Expected net recovery"].max()
    assert display.money(best) in text
    assert "Capacity (cases)" in text and "no limit" in text and "None" not in text
    assert "Share recovered, lowest risk (score 0)" in text and "at risk 0" not in text
    assert f"{int((result.scored['Test_Group'] == 'champion').sum()):,} borrowers (the champion group" in text


def test_a_file_without_outcome_says_the_score_cannot_be_checked(no_outcome_result):
    text = _plain(stakeholder_report(no_outcome_result, SOURCE))
    assert "This file has no recorded outcome to learn from, so the score predicts membership of a high-risk segment" in text
    assert "Fully recovered" not in text  # no outcome shares to show


def test_settings_read_as_words():
    table = settings_table(RecoveryConfig.seed()).set_index("Setting")["Value"]
    assert table["Preset"] == "Notebook (seed) method"
    assert table["Number of segments"] == "4"
    assert table["Calibrate probabilities"] == "no"
    assert table["Collateral haircuts"] == "30% for any other loan type"
    assert table["Actions"] == "none (the notebook's thresholds)"


def test_people_read_missing_figures_as_a_dash():
    assert display.money(np.nan) == display.share(None) == display.count(float("nan")) == "—"
    assert display.money(1234567.8) == "1,234,568"
    assert display.compact_money(703_297_003) == "703.3M"
    assert display.share(0.4213) == "42.1%"
    assert display.count(2000) == "2,000"


def test_the_notebook_method_says_what_its_score_predicts(seed_result):
    text = _plain(stakeholder_report(seed_result, SOURCE))
    assert "The notebook's method scores membership of a high-risk segment, not recovery" in text
    assert "they keep the notebook's names, fixed by cluster number" in text
    assert "Notebook (seed) method" in text and "has no recorded outcome" not in text


def test_a_lenders_own_file_reports_its_own_outcome():
    path = ROOT / "sample_data" / "german_credit" / "german_credit.csv"
    portfolio = load_portfolio(path.read_bytes(), path.name)
    result = analyse_portfolio(portfolio, RecoveryConfig().with_(n_folds=3))
    html = stakeholder_report(result, ReportSource.of(path.read_bytes(), portfolio, excluded=False))
    text = _plain(html)
    assert "Bad outcome 30.0% of borrowers with a known outcome (creditability: bad)" in text
    rates = result.segments.profile["Bad-outcome rate"]
    assert all(display.share(rate) in text for rate in rates)
    assert "Fully recovered" not in text and "Total outstanding" not in text


def test_the_settings_say_the_column_roles_in_words():
    from core.data import Roles
    from core.report import settings_table
    table = settings_table(RecoveryConfig().with_(roles=Roles(outcome="creditability", bad=("bad",),
                                                              exclude=("telephone",)))).set_index("Setting")
    assert table.loc["Column roles", "Value"] == "outcome creditability (bad: bad); never learned from: telephone"
    assert settings_table(RecoveryConfig()).set_index("Setting").loc["Column roles", "Value"] == (
        "as suggested from the file's headers and values")
