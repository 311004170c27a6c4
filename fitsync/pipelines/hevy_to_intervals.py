"""Hevy workouts -> Intervals.icu activities."""

from fitsync.errors import PermanentError

SCHEDULES: list[tuple[str, str, int]] = []


def sync_workout(context):
    raise PermanentError("The Hevy → Intervals.icu route is not built yet")
