"""What an analyst waits for in the app, and how close the risk scores come to the known truth.

Not a test: run it and read the tables.

    python -m benchmarks.bench_interactive                      # 5 repeats, quality at 12,000 and 100,000
    python -m benchmarks.bench_interactive --repeats 3
    python -m benchmarks.bench_interactive --quality-sizes 12000 --large 20000
    python -m benchmarks.bench_interactive --repeats 3 --skip demo,engine,page,quality   # every page after upload

Four parts, printed to stdout as Markdown (progress goes to stderr):

1. **Demo: app opened -> Strategy page ready.** A fresh ``AppTest`` of streamlit_app.py per
   repeat, ``switch_page("app_pages/strategy.py")``, and ``at.run()`` timed: the bundled demo
   (2,000 borrowers) loads, is segmented, scored and decided. Each run must end without an
   exception and with 2,000 borrowers in the strategy summary. The *cold* figure comes from a
   child process (this script with ``--cold-demo``), where streamlit, pandas, scikit-learn and
   core/ are imported for the first time (.pyc files and the OS file cache are warm, though);
   the in-process *warm* figures follow one untimed warm-up run.
2. **A threshold change at --large (100,000) borrowers.** Engine: ``generate_portfolio(n, seed=1)``
   then prepare, segment and score (each timed; repeated up to --repeats while under a time
   budget, the run count is shown), then ``pipeline.decide`` at a new threshold t per repeat
   (settlement = flag = t, legal = max(t, 0.75)); the first decide of the process is shown
   apart, as it pays one-time costs. Page: an ``AppTest`` session uploads the same portfolio as
   CSV on the Data page and opens the Strategy page (both timed once, not part of the medians),
   then times a rerun with nothing changed, the "Settlement from / legal above" slider moved to
   (t, 0.90) for a new t each repeat, and the first strategy renamed "Field visit N".
2b. **Every page after a --large (100,000) upload.** Up to three fresh ``AppTest`` sessions: upload the
   portfolio on the Data page, open the Overview (where the analysis runs), then Strategy, Explore,
   Segments, Risk, Data and Overview in turn, and each once more; every ``at.run()`` timed. The first
   Strategy visit is what a user waits for after clicking Strategy once the Overview has shown.
3. **Quality against the truth.** For each --quality-sizes n, ``generate_portfolio(n, seed=5)``
   and ``pipeline.analyse(df, RecoveryConfig())``; with y = not fully recovered, the ROC-AUC of
   the out-of-fold Risk_Score next to the ROC-AUC of the generator's true probability (the
   best any score can do on that sample), their gap (target <= 0.015), and the mean score
   next to the observed bad rate.

Wall seconds are time.perf_counter; CPU seconds are time.process_time (this process, every
thread: AppTest runs the page in a thread and the fold models are fitted in threads). Figures
are medians over the repeats: the machine is shared, so single runs are noisy. Machine facts
(cores, load average at start and end, versions, the git commit and whether the engine/UI
files had uncommitted changes) head the report.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.machine import load_average, version

ROOT = Path(__file__).resolve().parent.parent

APP = str(ROOT / "streamlit_app.py")
STRATEGY_PAGE = "app_pages/strategy.py"
DATA_PAGE = "app_pages/data.py"
APP_TIMEOUT = 600
DEMO_ROWS = 2000
GAP_TARGET = 0.015
# A stage is repeated until --repeats runs or this many seconds spent on it, whichever first.
STAGE_BUDGET_S = 90.0
LIBRARIES = ("numpy", "pandas", "scikit-learn", "streamlit")
WATCHED = ("core", "ui", "app_pages", "streamlit_app.py")


def log(message: str) -> None:
    """Progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ measuring


@dataclass(frozen=True)
class Sample:
    """One timed action: wall and CPU seconds, and what it was (e.g. the threshold)."""

    wall: float
    cpu: float
    note: str = ""


@dataclass
class Row:
    """One line of a summary table: an action and its timed runs."""

    action: str
    samples: list[Sample] = field(default_factory=list)
    remark: str = ""


