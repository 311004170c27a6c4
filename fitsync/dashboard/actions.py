"""State changes the user asks for: resync, force resync, skip, upload held items, sync now.

Each is a conditional UPDATE followed by `sync.enqueue`, which queues at most one job per item however
often it is called, so 20 clicks on a button make one job. Running items are left alone: their
job is in flight and records its own outcome. Manual runs (sync now, a window of a source's data, a
history import) go through `start_once`: one unfinished run per trigger, route and account.
"""

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import jobs, sync
from ..models import ConnectedAccount, ItemStatus, SyncRun
from ..zones import clock_time

# Skipping means something only for an item still on its way: a synced or skipped one has nothing to stop.
SKIPPABLE = (ItemStatus.PENDING, ItemStatus.FAILED, ItemStatus.HELD)


def requeue(items, *, force: bool = False, lift_cap: bool = False) -> int:
    """Make the items pending and due now, and queue them. Returns how many jobs were queued."""
    with transaction.atomic():
        return sync.enqueue(items.requeue(force=force, lift_cap=lift_cap))


def resync_chosen(items) -> int:
    """A resync the user asked for item by item: an explicit choice, so the upload cap does not apply."""
    return requeue(items, lift_cap=True)


def force_resync_chosen(items) -> int:
    return requeue(items, force=True, lift_cap=True)


def skip(items) -> int:
    """Stop trying: the item stays skipped until new source data or a resync arrives. Only items still on
    their way (pending, failed, held) can be skipped: a synced one has nothing left to stop."""
    return items.filter(status__in=SKIPPABLE).skip("Skipped from the dashboard.")


def upload_held(items) -> int:
    """Held weights go out despite the per-run safety cap."""
    return requeue(items.filter(status=ItemStatus.HELD), lift_cap=True)


def resync_failed(items) -> int:
    return requeue(items.filter(status=ItemStatus.FAILED))


def sync_now(route, account: ConnectedAccount) -> tuple[SyncRun, bool]:
    """Record a manual run and queue the route's pull task for it (after commit); see `start_once`. The
    task pulls the source for every route from it, so the run is the source's (`SyncRun.EVERY_ROUTE`):
    Sync now on another route from the same source is the same run."""

    def queue(run: SyncRun) -> None:
        jobs.send(route.sync_now_task, account.pk, run.pk, name=f"sync now {route.name} run {run.pk}")

    return start_once(SyncRun.Trigger.MANUAL, account, SyncRun.EVERY_ROUTE, queue)


def start_once(trigger: str, account: ConnectedAccount, route: str, queue: Callable[[SyncRun], object], **fields):
    """(run, True): a new run (with `fields`), its job queued by `queue(run)` after commit. (run, False):
    the same run (trigger, route, account) is still unfinished, so nothing was queued: each of these jobs
    spends an upstream budget shared by every user, and repeated clicks must not multiply them."""
    with transaction.atomic():
        # Lock the account row so simultaneous clicks take turns (SQLite's IMMEDIATE transaction does the same).
        list(ConnectedAccount.objects.select_for_update().filter(pk=account.pk).values_list("pk"))
        running = unfinished_run(trigger, account, route)
        if running is not None:
            return running, False
        run = sync.start_run(trigger, account=account, route=route, **fields)
        transaction.on_commit(lambda: queue(run))
    return run, True


def unfinished_run(trigger: str, account: ConnectedAccount, route: str) -> SyncRun | None:
    """The newest unfinished run of this kind. One older than the job timeout was abandoned (the worker
    died or the task was lost): its job can no longer be running, so it blocks nothing."""
    alive_since = timezone.now() - timedelta(seconds=settings.Q_CLUSTER["timeout"])
    runs = SyncRun.objects.filter(trigger=trigger, account=account, route=route, finished_at__isnull=True)
    return runs.filter(started_at__gte=alive_since).order_by("-started_at").first()


def already_running(what: str, run: SyncRun) -> str:
    """What the page says when a second click found the first run still going."""
    started = clock_time(run.started_at)
    return f"{what} is already running (run #{run.pk}, started {started}); wait for it to finish."
