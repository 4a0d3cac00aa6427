"""The stakeholder report: one self-contained HTML file to send after the demo.

Nothing in it is fetched: no script, font or stylesheet from the network (its Content Security
Policy forbids it), charts are inline SVG. Every table is a summary (segments, strategies,
score deciles, policies, data problems), so the file stays small whatever the portfolio size.
Every text from the user (file name, column values, segment and strategy names) is escaped.
The same result and file give the same bytes: no clock, no random identifier.
"""

from __future__ import annotations

import dataclasses
import hashlib
import platform
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import pandas as pd

from core import display
from core.config import DEFAULT_HAIRCUT, TARGET_LABELS, RecoveryConfig
from core.data import FIELDS, FileInfo, Portfolio, ValidationReport, file_labels, kpis, label
from core.decide import POLICIES, actions_frame, bands_in_words
from core.display import ACTION_HEADERS, PALETTE, STRATEGY_COLOURS, capacity_text
from core.model import (
    ADVICE,
    GAINS_HEADERS,
    MODEL_LABELS,
    OUTCOME_RATES,
    comparison_view,
    field_means,
    profile_summary,
    readable_metrics,
)
from core.pipeline import RecoveryResult
from core.report import svg
from core.report.briefing import segment_score_sentence, summary_sentences
from core.versions import installed

Format = Callable[[object], str]
LIBRARIES = ("numpy", "pandas", "scikit-learn", "scipy", "pyarrow")
MEANS_PER_TABLE = 6  # segments side by side in one table of field means, so it fits on A4
MODEL_COLOUR, SECOND_COLOUR, REFERENCE_COLOUR = "#1f77b4", "#ff7f0e", "#9e9e9e"
SETTING_LABELS = {"roles": "Column roles", "n_segments": "Number of segments", "n_folds": "Cross-validation folds",
                  "flag_threshold": "High-risk flag above score", "calibrate": "Calibrate probabilities",
                  "use_collection_fields": "Learn from collection-stage fields",
                  "haircuts": "Collateral haircuts", "random_state": "Random seed",
                  "segment_features": "Segmentation fields used", "model_features": "Model fields used",
                  "band_shares": "Risk bands by share of the book"}
PRESETS = {"recommended": "Recommended (learns real outcomes)", "seed": "Notebook (seed) method"}
# Settings held as short codes, in the words the pages use for them.
SETTING_WORDS: dict[str, dict[object, str]] = {
    "preset": PRESETS,
    "target": TARGET_LABELS,
    "model": {**MODEL_LABELS, "auto": "Best of the three by cross-validated ROC-AUC"},
    "segment_naming": {"profile": "From what sets each segment apart", "seed": "The notebook's, by cluster number"},
    "policy": POLICIES,
    "action_column": {None: "suggested from the file's columns"},
}


@dataclass(frozen=True)
class ReportSource:
    """The analysed file: its name, fingerprint, how it was read, and what was left out."""

    name: str
    sha256: str
    info: FileInfo | None = None
    report: ValidationReport | None = None
    excluded_rows: int = 0

    @classmethod
    def of(cls, data: bytes, portfolio: Portfolio, excluded: bool) -> ReportSource:
        """The source of a loaded portfolio; ``excluded`` says whether its invalid rows were left out."""
        return cls(portfolio.info.name, hashlib.sha256(data).hexdigest(), portfolio.info, portfolio.report,
                   len(portfolio.report.invalid_rows) if excluded else 0)


def stakeholder_report(result: RecoveryResult, source: ReportSource) -> str:
    """The whole report as one HTML document."""
    sections = [_summary(result), _portfolio(result), _segments(result), _risk(result), _plan(result),
                _data_quality(result, source), _traceability(result, source)]
    title = f"Loan recovery report — {source.name}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>Loan recovery report</h1><p class=\"lead\">{escape(source.name)} · "
        f"{display.count(len(result.scored))} borrowers analysed · {escape(PRESETS.get(result.config.preset, ''))}"
        "</p></header>" + "".join(sections) + "</body></html>\n"
    )


