"""Backfill a Hevy history into Intervals.icu, fast and resumable.

Hevy pages are read in parallel (bounded, paced), every workout is mapped and compared by content
hash with its item, and only new or changed ones are written, oldest first, in batches: known
activities are changed by id, ones already in Intervals.icu (found by external_id) adopted, and only
the rest created through `activities/manual/bulk`. Each batch is recorded as soon as it is back, so
an interrupted run resumes where it stopped, and a batch written but not recorded is found and adopted
next time, not duplicated. Used by `manage.py backfill_hevy` and the dashboard's history import.
"""

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.hevy.auth import api_key_of
from integrations.hevy.client import MAX_PAGE_SIZE, HevyClient
from integrations.hevy.history import fetch_history, with_retries
from integrations.hevy.mapping import snapshot_of
from integrations.intervals import auth as intervals_auth
from integrations.intervals.client import IntervalsClient
from integrations.intervals.mapping import activity_from_workout, content_hash
from integrations.intervals.writes import copies_of, delete_extra_copies, update_existing

from ..errors import AuthExpired, PermanentError, UpstreamError
from ..models import AccountStatus, ConnectedAccount, ItemStatus, Provider, SyncItem, SyncRun
from ..records import Workout
from ..sync import reauth_message

ROUTE = "hevy_intervals"

log = logging.getLogger("fitsync.intervals")
WRITE_CONCURRENCY = 2  # bulk calls in flight; the Intervals.icu pacing caps the rate anyway


class BackfillError(Exception):
    """The backfill cannot start (an account is missing or needs reconnecting)."""


@dataclass
class BackfillOptions:
    since: datetime | None = None
    until: datetime | None = None
    max_pages: int | None = None
    page_size: int = MAX_PAGE_SIZE
    limit: int | None = None  # at most this many uploads (creates + updates), oldest first
    dry_run: bool = False


@dataclass
class PlannedWrite:
    action: str  # create, update or unchanged (a create becomes an update when a copy is adopted)
    workout: Workout
    activity: dict
    digest: str
    known_id: str = ""


@dataclass
class BackfillReport:
    planned: list[PlannedWrite] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    failed: int = 0
    done: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def writes(self) -> list[PlannedWrite]:
        return [p for p in self.planned if p.action != "unchanged"]

    @property
    def unchanged(self) -> int:
        return sum(p.action == "unchanged" for p in self.planned)

    def count(self, action: str) -> int:
        return sum(p.action == action for p in self.planned)


Progress = Callable[[BackfillReport], None]


def backfill(
    hevy_account: ConnectedAccount,
    options: BackfillOptions,
    *,
    progress: Progress | None = None,
    run: SyncRun | None = None,
) -> BackfillReport:
    """Sync every workout not yet synced or changed since; with dry_run, only plan."""
    intervals_account = destination_of(hevy_account)
    intervals = intervals_auth.client_for(intervals_account)
    timezone_name = athlete_timezone(intervals_account, intervals, options.dry_run)
    workouts = read_history(hevy_account, options)
    report = plan(hevy_account, workouts, timezone_name, options.limit)
    if run is not None:
        SyncRun.objects.filter(pk=run.pk).update(total=len(report.writes))
        run.bump(skipped=report.unchanged)
    if not options.dry_run:
        upload_all(hevy_account, intervals_account, intervals, report, progress, run)
    return report


def destination_of(hevy_account: ConnectedAccount) -> ConnectedAccount:
    account = ConnectedAccount.objects.filter(owner_id=hevy_account.owner_id, provider=Provider.INTERVALS).first()
    if account is None:
        raise BackfillError("Connect Intervals.icu first: the backfill writes there.")
    if account.status != AccountStatus.CONNECTED or hevy_account.status != AccountStatus.CONNECTED:
        raise BackfillError("Reconnect your accounts first: one of them needs re-authentication.")
    return account


