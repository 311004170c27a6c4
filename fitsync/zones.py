"""Time zones by IANA name, and times written the way the person reading them sees their clock."""

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.utils import timezone


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA name this system knows, sorted (reading them walks the tz database once)."""
    return tuple(sorted(available_timezones()))


def is_time_zone(name: str) -> bool:
    return bool(name) and name in zone_names()


def zone_or_none(name: str | None) -> ZoneInfo | None:
    return ZoneInfo(name) if name and is_time_zone(name) else None


def clock_time(moment: datetime, zone=None, fmt: str = "%H:%M") -> str:
    """`moment` on the wall clock of `zone` (the active one when None), named: "21:27 CET"."""
    local = timezone.localtime(moment, zone)
    return f"{local.strftime(fmt)} {zone_label(local)}"


def zone_label(local: datetime) -> str:
    """The zone's abbreviation ("CET", "EDT"), or the offset from UTC where the tz database has none."""
    name = local.tzname() or ""
    return name if name[:1].isalpha() else f"UTC{name}"
