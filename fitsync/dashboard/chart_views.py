"""The charts page: weight and body fat with a 7-day trend, and weekly training volume.

A route's source names the charts its items feed (`Source.charts`); each is drawn from the items of
the first route from that source, read from their snapshots.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.shortcuts import render
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from ..errors import provider_label
from ..models import AccountStatus, ConnectedAccount, SyncItem
from ..routes import ROUTES
from ..units import from_kg
from . import charts
from .status import connect_url
from .summary import amount, number, volume_kg

PERIODS = {"90": 90, "180": 180, "365": 365, "730": 730}
DEFAULT_PERIOD = "180"


@dataclass
class Chart:
    name: str
    heading: str
    svg: str
    legend: str
    empty: str  # what the page says when the period holds nothing to draw
    action: str = ""  # and what to do about it: a link to the source's page
    action_url: str = ""


def points_of(user, route: str, days: int):
    """(occurred_at, snapshot) of the route's items in the window, oldest first; bounded by the window."""
    since = timezone.now() - timedelta(days=days)
    items = SyncItem.objects.filter(account__owner=user, route=route, occurred_at__gte=since)
    return (
        items.exclude(operation=SyncItem.Operation.DELETE)
        .order_by("occurred_at")
        .values_list("occurred_at", "snapshot")
    )


def series_of(rows, key: str) -> list:
    """The snapshots' `key` over the reader's local time: the x axis reads as their calendar."""
    found = [(timezone.localtime(when), number((snapshot or {}).get(key))) for when, snapshot in rows]
    return [(when, float(value)) for when, value in found if value is not None]


def weekly_volume(rows, days: int, unit: str = "kg") -> list:
    """Volume per ISO week (Monday start, local time) in `unit`, weeks without training included as zero."""
    today = timezone.localdate()
    first_monday = today - timedelta(days=days) - timedelta(days=(today - timedelta(days=days)).weekday())
    weeks = {first_monday + timedelta(weeks=i): 0.0 for i in range((today - first_monday).days // 7 + 1)}
    for when, snapshot in rows:
        day = timezone.localtime(when).date()
        monday = day - timedelta(days=day.weekday())
        if monday in weeks:
            weeks[monday] += float(from_kg(volume_kg(snapshot or {}), unit))
    return sorted(weeks.items())


def with_trend(name: str, points: list, css: str) -> list[charts.Series]:
    raw = charts.Series(name, points, css, markers=True)
    return [raw, charts.Series("7-day trend", charts.trailing_mean(points), "line trend")]


def weight_chart(rows, days: int, unit: str) -> Chart:
    weights = [(when, from_kg(value, unit)) for when, value in series_of(rows, "weight_kg")]
    svg = charts.line_chart(
        f"Weight over the last {days} days, in {unit}, with a 7-day trend", with_trend("Weight", weights, "line raw")
    )
    legend = mark_safe('<span class="key raw"></span> Weigh-ins <span class="key trend"></span> 7-day trend')
    if weights:
        when, value = weights[-1]
        legend += format_html(" · latest {} {} on {}", amount(value), unit, dateformat.format(when, "j M Y"))
    return Chart("weight", f"Weight ({unit})", svg, legend, "No weigh-ins in this period.")


def body_fat_chart(rows, days: int, unit: str) -> Chart:
    """Body fat is a percentage: the reader's unit of weight does not change it."""
    fats = series_of(rows, "fat_ratio_pct")
    svg = charts.line_chart(
        f"Body fat over the last {days} days, in percent, with a 7-day trend",
        with_trend("Body fat", fats, "line raw fat"),
    )
    legend = mark_safe('<span class="key fat"></span> Body fat % <span class="key trend"></span> 7-day trend')
    return Chart("fat", "Body fat (%)", svg, legend, "No body-fat readings in this period.")


def weekly_volume_chart(rows, days: int, unit: str) -> Chart:
    volume = weekly_volume(rows, days, unit)
    total = sum(v for _, v in volume)
    label = f"Weekly training volume over the last {days} days, in {unit}"
    svg = charts.bar_chart(label, volume, f" {unit}") if total else ""
    legend = format_html("Weight × reps per week, in {} · {} {} in this period", unit, amount(total, 0), unit)
    return Chart("volume", f"Weekly training volume ({unit})", svg, legend, "No workouts with weights in this period.")


# In the order the page shows them; each is drawn from (rows, days, the reader's weight unit).
CHARTS = {"weight": weight_chart, "body_fat": body_fat_chart, "weekly_volume": weekly_volume_chart}


def route_feeding(chart: str) -> str:
    """The first route whose source feeds this chart: a second route from the same source has the same items."""
    return next((name for name, route in ROUTES.items() if chart in route.source_role.charts), "")


def with_advice(chart: Chart, user, route) -> Chart:
    """An empty chart says what fills it: connect the source, or import its history (from its page)."""
    label = provider_label(route.source_provider)
    connected = ConnectedAccount.objects.filter(
        owner=user, provider=route.source_provider, status=AccountStatus.CONNECTED
    ).exists()
    if connected:
        chart.empty += f" Import your history on the {label} page, or pick a longer period."
        chart.action = f"Import history from {label}"
    else:
        chart.empty += f" Connect {label} to draw it."
        chart.action = f"Connect {label}"
    chart.action_url = connect_url(route.source_provider)
    return chart


@require_GET
def chart_page(request):
    period = request.GET.get("days") if request.GET.get("days") in PERIODS else DEFAULT_PERIOD
    days = PERIODS[period]
    drawn = []
    for name, draw in CHARTS.items():
        route = route_feeding(name)
        if route:
            chart = draw(points_of(request.user, route, days), days, request.profile.weight_unit)
            drawn.append(chart if chart.svg else with_advice(chart, request.user, ROUTES[route]))
    return render(request, "fitsync/charts.html", {"periods": PERIODS, "period": period, "charts": drawn})
