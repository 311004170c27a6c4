"""Intervals.icu as a destination: one WeightTraining activity per workout, its `external_id` the workout id.

Once its id is known an activity is changed by id; before creating, a copy with the same external_id is
looked for and adopted (`writes.py`), so a retry, replay or re-import never duplicates it.
"""

import logging
from datetime import date, datetime

from django.conf import settings

from fitsync.models import ItemStatus, SyncItem
from fitsync.roles import Destination, SyncContext, SyncResult
from fitsync.sync import crash_point

from . import auth
from .bulk import BulkWriter
from .mapping import content_hash
from .writes import delete_extra_copies, remove_workout, save_activity

log = logging.getLogger("fitsync.intervals")

DELETED_HASH = "deleted"  # so a workout that somehow comes back is written again, not taken as unchanged


class Activities(Destination):
    provider = "intervals"

    def target(self, context: SyncContext) -> str:
        """The athlete's timezone: activities carry the workout's local start time."""
        return auth.timezone_of(context.destination, auth.client_for(context.destination))

    def link(self, item: SyncItem) -> str:
        return f"https://intervals.icu/activities/{item.destination_id}" if item.destination_id else ""

    def unchanged(self, item: SyncItem, activity: dict) -> bool:
        return bool(item.destination_id) and not item.force and content_hash(activity) == item.content_hash

    def write(self, context: SyncContext, activity: dict) -> SyncResult:
        item = context.item
        digest = content_hash(activity)
        if self.unchanged(item, activity):
            return SyncResult(action="unchanged", destination_id=item.destination_id, content_hash=digest)
        crash_point("before_write")
        client = auth.client_for(context.destination)
        written = save_activity(client, activity, item.destination_id, look_first=not first_attempt(item))
        return SyncResult(action=written.action, destination_id=written.activity_id, content_hash=digest, sent=activity)

    def delete(self, context: SyncContext) -> SyncResult:
        """Delete the activity fitsync wrote for this workout, and any copy carrying its external_id."""
        item = context.item
        around = start_day_of(item)
        if not item.destination_id and around is None:
            note = "Deleted in Hevy; fitsync never created an activity for it, so nothing was deleted."
            return SyncResult(status=ItemStatus.SKIPPED, action="skipped", note=note)
        crash_point("before_write")
        deleted = remove_workout(auth.client_for(context.destination), item.source_id, item.destination_id, around)
        if not deleted:
            note = "Deleted in Hevy; Intervals.icu holds no activity for it, so nothing was deleted."
            return SyncResult(status=ItemStatus.SKIPPED, action="skipped", note=note)
        sent = {**(item.sent or {}), "deleted": True}
        return SyncResult(action="deleted", destination_id=deleted[0], content_hash=DELETED_HASH, sent=sent)

    @property
    def batch_size(self) -> int:
        return settings.INTERVALS_BULK_BATCH_SIZE

    def bulk_writer(self, account):
        return BulkWriter(auth.client_for(account))

    def discard_copy(self, account, activity_id: str, keep: str) -> None:
        log.warning("Workout copy %s was created while %s already held it: deleting %s", activity_id, keep, activity_id)
        delete_extra_copies(auth.client_for(account), [activity_id], keep=keep)


def first_attempt(item: SyncItem) -> bool:
    """Never written and never tried before (the running attempt is the only one): nothing to look for,
    unless the database was lost, which the look after the write settles."""
    return not (item.destination_id or item.content_hash) and item.attempt_log.count() <= 1


def start_day_of(item: SyncItem) -> date | None:
    """The local start day fitsync last sent (or the UTC one), to look for copies around it."""
    sent_start = (item.sent or {}).get("start_date_local")
    if sent_start:
        return datetime.fromisoformat(sent_start).date()
    return item.occurred_at.date() if item.occurred_at else None


ACTIVITIES = Activities()
