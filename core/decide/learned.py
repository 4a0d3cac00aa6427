"""The action table on learned effects: each borrower's expected net recovery per action, for the optimiser.

An action row that names a ``method`` (the history's value it stands for, matched ignoring case
and spaces) takes its recovery share per borrower from the learned effects; a row without one
keeps the team's typed straight line by risk score. Typed figures on a method row override what
the history says, for every borrower (``typed="override"``, the default: the team's own figures
are a decision, not a guess to be corrected). A method row left without figures takes the learned
values; where the history gave its method no chance for a borrower the learned value cannot be
trusted, and the action is not offered to them. With ``typed="fallback"`` the typed figures on a
method row are used only where the history cannot speak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.decide.actions import Action
from core.errors import RecoveryError
from core.model import LearnedEffects, key

# The value of an action a borrower may not be given: far below any real amount, so the exact
# assignment never picks it while another action is open, yet finite for the LP solver.
NOT_OFFERED = -1e15
LEARNED, TYPED, CLOSED = "learned", "typed", "not offered"


@dataclass(frozen=True)
class LearnedValues:
    """Per borrower and action: expected share, its spread, where it came from, and the net value."""

    values: np.ndarray  # n × actions: outstanding × share − cost (NOT_OFFERED where closed)
    shares: np.ndarray  # n × actions: expected recovered share (NaN where closed)
    spread: np.ndarray  # n × actions: spread between the fold models (0 for typed figures)
    source: np.ndarray  # n × actions: LEARNED, TYPED or CLOSED
    messages: tuple[str, ...]  # one plain-words notice per action the history cannot speak for


def match_methods(actions: tuple[Action, ...], effects: LearnedEffects) -> dict[int, int]:
    """Action index → index of the history's method it names; a RecoveryError for a name not found."""
    known = {key(m): j for j, m in enumerate(effects.methods)}
    matched = {}
    for i, action in enumerate(actions):
        if action.method is None:
            continue
        j = known.get(key(action.method))
        if j is None:
            raise RecoveryError(
                f"Action table row {i + 2}: method '{action.method}' is not an action in the history "
                f"({', '.join(effects.methods)}): spell it as the history does, or clear the method.")
        matched[i] = j
    return matched


def learned_values(df: pd.DataFrame, scores: np.ndarray, actions: tuple[Action, ...], effects: LearnedEffects,
                   typed: str = "override", workers: int = 1) -> LearnedValues:
    """Every borrower's expected net recovery under every action, learned where the history can say it."""
    if typed not in ("fallback", "override"):
        raise RecoveryError(f"Unknown use of typed figures '{typed}': choose fallback or override.")
    if "Outstanding_Loan_Amount" not in df.columns:
        raise RecoveryError("Planning needs the outstanding amount: map a column to Outstanding_Loan_Amount.")
    outstanding = np.nan_to_num(df["Outstanding_Loan_Amount"].to_numpy(dtype="float64", na_value=np.nan))
    matched = match_methods(actions, effects)
    n, k = len(df), len(actions)
    shares = np.full((n, k), np.nan)
    spread = np.zeros((n, k))
    source = np.full((n, k), CLOSED, dtype=object)
    if matched:
        learned, fold_spread = effects.predict_with_spread(df, workers)
        open_ = effects.learnable(df, workers)
    for i, action in enumerate(actions):
        j = matched.get(i)
        use_learned = j is not None and not (action.typed and typed == "override")
        if use_learned:
            here = open_[:, j]
            shares[here, i], spread[here, i], source[here, i] = learned[here, j], fold_spread[here, j], LEARNED
            rest = ~here
        else:
            rest = np.ones(n, dtype=bool)
        if action.typed:
            shares[rest, i] = action.recovery(np.asarray(scores, dtype=float)[rest])
            source[rest, i] = TYPED
    costs = np.array([a.cost for a in actions])
    values = np.where(source == CLOSED, NOT_OFFERED, outstanding[:, None] * np.nan_to_num(shares) - costs)
    unlimited = [i for i, a in enumerate(actions) if a.capacity is None]
    stuck = int(np.sum(np.all(source[:, unlimited] == CLOSED, axis=1))) if unlimited else 0
    if stuck:
        names = ", ".join(f"'{actions[i].name}'" for i in unlimited)
        raise RecoveryError(
            f"{stuck:,} borrowers have no unlimited action the plan may give them ({names} cannot be learned "
            "for them): type recovery figures for an unlimited action, such as 'No action'.")
    messages = []
    if matched:
        by_method = {g.method: g for g in effects.overlap_gaps(df, open_)}
        for i, j in matched.items():
            gap = by_method.get(effects.methods[j])
            if gap is not None and not (actions[i].typed and typed == "override"):
                messages.append(f"'{actions[i].name}': " + gap.message(fallback=actions[i].typed,
                                                                       override=typed == "override"))
    return LearnedValues(values, shares, spread, source, tuple(messages))


def borrower_values(learned: LearnedValues, row: int, outstanding: float, actions: tuple[Action, ...],
                    chosen: str | None = None) -> pd.DataFrame:
    """Why each action scores what it does for one borrower: share, its source and spread, cost, net.

    ``chosen``: the action the plan gave them, marked in a Chosen column.
    """
    table = pd.DataFrame({
        "Action": [a.name for a in actions],
        "Expected share recovered": learned.shares[row],
        "Spread between fold models": learned.spread[row],
        "From": learned.source[row],
        "Expected recovery": outstanding * np.nan_to_num(learned.shares[row]),
        "Cost": [a.cost for a in actions],
        "Expected net recovery": np.where(learned.source[row] == CLOSED, np.nan, learned.values[row]),
    })
    if chosen is not None:
        table["Chosen"] = table["Action"] == chosen
    return table.sort_values("Expected net recovery", ascending=False, kind="stable", na_position="last"
                             ).reset_index(drop=True)
