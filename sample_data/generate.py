"""Generate the bundled demo portfolio: notebook-shaped data whose outcome has a known cause.

The notebook's own file has no relation between repayment and outcome, so nothing can be
learned from it. This portfolio is drawn from a stated model instead: every borrower carries
``true_prob``, the probability of NOT being fully recovered, built from repayment, burden and
collateral. Collection-stage fields are drawn after the outcome, so they leak it on purpose.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS: tuple[str, ...] = (
    "Borrower_ID", "Age", "Gender", "Employment_Type", "Monthly_Income", "Num_Dependents",
    "Loan_ID", "Loan_Amount", "Loan_Tenure", "Interest_Rate", "Loan_Type", "Collateral_Value",
    "Outstanding_Loan_Amount", "Monthly_EMI", "Payment_History", "Num_Missed_Payments",
    "Days_Past_Due", "Recovery_Status", "Collection_Attempts", "Collection_Method",
    "Legal_Action_Taken",
)

DEFAULT_PATH = Path(__file__).with_name("demo_portfolio.csv")

EMPLOYMENT = ("Salaried", "Self-Employed", "Business Owner")
LOAN_TYPES = ("Home", "Auto", "Personal", "Business")
HISTORY = ("On-Time", "Delayed", "Missed")
METHODS = ("Calls", "Settlement Offer", "Legal Notice", "Debt Collectors")
TENURES = np.array([12, 24, 36, 48, 60, 72])

# Loan size as a multiple of monthly income, and tenure weights, per loan type.
_SIZE_MULTIPLE = {"Home": 15.0, "Auto": 6.0, "Personal": 4.5, "Business": 10.0}
_TENURE_WEIGHTS = {
    "Home": (0.02, 0.05, 0.13, 0.20, 0.30, 0.30),
    "Auto": (0.10, 0.20, 0.30, 0.25, 0.10, 0.05),
    "Personal": (0.25, 0.25, 0.20, 0.15, 0.10, 0.05),
    "Business": (0.10, 0.15, 0.25, 0.25, 0.15, 0.10),
}

# Risk model on the logit scale; intercept tuned so ~40% are not fully recovered.
_INTERCEPT = -1.75
_W_DPD = 0.013            # per day past due
_W_MISSED = 0.12          # per missed payment
_W_BURDEN = 2.6           # per unit of EMI / income
_W_COVERAGE = -1.1        # per unit of collateral / outstanding (capped at 2)
_W_SHARE = 1.6            # per unit of outstanding / loan amount
_W_EMPLOYMENT = {"Salaried": 0.0, "Self-Employed": 0.45, "Business Owner": 0.25}
_W_HISTORY = {"On-Time": 0.0, "Delayed": 0.35, "Missed": 0.7}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def _annuity(principal: np.ndarray, annual_rate_pct: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Monthly instalment that repays ``principal`` over ``months`` at the given annual rate."""
    r = annual_rate_pct / 1200.0
    return principal * r / (1.0 - (1.0 + r) ** -months)


def _pick(rng: np.random.Generator, options: tuple[str, ...], p: np.ndarray) -> np.ndarray:
    """Draw one option per row from row-wise probabilities ``p`` (n x k)."""
    u = rng.random(len(p))[:, None]
    idx = (u > np.cumsum(p, axis=1)).sum(axis=1)
    return np.asarray(options, dtype=object)[np.minimum(idx, len(options) - 1)]


def _coverage(collateral: np.ndarray, outstanding: np.ndarray) -> np.ndarray:
    """Collateral over outstanding, capped at 2 (2 when nothing is outstanding)."""
    return np.minimum(np.where(outstanding > 0, collateral / np.maximum(outstanding, 1.0), 2.0), 2.0)


def _logit(dpd, missed, burden, coverage, share, employment, history) -> np.ndarray:
    """The stated risk model: log-odds of not being fully recovered."""
    return (
        _INTERCEPT
        + _W_DPD * np.asarray(dpd, dtype=float)
        + _W_MISSED * np.asarray(missed, dtype=float)
        + _W_BURDEN * np.minimum(burden, 1.5)
        + _W_COVERAGE * coverage
        + _W_SHARE * share
        + np.array([_W_EMPLOYMENT[e] for e in employment])
        + np.array([_W_HISTORY[h] for h in history])
    )


def true_probability(df: pd.DataFrame) -> np.ndarray:
    """Each borrower's true probability of not being fully recovered, from their fields.

    The same formula the generator draws outcomes from, so a test can ask what the truth says
    when one field changes (the share outstanding is read back from the rounded amounts).
    """
    outstanding = df["Outstanding_Loan_Amount"].to_numpy(dtype=float)
    return _sigmoid(_logit(
        df["Days_Past_Due"], df["Num_Missed_Payments"],
        df["Monthly_EMI"].to_numpy(dtype=float) / df["Monthly_Income"].to_numpy(dtype=float),
        _coverage(df["Collateral_Value"].to_numpy(dtype=float), outstanding),
        outstanding / df["Loan_Amount"].to_numpy(dtype=float),
        df["Employment_Type"], df["Payment_History"],
    ))


