"""Command line.

    python -m core score INPUT -o OUTPUT [--preset seed] [--model KIND] [--metrics FILE]
    python -m core train HISTORY -o MODEL.slr [--preset seed] [--model KIND]
    python -m core score NEW -o OUTPUT --model MODEL.slr        (no retraining)
"""

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
from core.pipeline import analysable_rows, analyse_portfolio, prepare
from core.risk import MODEL_LABELS, no_progress

EXIT_USER_ERROR = 2
MODEL_KINDS = (*MODEL_LABELS, "auto")


def _parser() -> argparse.ArgumentParser:
    """Arguments of the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m core", description="Score a loan portfolio and assign recovery strategies."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="annotate every borrower with segment, risk and strategy")
    score.add_argument("input", type=Path, help="portfolio file (.csv or .xlsx)")
    score.add_argument("-o", "--output", type=Path, required=True, help="annotated table (.csv or .xlsx)")
    score.add_argument("--preset", choices=("recommended", "seed"),
                       help="'seed' reproduces the notebook; default (recommended) learns the real outcome")
    score.add_argument("--model", metavar="KIND_OR_MODEL.slr",
                       help="risk model kind to train: gradient_boosting (default), random_forest, logistic, "
                            "or auto (compares the three, keeps the best by cross-validated ROC-AUC); or the "
                            "path of a saved model (.slr from `train`) to score with it, without retraining")
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
    _reading_options(score)
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
    train = commands.add_parser("train", help="learn from a history file and save the model to score new files")
    train.add_argument("input", type=Path, help="history file with outcomes (.csv or .xlsx)")
    train.add_argument("-o", "--output", type=Path, required=True, help="the saved model (.slr)")
    train.add_argument("--preset", choices=("recommended", "seed"), help="as for score")
    train.add_argument("--model", choices=MODEL_KINDS, help="risk model kind, as for score")
    train.add_argument("--metrics", type=Path, help="write the out-of-fold metrics as JSON here")
    _reading_options(train)
    return parser


def _reading_options(command: argparse.ArgumentParser) -> None:
    """How the input file is read, shared by score and train."""
    command.add_argument("--sheet", help="Excel sheet to read (default: the first)")
    command.add_argument("--drop-invalid", action="store_true",
                         help="exclude rows with errors and write them to a side file")
    command.add_argument("--invalid-output", type=Path,
                         help="where --drop-invalid writes excluded rows (default: OUTPUT.invalid.csv)")


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


def _portfolio(args: argparse.Namespace):
    """The input file read and checked; invalid rows stop the run unless --drop-invalid."""
    portfolio = load_portfolio(_read(args.input), args.input.name, sheet=args.sheet)
    if not portfolio.report.ok and not args.drop_invalid:
        raise RecoveryError(
            "\n".join(portfolio.report.lines())
            + f"\n{len(portfolio.report.invalid_rows)} invalid row(s): fix them, or rerun with "
            "--drop-invalid to exclude them."
        )
    return portfolio


def _write_invalid(args: argparse.Namespace, portfolio) -> str:
    """Write the excluded rows beside the output; the words for the summary line ('' when none)."""
    if portfolio.report.ok:
        return ""
    side = args.invalid_output or args.output.with_name(args.output.stem + ".invalid.csv")
    _write(side, to_csv_bytes(portfolio.invalid_rows()))
    return f"; excluded {len(portfolio.report.invalid_rows)} invalid row(s), listed in {side}"


def _config(args: argparse.Namespace, kind: str | None) -> RecoveryConfig:
    """The preset's settings with the chosen model kind."""
    config = RecoveryConfig.named(args.preset or "recommended")
    return config.with_(model=kind) if kind else config


def _with_actions(args: argparse.Namespace, config: RecoveryConfig) -> RecoveryConfig:
    """The settings with the action table and plan options, when --actions is given."""
    if not args.actions:
        return config
    return config.with_(actions=read_actions(_read(args.actions), args.actions.name),
                        policy=args.policy, holdout=args.holdout, holdout_salt=args.holdout_salt)


