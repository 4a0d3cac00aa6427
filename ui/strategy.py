"""The Strategy page's logic: its widgets seeded from the settings, the settings built from its widgets, and
its views of the analysis computed once per analysis in this session (a rerun redraws, it does not rebuild)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.config import RecoveryConfig
from core.decide import (
    DEFAULT_ACTIONS,
    actions_frame,
    actions_from_frame,
    bands_in_words,
    haircut_table,
    history_actions,
    method_history,
    planning_refused,
)
from core.pipeline import RecoveryResult
from core.report import plan_workbook_sheets
from ui import state
from ui.render import plain

BY_SHARE, BY_CUTOFF = "By share of the book", "By risk-score cut-offs"
TIERS = ("Above the legal threshold", "Between the thresholds", "Below the settlement threshold")
RULE_KEY = f"{state.THRESHOLDS_KEY}-rule"
SHARES_KEY = f"{state.THRESHOLDS_KEY}-shares"
PLAN_ON_KEY = f"{state.PLAN_KEY}on"
BASE_KEY = f"{state.PLAN_KEY}base"
TABLE_KEY = f"{state.PLAN_KEY}table"
HAIRCUTS_KEY = f"{state.PLAN_KEY}haircuts"
OUT_OF_FOLD = "Scores are out-of-fold: no borrower was scored by a model trained on them."


# ------------------------------------------------------------------------------ bands and names


def seed_bands(config: RecoveryConfig) -> None:
    """Start the band widgets from the settings in use.

    Keyed widgets seeded from the settings: a widget whose default changed would be a new widget, and the
    next drag would be lost. state.switch_preset() forgets these keys.
    """
    st.session_state.setdefault(state.THRESHOLDS_KEY, (config.settlement_threshold, config.legal_threshold))
    for i, value in enumerate(config.strategy_labels):
        st.session_state.setdefault(f"{state.LABEL_KEY}{i}", value)
    legal_share, settle_share = config.band_shares or (0.10, 0.20)
    st.session_state.setdefault(RULE_KEY, BY_SHARE if config.band_shares else BY_CUTOFF)
    st.session_state.setdefault(SHARES_KEY, (round(legal_share * 100), round((legal_share + settle_share) * 100)))


def apply_bands(config: RecoveryConfig, shares_pct: tuple[int, int] | None, cutoffs: tuple[float, float] | None,
                labels: tuple[str, ...]) -> RecoveryConfig:
    """The settings with the bands the widgets show (by shares in % or by cut-offs), stored when they changed.

    Raises RecoveryError for settings that cannot be used (e.g. two strategies named alike).
    """
    shares = None
    if shares_pct is not None:
        legal_pct, settle_pct = shares_pct
        shares = (legal_pct / 100, max(0, settle_pct - legal_pct) / 100)
        settlement, legal = config.settlement_threshold, config.legal_threshold
    else:
        settlement, legal = cutoffs
    chosen = (settlement, legal, shares, labels)
    if chosen == (config.settlement_threshold, config.legal_threshold, config.band_shares, config.strategy_labels):
        return config
    # with cut-offs, the high-risk flag (and the Risk page's precision, recall, confusion matrix) follows
    # the point from which a borrower gets more than reminders; no st.rerun(): the rest of this run
    # already uses the new settings
    config = config.with_(settlement_threshold=settlement, legal_threshold=legal, band_shares=shares,
                          strategy_labels=labels,
                          flag_threshold=settlement if shares is None else config.flag_threshold)
    state.set_config(config)
    return config


def description(config: RecoveryConfig) -> str:
    """The page's opening words for the settings the analysis used (Markdown)."""
    if config.actions is not None:
        return ("Each borrower gets the action with the most expected net recovery that the teams' capacity "
                f"allows (see the plan below). {OUT_OF_FOLD}")
    if config.band_shares is None:
        return ("Each borrower gets the notebook's strategy for their risk score: "
                f"**above {config.legal_threshold:.2f}** → legal notices, **{config.settlement_threshold:.2f} to "
                f"{config.legal_threshold:.2f}** → settlement offers, **below {config.settlement_threshold:.2f}** → "
                f"automated reminders. {OUT_OF_FOLD}")
    return f"{plain(bands_in_words(config))} {OUT_OF_FOLD}"


# ------------------------------------------------------------------------------ plan with costs


def seed_plan(config: RecoveryConfig) -> None:
    """Start the plan's widgets from the settings in use (the action editor too, when its state is gone)."""
    st.session_state.setdefault(PLAN_ON_KEY, config.actions is not None)
    state.seed_action_table(actions_frame(config.actions or DEFAULT_ACTIONS))
    st.session_state.setdefault(f"{state.PLAN_KEY}policy", config.policy)
    st.session_state.setdefault(f"{state.PLAN_KEY}holdout", round(config.holdout * 100))
    st.session_state.setdefault(f"{state.PLAN_KEY}salt", config.holdout_salt)


