"""Canonical portfolio fields: what each column is, what values it may hold, what it is called."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["id", "numeric", "category"]
Role = Literal["identity", "profile", "loan", "repayment", "collection", "outcome"]


@dataclass(frozen=True)
class Field:
    """One canonical column of a loan portfolio."""

    name: str
    kind: Kind
    role: Role
    label: str
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    synonyms: tuple[str, ...] = ()
    integer: bool = False


FIELDS: tuple[Field, ...] = (
    Field("Borrower_ID", "id", "identity", "Borrower ID",
          synonyms=("borrower", "customer_id", "client_id", "cust_id", "customer", "borrower_no",
                    "customer_no", "customer_number", "client_no", "client_number", "cif", "cust_no")),
    Field("Age", "numeric", "profile", "Age", minimum=18, maximum=100, integer=True,
          synonyms=("borrower_age", "age_years", "customer_age")),
    Field("Gender", "category", "profile", "Gender", allowed=("Male", "Female"),
          synonyms=("sex",)),
    Field("Employment_Type", "category", "profile", "Employment type",
          allowed=("Salaried", "Self-Employed", "Business Owner"),
          synonyms=("employment", "employment_status", "occupation_type", "job_type")),
    Field("Monthly_Income", "numeric", "profile", "Monthly income", minimum=0,
          synonyms=("income", "monthly_salary", "salary", "net_monthly_income")),
    Field("Num_Dependents", "numeric", "profile", "Dependents", minimum=0, maximum=20, integer=True,
          synonyms=("dependents", "number_of_dependents", "no_of_dependents")),
    Field("Loan_ID", "id", "identity", "Loan ID",
          synonyms=("loan", "loan_number", "loan_no", "account_id", "account_number", "contract_id",
                    "loan_account_number", "loan_account_no", "loan_account", "account_no", "acct_no",
                    "account", "loan_acc_no", "agreement_no", "contract_no")),
    Field("Loan_Amount", "numeric", "loan", "Loan amount", minimum=0,
          synonyms=("principal", "sanctioned_amount", "disbursed_amount", "loan_value", "amount")),
    Field("Loan_Tenure", "numeric", "loan", "Tenure (months)", minimum=1, maximum=600, integer=True,
          synonyms=("tenure", "term", "tenure_months", "loan_term", "term_months")),
    Field("Interest_Rate", "numeric", "loan", "Interest rate (%)", minimum=0, maximum=100,
          synonyms=("rate", "interest", "apr", "roi", "rate_of_interest")),
    Field("Loan_Type", "category", "loan", "Loan type",
          allowed=("Home", "Auto", "Personal", "Business"),
          synonyms=("product", "product_type", "loan_product", "loan_category")),
    Field("Collateral_Value", "numeric", "loan", "Collateral value", minimum=0,
          synonyms=("collateral", "security_value", "collateral_amount")),
    Field("Outstanding_Loan_Amount", "numeric", "loan", "Outstanding", minimum=0,
          synonyms=("outstanding", "outstanding_balance", "balance", "outstanding_amount",
                    "principal_outstanding", "pos", "exposure")),
    Field("Monthly_EMI", "numeric", "loan", "Monthly EMI", minimum=0,
          synonyms=("emi", "instalment", "installment", "monthly_installment", "monthly_payment")),
    Field("Payment_History", "category", "repayment", "Payment history",
          allowed=("On-Time", "Delayed", "Missed"),
          synonyms=("repayment_history", "payment_status", "repayment_status")),
    Field("Num_Missed_Payments", "numeric", "repayment", "Missed payments", minimum=0, integer=True,
          synonyms=("missed_payments", "missed_emis", "missed_installments", "num_missed")),
    Field("Days_Past_Due", "numeric", "repayment", "Days past due", minimum=0, integer=True,
          synonyms=("dpd", "overdue_days", "days_overdue", "days_delinquent", "days_in_arrears")),
    Field("Recovery_Status", "category", "outcome", "Recovery status",
          allowed=("Fully Recovered", "Partially Recovered", "Written Off"),
          synonyms=("recovery", "outcome", "status", "loan_status", "recovery_outcome")),
    Field("Collection_Attempts", "numeric", "collection", "Collection attempts", minimum=0,
          integer=True, synonyms=("attempts", "contact_attempts", "num_collection_attempts")),
    Field("Collection_Method", "category", "collection", "Collection method",
          allowed=("Calls", "Settlement Offer", "Legal Notice", "Debt Collectors"),
          synonyms=("method", "recovery_method", "collection_channel")),
    Field("Legal_Action_Taken", "category", "collection", "Legal action taken",
          allowed=("Yes", "No"), synonyms=("legal_action", "legal", "litigation")),
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
ID_FIELDS = tuple(f.name for f in FIELDS if f.kind == "id")
NUMERIC_FIELDS = tuple(f.name for f in FIELDS if f.kind == "numeric")
CATEGORY_FIELDS = tuple(f.name for f in FIELDS if f.kind == "category")
COLLECTION_FIELDS = tuple(f.name for f in FIELDS if f.role == "collection")
OUTCOME = "Recovery_Status"
FULLY_RECOVERED = "Fully Recovered"
WRITTEN_OFF = "Written Off"
PROTECTED_FIELDS = ("Gender",)

# The notebook's three strategies, verbatim: legal above 0.75, settlement from 0.50, reminders below.
SEED_STRATEGIES = (
    "Immediate legal notices & aggressive recovery attempts",
    "Settlement offers & repayment plans",
    "Automated reminders & monitoring",
)

# The ten numeric fields the notebook clusters and scores on.
SEED_FEATURES = (
    "Age", "Monthly_Income", "Loan_Amount", "Loan_Tenure", "Interest_Rate",
    "Collateral_Value", "Outstanding_Loan_Amount", "Monthly_EMI", "Num_Missed_Payments",
    "Days_Past_Due",
)

def field(name: str) -> Field:
    """Return the canonical field called ``name``."""
    return BY_NAME[name]


def label(name: str) -> str:
    """Human label of a canonical or derived column; unknown names are returned unchanged."""
    if name in BY_NAME:
        return BY_NAME[name].label
    return DERIVED_LABELS.get(name, name)


# Ratios a credit analyst reads, computed in core.data.features.
DERIVED_LABELS: dict[str, str] = {
    "EMI_To_Income": "EMI-to-income",
    "Collateral_Coverage": "Collateral coverage",
    "Outstanding_Share": "Share of loan outstanding",
}
