"""Command line: `python -m core score INPUT -o OUTPUT [--metrics FILE]` and
`python -m core report INPUT -o REPORT.html`, with the same options to read and analyse INPUT."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from core.config import RecoveryConfig
from core.decide.actions import read_actions
from core.errors import RecoveryError
from core.export import to_csv_bytes, to_excel_bytes, write_csv
from core.ingest import Portfolio, load_portfolio, read_table, suggest_mapping
from core.roles import NO_OUTCOME, Roles
from core.validate import REPEATED_ID
from core.pipeline import RecoveryResult, analyse_portfolio
from core.risk import no_progress

EXIT_USER_ERROR = 2


def _analysis_options() -> argparse.ArgumentParser:
    """Options every command that analyses a portfolio shares: how to read it and how to analyse it."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("input", type=Path, help="portfolio file (.csv or .xlsx)")
    options.add_argument("--preset", choices=("recommended", "seed"), default="recommended",
                         help="'seed' reproduces the notebook; default learns the real outcome")
    options.add_argument("--model", choices=("gradient_boosting", "random_forest", "logistic", "auto"),
                         help="risk model (default: the preset's; 'auto' compares the three and keeps "
                              "the best by cross-validated ROC-AUC)")
    options.add_argument("--actions", type=Path,
                         help="action table CSV (action, cost, capacity, recovery_at_low_risk, "
                              "recovery_at_high_risk): plan actions by expected net recovery")
    options.add_argument("--policy", choices=("optimised", "thresholds"), default="optimised",
                         help="with --actions: maximise expected net recovery within capacities (default), "
                              "or the notebook's thresholds with capacities applied highest scores first")
    options.add_argument("--holdout", type=float, default=0.10,
                         help="with --actions: share of borrowers kept on the notebook's rule as a "
                              "champion group (default 0.10; 0 switches it off)")
    options.add_argument("--holdout-salt", default="holdout",
                         help="with --actions: the salt that, with each loan's ID, draws the holdout")
    options.add_argument("--sheet", help="Excel sheet to read (default: the first)")
    options.add_argument("--drop-invalid", action="store_true",
                         help="exclude rows with errors and write them to a side file")
    options.add_argument("--invalid-output", type=Path,
                         help="where --drop-invalid writes excluded rows (default: OUTPUT.invalid.csv)")
    options.add_argument("--header-row", type=int, metavar="N",
                         help="the row that holds the headers (default: found below any title lines)")
    options.add_argument("--keep-repeated-ids", action="store_true",
                         help="keep rows whose Loan_ID repeats an earlier row's, each as its own case")
    roles = options.add_argument_group("column roles (default: suggested from the headers and values)")
    roles.add_argument("--id", metavar="COL", help="the column that identifies each loan")
    roles.add_argument("--outcome", metavar="COL", help="the outcome column (a category); 'none' for no outcome")
    roles.add_argument("--bad", metavar="VALUE[,VALUE…]", help="the outcome values that count as bad")
    roles.add_argument("--recovered", metavar="COL",
                       help="an amount-recovered column as the outcome, compared with the exposure")
    roles.add_argument("--bad-below", type=float, default=1.0, metavar="SHARE",
                       help="with --recovered: bad when recovered / exposure is below SHARE (default 1.0: "
                            "not fully recovered)")
    roles.add_argument("--exposure", metavar="COL", help="the outstanding amount at risk")
    roles.add_argument("--exclude", metavar="COL[,COL…]", help="columns never to learn from")
    roles.add_argument("--include", metavar="COL[,COL…]",
                       help="columns to learn from although switched off (protected, post-delinquency, "
                            "or flagged by the leakage screen)")
    return options


