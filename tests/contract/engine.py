"""What the contract suites share: running an item (or a fetch) through the engine, and reading the outcome.

An `Outcome` is the engine's verdict in one vocabulary for every role, whether it was recorded on a
`SyncItem` (the item engine, `fitsync.sync.run_item`) or on a `SyncRun` (a source's fetch job):
done, retrying (with the time it is due again), failed, or waiting for the user to reconnect.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.module_loading import import_string

from fitsync import sync
from fitsync.errors import UpstreamError
from fitsync.models import AccountStatus, ConnectedAccount, ItemStatus, SyncItem, SyncRun


@dataclass
class Env:
    """What an adapter may use of the test: the user, account factory, settings and monkeypatch."""

    user: object
    make_account: object
    settings: object
    monkeypatch: object


@dataclass
class Outcome:
    state: str  # done, retrying, failed or waiting
    attempts: int
    retry_at: datetime | None
    error: UpstreamError | None  # what the engine was handed, when it was handed an error
    message: str = ""
    action: str = ""  # the item's last attempt: created, updated, deleted, skipped, unchanged, retrying...


class ErrorSpy:
    """Records the error a failure handler receives, then lets the real handler run."""

    def __init__(self, monkeypatch, target: str, position: int):
        self.errors: list[UpstreamError] = []
        original = import_string(target)

        def spied(*args, **kwargs):
            self.errors.append(args[position])
            return original(*args, **kwargs)

        monkeypatch.setattr(target, spied)

    def last(self) -> UpstreamError | None:
        return self.errors[-1] if self.errors else None


def run_item(item: SyncItem, spy: ErrorSpy) -> Outcome:
    """Make the item due, run it through the engine, and read what the engine recorded."""
    SyncItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
    spy.errors.clear()
    sync.run_item(item.pk)
    item.refresh_from_db()
    action = item.attempt_log.order_by("pk").last().outcome
    return Outcome(item_state(item), item.attempts, item.next_attempt_at, spy.last(), item.last_error, action)


def item_state(item: SyncItem) -> str:
    if item.status in (ItemStatus.SYNCED, ItemStatus.SKIPPED):
        return "done"
    if item.status == ItemStatus.FAILED:
        return "failed"
    if _needs_reauth(item.account.owner_id) and not item.attempts:
        return "waiting"
    if item.status == ItemStatus.PENDING and (item.attempts or item.last_error):  # a 429 spends no attempt
        return "retrying"
    return item.status


def run_outcome(run: SyncRun, spy: ErrorSpy) -> Outcome:
    run.refresh_from_db()
    if run.finished_at and not run.error:
        state = "done"
    elif run.finished_at:
        state = "waiting" if _needs_reauth(run.owner_id) else "failed"
    else:
        state = "retrying"
    return Outcome(state, run.attempts, run.retry_at, spy.last(), run.error)


def _needs_reauth(owner_id: int) -> bool:
    return ConnectedAccount.objects.filter(owner_id=owner_id, status=AccountStatus.NEEDS_REAUTH).exists()


def copy_item(item: SyncItem) -> SyncItem:
    """The same source record delivered again after fitsync lost its row (a reset database, say)."""
    SyncItem.objects.filter(pk=item.pk).delete()
    return SyncItem.objects.create(
        account=item.account, route=item.route, source_id=item.source_id, snapshot=item.snapshot
    )
