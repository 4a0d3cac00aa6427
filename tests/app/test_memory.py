"""A closed session's data is let go once Streamlit can no longer resume it, and not before."""

from __future__ import annotations

from ui.memory import MARGIN_S, POLL_S, Lease, empty, return_memory, watch


class FakeState(dict):
    """Streamlit's session state as the watcher sees it: keys to delete, filtered_state to list them."""

    @property
    def filtered_state(self) -> dict:
        return dict(self)


class Clock:
    """A clock that moves only when the watcher sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def _session() -> tuple[Lease, FakeState]:
    state = FakeState(source=b"x" * 1000, stages={"decide": object()}, upload=object())
    return Lease("abc123", state), state


def test_a_session_away_for_the_whole_ttl_is_emptied_with_its_uploaded_files():
    lease, state = _session()
    clock, removed = Clock(), []
    assert watch(lease, lambda _: False, ttl_s=60, forget=removed.append, sleep=clock.sleep, clock=clock)
    assert state == {} and removed == ["abc123"]
    assert 60 + MARGIN_S <= clock.now <= 60 + MARGIN_S + POLL_S  # not long after the TTL either


def test_a_session_that_comes_back_keeps_its_data_and_the_count_starts_again():
    lease, state = _session()
    clock, removed = Clock(), []
    # back at 30 s for 10 s, then away for good: emptied a whole TTL after it left the second time
    active = lambda _: 30 <= clock.now < 40  # noqa: E731
    watch(lease, active, ttl_s=60, forget=removed.append, sleep=clock.sleep, clock=clock)
    assert removed == ["abc123"] and state == {}
    assert clock.now >= 40 + 60 + MARGIN_S


def test_emptying_tells_how_many_values_went_and_survives_a_key_gone_meanwhile():
    lease, state = _session()
    assert empty(lease, None) == 3 and state == {}
    assert empty(lease, None) == 0
    return_memory()  # safe to call any time, with or without glibc


def test_emptying_a_real_session_state_lets_go_of_keyless_widgets_and_their_pages_globals():
    import gc
    import weakref

    from streamlit.runtime.state.session_state import SessionState

    class Analysis:
        """Stands for a page's result."""

    def picker() -> tuple[weakref.ref, object]:
        """A format_func as a page writes it: it closes over the page's result."""
        result = Analysis()
        return weakref.ref(result), lambda r: f"Row {r} {result}"

    state = SessionState()
    stages = Analysis()
    state["stages"] = stages
    widget_result, format_func = picker()
    # a keyless widget as Streamlit keeps it: under its element id, out of filtered_state
    widget = "$$ID-0123456789abcdef0123456789abcdef-None"
    state._new_widget_state.set_from_value(widget, format_func)
    state._new_widget_state.widget_metadata[widget] = format_func  # its metadata holds the function too
    held = (widget_result, weakref.ref(stages))
    del stages, format_func
    gc.collect()
    assert widget_result() is not None  # only the widget's state holds it now
    assert empty(Lease("abc123", state), None) == 1
    gc.collect()
    assert [ref() for ref in held] == [None, None]


def test_the_allocator_is_tuned_where_glibc_is_and_left_alone_elsewhere():
    import ctypes.util
    import sys

    from ui.memory import tune_allocator

    glibc = sys.platform.startswith("linux") and ctypes.util.find_library("c") is not None
    assert tune_allocator() is glibc
    assert tune_allocator() is glibc  # every run may call it again
