"""What a user reads on a lender's own file (issue 16): headers as short words with the original on hover,
settings and the action table in words, shares that never read 0.0% when they are not zero.

Function-level checks on the shipped German file and one file of tests/corpus_foreign; no AppTest.
"""

from __future__ import annotations

import html
import io
import re

import openpyxl
import pandas as pd
import pytest

from core import display, pipeline
from core.charts import analysis as analysis_charts
from core.charts import explore as eda
from core.config import TARGET_LABELS, RecoveryConfig
from core.data import load_portfolio
from core.data.labels import MAX_LABEL
from core.decide import DEFAULT_ACTIONS, POLICIES, borrower_actions
from core.model import MODEL_LABELS, field_means
from core.report import ReportSource, stakeholder_report, to_excel_workbook
from core.report.workbook import plan_workbook_sheets
from tests.helpers import ROOT

GERMAN = ROOT / "sample_data" / "german_credit" / "german_credit.csv"
SPELLINGS = ROOT / "tests" / "corpus_foreign" / "good_bad_spellings.csv"
FAST = RecoveryConfig().with_(n_folds=3)
LONG = "number_of_people_being_liable_to_provide_maintenance_for"


def _run(path, config: RecoveryConfig) -> tuple:
    data = path.read_bytes()
    portfolio = load_portfolio(data, path.name)
    result = pipeline.analyse_portfolio(portfolio, config, True)
    return result, stakeholder_report(result, ReportSource.of(data, portfolio, True)), list(portfolio.frame.columns)


@pytest.fixture(scope="module")
def german():
    return _run(GERMAN, FAST)


@pytest.fixture(scope="module")
def planned():
    return _run(SPELLINGS, FAST.with_(actions=DEFAULT_ACTIONS))


