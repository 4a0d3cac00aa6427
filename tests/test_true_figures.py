"""Every figure true on a lender's own file (issue 16): foreign-shaped files through the engine, the CLI,
the metrics JSON, the report's text and every page of the app, with planning on and off.

The corpus is tests/corpus_foreign (regenerate with its make_foreign.py) plus the shipped German data.
Every rate asserted here is computed from the file itself, never copied from the product's output.
"""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest

from core import pipeline
from core.config import SEED_STRATEGIES, RecoveryConfig
from core.data import NO_OUTCOME, Roles, load_portfolio
from core.decide import ASSIGNED, DEFAULT_ACTIONS, POLICIES
from core.report import ReportSource, stakeholder_report
from tests.helpers import ROOT, cli

CORPUS = ROOT / "tests" / "corpus_foreign"
GERMAN = ROOT / "sample_data" / "german_credit" / "german_credit.csv"
FAST = RecoveryConfig().with_(n_folds=3)
PLANNING = FAST.with_(actions=DEFAULT_ACTIONS)
TUTORIAL_KPIS = ("Fully recovered", "Partially recovered", "Written off")
PERFORMANCE_WORDS = ("ROC-AUC", "Precision", "use it to order the work")


def _analyse(name: str, config: RecoveryConfig = FAST, drop_invalid: bool = False) -> tuple:
    path = GERMAN if name == GERMAN.name else CORPUS / name
    data = path.read_bytes()
    portfolio = load_portfolio(data, name)
    result = pipeline.analyse_portfolio(portfolio, config, drop_invalid)
    return result, stakeholder_report(result, ReportSource.of(data, portfolio, drop_invalid))


def _text(document: str) -> str:
    """The report as a reader sees it: tags removed, entities read."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", document)).split())


def _rates(frame: pd.DataFrame, bad: pd.Series, by: str) -> dict[str, float]:
    """The bad-outcome rate per group, computed from the file's own outcome."""
    return bad.groupby(frame[by].to_numpy()).mean().to_dict()


# --- 1. planning without an exposure never crashes ------------------------------------------------


def test_planning_without_an_exposure_keeps_the_risk_bands_and_says_what_needs_money():
    result, report = _analyse("no_exposure.csv", PLANNING)
    assert result.config.actions is None  # the action table was not applied, and the result says so
    note = next(n for n in result.notes if n.startswith("Planning by expected net recovery needs"))
    assert "expected net recovery, outstanding at risk, expected loss" in note
    assert set(result.scored["Recovery_Strategy"]) <= set(SEED_STRATEGIES)
    assert "Expected_Net_Recovery" not in result.scored.columns
    text = _text(report)
    assert "Planning by expected net recovery needs each borrower's outstanding amount" in text
    assert "The plan is expected to bring" not in text


def test_the_command_line_refuses_a_money_plan_without_an_exposure_in_one_line(tmp_path):
    actions = tmp_path / "actions.csv"
    actions.write_text("action,cost,capacity,recovery_at_low_risk,recovery_at_high_risk\n"
                       f"{SEED_STRATEGIES[0]},5000,30,0.85,0.45\nNo action,0,,0.92,0.05\n", encoding="utf-8")
    run = cli("score", GERMAN, "--actions", actions, "-o", tmp_path / "out.csv")
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    line = run.stderr.strip()
    assert "\n" not in line and line.startswith("error: --actions plans by expected net recovery")
    assert "german_credit.csv has none" in line and "--exposure COL" in line
    assert not (tmp_path / "out.csv").exists()


# --- 2. a circular score is never presented as performance ---------------------------------------


def test_a_segment_flag_score_outside_the_seed_preset_shows_no_performance(tmp_path):
    out, metrics = tmp_path / "out.csv", tmp_path / "m.json"
    run = cli("score", CORPUS / "no_exposure.csv", "--outcome", "none", "-o", out, "--metrics", metrics)
    assert run.returncode == 0, run.stderr
    assert "warning: No performance figures are shown" in run.stderr
    figures = json.loads(metrics.read_text())
    assert figures["target"] == "segment"
    assert figures["performance_shown"] is False
    assert "measure the segments against themselves" in figures["performance_note"]
    assert figures["out_of_fold"] == {} and figures["confusion_matrix"] is None
    assert figures["model_comparison"] == [] and figures["trust"] is None


