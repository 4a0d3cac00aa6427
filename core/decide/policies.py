"""Ways to give each borrower an action within the same capacities, and how they compare.

* optimised: the exact value-maximising assignment (core.decide.optimise);
* notebook thresholds: the notebook's score bands; a band over its action's capacity passes its
  lowest scores down to the next band;
* days past due: the most overdue borrowers take the most intensive actions, in turn;
* escalate all: the highest scores take the most intensive actions, in turn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.decide.actions import NO_ACTION, Action
from core.decide.optimise import assign, solve, total
from core.errors import RecoveryError

POLICIES = {
    "optimised": "Optimised (most expected net recovery)",
    "thresholds": "Notebook thresholds",
    "days_past_due": "Most overdue first",
    "escalate_all": "Escalate everyone",
    # not a policy to choose: the plan each borrower got, its champion group kept on the thresholds
    "assigned": "The plan as assigned (optimised; champion group on the notebook's thresholds)",
}
ASSIGNED = POLICIES["assigned"]


def _ladder(actions: tuple[Action, ...]) -> list[int]:
    """Actions from the most to the least intensive (by cost), 'No action' last."""
    order = sorted(range(len(actions)), key=lambda a: (actions[a].name == NO_ACTION, -actions[a].cost, a))
    return order


def fill_in_order(order: np.ndarray, ladder: list[int], actions: tuple[Action, ...], n: int) -> np.ndarray:
    """Borrowers in ``order`` take the ladder's actions in turn, each up to its capacity."""
    choice = np.full(n, -1)
    start = 0
    for a in ladder:
        cap = actions[a].capacity
        stop = len(order) if cap is None else min(len(order), start + cap)
        choice[order[start:stop]] = a
        start = stop
    if start < len(order):
        raise RecoveryError("The capacities do not cover every borrower: leave one action unlimited.")
    return choice


def by_thresholds(
    scores: np.ndarray, bands: tuple[float, float], labels: tuple[str, str, str], actions: tuple[Action, ...]
) -> np.ndarray:
    """The notebook's bands (> legal, ≥ settlement, below), each band within its action's capacity."""
    index = {a.name: i for i, a in enumerate(actions)}
    missing = [name for name in labels if name not in index]
    if missing:
        raise RecoveryError(
            f"The notebook's thresholds need the action(s) {', '.join(repr(m) for m in missing)} in the "
            "action table: add them, or rename the strategies to match.")
    legal, settlement = bands[1], bands[0]
    band = np.where(scores > legal, 0, np.where(scores >= settlement, 1, 2))
    choice = np.full(len(scores), -1)
    waiting = np.array([], dtype=int)
    for tier, name in enumerate(labels):
        a = index[name]
        rows = np.concatenate([waiting, np.flatnonzero(band == tier)])
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        cap = actions[a].capacity
        keep = rows if cap is None else rows[:cap]
        choice[keep] = a
        waiting = rows[len(keep):]
    if len(waiting):  # the last band was full too: the rest follow the ladder below it
        rest = [a for a in _ladder(actions) if a not in {index[name] for name in labels}]
        choice[waiting] = fill_in_order(waiting, rest, actions, len(scores))[waiting]
    return choice


@dataclass(frozen=True)
class Plan:
    """One policy's action per borrower and what it is expected to bring."""

    policy: str
    choice: np.ndarray
    net_recovery: float
    cost: float
    gap: float = 0.0  # share of the LP bound the optimiser may have missed (0: exact)


def plan(policy: str, values: np.ndarray, actions: tuple[Action, ...], scores: np.ndarray,
         days_past_due: np.ndarray | None, bands: tuple[float, float], labels: tuple[str, str, str]) -> Plan:
    """The plan one policy makes, valued with ``values`` (n × actions)."""
    n = len(scores)
    gap = 0.0
    if policy == "optimised":
        solved = solve(values, [a.capacity for a in actions])
        choice, gap = solved.choice, solved.gap
    elif policy == "thresholds":
        choice = by_thresholds(scores, bands, labels, actions)
    elif policy == "days_past_due":
        if days_past_due is None:
            raise RecoveryError("The most-overdue-first policy needs a Days_Past_Due column.")
        order = np.lexsort((-scores, -np.nan_to_num(days_past_due, nan=-1)))
        choice = fill_in_order(order, _ladder(actions), actions, n)
    elif policy == "escalate_all":
        choice = fill_in_order(np.argsort(-scores, kind="stable"), _ladder(actions), actions, n)
    else:
        raise RecoveryError(f"Unknown policy '{policy}': choose one of "
                            f"{', '.join(p for p in POLICIES if p != 'assigned')}.")
    costs = np.array([a.cost for a in actions])
    return Plan(policy, choice, total(values, choice), float(costs[choice].sum()), gap)


def compare(plans: list[Plan], actions: tuple[Action, ...]) -> pd.DataFrame:
    """Policies side by side: expected net recovery, cost, and cases per action."""
    rows = []
    for p in plans:
        counts = np.bincount(p.choice, minlength=len(actions))
        rows.append({"Policy": POLICIES[p.policy], "Expected net recovery": p.net_recovery,
                     "Cost": p.cost, **{a.name: int(c) for a, c in zip(actions, counts)}})
    return pd.DataFrame(rows)


def frontier(values: np.ndarray, actions: tuple[Action, ...], steps: int = 12) -> pd.DataFrame:
    """Optimised expected net recovery as the scarcest action's capacity grows from 0 to 3×."""
    limited = [a for a in range(len(actions)) if actions[a].capacity is not None]
    if not limited:
        return pd.DataFrame(columns=["action", "capacity", "expected_net_recovery"])
    scarce = min(limited, key=lambda a: actions[a].capacity)
    top = max(3 * actions[scarce].capacity, 10)
    rows = []
    for cap in np.unique(np.linspace(0, top, steps).round().astype(int)):
        caps = [a.capacity for a in actions]
        caps[scarce] = int(cap)
        rows.append({"action": actions[scarce].name, "capacity": int(cap),
                     "expected_net_recovery": total(values, assign(values, caps))})
    return pd.DataFrame(rows)


def champion_group(ids: pd.Series, share: float, salt: str) -> np.ndarray:
    """True for the borrowers held out on the notebook's rule: a fixed hash of ID and salt."""
    if not 0 <= share <= 1:
        raise RecoveryError(f"The holdout share {share} must be between 0 and 1 (0.1 = 10%).")
    keyed = ids.astype("str").fillna("") + "|" + salt
    hashed = pd.util.hash_pandas_object(keyed, index=False).to_numpy()
    return (hashed % 10_000) < round(share * 10_000)
