"""The command line's commands (score, report, train, measure): options in, one line out, exit 2 on a user's error.

``python -m core`` runs them through ``core.__main__``, which first starts a saved model's check.
"""

from __future__ import annotations

import argparse
import errno
import glob
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.config import RecoveryConfig
from core.data import NO_OUTCOME, REPEATED_ID, Portfolio, Roles, load_portfolio
from core.decide import (
    NEEDS_EXPOSURE,
    crowded_note,
    has_exposure,
    measure_file,
    measurement_lines,
    measurement_table,
    read_actions,
)
from core.display import priced
from core.errors import RecoveryError
from core.options import MODEL_KINDS, parser
from core.pipeline import RecoveryResult, analysable_rows, prepare_portfolio, stages
from core.progress import no_progress
from core.report import (
    LaterColumn,
    measurement_report,
    refuse_overwriting,
    same_file,
    to_csv_bytes,
    to_excel_bytes,
    write_atomic,
    write_csv,
    write_problem,
)
from core.serve import isolation, signing

EXIT_USER_ERROR = 2
EXIT_CLOSED_PIPE = 1  # the summary could not be printed: its reader closed the pipe
PINNED_BY = {"Loan_ID": "--id", "Outstanding_Loan_Amount": "--exposure"}


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
    """Write bytes whole (temporary file, then rename), or raise a RecoveryError naming the path."""
    write_atomic(path, data)


def _write_table(path: Path, frame, currency: str = "", later: LaterColumn | None = None) -> None:
    """Excel for .xlsx paths (money columns labelled with the currency), CSV (streamed) otherwise.

    ``later``: a column written block by block with the rows (CSV only).
    """
    if path.suffix.lower() == ".xlsx":
        _write(path, to_excel_bytes(frame, currency=currency))
        return
    try:
        write_csv(frame, path, later)
    except OSError as error:
        raise RecoveryError(f"Cannot write {path}: {error.strerror}.") from None


def _progress(stream=None):
    """A progress line on a terminal; silence when output goes to a file or a pipe."""
    stream = sys.stderr if stream is None else stream  # read now: stderr may be replaced after import
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


def _roles(args: argparse.Namespace) -> Roles:
    """The column roles given on the command line."""
    outcome = NO_OUTCOME if args.outcome and args.outcome.casefold() == "none" else args.outcome
    return Roles(outcome=outcome, bad=_names(args.bad) or None, recovered=args.recovered,
                 bad_below=1.0 if args.bad_below is None else args.bad_below, exclude=_names(args.exclude),
                 include=_names(args.include))


def honour_bad_below(given: float | None, outcome) -> None:
    """Refuse, before any fitting, a --bad-below the user gave that leaves nothing to learn (never changed silently)."""
    if given is None or outcome is None or not outcome.amount:
        return
    known = outcome.y[~np.isnan(outcome.y)]
    overridden = outcome.bad_below is not None and abs(outcome.bad_below - given) > 1e-12
    if not overridden and (len(known) == 0 or 0 < known.sum() < len(known)):
        return
    if overridden or known.sum() == len(known):
        everyone = (f"every borrower counts as bad at a recovered share below {given:.0%} "
                    f"(nobody in this file reaches {given:.0%} of the outstanding)")
        advice = "choose a lower --bad-below, e.g. 0.5"
        if overridden:
            advice += (f" ({int(known.sum()):,} of {len(known):,} loans recovered less than "
                       f"{outcome.bad_below:.0%}), or leave --bad-below out to use that with a note")
    else:
        everyone = f"no borrower counts as bad at a recovered share below {given:.0%} (every loan reaches it)"
        advice = "choose a higher --bad-below"
    raise RecoveryError(f"--bad-below {given:g}: {everyone}; nothing can be learned. {advice.capitalize()}.")


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

    data: bytes | None  # the file's bytes, kept only when asked for (the report fingerprints them)
    portfolio: Portfolio
    result: RecoveryResult


