"""Whole-process speed of the CLI next to the notebook's pipeline: same files, each run a fresh process.

Not a test: run it and read the table.

    python -m benchmarks.bench_stages                              # notebook file, 500, 2,000, 100,000
    python -m benchmarks.bench_stages --sizes 500,2000 --repeats 1
    python -m benchmarks.bench_stages --sizes 1000000 --timeout 3600
    python -m benchmarks.bench_stages --sizes 100000 --floor --stages   # with the time of each stage

Inputs: the notebook's own 500-row file ../shared/data/loan-recovery.csv (when present, labelled
"notebook file"), then one portfolio per --sizes entry from ``generate_portfolio(n, seed=1)``,
written once as CSV (by a child process) and cached in $TMPDIR/smart-loan-bench-stages/ (the file
name carries a hash of sample_data/generate.py, so a changed generator regenerates).

For every input, ``python -m core score FILE -o OUT.csv`` (product) and
``python -m benchmarks.notebook_reference FILE OUT.csv`` (reference) each run --repeats times as
separate child processes, interleaved product, reference, product, reference... so machine noise
hits both alike. Per run: wall seconds, CPU seconds (user + sys of the child and anything it
waited for, from os.wait4) and the child's peak RSS (ru_maxrss from os.wait4). A run longer
than --timeout seconds is killed and reported as a timeout; a non-zero exit is reported with the
last line of its stderr.

With --stages, each repeat also runs ``python -m benchmarks.stage_clock FILE OUT.csv`` (the same
work as the product, in one process, with a clock around each stage) and a table gives each
stage's median wall and CPU seconds. --reference-repeats runs the notebook's pipeline fewer
times than the product (it takes minutes at a million rows).

Prints to stdout, as Markdown: machine facts (cores, load average at start and end, Python and
library versions), a summary table per input (median wall, median CPU, max peak RSS for each
side, and reference/product ratios: above 1 means the product is faster), then every run.
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.machine import load_average, version

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_FILE = ROOT.parent / "shared" / "data" / "loan-recovery.csv"
GENERATOR = ROOT / "sample_data" / "generate.py"
CACHE_DIR = Path(tempfile.gettempdir()) / "smart-loan-bench-stages"
LIBRARIES = ("pandas", "numpy", "scikit-learn", "scipy", "joblib", "threadpoolctl", "openpyxl")
# Environment that changes the figures: thread caps, and whether .pyc files get cached for core/.
ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "LOKY_MAX_CPU_COUNT",
            "PYTHONDONTWRITEBYTECODE", "PYTHONOPTIMIZE")

# Run in a child so this process never imports pandas: Linux carries the parent's resident size
# into a spawned child's ru_maxrss (it survives exec), so a 100 MB parent would floor every figure.
GENERATE = """
import sys
from sample_data.generate import generate_portfolio, write_csv
df, true_prob = generate_portfolio(int(sys.argv[1]), seed=1)
write_csv(df, sys.argv[2])
"""


@dataclass(frozen=True)
class Input:
    """One portfolio file to score, with the label shown in the tables."""

    label: str
    path: Path
    rows: int


@dataclass(frozen=True)
class Run:
    """One child process: what it cost and how it ended."""

    side: str
    wall: float
    cpu: float
    peak_rss_mb: float
    exit_code: int
    timed_out: bool
    failure: str
    stages: dict | None = None  # stage -> [wall, cpu] from benchmarks.stage_clock

    @property
    def ok(self) -> bool:
        """True when the run finished in time with exit status 0."""
        return not self.timed_out and self.exit_code == 0


def _parse_sizes(text: str) -> list[int]:
    """'500,2000,1_000_000' -> [500, 2000, 1000000]; each size must be a positive integer."""
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or any(n <= 0 for n in sizes):
        raise argparse.ArgumentTypeError(f"--sizes needs positive integers, got {text!r}")
    return sizes


def _generator_tag() -> str:
    """Short hash of sample_data/generate.py, so cached files follow the generator."""
    return hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:10]


def generated_input(n: int) -> Input:
    """The generate_portfolio(n, seed=1) CSV, written to the cache directory if not there yet."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"portfolio_n{n}_seed1_{_generator_tag()}.csv"
    if not path.exists():
        print(f"generating {n:,} borrowers -> {path}", file=sys.stderr, flush=True)
        partial = path.with_name(path.name + f".{os.getpid()}.tmp")
        subprocess.run([sys.executable, "-c", GENERATE, str(n), str(partial)], cwd=ROOT, check=True)
        partial.replace(path)
    return Input(label=f"{n:,} generated", path=path, rows=n)


