"""Edits, deletions and missed webhooks: read /v1/workouts/events from the account's watermark.

The watermark (`ConnectedAccount.cursor`) moves forward only after every page was read and the
items were stored, so a failed poll is simply repeated. Replaying an event is harmless: an item
whose snapshot already has the workout's `updated_at` is left alone, and the job skips unchanged
content by hash.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from fitsync import sync
from fitsync.models import ConnectedAccount, ItemStatus, Provider, SyncItem
from fitsync.pipelines import routes_from

from .auth import api_key_of
from .client import MAX_PAGE_SIZE, HevyClient, WorkoutEvent
from .mapping import snapshot_of

EPOCH = "1970-01-01T00:00:00Z"


@dataclass
class PollSummary:
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.updated} to update, {self.deleted} to delete, {self.unchanged} unchanged"


def poll_account(account: ConnectedAccount, client: HevyClient | None = None) -> PollSummary:
    """Read every event after the watermark, queue the work, then move the watermark."""
    client = client or HevyClient(api_key_of(account))
    since = account.cursor or EPOCH
    events = read_events(client, since)
    summary = PollSummary()
    with transaction.atomic():
        item_ids = [pk for event in latest_per_workout(events) for pk in apply_event(account, event, summary)]
        sync.enqueue(item_ids)
        if events:
            newest = max(event.at for event in events).isoformat()
            ConnectedAccount.objects.filter(pk=account.pk).update(cursor=newest, updated_at=timezone.now())
            account.cursor = newest
    return summary


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
        if known is None or (event.at, event.kind == "deleted") > (known.at, known.kind == "deleted"):
            latest[event.workout_id] = event
    return sorted(latest.values(), key=lambda e: e.at)


def apply_event(account: ConnectedAccount, event: WorkoutEvent, summary: PollSummary) -> list[int]:
    item_ids = []
    for route in routes_from(Provider.HEVY):
        item = SyncItem.objects.filter(account=account, route=route.name, source_id=event.workout_id).first()
        if event.kind == "deleted":
            if item is None:  # never synced, so there is nothing of ours to delete
                continue
            if item.operation == SyncItem.Operation.DELETE and item.status == ItemStatus.SYNCED:
                summary.unchanged += 1
                continue
            summary.deleted += 1
            item_ids.append(_upsert(account, route.name, event, operation=SyncItem.Operation.DELETE))
        elif _is_already_synced(item, event):
            summary.unchanged += 1
        else:
            summary.updated += 1
            item_ids.append(_upsert(account, route.name, event, operation=SyncItem.Operation.UPSERT))
    return item_ids


def _is_already_synced(item: SyncItem | None, event: WorkoutEvent) -> bool:
    if item is None or item.status != ItemStatus.SYNCED or item.operation != SyncItem.Operation.UPSERT:
        return False
    return bool(event.workout.updated_at) and item.snapshot.get("updated_at") == event.workout.updated_at.isoformat()


def _upsert(account: ConnectedAccount, route: str, event: WorkoutEvent, operation: str) -> int:
    fields = {"operation": operation}
    if event.workout is not None:
        fields.update(title=event.workout.title[:200], occurred_at=event.workout.start,
                      snapshot=snapshot_of(event.workout))
    return sync.upsert_item(account.pk, route, event.workout_id, **fields)[0]
