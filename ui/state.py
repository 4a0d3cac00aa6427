"""What the session has loaded and chosen, and the cached engine calls on it.

Uploaded bytes and everything derived from them live in this session only:
st.session_state and session-scoped st.cache_data keyed by a digest of the raw bytes,
computed once per upload so a large file is not re-hashed by every cached call.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from core.config import RecoveryConfig
from core.ingest import Portfolio, load_portfolio, sheet_names
from core.pipeline import RecoveryResult, analyse_portfolio
from core.segmentation import choose_k

SAMPLE_PATH = Path(__file__).resolve().parent.parent / "sample_data" / "demo_portfolio.csv"
SAMPLE_NAME = "Demo portfolio (bundled sample)"


@dataclass(frozen=True)
class Source:
    """The file the session works on."""

    name: str
    data: bytes
    is_sample: bool
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", hashlib.sha256(self.data).hexdigest())


def init() -> None:
    """Start every new session with the bundled sample and the recommended method."""
    if "source" not in st.session_state:
        use_sample()
    st.session_state.setdefault("config", RecoveryConfig())


def use_sample() -> None:
    """Load the bundled demo portfolio."""
    set_source(Source(SAMPLE_NAME, SAMPLE_PATH.read_bytes(), True))


def set_source(source: Source) -> None:
    """Switch to a new file, forgetting choices made for the previous one."""
    st.session_state["source"] = source
    st.session_state["mapping"] = None
    st.session_state["sheet"] = None
    st.session_state["exclude_invalid"] = False


def source() -> Source:
    """The loaded file."""
    return st.session_state["source"]


def config() -> RecoveryConfig:
    """The current settings."""
    return st.session_state["config"]


def set_config(new: RecoveryConfig) -> None:
    """Store new settings (already checked by RecoveryConfig.with_)."""
    st.session_state["config"] = new


def _mapping_key() -> tuple | None:
    """The user's column mapping as a hashable cache key (None = suggested)."""
    mapping = st.session_state.get("mapping")
    return None if mapping is None else tuple(sorted(mapping.items()))


# Arguments starting with "_" are not hashed by Streamlit: the digest stands for the bytes.
@st.cache_data(scope="session", show_spinner="Reading the file…", max_entries=4)
def _load(digest: str, _data: bytes, name: str, mapping: tuple | None, sheet: str | None) -> Portfolio:
    return load_portfolio(_data, name, None if mapping is None else dict(mapping), sheet)


@st.cache_data(scope="session", show_spinner=False, max_entries=4)
def _sheets(digest: str, _data: bytes) -> tuple[str, ...]:
    return sheet_names(_data)


@st.cache_data(scope="session", show_spinner="Segmenting and scoring every borrower…", max_entries=8)
def _analyse(digest: str, _data: bytes, name: str, mapping: tuple | None, sheet: str | None,
             exclude: bool, config: RecoveryConfig) -> RecoveryResult:
    return analyse_portfolio(_load(digest, _data, name, mapping, sheet), config, exclude)


@st.cache_data(scope="session", show_spinner="Trying k = 2 … 8…", max_entries=4)
def _choose_k(digest: str, _data: bytes, name: str, mapping: tuple | None, sheet: str | None,
              exclude: bool, features: tuple[str, ...], random_state: int) -> pd.DataFrame:
    frame = rows_in_view(_load(digest, _data, name, mapping, sheet), exclude)
    return choose_k(frame, tuple(f for f in features if f in frame.columns), random_state=random_state)


def rows_in_view(portfolio: Portfolio, exclude: bool) -> pd.DataFrame:
    """The rows pages show: without the invalid ones once the user has excluded them."""
    return portfolio.valid_rows() if exclude else portfolio.frame


def _key() -> tuple:
    """Arguments that identify the loaded portfolio."""
    s = source()
    return s.digest, s.data, s.name, _mapping_key(), st.session_state.get("sheet")


def sheets() -> tuple[str, ...]:
    """Worksheets of the loaded workbook; () for CSV files."""
    s = source()
    return _sheets(s.digest, s.data)


def portfolio() -> Portfolio:
    """The loaded, mapped and validated portfolio (raises RecoveryError for a bad file)."""
    return _load(*_key())


def result() -> RecoveryResult:
    """The analysis of the portfolio with the current settings (raises RecoveryError)."""
    return _analyse(*_key(), st.session_state.get("exclude_invalid", False), config())


def frame_in_view() -> pd.DataFrame:
    """The loaded rows the Explore page shows (raises RecoveryError for a bad file)."""
    return rows_in_view(portfolio(), st.session_state.get("exclude_invalid", False))


def excluded_rows() -> int:
    """How many invalid rows the analysis leaves out."""
    if not st.session_state.get("exclude_invalid", False):
        return 0
    return len(portfolio().report.invalid_rows)


def k_diagnostics() -> pd.DataFrame:
    """Silhouette and inertia for k = 2..8 on the current segmentation fields."""
    c = config()
    return _choose_k(*_key(), st.session_state.get("exclude_invalid", False),
                     c.segment_features, c.random_state)
