"""Small formatting filters for the dashboard templates."""

import re
from datetime import datetime, timedelta
from decimal import Decimal

from django import template
from django.urls import reverse

from fitsync.dashboard import summary
from fitsync.routes import ROUTES
from fitsync.units import from_kg
from fitsync.zones import clock_time

register = template.Library()
# A snapshot's instants are ISO strings with an offset (UTC); naive ones are already someone's wall clock.
ISO_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")


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


@register.filter
def in_unit(kilograms: Decimal | float | None, unit: str):
    """A weight (or a volume: weight x reps) in kg, in the reader's unit; format it with `amount`."""
    return from_kg(kilograms, unit)


@register.filter
def titled(item, unit: str) -> str:
    """The item's title as lists show it: a title that states a weight, in the reader's unit."""
    return summary.summarize(item, unit).title


@register.filter
def local_instant(value):
    """A field value that is an instant ("2026-03-02T16:07:00+00:00") on the reader's clock, named."""
    if not isinstance(value, str) or not ISO_INSTANT.match(value):
        return value
    return clock_time(datetime.fromisoformat(value), fmt="%Y-%m-%d %H:%M:%S")


@register.simple_tag(takes_context=True)
def item_lists(context) -> list[dict]:
    """The list page of every route the reader has on, for the navigation bar."""
    from fitsync.route_settings import on_for_request

    on = on_for_request(context["request"])
    return [
        {"route": name, "heading": summary.list_heading(route, on), "url": reverse("dashboard:items", args=[name])}
        for name, route in ROUTES.items()
        if name in on
    ]


@register.simple_tag(takes_context=True)
def routes_on_from(context, provider: str) -> str:
    """The labels of the reader's routes from `provider` that are on, for a service page's history import."""
    from fitsync.route_settings import routes_for

    user = context["request"].user
    return ", ".join(route.label for route in routes_for(user.pk, provider)) or "none is on"