# ------------------------------------------------------------------------------ building blocks


def _section(anchor: str, title: str, *parts: str) -> str:
    """A titled section; in print each starts on a new page."""
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{"".join(parts)}</section>'


def _p(text: str, css: str = "") -> str:
    """An escaped paragraph."""
    attribute = f' class="{css}"' if css else ""
    return f"<p{attribute}>{escape(text)}</p>"


def _list(items: list[str]) -> str:
    """An escaped bullet list."""
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def _cell(value: object, fmt: Format | None) -> str:
    """A cell's text: its format, else counts with separators and two decimals; a dash when missing."""
    if fmt is not None:
        return fmt(value)
    if display.absent(value) or value is pd.NA:
        return display.DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if pd.api.types.is_integer(value):
        return display.count(value)
    if isinstance(value, float):
        return display.decimal(value)
    return str(value)


def _title(text: str, originals: dict[str, str] | None) -> str:
    """A title attribute with the file's own header, for a label that reads differently from it."""
    original = (originals or {}).get(text)
    return f' title="{escape(original)}"' if original is not None and original != text else ""


def _table(frame: pd.DataFrame, formats: dict[str, Format] | None = None, css: str = "",
           originals: dict[str, str] | None = None) -> str:
    """A summary table with readable numbers; numeric columns right-aligned, every text escaped.

    ``originals`` maps a field's label to the file's header: shown on hover over the label.
    """
    formats = formats or {}
    numeric = {c for c in frame.columns if c in formats or pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])}
    head = "".join(f'<th{" class=num" if c in numeric else ""}{_title(str(c), originals)}>{escape(str(c))}</th>'
                   for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = "".join(f'<td{" class=num" if c in numeric else ""}'
                        f'{_title(str(v), originals) if isinstance(v, str) else ""}>{escape(_cell(v, formats.get(c)))}</td>'
                        for c, v in zip(frame.columns, record))
        rows.append(f"<tr>{cells}</tr>")
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _formats(columns, money=(), shares=(), decimals: dict[str, int] | None = None,
             currency: str = "") -> dict[str, Format]:
    """Formats for the columns present: money (in the currency chosen), shares, or a fixed number of decimals."""
    chosen: dict[str, Format] = {c: (lambda v: display.priced(v, currency)) for c in money if c in columns}
    chosen.update({c: display.share for c in shares if c in columns})
    for c, places in (decimals or {}).items():
        if c in columns:
            chosen[c] = lambda v, places=places: display.decimal(v, places)
    return chosen


def _kpi(name: str, value: str, detail: str = "") -> str:
    """One headline figure."""
    small = f'<div class="detail">{escape(detail)}</div>' if detail else ""
    return (f'<div class="kpi"><div class="name">{escape(name)}</div>'
            f'<div class="value">{escape(value)}</div>{small}</div>')


def _figure(chart: str) -> str:
    """A chart kept whole on one page."""
    return f"<figure>{chart}</figure>"


def _learns_from(fields: tuple[str, ...] | list[str], columns) -> str:
    """'Learns from: …' with each field's readable label, the file's own header on hover."""
    labels = file_labels(columns)
    names = [(labels.get(f) or label(f), f) for f in fields]
    shown = ", ".join(f'<span title="{escape(f)}">{escape(name)}</span>' if name != f else escape(name)
                      for name, f in names)
    return f'<p class="note">Learns from: {shown}.</p>'


# ------------------------------------------------------------------------------ sections


def _summary(result: RecoveryResult) -> str:
    """What the analysis found in plain words, and whether to act on the score."""
    parts = [_p(line) for line in summary_sentences(result, result.trust)]
    if result.trust is not None:
        css = "callout ok" if result.trust.act_on_score else "callout warn"
        parts.append(_p(result.trust.verdict(), css))
    return _section("summary", "Executive summary", *parts)


def _portfolio(result: RecoveryResult) -> str:
    """Headline figures of the analysed borrowers."""
    outcome = result.roles.outcome if result.roles is not None else None
    figures = kpis(result.scored, outcome)
    cards = [_kpi("Borrowers analysed", display.count(figures["borrowers"]))]
    if figures["total_outstanding"] is not None:
        at_risk = float(result.scored["Outstanding_At_Risk"].sum())
        cur = result.config.currency
        cards.append(_kpi("Total outstanding", display.priced(figures["total_outstanding"], cur, compact=True),
                          f"{display.priced(figures['total_outstanding'], cur)} in total"))
        cards.append(_kpi("Outstanding at risk", display.priced(at_risk, cur, compact=True),
                          f"{display.priced(at_risk, cur)}, weighted by each risk score"))
    if outcome is not None and not outcome.canonical and figures["share_bad"] is not None:
        which = f" ({outcome.column}: {', '.join(outcome.bad)})" if outcome.bad else ""
        cards.append(_kpi("Bad outcome", display.share(figures["share_bad"]),
                          f"of borrowers with a known outcome{which}"))
    for key, name in (("share_fully_recovered", "Fully recovered"),
                      ("share_partially_recovered", "Partially recovered"), ("share_written_off", "Written off")):
        if figures[key] is not None:
            cards.append(_kpi(name, display.share(figures[key]), "of borrowers with a recorded outcome"))
    if figures["avg_days_past_due"] is not None:
        cards.append(_kpi("Average days past due", display.decimal(figures["avg_days_past_due"], 0)))
    return _section("portfolio", "The portfolio", f'<div class="kpis">{"".join(cards)}</div>')


def _segments(result: RecoveryResult) -> str:
    """Segment sizes, money and outcome rates, what each means for collections, and its typical borrower."""
    profile = result.segments.profile
    names = list(profile["Segment"])
    panels = [svg.Panel("Borrowers", list(profile["Borrowers"]), display.count)]
    for rate, title in (("Not fully recovered rate", "Not fully recovered"), ("Bad-outcome rate", "Bad outcome")):
        if rate in profile:
            panels.append(svg.Panel(title, list(profile[rate]), display.share))
    if "Total outstanding" in profile:
        panels.append(svg.Panel("Outstanding", list(profile["Total outstanding"]),
                                lambda v: display.priced(v, result.config.currency, compact=True)))
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(names))]
    chart = svg.bars("Borrowers, outcomes and money per segment", names, panels, colours)
    advice = "<ul class=\"advice\">" + "".join(
        f"<li><strong>{escape(name)}</strong> — {escape(text)}</li>"
        for name, text in zip(names, profile[ADVICE])) + "</ul>"
    summary = profile_summary(profile).rename(columns={"Borrower_Segment": "No."})
    summary_table = _table(summary, _formats(summary.columns, money=("Total outstanding",), shares=(
        "Share of borrowers", *OUTCOME_RATES), currency=result.config.currency), "keep any")
    means = field_means(result.segments, result.config.currency)
    originals = {result.segments.label(f): f for f in result.segments.features}
    chunks = [means[["Field", *names[i:i + MEANS_PER_TABLE]]] for i in range(0, len(names), MEANS_PER_TABLE)]
    means_tables = "".join(_table(chunk, {c: str for c in chunk.columns[1:]}, "keep any heads", originals)
                           for chunk in chunks)
    return _section(
        "segments", "Segments",
        _p(f"Borrowers who look alike are grouped into {len(names)} segments, so each segment can be worked the "
           "same way; " + ("they keep the notebook's names, fixed by cluster number." if
                           result.config.segment_naming == "seed" else
                           "each is named after the fields on which it differs most from the portfolio.")),
        _figure(chart), "<h3>What each segment means for collections</h3>", advice,
        "<h3>Size, money and outcomes</h3>", summary_table,
        "<h3>The typical borrower of each segment</h3>",
        _p("Mean of each segmentation field per segment, in the file's own units.", "note"), means_tables,
    )


