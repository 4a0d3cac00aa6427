"""Readable labels for a file's own headers: humanised, short, unique within the file, the original kept."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.labels import MAX_LABEL, file_labels, humanise, label_in, lower_first, original_of, readable, shorten
from core.data.schema import DERIVED_LABELS, FIELDS
from tests.helpers import ROOT

GERMAN = ROOT / "sample_data" / "german_credit" / "german_credit.csv"


@pytest.fixture(scope="module")
def german_columns() -> list[str]:
    return list(pd.read_csv(GERMAN, nrows=1).columns)


def test_the_tutorials_columns_keep_their_labels():
    for field in FIELDS:
        assert readable(field.name) == field.label
    assert readable("Loan_Tenure") == "Tenure (months)" and readable("Interest_Rate") == "Interest rate (%)"
    for name, label in DERIVED_LABELS.items():
        assert readable(name) == label
    tutorial = [f.name for f in FIELDS] + list(DERIVED_LABELS)
    assert file_labels(tutorial) == {n: readable(n) for n in tutorial}


@pytest.mark.parametrize(("header", "label"), [
    ("age_in_years", "Age in years"),
    ("monthlyEMI", "Monthly EMI"),
    ("DPDBucket", "DPD bucket"),
    ("num_EMIs_paid", "Num EMIs paid"),
    ("cust_id", "Cust ID"),
    ("LOAN_AMOUNT", "Loan amount"),
    ("LTV_ratio", "LTV ratio"),
    ("days-past-due", "Days past due"),
    ("loan_amount_($)", "Loan amount ($)"),
    ("Loan Amount (EUR)", "Loan Amount (EUR)"),  # already words: kept as written
])
def test_headers_read_as_words_with_abbreviations_in_capitals(header, label):
    assert humanise(header) == label


def test_long_headers_are_cut_at_a_word_boundary_without_a_dangling_filler_word():
    long = "number_of_people_being_liable_to_provide_maintenance_for"
    assert readable(long) == "Number of people…"
    assert readable("installment_rate_in_percentage_of_disposable_income") == "Installment rate…"
    assert shorten("x" * 40) == "x" * (MAX_LABEL - 1) + "…"
    assert shorten("Short enough") == "Short enough"


def test_every_label_of_the_german_file_is_short_readable_and_unique(german_columns):
    labels = file_labels(german_columns)
    assert set(labels) == set(german_columns)
    assert all(len(label) <= MAX_LABEL for label in labels.values())
    assert len(set(labels.values())) == len(labels)
    assert not any("_" in label for label in labels.values())
    assert labels["age_in_years"] == "Age in years"
    assert labels["number_of_existing_credits_at_this_bank"] == "Number of existing credits…"


def test_two_columns_never_share_a_label():
    columns = ["number_of_people_being_liable_to_provide_maintenance_for", "number_of_people_being_liable_to_pay",
               "age_in_years", "AgeInYears", "Age", "age", "monthly_income", "Monthly_Income"]
    labels = file_labels(columns)
    assert len(set(labels.values())) == len(columns)
    assert all(len(label) <= MAX_LABEL for label in labels.values())
    assert labels["Age"] == "Age" and labels["Monthly_Income"] == "Monthly income"  # the schema's keep theirs
    # two long headers that shorten alike keep the words that tell them apart
    assert labels["number_of_people_being_liable_to_provide_maintenance_for"].endswith("maintenance for")
    assert labels["number_of_people_being_liable_to_pay"].endswith("pay")
    # the same words written twice: the file's own header tells them apart
    assert {labels["age_in_years"], labels["AgeInYears"]} == {"Age in years", "AgeInYears"}


def test_many_clashing_headers_still_get_distinct_labels():
    columns = [f"total_amount_outstanding_at_the_end_of_period_{'x' * n}" for n in range(1, 8)]
    labels = file_labels(columns)
    assert len(set(labels.values())) == len(columns)
    assert all(len(label) <= MAX_LABEL for label in labels.values())


def test_the_original_header_is_kept_for_hover(german_columns):
    originals = original_of(german_columns)
    assert originals["Number of people…"] == "number_of_people_being_liable_to_provide_maintenance_for"
    assert label_in("age_in_years", german_columns) == "Age in years"
    assert label_in("not_in_the_file", german_columns) == "Not in the file"


def test_a_label_inside_a_phrase_starts_in_lower_case_unless_an_abbreviation():
    assert lower_first("Age in years") == "age in years"
    assert lower_first("EMI burden") == "EMI burden"
    assert lower_first("DPD bucket") == "DPD bucket"
