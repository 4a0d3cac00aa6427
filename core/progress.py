"""How the engine reports progress: a callback the app turns into a status bar and the CLI into a line."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, float], None]


def no_progress(step: str, done: float) -> None:
    """Progress callback that reports nothing."""