def timed(action: Callable[[], object]) -> tuple[object, Sample]:
    """Run ``action`` once; its value and what it cost."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    value = action()
    return value, Sample(time.perf_counter() - wall0, time.process_time() - cpu0)


def summary_table(rows: list[Row]) -> str:
    """Markdown: per action, the run count and the median / min / max wall and median CPU."""
    lines = ["| action | runs | median wall s | median CPU s | min wall s | max wall s | remark |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        if not row.samples:
            lines.append(f"| {row.action} | 0 | — | — | — | — | {row.remark} |")
            continue
        walls = [s.wall for s in row.samples]
        cpu = statistics.median(s.cpu for s in row.samples)
        lines.append(f"| {row.action} | {len(walls)} | {statistics.median(walls):.3f} | {cpu:.3f}"
                     f" | {min(walls):.3f} | {max(walls):.3f} | {row.remark} |")
    return "\n".join(lines)


def runs_table(rows: list[Row]) -> str:
    """Markdown: every run in the order it ran, with its note (threshold, name…)."""
    lines = ["| action | run | wall s | CPU s | note |", "|---|---:|---:|---:|---|"]
    for row in rows:
        for i, s in enumerate(row.samples, start=1):
            lines.append(f"| {row.action} | {i} | {s.wall:.3f} | {s.cpu:.3f} | {s.note} |")
    return "\n".join(lines)


def thresholds(repeats: int) -> list[float]:
    """``repeats`` distinct settlement thresholds on the slider's 0.01 grid, none the default 0.50."""
    values, t = [], 0.30
    while len(values) < repeats:
        if round(t, 2) != 0.50:
            values.append(round(t, 2))
        t += 0.03
    if values[-1] > 0.89:
        raise SystemExit("--repeats is too large for distinct thresholds below the 0.90 legal one")
    return values


# ------------------------------------------------------------------------------ part 1: demo


def _check_strategy_page(at, rows: int, context: str) -> None:
    """The page ran without an exception or error and its summary covers every borrower."""
    if at.exception:
        raise RuntimeError(f"{context}: exception {at.exception}")
    if at.error:
        raise RuntimeError(f"{context}: error shown: {[e.value for e in at.error]}")
    summary = next(d.value for d in at.dataframe if "Borrowers" in d.value.columns)
    total = int(summary["Borrowers"].sum())
    if total != rows:
        raise RuntimeError(f"{context}: strategy summary counts {total} borrowers, expected {rows}")


def demo_once() -> Sample:
    """A fresh app session, Strategy page, the bundled demo: the ``at.run()`` timed and checked."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT)
    at.switch_page(STRATEGY_PAGE)
    _, sample = timed(at.run)
    _check_strategy_page(at, DEMO_ROWS, "demo Strategy page")
    return sample


def cold_demo_child() -> int:
    """``--cold-demo``: in a fresh process, time the AppTest import and the first demo run; print JSON."""
    import_wall0, import_cpu0 = time.perf_counter(), time.process_time()
    from streamlit.testing.v1 import AppTest  # noqa: F401  (the import is what is timed)

    imported = Sample(time.perf_counter() - import_wall0, time.process_time() - import_cpu0)
    run = demo_once()
    print(json.dumps({"import_wall": imported.wall, "import_cpu": imported.cpu,
                      "run_wall": run.wall, "run_cpu": run.cpu}))
    return 0


def cold_demo() -> tuple[Sample, Sample, Sample]:
    """The cold demo in a child process: (AppTest import, first at.run(), whole child process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_interactive", "--cold-demo"], cwd=ROOT,
                          capture_output=True, text=True, timeout=APP_TIMEOUT + 120)
    wall = time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"cold demo child failed (exit {done.returncode}): {done.stderr[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return (Sample(figures["import_wall"], figures["import_cpu"]),
            Sample(figures["run_wall"], figures["run_cpu"]),
            Sample(wall, cpu))


