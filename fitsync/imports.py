"""History import through a route: a source's records, page by page, into the route's destination.

    for page in source.history(account, since, until):          # oldest first, read ahead in threads
        with destination.bulk_writer:                            # a few batches in flight
            payload = route.map(record, destination.target(...))
            skip it when destination.unchanged(item, payload)    # the same check `write` makes
            write it in batches, recorded as they return
        without one:                                             # as `fitsync.feeds.take_in` stores records
            skip it when its item holds the same snapshot
            store its item, queued for the engine (`sync_step`): skipped when the source says so, held
            beyond the destination's safety cap (unless lifted), tagged with the run

A batch goes out as soon as it fills, while further pages are read; each is recorded as it returns,
so an interrupted import resumes where it stopped (a batch written but not recorded is found and
adopted next time by the destination's own idempotency). An item whose job is running is left to that
job. AuthExpired marks the account and stops the import; every other error is a value (`Failed`), and
the run counts it. A destination without a bulk write need not be connected: the queued items wait for
it, as the engine's do. Used by `manage.py import_history` and the dashboard's history import
(`fitsync/history_runs.py`).
"""

import logging
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .errors import AuthExpired, UpstreamError, provider_label
from .feeds import OUTCOMES, is_uncapped, is_unchanged, take_in_route
from .models import AccountStatus, ConnectedAccount, ItemStatus, SyncItem, SyncRun
from .roles import Described, Failed, PlannedWrite, SyncContext, SyncResult
from .routes import Route
from .sync import reauth_message

log = logging.getLogger("fitsync.imports")
WRITE_CONCURRENCY = 2  # batches in flight; the destination's pacer caps the rate anyway
SQL_CHUNK = 500  # SQLite caps the parameters of one query
SET_ASIDE = (ItemStatus.SKIPPED, ItemStatus.HELD)  # a bulk write's outcomes that wrote nothing


class ImportBlocked(Exception):
    """The import cannot start or go on (an account is missing or needs reconnecting)."""


@dataclass
class ImportOptions:
    since: datetime | None = None
    until: datetime | None = None
    max_pages: int | None = None
    page_size: int | None = None
    limit: int | None = None  # at most this many writes (creates + updates), oldest first
    dry_run: bool = False
    lift_cap: bool = False  # queued items go out beyond the destination's safety cap


@dataclass
class Planned:
    action: str  # create, update or unchanged
    described: Described


@dataclass
class ImportReport:
    planned: list[Planned] = field(default_factory=list)
    total: int = 0  # writes expected: a bound while pages are still coming, exact at the end
    created: int = 0
    updated: int = 0
    failed: int = 0
    held: int = 0  # queued items beyond the destination's safety cap
    skipped: int = 0  # queued items the source says not to sync; in bulk, those the destination set aside
    done: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def writes(self) -> int:
        return len(self.planned) - self.unchanged

    def count(self, action: str) -> int:
        return sum(p.action == action for p in self.planned)


Progress = Callable[[ImportReport], None]


def import_history(
    route: Route,
    account: ConnectedAccount,
    options: ImportOptions,
    *,
    progress: Progress | None = None,
    run: SyncRun | None = None,
) -> ImportReport:
    """Write every record not yet written or changed since; with dry_run, only plan."""
    importer = Importer(route, account, options, progress or (lambda report: None), run)
    importer.run()
    return importer.report


def destination_of(route: Route, account: ConnectedAccount, *, required: bool = True) -> ConnectedAccount | None:
    """The account the route writes to. Not `required` (the import queues items for the engine), a missing
    or disconnected one is None: the items wait for it."""
    label = provider_label(route.destination_provider)
    found = ConnectedAccount.objects.filter(owner_id=account.owner_id, provider=route.destination_provider).first()
    ready = found is not None and found.status == AccountStatus.CONNECTED
    if not required and account.status == AccountStatus.CONNECTED:
        return found if ready else None
    if found is None:
        raise ImportBlocked(f"Connect {label} first: the import writes there.")
    if not ready or account.status != AccountStatus.CONNECTED:
        raise ImportBlocked("Reconnect your accounts first: one of them needs re-authentication.")
    return found


def writes_in_bulk(route: Route) -> bool:
    return route.destination_role.bulk_writer is not None


