"""Load the chart library once per server process, beside the first analysis rather than inside a page."""

from __future__ import annotations

import threading

_started = threading.Event()  # once per process: a flag, it holds no data


def _draw_nothing() -> None:
    """Import plotly and build one empty figure with the house template (its first build costs 0.3 CPU-s)."""
    import plotly.graph_objects as go

    from core.charts import explore

    explore.layout(go.Figure(), "")


def start() -> None:
    """Warm the charts in a daemon thread the first time any session runs (later calls do nothing)."""
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=_draw_nothing, name="warm-charts", daemon=True).start()
