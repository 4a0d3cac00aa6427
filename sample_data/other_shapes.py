"""Portfolios shaped unlike the tutorial's, drawn from stated models, to test any lender's file.

``collections_export``: an agency's export whose outcome is an amount recovered, not a status.
``loan_book``: a loan book with dates, free text, repeated loan IDs, a Default/Recovered status
and fields recorded after the outcome (outstanding = loan − recovered), which leak it.
Each returns the frame and every row's true probability of the bad outcome.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CITIES = ("Pune", "Delhi", "Mumbai", "Chennai", "Kolkata", "Jaipur")
BANDS = ("Low", "Medium", "High")
HISTORY = ("Good", "Average", "Poor")
CHANNELS = ("Phone", "SMS", "Field visit", "Email")
CONTACT_OUTCOMES = ("Paid", "Promise to pay", "No answer", "Refused")
NOTES = ("customer asked for more time", "left voicemail, will call again", "moved house, new address pending",
         "dispute about the interest charged", "lost job in March, looking for work", "paid part, rest next month")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def collections_export(n: int = 3000, seed: int = 11) -> tuple[pd.DataFrame, np.ndarray]:
    """An agency's export: bad = not fully recovered, recorded as recovery_amount < outstanding_amount."""
    rng = np.random.default_rng(seed)
    loan = np.round(rng.lognormal(11.0, 0.6, n), 2)
    outstanding = np.round(loan * rng.uniform(0.2, 1.0, n), 2)
    dpd = np.minimum(rng.gamma(2.0, 45.0, n).round(), 720).astype(int)
    band = rng.choice(BANDS, n, p=(0.4, 0.4, 0.2))
    history = rng.choice(HISTORY, n, p=(0.5, 0.3, 0.2))
    logit = (-0.6 + 0.014 * (dpd - 90) + np.select([band == "Low", band == "High"], [0.5, -0.7], 0.0)
             + np.select([history == "Poor", history == "Good"], [1.0, -0.6], 0.0))
    p = _sigmoid(logit)
    bad = rng.random(n) < p
    recovered = np.where(bad, np.round(outstanding * rng.uniform(0.0, 0.9, n), 2), outstanding)
    attempts = rng.poisson(np.where(bad, 7, 3))
    frame = pd.DataFrame({
        "account_id": [f"AC{i:06d}" for i in range(1, n + 1)],
        "loan_amount": loan,
        "outstanding_amount": outstanding,
        "days_past_due": dpd,
        "customer_location": rng.choice(CITIES, n),
        "customer_income_band": band,
        "previous_payment_history": history,
        "num_contact_attempts": attempts,
        "last_contact_channel": rng.choice(CHANNELS, n),
        "last_contact_outcome": np.where(bad, rng.choice(CONTACT_OUTCOMES[1:], n), "Paid"),
        "assigned_channel": rng.choice(CHANNELS[:3], n),
        "recovery_amount": recovered,
    })
    return frame, p


def loan_book(n: int = 3000, seed: int = 12, repeats: int = 40) -> tuple[pd.DataFrame, np.ndarray]:
    """A loan book: bad = Recovery_Status 'Default'; dates, free text, repeated IDs and post-outcome fields."""
    rng = np.random.default_rng(seed)
    age = rng.integers(21, 70, n)
    income = np.round(rng.lognormal(10.6, 0.5, n), 0)
    loan_type = rng.choice(("Home", "Auto", "Personal", "Business"), n)
    loan = np.round(income * rng.uniform(2, 12, n), 0)
    rate = np.round(rng.uniform(6, 24, n), 2)
    issued = pd.Timestamp("2025-12-31") - pd.to_timedelta(rng.integers(30, 1500, n), unit="D")
    months_on_book = (pd.Timestamp("2025-12-31") - issued).days.to_numpy() / 30.4
    # additive in the file's own fields (log loan − log income is), so a model can reach the truth
    logit = (-2.2 + 0.12 * (rate - 15) + 0.9 * np.log(loan / income) - 0.015 * (age - 45)
             + 0.02 * (months_on_book - 24) + np.where(loan_type == "Personal", 0.6, 0.0))
    p = _sigmoid(logit)
    default = rng.random(n) < p
    recovered = np.where(default, np.round(loan * rng.uniform(0.0, 0.7, n), 0), loan)
    ids = np.array([f"LN-{i:05d}" for i in range(1, n + 1)], dtype=object)
    # the same loan exported twice (a re-scheduled loan appears on two lines)
    ids[rng.choice(np.arange(n // 2, n), repeats, replace=False)] = ids[rng.choice(n // 2, repeats, replace=False)]
    frame = pd.DataFrame({
        "Loan_ID": ids,
        "Customer_Age": age,
        "Income": income,
        "Loan_Type": loan_type,
        "Loan_Amount": loan,
        "Interest_Rate": rate,
        "Issue_Date": issued.strftime("%Y-%m-%d"),
        "Loan_Status": rng.choice(("Active", "Closed"), n),
        "Recovery_Status": np.where(default, "Default", "Recovered"),
        "Recovery_Amount": recovered,
        "Outstanding_Amount": loan - recovered,
        "Recovery_Rate": np.round(recovered / loan, 4),
        "Officer_Notes": [f"{NOTES[i % len(NOTES)]} (call {j})" for i, j in
                          zip(rng.integers(0, len(NOTES), n), rng.integers(1, 9999, n))],
    })
    return frame, p