def _load(args: argparse.Namespace) -> tuple[bytes, Portfolio]:
    """Read and check the input with the reading and role options; invalid rows stop the run unless dropped."""
    data = _read(args.input)
    if not args.output.parent.is_dir():  # said before the analysis, not after minutes of it
        raise RecoveryError(f"Cannot write {args.output}: the folder {args.output.parent} does not exist.")
    pinned = {field: column for field, column in (("Loan_ID", args.id), ("Outstanding_Loan_Amount", args.exposure))
              if column}
    portfolio = load_portfolio(data, args.input.name, sheet=args.sheet, keep_repeated_ids=args.keep_repeated_ids,
                               header_row=args.header_row, pinned=pinned, pinned_by=PINNED_BY)
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
    if getattr(args, "actions", None) and not has_exposure(portfolio.frame):
        raise RecoveryError(
            f"--actions plans by expected net recovery (outstanding × recovery share − cost), which needs each "
            f"borrower's outstanding amount, and {args.input.name} has none: {', '.join(NEEDS_EXPOSURE)} cannot "
            "be computed. Name the outstanding column with --exposure COL, or leave out --actions to give each "
            "borrower the notebook's strategy for their risk score.")
    return data, portfolio


def _config(args: argparse.Namespace) -> RecoveryConfig:
    """The preset's settings with the model kind, the roles and the plan options given."""
    config = RecoveryConfig.named(args.preset or "recommended").with_(roles=_roles(args),
                                                                        action_column=args.action_column,
                                                                        currency=args.currency or "")
    if args.model:
        config = config.with_(model=args.model)
    if getattr(args, "actions", None):
        config = config.with_(actions=read_actions(_read(args.actions), args.actions.name),
                              policy=args.policy, holdout=args.holdout, holdout_salt=args.holdout_salt)
    return config


def _said(result: RecoveryResult) -> None:
    """The roles the run used, and a warning when the score should not be acted on, on stderr."""
    print(_roles_line(result), file=sys.stderr)
    if result.roles is not None and result.roles.outcome is not None and result.roles.outcome.note:
        print(f"note: {result.roles.outcome.note}", file=sys.stderr)
    if result.performance_note:
        print(f"warning: {result.performance_note}", file=sys.stderr)
    if result.risk.ordering_note:  # before the verdict, which stays the last word on the score
        print(f"warning: {result.risk.ordering_note}", file=sys.stderr)
    if result.trust is not None and not result.trust.act_on_score:
        print(f"warning: {result.trust.sentence()} {result.trust.verdict()}", file=sys.stderr)
    crowded = crowded_note(result.scored["Recovery_Strategy"], result.scored["Risk_Score"].to_numpy())
    if crowded:
        print(f"warning: {crowded}", file=sys.stderr)


def metrics_json(result: RecoveryResult) -> bytes:
    """The Risk page's figures as JSON, with the calibration's ordering note and the money's currency."""
    figures = {**result.metrics_dict(), "ordering_note": result.risk.ordering_note,
               "currency": result.config.currency}
    return json.dumps(figures, indent=2, default=float, allow_nan=False).encode()


def _analyse(args: argparse.Namespace, keep_file: bool = False, reasons_later: bool = False) -> Analysis:
    """Read the input and run every stage with the options given; roles and warnings go to stderr.

    The file's bytes are let go before the stages unless ``keep_file``: a million rows' file is
    another 140 MB held through scoring, the run's peak. ``reasons_later``: the reasons' words are
    left for the download to write block by block (another 0.2 GB, and more while being written).
    """
    data, portfolio = _load(args)
    if not keep_file:
        data = None
    config = _config(args)
    prepared = prepare_portfolio(portfolio, config.roles, args.drop_invalid)
    honour_bad_below(args.bad_below, prepared.roles.outcome)
    result = stages(prepared, config, progress=_progress(), reasons_later=reasons_later)
    _said(result)
    if result.learned is not None:
        for note in result.learned.history.notes + result.learned.messages:
            print(f"note: {note}", file=sys.stderr)
    return Analysis(data, portfolio, result)