def test_the_report_shows_no_performance_for_a_segment_flag_score():
    result, report = _analyse("no_exposure.csv", FAST.with_(roles=Roles(outcome=NO_OUTCOME)))
    assert result.performance_note is not None
    text = _text(report)
    assert "No performance figures are shown" in text
    for heading in ("Out-of-fold performance", "Gains by score decile", "Models compared", "A coin toss"):
        assert heading not in text, heading
    assert "what to expect on new borrowers" not in text


def test_nobody_fully_recovered_defaults_to_bad_below_half_recovered_and_says_so(tmp_path):
    out, metrics = tmp_path / "out.csv", tmp_path / "m.json"
    run = cli("score", CORPUS / "recovered_none_full.csv", "-o", out, "--metrics", metrics)
    assert run.returncode == 0, run.stderr
    assert "(bad: recovered share below 50%)" in run.stderr  # the roles line
    assert "note: Nobody in this file is recovered in full" in run.stderr and "--bad-below SHARE" in run.stderr
    figures = json.loads(metrics.read_text())
    assert figures["target"] == "outcome" and figures["performance_shown"] is True
    assert 0.5 < figures["out_of_fold"]["roc_auc"]["value"] < 0.99  # a real outcome, not the segments re-learned
    scored = pd.read_csv(out)
    bad = (scored["recovery_amount"] / scored["Outstanding_Loan_Amount"] < 0.5).astype(float)
    expected = _rates(scored, bad, "Recovery_Strategy")
    for row in figures["strategies"]:
        if row["Borrowers"]:
            assert row["Actual bad-outcome rate"] == pytest.approx(expected[row["Recovery strategy"]])
        assert "Actual not-fully-recovered rate" not in row


# --- 3. one outcome used everywhere; 4. the analysed count; 5. one value for the plan --------------


@pytest.fixture(scope="module")
def duplicates():
    return _analyse("exact_duplicates.csv", PLANNING, drop_invalid=True)


# each file's bad outcome, computed here from its own cells (as the analysis names its columns)
OWN_BAD = {
    "good_bad_spellings.csv": lambda t: t["loan_result"] == "Charged-Off",
    "recovered_none_full.csv": lambda t: pd.to_numeric(t["recovery_amount"]) / t["Outstanding_Loan_Amount"] < 0.5,
    "no_exposure.csv": lambda t: t["defaulted"] == "yes",
    "german_credit.csv": lambda t: t["creditability"] == "bad",
}


@pytest.mark.parametrize("name", list(OWN_BAD))
def test_every_outcome_rate_shown_is_the_files_own(name):
    result, report = _analyse(name)
    scored = result.scored
    bad = OWN_BAD[name](scored).astype(float)
    assert result.metrics_dict()["performance_shown"] is True
    by_strategy = result.strategies.set_index("Recovery strategy")
    for strategy, rate in _rates(scored, bad, "Recovery_Strategy").items():
        assert by_strategy.loc[strategy, "Actual bad-outcome rate"] == pytest.approx(rate)
    profile = result.segments.profile.set_index("Segment")
    for segment, rate in _rates(scored, bad, "Segment_Name").items():
        assert profile.loc[segment, "Bad-outcome rate"] == pytest.approx(rate)
    text = _text(report)
    assert f"Bad outcome {bad.mean():.1%}" in text
    for kpi in TUTORIAL_KPIS:
        assert kpi not in text, kpi


def test_a_recovered_default_status_reads_its_own_bad_rate_everywhere(duplicates):
    result, report = duplicates
    file = pd.read_csv(CORPUS / "exact_duplicates.csv").drop_duplicates()
    share_bad = (file["Recovery_Status"] == "Default").mean()
    scored = result.scored
    bad = (scored["Recovery_Status"] == "Default").astype(float)
    by_strategy = result.strategies.set_index("Recovery strategy")
    for name, rate in _rates(scored, bad, "Recovery_Strategy").items():
        assert by_strategy.loc[name, "Actual bad-outcome rate"] == pytest.approx(rate)
    assert "Actual not-fully-recovered rate" not in by_strategy.columns
    profile = result.segments.profile.set_index("Segment")
    for name, rate in _rates(scored, bad, "Segment_Name").items():
        assert profile.loc[name, "Bad-outcome rate"] == pytest.approx(rate)
    assert not {"Not fully recovered rate", "Written off rate"} & set(profile.columns)
    text = _text(report)
    assert f"Bad outcome {share_bad:.1%}" in text
    for kpi in TUTORIAL_KPIS:
        assert kpi not in text, kpi


