"""A wellness day's weigh-ins and what fitsync sent for it, read from the route's own items.

Every item keeps its weigh-in as a snapshot, so a day's values are computed from the snapshots of all its
live items (not deleted at the source, not set aside by the source's own rules): two items of one day
syncing at once compute the same values. Each item remembers in `sent` the day's values it wrote; they
tell fitsync's values at Intervals.icu from the athlete's when a day loses its weigh-ins.
"""

import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.db.models import Q

from fitsync.models import SyncItem
from fitsync.records import BodyMeasurement, measurement_from_jsonable
from fitsync.routes import Route

from .mapping import Reading, WellnessTarget, local_day

log = logging.getLogger("fitsync.intervals")
# A local day is a UTC window shifted by the zone's offset, from UTC-12 to UTC+14.
EARLIEST_OFFSET, LATEST_OFFSET = timedelta(hours=14), timedelta(hours=12)

Sent = dict[str, set[str]]  # field -> every value fitsync sent for it on a day


def readings_of_day(route: Route, item: SyncItem, day: str, target: WellnessTarget) -> list[Reading]:
    """The readings of every live weigh-in of the item's route and account on `day`, the item's own excepted
    (the caller knows what it holds now)."""
    near = Q(occurred_at__range=utc_window(day)) | Q(occurred_at__isnull=True)
    siblings = items_of(route, item.account_id).filter(near).exclude(pk=item.pk)
    readings = []
    for measurement in live_measurements(route, siblings):
        if local_day(measurement).isoformat() == day:
            readings.append(route.map(measurement, target))
    return readings


def sent_for_day(route: Route, item: SyncItem, day: str) -> Sent:
    """What fitsync sent for `day`, from every item of the route and account that wrote it."""
    return sent_by_day(items_of(route, item.account_id).filter(destination_id=day)).get(day, {})


def items_of(route: Route, account_id: int):
    return SyncItem.objects.filter(route=route.name, account_id=account_id)


def utc_window(day: str) -> tuple[datetime, datetime]:
    start = datetime.combine(date.fromisoformat(day), time.min, dt_timezone.utc)
    return start - EARLIEST_OFFSET, start + timedelta(days=1) + LATEST_OFFSET


def live_measurements(route: Route, items) -> list[BodyMeasurement]:
    """The weigh-ins the items hold, but for items deleted at the source and those the source sets aside."""
    found = []
    rows = items.exclude(operation=SyncItem.Operation.DELETE).values_list("pk", "snapshot")
    for pk, snapshot in rows.iterator():
        measurement = measurement_of(pk, snapshot)
        if measurement is not None and not route.source_role.skip_reason(measurement):
            found.append(measurement)
    return found


def measurement_of(pk: int, snapshot: dict) -> BodyMeasurement | None:
    if not snapshot:
        return None  # not read from the source yet
    try:
        return measurement_from_jsonable(snapshot)
    except (KeyError, TypeError, ValueError, ArithmeticError):
        log.warning("item %s: its snapshot is not a weigh-in; left out of its day", pk)
        return None


def sent_by_day(items) -> dict[str, Sent]:
    """day -> field -> the values the items' last writes sent for it."""
    days: dict[str, Sent] = {}
    for sent in items.exclude(destination_id="").values_list("sent", flat=True).iterator():
        if not isinstance(sent, dict) or not isinstance(sent.get("values"), dict) or not sent.get("day"):
            continue
        fields = days.setdefault(sent["day"], defaultdict(set))
        for name, value in sent["values"].items():
            fields[name].add(str(value))
    return {day: dict(fields) for day, fields in days.items()}


class KnownWeighIns:
    """The live weigh-ins of a destination's routes for one owner, by local day, and what was sent per
    day: read once when a history import starts, then used from its writer's threads (no database)."""

    def __init__(self, routes: list[Route], by_day: dict[str, list[tuple[Route, BodyMeasurement]]], sent):
        self.routes, self.by_day, self.sent = routes, by_day, sent

    @classmethod
    def of_owner(cls, routes: list[Route], owner_id: int) -> "KnownWeighIns":
        by_day: dict[str, list[tuple[Route, BodyMeasurement]]] = defaultdict(list)
        sent: dict[str, Sent] = {}
        for route in routes:
            items = SyncItem.objects.filter(route=route.name, account__owner_id=owner_id)
            for measurement in live_measurements(route, items):
                by_day[local_day(measurement).isoformat()].append((route, measurement))
            for day, fields in sent_by_day(items).items():
                merged = sent.setdefault(day, {})
                for name, values in fields.items():
                    merged.setdefault(name, set()).update(values)
        return cls(routes, dict(by_day), sent)

    def readings_of(self, day: str, target: WellnessTarget) -> list[Reading]:
        return [route.map(measurement, target) for route, measurement in self.by_day.get(day, [])]

    def skip_reason(self, record) -> str:
        """Why the routes' source sets this record aside, or ""."""
        return next((reason for route in self.routes if (reason := route.source_role.skip_reason(record))), "")

    def remember_sent(self, day: str, values: dict) -> None:
        fields = self.sent.setdefault(day, {})
        for name, value in values.items():
            fields.setdefault(name, set()).add(str(value))