def _risk(result: RecoveryResult) -> str:
    """How well the score ranks: against chance and days past due, its metrics and curves."""
    risk, trust = result.risk, result.trust
    intro = (f"What the score means: {risk.target_description}. Model: {risk.model_label}"
             + (", probabilities calibrated" if risk.calibrated else "")
             + f". Every borrower's score comes from a model that did not learn from them ({risk.n_folds}-fold "
             "cross-validation)" + (", so these figures are what to expect on new borrowers." if
                                    result.performance_note is None else "."))
    parts = [_p(intro), _learns_from(risk.numeric_features + risk.categorical_features, result.scored.columns)]
    if result.performance_note:  # a circular score: no metric, curve or table presented as performance
        parts.append(_p(segment_score_sentence(result.config.target == "segment", result.roles is not None
                                               and result.roles.outcome is not None), "callout warn"))
        parts.append(_p(result.performance_note, "callout warn"))
        return _section("risk", "How far to trust the risk score", *parts)
    if risk.target == "segment":
        parts.append(_p(segment_score_sentence(result.config.target == "segment") + " The figures below measure "
                        "how well it finds the high-risk segments.", "callout warn"))
    if risk.ordering_note:  # the same warning the Risk page and the command line give
        parts.append(_p(risk.ordering_note, "callout warn"))
    if trust is not None:
        parts.append(_p(f"{trust.sentence()} {trust.verdict()}",
                        "callout ok" if trust.act_on_score else "callout warn"))
        ranking = [("The model's risk score", f"{trust.auc:.2f}", f"{trust.low:.2f}–{trust.high:.2f}")]
        if trust.days_past_due_auc is not None:
            ranking.append(("Days past due alone (most overdue first)", f"{trust.days_past_due_auc:.2f}", ""))
        ranking.append(("A coin toss", "0.50", ""))
        parts += ["<h3>Against the rule collections teams already use</h3>", _table(pd.DataFrame(
            ranking, columns=["Ranking by", "ROC-AUC", "95% interval"]), css="keep")]
    parts.append(_figure(_risk_charts(result)))
    metrics = readable_metrics(risk.metrics)
    parts += ["<h3>Out-of-fold performance</h3>",
              _p(f"Precision, recall, F1 and accuracy count a borrower as flagged when the score is above "
                 f"{result.config.flag_threshold:.2f}.", "note"),
              _table(metrics, _formats(metrics.columns, decimals={
                  "All borrowers": 3, "Mean over folds": 3, "Spread (std) over folds": 3}), "keep")]
    if not risk.comparison.empty:
        compared = comparison_view(risk.comparison, risk.model)
        parts += ["<h3>Models compared on the same folds</h3>", _table(compared, _formats(
            compared.columns, decimals={c: 3 for c in compared.columns[1:4]}), "keep")]
    gains = risk.gains.rename(columns=GAINS_HEADERS)
    gain_formats = _formats(gains.columns, money=("Outstanding of bad outcomes",), shares=(
        "Bad-outcome rate", "Cumulative share of bad outcomes", "Cumulative share of their outstanding"),
        decimals={"Mean score": 2}, currency=result.config.currency)
    gain_formats["Lift"] = lambda v: display.DASH if display.absent(v) else f"{v:.2f}×"
    parts += ["<h3>Gains by score decile</h3>", _table(gains, gain_formats, "keep")]
    return _section("risk", "How far to trust the risk score", *parts)