class Importer:
    def __init__(self, route: Route, account: ConnectedAccount, options: ImportOptions, progress: Progress, run):
        self.route, self.account, self.options, self.progress, self.sync_run = route, account, options, progress, run
        self.source, self.destination = route.source_role, route.destination_role
        self.bulk = writes_in_bulk(route)
        self.destination_account = destination_of(route, account, required=self.bulk)
        self.report = ImportReport()
        self.batch: list[PlannedWrite] = []
        self.write_many = self.destination.bulk_writer(self.destination_account) if self.bulk else None
        # Without a bulk write, the items are stored as `take_in` stores a bulk run's: these are its counts.
        self.queued = dict.fromkeys(OUTCOMES, 0)
        self.uncapped = is_uncapped(route, account, options.lift_cap, bulk=True)
        self.pool = ThreadPoolExecutor(max_workers=WRITE_CONCURRENCY) if self.bulk else None
        self.in_flight: dict[Future, list[PlannedWrite]] = {}
        self.remaining = 0  # records the source may still send

    def run(self) -> None:
        target = self.guarded(lambda: self.destination.target(self.context(None))) if self.bulk else None
        pages = self.history()
        try:
            for page in pages:
                self.plan(page, target)
                if self.limit_reached():
                    break
            self.send()
            self.finish(wait_all=True)
        except AuthExpired as exc:
            self.stop(exc)
        finally:
            getattr(pages, "close", lambda: None)()  # stops the source's readers after a limit or an error
            if self.pool:
                self.pool.shutdown(wait=True, cancel_futures=True)
            self.set_total(exact=True)

    def history(self):
        o = self.options
        return iter(self.source.history(self.account, o.since, o.until, max_pages=o.max_pages, page_size=o.page_size))

    def guarded(self, read):
        """Before anything is written, a rejected key stops the import with an error of its own."""
        try:
            return read()
        except AuthExpired as exc:
            self.account_of(exc).mark_needs_reauth(reauth_message(exc))
            raise ImportBlocked(reauth_message(exc)) from exc

    def context(self, item) -> SyncContext:
        return SyncContext(item, self.account, self.destination_account, self.route.name)

    # --- planning ----------------------------------------------------------------------------
    def plan(self, page, target) -> None:
        items = self.items([record.source_id for record in page.records])
        unchanged = 0
        for record in page.records:
            if self.limit_reached():
                break
            item = items.get(record.source_id)
            described = self.source.describe(record)
            payload = self.route.map(record, target) if self.bulk else None  # queued: the engine maps it
            if item is not None and self.unchanged(item, record, payload, described):
                self.report.planned.append(Planned("unchanged", described))
                unchanged += 1
                continue
            known_id = item.destination_id if item is not None else ""
            self.report.planned.append(Planned("update" if known_id else "create", described))
            self.batch.append(PlannedWrite(record.source_id, record, payload, described, known_id))
            if len(self.batch) >= max(1, self.destination.batch_size):
                self.send()
        self.remaining = page.remaining
        self.set_total()
        if self.sync_run is not None and unchanged:
            self.sync_run.bump(skipped=unchanged)
        self.finish(wait_all=False)

    def unchanged(self, item: SyncItem, record, payload, described: Described) -> bool:
        if self.bulk:
            return self.destination.unchanged(item, payload)
        return is_unchanged(item, described.snapshot, skipping=bool(self.source.skip_reason(record)))

    def items(self, source_ids: list[str]) -> dict[str, SyncItem]:
        found: dict[str, SyncItem] = {}
        mine = SyncItem.objects.filter(account=self.account, route=self.route.name)
        for start in range(0, len(source_ids), SQL_CHUNK):
            for item in mine.filter(source_id__in=source_ids[start : start + SQL_CHUNK]):
                found[item.source_id] = item
        return found

    def limit_reached(self) -> bool:
        return self.options.limit is not None and self.report.writes >= self.options.limit

    def set_total(self, exact: bool = False) -> None:
        remaining = 0 if exact or self.limit_reached() else (self.remaining or 0)
        total = self.report.writes + remaining
        if self.options.limit is not None:
            total = min(total, self.options.limit)
        if total != self.report.total:
            self.report.total = total
            if self.sync_run is not None:
                SyncRun.objects.filter(pk=self.sync_run.pk).update(total=total)

    # --- writing -----------------------------------------------------------------------------
    def send(self) -> None:
        """Write the batch that filled: in bulk (a few batches in flight), or queued for the engine."""
        batch, self.batch = self.batch, []
        if not batch or self.options.dry_run:
            return
        if not self.bulk:
            self.tally_queued(batch, self.queue_for_engine(batch))
            return
        while len(self.in_flight) >= WRITE_CONCURRENCY:
            self.collect(wait(self.in_flight, return_when=FIRST_COMPLETED).done)
        self.in_flight[self.pool.submit(self.write_many, batch)] = batch

    def finish(self, wait_all: bool) -> None:
        """Record the batches that are back (all of them, with wait_all)."""
        if wait_all:
            wait(self.in_flight)
        self.collect([future for future in self.in_flight if future.done()])

    def collect(self, futures) -> None:
        for future in list(futures):
            batch = self.in_flight.pop(future)
            self.record(batch, self.keep_rivals(batch, future.result()))  # AuthExpired is raised here

    def queue_for_engine(self, batch: list[PlannedWrite]) -> dict:
        """Without a bulk write, each record's item is stored and queued as `take_in` does it; the counts
        of created, updated, unchanged, skipped and held items this batch added."""
        before = dict(self.queued)
        run_id = self.sync_run.pk if self.sync_run is not None else None
        records = [write.record for write in batch]
        take_in_route(self.route, self.account, records, self.options.lift_cap, self.uncapped, self.queued, run_id)
        return {outcome: self.queued[outcome] - before[outcome] for outcome in OUTCOMES}

    def tally_queued(self, batch: list[PlannedWrite], counts: dict) -> None:
        """The run counts its queued items' outcomes from the items themselves (`fitsync.run_counts`), as
        for any run that queued items; its own counter says how far the records are stored."""
        for outcome in ("created", "updated", "held", "skipped"):
            setattr(self.report, outcome, getattr(self.report, outcome) + counts[outcome])
        self.report.done += len(batch)
        if self.sync_run is not None:
            self.sync_run.bump(done=len(batch))
        self.progress(self.report)

    def keep_rivals(self, batch: list[PlannedWrite], outcomes: dict) -> dict:
        """A job may have written a record while its batch created it: its item names another copy.
        That one stays; the copy the batch just made is discarded, and the item keeps its id."""
        planned = {write.source_id: write.known_id for write in batch}
        created = {
            sid: o.destination_id for sid, o in outcomes.items() if isinstance(o, SyncResult) and o.action == "created"
        }
        recorded = (
            SyncItem.objects.filter(account=self.account, route=self.route.name, source_id__in=list(created))
            .exclude(destination_id="")
            .values_list("source_id", "destination_id")
        )
        for source_id, known_id in recorded:
            # The id planned with was gone from the destination (hence the create): only a newer one is a rival.
            if known_id in (created[source_id], planned[source_id]):
                continue
            try:
                self.destination.discard_copy(self.destination_account, created[source_id], keep=known_id)
            except UpstreamError as exc:
                log.warning("Could not delete the stray copy %s: %s", created[source_id], exc)
                continue
            outcomes[source_id].destination_id = known_id
        return outcomes

    def record(self, batch: list[PlannedWrite], outcomes: dict) -> None:
        """A batch written in bulk: one short transaction, then the counters and the progress callback."""
        now = timezone.now()
        results = {w.source_id: outcomes.get(w.source_id) or Failed("not written") for w in batch}
        fields = {w.source_id: imported_fields(w, results[w.source_id], now) for w in batch}
        with transaction.atomic():
            SyncItem.objects.record_imported(self.account.pk, self.route.name, fields)
        self.tally(batch, results)

    def tally(self, batch: list[PlannedWrite], results: dict) -> None:
        counts = {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
        for write in batch:
            result = results[write.source_id]
            if isinstance(result, Failed):
                counts["failed"] += 1
                when = f"{write.described.occurred_at:%Y-%m-%d}" if write.described.occurred_at else "?"
                self.report.errors.append(f"{write.described.title} ({when}): {result.message}")
            elif result.status in SET_ASIDE:
                counts["skipped"] += 1
            else:
                counts[result.action if result.action in counts else "updated"] += 1
        self.report.created += counts["created"]
        self.report.updated += counts["updated"]
        self.report.skipped += counts["skipped"]
        self.report.failed += counts["failed"]
        self.report.done += len(batch)
        if self.sync_run is not None:
            self.sync_run.bump(**counts, done=len(batch))
        self.progress(self.report)

    def stop(self, exc: AuthExpired) -> None:
        """A key was rejected mid-way: mark its account. The source's: record what is back and stop with
        an error; the destination's: what was not written counts as failed."""
        account = self.account_of(exc)
        account.mark_needs_reauth(reauth_message(exc))
        if account == self.account:  # what was read is written first, so the next import starts past it
            self.send()
            self.finish(wait_all=True)
            raise ImportBlocked(reauth_message(exc)) from exc
        self.report.errors.append(f"Stopped: {reauth_message(exc)}")
        for future in list(self.in_flight):
            future.cancel()
        self.in_flight.clear()
        self.report.failed += self.report.writes - self.report.done
        self.batch = []

    def account_of(self, exc: UpstreamError) -> ConnectedAccount:
        if exc.provider == self.destination_account.provider:
            return self.destination_account
        return self.account


def fields_of(described: Described) -> dict:
    return {"title": described.title[:200], "occurred_at": described.occurred_at, "snapshot": described.snapshot}


def imported_fields(write: PlannedWrite, result: SyncResult | Failed, now) -> dict:
    fields = {**fields_of(write.described), "operation": SyncItem.Operation.UPSERT, "updated_at": now}
    if isinstance(result, Failed):
        return {**fields, "status": ItemStatus.FAILED, "last_error": result.message[:500]}
    if result.status in SET_ASIDE:  # nothing was written: what the item knew of its copy stays
        return {**fields, "status": result.status, "last_error": result.note[:500]}
    return {
        **fields,
        "status": ItemStatus.SYNCED,
        "destination_id": result.destination_id,
        "content_hash": result.content_hash,
        "sent": result.sent,
        "synced_at": now,
        "last_error": result.note[:500],
        "force": False,
    }
