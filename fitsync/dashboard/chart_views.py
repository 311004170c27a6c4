"""The charts page: weight and body fat with a 7-day trend, and weekly training volume."""

from datetime import timedelta

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..models import SyncItem
from ..profiles import from_kg
from . import charts
from .summary import WEIGHTS, WORKOUTS, number, workout_volume_kg

PERIODS = {"90": 90, "180": 180, "365": 365, "730": 730}
DEFAULT_PERIOD = "180"


def points_of(user, route: str, days: int):
    """(occurred_at, snapshot) of the route's items in the window, oldest first; bounded by the window."""
    since = timezone.now() - timedelta(days=days)
    items = SyncItem.objects.filter(account__owner=user, route=route, occurred_at__gte=since)
    return (
        items.exclude(operation=SyncItem.Operation.DELETE)
        .order_by("occurred_at")
        .values_list("occurred_at", "snapshot")
    )


def body_series(rows, unit: str = "kg") -> tuple[list, list]:
    """Weights (in `unit`) and body fat over local time: the x axis reads as the user's calendar."""
    weights, fats = [], []
    for when, snapshot in rows:
        when = timezone.localtime(when)
        weight, fat = number((snapshot or {}).get("weight_kg")), number((snapshot or {}).get("fat_ratio_pct"))
        if weight is not None:
            weights.append((when, float(from_kg(weight, unit))))
        if fat is not None:
            fats.append((when, float(fat)))
    return weights, fats


def weekly_volume(rows, days: int, unit: str = "kg") -> list:
    """Volume per ISO week (Monday start, local time), weeks without training included as zero."""
    today = timezone.localdate()
    first_monday = today - timedelta(days=days) - timedelta(days=(today - timedelta(days=days)).weekday())
    weeks = {first_monday + timedelta(weeks=i): 0.0 for i in range((today - first_monday).days // 7 + 1)}
    for when, snapshot in rows:
        day = timezone.localtime(when).date()
        monday = day - timedelta(days=day.weekday())
        if monday in weeks:
            weeks[monday] += float(from_kg(workout_volume_kg(snapshot or {}), unit))
    return sorted(weeks.items())


@require_GET
def chart_page(request):
    period = request.GET.get("days") if request.GET.get("days") in PERIODS else DEFAULT_PERIOD
    days = PERIODS[period]
    unit = request.profile.weight_unit
    weights, fats = body_series(points_of(request.user, WEIGHTS, days), unit)
    weight_lines = [
        charts.Series("Weight", weights, "line raw"),
        charts.Series("7-day trend", charts.trailing_mean(weights), "line trend"),
    ]
    fat_lines = [
        charts.Series("Body fat", fats, "line raw fat"),
        charts.Series("7-day trend", charts.trailing_mean(fats), "line trend"),
    ]
    volume = weekly_volume(points_of(request.user, WORKOUTS, days), days, unit)
    context = {
        "periods": PERIODS,
        "period": period,
        "weight_svg": charts.line_chart(
            f"Weight over the last {days} days, in {unit}, with a 7-day trend", weight_lines
        ),
        "fat_svg": charts.line_chart(f"Body fat over the last {days} days, in percent, with a 7-day trend", fat_lines),
        "volume_svg": charts.bar_chart(
            f"Weekly training volume over the last {days} days, in {unit}", volume, f" {unit}"
        ),
        "latest_weight": weights[-1] if weights else None,
        "volume_total": sum(v for _, v in volume),
        "has_volume": any(v for _, v in volume),
    }
    return render(request, "fitsync/charts.html", context)