def _risk_charts(result: RecoveryResult) -> str:
    """ROC, calibration and gains as three small charts side by side."""
    risk = result.risk
    auc = risk.metrics.set_index("metric").loc["roc_auc", "value"]
    diagonal = ([0, 1], [0, 1])
    roc = svg.unit_chart("ROC curve", [
        svg.Line(f"Model (AUC {auc:.2f})", list(risk.roc["false_positive_rate"]),
                 list(risk.roc["true_positive_rate"]), MODEL_COLOUR),
        svg.Line("Random order (AUC 0.50)", *diagonal, REFERENCE_COLOUR, dashed=True),
    ], "False positive rate", "True positive rate", display.decimal)
    calibration = svg.unit_chart("Calibration", [
        svg.Line("Observed rate per score bin", list(risk.calibration["mean_score"]),
                 list(risk.calibration["observed_rate"]), MODEL_COLOUR, markers=True),
        svg.Line("Perfectly calibrated", *diagonal, REFERENCE_COLOUR, dashed=True),
    ], "Mean risk score in bin", "Observed bad-outcome rate", display.decimal)
    worked = [0.0, *(risk.gains["decile"] / 10)]
    lines = [svg.Line("Bad outcomes caught", worked, [0.0, *risk.gains["cum_share_of_bads"]], MODEL_COLOUR,
                      markers=True)]
    if risk.gains["cum_share_of_bad_outstanding"].notna().all():
        lines.append(svg.Line("Their outstanding caught", worked, [0.0, *risk.gains["cum_share_of_bad_outstanding"]],
                              SECOND_COLOUR, markers=True))
    lines.append(svg.Line("Random order", *diagonal, REFERENCE_COLOUR, dashed=True))
    gains = svg.unit_chart("Gains", lines, "Borrowers worked, riskiest first", "Share caught",
                           lambda v: f"{v:.0%}")
    return f'<div class="charts">{roc}{calibration}{gains}</div>'


