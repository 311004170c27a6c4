"""Intervals.icu's wellness records as a destination: each weigh-in updates the record of its local day.

An item stays one weigh-in; its destination id is its day. Writing it computes the day's values from every
live weigh-in of the route on that day (`days.py`, by the route's pick) and brings the day's record to
them (`writes.py`): a replay writes the same values, an unchanged weigh-in writes nothing. Deleting it
computes the day again from the weigh-ins left; with none left, fitsync clears the fields still holding
what it sent. A locked record is left alone and the item skipped with the reason.
"""

import logging

from django.conf import settings

from fitsync.models import ItemStatus, SyncItem
from fitsync.roles import Destination, SentSummary, SyncContext, SyncResult
from fitsync.routes import ROUTES, Route, route_for
from fitsync.sync import crash_point

from .. import auth
from ..client import IntervalsClient
from ..roles import DELETED_HASH
from .bulk import DayBulkWriter
from .days import KnownWeighIns, readings_of_day, sent_for_day
from .fields import CUSTOM, fields_sent_for, wellness_field_codes
from .mapping import Reading, WellnessTarget, day_values
from .options import pick_for
from .sent import day_link, wellness_summary
from .writes import Settled, locked_note, sent_record, settle_day

log = logging.getLogger("fitsync.intervals")


class WellnessDays(Destination):
    provider = "intervals"

    def target(self, context: SyncContext) -> WellnessTarget:
        """The route's pick and the athlete's custom wellness fields (read from Intervals.icu each time)."""
        client = auth.client_for(context.destination)
        return WellnessTarget(pick_for(context), wellness_field_codes(client.custom_items()))

    def link(self, item: SyncItem) -> str:
        """The day in Intervals.icu's calendar, where its wellness entries show."""
        return day_link(item.destination_id)

    def sent_summary(self, item: SyncItem) -> SentSummary:
        return wellness_summary(item.sent or {})

    def fields_written(self, account) -> list[str]:
        sent = fields_sent_for(account)
        lines = [f"{f.label}, in your custom field {f.name}" if f.custom else f.label for f in sent]
        missing = [f.name for f in CUSTOM if f not in sent]
        if missing:
            lines.append(f"More with custom wellness fields of these codes in Intervals.icu: {', '.join(missing)}")
        return lines

    def unchanged(self, item: SyncItem, reading: Reading) -> bool:
        return item.destination_id == reading.day and not item.force and item.content_hash == reading.digest()

    def write(self, context: SyncContext, reading: Reading) -> SyncResult:
        item = context.item
        if self.unchanged(item, reading):
            return SyncResult(action="unchanged", destination_id=reading.day, content_hash=reading.digest())
        crash_point("before_write")
        client, route = auth.client_for(context.destination), route_for(item.route)
        settled, sent = settle(client, route, item, reading.day, reading.target, (reading,))
        if settled.locked:
            return SyncResult(status=ItemStatus.SKIPPED, action="skipped", note=locked_note(reading.day))
        former = item.destination_id
        if former and former != reading.day and not (item.sent or {}).get("deleted"):
            left = settle(client, route, item, former, reading.target)[0]  # the weigh-in moved to another day
            if left.locked:
                log.warning("item %s moved from %s, whose wellness record is locked: left as it was", item.pk, former)
        action = "updated" if former else "created"
        return SyncResult(
            action=action if settled.written else "unchanged",
            destination_id=reading.day,
            content_hash=reading.digest(),
            sent=sent,
        )

    def delete(self, context: SyncContext) -> SyncResult:
        """The weigh-in was deleted at the source: its day is computed again from the weigh-ins left."""
        item, day = context.item, context.item.destination_id
        if not day or (item.sent or {}).get("deleted"):
            note = "Deleted at the source; fitsync had not written it to Intervals.icu, so nothing was changed."
            return SyncResult(status=ItemStatus.SKIPPED, action="skipped", note=note)
        crash_point("before_write")
        client, route = auth.client_for(context.destination), route_for(item.route)
        settled, sent = settle(client, route, item, day, self.target(context))
        if settled.locked:
            return SyncResult(status=ItemStatus.SKIPPED, action="skipped", note=locked_note(day))
        note = "" if settled.written or sent["values"] else nothing_cleared(day)
        return SyncResult(
            action="deleted", destination_id=day, content_hash=DELETED_HASH, sent={**sent, "deleted": True}, note=note
        )

    @property
    def batch_size(self) -> int:
        return settings.INTERVALS_BULK_BATCH_SIZE

    def bulk_writer(self, account):
        """Made in the import's thread: the weigh-ins fitsync already holds are read here, once."""
        return DayBulkWriter(auth.client_for(account), KnownWeighIns.of_owner(routes_to(self), account.owner_id))

    def discard_copy(self, account, day: str, keep: str) -> None:
        """Nothing to discard: a day's record is shared by its weigh-ins, and the item's next sync settles it."""


def settle(
    client: IntervalsClient,
    route: Route,
    item: SyncItem,
    day: str,
    target: WellnessTarget,
    own: tuple[Reading, ...] = (),
) -> tuple[Settled, dict]:
    """Bring `day` at Intervals.icu to the values of its live weigh-ins (`own`: the item's, as it is now)."""
    readings = readings_of_day(route, item, day, target) + [r for r in own if r.day == day]
    values = day_values(readings, target.pick)
    settled = settle_day(client, day, values, sent_for_day(route, item, day))
    return settled, sent_record(day, values, settled.cleared)


def nothing_cleared(day: str) -> str:
    return (
        f"No weigh-in is left on {day}, and Intervals.icu's record for it held nothing fitsync had sent (a value "
        "changed there since is left as it is)."
    )


def routes_to(destination: Destination) -> list[Route]:
    return [route for route in ROUTES.values() if route.destination_role is destination]


WELLNESS_DAYS = WellnessDays()
