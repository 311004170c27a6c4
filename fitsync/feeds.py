"""Records a source pushes (a fetch after a notification): an item per record on every route from it.

A source whose changes arrive as whole records, not as ids to fetch, hands them here; each route from
that source gets its own item carrying the record as its snapshot, queued for the engine.
"""

from django.db import transaction

from .models import ConnectedAccount, ItemStatus, SyncItem, SyncRun
from .routes import Route, routes_from
from .sync import enqueue

OUTCOMES = ("created", "updated", "unchanged", "skipped", "held")


def take_in(account: ConnectedAccount, records: list, run: SyncRun, *, lift_cap: bool = False) -> dict:
    """Upsert and queue an item per record and route; counts of created, updated, unchanged, skipped, held."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for route in routes_from(account.provider):
        for outcome, number in take_in_route(route, account, records, lift_cap, run.pk).items():
            counts[outcome] += number
    # The outcomes are counted from the items, which carry the run (`fitsync.run_counts`), once they settle.
    run.bump(done=len(records))
    return counts


def take_in_route(route: Route, account: ConnectedAccount, records: list, lift_cap: bool, run_id=None) -> dict:
    counts = dict.fromkeys(OUTCOMES, 0)
    for record in records:
        status, note = decide_status(route, record, counts, lift_cap)
        with transaction.atomic():
            counts[store(route, account, record, status, note, lift_cap, run_id)] += 1
    return counts


def decide_status(route: Route, record, counts: dict, lift_cap: bool) -> tuple[str, str]:
    """(status, note) for a record about to be stored; the destination's per-run safety cap applies here."""
    reason = route.source_role.skip_reason(record)
    if reason:
        return ItemStatus.SKIPPED, reason
    # The rest are held (never dropped) until "Upload held" or a manual run that lifts the cap.
    cap = route.destination_role.max_uploads_per_run
    if cap is not None and not lift_cap and counts["created"] + counts["updated"] >= cap:
        return ItemStatus.HELD, f"Held by the safety cap of {cap} uploads per run."
    return ItemStatus.PENDING, ""


def store(route: Route, account: ConnectedAccount, record, status: str, note: str, lift_cap: bool, run_id=None) -> str:
    """Upsert one item for the run (inside a transaction); returns created, updated, unchanged, skipped or held."""
    described = route.source_role.describe(record)
    existing = SyncItem.objects.filter(account=account, route=route.name, source_id=record.source_id).first()
    was_skipped = existing is not None and existing.status == ItemStatus.SKIPPED
    if existing and existing.snapshot == described.snapshot and (not was_skipped or status == ItemStatus.SKIPPED):
        return "unchanged"  # a re-read record (cursor overlap, a second notification) changes nothing
    fields = {"title": described.title[:200], "occurred_at": described.occurred_at, "snapshot": described.snapshot}
    fields["last_error"], fields["run_id"] = note, run_id
    if status != ItemStatus.PENDING:
        fields["status"] = status  # pending is upsert's default, and it keeps a running item running
    if lift_cap:
        fields["lift_cap"] = True
    item_id, created = SyncItem.objects.upsert(account.pk, route.name, record.source_id, **fields)
    if status != ItemStatus.PENDING:
        return status
    enqueue([item_id])
    return "created" if created else "updated"
