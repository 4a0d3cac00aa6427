"""Measure a planned month once its outcomes are back: the optimised group against the champion group.

The plan's download keeps a champion group (a fixed hash of the borrower's ID, core.decide.policies.
champion_group) on the notebook's rule, and gives everyone else the optimised action. Both groups are
drawn by the hash, not by the borrower's risk, so the difference in what they repaid is the plan's
effect, with a sampling error this module puts a 95% interval on:

* money: mean recovered per borrower (net of the action's cost when the actions are given),
  Welch's t interval (the groups may differ in size and spread);
* share: recovered over outstanding, per group, a ratio whose interval comes from the delta method;
* how many borrowers a month must hold for the expected uplift (the plan's own Expected_Net_Recovery
  difference) to show at 80% power, 5% two-sided, with this champion share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from core.decide.actions import Action
from core.display import priced
from core.errors import RecoveryError

GROUP, ACTION, EXPOSURE, EXPECTED = "Test_Group", "Recovery_Strategy", "Outstanding_Loan_Amount", "Expected_Net_Recovery"
CHAMPION, CHALLENGER = "champion", "challenger"
Z_ALPHA, Z_POWER = stats.norm.ppf(0.975), stats.norm.ppf(0.80)


@dataclass(frozen=True)
class Group:
    """What one group of borrowers repaid."""

    name: str
    borrowers: int
    outstanding: float
    recovered: float  # net of action costs when the actions were given
    mean: float  # per borrower
    share: float  # recovered / outstanding
    share_low: float
    share_high: float


@dataclass(frozen=True)
class Uplift:
    """The optimised group minus the champion group, with 95% intervals."""

    scope: str  # "All borrowers" or an action's name
    money: float  # per borrower
    money_low: float
    money_high: float
    share: float  # points of the outstanding
    share_low: float
    share_high: float
    p_value: float


@dataclass(frozen=True)
class Measurement:
    """A planned month measured: the groups, the uplift overall and per action, the sample needed."""

    groups: tuple[Group, Group]  # champion, optimised
    overall: Uplift
    per_action: tuple[tuple[Group, Group, Uplift], ...]
    expected_uplift: float  # per borrower, from the plan's own expected values (NaN without them)
    borrowers_needed: float  # in total, at this champion share, to detect expected_uplift
    net: bool  # True when money is net of action costs

    def verdict(self, currency: str = "") -> str:
        """One plain sentence on what the month says, money in the lender's currency."""
        o = self.overall
        kind = "net recovery" if self.net else "recovery"
        if o.money_low > 0:
            head = (f"The optimised plan brought {priced(o.money, currency)} more {kind} per borrower than the "
                    "champion rule")
        elif o.money_high < 0:
            head = (f"The optimised plan brought {priced(-o.money, currency)} less {kind} per borrower than the "
                    "champion rule")
        else:
            head = (f"The difference of {priced(o.money, currency)} {kind} per borrower between the optimised "
                    "plan and the champion rule is within chance")
        ci = f" (95% interval {priced(o.money_low, currency)} to {priced(o.money_high, currency)})."
        if np.isfinite(self.borrowers_needed):
            have = sum(g.borrowers for g in self.groups)
            ci += (f" Detecting the expected {priced(self.expected_uplift, currency)} per borrower at 80% power "
                   f"takes about {self.borrowers_needed:,.0f} borrowers at this champion share; this month has {have:,}.")
        return head + ci


def _ratio(y: np.ndarray, o: np.ndarray) -> tuple[float, float]:
    """Recovered over outstanding, and its delta-method variance."""
    n = len(y)
    total = o.sum()
    if n < 2 or total <= 0:
        return (y.sum() / total if total > 0 else np.nan), np.nan
    r = y.sum() / total
    residual = y - r * o
    return float(r), float(residual.var(ddof=1) / (n * o.mean() ** 2))


def _group(name: str, y: np.ndarray, o: np.ndarray) -> Group:
    """One group's totals, mean and share with its 95% interval."""
    share, var = _ratio(y, o)
    half = Z_ALPHA * np.sqrt(var)
    return Group(name, len(y), float(o.sum()), float(y.sum()), float(y.mean()) if len(y) else np.nan,
                 share, share - half, share + half)


def _uplift(scope: str, y0: np.ndarray, o0: np.ndarray, y1: np.ndarray, o1: np.ndarray) -> Uplift:
    """Optimised (1) minus champion (0): Welch's interval on the mean, delta-method on the share."""
    if min(len(y0), len(y1)) < 2:
        nan = float("nan")
        return Uplift(scope, nan, nan, nan, nan, nan, nan, nan)
    v0, v1 = y0.var(ddof=1) / len(y0), y1.var(ddof=1) / len(y1)
    diff = float(y1.mean() - y0.mean())
    se = np.sqrt(v0 + v1)
    df = (v0 + v1) ** 2 / (v0**2 / (len(y0) - 1) + v1**2 / (len(y1) - 1)) if se > 0 else np.inf
    t = stats.t.ppf(0.975, df) if np.isfinite(df) else Z_ALPHA
    p = float(2 * stats.t.sf(abs(diff) / se, df)) if se > 0 else float(diff == 0)
    (r0, w0), (r1, w1) = _ratio(y0, o0), _ratio(y1, o1)
    half = Z_ALPHA * np.sqrt(w0 + w1)
    return Uplift(scope, diff, diff - t * se, diff + t * se, r1 - r0, r1 - r0 - half, r1 - r0 + half, p)


