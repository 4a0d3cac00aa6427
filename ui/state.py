"""What the session has loaded and chosen, and the engine's stages cached on exactly their inputs.

Uploaded bytes and everything derived from them live in this session only, in
st.session_state, keyed by a digest of the raw bytes computed once per upload. Each stage
(load, prepare, segment, score, decide) is cached on the upload's digest plus the settings of
that stage and the stages before it (RecoveryConfig.stage_key), so moving a threshold reruns
only the decide stage and changing k only the segments (and what depends on them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import pandas as pd
import streamlit as st

from core import pipeline
from core.config import RecoveryConfig
from core.data import EXACT_DUPLICATE, REPEATED_ID, Portfolio, Roles, load_portfolio, sheet_names
from core.decide import (
    HistoryEffects,
    action_choices,
    action_values,
    capacity_frontier,
    suggest_action_column,
    wants_learned,
)
from core.errors import RecoveryError
from core.model import choose_k
from core.pipeline import Prepared, RecoveryResult, Scored, SegmentRun
from core.progress import Progress
from core.report import ReportSource

SAMPLE_PATH = Path(__file__).resolve().parent.parent / "sample_data" / "demo_portfolio.csv"
SAMPLE_NAME = "Demo portfolio (bundled sample)"
# Results kept per stage; a few let the user switch back and forth without waiting.
KEEP = 4
T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """The file the session works on."""

    name: str
    data: bytes
    is_sample: bool
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", hashlib.sha256(self.data).hexdigest())


@dataclass(frozen=True)
class FileChoices:
    """How the user asked the loaded file to be read: every choice that depends on the file, in one place.

    A new file starts from ``FileChoices()``; a new sheet or header row forgets the column mapping
    chosen for the old one (``FileChoices.choose`` holds those rules), and the cache keys derive from here.
    """

    mapping: tuple[tuple[str, str], ...] | None = None  # None: the mapping detected from the headers
    sheet: str | None = None
    keep_repeated_ids: bool = False
    header_row: int | None = None
    exclude_invalid: bool = False

    def choose(self, **changes) -> FileChoices:
        """These choices with some changed; a new sheet or header row reads the headers afresh."""
        if "mapping" in changes and changes["mapping"] is not None:
            changes["mapping"] = tuple(sorted(dict(changes["mapping"]).items()))
        if "sheet" in changes and changes["sheet"] != self.sheet:
            changes.setdefault("header_row", None)
            changes.setdefault("mapping", None)
        if "header_row" in changes and changes["header_row"] != self.header_row:
            changes.setdefault("mapping", None)
        return replace(self, **changes)

    @property
    def mapping_dict(self) -> dict[str, str] | None:
        """The chosen mapping as load_portfolio takes it."""
        return None if self.mapping is None else dict(self.mapping)

    def file_key(self) -> tuple:
        """What, beside the bytes, identifies the loaded portfolio."""
        return (self.mapping, self.sheet, self.keep_repeated_ids, self.header_row)


@dataclass(frozen=True)
class Refused:
    """Why a file was refused, kept in place of what it would have given: the message alone, not the
    error, whose traceback would keep the refused file's decoded text alive in the session."""

    message: str


CHOICES = "file_choices"


def choices() -> FileChoices:
    """How the loaded file is read, as the user chose."""
    return st.session_state.setdefault(CHOICES, FileChoices())


def choose(**changes) -> None:
    """Change how the file is read (pages never write these session keys themselves)."""
    st.session_state[CHOICES] = choices().choose(**changes)


def init() -> None:
    """Start every new session with the bundled sample and the recommended method."""
    if "source" not in st.session_state:
        use_sample()
    st.session_state.setdefault("config", RecoveryConfig())


def use_sample() -> None:
    """Load the bundled demo portfolio."""
    set_source(Source(SAMPLE_NAME, SAMPLE_PATH.read_bytes(), True))


SESSION_MODEL = " (this session)"  # the name's end for a model trained on the loaded file
NOTICE = "state-notice"  # what a change of file or preset reset, said once on the next page


