"""Hevy workouts -> Intervals.icu activities: the one job per item, and the periodic jobs it needs.

One workout becomes one WeightTraining activity carrying the Hevy workout id as `external_id`. Once its
id is known it is changed by id; before creating, a copy with the same external_id is looked for and
adopted (`integrations/intervals/writes.py`), so a retry, replay or re-import never duplicates it.
The backfill of a whole history lives in `hevy_to_intervals_backfill.py`.
"""

from datetime import date, datetime

from django.db.models import Q

from integrations.hevy.auth import api_key_of
from integrations.hevy.client import HevyClient
from integrations.hevy.mapping import snapshot_of
from integrations.intervals import auth as intervals_auth
from integrations.intervals.mapping import activity_from_workout, content_hash
from integrations.intervals.writes import remove_workout, save_activity

from ..errors import NotFound
from ..models import ItemStatus, SyncItem
from ..records import Workout
from ..sync import SyncContext, SyncResult, crash_point

ROUTE = "hevy_intervals"
DELETED_HASH = "deleted"  # so a workout that somehow comes back is written again, not taken as unchanged


def sync_workout(context: SyncContext) -> SyncResult:
    """Fetch the workout from Hevy, map it, and upsert the activity unless its content is unchanged."""
    item = context.item
    if item.operation == SyncItem.Operation.DELETE:
        return delete_activity(context)
    try:
        workout = HevyClient(api_key_of(context.source)).workout(item.source_id)
    except NotFound:
        if item.destination_id and item.content_hash != DELETED_HASH:
            # Deleted in Hevy after we synced it: a late "saved" webhook can replace the queued delete,
            # and the events feed will not say "deleted" again, so the job converges on Hevy's state itself.
            return delete_activity(context)
        note = "Hevy has no workout with this id (deleted since, or a test delivery)."
        return SyncResult(status=ItemStatus.SKIPPED, action="skipped", note=note)
    remember(item, workout)
    intervals = intervals_auth.client_for(context.destination)
    activity = activity_from_workout(workout, intervals_auth.timezone_of(context.destination, intervals))
    digest = content_hash(activity)
    if digest == item.content_hash and item.destination_id and not item.force:
        return SyncResult(action="unchanged", destination_id=item.destination_id, content_hash=digest)
    crash_point("before_write")
    written = save_activity(intervals, activity, item.destination_id, look_first=not first_attempt(item))
    return SyncResult(action=written.action, destination_id=written.activity_id, content_hash=digest, sent=activity)


def first_attempt(item: SyncItem) -> bool:
    """Never written and never tried before (the running attempt is the only one): nothing to look for,
    unless the database was lost, which the look after the write settles."""
    return not (item.destination_id or item.content_hash) and item.attempt_log.count() <= 1


def delete_activity(context: SyncContext) -> SyncResult:
    """Delete the activity fitsync wrote for this workout, and any copy carrying its external_id."""
    item = context.item
    around = start_day_of(item)
    if not item.destination_id and around is None:
        note = "Deleted in Hevy; fitsync never created an activity for it, so nothing was deleted."
        return SyncResult(status=ItemStatus.SKIPPED, action="skipped", note=note)
    crash_point("before_write")
    client = intervals_auth.client_for(context.destination)
    deleted = remove_workout(client, item.source_id, item.destination_id, around)
    if not deleted:
        note = "Deleted in Hevy; Intervals.icu holds no activity for it, so nothing was deleted."
        return SyncResult(status=ItemStatus.SKIPPED, action="skipped", note=note)
    return SyncResult(action="deleted", destination_id=deleted[0], content_hash=DELETED_HASH)


def start_day_of(item: SyncItem) -> date | None:
    """The local start day fitsync last sent (or the UTC one), to look for copies around it."""
    sent_start = (item.sent or {}).get("start_date_local")
    if sent_start:
        return datetime.fromisoformat(sent_start).date()
    return item.occurred_at.date() if item.occurred_at else None


def remember(item: SyncItem, workout: Workout) -> None:
    """Title, start and snapshot for the dashboard, written by the lease owner before the upload."""
    fields = {"title": workout.title[:200], "occurred_at": workout.start, "snapshot": snapshot_of(workout)}
    SyncItem.objects.filter(Q(pk=item.pk) & Q(lease_owner=item.lease_owner)).update(**fields)
    for name, value in fields.items():
        setattr(item, name, value)