def read_history(hevy_account: ConnectedAccount, options: BackfillOptions) -> list[Workout]:
    hevy = HevyClient(api_key_of(hevy_account))
    try:
        return fetch_history(
            hevy,
            page_size=options.page_size,
            max_pages=options.max_pages,
            since=options.since,
            until=options.until,
            concurrency=settings.HEVY_BACKFILL_CONCURRENCY,
        )
    except AuthExpired as exc:
        hevy_account.mark_needs_reauth(reauth_message(exc))
        raise BackfillError(reauth_message(exc)) from exc


def athlete_timezone(account: ConnectedAccount, client: IntervalsClient, dry_run: bool) -> str:
    try:
        if dry_run:  # a dry run writes nothing, not even the timezone it read
            return account.meta.get("timezone") or client.athlete().timezone or "UTC"
        return intervals_auth.timezone_of(account, client)
    except AuthExpired as exc:
        account.mark_needs_reauth(reauth_message(exc))
        raise BackfillError(reauth_message(exc)) from exc


def plan(account: ConnectedAccount, workouts: list[Workout], timezone_name: str, limit: int | None) -> BackfillReport:
    """Map every workout and compare with its item: create, update or leave alone."""
    items = known_items(account, [w.source_id for w in workouts])
    report, writes = BackfillReport(), 0
    for workout in workouts:
        activity = activity_from_workout(workout, timezone_name)
        digest = content_hash(activity)
        item = items.get(workout.source_id)
        action = "create" if item is None or not item.destination_id else "update"
        if item is not None and item.destination_id and item.content_hash == digest and not item.force:
            action = "unchanged"
        if action != "unchanged":
            if limit is not None and writes >= limit:
                continue
            writes += 1
        known_id = item.destination_id if item is not None else ""
        report.planned.append(PlannedWrite(action, workout, activity, digest, known_id))
    return report


def known_items(account: ConnectedAccount, source_ids: list[str]) -> dict[str, SyncItem]:
    items: dict[str, SyncItem] = {}
    for start in range(0, len(source_ids), 500):  # SQLite caps the parameters of one query
        chunk = source_ids[start : start + 500]
        for item in SyncItem.objects.filter(account=account, route=ROUTE, source_id__in=chunk):
            items[item.source_id] = item
    return items


def upload_all(hevy_account, intervals_account, client, report: BackfillReport, progress, run) -> None:
    """Upload in batches (a few in flight), recording each batch in the main thread as it returns."""
    size = max(1, settings.INTERVALS_BULK_BATCH_SIZE)
    batches = [report.writes[i : i + size] for i in range(0, len(report.writes), size)]
    pool = ThreadPoolExecutor(max_workers=WRITE_CONCURRENCY)
    try:
        futures = {pool.submit(upload_batch, client, batch): batch for batch in batches}
        for future in as_completed(futures):
            outcome = repair_strays(client, hevy_account, futures[future], future.result())
            record_batch(hevy_account, futures[future], outcome, report, run)
            if progress:
                progress(report)
    except AuthExpired as exc:
        intervals_account.mark_needs_reauth(reauth_message(exc))
        report.errors.append(f"Stopped: {reauth_message(exc)}")
        report.failed += len(report.writes) - report.done
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def upload_batch(client: IntervalsClient, batch: list[PlannedWrite]) -> dict[str, str]:
    """source id -> Intervals activity id, or -> "!" + the reason it failed. Raises AuthExpired."""
    try:
        return with_retries(write_batch, client, batch)
    except PermanentError as exc:
        if len(batch) > 1:  # one bad activity refuses the whole call: find it, keep the rest
            return {k: v for p in batch for k, v in upload_batch(client, [p]).items()}
        return {batch[0].workout.source_id: f"!{exc}"}
    except AuthExpired:
        raise
    except UpstreamError as exc:
        return {p.workout.source_id: f"!{exc}" for p in batch}


def write_batch(client: IntervalsClient, batch: list[PlannedWrite]) -> dict[str, str]:
    """One listing for the batch's days, a PUT per known or found activity, one bulk create for the rest."""
    copies = copies_of(client, [p.activity for p in batch])
    results, fresh = {}, []
    for write in batch:
        kept = update_existing(client, write.activity, write.known_id, copies.get(write.workout.source_id, []))
        if kept:
            write.action, results[write.workout.source_id] = "update", kept
        else:
            fresh.append(write)
    if fresh:
        saved = client.create_activities([p.activity for p in fresh])
        by_external_id = {str(a.get("external_id")): str(a.get("id")) for a in saved if a.get("id")}
        for write in fresh:
            write.action = "create"
            results[write.workout.source_id] = by_external_id.get(write.workout.source_id, "!no activity returned")
    return results


