"""End to end: the real app in headless Chromium, from upload to the downloaded strategy table.

Starts ``streamlit run streamlit_app.py`` on a free port and drives it the way an analyst
would: home page, Data page upload, Strategy page, "Download CSV". Skipped when Chromium or
playwright is missing, unless REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
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

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
START_TIMEOUT_S = 60
ANALYSIS_TIMEOUT_MS = 180_000
UI_TIMEOUT_MS = 60_000
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


def test_upload_analyse_and_download_strategies(app_url, browser, tmp_path):
    """An analyst uploads a CSV, opens Strategy and downloads every borrower with a strategy."""
    from playwright.sync_api import expect

    uploaded, _ = generate_portfolio(n=300, seed=5)
    upload_path = tmp_path / "my_portfolio.csv"
    uploaded.to_csv(upload_path, index=False)

    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
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