def part_demo(repeats: int) -> list[Row]:
    """Cold (child process) and warm (this process) times to a ready Strategy page on the demo."""
    log("demo: cold run in a child process")
    imported, first_run, process = cold_demo()
    log(f"  cold at.run() {first_run.wall:.2f} s wall; child process {process.wall:.2f} s")
    log("demo: warm-up run in this process (not timed)")
    demo_once()
    warm = Row("warm: fresh AppTest, `at.run()` to a ready Strategy page")
    for i in range(repeats):
        sample = demo_once()
        warm.samples.append(sample)
        log(f"  warm #{i + 1}: {sample.wall:.2f} s wall, {sample.cpu:.2f} s CPU")
    return [
        Row("cold: `import AppTest` (streamlit) in a new process", [imported], "1 run"),
        Row("cold: first `at.run()` to a ready Strategy page (imports pandas, sklearn, core/)",
            [first_run], "1 run"),
        Row("cold: the whole child process (interpreter start to exit)", [process],
            "1 run; CPU from RUSAGE_CHILDREN"),
        warm,
    ]


# ------------------------------------------------------------------------------ part 2: 100,000


def part_engine(n: int, repeats: int) -> list[Row]:
    """Stage times at n borrowers, then decide at a new threshold per repeat."""
    from core import pipeline
    from core.config import RecoveryConfig
    from sample_data.generate import generate_portfolio

    config = RecoveryConfig()
    log(f"engine: generate_portfolio({n:,}, seed=1)")
    (df, _true_prob), gen = timed(lambda: generate_portfolio(n, seed=1))
    rows = [Row(f"generate_portfolio({n:,}, seed=1)", [gen], "1 run; input only")]

    def stage(name: str, action: Callable[[], object]) -> object:
        row, value, spent = Row(f"`pipeline.{name}`"), None, 0.0
        while len(row.samples) < repeats and (not row.samples or spent < STAGE_BUDGET_S):
            value, sample = timed(action)
            row.samples.append(sample)
            spent += sample.wall
            log(f"  {name} #{len(row.samples)}: {sample.wall:.2f} s wall, {sample.cpu:.2f} s CPU")
            gc.collect()
        if len(row.samples) < repeats:
            row.remark = f"repeats stopped after {STAGE_BUDGET_S:.0f} s"
        rows.append(row)
        return value

    prepared = stage("prepare", lambda: pipeline.prepare(df))
    segments = stage("segment", lambda: pipeline.segment(prepared, config))
    needs = pipeline.score_needs_segments(prepared, config)
    scored = stage("score", lambda: pipeline.score(prepared, config, segments if needs else None))

    def decide(t: float):
        return pipeline.decide(prepared, segments, scored, config.with_(
            settlement_threshold=t, flag_threshold=t, legal_threshold=max(t, 0.75)))

    result, first = timed(lambda: decide(0.5))
    first = Sample(first.wall, first.cpu, "t = 0.50 (the default)")
    rows.append(Row("`pipeline.decide`, first call in the process", [first], "1 run; one-time costs"))
    if len(result.scored) != n:
        raise RuntimeError(f"decide returned {len(result.scored)} rows, expected {n}")
    row = Row("`pipeline.decide` at a new threshold t")
    for t in thresholds(repeats):
        result, sample = timed(lambda t=t: decide(t))
        flagged = int(result.scored["Predicted_High_Risk"].sum())
        row.samples.append(Sample(sample.wall, sample.cpu, f"t = {t:.2f}; {flagged:,} flagged"))
        log(f"  decide t={t:.2f}: {sample.wall:.2f} s wall, {sample.cpu:.2f} s CPU")
    rows.append(row)
    return rows