def set_source(source: Source) -> None:
    """Switch to a new file, forgetting choices and results of the previous one (and saying which)."""
    previous = st.session_state.get("source")
    st.session_state["source"] = source
    st.session_state[CHOICES] = FileChoices()
    st.session_state["stages"] = {}
    # roles name this file's columns: a new file starts from the suggestion
    if "config" in st.session_state:
        st.session_state["config"] = st.session_state["config"].with_(roles=Roles())
    if previous is None or previous.digest == source.digest:
        return
    reset = ["the column mapping and roles", "the choices about invalid rows"]
    # the new borrowers' scores belong to the model and file chosen before: never shown for this one
    if st.session_state.pop("new_file", None) is not None:
        reset.append("the new borrowers scored on the Score page")
    st.session_state.pop("new_upload", None)
    st.session_state.pop("new_exclude_invalid", None)
    chosen = st.session_state.get("scoring_model")
    if chosen is not None and chosen.name.endswith(SESSION_MODEL):
        del st.session_state["scoring_model"]
        reset.append(f"the model trained on {previous.name}")
    kept = ["the method, bands and action table (capacities included)"]
    if config().currency:
        kept.append(f"the currency {config().currency}")
    if "scoring_model" in st.session_state:
        kept.append(f"the uploaded saved model {st.session_state['scoring_model'].name}")
    st.session_state[NOTICE] = (f"New file {source.name}: reset {', '.join(reset)}; kept {', '.join(kept)}.")


def notice() -> str | None:
    """What the last change of file or preset reset and kept, once (None when nothing to say)."""
    return st.session_state.pop(NOTICE, None)


def source() -> Source:
    """The loaded file."""
    return st.session_state["source"]


def config() -> RecoveryConfig:
    """The current settings."""
    return st.session_state["config"]


def set_config(new: RecoveryConfig) -> None:
    """Store new settings (already checked by RecoveryConfig.with_)."""
    st.session_state["config"] = new


THRESHOLDS_KEY = "strategy-thresholds"
LABEL_KEY = "strategy-label-"
PLAN_KEY = "plan-"


def seed_action_table(settings: pd.DataFrame) -> None:
    """Start the action editor from the settings in use whenever its own state is gone.

    Streamlit forgets a widget's edits while another page is shown; starting it again from the
    defaults would put an edited capacity back without a word, so it starts from the settings.
    """
    if f"{PLAN_KEY}table" not in st.session_state:
        st.session_state[f"{PLAN_KEY}base"] = settings


def switch_preset(name: str) -> None:
    """Start over from a preset's settings, forgetting the Strategy page's widgets (and saying so)."""
    if config().actions is not None:
        st.session_state[NOTICE] = ("Method switched: the Strategy page's bands, strategy names and action table "
                                    "(costs and capacities) are back to the preset's defaults, and planning is off.")
    set_config(RecoveryConfig.named(name).with_(currency=config().currency))  # the lender's money stays theirs
    for key in [k for k in st.session_state if str(k).startswith((THRESHOLDS_KEY, LABEL_KEY, PLAN_KEY))]:
        del st.session_state[key]


def cached(stage: str, key: tuple, compute: Callable[[], T]) -> T:
    """The stage's result for ``key`` from this session's cache, computed on a miss."""
    store = st.session_state.setdefault("stages", {}).setdefault(stage, OrderedDict())
    if key in store:
        store.move_to_end(key)
        return store[key]
    value = compute()
    store[key] = value
    while len(store) > KEEP:
        store.popitem(last=False)
    return value


def with_progress(title: str, work: Callable[[Progress], T]) -> T:
    """Run long engine work behind a status box with named steps and a progress bar."""
    with st.status(title, expanded=True) as status:
        bar = st.progress(0.0, text="Starting…")
        started = time.perf_counter()

        def report(step: str, done: float) -> None:
            elapsed = time.perf_counter() - started
            bar.progress(min(max(done, 0.0), 1.0), text=f"{step} · {elapsed:.0f} s so far")

        try:
            value = work(report)
        except Exception:
            status.update(label=f"{title}: stopped", state="error", expanded=False)
            raise
        status.update(label=f"{title}: done in {time.perf_counter() - started:.1f} s",
                      state="complete", expanded=False)
    return value


def _file_key() -> tuple:
    """What identifies the loaded portfolio: the upload's digest, mapping, sheet and repeated-ID choice."""
    return (source().digest, *choices().file_key())


def _rows_key() -> tuple:
    """What identifies the rows the analysis takes."""
    return (*_file_key(), choices().exclude_invalid)


def sheets() -> tuple[str, ...]:
    """Worksheets of the loaded workbook; () for CSV files."""
    s = source()
    return cached("sheets", (s.digest,), lambda: sheet_names(s.data))


