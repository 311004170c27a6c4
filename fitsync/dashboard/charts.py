"""Server-rendered SVG charts: a line chart (with a trend line) and a bar chart. No JavaScript.

Pure functions from numbers to markup; every text value is escaped. Coordinates are in a fixed
viewBox and the SVG scales to the page width, so the same chart reads on a phone and a desktop.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from xml.sax.saxutils import escape

from django.utils.safestring import mark_safe

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 12, 30
TICKS = 4
FEW_POINTS = 40  # up to this many, each point gets a marker: a line alone hides how sparse they are


@dataclass
class Series:
    name: str
    points: list[tuple[datetime, float]]
    css: str  # class name: colour and dash come from app.css
    markers: bool = False  # mark each point when there are few (a single point draws no line at all)


def trailing_mean(points: list[tuple[datetime, float]], days: int = 7) -> list[tuple[datetime, float]]:
    """For each point, the mean of the points in the `days` before it (inclusive): a 7-day trend."""
    result, window, start = [], [], 0
    for when, value in points:
        window.append((when, value))
        while window[start][0] <= when - timedelta(days=days):
            start += 1
        values = [v for _, v in window[start:]]
        result.append((when, sum(values) / len(values)))
    return result


def _scale(low: float, high: float, size: int, offset: int, invert: bool = False):
    span = (high - low) or 1.0

    def to_pixels(value: float) -> float:
        ratio = (value - low) / span
        return round(offset + (size * (1 - ratio) if invert else size * ratio), 1)

    return to_pixels


def _bounds(values: list[float], pad_ratio: float = 0.05) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = (high - low) * pad_ratio or max(abs(high) * 0.02, 0.5)
    return low - pad, high + pad


def _svg(label: str, body: list[str]) -> str:
    aria_label = escape(label, {chr(34): "&quot;"})
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{aria_label}" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>'
    )


def tick_text(value: float, span: float) -> str:
    """Short tick labels that stay readable when a phone shrinks the chart: 80.5, 250, 9.3k, 37k."""
    if abs(value) >= 1000:
        return f"{value / 1000:,.0f}k" if abs(value) >= 10_000 else f"{value / 1000:.1f}k"
    return f"{value:,.0f}" if span > 50 else f"{value:.1f}"


def _y_axis(low: float, high: float, y) -> list[str]:
    parts = []
    for i in range(TICKS + 1):
        value = low + (high - low) * i / TICKS
        py = y(value)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py}" y2="{py}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{py + 4}" text-anchor="end">{tick_text(value, high - low)}</text>'
        )
    return parts


def _x_labels(first: date, last: date, x) -> list[str]:
    """First, middle and last day; the outer ones anchored inwards so they are never cut off."""
    parts = []
    for day, anchor in ((first, "start"), (first + (last - first) / 2, "middle"), (last, "end")):
        parts.append(
            f'<text class="tick" x="{x(day.toordinal())}" y="{HEIGHT - 8}" text-anchor="{anchor}">{day:%d %b %y}</text>'
        )
    return parts


def line_chart(label: str, series: list[Series]) -> str:
    """Lines over time; empty series are left out and an empty chart says so."""
    series = [s for s in series if s.points]
    if not series:
        return ""
    xs = [_ordinal(when) for s in series for when, _ in s.points]
    low, high = _bounds([v for s in series for _, v in s.points])
    x = _scale(min(xs), max(xs), WIDTH - LEFT - RIGHT, LEFT)
    y = _scale(low, high, HEIGHT - TOP - BOTTOM, TOP, invert=True)
    first, last = date.fromordinal(int(min(xs))), date.fromordinal(int(max(xs)))
    body = _y_axis(low, high, y) + _x_labels(first, last, x)
    for s in series:
        coords = " ".join(f"{x(_ordinal(when))},{y(value)}" for when, value in s.points)
        body.append(f'<polyline class="{escape(s.css)}" points="{coords}"><title>{escape(s.name)}</title></polyline>')
        if s.markers and len(s.points) <= FEW_POINTS:
            body += _markers(s, x, y)
    return _svg(label, body)


def _markers(series: Series, x, y) -> list[str]:
    return [
        f'<circle class="point {escape(series.css)}" cx="{x(_ordinal(when))}" cy="{y(value)}" r="3.5">'
        f"<title>{escape(series.name)}: {value:.1f} on {when:%d %b %Y}</title></circle>"
        for when, value in series.points
    ]


def _ordinal(when) -> float:
    """Days as a float so several weigh-ins on one day do not stack on one x."""
    if isinstance(when, datetime):
        return when.toordinal() + (when.hour * 3600 + when.minute * 60 + when.second) / 86400
    return when.toordinal()


def bar_chart(label: str, bars: list[tuple[date, float]], unit: str = "") -> str:
    """One bar per period (a week), starting at zero."""
    if not bars:
        return ""
    high = max(v for _, v in bars) * 1.05 or 1.0
    y = _scale(0.0, high, HEIGHT - TOP - BOTTOM, TOP, invert=True)
    slot = (WIDTH - LEFT - RIGHT) / len(bars)
    body = _y_axis(0.0, high, y)
    for i, (start, value) in enumerate(bars):
        bx, by = round(LEFT + i * slot + slot * 0.1, 1), y(value)
        body.append(
            f'<rect class="bar" x="{bx}" y="{by}" width="{round(slot * 0.8, 1)}" '
            f'height="{round(HEIGHT - BOTTOM - by, 1)}"><title>Week of {start:%d %b %Y}: '
            f"{value:,.0f}{escape(unit)}</title></rect>"
        )
    first, last = bars[0][0], bars[-1][0]
    body.append(f'<text class="tick" x="{LEFT}" y="{HEIGHT - 8}" text-anchor="start">{first:%d %b %y}</text>')
    body.append(f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">{last:%d %b %y}</text>')
    return _svg(label, body)