def _count_rows(path: Path) -> int:
    """Data rows of a CSV file (lines minus the header)."""
    with path.open("rb") as f:
        return sum(1 for _ in f) - 1


def inputs(sizes: list[int], use_notebook_file: bool) -> list[Input]:
    """The notebook's own file (if present and wanted) followed by one generated file per size."""
    found = []
    if use_notebook_file and NOTEBOOK_FILE.exists():
        found.append(Input(label="notebook file", path=NOTEBOOK_FILE, rows=_count_rows(NOTEBOOK_FILE)))
    return found + [generated_input(n) for n in sizes]


def command(side: str, source: Path, target: Path, preset: str | None) -> list[str]:
    """The argv of one product or reference run."""
    if side == "product":
        argv = [sys.executable, "-m", "core", "score", str(source), "-o", str(target)]
        return argv + (["--preset", preset] if preset else [])
    if side == "floor":
        return [sys.executable, "-m", "benchmarks.floor", str(source), str(target)]
    if side == "stages":
        argv = [sys.executable, "-m", "benchmarks.stage_clock", str(source), str(target)]
        return argv + (["--preset", preset] if preset else [])
    return [sys.executable, "-m", "benchmarks.notebook_reference", str(source), str(target)]


def _last_line(path: Path) -> str:
    """Last non-blank line of a (possibly large) log file, or '' when there is none."""
    with path.open("rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - 8192))
        lines = [line.strip() for line in f.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _cell(text: str, limit: int = 160) -> str:
    """Text made safe for one Markdown table cell: no pipes, at most ``limit`` characters."""
    text = text.replace("|", "/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_once(side: str, argv: list[str], workdir: Path, output: Path, timeout: float) -> Run:
    """Run argv as a child in its own process group; measure it with os.wait4; kill it at the timeout.

    A run counts as ok only if it exits 0 in time and leaves ``output`` behind.
    """
    stdout_path, stderr_path = workdir / f"{side}.stdout", workdir / f"{side}.stderr"
    timed_out, finished, lock = threading.Event(), threading.Event(), threading.Lock()
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                 start_new_session=True)

        def kill() -> None:
            """Stop the whole process group of a runaway child (not yet reaped, so its id is still its own)."""
            with lock:
                if finished.is_set():
                    return
                timed_out.set()
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, left unreaped
        except BaseException:  # Ctrl-C here: the child is in its own session and would not see it
            kill()
            os.wait4(child.pid, 0)
            raise
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        with lock:
            finished.set()
        _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = exit_code = os.waitstatus_to_exitcode(status)
    if timed_out.is_set():
        failure = f"timeout after {timeout:g} s"
    elif exit_code != 0:
        failure = _cell(f"exit {exit_code}: {_last_line(stderr_path) or '(no stderr)'}")
    elif not output.exists():
        failure = f"exit 0 but no {output.name} written"
    else:
        failure = ""
    stages = None
    if side == "stages" and not failure:
        stages = json.loads(stdout_path.read_text().strip().splitlines()[-1])
    return Run(side=side, wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_rss_mb=usage.ru_maxrss / 1024,
               exit_code=exit_code, timed_out=timed_out.is_set(), failure=failure, stages=stages)


def bench_input(item: Input, repeats: int, timeout: float, preset: str | None,
                floor: bool = False, stages: bool = False, reference_repeats: int | None = None) -> list[Run]:
    """Product and reference (and the floor, the stage clock) on one file, interleaved; outputs are deleted."""
    runs = []
    for i in range(repeats):
        sides = ["product"] + (["reference"] if reference_repeats is None or i < reference_repeats else [])
        for side in sides + (["floor"] if floor else []) + (["stages"] if stages else []):
            with tempfile.TemporaryDirectory(prefix="bench-stages-") as tmp:
                workdir = Path(tmp)
                output = workdir / "out.csv"
                run = run_once(side, command(side, item.path, output, preset), workdir, output, timeout)
            runs.append(run)
            shown = run.failure or f"{run.wall:.2f} s wall, {run.cpu:.2f} s CPU, {run.peak_rss_mb:.0f} MB"
            print(f"  {item.label} {side} #{i + 1}: {shown}", file=sys.stderr, flush=True)
    return runs


def _summary(runs: list[Run]) -> tuple[str, str, str, float | None, float | None]:
    """Median wall, median CPU and max peak RSS of the successful runs, as cells plus the raw medians."""
    good = [r for r in runs if r.ok]
    if not good:
        reason = runs[-1].failure if runs else "no runs"
        return f"failed: {reason}", "—", "—", None, None
    note = "" if len(good) == len(runs) else f" ({len(good)}/{len(runs)} ok)"
    wall = statistics.median(r.wall for r in good)
    cpu = statistics.median(r.cpu for r in good)
    rss = max(r.peak_rss_mb for r in good)
    return f"{wall:.2f}{note}", f"{cpu:.2f}", f"{rss:.0f}", wall, cpu


def _ratio(reference: float | None, product: float | None) -> str:
    """reference / product to two decimals, or '—' when either side has no figure."""
    if reference is None or not product:
        return "—"
    return f"{reference / product:.2f}"


def summary_table(results: list[tuple[Input, list[Run]]]) -> str:
    """Markdown: per input, median wall, median CPU, max peak RSS for each side and the ratios."""
    lines = [
        "| input | rows | product wall s | reference wall s | wall ratio ref/prod | product CPU s"
        " | reference CPU s | CPU ratio ref/prod | product peak RSS MB | reference peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for item, runs in results:
        p_wall, p_cpu, p_rss, p_w, p_c = _summary([r for r in runs if r.side == "product"])
        r_wall, r_cpu, r_rss, r_w, r_c = _summary([r for r in runs if r.side == "reference"])
        lines.append(f"| {item.label} | {item.rows:,} | {p_wall} | {r_wall} | {_ratio(r_w, p_w)} | {p_cpu}"
                     f" | {r_cpu} | {_ratio(r_c, p_c)} | {p_rss} | {r_rss} |")
    if any(r.side == "floor" for _, runs in results for r in runs):
        lines += ["", "| input | rows | floor wall s | floor CPU s | floor peak RSS MB | product / floor wall |"
                  " product / floor CPU |", "|---|---:|---:|---:|---:|---:|---:|"]
        for item, runs in results:
            f_wall, f_cpu, f_rss, f_w, f_c = _summary([r for r in runs if r.side == "floor"])
            _, _, _, p_w, p_c = _summary([r for r in runs if r.side == "product"])
            lines.append(f"| {item.label} | {item.rows:,} | {f_wall} | {f_cpu} | {f_rss} | {_ratio(p_w, f_w)}"
                         f" | {_ratio(p_c, f_c)} |")
    return "\n".join(lines)


def stages_table(results: list[tuple[Input, list[Run]]]) -> str:
    """Markdown: per input and stage, median wall and CPU seconds over the stage-clock runs."""
    lines = ["| input | stage | wall s (median) | CPU s (median) | runs |", "|---|---|---:|---:|---:|"]
    for item, runs in results:
        clocked = [r.stages for r in runs if r.side == "stages" and r.stages]
        for stage in (clocked[0] if clocked else {}):
            walls = [c[stage][0] for c in clocked if stage in c]
            cpus = [c[stage][1] for c in clocked if stage in c]
            lines.append(f"| {item.label} | {stage} | {statistics.median(walls):.2f} | {statistics.median(cpus):.2f}"
                         f" | {len(walls)} |")
    return "\n".join(lines)


def runs_table(results: list[tuple[Input, list[Run]]]) -> str:
    """Markdown: every run in the order it ran, failures spelled out."""
    lines = ["| input | order | side | wall s | CPU s | peak RSS MB | outcome |", "|---|---:|---|---:|---:|---:|---|"]
    for item, runs in results:
        for order, run in enumerate(runs, start=1):
            outcome = run.failure or "ok"
            lines.append(f"| {item.label} | {order} | {run.side} | {run.wall:.2f} | {run.cpu:.2f}"
                         f" | {run.peak_rss_mb:.0f} | {outcome} |")
    return "\n".join(lines)



def _memory_gib() -> str:
    """Total RAM from /proc/meminfo, or '?' where that file does not exist."""
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(line for line in f if line.startswith("MemTotal:")).split()[1])
        return f"{kib / 1024 ** 2:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        return "?"



def machine_facts(load_start: str, load_end: str) -> str:
    """Markdown bullet list: cores, RAM, load, platform, Python, libraries, relevant environment."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    libraries = ", ".join(f"{name} {version(name)}" for name in LIBRARIES)
    env = ", ".join(f"{v}={os.environ[v]}" for v in ENV_VARS if v in os.environ) or "none set"
    return "\n".join([
        f"- cores: {os.cpu_count()} (usable by this process: {usable}); RAM {_memory_gib()}",
        f"- load average (1, 5, 15 min): start {load_start}; end {load_end}",
        f"- {platform.platform()}; Python {platform.python_version()} ({sys.executable})",
        f"- {libraries}",
        f"- environment: {env}",
    ])


def _parser() -> argparse.ArgumentParser:
    """Arguments of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_parse_sizes, default=_parse_sizes("500,2000,100000"),
                        help="generated portfolio sizes, comma-separated (default 500,2000,100000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side per input (default 3)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is killed (default 900)")
    parser.add_argument("--preset", choices=("recommended", "seed"),
                        help="pass --preset to the product (default: the CLI's own default)")
    parser.add_argument("--no-notebook-file", action="store_true", help=f"skip {NOTEBOOK_FILE}")
    parser.add_argument("--stages", action="store_true",
                        help="also run the stage clock (python -m benchmarks.stage_clock) and print each stage's time")
    parser.add_argument("--reference-repeats", type=int, default=None,
                        help="run the notebook's pipeline only this many times per input (default: --repeats)")
    parser.add_argument("--floor", action="store_true",
                        help="also run the floor of the same job (python -m benchmarks.floor): read, type, five fits, "
                             "predict, K-Means, write, and nothing else")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Build the inputs, run both sides on each, print the Markdown report."""
    args = _parser().parse_args(argv)
    if args.repeats < 1:
        raise SystemExit("--repeats must be at least 1")
    load_start = load_average()
    started = time.perf_counter()
    results = []
    for item in inputs(args.sizes, not args.no_notebook_file):
        print(f"{item.label}: {item.path}", file=sys.stderr, flush=True)
        results.append((item, bench_input(item, args.repeats, args.timeout, args.preset, args.floor, args.stages,
                                          args.reference_repeats)))
    load_end = load_average()
    product = " ".join(["python -m core score FILE -o OUT.csv"] + (["--preset", args.preset] if args.preset else []))
    print("# Whole-process speed: product CLI vs the notebook's pipeline\n")
    print(f"product: `{product}`; reference: `python -m benchmarks.notebook_reference FILE OUT.csv`; "
          f"{args.repeats} run(s) each, interleaved; timeout {args.timeout:g} s; "
          f"total {time.perf_counter() - started:.0f} s.\n")
    print(machine_facts(load_start, load_end) + "\n")
    print("Medians over successful runs; peak RSS is the largest of them. Ratio > 1: the product is faster. "
          "Not the same output: the reference scores only its 20% test split, the product every row.\n")
    print(summary_table(results) + "\n")
    if args.stages:
        print("## Each stage (benchmarks.stage_clock: CPU counts every thread; parts are inside their stage)\n")
        print(stages_table(results) + "\n")
    print("## Every run\n")
    print(runs_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