def part_page(n: int, repeats: int) -> list[Row]:
    """One app session on an uploaded n-borrower CSV: the Strategy page's reruns, timed."""
    from streamlit.testing.v1 import AppTest

    from sample_data.generate import generate_portfolio

    df, _ = generate_portfolio(n, seed=1)
    data = df.to_csv(index=False).encode()
    del df
    name = f"portfolio_{n}.csv"
    log(f"page: upload {name} ({len(data) / 1e6:.1f} MB)")
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page(DATA_PAGE)
    at.run()
    at.file_uploader[0].upload(name, data, "text/csv")
    _, upload = timed(at.run)
    if at.exception:
        raise RuntimeError(f"upload: {at.exception}")
    at.switch_page(STRATEGY_PAGE)
    _, first = timed(at.run)
    _check_strategy_page(at, n, "first Strategy visit after upload")
    log(f"  upload run {upload.wall:.2f} s; first Strategy visit {first.wall:.2f} s")
    rows = [
        Row(f"upload {len(data) / 1e6:.1f} MB CSV on the Data page (`at.run()`: read, validate, render)",
            [upload], "1 run; not in the medians below"),
        Row("first Strategy visit: prepare + segment + score + decide + render", [first],
            "1 run; not in the medians below"),
    ]

    plain = Row("Strategy page rerun, nothing changed (render only)")
    for i in range(repeats):
        _, sample = timed(at.run)
        _check_strategy_page(at, n, "plain rerun")
        plain.samples.append(sample)
        log(f"  plain rerun #{i + 1}: {sample.wall:.2f} s")

    slider = Row("slider \"Settlement from / legal above\" → (t, 0.90)")
    for t in thresholds(repeats):
        _, sample = timed(lambda at=at, t=t: at.slider[0].set_value((t, 0.9)).run())
        _check_strategy_page(at, n, f"slider at ({t}, 0.9)")
        if any(abs(a - b) > 1e-9 for a, b in zip(at.slider[0].value, (t, 0.9))):
            raise RuntimeError(f"slider reads {at.slider[0].value} after setting ({t}, 0.9)")
        slider.samples.append(Sample(sample.wall, sample.cpu, f"t = {t:.2f}"))
        log(f"  slider t={t:.2f}: {sample.wall:.2f} s")

    rename = Row("rename the first strategy (text input)")
    for i in range(1, repeats + 1):
        label = f"Field visit {i}"
        _, sample = timed(lambda at=at, label=label: at.text_input[0].set_value(label).run())
        _check_strategy_page(at, n, f"rename to {label}")
        shown = next(d.value for d in at.dataframe if "Recovery strategy" in d.value.columns)["Recovery strategy"].iloc[0]
        if shown != label:
            raise RuntimeError(f"after renaming to {label!r} the summary shows {shown!r}")
        rename.samples.append(Sample(sample.wall, sample.cpu, label))
        log(f"  rename #{i}: {sample.wall:.2f} s")
    del at, data
    gc.collect()
    return rows + [plain, slider, rename]


# ------------------------------------------------------------------------------ part 2b: every page


# The pages in the order a user opens them after the upload's analysis has shown on the Overview.
AFTER_UPLOAD = (("Strategy", STRATEGY_PAGE), ("Explore", "app_pages/explore.py"),
                ("Segments", "app_pages/segments.py"), ("Risk", "app_pages/risk.py"),
                ("Data", DATA_PAGE), ("Overview", "app_pages/home.py"))


