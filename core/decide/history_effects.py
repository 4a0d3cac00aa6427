"""The decide stage on the file's own history: which column says what was done, what it achieved, and the plan's values.

A file whose resolved borrowers record the action each received (``Collection_Method``, or a
few-valued column named like a channel, method or action) and what came back (an amount recovered,
or a recovery status) teaches what each action recovers from each kind of borrower
(core.model.effects). When the action table names the history's methods, the plan is made on those
learned values instead of the typed straight lines; typed figures on a row override what the
history says (core.decide.learned).

Everything here is a pure function of its inputs: the learned effects depend on the prepared file,
the risk scores (only for the risk bands of the support table), the action column and the seed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.config import RecoveryConfig
from core.data import OUTCOME, Prepared, label
from core.decide.actions import Action
from core.decide.learned import CLOSED, LEARNED, TYPED, LearnedValues, learned_values
from core.decide.plan import RecoveryPlan
from core.errors import RecoveryError
from core.model import MIN_ROWS, STATUS_SHARE, LearnedEffects, fit_effects, key

SUGGESTED_ACTION_COLUMN = "Collection_Method"
ACTION_WORDS = ("channel", "method", "action", "treatment", "strategy")
# A column with more distinct values than this is not a list of actions.
MAX_ACTIONS = 12
RISK_EDGES = (0.2, 0.4, 0.6, 0.8)
# The share recovered when the outcome is a category that is not a recovery status: 1 good, 0 bad.
SHARE_COLUMN = "Recovered share (from the outcome)"


def _words(header: str) -> list[str]:
    """The words of a header: snake, kebab, spaces and camelCase split, lower case."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(header))
    return [w for w in re.split(r"[^0-9a-zA-Z]+", spaced.casefold()) if w]


def _few_valued(cells: pd.Series) -> bool:
    """True for a text column with 2 to MAX_ACTIONS distinct values."""
    if pd.api.types.is_numeric_dtype(cells):
        return False
    return 2 <= cells.dropna().astype("str").str.strip().replace("", np.nan).dropna().nunique() <= MAX_ACTIONS


def suggest_action_column(frame: pd.DataFrame, outcome: str | None = None) -> str | None:
    """The column saying which action each borrower received: Collection_Method, else one named like it."""
    if SUGGESTED_ACTION_COLUMN in frame.columns and _few_valued(frame[SUGGESTED_ACTION_COLUMN]):
        return SUGGESTED_ACTION_COLUMN
    for name in frame.columns:
        if name != outcome and any(w in ACTION_WORDS for w in _words(name)) and _few_valued(frame[name]):
            return str(name)
    return None


def action_choices(frame: pd.DataFrame) -> list[str]:
    """Columns that may say which action each borrower received: text with 2 to MAX_ACTIONS values."""
    return [str(c) for c in frame.columns if _few_valued(frame[c])]


def action_values(frame: pd.DataFrame, column: str | None) -> list[str]:
    """The actions a history's column holds, as written (what an action table's method may name)."""
    if column is None or column not in frame.columns:
        return []
    cells = frame[column].dropna().astype("str").str.strip()
    return sorted(set(cells[cells != ""]))


# Which of the default actions stands for which history method, by a word of the method's name.
_STANDS_FOR = {"legal": ("legal", "court", "lawyer"), "settlement": ("settle", "offer", "plan"),
               "reminders": ("call", "remind", "sms", "text", "email", "letter")}


def history_actions(methods: list[str], defaults: tuple[Action, ...]) -> tuple[Action, ...]:
    """The default action table linked to the history's methods: a default whose name shares a word with a
    method takes it and leaves its recovery figures to be learned; the others keep their typed figures."""
    linked, used = [], set()
    for action in defaults:
        words = next((w for k, w in _STANDS_FOR.items() if k in action.name.casefold()), ())
        method = next((m for m in methods if m not in used and any(w in m.casefold() for w in words)), None)
        if method is None:
            linked.append(action)
            continue
        used.add(method)
        linked.append(Action(action.name, action.cost, action.capacity, None, None, method))
    return tuple(linked)


def risk_band(scores: np.ndarray) -> np.ndarray:
    """Risk scores in fixed bands of 0.2 (the same bands whatever the strategy thresholds)."""
    edges = np.asarray(RISK_EDGES)
    lows = np.concatenate([[0.0], edges])
    highs = np.concatenate([edges, [1.0]])
    names = np.array([f"risk {lo:.1f}–{hi:.1f}" for lo, hi in zip(lows, highs)], dtype=object)
    return names[np.searchsorted(edges, np.nan_to_num(np.asarray(scores, dtype=float)), side="right")]