def _saved_model(value: str | None) -> Path | None:
    """The saved model --model names, None for a model kind; refuses a value that is neither."""
    if value is None or value in MODEL_KINDS:
        return None
    path = Path(value)
    if not path.exists():
        raise RecoveryError(f"--model {value}: not a model kind ({', '.join(MODEL_KINDS)}) and no saved "
                            "model file at that path: give a kind, or the .slr file written by `train`.")
    return path


def score(args: argparse.Namespace) -> str:
    """Run the engine on a file (or score it with a saved model); return the one-line summary."""
    saved = _saved_model(args.model)
    if saved is not None:
        return score_with_saved_model(args, saved)
    if args.engine == "dask":
        raise RecoveryError("--engine dask scores with a saved model: train one with `python -m core train` "
                            "and give it with --model MODEL.slr.")
    if args.drift:
        raise RecoveryError("--drift compares a new file with the file a saved model was trained on: "
                            "give the model with --model MODEL.slr.")
    portfolio = _portfolio(args)
    config = _with_actions(args, _config(args, args.model))
    result = analyse_portfolio(portfolio, config, args.drop_invalid, progress=_progress())
    summary = f"Scored {len(result.scored)} borrowers with {result.risk.model_label}"
    if args.actions:
        net = result.scored["Expected_Net_Recovery"].sum()
        gap = result.assignment["gap_to_lp_bound"]
        summary += (f"; {args.policy} plan worth {net:,.0f} expected net recovery"
                    + (f" (within {gap:.4%} of the LP bound)" if gap else ""))
    summary += _write_invalid(args, portfolio)
    if result.trust is not None and not result.trust.act_on_score:
        print(f"warning: {result.trust.sentence()} {result.trust.verdict()}", file=sys.stderr)
    _write_table(args.output, result.table())
    if args.metrics:
        _write(args.metrics, json.dumps(result.metrics_dict(), indent=2, default=float, allow_nan=False).encode())
    return summary + f"; wrote {args.output}."


def _side_path(args: argparse.Namespace) -> Path:
    """Where excluded rows are written."""
    return args.invalid_output or args.output.with_name(args.output.stem + ".invalid.csv")


def _streams(args: argparse.Namespace) -> bool:
    """True when the file can be scored in chunks: CSV in, CSV out, no capacity plan across borrowers."""
    return (args.input.suffix.lower() not in (".xlsx", ".xls") and args.output.suffix.lower() != ".xlsx"
            and not args.actions and args.sheet is None)


def score_with_saved_model(args: argparse.Namespace, path: Path) -> str:
    """Score a new file with a saved model: no fitting; the model's own settings, decisions included.

    A CSV file is read, checked, scored and written in chunks, so memory stays flat however long
    it is; an Excel file, or a plan with capacities (which weighs every borrower against the others),
    is scored in one piece.
    """
    from core.serve import batch, drift
    from core.serve import bundle as bundles

    if args.preset:
        raise RecoveryError("--preset chooses how a model is trained; a saved model brings its own "
                            "settings: leave --preset out when --model is a .slr file.")
    model = bundles.loads(_read(path), path.name)
    m = model.manifest
    if args.engine == "dask":
        return score_on_cluster(args, path, model)
    counts = drift.DriftCounts(m["profile"])
    if _streams(args):
        if not args.input.is_file():
            _read(args.input)  # raises the message for a missing file or a folder
        done = batch.stream_score(model, args.input, args.output, drop_invalid=args.drop_invalid,
                                  invalid_output=_side_path(args), drift=counts,
                                  chunk_bytes=args.chunk_bytes or batch.CHUNK_BYTES)
        scored, excluded, by_strategy = done.scored, done.excluded, done.strategies
        how = f" in {done.chunks} part(s)"
    else:
        portfolio = _portfolio(args)
        config = _with_actions(args, model.config)
        result = bundles.score_rows(model, analysable_rows(portfolio, args.drop_invalid), args.input.name, config)
        _write_table(args.output, result.table)
        if not portfolio.report.ok:
            _write(_side_path(args), to_csv_bytes(portfolio.invalid_rows().reset_index()))
        counts.add(result.features, result.scores)
        scored, excluded = len(result.table), len(portfolio.report.invalid_rows)
        by_strategy = {k: int(v) for k, v in result.table["Recovery_Strategy"].value_counts(sort=False).items()}
        how = ""
    summary = (f"Scored {scored} borrowers with the saved model {path.name} ({m['model']['label']}, "
               f"trained {m['created']} on {m['training_file']['name']}, no retraining){how}")
    if excluded:
        summary += f"; excluded {excluded} invalid row(s), listed in {_side_path(args)}"
    if args.drift:
        table = counts.table()
        _write_table(args.drift, table)
        print(drift.summary(table), file=sys.stderr)
    if args.metrics:
        figures = {"model": {k: m[k] for k in ("created", "training_file", "model", "versions", "model_sha256")},
                   "borrowers_scored": scored, "borrowers_excluded": excluded, "borrowers_by_strategy": by_strategy}
        _write(args.metrics, json.dumps(figures, indent=2, default=float, allow_nan=False).encode())
    return summary + f"; wrote {args.output}."