def test_the_reports_plan_value_is_the_policies_tables(duplicates):
    result, report = duplicates
    worth = result.policies.set_index("Policy")["Expected net recovery"]
    assert worth[ASSIGNED] == pytest.approx(result.scored["Expected_Net_Recovery"].sum())
    text = _text(report)
    said = re.search(r"The plan is expected to bring ([\d,]+) net", text).group(1)
    assert said == f"{worth[ASSIGNED]:,.0f}"
    assert f"optimising every borrower would bring {worth[POLICIES['optimised']]:,.0f}" in text
    assert f"{worth[ASSIGNED]:,.0f}" in text.split("Policies compared", 1)[1]


# --- 6. segment words agree with the segment's own figures ---------------------------------------


@pytest.mark.parametrize("name", ["recovered_none_full.csv", "exact_duplicates.csv"])
def test_segment_names_and_advice_agree_with_their_own_profile(name):
    result, _ = _analyse(name, FAST, drop_invalid=True)
    scored = result.scored
    days = pd.to_numeric(scored["days_past_due" if "days_past_due" in scored else "Days_Past_Due"])
    mean_days = days.groupby(scored["Segment_Name"]).mean()
    for _, row in result.segments.profile.iterrows():
        advice, segment = row["What it means for collections"], row["Segment"]
        if advice.startswith(("Paying on time", "Current but")) or "current on payments" in segment:
            assert mean_days[segment] <= 30, (segment, advice, mean_days[segment])
        assert "collateral" not in advice.lower(), advice  # neither file has collateral


# --- through the app: every page, planning on and off --------------------------------------------


PAGES = ("app_pages/home.py", "app_pages/data.py", "app_pages/explore.py", "app_pages/segments.py",
         "app_pages/risk.py", "app_pages/strategy.py")


def _every_page(at) -> dict[str, object]:
    from tests.helpers import visit as _visit
    seen = {}
    for page in PAGES:
        _visit(at, page)  # asserts no exception
        # the only red boxes allowed are the verdicts on the score, never a stopped page
        stopped = [e.value for e in at.error if e.proto.icon == ":material/warning:"]
        assert not stopped, (page, stopped)
        seen[page] = {"metrics": {m.label: m.value for m in at.metric},
                      "warnings": [w.value for w in at.warning], "errors": [e.value for e in at.error]}
    return seen


def _planning(at, on: bool) -> None:
    from tests.helpers import visit as _visit
    _visit(at, "app_pages/strategy.py")
    next(t for t in at.toggle if t.label == "Plan actions by expected net recovery").set_value(on).run()
    assert not at.exception


def test_planning_switched_on_for_the_demo_then_a_file_without_exposure_every_page_on_and_off():
    from tests.helpers import app as _app
    from tests.helpers import table as _table
    from tests.helpers import visit as _visit
    at = _app()
    _planning(at, True)  # on the demo, which has an exposure
    _visit(at, "app_pages/data.py")
    at.file_uploader[0].upload("no_exposure.csv", (CORPUS / "no_exposure.csv").read_bytes(), "text/csv")
    at.run()
    on = _every_page(at)  # planning still on, without touching anything
    refused = [w for w in on["app_pages/strategy.py"]["warnings"] if "needs each borrower's outstanding" in w]
    assert refused and "expected net recovery, outstanding at risk, expected loss" in refused[0].replace("\\", "")
    file = pd.read_csv(CORPUS / "no_exposure.csv")
    home = on["app_pages/home.py"]["metrics"]
    assert home["Borrowers"] == "400" and home["Bad outcome"] == f"{(file['defaulted'] == 'yes').mean():.1%}"
    assert not set(TUTORIAL_KPIS) & set(home) and "Total outstanding" not in home
    at = _visit(at, "app_pages/strategy.py")
    summary = _table(at, "Recovery strategy").set_index("Recovery strategy")
    assert list(summary.index) == list(SEED_STRATEGIES)
    result = next(reversed(at.session_state["stages"]["decide"].values()))
    bad = (result.scored["defaulted"] == "yes").astype(float)  # the file's own cells, row for row
    for name, rate in _rates(result.scored, bad, "Recovery_Strategy").items():
        assert summary.loc[name, "Actual bad-outcome rate"] == pytest.approx(rate)
    _planning(at, False)
    assert not any("outstanding amount" in w for w in _every_page(at)["app_pages/strategy.py"]["warnings"])