def pages_once(data: bytes, name: str, n: int) -> dict[str, Sample]:
    """One fresh session: upload on the Data page, the Overview (the analysis), then each page twice, timed."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page(DATA_PAGE)
    at.run()
    at.file_uploader[0].upload(name, data, "text/csv")
    times = {}
    _, times["upload"] = timed(at.run)
    at.switch_page("app_pages/home.py")
    _, times["overview-analysis"] = timed(at.run)
    for visit in ("first", "again"):
        for label, page in AFTER_UPLOAD:
            at.switch_page(page)
            _, times[f"{label}-{visit}"] = timed(at.run)
            if at.exception or at.error:
                raise RuntimeError(f"{label} ({visit} visit): {at.exception or [e.value for e in at.error]}")
            if page == STRATEGY_PAGE:
                _check_strategy_page(at, n, f"Strategy ({visit} visit)")
    del at
    gc.collect()
    return times


def part_pages(n: int, repeats: int) -> list[Row]:
    """Per page, the time from switching to it to the page ready, after an n-row upload; a fresh session each repeat."""
    from sample_data.generate import generate_portfolio

    df, _ = generate_portfolio(n, seed=1)
    data = df.to_csv(index=False).encode()
    del df
    name = f"portfolio_{n}.csv"
    runs = []
    for i in range(repeats):
        log(f"pages: session {i + 1} of {repeats}: upload {name}, Overview, every page twice")
        runs.append(pages_once(data, name, n))
        log("  " + "; ".join(f"{k} {v.wall:.2f} s" for k, v in runs[-1].items()))
    labels = {"upload": "upload on the Data page (read, validate, render)",
              "overview-analysis": "Overview after the upload (the analysis: prepare, segment, score, decide)"}
    for label, _ in AFTER_UPLOAD:
        labels[f"{label}-first"] = f"{label}, first visit after the Overview"
    for label, _ in AFTER_UPLOAD:
        labels[f"{label}-again"] = f"{label}, visited again"
    return [Row(text, [run[key] for run in runs], "a fresh session per run") for key, text in labels.items()]


# ------------------------------------------------------------------------------ part 3: quality


@dataclass(frozen=True)
class Quality:
    """How close the out-of-fold score comes to the true probability on one generated portfolio."""

    n: int
    auc_score: float
    auc_truth: float
    mean_score: float
    mean_truth: float
    bad_rate: float
    took: Sample

    @property
    def gap(self) -> float:
        """ROC-AUC the score leaves on the table against the truth."""
        return self.auc_truth - self.auc_score


def quality(n: int) -> Quality:
    """analyse(generate_portfolio(n, seed=5)) scored against the generator's true probability."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from core import pipeline
    from core.config import RecoveryConfig
    from sample_data.generate import generate_portfolio

    df, p = generate_portfolio(n, seed=5)
    result, took = timed(lambda: pipeline.analyse(df, RecoveryConfig()))
    if not result.scored.index.equals(df.index):
        raise RuntimeError("analyse changed the row order: scores cannot be matched to the truth")
    y = (df["Recovery_Status"] != "Fully Recovered").to_numpy()
    score = result.scored["Risk_Score"].to_numpy(dtype=float)
    return Quality(n=n, auc_score=float(roc_auc_score(y, score)), auc_truth=float(roc_auc_score(y, p)),
                   mean_score=float(score.mean()), mean_truth=float(np.mean(p)),
                   bad_rate=float(y.mean()), took=took)


