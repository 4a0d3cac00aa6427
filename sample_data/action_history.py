"""Generate a collections history whose action effects are known: a ground truth to test learning on.

Borrowers are drawn as in ``sample_data.generate`` (the notebook's 21 columns). Each borrower then
has a TRUE expected recovered share under each of the four collection methods, a stated function of
days past due, burden (EMI / income), collateral cover and employment, so the effects differ from
borrower to borrower:

* Calls recover well from the recently late who can afford to pay, and fade past a few months;
* a Settlement Offer gives up a discount but works on the stretched (high burden), late or not;
* a Legal Notice works where collateral covers the debt, and keeps working on the long overdue;
* Debt Collectors sit in between, better on salaried borrowers (wages can be reached).

The method each borrower received in the past follows a CONFOUNDED rule, as old collection rules
did: legal notices mostly to the long overdue with little collateral, calls to the recently late,
settlements to the stretched. Read naively, legal notices look worst where they would work best.
With ``overlap=True`` every method keeps some chance for every borrower; with ``overlap=False``
a legal notice was never sent below ``LEGAL_FROM_DPD`` days past due, so nothing in the history
says what it would do there.

The realised share is drawn around the truth (a Beta draw, many near 0 or 1 as in real books);
``Amount_Recovered`` is that share of the outstanding and ``Recovery_Status`` follows from it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sample_data.generate import generate_portfolio

METHODS = ("Calls", "Settlement Offer", "Legal Notice", "Debt Collectors")
AMOUNT = "Amount_Recovered"
LEGAL_FROM_DPD = 90
# Beta concentration of a borrower's realised share around their true expected share.
_CONCENTRATION = 2.5
# Without overlap the others still keep this mixing weight (uniform over the allowed methods).
_MIX = 0.12


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def _drivers(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """What the true effects and the old rule read from a borrower's fields."""
    outstanding = df["Outstanding_Loan_Amount"].to_numpy(dtype=float)
    collateral = df["Collateral_Value"].to_numpy(dtype=float)
    return {
        "dpd": df["Days_Past_Due"].to_numpy(dtype=float),
        "burden": np.minimum(df["Monthly_EMI"].to_numpy(dtype=float) / df["Monthly_Income"].to_numpy(dtype=float), 1.5),
        "coverage": np.minimum(np.where(outstanding > 0, collateral / np.maximum(outstanding, 1.0), 2.0), 2.0),
        "salaried": (df["Employment_Type"].astype(str).to_numpy() == "Salaried").astype(float),
        "missed": df["Num_Missed_Payments"].to_numpy(dtype=float),
    }


def true_effects(df: pd.DataFrame) -> pd.DataFrame:
    """Each borrower's true expected recovered share under each method (columns = METHODS)."""
    d = _drivers(df)
    dpd, burden, coverage, salaried = d["dpd"], d["burden"], d["coverage"], d["salaried"]
    return pd.DataFrame({
        "Calls": _sigmoid(2.2 - 0.04 * dpd - 2.5 * burden),
        "Settlement Offer": 0.72 * _sigmoid(0.2 - 0.008 * dpd + 3.0 * burden),
        "Legal Notice": _sigmoid(-2.0 + 2.2 * coverage + 0.01 * dpd),
        "Debt Collectors": _sigmoid(-0.4 - 0.01 * dpd - 1.0 * burden + 1.2 * salaried),
    }, index=df.index)


def history_propensity(df: pd.DataFrame, overlap: bool = True) -> pd.DataFrame:
    """The old rule: each method's chance for each borrower (columns = METHODS, rows sum to 1)."""
    d = _drivers(df)
    dpd, burden, coverage, missed = d["dpd"], d["burden"], d["coverage"], d["missed"]
    logits = np.column_stack([
        2.0 - 0.045 * dpd,                                   # calls: the recently late
        -0.3 + 2.5 * burden - 0.005 * dpd,                   # settlements: the stretched
        -2.5 + 0.035 * dpd - 1.2 * coverage,                 # legal: the long overdue, little collateral
        -0.8 + 0.012 * dpd + 0.08 * missed,                  # collectors: the repeatedly missed
    ])
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    allowed = np.ones_like(p, dtype=bool)
    if not overlap:
        allowed[:, METHODS.index("Legal Notice")] = dpd >= LEGAL_FROM_DPD
    p = np.where(allowed, p, 0.0)
    p /= p.sum(axis=1, keepdims=True)
    uniform = allowed / allowed.sum(axis=1, keepdims=True)
    return pd.DataFrame((1 - _MIX) * p + _MIX * uniform, columns=list(METHODS), index=df.index)


def _draw_methods(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One method per borrower from row-wise probabilities."""
    u = rng.random(len(p))[:, None]
    idx = np.minimum((u > np.cumsum(p, axis=1)).sum(axis=1), p.shape[1] - 1)
    return np.asarray(METHODS, dtype=object)[idx]


def realised(rng: np.random.Generator, df: pd.DataFrame, method: np.ndarray,
             truth: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Amount recovered and recovery status drawn around the true share of the method received."""
    column = pd.Index(METHODS).get_indexer(method)
    mu = np.clip(truth.to_numpy()[np.arange(len(df)), column], 1e-3, 1 - 1e-3)
    share = rng.beta(mu * _CONCENTRATION, (1 - mu) * _CONCENTRATION)
    amount = np.round(share * df["Outstanding_Loan_Amount"].to_numpy(dtype=float), 2)
    status = np.where(share >= 0.95, "Fully Recovered", np.where(share < 0.05, "Written Off", "Partially Recovered"))
    return amount, status.astype(object)


def generate_history(n: int = 20_000, seed: int = 11, overlap: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` resolved borrowers with the method received and the amount recovered, and the true shares.

    Returns the frame (the notebook's 21 columns plus ``Amount_Recovered``; ``Collection_Method``
    follows the old rule, ``Recovery_Status`` and ``Amount_Recovered`` follow the truth) and the
    true expected recovered share of every borrower under every method (n × METHODS).
    """
    df, _ = generate_portfolio(n, seed=seed)
    rng = np.random.default_rng([seed, 17])
    truth = true_effects(df)
    method = _draw_methods(rng, history_propensity(df, overlap).to_numpy())
    amount, status = realised(rng, df, method, truth)
    df["Collection_Method"] = method.astype(str)
    df["Legal_Action_Taken"] = np.where(method == "Legal Notice", "Yes", "No")
    df["Recovery_Status"] = status.astype(str)
    df[AMOUNT] = amount
    return df, truth


def new_month(n: int = 20_000, seed: int = 12) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A month to plan: borrowers with no method and no outcome yet, and their true shares."""
    df, _ = generate_portfolio(n, seed=seed)
    truth = true_effects(df)
    return df.drop(columns=["Recovery_Status", "Collection_Attempts", "Collection_Method",
                            "Legal_Action_Taken"]), truth
