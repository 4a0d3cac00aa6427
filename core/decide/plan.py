"""The recovery plan of the decide stage: an action per borrower, its expected value, and the policies compared."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from core.config import DEFAULT_HAIRCUT, RecoveryConfig
from core.decide.actions import Action, expected_values
from core.decide.bands import by_share
from core.decide.exposure import has_exposure, planning_refused
from core.decide.learned import NOT_OFFERED
from core.decide.optimise import solve, total
from core.decide.policies import Plan, by_thresholds, champion_group, compare, frontier, plan
from core.display import capacity_text

CHAMPION, CHALLENGER = "champion", "challenger"


def expected_loss(df: pd.DataFrame, scores: np.ndarray, config: RecoveryConfig) -> np.ndarray | None:
    """score × outstanding × (1 − collateral coverage after the haircut), where the fields exist."""
    if "Collateral_Value" not in df.columns or "Outstanding_Loan_Amount" not in df.columns:
        return None
    cuts = dict(config.haircuts)
    types = df["Loan_Type"].astype("str") if "Loan_Type" in df.columns else pd.Series("", index=df.index)
    codes, kinds = pd.factorize(types)  # each loan type looked up once, not once per borrower
    per_kind = np.array([cuts.get(t, DEFAULT_HAIRCUT) for t in kinds] + [DEFAULT_HAIRCUT], dtype=float)
    haircut = per_kind[codes]  # a missing type (code -1) takes the last entry: the default haircut
    outstanding = df["Outstanding_Loan_Amount"].to_numpy(dtype="float64", na_value=np.nan)
    collateral = np.nan_to_num(df["Collateral_Value"].to_numpy(dtype="float64", na_value=np.nan))
    covered = np.divide(collateral * (1 - haircut), outstanding, out=np.ones_like(outstanding),
                        where=outstanding > 0)
    return scores * outstanding * (1 - np.clip(covered, 0, 1))


def haircut_table(frame: pd.DataFrame, haircuts: tuple[tuple[str, float], ...]) -> pd.DataFrame | None:
    """The haircut per loan type in the file, to edit (None when there is no collateral to haircut)."""
    if not {"Loan_Type", "Collateral_Value"} <= set(frame.columns):
        return None
    types = sorted(frame["Loan_Type"].dropna().astype(str).unique())
    cuts = dict(haircuts)
    return pd.DataFrame({"Loan type": types, "Collateral haircut": [cuts.get(t, DEFAULT_HAIRCUT) for t in types]})


def haircuts_from_table(table: pd.DataFrame) -> tuple[tuple[str, float], ...]:
    """The edited haircut table as the setting RecoveryConfig.haircuts takes."""
    return tuple(zip(table["Loan type"], table["Collateral haircut"].astype(float)))


@dataclass(frozen=True)
class RecoveryPlan:
    """Each borrower's action, and what the plan is worth against the other policies."""

    strategy: np.ndarray
    names: tuple[str, ...]
    expected_net_recovery: np.ndarray | None = None
    expected_loss: np.ndarray | None = None
    test_group: np.ndarray | None = None
    policies: pd.DataFrame = field(default_factory=pd.DataFrame)  # empty without an action table
    policy: str = "thresholds"
    method: str = "thresholds"
    gap: float = 0.0
    note: str = ""  # why the action table was not applied ("" when it was, or when none was given)

    def assignment(self) -> dict:
        """How the plan was made, for the metrics JSON."""
        return {"policy": self.policy, "method": self.method, "gap_to_lp_bound": self.gap}


def _ids(df: pd.DataFrame) -> pd.Series:
    """What identifies a borrower for the holdout: Loan_ID, else Borrower_ID, else the file row."""
    for column in ("Loan_ID", "Borrower_ID"):
        if column in df.columns:
            return df[column].astype("str").reset_index(drop=True)
    return pd.Series(df.index.astype(str))


def _shared(actions: tuple[Action, ...], share: float) -> tuple[tuple[Action, ...], tuple[Action, ...]]:
    """Capacities split between the holdout (its share, rounded) and the rest."""
    held, rest = [], []
    for a in actions:
        if a.capacity is None:
            held.append(a)
            rest.append(a)
        else:
            part = int(round(a.capacity * share))
            held.append(replace(a, capacity=part))
            rest.append(replace(a, capacity=a.capacity - part))
    return tuple(held), tuple(rest)


def _priority(df: pd.DataFrame, scores: np.ndarray, config: RecoveryConfig) -> np.ndarray | None:
    """Expected loss where the file has the money for it, else the outstanding at risk (None: neither)."""
    loss = expected_loss(df, scores, config)
    if loss is not None:
        return loss
    if "Outstanding_Loan_Amount" in df.columns:
        return scores * df["Outstanding_Loan_Amount"].to_numpy(dtype="float64", na_value=np.nan)
    return None