def _write_excluded(args: argparse.Namespace, portfolio: Portfolio) -> str:
    """Write the excluded rows beside the output; the words the summary line adds ('' when none)."""
    if portfolio.report.ok:
        return ""
    side = args.invalid_output or args.output.with_name(args.output.stem + ".invalid.csv")
    _write(side, to_csv_bytes(portfolio.invalid_rows()))
    return f"; excluded {len(portfolio.report.invalid_rows)} invalid row(s), listed in {side}"


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
    """Annotate every borrower of a file (or score it with a saved model); return the one-line summary."""
    saved = _saved_model(args.model)
    if saved is not None:
        return score_with_saved_model(args, saved)
    if args.engine == "dask":
        raise RecoveryError("--engine dask scores with a saved model: train one with `python -m core train` "
                            "and give it with --model MODEL.slr.")
    if args.drift:
        raise RecoveryError("--drift compares a new file with the file a saved model was trained on: "
                            "give the model with --model MODEL.slr.")
    csv = args.output.suffix.lower() != ".xlsx"
    run = _analyse(args, reasons_later=csv)  # a CSV download writes the reasons as it writes the rows
    result = run.result
    summary = f"Scored {len(result.scored)} borrowers with {result.risk.model_label}"
    if args.actions:
        net = result.scored["Expected_Net_Recovery"].sum()
        gap = result.assignment["gap_to_lp_bound"]
        summary += (f"; {args.policy} plan worth {priced(net, result.config.currency)} expected net recovery"
                    + (f" (within {gap:.4%} of the LP bound)" if gap else ""))
        if result.learned is not None:
            summary += f" on what the history's '{result.learned.history.action_column}' says each action achieves"
    summary += _write_excluded(args, run.portfolio)
    table = result.table(as_written=csv)
    _write_table(args.output, table, result.config.currency, _reasons_column(result, table))
    if args.metrics:
        _write(args.metrics, metrics_json(result))
    return summary + f"; wrote {args.output}."


def _reasons_column(result: RecoveryResult, table) -> LaterColumn | None:
    """The reasons left for the download, in their place after the strategy (None when in the table)."""
    if result.reasons_later is None:
        return None
    return LaterColumn("Risk_Reasons", table.columns.get_loc("Recovery_Strategy") + 1, result.reasons_later.blocks)


def _side_path(args: argparse.Namespace) -> Path:
    """Where excluded rows are written."""
    return args.invalid_output or args.output.with_name(args.output.stem + ".invalid.csv")


def _streams(args: argparse.Namespace) -> bool:
    """True when the file can be scored in chunks: CSV in, CSV out, no capacity plan across borrowers."""
    return (args.input.suffix.lower() not in (".xlsx", ".xls") and args.output.suffix.lower() != ".xlsx"
            and not args.actions and args.sheet is None)


def _stream_workers(args: argparse.Namespace, batch) -> int:
    """Processes a streamed scoring uses (``--workers``, else one per core for a large file); 0 when not streamed."""
    if args.engine == "dask" or not _streams(args) or not args.input.is_file():
        return 0
    if args.workers is not None:
        return max(1, args.workers)
    return batch.default_workers(args.input, args.chunk_bytes or batch.CHUNK_BYTES)