def generate_portfolio(n: int = 2000, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """Return ``n`` borrowers in the notebook's 21 columns and each one's true P(not fully recovered)."""
    rng = np.random.default_rng(seed)

    # --- profile: gender is drawn on its own so it carries no risk signal
    age = rng.integers(21, 65, n)
    gender = np.where(rng.random(n) < 0.6, "Male", "Female").astype(object)
    employment = rng.choice(np.asarray(EMPLOYMENT, dtype=object), n, p=[0.58, 0.31, 0.11])
    # a scaled beta keeps income inside 15k-250k without a pile-up at either bound
    income = np.round(15_000 + 235_000 * rng.beta(2.0, 3.0, n)).astype(int)
    dependents = rng.integers(0, 4, n)

    # --- loan: business owners lean to business loans; size scales with income
    type_p = np.tile([0.29, 0.17, 0.44, 0.10], (n, 1))
    type_p[employment == "Business Owner"] = [0.20, 0.10, 0.25, 0.45]
    loan_type = _pick(rng, LOAN_TYPES, type_p)
    multiple = np.array([_SIZE_MULTIPLE[t] for t in loan_type])
    raw = income * multiple * rng.lognormal(0.0, 0.45, n)
    # saturate smoothly towards the 2M product limit instead of clipping into a spike
    amount = np.round(50_000 + 1_950_000 * (1.0 - np.exp(-raw / 1_950_000))).astype(int)
    tenure_p = np.array([_TENURE_WEIGHTS[t] for t in loan_type])
    tenure = TENURES[np.minimum((rng.random(n)[:, None] > np.cumsum(tenure_p, axis=1)).sum(axis=1), 5)]
    # unsecured personal loans are priced higher
    rate = np.round(np.where(loan_type == "Personal", rng.uniform(8.0, 18.0, n), rng.uniform(5.0, 15.0, n)), 2)
    emi = np.round(_annuity(amount.astype(float), rate, tenure.astype(float)), 2)
    share = rng.beta(2.0, 2.2, n) * 0.95 + 0.03
    outstanding = np.round(amount * share, 2)
    secured = loan_type != "Personal"
    collateral = np.where(secured, np.round(amount * rng.uniform(0.3, 1.5, n), 2), 0.0)

    # --- repayment: a hidden willingness-to-pay plus affordability drives the history
    burden = emi / income
    quality = rng.normal(0.0, 1.0, n) - 1.2 * burden
    history_p = np.column_stack([
        _sigmoid(1.0 + 1.3 * quality),
        np.full(n, 0.0),
        np.full(n, 0.0),
    ])
    missed_share = _sigmoid(-1.4 - 1.0 * quality)
    history_p[:, 2] = (1.0 - history_p[:, 0]) * missed_share
    history_p[:, 1] = 1.0 - history_p[:, 0] - history_p[:, 2]
    history = _pick(rng, HISTORY, history_p)

    missed = np.where(
        history == "On-Time", (rng.random(n) < 0.2).astype(int),
        np.where(history == "Delayed", rng.integers(1, 5, n), rng.integers(3, 13, n)),
    )
    # arrears run about a month per missed instalment, some of which were later caught up
    dpd = np.round(30.0 * missed * rng.uniform(0.4, 1.0, n) + rng.normal(0.0, 8.0, n))
    dpd = np.where(missed == 0, 0, np.clip(dpd, 1, 180)).astype(int)

    # --- the outcome model, and the outcome drawn from it
    coverage = _coverage(collateral, outstanding)
    true_prob = _sigmoid(_logit(dpd, missed, burden, coverage, share, employment, history))
    not_recovered = rng.random(n) < true_prob
    p_written_off = _sigmoid(-1.3 - 1.4 * coverage + 0.02 * dpd)
    written_off = not_recovered & (rng.random(n) < p_written_off)
    status = np.where(
        written_off, "Written Off", np.where(not_recovered, "Partially Recovered", "Fully Recovered"),
    ).astype(object)

    # --- collection stage, recorded after the outcome: it follows the outcome, not the risk
    attempts_mean = np.select([status == "Written Off", status == "Partially Recovered"], [6.0, 4.0], 1.3)
    attempts = np.minimum(rng.poisson(attempts_mean), 10)
    method_p = np.select(
        [(status == "Written Off")[:, None], (status == "Partially Recovered")[:, None]],
        [np.array([[0.10, 0.15, 0.40, 0.35]]), np.array([[0.25, 0.35, 0.20, 0.20]])],
        np.array([[0.55, 0.25, 0.08, 0.12]]),
    )
    method = _pick(rng, METHODS, method_p)
    legal_p = np.select([status == "Written Off", status == "Partially Recovered"], [0.45, 0.08], 0.01)
    legal_p = np.where(method == "Legal Notice", np.minimum(legal_p * 1.8, 0.95), legal_p)
    legal = np.where(rng.random(n) < legal_p, "Yes", "No").astype(object)

    ids = np.arange(1, n + 1).astype(str)
    df = pd.DataFrame({
        "Borrower_ID": np.char.add("BRW_", ids),
        "Age": age.astype(int),
        "Gender": gender,
        "Employment_Type": employment,
        "Monthly_Income": income,
        "Num_Dependents": dependents.astype(int),
        "Loan_ID": np.char.add("LN_", ids),
        "Loan_Amount": amount,
        "Loan_Tenure": tenure.astype(int),
        "Interest_Rate": rate,
        "Loan_Type": loan_type,
        "Collateral_Value": collateral,
        "Outstanding_Loan_Amount": outstanding,
        "Monthly_EMI": emi,
        "Payment_History": history,
        "Num_Missed_Payments": missed.astype(int),
        "Days_Past_Due": dpd,
        "Recovery_Status": status,
        "Collection_Attempts": attempts.astype(int),
        "Collection_Method": method,
        "Legal_Action_Taken": legal,
    }, columns=list(COLUMNS))
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype("str")
    return df, true_prob


def write_csv(df: pd.DataFrame, path: str | Path = DEFAULT_PATH) -> Path:
    """Write ``df`` as plain UTF-8, comma-separated, without the index; return the path."""
    path = Path(path)
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """Regenerate the bundled demo portfolio (n=2000, seed=7) and report its shape."""
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else DEFAULT_PATH
    df, _ = generate_portfolio()
    write_csv(df, path)
    print(f"wrote {len(df)} rows x {df.shape[1]} columns to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