def _recovered_amount(frame: pd.DataFrame) -> str | None:
    """A numeric column named as an amount recovered (Amount_Recovered, recovery_amount …)."""
    for name in frame.columns:
        words = _words(name)
        if (pd.api.types.is_numeric_dtype(frame[name]) and any(w.startswith("recover") for w in words)
                and any(w in ("amount", "amt", "value", "sum", "paid") for w in words)):
            return str(name)
    return None


def outcome_for_effects(prepared: Prepared) -> tuple[pd.DataFrame, str | None, str]:
    """The rows with a column giving the share each borrower repaid, its name, and how it was read.

    An amount recovered is best (read against the outstanding); else the recovery status (fully
    recovered = 1, partially = 0.5, written off = 0); else the outcome's good value counts as 1.
    """
    df = prepared.features
    outcome = prepared.roles.outcome
    if outcome is not None and outcome.amount:
        return df, outcome.column, f"{outcome.column} against the outstanding"
    amount = _recovered_amount(df)
    if amount is not None and "Outstanding_Loan_Amount" in df.columns:
        return df, amount, f"{amount} against the outstanding"
    if OUTCOME in df.columns and df[OUTCOME].astype("str").str.strip().isin(STATUS_SHARE).any():
        return df, OUTCOME, f"{label(OUTCOME)} (fully recovered 1, partially 0.5, written off 0)"
    if outcome is None or "Outstanding_Loan_Amount" not in df.columns:
        return df, None, ""
    good = 1.0 - outcome.y  # NaN stays unknown
    owed = df["Outstanding_Loan_Amount"].to_numpy(dtype="float64", na_value=np.nan)
    return (df.assign(**{SHARE_COLUMN: good * owed}), SHARE_COLUMN,
            f"{outcome.column} (a good outcome counts as recovered, a bad one as not)")


@dataclass(frozen=True)
class HistoryEffects:
    """What the file's history teaches about each action, or why it teaches nothing."""

    effects: LearnedEffects | None
    action_column: str | None
    outcome: str  # how the share recovered was read, in words ('' without effects)
    notes: tuple[str, ...] = ()


def wants_learned(config: RecoveryConfig) -> bool:
    """True when the action table links a row to the history's methods."""
    return config.actions is not None and any(a.method for a in config.actions)


def check_history(prepared: Prepared, config: RecoveryConfig) -> None:
    """Before any fitting: a RecoveryError when the action column is not in the file, or when the action
    table leaves figures to learn from a file without actions received and their outcomes."""
    df = prepared.features
    if config.action_column is not None and config.action_column not in df.columns:
        raise RecoveryError(f"The action column '{config.action_column}' is not in the file: choose the column "
                            "saying which action each borrower received, or leave it to be suggested.")
    if not wants_learned(config) or all(a.typed for a in config.actions):
        return
    _, outcome, _ = outcome_for_effects(prepared)
    if (config.action_column or suggest_action_column(df, outcome)) is None or outcome is None:
        plan_values(df, np.zeros(len(df)), config.actions, learn_effects(prepared, np.zeros(len(df)),
                                                                          config.action_column))


def learn_effects(prepared: Prepared, scores: np.ndarray, action_column: str | None,
                  random_state: int = 42) -> HistoryEffects:
    """Each action's expected recovered share per borrower, learned from the file's resolved borrowers.

    ``action_column`` None suggests one. No action column, or no outcome, gives no effects and a
    note saying why; a chosen column that is not in the file is a RecoveryError.
    """
    df = prepared.features
    if action_column is not None and action_column not in df.columns:
        raise RecoveryError(f"The action column '{action_column}' is not in the file: choose the column saying "
                            "which action each borrower received, or leave it to be suggested.")
    frame, outcome, read_as = outcome_for_effects(prepared)
    column = action_column or suggest_action_column(df, outcome)
    if column is None:
        return HistoryEffects(None, None, "", ("The file has no column saying which action each borrower "
                                               "received (such as Collection_Method): action effects cannot be "
                                               "learned from it.",))
    if outcome is None:
        return HistoryEffects(None, column, "", (f"The file has '{column}' but no outcome to learn what each "
                                                 "action achieved: map the amount recovered or the recovery "
                                                 "status.",))
    fields = tuple(c for c in (*prepared.roles.numeric, *prepared.roles.categorical) if c not in (column, outcome))
    ids = next((frame[c] for c in ("Loan_ID", "Borrower_ID") if c in frame.columns), None)
    effects = fit_effects(frame, column, outcome, ids=ids, fields=fields, bands=risk_band(scores),
                          random_state=random_state)
    thin = [m for m in effects.methods if effects.rows[m] < MIN_ROWS]
    notes = (f"Action effects learned from {sum(effects.rows.values()):,} resolved borrowers: what came back "
             f"({read_as}) under each value of '{column}', adjusted for who received it.",)
    if thin:
        notes += (f"{', '.join(thin)} has fewer than {MIN_ROWS} borrowers in the history: its effect is not "
                  "learned.",)
    return HistoryEffects(effects, column, read_as, notes)


