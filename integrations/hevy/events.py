"""Edits, deletions and missed webhooks: read /v1/workouts/events from the account's watermark.

The watermark (`ConnectedAccount.cursor`) moves forward only after every page was read and the
items were stored, so a failed poll is simply repeated; it never moves backwards. Every poll reads
again from a few minutes behind it, for events that appear in the feed later than their timestamp
says. Replaying an event is harmless: an item whose snapshot already has the workout's `updated_at`
is left alone, and the job skips unchanged content by hash.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from fitsync import route_settings, sync
from fitsync.feeds import store_deletion
from fitsync.models import ConnectedAccount, ItemStatus, Provider, SyncItem

from .auth import api_key_of
from .client import MAX_PAGE_SIZE, HevyClient, WorkoutEvent
from .mapping import parse_time, snapshot_of

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OVERLAP = timedelta(minutes=5)
LATEST = datetime.max.replace(tzinfo=UTC)  # where a deletion without a time sorts: a deletion is final


@dataclass
class PollSummary:
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.updated} to update, {self.deleted} to delete, {self.unchanged} unchanged"


def poll_account(account: ConnectedAccount, client: HevyClient | None = None, run_id: int | None = None) -> PollSummary:
    """Read every event after the watermark, queue the work (as the run's, when a run polls), then move the
    watermark."""
    client = client or HevyClient(api_key_of(account))
    watermark = parse_time(account.cursor) if account.cursor else EPOCH
    events = read_events(client, hevy_stamp(max(EPOCH, watermark - OVERLAP)))
    summary = PollSummary()
    with transaction.atomic():
        item_ids = [pk for event in latest_per_workout(events) for pk in apply_event(account, event, summary, run_id)]
        sync.enqueue(item_ids)
        newest = max([watermark, *(event.at for event in events if event.at)])
        if newest > watermark:
            account.cursor = hevy_stamp(newest)
            ConnectedAccount.objects.filter(pk=account.pk).update(cursor=account.cursor, updated_at=timezone.now())
    return summary


def hevy_stamp(moment: datetime) -> str:
    """UTC with milliseconds and `Z`, the only form Hevy's own timestamps and examples use."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def read_events(client: HevyClient, since: str) -> list[WorkoutEvent]:
    events, page, page_count = [], 1, 1
    while page <= page_count:
        result = client.events_page(since, page, MAX_PAGE_SIZE)
        events.extend(result.events)
        page_count, page = result.page_count, page + 1
    return events


def latest_per_workout(events: list[WorkoutEvent]) -> list[WorkoutEvent]:
    """One event per workout, the latest one: histories delivered in any order end in the last state."""
    latest: dict[str, WorkoutEvent] = {}
    for event in events:
        known = latest.get(event.workout_id)
        if known is None or _order(event) > _order(known):
            latest[event.workout_id] = event
    return sorted(latest.values(), key=_order)


def _order(event: WorkoutEvent) -> tuple[datetime, bool]:
    return event.at or LATEST, event.kind == "deleted"


def apply_event(account: ConnectedAccount, event: WorkoutEvent, summary: PollSummary, run_id=None) -> list[int]:
    item_ids = []
    for route in route_settings.routes_for(account.owner_id, Provider.HEVY):
        item = SyncItem.objects.filter(account=account, route=route.name, source_id=event.workout_id).first()
        if event.kind == "deleted":
            if item is None:  # never synced, so there is nothing of ours to delete
                continue
            if item.operation == SyncItem.Operation.DELETE and item.status == ItemStatus.SYNCED:
                summary.unchanged += 1
                continue
            summary.deleted += 1
            store_deletion(account, item, run_id)  # the one way every source marks and queues a deletion
        elif _is_already_synced(item, event):
            summary.unchanged += 1
        else:
            summary.updated += 1
            item_ids.append(_upsert(account, route.name, event, run_id))
    return item_ids


def _is_already_synced(item: SyncItem | None, event: WorkoutEvent) -> bool:
    """Synced, or queued, in this very version (the overlap reads the last few events again)."""
    queued_or_done = (ItemStatus.SYNCED, ItemStatus.PENDING, ItemStatus.RUNNING)
    if item is None or item.status not in queued_or_done or item.operation != SyncItem.Operation.UPSERT:
        return False
    return bool(event.workout.updated_at) and item.snapshot.get("updated_at") == event.workout.updated_at.isoformat()


def _upsert(account: ConnectedAccount, route: str, event: WorkoutEvent, run_id=None) -> int:
    """The workout's item, to create or update its copy."""
    fields = {"operation": SyncItem.Operation.UPSERT, "run_id": run_id}
    fields.update(title=event.workout.title[:200], occurred_at=event.workout.start, snapshot=snapshot_of(event.workout))
    return SyncItem.objects.upsert(account.pk, route, event.workout_id, **fields)[0]