def _plan(result: RecoveryResult) -> str:
    """Actions, cases and money; with an action table, the policies compared at the same capacities."""
    config, strategies = result.config, result.strategies
    if config.actions is None:
        labels = config.strategy_labels
        rule = (f"Each borrower gets the notebook's strategy for their risk score: above "
                f"{config.legal_threshold:.2f} → {labels[0]}; {config.settlement_threshold:.2f} to "
                f"{config.legal_threshold:.2f} → {labels[1]}; below {config.settlement_threshold:.2f} → {labels[2]}."
                if config.band_shares is None else bands_in_words(config))
    else:
        rule = (f"Each borrower gets the action with the most expected net recovery (outstanding × recovery at "
                f"their score − cost) that the teams' capacity allows; policy: {POLICIES[config.policy]}.")
    panels = [svg.Panel("Borrowers", list(strategies["Borrowers"]), display.count)]
    for column in ("Outstanding", "Expected net recovery"):
        if column in strategies:
            panels.append(svg.Panel(column, list(strategies[column]),
                                    lambda v: display.priced(v, config.currency, compact=True)))
    colours = [STRATEGY_COLOURS[i % len(STRATEGY_COLOURS)] for i in range(len(strategies))]
    chart = svg.bars("Borrowers and money per action", list(strategies["Recovery strategy"]), panels, colours)
    parts = [_p(rule), _figure(chart), _table(strategies, _formats(
        strategies.columns, money=("Outstanding", "Outstanding at risk", "Expected net recovery"),
        shares=("Share of borrowers", "Actual not-fully-recovered rate", "Actual bad-outcome rate"), decimals={"Mean risk score": 2},
        currency=config.currency), "keep")]
    if not result.policies.empty:
        gap = result.assignment.get("gap_to_lp_bound", 0.0)
        parts += ["<h3>Policies compared at the same capacities</h3>",
                  _table(result.policies, _formats(result.policies.columns, money=("Expected net recovery", "Cost"),
                                                       currency=config.currency),
                        "keep"),
                  _p("The optimised plan is exact (a linear programme)." if not gap else
                     f"The optimised plan was found with prices on this large book: it is within {gap:.4%} of the "
                     "best plan possible.", "note")]
        if "Test_Group" in result.scored:
            held = int((result.scored["Test_Group"] == "champion").sum())
            parts.append(_p(f"{held:,} borrowers (the champion group, drawn by a hash of the loan ID) keep the "
                            "notebook's thresholds; the rest follow the plan. Compare their real recoveries later "
                            "to measure what the plan adds.", "note"))
        actions = actions_frame(config.actions).rename(columns=ACTION_HEADERS)
        formats = _formats(actions.columns, money=(ACTION_HEADERS["cost"],), shares=(
            ACTION_HEADERS["recovery_at_low_risk"], ACTION_HEADERS["recovery_at_high_risk"]), currency=config.currency)
        formats[ACTION_HEADERS["capacity"]] = capacity_text
        parts += ["<h3>The action table</h3>", _table(actions, formats, "keep")]
    return _section("plan", "The recovery plan", *parts)


