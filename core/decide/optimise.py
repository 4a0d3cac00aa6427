"""One action per borrower, maximising total expected net recovery within each action's capacity.

This is a transportation problem (borrowers supply one case each, actions take at most their
capacity). It is solved exactly as a linear programme with HiGHS (scipy.optimize.linprog): its
constraint matrix is totally unimodular, so the optimal vertex HiGHS returns is whole, one action
per borrower, with no rounding gap. To keep the programme small at a million borrowers it is
solved only over borrowers who could hold a capacity-limited action in some optimal plan:

* a borrower whose best unlimited action is at least as good as every limited one takes it;
* for each limited action, only the C borrowers with the largest gain over their best unlimited
  action can matter, C being the total limited capacity: if a borrower outside them held the
  action, one of those C would be holding nothing limited (at most C - 1 others can), and
  handing the action to them instead would not lower the total.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import RecoveryError

# Above this many candidate borrowers the exact programme takes longer than an analyst should
# wait (about 35 s for 240,000 at 1,000,000 borrowers); prices are used instead, with their
# certified distance to the LP bound.
EXACT_MAX_CANDIDATES = 60_000


@dataclass(frozen=True)
class Assignment:
    """The action per borrower, how it was found, and how far it can be from the best plan."""

    choice: np.ndarray
    method: str  # "exact" (HiGHS LP) or "prices" (Lagrangian prices, checked against the LP bound)
    value: float
    bound: float  # no plan within the capacities can bring more than this

    @property
    def gap(self) -> float:
        """Share of the bound the plan may leave on the table (0 when exact)."""
        return 0.0 if self.method == "exact" else max(self.bound - self.value, 0.0) / max(abs(self.bound), 1e-9)


def solve(values: np.ndarray, capacities: list[int | None]) -> Assignment:
    """The value-maximising action per borrower, exact when the programme is small enough."""
    choice, prices = _assign(values, capacities)
    value = total(values, choice)
    if prices is None:
        return Assignment(choice, "exact", value, value)
    return Assignment(choice, "prices", value, _dual_bound(values, capacities, prices))


def assign(values: np.ndarray, capacities: list[int | None]) -> np.ndarray:
    """The action index per borrower that maximises the sum of ``values`` (n × actions)."""
    return _assign(values, capacities)[0]


def _assign(values: np.ndarray, capacities: list[int | None]) -> tuple[np.ndarray, np.ndarray | None]:
    """The plan, and the prices it was read from (None when the LP was solved exactly)."""
    n, k = values.shape
    limited = [a for a in range(k) if capacities[a] is not None]
    unlimited = [a for a in range(k) if capacities[a] is None]
    if not unlimited:
        room = sum(capacities)
        if room < n:
            raise RecoveryError(
                f"The actions' capacities add up to {room:,} cases for {n:,} borrowers: leave one "
                "action's capacity empty (unlimited), such as 'No action', or raise the capacities.")
        # every borrower must take a limited action: the whole programme, no reduction
        return _solve(values, list(capacities), must_place=True), None
    sub = values[:, unlimited]
    choice = np.asarray(unlimited)[np.argmax(sub, axis=1)]
    best_free = sub.max(axis=1)
    gains = values[:, limited] - best_free[:, None]
    if not limited or not np.any(gains > 0):
        return choice, None
    room = sum(capacities[a] for a in limited)
    candidates = np.zeros(n, dtype=bool)
    for j in range(len(limited)):
        positive = np.flatnonzero(gains[:, j] > 0)
        if len(positive) > room:
            positive = positive[np.argpartition(-gains[positive, j], room - 1)[:room]]
        candidates[positive] = True
    rows = np.flatnonzero(candidates)
    caps = [capacities[a] for a in limited]
    if len(rows) > EXACT_MAX_CANDIDATES:
        prices = _prices(gains[rows], caps)
        picked = _by_prices(gains[rows], caps, prices)
        full = np.zeros(len(capacities))
        full[limited] = prices
    else:
        picked, full = _solve(gains[rows], caps, must_place=False), None
    placed = picked >= 0
    choice[rows[placed]] = np.asarray(limited)[picked[placed]]
    return choice, full


def _prices(gains: np.ndarray, caps: list[int], rounds: int = 60) -> np.ndarray:
    """Prices per limited action at which each is wanted by at most its capacity (coordinate search)."""
    prices = np.zeros(gains.shape[1])
    for _ in range(rounds):
        before = prices.copy()
        for a in range(gains.shape[1]):
            others = np.delete(gains - prices, a, axis=1)
            alternative = np.maximum(others.max(axis=1), 0.0) if others.shape[1] else np.zeros(len(gains))
            margin = gains[:, a] - alternative
            wanting = int(np.count_nonzero(margin > 0))
            prices[a] = 0.0 if wanting <= caps[a] else float(np.partition(-margin, caps[a])[caps[a]] * -1)
        if np.allclose(prices, before, rtol=0, atol=1e-9):
            break
    return prices


def _by_prices(gains: np.ndarray, caps: list[int], prices: np.ndarray) -> np.ndarray:
    """Each borrower's best action at these prices, capacity enforced by margin (ties resolved)."""
    net = gains - prices
    best = np.argmax(net, axis=1)
    picked = np.where(net[np.arange(len(net)), best] > 0, best, -1)
    for a, cap in enumerate(caps):
        holders = np.flatnonzero(picked == a)
        if len(holders) > cap:
            keep = holders[np.argsort(-gains[holders, a], kind="stable")[:cap]]
            picked[np.setdiff1d(holders, keep)] = -1
    return picked


def _dual_bound(values: np.ndarray, capacities: list[int | None], prices: np.ndarray) -> float:
    """Weak-duality bound: no plan within the capacities brings more than this."""
    charged = values - prices
    return float(np.sum(charged.max(axis=1)) + sum(
        c * p for c, p in zip(capacities, prices) if c is not None))


def _solve(gains: np.ndarray, capacities: list[int], must_place: bool) -> np.ndarray:
    """Exact LP over candidate borrowers: the limited action each takes, or -1 for none."""
    from scipy import sparse  # imported when a plan is made: scoring alone never needs it
    from scipy.optimize import linprog

    m, k = gains.shape
    usable = np.argwhere((gains > 0) | must_place)
    if not len(usable):
        return np.full(m, -1)
    i, a = usable[:, 0], usable[:, 1]
    count = len(usable)
    per_borrower = sparse.csr_matrix((np.ones(count), (i, np.arange(count))), shape=(m, count))
    per_action = sparse.csr_matrix((np.ones(count), (a, np.arange(count))), shape=(k, count))
    if must_place:
        result = linprog(-gains[i, a], A_ub=per_action, b_ub=capacities, A_eq=per_borrower,
                         b_eq=np.ones(m), bounds=(0, 1), method="highs")
    else:
        result = linprog(-gains[i, a], A_ub=sparse.vstack([per_borrower, per_action]),
                         b_ub=np.r_[np.ones(m), capacities], bounds=(0, 1), method="highs")
    if result.status != 0:
        raise RecoveryError(f"The assignment could not be solved ({result.message}): check the capacities.")
    taken = result.x > 0.5
    picked = np.full(m, -1)
    picked[i[taken]] = a[taken]
    return picked


def total(values: np.ndarray, choice: np.ndarray) -> float:
    """Total expected net recovery of a plan."""
    return float(values[np.arange(len(choice)), choice].sum())