def _parser() -> argparse.ArgumentParser:
    """Arguments of the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="Score a loan portfolio, assign recovery strategies, and report on them.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    analysis = _analysis_options()
    score = commands.add_parser("score", parents=[analysis],
                                help="annotate every borrower with segment, risk and strategy")
    score.add_argument("-o", "--output", type=Path, required=True, help="annotated table (.csv or .xlsx)")
    score.add_argument("--metrics", type=Path, help="write the Risk page's metrics as JSON here")
    report = commands.add_parser("report", parents=[analysis],
                                 help="write a self-contained HTML report to send to stakeholders")
    report.add_argument("-o", "--output", type=Path, required=True, help="the report (.html)")
    return parser


def _read(path: Path) -> bytes:
    """The input file's bytes, or a RecoveryError saying why it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise RecoveryError(f"Input file {path} does not exist: check the path.") from None
    except IsADirectoryError:
        raise RecoveryError(f"{path} is a folder, not a file: give the portfolio file.") from None
    except OSError as error:
        raise RecoveryError(f"Cannot read {path}: {error.strerror}.") from None


def _write(path: Path, data: bytes) -> None:
    """Write bytes, or raise a RecoveryError naming the path."""
    try:
        path.write_bytes(data)
    except OSError as error:
        raise RecoveryError(f"Cannot write {path}: {error.strerror}.") from None


def _write_table(path: Path, frame) -> None:
    """Excel for .xlsx paths, CSV (streamed) otherwise; a RecoveryError names the path on failure."""
    if path.suffix.lower() == ".xlsx":
        _write(path, to_excel_bytes(frame))
        return
    try:
        write_csv(frame, path)
    except OSError as error:
        raise RecoveryError(f"Cannot write {path}: {error.strerror}.") from None


def _progress(stream=sys.stderr):
    """A progress line on a terminal; silence when output goes to a file or a pipe."""
    if not stream.isatty():
        return no_progress
    started = time.perf_counter()

    def report(step: str, done: float) -> None:
        stream.write(f"\r\033[K[{time.perf_counter() - started:5.1f} s] {step} ({done:.0%})")
        stream.flush()
        if step == "Scores ready":
            stream.write("\n")

    return report


def _names(text: str | None) -> tuple[str, ...]:
    """A comma-separated option as a tuple of names, spaces around each trimmed."""
    return tuple(n.strip() for n in text.split(",") if n.strip()) if text else ()


def _mapping(args: argparse.Namespace, headers: list[str]) -> dict[str, str] | None:
    """The suggested column mapping with the identifier and exposure the user named (None: as suggested)."""
    if not (args.id or args.exposure):
        return None
    for given, option in ((args.id, "--id"), (args.exposure, "--exposure")):
        if given and given not in headers:
            raise RecoveryError(f"{option} {given}: the file has no such column. Columns are: {', '.join(headers)}.")
    given = {"Loan_ID": args.id, "Outstanding_Loan_Amount": args.exposure}
    mapping = {k: v for k, v in suggest_mapping(headers).items()
               if v not in given.values() and not (k in given and given[k])}
    return {**mapping, **{k: v for k, v in given.items() if v}}


def _roles(args: argparse.Namespace) -> Roles:
    """The column roles given on the command line."""
    outcome = NO_OUTCOME if args.outcome and args.outcome.casefold() == "none" else args.outcome
    return Roles(outcome=outcome, bad=_names(args.bad) or None, recovered=args.recovered,
                 bad_below=args.bad_below, exclude=_names(args.exclude), include=_names(args.include))


def _roles_line(result) -> str:
    """The roles the run used, in one line for stderr."""
    used = result.roles.table
    def of(kind: str) -> str:
        rows = used[used["Used as"].str.startswith(kind)]
        return ", ".join(str(c) if c == f else f"{f} (as {c})" for c, f in zip(rows["Column"], rows["In the file"])
                         ) or "none"
    off = used[used["Used as"] == "not learned from"]
    return (f"roles: identifier {of('identifier')}; outcome {of('outcome')}"
            + (f" (bad: {', '.join(result.roles.outcome.bad) or 'none chosen'})" if result.roles.outcome else "")
            + f"; exposure {of('exposure')}; {len(result.risk.numeric_features) + len(result.risk.categorical_features)}"
            f" features; not learned from: {', '.join(f'{c} ({w})' for c, w in zip(off['Column'], off['Why'])) or 'none'}")


@dataclass(frozen=True)
class Analysis:
    """A portfolio as read from the input file, and the analysis of its rows."""

    data: bytes
    portfolio: Portfolio
    result: RecoveryResult