def _data_quality(result: RecoveryResult, source: ReportSource) -> str:
    """How the file was read, what was excluded, and what the analysis assumed."""
    parts = []
    info = source.info
    if info is not None:
        how = (f"{info.name}: {info.rows:,} rows × {info.columns} columns, read as {info.format.upper()}"
               + (f", encoding {info.encoding}" if info.encoding else "")
               + (f", separator {info.separator!r}" if info.separator else "")
               + (f", sheet {info.sheet!r}" if info.sheet else "") + ".")
        parts.append(_p(how))
    parts.append(_p(
        f"{source.excluded_rows:,} row(s) had errors and were excluded from this analysis; the problems are listed "
        "below, and the rows themselves in the excluded-rows file saved with this analysis."
        if source.excluded_rows else "No row was excluded: every row of the file was analysed.",
        "callout warn" if source.excluded_rows else ""))
    report = source.report
    if report is not None and report.missing_fields:
        parts.append(_p(_missing_fields(report.missing_fields)))
    if report is not None and report.problems:
        problems = report.to_frame()
        parts += ["<h3>Problems found in the file</h3>", _table(problems, css="any")]
    elif report is not None:
        parts.append(_p("No problems were found in the file's values."))
    if result.notes:
        parts += ["<h3>What the analysis assumed or left out</h3>", _list(list(result.notes))]
    return _section("data-quality", "Data quality", *parts)


def _missing_fields(missing: tuple[str, ...]) -> str:
    """Tutorial fields the file lacks: a list when it is the tutorial's shape, else once, what it maps to."""
    tutorial = [f.name for f in FIELDS]
    mapped = [name for name in tutorial if name not in missing]
    if len(mapped) * 2 >= len(tutorial):  # the tutorial's shape with a few fields left out: name them
        return "Not in this file (the analysis skips what needs them): " + ", ".join(missing) + "."
    maps = (f"it maps to none of the tutorial's {len(tutorial)} fields" if not mapped else
            f"it maps to {len(mapped)} of the tutorial's {len(tutorial)} fields ("
            + ", ".join(label(name) for name in mapped) + ")")
    return (f"This file has its own columns, not the tutorial's: {maps}, and the analysis uses the file's own "
            "columns for the rest. This is not a problem with the file.")


def _traceability(result: RecoveryResult, source: ReportSource) -> str:
    """The file's fingerprint, every setting and the library versions, so the figures can be traced."""
    versions = [f"Python {platform.python_version()}"] + [f"{n} {v}" for n, v in installed(LIBRARIES).items()]
    return (
        '<footer id="traceability"><h2>How these figures were made</h2>'
        f"<p>Data file: {escape(source.name)}<br>SHA-256: <code>{escape(source.sha256)}</code></p>"
        "<h3>Settings</h3>" + _table(settings_table(result.config, {
            "segment_features": result.segments.features,
            "model_features": result.risk.numeric_features + result.risk.categorical_features,
            # the file's own outcome: what the score predicts, not the tutorial's target code
            **({"target": result.risk.target_description} if _own_outcome(result) else {})}),
            css="keep settings any")
        + _p("Libraries: " + " · ".join(versions) + ".", "note")
        + _p("The same file with the same settings gives the same figures: every random step is seeded.", "note")
        + "</footer>"
    )


def _own_outcome(result: RecoveryResult) -> bool:
    """True when the score predicts the file's own outcome column rather than the tutorial's statuses."""
    outcome = result.roles.outcome if result.roles is not None else None
    return outcome is not None and not outcome.canonical


