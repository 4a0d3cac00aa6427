"""End to end: the real app in headless Chromium, from upload to the downloaded strategy table.

Starts ``streamlit run streamlit_app.py`` on a free port and drives it the way an analyst
would: home page, Data page upload, Strategy page, "Download CSV"; then every page at 1440×900
as a person reads it (screenshots in test-artifacts/), and the stakeholder report opened offline.
Skipped when Chromium or playwright is missing, unless REQUIRE_BROWSER=1 (CI), where a missing
browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from core.config import SEED_STRATEGIES
from sample_data.generate import generate_portfolio
from tests.helpers import ROOT

pytestmark = pytest.mark.browser

REPO = ROOT
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
START_TIMEOUT_S = 60
ANALYSIS_TIMEOUT_MS = 180_000
UI_TIMEOUT_MS = 60_000
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", REPO / "test-artifacts"))
# Each page, its heading, and the last thing it draws (the page is complete once that is there).
PAGES = [
    ("Overview", "Smart Loan Recovery", "Go straight to recovery strategies"),
    ("Data", "Data", "Data quality"),
    ("Explore", "Explore the portfolio", "Monthly income, loan amount and recovery status"),
    ("Segments", "Borrower segments", "Borrower segments by monthly income and loan amount"),
    ("Risk", "Recovery risk", "Why each borrower scores as they do"),
    ("Strategy", "Recovery strategies", "Download stakeholder report (HTML)"),
]
# Tables holding the file's own columns (preview, statistics, worklist) scroll sideways by design:
# a lender's file can have any number of columns. Every summary table must fit.
FILE_COLUMNS = {"Loan_ID", "Loan ID", "Monthly_Income"}
RAW_WORDS = re.compile(r"\b(undefined|NaN|None|nan)\b")
# Replacement character and emoji blocks: an empty box on a machine without an emoji font.
BOX_GLYPHS = re.compile("[\ufffd\ufe0f\u2600-\u27bf\U0001f000-\U0001faff]")
REPORT_HEADINGS = ("Executive summary", "The portfolio", "Segments", "How far to trust the risk score",
                   "The recovery plan", "Data quality", "How these figures were made")
ADDED = ["Borrower_Segment", "Segment_Name", "Risk_Score", "Predicted_High_Risk",
         "Recovery_Strategy", "Risk_Reasons"]


def _unavailable(reason: str) -> None:
    """Skip, or fail when the environment promises a browser (REQUIRE_BROWSER=1)."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _chromium() -> str:
    """Path of the Chromium binary to drive."""
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not path:
        _unavailable(f"no Chromium at {CHROMIUM} or on PATH")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """A running `streamlit run streamlit_app.py` on a free local port; stopped afterwards."""
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
             "--server.port", str(port), "--server.headless", "true",
             "--server.address", "127.0.0.1"],
            cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{_log_tail(log)}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {START_TIMEOUT_S}s:\n{_log_tail(log)}")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
    # surface server-side tracebacks even when the page hid them
    assert "Traceback" not in log.read_text(errors="replace"), _log_tail(log)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium from the system (no playwright browser download)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        _unavailable(f"playwright cannot be imported ({error})")
    executable = _chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _app_page(browser, width: int):
    """A fresh browser session on the app (context, page) and the list its JavaScript errors go to."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def test_upload_analyse_and_download_strategies(app_url, browser, tmp_path):
    """An analyst uploads a CSV, opens Strategy and downloads every borrower with a strategy."""
    from playwright.sync_api import expect

    uploaded, _ = generate_portfolio(n=300, seed=5)
    upload_path = tmp_path / "my_portfolio.csv"
    uploaded.to_csv(upload_path, index=False)

    context, page, errors = _app_page(browser, width=1400)
    try:
        sidebar = page.locator('[data-testid="stSidebar"]')
        exceptions = page.locator('[data-testid="stException"]')

        # a deep link as the very first request still runs the app's entry script
        page.goto(app_url + "/data")
        expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible()
        expect(sidebar.get_by_text("Demo portfolio (bundled sample)")).to_be_visible()
        expect(exceptions).to_have_count(0)

        # home page, with the bundled demo portfolio loaded
        page.goto(app_url + "/")
        expect(page.get_by_role("heading", name="Smart Loan Recovery", exact=True)).to_be_visible()
        expect(sidebar.get_by_text("Demo portfolio (bundled sample)")).to_be_visible()

        # Data page: upload my portfolio
        sidebar.get_by_role("link", name="Data", exact=True).click()
        expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible()
        dropzone = page.locator('[data-testid="stFileUploaderDropzone"]')
        dropzone.locator('input[type="file"]').set_input_files(upload_path)
        # the Data page reads the file first (its own summary line), then the sidebar follows
        expect(page.get_by_text("my_portfolio.csv: 300 rows", exact=False)).to_be_visible()
        expect(sidebar.get_by_text("my_portfolio.csv", exact=True)).to_be_visible()
        expect(sidebar.get_by_text("300 rows", exact=False)).to_be_visible()
        expect(exceptions).to_have_count(0)

        # Strategy page: wait for the analysis, then download the table
        sidebar.get_by_role("link", name="Strategy", exact=True).click()
        expect(page.get_by_role("heading", name="Recovery strategies", exact=True)).to_be_visible()
        download_button = page.get_by_role("button", name="Download CSV")
        expect(download_button).to_be_visible(timeout=ANALYSIS_TIMEOUT_MS)
        expect(page.locator('[data-testid="stSpinner"]')).to_have_count(0, timeout=ANALYSIS_TIMEOUT_MS)
        expect(exceptions).to_have_count(0)
        expect(sidebar.get_by_text("my_portfolio.csv", exact=True)).to_be_visible()
        page.screenshot(path=str(tmp_path / "strategy.png"), full_page=True)

        with page.expect_download(timeout=UI_TIMEOUT_MS) as info:
            download_button.click()
        saved = tmp_path / "downloaded.csv"
        info.value.save_as(saved)
    finally:
        context.close()

    assert not errors, f"JavaScript errors in the page: {errors}"
    table = pd.read_csv(saved)
    assert len(table) == 300
    missing = [c for c in ADDED if c not in table.columns]
    assert not missing, f"download lacks {missing}; has {list(table.columns)}"
    assert table["Risk_Score"].between(0, 1).all()
    assert set(table["Recovery_Strategy"]) <= set(SEED_STRATEGIES)
    assert sorted(table["Borrower_ID"].astype(str)) == sorted(uploaded["Borrower_ID"].astype(str))


def _wait_for_page(page, heading: str, last: str) -> None:
    """The page's heading, then its last element, with no spinner or error left."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_text(last, exact=True).first).to_be_attached(timeout=ANALYSIS_TIMEOUT_MS)
    expect(page.locator('[data-testid="stSpinner"]')).to_have_count(0, timeout=ANALYSIS_TIMEOUT_MS)
    # tables show a skeleton until their data has arrived
    expect(page.locator('[data-testid="stMain"] [data-testid="stSkeleton"]')).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def _overflowing_tables(page) -> list[str]:
    """Summary tables wider than their box: each table is scrolled into view (they draw lazily) and measured."""
    wide = []
    frames = page.locator('[data-testid="stDataFrame"]')
    for i in range(frames.count()):
        frame = frames.nth(i)
        if not frame.is_visible():  # inside a closed expander
            continue
        frame.scroll_into_view_if_needed()
        frame.locator(".dvn-scroller").wait_for()
        frame.locator("th, [role=columnheader]").first.wait_for(state="attached")
        # glide-data-grid draws cells on a canvas; its scroller is as wide as all columns together
        headers, scroll, client = frame.evaluate(
            """d => { const s = d.querySelector('.dvn-scroller');
                      return [[...d.querySelectorAll('th, [role=columnheader]')].map(h => h.textContent),
                              s.scrollWidth, s.clientWidth]; }""")
        if scroll > client + 1 and not FILE_COLUMNS & set(headers):
            wide.append(f"{headers[:4]}: {scroll}px in {client}px")
    return wide


