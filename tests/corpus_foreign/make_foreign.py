"""Regenerate the foreign-shaped corpus byte for byte: `python tests/corpus_foreign/make_foreign.py`.

Small portfolios shaped unlike the tutorial's, each drawn from a stated model with a seed, to check
that every figure the product shows is true on a lender's own file (tests/test_true_figures.py):

* ``good_bad_spellings.csv``: a good/bad outcome spelled 'PAID OFF' / 'Charged-Off', other headers.
* ``recovered_none_full.csv``: an amount recovered where nobody is recovered in full.
* ``no_exposure.csv``: a yes/no default flag and no outstanding amount at all.
* ``exact_duplicates.csv``: a Recovered/Default status with rows repeated cell for cell.
The shipped German credit data (sample_data/german_credit) completes the corpus.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
N = 400


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def good_bad_spellings(rng: np.random.Generator) -> pd.DataFrame:
    """Good/bad outcome in other spellings; exposure as 'outstanding_balance'."""
    arrears = rng.gamma(2.0, 30.0, N).round()
    income = np.round(rng.lognormal(10.5, 0.4, N), 0)
    balance = np.round(income * rng.uniform(1, 8, N), 0)
    bad = rng.random(N) < _sigmoid(-1.0 + 0.02 * (arrears - 60) + 0.2 * np.log(balance / income))
    return pd.DataFrame({
        "account_ref": [f"ACC-{i:04d}" for i in range(1, N + 1)],
        "monthly_income": income,
        "outstanding_balance": balance,
        "days_in_arrears": arrears.astype(int),
        "region": rng.choice(("North", "South", "East", "West"), N),
        "loan_result": np.where(bad, "Charged-Off", "PAID OFF"),
    })


def recovered_none_full(rng: np.random.Generator) -> pd.DataFrame:
    """An agency export: recovery_amount always below outstanding_amount (nobody recovered in full)."""
    outstanding = np.round(rng.lognormal(10.5, 0.5, N), 2)
    dpd = rng.gamma(2.0, 45.0, N).round().astype(int)
    band = rng.choice(("Low", "Medium", "High"), N)
    share = _sigmoid(0.8 - 0.012 * (dpd - 90) + np.where(band == "High", 0.6, 0.0) + rng.normal(0, 0.8, N)) * 0.98
    return pd.DataFrame({
        "account_id": [f"AC{i:05d}" for i in range(1, N + 1)],
        "loan_amount": np.round(outstanding * rng.uniform(1.0, 2.0, N), 2),
        "outstanding_amount": outstanding,
        "days_past_due": dpd,
        "customer_income_band": band,
        "recovery_amount": np.round(outstanding * share, 2),
    })


def no_exposure(rng: np.random.Generator) -> pd.DataFrame:
    """A yes/no default flag, and no outstanding amount: planning has no money to weigh."""
    months = rng.integers(6, 60, N)
    age = rng.integers(20, 70, N)
    credit = np.round(rng.lognormal(8.0, 0.6, N), 0)
    bad = rng.random(N) < _sigmoid(-1.2 + 0.04 * (months - 24) - 0.02 * (age - 40))
    return pd.DataFrame({
        "duration_months": months,
        "age_years": age,
        "credit_amount": credit,
        "purpose": rng.choice(("car", "furniture", "education", "business"), N),
        "defaulted": np.where(bad, "yes", "no"),
    })


def exact_duplicates(rng: np.random.Generator) -> pd.DataFrame:
    """A Recovered/Default status, with 20 rows exported twice cell for cell."""
    income = np.round(rng.lognormal(10.6, 0.5, N), 0)
    loan = np.round(income * rng.uniform(2, 10, N), 0)
    dpd = rng.gamma(2.0, 40.0, N).round().astype(int)
    default = rng.random(N) < _sigmoid(-1.3 + 0.015 * (dpd - 80) + 0.5 * np.log(loan / income / 5))
    frame = pd.DataFrame({
        "Loan_ID": [f"LN-{i:05d}" for i in range(1, N + 1)],
        "Customer_Age": rng.integers(21, 70, N),
        "Income": income,
        "Loan_Type": rng.choice(("Home Loan", "Auto Loan", "Personal Loan"), N),
        "Loan_Amount": loan,
        "Outstanding_Loan_Amount": np.round(loan * rng.uniform(0.2, 0.9, N), 0),
        "Days_Past_Due": dpd,
        "Recovery_Status": np.where(default, "Default", "Recovered"),
    })
    repeated = frame.iloc[rng.choice(N, 20, replace=False)]
    return pd.concat([frame, repeated], ignore_index=True)


FILES = {
    "good_bad_spellings.csv": good_bad_spellings,
    "recovered_none_full.csv": recovered_none_full,
    "no_exposure.csv": no_exposure,
    "exact_duplicates.csv": exact_duplicates,
}


def main() -> None:
    """Write every file of the corpus beside this script."""
    for i, (name, make) in enumerate(FILES.items()):
        make(np.random.default_rng(160 + i)).to_csv(HERE / name, index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