def settings_table(config: RecoveryConfig, used: dict[str, tuple[str, ...] | str] | None = None) -> pd.DataFrame:
    """Every setting of the analysis in words (the action table is shown with the plan).

    ``used`` gives the fields the run really used (segment_features, model_features): a file without
    the tutorial's fields is segmented and scored on its own, and the report names those.
    """
    rows = []
    used = used or {}
    for spec in dataclasses.fields(config):
        if spec.name == "currency" and not config.currency:
            continue  # money without a symbol, as before the setting existed
        if spec.name == "actions":
            value = "none (the notebook's thresholds)" if config.actions is None else "see the action table"
        elif spec.name in used and isinstance(used[spec.name], str):
            value = used[spec.name]
        elif spec.name in used:
            value = ", ".join(label(f) for f in used[spec.name]) or "none"
        elif spec.name == "band_shares":
            value = ("none: fixed risk-score cut-offs" if config.band_shares is None else
                     f"{config.band_shares[0]:.0%} legal notices, {config.band_shares[1]:.0%} settlement offers, "
                     "riskiest first")
        else:
            value = _setting_text(spec.name, getattr(config, spec.name))
        rows.append((SETTING_LABELS.get(spec.name, spec.name.replace("_", " ").capitalize()), value))
    return pd.DataFrame(rows, columns=["Setting", "Value"])


def _setting_text(name: str, value: object) -> str:
    """One setting's value as a person reads it."""
    if name == "haircuts":
        cuts = ", ".join(f"{loan_type} {cut:.0%}" for loan_type, cut in value)
        return f"{cuts + '; ' if cuts else ''}{DEFAULT_HAIRCUT:.0%} for any other loan type"
    if name in ("segment_features", "model_features"):
        return "the preset's fields" if value is None else ", ".join(label(f) for f in value)
    if name == "holdout":
        return f"{value:.0%}"
    if name == "roles":
        return value.words()
    if name in SETTING_WORDS and value in SETTING_WORDS[name]:
        return SETTING_WORDS[name][value]
    if name in ("flag_threshold", "legal_threshold", "settlement_threshold"):
        return display.decimal(value, 3)  # a score: three decimals say it exactly enough to repeat
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return " | ".join(str(v) for v in value)
    return str(value)


CSS = """
:root { --ink: #222; --muted: #666; --line: #ddd; --ok: #e8f5ec; --ok-line: #2e9e44; --warn: #fdecea;
  --warn-line: #d62728; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "DejaVu Sans",
  sans-serif; color: var(--ink); max-width: 1000px; margin: 0 auto; padding: 24px 28px 48px; line-height: 1.45;
  font-size: 15px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 22px; margin: 36px 0 12px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 16px; margin: 22px 0 8px; }
.lead { color: var(--muted); margin: 0; overflow-wrap: anywhere; }
.note { color: var(--muted); font-size: 13px; }
.callout { padding: 10px 14px; border-left: 4px solid; border-radius: 3px; }
.callout.ok { background: var(--ok); border-color: var(--ok-line); }
.callout.warn { background: var(--warn); border-color: var(--warn-line); font-weight: 600; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.kpi .name { color: var(--muted); font-size: 13px; }
.kpi .value { font-size: 26px; font-weight: 600; }
.kpi .detail { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 7px; text-align: left; vertical-align: top;
  overflow-wrap: break-word; }
table.any td, table.heads th { overflow-wrap: anywhere; }
th { background: #f5f5f5; font-weight: 600; }
.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
th.num { white-space: normal; }
table.settings td:first-child { width: 28%; }
code { font-size: 12px; overflow-wrap: anywhere; }
figure { margin: 10px 0 16px; }
svg.chart { width: 100%; height: auto; display: block; }
.charts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 18px; }
ul.advice li { margin-bottom: 4px; }
footer { margin-top: 40px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { margin-top: 0; }
  section, footer { break-before: page; }
  section:first-of-type { break-before: auto; }
  header + section { break-before: auto; }
  figure, .kpis, .callout, table.keep, h3 { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
  table { font-size: 8.5pt; }
  .kpi .value { font-size: 16pt; }
}
"""
