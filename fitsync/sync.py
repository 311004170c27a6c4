"""The sync engine: claim -> (route: fetch, map, push) -> record. It names no service.

Every job is safe to run twice: an item is claimed with a conditional UPDATE (a lease), upstream
calls happen outside any transaction, and the outcome is written in one short UPDATE that only
the lease owner can make. Routes write to destinations idempotently (upserts, content hashes).
"""

import functools
import logging
import os
import random
import signal
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from . import jobs, route_settings
from .errors import AuthExpired, NotFound, RateLimited, UpstreamError, provider_label
from .item_states import ACTIVE, due
from .models import AccountStatus, ConnectedAccount, ItemStatus, SyncAttempt, SyncItem, SyncRun
from .roles import Described, NotYet, SyncContext, SyncResult
from .routes import ROUTES, Route, route_for
from .tokens import lease_owner

log = logging.getLogger("fitsync.sync")


class WaitingForAccount(Exception):
    """The destination account is missing or needs re-authentication, or the route is paused or off: wait,
    burn no attempt."""


PAUSED = "The route is paused; this item waits until it is resumed."
TURNED_OFF = "The route is turned off; this item waits until it is turned on again."


def crash_point(name: str) -> None:
    """Test hook: SIGKILL this process at a named point when FITSYNC_CRASH_POINT says so."""
    if settings.FITSYNC_CRASH_POINT and settings.FITSYNC_CRASH_POINT == name:
        os.kill(os.getpid(), signal.SIGKILL)


# --- queueing ------------------------------------------------------------------------------------
def enqueue(item_ids, *, stale_after: int | None = None) -> int:
    """Queue a job per item unless one is already queued (so 20 clicks make one job).

    A queued mark older than `stale_after` seconds is taken as a lost task (Redis drops tasks of a
    killed worker) and queued again. Jobs become visible when the surrounding transaction commits.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.Q_CLUSTER["retry"] if stale_after is None else stale_after)
    won = _mark_queued(list(item_ids), stale, now)
    if won and broker_shares_transaction():
        _send(won)
    elif won:
        transaction.on_commit(lambda: _send(won))
    return len(won)


def broker_shares_transaction() -> bool:
    """True on the ORM broker inside a transaction on its database: the job rows commit with the caller's.

    One write transaction instead of two per webhook on SQLite (every write waits for the one lock), and
    no window where the event is committed and its job not yet. Redis sees a job at once: after commit.
    """
    alias = settings.Q_CLUSTER.get("orm")
    return bool(alias) and not transaction.get_autocommit(using=alias)


def _mark_queued(item_ids: list[int], stale, now) -> list[int]:
    """Set queued_at on those of the items that are active and not queued already; their ids.

    The conditions are checked by the UPDATE itself, so of two concurrent callers only one wins an item;
    the winners are read back by this call's own stamp (`now`, to the microsecond).
    """
    if not item_ids:
        return []
    free = Q(queued_at__isnull=True) | Q(queued_at__lt=stale)
    SyncItem.objects.filter(free, pk__in=item_ids, status__in=ACTIVE).update(queued_at=now)
    return sorted(SyncItem.objects.filter(pk__in=item_ids, queued_at=now).values_list("pk", flat=True))


def _send(item_ids: list[int]) -> None:
    from django_q.conf import Conf

    broker = _broker(Conf.CLUSTER_NAME)
    for pk in item_ids:
        jobs.send(
            "fitsync.tasks.sync_item", pk, name=f"sync item {pk}", group="sync", broker=broker, after_commit=False
        )


@functools.cache
def _broker(queue: str):
    """One broker per queue and process: async_task would build one (a Redis client, say) for every job."""
    from django_q.brokers import get_broker

    return get_broker(queue)


def run_item(item_id: int) -> str:
    """Claim, sync through the item's route and record the outcome. Returns a short summary."""
    owner = lease_owner()
    item = SyncItem.objects.claim(item_id, owner)
    if item is None:
        return f"item {item_id}: not due or taken by another worker"
    attempt = SyncAttempt.objects.create(item=item, outcome="running")
    try:
        route = route_for(item.route)
        stopped = route_stopped(route, item.account.owner_id)
        if stopped:
            raise WaitingForAccount(stopped)
        context = SyncContext(item, item.account, destination_account(item, route.destination_provider), route.name)
        result = sync_step(route, context)
    except WaitingForAccount as exc:
        return _release_waiting(item, owner, attempt, str(exc))
    except NotYet as exc:  # the destination asked to be called again later: no attempt spent
        return _release_waiting(item, owner, attempt, exc.note, until=exc.until)
    except UpstreamError as exc:
        return record_failure(item, owner, attempt, exc)
    except Exception as exc:  # a bug must not leave the item running forever
        log.exception("sync of item %s crashed", item_id)
        return record_failure(item, owner, attempt, UpstreamError(f"Internal error: {exc.__class__.__name__}"))
    return record_success(item, owner, attempt, result, context.destination)