def _analyse(args: argparse.Namespace) -> Analysis:
    """Read the input and run every stage with the options given; roles and warnings go to stderr."""
    data = _read(args.input)
    if not args.output.parent.is_dir():  # said before the analysis, not after minutes of it
        raise RecoveryError(f"Cannot write {args.output}: the folder {args.output.parent} does not exist.")
    headers = list(read_table(data, args.input.name, sheet=args.sheet, header_row=args.header_row).frame.columns) if (
        args.id or args.exposure) else []
    portfolio = load_portfolio(data, args.input.name, mapping=_mapping(args, headers), sheet=args.sheet,
                               keep_repeated_ids=args.keep_repeated_ids, header_row=args.header_row)
    for note in portfolio.info.notes:
        print(f"note: {note}", file=sys.stderr)
    if not portfolio.report.ok and not args.drop_invalid:
        repeated = any(p.problem == REPEATED_ID for p in portfolio.report.errors())
        raise RecoveryError(
            "\n".join(portfolio.report.lines())
            + f"\n{len(portfolio.report.invalid_rows)} invalid row(s): fix them, or rerun with "
            "--drop-invalid to exclude them"
            + (" (the first row with each Loan_ID stays), or with --keep-repeated-ids to analyse every row as "
               "its own case" if repeated else "") + "."
        )
    config = RecoveryConfig.named(args.preset).with_(roles=_roles(args))
    if args.model:
        config = config.with_(model=args.model)
    if args.actions:
        config = config.with_(actions=read_actions(_read(args.actions), args.actions.name),
                              policy=args.policy, holdout=args.holdout, holdout_salt=args.holdout_salt)
    result = analyse_portfolio(portfolio, config, args.drop_invalid, progress=_progress())
    print(_roles_line(result), file=sys.stderr)
    if result.trust is not None and not result.trust.act_on_score:
        print(f"warning: {result.trust.sentence()} {result.trust.verdict()}", file=sys.stderr)
    return Analysis(data, portfolio, result)


def _write_excluded(args: argparse.Namespace, portfolio: Portfolio) -> str:
    """Write the excluded rows beside the output; the words the summary line adds ('' when none)."""
    if portfolio.report.ok:
        return ""
    side = args.invalid_output or args.output.with_name(args.output.stem + ".invalid.csv")
    _write(side, to_csv_bytes(portfolio.invalid_rows()))
    return f"; excluded {len(portfolio.report.invalid_rows)} invalid row(s), listed in {side}"


def score(args: argparse.Namespace) -> str:
    """Annotate every borrower of a file; return the one-line summary."""
    run = _analyse(args)
    result = run.result
    summary = f"Scored {len(result.scored)} borrowers with {result.risk.model_label}"
    if args.actions:
        net = result.scored["Expected_Net_Recovery"].sum()
        gap = result.assignment["gap_to_lp_bound"]
        summary += (f"; {args.policy} plan worth {net:,.0f} expected net recovery"
                    + (f" (within {gap:.4%} of the LP bound)" if gap else ""))
    summary += _write_excluded(args, run.portfolio)
    _write_table(args.output, result.table(as_written=args.output.suffix.lower() != ".xlsx"))
    if args.metrics:
        _write(args.metrics, json.dumps(result.metrics_dict(), indent=2, default=float, allow_nan=False).encode())
    return summary + f"; wrote {args.output}."


def report(args: argparse.Namespace) -> str:
    """Write the stakeholder report of a file; return the one-line summary."""
    from core.report import ReportSource, stakeholder_report  # only this command needs it

    run = _analyse(args)
    document = stakeholder_report(run.result, ReportSource.of(run.data, run.portfolio, args.drop_invalid))
    summary = f"Reported on {len(run.result.scored):,} borrowers scored with {run.result.risk.model_label}"
    summary += _write_excluded(args, run.portfolio)
    data = document.encode("utf-8")
    _write(args.output, data)
    return summary + f"; wrote {args.output} ({len(data) / 1024:,.0f} KB)."


COMMANDS = {"score": score, "report": report}


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors print their message and exit 2, never a traceback."""
    args = _parser().parse_args(argv)
    try:
        print(COMMANDS[args.command](args))
    except RecoveryError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
