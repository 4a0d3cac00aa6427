"""Every page under AppTest, with the bundled sample and after uploading files."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.config import SEED_STRATEGIES
from sample_data.generate import generate_portfolio
from tests.helpers import PAGES
from tests.helpers import app as _app
from tests.helpers import table as _table
from tests.helpers import texts as _texts
from tests.helpers import uploaded as _uploaded
from tests.helpers import visit as _visit
from tests.notebook import NOTEBOOK_NAMES


def _csv(df: pd.DataFrame, **kwargs) -> bytes:
    return df.to_csv(index=False, **kwargs).encode()


@pytest.fixture(scope="module")
def sample_app() -> AppTest:
    """One app session on the bundled sample, shared so the analysis runs once."""
    return _app()


@pytest.fixture(scope="module")
def uploaded_app() -> AppTest:
    """An app session after uploading a 300-borrower CSV."""
    frame, _ = generate_portfolio(n=300, seed=5)
    return _uploaded("branch_export.csv", _csv(frame))


def test_home_explains_and_shows_the_sample(sample_app):
    at = sample_app
    assert not at.exception
    assert at.title[0].value == "Smart Loan Recovery"
    assert "Demo portfolio (bundled sample)" in _texts(at.sidebar.text)
    assert "2,000 rows × 21 columns" in _texts(at.sidebar.text)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Borrowers"] == "2,000"
    assert metrics["Fully recovered"] == "57.8%"


def test_every_page_renders_on_the_sample(sample_app):
    for page in PAGES:
        at = _visit(sample_app, page)
        assert not at.error, f"{page}: {_texts(at.error)}"
        assert at.title, page


def test_data_page_shows_preview_statistics_and_quality(sample_app):
    at = _visit(sample_app, "app_pages/data.py")
    assert [s.value for s in at.main.subheader] == ["Validation", "What each column is used for", "Preview",
                                                    "Summary statistics", "Data quality"]
    roles = _table(at, "Used as").set_index("Column")
    assert roles.loc["Loan_ID", "Used as"] == "identifier"
    assert roles.loc["Recovery_Status", "Used as"] == "outcome"
    assert roles.loc["Outstanding_Loan_Amount", "Used as"] == "exposure and feature"
    assert roles.loc["Gender", "Used as"] == "not learned from" and "protected" in roles.loc["Gender", "Why"]
    assert "after delinquency" in roles.loc["Collection_Method", "Why"]
    assert (roles.loc["Days_Past_Due", "Used as"], roles.loc["Days_Past_Due", "Why"]) == ("feature", "")
    assert "No problems found: every row can be analysed." in _texts(at.success)
    preview, describe, quality = at.dataframe[-3:]
    assert len(preview.value) == 100
    assert list(describe.value.columns) == ["Count", "Mean", "Std. deviation", "Min", "25%", "Median", "75%", "Max"]
    assert describe.value.loc["Age", "Count"] == 2000
    assert set(quality.value["Column"]) >= {"Days_Past_Due", "Recovery_Status"}
    assert (quality.value["Non-null"] == 2000).all()


def test_explore_page_has_kpis_and_every_notebook_chart(sample_app):
    at = _visit(sample_app, "app_pages/explore.py")
    labels = [m.label for m in at.metric]
    assert labels[:5] == ["Borrowers", "Total outstanding", "Fully recovered", "Partially recovered",
                          "Written off"]
    charts = at.get("plotly_chart")
    # heatmap + 6 category bars + histogram + scatter + grouped bars + box + coloured scatter
    assert len(charts) == 12
    assert not at.info  # nothing skipped on the full sample


def test_explore_draws_its_charts_once_per_file_and_redraws_them_from_the_session(monkeypatch):
    import core.charts.explore as eda

    drawn, real = [], eda.draw
    monkeypatch.setattr(eda, "draw", lambda frame, name: drawn.append(name) or real(frame, name))
    at = _visit(_app(), "app_pages/explore.py")
    first = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(drawn) == len(first) == 12
    _visit(at, "app_pages/data.py")
    _visit(at, "app_pages/explore.py")
    assert len(drawn) == 12  # nothing drawn again from the rows
    assert [c.proto.spec for c in at.get("plotly_chart")] == first


def test_segments_page_shows_four_named_segments(sample_app):
    at = _visit(sample_app, "app_pages/segments.py")
    assert at.slider[0].value == 4
    profile = at.dataframe[0].value
    assert len(profile) == 4
    assert profile["Borrowers"].sum() == 2000
    assert profile["Segment"].is_unique
    assert "Not fully recovered rate" in profile.columns
    # one line each on what the segment means for collections, then its typical borrower, field by field
    advice = next(t for t in _texts(at.markdown) if "borrowers):" in t).splitlines()
    assert [line.split("**")[1] for line in advice] == list(profile["Segment"])
    means = at.dataframe[1].value
    assert list(means.columns) == ["Field", *profile["Segment"]]
    assert means.set_index("Field").loc["Monthly income"].str.contains(",").all()


def test_k_diagnostics_run_only_when_asked(fits):
    at = _visit(_app(), "app_pages/segments.py")
    assert fits["KMeans"] == 1  # the segmentation itself (the Overview page formed it)
    assert not any("silhouette" in str(c.value).lower() for c in at.get("plotly_chart"))
    next(b for b in at.button if b.label == "Help me choose k").click()
    at.run()
    assert fits["KMeans"] == 1 + 7  # k = 2 … 8
    assert any(s.label.startswith("Trying k = 2 … 8: done") for s in at.status)


def test_segments_page_changes_k(sample_app):
    at = _visit(sample_app, "app_pages/segments.py")
    at.slider[0].set_value(3).run()
    assert len(at.dataframe[0].value) == 3
    at.slider[0].set_value(4).run()
    assert len(at.dataframe[0].value) == 4


def test_risk_page_reports_out_of_fold_metrics_and_excluded_fields(sample_app):
    at = _visit(sample_app, "app_pages/risk.py")
    markdown = " ".join(_texts(at.markdown))
    assert "did not train on that borrower" in markdown
    assert "Probability the loan was not fully recovered" in markdown
    metrics = at.dataframe[0].value
    assert list(metrics["Metric"]) == ["ROC-AUC", "PR-AUC", "Gini", "KS", "Brier score", "Accuracy",
                                       "Precision", "Recall", "F1"]
    auc = metrics.set_index("Metric").loc["ROC-AUC", "All borrowers"]
    assert 0.75 < auc < 0.95
    assert any("leak the outcome" in c for c in _texts(at.caption))
    assert not any("Model" in d.value.columns for d in at.dataframe)  # compared only when asked
    next(b for b in at.button if b.label == "Compare the three models").click()
    at.run()
    comparison = next(d.value for d in at.dataframe if "Model" in d.value.columns)
    assert len(comparison) == 3
    assert set(comparison["Model"]) == {"Additive gradient boosting (one effect curve per field)",
                                        "Random Forest (the notebook's)", "Logistic regression"}
    assert comparison["ROC-AUC (mean over folds)"].between(0.7, 0.95).all()
    gains = next(d.value for d in at.dataframe if "Lift" in d.value.columns)
    assert list(gains["Decile (1 = riskiest)"]) == list(range(1, 11))
    assert gains["Lift"].iloc[0] > 1.5
    fairness = next(d.value for d in at.dataframe if "Attribute" in d.value.columns)
    assert set(fairness["Attribute"]) == {"Gender"}
    assert set(fairness["Group"]) == {"Female", "Male"}
    assert any(c.startswith("Learns from: Age, Monthly income") for c in _texts(at.caption))


def test_strategy_page_uses_the_notebook_labels_and_offers_downloads(sample_app):
    at = _visit(sample_app, "app_pages/strategy.py")
    summary = _table(at, "Recovery strategy")
    assert list(summary["Recovery strategy"]) == list(SEED_STRATEGIES)
    assert summary["Borrowers"].sum() == 2000
    worklist = _table(at, "Risk_Reasons")
    assert {"Risk_Score", "Recovery_Strategy", "Risk_Reasons", "Segment_Name"} <= set(worklist.columns)
    assert worklist["Recovery_Strategy"].iloc[0] == SEED_STRATEGIES[0]
    assert [b.label for b in at.download_button] == ["Download CSV", "Download stakeholder report (HTML)"]
    assert any("all 2,000 analysed borrowers" in t for t in _texts(at.text))
    assert "The Excel workbook holds one sheet of all 2,000 analysed borrowers." in _texts(at.caption)
    next(b for b in at.button if b.label == "Build the Excel workbook").click()
    at.run()
    assert ("The Excel workbook holds 1 sheet, 2,000 rows in all: Borrowers (2,000 rows)." in _texts(at.caption))
    assert [b.label for b in at.download_button][1].startswith("Download the workbook (")


def test_strategy_page_offers_the_stakeholder_report_as_an_html_file(sample_app, monkeypatch):
    """The report button names an .html file and, clicked, builds the report of what the page shows."""
    from streamlit.delta_generator import DeltaGenerator

    offered = {}
    original = DeltaGenerator.download_button

    def recorded(self, label, data, file_name=None, mime=None, **kwargs):
        offered[label] = (data, file_name, mime)
        return original(self, label, data, file_name=file_name, mime=mime, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recorded)
    _visit(sample_app, "app_pages/strategy.py")
    build, file_name, mime = offered["Download stakeholder report (HTML)"]
    assert file_name.endswith(".html") and mime == "text/html"
    report = build()  # what a click sends
    assert report.startswith("<!DOCTYPE html>")
    assert "Demo portfolio (bundled sample) · 2,000 borrowers analysed" in report
    assert all(f"{label}: " in report.replace("&amp;", "&") for label in SEED_STRATEGIES)


def test_seed_preset_shows_the_notebook_evaluation():
    at = _app()
    at.sidebar.radio[0].set_value("seed").run()
    _visit(at, "app_pages/risk.py")
    assert "The notebook's evaluation (80/20 split)" in _texts(at.subheader)
    assert {m.label for m in at.metric} >= {"Accuracy", "Precision", "ROC-AUC", "Test rows"}
    assert next(m.value for m in at.metric if m.label == "Test rows") == "400"
    _visit(at, "app_pages/segments.py")
    names = set(at.dataframe[0].value["Segment"])
    assert names == set(NOTEBOOK_NAMES.values())


def test_upload_replaces_the_sample_on_every_page(uploaded_app):
    at = uploaded_app
    # AppTest drops the sidebar from its tree after a widget interaction, so the page's own
    # file line is checked here; the browser test checks the real sidebar.
    assert any(t.startswith("branch_export.csv: 300 rows × 21 columns") for t in _texts(at.text))
    for page in PAGES:
        _visit(at, page)
        assert not at.error, f"{page}: {_texts(at.error)}"
    _visit(at, "app_pages/strategy.py")
    assert _table(at, "Recovery strategy")["Borrowers"].sum() == 300


def test_upload_with_invalid_rows_must_be_excluded_explicitly():
    frame, _ = generate_portfolio(n=300, seed=8)
    frame = frame.astype({"Days_Past_Due": "object"})
    frame.loc[[3, 10], "Days_Past_Due"] = -5
    frame.loc[20, "Days_Past_Due"] = "soon"
    at = _uploaded("with_errors.csv", _csv(frame))
    assert any("3 row(s) have errors" in w for w in _texts(at.warning))
    report = at.dataframe[0].value
    problems = report[report["Column"] == "Days_Past_Due"]
    assert set(problems["Severity"]) == {"error"}
    assert "5, 12" in " ".join(problems["First rows"])  # spreadsheet rows of data rows 3 and 10

    _visit(at, "app_pages/strategy.py")
    assert any("3 row(s) have errors" in e for e in _texts(at.error))

    _visit(at, "app_pages/data.py")
    at.checkbox[0].check().run()
    _visit(at, "app_pages/strategy.py")
    assert not at.error
    assert _table(at, "Recovery strategy")["Borrowers"].sum() == 297
    assert any("3 invalid row(s) were excluded" in t for t in _texts(at.text))
    assert "This analysis excludes 3 invalid row(s)" in _texts(at.warning)[0]
    _visit(at, "app_pages/risk.py")
    assert "This analysis excludes 3 invalid row(s)" in _texts(at.warning)[0]


def test_semicolon_file_with_renamed_headers_is_mapped():
    frame, _ = generate_portfolio(n=200, seed=9)
    renamed = frame.rename(columns={"Days_Past_Due": "DPD", "Outstanding_Loan_Amount": "outstanding balance",
                                    "Monthly_EMI": "EMI"})
    data = renamed.to_csv(index=False, sep=";", decimal=",").encode("cp1252")
    at = _uploaded("export;semicolon.csv", data)
    assert not at.exception
    mapped = {s.label.replace(" (required)", ""): s.value for s in at.selectbox}
    assert mapped["Days_Past_Due"] == "DPD"
    assert mapped["Outstanding_Loan_Amount"] == "outstanding balance"
    assert mapped["Monthly_EMI"] == "EMI"
    # the user changes a mapping: Monthly_EMI is no longer read from any column
    next(s for s in at.selectbox if s.label == "Monthly_EMI").set_value("(not in file)").run()
    assert any("Monthly_EMI" in i for i in _texts(at.info))
    # reading one column as two fields is refused, and the user can get back
    next(s for s in at.selectbox if s.label == "Age").set_value("DPD").run()
    assert "DPD" in _texts(at.error)[0]
    next(b for b in at.button if b.label == "Reset to the detected mapping").click().run()
    assert not at.error
    assert next(s for s in at.selectbox if s.label == "Monthly_EMI").value == "EMI"


def test_a_bad_file_shows_a_message_not_a_traceback():
    at = _uploaded("garbage.csv", bytes(range(256)) * 10)
    assert not at.exception
    assert at.error and "garbage.csv" in _texts(at.error)[0]
    for page in PAGES[1:]:
        _visit(at, page)
        assert at.error


def test_uploaded_text_is_not_rendered_as_markdown():
    frame, _ = generate_portfolio(n=120, seed=4)
    at = _uploaded("**bold** [x](http://e.vil).csv", _csv(frame))
    assert any(t.startswith("**bold** [x](http://e.vil).csv: 120 rows") for t in _texts(at.text))


def test_excel_upload_is_read():
    frame, _ = generate_portfolio(n=150, seed=6)
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, sheet_name="Loans")
    at = _uploaded("loans.xlsx", buffer.getvalue(),
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert any(t.startswith("loans.xlsx: 150 rows × 21 columns, read as XLSX") and "sheet 'Loans'" in t
               for t in _texts(at.text))


def test_data_page_says_which_row_holds_the_header_and_which_formulas_have_no_values():
    import openpyxl

    frame, _ = generate_portfolio(n=150, seed=6)
    book = openpyxl.Workbook()
    book.active.title = "Loans"
    book.active.append(["Loan book *March* 2024"])
    book.active.append([])
    book.active.append([*frame.columns, "Total_Due"])
    for row, values in enumerate(frame.itertuples(index=False), start=4):
        book.active.append([*values, f"=M{row}+N{row}"])
    buffer = io.BytesIO()
    book.save(buffer)
    at = _uploaded("titled.xlsx", buffer.getvalue(),
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert not at.exception and not at.error
    assert any(t.startswith("titled.xlsx: 150 rows × 22 columns") for t in _texts(at.text))
    notes = _texts(at.info)
    assert ("The header is on row 3 of sheet 'Loans'; rows 1–2 (a title: 'Loan book *March* "
            "2024') were skipped.") in notes
    assert any(n.startswith("Column 'Total_Due' holds formulas whose values were not saved in "
                            "the file (rows 4–153)") for n in notes)


def test_strategy_thresholds_and_names_can_be_changed_without_refitting(fits):
    frame, _ = generate_portfolio(n=200, seed=12)
    at = _uploaded("small.csv", _csv(frame))
    before = fits.get("HistGradientBoostingClassifier", 0)  # the Overview page analysed the demo
    _visit(at, "app_pages/strategy.py")
    assert any(s.label.startswith("Scoring every borrower: done in") for s in at.status)
    fitted = dict(fits)
    assert fitted["HistGradientBoostingClassifier"] - before == 5  # one model per fold
    at.radio(key="strategy-thresholds-rule").set_value("By risk-score cut-offs").run()  # the notebook's kind
    before = _table(at, "Recovery strategy").set_index("Recovery strategy")["Borrowers"]
    at.text_input[0].set_value("Field visit").run()
    at.slider[0].set_value((0.3, 0.9)).run()
    assert fits == fitted  # a decision setting refits nothing
    assert not at.status  # and nothing long runs, so no progress box
    at.slider[0].set_value((0.45, 0.8)).run()  # a second drag counts too
    again = _table(at, "Recovery strategy").set_index("Recovery strategy")["Borrowers"]
    scores = _table(at, "Risk_Reasons")["Risk_Score"]
    assert len(scores) == 200  # the worklist shows all of this small file
    assert again[SEED_STRATEGIES[2]] == int((scores < 0.45).sum())
    assert "**above 0.80**" in at.markdown[0].value
    summary = _table(at, "Recovery strategy")
    assert list(summary["Recovery strategy"]) == ["Field visit", SEED_STRATEGIES[1], SEED_STRATEGIES[2]]
    after = summary.set_index("Recovery strategy")["Borrowers"]
    assert after["Field visit"] <= before[SEED_STRATEGIES[0]]
    assert after[SEED_STRATEGIES[2]] <= before[SEED_STRATEGIES[2]]
    assert after.sum() == 200
    _visit(at, "app_pages/risk.py")
    assert any("when the score is above 0.45" in c for c in _texts(at.caption))
    _visit(at, "app_pages/strategy.py")
    at.text_input[1].set_value("Field visit").run()
    assert "Give three different recovery strategy labels." in _texts(at.error)[0]


def test_excel_sheet_can_be_chosen():
    loans, _ = generate_portfolio(n=130, seed=13)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer) as writer:
        pd.DataFrame({"Note": ["exported by the core system"]}).to_excel(writer, sheet_name="Cover", index=False)
        loans.to_excel(writer, sheet_name="Loans", index=False)
    at = _uploaded("two_sheets.xlsx", buffer.getvalue(),
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    # the first sheet is not a table of loans: the page says so and offers the other sheet
    assert "Cover" in _texts(at.error)[-1]
    sheet = next(s for s in at.selectbox if s.label == "Sheet")
    assert sheet.options == ["Cover", "Loans"]
    sheet.set_value("Loans").run()
    assert any(t.startswith("two_sheets.xlsx: 130 rows × 21 columns") and "sheet 'Loans'" in t
               for t in _texts(at.text))


def test_planning_with_costs_and_capacity_on_the_strategy_page(fits):
    at = _visit(_app(), "app_pages/strategy.py")
    fitted = dict(fits)
    next(t for t in at.toggle if t.label == "Plan actions by expected net recovery").set_value(True).run()
    assert not at.exception and not at.error
    assert fits == fitted  # a plan is a decision: nothing is refitted
    summary = _table(at, "Recovery strategy")
    assert list(summary["Recovery strategy"]) == [*SEED_STRATEGIES, "No action"]
    assert summary["Borrowers"].sum() == 2000
    assert summary.set_index("Recovery strategy").loc[SEED_STRATEGIES[0], "Borrowers"] <= 200
    assert "Expected net recovery" in summary.columns
    policies = _table(at, "Policy")
    assert policies["Policy"].tolist()[0] == "Optimised (most expected net recovery)"
    assert policies["Expected net recovery"].iloc[0] == policies["Expected net recovery"].max()
    assert any("champion group" in c for c in _texts(at.caption))
    options = _table(at, "Chosen")
    assert options["Chosen"].sum() == 1 and len(options) == 4
    pick = next(s for s in at.selectbox if s.label == "Borrower (file row)")
    worklist = _table(at, "File_Row").set_index("File_Row")
    first = worklist.index[0]
    assert pick.value == first and pick.format_func(first) == f"Row {first} · {worklist.at[first, 'Loan_ID']}"
    assert any(t.startswith(f"Risk score {worklist.at[first, 'Risk_Score']:.2f} · segment ")
               for t in _texts(at.text))
    chosen = options.loc[options["Chosen"]].iloc[0]
    assert chosen["Expected net recovery"] == pytest.approx(worklist.at[first, "Expected_Net_Recovery"])
    history = _table(at, "Collection method")
    assert history["Borrowers"].sum() == 2000
    assert any("History is observational" in w for w in _texts(at.warning))
    haircuts = _table(at, "Collateral haircut")
    assert set(haircuts["Loan type"]) == {"Auto", "Business", "Home", "Personal"}
    assert (haircuts["Collateral haircut"] == 0.30).all()
    next(b for b in at.button if b.label == "Show what more capacity would bring").click()
    at.run()
    assert any(s.label.startswith("Planning at other capacities: done") for s in at.status)


def test_a_refused_upload_is_read_once_however_many_pages_are_opened(monkeypatch):
    import ui.state

    reads = []
    real = ui.state.load_portfolio
    monkeypatch.setattr(ui.state, "load_portfolio", lambda *a, **k: reads.append(a[1]) or real(*a, **k))
    at = _uploaded("scan.csv", b"\x00\x01 not a table")
    message = "scan.csv contains NUL bytes"
    assert any(e.startswith(message) for e in _texts(at.error))
    for page in ("app_pages/home.py", "app_pages/explore.py", "app_pages/strategy.py", "app_pages/data.py"):
        at.switch_page(page)
        at.run()
        assert any(e.startswith(message) for e in _texts(at.sidebar.error)), page
    assert reads.count("scan.csv") == 1  # the refusal is remembered for this upload, not read on every click
