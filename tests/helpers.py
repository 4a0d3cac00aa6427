"""What several test folders share: where things are, and how a test drives the app like a user."""

from __future__ import annotations

import io
import subprocess
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest
from threadpoolctl import threadpool_limits

from sample_data.generate import generate_portfolio

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 300
PAGES = ("app_pages/data.py", "app_pages/explore.py", "app_pages/segments.py", "app_pages/risk.py", "app_pages/strategy.py")


def app() -> AppTest:
    """A new app session, run once."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    return at


def visit(at: AppTest, page: str) -> AppTest:
    """Switch to a page and run it; no page may raise."""
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> list[str]:
    """Element texts as the user reads them (Markdown escapes removed)."""
    return [e.value.replace("\\", "") for e in elements]


def table(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page that has ``column`` (tables move as pages grow)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def opened(page: str) -> AppTest:
    """A new app session opened straight on ``page``; no page may raise.

    Its first run is that page: the Overview, which analyses the whole demo portfolio (about 2 CPU s
    a session), runs only in the tests that look at it.
    """
    return visit(AppTest.from_file(APP, default_timeout=TIMEOUT), page)


def uploaded(name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    """A new app session after uploading a file on the Data page."""
    at = opened("app_pages/data.py")
    at.file_uploader[0].upload(name, data, mime)
    at.run()
    return at


def portfolio_file(path: Path, n: int, seed: int) -> Path:
    """``n`` generated demo borrowers written as a CSV at ``path``."""
    frame, _ = generate_portfolio(n=n, seed=seed)
    frame.to_csv(path, index=False)
    return path


def inch_mark_file(path: Path, n: int = 300) -> Path:
    """Notes with an inch mark in unquoted cells (a letter, not a quote) and, later, line breaks in quoted ones."""
    frame, _ = generate_portfolio(n=n, seed=5)
    frame["Branch_Note"] = "ok"
    frame.loc[frame.index[::7], "Branch_Note"] = "called\ntwice"
    frame.loc[[2, 38, 39, 148], "Branch_Note"] = '5" screen'
    # pandas quotes a cell with a quote in it; an export's own writer may not
    path.write_text(frame.to_csv(index=False).replace('"5"" screen"', '5" screen'))
    return path


def decimal_mark_file(path: Path, comma_from: int | None = None, n: int = 300) -> Path:
    """A tab-separated export with amounts like 12,345.67; from row ``comma_from`` on, like 12.345,67."""
    frame, _ = generate_portfolio(n=n, seed=5)
    point = [f"{v:,.2f}" for v in frame["Loan_Amount"]]
    comma = [v.replace(",", " ").replace(".", ",").replace(" ", ".") for v in point]
    start = n if comma_from is None else comma_from - 2
    frame["Loan_Amount"] = point[:start] + comma[start:]
    path.write_text(frame.to_csv(index=False, sep="\t"))
    return path


# The warnings a fresh `python -m core` shows: Python's own default filters, not the test runner's.
_PLAIN_FILTERS = (("default", DeprecationWarning, "__main__"), ("ignore", DeprecationWarning, None),
                  ("ignore", PendingDeprecationWarning, None), ("ignore", ImportWarning, None),
                  ("ignore", ResourceWarning, None))


def cli(*args: str | Path) -> subprocess.CompletedProcess:
    """`python -m core ARGS` run in this process: the same main(), its exit code, stdout and stderr.

    The interpreter start and imports (about 3 CPU seconds a call) are paid once per test process; the
    warnings the run raises are written to stderr as a fresh process would print them. Tests about the
    process boundary itself (exit status, a terminal, a kill) still start `python -m core`.
    """
    from core.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught, redirect_stdout(out), redirect_stderr(err), \
            threadpool_limits(limits=1, user_api="openmp"):
        warnings.resetwarnings()
        for action, category, module in reversed(_PLAIN_FILTERS):
            warnings.filterwarnings(action, category=category, module=module or "")
        try:
            code = main([str(a) for a in args])
        except SystemExit as stop:  # argparse refusing an option exits 2, as the process would
            code = 0 if stop.code is None else stop.code if isinstance(stop.code, int) else 1
    shown = "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line) for w in caught)
    return subprocess.CompletedProcess(["python", "-m", "core", *map(str, args)], code, out.getvalue(),
                                       err.getvalue() + shown)