def sync_step(route: Route, context: SyncContext) -> SyncResult:
    """Fetch the record from the source, map it, and write it (or delete the copy) at the destination."""
    item, source, destination = context.item, route.source_role, route.destination_role
    if item.operation == SyncItem.Operation.DELETE:
        return destination.delete(context)
    try:
        record = source.fetch(context)
    except NotFound:
        if item.destination_id and not (item.sent or {}).get("deleted"):
            # Deleted at the source after we synced it: a late "saved" delivery can replace the queued
            # delete, and the source's feed will not say "deleted" again, so the job converges on its own.
            return destination.delete(context)
        label = provider_label(source.provider)
        note = f"{label} has no {source.noun} with this id (deleted since, or a test delivery)."
        return SyncResult(status=ItemStatus.SKIPPED, action="skipped", note=note)
    remember(item, source.describe(record))
    return destination.write(context, route.map(record, destination.target(context)))


def remember(item: SyncItem, described: Described) -> None:
    """Title, time and snapshot for the dashboard, written by the lease owner before the upload."""
    fields = {"title": described.title[:200], "occurred_at": described.occurred_at, "snapshot": described.snapshot}
    changed = {name: value for name, value in fields.items() if getattr(item, name) != value}
    if changed:
        SyncItem.objects.owned(item.pk, item.lease_owner).update(**changed)
        for name, value in changed.items():
            setattr(item, name, value)


def route_stopped(route: Route, owner_id: int) -> str:
    """Why the user's route writes nothing now (paused, or turned off), or ""."""
    if not route_settings.is_on(owner_id, route):
        return TURNED_OFF
    return PAUSED if route_settings.is_paused(owner_id, route.name) else ""


def can_write_now(route: Route, owner_id: int) -> bool:
    """True when the engine would write this route's items now: the destination is connected and the
    route is on and not paused. Otherwise its items wait, pending, and go out once that changes."""
    destination = ConnectedAccount.objects.filter(owner_id=owner_id, provider=route.destination_provider)
    return destination.filter(status=AccountStatus.CONNECTED).exists() and not route_stopped(route, owner_id)


def destination_account(item: SyncItem, provider: str) -> ConnectedAccount:
    account = ConnectedAccount.objects.filter(owner_id=item.account.owner_id, provider=provider).first()
    if account is None:
        raise WaitingForAccount(f"Connect {provider_label(provider)} to sync this item.")
    if not account.is_connected:
        raise WaitingForAccount(f"{provider_label(provider)} needs to be reconnected; this item waits.")
    return account


def record_success(
    item: SyncItem, owner: str, attempt: SyncAttempt, result: SyncResult, destination: ConnectedAccount | None = None
) -> str:
    now = timezone.now()
    crash_point("after_write")
    with transaction.atomic():
        updated = SyncItem.objects.owned(item.pk, owner).succeed(
            result.status,
            destination_id=result.destination_id or item.destination_id,
            content_hash=result.content_hash or item.content_hash,
            sent=result.sent or item.sent,
            last_error=result.note[:500],
            synced_at=now if result.status == ItemStatus.SYNCED else item.synced_at,
        )
        _finish_attempt(attempt, result.action, result.note)
        if updated and SyncItem.objects.filter(pk=item.pk, status=ItemStatus.PENDING).exists():
            enqueue([item.pk], stale_after=0)
    crash_point("after_record")
    if updated:
        # Both ends worked: a destination's earlier error (a 503, say) must not stay on its card as current.
        item.account.mark_success(received=item.operation != SyncItem.Operation.DELETE)  # the record was read
        if destination is not None:
            destination.mark_success()
    return f"item {item.pk}: {result.action}"


def record_failure(item: SyncItem, owner: str, attempt: SyncAttempt, exc: UpstreamError) -> str:
    now = timezone.now()
    message = str(exc)[:500]
    if isinstance(exc, AuthExpired):
        _mark_account_for(item, exc).mark_needs_reauth(reauth_message(exc))
        return _release_waiting(item, owner, attempt, message)
    if isinstance(exc, RateLimited):  # the upstream slows every caller down: no fault of this item's
        return rate_limited(item, owner, attempt, exc)
    attempts = item.attempts + 1
    gives_up = exc.permanent or attempts >= settings.SYNC_MAX_ATTEMPTS
    retry_at = now + timedelta(seconds=backoff_seconds(attempts, exc.retry_after))
    with transaction.atomic():
        SyncItem.objects.owned(item.pk, owner).fail(
            gives_up=gives_up, attempts=attempts, message=message, retry_at=retry_at
        )
        _finish_attempt(attempt, "failed" if gives_up else "retrying", message)
    _mark_account_for(item, exc).mark_error(message, logged=False)  # the attempt is the record
    return f"item {item.pk}: {'failed' if gives_up else 'will retry'}: {message}"


