"""Take docs/screenshot.png: the Strategy page of the running app on the demo portfolio.

    python docs/make_screenshot.py [--page strategy] [--out docs/screenshot.png]
    python docs/make_screenshot.py --report [--out docs/report-screenshot.png]

Starts ``streamlit run streamlit_app.py`` on a free port, opens it in headless system Chromium
(/usr/bin/chromium, or CHROMIUM_PATH), waits for the analysis, saves a 1400x900 screenshot.
With --report, writes the demo's stakeholder report (`python -m core report`) and takes the top
of it instead, opened from the file with the network off.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
HEADINGS = {"strategy": "Recovery strategies", "risk": "Recovery risk"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"streamlit not healthy after {timeout:.0f}s")


def report_screenshot(out: str, width: int, height: int) -> None:
    """The top of the demo's stakeholder report, as a browser shows the file offline."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "recovery_report.html"
        subprocess.run([sys.executable, "-m", "core", "report", str(REPO / "sample_data" / "demo_portfolio.csv"),
                        "-o", str(report)], cwd=REPO, check=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_context(viewport={"width": width, "height": height}, offline=True).new_page()
            page.goto(report.as_uri())
            expect(page.get_by_role("heading", name="Executive summary")).to_be_visible()
            page.screenshot(path=out)
            browser.close()
    print(f"wrote {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--page", default="strategy", choices=sorted(HEADINGS))
    parser.add_argument("--report", action="store_true", help="take the stakeholder report instead of a page")
    parser.add_argument("--out")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    if args.report:
        report_screenshot(args.out or str(REPO / "docs" / "report-screenshot.png"), 1100, 1500)
        return 0
    args.out = args.out or str(REPO / "docs" / "screenshot.png")

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"},
    )
    try:
        _wait_healthy(url, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            expect.set_options(timeout=180_000)
            page.goto(f"{url}/{args.page}")
            expect(page.get_by_role("heading", name=HEADINGS[args.page])).to_be_visible()
            done = page.locator('[data-testid="stException"], [data-testid="stPlotlyChart"]')
            expect(done.first).to_be_visible()
            if page.locator('[data-testid="stException"]').count():
                page.screenshot(path=args.out + ".error.png")
                raise SystemExit(f"the page shows an error; see {args.out}.error.png")
            expect(page.locator('[data-testid="stSpinner"]')).to_have_count(0)
            # the page is complete when its last widgets and charts are drawn
            page.wait_for_load_state("networkidle")
            expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible()
            if args.page == "strategy":
                expect(page.get_by_role("button", name="Download stakeholder report (HTML)")).to_be_attached()
            page.wait_for_timeout(1500)  # let plotly finish its entry transition
            page.screenshot(path=args.out)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
