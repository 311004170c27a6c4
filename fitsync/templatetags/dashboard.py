"""Small formatting filters for the dashboard templates."""

from datetime import timedelta
from decimal import Decimal

from django import template
from django.urls import reverse

from fitsync.dashboard import summary
from fitsync.routes import ROUTES

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """A run's duration the way people say it: "850 ms", "42 s", "3 min 5 s", "2 h 4 min"."""
    if value is None:
        return "running"
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    return f"{minutes // 60} h {minutes % 60} min"


@register.filter
def amount(value: Decimal | float | None, places: int = 1) -> str:
    return summary.amount(value, places)


@register.filter
def percent_of(done: int, total: int) -> int:
    return min(100, round(100 * done / total)) if total else 0


@register.filter
def elapsed_since(end, start) -> timedelta | None:
    """end - start, or None while there is no end (shown as "running" by `duration`)."""
    return end - start if end and start else None


@register.filter
def route_label(name: str) -> str:
    """A route's name as people read it (its label); unknown names as they are."""
    return ROUTES[name].label if name in ROUTES else (name or "–")


@register.simple_tag
def item_lists() -> list[dict]:
    """The list page of every route, for the navigation bar."""
    return [
        {"route": name, "heading": summary.list_heading(route), "url": reverse("dashboard:items", args=[name])}
        for name, route in ROUTES.items()
    ]