def rate_limited(item: SyncItem, owner: str, attempt: SyncAttempt, exc: RateLimited) -> str:
    """A 429 (or the pacer asking for a long wait) spends no attempt: the item waits for the first backoff
    step (never less than the Retry-After) and keeps its place however long the upstream stays busy; the
    pacer holds every caller meanwhile, so waiting items do not add to the load."""
    until = timezone.now() + timedelta(seconds=backoff_seconds(1, exc.retry_after))
    _mark_account_for(item, exc).mark_error(str(exc)[:500], logged=False)
    return _release_waiting(item, owner, attempt, f"{exc} (fitsync tries again shortly)", until)


def _release_waiting(item: SyncItem, owner: str, attempt: SyncAttempt, message: str, until=None) -> str:
    """Back to pending without burning an attempt; the dispatcher picks it up once the account is fixed,
    or at `until` when the destination named a time."""
    with transaction.atomic():
        SyncItem.objects.owned(item.pk, owner).release(message, until)
        _finish_attempt(attempt, "waiting", message)
    return f"item {item.pk}: waiting: {message}"


def _mark_account_for(item: SyncItem, exc: UpstreamError) -> ConnectedAccount:
    if exc.provider and exc.provider != item.account.provider:
        account = ConnectedAccount.objects.filter(owner_id=item.account.owner_id, provider=exc.provider).first()
        if account:
            return account
    return item.account


def reauth_message(exc: UpstreamError) -> str:
    """What the user reads on the account card: the upstream's reason and the action that fixes it."""
    label = provider_label(exc.provider)
    if "Reconnect" in exc.message:  # the integration already phrased the action
        return f"{label}: {exc.message}"
    return f"{label} rejected fitsync's credentials ({exc.message}). Reconnect {label}."


def _finish_attempt(attempt: SyncAttempt, outcome: str, error: str = "") -> None:
    SyncAttempt.objects.filter(pk=attempt.pk).update(outcome=outcome, error=error[:500], finished_at=timezone.now())


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter, capped; never earlier than the upstream's Retry-After."""
    base = min(settings.SYNC_BACKOFF_MAX, settings.SYNC_BACKOFF_BASE * 2 ** max(0, attempts - 1))
    delay = base * random.uniform(0.75, 1.0)
    return max(delay, retry_after or 0.0)


# --- the dispatcher -------------------------------------------------------------------------------
def due_items(limit: int = 500):
    """Pending items that are due, and running items whose lease expired, on connected accounts and routes
    that are on and not paused (their items wait until then)."""
    items = SyncItem.objects.filter(due(timezone.now()), account__status=AccountStatus.CONNECTED)
    ready = Q()
    for route in ROUTES.values():
        destination_ok = ConnectedAccount.objects.filter(
            owner_id=OuterRef("account__owner_id"), provider=route.destination_provider, status=AccountStatus.CONNECTED
        )
        ready |= Q(route=route.name) & Q(Exists(destination_ok)) & route_settings.writing(route)
    return items.filter(ready).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]


def dispatch_due(limit: int = 500) -> int:
    """Re-queue due work and expired leases: the backstop for lost tasks and killed workers."""
    with transaction.atomic():
        return enqueue(list(due_items(limit)))


def dispatch_due_runs(limit: int = 100) -> int:
    """Resume runs that are due again (a fetch to retry, or one whose worker died): one job each."""
    now = timezone.now()
    due = SyncRun.objects.filter(retry_at__lte=now, finished_at__isnull=True).exclude(task="")
    sent = 0
    for pk, task, retry_at in due.order_by("retry_at").values_list("pk", "task", "retry_at")[:limit]:
        # Claimed by moving retry_at on: a second dispatcher finds it not due; a lost job comes back.
        lease = now + timedelta(seconds=settings.SYNC_LEASE_SECONDS)
        if SyncRun.objects.filter(pk=pk, retry_at=retry_at).update(retry_at=lease):
            jobs.send(task, pk, name=f"resume run {pk}")
            sent += 1
    return sent


def start_run(trigger: str, *, account: ConnectedAccount | None = None, route: str = "", **fields) -> SyncRun:
    owner = account.owner if account else None
    return SyncRun.objects.create(trigger=trigger, account=account, owner=owner, route=route, **fields)