def score_with_saved_model(args: argparse.Namespace, path: Path) -> str:
    """Score a new file with a saved model: no fitting; the model's own settings, decisions included.

    A CSV file is read, checked, scored and written in chunks, so memory stays flat however long
    it is; an Excel file, or a plan with capacities (which weighs every borrower against the others),
    is scored in one piece.
    """
    if args.preset:
        raise RecoveryError("--preset chooses how a model is trained; a saved model brings its own "
                            "settings: leave --preset out when --model is a .slr file.")
    saved = _read(path)
    from core.serve import batch, drift
    from core.serve import bundle as bundles
    from core.serve import score as scoring

    workers = _stream_workers(args, batch)
    if workers > 1:
        # the workers build, check and try the model themselves, each a process that may die for it;
        # here only the checks that build nothing run (a check an early guess started is waited for)
        isolation.join_check(saved, path.name)
        model = bundles.audit(saved, path.name)
    else:
        if signing.signing_key() is None:  # a signed bundle skips the child (bundle.loads)
            isolation.start_check(saved, path.name)  # the child checks while this process imports the loader
        model = bundles.loads(saved, path.name, isolated=True)  # a crash in the check cannot end this run
    m = model.manifest
    if args.engine == "dask":
        return score_on_cluster(args, path, model)
    counts = drift.DriftCounts(m["profile"]) if args.drift else None  # counted only when asked for
    if _streams(args):
        if not args.input.is_file():
            _read(args.input)  # raises the message for a missing file or a folder
        done = batch.stream_score(model, args.input, args.output, drop_invalid=args.drop_invalid,
                                  invalid_output=_side_path(args), drift=counts,
                                  chunk_bytes=args.chunk_bytes or None, workers=max(1, workers))
        scored, excluded, by_strategy = done.scored, done.excluded, done.strategies
        how = f" in {done.chunks} part(s)"
    else:
        _, portfolio = _load(args)
        config = model.config if args.currency is None else model.config.with_(currency=args.currency)
        config = config if not args.actions else config.with_(
            actions=read_actions(_read(args.actions), args.actions.name), policy=args.policy,
            holdout=args.holdout, holdout_salt=args.holdout_salt)
        result = scoring.score_rows(model, analysable_rows(portfolio, args.drop_invalid), args.input.name, config)
        for note in result.learned_notes:
            print(f"note: {note}", file=sys.stderr)
        _write_table(args.output, result.table, config.currency)
        if not portfolio.report.ok:
            _write(_side_path(args), to_csv_bytes(portfolio.invalid_rows().reset_index()))
        if counts is not None:
            counts.add(result.features, result.scores)
        scored, excluded = len(result.table), len(portfolio.report.invalid_rows)
        by_strategy = {k: int(v) for k, v in result.table["Recovery_Strategy"].value_counts(sort=False).items()}
        how = ""
    summary = (f"Scored {scored} borrowers with the saved model {path.name} ({m['model']['label']}, "
               f"trained {m['created']} on {m['training_file']['name']}, no retraining){how}")
    if excluded:
        summary += f"; excluded {excluded} invalid row(s), listed in {_side_path(args)}"
    if counts is not None:
        table = counts.table()
        _write_table(args.drift, table)
        print(drift.summary(table), file=sys.stderr)
    if args.metrics:
        figures = {"model": {k: m[k] for k in ("created", "training_file", "model", "versions", "model_sha256")},
                   "borrowers_scored": scored, "borrowers_excluded": excluded, "borrowers_by_strategy": by_strategy,
                   "currency": args.currency or m["config"].get("currency", "")}
        _write(args.metrics, json.dumps(figures, indent=2, default=float, allow_nan=False).encode())
    return summary + f"; wrote {args.output}."


def score_on_cluster(args: argparse.Namespace, path: Path, model) -> str:
    """Score a dataset on a Dask cluster (or a local one) with a saved model."""
    from core.serve import distributed  # loads Dask only for a command that asks for it

    unsupported = [flag for flag, given in (("--actions", args.actions), ("--drift", args.drift),
                                            ("--drop-invalid", args.drop_invalid), ("--sheet", args.sheet))
                   if given]
    if unsupported:
        raise RecoveryError(f"{', '.join(unsupported)} cannot be used with --engine dask yet: score with the "
                            "default engine for those.")
    done = distributed.score_on_dask(model, str(args.input), str(args.output), args.scheduler)
    where = f"the cluster at {args.scheduler}" if args.scheduler else "a local Dask cluster"
    if args.metrics:
        figures = {"model": {k: model.manifest[k] for k in ("created", "training_file", "model", "model_sha256")},
                   "borrowers_scored": done.scored, "borrowers_by_strategy": done.by_strategy}
        _write(args.metrics, json.dumps(figures, indent=2, default=float, allow_nan=False).encode())
    return (f"Scored {done.scored} borrowers from {done.files} file(s) with the saved model {path.name} on {where} "
            f"(no retraining); wrote {done.parts} part(s) into {args.output}.")


def report(args: argparse.Namespace) -> str:
    """Write the stakeholder report of a file; return the one-line summary."""
    from core.report import ReportSource, stakeholder_report  # only this command needs it

    run = _analyse(args, keep_file=True)
    document = stakeholder_report(run.result, ReportSource.of(run.data, run.portfolio, args.drop_invalid))
    summary = f"Reported on {len(run.result.scored):,} borrowers scored with {run.result.risk.model_label}"
    summary += _write_excluded(args, run.portfolio)
    data = document.encode("utf-8")
    _write(args.output, data)
    return summary + f"; wrote {args.output} ({len(data) / 1024:,.0f} KB)."


