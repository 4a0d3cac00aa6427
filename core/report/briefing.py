"""What the analysis found, in plain words, for the first lines an executive reads."""

from __future__ import annotations

from core.decide import ASSIGNED, POLICIES, RecoveryResult
from core.display import priced, share
from core.model import Trust


def segment_score_sentence(chosen: bool, has_outcome: bool = False) -> str:
    """Why the score predicts a high-risk segment, not recovery: the notebook's method, or no outcome to learn."""
    why = ("The notebook's method scores" if chosen else
           "This file's outcome gives every borrower the same class, so there is nothing to learn and the score "
           "predicts" if has_outcome else
           "This file has no recorded outcome to learn from, so the score predicts")
    return f"{why} membership of a high-risk segment, not recovery: it cannot be checked against what happened."


def plan_worth(result: RecoveryResult) -> str:
    """What the plan is expected to bring, read from the policies table that the report also shows."""
    worth = result.policies.set_index("Policy")["Expected net recovery"] if not result.policies.empty else None
    assigned = float(result.scored["Expected_Net_Recovery"].sum())
    cur = result.config.currency
    if worth is None:
        return f"The plan is expected to bring {priced(assigned, cur)} net of the actions' costs."
    if ASSIGNED in worth.index:
        return (f"The plan is expected to bring {priced(worth[ASSIGNED], cur)} net of the actions' costs, with its "
                "champion group kept on the notebook's thresholds to measure the uplift; optimising every borrower "
                f"would bring {priced(worth[POLICIES['optimised']], cur)} (see the policies compared).")
    return (f"The plan is expected to bring {priced(worth[POLICIES[result.config.policy]], cur)} net of the "
            "actions' costs.")


def summary_sentences(result: RecoveryResult, found: Trust | None) -> list[str]:
    """A few plain sentences an executive reads first: money, plan, and how far to trust the score."""
    scored = result.scored
    lines = []
    if "Outstanding_Loan_Amount" in scored.columns:
        outstanding = float(scored["Outstanding_Loan_Amount"].sum())
        at_risk = float(scored["Outstanding_At_Risk"].sum())
        cur = result.config.currency
        lines.append(f"The portfolio holds {len(scored):,} borrowers with {priced(outstanding, cur)} outstanding; "
                     f"weighted by each borrower's risk score, {priced(at_risk, cur)} "
                     f"({share(at_risk / max(outstanding, 1))}) "
                     "is at risk of not being recovered.")
    counts = scored["Recovery_Strategy"].value_counts()
    plan = "; ".join(f"{name}: {int(counts.get(name, 0)):,}" for name in result.strategies["Recovery strategy"])
    lines.append(f"Borrowers per action — {plan}.")
    if "Expected_Net_Recovery" in scored.columns:
        lines.append(plan_worth(result))
    if result.risk.target == "segment":
        lines.append(segment_score_sentence(result.config.target == "segment",
                                            result.roles is not None and result.roles.outcome is not None))
    elif found is not None:
        lines.append(found.sentence())
    return lines