def repair_strays(client: IntervalsClient, account, batch: list[PlannedWrite], outcome: dict[str, str]):
    """A job may have written a workout while this batch created it: its item names another activity.
    That one stays; the copy just created is deleted, and the item keeps its id."""
    planned = {p.workout.source_id: p.known_id for p in batch if p.action == "create"}
    created = {sid: outcome.get(sid, "!") for sid in planned}
    created = {sid: activity_id for sid, activity_id in created.items() if not activity_id.startswith("!")}
    known = (
        SyncItem.objects.filter(account=account, route=ROUTE, source_id__in=list(created))
        .exclude(destination_id="")
        .values_list("source_id", "destination_id")
    )
    for source_id, known_id in known:
        # The id planned with was gone from Intervals.icu (hence the create): only a newer one is a rival.
        if known_id not in (created[source_id], planned[source_id]):
            log.warning(
                "Workout %s was created as %s, but its item already names %s: deleting %s",
                source_id,
                created[source_id],
                known_id,
                created[source_id],
            )
            try:
                delete_extra_copies(client, [created[source_id]], keep=known_id)
            except UpstreamError as exc:
                log.warning("Could not delete the stray copy %s: %s", created[source_id], exc)
                continue
            outcome[source_id] = known_id
    return outcome


def record_batch(account, batch: list[PlannedWrite], outcome: dict[str, str], report: BackfillReport, run) -> None:
    """One short transaction per batch: insert the new items at once, update the known ones."""
    now = timezone.now()
    results = {w.workout.source_id: outcome.get(w.workout.source_id, "!not uploaded") for w in batch}
    fields = {w.workout.source_id: item_fields(w, results[w.workout.source_id], now) for w in batch}
    with transaction.atomic():
        known = set(
            SyncItem.objects.filter(account=account, route=ROUTE, source_id__in=list(fields)).values_list(
                "source_id", flat=True
            )
        )
        # New items (most of a first backfill) in one INSERT; a webhook racing us keeps its own row.
        SyncItem.objects.bulk_create(
            [
                SyncItem(account=account, route=ROUTE, source_id=sid, **values)
                for sid, values in fields.items()
                if sid not in known
            ],
            ignore_conflicts=True,
        )
        for sid in known:
            # A job holding the item's lease records its own outcome (and settles copies after creating).
            SyncItem.objects.filter(account=account, route=ROUTE, source_id=sid).settle_imported(**fields[sid])
    tally(batch, results, report, run)


def tally(batch: list[PlannedWrite], results: dict[str, str], report: BackfillReport, run) -> None:
    counts = {"created": 0, "updated": 0, "failed": 0}
    for write in batch:
        result = results[write.workout.source_id]
        key = "failed" if result.startswith("!") else write.action + "d"
        counts[key] += 1
        if key == "failed":
            report.errors.append(f"{write.workout.title} ({write.workout.start:%Y-%m-%d}): {result[1:]}")
    report.created += counts["created"]
    report.updated += counts["updated"]
    report.failed += counts["failed"]
    report.done += len(batch)
    if run is not None:
        run.bump(**counts, done=len(batch))


def item_fields(write: PlannedWrite, result: str, now) -> dict:
    workout = write.workout
    fields = {
        "title": workout.title[:200],
        "occurred_at": workout.start,
        "snapshot": snapshot_of(workout),
        "operation": SyncItem.Operation.UPSERT,
        "updated_at": now,
    }
    if result.startswith("!"):
        return {**fields, "status": ItemStatus.FAILED, "last_error": result[1:][:500]}
    return {
        **fields,
        "status": ItemStatus.SYNCED,
        "destination_id": result,
        "content_hash": write.digest,
        "sent": write.activity,
        "synced_at": now,
        "last_error": "",
        "force": False,
    }
