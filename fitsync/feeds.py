"""Records a source pushes (a fetch after a notification): an item per record on every route from it.

A source whose changes arrive as whole records, not as ids to fetch, hands them here; each route from
that source gets its own item carrying the record as its snapshot, queued for the engine.

The destination's safety cap (`Destination.max_uploads_per_run`) guards against a flood of uploads, so it
applies to bulk runs only: a run over a window or a history (an import, "Sync last N days", the first
fetch of a new account), not the few records a notification announces. It counts only what will really be
uploaded now: while the destination is not connected or the route is paused, the items wait (pending, not
held) and go out once that changes, so weigh-ins fetched before the destination was connected leave no gap.

Records the source no longer has come back through `take_out`: their items become deletions, queued for each
route's `delete`, under the same cap. A source answering an empty window by mistake then holds most of the
deletions instead of wiping the destination, and a record that comes back revives its item (`store`).
"""

from django.db import transaction

from . import route_settings
from .models import ConnectedAccount, ItemStatus, SyncItem, SyncRun
from .routes import Route, route_for
from .sync import can_write_now, enqueue

OUTCOMES = ("created", "updated", "deleted", "unchanged", "skipped", "held")
PROGRESS_CHUNK = 50  # records stored between two updates of the run's progress


def take_in(
    account: ConnectedAccount, records: list, run: SyncRun, *, lift_cap: bool = False, bulk: bool = True
) -> dict:
    """Upsert and queue an item per record and route; counts of created, updated, unchanged, skipped, held.

    `bulk` is False for the records a notification announced: the safety cap is for bulk runs only. Every
    item is tagged with the run; the run's progress (`done`) moves a chunk at a time, so a long history
    shows how far it got."""
    on = route_settings.routes_for(account.owner_id, account.provider)
    routes = [(route, is_uncapped(route, account, lift_cap, bulk)) for route in on]
    per_route = {route.name: dict.fromkeys(OUTCOMES, 0) for route, _ in routes}
    for start in range(0, len(records), PROGRESS_CHUNK):
        chunk = records[start : start + PROGRESS_CHUNK]
        for route, uncapped in routes:
            take_in_route(route, account, chunk, lift_cap, uncapped, per_route[route.name], run.pk)
        # The outcomes are counted from the items, which carry the run (`fitsync.run_counts`), once they
        # settle; the run's own counter says how far the records are stored.
        run.bump(done=len(chunk))
    return _sum(per_route)


def is_uncapped(route: Route, account: ConnectedAccount, lift_cap: bool, bulk: bool) -> bool:
    return lift_cap or not bulk or not can_write_now(route, account.owner_id)


def _sum(per_route: dict) -> dict:
    return {outcome: sum(counts[outcome] for counts in per_route.values()) for outcome in OUTCOMES}


def take_in_route(
    route: Route, account: ConnectedAccount, records: list, lift_cap: bool, uncapped: bool, counts: dict, run_id=None
) -> dict:
    """Store the records on one route, adding to `counts` (this run's so far: the cap reads them). The
    history import (`fitsync/imports.py`) stores its batches here too when the destination has no bulk write."""
    for record in records:
        status, note = decide_status(route, record, counts, uncapped)
        with transaction.atomic():
            counts[store(route, account, record, status, note, lift_cap, run_id)] += 1
    return counts


def decide_status(route: Route, record, counts: dict, uncapped: bool) -> tuple[str, str]:
    """(status, note) for a record about to be stored; the destination's per-run safety cap applies here,
    unless the run is `uncapped` (a notification, the cap lifted, or items that wait for the destination)."""
    reason = route.source_role.skip_reason(record)
    if reason:
        return ItemStatus.SKIPPED, reason
    # The rest are held (never dropped) until "Upload held" or a manual run that lifts the cap.
    if is_over_cap(route, counts, uncapped):
        cap = route.destination_role.max_uploads_per_run
        return ItemStatus.HELD, f"Held by the safety cap of {cap} uploads per run."
    return ItemStatus.PENDING, ""