def quality_table(results: list[Quality]) -> str:
    """Markdown: per size, AUC of the score and of the truth, the gap, and calibration-in-the-large."""
    lines = ["| borrowers | ROC-AUC Risk_Score | ROC-AUC true p | gap | gap ≤ 0.015 | mean Risk_Score"
             " | observed bad rate | mean true p | analyse wall s | analyse CPU s |",
             "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for q in results:
        verdict = "yes" if q.gap <= GAP_TARGET else "**no**"
        lines.append(f"| {q.n:,} | {q.auc_score:.4f} | {q.auc_truth:.4f} | {q.gap:+.4f} | {verdict}"
                     f" | {q.mean_score:.4f} | {q.bad_rate:.4f} | {q.mean_truth:.4f}"
                     f" | {q.took.wall:.2f} | {q.took.cpu:.2f} |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ machine facts




def _git(*args: str) -> str:
    """Output of a read-only git command in the repository, or '?'."""
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=30).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine_facts(load_start: str, load_end: str, tree: str) -> str:
    """Markdown bullet list: cores, load, Python and library versions, the code measured."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    libraries = ", ".join(f"{name} {version(name)}" for name in LIBRARIES)
    return "\n".join([
        f"- nproc: {usable} (os.cpu_count {os.cpu_count()})",
        f"- load average (1, 5, 15 min): start {load_start}; end {load_end}",
        f"- {platform.platform()}; Python {platform.python_version()}",
        f"- {libraries}",
        f"- code: {tree}",
    ])


def _tree() -> str:
    """The commit measured and whether the engine and UI files differed from it."""
    status = _git("status", "--porcelain", "--", *WATCHED)
    changed = [line for line in status.splitlines() if line and status != "?"]
    state = (f"{len(changed)} uncommitted change(s) under {', '.join(WATCHED)} (measured as on disk)"
             if changed else f"no uncommitted changes under {', '.join(WATCHED)}")
    return f"commit {_git('rev-parse', '--short', 'HEAD')}; {state}"


# ------------------------------------------------------------------------------ main


def _sizes(text: str) -> list[int]:
    """'12000,100_000' -> [12000, 100000]."""
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or any(n < 100 for n in sizes):
        raise argparse.ArgumentTypeError(f"need sizes of at least 100, got {text!r}")
    return sizes


def _parser() -> argparse.ArgumentParser:
    """Arguments of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per action (default 5)")
    parser.add_argument("--large", type=int, default=100_000,
                        help="borrowers for the threshold-change part (default 100000)")
    parser.add_argument("--quality-sizes", type=_sizes, default=_sizes("12000,100000"),
                        help="portfolio sizes for the quality part, comma-separated (default 12000,100000)")
    parser.add_argument("--skip", default="",
                        help="comma-separated parts to leave out: demo, engine, page, pages, quality")
    parser.add_argument("--cold-demo", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the parts in turn and print the Markdown report."""
    args = _parser().parse_args(argv)
    if args.cold_demo:
        return cold_demo_child()
    if args.repeats < 1:
        raise SystemExit("--repeats must be at least 1")
    thresholds(args.repeats)  # refuse too many repeats before spending any time
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    load_start, tree, started = load_average(), _tree(), time.perf_counter()

    demo = [] if "demo" in skip else part_demo(args.repeats)
    engine = [] if "engine" in skip else part_engine(args.large, args.repeats)
    page = [] if "page" in skip else part_page(args.large, args.repeats)
    pages = [] if "pages" in skip else part_pages(args.large, min(args.repeats, 3))
    checked = []
    if "quality" not in skip:
        for n in args.quality_sizes:
            log(f"quality: analyse({n:,}, seed=5)")
            checked.append(quality(n))
            log(f"  gap {checked[-1].gap:+.4f}")
            gc.collect()

    print("# Interactive waits and score quality\n")
    print(f"`python -m benchmarks.bench_interactive --repeats {args.repeats}`"
          f"{' --skip ' + args.skip if skip else ''}: medians of {args.repeats} run(s) unless a row says "
          f"otherwise; wall = perf_counter, CPU = process_time (all threads of the process); "
          f"total {time.perf_counter() - started:.0f} s.\n")
    print(machine_facts(load_start, load_average(), tree) + "\n")
    if demo:
        print(f"## 1. Demo ({DEMO_ROWS:,} borrowers): app opened → Strategy page ready\n")
        print("A fresh AppTest per run, `switch_page(\"app_pages/strategy.py\")`, `at.run()` timed; every run "
              "checked: no exception, 2,000 borrowers in the strategy summary. Cold = a new Python process "
              "(`--cold-demo`); warm = this process after one untimed warm-up run. Every fresh session "
              "segments and scores the demo again (results are cached per session, not per process).\n")
        print(summary_table(demo) + "\n")
    if engine or page:
        print(f"## 2. A threshold change at {args.large:,} borrowers\n")
    if engine:
        print(f"### Engine (`generate_portfolio({args.large:,}, seed=1)`, RecoveryConfig())\n")
        print("decide at t: settlement = flag = t, legal = max(t, 0.75); each run a setting not seen before.\n")
        print(summary_table(engine) + "\n")
    if page:
        print("### Page (AppTest session, the same portfolio uploaded as CSV)\n")
        print("Each slider run is a new t (the page stores the setting and goes on in the same run); each "
              "rename a new label. Every run checked: no exception or error, all borrowers in the summary.\n")
        print(summary_table(page) + "\n")
    if pages:
        print(f"## 2b. Every page after a {args.large:,}-row upload\n")
        print("A fresh AppTest session per run (median of up to 3): the generated portfolio uploaded as CSV on "
              "the Data page, the Overview (where the analysis runs), then each page opened in turn and once "
              "more; `at.run()` after `switch_page` timed (wall) beside the process's CPU seconds. The first "
              "Strategy visit is what a user waits for after clicking Strategy once the Overview has shown.\n")
        print(summary_table(pages) + "\n")
    if checked:
        print("## 3. Quality against the truth (`generate_portfolio(n, seed=5)`, `analyse`, RecoveryConfig())\n")
        print("y = Recovery_Status is not \"Fully Recovered\". Risk_Score is out-of-fold. The true p's "
              "ROC-AUC is the ceiling on that sample; gap = AUC(true p) − AUC(Risk_Score).\n")
        print(quality_table(checked) + "\n")
    timed_rows = [r for r in demo + engine + page + pages if len(r.samples) > 1 or r.samples and r.samples[0].note]
    if timed_rows:
        print("## Every run\n")
        print(runs_table(timed_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
