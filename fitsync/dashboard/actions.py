"""State changes the user asks for: resync, force resync, skip, upload held weights, sync now.

Each is a conditional UPDATE followed by `sync.enqueue`, which queues at most one job per item however
often it is called, so 20 clicks on a button make one job (R12). Running items are left alone: their
job is in flight and records its own outcome.
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import sync
from ..models import ConnectedAccount, ItemStatus, SyncItem, SyncRun

NOT_RUNNING = ~Q(status=ItemStatus.RUNNING)


def requeue(items, *, force: bool = False, lift_cap: bool = False) -> int:
    """Make the items pending and due now, and queue them. Returns how many jobs were queued."""
    with transaction.atomic():
        ids = list(items.filter(NOT_RUNNING).values_list("pk", flat=True))
        now = timezone.now()
        changes = {"status": ItemStatus.PENDING, "attempts": 0, "next_attempt_at": now, "updated_at": now}
        if force:
            changes["force"] = True  # explicitly replace the destination copy on the next run
        if lift_cap:
            changes["lift_cap"] = True
        SyncItem.objects.filter(pk__in=ids).filter(NOT_RUNNING).update(**changes)
        return sync.enqueue(ids)


def resync_chosen(items) -> int:
    """A resync the user asked for item by item: an explicit choice, so the upload cap does not apply."""
    return requeue(items, lift_cap=True)


def force_resync_chosen(items) -> int:
    return requeue(items, force=True, lift_cap=True)


def skip(items) -> int:
    """Stop trying: the item stays skipped until new source data or a resync arrives."""
    return items.filter(NOT_RUNNING).update(
        status=ItemStatus.SKIPPED, last_error="Skipped from the dashboard.", updated_at=timezone.now()
    )


def upload_held(items) -> int:
    """Held weights go out despite the per-run safety cap."""
    return requeue(items.filter(status=ItemStatus.HELD), lift_cap=True)


def resync_failed(items) -> int:
    return requeue(items.filter(status=ItemStatus.FAILED))


def sync_now(route, account: ConnectedAccount) -> SyncRun:
    """Record a manual run and queue the route's pull task for it (after commit)."""
    from django_q.tasks import async_task

    with transaction.atomic():
        run = sync.start_run(SyncRun.Trigger.MANUAL, account=account, route=route.name)
        transaction.on_commit(
            lambda: async_task(route.sync_now_task, account.pk, run.pk, task_name=f"sync now {route.name} run {run.pk}")
        )
    return run