def make_plan(df: pd.DataFrame, scores: np.ndarray, config: RecoveryConfig,
              values: np.ndarray | None = None) -> RecoveryPlan:
    """The notebook's bands when there is no action table; otherwise the configured policy.

    ``values`` (n × actions expected net recovery, e.g. core.decide.learned's) replaces the typed
    straight lines when given.
    """
    if config.actions is None:
        return RecoveryPlan(by_share(scores, config, _priority(df, scores, config)), config.strategy_labels)
    if values is None and not has_exposure(df):
        # no money to weigh: the bands, said in one note, rather than figures made up
        return RecoveryPlan(by_share(scores, config, _priority(df, scores, config)), config.strategy_labels,
                            note=planning_refused())
    actions = config.actions
    if values is None:
        outstanding = df["Outstanding_Loan_Amount"].to_numpy(dtype="float64", na_value=np.nan)
        values = expected_values(outstanding, scores, actions)
    bands, labels = (config.settlement_threshold, config.legal_threshold), config.strategy_labels
    dpd = (df["Days_Past_Due"].to_numpy(dtype="float64", na_value=np.nan)
           if "Days_Past_Due" in df.columns else None)
    names = {a.name for a in actions}
    policies = ["optimised", "thresholds", "days_past_due", "escalate_all"]
    if not set(labels) <= names and config.policy != "thresholds":
        policies.remove("thresholds")  # the action table does not have the notebook's bands
    if dpd is None:
        policies.remove("days_past_due")
    plans = {p: plan(p, values, actions, scores, dpd, bands, labels) for p in policies}
    # learned values close an action where the history cannot speak: a rule giving it there has no value
    closed = values <= NOT_OFFERED / 2
    plans = {p: replace(q, net_recovery=np.nan) if closed[np.arange(len(q.choice)), q.choice].any() else q
             for p, q in plans.items()}
    chosen = plans[config.policy]
    choice, test_group = chosen.choice.copy(), None
    if config.policy == "optimised" and config.holdout > 0 and set(labels) <= names:
        held = champion_group(_ids(df), config.holdout, config.holdout_salt)
        champion_actions, challenger_actions = _shared(actions, float(held.mean()))
        choice[held] = by_thresholds(scores[held], bands, labels, champion_actions)
        choice[~held] = solve(values[~held], [a.capacity for a in challenger_actions]).choice
        test_group = np.where(held, CHAMPION, CHALLENGER).astype(object)
    compared = list(plans.values())
    if test_group is not None:  # the plan as assigned, valued like the others: one source for its worth
        costs = np.array([a.cost for a in actions])
        compared.append(Plan("assigned", choice, total(values, choice), float(costs[choice].sum())))
    action_names = np.array([a.name for a in actions], dtype=object)
    return RecoveryPlan(
        strategy=action_names[choice],
        names=tuple(action_names),
        expected_net_recovery=np.where(closed[np.arange(len(choice)), choice], np.nan,
                                       values[np.arange(len(choice)), choice]),
        expected_loss=expected_loss(df, scores, config),
        test_group=test_group,
        policies=compare(compared, actions),
        policy=config.policy,
        method="exact" if chosen.gap == 0 else "prices",
        gap=chosen.gap,
    )


def capacity_frontier(df: pd.DataFrame, scores: np.ndarray, config: RecoveryConfig,
                      values: np.ndarray | None = None) -> pd.DataFrame:
    """Optimised expected net recovery as the scarcest action's capacity grows (needs an action table).

    ``values``: the plan's own per-borrower values when they were learned from history.
    """
    if values is None:
        outstanding = df["Outstanding_Loan_Amount"].to_numpy(dtype="float64", na_value=np.nan)
        values = expected_values(outstanding, scores, config.actions)
    return frontier(values, config.actions)


def borrower_actions(outstanding: float, score: float, chosen: str, actions: tuple[Action, ...]) -> pd.DataFrame:
    """What every action is expected to bring for one borrower, best first, the chosen one marked."""
    values = expected_values(np.array([outstanding]), np.array([score]), actions)[0]
    table = pd.DataFrame({
        "Action": [a.name for a in actions],
        "Expected recovery": [outstanding * float(a.recovery(score)) for a in actions],
        "Cost": [a.cost for a in actions],
        "Expected net recovery": values,
        "Capacity": [capacity_text(a.capacity) for a in actions],  # 'no limit', never 'None'
    })
    table["Chosen"] = table["Action"] == chosen
    return table.sort_values("Expected net recovery", ascending=False, kind="stable").reset_index(drop=True)


def why_chosen(table: pd.DataFrame, champion: bool) -> str:
    """One sentence on why the chosen action won for this borrower."""
    best, chosen = table.iloc[0], table[table["Chosen"]].iloc[0]
    if champion:
        return (f"This borrower is in the champion group, kept on the notebook's thresholds so the plan's "
                f"uplift can be measured: '{chosen['Action']}'.")
    if best["Action"] == chosen["Action"]:
        return f"'{chosen['Action']}' brings the most expected net recovery for this borrower."
    return (f"'{best['Action']}' would bring more for this borrower ({best['Expected net recovery']:,.0f} "
            f"against {chosen['Expected net recovery']:,.0f}), but its capacity is taken by borrowers for "
            "whom it makes a bigger difference.")