def _text(document: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", document)).split())


def test_german_segment_names_read_as_words_not_raw_headers(german):
    result, _, columns = german
    names = list(result.segments.names.values())
    assert not any("_" in name for name in names), names
    assert all(not any(c in name for c in columns if "_" in c) for name in names)
    # a segment named after a field says it in words, lower case inside the phrase
    assert any("age in years" in name.lower() for name in names), names
    # the profile's field columns and the typical-borrower table use the same readable labels
    means = field_means(result.segments)
    assert "Age in years" in set(means["Field"]) and "Number of people…" in set(means["Field"])
    assert all(len(label) <= MAX_LABEL for label in means["Field"])
    assert len(set(means["Field"])) == len(means)
    assert "Age in years" in result.segments.profile.columns and "age_in_years" not in result.segments.profile.columns


def test_german_reasons_name_fields_in_words(german):
    result, _, _ = german
    reasons = " ".join(result.scored["Risk_Reasons"].head(200))
    assert "age_in_years" not in reasons and "duration_in_month" not in reasons
    assert "Duration in month" in reasons or "Credit amount" in reasons or "Age in years" in reasons


def test_the_german_report_reads_in_words_with_each_original_header_on_hover(german):
    result, document, columns = german
    text = _text(document)
    body = text[text.index("Executive summary"):text.index("How these figures were made")]
    raw = [c for c in columns if "_" in c]
    assert not [c for c in raw if c in body]  # every header of the file reads as words before the settings
    assert "Learns from: Duration in month, Credit amount" in html.unescape(re.sub(r"<[^>]+>", "", document))
    assert f'title="{LONG}"' in document  # the original header, on hover over its label
    # the settings keep the exact columns used, and say every coded setting in words
    settings = text[text.index("How these figures were made"):]
    assert "age_in_years" in settings
    assert "Target Probability creditability is 'bad'" in settings
    assert f"Model {MODEL_LABELS['gradient_boosting']}" in settings
    assert "Segment naming From what sets each segment apart" in settings
    assert f"Policy {POLICIES['optimised']}" in settings
    assert "Action column suggested from the file's columns" in settings
    for code in ("not_fully_recovered", "gradient_boosting", "recommended ", "None", "profile "):
        assert code not in settings, code
    assert re.search(r"Legal threshold 0\.\d{3} ", settings)


def test_german_charts_use_labels_and_keep_the_header_in_the_hover(german):
    result, _, _ = german
    features = result.segments.features
    frame = result.scored.assign(**{f: result.scored[f] for f in features})
    figure = eda.segment_scatter(frame, fields=features)
    assert "_" not in figure.layout.title.text and "_" not in figure.layout.xaxis.title.text
    assert features[0] in figure.data[0].hovertemplate  # the header itself, beside its label
    importance = analysis_charts.importance(result)
    assert LONG not in list(importance.data[0].y) and "Number of people…" in list(importance.data[0].y)
    assert any(LONG in text for text in importance.data[0].customdata)


def test_the_workbooks_action_sheet_and_settings_read_in_words(planned):
    result, document, _ = planned
    sheets = plan_workbook_sheets(result, None)
    action = sheets["Action table"]
    assert list(action.columns[:5]) == ["Action", "Cost per case", "Capacity (cases)",
                                        "Share recovered, lowest risk (score 0)",
                                        "Share recovered, highest risk (score 1)"]
    assert list(action["Capacity (cases)"]) == ["200", "1,000", "no limit", "no limit"]
    settings = sheets["Settings"].set_index("Setting")["Value"]
    assert settings["Policy"] == POLICIES["optimised"]
    assert settings["Assignment"] in ("Exact optimum (linear programme)", "Near-optimum found with prices (large book)")
    book = openpyxl.load_workbook(io.BytesIO(to_excel_workbook(sheets)), read_only=True)
    header = next(book["Action table"].iter_rows(max_row=1, values_only=True))
    assert "recovery_at_low_risk" not in header and "Share recovered, lowest risk (score 0)" in header
    text = _text(document)
    assert "Share recovered, highest risk (score 1)" in text and "no limit" in text
    assert "Recovers at risk" not in text


def test_one_borrowers_options_say_no_limit_for_an_unlimited_action():
    table = borrower_actions(100_000.0, 0.6, DEFAULT_ACTIONS[0].name, DEFAULT_ACTIONS)
    by_action = table.set_index("Action")["Capacity"]
    assert by_action["No action"] == "no limit" and by_action[DEFAULT_ACTIONS[0].name] == "200"


def test_settings_in_words_for_every_target_and_model():
    from core.report import settings_table
    for target, words in TARGET_LABELS.items():
        for model, name in {**MODEL_LABELS, "auto": "Best of the three by cross-validated ROC-AUC"}.items():
            table = settings_table(RecoveryConfig().with_(target=target, model=model)).set_index("Setting")["Value"]
            assert table["Target"] == words and table["Model"] == name


@pytest.mark.parametrize(("value", "shown"), [
    (0.4213, "42.1%"), (0.0, "0.0%"), (1.0, "100.0%"), (0.0001, "<0.1%"), (0.00049, "<0.1%"),
    (0.0005, "0.1%"), (0.9999, ">99.9%"), (None, display.DASH),
])
def test_a_share_never_reads_zero_or_all_when_it_is_not(value, shown):
    assert display.share(value) == shown


def test_report_shares_follow_the_one_rule(planned):
    result, document, _ = planned
    text = _text(document)
    for rate in result.segments.profile["Bad-outcome rate"]:
        assert display.share(rate) in text
    assert not re.search(r"\b\d+\.\d{2,}%", text.split("How these figures were made")[0].replace(
        "within", ""))  # shares with one decimal
    assert isinstance(result.segments.profile, pd.DataFrame)


def test_a_header_that_reads_like_a_profile_column_keeps_its_own_name():
    from core.model import fit_segments
    frame = pd.DataFrame({"borrowers": [1.0, 2, 3, 10, 11, 12], "age_in_years": [20.0, 30, 25, 60, 55, 65]})
    segments = fit_segments(frame, ("borrowers", "age_in_years"), 2)
    assert list(segments.profile.columns).count("Borrowers") == 1
    assert "borrowers" in segments.profile.columns and "Age in years" in segments.profile.columns
    assert list(field_means(segments)["Field"]) == ["borrowers", "Age in years"]
