"""The command line's options: one parser for score, report, train and measure (what each option means)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.model import MODEL_LABELS

MODEL_KINDS = (*MODEL_LABELS, "auto")


def _reading_options() -> argparse.ArgumentParser:
    """How the input file is read and what its columns are, shared by every command."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("input", type=Path, help="portfolio file (.csv or .xlsx)")
    options.add_argument("--preset", choices=("recommended", "seed"),
                         help="'seed' reproduces the notebook; default (recommended) learns the real outcome")
    options.add_argument("--sheet", help="Excel sheet to read (default: the first)")
    options.add_argument("--header-row", type=int, metavar="N",
                         help="the row that holds the headers (default: found below any title lines)")
    options.add_argument("--drop-invalid", action="store_true",
                         help="exclude rows with errors and write them to a side file")
    options.add_argument("--invalid-output", type=Path,
                         help="where --drop-invalid writes excluded rows (default: OUTPUT.invalid.csv)")
    options.add_argument("--currency", metavar="CODE_OR_SYMBOL",
                         help="how money is labelled in the summary, the metrics JSON, Excel files and the report: "
                              "a code (EUR) or a symbol (€, ₹); default: no symbol")
    options.add_argument("--keep-repeated-ids", action="store_true",
                         help="keep rows whose Loan_ID repeats an earlier row's, each as its own case")
    roles = options.add_argument_group("column roles (default: suggested from the headers and values)")
    roles.add_argument("--id", metavar="COL", help="the column that identifies each loan")
    roles.add_argument("--outcome", metavar="COL", help="the outcome column (a category); 'none' for no outcome")
    roles.add_argument("--bad", metavar="VALUE[,VALUE…]", help="the outcome values that count as bad")
    roles.add_argument("--recovered", metavar="COL",
                       help="an amount-recovered column as the outcome, compared with the exposure")
    roles.add_argument("--bad-below", type=float, metavar="SHARE",
                       help="with --recovered: bad when recovered / exposure is below SHARE (default 1.0: "
                            "not fully recovered, or 0.5 with a note when nobody is recovered in full); "
                            "a share given here is used as given, or the run stops saying why")
    roles.add_argument("--exposure", metavar="COL", help="the outstanding amount at risk")
    roles.add_argument("--exclude", metavar="COL[,COL…]", help="columns never to learn from")
    roles.add_argument("--include", metavar="COL[,COL…]",
                       help="columns to learn from although switched off (protected, post-delinquency, "
                            "or flagged by the leakage screen)")
    roles.add_argument("--action-column", metavar="COL",
                       help="the history's column saying which action each borrower received, to learn what "
                            "each action achieves (default: Collection_Method or a column named like a "
                            "channel, method or action)")
    return options


def _plan_options() -> argparse.ArgumentParser:
    """The recovery plan's options, shared by score and report."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--actions", type=Path,
                         help="action table CSV (action, cost, capacity, recovery_at_low_risk, "
                              "recovery_at_high_risk, and optionally method): plan actions by expected net "
                              "recovery; a row naming the history's method with its recovery figures empty "
                              "takes what the history says that method achieves")
    options.add_argument("--policy", choices=("optimised", "thresholds"), default="optimised",
                         help="with --actions: maximise expected net recovery within capacities (default), "
                              "or the notebook's thresholds with capacities applied highest scores first")
    options.add_argument("--holdout", type=float, default=0.10,
                         help="with --actions: share of borrowers kept on the notebook's rule as a "
                              "champion group (default 0.10; 0 switches it off)")
    options.add_argument("--holdout-salt", default="holdout",
                         help="with --actions: the salt that, with each loan's ID, draws the holdout")
    return options


def parser() -> argparse.ArgumentParser:
    """Arguments of the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="Score a loan portfolio, assign recovery strategies, report on them, and save models.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    reading, plan = _reading_options(), _plan_options()
    score = commands.add_parser("score", parents=[reading, plan],
                                help="annotate every borrower with segment, risk and strategy")
    score.add_argument("-o", "--output", type=Path, required=True, help="annotated table (.csv or .xlsx)")
    score.add_argument("--model", metavar="KIND_OR_MODEL.slr",
                       help="risk model kind to train: gradient_boosting (default), random_forest, logistic, "
                            "or auto (compares the three, keeps the best by cross-validated ROC-AUC); or the "
                            "path of a saved model (.slr from `train`) to score with it, without retraining")
    score.add_argument("--metrics", type=Path, help="write the Risk page's metrics as JSON here")
    score.add_argument("--drift", type=Path,
                       help="with --model MODEL.slr: write each field's and the score's drift from the training "
                            "file (PSI and band) here; a one-line summary goes to stderr")
    score.add_argument("--engine", choices=("local", "dask"), default="local",
                       help="with --model MODEL.slr: 'dask' scores a CSV or Parquet dataset (a path or a quoted "
                            "glob) on a Dask cluster and writes one part per partition into the folder OUTPUT "
                            "(Parquet parts when OUTPUT ends in .parquet, CSV otherwise)")
    score.add_argument("--scheduler", metavar="ADDRESS",
                       help="with --engine dask: the cluster's scheduler (tcp://host:8786); default: start a "
                            "local cluster of two single-threaded worker processes")
    score.add_argument("--chunk-bytes", type=int, default=None, help=argparse.SUPPRESS)
    score.add_argument("--workers", type=int, default=None, metavar="N",
                       help="with --model MODEL.slr on a CSV: processes scoring its parts side by side "
                            "(default: one per core, at most 2; 1 scores in this process)")
    report = commands.add_parser("report", parents=[reading, plan],
                                 help="write a self-contained HTML report to send to stakeholders")
    report.add_argument("-o", "--output", type=Path, required=True, help="the report (.html)")
    report.add_argument("--model", choices=MODEL_KINDS, help="risk model kind, as for score")
    train = commands.add_parser("train", parents=[reading],
                                help="learn from a history file and save the model to score new files")
    train.add_argument("-o", "--output", type=Path, required=True, help="the saved model (.slr)")
    train.add_argument("--model", choices=MODEL_KINDS, help="risk model kind, as for score")
    train.add_argument("--metrics", type=Path, help="write the out-of-fold metrics as JSON here")
    measure = commands.add_parser("measure", help="measure a planned month once its outcomes are back: the "
                                                  "optimised group against the champion group")
    measure.add_argument("input", type=Path, help="the plan's download (.csv or .xlsx) with the outcomes added")
    measure.add_argument("--outcome", metavar="COL", required=True,
                         help="the column holding the amount each borrower repaid")
    measure.add_argument("--actions", type=Path,
                         help="the action table the plan was made with: money is then net of each action's cost")
    measure.add_argument("-o", "--output", type=Path, help="write the measurement table here (.csv or .xlsx)")
    measure.add_argument("--report", type=Path, metavar="REPORT.html",
                         help="also write the measurement as a self-contained HTML page for the plan's approvers")
    measure.add_argument("--currency", metavar="CODE_OR_SYMBOL", default="",
                         help="how money is labelled in the lines, the table's Excel file and the report, as for score")
    return parser
