"""Command line: `python -m core score INPUT -o OUTPUT [--preset seed] [--metrics FILE]`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from core.config import RecoveryConfig
from core.decide.actions import read_actions
from core.errors import RecoveryError
from core.export import to_csv_bytes, to_excel_bytes, write_csv
from core.ingest import load_portfolio
from core.pipeline import analyse_portfolio
from core.risk import no_progress

EXIT_USER_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    """Arguments of the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m core", description="Score a loan portfolio and assign recovery strategies."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="annotate every borrower with segment, risk and strategy")
    score.add_argument("input", type=Path, help="portfolio file (.csv or .xlsx)")
    score.add_argument("-o", "--output", type=Path, required=True, help="annotated table (.csv or .xlsx)")
    score.add_argument("--preset", choices=("recommended", "seed"), default="recommended",
                       help="'seed' reproduces the notebook; default learns the real outcome")
    score.add_argument("--model", choices=("gradient_boosting", "random_forest", "logistic", "auto"),
                       help="risk model (default: the preset's; 'auto' compares the three and keeps "
                            "the best by cross-validated ROC-AUC)")
    score.add_argument("--actions", type=Path,
                       help="action table CSV (action, cost, capacity, recovery_at_low_risk, "
                            "recovery_at_high_risk): plan actions by expected net recovery")
    score.add_argument("--policy", choices=("optimised", "thresholds"), default="optimised",
                       help="with --actions: maximise expected net recovery within capacities (default), "
                            "or the notebook's thresholds with capacities applied highest scores first")
    score.add_argument("--holdout", type=float, default=0.10,
                       help="with --actions: share of borrowers kept on the notebook's rule as a "
                            "champion group (default 0.10; 0 switches it off)")
    score.add_argument("--holdout-salt", default="holdout",
                       help="with --actions: the salt that, with each loan's ID, draws the holdout")
    score.add_argument("--metrics", type=Path, help="write the Risk page's metrics as JSON here")
    score.add_argument("--sheet", help="Excel sheet to read (default: the first)")
    score.add_argument("--drop-invalid", action="store_true",
                       help="exclude rows with errors and write them to a side file")
    score.add_argument("--invalid-output", type=Path,
                       help="where --drop-invalid writes excluded rows (default: OUTPUT.invalid.csv)")
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


def score(args: argparse.Namespace) -> str:
    """Run the engine on a file; return the one-line summary."""
    portfolio = load_portfolio(_read(args.input), args.input.name, sheet=args.sheet)
    for note in portfolio.info.notes:
        print(f"note: {note}", file=sys.stderr)
    if not portfolio.report.ok and not args.drop_invalid:
        raise RecoveryError(
            "\n".join(portfolio.report.lines())
            + f"\n{len(portfolio.report.invalid_rows)} invalid row(s): fix them, or rerun with "
            "--drop-invalid to exclude them."
        )
    config = RecoveryConfig.named(args.preset)
    if args.model:
        config = config.with_(model=args.model)
    if args.actions:
        config = config.with_(actions=read_actions(_read(args.actions), args.actions.name),
                              policy=args.policy, holdout=args.holdout, holdout_salt=args.holdout_salt)
    result = analyse_portfolio(portfolio, config, args.drop_invalid, progress=_progress())
    summary = f"Scored {len(result.scored)} borrowers with {result.risk.model_label}"
    if args.actions:
        net = result.scored["Expected_Net_Recovery"].sum()
        gap = result.assignment["gap_to_lp_bound"]
        summary += (f"; {args.policy} plan worth {net:,.0f} expected net recovery"
                    + (f" (within {gap:.4%} of the LP bound)" if gap else ""))
    if not portfolio.report.ok:
        side = args.invalid_output or args.output.with_name(args.output.stem + ".invalid.csv")
        _write(side, to_csv_bytes(portfolio.invalid_rows()))
        summary += f"; excluded {len(portfolio.report.invalid_rows)} invalid row(s), listed in {side}"
    if result.trust is not None and not result.trust.act_on_score:
        print(f"warning: {result.trust.sentence()} {result.trust.verdict()}", file=sys.stderr)
    _write_table(args.output, result.table())
    if args.metrics:
        _write(args.metrics, json.dumps(result.metrics_dict(), indent=2, default=float, allow_nan=False).encode())
    return summary + f"; wrote {args.output}."


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors print their message and exit 2, never a traceback."""
    args = _parser().parse_args(argv)
    try:
        print(score(args))
    except RecoveryError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
