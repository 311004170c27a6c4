"""Withings measurements -> Garmin Connect weigh-ins."""

from fitsync.errors import PermanentError

SCHEDULES: list[tuple[str, str, int]] = []


def sync_measurement(context):
    raise PermanentError("The Withings → Garmin Connect route is not built yet")
