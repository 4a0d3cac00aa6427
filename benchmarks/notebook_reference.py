"""The tutorial notebook's modelling pipeline as a standalone script: the reference for bench_stages.py.

    python -m benchmarks.notebook_reference PORTFOLIO.csv OUT.csv

Reproduces, cell by cell and without improvements, what "Smart Loan Recovery System.ipynb"
(../shared/seeds) computes: read the CSV with pandas; standardise its ten numeric fields and
cluster them with K-Means (k=4, n_init=10, random_state=42); name the clusters by id and flag
clusters 0 and 3 ("High Loan, Higher Default Risk", "Moderate Income, High Loan Burden") as high
risk; fit the notebook's Random Forest (200 trees, depth 8, ..., n_jobs=-1) on an 80/20
stratified split of the raw fields; predict_proba on the test rows; threshold at 0.5; merge the
borrower details; assign the three recovery strategies. The test rows are written to OUT.csv
and one line is printed. The notebook's charts, df.info()/describe() and its metrics cell are
left out: they are exploration, not part of the scoring pipeline. Imports nothing from core/.
"""

from __future__ import annotations

import sys

import pandas as pd
from sklearn.cluster import KMeans
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

FEATURES: list[str] = [
    "Age", "Monthly_Income", "Loan_Amount", "Loan_Tenure", "Interest_Rate",
    "Collateral_Value", "Outstanding_Loan_Amount", "Monthly_EMI", "Num_Missed_Payments", "Days_Past_Due",
]

SEGMENT_NAMES: dict[int, str] = {
    0: "Moderate Income, High Loan Burden",
    1: "High Income, Low Default Risk",
    2: "Moderate Income, Medium Risk",
    3: "High Loan, Higher Default Risk",
}


def segment(df: pd.DataFrame) -> pd.DataFrame:
    """Notebook cells 36-39: K-Means on the standardised fields, then segment names by cluster id."""
    scaler = StandardScaler()
    df_scaled = scaler.fit_transform(df[FEATURES])
    optimal_k = 4
    kmeans = KMeans(n_clusters=optimal_k, random_state=42, n_init=10)
    df["Borrower_Segment"] = kmeans.fit_predict(df_scaled)
    df["Segment_Name"] = df["Borrower_Segment"].map(SEGMENT_NAMES)
    return df


def score(df: pd.DataFrame) -> pd.DataFrame:
    """Notebook's Random Forest cell: high-risk flag from segments, fit, risk scores on the test split."""
    df["High_Risk_Flag"] = df["Segment_Name"].apply(
        lambda x: 1 if x in ["High Loan, Higher Default Risk", "Moderate Income, High Loan Burden"] else 0
    )
    X = df[FEATURES]
    y = df["High_Risk_Flag"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42, stratify=y)
    rf_model = RandomForestClassifier(
        n_estimators=200,
        max_depth=8,
        min_samples_split=10,
        min_samples_leaf=4,
        max_features="sqrt",
        class_weight="balanced",
        random_state=42,
        bootstrap=True,
        oob_score=True,
        n_jobs=-1,
    )
    rf_model.fit(X_train, y_train)
    risk_scores = rf_model.predict_proba(X_test)[:, 1]
    df_test = X_test.copy()
    df_test["Risk_Score"] = risk_scores
    df_test["Predicted_High_Risk"] = (df_test["Risk_Score"] > 0.5).astype(int)
    df_test = df_test.merge(
        df[["Borrower_ID", "Segment_Name", "Recovery_Status", "Collection_Method", "Collection_Attempts",
            "Legal_Action_Taken"]],
        left_index=True, right_index=True,
    )
    return df_test


def assign_recovery_strategy(risk_score: float) -> str:
    """Notebook cell 54: the three threshold strategies, boundaries exactly as written there."""
    if risk_score > 0.75:
        return "Immediate legal notices & aggressive recovery attempts"
    elif 0.50 <= risk_score <= 0.75:
        return "Settlement offers & repayment plans"
    else:
        return "Automated reminders & monitoring"


def main(argv: list[str]) -> int:
    """Run the pipeline on argv[0], write the scored test rows to argv[1], print one line."""
    if len(argv) != 2:
        print("usage: python -m benchmarks.notebook_reference PORTFOLIO.csv OUT.csv", file=sys.stderr)
        return 2
    source, target = argv
    df = pd.read_csv(source)
    df = segment(df)
    df_test = score(df)
    df_test["Recovery_Strategy"] = df_test["Risk_Score"].apply(assign_recovery_strategy)
    df_test.to_csv(target, index=False)
    print(f"Scored {len(df_test)} of {len(df)} borrowers (the 20% test split) with the notebook's Random Forest")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
