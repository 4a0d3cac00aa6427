"""Recovery actions: cost per case, team capacity, and the share of the outstanding each recovers.

An action recovers ``recovery_at_low_risk`` of the outstanding from a borrower whose risk score is
0 and ``recovery_at_high_risk`` from one whose score is 1, linearly in between; its expected net
recovery for a borrower is outstanding × recovery(score) − cost.

An action may instead name, in an optional ``method`` column, the value of the history's action
column it corresponds to (``Legal notice`` for ``Legal Notice``) and leave its recovery figures
empty: they are then learned from the history (core.decide.learned). Typed figures still count.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd

from core.config import Action
from core.data import SEED_STRATEGIES
from core.errors import RecoveryError

COLUMNS = ("action", "cost", "capacity", "recovery_at_low_risk", "recovery_at_high_risk")
METHOD = "method"  # optional: the history's action this row stands for
NO_ACTION = "No action"


# Plausible defaults for a book like the demo (amounts in the portfolio's currency, outstanding
# typically 100,000 to 1,500,000): legal action costs court and lawyer fees but still recovers
# a fair share from the riskiest; settlement gives up a discount for a quicker, surer payment;
# reminders cost almost nothing and work on those who would mostly pay anyway; doing nothing
# still sees most low-risk borrowers pay. A team replaces these with its own figures.
DEFAULT_ACTIONS: tuple[Action, ...] = (
    Action(SEED_STRATEGIES[0], cost=5000.0, capacity=200, recovery_at_low_risk=0.85, recovery_at_high_risk=0.45),
    Action(SEED_STRATEGIES[1], cost=1500.0, capacity=1000, recovery_at_low_risk=0.90, recovery_at_high_risk=0.35),
    Action(SEED_STRATEGIES[2], cost=50.0, capacity=None, recovery_at_low_risk=0.95, recovery_at_high_risk=0.15),
    Action(NO_ACTION, cost=0.0, capacity=None, recovery_at_low_risk=0.92, recovery_at_high_risk=0.05),
)


def actions_frame(actions: tuple[Action, ...]) -> pd.DataFrame:
    """The action table as rows a user edits (capacity empty = unlimited; method only when one is named)."""
    frame = pd.DataFrame(
        [(a.name, a.cost, a.capacity, a.recovery_at_low_risk, a.recovery_at_high_risk) for a in actions],
        columns=list(COLUMNS),
    ).astype({"capacity": "Int64"})
    if any(a.method for a in actions):
        frame[METHOD] = [a.method or "" for a in actions]
    return frame


def _number(value, column: str, row: int, allow_empty: bool = False) -> float | None:
    """One cell as a number, or a RecoveryError naming the row and column."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or (
            isinstance(value, str) and not value.strip()) or value is pd.NA:
        if allow_empty:
            return None
        raise RecoveryError(f"Action table row {row}: {column} is empty: give a number.")
    try:
        number = float(str(value).strip().rstrip("%")) / (100 if str(value).strip().endswith("%") else 1)
    except ValueError:
        raise RecoveryError(f"Action table row {row}: {column} is '{value}', not a number.") from None
    if not math.isfinite(number):
        raise RecoveryError(f"Action table row {row}: {column} is '{value}', not a finite number.")
    return number


def actions_from_frame(frame: pd.DataFrame) -> tuple[Action, ...]:
    """Checked actions from a table with the COLUMNS (as edited on the page or read from CSV)."""
    frame = frame.copy()
    if METHOD in frame.columns:  # recovery figures may then be left out: they are learned
        for column in COLUMNS[3:]:
            if column not in frame.columns:
                frame[column] = None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise RecoveryError(f"The action table has no {', '.join(missing)} column(s): its columns must be "
                            f"{', '.join(COLUMNS)}.")
    actions, names = [], set()
    methods = (frame[METHOD] if METHOD in frame.columns else pd.Series([None] * len(frame), index=frame.index))
    for row, (record, method) in enumerate(zip(frame[list(COLUMNS)].itertuples(index=False), methods), start=2):
        method = None if method is None or method is pd.NA or str(method).strip() in ("", "nan") else str(method).strip()
        name = "" if record.action is None or record.action is pd.NA else str(record.action).strip()
        if not name or name == "nan":
            raise RecoveryError(f"Action table row {row}: the action has no name: name it or remove the row.")
        if name in names:
            raise RecoveryError(f"Action table row {row}: '{name}' is listed twice: give each action once.")
        names.add(name)
        cost = _number(record.cost, "cost", row)
        capacity = _number(record.capacity, "capacity", row, allow_empty=True)
        low = _number(record.recovery_at_low_risk, "recovery_at_low_risk", row, allow_empty=method is not None)
        high = _number(record.recovery_at_high_risk, "recovery_at_high_risk", row, allow_empty=method is not None)
        if (low is None) != (high is None):
            raise RecoveryError(f"Action table row {row}: give both recovery figures, or leave both empty to "
                                f"learn them from the history's '{method}'.")
        if cost < 0:
            raise RecoveryError(f"Action table row {row}: cost {cost:g} is negative: give 0 or more.")
        if capacity is not None and (capacity < 0 or capacity != int(capacity)):
            raise RecoveryError(f"Action table row {row}: capacity {capacity:g} must be a whole number of "
                                "cases, 0 or more (leave it empty for unlimited).")
        for column, share in (("recovery_at_low_risk", low), ("recovery_at_high_risk", high)):
            if share is not None and not 0 <= share <= 1:
                raise RecoveryError(f"Action table row {row}: {column} {share:g} must be a share between "
                                    "0 and 1 (0.45 or 45%).")
        actions.append(Action(name, cost, None if capacity is None else int(capacity), low, high, method))
    if not actions:
        raise RecoveryError("The action table is empty: give at least one action.")
    return tuple(actions)


def read_actions(data: bytes, name: str) -> tuple[Action, ...]:
    """Actions from a CSV file's bytes (the command line's --actions)."""
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise RecoveryError(f"{name} cannot be read as a CSV action table ({error}): save it as "
                            f"UTF-8 CSV with the columns {', '.join(COLUMNS)} (and optionally {METHOD}).") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return actions_from_frame(frame)


def expected_values(outstanding: np.ndarray, scores: np.ndarray, actions: tuple[Action, ...]) -> np.ndarray:
    """Expected net recovery of every action for every borrower: outstanding × recovery − cost."""
    money = np.nan_to_num(np.asarray(outstanding, dtype=float))
    return np.column_stack([money * a.recovery(scores) - a.cost for a in actions])