def portfolio() -> Portfolio:
    """The loaded, mapped and validated portfolio (raises RecoveryError for a bad file)."""
    s, chosen = source(), choices()

    def load() -> Portfolio | Refused:
        try:
            with st.spinner("Reading the file…"):
                return load_portfolio(s.data, s.name, chosen.mapping_dict, chosen.sheet,
                                      keep_repeated_ids=chosen.keep_repeated_ids, header_row=chosen.header_row)
        except RecoveryError as refusal:
            return Refused(str(refusal))  # remembered for this upload: a page change must not read it again

    loaded = cached("load", _file_key(), load)
    if isinstance(loaded, Refused):
        raise RecoveryError(loaded.message)  # a fresh error each time, not one whose traceback keeps growing
    return loaded


def rows_in_view(portfolio: Portfolio, exclude: bool) -> pd.DataFrame:
    """The rows pages show: without the invalid ones once the user has excluded them."""
    return portfolio.valid_rows() if exclude else portfolio.frame


def _prepare_key() -> tuple:
    return (*_rows_key(), config().stage_key("prepare"))


def awaiting_decision(loaded: Portfolio) -> str | None:
    """What the Data page asks the user to decide before the analysis can run (None when nothing)."""
    if loaded.report.ok or choices().exclude_invalid:
        return None
    repeated = any(p.problem in (REPEATED_ID, EXACT_DUPLICATE) for p in loaded.report.errors())
    return (f"{len(loaded.report.invalid_rows):,} row(s) have errors and await your decision on the Data page"
            + (" (repeated Loan IDs: keep every row as its own case, or treat the repeats as invalid)"
               if repeated else " (exclude the invalid rows, or fix the file and upload it again)"))


def prepared() -> Prepared:
    """The rows to analyse, checked, typed and given their roles (raises RecoveryError)."""
    exclude, loaded, roles = choices().exclude_invalid, portfolio(), config().roles
    waiting = awaiting_decision(loaded)
    if waiting:  # segments, scores and plans need unique, valid rows: say where to decide, in words
        raise RecoveryError(f"{waiting}. Segments, Risk and Strategy need that decision; the Data and Explore "
                            "pages show the file as read meanwhile.")
    return cached("prepare", _prepare_key(), lambda: pipeline.prepare_portfolio(loaded, roles, exclude))


def prepared_as_read() -> Prepared:
    """Every row as read, typed and given their roles, also while invalid rows await a decision (Explore's charts)."""
    loaded, roles = portfolio(), config().roles
    if awaiting_decision(loaded) is None:
        return prepared()
    # charts need no unique IDs: every row as read, the errors set aside until the user decides
    as_read = replace(loaded, report=replace(loaded.report, problems=loaded.report.warnings(), invalid_rows=()))
    return cached("prepare-as-read", (*_file_key(), config().stage_key("prepare")),
                   lambda: pipeline.prepare_portfolio(as_read, roles, False))


def _segment_key() -> tuple:
    return (*_prepare_key(), config().stage_key("segment"))


def segments() -> SegmentRun:
    """The borrower segments for the current segment settings."""
    c = config()
    return cached("segment", _segment_key(), lambda: with_progress(
        "Forming borrower segments", lambda report: pipeline.segment(prepared(), c, report)))


def _needs_segments() -> bool:
    """Whether scoring learns the segment flag (kept per file and target: it reads the whole outcome)."""
    c = config()
    return cached("needs-segments", (*_prepare_key(), c.target),
                   lambda: pipeline.score_needs_segments(prepared(), c))


def _score_key() -> tuple:
    return (*_prepare_key(), config().stage_key("score"), _segment_key() if _needs_segments() else None)


def scored() -> Scored:
    """Every borrower's out-of-fold score and reasons for the current score settings."""
    c = config()
    needs = _needs_segments()

    def work(report: Progress) -> Scored:
        return pipeline.score(prepared(), c, segments() if needs else None, report)

    return cached("score", _score_key(), lambda: with_progress("Scoring every borrower", work))


def effects() -> HistoryEffects:
    """What each action achieved, learned from the file's history: kept apart from the decide stage, so
    moving a threshold or a capacity never refits it."""
    c = config()
    key = (_score_key(), c.action_column, c.random_state)
    return cached("effects", key, lambda: with_progress(
        "Learning what each action achieves from the file's history", lambda report: pipeline.effects(
            prepared(), scored(), c)))


def result_key() -> tuple:
    """What identifies the analysis with the current settings (what a page's views of it are kept on)."""
    return _score_key(), _segment_key(), config().stage_key("decide")


def result() -> RecoveryResult:
    """The analysis with the current settings: only the stages whose settings changed rerun."""
    c = config()
    found = cached("decide", result_key(), lambda: pipeline.decide(
        prepared(), segments(), scored(), c, effects() if wants_learned(c) else None))
    if found.config.currency == c.currency:
        return found
    # a display setting reruns no stage, but the result's report and workbook must show the one chosen now
    return dataclasses.replace(found, config=found.config.with_(currency=c.currency))