def action_column_choices(config: RecoveryConfig, planning: bool) -> tuple[str | None, list[str | None] | None]:
    """The suggested action column, and the choices the column picker offers (None first: the suggestion;
    None when no picker is shown: not planning, or no column may hold actions)."""
    suggested, choices = state.history_columns()
    if not planning or not (suggested or choices):
        return suggested, None
    st.session_state.setdefault(f"{state.PLAN_KEY}action-column", config.action_column)
    return suggested, [None, *choices]


def link_actions(config: RecoveryConfig, methods: list[str]) -> None:
    """Link the default actions to the history's methods and make the linked table the settings in use.

    The editor restarts from the settings in use, so the linked table becomes the settings.
    """
    linked = history_actions(methods, DEFAULT_ACTIONS)
    state.set_config(config.with_(actions=linked))
    st.session_state[BASE_KEY] = actions_frame(linked)
    st.session_state.pop(TABLE_KEY, None)


def action_editor_base(methods: list[str]) -> pd.DataFrame:
    """The table the action editor starts from, with a method column when the history has methods."""
    if methods and "method" not in st.session_state[BASE_KEY].columns:
        st.session_state[BASE_KEY] = st.session_state[BASE_KEY].assign(method="")
    return st.session_state[BASE_KEY]


def haircut_editor_base(config: RecoveryConfig, planning: bool) -> pd.DataFrame | None:
    """The collateral haircuts per loan type to edit (None when not planning or the file has no loan types)."""
    if not planning:
        return None
    editable = haircut_table(state.frame_in_view(), config.haircuts)
    if editable is not None:
        st.session_state.setdefault(HAIRCUTS_KEY, editable)
        return st.session_state[HAIRCUTS_KEY]
    return None


def apply_plan(config: RecoveryConfig, planning: bool, edited: pd.DataFrame, policy: str, holdout_pct: int,
               salt: str, haircuts, action_column: str | None) -> RecoveryConfig:
    """The settings with the plan the widgets show, stored when they changed (raises RecoveryError)."""
    wanted = config.with_(actions=actions_from_frame(edited) if planning else None, policy=policy,
                          holdout=holdout_pct / 100, holdout_salt=salt, haircuts=haircuts,
                          action_column=action_column)
    if wanted != config:
        state.set_config(wanted)
    return wanted


# ------------------------------------------------------------------------------ views of the analysis


def shown_notes(result: RecoveryResult) -> tuple[str, ...]:
    """The analysis' notes the page shows under its description: a refused plan is said above the notes, and
    where the history cannot speak is said beside what it says."""
    learned = result.learned
    return tuple(n for n in result.notes
                 if n != planning_refused() and (learned is None or n not in learned.messages))


def strategy_chart(result: RecoveryResult):
    """Borrowers and outstanding per strategy (built once per analysis)."""
    from core.charts import analysis as charts

    return state.view("strategy-mix", state.result_key(), lambda: charts.strategy_mix(result))


def history_by_method(result: RecoveryResult) -> pd.DataFrame | None:
    """What past collections say, by method and risk band (once per analysis; None without a history)."""
    config = result.config
    return state.view("method-history", state.result_key(), lambda: method_history(
        result.scored, result.scored["Risk_Score"].to_numpy(), (config.settlement_threshold, config.legal_threshold)))


def learned_views(result: RecoveryResult):
    """The learned effects' support table and chart (once per analysis)."""
    from core.charts import analysis as charts

    def build():
        support = result.learned.support()
        return support, charts.learned_effects(support)

    return state.view("learned", state.result_key(), build)


def excel_sheets(result: RecoveryResult) -> dict[str, pd.DataFrame]:
    """The Excel download's sheets: the plan's workbook with an action table, else one sheet of borrowers."""
    if result.config.actions is not None:
        return plan_workbook_sheets(result, state.excluded_table())
    return {"Borrowers": result.table()}


def excel_about(result: RecoveryResult) -> tuple[str, int]:
    """What the Excel download will hold, in words, and its longest sheet's rows (said before it is built)."""
    borrowers = len(result.scored)
    if result.config.actions is None:
        return f"The Excel workbook holds one sheet of all {borrowers:,} analysed borrowers.", borrowers
    per_action = result.scored["Recovery_Strategy"].value_counts()
    return (f"The Excel workbook holds the plan's summary and settings, one sheet per action for the {borrowers:,} "
            "analysed borrowers, the excluded rows if any, and the action table."), int(per_action.max())
