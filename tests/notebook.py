"""What the notebook printed, written out here so tests compare against it, not against our code."""

NOTEBOOK_NAMES = {
    0: "Moderate Income, High Loan Burden",
    1: "High Income, Low Default Risk",
    2: "Moderate Income, Medium Risk",
    3: "High Loan, Higher Default Risk",
}