def borrowers_needed(delta: float, sd_champion: float, sd_optimised: float, champion_share: float,
                     alpha: float = 0.05, power: float = 0.80) -> float:
    """Borrowers in total for a two-sided test at ``alpha`` to detect ``delta`` with ``power``.

    n = (z_{1−α/2} + z_power)² × (σ₀²/h + σ₁²/(1−h)) / δ², h the champion share (inf for δ = 0).
    """
    if not 0 < champion_share < 1 or not np.isfinite(delta) or delta == 0:
        return float("inf")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(np.ceil(z**2 * (sd_champion**2 / champion_share + sd_optimised**2 / (1 - champion_share)) / delta**2))


def measure_plan(plan: pd.DataFrame, outcome: str, actions: tuple[Action, ...] | None = None) -> Measurement:
    """Realised recovery of the optimised group against the champion group, overall and per action.

    ``plan`` is the plan's download (Test_Group, Recovery_Strategy, Outstanding_Loan_Amount and
    Expected_Net_Recovery) with ``outcome``, the amount each borrower repaid, added. With ``actions``
    (the plan's action table) money is net of each action's cost, as the plan's expected values are.
    """
    for column in (GROUP, ACTION, EXPOSURE, outcome):
        if column not in plan.columns:
            raise RecoveryError(f"The outcomes file has no '{column}' column: upload the plan's download with "
                                "the amount each borrower repaid added as a column.")
    group = plan[GROUP].astype("str").str.strip().str.casefold()
    paid = pd.to_numeric(plan[outcome], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    owed = pd.to_numeric(plan[EXPOSURE], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    known = np.isfinite(paid) & np.isfinite(owed) & group.isin([CHAMPION, CHALLENGER]).to_numpy()
    champion, optimised = known & (group == CHAMPION).to_numpy(), known & (group == CHALLENGER).to_numpy()
    if champion.sum() < 2 or optimised.sum() < 2:
        raise RecoveryError(
            f"Measuring needs at least 2 borrowers with an outcome in '{outcome}' in each test group; the file has "
            f"{int(champion.sum())} champion and {int(optimised.sum())} optimised: plan with a champion share above "
            "0 and add the outcomes of both groups.")
    strategy = plan[ACTION].astype("str").to_numpy()
    net = actions is not None
    if net:
        costs = {a.name: a.cost for a in actions}
        unknown = sorted(set(strategy[known]) - set(costs))
        if unknown:
            raise RecoveryError(f"The plan gives '{unknown[0]}', which the action table does not have: measure with "
                                "the action table the plan was made with.")
        paid = paid - np.array([costs.get(s, 0.0) for s in strategy])
    groups = (_group("Champion (notebook rule)", paid[champion], owed[champion]),
              _group("Optimised plan", paid[optimised], owed[optimised]))
    overall = _uplift("All borrowers", paid[champion], owed[champion], paid[optimised], owed[optimised])
    per_action = []
    for name in pd.unique(strategy[known]):
        c, o = champion & (strategy == name), optimised & (strategy == name)
        per_action.append((_group("Champion (notebook rule)", paid[c], owed[c]), _group("Optimised plan", paid[o], owed[o]),
                           _uplift(str(name), paid[c], owed[c], paid[o], owed[o])))
    expected = np.nan
    if EXPECTED in plan.columns:
        e = pd.to_numeric(plan[EXPECTED], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        expected = float(np.nanmean(e[optimised]) - np.nanmean(e[champion]))
    share = champion.sum() / (champion.sum() + optimised.sum())
    needed = borrowers_needed(expected, paid[champion].std(ddof=1), paid[optimised].std(ddof=1), share)
    return Measurement(groups, overall, tuple(per_action), expected, needed, net)


# The measurement table's money columns: shown in the lender's currency wherever the table is rendered.
MEASUREMENT_MONEY = ("Champion recovered", "Optimised recovered", "Uplift per borrower", "Uplift 95% from",
                     "Uplift 95% to")


def measurement_table(m: Measurement) -> pd.DataFrame:
    """One row per scope (all borrowers, then each action): both groups and the uplift with its intervals."""
    rows = []
    for champion, optimised, up in [(*m.groups, m.overall), *m.per_action]:
        rows.append({
            "Scope": up.scope,
            "Champion borrowers": champion.borrowers, "Optimised borrowers": optimised.borrowers,
            "Champion recovered": champion.recovered, "Optimised recovered": optimised.recovered,
            "Champion share": champion.share, "Optimised share": optimised.share,
            "Uplift per borrower": up.money, "Uplift 95% from": up.money_low, "Uplift 95% to": up.money_high,
            "Share uplift (points)": up.share, "Share uplift 95% from": up.share_low,
            "Share uplift 95% to": up.share_high, "p-value": up.p_value,
        })
    return pd.DataFrame(rows)