def test_every_page_after_excluding_exact_duplicates_shows_the_analysed_count_and_the_files_outcome():
    from tests.helpers import table as _table
    from tests.helpers import texts as _texts
    from tests.helpers import uploaded as _uploaded
    from tests.helpers import visit as _visit
    at = _uploaded("exact_duplicates.csv", (CORPUS / "exact_duplicates.csv").read_bytes())
    _visit(at, "app_pages/data.py")
    at.checkbox[0].check().run()
    pages = _every_page(at)
    home = pages["app_pages/home.py"]["metrics"]
    file = pd.read_csv(CORPUS / "exact_duplicates.csv").drop_duplicates()
    assert home["Borrowers"] == "400"
    assert home["Bad outcome"] == f"{(file['Recovery_Status'] == 'Default').mean():.1%}"
    assert not set(TUTORIAL_KPIS) & set(home)
    _visit(at, "app_pages/home.py")
    assert any("20 invalid row(s) of the file's 420 are excluded" in c for c in _texts(at.caption))
    assert not set(TUTORIAL_KPIS) & set(pages["app_pages/explore.py"]["metrics"])
    _planning(at, True)
    at = _visit(at, "app_pages/strategy.py")
    summary = _table(at, "Recovery strategy")
    assert "Actual not-fully-recovered rate" not in summary.columns
    rates = summary.set_index("Recovery strategy")["Actual bad-outcome rate"].dropna()
    assert ((rates > 0) & (rates < 1)).all(), rates  # not 100% for every strategy
    _every_page(at)


def test_the_risk_page_shows_no_performance_for_a_segment_flag_score():
    from tests.helpers import texts as _texts
    from tests.helpers import uploaded as _uploaded
    from tests.helpers import visit as _visit
    data = pd.read_csv(CORPUS / "no_exposure.csv").drop(columns="defaulted").to_csv(index=False).encode()
    at = _visit(_uploaded("no_outcome.csv", data), "app_pages/risk.py")
    assert any("No performance figures are shown" in e for e in _texts(at.error))
    assert not [s.value for s in at.subheader if "performance" in s.value.lower()]
    assert not any(word in " ".join(_texts(at.markdown)) for word in PERFORMANCE_WORDS[2:])
    assert not any("ROC" in c.proto.spec for c in at.get("plotly_chart"))
    figure_tables = [d.value for d in at.dataframe if "All borrowers" in d.value.columns]
    assert not figure_tables
    _visit(at, "app_pages/home.py")
    assert not any(word in " ".join(_texts(at.markdown) + _texts(at.success)) for word in PERFORMANCE_WORDS)


def test_the_seed_preset_keeps_the_notebooks_evaluation_of_its_segment_flag(seed_result):
    figures = seed_result.metrics_dict()
    assert figures["target"] == "segment" and figures["preset"] == "seed"
    assert figures["performance_shown"] is True and figures["performance_note"] is None
    assert figures["out_of_fold"]["roc_auc"]["value"] > 0.5 and figures["seed_split"]
    rates = {row["Recovery strategy"]: row["Actual not-fully-recovered rate"] for row in figures["strategies"]}
    scored = seed_result.scored
    for name, rate in _rates(scored, (scored["Recovery_Status"] != "Fully Recovered").astype(float),
                             "Recovery_Strategy").items():
        assert rates[name] == pytest.approx(rate)
