"""Server memory with concurrent sessions: what N analysts uploading 100,000 borrowers cost, and what comes back.

Not a test: run it and read the table.

    python -m benchmarks.bench_sessions                       # 4 sessions x 100,000 rows, 3 rounds
    python -m benchmarks.bench_sessions --sessions 2 --rows 20000 --rounds 2

Starts the real server (``streamlit run streamlit_app.py`` on a free port, headless, OpenMP/BLAS limited to
one thread), then per round opens N headless Chromium tabs at once; each uploads its own generated portfolio
(``generate_portfolio(rows, seed)``) on the Data page, waits for the Overview's analysis, opens Strategy
(timed: click to the page's last button) and Risk, and closes its tab. The server's RSS (the streamlit
process) is sampled every 0.25 s: before the round, its peak, 10 s after the last tab closed, and after the
server's disconnectedSessionTTL (+ the app's release margin and a few seconds). Rounds follow each other
on the same server, so growth from round to round shows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.machine import load_average

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
ANALYSIS_TIMEOUT_MS = 900_000
UI_TIMEOUT_MS = 120_000
SETTLE_S = 10.0
AFTER_TTL_S = 15.0  # beyond the TTL and ui/memory.py's margin


def log(message: str) -> None:
    """Progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    """A free local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_ttl() -> int:
    """server.disconnectedSessionTTL from .streamlit/config.toml (Streamlit's default 120 s when unset)."""
    path = ROOT / ".streamlit" / "config.toml"
    config = tomllib.loads(path.read_text()) if path.exists() else {}
    return int(config.get("server", {}).get("disconnectedSessionTTL", 120))


class Memory:
    """The server's RSS sampled in a thread: the current value and the peak since the last reset."""

    def __init__(self, pid: int) -> None:
        import psutil

        self._process = psutil.Process(pid)
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def rss(self) -> int:
        """Resident bytes now."""
        return self._process.memory_info().rss

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            try:
                self._peak = max(self._peak, self.rss())
            except Exception:  # the server has gone: sampling stops with it
                return

    def peak_since_reset(self) -> int:
        """Highest RSS seen since the last reset."""
        return max(self._peak, self.rss())

    def reset(self) -> None:
        """Start a new peak."""
        self._peak = self.rss()

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()


@dataclass
class Round:
    """One round's figures (bytes and seconds)."""

    before: int
    peak: int = 0
    after_close: int = 0
    after_ttl: int = 0
    strategy_waits: list[float] = field(default_factory=list)
    analysis_waits: list[float] = field(default_factory=list)
    took: float = 0.0


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    """`streamlit run streamlit_app.py` on the port, healthy, with one thread per numeric library."""
    env = {**os.environ, **THREADS, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
             "--server.headless", "true", "--server.address", "127.0.0.1"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return proc
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    proc.terminate()
    raise RuntimeError("streamlit not healthy after 90 s")


async def one_session(browser, url: str, upload: Path, rows: int, figures: Round) -> None:
    """Upload, Overview (the analysis), Strategy (timed), Risk; then close the tab."""
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        sidebar = page.locator('[data-testid="stSidebar"]')
        spinner = page.locator('[data-testid="stSpinner"]')
        await page.goto(url + "/data")
        await expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible(timeout=UI_TIMEOUT_MS)
        await page.locator('[data-testid="stFileUploaderDropzone"] input[type="file"]').set_input_files(upload)
        await expect(page.get_by_text(f"{upload.name}: {rows:,} rows", exact=False)).to_be_visible(
            timeout=ANALYSIS_TIMEOUT_MS)
        started = time.perf_counter()
        await sidebar.get_by_role("link", name="Overview", exact=True).click()
        await expect(page.get_by_text("Go straight to recovery strategies", exact=True)).to_be_attached(
            timeout=ANALYSIS_TIMEOUT_MS)
        await expect(spinner).to_have_count(0, timeout=ANALYSIS_TIMEOUT_MS)
        figures.analysis_waits.append(time.perf_counter() - started)
        started = time.perf_counter()
        await sidebar.get_by_role("link", name="Strategy", exact=True).click()
        await expect(page.get_by_role("button", name="Download stakeholder report (HTML)")).to_be_visible(
            timeout=ANALYSIS_TIMEOUT_MS)
        await expect(spinner).to_have_count(0, timeout=ANALYSIS_TIMEOUT_MS)
        figures.strategy_waits.append(time.perf_counter() - started)
        await sidebar.get_by_role("link", name="Risk", exact=True).click()
        await expect(page.get_by_role("heading", name="Recovery risk", exact=True)).to_be_visible(
            timeout=ANALYSIS_TIMEOUT_MS)
        await expect(spinner).to_have_count(0, timeout=ANALYSIS_TIMEOUT_MS)
        if await page.locator('[data-testid="stException"]').count():
            raise RuntimeError("the app showed an exception")
    finally:
        await context.close()  # the tab goes: its websocket closes and the session is disconnected


async def warm_up(url: str) -> None:
    """One tab on the bundled demo through Overview and Strategy, then closed."""
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = await browser.new_page()
            await page.goto(url + "/strategy")
            await expect(page.get_by_role("button", name="Download stakeholder report (HTML)")).to_be_visible(
                timeout=ANALYSIS_TIMEOUT_MS)
        finally:
            await browser.close()


async def run_round(url: str, uploads: list[Path], rows: int, figures: Round) -> None:
    """N sessions at once in one headless Chromium."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            await asyncio.gather(*(one_session(browser, url, path, rows, figures) for path in uploads))
        finally:
            await browser.close()


def write_uploads(folder: Path, rows: int, sessions: int, round_no: int) -> list[Path]:
    """One generated portfolio per session (a seed of its own), as CSV files."""
    from sample_data.generate import generate_portfolio

    paths = []
    for i in range(sessions):
        frame, _ = generate_portfolio(rows, seed=1000 * round_no + i)
        path = folder / f"portfolio_r{round_no}_s{i}.csv"
        frame.to_csv(path, index=False)
        paths.append(path)
    return paths


def mb(n: int) -> str:
    """Bytes as MB with no decimals."""
    return f"{n / 1e6:,.0f}"


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=4, help="concurrent sessions per round (default 4)")
    parser.add_argument("--rows", type=int, default=100_000, help="borrowers in each upload (default 100000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds on the same server (default 3)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no Chromium at {CHROMIUM} (set CHROMIUM_PATH)")
    ttl, load_start = server_ttl(), load_average()
    try:
        from ui.memory import MARGIN_S
    except ImportError:  # a version of the app without ui/memory.py, measured for comparison
        MARGIN_S = 0.0
    wait_after = ttl + MARGIN_S + AFTER_TTL_S
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        port = free_port()
        server = start_server(port, folder / "server.log")
        memory = Memory(server.pid)
        rounds: list[Round] = []
        try:
            time.sleep(2)
            log(f"server up on port {port}: {mb(memory.rss())} MB; warm-up tab on the bundled demo")
            # one tab on the demo first: the libraries a session imports are not counted as held data
            asyncio.run(warm_up(f"http://127.0.0.1:{port}"))
            time.sleep(SETTLE_S)
            started_rss = memory.rss()
            log(f"after the warm-up: {mb(started_rss)} MB")
            for r in range(1, args.rounds + 1):
                uploads = write_uploads(folder, args.rows, args.sessions, r)
                figures = Round(before=memory.rss())
                memory.reset()
                log(f"round {r}: {args.sessions} sessions x {args.rows:,} rows; before {mb(figures.before)} MB")
                t0 = time.perf_counter()
                asyncio.run(run_round(f"http://127.0.0.1:{port}", uploads, args.rows, figures))
                figures.took = time.perf_counter() - t0
                time.sleep(SETTLE_S)
                figures.peak = memory.peak_since_reset()
                figures.after_close = memory.rss()
                log(f"  peak {mb(figures.peak)} MB; {SETTLE_S:.0f} s after close {mb(figures.after_close)} MB; "
                    f"waiting {wait_after - SETTLE_S:.0f} s more (TTL {ttl} s)")
                time.sleep(wait_after - SETTLE_S)
                figures.after_ttl = memory.rss()
                log(f"  after the TTL {mb(figures.after_ttl)} MB")
                rounds.append(figures)
                for path in uploads:
                    path.unlink()
        finally:
            memory.stop()
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=20)
            text = (folder / "server.log").read_text(errors="replace")
            if "Traceback" in text:
                log(text[-3000:])

    print("# Server memory with concurrent sessions\n")
    print(f"`python -m benchmarks.bench_sessions --sessions {args.sessions} --rows {args.rows} --rounds "
          f"{args.rounds}`: {args.sessions} headless Chromium tabs at once per round, each uploading its own "
          f"{args.rows:,}-borrower CSV, Overview (analysis), Strategy, Risk, then closing. RSS of the streamlit "
          f"process, after a warm-up tab on the bundled demo; server.disconnectedSessionTTL = {ttl} s; 'after TTL' is read {wait_after:.0f} s after the "
          f"tabs closed. Load average start {load_start}, end {load_average()}; server RSS after the warm-up "
          f"{mb(started_rss)} MB.\n")
    print("| round | before MB | peak MB | 10 s after close MB | after TTL MB | held after TTL per session MB"
          " | upload→Overview ready s (median) | Strategy click→ready s (median) | round s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i, f in enumerate(rounds, start=1):
        held = (f.after_ttl - started_rss) / args.sessions
        print(f"| {i} | {mb(f.before)} | {mb(f.peak)} | {mb(f.after_close)} | {mb(f.after_ttl)} | {mb(int(held))}"
              f" | {statistics.median(f.analysis_waits):.1f} | {statistics.median(f.strategy_waits):.1f}"
              f" | {f.took:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