def is_over_cap(route: Route, counts: dict, uncapped: bool) -> bool:
    """True once this run changed as many copies at the destination as its cap allows (`take_in` counts the
    uploads, `take_out` the deletions: each is capped on its own)."""
    cap = route.destination_role.max_uploads_per_run
    return cap is not None and not uncapped and counts["created"] + counts["updated"] + counts["deleted"] >= cap


def store(route: Route, account: ConnectedAccount, record, status: str, note: str, lift_cap: bool, run_id=None) -> str:
    """Upsert one item for the run (inside a transaction); returns created, updated, unchanged, skipped or held."""
    described = route.source_role.describe(record)
    existing = SyncItem.objects.filter(account=account, route=route.name, source_id=record.source_id).first()
    if is_unchanged(existing, described.snapshot, skipping=status == ItemStatus.SKIPPED):
        return "unchanged"
    fields = {"title": described.title[:200], "occurred_at": described.occurred_at, "snapshot": described.snapshot}
    fields["last_error"], fields["run_id"], fields["operation"] = note, run_id, SyncItem.Operation.UPSERT
    revived = existing is not None and existing.operation == SyncItem.Operation.DELETE
    if status != ItemStatus.PENDING or revived:
        # Pending is upsert's default, and it keeps a running item running; a revived item leaves the hold
        # its deletion was under: the record is back, so its copy is written (again) or left as it is.
        fields["status"] = status
    if lift_cap:
        fields["lift_cap"] = True
    item_id, created = SyncItem.objects.upsert(account.pk, route.name, record.source_id, **fields)
    if status != ItemStatus.PENDING:
        return status
    enqueue([item_id])
    return "created" if created else "updated"


def is_unchanged(existing: SyncItem | None, snapshot: dict, *, skipping: bool) -> bool:
    """A re-read record (cursor overlap, a second notification, a history imported again) changes nothing:
    its item holds the same snapshot, unless the item was skipped and the record is no longer to skip."""
    if existing is None or existing.snapshot != snapshot or existing.operation == SyncItem.Operation.DELETE:
        return False
    return existing.status != ItemStatus.SKIPPED or skipping


def take_out(account: ConnectedAccount, items: list[SyncItem], run: SyncRun, *, lift_cap=False, bulk=True) -> dict:
    """Turn the items of records the source no longer has into deletions, queued for each route's `delete`;
    beyond the destination's cap a bulk run holds them (with the reason), as it holds uploads. Returns the
    counts of deleted (queued) and held."""
    counts: dict[str, dict] = {}
    for item in sorted(items, key=lambda i: (i.occurred_at is None, i.occurred_at, i.pk)):
        route = route_for(item.route)
        if route.name not in counts:
            counts[route.name] = dict.fromkeys(OUTCOMES, 0) | {"uncapped": is_uncapped(route, account, lift_cap, bulk)}
        route_counts = counts[route.name]
        held = is_over_cap(route, route_counts, route_counts["uncapped"])
        with transaction.atomic():
            route_counts["held" if held else "deleted"] += 1
            store_deletion(account, item, run.pk, held=held)
    return {outcome: sum(c[outcome] for c in counts.values()) for outcome in ("deleted", "held")}


def store_deletion(account: ConnectedAccount, item: SyncItem, run_id=None, *, held: bool = False) -> None:
    """Mark one item a deletion for the run (inside a transaction), queued, or held by the cap."""
    status, note = ItemStatus.PENDING, ""
    if held:
        cap = route_for(item.route).destination_role.max_uploads_per_run
        note = f"Deletion held by the safety cap of {cap} per run: the source no longer has this record. "
        status, note = ItemStatus.HELD, note + "Upload held (or Resync) deletes the copy."
    fields = {"operation": SyncItem.Operation.DELETE, "status": status, "last_error": note, "run_id": run_id}
    item_id, _ = SyncItem.objects.upsert(account.pk, item.route, item.source_id, **fields)
    if not held:
        enqueue([item_id])