def _screenshot_whole_page(page, path: Path) -> None:
    """The whole main area at 1440 px wide: the viewport grows to the content's height for the picture."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(900, height)})
    page.wait_for_timeout(700)  # charts resize to the new viewport
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1440, "height": 900})


def test_every_page_reads_cleanly_at_1440_and_the_report_opens_offline(app_url, browser):
    """Every page on the demo as a person sees it, then the stakeholder report from the Strategy page, offline."""

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context, page, errors = _app_page(browser, width=1440)
    problems: dict[str, list[str]] = {}
    try:
        page.goto(app_url + "/")
        sidebar = page.locator('[data-testid="stSidebar"]')
        for name, heading, last in PAGES:
            sidebar.get_by_role("link", name=name, exact=True).click()
            _wait_for_page(page, heading, last)
            found = _overflowing_tables(page)
            text = page.locator('[data-testid="stMain"]').inner_text()
            found += [f"shows {m.group(0)!r}: …{text[max(m.start() - 40, 0):m.end() + 20]}…"
                      for m in RAW_WORDS.finditer(text)]
            found += [f"shows the glyph U+{ord(m.group(0)):04X}" for m in BOX_GLYPHS.finditer(text)]
            found += [f"sidebar shows the glyph U+{ord(m.group(0)):04X}"
                      for m in BOX_GLYPHS.finditer(sidebar.inner_text())]
            if found:
                problems[name] = found
            _screenshot_whole_page(page, ARTIFACTS / f"page-{name.lower()}.png")

        # the Strategy page is open: download the report as a stakeholder would get it
        with page.expect_download(timeout=ANALYSIS_TIMEOUT_MS) as info:
            page.get_by_role("button", name="Download stakeholder report (HTML)").click()
        assert info.value.suggested_filename.endswith(".html")
        report = ARTIFACTS / "report.html"
        info.value.save_as(report)
    finally:
        context.close()
    assert not errors, f"JavaScript errors in the app: {errors}"
    assert not problems, f"pages a person would find fault with: {problems}"
    _open_report_offline(browser, report)


def _open_report_offline(browser, report: Path) -> None:
    """The report renders from the file alone: every network request is refused, none is made."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1440, "height": 900}, offline=True)
    requested: list[str] = []

    def refuse(route) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
            return
        requested.append(route.request.url)
        route.abort()

    context.route("**/*", refuse)
    page = context.new_page()
    console, failed = [], []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    page.on("requestfailed", lambda r: failed.append(r.url))
    try:
        page.goto(report.as_uri())
        expect(page.get_by_role("heading", name="Loan recovery report")).to_be_visible()
        for heading in REPORT_HEADINGS:
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        charts = page.locator("svg.chart")
        assert charts.count() >= 5
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box and box["width"] > 200 and box["height"] > 100, f"chart {i} not drawn: {box}"
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        # printed on A4 (186 mm between the margins, about 703 px): nothing wider than the paper
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 703, "height": 1000})
        assert page.evaluate("() => document.documentElement.scrollWidth <= 703")
        page.pdf(path=str(ARTIFACTS / "report.pdf"), format="A4", print_background=True)
    finally:
        context.close()
    assert not requested and not failed, f"the report asked the network for {requested or failed}"
    assert not console, f"console errors in the report: {console}"
