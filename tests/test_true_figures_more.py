"""Every figure true on a lender's own file (issue 16, the remaining parts): default bands that fit any
portfolio, a plan that barely tells borrowers apart named in words.

Counts asserted here are computed from the file and the scores, never copied from the product's output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import pipeline
from core.config import SEED_STRATEGIES, RecoveryConfig
from core.data import load_portfolio
from core.decide import make_plan
from core.report import ReportSource, stakeholder_report
from tests.helpers import ROOT
from tests.test_true_figures import CORPUS, FAST, _text

LEGAL, SETTLE, REMIND = SEED_STRATEGIES


def _run(name: str, config: RecoveryConfig) -> tuple:
    data = (CORPUS / name).read_bytes()
    portfolio = load_portfolio(data, name)
    result = pipeline.analyse_portfolio(portfolio, config, True)
    return result, _text(stakeholder_report(result, ReportSource.of(data, portfolio, True)))


@pytest.fixture(scope="module")
def collections():
    """The amount-recovered file whose calibrated score ties a third of the book at its top."""
    return _run("recovered_none_full.csv", FAST)


# --- 1. a usable default plan on any portfolio ----------------------------------------------------


def test_the_recommended_bands_are_shares_of_the_book_riskiest_first(collections):
    result, report = collections
    counts = result.strategies.set_index("Recovery strategy")["Borrowers"]
    n = len(result.scored)
    assert counts[LEGAL] == round(0.10 * n) and counts[SETTLE] == round(0.20 * n)
    assert counts[REMIND] == n - counts[LEGAL] - counts[SETTLE]
    by = result.scored.groupby("Recovery_Strategy")["Risk_Score"]
    assert by.min()[LEGAL] >= by.max()[SETTLE] and by.min()[SETTLE] >= by.max()[REMIND]  # riskiest first
    # equal scores go to the most money at risk first
    tied = result.scored[result.scored["Risk_Score"] == by.min()[LEGAL]]
    if tied["Recovery_Strategy"].nunique() > 1:
        owed = tied.groupby("Recovery_Strategy")["Outstanding_Loan_Amount"]
        assert owed.min()[LEGAL] >= owed.max()[SETTLE]
    assert "Bands by share of this portfolio: the riskiest 10% of borrowers" in report
    assert not any("nearly everyone" in n or "riskiest tenth" in n for n in result.notes)


def test_the_seed_preset_keeps_the_notebooks_absolute_cut_offs_exactly():
    seed = RecoveryConfig.seed()
    assert seed.band_shares is None and (seed.settlement_threshold, seed.legal_threshold) == (0.50, 0.75)
    scores = np.array([0.2, 0.5, 0.75, 0.7500001, 0.9, 0.49999, 1.0, 0.0, 0.75, 0.51])
    plan = make_plan(pd.DataFrame(index=range(len(scores))), scores, seed)
    expected = np.where(scores > 0.75, LEGAL, np.where(scores >= 0.50, SETTLE, REMIND))
    assert list(plan.strategy) == list(expected)


def test_bands_by_share_hold_on_a_book_where_every_score_is_high():
    """Absolute cut-offs would send this whole book to legal notices; shares of the book cannot."""
    scores = np.linspace(0.80, 0.99, 200)
    fixed = make_plan(pd.DataFrame(index=range(200)), scores, FAST.with_(band_shares=None))
    assert (fixed.strategy == LEGAL).all()
    shared = make_plan(pd.DataFrame(index=range(200)), scores, FAST)
    assert [(shared.strategy == s).sum() for s in SEED_STRATEGIES] == [20, 40, 140]


def test_a_plan_that_puts_nearly_everyone_in_one_band_is_named_everywhere(capsys):
    from core.commands import _said
    everyone_legal = FAST.with_(band_shares=None, settlement_threshold=0.0, legal_threshold=0.0)
    result, report = _run("good_bad_spellings.csv", everyone_legal)
    n = len(result.scored)
    held = int((result.scored["Recovery_Strategy"] == LEGAL).sum())
    assert held / n > 0.9
    note = next(x for x in result.notes if "One action holds nearly everyone" in x)
    assert f"'{LEGAL}' gets {held / n:.1%} of borrowers ({held:,} of {n:,})" in note
    assert note in result.metrics_dict()["notes"] and note in report
    _said(result)
    assert f"warning: {note}" in capsys.readouterr().err


def test_the_riskiest_getting_what_everyone_gets_is_named():
    from core.decide import crowded_note
    scores = np.linspace(0, 1, 100)
    same = np.where(scores > 0.95, LEGAL, np.where(scores > 0.5, REMIND, np.where(scores > 0.3, SETTLE, REMIND)))
    same[scores > 0.9] = REMIND
    assert (same == REMIND).mean() <= 0.9
    assert "riskiest tenth of borrowers mostly get the same action as everyone else" in crowded_note(same, scores)
    apart = np.where(scores >= 0.9, LEGAL, REMIND)
    assert crowded_note(apart, scores) is None


def test_the_strategy_page_says_how_bands_are_made_and_switches_to_cut_offs():
    from tests.helpers import app, table, texts, visit
    at = visit(app(), "app_pages/strategy.py")
    said = " ".join(texts(at.markdown))
    assert "Bands by share of this portfolio: the riskiest 10% of borrowers" in said
    summary = table(at, "Recovery strategy").set_index("Recovery strategy")["Borrowers"]
    n = int(summary.sum())
    assert summary[LEGAL] == round(0.10 * n) and summary[SETTLE] == round(0.20 * n)
    at.radio(key="strategy-thresholds-rule").set_value("By risk-score cut-offs").run()
    at.slider(key="strategy-thresholds").set_value((0.0, 0.0)).run()
    assert not at.exception
    assert "above 0.00** → legal notices" in " ".join(m.value for m in at.markdown)
    infos = texts(at.info)
    assert any(f"'{LEGAL}' gets 100.0% of borrowers ({n:,} of {n:,})" in i for i in infos), infos


def test_a_saved_model_scores_new_borrowers_at_the_training_books_cut_offs(collections):
    """Shares are of the training book: a new file scored in parts must not get its own shares."""
    result, _ = collections
    assert result.config.band_shares == (0.10, 0.20)
    low = result.scored.loc[result.scored["Recovery_Strategy"] == LEGAL, "Risk_Score"].min()
    assert result.config.legal_threshold == pytest.approx(low)
    assert ROOT.exists()


# --- 2. the report says what was used; data quality lists only real problems --------------------


def test_the_german_reports_settings_name_the_fields_actually_used():
    from tests.test_true_figures import _analyse
    result, document = _analyse("german_credit.csv")
    report = _text(document)
    settings = report[report.index("How these figures were made"):]
    segment_line = settings[settings.index("Segmentation fields used"):settings.index("Number of segments")]
    for field in result.segments.features:
        assert field in segment_line
    assert "Monthly income" not in segment_line and "Days past due" not in segment_line
    model_line = settings[settings.index("Model fields used"):]
    assert all(f in model_line for f in result.risk.numeric_features + result.risk.categorical_features)
    quality = report[report.index("Data quality"):report.index("How these figures were made")]
    assert "Not in this file" not in quality and "Monthly income" not in quality
    assert quality.count("it maps to none of the tutorial's 21 fields") == 1


def test_a_foreign_files_own_categories_are_not_flagged_but_a_tutorial_files_strays_are():
    from core.data import load_portfolio as load
    own = pd.DataFrame({"Loan_ID": [f"L{i}" for i in range(40)], "Loan_Amount": 1000.0,
                        "Loan_Type": ["Home Loan", "Car Loan"] * 20,
                        "Recovery_Status": ["Recovered", "Default"] * 20})
    problems = load(own.to_csv(index=False).encode(), "own.csv").report.to_frame()
    assert "unknown category" not in set(problems.get("Problem", []))
    tutorial = own.assign(Loan_Type=["Home"] * 39 + ["Boat"],
                          Recovery_Status=["Fully Recovered", "Written Off"] * 20)
    problems = load(tutorial.to_csv(index=False).encode(), "tutorial.csv").report.to_frame()
    flagged = problems[problems["Problem"].str.contains("unknown category")]
    assert list(flagged["Column"]) == ["Loan_Type"] and list(flagged["Rows affected"]) == [1]
    assert list(flagged["Examples"]) == ["'Boat'"]


# --- 3. one number, one value: the model comparison reads the metrics table's figure -------------


def test_the_compared_models_row_for_the_score_shown_is_the_metrics_tables_roc_auc():
    from core.model import comparison_view
    result, report = _run("good_bad_spellings.csv", FAST.with_(model="auto"))
    risk = result.risk
    auc = risk.metrics.set_index("metric").loc["roc_auc"]
    view = comparison_view(risk.comparison, risk.model).set_index("Model")
    shown = view.index[view["The score shown"] == "yes"]
    assert len(shown) == 1
    row = view.loc[shown[0]]
    assert row["ROC-AUC (all borrowers)"] == pytest.approx(auc["value"], abs=1e-12)
    assert row["ROC-AUC (mean over folds)"] == pytest.approx(auc["fold_mean"], abs=1e-12)
    assert row["Spread (std)"] == pytest.approx(auc["fold_std"], abs=1e-12)
    compared = report[report.index("Models compared on the same folds"):]
    assert f"{shown[0]} {auc['value']:.3f} {auc['fold_mean']:.3f} {auc['fold_std']:.3f} yes" in compared


# --- 4. state follows the file ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model() -> tuple[bytes, bytes]:
    from core.data import prepare
    from core.serve import bundle as bundles
    from sample_data.generate import generate_portfolio
    frame, _ = generate_portfolio(n=300, seed=5)
    model, _ = bundles.train(prepare(frame), FAST, "history.csv", "0" * 64)
    return bundles.dumps(model), frame.to_csv(index=False).encode()


def test_a_new_upload_forgets_the_previous_files_scored_borrowers_and_says_what_it_kept(small_model):
    from tests.helpers import app, texts, visit
    at = visit(app(), "app_pages/score_new.py")
    model, new = small_model
    at.file_uploader(key="model_upload").upload("history.slr", model, "application/zip").run()
    at.file_uploader(key="new_upload").upload("june.csv", new, "text/csv").run()
    assert not at.exception
    assert any("Risk_Score" in d.value.columns for d in at.dataframe)
    visit(at, "app_pages/data.py")
    at.file_uploader[0].upload("no_exposure.csv", (CORPUS / "no_exposure.csv").read_bytes(), "text/csv").run()
    said = " ".join(texts(at.info))
    assert "New file no_exposure.csv: reset" in said and "the new borrowers scored on the Score page" in said
    assert "kept the method, bands and action table (capacities included)" in said
    assert "the uploaded saved model history.slr" in said
    visit(at, "app_pages/score_new.py")
    assert not any("Risk_Score" in d.value.columns for d in at.dataframe)  # not the previous file's scores
    assert "Upload the file of borrowers to score: outcomes are not needed." in texts(at.info)


def test_an_edited_capacity_survives_another_page_and_a_preset_switch_says_it_resets():
    from core.decide import DEFAULT_ACTIONS
    from tests.helpers import app, texts, visit
    at = visit(app(), "app_pages/strategy.py")
    next(t for t in at.toggle if t.label == "Plan actions by expected net recovery").set_value(True).run()
    edited = tuple(a if i else type(a)(**{**a.__dict__, "capacity": 7}) for i, a in enumerate(DEFAULT_ACTIONS))
    at.session_state["config"] = at.session_state["config"].with_(actions=edited)  # as an edit in the table
    at.session_state["plan-base"] = __import__("core.decide", fromlist=["actions_frame"]).actions_frame(edited)
    visit(at, "app_pages/home.py")
    visit(at, "app_pages/strategy.py")
    assert at.session_state["config"].actions[0].capacity == 7  # not back to the default without a word
    at.radio(key="preset_choice").set_value("seed").run()
    assert any("back to the preset's defaults, and planning is off" in i for i in texts(at.info))


# --- 5. exact duplicate rows named apart from conflicting repeats of an ID --------------------------


def test_exact_duplicates_are_named_apart_from_conflicting_repeats_with_the_same_choices():
    from core.data import EXACT_DUPLICATE, EXACT_DUPLICATE_KEPT, REPEATED_ID, REPEATED_ID_KEPT
    file = pd.read_csv(CORPUS / "exact_duplicates.csv")
    conflict = file.iloc[[0]].assign(Loan_Amount=file["Loan_Amount"].iloc[0] + 1)  # same ID, another value
    data = pd.concat([file, conflict]).to_csv(index=False).encode()
    copies = int(file.duplicated().sum())
    assert copies > 0
    report = load_portfolio(data, "dups.csv").report
    counts = {p.problem: p.count for p in report.problems}
    assert counts[EXACT_DUPLICATE] == copies and counts[REPEATED_ID] == 1
    assert len(report.invalid_rows) == copies + 1  # both are invalid until the user keeps them
    kept = load_portfolio(data, "dups.csv", keep_repeated_ids=True).report
    counts = {p.problem: p.count for p in kept.problems}
    assert kept.ok and counts[EXACT_DUPLICATE_KEPT] == copies and counts[REPEATED_ID_KEPT] == 2


def test_the_data_page_names_exact_duplicates_and_offers_the_choice():
    from tests.helpers import texts, uploaded, visit
    file = pd.read_csv(CORPUS / "exact_duplicates.csv")
    at = visit(uploaded("exact_duplicates.csv", (CORPUS / "exact_duplicates.csv").read_bytes()), "app_pages/data.py")
    radio = next(r for r in at.radio if "exact duplicates" in r.label)
    assert radio.label == f"{int(file.duplicated().sum()):,} row(s) are exact duplicates of an earlier row (every cell equal)"
    problems = next(d.value for d in at.dataframe if "Problem" in d.value.columns)
    assert "exact duplicate of an earlier row (every cell equal)" in set(problems["Problem"])
    assert "repeated Loan_ID (an earlier row has it)" not in set(problems["Problem"])
    assert texts(at.error) == [] or all("Traceback" not in e for e in texts(at.error))