def score_on_cluster(args: argparse.Namespace, path: Path, model) -> str:
    """Score a dataset on a Dask cluster (or a local one) with a saved model."""
    from core.serve.distributed import score_on_dask

    unsupported = [flag for flag, given in (("--actions", args.actions), ("--drift", args.drift),
                                            ("--drop-invalid", args.drop_invalid), ("--sheet", args.sheet))
                   if given]
    if unsupported:
        raise RecoveryError(f"{', '.join(unsupported)} cannot be used with --engine dask yet: score with the "
                            "default engine for those.")
    done = score_on_dask(model, str(args.input), str(args.output), args.scheduler)
    where = f"the cluster at {args.scheduler}" if args.scheduler else "a local Dask cluster"
    if args.metrics:
        figures = {"model": {k: model.manifest[k] for k in ("created", "training_file", "model", "model_sha256")},
                   "borrowers_scored": done.scored, "borrowers_by_strategy": done.by_strategy}
        _write(args.metrics, json.dumps(figures, indent=2, default=float, allow_nan=False).encode())
    return (f"Scored {done.scored} borrowers from {done.files} file(s) with the saved model {path.name} on {where} "
            f"(no retraining); wrote {done.parts} part(s) into {args.output}.")


def train(args: argparse.Namespace) -> str:
    """Learn from a history file and save the model; return the one-line summary."""
    import hashlib

    from core.serve import bundle as bundles

    data = _read(args.input)
    portfolio = load_portfolio(data, args.input.name, sheet=args.sheet)
    if not portfolio.report.ok and not args.drop_invalid:
        _portfolio(args)  # raises the same report as score
    rows = analysable_rows(portfolio, args.drop_invalid)
    model, result = bundles.train(prepare(rows), _config(args, args.model), args.input.name,
                                  hashlib.sha256(data).hexdigest(), progress=_progress())
    saved = bundles.dumps(model)
    _write(args.output, saved)
    if args.metrics:
        _write(args.metrics, json.dumps(result.metrics_dict(), indent=2, default=float, allow_nan=False).encode())
    auc = result.metrics_dict()["out_of_fold"].get("roc_auc", {}).get("value")
    m = model.manifest
    summary = (f"Trained {m['model']['label']} on {m['training_file']['rows']} borrowers "
               f"({m['training_file']['rows_with_outcome']} with an outcome)"
               + (f", out-of-fold ROC-AUC {auc:.3f}" if auc is not None else ""))
    summary += _write_invalid(args, portfolio)
    if result.trust is not None and not result.trust.act_on_score:
        print(f"warning: {result.trust.sentence()} {result.trust.verdict()}", file=sys.stderr)
    return summary + f"; saved {args.output} ({len(saved) / 1024:,.0f} KB)."


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors print their message and exit 2, never a traceback."""
    args = _parser().parse_args(argv)
    try:
        print(train(args) if args.command == "train" else score(args))
    except RecoveryError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