def train(args: argparse.Namespace) -> str:
    """Learn from a history file and save the model; return the one-line summary."""
    from core.serve import bundle as bundles

    data, portfolio = _load(args)
    config = _config(args)
    prepared = prepare_portfolio(portfolio, config.roles, args.drop_invalid)
    honour_bad_below(args.bad_below, prepared.roles.outcome)
    model, result = bundles.train(prepared, config, args.input.name, hashlib.sha256(data).hexdigest(),
                                  progress=_progress())
    _said(result)
    saved = bundles.dumps(model)  # signed when LOAN_RECOVERY_SIGNING_KEY is set
    bundles.save(args.output, saved)
    if args.metrics:
        _write(args.metrics, metrics_json(result))
    auc = result.metrics_dict()["out_of_fold"].get("roc_auc", {}).get("value")
    m = model.manifest
    summary = (f"Trained {m['model']['label']} on {m['training_file']['rows']} borrowers "
               f"({m['training_file']['rows_with_outcome']} with an outcome)"
               + (f", out-of-fold ROC-AUC {auc:.3f}" if auc is not None else ""))
    if model.effects is not None:
        e = model.manifest["effects"]
        summary += (f"; learned what each of {len(e['methods'])} actions in '{e['action_column']}' achieves from "
                    f"{sum(e['rows'].values()):,} resolved borrowers")
    summary += _write_excluded(args, portfolio)
    return summary + f"; saved {args.output} ({len(saved) / 1024:,.0f} KB)."


def measure(args: argparse.Namespace) -> str:
    """Measure a planned month from its download with outcomes; print each scope's figures, return the verdict."""
    actions = read_actions(_read(args.actions), args.actions.name) if args.actions else None
    data = _read(args.input)
    currency = RecoveryConfig(currency=args.currency).currency  # refused in one line as for score
    m = measure_file(data, args.input.name, args.outcome, actions)
    lines = measurement_lines(m, currency)
    for line in lines[:-1]:
        print(line)
    wrote = []
    if args.output is not None:
        _write_table(args.output, measurement_table(m), currency)
        wrote.append(str(args.output))
    if args.report is not None:
        write_atomic(args.report, measurement_report(m, args.input.name, data, currency).encode("utf-8"))
        wrote.append(str(args.report))
    return lines[-1] + (f" Wrote {' and '.join(wrote)}." if wrote else "")


COMMANDS = {"score": score, "report": report, "train": train, "measure": measure}


def _input_files(args: argparse.Namespace) -> list[Path]:
    """The input file, or each file the glob given to --engine dask names."""
    source = str(args.input)
    if getattr(args, "engine", "local") == "dask" and any(c in source for c in "*?["):
        return [Path(f) for f in sorted(glob.glob(source))]
    return [args.input]


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any work, an output that would overwrite a file being read, or whose folder is missing."""
    model = getattr(args, "model", None)
    saved = Path(model) if model and model not in MODEL_KINDS and Path(model).is_file() else None
    inputs = [("the input file", path) for path in _input_files(args)]
    inputs += [("the saved model being read", saved), ("the action table", getattr(args, "actions", None))]
    outputs = {"-o": args.output, "--metrics": getattr(args, "metrics", None),
               "--drift": getattr(args, "drift", None), "--report": getattr(args, "report", None),
               "--invalid-output": _side_path(args) if getattr(args, "drop_invalid", False) else None}
    refuse_overwriting(outputs, inputs)
    dask = getattr(args, "engine", "local") == "dask"
    for flag, path in outputs.items():  # said now, not after the model's check or minutes of analysis
        if path is not None and not (dask and flag == "-o") and not path.parent.is_dir():
            raise write_problem(path, FileNotFoundError(errno.ENOENT, "No such folder"))
    if dask and args.output.is_dir():
        # parts are written as OUTPUT/part-NNNNN.*: an input there with such a name would be replaced
        for path in _input_files(args):
            if path.name.startswith("part-") and same_file(path.parent, args.output):
                raise RecoveryError(f"-o {args.output} holds the input file {path}, which a written part would "
                                    "replace: give another output folder.")


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors print their message and exit 2, never a traceback."""
    args = parser().parse_args(argv)
    try:
        check_outputs(args)
        print(COMMANDS[args.command](args), flush=True)
    except RecoveryError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        # whoever read the summary stopped reading (`| head`): the outputs are written by now, and
        # Python's own flush at exit must not meet the closed pipe again and print a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLOSED_PIPE
    return 0
