"""Small static SVG charts for the stakeholder report: no script, nothing fetched, crisp in print.

Charts are drawn from the report's summary tables (a row per segment, strategy or score
decile, at most a few hundred curve points), so their size does not grow with the portfolio.
Every text is escaped: labels can be segment or strategy names a user typed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from core.display import absent

GRID = "#e3e3e3"
INK = "#333333"
MUTED = "#6b6b6b"
WIDTH = 720
LABEL_WIDTH = 220
LINE_HEIGHT = 15
MAX_LABEL_LINES = 3


def _n(value: float) -> str:
    """A coordinate with one decimal at most, to keep the file small."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12, weight: str = "normal",
          fill: str = INK) -> str:
    """One line of escaped text."""
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{fill}">{escape(text)}</text>')


def _lines(text: str, width: int) -> list[str]:
    """A label wrapped to ``width`` characters, at most MAX_LABEL_LINES lines (the last cut with …)."""
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > MAX_LABEL_LINES:
        lines = lines[:MAX_LABEL_LINES]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    """The chart's root element, scaled to the page width, titled for screen readers."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" role="img" '
            f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
            + "".join(body) + "</svg>")


@dataclass(frozen=True)
class Panel:
    """One measure drawn as horizontal bars beside the shared labels."""

    title: str
    values: Sequence[float]
    text: Callable[[float], str]


def bars(title: str, labels: Sequence[str], panels: Sequence[Panel], colours: Sequence[str]) -> str:
    """Horizontal bars, one row per label and one panel per measure, the value written at each bar."""
    wrapped = [_lines(label, 30) for label in labels]
    heights = [max(len(lines) * LINE_HEIGHT + 10, 28) for lines in wrapped]
    top = 52
    panel_width = (WIDTH - LABEL_WIDTH) / len(panels)
    body = [_text(0, 18, title, size=15, weight="bold")]
    for p, panel in enumerate(panels):
        left = LABEL_WIDTH + p * panel_width
        body.append(_text(left, 42, panel.title, size=12, weight="bold", fill=MUTED))
        finite = [v for v in panel.values if not absent(v)]
        largest = max([abs(v) for v in finite] + [1e-12])
        room = panel_width - 92  # space for the value written after the longest bar
        y = top
        for value, height, colour in zip(panel.values, heights, colours):
            if not absent(value):
                length = max(room * max(value, 0) / largest, 0.5)
                body.append(f'<rect x="{_n(left)}" y="{_n(y + height / 2 - 9)}" width="{_n(length)}" '
                            f'height="18" fill="{colour}"/>')
            else:
                length = 0
            body.append(_text(left + length + 5, y + height / 2 + 4, panel.text(value), size=12))
            y += height
    y = top
    for lines, height in zip(wrapped, heights):
        first = y + height / 2 + 4 - (len(lines) - 1) * LINE_HEIGHT / 2
        for i, line in enumerate(lines):
            body.append(_text(LABEL_WIDTH - 10, first + i * LINE_HEIGHT, line, anchor="end"))
        y += height
    return _svg(WIDTH, y + 6, title, body)


@dataclass(frozen=True)
class Line:
    """One series of a unit-square chart."""

    name: str
    x: Sequence[float]
    y: Sequence[float]
    colour: str
    dashed: bool = False
    markers: bool = False


def unit_chart(title: str, lines: Sequence[Line], x_label: str, y_label: str,
               ticks: Callable[[float], str]) -> str:
    """Lines on 0–1 axes (ROC, calibration, gains), with a legend under the plot."""
    left, top, size = 56, 40, 240
    width = left + size + 16
    body = [_text(0, 18, title, size=15, weight="bold")]

    def px(x: float) -> float:
        return left + size * min(max(x, 0.0), 1.0)

    def py(y: float) -> float:
        return top + size * (1 - min(max(y, 0.0), 1.05))

    for tick in (0, 0.25, 0.5, 0.75, 1):
        body.append(f'<line x1="{_n(px(0))}" x2="{_n(px(1))}" y1="{_n(py(tick))}" y2="{_n(py(tick))}" '
                    f'stroke="{GRID}"/>')
        body.append(f'<line x1="{_n(px(tick))}" x2="{_n(px(tick))}" y1="{_n(py(0))}" y2="{_n(py(1))}" '
                    f'stroke="{GRID}"/>')
        body.append(_text(left - 6, py(tick) + 4, ticks(tick), anchor="end", size=11, fill=MUTED))
        body.append(_text(px(tick), top + size + 16, ticks(tick), anchor="middle", size=11, fill=MUTED))
    body.append(_text(left + size / 2, top + size + 34, x_label, anchor="middle", size=12, fill=MUTED))
    body.append(f'<text transform="translate(14 {_n(top + size / 2)}) rotate(-90)" font-size="12" '
                f'text-anchor="middle" fill="{MUTED}">{escape(y_label)}</text>')
    for line in lines:
        points = [(px(x), py(y)) for x, y in zip(line.x, line.y) if not (absent(x) or absent(y))]
        if not points:
            continue
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        path = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{line.colour}" stroke-width="2"{dash}/>')
        if line.markers:
            body += [f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{line.colour}"/>' for x, y in points]
    y = top + size + 56
    for line in lines:
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        body.append(f'<line x1="{left}" x2="{left + 22}" y1="{_n(y - 4)}" y2="{_n(y - 4)}" '
                    f'stroke="{line.colour}" stroke-width="2"{dash}/>')
        body.append(_text(left + 28, y, line.name, size=12))
        y += 17
    return _svg(width, y, title, body)