@dataclass(frozen=True)
class LearnedPlan:
    """The plan's values learned from history: the effects, each borrower's values, and what to show."""

    history: HistoryEffects
    values: LearnedValues
    actions: tuple[Action, ...]

    @property
    def messages(self) -> tuple[str, ...]:
        """The notices a user must read: where the history cannot speak, and which figures are typed."""
        return self.values.messages

    def support(self) -> pd.DataFrame:
        """Per action (as the table names it) and risk band: learned share, its interval, the history behind it."""
        table = self.history.effects.support
        named = [(a.name, a.method) for a in self.actions if a.method]
        by_method = {}
        for name, method in named:
            by_method.setdefault(next(m for m in self.history.effects.methods if key(m) == key(method)), name)
        shown = table[table["Action"].isin(by_method)].copy()
        shown.insert(0, "History's method", shown["Action"])
        shown["Action"] = shown["Action"].map(by_method)
        shown = shown.rename(columns={"Band": "Risk band", "Borrowers": "Borrowers in the history"})
        return shown[["Action", "History's method", "Risk band", "Borrowers in the history",
                      "History rows with this action", "Share learnable", "Learned share", "Doubly robust share",
                      "95% interval from", "95% interval to"]].reset_index(drop=True)

    def sources(self) -> pd.DataFrame:
        """Per action: how many borrowers' values are learned, typed, or not offered."""
        source = self.values.source
        return pd.DataFrame({
            "Action": [a.name for a in self.actions],
            "Learned from history": (source == LEARNED).sum(axis=0),
            "Your typed figures": (source == TYPED).sum(axis=0),
            "Not offered": (source == CLOSED).sum(axis=0),
        })


def typed_notes(actions: tuple[Action, ...]) -> tuple[str, ...]:
    """One notice per method row whose typed figures override what the history says."""
    return tuple(f"'{a.name}': your typed recovery figures are used for every borrower; clear them to plan "
                 f"it on what the history says about {a.method}." for a in actions if a.method and a.typed)


def plan_values(df: pd.DataFrame, scores: np.ndarray, actions: tuple[Action, ...],
                history: HistoryEffects) -> LearnedPlan | None:
    """The plan's per-borrower values on the learned effects (None when there are none: typed figures only).

    A method row left without figures and no history to learn them from is a RecoveryError.
    """
    if history.effects is None:
        untyped = [a for a in actions if not a.typed]
        if untyped:
            why = history.notes[0] if history.notes else "There is no history to learn from."
            raise RecoveryError(f"'{untyped[0].name}' has no recovery figures to learn: {why} Type its figures "
                                "in the action table, or load a file with the actions received and their outcomes.")
        return None
    values = learned_values(df, scores, actions, history.effects)
    values = LearnedValues(values.values, values.shares, values.spread, values.source,
                           values.messages + typed_notes(actions))
    return LearnedPlan(history, values, actions)


def unvalued_notes(plan: RecoveryPlan) -> tuple[str, ...]:
    """Where a rule (the champion group's, or a compared policy) gives an action the history cannot value."""
    notes = []
    value = plan.expected_net_recovery
    if value is not None and plan.test_group is not None:
        held = int(np.sum(np.isnan(value) & (plan.test_group == "champion")))
        if held:
            notes.append(f"{held:,} champion-group borrowers get, on the notebook's rule, an action the history "
                         "cannot value for them: their Expected_Net_Recovery is left empty.")
    if not plan.policies.empty:
        unvalued = plan.policies.loc[plan.policies["Expected net recovery"].isna(), "Policy"].tolist()
        if unvalued:
            notes.append(f"{', '.join(unvalued)} would give some borrowers an action the history cannot value "
                         "for them, so their expected net recovery is left empty in the comparison.")
    return tuple(notes)
