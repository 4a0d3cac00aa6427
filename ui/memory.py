"""A closed session's data goes when the session can no longer come back, and the memory goes back to the system.

Streamlit keeps a disconnected session for server.disconnectedSessionTTL seconds so a browser can reconnect
after a network blip; once that time is up it forgets the session only when another session disconnects,
and then without shutting it down (its uploaded files stay with the server). So each session takes a
lease, a session-scoped resource that Streamlit releases the moment the browser disconnects; a watcher
then waits until the session has been away for the whole TTL (a reconnection starts the count again),
empties the session's state and its uploaded files, collects the garbage and hands the freed memory back
to the system (glibc's malloc_trim, Arrow's pool). The lease caches only the session's id; its state is found by that id on release.
The server's own records of the session go too (uploaded files, download buttons' deferred callables, which
hold their page's globals, lazy tables): what AppSession.shutdown would have released.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

POLL_S = 1.0
# after the TTL, the margin lets Streamlit's own count (started a moment after the release) run out first
MARGIN_S = 5.0


@dataclass(frozen=True)
class Lease:
    """What the watcher needs of one session: its id and its state (Streamlit's thread-safe wrapper)."""

    session_id: str
    session_state: Any


# glibc: blocks of 256 KB and more (a column of 32,000 numbers) are mapped on their own and unmapped when freed,
# instead of lying in an arena where a few live objects keep a closed session's freed pages from the system;
# two arenas bound how far that spreads across the server's threads
MMAP_THRESHOLD_BYTES = 256 * 1024
ARENA_MAX = 2
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # mallopt's parameter numbers (malloc.h)


def tune_allocator() -> bool:
    """Map big blocks apart and keep two arenas (glibc only; safe to call on every run); True if applied."""
    name = ctypes.util.find_library("c")
    if not (sys.platform.startswith("linux") and name):
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
            libc.mallopt(_M_ARENA_MAX, ARENA_MAX))
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False


def return_memory() -> None:
    """Collect the garbage and give freed pages back to the system (a no-op where there is no glibc)."""
    gc.collect()
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    name = ctypes.util.find_library("c")
    if sys.platform.startswith("linux") and name:
        with contextlib.suppress(OSError, AttributeError):  # musl and others have no malloc_trim
            ctypes.CDLL(name).malloc_trim(0)


def empty(lease: Lease, forget: Callable[[str], None] | None) -> int:
    """Drop every value the session holds (and what the server keeps for it); how many were dropped."""
    state = lease.session_state
    keys = list(state.filtered_state)
    for key in keys:
        with contextlib.suppress(KeyError):  # gone meanwhile
            del state[key]
    # keyless widgets' values and metadata (a picker's format_func closes over its page's globals: the whole
    # analysis) are not in filtered_state; Streamlit's own reset drops them with every old value
    # (its widget metadata, which holds those functions, survives that reset: it is emptied too)
    clear = getattr(state, "clear", None)
    if callable(clear):
        with contextlib.suppress(AttributeError, KeyError):
            clear()
    metadata = getattr(getattr(state, "_new_widget_state", None), "widget_metadata", None)
    if isinstance(metadata, dict):
        metadata.clear()
    if forget is not None:
        forget(lease.session_id)
    return len(keys)


def watch(lease: Lease, is_active: Callable[[str], bool], ttl_s: float, forget: Callable[[str], None] | None,
          sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> bool:
    """Wait until the session has been away for ttl_s + MARGIN_S in a row, then empty it; False if the server
    stopped first. A session that is back resets the count; one that stays connected keeps the watcher asleep."""
    away_since = clock()
    while True:
        sleep(POLL_S)
        if is_active(lease.session_id):
            away_since = None
            continue
        if away_since is None:
            away_since = clock()
        if clock() - away_since >= ttl_s + MARGIN_S:
            empty(lease, forget)
            return_memory()
            return True


def _released(session_id: str) -> None:
    """The browser disconnected: watch the session in a daemon thread (called by Streamlit, on any thread)."""
    from streamlit import runtime

    if not runtime.exists():
        return
    server = runtime.get_instance()
    session = server.get_app_session(session_id)
    if session is None:  # already shut down by Streamlit: nothing left to let go
        return
    lease = Lease(session_id, session.session_state)  # held by the watcher only, never by a cache

    def forget(session_id: str) -> None:
        """What AppSession.shutdown would let go of, had Streamlit shut the session down: its uploaded files,
        its download buttons' deferred callables (each holds its page's globals: the whole analysis) and
        its lazy tables."""
        # Streamlit's own managers: a release that fails leaves the memory held, never the server down
        with contextlib.suppress(AttributeError, KeyError, OSError):
            server.uploaded_file_mgr.remove_session_files(session_id)
            server.media_file_mgr.clear_session_refs(session_id)
            server.media_file_mgr.remove_orphaned_files()
            server.dataframe_source_mgr.clear_all_for_session(session_id)

    ttl = float(st.get_option("server.disconnectedSessionTTL"))
    threading.Thread(target=watch, name=f"release-{lease.session_id[:8]}", daemon=True,
                     args=(lease, server.is_active_session, ttl, forget)).start()


# The cached value is the session's id and nothing else: no upload or result ever sits in a cache
# Streamlit keeps beside other sessions; the state is found by the id when the session is released.
@st.cache_resource(scope="session", on_release=_released, show_spinner=False)
def _lease() -> str:
    """This session's lease, its id (one per connection: Streamlit releases it when the browser disconnects)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return get_script_run_ctx().session_id


def take_lease() -> None:
    """Make sure this session's data is let go once the session has ended (each run; nothing in AppTest)."""
    from streamlit import config

    if config.get_option("global.appTest"):  # AppTest patches this module's get_option, not st.get_option
        return  # test sessions never disconnect (and share one id): a lease would only keep their state alive
    _lease()