def view(name: str, key: tuple, compute: Callable[[], T]) -> T:
    """A page's view (a chart, a table) of the loaded file, computed once per ``key`` in this session.

    Reruns of a page redraw its views from here instead of rebuilding them from 100,000 rows; ``key``
    must hold everything the view depends on (``result_key()`` for views of the analysis).
    """
    return cached(f"view-{name}", key, compute)


def file_view_key() -> tuple:
    """What identifies a view of the rows as typed and given their roles (Explore's charts)."""
    return _prepare_key()


def history_columns() -> tuple[str | None, list[str]]:
    """The column suggested as the history's actions and every column that may be one (kept per file)."""
    return view("history-columns", _rows_key(), lambda: (
        suggest_action_column(frame_in_view()), action_choices(frame_in_view())))


def history_methods(column: str | None) -> list[str]:
    """The actions the history's column holds, as written (kept per file and column)."""
    def find() -> list[str]:
        frame = frame_in_view()
        return action_values(frame[[column]].drop_duplicates() if column in frame.columns else frame, column)

    return view("history-methods", (*_rows_key(), column), find)


def frontier() -> pd.DataFrame:
    """Expected net recovery as the scarcest action's capacity grows (run when the user asks)."""
    c = config()
    key = (_score_key(), c.stage_key("decide"))
    learned = result().learned
    return cached("frontier", key, lambda: with_progress(
        "Planning at other capacities", lambda report: capacity_frontier(
            prepared().features, scored().scores, c, None if learned is None else learned.values.values)))


def frontier_ready() -> bool:
    """True when the capacity curve for the current settings has been computed already."""
    key = (_score_key(), config().stage_key("decide"))
    return key in st.session_state.get("stages", {}).get("frontier", {})


def model_comparison() -> pd.DataFrame:
    """The three candidate models compared on this file (run when the user asks)."""
    c = config()
    needs = _needs_segments()
    return cached("compare", _score_key(), lambda: with_progress(
        "Comparing three models", lambda report: pipeline.compare(
            prepared(), c, segments() if needs else None, report)))


def model_comparison_ready() -> bool:
    """True when the comparison for the current settings has been computed already."""
    return _score_key() in st.session_state.get("stages", {}).get("compare", {})


def frame_in_view() -> pd.DataFrame:
    """The loaded rows the Explore page shows (raises RecoveryError for a bad file)."""
    return rows_in_view(portfolio(), choices().exclude_invalid)


def features_in_view() -> pd.DataFrame:
    """The rows typed for learning (numbers read from every column) when they can be analysed, else as loaded."""
    try:
        return prepared().features
    except RecoveryError:
        return frame_in_view()


def excluded_table() -> pd.DataFrame | None:
    """The invalid rows the analysis leaves out, as the file had them (None when none are)."""
    if not choices().exclude_invalid:
        return None
    return portfolio().invalid_rows()


def excluded_rows() -> int:
    """How many invalid rows the analysis leaves out."""
    if not choices().exclude_invalid:
        return 0
    return len(portfolio().report.invalid_rows)


def report_source() -> ReportSource:
    """The loaded file as the stakeholder report names it: name, SHA-256, how it was read, what was left out."""
    s, loaded = source(), portfolio()
    return ReportSource(s.name, s.digest, loaded.info, loaded.report, excluded_rows())


def k_diagnostics() -> pd.DataFrame:
    """Silhouette and inertia for k = 2..8 on the current segmentation fields."""
    c = config()
    key = (*_prepare_key(), c.segment_features, c.random_state)

    def work(report: Progress) -> pd.DataFrame:
        frame = prepared().features
        report("Trying k = 2 … 8", 0.0)
        return choose_k(frame, pipeline.segment_fields(prepared(), c)[0], random_state=c.random_state)

    return cached("choose_k", key, lambda: with_progress("Trying k = 2 … 8", work))


def k_diagnostics_ready() -> bool:
    """True when the k diagnostics for the current fields have been computed already."""
    c = config()
    key = (*_prepare_key(), c.segment_features, c.random_state)
    return key in st.session_state.get("stages", {}).get("choose_k", {})


def cached_already(stage: str, key: tuple) -> bool:
    """True when ``stage``'s result for ``key`` is in this session's cache (nothing is computed)."""
    return key in st.session_state.get("stages", {}).get(stage, {})
